/*
 * sessions.c - the sign-in session service (sessions.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/access_db.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/config.h"	/* struct tg_config: c->cfg (JWT key) */
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/oauth.h"	/* tg_oauth_cut */
#include "lib/parse.h"
#include "lib/rows.h"
#include "lib/sessions.h"
#include "lib/status.h"

/*
 * security: login throttling, failed attempts per 5-minute window. Hard
 * limits (429) only per client address and per (account, address), so an
 * attacker elsewhere cannot lock the real user out; per account, beyond a
 * far higher count, the account is paced: at most one attempt per second
 * from anywhere, the others answered 429 + Retry-After at once (a worker
 * never waits: an attacker with many addresses cannot occupy the workers,
 * and the pace is one attempt a second whatever the number of workers).
 * Counted by the name given, whether or not such a user exists, so the
 * answers stay the same for unknown users.
 */
#define LOGIN_WINDOW 300
#define LOGIN_FAIL_PER_IP 50
#define LOGIN_FAIL_PER_USER_IP 10
#define LOGIN_SLOW_PER_USER 30
#define LOGIN_PACE_S 1

#define TVA_BUMP "greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second'"

#define MSG_BAD_LOGIN "invalid username or password"

/* A shape error of the input object: 422 on "body". */
static int
bad_body(struct tg_err *err, const json_error_t *je)
{
	return tg_err_field(err, "body", "%s", je->text);
}

/*
 * Issues an access token and a refresh token of family (a new family when
 * NULL) for the user; tva is ceil(tokens_valid_after) in epoch seconds so
 * that a token issued in the second of a revoke-all is still valid. parent
 * (decimal id, NULL: none) is the refresh token it was rotated from. Inside
 * the caller's transaction: the row commits with the caller's audit row.
 */
static int
issue_session(const struct tg_call *c, int64_t uid, const char *username,
    enum tg_role role, int64_t tva, const char *family, const char *parent,
    const struct tg_oauth_bind *b, json_t **out)
{
	const struct tg_config *cfg = c->cfg;
	char access[TG_JWT_MAX_LEN + 1], refresh[TG_REFRESH_LEN + 1];
	char rhash[TG_SHA256_HEX_LEN + 1], fam[TG_JTI_LEN + 1], uidb[24];
	char grant[24];
	struct tg_claims cl;
	const char *p[6];
	int64_t now = (int64_t)time(NULL);
	int rc;

	access[0] = refresh[0] = '\0';
	if (cfg == NULL)
		return -TG_E_INTERNAL;
	if (tva > now)
		now = tva;
	if ((rc = tg_auth_jwt_issue_aud(cfg->jwt_secret, cfg->jwt_secret_len,
	    cfg->jwt_issuer, uid, role, now, TG_JWT_ACCESS_TTL, b ? b->aud : NULL,
	    b ? b->cid : NULL, access, sizeof(access), &cl)) != TG_OK)
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
	p[3] = cl.jti;
	snprintf(grant, sizeof(grant), "%lld", b ? (long long)b->grant_id : 0LL);
	p[4] = b ? grant : NULL;
	p[5] = parent;
	if ((rc = tg_db_exec(c->db,
	    "INSERT INTO refresh_tokens (user_id, family, token_hash, access_jti, expires_at,"
	    " grant_id, parent_id) VALUES ($1::bigint, $2, $3, $4,"
	    " now() + interval '" "604800" " seconds', $5::bigint, $6::bigint)", 6, p,
	    NULL)) != TG_OK)
		goto out;
	if (b != NULL && b->family_out != NULL)
		snprintf(b->family_out, TG_JTI_LEN + 1, "%s", fam);
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

/* 1 when the address's or the (account, address) failure count of this
 * window is at its limit; *slow = 1 when the account's is at
 * LOGIN_SLOW_PER_USER. b[0..2]: the address, (account, address) and account
 * buckets. */
static int
login_throttled(const struct tg_call *c, const char *const *b, int64_t *retry,
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
	rc = tg_db_exec(c->db,
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

/* An account under attack (slow): takes this second's one attempt of the
 * account; 1 when it is already taken (the caller answers 429), 0 when
 * this attempt may go on. The ticket is a rate_limits row of a
 * LOGIN_PACE_S window, so every worker and host shares it. */
static int
login_paced(const struct tg_call *c, const char *user_bucket)
{
	int64_t hits = 0;
	int rc;

	rc = tg_rate_hit(c->db, LOGIN_PACE_S, &hits, NULL, "login-pace:%s",
	    user_bucket);
	if (rc != TG_OK)
		return rc;
	return hits > 1;
}

/* A sign-in that failed: the pacing counters (address, user, both) and
 * its audit row, in one transaction. */
struct login_fail {
	const char *const *buckets;
	const char *username;
	json_t *detail;
};

static int
login_failed_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	const struct login_fail *f = arg;
	const char *p[4];
	char win[16];
	int rc;

	(void)err;
	snprintf(win, sizeof(win), "%d", LOGIN_WINDOW);
	p[0] = f->buckets[0];
	p[1] = f->buckets[1];
	p[2] = f->buckets[2];
	p[3] = win;
	if ((rc = tg_db_exec(c->db,
	    "INSERT INTO rate_limits AS r (bucket, window_start, hits)"
	    " SELECT b, extract(epoch FROM now())::bigint / $4::int * $4::int, 1"
	    " FROM unnest(ARRAY[$1, $2, $3]) AS b"
	    " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1",
	    4, p, NULL)) != TG_OK)
		return rc;
	return tg_audit_call(c, "auth.login", f->username, TG_AUDIT_FAILED, f->detail);
}

/* security: fail closed - a failure that cannot be counted is a 503, not
 * a 401 that would let guesses go on uncounted */
static int
login_failed(const struct tg_call *c, const char *const *b, const char *username,
    json_t *detail, struct tg_err *err)
{
	struct login_fail f = {b, username, detail};
	int rc;

	tg_metrics_inc(c->metrics, "auth_failures");
	if ((rc = tg_call_tx(c, login_failed_tx, &f, err)) != TG_OK)
		return rc;
	return tg_err_set(err, TG_E_UNAUTH, MSG_BAD_LOGIN);
}

/* A sign-in that passed: its session, last_login_at and its audit row,
 * in one transaction (lib/audit.h): all or nothing. */
struct login {
	int64_t uid, tva;
	const char *uid_text, *name;
	enum tg_role role;
	json_t *session;		/* out */
};

static int
login_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct login *st = arg;
	const char *p[1] = {st->uid_text};
	int rc;

	(void)err;
	if ((rc = issue_session(c, st->uid, st->name, st->role, st->tva, NULL, NULL,
	    NULL, &st->session)) != TG_OK)
		return rc;
	if ((rc = tg_db_exec(c->db,
	    "UPDATE users SET last_login_at = now() WHERE id = $1::bigint", 1, p,
	    NULL)) != TG_OK)
		return rc;
	return tg_audit_call(c, "auth.login", st->name, TG_AUDIT_OK, NULL);
}

static void
lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int
tg_sessions_login(const struct tg_call *c, json_t *in, json_t **out,
    int64_t *retry_after, struct tg_err *err)
{
	const char *username = NULL, *password = NULL, *p[1], *b[3];
	const char *addr = c->client_addr ? c->client_addr : "";
	char *ipb = NULL, *userb = NULL, *uab = NULL, *name = NULL;
	struct tg_principal who;
	struct tg_call as;
	struct login st;
	json_t *detail = NULL;
	json_error_t je;
	PGresult *res = NULL;
	int64_t uid = 0, tva = 0, retry = 0;
	enum tg_role role;
	size_t pwlen;
	int rc, ok, slow = 0;

	if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s, s:s}",
	    "username", &username, "password", &password) != 0)
		return bad_body(err, &je);
	pwlen = strlen(password);
	if (strlen(username) > 64 || pwlen > TG_PASSWORD_MAX)
		return tg_err_set(err, TG_E_UNAUTH, MSG_BAD_LOGIN);
	if (asprintf(&ipb, "login-ip:%s", addr) < 0)
		ipb = NULL;
	if (asprintf(&userb, "login-user:%s", username) < 0)
		userb = NULL;
	if (asprintf(&uab, "login-ua:%s|%s", addr, username) < 0)
		uab = NULL;
	if (ipb == NULL || userb == NULL || uab == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	lower_ascii(userb);
	lower_ascii(uab);
	b[0] = ipb;
	b[1] = uab;
	b[2] = userb;
	detail = json_pack("{s:s}", "username", username);
	rc = login_throttled(c, b, &retry, &slow);
	if (rc < 0) {
		rc = tg_err_from(err, rc);
		goto out;
	}
	if (rc == 1) {
		/* security: aggregated per address and interval (lib/audit.h) */
		(void)tg_audit_reject_call(c, "auth.login", "throttled", "login throttled");
		if (retry_after != NULL)
			*retry_after = retry;
		rc = tg_err_set(err, TG_E_RATE,
		    "too many failed sign-ins from this address; retry in %lld s",
		    (long long)retry);
		goto out;
	}
	/* security: an account under attack from many addresses is paced
	 * for everyone (one attempt a second), never locked, and no worker
	 * waits for it. */
	if (slow && (rc = login_paced(c, userb)) != 0) {
		if (rc < 0) {
			rc = tg_err_from(err, rc);
			goto out;
		}
		(void)tg_audit_reject_call(c, "auth.login", "paced", "login paced");
		if (retry_after != NULL)
			*retry_after = LOGIN_PACE_S;
		rc = tg_err_set(err, TG_E_RATE,
		    "too many failed sign-ins on this account; one attempt a second;"
		    " retry in %d s", LOGIN_PACE_S);
		goto out;
	}
	p[0] = username;
	if ((rc = tg_db_exec(c->db,
	    "SELECT id, password_hash, role, disabled,"
	    " ceil(extract(epoch FROM tokens_valid_after))::bigint, username"
	    " FROM users WHERE lower(username) = lower($1)", 1, p, &res)) != TG_OK) {
		rc = tg_err_from(err, rc);
		goto out;
	}
	if (PQntuples(res) != 1) {
		/* timing: an unknown user costs what a wrong password costs */
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
		rc = login_failed(c, b, username, detail, err);
		goto out;
	}
	if ((name = strdup(PQgetvalue(res, 0, 5))) == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	/* From here on the caller is the user who signed in. */
	memset(&who, 0, sizeof(who));
	who.authenticated = 1;
	who.user_id = uid;
	who.role = role;
	who.username = name;
	as = *c;
	as.who = &who;
	/* reliability: the token, last_login_at and the audit row commit
	 * together; a database failure on the way is a 503 and no token */
	memset(&st, 0, sizeof(st));
	st.uid = uid;
	st.tva = tva;
	st.uid_text = PQgetvalue(res, 0, 0);
	st.name = name;
	st.role = role;
	rc = tg_call_tx(&as, login_tx, &st, err);
	rc = tg_json_hand(out, st.session, rc);
out:
	PQclear(res);
	json_decref(detail);
	free(ipb);
	free(userb);
	free(uab);
	free(name);
	return rc;
}

/* The state of one refresh, across its transaction. */
struct refresh {
	const char *hash;		/* of the presented token */
	const char *cid, *aud;		/* OAuth: the client presenting it */
	const char *why;		/* rejected: the reason (401) */
	int reused;			/* reuse detected: the family was revoked */
	struct tg_principal who;	/* the token's user, once known */
	char *username;
	json_t *session;
};

/*
 * A token presented again within the reuse interval (sessions.h): 1 when
 * it has successors and none of them was used or revoked other than by a
 * retry (the retry may supersede them), 0 when one was (or none is left): that is reuse. The successors
 * are locked, so a refresh of one of them is either waited for (and seen
 * used) or waits (and finds its token superseded: reuse).
 */
static int
successors_unused(const struct tg_call *c, const char *rowid)
{
	const char *p[1] = {rowid};
	PGresult *res = NULL;
	int i, n, rc;

	/* security: a successor revoked for any other reason than a retry's
	 * supersession (logout, revoke) is not brought back by a retry */
	if ((rc = tg_db_exec(c->db, "SELECT used_at IS NOT NULL OR (revoked_at IS NOT NULL"
	    " AND revoked_reason IS DISTINCT FROM 'superseded') FROM refresh_tokens"
	    " WHERE parent_id = $1::bigint FOR UPDATE", 1, p, &res)) != TG_OK)
		return rc;
	n = PQntuples(res);
	for (i = 0; i < n && PQgetvalue(res, i, 0)[0] == 'f'; i++)
		;
	PQclear(res);
	return n > 0 && i == n;
}

static int
refresh_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct refresh *st = arg;
	struct tg_call as = *c;
	char def[16], max[16];
	const char *p[3] = {st->hash, def, max};
	char *family = NULL, *rowid = NULL;
	PGresult *res = NULL;
	int64_t uid = 0, tva = 0;
	json_t *d;
	int rc, used, retry = 0;

	as.who = &st->who;
	snprintf(def, sizeof(def), "%d", TG_REFRESH_REUSE_DEFAULT);
	snprintf(max, sizeof(max), "%d", TG_REFRESH_REUSE_MAX);
	/* column 13: rotated (not revoked) within the reuse interval, the
	 * setting refresh_reuse_interval_seconds (lib/settings.h) */
	if ((rc = tg_db_exec(c->db,
	    "WITH w AS (SELECT COALESCE((SELECT least(greatest((value #>> '{}')::int, 0),"
	    "  $3::int) FROM settings WHERE key = 'refresh_reuse_interval_seconds'), $2::int) AS s)"
	    "SELECT rt.id, rt.family, rt.used_at IS NOT NULL OR rt.revoked_at IS NOT NULL,"
	    " rt.expires_at <= now(), u.id, u.username, u.role, u.disabled,"
	    " rt.created_at < u.tokens_valid_after,"
	    " ceil(extract(epoch FROM u.tokens_valid_after))::bigint,"
	    " rt.grant_id, g.role, oc.client_id,"
	    " w.s > 0 AND rt.revoked_at IS NULL AND rt.used_at > now() - make_interval(secs => w.s)"
	    " FROM w, refresh_tokens rt JOIN users u ON u.id = rt.user_id"
	    " LEFT JOIN oauth_grants g ON g.id = rt.grant_id"
	    " LEFT JOIN oauth_clients oc ON oc.id = g.client_id"
	    " WHERE rt.token_hash = $1 FOR UPDATE OF rt", 3, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		st->why = "unknown refresh token";
		goto reject;
	}
	/* security: a console refresh token never becomes an OAuth one nor
	 * the other way round (an OAuth grant's role and audience would be
	 * lost), and one client cannot use another's. */
	if (st->cid == NULL && !PQgetisnull(res, 0, 10)) {
		st->why = "refresh token of an OAuth client: use the token endpoint";
		goto reject;
	}
	if (st->cid != NULL && (PQgetisnull(res, 0, 10) ||
	    strcmp(PQgetvalue(res, 0, 12), st->cid) != 0)) {
		st->why = "unknown refresh token";
		goto reject;
	}
	family = strdup(PQgetvalue(res, 0, 1));
	rowid = strdup(PQgetvalue(res, 0, 0));
	if (family == NULL || rowid == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if (tg_parse_i64(PQgetvalue(res, 0, 4), 1, INT64_MAX, &uid) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 9), INT64_MIN, INT64_MAX, &tva) != TG_OK) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	st->username = strdup(PQgetvalue(res, 0, 5));
	st->who.authenticated = 1;
	st->who.user_id = uid;
	st->who.username = st->username;
	st->who.role = tg_role_parse(PQgetvalue(res, 0, 6));
	used = PQgetvalue(res, 0, 2)[0] == 't';
	if (used && PQgetvalue(res, 0, 13)[0] == 't') {
		/* security: a retry (the answer to the rotation was lost) while
		 * its successor is unused: it supersedes that successor below,
		 * so one live token per family, whatever the retries. */
		if ((rc = successors_unused(c, rowid)) < 0)
			goto out;
		retry = rc;
		used = !retry;
		rc = TG_OK;
	}
	if (used) {
		/* Reuse: somebody holds a copy. Revoke the family and every access
		 * token issued with it that may still be alive; commit that. */
		p[0] = family;
		if ((rc = tg_db_exec(c->db,
		    "WITH f AS (UPDATE refresh_tokens SET revoked_at = now(),"
		    "  revoked_reason = 'reuse_detected'"
		    "  WHERE family = $1 AND revoked_at IS NULL RETURNING 1)"
		    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
		    " SELECT access_jti, user_id, created_at + interval '15 minutes' + interval '60 seconds',"
		    "  'refresh_reuse' FROM refresh_tokens"
		    " WHERE family = $1 AND created_at > now() - interval '16 minutes'"
		    " ON CONFLICT (jti) DO NOTHING", 1, p, NULL)) != TG_OK)
			goto out;
		d = json_pack("{s:s}", "family", family);
		rc = tg_audit_call(&as, "auth.refresh", st->username ? st->username : "",
		    "reuse_detected", d);
		json_decref(d);
		if (rc == TG_OK)
			st->reused = 1;
		goto out;
	}
	if (PQgetvalue(res, 0, 3)[0] == 't')
		st->why = "refresh token expired";
	else if (PQgetvalue(res, 0, 7)[0] == 't')
		st->why = "user disabled";
	else if (PQgetvalue(res, 0, 8)[0] == 't')
		st->why = "refresh token revoked";
	else if (st->who.role == TG_ROLE_NONE || st->username == NULL)
		st->why = "no valid role";
	if (st->why != NULL)
		goto reject;
	p[0] = rowid;
	/* A retry keeps used_at (the interval runs from the first rotation)
	 * and revokes the successors it replaces, their access tokens too. */
	if ((rc = retry ? tg_oauth_cut(c, "parent_id = $1::bigint", rowid, "superseded") :
	    tg_db_exec(c->db, "UPDATE refresh_tokens SET used_at = now() WHERE id = $1::bigint",
	    1, p, NULL)) != TG_OK)
		goto out;
	if (st->cid != NULL) {
		/* an OAuth grant: its role, never above the user's current one */
		struct tg_oauth_bind b;
		enum tg_role gr = tg_role_parse(PQgetvalue(res, 0, 11));

		memset(&b, 0, sizeof(b));
		if (tg_parse_i64(PQgetvalue(res, 0, 10), 1, INT64_MAX, &b.grant_id) != TG_OK ||
		    gr == TG_ROLE_NONE) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		b.aud = st->aud;
		b.cid = st->cid;
		p[0] = PQgetvalue(res, 0, 10);
		if ((rc = tg_db_exec(c->db, "UPDATE oauth_grants SET last_used_at = now()"
		    " WHERE id = $1::bigint", 1, p, NULL)) != TG_OK)
			goto out;
		rc = issue_session(c, uid, st->username, gr < st->who.role ? gr :
		    st->who.role, tva, family, rowid, &b, &st->session);
	} else {
		rc = issue_session(c, uid, st->username, st->who.role, tva, family,
		    rowid, NULL, &st->session);
	}
	if (rc != TG_OK)
		goto out;
	d = retry ? json_pack("{s:b}", "retry", 1) : NULL;
	if (retry && d == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	rc = tg_audit_call(&as, "auth.refresh", st->username, TG_AUDIT_OK, d);
	json_decref(d);
	goto out;
reject:
	rc = tg_err_set(err, TG_E_UNAUTH, "%s", st->why);
out:
	PQclear(res);
	free(family);
	free(rowid);
	return rc;
}

static int refresh_run(const struct tg_call *c, const char *tok,
    const char *cid, const char *aud, json_t **out, struct tg_err *err);

int
tg_sessions_refresh(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *tok = NULL;
	json_error_t je;

	if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s}", "refresh_token", &tok) != 0)
		return bad_body(err, &je);
	return refresh_run(c, tok, NULL, NULL, out, err);
}

int
tg_sessions_refresh_oauth(const struct tg_call *c, const char *tok,
    const char *cid, const char *aud, json_t **out, struct tg_err *err)
{
	if (cid == NULL || aud == NULL)
		return tg_err_from(err, -TG_E_INTERNAL);
	return refresh_run(c, tok, cid, aud, out, err);
}

int
tg_sessions_issue_oauth(const struct tg_call *c, int64_t uid,
    const char *username, enum tg_role role, int64_t tva,
    const struct tg_oauth_bind *b, json_t **out)
{
	if (b == NULL || b->aud == NULL || b->cid == NULL)
		return -TG_E_INTERNAL;
	return issue_session(c, uid, username, role, tva, NULL, NULL, b, out);
}

static int
refresh_run(const struct tg_call *c, const char *tok, const char *cid,
    const char *aud, json_t **out, struct tg_err *err)
{
	char hash[TG_SHA256_HEX_LEN + 1];
	struct refresh st;
	struct tg_call as = *c;
	json_t *d;
	int rc;

	if (tok == NULL || tg_auth_refresh_hash(tok, strlen(tok), hash, sizeof(hash)) != TG_OK) {
		(void)tg_audit_reject_call(c, "auth.refresh", TG_AUDIT_FAILED, "malformed refresh token");
		return tg_err_set(err, TG_E_UNAUTH, "invalid refresh token");
	}
	memset(&st, 0, sizeof(st));
	st.hash = hash;
	st.cid = cid;
	st.aud = aud;
	rc = tg_call_tx(c, refresh_tx, &st, err);
	if (rc == TG_OK && st.reused) {
		tg_log(TG_LOG_WARN, "auth.refresh_reuse", "user_id=%lld",
		    (long long)st.who.user_id);
		rc = tg_err_set(err, TG_E_UNAUTH,
		    "refresh token already used: every token of this session was revoked");
	} else if (rc != TG_OK && st.why != NULL) {
		/* Rolled back; the rejection is audited on its own. */
		if (!st.who.authenticated) {
			/* security: nobody's token: aggregated like auth.reject */
			(void)tg_audit_reject_call(c, "auth.refresh", TG_AUDIT_FAILED, st.why);
		} else {
			as.who = &st.who;
			d = json_pack("{s:s}", "reason", st.why);
			(void)tg_audit_call(&as, "auth.refresh",
			    st.username ? st.username : "", TG_AUDIT_FAILED, d);
			json_decref(d);
		}
	} else if (rc == TG_OK) {
		*out = st.session;
		st.session = NULL;
	}
	json_decref(st.session);
	free(st.username);
	return rc;
}

struct logout {
	const char *p[4];
};

static int
logout_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct logout *st = arg;
	int rc;

	(void)err;
	if ((rc = tg_db_exec(c->db,
	    "WITH r AS (UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'logout'"
	    "  WHERE user_id = $2::bigint AND revoked_at IS NULL AND (token_hash = $4 OR family IN"
	    "  (SELECT family FROM refresh_tokens WHERE access_jti = $1 AND user_id = $2::bigint))"
	    "  RETURNING 1)"
	    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, reason)"
	    " VALUES ($1, $2::bigint, to_timestamp($3::bigint) + interval '60 seconds', 'logout')"
	    " ON CONFLICT (jti) DO NOTHING", 4, st->p, NULL)) != TG_OK)
		return rc;
	return tg_audit_call(c, "auth.logout", c->who->username, TG_AUDIT_OK, NULL);
}

int
tg_sessions_logout(const struct tg_call *c, json_t *in, struct tg_err *err)
{
	const char *tok = NULL;
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], exp[24];
	struct logout st;
	json_error_t je;

	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	if (c->who->jti == NULL)
		return tg_err_set(err, TG_E_BADREQ,
		    "logout ends a token session; revoke API keys with DELETE /api/v1/api-keys/{id}");
	if (in != NULL && json_unpack_ex(in, &je, JSON_STRICT,
	    "{s?s}", "refresh_token", &tok) != 0)
		return bad_body(err, &je);
	hash[0] = '\0';
	if (tok != NULL && tg_auth_refresh_hash(tok, strlen(tok), hash, sizeof(hash)) != TG_OK)
		return tg_err_field(err, "refresh_token", "not a refresh token");
	snprintf(uid, sizeof(uid), "%lld", (long long)c->who->user_id);
	snprintf(exp, sizeof(exp), "%lld", (long long)c->who->token_exp);
	st.p[0] = c->who->jti;
	st.p[1] = uid;
	st.p[2] = exp;
	st.p[3] = hash[0] ? hash : NULL;
	return tg_call_tx(c, logout_tx, &st, err);
}

struct revoke {
	const char *tok;
	const char *kind;		/* out */
	int64_t owner;			/* out */
};

static int
revoke_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	const struct tg_config *cfg = c->cfg;
	struct revoke *st = arg;
	const char *p[4], *why = NULL;
	char hash[TG_SHA256_HEX_LEN + 1], handle[TG_APIKEY_HANDLE_LEN + 1];
	char uid[24], exp[24];
	struct tg_claims cl;
	PGresult *res = NULL;
	json_t *d = NULL;
	size_t n = strlen(st->tok);
	int rc, found;

	if (strncmp(st->tok, TG_REFRESH_PREFIX, 4) == 0) {
		st->kind = "refresh_token";
		if (tg_auth_refresh_hash(st->tok, n, hash, sizeof(hash)) != TG_OK)
			return tg_err_field(err, "token", "not a valid refresh token");
		p[0] = hash;
		rc = tg_db_exec(c->db, "SELECT user_id, family FROM refresh_tokens"
		    " WHERE token_hash = $1 FOR UPDATE", 1, p, &res);
	} else if (strncmp(st->tok, TG_APIKEY_PREFIX, 4) == 0) {
		st->kind = "api_key";
		if (tg_auth_apikey_parse(st->tok, n, handle, sizeof(handle), hash,
		    sizeof(hash)) != TG_OK)
			return tg_err_field(err, "token", "not a valid API key");
		p[0] = handle;
		rc = tg_db_exec(c->db, "SELECT user_id, id, key_hash FROM api_keys"
		    " WHERE prefix = $1 FOR UPDATE", 1, p, &res);
	} else {
		st->kind = "access_token";
		if (cfg == NULL)
			return -TG_E_INTERNAL;
		if (tg_auth_jwt_verify(cfg->jwt_secret, cfg->jwt_secret_len,
		    cfg->jwt_issuer, st->tok, n, (int64_t)time(NULL), &cl, &why) != TG_OK)
			return tg_err_field(err, "token", "%s", why ? why : "invalid token");
		snprintf(uid, sizeof(uid), "%lld", (long long)cl.user_id);
		p[0] = uid;
		rc = tg_db_exec(c->db, "SELECT id FROM users WHERE id = $1::bigint",
		    1, p, &res);
	}
	if (rc != TG_OK)
		goto out;
	found = PQntuples(res) == 1 &&
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &st->owner) == TG_OK;
	/* An API key's handle matched: the secret must too (constant time). */
	if (found && strcmp(st->kind, "api_key") == 0 &&
	    !tg_crypto_equal(PQgetvalue(res, 0, 2), hash, TG_SHA256_HEX_LEN))
		found = 0;
	if (!found) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no such token");
		goto out;
	}
	if (st->owner != c->who->user_id && !tg_call_can(c, TG_P_USERS)) {
		rc = tg_err_set(err, TG_E_FORBIDDEN,
		    "only an admin may revoke another user's token");
		goto out;
	}
	snprintf(uid, sizeof(uid), "%lld", (long long)st->owner);
	if (strcmp(st->kind, "refresh_token") == 0) {
		p[0] = PQgetvalue(res, 0, 1);
		rc = tg_db_exec(c->db, "UPDATE refresh_tokens SET revoked_at = now(),"
		    " revoked_reason = 'revoke' WHERE family = $1 AND revoked_at IS NULL",
		    1, p, NULL);
	} else if (strcmp(st->kind, "api_key") == 0) {
		p[0] = PQgetvalue(res, 0, 1);
		rc = tg_db_exec(c->db, "UPDATE api_keys SET revoked_at = now()"
		    " WHERE id = $1::bigint AND revoked_at IS NULL", 1, p, NULL);
	} else {
		snprintf(exp, sizeof(exp), "%lld", (long long)cl.exp);
		p[0] = cl.jti;
		p[1] = uid;
		p[2] = exp;
		p[3] = st->owner == c->who->user_id ? "revoke" : "admin_revoke";
		rc = tg_db_exec(c->db, "INSERT INTO jwt_blacklist (jti, user_id,"
		    " expires_at, reason) VALUES ($1, $2::bigint,"
		    " to_timestamp($3::bigint) + interval '60 seconds', $4)"
		    " ON CONFLICT (jti) DO NOTHING", 4, p, NULL);
	}
	if (rc != TG_OK)
		goto out;
	d = json_pack("{s:s, s:I}", "kind", st->kind, "owner", (json_int_t)st->owner);
	rc = tg_audit_call(c, "auth.revoke", uid, TG_AUDIT_OK, d);
out:
	PQclear(res);
	json_decref(d);
	return rc;
}

int
tg_sessions_revoke(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct revoke st = {0};
	json_error_t je;
	int rc;

	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s}", "token", &st.tok) != 0)
		return bad_body(err, &je);
	if ((rc = tg_call_tx(c, revoke_tx, &st, err)) != TG_OK)
		return rc;
	*out = json_pack("{s:b, s:s, s:I}", "revoked", 1, "kind", st.kind,
	    "user_id", (json_int_t)st.owner);
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}

struct revoke_all {
	const char *uid;
	char tva[48];			/* out: the new tokens_valid_after */
};

static int
revoke_all_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct revoke_all *st = arg;
	const char *p[1] = {st->uid};
	PGresult *res = NULL;
	int rc;

	if ((rc = tg_db_exec(c->db,
	    "WITH u AS (UPDATE users SET tokens_valid_after = " TVA_BUMP ","
	    "  updated_at = now() WHERE id = $1::bigint RETURNING id, tokens_valid_after),"
	    " r AS (UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'revoke_all'"
	    "  WHERE user_id = $1::bigint AND revoked_at IS NULL RETURNING 1)"
	    "SELECT " TG_SQL_TS("u.tokens_valid_after") ", (SELECT count(*) FROM r) FROM u",
	    1, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no such user");
		goto out;
	}
	snprintf(st->tva, sizeof(st->tva), "%s", PQgetvalue(res, 0, 0));
	rc = tg_audit_call(c, "auth.revoke_all", st->uid, TG_AUDIT_OK, NULL);
out:
	PQclear(res);
	return rc;
}

int
tg_sessions_revoke_all(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct revoke_all st;
	json_int_t target;
	json_error_t je;
	char uid[24];
	int rc;

	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	target = c->who->user_id;
	if (in != NULL && json_unpack_ex(in, &je, JSON_STRICT,
	    "{s?I}", "user_id", &target) != 0)
		return bad_body(err, &je);
	if (target < 1)
		return tg_err_field(err, "user_id", "must be a positive integer");
	if (target != c->who->user_id && !tg_call_can(c, TG_P_USERS))
		return tg_err_set(err, TG_E_FORBIDDEN,
		    "only an admin may revoke another user's tokens");
	snprintf(uid, sizeof(uid), "%lld", (long long)target);
	memset(&st, 0, sizeof(st));
	st.uid = uid;
	if ((rc = tg_call_tx(c, revoke_all_tx, &st, err)) != TG_OK)
		return rc;
	*out = json_pack("{s:I, s:s}", "user_id", target, "tokens_valid_after", st.tva);
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}

int
tg_sessions_blacklist_stats(const struct tg_call *c, json_t **out,
    struct tg_err *err)
{
	PGresult *res = NULL;
	int rc;

	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication required");
	if (!tg_call_can(c, TG_P_USERS))
		return tg_err_set(err, TG_E_FORBIDDEN,
		    "only an admin reads the revocation statistics");
	if ((rc = tg_db_exec(c->db,
	    "SELECT (SELECT count(*) FROM jwt_blacklist WHERE expires_at > now()),"
	    " (SELECT count(*) FROM jwt_blacklist WHERE expires_at <= now()),"
	    " COALESCE((SELECT jsonb_object_agg(reason, n) FROM (SELECT reason, count(*) AS n"
	    "  FROM jwt_blacklist GROUP BY reason) x), '{}')::text,"
	    " COALESCE((SELECT jsonb_object_agg(revoked_reason, n) FROM (SELECT revoked_reason,"
	    "  count(*) AS n FROM refresh_tokens WHERE revoked_at IS NOT NULL"
	    "  AND revoked_reason IS NOT NULL GROUP BY revoked_reason) y), '{}')::text",
	    0, NULL, &res)) != TG_OK)
		return tg_err_from(err, rc);
	*out = json_pack("{s:o, s:o, s:o, s:o}",
	    "active", tg_rows_json(PQgetvalue(res, 0, 0)),
	    "expired_awaiting_cleanup", tg_rows_json(PQgetvalue(res, 0, 1)),
	    "by_reason", tg_rows_json(PQgetvalue(res, 0, 2)),
	    "refresh_revocations_by_reason", tg_rows_json(PQgetvalue(res, 0, 3)));
	PQclear(res);
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}
