/* table.c: reports as blocks (headings, tables, key-value lists, charts),
 * written as aligned text, GitHub markdown or HTML fragments. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Text from documents, made safe to print: control characters (an escape
 * sequence for the terminal, a newline that would start a markdown
 * heading, a character XML forbids) become '?'. */
static char *
clean_dup(const char *s)
{
	char *t = lmp_xstrdup(s), *p;

	for (p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return t;
}

lmp_table *
lmp_table_new(int ncol, const char *const *head, const char *right)
{
	lmp_table *t = lmp_xcalloc(1, sizeof *t);
	int i;

	t->ncol = ncol;
	t->right = lmp_xcalloc((size_t)ncol, 1);
	if (head) {
		t->head = lmp_xcalloc((size_t)ncol, sizeof *t->head);
		for (i = 0; i < ncol; i++)
			t->head[i] = clean_dup(head[i]);
	}
	for (i = 0; right && i < ncol && right[i]; i++)
		t->right[i] = right[i] == 'r';
	return t;
}

void
lmp_table_add(lmp_table *t, const char *const *cells)
{
	int i;

	if (t->nrow == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cell = lmp_xrealloc(t->cell, (size_t)t->cap * (size_t)t->ncol * sizeof *t->cell);
	}
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = clean_dup(cells[i] ? cells[i] : "");
	t->nrow++;
}

void
lmp_table_free(lmp_table *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	for (i = 0; t->head && i < t->ncol; i++)
		free(t->head[i]);
	free(t->head);
	free(t->right);
	free(t->cell);
	free(t);
}

static lmp_block *
add_block(lmp_report *r, int kind)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->b = lmp_xrealloc(r->b, (size_t)r->cap * sizeof *r->b);
	}
	memset(&r->b[r->n], 0, sizeof r->b[r->n]);
	r->b[r->n].kind = kind;
	return &r->b[r->n++];
}

void
lmp_report_head(lmp_report *r, int level, const char *fmt, ...)
{
	lmp_block *b = add_block(r, LMP_BLOCK_HEAD);
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	lmp_utf8_clip(tmp);
	b->level = level;
	b->text = clean_dup(tmp);
}

void
lmp_report_table(lmp_report *r, lmp_table *t)
{
	add_block(r, LMP_BLOCK_TABLE)->t = t;
}

lmp_table *
lmp_report_list(lmp_report *r)
{
	lmp_block *b = add_block(r, LMP_BLOCK_LIST);

	b->t = lmp_table_new(2, NULL, NULL);
	return b->t;
}

void
lmp_report_item(lmp_table *list, const char *key, const char *fmt, ...)
{
	char value[1024];
	const char *cells[2] = {key, value};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	lmp_utf8_clip(value);
	lmp_table_add(list, cells);
}

void
lmp_report_move_last(lmp_report *r, int at)
{
	lmp_block b;

	if (at < 0 || at >= r->n - 1)
		return;
	b = r->b[r->n - 1];
	memmove(&r->b[at + 1], &r->b[at], (size_t)(r->n - 1 - at) * sizeof *r->b);
	r->b[at] = b;
}

void
lmp_report_chart(lmp_report *r, int at, const char *svg)
{
	add_block(r, LMP_BLOCK_CHART)->text = lmp_xstrdup(svg);
	lmp_report_move_last(r, at);
}

void
lmp_report_free(lmp_report *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->b[i].text);
		lmp_table_free(r->b[i].t);
	}
	free(r->b);
	memset(r, 0, sizeof *r);
}

/* Display width of UTF-8 text: one column per character. */
static int
width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void
pad(lmp_buf *b, int n)
{
	while (n-- > 0)
		lmp_buf_putc(b, ' ');
}

static void
text_cell(lmp_buf *b, const char *s, int w, int right, int last)
{
	int n = w - width(s);

	if (right)
		pad(b, n);
	lmp_buf_puts(b, s);
	if (!right && !last)
		pad(b, n);
}

/* The end of a line, without the padding of an empty last cell. */
static void
end_line(lmp_buf *b)
{
	while (b->len && b->s[b->len - 1] == ' ')
		b->s[--b->len] = '\0';
	lmp_buf_putc(b, '\n');
}

static void
text_table(const lmp_table *t, lmp_buf *b)
{
	int *w = lmp_xcalloc((size_t)t->ncol, sizeof *w), i, j;

	for (j = 0; j < t->ncol; j++) {
		w[j] = t->head ? width(t->head[j]) : 0;
		for (i = 0; i < t->nrow; i++) {
			int cw = width(t->cell[i * t->ncol + j]);
			w[j] = cw > w[j] ? cw : w[j];
		}
	}
	if (t->head) {
		for (j = 0; j < t->ncol; j++) {
			if (j)
				lmp_buf_puts(b, "  ");
			text_cell(b, t->head[j], w[j], t->right[j], j == t->ncol - 1);
		}
		end_line(b);
		for (j = 0; j < t->ncol; j++) {
			if (j)
				lmp_buf_puts(b, "  ");
			for (i = 0; i < w[j]; i++)
				lmp_buf_putc(b, '-');
		}
		end_line(b);
	}
	for (i = 0; i < t->nrow; i++) {
		if (!t->head)
			lmp_buf_puts(b, "  "); /* a list, indented under its heading */
		for (j = 0; j < t->ncol; j++) {
			if (j)
				lmp_buf_puts(b, "  ");
			text_cell(b, t->cell[i * t->ncol + j], w[j], t->right[j], j == t->ncol - 1);
		}
		end_line(b);
	}
	free(w);
}

static void
md_escape(lmp_buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("|\\*_`<>[]", *s))
			lmp_buf_putc(b, '\\');
		lmp_buf_putc(b, *s);
	}
}

static void
md_table(const lmp_table *t, lmp_buf *b)
{
	int i, j;

	if (!t->head) {
		for (i = 0; i < t->nrow; i++) {
			lmp_buf_puts(b, "- ");
			md_escape(b, t->cell[i * 2]);
			lmp_buf_puts(b, ": ");
			md_escape(b, t->cell[i * 2 + 1]);
			lmp_buf_putc(b, '\n');
		}
		return;
	}
	lmp_buf_putc(b, '|');
	for (j = 0; j < t->ncol; j++) {
		lmp_buf_putc(b, ' ');
		md_escape(b, t->head[j]);
		lmp_buf_puts(b, " |");
	}
	lmp_buf_puts(b, "\n|");
	for (j = 0; j < t->ncol; j++)
		lmp_buf_puts(b, t->right[j] ? " ---: |" : " --- |");
	lmp_buf_putc(b, '\n');
	for (i = 0; i < t->nrow; i++) {
		lmp_buf_putc(b, '|');
		for (j = 0; j < t->ncol; j++) {
			lmp_buf_putc(b, ' ');
			md_escape(b, t->cell[i * t->ncol + j]);
			lmp_buf_puts(b, " |");
		}
		lmp_buf_putc(b, '\n');
	}
}

/* Bytes in the UTF-8 character at s, 0 when it is cut short (text cut to
 * a fixed size elsewhere) or not UTF-8. */
static int
utf8_char(const unsigned char *s)
{
	int n = *s < 0x80 ? 1 : *s >= 0xF0 && *s <= 0xF4 ? 4 : *s >= 0xE0 ? 3 : *s >= 0xC2 ? 2 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

void
lmp_html_escape(lmp_buf *b, const char *s)
{
	for (; *s; s++) {
		int n = utf8_char((const unsigned char *)s);
		if (n > 1) {
			lmp_buf_add(b, s, (size_t)n);
			s += n - 1;
			continue;
		}
		if (!n || ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7f) {
			lmp_buf_putc(b, '?'); /* not allowed in XML 1.0 */
			continue;
		}
		switch (*s) {
		case '&': lmp_buf_puts(b, "&amp;"); break;
		case '<': lmp_buf_puts(b, "&lt;"); break;
		case '>': lmp_buf_puts(b, "&gt;"); break;
		case '"': lmp_buf_puts(b, "&quot;"); break;
		default: lmp_buf_putc(b, *s);
		}
	}
}

static void
html_table(const lmp_table *t, lmp_buf *b)
{
	int i, j;

	if (!t->head) {
		lmp_buf_puts(b, "<dl>\n");
		for (i = 0; i < t->nrow; i++) {
			lmp_buf_puts(b, "<dt>");
			lmp_html_escape(b, t->cell[i * 2]);
			lmp_buf_puts(b, "</dt><dd>");
			lmp_html_escape(b, t->cell[i * 2 + 1]);
			lmp_buf_puts(b, "</dd>\n");
		}
		lmp_buf_puts(b, "</dl>\n");
		return;
	}
	/* a wide table scrolls in its own box, not the page */
	lmp_buf_puts(b, "<div class=\"scroll\">\n<table>\n<thead><tr>");
	for (j = 0; j < t->ncol; j++) {
		lmp_buf_puts(b, t->right[j] ? "<th class=\"r\">" : "<th>");
		lmp_html_escape(b, t->head[j]);
		lmp_buf_puts(b, "</th>");
	}
	lmp_buf_puts(b, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < t->nrow; i++) {
		if (t->nrow > LMP_HTML_ROWS && i == LMP_HTML_ROWS / 2) {
			/* a page of a large sweep stays small: its first and last
			 * rows, and where the others are */
			char a[LMP_UNIT_MAX], z[LMP_UNIT_MAX], all[LMP_UNIT_MAX], num[32];
			snprintf(num, sizeof num, "%d", i + 1);
			lmp_fmt_grouped(num, a);
			snprintf(num, sizeof num, "%d", t->nrow - LMP_HTML_ROWS / 2);
			lmp_fmt_grouped(num, z);
			snprintf(num, sizeof num, "%d", t->nrow);
			lmp_fmt_grouped(num, all);
			lmp_buf_printf(b, "<tr><td class=\"gap\" colspan=\"%d\">rows %s to %s of %s not shown: "
				"lmp-report --format csv writes every row</td></tr>\n", t->ncol, a, z, all);
			i = t->nrow - LMP_HTML_ROWS / 2 - 1;
			continue;
		}
		lmp_buf_puts(b, "<tr>");
		for (j = 0; j < t->ncol; j++) {
			lmp_buf_puts(b, t->right[j] ? "<td class=\"r\">" : "<td>");
			lmp_html_escape(b, t->cell[i * t->ncol + j]);
			lmp_buf_puts(b, "</td>");
		}
		lmp_buf_puts(b, "</tr>\n");
	}
	lmp_buf_puts(b, "</tbody>\n</table>\n</div>\n");
}

static void
write_head(const lmp_block *k, int format, int first, lmp_buf *b)
{
	int i, w = width(k->text);

	switch (format) {
	case LMP_FMT_TEXT:
		if (!first)
			lmp_buf_putc(b, '\n');
		lmp_buf_puts(b, k->text);
		lmp_buf_putc(b, '\n');
		for (i = 0; i < w; i++)
			lmp_buf_putc(b, k->level == 1 ? '=' : '-');
		lmp_buf_putc(b, '\n');
		break;
	case LMP_FMT_MD:
		if (!first)
			lmp_buf_putc(b, '\n');
		lmp_buf_puts(b, k->level == 1 ? "## " : "### ");
		md_escape(b, k->text);
		lmp_buf_puts(b, "\n\n");
		break;
	default:
		lmp_buf_puts(b, k->level == 1 ? "<h2>" : "<h3>");
		lmp_html_escape(b, k->text);
		lmp_buf_puts(b, k->level == 1 ? "</h2>\n" : "</h3>\n");
	}
}

void
lmp_report_write(const lmp_report *r, int format, lmp_buf *b)
{
	int i;

	for (i = 0; i < r->n; i++) {
		const lmp_block *k = &r->b[i];
		int after_head = i > 0 && r->b[i - 1].kind == LMP_BLOCK_HEAD;

		if (k->kind == LMP_BLOCK_HEAD) {
			write_head(k, format, i == 0, b);
			continue;
		}
		if (format == LMP_FMT_HTML) {
			if (k->kind == LMP_BLOCK_CHART) {
				lmp_buf_puts(b, "<figure>\n");
				lmp_buf_puts(b, k->text);
				lmp_buf_puts(b, "</figure>\n");
			} else {
				html_table(k->t, b);
			}
			continue;
		}
		if (k->kind == LMP_BLOCK_CHART)
			continue; /* charts are for SVG and HTML */
		/* text and markdown: a blank line between blocks */
		if (i > 0 && (format == LMP_FMT_TEXT ? !after_head : 1) && !(format == LMP_FMT_MD && after_head))
			lmp_buf_putc(b, '\n');
		if (format == LMP_FMT_TEXT)
			text_table(k->t, b);
		else
			md_table(k->t, b);
	}
}
