/* rangefetch.c: a checkpoint on the hub read as safetensors.c reads one on
 * disk, from its headers alone: model.safetensors.index.json (whole: it is
 * the map of the shards), else model.safetensors; of each shard two HTTP
 * range requests, bytes 0-7 (the header's length N, little-endian) then
 * 8..8+N-1 (the JSON), which go to the same parser as a file's.  A length
 * over LMP_ST_HEADER_MAX is refused before its bytes are asked for, and
 * download.c cuts off a server that sends more than asked, so a checkpoint
 * of any size costs a few kilobytes to megabytes. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct remote {
	lmp_hub_conn *h;
	const char *repo, *rev;
	uint64_t fetched;
};

/* One shard's header; *absent for a shard the hub does not have. */
static cJSON *
fetch_header(struct remote *r, const char *file, int *absent, lmp_err *e)
{
	lmp_buf b = {0};
	uint64_t size, n = 0;
	char name[1024];
	int rc;
	cJSON *h = NULL;

	*absent = 0;
	snprintf(name, sizeof name, "%s@%s:%s", r->repo, r->rev, file);
	rc = lmp_hub_get(r->h, file, 0, 8, 0, &b, &size, e);
	r->fetched += b.len;
	if (rc == 1) {
		*absent = 1;
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not on the hub (HTTP 404)", name);
	}
	if (rc)
		goto out;
	for (int i = 7; b.len == 8 && i >= 0; i--)
		n = n << 8 | (unsigned char)b.s[i];
	/* The parser says why a length is refused (over the limit, past the
	 * end of the file) or a file too short; ask for nothing more then. */
	if (b.len == 8 && n <= LMP_ST_HEADER_MAX && size >= 8 && n <= size - 8 && n > 0) {
		size_t had = b.len;
		rc = lmp_hub_get(r->h, file, 8, n, 0, &b, &size, e);
		r->fetched += b.len - had;
		if (rc == 1)
			lmp_fail(e, LMP_EXIT_INPUT, "%s: gone from the hub between two requests (HTTP 404)", name);
		if (rc)
			goto out;
	}
	h = lmp_st_parse_header((const unsigned char *)(b.s ? b.s : ""), b.len, size, name, e);
out:
	lmp_buf_free(&b);
	return h;
}

/* A shard the index names, which becomes part of a URL: a plain file name. */
static cJSON *
read_remote(void *ctx, const char *shard, lmp_err *e)
{
	struct remote *r = ctx;
	int absent;

	if (strspn(shard, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(shard)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:model.safetensors.index.json: shard '%.200s' is not a plain file name",
			r->repo, r->rev, shard);
		return NULL;
	}
	return fetch_header(r, shard, &absent, e);
}

cJSON *
lmp_st_fetch_checkpoint(const char *repo, const char *rev, uint64_t *fetched, lmp_err *e)
{
	struct remote r = {.repo = repo, .rev = rev};
	cJSON *all = cJSON_CreateObject(), *ix, *h;
	lmp_buf b = {0};
	uint64_t size;
	char name[1024];
	int rc, absent;

	*fetched = 0;
	if (!(r.h = lmp_hub_connect(repo, rev, e))) {
		cJSON_Delete(all);
		return NULL;
	}
	snprintf(name, sizeof name, "%s@%s:model.safetensors.index.json", repo, rev);
	/* An index is JSON like a header, and bounded the same way. */
	rc = lmp_hub_get(r.h, "model.safetensors.index.json", 0, 0, LMP_ST_HEADER_MAX, &b, &size, e);
	r.fetched += b.len;
	if (rc == 0) {
		if (!(ix = lmp_json_parse_one(b.s ? b.s : "", b.len, name, e)))
			rc = -1;
		else
			rc = lmp_st_add_index(all, ix, name, read_remote, &r, e);
		cJSON_Delete(ix);
	} else if (rc == 1) {
		if (!(h = fetch_header(&r, "model.safetensors", &absent, e)))
			rc = absent ? lmp_fail(e, LMP_EXIT_INPUT, "no safetensors checkpoint on the hub for %s@%s "
				"(neither model.safetensors.index.json nor model.safetensors)", repo, rev) : -1;
		else {
			lmp_st_add_header(all, h, "model.safetensors");
			rc = 0;
		}
	}
	lmp_buf_free(&b);
	lmp_hub_disconnect(r.h);
	*fetched = r.fetched;
	if (rc) {
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}
