/*
 * apikeys.h - the API-key service (REST: the apikeys.* rows of lib/ops.c).
 *
 * Rules, here only: anyone authenticated manages their own keys; listing or
 * revoking anyone's needs TG_P_USERS (admin); a key's role defaults to and
 * may not exceed the caller's (403); names are 1..128 bytes;
 * expires_in_days 1..3650 (0: never). The secret ("tgk_...") is returned
 * once by create and only its SHA-256 is stored. Revoking is idempotent and
 * keeps the row (revoked_at). Audited: apikey.create, apikey.revoke
 * (target "api_key:<id>", outcome "ok").
 *
 * key = {id, name, prefix, role, user_id, username, created_at, expires_at,
 * last_used_at, revoked_at}.
 */
#ifndef TG_APIKEYS_H
#define TG_APIKEYS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"

struct tg_call;
struct tg_page;

/* One page by id; all: every user's keys (admin), else the caller's. */
int tg_apikeys_list(const struct tg_call *c, int all, const struct tg_page *pg,
    json_t **out, struct tg_err *err);
/* role NULL: the caller's. *out includes "key": the secret, shown once. */
int tg_apikeys_create(const struct tg_call *c, const char *name,
    const char *role, int64_t expires_in_days, json_t **out,
    struct tg_err *err);
int tg_apikeys_revoke(const struct tg_call *c, int64_t id, struct tg_err *err);

#endif
