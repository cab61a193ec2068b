/* hfcache.c: the HuggingFace cache as huggingface_hub lays it out
 * (models--org--name/{blobs,snapshots,refs}), and the checks and digest both
 * its reader (hub.c) and its writer (download.c) need.  It calls neither. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "lmp.h"

void
lmp_sha256_hex(const char *data, size_t len, char out[65])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	static const char hex[] = "0123456789abcdef";

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)data);
	sha256_digest(&ctx, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

const char *
lmp_hf_cache(char *buf, size_t n)
{
	const char *c = getenv("HF_HUB_CACHE"), *h = getenv("HF_HOME"), *home = getenv("HOME");

	if (c && *c)
		snprintf(buf, n, "%s", c);
	else if (h && *h)
		snprintf(buf, n, "%s/hub", h);
	else
		snprintf(buf, n, "%s/.cache/huggingface/hub", home && *home ? home : ".");
	return buf;
}

const char *
lmp_hf_repo_dir(const char *repo, char *buf, size_t n)
{
	char base[2048];
	const char *slash = strchr(repo, '/');
	int org = slash ? (int)(slash - repo) : (int)strlen(repo);

	snprintf(buf, n, "%s/models--%.*s--%s", lmp_hf_cache(base, sizeof base), org, repo, slash ? slash + 1 : "");
	return buf;
}

int
lmp_is_commit(const char *rev)
{
	size_t n = strlen(rev);

	if (n != 40)
		return 0;
	for (; *rev; rev++)
		if (!isxdigit((unsigned char)*rev) || isupper((unsigned char)*rev))
			return 0;
	return 1;
}
