/* Unit tests of the formula engine, the number layer and the JSON layer.
 * Output is TAP; test/run counts it.  Every expected value is worked out by
 * hand in the comment or the literal next to it. */
#include <stdlib.h>
#include <string.h>

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

/* Evaluate text with parameters a=3, b=5 at a runtime point; "error: ..." on failure. */
static char *
evalp(const char *text, const lmp_runtime *rt)
{
	static char out[1200];
	static const char *const params[] = {"a", "b"};
	lmp_err e = {0};
	lmp_prog *p = lmp_prog_new();
	lmp_fold_ctx c = {0};
	lmp_tmpl *t = lmp_tmpl_parse(text, params, 2, &e);
	lmp_num three = lmp_num_int(3), five = lmp_num_int(5), v;
	lmp_poly *args[2], *q;
	lmp_runtime zero = {0};

	if (!t) {
		snprintf(out, sizeof out, "error: %s", e.msg);
		lmp_prog_free(p);
		return out;
	}
	args[0] = lmp_poly_const(p, &three);
	args[1] = lmp_poly_const(p, &five);
	c.prog = p;
	c.db = db;
	c.kind = LMP_K_FLOPS;
	q = lmp_fold(&c, t, args, "test", &e);
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
	is("99999999999999999999999999999999999999999 ** 1", "1e+41"); /* a literal past 2^127 is a double */
	fails("1 ? 2", "expected ':'");
	fails("min(x=1)", "named argument");
}

static void
test_limits(void)
{
	char *deep = malloc(5000), *big = malloc(70000);
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
	/* A flat chain deepens the tree too: 3000 terms are refused, not a crash. */
	big[5999] = '\0';
	fails(big, "nesting too deep");
	big[199] = '\0'; /* 100 terms: fine */
	is(big, "100");
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

	/* The same boundary for an architecture template's tree. */
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
	lmp_runtime rt = {1, &q, 16, 4, 8, {{0}}, NULL};
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

static void
numtext(const char *in, const char *want)
{
	lmp_num v;
	char s[LMP_NUM_STRMAX], what[128];
	int rc = lmp_num_parse(in, strlen(in), &v);

	if (!rc)
		lmp_num_str(&v, s);
	else
		strcpy(s, "invalid");
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
	test_errors();
	test_limits();
	test_named_limits();
	test_calls();
	test_runtime();
	test_numbers();
	test_json();
	test_stream();
	test_reader();
	lmp_db_free(db);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
