/*
 * identity_util.h - small helpers shared by handlers/auth.c, users.c,
 * apikeys.c and audit.c (input validation replies, pagination).
 */
#ifndef TG_IDENTITY_UTIL_H
#define TG_IDENTITY_UTIL_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

struct tg_req;
struct tg_resp;

/* 422 with one field error from a failed json_unpack_ex. */
int tg_idu_bad_body(struct tg_req *req, struct tg_resp *resp,
    const json_error_t *err);
/* 422 naming one field. */
int tg_idu_bad_field(struct tg_req *req, struct tg_resp *resp,
    const char *field, const char *msg);
/* ?limit= (1..200, default 50) and ?cursor= (a positive id, 0 when absent);
 * 400 rendered on malformed values. */
int tg_idu_page(struct tg_req *req, struct tg_resp *resp, int64_t *limit,
    int64_t *cursor);
#endif
