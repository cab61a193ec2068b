/* runtime.c: the runtime variables of one evaluation point.
 *
 * A step is a list of queries (seq_len new tokens over cache_len cached
 * ones, count sequences alike).  The aggregates sum over the sequences, so a
 * step that mixes a prefill with decodes is exact: projections see all new
 * tokens at once, attention pairs each query with the keys of its own
 * sequence. */
#include <string.h>

#include "lmp.h"

static const char *const names[LMP_NVARS] = {
	"batch_size", "seq_len", "cache_len", "tokens", "kv_tokens",
	"cached_tokens", "qk_pairs", "w_dtype_bytes", "a_dtype_bytes", "kv_dtype_bytes",
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

int
lmp_runtime_compute(lmp_runtime *rt, lmp_err *e)
{
	lmp_i128 b = 0, tok = 0, kv = 0, cached = 0, pairs = 0;
	lmp_num *v = rt->vars;
	int i;

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
	}
	v[LMP_V_BATCH_SIZE] = lmp_num_int(b);
	v[LMP_V_TOKENS] = lmp_num_int(tok);
	v[LMP_V_KV_TOKENS] = lmp_num_int(kv);
	v[LMP_V_CACHED_TOKENS] = lmp_num_int(cached);
	v[LMP_V_QK_PAIRS] = lmp_num_int(pairs);
	v[LMP_V_SEQ_LEN] = v[LMP_V_CACHE_LEN] = lmp_num_int(0);
	/* seq_len and cache_len mean something only when all queries agree. */
	if (rt->nqueries > 0) {
		v[LMP_V_SEQ_LEN] = lmp_num_int(rt->queries[0].seq_len);
		v[LMP_V_CACHE_LEN] = lmp_num_int(rt->queries[0].cache_len);
	}
	v[LMP_V_W_DTYPE_BYTES] = lmp_num_frac(rt->w_bit, 8);
	v[LMP_V_A_DTYPE_BYTES] = lmp_num_frac(rt->a_bit, 8);
	v[LMP_V_KV_DTYPE_BYTES] = lmp_num_frac(rt->kv_bit, 8);
	(void)e;
	return 0;
}
