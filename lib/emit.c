/* emit.c: one writer for the members lmp_roofline adds to a document,
 * with two back ends: a cJSON object (lmp-roofline, which passes the rest
 * of the document through) and text appended to a buffer (the fused time
 * sweep, lmp-eval --hardware, which splices it into the eval document it
 * has just written).  Both write the same members in the same order with
 * the same number text (lmp_num_str), so the two documents are the same
 * bytes. */
#include <math.h>
#include <string.h>

#include "timed.h"

static void
key(lmp_emit *w, const char *k)
{
	if (w->n++)
		lmp_buf_putc(w->b, ',');
	lmp_json_string(w->b, k);
	lmp_buf_putc(w->b, ':');
}

void
lmp_emit_num(lmp_emit *w, const char *k, double x)
{
	lmp_num v;
	char s[LMP_NUM_STRMAX];

	if (!w->b) {
		lmp_tadd_num(w->obj, k, x);
		return;
	}
	key(w, k);
	if (lmp_num_double(x, &v)) {
		lmp_buf_puts(w->b, "null");
		return;
	}
	lmp_num_str(&v, s);
	lmp_buf_puts(w->b, s);
}

void
lmp_emit_str(lmp_emit *w, const char *k, const char *s)
{
	if (!w->b) {
		cJSON_AddStringToObject(w->obj, k, s);
		return;
	}
	key(w, k);
	lmp_json_string(w->b, s);
}

void
lmp_emit_null(lmp_emit *w, const char *k)
{
	if (!w->b) {
		cJSON_AddNullToObject(w->obj, k);
		return;
	}
	key(w, k);
	lmp_buf_puts(w->b, "null");
}

void
lmp_emit_bool(lmp_emit *w, const char *k, int v)
{
	if (!w->b) {
		cJSON_AddBoolToObject(w->obj, k, v);
		return;
	}
	key(w, k);
	lmp_buf_puts(w->b, v ? "true" : "false");
}

void
lmp_emit_item(lmp_emit *w, const char *k, const cJSON *item)
{
	if (!w->b) {
		cJSON_AddItemToObject(w->obj, k, cJSON_Duplicate(item, 1));
		return;
	}
	key(w, k);
	lmp_json_print_buf(item, 0, w->b);
}

void
lmp_emit_numtext(lmp_emit *w, const char *k, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];

	if (!w->b) {
		cJSON_AddItemToObject(w->obj, k, lmp_json_new_num(v));
		return;
	}
	key(w, k);
	lmp_num_str(v, s);
	lmp_buf_puts(w->b, s);
}

lmp_emit
lmp_emit_open(lmp_emit *w, const char *k)
{
	lmp_emit c = {0};

	if (!w->b) {
		c.obj = cJSON_AddObjectToObject(w->obj, k);
		return c;
	}
	key(w, k);
	lmp_buf_putc(w->b, '{');
	c.b = w->b;
	return c;
}

void
lmp_emit_close(lmp_emit *c)
{
	if (c->b)
		lmp_buf_putc(c->b, '}');
}
