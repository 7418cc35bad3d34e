/*
 * mcp_mgmt.h - the toolgate_* management tools (lib/mcp_mgmt.c), for the
 * catalogue (lib/mcp_catalog.c: tools/list) and the dispatcher
 * (lib/mcp_calls.c: tools/call). Not for the transport: handlers/mcp.c
 * sees only lib/mcp_tools.h.
 */
#ifndef TG_MCP_MGMT_H
#define TG_MCP_MGMT_H

#include <jansson.h>

#include "lib/mcp_tools.h"

/* The index of the management tool called name, or -1. */
int tg_mcp_mgmt_find(const char *name);

/*
 * Appends to arr the descriptors ({name, description, inputSchema,
 * annotations}) of the management tools the caller of c may use (none
 * when anonymous). Each is a shared object built once per process (new
 * reference): do not modify it. 0, or -TG_E_NOMEM / -TG_E_INTERNAL.
 */
int tg_mcp_mgmt_list(const struct tg_call *c, json_t *arr);

/*
 * tools/call of management tool i (tg_mcp_mgmt_find): "Unknown tool"
 * (-32602) when the caller lacks its permission bit, -32602 with the reason
 * for arguments that break its inputSchema; else the service runs and
 * *result is its CallToolResult (isError with "<status>: <detail>" and
 * the field errors when the service refused). Returns as
 * tg_mcp_tools_call().
 */
int tg_mcp_mgmt_call(const struct tg_mcp_call *c, int i, json_t *args,
    json_t **result, struct tg_rpc_err *err);

#endif
