/*
 * jsonalloc.c - jansson allocation functions that wipe on free (see
 * jsonalloc.h). malloc is plain malloc; free wipes the block's usable
 * size with OPENSSL_cleanse (not optimised away) and then releases it.
 */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/jsonalloc.h"

static void (*release_fn)(void *) = free;
static unsigned long failures;

static void *
jmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		failures++;
	return p;
}

unsigned long
tg_jsonalloc_failures(void)
{
	return failures;
}

char *
tg_jsonalloc_dumps(const json_t *j, size_t flags)
{
	unsigned long before = failures;
	char *s = json_dumps(j, flags);

	if (failures != before) {
		tg_jsonalloc_free(s);
		return NULL;
	}
	return s;
}

void
tg_jsonalloc_free(void *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	release_fn(p);
}

void
tg_jsonalloc_install(void)
{
	json_set_alloc_funcs(jmalloc, tg_jsonalloc_free);
}

int
tg_jsonalloc_installed(void)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;

	json_get_alloc_funcs(&m, &f);
	return m == jmalloc && f == tg_jsonalloc_free;
}

void
tg_jsonalloc_set_release(void (*release)(void *))
{
	release_fn = release ? release : free;
}
