/* lmp-eval: FLOPs, bytes, parameters and KV cache of a populated
 * architecture at one or many runtime points, or over whole requests. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-eval [--batch-size N,...] [--seq-len N,...] [--cache-len N,...]\n"
	"                [--w-bit B,...] [--a-bit B,...] [--kv-bit B,...]\n"
	"                [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-eval --prompt-len P,... --gen-len G,... [--phase prefill|decode]\n"
	"                [--batch-size N,...] [precision options] [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-eval --queries SEQ:CACHE[xCOUNT],... [precision options] [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-eval --module CLASS [runtime options] [--db FILE] NAME=VALUE ...\n"
	"       lmp-eval --params CLASS [--db FILE]\n"
	"       lmp-eval --help | --version\n";

/* The runtime lists, in sweep order (the last varies fastest). */
enum { O_BATCH, O_SEQ, O_CACHE, O_PROMPT, O_GEN, O_WBIT, O_ABIT, O_KVBIT, NLISTS };

static const struct {
	const char *name;
	int64_t min, max, dflt;
} lists[NLISTS] = {
	/* Beyond these bounds a value is a typo, not a workload. */
	{"batch-size", 1, (int64_t)1 << 30, 1},
	{"seq-len", 1, (int64_t)1 << 40, 2048},
	{"cache-len", 0, (int64_t)1 << 40, 0},
	{"prompt-len", 1, (int64_t)1 << 40, 0},
	{"gen-len", 1, (int64_t)1 << 24, 0},
	{"w-bit", 1, 64, 16},
	{"a-bit", 1, 64, 16},
	{"kv-bit", 1, 64, 0},
};

enum { PHASE_ALL, PHASE_PREFILL, PHASE_DECODE };

struct opts {
	int64_t *list[NLISTS];
	int nlist[NLISTS];
	int given[NLISTS];
	int64_t fixed_value[NLISTS]; /* values a document was populated with */
	lmp_query *queries; /* --queries: one mixed step */
	int nqueries;
	int totals, pretty, phase;
	const char *db, *module, *params, *file;
};


/* "2048:0,1:4096x31": one prefill of 2048 beside 31 decodes at 4096. */
static int
parse_queries(const char *s, lmp_query **out, int *n, lmp_err *e)
{
	char *copy = lmp_xstrdup(s), *tok, *save = NULL, *colon, *x;
	int cap = 0;

	*n = 0;
	*out = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		lmp_query q = {0, 0, 1};
		if (!(colon = strchr(tok, ':')))
			goto bad;
		*colon = '\0';
		if ((x = strchr(colon + 1, 'x')))
			*x = '\0';
		if (lmp_parse_i64(tok, 1, (int64_t)1 << 40, &q.seq_len) ||
		    lmp_parse_i64(colon + 1, 0, (int64_t)1 << 40, &q.cache_len) ||
		    (x && lmp_parse_i64(x + 1, 1, (int64_t)1 << 30, &q.count)))
			goto bad;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = lmp_xrealloc(*out, sizeof **out * (size_t)cap);
		}
		(*out)[(*n)++] = q;
		if (*n > 1 << 15)
			goto bad;
	}
	if (!*n || s[strlen(s) - 1] == ',')
		goto bad;
	free(copy);
	return 0;
bad:
	free(copy);
	free(*out);
	*out = NULL;
	return lmp_fail(e, LMP_EXIT_USAGE, "--queries: '%s' is not a list of SEQ:CACHE[xCOUNT] (seq >= 1, cache >= 0, count >= 1)", s);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_TOTALS = 256, O_PRETTY, O_DB, O_MODULE, O_PARAMS, O_PHASE, O_QUERIES, O_HELP, O_VERSION };
	static struct option longs[NLISTS + 10];
	char opt[64], msg[256];
	lmp_err e = {0};
	int c, i;

	for (i = 0; i < NLISTS; i++)
		longs[i] = (struct option){lists[i].name, required_argument, 0, i};
	longs[i++] = (struct option){"totals", no_argument, 0, O_TOTALS};
	longs[i++] = (struct option){"pretty", no_argument, 0, O_PRETTY};
	longs[i++] = (struct option){"db", required_argument, 0, O_DB};
	longs[i++] = (struct option){"module", required_argument, 0, O_MODULE};
	longs[i++] = (struct option){"params", required_argument, 0, O_PARAMS};
	longs[i++] = (struct option){"phase", required_argument, 0, O_PHASE};
	longs[i++] = (struct option){"queries", required_argument, 0, O_QUERIES};
	longs[i++] = (struct option){"help", no_argument, 0, O_HELP};
	longs[i++] = (struct option){"version", no_argument, 0, O_VERSION};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c >= 0 && c < NLISTS) {
			snprintf(opt, sizeof opt, "--%s", lists[c].name);
			free(o->list[c]);
			if (lmp_parse_list(optarg, lists[c].min, lists[c].max, &o->list[c], &o->nlist[c], &e, opt))
				lmp_usage_error(e.msg);
			o->given[c] = 1;
			continue;
		}
		switch (c) {
		case O_TOTALS: o->totals = 1; break;
		case O_PRETTY: o->pretty = 1; break;
		case O_DB: o->db = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_PARAMS: o->params = optarg; break;
		case O_PHASE:
			if (!strcmp(optarg, "prefill"))
				o->phase = PHASE_PREFILL;
			else if (!strcmp(optarg, "decode"))
				o->phase = PHASE_DECODE;
			else
				lmp_usage_error("--phase is prefill or decode");
			break;
		case O_QUERIES:
			free(o->queries);
			if (parse_queries(optarg, &o->queries, &o->nqueries, &e))
				lmp_usage_error(e.msg);
			break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-eval " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
}

/* Fill the lists not given with their defaults, and check the combinations. */
static void
settle(struct opts *o)
{
	int gen = o->given[O_PROMPT] || o->given[O_GEN], i;

	if (gen && !(o->given[O_PROMPT] && o->given[O_GEN]))
		lmp_usage_error("--prompt-len and --gen-len go together");
	if (gen && (o->given[O_SEQ] || o->given[O_CACHE]))
		lmp_usage_error("a request (--prompt-len, --gen-len) has no --seq-len or --cache-len");
	if (o->phase && !gen)
		lmp_usage_error("--phase needs --prompt-len and --gen-len");
	if (gen && o->module)
		lmp_usage_error("--module evaluates one step: use --seq-len and --cache-len");
	if (o->queries && (gen || o->given[O_SEQ] || o->given[O_CACHE] || o->given[O_BATCH]))
		lmp_usage_error("--queries is the whole step: no --batch-size, --seq-len, --cache-len or request");
	for (i = 0; i < NLISTS; i++) {
		if (o->list[i])
			continue;
		o->list[i] = lmp_xmalloc(sizeof(int64_t));
		o->nlist[i] = 1;
		o->list[i][0] = lists[i].dflt;
	}
	if (o->phase == PHASE_DECODE)
		for (i = 0; i < o->nlist[O_GEN]; i++)
			if (o->list[O_GEN][i] < 2)
				lmp_usage_error("--phase decode needs --gen-len of at least 2");
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
make_point(const struct opts *o, const int *idx, struct point *pt, lmp_err *e)
{
	int64_t v[NLISTS];
	int i;

	for (i = 0; i < NLISTS; i++)
		v[i] = o->list[i][idx[i]];
	memset(pt, 0, sizeof *pt);
	pt->rt.w_bit = (int)v[O_WBIT];
	pt->rt.a_bit = (int)v[O_ABIT];
	/* The KV cache is kept at the activation precision unless told. */
	pt->rt.kv_bit = o->given[O_KVBIT] ? (int)v[O_KVBIT] : pt->rt.a_bit;
	pt->q.count = v[O_BATCH];
	pt->q.seq_len = v[O_SEQ];
	pt->q.cache_len = v[O_CACHE];
	if (o->given[O_PROMPT]) {
		pt->gen = (lmp_gen){v[O_BATCH], v[O_PROMPT], v[O_GEN], pt->rt.w_bit, pt->rt.a_bit, pt->rt.kv_bit};
		pt->is_gen = o->phase == PHASE_ALL;
		pt->q.seq_len = o->phase == PHASE_DECODE ? 1 : v[O_PROMPT];
		pt->q.cache_len = o->phase == PHASE_DECODE ? v[O_PROMPT] + (v[O_GEN] - 2) / 2 : 0;
		snprintf(pt->extra, sizeof pt->extra, ",\"phase\":\"%s\",\"prompt_len\":%lld,\"gen_len\":%lld",
			o->phase == PHASE_DECODE ? "decode" : "prefill", (long long)v[O_PROMPT], (long long)v[O_GEN]);
		pt->rt.extra = pt->is_gen ? NULL : pt->extra;
	}
	pt->rt.nqueries = 1;
	pt->rt.queries = &pt->q;
	if (o->queries) {
		pt->rt.nqueries = o->nqueries;
		pt->rt.queries = o->queries;
	}
	return lmp_runtime_compute(&pt->rt, e);
}

/* Every point of the sweep: the cartesian product of the lists. */
static int
sweep(const struct opts *o, point_fn fn, void *ctx, lmp_err *e)
{
	int idx[NLISTS] = {0}, i;
	struct point pt;

	for (;;) {
		if (make_point(o, idx, &pt, e) || fn(&pt, ctx, e))
			return -1;
		for (i = NLISTS - 1; i >= 0; i--) {
			if (++idx[i] < o->nlist[i])
				break;
			idx[i] = 0;
		}
		if (i < 0)
			return 0;
	}
}

struct out {
	lmp_model *m;
	int rows, pretty, module;
	lmp_buf b;
};

static int
flush(struct out *w, lmp_err *e)
{
	if (!w->b.len)
		return 0;
	if (w->pretty) {
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

static int
point(struct point *pt, void *ctx, lmp_err *e)
{
	struct out *w = ctx;
	int rc;

	if (w->module)
		rc = lmp_module_doc(w->m, &pt->rt, &w->b, e);
	else if (pt->is_gen)
		rc = lmp_gen_doc(w->m, &pt->gen, w->rows, &w->b, e);
	else
		rc = lmp_eval_doc(w->m, &pt->rt, w->rows, &w->b, e);
	if (rc)
		return -1;
	return (w->pretty || w->b.len > 60000) ? flush(w, e) : 0;
}

static lmp_db *
open_db(const struct opts *o, lmp_err *e)
{
	const char *path = o->db ? o->db : getenv("LMP_DB");
	lmp_db *db;

	if (!path || !*path)
		path = lmp_default_db();
	if (!(db = lmp_db_open(path, e)))
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

/* A document populated with fixed runtime values (lmp-populate --w-bit 4)
 * is evaluated at those values: an option left out takes them, an option
 * that disagrees is an error.  o is the user's; *local gets the result. */
static int
adopt_fixed(const cJSON *doc, const struct opts *o, struct opts *local, lmp_err *e)
{
	static const struct {
		const char *key;
		int list;
	} keys[] = {
		{"batch_size", O_BATCH}, {"seq_len", O_SEQ}, {"cache_len", O_CACHE},
		{"w_bit", O_WBIT}, {"a_bit", O_ABIT}, {"kv_bit", O_KVBIT},
	};
	const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(doc, "fixed"), *v;
	lmp_num x;
	size_t i;

	*local = *o;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		int k = keys[i].list;
		if (!(v = cJSON_GetObjectItemCaseSensitive(fixed, keys[i].key)))
			continue;
		if (lmp_json_num(v, &x) || !x.exact || x.d != 1)
			return lmp_fail(e, LMP_EXIT_INPUT, "\"fixed.%s\" is not an integer", keys[i].key);
		if (k <= O_CACHE && (o->given[O_PROMPT] || o->queries))
			return lmp_fail(e, LMP_EXIT_INPUT, "the document was populated with a fixed %s: "
				"a request or --queries needs a document populated without it", keys[i].key);
		if (o->given[k] && (o->nlist[k] != 1 || o->list[k][0] != (int64_t)x.n))
			return lmp_fail(e, LMP_EXIT_INPUT, "the document was populated with %s %lld; --%s disagrees",
				keys[i].key, (long long)x.n, lists[k].name);
		local->list[k] = &local->fixed_value[k];
		local->fixed_value[k] = (int64_t)x.n;
		local->nlist[k] = 1;
		local->given[k] = 1;
	}
	return 0;
}

/* The whole input is parsed before anything is evaluated, so a malformed
 * document anywhere in a stream prints nothing. */
static int
run_stream(lmp_db **dbp, const struct opts *o, struct out *w, lmp_err *e)
{
	lmp_db *db;
	lmp_buf in = {0};
	lmp_json_stream s;
	const char *name = o->file ? o->file : "<stdin>";
	cJSON **docs = NULL, *doc;
	int rc = -1, n = 0, i;

	if (lmp_read_input(o->file, lmp_chain(), &in, e))
		return -1;
	/* The database after the input: in a pipe after lmp-ensure, it is read
	 * once lmp-ensure has finished adding to it. */
	db = *dbp = open_db(o, e);
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
	for (i = 0; i < n; i++) {
		struct opts local;
		if (adopt_fixed(docs[i], o, &local, e) || !(w->m = lmp_model_load(docs[i], db, e)))
			goto out;
		rc = sweep(&local, point, w, e);
		lmp_model_free(w->m);
		if (rc)
			goto out;
	}
	rc = 0;
out:
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
	int rc, i;

	lmp_start("lmp-eval");
	parse_opts(argc, argv, &o);
	settle(&o);
	if (o.module && o.params)
		lmp_usage_error("--module and --params exclude each other");
	if (!o.module && !o.params) {
		if (argc - optind > 1)
			lmp_usage_error("at most one input file");
		o.file = optind < argc ? argv[optind] : NULL;
	} else if (o.params && optind < argc) {
		lmp_usage_error("--params takes no operands");
	}
	db = o.params || o.module ? open_db(&o, &e) : NULL;
	w.rows = !o.totals;
	w.pretty = o.pretty;
	if (o.params) {
		list_params(db, o.params);
		rc = 0;
	} else if (o.module) {
		w.module = 1;
		if (!(w.m = module_model(db, &o, argc, argv, &e)))
			lmp_die(&e);
		rc = sweep(&o, point, &w, &e);
		lmp_model_free(w.m);
	} else {
		rc = run_stream(&db, &o, &w, &e);
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
	lmp_buf_free(&w.b);
	lmp_db_free(db);
	for (i = 0; i < NLISTS; i++)
		free(o.list[i]);
	free(o.queries);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
