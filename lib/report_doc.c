/* report_doc.c: the blocks that describe one lmp document: a title, the
 * device, a table of layers per phase, the totals and the memory fit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *
str(const cJSON *doc, const char *path)
{
	const cJSON *v = lmp_field(doc, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *
kind(const cJSON *doc)
{
	const char *k = str(doc, "lmp");

	return k ? k : "";
}

/* A number's literal, grouped in thousands when it is a whole number. */
static void
exact(const cJSON *v, char *out)
{
	const char *t = lmp_field_text(v);

	if (!t || !cJSON_IsNumber(v))
		snprintf(out, LMP_UNIT_MAX, "-");
	else
		lmp_fmt_grouped(t, out);
}

/* "batch_size 1, seq_len 2048, cache_len 0" or the queries of a mixed step. */
static void
describe_runtime(const cJSON *rt, lmp_buf *b)
{
	static const char *const keys[] = {"batch_size", "seq_len", "cache_len", "prompt_len", "gen_len"};
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(rt, "queries"), *x;
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *t = lmp_field_text(cJSON_GetObjectItemCaseSensitive(rt, keys[i]));
		if (t) {
			lmp_buf_printf(b, "%s%s %s", first ? "" : ", ", keys[i], t);
			first = 0;
		}
	}
	if (cJSON_IsArray(q)) {
		lmp_buf_printf(b, "%squeries ", first ? "" : ", ");
		first = 0;
		cJSON_ArrayForEach(x, q) {
			const char *s = lmp_field_text(lmp_field(x, "seq_len"));
			const char *c = lmp_field_text(lmp_field(x, "cache_len"));
			const char *n = lmp_field_text(lmp_field(x, "count"));
			lmp_buf_printf(b, "%s%s:%s", x == q->child ? "" : ",", s ? s : "?", c ? c : "?");
			if (n && strcmp(n, "1"))
				lmp_buf_printf(b, "x%s", n);
		}
	}
	const char *w = lmp_field_text(lmp_field(rt, "w_bit"));
	const char *a = lmp_field_text(lmp_field(rt, "a_bit"));
	const char *kv = lmp_field_text(lmp_field(rt, "kv_bit"));
	if (w && a && kv)
		lmp_buf_printf(b, "%sw%s a%s kv%s", first ? "" : ", ", w, a, kv);
}

const char *const lmp_layout_fields[] = {"tp", "pp", "ep", "dp", NULL};

const cJSON *
lmp_layout_field(const cJSON *doc, const char *name)
{
	char path[64];
	const cJSON *v;

	snprintf(path, sizeof path, "roofline.%s", name);
	if ((v = lmp_field(doc, path)))
		return v;
	snprintf(path, sizeof path, "runtime.%s", name);
	return lmp_field(doc, path);
}

/* " x8 tp8 pp1": what follows the device's id (the count when it is not
 * 1 and asked for, then the layout fields given). */
static void
layout_suffix(const cJSON *doc, int count, lmp_buf *b)
{
	const char *d = lmp_field_text(lmp_field(doc, "roofline.devices"));

	if (count && d && strcmp(d, "1"))
		lmp_buf_printf(b, " x%s", d);
	for (int i = 0; lmp_layout_fields[i]; i++) {
		const char *t = lmp_field_text(lmp_layout_field(doc, lmp_layout_fields[i]));
		if (t)
			lmp_buf_printf(b, " %s%s", lmp_layout_fields[i], t);
	}
}

void
lmp_report_device(const cJSON *doc, char *out, size_t n)
{
	lmp_buf b = {0};
	const char *id = str(doc, "roofline.hardware");

	lmp_buf_puts(&b, id ? id : "?");
	layout_suffix(doc, 1, &b);
	snprintf(out, n, "%s", b.s);
	lmp_utf8_clip(out);
	lmp_buf_free(&b);
}

/* "calibrated on 42 measurements (...), held-out median error 4.6%; engine
 * vllm on 2 devices, tp2 pp1 ep1": the note of roofline.time_model, the
 * engine it was chosen for and the layout the times are of. */
void
lmp_report_time_model(const cJSON *doc, lmp_buf *b)
{
	const char *note = str(doc, "roofline.time_model.note"), *eng = str(doc, "runtime.engine");
	const char *d = lmp_field_text(lmp_field(doc, "roofline.devices"));

	if (!note)
		note = str(doc, "roofline.time_model.status");
	if (!note)
		return;
	/* a document without an engine is transformers' forward (lmp-engine(5)) */
	lmp_buf_printf(b, "%s; engine %s", note, eng ? eng : "transformers");
	if (d)
		lmp_buf_printf(b, " on %s device%s", d, strcmp(d, "1") ? "s" : "");
	for (int i = 0, first = 1; lmp_layout_fields[i]; i++) {
		const char *t = lmp_field_text(lmp_layout_field(doc, lmp_layout_fields[i]));
		if (t) {
			lmp_buf_printf(b, "%s%s%s", first ? ", " : " ", lmp_layout_fields[i], t);
			first = 0;
		}
	}
}

static void
time_model_item(lmp_table *l, const cJSON *doc)
{
	lmp_buf b = {0};

	lmp_report_time_model(doc, &b);
	if (b.s)
		lmp_report_item(l, "time model", "%s", b.s);
	lmp_buf_free(&b);
}

static void
device_items(lmp_table *l, const cJSON *doc)
{
	const cJSON *h = lmp_field(doc, "roofline");
	char peak[LMP_UNIT_MAX], bw[LMP_UNIT_MAX], ridge[LMP_UNIT_MAX];
	const char *name = str(h, "hardware_name"), *id = str(h, "hardware");
	double devices = lmp_field_or(h, "devices", 1);
	double ce = lmp_field_or(h, "compute_efficiency", 1), me = lmp_field_or(h, "memory_efficiency", 1);

	if (!cJSON_IsObject(h))
		return;
	lmp_fmt_rate(lmp_field_or(h, "peak_flops", 0), "FLOP/s", peak);
	lmp_fmt_rate(lmp_field_or(h, "memory_bandwidth_bytes_per_s", 0), "B/s", bw);
	lmp_fmt_plain(lmp_field_or(h, "ridge_point", 0), ridge);
	lmp_buf lay = {0};
	layout_suffix(doc, 0, &lay);
	if (devices != 1)
		lmp_report_item(l, "device", "%.0f x %s (%s%s)", devices, name ? name : "?", id ? id : "?",
			lay.s ? lay.s : "");
	else
		lmp_report_item(l, "device", "%s (%s%s)", name ? name : "?", id ? id : "?", lay.s ? lay.s : "");
	lmp_buf_free(&lay);
	lmp_report_item(l, "peak", "%s %s, memory %s, ridge point %s FLOP/B", str(h, "compute_precision") ?
		str(h, "compute_precision") : "?", peak, bw, ridge);
	if (ce != 1 || me != 1)
		lmp_report_item(l, "efficiency", "compute %g, memory %g of peak", ce, me);
	if (str(h, "bytes_moved"))
		lmp_report_item(l, "bytes moved", "%s", str(h, "bytes_moved"));
	if (str(h, "note"))
		lmp_report_item(l, "note", "%s", str(h, "note"));
	time_model_item(l, doc);
}

/* One row per layer, per instance; "% time" (or "% FLOPs" without a device)
 * is the share of all instances of the layer in the phase. */
static lmp_table *
layer_table(const cJSON *rows, const cJSON *tot)
{
	static const char *const head_roof[] = {"path", "count", "params", "FLOPs", "weights", "reads", "writes",
		"intensity", "time", "% time", "bound"};
	static const char *const head_eval[] = {"path", "count", "params", "FLOPs", "weights", "reads", "writes",
		"% FLOPs"};
	int roof = lmp_field(rows->child, "time_s") != NULL;
	lmp_table *t = roof ? lmp_table_new(11, head_roof, "lrrrrrrrrrl") : lmp_table_new(8, head_eval, "lrrrrrrr");
	double whole = roof ? lmp_field_or(tot, "time_s", 0) : lmp_field_or(tot, "flops", 0);
	char c[11][LMP_UNIT_MAX];
	const char *cells[11];
	const cJSON *r;
	int i;

	for (i = 0; i < 11; i++)
		cells[i] = c[i];
	cJSON_ArrayForEach(r, rows) {
		double count = lmp_field_or(r, "count", 1);
		cells[0] = str(r, "path") ? str(r, "path") : "?";
		exact(lmp_field(r, "count"), c[1]);
		lmp_fmt_count(lmp_field_or(r, "param_count", 0), c[2]);
		lmp_fmt_flops(lmp_field_or(r, "flops", 0), c[3]);
		lmp_fmt_bytes(lmp_field_or(r, "bytes.weights", 0), c[4]);
		lmp_fmt_bytes(lmp_field_or(r, "bytes.reads", 0), c[5]);
		lmp_fmt_bytes(lmp_field_or(r, "bytes.writes", 0), c[6]);
		if (roof) {
			lmp_fmt_ratio(lmp_field_or(r, "intensity", 0), c[7]);
			lmp_fmt_time(lmp_field_or(r, "time_s", 0), c[8]);
			lmp_fmt_percent(whole > 0 ? count * lmp_field_or(r, "time_s", 0) / whole : 0, c[9]);
			cells[10] = str(r, "bound") ? str(r, "bound") : "";
		} else {
			lmp_fmt_percent(whole > 0 ? count * lmp_field_or(r, "flops", 0) / whole : 0, c[7]);
		}
		lmp_table_add(t, cells);
	}
	return t;
}

static void
bytes_item(lmp_table *l, const char *key, const cJSON *v)
{
	char h[LMP_UNIT_MAX], x[LMP_UNIT_MAX];

	if (!cJSON_IsNumber(v))
		return;
	lmp_fmt_bytes(v->valuedouble, h);
	exact(v, x);
	lmp_report_item(l, key, "%s (%s bytes)", h, x);
}

/* The totals of a step, a phase or a request. */
static void
totals_items(lmp_table *l, const cJSON *tot, int whole)
{
	char a[LMP_UNIT_MAX], b[LMP_UNIT_MAX], c[LMP_UNIT_MAX], d[LMP_UNIT_MAX], x[LMP_UNIT_MAX];
	const cJSON *v;

	if (whole) {
		lmp_fmt_count(lmp_field_or(tot, "param_count", 0), a);
		exact(lmp_field(tot, "param_count"), x);
		lmp_report_item(l, "parameters", "%s (%s)", a, x);
		v = lmp_field(tot, "active_param_count");
		if (cJSON_IsNumber(v) && v->valuedouble != lmp_field_or(tot, "param_count", 0)) {
			lmp_fmt_count(v->valuedouble, a);
			exact(v, x);
			lmp_report_item(l, "active per token", "%s (%s)", a, x);
		}
	}
	lmp_fmt_flops(lmp_field_or(tot, "flops", 0), a);
	exact(lmp_field(tot, "flops"), x);
	lmp_report_item(l, "FLOPs", "%s (%s)", a, x);
	lmp_fmt_bytes(lmp_field_or(tot, "bytes.weights", 0), a);
	lmp_fmt_bytes(lmp_field_or(tot, "bytes.reads", 0), b);
	lmp_fmt_bytes(lmp_field_or(tot, "bytes.writes", 0), c);
	lmp_fmt_bytes(lmp_field_or(tot, "bytes.intermediates", 0), d);
	lmp_report_item(l, "bytes moved", "reads %s (of them weights %s), writes %s, intermediates %s", b, a, c, d);
	bytes_item(l, "KV cache", lmp_field(tot, "state_bytes"));
	if ((v = lmp_field(tot, "time_s")) && cJSON_IsNumber(v)) {
		lmp_fmt_time(v->valuedouble, a);
		lmp_fmt_plain(lmp_field_or(tot, "intensity", 0), b);
		if (str(tot, "bound"))
			lmp_report_item(l, "time", "%s, %s-bound, intensity %s FLOP/B", a, str(tot, "bound"), b);
		else
			lmp_report_item(l, "time", "%s", a);
	}
	if ((v = lmp_field(tot, "ttft_s")) && cJSON_IsNumber(v)) {
		lmp_fmt_time(v->valuedouble, a);
		lmp_fmt_time(lmp_field_or(tot, "tpot_s", 0), b);
		lmp_report_item(l, "TTFT, TPOT", "%s, %s", a, b);
	}
	if ((v = lmp_field(tot, "tokens_per_s")) && cJSON_IsNumber(v)) {
		lmp_fmt_plain(v->valuedouble, a);
		lmp_report_item(l, "tokens/s", "%s", a);
	}
	if ((v = lmp_field(tot, "mfu")) && cJSON_IsNumber(v)) {
		lmp_fmt_percent(v->valuedouble, a);
		lmp_fmt_percent(lmp_field_or(tot, "mbu", 0), b);
		lmp_report_item(l, "MFU, MBU", "%s, %s", a, b);
	}
}

/* What the model takes to keep: its weights as lmp-eval stored them
 * (totals.weight_bytes) and the KV cache at the end. */
static void
storage_item(lmp_table *l, const cJSON *doc)
{
	lmp_num bytes;
	char h[LMP_UNIT_MAX], x[LMP_NUM_STRMAX], g[LMP_UNIT_MAX], kv[LMP_UNIT_MAX];
	const char *bits = lmp_field_text(lmp_field(doc, "runtime.w_bit"));

	if (!bits || lmp_json_num(lmp_field(doc, "totals.weight_bytes"), &bytes))
		return;
	lmp_fmt_bytes(lmp_num_to_double(&bytes), h);
	lmp_num_str(&bytes, x);
	lmp_fmt_grouped(x, g);
	lmp_fmt_bytes(lmp_field_or(doc, "totals.state_bytes", 0), kv);
	/* The checkpoint's own formats (quantization_config): w_bit is their
	 * element width, the bytes include scales and layers kept at 16 bits. */
	if (lmp_field_text(lmp_field(doc, "runtime.w_format")))
		lmp_report_item(l, "storage", "weights %s in the checkpoint's formats, %s-bit elements with scales (%s bytes) + KV cache %s",
			h, bits, g, kv);
	else
		lmp_report_item(l, "storage", "weights %s at %s bits (%s bytes) + KV cache %s", h, bits, g, kv);
}

static void
fit_items(lmp_report *r, const cJSON *doc)
{
	const cJSON *f = lmp_field(doc, "fit"), *v;
	char a[LMP_UNIT_MAX], b[LMP_UNIT_MAX], c[LMP_UNIT_MAX], n[LMP_UNIT_MAX], cap[LMP_UNIT_MAX];
	lmp_table *l;

	if (!cJSON_IsObject(f))
		return;
	lmp_report_head(r, 2, "memory");
	l = lmp_report_list(r);
	lmp_fmt_bytes(lmp_field_or(f, "weights_bytes", 0), a);
	lmp_fmt_bytes(lmp_field_or(f, "kv_cache_bytes", 0), b);
	v = lmp_field(f, "activation_bytes");
	if (cJSON_IsNumber(v))
		lmp_fmt_bytes(v->valuedouble, c);
	else
		snprintf(c, sizeof c, "unknown");
	lmp_fmt_bytes(lmp_field_or(f, "needed_bytes", 0), n);
	lmp_fmt_bytes(lmp_field_or(f, "capacity_bytes", 0), cap);
	lmp_report_item(l, "needed", "%s = weights %s + KV cache %s + activations %s", n, a, b, c);
	lmp_report_item(l, "capacity", "%s: %s", cap, cJSON_IsTrue(lmp_field(f, "fits")) ? "fits" : "does not fit");
	v = lmp_field(f, "kv_cache_tokens");
	if (cJSON_IsNumber(v)) {
		/* the engine's own start-up figure (lmp-engine(5)) */
		exact(v, a);
		exact(lmp_field(f, "kv_cache_blocks"), b);
		lmp_fmt_bytes(lmp_field_or(f, "engine_memory_bytes", 0), c);
		lmp_report_item(l, "engine KV cache", "%s tokens (%s blocks) of the engine's %s", a, b, c);
	}
	v = lmp_field(f, "max_batch_size");
	if (cJSON_IsNumber(v)) {
		exact(v, a);
		exact(lmp_field(f, "max_context_len"), b);
		lmp_report_item(l, "largest batch", "%s (at this context)", a);
		lmp_report_item(l, "longest context", "%s tokens (at this batch)", b);
	} else if (cJSON_IsNull(v)) {
		lmp_report_item(l, "largest batch", "unbounded (nothing grows with it)");
	}
	if (str(f, "note"))
		lmp_report_item(l, "note", "%s", str(f, "note"));
}

static void
title(lmp_report *r, const cJSON *doc)
{
	lmp_buf b = {0};
	const char *id = str(doc, "model.id");

	describe_runtime(lmp_field(doc, "runtime"), &b);
	/* a document without one is transformers' forward (lmp-engine(5)) */
	if (str(doc, "runtime.engine"))
		lmp_buf_printf(&b, ", engine %s", str(doc, "runtime.engine"));
	lmp_report_head(r, 1, "%s: %s", id ? id : "model", b.s ? b.s : "");
	lmp_buf_free(&b);
}

/* The config's fields that lmp-inspect did not use (model.config_unused):
 * a note under the model, since the figures ignore them. */
static void
unused_note(lmp_report *r, lmp_table *l, const cJSON *doc)
{
	const cJSON *un = lmp_field(doc, "model.config_unused"), *f;
	lmp_buf b = {0};

	if (cJSON_GetArraySize(un) == 0)
		return;
	cJSON_ArrayForEach(f, un)
		lmp_buf_printf(&b, "%s%s", b.len ? ", " : "", cJSON_IsString(f) ? f->valuestring : "?");
	lmp_report_item(l ? l : lmp_report_list(r), "note", "config field%s not used (they may change the model): %s",
		cJSON_GetArraySize(un) == 1 ? "" : "s", b.s);
	lmp_buf_free(&b);
}

static void
step_doc(lmp_report *r, const cJSON *doc)
{
	const cJSON *rows = lmp_field(doc, "rows"), *phases = lmp_field(doc, "phases"), *p;
	lmp_table *l;

	title(r, doc);
	unused_note(r, NULL, doc);
	if (cJSON_IsObject(lmp_field(doc, "roofline")))
		device_items(lmp_report_list(r), doc);
	cJSON_ArrayForEach(p, phases) {
		lmp_buf b = {0};
		const char *steps = lmp_field_text(lmp_field(p, "steps"));
		describe_runtime(lmp_field(p, "runtime"), &b);
		const char *first = lmp_field_text(lmp_field(p, "runtime.cache_len_first"));
		const char *last = lmp_field_text(lmp_field(p, "runtime.cache_len_last"));
		if (first && last)
			lmp_buf_printf(&b, "%scache_len %s..%s", b.len ? ", " : "", first, last);
		if (!p->string)
			continue; /* "phases" is an object of named phases */
		lmp_report_head(r, 2, "%s: %s step%s%s, %s", p->string, steps ? steps : "?",
			steps && !strcmp(steps, "1") ? "" : "s", steps && !strcmp(steps, "1") ? "" : " (rows: all steps)",
			b.s ? b.s : "");
		lmp_buf_free(&b);
		if (cJSON_GetArraySize(lmp_field(p, "rows")) > 0)
			lmp_report_table(r, layer_table(lmp_field(p, "rows"), lmp_field(p, "totals")));
		totals_items(lmp_report_list(r), lmp_field(p, "totals"), 0);
	}
	if (cJSON_GetArraySize(rows) > 0) {
		lmp_report_head(r, 2, "layers (one instance per row; count: how many)");
		lmp_report_table(r, layer_table(rows, lmp_field(doc, "totals")));
	}
	lmp_report_head(r, 2, "totals");
	l = lmp_report_list(r);
	totals_items(l, lmp_field(doc, "totals"), 1);
	storage_item(l, doc);
	fit_items(r, doc);
	lmp_report_checkpoint(r, doc);
}

static void
module_doc(lmp_report *r, const cJSON *doc)
{
	const cJSON *p, *bd = lmp_field(doc, "breakdown");
	lmp_table *l;
	lmp_buf b = {0};
	char a[LMP_UNIT_MAX];

	lmp_report_head(r, 1, "module %s", str(doc, "class") ? str(doc, "class") : "?");
	l = lmp_report_list(r);
	cJSON_ArrayForEach(p, lmp_field(doc, "params")) {
		const char *t = lmp_field_text(p);
		lmp_buf_printf(&b, "%s%s=%s", b.len ? ", " : "", p->string ? p->string : "?", t ? t : "?");
	}
	lmp_report_item(l, "params", "%s", b.s ? b.s : "");
	lmp_buf_free(&b);
	totals_items(l, doc, 1);
	if (cJSON_IsObject(bd)) {
		lmp_report_head(r, 2, "FLOPs by part");
		l = lmp_report_list(r);
		cJSON_ArrayForEach(p, bd) {
			lmp_fmt_flops(cJSON_IsNumber(p) ? p->valuedouble : 0, a);
			lmp_report_item(l, p->string ? p->string : "?", "%s", a);
		}
	}
}

/* An architecture: its tree, one row per node, count = instances. */
static void
tree_rows(lmp_table *t, const cJSON *nodes, const char *prefix, double count, int populated)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes) {
		lmp_buf path = {0}, what = {0};
		const cJSON *rep = lmp_field(n, "repeat"), *kv;
		double c = count * (cJSON_IsNumber(rep) ? rep->valuedouble : 1);
		char cnt[LMP_UNIT_MAX];
		const char *cells[4];

		lmp_layer_path(&path, prefix, str(n, "name") ? str(n, "name") : "?", n);
		snprintf(cnt, sizeof cnt, "%.0f", c);
		cJSON_ArrayForEach(kv, lmp_field(n, populated ? "params" : "attrs")) {
			const char *v = lmp_field_text(kv);
			lmp_buf_printf(&what, "%s%s=%s", what.len ? " " : "", kv->string ? kv->string : "?", v ? v : "...");
		}
		cells[0] = path.s;
		cells[1] = str(n, "class") ? str(n, "class") : "?";
		cells[2] = cnt;
		cells[3] = what.s ? what.s : "";
		lmp_table_add(t, cells);
		tree_rows(t, lmp_field(n, "sub_layers"), path.s, c, populated);
		lmp_buf_free(&path);
		lmp_buf_free(&what);
	}
}

static void
tree_doc(lmp_report *r, const cJSON *doc, int populated)
{
	static const char *const head_a[] = {"path", "class", "count", "attrs"};
	static const char *const head_p[] = {"path", "class", "count", "params"};
	lmp_table *t = lmp_table_new(4, populated ? head_p : head_a, "llrl"), *l;

	lmp_report_head(r, 1, "%s: %s architecture", str(doc, "model.id") ? str(doc, "model.id") : "model",
		populated ? "populated" : "inspected");
	l = lmp_report_list(r);
	lmp_report_item(l, "class", "%s", str(doc, "class") ? str(doc, "class") : "?");
	if (str(doc, "model.source"))
		lmp_report_item(l, "config", "%s (%s), sha256 %s", str(doc, "model.config_file") ?
			str(doc, "model.config_file") : "?", str(doc, "model.source"),
			str(doc, "model.config_sha256") ? str(doc, "model.config_sha256") : "?");
	unused_note(r, l, doc);
	tree_rows(t, lmp_field(doc, "layers"), "", 1, populated);
	lmp_report_table(r, t);
	lmp_report_checkpoint(r, doc);
}

int
lmp_report_is_point(const cJSON *doc)
{
	const char *k = kind(doc);
	const cJSON *p, *ph = lmp_field(doc, "phases");

	if (strcmp(k, "eval") && strcmp(k, "roofline"))
		return 0;
	if (cJSON_GetArraySize(lmp_field(doc, "rows")) > 0)
		return 0;
	cJSON_ArrayForEach(p, ph) {
		if (cJSON_GetArraySize(lmp_field(p, "rows")) > 0)
			return 0;
	}
	return 1;
}

int
lmp_report_doc(lmp_report *r, const cJSON *doc, lmp_err *e)
{
	const char *k = kind(doc);

	if (!strcmp(k, "eval") || !strcmp(k, "roofline")) {
		if (!cJSON_IsObject(lmp_field(doc, "totals")))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s document without totals", k);
		step_doc(r, doc);
	} else if (!strcmp(k, "module")) {
		module_doc(r, doc);
	} else if (!strcmp(k, "arch") || !strcmp(k, "populated")) {
		if (lmp_doc_unresolved(doc, e))
			return -1;
		if (!cJSON_IsArray(lmp_field(doc, "layers")))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s document without layers", k);
		tree_doc(r, doc, !strcmp(k, "populated"));
	} else {
		return lmp_fail(e, LMP_EXIT_INPUT, "not an lmp document (\"lmp\": \"%s\"); lmp-report reads "
			"arch, populated, eval, roofline and module documents", k);
	}
	return 0;
}

/* A sweep: one row per point, the columns that some point has. */
struct column {
	const char *head, *path;
	char align;
	void (*fmt)(double, char *);
};

static void fmt_bits(double v, char *out) { snprintf(out, LMP_UNIT_MAX, "%.0f", v); }

static const struct column point_cols[] = {
	{"model", "model.id", 'l', NULL},
	{"device", "roofline.hardware", 'l', NULL},
	{"engine", "runtime.engine", 'l', NULL},
	{"batch", "runtime.batch_size", 'r', NULL},
	{"seq_len", "runtime.seq_len", 'r', NULL},
	{"cache_len", "runtime.cache_len", 'r', NULL},
	{"prompt", "runtime.prompt_len", 'r', NULL},
	{"gen", "runtime.gen_len", 'r', NULL},
	{"w/a/kv bits", "runtime.w_bit", 'r', fmt_bits},
	{"params", "totals.param_count", 'r', lmp_fmt_count},
	{"FLOPs", "totals.flops", 'r', lmp_fmt_flops},
	{"weights", "totals.bytes.weights", 'r', lmp_fmt_bytes},
	{"reads", "totals.bytes.reads", 'r', lmp_fmt_bytes},
	{"writes", "totals.bytes.writes", 'r', lmp_fmt_bytes},
	{"KV cache", "totals.state_bytes", 'r', lmp_fmt_bytes},
	{"time model", "roofline.time_model.status", 'l', NULL},
	{"time", "totals.time_s", 'r', lmp_fmt_time},
	{"bound", "totals.bound", 'l', NULL},
	{"TTFT", "totals.ttft_s", 'r', lmp_fmt_time},
	{"TPOT", "totals.tpot_s", 'r', lmp_fmt_time},
	{"tokens/s", "totals.tokens_per_s", 'r', lmp_fmt_plain},
	{"memory", "fit.needed_bytes", 'r', lmp_fmt_bytes},
	{"fits", "fit.fits", 'l', NULL},
};
enum { NPC = sizeof point_cols / sizeof *point_cols };

/* The time models of a sweep's points, each said once, in the order met:
 * what the table's "time model" column stands for. */
#define SAY_MODELS 6

struct lmp_points {
	lmp_report *r;
	int at, n;         /* where its blocks start; points added */
	int use[NPC];      /* the columns some point has */
	lmp_buf cells;     /* each point's NPC cells, each ending in a NUL */
	char *model;       /* the last point's model.id (NULL: none) */
	lmp_buf seen[SAY_MODELS];
	int nseen, more;
	int fits, known;   /* of the points that say whether they fit */
	double best;       /* the most tokens/s of a point that fits, */
	lmp_buf best_item; /* and what the summary says of it (empty: none yet) */
};

lmp_points *
lmp_points_begin(lmp_report *r)
{
	lmp_points *p = lmp_xcalloc(1, sizeof *p);

	p->r = r;
	p->at = r->n;
	return p;
}

/* One point's cell of column j, "-" where it has no value; whether it
 * has the field. */
static int
point_cell(const cJSON *doc, int j, lmp_buf *out)
{
	const struct column *c = &point_cols[j];
	const cJSON *v = lmp_field(doc, c->path);
	char buf[LMP_UNIT_MAX], dev[256];

	if (!v || cJSON_IsNull(v)) {
		lmp_buf_puts(out, "-");
	} else if (!strcmp(c->path, "roofline.hardware")) {
		lmp_report_device(doc, dev, sizeof dev);
		lmp_buf_puts(out, dev);
	} else if (c->fmt == fmt_bits) {
		snprintf(buf, LMP_UNIT_MAX, "%.0f/%.0f/%.0f", v->valuedouble, lmp_field_or(doc, "runtime.a_bit", 0),
			lmp_field_or(doc, "runtime.kv_bit", 0));
		lmp_buf_puts(out, buf);
	} else if (c->fmt && cJSON_IsNumber(v)) {
		c->fmt(v->valuedouble, buf);
		lmp_buf_puts(out, buf);
	} else if (cJSON_IsBool(v)) {
		lmp_buf_puts(out, cJSON_IsTrue(v) ? "yes" : "no");
	} else {
		lmp_buf_puts(out, lmp_field_text(v) ? lmp_field_text(v) : "?");
	}
	lmp_buf_putc(out, '\0');
	return v != NULL;
}

void
lmp_points_add(lmp_points *p, const cJSON *doc)
{
	const char *id = str(doc, "model.id");
	const cJSON *f = lmp_field(doc, "fit.fits"), *t = lmp_field(doc, "totals.tokens_per_s");
	lmp_buf b = {0};
	int j;

	/* its row: every column's cell (which columns the table keeps is
	 * known once every point has come) */
	for (j = 0; j < NPC; j++)
		p->use[j] |= point_cell(doc, j, &p->cells);
	/* the notes, once per model: at a point whose model is not the one
	 * before's */
	if (!p->n || !id || !p->model || strcmp(id, p->model)) {
		unused_note(p->r, NULL, doc);
		lmp_report_checkpoint_note(p->r, doc);
	}
	free(p->model);
	p->model = id ? lmp_xstrdup(id) : NULL;
	/* its time model, if not said yet */
	lmp_report_time_model(doc, &b);
	if (b.len) {
		for (j = 0; j < p->nseen && strcmp(p->seen[j].s, b.s); j++)
			;
		if (j == p->nseen && p->nseen == SAY_MODELS)
			p->more = 1;
		else if (j == p->nseen)
			lmp_buf_puts(&p->seen[p->nseen++], b.s);
	}
	/* the summary: how many fit, and the first with the most tokens/s
	 * among those that fit */
	p->known += cJSON_IsBool(f);
	p->fits += cJSON_IsTrue(f);
	if (cJSON_IsNumber(t) && !cJSON_IsFalse(f) && (!p->best_item.len || t->valuedouble > p->best)) {
		char v[LMP_UNIT_MAX], dev[256];
		p->best = t->valuedouble;
		lmp_fmt_plain(t->valuedouble, v);
		lmp_report_device(doc, dev, sizeof dev);
		b.len = 0;
		describe_runtime(lmp_field(doc, "runtime"), &b);
		p->best_item.len = 0;
		lmp_buf_printf(&p->best_item, "%s tokens/s: %s on %s, %s", v, id ? id : "?", dev, b.s ? b.s : "");
	}
	lmp_buf_free(&b);
	p->n++;
}

void
lmp_points_end(lmp_points *p)
{
	lmp_report *r = p->r;
	const char *head[NPC], *cells[NPC], *c = p->cells.s;
	char right[NPC + 1];
	lmp_table *t, *l = NULL;
	int m = 0, i, j;

	/* the heading, ahead of the notes the points gave */
	lmp_report_head(r, 1, "%d point%s", p->n, p->n == 1 ? "" : "s");
	lmp_report_move_last(r, p->at);
	/* the time models, each said once */
	for (j = 0; j < p->nseen; j++) {
		if (!l)
			l = lmp_report_list(r);
		lmp_report_item(l, "time model", "%s", p->seen[j].s);
		lmp_buf_free(&p->seen[j]);
	}
	if (p->more)
		lmp_report_item(l, "time model", "and others (roofline.time_model of each point)");
	/* a sweep in two lines ahead of its table (which a page may cut
	 * short): how many points fit, and the most tokens/s among those */
	if (p->n > 1 && p->known) {
		if (!l)
			l = lmp_report_list(r);
		lmp_report_item(l, "fit in memory", "%d of %d points", p->fits, p->known);
	}
	if (p->n > 1 && p->best_item.len) {
		if (!l)
			l = lmp_report_list(r);
		lmp_report_item(l, p->known ? "most tokens/s that fit" : "most tokens/s", "%s", p->best_item.s);
	}
	/* the table, of the columns some point has */
	for (j = 0; j < NPC; j++)
		if (p->use[j]) {
			head[m] = point_cols[j].head;
			right[m++] = point_cols[j].align;
		}
	right[m] = '\0';
	t = lmp_table_new(m, head, right);
	for (i = 0; i < p->n; i++) {
		for (j = 0, m = 0; j < NPC; j++, c += strlen(c) + 1)
			if (p->use[j])
				cells[m++] = c;
		lmp_table_add(t, cells);
	}
	lmp_report_table(r, t);
	lmp_buf_free(&p->cells);
	lmp_buf_free(&p->best_item);
	free(p->model);
	free(p);
}
