/* weightscheck.c: the model's parameters against its checkpoint's tensors
 * (model.checkpoint, recorded by lmp-inspect --check-weights).
 *
 * A row's path P is read without its layer-group labels
 * (model.layers(sliding).* is model.layers.*), and each "*" of it covers
 * indices: a node's "layers" record, else 0 to repeat - 1.  An inventory
 * row covers the product of its "indices".  Only common indices pair a row
 * with a checkpoint entry, so a layer the model does not build
 * (DeepSeek-V3's model.layers.61) is extra, not folded into the others.
 *
 * By name and shape: a row whose entry declares its tensors (tensordecl.c)
 * looks for P.NAME (P itself for "") among the checkpoint's names (an
 * entry's "logical" name and shape where the quantized format was mapped
 * back; rows in a quantized format use only those).  A path one of whose
 * tensors is found so is checked by name: each shape must be the declared
 * one (else an error naming the tensor and both shapes), declared tensors
 * not stored are missing, other tensors under P are extra.
 *
 * By element count, for the other paths: P claims the tensors whose name is
 * P, P + "." + suffix, or P + "_" + a suffix without a dot (gpt-oss's
 * experts.gate_up_proj_bias, MXFP4's _blocks and _scales), the longest such
 * P winning; failing that, P with every "*" after the first dropped, for
 * experts stored fused in one tensor per layer.  Rows with no parameters
 * claim nothing, so rotary buffers stay unclaimed.  The rows of one path and
 * the tensors they claim must hold as many elements.  A tied row absent from
 * the checkpoint is expected (it is stored once, under its owner); rows in a
 * quantized format store packed tensors and scales, so their counts are not
 * compared.  The result is the eval document's weights_check. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_STARS 16

/* Index products claimed from a checkpoint entry or a declared tensor, to
 * say which indices are left (unknown: some side recorded none). */
struct claims {
	int n, cap, k, unknown;
	lmp_idxset *s; /* n x k */
};

/* A checkpoint entry: name, its "*"s' index sets (n == -1: none recorded,
 * any index), tensors and the elements of each. */
struct crow {
	const char *name, *lname; /* lname: the logical (or own) name */
	const cJSON *shape, *lshape;
	int logical, k;
	lmp_idxset set[MAX_STARS];
	int known; /* indices recorded */
	lmp_i128 count, el, claimed;
	struct claims cl;
};

/* A basic layer: the index set of each "*" of its path (NULL: any). */
struct mrow {
	const lmp_row *r;
	int k;
	lmp_idxset *set[MAX_STARS];
	lmp_tdecl *t;
	int nt;          /* declared tensors present */
	lmp_i128 *found; /* per tensor: stored instances */
	struct claims *tcl; /* per tensor */
};

struct group {
	char *path, *fused; /* without labels; with only the first "*" */
	const char *tied;
	lmp_num params;
	int quantized, by_name, declares;
	lmp_i128 elements, tensors, shaped;
	lmp_num matched; /* parameters matched by name */
};

struct check {
	const lmp_model *m;
	struct mrow *mr;
	struct group *g;
	int *gof; /* row -> group */
	int ng;
	struct crow *c;
	int nc;
	lmp_i128 aux, aux_elements; /* a packed weight's scales, zeros, g_idx */
	lmp_err *e;
};

static void
put_num(lmp_buf *b, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];

	lmp_num_str(v, s);
	lmp_buf_puts(b, s);
}

static void
put_i128(lmp_buf *b, lmp_i128 v)
{
	char s[LMP_NUM_STRMAX];

	lmp_i128_str(v, s);
	lmp_buf_puts(b, s);
}

static int
stars(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '*' && (s[1] == '.' || !s[1] || s[1] == '_');
	return n;
}

/* p without its "(label)"s, and (fused) without every ".*" after the first. */
static char *
normal_path(const char *p, int fused)
{
	char *o = lmp_xmalloc(strlen(p) + 1), *w = o;
	int n = 0;

	while (*p) {
		if (*p == '(' && strchr(p, ')')) {
			p = strchr(p, ')') + 1;
			continue;
		}
		if (fused && p[0] == '.' && p[1] == '*' && (p[2] == '.' || !p[2]) && n++) {
			p += 2;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return o;
}

/* --- the checkpoint's side ---------------------------------------------- */

static int
shape_elements(const cJSON *sh, lmp_i128 *el)
{
	const cJSON *d;

	*el = 1;
	if (!cJSON_IsArray(sh))
		return -1;
	cJSON_ArrayForEach(d, sh) {
		if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15)
			return -1;
		*el *= (lmp_i128)d->valuedouble;
	}
	return 0;
}

static int
read_crow(struct crow *c, const cJSON *t, lmp_err *e)
{
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(t, "count");
	const cJSON *ix = cJSON_GetObjectItemCaseSensitive(t, "indices"), *x;
	const cJSON *lg = cJSON_GetObjectItemCaseSensitive(t, "logical");

	memset(c, 0, sizeof *c);
	c->shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
	if (!cJSON_IsString(nm) || !cJSON_IsNumber(cnt) || cnt->valuedouble < 0 || cnt->valuedouble > 1e15 ||
	    shape_elements(c->shape, &c->el))
		return lmp_fail(e, LMP_EXIT_INPUT, "weights check: model.checkpoint.tensors: a malformed entry");
	c->name = c->lname = nm->valuestring;
	c->lshape = c->shape;
	c->count = (lmp_i128)cnt->valuedouble;
	if ((c->k = stars(c->name)) > MAX_STARS)
		return lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: more than %d indices", c->name, MAX_STARS);
	if (lg) {
		const cJSON *ln = cJSON_GetObjectItemCaseSensitive(lg, "name");
		const cJSON *ls = cJSON_GetObjectItemCaseSensitive(lg, "shape");
		lmp_i128 lel;
		if (!cJSON_IsString(ln) || shape_elements(ls, &lel) || stars(ln->valuestring) != c->k)
			return lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: \"logical\" needs a name with the same "
				"indices and a shape", c->name);
		c->lname = ln->valuestring;
		c->lshape = ls;
		c->logical = 1;
	}
	if (!ix)
		return 0;
	if (!cJSON_IsArray(ix) || cJSON_GetArraySize(ix) != c->k)
		return lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: \"indices\" needs one range list per \"*\"", c->name);
	int i = 0;
	cJSON_ArrayForEach(x, ix) {
		if (!cJSON_IsString(x) || lmp_idx_parse(x->valuestring, &c->set[i]))
			return lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: \"indices\" needs one range list per \"*\"",
				c->name);
		i++;
	}
	c->known = 1;
	return 0;
}

/* --- the model's side -------------------------------------------------- */

/* The tree walked as lmp_model_load walks it: each basic layer, in row
 * order, gets the index sets of the repeated nodes above it, kept in the
 * model's arena. */
struct walker {
	lmp_model *m;
	int row;
	lmp_err *e;
};

static lmp_idxset *
arena_set(lmp_model *m, lmp_idxset *tmp)
{
	lmp_idxset *s = lmp_arena_alloc(m->arena, sizeof *s);

	s->n = tmp->n;
	s->lo = lmp_arena_alloc(m->arena, sizeof *s->lo * (size_t)(tmp->n + 1));
	s->hi = lmp_arena_alloc(m->arena, sizeof *s->hi * (size_t)(tmp->n + 1));
	if (tmp->n) {
		memcpy(s->lo, tmp->lo, sizeof *s->lo * (size_t)tmp->n);
		memcpy(s->hi, tmp->hi, sizeof *s->hi * (size_t)tmp->n);
	}
	lmp_idx_free(tmp);
	return s;
}

static int
walk(struct walker *w, const cJSON *node, lmp_idxset **above, int depth)
{
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(node, "repeat");
	const cJSON *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers"), *c;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(node, "name");
	lmp_idxset *mine[LMP_MAX_TREE_DEPTH + 2];

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(w->e, LMP_EXIT_INPUT, "layer lists nested deeper than %d", LMP_MAX_TREE_DEPTH);
	if (depth) /* above is NULL at the root */
		memcpy(mine, above, sizeof *mine * (size_t)depth);
	if (rep) {
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(node, "layers");
		lmp_idxset tmp = {0};
		if (rec) {
			if (lmp_idx_from_layers(rec, &tmp))
				return lmp_fail(w->e, LMP_EXIT_INPUT, "%s: a malformed \"layers\" record", name->valuestring);
			mine[depth] = arena_set(w->m, &tmp);
		} else if (strchr(name->valuestring, '(')) {
			mine[depth] = NULL; /* a labelled group: which layers is not recorded */
		} else {
			if (rep->valuedouble >= 1)
				lmp_idx_add(&tmp, 0, (int64_t)rep->valuedouble - 1);
			mine[depth] = arena_set(w->m, &tmp);
		}
		depth++;
	}
	if (!subs) {
		lmp_row *r;
		if (w->row >= w->m->nrows || stars((r = &w->m->rows[w->row++])->path) != depth)
			return lmp_fail(w->e, LMP_EXIT_INPUT, "the tree and its rows differ");
		r->nsets = depth;
		r->sets = lmp_arena_alloc(w->m->arena, sizeof *r->sets * (size_t)(depth + 1));
		memcpy(r->sets, mine, sizeof *mine * (size_t)depth);
		return 0;
	}
	cJSON_ArrayForEach(c, subs)
		if (walk(w, c, mine, depth))
			return -1;
	return 0;
}

int
lmp_row_indices(lmp_model *m, const cJSON *layers, lmp_err *e)
{
	struct walker w = {m, 0, e};
	const cJSON *node;

	cJSON_ArrayForEach(node, layers)
		if (walk(&w, node, NULL, 0))
			return -1;
	if (w.row != m->nrows)
		return lmp_fail(e, LMP_EXIT_INPUT, "the tree and its rows differ");
	return 0;
}

/* Collect the rows by path, in row order. */
static int
groups_of(struct check *k)
{
	const lmp_model *m = k->m;
	int i, j, rc;
	char *path = NULL;

	for (i = 0; i < m->nrows; i++, free(path)) {
		const lmp_row *r = &m->rows[i];
		struct group *g;
		lmp_num pc, t;
		path = normal_path(r->path, 0);
		if (!lmp_poly_is_const(r->poly[LMP_K_PARAM_COUNT]))
			return free(path), lmp_fail(k->e, LMP_EXIT_INPUT, "weights check: %s: its parameter count depends on the runtime",
				r->path);
		if (lmp_poly_value(m->prog, r->poly[LMP_K_PARAM_COUNT], &pc, k->e))
			return free(path), lmp_prefix(k->e, "weights check: %s: ", r->path);
		for (j = 0; j < k->ng && strcmp(k->g[j].path, path); j++)
			;
		g = &k->g[j];
		if (j == k->ng) {
			memset(g, 0, sizeof *g);
			g->path = lmp_xstrdup(path);
			g->fused = normal_path(path, 1);
			g->params = lmp_num_int(0);
			g->matched = lmp_num_int(0);
			k->ng++;
		}
		k->gof[i] = j;
		if ((rc = lmp_num_mul(&r->count, &pc, &t)) || (rc = lmp_num_add(&g->params, &t, &g->params)))
			return free(path), lmp_fail(k->e, LMP_EXIT_INPUT, "weights check: %s: %s", r->path,
				lmp_num_strerror(rc));
		if (r->tied)
			g->tied = r->tied;
		if (m->quant && !lmp_num_is_zero(&pc) && !lmp_quant_covers(m->quant, r))
			g->quantized = 1;
		rc = r->args ? lmp_entry_tensors(r->entry, m->prog, r->args, &k->mr[i].t, &k->mr[i].nt, k->e) : 0;
		if (rc < 0 || (rc > 0 && lmp_tensors_agree(r->entry, k->mr[i].t, k->mr[i].nt, &pc, k->e)))
			return free(path), lmp_prefix(k->e, "weights check: %s: ", r->path);
		if (rc > 0) {
			g->declares = 1;
			k->mr[i].found = lmp_xcalloc((size_t)k->mr[i].nt + 1, sizeof *k->mr[i].found);
			k->mr[i].tcl = lmp_xcalloc((size_t)k->mr[i].nt + 1, sizeof *k->mr[i].tcl);
		}
	}
	return 0;
}

/* --- pairing ----------------------------------------------------------- */

/* How many of c's remaining tensors row r covers, its first m "*"s paired
 * with c's first m. */
static lmp_i128
common(const struct mrow *r, const struct crow *c, int m)
{
	lmp_i128 n = 1, left = c->count - c->claimed;
	int i;

	for (i = 0; i < (c->known ? c->k : m); i++) {
		if (i < m && r->set[i] && c->known)
			n *= lmp_idx_common(r->set[i], &c->set[i]);
		else if (c->known)
			n *= lmp_idx_size(&c->set[i]);
		else if (r->set[i])
			n *= lmp_idx_size(r->set[i]);
		else
			return left; /* neither side knows: as many as are left */
	}
	return n < left ? n : left;
}

/* c's name with each "*" replaced by the first index r and c share: the
 * tensor a message names. */
static void
first_name(const struct mrow *r, const struct crow *c, const char *name, lmp_buf *b)
{
	int i = 0;

	for (const char *s = name; *s; s++) {
		if (*s != '*' || !(s[1] == '.' || !s[1] || s[1] == '_')) {
			lmp_buf_putc(b, *s);
			continue;
		}
		int64_t v = -1;
		if (c->known && i < c->k) {
			const lmp_idxset *a = &c->set[i], *rs = i < r->k ? r->set[i] : NULL;
			for (int x = 0; x < a->n && v < 0; x++)
				for (int y = 0; rs && y < rs->n && v < 0; y++) {
					int64_t lo = a->lo[x] > rs->lo[y] ? a->lo[x] : rs->lo[y];
					int64_t hi = a->hi[x] < rs->hi[y] ? a->hi[x] : rs->hi[y];
					if (lo <= hi)
						v = lo;
				}
			if (v < 0 && a->n)
				v = a->lo[0];
		}
		if (v < 0)
			lmp_buf_putc(b, '*');
		else
			lmp_buf_printf(b, "%lld", (long long)v);
		i++;
	}
}

/* Records the product of r's and c's sets, its first m "*"s paired, in
 * the coordinates of c, in each of the claims given. */
static void
record(const struct mrow *r, const struct crow *c, int m, struct claims *x, struct claims *y)
{
	struct claims *cl[2] = {x, y};
	int i, j, unknown = !c->known;

	for (i = 0; i < m; i++)
		unknown |= !r->set[i];
	for (j = 0; j < 2; j++) {
		struct claims *q = cl[j];
		if (!q)
			continue;
		if (unknown || (q->n && q->k != c->k)) {
			q->unknown = 1;
			continue;
		}
		if (q->n == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 4;
			q->s = lmp_xrealloc(q->s, sizeof *q->s * (size_t)q->cap * (size_t)(c->k + 1));
		}
		q->k = c->k;
		for (i = 0; i < c->k; i++) {
			lmp_idxset *o = &q->s[q->n * c->k + i];
			if (i < m)
				lmp_idx_and(r->set[i], &c->set[i], o);
			else
				lmp_idx_and(&c->set[i], &c->set[i], o);
		}
		q->n++;
	}
}

static void
claims_free(struct claims *q)
{
	for (int i = 0; i < q->n * q->k; i++)
		lmp_idx_free(&q->s[i]);
	free(q->s);
}

static int
same_set(const lmp_idxset *a, const lmp_idxset *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->lo[i] != b->lo[i] || a->hi[i] != b->hi[i])
			return 0;
	return 1;
}

/* ,"indices":[...]: base (k sets) minus the claimed products, where that is
 * one product (the claims differ from base in one "*" only); else nothing. */
static void
put_left(lmp_buf *b, lmp_idxset *const *base, int k, const struct claims *q)
{
	int i, j, p = -1;
	lmp_idxset left = {0}, *u;

	if (!k || q->unknown)
		return;
	for (i = 0; i < k; i++)
		if (!base[i])
			return;
	for (j = 0; j < q->n; j++)
		for (i = 0; i < k; i++) {
			if (same_set(&q->s[j * k + i], base[i]))
				continue;
			if (p >= 0 && p != i)
				return;
			p = i;
		}
	if (p >= 0) {
		u = lmp_xcalloc((size_t)q->n + 1, sizeof *u);
		for (j = 0; j < q->n; j++)
			u[j] = q->s[j * k + p];
		lmp_idx_minus(base[p], u, q->n, &left);
		free(u);
	}
	lmp_buf_puts(b, ",\"indices\":[");
	for (i = 0; i < k; i++) {
		lmp_buf_puts(b, i ? ",\"" : "\"");
		lmp_idx_str(i == p ? &left : base[i], b);
		lmp_buf_putc(b, '"');
	}
	lmp_buf_putc(b, ']');
	lmp_idx_free(&left);
}

static void
shape_text(lmp_buf *b, const cJSON *sh)
{
	const cJSON *d;

	lmp_buf_putc(b, '[');
	cJSON_ArrayForEach(d, sh)
		lmp_buf_printf(b, "%s%.17g", d == sh->child ? "" : ", ", d->valuedouble);
	lmp_buf_putc(b, ']');
}

static int
same_shape(const lmp_tdecl *t, const cJSON *sh)
{
	const cJSON *d;
	int i = 0;

	if (cJSON_GetArraySize(sh) != t->ndims)
		return 0;
	cJSON_ArrayForEach(d, sh) {
		lmp_num v;
		if (lmp_json_num(d, &v) || lmp_num_cmp(&v, &t->dims[i]))
			return 0;
		i++;
	}
	return 1;
}

/* Declared tensors against the checkpoint's names. */
static int
by_name(struct check *k)
{
	int i, j, ci;
	char *full = NULL;

	for (i = 0; i < k->m->nrows; i++) {
		struct mrow *r = &k->mr[i];
		struct group *g = &k->g[k->gof[i]];
		for (j = 0; j < r->nt; j++, free(full)) {
			const lmp_tdecl *t = &r->t[j];
			size_t n = strlen(g->path) + strlen(t->name) + 2;
			full = lmp_xmalloc(n);
			snprintf(full, n, "%s%s%s", g->path, *t->name ? "." : "", t->name);
			for (ci = 0; ci < k->nc; ci++) {
				struct crow *c = &k->c[ci];
				lmp_i128 cn;
				if (strcmp(c->lname, full) || (g->quantized && !c->logical) || c->claimed == c->count)
					continue;
				if (!(cn = common(r, c, c->k)))
					continue;
				if (!same_shape(t, c->lshape)) {
					lmp_buf msg = {0};
					lmp_buf_puts(&msg, "weights check: ");
					first_name(r, c, c->lname, &msg);
					lmp_buf_puts(&msg, ": the model's shape [");
					for (int d = 0; d < t->ndims; d++) {
						char s[LMP_NUM_STRMAX];
						lmp_num_str(&t->dims[d], s);
						lmp_buf_printf(&msg, "%s%s", d ? ", " : "", s);
					}
					lmp_buf_puts(&msg, "], the checkpoint's ");
					shape_text(&msg, c->lshape);
					lmp_fail(k->e, LMP_EXIT_INPUT, "%s", msg.s);
					lmp_buf_free(&msg);
					free(full);
					return -1;
				}
				record(r, c, c->k, &c->cl, &r->tcl[j]);
				c->claimed += cn;
				r->found[j] += cn;
				g->by_name = 1;
			}
		}
		full = NULL;
	}
	return 0;
}

/* Whether a tensor name belongs to path p: p itself, p.suffix or p_suffix
 * with no dot in the suffix. */
static size_t
under(const char *name, const char *p)
{
	size_t n = strlen(p);

	if (strncmp(name, p, n))
		return 0;
	if (!name[n] || name[n] == '.' || (name[n] == '_' && !strchr(name + n, '.')))
		return n;
	return 0;
}

/* The group claiming a tensor name, or -1: the longest path, else the
 * longest fused path (*fused set). */
static int
claim(const struct check *k, const char *name, int *fused)
{
	int i, f, best = -1;
	size_t n, bn = 0;

	for (f = 0; f < 2 && best < 0; f++)
		for (i = 0; i < k->ng; i++) {
			const struct group *g = &k->g[i];
			if (lmp_num_is_zero(&g->params) || !(n = under(name, f ? g->fused : g->path)) || n < bn)
				continue;
			best = i;
			bn = n;
			*fused = f;
		}
	return best;
}

/* The other tensors, by element count, to the paths not checked by name. */
static void
by_count(struct check *k)
{
	for (int ci = 0; ci < k->nc; ci++) {
		struct crow *c = &k->c[ci];
		int fused = 0, gi;
		if (c->claimed == c->count || (gi = claim(k, c->name, &fused)) < 0 || k->g[gi].by_name)
			continue;
		struct group *g = &k->g[gi];
		int m = stars(fused ? g->fused : g->path);
		for (int i = 0; i < k->m->nrows && c->claimed < c->count; i++) {
			lmp_i128 cn;
			if (k->gof[i] != gi || !(cn = common(&k->mr[i], c, m)))
				continue;
			record(&k->mr[i], c, m, &c->cl, NULL);
			c->claimed += cn;
			g->elements += cn * c->el;
			g->tensors += cn;
		}
	}
}

/* --- the result -------------------------------------------------------- */

static void
tally_by_name(struct check *k)
{
	for (int i = 0; i < k->m->nrows; i++) {
		struct mrow *r = &k->mr[i];
		struct group *g = &k->g[k->gof[i]];
		if (!g->by_name)
			continue;
		for (int j = 0; j < r->nt; j++) {
			lmp_num n = lmp_num_int(r->found[j]), p;
			g->tensors += r->found[j];
			g->shaped += r->found[j];
			if (!r->t[j].buffer && !lmp_num_mul(&n, &r->t[j].elements, &p))
				lmp_num_add(&g->matched, &p, &g->matched);
		}
	}
}

static int
count_mismatch(struct check *k)
{
	for (int i = 0; i < k->ng; i++) {
		struct group *g = &k->g[i];
		lmp_num el = lmp_num_int(g->elements);
		char a[LMP_NUM_STRMAX], c[LMP_NUM_STRMAX];
		if (g->by_name || !g->tensors || g->quantized || lmp_num_cmp(&el, &g->params) == 0)
			continue;
		lmp_num_str(&g->params, a);
		lmp_i128_str(g->elements, c);
		return lmp_fail(k->e, LMP_EXIT_INPUT,
			"weights check: %s: the model has %s parameters, the checkpoint's %s.* tensors %s elements",
			g->path, a, g->path, c);
	}
	return 0;
}

static int
wild(const struct mrow *r)
{
	for (int i = 0; i < r->k; i++)
		if (!r->set[i])
			return 1;
	return 0;
}

/* Row i's tensor name, its indices unknown: 1 when an earlier such row of
 * its path reported it; else the count and found of all of them. */
static int
wild_sum(const struct check *k, int i, const char *name, lmp_num *cnt, lmp_i128 *fnd)
{
	for (int x = 0; x < k->m->nrows; x++) {
		const struct mrow *o = &k->mr[x];
		if (x == i || k->gof[x] != k->gof[i] || !wild(o))
			continue;
		for (int y = 0; y < o->nt; y++) {
			if (strcmp(o->t[y].name, name))
				continue;
			if (x < i)
				return 1;
			lmp_num_add(cnt, &o->r->count, cnt);
			*fnd += o->found[y];
		}
	}
	return 0;
}

static void
write_missing(struct check *k, lmp_buf *b)
{
	lmp_num sum = lmp_num_int(0);
	int first = 1, i, j;

	lmp_buf_puts(b, ",\"missing\":{\"paths\":[");
	for (i = 0; i < k->ng; i++) {
		struct group *g = &k->g[i];
		if (g->tensors || g->by_name || g->tied || lmp_num_is_zero(&g->params))
			continue;
		lmp_buf_puts(b, first ? "{\"path\":" : ",{\"path\":");
		first = 0;
		lmp_json_string(b, g->path);
		lmp_buf_puts(b, ",\"parameters\":");
		put_num(b, &g->params);
		lmp_buf_putc(b, '}');
		lmp_num_add(&sum, &g->params, &sum);
	}
	lmp_buf_puts(b, "],\"tensors\":[");
	first = 1;
	for (i = 0; i < k->m->nrows; i++) {
		struct mrow *r = &k->mr[i];
		struct group *g = &k->g[k->gof[i]];
		lmp_num want, gone, p;
		if (!g->by_name)
			continue;
		for (j = 0; j < r->nt; j++) {
			lmp_num cnt = r->r->count, f;
			lmp_i128 fnd = r->found[j];
			/* rows whose indices are not known are summed per path */
			if (wild(r) && wild_sum(k, i, r->t[j].name, &cnt, &fnd))
				continue;
			f = lmp_num_int(fnd);
			p = lmp_num_int(0);
			if (lmp_num_sub(&cnt, &f, &gone) || lmp_num_sign(&gone) <= 0)
				continue;
			want = r->t[j].elements;
			if (!r->t[j].buffer)
				lmp_num_mul(&gone, &want, &p);
			lmp_buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
			first = 0;
			{
				lmp_buf nm = {0};
				lmp_buf_printf(&nm, "%s%s%s", g->path, *r->t[j].name ? "." : "", r->t[j].name);
				lmp_json_string(b, nm.s);
				lmp_buf_free(&nm);
			}
			put_left(b, r->set, r->k, &r->tcl[j]);
			lmp_buf_puts(b, ",\"count\":");
			put_num(b, &gone);
			lmp_buf_puts(b, ",\"parameters\":");
			put_num(b, &p);
			lmp_buf_putc(b, '}');
			lmp_num_add(&sum, &p, &sum);
		}
	}
	lmp_buf_puts(b, "],\"parameters\":");
	put_num(b, &sum);
	lmp_buf_putc(b, '}');
}

static void
write_result(struct check *k, lmp_buf *b)
{
	lmp_num sum;
	lmp_i128 n, nt, ns, ext = 0;
	int i, q, first;

	/* a quantized path checked by name (its format mapped back) is matched */
	for (i = 0; i < k->ng; i++)
		k->g[i].quantized &= !k->g[i].by_name;
	lmp_buf_puts(b, "\"weights_check\":{\"matched\":");
	for (q = 0; q < 2; q++) {
		sum = lmp_num_int(0);
		n = nt = ns = 0;
		for (i = 0; i < k->ng; i++) {
			struct group *g = &k->g[i];
			if (!g->tensors || g->quantized != q)
				continue;
			n++;
			nt += g->tensors;
			ns += g->shaped;
			lmp_num_add(&sum, g->by_name ? &g->matched : &g->params, &sum);
		}
		if (q)
			lmp_buf_puts(b, ",\"unchecked_quantized\":");
		lmp_buf_puts(b, "{\"paths\":");
		put_i128(b, n);
		lmp_buf_puts(b, ",\"tensors\":");
		put_i128(b, nt);
		if (!q) {
			lmp_buf_puts(b, ",\"by_shape\":");
			put_i128(b, ns);
		}
		lmp_buf_puts(b, ",\"parameters\":");
		put_num(b, &sum);
		lmp_buf_putc(b, '}');
	}
	write_missing(k, b);
	lmp_buf_puts(b, ",\"tied_absent\":[");
	first = 1;
	for (i = 0; i < k->ng; i++) {
		struct group *g = &k->g[i];
		if (g->tensors || g->by_name || !g->tied || lmp_num_is_zero(&g->params))
			continue;
		lmp_buf_puts(b, first ? "{\"path\":" : ",{\"path\":");
		first = 0;
		lmp_json_string(b, g->path);
		lmp_buf_puts(b, ",\"tied\":");
		lmp_json_string(b, g->tied);
		lmp_buf_puts(b, ",\"parameters\":");
		put_num(b, &g->params);
		lmp_buf_putc(b, '}');
	}
	lmp_buf_puts(b, "],\"extra\":{\"tensors\":[");
	first = 1;
	for (i = 0; i < k->nc; i++) {
		struct crow *c = &k->c[i];
		lmp_i128 left = c->count - c->claimed;
		if (!left)
			continue;
		lmp_buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
		first = 0;
		lmp_json_string(b, c->name);
		if (c->known) {
			lmp_idxset *base[MAX_STARS];
			for (int x = 0; x < c->k; x++)
				base[x] = &c->set[x];
			put_left(b, base, c->k, &c->cl);
		}
		lmp_buf_puts(b, ",\"count\":");
		put_i128(b, left);
		lmp_buf_puts(b, ",\"elements\":");
		put_i128(b, left * c->el);
		lmp_buf_putc(b, '}');
		ext += left * c->el;
	}
	lmp_buf_puts(b, "],\"elements\":");
	put_i128(b, ext);
	lmp_buf_putc(b, '}');
	if (k->aux) {
		lmp_buf_puts(b, ",\"quantization_aux\":{\"tensors\":");
		put_i128(b, k->aux);
		lmp_buf_puts(b, ",\"elements\":");
		put_i128(b, k->aux_elements);
		lmp_buf_putc(b, '}');
	}
	lmp_buf_putc(b, '}');
}

int
lmp_weights_check(const lmp_model *m, const cJSON *checkpoint, lmp_buf *b, lmp_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(checkpoint, "tensors"), *t;
	struct check k = {0};
	int i, rc = -1;

	k.m = m;
	k.e = e;
	k.mr = lmp_xcalloc((size_t)m->nrows + 1, sizeof *k.mr);
	k.g = lmp_xcalloc((size_t)m->nrows + 1, sizeof *k.g);
	k.gof = lmp_xcalloc((size_t)m->nrows + 1, sizeof *k.gof);
	for (i = 0; i < m->nrows; i++) {
		k.mr[i].r = &m->rows[i];
		k.mr[i].k = m->rows[i].nsets < MAX_STARS ? m->rows[i].nsets : MAX_STARS;
		for (int j = 0; j < k.mr[i].k; j++)
			k.mr[i].set[j] = m->rows[i].sets[j];
	}
	if (!cJSON_IsArray(list)) {
		lmp_fail(e, LMP_EXIT_INPUT, "weights check: model.checkpoint has no \"tensors\" list");
		goto out;
	}
	if (lmp_quantmap_check(m, checkpoint, e))
		goto out;
	k.c = lmp_xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *k.c);
	cJSON_ArrayForEach(t, list) {
		/* a quantized weight's scales, zeros and g_idx (quantmap.c) are
		 * checked with it by bytes, not as parameters nor as extras */
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "aux_of"))) {
			const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(t, "count");
			lmp_i128 el;
			if (!cJSON_IsNumber(cnt) || cnt->valuedouble < 0 || cnt->valuedouble > 1e15 ||
			    shape_elements(cJSON_GetObjectItemCaseSensitive(t, "shape"), &el)) {
				lmp_fail(e, LMP_EXIT_INPUT, "weights check: model.checkpoint.tensors: a malformed entry");
				goto out;
			}
			k.aux += (lmp_i128)cnt->valuedouble;
			k.aux_elements += (lmp_i128)cnt->valuedouble * el;
			continue;
		}
		if (read_crow(&k.c[k.nc], t, e))
			goto out;
		k.nc++;
	}
	if (groups_of(&k) || by_name(&k))
		goto out;
	by_count(&k);
	tally_by_name(&k);
	if (count_mismatch(&k))
		goto out;
	write_result(&k, b);
	rc = 0;
out:
	for (i = 0; i < k.nc; i++) {
		for (int j = 0; j < MAX_STARS; j++)
			lmp_idx_free(&k.c[i].set[j]);
		claims_free(&k.c[i].cl);
	}
	for (i = 0; i < m->nrows; i++) {
		for (int j = 0; k.mr[i].tcl && j < k.mr[i].nt; j++)
			claims_free(&k.mr[i].tcl[j]);
		free(k.mr[i].tcl);
		free(k.mr[i].t);
		free(k.mr[i].found);
	}
	for (i = 0; i < k.ng; i++) {
		free(k.g[i].path);
		free(k.g[i].fused);
	}
	free(k.c);
	free(k.mr);
	free(k.g);
	free(k.gof);
	return rc;
}
