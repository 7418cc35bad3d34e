/*
 * crud.c - the repeated service shapes (crud.h).
 */
#include <stdio.h>

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/err.h"
#include "lib/status.h"
#include "lib/svc.h"

void
tg_i64s(char *buf, size_t cap, int64_t v)
{
	snprintf(buf, cap, "%lld", (long long)v);
}

int
tg_crud_reseal(struct tg_db *db, const char *sql, const char *id,
    const char *nonce, const char *ct)
{
	const char *p[3];

	p[0] = id;
	p[1] = nonce;
	p[2] = ct;
	return tg_db_exec(db, sql, 3, p, NULL);
}

int
tg_keyset_args(const struct tg_page *pg, struct tg_keyset *ks,
    struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_page_args(pg, &ks->limit, &ks->after_id, err)) != TG_OK)
		return rc;
	tg_i64s(ks->after, sizeof(ks->after), ks->after_id);
	tg_i64s(ks->limit1, sizeof(ks->limit1), ks->limit + 1);
	return TG_OK;
}

int
tg_keyset_need(const struct tg_call *c, unsigned perm,
    const struct tg_page *pg, struct tg_keyset *ks, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, perm, err)) != TG_OK)
		return rc;
	return tg_keyset_args(pg, ks, err);
}

int
tg_keyset_query(const struct tg_call *c, const char *sql, int n,
    const char *const *p, const struct tg_keyset *ks, const char *cursor_key,
    json_t **out, struct tg_err *err)
{
	json_t *rows = NULL;
	int rc;

	if ((rc = tg_svc_query_array(c->db, sql, n, p, &rows)) != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, ks->limit, cursor_key, out));
}

int
tg_keyset_page(const struct tg_call *c, const struct tg_keyset *ks,
    const char *owner, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err)
{
	const char *p[4];
	int k = 0;

	if (owner != NULL)
		p[k++] = owner;
	p[k++] = ks->after;
	p[k++] = ks->limit1;
	p[k] = extra;
	return tg_keyset_query(c, sql, np, p, ks, "id", out, err);
}

int
tg_crud_list(const struct tg_call *c, unsigned perm,
    const struct tg_page *pg, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err)
{
	struct tg_keyset ks;
	int rc;

	if ((rc = tg_keyset_need(c, perm, pg, &ks, err)) != TG_OK)
		return rc;
	return tg_keyset_page(c, &ks, NULL, sql, np, extra, out, err);
}

int
tg_crud_get(const struct tg_call *c, unsigned perm, const char *sql,
    const char *noun, int64_t id, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, perm, err)) != TG_OK)
		return rc;
	rc = tg_svc_query_id(c->db, sql, id, out);
	if (rc == -TG_E_NOTFOUND)
		return tg_err_set(err, rc, "no %s with id %lld", noun, (long long)id);
	return tg_err_from(err, rc);
}

int
tg_crud_create(const struct tg_call *c, struct tg_insert_op *op,
    json_t *detail, const char *sql, json_t **out, struct tg_err *err)
{
	const char *p[1];
	int rc;

	if (detail == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	op->detail = detail;
	rc = tg_call_insert(c, op, err);
	json_decref(detail);
	if (rc != TG_OK)
		return rc;
	p[0] = op->id;
	return tg_err_from(err, tg_svc_query_object(c->db, sql, 1, p, out));
}

int
tg_crud_delete(const struct tg_call *c, unsigned perm, const char *sql,
    const char *action, const char *noun, int64_t id, struct tg_err *err)
{
	char ids[24], missing[64];
	const char *p[1] = {ids};
	int rc;

	if ((rc = tg_svc_need(c, perm, err)) != TG_OK)
		return rc;
	tg_i64s(ids, sizeof(ids), id);
	snprintf(missing, sizeof(missing), "no %s with id %lld", noun, (long long)id);
	return tg_svc_exec_audited(c, sql, 1, p, action, ids, missing, err);
}
