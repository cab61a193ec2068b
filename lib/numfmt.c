/* numfmt.c: the one place numbers become text and text becomes numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int
lmp_i128_str(lmp_i128 v, char *out)
{
	char tmp[48];
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	int n = 0, len = 0;

	/* Most values fit in 64 bits: convert those with one native loop. */
	do {
		if (u <= UINT64_MAX) {
			uint64_t w = (uint64_t)u;
			do {
				tmp[n++] = (char)('0' + w % 10);
				w /= 10;
			} while (w);
			break;
		}
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
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
 * optional leading minus.  Beyond 128 bits it falls back to strtod. */
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
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			if (__builtin_mul_overflow(mant, 10, &t) ||
			    __builtin_add_overflow(t, *p - '0', &mant) ||
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
	return lmp_num_double(x, out) ? -1 : 0;
}
