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
 *
 * The transport's one header for all of it. Implemented in lib/mcp_catalog.c
 * (tools/list), lib/mcp_calls.c (tools/call, JSON-RPC errors),
 * lib/mcp_mgmt.c (the management tools), with lower pieces of their own
 * headers, included here: lib/jschema.h (argument validation),
 * lib/redact.h (redaction, truncation), lib/execlog.h (results and
 * execution logs). Lower modules include those, never this one.
 */
#ifndef TG_MCP_TOOLS_H
#define TG_MCP_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"		/* struct tg_call */
#include "lib/execlog.h"	/* CallToolResults, execution_logs rows */
#include "lib/jschema.h"	/* tg_mcp_schema_validate */
#include "lib/redact.h"		/* tg_mcp_redact, tg_mcp_truncate */

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

enum tg_mcp_era {
	TG_MCP_ERA_2025 = 1,	/* initialize + Mcp-Session-Id */
	TG_MCP_ERA_2026 = 2,	/* 2026-07-28: stateless, per-request version */
};

struct tg_rpc_err {
	int code;		/* TG_RPC_*; 0 when none */
	char message[512];
	json_t *data;		/* owned, may be NULL */
};

/* The context of one JSON-RPC request, built by the transport: the
 * service context of the HTTP request (database, configuration, metrics,
 * the caller) plus what MCP adds. Every pointer is borrowed for the call. */
struct tg_mcp_call {
	const struct tg_call *call;
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
 * The SHA-256 of everything tools/list shows a caller of role (every
 * page; TG_ROLE_NONE: the anonymous caller), for the stream process to
 * tell whether a catalogue change is visible to that role. 0 or -TG_E_*.
 */
struct tg_config;
int tg_mcp_tools_digest(struct tg_db *db, const struct tg_config *cfg,
    enum tg_role role, unsigned char out[32]);

/*
 * tools/call: *result = a CallToolResult (new reference) on 0, including
 * tool failures (isError); -1 with err for protocol errors.
 */
int tg_mcp_tools_call(const struct tg_mcp_call *c, const char *name,
    json_t *arguments, json_t **result, struct tg_rpc_err *err);

#endif
