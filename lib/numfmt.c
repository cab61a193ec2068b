/* numfmt.c: the one place numbers become text and text becomes numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Digits of u, backwards from end; returns the first digit's position.
 * Eight digits at a time where u has more: their four pairs come from
 * 32-bit arithmetic, independent of each other. */
static char *
u64_digits(uint64_t u, char *end)
{
	uint32_t v;

	while (u >= 100000000) {
		uint32_t lo = (uint32_t)(u % 100000000), hi4 = lo / 10000, lo4 = lo % 10000;
		uint32_t p0 = lo4 % 100, p1 = lo4 / 100, p2 = hi4 % 100, p3 = hi4 / 100;
		u /= 100000000;
		end -= 8;
		memcpy(end + 6, digits2 + 2 * p0, 2);
		memcpy(end + 4, digits2 + 2 * p1, 2);
		memcpy(end + 2, digits2 + 2 * p2, 2);
		memcpy(end, digits2 + 2 * p3, 2);
	}
	v = (uint32_t)u;
	while (v >= 100) {
		uint32_t r = v % 100;
		v /= 100;
		*--end = digits2[2 * r + 1];
		*--end = digits2[2 * r];
	}
	if (v >= 10) {
		*--end = digits2[2 * v + 1];
		*--end = digits2[2 * v];
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

int
lmp_i128_str(lmp_i128 v, char *out)
{
	char tmp[48], *end = tmp + sizeof tmp, *p;
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	int len = 0;

	/* Peel 19-digit chunks until the rest fits a native 64-bit division. */
	p = end;
	while (u > UINT64_MAX) {
		uint64_t chunk = (uint64_t)(u % 10000000000000000000ULL);
		char *q = u64_digits(chunk, p);
		while (q > p - 19)
			*--q = '0';
		p = q;
		u /= 10000000000000000000ULL;
	}
	p = u64_digits((uint64_t)u, p);
	if (v < 0)
		out[len++] = '-';
	memcpy(out + len, p, (size_t)(end - p));
	len += (int)(end - p);
	out[len] = '\0';
	return len;
}

/* The reference writer, kept as the fallback outside the fast path's proven
 * range and as the oracle of test/unit/test_numfmt. */
int
lmp_double_str_ref(double x, char *out)
{
	int prec;

	/* An integral double prints as the integer it is. */
	if (x == floor(x) && fabs(x) < 1e21)
		return snprintf(out, LMP_NUM_STRMAX, "%.0f", x == 0 ? 0.0 : x);
	/* %g drops trailing zeros, so the first precision that reads back is
	 * the shortest. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, LMP_NUM_STRMAX, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			break;
	}
	return snprintf(out, LMP_NUM_STRMAX, "%.*g", prec, x);
}

typedef unsigned __int128 u128;

/* 5^k for k <= 31: with a 53-bit significand m, 4 * m * 5^31 < 2^127. */
#define POW5_MAX 31

static const uint64_t pow10_u64[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
};

/* 5^k for k <= 38: the writer's scales and the reader's denominators. */
static const u128 pow5_tab[39] = {
	1ULL,
	5ULL,
	25ULL,
	125ULL,
	625ULL,
	3125ULL,
	15625ULL,
	78125ULL,
	390625ULL,
	1953125ULL,
	9765625ULL,
	48828125ULL,
	244140625ULL,
	1220703125ULL,
	6103515625ULL,
	30517578125ULL,
	152587890625ULL,
	762939453125ULL,
	3814697265625ULL,
	19073486328125ULL,
	95367431640625ULL,
	476837158203125ULL,
	2384185791015625ULL,
	11920928955078125ULL,
	59604644775390625ULL,
	298023223876953125ULL,
	1490116119384765625ULL,
	7450580596923828125ULL,
	(u128)3ULL * 10000000000000000000ULL + 7252902984619140625ULL,
	(u128)18ULL * 10000000000000000000ULL + 6264514923095703125ULL,
	(u128)93ULL * 10000000000000000000ULL + 1322574615478515625ULL,
	(u128)465ULL * 10000000000000000000ULL + 6612873077392578125ULL,
	(u128)2328ULL * 10000000000000000000ULL + 3064365386962890625ULL,
	(u128)11641ULL * 10000000000000000000ULL + 5321826934814453125ULL,
	(u128)58207ULL * 10000000000000000000ULL + 6609134674072265625ULL,
	(u128)291038ULL * 10000000000000000000ULL + 3045673370361328125ULL,
	(u128)1455191ULL * 10000000000000000000ULL + 5228366851806640625ULL,
	(u128)7275957ULL * 10000000000000000000ULL + 6141834259033203125ULL,
	(u128)36379788ULL * 10000000000000000000ULL + 709171295166015625ULL,
};

/* Write q's digits as printf's "%.{P}g" does once rounding gave q (P digits,
 * 10^(P-1) <= q < 10^P) and decimal exponent X: fixed notation for
 * -4 <= X < P, else d.ddde+XX; trailing zeros and a bare point dropped. */
static int
g_text(int neg, uint64_t q, int prec, int X, char *out)
{
	char dig[24], *d = u64_digits(q, dig + sizeof dig);
	int n = prec, len = 0, i;

	while (n > 1 && d[n - 1] == '0')
		n--;
	if (neg)
		out[len++] = '-';
	if (X >= -4 && X < prec) {
		if (X < 0) {
			out[len++] = '0';
			out[len++] = '.';
			for (i = -1; i > X; i--)
				out[len++] = '0';
			memcpy(out + len, d, (size_t)n);
			len += n;
		} else {
			for (i = 0; i <= X; i++)
				out[len++] = i < n ? d[i] : '0';
			if (n > X + 1) {
				out[len++] = '.';
				memcpy(out + len, d + X + 1, (size_t)(n - X - 1));
				len += n - X - 1;
			}
		}
	} else {
		unsigned e = (unsigned)(X < 0 ? -X : X);
		out[len++] = d[0];
		if (n > 1) {
			out[len++] = '.';
			memcpy(out + len, d + 1, (size_t)(n - 1));
			len += n - 1;
		}
		out[len++] = 'e';
		out[len++] = X < 0 ? '-' : '+';
		if (e >= 100)
			out[len++] = (char)('0' + e / 100);
		out[len++] = (char)('0' + e / 10 % 10);
		out[len++] = (char)('0' + e % 10);
	}
	out[len] = '\0';
	return len;
}

/* Fast exact path for a finite non-integral normal double: for P = 15, 16,
 * 17 the correctly rounded P-digit decimal (round half even on an exact
 * tie, as glibc's printf) by integer arithmetic, and the read-back test as
 * "is that decimal inside x's rounding interval" instead of strtod.
 * x * 10^k = m * 5^k / 2^t exactly (x = m * 2^-s, t = s - k, k = 16 - X
 * for x's decimal exponent X): one product gives x's 17 significant digits
 * q17 and the exact rest past them, N = m * 5^k = q17 * 2^t + rem, and the
 * 15- and 16-digit roundings follow from them (x * 10^(k-j) =
 * (q17 + rem / 2^t) / 10^j), so the rounding is a look at the digits
 * dropped and the remainder.  Returns -1 where the scale would leave the
 * proven range (k outside [0, 31], t outside [1, 120]). */
static int
g_fast(double x, char *out)
{
	static const uint64_t div[3] = {100, 10, 1};
	uint64_t bits, m, q17;
	int neg, be, s, E, k, t, X;
	u128 N, rem, p5;

	memcpy(&bits, &x, sizeof bits);
	neg = (int)(bits >> 63);
	be = (int)(bits >> 52 & 0x7ff);
	if (be == 0 || be == 0x7ff)
		return -1;
	m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
	s = 1075 - be;
	E = (int)(((int64_t)(be - 1023) * 78913) >> 18);
	X = E;
	k = 16 - E;
	t = s - k;
	if (k < 1 || k > POW5_MAX || t < 1 || t > 119)
		return -1;
	N = (u128)m * pow5_tab[k];
	if ((N >> t) >= pow10_u64[17]) { /* E was one short */
		k--, t++, X++;
		N = (u128)m * pow5_tab[k];
	}
	p5 = pow5_tab[k];
	q17 = (uint64_t)(N >> t);
	rem = N & (((u128)1 << t) - 1);
	for (int i = 0; i < 3; i++) {
		uint64_t d = div[i], q = q17 / d, r = q17 % d;
		int prec = 17 - (i == 0 ? 2 : i == 1 ? 1 : 0), Xp = X, up;
		/* the digits dropped, r + rem / 2^t, against half of d.  The
		 * decimal reads back as x iff it lies within half an ulp (ulp =
		 * 5^k / 2^t at this scale), the ends included when m is even
		 * (strtod's ties go to even); below a power of two the gap to
		 * the next smaller double is half as wide.  (An end itself,
		 * m' * 2^-(s+1) with m' odd and 54 bits, has more than 16
		 * significant digits here, so the <= / < choice is never met; it
		 * is kept for the reasoning's sake.)  Bounds: N < 2^53 * 5^31 <
		 * 2^126, d * 2^t <= 100 * 2^120 < 2^127, 4 * diff <= 2 * d * 2^t. */
		u128 below = ((u128)r << t) + rem, half = (u128)d << (t - 1), diff;
		up = below > half || (below == half && (q & 1));
		diff = up ? ((u128)d << t) - below : below;
		q += (uint64_t)up;
		if (q == pow10_u64[prec]) {
			q = pow10_u64[prec - 1];
			Xp++;
		}
		if (prec == 17 || (!up && m == 1ULL << 52 ? 4 * diff <= p5 :
		    (m & 1) ? 2 * diff < p5 : 2 * diff <= p5))
			return g_text(neg, q, prec, Xp, out);
	}
	return -1;
}

static int
double_str(double x, char *out)
{
	double a = fabs(x);

	if (a < 0x1p63 && x == (double)(int64_t)x) {
		/* integral: "%.0f" of it (0 for -0) */
		int64_t v = (int64_t)x;
		char *end = out + 24, *p;
		int len = 0;

		p = u64_digits(v < 0 ? -(uint64_t)v : (uint64_t)v, end);
		if (v < 0)
			out[len++] = '-';
		memmove(out + len, p, (size_t)(end - p));
		len += (int)(end - p);
		out[len] = '\0';
		return len;
	}
	if (a < 1e21 && x == floor(x)) /* integral past 2^63: exact in 128 bits */
		return lmp_i128_str((lmp_i128)x, out);
	if (a >= 1.0 / 1024 * 1e-12 && a < 1e15) {
		int len = g_fast(x, out);
		if (len >= 0)
			return len;
	}
	return lmp_double_str_ref(x, out);
}

int
lmp_double_str(double x, char *out)
{
	return double_str(x, out);
}

int
lmp_num_str(const lmp_num *a, char *out)
{
	if (a->exact && a->d == 1)
		return lmp_i128_str(a->n, out);
	return double_str(lmp_num_to_double(a), out);
}

/* A literal's exponent part from p ("e-5", or none) and the end: 0 with
 * *exp set (saturating past 100000), -1 where the text does not end there. */
static int
exponent(const char *p, const char *end, long *exp)
{
	*exp = 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ed = 0;
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
			if (*exp < 100000)
				*exp = *exp * 10 + (*p - '0');
		if (!ed)
			return -1;
		if (eneg)
			*exp = -*exp;
	}
	return p != end ? -1 : 0;
}

/* The reference reader (the fast one below must agree with it on every
 * input, test/unit/test_numfmt): a decimal literal, exactly: digits [. digits] [e [+-] digits], with an
 * optional leading minus.  What 128-bit fractions cannot hold falls back to
 * strtod: a value of 2^127 or more is refused (LMP_NUM_OVERFLOW: an integer
 * that large would be counted inexactly), a smaller one (1e-40, 40
 * significant digits) is the nearest double. */
int
lmp_num_parse_ref(const char *s, size_t len, lmp_num *out)
{
	const char *p = s, *end = s + len;
	lmp_i128 mant = 0, den = 1, t;
	long exp = 0;
	int neg = 0, digits = 0, big = 0;
	char tmp[512];
	double x;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		if (__builtin_mul_overflow(mant, 10, &t) || __builtin_add_overflow(t, *p - '0', &mant))
			big = 1;
	if (p < end && *p == '.') {
		const char *f = ++p, *fe, *q;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		/* trailing zeros of the fraction change nothing: 1e38 written
		 * 100000000000000000000000000000000000000.000 stays exact */
		for (fe = p; fe > f && fe[-1] == '0'; fe--)
			;
		digits += (int)(p - f);
		for (q = f; q < fe; q++) {
			if (__builtin_mul_overflow(mant, 10, &t) ||
			    __builtin_add_overflow(t, *q - '0', &mant) ||
			    __builtin_mul_overflow(den, 10, &den))
				big = 1;
		}
	}
	if (!digits)
		return -1;
	if (exponent(p, end, &exp))
		return -1;
	for (; !big && exp > 0 && den > 1; exp--) /* 1.5e38: 15e37, not 150e38 / 10 */
		den /= 10;
	for (; !big && exp > 0; exp--)
		if (__builtin_mul_overflow(mant, 10, &mant))
			big = 1;
	for (; !big && exp < 0; exp++)
		if (__builtin_mul_overflow(den, 10, &den))
			big = 1;
	if (!big) {
		*out = lmp_num_frac(neg ? -mant : mant, den);
		return 0;
	}
	if (len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	x = strtod(tmp, NULL);
	if (lmp_num_double(x, out))
		return -1;
	return fabs(x) >= 0x1p127 ? LMP_NUM_OVERFLOW : 0;
}

/* 10^n for n <= 38 (10^38 < 2^127). */
static const lmp_i128 pow10_i128[39] = {
	1LL,
	10LL,
	100LL,
	1000LL,
	10000LL,
	100000LL,
	1000000LL,
	10000000LL,
	100000000LL,
	1000000000LL,
	10000000000LL,
	100000000000LL,
	1000000000000LL,
	10000000000000LL,
	100000000000000LL,
	1000000000000000LL,
	10000000000000000LL,
	100000000000000000LL,
	1000000000000000000LL,
	(lmp_i128)1ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)100000000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)1000000000000000000ULL * 10000000000000000000ULL + 0ULL,
	(lmp_i128)10000000000000000000ULL * 10000000000000000000ULL + 0ULL,
};

/* mant = mant * 10^n + lo, or *big once it passes 2^127 - 1. */
static void
flush(lmp_i128 *mant, uint64_t lo, int n, int *big)
{
	lmp_i128 t;

	if (*big || !n)
		return;
	if (__builtin_mul_overflow(*mant, (lmp_i128)pow10_u64[n], &t) ||
	    __builtin_add_overflow(t, (lmp_i128)lo, mant))
		*big = 1;
}

/* The same reading as lmp_num_parse_ref with the digits gathered 18 at a
 * time in 64 bits and the denominator kept as a power of ten's exponent:
 * 128-bit overflow checks and divisions once per number, not per digit. */
int
lmp_num_parse(const char *s, size_t len, lmp_num *out)
{
	const char *p = s, *end = s + len;
	lmp_i128 mant = 0;
	uint64_t lo = 0;
	long exp = 0, nf = 0;
	int neg = 0, digits = 0, big = 0, nlo = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		lo = lo * 10 + (uint64_t)(*p - '0');
		if (++nlo == 18) {
			flush(&mant, lo, nlo, &big);
			lo = 0, nlo = 0;
		}
	}
	if (p < end && *p == '.') {
		const char *f = ++p, *fe, *q;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		for (fe = p; fe > f && fe[-1] == '0'; fe--)
			;
		digits += (int)(p - f);
		nf = fe - f;
		for (q = f; q < fe; q++) {
			lo = lo * 10 + (uint64_t)(*q - '0');
			if (++nlo == 18) {
				flush(&mant, lo, nlo, &big);
				lo = 0, nlo = 0;
			}
		}
	}
	flush(&mant, lo, nlo, &big);
	if (nf > 38)
		big = 1;
	if (!digits)
		return -1;
	if (exponent(p, end, &exp))
		return -1;
	if (big)
		return lmp_num_parse_ref(s, len, out);
	for (; exp > 0 && nf > 0; exp--) /* 1.5e38: 15e37, not 150e38 / 10 */
		nf--;
	for (; !big && exp > 0; exp--)
		if (__builtin_mul_overflow(mant, 10, &mant))
			big = 1;
	if (exp < 0) {
		nf -= exp;
		if (nf > 38)
			big = 1;
	}
	if (big)
		return lmp_num_parse_ref(s, len, out);
	if (mant > 0 && mant <= (lmp_i128)UINT64_MAX) {
		/* lowest terms of m / (2^nf 5^nf) without a 128-bit gcd: the
		 * common factor can only be twos and fives */
		uint64_t m = (uint64_t)mant;
		int a = __builtin_ctzll(m), b = 0;
		lmp_num r = {1, 0, 1, 0};

		if (a > nf)
			a = (int)nf;
		m >>= a;
		while (b < nf && m % 5 == 0)
			m /= 5, b++;
		r.n = neg ? -(lmp_i128)m : (lmp_i128)m;
		r.d = (lmp_i128)(pow5_tab[nf - b] << (nf - a));
		*out = r;
		return 0;
	}
	*out = lmp_num_frac(neg ? -mant : mant, pow10_i128[nf]);
	return 0;
}
