/* jscan.c: JSON text scanned without building a tree: whitespace, a
 * string and a whole value skipped, brackets matched.  For the readers that
 * need only where things are: the lazy database (dbopen.c) and --fields
 * (fields.c). */
#include <string.h>

#include "lmp.h"

#define MAX_DEPTH 256

/* What ends a number or a literal (lmp_jscan_token). */
const unsigned char lmp_jscan_ends_token[256] = {[','] = 1, [':'] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\t'] = 1,
	['\r'] = 1, ['\n'] = 1, ['{'] = 1, ['['] = 1, ['"'] = 1};

/* p at '"': just past the closing quote, or NULL.  memchr finds the
 * quotes; one after an odd run of backslashes is escaped.  Raw control
 * characters are left to the strict parse of the entries that are used. */
const char *
lmp_jscan_string(const char *p, const char *end)
{
	const char *q = p + 1;

	while ((q = memchr(q, '"', (size_t)(end - q)))) {
		const char *b = q;
		while (b > p + 1 && b[-1] == '\\')
			b--;
		if ((q - b) % 2 == 0)
			return q + 1;
		q++;
	}
	return NULL;
}

/* Just past one value (brackets matched, strings closed), or NULL. */
const char *
lmp_jscan_value(const char *p, const char *end)
{
	char stack[MAX_DEPTH];
	int depth = 0;

	do {
		p = lmp_jscan_ws(p, end);
		if (p >= end)
			return NULL;
		switch (*p) {
		case '"':
			if (!(p = lmp_jscan_string(p, end)))
				return NULL;
			break;
		case '{':
		case '[':
			if (depth == MAX_DEPTH)
				return NULL;
			stack[depth++] = *p == '{' ? '}' : ']';
			p++;
			continue; /* (to the loop's test: depth > 0) */
		case '}':
		case ']':
			if (!depth || stack[depth - 1] != *p)
				return NULL;
			depth--;
			p++;
			break;
		case ',':
		case ':':
			return NULL;
		default: {
			const char *s = p;
			if ((p = lmp_jscan_token(p, end)) == s)
				return NULL;
		}
		}
		p = lmp_jscan_ws(p, end);
		if (depth && p < end && (*p == ',' || *p == ':')) {
			p = lmp_jscan_ws(p + 1, end);
			if (p < end && (*p == '}' || *p == ']'))
				return NULL; /* a separator before a close */
		}
	} while (depth);
	return p;
}

/* The bytes that matter inside a container: quotes and brackets. */
static const unsigned char in_container[256] = {['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1};

/* Just past one value of text known to be JSON (a document lmp wrote), or
 * NULL where the text ends first: nothing is checked but the nesting, so
 * each byte costs one look-up.  Whitespace after the value is not
 * skipped. */
const char *
lmp_jscan_skip(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p != '{' && *p != '[') {
		if (*p == '"')
			return lmp_jscan_string(p, end);
		return lmp_jscan_token(p, end);
	}
	for (;;) {
		while (p < end && !in_container[(unsigned char)*p])
			p++;
		if (p >= end)
			return NULL;
		if (*p == '"') {
			/* a key or a short string: no call, escapes stepped over */
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
			p++;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else {
			p++;
			if (--depth == 0)
				return p;
		}
	}
}
