/* download.c: a config.json from the HuggingFace hub, with libcurl, stored
 * in the cache layout huggingface_hub uses (blobs/, snapshots/COMMIT/,
 * refs/REV) so that transformers finds it too.  Nothing partial is ever left
 * in the cache: the blob is written atomically and linked only when whole.
 * Also the pieces of a repository's files that --check-weights asks for
 * (rangefetch.c), under the same rules, never stored. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "lmp.h"

/* libcurl is loaded when a download is needed, not when lmp-inspect starts:
 * linked, it and its dozens of libraries cost every run about 5 ms, most
 * runs read a cached or shipped config, and pipeline.sh runs lmp-inspect
 * every time (git keeps its https transport out of its main binary for the
 * same reason). */
static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

static int
load_curl(lmp_err *e)
{
	void *h;

	if (cu.easy_init)
		return 0;
	if (!(h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "downloading needs libcurl (Debian: libcurl4): %s", dlerror());
	/* POSIX: a dlsym result converts to a function pointer through memcpy. */
#define SYM(f, name) do { void *p = dlsym(h, name); if (!p) return lmp_fail(e, LMP_EXIT_SYSTEM, \
	"libcurl.so.4 lacks %s", name); memcpy(&cu.f, &p, sizeof p); } while (0)
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(easy_init, "curl_easy_init");
#undef SYM
	return 0;
}

#define MAX_CONFIG (16 << 20)
#define MAX_TIMEOUT 3600

struct sink {
	lmp_buf body;
	char commit[64];
	int too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;

	if (s->body.len + size * n > MAX_CONFIG) {
		s->too_big = 1;
		return 0;
	}
	lmp_buf_add(&s->body, p, size * n);
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n, k = strlen("x-repo-commit:");

	/* Each response of a redirect chain starts with its status line: only
	 * the final response's header counts. */
	if (len >= 5 && !strncmp(p, "HTTP/", 5))
		s->commit[0] = '\0';
	if (len > k && !strncasecmp(p, "x-repo-commit:", k)) {
		const char *v = p + k;
		size_t m;
		while (*v == ' ')
			v++;
		for (m = 0; m < 63 && v + m < p + len && v[m] != '\r' && v[m] != '\n'; m++)
			;
		memcpy(s->commit, v, m);
		s->commit[m] = '\0';
	}
	return len;
}

static void
token(char *out, size_t n)
{
	const char *t = getenv("HF_TOKEN"), *path = getenv("HF_TOKEN_PATH"), *home = getenv("HF_HOME");
	char p[4096];
	lmp_buf b = {0};
	lmp_err ignore;

	out[0] = '\0';
	if (t && *t) {
		snprintf(out, n, "%s", t);
		return;
	}
	if (path && *path)
		snprintf(p, sizeof p, "%s", path);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/token", home);
	else
		snprintf(p, sizeof p, "%s/.cache/huggingface/token", getenv("HOME") ? getenv("HOME") : ".");
	if (lmp_read_file(p, &b, &ignore))
		return;
	snprintf(out, n, "%.*s", (int)strcspn(b.s, "\r\n"), b.s);
	lmp_buf_free(&b);
}

static int
mkdirs(const char *path)
{
	char tmp[4096], *p;

	snprintf(tmp, sizeof tmp, "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* What lmp-inspect and transformers' AutoConfig need of a config.json: an
 * object naming its model_type (a multimodal one names it at the top too). */
static int
is_config(const cJSON *doc)
{
	return cJSON_IsObject(doc) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "model_type"));
}

/* Store body as the snapshot's config.json: blob, then the link, then the ref. */
static int
store(const char *repo, const char *rev, const char *commit, const lmp_buf *body, lmp_located *out, lmp_err *e)
{
	char dir[3072], blob[3300], snap[3300], link[3400], tmp[3500], ref[3400], sha[65];

	lmp_hf_repo_dir(repo, dir, sizeof dir);
	lmp_sha256_hex(body->s, body->len, sha);
	snprintf(blob, sizeof blob, "%s/blobs/%s", dir, sha);
	snprintf(snap, sizeof snap, "%s/snapshots/%s", dir, commit);
	snprintf(link, sizeof link, "%s/config.json", snap);
	/* The blob first; the snapshot only once the blob is whole. */
	if ((snprintf(tmp, sizeof tmp, "%s/blobs", dir), mkdirs(tmp)))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", dir, strerror(errno));
	if (lmp_write_atomic(blob, body->s, body->len, e))
		return -1;
	if (mkdirs(snap))
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", snap, strerror(errno));
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", link, (long)getpid());
	unlink(tmp);
	char target[128];
	snprintf(target, sizeof target, "../../blobs/%s", sha);
	if (symlink(target, tmp) || rename(tmp, link)) {
		unlink(tmp);
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", link, strerror(errno));
	}
	if (strcmp(rev, commit)) {
		snprintf(tmp, sizeof tmp, "%s/refs", dir);
		snprintf(ref, sizeof ref, "%s/refs/%s", dir, rev);
		char *slash = strrchr(ref, '/');
		*slash = '\0';
		if (mkdirs(ref))
			return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", ref, strerror(errno));
		*slash = '/';
		if (lmp_write_atomic(ref, commit, strlen(commit), e))
			return -1;
	}
	snprintf(out->path, sizeof out->path, "%s", link);
	snprintf(out->commit, sizeof out->commit, "%s", commit);
	return 0;
}

/* The endpoint and the whole-transfer timeout every request to the hub
 * obeys; a timeout that is not one is refused, never replaced by the
 * default. */
static int
settings(const char **endpoint, long *timeout, lmp_err *e)
{
	const char *to = getenv("LMP_HTTP_TIMEOUT");
	int64_t t;

	*endpoint = getenv("HF_ENDPOINT");
	if (!*endpoint || !**endpoint)
		*endpoint = "https://huggingface.co";
	*timeout = 30;
	if (to && *to) {
		if (lmp_parse_i64(to, 1, MAX_TIMEOUT, &t))
			return lmp_fail(e, LMP_EXIT_USAGE, "LMP_HTTP_TIMEOUT='%.40s': not a number of seconds in [1, %d]",
				to, MAX_TIMEOUT);
		*timeout = (long)t;
	}
	return 0;
}

/* libcurl loaded and one handle with the options every request shares: the
 * token, redirects (never from https down to http), the timeouts. */
static CURL *
open_handle(const char *endpoint, long timeout, char *tok, size_t ntok, struct curl_slist **hdr, lmp_err *e)
{
	char auth[1200];
	CURL *c;

	if (load_curl(e))
		return NULL;
	cu.global_init(CURL_GLOBAL_DEFAULT);
	if (!(c = cu.easy_init())) {
		cu.global_cleanup();
		lmp_fail(e, LMP_EXIT_SYSTEM, "cannot start libcurl");
		return NULL;
	}
	*hdr = NULL;
	token(tok, ntok);
	if (*tok) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
		*hdr = cu.slist_append(*hdr, auth);
	}
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, *hdr);
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	/* An https hub is never followed down to plain http (libcurl 7.85 and
	 * later know these options: an older one must not silently allow all). */
#if LIBCURL_VERSION_NUM >= 0x075500
	if (cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, strncmp(endpoint, "https:", 6) ? "http,https" : "https") !=
		    CURLE_OK) {
#else /* built against older headers (Ubuntu 22.04's 7.81): the bit-mask options, known since 7.19.4 */
	if (cu.easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
	    cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
		    strncmp(endpoint, "https:", 6) ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long)CURLPROTO_HTTPS) != CURLE_OK) {
#endif
		cu.slist_free_all(*hdr);
		cu.easy_cleanup(c);
		cu.global_cleanup();
		lmp_fail(e, LMP_EXIT_SYSTEM, "libcurl is older than 7.85: it cannot restrict redirects to https");
		return NULL;
	}
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	cu.easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	cu.easy_setopt(c, CURLOPT_USERAGENT, "lmp/" LMP_VERSION);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

static void
close_handle(CURL *c, struct curl_slist *hdr)
{
	cu.slist_free_all(hdr);
	cu.easy_cleanup(c);
	cu.global_cleanup();
}

int
lmp_hub_download(const char *repo, const char *rev, lmp_located *out, lmp_err *e)
{
	const char *endpoint;
	char url[4096], tok[1024];
	struct sink s = {0};
	struct curl_slist *hdr = NULL;
	long code = 0, timeout;
	CURL *c;
	CURLcode res;
	cJSON *doc;
	int rc = -1;

	if (settings(&endpoint, &timeout, e))
		return -1;
	snprintf(url, sizeof url, "%s/%s/resolve/%s/config.json", endpoint, repo, rev);
	if (!(c = open_handle(endpoint, timeout, tok, sizeof tok, &hdr, e)))
		return -1;
	cu.easy_setopt(c, CURLOPT_URL, url);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(c, CURLOPT_HEADERDATA, &s);
	res = cu.easy_perform(c);
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OPERATION_TIMEDOUT)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: no answer from %s within %ld s", repo, endpoint, timeout);
	else if (res == CURLE_PARTIAL_FILE)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: the download of config.json was cut short", repo);
	else if (s.too_big)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: config.json is larger than %d bytes", repo, MAX_CONFIG);
	else if (res != CURLE_OK)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: download from %s failed: %s", repo, endpoint, cu.easy_strerror(res));
	else if (code == 401 || code == 403)
		lmp_fail(e, LMP_EXIT_INPUT, "%s is gated or private (HTTP %ld): accept its license on the hub and set HF_TOKEN%s",
			repo, code, *tok ? " (the token given was refused)" : "");
	else if (code == 404)
		lmp_fail(e, LMP_EXIT_INPUT, "%s@%s: no config.json on %s (HTTP 404)", repo, rev, endpoint);
	else if (code != 200)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: HTTP %ld from %s", repo, code, endpoint);
	else if (!(doc = lmp_json_parse_one(s.body.s ? s.body.s : "", s.body.len, "downloaded config.json", e)))
		lmp_prefix(e, "%s: ", repo);
	else if (!is_config(doc)) {
		/* Checked before it is stored: a cached answer would fail every later run. */
		cJSON_Delete(doc);
		lmp_fail(e, LMP_EXIT_INPUT, "%s: the config.json from %s is not a model config "
			"(a JSON object with a \"model_type\"): nothing stored", repo, endpoint);
	} else {
		cJSON_Delete(doc);
		/* The commit names a directory: 40 lowercase hex digits, nothing else. */
		if (!*s.commit && lmp_is_commit(rev))
			snprintf(s.commit, sizeof s.commit, "%s", rev);
		if (!*s.commit)
			lmp_fail(e, LMP_EXIT_INPUT, "%s: the hub sent no X-Repo-Commit for %s", repo, rev);
		else if (!lmp_is_commit(s.commit))
			lmp_fail(e, LMP_EXIT_INPUT, "%s: the hub sent an X-Repo-Commit that is not a commit id", repo);
		else
			rc = store(repo, rev, s.commit, &s.body, out, e);
	}
	close_handle(c, hdr);
	lmp_buf_free(&s.body);
	return rc;
}

/* ---- a repository's files read in pieces (--check-weights) ----
 * One handle for every request, so that the connection is reused.  Nothing
 * is stored in the cache: a byte range is not a file of the repository. */
struct lmp_hub_conn {
	CURL *c;
	struct curl_slist *hdr;
	const char *endpoint;
	char repo[256], rev[256], tok[1024];
	long timeout;
};

struct piece {
	lmp_buf *out;
	uint64_t want;   /* bytes asked for (a range) or the most taken (a whole file) */
	size_t base;     /* out's length before this request: bytes are appended */
	uint64_t size;   /* the file's size from Content-Range, else UINT64_MAX */
	uint64_t first;  /* the first byte Content-Range says was sent */
	long status;     /* of the response being received */
	uint64_t from;   /* the first byte asked for */
	int ranged, ignored, over, elsewhere;
};

static size_t
on_piece_header(char *p, size_t size, size_t n, void *ctx)
{
	struct piece *s = ctx;
	size_t len = size * n, k = strlen("content-range:");
	char line[256];
	unsigned long long a, b, total;

	snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), p);
	/* Each response of a redirect chain starts with its status line. */
	if (!strncmp(line, "HTTP/", 5)) {
		s->status = 0;
		s->size = UINT64_MAX;
		s->first = UINT64_MAX;
		sscanf(line, "%*s %ld", &s->status);
	} else if (!strncasecmp(line, "content-range:", k) &&
		   sscanf(line + k, " bytes %llu-%llu/%llu", &a, &b, &total) >= 2) {
		s->first = a;
		if (sscanf(line + k, " bytes %llu-%llu/%llu", &a, &b, &total) == 3)
			s->size = total;
	}
	return len;
}

/* The body of the final response; a range answered with the whole file
 * (200) is cut at its first byte, and no answer may send more than was
 * asked: a checkpoint's data is never downloaded by mistake. */
static size_t
on_piece(char *p, size_t size, size_t n, void *ctx)
{
	struct piece *s = ctx;
	size_t len = size * n;

	if (s->status < 200 || s->status > 299)
		return len; /* an error page: not kept */
	if (s->ranged && s->status != 206) {
		s->ignored = 1;
		return 0;
	}
	if (s->ranged && s->first != s->from) {
		s->elsewhere = 1;
		return 0;
	}
	if (s->out->len - s->base + len > s->want) {
		s->over = 1;
		return 0;
	}
	lmp_buf_add(s->out, p, len);
	return len;
}

lmp_hub_conn *
lmp_hub_connect(const char *repo, const char *rev, lmp_err *e)
{
	lmp_hub_conn *h = calloc(1, sizeof *h);

	if (!h) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	snprintf(h->repo, sizeof h->repo, "%s", repo);
	snprintf(h->rev, sizeof h->rev, "%s", rev);
	if (settings(&h->endpoint, &h->timeout, e) ||
	    !(h->c = open_handle(h->endpoint, h->timeout, h->tok, sizeof h->tok, &h->hdr, e))) {
		free(h);
		return NULL;
	}
	return h;
}

void
lmp_hub_disconnect(lmp_hub_conn *h)
{
	if (!h)
		return;
	close_handle(h->c, h->hdr);
	free(h);
}

int
lmp_hub_get(lmp_hub_conn *h, const char *file, uint64_t from, uint64_t n, uint64_t max, lmp_buf *out,
	uint64_t *size, lmp_err *e)
{
	struct piece s = {.out = out, .want = n ? n : max, .base = out->len, .size = UINT64_MAX, .from = from,
		.ranged = n != 0};
	char url[4096], range[64];
	long code = 0;
	CURLcode res;

	snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", h->endpoint, h->repo, h->rev, file);
	snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)from, (unsigned long long)(from + n - 1));
	cu.easy_setopt(h->c, CURLOPT_URL, url);
	cu.easy_setopt(h->c, CURLOPT_RANGE, n ? range : NULL);
	cu.easy_setopt(h->c, CURLOPT_WRITEFUNCTION, on_piece);
	cu.easy_setopt(h->c, CURLOPT_WRITEDATA, &s);
	cu.easy_setopt(h->c, CURLOPT_HEADERFUNCTION, on_piece_header);
	cu.easy_setopt(h->c, CURLOPT_HEADERDATA, &s);
	res = cu.easy_perform(h->c);
	cu.easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &code);
	*size = s.size;
	if (s.ignored)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: %s ignored the byte range %s (HTTP %ld, the whole file): "
			"transfer stopped", h->repo, h->rev, file, h->endpoint, range, code);
	if (s.elsewhere)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: %s answered the byte range %s with other bytes "
			"(its Content-Range does not start at %llu)", h->repo, h->rev, file, h->endpoint, range,
			(unsigned long long)from);
	if (s.over && n)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: %s sent more than the %llu bytes asked for (%s): "
			"transfer stopped", h->repo, h->rev, file, h->endpoint, (unsigned long long)n, range);
	if (s.over)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s is larger than %llu bytes: transfer stopped", h->repo, h->rev,
			file, (unsigned long long)max);
	if (res == CURLE_OPERATION_TIMEDOUT)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: no answer from %s within %ld s", h->repo, h->rev, file,
			h->endpoint, h->timeout);
	if (code == 401 || code == 403)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s is gated or private (HTTP %ld): accept its license on the hub and set HF_TOKEN%s",
			h->repo, code, *h->tok ? " (the token given was refused)" : "");
	if (code == 404 && res == CURLE_OK)
		return 1;
	if (code == 416)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: the file ends before byte %llu (HTTP 416)", h->repo, h->rev,
			file, (unsigned long long)from);
	if (res == CURLE_PARTIAL_FILE)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: the transfer was cut short", h->repo, h->rev, file);
	if (res != CURLE_OK)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: download from %s failed: %s", h->repo, h->rev, file,
			h->endpoint, cu.easy_strerror(res));
	if (code != (n ? 206 : 200))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s@%s:%s: HTTP %ld from %s", h->repo, h->rev, file, code, h->endpoint);
	if (!n)
		*size = out->len - s.base;
	return 0;
}
