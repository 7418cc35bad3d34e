/*
 * settings.h - runtime settings (table `settings`, one row per top-level
 * key, value jsonb), merged over built-in defaults.
 *
 * Effective document (GET /api/v1/settings):
 *   {"allowed_modules": ["json", "math", ...],      module allow-list
 *    "log_retention_days": 30,                      1..3650
 *    "limits": {"timeout_ms": 30000,                100..600000
 *               "memory_mb": 256,                   32..65536
 *               "max_procs": 64,                    1..4096
 *               "output_bytes": 102400,             1024..67108864
 *               "code_bytes": 262144},              1024..1048576
 *    "rate_limits": {"admin": 600, "developer": 300, "viewer": 120},
 *                                                   requests per minute, 1..1000000
 *    "approval_reset_on": "code+description+schema" | "code",
 *    "mcp_session_idle_seconds": 3600,              60..2592000 (MCP session idle expiry)
 *    "log_max_bytes": 16384,                        256..16777216 (per logged text)
 *    "refresh_reuse_interval_seconds": 30}          0..60 (0: off; lib/sessions.h)
 *
 * PATCH takes any subset (limits and rate_limits merge member-wise);
 * unknown keys and out-of-range values are 422 with the field
 * ("limits.timeout_ms"). Admin only; audited.
 */
#ifndef TG_SETTINGS_H
#define TG_SETTINGS_H

#include <jansson.h>

#include "lib/svc.h"

struct tg_db;

/* Effective settings (defaults merged with stored rows): new reference. */
int tg_settings_effective(struct tg_db *db, json_t **out);
/* One effective top-level value (new reference), e.g. "limits". */
int tg_settings_value(struct tg_db *db, const char *key, json_t **out);
/* 1 when approval_reset_on is "code" (narrow rule), else 0. */
int tg_settings_reset_code_only(struct tg_db *db, int *code_only);

int tg_settings_get(const struct tg_call *c, json_t **out, struct tg_err *err);
int tg_settings_patch(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);
/* Inside the caller's transaction: validates and stores in (partial
 * document), no role check, no audit (import and the patch share it). */
int tg_settings_store(const struct tg_call *c, json_t *in, struct tg_err *err);
/* Inside the caller's transaction: adds module to allowed_modules. */
int tg_settings_allow_module(const struct tg_call *c, const char *module);

/* Python dotted module name rule. */
int tg_settings_valid_module(const char *s);

#endif
