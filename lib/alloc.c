/* alloc.c: allocation that does not return NULL. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

void
lmp_oom(void)
{
	fprintf(stderr, "%s: out of memory\n", lmp_tool);
	exit(LMP_EXIT_SYSTEM);
}

static void *
check(void *p)
{
	if (!p)
		lmp_oom();
	return p;
}

/* cJSON's own nodes and strings through the same allocator, so that a
 * failure there is the same one line, not a NULL dereference later. */
void
lmp_alloc_init(void)
{
	cJSON_Hooks h = {lmp_xmalloc, free};

	cJSON_InitHooks(&h);
}

void *
lmp_xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *
lmp_xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *
lmp_xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}

char *
lmp_xstrdup(const char *s)
{
	return check(strdup(s));
}

char *
lmp_xstrndup(const char *s, size_t n)
{
	return check(strndup(s, n));
}
