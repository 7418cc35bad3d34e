/*
 * tools.c - REST wrappers over lib/tools (logic, JSON shapes and the
 * workflow are documented in lib/tools.h; docs/api.md "Tools").
 *
 *   GET    /api/v1/servers/:id/tools        200 list (?status=&limit=&cursor=)
 *   POST   /api/v1/servers/:id/tools        201 tool | 404 | 409 | 422
 *   GET    /api/v1/tools/:id                200 tool (with code) | 404
 *   PATCH  /api/v1/tools/:id                200 tool | 404 | 409 | 422
 *   DELETE /api/v1/tools/:id                204 | 404
 *   GET    /api/v1/tools/:id/versions       200 list
 *   GET    /api/v1/tools/:id/versions/:n    200 version (with code) | 404
 *   POST   /api/v1/tools/:id/rollback       200 tool | 404 | 422 {"version"}
 *   POST   /api/v1/tools/:id/submit         200 tool
 *   POST   /api/v1/tools/:id/approve        200 tool | 403 | 409 (admin)
 *   POST   /api/v1/tools/:id/reject         200 tool | 403 | 409 | 422 no reason
 *   POST   /api/v1/tools/:id/revoke         200 tool | 403 | 409 | 422 no reason
 *   GET    /api/v1/tools/:id/diff           200 diff against the last approved version
 *   POST   /api/v1/tools/:id/test           200 sandbox result | 503
 *   POST   /api/v1/validate                 200 {"ok","errors",...} | 503
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/parse.h"
#include "lib/servers.h"
#include "lib/status.h"
#include "lib/tools.h"

int
tg_h_tools_list(struct tg_req *req, struct tg_resp *resp)
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
		rc = tg_tools_list(&c, sid, tg_req_query(req, "status"), &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_tools_create(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_body(req, resp, tg_h_server_capture, tg_tools_create, 201);
}

int
tg_h_tools_delete(struct tg_req *req, struct tg_resp *resp)
{
	return tg_h_on_delete(req, resp, tg_h_tool_capture, tg_tools_delete);
}

int
tg_h_tools_version_get(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0, n = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_tool_capture(req, &id, &err)) == TG_OK) {
		if (tg_parse_i64(tg_req_capture(req, "n"), 1, 2147483647, &n) != TG_OK)
			rc = tg_err_set(&err, TG_E_NOTFOUND, "no such version");
		else
			rc = tg_tools_version_get(&c, id, n, &out, &err);
	}
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_tools_versions(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_tool_capture(req, &id, &err)) == TG_OK &&
	    (rc = tg_svc_page_from_query(req, &pg, &err)) == TG_OK)
		rc = tg_tools_versions(&c, id, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

/* The id-only GETs and the id + body POSTs share one shape each. */
#define TOOL_GET(hname, fn) \
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
	if ((rc = tg_h_tool_capture(req, &id, &err)) == TG_OK) \
		rc = fn(&c, id, &out, &err); \
	return tg_svc_reply(req, resp, rc, &err, out, 200); \
}

#define TOOL_POST(hname, fn) \
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
	if ((rc = tg_h_tool_capture(req, &id, &err)) == TG_OK) \
		rc = fn(&c, id, req->json, &out, &err); \
	return tg_svc_reply(req, resp, rc, &err, out, 200); \
}

TOOL_GET(tg_h_tools_get, tg_tools_get)
TOOL_GET(tg_h_tools_diff, tg_tools_diff)
TOOL_POST(tg_h_tools_update, tg_tools_update)
TOOL_POST(tg_h_tools_rollback, tg_tools_rollback)
TOOL_POST(tg_h_tools_submit, tg_tools_submit)
TOOL_POST(tg_h_tools_approve, tg_tools_approve)
TOOL_POST(tg_h_tools_reject, tg_tools_reject)
TOOL_POST(tg_h_tools_revoke, tg_tools_revoke)
TOOL_POST(tg_h_tools_test, tg_tools_test)

int
tg_h_validate(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_tools_validate(&c, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}
