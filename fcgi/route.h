/*
 * route.h - one row of the route table: method, pattern, flags, body limit,
 * permission bit and handler. The table is tg_routes[] (handlers/routes.c,
 * declared in fcgi/router.h); the router (fcgi/router.c) matches it and the
 * access step (fcgi/access.c) reads the matched row's flags and permission,
 * so both include this header and neither includes the other's.
 */
#ifndef TG_ROUTE_H
#define TG_ROUTE_H

#include <stddef.h>

struct tg_req;
struct tg_resp;

typedef int (*tg_handler_fn)(struct tg_req *req, struct tg_resp *resp);

enum tg_route_flags {
	TG_R_AUTH = 1 << 0, /* authenticated caller required */
	TG_R_JSON = 1 << 1, /* body required: a JSON object or array */
	TG_R_JSON_OPT = 1 << 2, /* body optional; JSON when present */
	TG_R_TEST = 1 << 3, /* only with TOOLGATE_TEST_ROUTES=1 */
	TG_R_RAW = 1 << 4, /* body read raw, not parsed (handler parses) */
	TG_R_STREAM = 1 << 5, /* handler may stream (SSE) */
	/* Authenticate when credentials are presented (invalid ones: 401);
	 * without any, pass on anonymously and let the handler decide
	 * (/mcp under TOOLGATE_MCP_AUTH=none). */
	TG_R_AUTH_OPTIONAL = 1 << 6,
	/* An OAuth protected resource (/mcp): accepts OAuth access tokens
	 * whose audience is this server's /mcp (every other route refuses
	 * them), and its 401s point to the protected-resource metadata
	 * (lib/oauth.h). */
	TG_R_OAUTH = 1 << 7,
};

struct tg_route {
	const char *method;
	const char *pattern; /* "/api/v1/tools/:id" */
	unsigned flags;
	size_t max_body; /* 0: no body accepted; else bytes */
	unsigned perm; /* permission bit needed (see lib/call.h), 0 none */
	tg_handler_fn handler;
};

#endif
