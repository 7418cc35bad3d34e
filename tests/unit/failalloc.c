/*
 * failalloc.c - the allocation-failure hook (see failalloc.h). The real
 * allocators are reached through the __real_ names --wrap provides.
 */
#include <stddef.h>
#include <stdlib.h>

#include "tests/unit/failalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long fail_at; /* 0: disarmed */
static long seen;
static int fired;

/* 1 when this allocation must fail. */
static int
take(void)
{
	seen++;
	if (fail_at > 0 && seen == fail_at) {
		fired = 1;
		return 1;
	}
	return 0;
}

void *
__wrap_malloc(size_t n)
{
	return take() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return take() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return take() ? NULL : __real_realloc(p, n);
}

void
tg_fa_arm(long n)
{
	fail_at = n;
	seen = 0;
	fired = 0;
}

int
tg_fa_disarm(void)
{
	int f = fired;

	fail_at = 0;
	fired = 0;
	return f;
}

long
tg_fa_count(void)
{
	return seen;
}
