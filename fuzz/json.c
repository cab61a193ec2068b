/* Fuzz target: the JSON reader, from a buffer (lmp_json_next, as stdin is
 * read) and from a file (lmp_json_read, as lmp-roofline and lmp-report
 * stream), each document printed back through the number formatter. */
#include <stdio.h>
#include <stdlib.h>

#include "lmp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
consume(cJSON *doc)
{
	free(lmp_json_print(doc, doc->type == cJSON_Object ? 1 : 0));
	cJSON_Delete(doc);
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
	return 0;
}
