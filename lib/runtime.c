/* runtime.c: the runtime variables of one evaluation point.
 *
 * A step is a list of queries (seq_len new tokens over cache_len cached
 * ones, count sequences alike).  The aggregates sum over the sequences, so a
 * step that mixes a prefill with decodes is exact: projections see all new
 * tokens at once, attention pairs each query with the keys of its own
 * sequence. */
#include <string.h>

#include "lmp.h"

#define OPT(i) (1u << (i))
/* The options each variable is derived from, as lmp_runtime_compute
 * derives it. */
static const unsigned needs[LMP_NVARS] = {
	[LMP_V_BATCH_SIZE] = OPT(LMP_RO_BATCH_SIZE),
	[LMP_V_SEQ_LEN] = OPT(LMP_RO_SEQ_LEN),
	[LMP_V_CACHE_LEN] = OPT(LMP_RO_CACHE_LEN),
	[LMP_V_TOKENS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_SEQ_LEN),
	[LMP_V_KV_TOKENS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_SEQ_LEN) | OPT(LMP_RO_CACHE_LEN),
	[LMP_V_CACHED_TOKENS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_CACHE_LEN),
	[LMP_V_QK_PAIRS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_SEQ_LEN) | OPT(LMP_RO_CACHE_LEN),
	[LMP_V_W_DTYPE_BYTES] = OPT(LMP_RO_W_BIT),
	[LMP_V_A_DTYPE_BYTES] = OPT(LMP_RO_A_BIT),
	[LMP_V_KV_DTYPE_BYTES] = OPT(LMP_RO_KV_BIT),
	[LMP_V_KV_LATENT] = OPT(LMP_RO_KV_LAYOUT),
	[LMP_V_ABSORBED_TOKENS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_SEQ_LEN) | OPT(LMP_RO_KV_LAYOUT),
	[LMP_V_ABSORBED_KV_TOKENS] = OPT(LMP_RO_BATCH_SIZE) | OPT(LMP_RO_SEQ_LEN) | OPT(LMP_RO_CACHE_LEN) |
		OPT(LMP_RO_KV_LAYOUT),
};

static const char *const names[LMP_NVARS] = {
	"batch_size", "seq_len", "cache_len", "tokens", "kv_tokens",
	"cached_tokens", "qk_pairs", "w_dtype_bytes", "a_dtype_bytes", "kv_dtype_bytes",
	"kv_latent", "absorbed_tokens", "absorbed_kv_tokens",
};

const char *
lmp_var_name(int id)
{
	return names[id];
}

int
lmp_var_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < LMP_NVARS; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return i;
	return -1;
}

/* bits / 8 in lowest terms, whole bytes without a gcd (every point) */
static lmp_num
dtype_bytes(int bits)
{
	return bits % 8 ? lmp_num_frac(bits, 8) : lmp_num_int(bits / 8);
}

int
lmp_runtime_compute(lmp_runtime *rt, lmp_err *e)
{
	lmp_i128 b = 0, tok = 0, kv = 0, cached = 0, pairs = 0, ab = 0, abkv = 0;
	lmp_num *v = rt->vars;
	int i, latent = rt->kv_layout == LMP_KV_LATENT;

	/* Queries are bounded by the option parsers (count <= 2^30, lengths
	 * <= 2^40), so each term is below 2^111 and sums of up to 2^15 of
	 * them stay inside 127 bits. */
	if (rt->nqueries > 1 << 15)
		return lmp_fail(e, LMP_EXIT_INPUT, "too many queries in one step");
	for (i = 0; i < rt->nqueries; i++) {
		const lmp_query *q = &rt->queries[i];
		lmp_i128 c = q->count, s = q->seq_len, k = q->cache_len;
		b += c;
		tok += c * s;
		kv += c * (k + s);
		cached += c * k;
		pairs += c * s * (k + s);
		/* vLLM's MLA runs a query of one new token as a decode, on the
		 * latent with the absorbed projections (lmp-eval(1), KV layout) */
		if (latent && s == 1) {
			ab += c;
			abkv += c * (k + 1);
		}
	}
	v[LMP_V_BATCH_SIZE] = lmp_num_int(b);
	v[LMP_V_TOKENS] = lmp_num_int(tok);
	v[LMP_V_KV_TOKENS] = lmp_num_int(kv);
	v[LMP_V_CACHED_TOKENS] = lmp_num_int(cached);
	v[LMP_V_QK_PAIRS] = lmp_num_int(pairs);
	v[LMP_V_KV_LATENT] = lmp_num_int(latent);
	v[LMP_V_ABSORBED_TOKENS] = lmp_num_int(ab);
	v[LMP_V_ABSORBED_KV_TOKENS] = lmp_num_int(abkv);
	v[LMP_V_SEQ_LEN] = v[LMP_V_CACHE_LEN] = lmp_num_int(0);
	/* seq_len and cache_len mean something only when all queries agree. */
	if (rt->nqueries > 0) {
		v[LMP_V_SEQ_LEN] = lmp_num_int(rt->queries[0].seq_len);
		v[LMP_V_CACHE_LEN] = lmp_num_int(rt->queries[0].cache_len);
	}
	v[LMP_V_W_DTYPE_BYTES] = dtype_bytes(rt->w_bit);
	v[LMP_V_A_DTYPE_BYTES] = dtype_bytes(rt->a_bit);
	v[LMP_V_KV_DTYPE_BYTES] = dtype_bytes(rt->kv_bit);
	(void)e;
	return 0;
}

unsigned
lmp_runtime_known(unsigned given)
{
	unsigned known = 0;
	int i;

	for (i = 0; i < LMP_RO_NLISTS; i++)
		if (!(given & OPT(i)) && lmp_runopts[i].follows >= 0 && (given & OPT(lmp_runopts[i].follows)))
			given |= OPT(i);
	for (i = 0; i < LMP_NVARS; i++)
		if ((needs[i] & given) == needs[i])
			known |= OPT(i);
	return known;
}

/* lmp-populate's partial point: the options it binds, placeholders for the
 * rest, through lmp_runtime_compute; only the variables whose inputs are
 * all bound are kept. */
int
lmp_fixed_compute(lmp_fixed *f, lmp_err *e)
{
	unsigned bound = 0;
	int64_t val[LMP_RO_NLISTS];
	lmp_query q;
	lmp_runtime rt = {.nqueries = 1, .queries = &q, .w_bit = 0, .a_bit = 0, .kv_bit = 0};
	int i;

	for (i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		if ((f->given & OPT(i)) && r->fix == LMP_FIX_BOUND)
			bound |= OPT(i);
		val[i] = bound & OPT(i) ? f->value[i] : r->min > 0 ? r->min : 1;
	}
	for (i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		int src = (bound & OPT(i)) || r->follows < 0 ? i : r->follows;
		if (r->role == LMP_RO_SETTING)
			*(int *)((char *)&rt + r->offset) = (int)val[src];
	}
	q = (lmp_query){val[LMP_RO_SEQ_LEN], val[LMP_RO_CACHE_LEN], val[LMP_RO_BATCH_SIZE]};
	if (lmp_runtime_compute(&rt, e))
		return -1;
	f->vars = lmp_runtime_known(bound);
	for (i = 0; i < LMP_NVARS; i++)
		f->var[i] = rt.vars[i];
	return 0;
}
