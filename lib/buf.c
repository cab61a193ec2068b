/* buf.c: growable buffers and whole-input reading. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "lmp.h"

void
lmp_buf_grow(lmp_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + need + 1 <= b->cap)
		return;
	while (cap < b->len + need + 1)
		cap *= 2;
	b->s = lmp_xrealloc(b->s, cap);
	b->cap = cap;
}

void
lmp_buf_printf(lmp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	lmp_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
lmp_buf_free(lmp_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int
lmp_read_stream(FILE *f, lmp_buf *b, lmp_err *e)
{
	struct stat st;
	size_t n;

	/* Straight into the buffer, no copy between: a file's size known
	 * beforehand (one allocation, the database's 400 kB at every start),
	 * a pipe's in growing pieces. */
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size < SIZE_MAX / 2)
		lmp_buf_grow(b, (size_t)st.st_size + 1); /* + 1: the read that finds the end */
	for (;;) {
		size_t room;
		if (b->cap - b->len < 4096 + 1)
			lmp_buf_grow(b, b->len < 65536 ? 65536 : b->len);
		room = b->cap - b->len - 1;
		n = fread(b->s + b->len, 1, room, f);
		b->len += n;
		if (n < room) /* the end, or an error */
			break;
	}
	if (ferror(f))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "read error: %s", strerror(errno));
	lmp_buf_grow(b, 0);
	b->s[b->len] = '\0';
	return 0;
}

int
lmp_read_input(const char *path, int empty_fails, lmp_buf *b, lmp_err *e)
{
	if (path)
		return lmp_read_file(path, b, e);
	if (lmp_read_stream(stdin, b, e))
		return -1;
	/* Said upstream already: fail without a word of our own (tool.c). */
	if (!b->len && empty_fails)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s", "");
	return 0;
}

int
lmp_read_file(const char *path, lmp_buf *b, lmp_err *e)
{
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	rc = lmp_read_stream(f, b, e);
	fclose(f);
	if (rc)
		lmp_prefix(e, "%s: ", path);
	return rc;
}
