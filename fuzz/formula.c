/* Fuzz target: the formula engine.  The input is a template; every ${name}
 * in it becomes a parameter bound to a constant, {Entry}(...) calls resolve
 * in the shipped module database, and the folded template is evaluated at a
 * prefill and a decode point, as lmp-eval would. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAXP 16

static lmp_db *db;

/* The distinct ${names} of text, at most MAXP of them (borrowed into text). */
static int
param_names(char *text, const char **names)
{
	char *p = text, *q;
	int n = 0, i;

	while (n < MAXP && (p = strstr(p, "${")) && (q = strchr(p + 2, '}'))) {
		*q = '\0';
		for (i = 0; i < n && strcmp(names[i], p + 2); i++)
			;
		if (i == n)
			names[n++] = lmp_xstrdup(p + 2);
		*q = '}';
		p = q + 1;
	}
	return n;
}

static void
evaluate(lmp_prog *prog, const lmp_poly *q, int64_t batch, int64_t seq, int64_t cache)
{
	lmp_query qu = {seq, cache, batch};
	lmp_runtime rt = {.nqueries = 1, .queries = &qu, .w_bit = 16, .a_bit = 16, .kv_bit = 8};
	lmp_err e = {0};
	lmp_num v;
	char s[LMP_NUM_STRMAX];

	if (lmp_runtime_compute(&rt, &e))
		return;
	lmp_prog_set_point(prog, &rt);
	if (!lmp_poly_eval(prog, q, &v, &e))
		lmp_num_str(&v, s);
}

static void
try(const char *text, const char *const *names, int n, int kind)
{
	/* Constants that reach the edges: zero, one, odd, large. */
	static const int64_t vals[MAXP] = {4096, 0, 1, 7, 32, 11008, 128, 2, 3, 1 << 30,
		64, 8, 14336, 5, 1000000007, 16};
	lmp_err e = {0};
	lmp_tmpl *t = lmp_tmpl_parse(text, names, n, &e);
	lmp_fold_ctx c = {0};
	lmp_poly *args[MAXP], *q;
	lmp_prog *prog;
	int i;

	if (!t)
		return;
	prog = lmp_prog_new();
	for (i = 0; i < n; i++) {
		lmp_num v = lmp_num_int(vals[i]);
		args[i] = lmp_poly_const(prog, &v);
	}
	c.prog = prog;
	c.db = db;
	c.kind = kind;
	if ((q = lmp_fold(&c, t, n ? args : NULL, "fuzz", &e))) {
		evaluate(prog, q, 2, 128, 0);
		evaluate(prog, q, 3, 1, 1000);
	}
	lmp_prog_free(prog);
	lmp_tmpl_free(t);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = lmp_xstrndup((const char *)data, size);
	const char *names[MAXP];
	int n, i;

	if (!db) {
		lmp_err e = {0};
		if (!(db = lmp_db_open(FUZZ_ROOT "/module_db.json", &e)))
			abort();
	}
	n = param_names(text, names);
	try(text, names, n, (int)(size % LMP_NKINDS));
	if (!n)
		try(text, NULL, 0, LMP_K_FLOPS); /* runtime variables only, as populate and eval parse values */
	for (i = 0; i < n; i++)
		free((char *)names[i]);
	free(text);
	return 0;
}
