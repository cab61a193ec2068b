/* sweepform.c: a sweep's points in closed form along its innermost length.
 *
 * A sweep's innermost list of lengths (seq_len, or cache_len) moves one
 * length with everything else the same.  Along it a point's totals and
 * kernels are polynomials in the length where nothing the engine chooses
 * changes: every polynomial of the model is a polynomial in the length
 * (none of its operations, min, ceil, a division or a condition, reads it:
 * lmp_poly_degree), of degree 2 at most; the length stays in one residue
 * class modulo the period of the KV pages and FlashAttention tiles; and
 * each FlashAttention call keeps its plan and walks its tiles in closed
 * form with the same branches (lmp_attn_sweep_shape).  The points that
 * share all that, in the order the sweep meets them at equal spacing, form
 * a class.  In a class the values of the points are one polynomial of
 * degree 2 in their index: three points, evaluated, give it (as the last
 * value and its first and second differences), two more are evaluated and
 * must agree (CHECKS), and from then on a point is the one before it plus
 * the differences, two additions a value in 64-bit integers.  The rows
 * fold into kernels as they did at the fit, whose rows are the same
 * polynomials (equal at five points); where two kernels' forms may meet
 * (a root of their difference) the point is evaluated, and the fold there
 * may join them.  Anything else (a value not a whole number below 2^59,
 * or a total past 2^62, a form that does not agree, an engine choice that
 * changes, a length off the spacing) is evaluated as at any point.
 *
 * The caller (evaldoc.c, a --totals point of one step) asks lmp_sweepform_point
 * first; where it says 0 it evaluates and folds, and hands the values to
 * lmp_sweepform_record.  LMP_EVAL_NOFORMS evaluates every point: the check
 * that both give the same documents, byte for byte. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "evalslots.h"

#define CLASSES 16
#define CHECKS 2
#define KBIG ((int64_t)1 << 59) /* a kernel's values: a root's discriminant stays inside 128 bits */
#define TBIG ((int64_t)1 << 62) /* the totals' */

enum { FIT, CHECK, READY, NO };
enum { MODE_NONE, MODE_SEQ, MODE_CACHE };

/* Everything of a point but its lengths: the widths, the batch, the
 * engine's choices and the period of its tiles and pages, then every
 * setting of lmp_runtime from w_checkpoint on, as bytes (a setting added
 * there is part of the key without a word here). */
#define TAIL_AT LMP_RUNTIME_SETTINGS_AT
#define TAIL_WORDS ((sizeof(lmp_runtime) - TAIL_AT + 7) / 8)
enum { K_W, K_A, K_KV, K_COUNT, K_PERIOD, K_SIG, K_PAST, K_ONE, K_WIN, K_TAIL, NKEY = K_TAIL + TAIL_WORDS };
#define WINDOWS 16

struct cls {
	int64_t key[NKEY];
	uint64_t hash, used;
	int state, mode, n;
	int64_t s, c, H; /* the last point's lengths; the spacing of the one that moves */
	int nkern, ncomp, nrows;
	int *krep, *kgrp;
	lmp_num *kcount;
	int64_t *pts, *pd; /* FIT: the points recorded, numerators and denominators, 3 x ncomp */
	int64_t *den;    /* from the fit on: each value's denominator (the forms are of den x value) */
	int64_t *b;      /* from the fit on, at the last point: the value, its first and second backward differences */
	int *mov, nmov;  /* the values that move (either difference not 0), */
	int nmovi;       /* from READY the nmovi whole ones first */
	int64_t *mv;     /* READY: theirs, value, first and second difference (3 x nmov) */
	int64_t safe;    /* READY: steps that stay within the bounds, worked out */
	lmp_num *vals;   /* READY: the totals (NV + 1), then each kernel's NV, as numbers */
	int64_t k;       /* READY: points since */
	int64_t *meet;   /* READY: the points (k) where two kernels' forms may meet, ascending */
	int nmeet, imeet;
	/* READY: the kernels as the time model reads them (lmp_sweepform_tk),
	 * where tk_ok: filled at a point of the class and kept since, each
	 * whole value that moves through tkp (a member of tk, or a sink), each
	 * gemm's m from its m x calls (the kernels in gk) */
	struct lmp_tkernel *tk;
	double **tkp, sink;
	int *gk, ngk, tk_ok;
	uint64_t tk_gen;
};

struct lmp_sweepform {
	int off;    /* LMP_EVAL_NOFORMS, or given up on (lmp_sweepform_point) */
	int deg[3]; /* per mode: 1 every polynomial of degree 2 at most in the length, -1 not, 0 not yet known */
	struct cls cls[CLASSES];
	uint64_t clock;
	struct cls *pend; /* the class of the point being evaluated, to record */
	struct cls *fold_of; /* the class whose fold the model holds, where m->kfold_set is 0 */
	struct cls *cur;  /* the class of the point formed last, until the next point */
	lmp_err quiet;
	long long formed, asked; /* points formed, points asked about */
	long long classes; /* classes started */
	int nwin;          /* the model's sliding windows (lmp_poly_windows), -1 not known */
	int64_t win[WINDOWS];
};

static void
cls_free(struct cls *c)
{
	free(c->krep);
	free(c->kgrp);
	free(c->kcount);
	free(c->pts);
	free(c->pd);
	free(c->den);
	free(c->b);
	free(c->mov);
	free(c->mv);
	free(c->vals);
	free(c->meet);
	free(c->tk);
	free(c->tkp);
	free(c->gk);
}

void
lmp_sweepform_counts(const lmp_model *m, long long *formed, long long *asked)
{
	*formed = m->sf ? m->sf->formed : 0;
	*asked = m->sf ? m->sf->asked : 0;
}

void
lmp_sweepform_free(lmp_model *m)
{
	if (!m->sf)
		return;
	for (int i = 0; i < CLASSES; i++)
		cls_free(&m->sf->cls[i]);
	free(m->sf);
	m->sf = NULL;
}

/* Every polynomial of the model (rows, their gemm and collective bytes,
 * the totals) is one of degree 2 at most in the length mode moves. */
static int
degree_ok(lmp_model *m, int mode)
{
	int vdeg[LMP_NVARS] = {0}, d = 0;

	if (mode == MODE_SEQ) {
		vdeg[LMP_V_SEQ_LEN] = vdeg[LMP_V_TOKENS] = vdeg[LMP_V_KV_TOKENS] = 1;
		vdeg[LMP_V_QK_PAIRS] = 2;
	} else {
		vdeg[LMP_V_CACHE_LEN] = vdeg[LMP_V_KV_TOKENS] = vdeg[LMP_V_CACHED_TOKENS] = 1;
		vdeg[LMP_V_QK_PAIRS] = vdeg[LMP_V_ABSORBED_KV_TOKENS] = 1;
	}
	for (int i = 0; i < m->nrows && d >= 0 && d <= 2; i++) {
		const lmp_row *r = &m->rows[i];
		int a = lmp_poly_degree(m->prog, (const lmp_poly *const *)r->poly, LMP_NKINDS, vdeg);
		int g = lmp_poly_degree(m->prog, (const lmp_poly *const *)r->gemm, LMP_NGEMM, vdeg);
		int c = lmp_poly_degree(m->prog, (const lmp_poly *const *)&r->coll_bytes, 1, vdeg);
		if (a < 0 || g < 0 || c < 0)
			d = -1;
		else
			d = a > d ? a : d, d = g > d ? g : d, d = c > d ? c : d;
	}
	if (d >= 0 && d <= 2) {
		const lmp_poly *t[LMP_NKINDS + 2];
		memcpy(t, m->total, sizeof m->total);
		t[LMP_NKINDS] = m->active;
		t[LMP_NKINDS + 1] = m->ncoll ? m->coll_total : NULL;
		int a = lmp_poly_degree(m->prog, t, LMP_NKINDS + 2, vdeg);
		d = a < 0 ? -1 : a > d ? a : d;
	}
	return d >= 0 && d <= 2 ? 1 : -1;
}

static uint64_t
hash_key(const int64_t *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < NKEY; i++)
		h = (h ^ (uint64_t)k[i]) * 1099511628211ULL;
	return h;
}

/* A layout's stage sums a point has: pp x NS, none without a layout. */
static inline int
npar(const lmp_model *m)
{
	return m->par ? m->pp * NS : 0;
}

/* The bound of value i of a class: the kernels' (KBIG), else the totals'
 * and stage sums' (TBIG). */
static inline int64_t
lim_of(const struct cls *c, int i)
{
	return i > NV && i < NV + 1 + c->nkern * NV ? KBIG : TBIG;
}

/* The class starts again at this point (its first, to record). */
static int
restart(struct lmp_sweepform *sf, struct cls *c, const int64_t *key, uint64_t h, int64_t s, int64_t cache)
{
	memcpy(c->key, key, sizeof c->key);
	c->hash = h;
	c->used = ++sf->clock;
	c->state = FIT;
	c->mode = MODE_NONE;
	c->n = 0;
	c->s = s, c->c = cache, c->H = 0;
	sf->pend = c;
	return 0;
}

/* One step on: b1 += b2, b0 += b1 for the values that move; 0 where a
 * value leaves its bound (the class is evaluated from then on). */
static int
advance(struct cls *c)
{
	int64_t *b0 = c->b, *b1 = b0 + c->ncomp, *b2 = b1 + c->ncomp;

	for (int q = 0; q < c->nmov; q++) {
		int i = c->mov[q];
		int64_t lim = lim_of(c, i);
		if (__builtin_add_overflow(b1[i], b2[i], &b1[i]) || __builtin_add_overflow(b0[i], b1[i], &b0[i]) ||
		    b0[i] >= lim || b0[i] <= -lim || b1[i] >= lim || b1[i] <= -lim)
			return 0;
	}
	return 1;
}

/* A value of a point: exact, its numerator below lim and its
 * denominator below 2^20 (a fused consumer reads all but the last of n
 * layers' outputs: (n - 1) / n of a whole number). */
static inline __attribute__((always_inline)) int
take(const lmp_num *v, int64_t lim, int64_t *x, int64_t *d)
{
	if (!v->exact || v->n >= lim || v->n <= -lim || v->d >= (lmp_i128)1 << 20)
		return 0;
	*x = (int64_t)v->n;
	*d = (int64_t)v->d;
	return 1;
}

/* The point's values in the order of a class: the totals, each kernel's
 * first row's, then a layout's stage sums (numerators below 2^62, 2^59
 * and 2^62). */
static int
gather(const lmp_model *m, const lmp_num *rows, const lmp_num *tot, const lmp_num *par, int64_t *x, int64_t *d)
{
	int i = 0;

	for (int k = 0; k <= NV; k++, i++)
		if (!take(&tot[k], TBIG, &x[i], &d[i]))
			return 0;
	for (int j = 0; j < m->nkern; j++)
		for (int k = 0; k < NV; k++, i++)
			if (!take(&rows[m->krep[j] * NV + k], KBIG, &x[i], &d[i]))
				return 0;
	for (int k = 0; k < npar(m); k++, i++)
		if (!take(&par[k], TBIG, &x[i], &d[i]))
			return 0;
	return 1;
}

/* x / d as a multiple of 1 / den, within its bound: 0 where not. */
static inline __attribute__((always_inline)) int
scaled(const struct cls *c, int i, int64_t x, int64_t d, int64_t *out)
{
	int64_t lim = lim_of(c, i);

	return c->den[i] % d == 0 && !__builtin_mul_overflow(x, c->den[i] / d, out) && *out < lim && *out > -lim;
}

static int
same_fold(const lmp_model *m, const struct cls *c)
{
	if (m->nkern != c->nkern || m->nrows != c->nrows || memcmp(m->krep, c->krep, sizeof *c->krep * (size_t)c->nkern) ||
	    memcmp(m->kgrp, c->kgrp, sizeof *c->kgrp * (size_t)c->nrows))
		return 0;
	for (int j = 0; j < c->nkern; j++)
		if (!lmp_num_eq(&m->kcount[j], &c->kcount[j]))
			return 0;
	return 1;
}

static void
keep_fold(const lmp_model *m, struct cls *c)
{
	c->nkern = m->nkern;
	c->nrows = m->nrows;
	c->ncomp = NV + 1 + m->nkern * NV + npar(m);
	c->krep = lmp_xrealloc(c->krep, sizeof *c->krep * (size_t)(c->nkern + 1));
	c->kgrp = lmp_xrealloc(c->kgrp, sizeof *c->kgrp * (size_t)(c->nrows + 1));
	c->kcount = lmp_xrealloc(c->kcount, sizeof *c->kcount * (size_t)(c->nkern + 1));
	memcpy(c->krep, m->krep, sizeof *c->krep * (size_t)c->nkern);
	memcpy(c->kgrp, m->kgrp, sizeof *c->kgrp * (size_t)c->nrows);
	memcpy(c->kcount, m->kcount, sizeof *c->kcount * (size_t)c->nkern);
	c->pts = lmp_xrealloc(c->pts, sizeof *c->pts * 3 * (size_t)c->ncomp);
	c->pd = lmp_xrealloc(c->pd, sizeof *c->pd * 3 * (size_t)c->ncomp);
	c->den = lmp_xrealloc(c->den, sizeof *c->den * (size_t)c->ncomp);
	c->b = lmp_xrealloc(c->b, sizeof *c->b * 3 * (size_t)c->ncomp);
	c->mov = lmp_xrealloc(c->mov, sizeof *c->mov * (size_t)c->ncomp);
	c->vals = lmp_xrealloc(c->vals, sizeof *c->vals * (size_t)c->ncomp);
	c->tk = lmp_xrealloc(c->tk, sizeof *c->tk * (size_t)(c->nkern + 1));
	c->tk_ok = 0;
}

/* The integers t >= 1 with a + b t + c t (t + 1) / 2 = 0 (the
 * difference of two forms t points on), into out: how many, or -1 where
 * 128 bits do not hold the discriminant. */
static int
roots(lmp_i128 a, lmp_i128 b, lmp_i128 c, int64_t out[2])
{
	/* c t^2 + (c + 2 b) t + 2 a = 0 */
	lmp_i128 A = c, B, C, D, AC, r, t[2];
	int n = 0, nt = 0;

	if (__builtin_mul_overflow(b, (lmp_i128)2, &B) || __builtin_add_overflow(B, c, &B) ||
	    __builtin_mul_overflow(a, (lmp_i128)2, &C) || __builtin_mul_overflow(B, B, &D) ||
	    __builtin_mul_overflow(A, C, &AC) || __builtin_mul_overflow(AC, (lmp_i128)4, &AC) ||
	    __builtin_sub_overflow(D, AC, &D))
		return -1;
	/* (r + 1)^2 below stays inside 128 bits */
	if (D >= (lmp_i128)1 << 124)
		return -1;
	if (!A) {
		if (B && C % B == 0)
			t[nt++] = -C / B;
	} else if (D >= 0) {
		r = (lmp_i128)sqrtl((long double)D);
		while (r > 0 && r * r > D)
			r--;
		while ((r + 1) * (r + 1) <= D)
			r++;
		if (r * r == D) {
			if ((-B + r) % (2 * A) == 0)
				t[nt++] = (-B + r) / (2 * A);
			if (r && (-B - r) % (2 * A) == 0)
				t[nt++] = (-B - r) / (2 * A);
		}
	}
	for (int i = 0; i < nt; i++)
		if (t[i] >= 1 && t[i] <= ((lmp_i128)1 << 41))
			out[n++] = (int64_t)t[i];
	return n;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The points ahead where two kernels may fold into one: where the first
 * number the fold tells them apart by that is not the same form in both
 * comes out equal (every root of their difference; a superset of the
 * points where all of them are).  -1 where a root is out of reach. */
static int
find_meets(struct cls *c)
{
	const int64_t *b[3] = {c->b, c->b + c->ncomp, c->b + 2 * c->ncomp};
	lmp_i128 e[3];
	int64_t t[2];
	int cap = 0, n;

	c->nmeet = c->imeet = 0;
	c->k = 0;
	for (int x = 0; x < c->nkern; x++)
		for (int y = x + 1; y < c->nkern; y++)
			for (int q = 0; q < KD_NNUMS; q++) {
				int i = NV + 1 + x * NV + kd_nums[q], j = NV + 1 + y * NV + kd_nums[q], same = 1;
				/* b_i / den_i = b_j / den_j where den_j b_i = den_i b_j */
				for (int k = 0; k < 3; k++) {
					e[k] = (lmp_i128)c->den[j] * b[k][i] - (lmp_i128)c->den[i] * b[k][j];
					same &= !e[k];
				}
				if (same)
					continue;
				if ((n = roots(e[0], e[1], e[2], t)) < 0)
					return -1;
				for (int r = 0; r < n; r++) {
					if (c->nmeet == cap) {
						cap = cap ? 2 * cap : 8;
						c->meet = lmp_xrealloc(c->meet, sizeof *c->meet * (size_t)cap);
					}
					c->meet[c->nmeet++] = t[r];
				}
				break;
			}
	if (c->nmeet)
		qsort(c->meet, (size_t)c->nmeet, sizeof *c->meet, cmp64);
	return 0;
}

/* The steps on from the last point over which every value that moves
 * stays below its bound: |v + t d + t (t + 1) / 2 h| <= |v| + t |d| +
 * t (t + 1) / 2 |h| (which bounds the first difference too), worked out
 * in long double less two steps, at most 2^20. */
static int64_t
safe_steps(const struct cls *c)
{
	const int64_t *m0 = c->mv, *m1 = m0 + c->nmov, *m2 = m1 + c->nmov;
	long double best = (long double)((int64_t)1 << 20);

	for (int q = 0; q < c->nmov; q++) {
		long double lim = (long double)lim_of(c, c->mov[q]);
		long double v = fabsl((long double)m0[q]), d = fabsl((long double)m1[q]), h = fabsl((long double)m2[q]);
		long double a = h / 2, b = d + h / 2, k = v - lim, t;
		/* a t^2 + b t + k < 0 */
		if (k >= 0)
			return 0;
		t = a > 0 ? (-b + sqrtl(b * b - 4 * a * k)) / (2 * a) : b > 0 ? -k / b : best;
		if (t < best)
			best = t;
	}
	return best < 2 ? 0 : (int64_t)best - 2;
}

/* The checks passed: the forms are used from the next point on.  The
 * values that move are kept apart, the whole ones first.  A gemm's
 * numbers are whole (gemms_hold reads them as such), its calls the same
 * at every point and above 0 (so m x calls has m's sign) and its row no
 * attention FlashAttention recounts (its FLOPs the row's own, which
 * gemm_eval compares with); else the class is evaluated. */
static void
ready(const lmp_model *m, struct cls *c)
{
	int64_t *m0, *m1, *m2;
	int q, w = 0;

	for (int j = 0; j < c->nkern; j++) {
		const lmp_row *r = &m->rows[c->krep[j]];
		int at = NV + 1 + j * NV, calls = at + V_GEMM_CALLS;
		if (r->gemm[0] &&
		    (c->den[at + V_GEMM_MC] != 1 || c->den[at + V_GEMM_N] != 1 || c->den[at + V_GEMM_K] != 1 ||
			    c->den[calls] != 1 || c->den[at + LMP_K_FLOPS] != 1 || c->b[calls] <= 0 ||
			    c->b[c->ncomp + calls] || c->b[2 * c->ncomp + calls] || r->attn)) {
			c->state = NO;
			return;
		}
	}
	if (find_meets(c)) {
		c->state = NO;
		return;
	}
	c->state = READY;
	c->tk_ok = 0;
	for (int i = 0; i < c->ncomp; i++)
		c->vals[i] = c->den[i] == 1 ? lmp_num_int(c->b[i]) : lmp_num_frac(c->b[i], c->den[i]);
	for (q = 0; q < c->nmov; q++)
		if (c->den[c->mov[q]] == 1) {
			int t = c->mov[w];
			c->mov[w++] = c->mov[q];
			c->mov[q] = t;
		}
	c->nmovi = w;
	c->mv = lmp_xrealloc(c->mv, sizeof *c->mv * 3 * (size_t)(c->nmov + 1));
	m0 = c->mv, m1 = m0 + c->nmov, m2 = m1 + c->nmov;
	for (q = 0; q < c->nmov; q++) {
		int i = c->mov[q];
		m0[q] = c->b[i], m1[q] = c->b[c->ncomp + i], m2[q] = c->b[2 * c->ncomp + i];
	}
	c->safe = safe_steps(c);
	/* the fit's points are done with (a sweep keeps up to CLASSES classes) */
	free(c->pts);
	free(c->pd);
	c->pts = c->pd = NULL;
}

/* The kept kernels a step on: a whole value as evaldoc.c's as_read reads
 * it (its 64-bit integer's double), a gemm's m as m x calls over calls
 * where that divides.  A fraction of a kernel's (its text read back) or an
 * m that does not divide: filled again at the point (tk_ok 0). */
static void
step_tk(struct cls *c)
{
	const int64_t *m0 = c->mv;

	for (int q = 0; q < c->nmovi; q++)
		*c->tkp[q] = (double)m0[q];
	for (int q = c->nmovi; q < c->nmov; q++)
		if (c->tkp[q] != &c->sink)
			c->tk_ok = 0;
	for (int g = 0; g < c->ngk; g++) {
		const lmp_num *v = &c->vals[NV + 1 + c->gk[g] * NV];
		int64_t mc = (int64_t)v[V_GEMM_MC].n, calls = (int64_t)v[V_GEMM_CALLS].n;
		if (mc % calls)
			c->tk_ok = 0;
		else
			c->tk[c->gk[g]].m = (double)(mc / calls);
	}
}

/* One step on at READY: no value leaves its bound before c->safe runs
 * out, then it is worked out again from where the values are. */
static int
step(struct cls *c)
{
	int64_t *restrict m0 = c->mv, *restrict m1 = m0 + c->nmov, *restrict m2 = m1 + c->nmov;
	int n = c->nmov;

	if (!c->safe && !(c->safe = safe_steps(c)))
		return 0;
	c->safe--;
	for (int q = 0; q < n; q++) {
		m1[q] += m2[q];
		m0[q] += m1[q];
	}
	for (int q = 0; q < c->nmovi; q++)
		c->vals[c->mov[q]].n = m0[q];
	for (int q = c->nmovi; q < c->nmov; q++)
		c->vals[c->mov[q]] = lmp_num_frac(m0[q], c->den[c->mov[q]]);
	if (c->tk_ok)
		step_tk(c);
	return 1;
}

/* The gemm a kernel declares stays within its FLOPs and is not negative
 * (gemm_eval's checks; where not, the point is evaluated and says so). */
static int
gemms_hold(const lmp_model *m, const struct cls *c)
{
	for (int j = 0; j < c->nkern; j++) {
		const lmp_num *v = &c->vals[NV + 1 + j * NV];
		int64_t t, mc = (int64_t)v[V_GEMM_MC].n, n = (int64_t)v[V_GEMM_N].n, k = (int64_t)v[V_GEMM_K].n;
		if (!m->rows[c->krep[j]].gemm[0])
			continue;
		if (mc < 0 || n < 0 || k < 0 || v[V_GEMM_CALLS].n < 0 || __builtin_mul_overflow(mc, n, &t) ||
		    __builtin_mul_overflow(t, k, &t) || __builtin_mul_overflow(t, (int64_t)2, &t) || t > v[LMP_K_FLOPS].n)
			return 0;
	}
	return 1;
}

int
lmp_sweepform_point(lmp_model *m, const lmp_runtime *rt, int past, const lmp_num **tot, const lmp_num **kv,
	const lmp_num **par)
{
	struct lmp_sweepform *sf = m->sf;
	const lmp_query *q = &rt->queries[0];
	int64_t key[NKEY], P, x, dx;
	uint64_t sig, h;
	struct cls *c = NULL, *lru = NULL;
	int mode = MODE_NONE;

	if (!sf) {
		sf = m->sf = lmp_xcalloc(1, sizeof *sf);
		sf->off = getenv("LMP_EVAL_NOFORMS") != NULL;
		/* a window whose W is no constant leaves its aggregates no
		 * polynomial (lmp_poly_degree): no side to keep */
		if ((sf->nwin = lmp_poly_windows(m->prog, sf->win, WINDOWS)) < 0)
			sf->nwin = 0;
	}
	sf->pend = NULL;
	sf->cur = NULL;
	sf->asked++;
	if (sf->off || rt->nqueries != 1 || rt->w_checkpoint || m->nscaled)
		return 0;
	/* an error here is the evaluation's to report, as it would */
	sf->quiet.status = 0;
	if (lmp_attn_sweep_shape(m, rt, &sig, &P, &sf->quiet) <= 0)
		return 0;
	key[K_W] = rt->w_bit, key[K_A] = rt->a_bit, key[K_KV] = rt->kv_bit, key[K_COUNT] = q->count;
	key[K_PERIOD] = P, key[K_SIG] = (int64_t)sig, key[K_PAST] = past, key[K_ONE] = q->seq_len == 1;
	/* the side of each window's mins (polyeval.c window): a window's
	 * aggregates are polynomials in the lengths on one side */
	key[K_WIN] = 0;
	for (int i = 0; i < sf->nwin; i++)
		key[K_WIN] |= (int64_t)(q->cache_len < sf->win[i] - 1) << 2 * i |
			(int64_t)(q->cache_len + q->seq_len < sf->win[i] - 1) << (2 * i + 1);
	key[NKEY - 1] = 0;
	memcpy(&key[K_TAIL], (const char *)rt + TAIL_AT, sizeof(lmp_runtime) - TAIL_AT);
	h = hash_key(key);
	for (int i = 0; i < CLASSES && !c; i++) {
		struct cls *t = &sf->cls[i];
		if (!t->used || t->hash != h || memcmp(t->key, key, sizeof key))
			continue;
		/* the same class: the other length the same, this one in its residue class */
		if (t->mode != MODE_CACHE && q->cache_len == t->c && q->seq_len != t->s && (q->seq_len - t->s) % P == 0)
			c = t, mode = MODE_SEQ;
		else if (t->mode != MODE_SEQ && q->seq_len == t->s && q->cache_len != t->c && (q->cache_len - t->c) % P == 0)
			c = t, mode = MODE_CACHE;
	}
	if (!c) {
		/* A class costs its five points evaluated and its forms worked
		 * out (about as much again): a sweep whose classes form fewer
		 * than 3 points each on average (their period long against the
		 * spacing, windows and limits cutting them short) is evaluated
		 * from its 33rd class on.  Either way the documents are the
		 * same. */
		if (++sf->classes > 32 && sf->formed < 3 * sf->classes) {
			sf->off = 1;
			return 0;
		}
		/* a new class, in place of the one used least lately */
		for (int i = 0; i < CLASSES; i++)
			if (!lru || sf->cls[i].used < lru->used)
				lru = &sf->cls[i];
		return restart(sf, lru, key, h, q->seq_len, q->cache_len);
	}
	c->used = ++sf->clock;
	x = mode == MODE_SEQ ? q->seq_len : q->cache_len;
	dx = x - (mode == MODE_SEQ ? c->s : c->c);
	if (c->mode == MODE_NONE) {
		/* the second point: which length moves, and by how much */
		if (c->state == FIT && c->n != 1)
			return restart(sf, c, key, h, q->seq_len, q->cache_len);
		if (!sf->deg[mode])
			sf->deg[mode] = degree_ok(m, mode);
		c->mode = mode;
		c->H = dx;
		if (sf->deg[mode] < 0)
			c->state = NO;
	} else if (dx != c->H) {
		return restart(sf, c, key, h, q->seq_len, q->cache_len);
	}
	c->s = q->seq_len, c->c = q->cache_len;
	switch (c->state) {
	case FIT:
		sf->pend = c;
		return 0;
	case CHECK:
	case READY:
		/* one step on: a check's point is then evaluated and compared */
		if (!(c->state == CHECK ? advance(c) : step(c))) {
			c->state = NO;
			return 0;
		}
		if (c->state == CHECK) {
			sf->pend = c;
			return 0;
		}
		c->k++;
		while (c->imeet < c->nmeet && c->meet[c->imeet] < c->k)
			c->imeet++;
		if ((c->imeet < c->nmeet && c->meet[c->imeet] == c->k) || !gemms_hold(m, c))
			return 0;
		/* the fold of the class, unless the model holds it (a point
		 * folded since sets kfold_set); the next fold starts afresh */
		if (m->kfold_set || sf->fold_of != c) {
			m->nkern = c->nkern;
			memcpy(m->krep, c->krep, sizeof *c->krep * (size_t)c->nkern);
			memcpy(m->kgrp, c->kgrp, sizeof *c->kgrp * (size_t)c->nrows);
			memcpy(m->kcount, c->kcount, sizeof *c->kcount * (size_t)c->nkern);
			m->kfold_set = 0;
			sf->fold_of = c;
		}
		sf->formed++;
		sf->cur = c;
		*tot = c->vals;
		*kv = c->vals + NV + 1;
		*par = m->par ? c->vals + NV + 1 + c->nkern * NV : NULL;
		return 1;
	default:
		return 0;
	}
}

void
lmp_sweepform_record(lmp_model *m, const lmp_num *rows, const lmp_num *tot, const lmp_num *par)
{
	struct lmp_sweepform *sf = m->sf;
	struct cls *c = sf ? sf->pend : NULL;
	int64_t *x, *d, *b0, *b1, *b2, v[3];
	int nc;

	if (!c)
		return;
	sf->pend = NULL;
	if (c->state == NO)
		return;
	if (!c->n && c->state == FIT) {
		keep_fold(m, c);
	} else if (!same_fold(m, c)) {
		/* it folds otherwise: the class starts again here */
		keep_fold(m, c);
		c->state = FIT;
		c->n = 0;
	}
	nc = c->ncomp;
	/* a check's point goes where the fit's first was (done with) */
	x = &c->pts[c->state == FIT ? (size_t)c->n * (size_t)nc : 0];
	d = &c->pd[c->state == FIT ? (size_t)c->n * (size_t)nc : 0];
	if (!gather(m, rows, tot, par, x, d)) {
		c->state = NO;
		return;
	}
	b0 = c->b, b1 = b0 + nc, b2 = b1 + nc;
	if (c->state == CHECK) {
		for (int i = 0; i < nc; i++)
			if (!scaled(c, i, x[i], d[i], &v[0]) || v[0] != b0[i]) {
				c->state = NO;
				return;
			}
		if (++c->n == CHECKS)
			ready(m, c);
		return;
	}
	if (++c->n < 3)
		return;
	/* the form of den x value (den: the three points' denominators'
	 * least common multiple): the last value and its differences */
	c->nmov = 0;
	for (int i = 0; i < nc; i++) {
		int64_t l = c->pd[i];
		for (int k = 1; k < 3; k++)
			l = l / lmp_gcd64(l, c->pd[(size_t)k * nc + i]) * c->pd[(size_t)k * nc + i];
		c->den[i] = l;
		for (int k = 0; k < 3; k++)
			if (l >= (int64_t)1 << 20 || !scaled(c, i, c->pts[(size_t)k * nc + i], c->pd[(size_t)k * nc + i], &v[k])) {
				c->state = NO;
				return;
			}
		b0[i] = v[2];
		b1[i] = v[2] - v[1];
		if (__builtin_sub_overflow(v[2] - v[1], v[1] - v[0], &b2[i])) {
			c->state = NO;
			return;
		}
		if (b1[i] || b2[i])
			c->mov[c->nmov++] = i;
	}
	c->state = CHECK;
	c->n = 0;
}

struct lmp_tkernel *
lmp_sweepform_tk(lmp_model *m, uint64_t *gen, int *fill)
{
	struct cls *c = m->sf ? m->sf->cur : NULL;

	if (!c)
		return NULL;
	*fill = !c->tk_ok;
	*gen = c->tk_gen;
	return c->tk;
}

/* Which member of a kernel's lmp_tkernel each of its values is (-1 none):
 * hand_point's reading in evaldoc.c. */
static double *
tk_member(struct lmp_tkernel *k, int slot)
{
	switch (slot) {
	case LMP_K_FLOPS:
		return &k->flops;
	case LMP_K_READS:
		return &k->reads;
	case LMP_K_WRITES:
		return &k->writes;
	case LMP_K_INTERMEDIATES:
		return &k->inter;
	case V_GEMM_N:
		return k->gemm ? &k->n : NULL;
	case V_GEMM_K:
		return k->gemm ? &k->k : NULL;
	case V_COLL:
		return k->coll ? &k->cbytes : NULL;
	default:
		return NULL;
	}
}

uint64_t
lmp_sweepform_tk_filled(lmp_model *m)
{
	static uint64_t gens; /* unique across models: a time model keeps the last it saw */
	struct cls *c = m->sf->cur;

	c->tkp = lmp_xrealloc(c->tkp, sizeof *c->tkp * (size_t)(c->nmov + 1));
	c->gk = lmp_xrealloc(c->gk, sizeof *c->gk * (size_t)(c->nkern + 1));
	c->ngk = 0;
	for (int q = 0; q < c->nmov; q++) {
		int i = c->mov[q] - (NV + 1);
		double *p = i < 0 || i >= c->nkern * NV ? NULL : tk_member(&c->tk[i / NV], i % NV);
		c->tkp[q] = p ? p : &c->sink;
	}
	for (int j = 0; j < c->nkern; j++) {
		int at = NV + 1 + j * NV + V_GEMM_MC;
		/* ready(): a gemm's values are whole, its calls the same and above 0 */
		if (c->tk[j].gemm && (c->b[c->ncomp + at] || c->b[2 * c->ncomp + at]))
			c->gk[c->ngk++] = j;
	}
	c->tk_ok = 1;
	return c->tk_gen = ++gens;
}
