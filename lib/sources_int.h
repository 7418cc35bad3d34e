/*
 * sources_int.h - what the two halves of the sources service share
 * (internal; the public contract is sources.h): lib/sources.c (CRUD,
 * validation, credentials, key rotation) and lib/sources_remote.c (the
 * remote exchanges: discover, import, health, passthrough calls).
 */
#ifndef TG_SOURCES_INT_H
#define TG_SOURCES_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"
#include "lib/err.h"

/* 404 "no source with id <id>" in err. */
int tg_sources_no_source(struct tg_err *err, int64_t id);
/* The AAD a credential of source id is sealed with ("source_cred:<id>"). */
int tg_sources_cred_aad(char *buf, size_t cap, int64_t id);
/* Source id as GET /sources/{id} answers it (no role check). */
int tg_sources_get_row(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

#endif
