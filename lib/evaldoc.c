/* evaldoc.c: writing eval documents.  The hot path of a sweep: documents are
 * written straight into a buffer, numbers through numfmt.c, with no JSON tree. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "evalslots.h"

/* A literal piece of output, its length known at compile time. */
#define LIT(b, s) lmp_buf_add((b), (s), sizeof(s) - 1)


static void
key(lmp_buf *b, const char *name)
{
	lmp_buf_puts(b, ",\"");
	lmp_buf_puts(b, name);
	lmp_buf_puts(b, "\":");
}

/* The settings (w_bit ...): every row of the option table that is one.  A
 * choice (kv_layout, attention) is written by name where it is not its
 * default, so a document at the defaults is what it was before them. */
static void
bits(lmp_buf *b, const lmp_runtime *rt)
{
	for (int i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		int v = *(const int *)((const char *)rt + r->offset);
		if (r->role != LMP_RO_SETTING)
			continue;
		if (r->type == LMP_RO_CHOICES) {
			if (v && v != r->dflt) {
				key(b, r->json);
				lmp_json_string(b, lmp_runopt_choice(i, v));
			}
			continue;
		}
		if (i == LMP_RO_FLASH_SMS && !v)
			continue; /* the arch's own device: documents as before it */
		key(b, r->json);
		lmp_buf_i128(b, v);
	}
}

/* The parallel layout, where an option of it was given (a document
 * without it describes one device). */
static void
layout(lmp_buf *b, const lmp_runtime *rt)
{
	int64_t d = 1;

	if (!rt->layout)
		return;
	for (int i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		int v;
		if (r->role != LMP_RO_LAYOUT)
			continue;
		v = *(const int *)((const char *)rt + r->offset);
		key(b, r->json);
		lmp_buf_i128(b, v > 0 ? v : 1);
		if (i != LMP_RO_EP)
			d *= v > 0 ? v : 1;
	}
	key(b, "devices");
	lmp_buf_i128(b, d);
}

/* The engine and its knobs, where one is named (rt->engine). */
static void
engine_json(lmp_buf *b, const lmp_runtime *rt)
{
	if (!rt->engine)
		return;
	LIT(b, ",\"engine\":");
	lmp_json_string(b, rt->engine);
	for (int i = 0; i < LMP_RO_NLISTS; i++) {
		const lmp_runopt *r = &lmp_runopts[i];
		if (r->role == LMP_RO_KNOB) {
			key(b, r->json);
			lmp_knob_json(b, i, *(const int64_t *)((const char *)rt + r->offset));
		}
	}
}

/* The runtime's settings, layout and engine as text (bits, layout,
 * engine_json).  A sweep's points mostly share them, so the last text is
 * kept with what it was written from and reused while that is the same;
 * its number (gen) tells a reader whether the text changed since it last
 * looked.  settings_json with b NULL brings it up to date only.  What it
 * was written from is the widths and every member of lmp_runtime from
 * w_checkpoint on, as bytes (the engine by its pointer): the same bytes
 * are the same settings, and other bytes at worst a text written anew. */
#define SET_AT LMP_RUNTIME_SETTINGS_AT
#define SET_LEN (sizeof(lmp_runtime) - SET_AT)
static struct {
	char *text;
	size_t len;
	uint64_t gen; /* counts the texts written: one text, one number */
	int bits[3];
	unsigned char tail[SET_LEN];
} settings;

static void
settings_json(lmp_buf *b, const lmp_runtime *rt)
{
	const unsigned char *tail = (const unsigned char *)rt + SET_AT;
	lmp_buf t = {0};

	if (settings.text && settings.bits[0] == rt->w_bit && settings.bits[1] == rt->a_bit &&
	    settings.bits[2] == rt->kv_bit && !memcmp(settings.tail, tail, SET_LEN)) {
		if (b)
			lmp_buf_add(b, settings.text, settings.len);
		return;
	}
	bits(&t, rt);
	if (rt->w_checkpoint)
		LIT(&t, ",\"w_format\":\"quantization_config\"");
	layout(&t, rt);
	engine_json(&t, rt);
	lmp_buf_add(&t, "", 0);
	free(settings.text);
	settings.text = t.s;
	settings.len = t.len;
	settings.gen++;
	settings.bits[0] = rt->w_bit, settings.bits[1] = rt->a_bit, settings.bits[2] = rt->kv_bit;
	memcpy(settings.tail, tail, SET_LEN);
	if (b)
		lmp_buf_add(b, settings.text, settings.len);
}

/* The aggregates (tokens, kv_tokens, qk_pairs): those want names (NULL
 * all; none: nothing). */
static void
aggregates(lmp_buf *b, const lmp_runtime *rt, const lmp_fields_node *want, int none)
{
	static const int vars[] = {LMP_V_TOKENS, LMP_V_KV_TOKENS, LMP_V_QK_PAIRS};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *k = lmp_var_name(vars[i]);
		if (none || (want && !lmp_fields_sub(want, k, strlen(k), NULL)))
			continue;
		key(b, k);
		lmp_buf_i128(b, rt->vars[vars[i]].n);
	}
}

/* The runtime object: the step (its batch and shape, or its queries), the
 * settings, the aggregates, and what the caller adds.  span (or NULL) gets
 * where in b the settings are: from the comma before w_bit to the one
 * before the aggregates, which the time model reads. */
static void
runtime_json(const lmp_runtime *rt, lmp_buf *b, size_t span[2])
{
	const lmp_runopt *ro = lmp_runopts;

	lmp_buf_putc(b, '{');
	lmp_json_string(b, ro[LMP_RO_BATCH_SIZE].json);
	lmp_buf_putc(b, ':');
	lmp_buf_i128(b, rt->vars[LMP_V_BATCH_SIZE].n);
	if (rt->nqueries == 1) {
		key(b, ro[LMP_RO_SEQ_LEN].json);
		lmp_buf_i128(b, rt->queries[0].seq_len);
		key(b, ro[LMP_RO_CACHE_LEN].json);
		lmp_buf_i128(b, rt->queries[0].cache_len);
	} else {
		/* A mixed step: every group of queries as given. */
		key(b, ro[LMP_RO_QUERIES].json);
		lmp_buf_putc(b, '[');
		for (int i = 0; i < rt->nqueries; i++) {
			LIT(b, "{\"seq_len\":");
			lmp_buf_i128(b, rt->queries[i].seq_len);
			LIT(b, ",\"cache_len\":");
			lmp_buf_i128(b, rt->queries[i].cache_len);
			LIT(b, ",\"count\":");
			lmp_buf_i128(b, rt->queries[i].count);
			lmp_buf_puts(b, i + 1 < rt->nqueries ? "}," : "}");
		}
		lmp_buf_putc(b, ']');
	}
	if (span)
		span[0] = b->len;
	settings_json(b, rt);
	if (span)
		span[1] = b->len;
	aggregates(b, rt, NULL, 0);
	if (rt->extra)
		lmp_buf_puts(b, rt->extra);
	lmp_buf_putc(b, '}');
}

void
lmp_runtime_json(const lmp_runtime *rt, lmp_buf *b)
{
	runtime_json(rt, b, NULL);
}

/* The bytes a row's parameters take stored, per instance, exactly (a
 * fraction where the bits do not fill whole bytes): the one place a weight
 * format lives.  With one width (--w-bit, a width fixed at populate, or
 * no format in the checkpoint) every element at that width; in the
 * checkpoint's own formats (rt->w_checkpoint) a row the format covers at
 * that format with its scales and zero points (quant.c), the others at
 * their own precision, the default 16 bits. */
static int
weight_bytes(const lmp_model *m, const lmp_row *r, const lmp_runtime *rt, const lmp_num *params, lmp_num *out,
	lmp_err *e)
{
	lmp_num bits = lmp_num_int(rt->w_checkpoint ? 16 : rt->w_bit), eight = lmp_num_int(8), t;
	int rc;

	if (rt->w_checkpoint && m->quant && !lmp_quant_covers(m->quant, r)) {
		if (lmp_quant_bytes(m->quant, r, out))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: weight bytes: overflow", r->path);
		return 0;
	}
	if ((rc = lmp_num_mul(params, &bits, &t)) || (rc = lmp_num_div(&t, &eight, out)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: weight bytes: %s", r->path, lmp_num_strerror(rc));
	return 0;
}

/* A row's weight_format, in the checkpoint's own formats: the format and
 * where it came from, and what its stored bytes come to per weight. */
static void
format_json(lmp_buf *b, const lmp_model *m, const lmp_row *r, const lmp_num *v)
{
	const char *kept = m->quant ? lmp_quant_covers(m->quant, r) : "no quantization_config";
	lmp_num bpw, eight = lmp_num_int(8);

	LIT(b, ",\"weight_format\":{");
	if (kept) {
		LIT(b, "\"bits\":16,\"compute\":\"activation\",\"source\":\"default\",\"kept\":");
		lmp_json_string(b, kept);
		lmp_buf_putc(b, '}');
		return;
	}
	lmp_quant_json(m->quant, b);
	if (!lmp_num_is_zero(&v[LMP_K_PARAM_COUNT]) && !lmp_num_mul(&v[V_WEIGHT_BYTES], &eight, &bpw) &&
	    !lmp_num_div(&bpw, &v[LMP_K_PARAM_COUNT], &bpw)) {
		LIT(b, ",\"bits_per_weight\":");
		lmp_buf_num(b, &bpw);
	}
	LIT(b, ",\"compute\":");
	lmp_json_string(b, lmp_quant_compute_name(lmp_quant_compute(m->quant)));
	LIT(b, ",\"source\":\"quantization_config\"}");
}

/* The seven quantities of a row or of the totals, in contract order, and
 * the stored weight bytes; under --fields in the fused sweep (want: what
 * the paths name of the object, NULL all; none: nothing) those no path
 * names are not written.  param_count is whatever they name, being first
 * (the others start with their comma). */
#define WANT(k) (!none && (!want || lmp_fields_sub(want, k, sizeof k - 1, NULL)))
static void
quantities(lmp_buf *b, const lmp_num *v, const lmp_fields_node *want, int none)
{
	LIT(b, "\"param_count\":");
	lmp_buf_num(b, &v[LMP_K_PARAM_COUNT]);
	if (WANT("flops")) {
		LIT(b, ",\"flops\":");
		lmp_buf_num(b, &v[LMP_K_FLOPS]);
	}
	if (WANT("bytes")) {
		LIT(b, ",\"bytes\":{\"weights\":");
		lmp_buf_num(b, &v[LMP_K_WEIGHTS]);
		LIT(b, ",\"reads\":");
		lmp_buf_num(b, &v[LMP_K_READS]);
		LIT(b, ",\"writes\":");
		lmp_buf_num(b, &v[LMP_K_WRITES]);
		LIT(b, ",\"intermediates\":");
		lmp_buf_num(b, &v[LMP_K_INTERMEDIATES]);
		lmp_buf_putc(b, '}');
	}
	if (WANT("state_bytes")) {
		LIT(b, ",\"state_bytes\":");
		lmp_buf_num(b, &v[LMP_K_STATE]);
	}
	if (WANT("weight_bytes")) {
		LIT(b, ",\"weight_bytes\":");
		lmp_buf_num(b, &v[V_WEIGHT_BYTES]);
	}
}

/* The totals: the quantities, the active parameters and, where known, how
 * the state grows with the context (growth: its JSON members, or NULL),
 * pruned as quantities() prunes them. */
static void
totals_json(lmp_buf *b, const lmp_model *m, const lmp_num *tot, const char *growth, const char *profile,
	const lmp_fields_node *want, int none)
{
	LIT(b, ",\"totals\":{");
	quantities(b, tot, want, none);
	if (WANT("active_param_count")) {
		LIT(b, ",\"active_param_count\":");
		lmp_buf_num(b, &tot[V_ACTIVE]);
	}
	if (m->ncoll && WANT("collective_bytes")) {
		LIT(b, ",\"collective_bytes\":");
		lmp_buf_num(b, &tot[V_COLL]);
	}
	/* growth holds state_growth and, for a decode step, activation_growth */
	if (growth && (WANT("state_growth") || WANT("activation_growth")))
		lmp_buf_puts(b, growth);
	if (profile && WANT("profile_run"))
		lmp_buf_puts(b, profile);
	lmp_buf_putc(b, '}');
}
#undef WANT

/* The stored weight bytes of every row (per instance, into rows when
 * given) and of the model (tot): a tied weight is stored once. */
static int
stored_weights(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_num *tot, lmp_err *e)
{
	lmp_num pc, wb, sum = lmp_num_int(0), t;
	int64_t key[2] = {rt->w_bit, rt->w_checkpoint};
	int i, rc, hit = 1;

	if (!rows && m->weights_set && !memcmp(key, m->weights_key, sizeof key)) {
		tot[V_WEIGHT_BYTES] = m->weights_total;
		return 0;
	}
	/* each row's bytes are kept with its parameter count and reused
	 * while both the width and that count are unchanged */
	if (rows && (m->nrow_wb != m->nrows || memcmp(key, m->row_wb_key, sizeof key))) {
		free(m->row_wb);
		m->row_wb = lmp_xcalloc((size_t)m->nrows * 2 + 1, sizeof *m->row_wb);
		m->nrow_wb = m->nrows;
		memcpy(m->row_wb_key, key, sizeof key);
		m->row_wb_ok = 0;
	}
	for (i = 0; rows && i < m->nrows; i++) {
		const lmp_num *cnt = &rows[i * NV + LMP_K_PARAM_COUNT];
		if (m->row_wb_ok && lmp_num_eq(cnt, &m->row_wb[2 * i])) {
			rows[i * NV + V_WEIGHT_BYTES] = m->row_wb[2 * i + 1];
			continue;
		}
		if (weight_bytes(m, &m->rows[i], rt, cnt, &wb, e))
			return -1;
		m->row_wb[2 * i] = *cnt;
		m->row_wb[2 * i + 1] = wb;
		hit = 0;
		rows[i * NV + V_WEIGHT_BYTES] = wb;
	}
	if (rows && hit && m->row_wb_ok) {
		tot[V_WEIGHT_BYTES] = m->row_wb_total;
		return 0;
	}
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		if (rows)
			wb = rows[i * NV + V_WEIGHT_BYTES];
		else if (lmp_poly_eval(m->prog, r->poly[LMP_K_PARAM_COUNT], &pc, e))
			return lmp_prefix(e, "%s: %s: ", r->path, lmp_kind_name(LMP_K_PARAM_COUNT));
		else if (weight_bytes(m, r, rt, &pc, &wb, e))
			return -1;
		if (r->tied)
			continue;
		if ((rc = lmp_num_mul(&r->count, &wb, &t)) || (rc = lmp_num_add(&sum, &t, &sum)))
			return lmp_fail(e, LMP_EXIT_INPUT, "totals: weight bytes: %s", lmp_num_strerror(rc));
	}
	tot[V_WEIGHT_BYTES] = sum;
	if (rows) {
		m->row_wb_total = sum;
		m->row_wb_ok = 1;
	}
	memcpy(m->weights_key, key, sizeof key);
	m->weights_total = sum;
	m->weights_set = 1;
	return 0;
}

/* In the checkpoint's own formats each row reads its weights at its own
 * width: the point's w_dtype_bytes becomes the row's stored bytes per
 * parameter, so its weight reads are its stored bytes, scales included.
 * The rows and the totals (evaluated at the point's width) are corrected
 * by count x (the row at its width - the row at the point's), for the
 * quantities that read w_dtype_bytes (the others are the same at either
 * width), row by row in the rows' order.  Kept from point to point: which
 * of a row's quantities read it (m->rw_kinds) and the row's own width with
 * the parameter count it came from (m->rw_own, for the widths m->rw_key).
 * The rows of one width are evaluated at it together (the program's atoms
 * are worked out once a point of it), and a quantity that reads none of
 * the variables that moved since the last point keeps both its values
 * (m->rw_done: the row's were worked out there). */
static unsigned moved_from(const lmp_num *a, const lmp_runtime *rt);

static int
row_widths(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_num *tot, lmp_err *e)
{
	lmp_runtime own = *rt;
	lmp_num pc, wb, d, t, *at, *mine;
	int64_t key[2] = {rt->w_bit, rt->w_checkpoint};
	int i, k, rc = 0, nd = 0, *todo;
	unsigned moved, *redo;

	if (!m->rw_kinds) {
		m->rw_kinds = lmp_xcalloc((size_t)m->nrows + 1, sizeof *m->rw_kinds);
		m->rw_kvars = lmp_xmalloc(sizeof *m->rw_kvars * LMP_NKINDS * ((size_t)m->nrows + 1));
		m->rw_todo = lmp_xmalloc(sizeof *m->rw_todo * ((size_t)m->nrows + 1));
		m->rw_vals = lmp_xmalloc(sizeof *m->rw_vals * 2 * LMP_NKINDS * ((size_t)m->nrows + 1));
		m->rw_redo = lmp_xmalloc(sizeof *m->rw_redo * ((size_t)m->nrows + 1));
		m->rw_done = lmp_xcalloc((size_t)m->nrows + 1, 1);
		for (i = 0; i < m->nrows; i++)
			for (k = 0; k < LMP_NKINDS; k++) {
				unsigned v = lmp_poly_vars(m->prog, (const lmp_poly *const *)&m->rows[i].poly[k], 1);
				m->rw_kvars[i * LMP_NKINDS + k] = v;
				if (v & 1u << LMP_V_W_DTYPE_BYTES)
					m->rw_kinds[i] |= 1u << k;
			}
	}
	if (!m->rw_own || memcmp(key, m->rw_key, sizeof key)) {
		free(m->rw_own);
		m->rw_own = lmp_xcalloc((size_t)m->nrows * 2 + 1, sizeof *m->rw_own);
		m->rw_set = lmp_xrealloc(m->rw_set, (size_t)m->nrows + 1);
		memset(m->rw_set, 0, (size_t)m->nrows + 1);
		memset(m->rw_done, 0, (size_t)m->nrows + 1);
		memcpy(m->rw_key, key, sizeof key);
	}
	todo = m->rw_todo;
	redo = m->rw_redo;
	/* what moved since the last point (all, where there was none) */
	moved = ~0u;
	if (m->rw_prev_ok && rt->nqueries == 1) {
		moved = moved_from(m->rw_prev, rt);
		if (memcmp(&m->rw_prevq, rt->queries, sizeof m->rw_prevq))
			moved |= LMP_READS_QUERIES;
	}
	memcpy(m->rw_prev, rt->vars, sizeof m->rw_prev);
	m->rw_prev_ok = rt->nqueries == 1;
	if (m->rw_prev_ok)
		m->rw_prevq = rt->queries[0];
	/* at the point's width: each row's own width, and the quantities of
	 * those at another at the point's */
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		lmp_num *w = &m->rw_own[2 * i + 1];
		if (lmp_poly_eval(m->prog, r->poly[LMP_K_PARAM_COUNT], &pc, e))
			return lmp_prefix(e, "%s: %s: ", r->path, lmp_kind_name(LMP_K_PARAM_COUNT));
		if (lmp_num_is_zero(&pc))
			continue;
		if (!m->rw_set[i] || !lmp_num_eq(&pc, &m->rw_own[2 * i])) {
			if (weight_bytes(m, r, rt, &pc, &wb, e))
				return -1;
			if ((rc = lmp_num_div(&wb, &pc, w)))
				return lmp_fail(e, LMP_EXIT_INPUT, "totals: per-layer weight widths: %s", lmp_num_strerror(rc));
			m->rw_own[2 * i] = pc;
			m->rw_set[i] = 1;
			m->rw_done[i] = 0;
		}
		if (lmp_num_eq(w, &rt->vars[LMP_V_W_DTYPE_BYTES]) || !m->rw_kinds[i]) {
			m->rw_done[i] = 0;
			continue;
		}
		/* the quantities to work out again: all, or those that read
		 * what moved */
		redo[i] = 0;
		for (k = 0; k < LMP_NKINDS; k++)
			if (m->rw_kinds[i] >> k & 1 && (!m->rw_done[i] || (m->rw_kvars[i * LMP_NKINDS + k] & moved)))
				redo[i] |= 1u << k;
		/* its values are this point's again once corrected below */
		if (redo[i])
			m->rw_done[i] = 0;
		at = &m->rw_vals[(size_t)i * 2 * LMP_NKINDS];
		for (k = 0; k < LMP_NKINDS; k++)
			if (redo[i] >> k & 1 && lmp_poly_eval(m->prog, r->poly[k], &at[k], e))
				return lmp_prefix(e, "%s: %s: ", r->path, lmp_kind_name(k));
		todo[nd++] = i;
	}
	/* at each own width in turn, its rows' quantities; a row taken is
	 * marked -1 - i in todo */
	for (int a = 0; a < nd; a++) {
		const lmp_num *w;
		int switched = 0;
		if (todo[a] < 0)
			continue; /* taken with an earlier row of its width */
		w = &m->rw_own[2 * todo[a] + 1];
		for (int b = a; b < nd; b++) {
			i = todo[b];
			if (i < 0 || !lmp_num_eq(&m->rw_own[2 * i + 1], w))
				continue;
			todo[b] = -1 - i;
			if (!redo[i])
				continue;
			if (!switched++) {
				own.vars[LMP_V_W_DTYPE_BYTES] = *w;
				lmp_prog_set_point(m->prog, &own);
			}
			mine = &m->rw_vals[(size_t)i * 2 * LMP_NKINDS + LMP_NKINDS];
			for (k = 0; k < LMP_NKINDS; k++)
				if (redo[i] >> k & 1 && lmp_poly_eval(m->prog, m->rows[i].poly[k], &mine[k], e)) {
					lmp_prog_set_point(m->prog, rt);
					return lmp_prefix(e, "%s: %s: ", m->rows[i].path, lmp_kind_name(k));
				}
		}
		if (switched)
			lmp_prog_set_point(m->prog, rt);
	}
	/* the rows and totals corrected, row by row */
	for (int a = 0; a < nd && !rc; a++) {
		i = -1 - todo[a];
		m->rw_done[i] = 1;
		at = &m->rw_vals[(size_t)i * 2 * LMP_NKINDS];
		mine = at + LMP_NKINDS;
		for (k = 0; k < LMP_NKINDS && !rc; k++) {
			if (!(m->rw_kinds[i] >> k & 1))
				continue;
			if (rows)
				rows[i * NV + k] = mine[k];
			if (k == LMP_K_PARAM_COUNT)
				continue;
			if (!(rc = lmp_num_sub(&mine[k], &at[k], &d)) && !(rc = lmp_num_mul(&m->rows[i].count, &d, &t)))
				rc = lmp_num_add(&tot[k], &t, &tot[k]);
		}
	}
	if (rc)
		return lmp_fail(e, LMP_EXIT_INPUT, "totals: per-layer weight widths: %s", lmp_num_strerror(rc));
	return 0;
}

/* gemm_eval's work where m, n, k and calls are whole numbers of 0 to
 * 2^62 and the FLOPs 2 m n k calls fit 63 bits, no more than the row's
 * exact whole FLOPs: 1 done (v set), 0 not (the lmp_num way decides,
 * with its errors). */
static int
gemm_ints(const lmp_num *g, const lmp_num *flops, lmp_num *v)
{
	int64_t x[LMP_NGEMM], mc, t;

	for (int k = 0; k < LMP_NGEMM; k++) {
		if (!g[k].exact || g[k].d != 1 || g[k].n < 0 || g[k].n >= ((lmp_i128)1 << 62))
			return 0;
		x[k] = (int64_t)g[k].n;
	}
	if (__builtin_mul_overflow(x[LMP_GEMM_M], x[LMP_GEMM_CALLS], &mc) || __builtin_mul_overflow(mc, x[LMP_GEMM_N], &t) ||
	    __builtin_mul_overflow(t, x[LMP_GEMM_K], &t) || __builtin_mul_overflow(t, (int64_t)2, &t) ||
	    !flops->exact || flops->d != 1 || (lmp_i128)t > flops->n)
		return 0;
	lmp_num_set_int(&v[V_GEMM_MC], mc);
	v[V_GEMM_N] = g[LMP_GEMM_N];
	v[V_GEMM_K] = g[LMP_GEMM_K];
	v[V_GEMM_CALLS] = g[LMP_GEMM_CALLS];
	return 1;
}

/* A row's gemm at the point set (rows, its NV slots): m x calls, n, k
 * and calls.  It may not declare more FLOPs than the row counts (its
 * entry's flops as evaluated here; a double may round by an ulp). */
static int
gemm_eval(lmp_model *m, const lmp_row *r, lmp_num *v, lmp_err *e)
{
	lmp_num g[LMP_NGEMM], t, two = lmp_num_int(2);
	int k, rc;

	if (!r->gemm[0]) {
		v[V_GEMM_MC] = v[V_GEMM_N] = v[V_GEMM_K] = v[V_GEMM_CALLS] = lmp_num_int(0);
		return 0;
	}
	for (k = 0; k < LMP_NGEMM; k++)
		if (lmp_poly_eval(m->prog, r->gemm[k], &g[k], e))
			return lmp_prefix(e, "%s: gemm.%s: ", r->path, lmp_gemm_names[k]);
	/* mostly whole numbers whose products fit 63 bits: the same values
	 * and checks in native integers */
	if (gemm_ints(g, &v[LMP_K_FLOPS], v))
		return 0;
	if ((rc = lmp_num_mul(&g[LMP_GEMM_M], &g[LMP_GEMM_CALLS], &v[V_GEMM_MC])) ||
	    (rc = lmp_num_mul(&v[V_GEMM_MC], &g[LMP_GEMM_N], &t)) || (rc = lmp_num_mul(&t, &g[LMP_GEMM_K], &t)) ||
	    (rc = lmp_num_mul(&t, &two, &t)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: gemm: %s", r->path, lmp_num_strerror(rc));
	for (k = 0; k < LMP_NGEMM; k++)
		if (lmp_num_sign(&g[k]) < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: gemm.%s is negative (entry %s)", r->path,
				lmp_gemm_names[k], r->entry->name);
	if (lmp_num_cmp(&t, &v[LMP_K_FLOPS]) > 0 && ((t.exact && v[LMP_K_FLOPS].exact) ||
		lmp_num_to_double(&t) > lmp_num_to_double(&v[LMP_K_FLOPS]) * (1 + 1e-9))) {
		char a[LMP_NUM_STRMAX], b[LMP_NUM_STRMAX];
		lmp_num_str(&t, a);
		lmp_num_str(&v[LMP_K_FLOPS], b);
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: gemm of %s FLOPs (2 m n k calls) exceeds the row's %s (entry %s)",
			r->path, a, b, r->entry->name);
	}
	v[V_GEMM_N] = g[LMP_GEMM_N];
	v[V_GEMM_K] = g[LMP_GEMM_K];
	v[V_GEMM_CALLS] = g[LMP_GEMM_CALLS];
	return 0;
}

/* An expert group of several replicas (ep > tp, lmp-eval(1) PARALLELISM)
 * routes their tokens to its experts: an expert's rows are evaluated at
 * batch_scale times the step's sequences, rows and totals corrected by
 * count x (scaled - unscaled). */
static int
scaled_rows(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_num *tot, lmp_err *e)
{
	lmp_runtime big = *rt;
	lmp_query *q = lmp_xmalloc(sizeof *q * (size_t)rt->nqueries);
	lmp_num *at = lmp_xmalloc(sizeof *at * (size_t)m->nrows * LMP_NKINDS), v, d, t;
	int i, k, rc = 0, scale = 1;

	for (i = 0; i < m->nrows; i++)
		if (m->rows[i].batch_scale)
			scale = m->rows[i].batch_scale;
	for (i = 0; i < rt->nqueries; i++) {
		q[i] = rt->queries[i];
		q[i].count *= scale;
	}
	big.queries = q;
	for (i = 0; i < m->nrows && !rc; i++)
		for (k = 0; k < LMP_NKINDS && m->rows[i].batch_scale && !rc; k++)
			rc = lmp_poly_eval(m->prog, m->rows[i].poly[k], &at[i * LMP_NKINDS + k], e);
	if (rc || lmp_runtime_compute(&big, e))
		goto out;
	lmp_prog_set_point(m->prog, &big);
	for (i = 0; i < m->nrows && !rc; i++) {
		const lmp_row *r = &m->rows[i];
		for (k = 0; k < LMP_NKINDS && r->batch_scale && !rc; k++) {
			if ((rc = lmp_poly_eval(m->prog, r->poly[k], &v, e)))
				break;
			if (rows)
				rows[i * NV + k] = v;
			if (k != LMP_K_PARAM_COUNT && (lmp_num_sub(&v, &at[i * LMP_NKINDS + k], &d) ||
				lmp_num_mul(&r->count, &d, &t) || lmp_num_add(&tot[k], &t, &tot[k])))
				rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: overflow", r->path);
		}
		/* its GEMMs see the group's tokens too */
		if (rows && r->batch_scale && !rc)
			rc = gemm_eval(m, r, &rows[i * NV], e);
	}
	lmp_prog_set_point(m->prog, rt);
out:
	free(q);
	free(at);
	return rc ? -1 : 0;
}

/* Rows a and b are bound to equal polynomials (lmp_poly_same), so they
 * evaluate equal at every point. */
static int
same_polys(const lmp_row *a, const lmp_row *b)
{
	for (int k = 0; k < LMP_NKINDS; k++)
		if (!lmp_poly_same(a->poly[k], b->poly[k]))
			return 0;
	for (int k = 0; k < LMP_NGEMM; k++)
		if (!lmp_poly_same(a->gemm[k], b->gemm[k]))
			return 0;
	return a->coll == b->coll && lmp_poly_same(a->coll_bytes, b->coll_bytes);
}

/* Each row's twin, found once per model: the first earlier row bound to
 * equal polynomials (q, k, v and o of one width, a layer's two norms), or
 * -1.  A point evaluates a twin's polynomials once and copies them. */
static const int *
twins(lmp_model *m)
{
	int i, j;

	if (m->twin && m->ntwin == m->nrows)
		return m->twin;
	free(m->twin);
	m->twin = lmp_xmalloc(sizeof *m->twin * (size_t)(m->nrows + 1));
	m->ntwin = m->nrows;
	for (i = 0; i < m->nrows; i++) {
		for (j = 0; j < i && (m->twin[j] >= 0 || !same_polys(&m->rows[j], &m->rows[i])); j++)
			;
		m->twin[i] = j < i ? j : -1;
	}
	return m->twin;
}

/* Consecutive evaluations mostly move a few runtime variables: a decode
 * phase's steps or a sweep's innermost list the cache alone, a sweep of
 * engine knobs none; the rows that read none of them (the projections and
 * norms, where only attention reads the cache) keep their polynomials'
 * values.  raw: every row's values (before the engine's passes) at the
 * point at (its variables) and atq (its queries, which a window's
 * aggregates read: LMP_READS_QUERIES); vars: each row's variables read;
 * masks: the distinct ones, with their rows; prev: the last point's
 * variables.  Kept only while it pays: a snapshot is taken where a
 * quarter of the rows read no variable that moved since the last point,
 * and dropped where fewer than a quarter keep their values; after 64
 * points where it did not pay, it is asked every 64th point only.
 * LMP_EVAL_NOKEEP evaluates every row (the tests' comparison). */
#define KEEP_MASKS 32
struct lmp_rowkeep {
	int off;
	unsigned *vars;
	int nmask;
	unsigned mask[KEEP_MASKS];
	int mrows[KEEP_MASKS];
	lmp_num at[LMP_NVARS], prev[LMP_NVARS];
	int has_prev, ready, natq, idle;
	lmp_query *atq;
	lmp_num *raw;
};

static struct lmp_rowkeep *
keep_of(lmp_model *m)
{
	struct lmp_rowkeep *k = m->keep;
	int i, q;

	if (k)
		return k->off ? NULL : k;
	k = m->keep = lmp_xcalloc(1, sizeof *k);
	if ((k->off = getenv("LMP_EVAL_NOKEEP") != NULL))
		return NULL;
	k->vars = lmp_xmalloc(sizeof *k->vars * (size_t)(m->nrows + 1));
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		k->vars[i] = lmp_poly_vars(m->prog, (const lmp_poly *const *)r->poly, LMP_NKINDS) |
			lmp_poly_vars(m->prog, (const lmp_poly *const *)r->gemm, LMP_NGEMM) |
			(r->coll ? lmp_poly_vars(m->prog, (const lmp_poly *const *)&r->coll_bytes, 1) : 0);
		for (q = 0; q < k->nmask && k->mask[q] != k->vars[i]; q++)
			;
		if (q == KEEP_MASKS) {
			k->off = 1; /* too many kinds of rows to count cheaply */
			return NULL;
		}
		if (q == k->nmask)
			k->mask[k->nmask++] = k->vars[i];
		k->mrows[q]++;
	}
	k->raw = lmp_xmalloc(sizeof *k->raw * (size_t)(m->nrows + 1) * NV);
	return k;
}

void
lmp_rowkeep_free(lmp_model *m)
{
	struct lmp_rowkeep *k = m->keep;

	if (k) {
		free(k->vars);
		free(k->atq);
		free(k->raw);
		free(k);
	}
	m->keep = NULL;
}

/* The variables (bits) that differ between a and the point rt. */
static unsigned
moved_from(const lmp_num *a, const lmp_runtime *rt)
{
	unsigned moved = 0;

	for (int v = 0; v < LMP_NVARS; v++) {
		const lmp_num *x = &a[v], *y = &rt->vars[v];
		/* exact numbers are kept in lowest terms: equal where n and d
		 * are (a variable is mostly a whole number) */
		if ((x->exact & y->exact) ? (x->n != y->n) | (x->d != y->d) : !lmp_num_eq(x, y))
			moved |= 1u << v;
	}
	return moved;
}

/* Rows that read none of the variables moved. */
static int
unmoved_rows(const struct lmp_rowkeep *k, unsigned moved)
{
	int n = 0;

	for (int q = 0; q < k->nmask; q++)
		if (!(k->mask[q] & moved))
			n += k->mrows[q];
	return n;
}

/* The rows' polynomials' values: a twin's copied, a row kept (above)
 * taken, else evaluated. */
static int
eval_rows(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_err *e)
{
	const int *twin;
	struct lmp_rowkeep *kp;
	unsigned moved = 0, since;
	int i, k, use = 0;

	if (!rows)
		return 0;
	twin = twins(m);
	if ((kp = keep_of(m)) && kp->idle >= 64 && (kp->idle++ & 63)) {
		kp = NULL; /* it has not paid lately: asked again every 64 points */
	} else if (kp) {
		since = kp->has_prev ? moved_from(kp->prev, rt) : ~0u;
		memcpy(kp->prev, rt->vars, sizeof kp->prev);
		kp->has_prev = 1;
		if (kp->ready) {
			moved = moved_from(kp->at, rt);
			if (rt->nqueries != kp->natq ||
			    (rt->nqueries && memcmp(rt->queries, kp->atq, sizeof *kp->atq * (size_t)rt->nqueries)))
				moved |= LMP_READS_QUERIES;
			use = 4 * unmoved_rows(kp, moved) >= m->nrows;
			kp->ready = use;
		} else if (4 * unmoved_rows(kp, since) < m->nrows) {
			if (kp->idle < 64)
				kp->idle++;
			kp = NULL; /* no snapshot here: it would not pay */
		}
		if (kp)
			kp->idle = 0;
	}
	for (i = 0; i < m->nrows; i++) {
		if (twin[i] >= 0 || (use && !(kp->vars[i] & moved))) {
			/* its polynomials' values (the gemm's check holds as it
			 * did for the twin); the weight bytes come later */
			const lmp_num *t = twin[i] >= 0 ? &rows[twin[i] * NV] : &kp->raw[i * NV];
			memcpy(&rows[i * NV], t, sizeof *rows * LMP_NKINDS);
			memcpy(&rows[i * NV + V_COLL], &t[V_COLL], sizeof *rows * (NV - V_COLL));
			continue;
		}
		for (k = 0; k < LMP_NKINDS; k++)
			if (lmp_poly_eval(m->prog, m->rows[i].poly[k], &rows[i * NV + k], e))
				return lmp_prefix(e, "%s: %s: ", m->rows[i].path, lmp_kind_name(k));
		rows[i * NV + V_COLL] = lmp_num_int(0);
		if (m->rows[i].coll && lmp_poly_eval(m->prog, m->rows[i].coll_bytes, &rows[i * NV + V_COLL], e))
			return lmp_prefix(e, "%s: bytes: ", m->rows[i].path);
		if (gemm_eval(m, &m->rows[i], &rows[i * NV], e))
			return -1;
	}
	if (kp && !kp->ready) {
		memcpy(kp->raw, rows, sizeof *rows * (size_t)m->nrows * NV);
		memcpy(kp->at, rt->vars, sizeof kp->at);
		kp->natq = rt->nqueries;
		kp->atq = lmp_xrealloc(kp->atq, sizeof *kp->atq * (size_t)(rt->nqueries + 1));
		if (rt->nqueries)
			memcpy(kp->atq, rt->queries, sizeof *kp->atq * (size_t)rt->nqueries);
		kp->ready = 1;
	}
	return 0;
}

/* Values at one point: per row (rows: nrows x NV, or NULL) and totals
 * (tot: NV + 1).  The rows are evaluated first, so an error names the row,
 * unless totals_first (a --totals document, whose rows are its kernels:
 * an error names the totals, as before it had kernels). */
static int
evaluate(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, lmp_num *tot, int totals_first, lmp_err *e)
{
	int k;

	lmp_prog_set_point(m->prog, rt);
	if (!totals_first && eval_rows(m, rt, rows, e))
		return -1;
	tot[V_COLL] = lmp_num_int(0);
	tot[V_GEMM_MC] = tot[V_GEMM_N] = tot[V_GEMM_K] = tot[V_GEMM_CALLS] = lmp_num_int(0);
	if (m->ncoll && lmp_poly_eval(m->prog, m->coll_total, &tot[V_COLL], e))
		return lmp_prefix(e, "totals: collective bytes: ");
	for (k = 0; k < LMP_NKINDS; k++)
		if (lmp_poly_eval(m->prog, m->total[k], &tot[k], e))
			return lmp_prefix(e, "totals: %s: ", lmp_kind_name(k));
	if (lmp_poly_eval(m->prog, m->active, &tot[V_ACTIVE], e))
		return lmp_prefix(e, "totals: active parameters: ");
	if (totals_first && eval_rows(m, rt, rows, e))
		return -1;
	if (rt->w_checkpoint && row_widths(m, rt, rows, tot, e))
		return -1;
	if (m->nscaled && scaled_rows(m, rt, rows, tot, e))
		return -1;
	if (rt->kv_block > 1 && lmp_engine_paged(m, rt, rows, NV, tot, e))
		return -1;
	if (rt->fusion && lmp_engine_fuse(m, rt, rows, NV, tot, e))
		return -1;
	if ((rt->attention == LMP_ATTN_FLASH || rt->attention == LMP_ATTN_PAGED) && lmp_attn_flash(m, rt, rows, NV, tot, e))
		return -1;
	return stored_weights(m, rt, rows, tot, e);
}

/* A collective row's kind, group, size and bytes: each device's buffer
 * per call, and what it puts on its link (collective.c). */
static void
collective_json(lmp_buf *b, const lmp_row *r, const lmp_num *bytes)
{
	lmp_num f, link;

	LIT(b, ",\"collective\":{\"kind\":");
	lmp_json_string(b, lmp_coll_name(r->coll));
	LIT(b, ",\"group\":");
	lmp_json_string(b, r->coll_group);
	LIT(b, ",\"size\":");
	lmp_buf_i128(b, r->coll_n);
	LIT(b, ",\"bytes\":");
	lmp_buf_num(b, bytes);
	if (!lmp_coll_link_factor(r->coll, r->coll_n, &f) && !lmp_num_mul(&f, bytes, &link)) {
		LIT(b, ",\"link_bytes\":");
		lmp_buf_num(b, &link);
	}
	lmp_buf_putc(b, '}');
}

/* A row's gemm: m is the tokens of one call, the m x calls summed over
 * the steps over the calls (0 where none runs). */
static void
gemm_json(lmp_buf *b, const lmp_num *v)
{
	lmp_num mm = lmp_num_int(0);

	if (!lmp_num_is_zero(&v[V_GEMM_CALLS]))
		lmp_num_div(&v[V_GEMM_MC], &v[V_GEMM_CALLS], &mm);
	LIT(b, ",\"gemm\":{\"m\":");
	lmp_buf_num(b, &mm);
	LIT(b, ",\"n\":");
	lmp_buf_num(b, &v[V_GEMM_N]);
	LIT(b, ",\"k\":");
	lmp_buf_num(b, &v[V_GEMM_K]);
	LIT(b, ",\"calls\":");
	lmp_buf_num(b, &v[V_GEMM_CALLS]);
	lmp_buf_putc(b, '}');
}

/* A decode row's per_step (decpieces.c): its FLOPs and bytes per step,
 * where its GEMM shape is the same at every step (a collective row is
 * timed on its bytes alone). */
static const int step_cs[] = {LMP_K_FLOPS, LMP_K_READS, LMP_K_WRITES, LMP_K_INTERMEDIATES};

static int
has_per_step(const lmp_row *r, int i, const lmp_dpieces *ps)
{
	return ps && ps->n && !r->coll && lmp_dpieces_const(ps, i * NV + V_GEMM_MC) &&
		lmp_dpieces_const(ps, i * NV + V_GEMM_CALLS);
}

static void
per_step_json(lmp_buf *b, const lmp_row *r, int i, const lmp_dpieces *ps)
{
	static const char *const names[] = {"flops", "reads", "writes", "intermediates"};

	if (has_per_step(r, i, ps))
		lmp_dpieces_json(b, ps, i * NV, step_cs, names, 4);
}

/* The rows; with ends, each row's closing brace's place from start (the
 * fused sweep splices the row's times in before it). */
static void
rows_json(lmp_buf *b, lmp_model *m, const lmp_num *v, int formats, const lmp_dpieces *ps, size_t *ends,
	size_t start)
{
	int i;

	/* each row's start (path, class, count, tied) is the same at every
	 * point: written once, then copied */
	if (!m->row_head_at) {
		lmp_buf *t = &m->row_heads;
		m->row_head_at = lmp_xmalloc(sizeof *m->row_head_at * (size_t)(m->nrows + 1));
		for (i = 0; i < m->nrows; i++) {
			const lmp_row *r = &m->rows[i];
			m->row_head_at[i] = t->len;
			LIT(t, "{\"path\":");
			lmp_json_string(t, r->path);
			LIT(t, ",\"class\":");
			lmp_json_string(t, r->cls);
			LIT(t, ",\"count\":");
			lmp_buf_num(t, &r->count);
			if (r->tied) {
				LIT(t, ",\"tied\":");
				lmp_json_string(t, r->tied);
			}
			lmp_buf_putc(t, ',');
		}
		m->row_head_at[m->nrows] = t->len;
	}
	LIT(b, "\"rows\":[");
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		if (i)
			lmp_buf_putc(b, ',');
		lmp_buf_add(b, m->row_heads.s + m->row_head_at[i], m->row_head_at[i + 1] - m->row_head_at[i]);
		quantities(b, &v[i * NV], NULL, 0);
		if (formats && !lmp_num_is_zero(&v[i * NV + LMP_K_PARAM_COUNT]))
			format_json(b, m, r, &v[i * NV]);
		if (r->gemm[0])
			gemm_json(b, &v[i * NV]);
		if (r->coll)
			collective_json(b, r, &v[i * NV + V_COLL]);
		per_step_json(b, r, i, ps);
		if (ends)
			ends[i] = b->len - start;
		lmp_buf_putc(b, '}');
	}
	lmp_buf_putc(b, ']');
}

/* A row's weight_format.compute as format_json writes it, or NULL where
 * the row has no format (the document's precision). */
static const char *
row_compute(const lmp_model *m, const lmp_row *r, const lmp_num *v, int formats)
{
	if (!formats || lmp_num_is_zero(&v[LMP_K_PARAM_COUNT]))
		return NULL;
	if (!m->quant || lmp_quant_covers(m->quant, r))
		return "activation";
	return lmp_quant_compute_name(lmp_quant_compute(m->quant));
}

/* How rows i and j differ to the time model, in the fields lmp-roofline
 * times a row by (timed.c): KD_SAME, KD_FIXED where no point can change
 * it (a gemm or none, the collective), the index in kd_nums of the first
 * number that differs (most pairs differ there, and cheaply), or KD_OTHER
 * (the weight format's compute, which looks up the quantization, or the
 * per_step pieces). */
enum { KD_OTHER = KD_NNUMS, KD_FIXED, KD_SAME };

static int
kernel_diff(const lmp_model *m, const lmp_num *v, int i, int j, int formats, const lmp_dpieces *ps)
{
	const lmp_row *a = &m->rows[i], *b = &m->rows[j];
	const lmp_num *x = &v[i * NV], *y = &v[j * NV];
	const char *ca, *cb;

	if (!a->gemm[0] != !b->gemm[0] || a->coll != b->coll ||
	    (a->coll && (a->coll_n != b->coll_n || strcmp(a->coll_group, b->coll_group))))
		return KD_FIXED;
	/* unrolled, each number at a constant offset: the fold compares a
	 * kernel's rows this way at every point */
#pragma GCC unroll 9
	for (int n = 0; n < KD_NNUMS; n++)
		if (!lmp_num_eq(&x[kd_nums[n]], &y[kd_nums[n]]))
			return n;
	/* the names are mostly the same string */
	ca = row_compute(m, a, x, formats);
	cb = row_compute(m, b, y, formats);
	if (ca != cb && (!ca || !cb || strcmp(ca, cb)))
		return KD_OTHER;
	/* a decode row's per_step too: every piece's every component */
	for (int c = 0; ps && c < NV; c++)
		if (!lmp_dpieces_same(ps, i * NV + c, j * NV + c))
			return KD_OTHER;
	return KD_SAME;
}

/* The last point's partition of the rows into kernels still holds: each
 * row equals its kernel's first row and no two first rows are equal (a
 * sweep's points mostly fold the same way, and checking that costs less
 * than comparing each row with every kernel so far).  Two first rows are
 * told apart first by what did it at the last point (m->kwit). */
static int
fold_holds(lmp_model *m, const lmp_num *v, int formats, const lmp_dpieces *ps)
{
	unsigned char *w = m->kwit;
	const lmp_num *x, *y;
	int i, j, a, b, c;

	if (!m->kfold_set || m->kfold_formats != formats || m->kfold_pieces != (ps != NULL))
		return 0;
	for (i = 0; i < m->nrows; i++)
		if (m->krep[m->kgrp[i]] != i && kernel_diff(m, v, m->krep[m->kgrp[i]], i, formats, ps) != KD_SAME)
			return 0;
	/* kernels j < i, their pair at i (i - 1) / 2 + j */
	for (i = 1; i < m->nkern; i++) {
		b = m->krep[i];
		y = &v[b * NV];
		for (j = 0; j < i; j++, w++) {
			if (*w == KD_FIXED)
				continue;
			a = m->krep[j];
			x = &v[a * NV];
			if (*w < KD_NNUMS && (c = kd_nums[*w], !lmp_num_eq(&x[c], &y[c])))
				continue;
			if ((*w = (unsigned char)kernel_diff(m, v, a, b, formats, ps)) == KD_SAME)
				return 0;
		}
	}
	return 1;
}

/* The rows folded into kernels at this point (m->kgrp, krep, kcount, and
 * kwit: how each pair of kernels differs). */
static int
fold(lmp_model *m, const lmp_num *v, int formats, const lmp_dpieces *ps, lmp_err *e)
{
	int i, j, nk = 0, rc, d = KD_SAME;

	if (fold_holds(m, v, formats, ps))
		return 0;
	if (!m->kgrp) {
		m->kgrp = lmp_xmalloc(sizeof *m->kgrp * (size_t)(m->nrows + 1));
		m->krep = lmp_xmalloc(sizeof *m->krep * (size_t)(m->nrows + 1));
		m->kcount = lmp_xmalloc(sizeof *m->kcount * (size_t)(m->nrows + 1));
		m->kwit = lmp_xmalloc((size_t)m->nrows * (size_t)(m->nrows + 1) / 2 + 1);
	}
	m->kfold_set = 0;
	for (i = 0; i < m->nrows; i++) {
		/* a new kernel's differences from those before it are kept */
		for (j = 0; j < nk && (d = kernel_diff(m, v, m->krep[j], i, formats, ps)) != KD_SAME; j++)
			m->kwit[nk * (nk - 1) / 2 + j] = (unsigned char)d;
		if (j == nk) {
			m->krep[nk++] = i;
			m->kcount[j] = lmp_num_int(0);
		}
		m->kgrp[i] = j;
		if ((rc = lmp_num_add(&m->kcount[j], &m->rows[i].count, &m->kcount[j])))
			return lmp_fail(e, LMP_EXIT_INPUT, "kernels: count: %s", lmp_num_strerror(rc));
	}
	m->nkern = nk;
	m->kfold_formats = formats;
	m->kfold_pieces = ps != NULL;
	m->kfold_set = 1;
	return 0;
}

/* A --totals document's "kernels" (lmp-eval(1)): the distinct kernels of
 * the rows, in the order each first appears, with what lmp-roofline times
 * a row by (flops, bytes read, written and intermediate, gemm, the weight
 * format's compute, the collective) and count the equal rows' counts
 * summed, so it times them as it times the rows, to the bit. */
static void
kernels_text(lmp_buf *b, const lmp_model *m, const lmp_num *v, const lmp_num *kv, int formats, const lmp_dpieces *ps)
{
	int j;

	LIT(b, "\"kernels\":[");
	for (j = 0; j < m->nkern; j++) {
		const lmp_row *r = &m->rows[m->krep[j]];
		const lmp_num *x = kv ? &kv[j * NV] : &v[m->krep[j] * NV];
		const char *c = row_compute(m, r, x, formats);
		if (j)
			lmp_buf_putc(b, ',');
		LIT(b, "{\"count\":");
		lmp_buf_num(b, &m->kcount[j]);
		if (r->coll) {
			collective_json(b, r, &x[V_COLL]);
		} else {
			LIT(b, ",\"flops\":");
			lmp_buf_num(b, &x[LMP_K_FLOPS]);
			LIT(b, ",\"bytes\":{\"reads\":");
			lmp_buf_num(b, &x[LMP_K_READS]);
			LIT(b, ",\"writes\":");
			lmp_buf_num(b, &x[LMP_K_WRITES]);
			LIT(b, ",\"intermediates\":");
			lmp_buf_num(b, &x[LMP_K_INTERMEDIATES]);
			lmp_buf_putc(b, '}');
			if (r->gemm[0])
				gemm_json(b, x);
			if (c) {
				LIT(b, ",\"weight_format\":{\"compute\":");
				lmp_json_string(b, c);
				lmp_buf_putc(b, '}');
			}
			per_step_json(b, r, m->krep[j], ps);
		}
		lmp_buf_putc(b, '}');
	}
	lmp_buf_putc(b, ']');
}

/* The kernels (the point's fold; kernel j's values at kv + j NV where
 * given, else at its first row's in v). */
static int
kernels_json(lmp_buf *b, lmp_model *m, const lmp_num *v, int formats, const lmp_dpieces *ps, lmp_err *e)
{
	if (fold(m, v, formats, ps, e))
		return -1;
	kernels_text(b, m, v, NULL, formats, ps);
	return 0;
}

/* How the state (the KV cache) grows with the context, for a uniform batch
 * of the point's batch size and widths: every layer's state is fixed +
 * per_token x min(context, max_tokens), max_tokens unbounded for full
 * attention and window - 1 for a sliding-window or chunked layer.  Each row
 * is evaluated at three contexts and its shape checked at two more: exact,
 * and cheap (the rows with state are a few; the result is kept for the
 * next point of the same batch and widths).  A decode step's activations
 * (each row's writes, and writes + intermediates) are described the same
 * way, for lmp-roofline's longest context. */
#define GROW_FAR ((int64_t)1 << 40)
#define GROW_MAXWIN 64

struct growth {
	lmp_num fixed, per_token;
	int nwin;
	lmp_num win_max[GROW_MAXWIN], win_per_token[GROW_MAXWIN];
};

/* The sum of a row's quantities of the kinds in mask at a context of c
 * tokens per sequence: seq new tokens over c - seq cached. */
static int
value_at(lmp_model *m, const lmp_row *r, int mask, lmp_runtime *rt, int64_t seq, int64_t c, lmp_num *out, lmp_err *e)
{
	lmp_num v;
	int k;

	rt->queries[0].seq_len = seq;
	rt->queries[0].cache_len = c - seq;
	if (lmp_runtime_compute(rt, e))
		return -1;
	lmp_prog_set_point(m->prog, rt);
	*out = lmp_num_int(0);
	for (k = 0; k < LMP_NKINDS; k++)
		if (mask & 1 << k) {
			if (lmp_poly_eval(m->prog, r->poly[k], &v, e))
				return lmp_prefix(e, "%s: %s: ", r->path, lmp_kind_name(k));
			if (lmp_num_add(out, &v, out))
				return lmp_fail(e, LMP_EXIT_INPUT, "%s: overflow", r->path);
		}
	return 0;
}

/* One row's quantity as fixed + k x min(context, max) for contexts from
 * seq on: 1 if it has that shape (max 0 for unbounded), 0 if not.  A
 * context far past the point may overflow what the point does not: that
 * too is "not that shape", never an error of the point. */
static int
row_growth(lmp_model *m, const lmp_row *r, int mask, lmp_runtime *rt, int64_t seq, lmp_num *fixed, lmp_num *k,
	lmp_num *max)
{
	lmp_num s1, s2, sf, far = lmp_num_int(GROW_FAR), lo = lmp_num_int(seq + 1), c0 = lmp_num_int(seq), t, u;
	lmp_err ignore, *e = &ignore;


	if (value_at(m, r, mask, rt, seq, seq, &s1, e) || value_at(m, r, mask, rt, seq, seq + 1, &s2, e) ||
	    value_at(m, r, mask, rt, seq, GROW_FAR, &sf, e))
		return 0;
	if (!s1.exact || !s2.exact || !sf.exact || lmp_num_sub(&s2, &s1, k) || lmp_num_sign(k) < 0 ||
	    lmp_num_mul(k, &c0, &t) || lmp_num_sub(&s1, &t, fixed) || lmp_num_mul(k, &far, &t) || lmp_num_add(fixed, &t, &t))
		return 0;
	*max = lmp_num_int(0);
	if (lmp_num_eq(&t, &sf))
		return 1;
	/* Bounded: it stops growing at max, where fixed + k x max = s(far). */
	if (lmp_num_is_zero(k) || lmp_num_sub(&sf, fixed, &t) || lmp_num_div(&t, k, max) || !lmp_num_is_int(max) ||
	    lmp_num_cmp(max, &lo) < 0 || lmp_num_cmp(max, &far) >= 0)
		return 0;
	if (value_at(m, r, mask, rt, seq, (int64_t)max->n, &t, e) || value_at(m, r, mask, rt, seq, (int64_t)max->n + 1, &u, e))
		return 0;
	return lmp_num_eq(&t, &sf) && lmp_num_eq(&u, &sf);
}

/* Adds count x k to the window of this max (kept sorted by max). */
static int
add_window(struct growth *g, const lmp_num *max, const lmp_num *ck)
{
	int i, j;

	for (i = 0; i < g->nwin && lmp_num_cmp(&g->win_max[i], max) < 0; i++)
		;
	if (i < g->nwin && lmp_num_eq(&g->win_max[i], max))
		return lmp_num_add(&g->win_per_token[i], ck, &g->win_per_token[i]);
	if (g->nwin == GROW_MAXWIN)
		return -1;
	for (j = g->nwin++; j > i; j--) {
		g->win_max[j] = g->win_max[j - 1];
		g->win_per_token[j] = g->win_per_token[j - 1];
	}
	g->win_max[i] = *max;
	g->win_per_token[i] = *ck;
	return 0;
}

/* A row with a quantity that is zero at every point. */
static int
always_zero(lmp_model *m, const lmp_row *r, int mask, lmp_runtime *rt, lmp_err *e)
{
	lmp_num v;

	for (int k = 0; k < LMP_NKINDS; k++)
		if (mask & 1 << k && !lmp_poly_is_const(r->poly[k]))
			return 0;
	return value_at(m, r, mask, rt, 1, 1, &v, e) ? -1 : lmp_num_is_zero(&v);
}

/* 1 with g filled, 0 when some row's state has another shape, -1 on error. */
static int
state_growth(lmp_model *m, lmp_runtime *rt, struct growth *g, lmp_err *e)
{
	lmp_num f, k, max, t;
	int i, rc;

	g->fixed = g->per_token = lmp_num_int(0);
	g->nwin = 0;
	for (i = 0; i < m->nrows; i++) {
		const lmp_row *r = &m->rows[i];
		if ((rc = always_zero(m, r, 1 << LMP_K_STATE, rt, e)))
			continue;
		if (rc < 0 || (rc = row_growth(m, r, 1 << LMP_K_STATE, rt, 1, &f, &k, &max)) <= 0)
			return rc;
		if (lmp_num_mul(&r->count, &f, &f) || lmp_num_add(&g->fixed, &f, &g->fixed) ||
		    lmp_num_mul(&r->count, &k, &t))
			return 0;
		if (lmp_num_is_zero(&t))
			continue;
		if (lmp_num_is_zero(&max) ? lmp_num_add(&g->per_token, &t, &g->per_token) : add_window(g, &max, &t))
			return 0;
	}
	return 1;
}

static void
curve_json(lmp_buf *b, const lmp_num *f, const lmp_num *k, const lmp_num *max)
{
	LIT(b, "{\"fixed\":");
	lmp_buf_num(b, f);
	LIT(b, ",\"per_token\":");
	lmp_buf_num(b, k);
	LIT(b, ",\"max_tokens\":");
	if (lmp_num_is_zero(max))
		LIT(b, "null");
	else
		lmp_buf_num(b, max);
	lmp_buf_putc(b, '}');
}

/* The activation curves of the rows, per instance (a kernel's output does
 * not add up over layers: the largest one counts): those that grow, once
 * each, and the largest constant one.  1 written, 0 when a row has another
 * shape. */
static int
activation_growth(lmp_model *m, int mask, lmp_runtime *rt, int64_t seq, lmp_buf *b)
{
	lmp_num f, k, max, top = lmp_num_int(0), zero = lmp_num_int(0);
	lmp_buf seen = {0};
	int i, rc = 1;

	lmp_buf_putc(b, '[');
	for (i = 0; i < m->nrows && rc > 0; i++) {
		lmp_buf one = {0};
		if ((rc = row_growth(m, &m->rows[i], mask, rt, seq, &f, &k, &max)) <= 0)
			break;
		if (lmp_num_is_zero(&k)) {
			if (lmp_num_cmp(&f, &top) > 0)
				top = f;
			continue;
		}
		curve_json(&one, &f, &k, &max);
		lmp_buf_putc(&one, '\n');
		if (!seen.s || !strstr(seen.s, one.s)) {
			lmp_buf_add(b, one.s, one.len - 1);
			lmp_buf_putc(b, ',');
			lmp_buf_puts(&seen, one.s);
		}
		lmp_buf_free(&one);
	}
	curve_json(b, &top, &zero, &zero);
	lmp_buf_putc(b, ']');
	lmp_buf_free(&seen);
	return rc;
}

/* The totals' growth members for this batch and these widths (and, for a
 * decode step, its new tokens: act_seq, else 0), "" where a layer has
 * another shape, NULL on error; kept in the model for the next point. */
static const char *
growth_json(lmp_model *m, int64_t batch, int64_t act_seq, const lmp_runtime *at, lmp_err *e)
{
	/* every runtime field the growth reads (rt below) is in the key */
	int64_t key[9] = {batch, at->w_bit, at->a_bit, at->kv_bit, act_seq, at->kv_layout, at->attention, at->flash_arch,
		at->flash_sms};
	lmp_query q = {1, 0, batch};
	lmp_runtime rt;
	struct growth g;
	lmp_buf b = {0};
	size_t mark;
	int rc;

	/* (the runtime, a kilobyte, is made only where the key is new) */
	if (m->growth_set && !memcmp(key, m->growth_key, sizeof key))
		return m->growth ? m->growth : "";
	rt = (lmp_runtime){.nqueries = 1, .queries = &q, .w_bit = at->w_bit, .a_bit = at->a_bit, .kv_bit = at->kv_bit,
		.kv_layout = at->kv_layout, .attention = at->attention, .flash_arch = at->flash_arch,
		.flash_sms = at->flash_sms};
	if ((rc = state_growth(m, &rt, &g, e)) < 0)
		return lmp_prefix(e, "state growth: "), NULL;
	if (rc) {
		LIT(&b, ",\"state_growth\":{\"fixed\":");
		lmp_buf_num(&b, &g.fixed);
		LIT(&b, ",\"per_token\":");
		lmp_buf_num(&b, &g.per_token);
		LIT(&b, ",\"windows\":[");
		for (int i = 0; i < g.nwin; i++) {
			LIT(&b, "{\"max_tokens\":");
			lmp_buf_num(&b, &g.win_max[i]);
			LIT(&b, ",\"per_token\":");
			lmp_buf_num(&b, &g.win_per_token[i]);
			lmp_buf_puts(&b, i + 1 < g.nwin ? "}," : "}");
		}
		LIT(&b, "]}");
	}
	if (act_seq) {
		mark = b.len;
		LIT(&b, ",\"activation_growth\":{\"writes\":");
		if ((rc = activation_growth(m, 1 << LMP_K_WRITES, &rt, act_seq, &b)) > 0) {
			LIT(&b, ",\"with_intermediates\":");
			rc = activation_growth(m, 1 << LMP_K_WRITES | 1 << LMP_K_INTERMEDIATES, &rt, act_seq, &b);
		}
		if (rc)
			lmp_buf_putc(&b, '}');
		else
			b.len = mark;
	}
	free(m->growth);
	m->growth = b.len ? b.s : (free(b.s), NULL);
	if (m->growth)
		m->growth[b.len] = '\0';
	memcpy(m->growth_key, key, sizeof key);
	m->growth_set = 1;
	return m->growth ? m->growth : "";
}

/* A context past the model's position limit: an error where positions
 * index a table (GPT-2's learned embeddings), else counted and marked
 * (rotary positions are computed for any index; quality is not
 * promised past the limit).  1 past the limit, 0 within it, -1 refused. */
static int
past_limit(lmp_model *m, int64_t context, const char *what, lmp_err *e)
{
	if (!m->pos_limit || context <= m->pos_limit)
		return 0;
	if (m->pos_table)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s = %lld is past the model's table of %lld positions",
			what, (long long)context, (long long)m->pos_limit);
	m->past_limit++;
	return 1;
}

/* The runtime object just written (ending in '}') gains the mark. */
static void
mark_past(lmp_buf *b)
{
	b->len--;
	LIT(b, ",\"past_position_limit\":true}");
}

/* The runtime object of a document --fields prunes (the fused sweep's):
 * into b what the paths name of it, and the whole object (lmp_runtime_json)
 * into m->rt_whole with its settings' span in m->rt_span, which the time
 * model reads the settings from.  It reads them only where they are new
 * (lmp_roofline_point), so the whole object is written only then (and each
 * time where a path keeps it whole): within one settings the time model
 * has its per-point numbers as numbers.  batch_size is written whatever
 * the paths name, being first (the others start with their comma); the
 * settings' text is pruned once per settings.  0 where the whole object
 * went into b (a path keeps it whole), 1 where b's is pruned, -1 error. */
#define WANT(k) (named && lmp_fields_sub(want, k, strlen(k), NULL))
static int
runtime_pruned(lmp_model *m, const lmp_runtime *rt, int past, lmp_buf *b, lmp_err *e)
{
	const lmp_runopt *ro = lmp_runopts;
	const lmp_fields_node *want = NULL;
	lmp_buf *t = &m->rt_whole, *pr = &m->rt_set_pruned;
	int named = lmp_fields_sub(lmp_fields_top(m->hook_fields), "runtime", 7, &want), fresh;

	settings_json(NULL, rt);
	fresh = !t->s || m->rt_gen != settings.gen;
	if (fresh || (named && !want)) {
		t->len = 0;
		runtime_json(rt, t, m->rt_span);
		if (past)
			mark_past(t);
		m->rt_gen = settings.gen;
	}
	if (named && !want) {
		lmp_buf_add(b, t->s, t->len);
		return 0;
	}
	if (fresh || !pr->s) {
		/* the settings pruned: {...} as members after others: ,... (or nothing) */
		const char *from = t->s + m->rt_span[0], *to = t->s + m->rt_span[1];
		lmp_buf obj = {0};
		pr->len = 0;
		lmp_buf_putc(&obj, '{');
		lmp_buf_add(&obj, from + 1, (size_t)(to - from - 1));
		lmp_buf_putc(&obj, '}');
		if (named && lmp_fields_project_node(want, obj.s, obj.len, pr, e)) {
			lmp_buf_free(&obj);
			m->rt_gen = 0;
			return -1;
		}
		lmp_buf_free(&obj);
		if (pr->len > 2) {
			pr->s[0] = ',';
			pr->len--;
		} else {
			pr->len = 0;
		}
		lmp_buf_add(pr, "", 0);
	}
	LIT(b, "{\"batch_size\":");
	lmp_buf_i128(b, rt->vars[LMP_V_BATCH_SIZE].n);
	if (WANT(ro[LMP_RO_SEQ_LEN].json)) {
		key(b, ro[LMP_RO_SEQ_LEN].json);
		lmp_buf_i128(b, rt->queries[0].seq_len);
	}
	if (WANT(ro[LMP_RO_CACHE_LEN].json)) {
		key(b, ro[LMP_RO_CACHE_LEN].json);
		lmp_buf_i128(b, rt->queries[0].cache_len);
	}
	lmp_buf_add(b, pr->s, pr->len);
	aggregates(b, rt, want, !named);
	if (rt->extra)
		lmp_buf_puts(b, rt->extra);
	if (past && WANT("past_position_limit"))
		LIT(b, ",\"past_position_limit\":true");
	lmp_buf_putc(b, '}');
	return 1;
}
#undef WANT

/* Sums over the stages of a pipeline (parallel.c): one device of each
 * stage holds its rows' parameters, weights and state and does their
 * FLOPs; work from rows (a step, or a prefill) plus more (the decode
 * phase, whose state is the one at the end), or NULL. */
/* a += c x v (lmp_num_mul and lmp_num_add take whole 64-bit numbers
 * inline). */
static inline int
add_product(lmp_num *a, const lmp_num *c, const lmp_num *v)
{
	lmp_num t;
	int rc;

	if ((rc = lmp_num_mul(c, v, &t)))
		return rc;
	return lmp_num_add(a, &t, a);
}

/* Each row's instances in each pipeline stage (m->stage_count, stage by
 * stage, zero for a collective), and the stages' first layers: the model's
 * and the layout's, the same at every point, so worked out once. */
static int
stage_counts(lmp_model *m, lmp_err *e)
{
	int64_t layers = 0;
	int rc = 0;

	if (m->stage_count)
		return 0;
	for (int k = 0; k < m->nlists; k++)
		layers += m->list_len[k];
	m->stage_first = lmp_xmalloc(sizeof *m->stage_first * (size_t)(m->pp + 1));
	lmp_pp_stages(layers, m->pp, m->stage_first);
	m->stage_count = lmp_xmalloc(sizeof *m->stage_count * (size_t)m->nrows * (size_t)m->pp + 1);
	for (int s = 0; s < m->pp && !rc; s++)
		for (int i = 0; i < m->nrows && !rc; i++) {
			lmp_num *c = &m->stage_count[(size_t)s * (size_t)m->nrows + (size_t)i];
			*c = lmp_num_int(0);
			if (!m->rows[i].coll)
				rc = lmp_row_stage_count(m, &m->rows[i], m->stage_first, s, c);
		}
	if (rc) {
		free(m->stage_count);
		free(m->stage_first);
		m->stage_count = NULL;
		m->stage_first = NULL;
		return lmp_fail(e, LMP_EXIT_INPUT, "stage sums: %s", lmp_num_strerror(rc));
	}
	return 0;
}

static const int stage_kinds[NS] = {LMP_K_PARAM_COUNT, V_WEIGHT_BYTES, LMP_K_STATE, LMP_K_FLOPS};

/* v as a whole 64-bit number in *x, else 0 */
static inline int
whole64(const lmp_num *v, int64_t *x)
{
	if (!lmp_num_is_i64(v))
		return 0;
	*x = (int64_t)v->n;
	return 1;
}

/* acc += c x (v's whole 64-bit value): 0 where v is not one or the sum
 * passes 2^63 */
static inline int
add64(int64_t *acc, int64_t c, const lmp_num *v)
{
	int64_t x;

	return whole64(v, &x) && !__builtin_mul_overflow(c, x, &x) && !__builtin_add_overflow(*acc, x, acc);
}

/* stage_sums in 64-bit integers, where every count and value is whole and
 * no product or sum passes 2^63 (nearly always): the same sums, without an
 * lmp_num operation per row and kind.  0 where it does not apply. */
static int
stage_sums64(const lmp_model *m, const lmp_num *rows, const lmp_num *more, int s, lmp_num *out)
{
	const lmp_num *count = &m->stage_count[(size_t)s * (size_t)m->nrows];
	int64_t acc[NS] = {0}, c, f, g;

	for (int i = 0; i < m->nrows; i++) {
		const lmp_num *x = &rows[i * NV], *y = more ? &more[i * NV] : x;
		if (m->rows[i].coll || (count[i].exact && count[i].n == 0))
			continue;
		if (!whole64(&count[i], &c))
			return 0;
		if (!m->rows[i].tied &&
		    (!add64(&acc[S_PARAMS], c, &y[stage_kinds[S_PARAMS]]) || !add64(&acc[S_WEIGHTS], c, &y[stage_kinds[S_WEIGHTS]])))
			return 0;
		if (!add64(&acc[S_STATE], c, &y[stage_kinds[S_STATE]]))
			return 0;
		/* the flops of rows and more together */
		if (!whole64(&x[stage_kinds[S_FLOPS]], &f) ||
		    (more && (!whole64(&more[i * NV + stage_kinds[S_FLOPS]], &g) || __builtin_add_overflow(f, g, &f))) ||
		    __builtin_mul_overflow(c, f, &f) || __builtin_add_overflow(acc[S_FLOPS], f, &acc[S_FLOPS]))
			return 0;
	}
	for (int k = 0; k < NS; k++)
		lmp_num_set_int(&out[k], acc[k]);
	return 1;
}

static int
stage_sums(const lmp_model *m, const lmp_num *rows, const lmp_num *more, int s, lmp_num *out, lmp_err *e)
{
	const lmp_num *count = &m->stage_count[(size_t)s * (size_t)m->nrows];
	lmp_num v;
	int i, k, rc = 0;

	if (stage_sums64(m, rows, more, s, out))
		return 0;
	for (k = 0; k < NS; k++)
		out[k] = lmp_num_int(0);
	for (i = 0; i < m->nrows && !rc; i++) {
		const lmp_row *r = &m->rows[i];
		const lmp_num *c = &count[i];
		if (r->coll || lmp_num_is_zero(c))
			continue;
		for (k = 0; k < NS && !rc; k++) {
			const lmp_num *src = more && k != S_FLOPS ? more : rows;
			if (r->tied && (k == S_PARAMS || k == S_WEIGHTS))
				continue;
			if (more && k == S_FLOPS) {
				if (!(rc = lmp_num_add(&rows[i * NV + stage_kinds[k]], &more[i * NV + stage_kinds[k]], &v)))
					rc = add_product(&out[k], c, &v);
			} else {
				rc = add_product(&out[k], c, &src[i * NV + stage_kinds[k]]);
			}
		}
	}
	return rc ? lmp_fail(e, LMP_EXIT_INPUT, "stage sums: %s", lmp_num_strerror(rc)) : 0;
}

static void
sums_json(lmp_buf *b, const lmp_num *v)
{
	LIT(b, "\"param_count\":");
	lmp_buf_num(b, &v[S_PARAMS]);
	LIT(b, ",\"weight_bytes\":");
	lmp_buf_num(b, &v[S_WEIGHTS]);
	LIT(b, ",\"state_bytes\":");
	lmp_buf_num(b, &v[S_STATE]);
	LIT(b, ",\"flops\":");
	lmp_buf_num(b, &v[S_FLOPS]);
}

/* Each pipeline stage's sums (stage_sums), stage by stage (m->pp x NS,
 * in m->pt_par): what "parallel" is written from.  NULL on an error. */
static const lmp_num *
par_sums(lmp_model *m, const lmp_num *rows, const lmp_num *more, lmp_err *e)
{
	if (stage_counts(m, e))
		return NULL;
	if (!m->pt_par)
		m->pt_par = lmp_xmalloc(sizeof *m->pt_par * (size_t)(m->pp * NS + 1));
	for (int s = 0; s < m->pp; s++)
		if (stage_sums(m, rows, more, s, &m->pt_par[s * NS], e))
			return NULL;
	return m->pt_par;
}

/* "parallel" from the stages' sums st (par_sums): the layout, each
 * pipeline stage's device, the device that holds the most (what must
 * fit; into dev where not NULL) and every device of the layout summed
 * (tp x dp devices per stage, replicas included). */
static int
parallel_json(lmp_buf *b, lmp_model *m, const lmp_num *stages, lmp_num *dev, lmp_err *e)
{
	const int64_t *first = m->stage_first;
	lmp_num all[NS], best[NS], per = lmp_num_int((lmp_i128)m->tp * m->dp), t, u;
	int s, k, top = 0, rc = 0;
	size_t at, top_at = 0, top_len = 0; /* the top stage's sums' text in b */

	for (k = 0; k < NS; k++)
		all[k] = best[k] = lmp_num_int(0);
	LIT(b, ",\"parallel\":{\"tp\":");
	lmp_buf_i128(b, m->tp);
	LIT(b, ",\"pp\":");
	lmp_buf_i128(b, m->pp);
	LIT(b, ",\"ep\":");
	lmp_buf_i128(b, m->ep);
	LIT(b, ",\"dp\":");
	lmp_buf_i128(b, m->dp);
	LIT(b, ",\"devices\":");
	lmp_buf_i128(b, (lmp_i128)m->tp * m->pp * m->dp);
	LIT(b, ",\"stages\":[");
	for (s = 0; s < m->pp && !rc; s++) {
		const lmp_num *st = &stages[s * NS];
		LIT(b, "{\"layers\":[");
		lmp_buf_i128(b, first[s]);
		lmp_buf_putc(b, ',');
		lmp_buf_i128(b, first[s + 1] - 1);
		LIT(b, "],");
		at = b->len;
		sums_json(b, st);
		lmp_num_add(&st[S_WEIGHTS], &st[S_STATE], &t);
		lmp_num_add(&best[S_WEIGHTS], &best[S_STATE], &u);
		if (s == 0 || lmp_num_cmp(&t, &u) > 0) {
			memcpy(best, st, sizeof best);
			top = s;
			top_at = at;
			top_len = b->len - at;
		}
		lmp_buf_puts(b, s + 1 < m->pp ? "}," : "}");
		for (k = 0; k < NS && !rc; k++)
			if (!(rc = lmp_num_mul(&st[k], &per, &t)))
				rc = lmp_num_add(&all[k], &t, &all[k]);
	}
	if (rc)
		return lmp_fail(e, LMP_EXIT_INPUT, "layout sums: %s", lmp_num_strerror(rc));
	if (dev)
		memcpy(dev, best, sizeof best);
	LIT(b, "],\"device\":{\"stage\":");
	lmp_buf_i128(b, top);
	lmp_buf_putc(b, ',');
	/* the top stage's sums, as written in "stages" */
	lmp_buf_grow(b, top_len);
	memcpy(b->s + b->len, b->s + top_at, top_len);
	b->len += top_len;
	LIT(b, "},\"all_devices\":{");
	sums_json(b, all);
	lmp_buf_putc(b, '}');
	if (m->pp > 1) {
		/* one request's batch goes through the stages one after another */
		LIT(b, ",\"pipeline_idle_fraction\":");
		t = lmp_num_frac(m->pp - 1, m->pp);
		lmp_buf_num(b, &t);
	}
	lmp_buf_putc(b, '}');
	return 0;
}

/* A number as lmp-roofline reads it from the document: the double of the
 * text written (an integer's is its own; a fraction's is the nearest
 * double's text read back). */
static double
as_read_text(const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];
	lmp_num r;

	if (v->exact && v->d == 1)
		return lmp_num_to_double(v);
	if (lmp_num_parse(s, (size_t)lmp_num_str(v, s), &r))
		return NAN;
	return lmp_num_to_double(&r);
}

/* inline: a whole number of 64 bits (most) converts in one instruction,
 * rounded to nearest as strtod reads it */
static inline double
as_read(const lmp_num *v)
{
	if (lmp_num_is_i64(v))
		return (double)(int64_t)v->n;
	return as_read_text(v);
}

/* The point's kernels as kernels_json wrote them, as lmp-roofline reads
 * them, into tk.  Kernel j's values are at kv + j NV, or (kv NULL) at its
 * first row's in v. */
static void
tkernel(const lmp_model *m, const lmp_runtime *rt, const lmp_row *r, const lmp_num *x, const lmp_num *count,
	struct lmp_tkernel *k);

static void
tkernels(const lmp_model *m, const lmp_runtime *rt, const lmp_num *v, const lmp_num *kv, struct lmp_tkernel *tk)
{
	for (int j = 0; j < m->nkern; j++)
		tkernel(m, rt, &m->rows[m->krep[j]], kv ? &kv[j * NV] : &v[m->krep[j] * NV], &m->kcount[j], &tk[j]);
}

/* One kernel (or a row, of its own count) as kernels_text (rows_json)
 * writes it, as lmp-roofline reads it: its values at x. */
static void
tkernel(const lmp_model *m, const lmp_runtime *rt, const lmp_row *r, const lmp_num *x, const lmp_num *count,
	struct lmp_tkernel *k)
{
	k->count = as_read(count);
	k->coll = r->coll;
	k->npieces = 0; /* a request's decode sets its pieces (phase_kernels) */
	k->pieces = NULL;
	k->block = 0;
	if (r->coll) {
		/* as collective_json writes it */
		k->group = r->coll_group;
		k->size = r->coll_n;
		k->cbytes = as_read(&x[V_COLL]);
		return;
	}
	k->flops = as_read(&x[LMP_K_FLOPS]);
	k->reads = as_read(&x[LMP_K_READS]);
	k->writes = as_read(&x[LMP_K_WRITES]);
	k->inter = as_read(&x[LMP_K_INTERMEDIATES]);
	k->compute = row_compute(m, r, x, rt->w_checkpoint);
	k->gemm = r->gemm[0] != 0;
	if (k->gemm) {
		lmp_num mm = lmp_num_int(0);
		/* m = (m x calls) / calls, mostly whole */
		if (lmp_num_is_i64(&x[V_GEMM_MC]) && lmp_num_is_i64(&x[V_GEMM_CALLS]) && x[V_GEMM_CALLS].n > 0 &&
		    x[V_GEMM_MC].n % x[V_GEMM_CALLS].n == 0)
			lmp_num_set_int(&mm, (int64_t)x[V_GEMM_MC].n / (int64_t)x[V_GEMM_CALLS].n);
		else if (!lmp_num_is_zero(&x[V_GEMM_CALLS]))
			lmp_num_div(&x[V_GEMM_MC], &x[V_GEMM_CALLS], &mm);
		k->m = as_read(&mm);
		k->n = as_read(&x[V_GEMM_N]);
		k->k = as_read(&x[V_GEMM_K]);
		k->calls = as_read(&x[V_GEMM_CALLS]);
	}
}

/* The fused time sweep (m->hook): the point's kernels and its totals,
 * handed over as numbers.  A formed point's kernels are its class's
 * (sweepform.c), kept up to date by its steps. */
static int
hand_point(lmp_model *m, const lmp_runtime *rt, const lmp_num *v, const lmp_num *kv, const lmp_num *tot, const char *growth,
	const char *profile, const lmp_evalpt *rtpt, size_t tot_end, const lmp_num *dev, const size_t *row_end,
	lmp_buf *b, size_t start, lmp_err *e)
{
	lmp_evalpt pt = {.m = m, .head = m->head, .headlen = m->headlen, .head_id = m->serial, .rt = rt,
		.nk = row_end ? m->nrows : m->nkern,
		.growth = growth, .profile = profile,
		.rtext = rtpt->rtext, .rt_at = rtpt->rt_at, .rt_end = rtpt->rt_end,
		.rt_set = {rtpt->rt_set[0], rtpt->rt_set[1]}, .tot_end = tot_end - start, .row_end = row_end};
	struct lmp_tkernel *tk = NULL;
	int fill = 1;

	if (kv && (tk = lmp_sweepform_tk(m, &pt.kgen, &fill)) && fill) {
		tkernels(m, rt, v, kv, tk);
		pt.kgen = lmp_sweepform_tk_filled(m);
	}
	if (!tk) {
		if (pt.nk > m->tkcap) {
			free(m->tk);
			m->tk = lmp_xmalloc(sizeof *m->tk * (size_t)pt.nk);
			m->tkcap = pt.nk;
		}
		tk = m->tk;
		if (!row_end)
			tkernels(m, rt, v, kv, tk);
		else /* the rows, each a kernel of its own count */
			for (int i = 0; i < m->nrows; i++)
				tkernel(m, rt, &m->rows[i], &v[i * NV], &m->rows[i].count, &tk[i]);
	}
	pt.k = tk;
	pt.tot[0] = as_read(&tot[LMP_K_FLOPS]);
	pt.tot[1] = as_read(&tot[LMP_K_READS]);
	pt.tot[2] = as_read(&tot[LMP_K_WRITES]);
	pt.tot[3] = as_read(&tot[LMP_K_INTERMEDIATES]);
	pt.state_bytes = as_read(&tot[LMP_K_STATE]);
	pt.weight_bytes = tot[V_WEIGHT_BYTES];
	if ((pt.dev = dev != NULL)) {
		pt.dev_wb = as_read(&dev[S_WEIGHTS]);
		pt.dev_state = as_read(&dev[S_STATE]);
	}
	return m->hook(m->hook_ctx, &pt, b, start, e);
}

int
lmp_eval_doc(lmp_model *m, const lmp_runtime *rt, int with_rows, lmp_buf *b, lmp_err *e)
{
	lmp_num tot[NV + 1], *rows = NULL, dev[NS];
	const lmp_num *at = tot, *kv = NULL, *par = NULL;
	const char *growth, *profile;
	int64_t context = 0;
	size_t start = b->len, tot_end;
	int rc = -1, past, i, formed = 0;
	lmp_evalpt rtpt = {0}; /* where the time model reads the runtime */
	/* one step of one device's kernels or rows (a layout's, collectives
	 * and all): timed here (lmp-eval --hardware) */
	int one = !with_rows && rt->nqueries == 1, direct = m->hook != NULL;
	size_t *row_end = NULL;

	m->hooked = 0;

	for (i = 0; i < rt->nqueries; i++)
		if (rt->queries[i].cache_len + rt->queries[i].seq_len > context)
			context = rt->queries[i].cache_len + rt->queries[i].seq_len;
	if ((past = past_limit(m, context, "cache_len + seq_len", e)) < 0)
		return -1;
	/* the rows, or (--totals) the kernels they fold into */
	/* kept for the model's next point (a sweep's malloc and free per
	 * point cost more than its smallest points' work) */
	if (!m->pt_rows)
		m->pt_rows = lmp_xmalloc(sizeof *rows * (size_t)(m->nrows * NV + 1));
	rows = m->pt_rows;
	/* the fused sweep's point in closed form (sweepform.c), or evaluated */
	if (one && (formed = lmp_sweepform_point(m, rt, past, &at, &kv, &par)))
		;
	else if (evaluate(m, rt, rows, tot, !with_rows, e))
		goto out;
	/* a decode step over a cache: how its activations grow */
	if (!(growth = growth_json(m, (int64_t)rt->vars[LMP_V_BATCH_SIZE].n,
		     rt->nqueries == 1 && rt->queries[0].cache_len ? rt->queries[0].seq_len : 0, rt, e)) ||
	    !(profile = lmp_engine_profile(m, rt, e)))
		goto out;
	lmp_buf_add(b, m->head, m->headlen);
	if (direct && m->hook_fields && rt->nqueries == 1) {
		if (runtime_pruned(m, rt, past, b, e) < 0)
			goto out;
		rtpt = (lmp_evalpt){.rtext = m->rt_whole.s, .rt_end = m->rt_whole.len,
			.rt_set = {m->rt_span[0], m->rt_span[1]}};
	} else {
		rtpt.rt_at = b->len - start;
		runtime_json(rt, b, rtpt.rt_set);
		if (past)
			mark_past(b);
		rtpt.rt_set[0] -= start, rtpt.rt_set[1] -= start;
		rtpt.rt_end = b->len - start;
	}
	/* the kernels: the roofline document drops them (folded, not
	 * written); a formed point's fold is its class's */
	if (!with_rows && !formed && fold(m, rows, rt->w_checkpoint, NULL, e))
		goto out;
	/* a layout's stage sums (formed, or from the rows) */
	if (m->par && !formed && !(par = par_sums(m, rows, NULL, e)))
		goto out;
	if (one && !formed)
		lmp_sweepform_record(m, rows, tot, par);
	if (with_rows) {
		/* a fused point's rows: where each ends, for its times */
		if (direct)
			row_end = m->row_end ? m->row_end : (m->row_end = lmp_xmalloc(sizeof *row_end * (size_t)(m->nrows + 1)));
		lmp_buf_putc(b, ',');
		rows_json(b, m, rows, rt->w_checkpoint, NULL, row_end, start);
	} else if (!direct) {
		lmp_buf_putc(b, ',');
		kernels_text(b, m, rows, kv, rt->w_checkpoint, NULL);
	}
	if (direct && m->hook_fields) {
		const lmp_fields_node *want = NULL;
		int named = lmp_fields_sub(lmp_fields_top(m->hook_fields), "totals", 6, &want);
		totals_json(b, m, at, growth, profile, want, !named);
	} else {
		totals_json(b, m, at, growth, profile, NULL, 0);
	}
	tot_end = b->len - 1;
	if (m->par && parallel_json(b, m, par, dev, e))
		goto out;
	LIT(b, "}\n");
	if (direct) {
		if (hand_point(m, rt, rows, kv, at, growth, profile, &rtpt, tot_end,
			    m->par ? dev : NULL, row_end, b, start, e))
			goto out;
		m->hooked = 1;
	}
	rc = 0;
out:
	return rc;
}

/* Over the steps of a phase, work adds up; the parameter count and the
 * stored weights are the model's and the state is what the last step
 * leaves. */
static int
accumulate(lmp_num *sum, const lmp_num *v, int n, lmp_err *e)
{
	lmp_num s;
	int i, rc;

	for (i = 0; i < n; i++) {
		int k = i % NV;
		if (k == LMP_K_PARAM_COUNT || k == LMP_K_STATE || k == V_WEIGHT_BYTES || k == V_GEMM_N || k == V_GEMM_K) {
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

/* A phase: its rows, or (with_rows 0) its kernels; a phase of no steps
 * neither.  A fused request's (direct) has no kernels (lmp_roofline drops
 * them), and its rows' closing braces go to ends (from start). */
static int
phase_json(lmp_buf *b, lmp_model *m, const char *name, int64_t steps, const char *runtime,
	const lmp_num *rows, int with_rows, const lmp_num *tot, int formats, const lmp_dpieces *ps, int direct,
	size_t *ends, size_t start, lmp_err *e)
{
	lmp_buf_putc(b, '"');
	lmp_buf_puts(b, name);
	LIT(b, "\":{\"steps\":");
	lmp_buf_i128(b, steps);
	LIT(b, ",\"runtime\":");
	lmp_buf_puts(b, runtime);
	if (steps && with_rows) {
		lmp_buf_putc(b, ',');
		rows_json(b, m, rows, formats, ps, direct ? ends : NULL, start);
	} else if (steps && !direct) {
		lmp_buf_putc(b, ',');
		if (kernels_json(b, m, rows, formats, ps, e))
			return -1;
	}
	LIT(b, ",\"totals\":{");
	quantities(b, tot, NULL, 0);
	LIT(b, "}}");
	return 0;
}

/* A chunked prefill (rt->chunk, lmp-engine(5)): the batch's prompts
 * advance together, each sequence taking chunk / batch_size new tokens a
 * step (at least one), each step over the cache the earlier ones wrote;
 * the phase is the sum of its steps.  Returns the steps (1: one step, as
 * without a budget), -1 on error; pr gets the phase's runtime. */
static int64_t
prefill(lmp_model *m, const lmp_gen *g, lmp_runtime *rt, lmp_num *pre, lmp_num *step, lmp_num *ptot, lmp_buf *pr,
	int tf, lmp_err *e)
{
	int64_t per = g->prompt_len, k, steps;
	lmp_num stot[NV + 1];
	lmp_query *q = (lmp_query *)rt->queries;

	if (rt->chunk && rt->chunk < g->batch_size * g->prompt_len)
		per = rt->chunk / g->batch_size > 1 ? rt->chunk / g->batch_size : 1;
	steps = (g->prompt_len + per - 1) / per;
	*q = (lmp_query){per < g->prompt_len ? per : g->prompt_len, 0, g->batch_size};
	if (steps == 1) {
		if (lmp_runtime_compute(rt, e) || evaluate(m, rt, pre, ptot, tf, e))
			return -1;
		lmp_runtime_json(rt, pr);
		return 1;
	}
	if (pre)
		zero(pre, m->nrows * NV);
	zero(ptot, NV);
	for (k = 0; k < steps; k++) {
		q->cache_len = k * per;
		q->seq_len = g->prompt_len - q->cache_len < per ? g->prompt_len - q->cache_len : per;
		if (lmp_runtime_compute(rt, e) || evaluate(m, rt, step, stot, tf, e) ||
		    (pre && accumulate(pre, step, m->nrows * NV, e)) || accumulate(ptot, stot, NV, e))
			return -1;
		ptot[V_ACTIVE] = stot[V_ACTIVE];
	}
	lmp_buf_printf(pr, "{\"seq_len\":%lld,\"cache_len_first\":0,\"cache_len_last\":%lld,\"last_seq_len\":%lld}",
		(long long)per, (long long)((steps - 1) * per), (long long)q->seq_len);
	return steps;
}

/* A decode step s (cache_len = prompt_len + s) as decpieces.c sees it:
 * the rows' values (where kept) and then the totals'. */
struct dstep {
	lmp_model *m;
	lmp_runtime *rt;
	lmp_query *q;
	int64_t prompt, last; /* the cache at steps 0 and steps - 1 */
	int n, rows;
};

static int
decode_step(void *ctx, int64_t s, lmp_num *v, lmp_err *e)
{
	struct dstep *d = ctx;

	d->q->seq_len = 1;
	d->q->cache_len = d->prompt + s;
	if (lmp_runtime_compute(d->rt, e))
		return -1;
	return evaluate(d->m, d->rt, d->rows ? v : NULL, v + (d->rows ? d->n : 0), 0, e);
}

/* A decode step's attention shape (attnkernel.c lmp_attn_shape): a piece
 * of the closed form never spans two. */
static int
decode_shape(void *ctx, int64_t s, uint64_t *sig, int64_t *next, lmp_err *e)
{
	struct dstep *d = ctx;
	int64_t c;

	d->q->seq_len = 1;
	d->q->cache_len = d->prompt + s;
	if (lmp_runtime_compute(d->rt, e))
		return -1;
	lmp_prog_set_point(d->m->prog, d->rt);
	if (lmp_attn_shape(d->m, d->rt, d->last, sig, &c, e))
		return -1;
	*next = c == INT64_MAX ? INT64_MAX : c - d->prompt;
	return 0;
}

/* The decode phase in closed form (lmp-eval(1) "per_step"): its sums are
 * sums over the pieces' ranges of steps, what it keeps (parameters, the
 * state, weight bytes, GEMM n and k) the last step's.  1 done, with the
 * point left at the last step as the loop leaves it; 0 not of that shape
 * or an error, which the step-by-step loop then meets and reports. */
static int
decode_closed(lmp_model *m, lmp_runtime *rt, lmp_query *q, const lmp_gen *g, int64_t steps, lmp_num *dec,
	lmp_num *dtot, lmp_dpieces *ps)
{
	int n = m->nrows * NV, base = dec ? n : 0, nc = base + NV + 1, i, k;
	struct dstep d = {m, rt, q, g->prompt_len, g->prompt_len + steps - 1, n, dec != NULL};
	lmp_num *last = lmp_xmalloc(sizeof *last * (size_t)nc);
	lmp_err quiet = {0};
	int64_t per2 = 0, off2 = 0;

	/* a sliding window's first K/V tile: a second staircase, in steps
	 * (the cache is prompt_len + s at step s) */
	q->seq_len = 1;
	q->cache_len = g->prompt_len + steps - 1;
	if (!lmp_runtime_compute(rt, &quiet)) {
		int64_t bn, wl;
		lmp_prog_set_point(m->prog, rt);
		if (lmp_attn_window_tiles(m, rt, &bn, &wl, &quiet) == 1)
			per2 = bn, off2 = g->prompt_len - wl;
	}
	if (lmp_dpieces_find(decode_step, decode_shape, &d, steps, nc, rt->kv_block, g->prompt_len + 1, per2, off2, ps,
		    &quiet) <= 0) {
		free(last);
		return 0;
	}
	for (i = 0; i < base + NV; i++) {
		lmp_num *out = i < base ? &dec[i] : &dtot[i - base];
		k = (i < base ? i : i - base) % NV;
		if (k == LMP_K_PARAM_COUNT || k == LMP_K_STATE || k == V_WEIGHT_BYTES || k == V_GEMM_N || k == V_GEMM_K
			? lmp_dpieces_last(ps, i, out) : lmp_dpieces_sum(ps, i, out))
			break;
	}
	if (i < base + NV || decode_step(&d, steps - 1, last, &quiet)) {
		lmp_dpieces_free(ps);
		free(last);
		return 0;
	}
	free(last);
	return 1;
}

/* A fused request's decode pieces (lmp_dpieces_each) as the document
 * reads them, kernel after kernel. */
struct tpieces {
	struct lmp_tpiece *p;
	int n, cap;
};

static void
tpiece_add(void *ctx, int64_t first, int64_t last, const lmp_num (*q)[3], int ncs)
{
	struct tpieces *t = ctx;
	struct lmp_tpiece *x;

	(void)ncs; /* the four of step_cs */
	if (t->n == t->cap) {
		t->cap += t->cap / 2 + 16;
		t->p = lmp_xrealloc(t->p, sizeof *t->p * (size_t)t->cap);
	}
	x = &t->p[t->n++];
	x->first = first;
	x->last = last;
	for (int i = 0; i < 3; i++) {
		x->flops[i] = as_read(&q[0][i]);
		x->reads[i] = as_read(&q[1][i]);
		x->writes[i] = as_read(&q[2][i]);
		x->inter[i] = as_read(&q[3][i]);
	}
}

/* A fused request's phase (m->hook, lmp-eval --hardware): its kernels
 * (with_rows: its rows, each a kernel of its own count) as numbers into
 * tk (*nk of them), each with its pieces (a decode's, ps, into tp) as
 * kernels_json (rows_json) writes them. */
static int
phase_kernels(lmp_model *m, const lmp_runtime *rt, const lmp_num *v, const lmp_dpieces *ps, int with_rows,
	struct lmp_tkernel **tk, int *nk, struct tpieces *tp, lmp_err *e)
{
	int *at, n = with_rows ? m->nrows : 0;

	if (!with_rows) {
		if (fold(m, v, rt->w_checkpoint, ps, e))
			return -1;
		n = m->nkern;
	}
	*tk = lmp_xmalloc(sizeof **tk * (size_t)(n + 1));
	*nk = n;
	for (int j = 0; j < n; j++) {
		int i = with_rows ? j : m->krep[j];
		tkernel(m, rt, &m->rows[i], &v[i * NV], with_rows ? &m->rows[i].count : &m->kcount[j], &(*tk)[j]);
	}
	if (!ps)
		return 0;
	/* each kernel's first piece's place: tp grows (and moves) meanwhile */
	at = lmp_xmalloc(sizeof *at * (size_t)(n + 1));
	for (int j = 0; j < n; j++) {
		int i = with_rows ? j : m->krep[j];
		at[j] = tp->n;
		if (has_per_step(&m->rows[i], i, ps))
			lmp_dpieces_each(ps, i * NV, step_cs, 4, tpiece_add, tp);
	}
	for (int j = 0; j < n; j++) {
		struct lmp_tkernel *k = &(*tk)[j];
		k->npieces = (j + 1 < n ? at[j + 1] : tp->n) - at[j];
		k->pieces = k->npieces ? tp->p + at[j] : NULL;
		k->block = k->npieces && ps->block > 1 ? ps->block : 0;
	}
	free(at);
	return 0;
}

int
lmp_gen_doc(lmp_model *m, const lmp_gen *g, int with_rows, lmp_buf *b, lmp_err *e)
{
	int n = m->nrows * NV, rc = -1, past;
	lmp_num *pre = NULL, *dec = NULL, *step = NULL, ptot[NV + 1], dtot[NV], stot[NV + 1], all[NV + 1];
	const lmp_num *par;
	lmp_query q = {g->prompt_len, 0, g->batch_size};
	lmp_runtime rt = *g->settings;
	lmp_buf pr = {0}, dr = {0};
	lmp_dpieces ps = {0};
	int64_t s, steps = g->gen_len - 1, psteps;
	const char *growth, *profile;
	/* a fused request: its phases' kernels (or rows) handed over as numbers */
	int direct = m->hook != NULL;
	size_t *ends[2] = {NULL, NULL};
	struct lmp_tkernel *tk[2] = {NULL, NULL};
	int nk[2] = {0, 0};
	struct tpieces tp = {0};
	size_t start = b->len;
	lmp_num dev[NS];
	lmp_evalpt pt = {.m = m, .head = m->head, .headlen = m->headlen, .head_id = m->serial, .gen = 1};

	rt.nqueries = 1;
	rt.queries = &q;
	rt.extra = NULL;

	/* The last token is sampled, never fed back: prompt + gen - 1 positions. */
	if ((past = past_limit(m, g->prompt_len + g->gen_len - 1, "prompt_len + gen_len - 1", e)) < 0)
		return -1;
	pre = lmp_xmalloc(sizeof *pre * (size_t)(n + 1));
	dec = lmp_xmalloc(sizeof *dec * (size_t)(n + 1));
	zero(dec, n);
	step = lmp_xmalloc(sizeof *step * (size_t)(n + 1));
	/* The prefill makes the first token; each decode step one more. */
	if ((psteps = prefill(m, g, &rt, pre, step, ptot, &pr, !with_rows, e)) < 0)
		goto out;
	zero(dtot, NV);
	dtot[LMP_K_PARAM_COUNT] = ptot[LMP_K_PARAM_COUNT];
	dtot[LMP_K_STATE] = ptot[LMP_K_STATE];
	dtot[V_WEIGHT_BYTES] = ptot[V_WEIGHT_BYTES];
	/* closed form where the steps have its shape, else step by step;
	 * LMP_EVAL_STEPWISE sums every step all the same (the pieces' check) */
	if (steps > 0 && decode_closed(m, &rt, &q, g, steps, dec, dtot, &ps)) {
		if (!getenv("LMP_EVAL_STEPWISE"))
			steps = -steps;
	}
	if (steps > 0) {
		if (dec)
			zero(dec, n);
		zero(dtot, NV);
		dtot[LMP_K_PARAM_COUNT] = ptot[LMP_K_PARAM_COUNT];
		dtot[LMP_K_STATE] = ptot[LMP_K_STATE];
		dtot[V_WEIGHT_BYTES] = ptot[V_WEIGHT_BYTES];
	}
	for (s = 0; s < steps; s++) {
		q.seq_len = 1;
		q.cache_len = g->prompt_len + s;
		if (lmp_runtime_compute(&rt, e) || evaluate(m, &rt, step, stot, !with_rows, e) ||
		    (dec && accumulate(dec, step, n, e)) || accumulate(dtot, stot, NV, e))
			goto out;
	}
	if (steps < 0)
		steps = -steps;
	lmp_buf_printf(&dr, "{\"seq_len\":1,\"cache_len_first\":%lld,\"cache_len_last\":%lld}",
		(long long)g->prompt_len, (long long)(g->prompt_len + (steps ? steps - 1 : 0)));
	for (int k = 0; k < NV + 1; k++)
		all[k] = ptot[k];
	/* dtot starts with the prefill's state, so it is right with no steps too */
	if (accumulate(all, dtot, NV, e) || !(growth = growth_json(m, g->batch_size, 0, &rt, e)) ||
	    !(profile = lmp_engine_profile(m, &rt, e)))
		goto out;
	if (direct && ((psteps && phase_kernels(m, &rt, pre, NULL, with_rows, &tk[0], &nk[0], &tp, e)) ||
		       (steps && phase_kernels(m, &rt, dec, &ps, with_rows, &tk[1], &nk[1], &tp, e))))
		goto out;
	if (direct && with_rows) {
		ends[0] = lmp_xmalloc(sizeof *ends[0] * (size_t)(m->nrows + 1));
		ends[1] = lmp_xmalloc(sizeof *ends[1] * (size_t)(m->nrows + 1));
	}
	lmp_buf_add(b, m->head, m->headlen);
	pt.rt_at = b->len - start;
	LIT(b, "{\"batch_size\":");
	lmp_buf_i128(b, g->batch_size);
	LIT(b, ",\"prompt_len\":");
	lmp_buf_i128(b, g->prompt_len);
	LIT(b, ",\"gen_len\":");
	lmp_buf_i128(b, g->gen_len);
	pt.rt_set[0] = b->len - start;
	bits(b, &rt);
	layout(b, &rt);
	engine_json(b, &rt);
	if (past)
		LIT(b, ",\"past_position_limit\":true");
	pt.rt_set[1] = b->len - start;
	pt.rt_end = pt.rt_set[1] + 1;
	LIT(b, "},\"phases\":{");
	if (phase_json(b, m, "prefill", psteps, pr.s, pre, with_rows, ptot, rt.w_checkpoint, NULL, direct, ends[0],
		    start, e))
		goto out;
	pt.ph_end[0] = b->len - 2 - start;
	lmp_buf_putc(b, ',');
	if (phase_json(b, m, "decode", steps, dr.s, dec, with_rows, dtot, rt.w_checkpoint, &ps, direct, ends[1],
		    start, e))
		goto out;
	pt.ph_end[1] = b->len - 2 - start;
	lmp_buf_putc(b, '}');
	totals_json(b, m, all, growth, profile, NULL, 0);
	pt.tot_end = b->len - 1 - start;
	if (m->par && (!(par = par_sums(m, pre, steps ? dec : NULL, e)) || parallel_json(b, m, par, dev, e)))
		goto out;
	LIT(b, "}\n");
	if (direct) {
		/* the numbers as lmp-roofline reads them from the document */
		pt.rt = &rt;
		pt.k = tk[0], pt.nk = nk[0];
		pt.dk = tk[1], pt.ndk = nk[1];
		/* rows: where each phase's end (none in a phase of no steps) */
		pt.row_end = psteps ? ends[0] : NULL;
		pt.drow_end = steps ? ends[1] : NULL;
		for (int k = 0; k < 4; k++) {
			static const int q[4] = {LMP_K_FLOPS, LMP_K_READS, LMP_K_WRITES, LMP_K_INTERMEDIATES};
			pt.tot[k] = as_read(&ptot[q[k]]);
			pt.dtot[k] = as_read(&dtot[q[k]]);
		}
		pt.state_bytes = as_read(&all[LMP_K_STATE]);
		pt.weight_bytes = all[V_WEIGHT_BYTES];
		if ((pt.dev = m->par != 0)) {
			pt.dev_wb = as_read(&dev[S_WEIGHTS]);
			pt.dev_state = as_read(&dev[S_STATE]);
		}
		pt.growth = growth;
		pt.profile = profile;
		pt.steps = (double)steps;
		pt.cache_first = (double)g->prompt_len;
		pt.batch = (double)g->batch_size;
		pt.prompt = (double)g->prompt_len;
		pt.gen_len = (double)g->gen_len;
		if (m->hook(m->hook_ctx, &pt, b, start, e))
			goto out;
		m->hooked = 1;
	}
	rc = 0;
out:
	free(tk[0]);
	free(tk[1]);
	free(ends[0]);
	free(ends[1]);
	free(tp.p);
	free(pre);
	free(dec);
	free(step);
	lmp_dpieces_free(&ps);
	lmp_buf_free(&pr);
	lmp_buf_free(&dr);
	return rc;
}

/* The tensors the entry declares (tensordecl.c), "tensors":[...], when it
 * declares any; their parameters must add up to its param_count. */
static int
module_tensors(lmp_model *m, lmp_row *r, const lmp_num *tot, lmp_buf *b, lmp_err *e)
{
	lmp_tdecl *t;
	int n, rc = lmp_entry_tensors(r->entry, m->prog, r->args, &t, &n, e);

	if (rc <= 0)
		return rc;
	if ((rc = lmp_tensors_agree(r->entry, t, n, &tot[LMP_K_PARAM_COUNT], e)) == 0) {
		LIT(b, "\"tensors\":");
		lmp_tensors_json(t, n, b);
		lmp_buf_putc(b, ',');
	}
	free(t);
	return rc;
}

int
lmp_module_doc(lmp_model *m, const lmp_runtime *rt, lmp_buf *b, lmp_err *e)
{
	lmp_row *r = &m->rows[0];
	lmp_entry *en = r->entry;
	lmp_num v, tot[NV + 1];
	size_t start = b->len;
	int i;

	if (evaluate(m, rt, NULL, tot, 0, e)) {
		lmp_prefix(e, "%s: ", en->name);
		return -1;
	}
	LIT(b, "{\"lmp\":\"module\",\"version\":\"" LMP_VERSION "\",\"class\":");
	lmp_json_string(b, en->name);
	engine_json(b, rt);
	LIT(b, ",\"params\":{");
	for (i = 0; i < en->nparams; i++) {
		if (lmp_poly_eval(m->prog, r->args[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->params[i].name);
		lmp_buf_putc(b, ':');
		lmp_buf_num(b, &v);
	}
	LIT(b, "},");
	if (module_tensors(m, r, tot, b, e))
		goto fail;
	quantities(b, tot, NULL, 0);
	LIT(b, ",\"breakdown\":{");
	for (i = 0; i < en->nbreak; i++) {
		if (lmp_poly_eval(m->prog, r->breakdown[i], &v, e))
			goto fail;
		if (i)
			lmp_buf_putc(b, ',');
		lmp_json_string(b, en->break_names[i]);
		lmp_buf_putc(b, ':');
		lmp_buf_num(b, &v);
	}
	LIT(b, "}}\n");
	return 0;
fail:
	b->len = start;
	lmp_prefix(e, "%s: ", en->name);
	return -1;
}
