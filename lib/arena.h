/*
 * arena.h - per-request bump allocator.
 *
 * Memory from tg_arena_alloc/strdup/strndup lives until tg_arena_reset()
 * (called once per request after FCGX_Finish_r) or tg_arena_free().
 * Allocation failure returns NULL.
 */
#ifndef TG_ARENA_H
#define TG_ARENA_H

#include <stddef.h>

struct tg_arena;

struct tg_arena *tg_arena_new(void);
void *tg_arena_alloc(struct tg_arena *a, size_t n);
char *tg_arena_strdup(struct tg_arena *a, const char *s);
char *tg_arena_strndup(struct tg_arena *a, const char *s, size_t n);
char *tg_arena_printf(struct tg_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees all blocks but the first; keeps the arena usable. */
void tg_arena_reset(struct tg_arena *a);
void tg_arena_free(struct tg_arena *a);

#endif
