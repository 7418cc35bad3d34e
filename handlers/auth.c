/*
 * auth.c - sessions and revocation (docs/api.md, docs/security.md).
 *
 *   POST /api/v1/auth/login        {"username","password"} -> 200 session
 *   POST /api/v1/auth/refresh      {"refresh_token"} -> 200 session (rotated)
 *   POST /api/v1/auth/logout       [{"refresh_token"}] -> 204 (JWT callers)
 *   POST /api/v1/auth/revoke       {"token"} -> 200 (own; any as admin)
 *   POST /api/v1/auth/revoke-all   [{"user_id"}] -> 200 (self; anyone as admin)
 *   GET  /api/v1/auth/me           -> 200 caller
 *   GET  /api/v1/auth/blacklist/stats -> 200 (admin)
 *
 * A session is {"access_token","token_type":"Bearer","expires_in",
 * "refresh_token","refresh_expires_in","user":{id,username,role}}.
 * Errors: 401 for bad credentials or tokens (login does not tell whether
 * the user exists), 422 malformed bodies, 429 login throttling (per
 * address and per account and address, failures only; an account is only
 * slowed down, never locked, see LOGIN_*), 403 revoking someone else's token.
 * Refresh rotation: the presented refresh token is marked used and a new
 * one of the same family issued; presenting a used or revoked one revokes
 * the whole family and blacklists the access tokens issued with it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/config.h"
#include "fcgi/log.h"
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
#include "lib/metrics.h"
#include "lib/parse.h"
#include "lib/rows.h"
#include "lib/status.h"

/*
 * security: login throttling, failed attempts per 5-minute window. Hard
 * limits (429) only per client address and per (account, address), so an
 * attacker elsewhere cannot lock the real user out; per account, beyond a
 * far higher count, every attempt on it waits LOGIN_SLOW_MS first (a
 * delay, never a block). Counted by the name given, whether or not such a
 * user exists, so the answers stay the same for unknown users.
 */
#define LOGIN_WINDOW 300
#define LOGIN_FAIL_PER_IP 50
#define LOGIN_FAIL_PER_USER_IP 10
#define LOGIN_SLOW_PER_USER 30
#define LOGIN_SLOW_MS 1000

#define TVA_BUMP "greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second'"

/*
 * Issues an access token and a refresh token of family (a new family when
 * NULL) for the user; tva is ceil(tokens_valid_after) in epoch seconds so
 * that a token issued in the second of a revoke-all is still valid.
 */
static int
issue_session(struct tg_req *req, int64_t uid, const char *username,
    enum tg_role role, int64_t tva, const char *family, json_t **out)
{
	const struct tg_config *cfg = req->ctx->cfg;
	char access[TG_JWT_MAX_LEN + 1], refresh[TG_REFRESH_LEN + 1];
	char rhash[TG_SHA256_HEX_LEN + 1], fam[TG_JTI_LEN + 1], uidb[24];
	struct tg_claims c;
	const char *p[4];
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (tva > now)
		now = tva;
	if ((rc = tg_auth_jwt_issue(cfg->jwt_secret, cfg->jwt_secret_len,
	    cfg->jwt_issuer, uid, role, now, TG_JWT_ACCESS_TTL, access,
	    sizeof(access), &c)) != TG_OK)
		goto out;
	if ((rc = tg_auth_refresh_new(refresh, sizeof(refresh), rhash, sizeof(rhash))) != TG_OK)
		goto out;
	if (family == NULL) {
		if ((rc = tg_auth_random_hex32(fam, sizeof(fam))) != TG_OK)
			goto out;
	} else {
		snprintf(fam, sizeof(fam), "%s", family);
	}
	snprintf(uidb, sizeof(uidb), "%lld", (long long)uid);
	p[0] = uidb;
	p[1] = fam;
	p[2] = rhash;
	p[3] = c.jti;
	if ((rc = tg_db_exec(req->ctx->db,
	    "INSERT INTO refresh_tokens (user_id, family, token_hash, access_jti, expires_at)"
	    " VALUES ($1::bigint, $2, $3, $4, now() + interval '" "604800" " seconds')",
	    4, p, NULL)) != TG_OK)
		goto out;
	*out = json_pack("{s:s, s:s, s:i, s:s, s:i, s:{s:I, s:s, s:s}}",
	    "access_token", access, "token_type", "Bearer",
	    "expires_in", TG_JWT_ACCESS_TTL, "refresh_token", refresh,
	    "refresh_expires_in", TG_REFRESH_TTL, "user", "id", (json_int_t)uid,
	    "username", username, "role", tg_role_name(role));
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	tg_crypto_wipe(access, sizeof(access));
	tg_crypto_wipe(refresh, sizeof(refresh));
	return rc;
}

static int
unauthorized(struct tg_req *req, struct tg_resp *resp, const char *detail)
{
	(void)tg_resp_header(req, resp, "WWW-Authenticate", "Bearer realm=\"toolgate\"");
	return tg_resp_fail(req, resp, TG_E_UNAUTH, "%s", detail);
}

/* 1 when the address's or the (account, address) failure count of this
 * window is at its limit; *slow = 1 when the account's is at
 * LOGIN_SLOW_PER_USER. b[0..2]: the address, (account, address) and account
 * buckets. */
static int
login_throttled(struct tg_req *req, const char *const *b, int64_t *retry,
    int *slow)
{
	PGresult *res = NULL;
	const char *p[4];
	char win[16];
	int64_t ip = 0, ua = 0, user = 0, left = LOGIN_WINDOW;
	int rc;

	snprintf(win, sizeof(win), "%d", LOGIN_WINDOW);
	p[0] = b[0];
	p[1] = b[1];
	p[2] = b[2];
	p[3] = win;
	rc = tg_db_exec(req->ctx->db,
	    "SELECT COALESCE(sum(hits) FILTER (WHERE bucket = $1), 0),"
	    " COALESCE(sum(hits) FILTER (WHERE bucket = $2), 0),"
	    " COALESCE(sum(hits) FILTER (WHERE bucket = $3), 0),"
	    " $4::int - (extract(epoch FROM now())::bigint % $4::int)"
	    " FROM rate_limits WHERE bucket IN ($1, $2, $3) AND window_start ="
	    " extract(epoch FROM now())::bigint / $4::int * $4::int",
	    4, p, &res);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) == 1) {
		(void)tg_parse_i64(PQgetvalue(res, 0, 0), 0, INT64_MAX, &ip);
		(void)tg_parse_i64(PQgetvalue(res, 0, 1), 0, INT64_MAX, &ua);
		(void)tg_parse_i64(PQgetvalue(res, 0, 2), 0, INT64_MAX, &user);
		(void)tg_parse_i64(PQgetvalue(res, 0, 3), 0, INT64_MAX, &left);
	}
	PQclear(res);
	*retry = left > 0 ? left : 1;
	*slow = user >= LOGIN_SLOW_PER_USER;
	return ip >= LOGIN_FAIL_PER_IP || ua >= LOGIN_FAIL_PER_USER_IP;
}

static void
login_failed(struct tg_req *req, const char *const *b)
{
	const char *p[4];
	char win[16];

	snprintf(win, sizeof(win), "%d", LOGIN_WINDOW);
	p[0] = b[0];
	p[1] = b[1];
	p[2] = b[2];
	p[3] = win;
	(void)tg_db_exec(req->ctx->db,
	    "INSERT INTO rate_limits AS r (bucket, window_start, hits)"
	    " SELECT b, extract(epoch FROM now())::bigint / $4::int * $4::int, 1"
	    " FROM unnest(ARRAY[$1, $2, $3]) AS b"
	    " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1",
	    4, p, NULL);
}

int
tg_h_auth_login(struct tg_req *req, struct tg_resp *resp)
{
	const char *username = NULL, *password = NULL, *p[1], *b[3];
	char *ipb = NULL, *userb = NULL, *uab = NULL, retry_s[24];
	json_t *session = NULL, *detail = NULL;
	json_error_t err;
	PGresult *res = NULL;
	int64_t uid = 0, tva = 0, retry = 0;
	struct timespec ts;
	enum tg_role role;
	size_t pwlen;
	int rc, ok, slow = 0;

	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s:s, s:s}",
	    "username", &username, "password", &password) != 0)
		return tg_idu_bad_body(req, resp, &err);
	pwlen = strlen(password);
	if (strlen(username) > 64 || pwlen > TG_PASSWORD_MAX)
		return unauthorized(req, resp, "invalid username or password");
	ipb = tg_arena_printf(req->a, "login-ip:%s", req->remote_addr);
	userb = tg_arena_printf(req->a, "login-user:%s", username);
	uab = tg_arena_printf(req->a, "login-ua:%s|%s", req->remote_addr, username);
	if (ipb == NULL || userb == NULL || uab == NULL)
		return -TG_E_NOMEM;
	for (char *c = userb; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	for (char *c = uab; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	b[0] = ipb;
	b[1] = uab;
	b[2] = userb;
	detail = json_pack("{s:s}", "username", username);
	rc = login_throttled(req, b, &retry, &slow);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		/* security: aggregated per address and interval (lib/audit.h) */
		(void)tg_audit_reject(req, "auth.login", "throttled", "login throttled");
		snprintf(retry_s, sizeof(retry_s), "%lld", (long long)retry);
		(void)tg_resp_header(req, resp, "Retry-After", retry_s);
		rc = tg_resp_fail(req, resp, TG_E_RATE,
		    "too many failed sign-ins from this address; retry in %lld s",
		    (long long)retry);
		goto out;
	}
	if (slow) {
		/* security: an account under attack from many addresses is
		 * slowed down for everyone, never locked. */
		ts.tv_sec = LOGIN_SLOW_MS / 1000;
		ts.tv_nsec = (long)(LOGIN_SLOW_MS % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	p[0] = username;
	if ((rc = tg_db_exec(req->ctx->db,
	    "SELECT id, password_hash, role, disabled,"
	    " ceil(extract(epoch FROM tokens_valid_after))::bigint, username"
	    " FROM users WHERE lower(username) = lower($1)", 1, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		tg_auth_pw_dummy(password, pwlen);
		ok = 0;
	} else {
		ok = tg_auth_pw_verify(PQgetvalue(res, 0, 1), password, pwlen) == TG_OK &&
		    PQgetvalue(res, 0, 3)[0] != 't';
	}
	role = ok ? tg_role_parse(PQgetvalue(res, 0, 2)) : TG_ROLE_NONE;
	if (!ok || role == TG_ROLE_NONE ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &uid) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 4), INT64_MIN, INT64_MAX, &tva) != TG_OK) {
		login_failed(req, b);
		(void)tg_audit(req, "auth.login", username, "failed", detail);
		tg_metrics_inc(req->ctx->metrics, "auth_failures");
		rc = unauthorized(req, resp, "invalid username or password");
		goto out;
	}
	req->who.authenticated = 1;
	req->who.user_id = uid;
	req->who.role = role;
	req->who.username = tg_arena_strdup(req->a, PQgetvalue(res, 0, 5));
	if (req->who.username == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = issue_session(req, uid, req->who.username, role, tva, NULL,
	    &session)) != TG_OK)
		goto out;
	p[0] = PQgetvalue(res, 0, 0);
	(void)tg_db_exec(req->ctx->db,
	    "UPDATE users SET last_login_at = now() WHERE id = $1::bigint", 1, p, NULL);
	(void)tg_audit(req, "auth.login", req->who.username, "ok", NULL);
	rc = tg_resp_json(resp, 200, session);
	session = NULL;
out:
	PQclear(res);
	json_decref(session);
	json_decref(detail);
	return rc;
}

int
tg_h_auth_refresh(struct tg_req *req, struct tg_resp *resp)
{
	const char *tok = NULL, *p[1], *why = NULL;
	char hash[TG_SHA256_HEX_LEN + 1];
	char *family = NULL, *rowid = NULL;
	json_t *session = NULL;
	json_error_t err;
	PGresult *res = NULL;
	int64_t uid = 0, tva = 0;
	enum tg_role role;
	int rc;

	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s:s}", "refresh_token", &tok) != 0)
		return tg_idu_bad_body(req, resp, &err);
	if (tg_auth_refresh_hash(tok, strlen(tok), hash, sizeof(hash)) != TG_OK) {
		(void)tg_audit_reject(req, "auth.refresh", "failed", "malformed refresh token");
		return unauthorized(req, resp, "invalid refresh token");
	}
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	p[0] = hash;
	if ((rc = tg_db_exec(req->ctx->db,
	    "SELECT rt.id, rt.family, rt.used_at IS NOT NULL OR rt.revoked_at IS NOT NULL,"
	    " rt.expires_at <= now(), u.id, u.username, u.role, u.disabled,"
	    " rt.created_at < u.tokens_valid_after,"
	    " ceil(extract(epoch FROM u.tokens_valid_after))::bigint"
	    " FROM refresh_tokens rt JOIN users u ON u.id = rt.user_id"
	    " WHERE rt.token_hash = $1 FOR UPDATE OF rt", 1, p, &res)) != TG_OK)
		goto fail;
	if (PQntuples(res) != 1) {
		why = "unknown refresh token";
		goto reject;
	}
	family = tg_arena_strdup(req->a, PQgetvalue(res, 0, 1));
	rowid = tg_arena_strdup(req->a, PQgetvalue(res, 0, 0));
	if (family == NULL || rowid == NULL) {
		rc = -TG_E_NOMEM;
		goto fail;
	}
	req->who.user_id = 0;
	if (tg_parse_i64(PQgetvalue(res, 0, 4), 1, INT64_MAX, &uid) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 9), INT64_MIN, INT64_MAX, &tva) != TG_OK) {
		rc = -TG_E_INTERNAL;
		goto fail;
	}
	req->who.authenticated = 1;
	req->who.user_id = uid;
	req->who.username = tg_arena_strdup(req->a, PQgetvalue(res, 0, 5));
	req->who.role = role = tg_role_parse(PQgetvalue(res, 0, 6));
	if (PQgetvalue(res, 0, 2)[0] == 't') {
		/* Reuse: somebody holds a copy. Revoke the family and every access
		 * token issued with it that may still be alive. */
		p[0] = family;
		if ((rc = tg_db_exec(req->ctx->db,
		    "WITH f AS (UPDATE refresh_tokens SET revoked_at = now(),"
		    "  revoked_reason = 'reuse_detected'"
		    "  WHERE family = $1 AND revoked_at IS NULL RETURNING 1)"
		    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
		    " SELECT access_jti, user_id, created_at + interval '15 minutes' + interval '60 seconds',"
		    "  'refresh_reuse' FROM refresh_tokens"
		    " WHERE family = $1 AND created_at > now() - interval '16 minutes'"
		    " ON CONFLICT (jti) DO NOTHING", 1, p, NULL)) != TG_OK)
			goto fail;
		json_t *d = json_pack("{s:s}", "family", family);
		rc = tg_audit(req, "auth.refresh", req->who.username ? req->who.username : "",
		    "reuse_detected", d);
		json_decref(d);
		if (rc != TG_OK)
			goto fail;
		if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
			goto fail;
		tg_log(TG_LOG_WARN, "auth.refresh_reuse", "user_id=%lld", (long long)uid);
		PQclear(res);
		return unauthorized(req, resp,
		    "refresh token already used: every token of this session was revoked");
	}
	if (PQgetvalue(res, 0, 3)[0] == 't')
		why = "refresh token expired";
	else if (PQgetvalue(res, 0, 7)[0] == 't')
		why = "user disabled";
	else if (PQgetvalue(res, 0, 8)[0] == 't')
		why = "refresh token revoked";
	else if (role == TG_ROLE_NONE || req->who.username == NULL)
		why = "no valid role";
	if (why != NULL)
		goto reject;
	p[0] = rowid;
	if ((rc = tg_db_exec(req->ctx->db,
	    "UPDATE refresh_tokens SET used_at = now() WHERE id = $1::bigint", 1, p,
	    NULL)) != TG_OK)
		goto fail;
	if ((rc = issue_session(req, uid, req->who.username, role, tva, family,
	    &session)) != TG_OK)
		goto fail;
	if ((rc = tg_audit(req, "auth.refresh", req->who.username, "ok", NULL)) != TG_OK)
		goto fail;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto fail;
	PQclear(res);
	rc = tg_resp_json(resp, 200, session);
	return rc;
reject:
	PQclear(res);
	tg_db_rollback(req->ctx->db);
	if (!req->who.authenticated) {
		/* security: nobody's token: aggregated like auth.reject */
		(void)tg_audit_reject(req, "auth.refresh", "failed", why);
	} else {
		json_t *d = json_pack("{s:s}", "reason", why);
		(void)tg_audit(req, "auth.refresh", req->who.username ? req->who.username : "",
		    "failed", d);
		json_decref(d);
	}
	memset(&req->who, 0, sizeof(req->who));
	return unauthorized(req, resp, why);
fail:
	PQclear(res);
	json_decref(session);
	tg_db_rollback(req->ctx->db);
	return rc;
}

int
tg_h_auth_logout(struct tg_req *req, struct tg_resp *resp)
{
	const char *tok = NULL, *p[4];
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], exp[24];
	json_error_t err;
	int rc;

	if (req->who.jti == NULL)
		return tg_resp_fail(req, resp, TG_E_BADREQ,
		    "logout ends a token session; revoke API keys with DELETE /api/v1/api-keys/{id}");
	if (req->json != NULL && json_unpack_ex(req->json, &err, JSON_STRICT,
	    "{s?s}", "refresh_token", &tok) != 0)
		return tg_idu_bad_body(req, resp, &err);
	hash[0] = '\0';
	if (tok != NULL && tg_auth_refresh_hash(tok, strlen(tok), hash, sizeof(hash)) != TG_OK)
		return tg_idu_bad_field(req, resp, "refresh_token", "not a refresh token");
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	snprintf(exp, sizeof(exp), "%lld", (long long)req->who.token_exp);
	p[0] = req->who.jti;
	p[1] = uid;
	p[2] = exp;
	p[3] = hash[0] ? hash : NULL;
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	if ((rc = tg_db_exec(req->ctx->db,
	    "WITH r AS (UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'logout'"
	    "  WHERE user_id = $2::bigint AND revoked_at IS NULL AND (token_hash = $4 OR family IN"
	    "  (SELECT family FROM refresh_tokens WHERE access_jti = $1 AND user_id = $2::bigint))"
	    "  RETURNING 1)"
	    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
	    " VALUES ($1, $2::bigint, to_timestamp($3::bigint) + interval '60 seconds', 'logout')"
	    " ON CONFLICT (jti) DO NOTHING", 4, p, NULL)) != TG_OK)
		goto fail;
	if ((rc = tg_audit(req, "auth.logout", req->who.username, "ok", NULL)) != TG_OK)
		goto fail;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto fail;
	resp->status = 204;
	return TG_OK;
fail:
	tg_db_rollback(req->ctx->db);
	return rc;
}

/* Revoke one presented credential: access token, refresh token or API key. */
int
tg_h_auth_revoke(struct tg_req *req, struct tg_resp *resp)
{
	const struct tg_config *cfg = req->ctx->cfg;
	const char *tok = NULL, *p[4], *kind, *why = NULL;
	char hash[TG_SHA256_HEX_LEN + 1], handle[TG_APIKEY_HANDLE_LEN + 1];
	char uid[24], exp[24];
	struct tg_claims c;
	json_error_t err;
	json_t *d = NULL;
	PGresult *res = NULL;
	int64_t owner = 0;
	int rc, admin = tg_access_can(req, TG_P_USERS);
	size_t n;

	if (json_unpack_ex(req->json, &err, JSON_STRICT, "{s:s}", "token", &tok) != 0)
		return tg_idu_bad_body(req, resp, &err);
	n = strlen(tok);
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	if (strncmp(tok, TG_REFRESH_PREFIX, 4) == 0) {
		kind = "refresh_token";
		if (tg_auth_refresh_hash(tok, n, hash, sizeof(hash)) != TG_OK) {
			rc = tg_idu_bad_field(req, resp, "token", "not a valid refresh token");
			goto fail;
		}
		p[0] = hash;
		rc = tg_db_exec(req->ctx->db, "SELECT user_id, family FROM refresh_tokens"
		    " WHERE token_hash = $1 FOR UPDATE", 1, p, &res);
	} else if (strncmp(tok, TG_APIKEY_PREFIX, 4) == 0) {
		kind = "api_key";
		if (tg_auth_apikey_parse(tok, n, handle, sizeof(handle), hash,
		    sizeof(hash)) != TG_OK) {
			rc = tg_idu_bad_field(req, resp, "token", "not a valid API key");
			goto fail;
		}
		p[0] = handle;
		rc = tg_db_exec(req->ctx->db, "SELECT user_id, id, key_hash FROM api_keys"
		    " WHERE prefix = $1 FOR UPDATE", 1, p, &res);
		if (rc == TG_OK && PQntuples(res) == 1 &&
		    !tg_crypto_equal(PQgetvalue(res, 0, 2), hash, TG_SHA256_HEX_LEN)) {
			PQclear(res);
			res = NULL;
			rc = tg_db_exec(req->ctx->db, "SELECT 1 WHERE false", 0, NULL, &res);
		}
	} else {
		kind = "access_token";
		if (tg_auth_jwt_verify(cfg->jwt_secret, cfg->jwt_secret_len,
		    cfg->jwt_issuer, tok, n, (int64_t)time(NULL), &c, &why) != TG_OK) {
			rc = tg_idu_bad_field(req, resp, "token", why ? why : "invalid token");
			goto fail;
		}
		snprintf(uid, sizeof(uid), "%lld", (long long)c.user_id);
		p[0] = uid;
		rc = tg_db_exec(req->ctx->db, "SELECT id FROM users WHERE id = $1::bigint",
		    1, p, &res);
	}
	if (rc != TG_OK)
		goto fail;
	if (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &owner) != TG_OK) {
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such token");
		goto fail;
	}
	if (owner != req->who.user_id && !admin) {
		rc = tg_resp_fail(req, resp, TG_E_FORBIDDEN,
		    "only an admin may revoke another user's token");
		goto fail;
	}
	snprintf(uid, sizeof(uid), "%lld", (long long)owner);
	if (strcmp(kind, "refresh_token") == 0) {
		p[0] = PQgetvalue(res, 0, 1);
		rc = tg_db_exec(req->ctx->db, "UPDATE refresh_tokens SET revoked_at = now(),"
		    " revoked_reason = 'revoke' WHERE family = $1 AND revoked_at IS NULL",
		    1, p, NULL);
	} else if (strcmp(kind, "api_key") == 0) {
		p[0] = PQgetvalue(res, 0, 1);
		rc = tg_db_exec(req->ctx->db, "UPDATE api_keys SET revoked_at = now()"
		    " WHERE id = $1::bigint AND revoked_at IS NULL", 1, p, NULL);
	} else {
		snprintf(exp, sizeof(exp), "%lld", (long long)c.exp);
		p[0] = c.jti;
		p[1] = uid;
		p[2] = exp;
		p[3] = owner == req->who.user_id ? "revoke" : "admin_revoke";
		rc = tg_db_exec(req->ctx->db, "INSERT INTO jwt_blacklist (jti, user_id,"
		    " expires_at, reason) VALUES ($1, $2::bigint,"
		    " to_timestamp($3::bigint) + interval '60 seconds', $4)"
		    " ON CONFLICT (jti) DO NOTHING", 4, p, NULL);
	}
	if (rc != TG_OK)
		goto fail;
	d = json_pack("{s:s, s:I}", "kind", kind, "owner", (json_int_t)owner);
	if ((rc = tg_audit(req, "auth.revoke", uid, "ok", d)) != TG_OK)
		goto fail;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto fail;
	PQclear(res);
	json_decref(d);
	return tg_resp_json(resp, 200, json_pack("{s:b, s:s, s:I}", "revoked", 1,
	    "kind", kind, "user_id", (json_int_t)owner));
fail:
	PQclear(res);
	json_decref(d);
	tg_db_rollback(req->ctx->db);
	return rc;
}

int
tg_h_auth_revoke_all(struct tg_req *req, struct tg_resp *resp)
{
	json_int_t target = req->who.user_id;
	json_error_t err;
	const char *p[1];
	char uid[24];
	PGresult *res = NULL;
	json_t *out = NULL;
	int rc;

	if (req->json != NULL && json_unpack_ex(req->json, &err, JSON_STRICT,
	    "{s?I}", "user_id", &target) != 0)
		return tg_idu_bad_body(req, resp, &err);
	if (target < 1)
		return tg_idu_bad_field(req, resp, "user_id", "must be a positive integer");
	if (target != req->who.user_id && !tg_access_can(req, TG_P_USERS))
		return tg_resp_fail(req, resp, TG_E_FORBIDDEN,
		    "only an admin may revoke another user's tokens");
	snprintf(uid, sizeof(uid), "%lld", (long long)target);
	p[0] = uid;
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return rc;
	if ((rc = tg_db_exec(req->ctx->db,
	    "WITH u AS (UPDATE users SET tokens_valid_after = " TVA_BUMP ","
	    "  updated_at = now() WHERE id = $1::bigint RETURNING id, tokens_valid_after),"
	    " r AS (UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'revoke_all'"
	    "  WHERE user_id = $1::bigint AND revoked_at IS NULL RETURNING 1)"
	    "SELECT " TG_SQL_TS("u.tokens_valid_after") ", (SELECT count(*) FROM r) FROM u",
	    1, p, &res)) != TG_OK)
		goto fail;
	if (PQntuples(res) != 1) {
		rc = tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
		goto fail;
	}
	if ((rc = tg_audit(req, "auth.revoke_all", uid, "ok", NULL)) != TG_OK)
		goto fail;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto fail;
	out = json_pack("{s:I, s:s}", "user_id", target, "tokens_valid_after",
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return tg_resp_json(resp, 200, out);
fail:
	PQclear(res);
	tg_db_rollback(req->ctx->db);
	return rc;
}

int
tg_h_auth_me(struct tg_req *req, struct tg_resp *resp)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{TG_P_SELF, "self"}, {TG_P_READ, "read"}, {TG_P_WRITE, "write"},
		{TG_P_RUN, "run"}, {TG_P_APPROVE, "approve"}, {TG_P_SECRETS, "secrets"},
		{TG_P_USERS, "users"}, {TG_P_AUDIT, "audit"}, {TG_P_SETTINGS, "settings"},
		{TG_P_MCP, "mcp"},
	};
	json_t *root, *perms;
	unsigned have = tg_access_role_perms(req->who.role);
	size_t i;

	perms = json_array();
	for (i = 0; perms && i < sizeof(names) / sizeof(names[0]); i++)
		if (have & names[i].bit)
			json_array_append_new(perms, json_string(names[i].name));
	root = json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)req->who.user_id,
	    "username", req->who.username, "role", tg_role_name(req->who.role),
	    "permissions", perms, "auth", req->who.api_key_id > 0 ? "api_key" : "jwt");
	if (root == NULL)
		return -TG_E_NOMEM;
	if (req->who.api_key_id > 0)
		json_object_set_new(root, "api_key_id", json_integer(req->who.api_key_id));
	else
		json_object_set_new(root, "token_expires_at", json_integer(req->who.token_exp));
	return tg_resp_json(resp, 200, root);
}

int
tg_h_auth_blacklist_stats(struct tg_req *req, struct tg_resp *resp)
{
	PGresult *res = NULL;
	json_t *root;
	int rc;

	if ((rc = tg_db_exec(req->ctx->db,
	    "SELECT (SELECT count(*) FROM jwt_blacklist WHERE expires_at > now()),"
	    " (SELECT count(*) FROM jwt_blacklist WHERE expires_at <= now()),"
	    " COALESCE((SELECT jsonb_object_agg(reason, n) FROM (SELECT reason, count(*) AS n"
	    "  FROM jwt_blacklist GROUP BY reason) x), '{}')::text,"
	    " COALESCE((SELECT jsonb_object_agg(revoked_reason, n) FROM (SELECT revoked_reason,"
	    "  count(*) AS n FROM refresh_tokens WHERE revoked_at IS NOT NULL"
	    "  AND revoked_reason IS NOT NULL GROUP BY revoked_reason) y), '{}')::text",
	    0, NULL, &res)) != TG_OK)
		return rc;
	root = json_pack("{s:o, s:o, s:o, s:o}",
	    "active", tg_rows_json(PQgetvalue(res, 0, 0)),
	    "expired_awaiting_cleanup", tg_rows_json(PQgetvalue(res, 0, 1)),
	    "by_reason", tg_rows_json(PQgetvalue(res, 0, 2)),
	    "refresh_revocations_by_reason", tg_rows_json(PQgetvalue(res, 0, 3)));
	PQclear(res);
	return tg_resp_json(resp, 200, root);
}

/* TOOLGATE_TEST_ROUTES only: one route per permission bit, for the RBAC
 * matrix tests (the router has checked route->perm before we get here). */
int
tg_h_auth_test_perm(struct tg_req *req, struct tg_resp *resp)
{
	return tg_resp_json(resp, 200, json_pack("{s:b, s:s}", "ok", 1, "role",
	    tg_role_name(req->who.role)));
}
