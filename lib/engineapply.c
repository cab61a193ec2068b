/* engineapply.c: what an engine profile's knobs change in the counts of a
 * point (lmp-engine(5)), applied after the rows are evaluated: KV paging,
 * fused kernels (declared by the module database's entries), and the
 * profile run that sizes the KV cache.  rows is nrows x stride values (or
 * NULL: totals only), tot the totals, indexed by lmp_kind. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* KV paging (rt->kv_block > 1): each sequence's cache is whole blocks.  A
 * row that holds a cache (its state grows with the tokens) keeps and reads
 * it in blocks: its state and reads are those at the paged point, where
 * every sequence's context (cache_len + seq_len) is rounded up to whole
 * blocks by cached tokens; the totals move by count x the difference.
 * FLOPs stay those of the real tokens. */
int
lmp_engine_paged(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e)
{
	static const int kinds[] = {LMP_K_READS, LMP_K_STATE};
	lmp_runtime pg = *rt;
	lmp_query *q = lmp_xmalloc(sizeof *q * (size_t)(rt->nqueries + 1));
	lmp_num at[2], mine[2], d, t;
	int64_t bl = rt->kv_block;
	int i, k, rc = 0, moved = 0;

	for (i = 0; i < rt->nqueries; i++) {
		int64_t ctx = rt->queries[i].cache_len + rt->queries[i].seq_len, up = (ctx + bl - 1) / bl * bl;
		q[i] = rt->queries[i];
		q[i].cache_len += up - ctx;
		moved |= up != ctx;
	}
	pg.queries = q;
	if (!moved || lmp_runtime_compute(&pg, e)) {
		free(q);
		return moved ? -1 : 0;
	}
	for (i = 0; i < m->nrows && !rc; i++) {
		const lmp_row *r = &m->rows[i];
		if (lmp_poly_is_const(r->poly[LMP_K_STATE]))
			continue;
		lmp_prog_set_point(m->prog, rt);
		for (k = 0; k < 2 && !rc; k++)
			rc = lmp_poly_eval(m->prog, r->poly[kinds[k]], &at[k], e);
		lmp_prog_set_point(m->prog, &pg);
		for (k = 0; k < 2 && !rc; k++)
			rc = lmp_poly_eval(m->prog, r->poly[kinds[k]], &mine[k], e);
		for (k = 0; k < 2 && !rc; k++) {
			if (rows)
				rows[i * stride + kinds[k]] = mine[k];
			if (lmp_num_sub(&mine[k], &at[k], &d) || lmp_num_mul(&r->count, &d, &t) ||
			    lmp_num_add(&tot[kinds[k]], &t, &tot[kinds[k]]))
				rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: paged KV cache: overflow", r->path);
		}
		if (rc && !e->msg[0])
			lmp_fail(e, LMP_EXIT_INPUT, "%s: paged KV cache", r->path);
	}
	lmp_prog_set_point(m->prog, rt);
	free(q);
	return rc ? -1 : 0;
}

/* Fusion (rt->fusion): kernels the engines fuse, declared by the producing
 * entry's "fusion" (lmp-module-db(5)):
 *   {"with": [consumer entries], "finds": "first_after" | "next",
 *    "writes": "dropped" | "kept", "named": "suffix"?, "source": "..."}
 * - "first_after": the first row of a consumer entry after the producer in
 *   the same block (the activation and the gate multiply, vLLM's and
 *   SGLang's silu_and_mul), fused where their counts agree.
 * - "next": the row after the producer in its repeated block, or, for the
 *   block's last row, the block's first row (the next layer's input norm,
 *   fed by all instances but the last) and the row after the block (fed by
 *   the last): a residual add with the RMSNorm after it
 *   (fused_add_rms_norm).
 * "named": only a producer whose path ends so (the residual add, not the
 * others).  The consumer no longer reads the producer's output;
 * "dropped": the producer's output is not written either.  Rotary
 * embedding stays its own kernel (vLLM and SGLang run it so). */
struct lmp_fused {
	int from, to; /* producer and consumer rows */
	int act;      /* 1: the producer's writes go too */
	lmp_num share; /* producer instances feeding the consumer, per consumer instance */
};

static size_t
prefix_len(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? (size_t)(dot - path) + 1 : 0;
}

static int
same_block(const lmp_row *a, const lmp_row *b)
{
	size_t n = prefix_len(a->path);

	return n == prefix_len(b->path) && !strncmp(a->path, b->path, n);
}

/* The repeated block a row is in: its path up to the last ".*." (the
 * layer list's member), or its parent. */
static int
same_group(const lmp_row *a, const lmp_row *b)
{
	const char *star = NULL, *p;
	size_t n;

	for (p = a->path; (p = strstr(p, ".*.")); p++)
		star = p;
	n = star ? (size_t)(star - a->path) + 3 : prefix_len(a->path);
	return !strncmp(a->path, b->path, n);
}

static int
ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), k = strlen(end);

	return n >= k && !strcmp(s + n - k, end);
}

static void
add_fused(lmp_model *m, int from, int to, int act, lmp_num share, int *cap)
{
	if (m->nfused == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		m->fused = lmp_xrealloc(m->fused, sizeof *m->fused * (size_t)*cap);
	}
	m->fused[m->nfused++] = (struct lmp_fused){from, to, act, share};
}

struct decl {
	const cJSON *with;
	int next, drop;
	const char *named;
};

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The entry's fusion declaration: 1 with *d, 0 without one, -1 malformed. */
static int
declared(const lmp_entry *en, struct decl *d, lmp_err *e)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(en->json, "fusion"), *c;
	const char *finds = str(f, "finds"), *writes = str(f, "writes"), *src = str(f, "source");

	if (!f)
		return 0;
	d->with = cJSON_GetObjectItemCaseSensitive(f, "with");
	d->named = str(f, "named");
	d->next = finds && !strcmp(finds, "next");
	d->drop = writes && !strcmp(writes, "dropped");
	if (!cJSON_IsArray(d->with) || !cJSON_GetArraySize(d->with) || !finds || (!d->next && strcmp(finds, "first_after")) ||
	    !writes || (!d->drop && strcmp(writes, "kept")) || !src || !*src ||
	    (cJSON_GetObjectItemCaseSensitive(f, "named") && !d->named))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"fusion\" needs \"with\" (entries), \"finds\" (first_after or "
			"next), \"writes\" (dropped or kept) and a \"source\"", en->name);
	cJSON_ArrayForEach(c, d->with)
		if (!cJSON_IsString(c))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: fusion.with lists entry names", en->name);
	return 1;
}

static int
fuses_with(const struct decl *d, const lmp_row *c)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, d->with)
		if (!strcmp(n->valuestring, c->entry->name))
			return 1;
	return 0;
}

static int
find_fused(lmp_model *m, lmp_err *e)
{
	int i, j, cap = 0, rc;
	lmp_num one = lmp_num_int(1);
	struct decl d;

	for (i = 0; i < m->nrows; i++) {
		const lmp_row *a = &m->rows[i];
		if (!a->entry || (rc = declared(a->entry, &d, e)) == 0)
			continue;
		if (rc < 0)
			return -1;
		if (d.named && !ends_with(a->path, d.named))
			continue;
		if (!d.next) {
			for (j = i + 1; j < m->nrows && same_block(a, &m->rows[j]); j++)
				if (m->rows[j].entry && fuses_with(&d, &m->rows[j])) {
					if (lmp_num_eq(&a->count, &m->rows[j].count))
						add_fused(m, i, j, d.drop, one, &cap);
					break;
				}
			continue;
		}
		if (i + 1 < m->nrows && same_group(a, &m->rows[i + 1])) {
			if (m->rows[i + 1].entry && fuses_with(&d, &m->rows[i + 1]) &&
			    lmp_num_eq(&a->count, &m->rows[i + 1].count))
				add_fused(m, i, i + 1, d.drop, one, &cap);
			continue;
		}
		/* the block's last row: the next instance's first row, then what follows the block */
		for (j = i; j > 0 && same_group(a, &m->rows[j - 1]); j--)
			;
		if (m->rows[j].entry && fuses_with(&d, &m->rows[j]) && lmp_num_eq(&a->count, &m->rows[j].count) &&
		    a->count.n > 1) {
			lmp_num s = lmp_num_frac(a->count.n - 1, a->count.n);
			add_fused(m, i, j, d.drop, s, &cap);
		}
		if (i + 1 < m->nrows && m->rows[i + 1].entry && fuses_with(&d, &m->rows[i + 1]) &&
		    lmp_num_is_int(&m->rows[i + 1].count) && m->rows[i + 1].count.n == 1)
			add_fused(m, i, i + 1, d.drop, one, &cap);
	}
	m->fused_ready = 1;
	return 0;
}

int
lmp_engine_fuse(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e)
{
	lmp_num w, save, t;
	int i;

	if (!m->fused_ready && find_fused(m, e))
		return -1;
	lmp_prog_set_point(m->prog, rt);
	for (i = 0; i < m->nfused; i++) {
		const struct lmp_fused *f = &m->fused[i];
		const lmp_row *p = &m->rows[f->from], *c = &m->rows[f->to];
		if (rows)
			w = rows[f->from * stride + LMP_K_WRITES];
		else if (lmp_poly_eval(m->prog, p->poly[LMP_K_WRITES], &w, e))
			return lmp_prefix(e, "%s: fusion: ", p->path);
		if (f->act) {
			/* the producer's own writes, counted as they were */
			if (lmp_num_mul(&p->count, &w, &t) || lmp_num_sub(&tot[LMP_K_WRITES], &t, &tot[LMP_K_WRITES]))
				return lmp_fail(e, LMP_EXIT_INPUT, "%s: fusion: overflow", p->path);
			if (rows)
				rows[f->from * stride + LMP_K_WRITES] = lmp_num_int(0);
		}
		/* the consumer no longer reads the producer's output */
		if (lmp_num_mul(&w, &f->share, &save) || lmp_num_mul(&c->count, &save, &t) ||
		    lmp_num_sub(&tot[LMP_K_READS], &t, &tot[LMP_K_READS]))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: fusion: overflow", c->path);
		if (rows && lmp_num_sub(&rows[f->to * stride + LMP_K_READS], &save, &rows[f->to * stride + LMP_K_READS]))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: fusion: overflow", c->path);
	}
	return 0;
}

/* The engine's profile run (lmp-engine(5)), where the engine takes a
 * fraction of the device (rt->mem_util): before it sizes its KV cache,
 * vLLM runs one forward of its batched-token budget and measures the
 * activation peak.  Here: one sequence of rt->chunk new tokens (without a
 * budget, the longer of the model's context and 2048, as vLLM sizes
 * max_num_batched_tokens without chunked prefill) over no cache, and its
 * peak the largest kernel's activations in and out (reads - weights +
 * writes).  totals.profile_run's members, kept for the next point of the
 * same widths and budget; "" without a reserve, NULL on error. */
const char *
lmp_engine_profile(lmp_model *m, const lmp_runtime *at, lmp_err *e)
{
	int64_t tokens = at->chunk ? at->chunk : m->pos_limit > 2048 ? m->pos_limit : 2048;
	int64_t key[6] = {at->w_bit, at->a_bit, at->kv_bit, tokens, at->fusion, at->w_checkpoint};
	lmp_query q = {tokens, 0, 1};
	lmp_runtime rt;
	lmp_num v[LMP_NKINDS], peak = lmp_num_int(0), x;
	lmp_buf b = {0};
	char s[LMP_NUM_STRMAX];
	int i, k;

	if (!at->engine || !at->mem_util)
		return "";
	if (m->profile_set && !memcmp(key, m->profile_key, sizeof key))
		return m->profile;
	rt = *at; /* a kilobyte: only where the key is new */
	rt.nqueries = 1;
	rt.queries = &q;
	rt.kv_block = 1;
	if (lmp_runtime_compute(&rt, e))
		return NULL;
	lmp_prog_set_point(m->prog, &rt);
	for (i = 0; i < m->nrows; i++) {
		for (k = 0; k < LMP_NKINDS; k++)
			if ((k == LMP_K_READS || k == LMP_K_WEIGHTS || k == LMP_K_WRITES) &&
			    lmp_poly_eval(m->prog, m->rows[i].poly[k], &v[k], e))
				return lmp_prefix(e, "profile run: %s: ", m->rows[i].path), NULL;
		if (lmp_num_sub(&v[LMP_K_READS], &v[LMP_K_WEIGHTS], &x) || lmp_num_add(&x, &v[LMP_K_WRITES], &x))
			return lmp_fail(e, LMP_EXIT_INPUT, "profile run: %s: overflow", m->rows[i].path), NULL;
		if (lmp_num_cmp(&x, &peak) > 0)
			peak = x;
	}
	lmp_num_str(&peak, s);
	lmp_buf_printf(&b, ",\"profile_run\":{\"tokens\":%lld,\"activation_bytes\":%s}", (long long)tokens, s);
	free(m->profile);
	m->profile = b.s;
	memcpy(m->profile_key, key, sizeof key);
	m->profile_set = 1;
	return m->profile;
}

