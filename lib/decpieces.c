/* decpieces.c: a decode phase's per-step work in closed form.
 *
 * Step s of a decode phase (s = 0 the first, over a cache of off - 1
 * tokens) does work that is, per quantity, a closed form in s over a few
 * pieces of steps:
 *   q(s) = q0 + d (s - first) + j (K(s) - K(first)) + h (H(s) - H(first)),
 *   first <= s <= last
 * with K(s) = ceil((s + off) / block), the KV blocks a sequence holds after
 * step s where the cache is paged (block > 1), else j = 0, and H(s) =
 * floor((s + off2) / per2) a second staircase (a sliding window's first
 * K/V tile under FlashAttention), else h = 0.  Attention grows by the same
 * work a key (d), a sliding window stops the growth once full (a second
 * piece, d = 0), pages add a block's worth at each boundary (j), a
 * window's start leaving a K/V tile takes a tile's worth off (h).
 *
 * The pieces are found from the steps' own values (the caller evaluates a
 * step, all its quantities at once).  The steps are first cut where the
 * caller's shape changes (the attention kernels' choices: their split
 * counts are not monotone in the context, so a form can come back after
 * steps of another, which bisection cannot see); the shape is asked only
 * where the caller says it may change.  Within a shape each piece is
 * fitted on its first steps (two, or with pages the first pair inside a
 * block and the first pair across a boundary), its end is the last step
 * that still agrees, found by bisection (a window or chunk boundary
 * changes the form for good once crossed), and it is checked at every step
 * where it is at most CHECK_ALL long, else at its ends, both sides of its
 * first and last block boundaries (and the second staircase's) and
 * CHECK_SPREAD steps spread over it;
 * where the check meets a step that does not agree, the piece is cut
 * before it.  A shape that comes back (a split count going back and
 * forth, a window's first tile moving on) shares the form (d, j, h) of the
 * last piece fitted and checked in it: a piece of it takes its first
 * step's values and is checked on the pairs a fit measures the terms on
 * and at its last step (reuse), about five steps where fitting costs
 * tens.  Values are kept as 64-bit integers where they are whole and
 * small (lmp_vrows).
 * Anything else (an inexact value, a form that fails a check, more steps
 * evaluated than the phase has plus 1024, pieces and forms past MAXVALUES
 * values, 64 MiB) is "not this shape": the caller evaluates every step
 * instead. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAXVALUES ((int64_t)1 << 23)
#define CHECK_ALL 32
#define CHECK_SPREAD 8
#define FORMS 64

struct find {
	lmp_dstep_fn at;
	lmp_dshape_fn shape;
	void *ctx;
	int64_t steps, block, off;
	int nc;
	int64_t evals;  /* steps evaluated so far: past the phase's steps and 1024 more, summing them is cheaper */
	int64_t lim;    /* the piece being found ends before this step (its shape's end) */
	int64_t seg;    /* the end of the shape last scanned (0: none yet) */
	/* the shape last asked where the one before it ended (the next
	 * shape's own, which its scan then starts from): step (-1: none),
	 * hash and next step it may change */
	int64_t pstep, pnext;
	uint64_t psig;
	lmp_dpieces *p;
	lmp_err *e;
	/* piece ci's form as fitted (fits counts the fits) in 64 bits, for
	 * the components whose every term is a whole number below 2^62, by
	 * component lists (compact): what agrees reads at every step it
	 * checks, a sixth of the lmp_nums */
	int64_t fits, cfit;
	int ci;
	int nk, nv, ns;
	int *kc, *vc, *sc;
	int64_t *kv, *c64;
	/* the steps evaluated lately, each in the slot of its step modulo
	 * nslots: a piece's fit, the run of steps that checks it and the
	 * check's first steps are mostly the same ones */
	int nslots;
	int64_t *ckey;
	lmp_num *cval;
	lmp_num *fv; /* the form being fitted: d, j, h (3 nc) */
	/* the shape of the segment shape_end last found (new: it starts
	 * there), and per shape seen the last piece fitted and checked in
	 * full: FlashAttention's split count goes back and forth between a
	 * few values as the context grows, and a shape's form is the same
	 * function of the step wherever it comes back */
	uint64_t ssig;
	int snew, nforms;
	uint64_t fsig[FORMS];
	int fpiece[FORMS];
};

#define CACHE_SLOTS 32
#define CACHE_BYTES (2 << 20)

/* |x| below 2^62: a product of two such stays inside 128 bits. */
static int
small(const lmp_num *x)
{
	return x->exact && x->d == 1 && x->n < ((lmp_i128)1 << 62) && x->n > -((lmp_i128)1 << 62);
}

/* Row r of t set to x[0..w-1] (r <= t->n: a new row or one rewritten). */
static void
vr_put(lmp_vrows *t, int r, const lmp_num *x)
{
	int64_t *v;

	if (r == t->cap) {
		t->cap += t->cap / 2 + 4;
		t->v = lmp_xrealloc(t->v, sizeof *t->v * (size_t)t->cap * (size_t)t->w);
		t->xat = lmp_xrealloc(t->xat, sizeof *t->xat * (size_t)t->cap);
		t->xn = lmp_xrealloc(t->xn, sizeof *t->xn * (size_t)t->cap);
	}
	if (r == t->n)
		t->n++;
	v = &t->v[(size_t)r * (size_t)t->w];
	t->xat[r] = t->nx; /* a row rewritten leaves its old values beside unused */
	t->xn[r] = 0;
	for (int k = 0; k < t->w; k++) {
		if (small(&x[k])) {
			v[k] = (int64_t)x[k].n;
			continue;
		}
		if (t->nx == t->xcap) {
			t->xcap += t->xcap / 2 + 16;
			t->xc = lmp_xrealloc(t->xc, sizeof *t->xc * (size_t)t->xcap);
			t->xv = lmp_xrealloc(t->xv, sizeof *t->xv * (size_t)t->xcap);
		}
		v[k] = LMP_VWIDE;
		t->xc[t->nx] = k;
		t->xv[t->nx++] = x[k];
		t->xn[r]++;
	}
}

/* Value k of row r. */
static lmp_num
vr_get(const lmp_vrows *t, int r, int k)
{
	int64_t v = t->v[(size_t)r * (size_t)t->w + (size_t)k];

	if (v != LMP_VWIDE)
		return lmp_num_int(v);
	for (int q = t->xat[r]; q < t->xat[r] + t->xn[r]; q++)
		if (t->xc[q] == k)
			return t->xv[q];
	return lmp_num_int(0); /* not reached: every LMP_VWIDE has its value beside */
}

/* Row r's values as 64-bit integers (LMP_VWIDE: see vr_get). */
static const int64_t *
vr_row(const lmp_vrows *t, int r)
{
	return &t->v[(size_t)r * (size_t)t->w];
}

static void
vr_free(lmp_vrows *t)
{
	free(t->v);
	free(t->xat);
	free(t->xn);
	free(t->xc);
	free(t->xv);
}

/* Piece i's component c at its first step, and its form's step, block
 * and staircase terms. */
static lmp_num
v0_of(const lmp_dpieces *p, int i, int c)
{
	return vr_get(&p->v0, i, c);
}

static lmp_num
term_of(const lmp_dpieces *p, int i, int term, int c)
{
	return vr_get(&p->dj, p->form[i], term * p->nc + c);
}

enum { TD, TJ, TH };

static int64_t
kblocks(const lmp_dpieces *p, int64_t s)
{
	return p->block > 1 ? (s + p->off + p->block - 1) / p->block : 0;
}

/* The second staircase at step s (a sliding window's first K/V tile). */
static int64_t
hcells(const lmp_dpieces *p, int64_t s)
{
	return p->per2 > 1 ? (s + p->off2) / p->per2 : 0;
}

/* Σ_{u=0}^{x} floor(u / P), x >= -1: q whole cells of P and the rest. */
static lmp_i128
floor_sum(int64_t x, int64_t P)
{
	lmp_i128 q = (x + 1) / P;

	return (lmp_i128)P * q * (q - 1) / 2 + q * ((x + 1) - q * P);
}

/* Σ_{u=1}^{x} ceil(u / b), x >= 0: q whole blocks of b and r more. */
static lmp_i128
ceil_sum(int64_t x, int64_t b)
{
	lmp_i128 q = x / b, r = x % b;

	return (lmp_i128)b * q * (q + 1) / 2 + r * (q + 1);
}

/* The form of piece i, component c, at step s. */
static int
form_at(const lmp_dpieces *p, int i, int c, int64_t s, lmp_num *out)
{
	lmp_num ds = lmp_num_int(s - p->first[i]), dk = lmp_num_int(kblocks(p, s) - kblocks(p, p->first[i])), t;
	lmp_num dh = lmp_num_int(hcells(p, s) - hcells(p, p->first[i]));
	lmp_num v0 = v0_of(p, i, c), d = term_of(p, i, TD, c), j = term_of(p, i, TJ, c), h = term_of(p, i, TH, c);

	return lmp_num_mul(&d, &ds, &t) || lmp_num_add(&v0, &t, out) || lmp_num_mul(&j, &dk, &t) ||
		lmp_num_add(out, &t, out) || lmp_num_mul(&h, &dh, &t) || lmp_num_add(out, &t, out);
}

/* Step s's values (*out, in the step's slot: valid until a step of the
 * same slot is asked; two steps in a row never share one).  1 exact, 0
 * not (not this shape), -1 error. */
static int
eval(struct find *f, int64_t s, const lmp_num **out)
{
	int k = (int)(s % f->nslots);
	lmp_num *v = &f->cval[(size_t)k * (size_t)f->nc];

	*out = v;
	f->evals++; /* asked, kept or not: the budget is the search's, not the work's */
	if (f->ckey[k] == s)
		return 1;
	f->ckey[k] = -1;
	if (f->at(f->ctx, s, v, f->e))
		return -1;
	for (int c = 0; c < f->nc; c++)
		if (!v[c].exact)
			return 0;
	f->ckey[k] = s;
	return 1;
}

/* Piece i's form in 64 bits, made once a fit, for the components whose
 * every term is a whole number below 2^62: those that stay the same
 * (most: a projection's work does not grow with the cache) as their value
 * (f->kc, f->kv, nk of them), the rest as v0, d, j, h (f->vc, f->c64, nv);
 * the others (f->sc, ns) are worked out as lmp_nums. */
static void
compact(struct find *f, int i)
{
	const lmp_dpieces *p = f->p;
	const int64_t *a = vr_row(&p->v0, i), *b = vr_row(&p->dj, p->form[i]);
	int64_t x[4];

	if (!f->c64) {
		f->c64 = lmp_xmalloc(sizeof *f->c64 * 4 * (size_t)f->nc);
		f->kv = lmp_xmalloc(sizeof *f->kv * (size_t)f->nc);
		f->kc = lmp_xmalloc(sizeof *f->kc * 3 * (size_t)f->nc);
		f->vc = f->kc + f->nc;
		f->sc = f->vc + f->nc;
	}
	f->nk = f->nv = f->ns = 0;
	for (int c = 0; c < f->nc; c++) {
		x[0] = a[c], x[1] = b[c], x[2] = b[p->nc + c], x[3] = b[2 * p->nc + c];
		if (x[0] == LMP_VWIDE || x[1] == LMP_VWIDE || x[2] == LMP_VWIDE || x[3] == LMP_VWIDE) {
			f->sc[f->ns++] = c;
			continue;
		}
		if (!x[1] && !x[2] && !x[3]) {
			f->kc[f->nk] = c;
			f->kv[f->nk++] = x[0];
		} else {
			f->vc[f->nv] = c;
			memcpy(&f->c64[4 * (size_t)f->nv++], x, sizeof x);
		}
	}
	f->ci = i;
	f->cfit = f->fits;
}

/* 1: every component of step s is piece i's form, 0 not, -1 error.  Most
 * components are whole numbers: their form is worked out in 128 bits. */
static int
agrees(struct find *f, int i, int64_t s)
{
	const lmp_dpieces *p = f->p;
	int64_t ds = s - p->first[i], dk = kblocks(p, s) - kblocks(p, p->first[i]);
	int64_t dh = hcells(p, s) - hcells(p, p->first[i]);
	int narrow = ds < ((int64_t)1 << 60) && dk < ((int64_t)1 << 60) && dh < ((int64_t)1 << 60);
	const lmp_num *w;
	lmp_num x;
	int rc = eval(f, s, &w), q;

	if (rc <= 0)
		return rc;
	if (f->ci != i || f->cfit != f->fits)
		compact(f, i);
	for (q = 0; q < f->nk; q++) {
		const lmp_num *wc = &w[f->kc[q]];
		if (!wc->exact || wc->d != 1 || wc->n != f->kv[q])
			return 0;
	}
	for (q = 0; q < f->nv; q++) {
		const lmp_num *wc = &w[f->vc[q]];
		const int64_t *t = &f->c64[4 * (size_t)q];
		if (!narrow) {
			if (form_at(p, i, f->vc[q], s, &x) || !lmp_num_eq(&x, wc))
				return 0;
			continue;
		}
		/* 64 x 64-bit products in 128 bits: exact */
		if (!wc->exact || wc->d != 1 ||
		    wc->n != (lmp_i128)t[0] + (lmp_i128)t[1] * ds + (lmp_i128)t[2] * dk + (lmp_i128)t[3] * dh)
			return 0;
	}
	for (q = 0; q < f->ns; q++)
		if (form_at(p, i, f->sc[q], s, &x) || !lmp_num_eq(&x, &w[f->sc[q]]))
			return 0;
	return 1;
}

/* Component-wise a - b into out (exact). */
static int
diff(const lmp_num *a, const lmp_num *b, lmp_num *out, int n)
{
	for (int c = 0; c < n; c++)
		if (lmp_num_sub(&a[c], &b[c], &out[c]) || !out[c].exact)
			return -1;
	return 0;
}

/* Piece i's form, fitted (f->fv: d, j, h, 3 nc), as a row of its own. */
static void
put_form(struct find *f, int i)
{
	f->p->form[i] = f->p->dj.n;
	vr_put(&f->p->dj, f->p->dj.n, f->fv);
}

/* The first step of each pair of steps a piece from s0 to last measures
 * its terms on (at[q], -1 where the piece has none): the step (a pair
 * inside one block and one cell of the second staircase: two boundaries
 * can be next to each other), the block term (the first pair across a
 * block boundary that is not a staircase step) and the staircase term
 * (the first pair across a staircase step). */
static void
term_pairs(const lmp_dpieces *p, int64_t s0, int64_t last, int64_t at[3])
{
	int64_t a, t, u;

	for (a = s0; a < s0 + 2 && (kblocks(p, a + 1) != kblocks(p, a) || hcells(p, a + 1) != hcells(p, a)); a++)
		;
	at[0] = a + 1 <= last ? a : -1;
	at[1] = at[2] = -1;
	if (p->block > 1) {
		t = s0 + (p->block - (s0 + p->off) % p->block) % p->block;
		while (t + 1 <= last && hcells(p, t + 1) != hcells(p, t))
			t += p->block;
		if (t + 1 <= last)
			at[1] = t;
	}
	if (p->per2 > 1) {
		u = s0 + (p->per2 - 1 - (s0 + p->off2) % p->per2);
		if (u + 1 <= last)
			at[2] = u;
	}
}

/* Fits piece i from step s0: its start, step, block and staircase terms;
 * *upto the last step it used.  1 fitted, 0 not this shape, -1 error. */
static int
fit(struct find *f, int i, int64_t s0, int64_t *upto)
{
	lmp_dpieces *p = f->p;
	lmp_num *d = f->fv, *j = d + f->nc, *h = j + f->nc;
	const lmp_num *v, *w;
	int64_t last = f->lim - 1, a, t, u, at[3];
	int rc, c;

	p->first[i] = s0;
	f->fits++;
	if ((rc = eval(f, s0, &v)) <= 0)
		return rc;
	vr_put(&p->v0, i, v);
	for (c = 0; c < f->nc; c++)
		d[c] = j[c] = h[c] = lmp_num_int(0);
	*upto = s0;
	if (s0 == last) {
		put_form(f, i);
		return 1;
	}
	term_pairs(p, s0, last, at);
	if ((a = at[0]) >= 0) {
		/* the step */
		if ((rc = eval(f, a, &v)) <= 0 || (rc = eval(f, a + 1, &w)) <= 0)
			return rc;
		if (diff(w, v, d, f->nc))
			return 0;
		*upto = a + 1;
	}
	if ((t = at[1]) >= 0) {
		/* the block term: the jump across the boundary, less the step */
		if ((rc = eval(f, t, &v)) <= 0 || (rc = eval(f, t + 1, &w)) <= 0)
			return rc;
		if (diff(w, v, j, f->nc) || diff(j, d, j, f->nc))
			return 0;
		if (t + 1 > *upto)
			*upto = t + 1;
	}
	if ((u = at[2]) >= 0) {
		/* the second staircase: the jump across its step, less the
		 * step (and the block term where a block ends there) */
		if ((rc = eval(f, u, &v)) <= 0 || (rc = eval(f, u + 1, &w)) <= 0)
			return rc;
		if (diff(w, v, h, f->nc) || diff(h, d, h, f->nc) ||
		    (kblocks(p, u + 1) != kblocks(p, u) && diff(h, j, h, f->nc)))
			return 0;
		if (u + 1 > *upto)
			*upto = u + 1;
	}
	put_form(f, i);
	return 1;
}

/* Whether step s agrees with piece i; where it does not, the earliest
 * such step checked so far is kept in *bad. */
static int
agrees_at(struct find *f, int i, int64_t s, int64_t *bad)
{
	int rc = agrees(f, i, s);

	if (!rc && s < *bad)
		*bad = s;
	return rc;
}

/* Checks piece i on [first, last] (see the top): 1 it holds, -1 error, 0
 * not, with *bad the earliest step seen not to agree. */
static int
check(struct find *f, int i, int64_t last, int64_t *bad)
{
	int64_t s0 = f->p->first[i], n = last - s0 + 1, s, k;
	int rc, ok = 1;

	*bad = INT64_MAX;
	if (n <= CHECK_ALL) {
		for (s = s0; s <= last; s++)
			if ((rc = agrees_at(f, i, s, bad)) <= 0)
				return rc;
		return 1;
	}
	/* every sample, so that *bad is the earliest of them */
	for (k = 0; k < 4; k++)
		if ((rc = agrees_at(f, i, s0 + k, bad)) < 0 || (rc = agrees_at(f, i, last - k, bad)) < 0)
			return rc;
	if (f->block > 1) {
		int64_t t = s0 + (f->block - (s0 + f->off) % f->block) % f->block;
		int64_t u = last - 1 - (last - 1 + f->off) % f->block;
		for (k = 0; k < 2; k++)
			if ((t + k <= last && (rc = agrees_at(f, i, t + k, bad)) < 0) ||
			    (u + k >= s0 && u + k <= last && (rc = agrees_at(f, i, u + k, bad)) < 0))
				return rc;
	}
	if (f->p->per2 > 1) {
		/* both sides of the second staircase's first and last steps */
		int64_t P = f->p->per2, t = s0 + (P - 1 - (s0 + f->p->off2) % P);
		int64_t u = last - 1 - (last + f->p->off2) % P;
		for (k = 0; k < 2; k++)
			if ((t + k <= last && (rc = agrees_at(f, i, t + k, bad)) < 0) ||
			    (u + k >= s0 && u + k <= last && (rc = agrees_at(f, i, u + k, bad)) < 0))
				return rc;
	}
	for (k = 1; k <= CHECK_SPREAD; k++) {
		s = s0 + (int64_t)((lmp_i128)(n - 1) * k / (CHECK_SPREAD + 1));
		if ((rc = agrees_at(f, i, s, bad)) < 0 || (s + 1 <= last && (rc = agrees_at(f, i, s + 1, bad)) < 0))
			return rc;
	}
	if (*bad != INT64_MAX)
		ok = 0;
	return ok;
}

/* The last step from lo (which agrees) before hi that agrees with piece i,
 * by bisection: the form holds up to a step and not past it.  -1 error. */
static int64_t
last_agreeing(struct find *f, int i, int64_t lo, int64_t hi)
{
	int rc;

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if ((rc = agrees(f, i, mid)) < 0)
			return -1;
		if (rc)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Room for n pieces, grown by halves (a request can have hundreds). */
static void
grow(lmp_dpieces *p, int n, int *cap)
{
	if (n <= *cap)
		return;
	n = *cap = n + n / 2 + 4;
	p->first = lmp_xrealloc(p->first, sizeof *p->first * (size_t)n);
	p->last = lmp_xrealloc(p->last, sizeof *p->last * (size_t)n);
	p->form = lmp_xrealloc(p->form, sizeof *p->form * (size_t)n);
}

/* The end (the first later step of another shape) of the shape that holds
 * step s0: the shape is asked at each step where it may change. */
static int
shape_end(struct find *f, int64_t s0)
{
	uint64_t sig0, sig;
	int64_t nx, after;

	if (!f->shape) {
		f->lim = f->steps;
		return 0;
	}
	if (s0 < f->seg) { /* the same shape as the piece before */
		f->lim = f->seg;
		return 0;
	}
	if (s0 == f->pstep)
		sig0 = f->psig, nx = f->pnext;
	else if (f->shape(f->ctx, s0, &sig0, &nx, f->e))
		return -1;
	while (nx < f->steps) {
		if (nx <= s0)
			nx = s0 + 1;
		if (f->shape(f->ctx, nx, &sig, &after, f->e))
			return -1;
		f->pstep = nx, f->psig = sig, f->pnext = after;
		if (sig != sig0)
			break;
		s0 = nx;
		nx = after;
	}
	f->seg = f->lim = nx < f->steps ? nx : f->steps;
	f->ssig = sig0;
	f->snew = 1;
	return 0;
}

/* The piece last fitted in a segment of shape sig, -1 none. */
static int
form_of(const struct find *f, uint64_t sig)
{
	for (int k = 0; k < f->nforms; k++)
		if (f->fsig[k] == sig)
			return f->fpiece[k];
	return -1;
}

static void
keep_form(struct find *f, uint64_t sig, int i)
{
	int k;

	/* the shapes last used at the end: a full table drops the one
	 * unused longest (the first) */
	for (k = 0; k < f->nforms && f->fsig[k] != sig; k++)
		;
	if (k == f->nforms && f->nforms < FORMS)
		f->nforms++;
	else if (k == f->nforms)
		k = 0;
	memmove(&f->fsig[k], &f->fsig[k + 1], sizeof *f->fsig * (size_t)(f->nforms - 1 - k));
	memmove(&f->fpiece[k], &f->fpiece[k + 1], sizeof *f->fpiece * (size_t)(f->nforms - 1 - k));
	f->fsig[f->nforms - 1] = sig;
	f->fpiece[f->nforms - 1] = i;
}

/* Piece i from step s0 to the shape's end: its value at s0 with piece
 * k's step, block and staircase terms (piece k of the same shape, fitted
 * and checked in full), where the steps agree with it at the pairs fit()
 * measures each term on (term_pairs: a pair inside one block and cell,
 * the first block boundary that is not a staircase step, the first
 * staircase step) and at the shape's last step.  So each term is measured
 * again, as a fit would, and one that piece k could not tell apart (its
 * block boundaries all staircase steps: the two terms summed in h) fails
 * where they part.  What else could part the steps from the form inside
 * the shape is what the full check looks for in every piece: a window or
 * chunk boundary, which changes the form for good (the last step would not
 * agree).  1 it holds, 0 not (fit it), -1 error. */
static int
reuse(struct find *f, int k, int i, int64_t s0)
{
	lmp_dpieces *p = f->p;
	int64_t last = f->lim - 1, at[3];
	const lmp_num *v;
	int rc;

	if ((rc = eval(f, s0, &v)) <= 0)
		return rc;
	vr_put(&p->v0, i, v);
	p->form[i] = p->form[k];
	p->first[i] = s0;
	p->last[i] = last;
	f->fits++;
	term_pairs(p, s0, last, at);
	for (int q = 0; q < 3; q++)
		if (at[q] >= 0 && ((rc = agrees(f, i, at[q])) <= 0 || (rc = agrees(f, i, at[q] + 1)) <= 0))
			return rc;
	return s0 < last ? agrees(f, i, last) : 1;
}

/* Each piece's steps and its block and staircase steps over them, each
 * from the piece's first (p->sums: n, Σ (s - first), Σ ΔK, Σ ΔH), once:
 * every component's sum reads them. */
static void
piece_sums(lmp_dpieces *p)
{
	p->sums = lmp_xmalloc(sizeof *p->sums * 4 * (size_t)p->n);
	for (int i = 0; i < p->n; i++) {
		int64_t s0 = p->first[i], s1 = p->last[i];
		lmp_i128 n = s1 - s0 + 1, *q = &p->sums[4 * (size_t)i];
		q[0] = n;
		q[1] = n * (n - 1) / 2;
		q[2] = q[3] = 0;
		if (p->block > 1)
			q[2] = ceil_sum(s1 + p->off, p->block) - ceil_sum(s0 - 1 + p->off, p->block) - n * kblocks(p, s0);
		if (p->per2 > 1)
			q[3] = floor_sum(s1 + p->off2, p->per2) - floor_sum(s0 - 1 + p->off2, p->per2) - n * hcells(p, s0);
	}
}

int
lmp_dpieces_find(lmp_dstep_fn at, lmp_dshape_fn shape, void *ctx, int64_t steps, int nc, int64_t block, int64_t off,
	int64_t per2, int64_t off2, lmp_dpieces *p, lmp_err *e)
{
	struct find f = {.at = at, .shape = shape, .ctx = ctx, .steps = steps, .block = block > 1 && off >= 1 ? block : 0,
		.off = off, .nc = nc, .pstep = -1, .p = p, .e = e, .ci = -1};
	int64_t s0 = 0, upto, lo, mid, bad;
	int rc = 0, cap = 0;

	memset(p, 0, sizeof *p);
	p->nc = nc;
	p->v0.w = nc;
	p->dj.w = 3 * nc;
	p->block = f.block;
	p->off = off;
	if (per2 > 1) {
		p->per2 = per2;
		p->off2 = (off2 % per2 + per2) % per2; /* differences of cells are the same */
	}
	p->steps = steps;
	if (steps < 1)
		return 0;
	f.fv = lmp_xmalloc(sizeof *f.fv * 3 * (size_t)nc);
	/* CACHE_SLOTS steps, fewer where they would pass CACHE_BYTES, at
	 * least 2 (a pair of steps in a row) */
	f.nslots = (int)(CACHE_BYTES / (sizeof *f.cval * (size_t)nc));
	f.nslots = f.nslots > CACHE_SLOTS ? CACHE_SLOTS : f.nslots < 2 ? 2 : f.nslots;
	f.ckey = lmp_xmalloc(sizeof *f.ckey * (size_t)f.nslots);
	for (int k = 0; k < f.nslots; k++)
		f.ckey[k] = -1;
	f.cval = lmp_xmalloc(sizeof *f.cval * (size_t)nc * (size_t)f.nslots);
	while (s0 < steps) {
		int i = p->n;
		if ((int64_t)p->v0.n * nc + (int64_t)p->dj.n * p->dj.w > MAXVALUES || f.evals > steps + 1024) {
			rc = 0;
			break;
		}
		grow(p, i + 1, &cap);
		p->n++;
		if (shape_end(&f, s0)) {
			rc = -1;
			break;
		}
		if (f.snew) {
			int k = form_of(&f, f.ssig);
			f.snew = 0;
			if (k >= 0 && (rc = reuse(&f, k, i, s0)) != 0) {
				if (rc < 0)
					break;
				keep_form(&f, f.ssig, k); /* used last */
				s0 = f.lim;
				continue;
			}
		}
		if ((rc = fit(&f, i, s0, &upto)) <= 0)
			break;
		/* its end: the last step that agrees (the fit's steps must) */
		lo = upto;
		for (mid = s0; mid <= upto && (rc = agrees(&f, i, mid)) > 0; mid++)
			;
		if (rc < 0)
			break;
		if (!rc) {
			/* the form changes among the fit's own steps (a window
			 * filling next to a block boundary): this step alone */
			for (int c = 0; c < 2 * nc; c++)
				f.fv[c] = lmp_num_int(0);
			vr_put(&p->dj, p->form[i], f.fv);
			p->last[i] = s0++;
			continue;
		}
		if (upto < f.lim - 1) {
			if ((rc = agrees(&f, i, f.lim - 1)) < 0)
				break;
			if (rc)
				lo = f.lim - 1;
			else if ((lo = last_agreeing(&f, i, lo, f.lim - 1)) < 0) {
				rc = -1;
				break;
			}
		}
		/* a form can come back after steps of another (FlashAttention's
		 * split count is not monotone in the context): where the check
		 * meets a step that does not agree, the piece ends before it */
		for (;;) {
			p->last[i] = lo;
			if ((rc = check(&f, i, lo, &bad)) != 0 || bad <= upto || bad > lo)
				break;
			if ((lo = last_agreeing(&f, i, upto, bad)) < 0) {
				rc = -1;
				break;
			}
		}
		if (rc <= 0)
			break;
		if (f.shape)
			keep_form(&f, f.ssig, i);
		s0 = lo + 1;
	}
	free(f.c64);
	free(f.kv);
	free(f.kc);
	free(f.fv);
	free(f.ckey);
	free(f.cval);
	if (rc <= 0) {
		lmp_dpieces_free(p);
		return rc;
	}
	piece_sums(p);
	return 1;
}

void
lmp_dpieces_free(lmp_dpieces *p)
{
	free(p->first);
	free(p->last);
	free(p->form);
	free(p->sums);
	vr_free(&p->v0);
	vr_free(&p->dj);
	memset(p, 0, sizeof *p);
}

/* a * b + *acc into *acc in 128 bits: 0, or 1 where it would overflow */
static int
mac(lmp_i128 *acc, lmp_i128 a, lmp_i128 b)
{
	lmp_i128 t;

	return __builtin_mul_overflow(a, b, &t) || __builtin_add_overflow(*acc, t, acc);
}

/* Component c summed in 128-bit integers where every term is whole and
 * nothing overflows (mostly: bytes and FLOPs): 1 done, 0 not. */
static int
sum_whole(const lmp_dpieces *p, int c, lmp_num *out)
{
	lmp_i128 acc = 0;

	for (int i = 0; i < p->n; i++) {
		const int64_t *a = vr_row(&p->v0, i), *b = vr_row(&p->dj, p->form[i]);
		const lmp_i128 *q = &p->sums[4 * (size_t)i];
		if (a[c] == LMP_VWIDE || b[c] == LMP_VWIDE || b[p->nc + c] == LMP_VWIDE || b[2 * p->nc + c] == LMP_VWIDE)
			return 0;
		if (mac(&acc, a[c], q[0]) || mac(&acc, b[c], q[1]) || mac(&acc, b[p->nc + c], q[2]) ||
		    mac(&acc, b[2 * p->nc + c], q[3]))
			return 0;
	}
	*out = lmp_num_int(acc);
	return 1;
}

int
lmp_dpieces_sum(const lmp_dpieces *p, int c, lmp_num *out)
{
	lmp_num t, u, x;

	if (sum_whole(p, c, out))
		return 0;
	*out = lmp_num_int(0);
	for (int i = 0; i < p->n; i++) {
		const lmp_i128 *q = &p->sums[4 * (size_t)i];
		x = v0_of(p, i, c);
		t = lmp_num_int(q[0]);
		if (lmp_num_mul(&x, &t, &t) || lmp_num_add(out, &t, out))
			return -1;
		for (int k = 0; k < 3; k++) {
			x = term_of(p, i, k, c);
			u = lmp_num_int(q[k + 1]);
			if (lmp_num_mul(&x, &u, &t) || lmp_num_add(out, &t, out))
				return -1;
		}
	}
	return 0;
}

int
lmp_dpieces_last(const lmp_dpieces *p, int c, lmp_num *out)
{
	return form_at(p, p->n - 1, c, p->last[p->n - 1], out) ? -1 : 0;
}

/* Pieces k and i have the same step, block and staircase terms in
 * components a and b (a == b: one component). */
static int
same_terms(const lmp_dpieces *p, int k, int a, int i, int b)
{
	for (int t = 0; t < 3; t++) {
		lmp_num x = term_of(p, k, t, a), y = term_of(p, i, t, b);
		if (!lmp_num_eq(&x, &y))
			return 0;
	}
	return 1;
}

/* Piece i continues piece k (same step and block terms, and its start is
 * where k's form arrives) in every component of cs. */
static int
continues(const lmp_dpieces *p, int k, int i, const int *cs, int ncs)
{
	lmp_num x, y;

	for (int q = 0; q < ncs; q++) {
		y = v0_of(p, i, cs[q]);
		if (!same_terms(p, k, cs[q], i, cs[q]) || form_at(p, k, cs[q], p->first[i], &x) || !lmp_num_eq(&x, &y))
			return 0;
	}
	return 1;
}

void
lmp_dpieces_each(const lmp_dpieces *p, int base, const int *cs, int ncs, lmp_dpiece_fn fn, void *ctx)
{
	int lc[16], i, k, q;
	lmp_num co[16][3];

	if (ncs > 16)
		ncs = 16;
	for (q = 0; q < ncs; q++)
		lc[q] = base + cs[q];
	for (i = 0; i < p->n; i = k) {
		int stairs = 0;
		int64_t a, z;
		/* adjacent pieces that are one form for this row are one piece */
		for (k = i + 1; k < p->n && continues(p, i, k, lc, ncs); k++)
			;
		for (q = 0; q < ncs; q++) {
			lmp_num h = term_of(p, i, TH, lc[q]);
			stairs |= !lmp_num_is_zero(&h);
			co[q][1] = term_of(p, i, TD, lc[q]);
			co[q][2] = p->block > 1 ? term_of(p, i, TJ, lc[q]) : lmp_num_int(0);
		}
		/* a document's piece has no second staircase: one piece a step
		 * of it, each from its own first value */
		for (a = p->first[i]; a <= p->last[k - 1]; a = z + 1) {
			z = stairs ? a + (p->per2 - 1 - (a + p->off2) % p->per2) : p->last[k - 1];
			if (z > p->last[k - 1])
				z = p->last[k - 1];
			for (q = 0; q < ncs; q++) {
				co[q][0] = v0_of(p, i, lc[q]);
				if (a > p->first[i])
					form_at(p, i, lc[q], a, &co[q][0]);
			}
			fn(ctx, a, z, (const lmp_num (*)[3])co, ncs);
		}
	}
}

/* One piece as text: ,{"first":...,"last":...,"name":[q0,d] or, paged,
 * [q0,d,j]} (no comma before the first). */
struct piece_text {
	lmp_buf *b;
	const char *const *names;
	int block, n;
};

static void
piece_json(void *ctx, int64_t first, int64_t last, const lmp_num (*q)[3], int ncs)
{
	struct piece_text *t = ctx;
	lmp_buf *b = t->b;

	lmp_buf_puts(b, t->n++ ? ",{\"first\":" : "{\"first\":");
	lmp_buf_i128(b, first);
	lmp_buf_puts(b, ",\"last\":");
	lmp_buf_i128(b, last);
	for (int c = 0; c < ncs; c++) {
		lmp_buf_puts(b, ",\"");
		lmp_buf_puts(b, t->names[c]);
		lmp_buf_puts(b, "\":[");
		lmp_buf_num(b, &q[c][0]);
		lmp_buf_putc(b, ',');
		lmp_buf_num(b, &q[c][1]);
		if (t->block) {
			lmp_buf_putc(b, ',');
			lmp_buf_num(b, &q[c][2]);
		}
		lmp_buf_putc(b, ']');
	}
	lmp_buf_putc(b, '}');
}

void
lmp_dpieces_json(lmp_buf *b, const lmp_dpieces *p, int base, const int *cs, const char *const *names, int ncs)
{
	struct piece_text t = {b, names, p->block > 1, 0};

	lmp_buf_puts(b, ",\"per_step\":{");
	if (p->block > 1) {
		lmp_buf_puts(b, "\"block\":");
		lmp_buf_i128(b, p->block);
		lmp_buf_putc(b, ',');
	}
	lmp_buf_puts(b, "\"pieces\":[");
	lmp_dpieces_each(p, base, cs, ncs, piece_json, &t);
	lmp_buf_puts(b, "]}");
}

int
lmp_dpieces_const(const lmp_dpieces *p, int c)
{
	for (int i = 0; i < p->n; i++) {
		for (int t = 0; t < 3; t++) {
			lmp_num x = term_of(p, i, t, c);
			if (!lmp_num_is_zero(&x))
				return 0;
		}
		if (i) {
			lmp_num x = v0_of(p, i, c), y = v0_of(p, i - 1, c);
			if (!lmp_num_eq(&x, &y))
				return 0;
		}
	}
	return 1;
}

int
lmp_dpieces_same(const lmp_dpieces *p, int a, int b)
{
	for (int i = 0; i < p->n; i++) {
		lmp_num x = v0_of(p, i, a), y = v0_of(p, i, b);
		if (!lmp_num_eq(&x, &y) || !same_terms(p, i, a, i, b))
			return 0;
	}
	return 1;
}
