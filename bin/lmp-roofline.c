/* lmp-roofline: time, bound and memory fit of eval documents on a device. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-roofline --hardware NAME|FILE [--devices N] [--gpus-per-node N] [--compute-efficiency X]\n"
	"                    [--memory-efficiency X] [--calibration FILE|none] [--ideal] [--unfused]\n"
	"                    [--fields PATH,...] [--pretty] [FILE]\n"
	"       lmp-roofline --list-hardware\n"
	"       lmp-roofline --help | --version\n";

struct opts {
	const char *file, *fields;
	int list, pretty;
	lmp_roofargs ra; /* --hardware and the terms (roofargs.c, shared with lmp-eval) */
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_LIST = 256, O_PRETTY, O_HELP, O_VERSION, O_FIELDS, O_ROOF };
	struct option longs[17] = {
		{"list-hardware", no_argument, 0, O_LIST}, {"pretty", no_argument, 0, O_PRETTY},
		{"help", no_argument, 0, O_HELP}, {"version", no_argument, 0, O_VERSION},
		{"fields", required_argument, 0, O_FIELDS},
	};
	char msg[256];
	lmp_err e = {0};
	int c, i;

	for (i = 0; lmp_roofopts[i].name; i++)
		longs[5 + i] = (struct option){lmp_roofopts[i].name, lmp_roofopts[i].arg ? required_argument : no_argument, 0,
			O_ROOF + i};
	lmp_roofargs_init(&o->ra);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= O_ROOF) {
			if (lmp_roofargs_set(&o->ra, c - O_ROOF, optarg, &e))
				lmp_usage_error(e.msg);
			continue;
		}
		switch (c) {
		case O_LIST: o->list = 1; break;
		case O_PRETTY: o->pretty = 1; break;
		case O_FIELDS: o->fields = optarg; break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-roofline " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind > 1)
		lmp_usage_error("at most one input file");
	o->file = optind < argc ? argv[optind] : NULL;
	if (!o->list && !o->ra.hardware)
		lmp_usage_error("--hardware NAME is required; --list-hardware names the devices");
}

/* id, name, bf16 (or best 16-bit) dense FLOP/s, bandwidth, capacity. */
static int
list_hardware(void)
{
	char **ids;
	int n, i;
	lmp_err e = {0};

	ids = lmp_data_list("hardware", &n);
	for (i = 0; i < n; i++) {
		lmp_hw *hw = lmp_hw_load(ids[i], &e);
		if (!hw)
			lmp_die(&e);
		int p = lmp_hw_precision(hw, 16, 16);
		printf("%s\t%s\t%s %.4g TFLOP/s\t%.4g TB/s\t%.4g GiB\n", hw->id, hw->name, lmp_prec_name(p),
			hw->peak[p] / 1e12, hw->bandwidth / 1e12, hw->capacity / 1073741824.0);
		lmp_hw_free(hw);
		free(ids[i]);
	}
	free(ids);
	return lmp_close_stdout();
}

/* The document that starts text (len bytes) timed on the direct path:
 * its length, or 0 where it is not one the path takes (or the path
 * refuses it: lmp_roofline then says why). */
static size_t
direct(lmp_evaltext *xt, lmp_roofdirect *d, const char *text, size_t len)
{
	lmp_evalpt pt;
	lmp_err ignore = {0};
	size_t used = lmp_evaltext_point(xt, text, len, &pt);

	return used && !lmp_roofline_point(d, &pt, lmp_evaltext_doc(xt), 0, &ignore) ? used : 0;
}

/* Its roofline document to out, pruned where fields are given. */
static int
direct_out(lmp_evaltext *xt, lmp_fields *fields, lmp_buf *out, lmp_err *e)
{
	lmp_buf *b = lmp_evaltext_doc(xt);

	if (fields)
		return lmp_fields_write(fields, 0, b->s, b->len, out, e);
	lmp_buf_add(out, b->s, b->len);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	lmp_err e = {0};
	lmp_buf out = {0}, whole = {0};
	lmp_json_reader rd;
	lmp_fields *fields = NULL;
	lmp_roofdirect *direct_d = NULL;
	lmp_evaltext *xt = NULL;
	cJSON *doc;
	const char *text;
	size_t len;
	int n = 0, rc = 0;

	lmp_start("lmp-roofline");
	parse_opts(argc, argv, &o);
	if (o.list)
		return list_hardware();
	if (o.fields && !(fields = lmp_fields_new(o.fields, &e)))
		lmp_usage_error(e.msg);
	if (lmp_roofargs_load(&o.ra, &e))
		lmp_die(&e);
	if (lmp_json_reader_open(&rd, o.file, lmp_chain(), &e))
		lmp_die(&e);
	/* A document as lmp-eval writes it is timed from its text, as
	 * lmp-eval --hardware times its points (evaltext.c): the same
	 * document, without a tree built and printed.  LMP_ROOFLINE_NODIRECT
	 * reads every document as a tree: the check that both write the same
	 * bytes. */
	if (!o.pretty && !getenv("LMP_ROOFLINE_NODIRECT")) {
		direct_d = lmp_roofdirect_new(&o.ra.r);
		xt = lmp_evaltext_new();
	}
	/* A stream filter: a document is read, annotated and written before the
	 * next is read, so memory stays flat over a sweep of millions of points.
	 * One the direct path takes is taken from what is read ahead (its end
	 * found as it is read), or else from its text once its end is found. */
	while (!rc) {
		size_t used = 0;
		if (xt && lmp_json_read_ahead(&rd, &text, &len, &e))
			used = direct(xt, direct_d, text, len);
		if (!used) {
			if (lmp_json_read_text(&rd, &text, &len, &e) <= 0)
				break;
			/* its end found now (it ran past what was read ahead) */
			if (xt && direct(xt, direct_d, text, len) == len)
				used = len;
		}
		n++;
		if (used) {
			lmp_json_read_skip(&rd, used);
			rc = direct_out(xt, fields, &out, &e);
		} else if (!(doc = lmp_json_read_parse(&rd, len, &e))) {
			rc = -1;
		} else {
			if (!(rc = lmp_roofline(doc, &o.ra.r, &e))) {
				if (fields) {
					/* compact, pruned, then printed as asked */
					whole.len = 0;
					lmp_json_print_buf(doc, 0, &whole);
					rc = lmp_fields_write(fields, o.pretty, whole.s, whole.len, &out, &e);
				} else {
					lmp_json_print_buf(doc, o.pretty, &out);
					lmp_buf_putc(&out, '\n');
				}
			}
			cJSON_Delete(doc);
		}
		if (!rc && out.len > 65536) {
			if (fwrite(out.s, 1, out.len, stdout) != out.len)
				rc = lmp_fail(&e, LMP_EXIT_SYSTEM, "write error on stdout");
			out.len = 0;
		}
	}
	if (!rc && e.status)
		rc = -1;
	if (!rc && !n)
		rc = lmp_fail(&e, LMP_EXIT_INPUT, "%s: no document on input", rd.name);
	/* a path that named nothing: likely a typo (a member some documents
	 * lack, such as runtime.past_position_limit, is no error) */
	if (!rc && fields && lmp_fields_unseen(fields))
		fprintf(stderr, "lmp-roofline: warning: --fields: no document had a member %s\n", lmp_fields_unseen(fields));
	/* Whole documents only: those done before an error are written too. */
	if (out.len && fwrite(out.s, 1, out.len, stdout) != out.len && !rc)
		rc = lmp_fail(&e, LMP_EXIT_SYSTEM, "write error on stdout");
	lmp_json_reader_free(&rd);
	lmp_buf_free(&out);
	lmp_buf_free(&whole);
	lmp_fields_free(fields);
	lmp_roofdirect_free(direct_d);
	lmp_evaltext_free(xt);
	lmp_roofargs_free(&o.ra);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
