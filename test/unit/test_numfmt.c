/* test_numfmt: the fast double writer against the snprintf/strtod
 * reference, byte for byte.  Argument N: that many random doubles per
 * family (default 100000; the one-off check runs 10 million). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

static long nbad;
static char first_bad[200];

static void
same(double x)
{
	char a[LMP_NUM_STRMAX], b[LMP_NUM_STRMAX];
	int la = lmp_double_str(x, a), lb = lmp_double_str_ref(x, b);

	if (la != lb || strcmp(a, b) != 0) {
		if (!nbad++)
			snprintf(first_bad, sizeof first_bad, "%a: fast %s, reference %s", x, a, b);
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
	printf("1..%d\n", ntest);
	return nfail != 0;
}
