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

/* Fields any HF config may carry that do not change what inference costs. */
static const char *const inert[] = {
	"_name_or_path", "architectures", "model_type", "torch_dtype", "dtype", "transformers_version",
	"bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
	"initializer_range", "initializer_factor", "use_cache", "max_position_embeddings", "rope_theta",
	"rope_scaling", "rope_parameters", "tokenizer_class", "auto_map", "attention_dropout",
	"hidden_dropout", "dropout", "output_attentions", "output_hidden_states", "return_dict",
	"torchscript", "use_bfloat16", "id2label", "label2id",
	"problem_type", "task_specific_params", "finetuning_task", "prefix", "bad_words_ids",
	"_attn_implementation", "attn_implementation", "quantization_config", "pretraining_tp",
	"_from_model_config", "use_return_dict", "gradient_checkpointing", "max_length",
	"temperature", "top_p", "top_k", "do_sample", "num_beams", "repetition_penalty",
	"early_stopping", "length_penalty", "no_repeat_ngram_size", "forced_bos_token_id",
	"forced_eos_token_id", "remove_invalid_values", "transformers.js_config",
};

/* Fields every PretrainedConfig may carry that change the model unless
 * they hold their neutral value. */
static const struct {
	const char *key, *neutral;
} neutral_only[] = {
	{"add_cross_attention", "false"}, {"is_decoder", "false"}, {"is_encoder_decoder", "false"},
	{"pruned_heads", "{}"}, {"chunk_size_feed_forward", "0"}, {"cross_attention_hidden_size", "null"},
	{"tie_encoder_decoder", "false"},
};

int
lmp_config_inert(const char *k)
{
	for (size_t i = 0; i < sizeof inert / sizeof inert[0]; i++)
		if (!strcmp(inert[i], k))
			return 1;
	return 0;
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

/* Every field must be understood: known to the template (a default, an
 * accepted field, a required value) or inert everywhere. */
static int
check_fields(const cJSON *cfg, const cJSON *tmpl, const char *mt, lmp_err *e)
{
	const cJSON *c, *a, *req = cJSON_GetObjectItemCaseSensitive(tmpl, "require");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(tmpl, "accept");
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(tmpl, "defaults");

	cJSON_ArrayForEach(c, cfg) {
		int nf = neutral_field(c);
		if (nf < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "config field \"%s\" changes the architecture and is not supported by the %s template",
				c->string, mt);
		int known = nf > 0 || lmp_config_inert(c->string) || cJSON_GetObjectItemCaseSensitive(defs, c->string) ||
			    cJSON_GetObjectItemCaseSensitive(req, c->string) ||
			    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tmpl, "require_each"), c->string);
		cJSON_ArrayForEach(a, acc)
			known |= cJSON_IsString(a) && !strcmp(a->valuestring, c->string);
		if (!known)
			return lmp_fail(e, LMP_EXIT_INPUT, "config field \"%s\" is not understood by the %s template "
				"(it may change the architecture)", c->string, mt);
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

/* A structural value (when, repeat, tied_when, active) is fixed by the
 * config: a runtime variable there is a template error. */
static cJSON *
eval_static(const cJSON *v, const cJSON *cfg, const struct cfgvals *cv, lmp_err *e)
{
	if (cJSON_IsString(v) && has_runtime(v->valuestring))
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%.80s\" depends on the runtime point", v->valuestring), NULL;
	return eval_value(v, cfg, cv, e);
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
	node = cJSON_CreateObject();
	cJSON_AddStringToObject(node, "name", name->valuestring);
	cJSON_AddStringToObject(node, "class", cls->valuestring);
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
	/* The share of a routed expert's parameters each token uses. */
	if (cJSON_GetObjectItemCaseSensitive(t, "active")) {
		cJSON *v = eval_static(cJSON_GetObjectItemCaseSensitive(t, "active"), cfg, cv, e);
		if (!v) {
			cJSON_Delete(node);
			return lmp_prefix(e, "%s: active: ", path);
		}
		cJSON_AddItemToObject(node, "active", v);
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
	cJSON *doc = NULL, *derived = cJSON_CreateArray(), *layers;
	struct cfgvals cv = {0};

	if (!cJSON_IsArray(tree) || !cJSON_IsString(root)) {
		lmp_fail(e, LMP_EXIT_INPUT, "the %s template has no \"class\" and \"tree\"", mt);
		goto fail;
	}
	if (apply_aliases(cfg, tmpl, mt, e) || apply_defaults(cfg, tmpl, derived, e) || check_fields(cfg, tmpl, mt, e) ||
	    check_lists(cfg, tmpl, mt, e))
		goto fail;
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
	return doc;
fail:
	cfg_free(&cv);
	cJSON_Delete(derived);
	cJSON_Delete(model);
	cJSON_Delete(doc);
	return NULL;
}
