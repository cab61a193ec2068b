/* calibfit.c: the time model's terms fitted per device, engine and weight
 * precision (16, 8 or 4 bits, where an engine's precision has enough
 * measurements of its own).
 *
 * The loss is the mean absolute log of predicted over measured time,
 * minimised by Nelder-Mead over the logs of the terms, each kept in its
 * physical range.  Held-out: LMP_CAL_FOLDS folds by the record's id; each
 * record's held-out error is that of the terms fitted without its fold,
 * taken from the entry lmp-roofline would apply to it (lmp-calibrate(1)).
 * An engine's or a precision's entry fits only the terms its records pay
 * for and keeps the others at the entry it refines (fit_refined). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

enum { NT = 5, MAXEVAL = 2000, RESTARTS = 8 };
enum { LMP_CAL_MIN = 5 }; /* measurements an entry (and a device) needs */
/* the weak prior's weight: a term e-fold from the centre costs PULL / NT,
 * a few tenths of a percent of a typical loss (lmp-calibrate(1)) */
static const double PULL = 1e-3;
/* compute, memory and link fractions, launch_s, step_s: the ranges, and
 * the prior's centre.  Fractions below 0.2 explain a slow path, not a
 * device; the launch floor from zero (graph replay, or kernels lmp counts
 * that an engine fuses) to 50 us (an eager framework's dispatch of the
 * several operators one row stands for); the step from 10 us to 10 ms
 * (vLLM's v0.6.0 profiling found scheduling and output processing took
 * most of a small model's step) (lmp-calibrate(1)). */
static const double lo[NT] = {0.2, 0.2, 0.2, 1e-8, 10e-6};
static const double hi[NT] = {1, 1, 1, 50e-6, 10e-3};
static const double start[NT] = {0.7, 0.7, 0.7, 5e-6, 3e-4};

struct group {
	lmp_calset *s;
	int *idx, n; /* the records fitted */
	lmp_err *e;
	/* the terms fitted, by index into lo[] (u[i] is the log of term
	 * free[i]); the others are held at base's (lmp-calibrate(1) The fit) */
	int nfree, free[NT];
	double base[NT];
};

static void
terms(const struct group *g, const double *u, lmp_tparams *tp)
{
	double x[NT];

	memcpy(x, g->base, sizeof x);
	for (int i = 0; i < g->nfree; i++) {
		int j = g->free[i];
		x[j] = exp(fmin(fmax(u[i], log(lo[j])), log(hi[j])));
	}
	*tp = (lmp_tparams){x[0], x[1], x[2], x[3], x[4], 1};
}

static void
term_values(const lmp_tparams *tp, double *x)
{
	x[0] = tp->compute_fraction;
	x[1] = tp->memory_fraction;
	x[2] = tp->link_fraction;
	x[3] = tp->launch_s;
	x[4] = tp->step_s;
}

static const char *const term_name[NT] = {"compute_fraction", "memory_fraction", "link_fraction", "launch_s", "step_s"};

/* The mean absolute log of predicted over measured time of g's records
 * under tp (NAN: a record could not be predicted). */
static double
data_loss(struct group *g, const lmp_tparams *tp)
{
	double sum = 0, t;

	for (int i = 0; i < g->n; i++) {
		const lmp_calrec *r = &g->s->rec[g->idx[i]];
		if (lmp_cal_predict(r, tp, &t, g->e))
			return NAN;
		sum += fabs(log(t / r->measured));
	}
	return sum / g->n;
}

static double
loss(const double *u, struct group *g)
{
	lmp_tparams tp;
	double l, pull = 0;

	terms(g, u, &tp);
	if (isnan(l = data_loss(g, &tp)))
		return NAN;
	/* a weak pull to the centre keeps a term that no measurement of the
	 * group sees (link_fraction without a layout) there, and chooses
	 * between floors the measurements tell apart only barely */
	for (int i = 0; i < g->nfree; i++) {
		double d = u[i] - log(start[g->free[i]]);
		pull += d * d / NT;
	}
	return l + PULL * pull;
}

/* Nelder-Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2). */
static int
simplex(struct group *g, double *u, double *fu, double step, double tol)
{
	double p[NT + 1][NT], f[NT + 1], c[NT], xr[NT], xe[NT], fr, fe;
	int i, j, k, best, worst, next, evals = 0;
	const int n = g->nfree;

	for (i = 0; i <= n; i++) {
		for (j = 0; j < n; j++)
			p[i][j] = u[j] + (i == j + 1 ? step * (g->free[j] < 3 ? -0.5 : 1.5) : 0);
		if (isnan(f[i] = loss(p[i], g)))
			return -1;
		evals++;
	}
	while (evals < MAXEVAL) {
		best = worst = 0;
		for (i = 1; i <= n; i++) {
			if (f[i] < f[best])
				best = i;
			if (f[i] > f[worst])
				worst = i;
		}
		next = best;
		for (i = 0; i <= n; i++)
			if (i != worst && f[i] >= f[next])
				next = i;
		if (f[worst] - f[best] < tol)
			break;
		for (j = 0; j < n; j++) {
			c[j] = 0;
			for (i = 0; i <= n; i++)
				if (i != worst)
					c[j] += p[i][j] / n;
			xr[j] = c[j] + (c[j] - p[worst][j]);
		}
		if (isnan(fr = loss(xr, g)))
			return -1;
		evals++;
		if (fr < f[best]) {
			for (j = 0; j < n; j++)
				xe[j] = c[j] + 2 * (c[j] - p[worst][j]);
			if (isnan(fe = loss(xe, g)))
				return -1;
			evals++;
			memcpy(p[worst], fe < fr ? xe : xr, sizeof *xr * (size_t)n);
			f[worst] = fe < fr ? fe : fr;
		} else if (fr < f[next]) {
			memcpy(p[worst], xr, sizeof *xr * (size_t)n);
			f[worst] = fr;
		} else {
			for (j = 0; j < n; j++)
				xe[j] = c[j] + 0.5 * ((fr < f[worst] ? xr[j] : p[worst][j]) - c[j]);
			if (isnan(fe = loss(xe, g)))
				return -1;
			evals++;
			if (fe < fmin(fr, f[worst])) {
				memcpy(p[worst], xe, sizeof *xe * (size_t)n);
				f[worst] = fe;
			} else {
				for (k = 0; k <= n; k++) {
					if (k == best)
						continue;
					for (j = 0; j < n; j++)
						p[k][j] = p[best][j] + 0.5 * (p[k][j] - p[best][j]);
					if (isnan(f[k] = loss(p[k], g)))
						return -1;
					evals++;
				}
			}
		}
	}
	best = 0;
	for (i = 1; i <= n; i++)
		if (f[i] < f[best])
			best = i;
	memcpy(u, p[best], sizeof *u * (size_t)n);
	*fu = f[best];
	return 0;
}

/* Nelder-Mead from u, then again from where it stopped while that still
 * gains (a fresh simplex gets out of one that collapsed early along a
 * direction the loss hardly sees). */
static int
descend(struct group *g, double *u, double *fu)
{
	double v[NT], fv;

	if (simplex(g, u, fu, 1, 1e-10))
		return -1;
	for (int r = 0; r < RESTARTS; r++) {
		memcpy(v, u, sizeof v);
		if (simplex(g, v, &fv, 1, 1e-10))
			return -1;
		if (!(fv < *fu - 1e-9)) {
			if (fv < *fu) {
				memcpy(u, v, sizeof v);
				*fu = fv;
			}
			break;
		}
		memcpy(u, v, sizeof v);
		*fu = fv;
	}
	return 0;
}

/* The floors decide between far-apart minima (per-kernel or per-step cost
 * explaining a slow small step), which a simplex from one start does not
 * cross: descend from each pair of floors of a small grid and keep the
 * lowest loss (the first on a tie). */
static const double starts[][2] = {{2e-6, 1e-4}, {2e-6, 3e-3}, {20e-6, 1e-4}, {20e-6, 3e-3}};

static int
fit(struct group *g, lmp_tparams *out)
{
	double u[NT] = {0}, best[NT] = {0}, fu, fbest = INFINITY;

	for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
		for (int i = 0; i < g->nfree; i++) {
			int j = g->free[i];
			u[i] = log(j < 3 ? start[j] : starts[k][j - 3]);
		}
		if (descend(g, u, &fu))
			return -1;
		if (fu < fbest) {
			fbest = fu;
			memcpy(best, u, sizeof u);
		}
	}
	terms(g, best, out);
	return 0;
}

/* Every term fitted. */
static void
all_free(struct group *g)
{
	for (g->nfree = 0; g->nfree < NT; g->nfree++)
		g->free[g->nfree] = g->nfree;
}

/* An entry that refines another (an engine's refines its device's pooled
 * entry, a weight precision's its engine's) keeps a term of the entry it
 * refines (base) unless fitting the term pays for itself: the loss is the
 * scale of a Laplace likelihood, so with n records and k terms fitted the
 * Akaike criterion is 2 (n log L + k) plus a constant.  Backward
 * elimination: from every term fitted, hold the term whose holding raises
 * n log L least, while that rise is under 1 (lmp-calibrate(1) The fit).
 * Each refit is one short Nelder-Mead run, without restarts, from where
 * the last fit stopped: it only has to tell a rise of 1 / n in log L. */
static const double REFIT_STEP = 0.2, REFIT_TOL = 1e-7;

static int
fit_refined(struct group *g, const lmp_tparams *base, unsigned *held, lmp_tparams *out)
{
	double l, lbest = 0, x[NT], u[NT] = {0}, ubest[NT] = {0}, fu;
	lmp_tparams tp;
	int i, m, pick;

	all_free(g);
	term_values(base, g->base);
	*held = 0;
	if (fit(g, out) || isnan(l = data_loss(g, out)))
		return -1;
	while (g->nfree) {
		struct group h = *g;
		pick = -1;
		term_values(out, x);
		for (i = 0; i < g->nfree; i++) {
			for (h.nfree = m = 0; m < g->nfree; m++)
				if (m != i) {
					h.free[h.nfree] = g->free[m];
					u[h.nfree++] = log(x[g->free[m]]);
				}
			if (h.nfree && simplex(&h, u, &fu, REFIT_STEP, REFIT_TOL))
				return -1;
			terms(&h, u, &tp);
			if (isnan(fu = data_loss(&h, &tp)))
				return -1;
			if (pick < 0 || fu < lbest) {
				pick = i;
				lbest = fu;
				memcpy(ubest, u, sizeof u);
			}
		}
		if (g->n * log(fmax(lbest, 1e-12) / fmax(l, 1e-12)) >= 1)
			break;
		*held |= 1u << g->free[pick];
		for (m = pick; m + 1 < g->nfree; m++)
			g->free[m] = g->free[m + 1];
		g->nfree--;
		terms(g, ubest, out);
		l = lbest;
	}
	return 0;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank quantile q of n sorted values. */
static double
quantile(const double *v, int n, double q)
{
	int k = (int)ceil(q * n);

	return v[k < 1 ? 0 : k - 1];
}

void
lmp_calstats_of(double *err, int n, lmp_calstats *st)
{
	double *a = lmp_xmalloc(sizeof *a * (size_t)(n ? n : 1));
	int i;

	st->n = n;
	st->median_abs = st->p90_abs = st->median_signed = 0;
	if (!n) {
		free(a);
		return;
	}
	for (i = 0; i < n; i++)
		a[i] = fabs(err[i]);
	qsort(err, (size_t)n, sizeof *err, cmp_dbl);
	qsort(a, (size_t)n, sizeof *a, cmp_dbl);
	/* the median of an even count: the mean of the middle two */
	st->median_signed = n % 2 ? err[n / 2] : (err[n / 2 - 1] + err[n / 2]) / 2;
	st->median_abs = n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
	st->p90_abs = quantile(a, n, 0.9);
	free(a);
}

/* An entry: a device and an engine (NULL: pooled) with its records. */
struct entry {
	const char *device, *engine;
	int wbits; /* the weight precision class, 0: every one */
	int *idx, n, nsrc;
	lmp_tparams tp, fold_tp[LMP_CAL_FOLDS]; /* fitted on all, and without fold k */
	unsigned held; /* bit j: term j is kept at the parent's (the fit on all records) */
	double *held_err; /* held-out error per record of idx */
};

/* The terms of the entry's records without fold k (k == LMP_CAL_FOLDS:
 * all of them) into tp; held: the terms kept at its parent's. */
static int
fit_group(struct group *g, const struct entry *parent, int k, lmp_tparams *tp, unsigned *held)
{
	if (parent)
		return fit_refined(g, k < LMP_CAL_FOLDS ? &parent->fold_tp[k] : &parent->tp, held, tp);
	all_free(g);
	*held = 0;
	return fit(g, tp);
}

static int
fit_entry(lmp_calset *s, struct entry *en, const struct entry *parent, lmp_err *e)
{
	struct group g = {s, lmp_xmalloc(sizeof(int) * (size_t)en->n), 0, e, 0, {0}, {0}};
	lmp_tparams tp;
	unsigned held;
	double t;
	int k, i, rc = -1;

	en->held_err = lmp_xmalloc(sizeof *en->held_err * (size_t)en->n);
	for (k = 0; k < LMP_CAL_FOLDS; k++) {
		g.n = 0;
		for (i = 0; i < en->n; i++)
			if (s->rec[en->idx[i]].fold != k)
				g.idx[g.n++] = en->idx[i];
		if (g.n == en->n)
			continue; /* nothing held out in this fold */
		if (!g.n) {
			/* every record in one fold: held out against the uncalibrated model */
			tp = (lmp_tparams){1, 1, 1, 0, 0, 0};
		} else if (fit_group(&g, parent, k, &tp, &held)) {
			goto out;
		}
		en->fold_tp[k] = tp;
		for (i = 0; i < en->n; i++) {
			const lmp_calrec *r = &s->rec[en->idx[i]];
			if (r->fold != k)
				continue;
			if (lmp_cal_predict(r, &tp, &t, e))
				goto out;
			en->held_err[i] = t / r->measured - 1;
		}
	}
	memcpy(g.idx, en->idx, sizeof(int) * (size_t)en->n);
	g.n = en->n;
	rc = fit_group(&g, parent, LMP_CAL_FOLDS, &en->tp, &en->held);
out:
	free(g.idx);
	return rc;
}

/* A number as it is (a measured value, as the record gave it). */
static void
exact(lmp_buf *b, double x)
{
	char s[LMP_NUM_STRMAX];
	lmp_num v;

	if (lmp_num_double(x, &v)) {
		lmp_buf_puts(b, "null");
		return;
	}
	lmp_num_str(&v, s);
	lmp_buf_puts(b, s);
}

/* Numbers rounded to 4 significant digits: what a reader needs. */
static void
num(lmp_buf *b, double x)
{
	char s[LMP_NUM_STRMAX];

	snprintf(s, sizeof s, "%.4g", x);
	exact(b, strtod(s, NULL));
}

static void
stats_json(lmp_buf *b, const lmp_calstats *st, int full)
{
	lmp_buf_printf(b, "\"n\":%d,\"median_abs_error\":", st->n);
	num(b, st->median_abs);
	lmp_buf_puts(b, ",\"p90_abs_error\":");
	num(b, st->p90_abs);
	if (full) {
		lmp_buf_puts(b, ",\"median_signed_error\":");
		num(b, st->median_signed);
	}
}

static const char *const metrics[] = {"ttft_s", "tpot_s", "itl_s", "e2e_s", "throughput_tok_s"};
enum { NMETRIC = 5 };

/* The statistics of the errors err[i] of records idx[i] whose metric is m
 * (NULL: all) and device d (NULL: all). */
static void
stats_where(lmp_calset *s, const int *idx, const double *err, int n, const char *m, const char *d, lmp_calstats *st)
{
	double *v = lmp_xmalloc(sizeof *v * (size_t)(n ? n : 1));
	int i, k = 0;

	for (i = 0; i < n; i++)
		if ((!m || !strcmp(s->rec[idx[i]].metric, m)) && (!d || !strcmp(s->rec[idx[i]].device, d)))
			v[k++] = err[i];
	lmp_calstats_of(v, k, st);
	free(v);
}

static void
by_metric(lmp_buf *b, lmp_calset *s, const int *idx, const double *err, int n, const char *d)
{
	lmp_calstats st;
	int first = 1;

	lmp_buf_puts(b, "\"by_metric\":{");
	for (int m = 0; m < NMETRIC; m++) {
		stats_where(s, idx, err, n, metrics[m], d, &st);
		if (!st.n)
			continue;
		lmp_buf_printf(b, "%s\"%s\":{", first ? "" : ",", metrics[m]);
		stats_json(b, &st, 0);
		lmp_buf_putc(b, '}');
		first = 0;
	}
	lmp_buf_putc(b, '}');
}

static int
sources(lmp_calset *s, const int *idx, int n)
{
	int i, j, k = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(s->rec[idx[i]].source, s->rec[idx[j]].source))
				break;
		k += j == i;
	}
	return k;
}

static void
entry_json(lmp_buf *b, lmp_calset *s, const struct entry *en)
{
	lmp_calstats st;
	double *v = lmp_xmalloc(sizeof *v * (size_t)en->n);

	lmp_buf_puts(b, "{\"device\":");
	lmp_json_string(b, en->device);
	lmp_buf_puts(b, ",\"engine\":");
	if (en->engine)
		lmp_json_string(b, en->engine);
	else
		lmp_buf_puts(b, "null");
	if (en->wbits)
		lmp_buf_printf(b, ",\"weight_bits\":%d", en->wbits);
	lmp_buf_puts(b, ",\"terms\":{\"compute_fraction\":");
	num(b, en->tp.compute_fraction);
	lmp_buf_puts(b, ",\"memory_fraction\":");
	num(b, en->tp.memory_fraction);
	lmp_buf_puts(b, ",\"link_fraction\":");
	num(b, en->tp.link_fraction);
	lmp_buf_puts(b, ",\"launch_s\":");
	num(b, en->tp.launch_s);
	lmp_buf_puts(b, ",\"step_s\":");
	num(b, en->tp.step_s);
	lmp_buf_puts(b, ",\"waves\":true}");
	if (en->held) {
		lmp_buf_puts(b, ",\"held\":[");
		for (int j = 0, n = 0; j < NT; j++)
			if (en->held >> j & 1)
				lmp_buf_printf(b, "%s\"%s\"", n++ ? "," : "", term_name[j]);
		lmp_buf_putc(b, ']');
	}
	lmp_buf_printf(b, ",\"measurements\":%d,\"sources\":%d,\"heldout\":{\"method\":\"%d-fold\",",
		en->n, en->nsrc, LMP_CAL_FOLDS);
	memcpy(v, en->held_err, sizeof *v * (size_t)en->n);
	lmp_calstats_of(v, en->n, &st);
	stats_json(b, &st, 1);
	lmp_buf_putc(b, ',');
	by_metric(b, s, en->idx, en->held_err, en->n, NULL);
	lmp_buf_puts(b, "},\"used\":[");
	for (int i = 0; i < en->n; i++) {
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, s->rec[en->idx[i]].id);
	}
	lmp_buf_puts(b, "]}");
	free(v);
}

/* The weight precision classes an engine's entry is split into. */
static const int wclass[3] = {16, 8, 4};

/* Adds and fits the entry of device dev, engine eng (NULL: every engine)
 * and weight class w (0: every one) where it has at least LMP_CAL_MIN
 * records and is not the same records as the entry it refines (an engine
 * of one precision is its engine's entry).  1: added, 0: not, -1: error. */
static int
add_entry(lmp_calset *s, struct entry **en, int *nen, const char *dev, const char *eng, int w, lmp_err *e)
{
	struct entry x = {.device = dev, .engine = eng, .wbits = w, .idx = lmp_xmalloc(sizeof(int) * (size_t)s->nrec)};
	int i, same = -1, parent = -1;

	for (i = 0; i < s->nrec; i++)
		if (!strcmp(s->rec[i].device, dev) && (!eng || !strcmp(s->rec[i].engine, eng)) &&
		    (!w || s->rec[i].wbits == w))
			x.idx[x.n++] = i;
	if (x.n < LMP_CAL_MIN)
		goto skip;
	/* the same records as an entry already made: the same terms and
	 * errors (a device's only engine, an engine's only precision) */
	for (i = 0; i < *nen; i++)
		if ((*en)[i].n == x.n && !memcmp((*en)[i].idx, x.idx, sizeof(int) * (size_t)x.n))
			same = i;
	if (w && same >= 0)
		goto skip;
	x.nsrc = sources(s, x.idx, x.n);
	/* the entry it refines: an engine's, the device's pooled one; a
	 * precision's, its engine's (made before it, lmp_calibrate) */
	for (i = 0; eng && i < *nen; i++) {
		const struct entry *p = &(*en)[i];
		if (!strcmp(p->device, dev) && !p->wbits && (w ? p->engine && !strcmp(p->engine, eng) : !p->engine))
			parent = i;
	}
	*en = lmp_xrealloc(*en, sizeof **en * (size_t)(*nen + 1));
	(*en)[(*nen)++] = x;
	if (same >= 0) {
		(*en)[*nen - 1].tp = (*en)[same].tp;
		memcpy((*en)[*nen - 1].fold_tp, (*en)[same].fold_tp, sizeof x.fold_tp);
		(*en)[*nen - 1].held = (*en)[same].held;
		(*en)[*nen - 1].held_err = lmp_xmalloc(sizeof *x.held_err * (size_t)x.n);
		memcpy((*en)[*nen - 1].held_err, (*en)[same].held_err, sizeof *x.held_err * (size_t)x.n);
		return 1;
	}
	return fit_entry(s, &(*en)[*nen - 1], parent >= 0 ? &(*en)[parent] : NULL, e) ? -1 : 1;
skip:
	free(x.idx);
	return 0;
}

/* Device dev's entries, appended to *en: its pooled entry, then each
 * engine's with 5 or more records, then each of that engine's precisions
 * with 5 or more. */
static int
fit_device(lmp_calset *s, struct entry **en, int *nen, const char *dev, lmp_err *e)
{
	int i, k;

	if (add_entry(s, en, nen, dev, NULL, 0, e) < 0)
		return -1;
	for (k = 0; k < s->nrec; k++) {
		if (strcmp(s->rec[k].device, dev))
			continue;
		for (i = 0; i < *nen; i++)
			if ((*en)[i].engine && !strcmp((*en)[i].device, dev) && !strcmp((*en)[i].engine, s->rec[k].engine))
				break;
		if (i < *nen)
			continue; /* this engine's entries are made */
		if ((i = add_entry(s, en, nen, dev, s->rec[k].engine, 0, e)) < 0)
			return -1;
		for (int w = 0; i && w < 3; w++)
			if (add_entry(s, en, nen, dev, s->rec[k].engine, wclass[w], e) < 0)
				return -1;
	}
	return 0;
}

struct devices {
	lmp_calset *s;
	char **dev;
	struct entry **en;
	int *nen;
};

static void
free_entries(struct entry *en, int n)
{
	for (int k = 0; k < n; k++) {
		free(en[k].idx);
		free(en[k].held_err);
	}
	free(en);
}

/* Device j's entries as bytes: each entry as it is, then its records and
 * held-out errors.  The device and engine names point into the set, which
 * the parent holds at the same addresses (lmp_jobs_run). */
static int
device_run(void *ctx, int j, lmp_buf *out, lmp_err *e)
{
	struct devices *d = ctx;
	struct entry *en = NULL;
	int n = 0, rc = fit_device(d->s, &en, &n, d->dev[j], e);

	for (int k = 0; !rc && k < n; k++) {
		lmp_buf_add(out, (const char *)&en[k], sizeof en[k]);
		lmp_buf_add(out, (const char *)en[k].idx, sizeof *en[k].idx * (size_t)en[k].n);
		lmp_buf_add(out, (const char *)en[k].held_err, sizeof *en[k].held_err * (size_t)en[k].n);
	}
	free_entries(en, n);
	return rc;
}

static int
device_take(void *ctx, int j, const char *p, size_t len, lmp_err *e)
{
	struct devices *d = ctx;
	const char *end = p + len;

	(void)j;
	while (p < end) {
		struct entry x;
		size_t ni, nh;
		if ((size_t)(end - p) < sizeof x)
			return lmp_fail(e, LMP_EXIT_SYSTEM, "a device's fit came back cut short");
		memcpy(&x, p, sizeof x);
		p += sizeof x;
		ni = sizeof *x.idx * (size_t)x.n;
		nh = sizeof *x.held_err * (size_t)x.n;
		if (x.n < 0 || (size_t)(end - p) < ni + nh)
			return lmp_fail(e, LMP_EXIT_SYSTEM, "a device's fit came back cut short");
		x.idx = lmp_xmalloc(ni ? ni : 1);
		memcpy(x.idx, p, ni);
		x.held_err = lmp_xmalloc(nh ? nh : 1);
		memcpy(x.held_err, p + ni, nh);
		p += ni + nh;
		*d->en = lmp_xrealloc(*d->en, sizeof **d->en * (size_t)(*d->nen + 1));
		(*d->en)[(*d->nen)++] = x;
	}
	return 0;
}

/* The text table of make validate: one line per device and overall, then
 * one per metric. */
static void
table_line(lmp_buf *b, const char *what, const lmp_calstats *st)
{
	if (st->n)
		lmp_buf_printf(b, "%-28s %5d %8.1f%% %8.1f%% %+9.1f%%\n", what, st->n, 100 * st->median_abs,
			100 * st->p90_abs, 100 * st->median_signed);
}

int
lmp_calibrate(lmp_calset *s, int table, lmp_buf *out, lmp_calstats *heldout, lmp_err *e)
{
	struct entry *en = NULL;
	int nen = 0, i, j, k, rc = -1, *idx, nall = 0;
	char **devs = lmp_xmalloc(sizeof *devs * (size_t)(s->nrec + 1));
	int ndev = 0;
	double *err;
	lmp_calstats st;

	/* the devices, in the order first met */
	for (i = 0; i < s->nrec; i++) {
		for (j = 0; j < ndev && strcmp(devs[j], s->rec[i].device); j++)
			;
		if (j == ndev)
			devs[ndev++] = lmp_xstrdup(s->rec[i].device);
	}
	/* a device with fewer than 5 measurements is not calibrated */
	for (j = 0; j < ndev; j++) {
		int n = 0;
		for (i = 0; i < s->nrec; i++)
			n += !strcmp(s->rec[i].device, devs[j]);
		if (n >= LMP_CAL_MIN)
			continue;
		for (i = s->nrec - 1; i >= 0; i--) {
			if (strcmp(s->rec[i].device, devs[j]))
				continue;
			char why[256];
			snprintf(why, sizeof why, "too few measurements on %s to calibrate (%d, fewer than %d)", devs[j], n,
				LMP_CAL_MIN);
			lmp_calset_exclude(s, i, lmp_xstrdup(why));
		}
	}
	/* the devices again, less those excluded */
	while (ndev)
		free(devs[--ndev]);
	for (i = 0; i < s->nrec; i++) {
		for (j = 0; j < ndev && strcmp(devs[j], s->rec[i].device); j++)
			;
		if (j == ndev)
			devs[ndev++] = lmp_xstrdup(s->rec[i].device);
	}
	/* per device: the pooled entry, then each engine with 5 or more, then
	 * each weight precision of an engine with 5 or more; the devices share
	 * nothing, so they are fitted in parallel (lmp-calibrate(1)
	 * ENVIRONMENT) and taken back in their order */
	{
		struct devices d = {s, devs, &en, &nen};
		if (lmp_jobs_run(ndev, lmp_jobs_default("LMP_CALIBRATE_JOBS", ndev), device_run, device_take, &d, e))
			goto out;
	}
	/* each record's held-out error from the entry lmp-roofline applies:
	 * its engine's and precision's, else its engine's, else the pooled */
	idx = lmp_xmalloc(sizeof *idx * (size_t)(s->nrec + 1));
	err = lmp_xmalloc(sizeof *err * (size_t)(s->nrec + 1));
	for (i = 0; i < s->nrec; i++) {
		int pooled = -1, own = -1, prec = -1, p;
		for (k = 0; k < nen; k++) {
			if (strcmp(en[k].device, s->rec[i].device))
				continue;
			if (!en[k].engine)
				pooled = k;
			else if (strcmp(en[k].engine, s->rec[i].engine))
				continue;
			else if (!en[k].wbits)
				own = k;
			else if (en[k].wbits == s->rec[i].wbits)
				prec = k;
		}
		k = prec >= 0 ? prec : own >= 0 ? own : pooled;
		for (p = 0; p < en[k].n && en[k].idx[p] != i; p++)
			;
		idx[nall] = i;
		err[nall++] = en[k].held_err[p];
	}
	{
		double *v = lmp_xmalloc(sizeof *v * (size_t)(nall + 1));
		memcpy(v, err, sizeof *v * (size_t)nall);
		lmp_calstats_of(v, nall, heldout);
		free(v);
	}
	if (table == LMP_CAL_RECORDS) {
		/* one line a measurement: what a user reads to see which are off */
		for (i = 0; i < nall; i++) {
			const lmp_calrec *r = &s->rec[idx[i]];
			lmp_buf_puts(out, "{\"id\":");
			lmp_json_string(out, r->id);
			lmp_buf_puts(out, ",\"device\":");
			lmp_json_string(out, r->device);
			lmp_buf_puts(out, ",\"engine\":");
			lmp_json_string(out, r->engine);
			lmp_buf_puts(out, ",\"metric\":");
			lmp_json_string(out, r->metric);
			lmp_buf_puts(out, ",\"measured_s\":");
			exact(out, r->measured);
			lmp_buf_puts(out, ",\"heldout_error\":");
			num(out, err[i]);
			lmp_buf_puts(out, "}\n");
		}
	} else if (table) {
		lmp_buf_printf(out, "%-28s %5s %9s %9s %10s\n", "held-out error", "n", "median", "p90", "signed");
		for (j = 0; j < ndev; j++) {
			stats_where(s, idx, err, nall, NULL, devs[j], &st);
			table_line(out, devs[j], &st);
		}
		for (int m = 0; m < NMETRIC; m++) {
			stats_where(s, idx, err, nall, metrics[m], NULL, &st);
			table_line(out, metrics[m], &st);
		}
		table_line(out, "all", heldout);
		for (i = k = 0; i < s->nex; i++)
			k += !strncmp(s->ex[i].reason, "implausible", 11);
		lmp_buf_printf(out, "measurements used %d, excluded %d (implausible %d)\n", s->nrec, s->nex, k);
	} else {
		lmp_buf_printf(out, "{\"lmp\":\"calibration\",\"version\":1,\"generated_by\":\"lmp-calibrate %s\","
			"\"error\":\"predicted time / measured time - 1, a throughput taken as the time of its tokens; "
			"held out over %d folds by measurement id\",\"entries\":[", LMP_VERSION, LMP_CAL_FOLDS);
		for (k = 0; k < nen; k++) {
			if (k)
				lmp_buf_putc(out, ',');
			entry_json(out, s, &en[k]);
		}
		lmp_buf_puts(out, "],\"excluded\":[");
		for (i = 0; i < s->nex; i++) {
			lmp_buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
			lmp_json_string(out, s->ex[i].id);
			lmp_buf_puts(out, ",\"reason\":");
			lmp_json_string(out, s->ex[i].reason);
			lmp_buf_putc(out, '}');
		}
		lmp_buf_puts(out, "],\"heldout\":{");
		stats_json(out, heldout, 1);
		lmp_buf_putc(out, ',');
		by_metric(out, s, idx, err, nall, NULL);
		lmp_buf_puts(out, ",\"by_device\":{");
		for (j = 0; j < ndev; j++) {
			stats_where(s, idx, err, nall, NULL, devs[j], &st);
			lmp_buf_printf(out, "%s\"%s\":{", j ? "," : "", devs[j]);
			stats_json(out, &st, 1);
			lmp_buf_putc(out, '}');
		}
		lmp_buf_puts(out, "}}}\n");
	}
	free(idx);
	free(err);
	rc = 0;
out:
	free_entries(en, nen);
	while (ndev)
		free(devs[--ndev]);
	free(devs);
	return rc;
}
