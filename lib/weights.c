/* weights.c: lmp-inspect --check-weights.  The safetensors headers beside
 * the config that was read (its directory: a model directory or a cache
 * snapshot) become the document's model.checkpoint, a compact inventory
 * (safetensors.c).  Only the headers are read, so a checkpoint of any size
 * costs a few reads; the comparison with the model's parameters belongs to
 * the tool that binds them.  A quantized checkpoint's packed tensors are
 * mapped back to the parameters they stand for (quantmap.c). */
#include <string.h>

#include "lmp.h"

int
lmp_weights_record(cJSON *doc, lmp_err *e)
{
	cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model"), *t, *inv;
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(model, "source");
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(model, "config_file");
	char dir[4096];
	const char *slash;

	if (!cJSON_IsString(src) || !cJSON_IsString(cf))
		return lmp_fail(e, LMP_EXIT_INPUT, "--check-weights: the document names no config file");
	if (strcmp(src->valuestring, "file") && strcmp(src->valuestring, "hf-cache"))
		return lmp_fail(e, LMP_EXIT_INPUT, "--check-weights: a %s config has no checkpoint beside it",
			src->valuestring);
	slash = strrchr(cf->valuestring, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - cf->valuestring) : 1, slash ? cf->valuestring : ".");
	if (!(t = lmp_st_read_checkpoint(dir, e)))
		return lmp_prefix(e, "--check-weights: ");
	inv = lmp_st_inventory(t);
	if (lmp_quantmap(cJSON_GetObjectItemCaseSensitive(doc, "config"), t, inv, e)) {
		cJSON_Delete(t);
		cJSON_Delete(inv);
		return lmp_prefix(e, "--check-weights: ");
	}
	cJSON_Delete(t);
	cJSON_AddStringToObject(inv, "directory", dir);
	cJSON_AddItemToObject(model, "checkpoint", inv);
	return 0;
}
