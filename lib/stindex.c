/* stindex.c: the indices behind each folded "*" of the checkpoint
 * inventory.  A row of lmp_st_inventory merges the tensors of one folded
 * name, dtype and shape; here it gets "indices", one range list per "*"
 * (lmp_idx_str: "0-60"), and stands for their product.  Where the tensors
 * are not one product (layer 0 with 4 experts, layer 1 with 8) the row is
 * split into rows that are.  So a layer the model does not build (a
 * multi-token-prediction layer stored as model.layers.61) stays apart
 * from the decoder layers it is folded with. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct tuples {
	int k;          /* indices per tensor: the "*"s of the folded name */
	size_t n, cap;
	int64_t *v;     /* n x k */
};

static int sort_from, sort_k;

static int
cmp_tuple(const void *a, const void *b)
{
	const int64_t *x = *(const int64_t *const *)a, *y = *(const int64_t *const *)b;

	for (int i = sort_from; i < sort_k; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* The all-digit components of name, in order (lmp_st_fold_name's "*"s). */
static int
indices_of(const char *name, int64_t *out, int max)
{
	int k = 0;
	const char *s = name;

	while (*s) {
		const char *q = s;
		while (isdigit((unsigned char)*q))
			q++;
		if (q > s && (*q == '.' || !*q) && (s == name || s[-1] == '.')) {
			if (k < max)
				out[k] = q - s > 18 ? INT64_MAX : strtoll(s, NULL, 10);
			k++;
		}
		s = strchr(s, '.');
		if (!s)
			break;
		s++;
	}
	return k;
}

/* The tuples t[0..n) from position p on, as product blocks: one line each,
 * the range lists of positions p..k-1 separated by ';'.  Values of position
 * p whose remaining blocks are the same share a block. */
static void
blocks(int64_t **t, size_t n, int p, int k, lmp_buf *out)
{
	struct { char *rest; lmp_idxset vals; } *d;
	size_t i, j, nd = 0;

	if (p == k) {
		lmp_buf_putc(out, '\n');
		return;
	}
	sort_from = p, sort_k = k;
	qsort(t, n, sizeof *t, cmp_tuple);
	d = lmp_xcalloc(n, sizeof *d);
	for (i = 0; i < n; i = j) {
		lmp_buf rest = {0};
		size_t g;
		for (j = i + 1; j < n && t[j][p] == t[i][p]; j++)
			;
		blocks(t + i, j - i, p + 1, k, &rest);
		sort_from = p, sort_k = k; /* the recursion re-sorted only t[i..j) */
		for (g = 0; g < nd && strcmp(d[g].rest, rest.s); g++)
			;
		if (g == nd)
			d[nd++].rest = rest.s;
		else
			lmp_buf_free(&rest);
		lmp_idx_add(&d[g].vals, t[i][p], t[i][p]);
	}
	for (i = 0; i < nd; i++) {
		char *line = d[i].rest, *nl;
		for (; (nl = strchr(line, '\n')); line = nl + 1) {
			lmp_idx_str(&d[i].vals, out);
			if (p + 1 < k)
				lmp_buf_putc(out, ';');
			lmp_buf_add(out, line, (size_t)(nl - line));
			lmp_buf_putc(out, '\n');
		}
		free(d[i].rest);
		lmp_idx_free(&d[i].vals);
	}
	free(d);
}

/* row's blocks (text from blocks()) appended to out: row itself for the
 * first, a copy for each further one. */
static void
split_row(cJSON *out, cJSON *row, const char *text)
{
	const char *line = text, *nl;
	cJSON *cur = row;

	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		cJSON *ix = cJSON_CreateArray();
		double count = 1;
		const char *r = line;
		if (!cur)
			cur = cJSON_Duplicate(row, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(cur, "indices");
		while (r < nl) {
			const char *semi = memchr(r, ';', (size_t)(nl - r));
			size_t len = semi ? (size_t)(semi - r) : (size_t)(nl - r);
			char *one = lmp_xmalloc(len + 1);
			lmp_idxset s;
			memcpy(one, r, len);
			one[len] = '\0';
			if (lmp_idx_parse(one, &s) == 0) {
				count *= (double)lmp_idx_size(&s);
				lmp_idx_free(&s);
			}
			cJSON_AddItemToArray(ix, cJSON_CreateString(one));
			free(one);
			r += len + (semi ? 1 : 0);
		}
		cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(cur, "count"), count);
		cJSON_AddItemToObject(cur, "indices", ix);
		cJSON_AddItemToArray(out, cur);
		cur = NULL;
	}
}

void
lmp_st_index(cJSON *inv, const cJSON *tensors)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(inv, "tensors"), *row, *out;
	int nrows = cJSON_GetArraySize(list), r;
	struct tuples *tu = lmp_xcalloc((size_t)nrows + 1, sizeof *tu);
	const cJSON *t;
	char fold[1024];
	int64_t ix[64];

	cJSON_ArrayForEach(t, tensors) {
		const char *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring;
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
		int k = indices_of(t->string, ix, 64);
		if (!k || k > 64)
			continue;
		lmp_st_fold_name(t->string, fold, sizeof fold);
		r = 0;
		cJSON_ArrayForEach(row, list) {
			if (strcmp(cJSON_GetObjectItemCaseSensitive(row, "name")->valuestring, fold) == 0 &&
			    strcmp(cJSON_GetObjectItemCaseSensitive(row, "dtype")->valuestring, dt) == 0 &&
			    cJSON_Compare(cJSON_GetObjectItemCaseSensitive(row, "shape"), sh, 1))
				break;
			r++;
		}
		if (!row)
			continue;
		if (tu[r].n == tu[r].cap) {
			tu[r].cap = tu[r].cap ? tu[r].cap * 2 : 16;
			tu[r].v = lmp_xrealloc(tu[r].v, sizeof *tu[r].v * tu[r].cap * (size_t)k);
		}
		tu[r].k = k;
		memcpy(tu[r].v + tu[r].n * (size_t)k, ix, sizeof *ix * (size_t)k);
		tu[r].n++;
	}
	out = cJSON_CreateArray();
	r = 0;
	while (list && (row = list->child)) {
		cJSON_DetachItemViaPointer(list, row);
		if (!tu[r].n) {
			cJSON_AddItemToArray(out, row);
		} else {
			int64_t **p = lmp_xcalloc(tu[r].n, sizeof *p);
			lmp_buf text = {0};
			for (size_t i = 0; i < tu[r].n; i++)
				p[i] = tu[r].v + i * (size_t)tu[r].k;
			blocks(p, tu[r].n, 0, tu[r].k, &text);
			split_row(out, row, text.s);
			lmp_buf_free(&text);
			free(p);
		}
		free(tu[r].v);
		r++;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(inv, "tensors", out);
	free(tu);
}
