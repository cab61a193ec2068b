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
	"       lmp-ensure --module CLASS [--force] [--db FILE] [--agent CMD] [--timeout SECONDS] [--source-root DIR]\n"
	"       lmp-ensure --list [--db FILE]\n"
	"       lmp-ensure --validate CLASS --by NAME [--db FILE]\n"
	"       lmp-ensure --help | --version\n";

#define DEFAULT_AGENT "claude -p --dangerously-skip-permissions --output-format json"
#define DIAG_MAX 65536

struct opts {
	const char *db, *agent, *source_root, *module, *validate, *by, *file;
	const char *wdb; /* where additions go: --db/LMP_DB, else the user's database */
	double timeout;
	int force, list, quiet, retries;
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
		case O_SRC: o->source_root = optarg; break;
		case O_RETRIES:
			if (lmp_parse_i64(optarg, 0, 10, &t))
				lmp_usage_error("--retries: not a number in [0, 10]");
			o->retries = (int)t;
			break;
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

/* ---- the prompt ---- */

static void
replace_all(lmp_buf *out, const char *tmpl, const char *const *keys, const char *const *vals, int n)
{
	const char *p = tmpl;

	while (*p) {
		int i;
		for (i = 0; i < n; i++) {
			size_t k = strlen(keys[i]);
			if (!strncmp(p, keys[i], k)) {
				lmp_buf_puts(out, vals[i]);
				p += k;
				break;
			}
		}
		if (i == n)
			lmp_buf_putc(out, *p++);
	}
}

static char *
build_prompt(const struct opts *o, const lmp_db *db, const char *cls, lmp_err *e)
{
	static const char *const examples[] = {
		"torch.nn.modules.linear.Linear", "transformers.models.llama.modeling_llama.LlamaRMSNorm",
	};
	lmp_buf tmpl = {0}, src = {0}, kern = {0}, ex = {0}, out = {0};
	char path[4096];
	lmp_source s;
	int i, k;

	snprintf(path, sizeof path, "%s/prompts/module_analyzer.md", lmp_datadir());
	if (lmp_read_file(path, &tmpl, e))
		return NULL;
	if (o->source_root) {
		if (lmp_find_source(o->source_root, cls, &s, e)) {
			lmp_buf_free(&tmpl);
			return NULL;
		}
		lmp_buf_printf(&src, "File %s, lines %d-%d:\n\n```python\n%s```\n", s.file, s.line_start, s.line_end, s.text);
		lmp_source_free(&s);
	} else {
		lmp_buf_puts(&src, "(No source checkout was given: use the PyTorch or transformers source of this class "
			"that you can read, and cite the file and lines in code_location.)\n");
	}
	for (i = 0; i < db->n; i++) {
		const lmp_entry *en = &db->entries[i];
		lmp_buf_printf(&kern, "- {%s}(", en->name);
		for (k = 0; k < en->nparams; k++)
			lmp_buf_printf(&kern, "%s%s", k ? ", " : "", en->params[k].name);
		lmp_buf_puts(&kern, ")\n");
	}
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
		replace_all(&out, tmpl.s, keys, vals, 4);
	}
	lmp_buf_free(&tmpl);
	lmp_buf_free(&src);
	lmp_buf_free(&kern);
	lmp_buf_free(&ex);
	return out.s;
}

/* ---- the answer ---- */

/* The text between a ```json fence and the next ```, else from the first
 * '{' to the last '}'. */
static cJSON *
json_in_text(const char *text, lmp_err *e)
{
	const char *a = strstr(text, "```json"), *b;

	if (a) {
		a += 7;
		b = strstr(a, "```");
		if (!b)
			return lmp_fail(e, LMP_EXIT_AGENT, "an unterminated ```json block"), NULL;
	} else {
		a = strchr(text, '{');
		b = strrchr(text, '}');
		if (!a || !b || b < a)
			return lmp_fail(e, LMP_EXIT_AGENT, "no JSON object in the answer"), NULL;
		b++;
	}
	return lmp_json_parse_one(a, (size_t)(b - a), "answer", e);
}

/* Raw JSON, or Claude Code's envelope {"type": "result", "result": TEXT}
 * with the entry in TEXT; the entry itself or {CLASS: entry}. */
static cJSON *
extract(const lmp_buf *out, const char *cls, lmp_err *e)
{
	lmp_err ignore;
	cJSON *doc = lmp_json_parse_one(out->s, out->len, "answer", &ignore), *inner, *entry;
	const cJSON *res;

	if (!doc) {
		if (!(doc = json_in_text(out->s, e)))
			return NULL;
	}
	res = cJSON_GetObjectItemCaseSensitive(doc, "result");
	if (cJSON_IsString(res) && !cJSON_GetObjectItemCaseSensitive(doc, "full_class_name")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "is_error"))) {
			char said[200];
			lmp_escape(said, sizeof said, res->valuestring, strlen(res->valuestring));
			lmp_fail(e, LMP_EXIT_AGENT, "the agent reported an error: %s", said);
			cJSON_Delete(doc);
			return NULL;
		}
		inner = json_in_text(res->valuestring, e);
		cJSON_Delete(doc);
		if (!(doc = inner))
			return NULL;
	}
	if (cJSON_GetObjectItemCaseSensitive(doc, "full_class_name"))
		return doc;
	if (cJSON_IsObject(doc) && cJSON_GetArraySize(doc) == 1 && doc->child->string && !strcmp(doc->child->string, cls)) {
		entry = cJSON_DetachItemViaPointer(doc, doc->child);
		cJSON_Delete(doc);
		return entry;
	}
	cJSON_Delete(doc);
	lmp_fail(e, LMP_EXIT_AGENT, "the answer holds no entry for %s", cls);
	return NULL;
}

/* ---- the database ---- */

struct change {
	const char *cls;
	cJSON *entry; /* added (replaced with force) */
	int force;
	const char *validate_by;
};

static int
add_entry(cJSON *db, void *ctx, lmp_err *e)
{
	struct change *c = ctx;
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(db, "entries");

	if (!cJSON_IsObject(entries))
		return lmp_fail(e, LMP_EXIT_INPUT, "the database has no \"entries\"");
	if (cJSON_GetObjectItemCaseSensitive(entries, c->cls)) {
		if (!c->force)
			return 0; /* another run added it meanwhile: keep theirs */
		cJSON_DeleteItemFromObjectCaseSensitive(entries, c->cls);
	}
	cJSON_AddItemToObject(entries, c->cls, cJSON_Duplicate(c->entry, 1));
	return 0;
}

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

/* <class>_diagnostics.json beside the database, written atomically. */
static void
diagnose(const struct opts *o, const char *cls, const lmp_run *r, const char *why)
{
	char *copy = lmp_xstrdup(o->wdb), path[4096];
	cJSON *d = cJSON_CreateObject();
	char today[11], *text;
	lmp_err e;

	snprintf(path, sizeof path, "%s/%s_diagnostics.json", dirname(copy), cls);
	free(copy);
	lmp_today(today);
	cJSON_AddStringToObject(d, "class", cls);
	cJSON_AddStringToObject(d, "date", today);
	cJSON_AddStringToObject(d, "command", o->agent);
	cJSON_AddStringToObject(d, "reason", why);
	if (r) {
		lmp_num n = lmp_num_int(r->status);
		cJSON_AddItemToObject(d, "exit_status", lmp_json_new_num(&n));
		n = lmp_num_int(r->signal);
		cJSON_AddItemToObject(d, "signal", lmp_json_new_num(&n));
		cJSON_AddBoolToObject(d, "timed_out", r->timed_out);
		lmp_num_double(r->seconds, &n);
		cJSON_AddItemToObject(d, "duration_s", lmp_json_new_num(&n));
		/* Bounded, and cut at a character boundary so the file stays UTF-8. */
		char *so = lmp_xstrndup(r->out.s, r->out.len < DIAG_MAX ? r->out.len : DIAG_MAX);
		char *se = lmp_xstrndup(r->err.s, r->err.len < DIAG_MAX ? r->err.len : DIAG_MAX);
		for (char *p = so; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		for (char *p = se; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		cJSON_AddStringToObject(d, "stdout", so);
		cJSON_AddStringToObject(d, "stderr", se);
		cJSON_AddBoolToObject(d, "stdout_truncated", r->out.len > DIAG_MAX || r->out_truncated);
		cJSON_AddBoolToObject(d, "stderr_truncated", r->err.len > DIAG_MAX || r->err_truncated);
		free(so);
		free(se);
	}
	text = lmp_json_print(d, 1);
	lmp_write_atomic(path, text, strlen(text), &e);
	free(text);
	cJSON_Delete(d);
}

/* Ask the agent for cls, check the answer, add it.  0 or -1 (diagnosed). */
static int
analyse(const struct opts *o, lmp_db *db, const char *cls, lmp_err *e)
{
	char *prompt = build_prompt(o, db, cls, e), why[1100];
	lmp_run r;
	cJSON *answer = NULL, *entry = NULL;
	struct change c = {cls, NULL, o->force, NULL};
	int rc = -1;

	if (!prompt)
		return -1;
	if (lmp_run_command(o->agent, prompt, strlen(prompt), o->timeout, &r, e)) {
		free(prompt);
		return -1;
	}
	free(prompt);
	if (r.interrupted) {
		/* The agent's group is gone and the database untouched: stop as
		 * the signal would have stopped us, so the caller sees it. */
		lmp_run_free(&r);
		signal(r.interrupted, SIG_DFL);
		raise(r.interrupted);
		_exit(128 + r.interrupted);
	}
	if (r.timed_out)
		lmp_fail(e, LMP_EXIT_AGENT, "the agent did not answer within %g s (killed)", o->timeout);
	else if (r.signal)
		lmp_fail(e, LMP_EXIT_AGENT, "the agent was killed by signal %d", r.signal);
	else if (r.status != 0)
		lmp_fail(e, LMP_EXIT_AGENT, "the agent exited with status %d", r.status);
	else if (r.out.len == 0)
		lmp_fail(e, LMP_EXIT_AGENT, "the agent answered nothing");
	else if (r.out_truncated)
		lmp_fail(e, LMP_EXIT_AGENT, "the answer is longer than %d bytes", LMP_RUN_MAX);
	else if ((answer = extract(&r.out, cls, e)) && (entry = lmp_entry_check(answer, cls, db->doc, e))) {
		c.entry = entry;
		rc = lmp_db_update(o->wdb, add_entry, &c, e);
	}
	if (rc) {
		/* The message may quote the answer anywhere (a formula, a key, a
		 * name): one line, and nothing a terminal would act on. */
		char safe[sizeof e->msg];
		lmp_escape(safe, sizeof safe, e->msg, strlen(e->msg));
		memcpy(e->msg, safe, sizeof safe);
		if (e->status == LMP_EXIT_INPUT)
			e->status = LMP_EXIT_AGENT;
		snprintf(why, sizeof why, "%s", e->msg);
		diagnose(o, cls, &r, why);
		lmp_prefix(e, "%s: ", cls);
	}
	cJSON_Delete(answer);
	cJSON_Delete(entry);
	lmp_run_free(&r);
	return rc;
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
check_template(const lmp_buf *answer, void *ctx, lmp_err *e)
{
	struct archctx *a = ctx;

	a->unknown.len = 0;
	if (a->unknown.s)
		a->unknown.s[0] = '\0';
	a->accepted = lmp_arch_answer_check(answer, a->doc, a->db, &a->unknown, e);
	return a->accepted ? 0 : -1;
}

static void
refused(int attempt, int of, const lmp_err *why, void *ctx)
{
	struct archctx *a = ctx;

	if (!a->quiet)
		fprintf(stderr, "lmp-ensure: model_type %s: answer %d of %d refused, asking again: %s\n", a->mt, attempt, of,
			why->msg);
}

/* The document built with a template: the one on the path, else the
 * agent's, checked, stored in the data home and found there next time. */
static cJSON *
resolve_arch(const struct opts *o, lmp_db *db, const cJSON *doc, lmp_err *e)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "unresolved"), "model_type");
	struct archctx a = {doc, db, NULL, {0}, NULL, o->quiet};
	char path[PATH_MAX];
	lmp_agent_ask ask = {o->agent, NULL, o->timeout, o->retries, refused};
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
	ask.prompt = prompt;
	rc = lmp_agent_retry(&ask, check_template, &a, e);
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
		if (l.composite[i] && !failed) {
			struct change ch = {l.name[i], container(doc, l.name[i]), 0, NULL};
			int r2 = lmp_db_update(o->wdb, add_entry, &ch, e);
			cJSON_Delete(ch.entry);
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
		struct change c = {o.validate, NULL, 0, o.by};
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
