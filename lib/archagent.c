/* archagent.c: an unresolved architecture document (a model_type with no
 * template) resolved by the architecture agent (lmp-ensure(1)).
 *
 * The prompt carries what a person writing the template would read: the
 * config, the family's modeling and configuration source, the template
 * manual, the shipped templates closest to it and the database entries its
 * nodes may use.  The answer is untrusted: it must load as a template
 * (archload.c: no unknown key, "extends" resolved), build with the config
 * (arch.c: every formula compiles, every count is a whole number), consume
 * or declare every config field, bind every parameter of every known
 * class without a config field silently taking an attribute's place, and
 * (its classes all known) evaluate at realistic points.  A
 * refused answer goes back to the agent with the refusal (lmp_agent_ask). */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

#define SOURCE_MAX (256 << 10) /* bytes of one source file in the prompt */
#define NEAREST 3

/* ---- the prompt ---- */

static const char *
unresolved_type(const cJSON *doc)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "unresolved"), "model_type");

	return cJSON_IsString(mt) ? mt->valuestring : NULL;
}

/* A file into b as a fenced block, when it is there. */
static int
quote_file(lmp_buf *b, const char *path, const char *shown, const char *lang)
{
	lmp_buf t = {0};
	lmp_err ignore;

	if (access(path, R_OK) || lmp_read_file(path, &t, &ignore)) {
		lmp_buf_free(&t);
		return 0;
	}
	lmp_buf_printf(b, "File %s:\n\n```%s\n", shown, lang);
	lmp_buf_add(b, t.s, t.len < SOURCE_MAX ? t.len : SOURCE_MAX);
	lmp_buf_puts(b, t.len > SOURCE_MAX ? "\n(cut here)\n```\n\n" : "\n```\n\n");
	lmp_buf_free(&t);
	return 1;
}

/* The config's directory, where remote code (auto_map) lives beside it. */
static void
config_dir(const cJSON *doc, char out[PATH_MAX])
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(model, "config_file");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(model, "source");
	char *slash;

	out[0] = '\0';
	if (!cJSON_IsString(f))
		return;
	if (cJSON_IsString(src) && !strcmp(src->valuestring, "shipped") && f->valuestring[0] != '/')
		snprintf(out, PATH_MAX, "%s/%s", lmp_datadir(), f->valuestring);
	else
		snprintf(out, PATH_MAX, "%s", f->valuestring);
	if ((slash = strrchr(out, '/')))
		*slash = '\0';
	else
		snprintf(out, PATH_MAX, ".");
}

/* The family's modeling and configuration source: a transformers checkout
 * (--source-root), and the checkpoint's own files named by auto_map. */
static void
family_source(lmp_buf *b, const cJSON *doc, const char *root, const char *mt)
{
	const cJSON *am = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "config"), "auto_map"), *c;
	char path[2 * PATH_MAX + 256], shown[PATH_MAX + 256], dir[PATH_MAX];
	const char *kinds[] = {"modeling", "configuration"};
	char **seen = NULL;
	int n = 0, found = 0;

	for (int k = 0; root && k < 2; k++) {
		snprintf(shown, sizeof shown, "src/transformers/models/%s/%s_%s.py", mt, kinds[k], mt);
		snprintf(path, sizeof path, "%.*s/%.*s", PATH_MAX, root, PATH_MAX, shown);
		found += quote_file(b, path, shown, "python");
	}
	config_dir(doc, dir);
	cJSON_ArrayForEach(c, am) {
		const char *v = cJSON_IsString(c) ? c->valuestring : NULL, *dot, *dash;
		char mod[256];
		int dup = 0;
		if (cJSON_IsArray(c)) /* AutoTokenizer: [slow, fast] */
			continue;
		if (!v || !(dot = strrchr(v, '.')) || !*dir)
			continue;
		if ((dash = strstr(v, "--")) && dash < dot)
			v = dash + 2; /* "org/repo--modeling_x.Class": the file is the repo's */
		snprintf(mod, sizeof mod, "%.*s", (int)(dot - v), v);
		if (!*mod || strchr(mod, '/') || strstr(mod, ".."))
			continue;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(seen[i], mod);
		if (dup)
			continue;
		seen = lmp_xrealloc(seen, sizeof *seen * (size_t)(n + 1));
		seen[n++] = lmp_xstrdup(mod);
		snprintf(path, sizeof path, "%s/%s.py", dir, mod);
		snprintf(shown, sizeof shown, "%s.py (the checkpoint's remote code, auto_map)", mod);
		found += quote_file(b, path, shown, "python");
	}
	for (int i = 0; i < n; i++)
		free(seen[i]);
	free(seen);
	if (!found)
		lmp_buf_printf(b, "(No source at hand: read the modeling_%s.py and configuration_%s.py of this family "
			"that you can reach (transformers, or the model's own repository), and cite them in \"sources\".)\n", mt, mt);
}

/* How close a template is to the config: the fields of its defaults the
 * config has, less those it lacks (a bigger family is no closer). */
static int
closeness(const cJSON *tmpl, const cJSON *cfg)
{
	const cJSON *c;
	int score = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(tmpl, "defaults"))
		score += cJSON_GetObjectItemCaseSensitive(cfg, c->string) ? 3 : -1;
	return score;
}

/* The shipped templates closest to the config, as they are written (a
 * derived one shows "extends"). */
static void
nearest_templates(lmp_buf *b, const cJSON *cfg)
{
	int n, best[NEAREST], score[NEAREST], k = 0;
	char **names = lmp_data_list("archs", &n);

	for (int i = 0; i < NEAREST; i++)
		best[i] = -1, score[i] = -1;
	for (int i = 0; i < n; i++) {
		lmp_err ignore;
		char path[PATH_MAX + 64];
		cJSON *t = lmp_arch_load(names[i], path, &ignore), *raw;
		int s, j;
		if (!t)
			continue;
		/* a base template wins a tie: deriving from it is the best answer */
		snprintf(path, sizeof path, "%s/archs/%s.json", lmp_datadir(), names[i]);
		raw = lmp_json_load_file(path, &ignore);
		s = closeness(t, cfg) * 2 + (raw && !cJSON_GetObjectItemCaseSensitive(raw, "extends"));
		cJSON_Delete(raw);
		cJSON_Delete(t);
		for (j = NEAREST; j > 0 && s > score[j - 1]; j--)
			if (j < NEAREST)
				best[j] = best[j - 1], score[j] = score[j - 1];
		if (j < NEAREST)
			best[j] = i, score[j] = s;
	}
	/* the parent of the closest derived one, in place of the last: it is
	 * what an answer with "extends" builds on */
	for (int i = 0; i < NEAREST - 1 && best[NEAREST - 1] >= 0; i++) {
		char path[PATH_MAX + 64];
		lmp_err ignore;
		cJSON *raw;
		const cJSON *ext;
		int p = -1, have = 0;
		snprintf(path, sizeof path, "%s/archs/%s.json", lmp_datadir(), names[best[i]]);
		if (!(raw = lmp_json_load_file(path, &ignore)))
			continue;
		ext = cJSON_GetObjectItemCaseSensitive(raw, "extends");
		for (int j = 0; cJSON_IsString(ext) && j < n; j++)
			if (!strcmp(names[j], ext->valuestring))
				p = j;
		for (int j = 0; j < NEAREST; j++)
			have |= best[j] == p;
		cJSON_Delete(raw);
		if (p >= 0 && !have) {
			best[NEAREST - 1] = p;
			break;
		}
	}
	for (int i = 0; i < NEAREST; i++) {
		char path[PATH_MAX + 64], shown[200];
		if (best[i] < 0)
			continue;
		snprintf(path, sizeof path, "%s/archs/%s.json", lmp_datadir(), names[best[i]]);
		snprintf(shown, sizeof shown, "share/lmp/archs/%s.json", names[best[i]]);
		k += quote_file(b, path, shown, "json");
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!k)
		lmp_buf_puts(b, "(none)\n");
}

static void
clip(lmp_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n && i < max; i++)
		lmp_buf_putc(b, s[i] == '\n' ? ' ' : s[i]);
	if (n > max)
		lmp_buf_puts(b, "...");
}

/* The entries a node may use: those with formulas, with their parameters
 * (defaults, descriptions) and what they count. */
static void
usable_entries(lmp_buf *b, lmp_db *db)
{
	for (int i = 0; i < db->n; i++) {
		lmp_entry *en = &db->entries[i];
		lmp_err ignore;
		const cJSON *fa, *f, *pc;
		if (lmp_entry_load(db, en, &ignore))
			continue;
		fa = cJSON_GetObjectItemCaseSensitive(en->json, "flop_analysis");
		f = cJSON_GetObjectItemCaseSensitive(fa, "formula");
		pc = cJSON_GetObjectItemCaseSensitive(en->json, "param_count");
		if (!cJSON_IsString(f))
			continue; /* a container: its children count */
		lmp_buf_printf(b, "- %s(", en->name);
		for (int k = 0; k < en->nparams; k++) {
			lmp_buf_printf(b, "%s%s", k ? ", " : "", en->params[k].name);
			if (en->params[k].dflt) {
				char *d = lmp_json_print(en->params[k].dflt, 0);
				lmp_buf_printf(b, " = %s", d);
				free(d);
			}
		}
		lmp_buf_puts(b, ")\n  flops: ");
		clip(b, f->valuestring, 200);
		if (cJSON_IsString(pc)) {
			lmp_buf_puts(b, "; parameters: ");
			clip(b, pc->valuestring, 200);
		}
		lmp_buf_putc(b, '\n');
		for (int k = 0; k < en->nparams; k++)
			if (en->params[k].description) {
				lmp_buf_printf(b, "  %s: ", en->params[k].name);
				clip(b, en->params[k].description, 160);
				lmp_buf_putc(b, '\n');
			}
	}
}

static void
manual(lmp_buf *b)
{
	char path[PATH_MAX + 64];

	/* installed beside the data; in a checkout, the man page itself */
	snprintf(path, sizeof path, "%s/lmp-arch.5", lmp_datadir());
	if (quote_file(b, path, "lmp-arch(5)", "roff"))
		return;
	snprintf(path, sizeof path, "%s/../../man/lmp-arch.5", lmp_datadir());
	if (!quote_file(b, path, "lmp-arch(5)", "roff"))
		lmp_buf_puts(b, "(The manual lmp-arch(5) was not found.)\n");
}

char *
lmp_arch_prompt(const cJSON *doc, lmp_db *db, const char *source_root, lmp_err *e)
{
	const char *mt = unresolved_type(doc);
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
	lmp_buf tmpl = {0}, config = {0}, src = {0}, man = {0}, ex = {0}, ent = {0}, out = {0};
	char path[PATH_MAX + 64];

	if (!mt || !cJSON_IsObject(cfg))
		return lmp_fail(e, LMP_EXIT_INPUT, "an unresolved document names its model_type and carries its config"), NULL;
	snprintf(path, sizeof path, "%s/prompts/arch_analyzer.md", lmp_datadir());
	if (lmp_read_file(path, &tmpl, e))
		return NULL;
	lmp_json_print_buf(cfg, 1, &config);
	family_source(&src, doc, source_root, mt);
	manual(&man);
	nearest_templates(&ex, cfg);
	usable_entries(&ent, db);
	{
		const char *keys[] = {"{{MODEL_TYPE}}", "{{CONFIG}}", "{{SOURCE}}", "{{MANUAL}}", "{{EXAMPLES}}", "{{ENTRIES}}"};
		const char *vals[] = {mt, config.s, src.s, man.s, ex.s, ent.s ? ent.s : "(none)\n"};
		lmp_fill_template(&out, tmpl.s, keys, vals, 6);
	}
	lmp_buf_free(&tmpl);
	lmp_buf_free(&config);
	lmp_buf_free(&src);
	lmp_buf_free(&man);
	lmp_buf_free(&ex);
	lmp_buf_free(&ent);
	return out.s;
}

/* ---- the answer ---- */

struct walk {
	lmp_db *db;
	const cJSON *config, *scoped;
	lmp_err *e;
	lmp_buf *unknown; /* classes for the module agent */
};

/* One leaf: its counts whole and non-negative, every parameter of its
 * class bound, no config field taking an attribute's place. */
static int
check_leaf(struct walk *W, const cJSON *node, const char *path)
{
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(node, "attrs"), *a;
	lmp_entry *en;

	cJSON_ArrayForEach(a, attrs) {
		lmp_num v;
		if (cJSON_IsNumber(a) && !lmp_json_num(a, &v) && lmp_num_sign(&v) < 0)
			return lmp_fail(W->e, LMP_EXIT_AGENT, "%s: attrs.%s is %s, a negative count", path, a->string,
				a->valuestring ? a->valuestring : "negative");
	}
	if (!(en = lmp_db_find(W->db, cls->valuestring))) {
		lmp_buf have = {0};
		lmp_buf_printf(&have, ", %s, ", W->unknown->len ? W->unknown->s : "");
		char *key = lmp_xmalloc(strlen(cls->valuestring) + 5);
		sprintf(key, ", %s, ", cls->valuestring);
		if (!strstr(have.s, key))
			lmp_buf_printf(W->unknown, "%s%s", W->unknown->len ? ", " : "", cls->valuestring);
		free(key);
		lmp_buf_free(&have);
		return 0;
	}
	if (lmp_entry_load(W->db, en, W->e))
		return -1;
	for (int i = 0; i < en->nparams; i++) {
		const char *p = en->params[i].name;
		const cJSON *c = lmp_config_binding(W->config, W->scoped, p);
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(attrs, p);
		int cfg = c != NULL;
		if (cfg && at) {
			char *x = lmp_json_print(c, 0), *y = lmp_json_print(at, 0);
			int same = !strcmp(x, y);
			if (!same)
				lmp_fail(W->e, LMP_EXIT_AGENT, "%s: attrs.%s = %.60s is shadowed by config field %s = %.60s "
					"(a config field binds first: name the attribute otherwise, or list the field in \"scoped\")",
					path, p, y, p, x);
			free(x);
			free(y);
			if (!same)
				return -1;
		}
		if (!cfg && !at && lmp_var_lookup(p, strlen(p)) < 0 && !en->params[i].dflt)
			return lmp_fail(W->e, LMP_EXIT_AGENT, "%s: nothing binds parameter '%s' of %s (no attribute, "
				"config field, runtime variable or default)", path, p, en->name);
	}
	return 0;
}

static int
walk_nodes(struct walk *W, const cJSON *list, const char *parent, int depth)
{
	const cJSON *n;

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(W->e, LMP_EXIT_AGENT, "layers nested deeper than %d", LMP_MAX_TREE_DEPTH);
	cJSON_ArrayForEach(n, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name"), *subs;
		lmp_buf path = {0};
		int rc;
		if (!cJSON_IsString(name) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(n, "class")))
			return lmp_fail(W->e, LMP_EXIT_AGENT, "%s: a layer without a name and a class", parent);
		lmp_layer_path(&path, parent, name->valuestring, n);
		subs = cJSON_GetObjectItemCaseSensitive(n, "sub_layers");
		rc = subs ? walk_nodes(W, subs, path.s, depth + 1) : check_leaf(W, n, path.s);
		lmp_buf_free(&path);
		if (rc)
			return -1;
	}
	return 0;
}

/* The model built with the template, populated and evaluated at realistic
 * points: a prefill, a decode step deep in a cache, a mixed batch.  Every
 * bound value is checked at each (never negative, whole where an int),
 * so a formula right only in some order of its samples passes. */
static int
try_points(const cJSON *built, lmp_db *db, lmp_err *e)
{
	static const lmp_query pts[][2] = {
		{{512, 0, 1}, {0, 0, 0}},
		{{1, 4096, 8}, {0, 0, 0}},
		{{128, 0, 2}, {1, 2048, 6}},
	};
	cJSON *doc = cJSON_Duplicate(built, 1);
	lmp_model *m = NULL;
	int rc = -1;

	if (lmp_populate(doc, db, NULL, NULL, e) || !(m = lmp_model_load(doc, db, e)))
		goto out;
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		lmp_runtime rt = {pts[i][1].count ? 2 : 1, (lmp_query *)pts[i], 16, 16, 16, {{0}}, NULL, 0, 0, 0, 0};
		lmp_buf b = {0};
		int bad = lmp_runtime_compute(&rt, e) || lmp_eval_doc(m, &rt, 0, &b, e);
		lmp_buf_free(&b);
		if (bad) {
			lmp_prefix(e, "evaluated at %lld sequence%s of %lld new tokens over %lld cached%s: ",
				(long long)pts[i][0].count, pts[i][0].count > 1 ? "s" : "", (long long)pts[i][0].seq_len,
				(long long)pts[i][0].cache_len, pts[i][1].count ? " and more" : "");
			goto out;
		}
	}
	rc = 0;
out:
	lmp_model_free(m);
	cJSON_Delete(doc);
	return rc;
}

/* The document of the unresolved model with template tmpl. */
static cJSON *
build(const cJSON *doc, const cJSON *tmpl, const char *file, lmp_err *e)
{
	const cJSON *arch, *a;
	cJSON *model = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "model"), 1);
	cJSON *cfg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "config"), 1), *out;
	int ok = 0;

	cJSON_DeleteItemFromObjectCaseSensitive(model, "config_unused");
	cJSON_DeleteItemFromObjectCaseSensitive(model, "template_file");
	arch = cJSON_GetObjectItemCaseSensitive(model, "architecture");
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(tmpl, "architectures"))
		ok |= cJSON_IsString(a) && cJSON_IsString(arch) && !strcmp(a->valuestring, arch->valuestring);
	if (cJSON_IsString(arch) && !ok) {
		lmp_fail(e, LMP_EXIT_INPUT, "the template's \"architectures\" do not list the config's %s", arch->valuestring);
		cJSON_Delete(model);
		cJSON_Delete(cfg);
		return NULL;
	}
	if (file && *file)
		cJSON_AddStringToObject(model, "template_file", file);
	out = lmp_arch_build(tmpl, cfg, model, e);
	cJSON_Delete(cfg);
	return out;
}

/* The answer loaded as a template file would be: written where "extends"
 * resolves as on the path, then read back through archload.c. */
static cJSON *
load_answer(const cJSON *answer, const char *mt, lmp_err *e)
{
	const char *tmp = getenv("TMPDIR");
	char tdir[PATH_MAX], path[PATH_MAX + 80];
	char *text = lmp_json_print(answer, 1);
	cJSON *t = NULL;

	snprintf(tdir, sizeof tdir, "%s/lmp-arch.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(tdir)) {
		free(text);
		return lmp_fail(e, LMP_EXIT_SYSTEM, "cannot make a temporary directory"), NULL;
	}
	snprintf(path, sizeof path, "%s/%.64s.json", tdir, mt);
	if (!lmp_write_atomic(path, text, strlen(text), e)) {
		t = lmp_arch_load_file(path, e);
		unlink(path);
	}
	rmdir(tdir);
	free(text);
	if (!t) {
		/* name the answer, not our temporary file */
		char *at = strstr(e->msg, path);
		if (at) {
			char rest[sizeof e->msg];
			snprintf(rest, sizeof rest, "%s", at + strlen(path));
			snprintf(e->msg, sizeof e->msg, "the template%.*s", (int)sizeof e->msg - 16, rest);
		}
	}
	return t;
}

cJSON *
lmp_arch_answer_check(const cJSON *said, const cJSON *doc, lmp_db *db, lmp_buf *unknown, lmp_err *e)
{
	const char *mt = unresolved_type(doc);
	cJSON *answer = cJSON_Duplicate(said, 1), *tmpl = NULL, *built = NULL, *v;
	const cJSON *amt, *un, *f;
	char today[11];

	if (!answer)
		return NULL;
	amt = cJSON_GetObjectItemCaseSensitive(answer, "model_type");
	if (!cJSON_IsObject(answer) || !cJSON_IsString(amt) || strcmp(amt->valuestring, mt)) {
		lmp_fail(e, LMP_EXIT_AGENT, "the answer is not a template of model_type \"%s\"", mt);
		goto fail;
	}
	if (!(tmpl = load_answer(answer, mt, e)) || !(built = build(doc, tmpl, NULL, e)))
		goto fail;
	un = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(built, "model"), "config_unused");
	if (cJSON_GetArraySize(un) > 0) {
		lmp_buf b = {0};
		cJSON_ArrayForEach(f, un)
			lmp_buf_printf(&b, "%s%s", f == un->child ? "" : ", ", f->valuestring);
		lmp_fail(e, LMP_EXIT_AGENT, "config field%s %.400s %s neither used nor declared in \"accept\"",
			cJSON_GetArraySize(un) > 1 ? "s" : "", b.s, cJSON_GetArraySize(un) > 1 ? "are" : "is");
		lmp_buf_free(&b);
		goto fail;
	}
	{
		struct walk W = {db, cJSON_GetObjectItemCaseSensitive(built, "config"),
			cJSON_GetObjectItemCaseSensitive(built, "scoped"), e, unknown};
		if (walk_nodes(&W, cJSON_GetObjectItemCaseSensitive(built, "layers"), "", 0))
			goto fail;
	}
	/* with every class known; else lmp-populate and lmp-eval check it once
	 * the module agent has answered */
	if (!unknown->len && try_points(built, db, e))
		goto fail;
	cJSON_Delete(tmpl);
	cJSON_Delete(built);
	lmp_today(today);
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "status", "pending");
	cJSON_AddStringToObject(v, "by", "lmp-ensure (architecture agent)");
	cJSON_AddStringToObject(v, "date", today);
	cJSON_AddStringToObject(v, "notes", "loaded, built with the config it was written for, every config field "
		"consumed, every parameter of its known classes bound; not yet checked by a person");
	cJSON_DeleteItemFromObjectCaseSensitive(answer, "validation");
	cJSON_AddItemToObject(answer, "validation", v);
	return answer;
fail:
	if (e->status == LMP_EXIT_INPUT)
		e->status = LMP_EXIT_AGENT;
	cJSON_Delete(tmpl);
	cJSON_Delete(built);
	cJSON_Delete(answer);
	return NULL;
}

int
lmp_arch_store_dir(char *dir, lmp_err *e)
{
	const char *home = lmp_data_home();

	if (!home)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "no data home to keep the template in (HOME and XDG_DATA_HOME are unset)");
	snprintf(dir, PATH_MAX, "%.*s/archs", PATH_MAX - 8, home);
	if (lmp_mkdirs(dir, e))
		return -1;
	if (access(dir, W_OK))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s is not writable (the architecture agent's templates go there)", dir);
	return 0;
}

int
lmp_arch_store(const cJSON *tmpl, char *path, lmp_err *e)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(tmpl, "model_type");
	char dir[PATH_MAX];
	char *text;
	int rc;

	if (lmp_arch_store_dir(dir, e))
		return -1;
	snprintf(path, PATH_MAX, "%.*s/%.64s.json", PATH_MAX - 80, dir, mt->valuestring);
	text = lmp_json_print(tmpl, 1);
	lmp_buf b = {0};
	lmp_buf_puts(&b, text);
	lmp_buf_putc(&b, '\n');
	rc = lmp_write_atomic(path, b.s, b.len, e);
	lmp_buf_free(&b);
	free(text);
	return rc;
}

cJSON *
lmp_arch_resolve_doc(const cJSON *doc, lmp_err *e)
{
	const char *mt = unresolved_type(doc);
	char where[PATH_MAX] = "";
	cJSON *tmpl, *out;

	if (!mt)
		return lmp_fail(e, LMP_EXIT_INPUT, "an unresolved document names its model_type"), NULL;
	if (!(tmpl = lmp_arch_load(mt, where, e)))
		return NULL;
	out = build(doc, tmpl, where, e);
	cJSON_Delete(tmpl);
	return out;
}
