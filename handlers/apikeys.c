/*
 * apikeys.c - API keys for MCP clients and scripts (TG_P_SELF).
 *
 *   GET    /api/v1/api-keys?limit=&cursor=[&all=1] -> own keys (admin: all=1
 *          lists everyone's)
 *   POST   /api/v1/api-keys {"name"[,"role"][,"expires_in_days"]} -> 201
 *          {..., "key": "tgk_..."}: the secret is shown once; only its
 *          SHA-256 is stored. role defaults to, and may not exceed, the
 *          caller's role (403); expires_in_days 1..3650 (default: never).
 *   DELETE /api/v1/api-keys/:id -> 204 (own key; admin: any). Revoked keys
 *          stay listed with revoked_at.
 * A key authenticates as its owner with the lower of the key's role and
 * the owner's current role; keys created before a revoke-all stop working.
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "lib/access.h"
#include "lib/arena.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/parse.h"
#include "lib/status.h"

#define KEY_JSON \
	"json_build_object('id', k.id, 'name', k.name, 'prefix', 'tgk_' || k.prefix," \
	" 'role', k.role, 'user_id', k.user_id, 'username', u.username," \
	" 'created_at', " TG_SQL_TS("k.created_at") "," \
	" 'expires_at', " TG_SQL_TS("k.expires_at") "," \
	" 'last_used_at', " TG_SQL_TS("k.last_used_at") "," \
	" 'revoked_at', " TG_SQL_TS("k.revoked_at") ")::text"

int
tg_h_apikeys_list(struct tg_req *req, struct tg_resp *resp)
{
	int64_t limit, cursor, all = 0;
	char lim[24], cur[24], uid[24];
	const char *p[3];
	PGresult *res = NULL;
	json_t *out = NULL;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	if (tg_req_query_i64(req, "all", 0, 1, 0, &all) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "all must be 0 or 1");
	if (all && !tg_access_can(req, TG_P_USERS))
		return tg_resp_fail(req, resp, TG_E_FORBIDDEN, "only an admin may list every key");
	snprintf(lim, sizeof(lim), "%lld", (long long)limit + 1);
	snprintf(cur, sizeof(cur), "%lld", (long long)cursor);
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	p[0] = cur;
	p[1] = lim;
	p[2] = all ? NULL : uid;
	if ((rc = tg_db_exec(req->ctx->db, "SELECT " KEY_JSON ", k.id FROM api_keys k"
	    " JOIN users u ON u.id = k.user_id WHERE k.id > $1::bigint"
	    " AND ($3::bigint IS NULL OR k.user_id = $3::bigint) ORDER BY k.id LIMIT $2::int",
	    3, p, &res)) != TG_OK)
		return rc;
	rc = tg_idu_page_json(res, 0, 1, limit, &out);
	PQclear(res);
	if (rc != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, out);
}

int
tg_h_apikeys_create(struct tg_req *req, struct tg_resp *resp)
{
	const char *name = NULL, *role = NULL, *p[6];
	char key[TG_APIKEY_LEN + 1], handle[TG_APIKEY_HANDLE_LEN + 1];
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], days[24];
	json_int_t exp_days = 0;
	enum tg_role r;
	json_error_t err;
	PGresult *res = NULL;
	json_t *out = NULL, *d = NULL;
	int rc;

	key[0] = '\0';
	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s:s, s?s, s?I}", "name", &name,
	    "role", &role, "expires_in_days", &exp_days) != 0)
		return tg_idu_bad_body(req, resp, &err);
	if (strlen(name) < 1 || strlen(name) > 128)
		return tg_idu_bad_field(req, resp, "name", "1 to 128 bytes");
	r = role ? tg_role_parse(role) : req->who.role;
	if (r == TG_ROLE_NONE)
		return tg_idu_bad_field(req, resp, "role", "must be admin, developer or viewer");
	if (r > req->who.role)
		return tg_resp_fail(req, resp, TG_E_FORBIDDEN,
		    "a key's role may not exceed your own (%s)", tg_role_name(req->who.role));
	if (exp_days < 0 || exp_days > 3650)
		return tg_idu_bad_field(req, resp, "expires_in_days", "must be 1..3650");
	if ((rc = tg_auth_apikey_new(key, sizeof(key), handle, sizeof(handle), hash,
	    sizeof(hash))) != TG_OK)
		return rc;
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	snprintf(days, sizeof(days), "%lld", (long long)exp_days);
	p[0] = uid;
	p[1] = name;
	p[2] = handle;
	p[3] = hash;
	p[4] = tg_role_name(r);
	p[5] = exp_days > 0 ? days : NULL;
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	if ((rc = tg_db_exec(req->ctx->db,
	    "WITH k AS (INSERT INTO api_keys (user_id, name, prefix, key_hash, role, expires_at)"
	    " VALUES ($1::bigint, $2, $3, $4, $5, now() + make_interval(days => $6::int))"
	    " RETURNING *) SELECT " KEY_JSON ", k.id FROM k JOIN users u ON u.id = k.user_id",
	    6, p, &res)) != TG_OK)
		goto out;
	d = json_pack("{s:s, s:s}", "name", name, "role", tg_role_name(r));
	if ((rc = tg_audit(req, "apikey.create", tg_arena_printf(req->a, "api_key:%s",
	    PQgetvalue(res, 0, 1)), "ok", d)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	out = tg_idu_json(PQgetvalue(res, 0, 0));
	if (out == NULL || json_object_set_new(out, "key", json_string(key)) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	rc = tg_resp_json(resp, 201, out);
	out = NULL;
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	tg_crypto_wipe(key, sizeof(key));
	json_decref(out);
	json_decref(d);
	PQclear(res);
	return rc;
}

int
tg_h_apikeys_delete(struct tg_req *req, struct tg_resp *resp)
{
	const char *p[3];
	char uid[24];
	int64_t id;
	PGresult *res = NULL;
	int rc;

	if (tg_parse_i64(tg_req_capture(req, "id"), 1, INT64_MAX, &id) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such API key");
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	p[0] = tg_req_capture(req, "id");
	p[1] = uid;
	p[2] = tg_access_can(req, TG_P_USERS) ? "true" : "false";
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	if ((rc = tg_db_exec(req->ctx->db, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())"
	    " WHERE id = $1::bigint AND (user_id = $2::bigint OR $3::boolean) RETURNING id",
	    3, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such API key");
		goto out;
	}
	if ((rc = tg_audit(req, "apikey.revoke", tg_arena_printf(req->a, "api_key:%s", p[0]),
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
