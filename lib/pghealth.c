/*
 * pghealth.c - one health sample of PostgreSQL (see pghealth.h): two
 * statements, read-only, cheap (catalog views only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "lib/obs.h"
#include "lib/pghealth.h"
#include "lib/status.h"

static const char *const sample_sql =
    "SELECT (SELECT count(*) FROM pg_stat_activity"
    "         WHERE backend_type = 'client backend'),"
    " current_setting('max_connections')::bigint,"
    " (SELECT count(*) FROM pg_stat_activity"
    "   WHERE application_name LIKE 'toolgate%'),"
    " COALESCE((SELECT extract(epoch FROM max(clock_timestamp() - xact_start))"
    "   FROM pg_stat_activity WHERE xact_start IS NOT NULL"
    "   AND pid <> pg_backend_pid()), 0)::float8,"
    " (SELECT count(*) FROM pg_locks WHERE NOT granted),"
    " COALESCE((SELECT extract(epoch FROM max(clock_timestamp() - waitstart))"
    "   FROM pg_locks WHERE NOT granted), 0)::float8,"
    " pg_is_in_recovery(),"
    " COALESCE(CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM"
    "   clock_timestamp() - pg_last_xact_replay_timestamp()) END, 0)::float8";

static const char *const replicas_sql =
    "SELECT left(COALESCE(NULLIF(application_name, ''), client_addr::text, 'replica'), 60),"
    " COALESCE(extract(epoch FROM replay_lag), 0)::float8"
    " FROM pg_stat_replication ORDER BY 1 LIMIT 4";

static double
num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0.0 : strtod(PQgetvalue(r, row, col), NULL);
}

/* Label values: [A-Za-z0-9_.:-] only, anything else becomes '_'. */
static void
label(char *dst, size_t cap, const char *src)
{
	size_t i;

	snprintf(dst, cap, "%s", src);
	for (i = 0; dst[i]; i++)
		if (!((dst[i] >= 'a' && dst[i] <= 'z') || (dst[i] >= 'A' && dst[i] <= 'Z') ||
			(dst[i] >= '0' && dst[i] <= '9') || strchr("_.:-", dst[i]) != NULL))
			dst[i] = '_';
}

int
tg_pghealth_sample(struct tg_db *db, struct tg_obs_pg *out)
{
	PGresult *r = NULL;
	int rc, i;

	memset(out, 0, sizeof(*out));
	if ((rc = tg_db_exec(db, sample_sql, 0, NULL, &r)) != TG_OK)
		goto out;
	if (PQntuples(r) != 1) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	out->connections = (int64_t)num(r, 0, 0);
	out->max_connections = (int64_t)num(r, 0, 1);
	out->app_connections = (int64_t)num(r, 0, 2);
	out->longest_tx_s = num(r, 0, 3);
	out->lock_waiters = (int64_t)num(r, 0, 4);
	out->longest_lock_wait_s = num(r, 0, 5);
	out->in_recovery = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
	out->replay_lag_s = num(r, 0, 7);
	PQclear(r);
	r = NULL;
	if (!out->in_recovery) {
		if ((rc = tg_db_exec(db, replicas_sql, 0, NULL, &r)) != TG_OK)
			goto out;
		for (i = 0; i < PQntuples(r) && i < TG_OBS_MAX_REPLICAS; i++) {
			label(out->replica[i].name, sizeof(out->replica[i].name),
			    PQgetvalue(r, i, 0));
			out->replica[i].lag_s = num(r, i, 1);
		}
		out->nreplicas = i;
	}
	out->ok = 1;
	rc = TG_OK;
out:
	PQclear(r);
	return rc;
}
