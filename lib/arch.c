/* arch.c: architecture templates, share/lmp/archs/MODEL_TYPE.json, expanded
 * with a model's config into an architecture document (lmp-arch in lmp(7)).
 *
 * Architectures are data: counts and per-layer variation are templates of
 * the formula language over the config's fields (${num_hidden_layers}),
 * and transformers' defaults for absent fields are applied as its
 * configuration classes do. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* Fields every PretrainedConfig may carry that change the model unless
 * they hold their neutral value. */
static const struct {
	const char *key, *neutral;
} neutral_only[] = {
	{"add_cross_attention", "false"}, {"is_decoder", "false"}, {"is_encoder_decoder", "false"},
	{"pruned_heads", "{}"}, {"chunk_size_feed_forward", "0"}, {"cross_attention_hidden_size", "null"},
	{"tie_encoder_decoder", "false"},
};

/* Fields any config may carry that change nothing lmp counts: the shared
 * list share/lmp/config-inert.json (groups of fields, a reason each), read
 * once and kept sorted for lookup. */
static char **inert;
static size_t ninert;
static int inert_loaded; /* 0 not yet, 1 read, -1 failed */

static int
inert_load(lmp_err *e)
{
	char path[4096];
	const cJSON *g, *f, *groups;
	cJSON *doc;
	size_t n = 0;

	if (inert_loaded)
		return inert_loaded > 0 ? 0 : lmp_fail(e, LMP_EXIT_SYSTEM, "the inert config fields could not be read");
	inert_loaded = -1;
	snprintf(path, sizeof path, "%s/config-inert.json", lmp_datadir());
	if (!(doc = lmp_json_load_file(path, e)))
		return -1;
	groups = cJSON_GetObjectItemCaseSensitive(doc, "groups");
	cJSON_ArrayForEach(g, groups) {
		const cJSON *fields = cJSON_GetObjectItemCaseSensitive(g, "fields");
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(g, "reason")) || !cJSON_IsArray(fields))
			goto bad;
		cJSON_ArrayForEach(f, fields)
			if (!cJSON_IsString(f))
				goto bad;
		n += (size_t)cJSON_GetArraySize(fields);
	}
	if (!cJSON_IsArray(groups))
		goto bad;
	inert = lmp_xcalloc(n + 1, sizeof *inert);
	cJSON_ArrayForEach(g, groups)
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "fields"))
			inert[ninert++] = lmp_xstrdup(f->valuestring);
	qsort(inert, ninert, sizeof *inert, lmp_cmp_str);
	cJSON_Delete(doc);
	inert_loaded = 1;
	return 0;
bad:
	cJSON_Delete(doc);
	return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"groups\" must be a list of {\"reason\": text, \"fields\": [names]}", path);
}

int
lmp_config_inert(const char *k)
{
	lmp_err e = {0};

	if (inert_load(&e))
		return 0;
	return bsearch(&k, inert, ninert, sizeof *inert, lmp_cmp_str) != NULL;
}

/* 1 inert when neutral, 0 not such a field, -1 such a field, not neutral */
static int
neutral_field(const cJSON *c)
{
	for (size_t i = 0; i < sizeof neutral_only / sizeof neutral_only[0]; i++) {
		if (strcmp(neutral_only[i].key, c->string))
			continue;
		char *v = lmp_json_print(c, 0);
		int ok = !strcmp(v, neutral_only[i].neutral);
		free(v);
		return ok ? 1 : -1;
	}
	return 0;
}

/* The numeric view of a config: every top-level number or boolean.  A
 * number of 2^127 or more stays in view (big: its text) so that a template
 * using it says which field, and one that does not leaves it alone. */
struct cfgvals {
	int n;
	const char **names;
	lmp_num *vals;
	const char **big;
};

static void
cfg_collect(const cJSON *cfg, struct cfgvals *cv)
{
	const cJSON *c;
	int n = cJSON_GetArraySize(cfg), i = 0, rc;

	cv->names = lmp_xcalloc((size_t)n + 1, sizeof *cv->names);
	cv->vals = lmp_xcalloc((size_t)n + 1, sizeof *cv->vals);
	cv->big = lmp_xcalloc((size_t)n + 1, sizeof *cv->big);
	cJSON_ArrayForEach(c, cfg) {
		lmp_num v;
		if (cJSON_IsBool(c))
			v = lmp_num_int(cJSON_IsTrue(c));
		else if ((rc = lmp_json_num(c, &v)) == LMP_NUM_OVERFLOW)
			cv->big[i] = c->valuestring;
		else if (rc)
			continue;
		cv->names[i] = c->string;
		cv->vals[i++] = v;
	}
	cv->n = i;
}

static void
cfg_free(struct cfgvals *cv)
{
	free(cv->names);
	free(cv->vals);
	free(cv->big);
}

/* A config number a count cannot hold exactly. */
static int
too_big(const char *field, const char *text, lmp_err *e)
{
	return lmp_fail(e, LMP_EXIT_INPUT, "config field %s: %.40s is past the exact range of counts (2^127 or more)",
		field, text);
}

static int
uses_big(const char *text, const struct cfgvals *cv, lmp_err *e)
{
	char ref[300];
	int i;

	for (i = 0; i < cv->n; i++) {
		if (!cv->big[i])
			continue;
		snprintf(ref, sizeof ref, "${%s}", cv->names[i]);
		if (strstr(text, ref))
			return too_big(cv->names[i], cv->big[i], e);
	}
	return 0;
}

/* A template over config fields, evaluated exactly. */
static int
eval_cfg(const char *text, const struct cfgvals *cv, lmp_num *out, lmp_err *e)
{
	int rc;

	if (uses_big(text, cv, e))
		return -1;
	rc = lmp_tmpl_const(text, cv->names, cv->vals, cv->n, "template", out, e);

	if (rc < 0)
		return lmp_prefix(e, "\"%.80s\": ", text);
	if (rc == 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%.80s\" depends on runtime variables here", text);
	return 0;
}

/* Does a template read the runtime point: a {variable}, or a function of
 * the step's queries? */
static int
has_runtime(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p == '{' && (p == text || p[-1] != '$'))
			return 1;
	return strstr(text, "window_kv(") || strstr(text, "window_pairs(") || strstr(text, "window_cache(");
}

/* A template with runtime variables stays a template: its config fields
 * are replaced by their values' text. */
static char *
subst_cfg(const char *text, const cJSON *cfg, lmp_err *e)
{
	lmp_buf b = {0};
	const char *p = text, *end;
	char name[256];

	while (*p) {
		if (p[0] == '$' && p[1] == '{' && (end = strchr(p, '}')) && end - p - 2 < (long)sizeof name) {
			const cJSON *v;
			memcpy(name, p + 2, (size_t)(end - p - 2));
			name[end - p - 2] = '\0';
			v = cJSON_GetObjectItemCaseSensitive(cfg, name);
			if (cJSON_IsBool(v)) {
				lmp_buf_puts(&b, cJSON_IsTrue(v) ? "1" : "0");
			} else if (cJSON_IsNumber(v) && v->valuestring) {
				lmp_num x;
				if (lmp_json_num(v, &x) == LMP_NUM_OVERFLOW) {
					lmp_buf_free(&b);
					too_big(name, v->valuestring, e);
					return NULL;
				}
				lmp_buf_putc(&b, '(');
				lmp_buf_puts(&b, v->valuestring);
				lmp_buf_putc(&b, ')');
			} else {
				lmp_buf_free(&b);
				lmp_fail(e, LMP_EXIT_INPUT, "\"%.80s\": the config has no number %s", text, name);
				return NULL;
			}
			p = end + 1;
			continue;
		}
		lmp_buf_putc(&b, *p++);
	}
	if (!b.s)
		lmp_buf_add(&b, "", 0);
	return b.s;
}

/* An attribute or parameter value of the template: a number, a boolean,
 * or a template string. */
static cJSON *
eval_value(const cJSON *v, const cJSON *cfg, const struct cfgvals *cv, lmp_err *e)
{
	lmp_num x;
	char *s;
	cJSON *out;

	if (cJSON_IsNumber(v) || cJSON_IsBool(v))
		return cJSON_Duplicate(v, 1);
	if (!cJSON_IsString(v))
		return lmp_fail(e, LMP_EXIT_INPUT, "a template value must be a number, a boolean or a string"), NULL;
	if (has_runtime(v->valuestring)) {
		if (!(s = subst_cfg(v->valuestring, cfg, e)))
			return NULL;
		out = cJSON_CreateString(s);
		free(s);
		return out;
	}
	if (eval_cfg(v->valuestring, cv, &x, e))
		return NULL;
	return lmp_json_new_num(&x);
}

/* transformers' defaults for fields the config omits (or sets to null),
 * in the template's order; a default may be a template over fields before it. */
/* A default's (or null_means') value: a template over the fields before
 * it, evaluated now, or a plain value.  NULL on error. */
static cJSON *
fill_value(const cJSON *cfg, const cJSON *d, const char *what, lmp_err *e)
{
	struct cfgvals cv;
	lmp_num x;
	int rc;

	if (!cJSON_IsString(d) || !strstr(d->valuestring, "${"))
		return cJSON_Duplicate(d, 1);
	cfg_collect(cfg, &cv);
	rc = eval_cfg(d->valuestring, &cv, &x, e);
	cfg_free(&cv);
	if (rc) {
		lmp_prefix(e, "%s of %s: ", what, d->string);
		return NULL;
	}
	return lmp_json_new_num(&x);
}

/* Other spellings of a field that transformers' configuration class takes
 * (its attribute_map and backward-compatible keywords: BLOOM's n_head for
 * num_attention_heads, hidden_size for n_embed): the template's "aliases"
 * map each to the name the template uses.  Both present and different is
 * an error; the document's config carries the template's names. */
static int
apply_aliases(cJSON *cfg, const cJSON *tmpl, const char *mt, lmp_err *e)
{
	const cJSON *a, *al = cJSON_GetObjectItemCaseSensitive(tmpl, "aliases");

	cJSON_ArrayForEach(a, al) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, a->string);
		const cJSON *have;
		if (!cJSON_IsString(a))
			return lmp_fail(e, LMP_EXIT_INPUT, "the %s template: aliases.%s must name a field", mt, a->string);
		if (!v)
			continue;
		if ((have = cJSON_GetObjectItemCaseSensitive(cfg, a->valuestring))) {
			char *x = lmp_json_print(v, 0), *y = lmp_json_print(have, 0);
			int same = !strcmp(x, y);
			free(x);
			free(y);
			if (!same)
				return lmp_fail(e, LMP_EXIT_INPUT, "config fields %s and %s name the same setting with "
					"different values", a->string, a->valuestring);
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, a->string);
			continue;
		}
		cJSON_AddItemToObject(cfg, a->valuestring, cJSON_DetachItemFromObjectCaseSensitive(cfg, a->string));
	}
	return 0;
}

static int
apply_defaults(cJSON *cfg, const cJSON *tmpl, cJSON *derived, lmp_err *e)
{
	const cJSON *d, *defaults = cJSON_GetObjectItemCaseSensitive(tmpl, "defaults");
	const cJSON *nulls = cJSON_GetObjectItemCaseSensitive(tmpl, "null_means");
	cJSON *v;

	/* A field set to null may mean something else than absent (Mistral's
	 * sliding_window: null is no window, absent is 4096). */
	cJSON_ArrayForEach(d, nulls) {
		if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cfg, d->string)))
			continue;
		if (!(v = fill_value(cfg, d, "null_means", e)))
			return -1;
		cJSON_ReplaceItemInObjectCaseSensitive(cfg, d->string, v);
		cJSON_AddItemToArray(derived, cJSON_CreateString(d->string));
	}
	cJSON_ArrayForEach(d, defaults) {
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(cfg, d->string);
		if (have && !cJSON_IsNull(have))
			continue;
		if (!(v = fill_value(cfg, d, "default", e)))
			return -1;
		if (have)
			cJSON_ReplaceItemInObjectCaseSensitive(cfg, d->string, v);
		else
			cJSON_AddItemToObject(cfg, d->string, v);
		cJSON_AddItemToArray(derived, cJSON_CreateString(d->string));
	}
	return 0;
}

/* Every field is consumed by the template (a default, an accepted field,
 * a required value), inert everywhere, or unknown: an unknown field is
 * taken out of the config (nothing may bind it) and named in unused, for
 * lmp-inspect to warn of or, under --strict, refuse. */
static int
check_fields(cJSON *cfg, const cJSON *tmpl, const char *mt, cJSON *unused, lmp_err *e)
{
	const cJSON *c, *a, *req = cJSON_GetObjectItemCaseSensitive(tmpl, "require");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(tmpl, "accept");
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(tmpl, "defaults");
	cJSON *next;

	for (cJSON *f = cfg->child; f; f = next) {
		next = f->next;
		int nf = neutral_field(f);
		if (nf < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "config field \"%s\" changes the architecture and is not supported by the %s template",
				f->string, mt);
		int known = nf > 0 || lmp_config_inert(f->string) || cJSON_GetObjectItemCaseSensitive(defs, f->string) ||
			    cJSON_GetObjectItemCaseSensitive(req, f->string) ||
			    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tmpl, "require_each"), f->string);
		cJSON_ArrayForEach(a, acc)
			known |= cJSON_IsString(a) && !strcmp(a->valuestring, f->string);
		if (!known) {
			cJSON_AddItemToArray(unused, cJSON_CreateString(f->string));
			cJSON_Delete(cJSON_DetachItemViaPointer(cfg, f));
		}
	}
	cJSON_ArrayForEach(c, req) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, c->string);
		int ok = 0;
		cJSON_ArrayForEach(a, c) {
			char *x = lmp_json_print(a, 0), *y = v ? lmp_json_print(v, 0) : NULL;
			ok |= y && !strcmp(x, y);
			free(x);
			free(y);
		}
		if (!ok) {
			char *y = v ? lmp_json_print(v, 0) : lmp_xstrdup("absent");
			char *allowed = lmp_json_print(c, 0);
			lmp_fail(e, LMP_EXIT_INPUT, "config field %s = %.80s is not supported by the %s template (supported: %s)",
				c->string, y, mt, allowed);
			free(y);
			free(allowed);
			return -1;
		}
	}
	return 0;
}

/* Lists that transformers derives from scalar fields when a config omits
 * them (Llama-4's no_rope_layers and moe_layers, the layer_types of newer
 * configs).  A template's require_each gives, per such field, its "length"
 * and its "item" at position ${index} as templates over the config, and
 * for lists of strings the number each string stands for ("values"); a
 * list the config carries must follow that pattern, since the tree is
 * built from the scalars.  An absent or null list is the one transformers
 * derives. */
static int
check_lists(const cJSON *cfg, const cJSON *tmpl, const char *mt, lmp_err *e)
{
	const cJSON *spec, *req = cJSON_GetObjectItemCaseSensitive(tmpl, "require_each");
	struct cfgvals cv;
	lmp_num n, want, have, size;
	char want_s[LMP_NUM_STRMAX];
	int rc = 0;

	if (!req)
		return 0;
	/* cfg_collect leaves a spare slot: ${index} goes there */
	cfg_collect(cfg, &cv);
	cv.names[cv.n++] = "index";
	cJSON_ArrayForEach(spec, req) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, spec->string), *x;
		const cJSON *len = cJSON_GetObjectItemCaseSensitive(spec, "length");
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(spec, "item");
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(spec, "values");
		int i = 0;

		if (!cJSON_IsString(len) || !cJSON_IsString(item)) {
			rc = lmp_fail(e, LMP_EXIT_INPUT, "the %s template: require_each.%s needs \"length\" and \"item\" templates",
				mt, spec->string);
			break;
		}
		if (!v || cJSON_IsNull(v))
			continue;
		cv.vals[cv.n - 1] = lmp_num_int(0);
		if ((rc = eval_cfg(len->valuestring, &cv, &n, e))) {
			lmp_prefix(e, "require_each.%s.length: ", spec->string);
			break;
		}
		size = lmp_num_int(cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1);
		if (lmp_num_cmp(&n, &size)) {
			lmp_num_str(&n, want_s);
			if (cJSON_IsArray(v))
				rc = lmp_fail(e, LMP_EXIT_INPUT, "config field %s is not supported by the %s template "
					"(%d entries where its pattern has %s)", spec->string, mt, cJSON_GetArraySize(v), want_s);
			else
				rc = lmp_fail(e, LMP_EXIT_INPUT, "config field %s is not supported by the %s template "
					"(not a list of %s entries)", spec->string, mt, want_s);
			break;
		}
		cJSON_ArrayForEach(x, v) {
			cv.vals[cv.n - 1] = lmp_num_int(i);
			if ((rc = eval_cfg(item->valuestring, &cv, &want, e))) {
				lmp_prefix(e, "require_each.%s.item: ", spec->string);
				break;
			}
			/* strings ("sliding_attention") stand for the numbers "values" gives */
			const cJSON *named = cJSON_IsString(x) ? cJSON_GetObjectItemCaseSensitive(values, x->valuestring) : NULL;
			int bad = 0;
			if (cJSON_IsBool(x))
				have = lmp_num_int(cJSON_IsTrue(x));
			else if (cJSON_IsString(x))
				bad = !cJSON_IsNumber(named) || lmp_json_num(named, &have);
			else
				bad = lmp_json_num(x, &have);
			if (bad || lmp_num_cmp(&have, &want)) {
				char *have_s = lmp_json_print(x, 0);
				lmp_num_str(&want, want_s);
				rc = lmp_fail(e, LMP_EXIT_INPUT, "config field %s is not supported by the %s template "
					"(entry %d is %.40s where the template's pattern has %s)", spec->string, mt, i, have_s, want_s);
				free(have_s);
				break;
			}
			i++;
		}
		if (rc)
			break;
	}
	cfg_free(&cv);
	return rc;
}

/* Values that make no model (config-checks.json, lmp-inspect(1)): a field
 * of the template's defaults must have its default's kind (a boolean, which
 * like Python's truth also takes a number; a number; a string); a count
 * must be a whole number from 1 to 2^31; and the shared and the template's
 * "checks" must hold. */
static cJSON *checks_doc;

static int
checks_load(lmp_err *e)
{
	char path[4096];
	const cJSON *c, *counts, *checks;

	if (checks_doc)
		return 0;
	snprintf(path, sizeof path, "%s/config-checks.json", lmp_datadir());
	if (!(checks_doc = lmp_json_load_file(path, e)))
		return -1;
	counts = cJSON_GetObjectItemCaseSensitive(checks_doc, "counts");
	checks = cJSON_GetObjectItemCaseSensitive(checks_doc, "checks");
	int ok = cJSON_IsArray(counts) && cJSON_IsArray(checks);
	cJSON_ArrayForEach(c, counts)
		ok &= cJSON_IsString(c);
	if (!ok) {
		cJSON_Delete(checks_doc);
		checks_doc = NULL;
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: needs \"counts\", a list of field names, and \"checks\"", path);
	}
	return 0;
}

static int
bad_value(const cJSON *v, const char *field, const char *want, lmp_err *e)
{
	/* a number as the config wrote it (1e40, not 1e+40) */
	char *t = cJSON_IsNumber(v) && v->valuestring ? lmp_xstrdup(v->valuestring) : lmp_json_print(v, 0);

	lmp_fail(e, LMP_EXIT_INPUT, "config field %s = %.40s is not %s", field, t, want);
	free(t);
	return -1;
}

/* One check: {"require": template, "error": text}; skipped when the
 * config lacks a number it names. */
static int
check_one(const cJSON *chk, const cJSON *cfg, const struct cfgvals *cv, const char *whose, lmp_err *e)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(chk, "require");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(chk, "error");
	lmp_buf vals = {0};
	const char *p, *end;
	char name[256];
	lmp_num x;

	if (!cJSON_IsString(req) || !cJSON_IsString(msg))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a check needs a \"require\" template and an \"error\"", whose);
	for (p = req->valuestring; (p = strstr(p, "${")) && (end = strchr(p, '}')); p = end + 1) {
		size_t n = (size_t)(end - p - 2);
		const cJSON *v;
		if (n >= sizeof name)
			break;
		memcpy(name, p + 2, n);
		name[n] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(cfg, name);
		if (!cJSON_IsNumber(v)) {
			lmp_buf_free(&vals);
			return 0;
		}
		if (!strstr(vals.s ? vals.s : "", name)) {
			char *t = lmp_json_print(v, 0);
			lmp_buf_printf(&vals, "%s%s = %s", vals.len ? ", " : "", name, t);
			free(t);
		}
	}
	if (eval_cfg(req->valuestring, cv, &x, e)) {
		lmp_buf_free(&vals);
		return lmp_prefix(e, "%s: check: ", whose);
	}
	if (lmp_num_is_zero(&x)) {
		lmp_fail(e, LMP_EXIT_INPUT, "config fields %s: %s", vals.s ? vals.s : "", msg->valuestring);
		lmp_buf_free(&vals);
		return -1;
	}
	lmp_buf_free(&vals);
	return 0;
}

static int
check_values(const cJSON *cfg, const cJSON *tmpl, const char *mt, lmp_err *e)
{
	const cJSON *d, *c, *defs = cJSON_GetObjectItemCaseSensitive(tmpl, "defaults");
	const cJSON *tchecks = cJSON_GetObjectItemCaseSensitive(tmpl, "checks");
	const lmp_num one = lmp_num_int(1), most = lmp_num_int((lmp_i128)1 << 31);
	struct cfgvals cv;
	char whose[128];
	lmp_num x;
	int rc = 0;

	if (checks_load(e))
		return -1;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(checks_doc, "counts")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, c->valuestring);
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsNumber(v) || lmp_json_num(v, &x) || !lmp_num_is_int(&x) || lmp_num_cmp(&x, &one) < 0 ||
		    lmp_num_cmp(&x, &most) > 0)
			return bad_value(v, c->valuestring, "a count (a whole number from 1 to 2^31)", e);
	}
	cJSON_ArrayForEach(d, defs) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, d->string);
		if (!v || cJSON_IsNull(v) || cJSON_IsNull(d))
			continue;
		if (cJSON_IsBool(d) && !cJSON_IsBool(v) && !cJSON_IsNumber(v))
			return bad_value(v, d->string, "a boolean", e);
		if ((cJSON_IsNumber(d) || (cJSON_IsString(d) && strstr(d->valuestring, "${"))) && !cJSON_IsNumber(v))
			return bad_value(v, d->string, "a number", e);
		if (cJSON_IsString(d) && !strstr(d->valuestring, "${") && !cJSON_IsString(v))
			return bad_value(v, d->string, "a string", e);
	}
	if (tchecks && !cJSON_IsArray(tchecks))
		return lmp_fail(e, LMP_EXIT_INPUT, "the %s template's \"checks\" must be a list", mt);
	cfg_collect(cfg, &cv);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(checks_doc, "checks"))
		if ((rc = check_one(c, cfg, &cv, "config-checks.json", e)))
			break;
	snprintf(whose, sizeof whose, "the %.64s template", mt);
	if (!rc)
		cJSON_ArrayForEach(c, tchecks)
			if ((rc = check_one(c, cfg, &cv, whose, e)))
				break;
	cfg_free(&cv);
	return rc;
}

/* A structural value (when, repeat, tied_when, active) is fixed by the
 * config: a runtime variable there is a template error. */
static cJSON *
eval_static(const cJSON *v, const cJSON *cfg, const struct cfgvals *cv, lmp_err *e)
{
	if (cJSON_IsString(v) && has_runtime(v->valuestring))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%.80s\" depends on the runtime point", v->valuestring), NULL;
	return eval_value(v, cfg, cv, e);
}

/* transformers' ACT2FN (share/lmp/activations.json): a node's class
 * ACT2FN[${field}] is the class of the activation the config names.  An
 * entry is a class, or {"class", "attrs"} for ACT2CLS's (class, kwargs)
 * pairs ("gelu_python": GELUActivation with use_gelu_python): the attrs,
 * numbers, join the node's and bind the entry's parameters. */
static cJSON *acts_doc;

static int
act_class(const char *cls, const cJSON *cfg, const char **out, const cJSON **kw, lmp_err *e)
{
	char path[4096], field[256];
	const cJSON *classes, *v, *c;
	size_t n = strlen(cls);

	*out = cls;
	*kw = NULL;
	if (strncmp(cls, "ACT2FN[${", 9) || n < 12 || strcmp(cls + n - 2, "}]"))
		return 0;
	if (!acts_doc) {
		snprintf(path, sizeof path, "%s/activations.json", lmp_datadir());
		if (!(acts_doc = lmp_json_load_file(path, e)))
			return -1;
	}
	classes = cJSON_GetObjectItemCaseSensitive(acts_doc, "classes");
	snprintf(field, sizeof field, "%.*s", (int)(n - 11), cls + 9);
	v = cJSON_GetObjectItemCaseSensitive(cfg, field);
	c = cJSON_IsString(v) ? cJSON_GetObjectItemCaseSensitive(classes, v->valuestring) : NULL;
	if (cJSON_IsObject(c)) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "class"), *a;
		*kw = cJSON_GetObjectItemCaseSensitive(c, "attrs");
		cJSON_ArrayForEach(a, *kw)
			if (!cJSON_IsNumber(a))
				k = NULL;
		if (!cJSON_IsString(k) || (*kw && !cJSON_IsObject(*kw)))
			return lmp_fail(e, LMP_EXIT_INPUT, "activations.json: \"%s\" needs a \"class\" and numeric \"attrs\"",
				v->valuestring);
		*out = k->valuestring;
		return 0;
	}
	if (cJSON_IsString(c)) {
		*out = c->valuestring;
		return 0;
	}
	lmp_buf names = {0};
	char *t = v ? lmp_json_print(v, 0) : lmp_xstrdup("absent");
	cJSON_ArrayForEach(c, classes)
		lmp_buf_printf(&names, "%s%s", names.len ? ", " : "", c->string);
	lmp_fail(e, LMP_EXIT_INPUT, "config field %s = %.40s is not an activation lmp models (supported: %s)", field, t,
		names.s ? names.s : "none");
	free(t);
	lmp_buf_free(&names);
	return -1;
}

/* The node's parallel role (parallel.c): a role name, or an object whose
 * "heads" is fixed by the config and whose bytes are templates over the
 * runtime variables, the config's values put in. */
static int
node_parallel(const cJSON *t, cJSON *node, const cJSON *cfg, const struct cfgvals *cv, lmp_err *e)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "parallel"), *c;
	cJSON *o, *v;

	if (cJSON_IsString(p)) {
		cJSON_AddStringToObject(node, "parallel", p->valuestring);
		return 0;
	}
	if (!cJSON_IsObject(p) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "role")))
		return lmp_fail(e, LMP_EXIT_INPUT, "a role name or an object with a \"role\"");
	o = cJSON_AddObjectToObject(node, "parallel");
	cJSON_ArrayForEach(c, p) {
		v = !strcmp(c->string, "role") ? cJSON_Duplicate(c, 0) :
		    !strcmp(c->string, "heads") || !strcmp(c->string, "kv_heads") ? eval_static(c, cfg, cv, e) :
		    eval_value(c, cfg, cv, e);
		if (!v)
			return lmp_prefix(e, "%s: ", c->string);
		cJSON_AddItemToObject(o, c->string, v);
	}
	return 0;
}

static int
expand(const cJSON *t, cJSON *out_list, const cJSON *cfg, const struct cfgvals *cv, const char *parent, int depth, lmp_err *e)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(t, "class");
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(t, "repeat");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(t, "when");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attrs");
	const cJSON *tied = cJSON_GetObjectItemCaseSensitive(t, "tied");
	const cJSON *tied_when = cJSON_GetObjectItemCaseSensitive(t, "tied_when");
	const cJSON *subs = cJSON_GetObjectItemCaseSensitive(t, "sub_layers"), *c;
	char path[1024];
	lmp_num x;
	cJSON *node, *a, *list;

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(e, LMP_EXIT_INPUT, "template nested deeper than %d", LMP_MAX_TREE_DEPTH);
	if (!cJSON_IsString(name) || !cJSON_IsString(cls))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a template node needs a name and a class", parent);
	snprintf(path, sizeof path, "%s%s%s", parent, *parent ? "." : "", name->valuestring);
	if (when) {
		cJSON *w = eval_static(when, cfg, cv, e);
		if (!w)
			return lmp_prefix(e, "%s: when: ", path);
		int skip = !lmp_json_num(w, &x) ? lmp_num_is_zero(&x) : cJSON_IsFalse(w);
		cJSON_Delete(w);
		if (skip)
			return 0;
	}
	const char *cname;
	const cJSON *act_kw;
	if (act_class(cls->valuestring, cfg, &cname, &act_kw, e))
		return -1;
	node = cJSON_CreateObject();
	cJSON_AddStringToObject(node, "name", name->valuestring);
	cJSON_AddStringToObject(node, "class", cname);
	if (rep) {
		cJSON *r = eval_static(rep, cfg, cv, e);
		if (!r || lmp_json_num(r, &x) || !lmp_num_is_int(&x) || lmp_num_sign(&x) < 0) {
			cJSON_Delete(r);
			cJSON_Delete(node);
			return e->status ? lmp_prefix(e, "%s: repeat: ", path)
					 : lmp_fail(e, LMP_EXIT_INPUT, "%s: repeat must be a whole number", path);
		}
		if (lmp_num_is_zero(&x)) {
			cJSON_Delete(r);
			cJSON_Delete(node);
			return 0;
		}
		cJSON_AddItemToObject(node, "repeat", r);
		/* which decoder layers these are (layerset.c) */
		if (cJSON_GetObjectItemCaseSensitive(t, "layers")) {
			cJSON *set = lmp_layer_set(cJSON_GetObjectItemCaseSensitive(t, "layers"), cv->names, cv->vals, cv->n, &x, e);
			if (!set) {
				cJSON_Delete(node);
				return lmp_prefix(e, "%s: ", path);
			}
			cJSON_AddItemToObject(node, "layers", set);
		}
	}
	if (attrs) {
		a = cJSON_AddObjectToObject(node, "attrs");
		cJSON_ArrayForEach(c, attrs) {
			cJSON *v = eval_value(c, cfg, cv, e);
			if (!v) {
				cJSON_Delete(node);
				return lmp_prefix(e, "%s: attrs.%s: ", path, c->string);
			}
			cJSON_AddItemToObject(a, c->string, v);
		}
	}
	if (act_kw && act_kw->child) {
		a = cJSON_GetObjectItemCaseSensitive(node, "attrs");
		if (!a)
			a = cJSON_AddObjectToObject(node, "attrs");
		cJSON_ArrayForEach(c, act_kw)
			if (!cJSON_GetObjectItemCaseSensitive(a, c->string))
				cJSON_AddItemToObject(a, c->string, cJSON_Duplicate(c, 0));
	}
	/* The share of a routed expert's parameters each token uses. */
	if (cJSON_GetObjectItemCaseSensitive(t, "active")) {
		cJSON *v = eval_static(cJSON_GetObjectItemCaseSensitive(t, "active"), cfg, cv, e);
		if (!v) {
			cJSON_Delete(node);
			return lmp_prefix(e, "%s: active: ", path);
		}
		cJSON_AddItemToObject(node, "active", v);
	}
	if (cJSON_GetObjectItemCaseSensitive(t, "parallel") && node_parallel(t, node, cfg, cv, e)) {
		cJSON_Delete(node);
		return lmp_prefix(e, "%s: parallel: ", path);
	}
	if (cJSON_IsString(tied)) {
		int on = 1;
		if (tied_when) {
			/* P4: an error here must not pass as "untied" */
			cJSON *w = eval_static(tied_when, cfg, cv, e);
			if (!w || (lmp_json_num(w, &x) && !cJSON_IsBool(w))) {
				cJSON_Delete(w);
				cJSON_Delete(node);
				return e->status ? lmp_prefix(e, "%s: tied_when: ", path)
						 : lmp_fail(e, LMP_EXIT_INPUT, "%s: tied_when must be a number", path);
			}
			on = cJSON_IsBool(w) ? cJSON_IsTrue(w) : !lmp_num_is_zero(&x);
			cJSON_Delete(w);
		}
		if (on)
			cJSON_AddStringToObject(node, "tied", tied->valuestring);
	}
	if (subs) {
		list = cJSON_AddArrayToObject(node, "sub_layers");
		cJSON_ArrayForEach(c, subs)
			if (expand(c, list, cfg, cv, path, depth + 1, e)) {
				cJSON_Delete(node);
				return -1;
			}
	}
	cJSON_AddItemToArray(out_list, node);
	return 0;
}

/* The template's "positions": the longest context the model's positions
 * reach ("limit", a template over the config) and whether they index a
 * table (GPT-2's learned embeddings: past it transformers fails) or are
 * computed (rotary); recorded in the document's model object, which every
 * later document carries. */
static int
positions(const cJSON *tmpl, cJSON *model, const struct cfgvals *cv, const char *mt, lmp_err *e)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(tmpl, "positions");
	const cJSON *limit = cJSON_GetObjectItemCaseSensitive(p, "limit");
	const cJSON *table = cJSON_GetObjectItemCaseSensitive(p, "table");
	cJSON *o;
	lmp_num v;

	if (!p)
		return 0;
	if (!cJSON_IsString(limit) || !cJSON_IsBool(table))
		return lmp_fail(e, LMP_EXIT_INPUT, "the %s template's \"positions\" needs a \"limit\" template "
			"and a boolean \"table\"", mt);
	if (eval_cfg(limit->valuestring, cv, &v, e))
		return lmp_prefix(e, "positions.limit: ");
	if (!lmp_num_is_int(&v) || lmp_num_sign(&v) <= 0 || v.n > ((lmp_i128)1 << 40))
		return lmp_fail(e, LMP_EXIT_INPUT, "positions.limit: \"%.80s\" is not a whole number in [1, 2^40]",
			limit->valuestring);
	o = cJSON_AddObjectToObject(model, "positions");
	cJSON_AddItemToObject(o, "limit", lmp_json_new_num(&v));
	cJSON_AddBoolToObject(o, "table", cJSON_IsTrue(table));
	return 0;
}

cJSON *
lmp_arch_build(const cJSON *tmpl, cJSON *cfg, cJSON *model, lmp_err *e)
{
	const char *mt = cJSON_GetObjectItemCaseSensitive(model, "model_type")->valuestring;
	const cJSON *tree = cJSON_GetObjectItemCaseSensitive(tmpl, "tree"), *c;
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(tmpl, "class");
	cJSON *doc = NULL, *derived = cJSON_CreateArray(), *unused = cJSON_CreateArray(), *layers;
	struct cfgvals cv = {0};

	if (!cJSON_IsArray(tree) || !cJSON_IsString(root)) {
		lmp_fail(e, LMP_EXIT_INPUT, "the %s template has no \"class\" and \"tree\"", mt);
		goto fail;
	}
	if (inert_load(e) || apply_aliases(cfg, tmpl, mt, e) || apply_defaults(cfg, tmpl, derived, e) ||
	    check_fields(cfg, tmpl, mt, unused, e) || check_lists(cfg, tmpl, mt, e) || check_values(cfg, tmpl, mt, e))
		goto fail;
	/* sorted, and only when there are some: a config with none makes the
	 * document it always made */
	if (cJSON_GetArraySize(unused) > 0) {
		int n = cJSON_GetArraySize(unused), i = 0;
		const char **names = lmp_xcalloc((size_t)n, sizeof *names);
		cJSON *sorted = cJSON_CreateArray();
		cJSON_ArrayForEach(c, unused)
			names[i++] = c->valuestring;
		qsort(names, (size_t)n, sizeof *names, lmp_cmp_str);
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(sorted, cJSON_CreateString(names[i]));
		free(names);
		cJSON_AddItemToObject(model, "config_unused", sorted);
	}
	cfg_collect(cfg, &cv);
	if (positions(tmpl, model, &cv, mt, e))
		goto fail;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "lmp", "arch");
	cJSON_AddStringToObject(doc, "version", LMP_VERSION);
	cJSON_AddItemToObject(doc, "model", model);
	model = NULL;
	cJSON_AddItemToObject(doc, "config", cJSON_Duplicate(cfg, 1));
	cJSON_AddItemToObject(doc, "derived", derived);
	derived = NULL;
	/* Fields that configure some layers only (Falcon's bias: the
	 * projections, not the LayerNorms) feed the template's formulas but
	 * must not bind a database parameter of the same name. */
	if ((c = cJSON_GetObjectItemCaseSensitive(tmpl, "scoped"))) {
		const cJSON *s;
		int ok = cJSON_IsArray(c);
		cJSON_ArrayForEach(s, c)
			ok &= cJSON_IsString(s);
		if (!ok) {
			lmp_fail(e, LMP_EXIT_INPUT, "the %s template's \"scoped\" must be an array of field names", mt);
			goto fail;
		}
		cJSON_AddItemToObject(doc, "scoped", cJSON_Duplicate(c, 1));
	}
	cJSON_AddStringToObject(doc, "class", root->valuestring);
	/* The model class's own attributes, for its inclusive formula. */
	if (cJSON_GetObjectItemCaseSensitive(tmpl, "attrs")) {
		cJSON *a = cJSON_AddObjectToObject(doc, "attrs");
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(tmpl, "attrs")) {
			cJSON *v = eval_value(c, cfg, &cv, e);
			if (!v) {
				lmp_prefix(e, "attrs.%s: ", c->string);
				goto fail;
			}
			cJSON_AddItemToObject(a, c->string, v);
		}
	}
	layers = cJSON_AddArrayToObject(doc, "layers");
	cJSON_ArrayForEach(c, tree)
		if (expand(c, layers, cfg, &cv, "", 0, e))
			goto fail;
	cfg_free(&cv);
	cJSON_Delete(unused);
	return doc;
fail:
	cfg_free(&cv);
	cJSON_Delete(unused);
	cJSON_Delete(derived);
	cJSON_Delete(model);
	cJSON_Delete(doc);
	return NULL;
}
