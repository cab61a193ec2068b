/* eval.c: a populated architecture compiled for evaluation.
 *
 * Every basic layer (a node without sub_layers) becomes a row: its entry's
 * seven formulas folded with the node's bound parameters.  The totals are
 * the sum over rows of count x row, as polynomials, so evaluating a point
 * costs only its runtime part. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"


struct loader {
	lmp_model *m;
	lmp_db *db;
	int cap;
	lmp_err *e;
};

static char *
astrdup(lmp_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = lmp_arena_alloc(a, n);

	memcpy(d, s, n);
	return d;
}

/* A parameter value: a number, or a template over runtime variables. */
static lmp_poly *
bind_value(lmp_model *m, const lmp_param *par, const cJSON *v, const char *what, lmp_err *e)
{
	lmp_fold_ctx c = {0};
	lmp_tmpl *t;
	lmp_poly *q;
	lmp_num x;

	c.prog = m->prog;
	if (cJSON_IsNumber(v)) {
		if (lmp_json_num(v, &x))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: parameter %s: bad number", what, par->name), NULL;
		q = lmp_poly_const(m->prog, &x);
	} else if (cJSON_IsString(v)) {
		if (!(t = lmp_tmpl_parse(v->valuestring, NULL, 0, e))) {
			lmp_prefix(e, "%s: parameter %s \"%.80s\": ", what, par->name, v->valuestring);
			return NULL;
		}
		q = lmp_fold(&c, t, NULL, what, e);
		lmp_tmpl_free(t);
		if (!q)
			return NULL;
	} else if (cJSON_IsBool(v)) {
		x = lmp_num_int(cJSON_IsTrue(v));
		q = lmp_poly_const(m->prog, &x);
	} else {
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: parameter %s must be a number or a template string",
			what, par->name), NULL;
	}
	if (!lmp_poly_is_const(q)) {
		/* Checked at every point: never negative, integral for int, 0 or 1 for bool. */
		char *w = lmp_arena_alloc(m->arena, strlen(what) + strlen(par->name) + 32);
		sprintf(w, "%s: parameter %s", what, par->name);
		return lmp_poly_check(m->prog, q, !strcmp(par->type, "int") ? LMP_OP_CHECK_INT :
			!strcmp(par->type, "bool") ? LMP_OP_CHECK_BOOL : LMP_OP_CHECK_NUM, w, e);
	}
	{
		lmp_err ignore;
		lmp_poly_value(m->prog, q, &x, &ignore);
		if (lmp_num_sign(&x) < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: parameter %s must not be negative", what, par->name), NULL;
		if (!strcmp(par->type, "int") && !lmp_num_is_int(&x))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: parameter %s must be an integer", what, par->name), NULL;
		if (!strcmp(par->type, "bool") && !lmp_num_is_zero(&x) && lmp_num_cmp(&x, &(lmp_num){1, 1, 1, 0}))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: parameter %s must be 0 or 1", what, par->name), NULL;
	}
	return q;
}

/* Fold all seven quantities (and, if asked, the breakdown) of one row. */
static int
compile_row(lmp_model *m, lmp_db *db, lmp_row *r, lmp_poly **args, int breakdown, lmp_err *e)
{
	lmp_entry *en = r->entry;
	lmp_fold_ctx c = {0};
	int k;

	c.prog = m->prog;
	c.db = db;
	c.stack[0] = en->name;
	c.depth = 1;
	for (k = 0; k < LMP_NKINDS; k++) {
		c.kind = k;
		if (!en->tmpl[k])
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s has no %s formula", r->path, en->name, lmp_kind_name(k));
		if (!(r->poly[k] = lmp_fold(&c, en->tmpl[k], args, NULL, e)))
			return strcmp(r->path, en->name) ? lmp_prefix(e, "%s: ", r->path) : -1;
	}
	if (breakdown && en->nbreak) {
		r->breakdown = lmp_arena_alloc(m->arena, sizeof *r->breakdown * (size_t)en->nbreak);
		c.kind = LMP_K_FLOPS;
		for (k = 0; k < en->nbreak; k++)
			if (!(r->breakdown[k] = lmp_fold(&c, en->breakdown[k], args, NULL, e)))
				return lmp_prefix(e, "%s: breakdown %s: ", r->path, en->break_names[k]);
	}
	return 0;
}

static lmp_row *
add_row(struct loader *L)
{
	lmp_model *m = L->m;

	if (m->nrows == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 32;
		m->rows = lmp_xrealloc(m->rows, sizeof *m->rows * (size_t)L->cap);
	}
	memset(&m->rows[m->nrows], 0, sizeof *m->rows);
	return &m->rows[m->nrows++];
}

/* A Linear's shape, where its parameters are numbers: what a quantized
 * format stores (quant.c). */
static void
linear_shape(lmp_row *r, const cJSON *params)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(params, "bias");

	if (strcmp(r->cls, "torch.nn.modules.linear.Linear") ||
	    lmp_json_num(cJSON_GetObjectItemCaseSensitive(params, "in_features"), &r->in) ||
	    lmp_json_num(cJSON_GetObjectItemCaseSensitive(params, "out_features"), &r->out) ||
	    !lmp_num_is_int(&r->in) || !lmp_num_is_int(&r->out) || r->in.n < 1 || r->out.n < 1 ||
	    r->in.n > (lmp_i128)1 << 40 || r->out.n > (lmp_i128)1 << 40)
		return;
	if (!b)
		r->bias = lmp_num_int(1);
	else if (cJSON_IsBool(b))
		r->bias = lmp_num_int(cJSON_IsTrue(b));
	else if (lmp_json_num(b, &r->bias) || !lmp_num_is_int(&r->bias) || r->bias.n < 0 || r->bias.n > 1)
		return;
	r->linear = 1;
}

static int
leaf(struct loader *L, const cJSON *node, const char *path, const lmp_num *count, const lmp_num *active)
{
	lmp_model *m = L->m;
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(node, "params");
	const cJSON *tied = cJSON_GetObjectItemCaseSensitive(node, "tied");
	const cJSON *v;
	lmp_poly *args[LMP_MAX_ARGS];
	lmp_row *r;
	int i;

	r = add_row(L);
	r->path = astrdup(m->arena, path);
	r->count = *count;
	r->cls = cls->valuestring;
	if (tied && !cJSON_IsString(tied))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"tied\" must name the layer that owns the weight", path);
	r->tied = tied ? tied->valuestring : NULL;
	r->active = *active;
	if (!(r->entry = lmp_db_find(L->db, cls->valuestring)))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: class %s is not in the module database (run lmp-ensure)",
			path, cls->valuestring);
	if (lmp_entry_compile(L->db, r->entry, L->e))
		return -1;
	if (!cJSON_IsObject(params))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: basic layer has no \"params\" object (run lmp-populate)", path);
	if (r->entry->nparams > LMP_MAX_ARGS)
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: too many parameters", path);
	cJSON_ArrayForEach(v, params)
		if (lmp_entry_param_index(r->entry, v->string) < 0)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: %s has no parameter '%s'", path,
				r->entry->name, v->string);
	for (i = 0; i < r->entry->nparams; i++) {
		const lmp_param *par = &r->entry->params[i];
		v = cJSON_GetObjectItemCaseSensitive(params, par->name);
		if (!v)
			v = par->dflt;
		if (!v)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: parameter '%s' of %s is not bound", path,
				par->name, r->entry->name);
		if (!(args[i] = bind_value(m, par, v, r->path, L->e)))
			return -1;
	}
	linear_shape(r, params);
	lmp_attn_row(r, params, args);
	return compile_row(m, L->db, r, args, 0, L->e);
}

static int
walk(struct loader *L, const cJSON *node, const char *parent, const lmp_num *count, const lmp_num *active, int depth)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(node, "name");
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(node, "repeat");
	const cJSON *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers"), *c;
	lmp_num r = lmp_num_int(1), n, a = *active, x;
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(node, "active");
	lmp_buf path = {0};
	int rc = 0;

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: layers nested deeper than %d", parent, LMP_MAX_TREE_DEPTH);
	if (!cJSON_IsObject(node) || !cJSON_IsString(name) || !cJSON_IsString(cls))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s%slayer needs a \"name\" and a \"class\"",
			parent, *parent ? ": " : "");
	if (rep && (lmp_json_num(rep, &r) || !lmp_num_is_int(&r) || lmp_num_sign(&r) < 0 ||
		    lmp_num_cmp(&r, &(lmp_num){1, (lmp_i128)1 << 40, 1, 0}) > 0))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s%s%s: \"repeat\" must be an integer in [0, 2^40]",
			parent, *parent ? "." : "", name->valuestring);
	lmp_layer_path(&path, parent, name->valuestring, node);
	/* A routed expert: each token uses top_k of num_experts of them; a
	 * share given on a composite holds for everything inside it. */
	if (act && (lmp_json_num(act, &x) || lmp_num_sign(&x) < 0 ||
		    lmp_num_cmp(&x, &(lmp_num){1, 1, 1, 0}) > 0 || lmp_num_mul(active, &x, &a))) {
		rc = lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"active\" must be a number in [0, 1]", path.s);
	} else if (lmp_num_mul(count, &r, &n)) {
		rc = lmp_fail(L->e, LMP_EXIT_INPUT, "%s: repeat counts overflow", path.s);
	} else if (!subs) {
		rc = leaf(L, node, path.s, &n, &a);
	} else if (!cJSON_IsArray(subs)) {
		rc = lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"sub_layers\" must be an array", path.s);
	} else {
		cJSON_ArrayForEach(c, subs)
			if ((rc = walk(L, c, path.s, &n, &a, depth + 1)))
				break;
	}
	lmp_buf_free(&path);
	return rc;
}

/* A tied weight must name a row that owns it (and owns it itself). */
static int
check_tied(lmp_model *m, lmp_err *e)
{
	int i, j;

	for (i = 0; i < m->nrows; i++) {
		if (!m->rows[i].tied)
			continue;
		for (j = 0; j < m->nrows; j++)
			if (j != i && !m->rows[j].tied && strcmp(m->rows[j].path, m->rows[i].tied) == 0)
				break;
		if (j == m->nrows)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: tied to %s, which is not an untied basic layer",
				m->rows[i].path, m->rows[i].tied);
	}
	return 0;
}

static int
sum_rows(lmp_model *m, lmp_err *e)
{
	int i, k;

	for (k = 0; k < LMP_NKINDS; k++)
		m->total[k] = lmp_poly_zero(m->prog);
	m->active = lmp_poly_zero(m->prog);
	for (i = 0; i < m->nrows; i++) {
		lmp_row *r = &m->rows[i];
		lmp_num ca;
		if (!r->tied) {
			if (lmp_num_mul(&r->count, &r->active, &ca) ||
			    lmp_poly_accumulate(m->prog, &m->active, &ca, r->poly[LMP_K_PARAM_COUNT], e))
				return lmp_fail(e, LMP_EXIT_INPUT, "totals: active parameters overflow");
		}
		for (k = 0; k < LMP_NKINDS; k++) {
			/* A tied weight is stored once; it is still read every step. */
			if (k == LMP_K_PARAM_COUNT && r->tied)
				continue;
			if (lmp_poly_accumulate(m->prog, &m->total[k], &r->count, r->poly[k], e))
				return lmp_prefix(e, "totals: %s: ", lmp_kind_name(k));
		}
	}
	return 0;
}

/* model.positions (lmp-inspect(1)): the longest context the model's
 * positions reach, and whether they index a table. */
static int
positions(lmp_model *m, const cJSON *model, lmp_err *e)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(model, "positions");
	const cJSON *table = cJSON_GetObjectItemCaseSensitive(p, "table");
	lmp_num v;

	if (!p)
		return 0;
	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(p, "limit"), &v) || !lmp_num_is_int(&v) ||
	    lmp_num_sign(&v) <= 0 || v.n > ((lmp_i128)1 << 40) || !cJSON_IsBool(table))
		return lmp_fail(e, LMP_EXIT_INPUT, "model.positions needs an integer \"limit\" in [1, 2^40] "
			"and a boolean \"table\"");
	m->pos_limit = (int64_t)v.n;
	m->pos_table = cJSON_IsTrue(table);
	return 0;
}

static lmp_model *
model_new(void)
{
	lmp_model *m = lmp_xcalloc(1, sizeof *m);

	m->prog = lmp_prog_new();
	m->arena = lmp_arena_new();
	return m;
}

lmp_model *
lmp_model_load(const cJSON *doc, lmp_db *db, lmp_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(doc, "layers"), *c;
	struct loader L = {0};
	lmp_num one = lmp_num_int(1);

	if (!cJSON_IsObject(doc) || !cJSON_IsString(kind)) {
		lmp_fail(e, LMP_EXIT_INPUT, "input is not an lmp document (no \"lmp\" field)");
		return NULL;
	}
	if (lmp_doc_unresolved(doc, e))
		return NULL;
	if (strcmp(kind->valuestring, "populated")) {
		lmp_fail(e, LMP_EXIT_INPUT, "input is an \"%s\" document; lmp-eval needs a populated architecture%s",
			kind->valuestring, strcmp(kind->valuestring, "arch") ? "" : " (run lmp-populate)");
		return NULL;
	}
	if (!cJSON_IsArray(layers) || !cJSON_GetArraySize(layers)) {
		lmp_fail(e, LMP_EXIT_INPUT, "populated document has no \"layers\"");
		return NULL;
	}
	L.m = model_new();
	L.db = db;
	L.e = e;
	cJSON_ArrayForEach(c, layers)
		if (walk(&L, c, "", &one, &one, 0))
			goto fail;
	if (check_tied(L.m, e) || sum_rows(L.m, e))
		goto fail;
	if (positions(L.m, model, e))
		goto fail;
	{
		/* an unsupported format is an error only where it applies
		 * (lmp_checkpoint_w_bit): with --w-bit it is not read */
		lmp_quant q;
		lmp_err ignore;
		if (!lmp_quant_read(cJSON_GetObjectItemCaseSensitive(doc, "config"), &q, &ignore) && q.method) {
			L.m->quant = lmp_xmalloc(sizeof q);
			*L.m->quant = q;
		}
	}
	L.m->model_json = model ? lmp_json_print(model, 0) : lmp_xstrdup("null");
	{
		lmp_buf h = {0};
		lmp_buf_puts(&h, "{\"lmp\":\"eval\",\"version\":\"" LMP_VERSION "\",\"model\":");
		lmp_buf_puts(&h, L.m->model_json);
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(model, "checkpoint"))) {
			lmp_buf_putc(&h, ',');
			if (lmp_weights_check(L.m, cJSON_GetObjectItemCaseSensitive(model, "checkpoint"), &h, e)) {
				lmp_buf_free(&h);
				goto fail;
			}
		}
		lmp_buf_puts(&h, ",\"runtime\":");
		L.m->head = h.s;
		L.m->headlen = h.len;
	}
	return L.m;
fail:
	lmp_model_free(L.m);
	return NULL;
}

lmp_model *
lmp_model_module(lmp_entry *en, lmp_db *db, const char *const *names, const char *const *values,
	int n, lmp_err *e)
{
	lmp_model *m = model_new();
	lmp_poly *args[LMP_MAX_ARGS];
	lmp_row *r;
	cJSON *v;
	int i, k;

	if (lmp_entry_compile(db, en, e))
		goto fail;
	if (en->nparams > LMP_MAX_ARGS) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: too many parameters", en->name);
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (lmp_entry_param_index(en, names[i]) < 0) {
			lmp_fail(e, LMP_EXIT_USAGE, "%s has no parameter '%s' (see --params)", en->name, names[i]);
			goto fail;
		}
	m->rows = lmp_xcalloc(1, sizeof *m->rows);
	m->nrows = 1;
	r = &m->rows[0];
	r->path = en->name;
	r->cls = en->name;
	r->entry = en;
	r->count = lmp_num_int(1);
	r->active = lmp_num_int(1);
	for (k = 0; k < en->nparams; k++) {
		const lmp_param *par = &en->params[k];
		for (i = n - 1; i >= 0 && strcmp(names[i], par->name); i--)
			;
		/* Unbound, a parameter named like a runtime variable takes it. */
		if (i < 0 && lmp_var_lookup(par->name, strlen(par->name)) >= 0) {
			char t[64];
			snprintf(t, sizeof t, "{%s}", par->name);
			v = cJSON_CreateString(t);
			args[k] = bind_value(m, par, v, en->name, e);
			cJSON_Delete(v);
		} else if (i < 0 && !par->dflt) {
			lmp_fail(e, LMP_EXIT_USAGE, "%s needs %s=VALUE (see --params)", en->name, par->name);
			goto fail;
		} else if (i < 0) {
			args[k] = bind_value(m, par, par->dflt, en->name, e);
		} else {
			v = cJSON_CreateString(values[i]);
			args[k] = bind_value(m, par, v, en->name, e);
			cJSON_Delete(v);
		}
		if (!args[k])
			goto fail;
	}
	if (compile_row(m, db, r, args, 1, e) || sum_rows(m, e))
		goto fail;
	r->args = lmp_arena_alloc(m->arena, sizeof *r->args * (size_t)(en->nparams + 1));
	memcpy(r->args, args, sizeof *args * (size_t)en->nparams);
	m->model_json = NULL;
	return m;
fail:
	lmp_model_free(m);
	return NULL;
}

void
lmp_model_free(lmp_model *m)
{
	if (!m)
		return;
	lmp_prog_free(m->prog);
	lmp_arena_free(m->arena);
	free(m->rows);
	free(m->model_json);
	free(m->head);
	free(m->growth);
	if (m->quant)
		lmp_quant_free(m->quant);
	free(m->quant);
	free(m);
}
