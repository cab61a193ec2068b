/* test_numfmt: the fast double writer against the snprintf/strtod
 * reference and the integer writers against a digit-at-a-time one, byte
 * for byte, none storing past LMP_NUM_STRMAX.  Argument N: that many
 * random values per family (default 100000; the one-off check runs 10
 * million). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

static long nbad;
static char first_bad[200];

/* The writers may use all LMP_NUM_STRMAX bytes of out, and no more: the
 * bytes past them keep this mark. */
#define MARK 0x5a
#define GUARD 16

static int
guard_broken(const char *a)
{
	for (int i = LMP_NUM_STRMAX; i < LMP_NUM_STRMAX + GUARD; i++)
		if ((unsigned char)a[i] != MARK)
			return 1;
	return 0;
}

static void
same(double x)
{
	char a[LMP_NUM_STRMAX + GUARD], b[LMP_NUM_STRMAX];
	int la, lb = lmp_double_str_ref(x, b);

	memset(a, MARK, sizeof a);
	la = lmp_double_str(x, a);
	if (la != lb || strcmp(a, b) != 0 || guard_broken(a)) {
		if (!nbad++)
			snprintf(first_bad, sizeof first_bad, "%a: fast %s, reference %s", x, a, b);
	}
}

/* An integer's digits one division at a time: the plainest writer there
 * is, the oracle of lmp_i128_str and lmp_num_str. */
static void
ref_i128(lmp_i128 v, char *out)
{
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	char tmp[48];
	int n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	out[len] = '\0';
}

static void
same_int(lmp_i128 v)
{
	char a[LMP_NUM_STRMAX + GUARD], c[LMP_NUM_STRMAX + GUARD], b[LMP_NUM_STRMAX];
	lmp_num x = lmp_num_int(v);
	int la, lc;

	ref_i128(v, b);
	memset(a, MARK, sizeof a);
	memset(c, MARK, sizeof c);
	la = lmp_i128_str(v, a);
	lc = lmp_num_str(&x, c);
	if (la != (int)strlen(b) || strcmp(a, b) || lc != la || strcmp(c, b) || guard_broken(a) ||
	    guard_broken(c)) {
		if (!nbad++)
			snprintf(first_bad, sizeof first_bad, "%.48s: written %.48s, as a number %.48s", b, a, c);
	}
}

static void
same_parse(const char *t)
{
	lmp_num a = {0}, b = {0};
	int ra = lmp_num_parse(t, strlen(t), &a), rb = lmp_num_parse_ref(t, strlen(t), &b);

	if (ra != rb || (ra >= 0 && (a.exact != b.exact || a.n != b.n || a.d != b.d ||
	    memcmp(&a.x, &b.x, sizeof a.x) != 0))) {
		if (!nbad++)
			snprintf(first_bad, sizeof first_bad, "\"%s\": fast rc %d, reference rc %d", t, ra, rb);
	}
}

/* xorshift64*: reproducible without libc's rand */
static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static uint64_t
rnd(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 2685821657736338717ULL;
}

static void
check(const char *what)
{
	ok(nbad == 0, what, first_bad);
	nbad = 0;
	first_bad[0] = '\0';
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000, i;
	int e, k;
	double x;
	char buf[LMP_NUM_STRMAX];

	/* Hand-picked edges: zero, signs, powers of two and ten and their
	 * neighbours, %g's switch points (1e-4, 1e-5, 1e15..1e17), 2^53 +- 1,
	 * the extremes, halfway cases (1e15 + 0.5 ties at 16 digits). */
	static const double edge[] = {
		0.0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 0.5, 0.25, 0.125,
		1e-5, 1e-4, 9.9999999999999995e-5, 1.0000000000000001e-4, 1e-6,
		1.819e-06, 123.456, 1e15, 1e15 + 0.5, 1e15 + 0.25, 1e15 + 0.125,
		1e16, 1e17, 1e21, 1e22, 9007199254740991.0, 9007199254740992.0,
		9007199254740993.0, 4503599627370495.5, 5e-324, DBL_MIN, DBL_MAX,
		-DBL_MAX, DBL_EPSILON, 1 + DBL_EPSILON, 1 - DBL_EPSILON / 2,
		0.30000000000000004, 2.5, 0.045, 1e-15, 1e-16, 999999999999999.9,
		99999999999999.99, 0.000099999999999999999, 1.5e-10, 1e300, 1e-300,
		HUGE_VAL, -HUGE_VAL, NAN,
	};
	for (i = 0; i < (long)(sizeof edge / sizeof edge[0]); i++) {
		same(edge[i]);
		same(-edge[i]);
		same(nextafter(edge[i], 0));
		same(nextafter(edge[i], HUGE_VAL));
	}
	check("hand-picked edges match the reference");

	for (e = -1074; e <= 1023; e++) {
		x = ldexp(1, e);
		same(x), same(nextafter(x, 0)), same(nextafter(x, HUGE_VAL));
		same(1.5 * x), same(-x);
	}
	check("powers of two and their neighbours");

	for (k = -30; k <= 30; k++) {
		x = pow(10, k);
		same(x), same(nextafter(x, 0)), same(nextafter(x, HUGE_VAL));
		same(x * 5), same(x * 9.5), same(x * 0.95);
	}
	check("powers of ten, their neighbours and halves");

	/* Decimals with 15-17 digits ending in 5: exact ties are rare but
	 * near-ties are everywhere here. */
	for (i = 0; i < n / 10; i++) {
		uint64_t d = rnd() % 100000000000000000ULL;
		d = d - d % 10 + 5;
		same((double)d * pow(10, (int)(rnd() % 40) - 30));
	}
	check("near-halfway decimals");

	for (i = 0; i < n; i++) {
		uint64_t b = rnd();
		memcpy(&x, &b, sizeof x);
		same(x);
	}
	check("random bit patterns");

	for (i = 0; i < n; i++) {
		double u = (double)(rnd() >> 11) / 9007199254740992.0;
		same(pow(10, -12 + 32 * u));
	}
	check("random values in 1e-12 .. 1e20");

	for (i = 0; i < n / 10; i++)
		same((double)(int64_t)rnd() / (double)(1 + rnd() % 1000000));
	check("random fractions");

	/* Whole numbers of every width (1 to 20 digits: the writer's 8-digit
	 * chunks and their seams), as integral doubles against the reference
	 * and as 128-bit integers against printf's %lld. */
	for (i = 0; i < n; i++) {
		uint64_t v = rnd() >> (rnd() % 64);
		char a[LMP_NUM_STRMAX], b[LMP_NUM_STRMAX];
		int64_t sv = (int64_t)(v >> 1) * (rnd() % 2 ? -1 : 1);
		same((double)v);
		lmp_i128_str(sv, a);
		snprintf(b, sizeof b, "%lld", (long long)sv);
		if (strcmp(a, b) && !nbad++)
			snprintf(first_bad, sizeof first_bad, "%lld: written %s", (long long)sv, a);
	}
	check("whole numbers of every width");

	/* Integers against one-digit-at-a-time division: every value below
	 * 10^6 and its negative, the powers of ten and two and their
	 * neighbours (every digit count, the writer's 4-, 8- and 19-digit
	 * seams), the 64- and 128-bit limits, random values of every width. */
	for (i = 0; i < 1000000; i++)
		same_int(i), same_int(-i);
	{
		lmp_i128 p10 = 1, d;
		for (k = 0; k <= 38; k++) {
			for (d = -2; d <= 2; d++)
				if (p10 + d >= 0)
					same_int(p10 + d), same_int(-(p10 + d));
			if (k < 38) /* 10^39 is past 2^127 */
				p10 *= 10;
		}
		for (k = 0; k < 127; k++)
			for (d = -1; d <= 1; d++)
				same_int(((lmp_i128)1 << k) + d), same_int(-((lmp_i128)1 << k) - d);
	}
	same_int(INT64_MAX), same_int(INT64_MIN), same_int((lmp_i128)INT64_MAX + 1);
	same_int((lmp_i128)INT64_MIN - 1), same_int((lmp_i128)UINT64_MAX), same_int((lmp_i128)UINT64_MAX + 1);
	same_int((lmp_i128)(((unsigned __int128)1 << 127) - 1)); /* 2^127 - 1 */
	same_int((lmp_i128)((unsigned __int128)1 << 127));       /* -2^127 */
	same_int((lmp_i128)((unsigned __int128)1 << 127) + 1);
	for (i = 0; i < n; i++) {
		unsigned __int128 u = ((unsigned __int128)rnd() << 64 | rnd()) >> (rnd() % 128);
		same_int((lmp_i128)u);
		same_int((lmp_i128)(u >> 1) * (rnd() % 2 ? -1 : 1));
	}
	check("integers of every width against a digit-at-a-time writer");

	/* The fast double path's own range (1e-13 .. 1e15), densely: random
	 * significands at every exponent there, the neighbours of its powers
	 * of ten, decimals of 15, 16 and 17 digits read by strtod (the
	 * shortest text is then often one of them), and two-power significands
	 * whose lower neighbour is half as far. */
	for (i = 0; i < n; i++) {
		uint64_t b = (uint64_t)(1023 - 44 + rnd() % 95) << 52 | (rnd() >> 12);
		memcpy(&x, &b, sizeof x);
		same(x);
		same(-x);
	}
	for (k = -13; k <= 15; k++) {
		char t[32];
		double y;
		snprintf(t, sizeof t, "1e%d", k);
		x = y = strtod(t, NULL);
		for (e = 0; e < 50; e++) {
			same(x), same(y);
			x = nextafter(x, HUGE_VAL), y = nextafter(y, 0);
		}
	}
	for (i = 0; i < n; i++) {
		char t[48];
		int nd = 15 + (int)(rnd() % 3);
		uint64_t d = rnd() % 900000000000000000ULL + 100000000000000000ULL; /* 18 digits */
		d /= nd == 15 ? 1000 : nd == 16 ? 100 : 10;
		snprintf(t, sizeof t, "%llue%d", (unsigned long long)d, (int)(rnd() % 29) - 13 - nd);
		same(strtod(t, NULL));
	}
	for (e = -44; e <= 50; e++) {
		x = ldexp(1, e);
		for (k = 0; k < 8; k++) {
			same(x);
			x = nextafter(x, 0);
		}
	}
	check("the fast path's range: exponents, powers of ten, short decimals, two-powers");

	/* The reader: literals of every shape against the reference reader. */
	{
		static const char *lit[] = {
			"0", "-0", "+0", "1", "-1", "0.5", ".5", "5.", ".", "", "-", "e5", "1e",
			"1e+", "1e-", "1.5e38", "15e37", "1.5e39", "170141183460469231731687303715884105727",
			"170141183460469231731687303715884105728", "-170141183460469231731687303715884105728",
			"99999999999999999999999999999999999999", "999999999999999999999999999999999999999",
			"100000000000000000000000000000000000000.000", "0.00000000000000000000000000000000000001",
			"0.000000000000000000000000000000000000001", "1e-38", "1e-39", "1e-40", "1.819e-06",
			"123456789012345678", "1234567890123456789", "12345678901234567890", "0.1000000",
			"2.9802322387695312e-08", "1e100000", "1e-100000", "1e999999999", "007", "1x", "1.2.3",
			"1e5.", "--1", "1E5", "1.e3", "0e0", "1e0000000000000000000001",
		};
		for (i = 0; i < (long)(sizeof lit / sizeof lit[0]); i++)
			same_parse(lit[i]);
		check("literals of every shape read as the reference reads them");
		for (i = 0; i < n; i++) {
			char t[LMP_NUM_STRMAX * 2];
			int len = 0, nd = (int)(rnd() % 45), j;
			if (rnd() % 2)
				t[len++] = '-';
			for (j = 0; j < nd; j++)
				t[len++] = (char)('0' + rnd() % 10);
			if (rnd() % 2) {
				t[len++] = '.';
				for (j = (int)(rnd() % 45); j > 0; j--)
					t[len++] = (char)('0' + (rnd() % 3 ? rnd() % 10 : 0));
			}
			if (rnd() % 2)
				len += sprintf(t + len, "e%d", (int)(rnd() % 120) - 60);
			t[len] = '\0';
			same_parse(t);
			lmp_double_str(pow(10, -12 + 32 * ((double)(rnd() >> 11) / 9007199254740992.0)), t);
			same_parse(t);
		}
		check("random literals and written doubles read as the reference reads them");
	}

	/* Spelled out by hand, not by the reference: %g's two notations. */
	lmp_double_str(1.819e-06, buf);
	ok(strcmp(buf, "1.819e-06") == 0, "1.819e-06 in exponent form", buf);
	lmp_double_str(0.0001, buf);
	ok(strcmp(buf, "0.0001") == 0, "1e-4 in fixed form", buf);
	lmp_double_str(1e15 + 0.5, buf);
	ok(strcmp(buf, "1000000000000000.5") == 0, "2^-1 past 1e15 needs 17 digits", buf);
	lmp_double_str(-0.0, buf);
	ok(strcmp(buf, "0") == 0, "-0 prints 0", buf);
	lmp_double_str(1e21, buf);
	ok(strcmp(buf, "1e+21") == 0, "1e21 in exponent form", buf);
	lmp_double_str(1.0 / 3, buf);
	ok(strcmp(buf, "0.3333333333333333") == 0, "1/3 takes 16 digits", buf);
	lmp_double_str(0.1 + 0.2, buf);
	ok(strcmp(buf, "0.30000000000000004") == 0, "0.1 + 0.2 takes 17 digits", buf);
	lmp_double_str(123456789012345680000.0, buf);
	ok(strcmp(buf, "123456789012345683968") == 0, "an integral double past 2^63 in full", buf);
	lmp_double_str(-0x1p-20, buf);
	ok(strcmp(buf, "-9.5367431640625e-07") == 0, "-2^-20 in exponent form, trailing digits kept", buf);
	lmp_double_str(-123.5, buf);
	ok(strcmp(buf, "-123.5") == 0, "-123.5", buf);
	lmp_i128_str((lmp_i128)((unsigned __int128)1 << 127), buf);
	ok(strcmp(buf, "-170141183460469231731687303715884105728") == 0, "-2^127 in full", buf);
	lmp_i128_str(-9007199254740993LL, buf);
	ok(strcmp(buf, "-9007199254740993") == 0, "-(2^53 + 1) in full", buf);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
