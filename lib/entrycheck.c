/* entrycheck.c: an agent's answer is untrusted input.  It becomes a database
 * entry only if it has the format of lmp-module-db(5), its names are sane,
 * its sizes bounded, and every formula compiles and evaluates at sample
 * values to finite, non-negative numbers (integral where they count things),
 * with a breakdown that adds up. */
#include <string.h>
#include <time.h>

#include "lmp.h"

#define MAX_TEXT 65536
#define MAX_PARTS 64

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
	if (kind && (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "leaf") && strcmp(kind->valuestring, "functional") &&
		     strcmp(kind->valuestring, "composite"))))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"kind\" must be leaf, functional or composite"), NULL;

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "full_class_name", cls);
	cJSON_AddStringToObject(out, "kind", kind ? kind->valuestring : "leaf");
	cJSON_AddItemToObject(out, "code_location", loc ? cJSON_Duplicate(loc, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(out, "parameters", cJSON_Duplicate(ps, 1));
	cJSON_AddItemToObject(out, "flop_analysis", cJSON_Duplicate(fa, 1));
	cJSON_AddItemToObject(out, "memory_analysis", cJSON_Duplicate(ma, 1));
	cJSON_AddStringToObject(out, "param_count", cJSON_GetObjectItemCaseSensitive(in, "param_count")->valuestring);
	cJSON_AddStringToObject(out, "state", cJSON_GetObjectItemCaseSensitive(in, "state")->valuestring);
	return out;
}

/* Evaluate every quantity at sample values: ints 8, 9, 10..., numbers 2,
 * booleans 1; a step of 2 sequences of 16 new tokens over 8 cached. */
static int
try_entry(cJSON *db_doc, const char *cls, lmp_err *e)
{
	lmp_db *db;
	lmp_entry *en;
	lmp_model *m = NULL;
	const char *names[LMP_MAX_ARGS], *values[LMP_MAX_ARGS];
	char buf[LMP_MAX_ARGS][16];
	lmp_query q = {16, 8, 2};
	lmp_runtime rt = {1, &q, 16, 16, 16, {{0}}, NULL, 0};
	lmp_buf out = {0};
	cJSON *doc = NULL, *v;
	int i, rc = -1;

	if (!(db = lmp_db_from_json(cJSON_Duplicate(db_doc, 1), "answer", e)))
		return -1;
	en = lmp_db_find(db, cls);
	for (i = 0; en && i < en->nparams; i++) {
		const char *t = en->params[i].type;
		snprintf(buf[i], sizeof buf[i], "%d", !strcmp(t, "bool") ? 1 : !strcmp(t, "int") ? 8 + i : 2);
		names[i] = en->params[i].name;
		values[i] = buf[i];
	}
	if (!en || !(m = lmp_model_module(en, db, names, values, en->nparams, e)))
		goto out;
	if (lmp_runtime_compute(&rt, e) || lmp_module_doc(m, &rt, &out, e))
		goto out;
	if (!(doc = lmp_json_parse_one(out.s, out.len, "evaluation", e)))
		goto out;
	for (i = 0; i < LMP_NKINDS; i++) {
		lmp_num x;
		const char *k = lmp_kind_name(i);
		v = i == LMP_K_FLOPS ? cJSON_GetObjectItemCaseSensitive(doc, "flops")
		  : i == LMP_K_PARAM_COUNT ? cJSON_GetObjectItemCaseSensitive(doc, "param_count")
		  : i == LMP_K_STATE ? cJSON_GetObjectItemCaseSensitive(doc, "state_bytes")
		  : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "bytes"), k);
		if (lmp_json_num(v, &x) || lmp_num_sign(&x) < 0) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s is negative at sample values", k);
			goto out;
		}
		if (i == LMP_K_PARAM_COUNT && !lmp_num_is_int(&x)) {
			lmp_fail(e, LMP_EXIT_INPUT, "param_count is not an integer at sample values");
			goto out;
		}
	}
	if (en->nbreak) {
		lmp_num sum = lmp_num_int(0), x, t, f;
		cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "breakdown")) {
			lmp_json_num(p, &x);
			lmp_num_add(&sum, &x, &t);
			sum = t;
		}
		lmp_json_num(cJSON_GetObjectItemCaseSensitive(doc, "flops"), &f);
		if (lmp_num_cmp(&sum, &f) != 0) {
			lmp_fail(e, LMP_EXIT_INPUT, "the breakdown does not add up to the FLOPs formula");
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	lmp_buf_free(&out);
	lmp_model_free(m);
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
