/*
 * sessions.h - the sign-in session service: login, refresh rotation with
 * reuse detection, logout, revoking one credential or all of a user's
 * tokens, and the revocation statistics. REST: handlers/auth.c.
 *
 * Every function takes the caller's input as a JSON object (the REST body,
 * or NULL where the body is optional), validated strictly here: a shape
 * error is a 422 field error ("body", or the field named). Failures are
 * returned in err (lib/err.h); the transport adds its own headers
 * (WWW-Authenticate on 401, Retry-After on 429).
 *
 * A session is {"access_token","token_type":"Bearer","expires_in",
 * "refresh_token","refresh_expires_in","user":{id,username,role}}.
 *
 * Rules, here only:
 *   - login answers the same 401 "invalid username or password" whether or
 *     not the user exists (an unknown user costs a dummy Argon2 verify);
 *   - security: login throttling counts failed attempts per 5-minute window
 *     by the name given (existing or not): hard limits (429) only per
 *     client address and per (account, address), so an attacker elsewhere
 *     cannot lock the real user out; per account, beyond a far higher
 *     count, every attempt waits a second first (a delay, never a block);
 *   - login: the refresh token, last_login_at and the auth.login audit
 *     row are one transaction (a database failure: 503, no token);
 *   - refresh rotation: the presented refresh token is marked used and a
 *     new one of the same family issued (its parent_id the presented one);
 *     presenting a used or revoked one revokes the whole family and
 *     blacklists the access tokens issued with it (audited
 *     "reuse_detected"), except a retry: a token rotated less than the
 *     setting refresh_reuse_interval_seconds ago (TG_REFRESH_REUSE_*,
 *     lib/auth.h; 0 = off), not revoked, whose successors are all unused,
 *     gets a fresh pair and its successors are revoked ("superseded", their
 *     access tokens blacklisted): one live token per family. The token's
 *     row and its successors' are locked, so concurrent refreshes are
 *     ordered;
 *   - rejected credentials of nobody (throttled logins, unknown or
 *     malformed refresh tokens) are audited aggregated
 *     (tg_audit_reject_call); failures that name a user are audited with it;
 *   - revoking someone else's credential, or all their tokens, needs
 *     TG_P_USERS (403 otherwise).
 * Audited: auth.login, auth.refresh, auth.logout, auth.revoke,
 * auth.revoke_all.
 */
#ifndef TG_SESSIONS_H
#define TG_SESSIONS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/call.h" /* enum tg_role */
#include "lib/err.h"

struct tg_call;

/* {"username","password"} -> *out session. 401 bad credentials; 429 when
 * throttled, with *retry_after (seconds) set. c->cfg is required. */
int tg_sessions_login(const struct tg_call *c, json_t *in, json_t **out,
    int64_t *retry_after, struct tg_err *err);

/* {"refresh_token"} -> *out session (rotated). 401 with the reason. */
int tg_sessions_refresh(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);

/*
 * OAuth (lib/oauth.c): a session bound to a grant. Its access token
 * carries aud (the resource, <public URL>/mcp) and cid (the client_id);
 * its refresh tokens carry grant_id and rotate like any other, but only
 * through tg_sessions_refresh_oauth by the same client (and a console
 * refresh token never there). family_out (may be NULL, 33 bytes) receives
 * the refresh family.
 */
struct tg_oauth_bind {
	int64_t grant_id;
	const char *aud;
	const char *cid;
	char *family_out;
};
int tg_sessions_issue_oauth(const struct tg_call *c, int64_t uid,
    const char *username, enum tg_role role, int64_t tva,
    const struct tg_oauth_bind *b, json_t **out);
/* Rotation of an OAuth refresh token presented by client cid: the new
 * access token's role is the lower of the grant's and the user's. 401 with
 * the reason (reuse revokes the family, as for console sessions). */
int tg_sessions_refresh_oauth(const struct tg_call *c, const char *tok,
    const char *cid, const char *aud, json_t **out, struct tg_err *err);

/* [{"refresh_token"}]: ends the caller's token session (its access token is
 * blacklisted, its refresh family and the one given revoked). 400 for an
 * API-key caller. */
int tg_sessions_logout(const struct tg_call *c, json_t *in, struct tg_err *err);

/* {"token"}: an access token, refresh token (its family) or API key ->
 * *out {"revoked":true, "kind", "user_id"}. 404 unknown, 403 another
 * user's without TG_P_USERS. */
int tg_sessions_revoke(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);

/* [{"user_id"}] (default: the caller) -> *out {"user_id",
 * "tokens_valid_after"}: every token issued before is invalid. */
int tg_sessions_revoke_all(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);

/* TG_P_USERS: {"active", "expired_awaiting_cleanup", "by_reason",
 * "refresh_revocations_by_reason"}. */
int tg_sessions_blacklist_stats(const struct tg_call *c, json_t **out,
    struct tg_err *err);

#endif
