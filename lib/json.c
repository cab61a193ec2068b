/* json.c: strict JSON documents with exact numbers, on top of cJSON.
 *
 * cJSON keeps numbers as doubles and ignores what follows the first document
 * when asked plainly.  Here: the input must be valid UTF-8, documents are
 * split and checked for trailing garbage, duplicate keys (sorted: n log n)
 * and \u0000 escapes (cJSON would cut the string there) are refused, and
 * every number node keeps its literal text (in valuestring, which cJSON_Delete
 * frees) so that values are exact and pass through unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static void
position(const char *buf, const char *at, int *line, int *col)
{
	const char *p;

	*line = 1;
	*col = 1;
	for (p = buf; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Offset of the first invalid UTF-8 sequence, or -1. */
static long
bad_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n, k;
		unsigned long cp;
		uint64_t w;

		/* ASCII, the common case, 32 bytes at a time, then 8 */
		if (i + 32 <= len) {
			uint64_t x[4];
			memcpy(x, s + i, 32);
			if (!((x[0] | x[1] | x[2] | x[3]) & 0x8080808080808080ULL)) {
				i += 32;
				continue;
			}
		}
		if (i + 8 <= len && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ULL))) {
			i += 8;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return (long)i;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return (long)i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += n + 1;
	}
	return -1;
}

/* Find the next number token in [*p, end) outside strings. */
static int
next_number(const char **p, const char *end, const char **start, size_t *len)
{
	const char *s = *p;

	while (s < end) {
		if (*s == '"') {
			for (s++; s < end && *s != '"'; s++)
				if (*s == '\\')
					s++;
			s++;
			continue;
		}
		if (*s == '-' || (*s >= '0' && *s <= '9')) {
			*start = s;
			while (s < end && ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' || *s == '+' ||
						 *s == '-'))
				s++;
			*len = (size_t)(s - *start);
			*p = s;
			return 1;
		}
		s++;
	}
	*p = s;
	return 0;
}

/* Attach literal text to number nodes (pre-order = text order), refuse
 * numbers that are not finite and objects with duplicate keys. */
/* Line and column of at, counting the lines before the stream's buffer. */
static void
where(const lmp_json_stream *s, const char *at, int *line, int *col)
{
	position(s->buf, at, line, col);
	if (*line == 1)
		*col += s->col0;
	*line += s->line0;
}

struct key {
	const cJSON *item;
	size_t at; /* position among the members */
};

static int
by_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = strcmp(x->item->string, y->item->string);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The member that repeats an earlier key, the first such in the text, or
 * NULL.  Sorted, so that an object of n keys costs n log n, not n^2 (a
 * hostile input may have millions); one of up to 64 is compared pairwise
 * (a sort's calls cost more there). */
static const cJSON *
duplicate_key(const cJSON *obj)
{
	const cJSON *c, *d, *dup = NULL;
	struct key *k;
	size_t n = 0, i, first = 0;

	for (c = obj->child; c && n <= 64; c = c->next)
		n++;
	if (n <= 64) {
		/* pairwise, the first bytes compared before the call */
		for (c = obj->child; c; c = c->next)
			for (d = obj->child; d != c; d = d->next)
				if (d->string[0] == c->string[0] && strcmp(d->string, c->string) == 0)
					return c;
		return NULL;
	}
	for (; c; c = c->next)
		n++;
	k = lmp_xcalloc(n, sizeof *k);
	for (c = obj->child, i = 0; c; c = c->next, i++)
		k[i] = (struct key){c, i};
	qsort(k, n, sizeof *k, by_key);
	/* equal keys sort by position: the later of a pair repeats the earlier */
	for (i = 1; i < n; i++)
		if (strcmp(k[i - 1].item->string, k[i].item->string) == 0 &&
		    (!dup || k[i].at < first))
			dup = k[i].item, first = k[i].at;
	free(k);
	return dup;
}

static int
annotate(cJSON *item, const char **p, const char *end, const lmp_json_stream *s, lmp_err *e)
{
	const char *name = s->name;
	const cJSON *d;
	cJSON *c;
	const char *start;
	size_t len;
	lmp_num v;
	int line, col;

	if (cJSON_IsNumber(item)) {
		if (!next_number(p, end, &start, &len))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: internal error matching numbers", name);
		/* RFC 8259's grammar (cJSON also takes 01, 1. and -.5, which
		 * other parsers refuse) */
		if (lmp_json_number_end(start, start + len, NULL) != start + len && (where(s, start, &line, &col), 1))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: invalid number: %.*s",
				name, line, col, (int)(len > 40 ? 40 : len), start);
		/* past 2^127 is fine here: the text passes through, and what
		 * counts with it refuses it (lmp_json_num) */
		if (lmp_num_parse(start, len, &v) < 0 && (where(s, start, &line, &col), 1))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: number out of range: %.*s",
				name, line, col, (int)(len > 40 ? 40 : len), start);
		item->valuestring = lmp_xstrndup(start, len);
		return 0;
	}
	if (cJSON_IsObject(item) && (d = duplicate_key(item)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: duplicate key \"%s\"", name, d->string);
	for (c = item->child; c; c = c->next) {
		if (annotate(c, p, end, s, e))
			return -1;
	}
	return 0;
}

void
lmp_json_stream_init(lmp_json_stream *s, const char *buf, size_t len, const char *name)
{
	s->buf = buf;
	s->p = buf;
	s->end = buf + len;
	s->name = name;
	s->line0 = s->col0 = 0;
}

/* Offset of a \u0000 escape, or -1: cJSON would end the string there and
 * silently keep "a" of "a\u0000b".  Only the last of an odd run of
 * backslashes escapes the u: "\\u0000" is a backslash and the text u0000. */
static long
escaped_nul(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *q;

	while ((p = memchr(p, '\\', (size_t)(end - p)))) {
		for (q = p; q < end && *q == '\\'; q++)
			;
		if ((q - p) % 2 && end - q >= 5 && memcmp(q, "u0000", 5) == 0)
			return (long)(q - 1 - buf);
		p = q;
	}
	return -1;
}

static int
check_text(const char *buf, size_t len, const char *name, int line0, int col0, lmp_err *e)
{
	long bad = bad_utf8((const unsigned char *)buf, len);
	int line, col;

	if (bad >= 0) {
		position(buf, buf + bad, &line, &col);
		return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: invalid UTF-8", name, line + line0,
			col + (line == 1 ? col0 : 0));
	}
	if (memchr(buf, '\0', len))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: NUL byte in input", name);
	if ((bad = escaped_nul(buf, len)) >= 0) {
		position(buf, buf + bad, &line, &col);
		return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: \\u0000 (NUL) in a string is not allowed",
			name, line + line0, col + (line == 1 ? col0 : 0));
	}
	return 0;
}

int
lmp_json_check_text(const char *buf, size_t len, const char *name, lmp_err *e)
{
	return check_text(buf, len, name, 0, 0, e);
}

/* The bytes too_large looks at, in a string and out of one. */
static const unsigned char stop_str[256] = {['"'] = 1, ['\\'] = 1};
static const unsigned char stop_val[256] = {['"'] = 1, ['{'] = 1, ['['] = 1, [','] = 1, ['}'] = 1, [']'] = 1};

/* Refuse a document past the limits before cJSON spends memory on it: the
 * brackets, commas and text of a container or string at p are counted to
 * its end (each value after the first follows a '[', '{' or ','). */
static int
too_large(const lmp_json_stream *s, const char *p, lmp_err *e)
{
	const char *q, *end = s->end;
	long values = 1, depth = 0;
	int in_str = 0, line, col;

	if (*p != '{' && *p != '[' && *p != '"')
		return 0;
	if (end - p > LMP_JSON_MAX_BYTES)
		end = p + LMP_JSON_MAX_BYTES + 1;
	for (q = p; q < end; q++) {
		/* past what neither a string nor the count notes: most bytes */
		while (q < end && !(in_str ? stop_str : stop_val)[(unsigned char)*q])
			q++;
		if (q == end)
			break;
		if (in_str) {
			if (*q == '\\')
				q++;
			else if (*q == '"') {
				in_str = 0;
				if (depth == 0)
					break;
			}
		} else if (*q == '"') {
			in_str = 1;
		} else if (*q == '{' || *q == '[') {
			depth++;
			values++;
		} else if (*q == ',') {
			values++;
		} else if ((*q == '}' || *q == ']') && --depth == 0) {
			break;
		}
		if (values > LMP_JSON_MAX_VALUES)
			break;
	}
	if (values <= LMP_JSON_MAX_VALUES && q - p <= LMP_JSON_MAX_BYTES)
		return 0;
	where(s, p, &line, &col);
	if (values > LMP_JSON_MAX_VALUES)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: document too large (more than %ld values)",
			s->name, line, col, LMP_JSON_MAX_VALUES);
	return lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: document too large (more than %ld MiB)",
		s->name, line, col, LMP_JSON_MAX_BYTES >> 20);
}

cJSON *
lmp_json_next(lmp_json_stream *s, lmp_err *e)
{
	const char *stop = NULL, *p;
	cJSON *doc;
	int line, col;

	e->status = 0;
	/* The whole input is checked once, before its first document. */
	if (s->p == s->buf && check_text(s->buf, (size_t)(s->end - s->buf), s->name, s->line0, s->col0, e))
		return NULL;
	s->p = lmp_jscan_ws(s->p, s->end);
	if (s->p >= s->end || too_large(s, s->p, e))
		return NULL;
	doc = cJSON_ParseWithLengthOpts(s->p, (size_t)(s->end - s->p), &stop, 0);
	if (!doc) {
		/* where it stopped, and what it stopped at: an agent (or a
		 * person) can fix an answer from that */
		const char *at = stop ? stop : s->p;
		char near[40];
		where(s, at, &line, &col);
		if (lmp_jscan_ws(at, s->end) >= s->end) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: malformed JSON (it ends inside a value: a bracket or a string is not closed)",
				s->name, line, col);
		} else {
			const char *from = at - s->p > 16 ? at - 16 : s->p;
			char before[40];
			lmp_escape(near, sizeof near, at, (size_t)(s->end - at) < 16 ? (size_t)(s->end - at) : 16);
			lmp_escape(before, sizeof before, from, (size_t)(at - from));
			lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: malformed JSON at '%s'%s%s%s", s->name, line, col,
				near, *before ? " (after '" : "", before, *before ? "')" : "");
		}
		return NULL;
	}
	p = s->p;
	if (annotate(doc, &p, stop, s, e)) {
		cJSON_Delete(doc);
		return NULL;
	}
	s->p = stop;
	/* Documents in a stream are separated by whitespace or follow a closing
	 * bracket; "1 2" is two numbers but "12x" is garbage. */
	if (s->p < s->end && !strchr(" \t\r\n{[", *s->p) && !strchr("}]\"", stop[-1])) {
		where(s, s->p, &line, &col);
		lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: trailing garbage after document", s->name, line, col);
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

cJSON *
lmp_json_parse_one(const char *buf, size_t len, const char *name, lmp_err *e)
{
	lmp_json_stream s;
	cJSON *doc;
	int line, col;

	lmp_json_stream_init(&s, buf, len, name);
	doc = lmp_json_next(&s, e);
	if (!doc) {
		if (!e->status)
			lmp_fail(e, LMP_EXIT_INPUT, "%s: empty input", name);
		return NULL;
	}
	s.p = lmp_jscan_ws(s.p, s.end);
	if (s.p < s.end) {
		position(buf, s.p, &line, &col);
		cJSON_Delete(doc);
		lmp_fail(e, LMP_EXIT_INPUT, "%s:%d:%d: trailing garbage after document", name, line, col);
		return NULL;
	}
	return doc;
}

cJSON *
lmp_json_load_file(const char *path, lmp_err *e)
{
	lmp_buf b = {0};
	cJSON *doc;

	if (lmp_read_file(path, &b, e))
		return NULL;
	doc = lmp_json_parse_one(b.s, b.len, path, e);
	lmp_buf_free(&b);
	return doc;
}

int
lmp_json_num(const cJSON *item, lmp_num *out)
{
	if (!cJSON_IsNumber(item))
		return -1;
	if (item->valuestring)
		return lmp_num_parse(item->valuestring, strlen(item->valuestring), out);
	return lmp_num_double(item->valuedouble, out) ? -1 : 0;
}

cJSON *
lmp_json_new_num(const lmp_num *v)
{
	char s[LMP_NUM_STRMAX];
	cJSON *item = cJSON_CreateNumber(lmp_num_to_double(v));

	if (!item) /* only without lmp_start's hooks */
		lmp_oom();
	lmp_num_str(v, s);
	item->valuestring = lmp_xstrdup(s);
	return item;
}

void
lmp_json_string(lmp_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;

	lmp_buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		/* a run of characters written as they are, at once */
		size_t run = 0;
		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			lmp_buf_add(b, (const char *)p, run);
			p += run - 1;
			continue;
		}
		switch (*p) {
		case '"': lmp_buf_add(b, "\\\"", 2); break;
		case '\\': lmp_buf_add(b, "\\\\", 2); break;
		case '\n': lmp_buf_add(b, "\\n", 2); break;
		case '\r': lmp_buf_add(b, "\\r", 2); break;
		case '\t': lmp_buf_add(b, "\\t", 2); break;
		case '\b': lmp_buf_add(b, "\\b", 2); break;
		case '\f': lmp_buf_add(b, "\\f", 2); break;
		default:
			if (*p < 0x20) {
				char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
				lmp_buf_add(b, u, 6);
			} else {
				lmp_buf_putc(b, (char)*p);
			}
		}
	}
	lmp_buf_putc(b, '"');
}

static void
indent(lmp_buf *b, int pretty, int depth)
{
	int i;

	if (!pretty)
		return;
	lmp_buf_putc(b, '\n');
	for (i = 0; i < depth; i++)
		lmp_buf_add(b, "  ", 2);
}

static void
print_item(const cJSON *item, int pretty, int depth, lmp_buf *b)
{
	const cJSON *c;
	char s[LMP_NUM_STRMAX];
	lmp_num v;

	if (cJSON_IsNumber(item)) {
		if (item->valuestring) {
			lmp_buf_puts(b, item->valuestring);
		} else if (!lmp_num_double(item->valuedouble, &v)) {
			lmp_num_str(&v, s);
			lmp_buf_puts(b, s);
		} else {
			lmp_buf_puts(b, "null"); /* unreachable: lmp never builds one */
		}
	} else if (cJSON_IsString(item)) {
		lmp_json_string(b, item->valuestring);
	} else if (cJSON_IsRaw(item)) {
		lmp_buf_puts(b, item->valuestring);
	} else if (cJSON_IsTrue(item)) {
		lmp_buf_puts(b, "true");
	} else if (cJSON_IsFalse(item)) {
		lmp_buf_puts(b, "false");
	} else if (cJSON_IsNull(item)) {
		lmp_buf_puts(b, "null");
	} else {
		int obj = cJSON_IsObject(item);
		lmp_buf_putc(b, obj ? '{' : '[');
		for (c = item->child; c; c = c->next) {
			indent(b, pretty, depth + 1);
			if (obj) {
				lmp_json_string(b, c->string);
				lmp_buf_add(b, pretty ? ": " : ":", pretty ? 2 : 1);
			}
			print_item(c, pretty, depth + 1, b);
			if (c->next)
				lmp_buf_putc(b, ',');
		}
		if (item->child)
			indent(b, pretty, depth);
		lmp_buf_putc(b, obj ? '}' : ']');
	}
}

void
lmp_json_print_buf(const cJSON *item, int pretty, lmp_buf *b)
{
	print_item(item, pretty, 0, b);
}

char *
lmp_json_print(const cJSON *item, int pretty)
{
	lmp_buf b = {0};

	print_item(item, pretty, 0, &b);
	return b.s;
}
