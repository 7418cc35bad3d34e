/*
 * restore.c - the database side of `toolgate restore` (restore.h).
 */
#include <stdio.h>
#include <string.h>

#include "lib/call.h"
#include "lib/db.h"
#include "lib/parse.h"
#include "lib/restore.h"
#include "lib/status.h"

#define SQL_NTABLES "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"

static int
scalar(struct tg_db *db, const char *sql, int64_t *out)
{
	PGresult *res = NULL;
	int rc;

	if ((rc = tg_db_exec(db, sql, 0, NULL, &res)) != TG_OK)
		return rc;
	if (PQntuples(res) != 1)
		rc = -TG_E_INTERNAL;
	else
		rc = tg_parse_i64(PQgetvalue(res, 0, 0), INT64_MIN, INT64_MAX, out);
	PQclear(res);
	return rc;
}

int
tg_restore_prepare(const struct tg_call *c, const char *role,
    struct tg_err *err)
{
	char role_sql[512];
	int64_t ntables = -1;
	int rc, n;

	if ((rc = scalar(c->db, SQL_NTABLES, &ntables)) != TG_OK)
		return tg_err_from(err, rc);
	if (ntables != 0)
		return tg_err_set(err, TG_E_CONFLICT,
		    "the target database is not empty (%lld tables); restore only into an empty database",
		    (long long)ntables);
	/* The role name is spliced into DDL: only [a-z0-9_], bounded. */
	if (role == NULL || *role == '\0' ||
	    strspn(role, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(role))
		return tg_err_set(err, TG_E_UNPROCESSABLE, "TOOLGATE_DB_ROLE must be [a-z0-9_]");
	n = snprintf(role_sql, sizeof(role_sql),
	    "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN "
	    "CREATE ROLE %s NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT; "
	    "EXECUTE format('GRANT %s TO %%I', current_user); END IF; END$$",
	    role, role, role);
	if (n < 0 || (size_t)n >= sizeof(role_sql))
		return tg_err_set(err, TG_E_UNPROCESSABLE, "TOOLGATE_DB_ROLE must be [a-z0-9_]");
	return tg_err_from(err, tg_db_script(c->db, role_sql));
}

int
tg_restore_verify(const struct tg_call *c, int64_t *ntables,
    int64_t *nmigrations, struct tg_err *err)
{
	if (scalar(c->db, "SELECT count(*) FROM schema_migrations", nmigrations) != TG_OK ||
	    scalar(c->db, SQL_NTABLES, ntables) != TG_OK)
		return tg_err_set(err, TG_E_UNPROCESSABLE,
		    "restored database does not look like a toolgate database");
	return TG_OK;
}
