/*
 * routes.c - THE route table: the only list of endpoints. Two kinds of
 * rows: the endpoints below, which are not service operations (health,
 * metrics, sign-in, /mcp, test routes), as {method, pattern, flags,
 * max_body, permission, handler}; and one row per operation of
 * lib/ops.c with a REST part, made from it and served by tg_h_op
 * (handlers/ops.c). Patterns are exact segments plus :captures. See
 * fcgi/router.h for the flags.
 */
#include <stddef.h>

#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "fcgi/access.h"
#include "lib/ops.h"

#define KiB 1024

static const struct tg_route fixed[] = {
	{"GET", "/health", 0, 0, 0, tg_h_health},
	{"GET", "/api/v1/version", 0, 0, 0, tg_h_version},
	{"GET", "/metrics", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_metrics},
	{"POST", "/api/v1/_test/echo", TG_R_JSON | TG_R_TEST, 64 * KiB, 0, tg_h_test_echo},
	{"GET", "/api/v1/_test/sleep", TG_R_TEST, 0, 0, tg_h_test_sleep},
	{"GET", "/api/v1/_test/aborted-commit", TG_R_TEST, 0, 0, tg_h_test_aborted_commit},
	{"GET", "/api/v1/_test/sqlstate", TG_R_TEST, 0, 0, tg_h_test_sqlstate},
	{"POST", "/mcp", TG_R_RAW | TG_R_AUTH_OPTIONAL | TG_R_STREAM | TG_R_OAUTH, 1024 * KiB, 0, tg_h_mcp},
	{"GET", "/mcp", TG_R_AUTH_OPTIONAL | TG_R_OAUTH, 0, 0, tg_h_mcp},
	{"DELETE", "/mcp", TG_R_AUTH_OPTIONAL | TG_R_OAUTH, 0, 0, tg_h_mcp},
	/* OAuth 2.1 for MCP clients: handlers/oauth.c */
	{"GET", "/.well-known/oauth-protected-resource", 0, 0, 0, tg_h_oauth_prm},
	{"GET", "/.well-known/oauth-protected-resource/mcp", 0, 0, 0, tg_h_oauth_prm},
	{"GET", "/.well-known/oauth-authorization-server", 0, 0, 0, tg_h_oauth_asm},
	{"GET", "/.well-known/openid-configuration", 0, 0, 0, tg_h_oauth_asm},
	{"POST", "/oauth/register", TG_R_RAW, 16 * KiB, 0, tg_h_oauth_register},
	{"GET", "/oauth/authorize", 0, 0, 0, tg_h_oauth_authorize},
	{"POST", "/oauth/token", TG_R_RAW, 16 * KiB, 0, tg_h_oauth_token},
	{"POST", "/oauth/revoke", TG_R_RAW, 16 * KiB, 0, tg_h_oauth_revoke},
	/* sign-in sessions: handlers/auth.c */
	{"POST", "/api/v1/auth/login", TG_R_JSON, 8 * KiB, 0, tg_h_auth_login},
	{"POST", "/api/v1/auth/refresh", TG_R_JSON, 4 * KiB, 0, tg_h_auth_refresh},
	{"GET", "/api/v1/auth/me", TG_R_AUTH, 0, TG_P_SELF, tg_h_auth_me},
	{"POST", "/api/v1/_test/perm/write", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_WRITE, tg_h_auth_test_perm},
	{"POST", "/api/v1/_test/perm/approve", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_APPROVE, tg_h_auth_test_perm},
	{"POST", "/api/v1/_test/perm/secrets", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_SECRETS, tg_h_auth_test_perm},
	{NULL, NULL, 0, 0, 0, NULL},
};

/* The table: fixed[], then a route per operation with a REST part;
 * ops[i] is the operation of all[i] (NULL for fixed rows). */
#define N_ALL (sizeof(fixed) / sizeof(fixed[0]) + TG_OPS_MAX)
static struct tg_route all[N_ALL];
static const struct tg_op *ops[N_ALL];

/* The route of an operation: authenticated (unless public), its body
 * JSON when it takes one. */
static struct tg_route
op_route(const struct tg_op *op)
{
	struct tg_route r = {op->rest.method, op->rest.pattern, TG_R_AUTH,
		op->rest.max_body, op->perm, tg_h_op};

	if (op->rest.flags & TG_OPR_PUBLIC) {
		r.flags = 0;
		r.perm = 0;
	}

	if (op->rest.flags & TG_OPR_BODY)
		r.flags |= TG_R_JSON;
	if (op->rest.flags & TG_OPR_BODY_OPT)
		r.flags |= TG_R_JSON_OPT;
	return r;
}

const struct tg_route *
tg_route_table(void)
{
	static int built;
	size_t i, n = 0;

	if (built)
		return all;
	for (i = 0; fixed[i].method != NULL; i++)
		all[n++] = fixed[i];
	for (i = 0; i < tg_ops_n; i++) {
		if (tg_ops[i].rest.method == NULL || !tg_op_valid(&tg_ops[i]))
			continue;
		ops[n] = &tg_ops[i];
		all[n++] = op_route(&tg_ops[i]);
	}
	built = 1;
	return all;
}

const struct tg_op *
tg_route_op(const struct tg_route *r)
{
	if (r < all || r >= all + N_ALL)
		return NULL;
	return ops[r - all];
}
