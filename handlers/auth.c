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
 * paced, never locked, see LOGIN_*), 403 revoking someone else's token.
 * Refresh rotation: the presented refresh token is marked used and a new
 * one of the same family issued; presenting a used or revoked one revokes
 * the whole family and blacklists the access tokens issued with it, but
 * for a retry within the reuse interval while the successor is unused
 * (a fresh pair; the successor is revoked). 503 on a database failure:
 * nothing issued, nothing half written.
 * The rules live in the session service (lib/sessions.c); this file maps
 * HTTP to it for sign-in (login, refresh: WWW-Authenticate, Retry-After)
 * and the caller's identity (me). logout, revoke, revoke-all and the
 * blacklist statistics are rows of the operation table (lib/ops.c).
 */
#include <stdio.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "fcgi/access.h"
#include "lib/auth.h"
#include "lib/clock.h"
#include "lib/sessions.h"
#include "lib/status.h"
#include "lib/svc.h"

/*
 * The reply of a session service: 401s carry WWW-Authenticate, a throttled
 * login (429) Retry-After.
 */
static int
reply(struct tg_req *req, struct tg_resp *resp, int rc, struct tg_err *err,
    json_t *out, int http_status, int64_t retry_after)
{
	char ra[24];

	if (rc != TG_OK && err->status == TG_E_UNAUTH)
		(void)tg_resp_header(req, resp, "WWW-Authenticate", "Bearer realm=\"toolgate\"");
	if (rc != TG_OK && err->status == TG_E_RATE) {
		snprintf(ra, sizeof(ra), "%lld", (long long)retry_after);
		(void)tg_resp_header(req, resp, "Retry-After", ra);
	}
	return tg_svc_reply(req, resp, rc, err, out, http_status);
}

int
tg_h_auth_login(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t retry = 0;
	int rc;

	tg_err_init(&err);
	rc = tg_sessions_login(&c, req->json, &out, &retry, &err);
	return reply(req, resp, rc, &err, out, 200, retry);
}

int
tg_h_auth_refresh(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_sessions_refresh(&c, req->json, &out, &err);
	return reply(req, resp, rc, &err, out, 200, 0);
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
	if (req->who.api_key_id > 0) {
		json_object_set_new(root, "api_key_id", json_integer(req->who.api_key_id));
	} else {
		/* RFC 3339 like every timestamp of the API (was epoch seconds) */
		char exp[TG_TS_LEN + 1];

		if (tg_ts_rfc3339_epoch(req->who.token_exp, exp, sizeof(exp)) != TG_OK) {
			json_decref(root);
			return -TG_E_INTERNAL;
		}
		json_object_set_new(root, "token_expires_at", json_string(exp));
	}
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
