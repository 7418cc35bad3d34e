/*
 * arena.c - per-request bump allocator: a chain of blocks, the first one
 * kept across resets so a steady-state request allocates nothing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/limits.h"

struct block {
	struct block *next;
	size_t cap, used;
	max_align_t data[];
};

struct tg_arena {
	struct block *head;
};

static struct block *
block_new(size_t cap)
{
	struct block *b;

	if (cap > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + cap);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->cap = cap;
	b->used = 0;
	return b;
}

struct tg_arena *
tg_arena_new(void)
{
	struct tg_arena *a;

	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->head = block_new(TG_ARENA_BLOCK);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void *
tg_arena_alloc(struct tg_arena *a, size_t n)
{
	const size_t al = sizeof(max_align_t);
	struct block *b;
	void *p;

	if (n > SIZE_MAX - al)
		return NULL;
	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	b = a->head;
	if (b->cap - b->used < n) {
		b = block_new(n > TG_ARENA_BLOCK ? n : TG_ARENA_BLOCK);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *
tg_arena_strndup(struct tg_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = tg_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
tg_arena_strdup(struct tg_arena *a, const char *s)
{
	return tg_arena_strndup(a, s, strlen(s));
}

char *
tg_arena_printf(struct tg_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = tg_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	n = vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

void
tg_arena_reset(struct tg_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	/* The oldest block is the last in the chain: keep it. */
	for (b = a->head; b->next != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = b;
	b->used = 0;
}

void
tg_arena_free(struct tg_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
