/*
 * call.h - the service context: who asks, through which database
 * connection, for which request. Defined here, below every transport, so
 * that services in lib/ can be called alike from REST (fcgi/, handlers/),
 * the MCP management tools and the CLI without knowing about HTTP.
 *
 * A transport builds one per request (handlers: tg_req_call(), the CLI:
 * tg_cli_call()); every pointer is borrowed for the duration of the call.
 */
#ifndef TG_CALL_H
#define TG_CALL_H

#include <stdint.h>

#include <jansson.h>

struct tg_config;
struct tg_db;
struct tg_metrics;

/* Permission bits: the one authorization vocabulary. A route names the bit
 * it needs, a service checks tg_call_can(); the role -> bits table is in
 * lib/perms.c (docs/security.md has it as a matrix). */
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

enum tg_role { TG_ROLE_NONE = 0, TG_ROLE_VIEWER, TG_ROLE_DEVELOPER, TG_ROLE_ADMIN };

/* Who is calling, filled by authentication. */
struct tg_principal {
	int authenticated;
	int64_t user_id;
	const char *username;
	enum tg_role role;
	int64_t api_key_id;	/* 0 when a JWT was used */
	const char *jti;	/* JWT id, NULL for API keys */
	int64_t token_exp;
	int anonymous;		/* not authenticated, admitted and counted per address */
};

struct tg_call {
	struct tg_db *db;
	const struct tg_config *cfg;	/* may be NULL (CLI) */
	struct tg_metrics *metrics;	/* may be NULL */
	const struct tg_principal *who;	/* NULL or unauthenticated: nobody */
	const char *actor;		/* audit actor override ("cli"), or NULL */
	const char *request_id;		/* "" when none */
	const char *client_addr;	/* "local" for the CLI */
	const char *method;		/* the transport's operation (HTTP method */
	const char *path;		/* and path) for audit detail, or NULL */
};

/* 1 when the caller of c is authenticated and its role holds every bit of
 * perm (lib/perms.c). */
int tg_call_can(const struct tg_call *c, unsigned perm);

#endif
