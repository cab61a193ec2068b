/* test_jcanon: lmp_json_canonical, which lets a filter copy a document's
 * text in place of reading it into a tree and printing it.  Each case
 * gives the length it must take (worked out by counting the bytes of the
 * case by hand) or 0 where the tree must read it; a case taken is also
 * read as a tree and printed, and must come back as itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"
#include "tap.h"

static void
case_(const char *text, size_t len, size_t want, const char *what)
{
	size_t nodes = 0, got = lmp_json_canonical(text, len, &nodes);
	char msg[64];

	snprintf(msg, sizeof msg, "%zu (want %zu)", got, want);
	if (got != want || !got) {
		ok(got == want, what, msg);
		return;
	}
	/* taken: cJSON's tree prints as the text, and so does the text's
	 * own tree (lmp_json_text_tree) */
	{
		lmp_err e = {0};
		lmp_buf b = {0}, t = {0}, mem = {0};
		cJSON *doc = lmp_json_parse_one(text, got, "<test>", &e);
		if (doc)
			lmp_json_print_buf(doc, 0, &b);
		lmp_json_print_buf(lmp_json_text_tree(text, got, nodes, &mem, NULL, 0), 0, &t);
		ok(doc && b.len == got && !memcmp(b.s, text, got) && t.len == got && !memcmp(t.s, text, got), what,
			!doc ? e.msg : b.len != got || memcmp(b.s, text, got) ? b.s : t.s);
		cJSON_Delete(doc);
		lmp_buf_free(&b);
		lmp_buf_free(&t);
		lmp_buf_free(&mem);
	}
}

/* The text's tree as a reader of text sees it: the members' keys and
 * strings unescaped, numbers' text, lists linked both ways. */
static void
test_text_tree(void)
{
	static const char doc[] = "{\"a\\\"b\":\"x\\ny\\\\\",\"n\":[1.50,-2e-3,{}],\"t\":true,\"z\":null}";
	size_t nodes = 0, n = lmp_json_canonical(doc, sizeof doc - 1, &nodes);
	lmp_buf mem = {0};
	const cJSON *t, *c, *l;

	/* nodes: the object, "x\ny\\", the array, 1.50, -2e-3, {}, true, null */
	ok(n == sizeof doc - 1 && nodes == 8, "the text taken, its 8 values counted", NULL);
	t = lmp_json_text_tree(doc, n, nodes, &mem, NULL, 0);
	c = t->child;
	ok(cJSON_IsObject(t) && !strcmp(c->string, "a\"b") && cJSON_IsString(c) && !strcmp(c->valuestring, "x\ny\\"),
		"a key and a string unescaped", c->valuestring);
	c = c->next;
	l = c->child;
	ok(!strcmp(c->string, "n") && cJSON_IsArray(c) && cJSON_IsNumber(l) && !strcmp(l->valuestring, "1.50") &&
		!strcmp(l->next->valuestring, "-2e-3") && isnan(l->valuedouble) && cJSON_IsObject(l->next->next) &&
		!l->next->next->child && l->prev == l->next->next && !l->next->next->next,
		"numbers keep their text (no double), the list linked as cJSON links it", l->valuestring);
	ok(cJSON_IsTrue(c->next) && cJSON_IsNull(c->next->next) && !c->next->next->next && t->child->prev == c->next->next,
		"the literals, the last member", NULL);
	lmp_buf_free(&mem);
	/* numbers with their doubles, as cJSON sets them: strtod's double
	 * (a whole number of up to 15 digits converted exactly, 2^53 + 1 by
	 * strtod to the even 2^53), the int saturated */
	{
		static const char nums[] = "[1.50,-2e-3,123456789012345,-0,9007199254740993,2147483648,-2147483649,7]";
		static const double want[] = {1.5, -0.002, 123456789012345.0, -0.0, 9007199254740992.0, 2147483648.0,
			-2147483649.0, 7};
		static const int wint[] = {1, 0, 2147483647, 0, 2147483647, 2147483647, -2147483647 - 1, 7};
		size_t k = 0, nn = 0;
		int good = lmp_json_canonical(nums, sizeof nums - 1, &nn) == sizeof nums - 1;
		const cJSON *a = lmp_json_text_tree(nums, sizeof nums - 1, nn, &mem, NULL, 1), *x;
		cJSON_ArrayForEach(x, a) {
			good &= k < 8 && !memcmp(&x->valuedouble, &want[k], sizeof want[k]) && x->valueint == wint[k];
			k++;
		}
		ok(good && k == 8, "numbers' doubles and ints as cJSON's", NULL);
		lmp_buf_free(&mem);
	}
}

#define C(text, want, what) case_(text, sizeof text - 1, want, what)

/* An array of n zeros: the reader counts its values as json.c's
 * too_large does, 1 + its bracket + its n - 1 commas = n + 1. */
static char *
zeros(size_t n)
{
	char *s = lmp_xmalloc(2 * n + 2);

	s[0] = '[';
	for (size_t i = 0; i < n; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	s[2 * n + 1] = '\0';
	return s;
}

/* A stream's skeleton with longer numbers past the reader's size limit:
 * an array of n zeros (2n + 1 bytes), then the same shape with 40-digit
 * numbers, 41n + 1 bytes, just past LMP_JSON_MAX_BYTES; a whole scan
 * declines it, and so must the skeleton's check (the reader refuses it). */
static void
stream_limit(void)
{
	size_t n = (size_t)LMP_JSON_MAX_BYTES / 41 + 1, len = 41 * n + 1;
	char *z = zeros(n), *big = lmp_xmalloc(len + 1);
	lmp_jstream *js = lmp_jstream_new(0);

	big[0] = '[';
	for (size_t i = 0; i < n; i++) {
		memcpy(big + 1 + 41 * i, "1234567890123456789012345678901234567890", 40);
		big[41 * (i + 1)] = i + 1 < n ? ',' : ']';
	}
	big[len] = '\0';
	ok(lmp_jstream_take(js, z, strlen(z)) == strlen(z), "a stream's skeleton of zeros", NULL);
	ok(len > (size_t)LMP_JSON_MAX_BYTES + 1 && lmp_jstream_take(js, big, len) == 0 &&
		lmp_json_canonical(big, len, NULL) == 0, "its shape past the size limit is declined", NULL);
	lmp_jstream_free(js);
	free(z);
	free(big);
}

/* A stream's trees: made from the text where the skeleton's tree was
 * never asked for, then the skeleton's with the numbers replaced, and made
 * afresh when the skeleton changes (a string differs). */
static void
stream_trees(void)
{
	static const char *const docs[] = {
		"{\"a\":1,\"b\":[2.5,\"x\"]}", "{\"a\":10,\"b\":[2,\"x\"]}", "{\"a\":-3,\"b\":[1e-05,\"x\"]}",
		"{\"a\":-3,\"b\":[1e-05,\"y\"]}", "{\"a\":4,\"b\":[5,\"y\"]}",
	};
	static const int ask[] = {0, 1, 1, 1, 1};
	lmp_jstream *js = lmp_jstream_new(0);
	lmp_buf b = {0};

	for (int i = 0; i < 5; i++) {
		size_t n = strlen(docs[i]);
		int taken = lmp_jstream_take(js, docs[i], n) == n;
		if (!ask[i]) {
			ok(taken, docs[i], "not taken");
			continue;
		}
		b.len = 0;
		lmp_json_print_buf(lmp_jstream_tree(js), 0, &b);
		ok(taken && b.len == n && !memcmp(b.s, docs[i], n), docs[i], b.s);
	}
	lmp_jstream_free(js);
	lmp_buf_free(&b);
}

/* An object of n keys "k0".."k(n-1)", or n arrays nested. */
static char *
wide(int n)
{
	lmp_buf b = {0};

	lmp_buf_putc(&b, '{');
	for (int i = 0; i < n; i++)
		lmp_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	lmp_buf_putc(&b, '}');
	return b.s;
}

static char *
deep(int n)
{
	lmp_buf b = {0};

	for (int i = 0; i < n; i++)
		lmp_buf_putc(&b, '[');
	for (int i = 0; i < n; i++)
		lmp_buf_putc(&b, ']');
	return b.s;
}

int
main(void)
{
	char *s;

	lmp_start("test_jcanon");
	/* taken: the length of the first document */
	C("{\"a\":1}", 7, "an object of one number");
	C("{\"a\":1}\n{\"b\":2}\n", 7, "the first document of a stream, without its newline");
	C("[]", 2, "an empty array");
	C("{}", 2, "an empty object");
	C("{\"a\":[1,2],\"b\":{\"c\":[]},\"d\":[{}]}", 33, "nested objects and arrays");
	C("[true,false,null]", 17, "the literals");
	C("[1.0,-0,0.25,1e-05,1E+2,-3.5e7]", 31, "numbers as written: 1.0, -0, exponents");
	C("[\"x\\\"y\\\\z\\n\\r\\t\\b\\f\"]", 21, "the printer's own escapes");
	C("[\"a\x7f\"]", 6, "DEL, which the printer writes as it is");
	C("[\"1234567890123456789012345678901234567890\",1234567890123456789012345678901234567890]", 85,
		"a 40-digit number (past 2^127 is no matter: its text passes)");
	C("[1e99]", 6, "an exponent of two digits");
	C("{\"k\":1,\"kk\":2,\"kl\":3}", 21, "keys sharing first bytes are not repeats");
	s = wide(64);
	case_(s, strlen(s), strlen(s), "an object of 64 keys");
	free(s);
	s = deep(64);
	case_(s, strlen(s), 128, "arrays 64 deep");
	free(s);

	/* declined: the tree reads these (and prints them otherwise, or refuses them) */
	C("{\"a\":1,\"a\":2}", 0, "a repeated key (the reader refuses it)");
	C("{\"a\":{\"b\":1,\"b\":1}}", 0, "a repeated key in a nested object");
	C("{ \"a\":1}", 0, "a space (printed without)");
	C("{\"a\": 1}", 0, "a space after the colon");
	case_("{\"a\":1}", 6, 0, "cut short");
	C("[1,]", 0, "a trailing comma");
	C("{\"a\"}", 0, "a key without a value");
	C("[01]", 0, "a leading zero (cJSON takes it, lmp refuses it)");
	C("[1.]", 0, "a point without digits");
	C("[.5]", 0, "no digit before the point");
	C("[+1]", 0, "a plus sign");
	C("[-]", 0, "a sign alone");
	C("[1e]", 0, "an exponent without digits");
	C("[1e400]", 0, "an exponent past a double (the reader refuses it)");
	C("[12345678901234567890123456789012345678901]", 0, "a number of 41 digits");
	C("[\"\\u0041\"]", 0, "a \\u escape (printed as the letter)");
	C("[\"\\u0000\"]", 0, "an escaped NUL (the reader refuses it)");
	C("[\"\\/\"]", 0, "an escaped slash (printed bare)");
	C("[\"a\tb\"]", 0, "a raw tab in a string (printed as \\t)");
	C("[\"\xc3\xa9\"]", 0, "text past ASCII (left to the reader's UTF-8 check)");
	C("[\"\xff\"]", 0, "invalid UTF-8");
	C("[tru]", 0, "a literal cut short");
	C("[True]", 0, "a literal in capitals");
	C("\"x\"", 0, "a string alone");
	C("1", 0, "a number alone");
	C(" {}", 0, "whitespace before");
	C("", 0, "nothing");
	C("[1}", 0, "brackets that do not match");
	C("{\"a\":1]", 0, "an object closed as an array");
	s = zeros(LMP_JSON_MAX_VALUES - 1);
	ok(lmp_json_canonical(s, strlen(s), NULL) == strlen(s), "as many values as the reader takes", NULL);
	free(s);
	s = zeros(LMP_JSON_MAX_VALUES);
	ok(lmp_json_canonical(s, strlen(s), NULL) == 0, "one value more (the reader refuses it)", NULL);
	free(s);
	stream_limit();
	stream_trees();
	s = wide(65);
	case_(s, strlen(s), 0, "an object of 65 keys (the tree sorts them)");
	free(s);
	s = deep(65);
	case_(s, strlen(s), 0, "arrays 65 deep");
	free(s);
	/* the golden documents (lmp-roofline's, one line each): all but the newline */
	{
		static const char *const golden[] = {"test/golden/llama2-7b-prefill-h100.json",
			"test/golden/qwen3-30b-a3b-generate-a100.json"};
		for (int i = 0; i < 2; i++) {
			lmp_buf b = {0};
			lmp_err e = {0};
			if (lmp_read_file(golden[i], &b, &e)) {
				ok(0, golden[i], e.msg);
				continue;
			}
			case_(b.s, b.len, b.len - 1, golden[i]);
			lmp_buf_free(&b);
		}
	}
	test_text_tree();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
