/* lmp-report: lmp documents as tables, charts and one HTML page. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

static const char usage_text[] =
	"usage: lmp-report [--format text|md|csv|json|svg|html] [--plot X:Y [--series FIELD,...]] [FILE]\n"
	"       lmp-report --help | --version\n";

enum { F_TEXT, F_MD, F_CSV, F_JSON, F_SVG, F_HTML };

struct opts {
	int format;
	const char *file, *series;
	char *x, *y;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_FORMAT = 256, O_PLOT, O_SERIES, O_HELP, O_VERSION };
	static const struct option longs[] = {
		{"format", required_argument, 0, O_FORMAT},
		{"plot", required_argument, 0, O_PLOT},
		{"series", required_argument, 0, O_SERIES},
		{"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	static const char *const names[] = {"text", "md", "csv", "json", "svg", "html"};
	char msg[256], *colon;
	int c, i;

	/* People read a terminal; a pipe or a file gets the documents back
	 * unchanged, so a report at the end of a chain costs nothing. */
	o->format = isatty(STDOUT_FILENO) ? F_TEXT : F_JSON;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_FORMAT:
			for (i = 0; i < 6 && strcmp(optarg, names[i]); i++)
				;
			if (i == 6) {
				snprintf(msg, sizeof msg, "--format: '%s' is not one of text, md, csv, json, svg, html", optarg);
				lmp_usage_error(msg);
			}
			o->format = i;
			break;
		case O_PLOT:
			colon = strchr(optarg, ':');
			if (!colon || colon == optarg || !colon[1] || strchr(colon + 1, ':'))
				lmp_usage_error("--plot: expected X:Y, two field names such as batch_size:tokens_per_s");
			o->x = lmp_xstrndup(optarg, (size_t)(colon - optarg));
			o->y = lmp_xstrdup(colon + 1);
			break;
		case O_SERIES: o->series = optarg; break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-report " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind > 1)
		lmp_usage_error("at most one input file");
	if (o->series && !o->x)
		lmp_usage_error("--series goes with --plot");
	if (o->x && o->format != F_SVG && o->format != F_HTML)
		lmp_usage_error("--plot draws a chart: use it with --format svg or html");
	o->file = optind < argc ? argv[optind] : NULL;
}

static int
flush(lmp_buf *out, lmp_err *e)
{
	if (out->len && fwrite(out->s, 1, out->len, stdout) != out->len)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "write error on stdout");
	out->len = 0;
	return 0;
}

/* The next document, 1 (0 at the end, -1 on an error): where js is not
 * NULL and it is exactly as lmp prints it (lmp_jstream_take), its text
 * at *text, *len bytes (passed over, valid until the next read), with
 * *doc NULL; else its tree.  Taken from what is read ahead where its end
 * is there. */
static int
next_doc(lmp_json_reader *rd, lmp_jstream *js, const char **text, size_t *len, cJSON **doc, lmp_err *e)
{
	size_t used = 0;
	int got;

	*doc = NULL;
	if (js && lmp_json_read_ahead(rd, text, len, e))
		used = lmp_jstream_take(js, *text, *len);
	if (!used) {
		if ((got = lmp_json_read_text(rd, text, len, e)) <= 0)
			return got;
		if (js && lmp_jstream_take(js, *text, *len) == *len)
			used = *len;
	}
	if (used) {
		*len = used;
		lmp_json_read_skip(rd, used);
		return 1;
	}
	return (*doc = lmp_json_read_parse(rd, *len, e)) ? 1 : -1;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	lmp_err e = {0};
	lmp_buf out = {0};
	lmp_json_reader rd;
	lmp_report r = {0};
	cJSON **docs = NULL, *doc;
	const char *text;
	size_t len;
	int n = 0, cap = 0, rc = 0, built = 0;
	lmp_jstream *js = NULL;
	lmp_build bld = {.r = &r}; /* text and markdown: no charts */
	lmp_err be = {0};
	char title[512];

	lmp_start("lmp-report");
	parse_opts(argc, argv, &o);
	if (lmp_json_reader_open(&rd, o.file, lmp_chain(), &e))
		lmp_die(&e);
	/* JSON and CSV stream (memory stays flat); text and markdown build
	 * their tables as the documents come, each document gone once added
	 * (memory grows with the tables alone); HTML and SVG keep every
	 * document for their charts. */
	if (o.format == F_CSV)
		lmp_csv_header(&out);
	/* A document already as lmp prints it (lmp-eval's, lmp-roofline's)
	 * is copied to JSON, not read into a tree and printed to the same
	 * bytes, and CSV, text and markdown read the tree made from its text
	 * (lmp_jstream_tree), not cJSON's: a sweep's documents, which differ
	 * in their numbers alone, are checked and read in their numbers alone.
	 * (HTML and SVG keep every document: cJSON's trees.)
	 * LMP_REPORT_NODIRECT reads every one with cJSON: the check that both
	 * write the same. */
	if (o.format != F_HTML && o.format != F_SVG && !getenv("LMP_REPORT_NODIRECT"))
		js = lmp_jstream_new(o.format == F_TEXT || o.format == F_MD); /* the tables read doubles */
	while (!rc && next_doc(&rd, js, &text, &len, &doc, &e) > 0) {
		/* its tree: cJSON's, or the one made from its text (JSON copies
		 * the text and needs none) */
		const cJSON *tree = doc || o.format == F_JSON ? doc : lmp_jstream_tree(js);
		n++;
		switch (o.format) {
		case F_JSON: /* streams: a document out as soon as it is read */
			if (doc)
				lmp_json_print_buf(doc, 0, &out);
			else
				lmp_buf_add(&out, text, len);
			lmp_buf_putc(&out, '\n');
			break;
		case F_CSV:
			if (lmp_csv_doc(tree, n, &out, &e))
				rc = lmp_prefix(&e, "%s: document %d: ", rd.name, n);
			break;
		case F_TEXT:
		case F_MD:
			/* a document's blocks (a sweep's row) now; an error is said
			 * once the input is read, as the others' are (one in reading
			 * it comes first) */
			if (!built && lmp_build_add(&bld, tree, &be))
				built = -1;
			break;
		default: /* HTML, SVG: kept for the charts */
			if (n > cap) {
				cap = cap ? 2 * cap : 64;
				docs = lmp_xrealloc(docs, (size_t)cap * sizeof *docs);
			}
			docs[n - 1] = doc;
			doc = NULL;
		}
		cJSON_Delete(doc);
		if (!rc && out.len > 65536)
			rc = flush(&out, &e);
	}
	if (!rc && e.status)
		rc = -1;
	if (!rc && !n)
		rc = lmp_fail(&e, LMP_EXIT_INPUT, "%s: no document on input", rd.name);
	if (!rc && (o.format == F_JSON || o.format == F_CSV)) {
		rc = flush(&out, &e);
	} else if (!rc && o.format == F_SVG) {
		rc = o.x ? lmp_chart_plot((const cJSON *const *)docs, n, o.x, o.y, o.series, &out, &e)
			 : lmp_chart_roofline((const cJSON *const *)docs, n, &out, &e);
	} else if (!rc && (o.format == F_TEXT || o.format == F_MD)) {
		lmp_build_end(&bld);
		if (built)
			rc = (e = be, -1);
		else
			lmp_report_write(&r, o.format == F_MD ? LMP_FMT_MD : LMP_FMT_TEXT, &out);
	} else if (!rc) { /* HTML */
		rc = lmp_report_build(&r, (const cJSON *const *)docs, n, 1, &e);
		if (!rc && o.x) {
			lmp_buf svg = {0};
			if (!(rc = lmp_chart_plot((const cJSON *const *)docs, n, o.x, o.y, o.series, &svg, &e)))
				lmp_report_chart(&r, r.plot_at - 1, svg.s); /* above a sweep's table */
			lmp_buf_free(&svg);
		}
		if (!rc) {
			lmp_report_title((const cJSON *const *)docs, n, title, sizeof title);
			lmp_html_page(title, &r, &out);
		}
	}
	/* A report is written whole or not at all (JSON and CSV: the documents
	 * read before an error). */
	if (!rc || o.format == F_JSON || o.format == F_CSV) {
		lmp_err we = {0};
		if (flush(&out, &we) && !rc)
			rc = (e = we, -1);
	}
	lmp_build_end(&bld); /* what is left of it where reading failed */
	for (int i = 0; docs && i < n; i++)
		cJSON_Delete(docs[i]);
	free(docs);
	lmp_report_free(&r);
	lmp_jstream_free(js);
	lmp_json_reader_free(&rd);
	lmp_buf_free(&out);
	free(o.x);
	free(o.y);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
