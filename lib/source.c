/* source.c: where a class or function is defined in a source checkout.
 * transformers.models.llama.modeling_llama.LlamaMLP is looked for in
 * ROOT/transformers/models/llama/modeling_llama.py, then under ROOT/src/;
 * torch.nn.modules.linear.Linear in ROOT/torch/nn/modules/linear.py. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

#define MAX_SOURCE_LINES 800

static int
indent_of(const char *line)
{
	int n = 0;

	while (line[n] == ' ' || line[n] == '\t')
		n++;
	return n;
}

static int
blank_or_comment(const char *line)
{
	const char *p = line + indent_of(line);

	return *p == '\0' || *p == '\n' || *p == '#';
}

/* Does line define name (class or def) at any indentation? */
static int
defines(const char *line, const char *name)
{
	const char *p = line + indent_of(line);
	size_t n = strlen(name);

	if (!strncmp(p, "class ", 6))
		p += 6;
	else if (!strncmp(p, "def ", 4))
		p += 4;
	else if (!strncmp(p, "async def ", 10))
		p += 10;
	else
		return 0;
	return !strncmp(p, name, n) && (p[n] == '(' || p[n] == ':');
}

int
lmp_find_source(const char *root, const char *cls, lmp_source *out, lmp_err *e)
{
	const char *dot = strrchr(cls, '.');
	char *mod, path[4096], *s, *line, *next;
	const char *prefixes[] = {"", "src/"};
	lmp_buf text = {0}, b = {0}, deco = {0};
	int i, n = 0, start = 0, end = 0, ind = 0, deco_start = 0;

	memset(out, 0, sizeof *out);
	if (!dot || !lmp_valid_class_name(cls))
		return lmp_fail(e, LMP_EXIT_INPUT, "'%s' is not a dotted Python name", cls);
	mod = lmp_xstrndup(cls, (size_t)(dot - cls));
	for (s = mod; *s; s++)
		if (*s == '.')
			*s = '/';
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s%s.py", root, prefixes[i], mod);
		lmp_err ignore;
		if (!lmp_read_file(path, &b, &ignore))
			break;
		snprintf(path, sizeof path, "%s/%s%s/__init__.py", root, prefixes[i], mod);
		if (!lmp_read_file(path, &b, &ignore))
			break;
	}
	if (i == 2) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: no %s.py under %s", cls, mod, root);
		free(mod);
		return -1;
	}
	for (line = b.s; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
		if (!start) {
			/* its decorators belong to it: the lines of "@..." just above */
			if (line[indent_of(line)] == '@') {
				if (!deco_start)
					deco_start = n;
				lmp_buf_puts(&deco, line);
				lmp_buf_putc(&deco, '\n');
				continue;
			}
			if (defines(line, dot + 1)) {
				start = end = n;
				if (deco_start) {
					start = deco_start;
					lmp_buf_puts(&text, deco.s);
				}
				ind = indent_of(line);
				lmp_buf_puts(&text, line);
				lmp_buf_putc(&text, '\n');
			}
			deco.len = 0;
			if (deco.s)
				deco.s[0] = '\0';
			deco_start = 0;
			continue;
		}
		if (!blank_or_comment(line) && indent_of(line) <= ind)
			break;
		if (!blank_or_comment(line))
			end = n;
		if (n - start < MAX_SOURCE_LINES) {
			lmp_buf_puts(&text, line);
			lmp_buf_putc(&text, '\n');
		}
	}
	lmp_buf_free(&b);
	lmp_buf_free(&deco);
	if (!start) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: %s is not defined in %s", cls, dot + 1, path);
		lmp_buf_free(&text);
		free(mod);
		return -1;
	}
	out->file = lmp_xstrdup(path + strlen(root) + 1);
	out->line_start = start;
	out->line_end = end;
	out->text = text.s;
	free(mod);
	return 0;
}

void
lmp_source_free(lmp_source *s)
{
	free(s->file);
	free(s->text);
}
