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

struct tg_config;
struct tg_db;
struct tg_metrics;

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
};

struct tg_call {
	struct tg_db *db;
	const struct tg_config *cfg;	/* may be NULL (CLI) */
	struct tg_metrics *metrics;	/* may be NULL */
	const struct tg_principal *who;	/* NULL or unauthenticated: nobody */
	const char *actor;		/* audit actor override ("cli"), or NULL */
	const char *request_id;		/* "" when none */
	const char *client_addr;	/* "local" for the CLI */
};

#endif
