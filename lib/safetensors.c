/* safetensors.c: a checkpoint's tensors from its safetensors headers only
 * (8-byte little-endian length, then a JSON object; the data is never read),
 * for a file, a model.safetensors.index.json with its shards, or a model
 * directory (a HuggingFace cache snapshot is one).  The format is
 * huggingface/safetensors (README "Format"): each tensor is
 * {"dtype", "shape", "data_offsets": [begin, end]} relative to the byte
 * after the header; "__metadata__" is a string map. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lmp.h"

/* Bytes per element of the safetensors dtypes; 0 for a sub-byte or unknown
 * one (then the byte range is not checked against the shape). */
static int
dtype_bytes(const char *d)
{
	static const struct { const char *name; int bytes; } t[] = {
		{"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4}, {"U32", 4},
		{"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1},
		{"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(d, t[i].name) == 0)
			return t[i].bytes;
	return 0;
}

static int
whole(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return 0;
	*out = (uint64_t)v->valuedouble;
	return 1;
}

/* One tensor's entry checked against the data section's size. */
static int
check_tensor(const cJSON *t, uint64_t data, const char *name, lmp_err *e)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
	uint64_t n = 1, b, end, d;
	const cJSON *x;

	if (!cJSON_IsObject(t) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
	    cJSON_GetArraySize(off) != 2)
		return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: needs dtype, shape and data_offsets [begin, end]", t->string);
	cJSON_ArrayForEach(x, sh) {
		if (!whole(x, &d) || (d && n > UINT64_MAX / d))
			return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: shape is not a list of sizes", t->string);
		n *= d;
	}
	if (!whole(off->child, &b) || !whole(off->child->next, &end) || b > end || end > data)
		return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: data_offsets lie outside the %llu data bytes of %s",
			t->string, (unsigned long long)data, name);
	int w = dtype_bytes(dt->valuestring);
	if (w && (n > UINT64_MAX / (uint64_t)w || n * (uint64_t)w != end - b))
		return lmp_fail(e, LMP_EXIT_INPUT, "tensor %s: %llu bytes for %llu elements of %s", t->string,
			(unsigned long long)(end - b), (unsigned long long)n, dt->valuestring);
	return 0;
}

cJSON *
lmp_st_parse_header(const unsigned char *buf, size_t len, uint64_t file_size, const char *name, lmp_err *e)
{
	uint64_t n = 0;
	cJSON *h, *t;

	if (len < 8 || file_size < 8) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not a safetensors file (shorter than its 8-byte header length)", name);
		return NULL;
	}
	for (int i = 7; i >= 0; i--)
		n = n << 8 | buf[i];
	if (n > LMP_ST_HEADER_MAX) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: safetensors header of %llu bytes is over the %u-byte limit", name,
			(unsigned long long)n, (unsigned)LMP_ST_HEADER_MAX);
		return NULL;
	}
	if (n > file_size - 8) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: safetensors header of %llu bytes runs past the end of the file", name,
			(unsigned long long)n);
		return NULL;
	}
	if (n > len - 8) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: safetensors header truncated (%llu of %llu bytes)", name,
			(unsigned long long)(len - 8), (unsigned long long)n);
		return NULL;
	}
	if (n < 2 || buf[8] != '{') {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: safetensors header is not a JSON object", name);
		return NULL;
	}
	if (!(h = lmp_json_parse_one((const char *)buf + 8, (size_t)n, name, e)))
		return NULL;
	if (!cJSON_IsObject(h)) {
		cJSON_Delete(h);
		lmp_fail(e, LMP_EXIT_INPUT, "%s: safetensors header is not a JSON object", name);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(h, "__metadata__");
	cJSON_ArrayForEach(t, h)
		if (check_tensor(t, file_size - 8 - n, name, e) < 0) {
			cJSON_Delete(h);
			return NULL;
		}
	return h;
}

cJSON *
lmp_st_read_file(const char *path, lmp_err *e)
{
	FILE *f = fopen(path, "rb");
	unsigned char len8[8], *buf;
	struct stat st;
	uint64_t n = 0;
	size_t got;
	cJSON *h;

	if (!f || fstat(fileno(f), &st) < 0) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	got = fread(len8, 1, 8, f);
	for (int i = 7; got == 8 && i >= 0; i--)
		n = n << 8 | len8[i];
	/* Read no more than the limit and the file allow; the parser says why. */
	if (n > LMP_ST_HEADER_MAX || (uint64_t)st.st_size < 8 || n > (uint64_t)st.st_size - 8)
		n = 0;
	if (!(buf = malloc(8 + n))) {
		fclose(f);
		lmp_fail(e, LMP_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	memcpy(buf, len8, got);
	if (got == 8)
		got += fread(buf + 8, 1, n, f);
	fclose(f);
	h = lmp_st_parse_header(buf, got, (uint64_t)st.st_size, path, e);
	free(buf);
	return h;
}

static int
is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A header's tensors moved into all (h is consumed), each with the shard
 * that holds it. */
void
lmp_st_add_header(cJSON *all, cJSON *h, const char *shard)
{
	cJSON *t;

	while ((t = h->child)) {
		cJSON_DetachItemViaPointer(h, t);
		cJSON_DeleteItemFromObjectCaseSensitive(t, "data_offsets");
		cJSON_AddStringToObject(t, "file", shard);
		/* a header has no duplicate names (the parser refuses them); a
		 * name in two shards is found by lmp_st_add_index, sorted */
		cJSON_AddItemToObject(all, t->string, t);
	}
	cJSON_Delete(h);
}

static int
add_file(cJSON *all, const char *path, const char *shard, lmp_err *e)
{
	cJSON *h = lmp_st_read_file(path, e);

	if (!h)
		return -1;
	lmp_st_add_header(all, h, shard);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* An index's weight_map: every shard read once (by rd, from disk or from
 * the hub); each tensor must be in the shard the map names.  Names are
 * sorted once and searched, so that a checkpoint of 10^5 tensors takes
 * n log n, not n^2, comparisons. */
int
lmp_st_add_index(cJSON *all, const cJSON *ix, const char *path, lmp_st_reader *rd, void *ctx, lmp_err *e)
{
	const cJSON *map = cJSON_GetObjectItemCaseSensitive(ix, "weight_map"), *m;
	const char **read = NULL;
	cJSON **sorted = NULL, *h, *t;
	size_t nread = 0, n = 0, i;
	int rc = 0;

	if (!cJSON_IsObject(map))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: no weight_map object", path);
	cJSON_ArrayForEach(m, map) {
		if (!cJSON_IsString(m) || strchr(m->valuestring, '/') || m->valuestring[0] == '.') {
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: weight_map.%s is not a shard file name", path, m->string);
			break;
		}
		/* the map names a shard per tensor: a few hundred shards at most */
		for (i = 0; i < nread && strcmp(read[i], m->valuestring); i++)
			;
		if (i < nread)
			continue;
		read = lmp_xrealloc(read, sizeof *read * (nread + 1));
		read[nread++] = m->valuestring;
		if (!(h = rd(ctx, m->valuestring, e))) {
			rc = -1;
			break;
		}
		lmp_st_add_header(all, h, m->valuestring);
	}
	free(read);
	if (rc)
		return rc;
	cJSON_ArrayForEach(t, all)
		n++;
	sorted = lmp_xmalloc(sizeof *sorted * (n + 1));
	n = 0;
	cJSON_ArrayForEach(t, all)
		sorted[n++] = t;
	qsort(sorted, n, sizeof *sorted, by_name);
	for (i = 1; i < n && !rc; i++)
		if (!strcmp(sorted[i - 1]->string, sorted[i]->string))
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: tensor %s is in two shards", path, sorted[i]->string);
	cJSON_ArrayForEach(m, map) {
		cJSON key = {0}, *kp = &key, **hit;
		const char *file;
		if (rc)
			break;
		key.string = m->string;
		hit = n ? bsearch(&kp, sorted, n, sizeof *sorted, by_name) : NULL;
		if (!hit) {
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: tensor %s is not in %s", path, m->string, m->valuestring);
			break;
		}
		file = cJSON_GetObjectItemCaseSensitive(*hit, "file")->valuestring;
		if (strcmp(file, m->valuestring))
			rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: tensor %s is in %s, not in %s", path, m->string, file,
				m->valuestring);
	}
	free(sorted);
	return rc;
}

/* A shard beside the index on disk. */
static cJSON *
read_local(void *dir, const char *shard, lmp_err *e)
{
	char p[4096 + 256];

	snprintf(p, sizeof p, "%s/%s", (const char *)dir, shard);
	return lmp_st_read_file(p, e);
}

static int
add_index(cJSON *all, const char *path, lmp_err *e)
{
	cJSON *ix = lmp_json_load_file(path, e);
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int rc;

	if (!ix)
		return -1;
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	rc = lmp_st_add_index(all, ix, path, read_local, dir, e);
	cJSON_Delete(ix);
	return rc;
}

cJSON *
lmp_st_read_checkpoint(const char *path, lmp_err *e)
{
	cJSON *all = cJSON_CreateObject();
	char p[4096 + 64];
	size_t n = strlen(path);
	int rc;

	if (!all) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	if (n > 5 && strcmp(path + n - 5, ".json") == 0) {
		rc = add_index(all, path, e);
	} else if (is_file(path)) {
		const char *base = strrchr(path, '/');
		rc = add_file(all, path, base ? base + 1 : path, e);
	} else if (snprintf(p, sizeof p, "%s/model.safetensors.index.json", path), is_file(p)) {
		rc = add_index(all, p, e);
	} else if (snprintf(p, sizeof p, "%s/model.safetensors", path), is_file(p)) {
		rc = add_file(all, p, "model.safetensors", e);
	} else {
		rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: no model.safetensors or model.safetensors.index.json", path);
	}
	if (rc < 0) {
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}

/* "model.layers.12.mlp.up_proj.weight" -> "model.layers.*.mlp.up_proj.weight":
 * every all-digit path component folded. */
void
lmp_st_fold_name(const char *name, char *out, size_t n)
{
	size_t o = 0;
	const char *s = name;

	while (*s && o + 2 < n) {
		const char *q = s;
		while (isdigit((unsigned char)*q))
			q++;
		if (q > s && (*q == '.' || *q == '\0') && (s == name || s[-1] == '.')) {
			out[o++] = '*';
			s = q;
			continue;
		}
		while (*s && *s != '.' && o + 2 < n)
			out[o++] = *s++;
		if (*s == '.')
			out[o++] = *s++;
	}
	out[o] = '\0';
}

static uint64_t
elements(const cJSON *shape)
{
	uint64_t n = 1, d;
	const cJSON *x;
	cJSON_ArrayForEach(x, shape)
		n *= whole(x, &d) ? d : 0;
	return n;
}

static int
bytes_of(const char *dtype, uint64_t n, uint64_t *out)
{
	int w = dtype_bytes(dtype);
	if (strcmp(dtype, "F4") == 0 || strcmp(dtype, "F6_E2M3") == 0 || strcmp(dtype, "F6_E3M2") == 0) {
		*out = strcmp(dtype, "F4") == 0 ? (n + 1) / 2 : (n * 6 + 7) / 8;
		return 1;
	}
	*out = n * (uint64_t)w;
	return w != 0;
}

cJSON *
lmp_st_inventory(const cJSON *tensors)
{
	cJSON *inv = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(inv, "tensors");
	cJSON *dtypes = cJSON_AddObjectToObject(inv, "dtypes");
	uint64_t count = 0, el = 0, by = 0;
	const cJSON *t;
	char fold[1024];

	cJSON_ArrayForEach(t, tensors) {
		const char *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring;
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
		uint64_t n = elements(sh), b = 0;
		cJSON *row, *dsum;

		bytes_of(dt, n, &b);
		count++, el += n, by += b;
		if (!(dsum = cJSON_GetObjectItemCaseSensitive(dtypes, dt)))
			dsum = cJSON_AddNumberToObject(dtypes, dt, 0);
		cJSON_SetNumberValue(dsum, dsum->valuedouble + (double)b);
		lmp_st_fold_name(t->string, fold, sizeof fold);
		cJSON_ArrayForEach(row, list)
			if (strcmp(cJSON_GetObjectItemCaseSensitive(row, "name")->valuestring, fold) == 0 &&
			    strcmp(cJSON_GetObjectItemCaseSensitive(row, "dtype")->valuestring, dt) == 0 &&
			    cJSON_Compare(cJSON_GetObjectItemCaseSensitive(row, "shape"), sh, 1))
				break;
		if (!row) {
			row = cJSON_CreateObject();
			cJSON_AddStringToObject(row, "name", fold);
			cJSON_AddStringToObject(row, "dtype", dt);
			cJSON_AddItemToObject(row, "shape", cJSON_Duplicate(sh, 1));
			cJSON_AddNumberToObject(row, "count", 0);
			cJSON_AddItemToArray(list, row);
		}
		cJSON *c = cJSON_GetObjectItemCaseSensitive(row, "count");
		cJSON_SetNumberValue(c, c->valuedouble + 1);
	}
	cJSON_AddNumberToObject(inv, "count", (double)count);
	cJSON_AddNumberToObject(inv, "elements", (double)el);
	cJSON_AddNumberToObject(inv, "bytes", (double)by);
	lmp_st_index(inv, tensors);
	return inv;
}
