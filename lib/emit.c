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

/* ,"k": written straight into the buffer: the keys are the writer's own
 * literals (plain ASCII, nothing to escape), so lmp_json_string's scan for
 * characters to escape is not needed; room for a number after it is made
 * at once.  Returns where the value goes. */
static inline char *
keyn(lmp_emit *w, const char *k, size_t n)
{
	lmp_buf *b = w->b;
	char *p;

	if (b->len + n + 4 + LMP_NUM_STRMAX + 1 > b->cap)
		lmp_buf_grow(b, n + 4 + LMP_NUM_STRMAX);
	p = b->s + b->len;
	if (w->n++)
		*p++ = ',';
	*p++ = '"';
	lmp_copy_short(p, k, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	*p = '\0';
	b->len = (size_t)(p - b->s);
	return p;
}

/* A member --fields leaves out (lmp_emit's want and off). */
static inline int
unwanted(const lmp_emit *w, const char *k, size_t n)
{
	return w->off || (w->want && !lmp_fields_sub(w->want, k, n, NULL));
}

static char *
key(lmp_emit *w, const char *k)
{
	return keyn(w, k, strlen(k));
}

/* The last text written of a number, one slot per key (by the key's
 * address: a member of a sweep's documents often keeps its value from
 * point to point, and its text is then copied, not worked out again).
 * The text is the value's alone, so a slot another key shares only
 * misses more: the address is hashed (Fibonacci hashing) into several
 * times as many slots as a document has such keys, so that which keys
 * share a slot does not hang on where the linker put their literals. */
#define MEMO_BITS 8
#define MEMO_SLOTS (1 << MEMO_BITS)
static struct {
	uint64_t bits;
	int len; /* 0: empty */
	char text[32];
} memo[MEMO_SLOTS];
_Static_assert(sizeof memo[0].text <= LMP_NUM_STRMAX, "a slot's copy stays inside the room keyn leaves");

/* The buffer back end of lmp_emit_numk, apart so that a member --fields
 * leaves out returns before this one's registers are saved. */
static __attribute__((noinline)) void
numk_text(lmp_emit *w, const char *k, size_t klen, double x)
{
	char *p = keyn(w, k, klen);
	uint64_t bits;
	unsigned slot = (unsigned)((uint64_t)(uintptr_t)k * 0x9E3779B97F4A7C15ULL >> (64 - MEMO_BITS));
	int len;

	/* lmp_num_str of lmp_num_double(x) is lmp_double_str(x): a finite
	 * double's text, written in place (key left LMP_NUM_STRMAX of room) */
	if (!isfinite(x)) {
		lmp_buf_add(w->b, "null", 4);
		return;
	}
	memcpy(&bits, &x, sizeof bits);
	/* whole slots copied (keyn left LMP_NUM_STRMAX of room past p): a
	 * fixed size is a few moves, a length a call */
	if (memo[slot].len && memo[slot].bits == bits) {
		memcpy(p, memo[slot].text, sizeof memo[slot].text);
		w->b->len += (size_t)memo[slot].len;
		p[memo[slot].len] = '\0';
		return;
	}
	len = lmp_double_str(x, p);
	w->b->len += (size_t)len;
	if (len < (int)sizeof memo[slot].text) {
		memcpy(memo[slot].text, p, sizeof memo[slot].text);
		memo[slot].len = len;
		memo[slot].bits = bits;
	}
}

void
lmp_emit_numk(lmp_emit *w, const char *k, size_t klen, double x)
{
	if (unwanted(w, k, klen))
		return;
	if (!w->b) {
		lmp_tadd_num(w->obj, k, x);
		return;
	}
	numk_text(w, k, klen, x);
}

void
lmp_emit_str(lmp_emit *w, const char *k, const char *s)
{
	if (unwanted(w, k, strlen(k)))
		return;
	if (!w->b) {
		cJSON_AddStringToObject(w->obj, k, s);
		return;
	}
	(void)key(w, k);
	lmp_json_string(w->b, s);
}

void
lmp_emit_null(lmp_emit *w, const char *k)
{
	if (unwanted(w, k, strlen(k)))
		return;
	if (!w->b) {
		cJSON_AddNullToObject(w->obj, k);
		return;
	}
	(void)key(w, k);
	lmp_buf_puts(w->b, "null");
}

void
lmp_emit_bool(lmp_emit *w, const char *k, int v)
{
	if (unwanted(w, k, strlen(k)))
		return;
	if (!w->b) {
		cJSON_AddBoolToObject(w->obj, k, v);
		return;
	}
	(void)key(w, k);
	lmp_buf_puts(w->b, v ? "true" : "false");
}

void
lmp_emit_item(lmp_emit *w, const char *k, const cJSON *item)
{
	if (unwanted(w, k, strlen(k)))
		return;
	if (!w->b) {
		cJSON_AddItemToObject(w->obj, k, cJSON_Duplicate(item, 1));
		return;
	}
	(void)key(w, k);
	lmp_json_print_buf(item, 0, w->b);
}

void
lmp_emit_numtext(lmp_emit *w, const char *k, const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];

	if (unwanted(w, k, strlen(k)))
		return;
	if (!w->b) {
		cJSON_AddItemToObject(w->obj, k, lmp_json_new_num(v));
		return;
	}
	(void)key(w, k);
	lmp_num_str(v, s);
	lmp_buf_puts(w->b, s);
}

lmp_emit
lmp_emit_open(lmp_emit *w, const char *k)
{
	lmp_emit c = {0};

	if (w->off || (w->want && !lmp_fields_sub(w->want, k, strlen(k), &c.want))) {
		c.off = 1;
		return c;
	}
	if (!w->b) {
		c.obj = cJSON_AddObjectToObject(w->obj, k);
		return c;
	}
	(void)key(w, k);
	lmp_buf_putc(w->b, '{');
	c.b = w->b;
	return c;
}

void
lmp_emit_close(lmp_emit *c)
{
	if (c->b && !c->off)
		lmp_buf_putc(c->b, '}');
}
