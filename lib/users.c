/*
 * users.c - the user-account service (users.h). The row JSON is built by
 * PostgreSQL next to the SQL; this file holds the rules: who may manage
 * accounts, field validation, the last-enabled-admin guard, token
 * revocation and the audit row, each once for REST and the CLI.
 */
#include <stdio.h>
#include <string.h>

#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/rows.h"
#include "lib/status.h"
#include "lib/users.h"

#define USER_JSON \
	"json_build_object('id', id, 'username', username, 'role', role," \
	" 'disabled', disabled, 'created_at', " TG_SQL_TS("created_at") "," \
	" 'updated_at', " TG_SQL_TS("updated_at") "," \
	" 'last_login_at', " TG_SQL_TS("last_login_at") ")::text"

#define MSG_USERNAME \
	"1-64 characters: letters, digits, _ . @ - (starting with a letter or digit)"
#define MSG_ROLE "must be admin, developer or viewer"
#define MSG_PASSWORD "must be 12 to 1024 bytes"

int
tg_users_name_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '@' && c != '-')))
			return 0;
	}
	return 1;
}

/* Account management is for admins (and the local operator, the CLI). */
static int
need_admin(const struct tg_call *c, struct tg_err *err)
{
	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	if (!tg_call_can(c, TG_P_USERS))
		return tg_err_set(err, TG_E_FORBIDDEN, "only an admin manages accounts");
	return TG_OK;
}

/* The JSON text in column 0 of the single row of res into *out. */
static int
row_json(PGresult *res, json_t **out, struct tg_err *err)
{
	json_t *o;

	if (PQntuples(res) != 1)
		return tg_err_set(err, TG_E_NOTFOUND, "no such user");
	if ((o = tg_rows_json(PQgetvalue(res, 0, 0))) == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	if (out != NULL)
		*out = o;
	else
		json_decref(o);
	return TG_OK;
}

int
tg_users_list(const struct tg_call *c, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	return tg_crud_list(c, TG_P_USERS, pg, "SELECT " USER_JSON " FROM users"
	    " WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint", 2, NULL, out, err);
}

int
tg_users_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	char idb[24];
	const char *p[1] = {idb};
	PGresult *res = NULL;
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", (long long)id);
	if ((rc = tg_db_exec(c->db, "SELECT " USER_JSON " FROM users WHERE id = $1::bigint",
	    1, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	rc = row_json(res, out, err);
	PQclear(res);
	return rc;
}

int
tg_users_find(const struct tg_call *c, const char *username, int64_t *id,
    struct tg_err *err)
{
	const char *p[1] = {username};
	PGresult *res = NULL;
	long long v;
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	if ((rc = tg_db_exec(c->db, "SELECT id FROM users WHERE lower(username) = lower($1)",
	    1, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(res) != 1 || sscanf(PQgetvalue(res, 0, 0), "%lld", &v) != 1)
		rc = tg_err_set(err, TG_E_NOTFOUND, "no user %s", username);
	else
		*id = v;
	PQclear(res);
	return rc;
}

/* Hashes a password, mapping a bad length to a field error. */
static int
hash_password(const char *pw, size_t len, char *hash, size_t cap,
    struct tg_err *err)
{
	int rc = tg_auth_pw_hash(pw, len, hash, cap);

	if (rc == -TG_E_UNPROCESSABLE)
		return tg_err_field(err, "password", MSG_PASSWORD);
	return tg_err_from(err, rc);
}

/*
 * Locks the enabled admins (FOR UPDATE) and fails with 409 (detail why)
 * when removing admin rights from user id would leave none. Call inside a
 * transaction.
 */
static int
keep_an_admin(const struct tg_call *c, const char *id, const char *why,
    struct tg_err *err)
{
	PGresult *res = NULL;
	const char *p[1] = {id};
	int rc;

	if ((rc = tg_db_exec(c->db, "SELECT bool_or(id = $1::bigint), count(*) FROM"
	    " (SELECT id FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE) a",
	    1, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	if (PQgetvalue(res, 0, 0)[0] == 't' && strcmp(PQgetvalue(res, 0, 1), "1") == 0)
		rc = tg_err_set(err, TG_E_CONFLICT, "this is the last enabled admin; %s", why);
	PQclear(res);
	return rc;
}

/* pre hook: the last enabled admin stays (pre_arg: the user id). */
static int
demote_check(const struct tg_call *c, void *arg, struct tg_err *err)
{
	return keep_an_admin(c, arg, "promote another user first", err);
}

static int
delete_check(const struct tg_call *c, void *arg, struct tg_err *err)
{
	return keep_an_admin(c, arg, "it cannot be deleted", err);
}

/* One audited change of user row; the row into *out (or dropped). */
static int
apply(const struct tg_call *c, struct tg_row_op *op, json_t **out,
    struct tg_err *err)
{
	int rc;

	op->kind = "user";
	op->missing = "no such user";
	if ((rc = tg_call_row_op(c, op, err)) == TG_OK && out != NULL)
		*out = op->row;
	else
		json_decref(op->row);
	op->row = NULL;
	return rc;
}

/* apply() with the audit detail d (new reference, released; NULL: out of
 * memory). */
static int
apply_detail(const struct tg_call *c, struct tg_row_op *op, json_t *d,
    json_t **out, struct tg_err *err)
{
	int rc;

	if (d == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	op->detail = d;
	rc = apply(c, op, out, err);
	json_decref(d);
	return rc;
}

/*
 * apply_detail() with the password pw (when not NULL) hashed into the
 * statement's parameter p[i] (NULL when pw is NULL); the hash is wiped
 * after. A password of a bad length is a 422 on "password" (d released).
 */
static int
apply_pw(const struct tg_call *c, struct tg_row_op *op, const char **p, int i,
    const char *pw, size_t pwlen, json_t *d, json_t **out, struct tg_err *err)
{
	char hash[TG_PWHASH_MAX];
	int rc;

	hash[0] = '\0';
	p[i] = NULL;
	if (pw != NULL) {
		rc = hash_password(pw, pwlen, hash, sizeof(hash), err);
		p[i] = hash;
	} else {
		rc = TG_OK;
	}
	if (rc == TG_OK)
		rc = apply_detail(c, op, d, out, err);
	else
		json_decref(d);
	tg_crypto_wipe(hash, sizeof(hash));
	return rc;
}

int
tg_users_create(const struct tg_call *c, const struct tg_user_new *u,
    json_t **out, struct tg_err *err)
{
	const char *p[4];
	char conflict[128];
	struct tg_row_op j = {.action = "user.create", .p = p, .np = 4,
	    .sql = "INSERT INTO users (username, password_hash, role, disabled)"
	    " VALUES ($1, $2, $3, $4::boolean) RETURNING " USER_JSON ", id",
	    .conflict = conflict};
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	if (!tg_users_name_ok(u->username))
		return tg_err_field(err, "username", MSG_USERNAME);
	if (tg_role_parse(u->role) == TG_ROLE_NONE)
		return tg_err_field(err, "role", MSG_ROLE);
	p[0] = u->username;
	p[2] = u->role;
	p[3] = u->disabled ? "true" : "false";
	snprintf(conflict, sizeof(conflict), "user %s already exists", u->username);
	/* the password is hashed last, after every cheaper check */
	return apply_pw(c, &j, p, 1, u->password, u->password_len, json_pack("{s:s, s:s}",
	    "username", u->username, "role", u->role), out, err);
}

int
tg_users_update(const struct tg_call *c, int64_t id,
    const struct tg_user_patch *pa, json_t **out, struct tg_err *err)
{
	const char *p[4];
	char idb[24];
	struct tg_row_op j = {.action = "user.update", .id = idb, .p = p, .np = 4,
	    .sql = "UPDATE users SET role = COALESCE($2, role),"
	    " disabled = COALESCE($3::boolean, disabled),"
	    " password_hash = COALESCE($4, password_hash), updated_at = now(),"
	    " tokens_valid_after = CASE WHEN ($2 IS NOT NULL AND $2 <> role)"
	    "  OR ($3::boolean IS TRUE AND NOT disabled) OR $4 IS NOT NULL"
	    "  THEN greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second'"
	    "  ELSE tokens_valid_after END"
	    " WHERE id = $1::bigint RETURNING " USER_JSON};
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	if (pa->role == NULL && pa->disabled < 0 && pa->password == NULL)
		return tg_err_field(err, "body", "give at least one of role, disabled, password");
	if (pa->role != NULL && tg_role_parse(pa->role) == TG_ROLE_NONE)
		return tg_err_field(err, "role", MSG_ROLE);
	snprintf(idb, sizeof(idb), "%lld", (long long)id);
	p[0] = idb;
	p[1] = pa->role;
	p[2] = pa->disabled < 0 ? NULL : (pa->disabled ? "true" : "false");
	if ((pa->role != NULL && strcmp(pa->role, "admin") != 0) || pa->disabled == 1) {
		j.pre = demote_check;
		j.pre_arg = idb;
	}
	return apply_pw(c, &j, p, 3, pa->password, pa->password_len,
	    json_pack("{s:s?, s:o?, s:b}", "role", pa->role, "disabled",
	    pa->disabled < 0 ? NULL : json_boolean(pa->disabled), "password_changed",
	    pa->password != NULL), out, err);
}

int
tg_users_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	char idb[24];
	const char *p[1] = {idb};
	struct tg_row_op j = {.action = "user.delete", .id = idb, .p = p, .np = 1,
	    .sql = "DELETE FROM users WHERE id = $1::bigint RETURNING " USER_JSON,
	    .pre = delete_check, .pre_arg = idb};
	int rc;

	if ((rc = need_admin(c, err)) != TG_OK)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", (long long)id);
	return apply(c, &j, NULL, err);
}
