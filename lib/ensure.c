/* ensure.c: the module agent.  Its prompt (share/lmp/prompts/
 * module_analyzer.md filled in), the check of its answer (lmp_entry_check)
 * and the answer's way into the database, through lmp_agent_ask. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char *
text_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* One entry that can be called (it has a FLOPs formula): its call with its
 * parameters, their types, defaults and meanings, and its formulas. */
static void
callable_entry(lmp_buf *b, lmp_db *db, lmp_entry *en)
{
	lmp_err ignore;
	const cJSON *fa, *ma, *al, *a;
	const char *f;
	int k;

	if (lmp_entry_load(db, en, &ignore))
		return;
	fa = cJSON_GetObjectItemCaseSensitive(en->json, "flop_analysis");
	ma = cJSON_GetObjectItemCaseSensitive(en->json, "memory_analysis");
	if (!(f = text_of(fa, "formula")))
		return;
	lmp_buf_printf(b, "- `{%s}(", en->name);
	for (k = 0; k < en->nparams; k++)
		lmp_buf_printf(b, "%s%s", k ? ", " : "", en->params[k].name);
	lmp_buf_puts(b, ")`");
	if ((al = cJSON_GetObjectItemCaseSensitive(en->json, "aliases")) && cJSON_GetArraySize(al)) {
		lmp_buf_puts(b, ", also");
		cJSON_ArrayForEach(a, al)
			if (cJSON_IsString(a))
				lmp_buf_printf(b, " `%s`", a->valuestring);
	}
	lmp_buf_puts(b, "\n");
	for (k = 0; k < en->nparams; k++) {
		const lmp_param *p = &en->params[k];
		lmp_buf_printf(b, "  - `%s` (%s", p->name, p->type ? p->type : "number");
		if (p->dflt) {
			char *d = lmp_json_print(p->dflt, 0);
			lmp_buf_printf(b, ", default %s", d);
			free(d);
		}
		lmp_buf_printf(b, ")%s%s\n", p->description ? ": " : "", p->description ? p->description : "");
	}
	lmp_buf_printf(b, "  - counts: FLOPs `%s`; param_count `%s`", f,
		text_of(en->json, "param_count") ? text_of(en->json, "param_count") : "0");
	if (text_of(ma, "weights"))
		lmp_buf_printf(b, "; weights `%s`", text_of(ma, "weights"));
	if (text_of(en->json, "state") && strcmp(text_of(en->json, "state"), "0"))
		lmp_buf_printf(b, "; state `%s`", text_of(en->json, "state"));
	lmp_buf_puts(b, "\n");
}

char *
lmp_module_prompt(const lmp_db *db, const char *cls, const char *source_root, lmp_err *e)
{
	static const char *const examples[] = {
		"torch.nn.modules.linear.Linear", "transformers.models.llama.modeling_llama.LlamaRMSNorm",
	};
	lmp_buf tmpl = {0}, src = {0}, kern = {0}, ex = {0}, out = {0};
	char path[4096];
	lmp_source s;
	int i;

	snprintf(path, sizeof path, "%s/prompts/module_analyzer.md", lmp_datadir());
	if (lmp_read_file(path, &tmpl, e))
		return NULL;
	if (source_root) {
		if (lmp_find_source(source_root, cls, &s, e)) {
			lmp_buf_free(&tmpl);
			return NULL;
		}
		lmp_buf_printf(&src, "File %s, lines %d-%d:\n\n```python\n%s```\n", s.file, s.line_start, s.line_end, s.text);
		/* what the class cannot be read without: its parents, its helpers */
		if (lmp_source_related(source_root, cls, &s, &src))
			lmp_buf_puts(&src, "\n(The definitions above, found in the same checkout, are quoted because the "
				"class inherits from or calls them.)\n");
		lmp_source_free(&s);
	} else {
		lmp_buf_puts(&src, "(No source checkout was given: use the PyTorch or transformers source of this class "
			"that you can read, and cite the file and lines in code_location.)\n");
	}
	for (i = 0; i < db->n; i++)
		callable_entry(&kern, (lmp_db *)db, &db->entries[i]);
	for (i = 0; i < 2; i++) {
		lmp_entry *en = lmp_db_find((lmp_db *)db, examples[i]);
		if (!en)
			continue;
		lmp_buf_puts(&ex, "```json\n");
		lmp_json_print_buf(en->json, 1, &ex);
		lmp_buf_puts(&ex, "\n```\n\n");
	}
	{
		const char *keys[] = {"{{CLASS}}", "{{SOURCE}}", "{{KERNELS}}", "{{EXAMPLES}}"};
		const char *vals[] = {cls, src.s, kern.s ? kern.s : "(none)\n", ex.s ? ex.s : "(none)\n"};
		lmp_fill_template(&out, tmpl.s, keys, vals, 4);
	}
	lmp_buf_free(&tmpl);
	lmp_buf_free(&src);
	lmp_buf_free(&kern);
	lmp_buf_free(&ex);
	return out.s;
}

struct added {
	const char *cls;
	const cJSON *entry;
	int force;
};

static int
names(const cJSON *entries, const cJSON *skip, const char *name)
{
	const cJSON *en, *a;

	cJSON_ArrayForEach(en, entries) {
		if (en == skip)
			continue;
		if (!strcmp(en->string, name))
			return 1;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(en, "aliases"))
			if (cJSON_IsString(a) && !strcmp(a->valuestring, name))
				return 1;
	}
	return 0;
}

/* The answer was checked against the database as it was; another run may
 * have added one of its aliases since: an alias names one entry, so the
 * newcomer's goes. */
static void
drop_taken_aliases(cJSON *entries, const char *cls)
{
	cJSON *en = cJSON_GetObjectItemCaseSensitive(entries, cls);
	cJSON *al = cJSON_GetObjectItemCaseSensitive(en, "aliases"), *a, *next;

	for (a = al ? al->child : NULL; a; a = next) {
		next = a->next;
		if (!cJSON_IsString(a) || !strcmp(a->valuestring, cls) || names(entries, en, a->valuestring))
			cJSON_Delete(cJSON_DetachItemViaPointer(al, a));
	}
	if (al && !cJSON_GetArraySize(al))
		cJSON_DeleteItemFromObjectCaseSensitive(en, "aliases");
}

static int
add_entry(cJSON *db, void *ctx, lmp_err *e)
{
	struct added *c = ctx;
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(db, "entries");

	if (!cJSON_IsObject(entries))
		return lmp_fail(e, LMP_EXIT_INPUT, "the database has no \"entries\"");
	if (cJSON_GetObjectItemCaseSensitive(entries, c->cls)) {
		if (!c->force)
			return 0; /* another run added it meanwhile: keep theirs */
		cJSON_DeleteItemFromObjectCaseSensitive(entries, c->cls);
	}
	cJSON_AddItemToObject(entries, c->cls, cJSON_Duplicate(c->entry, 1));
	drop_taken_aliases(entries, c->cls);
	return 0;
}

int
lmp_db_add_entry(const char *path, const char *cls, const cJSON *entry, int force, lmp_err *e)
{
	struct added c = {cls, entry, force};

	return lmp_db_update(path, add_entry, &c, e);
}

struct module_check {
	const lmp_module_opts *o;
	lmp_db *db;
	const char *cls;
};

/* The entry itself or {CLASS: entry}; checked, then stored. */
static int
check_entry(cJSON *answer, void *ctx, lmp_err *e)
{
	struct module_check *c = ctx;
	const cJSON *en = answer;
	cJSON *entry;
	int rc;

	if (!cJSON_GetObjectItemCaseSensitive(answer, "full_class_name")) {
		if (cJSON_IsObject(answer) && cJSON_GetArraySize(answer) == 1 && answer->child->string &&
		    !strcmp(answer->child->string, c->cls))
			en = answer->child;
		else
			return lmp_fail(e, LMP_EXIT_AGENT, "the answer holds no entry for %s", c->cls), -1;
	}
	if (!(entry = lmp_entry_check(en, c->cls, c->db->doc, e)))
		return -1;
	rc = lmp_db_add_entry(c->o->db, c->cls, entry, c->o->force, e) ? -2 : 0;
	cJSON_Delete(entry);
	return rc;
}

int
lmp_module_analyse(const lmp_module_opts *o, lmp_db *db, const char *cls, lmp_err *e)
{
	struct module_check c = {o, db, cls};
	char *copy = lmp_xstrdup(o->db), diag[4096];
	lmp_ask a = {0};
	char *prompt;
	int rc;

	snprintf(diag, sizeof diag, "%s/%s_diagnostics.json", dirname(copy), cls);
	free(copy);
	if (!(prompt = lmp_module_prompt(db, cls, o->source_root, e)))
		return -1;
	a.agent = o->agent;
	a.timeout = o->timeout;
	a.retries = o->retries;
	a.what = cls;
	a.diag_key = "class";
	a.diag_path = diag;
	a.check = check_entry;
	a.ctx = &c;
	a.refused = o->refused;
	a.quiet = o->quiet;
	rc = lmp_agent_ask(&a, prompt, e);
	free(prompt);
	if (rc)
		lmp_prefix(e, "%s: ", cls);
	return rc;
}
