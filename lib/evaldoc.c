/* evaldoc.c: writing eval documents.  The hot path of a sweep: documents are
 * written straight into a buffer, numbers through numfmt.c, with no JSON tree. */
#include <string.h>

#include "lmp.h"

static void
num(lmp_buf *b, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];
	int n = lmp_num_str(v, s);

	lmp_buf_add(b, s, (size_t)n);
}

/* A literal piece of output, its length known at compile time. */
#define LIT(b, s) lmp_buf_add((b), (s), sizeof(s) - 1)

static void
i128(lmp_buf *b, lmp_i128 v)
{
	char s[LMP_NUM_STRMAX];
	int n = lmp_i128_str(v, s);

	lmp_buf_add(b, s, (size_t)n);
}

void
lmp_runtime_json(const lmp_runtime *rt, lmp_buf *b)
{
	const lmp_num *v = rt->vars;

	LIT(b, "{\"batch_size\":");
	i128(b, v[LMP_V_BATCH_SIZE].n);
	if (rt->nqueries == 1) {
		LIT(b, ",\"seq_len\":");
		i128(b, rt->queries[0].seq_len);
		LIT(b, ",\"cache_len\":");
		i128(b, rt->queries[0].cache_len);
	}
	LIT(b, ",\"w_bit\":");
	i128(b, rt->w_bit);
	LIT(b, ",\"a_bit\":");
	i128(b, rt->a_bit);
	LIT(b, ",\"kv_bit\":");
	i128(b, rt->kv_bit);
	LIT(b, ",\"tokens\":");
	i128(b, v[LMP_V_TOKENS].n);
	LIT(b, ",\"kv_tokens\":");
	i128(b, v[LMP_V_KV_TOKENS].n);
	LIT(b, ",\"qk_pairs\":");
	i128(b, v[LMP_V_QK_PAIRS].n);
	lmp_buf_putc(b, '}');
}

/* The quantities of a row or of the totals, in contract order. */
static int
quantities(lmp_model *m, lmp_poly *const *q, lmp_buf *b, lmp_err *e)
{
	lmp_num v[LMP_NKINDS];
	int k;

	for (k = 0; k < LMP_NKINDS; k++)
		if (lmp_poly_eval(m->prog, q[k], &v[k], e))
			return lmp_prefix(e, "%s: ", lmp_kind_name(k));
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
	return 0;
}

int
lmp_eval_doc(lmp_model *m, const lmp_runtime *rt, int with_rows, lmp_buf *b, lmp_err *e)
{
	size_t start = b->len;
	int i;

	lmp_prog_set_point(m->prog, rt);
	lmp_buf_add(b, m->head, m->headlen);
	lmp_runtime_json(rt, b);
	if (with_rows) {
		lmp_buf_add(b, ",\"rows\":[", 9);
		for (i = 0; i < m->nrows; i++) {
			lmp_row *r = &m->rows[i];
			if (i)
				lmp_buf_putc(b, ',');
			lmp_buf_puts(b, "{\"path\":");
			lmp_json_string(b, r->path);
			lmp_buf_puts(b, ",\"class\":");
			lmp_json_string(b, r->cls);
			lmp_buf_puts(b, ",\"count\":");
			num(b, &r->count);
			if (r->tied) {
				lmp_buf_puts(b, ",\"tied\":");
				lmp_json_string(b, r->tied);
			}
			lmp_buf_putc(b, ',');
			if (quantities(m, r->poly, b, e)) {
				b->len = start;
				return lmp_prefix(e, "%s: ", r->path);
			}
			lmp_buf_putc(b, '}');
		}
		lmp_buf_putc(b, ']');
	}
	lmp_buf_add(b, ",\"totals\":{", 11);
	if (quantities(m, m->total, b, e)) {
		b->len = start;
		return lmp_prefix(e, "totals: ");
	}
	lmp_buf_add(b, "}}\n", 3);
	return 0;
}

int
lmp_module_doc(lmp_model *m, const lmp_runtime *rt, lmp_buf *b, lmp_err *e)
{
	lmp_row *r = &m->rows[0];
	lmp_entry *en = r->entry;
	size_t start = b->len;
	lmp_num v;
	int i;

	lmp_prog_set_point(m->prog, rt);
	lmp_buf_puts(b, "{\"lmp\":\"module\",\"version\":\"" LMP_VERSION "\",\"class\":");
	lmp_json_string(b, en->name);
	lmp_buf_puts(b, ",\"params\":{");
	for (i = 0; i < en->nparams; i++) {
		if (lmp_poly_eval(m->prog, r->args[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->params[i].name);
		lmp_buf_putc(b, ':');
		num(b, &v);
	}
	lmp_buf_puts(b, "},");
	if (quantities(m, r->poly, b, e)) {
		lmp_prefix(e, "%s: ", en->name);
		goto fail;
	}
	lmp_buf_puts(b, ",\"breakdown\":{");
	for (i = 0; i < en->nbreak; i++) {
		if (lmp_poly_eval(m->prog, r->breakdown[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->break_names[i]);
		lmp_buf_putc(b, ':');
		num(b, &v);
	}
	lmp_buf_add(b, "}}\n", 3);
	return 0;
fail:
	b->len = start;
	return -1;
}
