/* test_fields: --fields' projection of document text (fields.c), on text
 * that a scanner can get wrong: braces and quotes inside strings, escapes,
 * arrays of objects, whitespace, empty objects, a path through a value
 * that is no object, and text that is not one object. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

/* project DOC by SPEC and compare with WANT (NULL: must fail) */
static void
case_(const char *spec, const char *doc, const char *want, const char *what)
{
	lmp_err e = {0};
	lmp_buf out = {0};
	lmp_fields *f = lmp_fields_new(spec, &e);
	int rc;

	if (!f) {
		ok(0, what, e.msg);
		return;
	}
	lmp_buf_puts(&out, "");
	rc = lmp_fields_project(f, doc, strlen(doc), &out, &e);
	if (!want)
		ok(rc != 0 && out.len == 0, what, out.s);
	else
		ok(rc == 0 && strcmp(out.s, want) == 0, what, rc ? e.msg : out.s);
	lmp_fields_free(f);
	lmp_buf_free(&out);
}

int
main(void)
{
	lmp_err e = {0};
	lmp_fields *f;

	case_("a.b", "{\"a\":{\"b\":1,\"c\":2},\"d\":3}", "{\"a\":{\"b\":1}}", "one nested member");
	case_("d,a.c", "{\"a\":{\"b\":1,\"c\":2},\"d\":3}", "{\"a\":{\"c\":2},\"d\":3}", "document order, not the paths'");
	case_("a", "{\"x\":\"}{\\\"]\",\"a\":[{\"b\":\"{\"},[1,2]]}", "{\"a\":[{\"b\":\"{\"},[1,2]]}",
		"braces, brackets and escaped quotes inside strings are skipped");
	case_("k", "{\"s\":\"\\\\\",\"k\":true}", "{\"k\":true}", "an escaped backslash ends no string early");
	case_("a.b,a", "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1,\"c\":2}}", "a shorter path keeps the whole member");
	case_("a,a.b", "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1,\"c\":2}}", "in either order");
	case_("a.b.c", "{\"a\":{\"b\":5}}", "{}", "a path through a number: left out");
	case_("a.x", "{\"a\":{\"b\":5}}", "{}", "an object none of whose named members is there: left out");
	case_("b,c", " { \"a\" : 1 ,\n \"b\" : [ 1 , 2 ] , \"c\" : -1.5e-07 }\n", "{\"b\":[ 1 , 2 ],\"c\":-1.5e-07}",
		"whitespace between members, values copied as written");
	case_("e", "{\"e\":{}}", "{\"e\":{}}", "an empty object kept whole");
	case_("e.f", "{\"e\":{}}", "{}", "nothing under an empty object");
	case_("a", "{\"a\":1", NULL, "an unterminated object fails");
	case_("a", "{\"a\":\"x}", NULL, "an unterminated string fails");
	case_("a", "[1]", NULL, "an array is no document");
	case_("a", "{\"a\":1} {\"a\":2}", NULL, "two documents are not one");
	case_("a", "{\"a\" 1}", NULL, "a member without a colon fails");

	/* a long value left out is compared with the last document's there:
	 * the same text, a longer object and a longer number each step right */
	f = lmp_fields_new("k", &e);
	{
		static const char *const docs[][2] = {
			{"{\"m\":{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"k\":1}", "{\"k\":1}"},
			{"{\"m\":{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"k\":2}", "{\"k\":2}"},
			{"{\"m\":{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"y\":\"}\"},\"k\":3}", "{\"k\":3}"},
			{"{\"m\":12345678901234567890123456789012345678,\"k\":4}", "{\"k\":4}"},
			{"{\"m\":123456789012345678901234567890123456789,\"k\":5}", "{\"k\":5}"},
		};
		int good = 1;
		lmp_buf out = {0};
		for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
			out.len = 0;
			lmp_buf_puts(&out, "");
			good &= !lmp_fields_project(f, docs[i][0], strlen(docs[i][0]), &out, &e) && !strcmp(out.s, docs[i][1]);
		}
		ok(good, "a value left out like the last document's, or longer, is stepped over right", out.s);
		lmp_buf_free(&out);
	}
	lmp_fields_free(f);

	f = lmp_fields_new("a.b,c", &e);
	ok(f && !strcmp(lmp_fields_unseen(f), "a.b"), "no document yet: every path unseen", f ? lmp_fields_unseen(f) : e.msg);
	{
		lmp_buf out = {0};
		const char *d = "{\"a\":{\"b\":1}}";
		lmp_fields_project(f, d, strlen(d), &out, &e);
		ok(!strcmp(lmp_fields_unseen(f), "c"), "a.b seen, c not", lmp_fields_unseen(f));
		lmp_buf_free(&out);
	}
	lmp_fields_free(f);
	/* a writer's view: "a.b,c,d.e.f" names a.b, the whole of c, d.e.f */
	f = lmp_fields_new("a.b,c,d.e.f", &e);
	{
		const lmp_fields_node *top = lmp_fields_top(f), *a = top, *c = top, *d = NULL, *de = NULL, *x = top;
		int got = lmp_fields_sub(top, "a", 1, &a) && a != NULL && lmp_fields_sub(a, "b", 1, &x) && x == NULL &&
			!lmp_fields_sub(a, "z", 1, NULL) && lmp_fields_sub(top, "c", 1, &c) && c == NULL &&
			lmp_fields_sub(top, "d", 1, &d) && d && lmp_fields_sub(d, "e", 1, &de) && de &&
			!lmp_fields_sub(de, "g", 1, NULL) && !lmp_fields_sub(top, "b", 1, NULL) &&
			!lmp_fields_sub(top, "ab", 2, NULL);
		ok(got, "lmp_fields_sub: named members, whole ones (NULL) and the rest", "");
		/* under a whole member (NULL) and with no --fields: everything */
		ok(lmp_fields_sub(NULL, "anything", 8, &x) && x == NULL && lmp_fields_top(NULL) == NULL,
			"NULL: every member named", "");
	}
	lmp_fields_free(f);
	ok(!lmp_fields_new("a..b", &e) && strstr(e.msg, "not a path"), "an empty key is refused", e.msg);
	ok(!lmp_fields_new("", &e) && strstr(e.msg, "no path"), "no path is refused", e.msg);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
