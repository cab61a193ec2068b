/* poly.c: polynomials over runtime variables, and their atoms.
 *
 * Folding (fold.c) substitutes bound parameters, inlines calls of other
 * entries and computes everything static once.  What remains is a canonical
 * polynomial (poly_impl.h); a model's totals are one polynomial per
 * quantity, and a point (polyeval.c) costs a handful of multiplications.
 * Here: the algebra of canonical polynomials, and the atoms, indexed by
 * their canonical form so that an equal one is found in constant time. */
#include <stdlib.h>
#include <string.h>

#include "poly_impl.h"

#define MAX_MONOS 4096 /* beyond this a product stays opaque */
#define MAX_ATOMS 1000000
#define MAX_EXP 128      /* a factor's exponent; beyond, the power stays opaque */

static lmp_poly zero_poly;

lmp_prog *
lmp_prog_new(void)
{
	lmp_prog *p = lmp_xcalloc(1, sizeof *p);
	int i;

	p->arena = lmp_arena_new();
	for (i = 0; i < LMP_NVARS; i++) {
		if (p->natoms == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 64;
			p->atoms = lmp_xrealloc(p->atoms, sizeof *p->atoms * (size_t)p->cap);
		}
		memset(&p->atoms[p->natoms], 0, sizeof(atom));
		p->atoms[p->natoms].op = -1;
		p->atoms[p->natoms].var = i;
		p->natoms++;
	}
	return p;
}

void
lmp_prog_free(lmp_prog *p)
{
	if (!p)
		return;
	lmp_arena_free(p->arena);
	free(p->atoms);
	free(p->index);
	free(p->val);
	free(p->gen);
	free(p->ival);
	free(p->igen);
	free(p);
}

/* ---- polynomials ---- */

static lmp_poly *
newpoly(lmp_prog *p, int nm)
{
	lmp_poly *q = lmp_arena_alloc(p->arena, sizeof *q);

	q->nm = nm;
	if (nm)
		q->m = lmp_arena_alloc(p->arena, sizeof *q->m * (size_t)nm);
	return q;
}

lmp_poly *
lmp_poly_zero(lmp_prog *p)
{
	(void)p;
	return &zero_poly;
}

/* True when q can only be a non-negative number (an integer, if asked) at
 * any point: non-negative coefficients over runtime variables, which are
 * never negative and, but for the dtype sizes, whole, and over a sliding
 * window's aggregates (whole and never negative: polyeval.c window). */
static int
provably_ok(const lmp_prog *p, const lmp_poly *q, int integral)
{
	for (int i = 0; i < q->nm; i++) {
		const mono *m = &q->m[i];
		if (lmp_num_sign(&m->c) < 0 || (integral && !(m->c.exact && m->c.d == 1)))
			return 0;
		for (int j = 0; j < m->nf; j++) {
			int a = m->f[j].atom, op = a >= LMP_NVARS ? p->atoms[a].op : -1;
			if (op == LMP_OP_WIN_KV || op == LMP_OP_WIN_PAIRS || op == LMP_OP_WIN_CACHE) {
				if (m->f[j].exp < 1)
					return 0;
				continue;
			}
			if (a >= LMP_NVARS)
				return 0;
			if (integral && (a == LMP_V_W_DTYPE_BYTES || a == LMP_V_A_DTYPE_BYTES || a == LMP_V_KV_DTYPE_BYTES))
				return 0;
		}
	}
	return 1;
}

/* Is q an expectation, expected(...) or a multiple of one? */
static int
is_expected(const lmp_prog *p, const lmp_poly *q)
{
	for (int i = 0; i < q->nm; i++)
		for (int j = 0; j < q->m[i].nf; j++)
			if (q->m[i].f[j].atom >= LMP_NVARS && p->atoms[q->m[i].f[j].atom].op == LMP_OP_EXPECTED)
				return 1;
	return 0;
}

lmp_poly *
lmp_poly_check(lmp_prog *p, lmp_poly *q, int op, const char *where, lmp_err *e)
{
	/* An expected count (tokens per expert) may be fractional. */
	if (op == LMP_OP_CHECK_INT && is_expected(p, q))
		op = LMP_OP_CHECK_NUM;
	/* Checked only when it could fail: the common "{tokens} * 4096" stays a
	 * plain polynomial, so a sweep point pays nothing for it. */
	if (op != LMP_OP_CHECK_BOOL && provably_ok(p, q, op == LMP_OP_CHECK_INT))
		return q;
	return poly_opaque(p, op, &q, 1, where, 0, e);
}

lmp_poly *
lmp_poly_const(lmp_prog *p, const lmp_num *v)
{
	lmp_poly *q;

	if (lmp_num_is_zero(v) && v->exact)
		return &zero_poly;
	q = newpoly(p, 1);
	q->m[0].c = *v;
	return q;
}

int
lmp_poly_is_const(const lmp_poly *q)
{
	return q->nm == 0 || (q->nm == 1 && q->m[0].nf == 0);
}

/* The variables atom a reads (memo[a]: its mask plus one, 0 not yet). */
static unsigned atom_vars(const lmp_prog *p, int a, unsigned *memo);

static unsigned
poly_vars(const lmp_prog *p, const lmp_poly *q, unsigned *memo)
{
	unsigned v = 0;

	for (int i = 0; q && i < q->nm; i++)
		for (int j = 0; j < q->m[i].nf; j++)
			v |= atom_vars(p, q->m[i].f[j].atom, memo);
	return v;
}

static unsigned
atom_vars(const lmp_prog *p, int a, unsigned *memo)
{
	const atom *t = &p->atoms[a];
	unsigned v = 0;

	if (a < LMP_NVARS)
		return 1u << a;
	if (memo[a])
		return memo[a] - 1;
	/* a sliding window's aggregates read the step's queries themselves */
	if (t->op == LMP_OP_WIN_KV || t->op == LMP_OP_WIN_PAIRS || t->op == LMP_OP_WIN_CACHE)
		v = LMP_QUERY_VARS | LMP_READS_QUERIES;
	for (int i = 0; i < t->nargs; i++)
		v |= poly_vars(p, t->args[i], memo);
	memo[a] = v + 1;
	return v;
}

unsigned
lmp_poly_vars(const lmp_prog *p, const lmp_poly *const *q, int n)
{
	unsigned *memo = lmp_xcalloc((size_t)p->natoms + 1, sizeof *memo), v = 0;

	for (int i = 0; i < n; i++)
		v |= poly_vars(p, q[i], memo);
	free(memo);
	return v;
}

int
lmp_poly_var(const lmp_poly *q)
{
	if (!q || q->nm != 1 || q->m[0].nf != 1 || q->m[0].f[0].exp != 1 || q->m[0].f[0].atom >= LMP_NVARS ||
	    !q->m[0].c.exact || q->m[0].c.n != 1 || q->m[0].c.d != 1)
		return -1;
	return q->m[0].f[0].atom;
}

/* A sliding window's aggregate (window_kv, window_pairs, window_cache) of
 * a constant window W: for one query of seq_len s over cache_len c it is
 * (min(c, W - 1) + s), s (min(c, W - 1) + s) or min(c + s, W - 1) a
 * sequence (polyeval.c window), of degree 1, 2 and 1 in the lengths where
 * neither min changes side (lmp_poly_windows gives the W to watch).  0
 * where a is no such atom. */
static int
window_degree(const lmp_prog *p, int a)
{
	const atom *t = &p->atoms[a];

	if (t->op != LMP_OP_WIN_KV && t->op != LMP_OP_WIN_PAIRS && t->op != LMP_OP_WIN_CACHE)
		return 0;
	if (!lmp_poly_is_const(t->args[0]))
		return 0;
	return t->op == LMP_OP_WIN_PAIRS ? 2 : 1;
}

int
lmp_poly_windows(const lmp_prog *p, int64_t *w, int max)
{
	int n = 0;

	for (int a = LMP_NVARS; a < p->natoms; a++) {
		const atom *t = &p->atoms[a];
		lmp_num v;
		int seen = 0;
		if (t->op != LMP_OP_WIN_KV && t->op != LMP_OP_WIN_PAIRS && t->op != LMP_OP_WIN_CACHE)
			continue;
		if (!lmp_poly_is_const(t->args[0]))
			return -1;
		v = t->args[0]->nm ? t->args[0]->m[0].c : lmp_num_int(0);
		if (!v.exact || v.d != 1 || v.n < 1 || v.n > (lmp_i128)1 << 40)
			return -1;
		for (int i = 0; i < n; i++)
			seen |= w[i] == (int64_t)v.n;
		if (seen)
			continue;
		if (n == max)
			return -1;
		w[n++] = (int64_t)v.n;
	}
	return n;
}

int
lmp_poly_degree(const lmp_prog *p, const lmp_poly *const *q, int n, const int *vdeg)
{
	unsigned *memo = lmp_xcalloc((size_t)p->natoms + 1, sizeof *memo), moving = LMP_READS_QUERIES;
	int best = 0;

	for (int v = 0; v < LMP_NVARS; v++)
		if (vdeg[v])
			moving |= 1u << v;
	for (int i = 0; i < n && best >= 0; i++)
		for (int a = 0; q[i] && a < q[i]->nm && best >= 0; a++) {
			const mono *mo = &q[i]->m[a];
			int d = 0;
			for (int j = 0; j < mo->nf && d >= 0; j++) {
				int at = mo->f[j].atom, wd;
				if (mo->f[j].exp < 0)
					d = -1;
				else if (at >= LMP_NVARS && (wd = window_degree(p, at)))
					d += wd * mo->f[j].exp; /* a window's, on one side of its mins */
				else if (at >= LMP_NVARS && (atom_vars(p, at, memo) & moving))
					d = -1; /* an operation of x: no polynomial */
				else if (at < LMP_NVARS)
					d += vdeg[at] * mo->f[j].exp;
			}
			best = d < 0 ? -1 : d > best ? d : best;
		}
	free(memo);
	return best;
}

lmp_poly *
poly_atom(lmp_prog *p, int a)
{
	lmp_poly *q = newpoly(p, 1);

	q->m[0].c = lmp_num_int(1);
	q->m[0].nf = 1;
	q->m[0].f = lmp_arena_alloc(p->arena, sizeof(factor));
	q->m[0].f[0].atom = a;
	q->m[0].f[0].exp = 1;
	return q;
}

static int
cmp_factors(const mono *a, const mono *b)
{
	int i;

	for (i = 0; i < a->nf && i < b->nf; i++) {
		if (a->f[i].atom != b->f[i].atom)
			return a->f[i].atom < b->f[i].atom ? -1 : 1;
		if (a->f[i].exp != b->f[i].exp)
			return a->f[i].exp < b->f[i].exp ? -1 : 1;
	}
	return (a->nf > b->nf) - (a->nf < b->nf);
}

int
poly_numerr(lmp_err *e, int code)
{
	return lmp_fail(e, LMP_EXIT_INPUT, "%s", lmp_num_strerror(code));
}

/* Sum of two canonical polynomials, scaled: a + k * b. */
lmp_poly *
poly_add_scaled(lmp_prog *p, const lmp_poly *a, const lmp_num *k, const lmp_poly *b, lmp_err *e)
{
	lmp_poly *r = newpoly(p, a->nm + b->nm);
	int i = 0, j = 0, n = 0, c, rc;
	lmp_num t, s;

	while (i < a->nm || j < b->nm) {
		c = i == a->nm ? 1 : j == b->nm ? -1 : cmp_factors(&a->m[i], &b->m[j]);
		if (c < 0) {
			r->m[n++] = a->m[i++];
			continue;
		}
		if ((rc = lmp_num_mul(k, &b->m[j].c, &t)))
			return poly_numerr(e, rc), NULL;
		if (c == 0) {
			if ((rc = lmp_num_add(&a->m[i].c, &t, &s)))
				return poly_numerr(e, rc), NULL;
			t = s;
			r->m[n] = a->m[i++];
		} else {
			r->m[n] = b->m[j];
		}
		j++;
		r->m[n].c = t;
		if (!(lmp_num_is_zero(&t) && t.exact))
			n++;
	}
	r->nm = n;
	return r;
}

static int
mono_cmp_q(const void *x, const void *y)
{
	return cmp_factors(x, y);
}

lmp_poly *
poly_mul(lmp_prog *p, const lmp_poly *a, const lmp_poly *b, lmp_err *e)
{
	lmp_poly *r;
	int i, j, n = 0, rc, x, y, k;
	long total = (long)a->nm * b->nm;

	if (total > MAX_MONOS)
		return NULL; /* caller keeps the product opaque */
	r = newpoly(p, (int)total);
	for (i = 0; i < a->nm; i++) {
		for (j = 0; j < b->nm; j++) {
			const mono *ma = &a->m[i], *mb = &b->m[j];
			mono *m = &r->m[n++];
			if ((rc = lmp_num_mul(&ma->c, &mb->c, &m->c)))
				return poly_numerr(e, rc), NULL;
			m->f = lmp_arena_alloc(p->arena, sizeof(factor) * (size_t)(ma->nf + mb->nf + 1));
			for (x = 0, y = 0, k = 0; x < ma->nf || y < mb->nf; k++) {
				if (y == mb->nf || (x < ma->nf && ma->f[x].atom < mb->f[y].atom))
					m->f[k] = ma->f[x++];
				else if (x == ma->nf || mb->f[y].atom < ma->f[x].atom)
					m->f[k] = mb->f[y++];
				else {
					m->f[k].atom = ma->f[x].atom;
					m->f[k].exp = ma->f[x++].exp + mb->f[y++].exp;
					if (m->f[k].exp > MAX_EXP)
						return NULL; /* caller keeps the product opaque */
				}
			}
			m->nf = k;
		}
	}
	if (n > 1)
		qsort(r->m, (size_t)n, sizeof *r->m, mono_cmp_q);
	/* Combine equal monomials. */
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && cmp_factors(&r->m[j - 1], &r->m[i]) == 0) {
			lmp_num s;
			if ((rc = lmp_num_add(&r->m[j - 1].c, &r->m[i].c, &s)))
				return poly_numerr(e, rc), NULL;
			r->m[j - 1].c = s;
		} else {
			r->m[j++] = r->m[i];
		}
	}
	for (i = 0, n = 0; i < j; i++)
		if (!(lmp_num_is_zero(&r->m[i].c) && r->m[i].c.exact))
			r->m[n++] = r->m[i];
	r->nm = n;
	return r;
}

int
lmp_poly_accumulate(lmp_prog *p, lmp_poly **sum, const lmp_num *k, const lmp_poly *q, lmp_err *e)
{
	lmp_poly *r = poly_add_scaled(p, *sum, k, q, e);

	if (!r)
		return -1;
	*sum = r;
	return 0;
}

/* ---- atoms ---- */

static unsigned long
poly_hash(const lmp_poly *q)
{
	unsigned long h = 5381;
	int i, j;

	for (i = 0; i < q->nm; i++) {
		const mono *m = &q->m[i];
		unsigned long bits = 0;
		if (m->c.exact)
			bits = (unsigned long)m->c.n ^ (unsigned long)m->c.d;
		else
			memcpy(&bits, &m->c.x, sizeof bits < sizeof m->c.x ? sizeof bits : sizeof m->c.x);
		h = h * 33 + bits;
		for (j = 0; j < m->nf; j++)
			h = h * 33 + (unsigned long)(m->f[j].atom * 31 + m->f[j].exp);
	}
	return h;
}

static int
poly_eq(const lmp_poly *a, const lmp_poly *b)
{
	int i;

	if (a->nm != b->nm)
		return 0;
	for (i = 0; i < a->nm; i++)
		if (!lmp_num_eq(&a->m[i].c, &b->m[i].c) || cmp_factors(&a->m[i], &b->m[i]))
			return 0;
	return 1;
}

/* a and b are one polynomial (NULL only as NULL): a row's values are
 * equal at every point to a row bound to equal polynomials. */
int
lmp_poly_same(const lmp_poly *a, const lmp_poly *b)
{
	return a == b || (a && b && poly_eq(a, b));
}

/* The index slot of hash h: its bits mixed, since h's low bits alone
 * vary little between similar polynomials. */
static size_t
slot(unsigned long h, size_t n)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdUL;
	h ^= h >> 33;
	return (size_t)h & (n - 1);
}

static void
index_put(lmp_prog *p, int a)
{
	size_t i;

	for (i = slot(p->atoms[a].hash, p->nindex); p->index[i]; i = (i + 1) & (p->nindex - 1))
		;
	p->index[i] = a;
}

/* Atom a (the newest) into the index, which stays at most half full. */
static void
index_add(lmp_prog *p, int a)
{
	if ((size_t)(p->natoms - LMP_NVARS) * 2 <= p->nindex) {
		index_put(p, a);
		return;
	}
	p->nindex = p->nindex ? p->nindex * 2 : 256;
	free(p->index);
	p->index = lmp_xcalloc(p->nindex, sizeof *p->index);
	for (int b = LMP_NVARS; b < p->natoms; b++)
		index_put(p, b);
}

lmp_poly *
poly_opaque(lmp_prog *p, int op, lmp_poly **args, int nargs, const char *where, int col, lmp_err *e)
{
	unsigned long h = (unsigned long)op;
	size_t s;
	int i, j;
	atom *a;

	for (i = 0; i < nargs; i++)
		h = h * 1000003 + poly_hash(args[i]);
	/* The atom's canonical form is its op and its arguments' canonical
	 * polynomials: equal forms are one atom. */
	for (s = p->nindex ? slot(h, p->nindex) : 0; p->nindex && p->index[s]; s = (s + 1) & (p->nindex - 1)) {
		a = &p->atoms[p->index[s]];
		if (a->hash != h || a->op != op || a->nargs != nargs)
			continue;
		for (j = 0; j < nargs && poly_eq(a->args[j], args[j]); j++)
			;
		if (j == nargs)
			return poly_atom(p, p->index[s]);
	}
	if (p->natoms >= MAX_ATOMS)
		return lmp_fail(e, LMP_EXIT_INPUT, "formulas too large"), NULL;
	if (p->natoms == p->cap) {
		p->cap *= 2;
		p->atoms = lmp_xrealloc(p->atoms, sizeof *p->atoms * (size_t)p->cap);
	}
	a = &p->atoms[p->natoms];
	memset(a, 0, sizeof *a);
	a->op = op;
	a->nargs = nargs;
	a->args = lmp_arena_alloc(p->arena, sizeof *a->args * (size_t)nargs);
	memcpy(a->args, args, sizeof *args * (size_t)nargs);
	a->where = where;
	a->col = col;
	a->hash = h;
	p->natoms++;
	index_add(p, p->natoms - 1);
	return poly_atom(p, p->natoms - 1);
}
