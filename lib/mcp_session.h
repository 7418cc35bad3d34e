/*
 * mcp_session.h - 2025-era MCP sessions, stored in PostgreSQL.
 *
 * A session is created by `initialize` and named by an opaque token: 32
 * random bytes as 64 lowercase hex digits (256 bits), sent to the client
 * in Mcp-Session-Id. Only the token's SHA-256 is stored, so a database
 * dump does not hand out live sessions. Any worker on any host serves any
 * session: nothing about a session lives in a worker.
 *
 * A session belongs to the caller that created it (user id and API key id,
 * or the anonymous caller of TOOLGATE_MCP_AUTH=none): another caller
 * presenting the token gets "not found", exactly like an unknown or
 * expired token. Sessions expire after an idle time (setting
 * "mcp_session_idle_seconds", default TG_MCP_SESSION_IDLE_DEFAULT);
 * a lookup refreshes last_seen at most every 30 s; expired rows are
 * deleted by lib/maintenance.c.
 *
 * The 2026-07-28 (stateless) era never calls this module.
 */
#ifndef TG_MCP_SESSION_H
#define TG_MCP_SESSION_H

#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"
#include "lib/inval.h"

#define TG_MCP_SESSION_ID_LEN 64
#define TG_MCP_SESSION_IDLE_DEFAULT 3600	/* seconds */
#define TG_MCP_SESSION_IDLE_MIN 60
#define TG_MCP_SESSION_IDLE_MAX (30 * 86400)

struct tg_db;

struct tg_mcp_session {
	char id[TG_MCP_SESSION_ID_LEN + 1];	/* the token */
	char id_hash[65];			/* SHA-256 hex (logs) */
	char version[33];			/* negotiated protocol version */
	char log_level[16];			/* "" when never set */
	int64_t user_id;			/* 0: anonymous */
	int64_t api_key_id;			/* 0: JWT or anonymous */
	int initialized;			/* notifications/initialized seen */
	int64_t catalog_version;		/* tool_catalog.version read with
						 * the session (0: not read) */
	struct tg_inval_stamp catalog_at;	/* lib/inval.h stamp of that read */
};

/* 1 when s looks like a token we issue (64 lowercase hex digits). */
int tg_mcp_session_id_valid(const char *s);

/*
 * Creates a session for the caller in c->who with the negotiated
 * version and the client's clientInfo/capabilities (borrowed, may be
 * NULL). Fills *out (out->id is the token to return). 0 or -TG_E_*.
 */
int tg_mcp_session_create(const struct tg_call *c, const char *version,
    const json_t *client_info, const json_t *capabilities,
    struct tg_mcp_session *out);

/*
 * Looks up token id for the caller in c->who, refreshing last_seen.
 * 0 with *out filled; -TG_E_NOTFOUND when unknown, expired, or owned by
 * another caller; -TG_E_DB etc.
 */
int tg_mcp_session_get(const struct tg_call *c, const char *id,
    struct tg_mcp_session *out);

/* Marks the session initialized (notifications/initialized). */
int tg_mcp_session_mark_initialized(const struct tg_call *c,
    const struct tg_mcp_session *s);
/* Stores the logging/setLevel level. */
int tg_mcp_session_set_log_level(const struct tg_call *c,
    const struct tg_mcp_session *s, const char *level);

/* Ends a session (DELETE /mcp). -TG_E_NOTFOUND as for get. */
int tg_mcp_session_delete(const struct tg_call *c, const char *id);

#endif
