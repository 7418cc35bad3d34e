/*
 * mcp_session.c - MCP sessions as rows of mcp_sessions (see
 * mcp_session.h). Every statement is one round trip: lookups refresh
 * last_seen and check expiry and ownership in the same UPDATE, so there
 * is no read-then-write race between workers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth.h"	/* tg_role_name */
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/mcp_session.h"
#include "lib/parse.h"
#include "lib/status.h"

/* Idle timeout in seconds: the setting, clamped, or the default. */
#define IDLE_SQL \
	"(SELECT COALESCE((SELECT LEAST(GREATEST((value #>> '{}')::numeric::bigint, " \
	"60), 2592000) FROM settings WHERE key = 'mcp_session_idle_seconds' " \
	"AND jsonb_typeof(value) = 'number'), 3600))"

/* Ownership: the same user (or both anonymous) and the same API key. */
#define OWNER_SQL \
	"user_id IS NOT DISTINCT FROM $2::bigint " \
	"AND api_key_id IS NOT DISTINCT FROM $3::bigint"

int
tg_mcp_session_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != TG_MCP_SESSION_ID_LEN)
		return 0;
	for (i = 0; i < TG_MCP_SESSION_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static const char *
owner_param(int64_t v, char *buf, size_t cap)
{
	int n;

	if (v <= 0)
		return NULL;
	n = snprintf(buf, cap, "%lld", (long long)v);
	if (n < 0 || (size_t)n >= cap)
		return NULL;
	return buf;
}

/* The caller's user and API key ids (0: anonymous, JWT). */
static int64_t
who_user(const struct tg_call *c)
{
	return c->who && c->who->authenticated ? c->who->user_id : 0;
}

static int64_t
who_key(const struct tg_call *c)
{
	return c->who && c->who->authenticated ? c->who->api_key_id : 0;
}

static const char *
role_name(const struct tg_call *c)
{
	const char *r = c->who ? tg_role_name(c->who->role) : NULL;

	return r ? r : "";
}

static void
copy_str(char *dst, size_t cap, const char *src)
{
	int n = snprintf(dst, cap, "%s", src ? src : "");

	if (n < 0)
		dst[0] = '\0';
}

int
tg_mcp_session_create(const struct tg_call *c, const char *version,
    const json_t *client_info, const json_t *capabilities,
    struct tg_mcp_session *out)
{
	unsigned char raw[32];
	struct tg_mcp_session s;
	char uid[24], kid[24], *ci = NULL, *caps = NULL;
	const char *cname = "", *cver = "", *params[9];
	json_t *v;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = tg_crypto_random(raw, sizeof(raw))) != TG_OK)
		goto out;
	if ((rc = tg_crypto_hex(raw, sizeof(raw), s.id, sizeof(s.id))) != TG_OK)
		goto out;
	if ((rc = tg_crypto_sha256_hex(s.id, TG_MCP_SESSION_ID_LEN, s.id_hash)) != TG_OK)
		goto out;
	copy_str(s.version, sizeof(s.version), version);
	s.user_id = who_user(c);
	s.api_key_id = who_key(c);
	if (json_is_object(client_info)) {
		if ((v = json_object_get(client_info, "name")) && json_is_string(v))
			cname = json_string_value(v);
		if ((v = json_object_get(client_info, "version")) && json_is_string(v))
			cver = json_string_value(v);
		ci = json_dumps(client_info, JSON_COMPACT);
		if (ci == NULL) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	}
	if (json_is_object(capabilities)) {
		caps = json_dumps(capabilities, JSON_COMPACT);
		if (caps == NULL) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	}
	params[0] = s.id_hash;
	params[1] = owner_param(s.user_id, uid, sizeof(uid));
	params[2] = owner_param(s.api_key_id, kid, sizeof(kid));
	params[3] = s.version;
	params[4] = cname;
	params[5] = cver;
	params[6] = ci;
	params[7] = caps;
	params[8] = role_name(c);
	rc = tg_db_exec(c->db,
	    "INSERT INTO mcp_sessions (id_hash, user_id, api_key_id, protocol_version,"
	    " client_name, client_version, client_info, capabilities, role, expires_at)"
	    " VALUES ($1, $2::bigint, $3::bigint, $4, left($5, 256), left($6, 256),"
	    " $7::jsonb, $8::jsonb, $9, now() + make_interval(secs => " IDLE_SQL "))",
	    9, params, NULL);
	if (rc != TG_OK)
		goto out;
	*out = s;
out:
	free(ci);
	free(caps);
	tg_crypto_wipe(raw, sizeof(raw));
	return rc;
}

/*
 * Sessions this worker served recently (lib/inval.h): any change to a
 * session row that matters (end, expiry, log level, initialized) sends
 * "session" and empties it (this worker's own changes included: it gets
 * its own NOTIFY with the commit); the TTL (seconds at most, the idle
 * timeout is a minute at least) bounds the rest. A hit skips the idle-expiry refresh;
 * the next read after the TTL does it (every 30 s at most anyway).
 */
#define SESSION_CACHE 32

static struct {
	struct tg_mcp_session s;	/* id_hash, owner: the key */
	struct tg_inval_stamp at;
} scache[SESSION_CACHE];
static unsigned scache_next;

static int
scache_find(const struct tg_mcp_session *key)
{
	for (int i = 0; i < SESSION_CACHE; i++)
		if (scache[i].s.id_hash[0] != '\0' &&
		    strcmp(scache[i].s.id_hash, key->id_hash) == 0 &&
		    scache[i].s.user_id == key->user_id &&
		    scache[i].s.api_key_id == key->api_key_id)
			return i;
	return -1;
}

static void
scache_put(const struct tg_mcp_session *s, const struct tg_inval_stamp *at)
{
	int i = scache_find(s);

	if (tg_inval_ttl_ms() <= 0)
		return;
	if (i < 0)
		i = (int)(scache_next++ % SESSION_CACHE);
	scache[i].s = *s;
	scache[i].s.id[0] = '\0';	/* the token itself is not kept */
	scache[i].at = *at;
}

int
tg_mcp_session_get(const struct tg_call *c, const char *id,
    struct tg_mcp_session *out)
{
	struct tg_mcp_session s;
	struct tg_inval_stamp at;
	PGresult *res = NULL;
	char uid[24], kid[24];
	const char *params[3];
	int rc, hit;

	memset(&s, 0, sizeof(s));
	if (!tg_mcp_session_id_valid(id))
		return -TG_E_NOTFOUND;
	copy_str(s.id, sizeof(s.id), id);
	if ((rc = tg_crypto_sha256_hex(id, TG_MCP_SESSION_ID_LEN, s.id_hash)) != TG_OK)
		return rc;
	s.user_id = who_user(c);
	s.api_key_id = who_key(c);
	if ((hit = scache_find(&s)) >= 0 &&
	    tg_inval_fresh(&scache[hit].at, TG_INV_SESSION)) {
		*out = scache[hit].s;
		copy_str(out->id, sizeof(out->id), id);
		out->catalog_version = 0;
		return TG_OK;
	}
	tg_inval_stamp(&at, TG_INV_SESSION);
	tg_inval_stamp(&s.catalog_at, TG_INV_CATALOG);
	params[0] = s.id_hash;
	params[1] = owner_param(s.user_id, uid, sizeof(uid));
	params[2] = owner_param(s.api_key_id, kid, sizeof(kid));
	/* One round trip: the session, its idle-expiry refresh (written at
	 * most every 30 s, so a busy session is not a write per request), and
	 * the tool catalogue version for the tools/list cache. */
	rc = tg_db_exec(c->db,
	    "WITH s AS (SELECT id_hash, protocol_version, COALESCE(log_level, '') AS ll,"
	    "  initialized, last_seen FROM mcp_sessions"
	    "  WHERE id_hash = $1 AND " OWNER_SQL " AND expires_at > now()),"
	    " t AS (UPDATE mcp_sessions m SET last_seen = now(),"
	    "  expires_at = now() + make_interval(secs => " IDLE_SQL ")"
	    "  FROM s WHERE m.id_hash = s.id_hash"
	    "  AND s.last_seen < now() - interval '30 seconds' RETURNING 1)"
	    " SELECT s.protocol_version, s.ll, s.initialized,"
	    "  (SELECT version FROM tool_catalog WHERE id = 1),"
	    "  (SELECT count(*) FROM t) FROM s",
	    3, params, &res);
	if (rc != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = -TG_E_NOTFOUND;
		goto out;
	}
	copy_str(s.version, sizeof(s.version), PQgetvalue(res, 0, 0));
	copy_str(s.log_level, sizeof(s.log_level), PQgetvalue(res, 0, 1));
	s.initialized = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	if (PQgetisnull(res, 0, 3) || tg_parse_i64(PQgetvalue(res, 0, 3), 1,
	    INT64_MAX, &s.catalog_version) != TG_OK)
		s.catalog_version = 0;
	scache_put(&s, &at);
	*out = s;
out:
	PQclear(res);
	return rc;
}

int
tg_mcp_session_mark_initialized(const struct tg_call *c,
    const struct tg_mcp_session *s)
{
	const char *params[1] = {s->id_hash};

	if (s->initialized)
		return TG_OK;
	return tg_db_exec(c->db,
	    "UPDATE mcp_sessions SET initialized = true WHERE id_hash = $1",
	    1, params, NULL);
}

int
tg_mcp_session_set_log_level(const struct tg_call *c,
    const struct tg_mcp_session *s, const char *level)
{
	const char *params[2] = {s->id_hash, level};

	return tg_db_exec(c->db,
	    "UPDATE mcp_sessions SET log_level = $2 WHERE id_hash = $1",
	    2, params, NULL);
}

int
tg_mcp_session_delete(const struct tg_call *c, const char *id)
{
	PGresult *res = NULL;
	char hash[65], uid[24], kid[24];
	const char *params[3];
	int rc;

	if (!tg_mcp_session_id_valid(id))
		return -TG_E_NOTFOUND;
	if ((rc = tg_crypto_sha256_hex(id, TG_MCP_SESSION_ID_LEN, hash)) != TG_OK)
		return rc;
	params[0] = hash;
	params[1] = owner_param(who_user(c),
	    uid, sizeof(uid));
	params[2] = owner_param(who_key(c),
	    kid, sizeof(kid));
	rc = tg_db_exec(c->db,
	    "DELETE FROM mcp_sessions WHERE id_hash = $1 AND " OWNER_SQL
	    " AND expires_at > now() RETURNING 1", 3, params, &res);
	if (rc == TG_OK && PQntuples(res) != 1)
		rc = -TG_E_NOTFOUND;
	PQclear(res);
	return rc;
}
