/*
 * mcp_tools.h - what /mcp serves: tools/list and tools/call, the
 * toolgate_* management tools, argument validation, execution logs.
 *
 * Shared with the transport (handlers/mcp.c): the context of one JSON-RPC
 * request (struct tg_mcp_call) and a JSON-RPC error (struct tg_rpc_err).
 * Nothing here depends on the protocol era beyond what the context says,
 * so the 2025 (session) and 2026-07-28 (stateless) eras share it.
 *
 * tools/list: the management tools the caller's role may use (none for
 * the anonymous caller of TOOLGATE_MCP_AUTH=none), then approved tools of
 * running servers under their exposed names (<prefix><tool>), all sorted
 * by name (bytewise), TG_MCP_PAGE per page, nextCursor = opaque keyset.
 *
 * tools/call: unknown, unapproved or stopped tools are -32602 "Unknown
 * tool"; arguments are validated against the tool's inputSchema (-32602
 * with the reason); the tool runs once in the sandbox (never retried);
 * the result maps to content (+ structuredContent for JSON objects), and
 * tool exceptions, timeouts and truncation are isError results. Every
 * call is recorded in execution_logs with redacted arguments.
 */
#ifndef TG_MCP_TOOLS_H
#define TG_MCP_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fcgi/request.h"

struct tg_db;
struct tg_mcp_session;

/* JSON-RPC 2.0 and MCP error codes. */
#define TG_RPC_PARSE_ERROR -32700
#define TG_RPC_INVALID_REQUEST -32600
#define TG_RPC_METHOD_NOT_FOUND -32601
#define TG_RPC_INVALID_PARAMS -32602
#define TG_RPC_INTERNAL_ERROR -32603
#define TG_RPC_SERVER_ERROR -32000	/* transport-level refusals */

#define TG_MCP_PAGE 100			/* tools per tools/list page */
#define TG_MCP_LOG_MAX_DEFAULT 16384	/* bytes kept per logged text */

enum tg_mcp_era {
	TG_MCP_ERA_2025 = 1,	/* initialize + Mcp-Session-Id */
	TG_MCP_ERA_2026 = 2,	/* 2026-07-28: stateless, per-request version */
};

struct tg_rpc_err {
	int code;		/* TG_RPC_*; 0 when none */
	char message[512];
	json_t *data;		/* owned, may be NULL */
};

/* The context of one JSON-RPC request, built by the transport. */
struct tg_mcp_call {
	struct tg_req *req;
	enum tg_mcp_era era;
	const char *version;			/* negotiated / declared */
	const struct tg_mcp_session *session;	/* NULL without a session */
	const json_t *meta;			/* params._meta (borrowed) or NULL */
	const char *traceparent;		/* W3C trace context or NULL */
	/* Streaming, for tools that run in the sandbox (both may be unset):
	 * on_event gets each progress/log event of the running tool (see
	 * lib/sandbox_client.h) and returns -1 when the client is gone, which
	 * kills the run; cancel_fd (> 0) is watched for hang-up while the
	 * tool runs. */
	int (*on_event)(void *ctx, const json_t *ev);
	void *on_event_ctx;
	int cancel_fd;
};

void tg_rpc_err_clear(struct tg_rpc_err *e);
/* Sets code and message; returns -1 (the "JSON-RPC error" return). */
int tg_rpc_err_set(struct tg_rpc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * tools/list: *result = {"tools":[...], "nextCursor"?} (new reference to a
 * cached, shared object: do not modify it; json_copy() first). cursor is
 * the previous page's nextCursor or NULL. *stamp (when not NULL) names
 * this exact result within the process: the same stamp is the same
 * content, so a serialisation of it may be reused; 0 means "not cached".
 * Returns 0, or -1 with err set (-32602 for a bad cursor, -32603 for
 * internal failures).
 */
int tg_mcp_tools_list(const struct tg_mcp_call *c, const char *cursor,
    json_t **result, uint64_t *stamp, struct tg_rpc_err *err);

/*
 * tools/call: *result = a CallToolResult (new reference) on 0, including
 * tool failures (isError); -1 with err for protocol errors.
 */
int tg_mcp_tools_call(const struct tg_mcp_call *c, const char *name,
    json_t *arguments, json_t **result, struct tg_rpc_err *err);

/*
 * Validates instance against a JSON Schema (the subset documented in
 * docs/mcp.md: type, enum, const, properties, required,
 * additionalProperties, items, min/max(Length|Items|imum), exclusive
 * bounds, anyOf/oneOf/allOf, $ref to local $defs/definitions; other
 * keywords are ignored). 0 when valid; else -TG_E_UNPROCESSABLE and a
 * one-line reason naming the path ("$.city: expected string").
 */
int tg_mcp_schema_validate(const json_t *schema, const json_t *instance,
    char *why, size_t cap);

/*
 * Copy of v (new reference) where every object member whose key contains
 * password, secret, token, key, auth, credential or cookie
 * (case-insensitive), at any depth, is replaced by "[REDACTED]".
 */
json_t *tg_mcp_redact(const json_t *v);
/* 1 when key names a sensitive value (see tg_mcp_redact). */
int tg_mcp_key_sensitive(const char *key);

/*
 * Copy of s (n bytes) cut to at most max bytes at a UTF-8 boundary, with
 * the marker "…[truncated N bytes]" appended when cut. malloc'd (free());
 * NULL on OOM.
 */
char *tg_mcp_truncate(const char *s, size_t n, size_t max);

/*
 * Maps a sandbox result document to a CallToolResult (new reference), or
 * NULL on OOM. *status receives the execution-log status ("ok", "error",
 * "timeout", "truncated").
 */
json_t *tg_mcp_result_from_sandbox(const json_t *sbx, const char **status);

/*
 * security: writes the execution_logs row (kind "test") of a REST test run
 * (POST /tools/{id}/test, lib/tools.c). tool is the tool document
 * (tg_tools_get: id, server_id, name, current_version); sbx the sandbox
 * document when run_rc is 0, else run_rc (-TG_E_TIMEOUT -> "timeout",
 * others "unavailable") and diag describe the failure. Arguments are
 * redacted and every value of secrets (the server's decrypted secrets)
 * is scrubbed from result, stdout, stderr and error before the write,
 * as for tools/call.
 */
int tg_mcp_log_test(struct tg_req *req, const json_t *tool, const json_t *args,
    const json_t *sbx, int run_rc, const char *diag, const json_t *secrets,
    int64_t duration_ms);


#endif
