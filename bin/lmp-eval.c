/* lmp-eval: FLOPs, bytes, parameters and KV cache of a populated
 * architecture at one or many runtime points. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-eval [--batch-size N[,N...]] [--seq-len N[,N...]] [--cache-len N[,N...]]\n"
	"                [--w-bit B[,B...]] [--a-bit B[,B...]] [--kv-bit B[,B...]]\n"
	"                [--totals] [--pretty] [--db FILE] [FILE]\n"
	"       lmp-eval --module CLASS [runtime options] [--db FILE] NAME=VALUE ...\n"
	"       lmp-eval --params CLASS [--db FILE]\n"
	"       lmp-eval --help | --version\n";

enum { O_BATCH, O_SEQ, O_CACHE, O_WBIT, O_ABIT, O_KVBIT, NLISTS };

struct opts {
	int64_t *list[NLISTS];
	int nlist[NLISTS];
	int totals, pretty;
	const char *db, *module, *params, *file;
};

static void
die(lmp_err *e)
{
	fprintf(stderr, "lmp-eval: %s\n", e->msg);
	exit(e->status ? e->status : LMP_EXIT_INPUT);
}

static void
usage_error(const char *msg)
{
	fprintf(stderr, "lmp-eval: %s (see lmp-eval --help)\n", msg);
	exit(LMP_EXIT_USAGE);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"batch-size", required_argument, 0, 'b'},
		{"seq-len", required_argument, 0, 's'},
		{"cache-len", required_argument, 0, 'c'},
		{"w-bit", required_argument, 0, 'w'},
		{"a-bit", required_argument, 0, 'a'},
		{"kv-bit", required_argument, 0, 'k'},
		{"totals", no_argument, 0, 't'},
		{"pretty", no_argument, 0, 'p'},
		{"db", required_argument, 0, 'D'},
		{"module", required_argument, 0, 'M'},
		{"params", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	/* Ranges: a step has at least one sequence and one new token; beyond
	 * these bounds a value is a typo, not a workload. */
	static const struct {
		const char *name;
		int64_t min, max;
	} ranges[NLISTS] = {
		{"--batch-size", 1, (int64_t)1 << 30},
		{"--seq-len", 1, (int64_t)1 << 40},
		{"--cache-len", 0, (int64_t)1 << 40},
		{"--w-bit", 1, 64},
		{"--a-bit", 1, 64},
		{"--kv-bit", 1, 64},
	};
	const char *which = "bscwak";
	lmp_err e = {0};
	int c, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		const char *p = strchr(which, c);
		if (c && p) {
			i = (int)(p - which);
			free(o->list[i]);
			if (lmp_parse_list(optarg, ranges[i].min, ranges[i].max, &o->list[i], &o->nlist[i], &e,
				    ranges[i].name))
				usage_error(e.msg);
			continue;
		}
		switch (c) {
		case 't': o->totals = 1; break;
		case 'p': o->pretty = 1; break;
		case 'D': o->db = optarg; break;
		case 'M': o->module = optarg; break;
		case 'P': o->params = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': puts("lmp-eval " LMP_VERSION); exit(0);
		default:
			if (optopt || (optind > 0 && argv[optind - 1][0] == '-')) {
				char msg[256];
				snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
				usage_error(msg);
			}
			usage_error("bad option");
		}
	}
}

static void
defaults(struct opts *o)
{
	static const int64_t dflt[NLISTS] = {1, 2048, 0, 16, 16, 0};
	int i;

	for (i = 0; i < NLISTS; i++) {
		if (o->list[i])
			continue;
		o->list[i] = lmp_xmalloc(sizeof(int64_t));
		o->nlist[i] = 1;
		o->list[i][0] = dflt[i];
	}
}

/* Call fn for every point of the sweep: the cartesian product of the
 * lists, the last option varying fastest. */
typedef int (*point_fn)(const lmp_runtime *rt, void *ctx, lmp_err *e);

static int
sweep(const struct opts *o, int kv_given, point_fn fn, void *ctx, lmp_err *e)
{
	int idx[NLISTS] = {0}, i;
	lmp_query q;
	lmp_runtime rt = {0};

	for (;;) {
		q.count = o->list[O_BATCH][idx[O_BATCH]];
		q.seq_len = o->list[O_SEQ][idx[O_SEQ]];
		q.cache_len = o->list[O_CACHE][idx[O_CACHE]];
		rt.nqueries = 1;
		rt.queries = &q;
		rt.w_bit = (int)o->list[O_WBIT][idx[O_WBIT]];
		rt.a_bit = (int)o->list[O_ABIT][idx[O_ABIT]];
		/* The KV cache is kept at the activation precision unless told. */
		rt.kv_bit = kv_given ? (int)o->list[O_KVBIT][idx[O_KVBIT]] : rt.a_bit;
		if (lmp_runtime_compute(&rt, e) || fn(&rt, ctx, e))
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
		if (!doc)
			return -1;
		char *s = lmp_json_print(doc, 1);
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
point(const lmp_runtime *rt, void *ctx, lmp_err *e)
{
	struct out *w = ctx;
	int rc = w->module ? lmp_module_doc(w->m, rt, &w->b, e) : lmp_eval_doc(w->m, rt, w->rows, &w->b, e);

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
	if (!(db = lmp_db_load(path, e)))
		die(e);
	return db;
}

static lmp_entry *
find_entry(lmp_db *db, const char *cls)
{
	lmp_entry *en = lmp_db_find(db, cls);

	if (!en) {
		fprintf(stderr, "lmp-eval: class %s is not in the module database %s\n", cls, db->path);
		exit(LMP_EXIT_INPUT);
	}
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
			usage_error("module parameters are NAME=VALUE");
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
run_stream(lmp_db *db, const struct opts *o, int kv_given, struct out *w, lmp_err *e)
{
	lmp_buf in = {0};
	lmp_json_stream s;
	const char *name = o->file ? o->file : "<stdin>";
	cJSON **docs = NULL, *doc;
	int rc = -1, n = 0, i;

	if (o->file ? lmp_read_file(o->file, &in, e) : lmp_read_stream(stdin, &in, e))
		return -1;
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
		if (!(w->m = lmp_model_load(docs[i], db, e)))
			goto out;
		rc = sweep(o, kv_given, point, w, e);
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
	int kv_given, rc, i;

	parse_opts(argc, argv, &o);
	kv_given = o.list[O_KVBIT] != NULL;
	defaults(&o);
	if (o.module && o.params)
		usage_error("--module and --params exclude each other");
	if (!o.module && !o.params) {
		if (argc - optind > 1)
			usage_error("at most one input file");
		o.file = optind < argc ? argv[optind] : NULL;
	} else if (o.params && optind < argc) {
		usage_error("--params takes no operands");
	}
	db = open_db(&o, &e);
	w.rows = !o.totals;
	w.pretty = o.pretty;
	if (o.params) {
		list_params(db, o.params);
		rc = 0;
	} else if (o.module) {
		w.module = 1;
		if (!(w.m = module_model(db, &o, argc, argv, &e)))
			die(&e);
		rc = sweep(&o, kv_given, point, &w, &e);
		lmp_model_free(w.m);
	} else {
		rc = run_stream(db, &o, kv_given, &w, &e);
	}
	if (!rc)
		rc = flush(&w, &e);
	lmp_buf_free(&w.b);
	lmp_db_free(db);
	for (i = 0; i < NLISTS; i++)
		free(o.list[i]);
	if (rc)
		die(&e);
	if (fflush(stdout) || ferror(stdout)) {
		fputs("lmp-eval: write error on stdout\n", stderr);
		return LMP_EXIT_SYSTEM;
	}
	return 0;
}
