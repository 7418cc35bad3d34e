/*
 * mcp.h - the /mcp transport's seam for tests.
 *
 * tg_mcp_serve() is the whole Streamable HTTP transport for one request;
 * the handlers in handlers.h call it with tg_mcp_backend_db (sessions in
 * PostgreSQL, tools from lib/mcp_tools.c). Unit tests pass an in-memory
 * backend and drive it through the fake transport.
 */
#ifndef TG_MCP_H
#define TG_MCP_H

#include <jansson.h>

#include "lib/mcp_session.h"
#include "lib/mcp_tools.h"

struct tg_req;
struct tg_resp;

struct tg_mcp_backend {
	int (*session_create)(struct tg_req *req, const char *version,
	    const json_t *client_info, const json_t *caps,
	    struct tg_mcp_session *out);
	int (*session_get)(struct tg_req *req, const char *id,
	    struct tg_mcp_session *out);
	int (*session_delete)(struct tg_req *req, const char *id);
	int (*session_initialized)(struct tg_req *req,
	    const struct tg_mcp_session *s);
	int (*session_log_level)(struct tg_req *req,
	    const struct tg_mcp_session *s, const char *level);
	/* *stamp: see tg_mcp_tools_list (0: the result is not cached). */
	int (*tools_list)(const struct tg_mcp_call *c, const char *cursor,
	    json_t **result, uint64_t *stamp, struct tg_rpc_err *err);
	int (*tools_call)(const struct tg_mcp_call *c, const char *name,
	    json_t *arguments, json_t **result, struct tg_rpc_err *err);
};

extern const struct tg_mcp_backend tg_mcp_backend_db;

/* Protocol versions of the 2025 era, newest first; NULL-terminated. */
extern const char *const tg_mcp_versions_2025[];
/* Protocol versions of the stateless era (2026-07-28). */
extern const char *const tg_mcp_versions_2026[];

/* MCP error codes of 2026-07-28 (basic/index "Error Codes"). */
#define TG_MCP_HEADER_MISMATCH -32020
#define TG_MCP_MISSING_CLIENT_CAPABILITY -32021	/* never needed here */
#define TG_MCP_UNSUPPORTED_VERSION -32022

/* Serves POST/DELETE (and refuses GET) on /mcp, either era. */
int tg_mcp_serve(struct tg_req *req, struct tg_resp *resp,
    const struct tg_mcp_backend *be);

#endif
