/* lmp-populate: binds every parameter of every basic layer. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-populate [--batch-size N] [--seq-len N] [--cache-len N] [--w-bit B] [--a-bit B] [--kv-bit B]\n"
	"                    [--explain] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-populate --help | --version\n";



static void
fix(lmp_fixed *f, const char *name, lmp_num v)
{
	f->name[f->n] = name;
	f->value[f->n++] = v;
}

int
main(int argc, char **argv)
{
	enum { O_B = 256, O_S, O_C, O_W, O_A, O_KV, O_EXPLAIN, O_PRETTY, O_DB, O_HELP, O_VERSION };
	static const struct option longs[] = {
		{"batch-size", required_argument, 0, O_B},
		{"seq-len", required_argument, 0, O_S},
		{"cache-len", required_argument, 0, O_C},
		{"w-bit", required_argument, 0, O_W},
		{"a-bit", required_argument, 0, O_A},
		{"kv-bit", required_argument, 0, O_KV},
		{"explain", no_argument, 0, O_EXPLAIN},
		{"pretty", no_argument, 0, O_PRETTY},
		{"db", required_argument, 0, O_DB},
		{"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	int64_t v[6] = {-1, -1, -1, -1, -1, -1}, lim[6][2] = {{1, 1 << 30}, {1, 1LL << 40}, {0, 1LL << 40}, {1, 64}, {1, 64}, {1, 64}};
	int explain = 0, pretty = 0, c;
	const char *dbpath = NULL, *file = NULL;
	char msg[256];
	lmp_err e = {0};
	lmp_buf in = {0}, ex = {0};
	lmp_fixed f = {0};
	lmp_db *db;
	cJSON *doc;

	lmp_start("lmp-populate");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= O_B && c <= O_KV) {
			int i = c - O_B;
			if (lmp_parse_i64(optarg, lim[i][0], lim[i][1], &v[i])) {
				snprintf(msg, sizeof msg, "%s: '%s' is not an integer in [%lld, %lld]", longs[i].name, optarg,
					(long long)lim[i][0], (long long)lim[i][1]);
				lmp_usage_error(msg);
			}
			continue;
		}
		switch (c) {
		case O_EXPLAIN: explain = 1; break;
		case O_PRETTY: pretty = 1; break;
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
	file = optind < argc ? argv[optind] : NULL;
	/* Each runtime variable whose inputs are all given is fixed. */
	static const char *const bitnames[6] = {"batch_size", "seq_len", "cache_len", "w_bit", "a_bit", "kv_bit"};
	for (int i = 0; i < 6; i++) {
		if (v[i] < 0)
			continue;
		f.bits_name[f.nbits] = bitnames[i];
		f.bits_value[f.nbits++] = v[i];
	}
	int64_t B = v[0], S = v[1], C = v[2];
	if (B >= 0)
		fix(&f, "batch_size", lmp_num_int(B));
	if (S >= 0)
		fix(&f, "seq_len", lmp_num_int(S));
	if (C >= 0)
		fix(&f, "cache_len", lmp_num_int(C));
	if (B >= 0 && S >= 0)
		fix(&f, "tokens", lmp_num_int((lmp_i128)B * S));
	if (B >= 0 && C >= 0)
		fix(&f, "cached_tokens", lmp_num_int((lmp_i128)B * C));
	if (B >= 0 && S >= 0 && C >= 0) {
		fix(&f, "kv_tokens", lmp_num_int((lmp_i128)B * (C + S)));
		fix(&f, "qk_pairs", lmp_num_int((lmp_i128)B * S * (C + S)));
	}
	if (v[3] >= 0)
		fix(&f, "w_dtype_bytes", lmp_num_frac(v[3], 8));
	if (v[4] >= 0)
		fix(&f, "a_dtype_bytes", lmp_num_frac(v[4], 8));
	if (v[5] >= 0 || v[4] >= 0)
		fix(&f, "kv_dtype_bytes", lmp_num_frac(v[5] >= 0 ? v[5] : v[4], 8));
	if (!dbpath)
		dbpath = getenv("LMP_DB") && *getenv("LMP_DB") ? getenv("LMP_DB") : lmp_default_db();
	/* The input first: in a pipe after lmp-ensure, the database is read
	 * only once lmp-ensure has finished adding to it. */
	if (lmp_read_input(file, lmp_chain(), &in, &e))
		lmp_die(&e);
	if (!(db = lmp_db_open(dbpath, &e)))
		lmp_die(&e);
	/* A stream of architectures in, a stream of populated ones out; all
	 * are read and checked before any is written. */
	lmp_json_stream st;
	lmp_buf out = {0};
	int ndocs = 0;
	lmp_json_stream_init(&st, in.s, in.len, file ? file : "<stdin>");
	if (explain)
		lmp_buf_puts(&out, "path\tparameter\tvalue\trule\tfield\n");
	while ((doc = lmp_json_next(&st, &e))) {
		ndocs++;
		if (lmp_populate(doc, db, &f, explain ? &ex : NULL, &e))
			lmp_die(&e);
		if (explain) {
			if (ex.s)
				lmp_buf_puts(&out, ex.s);
			ex.len = 0;
		} else {
			lmp_json_print_buf(doc, pretty, &out);
			lmp_buf_putc(&out, '\n');
		}
		cJSON_Delete(doc);
	}
	if (e.status)
		lmp_die(&e);
	if (!ndocs) {
		lmp_fail(&e, LMP_EXIT_INPUT, "%s: no document on input", file ? file : "<stdin>");
		lmp_die(&e);
	}
	if (out.len && fwrite(out.s, 1, out.len, stdout) != out.len)
		return lmp_close_stdout() ? LMP_EXIT_SYSTEM : LMP_EXIT_SYSTEM;
	lmp_buf_free(&out);
	doc = NULL;
	cJSON_Delete(doc);
	lmp_db_free(db);
	lmp_buf_free(&in);
	lmp_buf_free(&ex);
	return lmp_close_stdout();
}
