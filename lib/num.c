/* num.c: exact rational arithmetic over 128-bit integers, with doubles only
 * where an exact result cannot exist (sqrt of a non-square, pow with a
 * fractional exponent) or where a fraction outgrows 128 bits.
 *
 * Why rationals: a 4-bit weight is half a byte, a 3-bit one 3/8, and
 * "elements x bits / 8" must stay exact past 2^53. */
#include <math.h>

#include "lmp.h"

#define I128_MAX ((lmp_i128)(((unsigned __int128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

const char *
lmp_num_strerror(int code)
{
	switch (code) {
	case LMP_NUM_OVERFLOW: return "integer overflow (beyond 127 bits)";
	case LMP_NUM_DIVZERO: return "division by zero";
	case LMP_NUM_DOMAIN: return "argument out of domain";
	case LMP_NUM_NONFINITE: return "result is not finite";
	}
	return "ok";
}

/* gcd in 64 bits, for callers whose numbers fit (the sweep's forms, the
 * closed tile walk's period): gcd's 128-bit remainder is a library call,
 * several times as slow. */
int64_t
lmp_gcd64(int64_t a, int64_t b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static lmp_i128
gcd(lmp_i128 a, lmp_i128 b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	while (b) {
		lmp_i128 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Lowest terms, positive denominator.  n == I128_MIN cannot be negated, so
 * callers never build one (every operation checks for it). */
lmp_num
lmp_num_frac(lmp_i128 n, lmp_i128 d)
{
	lmp_num r = {1, n, d, 0};
	lmp_i128 g;

	if (d < 0) {
		r.n = -n;
		r.d = -d;
	}
	if (r.d != 1) {
		g = gcd(r.n, r.d);
		if (g > 1) {
			r.n /= g;
			r.d /= g;
		}
	}
	return r;
}

int
lmp_num_double(double x, lmp_num *out)
{
	if (!isfinite(x))
		return LMP_NUM_NONFINITE;
	out->exact = 0;
	out->n = 0;
	out->d = 1;
	out->x = x;
	return LMP_NUM_OK;
}

int
lmp_num_is_int(const lmp_num *a)
{
	return a->exact ? a->d == 1 : a->x == floor(a->x);
}

int
lmp_num_is_zero(const lmp_num *a)
{
	return a->exact ? a->n == 0 : a->x == 0;
}

int
lmp_num_sign(const lmp_num *a)
{
	if (a->exact)
		return (a->n > 0) - (a->n < 0);
	return (a->x > 0) - (a->x < 0);
}

double
lmp_num_to_double(const lmp_num *a)
{
	if (!a->exact)
		return a->x;
	/* a 64-bit integer converts in one instruction, the wider ones by a
	 * library call; both round to nearest, so to the same double */
	if (a->d == 1)
		return a->n == (int64_t)a->n ? (double)(int64_t)a->n : (double)a->n;
	return (double)((long double)a->n / (long double)a->d);
}

static int
fromd(double x, lmp_num *r)
{
	return lmp_num_double(x, r);
}

/* Exact n/d that no longer fits: keep going as a double, unless both sides
 * were integers, where the caller asked for integer arithmetic. */
static int
spill(const lmp_num *a, const lmp_num *b, double x, lmp_num *r)
{
	if (a->exact && a->d == 1 && (!b || (b->exact && b->d == 1)))
		return LMP_NUM_OVERFLOW;
	return fromd(x, r);
}

static int
mk(lmp_i128 n, lmp_i128 d, lmp_num *r)
{
	if (n == I128_MIN || d == I128_MIN)
		return LMP_NUM_OVERFLOW;
	*r = lmp_num_frac(n, d);
	return LMP_NUM_OK;
}

/* Both are integers of 64 bits: the common case of a sweep, which
 * lmp_num_add, _sub and _mul (inline, lmp.h) and _div try first; the
 * general code (_any) is out of line: its 128-bit arithmetic needs a frame
 * that path does not. */
#define small_ints lmp_num_small_ints

int
lmp_num_add_any(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_i128 n, x, y, d, g;

	if (a->exact && b->exact) {
		if (a->d == 1 && b->d == 1) {
			if (__builtin_add_overflow(a->n, b->n, &n) || n == I128_MIN)
				return LMP_NUM_OVERFLOW;
			*r = lmp_num_int(n);
			return LMP_NUM_OK;
		}
		g = gcd(a->d, b->d);
		if (__builtin_mul_overflow(a->n, b->d / g, &x) ||
		    __builtin_mul_overflow(b->n, a->d / g, &y) ||
		    __builtin_add_overflow(x, y, &n) ||
		    __builtin_mul_overflow(a->d / g, b->d, &d))
			return spill(a, b, lmp_num_to_double(a) + lmp_num_to_double(b), r);
		return mk(n, d, r);
	}
	return fromd(lmp_num_to_double(a) + lmp_num_to_double(b), r);
}


int
lmp_num_neg(const lmp_num *a, lmp_num *r)
{
	*r = *a;
	if (a->exact)
		r->n = -a->n; /* I128_MIN never exists */
	else
		r->x = -a->x;
	return LMP_NUM_OK;
}

int
lmp_num_sub_any(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_num nb;

	lmp_num_neg(b, &nb);
	return lmp_num_add(a, &nb, r);
}

int
lmp_num_mul_any(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_i128 g1, g2, n, d;

	if (a->exact && b->exact) {
		if (a->d == 1 && b->d == 1) {
			if (__builtin_mul_overflow(a->n, b->n, &n) || n == I128_MIN)
				return LMP_NUM_OVERFLOW;
			*r = lmp_num_int(n);
			return LMP_NUM_OK;
		}
		g1 = gcd(a->n, b->d);
		g2 = gcd(b->n, a->d);
		if (g1 == 0)
			g1 = 1;
		if (g2 == 0)
			g2 = 1;
		if (__builtin_mul_overflow(a->n / g1, b->n / g2, &n) ||
		    __builtin_mul_overflow(a->d / g2, b->d / g1, &d))
			return spill(a, b, lmp_num_to_double(a) * lmp_num_to_double(b), r);
		return mk(n, d, r);
	}
	return fromd(lmp_num_to_double(a) * lmp_num_to_double(b), r);
}


int
lmp_num_div(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_num inv;

	/* an integer that divides evenly (INT64_MIN / -1 would overflow) */
	if (small_ints(a, b) && b->n != 0 && !(b->n == -1 && a->n == INT64_MIN) && (int64_t)a->n % (int64_t)b->n == 0)
		return lmp_num_set_int(r, (int64_t)a->n / (int64_t)b->n);
	if (lmp_num_is_zero(b))
		return LMP_NUM_DIVZERO;
	if (a->exact && b->exact) {
		inv = lmp_num_frac(b->d, b->n);
		return lmp_num_mul(a, &inv, r);
	}
	return fromd(lmp_num_to_double(a) / lmp_num_to_double(b), r);
}

/* Floor of an exact fraction n/d, d > 0. */
static lmp_i128
floor_frac(lmp_i128 n, lmp_i128 d)
{
	lmp_i128 q = n / d;

	if ((n % d != 0) && (n < 0))
		q--;
	return q;
}

int
lmp_num_floor(const lmp_num *a, lmp_num *r)
{
	double f;

	if (a->exact) {
		*r = lmp_num_int(floor_frac(a->n, a->d));
		return LMP_NUM_OK;
	}
	f = floor(a->x);
	if (fabs(f) < 0x1p126) {
		*r = lmp_num_int((lmp_i128)f);
		return LMP_NUM_OK;
	}
	return fromd(f, r);
}

int
lmp_num_ceil(const lmp_num *a, lmp_num *r)
{
	lmp_num na, f;
	int rc;

	lmp_num_neg(a, &na);
	if ((rc = lmp_num_floor(&na, &f)))
		return rc;
	return lmp_num_neg(&f, r);
}

int
lmp_num_floordiv(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_num q;
	int rc;

	if (lmp_num_is_zero(b))
		return LMP_NUM_DIVZERO;
	if (a->exact && b->exact && a->d == 1 && b->d == 1) {
		*r = lmp_num_int(floor_frac(b->n < 0 ? -a->n : a->n, b->n < 0 ? -b->n : b->n));
		return LMP_NUM_OK;
	}
	if ((rc = lmp_num_div(a, b, &q)))
		return rc;
	if (!q.exact)
		return fromd(floor(q.x), r);
	return lmp_num_floor(&q, r);
}

/* Python's modulo: the result has the sign of the divisor. */
int
lmp_num_mod(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_num q, p;
	int rc;

	if (lmp_num_is_zero(b))
		return LMP_NUM_DIVZERO;
	if (!a->exact || !b->exact) {
		double x = lmp_num_to_double(a), y = lmp_num_to_double(b);
		double m = fmod(x, y);
		if (m != 0 && ((m < 0) != (y < 0)))
			m += y;
		return fromd(m, r);
	}
	if ((rc = lmp_num_floordiv(a, b, &q)) || (rc = lmp_num_mul(&q, b, &p)))
		return rc;
	return lmp_num_sub(a, &p, r);
}

static int
ipow(const lmp_num *a, lmp_i128 e, lmp_num *r)
{
	lmp_num acc = lmp_num_int(1), base = *a, t;
	int rc;

	while (e > 0) {
		if (e & 1) {
			if ((rc = lmp_num_mul(&acc, &base, &t)))
				return rc;
			acc = t;
		}
		e >>= 1;
		if (e) {
			if ((rc = lmp_num_mul(&base, &base, &t)))
				return rc;
			base = t;
		}
	}
	*r = acc;
	return LMP_NUM_OK;
}

int
lmp_num_pow(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	lmp_num p;
	lmp_i128 e;
	double x;
	int rc;

	if (a->exact && b->exact && b->d == 1) {
		e = b->n;
		if (e < 0 && a->n == 0)
			return LMP_NUM_DIVZERO;
		if (a->d == 1 && (a->n == 0 || a->n == 1)) {
			*r = lmp_num_int(e == 0 ? 1 : a->n);
			return LMP_NUM_OK;
		}
		if (a->d == 1 && a->n == -1) {
			*r = lmp_num_int((e & 1) ? -1 : 1);
			return LMP_NUM_OK;
		}
		if ((e > 0 ? e : -e) > 512) {
			if (a->d == 1 && e > 0)
				return LMP_NUM_OVERFLOW;
			return fromd(pow(lmp_num_to_double(a), (double)e), r);
		}
		if ((rc = ipow(a, e < 0 ? -e : e, &p)))
			return rc;
		if (e >= 0) {
			*r = p;
			return LMP_NUM_OK;
		}
		if (!p.exact)
			return fromd(1.0 / p.x, r);
		return mk(p.d, p.n, r);
	}
	if (lmp_num_sign(a) < 0 && !lmp_num_is_int(b))
		return LMP_NUM_DOMAIN;
	if (lmp_num_is_zero(a) && lmp_num_sign(b) < 0)
		return LMP_NUM_DIVZERO;
	x = pow(lmp_num_to_double(a), lmp_num_to_double(b));
	return fromd(x, r);
}

static int
ilog2_exact(lmp_i128 v)
{
	int k = 0;

	if (v <= 0 || (v & (v - 1)))
		return -1;
	while (v > 1) {
		v >>= 1;
		k++;
	}
	return k;
}

int
lmp_num_log2(const lmp_num *a, lmp_num *r)
{
	int kn, kd;

	if (lmp_num_sign(a) <= 0)
		return LMP_NUM_DOMAIN;
	if (a->exact) {
		kn = ilog2_exact(a->n);
		kd = ilog2_exact(a->d);
		if (kn >= 0 && kd >= 0) {
			*r = lmp_num_int(kn - kd);
			return LMP_NUM_OK;
		}
	}
	return fromd(log2(lmp_num_to_double(a)), r);
}

/* Exact integer square root, or -1 when v is not a perfect square. */
static lmp_i128
isqrt_exact(lmp_i128 v)
{
	lmp_i128 x = (lmp_i128)sqrtl((long double)v);

	while (x > 0 && x * x > v)
		x--;
	while ((x + 1) * (x + 1) <= v)
		x++;
	return x * x == v ? x : -1;
}

int
lmp_num_sqrt(const lmp_num *a, lmp_num *r)
{
	lmp_i128 sn, sd;

	if (lmp_num_sign(a) < 0)
		return LMP_NUM_DOMAIN;
	if (a->exact) {
		sn = isqrt_exact(a->n);
		sd = isqrt_exact(a->d);
		if (sn >= 0 && sd >= 0) {
			*r = lmp_num_frac(sn, sd);
			return LMP_NUM_OK;
		}
	}
	return fromd(sqrt(lmp_num_to_double(a)), r);
}

int
lmp_num_abs(const lmp_num *a, lmp_num *r)
{
	if (lmp_num_sign(a) < 0)
		return lmp_num_neg(a, r);
	*r = *a;
	return LMP_NUM_OK;
}

int
lmp_num_cmp(const lmp_num *a, const lmp_num *b)
{
	lmp_i128 x, y;
	long double p, q;

	if (a->exact && b->exact) {
		if (a->d == b->d)
			return (a->n > b->n) - (a->n < b->n);
		if (!__builtin_mul_overflow(a->n, b->d, &x) &&
		    !__builtin_mul_overflow(b->n, a->d, &y))
			return (x > y) - (x < y);
		p = (long double)a->n / a->d;
		q = (long double)b->n / b->d;
		return (p > q) - (p < q);
	}
	p = lmp_num_to_double(a);
	q = lmp_num_to_double(b);
	return (p > q) - (p < q);
}
