/* quant.c: a checkpoint's own weight format, read from its config's
 * quantization_config, and the bytes each layer takes stored in it.
 *
 * What a format covers follows transformers: only nn.Linear layers are
 * replaced by a quantized linear (quantizers/ and integrations/ of
 * transformers: replace_with_awq_linear, replace_with_bnb_linear,
 * replace_with_fp8_linear), and a layer named by modules_to_not_convert
 * (vLLM: ignored_layers; compressed-tensors: ignore; bitsandbytes:
 * llm_int8_skip_modules) keeps its own precision, as lm_head always does.
 * A name matches as in transformers' quantizers/quantizers_utils.py
 * should_convert_module: the pattern as a regular expression anchored at
 * the start of the layer's name, or the name ending with it.
 *
 * The stored bytes of a K-input, N-output linear (bias: N 16-bit values):
 *   awq   (vLLM quantization/awq.py AWQLinearMethod.create_weights):
 *         qweight int32 [K, N/8] at `bits`, qzeros int32 [K/g, N/8] at
 *         `bits` (when zero_point), scales fp16 [K/g, N]
 *   gptq  (vLLM quantization/gptq.py GPTQLinearMethod.create_weights):
 *         qweight [K/8, N] and qzeros [K/g, N/8] at `bits`, scales fp16
 *         [K/g, N], g_idx int32 [K] (stored whatever desc_act says)
 *   bitsandbytes 8-bit (bitsandbytes Int8Params): int8 [N, K] and SCB,
 *         one fp32 scale per output row
 *   bitsandbytes 4-bit (bitsandbytes functional.quantize_4bit, QuantState):
 *         4-bit elements packed in uint8, absmax per block of 64 elements
 *         (fp32; with double quantization uint8, plus nested_absmax fp32
 *         per 256 blocks and nested_quant_map 256 x fp32), quant_map
 *         16 x fp32; the packed quant-state JSON header is not counted
 *   fp8   (vLLM quantization/fp8.py Fp8LinearMethod.create_weights):
 *         fp8 [N, K]; with weight_block_size [bn, bk] weight_scale_inv
 *         fp32 [ceil(N/bn), ceil(K/bk)], else one fp32 weight_scale (and
 *         one input_scale with activation_scheme "static")
 *   mxfp4 (transformers integrations/mxfp4.py, OCP MX spec): 4-bit
 *         elements, one E8M0 (8-bit) scale per 32 along the input
 * A group count is ceil(K / g); group_size -1 is one group of K. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char *const methods[] = {"", "awq", "gptq", "bitsandbytes", "bitsandbytes", "fp8", "mxfp4"};

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* An integer member, or dflt when absent or null. */
static int
int_of(const cJSON *qc, const char *k, int64_t dflt, int64_t min, int64_t max, int64_t *out, lmp_err *e)
{
	const cJSON *v = get(qc, k);
	lmp_num x;

	*out = dflt;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (lmp_json_num(v, &x) || !lmp_num_is_int(&x) || x.n < min || x.n > max)
		return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.%s is not an integer in [%lld, %lld]", k,
			(long long)min, (long long)max);
	*out = (int64_t)x.n;
	return 0;
}

static int
bool_of(const cJSON *qc, const char *k, int dflt)
{
	const cJSON *v = get(qc, k);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int
skip_list(const cJSON *qc, const char *k, lmp_quant *q, lmp_err *e)
{
	const cJSON *l = get(qc, k), *s;

	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l))
		return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.%s is not a list of module names", k);
	cJSON_ArrayForEach(s, l) {
		regex_t re;
		char *pat;
		if (!cJSON_IsString(s))
			return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.%s is not a list of module names", k);
		pat = lmp_xmalloc(strlen(s->valuestring) + 8);
		sprintf(pat, "^(%s)", s->valuestring);
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) {
			free(pat);
			return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.%s: '%s' is not a pattern", k,
				s->valuestring);
		}
		regfree(&re);
		free(pat);
		q->skip = lmp_xrealloc(q->skip, sizeof *q->skip * (size_t)(q->nskip + 1));
		q->skip[q->nskip++] = lmp_xstrdup(s->valuestring);
	}
	return 0;
}

static int
read_method(const cJSON *qc, const char *m, lmp_quant *q, lmp_err *e)
{
	int64_t x;

	if (!strcmp(m, "awq") || !strcmp(m, "gptq")) {
		q->method = m[0] == 'a' ? LMP_Q_AWQ : LMP_Q_GPTQ;
		if (int_of(qc, "bits", 4, 2, 8, &x, e) || (q->bits = (int)x, 0) ||
		    int_of(qc, "group_size", 128, -1, (int64_t)1 << 30, &x, e))
			return -1;
		if (x == 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.group_size is 0");
		q->group = x;
		q->zero_point = q->method == LMP_Q_GPTQ || bool_of(qc, "zero_point", 1);
		return 0;
	}
	if (!strcmp(m, "bitsandbytes")) {
		int b8 = bool_of(qc, "load_in_8bit", 0), b4 = bool_of(qc, "load_in_4bit", 0);
		const cJSON *t = get(qc, "bnb_4bit_quant_type");
		if (b8 == b4)
			return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config (bitsandbytes) needs one of load_in_8bit "
				"and load_in_4bit");
		q->method = b8 ? LMP_Q_BNB8 : LMP_Q_BNB4;
		q->bits = b8 ? 8 : 4;
		q->group = 64;
		q->double_quant = b4 && bool_of(qc, "bnb_4bit_use_double_quant", 0);
		q->subtype = b4 ? (cJSON_IsString(t) ? t->valuestring : "fp4") : "int8";
		if (b4 && strcmp(q->subtype, "nf4") && strcmp(q->subtype, "fp4"))
			return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.bnb_4bit_quant_type '%s' is not nf4 or fp4",
				q->subtype);
		return skip_list(qc, "llm_int8_skip_modules", q, e);
	}
	if (!strcmp(m, "fp8")) {
		const cJSON *b = get(qc, "weight_block_size"), *s = get(qc, "activation_scheme");
		q->method = LMP_Q_FP8;
		q->bits = 8;
		if (b && !cJSON_IsNull(b)) {
			lmp_num n, k;
			if (cJSON_GetArraySize(b) != 2 || lmp_json_num(cJSON_GetArrayItem(b, 0), &n) ||
			    lmp_json_num(cJSON_GetArrayItem(b, 1), &k) || !lmp_num_is_int(&n) || !lmp_num_is_int(&k) ||
			    n.n < 1 || k.n < 1 || n.n > 1 << 20 || k.n > 1 << 20)
				return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.weight_block_size is not two sizes");
			q->block_n = (int64_t)n.n;
			q->block_k = (int64_t)k.n;
		}
		q->static_act = cJSON_IsString(s) && !strcmp(s->valuestring, "static");
		return skip_list(qc, "ignored_layers", q, e);
	}
	if (!strcmp(m, "mxfp4")) {
		q->method = LMP_Q_MXFP4;
		q->bits = 4;
		q->group = 32;
		return 0;
	}
	return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config.quant_method '%s' is not supported "
		"(awq, gptq, bitsandbytes, fp8, mxfp4): give --w-bit", m);
}

int
lmp_quant_read(const cJSON *config, lmp_quant *q, lmp_err *e)
{
	const cJSON *qc = get(config, "quantization_config"), *m;

	memset(q, 0, sizeof *q);
	if (!qc || cJSON_IsNull(qc))
		return 0;
	m = get(qc, "quant_method");
	if (!cJSON_IsObject(qc) || !cJSON_IsString(m))
		return lmp_fail(e, LMP_EXIT_INPUT, "quantization_config has no quant_method");
	if (read_method(qc, m->valuestring, q, e) || skip_list(qc, "modules_to_not_convert", q, e) ||
	    skip_list(qc, "ignore", q, e)) {
		lmp_quant_free(q);
		return -1;
	}
	return 0;
}

void
lmp_quant_free(lmp_quant *q)
{
	for (int i = 0; i < q->nskip; i++)
		free(q->skip[i]);
	free(q->skip);
	memset(q, 0, sizeof *q);
}

/* The row's name as a checkpoint writes it: lmp's qualifiers of a
 * repeated layer ("layers(moe)") dropped; "*" stands for any index. */
static char *
module_name(const char *path)
{
	char *s = lmp_xstrdup(path), *w = s;

	for (const char *p = path; *p; p++) {
		if (*p == '(') {
			while (*p && *p != ')')
				p++;
			if (!*p)
				break;
			continue;
		}
		*w++ = *p;
	}
	*w = '\0';
	return s;
}

static int
skipped(const lmp_quant *q, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < q->nskip; i++) {
		const char *k = q->skip[i];
		size_t kl = strlen(k);
		char *pat = lmp_xmalloc(kl + 8);
		regex_t re;
		int hit = kl <= n && !strcmp(name + n - kl, k);
		sprintf(pat, "^(%s)", k);
		if (!hit && !regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) {
			hit = !regexec(&re, name, 0, NULL, 0);
			regfree(&re);
		}
		free(pat);
		if (hit)
			return 1;
	}
	return 0;
}

static const char *
covers(const lmp_quant *q, const lmp_row *r)
{
	char *name;
	int skip;

	if (!q->method)
		return "no quantization_config";
	if (!r->linear)
		return "not a Linear";
	if (r->tied || !strcmp(r->path, "lm_head"))
		return "lm_head";
	name = module_name(r->path);
	skip = skipped(q, name);
	free(name);
	return skip ? "modules_to_not_convert" : NULL;
}

/* Asked of every row at every point (a point's weight bytes and kernels'
 * precision), and a pattern of modules_to_not_convert is a regular
 * expression to compile: the answer is kept in the row. */
const char *
lmp_quant_covers(const lmp_quant *q, const lmp_row *r)
{
	lmp_row *w = (lmp_row *)r; /* the cache only: rows are not const objects */

	if (r->covers.q != q || r->covers.path != r->path || r->covers.tied != r->tied || r->covers.linear != r->linear) {
		w->covers.answer = covers(q, r);
		w->covers.q = q;
		w->covers.path = r->path;
		w->covers.tied = r->tied;
		w->covers.linear = r->linear;
	}
	return r->covers.answer;
}

static lmp_num
ceil_div(lmp_i128 a, lmp_i128 b)
{
	return lmp_num_int((a + b - 1) / b);
}

/* x x y x bits / 8, added to sum. */
static int
add(lmp_num *sum, lmp_num x, lmp_num y, lmp_i128 bits)
{
	lmp_num t, b = lmp_num_frac(bits, 8);

	return lmp_num_mul(&x, &y, &t) || lmp_num_mul(&t, &b, &t) || lmp_num_add(sum, &t, sum);
}

int
lmp_quant_bytes(const lmp_quant *q, const lmp_row *r, lmp_num *out)
{
	lmp_i128 K = r->in.n, N = r->out.n, g = q->group < 0 ? K : q->group;
	lmp_num k = r->in, n = r->out, one = lmp_num_int(1), groups = ceil_div(K, g > 0 ? g : 1);
	int rc = 0;

	*out = lmp_num_int(0);
	rc |= add(out, n, r->bias, 16);
	switch (q->method) {
	case LMP_Q_AWQ:
	case LMP_Q_GPTQ:
		rc |= add(out, k, n, q->bits) || add(out, groups, n, 16);
		if (q->zero_point)
			rc |= add(out, groups, n, q->bits);
		if (q->method == LMP_Q_GPTQ)
			rc |= add(out, k, one, 32);
		break;
	case LMP_Q_BNB8:
		rc |= add(out, k, n, 8) || add(out, n, one, 32);
		break;
	case LMP_Q_BNB4: {
		lmp_i128 el = K * N, blocks = (el + 63) / 64;
		rc |= add(out, lmp_num_int((el + 1) / 2), one, 8) || add(out, lmp_num_int(16), one, 32);
		if (q->double_quant)
			rc |= add(out, lmp_num_int(blocks), one, 8) || add(out, ceil_div(blocks, 256), one, 32) ||
			      add(out, lmp_num_int(256), one, 32);
		else
			rc |= add(out, lmp_num_int(blocks), one, 32);
		break;
	}
	case LMP_Q_FP8:
		rc |= add(out, k, n, 8);
		if (q->block_n)
			rc |= add(out, ceil_div(N, q->block_n), ceil_div(K, q->block_k), 32);
		else
			rc |= add(out, lmp_num_int(q->static_act ? 2 : 1), one, 32);
		break;
	case LMP_Q_MXFP4:
		rc |= add(out, k, n, 4) || add(out, ceil_div(K, 32), n, 8);
		break;
	}
	return rc ? -1 : 0;
}

int
lmp_quant_compute(const lmp_quant *q)
{
	return q->method == LMP_Q_FP8 ? LMP_QC_FP8 : q->method == LMP_Q_BNB8 ? LMP_QC_INT8 : LMP_QC_ACTIVATION;
}

static const char *const computes[] = {"activation", "fp8", "int8"};

const char *
lmp_quant_compute_name(int c)
{
	return c >= 0 && c < 3 ? computes[c] : "activation";
}

void
lmp_quant_json(const lmp_quant *q, lmp_buf *b)
{
	lmp_buf_printf(b, "\"method\":\"%s\"", methods[q->method]);
	if (q->subtype)
		lmp_buf_printf(b, ",\"type\":\"%s\"", q->subtype);
	lmp_buf_printf(b, ",\"bits\":%d", q->bits);
	switch (q->method) {
	case LMP_Q_AWQ:
	case LMP_Q_GPTQ:
		lmp_buf_printf(b, ",\"group_size\":%lld,\"scale_bits\":16,\"zero_bits\":%d", (long long)q->group,
			q->zero_point ? q->bits : 0);
		if (q->method == LMP_Q_GPTQ)
			lmp_buf_puts(b, ",\"g_idx_bits\":32");
		break;
	case LMP_Q_BNB8:
		lmp_buf_puts(b, ",\"group_size\":\"row\",\"scale_bits\":32");
		break;
	case LMP_Q_BNB4:
		lmp_buf_printf(b, ",\"group_size\":64,\"scale_bits\":%d,\"double_quant\":%s", q->double_quant ? 8 : 32,
			q->double_quant ? "true" : "false");
		break;
	case LMP_Q_FP8:
		if (q->block_n)
			lmp_buf_printf(b, ",\"block\":[%lld,%lld]", (long long)q->block_n, (long long)q->block_k);
		else
			lmp_buf_puts(b, ",\"block\":\"tensor\"");
		lmp_buf_puts(b, ",\"scale_bits\":32");
		break;
	case LMP_Q_MXFP4:
		lmp_buf_puts(b, ",\"group_size\":32,\"scale_bits\":8");
		break;
	}
}
