/*
 * secrets.c - REST wrappers over lib/secrets (docs/api.md "Secrets").
 * Values are write-only: no response carries one.
 *
 *   GET    /api/v1/servers/:id/secrets        200 list (names, has_value, times)
 *   POST   /api/v1/servers/:id/secrets        201 item | 403 value by non-admin | 409 | 422
 *   PUT    /api/v1/servers/:id/secrets/:key   200 item (admin; creates if missing)
 *   DELETE /api/v1/servers/:id/secrets/:key   204 | 404 (admin)
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/status.h"

int
tg_h_secrets_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &id, &err)) == TG_OK &&
	    (rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK &&
	    (rc = tg_svc_need(&c, TG_P_READ, &err)) == TG_OK)
		rc = tg_secrets_list(&c, id, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_secrets_create(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &id, &err)) == TG_OK)
		rc = tg_secrets_create(&c, id, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}

int
tg_h_secrets_set(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &id, &err)) == TG_OK)
		rc = tg_secrets_set(&c, id, tg_req_capture(req, "key"), req->json,
		    &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_secrets_delete(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &id, &err)) == TG_OK)
		rc = tg_secrets_delete(&c, id, tg_req_capture(req, "key"), &err);
	return tg_svc_reply(req, resp, rc, &err, NULL, 204);
}
