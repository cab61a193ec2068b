/* formula.c: the template language, parsed by recursive descent.
 *
 *   cond    := compare [ '?' cond ':' cond ]
 *   compare := sum [ ('<'|'<='|'>'|'>='|'=='|'!=') sum ]
 *   sum     := product { ('+'|'-') product }
 *   product := unary { ('*'|'/'|'//'|'%') unary }
 *   unary   := ('-'|'+') unary | power
 *   power   := atom [ '**' unary ]           (right-associative, as Python)
 *   atom    := number | '${' name '}' | '{' var '}' | '{' Entry '}' '(' args ')'
 *            | func '(' args ')' | '(' cond ')'
 *   args    := [ arg { ',' arg } ],  arg := [ name '=' ] cond
 *
 * Nothing here can run anything: the only names are parameters, runtime
 * variables, other entries and the fixed functions below. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_TEMPLATE 65536
#define MAX_DEPTH 200 /* nesting: parentheses, calls, unary operators, ?: */
#define MAX_HEIGHT 1000 /* levels of the syntax tree, chains of operators included */
#define STR_(x) #x
#define STR(x) STR_(x)

struct parser {
	const char *text, *p;
	const char *const *params;
	int nparams;
	int depth;
	lmp_arena *arena;
	lmp_err *e;
};

static const struct {
	const char *name;
	int op, minargs, maxargs;
} funcs[] = {
	{"min", LMP_OP_MIN, 1, LMP_MAX_ARGS},
	{"max", LMP_OP_MAX, 1, LMP_MAX_ARGS},
	{"ceil", LMP_OP_CEIL, 1, 1},
	{"floor", LMP_OP_FLOOR, 1, 1},
	{"log2", LMP_OP_LOG2, 1, 1},
	{"sqrt", LMP_OP_SQRT, 1, 1},
	{"abs", LMP_OP_ABS, 1, 1},
	{"window_kv", LMP_OP_WIN_KV, 1, 1},
	{"window_pairs", LMP_OP_WIN_PAIRS, 1, 1},
	{"window_cache", LMP_OP_WIN_CACHE, 1, 1},
	{"expected", LMP_OP_EXPECTED, 1, 1},
};

static lmp_node *cond(struct parser *ps);

static int
col(const struct parser *ps, const char *at)
{
	return (int)(at - ps->text) + 1;
}

static lmp_node *
perr(struct parser *ps, const char *at, const char *msg)
{
	int n = 0;

	while (at[n] && n < 12)
		n++;
	if (*at)
		lmp_fail(ps->e, LMP_EXIT_INPUT, "column %d: %s at '%.*s'", col(ps, at), msg, n, at);
	else
		lmp_fail(ps->e, LMP_EXIT_INPUT, "column %d: %s at end of template", col(ps, at), msg);
	return NULL;
}

static void
ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static int
isident(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static lmp_node *
mknode(struct parser *ps, int type, int op, const char *at, int nkids)
{
	lmp_node *n = lmp_arena_alloc(ps->arena, sizeof *n);

	n->type = type;
	n->op = op;
	n->col = col(ps, at);
	n->nkids = nkids;
	if (nkids)
		n->kids = lmp_arena_alloc(ps->arena, sizeof *n->kids * (size_t)nkids);
	return n;
}

static const char *
arena_strndup(struct parser *ps, const char *s, size_t n)
{
	char *d = lmp_arena_alloc(ps->arena, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static lmp_node *
number(struct parser *ps)
{
	const char *s = ps->p;
	lmp_node *n;

	while (*ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	if (*ps->p == '.') {
		ps->p++;
		while (*ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (*ps->p == 'e' || *ps->p == 'E') {
		const char *q = ps->p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (*q >= '0' && *q <= '9') {
			while (*q >= '0' && *q <= '9')
				q++;
			ps->p = q;
		}
	}
	n = mknode(ps, LMP_N_NUM, 0, s, 0);
	switch (lmp_num_parse(s, (size_t)(ps->p - s), &n->num)) {
	case 0:
		return n;
	case LMP_NUM_OVERFLOW: /* as a double it would count inexactly */
		return perr(ps, s, "number past the exact range (2^127 or more)");
	}
	return perr(ps, s, "number out of range");
}

/* Arguments of a call or function, after the '('. */
static int
args(struct parser *ps, lmp_node **kids, const char **names, int *n, int allow_names)
{
	*n = 0;
	ws(ps);
	if (*ps->p == ')') {
		ps->p++;
		return 0;
	}
	for (;;) {
		const char *q = ps->p;
		ws(ps);
		q = ps->p;
		if (*n == LMP_MAX_ARGS)
			return perr(ps, q, "too many arguments"), -1;
		names[*n] = NULL;
		if (isident(*q, 1)) {
			const char *r = q;
			while (isident(*r, 0))
				r++;
			const char *t = r;
			while (*t == ' ' || *t == '\t')
				t++;
			if (t[0] == '=' && t[1] != '=') {
				if (!allow_names)
					return perr(ps, q, "named argument to a function"), -1;
				names[*n] = arena_strndup(ps, q, (size_t)(r - q));
				ps->p = t + 1;
			}
		}
		if (!(kids[*n] = cond(ps)))
			return -1;
		(*n)++;
		ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == ')') {
			ps->p++;
			return 0;
		}
		return perr(ps, ps->p, "expected ',' or ')'"), -1;
	}
}

static lmp_node *
finish_call(struct parser *ps, lmp_node *proto, lmp_node **kids, const char **names, int n)
{
	lmp_node *c = mknode(ps, proto->type, proto->op, ps->text + proto->col - 1, n);
	int i, named = 0;

	c->name = proto->name;
	c->index = proto->index;
	if (n)
		memcpy(c->kids, kids, sizeof *kids * (size_t)n);
	for (i = 0; i < n; i++)
		named |= names[i] != NULL;
	if (named) {
		c->argnames = lmp_arena_alloc(ps->arena, sizeof *c->argnames * (size_t)n);
		memcpy(c->argnames, names, sizeof *names * (size_t)n);
	}
	return c;
}

static lmp_node *
brace(struct parser *ps)
{
	const char *at = ps->p, *s, *q;
	lmp_node *n, *kids[LMP_MAX_ARGS];
	const char *names[LMP_MAX_ARGS];
	int param = *ps->p == '$', nk, i;

	ps->p += param ? 2 : 1;
	s = ps->p;
	while (isident(*ps->p, 0) || (!param && *ps->p == '.'))
		ps->p++;
	if (ps->p == s || *ps->p != '}')
		return perr(ps, at, param ? "malformed ${parameter}" : "malformed {name}");
	q = ps->p + 1;
	if (param) {
		n = mknode(ps, LMP_N_PARAM, 0, at, 0);
		n->name = arena_strndup(ps, s, (size_t)(ps->p - s));
		ps->p = q;
		if (!ps->params)
			return perr(ps, at, "parameter reference outside a module formula");
		for (i = 0; i < ps->nparams; i++)
			if (strcmp(ps->params[i], n->name) == 0)
				break;
		if (i == ps->nparams)
			return perr(ps, at, "unknown parameter");
		n->index = i;
		return n;
	}
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '(') {
		n = mknode(ps, LMP_N_VAR, 0, at, 0);
		n->name = arena_strndup(ps, s, (size_t)(ps->p - s));
		n->index = lmp_var_lookup(s, (size_t)(ps->p - s));
		if (n->index < 0)
			return perr(ps, at, "unknown runtime variable");
		ps->p++;
		return n;
	}
	n = mknode(ps, LMP_N_CALL, 0, at, 0);
	n->name = arena_strndup(ps, s, (size_t)(ps->p - s));
	ps->p = q + 1;
	if (args(ps, kids, names, &nk, 1))
		return NULL;
	return finish_call(ps, n, kids, names, nk);
}

static lmp_node *
func(struct parser *ps)
{
	const char *at = ps->p, *q;
	lmp_node *kids[LMP_MAX_ARGS], proto = {0};
	const char *names[LMP_MAX_ARGS];
	size_t len, i;
	int nk;

	while (isident(*ps->p, 0))
		ps->p++;
	len = (size_t)(ps->p - at);
	for (i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
		if (strlen(funcs[i].name) == len && strncmp(funcs[i].name, at, len) == 0)
			break;
	if (i == sizeof funcs / sizeof funcs[0])
		return perr(ps, at, "unknown name");
	q = ps->p;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '(')
		return perr(ps, q, "expected '(' after function name");
	ps->p = q + 1;
	if (args(ps, kids, names, &nk, 0))
		return NULL;
	if (nk < funcs[i].minargs || nk > funcs[i].maxargs)
		return perr(ps, at, "wrong number of arguments");
	proto.type = LMP_N_FUNC;
	proto.op = funcs[i].op;
	proto.col = col(ps, at);
	return finish_call(ps, &proto, kids, names, nk);
}

static lmp_node *
atom(struct parser *ps)
{
	lmp_node *n;

	ws(ps);
	if (*ps->p >= '0' && *ps->p <= '9')
		return number(ps);
	if (*ps->p == '{' || (ps->p[0] == '$' && ps->p[1] == '{'))
		return brace(ps);
	if (isident(*ps->p, 1))
		return func(ps);
	if (*ps->p == '(') {
		ps->p++;
		if (!(n = cond(ps)))
			return NULL;
		ws(ps);
		if (*ps->p != ')')
			return perr(ps, ps->p, "expected ')'");
		ps->p++;
		return n;
	}
	return perr(ps, ps->p, "expected a value");
}

static lmp_node *
binary(struct parser *ps, int op, const char *at, lmp_node *l, lmp_node *r)
{
	lmp_node *n = mknode(ps, LMP_N_BINARY, op, at, 2);

	n->kids[0] = l;
	n->kids[1] = r;
	return n;
}

static lmp_node *unary(struct parser *ps);

static lmp_node *
power(struct parser *ps)
{
	lmp_node *l = atom(ps), *r;
	const char *at;

	if (!l)
		return NULL;
	ws(ps);
	if (ps->p[0] == '*' && ps->p[1] == '*') {
		at = ps->p;
		ps->p += 2;
		if (!(r = unary(ps)))
			return NULL;
		return binary(ps, LMP_OP_POW, at, l, r);
	}
	return l;
}

static lmp_node *
unary(struct parser *ps)
{
	lmp_node *n, *k;
	const char *at;

	ws(ps);
	if (++ps->depth > MAX_DEPTH)
		return perr(ps, ps->p, "nesting too deep");
	at = ps->p;
	if (*ps->p == '-' || *ps->p == '+') {
		int neg = *ps->p == '-';
		ps->p++;
		if (!(k = unary(ps)))
			return NULL;
		ps->depth--;
		if (!neg)
			return k;
		n = mknode(ps, LMP_N_UNARY, LMP_OP_NEG, at, 1);
		n->kids[0] = k;
		return n;
	}
	n = power(ps);
	ps->depth--;
	return n;
}

static lmp_node *
product(struct parser *ps)
{
	lmp_node *l = unary(ps), *r;
	const char *at;
	int op;

	/* A chain is a loop here, not nesting (the tree's height is bounded
	 * once it is built: too_tall). */
	while (l) {
		ws(ps);
		at = ps->p;
		if (at[0] == '*' && at[1] != '*')
			op = LMP_OP_MUL, ps->p += 1;
		else if (at[0] == '/' && at[1] == '/')
			op = LMP_OP_FLOORDIV, ps->p += 2;
		else if (at[0] == '/')
			op = LMP_OP_DIV, ps->p += 1;
		else if (at[0] == '%')
			op = LMP_OP_MOD, ps->p += 1;
		else
			break;
		if (!(r = unary(ps)))
			return NULL;
		l = binary(ps, op, at, l, r);
	}
	return l;
}

static lmp_node *
sum(struct parser *ps)
{
	lmp_node *l = product(ps), *r;
	const char *at;
	int op;

	while (l) {
		ws(ps);
		at = ps->p;
		if (*at == '+')
			op = LMP_OP_ADD;
		else if (*at == '-')
			op = LMP_OP_SUB;
		else
			break;
		ps->p++;
		if (!(r = product(ps)))
			return NULL;
		l = binary(ps, op, at, l, r);
	}
	return l;
}

static int
compare_op(const char *p, int *len)
{
	*len = 2;
	if (p[0] == '<' && p[1] == '=') return LMP_OP_LE;
	if (p[0] == '>' && p[1] == '=') return LMP_OP_GE;
	if (p[0] == '=' && p[1] == '=') return LMP_OP_EQ;
	if (p[0] == '!' && p[1] == '=') return LMP_OP_NE;
	*len = 1;
	if (p[0] == '<') return LMP_OP_LT;
	if (p[0] == '>') return LMP_OP_GT;
	return -1;
}

static lmp_node *
compare(struct parser *ps)
{
	lmp_node *l = sum(ps), *r;
	const char *at;
	int op, len;

	if (!l)
		return NULL;
	ws(ps);
	at = ps->p;
	if ((op = compare_op(at, &len)) < 0)
		return l;
	ps->p += len;
	if (!(r = sum(ps)))
		return NULL;
	ws(ps);
	if (compare_op(ps->p, &len) >= 0)
		return perr(ps, ps->p, "chained comparison (use parentheses)");
	return binary(ps, op, at, l, r);
}

static lmp_node *
cond(struct parser *ps)
{
	lmp_node *c, *a, *b, *n;
	const char *at;

	if (++ps->depth > MAX_DEPTH)
		return perr(ps, ps->p, "nesting too deep");
	if (!(c = compare(ps)))
		return NULL;
	ws(ps);
	if (*ps->p != '?') {
		ps->depth--;
		return c;
	}
	at = ps->p++;
	if (!(a = cond(ps)))
		return NULL;
	ws(ps);
	if (*ps->p != ':')
		return perr(ps, ps->p, "expected ':'");
	ps->p++;
	if (!(b = cond(ps)))
		return NULL;
	n = mknode(ps, LMP_N_COND, LMP_OP_COND, at, 3);
	n->kids[0] = c;
	n->kids[1] = a;
	n->kids[2] = b;
	ps->depth--;
	return n;
}

/* The first node deeper than MAX_HEIGHT, or NULL.  The code that walks a
 * template (folding, evaluation) recurses once per level of the tree, and
 * a chain "a + b + ... + z" is a tree as tall as it is long: its height,
 * not the nesting the parser counts, is what the stack must hold.  Walked
 * with a stack of its own, so that this walk is not the one to overflow. */
static const lmp_node *
too_tall(const lmp_node *root)
{
	struct item { const lmp_node *n; int h; } *st;
	size_t n = 1, cap = 64;
	const lmp_node *bad = NULL;
	int i;

	st = lmp_xmalloc(sizeof *st * cap);
	st[0] = (struct item){root, 1};
	while (n > 0 && !bad) {
		struct item it = st[--n];
		if (it.h > MAX_HEIGHT) {
			bad = it.n;
			break;
		}
		for (i = 0; i < it.n->nkids; i++) {
			if (n == cap)
				st = lmp_xrealloc(st, sizeof *st * (cap *= 2));
			st[n++] = (struct item){it.n->kids[i], it.h + 1};
		}
	}
	free(st);
	return bad;
}

lmp_tmpl *
lmp_tmpl_parse(const char *text, const char *const *params, int nparams, lmp_err *e)
{
	struct parser ps = {0};
	lmp_tmpl *t;
	size_t len = strlen(text);

	if (len > MAX_TEMPLATE) {
		lmp_fail(e, LMP_EXIT_INPUT, "template too long (%zu bytes, limit %d)", len, MAX_TEMPLATE);
		return NULL;
	}
	t = lmp_xcalloc(1, sizeof *t);
	t->arena = lmp_arena_new();
	t->text = arena_strndup(&(struct parser){.arena = t->arena}, text, len);
	ps.text = t->text;
	ps.p = t->text;
	ps.params = params;
	ps.nparams = nparams;
	ps.arena = t->arena;
	ps.e = e;
	t->root = cond(&ps);
	if (t->root) {
		const lmp_node *bad;
		ws(&ps);
		if (*ps.p)
			t->root = perr(&ps, ps.p, "unexpected text");
		else if ((bad = too_tall(t->root)))
			t->root = perr(&ps, t->text + bad->col - 1, "expression too long (more than "
				STR(MAX_HEIGHT) " operators on one path)");
	}
	if (!t->root) {
		lmp_tmpl_free(t);
		return NULL;
	}
	return t;
}

void
lmp_tmpl_free(lmp_tmpl *t)
{
	if (!t)
		return;
	lmp_arena_free(t->arena);
	free(t);
}
