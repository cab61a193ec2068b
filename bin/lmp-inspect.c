/* lmp-inspect: a model's config to its architecture tree. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-inspect [--revision REV] [--strict] [--pretty] MODEL\n"
	"       lmp-inspect --list\n"
	"       lmp-inspect --help | --version\n"
	"MODEL: a config.json, a directory holding one, or a hub id org/name[@revision]\n"
	"--strict: a config field the template does not use is an error, not a warning\n";

/* The config's fields that neither the template nor the inert list
 * (config-inert.json) knows: a warning, or under --strict an error. */
static int
unused_fields(const cJSON *doc, int strict, lmp_err *e)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
	const cJSON *un = cJSON_GetObjectItemCaseSensitive(model, "config_unused"), *f;
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(model, "model_type");
	int n = cJSON_GetArraySize(un);
	lmp_buf b = {0};

	if (n == 0)
		return 0;
	cJSON_ArrayForEach(f, un)
		lmp_buf_printf(&b, strict ? "%s\"%s\"" : "%s%s", f == un->child ? "" : ", ", f->valuestring);
	if (strict) {
		lmp_fail(e, LMP_EXIT_INPUT, n == 1 ? "config field %s is not understood by the %s template (it may change the architecture)"
						   : "config fields %s are not understood by the %s template (they may change the architecture)",
			b.s, mt->valuestring);
		lmp_buf_free(&b);
		return -1;
	}
	fprintf(stderr, "lmp-inspect: warning: %d config field%s not used: %s\n", n, n == 1 ? "" : "s", b.s);
	lmp_buf_free(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"revision", required_argument, 0, 'r'},
		{"pretty", no_argument, 0, 'p'},
		{"strict", no_argument, 0, 's'},
		{"list", no_argument, 0, 'l'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *revision = NULL;
	int pretty = 0, strict = 0, c;
	lmp_err e = {0};
	cJSON *doc;
	char msg[256], *s;

	lmp_start("lmp-inspect");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'r': revision = optarg; break;
		case 'p': pretty = 1; break;
		case 's': strict = 1; break;
		case 'l': s = lmp_data_names("archs"); puts(s); free(s); return lmp_close_stdout();
		case 'h': fputs(usage_text, stdout); return lmp_close_stdout();
		case 'V': puts("lmp-inspect " LMP_VERSION); return lmp_close_stdout();
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind != 1)
		lmp_usage_error("one MODEL");
	if (!(doc = lmp_inspect(argv[optind], revision, &e)))
		lmp_die(&e);
	if (unused_fields(doc, strict, &e))
		lmp_die(&e);
	s = lmp_json_print(doc, pretty);
	puts(s);
	free(s);
	cJSON_Delete(doc);
	return lmp_close_stdout();
}
