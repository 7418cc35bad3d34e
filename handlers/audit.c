/*
 * audit.c - reading and verifying the audit trail (TG_P_AUDIT, admin).
 *
 *   GET /api/v1/audit?actor=&action=&target=&since=&until=&limit=&cursor=
 *       newest first -> {"items":[{id, at, actor_id, actor, role, action,
 *       target, request_id, client_addr, outcome, detail, hash}],
 *       "next_cursor": "<id>"|null}. Filters are exact matches; since/until
 *       are ISO 8601 timestamps (422 when unparseable).
 *   GET /api/v1/audit/verify -> {"ok", "rows", "checked_through", "problems"}
 *       (lib/audit.h): recomputes every row's SHA-256 and the chain links.
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "lib/audit.h"
#include "lib/db.h"
#include "lib/rows.h"
#include "lib/status.h"

int
tg_h_audit_list(struct tg_req *req, struct tg_resp *resp)
{
	int64_t limit, cursor;
	char lim[24], cur[24];
	const char *p[7];
	PGresult *res = NULL;
	json_t *out = NULL;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	snprintf(lim, sizeof(lim), "%lld", (long long)limit + 1);
	snprintf(cur, sizeof(cur), "%lld", (long long)cursor);
	p[0] = cursor > 0 ? cur : NULL;
	p[1] = lim;
	p[2] = tg_req_query(req, "actor");
	p[3] = tg_req_query(req, "action");
	p[4] = tg_req_query(req, "target");
	p[5] = tg_req_query(req, "since");
	p[6] = tg_req_query(req, "until");
	rc = tg_db_exec(req->ctx->db,
	    "SELECT json_build_object('id', id, 'at', " TG_SQL_TS("at") ","
	    " 'actor_id', actor_id, 'actor', actor, 'role', role, 'action', action,"
	    " 'target', target, 'request_id', request_id, 'client_addr', client_addr,"
	    " 'outcome', outcome, 'detail', detail, 'hash', hash)::text, id"
	    " FROM audit_log WHERE ($1::bigint IS NULL OR id < $1::bigint)"
	    " AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR action = $4)"
	    " AND ($5::text IS NULL OR target = $5)"
	    " AND ($6::timestamptz IS NULL OR at >= $6::timestamptz)"
	    " AND ($7::timestamptz IS NULL OR at < $7::timestamptz)"
	    " ORDER BY id DESC LIMIT $2::int", 7, p, &res);
	if (rc == -TG_E_UNPROCESSABLE)
		return tg_idu_bad_field(req, resp, "since/until", "not an ISO 8601 timestamp");
	if (rc != TG_OK)
		return rc;
	rc = tg_rows_page(res, 0, 1, limit, &out);
	PQclear(res);
	if (rc != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, out);
}

int
tg_h_audit_verify(struct tg_req *req, struct tg_resp *resp)
{
	json_t *out = NULL;
	int rc;

	(void)resp;
	if ((rc = tg_audit_verify(req->ctx->db, &out)) != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, out);
}
