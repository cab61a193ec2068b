/* dbopen.c: the module database opened for reading (lmp_db_open).
 *
 * Parsing all of module_db.json costs each tool a few milliseconds, most of
 * them on prose (thinking, sources, validation) and on entries the model
 * never uses.  Here the file is only split: its structure is checked
 * (strings closed, brackets matched, one object), each entry's name, text
 * and aliases are found, and an entry is parsed strictly by lmp_entry_load
 * when a tool first needs it.  lmp-ensure, which edits the database, still
 * reads all of it (lmp_db_load). */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* A key's text: plain keys copied, escaped ones decoded by the parser. */
static char *
key_text(const char *q, const char *after, const char *path, lmp_err *e)
{
	cJSON *j;
	char *s;

	if (!memchr(q, '\\', (size_t)(after - q)))
		return lmp_xstrndup(q + 1, (size_t)(after - q - 2));
	if (!(j = lmp_json_parse_one(q, (size_t)(after - q), path, e)))
		return NULL;
	s = lmp_xstrdup(j->valuestring);
	cJSON_Delete(j);
	return s;
}

/* A member's value starts at v: the function reads or skips it and returns
 * just past it (NULL on error).  Each byte is looked at once. */
typedef const char *(*member_fn)(void *ctx, char *key, const char *v, const char *end, lmp_err *e);

/* Each member of the object at p.  Returns the end of the object. */
static const char *
members(const char *p, const char *end, const char *path, member_fn fn, void *ctx, lmp_err *e)
{
	p = lmp_jscan_ws(p, end);
	if (p >= end || *p != '{')
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: an object was expected", path), NULL;
	p = lmp_jscan_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		const char *k = p, *ke, *v, *ve;
		char *key;
		if (p >= end || *p != '"' || !(ke = lmp_jscan_string(p, end)))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON (a key was expected)", path), NULL;
		p = lmp_jscan_ws(ke, end);
		if (p >= end || *p != ':')
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON (':' was expected)", path), NULL;
		v = lmp_jscan_ws(p + 1, end);
		if (!(key = key_text(k, ke, path, e)))
			return NULL;
		if (!(ve = fn(ctx, key, v, end, e))) {
			if (!e->status)
				lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON", path);
			return NULL;
		}
		p = lmp_jscan_ws(ve, end);
		if (p < end && *p == ',') {
			p = lmp_jscan_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return p + 1;
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON (',' or '}' was expected)", path), NULL;
	}
}

struct scan {
	lmp_db *db;
	int cap, is_db, has_entries, seen_lmp;
	lmp_entry *en; /* the entry whose members are being read */
};

static const char *
entry_member(void *ctx, char *key, const char *v, const char *end, lmp_err *e)
{
	struct scan *sc = ctx;
	const char *ve = lmp_jscan_value(v, end);

	if (ve && !strcmp(key, "aliases")) {
		cJSON *a = lmp_json_parse_one(v, (size_t)(ve - v), sc->db->path, e);
		if (!a || lmp_db_check_aliases(sc->en, a, sc->db->path, e))
			ve = NULL;
		cJSON_Delete(a);
	}
	free(key);
	return ve;
}

static const char *
entry(void *ctx, char *key, const char *v, const char *end, lmp_err *e)
{
	struct scan *sc = ctx;
	lmp_db *db = sc->db;
	lmp_entry *en;
	const char *ve;

	if (db->n == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 128;
		db->entries = lmp_xrealloc(db->entries, (size_t)sc->cap * sizeof *db->entries);
	}
	en = &db->entries[db->n++];
	memset(en, 0, sizeof *en);
	en->name = key;
	sc->en = en;
	if (v >= end || *v != '{')
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: entry %s is not an object", db->path, key), NULL;
	if (!(ve = members(v, end, db->path, entry_member, sc, e)))
		return NULL;
	en->text = v;
	en->text_len = (size_t)(ve - v);
	return ve;
}

static const char *
top_member(void *ctx, char *key, const char *v, const char *end, lmp_err *e)
{
	struct scan *sc = ctx;
	const char *ve;

	if ((!strcmp(key, "entries") && sc->has_entries) || (!strcmp(key, "lmp") && sc->seen_lmp)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: duplicate key \"%s\"", sc->db->path, key);
		free(key);
		return NULL;
	}
	sc->seen_lmp |= !strcmp(key, "lmp");
	if (!strcmp(key, "entries") && v < end && *v == '{') {
		sc->has_entries = 1;
		ve = members(v, end, sc->db->path, entry, sc, e);
	} else {
		ve = lmp_jscan_value(v, end);
		if (ve && !strcmp(key, "lmp"))
			sc->is_db = ve - v == 11 && !memcmp(v, "\"module_db\"", 11);
	}
	free(key);
	return ve;
}

lmp_db *
lmp_db_open(const char *path, lmp_err *e)
{
	lmp_db *db = lmp_xcalloc(1, sizeof *db);
	struct scan sc = {db, 0, 0, 0, 0, NULL};
	lmp_buf b = {0};
	const char *end;

	db->path = path;
	if (lmp_read_file(path, &b, e))
		goto fail;
	db->text = b.s ? b.s : lmp_xstrdup("");
	end = db->text + b.len;
	if (lmp_json_check_text(db->text, b.len, path, e) || !(end = members(db->text, end, path, top_member, &sc, e)))
		goto fail;
	if (lmp_jscan_ws(end, db->text + b.len) != db->text + b.len) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: trailing garbage after the database", path);
		goto fail;
	}
	if (!sc.is_db || !sc.has_entries) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not a module database (needs \"lmp\": \"module_db\" and \"entries\")", path);
		goto fail;
	}
	if (lmp_db_check_names(db, e))
		goto fail;
	return db;
fail:
	lmp_db_free(db);
	return NULL;
}
