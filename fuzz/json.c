/* Fuzz target: the JSON reader, from a buffer (lmp_json_next, as stdin is
 * read) and from a file (lmp_json_read, as lmp-roofline and lmp-report
 * stream), each document printed back through the number formatter; and
 * lmp_json_canonical against it: a text it takes must read without error
 * and print back as itself, byte for byte, and so must the tree
 * lmp_json_text_tree makes of it, and with doubles it must be cJSON's
 * node for node; and a stream of them read by lmp_jstream (a skeleton's
 * documents in their numbers alone) takes, prints and reads the same;
 * else the target aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
consume(cJSON *doc)
{
	free(lmp_json_print(doc, doc->type == cJSON_Object ? 1 : 0));
	cJSON_Delete(doc);
}

/* cJSON's tree and the text's, node for node: types, keys, strings, a
 * number's text, double (to the bit) and int. */
static int
same_tree(const cJSON *a, const cJSON *b)
{
	for (; a && b; a = a->next, b = b->next) {
		if (a->type != b->type || !a->string != !b->string || (a->string && strcmp(a->string, b->string)))
			return 0;
		if (cJSON_IsNumber(a) && (strcmp(a->valuestring, b->valuestring) || a->valueint != b->valueint ||
			memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble)))
			return 0;
		if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring))
			return 0;
		if (!same_tree(a->child, b->child))
			return 0;
	}
	return !a && !b;
}

/* Where lmp_json_canonical takes the text's first document, cJSON's tree
 * of it prints as that text, and so does the tree made from the text
 * (lmp_json_text_tree). */
static void
canonical(const unsigned char *data, size_t size)
{
	size_t nodes = 0, n = lmp_json_canonical((const char *)data, size, &nodes);
	lmp_err e = {0};
	lmp_buf b = {0}, mem = {0};
	cJSON *doc;

	if (!n)
		return;
	if (n > size || !(doc = lmp_json_parse_one((const char *)data, n, "<fuzz>", &e)))
		abort(); /* taken as it is, refused as a tree */
	lmp_json_print_buf(doc, 0, &b);
	if (b.len != n || memcmp(b.s, data, n))
		abort(); /* taken as it is, printed otherwise */
	b.len = 0;
	lmp_json_print_buf(lmp_json_text_tree((const char *)data, n, nodes, &mem, NULL, 0), 0, &b);
	if (b.len != n || memcmp(b.s, data, n))
		abort(); /* the text's tree is another */
	if (!same_tree(doc, lmp_json_text_tree((const char *)data, n, nodes, &mem, NULL, 1)))
		abort(); /* with doubles, not cJSON's tree node for node */
	cJSON_Delete(doc);
	lmp_buf_free(&b);
	lmp_buf_free(&mem);
}

/* The input as a stream of documents, as lmp-report reads one: each taken
 * by lmp_jstream_take exactly where lmp_json_canonical takes it, and its
 * tree (made afresh, or the skeleton's with its numbers) printing as its
 * text. */
static void
stream(const unsigned char *data, size_t size)
{
	lmp_jstream *js = lmp_jstream_new(0), *jd = lmp_jstream_new(1);
	lmp_buf b = {0};
	lmp_err e = {0};
	size_t at = 0, got;
	cJSON *doc;

	while (at < size) {
		got = lmp_jstream_take(js, (const char *)data + at, size - at);
		if (got != lmp_json_canonical((const char *)data + at, size - at, NULL) ||
		    got != lmp_jstream_take(jd, (const char *)data + at, size - at))
			abort(); /* the skeleton takes what a whole scan would not, or the reverse */
		if (!got)
			break;
		b.len = 0;
		lmp_json_print_buf(lmp_jstream_tree(js), 0, &b);
		if (b.len != got || memcmp(b.s, data + at, got))
			abort(); /* the stream's tree is another */
		/* with doubles: cJSON's tree, node for node */
		if (!(doc = lmp_json_parse_one((const char *)data + at, got, "<fuzz>", &e)) ||
		    !same_tree(doc, lmp_jstream_tree(jd)))
			abort();
		cJSON_Delete(doc);
		at += got;
		while (at < size && (data[at] == '\n' || data[at] == ' '))
			at++;
	}
	lmp_jstream_free(js);
	lmp_jstream_free(jd);
	lmp_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	lmp_json_stream s;
	lmp_json_reader r;
	lmp_err e = {0};
	cJSON *doc;
	FILE *f;

	lmp_json_stream_init(&s, (const char *)data, size, "<fuzz>");
	while ((doc = lmp_json_next(&s, &e)))
		consume(doc);
	/* fmemopen refuses an empty buffer; an empty stream is the buffer case. */
	if (size && (f = fmemopen((void *)data, size, "r"))) {
		lmp_json_reader_init(&r, f, "<fuzz>");
		while ((doc = lmp_json_read(&r, &e)))
			consume(doc);
		lmp_json_reader_free(&r);
		fclose(f);
	}
	lmp_json_check_text((const char *)data, size, "<fuzz>", &e);
	canonical(data, size);
	stream(data, size);
	return 0;
}
