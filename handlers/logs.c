/*
 * logs.c - REST wrappers over lib/logs (docs/api.md "Execution logs").
 * Permission TG_P_READ (viewer and up); never returns a secret (see
 * lib/logs.h for the redaction rules).
 *
 *   GET /api/v1/tools/:id/logs?status=&since=&limit=&cursor=
 *       200 {"items":[log], "next_cursor"} newest first | 404 unknown tool
 *   GET /api/v1/servers/:id/logs?status=&since=&limit=&cursor=
 *       200 the same for every tool of the server (:id is an id or a name)
 *       | 404 unknown server
 *   GET /api/v1/logs/:id   200 log with result, stdout, stderr | 404
 *
 * 400 for a malformed limit or cursor; 422 (field status or since) for an
 * unknown status or an unparseable timestamp.
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/logs.h"
#include "lib/servers.h"
#include "lib/status.h"

static int
query(struct tg_req *req, struct tg_page *pg, struct tg_logs_filter *f,
    struct tg_err *err)
{
	int rc;

	if (tg_req_parse_query(req) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ, "malformed query string");
	if ((rc = tg_svc_page_from_query(req, pg, err)) != TG_OK)
		return rc;
	f->status = tg_req_query(req, "status");
	f->since = tg_req_query(req, "since");
	return TG_OK;
}

int
tg_h_logs_tool(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	struct tg_logs_filter f = {NULL, NULL};
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_tool_capture(req, &id, &err)) == TG_OK &&
	    (rc = query(req, &pg, &f, &err)) == TG_OK)
		rc = tg_logs_list_tool(&c, id, &f, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_logs_server(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	struct tg_page pg = {0, NULL};
	struct tg_logs_filter f = {NULL, NULL};
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_h_server_capture(req, &id, &err)) == TG_OK &&
	    (rc = query(req, &pg, &f, &err)) == TG_OK)
		rc = tg_logs_list_server(&c, id, &f, &pg, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_logs_get(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_svc_parse_id(tg_req_capture(req, "id"), "execution log", &id,
	    &err)) == TG_OK)
		rc = tg_logs_get(&c, id, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}
