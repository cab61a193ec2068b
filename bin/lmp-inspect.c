/* lmp-inspect: a model's config to its architecture tree. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-inspect [--revision REV] [--pretty] MODEL\n"
	"       lmp-inspect --list\n"
	"       lmp-inspect --help | --version\n"
	"MODEL: a config.json, a directory holding one, or a hub id org/name[@revision]\n";



/* The model types with a template, space-separated; caller frees. */
static char *
supported(void)
{
	char dir[4096], **names = NULL;
	struct dirent *de;
	lmp_buf b = {0};
	DIR *d;
	int n = 0, i, j;

	snprintf(dir, sizeof dir, "%s/archs", lmp_datadir());
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			if (len > 5 && !strcmp(de->d_name + len - 5, ".json")) {
				names = lmp_xrealloc(names, sizeof *names * (size_t)(n + 1));
				names[n++] = lmp_xstrndup(de->d_name, len - 5);
			}
		}
		closedir(d);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (i = 0; i < n; i++) {
		lmp_buf_printf(&b, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	free(names);
	if (!b.s)
		lmp_buf_puts(&b, "none");
	return b.s;
}

static int
valid_type(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *s))
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"revision", required_argument, 0, 'r'},
		{"pretty", no_argument, 0, 'p'},
		{"list", no_argument, 0, 'l'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *revision = NULL;
	int pretty = 0, c;
	lmp_err e = {0};
	lmp_located loc;
	lmp_buf text = {0};
	cJSON *cfg, *tmpl, *model, *doc, *arch;
	const cJSON *mt, *archs, *tc;
	char path[4096], sha[65], msg[256], *s;
	const char *wrapper = NULL;

	lmp_start("lmp-inspect");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'r': revision = optarg; break;
		case 'p': pretty = 1; break;
		case 'l': s = supported(); puts(s); free(s); return 0;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': puts("lmp-inspect " LMP_VERSION); return 0;
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind != 1)
		lmp_usage_error("one MODEL");
	if (lmp_model_locate(argv[optind], revision, &loc, &e) || lmp_read_file(loc.path, &text, &e))
		lmp_die(&e);
	if (!(cfg = lmp_json_parse_one(text.s, text.len, loc.path, &e)))
		lmp_die(&e);
	lmp_sha256_hex(text.s, text.len, sha);
	if (!cJSON_IsObject(cfg)) {
		lmp_fail(&e, LMP_EXIT_INPUT, "%s: a config is a JSON object", loc.path);
		lmp_die(&e);
	}
	archs = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
	char *arch_name = cJSON_IsString(cJSON_GetArrayItem(archs, 0)) ? lmp_xstrdup(cJSON_GetArrayItem(archs, 0)->valuestring) : NULL;
	/* Multimodal: the text model inside is what lmp analyses. */
	tc = cJSON_GetObjectItemCaseSensitive(cfg, "text_config");
	if (cJSON_IsObject(tc)) {
		mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
		wrapper = cJSON_IsString(mt) ? mt->valuestring : "multimodal";
		cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(cfg, "text_config");
		wrapper = lmp_xstrdup(wrapper);
		cJSON_Delete(cfg);
		cfg = inner;
		/* The wrapper's architecture (LlavaForConditionalGeneration ...) is
		 * not the text model's: check the inner one, if the config has it. */
		free(arch_name);
		archs = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
		arch_name = cJSON_IsString(cJSON_GetArrayItem(archs, 0)) ? lmp_xstrdup(cJSON_GetArrayItem(archs, 0)->valuestring) : NULL;
	}
	mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
	if (!cJSON_IsString(mt) || !valid_type(mt->valuestring)) {
		s = supported();
		lmp_fail(&e, LMP_EXIT_INPUT, "%s: no usable model_type (supported: %s)", loc.path, s);
		free(s);
		lmp_die(&e);
	}
	snprintf(path, sizeof path, "%s/archs/%s.json", lmp_datadir(), mt->valuestring);
	if (!(tmpl = lmp_json_load_file(path, &e))) {
		s = supported();
		lmp_fail(&e, LMP_EXIT_INPUT, "model_type \"%s\" is not supported (supported: %s)", mt->valuestring, s);
		free(s);
		lmp_die(&e);
	}
	if (arch_name) {
		const cJSON *a;
		int ok = 0;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(tmpl, "architectures"))
			ok |= cJSON_IsString(a) && !strcmp(a->valuestring, arch_name);
		if (!ok) {
			char *list = lmp_json_print(cJSON_GetObjectItemCaseSensitive(tmpl, "architectures"), 0);
			lmp_fail(&e, LMP_EXIT_INPUT, "architecture %s is not supported by the %s template (supported: %s)",
				arch_name, mt->valuestring, list);
			free(list);
			lmp_die(&e);
		}
	}
	model = cJSON_CreateObject();
	cJSON_AddStringToObject(model, "id", loc.id);
	if (*loc.revision)
		cJSON_AddStringToObject(model, "revision", loc.revision);
	if (*loc.commit)
		cJSON_AddStringToObject(model, "commit", loc.commit);
	cJSON_AddStringToObject(model, "model_type", mt->valuestring);
	if (arch_name)
		cJSON_AddStringToObject(model, "architecture", arch_name);
	if (wrapper) {
		cJSON_AddStringToObject(model, "text_model_of", wrapper);
		cJSON_AddStringToObject(model, "note", "a multimodal model: its text model (text_config) is analysed");
	}
	cJSON_AddStringToObject(model, "source", loc.source);
	/* A shipped config is named relative to the data directory, so that
	 * documents made from it are the same on every machine. */
	if (!strcmp(loc.source, "shipped") && !strncmp(loc.path, lmp_datadir(), strlen(lmp_datadir())))
		cJSON_AddStringToObject(model, "config_file", loc.path + strlen(lmp_datadir()) + 1);
	else
		cJSON_AddStringToObject(model, "config_file", loc.path);
	cJSON_AddStringToObject(model, "config_sha256", sha);
	if (!(arch = lmp_arch_build(tmpl, cfg, model, &e)))
		lmp_die(&e);
	doc = arch;
	s = lmp_json_print(doc, pretty);
	puts(s);
	free(s);
	cJSON_Delete(doc);
	cJSON_Delete(cfg);
	cJSON_Delete(tmpl);
	lmp_buf_free(&text);
	free((char *)wrapper);
	free(arch_name);
	return lmp_close_stdout();
}
