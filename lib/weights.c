/* weights.c: lmp-inspect --check-weights.  The safetensors headers beside
 * the config that was read (its directory: a model directory or a cache
 * snapshot), or for a hub id without them on disk the headers fetched from
 * the hub (rangefetch.c), become the document's model.checkpoint, a compact
 * inventory (safetensors.c).  Only the headers are read, so a checkpoint of any size
 * costs a few reads; the comparison with the model's parameters belongs to
 * the tool that binds them.  A quantized checkpoint's packed tensors are
 * mapped back to the parameters they stand for (quantmap.c). */
#include <string.h>
#include <sys/stat.h>

#include "lmp.h"

static int
on_disk(const char *dir)
{
	char p[4096 + 64];
	struct stat st;

	snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
	if (stat(p, &st) == 0)
		return 1;
	snprintf(p, sizeof p, "%s/model.safetensors", dir);
	return stat(p, &st) == 0;
}

/* A hub id whose checkpoint is not on disk (a shipped or downloaded config,
 * a cache snapshot without the weights): the headers from the hub, at the
 * commit the config was read at when it is known (rangefetch.c). */
static int
record_remote(cJSON *model, lmp_err *e)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(model, "id");
	const cJSON *rev = cJSON_GetObjectItemCaseSensitive(model, "commit");
	char where[600];
	uint64_t fetched;
	cJSON *t, *inv;

	if (!cJSON_IsString(rev))
		rev = cJSON_GetObjectItemCaseSensitive(model, "revision");
	if (!cJSON_IsString(id) || !cJSON_IsString(rev))
		return lmp_fail(e, LMP_EXIT_INPUT, "--check-weights: the document names no hub id and revision");
	snprintf(where, sizeof where, "%s@%s", id->valuestring, rev->valuestring);
	if (lmp_hub_offline())
		return lmp_fail(e, LMP_EXIT_INPUT, "--check-weights: no checkpoint of %s on disk, and HF_HUB_OFFLINE "
			"forbids fetching its headers from the hub", where);
	if (!(t = lmp_st_fetch_checkpoint(id->valuestring, rev->valuestring, &fetched, e)))
		return lmp_prefix(e, "--check-weights: ");
	inv = lmp_st_inventory(t);
	cJSON_Delete(t);
	cJSON_AddStringToObject(inv, "hub", where);
	cJSON_AddNumberToObject(inv, "fetched_bytes", (double)fetched);
	cJSON_AddItemToObject(model, "checkpoint", inv);
	return 0;
}

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
	slash = strrchr(cf->valuestring, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - cf->valuestring) : 1, slash ? cf->valuestring : ".");
	if (strcmp(src->valuestring, "file") && !(strcmp(src->valuestring, "hf-cache") == 0 && on_disk(dir)))
		return record_remote(model, e);
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
