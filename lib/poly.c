/* poly.c: templates folded into polynomials over runtime variables.
 *
 * Folding substitutes bound parameters, inlines calls of other entries and
 * computes everything static once.  What remains is a canonical polynomial:
 * a sorted list of monomials c * a1^k1 * a2^k2 ..., whose atoms are runtime
 * variables or opaque operations (min, ceil, division by a runtime value,
 * a runtime condition) that are themselves over polynomials.  Equal atoms
 * are shared, so each is computed once per point; a model's totals are one
 * polynomial per quantity, and a point costs a handful of multiplications. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_MONOS 4096 /* beyond this a product stays opaque */
#define MAX_POW 16     /* x**k expands for constant k up to this */
#define MAX_ATOMS 1000000
#define MAX_EXP 128      /* a factor's exponent; beyond, the power stays opaque */
#define MAX_WORK 250000  /* syntax nodes folded for one quantity of one layer */

typedef struct factor {
	int atom, exp;
} factor;

typedef struct mono {
	lmp_num c;
	int nf;
	factor *f;
} mono;

struct lmp_poly {
	int nm;
	mono *m;
};

typedef struct atom {
	int op; /* -1: runtime variable #var */
	int var;
	int nargs;
	lmp_poly **args;
	const char *where; /* entry, quantity and template, for messages */
	int col;
	unsigned long hash;
} atom;

struct lmp_prog {
	lmp_arena *arena;
	atom *atoms;
	int natoms, cap;
	lmp_num *val; /* per atom, valid when gen == cur */
	unsigned *gen;
	int nval;
	unsigned cur;
	const lmp_runtime *rt;
};

static lmp_poly zero_poly;
static lmp_poly *opaque(lmp_prog *p, int op, lmp_poly **args, int nargs, const char *where, int col, lmp_err *e);

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
	free(p->val);
	free(p->gen);
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
 * never negative and, but for the dtype sizes, whole. */
static int
provably_ok(const lmp_poly *q, int integral)
{
	for (int i = 0; i < q->nm; i++) {
		const mono *m = &q->m[i];
		if (lmp_num_sign(&m->c) < 0 || (integral && !(m->c.exact && m->c.d == 1)))
			return 0;
		for (int j = 0; j < m->nf; j++) {
			int a = m->f[j].atom;
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
	if (op != LMP_OP_CHECK_BOOL && provably_ok(q, op == LMP_OP_CHECK_INT))
		return q;
	return opaque(p, op, &q, 1, where, 0, e);
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

static lmp_num
const_value(const lmp_poly *q)
{
	return q->nm ? q->m[0].c : lmp_num_int(0);
}

static lmp_poly *
atom_poly(lmp_prog *p, int a)
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

static int
numerr(lmp_err *e, int code)
{
	return lmp_fail(e, LMP_EXIT_INPUT, "%s", lmp_num_strerror(code));
}

/* Sum of two canonical polynomials, scaled: a + k * b. */
static lmp_poly *
add_scaled(lmp_prog *p, const lmp_poly *a, const lmp_num *k, const lmp_poly *b, lmp_err *e)
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
			return numerr(e, rc), NULL;
		if (c == 0) {
			if ((rc = lmp_num_add(&a->m[i].c, &t, &s)))
				return numerr(e, rc), NULL;
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

static lmp_poly *
mul(lmp_prog *p, const lmp_poly *a, const lmp_poly *b, lmp_err *e)
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
				return numerr(e, rc), NULL;
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
				return numerr(e, rc), NULL;
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
	lmp_poly *r = add_scaled(p, *sum, k, q, e);

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

static lmp_poly *
opaque(lmp_prog *p, int op, lmp_poly **args, int nargs, const char *where, int col, lmp_err *e)
{
	unsigned long h = (unsigned long)op;
	int i, j;
	atom *a;

	for (i = 0; i < nargs; i++)
		h = h * 1000003 + poly_hash(args[i]);
	for (i = LMP_NVARS; i < p->natoms; i++) {
		a = &p->atoms[i];
		if (a->hash != h || a->op != op || a->nargs != nargs)
			continue;
		for (j = 0; j < nargs && poly_eq(a->args[j], args[j]); j++)
			;
		if (j == nargs)
			return atom_poly(p, i);
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
	return atom_poly(p, p->natoms++);
}

/* ---- numeric application of an operation ---- */

static int
apply(int op, const lmp_num *v, int n, lmp_num *r)
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

/* ---- folding ---- */

struct fold {
	lmp_fold_ctx *c;
	const lmp_tmpl *t;
	lmp_poly *const *args;
	const char *where;
	lmp_err *e;
};

static lmp_poly *fold(struct fold *f, const lmp_node *n);

static lmp_poly *
ferr(struct fold *f, const lmp_node *n, int code)
{
	lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: %s", f->where, n->col, lmp_num_strerror(code));
	return NULL;
}

static lmp_poly *
call(struct fold *f, const lmp_node *n)
{
	lmp_fold_ctx *c = f->c;
	lmp_entry *en = c->db ? lmp_db_find(c->db, n->name) : NULL;
	lmp_poly *bound[LMP_MAX_ARGS] = {0}, *r;
	int i, k, pos = 0;

	if (!en)
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: unknown entry {%s}", f->where, n->col, n->name), NULL;
	if (lmp_entry_compile(c->db, en, f->e))
		return NULL;
	if (en->nparams > LMP_MAX_ARGS)
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: too many parameters", en->name), NULL;
	for (i = 0; i < n->nkids; i++) {
		if (n->argnames && n->argnames[i]) {
			k = lmp_entry_param_index(en, n->argnames[i]);
			if (k < 0)
				return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: {%s} has no parameter '%s'",
					f->where, n->col, n->name, n->argnames[i]), NULL;
		} else {
			if (n->argnames)
				for (k = 0; k < i; k++)
					if (n->argnames[k])
						return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: positional argument after a named one",
							f->where, n->col), NULL;
			k = pos++;
			if (k >= en->nparams)
				return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: too many arguments to {%s} (it takes %d)",
					f->where, n->col, n->name, en->nparams), NULL;
		}
		if (bound[k])
			return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: parameter '%s' of {%s} given twice",
				f->where, n->col, en->params[k].name, n->name), NULL;
		if (!(bound[k] = fold(f, n->kids[i])))
			return NULL;
	}
	for (k = 0; k < en->nparams; k++) {
		lmp_num v;
		if (bound[k])
			continue;
		if (en->params[k].dflt && cJSON_IsBool(en->params[k].dflt))
			v = lmp_num_int(cJSON_IsTrue(en->params[k].dflt));
		else if (!en->params[k].dflt || lmp_json_num(en->params[k].dflt, &v))
			return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: call of {%s} binds no '%s'",
				f->where, n->col, n->name, en->params[k].name), NULL;
		bound[k] = lmp_poly_const(c->prog, &v);
	}
	for (i = 0; i < c->depth; i++) {
		if (c->stack[i] == en->name && c->stack_kind[i] == c->kind) {
			char chain[512] = "";
			for (k = i; k < c->depth; k++) {
				strncat(chain, c->stack[k], sizeof chain - strlen(chain) - 1);
				strncat(chain, " -> ", sizeof chain - strlen(chain) - 1);
			}
			strncat(chain, en->name, sizeof chain - strlen(chain) - 1);
			return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: call cycle: %s", f->where, chain), NULL;
		}
	}
	if (c->depth >= LMP_MAX_CALL_DEPTH)
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: calls nested deeper than %d", f->where, LMP_MAX_CALL_DEPTH), NULL;
	if (!en->tmpl[c->kind])
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: {%s} has no %s formula",
			f->where, n->col, n->name, lmp_kind_name(c->kind)), NULL;
	c->stack[c->depth] = en->name;
	c->stack_kind[c->depth] = c->kind;
	c->depth++;
	r = lmp_fold(c, en->tmpl[c->kind], bound, NULL, f->e);
	c->depth--;
	return r;
}

/* Not inlined: its value array stays off the recursion's frames. */
__attribute__((noinline)) static lmp_poly *
fold_op(struct fold *f, const lmp_node *n, lmp_poly **k, int nk)
{
	lmp_prog *p = f->c->prog;
	lmp_num v[LMP_MAX_ARGS], r, inv;
	lmp_poly *q, *acc;
	int i, rc, allconst = 1;

	for (i = 0; i < nk; i++)
		allconst &= lmp_poly_is_const(k[i]);
	if (n->op == LMP_OP_WIN_KV || n->op == LMP_OP_WIN_PAIRS || n->op == LMP_OP_WIN_CACHE)
		allconst = 0; /* they read the step's queries */
	if (n->op == LMP_OP_EXPECTED)
		allconst = 0; /* the mark must survive folding */
	if (allconst) {
		for (i = 0; i < nk; i++)
			v[i] = const_value(k[i]);
		if ((rc = apply(n->op, v, nk, &r)))
			return ferr(f, n, rc);
		return lmp_poly_const(p, &r);
	}
	switch (n->op) {
	case LMP_OP_ADD:
		r = lmp_num_int(1);
		return add_scaled(p, k[0], &r, k[1], f->e);
	case LMP_OP_SUB:
		r = lmp_num_int(-1);
		return add_scaled(p, k[0], &r, k[1], f->e);
	case LMP_OP_NEG:
		r = lmp_num_int(-1);
		return add_scaled(p, &zero_poly, &r, k[0], f->e);
	case LMP_OP_MUL:
		if ((q = mul(p, k[0], k[1], f->e)) || f->e->status)
			return q;
		break;
	case LMP_OP_DIV:
		if (!lmp_poly_is_const(k[1]))
			break;
		r = const_value(k[1]);
		v[0] = lmp_num_int(1);
		if ((rc = lmp_num_div(&v[0], &r, &inv)))
			return ferr(f, n, rc);
		return add_scaled(p, &zero_poly, &inv, k[0], f->e);
	case LMP_OP_POW:
		if (!lmp_poly_is_const(k[1]))
			break;
		r = const_value(k[1]);
		if (!r.exact || r.d != 1 || r.n < 0 || r.n > MAX_POW)
			break;
		v[0] = lmp_num_int(1);
		acc = lmp_poly_const(p, &v[0]);
		for (i = 0; i < (int)r.n; i++) {
			if (!(acc = mul(p, acc, k[0], f->e)))
				break;
		}
		if (acc || f->e->status)
			return acc;
		break;
	}
	return opaque(p, n->op, k, nk, f->where, n->col, f->e);
}

static lmp_poly *
fold(struct fold *f, const lmp_node *n)
{
	lmp_poly *k[4], **kk, *r;
	int i;

	/* Calls inline their callees: a call graph can grow exponentially. */
	if (++f->c->work > MAX_WORK)
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: formulas too large to fold (more than %d terms)",
			f->where, MAX_WORK), NULL;

	switch (n->type) {
	case LMP_N_NUM:
		return lmp_poly_const(f->c->prog, &n->num);
	case LMP_N_PARAM:
		return f->args[n->index];
	case LMP_N_VAR:
		return atom_poly(f->c->prog, n->index);
	case LMP_N_CALL:
		return call(f, n);
	case LMP_N_COND:
		if (!(k[0] = fold(f, n->kids[0])))
			return NULL;
		if (lmp_poly_is_const(k[0])) {
			lmp_num c = const_value(k[0]);
			return fold(f, n->kids[lmp_num_is_zero(&c) ? 2 : 1]);
		}
		if (!(k[1] = fold(f, n->kids[1])) || !(k[2] = fold(f, n->kids[2])))
			return NULL;
		return opaque(f->c->prog, LMP_OP_COND, k, 3, f->where, n->col, f->e);
	}
	if (n->nkids > LMP_MAX_ARGS)
		return lmp_fail(f->e, LMP_EXIT_INPUT, "%s: column %d: too many arguments", f->where, n->col), NULL;
	/* Small frames: this recursion is as deep as the template. */
	kk = n->nkids <= 4 ? k : lmp_xmalloc(sizeof *kk * (size_t)n->nkids);
	for (i = 0; i < n->nkids; i++)
		if (!(kk[i] = fold(f, n->kids[i])))
			break;
	r = i == n->nkids ? fold_op(f, n, kk, n->nkids) : NULL;
	if (kk != k)
		free(kk);
	return r;
}

lmp_poly *
lmp_fold(lmp_fold_ctx *c, const lmp_tmpl *t, lmp_poly *const *args, const char *where, lmp_err *e)
{
	struct fold f;
	char *w;
	size_t len;

	if (!where) {
		/* "entry: kind "template"" identifies the formula in messages. */
		const char *entry = c->depth ? c->stack[c->depth - 1] : "template";
		int tl = (int)strlen(t->text);
		len = strlen(entry) + (size_t)(tl > 80 ? 80 : tl) + 48;
		w = lmp_arena_alloc(c->prog->arena, len);
		snprintf(w, len, "%s: %s \"%.80s%s\"", entry, lmp_kind_name(c->kind), t->text, tl > 80 ? "..." : "");
		where = w;
	}
	f.c = c;
	f.t = t;
	f.args = args;
	f.where = where;
	f.e = e;
	e->status = 0;
	return fold(&f, t->root);
}

/* ---- evaluation at a point ---- */

void
lmp_prog_set_point(lmp_prog *p, const lmp_runtime *rt)
{
	int i;

	if (p->nval < p->natoms) {
		p->val = lmp_xrealloc(p->val, sizeof *p->val * (size_t)p->natoms);
		p->gen = lmp_xrealloc(p->gen, sizeof *p->gen * (size_t)p->natoms);
		memset(p->gen + p->nval, 0, sizeof *p->gen * (size_t)(p->natoms - p->nval));
		p->nval = p->natoms;
	}
	p->rt = rt;
	if (++p->cur == 0) { /* the generation counter wrapped */
		memset(p->gen, 0, sizeof *p->gen * (size_t)p->nval);
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
				return numerr(e, LMP_NUM_OVERFLOW);
	*r = t;
	return 1;
}

/* The hot loop of a sweep: integer monomials over integer values (the
 * common case: whole-byte precisions) stay in native arithmetic; anything
 * else goes through lmp_num. */
static int
eval_poly(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e)
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
				return numerr(e, LMP_NUM_OVERFLOW);
			continue;
		}
		slow = 1;
		t = m->c;
		for (j = 0; j < m->nf; j++) {
			if (!(v = atom_ref(p, m->f[j].atom, e)))
				return -1;
			for (k = 0; k < m->f[j].exp; k++) {
				if ((rc = lmp_num_mul(&t, v, &s)))
					return numerr(e, rc);
				t = s;
			}
		}
		if ((rc = lmp_num_add(&sum, &t, &s)))
			return numerr(e, rc);
		sum = s;
	}
	if (!slow) {
		*out = lmp_num_int(isum);
		return 0;
	}
	t = lmp_num_int(isum);
	if ((rc = lmp_num_add(&sum, &t, out)))
		return numerr(e, rc);
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
		if ((rc = apply(at->op, v, at->nargs, out))) {
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
	return eval_poly(p, q, out, e);
}
