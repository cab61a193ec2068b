/* report_csv.c: lmp documents as CSV for spreadsheets and scripts.  One
 * fixed header whatever the input, so a column is where a script left it;
 * numbers keep the exact text of the document; a field a row does not have
 * is empty.  RFC 4180 quoting; text that a spreadsheet would take for a
 * formula is defused (OWASP's advice on CSV injection). */
#include <string.h>

#include "report.h"

/* The columns, in order.  Settings (what was asked: model, device and its
 * layout, runtime) hold for every line of a document; results are found in
 * the row, the phase or the document, whichever the line describes. */
enum kind { K_DOC, K_LEVEL, K_SET, K_LAYOUT, K_PHASE, K_QUERIES, K_PATH, K_CLASS, K_COUNT, K_OUT };
struct column {
	const char *name;
	enum kind kind;
	const char *row, *phase, *doc; /* where the value is; NULL: not at that level */
	int module;                    /* a module document has it (at the top, as row names it) */
};
static const struct column cols[] = {
	{"doc", K_DOC, 0, 0, 0, 0},
	{"level", K_LEVEL, 0, 0, 0, 0},
	{"model", K_SET, 0, 0, "model.id", 0},
	{"hardware", K_SET, 0, 0, "roofline.hardware", 0},
	{"phase", K_PHASE, 0, 0, 0, 0},
	{"batch_size", K_SET, 0, "runtime.batch_size", "runtime.batch_size", 0},
	{"seq_len", K_SET, 0, "runtime.seq_len", "runtime.seq_len", 0},
	{"cache_len", K_SET, 0, "runtime.cache_len", "runtime.cache_len", 0},
	{"queries", K_QUERIES, 0, 0, 0, 0},
	{"prompt_len", K_SET, 0, 0, "runtime.prompt_len", 0},
	{"gen_len", K_SET, 0, 0, "runtime.gen_len", 0},
	{"w_bit", K_SET, 0, 0, "runtime.w_bit", 0},
	{"a_bit", K_SET, 0, 0, "runtime.a_bit", 0},
	{"kv_bit", K_SET, 0, 0, "runtime.kv_bit", 0},
	{"path", K_PATH, 0, 0, 0, 0},
	{"class", K_CLASS, 0, 0, 0, 0},
	{"count", K_COUNT, 0, 0, 0, 0},
	{"param_count", K_OUT, "param_count", "totals.param_count", "totals.param_count", 1},
	{"active_param_count", K_OUT, 0, 0, "totals.active_param_count", 0},
	{"flops", K_OUT, "flops", "totals.flops", "totals.flops", 1},
	{"weight_bytes", K_OUT, "bytes.weights", "totals.bytes.weights", "totals.bytes.weights", 1},
	{"read_bytes", K_OUT, "bytes.reads", "totals.bytes.reads", "totals.bytes.reads", 1},
	{"write_bytes", K_OUT, "bytes.writes", "totals.bytes.writes", "totals.bytes.writes", 1},
	{"intermediate_bytes", K_OUT, "bytes.intermediates", "totals.bytes.intermediates",
		"totals.bytes.intermediates", 1},
	{"state_bytes", K_OUT, "state_bytes", "totals.state_bytes", "totals.state_bytes", 1},
	{"intensity", K_OUT, "intensity", "totals.intensity", "totals.intensity", 0},
	{"time_s", K_OUT, "time_s", "totals.time_s", "totals.time_s", 0},
	{"bound", K_OUT, "bound", "totals.bound", "totals.bound", 0},
	{"ttft_s", K_OUT, 0, 0, "totals.ttft_s", 0},
	{"tpot_s", K_OUT, 0, 0, "totals.tpot_s", 0},
	{"tokens_per_s", K_OUT, 0, 0, "totals.tokens_per_s", 0},
	{"mfu", K_OUT, 0, 0, "totals.mfu", 0},
	{"mbu", K_OUT, 0, 0, "totals.mbu", 0},
	{"needed_bytes", K_OUT, 0, 0, "fit.needed_bytes", 0},
	{"capacity_bytes", K_OUT, 0, 0, "fit.capacity_bytes", 0},
	{"fits", K_OUT, 0, 0, "fit.fits", 0},
	/* added after the first release: at the end, so that the columns
	 * before keep their place in scripts that cut them by number */
	{"devices", K_SET, 0, 0, "roofline.devices", 0},
	/* the layout fields (lmp_layout_fields), each named here so that a
	 * field added there comes at the end here */
	{"tp", K_LAYOUT, 0, 0, 0, 0},
	{"pp", K_LAYOUT, 0, 0, 0, 0},
	{"ep", K_LAYOUT, 0, 0, 0, 0},
	/* what the times are of: the engine and roofline.time_model.status
	 * (its note, terms and calibration: jq '.roofline.time_model') */
	{"engine", K_SET, 0, 0, "runtime.engine", 0},
	{"time_model", K_SET, 0, 0, "roofline.time_model.status", 0},
	/* data parallelism, added after engine and time_model */
	{"dp", K_LAYOUT, 0, 0, 0, 0},
};
enum { NCOL = sizeof cols / sizeof *cols };

/* Text a spreadsheet would run as a formula (=, +, -, @, and tab or CR,
 * which some strip first) is quoted behind a single quote: the cell shows
 * the text, never computes it.  Numbers never come here. */
static int
formula_like(const char *s)
{
	return *s && strchr("=+-@\t\r", *s);
}

static void
text(lmp_buf *b, const char *s)
{
	int guard = formula_like(s);

	if (!guard && !s[strcspn(s, ",\"\r\n")]) {
		lmp_buf_puts(b, s);
		return;
	}
	lmp_buf_putc(b, '"');
	if (guard)
		lmp_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			lmp_buf_putc(b, '"');
		lmp_buf_putc(b, *s);
	}
	lmp_buf_putc(b, '"');
}

void
lmp_csv_header(lmp_buf *out)
{
	for (int i = 0; i < NCOL; i++)
		lmp_buf_printf(out, "%s%s", i ? "," : "", cols[i].name);
	lmp_buf_putc(out, '\n');
}

static void
value(lmp_buf *b, const cJSON *v)
{
	const char *t = lmp_field_text(v);

	if (t && cJSON_IsNumber(v))
		lmp_buf_puts(b, t); /* a number's own text: digits, sign, point, exponent */
	else if (t)
		text(b, t);
	else if (cJSON_IsBool(v))
		lmp_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
}

static void
queries(lmp_buf *b, const cJSON *q)
{
	const cJSON *x;
	lmp_buf s = {0};

	cJSON_ArrayForEach(x, q) {
		const char *sl = lmp_field_text(lmp_field(x, "seq_len"));
		const char *cl = lmp_field_text(lmp_field(x, "cache_len"));
		const char *n = lmp_field_text(lmp_field(x, "count"));
		lmp_buf_printf(&s, "%s%s:%sx%s", s.len ? "," : "", sl ? sl : "", cl ? cl : "", n ? n : "1");
	}
	if (s.s)
		text(b, s.s);
	lmp_buf_free(&s);
}

/* One line: level says which of row, phase and doc it describes. */
static void
line(lmp_buf *b, int index, const char *level, const cJSON *doc, const cJSON *phase, const char *phase_name,
	const cJSON *row)
{
	int i;

	lmp_buf_printf(b, "%d,%s", index, level);
	for (i = 2; i < NCOL; i++) {
		const struct column *c = &cols[i];
		const cJSON *v = NULL;
		lmp_buf_putc(b, ',');
		switch (c->kind) {
		case K_PHASE:
			if (phase_name)
				text(b, phase_name);
			continue;
		case K_QUERIES:
			queries(b, lmp_field(doc, "runtime.queries"));
			continue;
		case K_SET:
			if (phase && c->phase)
				v = lmp_field(phase, c->phase);
			if (!v)
				v = lmp_field(doc, c->doc);
			break;
		case K_LAYOUT: /* empty where the document does not say */
			v = lmp_layout_field(doc, c->name);
			break;
		case K_PATH: case K_CLASS: case K_COUNT:
			v = row ? lmp_field(row, cols[i].name) : NULL;
			break;
		default:
			if (row)
				v = c->row ? lmp_field(row, c->row) : NULL;
			else if (phase)
				v = c->phase ? lmp_field(phase, c->phase) : NULL;
			else if (c->doc)
				v = lmp_field(doc, c->doc);
		}
		value(b, v);
	}
	lmp_buf_putc(b, '\n');
}

/* A line of an architecture (a node) or of a module document: the model,
 * path, class and count, or the module's own figures. */
static void
other_line(lmp_buf *b, int index, const char *level, const cJSON *doc, const char *path, const cJSON *cls,
	const cJSON *count)
{
	int i;

	lmp_buf_printf(b, "%d,%s", index, level);
	for (i = 2; i < NCOL; i++) {
		const struct column *c = &cols[i];
		lmp_buf_putc(b, ',');
		if (i == 2 && path)
			value(b, lmp_field(doc, "model.id"));
		else if (c->kind == K_PATH && path)
			text(b, path);
		else if (c->kind == K_CLASS && cJSON_IsString(cls))
			text(b, cls->valuestring);
		else if (c->kind == K_COUNT)
			value(b, count);
		else if (c->kind == K_OUT && c->module && !path)
			value(b, lmp_field(doc, c->row));
	}
	lmp_buf_putc(b, '\n');
}

static void
tree(lmp_buf *b, int index, const cJSON *doc, const cJSON *nodes, const char *prefix)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes) {
		const cJSON *name = lmp_field(n, "name"), *rep = lmp_field(n, "repeat");
		lmp_buf path = {0};

		lmp_layer_path(&path, prefix, cJSON_IsString(name) ? name->valuestring : "", n);
		other_line(b, index, "node", doc, path.s, lmp_field(n, "class"), rep);
		tree(b, index, doc, lmp_field(n, "sub_layers"), path.s);
		lmp_buf_free(&path);
	}
}

int
lmp_csv_doc(const cJSON *doc, int index, lmp_buf *out, lmp_err *e)
{
	const cJSON *k = lmp_field(doc, "lmp"), *p, *r;
	const char *kind = cJSON_IsString(k) ? k->valuestring : "";

	if (!strcmp(kind, "eval") || !strcmp(kind, "roofline")) {
		if (!cJSON_IsObject(lmp_field(doc, "totals")))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s document without totals", kind);
		cJSON_ArrayForEach(p, lmp_field(doc, "phases")) {
			cJSON_ArrayForEach(r, lmp_field(p, "rows"))
				line(out, index, "layer", doc, p, p->string, r);
			line(out, index, "phase", doc, p, p->string, NULL);
		}
		cJSON_ArrayForEach(r, lmp_field(doc, "rows"))
			line(out, index, "layer", doc, NULL, NULL, r);
		line(out, index, "total", doc, NULL, NULL, NULL);
	} else if (!strcmp(kind, "module")) {
		other_line(out, index, "module", doc, NULL, lmp_field(doc, "class"), NULL);
	} else if (!strcmp(kind, "arch") || !strcmp(kind, "populated")) {
		tree(out, index, doc, lmp_field(doc, "layers"), "");
	} else {
		return lmp_fail(e, LMP_EXIT_INPUT, "not an lmp document (\"lmp\": \"%s\")", kind);
	}
	return 0;
}
