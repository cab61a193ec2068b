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

static int
acc(lmp_num *sum, lmp_i128 v, lmp_err *e)
{
	lmp_num x = lmp_num_int(v), r;

	if (lmp_num_add(sum, &x, &r))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime values overflow");
	*sum = r;
	return 0;
}

int
lmp_runtime_compute(lmp_runtime *rt, lmp_err *e)
{
	lmp_num *v = rt->vars;
	int i;

	for (i = 0; i < LMP_NVARS; i++)
		v[i] = lmp_num_int(0);
	for (i = 0; i < rt->nqueries; i++) {
		const lmp_query *q = &rt->queries[i];
		lmp_i128 c = q->count, s = q->seq_len, k = q->cache_len;
		/* Each term is below 2^31 * 2^40 * 2^41, far inside 127 bits. */
		if (acc(&v[LMP_V_BATCH_SIZE], c, e) || acc(&v[LMP_V_TOKENS], c * s, e) ||
		    acc(&v[LMP_V_KV_TOKENS], c * (k + s), e) ||
		    acc(&v[LMP_V_CACHED_TOKENS], c * k, e) ||
		    acc(&v[LMP_V_QK_PAIRS], c * s * (k + s), e))
			return -1;
	}
	/* seq_len and cache_len mean something only when all queries agree. */
	if (rt->nqueries > 0) {
		v[LMP_V_SEQ_LEN] = lmp_num_int(rt->queries[0].seq_len);
		v[LMP_V_CACHE_LEN] = lmp_num_int(rt->queries[0].cache_len);
	}
	v[LMP_V_W_DTYPE_BYTES] = lmp_num_frac(rt->w_bit, 8);
	v[LMP_V_A_DTYPE_BYTES] = lmp_num_frac(rt->a_bit, 8);
	v[LMP_V_KV_DTYPE_BYTES] = lmp_num_frac(rt->kv_bit, 8);
	return 0;
}
