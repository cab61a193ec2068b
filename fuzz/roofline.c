/* Fuzz target: lmp-roofline's two readings of an eval document.  The input
 * is one document's text; where lmp_evaltext_point takes it and
 * lmp_roofline_point times it (lmp-roofline's text path), the document it
 * writes must be the one lmp_roofline writes of the parsed tree, byte for
 * byte, and the tree must not be refused: else the target aborts.  The
 * device is the H100 SXM under the shipped calibration, as lmp-roofline
 * --hardware nvidia-h100-sxm has it. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static lmp_roofargs args;
static lmp_roofdirect *direct;
static lmp_evaltext *xt;

static void
setup(void)
{
	lmp_err e = {0};
	int i;

	setenv("LMP_DATADIR", FUZZ_ROOT "/share/lmp", 1);
	unsetenv("LMP_CALIBRATION");
	lmp_roofargs_init(&args);
	for (i = 0; lmp_roofopts[i].name && strcmp(lmp_roofopts[i].name, "hardware"); i++)
		;
	if (lmp_roofargs_set(&args, i, "nvidia-h100-sxm", &e) || lmp_roofargs_load(&args, &e))
		abort();
	direct = lmp_roofdirect_new(&args.r);
	xt = lmp_evaltext_new();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	lmp_evalpt pt;
	lmp_err e = {0};
	lmp_buf tree = {0};
	lmp_buf *text;
	size_t used;
	cJSON *doc;

	if (!xt)
		setup();
	if (!(used = lmp_evaltext_point(xt, (const char *)data, size, &pt)) ||
	    lmp_roofline_point(direct, &pt, lmp_evaltext_doc(xt), 0, &e))
		return 0;
	/* the text path took the document that starts the input: the tree's */
	text = lmp_evaltext_doc(xt);
	e = (lmp_err){0};
	if (!(doc = lmp_json_parse_one((const char *)data, used, "<fuzz>", &e)) || lmp_roofline(doc, &args.r, &e))
		abort(); /* refused as a tree, taken as text */
	lmp_json_print_buf(doc, 0, &tree);
	lmp_buf_putc(&tree, '\n');
	if (tree.len != text->len || memcmp(tree.s, text->s, tree.len))
		abort(); /* the two readings write different documents */
	cJSON_Delete(doc);
	lmp_buf_free(&tree);
	return 0;
}
