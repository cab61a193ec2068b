/* chart_roofline.c: the roofline chart of roofline documents on one device.
 *
 * Log-log: arithmetic intensity (FLOP/B) across, performance (FLOP/s) up.
 * The device's ceilings, one per precision it has, and its bandwidth slope;
 * the precision the documents ran in drawn solid, the others dashed.  Each
 * layer (or each point of a sweep without layers) is a marker at its
 * intensity and the performance the roofline gives it (FLOPs / time),
 * coloured by phase, filled when compute-bound and hollow when
 * memory-bound, labelled with its name; layers that land on the same spot
 * share one label (within a fiftieth of a decade: the same spot to the eye). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct point {
	double x, y;
	int phase, compute, quiet; /* quiet: no label beside it (its tooltip has it) */
	char label[160];
};

struct label_box {
	double x0, y0, x1, y1;
};

/* A ceiling's label, in the right margin: its precisions and its peak. */
struct ceiling {
	double y; /* pixel */
	int solid;
	char names[64], rate[LMP_UNIT_MAX];
};

enum { PH_PREFILL, PH_DECODE, PH_MIXED, PH_STEP, PH_N };
static const char *const phase_name[PH_N] = {"prefill", "decode", "mixed step", "step"};
static const char *const phase_colour[PH_N] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"};

static const char *
sval(const cJSON *doc, const char *path)
{
	const cJSON *v = lmp_field(doc, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What a single step is: a prefill (nothing cached), a decode (one new
 * token), a mix of queries, or something else. */
static int
step_phase(const cJSON *rt)
{
	double s, c;

	if (lmp_field(rt, "queries"))
		return PH_MIXED;
	s = lmp_field_or(rt, "seq_len", -1);
	c = lmp_field_or(rt, "cache_len", -1);
	if (s == 1)
		return PH_DECODE;
	if (c == 0)
		return PH_PREFILL;
	return PH_STEP;
}

struct points {
	struct point *p;
	int n, cap, hidden;
	int named; /* points named by their runtime: 1 "b s c", 2 "b p g", 4 "b" */
};

/* Whether a label "a, b, c" holds the name exactly (an empty name adds
 * nothing: held). */
static int
has_name(const char *label, const char *name)
{
	size_t n = strlen(name);
	const char *p = label;

	if (!n)
		return 1; /* strstr finds "" everywhere, past the label's end too */

	while ((p = strstr(p, name))) {
		if ((p == label || (p >= label + 2 && p[-2] == ',' && p[-1] == ' ')) && (p[n] == '\0' || p[n] == ','))
			return 1;
		p++;
	}
	return 0;
}

static void
add_point(struct points *ps, double flops, double time, double intensity, const char *bound, int phase,
	const char *label)
{
	struct point *p;
	int i;

	if (!(flops > 0) || !(time > 0) || !(intensity > 0)) {
		ps->hidden++;
		return;
	}
	double y = flops / time;
	int compute = bound && !strcmp(bound, "compute");
	/* One marker for layers on the same spot: their labels join. */
	for (i = 0; i < ps->n; i++) {
		p = &ps->p[i];
		if (p->phase == phase && p->compute == compute && fabs(log10(p->x / intensity)) < 0.02 &&
		    fabs(log10(p->y / y)) < 0.02) {
			size_t l = strlen(p->label);
			if (!has_name(p->label, label) && l + strlen(label) + 3 < sizeof p->label)
				snprintf(p->label + l, sizeof p->label - l, ", %s", label);
			return;
		}
	}
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 64;
		ps->p = lmp_xrealloc(ps->p, (size_t)ps->cap * sizeof *ps->p);
	}
	p = &ps->p[ps->n++];
	p->x = intensity;
	p->y = y;
	p->phase = phase;
	p->compute = compute;
	p->quiet = 0;
	snprintf(p->label, sizeof p->label, "%s", label);
}

/* A layer is named by the last part of its path. */
static const char *
short_name(const char *path)
{
	const char *d = strrchr(path, '.');

	return d ? d + 1 : path;
}

static void
add_rows(struct points *ps, const cJSON *rows, int phase)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, rows) {
		const char *path = sval(r, "path");
		add_point(ps, lmp_field_or(r, "flops", 0), lmp_field_or(r, "time_s", 0), lmp_field_or(r, "intensity", 0),
			sval(r, "bound"), phase, short_name(path ? path : "?"));
	}
}

/* A point without layers is named by its runtime: "b8 s2048 c0". */
static void
point_name(struct points *ps, const cJSON *doc, char *out, size_t n)
{
	const cJSON *rt = lmp_field(doc, "runtime");
	const char *b = lmp_field_text(lmp_field(rt, "batch_size")), *s = lmp_field_text(lmp_field(rt, "seq_len"));
	const char *c = lmp_field_text(lmp_field(rt, "cache_len")), *p = lmp_field_text(lmp_field(rt, "prompt_len"));
	const char *g = lmp_field_text(lmp_field(rt, "gen_len"));

	if (p && g) {
		snprintf(out, n, "b%s p%s g%s", b ? b : "?", p, g);
		ps->named |= 2;
	} else if (s) {
		snprintf(out, n, "b%s s%s c%s", b ? b : "?", s, c ? c : "?");
		ps->named |= 1;
	} else {
		snprintf(out, n, "b%s", b ? b : "?");
		ps->named |= 4;
	}
}

/* A sweep of many points would bury the chart under labels: only the two
 * ends of each phase (least and most intense) are labelled, the legend
 * reads the names, and every marker's tooltip keeps its own. */
static void
quiet_sweep(struct points *ps)
{
	int lo[PH_N], hi[PH_N], i;

	if (!ps->named || ps->n <= 6)
		return;
	for (i = 0; i < PH_N; i++)
		lo[i] = hi[i] = -1;
	for (i = 0; i < ps->n; i++) {
		int f = ps->p[i].phase;
		if (lo[f] < 0 || ps->p[i].x < ps->p[lo[f]].x)
			lo[f] = i;
		if (hi[f] < 0 || ps->p[i].x > ps->p[hi[f]].x)
			hi[f] = i;
	}
	for (i = 0; i < ps->n; i++) {
		int f = ps->p[i].phase;
		ps->p[i].quiet = i != lo[f] && i != hi[f];
	}
}

static int
overlaps(const struct label_box *a, const struct label_box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Boxes labels keep clear of: markers, the ceilings' own labels. */
struct boxes {
	struct label_box *b;
	int n, cap;
};

static void
add_box(struct boxes *bs, double x0, double y0, double x1, double y1)
{
	if (bs->n == bs->cap) {
		bs->cap = bs->cap ? 2 * bs->cap : 64;
		bs->b = lmp_xrealloc(bs->b, (size_t)bs->cap * sizeof *bs->b);
	}
	bs->b[bs->n++] = (struct label_box){x0, y0, x1, y1};
}

static int
free_at(const lmp_chart *c, const struct boxes *bs, const struct label_box *box)
{
	int j;

	if (box->x0 < c->left + 2 || box->x1 > c->w - c->right - 2 || box->y0 < c->top + 2 ||
	    box->y1 > c->h - c->bottom - 2)
		return 0;
	for (j = 0; j < bs->n; j++)
		if (overlaps(box, &bs->b[j]))
			return 0;
	return 1;
}

/* A label of many layers is cut after the names that fit in about 40
 * characters: "q_proj, k_proj, v_proj (+7)"; the marker's tooltip keeps
 * them all. */
static void
short_label(const char *label, char *out, size_t n)
{
	size_t len = strlen(label), cut = 0, i;
	int rest = 0;

	if (len <= 44 || n < 48) {
		snprintf(out, n, "%s", label);
		return;
	}
	for (i = 0; i + 1 < len; i++) {
		if (label[i] == ',' && label[i + 1] == ' ') {
			if (i <= 36)
				cut = i;
			else
				rest++;
		}
	}
	if (!cut) {
		snprintf(out, n, "%.40s...", label);
		return;
	}
	/* names after the cut: the commas after it, plus the last name */
	for (i = 0, rest = 1; i + 1 < len; i++)
		rest += i > cut && label[i] == ',' && label[i + 1] == ' ';
	snprintf(out, n, "%.*s (+%d)", (int)cut, label, rest);
}

/* Labels beside their markers, right or left; a label that would cover
 * another, a marker or a ceiling's label moves a line at a time up or down,
 * with a thin line back to its marker.  The order is fixed (top to bottom,
 * then left to right), so the layout is too. */
static void
draw_labels(lmp_chart *c, const struct point *p, int n, struct boxes *bs)
{
	int *order = lmp_xcalloc((size_t)n + 1, sizeof *order), i, j, k;

	for (i = 0; i < n; i++) {
		double px = lmp_chart_px(c, p[i].x), py = lmp_chart_py(c, p[i].y);
		add_box(bs, px - 5, py - 5, px + 5, py + 5);
		order[i] = i;
	}
	for (i = 1; i < n; i++) {
		for (j = i; j > 0; j--) {
			const struct point *a = &p[order[j - 1]], *b = &p[order[j]];
			if (a->y > b->y || (a->y == b->y && a->x <= b->x))
				break;
			k = order[j];
			order[j] = order[j - 1];
			order[j - 1] = k;
		}
	}
	for (i = 0; i < n; i++) {
		const struct point *q = &p[order[i]];
		char text[64];
		if (q->quiet)
			continue;
		short_label(q->label, text, sizeof text);
		double px = lmp_chart_px(c, q->x), py = lmp_chart_py(c, q->y), wdt = 6.2 * (double)strlen(text);
		struct label_box box = {0};
		double dy = 0;
		int found = 0, right = 1, t, same = 0;

		/* a prefill and a decode layer on one spot with one name: one label */
		for (j = 0; j < i && !same; j++) {
			const struct point *o = &p[order[j]];
			same = !strcmp(o->label, q->label) && fabs(lmp_chart_px(c, o->x) - px) < 3 &&
			       fabs(lmp_chart_py(c, o->y) - py) < 3;
		}
		if (same)
			continue;

		for (t = 0; t < 80 && !found; t++) {
			dy = (t / 2 + 1) / 2 * 13.0 * ((t / 2) % 2 ? 1 : -1);
			right = t % 2 == 0;
			box.x0 = right ? px + 8 : px - 8 - wdt;
			box.x1 = box.x0 + wdt;
			box.y0 = py + dy - 7;
			box.y1 = py + dy + 5;
			found = free_at(c, bs, &box);
		}
		if (!found) { /* crowded out: beside the marker all the same */
			dy = 0;
			right = px + 8 + wdt < c->w - c->right;
			box.x0 = right ? px + 8 : px - 8 - wdt;
			box.x1 = box.x0 + wdt;
		}
		add_box(bs, box.x0, py + dy - 7, box.x1, py + dy + 5);
		if (dy != 0)
			lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#aaaaaa\" "
				"stroke-width=\"0.6\"/>\n", px, py, right ? box.x0 - 1 : box.x1 + 1, py + dy - 1);
		lmp_svg_text(&c->svg, box.x0, py + dy + 3, "font-size=\"10.5\" fill=\"#222222\"", text);
	}
	free(order);
}

/* Ceilings of equal height share a line: "bf16, fp16". */
static void
draw_roof(lmp_chart *c, const lmp_hw *hw, double devices, double bw, const char *used, double used_peak,
	struct boxes *bs, struct ceiling *ceil, int *nceil)
{
	double done[LMP_NPREC];
	int nd = 0, i, j;
	char rate[LMP_UNIT_MAX], label[160];
	double xr = c->x.hi, top = 0;

	for (i = 0; i < LMP_NPREC; i++) {
		double peak = hw ? hw->peak[i] * devices : 0;
		top = peak > top ? peak : top;
	}
	if (used_peak > top)
		top = used_peak;
	/* the bandwidth slope, up to where it meets the highest ceiling */
	double xa = c->x.lo, ya = bw * xa, xb = top / bw;
	if (ya < c->y.lo) {
		xa = c->y.lo / bw;
		ya = c->y.lo;
	}
	if (xb > xr)
		xb = xr;
	lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#222222\" "
		"stroke-width=\"2\"/>\n", lmp_chart_px(c, xa), lmp_chart_py(c, ya), lmp_chart_px(c, xb),
		lmp_chart_py(c, bw * xb));
	lmp_fmt_rate(bw, "B/s", rate);
	snprintf(label, sizeof label, "memory %s", rate);
	{
		/* along the slope, near where it enters the chart */
		double x0 = lmp_chart_px(c, xa), y0 = lmp_chart_py(c, ya), x1 = lmp_chart_px(c, xb),
		       y1 = lmp_chart_py(c, bw * xb);
		double ang = atan2(y1 - y0, x1 - x0), tx = x0 + (x1 - x0) * 0.08, ty = y0 + (y1 - y0) * 0.08;
		double len = 6.4 * (double)strlen(label), ex = len * cos(ang), ey = len * sin(ang);
		add_box(bs, tx, ty + ey - 16, tx + ex, ty);
		lmp_buf_printf(&c->svg, "<text transform=\"translate(%.2f %.2f) rotate(%.2f)\" dy=\"-6\" "
			"font-size=\"11\" fill=\"#222222\">", tx, ty, ang * 180 / M_PI);
		lmp_html_escape(&c->svg, label);
		lmp_buf_puts(&c->svg, "</text>\n");
	}
	for (i = 0; i < LMP_NPREC; i++) {
		double peak = hw ? hw->peak[i] * devices : 0;
		if (!hw && used)
			peak = 0;
		if (!(peak > 0))
			continue;
		for (j = 0; j < nd && done[j] != peak; j++)
			;
		if (j < nd)
			continue;
		done[nd++] = peak;
		/* every precision at this height */
		struct ceiling *k = &ceil[(*nceil)++];
		k->names[0] = '\0';
		k->solid = 0;
		for (j = 0; j < LMP_NPREC; j++) {
			if (hw->peak[j] * devices != peak)
				continue;
			k->solid |= used && !strcmp(lmp_prec_name(j), used);
			snprintf(k->names + strlen(k->names), sizeof k->names - strlen(k->names), "%s%s",
				*k->names ? ", " : "", lmp_prec_name(j));
		}
		lmp_fmt_rate(peak, "FLOP/s", k->rate);
		k->y = lmp_chart_py(c, peak);
		double xs = peak / bw;
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
			"stroke-width=\"%s\"%s/>\n", lmp_chart_px(c, xs > c->x.lo ? xs : c->x.lo), k->y,
			lmp_chart_px(c, xr), k->y, k->solid ? "#222222" : "#888888", k->solid ? "2" : "1",
			k->solid ? "" : " stroke-dasharray=\"5 4\"");
	}
	if (!hw && used_peak > 0) {
		struct ceiling *k = &ceil[(*nceil)++];
		snprintf(k->names, sizeof k->names, "%s", used);
		lmp_fmt_rate(used_peak, "FLOP/s", k->rate);
		k->y = lmp_chart_py(c, used_peak);
		k->solid = 1;
		lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#222222\" "
			"stroke-width=\"2\"/>\n", lmp_chart_px(c, used_peak / bw), k->y, lmp_chart_px(c, xr), k->y);
	}
}

/* The ceilings' labels right of the plot, top to bottom, two lines each,
 * pushed apart where ceilings lie close. */
static void
draw_ceiling_labels(lmp_chart *c, struct ceiling *k, int n)
{
	double x = c->w - c->right + 8, last = -1e9;
	int i, j;

	for (i = 1; i < n; i++) /* by height on the page: highest first */
		for (j = i; j > 0 && k[j].y < k[j - 1].y; j--) {
			struct ceiling t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		double y = k[i].y - 2 < last + 28 ? last + 28 : k[i].y - 2;
		const char *a = k[i].solid ? "font-size=\"11\" font-weight=\"bold\"" : "font-size=\"11\" fill=\"#666666\"";
		if (y != k[i].y - 2)
			lmp_buf_printf(&c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#aaaaaa\" "
				"stroke-width=\"0.6\"/>\n", x - 8, k[i].y, x - 2, y - 4);
		lmp_svg_text(&c->svg, x, y, a, k[i].names);
		lmp_svg_text(&c->svg, x, y + 13, a, k[i].rate);
		last = y;
	}
}

static void
fmt_intensity(double v, char *out)
{
	lmp_fmt_plain(v, out);
}

static void
fmt_flops_rate(double v, char *out)
{
	lmp_fmt_rate(v, "FLOP/s", out);
}

static void
legend(lmp_chart *c, const struct points *ps, struct boxes *bs)
{
	int used[PH_N][2] = {{0}}, i, k, row = 0;
	double x = c->left + 10, y = c->top + 16;

	for (i = 0; i < ps->n; i++)
		used[ps->p[i].phase][ps->p[i].compute] = 1;
	for (i = 0; i < PH_N; i++) {
		for (k = 1; k >= 0; k--) {
			char s[64];
			if (!used[i][k])
				continue;
			double yy = y + 16 * row++;
			lmp_buf_printf(&c->svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" fill=\"%s\" stroke=\"%s\" "
				"stroke-width=\"1.5\"/>\n", x, yy - 4, k ? phase_colour[i] : "#ffffff", phase_colour[i]);
			snprintf(s, sizeof s, "%s, %s-bound", phase_name[i], k ? "compute" : "memory");
			lmp_svg_text(&c->svg, x + 10, yy, "font-size=\"11\"", s);
			add_box(bs, x - 6, yy - 11, x + 12 + 6.4 * (double)strlen(s), yy + 4);
		}
	}
	if (ps->named) {
		/* what the names of sweep points say */
		char s[160];
		double yy = y + 16 * row++;
		snprintf(s, sizeof s, "labels: b batch%s%s", ps->named & 2 ? ", p prompt tokens, g generated" : "",
			ps->named & 1 ? ", s new tokens, c cached" : "");
		lmp_svg_text(&c->svg, x - 4, yy, "font-size=\"11\" fill=\"#444444\"", s);
		add_box(bs, x - 6, yy - 11, x + 6.2 * (double)strlen(s), yy + 4);
		for (i = 0; i < ps->n && !ps->p[i].quiet; i++)
			;
		if (i < ps->n) {
			yy = y + 16 * row++;
			lmp_svg_text(&c->svg, x - 4, yy, "font-size=\"11\" fill=\"#444444\"",
				"labelled: each phase's ends; every marker's tooltip names it");
			add_box(bs, x - 6, yy - 11, x + 6.2 * 60, yy + 4);
		}
	}
}

int
lmp_chart_roofline(const cJSON *const *docs, int n, lmp_buf *out, lmp_err *e)
{
	struct points ps = {0};
	const char *id = NULL, *used = NULL, *name = NULL;
	double devices = 1, bw = 0, peak = 0, ce = 1, me = 1;
	lmp_chart c = {0};
	lmp_hw *hw = NULL;
	lmp_err he = {0};
	char sub[512], t[64];
	int i;

	for (i = 0; i < n; i++) {
		const cJSON *d = docs[i], *ph, *p;
		const char *k = sval(d, "lmp"), *h = sval(d, "roofline.hardware");
		if (!k || strcmp(k, "roofline") || !h) {
			free(ps.p);
			return lmp_fail(e, LMP_EXIT_INPUT, "document %d is not a roofline document: a roofline chart "
				"needs lmp-roofline's output (or use --plot)", i + 1);
		}
		if (id && (strcmp(id, h) || devices != lmp_field_or(d, "roofline.devices", 1))) {
			free(ps.p);
			return lmp_fail(e, LMP_EXIT_INPUT, "document %d is on %s, document 1 on %s: one roofline chart "
				"shows one device (split the stream, or use --plot)", i + 1, h, id);
		}
		id = h;
		name = sval(d, "roofline.hardware_name");
		used = sval(d, "roofline.compute_precision");
		devices = lmp_field_or(d, "roofline.devices", 1);
		bw = lmp_field_or(d, "roofline.memory_bandwidth_bytes_per_s", 0);
		peak = lmp_field_or(d, "roofline.peak_flops", 0);
		ce = lmp_field_or(d, "roofline.compute_efficiency", 1);
		me = lmp_field_or(d, "roofline.memory_efficiency", 1);
		/* figures a chart can draw: no device is below 1 or above 1e30 */
		if (!(bw >= 1 && bw <= 1e30) || !(peak >= 1 && peak <= 1e30)) {
			free(ps.p);
			return lmp_fail(e, LMP_EXIT_INPUT, "document %d: roofline peak_flops and bandwidth must be "
				"between 1 and 1e30", i + 1);
		}
		ph = lmp_field(d, "phases");
		if (cJSON_GetArraySize(lmp_field(d, "rows")) > 0) {
			add_rows(&ps, lmp_field(d, "rows"), step_phase(lmp_field(d, "runtime")));
		} else if (cJSON_IsObject(ph) && lmp_report_is_point(d) == 0) {
			cJSON_ArrayForEach(p, ph)
				add_rows(&ps, lmp_field(p, "rows"), !strcmp(p->string, "prefill") ? PH_PREFILL : PH_DECODE);
		} else if (cJSON_IsObject(ph)) {
			cJSON_ArrayForEach(p, ph) {
				char nm[96];
				point_name(&ps, d, nm, sizeof nm);
				add_point(&ps, lmp_field_or(p, "totals.flops", 0), lmp_field_or(p, "totals.time_s", 0),
					lmp_field_or(p, "totals.intensity", 0), sval(p, "totals.bound"),
					!strcmp(p->string, "prefill") ? PH_PREFILL : PH_DECODE, nm);
			}
		} else {
			char nm[96];
			point_name(&ps, d, nm, sizeof nm);
			add_point(&ps, lmp_field_or(d, "totals.flops", 0), lmp_field_or(d, "totals.time_s", 0),
				lmp_field_or(d, "totals.intensity", 0), sval(d, "totals.bound"),
				step_phase(lmp_field(d, "runtime")), nm);
		}
	}
	/* The device as the hardware file describes it, for all its ceilings;
	 * a device file lmp cannot find again still has the one peak used. */
	if (id && id[strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-_")] == '\0' && !(hw = lmp_hw_load(id, &he)))
		hw = NULL; /* a document names a shipped device by its id, never a file to open */
	if (hw && (hw->bandwidth * devices != bw))
		hw = (lmp_hw_free(hw), NULL); /* not the same description any more */

	/* ranges: every marker, the ridge, a decade of room */
	double xmin = peak / bw, xmax = peak / bw, ymin = peak, ymax = peak;
	for (i = 0; i < LMP_NPREC && hw; i++)
		if (hw->peak[i] > 0) {
			ymax = hw->peak[i] * devices > ymax ? hw->peak[i] * devices : ymax;
			ymin = hw->peak[i] * devices < ymin ? hw->peak[i] * devices : ymin;
		}
	for (i = 0; i < ps.n; i++) {
		xmin = ps.p[i].x < xmin ? ps.p[i].x : xmin;
		xmax = ps.p[i].x > xmax ? ps.p[i].x : xmax;
		ymin = ps.p[i].y < ymin ? ps.p[i].y : ymin;
	}
	c.left = 104;
	c.right = 136; /* the ceilings' labels */
	c.top = 56;
	c.bottom = 52;
	c.x = (lmp_axis){.log = 1, .label = "arithmetic intensity (FLOP/B)", .fmt = fmt_intensity};
	c.y = (lmp_axis){.log = 1, .label = "performance (FLOP/s)", .fmt = fmt_flops_rate};
	lmp_axis_fit(&c.x, xmin / 2, xmax * 4);
	lmp_axis_fit(&c.y, ymin / 2, ymax * 2);

	char title[256];
	const char *model = sval(docs[0], "model.id");
	int same_model = 1;
	for (i = 1; i < n; i++) {
		const char *m = sval(docs[i], "model.id");
		same_model &= m && model && !strcmp(m, model);
	}
	t[0] = '\0';
	if (devices > 1)
		snprintf(t, sizeof t, "%.0f x ", devices);
	snprintf(title, sizeof title, "Roofline: %s on %s%s", same_model && model ? model : "several models", t,
		name ? name : id);
	{
		lmp_buf rb = {0};
		const cJSON *rt = lmp_field(docs[0], "runtime");
		const char *b = lmp_field_text(lmp_field(rt, "batch_size"));
		if (n == 1 && b) {
			const char *s = lmp_field_text(lmp_field(rt, "seq_len")), *cl = lmp_field_text(lmp_field(rt, "cache_len"));
			const char *p = lmp_field_text(lmp_field(rt, "prompt_len")), *g = lmp_field_text(lmp_field(rt, "gen_len"));
			lmp_buf_printf(&rb, "batch %s", b);
			if (s)
				lmp_buf_printf(&rb, ", seq_len %s, cache_len %s", s, cl ? cl : "?");
			if (p && g)
				lmp_buf_printf(&rb, ", prompt %s, generate %s", p, g);
			lmp_buf_puts(&rb, "; ");
		} else {
			lmp_buf_printf(&rb, "%d documents; ", n);
		}
		lmp_buf_printf(&rb, "%s peak, filled = compute-bound, hollow = memory-bound", used ? used : "?");
		/* what the times, and so each marker's height, are of */
		const char *tm = sval(docs[0], "roofline.time_model.status");
		for (i = 1; tm && i < n; i++)
			if (!sval(docs[i], "roofline.time_model.status") || strcmp(sval(docs[i], "roofline.time_model.status"), tm))
				tm = "of several time models";
		if (tm)
			lmp_buf_printf(&rb, "; times %s", tm);
		if (ps.hidden)
			lmp_buf_printf(&rb, "; %d without FLOPs not shown", ps.hidden);
		snprintf(sub, sizeof sub, "%s", rb.s);
		lmp_buf_free(&rb);
	}
	lmp_chart_begin(&c, 1000, 600, title, sub);
	lmp_chart_axes(&c);
	lmp_buf_printf(&c.svg, "<svg x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" viewBox=\"%.2f %.2f %.2f %.2f\" "
		"overflow=\"hidden\">\n", c.left, c.top, c.w - c.left - c.right, c.h - c.top - c.bottom, c.left, c.top,
		c.w - c.left - c.right, c.h - c.top - c.bottom);
	struct boxes bs = {0};
	struct ceiling ceil[LMP_NPREC + 1];
	int nceil = 0;
	draw_roof(&c, hw, devices, bw, used, peak, &bs, ceil, &nceil);
	if (ce != 1 || me != 1) {
		/* the roof a real kernel reaches, at the efficiencies given */
		double ep = peak * ce, eb = bw * me;
		lmp_buf_printf(&c.svg, "<polyline points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"none\" stroke=\"#d62728\" "
			"stroke-width=\"1.2\" stroke-dasharray=\"2 3\"/>\n", lmp_chart_px(&c, c.x.lo),
			lmp_chart_py(&c, eb * c.x.lo > c.y.lo ? eb * c.x.lo : c.y.lo), lmp_chart_px(&c, ep / eb),
			lmp_chart_py(&c, ep), lmp_chart_px(&c, c.x.hi), lmp_chart_py(&c, ep));
	}
	lmp_buf_puts(&c.svg, "</svg>\n");
	draw_ceiling_labels(&c, ceil, nceil);
	for (i = 0; i < ps.n; i++) {
		const struct point *p = &ps.p[i];
		lmp_buf_printf(&c.svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" fill=\"%s\" stroke=\"%s\" "
			"stroke-width=\"1.5\"><title>", lmp_chart_px(&c, p->x), lmp_chart_py(&c, p->y),
			p->compute ? phase_colour[p->phase] : "#ffffff", phase_colour[p->phase]);
		lmp_html_escape(&c.svg, p->label);
		lmp_buf_puts(&c.svg, "</title></circle>\n");
	}
	quiet_sweep(&ps);
	legend(&c, &ps, &bs);
	draw_labels(&c, ps.p, ps.n, &bs);
	free(bs.b);
	if (ce != 1 || me != 1) {
		snprintf(sub, sizeof sub, "dotted: %g of peak compute, %g of peak bandwidth", ce, me);
		lmp_svg_text(&c.svg, c.w - c.right - 4, c.h - c.bottom - 8, "text-anchor=\"end\" font-size=\"11\" "
			"fill=\"#d62728\"", sub);
	}
	lmp_chart_end(&c);
	lmp_buf_add(out, c.svg.s, c.svg.len);
	lmp_buf_free(&c.svg);
	free(ps.p);
	lmp_hw_free(hw);
	return 0;
}
