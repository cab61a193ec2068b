/* sourcectx.c: what a class's source needs beside it to be read right: its
 * parent classes and the functions it calls (apply_rotary_pos_emb,
 * repeat_kv, eager_attention_forward ...), found in its own file or
 * imported into it from a module of the same checkout, and the functions
 * those call in turn.  A name found nowhere (torch's, a builtin) is left
 * out: the agent knows those. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_RELATED 10

struct ctx {
	const char *root;
	char *module; /* the class's module, dotted */
	char *file;   /* its file's text */
	char *done[64]; /* names looked for, found or not */
	int ndone, nquoted;
	lmp_buf *out;
};

static int
ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
ident_char(int c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static int
done(struct ctx *c, const char *name)
{
	for (int i = 0; i < c->ndone; i++)
		if (!strcmp(c->done[i], name))
			return 1;
	return 0;
}

/* Whether the names list [p, end) of an import imports name as itself. */
static int
lists(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; p + n <= end; p++) {
		const char *q = p + n;
		if (strncmp(p, name, n) || ident_char((unsigned char)*q) || ident_char((unsigned char)p[-1]))
			continue;
		while (*q == ' ')
			q++;
		if (strncmp(q, "as ", 3)) /* "a as b" imports b */
			return 1;
	}
	return 0;
}

/* The module a name is imported from in the class's file ("from M import
 * a, b" or "from M import (\n a,\n b)"), made absolute; NULL if none. */
static char *
imported_from(struct ctx *c, const char *name)
{
	for (const char *l = c->file; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *m = l + 5, *imp, *nl, *end;
		lmp_buf mod = {0};
		if (strncmp(l, "from ", 5))
			continue;
		nl = strchr(m, '\n');
		if (!nl)
			nl = m + strlen(m);
		if (!(imp = strstr(m, " import ")) || imp > nl)
			continue;
		end = nl;
		if (memchr(imp, '(', (size_t)(nl - imp)) && !(end = strchr(imp, ')')))
			continue;
		if (!lists(imp + 8, end, name))
			continue;
		if (*m == '.') {
			/* relative: one dot is the class's package, each more one up */
			char *pkg = lmp_xstrdup(c->module), *dot;
			if ((dot = strrchr(pkg, '.')))
				*dot = '\0';
			for (m++; *m == '.'; m++)
				if ((dot = strrchr(pkg, '.')))
					*dot = '\0';
			lmp_buf_puts(&mod, pkg);
			free(pkg);
			if (m < imp)
				lmp_buf_putc(&mod, '.');
		}
		lmp_buf_add(&mod, m, (size_t)(imp - m));
		return mod.s;
	}
	return NULL;
}

/* Whether a definition (its decorators first) is a class's. */
static int
is_class(const char *text)
{
	while (*text == '@' && strchr(text, '\n'))
		text = strchr(text, '\n') + 1;
	return !strncmp(text, "class ", 6);
}

/* Whether file defines the function name (n bytes) at its top level. */
static int
top_level_def(const char *file, const char *name, size_t n)
{
	for (const char *l = file; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "def ", 4) && !strncmp(l + 4, name, n) && l[4 + n] == '(')
			return 1;
	return 0;
}

static void quote(struct ctx *c, const char *name, const char *why);

/* Names called in text (name( not after a dot), and the bases of a class
 * line, each quoted once. */
static void
scan(struct ctx *c, const char *text)
{
	const char *p = text;

	/* the first line: "class X(Base, mixin.Other):" */
	if (!strncmp(p + strspn(p, " \t"), "class ", 6)) {
		const char *open = strchr(p, '('), *nl = strchr(p, '\n');
		for (const char *q = open; q && (!nl || q < nl) && *q && *q != ')'; q++) {
			if (ident_start((unsigned char)*q) && !ident_char((unsigned char)q[-1]) && q[-1] != '.') {
				size_t n = 0;
				while (ident_char((unsigned char)q[n]))
					n++;
				if (q[n] != '.') {
					char *name = lmp_xstrndup(q, n);
					quote(c, name, "its parent class");
					free(name);
				}
				q += n - 1;
			}
		}
	}
	for (; *p; p++) {
		size_t n = 0;
		const char *q;
		if (!ident_start((unsigned char)*p) || (p > text && (ident_char((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		while (ident_char((unsigned char)p[n]))
			n++;
		for (q = p + n; *q == ' '; q++)
			;
		if (c->nquoted < MAX_RELATED && (*q == '(' || top_level_def(c->file, p, n))) {
			/* called, or passed on (attention_interface =
			 * eager_attention_forward) */
			char *name = lmp_xstrndup(p, n);
			quote(c, name, *q == '(' ? "a function it calls" : "a function it uses");
			free(name);
		}
		p += n - 1;
	}
}

static void
quote(struct ctx *c, const char *name, const char *why)
{
	lmp_source s;
	lmp_err ignore;
	char full[600];
	char *from;

	if (done(c, name) || c->ndone >= (int)(sizeof c->done / sizeof c->done[0]) || c->nquoted >= MAX_RELATED)
		return;
	c->done[c->ndone++] = lmp_xstrdup(name);
	/* the class's own file first, then where the file imports it from */
	snprintf(full, sizeof full, "%s.%s", c->module, name);
	if (lmp_valid_class_name(full) && !lmp_find_source(c->root, full, &s, &ignore) && s.line_start > 0) {
		/* only a top-level definition: a method of the same name is not it */
		if (s.text[0] == ' ' || s.text[0] == '\t') {
			lmp_source_free(&s);
			return;
		}
	} else if ((from = imported_from(c, name))) {
		snprintf(full, sizeof full, "%s.%s", from, name);
		free(from);
		if (!lmp_valid_class_name(full) || lmp_find_source(c->root, full, &s, &ignore))
			return;
	} else {
		return;
	}
	c->nquoted++;
	/* a call of a class makes one of its modules */
	if (!strcmp(why, "a function it calls") && is_class(s.text))
		why = "a class it uses";
	lmp_buf_printf(c->out, "\n%s, %s: file %s, lines %d-%d:\n\n```python\n%s```\n", name, why, s.file, s.line_start,
		s.line_end, s.text);
	scan(c, s.text);
	lmp_source_free(&s);
}

int
lmp_source_related(const char *root, const char *cls, const lmp_source *s, lmp_buf *out)
{
	struct ctx c = {root, NULL, NULL, {0}, 0, 0, out};
	const char *dot = strrchr(cls, '.');
	char path[4096];
	lmp_buf b = {0};
	lmp_err ignore;

	if (!dot)
		return 0;
	snprintf(path, sizeof path, "%s/%s", root, s->file);
	if (lmp_read_file(path, &b, &ignore))
		return 0;
	c.module = lmp_xstrndup(cls, (size_t)(dot - cls));
	c.file = b.s;
	c.done[c.ndone++] = lmp_xstrdup(dot + 1);
	/* skip the decorators: the class line is the first "class " line */
	const char *body = strstr(s->text, "class ");
	scan(&c, body ? body : s->text);
	for (int i = 0; i < c.ndone; i++)
		free(c.done[i]);
	free(c.module);
	lmp_buf_free(&b);
	return c.nquoted;
}
