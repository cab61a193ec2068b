/* hub.c: where a model's config comes from.
 *   a path: a config.json, or a directory holding one;
 *   a hub id org/name[@revision]: the HuggingFace cache as huggingface_hub
 *   lays it out, then the configs shipped with lmp, then a download from the
 *   hub (stored in the cache, so that transformers finds it too). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmp.h"

static int
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* org/name with the characters the hub allows. */
static int
valid_repo(const char *s)
{
	int slash = 0;
	size_t n = 0;

	for (; *s; s++, n++) {
		if (*s == '/') {
			if (slash++ || n == 0)
				return 0;
		} else if (!isalnum((unsigned char)*s) && !strchr("._-", *s)) {
			return 0;
		}
	}
	return slash == 1 && s[-1] != '/' && n <= 200 && !strstr(s - n, "..");
}

static int
valid_rev(const char *s)
{
	if (!*s || strlen(s) > 200 || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-/", *s))
			return 0;
	return 1;
}

/* models--org--name/refs/REV -> snapshots/COMMIT/config.json */
static int
from_cache(const char *repo, const char *rev, char *path, size_t n, char *commit)
{
	char dir[3072], ref[3200];
	lmp_buf b = {0};
	lmp_err ignore;

	lmp_hf_repo_dir(repo, dir, sizeof dir);
	if (lmp_is_commit(rev)) {
		snprintf(commit, 41, "%s", rev);
	} else {
		snprintf(ref, sizeof ref, "%s/refs/%s", dir, rev);
		if (lmp_read_file(ref, &b, &ignore))
			return -1;
		snprintf(commit, 41, "%.40s", b.s);
		lmp_buf_free(&b);
		if (!lmp_is_commit(commit))
			return -1;
	}
	snprintf(path, n, "%s/snapshots/%s/config.json", dir, commit);
	return is_file(path) ? 0 : -1;
}

int
lmp_hub_offline(void)
{
	const char *v = getenv("HF_HUB_OFFLINE");

	return v && *v && strcmp(v, "0");
}

int
lmp_model_locate(const char *model, const char *revision, lmp_located *out, lmp_err *e)
{
	char rev[256] = "main", repo[256];
	const char *at;

	memset(out, 0, sizeof *out);
	/* A path first: anything that exists on disk. */
	if (is_file(model) || is_dir(model)) {
		if (is_dir(model))
			snprintf(out->path, sizeof out->path, "%s/config.json", model);
		else
			snprintf(out->path, sizeof out->path, "%s", model);
		if (!is_file(out->path))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: no config.json in that directory", model);
		snprintf(out->source, sizeof out->source, "file");
		snprintf(out->id, sizeof out->id, "%s", model);
		return 0;
	}
	at = strchr(model, '@');
	snprintf(repo, sizeof repo, "%.*s", at ? (int)(at - model) : (int)strlen(model), model);
	if (at)
		snprintf(rev, sizeof rev, "%s", at + 1);
	if (revision)
		snprintf(rev, sizeof rev, "%s", revision);
	if (!valid_repo(repo))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: no such file, and not a hub id org/name[@revision]", model);
	if (!valid_rev(rev))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: bad revision '%s'", model, rev);
	snprintf(out->id, sizeof out->id, "%s", repo);
	snprintf(out->revision, sizeof out->revision, "%s", rev);
	if (!from_cache(repo, rev, out->path, sizeof out->path, out->commit)) {
		snprintf(out->source, sizeof out->source, "hf-cache");
		return 0;
	}
	if (!strcmp(rev, "main")) {
		snprintf(out->path, sizeof out->path, "%s/configs/%s/config.json", lmp_datadir(), repo);
		if (is_file(out->path)) {
			snprintf(out->source, sizeof out->source, "shipped");
			return 0;
		}
	}
	if (lmp_hub_offline())
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s is neither in the HuggingFace cache nor shipped, and HF_HUB_OFFLINE forbids a download",
			repo, rev);
	if (lmp_hub_download(repo, rev, out, e))
		return -1;
	snprintf(out->source, sizeof out->source, "download");
	return 0;
}
