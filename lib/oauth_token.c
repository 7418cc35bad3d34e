/*
 * oauth_token.c - the token and revocation endpoints of the OAuth
 * authorization server (oauth.h), and its operations: registered clients
 * (admin) and connected apps (each user's grants).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/oauth.h"
#include "lib/parse.h"
#include "lib/rows.h"
#include "lib/sessions.h"
#include "lib/status.h"
#include "lib/svc.h"

int
tg_oauth_cut(const struct tg_call *c, const char *where, const char *arg,
    const char *reason)
{
	char sql[1024];
	const char *p[2] = {arg, reason};
	int n;

	/* The access tokens of the last 16 minutes first (15 min TTL + skew),
	 * then the refresh tokens themselves. */
	n = snprintf(sql, sizeof(sql),
	    "WITH r AS (UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = $2"
	    "  WHERE %s AND revoked_at IS NULL RETURNING 1)"
	    " INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
	    " SELECT access_jti, user_id, created_at + interval '15 minutes' + interval '60 seconds', $2"
	    " FROM refresh_tokens WHERE %s AND created_at > now() - interval '16 minutes'"
	    " ON CONFLICT (jti) DO NOTHING",
	    where, where);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return -TG_E_INTERNAL;
	return tg_db_exec(c->db, sql, 2, p, NULL);
}

/* --- the token endpoint ---------------------------------------------------- */

/* RFC 7636: 43..128 characters of [A-Za-z0-9-._~]. */
static int
verifier_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n < 43 || n > 128)
		return 0;
	for (; *v; v++)
		if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
			(*v >= '0' && *v <= '9') || *v == '-' || *v == '.' ||
			*v == '_' || *v == '~'))
			return 0;
	return 1;
}

/* 1 when BASE64URL(SHA256(verifier)) == challenge, in constant time. */
static int
pkce_ok(const char *verifier, const char *challenge)
{
	unsigned char md[TG_SHA256_LEN];
	char enc[64];

	if (tg_crypto_sha256(verifier, strlen(verifier), md) != TG_OK ||
	    tg_crypto_b64url_encode(md, sizeof(md), enc, sizeof(enc), NULL) != TG_OK)
		return 0;
	return strlen(challenge) == 43 && strlen(enc) == 43 &&
	    tg_crypto_equal(enc, challenge, 43);
}

struct exchange {
	const char *hash, *client_id, *redirect_uri, *verifier, *resource, *aud;
	const char *bad; /* out: invalid_grant description */
	int reused; /* out: a used code was presented */
	json_t *session; /* out */
};

static int
exchange_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct exchange *st = arg;
	struct tg_principal who;
	struct tg_call as = *c;
	struct tg_oauth_bind b;
	char fam[TG_JTI_LEN + 1];
	const char *p[2];
	PGresult *res = NULL;
	enum tg_role ur, gr;
	int64_t uid = 0, tva = 0;
	json_t *d;
	int rc;

	(void)err;
	p[0] = st->hash;
	if ((rc = tg_db_exec(c->db,
		 "SELECT oc.client_id, k.redirect_uri, k.code_challenge, k.resource,"
		 " k.used_at IS NOT NULL, k.expires_at <= now(), k.family, g.id, g.role,"
		 " u.id, u.username, u.role, u.disabled,"
		 " ceil(extract(epoch FROM u.tokens_valid_after))::bigint,"
		 " k.created_at < u.tokens_valid_after, k.redirect_given"
		 " FROM oauth_codes k JOIN oauth_grants g ON g.id = k.grant_id"
		 " JOIN oauth_clients oc ON oc.id = g.client_id JOIN users u ON u.id = g.user_id"
		 " WHERE k.code_hash = $1 FOR UPDATE OF k",
		 1, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		st->bad = "unknown authorization code";
		goto out;
	}
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		/* security: a code presented twice: whoever holds a copy, the
		 * tokens issued for it are revoked (OAuth 2.1 section 4.1.3);
		 * the revocation and its audit row (as the code's user) commit
		 * together, like a refresh token's reuse. */
		st->bad = "authorization code already used: the tokens issued for it were revoked";
		if (!PQgetisnull(res, 0, 6) &&
		    (rc = tg_oauth_cut(c, "family = $1", PQgetvalue(res, 0, 6), "code_reuse")) != TG_OK)
			goto out;
		memset(&who, 0, sizeof(who));
		who.authenticated = 1;
		who.username = PQgetvalue(res, 0, 10);
		who.role = tg_role_parse(PQgetvalue(res, 0, 11));
		if (tg_parse_i64(PQgetvalue(res, 0, 9), 1, INT64_MAX, &who.user_id) != TG_OK) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		as.who = &who;
		d = json_pack("{s:s, s:s}", "client_id", st->client_id, "reason", st->bad);
		rc = tg_audit_call(&as, "oauth.token", PQgetvalue(res, 0, 0), "reuse_detected", d);
		json_decref(d);
		if (rc == TG_OK)
			st->reused = 1;
		goto out;
	}
	/* Any other failure burns the code too (no guessing of verifiers). */
	if ((rc = tg_db_exec(c->db, "UPDATE oauth_codes SET used_at = now()"
				    " WHERE code_hash = $1",
		 1, p, NULL)) != TG_OK)
		goto out;
	if (PQgetvalue(res, 0, 5)[0] == 't')
		st->bad = "authorization code expired";
	else if (strcmp(PQgetvalue(res, 0, 0), st->client_id) != 0)
		st->bad = "authorization code of another client";
	else if (st->redirect_uri == NULL ? PQgetvalue(res, 0, 15)[0] == 't' :
					    strcmp(PQgetvalue(res, 0, 1), st->redirect_uri) != 0)
		st->bad = "redirect_uri differs from the authorization request's";
	else if (!pkce_ok(st->verifier, PQgetvalue(res, 0, 2)))
		st->bad = "code_verifier does not match the code_challenge";
	else if (st->resource != NULL && strcmp(st->resource, PQgetvalue(res, 0, 3)) != 0)
		st->bad = "resource differs from the authorization request's";
	else if (PQgetvalue(res, 0, 12)[0] == 't' || PQgetvalue(res, 0, 14)[0] == 't')
		st->bad = "the user's tokens were revoked or the account disabled";
	if (st->bad != NULL)
		goto out;
	ur = tg_role_parse(PQgetvalue(res, 0, 11));
	gr = tg_role_parse(PQgetvalue(res, 0, 8));
	memset(&b, 0, sizeof(b));
	if (ur == TG_ROLE_NONE || gr == TG_ROLE_NONE ||
	    tg_parse_i64(PQgetvalue(res, 0, 7), 1, INT64_MAX, &b.grant_id) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 9), 1, INT64_MAX, &uid) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 13), INT64_MIN, INT64_MAX, &tva) != TG_OK) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	b.aud = st->aud;
	b.cid = st->client_id;
	b.family_out = fam;
	memset(&who, 0, sizeof(who));
	who.authenticated = 1;
	who.user_id = uid;
	who.username = PQgetvalue(res, 0, 10);
	who.role = gr < ur ? gr : ur;
	as.who = &who;
	if ((rc = tg_sessions_issue_oauth(&as, uid, who.username, who.role, tva, &b,
		 &st->session)) != TG_OK)
		goto out;
	p[1] = fam;
	if ((rc = tg_db_exec(c->db, "WITH g AS (UPDATE oauth_grants SET last_used_at = now()"
				    " WHERE id = (SELECT grant_id FROM oauth_codes WHERE code_hash = $1))"
				    " UPDATE oauth_codes SET family = $2 WHERE code_hash = $1",
		 2, p, NULL)) != TG_OK)
		goto out;
	d = json_pack("{s:s, s:s}", "client_id", st->client_id, "role", tg_role_name(who.role));
	rc = tg_audit_call(&as, "oauth.token", st->client_id, TG_AUDIT_OK, d);
	json_decref(d);
out:
	PQclear(res);
	return rc;
}

static int
token_code(const struct tg_call *c, const struct tg_oauth_kv *kv, int n,
    const char *cid, const char *aud, json_t **out, struct tg_oerr *oe)
{
	struct exchange st;
	struct tg_err err;
	char hash[TG_SHA256_HEX_LEN + 1];
	const char *code;
	int dup = 0, rc;

	memset(&st, 0, sizeof(st));
	code = tg_oauth_kv_get(kv, n, "code", &dup);
	st.redirect_uri = tg_oauth_kv_get(kv, n, "redirect_uri", &dup);
	st.verifier = tg_oauth_kv_get(kv, n, "code_verifier", &dup);
	st.resource = tg_oauth_kv_get(kv, n, "resource", &dup);
	if (dup || code == NULL || st.verifier == NULL) {
		tg_oauth_oerr(oe, 400, "invalid_request", dup ? "a parameter was given twice" : "code and code_verifier are required (and redirect_uri when the authorization request named one)");
		return -TG_E_BADREQ;
	}
	if (st.resource != NULL && strcmp(st.resource, aud) != 0) {
		tg_oauth_oerr(oe, 400, "invalid_target", "resource must be this server's MCP endpoint (%s)", aud);
		return -TG_E_BADREQ;
	}
	if (!verifier_ok(st.verifier)) {
		tg_oauth_oerr(oe, 400, "invalid_grant",
		    "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]");
		return -TG_E_BADREQ;
	}
	if (strlen(code) > 256 || tg_crypto_sha256_hex(code, strlen(code), hash) != TG_OK) {
		tg_oauth_oerr(oe, 400, "invalid_grant", "unknown authorization code");
		return -TG_E_BADREQ;
	}
	st.hash = hash;
	st.client_id = cid;
	st.aud = aud;
	tg_err_init(&err);
	rc = tg_call_tx(c, exchange_tx, &st, &err);
	tg_err_clear(&err);
	if (rc == TG_OK && st.bad != NULL) {
		json_decref(st.session);
		if (st.reused)
			tg_log(TG_LOG_WARN, "oauth.code_reuse", "client=%s", tg_log_q(cid));
		else
			(void)tg_audit_reject_call(c, "oauth.token", TG_AUDIT_FAILED, st.bad);
		tg_oauth_oerr(oe, 400, "invalid_grant", "%s", st.bad);
		return -TG_E_BADREQ;
	}
	if (rc != TG_OK) {
		json_decref(st.session);
		return rc;
	}
	*out = st.session;
	return TG_OK;
}

int
tg_oauth_token(const struct tg_call *c, const struct tg_oauth_kv *kv, int n,
    json_t **out, struct tg_oerr *oe)
{
	char aud[TG_AUD_MAX];
	const char *gt, *cid, *tok, *resource;
	struct tg_err err;
	int dup = 0, rc;
	PGresult *res = NULL;
	const char *p[1];

	if (tg_oauth_resource(c->cfg, aud, sizeof(aud)) != TG_OK)
		return -TG_E_NOTFOUND;
	gt = tg_oauth_kv_get(kv, n, "grant_type", &dup);
	cid = tg_oauth_kv_get(kv, n, "client_id", &dup);
	if (dup) {
		tg_oauth_oerr(oe, 400, "invalid_request", "a parameter was given twice");
		return -TG_E_BADREQ;
	}
	if (gt == NULL) {
		tg_oauth_oerr(oe, 400, "invalid_request", "grant_type is required");
		return -TG_E_BADREQ;
	}
	if (strcmp(gt, "authorization_code") != 0 && strcmp(gt, "refresh_token") != 0) {
		tg_oauth_oerr(oe, 400, "unsupported_grant_type",
		    "grant_type must be authorization_code or refresh_token");
		return -TG_E_BADREQ;
	}
	/* Public clients: the client_id identifies, PKCE and the binding of
	 * codes and refresh tokens to it protect. */
	if (cid == NULL || strlen(cid) > 64) {
		tg_oauth_oerr(oe, 401, "invalid_client", "client_id is required");
		return -TG_E_BADREQ;
	}
	p[0] = cid;
	if ((rc = tg_db_exec(c->db, "UPDATE oauth_clients SET last_used_at = now()"
				    " WHERE client_id = $1 RETURNING id",
		 1, p, &res)) != TG_OK)
		return rc;
	rc = PQntuples(res);
	PQclear(res);
	if (rc != 1) {
		tg_oauth_oerr(oe, 401, "invalid_client", "unknown client_id");
		return -TG_E_BADREQ;
	}
	if (strcmp(gt, "authorization_code") == 0)
		return token_code(c, kv, n, cid, aud, out, oe);
	tok = tg_oauth_kv_get(kv, n, "refresh_token", &dup);
	resource = tg_oauth_kv_get(kv, n, "resource", &dup);
	if (dup || tok == NULL) {
		tg_oauth_oerr(oe, 400, "invalid_request", dup ? "a parameter was given twice" : "refresh_token is required");
		return -TG_E_BADREQ;
	}
	if (resource != NULL && strcmp(resource, aud) != 0) {
		tg_oauth_oerr(oe, 400, "invalid_target", "resource must be this server's MCP endpoint (%s)", aud);
		return -TG_E_BADREQ;
	}
	tg_err_init(&err);
	rc = tg_sessions_refresh_oauth(c, tok, cid, aud, out, &err);
	if (rc != TG_OK && err.status == TG_E_UNAUTH) {
		tg_oauth_oerr(oe, 400, "invalid_grant", "%s", err.detail);
		rc = -TG_E_BADREQ;
	}
	tg_err_clear(&err);
	return rc;
}

/* --- revocation (RFC 7009) -------------------------------------------------- */

struct revoke {
	const char *tok, *cid;
};

static int
revoke_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	const struct tg_config *cfg = c->cfg;
	struct revoke *st = arg;
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], exp[24];
	struct tg_claims cl;
	const char *p[4];
	PGresult *res = NULL;
	json_t *d;
	int rc = TG_OK;

	(void)err;
	if (tg_auth_refresh_hash(st->tok, strlen(st->tok), hash, sizeof(hash)) == TG_OK) {
		p[0] = hash;
		p[1] = st->cid;
		if ((rc = tg_db_exec(c->db, "SELECT rt.family FROM refresh_tokens rt"
					    " JOIN oauth_grants g ON g.id = rt.grant_id JOIN oauth_clients oc"
					    " ON oc.id = g.client_id WHERE rt.token_hash = $1 AND oc.client_id = $2",
			 2, p, &res)) != TG_OK ||
		    PQntuples(res) != 1)
			goto out;
		rc = tg_oauth_cut(c, "family = $1", PQgetvalue(res, 0, 0), "oauth_revoke");
	} else if (tg_auth_jwt_verify(cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer,
		       st->tok, strlen(st->tok), (int64_t)time(NULL), &cl, NULL) == TG_OK &&
	    cl.cid[0] != '\0' && strcmp(cl.cid, st->cid) == 0) {
		/* security: an OAuth client's own access token only; a console
		 * token (no cid) was issued to no client */
		snprintf(uid, sizeof(uid), "%lld", (long long)cl.user_id);
		snprintf(exp, sizeof(exp), "%lld", (long long)cl.exp);
		p[0] = cl.jti;
		p[1] = uid;
		p[2] = exp;
		p[3] = "oauth_revoke";
		rc = tg_db_exec(c->db, "INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
				       " VALUES ($1, $2::bigint, to_timestamp($3::bigint) + interval '60 seconds', $4)"
				       " ON CONFLICT (jti) DO NOTHING",
		    4, p, NULL);
	} else {
		goto out; /* unknown: nothing to do (RFC 7009 section 2.2) */
	}
	if (rc != TG_OK)
		goto out;
	d = json_pack("{s:s}", "client_id", st->cid);
	rc = tg_audit_call(c, "oauth.revoke", st->cid, TG_AUDIT_OK, d);
	json_decref(d);
out:
	PQclear(res);
	return rc;
}

int
tg_oauth_revoke(const struct tg_call *c, const struct tg_oauth_kv *kv, int n,
    struct tg_oerr *oe)
{
	struct revoke st;
	struct tg_err err;
	int dup = 0, rc;

	if (c->cfg == NULL || c->cfg->public_url[0] == '\0')
		return -TG_E_NOTFOUND;
	st.tok = tg_oauth_kv_get(kv, n, "token", &dup);
	st.cid = tg_oauth_kv_get(kv, n, "client_id", &dup);
	if (dup || st.tok == NULL) {
		tg_oauth_oerr(oe, 400, "invalid_request", dup ? "a parameter was given twice" : "token is required");
		return -TG_E_BADREQ;
	}
	if (st.cid == NULL) {
		tg_oauth_oerr(oe, 401, "invalid_client", "client_id is required");
		return -TG_E_BADREQ;
	}
	if (strlen(st.tok) > TG_JWT_MAX_LEN)
		return TG_OK;
	tg_err_init(&err);
	rc = tg_call_tx(c, revoke_tx, &st, &err);
	tg_err_clear(&err);
	return rc;
}

/* --- operations: clients (admin) and connected apps ------------------------ */

int
tg_oauth_clients_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	return tg_crud_list(c, TG_P_USERS, pg,
	    "SELECT json_build_object('id', oc.id, 'client_id', oc.client_id,"
	    " 'client_name', oc.client_name, 'client_uri', oc.client_uri,"
	    " 'redirect_uris', oc.redirect_uris, 'registered_from', oc.registered_from,"
	    " 'created_at', " TG_SQL_TS("oc.created_at") ","
							 " 'last_used_at', " TG_SQL_TS("oc.last_used_at") ","
													  " 'grants', (SELECT count(*) FROM oauth_grants g WHERE g.client_id = oc.id))::text"
													  " FROM oauth_clients oc WHERE oc.id > $1::bigint ORDER BY oc.id LIMIT $2::bigint",
	    2, NULL, out, err);
}

struct del {
	int64_t id;
	int client; /* a client, else a grant */
};

static int
del_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct del *st = arg;
	char ids[24], uid[24];
	const char *p[2];
	PGresult *res = NULL;
	int rc;

	tg_i64s(ids, sizeof(ids), st->id);
	tg_i64s(uid, sizeof(uid), c->who->user_id);
	p[0] = ids;
	p[1] = tg_call_can(c, TG_P_USERS) ? NULL : uid;
	if (st->client)
		rc = tg_db_exec(c->db, "SELECT client_id FROM oauth_clients WHERE id = $1::bigint"
				       " FOR UPDATE",
		    1, p, &res);
	else
		rc = tg_db_exec(c->db, "SELECT oc.client_id FROM oauth_grants g JOIN oauth_clients oc"
				       " ON oc.id = g.client_id WHERE g.id = $1::bigint AND ($2::bigint IS NULL OR"
				       " g.user_id = $2::bigint) FOR UPDATE OF g",
		    2, p, &res);
	if (rc != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no %s with id %lld",
		    st->client ? "OAuth client" : "connected app", (long long)st->id);
		goto out;
	}
	/* Cut first (the rows go with the grant), then delete. */
	if (st->client)
		rc = tg_oauth_cut(c, "grant_id IN (SELECT id FROM oauth_grants WHERE client_id = $1::bigint)",
		    ids, "client_deleted");
	else
		rc = tg_oauth_cut(c, "grant_id = $1::bigint", ids, "consent_withdrawn");
	if (rc != TG_OK)
		goto out;
	rc = tg_db_exec(c->db, st->client ? "DELETE FROM oauth_clients WHERE id = $1::bigint" : "DELETE FROM oauth_grants WHERE id = $1::bigint", 1, p, NULL);
	if (rc != TG_OK)
		goto out;
	rc = tg_audit_call(c, st->client ? "oauth.client_delete" : "oauth.consent_withdraw",
	    PQgetvalue(res, 0, 0), TG_AUDIT_OK, NULL);
out:
	PQclear(res);
	return rc;
}

/* del_tx for a client (client 1) or a grant, once the caller has perm. */
static int
del_row(const struct tg_call *c, int64_t id, int client, unsigned perm,
    struct tg_err *err)
{
	struct del st = {id, client};
	int rc;

	if ((rc = tg_svc_need(c, perm, err)) != TG_OK)
		return rc;
	return tg_call_tx(c, del_tx, &st, err);
}

int
tg_oauth_clients_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	return del_row(c, id, 1, TG_P_USERS, err);
}

int
tg_oauth_grants_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	char uid[24];
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SELF, err)) != TG_OK)
		return rc;
	tg_i64s(uid, sizeof(uid), c->who->user_id);
	return tg_crud_list(c, TG_P_SELF, pg,
	    "SELECT json_build_object('id', g.id, 'client_id', oc.client_id,"
	    " 'client_name', oc.client_name, 'redirect_uris', oc.redirect_uris,"
	    " 'role', g.role, 'created_at', " TG_SQL_TS("g.created_at") ","
									" 'last_used_at', " TG_SQL_TS("g.last_used_at") ")::text"
															" FROM oauth_grants g JOIN oauth_clients oc ON oc.id = g.client_id"
															" WHERE g.id > $1::bigint AND g.user_id = $3::bigint ORDER BY g.id LIMIT $2::bigint",
	    3, uid, out, err);
}

int
tg_oauth_grants_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	return del_row(c, id, 0, TG_P_SELF, err);
}
