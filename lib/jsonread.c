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

/* Where the started document ends, or 0 when the input so far ends first. */
static size_t
find_end(lmp_json_reader *r)
{
	const char *s = r->b.s;
	size_t i;

	for (i = r->scan; i < r->b.len; i++) {
		char c = s[i];
		if (r->in_str) {
			if (r->esc)
				r->esc = 0;
			else if (c == '\\')
				r->esc = 1;
			else if (c == '"') {
				r->in_str = 0;
				if (r->started == 1 + STRING)
					return i + 1;
			}
			continue;
		}
		if (r->started == 1 + BARE) { /* ends where lmp_json_next would let a document end */
			if (is_ws(c) || c == '{' || c == '[')
				return i;
			continue;
		}
		if (c == '"')
			r->in_str = 1;
		else if (c == '{' || c == '[')
			r->depth++;
		else if ((c == '}' || c == ']') && --r->depth == 0)
			return i + 1;
	}
	r->scan = i;
	return 0;
}

cJSON *
lmp_json_read(lmp_json_reader *r, lmp_err *e)
{
	lmp_json_stream st;
	size_t end;
	cJSON *doc;
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
					return NULL;
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
			return NULL;
	}
	if (e->status)
		return NULL;
	/* Said upstream already: fail without a word of our own (tool.c). */
	if (!r->any && r->empty_fails)
		lmp_fail(e, LMP_EXIT_INPUT, "%s", "");
	return NULL;
found:
	lmp_json_stream_init(&st, r->b.s + r->pos, end - r->pos, r->name);
	st.line0 = r->lines;
	st.col0 = r->col;
	doc = lmp_json_next(&st, e);
	if (!doc && !e->status)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: malformed JSON", r->name);
	/* lines and column at the end of the document, newlines found by memchr */
	{
		const char *p = r->b.s + r->pos, *stop = r->b.s + end, *nl;
		while ((nl = memchr(p, '\n', (size_t)(stop - p)))) {
			r->lines++;
			r->col = 0;
			p = nl + 1;
		}
		r->col += (int)(stop - p);
	}
	r->pos = end;
	r->started = 0;
	return doc;
}
