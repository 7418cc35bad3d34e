/*
 * sources.c - REST wrappers over lib/sources (logic, JSON shapes, roles and
 * the circuit breaker are documented in lib/sources.h; docs/api.md
 * "External sources"). Credentials are write-only: no response carries one.
 *
 *   GET    /api/v1/servers/:id/sources      200 list (?limit=&cursor=) | 404
 *   POST   /api/v1/servers/:id/sources      201 source | 403 | 404 | 409 | 422
 *   GET    /api/v1/sources/:id              200 source | 404
 *   PATCH  /api/v1/sources/:id              200 source | 403 | 404 | 409 | 422
 *   DELETE /api/v1/sources/:id              204 | 404 (its imported tools go too)
 *   POST   /api/v1/sources/:id/discover     200 remote tools | 404 | 503/504 source failed
 *   POST   /api/v1/sources/:id/import       200 imported tools | 409 | 422 | 503/504
 *   GET    /api/v1/sources/:id/health       200 {"ok", "latency_ms", ...} | 404
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/status.h"

int
tg_h_sources_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int64_t sid = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &sid, &err)) == TG_OK &&
	    (rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK)
		rc = tg_sources_list(&c, sid, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_sources_create(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_body(req, resp, tg_h_server_capture, tg_sources_create, 201);
}

int
tg_h_sources_get(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_source_capture, tg_sources_get, 200);
}

int
tg_h_sources_update(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_body(req, resp, tg_h_source_capture, tg_sources_update, 200);
}

int
tg_h_sources_delete(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_delete(req, resp, tg_h_source_capture, tg_sources_delete);
}

int
tg_h_sources_discover(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_source_capture, tg_sources_discover, 200);
}

int
tg_h_sources_import(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_body(req, resp, tg_h_source_capture, tg_sources_import, 200);
}

int
tg_h_sources_health(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_source_capture, tg_sources_health, 200);
}
