/* parcheck.c: the form of an entry's "parallel" declaration (lmp-module-db(5)),
 * checked before the module agent's answer is stored: every role divides
 * parameters the entry has, its collective is known and its bytes are a
 * template over those parameters, and it cites where the engine does it. */
#include <string.h>

#include "lmp.h"

#define MAX_ROLES 16

static int
has_param(const cJSON *params, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, params)
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring, name))
			return 1;
	return 0;
}

/* A list of parameter names; a subset of divides where divides is given. */
static int
names(const cJSON *list, const cJSON *params, const cJSON *divides, const char *role, const char *key, lmp_err *e)
{
	const cJSON *c, *d;
	int in;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list) || (!divides && !cJSON_GetArraySize(list)))
		return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\": \"%s\" must be a%s list of parameter names",
			role, key, divides ? "" : " non-empty");
	cJSON_ArrayForEach(c, list) {
		if (!cJSON_IsString(c) || !has_param(params, c->valuestring))
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\": \"%s\" names no parameter of the entry",
				role, key);
		in = !divides;
		cJSON_ArrayForEach(d, divides)
			in |= cJSON_IsString(d) && !strcmp(d->valuestring, c->valuestring);
		if (!in)
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\": \"%s\" names %s, which it does not divide",
				role, key, c->valuestring);
	}
	return 0;
}

static int
then_form(const cJSON *t, const cJSON *params, const char *role, lmp_err *e)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "collective");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "bytes"), *p;
	const char *pn[LMP_MAX_ARGS];
	lmp_tmpl *tm;
	int n = 0;

	if (!cJSON_IsObject(t) || !cJSON_IsString(k) || !lmp_coll_kind(k->valuestring) || !cJSON_IsString(b))
		return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\": \"then\" needs a known \"collective\" "
			"(all_reduce, all_gather, reduce_scatter, all_to_all, send_recv) and its \"bytes\"", role);
	cJSON_ArrayForEach(p, params)
		if (n < LMP_MAX_ARGS)
			pn[n++] = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
	if (!(tm = lmp_tmpl_parse(b->valuestring, pn, n, e)))
		return lmp_prefix(e, "parallel role \"%s\": then.bytes: ", role);
	lmp_tmpl_free(tm);
	return 0;
}

int
lmp_parallel_form(const cJSON *par, const cJSON *params, lmp_err *e)
{
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(par, "roles"), *r, *d, *s;
	const cJSON *dflt = cJSON_GetObjectItemCaseSensitive(par, "default");

	if (!cJSON_IsObject(par) || !cJSON_IsObject(roles) || !cJSON_GetArraySize(roles) ||
	    cJSON_GetArraySize(roles) > MAX_ROLES)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"parallel\" must be {\"roles\": {NAME: ROLE, ...} (1 to %d), "
			"\"default\": NAME?}", MAX_ROLES);
	cJSON_ArrayForEach(r, roles) {
		d = cJSON_GetObjectItemCaseSensitive(r, "divides");
		s = cJSON_GetObjectItemCaseSensitive(r, "source");
		if (!cJSON_IsObject(r) || !strcmp(r->string, "replicated"))
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\" must be an object (and not named "
				"\"replicated\", the role of no division)", r->string);
		if (names(d, params, NULL, r->string, "divides", e) ||
		    names(cJSON_GetObjectItemCaseSensitive(r, "replicates"), params, d, r->string, "replicates", e) ||
		    names(cJSON_GetObjectItemCaseSensitive(r, "pads"), params, d, r->string, "pads", e))
			return -1;
		if (!d)
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\" divides nothing (\"divides\": "
				"[parameter, ...])", r->string);
		if (cJSON_GetObjectItemCaseSensitive(r, "then") &&
		    then_form(cJSON_GetObjectItemCaseSensitive(r, "then"), params, r->string, e))
			return -1;
		if (!cJSON_IsString(s) || !*s->valuestring)
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel role \"%s\" cites no \"source\" (the engine file and "
				"class that shard it so)", r->string);
	}
	if (dflt && (!cJSON_IsString(dflt) || !cJSON_GetObjectItemCaseSensitive(roles, dflt->valuestring)))
		return lmp_fail(e, LMP_EXIT_INPUT, "parallel.default must name one of its roles");
	return 0;
}
