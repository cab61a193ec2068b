/* polyeval.c: polynomials (poly.c) evaluated at one runtime point.  Each
 * atom is computed at most once a point; the hot loop of a sweep stays in
 * native integers where it can. */
#include <stdlib.h>
#include <string.h>

#include "poly_impl.h"

/* An operation applied to numbers (folding constants, evaluating atoms). */
int
poly_apply(int op, const lmp_num *v, int n, lmp_num *r)
{
	int i, rc = LMP_NUM_OK, c;

	switch (op) {
	case LMP_OP_ADD: return lmp_num_add(&v[0], &v[1], r);
	case LMP_OP_SUB: return lmp_num_sub(&v[0], &v[1], r);
	case LMP_OP_MUL: return lmp_num_mul(&v[0], &v[1], r);
	case LMP_OP_DIV: return lmp_num_div(&v[0], &v[1], r);
	case LMP_OP_FLOORDIV: return lmp_num_floordiv(&v[0], &v[1], r);
	case LMP_OP_MOD: return lmp_num_mod(&v[0], &v[1], r);
	case LMP_OP_POW: return lmp_num_pow(&v[0], &v[1], r);
	case LMP_OP_NEG: return lmp_num_neg(&v[0], r);
	case LMP_OP_CEIL: return lmp_num_ceil(&v[0], r);
	case LMP_OP_FLOOR: return lmp_num_floor(&v[0], r);
	case LMP_OP_LOG2: return lmp_num_log2(&v[0], r);
	case LMP_OP_SQRT: return lmp_num_sqrt(&v[0], r);
	case LMP_OP_ABS: return lmp_num_abs(&v[0], r);
	case LMP_OP_EXPECTED: *r = v[0]; return rc;
	case LMP_OP_CHECK_NUM:
	case LMP_OP_CHECK_INT:
	case LMP_OP_CHECK_BOOL:
		*r = v[0];
		if (lmp_num_sign(&v[0]) < 0 || (op == LMP_OP_CHECK_INT && !lmp_num_is_int(&v[0])) ||
		    (op == LMP_OP_CHECK_BOOL && !lmp_num_is_zero(&v[0]) && !(v[0].exact && v[0].n == 1 && v[0].d == 1)))
			return LMP_NUM_DOMAIN;
		return rc;
	case LMP_OP_MIN:
	case LMP_OP_MAX:
		*r = v[0];
		for (i = 1; i < n; i++) {
			c = lmp_num_cmp(&v[i], r);
			if (op == LMP_OP_MIN ? c < 0 : c > 0)
				*r = v[i];
		}
		return rc;
	default:
		c = lmp_num_cmp(&v[0], &v[1]);
		switch (op) {
		case LMP_OP_LT: c = c < 0; break;
		case LMP_OP_LE: c = c <= 0; break;
		case LMP_OP_GT: c = c > 0; break;
		case LMP_OP_GE: c = c >= 0; break;
		case LMP_OP_EQ: c = c == 0; break;
		default: c = c != 0; break;
		}
		*r = lmp_num_int(c);
		return rc;
	}
}

void
lmp_prog_set_point(lmp_prog *p, const lmp_runtime *rt)
{
	int i;

	if (p->nval < p->natoms) {
		size_t n = (size_t)p->natoms, was = (size_t)p->nval;
		p->val = lmp_xrealloc(p->val, sizeof *p->val * n);
		p->gen = lmp_xrealloc(p->gen, sizeof *p->gen * n);
		p->ival = lmp_xrealloc(p->ival, sizeof *p->ival * n);
		p->igen = lmp_xrealloc(p->igen, sizeof *p->igen * n);
		memset(p->gen + was, 0, sizeof *p->gen * (n - was));
		memset(p->igen + was, 0, sizeof *p->igen * (n - was));
		p->nval = p->natoms;
	}
	p->rt = rt;
	if (++p->cur == 0) { /* the generation counter wrapped */
		memset(p->gen, 0, sizeof *p->gen * (size_t)p->nval);
		memset(p->igen, 0, sizeof *p->igen * (size_t)p->nval);
		p->cur = 1;
	}
	for (i = 0; i < LMP_NVARS; i++) {
		p->val[i] = rt->vars[i];
		p->gen[i] = p->cur;
	}
}

static int atom_value(lmp_prog *p, int a, lmp_num *out, lmp_err *e);

/* Under a sliding window of W keys, a sequence's cache holds at most W - 1
 * past tokens and a step's new keys are given to the kernel beside them:
 *   window_kv     min(cache_len, W - 1) + seq_len keys read per sequence,
 *   window_pairs  seq_len * (min(cache_len, W - 1) + seq_len) pairs, dense
 *                 over the keys given, as for full attention,
 *   window_cache  min(cache_len + seq_len, W - 1) tokens kept after the step.
 * As W grows they become kv_tokens, qk_pairs and kv_tokens. */
static int
window(const lmp_runtime *rt, int op, const lmp_num *w, lmp_num *out)
{
	lmp_i128 sum = 0, W, past, k;
	int i;

	if (!w->exact || w->d != 1 || w->n < 1)
		return -1;
	W = w->n;
	for (i = 0; rt && i < rt->nqueries; i++) {
		const lmp_query *q = &rt->queries[i];
		past = q->cache_len < W - 1 ? q->cache_len : W - 1;
		if (op == LMP_OP_WIN_CACHE)
			k = q->cache_len + q->seq_len < W - 1 ? q->cache_len + q->seq_len : W - 1;
		else
			k = past + q->seq_len;
		/* bounded by the option parsers: count <= 2^30, lengths <= 2^40 */
		sum += (lmp_i128)q->count * (op == LMP_OP_WIN_PAIRS ? (lmp_i128)q->seq_len * k : k);
	}
	*out = lmp_num_int(sum);
	return 0;
}

/* The value of an atom at the current point, computed at most once. */
static inline const lmp_num *
atom_ref(lmp_prog *p, int a, lmp_err *e)
{
	lmp_num v;

	if (a < LMP_NVARS || p->gen[a] == p->cur)
		return &p->val[a];
	if (atom_value(p, a, &v, e))
		return NULL;
	return &p->val[a];
}

/* A monomial in native integers: 1 done (*r set), 0 not all integers,
 * -1 error.  Most products fit 64 bits, so that is tried first. */
static int
mono_int(lmp_prog *p, const mono *m, lmp_i128 *r, lmp_err *e)
{
	const lmp_num *v[16];
	int64_t t64;
	lmp_i128 t;
	int j, k, small;

	if (!m->c.exact || m->c.d != 1 || m->nf > 16)
		return 0;
	small = m->c.n == (int64_t)m->c.n;
	for (j = 0; j < m->nf; j++) {
		if (!(v[j] = atom_ref(p, m->f[j].atom, e)))
			return -1;
		if (!v[j]->exact || v[j]->d != 1)
			return 0;
		small &= v[j]->n == (int64_t)v[j]->n;
	}
	if (small) {
		t64 = (int64_t)m->c.n;
		for (j = 0; j < m->nf; j++)
			for (k = 0; k < m->f[j].exp; k++)
				if (__builtin_mul_overflow(t64, (int64_t)v[j]->n, &t64))
					goto wide;
		*r = t64;
		return 1;
	}
wide:
	t = m->c.n;
	for (j = 0; j < m->nf; j++)
		for (k = 0; k < m->f[j].exp; k++)
			if (__builtin_mul_overflow(t, v[j]->n, &t))
				return poly_numerr(e, LMP_NUM_OVERFLOW);
	*r = t;
	return 1;
}

/* Any polynomial: integer monomials over integer values stay in native
 * arithmetic; anything else goes through lmp_num. */
static int
eval_wide(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e)
{
	lmp_num sum = lmp_num_int(0), t, s;
	lmp_i128 isum = 0, it = 0;
	const lmp_num *v;
	int i, j, k, rc, slow = 0;

	for (i = 0; i < q->nm; i++) {
		const mono *m = &q->m[i];
		if ((rc = mono_int(p, m, &it, e)) < 0)
			return -1;
		if (rc) {
			if (__builtin_add_overflow(isum, it, &isum))
				return poly_numerr(e, LMP_NUM_OVERFLOW);
			continue;
		}
		slow = 1;
		t = m->c;
		for (j = 0; j < m->nf; j++) {
			if (!(v = atom_ref(p, m->f[j].atom, e)))
				return -1;
			for (k = 0; k < m->f[j].exp; k++) {
				if ((rc = lmp_num_mul(&t, v, &s)))
					return poly_numerr(e, rc);
				t = s;
			}
		}
		if ((rc = lmp_num_add(&sum, &t, &s)))
			return poly_numerr(e, rc);
		sum = s;
	}
	if (!slow) {
		*out = lmp_num_int(isum);
		return 0;
	}
	t = lmp_num_int(isum);
	if ((rc = lmp_num_add(&sum, &t, out)))
		return poly_numerr(e, rc);
	return 0;
}

/* Atom a at this point as an int64 (p->ival, valid where igen == cur):
 * 1, 0 where its value is not an integer that fits, -1 error.  Kept at the
 * first use, so eval_poly's next use of it costs a load; out of line, so
 * eval_poly's loop keeps its registers. */
static __attribute__((noinline)) int
atom_int(lmp_prog *p, int a, lmp_err *e)
{
	const lmp_num *v;

	if (!(v = atom_ref(p, a, e)))
		return -1;
	if (!v->exact || v->d != 1 || v->n != (int64_t)v->n)
		return 0;
	p->ival[a] = (int64_t)v->n;
	p->igen[a] = p->cur;
	return 1;
}

/* Every coefficient of q is an integer of 64 bits.  A polynomial does not
 * change once built, so the answer is kept in it at the first evaluation. */
static int
int_coefs(const lmp_poly *q)
{
	int i;

	if (!q->ints) {
		for (i = 0; i < q->nm; i++) {
			const lmp_num *c = &q->m[i].c;
			if (!c->exact || c->d != 1 || c->n != (int64_t)c->n)
				break;
		}
		((lmp_poly *)q)->ints = i == q->nm ? 1 : -1;
	}
	return q->ints > 0;
}

/* The hot loop of a sweep: the common case (whole-byte precisions) is
 * integer coefficients over integer values whose sum and products fit 64
 * bits.  Anything else, overflow included, starts again in eval_wide: the
 * atoms met so far are kept, so it meets them, and any error, in the same
 * order. */
static int
eval_poly(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e)
{
	int64_t sum = 0, t, x;
	int i, j, k, a, rc;

	if (!int_coefs(q))
		return eval_wide(p, q, out, e);
	for (i = 0; i < q->nm; i++) {
		const mono *m = &q->m[i];
		t = (int64_t)m->c.n;
		for (j = 0; j < m->nf; j++) {
			a = m->f[j].atom;
			if (p->igen[a] != p->cur && (rc = atom_int(p, a, e)) <= 0)
				return rc < 0 ? -1 : eval_wide(p, q, out, e);
			x = p->ival[a];
			if (m->f[j].exp == 1) { /* the usual power */
				if (__builtin_mul_overflow(t, x, &t))
					return eval_wide(p, q, out, e);
				continue;
			}
			for (k = 0; k < m->f[j].exp; k++)
				if (__builtin_mul_overflow(t, x, &t))
					return eval_wide(p, q, out, e);
		}
		if (__builtin_add_overflow(sum, t, &sum))
			return eval_wide(p, q, out, e);
	}
	lmp_num_set_int(out, sum);
	return 0;
}

static int
atom_value(lmp_prog *p, int a, lmp_num *out, lmp_err *e)
{
	atom *at = &p->atoms[a];
	lmp_num v[LMP_MAX_ARGS], c;
	int i, rc;

	if (at->op == LMP_OP_COND) {
		if (eval_poly(p, at->args[0], &c, e) ||
		    eval_poly(p, at->args[lmp_num_is_zero(&c) ? 2 : 1], out, e))
			return -1;
	} else if (at->op == LMP_OP_WIN_KV || at->op == LMP_OP_WIN_PAIRS || at->op == LMP_OP_WIN_CACHE) {
		if (eval_poly(p, at->args[0], &c, e))
			return -1;
		if (window(p->rt, at->op, &c, out))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: column %d: the window must be a positive integer",
				at->where, at->col);
	} else {
		for (i = 0; i < at->nargs; i++)
			if (eval_poly(p, at->args[i], &v[i], e))
				return -1;
		if ((rc = poly_apply(at->op, v, at->nargs, out))) {
			char s[LMP_NUM_STRMAX];
			if (at->op >= LMP_OP_CHECK_NUM) {
				lmp_num_str(&v[0], s);
				return lmp_fail(e, LMP_EXIT_INPUT, "%s is %s at this point (must be %s)", at->where, s,
					at->op == LMP_OP_CHECK_INT ? "a non-negative integer" :
					at->op == LMP_OP_CHECK_BOOL ? "0 or 1" : "non-negative");
			}
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: column %d: %s", at->where, at->col, lmp_num_strerror(rc));
		}
	}
	p->val[a] = *out;
	p->gen[a] = p->cur;
	return 0;
}

int
lmp_poly_eval(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e)
{
	if (!q->nm) {
		/* zero (many rows' intermediates), before eval_poly's frame */
		lmp_num_set_int(out, 0);
		return 0;
	}
	return eval_poly(p, q, out, e);
}
