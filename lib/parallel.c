/* parallel.c: a model sharded over a parallel layout, as serving engines
 * shard it (lmp-eval(1) PARALLELISM).
 *
 * The rule is data.  A module_db.json entry declares, per parallel role,
 * which of its parameters the tensor-parallel degree divides and the
 * collective that then follows:
 *   "parallel": {"roles": {"row": {"divides": ["in_features"],
 *       "then": {"collective": "all_reduce", "bytes": "${tokens} * ..."}}}}
 * A template node names the role its layer plays ("parallel": "column" on
 * q_proj, "row" on o_proj; an object adds "heads", the units a divided
 * width comes in).  A divided parameter becomes its share per device: a
 * count of units (heads) divides evenly, or, where the role "replicates"
 * it and there are fewer units than devices, each device holds one unit
 * (vLLM's QKVParallelLinear replicates KV heads).  A node with no role
 * (norms, routers, residual adds) is replicated: every device does all of
 * it.  The bytes of a collective are evaluated with the undivided
 * parameters: the whole buffer each device holds.  Expert and pipeline
 * parallelism are structural (eval.c's walk): "experts" spreads a repeat
 * over the EP ranks, "layers" marks the layer lists a pipeline cuts. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

const char *
lmp_node_role(const cJSON *node)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(node, "parallel");

	if (cJSON_IsString(p))
		return p->valuestring;
	p = cJSON_GetObjectItemCaseSensitive(p, "role");
	return cJSON_IsString(p) ? p->valuestring : NULL;
}

const char *
lmp_node_par_str(const cJSON *node, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "parallel"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
one(int x)
{
	return x > 0 ? x : 1;
}

int
lmp_layout_check(const lmp_runtime *rt, lmp_err *e)
{
	int64_t tp = one(rt->tp), pp = one(rt->pp), ep = one(rt->ep), dp = one(rt->dp);

	if (tp * pp * dp > 65536)
		return lmp_fail(e, LMP_EXIT_USAGE, "tp x pp x dp = %lld devices: at most 65536",
			(long long)(tp * pp * dp));
	if ((tp * dp) % ep)
		return lmp_fail(e, LMP_EXIT_USAGE, "--ep %lld does not divide tp x dp = %lld", (long long)ep,
			(long long)(tp * dp));
	return 0;
}

/* A bound argument that must be a constant to be divided. */
static int
const_arg(lmp_model *m, const lmp_poly *q, lmp_num *out)
{
	lmp_err ignore;

	return !lmp_poly_is_const(q) || lmp_poly_value(m->prog, q, out, &ignore) || !lmp_num_is_int(out) ||
		lmp_num_sign(out) <= 0;
}

static int
in_list(const cJSON *list, const char *name)
{
	const cJSON *c;

	if (cJSON_IsTrue(list))
		return 1;
	cJSON_ArrayForEach(c, list)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, name))
			return 1;
	return 0;
}

/* One divided parameter: value in units (heads, or its own elements)
 * over n devices; the share each holds. */
static int
divide(const lmp_row *r, const char *name, lmp_i128 value, lmp_i128 units, int heads, int repl, int n, lmp_num *out,
	lmp_err *e)
{
	char v[LMP_NUM_STRMAX], u[LMP_NUM_STRMAX];

	if (repl < 0) {
		/* a padded size: each device its ceiling share */
		*out = lmp_num_int((value + n - 1) / n);
		return 0;
	}

	lmp_i128_str(value, v);
	lmp_i128_str(units, u);
	if (heads && value % units)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s %s is not a whole number of its %s heads", r->path, name, v, u);
	if (units % n == 0) {
		*out = lmp_num_int(value / n);
		return 0;
	}
	if (repl && units < n && n % units == 0) {
		*out = lmp_num_int(value / units); /* one unit on each device, replicated */
		return 0;
	}
	if (heads)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --tp %d does not divide its %s heads (%s %s)", r->path, n, u, name, v);
	if (repl && units < n)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --tp %d is not a multiple of %s %s", r->path, n, name, v);
	return lmp_fail(e, LMP_EXIT_INPUT, "%s: --tp %d does not divide %s %s", r->path, n, name, v);
}

/* Bytes a role declares (a template over the entry's parameters),
 * folded from the undivided arguments. */
static int
fold_bytes(lmp_model *m, lmp_db *db, lmp_row *r, const char *text, lmp_poly **orig, lmp_poly **bytes, lmp_err *e)
{
	const char *names[LMP_MAX_ARGS];
	lmp_fold_ctx c = {0};
	lmp_tmpl *tm;
	int i;

	for (i = 0; i < r->entry->nparams; i++)
		names[i] = r->entry->params[i].name;
	if (!(tm = lmp_tmpl_parse(text, names, r->entry->nparams, e)))
		return lmp_prefix(e, "%s: %s: parallel bytes: ", r->path, r->entry->name);
	c.prog = m->prog;
	c.db = db;
	c.kind = LMP_K_WRITES;
	c.stack[0] = r->entry->name;
	c.depth = 1;
	*bytes = lmp_fold(&c, tm, orig, r->path, e);
	lmp_tmpl_free(tm);
	return *bytes ? 0 : -1;
}

/* The collective a role emits: its kind and bytes per device, folded from
 * the undivided arguments. */
static int
then(lmp_model *m, lmp_db *db, lmp_row *r, const cJSON *rd, lmp_poly **orig, int *coll, lmp_poly **bytes, lmp_err *e)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rd, "then");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "collective");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "bytes");

	if (!t)
		return 0;
	if (!cJSON_IsString(k) || !lmp_coll_kind(k->valuestring) || !cJSON_IsString(b))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s's parallel role: \"then\" needs a known \"collective\" and "
			"its \"bytes\"", r->path, r->entry->name);
	if (fold_bytes(m, db, r, b->valuestring, orig, bytes, e))
		return -1;
	*coll = lmp_coll_kind(k->valuestring);
	return 0;
}

int
lmp_shard_ep_leaf(lmp_model *m, lmp_db *db, lmp_row *r, const struct lmp_walk_par *w, lmp_poly **args,
	lmp_poly **routed, lmp_err *e)
{
	const cJSON *decl = cJSON_GetObjectItemCaseSensitive(r->entry->json, "parallel");
	const cJSON *rd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(decl, "roles"), "experts_ep");
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rd, "divides"), 0);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(rd, "routed_bytes");
	lmp_poly *orig[LMP_MAX_ARGS];
	lmp_num v, share;
	int i;

	if (w->ep < 2 || !rd)
		return 0;
	if (!cJSON_IsString(d) || (i = lmp_entry_param_index(r->entry, d->valuestring)) < 0 || !cJSON_IsString(b))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s's role experts_ep needs \"divides\" (its expert count) and "
			"\"routed_bytes\"", r->path, r->entry->name);
	if (const_arg(m, args[i], &v))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s is not a constant: it cannot be spread over EP ranks", r->path,
			d->valuestring);
	if (v.n % w->ep)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --ep %d does not divide its %lld experts", r->path, w->ep,
			(long long)v.n);
	if (w->ep % w->tp)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --ep %d is not a multiple of --tp %d: an expert group inside a "
			"tensor-parallel group is not modelled", r->path, w->ep, w->tp);
	memcpy(orig, args, sizeof *args * (size_t)r->entry->nparams);
	share = lmp_num_int(v.n / w->ep);
	args[i] = lmp_poly_const(m->prog, &share);
	return fold_bytes(m, db, r, b->valuestring, orig, routed, e) ? -1 : 1;
}

/* A fused q/k/v projection (the node names heads and kv_heads): its
 * width is heads + 2 kv_heads of one head's size; each device holds
 * heads / n query heads and kv_heads / n KV heads, at least one
 * (QKVParallelLinear). */
static int
fused_qkv(lmp_model *m, lmp_db *db, lmp_row *r, const cJSON *node, const cJSON *rd, int n, lmp_poly **args,
	lmp_poly **orig, int *coll, lmp_poly **bytes, lmp_err *e)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(node, "parallel");
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rd, "divides"), 0);
	lmp_num h, kv, v, share;
	lmp_i128 hd, kvr;
	int i;

	if (!cJSON_IsString(d) || (i = lmp_entry_param_index(r->entry, d->valuestring)) < 0 ||
	    lmp_json_num(cJSON_GetObjectItemCaseSensitive(p, "heads"), &h) || !lmp_num_is_int(&h) || h.n < 1 ||
	    lmp_json_num(cJSON_GetObjectItemCaseSensitive(p, "kv_heads"), &kv) || !lmp_num_is_int(&kv) || kv.n < 1 ||
	    const_arg(m, args[i], &v))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a fused q/k/v projection needs whole heads and kv_heads and a "
			"constant width", r->path);
	if (v.n % (h.n + 2 * kv.n))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s is not heads + 2 kv_heads of one size", r->path,
			d->valuestring);
	hd = v.n / (h.n + 2 * kv.n);
	if (h.n % n)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --tp %d does not divide its %lld heads", r->path, n, (long long)h.n);
	if (kv.n % n && n % kv.n)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: --tp %d and its %lld KV heads: neither divides the other", r->path,
			n, (long long)kv.n);
	kvr = kv.n % n ? 1 : kv.n / n;
	share = lmp_num_int((h.n / n + 2 * kvr) * hd);
	args[i] = lmp_poly_const(m->prog, &share);
	if (r->linear && !strcmp(d->valuestring, "out_features"))
		r->out = share;
	return then(m, db, r, rd, orig, coll, bytes, e);
}

static int
validated(const cJSON *entry)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(entry, "validation"), "status");

	return cJSON_IsString(s) && !strcmp(s->valuestring, "validated");
}

/* A leaf whose entry declares no "parallel" is replicated: right for a
 * norm checked by hand, a silent guess for an entry nobody validated (the
 * module agent's); its class is noted once for the tool to warn of. */
static void
note_norole(lmp_model *m, const char *cls)
{
	size_t n = strlen(cls);
	const char *s = m->norole.s;

	while (s && (s = strstr(s, cls)))
		if ((s == m->norole.s || s[-1] == '\n') && s[n] == '\n')
			return;
		else
			s += n;
	lmp_buf_printf(&m->norole, "%s\n", cls);
}

int
lmp_shard_leaf(lmp_model *m, lmp_db *db, lmp_row *r, const cJSON *node, const struct lmp_walk_par *w,
	lmp_poly **args, int *coll, lmp_poly **bytes, lmp_err *e)
{
	const cJSON *decl = cJSON_GetObjectItemCaseSensitive(r->entry->json, "parallel");
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(decl, "roles"), *rd, *d;
	const cJSON *hj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "parallel"), "heads");
	const char *role = lmp_node_role(node);
	lmp_poly *orig[LMP_MAX_ARGS];
	lmp_num v, h, share;
	int i, n = w->tp_here;

	*coll = 0;
	*bytes = NULL;
	if (!decl && n > 1 && !validated(r->entry->json))
		note_norole(m, r->entry->name);
	if (!role && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(decl, "default")))
		role = cJSON_GetObjectItemCaseSensitive(decl, "default")->valuestring;
	if (!role || !strcmp(role, "replicated") || n == 1)
		return 0;
	if (!(rd = cJSON_GetObjectItemCaseSensitive(roles, role)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s declares no parallel role \"%s\" (module_db.json)", r->path,
			r->entry->name, role);
	if (hj && (lmp_json_num(hj, &h) || !lmp_num_is_int(&h) || lmp_num_sign(&h) <= 0))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: parallel.heads must be a positive integer", r->path);
	memcpy(orig, args, sizeof *args * (size_t)r->entry->nparams);
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "parallel"), "kv_heads"))
		return fused_qkv(m, db, r, node, rd, n, args, orig, coll, bytes, e);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(rd, "divides")) {
		if (!cJSON_IsString(d) || (i = lmp_entry_param_index(r->entry, d->valuestring)) < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s's parallel role \"%s\" divides no parameter of it",
				r->path, r->entry->name, role);
		if (const_arg(m, args[i], &v)) {
			/* a size over the runtime point (an activation's elements):
			 * each device its 1/n share */
			lmp_num k = lmp_num_frac(1, n);
			lmp_poly *q = lmp_poly_zero(m->prog);
			if (hj || lmp_poly_accumulate(m->prog, &q, &k, args[i], e))
				return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s is not a positive constant: it cannot be divided "
					"in heads", r->path, d->valuestring);
			args[i] = q;
			continue;
		}
		if (divide(r, d->valuestring, v.n, hj ? h.n : v.n, hj != NULL,
			    in_list(cJSON_GetObjectItemCaseSensitive(rd, "pads"), d->valuestring) ? -1 :
			    in_list(cJSON_GetObjectItemCaseSensitive(rd, "replicates"), d->valuestring), n, &share, e))
			return -1;
		args[i] = lmp_poly_const(m->prog, &share);
		/* a quantized format stores the share (quant.c) */
		if (r->linear && !strcmp(d->valuestring, "in_features"))
			r->in = share;
		if (r->linear && !strcmp(d->valuestring, "out_features"))
			r->out = share;
	}
	return then(m, db, r, rd, orig, coll, bytes, e);
}

void
lmp_pp_stages(int64_t layers, int pp, int64_t *first)
{
	int64_t per = layers / pp, rem = layers % pp, size;
	int s;

	/* vllm/distributed/utils.py get_pp_indices: the layers left over go
	 * one each to the stages before the last (which holds the head) */
	first[0] = 0;
	for (s = 0; s < pp; s++) {
		size = per + (s >= pp - 1 - rem && s < pp - 1 ? 1 : 0);
		first[s + 1] = first[s] + size;
	}
}

int
lmp_row_stage_count(const lmp_model *m, const lmp_row *r, const int64_t *first, int s, lmp_num *out)
{
	int64_t k, n = 0;

	if (r->coll == LMP_COLL_SEND_RECV) {
		*out = lmp_num_int(s < m->pp - 1); /* one transfer out of each stage but the last */
		return 0;
	}
	if (r->list < 0) {
		/* before the layers: the first stage; after them: the last */
		*out = (r->list == -1 ? s == 0 : s == m->pp - 1) ? r->count : lmp_num_int(0);
		return 0;
	}
	for (k = 0; k < m->list_len[r->list]; k++)
		n += m->list_idx[r->list][k] >= first[s] && m->list_idx[r->list][k] < first[s + 1];
	*out = lmp_num_int(n);
	return lmp_num_mul(out, &r->per_layer, out);
}
