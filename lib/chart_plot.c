/* chart_plot.c: one field against another over a stream of documents
 * (lmp-report --plot X:Y), one line per series (by default per model and
 * device), points joined in order of X.  An axis is logarithmic when all
 * its values are positive and span more than a factor of 50. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct pt {
	double x, y;
	int series, order;
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

static void fmt_time(double v, char *out) { lmp_fmt_time(v, out); }
static void fmt_bytes(double v, char *out) { lmp_fmt_bytes(v, out); }
static void fmt_flops(double v, char *out) { lmp_fmt_flops(v, out); }
static void fmt_count(double v, char *out) { lmp_fmt_count(v, out); }

/* The unit of a field, from its name. */
static void
axis_for(lmp_axis *a, const char *path, char *label, size_t n)
{
	const char *name = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
	size_t l = strlen(name);

	a->fmt = fmt_count;
	if (!strcmp(name, "tokens_per_s")) {
		snprintf(label, n, "%s (tokens/s)", path);
	} else if (l > 2 && !strcmp(name + l - 2, "_s")) {
		a->fmt = fmt_time;
		snprintf(label, n, "%s (s)", path);
	} else if (strstr(path, "bytes") && strcmp(name, "memory_bandwidth_bytes_per_s")) {
		a->fmt = fmt_bytes;
		a->binary = 1;
		snprintf(label, n, "%s (B)", path);
	} else if (!strcmp(name, "flops") || !strcmp(name, "peak_flops") || !strcmp(name, "attainable_flops")) {
		a->fmt = fmt_flops;
		snprintf(label, n, "%s", path);
	} else if (!strcmp(name, "mfu") || !strcmp(name, "mbu")) {
		a->fmt = lmp_fmt_percent;
		snprintf(label, n, "%s", path);
	} else {
		if (!strcmp(name, "intensity") || !strcmp(name, "ridge_point"))
			a->fmt = lmp_fmt_plain;
		snprintf(label, n, "%s", path);
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
			const cJSON *v = lmp_field_find(doc, f, NULL, 0);
			const char *t = lmp_field_text(v);
			if (t)
				lmp_buf_printf(key, "%s%s", key->len ? " / " : "", t);
			else if (cJSON_IsBool(v))
				lmp_buf_printf(key, "%s%s=%s", key->len ? " / " : "", f, cJSON_IsTrue(v) ? "true" : "false");
		}
		p += n + (p[n] == ',');
	}
}

int
lmp_chart_plot(const cJSON *const *docs, int n, const char *xname, const char *yname, const char *series,
	lmp_buf *out, lmp_err *e)
{
	struct pt *pts = lmp_xcalloc((size_t)n + 1, sizeof *pts);
	char **names = NULL, xl[320], yl[320], title[700], sub[256];
	const char *xpath = NULL, *ypath = NULL;
	int ns = 0, i, j, rc = 0;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	lmp_chart c = {0};

	if (!series || !*series)
		series = "model.id,roofline.hardware";
	for (i = 0; i < n && !rc; i++) {
		char xp[320], yp[320];
		const cJSON *xv = lmp_field_find(docs[i], xname, xp, sizeof xp), *yv = lmp_field_find(docs[i], yname, yp, sizeof yp);
		lmp_buf key = {0};
		if (!cJSON_IsNumber(xv) || !cJSON_IsNumber(yv)) {
			rc = lmp_fail(e, LMP_EXIT_INPUT, "document %d has no number '%s'", i + 1,
				!cJSON_IsNumber(xv) ? xname : yname);
			break;
		}
		if (!xpath) {
			xpath = lmp_xstrdup(xp);
			ypath = lmp_xstrdup(yp);
		}
		series_key(docs[i], series, &key);
		for (j = 0; j < ns && strcmp(names[j], key.s ? key.s : ""); j++)
			;
		if (j == ns) {
			names = lmp_xrealloc(names, (size_t)(ns + 1) * sizeof *names);
			names[ns++] = lmp_xstrdup(key.s ? key.s : "");
		}
		lmp_buf_free(&key);
		pts[i] = (struct pt){xv->valuedouble, yv->valuedouble, j, i};
		xmin = fmin(xmin, pts[i].x);
		xmax = fmax(xmax, pts[i].x);
		ymin = fmin(ymin, pts[i].y);
		ymax = fmax(ymax, pts[i].y);
	}
	if (!rc && !n)
		rc = lmp_fail(e, LMP_EXIT_INPUT, "nothing to plot");
	if (rc)
		goto out;
	qsort(pts, (size_t)n, sizeof *pts, by_series_x);
	c.left = 104;
	c.right = 24;
	c.top = 56;
	c.bottom = 52;
	c.x.log = xmin > 0 && xmax / xmin > 50;
	c.y.log = ymin > 0 && ymax / ymin > 50;
	axis_for(&c.x, xpath, xl, sizeof xl);
	axis_for(&c.y, ypath, yl, sizeof yl);
	c.x.label = xl;
	c.y.label = yl;
	lmp_axis_fit(&c.x, xmin, xmax);
	lmp_axis_fit(&c.y, ymin, ymax);
	snprintf(title, sizeof title, "%s against %s", ypath, xpath);
	snprintf(sub, sizeof sub, "%d point%s, %d line%s (one per %s)%s%s", n, n == 1 ? "" : "s", ns,
		ns == 1 ? "" : "s", series, c.x.log ? ", log x" : "", c.y.log ? ", log y" : "");
	lmp_chart_begin(&c, 960, 600, title, sub);
	lmp_chart_axes(&c);
	for (i = 0; i < n;) {
		int s = pts[i].series;
		lmp_buf_printf(&c.svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
			lmp_chart_colour(s), dash(s));
		for (j = i; j < n && pts[j].series == s; j++)
			lmp_buf_printf(&c.svg, "%s%.2f,%.2f", j == i ? "" : " ", lmp_chart_px(&c, pts[j].x),
				lmp_chart_py(&c, pts[j].y));
		lmp_buf_puts(&c.svg, "\"/>\n");
		for (j = i; j < n && pts[j].series == s; j++)
			lmp_buf_printf(&c.svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
				lmp_chart_px(&c, pts[j].x), lmp_chart_py(&c, pts[j].y), lmp_chart_colour(s));
		i = j;
	}
	/* the legend, inside the plot at its top left, as many lines as fit */
	int room = (int)((c.h - c.top - c.bottom - 24) / 16), shown = ns <= room ? ns : room - 1;
	for (j = 0; j < shown; j++) {
		double y = c.top + 18 + 16 * j;
		lmp_buf_printf(&c.svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
			"stroke-width=\"3\"%s/>\n", c.left + 10, y - 4, c.left + 30, y - 4, lmp_chart_colour(j), dash(j));
		lmp_svg_text(&c.svg, c.left + 36, y, "font-size=\"11\"", *names[j] ? names[j] : "(no series field)");
	}
	if (shown < ns) {
		char more[64];
		snprintf(more, sizeof more, "+%d more lines", ns - shown);
		lmp_svg_text(&c.svg, c.left + 36, c.top + 18 + 16 * shown, "font-size=\"11\" fill=\"#555555\"", more);
	}
	lmp_chart_end(&c);
	lmp_buf_add(out, c.svg.s, c.svg.len);
out:
	lmp_buf_free(&c.svg);
	for (j = 0; j < ns; j++)
		free(names[j]);
	free(names);
	free((char *)xpath);
	free((char *)ypath);
	free(pts);
	return rc;
}
