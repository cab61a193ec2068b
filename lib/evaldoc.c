/* evaldoc.c: writing eval documents.  The hot path of a sweep: documents are
 * written straight into a buffer, numbers through numfmt.c, with no JSON tree. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* A literal piece of output, its length known at compile time. */
#define LIT(b, s) lmp_buf_add((b), (s), sizeof(s) - 1)

static void
num(lmp_buf *b, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];
	int n = lmp_num_str(v, s);

	lmp_buf_add(b, s, (size_t)n);
}

static void
i128(lmp_buf *b, lmp_i128 v)
{
	char s[LMP_NUM_STRMAX];
	int n = lmp_i128_str(v, s);

	lmp_buf_add(b, s, (size_t)n);
}

static void
key(lmp_buf *b, const char *name)
{
	lmp_buf_puts(b, ",\"");
	lmp_buf_puts(b, name);
	lmp_buf_puts(b, "\":");
}

/* The settings (w_bit ...): every row of the option table that is one. */
static void
bits(lmp_buf *b, const lmp_runtime *rt)
{
	for (int i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		if (r->role != LMP_RO_SETTING)
			continue;
		key(b, r->json);
		i128(b, *(const int *)((const char *)rt + r->offset));
	}
}

static void
aggregates(lmp_buf *b, const lmp_runtime *rt)
{
	static const int vars[] = {LMP_V_TOKENS, LMP_V_KV_TOKENS, LMP_V_QK_PAIRS};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		key(b, lmp_var_name(vars[i]));
		i128(b, rt->vars[vars[i]].n);
	}
}

/* The runtime object: the step (its batch and shape, or its queries), the
 * settings, the aggregates, and what the caller adds. */
void
lmp_runtime_json(const lmp_runtime *rt, lmp_buf *b)
{
	const lmp_runopt *ro = lmp_runopts;

	lmp_buf_putc(b, '{');
	lmp_json_string(b, ro[LMP_RO_BATCH_SIZE].json);
	lmp_buf_putc(b, ':');
	i128(b, rt->vars[LMP_V_BATCH_SIZE].n);
	if (rt->nqueries == 1) {
		key(b, ro[LMP_RO_SEQ_LEN].json);
		i128(b, rt->queries[0].seq_len);
		key(b, ro[LMP_RO_CACHE_LEN].json);
		i128(b, rt->queries[0].cache_len);
	} else {
		/* A mixed step: every group of queries as given. */
		key(b, ro[LMP_RO_QUERIES].json);
		lmp_buf_putc(b, '[');
		for (int i = 0; i < rt->nqueries; i++) {
			LIT(b, "{\"seq_len\":");
			i128(b, rt->queries[i].seq_len);
			LIT(b, ",\"cache_len\":");
			i128(b, rt->queries[i].cache_len);
			LIT(b, ",\"count\":");
			i128(b, rt->queries[i].count);
			lmp_buf_puts(b, i + 1 < rt->nqueries ? "}," : "}");
		}
		lmp_buf_putc(b, ']');
	}
	bits(b, rt);
	aggregates(b, rt);
	if (rt->extra)
		lmp_buf_puts(b, rt->extra);
	lmp_buf_putc(b, '}');
}

/* The seven quantities of a row or of the totals, in contract order. */
static void
quantities(lmp_buf *b, const lmp_num *v)
{
	LIT(b, "\"param_count\":");
	num(b, &v[LMP_K_PARAM_COUNT]);
	LIT(b, ",\"flops\":");
	num(b, &v[LMP_K_FLOPS]);
	LIT(b, ",\"bytes\":{\"weights\":");
	num(b, &v[LMP_K_WEIGHTS]);
	LIT(b, ",\"reads\":");
	num(b, &v[LMP_K_READS]);
	LIT(b, ",\"writes\":");
	num(b, &v[LMP_K_WRITES]);
	LIT(b, ",\"intermediates\":");
	num(b, &v[LMP_K_INTERMEDIATES]);
	LIT(b, "},\"state_bytes\":");
	num(b, &v[LMP_K_STATE]);
}

/* The totals: the seven quantities and the active parameters. */
static void
totals_json(lmp_buf *b, const lmp_num *tot, const lmp_num *active)
{
	LIT(b, ",\"totals\":{");
	quantities(b, tot);
	LIT(b, ",\"active_param_count\":");
	num(b, active);
	lmp_buf_putc(b, '}');
}

/* Values at one point: per row (rows: nrows x LMP_NKINDS, or NULL) and totals. */
static int
evaluate(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_num *tot, lmp_err *e)
{
	int i, k;

	lmp_prog_set_point(m->prog, rt);
	for (i = 0; rows && i < m->nrows; i++)
		for (k = 0; k < LMP_NKINDS; k++)
			if (lmp_poly_eval(m->prog, m->rows[i].poly[k], &rows[i * LMP_NKINDS + k], e))
				return lmp_prefix(e, "%s: %s: ", m->rows[i].path, lmp_kind_name(k));
	for (k = 0; k < LMP_NKINDS; k++)
		if (lmp_poly_eval(m->prog, m->total[k], &tot[k], e))
			return lmp_prefix(e, "totals: %s: ", lmp_kind_name(k));
	if (lmp_poly_eval(m->prog, m->active, &tot[LMP_NKINDS], e))
		return lmp_prefix(e, "totals: active parameters: ");
	return 0;
}

static void
rows_json(lmp_buf *b, const lmp_model *m, const lmp_num *v)
{
	int i;

	LIT(b, "\"rows\":[");
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		if (i)
			lmp_buf_putc(b, ',');
		LIT(b, "{\"path\":");
		lmp_json_string(b, r->path);
		LIT(b, ",\"class\":");
		lmp_json_string(b, r->cls);
		LIT(b, ",\"count\":");
		num(b, &r->count);
		if (r->tied) {
			LIT(b, ",\"tied\":");
			lmp_json_string(b, r->tied);
		}
		lmp_buf_putc(b, ',');
		quantities(b, &v[i * LMP_NKINDS]);
		lmp_buf_putc(b, '}');
	}
	lmp_buf_putc(b, ']');
}

int
lmp_eval_doc(lmp_model *m, const lmp_runtime *rt, int with_rows, lmp_buf *b, lmp_err *e)
{
	lmp_num tot[LMP_NKINDS + 1], *rows = NULL;
	int rc = -1;

	if (with_rows)
		rows = lmp_xmalloc(sizeof *rows * (size_t)(m->nrows * LMP_NKINDS + 1));
	if (evaluate(m, rt, rows, tot, e))
		goto out;
	lmp_buf_add(b, m->head, m->headlen);
	lmp_runtime_json(rt, b);
	if (with_rows) {
		lmp_buf_putc(b, ',');
		rows_json(b, m, rows);
	}
	totals_json(b, tot, &tot[LMP_NKINDS]);
	LIT(b, "}\n");
	rc = 0;
out:
	free(rows);
	return rc;
}

/* Over the steps of a phase, work adds up; the parameter count is the
 * model's and the state is what the last step leaves. */
static int
accumulate(lmp_num *sum, const lmp_num *v, int n, lmp_err *e)
{
	lmp_num s;
	int i, rc;

	for (i = 0; i < n; i++) {
		int k = i % LMP_NKINDS;
		if (k == LMP_K_PARAM_COUNT || k == LMP_K_STATE) {
			sum[i] = v[i];
			continue;
		}
		if ((rc = lmp_num_add(&sum[i], &v[i], &s)))
			return lmp_fail(e, LMP_EXIT_INPUT, "phase sum: %s", lmp_num_strerror(rc));
		sum[i] = s;
	}
	return 0;
}

static void
zero(lmp_num *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = lmp_num_int(0);
}

static void
phase_json(lmp_buf *b, const lmp_model *m, const char *name, int64_t steps, const char *runtime,
	const lmp_num *rows, const lmp_num *tot)
{
	lmp_buf_putc(b, '"');
	lmp_buf_puts(b, name);
	LIT(b, "\":{\"steps\":");
	i128(b, steps);
	LIT(b, ",\"runtime\":");
	lmp_buf_puts(b, runtime);
	if (rows) {
		lmp_buf_putc(b, ',');
		rows_json(b, m, rows);
	}
	LIT(b, ",\"totals\":{");
	quantities(b, tot);
	LIT(b, "}}");
}

int
lmp_gen_doc(lmp_model *m, const lmp_gen *g, int with_rows, lmp_buf *b, lmp_err *e)
{
	int n = m->nrows * LMP_NKINDS, rc = -1;
	lmp_num *pre = NULL, *dec = NULL, *step = NULL, ptot[LMP_NKINDS + 1], dtot[LMP_NKINDS],
		stot[LMP_NKINDS + 1], all[LMP_NKINDS];
	lmp_query q = {g->prompt_len, 0, g->batch_size};
	lmp_runtime rt = *g->settings;
	lmp_buf pr = {0}, dr = {0};
	int64_t s, steps = g->gen_len - 1;

	rt.nqueries = 1;
	rt.queries = &q;
	rt.extra = NULL;

	if (with_rows) {
		pre = lmp_xmalloc(sizeof *pre * (size_t)(n + 1));
		dec = lmp_xmalloc(sizeof *dec * (size_t)(n + 1));
		step = lmp_xmalloc(sizeof *step * (size_t)(n + 1));
		zero(dec, n);
	}
	/* The prefill makes the first token; each decode step one more. */
	if (lmp_runtime_compute(&rt, e) || evaluate(m, &rt, pre, ptot, e))
		goto out;
	lmp_runtime_json(&rt, &pr);
	zero(dtot, LMP_NKINDS);
	dtot[LMP_K_PARAM_COUNT] = ptot[LMP_K_PARAM_COUNT];
	dtot[LMP_K_STATE] = ptot[LMP_K_STATE];
	for (s = 0; s < steps; s++) {
		q.seq_len = 1;
		q.cache_len = g->prompt_len + s;
		if (lmp_runtime_compute(&rt, e) || evaluate(m, &rt, step, stot, e) ||
		    (with_rows && accumulate(dec, step, n, e)) || accumulate(dtot, stot, LMP_NKINDS, e))
			goto out;
	}
	lmp_buf_printf(&dr, "{\"seq_len\":1,\"cache_len_first\":%lld,\"cache_len_last\":%lld}",
		(long long)g->prompt_len, (long long)(g->prompt_len + (steps ? steps - 1 : 0)));
	for (int k = 0; k < LMP_NKINDS; k++)
		all[k] = ptot[k];
	/* dtot starts with the prefill's state, so it is right with no steps too */
	if (accumulate(all, dtot, LMP_NKINDS, e))
		goto out;
	lmp_buf_add(b, m->head, m->headlen);
	LIT(b, "{\"batch_size\":");
	i128(b, g->batch_size);
	LIT(b, ",\"prompt_len\":");
	i128(b, g->prompt_len);
	LIT(b, ",\"gen_len\":");
	i128(b, g->gen_len);
	bits(b, &rt);
	LIT(b, "},\"phases\":{");
	phase_json(b, m, "prefill", 1, pr.s, pre, ptot);
	lmp_buf_putc(b, ',');
	phase_json(b, m, "decode", steps, dr.s, with_rows && steps ? dec : NULL, dtot);
	lmp_buf_putc(b, '}');
	totals_json(b, all, &ptot[LMP_NKINDS]);
	LIT(b, "}\n");
	rc = 0;
out:
	free(pre);
	free(dec);
	free(step);
	lmp_buf_free(&pr);
	lmp_buf_free(&dr);
	return rc;
}

int
lmp_module_doc(lmp_model *m, const lmp_runtime *rt, lmp_buf *b, lmp_err *e)
{
	lmp_row *r = &m->rows[0];
	lmp_entry *en = r->entry;
	lmp_num v, tot[LMP_NKINDS + 1];
	size_t start = b->len;
	int i;

	if (evaluate(m, rt, NULL, tot, e)) {
		lmp_prefix(e, "%s: ", en->name);
		return -1;
	}
	LIT(b, "{\"lmp\":\"module\",\"version\":\"" LMP_VERSION "\",\"class\":");
	lmp_json_string(b, en->name);
	LIT(b, ",\"params\":{");
	for (i = 0; i < en->nparams; i++) {
		if (lmp_poly_eval(m->prog, r->args[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->params[i].name);
		lmp_buf_putc(b, ':');
		num(b, &v);
	}
	LIT(b, "},");
	quantities(b, tot);
	LIT(b, ",\"breakdown\":{");
	for (i = 0; i < en->nbreak; i++) {
		if (lmp_poly_eval(m->prog, r->breakdown[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->break_names[i]);
		lmp_buf_putc(b, ':');
		num(b, &v);
	}
	LIT(b, "}}\n");
	return 0;
fail:
	b->len = start;
	lmp_prefix(e, "%s: ", en->name);
	return -1;
}
