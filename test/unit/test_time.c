/* Unit tests of the time model (timemodel.c) and of lmp_timed_* against
 * lmp_roofline.  Output is TAP; test/run counts it.  Every expected value is
 * worked out by hand in the comment next to it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

static char got[256];

static int
near(double a, double b)
{
	snprintf(got, sizeof got, "%.17g, want %.17g", a, b);
	return fabs(a - b) <= 1e-12 * fabs(b);
}

/* An H100 SXM: 989.4 TFLOP/s bf16 dense, 3.35 TB/s, 132 SMs. */
static lmp_hw h100 = {
	.id = "test-h100", .name = "test H100", .peak = {[LMP_BF16] = 989.4e12}, .capacity = 80e9,
	.bandwidth = 3.35e12, .scaleup_bw = 450e9, .scaleup_latency = 2e-6, .gpus_per_node = 8, .compute_units = 132,
};

static void
test_kernel(void)
{
	lmp_tparams p = {0.5, 0.8, 1, 5e-6, 1e-5, 0};
	lmp_kernel k = {.flops = 4.947e11, .bytes = 1.34e9, .calls = 1, .peak = 989.4e12, .bandwidth = 3.35e12};
	lmp_ktime t;

	/* compute 4.947e11 / (989.4e12 x 0.5) = 1e-3 s; memory 1.34e9 /
	 * (3.35e12 x 0.8) = 5e-4 s; launch 5e-6 s: compute-bound, 1e-3 s */
	lmp_kernel_time(&k, &p, 132, &t);
	ok(near(t.compute, 1e-3), "compute: flops over peak x compute_fraction", got);
	ok(near(t.memory, 5e-4), "memory: bytes over bandwidth x memory_fraction", got);
	ok(near(t.time, 1e-3), "time: the longest term", got);
	ok(t.waves == 0, "no gemm: no waves", NULL);
	/* 2000 FLOPs, 2000 bytes, 3 launches: 3 x 5e-6 s beats ~1e-9 s */
	k = (lmp_kernel){.flops = 2000, .bytes = 2000, .calls = 3, .peak = 989.4e12, .bandwidth = 3.35e12};
	lmp_kernel_time(&k, &p, 132, &t);
	ok(near(t.time, 1.5e-5) && near(t.launch, 1.5e-5), "launch floor: calls x launch_s", got);
}

static void
test_waves(void)
{
	lmp_tparams p = lmp_tparams_ideal;
	lmp_ktime t;
	/* Llama-2-7B q_proj, 4096 x 4096, at m = 128 */
	lmp_kernel k = {.flops = 2.0 * 128 * 4096 * 4096, .bytes = 35651584, .calls = 1, .peak = 989.4e12,
		.bandwidth = 3.35e12, .gemm = 1, .m = 128, .n = 4096, .k = 4096, .gcalls = 1};

	p.waves = 1;
	lmp_kernel_time(&k, &p, 132, &t);
	/* tiles 128 x 128: 1 x 32 = 32 < 132 SMs: split K min(floor(132/32),
	 * floor(4096/256)) = 4 ways, 128 pieces of depth 1024, one wave;
	 * time 2 x 128 x 128 x 1024 / (989.4e12 / 132); efficiency
	 * 128 x 4096 x 4096 / (132 x 128 x 128 x 1024) = 32/33 */
	ok(t.tm == 128 && t.tn == 128 && t.tiles == 32 && t.split_k == 4 && t.waves == 1, "q_proj m=128: 32 tiles, "
		"split 4, one wave", NULL);
	ok(near(t.wave_eff, 32.0 / 33), "q_proj m=128: efficiency 32/33", got);
	ok(near(t.compute, 2.0 * 128 * 128 * 1024 / (989.4e12 / 132)), "q_proj m=128: compute in one wave", got);
	/* m = 2048: 16 x 32 = 512 tiles, no split, ceil(512/132) = 4 waves of
	 * depth 4096; efficiency 512 / (4 x 132) = 32/33 again */
	k.m = 2048;
	k.flops = 2.0 * 2048 * 4096 * 4096;
	lmp_kernel_time(&k, &p, 132, &t);
	ok(t.tiles == 512 && t.split_k == 1 && t.waves == 4, "m=2048: 512 tiles in 4 waves", NULL);
	ok(near(t.compute, 4 * 2.0 * 128 * 128 * 4096 / (989.4e12 / 132)), "m=2048: 4 waves of full tiles", got);
	/* decode m = 1: tiles 16 x 128 (a small M's short tile), 32 of them,
	 * split 4, one wave; 2 x 16 x 128 x 1024 x 132 / 989.4e12 = 5.6e-7 s
	 * against 33.5 MB at 3.35 TB/s = 1.0e-5 s: memory-bound */
	k = (lmp_kernel){.flops = 2.0 * 4096 * 4096, .bytes = 33554432 + 16384, .calls = 1, .peak = 989.4e12,
		.bandwidth = 3.35e12, .gemm = 1, .m = 1, .n = 4096, .k = 4096, .gcalls = 1};
	lmp_kernel_time(&k, &p, 132, &t);
	ok(t.tm == 16 && t.split_k == 4 && t.waves == 1, "decode m=1: 16-row tiles, split 4", NULL);
	ok(near(t.compute, 2.0 * 16 * 128 * 1024 * 132 / 989.4e12) && t.time == t.memory,
		"decode m=1: memory-bound under waves", got);
	/* the tile's rows by m: 16 up to 16, 64 up to 64, then 128 */
	{
		static const double ms[] = {2, 16, 17, 32, 33, 64, 65, 4096}, want[] = {16, 16, 64, 64, 64, 64, 128, 128};
		int bad = 0;
		for (int i = 0; i < 8; i++) {
			lmp_kernel q = k;
			lmp_ktime u;
			q.m = ms[i];
			q.flops = 2.0 * ms[i] * 4096 * 4096;
			lmp_kernel_time(&q, &p, 132, &u);
			bad += u.tm != want[i];
		}
		ok(!bad, "tile rows 16 for m up to 16, 64 up to 64, else 128", NULL);
	}
	/* extra elementwise FLOPs beyond 2mnk run at the ceiling: +1e9 FLOPs
	 * add 1e9 / 989.4e12 */
	k.flops += 1e9;
	{
		double before = t.compute;
		lmp_kernel_time(&k, &p, 132, &t);
		ok(near(t.compute, before + 1e9 / 989.4e12), "the rest of the row's FLOPs at the ceiling", got);
	}
	/* waves off, or a device without compute units: flops over the ceiling */
	lmp_kernel_time(&k, &lmp_tparams_ideal, 132, &t);
	ok(near(t.compute, k.flops / 989.4e12) && t.waves == 0, "waves off: the plain roofline", got);
	lmp_kernel_time(&k, &p, 0, &t);
	ok(near(t.compute, k.flops / 989.4e12) && t.waves == 0, "no compute units: the plain roofline", got);
}

/* A request (prefill and 3 decode steps) under a TP 2 layout, with a GEMM
 * row, an elementwise row and an all-reduce; and a single step without
 * rows. */
static const char gen_doc[] =
	"{\"lmp\":\"eval\",\"version\":\"0.1.0\",\"model\":{\"id\":\"t\"},"
	"\"runtime\":{\"batch_size\":2,\"prompt_len\":128,\"gen_len\":4,\"w_bit\":16,\"a_bit\":16,\"kv_bit\":16,"
	"  \"tp\":2,\"pp\":1,\"ep\":1,\"dp\":1,\"devices\":2},"
	"\"phases\":{"
	" \"prefill\":{\"rows\":["
	"  {\"path\":\"q\",\"count\":32,\"flops\":4294967296,\"bytes\":{\"reads\":34603008,\"writes\":1048576,\"intermediates\":0},"
	"   \"gemm\":{\"m\":256,\"n\":2048,\"k\":4096,\"calls\":1}},"
	"  {\"path\":\"act\",\"count\":32,\"flops\":1000000,\"bytes\":{\"reads\":2000000,\"writes\":1000000,\"intermediates\":0}},"
	"  {\"path\":\"ar\",\"count\":32,\"collective\":{\"kind\":\"all_reduce\",\"group\":\"tp\",\"size\":2,\"bytes\":2097152}}],"
	"  \"totals\":{\"flops\":137470984192,\"bytes\":{\"reads\":1171296256,\"writes\":65554432,\"intermediates\":0}}},"
	" \"decode\":{\"steps\":3,\"rows\":["
	"  {\"path\":\"q\",\"count\":32,\"flops\":100663296,\"bytes\":{\"reads\":100700000,\"writes\":49152,\"intermediates\":0},"
	"   \"gemm\":{\"m\":2,\"n\":2048,\"k\":4096,\"calls\":3}},"
	"  {\"path\":\"act\",\"count\":32,\"flops\":30000,\"bytes\":{\"reads\":60000,\"writes\":30000,\"intermediates\":0}},"
	"  {\"path\":\"ar\",\"count\":32,\"collective\":{\"kind\":\"all_reduce\",\"group\":\"tp\",\"size\":2,\"bytes\":49152}}],"
	"  \"totals\":{\"flops\":3222182272,\"bytes\":{\"reads\":3224320000,\"writes\":2533376,\"intermediates\":0}}}},"
	"\"totals\":{\"flops\":140693166464,\"bytes\":{\"reads\":4395616256,\"writes\":68087808,\"intermediates\":0},"
	"  \"weight_bytes\":1073741824,\"state_bytes\":1000000}}";

static const char step_doc[] =
	"{\"lmp\":\"eval\",\"version\":\"0.1.0\",\"model\":{\"id\":\"t\"},"
	"\"runtime\":{\"batch_size\":1,\"seq_len\":1,\"cache_len\":1023,\"w_bit\":16,\"a_bit\":16,\"kv_bit\":16,"
	"  \"tokens\":1,\"kv_tokens\":1024},\"rows\":[],"
	"\"totals\":{\"flops\":13000000000,\"bytes\":{\"reads\":13500000000,\"writes\":1000000,\"intermediates\":0},"
	"  \"weight_bytes\":13476839424,\"state_bytes\":536870912}}";

static double
tot(const cJSON *doc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "totals"), key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* lmp_roofline under terms p against lmp_timed_eval under the same: the
 * same doubles, not merely close. */
static void
same_times(const char *name, const char *text, const lmp_tparams *p, int gen)
{
	lmp_err e = {0};
	lmp_roof_opts o = {.hw = &h100, .devices = 1, .compute_eff = 0.9, .memory_eff = 0.7, .tmode = LMP_TM_TERMS,
		.tp = *p};
	cJSON *a = lmp_json_parse_one(text, strlen(text), name, &e), *b = lmp_json_parse_one(text, strlen(text), name, &e);
	lmp_timed *t = b ? lmp_timed_prepare(b, &o, &e) : NULL;
	lmp_times tm;
	char what[160];

	if (!a || !t || lmp_roofline(a, &o, &e) || lmp_timed_eval(t, p, &tm)) {
		ok(0, name, e.msg);
		goto out;
	}
	snprintf(what, sizeof what, "%s: lmp_timed_eval's time is lmp_roofline's, bit for bit", name);
	snprintf(got, sizeof got, "%.17g vs %.17g", tm.time_s, tot(a, "time_s"));
	ok(tm.time_s == tot(a, "time_s"), what, got);
	if (gen) {
		snprintf(what, sizeof what, "%s: and its ttft, tpot and tokens per second", name);
		snprintf(got, sizeof got, "%.17g %.17g %.17g vs %.17g %.17g %.17g", tm.ttft_s, tm.tpot_s, tm.tokens_per_s,
			tot(a, "ttft_s"), tot(a, "tpot_s"), tot(a, "tokens_per_s"));
		ok(tm.ttft_s == tot(a, "ttft_s") && tm.tpot_s == tot(a, "tpot_s") && tm.e2e_s == tot(a, "e2e_latency_s") &&
			tm.tokens_per_s == tot(a, "tokens_per_s"), what, got);
	}
out:
	lmp_timed_free(t);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* The exact time sum: the same terms in any order or grouping give the
 * same bits.  Terms: times of a Llama-2-7B prefill's kernels, 32 of each
 * (the layers) and one lm_head; 0.1 + 0.2 is the classic double sum that
 * depends on order ((0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)). */
static void
test_tsum(void)
{
	static const double t[] = {1.2345678901234567e-4, 3.3e-6, 0.1, 0.2, 0.3, 7.77e-9, 2.5e-5};
	int n = sizeof t / sizeof t[0], i, j;
	lmp_tsum fwd = {0}, rev = {0}, grp = {0}, ones = {0}, big = {0};
	double dsum = 0;

	for (i = 0; i < n; i++) {
		lmp_tsum_add(&fwd, 32, t[i]);
		lmp_tsum_add(&rev, 32, t[n - 1 - i]);
		dsum += 32 * t[i];
	}
	/* grouped: the same terms as count 20 + count 12, and one at a time */
	for (i = 0; i < n; i++) {
		lmp_tsum_add(&grp, 20, t[i]);
		for (j = 0; j < 32; j++)
			lmp_tsum_add(&ones, 1, t[(i + 3) % n]);
	}
	for (i = n - 1; i >= 0; i--)
		lmp_tsum_add(&grp, 12, t[i]);
	ok(fwd.q == rev.q && fwd.q == grp.q && fwd.q == ones.q, "exact sum: row order, reversed, grouped 20 + 12 and "
		"one at a time give the same bits", NULL);
	/* the double sum in row order agrees to the resolution: 32 x 0.6...
	 * = 19.2...; each term rounds by at most 2^-81 s */
	ok(near(lmp_tsum_value(&fwd), dsum), "exact sum: the double sum to 1e-12 relative", got);
	ok(!((0.1 + 0.2) + 0.3 == 0.1 + (0.2 + 0.3)), "(doubles: 0.1 + 0.2 + 0.3 depends on the order)", NULL);
	/* a term past 2^46 s, or NAN, flags the sum: NAN */
	lmp_tsum_add(&big, 1, 1e14);
	ok(big.bad && isnan(lmp_tsum_value(&big)), "exact sum: a term past 2^46 s reads NAN", NULL);
	big = (lmp_tsum){0};
	lmp_tsum_add(&big, 1, 3e13); /* 2^44.8: fits */
	lmp_tsum_add(&big, 1, 3e13);
	lmp_tsum_add(&big, 3, 3e13); /* 1.5e14 > 2^47 = 1.4e14: the sum overflows */
	ok(big.bad, "exact sum: a total past 2^47 s is flagged", NULL);
	big = (lmp_tsum){0};
	lmp_tsum_add(&big, 2, NAN);
	ok(isnan(lmp_tsum_value(&big)), "exact sum: a NAN term reads NAN", NULL);
	/* a term rounds to the nearest unit of 2^-80 s, a tie to the even one:
	 * 2.5 units -> 2, 3.5 -> 4, 3 x 2.25 -> 3 x 2; 2^-20 s is 2^60 units
	 * (past 2^52 a double is whole: taken as it is) */
	{
		const double unit = ldexp(1, -80);
		lmp_tsum a = {0}, b = {0}, c = {0}, d = {0};
		lmp_tsum_add(&a, 1, 2.5 * unit);
		lmp_tsum_add(&b, 1, 3.5 * unit);
		lmp_tsum_add(&c, 3, 2.25 * unit);
		lmp_tsum_add(&d, 1, ldexp(1, -20));
		ok(a.q == 2 && b.q == 4 && c.q == 6 && d.q == (lmp_i128)1 << 60, "exact sum: a term rounds to the "
			"nearest 2^-80 s, ties to even", NULL);
	}
	/* lmp_tsum_kernel and lmp_tsum_add against the rule they implement
	 * (lmp.h), worked here in long double: a term is t x 2^80 rounded to
	 * the nearest whole unit, ties to even (rintl of an exact scaling),
	 * bad past 2^126 units, negative or not finite; a whole count below
	 * 2^53 multiplies the units, another count multiplies t first; the
	 * sum is bad past 2^127.  Counts whole, fractional, 2^40, 0, negative,
	 * 2^53; terms 0, NAN, past 2^46 s, ties, either side of 2^-28 s (where
	 * the fast path starts), a time that is one of the other three or none
	 * of them. */
	{
		static const double counts[] = {32, 2.5, 1099511627776.0, 0, -1, 1, 9007199254740992.0, 3};
		const double u = ldexp(1, -80), e28 = ldexp(1, -28);
		/* time, compute, memory, launch */
		const double terms[][4] = {{1.2345678901234567e-4, 3.3e-6, 0, 7.77e-9}, {NAN, 0.1, 1e14, 2e-3},
			{3e13, 0.5, 1e-30, 0.0078125}, {4.5e-3, 4.5e-3, 1e-3, 0}, {2e-6, 1e-6, 1.5e-6, 2e-6},
			{1e-3, 1e-4, 1e-3, 0}, {0.1, 0.1, 0.01, 0}, {1e11, 1e11, 1, 0},
			{2.5 * u, 3.5 * u, 2.25 * u, 1.5 * u}, {e28, nextafter(e28, 0), nextafter(e28, 1), 3 * e28},
			{-0.0, 0.0, -1e-9, INFINITY}, {ldexp(1, 45), ldexp(1, 46), 7e13, 1e-300}};
		int same = 1;
		for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
			for (size_t ti = 0; ti < sizeof terms / sizeof terms[0]; ti++) {
				lmp_tsum one[4] = {{0}}, all[4] = {{0}};
				lmp_tsum *const to[4] = {&all[0], &all[1], &all[2], &all[3]};
				struct { lmp_i128 q; int bad; } want[4] = {{0, 0}};
				lmp_ktime kt = {.time = terms[ti][0], .compute = terms[ti][1], .memory = terms[ti][2],
					.launch = terms[ti][3]};
				for (int r = 0; r < 2; r++) { /* twice: onto sums already holding terms */
					for (int k = 0; k < 4; k++) {
						double c = counts[ci], t = terms[ti][k];
						int whole = c > 0 && c <= 9007199254740992.0 && c == floor(c);
						long double x = ldexpl(whole ? (long double)t : (long double)(c * t), 80);
						lmp_i128 units, prod;
						lmp_tsum_add(&one[k], c, t);
						if (want[k].bad || c == 0)
							continue;
						if (!(c > 0) || !isfinite(c) || !(t >= 0) || !isfinite(t) ||
						    !(x < ldexpl(1, 126))) {
							want[k].bad = 1;
							continue;
						}
						units = (lmp_i128)rintl(x);
						if ((whole && __builtin_mul_overflow(units, (lmp_i128)c, &prod)) ||
						    __builtin_add_overflow(want[k].q, whole ? prod : units, &want[k].q) ||
						    want[k].q < 0)
							want[k].bad = 1;
					}
					lmp_tsum_kernel(to, &kt, counts[ci]);
				}
				for (int k = 0; k < 4; k++)
					same &= one[k].bad == want[k].bad && all[k].bad == want[k].bad &&
						(want[k].bad || (one[k].q == want[k].q && all[k].q == want[k].q));
			}
		ok(same, "exact sum: lmp_tsum_add and lmp_tsum_kernel add each term as the rule says "
			"(rounded to 2^-80 s in long double), whatever the count and term", NULL);
	}
	/* lmp_tsum_value: the nearest double, as the compiler's 128-bit
	 * conversion rounds (ties to even), whatever the sum's size: 53
	 * significant bits, then dropped bits of every length that are zero, a
	 * tie, just under or over it, only the lowest set, or all set */
	{
		int same = 1;
		for (int drop = 1; drop <= 74; drop++) {
			lmp_i128 half = (lmp_i128)1 << (drop - 1), full = ((lmp_i128)1 << drop) - 1;
			const lmp_i128 tails[] = {0, half, half - 1, half + 1, 1, full};
			for (int odd = 0; odd < 2; odd++)
				for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
					lmp_tsum s = {0};
					s.q = ((lmp_i128)(0x1d5a4c3b2a1f8 | odd | (1ULL << 52)) << drop) | tails[k];
					same &= lmp_tsum_value(&s) == (double)s.q / ldexp(1, 80);
				}
		}
		ok(same, "exact sum: its value rounds as the 128-bit conversion does", NULL);
	}
	/* a per-layer document's time through the exact sum: 32 memory-bound
	 * q_proj rows (4.29e9 FLOPs take 4.3e-6 s at 989.4 TFLOP/s, 35651584
	 * bytes 1.06e-5 s at 3.35 TB/s) and 32 elementwise rows of 3e6 bytes:
	 * 32 x (35651584 + 3e6) / 3.35e12 s, to 1e-12 relative */
	{
		static const char doc[] = "{\"lmp\":\"eval\",\"runtime\":{\"batch_size\":1,\"seq_len\":128,"
			"\"cache_len\":0,\"w_bit\":16,\"a_bit\":16},\"rows\":["
			"{\"count\":32,\"flops\":4294967296,\"bytes\":{\"reads\":34603008,\"writes\":1048576,\"intermediates\":0}},"
			"{\"count\":32,\"flops\":1000000,\"bytes\":{\"reads\":2000000,\"writes\":1000000,\"intermediates\":0}}],"
			"\"totals\":{\"flops\":137470984192,\"bytes\":{\"reads\":1171296256,\"writes\":65554432,\"intermediates\":0}}}";
		lmp_err e = {0};
		lmp_roof_opts o = {.hw = &h100, .devices = 1, .compute_eff = 1, .memory_eff = 1};
		cJSON *d = lmp_json_parse_one(doc, strlen(doc), "doc", &e);
		lmp_timed *tt = d ? lmp_timed_prepare(d, &o, &e) : NULL;
		lmp_times tm;
		if (!tt || lmp_timed_eval(tt, &lmp_tparams_ideal, &tm))
			ok(0, "per-layer time", e.msg);
		else
			ok(near(tm.time_s, 32 * (35651584 + 3e6) / 3.35e12), "exact sum: a per-layer document's time", got);
		lmp_timed_free(tt);
		cJSON_Delete(d);
	}
}

static void
test_timed(void)
{
	lmp_tparams cal = {0.62, 0.71, 0.8, 4e-6, 2.5e-5, 1}, slow = {0.3, 0.5, 0.6, 2e-5, 1e-3, 0};
	lmp_err e = {0};
	lmp_roof_opts o = {.hw = &h100, .devices = 1, .compute_eff = 1, .memory_eff = 1};
	cJSON *d = lmp_json_parse_one(gen_doc, strlen(gen_doc), "gen", &e);
	lmp_timed *t = lmp_timed_prepare(d, &o, &e);
	lmp_times a, b;

	same_times("a request under a layout", gen_doc, &cal, 1);
	same_times("a request under slow terms", gen_doc, &slow, 1);
	same_times("a request under the ideal terms", gen_doc, &lmp_tparams_ideal, 1);
	same_times("a step without rows", step_doc, &cal, 0);
	/* the step overhead: 1 prefill + 3 decode steps, 4 x step_s in all,
	 * one in ttft and one in tpot */
	if (!t) {
		ok(0, "prepare", e.msg);
	} else {
		lmp_tparams q = cal;
		q.step_s = 0;
		lmp_timed_eval(t, &q, &a);
		lmp_timed_eval(t, &cal, &b);
		ok(near(b.time_s - a.time_s, 4 * 2.5e-5), "a request of 4 tokens pays 4 steps' overhead", got);
		ok(near(b.ttft_s - a.ttft_s, 2.5e-5) && near(b.tpot_s - a.tpot_s, 2.5e-5),
			"one step's overhead in ttft and in tpot", got);
	}
	lmp_timed_free(t);
	cJSON_Delete(d);
	/* the launch floor counts a row's launches over its phase: a GEMM
	 * row its products (gemm.calls 3), another row one a step (3 decode
	 * steps); at 1 s a launch both take 3 s an instance */
	{
		lmp_tparams slowl = {1, 1, 1, 1, 0, 1};
		lmp_roof_opts ro = {.hw = &h100, .devices = 1, .compute_eff = 1, .memory_eff = 1, .tmode = LMP_TM_TERMS,
			.tp = slowl};
		cJSON *g = lmp_json_parse_one(gen_doc, strlen(gen_doc), "gen", &e);
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(g, "phases"), "decode"), "rows");
		if (!g || lmp_roofline(g, &ro, &e)) {
			ok(0, "launch floor", e.msg);
		} else {
			double q = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "time_s")->valuedouble;
			double a = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 1), "time_s")->valuedouble;
			snprintf(got, sizeof got, "%g %g", q, a);
			ok(q == 3 && a == 3, "launches: a GEMM row's calls, another row's steps", got);
		}
		cJSON_Delete(g);
	}
	/* not an eval document: refused, as lmp_roofline refuses it */
	d = cJSON_Parse("{\"lmp\":\"populated\"}");
	e = (lmp_err){0};
	ok(!lmp_timed_prepare(d, &o, &e) && strstr(e.msg, "run lmp-eval first"), "a populated document is refused",
		e.msg);
	cJSON_Delete(d);
}

int
main(void)
{
	lmp_alloc_init();
	test_kernel();
	test_waves();
	test_tsum();
	test_timed();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
