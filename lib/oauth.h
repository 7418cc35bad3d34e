/*
 * oauth.h - the OAuth 2.1 authorization server for remote MCP clients
 * (issue #21; docs/security.md "OAuth for MCP clients", docs/api.md
 * "OAuth"), following the MCP authorization specification of 2025-11-25:
 *
 *   discovery      RFC 9728 protected-resource metadata, RFC 8414
 *                  authorization-server metadata (tg_oauth_prm/_asm)
 *   registration   RFC 7591, public clients only (PKCE, auth method
 *                  "none"); rate limited per address; unused clients expire
 *   authorization  code + PKCE S256 only, exact redirect URIs (a loopback
 *                  URI's port aside, RFC 8252), RFC 8707 resource = this
 *                  server's /mcp; the person signs in and decides on the
 *                  consent page (web/ui/consent.html), which reads and
 *                  answers the pending request over /api/v1 with a console
 *                  session (no cookie: nothing to forge across sites)
 *   tokens         code exchange (single use, 60 s, bound to client,
 *                  redirect URI, verifier and resource) and refresh with
 *                  the console's rotation and reuse detection
 *                  (lib/sessions.h tg_sessions_*_oauth); access tokens carry
 *                  aud = <public URL>/mcp, which only /mcp accepts
 *   revocation     RFC 7009; withdrawing consent or deleting a client
 *                  revokes its refresh tokens and blacklists its live
 *                  access tokens
 *
 * Everything is off (404) without TOOLGATE_PUBLIC_URL: the issuer and the
 * resource are never derived from a request's Host header.
 */
#ifndef TG_OAUTH_H
#define TG_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"

struct tg_call;
struct tg_config;

#define TG_OAUTH_CODE_TTL 60 /* seconds */
#define TG_OAUTH_REQUEST_TTL 600 /* a pending authorization request */
#define TG_OAUTH_REG_WINDOW 3600 /* registrations per address and hour */
#define TG_OAUTH_REG_PER_WINDOW 20
#define TG_OAUTH_CLIENTS_MAX 5000 /* registrations at once */
#define TG_OAUTH_AUTHZ_WINDOW 600 /* authorization requests per client, */
#define TG_OAUTH_AUTHZ_PER_WINDOW 60 /* address and 10 minutes */
#define TG_OAUTH_PENDING_MAX 100000 /* undecided requests at once */
#define TG_OAUTH_REDIRECTS_MAX 10 /* redirect URIs of one client */
#define TG_OAUTH_URI_MAX 512
#define TG_OAUTH_STATE_MAX 1024
#define TG_OAUTH_HANDLE_LEN 43 /* base64url of 32 random bytes */

/* An OAuth error response (RFC 6749 section 5.2, RFC 7591 section 3.2.2):
 * {"error", "error_description"} with the HTTP status. */
struct tg_oerr {
	int http;
	const char *error;
	char desc[256];
};

/* A request parameter (query or form), decoded; a name may repeat (which
 * OAuth refuses: invalid_request). */
struct tg_oauth_kv {
	const char *k, *v;
};

/* <public URL>/mcp, the resource; <public URL>/.well-known/oauth-
 * protected-resource/mcp, its metadata. -TG_E_NOTFOUND when OAuth is off. */
int tg_oauth_resource(const struct tg_config *cfg, char *buf, size_t cap);
int tg_oauth_prm_url(const struct tg_config *cfg, char *buf, size_t cap);

/* The metadata documents (new references); NULL when OAuth is off. */
json_t *tg_oauth_prm(const struct tg_config *cfg);
json_t *tg_oauth_asm(const struct tg_config *cfg);

/* RFC 7591: in is the registration request (NULL: not a JSON object). 201
 * with *out, or -TG_E_BADREQ/-TG_E_RATE with oe filled, or another
 * negative status (database). */
int tg_oauth_register(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_oerr *oe);

/*
 * GET /oauth/authorize. On success *location (malloc'd) is where to send
 * the browser: the consent page with the pending request's handle, or the
 * client's redirect URI with an error (once client and redirect URI are
 * known to be registered). -TG_E_BADREQ with oe filled when the client or
 * the redirect URI is not registered: the error is shown, never
 * redirected; -TG_E_RATE (oe filled, 429) past the limits of pending
 * requests (TG_OAUTH_AUTHZ_PER_WINDOW, TG_OAUTH_PENDING_MAX).
 */
int tg_oauth_authorize(const struct tg_call *c, const struct tg_oauth_kv *kv,
    int n, char **location, struct tg_oerr *oe);

/* The consent page's view of a pending request (handle from the page's
 * URL), for the signed-in caller: client, redirect host, roles. 404 when
 * unknown, expired or already decided. */
int tg_oauth_request_get(const struct tg_call *c, const char *handle,
    json_t **out, struct tg_err *err);

/* The person's decision: {"decision": "allow"|"deny", "role"?} -> *out
 * {"redirect_to"}: the client's redirect URI with a code (or
 * error=access_denied), state and iss. */
int tg_oauth_decide(const struct tg_call *c, const char *handle, json_t *in,
    json_t **out, struct tg_err *err);

/* POST /oauth/token: authorization_code or refresh_token grants. *out is
 * the token response; failures fill oe (400 invalid_grant, ...). */
int tg_oauth_token(const struct tg_call *c, const struct tg_oauth_kv *kv,
    int n, json_t **out, struct tg_oerr *oe);

/* POST /oauth/revoke (RFC 7009): token [+ token_type_hint] + client_id.
 * An unknown token is a success too. */
int tg_oauth_revoke(const struct tg_call *c, const struct tg_oauth_kv *kv,
    int n, struct tg_oerr *oe);

/* Operations (lib/ops.c): registered clients (admin), and the caller's
 * connected apps (grants): list and withdraw (an admin: anyone's). */
int tg_oauth_clients_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err);
int tg_oauth_clients_delete(const struct tg_call *c, int64_t id,
    struct tg_err *err);
int tg_oauth_grants_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err);
int tg_oauth_grants_delete(const struct tg_call *c, int64_t id,
    struct tg_err *err);

/* Shared by lib/oauth.c and lib/oauth_token.c. */
const char *tg_oauth_kv_get(const struct tg_oauth_kv *kv, int n,
    const char *name, int *dup);
void tg_oauth_oerr(struct tg_oerr *oe, int http, const char *error,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Revokes the refresh tokens selected by where ("grant_id = $1::bigint",
 * ...) with reason, and blacklists the access tokens issued with them. */
int tg_oauth_cut(const struct tg_call *c, const char *where, const char *arg,
    const char *reason);

#endif
