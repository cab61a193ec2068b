/* fields.c: --fields, a document pruned to the members a sweep needs.
 *
 * A path names a member by its keys from the top, joined by dots
 * (totals.time_s); a path that ends at an object keeps it whole, and a path
 * goes through objects only (an array is kept or left whole).  The pruned
 * document keeps the document's own order and nesting, so every jq path
 * that reads the whole document reads the pruned one the same; a member a
 * document does not have is left out of it, and an object none of whose
 * named members is there is left out too.  Values are copied as written,
 * byte for byte.
 *
 * It works on the text: lmp-eval and lmp-roofline write each document
 * compact, and projecting that text costs a scan of it, where building and
 * printing a cJSON tree would cost a parse and a print.  The text is the
 * tools' own, so the scan checks its nesting, not its grammar
 * (lmp_jscan_skip). */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* The paths as a tree: each node one key; a leaf keeps its member whole. */
/* A long value left out at the same place in every document (the model,
 * the roofline object of a sweep's settings) is stepped over by comparing
 * it with the last one there, not by scanning it: JSON values are
 * self-delimiting, so text that starts with a whole value is that value. */
#define MEMO_MEMBERS 16
#define MEMO_MIN 32
struct memo {
	char *text;
	size_t len;
};

struct lmp_fields_node {
	uint64_t lens; /* bit n: a kid's key is n bytes long (n < 64) */
	char *key;
	size_t keylen;
	int leaf, seen;
	char *path; /* a leaf's path as given, for the message */
	struct lmp_fields_node *kids;
	int nkids;
	struct memo memo[MEMO_MEMBERS]; /* the values left out, by their place in the object */
};

struct lmp_fields {
	struct lmp_fields_node root;
};

/* Most keys a node is asked about are not its own: a length none of its
 * kids' keys has is told at once (the first byte is compared before the
 * call: a key is never empty, key_ok). */
static inline int
maybe_kid(const struct lmp_fields_node *n, size_t len)
{
	return len >= 64 || n->lens >> len & 1;
}

static inline struct lmp_fields_node *
child(struct lmp_fields_node *n, const char *key, size_t len)
{
	if (!maybe_kid(n, len))
		return NULL;
	for (int i = 0; i < n->nkids; i++)
		if (n->kids[i].keylen == len && n->kids[i].key[0] == key[0] && !memcmp(n->kids[i].key, key, len))
			return &n->kids[i];
	return NULL;
}

static struct lmp_fields_node *
add_child(struct lmp_fields_node *n, const char *key, size_t len)
{
	struct lmp_fields_node *c;

	n->kids = lmp_xrealloc(n->kids, sizeof *n->kids * (size_t)(n->nkids + 1));
	c = &n->kids[n->nkids++];
	memset(c, 0, sizeof *c);
	c->key = lmp_xstrndup(key, len);
	c->keylen = len;
	if (len < 64)
		n->lens |= (uint64_t)1 << len;
	return c;
}

static void
free_node(struct lmp_fields_node *n)
{
	for (int i = 0; i < n->nkids; i++)
		free_node(&n->kids[i]);
	for (int i = 0; i < MEMO_MEMBERS; i++)
		free(n->memo[i].text);
	free(n->kids);
	free(n->key);
	free(n->path);
}

/* A key names a member as written: letters, digits, '_' and '-' (every key
 * of lmp's documents). */
static int
key_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
add_path(lmp_fields *f, const char *p, size_t n, lmp_err *e)
{
	struct lmp_fields_node *at = &f->root, *c;
	const char *end = p + n, *dot;

	for (;;) {
		if (!(dot = memchr(p, '.', (size_t)(end - p))))
			dot = end;
		if (!key_ok(p, (size_t)(dot - p)))
			return lmp_fail(e, LMP_EXIT_USAGE, "--fields: '%.*s' is not a path of member names joined by dots",
				(int)(n < 200 ? n : 200), end - n);
		if (at->leaf) /* a shorter path keeps this one's object whole */
			return 0;
		if (!(c = child(at, p, (size_t)(dot - p))))
			c = add_child(at, p, (size_t)(dot - p));
		at = c;
		if (dot == end)
			break;
		p = dot + 1;
	}
	/* the whole member: any longer paths under it are covered */
	for (int i = 0; i < at->nkids; i++)
		free_node(&at->kids[i]);
	free(at->kids);
	at->kids = NULL;
	at->nkids = 0;
	at->lens = 0;
	at->leaf = 1;
	free(at->path);
	at->path = lmp_xstrndup(end - n, n);
	return 0;
}

lmp_fields *
lmp_fields_new(const char *spec, lmp_err *e)
{
	lmp_fields *f = lmp_xcalloc(1, sizeof *f);
	const char *p = spec, *comma;

	if (!*spec) {
		lmp_fail(e, LMP_EXIT_USAGE, "--fields: no path given");
		goto bad;
	}
	for (;;) {
		if (!(comma = strchr(p, ',')))
			comma = p + strlen(p);
		if (add_path(f, p, (size_t)(comma - p), e))
			goto bad;
		if (!*comma)
			break;
		p = comma + 1;
	}
	return f;
bad:
	lmp_fields_free(f);
	return NULL;
}

void
lmp_fields_free(lmp_fields *f)
{
	if (!f)
		return;
	free_node(&f->root);
	free(f);
}

/* Past the string at p (its '"'), as lmp_jscan_string finds it: a key or
 * a short value has no backslash and is scanned here, without a call. */
static inline const char *
string_end(const char *p, const char *end)
{
	for (const char *q = p + 1; q < end; q++) {
		if (*q == '"')
			return q + 1;
		if (*q == '\\')
			return lmp_jscan_string(p, end);
	}
	return NULL;
}

/* Past the value at v, as lmp_jscan_skip finds it: a number or a literal
 * (most values) scanned here. */
static inline const char *
value_end(const char *v, const char *end)
{
	if (*v == '"')
		return string_end(v, end);
	if (*v == '{' || *v == '[')
		return lmp_jscan_skip(v, end);
	return lmp_jscan_token(v, end);
}

/* What may follow a whole value (and a NUL, as strchr's set has). */
static inline int
after_value(char c)
{
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || !c;
}

/* Past the value at v, member at of n's object: as the last document's
 * there where it starts alike, else scanned (and kept if long). */
static const char *
step_over(struct lmp_fields_node *n, int at, const char *v, const char *end)
{
	struct memo *mo = at < MEMO_MEMBERS ? &n->memo[at] : NULL;
	const char *ve;

	if (mo && mo->text && mo->len <= (size_t)(end - v) && !memcmp(v, mo->text, mo->len) &&
	    (v + mo->len == end || after_value(v[mo->len])))
		return v + mo->len;
	if ((ve = value_end(v, end)) && mo && ve - v >= MEMO_MIN) {
		free(mo->text);
		mo->len = (size_t)(ve - v);
		mo->text = lmp_xstrndup(v, mo->len);
	}
	return ve;
}

/* n bytes to out, whose room project's caller has made: the projection of
 * an object is never longer than the object's text. */
static inline void
put(lmp_buf *out, const char *s, size_t n)
{
	lmp_copy_short(out->s + out->len, s, n);
	out->len += n;
}

/* Project the object at s (its '{') by node n into out; *wrote says
 * whether any member was written.  Returns the end of the object, NULL if
 * the text is not a whole object.  out has room for the text from s on
 * (its caller grows it by the text's length: a projection is never
 * longer than the object's text). */
static const char *
project(struct lmp_fields_node *n, const char *s, const char *end, lmp_buf *out, int *wrote)
{
	int any = 0;

	*wrote = 0;
	if (s >= end || *s != '{')
		return NULL;
	out->s[out->len++] = '{';
	s = lmp_jscan_ws(s + 1, end);
	if (s < end && *s == '}')
		goto close;
	for (int at = 0;; at++) {
		const char *k, *ke, *v, *ve;
		struct lmp_fields_node *c;
		if (s >= end || *s != '"' || !(ke = string_end(s, end)))
			return NULL;
		k = s + 1;
		s = lmp_jscan_ws(ke, end);
		if (s >= end || *s != ':')
			return NULL;
		v = lmp_jscan_ws(s + 1, end);
		if (v >= end)
			return NULL;
		c = child(n, k, (size_t)(ke - 1 - k));
		if (c && !c->leaf && *v == '{') {
			/* a named object: projected as it is read */
			size_t mark = out->len;
			int sub;
			if (any)
				out->s[out->len++] = ',';
			put(out, k - 1, (size_t)(ke - k + 1));
			out->s[out->len++] = ':';
			if (!(ve = project(c, v, end, out, &sub)))
				return NULL;
			if (sub)
				any = 1;
			else
				out->len = mark; /* none of its named members: left out */
		} else {
			if (!(ve = c ? value_end(v, end) : step_over(n, at, v, end)) || ve == v)
				return NULL;
			if (c && c->leaf) {
				if (any)
					out->s[out->len++] = ',';
				put(out, k - 1, (size_t)(ke - k + 1));
				out->s[out->len++] = ':';
				put(out, v, (size_t)(ve - v));
				c->seen = 1;
				any = 1;
			} /* else a path through a value that is no object: left out */
		}
		s = lmp_jscan_ws(ve, end);
		if (s < end && *s == ',') {
			s = lmp_jscan_ws(s + 1, end);
			continue;
		}
		if (s < end && *s == '}')
			break;
		return NULL;
	}
close:
	out->s[out->len++] = '}';
	*wrote = any;
	return s + 1;
}

int
lmp_fields_project(lmp_fields *f, const char *doc, size_t len, lmp_buf *out, lmp_err *e)
{
	const char *end = doc + len, *s = lmp_jscan_ws(doc, end);
	size_t mark = out->len;
	int wrote;

	lmp_buf_grow(out, len + 1); /* project writes unchecked */
	if (!(s = project(&f->root, s, end, out, &wrote)) || lmp_jscan_ws(s, end) != end) {
		out->len = mark;
		out->s[mark] = '\0';
		return lmp_fail(e, LMP_EXIT_INPUT, "--fields: a document that is not one JSON object");
	}
	out->s[out->len] = '\0';
	return 0;
}

int
lmp_fields_names_any(lmp_fields *f, const char *obj, size_t len)
{
	lmp_buf out = {0};
	lmp_err ignore;
	int any = lmp_fields_project(f, obj, len, &out, &ignore) || out.len > 2;

	lmp_buf_free(&out);
	return any;
}

static const char *
unseen(const struct lmp_fields_node *n)
{
	const char *p;

	if (n->leaf)
		return n->seen ? NULL : n->path;
	for (int i = 0; i < n->nkids; i++)
		if ((p = unseen(&n->kids[i])))
			return p;
	return NULL;
}

const char *
lmp_fields_unseen(const lmp_fields *f)
{
	return unseen(&f->root);
}

/* One document (text from doc) as written with --fields: pruned, then
 * printed as lmp_json_print prints it (pretty) or as it is (compact), and a
 * newline. */
int
lmp_fields_write(lmp_fields *f, int pretty, const char *doc, size_t len, lmp_buf *out, lmp_err *e)
{
	size_t mark = out->len;
	cJSON *j;

	if (lmp_fields_project(f, doc, len, out, e))
		return -1;
	if (pretty) {
		if (!(j = lmp_json_parse_one(out->s + mark, out->len - mark, "--fields", e))) {
			out->len = mark;
			return -1;
		}
		out->len = mark;
		lmp_json_print_buf(j, 1, out);
		cJSON_Delete(j);
	}
	lmp_buf_putc(out, '\n');
	return 0;
}

const lmp_fields_node *
lmp_fields_top(const lmp_fields *f)
{
	return f ? &f->root : NULL;
}

static __attribute__((noinline)) int
sub_named(const lmp_fields_node *n, const char *key, size_t len, const lmp_fields_node **sub)
{
	const lmp_fields_node *c = NULL;

	if (n && !(c = child((lmp_fields_node *)n, key, len)))
		return 0;
	if (sub)
		*sub = c && !c->leaf ? c : NULL;
	return 1;
}

/* Most members a writer asks about are not named: told here without
 * the registers the search needs saved. */
int
lmp_fields_sub(const lmp_fields_node *n, const char *key, size_t len, const lmp_fields_node **sub)
{
	if (n && !maybe_kid(n, len))
		return 0;
	return sub_named(n, key, len, sub);
}

int
lmp_fields_project_node(const lmp_fields_node *n, const char *obj, size_t len, lmp_buf *out, lmp_err *e)
{
	const char *end = obj + len, *s = lmp_jscan_ws(obj, end);
	size_t mark = out->len;
	int wrote;

	if (!n) { /* every member */
		lmp_buf_add(out, obj, len);
		return 0;
	}
	/* the node's memo and seen marks are the run's, kept across documents */
	lmp_buf_grow(out, len + 1); /* project writes unchecked */
	if (!(s = project((lmp_fields_node *)n, s, end, out, &wrote)) || lmp_jscan_ws(s, end) != end) {
		out->len = mark;
		out->s[mark] = '\0';
		return lmp_fail(e, LMP_EXIT_INPUT, "--fields: an object that is not one JSON object");
	}
	out->s[out->len] = '\0';
	return 0;
}
