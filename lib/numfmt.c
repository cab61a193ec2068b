/* numfmt.c: the one place numbers become text and text becomes numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

typedef unsigned __int128 u128;

/* '0' in every byte of a word of eight digits */
#define ZEROS 0x3030303030303030ULL

/* The eight decimal digits of x < 10^8 as byte values, the most significant
 * in the lowest byte.  The halves, their pairs and the pairs' digits split
 * in the lanes of one register, each lane's quotient a multiply and shift
 * that is exact over the lane's range (y < 10^4: y * 10486 >> 20 is y / 100;
 * z < 100: z * 103 >> 10 is z / 10) and whose product stays in its lane:
 * no division and no table, about twenty instructions for eight digits. */
static inline uint64_t
swar8(uint32_t x)
{
	uint32_t hi = x / 10000;
	uint64_t v, q;

	/* each step's quotient q and remainder r as q + (r << w), written
	 * (v << w) - q * (divisor * 2^w - 1): one multiply, no borrow */
	v = ((uint64_t)x << 32) - hi * 42949672959999ULL;
	q = (v * 10486) >> 20 & 0x0000007f0000007fULL;
	v = (v << 16) - q * 6553599;
	q = (v * 103) >> 10 & 0x000f000f000f000fULL;
	return (v << 8) - q * 2559;
}

/* Eight bytes at p in the order swar8 gives them (first byte lowest). */
static inline void
put8(char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof v);
}

/* The four digits of x < 10^4 as swar8 lays out eight, in the low bytes. */
static inline uint32_t
swar4(uint32_t x)
{
	uint32_t q = x * 5243 >> 19, v; /* x / 100 */

	v = (x << 16) - q * 6553599;
	q = (v * 103) >> 10 & 0x000f000fU;
	return (v << 8) - q * 2559;
}

/* x < 10^8 without leading zeros (swar's zero low bytes, shifted out); the
 * short ones apart, as most counts and sizes are.  Stores up to eight
 * bytes; returns the end of the digits. */
static inline char *
put_lead(char *p, uint32_t x)
{
	uint64_t d;
	int z;

	if (x < 100) {
		uint32_t t = x * 103 >> 10; /* x / 10 */

		if (x < 10) {
			*p = (char)('0' + x);
			return p + 1;
		}
		p[0] = (char)('0' + t);
		p[1] = (char)('0' + x - t * 10);
		return p + 2;
	}
	d = x < 10000 ? swar4(x) : swar8(x);
	z = __builtin_ctzll(d) >> 3;
	put8(p, (d | (x < 10000 ? 0x30303030ULL : ZEROS)) >> (8 * z));
	return p + (x < 10000 ? 4 : 8) - z;
}

/* Exactly eight digits, leading zeros kept: a chunk below the first. */
static inline char *
put_all8(char *p, uint32_t x)
{
	put8(p, swar8(x) | ZEROS);
	return p + 8;
}

/* The digits of u forward from p; returns their end.  May store up to
 * eight bytes past it (a caller's buffer is LMP_NUM_STRMAX). */
static char *
put_u64(char *p, uint64_t u)
{
	uint64_t hi, top;
	uint32_t lo;

	if (u < 100000000)
		return put_lead(p, (uint32_t)u);
	hi = u / 100000000;
	lo = (uint32_t)(u - hi * 100000000);
	if (hi < 100000000) {
		p = put_lead(p, (uint32_t)hi);
	} else {
		top = hi / 100000000; /* at most 1844 */
		p = put_lead(p, (uint32_t)top);
		p = put_all8(p, (uint32_t)(hi - top * 100000000));
	}
	return put_all8(p, lo);
}

/* Written in place: no copy from a scratch buffer. */
static inline int
i128_str(lmp_i128 v, char *out)
{
	u128 u = v < 0 ? -(u128)v : (u128)v;
	char *p = out;

	*p = '-';
	p += v < 0;
	if (u > UINT64_MAX) {
		/* one 19-digit chunk below the rest: |v| <= 2^127 < 2^64 * 10^19 */
		uint64_t lo = (uint64_t)(u % 10000000000000000000ULL), t3, mid;

		p = put_u64(p, (uint64_t)(u / 10000000000000000000ULL));
		t3 = lo / 10000000000000000ULL;
		lo -= t3 * 10000000000000000ULL;
		put8(p, (swar8((uint32_t)t3) | ZEROS) >> 40); /* three digits */
		p += 3;
		mid = lo / 100000000;
		p = put_all8(p, (uint32_t)mid);
		p = put_all8(p, (uint32_t)(lo - mid * 100000000));
	} else {
		p = put_u64(p, (uint64_t)u);
	}
	*p = '\0';
	return (int)(p - out);
}

int
lmp_i128_str(lmp_i128 v, char *out)
{
	return i128_str(v, out);
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

/* Write D's digits as printf's "%.{P}g" does once rounding gave them: D is
 * the P-digit decimal scaled to 17 digits (10^16 <= D <= 10^17, its last
 * 17 - P digits zero; 10^17 is a rounding's carry) and X its decimal
 * exponent: fixed notation for -4 <= X < P, else d.ddde-XX; trailing zeros
 * and a bare point dropped.  The digits are laid out once in dig and placed
 * with fixed-size copies (out has LMP_NUM_STRMAX bytes; what lands past the
 * end is ignored), their count after trimming read off swar8's zero bytes
 * rather than by scanning the text. */
static int
g_text(int neg, uint64_t D, int prec, int X, char *out)
{
	char dig[40], *p = out;
	uint64_t a, h, dh, dl;
	int n;

	if (D == 100000000000000000ULL) /* a carry: 999.995 to 15 digits is 1000 */
		D /= 10, X++;
	a = D / 10000000000000000ULL;
	D -= a * 10000000000000000ULL;
	h = D / 100000000;
	dh = swar8((uint32_t)h);
	dl = swar8((uint32_t)(D - h * 100000000));
	n = dl ? 17 - (__builtin_clzll(dl) >> 3) : dh ? 9 - (__builtin_clzll(dh) >> 3) : 1;
	dig[0] = (char)('0' + a);
	put8(dig + 1, dh | ZEROS);
	put8(dig + 9, dl | ZEROS);
	put8(dig + 17, ZEROS); /* read by the fraction's 16-byte copy */
	put8(dig + 25, ZEROS);
	*p = '-';
	p += neg;
	if (X >= 0 && X < prec) {
		memcpy(p, dig, 17);
		p[X + 1] = '.';
		memcpy(p + X + 2, dig + X + 1, 16);
		p += n > X + 1 ? n + 1 : X + 1;
	} else if (X < 0 && X >= -4) {
		memcpy(p, "0.000", 5);
		memcpy(p + 1 - X, dig, 17);
		p += 1 - X + n;
	} else {
		unsigned e = (unsigned)(X < 0 ? -X : X);
		p[0] = dig[0];
		p[1] = '.';
		memcpy(p + 2, dig + 1, 16);
		p += n > 1 ? n + 1 : 1;
		*p++ = 'e';
		*p++ = X < 0 ? '-' : '+';
		if (e >= 100)
			*p++ = (char)('0' + e / 100);
		*p++ = (char)('0' + e / 10 % 10);
		*p++ = (char)('0' + e % 10);
	}
	*p = '\0';
	return (int)(p - out);
}

/* Whether D, x's P-digit rounding in units of its 17th digit, reads back
 * as x: inside the rounding interval of g_fast's comment, whose upper end
 * alone matters when D was rounded up, its lower alone when down. */
static inline int
reads_back(uint64_t D, int up, u128 N, u128 p5, int t, uint64_t m)
{
	if (up)
		return D <= (uint64_t)((2 * N + p5) >> (t + 1));
	if (m == 1ULL << 52) /* below a power of two: a quarter ulp */
		return D > (uint64_t)((4 * N - p5) >> (t + 2));
	return D > (uint64_t)((2 * N - p5) >> (t + 1));
}

/* Fast exact path for a finite non-integral normal double: for P = 15, 16,
 * 17 the correctly rounded P-digit decimal (round half even on an exact
 * tie, as glibc's printf) by integer arithmetic, and the read-back test as
 * "is that decimal inside x's rounding interval" instead of strtod.
 * x * 10^k = m * 5^k / 2^t exactly (x = m * 2^-s, t = s - k, k = 16 - X
 * for x's decimal exponent X): one product N = m * 5^k gives x's 17
 * significant digits q17 = N >> t, the first bit past them and (N's
 * trailing zeros) whether any after it is set; the 15- and 16-digit
 * roundings follow from q17's last digits and those.  In units of the 17th
 * digit x's rounding interval runs from (2N - 5^k) / 2^(t+1) to
 * (2N + 5^k) / 2^(t+1), half an ulp either side, its lower end
 * (4N - 5^k) / 2^(t+2) below a power of two, where the gap to the next
 * smaller double is half as wide.  A candidate D (a whole number of those
 * units) reads back iff lo < D <= hi, lo and hi the ends' floors: D never
 * equals an end (an end, m' * 2^-(s+1) or 2^-(s+2) with m' odd and of 54
 * bits and s >= 1, has 18 or more significant digits; D at most 16), so the
 * floors decide exactly and which ends belong to the interval (strtod's ties
 * go to even) never matters.  The ulp is 10^k / 2^s = 10^k x / m <
 * 10^17 / 2^52 < 22.3 units, so a 15-digit decimal reads back only where q17
 * is within 12 of a multiple of 100.  Bounds: N < 2^53 * 5^31 < 2^126, so 4N
 * fits; N >> (t-1) < 2 * 10^18 before E's correction.  Returns -1 where the
 * scale would leave the proven range (k outside [1, 31] or t outside
 * [1, 119] before E's correction, which may take k to 0 and t to 120).
 * Out of line: lmp_double_str's integral path then saves no
 * registers for it. */
static __attribute__((noinline)) int
g_fast(double x, char *out)
{
	uint64_t bits, m, q2, q17, q, r, D;
	int neg, be, s, E, k, t, X, z, up, inexact, prec;
	u128 N, p5;

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
	q2 = (uint64_t)(N >> (t - 1));
	if (q2 >= 2 * pow10_u64[17]) { /* E was one short */
		k--, t++, X++;
		N = (u128)m * pow5_tab[k];
		q2 = (uint64_t)(N >> (t - 1));
	}
	p5 = pow5_tab[k];
	q17 = q2 >> 1;
	z = (uint64_t)N ? __builtin_ctzll((uint64_t)N) : 64 + __builtin_ctzll((uint64_t)(N >> 64));
	inexact = z < t;
	q = q17 / 100, r = q17 % 100;
	up = r > 50 || (r == 50 && (inexact || (q & 1)));
	D = (q + (uint64_t)up) * 100;
	prec = 15;
	if (!((r < 12 || r > 87) && reads_back(D, up, N, p5, t, m))) {
		q = q17 / 10, r = q17 % 10;
		up = r > 5 || (r == 5 && (inexact || (q & 1)));
		D = (q + (uint64_t)up) * 10;
		prec = 16;
		if (!reads_back(D, up, N, p5, t, m)) {
			/* the first bit past q17, and any after it or q17 odd */
			D = q17 + (uint64_t)((q2 & 1) && (z < t - 1 || (q17 & 1)));
			prec = 17;
		}
	}
	return g_text(neg, D, prec, X, out);
}

int
lmp_double_str(double x, char *out)
{
	double a = fabs(x);

	if (a < 0x1p63) {
		int64_t v = (int64_t)x;

		if (x == (double)v) {
			/* integral: "%.0f" of it (0 for -0) */
			char *p = out;

			*p = '-';
			p += v < 0;
			p = put_u64(p, v < 0 ? -(uint64_t)v : (uint64_t)v);
			*p = '\0';
			return (int)(p - out);
		}
	} else if (a < 1e21 && x == floor(x)) { /* integral past 2^63: exact in 128 bits */
		return i128_str((lmp_i128)x, out);
	}
	if (a >= 1.0 / 1024 * 1e-12 && a < 1e15) {
		int len = g_fast(x, out);
		if (len >= 0)
			return len;
	}
	return lmp_double_str_ref(x, out);
}

int
lmp_num_str(const lmp_num *a, char *out)
{
	if (a->exact && a->d == 1)
		return i128_str(a->n, out);
	return lmp_double_str(lmp_num_to_double(a), out);
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
