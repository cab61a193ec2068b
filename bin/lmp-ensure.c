/* lmp-ensure: makes sure the module database knows every class of an
 * architecture, asking the analysis agent for the ones it does not. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-ensure [--db FILE] [--agent CMD] [--timeout SECONDS] [--retries N] [--source-root DIR] [--quiet] [FILE]\n"
	"       lmp-ensure --module CLASS [--force] [--db FILE] [--agent CMD] [--timeout SECONDS] [--retries N]\n"
	"                  [--source-root DIR]\n"
	"       lmp-ensure --list [--db FILE]\n"
	"       lmp-ensure --validate CLASS --by NAME [--db FILE]\n"
	"       lmp-ensure --help | --version\n";

#define DEFAULT_AGENT "claude -p --dangerously-skip-permissions --output-format json"

struct opts {
	const char *db, *agent, *source_root, *module, *validate, *by, *file;
	const char *wdb; /* where additions go: --db/LMP_DB, else the user's database */
	double timeout;
	int force, list, quiet;
	int retries; /* tries after the first when an answer is refused */
};



static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_DB = 256, O_AGENT, O_TIMEOUT, O_SRC, O_MODULE, O_FORCE, O_LIST, O_VALIDATE, O_BY, O_QUIET, O_HELP, O_VERSION, O_RETRIES };
	static const struct option longs[] = {
		{"db", required_argument, 0, O_DB},
		{"agent", required_argument, 0, O_AGENT},
		{"timeout", required_argument, 0, O_TIMEOUT},
		{"source-root", required_argument, 0, O_SRC},
		{"module", required_argument, 0, O_MODULE},
		{"force", no_argument, 0, O_FORCE},
		{"list", no_argument, 0, O_LIST},
		{"validate", required_argument, 0, O_VALIDATE},
		{"by", required_argument, 0, O_BY},
		{"quiet", no_argument, 0, O_QUIET},
		{"retries", required_argument, 0, O_RETRIES},
		{"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	char msg[256];
	int64_t t;
	int c;

	o->timeout = 600;
	o->retries = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_AGENT: o->agent = optarg; break;
		case O_TIMEOUT:
			if (lmp_parse_i64(optarg, 1, 86400, &t))
				lmp_usage_error("--timeout: not a number of seconds in [1, 86400]");
			o->timeout = (double)t;
			break;
		case O_RETRIES:
			if (lmp_parse_i64(optarg, 0, 100, &t))
				lmp_usage_error("--retries: not a number in [0, 100]");
			o->retries = (int)t;
			break;
		case O_SRC: o->source_root = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_FORCE: o->force = 1; break;
		case O_LIST: o->list = 1; break;
		case O_VALIDATE: o->validate = optarg; break;
		case O_BY: o->by = optarg; break;
		case O_QUIET: o->quiet = 1; break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-ensure " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if ((o->module != NULL) + o->list + (o->validate != NULL) > 1)
		lmp_usage_error("--module, --list and --validate exclude each other");
	if (o->validate && (!o->by || !*o->by))
		lmp_usage_error("--validate needs --by NAME");
	if (o->by && !o->validate)
		lmp_usage_error("--by goes with --validate");
	if (o->force && !o->module)
		lmp_usage_error("--force goes with --module");
	if (argc - optind > ((o->module || o->list || o->validate) ? 0 : 1))
		lmp_usage_error("too many operands");
	o->file = optind < argc ? argv[optind] : NULL;
	if (!o->agent)
		o->agent = getenv("LMP_AGENT") && *getenv("LMP_AGENT") ? getenv("LMP_AGENT") : DEFAULT_AGENT;
	/* NULL: the user's database layered over the shipped one (lmp_db_layers) */
	o->db = lmp_db_explicit(o->db);
	o->wdb = lmp_db_write_path(o->db);
}

/* The database additions go to, created in the data home when it is the
 * user's and not there yet. */
static int
writable(const struct opts *o, lmp_err *e)
{
	if (!o->db && lmp_user_db_create(e))
		return -1;
	return lmp_db_writable(o->wdb, e);
}

/* ---- the database ---- */

struct change {
	const char *cls;
	const char *validate_by;
};

static int
set_validated(cJSON *db, void *ctx, lmp_err *e)
{
	struct change *c = ctx;
	cJSON *en = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(db, "entries"), c->cls);
	cJSON *v = cJSON_CreateObject();
	char today[11];

	if (!en) {
		cJSON_Delete(v);
		return lmp_fail(e, LMP_EXIT_INPUT, "%s is not in the database", c->cls);
	}
	lmp_today(today);
	cJSON_AddStringToObject(v, "status", "validated");
	cJSON_AddStringToObject(v, "by", c->validate_by);
	cJSON_AddStringToObject(v, "date", today);
	cJSON_AddStringToObject(v, "notes", "validated by hand with lmp-ensure --validate");
	if (cJSON_GetObjectItemCaseSensitive(en, "validation"))
		cJSON_ReplaceItemInObjectCaseSensitive(en, "validation", v);
	else
		cJSON_AddItemToObject(en, "validation", v);
	return 0;
}

static void
refused(const lmp_ask *a, const lmp_err *why)
{
	fprintf(stderr, "lmp-ensure: %s: answer refused (%s); asking again (try %d of %d)\n", a->what, why->msg,
		a->tries + 1, a->retries + 1);
}

/* Ask the agent for cls, check the answer, add it.  0 or -1. */
static int
analyse(const struct opts *o, lmp_db *db, const char *cls, lmp_err *e)
{
	lmp_module_opts m = {o->wdb, o->agent, o->timeout, o->retries, o->source_root, o->force, o->quiet ? NULL : refused,
		o->quiet};

	return lmp_module_analyse(&m, db, cls, e);
}

/* ---- the architecture ---- */

struct cls_list {
	char **name;
	int *composite;
	int n;
};

static int
seen(struct cls_list *l, const char *c)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], c))
			return i;
	return -1;
}

/* Classes in post-order: children before the composites that hold them. */
static int
collect(const cJSON *node, struct cls_list *l, int depth, lmp_err *e)
{
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class");
	const cJSON *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers"), *c;
	int i;

	if (depth > 64)
		return lmp_fail(e, LMP_EXIT_INPUT, "layers nested deeper than 64");
	if (!cJSON_IsObject(node) || !cJSON_IsString(cls))
		return lmp_fail(e, LMP_EXIT_INPUT, "a layer without a \"class\"");
	if (!lmp_valid_class_name(cls->valuestring))
		return lmp_fail(e, LMP_EXIT_INPUT, "class '%.100s' is not a dotted Python name", cls->valuestring);
	cJSON_ArrayForEach(c, subs)
		if (collect(c, l, depth + 1, e))
			return -1;
	if ((i = seen(l, cls->valuestring)) < 0) {
		l->name = lmp_xrealloc(l->name, sizeof *l->name * (size_t)(l->n + 1));
		l->composite = lmp_xrealloc(l->composite, sizeof *l->composite * (size_t)(l->n + 1));
		l->name[l->n] = cls->valuestring;
		l->composite[l->n] = 0;
		i = l->n++;
	}
	if (subs)
		l->composite[i] = 1;
	return 0;
}

/* A composite whose children are all known is a pure container: the tree
 * lists every operation its forward() performs, so its cost is theirs. */
static cJSON *
container(const cJSON *arch, const char *cls)
{
	cJSON *en = cJSON_CreateObject(), *fa, *ma, *v;
	char today[11];

	(void)arch;
	lmp_today(today);
	cJSON_AddStringToObject(en, "full_class_name", cls);
	cJSON_AddStringToObject(en, "kind", "composite");
	cJSON_AddItemToObject(en, "code_location", cJSON_CreateObject());
	cJSON_AddItemToObject(en, "parameters", cJSON_CreateArray());
	fa = cJSON_AddObjectToObject(en, "flop_analysis");
	cJSON_AddStringToObject(fa, "thinking_process", "A container: every operation of its forward() is a child "
		"in the architecture tree, so its cost is the sum of its children's; it has no formulas of its own.");
	ma = cJSON_AddObjectToObject(en, "memory_analysis");
	cJSON_AddStringToObject(ma, "thinking_process", "As its children.");
	v = cJSON_AddObjectToObject(en, "validation");
	cJSON_AddStringToObject(v, "status", "inferred");
	cJSON_AddStringToObject(v, "by", "lmp-ensure");
	cJSON_AddStringToObject(v, "date", today);
	cJSON_AddStringToObject(v, "notes", "inferred as a pure container from the architecture tree");
	return en;
}

/* Whether every child of every node of class cls is in the database. */
static int
children_known(const cJSON *layers, const char *cls, lmp_db *db)
{
	const cJSON *n, *c;

	cJSON_ArrayForEach(n, layers) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(n, "class");
		const cJSON *subs = cJSON_GetObjectItemCaseSensitive(n, "sub_layers");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, cls))
			cJSON_ArrayForEach(c, subs) {
				const cJSON *ck = cJSON_GetObjectItemCaseSensitive(c, "class");
				if (!cJSON_IsString(ck) || !lmp_db_find(db, ck->valuestring))
					return 0;
			}
		if (!children_known(subs, cls, db))
			return 0;
	}
	return 1;
}

static lmp_db *
reload(const struct opts *o, lmp_db *db, lmp_err *e)
{
	lmp_db_free(db);
	if (!(db = lmp_db_layers(o->db, 1, e)))
		lmp_die(e);
	return db;
}

/* ---- an unresolved architecture (lib/archagent.c) ---- */

struct archctx {
	const cJSON *doc;
	lmp_db *db;
	cJSON *accepted;
	lmp_buf unknown;
	const char *mt;
	int quiet;
};

static int
check_template(cJSON *answer, void *ctx, lmp_err *e)
{
	struct archctx *a = ctx;

	a->unknown.len = 0;
	if (a->unknown.s)
		a->unknown.s[0] = '\0';
	cJSON_Delete(a->accepted);
	a->accepted = lmp_arch_answer_check(answer, a->doc, a->db, &a->unknown, e);
	return a->accepted ? 0 : -1;
}

/* The document built with a template: the one on the path, else the
 * agent's, checked, stored in the data home and found there next time. */
static cJSON *
resolve_arch(const struct opts *o, lmp_db *db, const cJSON *doc, lmp_err *e)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "unresolved"), "model_type");
	struct archctx a = {doc, db, NULL, {0}, NULL, o->quiet};
	char path[PATH_MAX], diag[PATH_MAX + 96];
	lmp_ask ask = {o->agent, o->timeout, o->retries, NULL, "model_type", diag, check_template, &a,
		o->quiet ? NULL : refused, 0, o->quiet};
	char *prompt;
	int rc;

	if (!cJSON_IsString(u) || !*u->valuestring || strlen(u->valuestring) > 64 ||
	    strspn(u->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(u->valuestring))
		return lmp_fail(e, LMP_EXIT_INPUT, "an unresolved document names its model_type"), NULL;
	a.mt = u->valuestring;
	if (lmp_arch_exists(a.mt)) {
		if (!o->quiet)
			fprintf(stderr, "lmp-ensure: model_type %s: a template is on the path now\n", a.mt);
		return lmp_arch_resolve_doc(doc, e);
	}
	if (lmp_arch_store_dir(path, e)) /* before the agent's time is spent */
		return lmp_prefix(e, "model_type %s: ", a.mt), NULL;
	if (!o->quiet)
		fprintf(stderr, "lmp-ensure: model_type %s: asking the architecture agent\n", a.mt);
	if (!(prompt = lmp_arch_prompt(doc, db, o->source_root, e)))
		return NULL;
	/* the diagnostics file in the data home, beside archs/ (not in it:
	 * every .json there is a template) */
	ask.what = a.mt;
	snprintf(diag, sizeof diag, "%.*s/%s_diagnostics.json", (int)(strrchr(path, '/') - path), path, a.mt);
	rc = lmp_agent_ask(&ask, prompt, e);
	free(prompt);
	if (!rc)
		rc = lmp_arch_store(a.accepted, path, e);
	cJSON_Delete(a.accepted);
	if (rc) {
		lmp_buf_free(&a.unknown);
		return lmp_prefix(e, "model_type %s: ", a.mt), NULL;
	}
	if (!o->quiet) {
		fprintf(stderr, "lmp-ensure: model_type %s: template stored in %s, pending validation\n", a.mt, path);
		if (a.unknown.len)
			fprintf(stderr, "lmp-ensure: model_type %s: classes the database lacks go to the module agent: %s\n",
				a.mt, a.unknown.s);
	}
	lmp_buf_free(&a.unknown);
	return lmp_arch_resolve_doc(doc, e);
}

static int
ensure_arch(const struct opts *o, lmp_db *db, lmp_err *e)
{
	lmp_buf in = {0};
	cJSON *doc, *c;
	struct cls_list l = {0};
	int i, unknown = 0, done = 0, failed = 0, rc = -1, resolved = 0;
	lmp_err first = {0};

	if (lmp_read_input(o->file, lmp_chain(), &in, e))
		return -1;
	if (!(doc = lmp_json_parse_one(in.s, in.len, o->file ? o->file : "<stdin>", e)))
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(doc, "unresolved")) {
		cJSON *built = resolve_arch(o, db, doc, e);
		if (!built)
			goto out;
		cJSON_Delete(doc);
		doc = built;
		resolved = 1;
	}
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "layers"))) {
		lmp_fail(e, LMP_EXIT_INPUT, "input is not an architecture (no \"layers\")");
		goto out;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "layers"))
		if (collect(c, &l, 0, e))
			goto out;
	for (i = 0; i < l.n; i++)
		unknown += !lmp_db_find(db, l.name[i]);
	if (unknown && writable(o, e))
		goto out;
	/* Opened for reading; the agent's prompt and the checks need all of it. */
	if (unknown)
		db = reload(o, db, e);
	for (i = 0; i < l.n; i++) {
		if (lmp_db_find(db, l.name[i]))
			continue;
		done++;
		/* after a failure too: a container's children may all be known */
		if (l.composite[i] && children_known(cJSON_GetObjectItemCaseSensitive(doc, "layers"), l.name[i], db)) {
			cJSON *en = container(doc, l.name[i]);
			int r2 = lmp_db_add_entry(o->wdb, l.name[i], en, 0, e);
			cJSON_Delete(en);
			if (r2)
				goto out;
			if (!o->quiet)
				fprintf(stderr, "lmp-ensure: [%d/%d] %s: a container of known classes (inferred)\n", done, unknown, l.name[i]);
		} else {
			if (!o->quiet)
				fprintf(stderr, "lmp-ensure: [%d/%d] %s: asking the agent\n", done, unknown, l.name[i]);
			if (analyse(o, db, l.name[i], e)) {
				if (!failed++)
					first = *e;
				continue;
			}
			if (!o->quiet)
				fprintf(stderr, "lmp-ensure: [%d/%d] %s: added, pending validation\n", done, unknown, l.name[i]);
		}
		db = reload(o, db, e);
	}
	if (failed) {
		*e = first;
		if (failed > 1)
			lmp_prefix(e, "%d classes failed; first: ", failed);
		goto out;
	}
	/* The architecture goes on unchanged, byte for byte; a resolved one
	 * as the template now on the path builds it. */
	if (resolved) {
		char *s = lmp_json_print(doc, 0);
		in.len = 0;
		lmp_buf_puts(&in, s);
		lmp_buf_putc(&in, '\n');
		free(s);
	}
	if (fwrite(in.s, 1, in.len, stdout) != in.len) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "write error on stdout");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	free(l.name);
	free(l.composite);
	lmp_buf_free(&in);
	lmp_db_free(db);
	return rc;
}

static int
list_entries(lmp_db *db)
{
	for (int i = 0; i < db->n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(db->entries[i].json, "validation");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "status");
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(v, "by");
		const cJSON *date = cJSON_GetObjectItemCaseSensitive(v, "date");
		printf("%s\t%s\t%s\t%s\n", db->entries[i].name, cJSON_IsString(st) ? st->valuestring : "-",
			cJSON_IsString(by) && *by->valuestring ? by->valuestring : "-",
			cJSON_IsString(date) ? date->valuestring : "-");
	}
	lmp_db_free(db);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	lmp_err e = {0};
	lmp_db *db;
	int rc;

	lmp_start("lmp-ensure");
	parse_opts(argc, argv, &o);
	/* Checking an architecture usually finds every class known: reading the
	 * names is enough then (ensure_arch reads the rest when it is not). */
	if (!(db = lmp_db_layers(o.db, o.list || o.validate || o.module, &e)))
		lmp_die(&e);
	if (o.list) {
		rc = list_entries(db);
	} else if (o.validate) {
		struct change c = {o.validate, o.by};
		lmp_entry *en = lmp_db_find(db, o.validate);
		if (!en)
			rc = lmp_fail(&e, LMP_EXIT_INPUT, "%s is not in the database %s", o.validate, db->path);
		else {
			c.cls = en->name;
			rc = writable(&o, &e) || lmp_db_update(o.wdb, set_validated, &c, &e);
		}
		lmp_db_free(db);
	} else if (o.module) {
		if (!lmp_valid_class_name(o.module))
			rc = lmp_fail(&e, LMP_EXIT_USAGE, "'%.100s' is not a dotted Python name", o.module);
		else if (lmp_db_find(db, o.module) && !o.force) {
			if (!o.quiet)
				fprintf(stderr, "lmp-ensure: %s: already in the database (--force re-analyses it)\n", o.module);
			rc = 0;
		} else {
			rc = writable(&o, &e);
			if (!rc && !o.quiet)
				fprintf(stderr, "lmp-ensure: %s: asking the agent\n", o.module);
			if (!rc)
				rc = analyse(&o, db, o.module, &e);
			if (!rc && !o.quiet)
				fprintf(stderr, "lmp-ensure: %s: added, pending validation\n", o.module);
		}
		lmp_db_free(db);
	} else {
		rc = ensure_arch(&o, db, &e);
	}
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
