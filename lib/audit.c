/*
 * audit.c - appends to and verifies the hash-chained audit_log (audit.h).
 * The chain arithmetic lives in SQL (audit_append / audit_row_hash in
 * sql/002_identity.sql) so that there is exactly one canonical form, used by
 * both the writer and the verifier. Also the audited transactions every
 * mutating service runs in (tg_call_tx, tg_call_row_op, tg_call_insert):
 * the change and its audit row commit together or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/access_db.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/db.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/rows.h"
#include "lib/status.h"

#define VERIFY_MAX_PROBLEMS 100

int
tg_audit_write(struct tg_db *db, const struct tg_audit_rec *rec)
{
	char idbuf[24];
	char *detail = NULL;
	const char *p[9];
	int rc;

	if (db == NULL || rec->action == NULL || rec->outcome == NULL)
		return -TG_E_INTERNAL;
	if (rec->detail != NULL) {
		detail = json_dumps(rec->detail, JSON_COMPACT | JSON_ENCODE_ANY);
		if (detail == NULL)
			return -TG_E_NOMEM;
	}
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)rec->actor_id);
	p[0] = rec->actor_id > 0 ? idbuf : NULL;
	p[1] = rec->actor ? rec->actor : "-";
	p[2] = rec->role ? rec->role : "-";
	p[3] = rec->action;
	p[4] = rec->target ? rec->target : "";
	p[5] = rec->request_id ? rec->request_id : "";
	p[6] = rec->client_addr ? rec->client_addr : "";
	p[7] = rec->outcome;
	p[8] = detail;
	rc = tg_db_exec(db,
	    "SELECT audit_append($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
	    9, p, NULL);
	if (rc != TG_OK)
		tg_log(TG_LOG_ERR, "audit.append_failed", "action=%s outcome=%s",
		    tg_log_q(rec->action), tg_log_q(rec->outcome));
	free(detail);
	return rc;
}

int
tg_audit_call(const struct tg_call *c, const char *action, const char *target,
    const char *outcome, json_t *detail)
{
	struct tg_audit_rec rec;
	const struct tg_principal *who = c->who;
	char actor[160];

	memset(&rec, 0, sizeof(rec));
	if (c->actor != NULL) {
		rec.actor = c->actor;
	} else if (who != NULL && who->authenticated) {
		rec.actor_id = who->user_id;
		if (who->api_key_id > 0)
			snprintf(actor, sizeof(actor), "key:%lld/%s",
			    (long long)who->api_key_id,
			    who->username ? who->username : "?");
		else
			snprintf(actor, sizeof(actor), "%s",
			    who->username ? who->username : "?");
		rec.actor = actor;
		rec.role = tg_role_name(who->role);
	}
	rec.action = action;
	rec.target = target;
	rec.request_id = c->request_id;
	rec.client_addr = c->client_addr;
	rec.outcome = outcome;
	rec.detail = detail;
	return tg_audit_write(c->db, &rec);
}

int
tg_audit_reject_call(const struct tg_call *c, const char *action,
    const char *outcome, const char *reason)
{
	json_t *detail = NULL;
	char *bucket = NULL;
	int64_t hits = 0, h;

	if (c->db == NULL)
		return TG_OK;
	if (asprintf(&bucket, "rej:%s|%s|%s", action, reason,
	    c->client_addr ? c->client_addr : "") < 0)
		return -TG_E_NOMEM;
	if (tg_access_count_hit(c->db, bucket, TG_AUDIT_REJECT_INTERVAL, &hits) != TG_OK)
		hits = 1;	/* the counter failed: audit this one */
	free(bucket);
	for (h = hits; h % 10 == 0; h /= 10)
		;
	if (h != 1)
		return TG_OK;
	detail = json_pack("{s:s, s:I, s:i, s:s, s:s}", "reason", reason, "count",
	    (json_int_t)hits, "interval_seconds", TG_AUDIT_REJECT_INTERVAL, "method",
	    c->method ? c->method : "", "path", c->path ? c->path : "");
	if (detail == NULL)
		return -TG_E_NOMEM;
	(void)tg_audit_call(c, action, "", outcome, detail);
	json_decref(detail);
	return TG_OK;
}

int
tg_audit_verify(struct tg_db *db, json_t **out)
{
	PGresult *res = NULL;
	json_t *root = NULL, *probs = NULL;
	int rc, i, n;
	long long rows = 0;

	rc = tg_db_exec(db,
	    "WITH c AS ("
	    " SELECT id, hash = audit_row_hash(prev_hash, id, at, actor_id, actor,"
	    "   role, action, target, request_id, client_addr, outcome, detail) AS row_ok,"
	    "  prev_hash = COALESCE(lag(hash) OVER (ORDER BY id), repeat('0', 64)) AS link_ok"
	    " FROM audit_log)"
	    "SELECT (SELECT count(*) FROM c), (SELECT max(id) FROM c), id, row_ok, link_ok"
	    " FROM (SELECT 0 AS k) one LEFT JOIN LATERAL"
	    " (SELECT id, row_ok, link_ok FROM c WHERE NOT row_ok OR NOT link_ok"
	    "  ORDER BY id LIMIT 100) bad ON true",
	    0, NULL, &res);
	if (rc != TG_OK)
		goto out;
	if ((probs = json_array()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	n = PQntuples(res);
	if (n > 0)
		rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	for (i = 0; i < n && i < VERIFY_MAX_PROBLEMS; i++) {
		if (PQgetisnull(res, i, 2))
			continue;
		if (json_array_append_new(probs, json_pack("{s:I, s:s}", "id",
		    (json_int_t)strtoll(PQgetvalue(res, i, 2), NULL, 10), "problem",
		    PQgetvalue(res, i, 3)[0] != 't' ? "hash mismatch" : "chain broken")) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	}
	/* "o" steals probs, on failure too */
	root = json_pack("{s:b, s:I, s:o, s:o}", "ok", json_array_size(probs) == 0,
	    "rows", (json_int_t)rows, "checked_through", n > 0 && !PQgetisnull(res, 0, 1) ?
	    json_integer(strtoll(PQgetvalue(res, 0, 1), NULL, 10)) : json_null(),
	    "problems", probs);
	probs = NULL;
	rc = root != NULL ? TG_OK : -TG_E_NOMEM;
out:
	PQclear(res);
	json_decref(probs);
	return tg_json_hand(out, root, rc);
}

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

int
tg_call_tx_read(const struct tg_call *c,
    int (*body)(const struct tg_call *c, void *arg, struct tg_err *err),
    void *arg, int (*read)(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err), const int64_t *id, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_call_tx(c, body, arg, err)) != TG_OK)
		return rc;
	return read(c, *id, out, err);
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
	if ((rc = tg_audit_call(c, op->action, target, TG_AUDIT_OK, (json_t *)op->detail)) != TG_OK)
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

static int
insert(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct tg_insert_op *op = arg;
	PGresult *res = NULL;
	int rc;

	if (op->pre != NULL && (rc = op->pre(c, op->arg, err)) != TG_OK)
		return rc;
	rc = tg_db_exec(c->db, op->sql, op->np, op->p, &res);
	if (rc != TG_OK) {
		rc = op->on_error ? op->on_error(c, rc, op->arg, err) : rc;
		goto out;
	}
	if (PQntuples(res) != 1) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	snprintf(op->id, sizeof(op->id), "%s", PQgetvalue(res, 0, 0));
	rc = tg_audit_call(c, op->action, op->id, TG_AUDIT_OK, (json_t *)op->detail);
out:
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_call_insert(const struct tg_call *c, struct tg_insert_op *op,
    struct tg_err *err)
{
	op->id[0] = '\0';
	return tg_call_tx(c, insert, op, err);
}
