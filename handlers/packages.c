/*
 * packages.c - REST wrappers over lib/packages (docs/api.md "Packages").
 *
 *   GET  /api/v1/package-requests               200 list (?status=)
 *   POST /api/v1/package-requests               201 | 404 | 409 | 422 | 503
 *   GET  /api/v1/package-requests/:id           200 | 404
 *   POST /api/v1/package-requests/:id/approve   200 | 403 | 404 | 409 | 422 | 503
 *   POST /api/v1/package-requests/:id/reject    200 | 403 | 404 | 409
 *   POST /api/v1/package-requests/:id/revoke    200 | 403 | 404 | 409
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/packages.h"
#include "lib/status.h"

int
tg_h_packages_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK)
		rc = tg_packages_list(&c, tg_req_query(req, "status"), &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_packages_create(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_packages_create(&c, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}

int
tg_h_packages_get(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_parse_id(tg_req_capture(req, "id"), "package request", &id,
		 &err)) == TG_OK)
		rc = tg_packages_get(&c, id, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

static int
decide(struct tg_req *req, struct tg_resp *resp, enum tg_pkg_action action)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_parse_id(tg_req_capture(req, "id"), "package request", &id,
		 &err)) == TG_OK)
		rc = tg_packages_decide(&c, id, action, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_packages_approve(struct tg_req *req, struct tg_resp *resp)
{
	return decide(req, resp, TG_PKG_APPROVE);
}

int
tg_h_packages_reject(struct tg_req *req, struct tg_resp *resp)
{
	return decide(req, resp, TG_PKG_REJECT);
}

int
tg_h_packages_revoke(struct tg_req *req, struct tg_resp *resp)
{
	return decide(req, resp, TG_PKG_REVOKE);
}
