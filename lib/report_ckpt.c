/* report_ckpt.c: the checkpoint a document was checked against
 * (model.checkpoint, recorded by lmp-inspect --check-weights) and the
 * result of the check (weights_check, written by lmp-eval): a short
 * section under a document, one line per model under a sweep.  Nothing
 * when the document has no checkpoint. */
#include <string.h>

#include "report.h"

#define LISTED 4 /* names a line lists before "and N more" */

/* A whole number's text grouped in thousands ("1,080"); "?" otherwise. */
static const char *
grouped(const cJSON *v, char *out)
{
	const char *t = lmp_field_text(v);

	if (!t || !cJSON_IsNumber(v))
		snprintf(out, LMP_UNIT_MAX, "?");
	else
		lmp_fmt_grouped(t, out);
	return out;
}

/* "23 tensors, 1,212 elements, 2.38 KiB (2,432 bytes)": the tensors' data
 * as their dtypes store it (the headers not counted). */
static void
stored(const cJSON *ck, lmp_buf *b)
{
	char n[LMP_UNIT_MAX], el[LMP_UNIT_MAX], h[LMP_UNIT_MAX], x[LMP_UNIT_MAX];

	lmp_fmt_bytes(lmp_field_or(ck, "bytes", 0), h);
	lmp_buf_printf(b, "%s tensors, %s elements, %s (%s bytes)", grouped(lmp_field(ck, "count"), n),
		grouped(lmp_field(ck, "elements"), el), h, grouped(lmp_field(ck, "bytes"), x));
}

/* "BF16 2.36 KiB (99.3%), I32 16 B (0.7%)" in the document's order. */
static void
dtypes(const cJSON *ck, lmp_buf *b)
{
	const cJSON *d;
	double all = lmp_field_or(ck, "bytes", 0);
	char h[LMP_UNIT_MAX], p[LMP_UNIT_MAX];

	cJSON_ArrayForEach(d, lmp_field(ck, "dtypes")) {
		if (!cJSON_IsNumber(d))
			continue;
		lmp_fmt_bytes(d->valuedouble, h);
		lmp_fmt_percent(all > 0 ? d->valuedouble / all : 0, p);
		lmp_buf_printf(b, "%s%s %s (%s)", b->len ? ", " : "", d->string ? d->string : "?", h, p);
	}
}

/* "11 paths, 20 tensors, 1,080 parameters" of weights_check.matched and
 * .unchecked_quantized. */
static void
counted(const cJSON *o, lmp_buf *b)
{
	char p[LMP_UNIT_MAX], t[LMP_UNIT_MAX], n[LMP_UNIT_MAX];

	lmp_buf_printf(b, "%s path%s, %s tensors, %s parameters", grouped(lmp_field(o, "paths"), p),
		lmp_field_or(o, "paths", 0) == 1 ? "" : "s", grouped(lmp_field(o, "tensors"), t),
		grouped(lmp_field(o, "parameters"), n));
}

/* The first LISTED entries of list as "NAME (NUMBER)" (or "NAME xN"), then
 * how many more. */
static void
names(const cJSON *list, const char *key, const char *num, int times, lmp_buf *b)
{
	const cJSON *x;
	int i = 0, n = cJSON_GetArraySize(list);
	char v[LMP_UNIT_MAX];

	cJSON_ArrayForEach(x, list) {
		const cJSON *k = lmp_field(x, key), *c = lmp_field(x, num);
		if (i++ == LISTED) {
			lmp_buf_printf(b, " and %d more", n - LISTED);
			break;
		}
		lmp_buf_printf(b, "%s%s", i > 1 ? ", " : "", cJSON_IsString(k) ? k->valuestring : "?");
		if (times && lmp_field_or(x, num, 1) != 1)
			lmp_buf_printf(b, " x%s", grouped(c, v));
		else if (!times)
			lmp_buf_printf(b, " (%s)", grouped(c, v));
	}
}

/* The check's result, one item per part; parts that are empty and say
 * nothing (no quantized rows, no tied head) are left out. */
static void
check_items(lmp_table *l, const cJSON *wc)
{
	const cJSON *miss = lmp_field(wc, "missing.paths"), *tied = lmp_field(wc, "tied_absent"), *x;
	const cJSON *extra = lmp_field(wc, "extra.tensors");
	lmp_buf b = {0};
	char v[LMP_UNIT_MAX], w[LMP_UNIT_MAX];

	counted(lmp_field(wc, "matched"), &b);
	lmp_report_item(l, "matched", "%s", b.s);
	if (lmp_field_or(wc, "unchecked_quantized.paths", 0) > 0) {
		b.len = 0;
		counted(lmp_field(wc, "unchecked_quantized"), &b);
		lmp_report_item(l, "quantized", "%s in a quantized format: packed tensors, counts not compared", b.s);
	}
	b.len = 0;
	if (cJSON_GetArraySize(miss) > 0) {
		names(miss, "path", "parameters", 0, &b);
		lmp_report_item(l, "missing", "%s parameters: %s", grouped(lmp_field(wc, "missing.parameters"), v), b.s);
	} else {
		lmp_report_item(l, "missing", "none");
	}
	cJSON_ArrayForEach(x, tied) {
		const cJSON *p = lmp_field(x, "path"), *o = lmp_field(x, "tied");
		lmp_report_item(l, "tied, absent", "%s (%s parameters), stored once as %s",
			cJSON_IsString(p) ? p->valuestring : "?", grouped(lmp_field(x, "parameters"), v),
			cJSON_IsString(o) ? o->valuestring : "?");
	}
	b.len = 0;
	if (cJSON_GetArraySize(extra) > 0) {
		double t = 0;
		cJSON_ArrayForEach(x, extra)
			t += lmp_field_or(x, "count", 1);
		names(extra, "name", "count", 1, &b);
		snprintf(w, sizeof w, "%.0f", t);
		lmp_report_item(l, "extra", "%s elements in %s tensor%s the model does not build: %s",
			grouped(lmp_field(wc, "extra.elements"), v), w, t == 1 ? "" : "s", b.s);
	} else {
		lmp_report_item(l, "extra", "none");
	}
	lmp_buf_free(&b);
}

void
lmp_report_checkpoint(lmp_report *r, const cJSON *doc)
{
	const cJSON *ck = lmp_field(doc, "model.checkpoint"), *wc = lmp_field(doc, "weights_check");
	const cJSON *dir = lmp_field(ck, "directory");
	lmp_buf b = {0};
	lmp_table *l;

	if (!cJSON_IsObject(ck))
		return;
	lmp_report_head(r, 2, "checkpoint");
	l = lmp_report_list(r);
	if (cJSON_IsString(dir))
		lmp_report_item(l, "directory", "%s", dir->valuestring);
	stored(ck, &b);
	lmp_report_item(l, "stored", "%s", b.s);
	b.len = 0;
	dtypes(ck, &b);
	if (b.len)
		lmp_report_item(l, "dtypes", "%s", b.s);
	lmp_buf_free(&b);
	if (cJSON_IsObject(wc))
		check_items(l, wc);
	else
		lmp_report_item(l, "check", "not made here: lmp-eval compares the model with it (weights_check)");
}

void
lmp_report_checkpoint_note(lmp_report *r, const cJSON *doc)
{
	const cJSON *ck = lmp_field(doc, "model.checkpoint"), *wc = lmp_field(doc, "weights_check");
	const cJSON *id = lmp_field(doc, "model.id");
	lmp_buf b = {0};
	char v[LMP_UNIT_MAX], w[LMP_UNIT_MAX], x[LMP_UNIT_MAX];

	if (!cJSON_IsObject(ck))
		return;
	if (cJSON_IsString(id))
		lmp_buf_printf(&b, "%s: ", id->valuestring);
	stored(ck, &b);
	if (cJSON_IsObject(wc))
		lmp_buf_printf(&b, "; matched %s parameters, missing %s, extra %s elements",
			grouped(lmp_field(wc, "matched.parameters"), v), grouped(lmp_field(wc, "missing.parameters"), w),
			grouped(lmp_field(wc, "extra.elements"), x));
	lmp_report_item(lmp_report_list(r), "checkpoint", "%s", b.s);
	lmp_buf_free(&b);
}
