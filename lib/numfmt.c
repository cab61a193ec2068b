/* numfmt.c: the one place numbers become text and text becomes numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Digits of u, backwards from end; returns the first digit's position. */
static char *
u64_digits(uint64_t u, char *end)
{
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		*--end = digits2[2 * r + 1];
		*--end = digits2[2 * r];
	}
	if (u >= 10) {
		*--end = digits2[2 * u + 1];
		*--end = digits2[2 * u];
	} else {
		*--end = (char)('0' + u);
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

static int
double_str(double x, char *out)
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

int
lmp_num_str(const lmp_num *a, char *out)
{
	if (a->exact && a->d == 1)
		return lmp_i128_str(a->n, out);
	return double_str(lmp_num_to_double(a), out);
}

/* A decimal literal, exactly: digits [. digits] [e [+-] digits], with an
 * optional leading minus.  What 128-bit fractions cannot hold falls back to
 * strtod: a value of 2^127 or more is refused (LMP_NUM_OVERFLOW: an integer
 * that large would be counted inexactly), a smaller one (1e-40, 40
 * significant digits) is the nearest double. */
int
lmp_num_parse(const char *s, size_t len, lmp_num *out)
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
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ed = 0;
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
		if (!ed)
			return -1;
		if (eneg)
			exp = -exp;
	}
	if (p != end)
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
