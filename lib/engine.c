/* engine.c: engine profiles.
 *
 * A profile (share/lmp/engines/NAME.json, lmp-engine(5)) names an engine
 * and sets runtime options ("knobs") to what that engine does, each with
 * the source that shows it.  Applied before lmp-eval's points are made, a
 * knob is a default: the command line overrides it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

const char *
lmp_engine_name(const char *opt)
{
	const char *env = getenv("LMP_ENGINE");

	if (opt)
		return opt;
	return env && *env ? env : LMP_ENGINE_DEFAULT;
}

static int
is_path(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static cJSON *
load(const char *name, char *path, size_t size, lmp_err *e)
{
	char *known;
	int i;

	if (is_path(name)) {
		snprintf(path, size, "%s", name);
	} else {
		for (i = 0; name[i] && strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", name[i]); i++)
			;
		snprintf(path, size, "%s/engines/%s.json", lmp_datadir(), name);
		if (name[i] || !*name || access(path, R_OK) != 0) {
			known = lmp_data_names("engines");
			lmp_fail(e, LMP_EXIT_USAGE, "unknown engine '%s' (known: %s)", name, known);
			free(known);
			return NULL;
		}
	}
	return lmp_json_load_file(path, e);
}

/* The runtime option whose "runtime" field is key, or -1. */
static int
option(const char *key)
{
	for (int i = 0; i < LMP_NRUNOPTS; i++)
		if (!strcmp(lmp_runopts[i].json, key))
			return i;
	return -1;
}

/* One knob {"value", "source", "note"?}: its value into v unless the
 * command line gave the option. */
static int
knob(const cJSON *k, const char *file, lmp_runvals *v, lmp_err *e)
{
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(k, "value");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(k, "source");
	int opt = option(k->string);

	if (opt < 0 || opt == LMP_RO_ENGINE)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: knob '%s' is not a runtime option (lmp-eval --list-options)",
			file, k->string);
	if (!cJSON_IsObject(k) || !(cJSON_IsNumber(val) || cJSON_IsString(val)) || !cJSON_IsString(src) ||
	    strlen(src->valuestring) < 4)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: knob %s needs a \"value\" and a \"source\"", file, k->string);
	if (v->given[opt])
		return 0;
	/* a number keeps its literal text (json.c): "0.9" parses as given */
	if (lmp_runopt_parse(v, opt, val->valuestring, e)) {
		e->status = LMP_EXIT_INPUT;
		return lmp_prefix(e, "%s: knob %s: ", file, k->string);
	}
	return 0;
}

int
lmp_engine_apply(const char *name, lmp_runvals *v, lmp_err *e)
{
	char path[4096];
	cJSON *doc = load(name, path, sizeof path, e);
	const cJSON *kind, *id, *knobs, *k;
	int rc = -1;

	if (!doc)
		return -1;
	kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	knobs = cJSON_GetObjectItemCaseSensitive(doc, "knobs");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "engine")) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not an engine profile (needs \"lmp\": \"engine\")", path);
		goto out;
	}
	if (!cJSON_IsString(id) || !*id->valuestring || strspn(id->valuestring,
	    "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(id->valuestring) || !cJSON_IsObject(knobs)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: needs an \"id\" (lowercase letters, digits, - _ .) and \"knobs\"", path);
		goto out;
	}
	/* the command line's options stay; the profile's fill the rest */
	cJSON_ArrayForEach(k, knobs) {
		if (knob(k, path, v, e))
			goto out;
	}
	free(v->engine);
	v->engine = lmp_xstrdup(id->valuestring);
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}

void
lmp_knob_json(lmp_buf *b, int opt, int64_t v)
{
	const lmp_runopt *r = &lmp_runopts[opt];

	if (r->type == LMP_RO_CHOICES) {
		lmp_json_string(b, lmp_runopt_choice(opt, v));
	} else if (r->type == LMP_RO_FRACS && !v) {
		lmp_buf_puts(b, "null"); /* none: the whole device, nothing reserved */
	} else if (r->type == LMP_RO_FRACS) {
		lmp_num x = lmp_num_frac(v, 10000);
		char s[LMP_NUM_STRMAX];
		lmp_num_str(&x, s);
		lmp_buf_puts(b, s);
	} else {
		lmp_buf_printf(b, "%lld", (long long)v);
	}
}

/* The profile whose "corpus_names" lists name (lmp-engine(5)). */
char *
lmp_engine_for_corpus(const char *name, lmp_err *e)
{
	char **ids, path[4096], *found = NULL;
	const cJSON *names, *n;
	cJSON *doc;
	int count, i;

	ids = lmp_data_list("engines", &count);
	for (i = 0; i < count; i++) {
		if (!found && (doc = load(ids[i], path, sizeof path, e))) {
			names = cJSON_GetObjectItemCaseSensitive(doc, "corpus_names");
			cJSON_ArrayForEach(n, names) {
				if (cJSON_IsString(n) && !strcmp(n->valuestring, name) && !found)
					found = lmp_xstrdup(ids[i]);
			}
			cJSON_Delete(doc);
		}
		free(ids[i]);
	}
	free(ids);
	return found;
}
