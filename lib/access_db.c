/*
 * access_db.c - the statements of the router's access step (access_db.h):
 * API-key and token lookups, the rate-limit upsert; the plain counter of a
 * rate-limit bucket the services use (tg_rate_hit).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/access_db.h"
#include "lib/auth.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/status.h"

/*
 * Both statements read the limits the same way (the settings row
 * "rate_limits", else the defaults passed as parameters; malformed values
 * fall back to the defaults) and return the counted window as hits, limit,
 * window, reset (s), reset (ms): parse_rl() reads those five columns.
 */
#define APIKEY_SQL \
	"WITH k AS (SELECT k.id, k.key_hash, k.role AS krole, u.id AS uid," \
	"  u.username, u.role AS urole, u.disabled," \
	"  k.revoked_at IS NOT NULL AS revoked," \
	"  k.expires_at IS NOT NULL AND k.expires_at <= now() AS expired," \
	"  floor(extract(epoch FROM k.expires_at))::bigint AS exp_s," \
	"  k.created_at < u.tokens_valid_after AS stale," \
	"  k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds' AS touch" \
	"  FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = $1)," \
	" ok AS (SELECT k.id, CASE WHEN 'viewer' IN (k.krole, k.urole) THEN 'viewer'" \
	"  WHEN 'developer' IN (k.krole, k.urole) THEN 'developer' ELSE 'admin' END AS role" \
	"  FROM k WHERE k.key_hash = $2 AND NOT k.revoked AND NOT k.expired" \
	"  AND NOT k.stale AND NOT k.disabled" \
	"  AND k.krole IN ('admin', 'developer', 'viewer')" \
	"  AND k.urole IN ('admin', 'developer', 'viewer'))," \
	" s AS (SELECT value FROM settings WHERE key = 'rate_limits')," \
	" w AS (SELECT ok.id," \
	"  COALESCE((SELECT CASE WHEN jsonb_typeof(value->'window_seconds') = 'number'" \
	"   THEN least(greatest((value->>'window_seconds')::numeric, 1), 3600)::int END FROM s)," \
	"   $3::int) AS win," \
	"  COALESCE((SELECT CASE WHEN jsonb_typeof(value->ok.role) = 'number'" \
	"   THEN least(greatest((value->>ok.role)::numeric, 1), 1000000000)::int END FROM s)," \
	"   CASE ok.role WHEN 'admin' THEN $4::int WHEN 'developer' THEN $5::int" \
	"   ELSE $6::int END) AS lim," \
	"  extract(epoch FROM clock_timestamp())::numeric AS now_s FROM ok)," \
	" ins AS (INSERT INTO rate_limits AS r (bucket, window_start, hits)" \
	"  SELECT 'k:' || w.id, floor(now_s / win)::bigint * win, 1 FROM w" \
	"  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1" \
	"  RETURNING r.hits, r.window_start)" \
	"SELECT k.id, k.key_hash, k.krole, k.uid, k.username, k.urole, k.disabled," \
	" k.revoked, k.expired, k.stale, k.touch, ins.hits, w.lim, w.win," \
	" ceil(ins.window_start + w.win - w.now_s)::bigint," \
	" floor((ins.window_start + w.win - w.now_s) * 1000)::bigint, k.exp_s" \
	" FROM k LEFT JOIN w ON true LEFT JOIN ins ON true"

/* Columns col..col+4 of row 0: the counted window (none when NULL). */
static int
parse_rl(const PGresult *res, int col, struct tg_rl *rl)
{
	rl->have = 0;
	if (PQgetisnull(res, 0, col))
		return TG_OK;
	if (tg_parse_i64(PQgetvalue(res, 0, col), 0, INT64_MAX, &rl->hits) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, col + 1), 1, INT64_MAX, &rl->limit) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, col + 2), 1, INT64_MAX, &rl->window) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, col + 3), INT64_MIN, INT64_MAX, &rl->reset) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, col + 4), INT64_MIN, INT64_MAX, &rl->reset_ms) != TG_OK)
		return -TG_E_INTERNAL;
	rl->have = 1;
	return TG_OK;
}

static int
is_true(const PGresult *res, int col)
{
	return PQgetvalue(res, 0, col)[0] == 't';
}

static int
copy_name(char *dst, const char *src)
{
	int n = snprintf(dst, TG_ACCESS_NAME_MAX, "%s", src);

	return n < 0 || n >= TG_ACCESS_NAME_MAX ? -TG_E_INTERNAL : TG_OK;
}

int
tg_access_apikey_lookup(struct tg_db *db, const char *handle, const char *hash,
    struct tg_apikey_row *row)
{
	char win[16], la[16], ld[16], lv[16];
	const char *p[6] = {handle, hash, win, la, ld, lv};
	PGresult *res = NULL;
	int rc;

	memset(row, 0, sizeof(*row));
	snprintf(win, sizeof(win), "%d", TG_RL_WINDOW_DEFAULT);
	snprintf(la, sizeof(la), "%d", TG_RL_ADMIN_DEFAULT);
	snprintf(ld, sizeof(ld), "%d", TG_RL_DEVELOPER_DEFAULT);
	snprintf(lv, sizeof(lv), "%d", TG_RL_VIEWER_DEFAULT);
	if ((rc = tg_db_exec(db, APIKEY_SQL, 6, p, &res)) != TG_OK)
		return rc;
	if (PQntuples(res) != 1)
		goto out;
	row->found = 1;
	if (strlen(PQgetvalue(res, 0, 1)) == TG_SHA256_HEX_LEN)
		memcpy(row->hash, PQgetvalue(res, 0, 1), TG_SHA256_HEX_LEN + 1);
	row->krole = tg_role_parse(PQgetvalue(res, 0, 2));
	row->urole = tg_role_parse(PQgetvalue(res, 0, 5));
	row->disabled = is_true(res, 6);
	row->revoked = is_true(res, 7);
	row->expired = is_true(res, 8);
	row->stale = is_true(res, 9);
	row->touch = is_true(res, 10);
	row->have_exp = !PQgetisnull(res, 0, 16);
	if (tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &row->id) != TG_OK ||
	    tg_parse_i64(PQgetvalue(res, 0, 3), 1, INT64_MAX, &row->user_id) != TG_OK ||
	    (rc = copy_name(row->username, PQgetvalue(res, 0, 4))) != TG_OK ||
	    (rc = parse_rl(res, 11, &row->rl)) != TG_OK ||
	    (row->have_exp &&
		tg_parse_i64(PQgetvalue(res, 0, 16), INT64_MIN, INT64_MAX, &row->exp_s) != TG_OK))
		rc = -TG_E_INTERNAL;
out:
	PQclear(res);
	return rc;
}

int
tg_access_apikey_touch(struct tg_db *db, int64_t id)
{
	char ids[24];
	const char *p[1] = {ids};

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return tg_db_exec(db, "UPDATE api_keys SET last_used_at = now() WHERE id = $1::bigint",
	    1, p, NULL);
}

int
tg_access_jwt_lookup(struct tg_db *db, int64_t user_id, const char *jti,
    int64_t iat, struct tg_jwt_row *row)
{
	char uid[24], iats[24];
	const char *p[3] = {uid, jti, iats};
	PGresult *res = NULL;
	int rc;

	memset(row, 0, sizeof(*row));
	snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
	snprintf(iats, sizeof(iats), "%lld", (long long)iat);
	rc = tg_db_exec(db,
	    "SELECT u.username, u.role, u.disabled,"
	    " EXISTS (SELECT 1 FROM jwt_blacklist b WHERE b.jti = $2),"
	    " $3::bigint < extract(epoch FROM u.tokens_valid_after)"
	    " FROM users u WHERE u.id = $1::bigint",
	    3, p, &res);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) == 1) {
		row->found = 1;
		row->role = tg_role_parse(PQgetvalue(res, 0, 1));
		row->disabled = is_true(res, 2);
		row->revoked = is_true(res, 3) || is_true(res, 4);
		rc = copy_name(row->username, PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

static int
default_limit(enum tg_role role)
{
	if (role == TG_ROLE_ADMIN)
		return TG_RL_ADMIN_DEFAULT;
	if (role == TG_ROLE_DEVELOPER)
		return TG_RL_DEVELOPER_DEFAULT;
	return TG_RL_VIEWER_DEFAULT;
}

int
tg_access_rl_upsert(struct tg_db *db, const char *bucket, enum tg_role role,
    int64_t n, struct tg_rl *rl)
{
	char win[16], lim[16], take[24];
	const char *p[5] = {bucket, tg_role_name(role), win, lim, take};
	PGresult *res = NULL;
	int rc;

	snprintf(win, sizeof(win), "%d", TG_RL_WINDOW_DEFAULT);
	snprintf(lim, sizeof(lim), "%d", default_limit(role));
	snprintf(take, sizeof(take), "%lld", (long long)n);
	rc = tg_db_exec(db,
	    "WITH s AS (SELECT value FROM settings WHERE key = 'rate_limits'),"
	    " cfg AS (SELECT"
	    "  COALESCE((SELECT CASE WHEN jsonb_typeof(value->'window_seconds') = 'number'"
	    "   THEN least(greatest((value->>'window_seconds')::numeric, 1), 3600)::int END FROM s),"
	    "   $3::int) AS win,"
	    "  COALESCE((SELECT CASE WHEN jsonb_typeof(value->$2) = 'number'"
	    "   THEN least(greatest((value->>$2)::numeric, 1), 1000000000)::int END FROM s),"
	    "   $4::int) AS lim),"
	    " w AS (SELECT win, lim, extract(epoch FROM clock_timestamp())::numeric AS now_s FROM cfg),"
	    " ins AS (INSERT INTO rate_limits AS r (bucket, window_start, hits)"
	    "  SELECT $1, floor(now_s / win)::bigint * win, $5::int FROM w"
	    "  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + EXCLUDED.hits"
	    "  RETURNING r.hits, r.window_start)"
	    "SELECT ins.hits, w.lim, w.win, ceil(ins.window_start + w.win - w.now_s)::bigint,"
	    " floor((ins.window_start + w.win - w.now_s) * 1000)::bigint"
	    " FROM ins, w",
	    5, p, &res);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) != 1 || parse_rl(res, 0, rl) != TG_OK || !rl->have) {
		PQclear(res);
		tg_log(TG_LOG_ERR, "auth.rate_limit", "msg=\"unexpected result\"");
		return -TG_E_INTERNAL;
	}
	PQclear(res);
	return TG_OK;
}

int
tg_rate_hit(struct tg_db *db, int window_s, int64_t *hits, int64_t *retry,
    const char *fmt, ...)
{
	PGresult *res = NULL;
	char *bucket = NULL, win[16];
	const char *p[2];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&bucket, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -TG_E_NOMEM;
	snprintf(win, sizeof(win), "%d", window_s);
	p[0] = bucket;
	p[1] = win;
	rc = tg_db_exec(db,
	    "INSERT INTO rate_limits AS r (bucket, window_start, hits)"
	    " VALUES ($1, extract(epoch FROM clock_timestamp())::bigint / $2::int * $2::int, 1)"
	    " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1"
	    " RETURNING r.hits, $2::int - (extract(epoch FROM clock_timestamp())::bigint % $2::int)",
	    2, p, &res);
	free(bucket);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, hits) != TG_OK)
		rc = -TG_E_INTERNAL;
	else if (retry != NULL &&
	    tg_parse_i64(PQgetvalue(res, 0, 1), 0, INT64_MAX, retry) != TG_OK)
		rc = -TG_E_INTERNAL;
	PQclear(res);
	return rc;
}
