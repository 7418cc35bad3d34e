/*
 * audit.c - reading and verifying the audit trail (TG_P_AUDIT, admin).
 *
 *   GET /api/v1/audit?actor=&action=&target=&since=&until=&limit=&cursor=
 *       newest first -> {"items":[{id, at, actor_id, actor, role, action,
 *       target, request_id, client_addr, outcome, detail, hash}],
 *       "next_cursor": "<id>"|null}. Filters are exact matches; since/until
 *       are ISO 8601 timestamps (422 when unparseable). The query is the
 *       service tg_audit_query (lib/audit_query.c).
 *   GET /api/v1/audit/verify -> {"ok", "rows", "checked_through", "problems"}
 *       (lib/audit.h): recomputes every row's SHA-256 and the chain links.
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "handlers/reply.h"
#include "lib/audit.h"
#include "lib/status.h"
#include "lib/svc.h"

int
tg_h_audit_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_audit_filter f;
	struct tg_err err;
	int64_t limit, cursor;
	json_t *out = NULL;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	f.actor = tg_req_query(req, "actor");
	f.action = tg_req_query(req, "action");
	f.target = tg_req_query(req, "target");
	f.since = tg_req_query(req, "since");
	f.until = tg_req_query(req, "until");
	tg_err_init(&err);
	rc = tg_audit_query(&c, &f, limit, cursor, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_audit_verify(struct tg_req *req, struct tg_resp *resp)
{
	json_t *out = NULL;
	int rc;

	if ((rc = tg_audit_verify(req->ctx->db, &out)) != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, out);
}
