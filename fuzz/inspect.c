/* Fuzz target: lmp-inspect's work on a config.  The input is a config.json;
 * its model_type picks a shipped template (share/lmp/archs), and the
 * architecture tree is built as lmp-inspect builds it (lmp_arch_build) and
 * printed. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Templates read once, by model_type. */
#define MAXT 64
static struct {
	char *type;
	cJSON *tmpl;
} cache[MAXT];
static int ncache;

static const cJSON *
template(const char *type)
{
	char path[4096];
	lmp_err e = {0};
	cJSON *t;
	int i;

	if (strlen(type) > 64 || strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(type))
		return NULL;
	for (i = 0; i < ncache; i++)
		if (!strcmp(cache[i].type, type))
			return cache[i].tmpl;
	snprintf(path, sizeof path, "%s/share/lmp/archs/%s.json", FUZZ_ROOT, type);
	t = lmp_json_load_file(path, &e);
	if (ncache < MAXT) {
		cache[ncache].type = lmp_xstrdup(type);
		cache[ncache++].tmpl = t; /* NULL too: no template, asked once */
	}
	return t;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	lmp_err e = {0};
	cJSON *cfg, *model, *arch, *tc;
	const cJSON *mt, *tmpl;

	if (!(cfg = lmp_json_parse_one((const char *)data, size, "<fuzz>", &e)))
		return 0;
	/* A multimodal config: its text model, as lmp-inspect takes it. */
	if (cJSON_IsObject(tc = cJSON_GetObjectItemCaseSensitive(cfg, "text_config"))) {
		tc = cJSON_DetachItemFromObjectCaseSensitive(cfg, "text_config");
		cJSON_Delete(cfg);
		cfg = tc;
	}
	mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
	if (!cJSON_IsObject(cfg) || !cJSON_IsString(mt) || !(tmpl = template(mt->valuestring))) {
		cJSON_Delete(cfg);
		return 0;
	}
	model = cJSON_CreateObject();
	cJSON_AddStringToObject(model, "id", "fuzz/model");
	cJSON_AddStringToObject(model, "model_type", mt->valuestring);
	cJSON_AddStringToObject(model, "source", "file");
	if ((arch = lmp_arch_build(tmpl, cfg, model, &e))) {
		free(lmp_json_print(arch, 0));
		cJSON_Delete(arch);
	}
	cJSON_Delete(cfg);
	return 0;
}
