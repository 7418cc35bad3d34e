/*
 * jsonalloc.h - jansson's allocator for processes that handle secrets
 * (docs/security.md): every block jansson frees is wiped first.
 *
 * Decrypted secret values pass through jansson objects (the sandbox
 * request, tg_secrets_decrypt_all, the execution-log scrubber), so the
 * master (fcgi/main.c) installs these functions as the very first thing
 * in main(), before any jansson call, for every mode (serve, CGI, CLI);
 * the workers inherit them across fork() and check them at start.
 *
 * The size of a block comes from malloc_usable_size() rather than from a
 * header in front of the block: jansson hands memory from its allocator
 * to callers (json_dumps), and those call free() on it, which a header
 * would turn into an invalid free. The wipe covers the whole usable size.
 */
#ifndef TG_JSONALLOC_H
#define TG_JSONALLOC_H

#include <stddef.h>

#include <jansson.h>

/* Installs the wiping allocator (json_set_alloc_funcs). Call before any
 * other jansson function; idempotent. */
void tg_jsonalloc_install(void);

/* 1 when jansson currently uses the wiping allocator. */
int tg_jsonalloc_installed(void);

/* jansson's free: OPENSSL_cleanse of the whole block, then free(); NULL
 * is allowed. Also right for json_dumps() results that held secrets. */
void tg_jsonalloc_free(void *p);

/* Allocations jansson asked the wiping allocator for and did not get. A
 * parse (json_loadb) that fails while this count moves ran out of memory:
 * jansson's error codes do not say so reliably. */
unsigned long tg_jsonalloc_failures(void);

/* json_dumps(), but NULL when any allocation failed on the way: jansson
 * 2.14 can return a corrupt text (an object key left out) after a failed
 * allocation instead of NULL. Free with free() or tg_jsonalloc_free(). */
char *tg_jsonalloc_dumps(const json_t *j, size_t flags);

/* Tests only: the function that releases a block after the wipe (free()
 * when NULL). */
void tg_jsonalloc_set_release(void (*release)(void *));

#endif
