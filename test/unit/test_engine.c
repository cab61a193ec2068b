/* Unit tests of the formula engine, the number layer and the JSON layer.
 * Output is TAP; test/run counts it.  Every expected value is worked out by
 * hand in the comment or the literal next to it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmp.h"
#include "tap.h"

/* A test DB: A(x) = 2x; B calls A both ways; C and D call each other; E has
 * a default; F has every formula. */
static const char test_db[] =
	"{\"lmp\":\"module_db\",\"version\":1,\"entries\":{"
	"\"A\":{\"parameters\":[{\"name\":\"x\",\"type\":\"number\"}],"
	"  \"flop_analysis\":{\"formula\":\"${x} * 2\"}},"
	"\"B\":{\"parameters\":[{\"name\":\"y\",\"type\":\"int\"}],"
	"  \"flop_analysis\":{\"formula\":\"{A}(${y}) + {A}(x=${y} + 1)\"}},"
	"\"C\":{\"parameters\":[],\"flop_analysis\":{\"formula\":\"1 + {D}()\"}},"
	"\"D\":{\"parameters\":[],\"flop_analysis\":{\"formula\":\"1 + {C}()\"}},"
	"\"E\":{\"parameters\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"k\",\"type\":\"int\",\"default\":10}],"
	"  \"flop_analysis\":{\"formula\":\"${x} * ${k}\"}},"
	"\"F\":{\"parameters\":[{\"name\":\"x\",\"type\":\"int\"}],\"flop_analysis\":{\"formula\":\"2 * ${x}\"},"
	"  \"memory_analysis\":{\"reads\":\"${x}\",\"weights\":\"0\",\"writes\":\"${x}\",\"intermediates\":\"0\"},"
	"  \"param_count\":\"0\",\"state\":\"0\"},"
	"\"torch.nn.modules.linear.Linear\":{\"aliases\":[\"torch.nn.Linear\"],\"parameters\":[{\"name\":\"n\",\"type\":\"int\"}],"
	"  \"flop_analysis\":{\"formula\":\"${n} + 1\"}}"
	"}}";

static lmp_db *db;

/* text folded with a=3, b=5 into p (NULL where it does not parse or
 * fold: e says why); *t, its template, for the caller to free after. */
static lmp_poly *
fold_ab(lmp_prog *p, const char *text, lmp_tmpl **t, lmp_err *e)
{
	static const char *const params[] = {"a", "b"};
	lmp_fold_ctx c = {0};
	lmp_num three = lmp_num_int(3), five = lmp_num_int(5);
	lmp_poly *args[2];

	if (!(*t = lmp_tmpl_parse(text, params, 2, e)))
		return NULL;
	args[0] = lmp_poly_const(p, &three);
	args[1] = lmp_poly_const(p, &five);
	c.prog = p;
	c.db = db;
	c.kind = LMP_K_FLOPS;
	return lmp_fold(&c, *t, args, "test", e);
}

/* Evaluate text with parameters a=3, b=5 at a runtime point; "error: ..." on failure. */
static char *
evalp(const char *text, const lmp_runtime *rt)
{
	static char out[1200];
	lmp_err e = {0};
	lmp_prog *p = lmp_prog_new();
	lmp_tmpl *t = NULL;
	lmp_poly *q = fold_ab(p, text, &t, &e);
	lmp_num v;
	lmp_runtime zero = {0};

	if (q) {
		lmp_prog_set_point(p, rt ? rt : &zero);
		if (lmp_poly_eval(p, q, &v, &e) == 0)
			lmp_num_str(&v, out);
		else
			q = NULL;
	}
	if (!q)
		snprintf(out, sizeof out, "error: %s", e.msg);
	lmp_tmpl_free(t);
	lmp_prog_free(p);
	return out;
}

/* The runtime variables (bits) text reads, folded with a=3, b=5. */
static unsigned
varsof(const char *text)
{
	lmp_err e = {0};
	lmp_prog *p = lmp_prog_new();
	lmp_tmpl *t = NULL;
	lmp_poly *q = fold_ab(p, text, &t, &e);
	unsigned v = q ? lmp_poly_vars(p, (const lmp_poly *const *)&q, 1) : 0xdead;

	lmp_tmpl_free(t);
	lmp_prog_free(p);
	return v;
}

/* What a polynomial reads decides which rows a decode step may take
 * from its first step (evaldoc.c): every variable, through every atom. */
static void
test_poly_vars(void)
{
	unsigned kv = 1u << LMP_V_KV_TOKENS, tok = 1u << LMP_V_TOKENS, cache = 1u << LMP_V_CACHE_LEN;
	unsigned w = 1u << LMP_V_W_DTYPE_BYTES;

	ok(varsof("${a} * ${b} + 7") == 0, "poly vars: constants read none", NULL);
	ok(varsof("{tokens} * ${a} * {w_dtype_bytes}") == (tok | w), "poly vars: a product's variables", NULL);
	ok(varsof("ceil({kv_tokens} / 16) * ${b} + {tokens}") == (kv | tok), "poly vars: through an opaque atom (ceil)", NULL);
	ok(varsof("min({cache_len}, 4096) * ${a}") == cache, "poly vars: through min", NULL);
	ok(varsof("max(ceil(min({cache_len}, ${b} * 100) / 7), 1)") == cache, "poly vars: atoms inside atoms", NULL);
	ok(varsof("window_kv(1024) * ${a}") == (LMP_QUERY_VARS | LMP_READS_QUERIES),
		"poly vars: a window's aggregate reads the queries themselves",
		NULL);
	ok(varsof("{tokens} - {tokens}") == 0, "poly vars: what cancels is not read", NULL);
}

/* text folded with a=3, b=5: its degree in the sequence length (seq 1)
 * or the cache length (seq 0) as sweepform.c asks it, and the variable it
 * is (lmp_poly_var) in *var. */
static int
degof(const char *text, int seq, int *var)
{
	lmp_err e = {0};
	lmp_prog *p = lmp_prog_new();
	lmp_tmpl *t = NULL;
	lmp_poly *q = fold_ab(p, text, &t, &e);
	int vdeg[LMP_NVARS] = {0}, d = -99;

	/* tokens = b s, kv_tokens = b (c + s), qk_pairs = b s (c + s) */
	if (seq)
		vdeg[LMP_V_SEQ_LEN] = vdeg[LMP_V_TOKENS] = vdeg[LMP_V_KV_TOKENS] = 1, vdeg[LMP_V_QK_PAIRS] = 2;
	else
		vdeg[LMP_V_CACHE_LEN] = vdeg[LMP_V_KV_TOKENS] = vdeg[LMP_V_CACHED_TOKENS] = vdeg[LMP_V_QK_PAIRS] = 1;
	*var = -99;
	if (q) {
		d = lmp_poly_degree(p, (const lmp_poly *const *)&q, 1, vdeg);
		*var = lmp_poly_var(q);
	}
	lmp_tmpl_free(t);
	lmp_prog_free(p);
	return d;
}

/* Which polynomials a sweep's forms may follow (sweepform.c): the degree
 * in the length that moves, -1 where an operation reads it. */
static void
test_poly_degree(void)
{
	int v;

	ok(degof("${a} * ${b} + 7", 1, &v) == 0 && v == -1, "poly degree: a constant, 0; no variable", NULL);
	ok(degof("{tokens}", 1, &v) == 1 && v == LMP_V_TOKENS, "poly degree: tokens, 1 in seq_len; the variable itself",
		NULL);
	ok(degof("2 * {tokens}", 1, &v) == 1 && v == -1, "poly degree: twice a variable is not the variable", NULL);
	ok(degof("{qk_pairs} * ${a} + {tokens} * {w_dtype_bytes}", 1, &v) == 2, "poly degree: qk_pairs, 2 in seq_len",
		NULL);
	ok(degof("{qk_pairs} * ${a} + {tokens}", 0, &v) == 1, "poly degree: qk_pairs, 1 in cache_len; tokens 0", NULL);
	ok(degof("{tokens} * {kv_tokens} * {qk_pairs}", 1, &v) == 4, "poly degree: a product adds degrees (1 + 1 + 2)",
		NULL);
	ok(degof("{tokens} ** 3", 1, &v) == 3, "poly degree: a whole power multiplies it", NULL);
	ok(degof("ceil({kv_tokens} / 16) * ${b}", 1, &v) == -1, "poly degree: ceil of the length, no polynomial", NULL);
	ok(degof("min({cache_len}, 4096) * {tokens}", 1, &v) == 1,
		"poly degree: min of what does not move is a constant (seq_len moves)", NULL);
	ok(degof("min({cache_len}, 4096) * {tokens}", 0, &v) == -1, "poly degree: min of the cache, cache_len moving",
		NULL);
	/* a window's aggregates of one query, s new over c cached, W keys:
	 * min(c, W - 1) + s, s (min(c, W - 1) + s), min(c + s, W - 1); of
	 * degree 1, 2 and 1 on one side of the mins (the caller keeps it) */
	ok(degof("window_kv(1024) * ${a}", 1, &v) == 1, "poly degree: a window's keys, 1 on one side", NULL);
	ok(degof("window_pairs(1024) * ${a} + {tokens}", 1, &v) == 2, "poly degree: a window's pairs, 2 on one side", NULL);
	ok(degof("window_pairs(1024) * {tokens}", 1, &v) == 3, "poly degree: a window's pairs times the tokens, 3", NULL);
	ok(degof("window_cache(4096) * ${b}", 0, &v) == 1, "poly degree: a window's cache, 1 on one side", NULL);
	ok(degof("window_kv({batch_size} * 1024) * ${a}", 1, &v) == -1,
		"poly degree: a window that is no constant, no polynomial", NULL);
	ok(degof("min(window_kv(1024), {tokens})", 1, &v) == -1, "poly degree: an operation of a window's aggregate, none",
		NULL);
	{
		lmp_err e = {0};
		lmp_prog *p = lmp_prog_new();
		lmp_tmpl *t1 = NULL, *t2 = NULL, *t3 = NULL;
		int64_t w[4];
		int n;
		char got[64];
		(void)fold_ab(p, "window_kv(4096) + window_pairs(4096)", &t1, &e);
		(void)fold_ab(p, "window_cache(512) * ${a}", &t2, &e);
		n = lmp_poly_windows(p, w, 4);
		snprintf(got, sizeof got, "%d: %lld %lld", n, n > 0 ? (long long)w[0] : 0LL, n > 1 ? (long long)w[1] : 0LL);
		ok(n == 2 && w[0] == 4096 && w[1] == 512, "poly windows: the distinct windows, 4096 and 512", got);
		(void)fold_ab(p, "window_kv({batch_size} * 8)", &t3, &e);
		ok(lmp_poly_windows(p, w, 4) == -1, "poly windows: a window that is no constant: -1", NULL);
		lmp_tmpl_free(t1);
		lmp_tmpl_free(t2);
		lmp_tmpl_free(t3);
		lmp_prog_free(p);
	}
	ok(degof("{tokens} - {tokens} + {batch_size}", 1, &v) == 0 && v == LMP_V_BATCH_SIZE,
		"poly degree: what cancels is no degree", NULL);
}

static void
is(const char *text, const char *want)
{
	char *got = evalp(text, NULL);
	char what[256];

	snprintf(what, sizeof what, "%s = %s", text, want);
	ok(strcmp(got, want) == 0, what, got);
}

/* The error message contains want. */
static void
fails(const char *text, const char *want)
{
	char *got = evalp(text, NULL);
	char what[256];

	snprintf(what, sizeof what, "%.60s fails with '%s'", text, want);
	ok(strncmp(got, "error: ", 7) == 0 && strstr(got, want) != NULL, what, got);
}

static void
at(const char *text, lmp_runtime *rt, const char *want)
{
	char *got = evalp(text, rt);
	char what[256];

	snprintf(what, sizeof what, "%s at point = %s", text, want);
	ok(strcmp(got, want) == 0, what, got);
}

static void
test_precedence(void)
{
	is("2 + 3 * 4", "14");
	is("(2 + 3) * 4", "20");
	is("10 - 4 - 3", "3");           /* left-associative */
	is("100 / 10 / 5", "2");
	is("2 ** 3 ** 2", "512");        /* right-associative: 2 ** 9 */
	is("(2 ** 3) ** 2", "64");
	is("-2 ** 2", "-4");             /* ** binds tighter than unary minus, as Python */
	is("2 ** -1", "0.5");
	is("2 * -3", "-6");
	is("- - 4", "4");
	is("1 + 2 < 4", "1");            /* comparison below arithmetic */
	is("3 == 3", "1");
	is("3 != 3", "0");
	is("2 >= 3", "0");
	is("2 <= 2", "1");
	is("1 ? 2 : 3", "2");
	is("0 ? 2 : 1 ? 4 : 5", "4");    /* ?: is right-associative */
	is("${a} * ${b} + ${a}", "18");  /* a = 3, b = 5 */
	is("min(4, 2, 9)", "2");
	is("max(4, 2, 9)", "9");
	is("ceil(7 / 2)", "4");
	is("floor(7 / 2)", "3");
	is("ceil(-7 / 2)", "-3");
	is("log2(4096)", "12");          /* exact for powers of two */
	is("log2(1 / 8)", "-3");
	is("sqrt(16129)", "127");        /* exact for perfect squares */
	is("sqrt(9 / 4)", "1.5");
	is("abs(-5)", "5");
}

static void
test_division(void)
{
	is("7 / 2", "3.5");              /* integers that do not divide: a fraction, printed as a double */
	is("1 / 3 * 3", "1");            /* kept exact, so it comes back whole */
	is("6 / 3", "2");
	is("7 // 2", "3");
	is("-7 // 2", "-4");             /* floor, as Python */
	is("7 // -2", "-4");
	is("-7 % 3", "2");               /* sign of the divisor, as Python */
	is("7 % -3", "-2");
	is("7.5 // 2", "3");
	is("1 / 3", "0.3333333333333333");/* shortest text that reads back as the same double */
	is("0.5 / 4", "0.125");
	fails("1 / 0", "division by zero");
	fails("1 // 0", "division by zero");
	fails("1 % 0", "division by zero");
	fails("0 ** -1", "division by zero");
	fails("log2(0)", "out of domain");
	fails("sqrt(-1)", "out of domain");
	fails("(-8) ** 0.5", "out of domain");
}

static void
test_exactness(void)
{
	is("9007199254740992", "9007199254740992");        /* 2^53 */
	is("2 ** 53 + 1", "9007199254740993");             /* a double would say ...992 */
	is("2 ** 53 - 1", "9007199254740991");
	is("9007199254740993 - 1", "9007199254740992");
	is("(2 ** 53 + 1) * 3", "27021597764222979");
	/* 2^127 - 1, the largest integer, built without passing it. */
	is("(2 ** 126 - 1) * 2 + 1", "170141183460469231731687303715884105727");
	is("-((2 ** 126 - 1) * 2 + 1)", "-170141183460469231731687303715884105727");
	fails("2 ** 127", "overflow");
	fails("(2 ** 126 - 1) * 2 + 2", "overflow");
	fails("2 ** 126 * 2", "overflow");
	fails("170141183460469231731687303715884105727 + 1", "overflow");
	fails("-(2 ** 126) * 2", "overflow");  /* -2^127 is kept out so that negation never overflows */
	fails("10 ** 40", "overflow");
	/* Sub-byte sizes: elements x bits / 8 is exact. */
	is("(2 ** 60) * 3 / 8", "432345564227567616");    /* 2^57 * 3 */
	is("4096 * 11008 * 4 / 8", "22544384");           /* a 4-bit weight matrix */
	is("7 * 4 / 8", "3.5");
	is("0.1 + 0.2", "0.3");                            /* decimal literals are exact */
	is("1e3 * 2", "2000");
	is("2.5e-1 * 4", "1");
	/* A fraction outgrowing 128 bits degrades to a double, an integer does not. */
	is("(2 ** 100 + 1) / 3 * 3", "1267650600228229401496703205377");
}

static void
test_errors(void)
{
	fails("2 + * 3", "column 5");
	fails("2 +", "end of template");
	fails("(1 + 2", "expected ')'");
	fails("foo(1)", "unknown name");
	fails("min()", "wrong number of arguments");
	fails("ceil(1, 2)", "wrong number of arguments");
	fails("1 < 2 < 3", "chained comparison");
	fails("${c}", "unknown parameter");
	fails("{nosuchvar}", "unknown runtime variable");
	fails("$(rm -rf /)", "column 1");
	fails("`id`", "column 1");
	fails("1 2", "unexpected text");
	/* a literal past 2^127 would be an inexact double: refused */
	fails("99999999999999999999999999999999999999999 ** 1", "column 1: number past the exact range (2^127 or more)");
	fails("1 + 1e40", "column 5: number past the exact range");
	fails("170141183460469231731687303715884105728", "past the exact range"); /* 2^127 */
	is("170141183460469231731687303715884105727", "170141183460469231731687303715884105727"); /* 2^127 - 1 */
	is("1e38", "100000000000000000000000000000000000000");
	is("100000000000000000000000000000000000000.000", "100000000000000000000000000000000000000");
	is("1e-40 * 2", "2e-40");  /* below the range, a fraction past 128 bits is a double */
	fails("1 ? 2", "expected ':'");
	fails("min(x=1)", "named argument");
}

static void
test_limits(void)
{
	char *deep = malloc(5000), *big = malloc(70000);

	if (!deep || !big)
		return;
	int i;

	for (i = 0; i < 1000; i++)
		deep[i] = '(';
	deep[1000] = '1';
	for (i = 0; i < 1000; i++)
		deep[1001 + i] = ')';
	deep[2001] = '\0';
	fails(deep, "nesting too deep");
	for (i = 0; i < 69998; i += 2) {
		big[i] = '1';
		big[i + 1] = '+';
	}
	big[69998] = '1';
	big[69999] = '\0';
	fails(big, "too long");
	/* A chain is not nesting: 200 terms, and 1000 (a tree 1000 levels
	 * tall), are fine; 1001 terms are refused, not a stack overflow in the
	 * code that walks the tree. */
	big[399] = '\0';
	is(big, "200");
	big[399] = '+';
	big[1999] = '\0';
	is(big, "1000");
	big[1999] = '+';
	big[2001] = '\0';
	fails(big, "expression too long (more than 1000 operators on one path)");
	/* the same through operators folding leaves opaque (floor division of a
	 * runtime variable), which evaluation walks recursively */
	strcpy(deep, "({batch_size} + 7)");
	for (i = 0; i < 998; i++)
		strcat(deep, "//1");
	is(deep, "7");
	strcat(deep, "//1");
	fails(deep, "expression too long");
	free(deep);
	free(big);
}

/* A layer tree nested `levels` deep below the top: composites "n", one leaf
 * of class F (x = 1) at the bottom. */
static cJSON *
nested_tree(int levels)
{
	cJSON *leaf = cJSON_CreateObject(), *node;

	cJSON_AddStringToObject(leaf, "name", "leaf");
	cJSON_AddStringToObject(leaf, "class", "F");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(leaf, "params"), "x", 1);
	for (int i = 0; i < levels; i++) {
		node = cJSON_CreateObject();
		cJSON_AddStringToObject(node, "name", "n");
		cJSON_AddStringToObject(node, "class", "Composite");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(node, "sub_layers"), leaf);
		leaf = node;
	}
	return leaf;
}

/* The named limits of lmp.h hold at their boundary: the limit passes, one
 * more is refused, in every place that applies it. */
static void
test_named_limits(void)
{
	lmp_buf b = {0}, dbt = {0};
	lmp_err e = {0};
	lmp_db *saved = db, *big;
	cJSON *doc;
	lmp_model *m;
	int i, n;

	/* min(64, 63, ..., 1) = 1; with 65 arguments the parser refuses it */
	for (n = LMP_MAX_ARGS; n <= LMP_MAX_ARGS + 1; n++) {
		b.len = 0;
		lmp_buf_puts(&b, "min(");
		for (i = n; i >= 1; i--)
			lmp_buf_printf(&b, "%d%s", i, i > 1 ? ", " : ")");
		if (n == LMP_MAX_ARGS)
			is(b.s, "1");
		else
			fails(b.s, "too many arguments");
	}

	/* Entries of 64 and 65 parameters p1..pN, each formula their sum.
	 * {P64}(1, 2, ..., 64) = 64 * 65 / 2 = 2080; P65 is refused. */
	lmp_buf_puts(&dbt, "{\"lmp\":\"module_db\",\"version\":1,\"entries\":{");
	for (n = LMP_MAX_ARGS; n <= LMP_MAX_ARGS + 1; n++) {
		lmp_buf_printf(&dbt, "%s\"P%d\":{\"parameters\":[", n > LMP_MAX_ARGS ? "," : "", n);
		for (i = 1; i <= n; i++)
			lmp_buf_printf(&dbt, "%s{\"name\":\"p%d\",\"type\":\"int\"}", i > 1 ? "," : "", i);
		lmp_buf_puts(&dbt, "],\"flop_analysis\":{\"formula\":\"");
		for (i = 1; i <= n; i++)
			lmp_buf_printf(&dbt, "%s${p%d}", i > 1 ? " + " : "", i);
		lmp_buf_puts(&dbt, "\"}}");
	}
	lmp_buf_puts(&dbt, "}}");
	doc = lmp_json_parse_one(dbt.s, dbt.len, "big_db", &e);
	big = doc ? lmp_db_from_json(doc, "big_db", &e) : NULL;
	ok(big != NULL, "a database with 64- and 65-parameter entries loads", e.msg);
	if (big) {
		db = big;
		b.len = 0;
		lmp_buf_puts(&b, "{P64}(");
		for (i = 1; i <= LMP_MAX_ARGS; i++)
			lmp_buf_printf(&b, "%d%s", i, i < LMP_MAX_ARGS ? ", " : ")");
		is(b.s, "2080");
		fails("{P65}(1)", "too many parameters");
		db = saved;
		lmp_db_free(big);
	}

	/* A populated tree with its leaf 32 levels below the top loads; 33 is
	 * refused. */
	for (n = LMP_MAX_TREE_DEPTH; n <= LMP_MAX_TREE_DEPTH + 1; n++) {
		doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "lmp", "populated");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "layers"), nested_tree(n));
		memset(&e, 0, sizeof e);
		m = lmp_model_load(doc, db, &e);
		if (n == LMP_MAX_TREE_DEPTH)
			ok(m && m->nrows == 1, "a leaf 32 levels deep loads", e.msg);
		else
			ok(!m && strstr(e.msg, "layers nested deeper than 32"), "a leaf 33 levels deep is refused", e.msg);
		lmp_model_free(m);
		cJSON_Delete(doc);
	}

	/* The same boundary for an architecture template's tree.  Expanding
	 * reads the shipped config-inert.json and config-checks.json: the
	 * checkout's, as the tests run from its root. */
	setenv("LMP_DATADIR", "share/lmp", 0);
	for (n = LMP_MAX_TREE_DEPTH; n <= LMP_MAX_TREE_DEPTH + 1; n++) {
		cJSON *tmpl = cJSON_CreateObject(), *cfg = cJSON_CreateObject(), *model = cJSON_CreateObject();
		cJSON_AddStringToObject(tmpl, "class", "Model");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(tmpl, "tree"), nested_tree(n));
		cJSON_AddStringToObject(model, "model_type", "t");
		memset(&e, 0, sizeof e);
		doc = lmp_arch_build(tmpl, cfg, model, &e);
		if (n == LMP_MAX_TREE_DEPTH)
			ok(doc != NULL, "a template 32 levels deep expands", e.msg);
		else
			ok(!doc && strstr(e.msg, "template nested deeper than 32"), "a template 33 levels deep is refused", e.msg);
		cJSON_Delete(doc);
		cJSON_Delete(tmpl);
		cJSON_Delete(cfg);
	}
	lmp_buf_free(&b);
	lmp_buf_free(&dbt);
}

static void
test_calls(void)
{
	is("{A}(4)", "8");
	is("{B}(${a})", "14");                /* A(3) + A(4) = 6 + 8 */
	is("{E}(3)", "30");                   /* k defaults to 10 */
	is("{E}(3, k=2)", "6");
	is("{E}(k=2, x=4)", "8");
	is("{torch.nn.Linear}(1)", "2");      /* alias */
	is("{torch__nn__modules__linear__Linear}(5)", "6"); /* the __ form */
	fails("{C}()", "call cycle: C -> D -> C");
	fails("{Nope}(1)", "unknown entry {Nope}");
	fails("{A}()", "binds no 'x'");
	fails("{A}(1, 2)", "too many arguments");
	fails("{A}(z=1)", "has no parameter 'z'");
	fails("{A}(1, x=2)", "given twice");
	fails("{E}(k=1, 2)", "positional argument after a named one");
}

static void
test_runtime(void)
{
	lmp_query q = {2048, 0, 4}, mixed[2] = {{2048, 0, 1}, {1, 4096, 31}};
	lmp_runtime rt = {.nqueries = 1, .queries = &q, .w_bit = 16, .a_bit = 4, .kv_bit = 8};
	lmp_err e = {0};

	lmp_runtime_compute(&rt, &e);
	at("{tokens}", &rt, "8192");                 /* 4 x 2048 */
	at("{qk_pairs}", &rt, "16777216");           /* 4 x 2048 x 2048 */
	at("{w_dtype_bytes}", &rt, "2");
	at("{a_dtype_bytes} * 3", &rt, "1.5");       /* 4-bit: half a byte */
	at("{kv_tokens} * {kv_dtype_bytes}", &rt, "8192");
	at("${a} * ({tokens} + 1) - ${a} * {tokens}", &rt, "3"); /* folds to a constant */
	at("min({seq_len}, 1000) + max({seq_len}, 1000)", &rt, "3048");
	at("{cache_len} > 0 ? 100 / {cache_len} : 7", &rt, "7"); /* the untaken branch is not evaluated */
	at("ceil({tokens} / 3000)", &rt, "3");
	at("({tokens} + 1) ** 2 - {tokens} ** 2 - 2 * {tokens}", &rt, "1");
	/* One prefill of 2048 beside 31 decodes at 4096 cached tokens. */
	rt.nqueries = 2;
	rt.queries = mixed;
	lmp_runtime_compute(&rt, &e);
	at("{batch_size}", &rt, "32");
	at("{tokens}", &rt, "2079");                 /* 2048 + 31 */
	at("{kv_tokens}", &rt, "129055");            /* 2048 + 31 x 4097 */
	at("{qk_pairs}", &rt, "4321311");            /* 2048^2 + 31 x 4097 */
	at("{cached_tokens}", &rt, "126976");        /* 31 x 4096 */
	/* A window of 1024: the cache keeps 1023 past tokens; the prefill is
	 * given its 2048 keys, each decode 1023 + 1. */
	at("window_kv(1024)", &rt, "33792");          /* 2048 + 31 x 1024 */
	at("window_pairs(1024)", &rt, "4226048");     /* 2048 x 2048 + 31 x 1 x 1024 */
	at("window_cache(1024)", &rt, "32736");       /* 1023 + 31 x 1023 */
	/* A window wider than every sequence changes nothing. */
	at("window_kv(100000) - {kv_tokens}", &rt, "0");
	at("window_pairs(100000) - {qk_pairs}", &rt, "0");
	at("window_cache(100000) - {kv_tokens}", &rt, "0");
	at("window_kv(0)", &rt, "error: test: column 1: the window must be a positive integer");
	q.cache_len = 4;
	q.count = 1;
	rt.nqueries = 1;
	rt.queries = &q;
	lmp_runtime_compute(&rt, &e);
	at("{cache_len} > 0 ? 100 / {cache_len} : 7", &rt, "25");
	q.cache_len = 0;
	lmp_runtime_compute(&rt, &e);
	at("{cache_len} >= 0 ? 100 / {cache_len} : 7", &rt, "error: test: column 24: division by zero");
}

/* Where 64-bit integers stop, num.c's and eval_poly's fast paths give way
 * to 128-bit arithmetic: the same exact results either side. */
static void
test_int64_edges(void)
{
	lmp_query q = {2048, 0, 4};
	lmp_runtime rt = {.nqueries = 1, .queries = &q, .w_bit = 16, .a_bit = 16, .kv_bit = 16};
	lmp_err e = {0};

	is("9223372036854775807 + 1", "9223372036854775808");
	is("-9223372036854775808 - 1", "-9223372036854775809");
	is("9223372036854775807 * 2", "18446744073709551614");
	is("-(2 ** 63) / -1", "9223372036854775808");     /* INT64_MIN / -1 */
	is("-(2 ** 63) * -1", "9223372036854775808");
	is("3 ** 40 / 3 ** 20", "3486784401");
	lmp_runtime_compute(&rt, &e);
	at("{tokens} * 2 ** 62", &rt, "37778931862957161709568"); /* a product past 64 bits */
	at("{tokens} ** 5", &rt, "36893488147419103232");          /* a power past 64 bits */
	at("2 ** 62 + {batch_size} + 2 ** 62", &rt, "9223372036854775812"); /* a sum past them */
	at("{tokens} * 2 ** 70", &rt, "9671406556917033397649408"); /* a coefficient past them */
	at("{tokens} / 3", &rt, "2730.6666666666665");             /* a fraction */
	at("{tokens} * 3 - {tokens}", &rt, "16384");
}

/* The runtime option table, the variables a partial point fixes, and the
 * values lmp-eval takes for a document. */
static void
test_runopts(void)
{
	lmp_fixed f = {0};
	lmp_runvals user = {0}, at;
	lmp_runtime rt = {0};
	lmp_err e = {0};
	int64_t x[LMP_RO_NLISTS];
	char s[LMP_NUM_STRMAX], name[64];
	int i, names_ok = 1, lists_ok = 1;
	unsigned k;

	for (i = 0; i < LMP_NRUNOPTS; i++) {
		/* the JSON field is the option's name with underscores */
		snprintf(name, sizeof name, "%s", lmp_runopts[i].name);
		for (char *c = name; *c; c++)
			*c = *c == '-' ? '_' : *c;
		names_ok &= !strcmp(name, lmp_runopts[i].json);
		/* a choice that sweeps is a list too (--fusion, --kv-layout: listed
		 * LMP_RO_CHOICES); --phase, one choice, is not */
		lists_ok &= (i < LMP_RO_NLISTS) == (lmp_runopts[i].type == LMP_RO_INTS ||
			lmp_runopts[i].type == LMP_RO_FRACS || (lmp_runopts[i].type == LMP_RO_CHOICES && lmp_runopts[i].list));
	}
	ok(names_ok, "every option's JSON field is its name with underscores", NULL);
	ok(lists_ok, "the list options (integers, fractions, choices) come first, in sweep order", NULL);

	/* tokens needs batch and seq; kv_tokens and qk_pairs cache too */
	k = lmp_runtime_known(1u << LMP_RO_BATCH_SIZE | 1u << LMP_RO_SEQ_LEN);
	ok(k == (1u << LMP_V_BATCH_SIZE | 1u << LMP_V_SEQ_LEN | 1u << LMP_V_TOKENS), "batch and seq: tokens, not kv_tokens", NULL);
	k = lmp_runtime_known(1u << LMP_RO_A_BIT);
	ok(k == (1u << LMP_V_A_DTYPE_BYTES | 1u << LMP_V_KV_DTYPE_BYTES), "the KV width follows the activation width", NULL);

	/* 3 sequences, 7 new over 5 cached: tokens 21, kv_tokens 3 x 12 = 36,
	 * cached 15, pairs 3 x 7 x 12 = 252 */
	f.given = 1u << LMP_RO_BATCH_SIZE | 1u << LMP_RO_SEQ_LEN | 1u << LMP_RO_CACHE_LEN | 1u << LMP_RO_W_BIT;
	f.value[LMP_RO_BATCH_SIZE] = 3;
	f.value[LMP_RO_SEQ_LEN] = 7;
	f.value[LMP_RO_CACHE_LEN] = 5;
	f.value[LMP_RO_W_BIT] = 4;
	lmp_fixed_compute(&f, &e);
	lmp_num_str(&f.var[LMP_V_QK_PAIRS], s);
	ok(!strcmp(s, "252"), "a fixed point's qk_pairs: 3 x 7 x 12", s);
	lmp_num_str(&f.var[LMP_V_KV_TOKENS], s);
	ok(!strcmp(s, "36"), "a fixed point's kv_tokens: 3 x 12", s);
	ok(!(f.vars & 1u << LMP_V_W_DTYPE_BYTES), "a fixed width is recorded, not bound", NULL);
	/* batch and cache only: batch_size, cache_len and cached_tokens = 15 */
	f.given = 1u << LMP_RO_BATCH_SIZE | 1u << LMP_RO_CACHE_LEN;
	lmp_fixed_compute(&f, &e);
	lmp_num_str(&f.var[LMP_V_CACHED_TOKENS], s);
	ok(f.vars == (1u << LMP_V_BATCH_SIZE | 1u << LMP_V_CACHE_LEN | 1u << LMP_V_CACHED_TOKENS) && !strcmp(s, "15"),
		"batch 3 and cache 5 fix cached_tokens 15 and no more", s);

	/* the command line, then the document's fixed value, then the default */
	static const char fixed[] = "{\"fixed\":{\"w_bit\":4,\"a_bit\":8,\"batch_size\":2}}";
	cJSON *doc = lmp_json_parse_one(fixed, strlen(fixed), "t", &e);
	lmp_runopt_parse(&user, LMP_RO_W_BIT, "8,16", &e);
	if (lmp_runvals_for_doc(&user, doc, &at, &e)) {
		ok(0, "a document's fixed values", e.msg);
		return;
	}
	ok(at.n[LMP_RO_W_BIT] == 2 && at.list[LMP_RO_W_BIT][0] == 8 && at.list[LMP_RO_A_BIT][0] == 8 &&
		at.list[LMP_RO_BATCH_SIZE][0] == 2 && at.list[LMP_RO_SEQ_LEN][0] == 2048,
		"--w-bit over fixed w_bit; fixed a_bit and batch_size; default seq_len", NULL);
	for (i = 0; i < LMP_RO_NLISTS; i++)
		x[i] = at.list[i][0];
	lmp_runvals_settings(&at, x, &rt);
	ok(rt.w_bit == 8 && rt.a_bit == 8 && rt.kv_bit == 8, "the settings of a point; kv follows the fixed a_bit", NULL);
	lmp_runopt_parse(&user, LMP_RO_BATCH_SIZE, "3", &e);
	ok(lmp_runvals_for_doc(&user, doc, &at, &e) &&
		!strcmp(e.msg, "the document was populated with batch_size 2; --batch-size disagrees"),
		"a bound value the command line contradicts is refused", e.msg);
	e = (lmp_err){0};
	ok(lmp_runopt_parse(&user, LMP_RO_PHASE, "middle", &e) &&
		!strcmp(e.msg, "--phase: 'middle' is not one of prefill|decode"),
		"a choice names its values", e.msg);
	cJSON_Delete(doc);
	lmp_runvals_free(&user);
}

/* Engine knobs (lmp-engine(5)): fractions kept as parts per 10^4, choices
 * as their index, written back as given; transformers with every knob
 * neutral names no engine. */
static void
test_knobs(void)
{
	lmp_runvals v = {0};
	lmp_runtime rt = {0};
	lmp_buf b = {0};
	lmp_err e = {0};
	int64_t x[LMP_RO_NLISTS];
	int i;

	ok(!lmp_runopt_parse(&v, LMP_RO_MEM_UTIL, "0.9,1,0.0001", &e) && v.n[LMP_RO_MEM_UTIL] == 3 &&
		v.list[LMP_RO_MEM_UTIL][0] == 9000 && v.list[LMP_RO_MEM_UTIL][1] == 10000 && v.list[LMP_RO_MEM_UTIL][2] == 1,
		"fractions in parts per 10^4", e.msg);
	ok(lmp_runopt_parse(&v, LMP_RO_MEM_UTIL, "0", &e) && lmp_runopt_parse(&v, LMP_RO_MEM_UTIL, "0.00005", &e) &&
		lmp_runopt_parse(&v, LMP_RO_MEM_UTIL, "0.5,", &e), "0, a fifth decimal and a trailing comma are refused", e.msg);
	ok(!lmp_runopt_parse(&v, LMP_RO_FUSION, "on,off", &e) && v.list[LMP_RO_FUSION][0] == 1 &&
		v.list[LMP_RO_FUSION][1] == 0, "choices as their index", e.msg);
	lmp_knob_json(&b, LMP_RO_MEM_UTIL, 9000);
	lmp_buf_putc(&b, ' ');
	lmp_knob_json(&b, LMP_RO_MEM_UTIL, 0);
	lmp_buf_putc(&b, ' ');
	lmp_knob_json(&b, LMP_RO_FUSION, 1);
	lmp_buf_putc(&b, ' ');
	lmp_knob_json(&b, LMP_RO_KV_BLOCK, 16);
	ok(!strcmp(b.s, "0.9 null \"on\" 16"), "knobs written as given", b.s);
	lmp_buf_free(&b);
	for (i = 0; i < LMP_RO_NLISTS; i++)
		x[i] = lmp_runopts[i].dflt;
	v.engine = lmp_xstrdup("transformers");
	lmp_runvals_settings(&v, x, &rt);
	ok(rt.engine == NULL, "transformers with neutral knobs names no engine", NULL);
	x[LMP_RO_KV_BLOCK] = 16;
	lmp_runvals_settings(&v, x, &rt);
	ok(rt.engine && !strcmp(rt.engine, "transformers") && rt.kv_block == 16, "a knob away from neutral names it", NULL);
	lmp_runvals_free(&v);
}

static void
numtext(const char *in, const char *want)
{
	lmp_num v;
	char s[LMP_NUM_STRMAX], what[128];
	int rc = lmp_num_parse(in, strlen(in), &v);

	if (!rc)
		lmp_num_str(&v, s);
	else
		strcpy(s, rc == LMP_NUM_OVERFLOW ? "past 2^127" : "invalid");
	snprintf(what, sizeof what, "number %s prints as %s", in, want);
	ok(strcmp(s, want) == 0, what, s);
}

static void
test_numbers(void)
{
	numtext("0", "0");
	numtext("-0", "0");
	numtext("0.1", "0.1");
	numtext("1e15", "1000000000000000");
	numtext("1e21", "1000000000000000000000");      /* exact integer, not 1e+21 */
	numtext("123456789012345678901234567890", "123456789012345678901234567890");
	numtext("1e400", "invalid");                    /* not finite */
	numtext("1e40", "past 2^127");                  /* a count that large cannot be exact */
	numtext("-170141183460469231731687303715884105728", "past 2^127");
	numtext("170141183460469231731687303715884105727.0", "170141183460469231731687303715884105727");
	numtext("1.5e38", "150000000000000000000000000000000000000");
	numtext("5e-324", "4.94065645841247e-324");    /* past 128 bits: read by strtod */
	numtext("1e-5", "1e-05");
	numtext("abc", "invalid");
	numtext("1.", "1");
	numtext("-", "invalid");
}

static void
json_is(const char *in, const char *want)
{
	lmp_err e = {0};
	cJSON *doc = lmp_json_parse_one(in, strlen(in), "t", &e);
	char *s = doc ? lmp_json_print(doc, 0) : NULL;
	char what[256];

	snprintf(what, sizeof what, "json %.60s -> %.60s", in, want);
	if (doc)
		ok(strcmp(s, want) == 0, what, s);
	else
		ok(strstr(e.msg, want) != NULL, what, e.msg);
	free(s);
	cJSON_Delete(doc);
}

/* 100,000 keys: the duplicate check is n log n (pairwise it took 25 s). */
static void
test_big_object(void)
{
	lmp_buf b = {0};
	lmp_err e = {0};
	cJSON *doc;
	clock_t t0;
	double s;
	int i;

	lmp_buf_putc(&b, '{');
	for (i = 0; i < 100000; i++)
		lmp_buf_printf(&b, "\"k%d\":%d,", i, i);
	lmp_buf_puts(&b, "\"z\":0}");
	t0 = clock();
	doc = lmp_json_parse_one(b.s, b.len, "t", &e);
	s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ok(doc && cJSON_GetArraySize(doc) == 100001 && s < 5, "100,000 distinct keys read in under 5 s", e.msg);
	cJSON_Delete(doc);
	/* k99998 repeated, then k77777: the first repeat in the text is named,
	 * not the first in sorted order */
	b.len -= 6;
	lmp_buf_puts(&b, "\"k99998\":1,\"k77777\":1}");
	doc = lmp_json_parse_one(b.s, b.len, "t", &e);
	ok(!doc && strstr(e.msg, "duplicate key \"k99998\""), "a duplicate among 100,000 keys is named", e.msg);
	cJSON_Delete(doc);
	lmp_buf_free(&b);
}

/* The limits hold before cJSON parses: LMP_JSON_MAX_VALUES values, and
 * LMP_JSON_MAX_BYTES of text, are refused with the document's position. */
static void
test_too_large(void)
{
	size_t m = LMP_JSON_MAX_VALUES - 1, len = 2 * m + 1, i;
	char *s = malloc((size_t)LMP_JSON_MAX_BYTES + 8);
	lmp_err e = {0};
	cJSON *doc;

	if (!s)
		return;
	/* [1,1,...,1] of m + 1 ones: with the array, one value past the limit
	 * (m ones would parse, in about 470 MB: too slow for a unit test) */
	s[0] = '[';
	for (i = 0; i < m; i++)
		memcpy(s + 1 + 2 * i, "1,", 2);
	memcpy(s + len, "1]", 2);
	len += 2;
	doc = lmp_json_parse_one(s, len, "t", &e);
	ok(!doc && strstr(e.msg, "t:1:1: document too large (more than 4194304 values)"),
		"one value past the limit is refused", e.msg);
	/* a string of 64 MiB between its quotes */
	memset(s, 'x', (size_t)LMP_JSON_MAX_BYTES + 2);
	s[0] = '"';
	s[LMP_JSON_MAX_BYTES + 1] = '"';
	doc = lmp_json_parse_one(s, (size_t)LMP_JSON_MAX_BYTES + 2, "t", &e);
	ok(!doc && strstr(e.msg, "t:1:1: document too large (more than 64 MiB)"), "64 MiB of text is refused", e.msg);
	free(s);
}

static void
test_json(void)
{
	json_is("{\"a\":9007199254740993}", "{\"a\":9007199254740993}");  /* passes through unchanged */
	json_is("[1.50, 1e15, -0.0]", "[1.50,1e15,-0.0]");                  /* literal text kept */
	json_is("{\"a\":1} x", "t:1:9: trailing garbage");
	json_is("{\"a\":1}{\"b\":2}", "t:1:8: trailing garbage");           /* parse_one wants one */
	json_is("{\"a\":1e999}", "number out of range");
	json_is("{\"a\":1,\"a\":2}", "duplicate key");
	json_is("{\"a\":", "malformed JSON");
	json_is("{\"a\":\"\xff\"}", "t:1:7: invalid UTF-8");
	json_is("{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\xa9\"}");
	json_is("", "empty input");
	json_is("[NaN]", "malformed JSON");
	json_is("[01]", "invalid number: 01");      /* cJSON takes these; JSON does not */
	json_is("[1.]", "invalid number: 1.");
	json_is("[-.5]", "invalid number: -.5");
	json_is("[1.e5]", "invalid number: 1.e5");
	json_is("[-0, 0.5e-3, 1E+2]", "[-0,0.5e-3,1E+2]");
	json_is("{\"s\":\"tab\\there\\u0001\"}", "{\"s\":\"tab\\there\\u0001\"}");
	/* cJSON would cut "a\u0000b" to "a"; an escaped backslash before u0000 is text */
	json_is("{\"s\": \"a\\u0000b\"}", "t:1:9: \\u0000 (NUL) in a string");
	json_is("{\"s\":\"a\\\\\\u0000b\"}", "t:1:10: \\u0000 (NUL)");
	json_is("{\"s\":\"a\\\\u0000b\"}", "{\"s\":\"a\\\\u0000b\"}");
	json_is("{\"s\":\"a\\u0001b\"}", "{\"s\":\"a\\u0001b\"}");
	/* the duplicate named is the first repeat in the text, large objects and small */
	json_is("{\"b\":1,\"a\":2,\"b\":3,\"a\":4}", "duplicate key \"b\"");
	test_big_object();
	test_too_large();
}

static void
test_stream(void)
{
	const char *in = "{\"a\":1}\n{\"a\":2} [3]\n";
	lmp_json_stream s;
	lmp_err e = {0};
	cJSON *d;
	int n = 0;

	lmp_json_stream_init(&s, in, strlen(in), "t");
	while ((d = lmp_json_next(&s, &e))) {
		n++;
		cJSON_Delete(d);
	}
	ok(n == 3 && e.status == 0, "a stream of three documents", NULL);
	in = "{\"a\":1}\n{\"a\":2";
	lmp_json_stream_init(&s, in, strlen(in), "t");
	n = 0;
	while ((d = lmp_json_next(&s, &e))) {
		n++;
		cJSON_Delete(d);
	}
	ok(n == 1 && e.status && strstr(e.msg, "t:2:"), "a torn second document is an error at line 2", e.msg);
}


/* lmp_json_read: documents one at a time, across chunk boundaries, with
 * line numbers counted from the start of the input. */
static void
test_reader(void)
{
	lmp_json_reader r;
	lmp_err e = {0};
	lmp_buf text = {0};
	cJSON *doc;
	FILE *f;
	int n = 0, i, ok_all = 1;
	size_t peak = 0;

	/* 3000 documents of about 100 bytes: five chunks of 64 KiB, strings
	 * holding brackets and escaped quotes, numbers past 2^64 */
	for (i = 0; i < 3000; i++)
		lmp_buf_printf(&text, "{\"i\": %d, \"s\": \"} ] \\\" {\", \"big\": 123456789012345678901234, \"pad\": [1, 2, 3]}%s",
			i, i % 7 ? "\n" : "  ");
	f = fmemopen(text.s, text.len, "r");
	lmp_json_reader_init(&r, f, "t");
	while ((doc = lmp_json_read(&r, &e))) {
		const cJSON *iv = cJSON_GetObjectItemCaseSensitive(doc, "i");
		const cJSON *big = cJSON_GetObjectItemCaseSensitive(doc, "big");
		const cJSON *sv = cJSON_GetObjectItemCaseSensitive(doc, "s");
		ok_all &= cJSON_IsNumber(iv) && iv->valueint == n && !strcmp(big->valuestring, "123456789012345678901234") &&
			!strcmp(sv->valuestring, "} ] \" {");
		peak = r.b.cap > peak ? r.b.cap : peak;
		cJSON_Delete(doc);
		n++;
	}
	fclose(f);
	lmp_json_reader_free(&r);
	ok(n == 3000 && !e.status && ok_all, "3000 documents read one at a time, each whole and exact", e.msg);
	/* the buffer holds a chunk and the start of a document, not the ~330 KB input */
	ok(peak <= 2 * 65536 + 1024, "memory stays flat over the stream", NULL);

	/* an error on line 4, column 7: the third document's bad number */
	const char *bad = "{\"a\": 1}\n{\"b\":\n  2}\n{\"c\": 01}\n";
	f = fmemopen((void *)bad, strlen(bad), "r");
	lmp_json_reader_init(&r, f, "t");
	for (n = 0; (doc = lmp_json_read(&r, &e)); n++)
		cJSON_Delete(doc);
	fclose(f);
	lmp_json_reader_free(&r);
	ok(n == 2 && e.status && strstr(e.msg, "t:4:7: invalid number: 01"), "an error names the line and column of the input", e.msg);

	/* nothing at all: the end, no error */
	f = fmemopen((void *)"  \n", 3, "r");
	lmp_json_reader_init(&r, f, "t");
	doc = lmp_json_read(&r, &e);
	ok(!doc && !e.status, "blank input: no document and no error", e.msg);
	fclose(f);
	lmp_json_reader_free(&r);
	lmp_buf_free(&text);
}

/* The layer-path rule: ".*" after a member of a layer list (a node with
 * "repeat", even a repeat of 1, as a checkpoint still names it
 * model.layers.0...), nothing after a plain node. */
static void
test_layer_path(void)
{
	static const char *const nodes[][3] = {
		/* node, parent, the path by the rule */
		{"{\"name\":\"layers\",\"repeat\":1}", "model", "model.layers.*"},
		{"{\"name\":\"layers\",\"repeat\":32}", "model", "model.layers.*"},
		{"{\"name\":\"experts\",\"repeat\":8}", "model.layers.*.mlp", "model.layers.*.mlp.experts.*"},
		{"{\"name\":\"input_layernorm\"}", "model.layers.*", "model.layers.*.input_layernorm"},
		{"{\"name\":\"lm_head\"}", "", "lm_head"},
		{"{\"name\":\"h\",\"repeat\":1}", "", "h.*"},
	};
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		lmp_err e = {0};
		cJSON *n = lmp_json_parse_one(nodes[i][0], strlen(nodes[i][0]), "t", &e);
		lmp_buf b = {0};
		lmp_layer_path(&b, nodes[i][1], cJSON_GetObjectItemCaseSensitive(n, "name")->valuestring, n);
		ok(b.s && !strcmp(b.s, nodes[i][2]), "layer path", b.s);
		lmp_buf_free(&b);
		cJSON_Delete(n);
	}
}

/* The longest context of lmp-roofline's fit on a made-up device of 1000
 * bytes: weights 100, state 2 bytes per token unbounded plus 3 per token
 * up to a window of 50 (need(c) = 100 + 2c + 3 min(c, 50)), no kernels
 * (so no activations). */
static double
longest(double capacity, const char *limit)
{
	static char text[1024];
	lmp_hw hw = {0};
	lmp_roof_opts o = {.hw = &hw, .devices = 1, .compute_eff = 1, .memory_eff = 1};
	lmp_err e = {0};
	cJSON *doc;
	double r = -2;

	hw.id = hw.name = "test";
	hw.peak[LMP_BF16] = 1e12;
	hw.bandwidth = 1e12;
	hw.capacity = capacity;
	snprintf(text, sizeof text, "{\"lmp\":\"eval\",\"model\":{\"positions\":{\"limit\":%s,\"table\":false}},"
		"\"runtime\":{\"batch_size\":1,\"seq_len\":1,\"cache_len\":9,\"w_bit\":16,\"a_bit\":16,\"kv_bit\":16,"
		"\"tokens\":1,\"kv_tokens\":10,\"qk_pairs\":10},\"kernels\":[],\"totals\":{\"param_count\":50,\"flops\":1,"
		"\"bytes\":{\"weights\":0,\"reads\":1,\"writes\":0,\"intermediates\":0},\"state_bytes\":50,"
		"\"weight_bytes\":100,\"state_growth\":{\"fixed\":0,\"per_token\":2,"
		"\"windows\":[{\"max_tokens\":50,\"per_token\":3}]}}}", limit);
	doc = lmp_json_parse_one(text, strlen(text), "t", &e);
	if (doc && !lmp_roofline(doc, &o, &e))
		r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "fit"), "max_context_len")->valuedouble;
	cJSON_Delete(doc);
	return r;
}

static void
test_longest_context(void)
{
	/* past the window: 100 + 150 + 2c <= 1000, c <= 375 */
	ok(longest(1000, "5000") == 375, "longest context past a window", NULL);
	/* within it: 100 + 5c <= 200, c <= 20 */
	ok(longest(200, "5000") == 20, "longest context inside a window", NULL);
	/* exactly at the window's end: 100 + 250 = 350 */
	ok(longest(350, "5000") == 50, "longest context at a window's end", NULL);
	/* never past the position limit */
	ok(longest(1000, "300") == 300, "longest context capped by the position limit", NULL);
}

/* An agent's output to its answer (agentask.c): what got, printed, or the error. */
static void
answer_is(const char *out, const char *want, const char *what)
{
	lmp_buf b = {0};
	lmp_err e = {0};
	cJSON *doc;
	char *got;

	lmp_buf_puts(&b, out);
	doc = lmp_agent_answer(&b, &e);
	got = doc ? lmp_json_print(doc, 0) : lmp_xstrdup(e.msg);
	ok(strstr(got, want) != NULL, what, got);
	free(got);
	cJSON_Delete(doc);
	lmp_buf_free(&b);
}

static void
test_agent_answer(void)
{
	answer_is("{\"full_class_name\": \"a.B\"}", "{\"full_class_name\":\"a.B\"}", "a raw entry");
	answer_is("Here:\n```json\n{\"k\": 1}\n```\nthanks", "{\"k\":1}", "a fenced block in text");
	answer_is("I think {\"k\": 2} is it.", "{\"k\":2}", "the outermost braces of text");
	answer_is("{\"type\": \"result\", \"is_error\": false, \"result\": \"```json\\n{\\\"k\\\": 3}\\n```\"}", "{\"k\":3}",
		"Claude Code's result object");
	answer_is("[{\"type\": \"system\"}, {\"type\": \"assistant\", \"message\": {}},"
		" {\"type\": \"result\", \"is_error\": false, \"result\": \"{\\\"k\\\": 4}\"}]", "{\"k\":4}",
		"Claude Code's array of events: the result event's text");
	answer_is("[{\"type\": \"system\"}]", "the agent's array of events holds no \"result\" event", "an array without a result");
	answer_is("{\"type\": \"result\", \"is_error\": true, \"result\": \"Prompt is too long\"}",
		"the agent reported an error: Prompt is too long", "is_error with its text");
	answer_is("{\"type\": \"result\", \"subtype\": \"error_during_execution\", \"is_error\": true}",
		"the agent reported an error: error_during_execution", "is_error without text: its subtype");
	answer_is("```json\n{\"k\": 1,\n```", "answer:2:9: malformed JSON (it ends inside a value", "a block cut short: where it ends");
	answer_is("{\"a\": 1, b}", "answer:1:11: malformed JSON at '}' (after '{\"a\": 1, b')", "where and at what");
}

/* Safetensors headers: 8-byte little-endian length, JSON, data bytes. */
static cJSON *
st_parse(const char *json, uint64_t declared, uint64_t file_size, char *err)
{
	unsigned char buf[512];
	size_t n = strlen(json);
	lmp_err e = {0};
	cJSON *h;

	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)(declared >> (8 * i));
	memcpy(buf + 8, json, n);
	h = lmp_st_parse_header(buf, 8 + n, file_size, "t.safetensors", &e);
	snprintf(err, 1024, "%s", h ? "" : e.msg);
	return h;
}

/* Range lists: parsed, printed, intersected, subtracted. */
static void
test_idxset(void)
{
	lmp_idxset a, b, c, u[2];
	lmp_buf out = {0};

	ok(lmp_idx_parse("0-2,5,7-60", &a) == 0 && lmp_idx_size(&a) == 3 + 1 + 54, "a range list parsed", "");
	lmp_idx_str(&a, &out);
	ok(out.s && strcmp(out.s, "0-2,5,7-60") == 0, "and printed back", out.s);
	lmp_buf_free(&out);
	ok(lmp_idx_parse("2-1", &c) < 0 && lmp_idx_parse("3,1", &c) < 0 && lmp_idx_parse("1,,2", &c) < 0 &&
		lmp_idx_parse("", &c) < 0 && lmp_idx_parse("-1", &c) < 0, "backwards, unordered, empty and negative lists refused", "");
	/* 0-2,5,7-60 and 2-8: 2, 5, 7, 8 */
	lmp_idx_parse("2-8", &b);
	ok(lmp_idx_common(&a, &b) == 4, "common indices counted", "");
	lmp_idx_and(&a, &b, &c);
	lmp_idx_str(&c, &out);
	ok(out.s && strcmp(out.s, "2,5,7-8") == 0, "and listed", out.s);
	lmp_buf_free(&out);
	lmp_idx_free(&c);
	/* 0-61 minus 0-2 and 3-60 (DeepSeek-V3's layer groups): 61 */
	lmp_idx_parse("0-61", &c);
	lmp_idx_parse("0-2", &u[0]);
	lmp_idx_parse("3-60", &u[1]);
	lmp_idx_free(&b);
	lmp_idx_minus(&c, u, 2, &b);
	lmp_idx_str(&b, &out);
	ok(out.s && strcmp(out.s, "61") == 0, "the indices no group covers", out.s);
	lmp_buf_free(&out);
	lmp_idx_free(&b);
	lmp_idx_minus(&a, u, 1, &b);
	lmp_idx_str(&b, &out);
	ok(out.s && strcmp(out.s, "5,7-60") == 0, "a difference inside a list", out.s);
	lmp_buf_free(&out);
	cJSON *rec = cJSON_Parse("{\"start\": 1, \"stop\": 8, \"step\": 2}");
	lmp_idx_free(&b);
	ok(lmp_idx_from_layers(rec, &b) == 0 && (lmp_idx_str(&b, &out), strcmp(out.s, "1,3,5,7") == 0),
		"a layers record with a step", out.s);
	lmp_buf_free(&out);
	cJSON_Delete(rec);
	for (int i = 0; i < 2; i++)
		lmp_idx_free(&u[i]);
	lmp_idx_free(&a);
	lmp_idx_free(&b);
	lmp_idx_free(&c);
}

static void
test_safetensors(void)
{
	char err[1024], fold[128];
	/* F16 [2,3]: 6 elements * 2 bytes = 12 data bytes, offsets [0,12]. */
	const char *good = "{\"__metadata__\":{\"format\":\"pt\"},\"a.weight\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}  ";
	const char *bad_bytes = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,6]}}";
	const char *bad_shape = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[-4],\"data_offsets\":[0,0]}}";
	size_t n = strlen(good);
	cJSON *h = st_parse(good, n, 8 + n + 12, err);

	ok(h && cJSON_GetArraySize(h) == 1 && cJSON_GetObjectItem(h, "a.weight"), "a header parsed, metadata dropped, padding allowed", err);
	cJSON_Delete(h);
	ok(!st_parse(good, n, 8 + n + 11, err) && strstr(err, "outside the 11 data bytes"), "data past the end of the file", err);
	ok(!st_parse(good, n + 40, 8 + n + 52, err) && strstr(err, "truncated"), "a header cut short", err);
	ok(!st_parse(good, 1000, 100, err) && strstr(err, "runs past the end of the file"), "a length past the file", err);
	ok(!st_parse(good, (uint64_t)1 << 40, (uint64_t)1 << 41, err) && strstr(err, "over the 104857600-byte limit"), "a huge length", err);
	ok(!st_parse("[1,2] ", 6, 14, err) && strstr(err, "not a JSON object"), "not a JSON object", err);
	ok(!st_parse("{\"a\": ", 6, 14, err) && strstr(err, "malformed JSON"), "not JSON", err);
	ok(!st_parse("", 0, 4, err) && strstr(err, "shorter than"), "shorter than 8 bytes", err);
	ok(!st_parse(bad_bytes, strlen(bad_bytes), 8 + strlen(bad_bytes) + 6, err) &&
		strstr(err, "6 bytes for 4 elements of BF16"), "bytes that do not fit the shape and dtype", err);
	ok(!st_parse(bad_shape, strlen(bad_shape), 8 + strlen(bad_shape), err) &&
		strstr(err, "shape is not"), "a negative size", err);

	lmp_st_fold_name("model.layers.12.mlp.experts.3.up_proj.weight", fold, sizeof fold);
	ok(strcmp(fold, "model.layers.*.mlp.experts.*.up_proj.weight") == 0, "layer and expert indices folded", fold);
	lmp_st_fold_name("h.0.attn.c_attn.weight", fold, sizeof fold);
	ok(strcmp(fold, "h.*.attn.c_attn.weight") == 0, "a folded index after a short prefix", fold);
	lmp_st_fold_name("fc1.weight", fold, sizeof fold);
	ok(strcmp(fold, "fc1.weight") == 0, "digits inside a name are kept", fold);

	/* Two layers of the same [4,2] BF16 tensor merge; the embedding stays. */
	cJSON *t = cJSON_Parse("{\"model.layers.0.w\":{\"dtype\":\"BF16\",\"shape\":[4,2]},"
		"\"model.layers.1.w\":{\"dtype\":\"BF16\",\"shape\":[4,2]},\"e\":{\"dtype\":\"F32\",\"shape\":[3]}}");
	cJSON *inv = lmp_st_inventory(t);
	char *s = cJSON_PrintUnformatted(inv);
	/* 8+8+3 = 19 elements; 16*2 + 3*4 = 44 bytes (32 BF16, 12 F32). */
	ok(strcmp(s, "{\"tensors\":[{\"name\":\"model.layers.*.w\",\"dtype\":\"BF16\",\"shape\":[4,2],\"count\":2,\"indices\":[\"0-1\"]},"
		"{\"name\":\"e\",\"dtype\":\"F32\",\"shape\":[3],\"count\":1}],\"dtypes\":{\"BF16\":32,\"F32\":12},"
		"\"count\":3,\"elements\":19,\"bytes\":44}") == 0, "the inventory folds, merges and sums", s);
	free(s);
	cJSON_Delete(inv);
	cJSON_Delete(t);
}

/* collective.c: the alpha-beta times, derived by hand: a ring all-reduce
 * of 16384 bytes over 8 devices puts 2 x 7/8 x 16384 = 28672 bytes on each
 * link in 14 steps; at 450 GB/s and 2 us that is 28672 / 450e9 + 28e-6. */
static void
test_collectives(void)
{
	lmp_num f;
	char s[LMP_NUM_STRMAX];
	double t;

	ok(!lmp_coll_link_factor(LMP_COLL_ALL_REDUCE, 8, &f) && (lmp_num_str(&f, s), !strcmp(s, "1.75")),
		"all-reduce: 2(n-1)/n of the buffer", s);
	ok(!lmp_coll_link_factor(LMP_COLL_ALL_GATHER, 4, &f) && lmp_num_eq(&f, &(lmp_num){1, 3, 4, 0}),
		"all-gather: (n-1)/n", NULL);
	ok(!lmp_coll_link_factor(LMP_COLL_ALL_TO_ALL, 8, &f) && lmp_num_eq(&f, &(lmp_num){1, 7, 8, 0}),
		"all-to-all: (n-1)/n", NULL);
	ok(!lmp_coll_link_factor(LMP_COLL_SEND_RECV, 2, &f) && lmp_num_eq(&f, &(lmp_num){1, 1, 1, 0}),
		"send/recv: all of it", NULL);
	ok(!lmp_coll_link_factor(LMP_COLL_ALL_REDUCE, 1, &f) && lmp_num_is_zero(&f) &&
		lmp_coll_time(LMP_COLL_ALL_REDUCE, 1, 1e9, 1e9, 1) == 0, "a group of one moves nothing", NULL);
	ok(lmp_coll_steps(LMP_COLL_ALL_REDUCE, 8) == 14 && lmp_coll_steps(LMP_COLL_ALL_GATHER, 8) == 7 &&
		lmp_coll_steps(LMP_COLL_REDUCE_SCATTER, 8) == 7 && lmp_coll_steps(LMP_COLL_SEND_RECV, 2) == 1,
		"latencies: 2(n-1), n-1, 1", NULL);
	t = lmp_coll_time(LMP_COLL_ALL_REDUCE, 8, 16384, 450e9, 2e-6);
	snprintf(s, sizeof s, "%.17g", t);
	ok(fabs(t - (28672 / 450e9 + 28e-6)) < 1e-18, "all-reduce time: 2(n-1)/n B / bw + 2(n-1) alpha", s);
	t = lmp_coll_time(LMP_COLL_ALL_TO_ALL, 8, 1048576, 50e9, 5e-6);
	snprintf(s, sizeof s, "%.17g", t);
	ok(fabs(t - (917504 / 50e9 + 35e-6)) < 1e-15, "all-to-all time: (n-1)/n B / bw + (n-1) alpha", s);
	ok(lmp_coll_kind("all_reduce") == LMP_COLL_ALL_REDUCE && lmp_coll_kind("broadcast") == 0 &&
		!strcmp(lmp_coll_name(LMP_COLL_SEND_RECV), "send_recv"), "kind names", NULL);
}

/* parallel.c: vLLM's stage cut (get_pp_indices): 80 layers over 3 stages
 * are 27, 27, 26 (the two left over to the stages before the last). */
static void
test_stages(void)
{
	int64_t f[4], g[3];

	lmp_pp_stages(80, 3, f);
	ok(f[0] == 0 && f[1] == 27 && f[2] == 54 && f[3] == 80, "80 layers over 3 stages: 27, 27, 26", NULL);
	lmp_pp_stages(32, 2, g);
	ok(g[1] == 16 && g[2] == 32, "32 layers over 2 stages: 16, 16", NULL);
}

int
main(void)
{
	lmp_err e = {0};
	cJSON *doc = lmp_json_parse_one(test_db, strlen(test_db), "test_db", &e);

	if (!doc || !(db = lmp_db_from_json(doc, "test_db", &e))) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	test_precedence();
	test_division();
	test_exactness();
	test_int64_edges();
	test_errors();
	test_limits();
	test_named_limits();
	test_calls();
	test_runtime();
	test_runopts();
	test_knobs();
	test_poly_vars();
	test_poly_degree();
	test_numbers();
	test_json();
	test_stream();
	test_reader();
	test_layer_path();
	test_longest_context();
	test_agent_answer();
	test_safetensors();
	test_collectives();
	test_stages();
	test_idxset();
	lmp_db_free(db);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
