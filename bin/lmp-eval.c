/* lmp-eval: FLOPs, bytes, parameters and KV cache of a populated
 * architecture at one or many runtime points, or over whole requests. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-eval [--batch-size N,...] [--seq-len N,...] [--cache-len N,...]\n"
	"                [--w-bit B,...] [--a-bit B,...] [--kv-bit B,...]\n"
	"                [--tp N,...] [--pp N,...] [--ep N,...] [--dp N,...]\n"
	"                [--engine NAME|FILE] [--kv-block N,...] [--gpu-memory-utilization F,...]\n"
	"                [--memory-rule total|static|free,...] [--reserve-bytes N,...]\n"
	"                [--chunk N,...] [--fusion off|on,...]\n"
	"                [--kv-layout heads|latent,...] [--attention eager|fused|flash|paged,...]\n"
	"                [--flash-arch sm80|sm8x|sm90,...] [--flash-sms N,...]\n"
	"                [--totals] [--hardware NAME|FILE [roofline options]] [--fields PATH,...] [--pretty]\n"
	"                [--db FILE] [FILE]\n"
	"       lmp-eval --prompt-len P,... --gen-len G,... [--phase prefill|decode]\n"
	"                [--batch-size N,...] [precision and layout options] [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-eval --queries SEQ:CACHE[xCOUNT],... [precision and layout options] [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       roofline options (lmp-roofline's, with --hardware: the fused sweep): [--calibration FILE|none]\n"
	"                [--ideal] [--compute-efficiency X] [--memory-efficiency X] [--gpus-per-node N]\n"
	"                [--devices N] [--unfused]\n"
	"       lmp-eval --module CLASS [runtime options] [--db FILE] NAME=VALUE ...\n"
	"       lmp-eval --params CLASS [--db FILE]\n"
	"       lmp-eval --list-options\n"
	"       lmp-eval --help | --version\n";

struct opts {
	lmp_runvals rv; /* the runtime options as given */
	int totals, pretty;
	const char *db, *module, *params, *file, *fields;
	lmp_roofargs ra; /* --hardware and lmp-roofline's other options: the fused sweep */
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_TOTALS = 256, O_PRETTY, O_DB, O_MODULE, O_PARAMS, O_LIST, O_HELP, O_VERSION, O_FIELDS, O_ROOF = 512,
		O_RUNTIME = 1024 };
	struct option longs[LMP_NRUNOPTS + 10 + 16] = {
		{"totals", no_argument, 0, O_TOTALS}, {"pretty", no_argument, 0, O_PRETTY},
		{"db", required_argument, 0, O_DB}, {"module", required_argument, 0, O_MODULE},
		{"params", required_argument, 0, O_PARAMS}, {"list-options", no_argument, 0, O_LIST},
		{"help", no_argument, 0, O_HELP}, {"version", no_argument, 0, O_VERSION},
		{"fields", required_argument, 0, O_FIELDS},
	};
	char msg[256];
	lmp_err e = {0};
	lmp_buf b = {0};
	int c;

	int n = 9 + lmp_runopt_longs(longs + 9, "lmp-eval", O_RUNTIME);

	for (int i = 0; lmp_roofopts[i].name; i++)
		longs[n++] = (struct option){lmp_roofopts[i].name, lmp_roofopts[i].arg ? required_argument : no_argument, 0,
			O_ROOF + i};
	lmp_roofargs_init(&o->ra);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= O_RUNTIME) {
			if (lmp_runopt_parse(&o->rv, c - O_RUNTIME, optarg, &e))
				lmp_usage_error(e.msg);
			continue;
		}
		if (c >= O_ROOF) {
			if (lmp_roofargs_set(&o->ra, c - O_ROOF, optarg, &e))
				lmp_usage_error(e.msg);
			continue;
		}
		switch (c) {
		case O_TOTALS: o->totals = 1; break;
		case O_PRETTY: o->pretty = 1; break;
		case O_DB: o->db = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_PARAMS: o->params = optarg; break;
		case O_FIELDS: o->fields = optarg; break;
		case O_LIST:
			lmp_runopts_list(&b);
			fputs(b.s, stdout);
			lmp_buf_free(&b);
			exit(lmp_close_stdout());
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-eval " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (lmp_runvals_check(&o->rv, o->module != NULL, &e))
		lmp_usage_error(e.msg);
	/* the engine's knobs: defaults for the options not given; one entry
	 * alone (--module) is its formulas unless an engine is asked for */
	if (!o->module || o->rv.engine) {
		char *name = lmp_xstrdup(lmp_engine_name(o->rv.engine));
		c = lmp_engine_apply(name, &o->rv, &e);
		free(name);
		if (c)
			lmp_die(&e);
	}
}

/* One point of the sweep. */
struct point {
	lmp_runtime rt;
	lmp_query q;
	lmp_gen gen;
	int is_gen;
	char extra[160];
};

typedef int (*point_fn)(struct point *pt, void *ctx, lmp_err *e);

/* Fill a point from the list indices.  A request point with --phase becomes
 * its representative step: the prefill, or the decode step at the middle of
 * the decode range (its cost is the phase's mean when cost is linear in the
 * context, as it is for attention). */
static int
make_point(const lmp_runvals *v, const int *idx, struct point *pt, lmp_err *e)
{
	const lmp_runopt *ro = lmp_runopts;
	int64_t x[LMP_RO_NLISTS];
	int i;

	for (i = 0; i < LMP_RO_NLISTS; i++)
		x[i] = v->list[i][idx[i]];
	memset(pt, 0, sizeof *pt);
	lmp_runvals_settings(v, x, &pt->rt);
	pt->q.count = x[LMP_RO_BATCH_SIZE];
	pt->q.seq_len = x[LMP_RO_SEQ_LEN];
	pt->q.cache_len = x[LMP_RO_CACHE_LEN];
	if (v->given[LMP_RO_PROMPT_LEN]) {
		int64_t p = x[LMP_RO_PROMPT_LEN], g = x[LMP_RO_GEN_LEN];
		pt->gen = (lmp_gen){x[LMP_RO_BATCH_SIZE], p, g, &pt->rt};
		pt->is_gen = v->phase == LMP_PHASE_ALL;
		pt->q.seq_len = v->phase == LMP_PHASE_DECODE ? 1 : p;
		pt->q.cache_len = v->phase == LMP_PHASE_DECODE ? p + (g - 2) / 2 : 0;
		if (!pt->is_gen) {
			snprintf(pt->extra, sizeof pt->extra, ",\"%s\":\"%s\",\"%s\":%lld,\"%s\":%lld",
				ro[LMP_RO_PHASE].json, lmp_runopt_choice(LMP_RO_PHASE, v->phase), ro[LMP_RO_PROMPT_LEN].json,
				(long long)p, ro[LMP_RO_GEN_LEN].json, (long long)g);
			pt->rt.extra = pt->extra;
		}
	}
	pt->rt.nqueries = 1;
	pt->rt.queries = &pt->q;
	if (v->queries) {
		pt->rt.nqueries = v->nqueries;
		pt->rt.queries = v->queries;
	}
	return lmp_runtime_compute(&pt->rt, e);
}

/* Whether the next point differs from the last (made by make_point or
 * next_length) in its length alone: list i moved (-1: the first point)
 * and none after it has more than one value, and a point is a step of one
 * query (not a request, not a list of queries). */
static int
lengths_only(const lmp_runvals *v, int i)
{
	if ((i != LMP_RO_SEQ_LEN && i != LMP_RO_CACHE_LEN) || v->given[LMP_RO_PROMPT_LEN] || v->queries)
		return 0;
	for (int j = i + 1; j < LMP_RO_NLISTS; j++)
		if (v->n[j] > 1)
			return 0;
	return 1;
}

/* The point a length on from the last: its settings as they were. */
static int
next_length(const lmp_runvals *v, const int *idx, struct point *pt, lmp_err *e)
{
	pt->q.seq_len = v->list[LMP_RO_SEQ_LEN][idx[LMP_RO_SEQ_LEN]];
	pt->q.cache_len = v->list[LMP_RO_CACHE_LEN][idx[LMP_RO_CACHE_LEN]];
	return lmp_runtime_compute(&pt->rt, e);
}

/* Every point of the sweep: the cartesian product of the lists. */
static int
sweep(const lmp_runvals *v, point_fn fn, void *ctx, lmp_err *e)
{
	int idx[LMP_RO_NLISTS] = {0}, i;
	struct point pt;

	for (i = -1;;) {
		if ((lengths_only(v, i) ? next_length(v, idx, &pt, e) : make_point(v, idx, &pt, e)) || fn(&pt, ctx, e))
			return -1;
		for (i = LMP_RO_NLISTS - 1; i >= 0; i--) {
			if (++idx[i] < v->n[i])
				break;
			idx[i] = 0;
		}
		if (i < 0)
			return 0;
	}
}

/* The models of one document: the single device's, and one per layout a
 * sweep asks for, compiled when first asked (lmp_model_for_layout). */
#define MAX_LAYOUTS 64
struct out {
	lmp_model *m;
	int rows, pretty, module, warned;
	lmp_buf b;
	const cJSON *doc;
	lmp_db *db;
	int nlay;
	lmp_buf said; /* the classes warned of as replicated, one per line */
	lmp_progress prog; /* on a terminal, after a few seconds (progress.c) */
	const lmp_roof_opts *roof; /* --hardware: each document timed as lmp-roofline times it */
	lmp_roofdirect *direct;    /* --hardware --totals: the fused path's settings (roofline.c) */
	lmp_fields *fields;        /* --fields: each document pruned as it is done */
	int fields_pretty;
	long long ndocs;
	lmp_buf whole;             /* --fields: the document before it is pruned */
	lmp_buf head;              /* --fields: the last head asked about (head_cut), */
	int head_named;            /* and whether the paths name any of it */
	int lay_key[MAX_LAYOUTS][5];
	lmp_model *lay[MAX_LAYOUTS];
};

/* Each class whose leaves a layout counted replicated for want of a
 * declared "parallel" role (parallel.c), said once a run. */
static void
warn_norole(struct out *w, const lmp_model *m)
{
	const char *s = m->norole.s, *nl;
	char line[1024];

	for (; s && *s && (nl = strchr(s, '\n')); s = nl + 1) {
		snprintf(line, sizeof line, "\n%.*s\n", (int)(nl - s), s);
		if (w->said.s && strstr(w->said.s, line))
			continue;
		fprintf(stderr, "lmp-eval: warning: %.*s declares no parallel role (an entry not validated): "
			"counted replicated on every device\n", (int)(nl - s), s);
		if (!w->said.len)
			lmp_buf_puts(&w->said, "\n");
		lmp_buf_puts(&w->said, line + 1);
	}
}

static lmp_model *
layout_model(struct out *w, const lmp_runtime *rt, lmp_err *e)
{
	int key[5] = {rt->tp, rt->pp, rt->ep, rt->dp, rt->layout}, i;
	lmp_model *m;

	if (!rt->layout)
		return w->m;
	for (i = 0; i < w->nlay; i++)
		if (!memcmp(key, w->lay_key[i], sizeof key))
			return w->lay[i];
	if (!(m = lmp_model_for_layout(w->m, w->doc, w->db, rt, e)))
		return NULL;
	m->hook = w->m->hook; /* a layout's points are timed in place too */
	m->hook_ctx = w->m->hook_ctx;
	m->hook_fields = w->m->hook_fields;
	warn_norole(w, m);
	if (w->nlay == MAX_LAYOUTS) { /* a sweep of many layouts: keep the last */
		lmp_model_free(w->lay[--w->nlay]);
	}
	memcpy(w->lay_key[w->nlay], key, sizeof key);
	w->lay[w->nlay++] = m;
	return m;
}

static void
layouts_free(struct out *w)
{
	while (w->nlay)
		lmp_model_free(w->lay[--w->nlay]);
}

static int
flush(struct out *w, lmp_err *e)
{
	if (!w->b.len)
		return 0;
	if (w->pretty && !w->roof) {
		cJSON *doc = lmp_json_parse_one(w->b.s, w->b.len, "output", e);
		char *s;
		if (!doc)
			return -1;
		s = lmp_json_print(doc, 1);
		puts(s);
		free(s);
		cJSON_Delete(doc);
	} else if (fwrite(w->b.s, 1, w->b.len, stdout) != w->b.len) {
		return lmp_fail(e, LMP_EXIT_SYSTEM, "write error");
	}
	w->b.len = 0;
	return 0;
}

/* --hardware: the document just written (from start) becomes the roofline
 * document lmp-roofline would write for it, through the same code
 * (lmp_roofline), in place in the buffer. */
static int
roofline(struct out *w, size_t start, lmp_err *e)
{
	cJSON *doc = lmp_json_parse_one(w->b.s + start, w->b.len - start, "lmp-eval", e);
	int rc;

	w->b.len = start; /* whole roofline documents only, as lmp-roofline writes */
	if (!doc)
		return -1;
	if (!(rc = lmp_roofline(doc, w->roof, e))) {
		lmp_json_print_buf(doc, w->pretty, &w->b);
		lmp_buf_putc(&w->b, '\n');
	}
	cJSON_Delete(doc);
	return rc;
}

static int
direct_point(void *ctx, const lmp_evalpt *pt, lmp_buf *b, size_t start, lmp_err *e)
{
	struct out *w = ctx;

	return lmp_roofline_point(w->direct, pt, b, start, e);
}

/* --fields: where the text to prune may start, the document being
 * doc (len bytes) of model m.  Its head (lmp, version, model, the same
 * in every document of a model) is pruned away whole where the paths
 * name none of its members: then the text from "runtime" on, after a
 * '{', prunes to the same bytes and is all that need be scanned. */
static size_t
head_cut(struct out *w, const lmp_model *m, const char *doc, size_t len)
{
	size_t at = lmp_doc_runtime_at(m, doc, len);

	if (!at || doc[at - 1] != ',')
		return 0;
	if (w->head.len != at || memcmp(w->head.s, doc, at)) {
		w->head.len = 0;
		lmp_buf_add(&w->head, doc, at);
		w->head.s[at - 1] = '}'; /* the head as an object of its own */
		w->head_named = lmp_fields_names_any(w->fields, w->head.s, at);
		w->head.s[at - 1] = ',';
	}
	return w->head_named ? 0 : at;
}

static int
point(struct point *pt, void *ctx, lmp_err *e)
{
	struct out *w = ctx;
	lmp_model *m = w->m;
	size_t start = w->b.len;
	int rc;

	lmp_progress_add(&w->prog, 1);
	if (!w->module && !(m = layout_model(w, &pt->rt, e)))
		return -1;
	m->hooked = 0; /* this point's document not yet timed in place */
	if (w->module)
		rc = lmp_module_doc(m, &pt->rt, &w->b, e);
	else if (pt->is_gen)
		rc = lmp_gen_doc(m, &pt->gen, w->rows, &w->b, e);
	else
		rc = lmp_eval_doc(m, &pt->rt, w->rows, &w->b, e);
	/* a point that fails leaves no part of its document (an eval
	 * document its time model refused, say): the buffer holds whole
	 * documents only */
	if (rc || (w->roof && !m->hooked && roofline(w, start, e))) {
		w->b.len = start;
		return -1;
	}
	if (w->fields) {
		size_t cut = head_cut(w, m, w->b.s + start, w->b.len - start);
		w->whole.len = 0;
		if (cut)
			lmp_buf_putc(&w->whole, '{');
		lmp_buf_add(&w->whole, w->b.s + start + cut, w->b.len - start - cut);
		w->b.len = start;
		if (lmp_fields_write(w->fields, w->fields_pretty, w->whole.s, w->whole.len, &w->b, e)) {
			w->b.len = start;
			return -1;
		}
		w->ndocs++;
	}
	/* Rotary positions past the model's limit: computed, but not what it
	 * was trained on.  Said once; each such point is marked. */
	if ((w->m->past_limit || m->past_limit) && !w->warned) {
		fprintf(stderr, "lmp-eval: warning: a context past the model's position limit of %lld tokens "
			"(marked runtime.past_position_limit)\n", (long long)w->m->pos_limit);
		w->warned = 1;
	}
	return (w->pretty || w->b.len > 60000) ? flush(w, e) : 0;
}

static lmp_db *
open_db(const struct opts *o, lmp_err *e)
{
	lmp_db *db;

	if (!(db = lmp_db_layers(lmp_db_explicit(o->db), 0, e)))
		lmp_die(e);
	return db;
}

static lmp_entry *
find_entry(lmp_db *db, const char *cls)
{
	lmp_entry *en = lmp_db_find(db, cls);
	lmp_err e = {0};

	if (!en) {
		fprintf(stderr, "lmp-eval: class %s is not in the module database %s\n", cls, db->path);
		exit(LMP_EXIT_INPUT);
	}
	if (lmp_entry_load(db, en, &e))
		lmp_die(&e);
	return en;
}

static void
list_params(lmp_db *db, const char *cls)
{
	lmp_entry *en = find_entry(db, cls);
	char *d;
	int i;

	for (i = 0; i < en->nparams; i++) {
		d = en->params[i].dflt ? lmp_json_print(en->params[i].dflt, 0) : NULL;
		printf("%s\t%s\t%s\t%s\n", en->params[i].name, en->params[i].type, d ? d : "-",
			en->params[i].description);
		free(d);
	}
}

static lmp_model *
module_model(lmp_db *db, const struct opts *o, int argc, char **argv, lmp_err *e)
{
	lmp_entry *en = find_entry(db, o->module);
	const char **names = lmp_xcalloc((size_t)argc + 1, sizeof *names);
	const char **values = lmp_xcalloc((size_t)argc + 1, sizeof *values);
	lmp_model *m;
	int i, n = 0;

	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i])
			lmp_usage_error("module parameters are NAME=VALUE");
		*eq = '\0';
		names[n] = argv[i];
		values[n++] = eq + 1;
	}
	m = lmp_model_module(en, db, names, values, n, e);
	free(names);
	free(values);
	return m;
}

/* The whole input is parsed before anything is evaluated, so a malformed
 * document anywhere in a stream prints nothing. */
static int
run_stream(lmp_db **dbp, lmp_db_ahead *ahead, const struct opts *o, struct out *w, lmp_err *e)
{
	lmp_db *db;
	lmp_buf in = {0};
	lmp_json_stream s;
	const char *name = o->file ? o->file : "<stdin>";
	cJSON **docs = NULL, *doc;
	int rc = -1, n = 0, i;

	if (lmp_read_input(o->file, lmp_chain(), &in, e))
		return -1;
	/* The database as it is after the input: in a pipe after lmp-ensure,
	 * once lmp-ensure has finished adding to it (read ahead where that
	 * changed nothing) */
	if (!(db = *dbp = lmp_db_ahead_take(ahead, e)))
		lmp_die(e);
	lmp_json_stream_init(&s, in.s, in.len, name);
	while ((doc = lmp_json_next(&s, e))) {
		docs = lmp_xrealloc(docs, sizeof *docs * (size_t)(n + 1));
		docs[n++] = doc;
	}
	if (e->status)
		goto out;
	if (!n) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: no document on input", name);
		goto out;
	}
	lmp_progress_begin(&w->prog);
	for (i = 0; i < n; i++) {
		lmp_runvals at;
		double points = 1;
		if (lmp_runvals_for_doc(&o->rv, docs[i], &at, e) || !(w->m = lmp_model_load(docs[i], db, e)))
			goto out;
		for (int j = 0; j < LMP_RO_NLISTS; j++)
			points *= at.n[j];
		if (n > 1)
			lmp_progress_stage(&w->prog, points, "points of document %d of %d", i + 1, n);
		else
			lmp_progress_stage(&w->prog, points, "points");
		w->doc = docs[i];
		w->db = db;
		/* --hardware --totals: one-step points and requests timed from
		 * their numbers (roofline.c lmp_roofline_point), the rest through
		 * lmp_roofline */
		if (w->direct) {
			w->m->hook = direct_point;
			w->m->hook_ctx = w;
			w->m->hook_fields = w->fields;
		}
		rc = sweep(&at, point, w, e);
		if (getenv("LMP_EVAL_FORMSTATS")) {
			long long formed, asked, f, a;
			/* the single device's model and each layout's */
			lmp_sweepform_counts(w->m, &formed, &asked);
			for (int i = 0; i < w->nlay; i++) {
				lmp_sweepform_counts(w->lay[i], &f, &a);
				formed += f;
				asked += a;
			}
			fprintf(stderr, "lmp-eval: %lld of %lld points in closed form\n", formed, asked);
		}
		layouts_free(w);
		lmp_model_free(w->m);
		if (rc)
			goto out;
	}
	rc = 0;
out:
	lmp_progress_end(&w->prog);
	for (i = 0; i < n; i++)
		cJSON_Delete(docs[i]);
	free(docs);
	lmp_buf_free(&in);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct out w = {0};
	lmp_err e = {0};
	lmp_db *db;
	int rc;

	lmp_start("lmp-eval");
	parse_opts(argc, argv, &o);
	if (o.module && o.params)
		lmp_usage_error("--module and --params exclude each other");
	if (!o.module && !o.params) {
		if (argc - optind > 1)
			lmp_usage_error("at most one input file");
		o.file = optind < argc ? argv[optind] : NULL;
	} else if (o.params && optind < argc) {
		lmp_usage_error("--params takes no operands");
	}
	if (o.ra.given && !o.ra.hardware)
		lmp_usage_error("lmp-roofline's options need --hardware NAME (the fused sweep)");
	if (o.ra.hardware && (o.module || o.params))
		lmp_usage_error("--hardware times documents: not with --module or --params");
	if (o.ra.hardware) {
		if (lmp_roofargs_load(&o.ra, &e))
			lmp_die(&e);
		w.roof = &o.ra.r;
	}
	db = o.params || o.module ? open_db(&o, &e) : NULL;
	w.rows = !o.totals;
	w.pretty = o.pretty;
	if (o.fields) {
		if (o.params)
			lmp_usage_error("--fields prunes documents: not with --params");
		if (!(w.fields = lmp_fields_new(o.fields, &e)))
			lmp_usage_error(e.msg);
		/* documents are made compact, pruned, then printed as asked */
		w.fields_pretty = o.pretty;
		w.pretty = 0;
	}
	if (w.roof && !w.pretty && !getenv("LMP_EVAL_NODIRECT")) {
		w.direct = lmp_roofdirect_new(w.roof);
		/* what --fields prunes away is not worked out in the first place */
		if (w.fields)
			lmp_roofdirect_fields(w.direct, w.fields);
	}
	if (o.params) {
		list_params(db, o.params);
		rc = 0;
	} else if (o.module) {
		lmp_runvals at;
		w.module = 1;
		if (lmp_runvals_for_doc(&o.rv, NULL, &at, &e) || !(w.m = module_model(db, &o, argc, argv, &e)))
			lmp_die(&e);
		rc = sweep(&at, point, &w, &e);
		lmp_model_free(w.m);
	} else {
		lmp_db_ahead ahead;
		lmp_db_ahead_open(&ahead, lmp_db_explicit(o.db));
		rc = run_stream(&db, &ahead, &o, &w, &e);
		lmp_db_ahead_free(&ahead);
	}
	/* The buffer holds whole documents only: those done before an error
	 * are written too, as the man page says. */
	if (rc) {
		w.pretty = 0;
		lmp_err ignore;
		flush(&w, &ignore);
	} else {
		rc = flush(&w, &e);
	}
	/* a path that named nothing: likely a typo (a member some documents
	 * lack, such as runtime.past_position_limit, is no error) */
	if (!rc && w.fields && w.ndocs && lmp_fields_unseen(w.fields))
		fprintf(stderr, "lmp-eval: warning: --fields: no document had a member %s\n", lmp_fields_unseen(w.fields));
	lmp_fields_free(w.fields);
	lmp_buf_free(&w.whole);
	lmp_buf_free(&w.head);
	lmp_buf_free(&w.b);
	lmp_buf_free(&w.said);
	lmp_db_free(db);
	lmp_runvals_free(&o.rv);
	lmp_roofargs_free(&o.ra);
	lmp_roofdirect_free(w.direct);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
