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
#ifndef TG_FCGI_ACCESS_H
#define TG_FCGI_ACCESS_H

#include <stdint.h>

#include "lib/call.h"	/* enum tg_perm, tg_call_can() */
#include "lib/perms.h"


#include "lib/access_db.h"	/* the rate-limit defaults TG_RL_* */

struct tg_req;
struct tg_resp;
struct tg_db;

/*
 * The router's access step for req->route:
 *   no TG_R_AUTH -> TG_OK, req->who untouched (unauthenticated);
 *   otherwise Authorization: Bearer <JWT | API key> is verified (lib/auth.h
 *   routine + blacklist, disabled user, tokens_valid_after, role), req->who
 *   is filled, the request is counted against the caller's rate limit (one
 *   SQL statement), and route->perm is checked against the role.
 * Failures: 401 problem + WWW-Authenticate (audited as auth.reject), 403,
 * 429 with Retry-After and RateLimit-*, 503 when the database is down.
 * Never a fallback to a weaker identity.
 */
int tg_access_check(struct tg_req *req, struct tg_resp *resp);

/*
 * security: charges n more requests to the authenticated caller's rate
 * limit (a JSON-RPC batch of n + 1 messages costs n + 1). TG_OK, or the
 * 429 recorded in resp (the RateLimit-* headers are updated either way).
 * An anonymous caller admitted with tg_access_anonymous is charged per
 * address; any other unauthenticated caller: TG_OK.
 */
int tg_access_charge(struct tg_req *req, struct tg_resp *resp, int64_t n);

/*
 * security: counts an anonymous caller that a route admits without
 * credentials (/mcp with TOOLGATE_MCP_AUTH=none) per client address under
 * the viewer limit. TG_OK (authenticated callers, or no database handle:
 * nothing to do), the 429 recorded in resp, or a database failure (503).
 */
int tg_access_anonymous(struct tg_req *req, struct tg_resp *resp);

/* 1 when the authenticated caller of req holds perm (handlers use this for
 * finer checks, e.g. "own or TG_P_USERS"). */
int tg_access_can(const struct tg_req *req, unsigned perm);

/* The WWW-Authenticate header of a 401 on req's route (presented: a
 * credential was given and refused, error="invalid_token"); on a
 * TG_R_OAUTH route it names the protected-resource metadata. */
int tg_oauth_www_authenticate(struct tg_req *req, struct tg_resp *resp,
    int presented);

/* Expired blacklist rows, refresh tokens and rate windows are deleted by
 * lib/maintenance.c (`toolgate maintenance`, and the master's timer). */

#endif
