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
#include "fcgi/route.h"	/* struct tg_route, TG_R_* */

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
