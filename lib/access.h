/*
 * access.h - the router's access step: authentication, role permission
 * and rate limiting for the matched route (req->route).
 *
 * Returns TG_OK when the request may proceed (req->who filled for
 * authenticated routes), or a failure recorded in resp (401 with
 * WWW-Authenticate, 403, 429 with Retry-After/RateLimit-*).
 *
 * Permissions: a route names the one permission bit it needs (route->perm);
 * the role -> permissions table lives in access.c and is documented as a
 * matrix in docs/security.md.
 */
#ifndef TG_ACCESS_H
#define TG_ACCESS_H

enum tg_perm {
	TG_P_SELF = 1u << 0,	 /* any authenticated caller: own profile, tokens, keys */
	TG_P_READ = 1u << 1,	 /* read servers, tools, versions, logs, approvals */
	TG_P_WRITE = 1u << 2,	 /* create/edit servers, tools (drafts), requests */
	TG_P_RUN = 1u << 3,	 /* test and validate code in the sandbox */
	TG_P_APPROVE = 1u << 4,	 /* approve/reject/revoke tools and requests */
	TG_P_SECRETS = 1u << 5,	 /* set and delete secret values */
	TG_P_USERS = 1u << 6,	 /* manage users, all API keys, revoke anyone */
	TG_P_AUDIT = 1u << 7,	 /* read and verify the audit trail */
	TG_P_SETTINGS = 1u << 8, /* change settings, import */
	TG_P_MCP = 1u << 9,	 /* use /mcp */
};

struct tg_req;
struct tg_resp;

int tg_access_check(struct tg_req *req, struct tg_resp *resp);

#endif
