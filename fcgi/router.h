/*
 * router.h - the route table type and the generic request pipeline.
 *
 * The only list of endpoints is tg_route_table() (handlers/routes.c: its
 * own rows and those of the operation table, lib/ops.c). The
 * router does, in order: CORS preflight, path match (404 / 405 + Allow),
 * size check against CONTENT_LENGTH (413), content type (415), access
 * control (tg_access_check: authentication, role, rate limit), body read,
 * JSON parse (400), the handler, and rendering of any failure as
 * problem+json, then one access log line.
 */
#ifndef TG_ROUTER_H
#define TG_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi/request.h"
#include "fcgi/response.h"

typedef int (*tg_handler_fn)(struct tg_req *req, struct tg_resp *resp);

enum tg_route_flags {
	TG_R_AUTH = 1 << 0,	/* authenticated caller required */
	TG_R_JSON = 1 << 1,	/* body required: a JSON object or array */
	TG_R_JSON_OPT = 1 << 2,	/* body optional; JSON when present */
	TG_R_TEST = 1 << 3,	/* only with TOOLGATE_TEST_ROUTES=1 */
	TG_R_RAW = 1 << 4,	/* body read raw, not parsed (handler parses) */
	TG_R_STREAM = 1 << 5,	/* handler may stream (SSE) */
	/* Authenticate when credentials are presented (invalid ones: 401);
	 * without any, pass on anonymously and let the handler decide
	 * (/mcp under TOOLGATE_MCP_AUTH=none). */
	TG_R_AUTH_OPTIONAL = 1 << 6,
};

struct tg_route {
	const char *method;
	const char *pattern;	/* "/api/v1/tools/:id" */
	unsigned flags;
	size_t max_body;	/* 0: no body accepted; else bytes */
	unsigned perm;		/* permission bit needed (see lib/call.h), 0 none */
	tg_handler_fn handler;
};

/* The route table, ended by a {NULL} row (handlers/routes.c; built on
 * first use, no allocation). */
const struct tg_route *tg_route_table(void);

/*
 * Finds the route for method+path in table. Returns the route, or NULL with
 * *status = 404 (no path matched) or 405 (path matched, method not; then
 * allow (cap bytes) lists the methods, comma separated). Captures go into
 * req->params (decoded). path is the raw path.
 */
const struct tg_route *tg_router_find(const struct tg_route *table,
    struct tg_req *req, const char *method, const char *path, int *status,
    char *allow, size_t cap);

/* Serves one request end to end. Never fails: errors are rendered. */
void tg_router_serve(struct tg_req *req);

#endif
