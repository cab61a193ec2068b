/* Unit tests of decode phases in closed form: decpieces.c (the pieces of a
 * phase's per-step work, their exact sums) and timesteps.c (the sum of
 * lmp_kernel_time over the steps).  Each closed form is checked against a
 * loop over every step written here from the definition.  Output is TAP. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

static char got[256];

static int64_t
ceildiv(int64_t a, int64_t b)
{
	return (a + b - 1) / b;
}

/* ---- timesteps.c ---- */

/* Step s's FLOPs or bytes from the definition (lmp-eval(1) per_step). */
static double
at(const double *q, const lmp_stepwork *w, const lmp_steppiece *p, int64_t s)
{
	double dk = w->block > 1 ? (double)(ceildiv(s + w->off, w->block) - ceildiv(p->first + w->off, w->block)) : 0;

	return q[0] + q[1] * (double)(s - p->first) + q[2] * dk;
}

/* The step-by-step sum: every step its own kernel. */
static void
loop(const lmp_kernel *k, const lmp_stepwork *w, const lmp_tparams *q, lmp_ktime *sum)
{
	*sum = (lmp_ktime){0};
	for (int i = 0; i < w->n; i++)
		for (int64_t s = w->p[i].first; s <= w->p[i].last; s++) {
			lmp_kernel ks = *k;
			lmp_ktime t;
			ks.flops = at(w->p[i].flops, w, &w->p[i], s);
			ks.bytes = at(w->p[i].bytes, w, &w->p[i], s);
			lmp_kernel_time(&ks, q, 132, &t);
			sum->time += t.time;
			sum->compute += t.compute;
			sum->memory += t.memory;
			sum->launch += t.launch;
		}
}

static int
rel(double a, double b, double tol)
{
	snprintf(got, sizeof got, "%.17g, want %.17g", a, b);
	return fabs(a - b) <= tol * fabs(b);
}

/* tol: 1e-12, or what a loop of n additions may lose (about n ulps) */
static void
same_as_loop(const lmp_kernel *k, const lmp_stepwork *w, const lmp_tparams *q, const char *what, double tol)
{
	lmp_ktime a, b;
	char name[200];

	lmp_steps_time(k, w, q, 132, &a);
	loop(k, w, q, &b);
	snprintf(name, sizeof name, "%s: time is the step-by-step sum", what);
	ok(rel(a.time, b.time, tol), name, got);
	snprintf(name, sizeof name, "%s: compute, memory and launch sums too", what);
	ok(rel(a.compute, b.compute, tol) && rel(a.memory, b.memory, tol) && rel(a.launch, b.launch, tol), name,
		got);
}

static void
test_time(void)
{
	/* a device of 1e12 FLOP/s and 1e9 bytes/s, a launch floor of 6 us */
	lmp_tparams q = {1, 1, 1, 6e-6, 0, 0};
	lmp_kernel k = {.calls = 1, .peak = 1e12, .bandwidth = 1e9};
	lmp_steppiece p[3];
	lmp_stepwork w = {1, p, 0, 0};
	lmp_ktime a;

	/* compute 1e-6 + 1e-7 s, memory 5e-6 + 5e-8 s: the launch floor
	 * bounds steps 0..19 (memory reaches 6e-6 at s = 20), memory 20..80,
	 * compute from 80 on (1e-6 + 1e-7 s = 5e-6 + 5e-8 s at s = 80) */
	p[0] = (lmp_steppiece){0, 199, {1e6, 1e5, 0}, {5e3, 50, 0}};
	same_as_loop(&k, &w, &q, "affine over launch, memory and compute bounds", 1e-12);
	/* by hand: 20 x 6e-6 + sum_{s=20}^{80} (5e-6 + 5e-8 s)
	 * + sum_{s=81}^{199} (1e-6 + 1e-7 s)
	 * = 1.2e-4 + (61 x 5e-6 + 5e-8 x 3050) + (119 x 1e-6 + 1e-7 x 16660)
	 * = 1.2e-4 + 4.575e-4 + 1.785e-3 = 2.3625e-3 s */
	lmp_steps_time(&k, &w, &q, 132, &a);
	ok(rel(a.time, 2.3625e-3, 1e-12), "affine: the sum worked out by hand", got);
	/* the phase as one kernel: max(sum compute, sum memory, 200 launches)
	 * = max(2.19e-3, 1.995e-3, 1.2e-3) = 2.19e-3 s, below the steps' sum */
	k.flops = 200 * 1e6 + 1e5 * 19900;
	k.bytes = 200 * 5e3 + 50 * 19900.0;
	k.calls = 200;
	lmp_kernel_time(&k, &q, 132, &a);
	ok(rel(a.time, 2.19e-3, 1e-12), "the phase's sums as one kernel: 2.19e-3 s, optimistic", got);
	k.calls = 1;

	/* a sliding window filling at step 100: growing, then flat */
	p[0] = (lmp_steppiece){0, 99, {1e6, 1e5, 0}, {5e3, 50, 0}};
	p[1] = (lmp_steppiece){100, 299, {1.1e7, 0, 0}, {1e4, 0, 0}};
	w.n = 2;
	same_as_loop(&k, &w, &q, "window: two pieces", 1e-12);

	/* KV pages of 16: 4000 bytes more a block, the cache 36 tokens before
	 * the first step (off 37), flops still affine */
	p[0] = (lmp_steppiece){0, 499, {2e6, 2e4, 0}, {3e3, 10, 4000}};
	w = (lmp_stepwork){1, p, 16, 37};
	same_as_loop(&k, &w, &q, "paged: a staircase of whole blocks", 1e-12);
	/* with a window behind the pages: a block term that goes negative */
	p[1] = (lmp_steppiece){500, 520, {1.2e7, 0, 0}, {2e5, 50, -800}};
	p[2] = (lmp_steppiece){521, 700, {1.2e7, 0, 0}, {2e5, 0, 0}};
	w.n = 3;
	same_as_loop(&k, &w, &q, "paged and windowed: three pieces", 1e-12);

	/* a GEMM row (the same shape each step) under waves and launches:
	 * 8 tokens by 4096 x 4096, attention-like work growing beside it */
	q = (lmp_tparams){0.7, 0.8, 1, 4e-6, 0, 1};
	k = (lmp_kernel){.calls = 1, .peak = 989.4e12, .bandwidth = 3.35e12, .gemm = 1, .m = 8, .n = 4096, .k = 4096,
		.gcalls = 1};
	p[0] = (lmp_steppiece){0, 4095, {2.0 * 8 * 4096 * 4096, 3e7, 0}, {33554432, 6e4, 0}};
	w = (lmp_stepwork){1, p, 0, 0};
	same_as_loop(&k, &w, &q, "GEMM waves, memory to compute", 1e-12);
	lmp_steps_time(&k, &w, &q, 132, &a);
	ok(a.waves > 0 && a.split_k >= 1, "GEMM waves: one step's waves reported", NULL);

	/* a million steps cost what ten do, and equal the loop to what its
	 * million additions lose */
	q = (lmp_tparams){1, 1, 1, 6e-6, 0, 0};
	k = (lmp_kernel){.calls = 1, .peak = 1e12, .bandwidth = 1e9};
	p[0] = (lmp_steppiece){0, 999999, {1e6, 1e3, 0}, {5e3, 1, 64}};
	w = (lmp_stepwork){1, p, 16, 1001};
	same_as_loop(&k, &w, &q, "a million paged steps", 1e-9);
}

/* ---- decpieces.c ---- */

/* A synthetic phase: per step s, components
 *   0: 7 + 3 s                          (attention over a growing cache)
 *   1: 2 min(s, 50) + 1                 (a window that fills at s = 50)
 *   2: 5 ceil((s + 37) / 16) + s        (paged: blocks of 16)
 *   3: 42                               (a projection)
 *   4: s^2 where quad is set            (no closed form of that shape) */
struct syn {
	int quad, calls;
};

static int
syn_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	struct syn *y = ctx;

	(void)e;
	y->calls++;
	v[0] = lmp_num_int(7 + 3 * s);
	v[1] = lmp_num_int(2 * (s < 50 ? s : 50) + 1);
	v[2] = lmp_num_int(5 * ceildiv(s + 37, 16) + s);
	v[3] = lmp_num_int(42);
	v[4] = lmp_num_int(y->quad ? s * s : 0);
	return 0;
}

static void
test_pieces(void)
{
	struct syn y = {0, 0};
	lmp_dpieces p;
	lmp_num v, want[5];
	lmp_err e = {0};
	int64_t steps, s;
	int c, good;
	char name[200];
	static const int64_t lens[] = {1, 2, 3, 17, 49, 50, 51, 52, 300, 5000};

	for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
		steps = lens[t];
		y.calls = 0;
		int found = lmp_dpieces_find(syn_step, NULL, &y, steps, 5, 16, 37, 0, 0, &p, &e), calls = y.calls;
		if (found != 1) {
			snprintf(name, sizeof name, "%lld steps: pieces found", (long long)steps);
			ok(0, name, e.msg);
			continue;
		}
		for (c = 0; c < 5; c++)
			want[c] = lmp_num_int(0);
		for (s = 0; s < steps; s++) {
			lmp_num r[5];
			syn_step(&y, s, r, &e);
			for (c = 0; c < 5; c++)
				lmp_num_add(&want[c], &r[c], &want[c]);
		}
		good = 1;
		for (c = 0; c < 5; c++)
			good &= !lmp_dpieces_sum(&p, c, &v) && lmp_num_eq(&v, &want[c]);
		snprintf(got, sizeof got, "%d pieces", p.n);
		snprintf(name, sizeof name, "%lld steps: every sum is the step-by-step sum, exactly", (long long)steps);
		ok(good, name, got);
		/* the last step's values */
		{
			lmp_num r[5];
			syn_step(&y, steps - 1, r, &e);
			good = 1;
			for (c = 0; c < 5; c++)
				good &= !lmp_dpieces_last(&p, c, &v) && lmp_num_eq(&v, &r[c]);
			snprintf(name, sizeof name, "%lld steps: the last step's values", (long long)steps);
			ok(good, name, NULL);
		}
		if (steps == 5000) {
			/* the window splits the phase in two (steps 0..50, 51..4999: at 50 both forms give 101);
			 * the staircase is the block term of both */
			snprintf(got, sizeof got, "%d pieces, first ends at %lld", p.n, (long long)p.last[0]);
			ok(p.n == 2 && p.last[0] == 50, "5000 steps: two pieces, split where the window fills", got);
			snprintf(got, sizeof got, "%d steps evaluated", calls);
			ok(calls < 300, "5000 steps: a few hundred steps evaluated, not 5000", got);
		}
		lmp_dpieces_free(&p);
	}
	/* a square is no such form: the caller loops */
	y.quad = 1;
	ok(lmp_dpieces_find(syn_step, NULL, &y, 300, 5, 16, 37, 0, 0, &p, &e) == 0, "s^2: not of that shape (0: step by step)", NULL);
	/* short phases are checked step by step, so any shape that fits is exact */
	ok(lmp_dpieces_find(syn_step, NULL, &y, 2, 5, 16, 37, 0, 0, &p, &e) == 1, "s^2 over two steps is a line", NULL);
	lmp_dpieces_free(&p);
}

/* A phase whose form comes back: a kernel splits its work two ways over
 * steps 1280..1407 only (one 128-step tile of the context), adding 1000 to
 * component 1 there; component 0 grows 3 a step throughout.  Spread
 * samples of a 5000-step piece (every 555 steps) step over it. */
static int
excursion(int64_t s)
{
	return s >= 1280 && s < 1408;
}

static int
exc_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	(void)ctx, (void)e;
	v[0] = lmp_num_int(7 + 3 * s);
	v[1] = lmp_num_int(4 * s + (excursion(s) ? 1000 : 0));
	return 0;
}

/* its shape: the split, which may change only at multiples of 128 */
static int
exc_shape(void *ctx, int64_t s, uint64_t *sig, int64_t *next, lmp_err *e)
{
	(void)ctx, (void)e;
	*sig = (uint64_t)excursion(s);
	*next = (s / 128 + 1) * 128;
	return 0;
}

static void
test_shapes(void)
{
	lmp_dpieces p;
	lmp_num v, want[2] = {lmp_num_int(0), lmp_num_int(0)}, r[2];
	lmp_err e = {0};
	int good = 1;

	for (int64_t s = 0; s < 5000; s++) {
		exc_step(NULL, s, r, &e);
		lmp_num_add(&want[0], &r[0], &want[0]);
		lmp_num_add(&want[1], &r[1], &want[1]);
	}
	ok(lmp_dpieces_find(exc_step, exc_shape, NULL, 5000, 2, 0, 1, 0, 0, &p, &e) == 1, "a form that comes back: found", e.msg);
	for (int c = 0; c < 2; c++)
		good &= !lmp_dpieces_sum(&p, c, &v) && lmp_num_eq(&v, &want[c]);
	snprintf(got, sizeof got, "%d pieces", p.n);
	ok(good, "a form that comes back: the sums are the step-by-step sums, exactly", got);
	ok(p.n == 3 && p.last[0] == 1279 && p.last[1] == 1407, "a form that comes back: three pieces, cut at its shape's ends",
		got);
	lmp_dpieces_free(&p);
}

/* Shapes that come back, as FlashAttention's split count does at batch 1
 * or 2: the split is 1 or 2 by turns every 128-step tile (782 segments in
 * 100,000 steps), each split adding 500 of partial outputs to component
 * 0; component 1 is paged (blocks of 16, off 37); component 2 grows 2 a
 * step until a window fills at step 60,000 (inside a segment whose shape
 * came before: its form does not hold there, and must not be used). */
struct back {
	int calls;
};

static int
back_split(int64_t s)
{
	return (int)(s / 128 % 2) + 1;
}

static int
back_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	(void)e;
	((struct back *)ctx)->calls++;
	v[0] = lmp_num_int(7 + 3 * s + 500 * back_split(s));
	v[1] = lmp_num_int(4 * s + 9 * ceildiv(s + 37, 16));
	v[2] = lmp_num_int(2 * (s < 60000 ? s : 60000));
	return 0;
}

static int
back_shape(void *ctx, int64_t s, uint64_t *sig, int64_t *next, lmp_err *e)
{
	(void)ctx, (void)e;
	*sig = (uint64_t)back_split(s);
	*next = (s / 128 + 1) * 128;
	return 0;
}

static void
test_back(void)
{
	struct back y = {0};
	lmp_dpieces p;
	lmp_num v, want[3] = {lmp_num_int(0), lmp_num_int(0), lmp_num_int(0)}, r[3];
	lmp_err e = {0};
	int good = 1, n = 100000;

	for (int64_t s = 0; s < n; s++) {
		back_step(&y, s, r, &e);
		for (int c = 0; c < 3; c++)
			lmp_num_add(&want[c], &r[c], &want[c]);
	}
	y.calls = 0;
	ok(lmp_dpieces_find(back_step, back_shape, &y, n, 3, 16, 37, 0, 0, &p, &e) == 1, "shapes that come back: found",
		e.msg);
	for (int c = 0; c < 3; c++)
		good &= !lmp_dpieces_sum(&p, c, &v) && lmp_num_eq(&v, &want[c]);
	snprintf(got, sizeof got, "%d pieces, %d forms", p.n, p.dj.n);
	ok(good, "shapes that come back: the sums are the step-by-step sums, exactly (a window fills inside one)", got);
	/* 782 segments, one of them cut where the window fills: 783 pieces */
	ok(p.n == 783, "shapes that come back: a piece a segment, and the window's", got);
	/* the two shapes' forms, the window's two and the one past it: a
	 * handful, not a form a piece */
	ok(p.dj.n <= 6, "shapes that come back: the pieces share their shape's form", got);
	/* a segment whose shape came before costs the pairs its terms are
	 * measured on (the step's, the first block boundary's) and its last
	 * step: about 5 a segment, where fitting and checking each took 30 */
	snprintf(got, sizeof got, "%d steps evaluated", y.calls);
	ok(y.calls < 6 * 782, "shapes that come back: about five steps a segment evaluated", got);
	lmp_dpieces_free(&p);
}

/* A form whose block term its piece could not tell apart: blocks of 96
 * (off 1) and a staircase of 128 (off 32) step together at step 95, the
 * one block boundary of shape A's first segment (80..150), so its fit
 * sums the two terms in h; A's second segment (300..470) has them apart
 * (a block at 287 + 96 = 383, the staircase at 351), where the form read
 * with j = 0 is off by 7 a step between them.  value = 1000 + 5 s + 7 K -
 * 3 H.  (Found by review: the reused form had been checked only at its
 * second and last steps, where K and H had moved alike.) */
static const int64_t apart_cut[] = {0, 80, 151, 300, 471, 600};

static int
apart_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	(void)ctx, (void)e;
	v[0] = lmp_num_int(1000 + 5 * s + 7 * ceildiv(s + 1, 96) - 3 * ((s + 32) / 128));
	return 0;
}

static int
apart_shape(void *ctx, int64_t s, uint64_t *sig, int64_t *next, lmp_err *e)
{
	int k = 0;

	(void)ctx, (void)e;
	while (apart_cut[k + 1] <= s)
		k++;
	*sig = k % 2 ? 0xA : 0xB;
	*next = apart_cut[k + 1];
	return 0;
}

static void
test_apart(void)
{
	lmp_dpieces p;
	lmp_num v, want = lmp_num_int(0), r;
	lmp_err e = {0};

	for (int64_t s = 0; s < 600; s++) {
		apart_step(NULL, s, &r, &e);
		lmp_num_add(&want, &r, &want);
	}
	ok(lmp_dpieces_find(apart_step, apart_shape, NULL, 600, 1, 96, 1, 128, 32, &p, &e) == 1,
		"block and staircase terms apart: found", e.msg);
	lmp_num_str(&want, got);
	ok(!lmp_dpieces_sum(&p, 0, &v) && lmp_num_eq(&v, &want),
		"block and staircase terms apart: a shape's form that summed them is measured again where they part", got);
	lmp_dpieces_free(&p);
}

/* A sliding window's first K/V tile under FlashAttention: the keys a
 * decode step loads fall by a tile of 128 each time the window's start
 * crosses one (phase 21 here), on top of the step's growth and the pages
 * of 16 (offset 37). */
static int
stair_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	(void)ctx, (void)e;
	v[0] = lmp_num_int(1000 + 5 * s - 640 * ((s + 21) / 128) + 3 * ceildiv(s + 37, 16));
	v[1] = lmp_num_int(42);
	return 0;
}

static void
test_stairs(void)
{
	lmp_dpieces p;
	lmp_num v, want[2] = {lmp_num_int(0), lmp_num_int(0)}, r[2];
	lmp_err e = {0};
	int good = 1;

	for (int64_t s = 0; s < 20000; s++) {
		stair_step(NULL, s, r, &e);
		lmp_num_add(&want[0], &r[0], &want[0]);
		lmp_num_add(&want[1], &r[1], &want[1]);
	}
	ok(lmp_dpieces_find(stair_step, NULL, NULL, 20000, 2, 16, 37, 128, 21, &p, &e) == 1,
		"a second staircase: found", e.msg);
	for (int c = 0; c < 2; c++)
		good &= !lmp_dpieces_sum(&p, c, &v) && lmp_num_eq(&v, &want[c]);
	snprintf(got, sizeof got, "%d pieces", p.n);
	ok(good, "a second staircase: the sums are the step-by-step sums, exactly", got);
	ok(p.n == 1, "a second staircase: one piece over 20,000 steps (156 tiles)", got);
	stair_step(NULL, 19999, r, &e);
	ok(!lmp_dpieces_last(&p, 0, &v) && lmp_num_eq(&v, &r[0]), "a second staircase: the last step's value", NULL);
	lmp_dpieces_free(&p);
	/* without it, a piece a tile */
	ok(lmp_dpieces_find(stair_step, NULL, NULL, 20000, 2, 16, 37, 0, 0, &p, &e) == 1 && p.n > 100,
		"without the second staircase: a piece a tile", NULL);
	lmp_dpieces_free(&p);
}

/* ---- attnkernel.c: the tile walk in closed form ---- */

/* lmp_floor_sum against the sum term by term, and the closed-form walk
 * against the tile loop: tile rows bm of 64 to 192, K/V tiles bn of 64 to
 * 256 (112 and 176 among them, FA3's), 1 to 16 packed heads and those that
 * do not divide the tile (3, 5, 6, 7, 12, 71: Llama-3.2-3B, Qwen2.5-14B,
 * Qwen2.5-7B, Falcon-7B's 71 query heads on one KV head), sequences of up
 * to 700 tokens (40,000 in one case of ten) over no cache, up to three
 * 256-key tiles of it, or up to 100,000 keys, half of them under a
 * sliding window of 1 to 4096 keys. */
static void
test_walk(void)
{
	static const int64_t bms[] = {64, 128, 192}, bns[] = {64, 80, 112, 128, 176, 256},
		gs[] = {1, 2, 4, 8, 16, 3, 5, 6, 7, 12, 71};
	int64_t n, m, a, b, bad = 0, cases = 0;
	uint64_t r = 88172645463325252ULL;

	for (n = 0; n <= 40; n++)
		for (m = 1; m <= 9; m++)
			for (a = 0; a <= 20; a++)
				for (b = 0; b <= 20; b++) {
					lmp_i128 want = 0;
					for (int64_t i = 0; i < n; i++)
						want += (a * i + b) / m;
					bad += lmp_floor_sum(n, m, a, b) != want;
				}
	snprintf(got, sizeof got, "%lld differ", (long long)bad);
	ok(bad == 0, "floor sum: each n < 41, m < 10, a, b < 21 against the sum term by term", got);
	bad = 0;
	for (int i = 0; i < 40000; i++) {
		int64_t bm, bn, g, s, c, wl;
		lmp_i128 x[3], y[3];
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		bm = bms[r % 3], bn = bns[(r >> 8) % 6], g = gs[(r >> 16) % 11];
		s = 1 + (int64_t)((r >> 24) % (i % 10 == 0 ? 40000 : 700));
		c = (i % 3 == 0) ? 0 : (int64_t)((r >> 40) % (i % 7 == 0 ? 100000 : 3 * 256));
		/* a window in half the cases: 1 to 4096 keys left */
		wl = i % 2 ? -1 : (int64_t)((r >> 50) % 4096);
		lmp_attn_walk_sums(s, c, g, bm, bn, wl, 0, x);
		lmp_attn_walk_sums(s, c, g, bm, bn, wl, 1, y);
		cases++;
		if (x[0] != y[0] || x[1] != y[1] || x[2] != y[2]) {
			if (!bad)
				snprintf(got, sizeof got, "s %lld c %lld g %lld bm %lld bn %lld wl %lld", (long long)s,
					(long long)c, (long long)g, (long long)bm, (long long)bn, (long long)wl);
			bad++;
		}
	}
	if (!bad)
		snprintf(got, sizeof got, "%lld cases", (long long)cases);
	ok(bad == 0, "the closed-form walk is the tile loop's scores, keys and Q rows (40,000 calls)", got);
	/* by hand: 300 tokens, no cache, MHA, 128 x 128 tiles: tiles end at
	 * rows 128, 256, 300 and walk 1, 2, 3 K/V tiles, loading 128, 256 and
	 * 300 keys (the last capped at the sequence): scores 128 x 128 +
	 * 128 x 256 + 44 x 300 = 62,352 */
	{
		lmp_i128 y[3];
		lmp_attn_walk_sums(300, 0, 1, 128, 128, -1, 1, y);
		snprintf(got, sizeof got, "%lld %lld %lld", (long long)y[0], (long long)y[1], (long long)y[2]);
		ok(y[0] == 62352 && y[1] == 684 && y[2] == 300, "300 tokens in 128 x 128 tiles: 62,352 scores, 684 keys", got);
	}
}

int
main(void)
{
	lmp_alloc_init();
	test_shapes();
	test_back();
	test_apart();
	test_stairs();
	test_time();
	test_pieces();
	test_walk();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
