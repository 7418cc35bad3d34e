/*
 * servers.c - REST wrappers over lib/servers (the logic and the JSON
 * shapes are documented in lib/servers.h; docs/api.md "Servers").
 *
 *   GET    /api/v1/servers               200 {"items":[server], "next_cursor"}
 *   POST   /api/v1/servers               201 server | 409 name taken | 422
 *   GET    /api/v1/servers/:id           200 server | 404   (:id = id or name)
 *   PATCH  /api/v1/servers/:id           200 server | 404 | 409 | 422
 *   DELETE /api/v1/servers/:id           204 | 404 | 409 running
 *   POST   /api/v1/servers/:id/start     200 server | 404 | 409 name clash
 *   POST   /api/v1/servers/:id/stop      200 server | 404
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/servers.h"
#include "lib/status.h"

int
tg_h_servers_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK)
		rc = tg_servers_list(&c, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_servers_create(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_servers_create(&c, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}

int
tg_h_servers_get(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_server_capture, tg_servers_get, 200);
}

int
tg_h_servers_update(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_body(req, resp, tg_h_server_capture, tg_servers_update, 200);
}

int
tg_h_servers_delete(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_delete(req, resp, tg_h_server_capture, tg_servers_delete);
}

int
tg_h_servers_start(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_server_capture, tg_servers_start, 200);
}

int
tg_h_servers_stop(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_id(req, resp, tg_h_server_capture, tg_servers_stop, 200);
}
