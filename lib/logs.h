/*
 * logs.h - reading execution logs (table execution_logs, sql/004): the
 * queries behind REST GET /tools/{id}/logs, /servers/{id}/logs,
 * /logs/{id} and the toolgate_tool_logs management tool. Service layer,
 * see svc.h. Rows are written by lib/execlog.c (tools/call and REST test
 * runs).
 *
 * List item (newest first):
 *   {"id", "tool_id"|null, "server_id"|null, "tool_name", "tool_version"|null,
 *    "kind": "call"|"test", "caller_id"|null, "caller"|null (username),
 *    "api_key_id"|null, "request_id"|null, "arguments" (redacted),
 *    "status": "ok"|"error"|"timeout"|"truncated"|"unavailable",
 *    "error"|null, "duration_ms", "created_at"}
 * Single log (get) adds "result", "stdout", "stderr" (each truncated at
 * log_max_bytes when written, or null) and "traceparent".
 *
 * Never returns a secret: arguments were redacted when written and are
 * redacted again on the way out (tg_mcp_redact), and every value of the
 * server's secrets that appears in result, stdout, stderr or error is
 * replaced by "[REDACTED]" (values of at least TG_LOGS_SCRUB_MIN bytes).
 * The session token hash is not returned.
 *
 * Filters: status (one of the five; 422 otherwise), since (ISO 8601
 * timestamp, inclusive; 422 when unparseable). Pagination: struct tg_page,
 * cursor = the id of the last item of the previous page.
 * Errors: 404 unknown tool/server/log. Role: viewer.
 */
#ifndef TG_LOGS_H
#define TG_LOGS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/redact.h"	/* tg_logs_scrub, TG_LOGS_SCRUB_MIN */
#include "lib/svc.h"

struct tg_logs_filter {
	const char *status;	/* NULL: any */
	const char *since;	/* NULL: no lower bound */
};

int tg_logs_list_tool(const struct tg_call *c, int64_t tool_id,
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err);
int tg_logs_list_server(const struct tg_call *c, int64_t server_id,
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err);
int tg_logs_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

/* 1 when s is an execution-log status. */
int tg_logs_valid_status(const char *s);

#endif
