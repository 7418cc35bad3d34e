/*
 * maintenance.c - deletes what has expired: JWT blacklist rows past the
 * token's own expiry, refresh tokens past theirs, idle MCP sessions,
 * rate-limit windows that can no longer count, and execution logs older
 * than the retention setting (in batches). Run by the master every minute
 * in a short-lived child process, and by `toolgate maintenance` (cron).
 *
 * One step per table; a step whose table does not exist (a database not
 * yet migrated that far) is skipped rather than failing the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/maintenance.h"
#include "lib/parse.h"
#include "lib/status.h"

#define MAINT_LOCK_KEY "7415002"
#define BATCH 5000

struct step {
	const char *name;
	const char *table;
	const char *column;	/* the step needs table.column to exist */
	/* A DELETE of at most BATCH rows; repeated while it deletes BATCH. */
	const char *sql;
};

static const struct step steps[] = {
	{"jwt_blacklist", "jwt_blacklist", "expires_at",
	    "DELETE FROM jwt_blacklist WHERE ctid IN (SELECT ctid FROM jwt_blacklist"
	    " WHERE expires_at < now() LIMIT 5000)"},
	{"refresh_tokens", "refresh_tokens", "expires_at",
	    "DELETE FROM refresh_tokens WHERE ctid IN (SELECT ctid FROM refresh_tokens"
	    " WHERE expires_at < now() LIMIT 5000)"},
	{"mcp_sessions", "mcp_sessions", "expires_at",
	    "DELETE FROM mcp_sessions WHERE ctid IN (SELECT ctid FROM mcp_sessions"
	    " WHERE expires_at < now() LIMIT 5000)"},
	/* OAuth (lib/oauth.h): answered or expired authorization requests and
	 * codes, and clients never used for a day or unused for 90 days. */
	{"oauth_requests", "oauth_requests", "expires_at",
	    "DELETE FROM oauth_requests WHERE ctid IN (SELECT ctid FROM oauth_requests"
	    " WHERE expires_at < now() - interval '1 hour' LIMIT 5000)"},
	{"oauth_codes", "oauth_codes", "expires_at",
	    "DELETE FROM oauth_codes WHERE ctid IN (SELECT ctid FROM oauth_codes"
	    " WHERE expires_at < now() - interval '1 day' LIMIT 5000)"},
	{"oauth_clients", "oauth_clients", "last_used_at",
	    "DELETE FROM oauth_clients WHERE ctid IN (SELECT oc.ctid FROM oauth_clients oc"
	    " WHERE (oc.last_used_at IS NULL AND oc.created_at < now() - interval '1 day'"
	    " AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oc.id))"
	    " OR COALESCE(oc.last_used_at, oc.created_at) < now() - interval '90 days' LIMIT 5000)"},
	/* Windows are at most an hour long: anything older counts for nothing. */
	{"rate_limits", "rate_limits", "window_start",
	    "DELETE FROM rate_limits WHERE ctid IN (SELECT ctid FROM rate_limits"
	    " WHERE window_start < extract(epoch FROM now())::bigint - 7200 LIMIT 5000)"},
	/* reliability: a call left "running" by a worker that died (its
	 * database session is gone) is "lost"; the final UPDATE of a live worker
	 * still wins (lib/mcp_tools.c). Anything running for over an hour (ten
	 * times the longest tool timeout) is lost whatever its session. */
	{"execution_logs_lost", "execution_logs", "backend_pid",
	    "UPDATE execution_logs SET status = 'lost', finished_at = now(),"
	    " error = 'the worker running this call stopped before the call ended"
	    " (killed or crashed); its outcome is unknown'"
	    " WHERE ctid IN (SELECT l.ctid FROM execution_logs l WHERE l.status = 'running'"
	    " AND (l.created_at < now() - interval '1 hour' OR NOT EXISTS (SELECT 1"
	    " FROM pg_stat_activity a WHERE a.pid = l.backend_pid AND (a.backend_start"
	    " IS NULL OR l.backend_start IS NULL OR a.backend_start = l.backend_start)))"
	    " LIMIT 5000)"},
	/* Retention in days from settings (log_retention_days, default 30). */
	{"execution_logs", "execution_logs", "created_at",
	    "DELETE FROM execution_logs WHERE ctid IN (SELECT ctid FROM execution_logs"
	    " WHERE created_at < now() - make_interval(days => COALESCE((SELECT"
	    " (value #>> '{}')::int FROM settings WHERE key = 'log_retention_days'), 30))"
	    " LIMIT 5000)"},
};

static int
table_exists(struct tg_db *db, const char *table, const char *column, int *exists)
{
	PGresult *res = NULL;
	const char *p[2] = {table, column};
	int rc;

	rc = tg_db_exec(db, "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
	    " WHERE table_schema = current_schema() AND table_name = $1"
	    " AND column_name = $2)", 2, p, &res);
	if (rc != TG_OK)
		return rc;
	*exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return TG_OK;
}

int
tg_maintenance_run(struct tg_db *db, struct tg_maint_report *report)
{
	PGresult *res = NULL;
	size_t i;
	int rc, exists, locked = 0;
	int64_t n, total;

	memset(report, 0, sizeof(*report));
	rc = tg_db_exec(db, "SELECT pg_try_advisory_lock(" MAINT_LOCK_KEY ")", 0,
	    NULL, &res);
	if (rc != TG_OK)
		goto out;
	locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	res = NULL;
	if (!locked) {
		report->skipped = 1;
		tg_log(TG_LOG_INFO, "maintenance.skipped",
		    "msg=\"another process holds the maintenance lock\"");
		goto out;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((rc = table_exists(db, steps[i].table, steps[i].column, &exists)) != TG_OK)
			goto out;
		if (!exists)
			continue;
		total = 0;
		do {
			if ((rc = tg_db_exec(db, steps[i].sql, 0, NULL, &res)) != TG_OK)
				goto out;
			if (tg_parse_i64(PQcmdTuples(res), 0, INT64_MAX, &n) != TG_OK)
				n = 0;
			PQclear(res);
			res = NULL;
			total += n;
		} while (n >= BATCH);
		report->steps[report->nsteps].name = steps[i].name;
		report->steps[report->nsteps].deleted = total;
		report->nsteps++;
		if (total > 0)
			tg_log(TG_LOG_INFO, "maintenance.deleted", "table=%s rows=%lld",
			    steps[i].name, (long long)total);
	}
	rc = TG_OK;
out:
	PQclear(res);
	if (locked) {
		(void)tg_db_exec(db, "SELECT pg_advisory_unlock(" MAINT_LOCK_KEY ")", 0,
		    NULL, NULL);
	}
	return rc;
}
