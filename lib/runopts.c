/* runopts.c: the runtime options, one row each, and the values they take.
 *
 * A runtime option is applied by one tool (lmp-eval), recorded in the
 * "runtime" object of the documents it writes and read from there by the
 * tools after it.  lmp-populate may fix some: a step's shape is bound into
 * the formulas (LMP_FIX_BOUND), a width only recorded as the document's own
 * (LMP_FIX_DEFAULT), so that for a width the precedence is one chain: the
 * command line, the value fixed at populate, the checkpoint's own format,
 * the default. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char *const phases[] = {"prefill", "decode", NULL};
static const char *const onoff[] = {"off", "on", NULL};
static const char *const rules[] = {"total", "static", "free", NULL};
static const char *const kv_layouts[] = {"heads", "latent", NULL};
static const char *const attentions[] = {"eager", "fused", "flash", "paged", NULL};
static const char *const flash_archs[] = {"sm80", "sm8x", "sm90", NULL};

/* Beyond these bounds a value is a typo, not a workload. */
const lmp_runopt lmp_runopts[LMP_NRUNOPTS] = {
	[LMP_RO_BATCH_SIZE] = {"batch-size", "batch_size", "N", LMP_RO_INTS, 1, 1, (int64_t)1 << 30, 1, -1, NULL,
		LMP_RO_STEP, LMP_FIX_BOUND, 0, NULL, "lmp-eval", "Sequences in the step, 1 to 2^30. Default 1."},
	[LMP_RO_SEQ_LEN] = {"seq-len", "seq_len", "N", LMP_RO_INTS, 1, 1, (int64_t)1 << 40, 2048, -1, NULL,
		LMP_RO_STEP, LMP_FIX_BOUND, 0, NULL, "lmp-eval", "New tokens per sequence, 1 to 2^40. Default 2048."},
	[LMP_RO_CACHE_LEN] = {"cache-len", "cache_len", "N", LMP_RO_INTS, 1, 0, (int64_t)1 << 40, 0, -1, NULL,
		LMP_RO_STEP, LMP_FIX_BOUND, 0, NULL, "lmp-eval", "Tokens already cached per sequence, 0 to 2^40. Default 0."},
	[LMP_RO_PROMPT_LEN] = {"prompt-len", "prompt_len", "P", LMP_RO_INTS, 1, 1, (int64_t)1 << 40, 0, -1, NULL,
		LMP_RO_STEP, LMP_FIX_NO, 0, NULL, "lmp-eval", "A request's prompt, 1 to 2^40 tokens (with --gen-len)."},
	[LMP_RO_GEN_LEN] = {"gen-len", "gen_len", "G", LMP_RO_INTS, 1, 1, (int64_t)1 << 24, 0, -1, NULL,
		LMP_RO_STEP, LMP_FIX_NO, 0, NULL, "lmp-eval", "A request's generated tokens, 1 to 2^24 (with --prompt-len)."},
	[LMP_RO_W_BIT] = {"w-bit", "w_bit", "B", LMP_RO_INTS, 1, 1, 64, 16, -1, NULL, LMP_RO_SETTING,
		LMP_FIX_DEFAULT, offsetof(lmp_runtime, w_bit), lmp_checkpoint_w_bit, "lmp-eval",
		"Bits per stored weight, 1 to 64. Default: fixed at populate, else the checkpoint's format, else 16."},
	[LMP_RO_A_BIT] = {"a-bit", "a_bit", "B", LMP_RO_INTS, 1, 1, 64, 16, -1, NULL, LMP_RO_SETTING,
		LMP_FIX_DEFAULT, offsetof(lmp_runtime, a_bit), NULL, "lmp-eval",
		"Bits per activation element, 1 to 64. Default: fixed at populate, else 16."},
	[LMP_RO_KV_BIT] = {"kv-bit", "kv_bit", "B", LMP_RO_INTS, 1, 1, 64, 0, LMP_RO_A_BIT, NULL, LMP_RO_SETTING,
		LMP_FIX_DEFAULT, offsetof(lmp_runtime, kv_bit), NULL, "lmp-eval",
		"Bits per KV-cache element, 1 to 64. Default: fixed at populate, else the activation bits."},
	/* the parallel layout (parallel.c, lmp-eval(1) PARALLELISM) */
	[LMP_RO_TP] = {"tp", "tp", "N", LMP_RO_INTS, 1, 1, 4096, 1, -1, NULL, LMP_RO_LAYOUT, LMP_FIX_NO,
		offsetof(lmp_runtime, tp), NULL, "lmp-eval", "Tensor-parallel degree, 1 to 4096. Default 1."},
	[LMP_RO_PP] = {"pp", "pp", "N", LMP_RO_INTS, 1, 1, 4096, 1, -1, NULL, LMP_RO_LAYOUT, LMP_FIX_NO,
		offsetof(lmp_runtime, pp), NULL, "lmp-eval", "Pipeline stages, 1 to 4096. Default 1."},
	[LMP_RO_EP] = {"ep", "ep", "N", LMP_RO_INTS, 1, 1, 65536, 1, -1, NULL, LMP_RO_LAYOUT, LMP_FIX_NO,
		offsetof(lmp_runtime, ep), NULL, "lmp-eval", "Expert-parallel degree: 1, or a multiple of tp dividing tp x dp. Default 1."},
	[LMP_RO_DP] = {"dp", "dp", "N", LMP_RO_INTS, 1, 1, 65536, 1, -1, NULL, LMP_RO_LAYOUT, LMP_FIX_NO,
		offsetof(lmp_runtime, dp), NULL, "lmp-eval", "Data-parallel replicas, 1 to 65536. Default 1."},
	[LMP_RO_PHASE] = {"phase", "phase", "prefill|decode", LMP_RO_CHOICES, 0, 1, 2, 0, -1, phases,
		LMP_RO_STEP, LMP_FIX_NO, 0, NULL, "lmp-eval", "With a request, one representative step of that phase."},
	[LMP_RO_QUERIES] = {"queries", "queries", "SEQ:CACHE[xCOUNT]", LMP_RO_QUERYLIST, 1, 0, 0, 0, -1, NULL,
		LMP_RO_STEP, LMP_FIX_NO, 0, NULL, "lmp-eval", "One step of different queries: SEQ new tokens over CACHE, COUNT alike."},
	/* The engine knobs (lmp-engine(5)): each default is transformers' own
	 * (no effect); an engine profile sets them. */
	[LMP_RO_KV_BLOCK] = {"kv-block", "kv_block", "N", LMP_RO_INTS, 1, 1, 1 << 20, 1, -1, NULL, LMP_RO_KNOB,
		LMP_FIX_NO, offsetof(lmp_runtime, kv_block), NULL, "lmp-eval",
		"KV-cache block (page) in tokens, 1 to 2^20: each sequence's cache is whole blocks. Default: the engine's."},
	[LMP_RO_MEM_UTIL] = {"gpu-memory-utilization", "gpu_memory_utilization", "F", LMP_RO_FRACS, 1, 1, 10000, 0, -1,
		NULL, LMP_RO_KNOB, LMP_FIX_NO, offsetof(lmp_runtime, mem_util), NULL, "lmp-eval",
		"Fraction of device memory the engine takes, (0, 1] (lmp-roofline's KV capacity). Default: the engine's."},
	[LMP_RO_MEM_RULE] = {"memory-rule", "memory_rule", "total|static|free", LMP_RO_CHOICES, 1, 0, 2, 0, -1, rules,
		LMP_RO_KNOB, LMP_FIX_NO, offsetof(lmp_runtime, mem_rule), NULL, "lmp-eval",
		"What the memory fraction is of (lmp-engine(5)): the device, activations inside (vLLM) or outside (SGLang); or the free memory (TensorRT-LLM)."},
	[LMP_RO_RESERVE] = {"reserve-bytes", "reserve_bytes", "N", LMP_RO_INTS, 1, 0, (int64_t)1 << 50, 0, -1, NULL,
		LMP_RO_KNOB, LMP_FIX_NO, offsetof(lmp_runtime, reserve_bytes), NULL, "lmp-eval",
		"Device memory the engine holds outside its tensors (CUDA context, workspaces), 0 to 2^50. Default: the engine's."},
	[LMP_RO_CHUNK] = {"chunk", "chunk", "N", LMP_RO_INTS, 1, 0, (int64_t)1 << 40, 0, -1, NULL, LMP_RO_KNOB,
		LMP_FIX_NO, offsetof(lmp_runtime, chunk), NULL, "lmp-eval",
		"Batched-token budget of a step (chunked prefill), 0 (none) to 2^40. Default: the engine's."},
	[LMP_RO_FUSION] = {"fusion", "fusion", "off|on", LMP_RO_CHOICES, 1, 0, 1, 0, -1, onoff, LMP_RO_KNOB,
		LMP_FIX_NO, offsetof(lmp_runtime, fusion), NULL, "lmp-eval",
		"Fused residual add + RMSNorm and activation x gate: no intermediate written. Default: the engine's."},
	[LMP_RO_ENGINE] = {"engine", "engine", "NAME|FILE", LMP_RO_NAME, 0, 0, 0, 0, -1, NULL, LMP_RO_STEP, LMP_FIX_NO,
		0, NULL, "lmp-eval", "Engine profile (lmp-engine(5)): its knobs are the defaults. Default: LMP_ENGINE, else vllm."},
	/* engine knobs: the default is what transformers' forward does */
	[LMP_RO_KV_LAYOUT] = {"kv-layout", "kv_layout", "heads|latent", LMP_RO_CHOICES, 1, 1, 2, LMP_KV_HEADS, -1, kv_layouts,
		LMP_RO_SETTING, LMP_FIX_NO, offsetof(lmp_runtime, kv_layout), NULL, "lmp-eval",
		"KV cache of MLA models: per-head K and V, or the latent with absorbed decode. Default heads."},
	[LMP_RO_ATTENTION] = {"attention", "attention", "eager|fused|flash|paged", LMP_RO_CHOICES, 1, 1, 4, LMP_ATTN_FUSED, -1,
		attentions, LMP_RO_SETTING, LMP_FIX_NO, offsetof(lmp_runtime, attention), NULL, "lmp-eval",
		"Attention kernel: eager, fused, FlashAttention's tiles, or its paged varlen call (vLLM). Default fused."},
	[LMP_RO_FLASH_ARCH] = {"flash-arch", "flash_arch", "sm80|sm8x|sm90", LMP_RO_CHOICES, 1, 1, 3, LMP_FA_SM90, -1,
		flash_archs, LMP_RO_SETTING, LMP_FIX_NO, offsetof(lmp_runtime, flash_arch), NULL, "lmp-eval",
		"Whose tiles --attention flash uses: FA2 on sm80 or sm86/89, FA3 on sm90. Default sm90."},
	[LMP_RO_FLASH_SMS] = {"flash-sms", "flash_sms", "N", LMP_RO_INTS, 1, 0, 4096, 0, -1, NULL, LMP_RO_SETTING,
		LMP_FIX_NO, offsetof(lmp_runtime, flash_sms), NULL, "lmp-eval",
		"SMs FlashAttention's split-K heuristic divides by, 1 to 4096; 0: --flash-arch's reference device (132, 108, 84). Default 0."},
};

/* The checkpoint's own weight format (the config's quantization_config,
 * quant.c): the width of its elements (4 for AWQ, 8 for fp8), 0 without
 * one.  The rows it covers then carry their own formats (lmp-eval(1)). */
int64_t
lmp_checkpoint_w_bit(const cJSON *doc, lmp_err *e)
{
	lmp_quant q;
	int64_t bits;

	if (lmp_quant_read(cJSON_GetObjectItemCaseSensitive(doc, "config"), &q, e))
		return -1;
	bits = q.bits;
	lmp_quant_free(&q);
	return bits;
}

int
lmp_runopt_longs(struct option *longs, const char *tool, int base)
{
	int i, n = 0, fixing = !strcmp(tool, "lmp-populate");

	for (i = 0; i < LMP_NRUNOPTS; i++)
		if (fixing ? lmp_runopts[i].fix != LMP_FIX_NO : !strcmp(lmp_runopts[i].tool, tool))
			longs[n++] = (struct option){lmp_runopts[i].name, required_argument, 0, base + i};
	return n;
}

/* "2048:0,1:4096x31": one prefill of 2048 beside 31 decodes at 4096. */
static int
parse_queries(const char *s, lmp_query **out, int *n, lmp_err *e)
{
	char *copy = lmp_xstrdup(s), *tok, *save = NULL, *colon, *x;
	int cap = 0;

	*n = 0;
	*out = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		lmp_query q = {0, 0, 1};
		if (!(colon = strchr(tok, ':')))
			goto bad;
		*colon = '\0';
		if ((x = strchr(colon + 1, 'x')))
			*x = '\0';
		if (lmp_parse_i64(tok, 1, (int64_t)1 << 40, &q.seq_len) ||
		    lmp_parse_i64(colon + 1, 0, (int64_t)1 << 40, &q.cache_len) ||
		    (x && lmp_parse_i64(x + 1, 1, (int64_t)1 << 30, &q.count)))
			goto bad;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = lmp_xrealloc(*out, sizeof **out * (size_t)cap);
		}
		(*out)[(*n)++] = q;
		if (*n > 1 << 15)
			goto bad;
	}
	if (!*n || s[strlen(s) - 1] == ',')
		goto bad;
	free(copy);
	return 0;
bad:
	free(copy);
	free(*out);
	*out = NULL;
	return lmp_fail(e, LMP_EXIT_USAGE, "--queries: '%s' is not a list of SEQ:CACHE[xCOUNT] (seq >= 1, cache >= 0, count >= 1)", s);
}

/* A choice option's word(s): each choice's value is min + its index
 * (--fusion off 0, on 1; --kv-layout heads 1, latent 2: the enums of
 * lmp.h), a comma-separated list where the option sweeps. */
static int
parse_choices(const lmp_runopt *r, const char *arg, int64_t **out, int *n, lmp_err *e)
{
	char *copy = lmp_xstrdup(arg), *tok, *save = NULL;
	int i;

	*n = 0;
	*out = lmp_xmalloc(sizeof **out * (strlen(arg) / 2 + 1));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; r->choices[i] && strcmp(tok, r->choices[i]); i++)
			;
		if (!r->choices[i])
			goto bad;
		(*out)[(*n)++] = r->min + i;
	}
	if (!*n || *arg == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,") || (!r->list && *n > 1))
		goto bad;
	free(copy);
	return 0;
bad:
	free(copy);
	free(*out);
	*out = NULL;
	*n = 0;
	return lmp_fail(e, LMP_EXIT_USAGE, "--%s: '%s' is not %s %s", r->name, arg, r->list ? "a list of" : "one of",
		r->arg);
}

/* The name of a choice list's value, or NULL. */
const char *
lmp_runopt_choice(int opt, int64_t value)
{
	const lmp_runopt *r = &lmp_runopts[opt];

	if (r->type != LMP_RO_CHOICES || value < r->min || value > r->max)
		return NULL;
	return r->choices[value - r->min];
}

int
lmp_runopt_int(int opt, const char *arg, int64_t *out, lmp_err *e)
{
	const lmp_runopt *r = &lmp_runopts[opt];

	if (lmp_parse_i64(arg, r->min, r->max, out))
		return lmp_fail(e, LMP_EXIT_USAGE, "--%s: '%s' is not an integer in [%lld, %lld]", r->name, arg,
			(long long)r->min, (long long)r->max);
	return 0;
}

/* "0.9,1": fractions in (0, 1] to parts per 10^4 (finer is refused). */
static int
parse_fracs(const lmp_runopt *r, const char *s, int64_t **out, int *n, lmp_err *e)
{
	char *copy = lmp_xstrdup(s), *tok, *save = NULL;
	lmp_num x, k = lmp_num_int(10000), one = lmp_num_int(1);

	*n = 0;
	*out = lmp_xmalloc(sizeof **out * (strlen(s) / 2 + 1));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (lmp_num_parse(tok, strlen(tok), &x) || lmp_num_sign(&x) <= 0 || lmp_num_cmp(&x, &one) > 0 ||
		    lmp_num_mul(&x, &k, &x) || !lmp_num_is_int(&x))
			goto bad;
		(*out)[(*n)++] = (int64_t)x.n;
	}
	if (!*n || s[strlen(s) - 1] == ',')
		goto bad;
	free(copy);
	return 0;
bad:
	free(copy);
	free(*out);
	*out = NULL;
	return lmp_fail(e, LMP_EXIT_USAGE, "--%s: '%s' is not a list of fractions in (0, 1] (at most 4 decimals)",
		r->name, s);
}

int
lmp_runopt_parse(lmp_runvals *v, int opt, const char *arg, lmp_err *e)
{
	const lmp_runopt *r = &lmp_runopts[opt];
	char name[64];

	switch (r->type) {
	case LMP_RO_NAME:
		if (!*arg)
			return lmp_fail(e, LMP_EXIT_USAGE, "--%s needs a name", r->name);
		free(v->engine);
		v->engine = lmp_xstrdup(arg);
		break;
	case LMP_RO_FRACS:
		free(v->list[opt]);
		if (parse_fracs(r, arg, &v->list[opt], &v->n[opt], e))
			return -1;
		break;
	case LMP_RO_CHOICES:
		if (!r->list) {
			/* --phase: one choice, not swept */
			int64_t *one;
			int n;
			if (parse_choices(r, arg, &one, &n, e))
				return -1;
			v->phase = (int)one[0];
			free(one);
			break;
		}
		free(v->list[opt]);
		if (parse_choices(r, arg, &v->list[opt], &v->n[opt], e))
			return -1;
		break;
	case LMP_RO_QUERYLIST:
		free(v->queries);
		if (parse_queries(arg, &v->queries, &v->nqueries, e))
			return -1;
		break;
	default:
		snprintf(name, sizeof name, "--%s", r->name);
		free(v->list[opt]);
		if (lmp_parse_list(arg, r->min, r->max, &v->list[opt], &v->n[opt], e, name))
			return -1;
	}
	v->given[opt] = 1;
	return 0;
}

int
lmp_runvals_check(const lmp_runvals *v, int module, lmp_err *e)
{
	const int *g = v->given;
	int gen = g[LMP_RO_PROMPT_LEN] || g[LMP_RO_GEN_LEN], i;

	if (gen && !(g[LMP_RO_PROMPT_LEN] && g[LMP_RO_GEN_LEN]))
		return lmp_fail(e, LMP_EXIT_USAGE, "--prompt-len and --gen-len go together");
	if (gen && (g[LMP_RO_SEQ_LEN] || g[LMP_RO_CACHE_LEN]))
		return lmp_fail(e, LMP_EXIT_USAGE, "a request (--prompt-len, --gen-len) has no --seq-len or --cache-len");
	if (v->phase && !gen)
		return lmp_fail(e, LMP_EXIT_USAGE, "--phase needs --prompt-len and --gen-len");
	if (gen && module)
		return lmp_fail(e, LMP_EXIT_USAGE, "--module evaluates one step: use --seq-len and --cache-len");
	if (module && (g[LMP_RO_TP] || g[LMP_RO_PP] || g[LMP_RO_EP] || g[LMP_RO_DP]))
		return lmp_fail(e, LMP_EXIT_USAGE, "--module evaluates one module on one device: no --tp, --pp, --ep or --dp");
	if (v->queries && (gen || g[LMP_RO_SEQ_LEN] || g[LMP_RO_CACHE_LEN] || g[LMP_RO_BATCH_SIZE]))
		return lmp_fail(e, LMP_EXIT_USAGE,
			"--queries is the whole step: no --batch-size, --seq-len, --cache-len or request");
	if (v->phase == LMP_PHASE_DECODE)
		for (i = 0; i < v->n[LMP_RO_GEN_LEN]; i++)
			if (v->list[LMP_RO_GEN_LEN][i] < 2)
				return lmp_fail(e, LMP_EXIT_USAGE, "--phase decode needs --gen-len of at least 2");
	return 0;
}

static void
take_one(lmp_runvals *out, int i, int64_t x)
{
	out->one[i] = x;
	out->list[i] = &out->one[i];
	out->n[i] = 1;
}

/* The document's "fixed" value of option i, if it has one. */
static int
adopt_fixed(const lmp_runvals *user, const cJSON *fixed, int i, lmp_runvals *out, lmp_err *e)
{
	const lmp_runopt *r = &lmp_runopts[i];
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(fixed, r->json);
	lmp_num x;

	if (!v || r->fix == LMP_FIX_NO)
		return 0;
	if (lmp_json_num(v, &x) || !x.exact || x.d != 1)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"fixed.%s\" is not an integer", r->json);
	if (x.n < r->min || x.n > r->max)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"fixed.%s\" is not in [%lld, %lld]", r->json, (long long)r->min,
			(long long)r->max);
	if (r->fix == LMP_FIX_DEFAULT) {
		/* the document's own value: the command line overrides it */
		if (!user->given[i]) {
			take_one(out, i, (int64_t)x.n);
			out->given[i] = 1;
		}
		return 0;
	}
	/* bound into the formulas: nothing else can be evaluated */
	if (r->role == LMP_RO_STEP && (user->given[LMP_RO_PROMPT_LEN] || user->queries))
		return lmp_fail(e, LMP_EXIT_INPUT, "the document was populated with a fixed %s: "
			"a request or --queries needs a document populated without it", r->json);
	if (user->given[i] && (user->n[i] != 1 || user->list[i][0] != (int64_t)x.n))
		return lmp_fail(e, LMP_EXIT_INPUT, "the document was populated with %s %lld; --%s disagrees", r->json,
			(long long)x.n, r->name);
	take_one(out, i, (int64_t)x.n);
	out->given[i] = 1;
	return 0;
}

int
lmp_runvals_for_doc(const lmp_runvals *user, const cJSON *doc, lmp_runvals *out, lmp_err *e)
{
	const cJSON *fixed = doc ? cJSON_GetObjectItemCaseSensitive(doc, "fixed") : NULL;
	int i;

	*out = *user;
	for (i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		int64_t x = 0;
		if (adopt_fixed(user, fixed, i, out, e))
			return -1;
		if (out->given[i])
			continue;
		if (doc && r->from_model && (x = r->from_model(doc, e)) < 0)
			return -1;
		if (x > r->max)
			return lmp_fail(e, LMP_EXIT_INPUT, "the checkpoint's format gives %s %lld, not in [%lld, %lld]",
				r->json, (long long)x, (long long)r->min, (long long)r->max);
		out->from_model[i] = x > 0;
		take_one(out, i, x ? x : r->dflt);
	}
	return 0;
}

void
lmp_runvals_free(lmp_runvals *v)
{
	for (int i = 0; i < LMP_RO_NLISTS; i++)
		free(v->list[i]);
	free(v->queries);
	free(v->engine);
}

void
lmp_runvals_settings(const lmp_runvals *v, const int64_t *val, lmp_runtime *rt)
{
	int neutral = 1;

	for (int i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		if (r->role == LMP_RO_LAYOUT && v->given[i])
			rt->layout = 1;
		if (r->role == LMP_RO_KNOB) {
			*(int64_t *)((char *)rt + r->offset) = val[i];
			neutral &= val[i] == r->dflt;
		}
		if (r->role != LMP_RO_SETTING && r->role != LMP_RO_LAYOUT)
			continue;
		/* the KV cache is kept at the activation precision unless told */
		*(int *)((char *)rt + r->offset) = (int)(v->given[i] || r->follows < 0 ? val[i] : val[r->follows]);
	}
	rt->w_checkpoint = v->from_model[LMP_RO_W_BIT];
	/* transformers with every knob neutral is the forward documents
	 * described before engines: nothing is added to them */
	if (v->engine && (strcmp(v->engine, "transformers") || !neutral))
		rt->engine = v->engine;
	else
		rt->engine = neutral ? NULL : "transformers"; /* no profile applied: its knobs alone */
}

void
lmp_runopts_list(lmp_buf *b)
{
	static const char *const types[] = {"integer", "queries", "fraction", "choice", "name"};
	static const char *const fixes[] = {"-", "binds", "records"};
	int i;

	lmp_buf_puts(b, "option\ttype\targument\tlist\tdefault\tmin\tmax\ttool\tjson\tpopulate\tdescription\n");
	for (i = 0; i < LMP_NRUNOPTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		lmp_buf_printf(b, "%s\t%s\t%s\t%s\t", r->name, types[r->type], r->arg, r->list ? "yes" : "no");
		if (r->follows >= 0)
			lmp_buf_printf(b, "%s", lmp_runopts[r->follows].name);
		else if (r->type == LMP_RO_CHOICES && r->list)
			lmp_buf_puts(b, lmp_runopt_choice(i, r->dflt));
		else if (r->type == LMP_RO_NAME)
			lmp_buf_puts(b, LMP_ENGINE_DEFAULT);
		else if (r->type == LMP_RO_INTS && r->dflt >= r->min)
			lmp_buf_printf(b, "%lld", (long long)r->dflt);
		else
			lmp_buf_puts(b, "-");
		if (r->type == LMP_RO_INTS)
			lmp_buf_printf(b, "\t%lld\t%lld", (long long)r->min, (long long)r->max);
		else
			lmp_buf_puts(b, "\t-\t-");
		lmp_buf_printf(b, "\t%s\t%s\t%s\t%s\n", r->tool, r->json, fixes[r->fix], r->doc);
	}
}
