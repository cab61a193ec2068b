/* fold.c: templates folded into polynomials (poly.c) through the module
 * database.  Bound parameters are substituted, calls of other entries
 * inlined, and everything static computed once. */
#include <stdlib.h>
#include <string.h>

#include "poly_impl.h"

#define MAX_POW 16       /* x**k expands for constant k up to this */
#define MAX_WORK 250000  /* syntax nodes folded for one quantity of one layer */

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
			v[i] = poly_const_value(k[i]);
		if ((rc = poly_apply(n->op, v, nk, &r)))
			return ferr(f, n, rc);
		return lmp_poly_const(p, &r);
	}
	switch (n->op) {
	case LMP_OP_ADD:
		r = lmp_num_int(1);
		return poly_add_scaled(p, k[0], &r, k[1], f->e);
	case LMP_OP_SUB:
		r = lmp_num_int(-1);
		return poly_add_scaled(p, k[0], &r, k[1], f->e);
	case LMP_OP_NEG:
		r = lmp_num_int(-1);
		return poly_add_scaled(p, lmp_poly_zero(p), &r, k[0], f->e);
	case LMP_OP_MUL:
		if ((q = poly_mul(p, k[0], k[1], f->e)) || f->e->status)
			return q;
		break;
	case LMP_OP_DIV:
		if (!lmp_poly_is_const(k[1]))
			break;
		r = poly_const_value(k[1]);
		v[0] = lmp_num_int(1);
		if ((rc = lmp_num_div(&v[0], &r, &inv)))
			return ferr(f, n, rc);
		return poly_add_scaled(p, lmp_poly_zero(p), &inv, k[0], f->e);
	case LMP_OP_POW:
		if (!lmp_poly_is_const(k[1]))
			break;
		r = poly_const_value(k[1]);
		if (!r.exact || r.d != 1 || r.n < 0 || r.n > MAX_POW)
			break;
		v[0] = lmp_num_int(1);
		acc = lmp_poly_const(p, &v[0]);
		for (i = 0; i < (int)r.n; i++) {
			if (!(acc = poly_mul(p, acc, k[0], f->e)))
				break;
		}
		if (acc || f->e->status)
			return acc;
		break;
	}
	return poly_opaque(p, n->op, k, nk, f->where, n->col, f->e);
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
		return poly_atom(f->c->prog, n->index);
	case LMP_N_CALL:
		return call(f, n);
	case LMP_N_COND:
		if (!(k[0] = fold(f, n->kids[0])))
			return NULL;
		if (lmp_poly_is_const(k[0])) {
			lmp_num c = poly_const_value(k[0]);
			return fold(f, n->kids[lmp_num_is_zero(&c) ? 2 : 1]);
		}
		if (!(k[1] = fold(f, n->kids[1])) || !(k[2] = fold(f, n->kids[2])))
			return NULL;
		return poly_opaque(f->c->prog, LMP_OP_COND, k, 3, f->where, n->col, f->e);
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

int
lmp_poly_value(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e)
{
	lmp_runtime none = {0};

	lmp_prog_set_point(p, &none);
	return lmp_poly_eval(p, q, out, e);
}

int
lmp_tmpl_const(const char *text, const char *const *params, const lmp_num *vals, int n, const char *where,
	lmp_num *out, lmp_err *e)
{
	lmp_tmpl *t = lmp_tmpl_parse(text, params, n, e);
	lmp_fold_ctx c = {0};
	lmp_poly **args, *q;
	int i, rc = -1;

	if (!t)
		return -1;
	c.prog = lmp_prog_new();
	args = lmp_xcalloc((size_t)n + 1, sizeof *args);
	for (i = 0; i < n; i++)
		args[i] = lmp_poly_const(c.prog, &vals[i]);
	if ((q = lmp_fold(&c, t, args, where, e)))
		rc = !lmp_poly_is_const(q) ? 0 : lmp_poly_value(c.prog, q, out, e) ? -1 : 1;
	free(args);
	lmp_prog_free(c.prog);
	lmp_tmpl_free(t);
	return rc;
}
