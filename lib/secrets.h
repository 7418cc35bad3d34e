/*
 * secrets.h - server secrets (service layer, see svc.h). Values are
 * write-only: no function here returns one except tg_secrets_decrypt_all,
 * which exists for the sandbox run of a tool and is never reachable from
 * a REST or MCP response.
 *
 * Secret item: {"key", "description", "has_value", "key_version"|null,
 *   "created_at", "updated_at", "value_set_at"|null}
 * Inputs:
 *   create {"key"! ([A-Za-z_][A-Za-z0-9_]{0,63}), "description"?,
 *           "value"? (admin only; a developer or an LLM creates a
 *           placeholder without a value)}
 *   set    {"value"! (string, at most 64 KiB), "description"?} (admin;
 *           creates the secret when missing)
 * Errors: 404 unknown server/key, 409 duplicate key on create, 422 invalid.
 * Roles: list viewer; create developer (value: admin); set/delete admin.
 */
#ifndef TG_SECRETS_H
#define TG_SECRETS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

/* The sealed secrets, all servers' (append " AND server_id = ..."): the
 * rows tg_secrets_decrypt_all opens. */
#define TG_SECRETS_SEALED "FROM server_secrets WHERE ciphertext IS NOT NULL"

struct tg_config;
struct tg_db;

int tg_secrets_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_secrets_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_secrets_set(const struct tg_call *c, int64_t server_id, const char *key,
    json_t *in, json_t **out, struct tg_err *err);
int tg_secrets_delete(const struct tg_call *c, int64_t server_id,
    const char *key, struct tg_err *err);

/* {"KEY": "value", ...} for the secrets of server_id that have a value,
 * decrypted with cfg->enc_key (falling back to enc_key_old during a
 * rotation). -TG_E_INTERNAL when any fails to open (logged by key name). */
int tg_secrets_decrypt_all(struct tg_db *db, const struct tg_config *cfg,
    int64_t server_id, json_t **out);
/* security: {"KEY": "[placeholder:KEY]", ...} for the same keys as
 * tg_secrets_decrypt_all, without decrypting anything: what code that no
 * admin approved receives instead of the values (docs/security.md). */
int tg_secrets_placeholders(struct tg_db *db, int64_t server_id, json_t **out);

/* CLI: re-encrypts every secret from old_key to new_key in one
 * transaction (key_version + 1); all or nothing. *count = secrets done. */
int tg_secrets_rotate(struct tg_db *db, const unsigned char *old_key,
    const unsigned char *new_key, long *count, long *src_count);
/* CLI: tries to open every secret with key; counts successes/failures and
 * prints one line per failure (server id and key name) to stderr. */
int tg_secrets_verify(struct tg_db *db, const unsigned char *key, long *ok,
    long *bad);

int tg_secrets_valid_key(const char *s);

#endif
