/* arena.c: bump allocation; everything goes at once with lmp_arena_free. */
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

/* Blocks start small and double up to 64 KiB: a database template's
 * arena holds a few hundred bytes, and a model loads a hundred of them
 * (64 KiB each had cost lmp-eval 6 MiB and its page faults at start). */
#define BLOCK_MIN 1024
#define BLOCK_MAX 65536

struct lmp_arena {
	struct block *head;
	size_t total, next; /* next: the next block's size */
};

lmp_arena *
lmp_arena_new(void)
{
	return lmp_xcalloc(1, sizeof(lmp_arena));
}

void *
lmp_arena_alloc(lmp_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) / align * align;
	if (!b || b->cap - b->used < n) {
		size_t cap = a->next ? a->next : BLOCK_MIN;
		a->next = cap < BLOCK_MAX ? 2 * cap : BLOCK_MAX;
		if (cap < n)
			cap = n;
		b = lmp_xmalloc(sizeof *b + cap);
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

size_t
lmp_arena_used(const lmp_arena *a)
{
	return a->total;
}

void
lmp_arena_free(lmp_arena *a)
{
	struct block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
