/* idxset.c: sets of layer (or expert) indices as sorted, disjoint, closed
 * intervals, written as a compact range list ("0-2,5,7-60").  The
 * checkpoint inventory keeps the indices each folded "*" covers in this
 * form, and the weights check intersects them with the indices a repeated
 * node of the tree covers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

void
lmp_idx_free(lmp_idxset *s)
{
	free(s->lo);
	free(s->hi);
	s->lo = s->hi = NULL;
	s->n = 0;
}

/* Appends [lo, hi], merged with the last interval when they touch; the
 * intervals must come in increasing order. */
void
lmp_idx_add(lmp_idxset *s, int64_t lo, int64_t hi)
{
	if (s->n && lo <= s->hi[s->n - 1] + 1) {
		if (hi > s->hi[s->n - 1])
			s->hi[s->n - 1] = hi;
		return;
	}
	s->lo = lmp_xrealloc(s->lo, sizeof *s->lo * (size_t)(s->n + 1));
	s->hi = lmp_xrealloc(s->hi, sizeof *s->hi * (size_t)(s->n + 1));
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->n++;
}

int64_t
lmp_idx_size(const lmp_idxset *s)
{
	int64_t n = 0;

	for (int i = 0; i < s->n; i++)
		n += s->hi[i] - s->lo[i] + 1;
	return n;
}

int64_t
lmp_idx_common(const lmp_idxset *a, const lmp_idxset *b)
{
	int64_t n = 0;
	int i = 0, j = 0;

	while (i < a->n && j < b->n) {
		int64_t lo = a->lo[i] > b->lo[j] ? a->lo[i] : b->lo[j];
		int64_t hi = a->hi[i] < b->hi[j] ? a->hi[i] : b->hi[j];
		if (lo <= hi)
			n += hi - lo + 1;
		if (a->hi[i] < b->hi[j])
			i++;
		else
			j++;
	}
	return n;
}

void
lmp_idx_str(const lmp_idxset *s, lmp_buf *b)
{
	for (int i = 0; i < s->n; i++) {
		if (i)
			lmp_buf_putc(b, ',');
		if (s->lo[i] == s->hi[i])
			lmp_buf_printf(b, "%lld", (long long)s->lo[i]);
		else
			lmp_buf_printf(b, "%lld-%lld", (long long)s->lo[i], (long long)s->hi[i]);
	}
}

static int
index_at(const char **p, int64_t *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	long long x = strtoll(*p, &end, 10);
	if (errno || x < 0)
		return -1;
	*v = x;
	*p = end;
	return 0;
}

int
lmp_idx_parse(const char *text, lmp_idxset *s)
{
	const char *p = text;
	int64_t lo, hi;

	memset(s, 0, sizeof *s);
	for (;;) {
		if (index_at(&p, &lo))
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (index_at(&p, &hi) || hi < lo)
				goto bad;
		}
		if (s->n && lo <= s->hi[s->n - 1])
			goto bad; /* increasing and disjoint */
		lmp_idx_add(s, lo, hi);
		if (!*p)
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	lmp_idx_free(s);
	return -1;
}

/* A node's "layers" record (lmp-arch(5)): {"start", "stop"[, "step"]} or a
 * list of indices. */
int
lmp_idx_from_layers(const cJSON *rec, lmp_idxset *s)
{
	const cJSON *x;
	double start, stop, step = 1;

	memset(s, 0, sizeof *s);
	if (cJSON_IsArray(rec)) {
		cJSON_ArrayForEach(x, rec) {
			if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e15 ||
			    (s->n && x->valuedouble <= (double)s->hi[s->n - 1])) {
				lmp_idx_free(s);
				return -1;
			}
			lmp_idx_add(s, (int64_t)x->valuedouble, (int64_t)x->valuedouble);
		}
		return 0;
	}
	if (!cJSON_IsObject(rec) || !cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(rec, "start")))
		return -1;
	start = x->valuedouble;
	if (!cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(rec, "stop")))
		return -1;
	stop = x->valuedouble;
	if ((x = cJSON_GetObjectItemCaseSensitive(rec, "step")) && (!cJSON_IsNumber(x) || (step = x->valuedouble) < 1))
		return -1;
	if (start < 0 || stop > 1e15 || start > stop || (stop - start) / step > (1 << 24))
		return -1;
	for (double i = start; i < stop; i += step)
		lmp_idx_add(s, (int64_t)i, (int64_t)i);
	return 0;
}

/* out = a & b. */
void
lmp_idx_and(const lmp_idxset *a, const lmp_idxset *b, lmp_idxset *out)
{
	int i = 0, j = 0;

	memset(out, 0, sizeof *out);
	while (i < a->n && j < b->n) {
		int64_t lo = a->lo[i] > b->lo[j] ? a->lo[i] : b->lo[j];
		int64_t hi = a->hi[i] < b->hi[j] ? a->hi[i] : b->hi[j];
		if (lo <= hi)
			lmp_idx_add(out, lo, hi);
		if (a->hi[i] < b->hi[j])
			i++;
		else
			j++;
	}
}

static int
by_lo(const void *x, const void *y)
{
	const int64_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* out = a minus the union of the n sets u[0..n). */
void
lmp_idx_minus(const lmp_idxset *a, const lmp_idxset *u, int n, lmp_idxset *out)
{
	int64_t (*iv)[2];
	size_t m = 0, t = 0;
	int i, k;

	for (i = 0; i < n; i++)
		t += (size_t)u[i].n;
	iv = lmp_xcalloc(t + 1, sizeof *iv);
	for (i = 0; i < n; i++)
		for (k = 0; k < u[i].n; k++, m++) {
			iv[m][0] = u[i].lo[k];
			iv[m][1] = u[i].hi[k];
		}
	qsort(iv, m, sizeof *iv, by_lo);
	memset(out, 0, sizeof *out);
	for (i = 0; i < a->n; i++) {
		int64_t lo = a->lo[i];
		for (size_t j = 0; j < m && lo <= a->hi[i]; j++) {
			if (iv[j][1] < lo || iv[j][0] > a->hi[i])
				continue;
			if (iv[j][0] > lo)
				lmp_idx_add(out, lo, iv[j][0] - 1);
			if (iv[j][1] + 1 > lo)
				lo = iv[j][1] + 1;
		}
		if (lo <= a->hi[i])
			lmp_idx_add(out, lo, a->hi[i]);
	}
	free(iv);
}
