/*
 * users.c - account administration (TG_P_USERS, i.e. admin).
 *
 *   GET    /api/v1/users?limit=&cursor=  -> {"items":[user...], "next_cursor"}
 *   POST   /api/v1/users   {"username","password","role"[,"disabled"]} -> 201 user
 *   GET    /api/v1/users/:id              -> user
 *   PATCH  /api/v1/users/:id {"role"?,"disabled"?,"password"?} -> user
 *   DELETE /api/v1/users/:id              -> 204
 *
 * user = {id, username, role, disabled, created_at, updated_at,
 * last_login_at}; the password hash is never returned. A change of role,
 * disabling, or a new password revokes the user's existing tokens
 * (tokens_valid_after). Errors: 422 invalid fields (field errors), 409
 * duplicate username or removing/demoting/disabling the last enabled admin,
 * 404 unknown id.
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "lib/arena.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/parse.h"
#include "lib/status.h"

#define USER_JSON \
	"json_build_object('id', id, 'username', username, 'role', role," \
	" 'disabled', disabled, 'created_at', " TG_SQL_TS("created_at") "," \
	" 'updated_at', " TG_SQL_TS("updated_at") "," \
	" 'last_login_at', " TG_SQL_TS("last_login_at") ")::text"

static int
user_id(struct tg_req *req, struct tg_resp *resp, int64_t *id)
{
	if (tg_parse_i64(tg_req_capture(req, "id"), 1, INT64_MAX, id) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
	return TG_OK;
}

int
tg_h_users_list(struct tg_req *req, struct tg_resp *resp)
{
	int64_t limit, cursor;
	char lim[24], cur[24];
	const char *p[2];
	PGresult *res = NULL;
	json_t *out = NULL;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	snprintf(lim, sizeof(lim), "%lld", (long long)limit + 1);
	snprintf(cur, sizeof(cur), "%lld", (long long)cursor);
	p[0] = cur;
	p[1] = lim;
	if ((rc = tg_db_exec(req->ctx->db, "SELECT " USER_JSON ", id FROM users"
	    " WHERE id > $1::bigint ORDER BY id LIMIT $2::int", 2, p, &res)) != TG_OK)
		return rc;
	rc = tg_idu_page_json(res, 0, 1, limit, &out);
	PQclear(res);
	if (rc != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, out);
}

int
tg_h_users_create(struct tg_req *req, struct tg_resp *resp)
{
	const char *username = NULL, *password = NULL, *role = NULL, *p[4];
	char hash[TG_PWHASH_MAX];
	int disabled = 0;
	json_error_t err;
	PGresult *res = NULL;
	json_t *d = NULL;
	int rc;

	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s:s, s:s, s:s, s?b}",
	    "username", &username, "password", &password, "role", &role,
	    "disabled", &disabled) != 0)
		return tg_idu_bad_body(req, resp, &err);
	if (!tg_idu_username_ok(username))
		return tg_idu_bad_field(req, resp, "username",
		    "1-64 characters: letters, digits, _ . @ - (starting with a letter or digit)");
	if (tg_role_parse(role) == TG_ROLE_NONE)
		return tg_idu_bad_field(req, resp, "role", "must be admin, developer or viewer");
	if ((rc = tg_auth_pw_hash(password, strlen(password), hash, sizeof(hash))) != TG_OK) {
		if (rc == -TG_E_UNPROCESSABLE)
			return tg_idu_bad_field(req, resp, "password",
			    "must be 12 to 1024 bytes");
		return rc;
	}
	p[0] = username;
	p[1] = hash;
	p[2] = role;
	p[3] = disabled ? "true" : "false";
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_db_exec(req->ctx->db, "INSERT INTO users (username, password_hash, role,"
	    " disabled) VALUES ($1, $2, $3, $4::boolean) RETURNING " USER_JSON ", id",
	    4, p, &res);
	if (rc == -TG_E_CONFLICT) {
		rc = tg_resp_fail(req, resp, TG_E_CONFLICT, "user %s already exists", username);
		goto out;
	}
	if (rc != TG_OK)
		goto out;
	d = json_pack("{s:s, s:s}", "username", username, "role", role);
	if ((rc = tg_audit(req, "user.create", tg_arena_printf(req->a, "user:%s",
	    PQgetvalue(res, 0, 1)), "ok", d)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_resp_json(resp, 201, tg_idu_json(PQgetvalue(res, 0, 0)));
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	tg_crypto_wipe(hash, sizeof(hash));
	json_decref(d);
	PQclear(res);
	return rc;
}

int
tg_h_users_get(struct tg_req *req, struct tg_resp *resp)
{
	int64_t id;
	const char *p[1];
	PGresult *res = NULL;
	int rc;

	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	p[0] = tg_req_capture(req, "id");
	if ((rc = tg_db_exec(req->ctx->db, "SELECT " USER_JSON " FROM users WHERE id = $1::bigint",
	    1, p, &res)) != TG_OK)
		return rc;
	if (PQntuples(res) != 1)
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
	else
		rc = tg_resp_json(resp, 200, tg_idu_json(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return rc;
}

/*
 * Locks the enabled admins (FOR UPDATE) and tells whether removing admin
 * rights from user id would leave none. Call inside a transaction.
 */
static int
last_admin(struct tg_req *req, const char *id, int *is_last)
{
	PGresult *res = NULL;
	const char *p[1] = {id};
	int rc;

	if ((rc = tg_db_exec(req->ctx->db, "SELECT bool_or(id = $1::bigint), count(*) FROM"
	    " (SELECT id FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE) a",
	    1, p, &res)) != TG_OK)
		return rc;
	*is_last = PQgetvalue(res, 0, 0)[0] == 't' && strcmp(PQgetvalue(res, 0, 1), "1") == 0;
	PQclear(res);
	return TG_OK;
}

int
tg_h_users_update(struct tg_req *req, struct tg_resp *resp)
{
	const char *role = NULL, *password = NULL, *p[4];
	char hash[TG_PWHASH_MAX];
	json_t *jdis = NULL, *d = NULL;
	json_error_t err;
	PGresult *res = NULL;
	int64_t id;
	int rc, is_last = 0, demote;

	hash[0] = '\0';
	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s?s, s?o, s?s}", "role", &role,
	    "disabled", &jdis, "password", &password) != 0)
		return tg_idu_bad_body(req, resp, &err);
	if (role == NULL && jdis == NULL && password == NULL)
		return tg_idu_bad_field(req, resp, "body",
		    "give at least one of role, disabled, password");
	if (role != NULL && tg_role_parse(role) == TG_ROLE_NONE)
		return tg_idu_bad_field(req, resp, "role", "must be admin, developer or viewer");
	if (jdis != NULL && !json_is_boolean(jdis))
		return tg_idu_bad_field(req, resp, "disabled", "must be true or false");
	if (password != NULL &&
	    (rc = tg_auth_pw_hash(password, strlen(password), hash, sizeof(hash))) != TG_OK) {
		if (rc == -TG_E_UNPROCESSABLE)
			return tg_idu_bad_field(req, resp, "password", "must be 12 to 1024 bytes");
		return rc;
	}
	p[0] = tg_req_capture(req, "id");
	p[1] = role;
	p[2] = jdis ? (json_is_true(jdis) ? "true" : "false") : NULL;
	p[3] = hash[0] ? hash : NULL;
	demote = (role != NULL && strcmp(role, "admin") != 0) || json_is_true(jdis);
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	if (demote) {
		if ((rc = last_admin(req, p[0], &is_last)) != TG_OK)
			goto out;
		if (is_last) {
			rc = tg_resp_fail(req, resp, TG_E_CONFLICT,
			    "this is the last enabled admin; promote another user first");
			goto out;
		}
	}
	if ((rc = tg_db_exec(req->ctx->db,
	    "UPDATE users SET role = COALESCE($2, role),"
	    " disabled = COALESCE($3::boolean, disabled),"
	    " password_hash = COALESCE($4, password_hash), updated_at = now(),"
	    " tokens_valid_after = CASE WHEN ($2 IS NOT NULL AND $2 <> role)"
	    "  OR ($3::boolean IS TRUE AND NOT disabled) OR $4 IS NOT NULL"
	    "  THEN greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second' ELSE tokens_valid_after END"
	    " WHERE id = $1::bigint RETURNING " USER_JSON, 4, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
		goto out;
	}
	d = json_pack("{s:s?, s:O?, s:b}", "role", role, "disabled", jdis,
	    "password_changed", password != NULL);
	if ((rc = tg_audit(req, "user.update", tg_arena_printf(req->a, "user:%s", p[0]),
	    "ok", d)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_resp_json(resp, 200, tg_idu_json(PQgetvalue(res, 0, 0)));
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	tg_crypto_wipe(hash, sizeof(hash));
	json_decref(d);
	PQclear(res);
	return rc;
}

int
tg_h_users_delete(struct tg_req *req, struct tg_resp *resp)
{
	const char *p[1];
	PGresult *res = NULL;
	int64_t id;
	int rc, is_last = 0;

	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	p[0] = tg_req_capture(req, "id");
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	if ((rc = last_admin(req, p[0], &is_last)) != TG_OK)
		goto out;
	if (is_last) {
		rc = tg_resp_fail(req, resp, TG_E_CONFLICT,
		    "this is the last enabled admin; it cannot be deleted");
		goto out;
	}
	if ((rc = tg_db_exec(req->ctx->db, "DELETE FROM users WHERE id = $1::bigint"
	    " RETURNING username", 1, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
		goto out;
	}
	if ((rc = tg_audit(req, "user.delete", tg_arena_printf(req->a, "user:%s", p[0]),
	    "ok", NULL)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	resp->status = 204;
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	PQclear(res);
	return rc;
}
