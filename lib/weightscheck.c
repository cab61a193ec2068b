/* weightscheck.c: the model's parameters against its checkpoint's tensors
 * (model.checkpoint, recorded by lmp-inspect --check-weights), by element
 * count.  A row's path P is read without its layer-group labels
 * (model.layers(sliding).* is model.layers.*).  It claims the tensors whose
 * folded name is P, P + "." + suffix, or P + "_" + a suffix without a dot
 * (gpt-oss's experts.gate_up_proj_bias, MXFP4's _blocks and _scales),
 * the longest such P winning; failing that, P with every "*" after the
 * first dropped, for experts stored fused in one tensor per layer
 * (experts.*.gate_up_proj as experts.gate_up_proj).  Rows with no
 * parameters claim nothing, so rotary buffers stay unclaimed.  The rows of
 * one path and the tensors they claim must hold as many elements.  A tied row absent from
 * the checkpoint is expected (it is stored once, under its owner); rows in
 * a quantized format store packed tensors and scales, so their counts are
 * not compared yet.  The result is the eval document's weights_check. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct group {
	char *path, *fused; /* without labels; with only the first "*" */
	const char *tied;
	lmp_num params;
	int quantized;
	lmp_i128 elements, tensors;
};

/* Elements of one inventory row (shape product times count); -1 where the
 * row is malformed. */
static lmp_i128
row_elements(const cJSON *t, lmp_i128 *count)
{
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape"), *c = cJSON_GetObjectItemCaseSensitive(t, "count"), *d;
	lmp_i128 el = 1;

	if (!cJSON_IsArray(sh) || !cJSON_IsNumber(c) || c->valuedouble < 0)
		return -1;
	cJSON_ArrayForEach(d, sh) {
		if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15)
			return -1;
		el *= (lmp_i128)d->valuedouble;
	}
	*count = (lmp_i128)c->valuedouble;
	return el * *count;
}

static void
put_num(lmp_buf *b, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];

	lmp_num_str(v, s);
	lmp_buf_puts(b, s);
}

static void
put_i128(lmp_buf *b, lmp_i128 v)
{
	char s[LMP_NUM_STRMAX];

	lmp_i128_str(v, s);
	lmp_buf_puts(b, s);
}

/* p without its "(label)"s, and (fused) without every ".*" after the first. */
static char *
normal_path(const char *p, int fused)
{
	char *o = lmp_xmalloc(strlen(p) + 1), *w = o;
	int stars = 0;

	while (*p) {
		if (*p == '(' && strchr(p, ')')) {
			p = strchr(p, ')') + 1;
			continue;
		}
		if (fused && p[0] == '.' && p[1] == '*' && (p[2] == '.' || !p[2]) && stars++) {
			p += 2;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return o;
}

/* Collect the rows by path, in row order. */
static int
groups_of(const lmp_model *m, struct group *g, int *ng, lmp_err *e)
{
	int i, j, rc;
	char *path = NULL;

	*ng = 0;
	for (i = 0; i < m->nrows; i++, free(path)) {
		const lmp_row *r = &m->rows[i];
		lmp_num pc, t;
		path = normal_path(r->path, 0);
		if (!lmp_poly_is_const(r->poly[LMP_K_PARAM_COUNT]))
			return free(path), lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: its parameter count depends on the runtime",
				r->path);
		if (lmp_poly_value(m->prog, r->poly[LMP_K_PARAM_COUNT], &pc, e))
			return free(path), lmp_prefix(e, "weights check: %s: ", r->path);
		for (j = 0; j < *ng && strcmp(g[j].path, path); j++)
			;
		if (j == *ng) {
			memset(&g[j], 0, sizeof g[j]);
			g[j].path = lmp_xstrdup(path);
			g[j].fused = normal_path(path, 1);
			g[j].params = lmp_num_int(0);
			(*ng)++;
		}
		if ((rc = lmp_num_mul(&r->count, &pc, &t)) || (rc = lmp_num_add(&g[j].params, &t, &g[j].params)))
			return free(path), lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: %s", r->path,
				lmp_num_strerror(rc));
		if (r->tied)
			g[j].tied = r->tied;
		if (m->quant && !lmp_num_is_zero(&pc) && !lmp_quant_covers(m->quant, r))
			g[j].quantized = 1;
	}
	return 0;
}

/* Whether a folded tensor name belongs to path p: p itself, p.suffix or
 * p_suffix with no dot in the suffix. */
static size_t
under(const char *name, const char *p)
{
	size_t n = strlen(p);

	if (strncmp(name, p, n))
		return 0;
	if (!name[n] || name[n] == '.' || (name[n] == '_' && !strchr(name + n, '.')))
		return n;
	return 0;
}

/* The group claiming a folded tensor name, or -1: the longest path, else
 * the longest fused path. */
static int
claim(const struct group *g, int ng, const char *name)
{
	int i, f, best = -1;
	size_t n, bn = 0;

	for (f = 0; f < 2 && best < 0; f++)
		for (i = 0; i < ng; i++) {
			if (lmp_num_is_zero(&g[i].params) || !(n = under(name, f ? g[i].fused : g[i].path)) || n < bn)
				continue;
			best = i;
			bn = n;
		}
	return best;
}

int
lmp_weights_check(const lmp_model *m, const cJSON *checkpoint, lmp_buf *b, lmp_err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(checkpoint, "tensors"), *t;
	struct group *g = lmp_xcalloc((size_t)m->nrows + 1, sizeof *g);
	lmp_num sum[3];	/* matched, unchecked, missing parameters */
	lmp_i128 ext = 0, n[2] = {0, 0}, nt[2] = {0, 0};
	lmp_buf extra = {0};
	int ng = 0, i, k, rc = -1, first;

	if (!cJSON_IsArray(list)) {
		lmp_fail(e, LMP_EXIT_INPUT, "weights check: model.checkpoint has no \"tensors\" list");
		goto out;
	}
	if (groups_of(m, g, &ng, e) || lmp_quantmap_check(m, checkpoint, e))
		goto out;
	first = 1;
	cJSON_ArrayForEach(t, list) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
		lmp_i128 cnt, el = row_elements(t, &cnt);
		if (!cJSON_IsString(nm) || el < 0) {
			lmp_fail(e, LMP_EXIT_INPUT, "weights check: model.checkpoint.tensors: a malformed entry");
			goto out;
		}
		if ((i = claim(g, ng, nm->valuestring)) >= 0) {
			g[i].elements += el;
			g[i].tensors += cnt;
			continue;
		}
		lmp_buf_puts(&extra, first ? "" : ",");
		first = 0;
		lmp_buf_puts(&extra, "{\"name\":");
		lmp_json_string(&extra, nm->valuestring);
		lmp_buf_puts(&extra, ",\"count\":");
		put_i128(&extra, cnt);
		lmp_buf_puts(&extra, ",\"elements\":");
		put_i128(&extra, el);
		lmp_buf_putc(&extra, '}');
		ext += el;
	}
	for (k = 0; k < 3; k++)
		sum[k] = lmp_num_int(0);
	/* the mismatches first: one is an error */
	for (i = 0; i < ng; i++) {
		lmp_num el = lmp_num_int(g[i].elements);
		char a[LMP_NUM_STRMAX], c[LMP_NUM_STRMAX];
		if (!g[i].tensors || g[i].quantized || lmp_num_cmp(&el, &g[i].params) == 0)
			continue;
		lmp_num_str(&g[i].params, a);
		lmp_i128_str(g[i].elements, c);
		lmp_fail(e, LMP_EXIT_INPUT, "weights check: %s: the model has %s parameters, the checkpoint's %s.* tensors %s elements",
			g[i].path, a, g[i].path, c);
		goto out;
	}
	lmp_buf_puts(b, "\"weights_check\":{\"matched\":");
	for (k = 0; k < 2; k++) {
		for (i = 0; i < ng; i++)
			if (g[i].tensors && g[i].quantized == k) {
				n[k]++;
				nt[k] += g[i].tensors;
				lmp_num_add(&sum[k], &g[i].params, &sum[k]);
			}
		if (k)
			lmp_buf_puts(b, ",\"unchecked_quantized\":");
		lmp_buf_puts(b, "{\"paths\":");
		put_i128(b, n[k]);
		lmp_buf_puts(b, ",\"tensors\":");
		put_i128(b, nt[k]);
		lmp_buf_puts(b, ",\"parameters\":");
		put_num(b, &sum[k]);
		lmp_buf_putc(b, '}');
	}
	lmp_buf_puts(b, ",\"missing\":{\"paths\":[");
	first = 1;
	for (i = 0; i < ng; i++)
		if (!g[i].tensors && !g[i].tied && !lmp_num_is_zero(&g[i].params)) {
			lmp_buf_puts(b, first ? "{\"path\":" : ",{\"path\":");
			first = 0;
			lmp_json_string(b, g[i].path);
			lmp_buf_puts(b, ",\"parameters\":");
			put_num(b, &g[i].params);
			lmp_buf_putc(b, '}');
			lmp_num_add(&sum[2], &g[i].params, &sum[2]);
		}
	lmp_buf_puts(b, "],\"parameters\":");
	put_num(b, &sum[2]);
	lmp_buf_puts(b, "},\"tied_absent\":[");
	first = 1;
	for (i = 0; i < ng; i++)
		if (!g[i].tensors && g[i].tied && !lmp_num_is_zero(&g[i].params)) {
			lmp_buf_puts(b, first ? "{\"path\":" : ",{\"path\":");
			first = 0;
			lmp_json_string(b, g[i].path);
			lmp_buf_puts(b, ",\"tied\":");
			lmp_json_string(b, g[i].tied);
			lmp_buf_puts(b, ",\"parameters\":");
			put_num(b, &g[i].params);
			lmp_buf_putc(b, '}');
		}
	lmp_buf_puts(b, "],\"extra\":{\"tensors\":[");
	if (extra.len)
		lmp_buf_add(b, extra.s, extra.len);
	lmp_buf_puts(b, "],\"elements\":");
	put_i128(b, ext);
	lmp_buf_puts(b, "}}");
	rc = 0;
out:
	lmp_buf_free(&extra);
	for (i = 0; i < ng; i++) {
		free(g[i].path);
		free(g[i].fused);
	}
	free(g);
	return rc;
}
