/* opts.c: numeric command-line values, parsed strictly with range checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

int
lmp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == ' ')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "1,2,4" into an array; each value in [min, max]. */
int
lmp_parse_list(const char *s, int64_t min, int64_t max, int64_t **out, int *n, lmp_err *e, const char *opt)
{
	char *copy = lmp_xstrdup(s), *tok, *save = NULL;
	int cap = 8;

	*n = 0;
	*out = lmp_xmalloc(sizeof **out * (size_t)cap);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == cap) {
			cap *= 2;
			*out = lmp_xrealloc(*out, sizeof **out * (size_t)cap);
		}
		if (lmp_parse_i64(tok, min, max, &(*out)[*n])) {
			lmp_fail(e, LMP_EXIT_USAGE, "%s: '%s' is not an integer in [%lld, %lld]", opt, tok,
				(long long)min, (long long)max);
			goto fail;
		}
		(*n)++;
	}
	if (*n == 0 || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,")) {
		lmp_fail(e, LMP_EXIT_USAGE, "%s: '%s' is not a comma-separated list of integers", opt, s);
		goto fail;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	free(*out);
	*out = NULL;
	return -1;
}
