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
 * A decode swaps a GQA group's heads into FA2's query rows too.  Where
 * the step leaves SMs idle the K/V walk is split over blocks (split-K,
 * flash-decoding) as the sources' heuristics choose, and the float32
 * partial outputs and log-sum-exps go through memory to a combine kernel.
 * Rows whose keys are not the step's own (a sliding window, MLA's sdpa
 * under the latent layout) keep the fused counts (lmp-eval(1), Attention
 * kernel). */
#include <math.h>
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

/* FA3's tiles where the call is not causal: a decode (seqlen_q 1, which
 * mha_fwd runs without the causal mask), tile_size_fwd_sm90 with
 * is_causal false; one MMA warpgroup (64 rows) for head_dim 128 and at
 * most 64 packed rows (use_one_mma_wg, hopper/heuristics.h). */
static void
tile_sm90_nc(int64_t hd, int64_t vd, int64_t rows, int64_t *bm, int64_t *bn)
{
	if (hd <= 64) {
		*bm = vd == 512 ? 64 : vd == 256 ? 128 : 192;
		*bn = vd == 512 ? 64 : vd == 256 ? 112 : 192;
	} else if (hd <= 96) {
		*bm = 192, *bn = 144;
	} else if (hd <= 128) {
		*bm = hd == 128 && rows <= 64 ? 64 : 128, *bn = 176;
	} else {
		*bm = 128, *bn = hd <= 192 ? (vd <= 128 ? 128 : 112) : 80;
	}
}

/* The SMs of --flash-arch's reference device: H100 SXM (sm90), A100
 * (sm80), A40 and RTX A6000 (sm8x), share/lmp/hardware compute_units. */
static int64_t
ref_sms(const lmp_runtime *rt)
{
	if (rt->flash_sms > 0)
		return rt->flash_sms;
	return rt->flash_arch == LMP_FA_SM90 ? 132 : rt->flash_arch == LMP_FA_SM8X ? 84 : 108;
}

static int64_t
cdiv(int64_t a, int64_t b)
{
	return (a + b - 1) / b;
}

static int64_t
min3(int64_t a, int64_t b, int64_t c)
{
	return a < b ? (a < c ? a : c) : (b < c ? b : c);
}

/* The fewest splits whose wave efficiency is 85% of the best:
 * num_splits_heuristic of FA2 (csrc/flash_attn/flash_api.cpp: splits
 * that give the same tiles a split as one fewer are not eligible) and of
 * FA3 (hopper/heuristics.h: none of that, but no split of 4 K/V tiles or
 * fewer).  In float as the source computes it. */
static int64_t
best_splits(int64_t work, int64_t sms, int64_t nblk, int64_t maxs, int fa2)
{
	float eff[128], best = 0.f;
	int64_t s;

	maxs = min3(maxs, sms, nblk);
	for (s = 1; s <= maxs; s++) {
		float w = (float)(work * s) / (float)sms;
		eff[s - 1] = fa2 && s > 1 && cdiv(nblk, s) == cdiv(nblk, s - 1) ? 0.f : w / ceilf(w);
		if (eff[s - 1] > best)
			best = eff[s - 1];
	}
	for (s = 1; s <= maxs; s++)
		if ((!fa2 || s == 1 || cdiv(nblk, s) != cdiv(nblk, s - 1)) && eff[s - 1] >= 0.85 * best)
			return s;
	return 1;
}

/* FA2's set_params_splitkv: SMs x 2 (two CTAs of 128 threads an SM). */
static int64_t
splits_fa2(int64_t work, int64_t sms, int64_t nblk)
{
	if ((float)work >= 0.8f * (float)(2 * sms))
		return 1;
	return best_splits(work, 2 * sms, nblk, 128, 1);
}

/* FA3's get_num_splits / num_splits_heuristic: a full machine splits only
 * a KV head larger than L2 (50 MiB) that at least 2 x SMs query tiles
 * re-read, never a causal call. */
static int64_t
splits_fa3(int64_t work, int64_t sms, int64_t nblk, int64_t mblk, int64_t head_bytes, int causal)
{
	const int64_t l2 = 50 * 1024 * 1024;

	if ((float)work >= 0.8f * (float)sms) {
		if (head_bytes > l2 && mblk >= 2 * sms && !causal)
			return cdiv(head_bytes, l2) < 128 ? cdiv(head_bytes, l2) : 128;
		return 1;
	}
	if (nblk <= 4)
		return 1;
	return best_splits(work, sms, nblk, 128, 0);
}

/* How one step's call runs: tiles, the query heads packed in a tile's
 * rows, and the K/V splits (split-K), per the source's heuristics with
 * the step as one call of its sequences (the longest sets the tiles
 * counted, as max_seqlen_q / max_seqlen_k do). */
struct call {
	int64_t bm, bn, g, splits, per; /* per: K/V tiles a split covers */
};

static void
plan(const lmp_row *r, const lmp_runtime *rt, struct call *c)
{
	int64_t b = 0, sq = 0, sk = 0, sms = ref_sms(rt), g = r->nh / r->nkv;

	for (int q = 0; q < rt->nqueries; q++) {
		const lmp_query *qu = &rt->queries[q];
		b += qu->count;
		if (qu->seq_len > sq)
			sq = qu->seq_len;
		if (qu->seq_len + qu->cache_len > sk)
			sk = qu->seq_len + qu->cache_len;
	}
	if (rt->flash_arch == LMP_FA_SM90) {
		/* PackGQA; a decode is not causal (mha_fwd drops the mask) */
		int causal = sq > 1;
		c->g = g;
		if (causal)
			tile(rt->flash_arch, r->hd, r->vd, &c->bm, &c->bn);
		else
			tile_sm90_nc(r->hd, r->vd, sq * g, &c->bm, &c->bn);
		c->splits = splits_fa3(b * r->nkv * cdiv(sq * g, c->bm), sms, cdiv(sk, c->bn), cdiv(sq * g, c->bm),
			sk * (r->hd + r->vd) * (rt->kv_bit <= 8 ? 1 : 2), causal);
	} else {
		/* a GQA decode swaps a group's heads into seqlen_q
		 * (seqlenq_ngroups_swapped): a CTA per KV head */
		int64_t d = r->hd > r->vd ? r->hd : r->vd, bn = d <= 64 ? 256 : d <= 128 ? 128 : 64;
		int swap = sq == 1 && g > 1;
		c->g = swap ? g : 1;
		c->splits = splits_fa2(b * (swap ? r->nkv : r->nh) * cdiv(swap ? g : sq, 64), sms, cdiv(sk, bn));
		if (c->splits > 1) /* the split-KV kernel: 64 x kBlockN */
			c->bm = 64, c->bn = bn;
		else
			tile(rt->flash_arch, r->hd, r->vd, &c->bm, &c->bn);
	}
	c->per = cdiv(cdiv(sk, c->bn), c->splits);
}

/* For one sequence of s new tokens over c cached, in rows of g packed
 * heads: the scores computed (rows x keys loaded), the keys loaded,
 * summed over the query tiles, and the Q rows loaded: once by each split
 * that has K/V tiles to walk. */
static void
walk(int64_t s, int64_t c, const struct call *k, lmp_i128 *pairs, lmp_i128 *keys, lmp_i128 *qrows)
{
	int64_t g = k->g, bm = k->bm, bn = k->bn, rows = s * g, kv = c + s, i;

	*pairs = *keys = *qrows = 0;
	for (i = 0; i * bm < rows; i++) {
		int64_t end = (i + 1) * bm < rows ? (i + 1) * bm : rows;
		int64_t need = c + (end - 1) / g + 1;             /* keys the tile's last row sees */
		int64_t load = (need + bn - 1) / bn * bn;          /* whole K/V tiles ... */
		int64_t busy;
		if (load > kv)
			load = kv;                                 /* ... but none past the sequence */
		busy = cdiv(cdiv(load, bn), k->per);
		*pairs += (lmp_i128)(end - i * bm) * load;
		*keys += load;
		*qrows += (lmp_i128)(end - i * bm) * (busy < k->splits ? busy : k->splits);
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
		lmp_num own[LMP_NKINDS], *v = rows ? &rows[i * stride] : own, f, fc, qb, kvb, t, pb, w;
		lmp_i128 pairs = 0, keys = 0, qrows = 0, tokens = 0, p, k, qr;
		struct call c;
		int yes;
		if (!r->attn)
			continue;
		if (plain(m, r, rt, &yes, e))
			return -1;
		if (!yes)
			continue;
		plan(r, rt, &c);
		for (int q = 0; q < rt->nqueries; q++) {
			const lmp_query *qu = &rt->queries[q];
			if ((qu->seq_len * c.g + c.bm - 1) / c.bm > (int64_t)1 << 24)
				return lmp_fail(e, LMP_EXIT_USAGE, "--attention flash: %s: more than 2^24 query tiles "
					"in a sequence (seq_len %lld)", r->path, (long long)qu->seq_len);
			walk(qu->seq_len, qu->cache_len, &c, &p, &k, &qr);
			pairs += p * qu->count;
			keys += k * qu->count;
			qrows += qr * qu->count;
			tokens += (lmp_i128)qu->seq_len * qu->count;
		}
		if (!rows)
			for (int kd = 0; kd < LMP_NKINDS; kd++)
				if (lmp_poly_eval(m->prog, r->poly[kd], &own[kd], e))
					return lmp_prefix(e, "%s: ", r->path);
		/* per packed row (a head and a token) 2 (hd + vd) FLOPs a score for
		 * QK^T and PV and 6 for scale and softmax; Q read by each split
		 * that walks keys at the activation width, K and V per tile at
		 * the cache's, for each of nh / g CTAs of a tile.  Split-K:
		 * every split writes its partial output and log-sum-exp in
		 * float32 (vd + 1 values a head and token) and the combine kernel
		 * reads them back, 2 vd + 6 FLOPs a split to rescale and add */
		if (c.splits < 2)
			fc = pb = lmp_num_int(0);
		else if (mul(lmp_num_int(tokens), r->nh * c.splits, 2 * r->vd + 6, 1, &fc) ||
			 mul(lmp_num_int(tokens), r->nh * c.splits, (r->vd + 1) * 4, 1, &pb))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: --attention flash: overflow", r->path);
		if (mul(lmp_num_int(pairs), r->nh / c.g, 2 * (r->hd + r->vd) + 6, 1, &f) || lmp_num_add(&f, &fc, &f) ||
		    mul(lmp_num_int(qrows), r->nh / c.g * r->hd, rt->a_bit, 8, &qb) ||
		    mul(lmp_num_int(keys), r->nh / c.g * (r->hd + r->vd), rt->kv_bit, 8, &kvb) ||
		    lmp_num_add(&qb, &kvb, &t) || lmp_num_add(&t, &pb, &t) || lmp_num_add(&v[LMP_K_WRITES], &pb, &w))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: --attention flash: overflow", r->path);
		if (set(&v[LMP_K_FLOPS], &f, &r->count, &tot[LMP_K_FLOPS], e) ||
		    set(&v[LMP_K_READS], &t, &r->count, &tot[LMP_K_READS], e) ||
		    set(&v[LMP_K_WRITES], &w, &r->count, &tot[LMP_K_WRITES], e))
			return -1;
	}
	return 0;
}
