/* report.h: rendering lmp documents for people (lmp-report(1)).
 *
 * A report is built as blocks (headings, tables, key-value lists) from the
 * documents, then written as text, markdown or HTML; CSV and the charts are
 * written straight from the documents.  Everything here is deterministic:
 * the same documents give the same bytes (no clock, no locale, no hashing
 * order). */
#ifndef LMP_REPORT_H
#define LMP_REPORT_H

#include "lmp.h"

/* units.c: numbers for reading.  Each writes into out (at least 48 bytes). */
#define LMP_UNIT_MAX 48
void lmp_fmt_flops(double v, char *out);  /* "68.72 GFLOPs" (SI) */
void lmp_fmt_bytes(double v, char *out);  /* "12.32 GiB" (IEC) */
void lmp_fmt_time(double s, char *out);   /* "33.56 ms", "4.20 us", "1.50 s" */
void lmp_fmt_rate(double v, const char *unit, char *out); /* "989.40 TFLOP/s" */
void lmp_fmt_count(double v, char *out);  /* "6.74 G" */
void lmp_fmt_plain(double v, char *out);  /* "693.0", "1024", "0.50": whole numbers whole */
void lmp_fmt_ratio(double v, char *out);  /* "1024.0", "0.17": fixed decimals for a column */
void lmp_fmt_percent(double v, char *out); /* 0.866 -> "86.6%" */
void lmp_fmt_grouped(const char *digits, char *out); /* "6738415616" -> "6,738,415,616" */
/* After a cut to a fixed size: drop a character left incomplete at the end. */
void lmp_utf8_clip(char *s);

/* docfield.c: reading fields of a document. */
const cJSON *lmp_field(const cJSON *doc, const char *dotted); /* "totals.bytes.reads" */
/* A short name ("batch_size", "tokens_per_s", "reads") found where a user
 * means it: runtime, totals, totals.bytes, fit, roofline, model; a dotted
 * name is taken as a path.  NULL when absent; path (if not NULL) gets the
 * dotted path found. */
const cJSON *lmp_field_find(const cJSON *doc, const char *name, char *path, size_t n);
int lmp_field_double(const cJSON *doc, const char *dotted, double *out); /* 0 ok */
double lmp_field_or(const cJSON *doc, const char *dotted, double dflt);
/* A number's text as it came in, a string's value; NULL otherwise. */
const char *lmp_field_text(const cJSON *item);

/* table.c: a table of text cells and its renderings. */
typedef struct lmp_table {
	int ncol, nrow, cap;
	char **head;          /* ncol names; NULL for a key-value list */
	unsigned char *right; /* ncol: 1 where the column is right-aligned */
	char **cell;          /* nrow * ncol, owned */
} lmp_table;
lmp_table *lmp_table_new(int ncol, const char *const *head, const char *right);
void lmp_table_add(lmp_table *t, const char *const *cells); /* copies ncol cells */
void lmp_table_free(lmp_table *t);

enum lmp_block_kind { LMP_BLOCK_HEAD, LMP_BLOCK_TABLE, LMP_BLOCK_LIST, LMP_BLOCK_CHART };
typedef struct lmp_block {
	int kind, level; /* level: 1 document, 2 part (heading) */
	char *text;      /* heading text, or a chart's SVG */
	lmp_table *t;    /* a table, or a LIST's two columns (key, value) */
} lmp_block;
typedef struct lmp_report {
	lmp_block *b;
	int n, cap;
	int plot_at; /* 1 + the block a --plot chart goes before (the first sweep's table); 0: the end */
} lmp_report;
void lmp_report_head(lmp_report *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lmp_report_table(lmp_report *r, lmp_table *t); /* takes t */
lmp_table *lmp_report_list(lmp_report *r);          /* a new key-value list */
void lmp_report_item(lmp_table *list, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lmp_report_chart(lmp_report *r, int at, const char *svg); /* at block at, or -1: last */
void lmp_report_move_last(lmp_report *r, int at); /* the last block added goes to block at */
void lmp_report_free(lmp_report *r);

enum lmp_report_format { LMP_FMT_TEXT, LMP_FMT_MD, LMP_FMT_HTML };
/* An HTML table of more rows shows this many, half from each end. */
#define LMP_HTML_ROWS 200
void lmp_report_write(const lmp_report *r, int format, lmp_buf *out);
void lmp_html_escape(lmp_buf *b, const char *s);
/* report_html.c: the whole page around the blocks. */
void lmp_html_page(const char *title, const lmp_report *r, lmp_buf *out);

/* report_doc.c: the blocks that describe one document. */
int lmp_report_doc(lmp_report *r, const cJSON *doc, lmp_err *e);
/* How the work is spread over devices: the layout fields a document may
 * give (NULL-terminated: "tp", "pp", "ep", "dp"), each looked for in roofline,
 * then runtime; and the device as tables name it, "nvidia-h100-sxm x8 tp8"
 * (the count when it is not 1, then each layout field given).  Adding a
 * layout field here adds it to every table; CSV names its columns itself
 * (report_csv.c), a new one at the end. */
extern const char *const lmp_layout_fields[];
const cJSON *lmp_layout_field(const cJSON *doc, const char *name);
void lmp_report_device(const cJSON *doc, char *out, size_t n);
/* The time model a roofline document's times are of, appended to b: the
 * note of roofline.time_model, the engine, the devices and the layout;
 * nothing for a document without one. */
void lmp_report_time_model(const cJSON *doc, lmp_buf *b);
/* A document a sweep table takes as one row (no per-layer rows). */
int lmp_report_is_point(const cJSON *doc);
/* A sweep's table, one row per point, built as the points come: each
 * added is read into its row, the notes, the time models and the summary
 * at once, so that its document can go before the next is read (a sweep
 * of millions reported in the memory of its table); the blocks are
 * complete at lmp_points_end, which frees p. */
typedef struct lmp_points lmp_points;
lmp_points *lmp_points_begin(lmp_report *r);
void lmp_points_add(lmp_points *p, const cJSON *doc);
void lmp_points_end(lmp_points *p);

/* report_ckpt.c: the checkpoint a document carries (model.checkpoint) and
 * lmp-eval's check against it (weights_check): a section under a document,
 * a one-line list under a sweep (once per model); nothing without one. */
void lmp_report_checkpoint(lmp_report *r, const cJSON *doc);
void lmp_report_checkpoint_note(lmp_report *r, const cJSON *doc);

/* report_build.c: a stream of documents as one report; charts for HTML.
 * lmp_report_build takes them all at once; lmp_build_add one at a time
 * (with charts a run of points must stay until the run ends, at the next
 * document that is not a point or at lmp_build_end; without, each may go
 * as soon as it is added). */
typedef struct lmp_build {
	lmp_report *r;
	int charts, n;              /* documents added */
	lmp_points *pts;            /* the run of points open */
	const cJSON **run;          /* its documents, for its chart */
	int nrun, cap;
} lmp_build;
int lmp_build_add(lmp_build *b, const cJSON *doc, lmp_err *e);
void lmp_build_end(lmp_build *b);
int lmp_report_build(lmp_report *r, const cJSON *const *docs, int n, int charts, lmp_err *e);
void lmp_report_title(const cJSON *const *docs, int n, char *out, size_t size);

/* report_csv.c: one header, then exact numbers. */
void lmp_csv_header(lmp_buf *out);
int lmp_csv_doc(const cJSON *doc, int index, lmp_buf *out, lmp_err *e);

/* svg.c: charts as SVG text. */
typedef struct lmp_axis {
	double lo, hi; /* data range shown */
	int log;       /* log10 scale */
	int binary;    /* linear steps of 1, 2, 5 x 1024^k (bytes) */
	int whole;     /* whole numbers only (batch sizes): steps of at least 1 */
	const char *label;
	void (*fmt)(double v, char *out); /* tick labels; NULL: v / scale, plainly */
	double scale;                     /* the unit of plain tick labels (0: 1) */
	const char *unit;                 /* its name, for the axis title: "ms", "GiB" */
} lmp_axis;
typedef struct lmp_chart {
	lmp_buf svg;
	double w, h, left, right, top, bottom; /* canvas and plot-area margins */
	lmp_axis x, y;
} lmp_chart;
void lmp_chart_begin(lmp_chart *c, double w, double h, const char *title, const char *subtitle);
void lmp_chart_axes(lmp_chart *c); /* grid, ticks, labels */
double lmp_chart_px(const lmp_chart *c, double x);
double lmp_chart_py(const lmp_chart *c, double y);
void lmp_chart_end(lmp_chart *c);
void lmp_svg_text(lmp_buf *b, double x, double y, const char *attrs, const char *text);
/* A range that covers [lo, hi] in whole decades (log) or nice steps. */
void lmp_axis_fit(lmp_axis *a, double lo, double hi);
/* Colours, fixed so that charts read the same everywhere. */
const char *lmp_chart_colour(int i);

/* chart_roofline.c: the roofline chart of roofline documents (one device). */
int lmp_chart_roofline(const cJSON *const *docs, int n, lmp_buf *out, lmp_err *e);
/* chart_plot.c: FIELD against FIELD over a sweep, one line per series. */
int lmp_chart_plot(const cJSON *const *docs, int n, const char *xname, const char *yname,
	const char *series, lmp_buf *out, lmp_err *e);

#endif
