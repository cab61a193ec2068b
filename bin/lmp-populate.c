/* lmp-populate: binds every parameter of every basic layer. */
#include <getopt.h>
#include <stdlib.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-populate [--batch-size N] [--seq-len N] [--cache-len N] [--w-bit B] [--a-bit B] [--kv-bit B]\n"
	"                    [--explain] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-populate --help | --version\n";

int
main(int argc, char **argv)
{
	enum { O_EXPLAIN = 256, O_PRETTY, O_DB, O_HELP, O_VERSION, O_RUNTIME };
	struct option longs[LMP_NRUNOPTS + 6] = {
		{"explain", no_argument, 0, O_EXPLAIN}, {"pretty", no_argument, 0, O_PRETTY},
		{"db", required_argument, 0, O_DB}, {"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
	};
	const char *dbpath = NULL;
	char msg[256];
	int flags = 0, c;
	lmp_fixed f = {0};
	lmp_buf out = {0}, warn = {0};
	lmp_err e = {0};

	lmp_start("lmp-populate");
	lmp_runopt_longs(longs + 5, "lmp-populate", O_RUNTIME);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= O_RUNTIME) {
			if (lmp_runopt_int(c - O_RUNTIME, optarg, &f.value[c - O_RUNTIME], &e))
				lmp_usage_error(e.msg);
			f.given |= 1u << (c - O_RUNTIME);
			continue;
		}
		switch (c) {
		case O_EXPLAIN: flags |= LMP_POP_EXPLAIN; break;
		case O_PRETTY: flags |= LMP_POP_PRETTY; break;
		case O_DB: dbpath = optarg; break;
		case O_HELP: fputs(usage_text, stdout); return lmp_close_stdout();
		case O_VERSION: puts("lmp-populate " LMP_VERSION); return lmp_close_stdout();
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind > 1)
		lmp_usage_error("at most one input file");
	dbpath = lmp_db_explicit(dbpath); /* NULL: the layers (lmp_db_layers) */
	if (lmp_chain())
		flags |= LMP_POP_EMPTY_FAILS;
	if (lmp_fixed_compute(&f, &e) ||
	    lmp_populate_stream(optind < argc ? argv[optind] : NULL, dbpath, &f, flags, &out, &warn, &e))
		lmp_die(&e);
	/* after success only: a failure stays one line */
	for (char *l = warn.s, *nl; l && *l; l = nl + 1) {
		nl = strchr(l, '\n');
		fprintf(stderr, "lmp-populate: warning: %.*s\n", (int)(nl - l), l);
	}
	lmp_buf_free(&warn);
	int rc = out.len && fwrite(out.s, 1, out.len, stdout) != out.len;

	lmp_buf_free(&out);
	return lmp_close_stdout() || rc ? LMP_EXIT_SYSTEM : 0;
}
