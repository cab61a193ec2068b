/* quantmap.c: a quantized checkpoint's tensors mapped back to the model's
 * parameters (lmp-inspect --check-weights).  A quantized linear stores a
 * packed weight beside auxiliary tensors (scales, zeros, g_idx) under
 * other names; each method's rule says which tensor is packed, the name and
 * shape of the parameter it stands for (as transformers holds it unpacked,
 * so that it compares with an unquantized checkpoint's tensor), and the
 * shapes its auxiliaries must have.  The inventory's entry of a packed
 * tensor gets "logical" {name, shape, method, bytes: the group's stored
 * bytes}; an auxiliary's entry gets "aux_of" and its own "bytes".
 *
 * The layouts, from the code that writes the checkpoints (bits b, group g,
 * pack p = 32 / b, a K-input N-output linear):
 *   awq gemm   AutoAWQ awq/modules/linear/gemm.py WQLinear_GEMM (commit
 *              030fe2a15b959425d278de8121f03ed895e3b10c): qweight int32
 *              [K, N/p], qzeros int32 [K/g, N/p], scales fp16 [K/g, N];
 *              K % g == 0 and N % p == 0 asserted.
 *   awq gemv   AutoAWQ awq/modules/linear/gemv.py WQLinear_GEMV (commit
 *              181b60f75abc672c810d7c42668c9b4a32e86f15): qweight [N, K/p],
 *              qzeros [N, w], scales [N, w * p], w = calculate_zeros_width:
 *              ceil(K/g / p) rounded up to a multiple of 1, 2, 4 for
 *              g >= 128, 64, 32.
 *   gptq       AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py
 *              QuantLinear (commit 179776bd1d97a2e7f84b72318630f43719647a11;
 *              GPTQModel keeps the layout): qweight int32 [K / 32 * b, N],
 *              qzeros int32 [ceil(K/g), N / 32 * b], scales fp16
 *              [ceil(K/g), N], g_idx int32 [K].
 *   fp8        transformers integrations/finegrained_fp8.py FP8Linear
 *              (commit 3c48befbac8c4e11124f3bf1823d1407c6badc47, DeepSeek-V3's
 *              layout): weight fp8 [N, K], weight_scale_inv fp32
 *              [ceil(N/bn), ceil(K/bk)] for weight_block_size [bn, bk];
 *              per tensor or channel (transformers integrations/fbgemm_fp8.py
 *              FbgemmFp8Linear: weight_scale [N, 1]; compressed-tensors
 *              quantization/lifecycle/initialize.py, commit
 *              9ead292f3f13df0b9ab720f3e843eddf975c7455: weight_scale [1],
 *              [N, 1] or blocks, input_scale [1], *_zero_point beside them).
 *   mxfp4      transformers integrations/mxfp4.py (commit
 *              0189b1d09a03a87ec4f59831acb93cc1832d14e7, gpt-oss):
 *              P_blocks uint8 [..., G, 16] (32 fp4 values a block),
 *              P_scales uint8 [..., G] (blocks.shape[:-1]);
 *              convert_moe_packed_tensors unpacks to [..., G * 32] and
 *              swaps dimensions 1 and 2: gate_up_proj_blocks [E, 2I, H/32,
 *              16] is the parameter gate_up_proj [E, H, 2I].
 * qweight is read as awq or gptq as quantization_config.quant_method says
 * (the two differ only in which dimension is packed); fp8 and mxfp4 are
 * recognised by their names and dtypes alone, as other writers
 * (compressed-tensors, fbgemm) use the same names. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAXDIM 8

enum { M_AWQ, M_GPTQ, M_FP8, M_MXFP4, NMETHODS };
enum { NAUX = 5 }; /* auxiliary tensors a method may store */

struct shape {
	int n;
	uint64_t d[MAXDIM];
};

struct ctx {
	int method;          /* the config's: M_AWQ, M_GPTQ or -1 */
	int bits, gemv;
	int64_t group, block_n, block_k;
	cJSON **sorted;      /* the raw tensors by name, for lookups */
	int ntensors;
	cJSON *list;         /* the inventory's tensors */
	uint64_t groups, elements, bytes;
	int used[NMETHODS];
	lmp_err *e;
};

/* One method: its packed tensor's suffix, the logical one, the auxiliaries. */
static const struct rule {
	const char *name, *packed, *logical;
	const char *aux[NAUX];
} rules[] = {
	[M_AWQ] = {"awq", ".qweight", ".weight", {".qzeros", ".scales"}},
	[M_GPTQ] = {"gptq", ".qweight", ".weight", {".qzeros", ".scales", ".g_idx"}},
	[M_FP8] = {"fp8", ".weight", ".weight",
		{".weight_scale_inv", ".weight_scale", ".input_scale", ".weight_zero_point", ".input_zero_point"}},
	[M_MXFP4] = {"mxfp4", "_blocks", "", {"_scales"}},
};

/* Bytes of one element of a safetensors dtype (its README "Format"), 0 if
 * not a whole number of bytes. */
static uint64_t
width(const char *d)
{
	static const struct { const char *name; int bytes; } t[] = {
		{"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4}, {"U32", 4},
		{"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1},
		{"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(d, t[i].name))
			return (uint64_t)t[i].bytes;
	return 0;
}

static const char *
dtype(const cJSON *t)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "dtype");
	return cJSON_IsString(d) ? d->valuestring : "";
}

/* The tensor's shape (checked by safetensors.c: whole sizes). */
static int
shape_of(const cJSON *t, struct shape *s)
{
	const cJSON *x;

	s->n = 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t, "shape")) {
		if (s->n == MAXDIM)
			return -1;
		s->d[s->n++] = (uint64_t)x->valuedouble;
	}
	return 0;
}

static uint64_t
elements(const struct shape *s)
{
	uint64_t n = 1;
	for (int i = 0; i < s->n; i++)
		n *= s->d[i];
	return n;
}

static uint64_t
tensor_bytes(const cJSON *t)
{
	struct shape s;
	return shape_of(t, &s) ? 0 : elements(&s) * width(dtype(t));
}

static void
shape_str(const struct shape *s, char *out, size_t n)
{
	size_t o = 0;

	o += (size_t)snprintf(out, n, "[");
	for (int i = 0; i < s->n && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%llu", i ? ", " : "", (unsigned long long)s->d[i]);
	if (o < n)
		snprintf(out + o, n - o, "]");
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

static const cJSON *
tensor(const struct ctx *c, const char *name)
{
	cJSON key = {0}, *k = &key, **hit;

	key.string = (char *)name;
	hit = bsearch(&k, c->sorted, (size_t)c->ntensors, sizeof *c->sorted, by_name);
	return hit ? *hit : NULL;
}

static int
ends(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix))
		return 0;
	*stem = n - k;
	return 1;
}

/* An auxiliary's shape against the layout's; want->n == 0: any shape. */
static int
expect(const struct ctx *c, const char *base, const char *suffix, const cJSON *t, const struct shape *want,
	const char *method)
{
	struct shape s;
	char a[128], b[128];

	if (!t || !want->n)
		return 0;
	shape_of(t, &s);
	if (s.n == want->n && !memcmp(s.d, want->d, sizeof s.d[0] * (size_t)s.n))
		return 0;
	shape_str(&s, a, sizeof a);
	shape_str(want, b, sizeof b);
	return lmp_fail(c->e, LMP_EXIT_INPUT, "%s%s: shape %s, where %s's layout wants %s", base, suffix, a, method, b);
}

static struct shape
dims2(uint64_t a, uint64_t b)
{
	struct shape s = {2, {a, b}};
	return s;
}

static uint64_t
cdiv(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* AWQ and GPTQ: qweight int32 packs 32 / bits weights a word. */
static int
packed_linear(const struct ctx *c, int m, const char *base, const struct shape *q, const cJSON **aux,
	struct shape *logical)
{
	uint64_t b = (uint64_t)c->bits, K, N, g, groups, w, mult;
	struct shape want[3] = {{0}, {0}, {0}};
	const char *name = m == M_AWQ ? (c->gemv ? "AWQ (gemv)" : "AWQ") : "GPTQ";
	char s[128];

	shape_str(q, s, sizeof s);
	if (q->n != 2)
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight: shape %s is not [rows, columns]", base, s);
	/* the packed dimension: AWQ gemm's columns, gemv's and GPTQ's rows */
	w = m == M_AWQ ? q->d[1] : q->d[0];
	if (w * 32 % b)
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight: shape %s: %llu int32 words of %s do not hold a whole "
			"number of %llu-bit weights", base, s, (unsigned long long)w, name, (unsigned long long)b);
	if (m == M_AWQ && !c->gemv)
		K = q->d[0], N = q->d[1] * 32 / b;
	else if (m == M_AWQ)
		N = q->d[0], K = q->d[1] * 32 / b;
	else
		K = q->d[0] * 32 / b, N = q->d[1];
	g = c->group < 0 ? K : (uint64_t)c->group;
	groups = cdiv(K, g);
	if (m == M_AWQ && K % g)
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight: %llu inputs are not a whole number of groups of %llu "
			"(AWQ asserts it)", base, (unsigned long long)K, (unsigned long long)g);
	if (m == M_AWQ && !c->gemv) {
		want[0] = dims2(groups, q->d[1]);
		want[1] = dims2(groups, N);
	} else if (m == M_AWQ) {
		mult = g >= 128 ? 1 : g == 64 ? 2 : g == 32 ? 4 : 0;
		if (!mult)
			return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight: AWQ's gemv layout has no group size %llu "
				"(32, 64 or 128 and over)", base, (unsigned long long)g);
		w = cdiv(cdiv(groups, 32 / b), mult) * mult;
		want[0] = dims2(N, w);
		want[1] = dims2(N, w * (32 / b));
	} else {
		if (N * b % 32)
			return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight: %llu outputs do not pack into whole int32 "
				"words of %llu-bit zeros", base, (unsigned long long)N, (unsigned long long)b);
		want[0] = dims2(groups, N * b / 32);
		want[1] = dims2(groups, N);
		want[2].n = 1;
		want[2].d[0] = K;
	}
	if (!aux[1])
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s.qweight has no %s.scales beside it", base, base);
	for (int i = 0; i < 3; i++)
		if (expect(c, base, rules[m].aux[i], aux[i], &want[i], name))
			return -1;
	*logical = dims2(N, K);
	return 0;
}

static int
fp8(const struct ctx *c, const char *base, const struct shape *w, const cJSON **aux, struct shape *logical)
{
	struct shape want = {0};

	if (c->block_n && w->n == 2)
		want = dims2(cdiv(w->d[0], (uint64_t)c->block_n), cdiv(w->d[1], (uint64_t)c->block_k));
	if (expect(c, base, ".weight_scale_inv", aux[0], &want, "quantization_config.weight_block_size"))
		return -1;
	*logical = *w;
	return 0;
}

static int
mxfp4(const struct ctx *c, const char *base, const struct shape *b, const cJSON **aux, struct shape *logical)
{
	struct shape want = *b;
	char s[128];

	shape_str(b, s, sizeof s);
	if (b->n < 3 || b->d[b->n - 1] != 16)
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s_blocks: shape %s is not [..., blocks, 16] (32 fp4 values a "
			"block)", base, s);
	want.n--;
	if (expect(c, base, "_scales", aux[0], &want, "MXFP4"))
		return -1;
	*logical = want;
	logical->d[logical->n - 1] *= 32;
	if (logical->n >= 3) {
		uint64_t t = logical->d[1];
		logical->d[1] = logical->d[2];
		logical->d[2] = t;
	}
	return 0;
}

/* Whether an inventory name stands for a tensor name: equal components,
 * or an all-digit component written otherwise (folded: "*"). */
static int
covers(const char *row, const char *name)
{
	while (*row && *name) {
		size_t a = strcspn(row, "."), b = strcspn(name, ".");
		int same = a == b && !strncmp(row, name, a);
		int folded = b && strspn(name, "0123456789") == b && a && !isalpha((unsigned char)row[0]) &&
			row[0] != '_';
		if (!same && !folded)
			return 0;
		row += a + (row[a] == '.');
		name += b + (name[b] == '.');
	}
	return !*row && !*name;
}

/* The inventory entry holding tensor t. */
static cJSON *
entry_of(const struct ctx *c, const cJSON *t)
{
	cJSON *row;
	char fold[1024];

	lmp_st_fold_name(t->string, fold, sizeof fold);
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(row, c->list) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(row, "name");
			if (!cJSON_IsString(n) || strcmp(dtype(row), dtype(t)) ||
			    !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(row, "shape"),
				cJSON_GetObjectItemCaseSensitive(t, "shape"), 1))
				continue;
			if (pass ? covers(n->valuestring, t->string) : !strcmp(n->valuestring, fold))
				return row;
		}
	return NULL;
}

/* The entry's name with suffix `from` (n characters) replaced by `to`. */
static char *
renamed(const char *name, size_t n, const char *to)
{
	size_t k = strlen(name) - n;
	char *s = lmp_xmalloc(k + strlen(to) + 1);

	memcpy(s, name, k);
	strcpy(s + k, to);
	return s;
}

/* Put member k (owned) on the entry, or check it equals what another
 * tensor of the same entry put there. */
static int
annotate(const struct ctx *c, cJSON *row, const char *k, cJSON *v)
{
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(row, k);

	if (!old) {
		cJSON_AddItemToObject(row, k, v);
		return 0;
	}
	if (cJSON_Compare(old, v, 1)) {
		cJSON_Delete(v);
		return 0;
	}
	cJSON_Delete(v);
	return lmp_fail(c->e, LMP_EXIT_INPUT, "checkpoint entry %s: its tensors map to different parameters",
		cJSON_GetObjectItemCaseSensitive(row, "name")->valuestring);
}

static int
record(struct ctx *c, int m, const cJSON *packed, const cJSON **aux, const struct shape *logical)
{
	const struct rule *r = &rules[m];
	cJSON *row = entry_of(c, packed), *lg, *sh;
	const char *rn;
	char *ln;
	uint64_t bytes = tensor_bytes(packed);
	size_t stem;
	int i;

	for (i = 0; i < NAUX; i++)
		if (aux[i])
			bytes += tensor_bytes(aux[i]);
	c->groups++;
	c->elements += elements(logical);
	c->bytes += bytes;
	c->used[m] = 1;
	if (!row)
		return lmp_fail(c->e, LMP_EXIT_INPUT, "%s: not in the checkpoint's inventory", packed->string);
	rn = cJSON_GetObjectItemCaseSensitive(row, "name")->valuestring;
	if (!ends(rn, r->packed, &stem))
		return lmp_fail(c->e, LMP_EXIT_INPUT, "checkpoint entry %s: not named as %s", rn, packed->string);
	lg = cJSON_CreateObject();
	ln = renamed(rn, strlen(r->packed), r->logical);
	cJSON_AddStringToObject(lg, "name", ln);
	free(ln);
	sh = cJSON_AddArrayToObject(lg, "shape");
	for (i = 0; i < logical->n; i++)
		cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)logical->d[i]));
	cJSON_AddStringToObject(lg, "method", r->name);
	cJSON_AddNumberToObject(lg, "bytes", (double)bytes);
	if (annotate(c, row, "logical", lg))
		return -1;
	for (i = 0; i < NAUX; i++) {
		cJSON *ar;
		const char *an;
		char *owner;
		if (!aux[i])
			continue;
		if (!(ar = entry_of(c, aux[i])))
			return lmp_fail(c->e, LMP_EXIT_INPUT, "%s: not in the checkpoint's inventory", aux[i]->string);
		an = cJSON_GetObjectItemCaseSensitive(ar, "name")->valuestring;
		if (!ends(an, r->aux[i], &stem))
			return lmp_fail(c->e, LMP_EXIT_INPUT, "checkpoint entry %s: not named as %s", an, aux[i]->string);
		owner = renamed(an, strlen(r->aux[i]), r->logical);
		if (annotate(c, ar, "aux_of", cJSON_CreateString(owner)) ||
		    annotate(c, ar, "bytes", cJSON_CreateNumber((double)tensor_bytes(aux[i])))) {
			free(owner);
			return -1;
		}
		free(owner);
	}
	return 0;
}

/* Tensor t under each rule that applies to it. */
static int
map_tensor(struct ctx *c, const cJSON *t)
{
	for (int m = 0; m < NMETHODS; m++) {
		const struct rule *r = &rules[m];
		const cJSON *aux[NAUX] = {0};
		struct shape s, logical = {0};
		size_t stem;
		char *base;
		int any = 0, rc;

		if (!ends(t->string, r->packed, &stem))
			continue;
		if ((m == M_AWQ || m == M_GPTQ) && (c->method != m || strcmp(dtype(t), "I32")))
			continue;
		if (m == M_FP8 && strncmp(dtype(t), "F8_E", 4))
			continue;
		if (m == M_MXFP4 && strcmp(dtype(t), "U8"))
			continue;
		base = lmp_xmalloc(stem + 32);
		memcpy(base, t->string, stem);
		for (int i = 0; i < NAUX && r->aux[i]; i++) {
			strcpy(base + stem, r->aux[i]);
			any |= (aux[i] = tensor(c, base)) != NULL;
		}
		base[stem] = '\0';
		/* an fp8 weight without a scale, or blocks without scales, are not this method's */
		if ((m == M_FP8 || m == M_MXFP4) && !any) {
			free(base);
			continue;
		}
		if (shape_of(t, &s)) {
			rc = lmp_fail(c->e, LMP_EXIT_INPUT, "%s: more than %d dimensions", t->string, MAXDIM);
		} else {
			rc = m == M_FP8 ? fp8(c, base, &s, aux, &logical) :
				m == M_MXFP4 ? mxfp4(c, base, &s, aux, &logical) :
				packed_linear(c, m, base, &s, aux, &logical);
			if (!rc)
				rc = record(c, m, t, aux, &logical);
		}
		free(base);
		return rc;
	}
	return 0;
}

/* The config's method where it decides the layout (AWQ, GPTQ) or checks it
 * (fp8 blocks). */
static int
read_config(struct ctx *c, const cJSON *config)
{
	const cJSON *qc = cJSON_GetObjectItemCaseSensitive(config, "quantization_config");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(qc, "quant_method"), *v;
	lmp_quant q;

	c->method = -1;
	if (!cJSON_IsString(m) || (strcmp(m->valuestring, "awq") && strcmp(m->valuestring, "gptq") &&
	    strcmp(m->valuestring, "fp8")))
		return 0;
	if (lmp_quant_read(config, &q, c->e))
		return -1;
	c->bits = q.bits;
	c->group = q.group;
	c->block_n = q.block_n;
	c->block_k = q.block_k;
	lmp_quant_free(&q);
	if (!strcmp(m->valuestring, "fp8"))
		return 0;
	c->method = m->valuestring[0] == 'a' ? M_AWQ : M_GPTQ;
	v = cJSON_GetObjectItemCaseSensitive(qc, c->method == M_AWQ ? "version" : "checkpoint_format");
	if (!cJSON_IsString(v) || !strcmp(v->valuestring, c->method == M_AWQ ? "gemm" : "gptq") ||
	    !strcmp(v->valuestring, "gptq_v2") || !strcmp(v->valuestring, "exllama") || !strcmp(v->valuestring, "ipex"))
		return 0;
	if (c->method == M_AWQ && !strcmp(v->valuestring, "gemv")) {
		c->gemv = 1;
		return 0;
	}
	return lmp_fail(c->e, LMP_EXIT_INPUT, "quantization_config.%s '%s': a storage layout lmp does not map "
		"(AWQ: gemm, gemv; GPTQ: gptq, gptq_v2)", c->method == M_AWQ ? "version" : "checkpoint_format",
		v->valuestring);
}

int
lmp_quantmap(const cJSON *config, const cJSON *tensors, cJSON *inv, lmp_err *e)
{
	struct ctx c = {0};
	const cJSON *t;
	cJSON *sum, *ms;
	int rc = 0;

	c.e = e;
	c.list = cJSON_GetObjectItemCaseSensitive(inv, "tensors");
	if (read_config(&c, config))
		return -1;
	cJSON_ArrayForEach(t, tensors)
		c.ntensors++;
	c.sorted = lmp_xcalloc((size_t)c.ntensors + 1, sizeof *c.sorted);
	c.ntensors = 0;
	cJSON_ArrayForEach(t, tensors)
		c.sorted[c.ntensors++] = (cJSON *)t;
	qsort(c.sorted, (size_t)c.ntensors, sizeof *c.sorted, by_name);
	cJSON_ArrayForEach(t, tensors)
		if ((rc = map_tensor(&c, t)))
			break;
	free(c.sorted);
	if (rc || !c.groups)
		return rc;
	sum = cJSON_AddObjectToObject(inv, "quantized");
	ms = cJSON_AddArrayToObject(sum, "methods");
	for (int m = 0; m < NMETHODS; m++)
		if (c.used[m])
			cJSON_AddItemToArray(ms, cJSON_CreateString(rules[m].name));
	cJSON_AddNumberToObject(sum, "tensors", (double)c.groups);
	cJSON_AddNumberToObject(sum, "elements", (double)c.elements);
	cJSON_AddNumberToObject(sum, "bytes", (double)c.bytes);
	return 0;
}

/* p without its layer-group labels ("layers(moe).*" is "layers.*"), as
 * checkpoint names are written. */
static char *
unlabelled(const char *p)
{
	char *o = lmp_xmalloc(strlen(p) + 1), *w = o;

	while (*p) {
		if (*p == '(' && strchr(p, ')')) {
			p = strchr(p, ')') + 1;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return o;
}

/* Whether the logical shape is the row's weight [out, in]. */
static int
same_linear(const cJSON *shape, const lmp_row *r)
{
	const cJSON *n = cJSON_GetArrayItem(shape, 0), *k = cJSON_GetArrayItem(shape, 1);

	return cJSON_GetArraySize(shape) == 2 && cJSON_IsNumber(n) && cJSON_IsNumber(k) &&
	       (lmp_i128)n->valuedouble == r->out.n && (lmp_i128)k->valuedouble == r->in.n;
}

/* The bytes one instance of a covered row stores without its bias, as the
 * weight format counts them, against the checkpoint's packed weight with
 * its auxiliaries (logical.bytes). */
static int
check_row(const lmp_quant *q, const lmp_row *r, const cJSON *list, lmp_err *e)
{
	const cJSON *t;
	char *name, *path = unlabelled(r->path), a[LMP_NUM_STRMAX];
	lmp_num want, bias = lmp_num_int(r->out.n * r->bias.n * 2), have;
	int rc = 0;

	if (lmp_quant_bytes(q, r, &want) || lmp_num_sub(&want, &bias, &want)) {
		free(path);
		return 0;
	}
	name = lmp_xmalloc(strlen(path) + 8);
	sprintf(name, "%s.weight", path);
	cJSON_ArrayForEach(t, list) {
		const cJSON *lg = cJSON_GetObjectItemCaseSensitive(t, "logical");
		const cJSON *ln = cJSON_GetObjectItemCaseSensitive(lg, "name"), *lb = cJSON_GetObjectItemCaseSensitive(lg, "bytes");
		if (!cJSON_IsString(ln) || strcmp(ln->valuestring, name) || !cJSON_IsNumber(lb) ||
		    !same_linear(cJSON_GetObjectItemCaseSensitive(lg, "shape"), r))
			continue;
		have = lmp_num_int((lmp_i128)lb->valuedouble);
		if (lmp_num_cmp(&have, &want) == 0)
			continue;
		lmp_num_str(&want, a);
		rc = lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: its weight format stores %s bytes an instance "
			"(bias aside), the checkpoint's %s with its scales and zeros %.0f", path, a,
			cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring, lb->valuedouble);
		break;
	}
	free(name);
	free(path);
	return rc;
}

int
lmp_quantmap_check(const lmp_model *m, const cJSON *checkpoint, lmp_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(checkpoint, "tensors");

	if (!m->quant || !cJSON_GetObjectItemCaseSensitive(checkpoint, "quantized"))
		return 0;
	for (int i = 0; i < m->nrows; i++)
		if (m->rows[i].linear && !lmp_quant_covers(m->quant, &m->rows[i]) &&
		    check_row(m->quant, &m->rows[i], list, e))
			return -1;
	return 0;
}
