/*
 * call.c - the service context's transaction runners (call.h).
 */
#include <stdio.h>

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/db.h"
#include "lib/err.h"
#include "lib/rows.h"
#include "lib/status.h"

int
tg_call_tx(const struct tg_call *c,
    int (*body)(const struct tg_call *c, void *arg, struct tg_err *err),
    void *arg, struct tg_err *err)
{
	int rc;

	if ((rc = tg_db_begin(c->db)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = body(c, arg, err)) == TG_OK)
		rc = tg_db_commit(c->db);
	if (rc != TG_OK)
		tg_db_rollback(c->db);
	return tg_err_from(err, rc);
}

static int
row_op(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct tg_row_op *op = arg;
	PGresult *res = NULL;
	char target[96];
	int rc;

	if (op->pre != NULL && (rc = op->pre(c, op->pre_arg, err)) != TG_OK)
		return rc;
	rc = tg_db_exec(c->db, op->sql, op->np, op->p, &res);
	if (rc == -TG_E_CONFLICT && op->conflict != NULL)
		rc = tg_err_set(err, TG_E_CONFLICT, "%s", op->conflict);
	if (rc != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "%s", op->missing);
		goto out;
	}
	snprintf(target, sizeof(target), "%s:%s", op->kind,
	    op->id ? op->id : PQgetvalue(res, 0, 1));
	if ((rc = tg_audit_call(c, op->action, target, "ok", (json_t *)op->detail)) != TG_OK)
		goto out;
	if ((op->row = tg_rows_json(PQgetvalue(res, 0, 0))) == NULL)
		rc = -TG_E_NOMEM;
out:
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_call_row_op(const struct tg_call *c, struct tg_row_op *op, struct tg_err *err)
{
	int rc;

	op->row = NULL;
	if ((rc = tg_call_tx(c, row_op, op, err)) != TG_OK) {
		json_decref(op->row);
		op->row = NULL;
	}
	return rc;
}
