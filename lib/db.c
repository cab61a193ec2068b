/* db.c: the module database (module_db.json, format in lmp-module-db(5)). */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char *const kind_names[LMP_NKINDS] = {
	"flops", "weights", "reads", "writes", "intermediates", "param_count", "state",
};

const char *
lmp_kind_name(int kind)
{
	return kind_names[kind];
}

const char *const lmp_gemm_names[LMP_NGEMM] = {"m", "n", "k", "calls"};

/* Where each quantity's template lives in an entry. */
static const cJSON *
kind_template(const cJSON *entry, int kind)
{
	const cJSON *flop = cJSON_GetObjectItemCaseSensitive(entry, "flop_analysis");
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(entry, "memory_analysis");

	switch (kind) {
	case LMP_K_FLOPS: return cJSON_GetObjectItemCaseSensitive(flop, "formula");
	case LMP_K_PARAM_COUNT: return cJSON_GetObjectItemCaseSensitive(entry, "param_count");
	case LMP_K_STATE: return cJSON_GetObjectItemCaseSensitive(entry, "state");
	default: return cJSON_GetObjectItemCaseSensitive(mem, kind_names[kind]);
	}
}

static int
valid_ident(const char *s)
{
	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int
load_params(lmp_entry *en, const cJSON *j, lmp_err *e)
{
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "parameters"), *p;
	int i = 0, k;

	if (!cJSON_IsArray(ps))
		return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: \"parameters\" must be an array", en->name);
	en->nparams = cJSON_GetArraySize(ps);
	en->params = lmp_xcalloc((size_t)en->nparams, sizeof *en->params);
	cJSON_ArrayForEach(p, ps) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
		const cJSON *desc = cJSON_GetObjectItemCaseSensitive(p, "description");
		if (!cJSON_IsString(name) || !valid_ident(name->valuestring))
			return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: parameter %d has no valid \"name\"", en->name, i + 1);
		en->params[i].name = name->valuestring;
		en->params[i].type = cJSON_IsString(type) ? type->valuestring : "number";
		en->params[i].description = cJSON_IsString(desc) ? desc->valuestring : "";
		en->params[i].dflt = cJSON_GetObjectItemCaseSensitive(p, "default");
		if (strcmp(en->params[i].type, "int") && strcmp(en->params[i].type, "number") &&
		    strcmp(en->params[i].type, "bool"))
			return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: parameter %s: type must be int, number or bool",
				en->name, en->params[i].name);
		for (k = 0; k < i; k++)
			if (strcmp(en->params[k].name, en->params[i].name) == 0)
				return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: parameter %s listed twice", en->name,
					en->params[i].name);
		i++;
	}
	return 0;
}

/* Every name and alias of the database, sorted, to find the same string
 * twice in n log n (the database is read at every start). */
struct name_ref {
	const char *s;
	int owner, alias;
};

static int
by_name(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	if (x->alias != y->alias)
		return x->alias - y->alias; /* the entry's own name first */
	return x->owner - y->owner;
}

/* An alias must name one entry: not another entry, not another alias; an
 * entry is named once. */
static int
check_names(const lmp_db *db, lmp_err *e)
{
	struct name_ref *r;
	int n = db->n, i, k, rc = 0;

	for (i = 0; i < db->n; i++)
		n += db->entries[i].nalias;
	r = lmp_xcalloc((size_t)n + 1, sizeof *r);
	for (i = 0, n = 0; i < db->n; i++) {
		r[n++] = (struct name_ref){db->entries[i].name, i, 0};
		for (k = 0; k < db->entries[i].nalias; k++)
			r[n++] = (struct name_ref){db->entries[i].alias[k], i, 1};
	}
	qsort(r, (size_t)n, sizeof *r, by_name);
	for (i = 1; i < n && !rc; i++) {
		const struct name_ref *x = &r[i - 1], *y = &r[i];
		/* an entry may list an alias twice, not its own name */
		if (strcmp(x->s, y->s) || (x->owner == y->owner && x->alias && y->alias))
			continue;
		if (!x->alias && !y->alias)
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: duplicate entry \"%s\"", db->path, x->s);
		else if (!x->alias)
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: alias %s of %s is an entry itself", db->path, y->s,
				db->entries[y->owner].name);
		else
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: alias %s names both %s and %s", db->path, x->s,
				db->entries[x->owner].name, db->entries[y->owner].name);
	}
	free(r);
	return rc;
}

/* An entry's aliases, from its "aliases" array. */
int
lmp_db_check_aliases(lmp_entry *en, const cJSON *aliases, const char *path, lmp_err *e)
{
	const cJSON *a;

	if (!aliases)
		return 0;
	if (en->alias)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s: duplicate key \"aliases\"", path, en->name);
	if (!cJSON_IsArray(aliases))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s: aliases must be an array of strings", path, en->name);
	en->alias = lmp_xcalloc((size_t)cJSON_GetArraySize(aliases) + 1, sizeof *en->alias);
	cJSON_ArrayForEach(a, aliases) {
		if (!cJSON_IsString(a))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s: aliases must be strings", path, en->name);
		en->alias[en->nalias++] = lmp_xstrdup(a->valuestring);
	}
	return 0;
}

/* dbopen.c fills in the entries, then the names are checked here. */
int
lmp_db_check_names(const lmp_db *db, lmp_err *e)
{
	return check_names(db, e);
}

lmp_db *
lmp_db_from_json(cJSON *doc, const char *path, lmp_err *e)
{
	lmp_db *db = lmp_xcalloc(1, sizeof *db);
	const cJSON *entries, *kind, *it;
	int i = 0;

	db->doc = doc;
	db->path = path;
	kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "module_db") || !cJSON_IsObject(entries)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not a module database (needs \"lmp\": \"module_db\" and \"entries\")", path);
		goto fail;
	}
	db->n = cJSON_GetArraySize(entries);
	db->entries = lmp_xcalloc((size_t)db->n, sizeof *db->entries);
	cJSON_ArrayForEach(it, entries) {
		lmp_entry *en = &db->entries[i++];
		en->name = it->string;
		en->json = it;
		if (!cJSON_IsObject(it)) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s is not an object", path, it->string);
			goto fail;
		}
		if (load_params(en, it, e)) {
			lmp_prefix(e, "%s: ", path);
			goto fail;
		}
		if (lmp_db_check_aliases(en, cJSON_GetObjectItemCaseSensitive(it, "aliases"), path, e))
			goto fail;
		en->ready = 1;
	}
	if (check_names(db, e))
		goto fail;
	return db;
fail:
	lmp_db_free(db);
	return NULL;
}

int
lmp_entry_load(lmp_db *db, lmp_entry *en, lmp_err *e)
{
	cJSON *j;

	if (en->ready)
		return 0;
	if (!(j = lmp_json_parse_one(en->text, en->text_len, db->path, e)))
		return lmp_prefix(e, "entry %s: ", en->name);
	db->parsed = lmp_xrealloc(db->parsed, (size_t)(db->nparsed + 1) * sizeof *db->parsed);
	db->parsed[db->nparsed++] = j;
	en->json = j;
	if (load_params(en, j, e)) {
		free(en->params);
		en->params = NULL;
		en->nparams = 0;
		return lmp_prefix(e, "%s: ", db->path);
	}
	en->ready = 1;
	return 0;
}

lmp_db *
lmp_db_load(const char *path, lmp_err *e)
{
	cJSON *doc = lmp_json_load_file(path, e);

	return doc ? lmp_db_from_json(doc, path, e) : NULL;
}

void
lmp_db_free(lmp_db *db)
{
	int i, k;

	if (!db)
		return;
	for (i = 0; i < db->n; i++) {
		lmp_entry *en = &db->entries[i];
		for (k = 0; k < LMP_NKINDS; k++)
			lmp_tmpl_free(en->tmpl[k]);
		for (k = 0; k < en->nbreak; k++)
			lmp_tmpl_free(en->breakdown[k]);
		for (k = 0; k < LMP_NGEMM; k++)
			lmp_tmpl_free(en->gemm[k]);
		free(en->breakdown);
		free(en->break_names);
		free(en->params);
		for (k = 0; k < en->nalias; k++)
			free(en->alias[k]);
		free(en->alias);
		if (db->text) /* lazy: names are copies */
			free((char *)en->name);
	}
	for (i = 0; i < db->nparsed; i++)
		cJSON_Delete(db->parsed[i]);
	free(db->parsed);
	free(db->entries);
	cJSON_Delete(db->doc);
	free(db->text);
	free(db);
}

static lmp_entry *
find_exact(lmp_db *db, const char *name)
{
	int i, k;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->entries[i].name, name) == 0)
			return &db->entries[i];
	for (i = 0; i < db->n; i++)
		for (k = 0; k < db->entries[i].nalias; k++)
			if (strcmp(db->entries[i].alias[k], name) == 0)
				return &db->entries[i];
	return NULL;
}

lmp_entry *
lmp_db_find(lmp_db *db, const char *name)
{
	lmp_entry *en = find_exact(db, name);
	char *dotted, *p, *q;

	if (en || !strstr(name, "__"))
		return en;
	/* torch__nn__Linear is torch.nn.Linear. */
	dotted = lmp_xstrdup(name);
	for (p = q = dotted; *p; p++, q++) {
		if (p[0] == '_' && p[1] == '_') {
			*q = '.';
			p++;
		} else {
			*q = *p;
		}
	}
	*q = '\0';
	en = find_exact(db, dotted);
	free(dotted);
	return en;
}

int
lmp_entry_param_index(const lmp_entry *en, const char *name)
{
	int i;

	for (i = 0; i < en->nparams; i++)
		if (strcmp(en->params[i].name, name) == 0)
			return i;
	return -1;
}

static lmp_tmpl *
compile_one(const lmp_entry *en, const char **names, const cJSON *t, const char *what, lmp_err *e)
{
	lmp_tmpl *tp;

	if (cJSON_IsNumber(t) && t->valuestring)
		return lmp_tmpl_parse(t->valuestring, names, en->nparams, e);
	if (!cJSON_IsString(t)) {
		lmp_fail(e, LMP_EXIT_INPUT, "entry %s: %s formula must be a string", en->name, what);
		return NULL;
	}
	tp = lmp_tmpl_parse(t->valuestring, names, en->nparams, e);
	if (!tp)
		lmp_prefix(e, "entry %s: %s \"%.80s\": ", en->name, what, t->valuestring);
	return tp;
}

/* "gemm": {"m", "n", "k", "calls"} (and a "note"), all four templates or
 * none; they call no entry (lmp-module-db(5)). */
static int
compile_gemm(lmp_entry *en, const char **names, lmp_err *e)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(en->json, "gemm"), *it;
	int k;

	if (!g)
		return 0;
	if (!cJSON_IsObject(g))
		return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: \"gemm\" must be an object {m, n, k, calls}", en->name);
	cJSON_ArrayForEach(it, g) {
		for (k = 0; k < LMP_NGEMM && strcmp(it->string, lmp_gemm_names[k]); k++)
			;
		if (k == LMP_NGEMM && strcmp(it->string, "note"))
			return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: gemm has no member \"%s\" (m, n, k, calls, note)",
				en->name, it->string);
	}
	for (k = 0; k < LMP_NGEMM; k++) {
		char what[16];
		if (!(it = cJSON_GetObjectItemCaseSensitive(g, lmp_gemm_names[k])))
			return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: gemm lacks \"%s\"", en->name, lmp_gemm_names[k]);
		snprintf(what, sizeof what, "gemm.%s", lmp_gemm_names[k]);
		if (!(en->gemm[k] = compile_one(en, names, it, what, e)))
			return -1;
	}
	return 0;
}

int
lmp_entry_compile(lmp_db *db, lmp_entry *en, lmp_err *e)
{
	const char *names[LMP_MAX_ARGS];
	const cJSON *t, *bd, *it;
	int k, i;

	if (en->compiled)
		return 0;
	if (lmp_entry_load(db, en, e))
		return -1;
	if (en->nparams > LMP_MAX_ARGS)
		return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: too many parameters", en->name);
	for (i = 0; i < en->nparams; i++)
		names[i] = en->params[i].name;
	for (k = 0; k < LMP_NKINDS; k++) {
		t = kind_template(en->json, k);
		if (!t)
			continue;
		if (!(en->tmpl[k] = compile_one(en, names, t, kind_names[k], e)))
			goto fail;
	}
	bd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(en->json, "flop_analysis"), "breakdown");
	if (cJSON_IsObject(bd)) {
		int n = cJSON_GetArraySize(bd);
		en->breakdown = lmp_xcalloc((size_t)n, sizeof *en->breakdown);
		en->break_names = lmp_xcalloc((size_t)n, sizeof *en->break_names);
		cJSON_ArrayForEach(it, bd) {
			en->break_names[en->nbreak] = it->string;
			if (!(en->breakdown[en->nbreak] = compile_one(en, names, it, "breakdown", e)))
				goto fail;
			en->nbreak++;
		}
	}
	if (compile_gemm(en, names, e))
		goto fail;
	en->compiled = 1;
	return 0;
fail:
	/* Leave the entry as it was, so a later attempt starts clean. */
	for (k = 0; k < LMP_NKINDS; k++) {
		lmp_tmpl_free(en->tmpl[k]);
		en->tmpl[k] = NULL;
	}
	for (k = 0; k < LMP_NGEMM; k++) {
		lmp_tmpl_free(en->gemm[k]);
		en->gemm[k] = NULL;
	}
	for (k = 0; k < en->nbreak; k++)
		lmp_tmpl_free(en->breakdown[k]);
	free(en->breakdown);
	free(en->break_names);
	en->breakdown = NULL;
	en->break_names = NULL;
	en->nbreak = 0;
	return -1;
}
