/* escape.c: untrusted text (an agent's answer, a key of a document) made fit
 * for a one-line message on a terminal.  Control characters become escapes
 * (\n, \t, \r, \xHH; C1 controls, line separators and bidirectional
 * overrides \uHHHH), bytes that are not UTF-8 \xHH; other UTF-8 stays as it
 * is.  A backslash stays as it is: escaping twice changes nothing. */
#include <string.h>

#include "lmp.h"

/* Bytes of the UTF-8 sequence at s (shortest form, no surrogates, at most
 * U+10FFFF) and its code point, or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t k, i;
	unsigned long c;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	k = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
	if (n < k)
		return 0;
	c = s[0] & (0x7F >> k);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return k;
}

/* A character that moves the cursor or reorders text on a terminal. */
static int
unsafe_char(unsigned long c)
{
	return (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

/* The escaped form of the character at s[i] into piece (m bytes); k gets
 * the input bytes it stands for. */
static size_t
piece_at(const unsigned char *s, size_t i, size_t len, char piece[8], size_t *k)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long c;

	*k = 1;
	if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		piece[0] = '\\';
		piece[1] = s[i] == '\n' ? 'n' : s[i] == '\t' ? 't' : 'r';
		return 2;
	}
	if (s[i] >= 0x20 && s[i] < 0x7F) {
		piece[0] = (char)s[i];
		return 1;
	}
	if (s[i] >= 0x80 && (*k = utf8_seq(s + i, len - i, &c))) {
		if (!unsafe_char(c)) {
			memcpy(piece, s + i, *k);
			return *k;
		}
		piece[0] = '\\';
		piece[1] = 'u';
		for (int d = 0; d < 4; d++)
			piece[2 + d] = hex[(c >> (12 - 4 * d)) & 15];
		return 6;
	}
	*k = 1;
	piece[0] = '\\';
	piece[1] = 'x';
	piece[2] = hex[s[i] >> 4];
	piece[3] = hex[s[i] & 15];
	return 4;
}

size_t
lmp_escape(char *out, size_t size, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t o = 0, i, k, m, room, total = 0;
	char piece[8];

	if (size == 0)
		return 0;
	for (i = 0; i < len; i += k)
		total += piece_at(s, i, len, piece, &k);
	/* Too long: whole pieces up to what leaves room for "...". */
	room = total <= size - 1 ? size - 1 : size - 1 > 3 ? size - 4 : 0;
	for (i = 0; i < len; i += k) {
		m = piece_at(s, i, len, piece, &k);
		if (o + m > room)
			break;
		memcpy(out + o, piece, m);
		o += m;
	}
	if (i < len)
		for (const char *d = "..."; *d && o < size - 1; d++)
			out[o++] = *d;
	out[o] = '\0';
	return o;
}
