/* layerset.c: the decoder layer indices a repeated node of the tree
 * covers (lmp-arch(5), "layers").  The template states the model's layer
 * count and which indices the node takes ("where", over ${index}); the
 * document records them as a range {"start", "stop"[, "step"]} (stop
 * exclusive, as Python's range) when they are evenly spaced, else as a
 * list: checking a checkpoint's model.layers.N tensors and cutting
 * pipeline stages need them. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_LAYERS (1 << 20)

/* 1 when ${index} = i satisfies where (absent: every layer). */
static int
takes(const char *where, const char **names, lmp_num *vals, int n, long i, lmp_err *e)
{
	lmp_num x;
	int rc;

	if (!where)
		return 1;
	vals[n - 1] = lmp_num_int(i);
	rc = lmp_tmpl_const(where, names, vals, n, "layers.where", &x, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"%.80s\" depends on the runtime point", where);
	return !lmp_num_is_zero(&x);
}

static cJSON *
as_json(const long *ix, long k)
{
	cJSON *o;
	long step = k > 1 ? ix[1] - ix[0] : 1, i;

	for (i = 2; i < k && ix[i] - ix[i - 1] == step; i++)
		;
	if (i < k) {
		o = cJSON_CreateArray();
		for (i = 0; i < k; i++)
			cJSON_AddItemToArray(o, cJSON_CreateNumber((double)ix[i]));
		return o;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start", (double)ix[0]);
	cJSON_AddNumberToObject(o, "stop", (double)ix[k - 1] + 1);
	if (step != 1)
		cJSON_AddNumberToObject(o, "step", (double)step);
	return o;
}

cJSON *
lmp_layer_set(const cJSON *spec, const char *const *cfg_names, const lmp_num *cfg_vals, int n,
	const lmp_num *repeat, lmp_err *e)
{
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(spec, "count");
	const cJSON *where = cJSON_GetObjectItemCaseSensitive(spec, "where"), *c;
	const char **names;
	lmp_num *vals, total;
	long *ix = NULL, k = 0, want;
	cJSON *out = NULL;
	int rc;

	cJSON_ArrayForEach(c, spec)
		if (strcmp(c->string, "count") && strcmp(c->string, "where"))
			return lmp_fail(e, LMP_EXIT_INPUT, "layers: unknown key \"%s\" (count, where)", c->string), NULL;
	if (!cJSON_IsObject(spec) || !cJSON_IsString(count) || (where && !cJSON_IsString(where)))
		return lmp_fail(e, LMP_EXIT_INPUT, "layers: a \"count\" template and an optional \"where\" template"), NULL;
	names = lmp_xcalloc((size_t)n + 1, sizeof *names);
	vals = lmp_xcalloc((size_t)n + 1, sizeof *vals);
	memcpy(names, cfg_names, sizeof *names * (size_t)n);
	memcpy(vals, cfg_vals, sizeof *vals * (size_t)n);
	names[n] = "index";
	vals[n] = lmp_num_int(0);
	rc = lmp_tmpl_const(count->valuestring, names, vals, n + 1, "layers.count", &total, e);
	if (rc == 0)
		lmp_fail(e, LMP_EXIT_INPUT, "layers.count depends on the runtime point");
	if (rc <= 0)
		goto done;
	if (!lmp_num_is_int(&total) || lmp_num_sign(&total) <= 0 || total.n > MAX_LAYERS) {
		lmp_fail(e, LMP_EXIT_INPUT, "layers.count: \"%.80s\" is not a whole number in [1, %d]", count->valuestring,
			MAX_LAYERS);
		goto done;
	}
	ix = lmp_xcalloc((size_t)total.n, sizeof *ix);
	for (long i = 0; i < (long)total.n; i++) {
		int t = takes(where ? where->valuestring : NULL, names, vals, n + 1, i, e);
		if (t < 0)
			goto done;
		if (t)
			ix[k++] = i;
	}
	/* the pattern and the repeat count are two statements of one fact */
	want = lmp_num_is_int(repeat) ? (long)repeat->n : -1;
	if (k != want || !k) {
		char s[LMP_NUM_STRMAX];
		lmp_num_str(repeat, s);
		lmp_fail(e, LMP_EXIT_INPUT, "layers: the pattern takes %ld of %ld layers where repeat is %s", k,
			(long)total.n, s);
		goto done;
	}
	out = as_json(ix, k);
done:
	free(ix);
	free(names);
	free(vals);
	return out;
}
