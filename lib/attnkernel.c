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
 * A sliding window is a local call: a query tile walks only the K/V
 * tiles its rows' windows reach.  Rows whose keys are not the step's own
 * (MLA's sdpa under the latent layout) keep the fused counts (lmp-eval(1),
 * Attention kernel). */
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

/* The row's sliding window W, found once: the keys one query sees over
 * an endless cache (window_kv(W) is W there), -1 for none.  Llama-4's
 * chunked layers count a window of their chunk (transformers keeps that
 * cache) but attend within chunks, which is no sliding window: none. */
static int
window_of(lmp_model *m, lmp_row *r, const lmp_runtime *rt, lmp_err *e)
{
	lmp_query q = {1, ((int64_t)1 << 40) - 1, 1};
	lmp_runtime pr;
	lmp_num v;
	int rc;

	if (r->window)
		return 0;
	pr = *rt;
	pr.nqueries = 1;
	pr.queries = &q;
	if (lmp_runtime_compute(&pr, e))
		return -1;
	lmp_prog_set_point(m->prog, &pr);
	rc = lmp_poly_eval(m->prog, r->keys[1], &v, e);
	lmp_prog_set_point(m->prog, rt);
	if (rc)
		return lmp_prefix(e, "%s: ", r->path);
	/* -2: keys capped, but not by a window (a chunk) */
	r->window = lmp_num_is_int(&v) && v.n >= 1 && v.n < (lmp_i128)1 << 40 ?
		(!strstr(r->path, "(chunked") ? (int64_t)v.n : -2) : -1;
	return 0;
}

/* The row attends the step's own keys: every query to its sequence's
 * whole context, or to a sliding window of it (*w: the window, else 0),
 * with the counts of the keys it is given (not MLA's sdpa under the
 * latent, which counts nothing). */
/* The row's keys are bound to the variables themselves (most rows, with
 * no window): they are the step's at every point. */
static int
keys_are_vars(lmp_row *r)
{
	if (!r->keyvars)
		r->keyvars = lmp_poly_var(r->keys[0]) == key_vars[0] && lmp_poly_var(r->keys[1]) == key_vars[1] &&
			lmp_poly_var(r->keys[2]) == key_vars[2] ? 1 : -1;
	return r->window < 0 && r->keyvars > 0;
}

static int
plain(lmp_model *m, lmp_row *r, const lmp_runtime *rt, int *yes, int64_t *w, lmp_err *e)
{
	lmp_num v, want[3];
	lmp_i128 kv = 0, pairs = 0;

	*yes = 1;
	*w = 0;
	if (window_of(m, r, rt, e))
		return -1;
	if (keys_are_vars(r))
		return 0;
	want[0] = rt->vars[key_vars[0]];
	want[1] = rt->vars[key_vars[1]];
	want[2] = rt->vars[key_vars[2]];
	if (r->window > 0) {
		/* window_kv and window_pairs (polyeval.c): W - 1 cached keys at most */
		for (int i = 0; i < rt->nqueries; i++) {
			const lmp_query *q = &rt->queries[i];
			int64_t past = q->cache_len < r->window - 1 ? q->cache_len : r->window - 1;
			kv += (lmp_i128)q->count * (past + q->seq_len);
			pairs += (lmp_i128)q->count * q->seq_len * (past + q->seq_len);
		}
		want[1] = lmp_num_int(kv);
		want[2] = lmp_num_int(pairs);
		*w = r->window;
	}
	for (int i = 0; i < 3; i++) {
		if (lmp_poly_eval(m->prog, r->keys[i], &v, e))
			return lmp_prefix(e, "%s: ", r->path);
		if (lmp_num_cmp(&v, &want[i]))
			*yes = 0;
	}
	return 0;
}

/* FA3's kBlockM x kBlockN, 16-bit (hopper/tile_size.h
 * tile_size_fwd_sm90): causal or local (a sliding window) or neither, K/V
 * read through a page table without TMA, one MMA warpgroup (64 rows) for
 * head_dim 128 and at most 64 packed rows (use_one_mma_wg,
 * hopper/heuristics.h). */
static void
tile_sm90(int64_t hd, int64_t vd, int causal, int local, int paged, int64_t rows, int64_t *bm, int64_t *bn)
{
	if (hd <= 64 && (vd == 512 || vd == 256)) {
		*bm = vd == 512 ? 64 : 128, *bn = vd == 512 ? 64 : 112;
	} else if (hd <= 64) {
		*bm = 192, *bn = causal ? 128 : local || paged ? 160 : 192;
	} else if (hd <= 96) {
		*bm = 192, *bn = local || paged ? 128 : 144;
	} else if (hd <= 128) {
		*bm = hd == 128 && rows <= 64 ? 64 : 128, *bn = causal || local || paged ? 128 : 176;
	} else if (hd <= 192) {
		*bm = 128, *bn = paged || local ? 96 : vd <= 128 ? 128 : 112;
	} else {
		*bm = 128, *bn = local ? 64 : 80;
	}
}

/* FA2's standard forward kernel, 16-bit (run_mha_fwd_hdim*): causal, or
 * not (a decode, a sliding window) where sm86/89 differ. */
static void
tile_fa2(int arch, int64_t hd, int64_t vd, int causal, int64_t *bm, int64_t *bn)
{
	int64_t d = hd > vd ? hd : vd; /* FA2 takes one width: the larger */

	if (arch == LMP_FA_SM8X) { /* cc 8.6 / 8.9: is_sm8x */
		*bm = d <= 64 ? 128 : d <= 128 ? (causal ? 64 : 128) : d <= 192 ? 128 : 64;
		*bn = d <= 64 ? 128 : d <= 96 || d > 128 ? 64 : causal ? 64 : 32;
		return;
	}
	*bm = 128;
	*bn = d <= 64 ? 128 : 64;
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

/* a x b x c, saturated at 2^62 (counts of blocks: far past a full machine) */
static int64_t
prod(int64_t a, int64_t b, int64_t c)
{
	lmp_i128 x = (lmp_i128)a * b;

	x = x > (lmp_i128)1 << 62 ? (lmp_i128)1 << 62 : x * c;
	return x > (lmp_i128)1 << 62 ? (int64_t)1 << 62 : (int64_t)x;
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
best_splits_fa2(int64_t work, int64_t sms, int64_t nblk, int64_t maxs)
{
	float eff[128], best = 0.f;
	int64_t s;

	for (s = 1; s <= maxs; s++) {
		float w = (float)(work * s) / (float)sms;
		eff[s - 1] = s > 1 && cdiv(nblk, s) == cdiv(nblk, s - 1) ? 0.f : w / ceilf(w);
		if (eff[s - 1] > best)
			best = eff[s - 1];
	}
	for (s = 1; s <= maxs; s++)
		if ((s == 1 || cdiv(nblk, s) != cdiv(nblk, s - 1)) && eff[s - 1] >= 0.85 * best)
			return s;
	return 1;
}

/* FA3's has no eligibility rule, so a split's efficiency depends on the
 * work and the SMs alone, and the K/V tiles only cap the splits (maxs).  A
 * decode's shape is asked at every K/V tile of its context with the same
 * work: the efficiencies, the best up to each split count and the answer
 * for each cap are kept for the last (work, SMs). */
static int64_t
best_splits_fa3(int64_t work, int64_t sms, int64_t maxs)
{
	static struct {
		int64_t work, sms, n;
		float eff[128], best[128];
		int64_t ans[129];
	} k;

	if (maxs < 1)
		return 1;
	if (!k.n || k.work != work || k.sms != sms) {
		k.work = work, k.sms = sms, k.n = 0;
		memset(k.ans, 0, sizeof k.ans);
	}
	for (; k.n < maxs; k.n++) {
		int64_t s = k.n + 1;
		float w = (float)(work * s) / (float)sms, prev = k.n ? k.best[k.n - 1] : 0.f;
		k.eff[k.n] = w / ceilf(w);
		k.best[k.n] = k.eff[k.n] > prev ? k.eff[k.n] : prev;
	}
	if (!k.ans[maxs]) {
		k.ans[maxs] = 1;
		for (int64_t s = 1; s <= maxs; s++)
			if (k.eff[s - 1] >= 0.85 * k.best[maxs - 1]) {
				k.ans[maxs] = s;
				break;
			}
	}
	return k.ans[maxs];
}

static int64_t
best_splits(int64_t work, int64_t sms, int64_t nblk, int64_t maxs, int fa2)
{
	maxs = min3(maxs, sms, nblk);
	return fa2 ? best_splits_fa2(work, sms, nblk, maxs) : best_splits_fa3(work, sms, maxs);
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
 * re-read, never a causal or local call. */
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
 * rows, the sliding window, and the K/V splits (split-K), per the source
 * with the step as one call of its sequences (the longest sets what
 * max_seqlen_q / max_seqlen_k set). */
struct call {
	int fa3, local;
	int64_t bm, bn, g, wl; /* wl: window_size_left (window - 1), -1: none */
	int64_t splits;        /* of every sequence; FA3 varlen: the bound */
	int64_t per;           /* FA2: K/V tiles a split covers */
	int64_t bps;           /* FA3 varlen: tiles a split, dynamic (0: static) */
};

/* The cached keys a sequence's call is given: under a window the row's
 * own (transformers' sliding cache keeps W - 1); vLLM's paged call gets
 * the sequence's whole block table and skips the tiles before the window. */
static int64_t
given(const lmp_runtime *rt, int64_t window, int64_t cache)
{
	if (window > 0 && rt->attention != LMP_ATTN_PAGED && cache > window - 1)
		return window - 1;
	return cache;
}

static void
plan(const lmp_row *r, const lmp_runtime *rt, int64_t window, struct call *c)
{
	int64_t b = 0, sq = 0, sk = 0, sms = ref_sms(rt), g = r->nh / r->nkv;
	int paged = rt->attention == LMP_ATTN_PAGED;

	memset(c, 0, sizeof *c);
	for (int q = 0; q < rt->nqueries; q++) {
		const lmp_query *qu = &rt->queries[q];
		b += qu->count;
		if (qu->seq_len > sq)
			sq = qu->seq_len;
		if (qu->seq_len + given(rt, window, qu->cache_len) > sk)
			sk = qu->seq_len + given(rt, window, qu->cache_len);
	}
	c->wl = window > 0 ? window - 1 : -1;
	if (rt->flash_arch == LMP_FA_SM90) {
		int causal = 1;
		int64_t bm, bn, mblk, loaded;
		c->fa3 = 1;
		c->g = g; /* PackGQA: always for varlen, paged or split calls */
		if (c->wl >= sk - 1)
			c->wl = -1; /* a window as long as the keys is none */
		/* one query: the mask goes, but for head_dim 65..128 paged */
		if (sq == 1 && c->wl < 0 && (r->hd <= 64 || r->hd > 128 || !paged))
			causal = 0;
		c->local = c->wl >= 0;
		causal = causal && !c->local;
		tile_sm90(r->hd, r->vd, causal, c->local, 0, sq * g, &bm, &bn);
		/* paged K/V by TMA only where pages hold whole tiles and the
		 * rows fill one (get_pagedkv_tma) */
		if (paged && !(rt->kv_block % bn == 0 && sq * g > bm))
			tile_sm90(r->hd, r->vd, causal, c->local, 1, sq * g, &bm, &bn);
		c->bm = bm, c->bn = bn;
		mblk = cdiv(sq * g, bm);
		loaded = c->local && c->wl + 1 + bm < sk ? c->wl + 1 + bm : sk;
		/* varlen (vLLM's paged call) plans for one long sequence */
		c->splits = splits_fa3(prod(paged ? 1 : b, r->nkv, mblk), sms, cdiv(loaded, bn), mblk,
			prod(sk, r->hd + r->vd, rt->kv_bit <= 8 ? 1 : 2), causal || c->local);
		if (paged && c->splits > 1) {
			/* prepare_varlen_num_blocks: the step's tiles x 1.1 x KV
			 * heads over the SMs, each sequence split to that */
			int64_t total = 0, t;
			for (int q = 0; q < rt->nqueries; q++) {
				const lmp_query *qu = &rt->queries[q];
				t = prod(qu->count, cdiv(qu->seq_len * g, bm), cdiv(qu->seq_len + qu->cache_len, bn));
				total = total < ((int64_t)1 << 40) - t ? total + t : (int64_t)1 << 40;
			}
			c->bps = (int64_t)ceilf((float)total * 1.1f * (float)r->nkv / (float)sms);
			if (c->bps < 1)
				c->bps = 1;
		}
	} else {
		int64_t d = r->hd > r->vd ? r->hd : r->vd, bn = d <= 64 ? 256 : d <= 128 ? 128 : 64;
		int swap;
		if (c->wl >= sk)
			c->wl = -1;
		c->local = c->wl >= 0;
		/* a GQA decode swaps a group's heads into seqlen_q
		 * (seqlenq_ngroups_swapped): a CTA per KV head */
		swap = sq == 1 && g > 1 && !c->local;
		c->g = swap ? g : 1;
		/* paged K/V (varlen with a block table) runs the split-KV
		 * kernel, split only where the heads were swapped */
		if (!paged || swap)
			c->splits = splits_fa2(prod(b, swap ? r->nkv : r->nh, cdiv(swap ? g : sq, 64)), sms, cdiv(sk, bn));
		else
			c->splits = 1;
		if (c->splits > 1 || paged) /* the split-KV kernel: 64 x kBlockN */
			c->bm = 64, c->bn = bn;
		else
			tile_fa2(rt->flash_arch, r->hd, r->vd, sq > 1 && !c->local, &c->bm, &c->bn);
		c->per = cdiv(cdiv(sk, c->bn), c->splits);
	}
}

/* The splits of one sequence of ctx keys (FA3 varlen: dynamic). */
static int64_t
seq_splits(const struct call *c, int64_t ctx)
{
	int64_t s;

	if (!c->bps)
		return c->splits;
	s = cdiv(cdiv(ctx, c->bn), c->bps);
	return s < 1 ? 1 : s < c->splits ? s : c->splits;
}

/* Query tile i of a sequence of s new tokens over c cached (rows s x g):
 * its last row (end, exclusive), the K/V tiles it walks [nmin, nmax) and
 * the splits that get some of them (busy). */
static void
tile_span(int64_t s, int64_t c, const struct call *k, int64_t S, int64_t i, int64_t *end, int64_t *nmin,
	int64_t *nmax, int64_t *busy)
{
	int64_t g = k->g, bm = k->bm, bn = k->bn, rows = s * g;

	*end = (i + 1) * bm < rows ? (i + 1) * bm : rows;
	*nmax = cdiv(c + (*end - 1) / g + 1, bn);
	*nmin = 0;
	if (k->local && c + i * bm / g - k->wl > 0)
		*nmin = (c + i * bm / g - k->wl) / bn;
	if (S < 2)
		*busy = 1;
	else if (k->fa3)
		*busy = cdiv(*nmax - *nmin, cdiv(*nmax - *nmin, S));
	else
		*busy = (*nmax - 1) / k->per - *nmin / k->per + 1;
}

/* For one sequence of s new tokens over c cached, in rows of g packed
 * heads, split S ways: the scores computed (rows x keys loaded) and the
 * keys loaded, summed over the query tiles, and the Q rows loaded, once
 * by each split that has K/V tiles to walk.  A tile walks the K/V tiles
 * from its first row's window start (local) to its last row's causal
 * limit (hopper/block.h get_n_block_min_max; FA2's kernels alike); a
 * split takes ceil(tiles / S) of the tile's own (FA3) or of the longest
 * sequence's (FA2). */
static void
walk_tiles(int64_t s, int64_t c, const struct call *k, int64_t S, lmp_i128 *pairs, lmp_i128 *keys, lmp_i128 *qrows)
{
	int64_t bm = k->bm, bn = k->bn, rows = s * k->g, kv = c + s, i;

	*pairs = *keys = *qrows = 0;
	for (i = 0; i * bm < rows; i++) {
		int64_t end, nmin, nmax, busy, load;
		tile_span(s, c, k, S, i, &end, &nmin, &nmax, &busy);
		load = (nmax * bn < kv ? nmax * bn : kv) - nmin * bn; /* none past the sequence */
		*pairs += (lmp_i128)(end - i * bm) * load;
		*keys += load;
		*qrows += (lmp_i128)(end - i * bm) * busy;
	}
}

/* The sum over i < n of floor((a i + b) / m), for n, a, b >= 0 and m > 0,
 * in O(log m) steps.  Whole parts come out first: a = qa m + a' adds
 * qa n (n - 1) / 2 and b = qb m + b' adds qb n.  With a', b' < m the sum
 * counts the lattice points (i, y), 0 < y, y m <= a' i + b', i < n; counted
 * by rows y instead, with the line's top y_max = a' n + b', that is the same
 * kind of sum with n' = y_max div m, b' = y_max mod m and a', m swapped
 * (Graham, Knuth and Patashnik, Concrete Mathematics, 3.5); a' < m, so it
 * ends like Euclid's algorithm. */
lmp_i128
lmp_floor_sum(lmp_i128 n, lmp_i128 m, lmp_i128 a, lmp_i128 b)
{
	lmp_i128 sum = 0, y, t;

	while (n > 0) {
		if (a >= m) {
			sum += (a / m) * (n * (n - 1) / 2);
			a %= m;
		}
		if (b >= m) {
			sum += (b / m) * n;
			b %= m;
		}
		y = a * n + b;
		if (y < m)
			break;
		n = y / m;
		b = y % m;
		t = m, m = a, a = t;
	}
	return sum;
}

/* walk_tiles for a call with no split (S < 2, so one split loads each Q
 * row once): a sum over the query tiles in closed form.  Full tile i
 * (i < rows / bm) ends at row (i + 1) bm, whose query is q_i = floor(((i
 * + 1) bm - 1) / g), so it walks nmax_i = ceil((c + q_i + 1) / bn) K/V
 * tiles, which by floor(floor(x / g) / bn) = floor(x / (g bn)) is
 * floor((bm i + bm - 1 + g (c + bn)) / (g bn)), and loads min(nmax_i bn,
 * kv) keys, kv = c + s.  nmax_i bn reaches kv where q_i >= L - c, L = bn
 * (ceil(kv / bn) - 1): from i* = floor(g (L - c) / bm) on; below it the
 * tiles' sum is a floor sum of a line.  (Where g divides bm, B = bm / g
 * queries a tile, that is floor((B i + c + B + bn - 1) / bn) from i* =
 * floor((L - c) / B).)  The last tile, if partial, is counted as
 * walk_tiles counts it.  Under a window of wl keys left (wl >= 0) tile i
 * starts at nmin_i = floor((c + floor(i bm / g) - wl) / bn) = floor((bm i
 * + g (c - wl)) / (g bn)) where that is past 0, from i0 = ceil(g (wl - c +
 * 1) / bm) on: another floor sum, whose tiles are not loaded. */
static void
walk_closed(int64_t s, int64_t c, int64_t g, int64_t bm, int64_t bn, int64_t wl, lmp_i128 *pairs, lmp_i128 *keys,
	lmp_i128 *qrows)
{
	int64_t rows = s * g, kv = c + s, full = rows / bm, L = bn * (cdiv(kv, bn) - 1), n, i0;
	lmp_i128 skip = 0;

	n = L - c < 0 ? 0 : g * (L - c) / bm;
	if (n > full)
		n = full;
	*keys = bn * lmp_floor_sum(n, (lmp_i128)g * bn, bm, bm - 1 + (lmp_i128)g * (c + bn)) + (lmp_i128)kv * (full - n);
	if (wl >= 0) {
		/* the full tiles' window starts */
		i0 = wl - c + 1 <= 0 ? 0 : cdiv(g * (wl - c + 1), bm);
		if (i0 < full)
			skip = lmp_floor_sum(full - i0, (lmp_i128)g * bn, bm, (lmp_i128)bm * i0 + (lmp_i128)g * (c - wl));
		*keys -= bn * skip;
	}
	*pairs = bm * *keys;
	*qrows = rows;
	if (rows > full * bm) {
		int64_t nmax = cdiv(c + (rows - 1) / g + 1, bn), load = nmax * bn < kv ? nmax * bn : kv, first;
		first = c + full * bm / g - wl;
		if (wl >= 0 && first > 0)
			load -= first / bn * bn;
		*pairs += (lmp_i128)(rows - full * bm) * load;
		*keys += load;
	}
}

void
lmp_attn_walk_sums(int64_t s, int64_t c, int64_t g, int64_t bm, int64_t bn, int64_t wl, int closed, lmp_i128 out[3])
{
	struct call k = {.g = g, .bm = bm, .bn = bn, .wl = wl, .local = wl >= 0, .splits = 1};

	if (closed)
		walk_closed(s, c, g, bm, bn, wl, &out[0], &out[1], &out[2]);
	else
		walk_tiles(s, c, &k, 1, &out[0], &out[1], &out[2]);
}

/* A long walk (a long prompt: thousands of query tiles) is a function of
 * its integers alone, and a sweep meets the same one at every batch size:
 * 2048 long walks are kept, each under all it reads, in one of two places
 * its key hashes to (the one used less lately is replaced). */
#define WALK_MEMO 2048
static struct walked {
	int64_t key[10];
	lmp_i128 pairs, keys, qrows;
	uint64_t used; /* 0: empty */
} walk_memo[WALK_MEMO];
static uint64_t walk_clock;

static void
walk(int64_t s, int64_t c, const struct call *k, int64_t S, lmp_i128 *pairs, lmp_i128 *keys, lmp_i128 *qrows)
{
	int64_t key[10] = {s, c, S, k->g, k->bm, k->bn, k->local, k->wl, k->fa3, k->per};
	uint64_t h = 1469598103934665603ULL;
	struct walked *a, *b, *w;

	if (S < 2) {
		walk_closed(s, c, k->g, k->bm, k->bn, k->local ? k->wl : -1, pairs, keys, qrows);
		return;
	}
	if (s * k->g / k->bm < 64) {
		walk_tiles(s, c, k, S, pairs, keys, qrows);
		return;
	}
	for (int i = 0; i < 10; i++)
		h = (h ^ (uint64_t)key[i]) * 1099511628211ULL;
	a = &walk_memo[(h ^ h >> 29) % WALK_MEMO];
	b = &walk_memo[(h >> 40 ^ h >> 11) % WALK_MEMO];
	if (a->used && !memcmp(a->key, key, sizeof key)) {
		w = a;
	} else if (b->used && !memcmp(b->key, key, sizeof key)) {
		w = b;
	} else {
		w = a->used <= b->used ? a : b;
		walk_tiles(s, c, k, S, &w->pairs, &w->keys, &w->qrows);
		memcpy(w->key, key, sizeof key);
	}
	w->used = ++walk_clock;
	*pairs = w->pairs;
	*keys = w->keys;
	*qrows = w->qrows;
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

/* a x b x c / d, exactly, or an error.  The usual case, 64-bit integers
 * whose product fits and divides evenly, first (INT64_MIN / -1 aside). */
static int
mul(lmp_num a, lmp_i128 b, lmp_i128 c, lmp_i128 d, lmp_num *out)
{
	lmp_num x = lmp_num_int(b), y = lmp_num_int(c), z = lmp_num_int(d);
	int64_t t;

	if (a.exact && a.d == 1 && a.n == (int64_t)a.n && b == (int64_t)b && c == (int64_t)c && d == (int64_t)d &&
	    d != 0 && d != -1 && !__builtin_mul_overflow((int64_t)a.n, (int64_t)b, &t) &&
	    !__builtin_mul_overflow(t, (int64_t)c, &t) && t % (int64_t)d == 0) {
		*out = lmp_num_int(t / (int64_t)d);
		return 0;
	}
	return lmp_num_mul(&a, &x, out) || lmp_num_mul(out, &y, out) || lmp_num_div(out, &z, out);
}

/* The rows of one attention in every layer plan alike (the same bound
 * counts, heads and window): the first of them stands for the rest. */
struct seen {
	const lmp_row *r[32];
	int n;
};

static int
seen_before(struct seen *sn, const lmp_row *r)
{
	for (int j = 0; j < sn->n; j++)
		if (!memcmp(sn->r[j]->keys, r->keys, sizeof r->keys) && sn->r[j]->nh == r->nh &&
		    sn->r[j]->nkv == r->nkv && sn->r[j]->hd == r->hd && sn->r[j]->vd == r->vd &&
		    sn->r[j]->window == r->window)
			return 1;
	if (sn->n < 32)
		sn->r[sn->n++] = r;
	return 0;
}

/* The next row from *i on that FlashAttention's tiles apply to (with sn,
 * not one like a row before), planned for the step: 1 (*i its index), 0
 * none left, -1 error.  The caller moves *i on. */
static int
next_call(lmp_model *m, const lmp_runtime *rt, int *i, struct seen *sn, int64_t *win, struct call *c, lmp_err *e)
{
	for (; *i < m->nrows; (*i)++) {
		lmp_row *r = &m->rows[*i];
		int yes;
		if (!r->attn || (sn && seen_before(sn, r)))
			continue;
		if (plain(m, r, rt, &yes, win, e))
			return -1;
		if (!yes)
			continue;
		plan(r, rt, *win, c);
		return 1;
	}
	return 0;
}

int
lmp_attn_flash(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e)
{
	struct call c;
	int64_t win;
	int i = 0, rc;

	for (; (rc = next_call(m, rt, &i, NULL, &win, &c, e)) > 0; i++) {
		lmp_row *r = &m->rows[i];
		lmp_num own[LMP_NKINDS], *v = rows ? &rows[i * stride] : own, f, fc, qb, kvb, t, pb, w;
		lmp_i128 pairs = 0, keys = 0, qrows = 0, split_rows = 0, p, k, qr;
		for (int q = 0; q < rt->nqueries; q++) {
			const lmp_query *qu = &rt->queries[q];
			if ((qu->seq_len * c.g + c.bm - 1) / c.bm > (int64_t)1 << 24)
				return lmp_fail(e, LMP_EXIT_USAGE, "--attention flash: %s: more than 2^24 query tiles "
					"in a sequence (seq_len %lld)", r->path, (long long)qu->seq_len);
			int64_t S = seq_splits(&c, qu->seq_len + qu->cache_len);
			walk(qu->seq_len, given(rt, win, qu->cache_len), &c, S, &p, &k, &qr);
			pairs += p * qu->count;
			keys += k * qu->count;
			qrows += qr * qu->count;
			if (S > 1) /* (token, split) pairs with partials */
				split_rows += (lmp_i128)qu->seq_len * qu->count * S;
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
		if (mul(lmp_num_int(split_rows), r->nh, 2 * r->vd + 6, 1, &fc) ||
		    mul(lmp_num_int(split_rows), r->nh, (r->vd + 1) * 4, 1, &pb))
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
	return rc < 0 ? -1 : 0;
}

/* The smallest x > c with x = a (mod p), p > 0. */
static int64_t
next_mod(int64_t c, int64_t a, int64_t p)
{
	int64_t r = ((a - c) % p + p) % p;

	return c + (r ? r : p);
}

static void
at_most(int64_t *next, int64_t c, int64_t x)
{
	if (x > c && x < *next)
		*next = x;
}

/* One call's part of a step's shape over a cache of c (see
 * lmp_attn_shape): what it hashes into *h, and the cache lengths past c
 * where it may change, taken into *next.  idx is the call's place among
 * the step's distinct attention rows (from 1, at most 32). */
static void
call_shape(const lmp_runtime *rt, int64_t c, int64_t win, int idx, const struct call *k, uint64_t *h, int64_t *next)
{
	int64_t s = rt->queries[0].seq_len, S = seq_splits(k, s + c), t, end, nmin, nmax, busy, v[16];
	int n = 0;

	v[n++] = idx, v[n++] = k->fa3, v[n++] = k->local, v[n++] = k->bm, v[n++] = k->bn, v[n++] = k->g;
	v[n++] = k->wl, v[n++] = S; /* the splits a sequence gets (not the bound or the
				     * varlen tiles a split, which change every tile) */
	v[n++] = win > 0 && rt->attention != LMP_ATTN_PAGED && c > win - 1; /* given() capped */
	for (int j = 0; j < n; j++)
		*h = (*h ^ (uint64_t)v[j]) * 1099511628211ULL;
	for (t = 0; t * k->bm < s * k->g && t < 64; t++) {
		tile_span(s, given(rt, win, c), k, S, t, &end, &nmin, &nmax, &busy);
		/* not nmin: it only grows, a staircase the pieces follow
		 * (lmp_attn_window_tiles), or where they end */
		*h = (*h ^ (uint64_t)busy) * 1099511628211ULL;
		/* where this tile's last K/V tile, or its first, moves */
		at_most(next, c, next_mod(c, -((end - 1) / k->g), k->bn));
		if (win > 0) {
			at_most(next, c, next_mod(c, win - 1 - t * k->bm / k->g, k->bn));
			at_most(next, c, win - t * k->bm / k->g);
		}
	}
	/* the call's own tile count (splits, varlen blocks a split) */
	at_most(next, c, next_mod(c, 1 - s, k->bn));
	if (win > 0) /* the window coming into force, the cache capped */
		for (int64_t d = -2; d <= 2; d++)
			at_most(next, c, win + d);
}

/* The shape of a one-query step's attention calls (a decode step over a
 * cache of c): every choice the kernels make that is not a count (tiles,
 * packed heads, the window, each call's splits, and per query tile the
 * first K/V tile walked and the splits that get work), hashed into *sig,
 * and the smallest cache length past c, up to limit, at which it changes,
 * or where it cannot look ahead may change (*next; past limit, or
 * INT64_MAX: not before).  Between two such lengths
 * a step's attention counts are linear in the cache; at one, a split count
 * can change and change back (the splits heuristic is not monotone), which
 * is why the closed form of a decode phase (decpieces.c) ends its pieces
 * there.  The shape may change only where a call's K/V tiles do (every
 * tile of a long decode), so where the step's calls are every longer
 * cache's too (steady_calls), it is worked out at each such length from
 * the calls this step planned: the few integers of a call, not the step. */
#define SHAPE_CALLS 64

/* 1 where the step's FlashAttention calls are those of any longer cache:
 * every distinct attention row (all of them seen: fewer than 32) is a call
 * (n of them), windowed or with keys no cap limits.  Not Llama-4's chunked
 * layers (a call until the cache passes the chunk), nor a row whose keys
 * are not the step's (MLA's latent sdpa): there the shape is asked at
 * every length it may change. */
static int
steady_calls(const struct seen *sn, const lmp_row *const *rows, int n)
{
	if (sn->n >= 32 || n != sn->n)
		return 0;
	for (int j = 0; j < n; j++)
		if (rows[j]->window == -2)
			return 0;
	return 1;
}

int
lmp_attn_shape(lmp_model *m, const lmp_runtime *rt, int64_t limit, uint64_t *sig, int64_t *next, lmp_err *e)
{
	uint64_t h = 1469598103934665603ULL, h2;
	const lmp_query *qu = &rt->queries[0];
	int64_t c = qu->cache_len, win, wins[SHAPE_CALLS], nx;
	const lmp_row *rows[SHAPE_CALLS];
	int idx[SHAPE_CALLS];
	struct seen sn = {.n = 0};
	struct call k;
	lmp_runtime at;
	lmp_query q;
	int i = 0, n = 0, rc;

	*next = INT64_MAX;
	*sig = 0;
	if (rt->nqueries != 1 || !(rt->attention == LMP_ATTN_FLASH || rt->attention == LMP_ATTN_PAGED))
		return 0;
	for (; (rc = next_call(m, rt, &i, &sn, &win, &k, e)) > 0; i++) {
		call_shape(rt, c, win, sn.n, &k, &h, next);
		if (n < SHAPE_CALLS)
			rows[n] = &m->rows[i], wins[n] = win, idx[n] = sn.n;
		n++;
	}
	if (rc < 0)
		return -1;
	*sig = h;
	if (n > SHAPE_CALLS || !steady_calls(&sn, rows, n)) /* the caller asks at each length */
		return 0;
	/* on to the first length up to limit with another shape */
	at = *rt;
	q = *qu;
	at.queries = &q;
	for (nx = *next; nx != INT64_MAX && nx <= limit; nx = *next) {
		h2 = 1469598103934665603ULL;
		q.cache_len = nx;
		*next = INT64_MAX;
		for (int j = 0; j < n; j++) {
			plan(rows[j], &at, wins[j], &k);
			call_shape(&at, nx, wins[j], idx[j], &k, &h2, next);
		}
		if (h2 != h) {
			*next = nx;
			break;
		}
	}
	return 0;
}

/* A one-query step's sliding window as a staircase of K/V tiles: where
 * every windowed call of the step walks tiles of the same bn from the same
 * window start (wl = window - 1 keys back), the first tile a decode step
 * walks is floor((cache - wl) / bn) once the window is full.  1 and *bn,
 * *wl where there is exactly one such; 0 where none or several. */
int
lmp_attn_window_tiles(lmp_model *m, const lmp_runtime *rt, int64_t *bn, int64_t *wl, lmp_err *e)
{
	struct seen sn = {.n = 0};
	struct call k;
	int64_t win;
	int n = 0, i = 0, rc;

	if (rt->nqueries != 1 || !(rt->attention == LMP_ATTN_FLASH || rt->attention == LMP_ATTN_PAGED))
		return 0;
	for (; (rc = next_call(m, rt, &i, &sn, &win, &k, e)) > 0; i++) {
		if (!k.local)
			continue;
		if (n && (k.bn != *bn || k.wl != *wl))
			return 0;
		*bn = k.bn, *wl = k.wl;
		n = 1;
	}
	return rc < 0 ? -1 : n;
}

/* lcm(a, b), or 0 past 2^40 (no length repeats that far apart). */
static int64_t
lcm40(int64_t a, int64_t b)
{
	int64_t l;

	if (!a || !b || __builtin_mul_overflow(a / lmp_gcd64(a, b), b, &l) || l > (int64_t)1 << 40)
		return 0;
	return l;
}

int
lmp_attn_sweep_shape(lmp_model *m, const lmp_runtime *rt, uint64_t *sig, int64_t *period, lmp_err *e)
{
	const lmp_query *qu = &rt->queries[0];
	int64_t s = qu->seq_len, c = qu->cache_len, win, P = 1;
	uint64_t h = 1469598103934665603ULL;
	struct seen sn = {.n = 0};
	struct call k;
	int yes, set = 0;

	*sig = 0;
	*period = 1;
	if (rt->nqueries != 1)
		return 0;
	if (rt->attention == LMP_ATTN_FLASH || rt->attention == LMP_ATTN_PAGED) {
		for (int i = 0; i < m->nrows; i++) {
			lmp_row *r = &m->rows[i];
			/* lmp_attn_flash's rows: those alike plan alike */
			if (!r->attn || seen_before(&sn, r))
				continue;
			/* plain evaluates the keys at the point, where they are
			 * not the variables themselves */
			if (!(r->window && keys_are_vars(r)) && !set++)
				lmp_prog_set_point(m->prog, rt);
			if (plain(m, r, rt, &yes, &win, e))
				return -1;
			h = (h ^ (uint64_t)(yes + 2 * i)) * 1099511628211ULL;
			if (!yes)
				continue;
			if (sn.n >= 32)
				return 0;
			plan(r, rt, win, &k);
			/* walk_closed's calls only: no split, tiles below
			 * lmp_attn_flash's limit */
			if (seq_splits(&k, s + c) >= 2 || (s * k.g + k.bm - 1) / k.bm > (int64_t)1 << 24)
				return 0;
			/* the cache the call is given (a window's W - 1 at most,
			 * but for vLLM's block table) */
			int64_t cg = given(rt, win, c), wl = k.local ? k.wl : -1;
			int64_t rows = s * k.g, kv = cg + s, full = rows / k.bm, pi, fs, i0 = 0;
			int64_t L = k.bn * (cdiv(kv, k.bn) - 1), n = L - cg < 0 ? -1 : k.g * (L - cg) / k.bm, nmax;
			/* walk_closed's branches, and a window's: whether the
			 * given cache is capped, where the tiles' window starts
			 * pass 0 (i0, clamped at 0 or not, before the last full
			 * tile or not) and whether the partial tile's does */
			int64_t v[14] = {k.fa3, k.g, k.bm, k.bn, n < 0, n > full, rows > full * k.bm, 0, wl >= 0, cg != c};
			if (rows > full * k.bm) {
				nmax = cdiv(cg + (rows - 1) / k.g + 1, k.bn);
				v[7] = nmax * k.bn < kv;
			}
			if (wl >= 0) {
				i0 = wl - cg + 1 <= 0 ? 0 : cdiv(k.g * (wl - cg + 1), k.bm);
				v[10] = i0 == 0;
				v[11] = i0 < full;
				v[12] = rows > full * k.bm && cg + full * k.bm / k.g - wl > 0;
				v[13] = wl;
			}
			for (int j = 0; j < 14; j++)
				h = (h ^ (uint64_t)v[j]) * 1099511628211ULL;
			/* its tiles, and the floor sum's period: its terms
			 * floor((bm i + b) / (g bn)) repeat, less a whole number,
			 * every pi = g bn / gcd(bm, g bn) tiles, and i* moves by
			 * g / bm a token: the length moves by a whole number of
			 * periods every fs = bm pi / gcd(g, bm pi) tokens (B x bn
			 * / gcd(B, bn) where g divides bm, B = bm / g); a window's
			 * starts are a floor sum of the same line, whose first
			 * tile i0 moves by g / bm a token too */
			pi = k.g * k.bn / lmp_gcd64(k.bm, k.g * k.bn);
			fs = k.bm * pi / lmp_gcd64(k.g, k.bm * pi);
			if ((P % k.bm && !(P = lcm40(P, k.bm))) || (P % k.bn && !(P = lcm40(P, k.bn))) || !(P = lcm40(P, fs)))
				return 0;
		}
	}
	if (rt->kv_block > 1 && P % rt->kv_block && !(P = lcm40(P, rt->kv_block)))
		return 0;
	*sig = h;
	*period = P;
	return 1;
}
