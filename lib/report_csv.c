/* report_csv.c: lmp documents as CSV for spreadsheets and scripts.  One
 * fixed header whatever the input, so a column is where a script left it;
 * numbers keep the exact text of the document; a field a row does not have
 * is empty.  RFC 4180 quoting. */
#include <string.h>

#include "report.h"

static const char *const header[] = {
	"doc", "level", "model", "hardware", "phase", "batch_size", "seq_len", "cache_len", "queries",
	"prompt_len", "gen_len", "w_bit", "a_bit", "kv_bit", "path", "class", "count", "param_count",
	"active_param_count", "flops", "weight_bytes", "read_bytes", "write_bytes", "intermediate_bytes",
	"state_bytes", "intensity", "time_s", "bound", "ttft_s", "tpot_s", "tokens_per_s", "mfu", "mbu",
	"needed_bytes", "capacity_bytes", "fits",
};
enum { NCOL = sizeof header / sizeof *header };

/* Where each column's value is found: in the row, then in the phase, then
 * in the document ("" where that level has nothing for it). */
struct where {
	const char *row, *phase, *doc;
};
static const struct where where[NCOL] = {
	[2] = {"", "", "model.id"},
	[3] = {"", "", "roofline.hardware"},
	[5] = {"", "runtime.batch_size", "runtime.batch_size"},
	[6] = {"", "runtime.seq_len", "runtime.seq_len"},
	[7] = {"", "runtime.cache_len", "runtime.cache_len"},
	[9] = {"", "", "runtime.prompt_len"},
	[10] = {"", "", "runtime.gen_len"},
	[11] = {"", "", "runtime.w_bit"},
	[12] = {"", "", "runtime.a_bit"},
	[13] = {"", "", "runtime.kv_bit"},
	[14] = {"path", "", ""},
	[15] = {"class", "", ""},
	[16] = {"count", "", ""},
	[17] = {"param_count", "totals.param_count", "totals.param_count"},
	[18] = {"", "", "totals.active_param_count"},
	[19] = {"flops", "totals.flops", "totals.flops"},
	[20] = {"bytes.weights", "totals.bytes.weights", "totals.bytes.weights"},
	[21] = {"bytes.reads", "totals.bytes.reads", "totals.bytes.reads"},
	[22] = {"bytes.writes", "totals.bytes.writes", "totals.bytes.writes"},
	[23] = {"bytes.intermediates", "totals.bytes.intermediates", "totals.bytes.intermediates"},
	[24] = {"state_bytes", "totals.state_bytes", "totals.state_bytes"},
	[25] = {"intensity", "totals.intensity", "totals.intensity"},
	[26] = {"time_s", "totals.time_s", "totals.time_s"},
	[27] = {"bound", "totals.bound", "totals.bound"},
	[28] = {"", "", "totals.ttft_s"},
	[29] = {"", "", "totals.tpot_s"},
	[30] = {"", "", "totals.tokens_per_s"},
	[31] = {"", "", "totals.mfu"},
	[32] = {"", "", "totals.mbu"},
	[33] = {"", "", "fit.needed_bytes"},
	[34] = {"", "", "fit.capacity_bytes"},
	[35] = {"", "", "fit.fits"},
};

/* Columns that say what was asked (model, device, runtime), not what came out. */
static int
setting(int i)
{
	return (i >= 2 && i <= 3) || (i >= 5 && i <= 7) || (i >= 9 && i <= 13);
}

static void
field(lmp_buf *b, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		lmp_buf_puts(b, s);
		return;
	}
	lmp_buf_putc(b, '"');
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
	int i;

	for (i = 0; i < NCOL; i++) {
		if (i)
			lmp_buf_putc(out, ',');
		lmp_buf_puts(out, header[i]);
	}
	lmp_buf_putc(out, '\n');
}

static void
value(lmp_buf *b, const cJSON *v)
{
	const char *t = lmp_field_text(v);

	if (t)
		field(b, t);
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
		field(b, s.s);
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
		const cJSON *v = NULL;
		lmp_buf_putc(b, ',');
		if (i == 4) {
			if (phase_name)
				field(b, phase_name);
			continue;
		}
		if (i == 8) {
			queries(b, lmp_field(doc, "runtime.queries"));
			continue;
		}
		if (setting(i)) {
			/* what was asked holds for every row of the document */
			if (phase && where[i].phase && *where[i].phase)
				v = lmp_field(phase, where[i].phase);
			if (!v)
				v = lmp_field(doc, where[i].doc);
		} else if (row) {
			v = *where[i].row ? lmp_field(row, where[i].row) : NULL;
		} else if (phase) {
			v = where[i].phase && *where[i].phase ? lmp_field(phase, where[i].phase) : NULL;
		} else if (where[i].doc && *where[i].doc) {
			v = lmp_field(doc, where[i].doc);
		}
		value(b, v);
	}
	lmp_buf_putc(b, '\n');
}

static void
tree(lmp_buf *b, int index, const cJSON *doc, const cJSON *nodes, const char *prefix)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes) {
		const cJSON *name = lmp_field(n, "name"), *cls = lmp_field(n, "class");
		const cJSON *rep = lmp_field(n, "repeat");
		lmp_buf path = {0};
		int i;

		lmp_layer_path(&path, prefix, cJSON_IsString(name) ? name->valuestring : "", n);
		lmp_buf_printf(b, "%d,node,", index);
		value(b, lmp_field(doc, "model.id"));
		for (i = 3; i < NCOL; i++) {
			lmp_buf_putc(b, ',');
			if (i == 14)
				field(b, path.s);
			else if (i == 15 && cJSON_IsString(cls))
				field(b, cls->valuestring);
			else if (i == 16)
				value(b, rep);
		}
		lmp_buf_putc(b, '\n');
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
		lmp_buf_printf(out, "%d,module,", index);
		for (int i = 3; i < NCOL; i++) {
			lmp_buf_putc(out, ',');
			if (i == 15)
				value(out, lmp_field(doc, "class"));
			else if (i >= 17 && i <= 24 && where[i].row && *where[i].row)
				value(out, lmp_field(doc, where[i].row));
		}
		lmp_buf_putc(out, '\n');
	} else if (!strcmp(kind, "arch") || !strcmp(kind, "populated")) {
		tree(out, index, doc, lmp_field(doc, "layers"), "");
	} else {
		return lmp_fail(e, LMP_EXIT_INPUT, "not an lmp document (\"lmp\": \"%s\")", kind);
	}
	return 0;
}
