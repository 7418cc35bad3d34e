/*
 * stream_db.h - the database side of the stream process (fcgi/stream.c):
 * its LISTEN connection, the per-role digest of what tools/list shows,
 * and the batched re-checks of the credentials and sessions its streams
 * were opened with. The stream process holds no SQL itself.
 *
 * One connection (lib/db.c, LISTEN toolgate_inval on every connect):
 * the event loop polls its socket (tg_stream_db_fd) and drains it without
 * blocking (tg_stream_db_poll, which moves the lib/inval.h epochs); the
 * statements below run on it only when a notification asked for them, so
 * they are short and rare (one per coalesced change, not per stream).
 */
#ifndef TG_STREAM_DB_H
#define TG_STREAM_DB_H

#include <stddef.h>
#include <stdint.h>

#include "lib/call.h"

struct tg_db;
struct tg_config;

#define TG_STREAM_DIGEST_LEN 32
#define TG_STREAM_ROLES (TG_ROLE_ADMIN + 1)

/* The connection (LISTENing); NULL when out of memory. */
struct tg_db *tg_stream_db_open(void);
/* Its socket while connected, else -1 (never connects: the caller paces
 * reconnects with tg_stream_db_connect). */
int tg_stream_db_fd(struct tg_db *db);
/* Connects (LISTEN, and every lib/inval.h epoch moves: whatever was
 * learnt before may have missed notifications) unless connected; 0, or
 * -1 when PostgreSQL cannot be reached (lib/db.c tries at most once a
 * second; the stream process backs off further). */
int tg_stream_db_connect(struct tg_db *db);
/* Reads whatever arrived (never blocks) and applies the notifications to
 * the lib/inval.h epochs; a broken connection moves every epoch. */
void tg_stream_db_poll(struct tg_db *db);

/* SHA-256 of the tools/list a caller of each role sees (the list of
 * lib/mcp_catalog.c, every page, serialised with sorted keys);
 * out[TG_ROLE_NONE] is the anonymous caller's. 0 or -TG_E_*. */
int tg_stream_db_digests(struct tg_db *db, const struct tg_config *cfg,
    unsigned char out[TG_STREAM_ROLES][TG_STREAM_DIGEST_LEN]);

/* A credential a stream was opened with (fcgi/access.c verified it). */
struct tg_stream_cred {
	int64_t user_id; /* 0: anonymous (never re-checked) */
	int64_t api_key_id; /* > 0: an API key */
	const char *jti; /* a JWT otherwise ("" for neither) */
	int64_t iat;
	enum tg_role role; /* the role it was admitted with */
	int ok; /* out: 1 while it would still be admitted
				 * with the same role */
};

/*
 * Re-checks n credentials in two statements (API keys, tokens), with the
 * rules of the access step (lib/access_db.c): a key not revoked, not
 * expired, not older than its owner's tokens_valid_after, owner enabled,
 * effective role the lower of the key's and the owner's; a token's user
 * enabled, its jti not blacklisted, iat not before tokens_valid_after, the
 * user's role the token's. A credential of another kind (user_id > 0,
 * neither key nor jti) is checked for its user's standing and role.
 * Sets each ok. 0 or -TG_E_* (then ok is untouched).
 */
int tg_stream_db_creds_check(struct tg_db *db, struct tg_stream_cred *c,
    size_t n);

/* Sets ok[i] = 1 when MCP session hash[i] (SHA-256 hex) still exists and
 * has not expired. 0 or -TG_E_*. */
int tg_stream_db_sessions_check(struct tg_db *db, const char *const *hash,
    size_t n, int *ok);

#endif
