/*
 * audit_query.c - reading the audit trail (tg_audit_query in audit.h), for
 * GET /api/v1/audit (the audit.list row of lib/ops.c).
 */
#include <stdio.h>

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/err.h"
#include "lib/status.h"
#include "lib/svc.h"


int
tg_audit_query(const struct tg_call *c, const struct tg_audit_filter *f,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	struct tg_keyset ks;
	const char *p[7];
	json_t *rows = NULL;
	int rc;

	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	if (!tg_call_can(c, TG_P_AUDIT))
		return tg_err_set(err, TG_E_FORBIDDEN, "only an admin reads the audit trail");
	if ((rc = tg_keyset_args(pg, &ks, err)) != TG_OK)
		return rc;
	p[0] = ks.after;
	p[1] = ks.limit1;
	p[2] = f->actor;
	p[3] = f->action;
	p[4] = f->target;
	p[5] = f->since;
	p[6] = f->until;
	rc = tg_svc_query_array(c->db,
	    "SELECT json_build_object('id', id, 'at', " TG_SQL_TS("at") ","
	    " 'actor_id', actor_id, 'actor', actor, 'role', role, 'action', action,"
	    " 'target', target, 'request_id', request_id, 'client_addr', client_addr,"
	    " 'outcome', outcome, 'detail', detail, 'hash', hash)::text"
	    " FROM audit_log WHERE ($1::bigint = 0 OR id < $1::bigint)"
	    " AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR action = $4)"
	    " AND ($5::text IS NULL OR target = $5)"
	    " AND ($6::timestamptz IS NULL OR at >= $6::timestamptz)"
	    " AND ($7::timestamptz IS NULL OR at < $7::timestamptz)"
	    " ORDER BY id DESC LIMIT $2::bigint", 7, p, &rows);
	if (rc == -TG_E_UNPROCESSABLE)
		return tg_err_field(err, "since/until", "not an ISO 8601 timestamp");
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, ks.limit, "id", out));
}
