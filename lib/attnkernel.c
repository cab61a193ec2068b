/* attnkernel.c: attention as FlashAttention runs it (lmp-eval --attention
 * flash).
 *
 * The sdpa entry counts a fused kernel that reads every key once and
 * scores every query against every key it is given.  FlashAttention's
 * forward is a grid of query tiles of kBlockM rows; each tile walks the
 * K/V tiles of kBlockN keys up to its causal limit (the mask aligned to
 * the bottom right, so a query over a cache sees the whole cache) and
 * skips the tiles above the diagonal.  So each query tile loads K and V
 * again: the keys it visits, at the cache's precision, once per query
 * head (FA2: a CTA per head) or once per KV head with the heads of a
 * group packed into the tile's rows (FA3's PackGQA, which varlen calls, as
 * vLLM's, always use).  A tile computes its scores in full, the masked
 * ones of a diagonal tile too.  Tile sizes, 16-bit, causal, no dropout:
 *   FA2 csrc/flash_attn/src/flash_fwd_launch_template.h (run_mha_fwd_hdim*)
 *   FA3 hopper/tile_size.h (tile_size_fwd_sm90)
 * Rows whose keys are not the step's own (a sliding window, MLA's sdpa
 * under the latent layout) keep the fused counts (lmp-eval(1), Attention
 * kernel). */
#include <string.h>

#include "lmp.h"

static int
param_int(const cJSON *params, const char *name, int64_t *out)
{
	lmp_num v;

	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(params, name), &v) || !lmp_num_is_int(&v) ||
	    v.n < 1 || v.n > (lmp_i128)1 << 20)
		return -1;
	*out = (int64_t)v.n;
	return 0;
}

static const char *const key_params[3] = {"tokens", "kv_tokens", "qk_pairs"};
static const int key_vars[3] = {LMP_V_TOKENS, LMP_V_KV_TOKENS, LMP_V_QK_PAIRS};

void
lmp_attn_row(lmp_row *r, const cJSON *params, lmp_poly *const *args)
{
	int i, k;

	r->attn = !strcmp(r->cls, "torch.nn.functional.scaled_dot_product_attention") &&
		!param_int(params, "num_heads", &r->nh) && !param_int(params, "num_kv_heads", &r->nkv) &&
		!param_int(params, "head_dim", &r->hd) && !param_int(params, "v_head_dim", &r->vd) &&
		r->nh % r->nkv == 0;
	for (i = 0; r->attn && i < 3; i++) {
		if ((k = lmp_entry_param_index(r->entry, key_params[i])) < 0)
			r->attn = 0;
		else
			r->keys[i] = args[k];
	}
}

/* Under a layout: the heads one device runs, read from the arguments as
 * the sdpa entry's "heads" role sharded them (parallel.c: KV heads
 * replicated below one a device). */
void
lmp_attn_sharded(lmp_model *m, lmp_row *r, lmp_poly *const *args)
{
	const char *names[2] = {"num_heads", "num_kv_heads"};
	int64_t *out[2] = {&r->nh, &r->nkv};
	lmp_err ignore;
	lmp_num v;
	int i, k;

	for (i = 0; r->attn && i < 2; i++) {
		k = lmp_entry_param_index(r->entry, names[i]);
		if (k < 0 || !lmp_poly_is_const(args[k]) || lmp_poly_value(m->prog, args[k], &v, &ignore) ||
		    !lmp_num_is_int(&v) || v.n < 1)
			r->attn = 0;
		else
			*out[i] = (int64_t)v.n;
	}
	r->attn = r->attn && r->nh % r->nkv == 0;
}

/* The row attends the step's own keys: every query to its sequence's
 * whole context (not a window, not nothing as MLA's sdpa under the latent). */
static int
plain(lmp_model *m, const lmp_row *r, const lmp_runtime *rt, int *yes, lmp_err *e)
{
	lmp_num v;

	*yes = 1;
	for (int i = 0; i < 3; i++) {
		if (lmp_poly_eval(m->prog, r->keys[i], &v, e))
			return lmp_prefix(e, "%s: ", r->path);
		if (lmp_num_cmp(&v, &rt->vars[key_vars[i]]))
			*yes = 0;
	}
	return 0;
}

/* kBlockM x kBlockN of the causal forward for these head widths. */
static void
tile(int arch, int64_t hd, int64_t vd, int64_t *bm, int64_t *bn)
{
	int64_t d = hd > vd ? hd : vd; /* FA2 takes one width: the larger */

	switch (arch) {
	case LMP_FA_SM90: /* tile_size_fwd_sm90, element_size 2, is_causal */
		*bm = hd <= 64 ? 192 : 128;
		*bn = hd <= 64 ? 128 : hd <= 96 ? 144 : hd <= 128 ? 128 : hd <= 192 ? (vd <= 128 ? 128 : 112) : 80;
		if (hd > 64 && hd <= 96)
			*bm = 192;
		return;
	case LMP_FA_SM8X: /* cc 8.6 / 8.9: is_sm8x, Is_causal */
		*bm = d <= 64 ? 128 : d <= 128 ? 64 : d <= 192 ? 128 : 64;
		*bn = d <= 64 ? 128 : 64;
		return;
	default: /* sm80 */
		*bm = 128;
		*bn = d <= 64 ? 128 : 64;
	}
}

/* For one sequence of s new tokens over c cached, in rows of g packed
 * heads: the scores computed (rows x keys loaded) and the keys loaded,
 * summed over the query tiles. */
static void
walk(int64_t s, int64_t c, int64_t g, int64_t bm, int64_t bn, lmp_i128 *pairs, lmp_i128 *keys)
{
	int64_t rows = s * g, k = c + s, i;

	*pairs = *keys = 0;
	for (i = 0; i * bm < rows; i++) {
		int64_t end = (i + 1) * bm < rows ? (i + 1) * bm : rows;
		int64_t need = c + (end - 1) / g + 1;             /* keys the tile's last row sees */
		int64_t load = (need + bn - 1) / bn * bn;          /* whole K/V tiles ... */
		if (load > k)
			load = k;                                  /* ... but none past the sequence */
		*pairs += (lmp_i128)(end - i * bm) * load;
		*keys += load;
	}
}

static int
set(lmp_num *x, const lmp_num *v, const lmp_num *count, lmp_num *tot, lmp_err *e)
{
	lmp_num d, cd;

	if (lmp_num_sub(v, x, &d) || lmp_num_mul(&d, count, &cd) || lmp_num_add(tot, &cd, tot))
		return lmp_fail(e, LMP_EXIT_INPUT, "--attention flash: totals overflow");
	*x = *v;
	return 0;
}

/* a x b x c / d, exactly, or an error */
static int
mul(lmp_num a, lmp_i128 b, lmp_i128 c, lmp_i128 d, lmp_num *out)
{
	lmp_num x = lmp_num_int(b), y = lmp_num_int(c), z = lmp_num_int(d);

	return lmp_num_mul(&a, &x, out) || lmp_num_mul(out, &y, out) || lmp_num_div(out, &z, out);
}

int
lmp_attn_flash(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e)
{
	for (int i = 0; i < m->nrows; i++) {
		lmp_row *r = &m->rows[i];
		lmp_num own[LMP_NKINDS], *v = rows ? &rows[i * stride] : own, f, qb, kvb, t;
		lmp_i128 pairs = 0, keys = 0, p, k;
		int64_t bm, bn, g;
		int yes;
		if (!r->attn)
			continue;
		if (plain(m, r, rt, &yes, e))
			return -1;
		if (!yes)
			continue;
		/* FA2 runs a CTA per query head; FA3 packs a group's heads */
		g = rt->flash_arch == LMP_FA_SM90 ? r->nh / r->nkv : 1;
		tile(rt->flash_arch, r->hd, r->vd, &bm, &bn);
		for (int q = 0; q < rt->nqueries; q++) {
			const lmp_query *qu = &rt->queries[q];
			if ((qu->seq_len * g + bm - 1) / bm > (int64_t)1 << 24)
				return lmp_fail(e, LMP_EXIT_USAGE, "--attention flash: %s: more than 2^24 query tiles "
					"in a sequence (seq_len %lld)", r->path, (long long)qu->seq_len);
			walk(qu->seq_len, qu->cache_len, g, bm, bn, &p, &k);
			pairs += p * qu->count;
			keys += k * qu->count;
		}
		if (!rows)
			for (int kd = 0; kd < LMP_NKINDS; kd++)
				if (lmp_poly_eval(m->prog, r->poly[kd], &own[kd], e))
					return lmp_prefix(e, "%s: ", r->path);
		/* per packed row (a head and a token) 2 (hd + vd) FLOPs a score for
		 * QK^T and PV and 6 for scale and softmax; Q read once at the
		 * activation width, K and V per tile at the cache's, for each of
		 * nh / g CTAs of a tile */
		if (mul(lmp_num_int(pairs), r->nh / g, 2 * (r->hd + r->vd) + 6, 1, &f) ||
		    mul(rt->vars[LMP_V_TOKENS], r->nh * r->hd, rt->a_bit, 8, &qb) ||
		    mul(lmp_num_int(keys), r->nh / g * (r->hd + r->vd), rt->kv_bit, 8, &kvb) || lmp_num_add(&qb, &kvb, &t))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: --attention flash: overflow", r->path);
		if (set(&v[LMP_K_FLOPS], &f, &r->count, &tot[LMP_K_FLOPS], e) ||
		    set(&v[LMP_K_READS], &t, &r->count, &tot[LMP_K_READS], e))
			return -1;
	}
	return 0;
}
