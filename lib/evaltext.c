/* evaltext.c: an eval document's text read as the fused time sweep reads
 * a point, for lmp-roofline: a document as lmp-eval writes it (compact;
 * one step or a request, kernels or rows, one device or a layout) goes to
 * lmp_roofline_point without a tree being built and printed, so
 * lmp-eval ... | lmp-roofline costs about what lmp-eval --hardware does.
 *
 * The roofline document lmp_roofline makes of a document is its text with
 * "lmp" made "roofline", the kernels left out and the time, roofline and
 * fit members added: every member kept is printed as it was read (a
 * number's text as written, lmp_json_print).  lmp_roofline_point makes the
 * same from the text and the numbers the time model reads, so a document
 * read here must be one whose kept text lmp_json_print would print back
 * byte for byte, and whose numbers read here are the ones lmp_roofline
 * reads (lmp_tnum_at: the double of the number's text).  So the reading is
 * strict: the runtime's step, a request's phases, the kernels or rows (a
 * decode's pieces as prep_steps checks them), the totals' quantities and a
 * layout's "parallel" in lmp-eval's order and spelling, each number in
 * JSON's grammar and range (as lmp_json_next checks it and lmp_tnum_at
 * reads it), none negative but a piece's coefficients, strings of
 * printable ASCII; the rest (the model's head, the runtime's settings, a
 * row's weight format, the totals' growth) read as text and taken only
 * where parsing and printing it gives it back (checked once per text: a
 * sweep's are the same from point to point), and only where none of its
 * keys is one the document has outside it (the tree refuses a duplicate).
 * Anything else (pretty or edited text, a value out of line) is declined and goes through lmp_roofline, which says what is
 * wrong with it, if anything.  fuzz/roofline.c holds the two readings to
 * the same bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define WFORMATS 8

struct names {
	char compute[16], group[16];
};

struct lmp_evaltext {
	lmp_buf doc;     /* the document as lmp_roofline_point takes it: no kernels */
	struct lmp_tkernel *k;
	int cap;
	struct names *names; /* each kernel's compute and collective group, as text */
	lmp_runtime rt;
	lmp_query q;
	lmp_buf growth, profile; /* the totals' members as written, NUL-terminated */
	lmp_buf ok[4];           /* the head, settings, growth and a prefill's settings found to print back */
	lmp_buf wf[WFORMATS];    /* rows' weight formats found to print back, */
	char wfc[WFORMATS][16];  /* their compute, */
	int wfk[WFORMATS];       /* where it is a string */
	int wf_next;
	size_t *row_end;         /* a document with rows: each row's closing brace */
	struct lmp_tpiece *pc;   /* a request's decode kernels' pieces, */
	int npc, pccap;
	int *pc_at;              /* each kernel's first */
	int gp_ok;               /* growth and profile hold ok[2]'s text */
};

lmp_evaltext *
lmp_evaltext_new(void)
{
	return lmp_xcalloc(1, sizeof(lmp_evaltext));
}

lmp_buf *
lmp_evaltext_doc(lmp_evaltext *x)
{
	return &x->doc;
}

void
lmp_evaltext_free(lmp_evaltext *x)
{
	if (!x)
		return;
	lmp_buf_free(&x->doc);
	free(x->k);
	free(x->names);
	lmp_buf_free(&x->growth);
	lmp_buf_free(&x->profile);
	for (int i = 0; i < 4; i++)
		lmp_buf_free(&x->ok[i]);
	free(x->pc);
	free(x->pc_at);
	for (int i = 0; i < WFORMATS; i++)
		lmp_buf_free(&x->wf[i]);
	free(x->row_end);
	free(x);
}

/* The text at p starts with the literal lit: past it, or NULL. */
#define LIT(p, end, lit) lit_at(p, end, lit, sizeof lit - 1)
static inline const char *
lit_at(const char *p, const char *end, const char *lit, size_t n)
{
	return p && (size_t)(end - p) >= n && !memcmp(p, lit, n) ? p + n : NULL;
}

static inline int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether the 8 bytes at p are digits, and their value in *v: the bytes
 * read as one little-endian word, each digit's high nibble 3 and adding 6
 * leaving it 3; then pairs, fours and the eight summed in three multiplies
 * (simdjson's parse_eight_digits_unrolled).  A big-endian machine reads
 * a digit at a time. */
static inline int
eight_digits(const char *p, uint64_t *v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x;

	memcpy(&x, p, 8);
	if ((x & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL ||
	    ((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL)
		return 0;
	x = (x & 0x0F0F0F0F0F0F0F0FULL) * 2561 >> 8;
	x = (x & 0x00FF00FF00FF00FFULL) * 6553601 >> 16;
	*v = (x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL >> 32;
	return 1;
#else
	(void)p;
	(void)v;
	return 0;
#endif
}

/* A number at p in JSON's grammar, not negative, that lmp_num_parse reads
 * (lmp_json_next's checks): past it, with its double (as lmp_tnum_at reads
 * it) in *d, and where v is not NULL its exact value.  NULL where not. */
static const char *
number(const char *p, const char *end, double *d, lmp_num *v)
{
	const char *s = p;
	uint64_t n = 0; /* past 15 digits wraps, and is not used */
	int plain;
	lmp_num t;

	if (!p || p >= end || !digit(*p))
		return NULL;
	if (*p == '0') {
		p++;
	} else {
		uint64_t v8;
		while (end - p >= 8 && eight_digits(p, &v8))
			n = n * 100000000 + v8, p += 8;
		for (; p < end && digit(*p); p++)
			n = n * 10 + (uint64_t)(*p - '0');
	}
	plain = p - s <= 15;
	if (p < end && *p == '.') {
		plain = 0;
		if (++p >= end || !digit(*p))
			return NULL;
		while (p < end && digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		plain = 0;
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !digit(*p))
			return NULL;
		while (p < end && digit(*p))
			p++;
	}
	if (plain && !v) {
		/* a whole number below 10^15: its double is exact */
		*d = (double)n;
		return p;
	}
	/* past 2^127 a number reads as no number (lmp_tnum_at's NAN) */
	if (lmp_num_parse(s, (size_t)(p - s), &t) != LMP_NUM_OK)
		return NULL;
	*d = lmp_num_to_double(&t);
	if (v)
		*v = t;
	return p;
}

/* A whole number below 10^15 (a runtime's step): its value. */
static const char *
whole(const char *p, const char *end, int64_t *n)
{
	const char *s = p;

	*n = 0;
	if (!p || p >= end || !digit(*p))
		return NULL;
	if (*p == '0')
		return p + 1 < end && digit(p[1]) ? NULL : p + 1;
	while (p < end && digit(*p) && p - s < 15)
		*n = *n * 10 + (*p++ - '0');
	return p < end && (digit(*p) || *p == '.' || *p == 'e' || *p == 'E') ? NULL : p;
}

/* A byte a string read here may hold: printable ASCII but the backslash
 * (lmp_json_string writes such a string back as it is). */
static inline int
plain_char(char c)
{
	return c >= 0x20 && c <= 0x7e && c != '\\';
}

/* A member's key at p ("key":): past the colon, the key in *k (its
 * quotes left out), *kn bytes. */
static const char *
member_key(const char *p, const char *end, const char **k, size_t *kn)
{
	const char *q;

	if (!p || p >= end || *p != '"')
		return NULL;
	for (q = p + 1; q < end && *q != '"'; q++)
		if (!plain_char(*q))
			return NULL;
	if (q + 1 >= end || q[1] != ':')
		return NULL;
	*k = p + 1;
	*kn = (size_t)(q - p - 1);
	return q + 2;
}

static int
key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && !memcmp(k, name, kn);
}

/* Past the text of ok where text (up to end) starts with it, else NULL. */
static inline const char *
known(const lmp_buf *ok, const char *text, const char *end)
{
	return ok->len && (size_t)(end - text) >= ok->len && !memcmp(text, ok->s, ok->len) ? text + ok->len : NULL;
}

/* Whether the object text {text} (text: members, or a whole object
 * where brace is 0) prints back as it is, and reads without error
 * (lmp_json_canonical, which may decline some that do: the tree then
 * reads the document); remembered in ok. */
static int
prints_back(lmp_buf *ok, const char *text, size_t len, int brace)
{
	lmp_buf t = {0};
	int same;

	if (ok->s && ok->len == len && !memcmp(ok->s, text, len))
		return 1;
	if (brace)
		lmp_buf_putc(&t, '{');
	lmp_buf_add(&t, text, len);
	if (brace)
		lmp_buf_putc(&t, '}');
	same = lmp_json_canonical(t.s, t.len, NULL) == t.len;
	lmp_buf_free(&t);
	if (same) {
		ok->len = 0;
		lmp_buf_add(ok, text, len);
	}
	return same;
}

/* The value at p, skipped (lmp_jscan_skip; a bare value to its end). */
static const char *
skip_value(const char *p, const char *end)
{
	if (!p || p >= end)
		return NULL;
	if (*p == '{' || *p == '[' || *p == '"')
		return lmp_jscan_skip(p, end);
	return lmp_jscan_token(p, end);
}

/* A string at p of plain_char bytes: past it. */
static const char *
plain_string(const char *p, const char *end)
{
	if (!p || p >= end || *p++ != '"')
		return NULL;
	for (; p < end && *p != '"'; p++)
		if (!plain_char(*p))
			return NULL;
	return p < end ? p + 1 : NULL;
}

/* A gemm member at p, where there is one, into k: past it. */
static const char *
gemm(const char *p, const char *end, struct lmp_tkernel *k)
{
	const char *s = LIT(p, end, ",\"gemm\":{\"m\":");

	if (!s)
		return p;
	k->gemm = 1;
	p = number(s, end, &k->m, NULL);
	p = number(LIT(p, end, ",\"n\":"), end, &k->n, NULL);
	p = number(LIT(p, end, ",\"k\":"), end, &k->k, NULL);
	p = number(LIT(p, end, ",\"calls\":"), end, &k->calls, NULL);
	return LIT(p, end, "}");
}

/* A short string's content at p (after its opening quote: plain_char
 * bytes, at most 15) into cf: past its closing quote. */
static const char *
short_string(const char *p, const char *end, char *cf)
{
	int n = 0;

	for (; p && p < end && n < 15 && *p != '"'; p++) {
		if (!plain_char(*p))
			return NULL;
		cf[n++] = *p;
	}
	cf[n] = '\0';
	return LIT(p, end, "\"");
}

/* A weight_format object at p into k (its compute into cf): past it.
 * A kernel's is {"compute":NAME}; a row's has the format's members too,
 * taken where they print back (each text once: WFORMATS kept).  compute
 * is read as lmp_roofline reads it: a string's content, else none. */
static const char *
weight_format(lmp_evaltext *x, const char *p, const char *end, struct lmp_tkernel *k, char *cf)
{
	const char *s, *q, *key;
	char c[16] = "";
	size_t kn, len;
	int i, named = 0;

	if ((s = LIT(p, end, "{\"compute\":\"")) && (s = LIT(short_string(s, end, cf), end, "}"))) {
		k->compute = cf;
		return s;
	}
	if (!p || p >= end || *p != '{' || !(q = lmp_jscan_skip(p, end)))
		return NULL;
	len = (size_t)(q - p);
	for (i = 0; i < WFORMATS; i++)
		if (x->wf[i].len == len && !memcmp(x->wf[i].s, p, len))
			break;
	if (i == WFORMATS) {
		/* new: its compute read, then the text printed back */
		for (s = p + 1; s < q - 1;) {
			if (!(s = member_key(s, end, &key, &kn)))
				return NULL;
			if (key_is(key, kn, "compute") && *s == '"') {
				if (!short_string(s + 1, end, c))
					return NULL;
				named = 1;
			}
			if (!(s = skip_value(s, end)))
				return NULL;
			if (*s == ',')
				s++;
		}
		i = x->wf_next;
		x->wf[i].len = 0;
		if (!prints_back(&x->wf[i], p, len, 0))
			return NULL;
		x->wf_next = (i + 1) % WFORMATS;
		memcpy(x->wfc[i], c, sizeof c);
		x->wfk[i] = named;
	}
	if (x->wfk[i]) {
		memcpy(cf, x->wfc[i], sizeof x->wfc[i]);
		k->compute = cf;
	}
	return q;
}

/* A collective member at p ({"kind":...}) into k, as lmp_roofline reads
 * it (a kind it knows, its group, size and bytes): past it. */
static const char *
collective(const char *p, const char *end, struct lmp_tkernel *k, struct names *nm)
{
	char kind[16];
	double ignore;

	p = short_string(LIT(p, end, "{\"kind\":\""), end, kind);
	p = short_string(LIT(p, end, ",\"group\":\""), end, nm->group);
	p = number(LIT(p, end, ",\"size\":"), end, &k->size, NULL);
	p = number(LIT(p, end, ",\"bytes\":"), end, &k->cbytes, NULL);
	p = number(LIT(p, end, ",\"link_bytes\":"), end, &ignore, NULL);
	if (!p || !(k->coll = lmp_coll_kind(kind)))
		return NULL;
	k->group = nm->group;
	return LIT(p, end, "}");
}

/* One stage's sums (or the device's, or all devices'), "param_count" on:
 * past them, the weight and state bytes as lmp_roofline reads them where
 * wb is not NULL. */
static const char *
sums(const char *p, const char *end, double *wb, double *st)
{
	double ignore;

	p = number(LIT(p, end, "\"param_count\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"weight_bytes\":"), end, wb ? wb : &ignore, NULL);
	p = number(LIT(p, end, ",\"state_bytes\":"), end, st ? st : &ignore, NULL);
	return number(LIT(p, end, ",\"flops\":"), end, &ignore, NULL);
}

/* A layout's "parallel" members at p (past its '{'), as lmp-eval writes
 * them: past its '}', the device's weight and state bytes in *wb, *st. */
static const char *
parallel(const char *p, const char *end, double *wb, double *st)
{
	const char *s;
	double ignore;
	int64_t w;

	p = whole(LIT(p, end, "\"tp\":"), end, &w);
	p = whole(LIT(p, end, ",\"pp\":"), end, &w);
	p = whole(LIT(p, end, ",\"ep\":"), end, &w);
	p = whole(LIT(p, end, ",\"dp\":"), end, &w);
	p = whole(LIT(p, end, ",\"devices\":"), end, &w);
	p = LIT(p, end, ",\"stages\":[");
	for (;;) {
		p = whole(LIT(p, end, "{\"layers\":["), end, &w);
		p = whole(LIT(p, end, ","), end, &w);
		p = LIT(sums(LIT(p, end, "],"), end, NULL, NULL), end, "}");
		if (!p || !(s = LIT(p, end, ",")))
			break;
		p = s;
	}
	p = whole(LIT(p, end, "],\"device\":{\"stage\":"), end, &w);
	p = sums(LIT(p, end, ","), end, wb, st);
	p = sums(LIT(p, end, "},\"all_devices\":{"), end, NULL, NULL);
	p = LIT(p, end, "}");
	if ((s = LIT(p, end, ",\"pipeline_idle_fraction\":")))
		p = number(s, end, &ignore, NULL);
	return LIT(p, end, "}");
}

/* A signed number at p (a piece's coefficient): as number() reads it. */
static const char *
signed_number(const char *p, const char *end, double *d)
{
	lmp_num v;

	if (p && p < end && *p == '-') {
		const char *q = number(p + 1, end, d, &v); /* parsed whole: "-0" is -0 */
		return q && lmp_num_parse(p, (size_t)(q - p), &v) == LMP_NUM_OK ? (*d = lmp_num_to_double(&v), q) : NULL;
	}
	return number(p, end, d, NULL);
}

/* One quantity's coefficients at p ([q0, d] or, with a block, [q0, d, j]):
 * past them, finite (as prep_steps' coefs reads them). */
static const char *
coefs(const char *p, const char *end, int nq, double *q)
{
	q[0] = q[1] = q[2] = 0;
	p = LIT(p, end, "[");
	for (int i = 0; i < nq; i++) {
		if (i)
			p = LIT(p, end, ",");
		p = signed_number(p, end, &q[i]);
		if (p && !isfinite(q[i]))
			return NULL;
	}
	return LIT(p, end, "]");
}

/* The phase a kernel is read in: a request's decode has steps from a cache
 * of c0 tokens, its kernels their pieces. */
struct phase {
	int decode;
	double steps, c0;
};

/* A decode kernel's per_step at p ({...}) into x->pc, checked as
 * lmp_roofline checks it (prep_steps): pieces that cover the phase's
 * steps in order.  k gets their count and block; past it. */
static const char *
per_step(lmp_evaltext *x, const char *p, const char *end, struct lmp_tkernel *k, const struct phase *ph)
{
	const char *s;
	int64_t block = 0, first, last, next = 0;
	int nq;

	if (!ph->decode || !(ph->c0 >= 0 && ph->c0 < 1e15) || !(ph->steps >= 1 && ph->steps < 1e15))
		return NULL;
	if ((s = LIT(p, end, "{\"block\":"))) {
		if (!(p = LIT(whole(s, end, &block), end, ",\"pieces\":[")) || block < 2 || block > 1 << 30)
			return NULL;
	} else if (!(p = LIT(p, end, "{\"pieces\":["))) {
		return NULL;
	}
	nq = block ? 3 : 2;
	k->block = block;
	for (;;) {
		struct lmp_tpiece *pc;
		if (x->npc == x->pccap) {
			x->pccap = x->pccap ? 2 * x->pccap : 64;
			x->pc = lmp_xrealloc(x->pc, sizeof *x->pc * (size_t)x->pccap);
		}
		pc = &x->pc[x->npc];
		p = whole(LIT(p, end, "{\"first\":"), end, &first);
		p = whole(LIT(p, end, ",\"last\":"), end, &last);
		p = coefs(LIT(p, end, ",\"flops\":"), end, nq, pc->flops);
		p = coefs(LIT(p, end, ",\"reads\":"), end, nq, pc->reads);
		p = coefs(LIT(p, end, ",\"writes\":"), end, nq, pc->writes);
		p = coefs(LIT(p, end, ",\"intermediates\":"), end, nq, pc->inter);
		if (!(p = LIT(p, end, "}")) || first != next || last < first || (double)last >= ph->steps)
			return NULL;
		pc->first = first;
		pc->last = last;
		next = last + 1;
		x->npc++;
		k->npieces++;
		if (!(s = LIT(p, end, ",")))
			break;
		p = s;
	}
	if ((double)next != ph->steps)
		return NULL;
	return LIT(p, end, "]}");
}

/* A kernel at p ({...}) into k (its names into nm): past it. */
static const char *
kernel(lmp_evaltext *x, const char *p, const char *end, struct lmp_tkernel *k, struct names *nm, const struct phase *ph)
{
	const char *s;

	memset(k, 0, sizeof *k);
	p = number(LIT(p, end, "{\"count\":"), end, &k->count, NULL);
	if ((s = LIT(p, end, ",\"collective\":")))
		return LIT(collective(s, end, k, nm), end, "}");
	p = number(LIT(p, end, ",\"flops\":"), end, &k->flops, NULL);
	p = number(LIT(p, end, ",\"bytes\":{\"reads\":"), end, &k->reads, NULL);
	p = number(LIT(p, end, ",\"writes\":"), end, &k->writes, NULL);
	p = number(LIT(p, end, ",\"intermediates\":"), end, &k->inter, NULL);
	p = gemm(LIT(p, end, "}"), end, k);
	if ((s = LIT(p, end, ",\"weight_format\":")))
		p = weight_format(x, s, end, k, nm->compute);
	if ((s = LIT(p, end, ",\"per_step\":")))
		p = per_step(x, s, end, k, ph);
	return LIT(p, end, "}");
}

/* A per-layer row at p ({...}) into k, as lmp_roofline reads it: past
 * its members (at its closing brace). */
static const char *
row(lmp_evaltext *x, const char *p, const char *end, struct lmp_tkernel *k, struct names *nm, const struct phase *ph)
{
	const char *s;
	double ignore;

	memset(k, 0, sizeof *k);
	p = plain_string(LIT(p, end, "{\"path\":"), end);
	p = plain_string(LIT(p, end, ",\"class\":"), end);
	p = number(LIT(p, end, ",\"count\":"), end, &k->count, NULL);
	if ((s = LIT(p, end, ",\"tied\":")))
		p = plain_string(s, end);
	p = number(LIT(p, end, ",\"param_count\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"flops\":"), end, &k->flops, NULL);
	p = number(LIT(p, end, ",\"bytes\":{\"weights\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"reads\":"), end, &k->reads, NULL);
	p = number(LIT(p, end, ",\"writes\":"), end, &k->writes, NULL);
	p = number(LIT(p, end, ",\"intermediates\":"), end, &k->inter, NULL);
	p = number(LIT(p, end, "},\"state_bytes\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"weight_bytes\":"), end, &ignore, NULL);
	if ((s = LIT(p, end, ",\"weight_format\":")))
		p = weight_format(x, s, end, k, nm->compute);
	p = gemm(p, end, k);
	if ((s = LIT(p, end, ",\"collective\":"))) {
		/* timed as a collective: its work is not read */
		double count = k->count;
		memset(k, 0, sizeof *k);
		k->count = count;
		if (!(p = collective(s, end, k, nm)) || LIT(p, end, ",\"per_step\":"))
			return NULL;
	}
	if ((s = LIT(p, end, ",\"per_step\":")))
		p = per_step(x, s, end, k, ph);
	return p && p < end && *p == '}' ? p : NULL;
}

/* The kernels or rows of a phase at p (past "kernels":[ or "rows":[) into
 * x->k from *n on, each row's closing brace's place (from text) in
 * x->row_end: past the array. */
static const char *
items(lmp_evaltext *x, const char *text, const char *p, const char *end, int rows, int *n, const struct phase *ph)
{
	const char *s;

	for (;;) {
		if (*n == x->cap) {
			x->cap = x->cap ? 2 * x->cap : 32;
			x->k = lmp_xrealloc(x->k, sizeof *x->k * (size_t)x->cap);
			x->names = lmp_xrealloc(x->names, sizeof *x->names * (size_t)x->cap);
			x->row_end = lmp_xrealloc(x->row_end, sizeof *x->row_end * (size_t)x->cap);
			x->pc_at = lmp_xrealloc(x->pc_at, sizeof *x->pc_at * (size_t)x->cap);
		}
		x->pc_at[*n] = x->npc;
		if (rows) {
			if (!(p = row(x, p, end, &x->k[*n], &x->names[*n], ph)))
				return NULL;
			x->row_end[*n] = (size_t)(p++ - text);
		} else if (!(p = kernel(x, p, end, &x->k[*n], &x->names[*n], ph))) {
			return NULL;
		}
		(*n)++;
		if ((s = LIT(p, end, "]")))
			return s;
		if (!(p = LIT(p, end, ",")))
			return NULL;
	}
}

/* The runtime's members outside its settings: a settings member of one
 * of these names would be a duplicate key, which the tree refuses. */
static const char *const outside[] = {"batch_size", "seq_len", "cache_len", "prompt_len", "gen_len", "tokens",
	"kv_tokens", "qk_pairs", "past_position_limit", NULL};

static int
outside_key(const char *k, size_t kn)
{
	for (int i = 0; outside[i]; i++)
		if (key_is(k, kn, outside[i]))
			return 1;
	return 0;
}

/* The settings of a runtime at p (its ",\"w_bit\":..."), printed back (as
 * ok last found, or parsed and printed): where they end, at ",\"tokens\":"
 * (tokens) or the object's '}', in *to; past the "tokens" key, or *to. */
static const char *
settings(lmp_buf *ok, const char *p, const char *end, int tokens, int64_t *abit, const char **to)
{
	const char *from = p, *s, *k;
	size_t kn;
	int64_t v;

	p = whole(LIT(p, end, ",\"w_bit\":"), end, &v);
	p = whole(LIT(p, end, ",\"a_bit\":"), end, abit);
	if (!p || *abit < 1 || *abit > 64)
		return NULL;
	if ((s = known(ok, from + 1, end)) && (tokens ? LIT(s, end, ",\"tokens\":") : LIT(s, end, "}"))) {
		*to = s;
		return tokens ? s + sizeof ",\"tokens\":" - 1 : s;
	}
	for (;;) {
		*to = p;
		if (!tokens && p < end && *p == '}')
			break;
		if (!(p = member_key(LIT(p, end, ","), end, &k, &kn)))
			return NULL;
		if (tokens && key_is(k, kn, "tokens"))
			break;
		/* (a request's settings end with its past_position_limit) */
		if ((outside_key(k, kn) && (tokens || !key_is(k, kn, "past_position_limit"))) || !(p = skip_value(p, end)))
			return NULL;
	}
	return prints_back(ok, from + 1, (size_t)(*to - from - 1), 1) ? p : NULL;
}

/* A one-step runtime object at p: its step, its settings (from, to: the
 * commas before "w_bit" and "tokens"), its aggregates; past it. */
struct step {
	int64_t batch, seq, cache, tokens, kv_tokens, abit;
	int nq; /* queries: 1, or a mix's (its lengths then not one point's) */
	const char *from, *to;
};

static const char *
step_runtime(lmp_buf *ok, const char *p, const char *end, struct step *r)
{
	const char *s;
	double ignore;

	p = whole(LIT(p, end, "{\"batch_size\":"), end, &r->batch);
	r->nq = 1;
	if ((s = LIT(p, end, ",\"queries\":["))) {
		/* a mix of queries (--queries): two or more, each as written */
		int64_t v;
		for (r->nq = 0, p = s;; r->nq++) {
			p = whole(LIT(p, end, "{\"seq_len\":"), end, &v);
			p = whole(LIT(p, end, ",\"cache_len\":"), end, &v);
			p = LIT(whole(LIT(p, end, ",\"count\":"), end, &v), end, "}");
			if (!p || !(s = LIT(p, end, ",")))
				break;
			p = s;
		}
		r->nq++;
		if (!(p = LIT(p, end, "]")) || r->nq < 2)
			return NULL;
		r->seq = r->cache = 0;
	} else {
		p = whole(LIT(p, end, ",\"seq_len\":"), end, &r->seq);
		p = whole(LIT(p, end, ",\"cache_len\":"), end, &r->cache);
	}
	r->from = p;
	p = settings(ok, p, end, 1, &r->abit, &r->to);
	p = whole(p, end, &r->tokens);
	p = whole(LIT(p, end, ",\"kv_tokens\":"), end, &r->kv_tokens);
	p = number(LIT(p, end, ",\"qk_pairs\":"), end, &ignore, NULL);
	if ((s = LIT(p, end, ",\"past_position_limit\":true")))
		p = s;
	return LIT(p, end, "}");
}

/* A totals object's quantities at p ({"param_count":...): their FLOPs
 * and bytes (reads, writes, intermediates), state and weight bytes as
 * lmp_roofline reads them; past them (at what follows weight_bytes). */
static const char *
quantities(const char *p, const char *end, double *work, double *state, lmp_num *wbytes)
{
	double ignore;

	p = number(LIT(p, end, "{\"param_count\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"flops\":"), end, &work[0], NULL);
	p = number(LIT(p, end, ",\"bytes\":{\"weights\":"), end, &ignore, NULL);
	p = number(LIT(p, end, ",\"reads\":"), end, &work[1], NULL);
	p = number(LIT(p, end, ",\"writes\":"), end, &work[2], NULL);
	p = number(LIT(p, end, ",\"intermediates\":"), end, &work[3], NULL);
	p = number(LIT(p, end, "},\"state_bytes\":"), end, state, NULL);
	return number(LIT(p, end, ",\"weight_bytes\":"), end, &ignore, wbytes);
}

/* The document's totals at p ({...}): their quantities, the active
 * parameters, a layout's collective bytes, then the growth and profile
 * members as text (printed back); past the closing brace. */
static const char *
totals(lmp_evaltext *x, const char *p, const char *end, double *work, double *state, lmp_num *wbytes)
{
	const char *s, *k;
	size_t kn;
	double ignore;

	p = quantities(p, end, work, state, wbytes);
	p = number(LIT(p, end, ",\"active_param_count\":"), end, &ignore, NULL);
	if ((s = LIT(p, end, ",\"collective_bytes\":")))
		p = number(s, end, &ignore, NULL);
	if (!p)
		return NULL;
	if (x->gp_ok && p < end && *p == ',' && (s = known(&x->ok[2], p + 1, end)) && (s = LIT(s, end, "}")))
		return s; /* the growth and profile of the last document */
	x->gp_ok = 0;
	x->growth.len = x->profile.len = 0;
	while (p < end && *p == ',') {
		const char *m = p;
		lmp_buf *into;
		if (!(s = member_key(p + 1, end, &k, &kn)))
			return NULL;
		if ((key_is(k, kn, "state_growth") || key_is(k, kn, "activation_growth")) && !x->profile.len)
			into = &x->growth; /* the growth before the profile, as lmp-eval writes them */
		else if (key_is(k, kn, "profile_run") && !x->profile.len)
			into = &x->profile;
		else
			return NULL;
		if (!(p = skip_value(s, end)))
			return NULL;
		lmp_buf_add(into, m, (size_t)(p - m));
	}
	if (!(p = LIT(p, end, "}")))
		return NULL;
	lmp_buf_add(&x->growth, "", 0);
	lmp_buf_add(&x->profile, "", 0);
	if (x->growth.len + x->profile.len) {
		/* as an object's members: both, past the first comma */
		lmp_buf t = {0};
		int ok;
		lmp_buf_add(&t, x->growth.s, x->growth.len);
		lmp_buf_add(&t, x->profile.s, x->profile.len);
		ok = prints_back(&x->ok[2], t.s + 1, t.len - 1, 1);
		lmp_buf_free(&t);
		if (!ok)
			return NULL;
		x->gp_ok = 1;
	}
	return p;
}

/* The head at text: past the runtime's key, the members before it
 * printed back as an object of their own (to the comma before it). */
static const char *
head(lmp_evaltext *x, const char *text, const char *end)
{
	static const char rt_key[] = ",\"runtime\":";
	const char *p, *s, *k;
	size_t kn;

	if (!(p = LIT(text, end, "{\"lmp\":\"eval\"")))
		return NULL;
	if ((s = known(&x->ok[0], text + 1, end)) && (s = LIT(s, end, ",\"runtime\":")))
		return s;
	for (;;) {
		if (!(p = member_key(LIT(p, end, ","), end, &k, &kn)))
			return NULL;
		if (key_is(k, kn, "runtime"))
			break;
		/* a member the document has after the head would be a duplicate */
		if (key_is(k, kn, "kernels") || key_is(k, kn, "totals") || key_is(k, kn, "rows") ||
		    key_is(k, kn, "phases") || key_is(k, kn, "parallel") || !(p = skip_value(p, end)))
			return NULL;
	}
	return prints_back(&x->ok[0], text + 1, (size_t)(p - text) - 1 - (sizeof rt_key - 1), 1) ? p : NULL;
}

/* Each kernel's names and pieces where they now are (the arrays may have
 * moved as they grew). */
static void
fix_up(lmp_evaltext *x, int n)
{
	for (int i = 0; i < n; i++) {
		struct lmp_tkernel *k = &x->k[i];
		if (k->compute)
			k->compute = x->names[i].compute;
		if (k->group)
			k->group = x->names[i].group;
		k->pieces = k->npieces ? x->pc + x->pc_at[i] : NULL;
	}
}

/* The runtime's numbers the fused path reads (lmp_roofline_point). */
static void
set_runtime(lmp_evaltext *x, int nq, int64_t batch, int64_t seq, int64_t cache, int64_t tokens, int64_t kv_tokens,
	int64_t abit)
{
	memset(&x->rt, 0, sizeof x->rt);
	x->q = (lmp_query){seq, cache, batch};
	/* a mix's queries are not read (lmp_roofline_point: no one length) */
	x->rt.nqueries = nq;
	x->rt.queries = &x->q;
	x->rt.a_bit = (int)abit;
	lmp_num_set_int(&x->rt.vars[LMP_V_BATCH_SIZE], batch);
	lmp_num_set_int(&x->rt.vars[LMP_V_TOKENS], tokens);
	lmp_num_set_int(&x->rt.vars[LMP_V_KV_TOKENS], kv_tokens);
}

/* A layout's "parallel" at p, where there is one, then the document's
 * closing brace: past it. */
static const char *
tail(const char *p, const char *end, int *laid, double *wb, double *st)
{
	const char *s;

	*laid = (s = LIT(p, end, ",\"parallel\":{")) != NULL;
	if (*laid && !(p = parallel(s, end, wb, st)))
		return NULL;
	return LIT(p, end, "}");
}

/* A request's document (runtime at p, past its key): its phases, each
 * timed from its kernels or rows as lmp_gen_doc hands them over, and
 * the document without the kernels in x->doc (lmp-eval --hardware
 * writes none). */
static size_t
request(lmp_evaltext *x, const char *text, const char *p, const char *end, size_t headlen, lmp_evalpt *pt)
{
	const char *rt = p, *from, *to, *s, *cut[2][2] = {{NULL, NULL}, {NULL, NULL}}, *ph_end[2], *tot_close;
	int64_t batch, prompt, gen, abit, steps[2] = {0, 0}, c0 = 0, v;
	double ptot[4], dtot[4], work[4], state, ignore, dev_wb = 0, dev_state = 0;
	lmp_num wbytes;
	struct step pr;
	struct phase ph[2] = {{0, 1, 0}, {1, 0, 0}};
	int n = 0, npre = 0, rows = -1, laid;
	size_t skipped[2] = {0, 0};

	p = whole(LIT(p, end, "{\"batch_size\":"), end, &batch);
	p = whole(LIT(p, end, ",\"prompt_len\":"), end, &prompt);
	p = whole(LIT(p, end, ",\"gen_len\":"), end, &gen);
	from = p;
	p = LIT(settings(&x->ok[1], p, end, 0, &abit, &to), end, "}");
	if (!p || batch < 1 || batch > 1073741824)
		return 0;
	/* the prefill: one step's runtime, or a chunked prefill's steps */
	p = whole(LIT(p, end, ",\"phases\":{\"prefill\":{\"steps\":"), end, &steps[0]);
	if ((s = LIT(p, end, ",\"runtime\":{\"seq_len\":"))) {
		p = whole(s, end, &v);
		p = whole(LIT(p, end, ",\"cache_len_first\":"), end, &v);
		p = whole(LIT(p, end, ",\"cache_len_last\":"), end, &v);
		p = LIT(whole(LIT(p, end, ",\"last_seq_len\":"), end, &v), end, "}");
	} else {
		p = step_runtime(&x->ok[3], LIT(p, end, ",\"runtime\":"), end, &pr);
	}
	for (int i = 0; i < 2 && p; i++) {
		int r;
		if (i) {
			/* the decode: its steps, from a cache of c0 tokens */
			p = whole(LIT(p, end, ",\"decode\":{\"steps\":"), end, &steps[1]);
			p = whole(LIT(p, end, ",\"runtime\":{\"seq_len\":1,\"cache_len_first\":"), end, &c0);
			p = LIT(whole(LIT(p, end, ",\"cache_len_last\":"), end, &v), end, "}");
			ph[1].steps = (double)steps[1];
			ph[1].c0 = (double)c0;
		}
		if (!p)
			return 0;
		/* items where the phase has steps, of one kind in both phases */
		if (steps[i]) {
			r = (s = LIT(p, end, ",\"rows\":[")) != NULL;
			if ((!r && !(s = LIT(p, end, ",\"kernels\":["))) || (rows >= 0 && r != rows))
				return 0;
			rows = r;
			cut[i][0] = p;
			if (!(p = items(x, text, s, end, rows, &n, &ph[i])))
				return 0;
			cut[i][1] = p;
			if (rows)
				cut[i][0] = cut[i][1] = NULL; /* the rows stay */
		} else if (!i) {
			return 0; /* a prefill has a step */
		}
		if (!i)
			npre = n;
		p = quantities(LIT(p, end, ",\"totals\":"), end, i ? dtot : ptot, &ignore, NULL);
		if (!(p = LIT(p, end, "}}")))
			return 0;
		ph_end[i] = p - 2;
	}
	if (!(p = LIT(p, end, "}")))
		return 0;
	if (!(p = totals(x, LIT(p, end, ",\"totals\":"), end, work, &state, &wbytes)))
		return 0;
	tot_close = p - 1;
	if (!(p = tail(p, end, &laid, &dev_wb, &dev_state)))
		return 0;
	fix_up(x, n);
	/* the document without the phases' kernels: each place in it less the
	 * kernels' text before it */
	x->doc.len = 0;
	s = text;
	for (int i = 0; i < 2; i++) {
		if (!cut[i][0])
			continue;
		lmp_buf_add(&x->doc, s, (size_t)(cut[i][0] - s));
		s = cut[i][1];
		skipped[i] = (size_t)(cut[i][1] - cut[i][0]);
	}
	lmp_buf_add(&x->doc, s, (size_t)(p - 1 - s));
	lmp_buf_add(&x->doc, "}\n", 2);
	*pt = (lmp_evalpt){.head = text, .headlen = headlen, .rt = &x->rt, .gen = 1,
		.k = x->k, .nk = npre, .dk = x->k + npre, .ndk = n - npre,
		.row_end = rows == 1 ? x->row_end : NULL, .drow_end = rows == 1 && n > npre ? x->row_end + npre : NULL,
		.tot = {ptot[0], ptot[1], ptot[2], ptot[3]}, .dtot = {dtot[0], dtot[1], dtot[2], dtot[3]},
		.state_bytes = state, .weight_bytes = wbytes, .growth = x->growth.s, .profile = x->profile.s,
		.rt_at = (size_t)(rt - text), .rt_set = {(size_t)(from - text), (size_t)(to - text)},
		.rt_end = (size_t)(to - text) + 1,
		.ph_end = {(size_t)(ph_end[0] - text) - skipped[0], (size_t)(ph_end[1] - text) - skipped[0] - skipped[1]},
		.tot_end = (size_t)(tot_close - text) - skipped[0] - skipped[1], .dev = laid, .dev_wb = dev_wb,
		.dev_state = dev_state, .steps = (double)steps[1], .cache_first = (double)c0, .batch = (double)batch,
		.prompt = (double)prompt, .gen_len = (double)gen};
	set_runtime(x, 1, batch, 0, 0, 0, 0, abit);
	return (size_t)(p - text);
}

static size_t
point(lmp_evaltext *x, const char *text, size_t len, lmp_evalpt *pt)
{
	const char *end = text + len, *p, *rt, *tot, *tot_close, *s;
	size_t headlen, rt_end, tot_end;
	struct step r;
	struct phase one = {0, 1, 0};
	int nk = 0, rows, laid;
	double work[4], state, dev_wb = 0, dev_state = 0;
	lmp_num wbytes;

	x->npc = 0;
	if (!(p = head(x, text, end)))
		return 0;
	headlen = (size_t)(p - text);
	rt = p;
	if (!(p = step_runtime(&x->ok[1], p, end, &r)))
		return request(x, text, rt, end, headlen, pt);
	if (r.batch < 1 || r.batch > 1073741824)
		return 0;
	rt_end = (size_t)(p - text);
	/* the kernels (of one step: no pieces), or the rows, each a kernel of
	 * its own count, where each ends */
	rows = (s = LIT(p, end, ",\"rows\":[")) != NULL;
	if (!rows && !(s = LIT(p, end, ",\"kernels\":[")))
		return 0;
	if (!(p = items(x, text, s, end, rows, &nk, &one)))
		return 0;
	fix_up(x, nk);
	tot = p;
	if (!(p = totals(x, LIT(p, end, ",\"totals\":"), end, work, &state, &wbytes)))
		return 0;
	tot_close = p - 1;
	if (!(p = tail(p, end, &laid, &dev_wb, &dev_state)))
		return 0;
	/* the document, without its kernels */
	x->doc.len = 0;
	lmp_buf_add(&x->doc, text, rows ? (size_t)(tot - text) : rt_end);
	tot_end = x->doc.len + (size_t)(tot_close - tot);
	lmp_buf_add(&x->doc, tot, (size_t)(p - 1 - tot));
	lmp_buf_add(&x->doc, "}\n", 2);
	set_runtime(x, r.nq, r.batch, r.seq, r.cache, r.tokens, r.kv_tokens, r.abit);
	*pt = (lmp_evalpt){.head = text, .headlen = headlen, .rt = &x->rt, .k = x->k, .nk = nk,
		.tot = {work[0], work[1], work[2], work[3]}, .state_bytes = state, .weight_bytes = wbytes,
		.growth = x->growth.s, .profile = x->profile.s, .rt_at = (size_t)(rt - text),
		.rt_end = rt_end, .rt_set = {(size_t)(r.from - text), (size_t)(r.to - text)},
		.tot_end = tot_end, .row_end = rows ? x->row_end : NULL, .dev = laid, .dev_wb = dev_wb,
		.dev_state = dev_state};
	return (size_t)(p - text);
}

/* A document of more bytes than the tree takes values (LMP_JSON_MAX_VALUES:
 * a value after the first follows a '{', '[' or ',') is left to the
 * tree, which may refuse it as too large. */
size_t
lmp_evaltext_point(lmp_evaltext *x, const char *text, size_t len, lmp_evalpt *pt)
{
	size_t used = point(x, text, len, pt);

	return used <= LMP_JSON_MAX_VALUES ? used : 0;
}
