/*
 * mcp_conn.h - what the files of the /mcp transport share (internal; the
 * seam for tests is handlers/mcp.h).
 *
 * The transport is split along its seams:
 *   handlers/mcp.c      the endpoint: era selection, Origin, auth, Accept,
 *                       Content-Type and protocol-version checks, body
 *                       parsing, POST/DELETE/405
 *   handlers/mcp_rpc.c  JSON-RPC 2.0 messages and the method table shared
 *                       by both eras (dispatch), cached result texts
 *   handlers/mcp_sse.c  the response: plain JSON, or an SSE stream of tool
 *                       progress/log notifications with bounded writes
 *   handlers/mcp2025.c  the 2025 era: sessions (and DELETE), initialize,
 *                       batches
 *   handlers/mcp2026.c  the 2026-07-28 era: stateless, per-request
 *                       metadata and header checks, result decoration
 * One struct tg_mcp_conn lives on tg_mcp_serve()'s stack for the request;
 * every function here takes it (or less) and nothing outlives the request
 * except the cached result texts of mcp_rpc.c.
 */
#ifndef TG_MCP_CONN_H
#define TG_MCP_CONN_H

#include <stdint.h>

#include <jansson.h>

#include "handlers/mcp.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0-dev"
#endif

#define TG_MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define TG_MCP_META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define TG_MCP_META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define TG_MCP_META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define TG_MCP_SSE_RETRY_MS 3000	/* the retry: of a 2025 session stream */

/* The request being served. */
struct tg_mcp_conn {
	struct tg_req *req;
	struct tg_resp *resp;
	const struct tg_mcp_backend *be;
	enum tg_mcp_era era;
	const char *version;
	struct tg_mcp_session session;
	int have_session;
	/* streaming (handlers/mcp_sse.c) */
	int sse_ok;		/* Accept admits text/event-stream */
	int streaming;		/* SSE headers are out: respond writes events */
	int dropping;		/* reliability: events dropped (client not reading) */
	int gone;		/* a write failed: the client is gone */
	/* 2025 session streams (SEP-1699): every event has an id
	 * "<stream>-<n>", unique in the session; "<stream>-0" primes. */
	char sse_stream[17];
	unsigned sse_seq;
	int log_min;		/* lowest log level index forwarded; -1: none */
	json_t *progress_token;	/* borrowed from the request; NULL: none */
	double last_progress;
	int have_progress;
	/* The stamp of a cached result (tools/list) the backend returned for
	 * the last dispatched request; 0: none. See tg_mcp_respond_stamped(). */
	uint64_t stamp;
};

/* A method of either era (the table is in handlers/mcp_rpc.c). */
struct tg_mcp_method {
	const char *name;
	int eras;		/* mask of 1 << enum tg_mcp_era */
	/* NULL: never dispatched here, "Method not found" */
	int (*fn)(struct tg_mcp_conn *cn, const struct tg_mcp_call *c,
	    json_t *params, json_t **result, struct tg_rpc_err *err);
	/* 2026-07-28 CacheableResult: "public" / "private", NULL when the
	 * result is not cacheable; ttl_ms the freshness hint. */
	const char *cache_scope;
	int ttl_ms;
};

enum tg_mcp_msg {
	TG_MCP_MSG_INVALID,
	TG_MCP_MSG_REQUEST,
	TG_MCP_MSG_NOTIFICATION,
	TG_MCP_MSG_RESPONSE,
};

/* --- handlers/mcp.c --- */

/* 1 when s (may be NULL) is in the NULL-terminated list. */
int tg_mcp_in_list(const char *const *list, const char *s);
/* Every version served, newest first (both eras); new reference. */
json_t *tg_mcp_supported_versions(void);

/* --- handlers/mcp_rpc.c --- */

/* {"jsonrpc":"2.0","id":id,"error":{...}}; id borrowed (NULL -> null),
 * data stolen. New reference, NULL when out of memory. */
json_t *tg_mcp_rpc_error(json_t *id, int code, const char *message,
    json_t *data);
/* The error response for err (code/message defaulted to Internal error);
 * takes err->data. */
json_t *tg_mcp_rpc_error_from(json_t *id, struct tg_rpc_err *err);
/* {"jsonrpc":"2.0","id":id,"result":result}; result stolen. */
json_t *tg_mcp_rpc_result(json_t *id, json_t *result);
/* A transport-level refusal: HTTP status plus a JSON-RPC error body
 * answering id (borrowed, NULL -> null); data stolen. */
int tg_mcp_refuse(struct tg_resp *resp, int http, json_t *id, int code,
    const char *message, json_t *data);
/* Classifies msg; *id is the id to answer with (borrowed, or NULL). */
enum tg_mcp_msg tg_mcp_classify(json_t *msg, json_t **id);
/* Index of a LoggingLevel (debug .. emergency), or -1. */
int tg_mcp_level_index(const char *s);
/* params._meta when it is an object, else NULL (borrowed). */
json_t *tg_mcp_meta(json_t *params);
/* Adds capabilities, serverInfo and instructions (initialize,
 * server/discover). */
int tg_mcp_add_server_card(json_t *result);
const struct tg_mcp_method *tg_mcp_find_method(const char *name,
    enum tg_mcp_era era);
/* Runs one request of either era; 0 and *result, or err. */
int tg_mcp_dispatch(struct tg_mcp_conn *cn, const char *method,
    json_t *params, json_t **result, struct tg_rpc_err *err);
/* {"jsonrpc":"2.0","id":id,"result":<cached text of result>} as the
 * body, for a result the backend stamped (cn->stamp != 0). */
int tg_mcp_respond_stamped(struct tg_mcp_conn *cn, json_t *id,
    const json_t *result);

/* --- handlers/mcp_sse.c --- */

/* Sandbox event -> notification on the response stream (tg_mcp_call's
 * on_event; ctx is the conn). */
int tg_mcp_on_tool_event(void *ctx, const json_t *ev);
/* The final response (msg stolen): the last SSE event when streaming,
 * else a JSON body with the given status. */
int tg_mcp_respond(struct tg_mcp_conn *cn, int http, json_t *msg);

/* --- handlers/mcp2025.c, handlers/mcp2026.c --- */

int tg_mcp_serve_2025(struct tg_mcp_conn *cn, json_t *body, const char *hv);
/* DELETE: ends the session named in Mcp-Session-Id (204). */
int tg_mcp_delete_2025(struct tg_mcp_conn *cn);
int tg_mcp_serve_2026(struct tg_mcp_conn *cn, json_t *body, const char *hv);
/* GET /mcp of a 2025 session: checks Accept and the session, then
 * hands the stream over (handlers/mcp_stream.c). */
int tg_mcp_get_2025(struct tg_mcp_conn *cn, const char *hv);

/* --- handlers/mcp_stream.c --- */

/* Hands a checked stream request over to the stream process (200 with
 * X-Accel-Redirect and a signed ticket): the session's GET stream, or a
 * subscriptions/listen request (id and params borrowed). */
int tg_mcp_stream_get(struct tg_mcp_conn *cn);
int tg_mcp_stream_listen(struct tg_mcp_conn *cn, json_t *id, json_t *params);

/* Adds resultType, _meta serverInfo and the cache hints of m. */
int tg_mcp_decorate_2026(json_t *result, const struct tg_mcp_method *m);

#endif
