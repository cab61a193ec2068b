/* timesteps.c: a decode row timed step by step, in closed form.
 *
 * A decode phase's row gives its work per step as pieces (lmp-eval(1)
 * "per_step"): over a piece, FLOPs and bytes are q0 + d (s - first) +
 * j (K(s) - K(first)) with K(s) = ceil((s + off) / block).  Each step is
 * one kernel, timed by lmp_kernel_time: max(compute, memory, launch).  Its
 * GEMM shape is the same at every step, so compute and memory are affine
 * in the step's FLOPs and bytes, and along steps at a stride over which K
 * moves evenly (1 without the block term; block with it, one progression
 * per residue) they are affine in the step's index.  The maximum of three
 * affine sequences changes its argument only where two of them cross: those
 * crossings are solved for, and between them the time is one affine
 * sequence, summed from its two ends (the trapezoid rule is exact for a
 * line).  The work is O(pieces x block) calls of lmp_kernel_time whatever
 * the number of steps; the sums equal the step-by-step sum but for the
 * order of the additions. */
#include <math.h>

#include "lmp.h"

static int64_t
kb(const lmp_stepwork *w, int64_t s)
{
	return w->block > 1 ? (s + w->off + w->block - 1) / w->block : 0;
}

/* Step s of piece p as a kernel. */
static void
step_kernel(const lmp_kernel *k, const lmp_stepwork *w, const lmp_steppiece *p, int64_t s, lmp_kernel *out)
{
	double ds = (double)(s - p->first), dk = (double)(kb(w, s) - kb(w, p->first));

	*out = *k;
	out->flops = p->flops[0] + p->flops[1] * ds + p->flops[2] * dk;
	out->bytes = p->bytes[0] + p->bytes[1] * ds + p->bytes[2] * dk;
}

/* Where a - b changes sign between 0 and n - 1 (values at the ends), as
 * a fraction of the way; NAN where it does not. */
static double
crossing(double a0, double a1, double b0, double b1, double n1)
{
	double d0 = a0 - b0, d1 = a1 - b1;

	if (!(d0 * d1 < 0))
		return NAN;
	return n1 * d0 / (d0 - d1);
}

static void
add_range(lmp_ktime *sum, const lmp_ktime *a, const lmp_ktime *b, double cnt)
{
	sum->compute += cnt * (a->compute + b->compute) / 2;
	sum->memory += cnt * (a->memory + b->memory) / 2;
	sum->launch += cnt * (a->launch + b->launch) / 2;
	sum->time += cnt * (a->time + b->time) / 2;
	sum->gemm_s += cnt * (a->gemm_s + b->gemm_s) / 2;
}

/* The steps s0, s0 + stride, ... (n of them) of piece p. */
static void
progression(const lmp_kernel *k, const lmp_stepwork *w, const lmp_steppiece *p, int64_t s0, int64_t stride, int64_t n,
	const lmp_tparams *q, int units, lmp_ktime *sum)
{
	lmp_kernel ka, kz;
	lmp_ktime ta, tz;
	double x[3], t;
	int64_t a, b;
	int nx = 0, i, j;

	step_kernel(k, w, p, s0, &ka);
	step_kernel(k, w, p, s0 + (n - 1) * stride, &kz);
	lmp_kernel_time(&ka, q, units, &ta);
	lmp_kernel_time(&kz, q, units, &tz);
	if (!sum->waves && ta.waves > 0) {
		sum->tm = ta.tm;
		sum->tn = ta.tn;
		sum->tiles = ta.tiles;
		sum->split_k = ta.split_k;
		sum->waves = ta.waves;
		sum->wave_eff = ta.wave_eff;
	}
	if (n == 1) {
		add_range(sum, &ta, &ta, 1);
		return;
	}
	/* where the bound may switch: compute, memory and the launch floor
	 * crossing each other */
	x[nx] = crossing(ta.compute, tz.compute, ta.memory, tz.memory, (double)(n - 1));
	nx += !isnan(x[nx]);
	x[nx] = crossing(ta.compute, tz.compute, ta.launch, tz.launch, (double)(n - 1));
	nx += !isnan(x[nx]);
	x[nx] = crossing(ta.memory, tz.memory, ta.launch, tz.launch, (double)(n - 1));
	nx += !isnan(x[nx]);
	for (i = 1; i < nx; i++)
		for (j = i; j > 0 && x[j - 1] > x[j]; j--) {
			t = x[j];
			x[j] = x[j - 1];
			x[j - 1] = t;
		}
	a = 0;
	for (i = 0; i <= nx; i++) {
		b = i < nx ? (int64_t)floor(x[i]) : n - 1;
		if (b > n - 1)
			b = n - 1;
		if (b < a)
			continue;
		/* between crossings the largest term is one line */
		if (a == 0 && b == n - 1) {
			add_range(sum, &ta, &tz, (double)n);
		} else {
			lmp_kernel kx;
			lmp_ktime t0, t1;
			step_kernel(k, w, p, s0 + a * stride, &kx);
			lmp_kernel_time(&kx, q, units, &t0);
			step_kernel(k, w, p, s0 + b * stride, &kx);
			lmp_kernel_time(&kx, q, units, &t1);
			add_range(sum, &t0, &t1, (double)(b - a + 1));
		}
		a = b + 1;
	}
}

void
lmp_steps_time(const lmp_kernel *k, const lmp_stepwork *w, const lmp_tparams *q, int units, lmp_ktime *out)
{
	*out = (lmp_ktime){0};
	for (int i = 0; i < w->n; i++) {
		const lmp_steppiece *p = &w->p[i];
		int64_t n = p->last - p->first + 1, r;
		if (n <= 0)
			continue;
		if (w->block <= 1 || (p->flops[2] == 0 && p->bytes[2] == 0)) {
			progression(k, w, p, p->first, 1, n, q, units, out);
			continue;
		}
		/* the block term moves by one every block steps: one progression
		 * per residue */
		for (r = 0; r < w->block && r < n; r++)
			progression(k, w, p, p->first + r, w->block, (n - 1 - r) / w->block + 1, q, units, out);
	}
}
