/*
 * approvals.c - REST wrappers over lib/approvals (docs/api.md "Approvals").
 *
 *   GET  /api/v1/approvals                        200 everything pending
 *   GET  /api/v1/module-requests                  200 list (?status=)
 *   POST /api/v1/module-requests                  201 | 409 | 422
 *   POST /api/v1/module-requests/:id/approve      200 | 403 | 404 | 409
 *   POST /api/v1/module-requests/:id/reject       200 | 403 | 404 | 409 | 422
 *   GET  /api/v1/network-requests                 200 list (?status=)
 *   POST /api/v1/network-requests                 201 | 404 | 409 | 422
 *   POST /api/v1/network-requests/:id/approve     200 | 403 | 404 | 409
 *   POST /api/v1/network-requests/:id/reject      200 | 403 | 404 | 409 | 422
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/approvals.h"
#include "lib/status.h"

int
tg_h_approvals_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK)
		rc = tg_approvals_pending(&c, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

#define LIST(hname, fn) \
int \
hname(struct tg_req *req, struct tg_resp *resp) \
{ \
	struct tg_call c = tg_req_call(req); \
	struct tg_err err; \
	struct tg_page pg = {0, NULL}; \
	json_t *out = NULL; \
	int rc; \
 \
	tg_err_init(&err); \
	if ((rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK) \
		rc = fn(&c, tg_req_query(req, "status"), &pg, &out, &err); \
	return tg_svc_reply(req, resp, rc, &err, out, 200); \
}

#define CREATE(hname, fn) \
int \
hname(struct tg_req *req, struct tg_resp *resp) \
{ \
	struct tg_call c = tg_req_call(req); \
	struct tg_err err; \
	json_t *out = NULL; \
	int rc; \
 \
	tg_err_init(&err); \
	rc = fn(&c, req->json, &out, &err); \
	return tg_svc_reply(req, resp, rc, &err, out, 201); \
}

#define DECIDE(hname, fn, approve) \
int \
hname(struct tg_req *req, struct tg_resp *resp) \
{ \
	struct tg_call c = tg_req_call(req); \
	struct tg_err err; \
	json_t *out = NULL; \
	int64_t id = 0; \
	int rc; \
 \
	tg_err_init(&err); \
	if ((rc = tg_svc_parse_id(tg_req_capture(req, "id"), "request", &id, \
	    &err)) == TG_OK) \
		rc = fn(&c, id, approve, req->json, &out, &err); \
	return tg_svc_reply(req, resp, rc, &err, out, 200); \
}

LIST(tg_h_module_requests_list, tg_module_requests_list)
LIST(tg_h_network_requests_list, tg_network_requests_list)
CREATE(tg_h_module_requests_create, tg_module_requests_create)
CREATE(tg_h_network_requests_create, tg_network_requests_create)
DECIDE(tg_h_module_requests_approve, tg_module_requests_decide, 1)
DECIDE(tg_h_module_requests_reject, tg_module_requests_decide, 0)
DECIDE(tg_h_network_requests_approve, tg_network_requests_decide, 1)
DECIDE(tg_h_network_requests_reject, tg_network_requests_decide, 0)
