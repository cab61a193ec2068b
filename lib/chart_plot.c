/* chart_plot.c: one field against another over a stream of documents
 * (lmp-report --plot X:Y), one line per series, points joined in order of
 * X.  By default a series is what varies besides X: the model, the device
 * and each runtime setting that differs between documents, so that a sweep
 * over batch and prompt length draws one line per prompt length instead of
 * a zigzag.  Axes are titled in words with their unit; a point that does
 * not fit in the device's memory is hollow and the segment to it dashed;
 * a memory chart draws each device's capacity.  An axis is logarithmic
 * when all its values are positive and span more than a factor of 50. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct pt {
	double x, y;
	int series, order, fits;
};

static int
by_series_x(const void *a, const void *b)
{
	const struct pt *p = a, *q = b;

	if (p->series != q->series)
		return p->series < q->series ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->order < q->order ? -1 : p->order > q->order;
}

/* Ten colours; past them lines are told apart by their dashes too. */
static const char *
dash(int series)
{
	static const char *const d[] = {"", " stroke-dasharray=\"8 4\"", " stroke-dasharray=\"2 3\"",
		" stroke-dasharray=\"10 3 2 3\""};
	return d[(series / 10) % 4];
}

/* What a field is called on an axis and in a legend, and how its values
 * read.  Scaled kinds put their unit in the title: "memory needed (GiB)". */
enum unit { U_PLAIN, U_COUNT, U_TIME, U_BYTES, U_FLOPS, U_PERCENT };
struct known {
	const char *name, *words;
	enum unit unit;
	const char *before, *after; /* a legend entry: before VALUE after */
};
static const struct known known[] = {
	{"batch_size", "batch size", U_PLAIN, "batch ", ""},
	{"seq_len", "new tokens per sequence", U_PLAIN, "", " new tokens"},
	{"cache_len", "cached tokens per sequence", U_PLAIN, "", " cached"},
	{"prompt_len", "prompt length (tokens)", U_PLAIN, "prompt ", ""},
	{"gen_len", "generated tokens", U_PLAIN, "", " generated"},
	{"w_bit", "weight bits", U_PLAIN, "", "-bit weights"},
	{"a_bit", "activation bits", U_PLAIN, "", "-bit activations"},
	{"kv_bit", "KV cache bits", U_PLAIN, "", "-bit KV cache"},
	{"devices", "devices", U_PLAIN, "", " devices"},
	{"tokens_per_s", "tokens per second", U_COUNT, "", " tokens/s"},
	{"tpot_s", "time per output token", U_TIME, "TPOT ", ""},
	{"ttft_s", "time to first token", U_TIME, "TTFT ", ""},
	{"time_s", "time", U_TIME, "", ""},
	{"e2e_latency_s", "end-to-end latency", U_TIME, "", ""},
	{"needed_bytes", "memory needed", U_BYTES, "", ""},
	{"capacity_bytes", "device memory", U_BYTES, "", ""},
	{"weights_bytes", "weights in memory", U_BYTES, "", ""},
	{"kv_cache_bytes", "KV cache", U_BYTES, "", ""},
	{"state_bytes", "KV cache", U_BYTES, "", ""},
	{"activation_bytes", "activations", U_BYTES, "", ""},
	{"reads", "bytes read", U_BYTES, "", ""},
	{"writes", "bytes written", U_BYTES, "", ""},
	{"weights", "weight bytes read", U_BYTES, "", ""},
	{"intermediates", "intermediate bytes", U_BYTES, "", ""},
	{"flops", "FLOPs", U_FLOPS, "", " FLOPs"},
	{"param_count", "parameters", U_COUNT, "", " parameters"},
	{"active_param_count", "active parameters", U_COUNT, "", " active"},
	{"intensity", "arithmetic intensity (FLOP/B)", U_PLAIN, "", " FLOP/B"},
	{"mfu", "model FLOPs utilisation (%)", U_PERCENT, "", ""},
	{"mbu", "memory bandwidth utilisation (%)", U_PERCENT, "", ""},
	{"max_batch_size", "largest batch that fits", U_PLAIN, "", ""},
	{"max_context_len", "longest context that fits (tokens)", U_PLAIN, "", ""},
};

static const struct known *
known_field(const char *path)
{
	const char *name = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;

	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (!strcmp(known[i].name, name))
			return &known[i];
	return NULL;
}

/* A memory chart: the memory a point takes, to hold against the device's. */
static int
is_memory(const char *path)
{
	static const char *const m[] = {"fit.needed_bytes", "fit.weights_bytes", "fit.kv_cache_bytes",
		"fit.activation_bytes", "fit.capacity_bytes", "totals.state_bytes"};

	for (size_t i = 0; i < sizeof m / sizeof *m; i++)
		if (!strcmp(path, m[i]))
			return 1;
	return 0;
}

static void fmt_bytes(double v, char *out) { lmp_fmt_bytes(v, out); }
static void fmt_count(double v, char *out) { lmp_fmt_count(v, out); }
static void fmt_time(double v, char *out) { lmp_fmt_time(v, out); }
static void fmt_flops(double v, char *out) { lmp_fmt_flops(v, out); }

/* The unit of a scaled axis, from its largest value: "ms", "GiB". */
static void
scale_axis(lmp_axis *a, enum unit u)
{
	static const char *const time_u[] = {"s", "ms", "us", "ns"};
	static const char *const byte_u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double top = fmax(fabs(a->lo), fabs(a->hi));
	int i = 0;

	a->scale = 1;
	if (u == U_TIME) {
		for (i = 0; i < 3 && top < a->scale * 0.9999; i++)
			a->scale /= 1000;
		a->unit = time_u[i];
	} else if (u == U_BYTES) {
		for (i = 0; i < 6 && top >= a->scale * 1024; i++)
			a->scale *= 1024;
		a->unit = byte_u[i];
	}
}

/* The title and tick format of an axis; fields lmp does not know keep
 * their path and a unit guessed from the name. */
static void
axis_for(lmp_axis *a, const char *path, int *scaled)
{
	const struct known *k = known_field(path);
	const char *name = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
	size_t l = strlen(name);
	enum unit u = k ? k->unit : U_COUNT;

	if (!k) {
		if (l > 2 && !strcmp(name + l - 2, "_s"))
			u = U_TIME;
		else if (strstr(path, "bytes") && !strstr(name, "per_s"))
			u = U_BYTES;
	}
	a->binary = u == U_BYTES;
	a->fmt = u == U_COUNT ? fmt_count : u == U_PERCENT ? lmp_fmt_percent : u == U_PLAIN ? lmp_fmt_plain : NULL;
	*scaled = u == U_TIME || u == U_BYTES;
	/* a log axis over decades keeps a unit on every tick: 1 ms, 10 s;
	 * FLOPs always do: "FLOPs (TFLOPs)" would say it twice */
	if (*scaled && a->log)
		a->fmt = u == U_TIME ? fmt_time : fmt_bytes;
	if (u == U_FLOPS)
		a->fmt = fmt_flops;
}

static void
axis_title(const lmp_axis *a, const char *path, int scaled, char *out, size_t n)
{
	const struct known *k = known_field(path);
	const char *words = k ? k->words : path;

	if (scaled && !a->log)
		snprintf(out, n, "%s (%s)", words, a->unit);
	else
		snprintf(out, n, "%s", words);
}

/* One field's value in a legend: "batch 8", "prompt 1024", the model's id,
 * the device with its count and layout. */
static void
describe(const cJSON *doc, const char *f, lmp_buf *key)
{
	char path[128], dev[256];
	const cJSON *v = lmp_field_find(doc, f, path, sizeof path);
	const char *t = lmp_field_text(v), *sep = key->len ? " / " : "";
	const struct known *k = known_field(path);

	if (!strcmp(path, "roofline.hardware") && t) {
		lmp_report_device(doc, dev, sizeof dev);
		lmp_buf_printf(key, "%s%s", sep, dev);
	} else if (t && (cJSON_IsString(v) || !k)) {
		lmp_buf_printf(key, "%s%s%s%s", sep, cJSON_IsNumber(v) ? f : "", cJSON_IsNumber(v) ? " " : "", t);
	} else if (t) {
		lmp_buf_printf(key, "%s%s%s%s", sep, k->before, t, k->after);
	} else if (cJSON_IsBool(v)) {
		lmp_buf_printf(key, "%s%s %s", sep, f, cJSON_IsTrue(v) ? "yes" : "no");
	}
}

/* The series a document belongs to: the values of the fields named. */
static void
series_key(const cJSON *doc, const char *fields, lmp_buf *key)
{
	char f[128];
	const char *p = fields;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n < sizeof f) {
			memcpy(f, p, n);
			f[n] = '\0';
			describe(doc, f, key);
		}
		p += n + (p[n] == ',');
	}
}

/* Whether a field's text differs between documents. */
static int
varies(const cJSON *const *docs, int n, const char *path)
{
	const char *first = lmp_field_text(lmp_field(docs[0], path));

	for (int i = 1; i < n; i++) {
		const char *t = lmp_field_text(lmp_field(docs[i], path));
		if ((!t) != (!first) || (t && strcmp(t, first)))
			return 1;
	}
	return 0;
}

/* The default series: model, device (with its count and layout) and each
 * runtime setting that varies, but not the one across the chart. */
static void
default_series(const cJSON *const *docs, int n, const char *xpath, const char *ypath, lmp_buf *s, lmp_buf *same)
{
	static const char *const f[] = {"model.id", "roofline.hardware", "runtime.batch_size", "runtime.seq_len",
		"runtime.cache_len", "runtime.prompt_len", "runtime.gen_len", "runtime.w_bit", "runtime.a_bit",
		"runtime.kv_bit"};
	char dev[256];

	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		int dv = i == 1 && n > 0 && lmp_field(docs[0], f[i]);
		if (!strcmp(f[i], xpath) || !strcmp(f[i], ypath))
			continue;
		if (dv) { /* the device differs when its count or layout does */
			for (int j = 1; j < n && dv == 1; j++) {
				char other[256];
				lmp_report_device(docs[0], dev, sizeof dev);
				lmp_report_device(docs[j], other, sizeof other);
				dv = strcmp(dev, other) ? 2 : 1;
			}
		}
		if (i == 1 ? dv == 2 : varies(docs, n, f[i]))
			lmp_buf_printf(s, "%s%s", s->len ? "," : "", f[i]);
		else if (i < 2)
			describe(docs[0], f[i], same); /* said once, in the subtitle */
	}
}

/* Where the legend covers the fewest points: a corner of the plot. */
static void
legend_corner(const lmp_chart *c, const struct pt *p, int n, const double *keep, int nk, double w, double h,
	double *lx, double *ly)
{
	double xs[2] = {c->left + 8, c->w - c->right - 8 - w}, ys[2] = {c->top + 8, c->h - c->bottom - 8 - h};
	int best = -1;

	for (int k = 0; k < 4; k++) {
		double x = xs[k == 1 || k == 2], y = ys[k >= 2];
		int in = 0;
		for (int i = 0; i < n; i++) {
			double px = lmp_chart_px(c, p[i].x), py = lmp_chart_py(c, p[i].y);
			in += px > x - 6 && px < x + w + 6 && py > y - 6 && py < y + h + 6;
			/* and the middle of the segment to the next point */
			if (i + 1 < n && p[i + 1].series == p[i].series) {
				double mx = (px + lmp_chart_px(c, p[i + 1].x)) / 2, my = (py + lmp_chart_py(c, p[i + 1].y)) / 2;
				in += mx > x && mx < x + w && my > y && my < y + h;
			}
		}
		/* the capacity lines' labels weigh more than any point */
		for (int b = 0; b < nk; b++)
			in += 1000 * (keep[4 * b] < x + w && x < keep[4 * b + 2] && keep[4 * b + 1] < y + h && y < keep[4 * b + 3]);
		if (best < 0 || in < best) {
			best = in;
			*lx = x;
			*ly = y;
		}
	}
}

/* Each device's memory across the chart, labelled at its right end. */
static void
capacities(lmp_chart *c, const cJSON *const *docs, int n, const struct pt *p, int np, double *keep, int *nk)
{
	double done[16], last = -1e9;
	int nd = 0;

	for (int i = 0; i < n && nd < 16; i++) {
		double cap = lmp_field_or(docs[i], "fit.capacity_bytes", 0);
		lmp_buf label = {0};
		char v[LMP_UNIT_MAX], dev[256];
		int j;
		if (!(cap > 0) || cap < c->y.lo || cap > c->y.hi)
			continue;
		for (j = 0; j < nd && done[j] != cap; j++)
			;
		if (j < nd)
			continue;
		done[nd++] = cap;
		/* every device with this capacity */
		for (j = i; j < n; j++) {
			if (lmp_field_or(docs[j], "fit.capacity_bytes", 0) != cap)
				continue;
			lmp_report_device(docs[j], dev, sizeof dev);
			if (!label.s || !strstr(label.s, dev))
				lmp_buf_printf(&label, "%s%s", label.len ? ", " : "", dev);
		}
		lmp_fmt_bytes(cap, v);
		lmp_buf_printf(&label, " memory: %s", v);
		double y = lmp_chart_py(c, cap), ty = fabs(y - last) < 14 ? y + 13 : y - 4;
		double lw = 6.3 * (double)strlen(label.s), x0 = c->left + 6, x1 = c->w - c->right - 6;
		int near[2] = {0, 0}; /* points the label would cover, at the left and the right end */
		for (j = 0; j < np; j++) {
			double px = lmp_chart_px(c, p[j].x), py = lmp_chart_py(c, p[j].y);
			if (py > ty - 16 && py < ty + 6) {
				near[0] += px < x0 + lw + 6;
				near[1] += px > x1 - lw - 6;
			}
		}
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#c03030\" "
			"stroke-width=\"1.5\" stroke-dasharray=\"7 3\"/>\n", c->left, y, c->w - c->right, y);
		double kx = near[0] < near[1] ? x0 : x1 - lw;
		keep[4 * *nk] = kx;
		keep[4 * *nk + 1] = ty - 12;
		keep[4 * *nk + 2] = kx + lw;
		keep[4 * *nk + 3] = ty + 4;
		++*nk;
		lmp_svg_text(&c->svg, near[0] < near[1] ? x0 : x1, ty, near[0] < near[1] ?
			"font-size=\"11\" fill=\"#c03030\"" : "text-anchor=\"end\" font-size=\"11\" fill=\"#c03030\"",
			label.s);
		last = y;
		lmp_buf_free(&label);
	}
}

static void
draw_lines(lmp_chart *c, const struct pt *p, int n)
{
	int i, j;

	for (i = 0; i < n; i = j) {
		int s = p[i].series;
		for (j = i; j < n && p[j].series == s; j++)
			;
		/* runs of segments that fit, solid; a segment to or from a point
		 * that does not fit, dashed and faint */
		for (int a = i; a < j;) {
			int fit = a + 1 < j ? p[a].fits && p[a + 1].fits : p[a].fits, b = a + 1;
			while (b + 1 < j && (p[b].fits && p[b + 1].fits) == fit)
				b++;
			if (b < j && b > a) {
				lmp_buf_printf(&c->svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
					lmp_chart_colour(s), fit ? dash(s) : " stroke-dasharray=\"3 3\" stroke-opacity=\"0.6\"");
				/* points on the same pixel as the last drawn add nothing:
				 * a sweep of any size stays a chart of bounded size */
				double lx = -1e9, ly = -1e9;
				for (int k = a; k <= b; k++) {
					double px = lmp_chart_px(c, p[k].x), py = lmp_chart_py(c, p[k].y);
					if (k != b && fabs(px - lx) < 0.5 && fabs(py - ly) < 0.5)
						continue;
					lmp_buf_printf(&c->svg, "%s%.2f,%.2f", k == a ? "" : " ", px, py);
					lx = px;
					ly = py;
				}
				lmp_buf_puts(&c->svg, "\"/>\n");
			}
			a = b;
			if (a >= j - 1)
				break;
		}
		double mx = -1e9, my = -1e9;
		for (int k = i; k < j; k++) {
			double px = lmp_chart_px(c, p[k].x), py = lmp_chart_py(c, p[k].y);
			/* markers closer than 6 px to the last one drawn would only
			 * hide the line: a dense sweep shows every few */
			if (hypot(px - mx, py - my) < 6 && p[k].fits == p[k - 1].fits)
				continue;
			mx = px;
			my = py;
			lmp_buf_printf(&c->svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\" fill=\"%s\" stroke=\"%s\" "
				"stroke-width=\"1.5\"/>\n", lmp_chart_px(c, p[k].x), lmp_chart_py(c, p[k].y),
				p[k].fits ? "3" : "3.5", p[k].fits ? lmp_chart_colour(s) : "#ffffff", lmp_chart_colour(s));
		}
	}
}

/* The legend, in the corner it covers least, as many lines as fit. */
static void
draw_legend(lmp_chart *c, const struct pt *p, int n, const double *keep, int nk, char **names, int ns,
	const char *what, int unfit)
{
	int room = (int)((c->h - c->top - c->bottom - 40) / 16), shown = ns <= room ? ns : room - 1, rows, j;
	double w = 0, lx = 0, ly = 0;
	char more[64];

	if (shown < 0)
		shown = 0;
	for (j = 0; j < shown; j++)
		w = fmax(w, 6.3 * (double)strlen(*names[j] ? names[j] : what));
	if (unfit)
		w = fmax(w, 6.3 * 30);
	rows = shown + (shown < ns) + (unfit != 0);
	w += 44;
	legend_corner(c, p, n, keep, nk, w, 16.0 * rows + 8, &lx, &ly);
	lmp_buf_printf(&c->svg, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
		"fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n", lx, ly, w, 16.0 * rows + 8);
	for (j = 0; j < shown; j++) {
		double y = ly + 18 + 16 * j;
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
			"stroke-width=\"3\"%s/>\n", lx + 8, y - 4, lx + 28, y - 4, lmp_chart_colour(j), dash(j));
		lmp_svg_text(&c->svg, lx + 34, y, "font-size=\"11\"", *names[j] ? names[j] : what);
	}
	if (shown < ns) {
		snprintf(more, sizeof more, "+%d more lines", ns - shown);
		lmp_svg_text(&c->svg, lx + 34, ly + 18 + 16 * shown, "font-size=\"11\" fill=\"#555555\"", more);
	}
	if (unfit) {
		double y = ly + 18 + 16 * (rows - 1);
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555555\" "
			"stroke-width=\"2\" stroke-dasharray=\"3 3\"/>\n<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" "
			"fill=\"#ffffff\" stroke=\"#555555\" stroke-width=\"1.5\"/>\n", lx + 8, y - 4, lx + 28, y - 4,
			lx + 18, y - 4);
		lmp_svg_text(&c->svg, lx + 34, y, "font-size=\"11\"", "hollow, dashed: does not fit in memory");
	}
}

int
lmp_chart_plot(const cJSON *const *docs, int n, const char *xname, const char *yname, const char *series,
	lmp_buf *out, lmp_err *e)
{
	struct pt *pts = lmp_xcalloc((size_t)n + 1, sizeof *pts);
	char **names = NULL, xl[320], yl[320], title[700], sub[900], xp[320] = "", yp[320] = "";
	lmp_buf defs = {0}, same = {0};
	int ns = 0, i, j, rc = 0, unfit = 0, xs = 0, ys = 0;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	lmp_chart c = {0};

	for (i = 0; i < n; i++) {
		const cJSON *xv = lmp_field_find(docs[i], xname, xp, sizeof xp), *yv = lmp_field_find(docs[i], yname, yp, sizeof yp);
		if (!cJSON_IsNumber(xv) || !cJSON_IsNumber(yv)) {
			rc = lmp_fail(e, LMP_EXIT_INPUT, "document %d has no number '%s'", i + 1,
				!cJSON_IsNumber(xv) ? xname : yname);
			break;
		}
	}
	if (!rc && !n)
		rc = lmp_fail(e, LMP_EXIT_INPUT, "nothing to plot");
	if (rc)
		goto out;
	lmp_field_find(docs[0], xname, xp, sizeof xp);
	lmp_field_find(docs[0], yname, yp, sizeof yp);
	if (!series || !*series) {
		default_series(docs, n, xp, yp, &defs, &same);
		series = defs.s ? defs.s : "";
	}
	for (i = 0; i < n; i++) {
		lmp_buf key = {0};
		series_key(docs[i], series, &key);
		for (j = 0; j < ns && strcmp(names[j], key.s ? key.s : ""); j++)
			;
		if (j == ns) {
			names = lmp_xrealloc(names, (size_t)(ns + 1) * sizeof *names);
			names[ns++] = lmp_xstrdup(key.s ? key.s : "");
		}
		lmp_buf_free(&key);
		pts[i] = (struct pt){lmp_field_find(docs[i], xname, NULL, 0)->valuedouble,
			lmp_field_find(docs[i], yname, NULL, 0)->valuedouble, j, i, !cJSON_IsFalse(lmp_field(docs[i], "fit.fits"))};
		unfit += !pts[i].fits;
		xmin = fmin(xmin, pts[i].x);
		xmax = fmax(xmax, pts[i].x);
		ymin = fmin(ymin, pts[i].y);
		ymax = fmax(ymax, pts[i].y);
	}
	/* a memory chart shows the devices' capacity too */
	int memory = is_memory(yp), nk = 0;
	double keep[4 * 16]; /* the capacity labels' boxes, for the legend to keep clear of */
	for (i = 0; memory && i < n; i++) {
		double cap = lmp_field_or(docs[i], "fit.capacity_bytes", 0);
		if (cap > 0)
			ymax = fmax(ymax, cap);
	}
	qsort(pts, (size_t)n, sizeof *pts, by_series_x);
	c.left = 104;
	c.right = 24;
	c.top = 56;
	c.bottom = 52;
	c.x.log = xmin > 0 && xmax / xmin > 50;
	c.y.log = ymin > 0 && ymax / ymin > 50;
	axis_for(&c.x, xp, &xs);
	axis_for(&c.y, yp, &ys);
	c.x.whole = c.y.whole = 1;
	for (i = 0; i < n; i++) {
		c.x.whole &= pts[i].x == floor(pts[i].x);
		c.y.whole &= pts[i].y == floor(pts[i].y);
	}
	lmp_axis_fit(&c.x, xmin, xmax);
	lmp_axis_fit(&c.y, ymin, ymax);
	if (xs && !c.x.log)
		scale_axis(&c.x, known_field(xp) ? known_field(xp)->unit : strstr(xp, "bytes") ? U_BYTES : U_TIME);
	if (ys && !c.y.log)
		scale_axis(&c.y, known_field(yp) ? known_field(yp)->unit : strstr(yp, "bytes") ? U_BYTES : U_TIME);
	axis_title(&c.x, xp, xs, xl, sizeof xl);
	axis_title(&c.y, yp, ys, yl, sizeof yl);
	c.x.label = xl;
	c.y.label = yl;
	{
		/* the title names the fields; their units are on the axes */
		char tx[200], ty[200];
		snprintf(tx, sizeof tx, "%s", known_field(xp) ? known_field(xp)->words : xp);
		snprintf(ty, sizeof ty, "%s", known_field(yp) ? known_field(yp)->words : yp);
		if (known_field(xp) && strstr(tx, " ("))
			*strstr(tx, " (") = '\0';
		if (known_field(yp) && strstr(ty, " ("))
			*strstr(ty, " (") = '\0';
		snprintf(title, sizeof title, "%s against %s", ty, tx);
	}
	snprintf(sub, sizeof sub, "%s%s%d point%s, %d line%s%s%s", same.s ? same.s : "", same.s ? "; " : "", n,
		n == 1 ? "" : "s", ns, ns == 1 ? "" : "s", c.x.log ? ", log x" : "", c.y.log ? ", log y" : "");
	lmp_utf8_clip(sub);
	lmp_chart_begin(&c, 960, 600, title, sub);
	lmp_chart_axes(&c);
	if (memory)
		capacities(&c, docs, n, pts, n, keep, &nk);
	draw_lines(&c, pts, n);
	draw_legend(&c, pts, n, keep, nk, names, ns, same.s ? same.s : "all documents", unfit);
	lmp_chart_end(&c);
	lmp_buf_add(out, c.svg.s, c.svg.len);
out:
	lmp_buf_free(&c.svg);
	lmp_buf_free(&defs);
	lmp_buf_free(&same);
	for (j = 0; j < ns; j++)
		free(names[j]);
	free(names);
	free(pts);
	return rc;
}
