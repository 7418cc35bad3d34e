/*
 * stream_db.c - the database side of the stream process (stream_db.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth.h"
#include "lib/buf.h"
#include "lib/db.h"
#include "lib/mcp_tools.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/stream_db.h"

struct tg_db *
tg_stream_db_open(void)
{
	struct tg_db *db = tg_db_open("toolgate-stream");

	if (db != NULL)
		tg_db_listen(db);
	return db;
}

int
tg_stream_db_fd(struct tg_db *db)
{
	PGconn *conn;

	if (db == NULL || (conn = tg_db_conn(db)) == NULL ||
	    PQstatus(conn) != CONNECTION_OK)
		return -1;
	return PQsocket(conn);
}

int
tg_stream_db_connect(struct tg_db *db)
{
	return db != NULL && tg_db_ok(db) ? 0 : -1;
}

void
tg_stream_db_poll(struct tg_db *db)
{
	tg_db_poll(db);
}

int
tg_stream_db_digests(struct tg_db *db, const struct tg_config *cfg,
    unsigned char out[TG_STREAM_ROLES][TG_STREAM_DIGEST_LEN])
{
	int r, rc;

	for (r = TG_ROLE_NONE; r <= TG_ROLE_ADMIN; r++)
		if ((rc = tg_mcp_tools_digest(db, cfg, (enum tg_role)r, out[r])) != TG_OK)
			return rc;
	return TG_OK;
}

/* A jti as an array element: our tokens' ids are hex; anything else is
 * treated as no jti (the user's standing is still checked). */
static const char *
safe_jti(const char *s)
{
	size_t i;

	if (s == NULL)
		return "";
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
			return "";
	return s;
}

#define CREDS_SQL \
	"SELECT x.i, CASE WHEN x.kid > 0 THEN" \
	" (SELECT CASE WHEN 'viewer' IN (k.role, u.role) THEN 'viewer'" \
	"   WHEN 'developer' IN (k.role, u.role) THEN 'developer' ELSE 'admin' END" \
	"  FROM api_keys k JOIN users u ON u.id = k.user_id" \
	"  WHERE k.id = x.kid AND k.revoked_at IS NULL" \
	"  AND (k.expires_at IS NULL OR k.expires_at > now())" \
	"  AND k.created_at >= u.tokens_valid_after AND NOT u.disabled" \
	"  AND k.role IN ('admin', 'developer', 'viewer')" \
	"  AND u.role IN ('admin', 'developer', 'viewer'))" \
	" ELSE (SELECT u.role FROM users u WHERE u.id = x.uid AND NOT u.disabled" \
	"  AND (x.jti = '' OR (NOT EXISTS (SELECT 1 FROM jwt_blacklist b" \
	"   WHERE b.jti = x.jti) AND x.iat >= extract(epoch FROM u.tokens_valid_after))))" \
	" END FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])" \
	" WITH ORDINALITY AS x(uid, kid, jti, iat, i)"

int
tg_stream_db_creds_check(struct tg_db *db, struct tg_stream_cred *c, size_t n)
{
	struct tg_buf b[4];
	const char *p[4];
	PGresult *res = NULL;
	size_t i, m = 0;
	int64_t idx;
	int rc = -TG_E_NOMEM, k;
	enum tg_role r;

	memset(b, 0, sizeof(b));
	for (k = 0; k < 4; k++)
		if (tg_buf_puts(&b[k], "{") != TG_OK)
			goto out;
	for (i = 0; i < n; i++) {
		if (c[i].user_id <= 0)
			continue;
		if (tg_buf_printf(&b[0], "%s%lld", m ? "," : "", (long long)c[i].user_id) != TG_OK ||
		    tg_buf_printf(&b[1], "%s%lld", m ? "," : "", (long long)c[i].api_key_id) != TG_OK ||
		    tg_buf_printf(&b[2], "%s\"%s\"", m ? "," : "", safe_jti(c[i].jti)) != TG_OK ||
		    tg_buf_printf(&b[3], "%s%lld", m ? "," : "", (long long)c[i].iat) != TG_OK)
			goto out;
		m++;
	}
	for (k = 0; k < 4; k++) {
		if (tg_buf_puts(&b[k], "}") != TG_OK)
			goto out;
		p[k] = b[k].p;
	}
	if (m == 0) {
		rc = TG_OK;
		goto out;
	}
	if ((rc = tg_db_exec(db, CREDS_SQL, 4, p, &res)) != TG_OK)
		goto out;
	if ((size_t)PQntuples(res) != m) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	/* Row j answers the j-th credential with a user (ordinality 1..m). */
	for (i = 0, m = 0; i < n; i++) {
		if (c[i].user_id <= 0) {
			c[i].ok = 1;
			continue;
		}
		if (tg_parse_i64(PQgetvalue(res, (int)m, 0), 1, INT64_MAX, &idx) != TG_OK ||
		    (size_t)idx != m + 1) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		/* an API key's row is the role it acts with (the lower of key
		 * and user): equal. A token's row is the user's role: an OAuth
		 * token acts with the role chosen at consent, which may be
		 * lower; any change of the user's role moves tokens_valid_after
		 * and the row is NULL then. */
		r = PQgetisnull(res, (int)m, 1) ? TG_ROLE_NONE :
						  tg_role_parse(PQgetvalue(res, (int)m, 1));
		c[i].ok = c[i].role != TG_ROLE_NONE && r != TG_ROLE_NONE &&
		    (c[i].api_key_id > 0 ? r == c[i].role : r >= c[i].role);
		m++;
	}
	rc = TG_OK;
out:
	PQclear(res);
	for (k = 0; k < 4; k++)
		tg_buf_free(&b[k]);
	return rc;
}

int
tg_stream_db_sessions_check(struct tg_db *db, const char *const *hash,
    size_t n, int *ok)
{
	struct tg_buf b;
	const char *p[1];
	PGresult *res = NULL;
	size_t i;
	int64_t idx;
	int rc = -TG_E_NOMEM, r;

	memset(&b, 0, sizeof(b));
	if (n == 0)
		return TG_OK;
	if (tg_buf_puts(&b, "{") != TG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		size_t j;

		/* SHA-256 hex only: nothing to quote */
		for (j = 0; hash[i][j]; j++)
			if (!((hash[i][j] >= '0' && hash[i][j] <= '9') ||
				(hash[i][j] >= 'a' && hash[i][j] <= 'f')))
				break;
		if (tg_buf_printf(&b, "%s\"%s\"", i ? "," : "",
			hash[i][j] == '\0' ? hash[i] : "") != TG_OK)
			goto out;
	}
	if (tg_buf_puts(&b, "}") != TG_OK)
		goto out;
	p[0] = b.p;
	if ((rc = tg_db_exec(db,
		 "SELECT h.i FROM unnest($1::text[]) WITH ORDINALITY AS h(v, i)"
		 " JOIN mcp_sessions s ON s.id_hash = h.v AND s.expires_at > now()",
		 1, p, &res)) != TG_OK)
		goto out;
	for (i = 0; i < n; i++)
		ok[i] = 0;
	for (r = 0; r < PQntuples(res); r++) {
		if (tg_parse_i64(PQgetvalue(res, r, 0), 1, (int64_t)n, &idx) != TG_OK) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		ok[idx - 1] = 1;
	}
	rc = TG_OK;
out:
	PQclear(res);
	tg_buf_free(&b);
	return rc;
}
