/* svg.c: the frame of a chart as SVG 1.1 text: canvas, title, plot area,
 * log or linear axes with grid and tick labels.  Coordinates are printed
 * with two decimals, so the same chart is the same bytes everywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *
lmp_chart_colour(int i)
{
	/* Tableau 10: distinct for the common kinds of colour blindness. */
	static const char *const c[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
		"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
	return c[(i < 0 ? -i : i) % 10];
}

void
lmp_svg_text(lmp_buf *b, double x, double y, const char *attrs, const char *text)
{
	lmp_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\"%s%s>", x, y, attrs && *attrs ? " " : "", attrs ? attrs : "");
	lmp_html_escape(b, text);
	lmp_buf_puts(b, "</text>\n");
}

/* About five steps of 1, 2 or 5 times a power of ten; for bytes, of ten
 * times a power of 1024, so that ticks read 16 GiB, not 17.18 GB. */
static double
nice_step(const lmp_axis *a, double range)
{
	double unit = 1;

	if (a->binary)
		while (range / unit >= 1024 * 5)
			unit *= 1024;
	range /= unit;
	double e = pow(10, floor(log10(range / 5))), f = range / 5 / e;

	double s = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e * unit;

	return a->whole && s < 1 ? 1 : s; /* no tick at batch 1.5 */
}

void
lmp_axis_fit(lmp_axis *a, double lo, double hi)
{
	/* a range a chart can draw, whatever the documents say */
	if (!isfinite(lo))
		lo = a->log ? 1 : 0;
	if (!isfinite(hi))
		hi = lo;
	if (a->log) {
		lo = lo < 1e-300 ? 1e-300 : lo > 1e300 ? 1e300 : lo;
		hi = hi < lo ? lo : hi > 1e300 ? 1e300 : hi;
	} else {
		lo = lo < -1e300 ? -1e300 : lo;
		hi = hi > 1e300 ? 1e300 : hi;
	}
	if (a->log && a->binary) {
		/* bytes: powers of two, so ticks read 512 MiB, 1 GiB, 2 GiB */
		a->lo = pow(2, floor(log2(lo)));
		a->hi = pow(2, ceil(log2(hi)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 2;
		return;
	}
	if (a->log) {
		a->lo = pow(10, floor(log10(lo)));
		a->hi = pow(10, ceil(log10(hi)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 10;
		if (log10(a->hi / a->lo) <= 4.5) {
			/* a short range ends at the nearest 1, 2 or 5 */
			static const double m[] = {5, 2, 1};
			for (int i = 0; i < 3; i++)
				if (a->lo * m[i] <= lo * (1 + 1e-12)) {
					a->lo *= m[i];
					break;
				}
			double d = a->hi / 10;
			for (int i = 2; i >= 0; i--)
				if (d * m[i] >= hi * (1 - 1e-12)) {
					a->hi = d * m[i];
					break;
				}
		}
		return;
	}
	if (lo > 0)
		lo = 0; /* quantities read best from zero */
	if (hi <= lo)
		hi = lo + 1;
	double s = nice_step(a, hi - lo);
	a->lo = floor(lo / s) * s;
	a->hi = ceil(hi / s) * s;
}

static double
frac(const lmp_axis *a, double v)
{
	if (a->log)
		return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	return (v - a->lo) / (a->hi - a->lo);
}

double
lmp_chart_px(const lmp_chart *c, double x)
{
	return c->left + frac(&c->x, x) * (c->w - c->left - c->right);
}

double
lmp_chart_py(const lmp_chart *c, double y)
{
	return c->h - c->bottom - frac(&c->y, y) * (c->h - c->top - c->bottom);
}

void
lmp_chart_begin(lmp_chart *c, double w, double h, const char *title, const char *subtitle)
{
	c->w = w;
	c->h = h;
	lmp_buf_printf(&c->svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n", w, h, w, h);
	lmp_buf_puts(&c->svg, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	lmp_svg_text(&c->svg, c->left, 24, "font-size=\"16\" font-weight=\"bold\"", title);
	if (subtitle && *subtitle)
		lmp_svg_text(&c->svg, c->left, 42, "font-size=\"12\" fill=\"#555555\"", subtitle);
}

/* Tick values of an axis: decades (every k-th when there are many), or
 * nice linear steps. */
static int
ticks(const lmp_axis *a, double *t, int max)
{
	int n = 0;

	if (a->log && a->binary) {
		int e0 = (int)floor(log2(a->lo) + 1e-9), e1 = (int)ceil(log2(a->hi) - 1e-9), k = 1 + (e1 - e0) / 10;
		for (int e = e0; e <= e1 && n < max; e += k)
			t[n++] = pow(2, e);
		return n;
	}
	if (a->log) {
		int d0 = (int)floor(log10(a->lo) + 1e-9), d1 = (int)ceil(log10(a->hi) - 1e-9), k = 1 + (d1 - d0) / 10;
		static const double m[] = {1, 2, 5};
		/* 1, 2, 5 in each decade when there are few decades */
		for (int d = d0; d <= d1 && n < max; d += k)
			for (int i = 0; i < (d1 - d0 <= 4 ? 3 : 1) && n < max; i++) {
				double v = m[i] * pow(10, d);
				if (v >= a->lo * (1 - 1e-9) && v <= a->hi * (1 + 1e-9))
					t[n++] = v;
			}
		return n;
	}
	double s = nice_step(a, a->hi - a->lo);
	for (double v = a->lo; v <= a->hi + s / 1e9 && n < max; v += s)
		t[n++] = fabs(v) < s / 1e9 ? 0 : v;
	return n;
}

/* "1.00 TFLOP/s" reads as "1 TFLOP/s" on an axis. */
static void
tick_label(const lmp_axis *a, double v, char *out)
{
	char *p;

	if (a->fmt) {
		a->fmt(v, out);
	} else {
		/* in the axis's unit: 0.5, 20, 160 (the title names the unit) */
		double x = v / (a->scale > 0 ? a->scale : 1);
		if (fabs(x) < 1e-12 * (fabs(a->hi) + fabs(a->lo)) / (a->scale > 0 ? a->scale : 1))
			x = 0;
		if (fabs(x) >= 1e4 || x == floor(x))
			snprintf(out, LMP_UNIT_MAX, "%.0f", x);
		else
			snprintf(out, LMP_UNIT_MAX, "%.4g", x);
		return;
	}
	if ((p = strstr(out, ".00")))
		memmove(p, p + 3, strlen(p + 3) + 1);
}

void
lmp_chart_axes(lmp_chart *c)
{
	double t[64], x0 = c->left, x1 = c->w - c->right, y0 = c->top, y1 = c->h - c->bottom;
	char s[LMP_UNIT_MAX];
	int n, i;

	lmp_buf_puts(&c->svg, "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n");
	n = ticks(&c->x, t, 64);
	for (i = 0; i < n; i++)
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
			lmp_chart_px(c, t[i]), y0, lmp_chart_px(c, t[i]), y1);
	n = ticks(&c->y, t, 64);
	for (i = 0; i < n; i++)
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
			x0, lmp_chart_py(c, t[i]), x1, lmp_chart_py(c, t[i]));
	lmp_buf_puts(&c->svg, "</g>\n");
	lmp_buf_printf(&c->svg, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
		"stroke=\"#333333\"/>\n", x0, y0, x1 - x0, y1 - y0);
	n = ticks(&c->x, t, 64);
	for (i = 0; i < n; i++) {
		tick_label(&c->x, t[i], s);
		lmp_svg_text(&c->svg, lmp_chart_px(c, t[i]), y1 + 16, "text-anchor=\"middle\" fill=\"#333333\"", s);
	}
	n = ticks(&c->y, t, 64);
	for (i = 0; i < n; i++) {
		tick_label(&c->y, t[i], s);
		lmp_svg_text(&c->svg, x0 - 6, lmp_chart_py(c, t[i]) + 4, "text-anchor=\"end\" fill=\"#333333\"", s);
	}
	if (c->x.label)
		lmp_svg_text(&c->svg, (x0 + x1) / 2, c->h - 14, "text-anchor=\"middle\" font-size=\"13\"", c->x.label);
	if (c->y.label) {
		lmp_buf_printf(&c->svg, "<text transform=\"translate(14 %.2f) rotate(-90)\" text-anchor=\"middle\" "
			"font-size=\"13\">", (y0 + y1) / 2);
		lmp_html_escape(&c->svg, c->y.label);
		lmp_buf_puts(&c->svg, "</text>\n");
	}
}

void
lmp_chart_end(lmp_chart *c)
{
	lmp_buf_puts(&c->svg, "</svg>\n");
}
