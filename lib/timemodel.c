/* timemodel.c: the time of one kernel under the time model's terms.
 *
 * A kernel is one row's instance over a phase (lmp-roofline(1) TIME MODEL):
 *
 *   compute = non-GEMM FLOPs / (peak x compute_fraction)
 *           + GEMM time, in waves of tiles over the compute units
 *   memory  = bytes / (bandwidth x memory_fraction)
 *   time    = max(compute, memory, calls x launch_s)
 *
 * The roofline frame is Williams, Waterman and Patterson, "Roofline: an
 * insightful visual performance model" (CACM 2009).  The fractions stand
 * for what real kernels reach of the datasheet figures (fitted per device
 * and engine by lmp-calibrate, or the hardware file's achievable figures
 * from published microbenchmarks).  The launch floor is the shortest time
 * a kernel takes however little it does (a few microseconds: the CUDA
 * Programming Guide's launch overhead, and what CUDA graphs shorten).
 *
 * GEMM waves: a GEMM runs as output tiles of tm x tn, one tile per compute
 * unit (SM, CU) at a time, in waves (NVIDIA's Matrix Multiplication
 * Background User's Guide, "Wave Quantization").  tn = 128 and tm = 128
 * (CUTLASS's default tensor-op threadblock,
 * include/cutlass/gemm/device/default_gemm_configuration.h, 128 x 128 x 32);
 * a small M gets a shorter one: tm = 64 where m <= 64, and 16 where
 * m <= 16.  vLLM's CUTLASS GEMMs pick tiles by M so: for M up to 16 a
 * tile of 16 tokens (on sm80 16 x 64, csrc/quantization/cutlass_w8a8/
 * scaled_mm_c2x_sm80_dispatch.cuh at 0c790eb; on sm90 the fp8 GEMM's
 * 64 x 16 with A and B swapped so the tokens take the short side), for M
 * up to 64 a 64-token side (sm90, N past 1280, as an LLM's layers have;
 * sm80 takes 32 rows for M of 17 to 32, not modelled), which the tensor
 * cores allow (mma.sync m16n8k16; wgmma m64nNk16 with N from 8); cuBLAS
 * runs a bf16 decode GEMM on an H100 with tiles of 8 tokens (nvjet
 * kernels in SGLang's decode profile, pull request 22440).  So a decode
 * step at a small batch is charged the arithmetic of 16 rows, not 64.  A GEMM
 * with fewer tiles than units splits K (cuBLAS's split-K, CUTLASS's
 * split-K and stream-K kernels) into s = min(floor(units / tiles),
 * floor(k / 256)) slices, at least 1, so a decode GEMM of 32 tiles keeps
 * every unit busy; slices of at least 256 deep (four 64-deep main-loop
 * iterations) keep the partial sums' reduction small, and it is not
 * charged.  Each call then takes waves x (one tile's slice at a unit's share of the
 * peak):
 *   waves = ceil(tiles x s / units)
 *   GEMM time = calls x waves x 2 tm tn ceil(k / s) / (peak x compute_fraction / units)
 * and the efficiency, useful FLOPs over what the units could do meanwhile,
 * is m n k / (waves x units x tm x tn x ceil(k / s)). */
#include <math.h>
#include <string.h>

#include "lmp.h"

const lmp_tparams lmp_tparams_ideal = {1, 1, 1, 0, 0, 0};

#define KMIN 256 /* the shallowest split-K slice */

/* One product's waves over units; its time per call at rate (FLOP/s of
 * the whole device). */
static double
gemm_waves(const lmp_kernel *k, double rate, int units, lmp_ktime *t)
{
	double tm = k->m <= 16 ? 16 : k->m <= 64 ? 64 : 128, tn = 128, tiles, s, kk, waves;

	tiles = ceil(k->m / tm) * ceil(k->n / tn);
	s = 1;
	if (tiles < units) {
		s = floor(units / tiles);
		if (s > floor(k->k / KMIN))
			s = floor(k->k / KMIN);
		if (s < 1)
			s = 1;
	}
	kk = ceil(k->k / s);
	waves = ceil(tiles * s / units);
	t->tm = tm;
	t->tn = tn;
	t->tiles = tiles;
	t->split_k = s;
	t->waves = waves;
	t->wave_eff = k->m * k->n * k->k / (waves * units * tm * tn * kk);
	return waves * 2 * tm * tn * kk / (rate / units);
}

void
lmp_kernel_time(const lmp_kernel *k, const lmp_tparams *p, int units, lmp_ktime *t)
{
	double rate = k->peak * p->compute_fraction, f = k->flops;

	*t = (lmp_ktime){0};
	if (p->waves && k->gemm && units > 0 && k->m > 0 && k->n > 0 && k->k > 0 && k->gcalls > 0) {
		double g = 2 * k->m * k->n * k->k * k->gcalls;
		t->gemm_s = k->gcalls * gemm_waves(k, rate, units, t);
		f = f > g ? f - g : 0; /* the rest: elementwise work at the ceiling */
	}
	t->compute = f / rate + t->gemm_s;
	t->memory = k->bytes / (k->bandwidth * p->memory_fraction);
	t->launch = k->calls * p->launch_s;
	t->time = t->compute > t->memory ? t->compute : t->memory;
	if (t->launch > t->time)
		t->time = t->launch;
}

/* The exact time sum (lmp_tsum).  Resolution 2^-80 s (8.3e-25 s): a
 * kernel time of 1 ns keeps 50 of a double's 53 bits, so a phase's sum is
 * the double sum to about 1e-15 relative.  Range: one term's time below
 * 2^46 s (2.2 million years) and the whole sum below 2^47 s; past either
 * the sum is flagged and reads NAN (lmp_roofline refuses a time that is
 * not finite).  A whole count multiplies the integer, so count x t is t
 * added count times to the bit; a count that is not a whole number below
 * 2^53 multiplies the double first (still one term, in any order). */
#define TSUM_ONE 1208925819614629174706176.0 /* 2^80 */
#define TSUM_TERM_MAX 85070591730234615865843651857942052864.0 /* 2^126 */

static inline __attribute__((always_inline)) int
tsum_units(double t, lmp_i128 *out)
{
	double x = t * TSUM_ONE; /* exact scaling by a power of two */
	uint64_t bits, m;
	int sh;

	if (!(x >= 0 && x < TSUM_TERM_MAX))
		return -1;
	/* to the nearest unit, ties to even, as rint: below 2^52 adding and
	 * taking away 2^52 rounds exactly so; from 2^52 on x is whole
	 * (inline: rint is a library call on x86-64's baseline) */
	if (x < 4503599627370496.0) {
		x += 4503599627370496.0;
		x -= 4503599627370496.0;
	}
	/* x is a whole number: its significand shifted by its exponent, read
	 * from its bits (the 128-bit conversion is a library call) */
	memcpy(&bits, &x, sizeof bits);
	if (!(bits >> 52)) {
		*out = 0; /* x is 0 */
		return 0;
	}
	m = (bits & ((1ULL << 52) - 1)) | 1ULL << 52;
	sh = (int)(bits >> 52) - 1075;
	*out = sh >= 0 ? (lmp_i128)m << sh : (lmp_i128)(m >> -sh);
	return 0;
}

/* One term's product c x t (tsum_prod) the long way, through tsum_units:
 * t below 2^-28 s, out of range, negative or not finite.  Out of line:
 * the common term never comes here. */
static __attribute__((noinline)) lmp_i128
tsum_prod_slow(double t, int64_t c)
{
	lmp_i128 u, prod;

	if (!(t >= 0) || !isfinite(t) || tsum_units(t, &u))
		return -1;
	/* below 2^73 units (8 ms) times a count below 2^54 cannot pass
	 * 2^127: a plain product */
	if (u < (lmp_i128)1 << 73)
		return u * (lmp_i128)c;
	if (__builtin_mul_overflow(u, (lmp_i128)c, &prod))
		return -1;
	return prod;
}

/* c x t in units for a whole count c in (0, 2^53], or -1 where the term
 * makes the sum bad; lim is tsum_lim(c).  Where t is 2^-28 s or more,
 * t x 2^80 is a whole number: t's significand m shifted left by
 * sh = exponent - 995.  Where c << sh still fits 64 bits (sh <= lim), the
 * product is m x (c << sh), one multiply, below 2^117: the same bits as
 * tsum_units' product, read straight from t's.  The rest (a longer t, a
 * larger count, t below 2^-28 s, out of range, negative or not finite)
 * goes the long way. */
static inline __attribute__((always_inline)) lmp_i128
tsum_prod(double t, int64_t c, unsigned lim)
{
	uint64_t bits;
	unsigned sh;

	memcpy(&bits, &t, sizeof bits);
	sh = (unsigned)(bits >> 52) - 995; /* a negative t's sign bit puts it past lim */
	if (__builtin_expect(sh <= lim, 1))
		return (lmp_i128)((unsigned __int128)((bits & ((1ULL << 52) - 1)) | 1ULL << 52) *
			((uint64_t)c << sh));
	return bits ? tsum_prod_slow(t, c) : 0;
}

/* The largest shift of c that fits 64 bits (c >= 1). */
static inline unsigned
tsum_lim(int64_t c)
{
	return (unsigned)__builtin_clzll((uint64_t)c);
}

/* s += prod (tsum_prod's).  A sum that is not bad is never negative, so
 * the signed overflow of q + prod is its sign bit. */
static inline __attribute__((always_inline)) void
tsum_put(lmp_tsum *s, lmp_i128 prod)
{
	/* without branches: once bad, the sum's bits no longer matter */
	s->q = (lmp_i128)((unsigned __int128)s->q + (unsigned __int128)prod);
	s->bad |= (prod < 0) | (s->q < 0);
}

/* A whole count below 2^53: its 64-bit conversion is exact. */
static inline int
whole_count(double count)
{
	return count > 0 && count <= 9007199254740992.0 && count == (double)(int64_t)count;
}

void
lmp_tsum_add(lmp_tsum *s, double count, double t)
{
	lmp_i128 prod;

	if (s->bad || count == 0)
		return;
	if (!(count > 0) || !(t >= 0) || !isfinite(t) || !isfinite(count)) {
		s->bad = 1;
		return;
	}
	if (whole_count(count)) {
		tsum_put(s, tsum_prod(t, (int64_t)count, tsum_lim((int64_t)count)));
		return;
	}
	if (tsum_units(count * t, &prod)) {
		s->bad = 1;
		return;
	}
	if (__builtin_add_overflow(s->q, prod, &s->q) || s->q < 0)
		s->bad = 1;
}

static inline int
same_bits(double a, double b)
{
	uint64_t x, y;

	memcpy(&x, &a, sizeof x);
	memcpy(&y, &b, sizeof y);
	return x == y;
}

void
lmp_tsum_kernel(lmp_tsum *const s[4], const lmp_ktime *kt, double count)
{
	lmp_i128 pc, pm, pl, pt;
	int64_t c;
	unsigned lim;

	if (count == 0)
		return;
	if (!whole_count(count)) {
		lmp_tsum_add(s[0], count, kt->time);
		lmp_tsum_add(s[1], count, kt->compute);
		lmp_tsum_add(s[2], count, kt->memory);
		lmp_tsum_add(s[3], count, kt->launch);
		return;
	}
	c = (int64_t)count;
	lim = tsum_lim(c);
	pc = tsum_prod(kt->compute, c, lim);
	pm = tsum_prod(kt->memory, c, lim);
	pl = tsum_prod(kt->launch, c, lim);
	/* lmp_kernel_time's time is one of the three, bit for bit, and so is
	 * its product; a step-by-step sum (lmp_steps_time) need not be */
	pt = same_bits(kt->time, kt->compute) ? pc : same_bits(kt->time, kt->memory) ? pm :
		same_bits(kt->time, kt->launch) ? pl : tsum_prod(kt->time, c, lim);
	tsum_put(s[0], pt);
	tsum_put(s[1], pc);
	tsum_put(s[2], pm);
	tsum_put(s[3], pl);
}

void
lmp_tsum_merge(lmp_tsum *s, const lmp_tsum *a)
{
	if (a->bad || __builtin_add_overflow(s->q, a->q, &s->q) || s->q < 0)
		s->bad = 1;
}

/* A sum (0 to 2^127) as the nearest double, as the 128-bit conversion
 * rounds it (a library call): past 64 bits its top 64 bits, the bits
 * shifted out kept as a sticky low bit, round as the whole would, and
 * scaling by 2^n is exact. */
static double
tsum_double(lmp_i128 q)
{
	uint64_t hi = (uint64_t)((unsigned __int128)q >> 64), lo = (uint64_t)q, v;
	int n;

	if (!hi)
		return (double)lo;
	n = 64 - __builtin_clzll(hi);
	v = (uint64_t)((unsigned __int128)q >> n) | ((lo & ((1ULL << n) - 1)) != 0);
	return (double)v * (double)(1ULL << n);
}

double
lmp_tsum_value(const lmp_tsum *s)
{
	return s->bad ? NAN : tsum_double(s->q) / TSUM_ONE;
}
