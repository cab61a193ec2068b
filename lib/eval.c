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
	struct lmp_walk_par *par; /* NULL: the single device */
	const char *pp_bytes;     /* the first layer list's hidden_bytes (a pipeline's transfer) */
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
	/* its matrix products' shape, from the same (sharded) arguments; a
	 * gemm template calls no entry (db NULL) */
	c.db = NULL;
	for (k = 0; k < LMP_NGEMM && !breakdown && en->gemm[0]; k++)
		if (!(r->gemm[k] = lmp_fold(&c, en->gemm[k], args, NULL, e)))
			return lmp_prefix(e, "%s: gemm.%s: ", r->path, lmp_gemm_names[k]);
	c.db = db;
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

/* A collective row after the rows just added: kind over a group of n
 * devices, bytes per device per call (NULL: from text, a template over
 * runtime variables, scaled by scale). */
static int
coll_row(struct loader *L, const char *at, const char *name, int kind, int n, const char *group, const lmp_num *count,
	lmp_poly *bytes)
{
	lmp_model *m = L->m;
	lmp_row *r, *prev = m->nrows ? &m->rows[m->nrows - 1] : NULL;
	int list = prev ? prev->list : -1;
	lmp_num per = prev ? prev->per_layer : lmp_num_int(1), c = *count;
	char *path = lmp_arena_alloc(m->arena, strlen(at) + 32);

	sprintf(path, "%s.%s", at, name ? name : lmp_coll_name(kind));
	if (L->par && L->par->list >= 0) {
		lmp_num rep = lmp_num_int(m->list_len[L->par->list]);
		if (lmp_num_div(&c, &rep, &per))
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: count overflow", path);
		list = L->par->list;
	}
	r = add_row(L);
	r->path = path;
	r->cls = "collective";
	r->count = c;
	r->active = lmp_num_int(1);
	r->coll = kind;
	r->coll_n = n;
	r->coll_group = group;
	r->coll_bytes = bytes;
	r->list = list;
	r->per_layer = per;
	for (int k = 0; k < LMP_NKINDS; k++)
		r->poly[k] = lmp_poly_zero(m->prog);
	m->ncoll++;
	return 0;
}

/* A template over runtime variables (a node's parallel bytes) times k. */
static lmp_poly *
runtime_bytes(struct loader *L, const char *text, const char *what, lmp_i128 num, lmp_i128 den)
{
	lmp_fold_ctx c = {0};
	lmp_tmpl *t;
	lmp_poly *q, *sum;
	lmp_num k = lmp_num_frac(num, den);

	c.prog = L->m->prog;
	if (!text)
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: the node's \"parallel\" lacks the bytes it moves", what), NULL;
	if (!(t = lmp_tmpl_parse(text, NULL, 0, L->e)))
		return lmp_prefix(L->e, "%s: parallel bytes: ", what), NULL;
	q = lmp_fold(&c, t, NULL, what, L->e);
	lmp_tmpl_free(t);
	sum = lmp_poly_zero(L->m->prog);
	if (!q || lmp_poly_accumulate(L->m->prog, &sum, &k, q, L->e))
		return NULL;
	return sum;
}

/* A fused experts leaf spread over EP ranks (Llama-4's), as walk_par
 * spreads a repeat of experts: all-to-alls dispatch and combine each TP
 * rank's share of the routed tokens, a TP group gathers the hidden state
 * back (the routed bytes over top_k, top_k = the experts x the row's
 * active share), and an EP group of ep / tp replicas routes all their
 * tokens to its experts. */
static int
ep_leaf_rows(struct loader *L, lmp_row *r, lmp_poly *routed)
{
	struct lmp_walk_par *w = L->par;
	lmp_model *m = L->m;
	const char *dot = strrchr(r->path, '.');
	char *parent = lmp_arena_alloc(m->arena, strlen(r->path) + 1);
	lmp_poly *per = lmp_poly_zero(m->prog), *hidden = lmp_poly_zero(m->prog);
	lmp_num share = lmp_num_frac(1, w->tp), one = lmp_num_int(1), experts, k, inv;
	lmp_num count = r->count;
	lmp_err ignore;
	int i = lmp_entry_param_index(r->entry, "num_experts");

	memcpy(parent, r->path, dot ? (size_t)(dot - r->path) : 0);
	parent[dot ? dot - r->path : 0] = '\0';
	if (w->ep > w->tp) {
		r->batch_scale = w->ep / w->tp;
		m->nscaled++;
	}
	if (lmp_poly_accumulate(m->prog, &per, &share, routed, L->e) ||
	    coll_row(L, parent, "dispatch", LMP_COLL_ALL_TO_ALL, w->ep, "ep", &count, per) ||
	    coll_row(L, parent, "combine", LMP_COLL_ALL_TO_ALL, w->ep, "ep", &count, per))
		return -1;
	if (w->tp < 2)
		return 0;
	/* the model's experts (the unsharded argument) x the share a token uses: top_k */
	if (i < 0 || lmp_poly_value(m->prog, r->args[i], &experts, &ignore) ||
	    lmp_num_mul(&experts, &r->active, &k) || lmp_num_sign(&k) <= 0 ||
	    lmp_num_div(&one, &k, &inv) ||
	    lmp_poly_accumulate(m->prog, &hidden, &inv, routed, L->e))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: its routed share does not give top_k", r->path);
	return coll_row(L, parent, NULL, LMP_COLL_ALL_GATHER, w->tp, "tp", &count, hidden);
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
	/* kept, unsharded, for the tensor shapes of the weights check */
	r->args = lmp_arena_alloc(m->arena, sizeof *r->args * (size_t)(r->entry->nparams + 1));
	memcpy(r->args, args, sizeof *args * (size_t)r->entry->nparams);
	if (L->par) {
		int coll = 0, ep;
		lmp_poly *bytes, *routed = NULL;
		lmp_num rep = lmp_num_int(L->par->list >= 0 ? m->list_len[L->par->list] : 1);
		r->list = L->par->list;
		if (lmp_num_div(&r->count, &rep, &r->per_layer) ||
		    (ep = lmp_shard_ep_leaf(m, L->db, r, L->par, args, &routed, L->e)) < 0 ||
		    (!ep && lmp_shard_leaf(m, L->db, r, node, L->par, args, &coll, &bytes, L->e)) ||
		    compile_row(m, L->db, r, args, 0, L->e))
			return -1;
		if (ep)
			return ep_leaf_rows(L, r, routed);
		/* FlashAttention's tiles on one device: its heads as sharded */
		if (r->attn && L->par->tp_here > 1)
			lmp_attn_sharded(m, r, args);
		return coll ? coll_row(L, r->path, NULL, coll, L->par->tp_here, "tp", &r->count, bytes) : 0;
	}
	return compile_row(m, L->db, r, args, 0, L->e);
}

/* The decoder-layer indices of the layer list just added: the node's
 * "layers" (a range {"start", "stop", "step"} or a list, lmp-inspect(1)),
 * else the indices after those of the lists before it. */
static int
layer_indices(struct loader *L, const cJSON *node, const char *path)
{
	lmp_model *m = L->m;
	int j = m->nlists - 1;
	int64_t n = m->list_len[j], *idx, i, next = 0;
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(node, "layers"), *c;
	lmp_num a, b, st = lmp_num_int(1);

	for (i = 0; i < j; i++)
		for (int64_t k = 0; k < m->list_len[i]; k++)
			if (m->list_idx[i][k] >= next)
				next = m->list_idx[i][k] + 1;
	idx = m->list_idx[j] = lmp_xmalloc(sizeof *idx * (size_t)(n ? n : 1));
	for (i = 0; i < n; i++)
		idx[i] = next + i;
	if (cJSON_IsObject(set)) {
		if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(set, "start"), &a) ||
		    lmp_json_num(cJSON_GetObjectItemCaseSensitive(set, "stop"), &b) ||
		    (cJSON_GetObjectItemCaseSensitive(set, "step") &&
			    lmp_json_num(cJSON_GetObjectItemCaseSensitive(set, "step"), &st)) ||
		    !lmp_num_is_int(&a) || !lmp_num_is_int(&st) || st.n < 1 || a.n < 0)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"layers\" is not a range", path);
		for (i = 0; i < n; i++)
			idx[i] = (int64_t)(a.n + st.n * i);
	} else if (cJSON_IsArray(set)) {
		if (cJSON_GetArraySize(set) != n)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"layers\" does not list its %lld layers", path, (long long)n);
		i = 0;
		cJSON_ArrayForEach(c, set) {
			if (lmp_json_num(c, &a) || !lmp_num_is_int(&a) || a.n < 0)
				return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: \"layers\" lists a non-index", path);
			idx[i++] = (int64_t)a.n;
		}
	}
	return 0;
}

static int walk_par(struct loader *L, const cJSON *node, const char *path, const char *parent, const lmp_num *count,
	const lmp_num *rep, const lmp_num *a, int depth);

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
	} else if (L->par && lmp_node_role(node)) {
		rc = walk_par(L, node, path.s, parent, count, &r, &a, depth);
	} else {
		cJSON_ArrayForEach(c, subs)
			if ((rc = walk(L, c, path.s, &n, &a, depth + 1)))
				break;
	}
	lmp_buf_free(&path);
	return rc;
}

/* A composite with a structural parallel role under a layout.  "layers":
 * a layer list, which a pipeline cuts into stages.  "experts": the
 * repeat spread over the EP ranks (each holds repeat / ep whole experts,
 * vLLM's FusedMoE with expert parallelism), the routed tokens dispatched
 * to them and combined back by all-to-alls (each TP rank sends its share
 * of the tokens, top_k copies of the hidden state: routed_bytes / tp) and
 * gathered over the TP group; an EP group of ep / tp replicas routes all
 * their tokens to its experts (batch_scale, evaldoc.c).  With ep 1 the
 * experts are split by TP inside (their roles) and their sum all-reduced
 * once (hidden_bytes). */
static int
walk_par(struct loader *L, const cJSON *node, const char *path, const char *parent, const lmp_num *count,
	const lmp_num *rep, const lmp_num *a, int depth)
{
	struct lmp_walk_par *w = L->par, keep = *w;
	const char *role = lmp_node_role(node), *hidden = lmp_node_par_str(node, "hidden_bytes");
	const cJSON *c, *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers");
	lmp_num n, r = *rep;
	lmp_poly *b;
	int rc = 0, experts = !strcmp(role, "experts"), first = -1;

	if (!strcmp(role, "layers")) {
		lmp_model *m = L->m;
		if (!lmp_num_is_int(&r) || r.n > ((lmp_i128)1 << 40))
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: a layer list needs a whole repeat", path);
		m->list_len = lmp_xrealloc(m->list_len, sizeof *m->list_len * (size_t)(m->nlists + 1));
		m->list_idx = lmp_xrealloc(m->list_idx, sizeof *m->list_idx * (size_t)(m->nlists + 1));
		m->list_len[m->nlists] = (int64_t)r.n;
		m->list_idx[m->nlists] = NULL;
		w->list = m->nlists++;
		if (layer_indices(L, node, path))
			return -1;
		if (!L->pp_bytes)
			L->pp_bytes = hidden;
	} else if (experts && w->ep > 1) {
		if (!lmp_num_is_int(&r) || r.n % w->ep)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: --ep %d does not divide its %lld experts", path, w->ep,
				(long long)r.n);
		/* vLLM spreads the experts over tp x dp ranks: an expert group
		 * of whole tensor-parallel groups gathers the tokens of ep / tp
		 * replicas; one inside a TP group would split a replica's */
		if (w->ep % w->tp)
			return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: --ep %d is not a multiple of --tp %d: an expert group "
				"inside a tensor-parallel group is not modelled", path, w->ep, w->tp);
		r = lmp_num_int(r.n / w->ep);
		first = L->m->nrows;
		if (!(b = runtime_bytes(L, lmp_node_par_str(node, "routed_bytes"), path, 1, w->tp)) ||
		    coll_row(L, parent, "dispatch", LMP_COLL_ALL_TO_ALL, w->ep, "ep", count, b))
			return -1;
		w->tp_here = 1;
	} else if (!experts) {
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: unknown structural parallel role \"%s\" (layers or experts)",
			path, role);
	}
	if (lmp_num_mul(count, &r, &n))
		return lmp_fail(L->e, LMP_EXIT_INPUT, "%s: repeat counts overflow", path);
	cJSON_ArrayForEach(c, subs)
		if ((rc = walk(L, c, path, &n, a, depth + 1)))
			return rc;
	w->tp_here = keep.tp_here;
	if (first >= 0 && w->ep > w->tp)
		for (int i = first; i < L->m->nrows; i++, L->m->nscaled++)
			L->m->rows[i].batch_scale = w->ep / w->tp;
	if (!strcmp(role, "layers")) {
		w->list = -2;
	} else if (w->ep > 1) {
		if (!(b = runtime_bytes(L, lmp_node_par_str(node, "routed_bytes"), path, 1, w->tp)) ||
		    coll_row(L, parent, "combine", LMP_COLL_ALL_TO_ALL, w->ep, "ep", count, b))
			return -1;
		if (w->tp > 1 && (!(b = runtime_bytes(L, hidden, path, 1, 1)) ||
				  coll_row(L, parent, NULL, LMP_COLL_ALL_GATHER, w->tp, "tp", count, b)))
			return -1;
	} else if (w->tp_here > 1) {
		if (!(b = runtime_bytes(L, hidden, path, 1, 1)) ||
		    coll_row(L, parent, NULL, LMP_COLL_ALL_REDUCE, w->tp_here, "tp", count, b))
			return -1;
	}
	return 0;
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
	m->coll_total = lmp_poly_zero(m->prog);
	for (i = 0; i < m->nrows; i++) {
		lmp_row *r = &m->rows[i];
		lmp_num ca;
		if (r->coll && lmp_poly_accumulate(m->prog, &m->coll_total, &r->count, r->coll_bytes, e))
			return lmp_prefix(e, "totals: collective bytes: ");
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
	static uint64_t serials;
	lmp_model *m = lmp_xcalloc(1, sizeof *m);

	m->serial = ++serials;
	m->prog = lmp_prog_new();
	m->arena = lmp_arena_new();
	return m;
}

static lmp_model *model_load(const cJSON *doc, lmp_db *db, struct lmp_walk_par *par, lmp_err *e);

lmp_model *
lmp_model_load(const cJSON *doc, lmp_db *db, lmp_err *e)
{
	return model_load(doc, db, NULL, e);
}

/* The pipeline's transfer between stages: the hidden state and the
 * residual each stage hands the next (vLLM's IntermediateTensors), one
 * send/recv out of every stage but the last, after the layer lists. */
static int
pipeline_row(struct loader *L, lmp_err *e)
{
	lmp_model *m = L->m;
	int64_t layers = 0;
	lmp_num count = lmp_num_int(m->pp - 1);
	lmp_poly *b;
	lmp_row keep;
	int i, last = -1;

	for (i = 0; i < m->nlists; i++)
		layers += m->list_len[i];
	if (!m->nlists)
		return lmp_fail(e, LMP_EXIT_INPUT, "--pp: the template marks no layer list (\"parallel\": {\"role\": "
			"\"layers\"})");
	if (layers < m->pp)
		return lmp_fail(e, LMP_EXIT_INPUT, "--pp %d is more stages than the model's %lld layers", m->pp,
			(long long)layers);
	if (!(b = runtime_bytes(L, L->pp_bytes, "the layer list", 2, 1)))
		return -1;
	for (i = 0; i < m->nrows; i++)
		if (m->rows[i].list >= 0)
			last = i;
	L->par->list = -2;
	if (coll_row(L, "pipeline", NULL, LMP_COLL_SEND_RECV, 2, "pp", &count, b))
		return -1;
	keep = m->rows[m->nrows - 1];
	memmove(&m->rows[last + 2], &m->rows[last + 1], sizeof *m->rows * (size_t)(m->nrows - last - 2));
	m->rows[last + 1] = keep;
	return 0;
}

lmp_model *
lmp_model_for_layout(lmp_model *base, const cJSON *doc, lmp_db *db, const lmp_runtime *rt, lmp_err *e)
{
	struct lmp_walk_par w = {rt->tp > 0 ? rt->tp : 1, rt->pp > 0 ? rt->pp : 1, rt->ep > 0 ? rt->ep : 1,
		rt->dp > 0 ? rt->dp : 1, 0, -1};
	lmp_model *m;

	if (w.tp * w.pp * w.ep * w.dp == 1 && !rt->layout)
		return base;
	w.tp_here = w.tp;
	if (lmp_layout_check(rt, e) || !(m = model_load(doc, db, &w, e)))
		return NULL;
	m->head = lmp_xmalloc(base->headlen + 1);
	memcpy(m->head, base->head, base->headlen + 1);
	m->headlen = base->headlen;
	return m;
}

static lmp_model *
model_load(const cJSON *doc, lmp_db *db, struct lmp_walk_par *par, lmp_err *e)
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
	L.par = par;
	if (par) {
		L.m->par = 1;
		L.m->tp = par->tp;
		L.m->pp = par->pp;
		L.m->ep = par->ep;
		L.m->dp = par->dp;
	}
	cJSON_ArrayForEach(c, layers)
		if (walk(&L, c, "", &one, &one, 0))
			goto fail;
	if (par && par->pp > 1 && pipeline_row(&L, e))
		goto fail;
	/* the rows' layer indices serve the weights check, made on the model
	 * without a layout (a layout adds collective rows the tree lacks) */
	if (check_tied(L.m, e) || sum_rows(L.m, e) || (!par && lmp_row_indices(L.m, layers, e)))
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
	if (par)
		return L.m; /* the head is the single device's (lmp_model_for_layout) */
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
	for (int i = 0; i < m->nlists; i++)
		free(m->list_idx[i]);
	free(m->list_idx);
	free(m->list_len);
	free(m->profile);
	free(m->fused);
	free(m->twin);
	lmp_rowkeep_free(m);
	lmp_sweepform_free(m);
	free(m->kgrp);
	free(m->krep);
	free(m->kcount);
	free(m->kwit);
	free(m->tk);
	free(m->row_end);
	free(m->row_head_at);
	lmp_buf_free(&m->row_heads);
	free(m->stage_count);
	free(m->stage_first);
	free(m->pt_rows);
	free(m->pt_par);
	lmp_buf_free(&m->rt_whole);
	lmp_buf_free(&m->rt_set_pruned);
	free(m->row_wb);
	free(m->rw_kinds);
	free(m->rw_todo);
	free(m->rw_redo);
	free(m->rw_kvars);
	free(m->rw_done);
	free(m->rw_vals);
	free(m->rw_own);
	free(m->rw_set);
	lmp_buf_free(&m->norole);
	if (m->quant)
		lmp_quant_free(m->quant);
	free(m->quant);
	free(m);
}
