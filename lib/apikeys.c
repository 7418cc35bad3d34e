/*
 * apikeys.c - the API-key service (apikeys.h).
 */
#include <stdio.h>
#include <string.h>

#include "lib/apikeys.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/rows.h"
#include "lib/status.h"

#define KEY_JSON \
	"json_build_object('id', k.id, 'name', k.name, 'prefix', 'tgk_' || k.prefix," \
	" 'role', k.role, 'user_id', k.user_id, 'username', u.username," \
	" 'created_at', " TG_SQL_TS("k.created_at") "," \
	" 'expires_at', " TG_SQL_TS("k.expires_at") "," \
	" 'last_used_at', " TG_SQL_TS("k.last_used_at") "," \
	" 'revoked_at', " TG_SQL_TS("k.revoked_at") ")::text"

static int
need_self(const struct tg_call *c, struct tg_err *err)
{
	if (!tg_call_can(c, TG_P_SELF))
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	return TG_OK;
}

int
tg_apikeys_list(const struct tg_call *c, int all, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	char uid[24];
	int rc;

	if ((rc = need_self(c, err)) != TG_OK)
		return rc;
	if (all && !tg_call_can(c, TG_P_USERS))
		return tg_err_set(err, TG_E_FORBIDDEN, "only an admin may list every key");
	tg_i64s(uid, sizeof(uid), c->who->user_id);
	return tg_crud_list(c, TG_P_SELF, pg, "SELECT " KEY_JSON " FROM api_keys k"
	    " JOIN users u ON u.id = k.user_id WHERE k.id > $1::bigint"
	    " AND ($3::bigint IS NULL OR k.user_id = $3::bigint) ORDER BY k.id LIMIT $2::bigint",
	    3, all ? NULL : uid, out, err);
}

int
tg_apikeys_create(const struct tg_call *c, const char *name, const char *role,
    int64_t exp_days, json_t **out, struct tg_err *err)
{
	char key[TG_APIKEY_LEN + 1], handle[TG_APIKEY_HANDLE_LEN + 1];
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], days[24];
	const char *p[6];
	struct tg_row_op j = {.action = "apikey.create", .p = p, .np = 6,
	    .sql = "WITH k AS (INSERT INTO api_keys (user_id, name, prefix, key_hash,"
	    " role, expires_at) VALUES ($1::bigint, $2, $3, $4, $5,"
	    " now() + make_interval(days => $6::int)) RETURNING *)"
	    " SELECT " KEY_JSON ", k.id FROM k JOIN users u ON u.id = k.user_id",
	    .kind = "api_key", .missing = "no such API key"};
	json_t *d = NULL;
	enum tg_role r;
	int rc;

	key[0] = '\0';
	if ((rc = need_self(c, err)) != TG_OK)
		return rc;
	if (strlen(name) < 1 || strlen(name) > 128)
		return tg_err_field(err, "name", "1 to 128 bytes");
	r = role ? tg_role_parse(role) : c->who->role;
	if (r == TG_ROLE_NONE)
		return tg_err_field(err, "role", "must be admin, developer or viewer");
	if (r > c->who->role)
		return tg_err_set(err, TG_E_FORBIDDEN, "a key's role may not exceed your own (%s)",
		    tg_role_name(c->who->role));
	if (exp_days < 0 || exp_days > 3650)
		return tg_err_field(err, "expires_in_days", "must be 1..3650");
	if ((rc = tg_auth_apikey_new(key, sizeof(key), handle, sizeof(handle), hash,
	    sizeof(hash))) != TG_OK)
		return tg_err_from(err, rc);
	snprintf(uid, sizeof(uid), "%lld", (long long)c->who->user_id);
	snprintf(days, sizeof(days), "%lld", (long long)exp_days);
	p[0] = uid;
	p[1] = name;
	p[2] = handle;
	p[3] = hash;
	p[4] = tg_role_name(r);
	p[5] = exp_days > 0 ? days : NULL;
	if ((d = json_pack("{s:s, s:s}", "name", name, "role", tg_role_name(r))) == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	j.detail = d;
	if ((rc = tg_call_row_op(c, &j, err)) != TG_OK)
		goto out;
	if (json_object_set_new(j.row, "key", json_string(key)) != 0) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	*out = j.row;
	j.row = NULL;
out:
	tg_crypto_wipe(key, sizeof(key));
	json_decref(j.row);
	json_decref(d);
	return rc;
}

int
tg_apikeys_revoke(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	char idb[24], uid[24];
	const char *p[3] = {idb, uid};
	struct tg_row_op j = {.action = "apikey.revoke", .p = p, .np = 3,
	    .sql = "WITH k AS (UPDATE api_keys SET revoked_at = COALESCE(revoked_at,"
	    " now()) WHERE id = $1::bigint AND (user_id = $2::bigint OR $3::boolean)"
	    " RETURNING *) SELECT " KEY_JSON ", k.id FROM k JOIN users u ON u.id = k.user_id",
	    .kind = "api_key", .missing = "no such API key"};
	int rc;

	if ((rc = need_self(c, err)) != TG_OK)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", (long long)id);
	snprintf(uid, sizeof(uid), "%lld", (long long)c->who->user_id);
	p[2] = tg_call_can(c, TG_P_USERS) ? "true" : "false";
	rc = tg_call_row_op(c, &j, err);
	json_decref(j.row);
	return rc;
}
