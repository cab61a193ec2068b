/* populate.c: binding every parameter of every basic layer.
 *
 * For each parameter of a layer's database entry, the first of:
 *   1. config      the config's own field of that name
 *   2. derived     a field the template derived for the config
 *                  (head_dim = hidden_size / num_attention_heads ...)
 *   3. attrs       the layer's inspected structure (in_features ...)
 *   4. runtime     the runtime variable of that name ({tokens} ...)
 *   5. default     the entry's default
 * Runtime variables fixed on the command line are then substituted, so
 * that "{batch_size} * {seq_len}" becomes a number where both are given
 * (a step's shape only: widths are recorded, for lmp-eval to override).
 * A global field binds only where it means the same for every layer: the
 * database names per-layer sizes so that no config field can take them,
 * and a template lists in "scoped" the fields that do not (Falcon's bias).
 * Where a config field does take a parameter that the layer's attrs give
 * another value (a norm's width named hidden_size inside a k_norm), the
 * attr is shadowed: counted wrongly and silently, so it is warned about. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct pop {
	lmp_db *db;
	const cJSON *config, *derived, *scoped;
	const lmp_fixed *fixed;
	lmp_buf *explain, *warn;
	lmp_err *e;
};

static int
in_list(const cJSON *list, const char *s)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, list)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, s))
			return 1;
	return 0;
}

/* The binding rule's first step, shared with the architecture agent's
 * check (archagent.c): a config field binds a parameter of the same name
 * when it is a number or a boolean, is not a generation setting (top_k ...)
 * and is not scoped by the template to some layers (Falcon's bias). */
const cJSON *
lmp_config_binding(const cJSON *config, const cJSON *scoped, const char *param)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(config, param);

	if (!c || !(cJSON_IsNumber(c) || cJSON_IsBool(c)) || lmp_config_inert(param) || in_list(scoped, param))
		return NULL;
	return c;
}

/* Substitute fixed runtime variables; a template that becomes constant is
 * evaluated to its number. */
static cJSON *
fix(const cJSON *v, const lmp_fixed *f, lmp_err *e)
{
	lmp_buf b = {0};
	const char *p;
	cJSON *out = NULL;

	if (!cJSON_IsString(v) || !f || !f->vars)
		return cJSON_Duplicate(v, 1);
	for (p = v->valuestring; *p;) {
		int i, done = 0;
		if (*p == '{' && (p == v->valuestring || p[-1] != '$')) {
			for (i = 0; i < LMP_NVARS; i++) {
				const char *name = lmp_var_name(i);
				size_t k = strlen(name);
				if (!(f->vars & 1u << i))
					continue;
				if (!strncmp(p + 1, name, k) && p[1 + k] == '}') {
					char s[LMP_NUM_STRMAX];
					lmp_num_str(&f->var[i], s);
					lmp_buf_putc(&b, '(');
					lmp_buf_puts(&b, s);
					lmp_buf_putc(&b, ')');
					p += k + 2;
					done = 1;
					break;
				}
			}
		}
		if (!done)
			lmp_buf_putc(&b, *p++);
	}
	/* An expected count stays a template: as a bare number it would lose
	 * the mark that lets it be fractional. */
	if (strstr(b.s, "expected(")) {
		out = cJSON_CreateString(b.s);
		lmp_buf_free(&b);
		return out;
	}
	/* Constant now?  Then a number. */
	lmp_num x;
	int rc = lmp_tmpl_const(b.s, NULL, NULL, 0, "value", &x, e);
	if (rc > 0)
		out = lmp_json_new_num(&x);
	else if (rc == 0)
		out = cJSON_CreateString(b.s);
	lmp_buf_free(&b);
	return out;
}

static void
explain_line(struct pop *P, const char *path, const char *param, const cJSON *v, const char *rule, const char *field)
{
	char *s;

	if (!P->explain)
		return;
	s = lmp_json_print(v, 0);
	lmp_buf_printf(P->explain, "%s\t%s\t%s\t%s\t%s\n", path, param, s, rule, field);
	free(s);
}

/* One line per (class, field, values), however many layers repeat it. */
static void
shadowed(struct pop *P, const char *path, const char *cls, const char *p, const cJSON *c, const cJSON *a)
{
	char *cv, *av, key[600];

	if (!P->warn)
		return;
	cv = lmp_json_print(c, 0);
	av = lmp_json_print(a, 0);
	snprintf(key, sizeof key, "config field %s (%s) shadows attrs.%s (%s) of %s at ", p, cv, p, av, cls);
	if (strcmp(cv, av) && !(P->warn->s && strstr(P->warn->s, key)))
		lmp_buf_printf(P->warn, "%s%s\n", key, path);
	free(cv);
	free(av);
}

static int
bind_node(struct pop *P, cJSON *node, const char *path)
{
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(node, "attrs");
	cJSON *params, *v, *fixed;
	lmp_entry *en = lmp_db_find(P->db, cls->valuestring);
	char rt[64], field[300];
	int i;

	if (!en)
		return lmp_fail(P->e, LMP_EXIT_INPUT, "%s: class %s is not in the module database (run lmp-ensure)",
			path, cls->valuestring);
	if (lmp_entry_load(P->db, en, P->e))
		return -1;
	params = cJSON_CreateObject();
	for (i = 0; i < en->nparams; i++) {
		const char *p = en->params[i].name, *rule;
		const cJSON *c = lmp_config_binding(P->config, P->scoped, p);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(attrs, p);
		int is_val = c != NULL;
		lmp_num x;
		/* bound into formulas, a value past 2^127 would count inexactly */
		if (is_val && cJSON_IsNumber(c) && lmp_json_num(c, &x) == LMP_NUM_OVERFLOW) {
			cJSON_Delete(params);
			return lmp_fail(P->e, LMP_EXIT_INPUT, "%s: parameter %s: config field %s: %.40s is past "
				"the exact range of counts (2^127 or more)", path, p, p, c->valuestring);
		}
		if (is_val && a)
			shadowed(P, path, en->name, p, c, a);
		if (is_val && !in_list(P->derived, p)) {
			v = cJSON_Duplicate(c, 1);
			rule = "config";
			snprintf(field, sizeof field, "config.%s", p);
		} else if (is_val) {
			v = cJSON_Duplicate(c, 1);
			rule = "derived";
			snprintf(field, sizeof field, "config.%s", p);
		} else if (a) {
			v = cJSON_Duplicate(a, 1);
			rule = "attrs";
			snprintf(field, sizeof field, "attrs.%s", p);
		} else if (lmp_var_lookup(p, strlen(p)) >= 0) {
			snprintf(rt, sizeof rt, "{%s}", p);
			v = cJSON_CreateString(rt);
			rule = "runtime";
			snprintf(field, sizeof field, "{%s}", p);
		} else if (en->params[i].dflt) {
			v = cJSON_Duplicate(en->params[i].dflt, 1);
			rule = "default";
			snprintf(field, sizeof field, "%s default", en->name);
		} else {
			cJSON_Delete(params);
			return lmp_fail(P->e, LMP_EXIT_INPUT, "%s: nothing binds parameter '%s' of %s", path, p, en->name);
		}
		if (cJSON_IsBool(v)) {
			cJSON *n = cJSON_CreateNumber(cJSON_IsTrue(v));
			n->valuestring = lmp_xstrdup(cJSON_IsTrue(v) ? "1" : "0");
			cJSON_Delete(v);
			v = n;
		}
		fixed = fix(v, P->fixed, P->e);
		cJSON_Delete(v);
		if (!fixed) {
			cJSON_Delete(params);
			return lmp_prefix(P->e, "%s: parameter %s: ", path, p);
		}
		explain_line(P, path, p, fixed, rule, field);
		cJSON_AddItemToObject(params, p, fixed);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(node, "params");
	cJSON_AddItemToObject(node, "params", params);
	return 0;
}

static int
walk(struct pop *P, cJSON *node, const char *parent, int depth)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(node, "name");
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	cJSON *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers"), *c;
	lmp_buf path = {0};
	int rc = 0;

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(P->e, LMP_EXIT_INPUT, "layers nested deeper than %d", LMP_MAX_TREE_DEPTH);
	if (!cJSON_IsString(name) || !cJSON_IsString(cls))
		return lmp_fail(P->e, LMP_EXIT_INPUT, "%s%sa layer without a name and a class", parent, *parent ? ": " : "");
	lmp_layer_path(&path, parent, name->valuestring, node);
	if (!subs) {
		rc = bind_node(P, node, path.s);
	} else {
		cJSON_ArrayForEach(c, subs)
			if ((rc = walk(P, c, path.s, depth + 1)))
				break;
	}
	lmp_buf_free(&path);
	return rc;
}

int
lmp_populate(cJSON *doc, lmp_db *db, const lmp_fixed *fixed, lmp_buf *explain, lmp_err *e)
{
	return lmp_populate_warn(doc, db, fixed, explain, NULL, e);
}

int
lmp_populate_warn(cJSON *doc, lmp_db *db, const lmp_fixed *fixed, lmp_buf *explain, lmp_buf *warn, lmp_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	cJSON *layers = cJSON_GetObjectItemCaseSensitive(doc, "layers"), *c;
	struct pop P = {db, NULL, NULL, NULL, fixed, explain, warn, e};

	if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "arch") && strcmp(kind->valuestring, "populated")))
		return lmp_fail(e, LMP_EXIT_INPUT, "input is not an architecture document (run lmp-inspect)");
	if (lmp_doc_unresolved(doc, e))
		return -1;
	P.config = cJSON_GetObjectItemCaseSensitive(doc, "config");
	P.derived = cJSON_GetObjectItemCaseSensitive(doc, "derived");
	P.scoped = cJSON_GetObjectItemCaseSensitive(doc, "scoped");
	if (!cJSON_IsObject(P.config) || !cJSON_IsArray(layers))
		return lmp_fail(e, LMP_EXIT_INPUT, "architecture document without \"config\" and \"layers\"");
	cJSON_ArrayForEach(c, layers)
		if (walk(&P, c, "", 0))
			return -1;
	/* The model class itself, when the database has it: its inclusive
	 * formula evaluates the whole model alone (lmp-eval --module). */
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(doc, "class");
	if (cJSON_IsString(root)) {
		lmp_entry *en = lmp_db_find(db, root->valuestring);
		if (en && lmp_entry_load(db, en, e))
			return -1;
		if (en && en->nparams && bind_node(&P, doc, "(model)"))
			return -1;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "lmp", cJSON_CreateString("populated"));
	/* What was given, for lmp-eval: a bound value is the only one it can
	 * evaluate at, a recorded one the document's default. */
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "fixed");
	if (fixed && fixed->given) {
		cJSON *f = cJSON_AddObjectToObject(doc, "fixed");
		for (int i = 0; i < LMP_RO_NLISTS; i++) {
			lmp_num v = lmp_num_int(fixed->value[i]);
			if (fixed->given & 1u << i)
				cJSON_AddItemToObject(f, lmp_runopts[i].json, lmp_json_new_num(&v));
		}
	}
	return 0;
}
