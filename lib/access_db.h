/*
 * access_db.h - the database side of the router's access step
 * (fcgi/access.c): the credential lookups and the rate-limit upsert. The
 * transport decides (which rule refuses, the caches, the leases, the
 * response); these functions run the statements and parse their rows.
 */
#ifndef TG_ACCESS_DB_H
#define TG_ACCESS_DB_H

#include <stdint.h>

#include "lib/call.h" /* enum tg_role */
#include "lib/crypto.h" /* TG_SHA256_HEX_LEN */

struct tg_db;

/* Rate-limit defaults (requests per minute per user or API key, by role;
 * the same defaults lib/settings.c shows). The settings row "rate_limits"
 * overrides them: {"admin": 600, "developer": 300, "viewer": 120}, plus an
 * optional "window_seconds" (1..3600, default 60). */
#define TG_RL_WINDOW_DEFAULT 60
#define TG_RL_WINDOW_MAX 3600
#define TG_RL_ADMIN_DEFAULT 600
#define TG_RL_DEVELOPER_DEFAULT 300
#define TG_RL_VIEWER_DEFAULT 120

/* A rate-limit window count, as the upsert returned it. */
struct tg_rl {
	int have;
	int64_t hits, limit, window, reset;
	int64_t reset_ms; /* until the window ends, from the database */
};

/* The longest username a credential row carries (lib/users.c allows 64). */
#define TG_ACCESS_NAME_MAX 128

/* An API key looked up by its handle (prefix). */
struct tg_apikey_row {
	int found; /* a key with this handle exists */
	char hash[TG_SHA256_HEX_LEN + 1]; /* stored hash ("" if malformed) */
	enum tg_role krole, urole; /* TG_ROLE_NONE when not a role */
	int disabled, revoked, expired, stale;
	int touch; /* last_used_at is over 60 s old */
	int64_t id, user_id;
	int have_exp;
	int64_t exp_s; /* expires_at, epoch seconds, when have_exp */
	char username[TG_ACCESS_NAME_MAX];
	struct tg_rl rl; /* counted in the same statement when valid */
};

/*
 * One round trip for the API-key path (the MCP hot path): the key of
 * handle and its owner, and - only when the key is valid by every rule
 * (hash included) - the rate-limit upsert of its bucket "k:<id>", with the
 * limits tg_access_rl_upsert() uses; row->rl.have says it counted. The
 * caller still checks every rule itself (constant-time hash compare
 * included) and uses the count only when it agrees. 0 or -TG_E_*.
 */
int tg_access_apikey_lookup(struct tg_db *db, const char *handle,
    const char *hash, struct tg_apikey_row *row);

/* Marks API key id used now (best effort, the caller ignores failures). */
int tg_access_apikey_touch(struct tg_db *db, int64_t id);

/* The user of a signed token and the token's standing. */
struct tg_jwt_row {
	int found; /* the user exists */
	char username[TG_ACCESS_NAME_MAX];
	enum tg_role role;
	int disabled;
	int revoked; /* jti blacklisted, or iat before tokens_valid_after */
};

int tg_access_jwt_lookup(struct tg_db *db, int64_t user_id, const char *jti,
    int64_t iat, struct tg_jwt_row *row);

/* Adds n to bucket's current window under the limits of role and reads
 * them: rl->hits is the window's total after the addition. One statement;
 * malformed settings fall back to the defaults above. */
int tg_access_rl_upsert(struct tg_db *db, const char *bucket,
    enum tg_role role, int64_t n, struct tg_rl *rl);

/* One hit on bucket's current window of window_s seconds in rate_limits
 * (shared by every worker and host; no limit read): *hits is the window's
 * count with it. 0 or -TG_E_*. */
int tg_access_count_hit(struct tg_db *db, const char *bucket, int window_s,
    int64_t *hits);

#endif
