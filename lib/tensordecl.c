/* tensordecl.c: the tensors a database entry declares (lmp-module-db(5),
 * "tensors"): each {"name", "shape": [templates over the entry's
 * parameters], "buffer"?}, named as transformers' state_dict names it under
 * the layer's path.  A tensor with a 0 dimension is absent (a Linear's bias
 * when bias is 0).  The parameters' elements must add up to param_count:
 * lmp-eval --module and the agent's answer check compare them, so a
 * declaration cannot drift from the count. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_TENSORS 16

static int
valid_tensor_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* The declaration's form, without evaluating it. */
int
lmp_tensors_form(const cJSON *decl, lmp_err *e)
{
	const cJSON *t, *k, *d;

	if (!cJSON_IsArray(decl) || cJSON_GetArraySize(decl) > MAX_TENSORS)
		return lmp_fail(e, LMP_EXIT_INPUT, "\"tensors\" must be an array of at most %d", MAX_TENSORS);
	cJSON_ArrayForEach(t, decl) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
		const cJSON *buf = cJSON_GetObjectItemCaseSensitive(t, "buffer");
		if (!cJSON_IsObject(t) || !cJSON_IsString(name) || !cJSON_IsArray(shape) || (buf && !cJSON_IsBool(buf)))
			return lmp_fail(e, LMP_EXIT_INPUT, "a tensor needs a string \"name\", a \"shape\" array and an optional boolean \"buffer\"");
		if (!valid_tensor_name(name->valuestring) || strlen(name->valuestring) > 128)
			return lmp_fail(e, LMP_EXIT_INPUT, "tensor name \"%.80s\" is not a state_dict name", name->valuestring);
		cJSON_ArrayForEach(k, t)
			if (strcmp(k->string, "name") && strcmp(k->string, "shape") && strcmp(k->string, "buffer"))
				return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: unknown key \"%s\" (name, shape, buffer)",
					name->valuestring, k->string);
		if (cJSON_GetArraySize(shape) > LMP_MAX_DIMS)
			return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: more than %d dimensions", name->valuestring, LMP_MAX_DIMS);
		cJSON_ArrayForEach(d, shape)
			if (!cJSON_IsString(d) && !cJSON_IsNumber(d))
				return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: each dimension is a template", name->valuestring);
	}
	return 0;
}

/* One dimension folded with the entry's bound values: a whole number. */
static int
dim(lmp_prog *prog, lmp_entry *en, const char **names, const cJSON *d, lmp_poly *const *args,
	const char *tname, lmp_num *out, lmp_err *e)
{
	lmp_fold_ctx c = {0};
	lmp_tmpl *t;
	lmp_poly *q;
	char where[300];
	char num[32];
	const char *text = cJSON_IsString(d) ? d->valuestring : d->valuestring ? d->valuestring : NULL;

	if (!text) {
		snprintf(num, sizeof num, "%.17g", d->valuedouble);
		text = num;
	}
	snprintf(where, sizeof where, "entry %s: tensor %s: shape \"%.80s\"", en->name, tname, text);
	if (!(t = lmp_tmpl_parse(text, names, en->nparams, e)))
		return lmp_prefix(e, "%s: ", where);
	c.prog = prog;
	q = lmp_fold(&c, t, args, where, e);
	lmp_tmpl_free(t);
	if (!q)
		return -1;
	if (!lmp_poly_is_const(q))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s depends on the runtime", where);
	if (lmp_poly_value(prog, q, out, e))
		return -1;
	if (!lmp_num_is_int(out) || lmp_num_sign(out) < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s is not a whole number", where);
	return 0;
}

int
lmp_entry_tensors(lmp_entry *en, lmp_prog *prog, lmp_poly *const *args, lmp_tdecl **out, int *n, lmp_err *e)
{
	const cJSON *decl = cJSON_GetObjectItemCaseSensitive(en->json, "tensors"), *t, *d;
	const char *names[LMP_MAX_ARGS];
	lmp_tdecl *v;
	int i, k;

	*out = NULL;
	*n = 0;
	if (!decl)
		return 0;
	if (lmp_tensors_form(decl, e))
		return lmp_prefix(e, "entry %s: ", en->name);
	for (i = 0; i < en->nparams && i < LMP_MAX_ARGS; i++)
		names[i] = en->params[i].name;
	v = lmp_xcalloc((size_t)cJSON_GetArraySize(decl) + 1, sizeof *v);
	cJSON_ArrayForEach(t, decl) {
		lmp_tdecl *x = &v[*n];
		int absent = 0;
		x->name = cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring;
		x->buffer = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "buffer"));
		x->ndims = 0;
		x->elements = lmp_num_int(1);
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(t, "shape")) {
			lmp_num p;
			if (dim(prog, en, names, d, args, x->name, &x->dims[x->ndims], e))
				goto fail;
			absent |= lmp_num_is_zero(&x->dims[x->ndims]);
			if (lmp_num_mul(&x->elements, &x->dims[x->ndims], &p)) {
				lmp_fail(e, LMP_EXIT_INPUT, "entry %s: tensor %s: its elements overflow", en->name, x->name);
				goto fail;
			}
			x->elements = p;
			x->ndims++;
		}
		if (absent)
			continue;
		for (k = 0; k < *n; k++)
			if (!strcmp(v[k].name, x->name)) {
				lmp_fail(e, LMP_EXIT_INPUT, "entry %s: tensor %s declared twice", en->name, x->name);
				goto fail;
			}
		(*n)++;
	}
	*out = v;
	return 1;
fail:
	free(v);
	*n = 0;
	return -1;
}

int
lmp_tensors_agree(const lmp_entry *en, const lmp_tdecl *t, int n, const lmp_num *param_count, lmp_err *e)
{
	lmp_num sum = lmp_num_int(0), s;
	char a[LMP_NUM_STRMAX], b[LMP_NUM_STRMAX];

	for (int i = 0; i < n; i++)
		if (!t[i].buffer && !lmp_num_add(&sum, &t[i].elements, &s))
			sum = s;
	if (lmp_num_cmp(&sum, param_count) == 0)
		return 0;
	lmp_num_str(&sum, a);
	lmp_num_str(param_count, b);
	return lmp_fail(e, LMP_EXIT_INPUT, "entry %s: its tensors hold %s parameters, its param_count is %s", en->name, a, b);
}

void
lmp_tensors_json(const lmp_tdecl *t, int n, lmp_buf *b)
{
	char s[LMP_NUM_STRMAX];

	lmp_buf_putc(b, '[');
	for (int i = 0; i < n; i++) {
		lmp_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		lmp_json_string(b, t[i].name);
		lmp_buf_puts(b, ",\"shape\":[");
		for (int k = 0; k < t[i].ndims; k++) {
			lmp_num_str(&t[i].dims[k], s);
			if (k)
				lmp_buf_putc(b, ',');
			lmp_buf_puts(b, s);
		}
		lmp_buf_putc(b, ']');
		if (t[i].buffer)
			lmp_buf_puts(b, ",\"buffer\":true");
		lmp_buf_putc(b, '}');
	}
	lmp_buf_putc(b, ']');
}
