/*
 * sources.h - external MCP sources (service layer, see svc.h): CRUD,
 * discover, import, health with a circuit breaker, and the passthrough
 * call the MCP gateway uses for imported tools.
 *
 * Source object (credentials are write-only: never returned, logged,
 * audited or exported; the remote session id is never returned either):
 *   {"id", "server_id", "server_name", "name", "description", "url",
 *    "transport": "streamable_http", "internal", "enabled",
 *    "auth_type": "none"|"bearer"|"header", "auth_header"|null,
 *    "has_credential", "connect_timeout_ms", "timeout_ms",
 *    "max_response_bytes", "failure_threshold", "cooldown_s",
 *    "status": "unknown"|"healthy"|"unhealthy", "consecutive_failures",
 *    "circuit_open_until"|null, "last_health_at"|null,
 *    "last_latency_ms"|null, "last_error"|null, "last_error_at"|null,
 *    "protocol_version"|null, "server_info"|null, "tool_count",
 *    "created_by", "created_at", "updated_at"}
 *
 * Inputs (strict; 422 names the field):
 *   create {"name"! ([a-z0-9][a-z0-9_-]{0,47}), "url"! (http/https, no
 *           userinfo), "description"?, "transport"? ("streamable_http"),
 *           "internal"? (admin), "enabled"?, "auth_type"?, "auth_header"?
 *           (for "header"; not a hop-by-hop/MCP header), "credential"?
 *           (admin; string, no CR/LF), "connect_timeout_ms"? (100..60000),
 *           "timeout_ms"? (100..120000), "max_response_bytes"?
 *           (1024..67108864), "failure_threshold"? (1..100), "cooldown_s"?
 *           (1..86400)}
 *   update  the same members, all optional; "credential": null clears it.
 *           Changing the URL of an internal source needs admin; a URL
 *           change forgets the remote session.
 *   import {"tools"!: ["remote name" | {"name"!, "local_name"?}, ...]}
 * A URL whose host is an IP literal (or "localhost") outside the public
 * ranges is refused at save time unless the source is internal; every
 * connection is checked again after DNS resolution (lib/mcp_client.h).
 *
 * Roles: list/get/health viewer; create/update/delete/discover/import
 * developer; "internal" and "credential" admin.
 *
 * Imported tools are tools rows with kind 'external' (code ''), created
 * in pending_review: they are served only once approved, like Python
 * tools. Discover compares each imported tool's remote description,
 * input schema and annotations with what was imported; a change updates
 * the tool (new version) and sends an approved tool back to
 * pending_review (a rejected one to draft).
 *
 * Circuit breaker: each transport failure (unreachable, timeout,
 * redirect, oversize, malformed answer, refused destination) counts; at
 * failure_threshold consecutive failures the source is "unhealthy" and
 * calls fail at once with a tool error until cooldown_s has passed; then
 * one call is let through (half-open): success closes the circuit, failure
 * opens it again. A JSON-RPC error from the source is not a failure.
 */
#ifndef TG_SOURCES_H
#define TG_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

#define TG_SOURCE_CRED_MAX 8192

/*
 * The numeric settings of a source, the one place their limits and
 * defaults are written: X(member, minimum, maximum, default), in the order
 * of the external_sources columns. The operation table's field specs
 * (lib/ops.c), the service's range checks, the export document's checks
 * and its import defaults (lib/export.c) all expand this list.
 */
#define TG_SOURCE_NUMS(X) \
	X(connect_timeout_ms, 100, 60000, 5000) \
	X(timeout_ms, 100, 120000, 30000) \
	X(max_response_bytes, 1024, 67108864, 4194304) \
	X(failure_threshold, 1, 100, 3) \
	X(cooldown_s, 1, 86400, 30)
#define TG_SOURCE_NNUMS 5

/* TG_SOURCE_NUMS as data, in the same order. */
struct tg_source_num {
	const char *name;
	long long min, max, def;
};
extern const struct tg_source_num tg_source_nums[TG_SOURCE_NNUMS];

int tg_sources_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_sources_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);
int tg_sources_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_sources_update(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
/* Deletes the source and its imported tools. */
int tg_sources_delete(const struct tg_call *c, int64_t id, struct tg_err *err);

/* out {"source_id", "protocol_version", "server_info", "tools": [{"name",
 * "title"?, "description", "input_schema", "annotations"?, "imported",
 * "tool_id"?, "local_name"?, "status"?, "changed"?}], "missing": [{"tool_id",
 * "local_name", "remote_name"}]}. 502-style failures of the source are
 * -TG_E_UNAVAIL (503) with the reason. */
int tg_sources_discover(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);
/* out {"source_id", "imported": [tool objects], "already_imported":
 * [{"remote_name", "tool_id"}]}. */
int tg_sources_import(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
/* initialize + ping; recorded. out {"source_id", "ok", "status",
 * "latency_ms", "protocol_version"?, "server_info"?, "error"?,
 * "consecutive_failures", "circuit_open_until"}. */
int tg_sources_health(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

/*
 * MCP gateway: passes a tools/call of the imported tool tool_id through
 * to its source with the original arguments. Never fails for source
 * problems: *result (new reference) is the remote CallToolResult as is,
 * or an isError result with a clear reason (circuit open, unreachable,
 * timeout, redirect, oversize, malformed, JSON-RPC error). *status is the
 * execution-log status ("ok", "error", "timeout", "unavailable"); error
 * (cap bytes) gets the failure reason or "". Returns 0, or -TG_E_NOMEM /
 * -TG_E_DB / -TG_E_NOTFOUND (the tool is not an imported one).
 */
int tg_sources_call(const struct tg_call *c, int64_t tool_id, json_t *arguments,
    json_t **result, const char **status, char *error, size_t cap);

/*
 * CLI `toolgate rotate-key` (security): re-encrypts every stored source
 * credential (AAD "source_cred:<id>") from old_key to new_key, rows locked,
 * inside the CALLER's transaction (tg_secrets_rotate runs it before its
 * commit, so secrets and credentials rotate together or not at all);
 * *count = credentials re-encrypted. Fails (naming the source on stderr)
 * when one does not open with old_key.
 */
int tg_sources_cred_rotate(struct tg_db *db, const unsigned char *old_key,
    const unsigned char *new_key, long *count);
/* CLI `toolgate secrets-verify`: tries every stored source credential
 * with key; counts, and names each failure on stderr. */
int tg_sources_cred_verify(struct tg_db *db, const unsigned char *key, long *ok,
    long *bad);

/* Validation shared with the import (lib/export.c). tg_sources_url_ok:
 * 0 when url is acceptable for a source with that internal flag (the
 * save-time policy above), else -1 with the reason in why (cap bytes; 256
 * is plenty). tg_sources_valid_header: 1 when h may carry the credential
 * of auth_type "header". */
int tg_sources_url_ok(const char *url, int internal, char *why, size_t cap);
int tg_sources_valid_header(const char *h);

/* 1 when a served-tool document (tg_tools_served_lookup) is an imported
 * external tool that tg_sources_call must handle. */
int tg_sources_is_external(const json_t *served_tool);

#endif
