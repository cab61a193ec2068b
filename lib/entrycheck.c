/* entrycheck.c: an agent's answer is untrusted input.  It becomes a database
 * entry only if it has the format of lmp-module-db(5), its names are sane,
 * its sizes bounded, its aliases name nothing else, and every formula
 * compiles and evaluates at realistic points to finite, non-negative numbers
 * (integral where they count things), with a breakdown that adds up, and
 * the tensors it declares hold param_count parameters there (the module
 * document refuses them otherwise). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmp.h"

#define MAX_TEXT 65536
#define MAX_PARTS 64
#define MAX_ALIASES 16

int
lmp_valid_class_name(const char *s)
{
	int dots = 0, start = 1;
	size_t n = 0;

	if (!s)
		return 0;
	for (; *s; s++, n++) {
		int alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
		int digit = *s >= '0' && *s <= '9';
		if (*s == '.') {
			if (start)
				return 0;
			dots++;
			start = 1;
		} else if (alpha || (digit && !start)) {
			start = 0;
		} else {
			return 0;
		}
	}
	return !start && dots >= 1 && n <= 256;
}

void
lmp_today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
text_field(const cJSON *obj, const char *key, int required, lmp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return required ? lmp_fail(e, LMP_EXIT_INPUT, "missing \"%s\"", key) : 0;
	if (!cJSON_IsString(v))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%s\" must be a string", key);
	if (strlen(v->valuestring) > MAX_TEXT)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%s\" is longer than %d bytes", key, MAX_TEXT);
	return 0;
}

/* "gemm": {m, n, k, calls, note?}, templates and a note (lmp-module-db(5));
 * which members, and that they compile, the database's own reading checks
 * (compile_gemm), as for every entry. */
static int
gemm_form(const cJSON *g, lmp_err *e)
{
	const cJSON *p;

	if (!g)
		return 0;
	if (!cJSON_IsObject(g) || cJSON_GetArraySize(g) > 5)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"gemm\" must be an object {m, n, k, calls, note}");
	cJSON_ArrayForEach(p, g)
		if (!cJSON_IsString(p) || strlen(p->valuestring) > MAX_TEXT)
			return lmp_fail(e, LMP_EXIT_INPUT, "gemm.%s must be a template (a string)", p->string);
	return 0;
}

/* Copy the known fields only, checking their shapes. */
static cJSON *
sanitise(const cJSON *in, const char *cls, lmp_err *e)
{
	const cJSON *fa = cJSON_GetObjectItemCaseSensitive(in, "flop_analysis");
	const cJSON *ma = cJSON_GetObjectItemCaseSensitive(in, "memory_analysis");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(in, "parameters");
	const cJSON *bd = cJSON_GetObjectItemCaseSensitive(fa, "breakdown");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "full_class_name");
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(in, "code_location");
	const cJSON *p, *kind = cJSON_GetObjectItemCaseSensitive(in, "kind");
	const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(in, "aliases");
	static const char *const mem[] = {"thinking_process", "weights", "reads", "writes", "intermediates"};
	cJSON *out;
	size_t i;

	if (!cJSON_IsObject(in))
		return lmp_fail(e, LMP_EXIT_INPUT, "the answer is not a JSON object"), NULL;
	if (!cJSON_IsString(name) || strcmp(name->valuestring, cls))
		return lmp_fail(e, LMP_EXIT_INPUT, "full_class_name is not %s", cls), NULL;
	if (!cJSON_IsObject(fa) || !cJSON_IsObject(ma))
		return lmp_fail(e, LMP_EXIT_INPUT, "missing flop_analysis or memory_analysis"), NULL;
	if (text_field(fa, "thinking_process", 1, e) || text_field(fa, "formula", 1, e) ||
	    text_field(in, "param_count", 1, e) || text_field(in, "state", 1, e))
		return NULL;
	for (i = 0; i < sizeof mem / sizeof mem[0]; i++)
		if (text_field(ma, mem[i], 1, e))
			return NULL;
	if (!cJSON_IsArray(ps) || cJSON_GetArraySize(ps) > LMP_MAX_ARGS)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"parameters\" must be an array of at most %d", LMP_MAX_ARGS), NULL;
	cJSON_ArrayForEach(p, ps)
		if (!cJSON_IsObject(p) || text_field(p, "name", 1, e) || text_field(p, "type", 1, e) ||
		    text_field(p, "description", 0, e))
			return lmp_fail(e, LMP_EXIT_INPUT, "a parameter needs a string name and type"), NULL;
	if (bd && (!cJSON_IsObject(bd) || cJSON_GetArraySize(bd) > MAX_PARTS))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"breakdown\" must be an object of at most %d parts", MAX_PARTS), NULL;
	cJSON_ArrayForEach(p, bd)
		if (!cJSON_IsString(p) || strlen(p->valuestring) > MAX_TEXT)
			return lmp_fail(e, LMP_EXIT_INPUT, "breakdown parts must be templates"), NULL;
	if (loc && (!cJSON_IsObject(loc) || cJSON_GetArraySize(loc) > 16))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"code_location\" must be an object"), NULL;
	if (aliases && (!cJSON_IsArray(aliases) || cJSON_GetArraySize(aliases) > MAX_ALIASES))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"aliases\" must be an array of at most %d names", MAX_ALIASES), NULL;
	cJSON_ArrayForEach(p, aliases)
		if (!cJSON_IsString(p) || !lmp_valid_class_name(p->valuestring))
			return lmp_fail(e, LMP_EXIT_INPUT, "an alias must be a dotted Python name"), NULL;
	if (cJSON_GetObjectItemCaseSensitive(in, "tensors") &&
	    lmp_tensors_form(cJSON_GetObjectItemCaseSensitive(in, "tensors"), e))
		return NULL;
	if (cJSON_GetObjectItemCaseSensitive(in, "parallel") &&
	    lmp_parallel_form(cJSON_GetObjectItemCaseSensitive(in, "parallel"), ps, e))
		return NULL;
	if (gemm_form(cJSON_GetObjectItemCaseSensitive(in, "gemm"), e))
		return NULL;
	if (kind && (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "leaf") && strcmp(kind->valuestring, "functional") &&
		     strcmp(kind->valuestring, "composite"))))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"kind\" must be leaf, functional or composite"), NULL;

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "full_class_name", cls);
	cJSON_AddStringToObject(out, "kind", kind ? kind->valuestring : "leaf");
	if (cJSON_GetArraySize(aliases) > 0)
		cJSON_AddItemToObject(out, "aliases", cJSON_Duplicate(aliases, 1));
	cJSON_AddItemToObject(out, "code_location", loc ? cJSON_Duplicate(loc, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(out, "parameters", cJSON_Duplicate(ps, 1));
	cJSON_AddItemToObject(out, "flop_analysis", cJSON_Duplicate(fa, 1));
	cJSON_AddItemToObject(out, "memory_analysis", cJSON_Duplicate(ma, 1));
	cJSON_AddStringToObject(out, "param_count", cJSON_GetObjectItemCaseSensitive(in, "param_count")->valuestring);
	if (cJSON_GetObjectItemCaseSensitive(in, "tensors"))
		cJSON_AddItemToObject(out, "tensors", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "tensors"), 1));
	cJSON_AddStringToObject(out, "state", cJSON_GetObjectItemCaseSensitive(in, "state")->valuestring);
	if (cJSON_GetObjectItemCaseSensitive(in, "parallel"))
		cJSON_AddItemToObject(out, "parallel", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "parallel"), 1));
	if (cJSON_GetObjectItemCaseSensitive(in, "gemm"))
		cJSON_AddItemToObject(out, "gemm", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "gemm"), 1));
	return out;
}

/* Two points a real model and a real step reach: a 7B-like model in a
 * prefill step (2 sequences of 16 new tokens over 8 cached, 16-bit), and a
 * small one in a decode step (4 sequences of 1 over 1000 cached, 4-bit
 * weights, 8-bit cache).  A parameter takes, in order: its default, a
 * size by its name, 64 (32) for another int, 1 (0) for a bool, 2 (1) for
 * a number; one named like a runtime variable takes the step's. */
#define NPOINTS 2
static const struct {
	const char *has; /* a part of the name, lower case */
	int v[NPOINTS];
} sizes[] = {
	/* first match wins: the specific before the general */
	{"rope", {64, 32}}, {"rotary", {64, 32}},
	{"kv_lora_rank", {512, 256}}, {"q_lora_rank", {1536, 768}}, {"rank", {512, 256}},
	{"head_dim", {128, 64}}, {"head_size", {128, 64}}, {"nope", {128, 64}},
	{"kv_heads", {8, 4}}, {"key_value_heads", {8, 4}}, {"heads", {32, 16}},
	{"experts_per_tok", {2, 2}}, {"top_k", {2, 2}}, {"topk", {2, 2}}, {"experts", {8, 4}},
	{"intermediate", {14336, 5632}}, {"ffn", {14336, 5632}}, {"mlp", {14336, 5632}},
	{"vocab", {32000, 32000}}, {"layers", {32, 16}}, {"window", {4096, 1024}},
	{"groups", {8, 4}}, {"kernel", {4, 4}}, {"conv", {4, 4}}, {"state", {16, 16}},
	{"position", {4096, 2048}},
	{"hidden", {4096, 2048}}, {"features", {4096, 2048}}, {"dim", {4096, 2048}}, {"size", {4096, 2048}},
	{"width", {4096, 2048}}, {"embed", {4096, 2048}}, {"channels", {4096, 2048}},
};
static const lmp_query steps[NPOINTS] = {{16, 8, 2}, {1, 1000, 4}};
static const int w_bits[NPOINTS] = {16, 4}, kv_bits[NPOINTS] = {16, 8};

static int
sample_int(const char *name, int point)
{
	char low[128];
	size_t i;

	for (i = 0; name[i] && i < sizeof low - 1; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strstr(low, sizes[i].has))
			return sizes[i].v[point];
	return point ? 32 : 64;
}

/* "name=value, ..." of the values given, and the step, for a refusal. */
static void
describe_point(char *out, size_t n, const char *const *names, const char *const *values, int nv, int point)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < nv && len + 1 < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s=%s", i ? ", " : "", names[i], values[i]);
	if (len + 1 < n)
		snprintf(out + len, n - len, "%s%lld sequences of %lld new tokens over %lld cached, %d-bit weights",
			nv ? "; " : "", (long long)steps[point].count, (long long)steps[point].seq_len,
			(long long)steps[point].cache_len, w_bits[point]);
}

/* The entry's gemm at one point, checked as lmp-eval checks a row of a
 * model (evaldoc.c): the entry as the one layer of a populated document,
 * its parameters bound as try_point binds them, evaluated with its row:
 * each member non-negative, 2 m n k calls no more than the row's FLOPs. */
static int
try_gemm(lmp_db *db, const lmp_entry *en, const lmp_runtime *rt, const char *const *names,
	const char *const *values, int nv, const char *at, lmp_err *e)
{
	cJSON *doc = cJSON_CreateObject(), *layer, *params;
	lmp_model *m = NULL;
	lmp_buf out = {0};
	char var[80];
	int i, j, rc = -1;

	cJSON_AddStringToObject(doc, "lmp", "populated");
	cJSON_AddStringToObject(doc, "version", LMP_VERSION);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(doc, "model"), "id", "entry check");
	layer = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "layers"), layer);
	cJSON_AddStringToObject(layer, "name", "layer");
	cJSON_AddStringToObject(layer, "class", en->name);
	params = cJSON_AddObjectToObject(layer, "params");
	for (i = 0; i < en->nparams; i++) {
		const char *p = en->params[i].name;
		for (j = 0; j < nv && strcmp(names[j], p); j++)
			;
		if (j < nv) {
			cJSON_AddNumberToObject(params, p, strtod(values[j], NULL)); /* small integers: exact */
		} else if (lmp_var_lookup(p, strlen(p)) >= 0) { /* the step's, as lmp-populate binds it */
			snprintf(var, sizeof var, "{%s}", p);
			cJSON_AddStringToObject(params, p, var);
		}
	}
	if (!(m = lmp_model_load(doc, db, e)) || lmp_eval_doc(m, rt, 1, &out, e)) {
		lmp_prefix(e, "gemm at %s: ", at);
		goto out;
	}
	rc = 0;
out:
	lmp_buf_free(&out);
	lmp_model_free(m);
	cJSON_Delete(doc);
	return rc;
}

/* Evaluate every quantity of cls at one point. */
static int
try_point(lmp_db *db, lmp_entry *en, int point, lmp_err *e)
{
	lmp_model *m = NULL;
	const char *names[LMP_MAX_ARGS], *values[LMP_MAX_ARGS];
	char buf[LMP_MAX_ARGS][24], at[600];
	lmp_query q = steps[point];
	lmp_runtime rt = {.nqueries = 1, .queries = &q, .w_bit = w_bits[point], .a_bit = 16, .kv_bit = kv_bits[point]};
	lmp_buf out = {0};
	cJSON *doc = NULL, *v;
	int i, n = 0, rc = -1;

	for (i = 0; i < en->nparams; i++) {
		const lmp_param *p = &en->params[i];
		if (p->dflt || lmp_var_lookup(p->name, strlen(p->name)) >= 0)
			continue; /* its default; the step's */
		if (!strcmp(p->type, "bool"))
			snprintf(buf[n], sizeof buf[n], "%d", point ? 0 : 1);
		else if (!strcmp(p->type, "int"))
			snprintf(buf[n], sizeof buf[n], "%d", sample_int(p->name, point));
		else
			snprintf(buf[n], sizeof buf[n], "%d", point ? 1 : 2);
		names[n] = p->name;
		values[n] = buf[n];
		n++;
	}
	describe_point(at, sizeof at, names, values, n, point);
	if (!(m = lmp_model_module(en, db, names, values, n, e)))
		goto out;
	if (lmp_runtime_compute(&rt, e) || lmp_module_doc(m, &rt, &out, e)) {
		lmp_prefix(e, "at %s: ", at);
		goto out;
	}
	if (!(doc = lmp_json_parse_one(out.s, out.len, "evaluation", e)))
		goto out;
	for (i = 0; i < LMP_NKINDS; i++) {
		lmp_num x;
		char num[LMP_NUM_STRMAX];
		const char *k = lmp_kind_name(i);
		v = i == LMP_K_FLOPS ? cJSON_GetObjectItemCaseSensitive(doc, "flops")
		  : i == LMP_K_PARAM_COUNT ? cJSON_GetObjectItemCaseSensitive(doc, "param_count")
		  : i == LMP_K_STATE ? cJSON_GetObjectItemCaseSensitive(doc, "state_bytes")
		  : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "bytes"), k);
		if (lmp_json_num(v, &x)) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s is not a number at %s", k, at);
			goto out;
		}
		lmp_num_str(&x, num);
		if (lmp_num_sign(&x) < 0) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s is negative (%s) at %s", k, num, at);
			goto out;
		}
		if (i == LMP_K_PARAM_COUNT && !lmp_num_is_int(&x)) {
			lmp_fail(e, LMP_EXIT_INPUT, "param_count is not an integer (%s) at %s", num, at);
			goto out;
		}
	}
	if (en->nbreak) {
		lmp_num sum = lmp_num_int(0), x, t, f;
		lmp_buf parts = {0};
		char num[LMP_NUM_STRMAX], fs[LMP_NUM_STRMAX];
		cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "breakdown")) {
			lmp_json_num(p, &x);
			lmp_num_add(&sum, &x, &t);
			sum = t;
			lmp_num_str(&x, num);
			if (parts.len < 300)
				lmp_buf_printf(&parts, "%s%s %s", parts.len ? " + " : "", p->string, num);
		}
		lmp_json_num(cJSON_GetObjectItemCaseSensitive(doc, "flops"), &f);
		if (lmp_num_cmp(&sum, &f) != 0) {
			lmp_num_str(&sum, num);
			lmp_num_str(&f, fs);
			lmp_fail(e, LMP_EXIT_INPUT, "the breakdown does not add up to the FLOPs formula: %s = %s, not %s, at %s",
				parts.s ? parts.s : "", num, fs, at);
			lmp_buf_free(&parts);
			goto out;
		}
		lmp_buf_free(&parts);
	}
	if (en->gemm[0] && try_gemm(db, en, &rt, names, values, n, at, e))
		goto out;
	rc = 0;
out:
	cJSON_Delete(doc);
	lmp_buf_free(&out);
	lmp_model_free(m);
	return rc;
}

static int
try_entry(cJSON *db_doc, const char *cls, lmp_err *e)
{
	lmp_db *db;
	lmp_entry *en;
	int rc = 0;

	if (!(db = lmp_db_from_json(cJSON_Duplicate(db_doc, 1), "answer", e)))
		return -1;
	if (!(en = lmp_db_find(db, cls)))
		rc = lmp_fail(e, LMP_EXIT_INPUT, "%s is not in the answer", cls);
	for (int point = 0; !rc && point < NPOINTS; point++)
		rc = try_point(db, en, point, e);
	lmp_db_free(db);
	return rc;
}

cJSON *
lmp_entry_check(const cJSON *answer, const char *cls, const cJSON *db_doc, lmp_err *e)
{
	cJSON *entry, *trial, *entries;
	char today[11];

	if (!lmp_valid_class_name(cls)) {
		lmp_fail(e, LMP_EXIT_INPUT, "'%s' is not a dotted Python name", cls);
		return NULL;
	}
	if (!(entry = sanitise(answer, cls, e)))
		return NULL;
	trial = cJSON_Duplicate(db_doc, 1);
	entries = cJSON_GetObjectItemCaseSensitive(trial, "entries");
	cJSON_DeleteItemFromObjectCaseSensitive(entries, cls);
	cJSON_AddItemToObject(entries, cls, cJSON_Duplicate(entry, 1));
	if (try_entry(trial, cls, e)) {
		cJSON_Delete(trial);
		cJSON_Delete(entry);
		return NULL;
	}
	cJSON_Delete(trial);
	lmp_today(today);
	cJSON *val = cJSON_AddObjectToObject(entry, "validation");
	cJSON_AddStringToObject(val, "status", "pending");
	cJSON_AddStringToObject(val, "by", "agent");
	cJSON_AddStringToObject(val, "date", today);
	cJSON_AddStringToObject(val, "notes", "added by lmp-ensure from the analysis agent's answer; awaiting human validation");
	return entry;
}
