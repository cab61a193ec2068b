/* jtree.c: the tree of a document lmp_json_canonical took, made from its
 * text without cJSON's parser.
 *
 * cJSON's parser spends most of a streaming report's time: a malloc for
 * every node, key and number's text, and strtod for every number.  Text
 * lmp_json_canonical took needs none of its checks (every string ASCII
 * with the printer's escapes, every number checked, no key repeated), and
 * it said how many values the text holds.  So the nodes go in one block,
 * an array, and the keys, strings and numbers' text after them (a value's
 * text is never longer unescaped, and each gets a NUL): the block is
 * reused from one document to the next, one allocation for a stream.
 * A number keeps its text in valuestring, as lmp's reader keeps it; its
 * double is worked out as cJSON works it out (strtod) only where asked:
 * the CSV report reads text alone (lmp_field_text), the tables doubles. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "lmp.h"

struct tree {
	const char *end;
	cJSON *node;  /* the next free node */
	char *str;    /* the next free byte of text */
	cJSON **nums; /* where the number nodes go, in the text's order, or NULL */
	int doubles;  /* numbers' doubles worked out */
};

void
lmp_json_number_node(cJSON *n, char *text, int doubles)
{
	const char *p = text + (*text == '-');
	int64_t v = 0;
	int k;

	n->type = cJSON_Number;
	n->valuestring = text;
	if (!doubles) {
		n->valuedouble = NAN;
		n->valueint = 0;
		return;
	}
	/* as cJSON reads one: strtod's double, the int saturated; a whole
	 * number of up to 15 digits converts exactly, without strtod */
	for (k = 0; k < 16 && p[k] >= '0' && p[k] <= '9'; k++)
		v = v * 10 + (p[k] - '0');
	if (k < 16 && !p[k])
		n->valuedouble = *text == '-' ? -(double)v : (double)v;
	else
		n->valuedouble = strtod(text, NULL);
	n->valueint = n->valuedouble >= INT_MAX ? INT_MAX : n->valuedouble <= (double)INT_MIN ? INT_MIN :
		(int)n->valuedouble;
}

/* A string's value (p at its opening quote) copied and unescaped, p past it. */
static char *
string(struct tree *t, const char **pp)
{
	const char *p = *pp + 1;
	char *s = t->str, *o = s;

	for (;;) {
		size_t run = lmp_json_plain_run(p, t->end);
		lmp_copy_short(o, p, run);
		o += run;
		p += run;
		if (*p == '"')
			break;
		switch (*++p) { /* after a backslash: one of the printer's escapes */
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		default: *o++ = *p; /* '"' or '\\' */
		}
		p++;
	}
	*o++ = '\0';
	t->str = o;
	*pp = p + 1;
	return s;
}

static cJSON *
value(struct tree *t, const char **pp)
{
	const char *p = *pp, *q;
	cJSON *n = t->node++, *last = NULL, *c;
	size_t len;

	memset(n, 0, sizeof *n);
	switch (*p) {
	case '{':
	case '[':
		n->type = *p == '{' ? cJSON_Object : cJSON_Array;
		p++;
		if (*p == '}' || *p == ']') {
			p++;
			break;
		}
		for (;;) {
			char *key = NULL;
			if (n->type == cJSON_Object) {
				key = string(t, &p);
				p++; /* ':' */
			}
			c = value(t, &p);
			c->string = key;
			if (last) {
				last->next = c;
				c->prev = last;
			} else {
				n->child = c;
			}
			last = c;
			if (*p++ != ',')
				break; /* past the closing bracket */
		}
		n->child->prev = last; /* as cJSON links a list: the first's prev is the last */
		break;
	case '"':
		n->type = cJSON_String;
		n->valuestring = string(t, &p);
		break;
	case 't': n->type = cJSON_True; p += 4; break;
	case 'f': n->type = cJSON_False; p += 5; break;
	case 'n': n->type = cJSON_NULL; p += 4; break;
	default:
		q = lmp_jscan_token(p, t->end);
		len = (size_t)(q - p);
		lmp_copy_short(t->str, p, len);
		t->str[len] = '\0';
		lmp_json_number_node(n, t->str, t->doubles);
		t->str += len + 1;
		if (t->nums)
			*t->nums++ = n;
		p = q;
	}
	*pp = p;
	return n;
}

const cJSON *
lmp_json_text_tree(const char *text, size_t len, size_t nodes, lmp_buf *mem, cJSON **nums, int doubles)
{
	/* the nodes, then their text: each key, string or number no longer
	 * than in the document, and a NUL each (at most two a node) */
	size_t need = nodes * sizeof(cJSON) + len + 2 * nodes;
	struct tree t;
	const char *p = text;

	mem->len = 0;
	lmp_buf_grow(mem, need);
	t.end = text + len;
	t.node = (cJSON *)(void *)mem->s;
	t.str = mem->s + nodes * sizeof(cJSON);
	t.nums = nums;
	t.doubles = doubles;
	return value(&t, &p);
}
