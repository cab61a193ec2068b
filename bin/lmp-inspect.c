/* lmp-inspect: a model's config to its architecture tree. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-inspect [--revision REV] [--arch FILE] [--strict] [--check-weights] [--pretty] MODEL\n"
	"       lmp-inspect --list\n"
	"       lmp-inspect --help | --version\n"
	"MODEL: a config.json, a directory holding one, or a hub id org/name[@revision]\n"
	"--strict: a config field the template does not use, or a model_type with no template, is an error\n"
	"--check-weights: record the safetensors headers beside the config as model.checkpoint\n"
	"                 (a hub id's checkpoint not on disk: its headers by HTTP range requests)\n";

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"revision", required_argument, 0, 'r'},
		{"arch", required_argument, 0, 'a'},
		{"pretty", no_argument, 0, 'p'},
		{"strict", no_argument, 0, 's'},
		{"check-weights", no_argument, 0, 'w'},
		{"list", no_argument, 0, 'l'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *revision = NULL, *arch = NULL;
	int pretty = 0, strict = 0, weights = 0, c;
	lmp_err e = {0};
	lmp_buf warn = {0};
	cJSON *doc;
	char msg[256], *s;

	lmp_start("lmp-inspect");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'r': revision = optarg; break;
		case 'a': arch = optarg; break;
		case 'p': pretty = 1; break;
		case 's': strict = 1; break;
		case 'w': weights = 1; break;
		case 'l': s = lmp_arch_list(); fputs(s, stdout); free(s); return lmp_close_stdout();
		case 'h': fputs(usage_text, stdout); return lmp_close_stdout();
		case 'V': puts("lmp-inspect " LMP_VERSION); return lmp_close_stdout();
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind != 1)
		lmp_usage_error("one MODEL");
	if (!(doc = lmp_inspect(argv[optind], revision, arch, &e)))
		lmp_die(&e);
	if (cJSON_GetObjectItemCaseSensitive(doc, "unresolved")) {
		const char *mt = cJSON_GetObjectItemCaseSensitive(doc, "unresolved")->child->valuestring;
		/* --strict: no document without a template, as no unused field;
		 * the loader's own error lists the supported types */
		if (strict && !lmp_arch_load(mt, NULL, &e))
			lmp_die(&e);
		fprintf(stderr, "lmp-inspect: note: model_type \"%s\" has no template: an unresolved document "
			"(lmp-ensure resolves it)\n", mt);
	}
	if (weights && lmp_weights_record(doc, &e))
		lmp_die(&e);
	if (lmp_config_unused(doc, strict, &warn, &e))
		lmp_die(&e);
	if (warn.len)
		fprintf(stderr, "lmp-inspect: %s\n", warn.s);
	lmp_buf_free(&warn);
	s = lmp_json_print(doc, pretty);
	puts(s);
	free(s);
	cJSON_Delete(doc);
	return lmp_close_stdout();
}
