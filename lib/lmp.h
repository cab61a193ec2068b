/* lmp.h: the shared library of the lmp tools.
 *
 * Conventions, stated once:
 * - Library functions never exit and never print.  A function that can fail
 *   returns 0 on success and -1 on failure, with the reason in an lmp_err the
 *   caller passed in; tools turn that into one line "lmp-TOOL: reason".
 * - A function whose name contains "new", "dup", "load" or "read" returns memory
 *   the caller owns and frees with the matching *_free (or free() for char *).
 *   Everything else borrows: pointers stay valid while their owner lives.
 * - Numbers are lmp_num: exact rationals over 128-bit integers, or doubles
 *   where exactness is impossible (see num.c).
 */
#ifndef LMP_H
#define LMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#define LMP_VERSION "0.1.0"

/* Exit statuses, the same in every tool and every man page. */
enum {
	LMP_EXIT_OK = 0,     /* success */
	LMP_EXIT_INPUT = 1,  /* bad input: malformed document, bad formula, evaluation error */
	LMP_EXIT_USAGE = 2,  /* bad command line */
	LMP_EXIT_SYSTEM = 3, /* I/O error, missing data file, out of memory */
	LMP_EXIT_AGENT = 4,  /* the analysis agent failed, or its answer was refused */
};

/* Limits, named once.  Each bounds an array or a recursion on the stack;
 * real models stay far below them (an entry has at most 17 parameters, a
 * layer tree 5 levels). */
#define LMP_MAX_ARGS 64       /* arguments of a call or function, parameters of an entry */
#define LMP_MAX_TREE_DEPTH 32 /* levels of a layer tree: templates and documents */
#define LMP_MAX_CALL_DEPTH 64 /* {Entry} calls inside each other */

/* err.c */
typedef struct lmp_err {
	int status; /* an LMP_EXIT_* value */
	char msg[1024];
} lmp_err;
int lmp_fail(lmp_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int lmp_prefix(lmp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* alloc.c: allocation that cannot fail (it aborts the process on exhaustion,
 * the one exception to "never exit": there is no useful recovery). */
void *lmp_xmalloc(size_t n);
void *lmp_xcalloc(size_t n, size_t size);
void *lmp_xrealloc(void *p, size_t n);
char *lmp_xstrdup(const char *s);
char *lmp_xstrndup(const char *s, size_t n);
void lmp_oom(void) __attribute__((noreturn)); /* "TOOL: out of memory", exit */
void lmp_alloc_init(void); /* cJSON allocates through lmp_xmalloc (lmp_start calls it) */

/* arena.c: bump allocation for structures that die together. */
typedef struct lmp_arena lmp_arena;
lmp_arena *lmp_arena_new(void);
void *lmp_arena_alloc(lmp_arena *a, size_t n);
size_t lmp_arena_used(const lmp_arena *a);
void lmp_arena_free(lmp_arena *a);

/* buf.c: growable byte buffer. */
typedef struct lmp_buf {
	char *s;
	size_t len, cap;
} lmp_buf;
void lmp_buf_grow(lmp_buf *b, size_t need);
/* n bytes from s to p.  Most pieces of a document are short (a key, a
 * literal): up to 32 bytes they go as two to four overlapping word copies
 * that stay inside both ranges, cheaper than a call to memcpy or a loop
 * over the bytes. */
static inline void
lmp_copy_short(char *p, const char *s, size_t n)
{
	uint64_t a, b, c, d;
	uint32_t e, f;
	uint16_t g, h;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(p, &a, 8);
		memcpy(p + n - 8, &b, 8);
	} else if (n > 16 && n <= 32) {
		memcpy(&a, s, 8);
		memcpy(&b, s + 8, 8);
		memcpy(&c, s + n - 16, 8);
		memcpy(&d, s + n - 8, 8);
		memcpy(p, &a, 8);
		memcpy(p + 8, &b, 8);
		memcpy(p + n - 16, &c, 8);
		memcpy(p + n - 8, &d, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&e, s, 4);
		memcpy(&f, s + n - 4, 4);
		memcpy(p, &e, 4);
		memcpy(p + n - 4, &f, 4);
	} else if (n >= 2 && n < 4) {
		memcpy(&g, s, 2);
		memcpy(&h, s + n - 2, 2);
		memcpy(p, &g, 2);
		memcpy(p + n - 2, &h, 2);
	} else if (n == 1) {
		*p = *s;
	} else if (n) {
		memcpy(p, s, n);
	}
}
static inline void
lmp_buf_add(lmp_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		lmp_buf_grow(b, n);
	lmp_copy_short(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}
/* inline: a literal's length is then known where it is written */
static inline void
lmp_buf_puts(lmp_buf *b, const char *s)
{
	lmp_buf_add(b, s, strlen(s));
}
static inline void
lmp_buf_putc(lmp_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		lmp_buf_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}
void lmp_buf_printf(lmp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lmp_buf_free(lmp_buf *b);
int lmp_read_stream(FILE *f, lmp_buf *b, lmp_err *e);
/* A file, or standard input when path is NULL; with empty_fails, empty
 * standard input is an error without a message (lmp_chain). */
int lmp_read_input(const char *path, int empty_fails, lmp_buf *b, lmp_err *e);
int lmp_read_file(const char *path, lmp_buf *b, lmp_err *e);

/* num.c: exact arithmetic.
 * A number is EXACT (n/d in lowest terms, d > 0, both 128-bit) or FLOAT (a
 * finite double).  Operations on exact numbers stay exact; a division that
 * does not come out even gives an exact fraction that prints as the nearest
 * double.  Integer overflow is an error; a fraction whose terms outgrow 128
 * bits degrades to a double (it was going to print as one anyway). */
typedef __int128 lmp_i128;
typedef struct lmp_num {
	int exact; /* 1: n/d, 0: x */
	lmp_i128 n, d;
	double x;
} lmp_num;

enum lmp_numerr {
	LMP_NUM_OK = 0,
	LMP_NUM_OVERFLOW,
	LMP_NUM_DIVZERO,
	LMP_NUM_DOMAIN,
	LMP_NUM_NONFINITE,
};
const char *lmp_num_strerror(int code);

/* Inline: a sweep makes millions, and a call returning the struct through
 * memory costs a store-forwarding stall at every one. */
static inline lmp_num
lmp_num_int(lmp_i128 v)
{
	lmp_num r = {1, v, 1, 0};
	return r;
}
/* lmp_num_int(v) stored into *r field by field, LMP_NUM_OK: a struct
 * copy's 16-byte loads would wait on the 8-byte stores of a fresh lmp_num
 * on the stack (the hot paths of a sweep). */
static inline int
lmp_num_set_int(lmp_num *r, int64_t v)
{
	r->exact = 1;
	r->n = v;
	r->d = 1;
	r->x = 0;
	return 0;
}
int64_t lmp_gcd64(int64_t a, int64_t b); /* of |a| and |b|; 0 where both are 0 */
lmp_num lmp_num_frac(lmp_i128 n, lmp_i128 d); /* d != 0 */
int lmp_num_double(double x, lmp_num *out);   /* rejects NaN/inf */
int lmp_num_is_int(const lmp_num *a);
int lmp_num_is_zero(const lmp_num *a);
int lmp_num_sign(const lmp_num *a);
double lmp_num_to_double(const lmp_num *a);
/* Each writes *r and returns an lmp_numerr. */
/* add, sub and mul: whole 64-bit operands (nearly all) inline, the rest
 * (128-bit, fractions, doubles) in num.c */
int lmp_num_add_any(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_sub_any(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_mul_any(const lmp_num *a, const lmp_num *b, lmp_num *r);
/* a is a whole number of 64 bits */
static inline int
lmp_num_is_i64(const lmp_num *a)
{
	return a->exact && a->d == 1 && a->n == (int64_t)a->n;
}
static inline int
lmp_num_small_ints(const lmp_num *a, const lmp_num *b)
{
	return lmp_num_is_i64(a) && lmp_num_is_i64(b);
}
static inline int
lmp_num_add(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	int64_t s;

	if (lmp_num_small_ints(a, b) && !__builtin_add_overflow((int64_t)a->n, (int64_t)b->n, &s))
		return lmp_num_set_int(r, s);
	return lmp_num_add_any(a, b, r);
}
static inline int
lmp_num_sub(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	int64_t s;

	if (lmp_num_small_ints(a, b) && !__builtin_sub_overflow((int64_t)a->n, (int64_t)b->n, &s))
		return lmp_num_set_int(r, s);
	return lmp_num_sub_any(a, b, r);
}
static inline int
lmp_num_mul(const lmp_num *a, const lmp_num *b, lmp_num *r)
{
	int64_t s;

	if (lmp_num_small_ints(a, b) && !__builtin_mul_overflow((int64_t)a->n, (int64_t)b->n, &s))
		return lmp_num_set_int(r, s);
	return lmp_num_mul_any(a, b, r);
}
int lmp_num_div(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_floordiv(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_mod(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_pow(const lmp_num *a, const lmp_num *b, lmp_num *r);
int lmp_num_neg(const lmp_num *a, lmp_num *r);
int lmp_num_floor(const lmp_num *a, lmp_num *r);
int lmp_num_ceil(const lmp_num *a, lmp_num *r);
int lmp_num_log2(const lmp_num *a, lmp_num *r);
int lmp_num_sqrt(const lmp_num *a, lmp_num *r);
int lmp_num_abs(const lmp_num *a, lmp_num *r);
int lmp_num_cmp(const lmp_num *a, const lmp_num *b); /* -1, 0, 1 */
/* same value and kind; inline: the fold and the stored weights compare many
 * numbers at every point of a sweep */
static inline int
lmp_num_eq(const lmp_num *a, const lmp_num *b)
{
	if (a->exact != b->exact)
		return 0;
	return a->exact ? a->n == b->n && a->d == b->d : a->x == b->x;
}

/* numfmt.c: the one number writer and reader.
 * Exact integers print in full; other values as the shortest decimal that
 * reads back as the same double; integral doubles below 1e21 print as
 * integers.  Parsing a literal ("12", "0.5", "1e3", "-2.5e-1") is exact.
 * The writers take LMP_NUM_STRMAX bytes at out and may store anywhere in
 * them, past the text's terminating NUL too (whole words, not byte loops). */
#define LMP_NUM_STRMAX 64
int lmp_i128_str(lmp_i128 v, char *out); /* returns length */
int lmp_num_str(const lmp_num *a, char *out);
/* the same text appended to b, written in place (room for the longest
 * made first: no copy from a scratch buffer); inline, as a document's
 * writers call them tens of times a point */
static inline void
lmp_buf_i128(lmp_buf *b, lmp_i128 v)
{
	if (b->len + LMP_NUM_STRMAX + 1 > b->cap)
		lmp_buf_grow(b, LMP_NUM_STRMAX);
	b->len += (size_t)lmp_i128_str(v, b->s + b->len);
}
static inline void
lmp_buf_num(lmp_buf *b, const lmp_num *v)
{
	if (b->len + LMP_NUM_STRMAX + 1 > b->cap)
		lmp_buf_grow(b, LMP_NUM_STRMAX);
	b->len += (size_t)lmp_num_str(v, b->s + b->len);
}
/* A double's text (fast exact path) and the snprintf/strtod reference it
 * must equal byte for byte. */
int lmp_double_str(double x, char *out);
int lmp_double_str_ref(double x, char *out);
/* 0 ok, -1 not a number (or not finite), LMP_NUM_OVERFLOW for a magnitude
 * of 2^127 or more: *out is then the nearest double, for a caller that only
 * checks the text; a count or size of that size cannot be exact. */
int lmp_num_parse(const char *s, size_t len, lmp_num *out);
int lmp_num_parse_ref(const char *s, size_t len, lmp_num *out); /* the slow original, kept as the oracle */

/* json.c: strict documents with exact numbers.
 * Every number node read by lmp keeps its literal text in valuestring, so a
 * number only passed through comes out as it came in.
 * A document holds at most LMP_JSON_MAX_VALUES values in at most
 * LMP_JSON_MAX_BYTES of text: parsed, a value costs about 110 bytes, so a
 * hostile document is refused before it takes more than about half a GiB
 * (lmp's own documents are well under a MiB; a stream of them is read one
 * document at a time). */
#define LMP_JSON_MAX_BYTES (64L << 20)
#define LMP_JSON_MAX_VALUES (4L << 20)
typedef struct lmp_json_stream {
	const char *buf, *p, *end;
	const char *name; /* for messages: "<stdin>" or a file */
	int line0, col0;  /* lines of the input before buf, columns before it on its line (jsonread.c) */
} lmp_json_stream;
void lmp_json_stream_init(lmp_json_stream *s, const char *buf, size_t len, const char *name);
/* Next document of a stream, NULL at the end (with e->status 0) or on error. */
cJSON *lmp_json_next(lmp_json_stream *s, lmp_err *e);
/* Valid UTF-8 without NUL bytes, or an error naming line and column. */
int lmp_json_check_text(const char *buf, size_t len, const char *name, lmp_err *e);
/* jsonread.c: documents one at a time from a file, for filters whose
 * memory must stay flat over a stream of millions (lmp-roofline,
 * lmp-report).  Each document is checked as lmp_json_next checks it. */
typedef struct lmp_json_reader {
	FILE *f;
	const char *name;
	lmp_buf b;         /* unread input from b.s + pos */
	size_t pos, scan;  /* next document; how far its end was looked for */
	int depth, in_str, esc, started, eof, lines, col, any;
	int own; /* opened by lmp_json_reader_open: closed by _free */
	int empty_fails; /* empty standard input is an error without a message */
} lmp_json_reader;
void lmp_json_reader_init(lmp_json_reader *r, FILE *f, const char *name);
/* A file, or standard input when path is NULL; empty_fails as lmp_read_input. */
int lmp_json_reader_open(lmp_json_reader *r, const char *path, int empty_fails, lmp_err *e);
/* The next document; NULL at the end (e->status 0) or on an error. */
cJSON *lmp_json_read(lmp_json_reader *r, lmp_err *e);
/* The same in two steps, for a reader that may take a document's text
 * without parsing it: lmp_json_read_text finds the next document's text
 * (1: at *text, *len bytes, left unread; 0: the end; -1: an error), then
 * lmp_json_read_parse parses it or lmp_json_read_skip passes over it. */
int lmp_json_read_text(lmp_json_reader *r, const char **text, size_t *len, lmp_err *e);
/* What is read ahead from the next document on (its end not yet looked
 * for): 1 (at *text, *len bytes), 0 where nothing is; a reader that
 * takes a document from it passes over it with lmp_json_read_skip. */
int lmp_json_read_ahead(lmp_json_reader *r, const char **text, size_t *len, lmp_err *e);
cJSON *lmp_json_read_parse(lmp_json_reader *r, size_t len, lmp_err *e);
void lmp_json_read_skip(lmp_json_reader *r, size_t len);
void lmp_json_reader_free(lmp_json_reader *r);
/* Exactly one document in buf (only whitespace around it). */
cJSON *lmp_json_parse_one(const char *buf, size_t len, const char *name, lmp_err *e);
cJSON *lmp_json_load_file(const char *path, lmp_err *e);
/* Exact value of a number node. */
int lmp_json_num(const cJSON *item, lmp_num *out);
/* jcanon.c: the length of the object or array that starts text where it
 * is exactly what lmp_json_print writes compact of the tree the reader
 * would make of it, without error (so a filter may copy the text in
 * place of reading and printing it), and where nodes is not NULL the
 * number of its values in *nodes; 0 where it may not be (the tree reads
 * it, or refuses it). */
size_t lmp_json_canonical(const char *text, size_t len, size_t *nodes);
/* Past a number at from (up to to) in RFC 8259's grammar, or NULL; where
 * exp is not NULL, whether it has an exponent. */
const char *lmp_json_number_end(const char *from, const char *to, int *exp);
/* How many bytes from from (up to to) a string holds as they are: not '"'
 * or '\\', not below 0x20 or past 0x7f. */
size_t lmp_json_plain_run(const char *from, const char *to);
/* A stream of documents as lmp prints them: a sweep's documents differ in
 * their numbers alone, so where one has the last fully scanned document's
 * skeleton (its text between the numbers the same, byte for byte) only
 * its numbers are scanned.  take: as lmp_json_canonical, the document
 * held until the next take (its text must stay where it is until then);
 * tree: lmp_json_text_tree's of the document taken, its numbers only
 * replaced where it shares the skeleton of the tree before. */
typedef struct lmp_jstream lmp_jstream;
lmp_jstream *lmp_jstream_new(int doubles); /* doubles: as lmp_json_text_tree's */
size_t lmp_jstream_take(lmp_jstream *j, const char *text, size_t len);
const cJSON *lmp_jstream_tree(lmp_jstream *j);
void lmp_jstream_free(lmp_jstream *j);
/* jtree.c: the tree of text lmp_json_canonical took whole (text, len and
 * nodes: what it said), laid out in mem (grown as needed, reused from one
 * document to the next), without cJSON's parser: numbers keep their text
 * in valuestring, as lmp's reader keeps it, and where doubles their
 * valuedouble and valueint as cJSON sets them, else NAN and 0 (a tree for
 * readers of text: lmp_field_text, lmp_json_num).  Where nums is not NULL
 * the number nodes are stored there in the text's order.  It lasts until
 * mem is next used; never give it to cJSON_Delete. */
const cJSON *lmp_json_text_tree(const char *text, size_t len, size_t nodes, lmp_buf *mem, cJSON **nums, int doubles);
/* A number node of that tree: its text (kept), its double where asked. */
void lmp_json_number_node(cJSON *n, char *text, int doubles);
cJSON *lmp_json_new_num(const lmp_num *v);
/* Compact (pretty = 0) or indented text; numbers through numfmt.c; caller frees. */
char *lmp_json_print(const cJSON *item, int pretty);
void lmp_json_print_buf(const cJSON *item, int pretty, lmp_buf *b);
void lmp_json_string(lmp_buf *b, const char *s); /* a quoted, escaped JSON string */

/* formula.c: templates, parsed to syntax trees.
 *   ${param}  a parameter of the entry     {var}  a runtime variable
 *   {Entry}(a, b, name=c)  another entry's formula of the same kind
 *   + - * / // % ** < <= > >= == != ?:  min max ceil floor log2 sqrt abs
 *   window_kv(W) window_pairs(W) window_cache(W): keys given, query-key
 *   pairs and keys kept under a sliding window
 *   expected(x): x, an expected count (tokens routed to one expert) */
enum lmp_node_type {
	LMP_N_NUM,
	LMP_N_PARAM,
	LMP_N_VAR,
	LMP_N_CALL,
	LMP_N_FUNC,
	LMP_N_UNARY,
	LMP_N_BINARY,
	LMP_N_COND,
};
enum lmp_op {
	LMP_OP_ADD, LMP_OP_SUB, LMP_OP_MUL, LMP_OP_DIV, LMP_OP_FLOORDIV, LMP_OP_MOD,
	LMP_OP_POW, LMP_OP_LT, LMP_OP_LE, LMP_OP_GT, LMP_OP_GE, LMP_OP_EQ, LMP_OP_NE,
	LMP_OP_NEG, LMP_OP_COND,
	LMP_OP_MIN, LMP_OP_MAX, LMP_OP_CEIL, LMP_OP_FLOOR, LMP_OP_LOG2, LMP_OP_SQRT,
	LMP_OP_ABS,
	LMP_OP_CHECK_NUM, LMP_OP_CHECK_INT, LMP_OP_CHECK_BOOL, /* a bound value, checked per point */
	LMP_OP_WIN_KV, LMP_OP_WIN_PAIRS, LMP_OP_WIN_CACHE, /* sliding-window aggregates of the step's queries */
	LMP_OP_EXPECTED, /* identity: marks an expectation, which may be fractional */
};
typedef struct lmp_node lmp_node;
struct lmp_node {
	int type, op, col; /* col: 1-based column in the template */
	int nkids;
	lmp_node **kids;
	lmp_num num;       /* LMP_N_NUM */
	const char *name;  /* PARAM, VAR, CALL: the name between the braces */
	const char **argnames; /* CALL: NULL or per-argument "name=" names (NULL if positional) */
	int index;         /* PARAM: parameter slot, VAR: runtime variable id */
};
typedef struct lmp_tmpl {
	const char *text;
	lmp_node *root;
	lmp_arena *arena;
} lmp_tmpl;
/* Parse text.  params (n of them) name the slots ${...} may refer to; with
 * params NULL, ${...} is an error (a template over runtime variables only). */
lmp_tmpl *lmp_tmpl_parse(const char *text, const char *const *params, int nparams, lmp_err *e);
void lmp_tmpl_free(lmp_tmpl *t);

/* runtime.c: the runtime variables of one evaluation point. */
enum lmp_var {
	LMP_V_BATCH_SIZE,     /* sequences in the step */
	LMP_V_SEQ_LEN,        /* new tokens per sequence (uniform batches) */
	LMP_V_CACHE_LEN,      /* tokens already cached per sequence (uniform batches) */
	LMP_V_TOKENS,         /* new tokens in the step, all sequences */
	LMP_V_KV_TOKENS,      /* sum over sequences of cache_len + seq_len */
	LMP_V_CACHED_TOKENS,  /* sum over sequences of cache_len */
	LMP_V_QK_PAIRS,       /* sum over sequences of seq_len * (cache_len + seq_len) */
	LMP_V_W_DTYPE_BYTES,
	LMP_V_A_DTYPE_BYTES,
	LMP_V_KV_DTYPE_BYTES,
	LMP_V_KV_LATENT,          /* 1 where the cache holds MLA's latent (--kv-layout latent), else 0 */
	LMP_V_ABSORBED_TOKENS,    /* new tokens of the queries MLA decodes absorbed (latent, seq_len 1) */
	LMP_V_ABSORBED_KV_TOKENS, /* their keys: sum of cache_len + 1 */
	LMP_NVARS
};
/* lmp_poly_vars' bit for a polynomial that reads the step's queries
 * themselves (a sliding window's aggregates), not only their sums. */
#define LMP_READS_QUERIES (1u << LMP_NVARS)
/* The variables made from the step's queries (the rest are widths). */
#define LMP_QUERY_VARS \
	((1u << LMP_V_BATCH_SIZE) | (1u << LMP_V_SEQ_LEN) | (1u << LMP_V_CACHE_LEN) | (1u << LMP_V_TOKENS) | \
		(1u << LMP_V_KV_TOKENS) | (1u << LMP_V_CACHED_TOKENS) | (1u << LMP_V_QK_PAIRS) | \
		(1u << LMP_V_ABSORBED_TOKENS) | (1u << LMP_V_ABSORBED_KV_TOKENS))
const char *lmp_var_name(int id);
int lmp_var_lookup(const char *name, size_t len); /* -1 if unknown */

typedef struct lmp_query {
	int64_t seq_len, cache_len, count;
} lmp_query;
typedef struct lmp_runtime {
	int nqueries;
	lmp_query *queries; /* borrowed */
	int w_bit, a_bit, kv_bit;
	lmp_num vars[LMP_NVARS];
	const char *extra; /* NULL, or members appended to the runtime object: ',"phase":...' */
	int w_checkpoint;  /* the weights are in the checkpoint's own formats (quant.c), per row */
	/* the parallel layout (LMP_RO_LAYOUT rows; 0 reads as 1); layout: an
	 * option of it was given, so the runtime object records it */
	int tp, pp, ep, dp, layout;
	/* engine.c: the engine and its knobs (LMP_RO_KNOB rows); engine NULL:
	 * transformers' forward with every knob neutral, written as before */
	const char *engine;
	int64_t kv_block, mem_util, mem_rule, reserve_bytes, chunk, fusion; /* mem_util: parts per 10^4 */
	int kv_layout, attention; /* LMP_KV_*, LMP_ATTN_*: the engine knobs of lmp-eval */
	int flash_arch;           /* LMP_FA_*: whose FlashAttention tiles */
	int flash_sms;            /* SMs its split heuristic divides by; 0: the arch's reference device */
} lmp_runtime;
/* Every member from w_checkpoint on is a setting of the point (not its
 * step): two runtimes with the same widths and the same bytes from here on
 * have the same settings (evaldoc.c's settings text, sweepform.c's class
 * key). */
#define LMP_RUNTIME_SETTINGS_AT offsetof(lmp_runtime, w_checkpoint)
enum { LMP_KV_HEADS = 1, LMP_KV_LATENT };
enum { LMP_ATTN_EAGER = 1, LMP_ATTN_FUSED, LMP_ATTN_FLASH, LMP_ATTN_PAGED };
enum { LMP_FA_SM80 = 1, LMP_FA_SM8X, LMP_FA_SM90 };
/* Every runtime variable of rt, from its queries and widths: the one place
 * they are derived. */
int lmp_runtime_compute(lmp_runtime *rt, lmp_err *e);
/* The variables (bit LMP_V_...) whose inputs are all among the options
 * given (bit LMP_RO_...), an option that follows another counting as given
 * with it. */
unsigned lmp_runtime_known(unsigned given);

/* runopts.c: the runtime options, one row each.  The tools' option parsing,
 * the "runtime" and "fixed" objects and lmp-eval --list-options come from
 * this table; the man pages and pipeline.sh are checked against it
 * (test/06-pipeline.bats).  A new option is a row (and, for a setting, an
 * int in lmp_runtime). */
enum lmp_ro {
	/* integer lists, in sweep order (the last varies fastest) */
	LMP_RO_BATCH_SIZE, LMP_RO_SEQ_LEN, LMP_RO_CACHE_LEN, LMP_RO_PROMPT_LEN, LMP_RO_GEN_LEN,
	LMP_RO_W_BIT, LMP_RO_A_BIT, LMP_RO_KV_BIT,
	LMP_RO_TP, LMP_RO_PP, LMP_RO_EP, LMP_RO_DP, /* the parallel layout (parallel.c) */
	LMP_RO_KV_BLOCK, LMP_RO_MEM_UTIL, LMP_RO_MEM_RULE, LMP_RO_RESERVE, LMP_RO_CHUNK, LMP_RO_FUSION, /* engine knobs */
	LMP_RO_KV_LAYOUT, LMP_RO_ATTENTION, LMP_RO_FLASH_ARCH, /* choice lists: the lmp.h enums (min 1) */
	LMP_RO_FLASH_SMS, /* written only where given (evaldoc.c) */
	LMP_RO_NLISTS,
	LMP_RO_PHASE = LMP_RO_NLISTS, LMP_RO_QUERIES,
	LMP_RO_ENGINE,
	LMP_NRUNOPTS
};
enum lmp_ro_type {
	LMP_RO_INTS, LMP_RO_QUERYLIST,
	LMP_RO_FRACS,   /* a list of fractions in (0, 1], kept as parts per 10^4 */
	LMP_RO_CHOICES, /* one of the words of choices (a list where it sweeps), kept as min + its index */
	LMP_RO_NAME,    /* one word (--engine) */
};
enum lmp_ro_role {
	LMP_RO_STEP,    /* shapes the step: written as the step's own fields */
	LMP_RO_SETTING, /* an int of lmp_runtime, written in every runtime object */
	LMP_RO_LAYOUT   /* an int of lmp_runtime, written where the layout was given */,
	LMP_RO_KNOB     /* an int64_t of lmp_runtime, written after "engine" when one is named */
};
enum lmp_ro_fix {
	LMP_FIX_NO,      /* lmp-populate does not take it */
	LMP_FIX_BOUND,   /* lmp-populate binds it into the formulas: lmp-eval must agree */
	LMP_FIX_DEFAULT  /* lmp-populate records it as the document's value: lmp-eval's option overrides */
};
typedef struct lmp_runopt {
	const char *name;  /* the option: "batch-size" */
	const char *json;  /* its field in "runtime" and "fixed": "batch_size" */
	const char *arg;   /* the man page's argument: "N" */
	int type, list;    /* enum lmp_ro_type; a comma-separated list (a sweep) */
	int64_t min, max, dflt;
	int follows;       /* -1, or the option whose value it takes when not given */
	const char *const *choices; /* LMP_RO_CHOICES: the words, NULL-terminated (value = min + index) */
	int role, fix;     /* enum lmp_ro_role, enum lmp_ro_fix */
	size_t offset;     /* LMP_RO_SETTING: offsetof(lmp_runtime, its int) */
	/* LMP_FIX_DEFAULT: the value the model's own files give, or 0 */
	int64_t (*from_model)(const cJSON *doc, lmp_err *e); /* -1: e says why */
	const char *tool;  /* the tool that applies it */
	const char *doc;   /* its man-page line */
} lmp_runopt;
extern const lmp_runopt lmp_runopts[LMP_NRUNOPTS];
/* The weight width the checkpoint's own format gives (its config's
 * quantization_config), or 0: not read yet, so always 0 today. */
int64_t lmp_checkpoint_w_bit(const cJSON *doc, lmp_err *e);
/* The values of the runtime options of lmp-eval. */
typedef struct lmp_runvals {
	int64_t *list[LMP_RO_NLISTS]; /* owned by the parsed values; a copy from lmp_runvals_for_doc borrows */
	int n[LMP_RO_NLISTS];
	int given[LMP_NRUNOPTS];      /* on the command line (or fixed by the document) */
	int from_model[LMP_RO_NLISTS]; /* taken from the model's own files (from_model) */
	int64_t one[LMP_RO_NLISTS];   /* a single value taken from a document or a default */
	int phase;                    /* 0: the whole request; else index of the choice + 1 */
	lmp_query *queries;           /* --queries: one mixed step */
	int nqueries;
	char *engine;                 /* the engine's id (--engine, LMP_ENGINE or the default): owned */
} lmp_runvals;
enum { LMP_PHASE_ALL, LMP_PHASE_PREFILL, LMP_PHASE_DECODE };
struct option;
/* getopt_long entries for the options that tool takes ("lmp-eval", or
 * "lmp-populate": the ones it fixes), val = base + row; returns how many. */
int lmp_runopt_longs(struct option *longs, const char *tool, int base);
/* One option's argument into v (a list where the row is one). */
int lmp_runopt_parse(lmp_runvals *v, int opt, const char *arg, lmp_err *e);
/* The name of a choice list's value (LMP_RO_KV_LAYOUT ...), or NULL. */
const char *lmp_runopt_choice(int opt, int64_t value);
/* One integer in the row's bounds (lmp-populate fixes single values). */
int lmp_runopt_int(int opt, const char *arg, int64_t *out, lmp_err *e);
/* The combinations lmp-eval refuses (module: --module is given). */
int lmp_runvals_check(const lmp_runvals *v, int module, lmp_err *e);
/* The values at which to evaluate doc (NULL: no document), each option
 * from the first of: the command line, the document's "fixed" object, the
 * model's own files (from_model), the default.  A value lmp-populate bound
 * into the formulas (LMP_FIX_BOUND) must agree with the command line.
 * out borrows from user; free only user. */
int lmp_runvals_for_doc(const lmp_runvals *user, const cJSON *doc, lmp_runvals *out, lmp_err *e);
void lmp_runvals_free(lmp_runvals *v);
/* The settings of a point (val: one value per list) into rt. */
void lmp_runvals_settings(const lmp_runvals *v, const int64_t *val, lmp_runtime *rt);
/* The table, one tab-separated line per option (lmp-eval --list-options). */
void lmp_runopts_list(lmp_buf *b);

/* engine.c: engine profiles (share/lmp/engines/NAME.json, lmp-engine(5)):
 * a set of knob values, each a runtime option with its source. */
#define LMP_ENGINE_DEFAULT "vllm"
/* The engine name: --engine's argument, else LMP_ENGINE, else the default. */
const char *lmp_engine_name(const char *opt);
/* The profile NAME (or a path) applied to v: every knob it sets that the
 * command line did not becomes v's value; v->engine gets its id. */
int lmp_engine_apply(const char *name, lmp_runvals *v, lmp_err *e);
/* The id of the profile whose "corpus_names" lists the engine name that
 * measurements use (lmp-calibrate(1)), or NULL; caller frees. */
char *lmp_engine_for_corpus(const char *name, lmp_err *e);
/* A knob's value in the runtime object (a choice as its word, a fraction
 * as a decimal) appended to b. */
void lmp_knob_json(lmp_buf *b, int opt, int64_t v);

/* poly.c: templates folded to polynomials over runtime variables.
 * Everything static is computed once; what is left per evaluation point is
 * a sum of monomials over runtime variables and a few opaque operations
 * (min, ceil, division by a runtime value...). */
typedef struct lmp_prog lmp_prog;
typedef struct lmp_poly lmp_poly;
lmp_prog *lmp_prog_new(void);
void lmp_prog_free(lmp_prog *p);
/* The prog evaluates its polynomials at one runtime point at a time. */
void lmp_prog_set_point(lmp_prog *p, const lmp_runtime *rt);
int lmp_poly_eval(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e);
int lmp_poly_is_const(const lmp_poly *q);
/* The runtime variables (bit LMP_V_...) any of q[0..n-1] reads, through
 * every atom (NULL polynomials read none), and LMP_READS_QUERIES with the
 * query variables where one reads the queries themselves. */
unsigned lmp_poly_vars(const lmp_prog *p, const lmp_poly *const *q, int n);
int lmp_poly_same(const lmp_poly *a, const lmp_poly *b); /* equal polynomials (NULL only as NULL) */
/* The runtime variable (LMP_V_...) q is, 1 times it, or -1. */
int lmp_poly_var(const lmp_poly *q);
/* The degree of q[0..n-1] (NULLs skipped) in one runtime length x, given
 * each variable's degree in it (vdeg[LMP_V_...]), or -1 where one of
 * their operations (min, ceil, a division, a condition) reads a variable
 * of degree above 0: not a polynomial in x.  A sliding window's aggregate
 * of a constant window counts its degree where the lengths stay on one
 * side of each window's mins (the caller keeps them there: the windows
 * are lmp_poly_windows'). */
int lmp_poly_degree(const lmp_prog *p, const lmp_poly *const *q, int n, const int *vdeg);
/* The distinct windows (W) of the program's window aggregates into w, at
 * most max: how many, or -1 where one's window is no constant whole
 * number in [1, 2^40] or there are more. */
int lmp_poly_windows(const lmp_prog *p, int64_t *w, int max);
lmp_poly *lmp_poly_const(lmp_prog *p, const lmp_num *v);
lmp_poly *lmp_poly_zero(lmp_prog *p);
/* q wrapped in a check made at every point (op LMP_OP_CHECK_*); where names it. */
lmp_poly *lmp_poly_check(lmp_prog *p, lmp_poly *q, int op, const char *where, lmp_err *e);
/* sum += k * q */
int lmp_poly_accumulate(lmp_prog *p, lmp_poly **sum, const lmp_num *k, const lmp_poly *q, lmp_err *e);
/* Fold a template whose ${params} are bound to polynomials (args[i] for slot i). */
struct lmp_db;
typedef struct lmp_fold_ctx {
	lmp_prog *prog;
	struct lmp_db *db;
	int kind;      /* LMP_K_* for calls */
	int depth;
	long work; /* syntax nodes folded, against a budget */
	const char *stack[LMP_MAX_CALL_DEPTH]; /* entry names, for cycle detection and messages */
	int stack_kind[LMP_MAX_CALL_DEPTH];
} lmp_fold_ctx;
lmp_poly *lmp_fold(lmp_fold_ctx *c, const lmp_tmpl *t, lmp_poly *const *args, const char *where, lmp_err *e);
/* The value of a constant polynomial (lmp_poly_is_const). */
int lmp_poly_value(lmp_prog *p, const lmp_poly *q, lmp_num *out, lmp_err *e);
/* A template evaluated to a constant, its n ${params} bound to vals: 1 with
 * *out, 0 if it depends on the runtime point, -1 on an error (where names
 * the template in messages). */
int lmp_tmpl_const(const char *text, const char *const *params, const lmp_num *vals, int n, const char *where,
	lmp_num *out, lmp_err *e);

/* db.c: the module database. */
/* An entry's "gemm" (lmp-module-db(5)): its matrix products as calls
 * of one (m x k) by (k x n) product. */
enum { LMP_GEMM_M, LMP_GEMM_N, LMP_GEMM_K, LMP_GEMM_CALLS, LMP_NGEMM };
extern const char *const lmp_gemm_names[LMP_NGEMM]; /* "m", "n", "k", "calls" */
enum lmp_kind {
	LMP_K_FLOPS,
	LMP_K_WEIGHTS,
	LMP_K_READS,
	LMP_K_WRITES,
	LMP_K_INTERMEDIATES,
	LMP_K_PARAM_COUNT,
	LMP_K_STATE,
	LMP_NKINDS
};
const char *lmp_kind_name(int kind); /* "flops", "weights", ... as in the DB */

typedef struct lmp_param {
	const char *name, *type, *description;
	const cJSON *dflt; /* NULL: required */
} lmp_param;
typedef struct lmp_entry {
	const char *name; /* full class name */
	const cJSON *json; /* NULL until lmp_entry_load in an opened (lazy) database */
	const char *text;  /* lazy: the entry's JSON text in the database file */
	size_t text_len;
	int nalias;
	char **alias;
	int ready;
	int nparams;
	lmp_param *params;
	lmp_tmpl *tmpl[LMP_NKINDS]; /* compiled on first use */
	int compiled;
	int nbreak;
	const char **break_names;
	lmp_tmpl **breakdown;
	lmp_tmpl *gemm[LMP_NGEMM]; /* "gemm": m, n, k, calls; NULL: no matrix product declared */
} lmp_entry;
typedef struct lmp_db {
	cJSON *doc; /* the whole database; NULL when opened lazily */
	const char *path;
	int n;
	lmp_entry *entries;
	char *text; /* lazy: the file, which entries point into */
	cJSON **parsed; /* lazy: the entries parsed so far */
	int nparsed;
} lmp_db;
/* The whole database, parsed and checked (lmp-ensure, which edits it). */
lmp_db *lmp_db_load(const char *path, lmp_err *e);
/* The database for reading: the file's structure, names and aliases are
 * checked at once, an entry is parsed (strictly) when first used.  A model
 * uses a tenth of the entries, so start-up is a fraction of lmp_db_load's. */
lmp_db *lmp_db_open(const char *path, lmp_err *e);
/* An entry's JSON and parameters, parsed if they are not yet. */
int lmp_entry_load(lmp_db *db, lmp_entry *en, lmp_err *e);
int lmp_db_check_names(const lmp_db *db, lmp_err *e); /* aliases name one entry each */
int lmp_db_check_aliases(lmp_entry *en, const cJSON *aliases, const char *path, lmp_err *e); /* en's aliases */
lmp_db *lmp_db_from_json(cJSON *doc, const char *path, lmp_err *e); /* takes doc */
void lmp_db_free(lmp_db *db);
/* Full name, alias, or the torch__nn__Linear form. */
lmp_entry *lmp_db_find(lmp_db *db, const char *name);
int lmp_entry_compile(lmp_db *db, lmp_entry *en, lmp_err *e);
int lmp_entry_param_index(const lmp_entry *en, const char *name);

/* datadir.c: where the shipped data is, found from the executable. */
const char *lmp_datadir(void);     /* share/lmp of a checkout or an install */
const char *lmp_default_db(void);  /* module_db.json beside it */
/* The names of the JSON files in a folder of it (archs, hardware ...),
 * without ".json", sorted; caller frees the array and the strings. */
char **lmp_data_list(const char *sub, int *n);
/* The same names space-separated, or "none"; caller frees. */
char *lmp_data_names(const char *sub);
/* Appends the names of dir's JSON files (unsorted) to *names; how many. */
int lmp_json_names(const char *dir, char ***names, int *n);
/* names space-separated, or "none"; frees names and its strings. */
char *lmp_names_join(char **names, int n);
/* qsort/bsearch comparison of char * elements. */
int lmp_cmp_str(const void *a, const void *b);

/* opts.c: numeric options, range-checked. */
int lmp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int lmp_parse_list(const char *s, int64_t min, int64_t max, int64_t **out, int *n, lmp_err *e, const char *opt);

/* layerpath.c: a node's path in the layer tree (parent.name, and ".*" after
 * a member of a layer list: a node with "repeat", even a repeat of 1). */
int lmp_layer_is_member(const cJSON *node);
void lmp_layer_path(lmp_buf *b, const char *parent, const char *name, const cJSON *node);

/* eval.c: a populated architecture compiled for evaluation. */
typedef struct lmp_row {
	const char *path, *cls;
	lmp_num count;
	const char *tied; /* path of the row that owns this weight, or NULL */
	lmp_num active;   /* the share of its parameters each token uses: 1, or top_k / experts */
	lmp_entry *entry;
	lmp_poly *poly[LMP_NKINDS];
	lmp_poly **breakdown; /* entry->nbreak of them; module mode only */
	lmp_poly **args;      /* entry->nparams bound values */
	int linear;           /* a torch Linear with constant in, out and bias: */
	lmp_num in, out, bias; /* what a quantized format stores (quant.c) */
	/* parallel.c: a collective row (coll an LMP_COLL_*, 0 for a layer):
	 * coll_bytes per device per call, over a group of coll_n devices */
	int coll, coll_n;
	const char *coll_group;
	lmp_poly *coll_bytes;
	int list;          /* the layer list (pipeline.c) holding the row: its index, or -1 before the first, -2 after */
	int batch_scale;   /* 0, or an expert's row that sees the tokens of this many replicas (ep / tp) */
	lmp_num per_layer; /* in a layer list: the row's count per layer */
	int nsets;            /* the "*"s of path, and the indices each covers */
	struct lmp_idxset **sets; /* (NULL: not recorded; lmp_row_indices) */
	int attn;             /* an sdpa row FlashAttention's tiles apply to (attnkernel.c): */
	int64_t nh, nkv, hd, vd; /* its heads, KV heads, q/k and v head widths */
	lmp_poly *keys[3];    /* its tokens, kv_tokens and qk_pairs as bound */
	int64_t window;       /* its sliding window (attnkernel.c): 0 not yet known, -1 none */
	int keyvars;          /* attnkernel.c: its keys are the variables themselves: 1, -1 not, 0 not yet known */
	lmp_poly *gemm[LMP_NGEMM]; /* its entry's gemm as bound (sharded), or NULLs */
	/* quant.c: lmp_quant_covers' answer, kept for the quantization and the
	 * row (path, linear, tied) it was worked out for */
	struct {
		const void *q;
		const char *path, *tied, *answer;
		int linear;
	} covers;
} lmp_row;
struct lmp_evalpt;
struct lmp_roof_opts;
typedef struct lmp_fields lmp_fields; /* fields.c */
typedef struct lmp_model {
	lmp_prog *prog;
	int nrows;
	lmp_row *rows;
	lmp_poly *total[LMP_NKINDS];
	lmp_poly *active; /* parameters a token uses: a routed expert counts its share */
	struct lmp_quant *quant; /* the config's quantization_config, or NULL */
	char *model_json; /* the document's "model" object, printed once */
	char *head;       /* an eval document's constant start, up to "runtime" */
	uint64_t serial;  /* this model's alone (a freed model's address may be another's) */
	size_t headlen;
	lmp_arena *arena;
	/* model.positions: the longest context (0: none known) and whether
	 * positions index a table (past it is an error) or are rotary */
	int64_t pos_limit;
	int pos_table;
	long past_limit; /* points evaluated past a rotary limit */
	/* evaldoc.c: the last totals.state_growth written, and its point */
	char *growth;
	int64_t growth_key[9];
	int growth_set;
	/* the stored weight bytes at one width (w_bit, w_checkpoint): the
	 * parameter counts are static, so a sweep sums the rows once */
	int64_t weights_key[2];
	int weights_set;
	lmp_num weights_total;
	lmp_num *row_wb; /* evaldoc.c: per row its parameter count and stored bytes at row_wb_key, */
	lmp_num row_wb_total; /* and their sum (row_wb_ok: all set) */
	int nrow_wb, row_wb_ok;
	int64_t row_wb_key[2];
	/* evaldoc.c row_widths: per row the quantities that read w_dtype_bytes
	 * (a bit each), and its parameter count and own width at rw_key */
	unsigned *rw_kinds;
	int *rw_todo;    /* the rows at another width, and their quantities */
	unsigned *rw_redo, *rw_kvars; /* those worked out again; each quantity's variables */
	char *rw_done;   /* a row's rw_vals are the last point's */
	lmp_num rw_prev[LMP_NVARS]; /* that point's variables and query */
	lmp_query rw_prevq;
	int rw_prev_ok;
	lmp_num *rw_vals; /* at the point's width and at their own (2 x LMP_NKINDS a row) */
	lmp_num *rw_own;
	char *rw_set;
	int64_t rw_key[2];
	/* parallel.c: the layout the rows are sharded for (par: not the single
	 * device), the layer lists' lengths in order, the collectives' total */
	int par, tp, pp, ep, dp;
	int nlists;
	int64_t *list_len;
	int64_t **list_idx; /* each list's decoder-layer indices (its "layers" range or list; else after the lists before) */
	int ncoll;
	lmp_poly *coll_total;
	int nscaled; /* rows with a batch_scale */
	int *twin, ntwin; /* evaldoc.c: each row's first earlier row of equal polynomials, or -1 */
	/* evaldoc.c: the last point's fold of the rows into kernels (kgrp: each
	 * row's kernel, krep: each kernel's first row, kcount: its rows' counts
	 * summed), kept for the next point, which mostly folds the same way;
	 * kwit: how each pair of kernels differed, the pair of kernels j < i
	 * at i (i - 1) / 2 + j */
	int *kgrp, *krep, nkern, kfold_set, kfold_formats, kfold_pieces;
	lmp_num *kcount;
	unsigned char *kwit;
	/* evaldoc.c: the fused pairs of rows (--fusion on), found once */
	struct lmp_fused *fused;
	int nfused, fused_ready;
	/* evaldoc.c: the engine's profile run (totals.profile_run), and its key */
	char *profile;
	int64_t profile_key[6];
	int profile_set;
	/* parallel.c: the classes of leaves counted replicated under --tp
	 * because their entry declares no "parallel" (an agent's, not yet
	 * validated), one per line, for the tool to warn of */
	lmp_buf norole;
	/* the fused time sweep (lmp-eval --hardware): a one-step --totals
	 * document just written is handed to hook as numbers (lmp_evalpt),
	 * which makes it the roofline document in place; hooked says it did */
	int (*hook)(void *ctx, const struct lmp_evalpt *pt, lmp_buf *b, size_t start, lmp_err *e);
	void *hook_ctx;
	int hooked;
	const lmp_fields *hook_fields; /* --fields: members of the runtime and the totals no path names are not written */
	struct lmp_tkernel *tk;
	int tkcap;
	size_t *row_end; /* evaldoc.c: a fused point's rows' closing braces (nrows) */
	lmp_buf row_heads; /* evaldoc.c: each row's text up to its quantities, */
	size_t *row_head_at; /* row i's from row_head_at[i] (nrows + 1) */
	/* evaldoc.c: each row's instances per pipeline stage (stage by stage,
	 * [s * nrows + i]) and
	 * the stages' first layers, worked out once */
	lmp_num *stage_count;
	int64_t *stage_first;
	lmp_num *pt_rows; /* lmp_eval_doc's values of a point's rows, kept */
	lmp_num *pt_par;  /* and of a layout's stage sums (pp x 4) */
	/* evaldoc.c: the rows' values as their polynomials gave them at an
	 * earlier point, which a row reading no variable that moved since
	 * takes as they are (lmp_rowkeep_free frees them) */
	struct lmp_rowkeep *keep;
	/* --fields in the fused sweep: the whole runtime object of the point
	 * where its settings were last new (the document's is pruned), their
	 * span in it and number (evaldoc.c settings_json), and their text as
	 * pruned */
	lmp_buf rt_whole, rt_set_pruned;
	size_t rt_span[2];
	uint64_t rt_gen;
	struct lmp_sweepform *sf; /* sweepform.c: a --totals sweep's points in closed form */
} lmp_model;
lmp_model *lmp_model_load(const cJSON *populated, lmp_db *db, lmp_err *e);
void lmp_rowkeep_free(lmp_model *m);

/* sweepform.c: a --totals sweep's points along its innermost length
 * in closed form (a polynomial of each value, fitted on points evaluated).
 * lmp_sweepform_point: 1 where the point's totals (*tot, NV + 1 values),
 * its kernels' values (*kv, NV each) and a layout's stage sums (*par, NS
 * each) come from their forms and the model's fold (nkern, krep, kcount)
 * is set: the point is neither evaluated nor folded; 0 where it is to be,
 * after which lmp_sweepform_record takes its rows, totals and stage sums
 * (evalslots.h; par NULL without a layout). */
int lmp_sweepform_point(lmp_model *m, const lmp_runtime *rt, int past, const lmp_num **tot, const lmp_num **kv,
	const lmp_num **par);
void lmp_sweepform_record(lmp_model *m, const lmp_num *rows, const lmp_num *tot, const lmp_num *par);
void lmp_sweepform_free(lmp_model *m);
/* The fused sweep's kernels of the point formed last (NULL where it was
 * evaluated), kept by its class: where *fill the caller fills every
 * member and says so (lmp_sweepform_tk_filled, which gives their number);
 * else they are the point's, and *gen the number they were filled under:
 * the same for as long as the kernels differ only in their work and gemm
 * m (lmp_evalpt's kgen). */
struct lmp_tkernel *lmp_sweepform_tk(lmp_model *m, uint64_t *gen, int *fill);
uint64_t lmp_sweepform_tk_filled(lmp_model *m);
/* The points formed and the points asked about so far (LMP_EVAL_FORMSTATS). */
void lmp_sweepform_counts(const lmp_model *m, long long *formed, long long *asked);

/* One kernel of a --totals document as numbers, each the double its text
 * in the document reads as: count, work, the weight format's compute (or
 * NULL) and the gemm shape where gemm is set. */
struct lmp_tkernel {
	double count, flops, reads, writes, inter;
	const char *compute;
	int gemm;
	double m, n, k, calls;
	int coll;          /* a collective (LMP_COLL_*): its group, size and bytes */
	const char *group;
	double size, cbytes;
	/* a decode kernel's per_step (npieces 0: none): its pieces as written
	 * (lmp_dpieces_each), their block (0: none) */
	int npieces;
	const struct lmp_tpiece *pieces;
	int64_t block;
};
/* One piece of a decode kernel's per_step as numbers: its steps and each
 * quantity's [q0, d, j] (j 0 without a block), as the document reads. */
struct lmp_tpiece {
	int64_t first, last;
	double flops[3], reads[3], writes[3], inter[3];
};
/* A one-step --totals point or a request as lmp-eval wrote it (evaldoc.c), for the
 * fused time sweep: its runtime, kernels, totals' work (flops, reads,
 * writes, intermediates), weight and state bytes, the totals' growth and
 * profile-run members and the runtime's engine members as written. */
typedef struct lmp_evalpt {
	const lmp_model *m;
	const char *head;          /* the model's head (lmp_model's head): the document's start */
	size_t headlen;
	uint64_t head_id;          /* the model's serial (the same head where equal), 0: compare the text */
	const lmp_runtime *rt;
	const struct lmp_tkernel *k;
	int nk;
	double tot[4], state_bytes;
	lmp_num weight_bytes;
	const char *growth, *profile;
	/* the whole runtime object: at rt_at in rtext, or in the document
	 * where rtext is NULL, ending at rt_end, its settings from rt_set[0]
	 * (the comma before w_bit) to rt_set[1] (the one before tokens).
	 * Where the document's is pruned (--fields) rtext is the object as it
	 * was where the settings were last new: its step's numbers may be
	 * another point's, the time model reads only the settings there */
	const char *rtext;
	size_t rt_at, rt_end, rt_set[2];
	size_t tot_end;            /* the totals' closing brace, from the document's start */
	/* not 0: k differs from the last point handed with the same kgen
	 * only in its work (flops, reads, writes, intermediates) and gemm
	 * m, n, k (lmp_sweepform_tk) */
	uint64_t kgen;
	int dev;                   /* a layout: the device that holds the most, */
	double dev_wb, dev_state;  /* its weight and state bytes (parallel.device) */
	/* a request (gen: lmp_gen_doc): k, nk and tot are its prefill's, dk,
	 * ndk and dtot its decode's over steps steps from a cache of
	 * cache_first; rt_set[1] is the runtime's closing brace and ph_end
	 * each phase's totals' closing brace */
	int gen;
	/* a point with rows: k holds its nk rows, each a kernel of its own
	 * count, whose closing braces are at row_end (NULL: k holds kernels;
	 * a request's prefill always has a step); a request's decode rows'
	 * at drow_end (NULL also where the decode has no steps) */
	const size_t *row_end, *drow_end;
	const struct lmp_tkernel *dk;
	int ndk;
	double dtot[4], steps, cache_first, batch, prompt, gen_len;
	size_t ph_end[2];
} lmp_evalpt;
/* roofline.c: the fused path's roofline of such a point, the document at
 * start in b made the roofline document lmp_roofline would write. */
typedef struct lmp_roofdirect lmp_roofdirect;
lmp_roofdirect *lmp_roofdirect_new(const struct lmp_roof_opts *o);
void lmp_roofdirect_free(lmp_roofdirect *d);
int lmp_roofline_point(lmp_roofdirect *d, const lmp_evalpt *pt, lmp_buf *b, size_t start, lmp_err *e);

/* A --fields run (f, or NULL: every member): what it does not name of
 * the members lmp_roofline adds is neither written nor formatted, and the
 * fit and the roofline object are not computed where it names neither
 * (fields.c's lmp_fields). */
void lmp_roofdirect_fields(lmp_roofdirect *d, const lmp_fields *f);

/* evaltext.c: an eval document as lmp-eval writes it (compact: one step
 * or a request, kernels or rows, one device or a layout), read from its
 * text as such a point (lmp-roofline times it with lmp_roofline_point):
 * the length of the document that starts the text (len bytes; more may
 * follow) and *pt (valid until the next call), or 0 where the text does
 * not start with one of that strict shape, and lmp_roofline must read it. */
typedef struct lmp_evaltext lmp_evaltext;
lmp_evaltext *lmp_evaltext_new(void);
void lmp_evaltext_free(lmp_evaltext *x);
size_t lmp_evaltext_point(lmp_evaltext *x, const char *text, size_t len, lmp_evalpt *pt);
/* The document lmp_evaltext_point made of the text, for lmp_roofline_point. */
lmp_buf *lmp_evaltext_doc(lmp_evaltext *x);

/* parallel.c: a model sharded over a parallel layout (lmp-eval(1)
 * PARALLELISM).  Each module_db.json entry declares how its parameters
 * split under each parallel role ("parallel": {"roles": {...}}); a template
 * node names its role ("parallel"), and the structural roles "layers" (a
 * pipeline splits the layer lists) and "experts" (expert parallelism
 * spreads the repeat) are the walk's. */
enum { LMP_COLL_NONE, LMP_COLL_ALL_REDUCE, LMP_COLL_ALL_GATHER, LMP_COLL_REDUCE_SCATTER, LMP_COLL_ALL_TO_ALL,
	LMP_COLL_SEND_RECV, LMP_NCOLL };
const char *lmp_coll_name(int kind);
int lmp_coll_kind(const char *name); /* 0 if unknown */
/* The layout of a point (zeros read as 1), checked: ep divides tp x dp,
 * at most 65536 devices. */
int lmp_layout_check(const lmp_runtime *rt, lmp_err *e);
/* The model for rt's layout: base itself for the single device, else a new
 * one compiled from doc with every row sharded (the caller frees it); base
 * gives its head (model, weights_check). */
lmp_model *lmp_model_for_layout(lmp_model *base, const cJSON *doc, lmp_db *db, const lmp_runtime *rt, lmp_err *e);
/* A leaf's bound arguments divided as its role says (eval.c's hook);
 * *coll gets the collective the role then emits (its kind, or 0) and its
 * bytes per device, folded from the undivided arguments. */
struct lmp_walk_par {
	int tp, pp, ep, dp; /* the layout */
	int tp_here;        /* the TP degree where the walk is: 1 among experts spread over EP */
	int list;           /* the layer list being walked, or -1 / -2 */
};
int lmp_shard_leaf(lmp_model *m, lmp_db *db, lmp_row *r, const cJSON *node, const struct lmp_walk_par *w,
	lmp_poly **args, int *coll, lmp_poly **bytes, lmp_err *e);
/* A fused experts leaf under --ep (its entry's role "experts_ep"): its
 * experts divided over the EP ranks, *routed the routed tokens' bytes.
 * 1 applied, 0 no such role (the TP role applies), -1 error. */
int lmp_shard_ep_leaf(lmp_model *m, lmp_db *db, lmp_row *r, const struct lmp_walk_par *w, lmp_poly **args,
	lmp_poly **routed, lmp_err *e);
/* A node's parallel role, or NULL; its member key as a string, or NULL. */
const char *lmp_node_role(const cJSON *node);
const char *lmp_node_par_str(const cJSON *node, const char *key);
/* The pipeline's stages as vLLM cuts them (get_pp_indices): layers
 * first[s] to first[s + 1] - 1 on stage s; first has pp + 1 slots. */
void lmp_pp_stages(int64_t layers, int pp, int64_t *first);
/* How many instances of row r stage s holds. */
int lmp_row_stage_count(const lmp_model *m, const lmp_row *r, const int64_t *first, int s, lmp_num *out);

/* collective.c: the alpha-beta time of a collective over n devices.  The
 * bytes each device moves on its link for a buffer of bytes per device
 * (ring all-reduce 2(n-1)/n, all-gather, reduce-scatter and all-to-all
 * (n-1)/n, send/recv 1), and the time: those bytes over the link's
 * bandwidth plus one latency per ring step (2(n-1), n-1, 1). */
int lmp_coll_link_factor(int kind, int n, lmp_num *out);
double lmp_coll_time(int kind, int n, double bytes, double bw, double latency);
/* factor x bytes / bw + steps x latency: lmp_coll_time once the factor is known */
double lmp_coll_time_at(double factor, int steps, double bytes, double bw, double latency);
int lmp_coll_steps(int kind, int n);

/* quant.c: the checkpoint's own weight format (quantization_config). */
enum { LMP_Q_NONE, LMP_Q_AWQ, LMP_Q_GPTQ, LMP_Q_BNB8, LMP_Q_BNB4, LMP_Q_FP8, LMP_Q_MXFP4 };
enum { LMP_QC_ACTIVATION, LMP_QC_FP8, LMP_QC_INT8 }; /* where its GEMMs compute */
typedef struct lmp_quant {
	int method, bits;     /* LMP_Q_*; bits per stored element */
	int64_t group;        /* elements per scale along the input (-1: the whole row) */
	int zero_point, double_quant, static_act;
	int64_t block_n, block_k; /* fp8: the scale block, or 0 (one scale per tensor) */
	const char *subtype;  /* bitsandbytes: nf4, fp4 or int8 (borrowed from the config) */
	char **skip;          /* modules_to_not_convert and its synonyms: owned */
	int nskip;
} lmp_quant;
/* config's quantization_config into q (method LMP_Q_NONE without one);
 * -1 with e set where it is not a format lmp knows.  q borrows from config. */
int lmp_quant_read(const cJSON *config, lmp_quant *q, lmp_err *e);
void lmp_quant_free(lmp_quant *q);
/* NULL where q covers the row, else why it keeps its own precision. */
const char *lmp_quant_covers(const lmp_quant *q, const lmp_row *r);
/* The bytes a covered row stores per instance, exactly. */
int lmp_quant_bytes(const lmp_quant *q, const lmp_row *r, lmp_num *out);
int lmp_quant_compute(const lmp_quant *q);
const char *lmp_quant_compute_name(int c);
/* The format's members ("method":...,"bits":..., no braces) into b. */
void lmp_quant_json(const lmp_quant *q, lmp_buf *b);
void lmp_model_free(lmp_model *m);
/* Compile one entry applied to name=value bindings (values: numbers or templates). */
lmp_model *lmp_model_module(lmp_entry *en, lmp_db *db, const char *const *names,
	const char *const *values, int n, lmp_err *e);

/* attnkernel.c: the attention kernel (lmp-eval --attention). */
/* Marks an sdpa row whose counts FlashAttention's tiles may replace
 * (args: its entry's parameters as bound). */
void lmp_attn_row(lmp_row *r, const cJSON *params, lmp_poly *const *args);
/* Under a layout: its heads per device, from the arguments as sharded. */
void lmp_attn_sharded(lmp_model *m, lmp_row *r, lmp_poly *const *args);
/* Under --attention flash, each marked row's FLOPs and reads as the kernel
 * runs them, in rows (stride values a row, or NULL) and in tot (the
 * model's totals, LMP_K_* first). */
int lmp_attn_flash(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e);
/* The sum over i < n of floor((a i + b) / m) (n, a, b >= 0, m > 0). */
lmp_i128 lmp_floor_sum(lmp_i128 n, lmp_i128 m, lmp_i128 a, lmp_i128 b);
/* A FlashAttention call's sums over one sequence of s new tokens over c
 * cached, rows of g packed heads, bm x bn tiles, a window of wl keys left
 * (-1 none), no split: the scores, keys and Q rows loaded, by the tile
 * loop or (closed) in closed form; for the unit tests. */
void lmp_attn_walk_sums(int64_t s, int64_t c, int64_t g, int64_t bm, int64_t bn, int64_t wl, int closed, lmp_i128 out[3]);
/* A one-query step's attention shape (the kernels' choices, hashed) and
 * the next cache length, up to limit, at which it changes, or where it
 * cannot look ahead may change (past limit or INT64_MAX: not before); the
 * point's variables must be set (lmp_prog_set_point). */
int lmp_attn_shape(lmp_model *m, const lmp_runtime *rt, int64_t limit, uint64_t *sig, int64_t *next, lmp_err *e);
/* A sweep's point where the length that moves (seq_len or cache_len) stays
 * in one residue class modulo *period (KV pages and FlashAttention tiles
 * whole, sweepform.c): every choice its FlashAttention calls make that the
 * counts are not polynomial in (each distinct attention row's keys being
 * the step's, its tiles and packed heads, the closed walk's branches),
 * hashed into *sig.  1 where every call walks its tiles in closed form (no
 * split, no window), 0 where not (the point is evaluated), -1 error. */
int lmp_attn_sweep_shape(lmp_model *m, const lmp_runtime *rt, uint64_t *sig, int64_t *period, lmp_err *e);
/* The step's sliding-window calls' one tile size and window start (1), or
 * 0 where there are none or several. */
int lmp_attn_window_tiles(lmp_model *m, const lmp_runtime *rt, int64_t *bn, int64_t *wl, lmp_err *e);
/* engineapply.c: the engine's knobs on a point's values (rows: nrows x
 * stride or NULL, tot by lmp_kind): KV paging (rt->kv_block), fusion as the
 * entries declare it (rt->fusion), and the profile run's
 * totals.profile_run members ("" without a memory fraction, NULL on error). */
int lmp_engine_paged(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e);
int lmp_engine_fuse(lmp_model *m, const lmp_runtime *rt, lmp_num *rows, int stride, lmp_num *tot, lmp_err *e);
const char *lmp_engine_profile(lmp_model *m, const lmp_runtime *at, lmp_err *e);

/* evaldoc.c: eval documents (the contract in lmp-eval(1)). */
void lmp_runtime_json(const lmp_runtime *rt, lmp_buf *b);
/* One eval document for the model at rt, appended to b as one line. */
int lmp_eval_doc(lmp_model *m, const lmp_runtime *rt, int with_rows, lmp_buf *b, lmp_err *e);
/* A whole request: a prefill of prompt_len tokens, then gen_len - 1 decode
 * steps, each evaluated exactly and summed per phase. */
typedef struct lmp_gen {
	int64_t batch_size, prompt_len, gen_len;
	const lmp_runtime *settings; /* w_bit ...: its queries are the request's own */
} lmp_gen;
int lmp_gen_doc(lmp_model *m, const lmp_gen *g, int with_rows, lmp_buf *b, lmp_err *e);

/* decpieces.c: a decode phase's per-step work as pieces of steps over
 * which every quantity is q0 + d (s - first) + j (K(s) - K(first)) +
 * h (H(s) - H(first)), K(s) = ceil((s + off) / block) where block > 1,
 * H(s) = floor((s + off2) / per2) where per2 > 1 (lmp-eval(1) "per_step"). */
/* Rows of w values (decpieces.c): a whole number below 2^62 in size
 * (bytes, FLOPs: most) as a 64-bit integer, any other value as an lmp_num
 * kept beside (the integer reads LMP_VWIDE). */
#define LMP_VWIDE INT64_MIN
typedef struct lmp_vrows {
	int w, n, cap;
	int64_t *v;            /* n x w */
	int *xat, *xn;         /* per row: its first value kept beside, and how many */
	int nx, xcap, *xc;     /* the values kept beside: each one's place in its row */
	lmp_num *xv;           /* and value */
} lmp_vrows;
typedef struct lmp_dpieces {
	int n, nc;               /* pieces; components of a step */
	int64_t steps, block, off;
	int64_t per2, off2;      /* a second staircase, floor((s + off2) / per2) (0: none) */
	int64_t *first, *last;   /* per piece, steps (0: the phase's first) */
	int *form;               /* per piece, its row of forms */
	lmp_vrows v0;            /* per piece, each component at its first step (nc) */
	lmp_vrows dj;            /* per form (dj.n of them), its step, block and staircase terms (d, j, h:
	                          * 3 nc); a shape that comes back shares its form */
	lmp_i128 *sums;          /* per piece: its steps, Σ (s - first), Σ ΔK, Σ ΔH */
} lmp_dpieces;
/* A step's nc values (exact where they can be); -1 on error. */
typedef int (*lmp_dstep_fn)(void *ctx, int64_t s, lmp_num *v, lmp_err *e);
/* A step's shape (what is not a count, hashed: a piece never spans two
 * shapes) and the next step at which it may change (it may skip steps
 * that keep the shape); -1 on error. */
typedef int (*lmp_dshape_fn)(void *ctx, int64_t s, uint64_t *sig, int64_t *next, lmp_err *e);
/* 1 found, 0 not of this shape (evaluate every step instead), -1 error.
 * shape may be NULL (one shape throughout). */
int lmp_dpieces_find(lmp_dstep_fn at, lmp_dshape_fn shape, void *ctx, int64_t steps, int nc, int64_t block,
	int64_t off, int64_t per2, int64_t off2, lmp_dpieces *p, lmp_err *e);
void lmp_dpieces_free(lmp_dpieces *p);
/* Component c summed over every step, and at the last step (0, or -1 on overflow). */
int lmp_dpieces_sum(const lmp_dpieces *p, int c, lmp_num *out);
int lmp_dpieces_last(const lmp_dpieces *p, int c, lmp_num *out);
/* 1 where component c is the same at every step. */
int lmp_dpieces_const(const lmp_dpieces *p, int c);
/* 1 where components a and b are equal at every step (in every piece). */
int lmp_dpieces_same(const lmp_dpieces *p, int a, int b);
/* ,"per_step":{...} of the components base + cs[q] named names[q]. */
void lmp_dpieces_json(lmp_buf *b, const lmp_dpieces *p, int base, const int *cs, const char *const *names, int ncs);
/* The pieces lmp_dpieces_json writes, one call of fn each: its first and
 * last steps and per component (ncs of them) [q0, d, j] (j 0 without a
 * block). */
typedef void (*lmp_dpiece_fn)(void *ctx, int64_t first, int64_t last, const lmp_num (*q)[3], int ncs);
void lmp_dpieces_each(const lmp_dpieces *p, int base, const int *cs, int ncs, lmp_dpiece_fn fn, void *ctx);
/* One module document (lmp-eval --module), appended to b as one line. */
int lmp_module_doc(lmp_model *m, const lmp_runtime *rt, lmp_buf *b, lmp_err *e);

/* hardware.c: device descriptions (share/lmp/hardware/NAME.json). */
enum lmp_prec { LMP_FP32, LMP_TF32, LMP_BF16, LMP_FP16, LMP_FP8, LMP_INT8, LMP_INT4, LMP_NPREC };
const char *lmp_prec_name(int prec);
typedef struct lmp_hw {
	cJSON *doc;
	const char *id, *name;
	double peak[LMP_NPREC]; /* dense FLOP/s; 0 where the device has none */
	double capacity, bandwidth, onchip, interconnect; /* bytes, bytes/s */
	/* interconnect.scale_up / scale_out: per-GPU bandwidth in one
	 * direction (bytes/s), latency (s); 0 where the file has none */
	double scaleup_bw, scaleup_latency, scaleout_bw, scaleout_latency; /* NAN: unknown (lmp-hardware(5)) */
	int gpus_per_node;
	/* compute_units: SMs (NVIDIA), CUs (AMD), TPCs/MMEs ...: what a GEMM's
	 * tiles are spread over, in waves (0: not in the file) */
	int compute_units;
	/* achievable: what a real kernel reaches, from published
	 * microbenchmarks (lmp-hardware(5)); 0 where the file has none */
	double achievable_peak[LMP_NPREC], achievable_bandwidth;
} lmp_hw;
/* NAME from the data directory, or a path (contains '/' or ends in .json). */
lmp_hw *lmp_hw_load(const char *name, lmp_err *e);
void lmp_hw_free(lmp_hw *hw);
/* The precision a device computes a GEMM in at these widths. */
int lmp_hw_precision(const lmp_hw *hw, int w_bit, int a_bit);

/* The free terms of the time model (lmp-roofline(1) TIME MODEL), fitted
 * per device and engine by lmp-calibrate(1) and read from a calibration
 * file (lmp-calibration(5)). */
typedef struct lmp_tparams {
	double compute_fraction; /* of the datasheet peak a GEMM reaches */
	double memory_fraction;  /* of the datasheet bandwidth a kernel reaches */
	double link_fraction;    /* of a link's bandwidth a collective reaches */
	double launch_s;         /* the shortest any kernel takes */
	double step_s;           /* the engine's own time per step */
	int waves;               /* GEMM tiles run in waves over the compute units */
} lmp_tparams;

/* roofline.c: time, bound and fit of eval documents on a device. */
typedef struct lmp_roof_opts {
	const lmp_hw *hw;
	int devices;
	double compute_eff, memory_eff;
	int unfused; /* count intermediates as written and read back */
	int devices_given; /* --devices was given: it must equal the layout's */
	int gpus_per_node; /* --gpus-per-node, or 0: the hardware file's */
	lmp_tparams tp; /* the time model's terms (lmp_tparams), where tmode is LMP_TM_TERMS */
	int tmode; /* enum lmp_tmode: where the terms come from */
	const struct lmp_calibration *cal; /* LMP_TM_DEFAULT: the calibration file read, or NULL */
} lmp_roof_opts;
/* Where lmp_roofline takes its terms (lmp-roofline(1) TIME MODEL):
 *   LMP_TM_DEFAULT  the calibration entry of (device, engine), else the
 *                   device's pooled one, else uncalibrated (achievable
 *                   ceilings, waves, no floors)
 *   LMP_TM_NONE     --calibration none: the ideal terms (efficiencies apply)
 *   LMP_TM_IDEAL    --ideal: the ideal terms, efficiencies ignored
 *   LMP_TM_TERMS    o->tp as given (efficiencies apply) */
enum lmp_tmode { LMP_TM_DEFAULT, LMP_TM_NONE, LMP_TM_IDEAL, LMP_TM_TERMS };
/* Turns an eval document into a roofline document, in place. */
int lmp_roofline(cJSON *doc, const lmp_roof_opts *o, lmp_err *e);

/* roofargs.c: lmp-roofline's device and terms options, which lmp-eval
 * takes too (--hardware: the fused sweep).  lmp_roofopts: long names, and
 * whether each takes an argument, NULL-terminated; lmp_roofargs_set takes
 * the index of one. */
typedef struct lmp_roofopt {
	const char *name;
	int arg;
} lmp_roofopt;
extern const lmp_roofopt lmp_roofopts[];
typedef struct lmp_roofargs {
	const char *hardware, *calibration;
	int ideal, given; /* given: any of the options */
	lmp_roof_opts r;
	lmp_hw *hw;
	struct lmp_calibration *cal;
} lmp_roofargs;
void lmp_roofargs_init(lmp_roofargs *a);
int lmp_roofargs_set(lmp_roofargs *a, int i, const char *arg, lmp_err *e);
/* Loads the device and the calibration into a->r. */
int lmp_roofargs_load(lmp_roofargs *a, lmp_err *e);
void lmp_roofargs_free(lmp_roofargs *a);

/* calib.c: measurement records (share/lmp/measured/README) predicted by
 * lmp in process (lmp-calibrate(1)).  A set owns its records, the models,
 * devices and databases it loaded for them, and the excluded records with
 * their reasons. */
enum { LMP_CAL_TTFT, LMP_CAL_TPOT, LMP_CAL_E2E }; /* the time a metric is */
enum { LMP_CAL_FOLDS = 5 };
typedef struct lmp_calrec {
	char *id, *source, *device, *engine, *metric; /* engine: the lmp profile's id */
	int time;          /* LMP_CAL_* */
	double measured;   /* seconds; a throughput as the time its tokens took */
	int fold;          /* the held-out fold, from the id (0 .. LMP_CAL_FOLDS - 1) */
	int wbits;         /* its weight precision class: 16, 8 or 4 (lmp-calibration(5)) */
	struct lmp_calreq *req; /* the request's eval document, shared by the records of one run (the set's) */
	const lmp_hw *hw;  /* the set's */
} lmp_calrec;
typedef struct lmp_calex {
	char *id, *reason;
} lmp_calex;
typedef struct lmp_calset {
	lmp_calrec *rec;
	int nrec;
	lmp_calex *ex;
	int nex;
	struct lmp_calcache *cache;
} lmp_calset;
void lmp_calset_init(lmp_calset *s);
void lmp_calset_free(lmp_calset *s);
/* Every record of an NDJSON text added: the ones lmp predicts to s->rec,
 * the others to s->ex with why.  A malformed record is an error. */
int lmp_calset_add(lmp_calset *s, const char *text, size_t len, const char *name, lmp_err *e);
/* Moves record i to the excluded with reason (it takes reason). */
void lmp_calset_exclude(lmp_calset *s, int i, char *reason);
/* The time of record r's metric that lmp predicts under terms tp. */
int lmp_cal_predict(const lmp_calrec *r, const lmp_tparams *tp, double *t, lmp_err *e);

/* jobs.c: n independent pieces of work in child processes, at most jobs at
 * once (1: in this process).  run(ctx, j, out, e) makes piece j's result
 * (0, or -1 with e set); take(ctx, j, bytes, len, e) receives each result in
 * the order j = 0 .. n - 1 (0, or -1 with e set).  The first error stops
 * the rest and is returned in e.  lmp_jobs_default: the number of jobs,
 * from environment variable env if set (a count), else the online CPUs, at
 * most n. */
typedef int (*lmp_job_run)(void *ctx, int j, lmp_buf *out, lmp_err *e);
typedef int (*lmp_job_take)(void *ctx, int j, const char *s, size_t len, lmp_err *e);
int lmp_jobs_run(int n, int jobs, lmp_job_run run, lmp_job_take take, void *ctx, lmp_err *e);
int lmp_jobs_default(const char *env, int n);

/* calibfit.c: the terms fitted per device and engine, their held-out
 * error, and the calibration file (lmp-calibration(5)). */
typedef struct lmp_calstats {
	int n;
	double median_abs, p90_abs, median_signed;
} lmp_calstats;
/* The statistics of n errors (predicted / measured - 1); err is sorted. */
void lmp_calstats_of(double *err, int n, lmp_calstats *st);
/* Fits every group of s and writes the calibration file to out; with
 * table, the validation table instead.  heldout gets the overall figures. */
/* table: 0 the calibration file, 1 the error table, LMP_CAL_RECORDS each
 * measurement's held-out error (NDJSON) */
enum { LMP_CAL_RECORDS = 2 };
int lmp_calibrate(lmp_calset *s, int table, lmp_buf *out, lmp_calstats *heldout, lmp_err *e);
/* timemodel.c: THE time function (lmp-roofline(1) TIME MODEL).  One
 * kernel: a row's instance over a phase.  Every path that times a row
 * (lmp_roofline, lmp_timed_eval) calls lmp_kernel_time. */
extern const lmp_tparams lmp_tparams_ideal; /* fractions 1, no floors, no waves */
typedef struct lmp_kernel {
	double flops, bytes;    /* per instance, over the phase */
	double calls;           /* kernel launches per instance over the phase */
	double peak, bandwidth; /* the ceilings the fractions apply to: the datasheet's FLOP/s in its
				 * precision and bytes/s (uncalibrated: the achievable figures) */
	int gemm;               /* it has a GEMM shape (row field "gemm"): */
	double m, n, k, gcalls; /* gcalls products of (m x k) by (k x n) */
} lmp_kernel;
typedef struct lmp_ktime {
	double compute, memory, launch, time; /* seconds per instance; time the max */
	double gemm_s; /* of compute, the GEMM's share (waves applied) */
	/* waves applied: output tile tm x tn, tiles, split-K slices, waves,
	 * and the efficiency (useful work over the units' time); 0 otherwise */
	double tm, tn, tiles, split_k, waves, wave_eff;
} lmp_ktime;
void lmp_kernel_time(const lmp_kernel *k, const lmp_tparams *p, int units, lmp_ktime *out);
/* timesteps.c: a decode row's kernel over its steps, from its per-step
 * work (lmp-eval(1) "per_step"): over steps first..last of a piece,
 * FLOPs and bytes are q[0] + q[1] (s - first) + q[2] (K(s) - K(first)),
 * K(s) = ceil((s + off) / block) where block > 1.  lmp_steps_time sums
 * lmp_kernel_time over every step in closed form: k is one step's kernel
 * (its GEMM calls and launches a step's; its flops and bytes unused); out
 * gets the sums (compute, memory, launch, time, gemm_s) and one step's
 * waves. */
typedef struct lmp_steppiece {
	int64_t first, last;
	double flops[3], bytes[3];
} lmp_steppiece;
typedef struct lmp_stepwork {
	int n;
	lmp_steppiece *p;
	int64_t block, off;
} lmp_stepwork;
void lmp_steps_time(const lmp_kernel *k, const lmp_stepwork *w, const lmp_tparams *p, int units, lmp_ktime *out);
/* An exact sum of times (timemodel.c): each term count x t is added as
 * count x (t in whole units of 2^-LMP_TSUM_BITS s), integers in 128 bits, so
 * any order and any grouping of the same terms (count x t, or t added
 * count times) gives the same bits.  Every time total goes through it. */
#define LMP_TSUM_BITS 80
typedef struct lmp_tsum {
	lmp_i128 q; /* the sum in units of 2^-LMP_TSUM_BITS s */
	int bad;    /* a term out of range, negative or not finite: the sum is NAN */
} lmp_tsum;
void lmp_tsum_add(lmp_tsum *s, double count, double t);
/* a kernel's time, compute, memory and launch: s[0..3] += count x each */
void lmp_tsum_kernel(lmp_tsum *const s[4], const lmp_ktime *kt, double count);
void lmp_tsum_merge(lmp_tsum *s, const lmp_tsum *a);
double lmp_tsum_value(const lmp_tsum *s);

/* timed.c: a document prepared once, timed many times under different
 * terms (lmp-calibrate's fit): the same kernels and sums as lmp_roofline,
 * so the times are bit-identical.  o's compute_eff and memory_eff multiply
 * on top of p's fractions, as in lmp_roofline; o->tmode and o->cal are
 * ignored (p is the terms). */
typedef struct lmp_times {
	double ttft_s, tpot_s, e2e_s, time_s, tokens_per_s; /* NAN where the document has none (a single step: time_s only) */
} lmp_times;
typedef struct lmp_timed lmp_timed;
lmp_timed *lmp_timed_prepare(const cJSON *eval_doc, const lmp_roof_opts *o, lmp_err *e);
int lmp_timed_eval(const lmp_timed *t, const lmp_tparams *p, lmp_times *out);
void lmp_timed_free(lmp_timed *t);

/* calibration.c: calibration files (lmp-calibration(5)). */
typedef struct lmp_calibration lmp_calibration;
/* opt (--calibration), else LMP_CALIBRATION, else the shipped default
 * (share/lmp/calibration/corpus.json); NULL for "none". *dflt: the default
 * was taken (an absent default file is no error). */
const char *lmp_calibration_path(const char *opt, int *dflt);
/* Reads and checks a file; a malformed one is refused with one line. */
lmp_calibration *lmp_calibration_load(const char *path, lmp_err *e);
void lmp_calibration_free(lmp_calibration *c);
/* The entry for (device, engine) and the weight precision class of w_bit
 * (lmp_calibration_wclass; 0: unknown), else the one for (device, engine)
 * over every precision, else the device's pooled entry (engine null), else
 * NULL. */
const cJSON *lmp_calibration_select(const lmp_calibration *c, const char *device, const char *engine, int w_bit);
/* The precision class of weights of w_bit bits: 16 (more than 8), 8 (5 to
 * 8), 4 (4 or fewer); 0 for 0 (unknown). */
int lmp_calibration_wclass(int w_bit);
const char *lmp_calibration_file(const lmp_calibration *c); /* as documents name it: a file of the data directory by its name there (calibration/corpus.json), any other as given */
/* An entry's terms (checked at load). */
void lmp_calibration_terms(const cJSON *entry, lmp_tparams *tp);

/* dblayers.c: the database a tool reads.  explicit: --db or LMP_DB
 * (lmp_db_explicit), read alone; NULL: the user's data home database
 * ($XDG_DATA_HOME/lmp/module_db.json) layered over the shipped one, its
 * entries first.  full: every entry parsed (lmp_db_load) for a single file;
 * else opened lazily (lmp_db_open). */
const char *lmp_db_explicit(const char *opt); /* opt, else LMP_DB, else NULL */
lmp_db *lmp_db_layers(const char *explicit, int full, lmp_err *e);
const char *lmp_data_home(void); /* $XDG_DATA_HOME/lmp or ~/.local/share/lmp; NULL: neither */
const char *lmp_user_db(void);   /* its module_db.json, or NULL */
const char *lmp_db_write_path(const char *explicit); /* explicit, else lmp_user_db() */
/* The database read ahead of a tool's input, while the tools before it in
 * a pipe still work; taken once the input has ended, it is the one read
 * then where its files have not changed since (lmp-ensure, before in the
 * pipe, writes the user's file before its output), else read again then.
 * A database that fails ahead is read again after, and the error said
 * then, as without the read ahead. */
struct lmp_db_file {
	int there;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};
typedef struct lmp_db_stamp {
	struct lmp_db_file f[2];
} lmp_db_stamp;
typedef struct lmp_db_ahead {
	const char *explicit;
	lmp_db_stamp stamp;
	lmp_db *db;
} lmp_db_ahead;
void lmp_db_ahead_open(lmp_db_ahead *a, const char *explicit); /* lmp_db_layers(explicit, 0), quietly */
lmp_db *lmp_db_ahead_take(lmp_db_ahead *a, lmp_err *e);       /* the database, or NULL (e says why) */
void lmp_db_ahead_free(lmp_db_ahead *a);                       /* one not taken */
int lmp_user_db_create(lmp_err *e); /* an empty user database where there is none */
int lmp_mkdirs(const char *dir, lmp_err *e); /* mkdir -p */

/* dbwrite.c: locked, atomic updates of the module database. */
typedef int (*lmp_db_change)(cJSON *db, void *ctx, lmp_err *e);
int lmp_db_update(const char *path, lmp_db_change fn, void *ctx, lmp_err *e);
int lmp_db_writable(const char *path, lmp_err *e);
int lmp_write_atomic(const char *path, const char *text, size_t len, lmp_err *e);

/* agent.c: running an external command with a bounded budget. */
typedef struct lmp_run {
	int status;      /* exit status, or -1 */
	int signal;      /* terminating signal, or 0 */
	int timed_out;
	int interrupted; /* SIGINT, SIGTERM, SIGHUP or SIGQUIT came (forwarded to the agent), or 0 */
	double seconds;
	lmp_buf out, err; /* each bounded to LMP_RUN_MAX bytes */
	int out_truncated, err_truncated;
} lmp_run;
#define LMP_RUN_MAX (4 << 20)
/* Run "sh -c cmd" in its own process group with input on stdin.  The whole
 * group is killed when the command exits (its pipes read for a second more),
 * after timeout seconds, on a stop signal (forwarded first; the caller then
 * stops, see interrupted) and when the caller dies, even by SIGKILL (a guard
 * process in the group).  While it runs the caller is a subreaper: what the
 * command leaves outside its group is killed once it becomes the caller's
 * child.  -1 only if it cannot start.  what (or NULL) names the wait in the
 * progress line a terminal shows (progress.c). */
int lmp_run_command(const char *cmd, const char *input, size_t len, double timeout, const char *what, lmp_run *r,
	lmp_err *e);
void lmp_run_free(lmp_run *r);

/* agentask.c: one question to the agent, asked again while its answer is
 * refused (what is asked and how the answer is checked are the caller's). */
typedef struct lmp_ask lmp_ask;
struct lmp_ask {
	const char *agent;     /* the command, run by sh -c */
	double timeout;        /* seconds per try */
	int retries;           /* tries after the first when the answer is refused */
	const char *what;      /* what is asked for: a class, a model_type */
	const char *diag_key;  /* its key in the diagnostics file: "class", "model_type" */
	const char *diag_path; /* the diagnostics file written on failure, or NULL */
	/* The answer (parsed JSON, borrowed): 0 accepted (check keeps or stores
	 * it), -1 refused with the reason in e (asked again while tries are
	 * left), -2 failed otherwise (not asked again). */
	int (*check)(cJSON *answer, void *ctx, lmp_err *e);
	void *ctx;
	/* Called before each new try with the refusal, or NULL. */
	void (*refused)(const lmp_ask *a, const lmp_err *why);
	int tries;             /* out: how many times the agent was run */
	int quiet;             /* no progress line while it runs (progress.c) */
};
/* Runs a->agent on prompt, takes out its JSON answer and calls a->check;
 * a refused answer (one that does not parse, or that check refuses) goes
 * back with the prompt, the refusal and the answer appended, up to
 * a->retries times.  A stop signal during a run stops the process as it
 * would have (the agent's group killed first).  On failure the reason
 * (escaped to one line) in e and the diagnostics file written. */
int lmp_agent_ask(lmp_ask *a, const char *prompt, lmp_err *e);
/* The JSON answer in an agent's output: raw JSON, a ```json block or the
 * outermost braces of text, or Claude Code's result envelope around them. */
cJSON *lmp_agent_answer(const lmp_buf *out, lmp_err *e);
/* tmpl with each keys[i] replaced by vals[i], appended to out. */
void lmp_fill_template(lmp_buf *out, const char *tmpl, const char *const *keys, const char *const *vals, int n);

/* ensure.c: the module agent, asked for one class's database entry. */
typedef struct lmp_module_opts {
	const char *db;          /* the database the entry goes to (its folder gets diagnostics) */
	const char *agent;
	double timeout;
	int retries;
	const char *source_root; /* a transformers checkout, or NULL */
	int force;               /* replace an entry already there */
	void (*refused)(const lmp_ask *a, const lmp_err *why); /* or NULL */
	int quiet;               /* no progress line while the agent runs */
} lmp_module_opts;
/* The module prompt for cls (share/lmp/prompts/module_analyzer.md). */
char *lmp_module_prompt(const lmp_db *db, const char *cls, const char *source_root, lmp_err *e);
/* Ask, check (lmp_entry_check) and store cls's entry; db is the loaded
 * database the answer is tried in.  On failure e says "CLS: why". */
int lmp_module_analyse(const lmp_module_opts *o, lmp_db *db, const char *cls, lmp_err *e);
/* Adds entry (copied) under cls, replacing one there only with force. */
int lmp_db_add_entry(const char *path, const char *cls, const cJSON *entry, int force, lmp_err *e);
/* archagent.c: an unresolved architecture resolved by the agent
 * (lmp-ensure(1)), asked through lmp_agent_ask. */
/* The prompt for doc's model_type (share/lmp/prompts/arch_analyzer.md);
 * caller frees. */
char *lmp_arch_prompt(const cJSON *doc, lmp_db *db, const char *source_root, lmp_err *e);
/* The agent's answer (borrowed) checked as a template for doc: the template to store
 * (caller owns, "validation": pending), or NULL with the refusal.  unknown
 * gets the classes the database lacks (for the module agent). */
cJSON *lmp_arch_answer_check(const cJSON *answer, const cJSON *doc, lmp_db *db, lmp_buf *unknown, lmp_err *e);
/* The template into the data home's archs/MODEL_TYPE.json (path gets it). */
int lmp_arch_store(const cJSON *tmpl, char *path /* PATH_MAX bytes */, lmp_err *e);
/* dir (PATH_MAX bytes) gets the data home's archs, made and writable, or -1. */
int lmp_arch_store_dir(char *dir, lmp_err *e);
/* The unresolved doc built with the template of its model_type now on the
 * path; caller frees. */
cJSON *lmp_arch_resolve_doc(const cJSON *doc, lmp_err *e);

/* escape.c: untrusted text for a one-line message: control characters as
 * \n, \t, \r, \xHH (\uHHHH for C1 controls, line separators and bidi
 * overrides), bytes that are not UTF-8 as \xHH, other UTF-8 kept; cut
 * between characters to fit size - 1 bytes, ending "..." when cut.  Writes
 * out (NUL-terminated) and returns its length. */
size_t lmp_escape(char *out, size_t size, const char *text, size_t len);

/* entrycheck.c: an agent's answer, checked and sanitised into an entry. */
int lmp_valid_class_name(const char *s);
void lmp_today(char out[11]);
/* A new entry (caller owns) for cls, or NULL with the reason. */
cJSON *lmp_entry_check(const cJSON *answer, const char *cls, const cJSON *db_doc, lmp_err *e);

/* source.c: a class's definition in a source checkout. */
typedef struct lmp_source {
	char *file; /* relative to the root */
	int line_start, line_end;
	char *text; /* the definition, at most 800 lines */
} lmp_source;
int lmp_find_source(const char *root, const char *cls, lmp_source *out, lmp_err *e);
void lmp_source_free(lmp_source *s);
/* sourcectx.c: the parent classes and the functions cls's source s calls
 * (and those they call), where the checkout defines them, appended to out
 * as quoted blocks; returns how many. */
int lmp_source_related(const char *root, const char *cls, const lmp_source *s, lmp_buf *out);

/* arch.c: an architecture template expanded with a config.  Takes model
 * (the document's "model" object); cfg gains the defaults it lacked. */
cJSON *lmp_arch_build(const cJSON *tmpl, cJSON *cfg, cJSON *model, lmp_err *e);
/* A field no config makes matter (token ids, dtype, generation settings). */
int lmp_config_inert(const char *key);

/* archload.c: templates on the search path (LMP_ARCH_PATH, the data home's
 * lmp/archs, the shipped archs), "extends" resolved (lmp-arch(5)). */
/* where (PATH_MAX bytes, or NULL) gets the file, or "" for a shipped one. */
cJSON *lmp_arch_load(const char *model_type, char *where, lmp_err *e);
cJSON *lmp_arch_load_file(const char *path, lmp_err *e);
char *lmp_arch_names(void); /* every model_type on the path, space-separated */
char *lmp_arch_list(void);  /* "model_type<TAB>shipped|FILE" lines */
int lmp_arch_exists(const char *model_type); /* a template of it is on the path */

/* layerset.c: the layer indices of a repeated node, from its template's
 * "layers" ({"count", "where"} over the config and ${index}), checked
 * against its repeat count: a range object or a list; caller frees. */
cJSON *lmp_layer_set(const cJSON *spec, const char *const *cfg_names, const lmp_num *cfg_vals, int n,
	const lmp_num *repeat, lmp_err *e);

/* inspect.c: a model (a config.json, a directory, a hub id) to its
 * architecture document (lmp-inspect(1)), with the template of its
 * model_type or the one in arch_file (NULL: the path's); caller frees. */
/* A warning naming the config fields no template or inert list uses, or
 * under strict an error; nothing when there are none. */
int lmp_config_unused(const cJSON *doc, int strict, lmp_buf *warning, lmp_err *e);
cJSON *lmp_inspect(const char *model, const char *revision, const char *arch_file, lmp_err *e);
/* -1 (e: lmp-ensure resolves it) for an unresolved architecture document:
 * a model_type with no template, written by lmp_inspect without "layers". */
int lmp_doc_unresolved(const cJSON *doc, lmp_err *e);

/* hub.c (which calls download.c), download.c: where a model's config comes from. */
typedef struct lmp_located {
	char path[4096];     /* the config.json read */
	char id[256];        /* the model id as given (or the path) */
	char revision[256];  /* hub revision asked for ("" for a path) */
	char commit[41];     /* the snapshot's commit, when known */
	char source[16];     /* file, hf-cache, shipped, download */
} lmp_located;
int lmp_model_locate(const char *model, const char *revision, lmp_located *out, lmp_err *e);
int lmp_hub_download(const char *repo, const char *rev, lmp_located *out, lmp_err *e);
/* HF_HUB_OFFLINE set to anything but empty or 0: no request to the hub. */
int lmp_hub_offline(void);
/* download.c: a repository's files read in pieces (--check-weights), with
 * the endpoint, token, timeout and redirect rules of a config download;
 * nothing is stored in the cache.  lmp_hub_get appends FILE's bytes
 * [from, from + n) to out, or with n = 0 the whole file up to max bytes; a
 * server that sends more than asked (or the whole file for a range) is cut
 * off and is an error.  *size is the file's size when the answer says it
 * (Content-Range), else UINT64_MAX.  1: the hub has no such file (404). */
typedef struct lmp_hub_conn lmp_hub_conn;
lmp_hub_conn *lmp_hub_connect(const char *repo, const char *rev, lmp_err *e);
int lmp_hub_get(lmp_hub_conn *h, const char *file, uint64_t from, uint64_t n, uint64_t max, lmp_buf *out,
	uint64_t *size, lmp_err *e);
void lmp_hub_disconnect(lmp_hub_conn *h);

/* hfcache.c: the HuggingFace cache's layout, below hub.c and download.c. */
const char *lmp_hf_cache(char *buf, size_t n);
/* CACHE/models--org--name for the hub id org/name, in buf. */
const char *lmp_hf_repo_dir(const char *repo, char *buf, size_t n);
void lmp_sha256_hex(const char *data, size_t len, char out[65]);
int lmp_is_commit(const char *s); /* 40 lowercase hex digits */

/* safetensors.c: a checkpoint's tensors from its safetensors headers only
 * (never the data).  Each tensor is {"dtype", "shape"} (a file's header also
 * keeps "data_offsets", checked against the file's size and the dtype);
 * "__metadata__" is dropped.  A header over LMP_ST_HEADER_MAX is refused. */
#define LMP_ST_HEADER_MAX (100u << 20)
/* buf holds len bytes of a file of file_size bytes, from its start. */
cJSON *lmp_st_parse_header(const unsigned char *buf, size_t len, uint64_t file_size, const char *name, lmp_err *e);
cJSON *lmp_st_read_file(const char *path, lmp_err *e);
/* path: a .safetensors file, a model.safetensors.index.json (its shards
 * beside it) or a directory holding either (a cache snapshot is one): an
 * object tensor name -> {"dtype", "shape", "file"}. */
cJSON *lmp_st_read_checkpoint(const char *path, lmp_err *e);
/* A parsed header's tensors moved into all (header is consumed); the
 * shards of an index, each header from
 * rd(ctx, shard), added to all (tensor -> {"dtype", "shape", "file"});
 * every tensor must be in the shard the weight_map names. */
void lmp_st_add_header(cJSON *all, cJSON *header, const char *shard);
typedef cJSON *lmp_st_reader(void *ctx, const char *shard, lmp_err *e);
int lmp_st_add_index(cJSON *all, const cJSON *index, const char *name, lmp_st_reader *rd, void *ctx, lmp_err *e);
/* rangefetch.c: the same object for a checkpoint on the hub, from its
 * headers alone (HTTP range requests); *fetched: the bytes transferred. */
cJSON *lmp_st_fetch_checkpoint(const char *repo, const char *rev, uint64_t *fetched, lmp_err *e);
/* Every all-digit component of a tensor name folded to '*'. */
void lmp_st_fold_name(const char *name, char *out, size_t n);
/* The compact inventory: {"tensors": [{name (folded), dtype, shape, count}],
 * identical folded name, dtype and shape merged; "dtypes": {dtype: bytes},
 * "count", "elements", "bytes"}. */
cJSON *lmp_st_inventory(const cJSON *tensors);
/* stindex.c: each inventory row's "indices", one range list per "*" of its
 * name; a row whose tensors are not one product of them is split. */
void lmp_st_index(cJSON *inv, const cJSON *tensors);
/* idxset.c: index sets, sorted disjoint closed intervals, written as range
 * lists ("0-2,5,7-60"). */
typedef struct lmp_idxset {
	int n;
	int64_t *lo, *hi;
} lmp_idxset;
void lmp_idx_add(lmp_idxset *s, int64_t lo, int64_t hi); /* in increasing order */
void lmp_idx_free(lmp_idxset *s);
int64_t lmp_idx_size(const lmp_idxset *s);
int64_t lmp_idx_common(const lmp_idxset *a, const lmp_idxset *b); /* |a & b| */
void lmp_idx_str(const lmp_idxset *s, lmp_buf *b);
int lmp_idx_parse(const char *text, lmp_idxset *s); /* -1: not a range list */
int lmp_idx_from_layers(const cJSON *rec, lmp_idxset *s); /* a node's "layers" */
void lmp_idx_and(const lmp_idxset *a, const lmp_idxset *b, lmp_idxset *out);
void lmp_idx_minus(const lmp_idxset *a, const lmp_idxset *u, int n, lmp_idxset *out); /* a minus all u */
/* weights.c: the inventory of the checkpoint beside the config an
 * lmp-inspect document was made from, as its model.checkpoint. */
int lmp_weights_record(cJSON *doc, lmp_err *e);
/* quantmap.c: a quantized checkpoint's packed tensors (tensors: the raw
 * name -> {dtype, shape}) mapped back to the parameters they stand for:
 * their entries of inv (lmp_st_inventory's) get "logical" {name, shape,
 * method, bytes}, their scales, zeros and g_idx "aux_of" and "bytes";
 * inv gets "quantized" where any tensor was mapped.  config: the one the
 * document carries (its quantization_config). */
int lmp_quantmap(const cJSON *config, const cJSON *tensors, cJSON *inv, lmp_err *e);
/* The stored bytes of each Linear row the model's quantized format covers
 * (lmp_quant_bytes, bias aside) against the checkpoint's entry whose
 * logical is that row's weight, [out, in]: a difference is an error. */
int lmp_quantmap_check(const lmp_model *m, const cJSON *checkpoint, lmp_err *e);
/* weightscheck.c: the model's rows against model.checkpoint, by name and shape where
 * an entry declares its tensors, else by element count:
 * "weights_check":{...} appended to b; a mismatch is an error. */
int lmp_weights_check(const lmp_model *m, const cJSON *checkpoint, lmp_buf *b, lmp_err *e);
/* Each row's sets and nsets from the populated document's layers (called
 * by lmp_model_load). */
int lmp_row_indices(lmp_model *m, const cJSON *layers, lmp_err *e);
/* tensordecl.c: the tensors an entry declares (lmp-module-db(5) "tensors"),
 * shapes folded with its bound values; absent ones (a 0 dimension) left out. */
#define LMP_MAX_DIMS 8
typedef struct lmp_tdecl {
	const char *name; /* under the layer's path; "" is the path itself */
	int buffer;       /* stored, not a parameter */
	int ndims;
	lmp_num dims[LMP_MAX_DIMS], elements;
} lmp_tdecl;
int lmp_tensors_form(const cJSON *decl, lmp_err *e);
/* parcheck.c: an entry's "parallel" declaration well formed over its
 * "parameters" (an array of {"name": ...}), else an error saying what. */
int lmp_parallel_form(const cJSON *par, const cJSON *params, lmp_err *e);
/* 1 with *out (free it) and *n when en declares tensors, 0 when it does not, -1 on error. */
int lmp_entry_tensors(lmp_entry *en, lmp_prog *prog, lmp_poly *const *args, lmp_tdecl **out, int *n, lmp_err *e);
/* The parameters' elements against param_count: an error naming both. */
int lmp_tensors_agree(const lmp_entry *en, const lmp_tdecl *t, int n, const lmp_num *param_count, lmp_err *e);
void lmp_tensors_json(const lmp_tdecl *t, int n, lmp_buf *b); /* [{"name","shape","buffer"?}] */

/* populate.c: every parameter of every basic layer bound (lmp-populate(1)). */
typedef struct lmp_fixed {
	unsigned given;                 /* bit LMP_RO_...: the option was given */
	int64_t value[LMP_RO_NLISTS];   /* its value, recorded in the document's "fixed" */
	unsigned vars;                  /* bit LMP_V_...: the variable is bound */
	lmp_num var[LMP_NVARS];         /* its value, substituted into the formulas */
} lmp_fixed;
/* runtime.c: the variables the given LMP_FIX_BOUND options fix, by
 * lmp_runtime_compute. */
int lmp_fixed_compute(lmp_fixed *f, lmp_err *e);
/* The config field that binds param by the binding rule's first step (a
 * number or boolean, not inert, not in scoped), or NULL. */
const cJSON *lmp_config_binding(const cJSON *config, const cJSON *scoped, const char *param);
/* doc (an arch document) becomes a populated one, in place; with explain,
 * one line per binding: path, parameter, value, rule, field. */
int lmp_populate(cJSON *doc, lmp_db *db, const lmp_fixed *fixed, lmp_buf *explain, lmp_err *e);
/* The same; with warn, one line per config field that binds a parameter
 * where the layer's attrs give it another value (the attr is shadowed):
 * "config field F (V) shadows attrs.F (A) of CLASS at PATH", each once. */
int lmp_populate_warn(cJSON *doc, lmp_db *db, const lmp_fixed *fixed, lmp_buf *explain, lmp_buf *warn, lmp_err *e);
/* popstream.c: lmp-populate's stream.  Every document of file (NULL:
 * stdin) populated into out, compact lines or (LMP_POP_EXPLAIN) the explain
 * table; all are read and checked before any is written.  The database is
 * opened after the input is read: in a pipe after lmp-ensure, once
 * lmp-ensure has finished adding to it. */
enum { LMP_POP_EXPLAIN = 1, LMP_POP_PRETTY = 2, LMP_POP_EMPTY_FAILS = 4 /* lmp_read_input's policy */ };
int lmp_populate_stream(const char *file, const char *dbpath, const lmp_fixed *fixed, int flags, lmp_buf *out,
	lmp_buf *warn, lmp_err *e);

/* tool.c: the end of a tool (the only library code that prints and exits). */
extern const char *lmp_tool; /* set by main: "lmp-eval" ... */
void lmp_start(const char *tool); /* the first call of every main */
void lmp_die(const lmp_err *e) __attribute__((noreturn));
void lmp_usage_error(const char *msg) __attribute__((noreturn));
int lmp_close_stdout(void); /* 0, or LMP_EXIT_SYSTEM after saying so */
/* In a chain that pipeline.sh runs (LMP_CHAIN set), empty input means the
 * tool before failed and has said why: the readers' empty_fails. */
int lmp_chain(void);

/* progress.c: how far long work has got, a line on standard error rewritten
 * in place, shown only where a person sees it (standard error a terminal)
 * and only after two seconds (LMP_PROGRESS_DELAY); erased at the end.  A
 * stage names the work ("points", "waiting for the agent") and its total
 * (0: unknown, the seconds alone); add counts what is done, cheaply. */
typedef struct lmp_progress {
	char what[200], said[320];
	double done, total, start, last, shown_at, after;
	long long calls, check;
	int on, shown;
} lmp_progress;
void lmp_progress_begin(lmp_progress *p);
void lmp_progress_stage(lmp_progress *p, double total, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lmp_progress_add(lmp_progress *p, double n);
void lmp_progress_end(lmp_progress *p);

/* jscan.c: JSON text scanned in place: past whitespace, past a string (p
 * at its quote), past one whole value (brackets matched, strings closed);
 * NULL where the text ends first or is not JSON's shape. */
/* inline: --fields and the lazy database call it around every member */
static inline const char *
lmp_jscan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}
const char *lmp_jscan_string(const char *p, const char *end);
/* Past a number or a literal (true, false, null) at p: up to the byte
 * that ends it (inline: most values --fields steps over are numbers). */
extern const unsigned char lmp_jscan_ends_token[256];
static inline const char *
lmp_jscan_token(const char *p, const char *end)
{
	while (p < end && !lmp_jscan_ends_token[(unsigned char)*p])
		p++;
	return p;
}
const char *lmp_jscan_value(const char *p, const char *end);
/* Past one value of text known to be JSON (lmp's own): only the nesting is
 * followed, each byte one table look-up. */
const char *lmp_jscan_skip(const char *p, const char *end);

/* fields.c: --fields PATH,... of lmp-eval and lmp-roofline: each document
 * pruned to the named members (dotted paths of keys from the top), in the
 * document's order and nesting, values as written; a member a document
 * lacks is left out.  lmp_fields_unseen: a path no document has had. */
lmp_fields *lmp_fields_new(const char *spec, lmp_err *e);
void lmp_fields_free(lmp_fields *f);
int lmp_fields_project(lmp_fields *f, const char *doc, size_t len, lmp_buf *out, lmp_err *e);
int lmp_fields_write(lmp_fields *f, int pretty, const char *doc, size_t len, lmp_buf *out, lmp_err *e);
const char *lmp_fields_unseen(const lmp_fields *f);
/* A writer's view of the paths, so that it neither formats nor computes
 * what no path names: a node is the named members of one object, NULL
 * all of its members.  lmp_fields_top: the document's (NULL for f NULL).
 * lmp_fields_sub: whether key (len bytes) is named in n, at or under it;
 * if so, *sub (where sub is not NULL) is what is named under it. */
typedef struct lmp_fields_node lmp_fields_node;
const lmp_fields_node *lmp_fields_top(const lmp_fields *f);
int lmp_fields_sub(const lmp_fields_node *n, const char *key, size_t len, const lmp_fields_node **sub);
/* The object obj (len bytes) pruned to what n names (NULL: whole), as
 * lmp_fields_project prunes a document (and marking what it met, for
 * lmp_fields_unseen). */
int lmp_fields_project_node(const lmp_fields_node *n, const char *obj, size_t len, lmp_buf *out, lmp_err *e);
/* Whether the paths name any member of the object obj (len bytes),
 * marking what they meet as lmp_fields_project does. */
int lmp_fields_names_any(lmp_fields *f, const char *obj, size_t len);
/* Where the "runtime" member starts in a document lmp-eval wrote for m
 * (an eval document, or the roofline document of the fused sweep): past
 * m's head (lmp, version, model, ...); 0 where doc does not start so. */
size_t lmp_doc_runtime_at(const lmp_model *m, const char *doc, size_t len);

#endif
