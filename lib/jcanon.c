/* jcanon.c: a document whose text is already what lmp would write.
 *
 * A tool that hands documents on as they are (lmp-report's JSON, its
 * default into a pipe or a file) reads each into a tree and prints it
 * again; over a sweep's stream the tree is nearly all of its time.  Where
 * a document's text is compact JSON exactly as lmp_json_print writes it,
 * and reading it could not fail, the text itself is what the tree would
 * print.  lmp_json_canonical says so, strictly: anything it does not take
 * (pretty or hand-spaced text, escapes other than the printer's own,
 * text past ASCII, an exponent the reader would refuse, deep nesting, an
 * object of many keys) is left to the tree, which then says what is wrong,
 * if anything.  Declining a document it could take is only slower.
 *
 * What the tree would do, and so what a taken document must be:
 * - cJSON's grammar, narrowed by lmp's reader (json.c annotate) to RFC
 *   8259 numbers, whose text passes through; one the reader could refuse
 *   as out of range has an exponent, and only those are parsed here
 *   (lmp_num_parse), a number without one (at most MAXNUM bytes) being
 *   finite;
 * - strings printed by lmp_json_string: bytes 0x20 to 0x7f as they are
 *   but the quote and backslash, which go as \" and \\, and the controls
 *   \b \f \n \r \t (others would be \u00XX: declined, as is every \u,
 *   so neither an escaped NUL nor invalid UTF-8 can be in a taken one);
 * - no repeated key in an object (the reader refuses one);
 * - at most LMP_JSON_MAX_VALUES values in LMP_JSON_MAX_BYTES (counted as
 *   json.c's too_large counts them), nesting at most DEPTH deep (cJSON's
 *   own limit is 1000). */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define DEPTH 64
#define KEYS 64   /* the keys of one object, compared pairwise */
#define MAXNUM 40 /* cJSON reads up to 63 bytes of a number */

/* A byte a string holds as it is; a byte after a backslash the printer writes. */
static const unsigned char plain[256] = {
#define R8(a) [a] = 1, [a + 1] = 1, [a + 2] = 1, [a + 3] = 1, [a + 4] = 1, [a + 5] = 1, [a + 6] = 1, [a + 7] = 1
	[0x20] = 1, [0x21] = 1, [0x23] = 1, [0x24] = 1, [0x25] = 1, [0x26] = 1, [0x27] = 1, /* not '"' */
	R8(0x28), R8(0x30), R8(0x38), R8(0x40), R8(0x48), R8(0x50),
	[0x58] = 1, [0x59] = 1, [0x5a] = 1, [0x5b] = 1, [0x5d] = 1, [0x5e] = 1, [0x5f] = 1, /* not '\\' */
	R8(0x60), R8(0x68), R8(0x70), R8(0x78),
#undef R8
};
static const unsigned char escape[256] = {
	['"'] = 1, ['\\'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
/* Eight bytes at a time (read as one little-endian word): how many of
 * them, from the first, pass a test, 8 where all do.  A byte that fails
 * is marked by a bit of its own; a mark borrowed or carried from a byte
 * below only lands above the first byte that fails, so the lowest mark is
 * that byte's.  A big-endian machine looks at a byte at a time. */
static inline int
first_mark(uint64_t marks)
{
	return marks ? __builtin_ctzll(marks) >> 3 : 8;
}

/* Bytes plain in a string: not below 0x20, not '"' or '\\', not past
 * 0x7f (a byte below 0x20 or equal to one of the two leaves the
 * subtraction's high bit set where its own is clear). */
static inline int
plain8(const unsigned char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return first_mark((x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS);
}

/* Digits: the high nibble 3, and adding 6 leaves it 3 (a byte that fails
 * has a bit set in its high nibble here; a carry only goes on from a byte
 * past 0xf9, which fails). */
static inline int
digits8(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return first_mark(((x & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
		(((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL));
}
#define RUN(p, end, test8) \
	do { \
		int k_; \
		while ((end) - (p) >= 8 && (k_ = test8(p)) == 8) \
			(p) += 8; \
		if ((end) - (p) >= 8) \
			(p) += k_; \
	} while (0)
#else
#define RUN(p, end, test8) ((void)0)
#endif

/* Past the bytes from p a string holds as they are. */
static inline const unsigned char *
plain_run(const unsigned char *p, const unsigned char *end)
{
	RUN(p, end, plain8);
	while (p < end && plain[*p])
		p++;
	return p;
}

size_t
lmp_json_plain_run(const char *from, const char *to)
{
	return (size_t)(plain_run((const unsigned char *)from, (const unsigned char *)to) - (const unsigned char *)from);
}

/* Past a string's closing quote (p after its opening one), or NULL. */
static const unsigned char *
string(const unsigned char *p, const unsigned char *end)
{
	for (;;) {
		p = plain_run(p, end);
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p != '\\' || end - p < 2 || !escape[p[1]])
			return NULL;
		p += 2;
	}
}

#define DIGIT(q) ((q) < end && *(q) >= '0' && *(q) <= '9')
#define DIGITS(q) \
	do { \
		RUN(q, end, digits8); \
		while (DIGIT(q)) \
			(q)++; \
	} while (0)

const char *
lmp_json_number_end(const char *from, const char *to, int *exp)
{
	const unsigned char *p = (const unsigned char *)from, *end = (const unsigned char *)to;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (DIGIT(p))
		DIGITS(p);
	else
		return NULL;
	if (p < end && *p == '.') {
		p++;
		if (!DIGIT(p))
			return NULL;
		DIGITS(p);
	}
	if (exp)
		*exp = p < end && (*p == 'e' || *p == 'E');
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!DIGIT(p))
			return NULL;
		while (DIGIT(p))
			p++;
	}
	return (const char *)p;
}

/* Past a number the reader takes and prints as it is, or NULL: one whose
 * text cJSON reads whole and, where it has an exponent, lmp_num_parse
 * finds in range (without one, MAXNUM digits are finite). */
static const unsigned char *
number(const unsigned char *p, const unsigned char *end)
{
	int exp;
	const char *q = lmp_json_number_end((const char *)p, (const char *)end, &exp);
	size_t n = q ? (size_t)(q - (const char *)p) : 0;
	lmp_num v;

	if (!q || n > MAXNUM || (exp && lmp_num_parse((const char *)p, n, &v) < 0))
		return NULL;
	return (const unsigned char *)q;
}

#undef DIGIT
#undef DIGITS

/* Past true, false or null (by the first byte at p), or NULL. */
static const unsigned char *
literal(const unsigned char *p, const unsigned char *end)
{
	const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && !memcmp(p, word, n) ? p + n : NULL;
}

/* The numbers of a document scanned: where each starts and ends. */
struct nums {
	uint32_t *at; /* start, end: two a number */
	size_t n, cap;
};

static void
note_number(struct nums *ns, size_t from, size_t to)
{
	if (ns->n + 2 > ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 256;
		ns->at = lmp_xrealloc(ns->at, ns->cap * sizeof *ns->at);
	}
	ns->at[ns->n++] = (uint32_t)from;
	ns->at[ns->n++] = (uint32_t)to;
}

/* lmp_json_canonical, noting the numbers in ns where it is not NULL. */
static size_t
scan(const char *text, size_t len, size_t *nodes, struct nums *ns)
{
	const unsigned char *s = (const unsigned char *)text, *p = s, *end, *q;
	/* the keys of the objects open, as offsets and lengths; each open
	 * container's first key's place, and a bit for each of its keys'
	 * hashes (a key whose bit is clear repeats none) */
	uint32_t kat[DEPTH * KEYS], klen[DEPTH * KEYS];
	uint64_t seen[DEPTH];
	int kbase[DEPTH], nk = 0, depth = 0;
	unsigned char close[DEPTH]; /* each open container's closing bracket */
	long values = 1;
	size_t n = 0;
	uint64_t bit;

	if (len > (size_t)LMP_JSON_MAX_BYTES)
		len = (size_t)LMP_JSON_MAX_BYTES;
	end = s + len;
	if (p == end || (*p != '{' && *p != '['))
		return 0;
	for (;;) {
		/* a value at p */
		n++;
		switch (p < end ? *p : 0) {
		case '{':
		case '[':
			if (depth == DEPTH)
				return 0;
			close[depth] = *p == '{' ? '}' : ']';
			seen[depth] = 0;
			kbase[depth++] = nk;
			values++;
			p++;
			if (p < end && *p == close[depth - 1]) {
				p++;
				depth--;
				break; /* empty */
			}
			if (close[depth - 1] == '}')
				goto key;
			continue;
		case '"':
			if (!(p = string(p + 1, end)))
				return 0;
			break;
		case 't':
		case 'f':
		case 'n':
			if (!(p = literal(p, end)))
				return 0;
			break;
		default:
			q = p;
			if (!(p = number(p, end)))
				return 0;
			if (ns)
				note_number(ns, (size_t)(q - s), (size_t)(p - s));
		}
		/* after a value: the next member, or the ends of containers */
		for (;;) {
			if (!depth) {
				if (values > LMP_JSON_MAX_VALUES)
					return 0; /* its last bracket past the limit */
				if (nodes)
					*nodes = n;
				return (size_t)(p - s);
			}
			if (p == end)
				return 0;
			if (*p == ',') {
				/* past the limit the reader refuses it: stop here, not
				 * at its end (the numbers noted stay bounded) */
				if (++values > LMP_JSON_MAX_VALUES)
					return 0;
				p++;
				break;
			}
			if (*p != close[depth - 1])
				return 0;
			nk = kbase[--depth];
			p++;
		}
		if (close[depth - 1] == ']')
			continue;
key:
		/* a member's key, not one of its object's keys before */
		if (p == end || *p != '"' || !(q = string(p + 1, end)) || q == end || *q != ':')
			return 0;
		if (nk - kbase[depth - 1] == KEYS)
			return 0;
		/* the hash of its length and first and last bytes */
		bit = 1ULL << ((((uint32_t)(q - p) << 16 ^ (uint32_t)p[1] << 8 ^ q[-2]) * 0x9E3779B1u) >> 26);
		if (seen[depth - 1] & bit) {
			for (int i = kbase[depth - 1]; i < nk; i++)
				if (klen[i] == (uint32_t)(q - p) && !memcmp(s + kat[i], p, (size_t)(q - p)))
					return 0;
		}
		seen[depth - 1] |= bit;
		kat[nk] = (uint32_t)(p - s);
		klen[nk++] = (uint32_t)(q - p);
		p = q + 1;
	}
}

size_t
lmp_json_canonical(const char *text, size_t len, size_t *nodes)
{
	return scan(text, len, nodes, NULL);
}

struct lmp_jstream {
	/* the skeleton: the last document scanned whole, its length, values
	 * and numbers */
	lmp_buf skel;
	size_t len, nodes;
	struct nums sn, next; /* next: a whole scan's, the skeleton's once it takes */
	/* the document taken: its text and numbers (in its text), whether it
	 * was scanned whole */
	const char *text;
	size_t tlen;
	struct nums cur;
	int whole;
	/* the tree of the skeleton's shape (tree_ok), its number nodes, and
	 * the numbers' text of the document taken */
	lmp_buf mem, numtext;
	cJSON **numnode;
	int tree_ok, doubles;
};

lmp_jstream *
lmp_jstream_new(int doubles)
{
	lmp_jstream *j = lmp_xcalloc(1, sizeof(lmp_jstream));

	j->doubles = doubles;
	return j;
}

void
lmp_jstream_free(lmp_jstream *j)
{
	if (!j)
		return;
	lmp_buf_free(&j->skel);
	lmp_buf_free(&j->mem);
	lmp_buf_free(&j->numtext);
	free(j->sn.at);
	free(j->next.at);
	free(j->cur.at);
	free(j->numnode);
	free(j);
}

/* The length of the document at text where it has the skeleton's text
 * between its numbers and each of its numbers is one scan() takes (then
 * the whole is one it takes: the same text around numbers it takes); 0
 * where not. */
static size_t
same_skeleton(lmp_jstream *j, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text, *end, *q;
	const char *sk = j->skel.s;
	size_t from = 0, seg;

	/* no longer than scan() takes: longer numbers can carry the
	 * skeleton's shape past the reader's limit */
	end = t + (len > (size_t)LMP_JSON_MAX_BYTES ? (size_t)LMP_JSON_MAX_BYTES : len);

	j->cur.n = 0;
	for (size_t i = 0; i < j->sn.n; i += 2) {
		seg = j->sn.at[i] - from;
		if ((size_t)(end - t) < seg || memcmp(t, sk + from, seg))
			return 0;
		t += seg;
		if (!(q = number(t, end)))
			return 0;
		note_number(&j->cur, (size_t)(t - (const unsigned char *)text), (size_t)(q - (const unsigned char *)text));
		t = q;
		from = j->sn.at[i + 1];
	}
	seg = j->len - from;
	if ((size_t)(end - t) < seg || memcmp(t, sk + from, seg))
		return 0;
	return (size_t)(t + seg - (const unsigned char *)text);
}

size_t
lmp_jstream_take(lmp_jstream *j, const char *text, size_t len)
{
	size_t n, nodes;

	j->text = NULL;
	if (j->len && (n = same_skeleton(j, text, len))) {
		j->whole = 0;
	} else {
		/* a document the skeleton does not fit (or one cut short where
		 * the input read so far ends: the skeleton stays for the next) */
		struct nums t;
		j->next.n = 0;
		if (!(n = scan(text, len, &nodes, &j->next)))
			return 0;
		/* the new skeleton */
		t = j->sn;
		j->sn = j->next;
		j->next = t;
		j->skel.len = 0;
		lmp_buf_add(&j->skel, text, n);
		j->len = n;
		j->nodes = nodes;
		j->whole = 1;
		j->tree_ok = 0;
	}
	j->text = text;
	j->tlen = n;
	return n;
}

const cJSON *
lmp_jstream_tree(lmp_jstream *j)
{
	const cJSON *top = (const cJSON *)(const void *)j->mem.s;
	size_t nn = j->sn.n / 2;
	char *o;

	if (!j->text)
		return NULL;
	if (j->whole || !j->tree_ok) {
		/* made afresh from the document's text */
		j->numnode = lmp_xrealloc(j->numnode, (nn ? nn : 1) * sizeof *j->numnode);
		top = lmp_json_text_tree(j->text, j->tlen, j->nodes, &j->mem, j->numnode, j->doubles);
		j->tree_ok = 1;
		return top;
	}
	/* the skeleton's tree, with this document's numbers */
	j->numtext.len = 0;
	lmp_buf_grow(&j->numtext, j->tlen + nn);
	o = j->numtext.s;
	for (size_t i = 0; i < nn; i++) {
		size_t from = j->cur.at[2 * i], n = j->cur.at[2 * i + 1] - from;
		lmp_copy_short(o, j->text + from, n);
		o[n] = '\0';
		lmp_json_number_node(j->numnode[i], o, j->doubles);
		o += n + 1;
	}
	return top;
}
