/* jsonread.c: a stream of documents read one at a time.
 *
 * The input is read in chunks; a small scanner finds where the next
 * document ends (brackets counted outside strings) and that text alone is
 * parsed, as strictly as lmp_json_next parses (line numbers count from the
 * start of the input).  What has been read and parsed is dropped, so memory
 * holds about one document whatever the length of the stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

enum { CONTAINER, STRING, BARE };

void
lmp_json_reader_init(lmp_json_reader *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->name = name;
}

int
lmp_json_reader_open(lmp_json_reader *r, const char *path, int empty_fails, lmp_err *e)
{
	FILE *f = path ? fopen(path, "rb") : stdin;

	if (!f)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	lmp_json_reader_init(r, f, path ? path : "<stdin>");
	r->own = path != NULL;
	r->empty_fails = empty_fails && !path;
	return 0;
}

void
lmp_json_reader_free(lmp_json_reader *r)
{
	lmp_buf_free(&r->b);
	if (r->own)
		fclose(r->f);
}

/* Line and column bookkeeping over the text consumed. */
static void
advance(lmp_json_reader *r, char c)
{
	if (c == '\n') {
		r->lines++;
		r->col = 0;
	} else {
		r->col++;
	}
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* More input; 0 at the end of it. */
static int
fill(lmp_json_reader *r, lmp_err *e)
{
	char chunk[65536];
	size_t n;

	/* drop what is done: at a fill only the start of one document is left
	 * unread, so this moves little */
	if (r->pos > 0) {
		memmove(r->b.s, r->b.s + r->pos, r->b.len - r->pos);
		r->b.len -= r->pos;
		r->scan -= r->started ? r->pos : 0;
		r->pos = 0;
	}
	n = fread(chunk, 1, sizeof chunk, r->f);
	if (n == 0) {
		if (ferror(r->f))
			return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: read error: %s", r->name, strerror(errno));
		r->eof = 1;
		return 0;
	}
	lmp_buf_add(&r->b, chunk, n);
	r->any = 1;
	return 1;
}

/* The bytes find_end stops at: in a string its end or an escape, out of
 * one a string's start or a bracket (a stream's documents are mostly
 * digits, letters and punctuation it passes over a table lookup each). */
static const unsigned char stop_in[256] = {['"'] = 1, ['\\'] = 1};
static const unsigned char stop_out[256] = {['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1};

/* Where the started document ends, or 0 when the input so far ends first. */
static size_t
find_end(lmp_json_reader *r)
{
	const unsigned char *s = (const unsigned char *)r->b.s;
	size_t i, n = r->b.len;

	for (i = r->scan; i < n; i++) {
		unsigned char c;
		if (r->in_str) {
			if (r->esc) {
				r->esc = 0;
				continue;
			}
			while (i < n && !stop_in[s[i]])
				i++;
			if (i == n)
				break;
			if (s[i] == '\\')
				r->esc = 1;
			else {
				r->in_str = 0;
				if (r->started == 1 + STRING)
					return i + 1;
			}
			continue;
		}
		if (r->started == 1 + BARE) { /* ends where lmp_json_next would let a document end */
			c = s[i];
			if (is_ws((char)c) || c == '{' || c == '[')
				return i;
			continue;
		}
		while (i < n && !stop_out[s[i]])
			i++;
		if (i == n)
			break;
		c = s[i];
		if (c == '"')
			r->in_str = 1;
		else if (c == '{' || c == '[')
			r->depth++;
		else if (--r->depth == 0)
			return i + 1;
	}
	r->scan = i;
	return 0;
}

int
lmp_json_read_text(lmp_json_reader *r, const char **text, size_t *len, lmp_err *e)
{
	size_t end;
	int rc;

	e->status = 0;
	for (;;) {
		if (!r->started) {
			while (r->pos < r->b.len && is_ws(r->b.s[r->pos]))
				advance(r, r->b.s[r->pos++]);
			if (r->pos == r->b.len) {
				if (r->eof || (rc = fill(r, e)) == 0)
					break;
				if (rc < 0)
					return -1;
				continue;
			}
			char c = r->b.s[r->pos];
			r->started = 1 + (c == '{' || c == '[' ? CONTAINER : c == '"' ? STRING : BARE);
			r->scan = r->pos + (c == '"');
			r->in_str = c == '"';
			r->depth = r->esc = 0;
		}
		if ((end = find_end(r)))
			goto found;
		/* past the limit: lmp_json_next says so, from what is here */
		if (r->b.len - r->pos > LMP_JSON_MAX_BYTES) {
			end = r->b.len;
			goto found;
		}
		if (r->eof || (rc = fill(r, e)) == 0) {
			end = r->b.len; /* cut short: the parser says where */
			goto found;
		}
		if (rc < 0)
			return -1;
	}
	if (e->status)
		return -1;
	/* Said upstream already: fail without a word of our own (tool.c). */
	if (!r->any && r->empty_fails) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s", "");
		return -1;
	}
	return 0;
found:
	*text = r->b.s + r->pos;
	*len = end - r->pos;
	return 1;
}

int
lmp_json_read_ahead(lmp_json_reader *r, const char **text, size_t *len, lmp_err *e)
{
	if (r->started)
		return 0;
	for (;;) {
		while (r->pos < r->b.len && is_ws(r->b.s[r->pos]))
			advance(r, r->b.s[r->pos++]);
		if (r->pos < r->b.len)
			break;
		if (r->eof || fill(r, e) <= 0)
			return 0;
	}
	*text = r->b.s + r->pos;
	*len = r->b.len - r->pos;
	return 1;
}

void
lmp_json_read_skip(lmp_json_reader *r, size_t len)
{
	/* lines and column at the end of the document, newlines found by memchr */
	const char *p = r->b.s + r->pos, *stop = p + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(stop - p)))) {
		r->lines++;
		r->col = 0;
		p = nl + 1;
	}
	r->col += (int)(stop - p);
	r->pos += len;
	r->started = 0;
}

cJSON *
lmp_json_read_parse(lmp_json_reader *r, size_t len, lmp_err *e)
{
	lmp_json_stream st;
	cJSON *doc;

	lmp_json_stream_init(&st, r->b.s + r->pos, len, r->name);
	st.line0 = r->lines;
	st.col0 = r->col;
	doc = lmp_json_next(&st, e);
	if (!doc && !e->status)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON", r->name);
	lmp_json_read_skip(r, len);
	return doc;
}

cJSON *
lmp_json_read(lmp_json_reader *r, lmp_err *e)
{
	const char *text;
	size_t len;

	if (lmp_json_read_text(r, &text, &len, e) <= 0)
		return NULL;
	return lmp_json_read_parse(r, len, e);
}
