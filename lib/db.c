/*
 * db.c - libpq wrapper: connection with throttled reconnects, parameterised
 * execution with SQLSTATE mapping, transactions and embedded migrations.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/obs.h"	/* observability */
#include "lib/trace.h"	/* observability */
#include "lib/status.h"

struct tg_migration {
	const char *version;
	const char *sql;
};
/* Generated from the sql directory by scripts/embed_sql.sh (build/gen/migrations.c). */
extern const struct tg_migration tg_migrations[];
extern const int tg_n_migrations;

/*
 * Prepared statements, transparently: tg_db_exec() prepares each distinct
 * SQL text once per connection (PQprepare, then PQexecPrepared), so the
 * hot paths skip parse and plan on every request. The cache is emptied on
 * every (re)connect, since prepared statements die with their session; it
 * stops growing at STMT_MAX entries (ad-hoc SQL then runs unprepared).
 */
#define STMT_MAX 256
#define STMT_SLOTS 512 /* open addressing, power of two */

struct stmt {
	char *sql;	/* owned copy; NULL = empty slot */
	uint64_t hash;
	int id;
};

struct tg_db {
	PGconn *conn;
	struct stmt stmts[STMT_SLOTS];
	int nstmts;
	int next_stmt_id;
	int ever_connected;	/* a later connect is a reconnect (metrics) */
	int listen;		/* LISTEN toolgate_inval on every connect */
	char appname[64];
	int64_t last_attempt_ms;
	int req_statements;
	/* reliability: a transaction is open on conn (as of its last
	 * statement). Its connection lost, no statement runs on a new one
	 * until the caller's COMMIT or ROLLBACK: the rest of it would run in
	 * autocommit there, and its COMMIT would report a half-kept
	 * transaction as kept. */
	int tx_open;
	char sqlstate[6];
	char constraint[64];
};

static void
chomp_log(int level, const char *ev, const char *msg)
{
	char buf[512];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	tg_log(level, ev, "msg=%s", tg_log_q(buf));
}

/*
 * Application role (docs/security.md "Database roles"). Every connection
 * except the migrator's switches to a non-superuser role right after it is
 * established, so the application can never UPDATE/DELETE audit_log even
 * when PGUSER is the owner: TOOLGATE_DB_ROLE (default toolgate_app; "none"
 * keeps the session user). The migrator (application name
 * "toolgate-migrate") keeps the owner. A role that cannot be set (migration
 * 002 not applied yet, no membership) fails the connection: fail closed.
 */
static int
set_role(struct tg_db *db)
{
	const char *role = getenv("TOOLGATE_DB_ROLE");
	char sql[160];
	char *id = NULL;
	PGresult *res = NULL;
	int n, rc = -TG_E_DB;

	if (strcmp(db->appname, "toolgate-migrate") == 0)
		return TG_OK;
	/* observability: the health sampler (lib/pghealth.c) reads only
	 * catalog views, and as the login role it sees every session's
	 * transaction age (the application role cannot) */
	if (strcmp(db->appname, "toolgate-telemetry") == 0)
		return TG_OK;
	if (role == NULL || *role == '\0')
		role = "toolgate_app";
	if (strcmp(role, "none") == 0)
		return TG_OK;
	id = PQescapeIdentifier(db->conn, role, strlen(role));
	if (id == NULL)
		goto out;
	n = snprintf(sql, sizeof(sql), "SET ROLE %s", id);
	if (n < 0 || (size_t)n >= sizeof(sql))
		goto out;
	res = PQexec(db->conn, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		chomp_log(TG_LOG_ERR, "db.set_role_failed",
		    res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		goto out;
	}
	rc = TG_OK;
out:
	PQclear(res);
	PQfreemem(id);
	return rc;
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
stmts_clear(struct tg_db *db)
{
	int i;

	for (i = 0; i < STMT_SLOTS; i++) {
		free(db->stmts[i].sql);
		db->stmts[i].sql = NULL;
	}
	db->nstmts = 0;
}

/* The slot holding sql, or the empty slot where it would go. */
static struct stmt *
stmt_slot(struct tg_db *db, const char *sql, uint64_t h)
{
	size_t i = (size_t)h & (STMT_SLOTS - 1);

	while (db->stmts[i].sql != NULL &&
	    (db->stmts[i].hash != h || strcmp(db->stmts[i].sql, sql) != 0))
		i = (i + 1) & (STMT_SLOTS - 1);
	return &db->stmts[i];
}

/*
 * Runs sql through a prepared statement when it can: returns the result
 * of PQexecPrepared, or NULL with *fallback set when the caller should use
 * PQexecParams instead (cache full, out of memory, or PQprepare failed -
 * then the unprepared run reports the error in the usual way).
 */
/* reliability: a statement or lock timeout (or a cancel, or a lost
 * connection) during PQprepare is the statement's answer: running it again
 * unprepared would wait as long again. */
static int
gave_up(const char *sqlstate)
{
	return sqlstate != NULL && (strcmp(sqlstate, "57014") == 0 ||
	    strcmp(sqlstate, "55P03") == 0 || strncmp(sqlstate, "08", 2) == 0 ||
	    strncmp(sqlstate, "57P", 3) == 0);
}

static PGresult *
exec_prepared(struct tg_db *db, const char *sql, int n, const char *const *params,
    int *fallback)
{
	struct stmt *st;
	PGresult *res;
	uint64_t h = fnv1a(sql);
	char name[24];

	*fallback = 0;
	st = stmt_slot(db, sql, h);
	if (st->sql == NULL) {
		if (db->nstmts >= STMT_MAX) {
			*fallback = 1;
			return NULL;
		}
		snprintf(name, sizeof(name), "tg%d", db->next_stmt_id);
		res = PQprepare(db->conn, name, sql, n, NULL);
		if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR &&
		    gave_up(PQresultErrorField(res, PG_DIAG_SQLSTATE)))
			return res;	/* reliability: never wait a second time */
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			PQclear(res);
			*fallback = 1;
			return NULL;
		}
		PQclear(res);
		if ((st->sql = strdup(sql)) == NULL) {
			/* Prepared but not remembered: harmless, run it anyway. */
			return PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
		}
		st->hash = h;
		st->id = db->next_stmt_id++;
		db->nstmts++;
	}
	snprintf(name, sizeof(name), "tg%d", st->id);
	return PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
}

/* 26000: no such prepared statement; 0A000: cached plan must not change
 * result type (a migration altered a table under a prepared SELECT *). */
static int
stale_statement(const char *sqlstate)
{
	return sqlstate != NULL && (strcmp(sqlstate, "26000") == 0 ||
	    strcmp(sqlstate, "0A000") == 0);
}

static int64_t timeouts_ms[3];	/* statement, lock, idle in transaction */

void
tg_db_set_timeouts(int64_t statement_ms, int64_t lock_ms, int64_t idle_tx_ms)
{
	timeouts_ms[0] = statement_ms < 0 ? 0 : statement_ms;
	timeouts_ms[1] = lock_ms < 0 ? 0 : lock_ms;
	timeouts_ms[2] = idle_tx_ms < 0 ? 0 : idle_tx_ms;
}

/* The libpq "options" value: PGOPTIONS (which the key would replace) and
 * our timeouts. Returns NULL when there is nothing to send. */
static const char *
startup_options(const struct tg_db *db, char *buf, size_t cap)
{
	const char *env = getenv("PGOPTIONS");
	int n;

	if (strcmp(db->appname, "toolgate-migrate") == 0 ||
	    (timeouts_ms[0] == 0 && timeouts_ms[1] == 0 && timeouts_ms[2] == 0))
		return NULL;
	n = snprintf(buf, cap, "%s%s-c statement_timeout=%lld -c lock_timeout=%lld"
	    " -c idle_in_transaction_session_timeout=%lld", env ? env : "",
	    env && *env ? " " : "", (long long)timeouts_ms[0],
	    (long long)timeouts_ms[1], (long long)timeouts_ms[2]);
	if (n < 0 || (size_t)n >= cap)
		return NULL;	/* an absurd PGOPTIONS: keep it as it is */
	return buf;
}

static int
connect_now(struct tg_db *db)
{
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL, NULL};
	const char *vals[] = {"", db->appname, "3", NULL, NULL};
	const char *ct = getenv("PGCONNECT_TIMEOUT");
	const char *opts;
	char optbuf[1024];
	int k;

	db->last_attempt_ms = tg_now_ms();
	stmts_clear(db);
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (ct && *ct)
		vals[2] = ct;
	vals[0] = getenv("PGDATABASE");
	if (vals[0] == NULL || *vals[0] == '\0') {
		keys[0] = "application_name";
		vals[0] = db->appname;
		keys[1] = "connect_timeout";
		vals[1] = vals[2];
		keys[2] = NULL;
	}
	if ((opts = startup_options(db, optbuf, sizeof(optbuf))) != NULL) {
		for (k = 0; keys[k] != NULL; k++)
			;
		keys[k] = "options";
		vals[k] = opts;
	}
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL)
		return -TG_E_NOMEM;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		chomp_log(TG_LOG_WARN, "db.connect_failed", PQerrorMessage(db->conn));
		return -TG_E_DB;
	}
	return set_role(db);
}

struct tg_db *
tg_db_open(const char *appname)
{
	struct tg_db *db;

	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	snprintf(db->appname, sizeof(db->appname), "%s", appname ? appname : "toolgate");
	return db; /* connects on first use */
}

void
tg_db_close(struct tg_db *db)
{
	if (db == NULL)
		return;
	stmts_clear(db);
	PQfinish(db->conn);
	free(db);
}

PGconn *
tg_db_conn(struct tg_db *db)
{
	return db->conn;
}

/* After a statement: whether it left a transaction open (unchanged when
 * the connection died with it: then it is what it was before). */
static void
track_tx(struct tg_db *db)
{
	PGTransactionStatusType ts;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return;
	ts = PQtransactionStatus(db->conn);
	db->tx_open = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

static int
ensure(struct tg_db *db)
{
	if (db == NULL)
		return -TG_E_DB;
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return TG_OK;
	if (db->tx_open)
		return -TG_E_DB; /* the transaction went with its connection */
	if (tg_now_ms() - db->last_attempt_ms < 1000)
		return -TG_E_DB;
	if (connect_now(db) != TG_OK) {
		tg_metrics_inc(tg_metrics_self(), "db_errors");
		if (db->listen)
			tg_obs_db_conn(0);
		return -TG_E_DB;
	}
	if (db->ever_connected)
		tg_metrics_inc(tg_metrics_self(), "db_reconnects");
	db->ever_connected = 1;
	tg_log(TG_LOG_INFO, "db.connected", "backend_pid=%d", PQbackendPID(db->conn));
	if (db->listen) {
		PGresult *res = PQexec(db->conn, "LISTEN " TG_INVAL_CHANNEL);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			/* Without notifications no cache may be trusted. */
			chomp_log(TG_LOG_WARN, "db.listen_failed", PQerrorMessage(db->conn));
			PQclear(res);
			PQfinish(db->conn);
			db->conn = NULL;
			return -TG_E_DB;
		}
		PQclear(res);
		tg_obs_db_conn(1);	/* observability: workers only */
		/* Whatever was cached under the previous connection may
		 * have missed its notifications. (Only listeners: other
		 * processes sharing the epochs, like the master's maintenance
		 * child, must not flush the workers' caches by connecting.) */
		tg_inval_bump(TG_INV_ALL);
	}
	/* reliability: only a failed attempt holds the next one off for a
	 * second; a connection that worked and was lost later (killed,
	 * server restarted) is replaced at the next statement, so a request
	 * right after the loss is served. */
	db->last_attempt_ms = 0;
	return TG_OK;
}

/* Applies the notifications libpq has read (lib/inval.h). */
static void
drain(struct tg_db *db)
{
	PGnotify *n;
	unsigned mask = 0;
	int count = 0;

	while ((n = PQnotifies(db->conn)) != NULL) {
		if (strcmp(n->relname, TG_INVAL_CHANNEL) == 0)
			mask |= tg_inval_payload_mask(n->extra);
		PQfreemem(n);
		count++;
	}
	tg_obs_db_notifications(count);
	if (mask)
		tg_inval_bump(mask);
}

void
tg_db_listen(struct tg_db *db)
{
	db->listen = 1;
}

void
tg_db_poll(struct tg_db *db)
{
	if (db == NULL || !db->listen)
		return;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    PQconsumeInput(db->conn) == 0) {
		/* Broken (or never opened): nothing cached can be trusted
		 * until a reconnect has LISTENed again. */
		tg_inval_bump(TG_INV_ALL);
		if (db->conn != NULL)
			tg_obs_db_conn(0);
		return;
	}
	drain(db);
}

int
tg_db_ok(struct tg_db *db)
{
	return ensure(db) == TG_OK;
}

static int
map_sqlstate(const char *s)
{
	if (strcmp(s, "23505") == 0 || strcmp(s, "23503") == 0)
		return -TG_E_CONFLICT;
	/* reliability: a serialization failure or a deadlock victim is a
	 * transient failure to retry (503 + Retry-After), not a conflict
	 * with the data: callers read CONFLICT as "exists already" or "the
	 * referenced row is gone" and would name a wrong reason. */
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return -TG_E_UNAVAIL;
	if (strncmp(s, "22", 2) == 0 || strcmp(s, "23502") == 0 ||
	    strcmp(s, "23514") == 0)
		return -TG_E_UNPROCESSABLE;
	if (strcmp(s, "57014") == 0 || strcmp(s, "55P03") == 0)
		return -TG_E_UNAVAIL;
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 ||
	    strcmp(s, "25P03") == 0)
		return -TG_E_DB;
	/* reliability: the server short of resources (53: connections,
	 * memory, disk), a system or I/O error (58), or a transaction an
	 * earlier failure aborted (25P02): a 503 to retry, never a 500. */
	if (strncmp(s, "53", 2) == 0 || strncmp(s, "58", 2) == 0 ||
	    strcmp(s, "25P02") == 0)
		return -TG_E_UNAVAIL;
	return -TG_E_INTERNAL;
}

static int
check_result(struct tg_db *db, PGresult *res)
{
	const char *s, *c;
	ExecStatusType st;

	if (res == NULL)
		return PQstatus(db->conn) == CONNECTION_OK ? -TG_E_NOMEM : -TG_E_DB;
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return TG_OK;
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", s ? s : "");
	snprintf(db->constraint, sizeof(db->constraint), "%s", c ? c : "");
	if (PQstatus(db->conn) != CONNECTION_OK)
		return -TG_E_DB;
	return s ? map_sqlstate(s) : -TG_E_INTERNAL;
}

/* Observability: a CLIENT span per statement while the request is traced
 * (lib/trace.h). The SQL text is recorded: it is parameterised, so it holds
 * no values; the parameters never are. */
static int
span_begin(const char *sql)
{
	char op[16];
	size_t n;
	int h;

	if (tg_trace_current() == 0)
		return 0;
	n = strspn(sql, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	if (n == 0 || n >= sizeof(op))
		n = 0;
	memcpy(op, sql, n);
	op[n] = '\0';
	h = tg_span_start(n ? op : "SQL", TG_SPAN_CLIENT);
	tg_span_str(h, "db.system.name", "postgresql");
	if (n)
		tg_span_str(h, "db.operation.name", op);
	tg_span_str(h, "db.query.text", sql);
	return h;
}

static void
span_finish(int h, const struct tg_db *db, int rc)
{
	if (h == 0)
		return;
	if (rc != TG_OK) {
		tg_span_str(h, "db.response.status_code", db->sqlstate);
		tg_span_error(h, tg_status_name(rc));
	}
	tg_span_end(h);
}

int
tg_db_exec(struct tg_db *db, const char *sql, int n, const char *const *params,
    PGresult **out)
{
	PGresult *res = NULL;
	int rc, first, attempt, fallback, span;
	int64_t t0 = 0;

	if (db == NULL)
		return -TG_E_DB;
	db->sqlstate[0] = db->constraint[0] = '\0';
	first = db->req_statements == 0;
	span = span_begin(sql);	/* observability */
	for (attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure(db)) != TG_OK)
			break;
		db->req_statements++;
		t0 = tg_now_us();
		res = NULL;
		fallback = 1;
		if (PQtransactionStatus(db->conn) != PQTRANS_INERROR)
			res = exec_prepared(db, sql, n, params, &fallback);
		if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR &&
		    stale_statement(PQresultErrorField(res, PG_DIAG_SQLSTATE))) {
			/* The statement vanished (DISCARD ALL, a pooler) or a
			 * migration changed a result type under it: forget them
			 * all and run this one unprepared. */
			PQclear(res);
			res = NULL;
			stmts_clear(db);
			fallback = 1;
		}
		if (fallback)
			res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
		rc = check_result(db, res);
		track_tx(db);
		if (db->listen)	/* observability: workers' statements */
			tg_obs_db_statement(tg_now_us() - t0, rc == TG_OK,
			    strcmp(db->sqlstate, "55P03") == 0);
		if (rc == TG_OK)
			break;
		if (rc == -TG_E_DB && first && attempt == 0 &&
		    PQstatus(db->conn) != CONNECTION_OK) {
			/* Dead before this request did anything: reset, retry. */
			PQclear(res);
			res = NULL;
			db->last_attempt_ms = 0;
			continue;
		}
		break;
	}
	if (rc != TG_OK) {
		if (rc == -TG_E_DB || rc == -TG_E_INTERNAL)
			tg_metrics_inc(tg_metrics_self(), "db_errors");
		if (rc == -TG_E_DB)
			chomp_log(TG_LOG_ERR, "db.unavailable",
			    db->conn ? PQerrorMessage(db->conn) : "no connection");
		else if (rc == -TG_E_INTERNAL || rc == -TG_E_NOMEM)
			tg_log(TG_LOG_ERR, "db.exec", "sqlstate=%s msg=%s", db->sqlstate,
			    tg_log_q(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no result"));
		else
			tg_log(TG_LOG_DEBUG, "db.exec", "sqlstate=%s constraint=%s",
			    db->sqlstate, db->constraint);
		span_finish(span, db, rc);
		PQclear(res);
		return rc;
	}
	span_finish(span, db, rc);
	if (db->listen)
		drain(db);
	if (out)
		*out = res;
	else
		PQclear(res);
	return TG_OK;
}

int
tg_db_script(struct tg_db *db, const char *sql)
{
	PGresult *res;
	int rc;

	if ((rc = ensure(db)) != TG_OK)
		return rc;
	res = PQexec(db->conn, sql);
	rc = check_result(db, res);
	track_tx(db);
	if (rc != TG_OK)
		tg_log(TG_LOG_ERR, "db.script", "sqlstate=%s msg=%s", db->sqlstate,
		    tg_log_q(res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn)));
	PQclear(res);
	return rc;
}

int
tg_db_begin(struct tg_db *db)
{
	return tg_db_exec(db, "BEGIN", 0, NULL, NULL);
}

/*
 * reliability: COMMIT of a transaction that a failed statement aborted
 * answers "ROLLBACK" without an error; a caller that swallowed that
 * statement's failure would report a success of which nothing was kept
 * (a code marked used, a token never stored). That is a failure here.
 */
int
tg_db_commit(struct tg_db *db)
{
	PGresult *res = NULL;
	int rc;

	if (db != NULL && db->conn != NULL &&
	    PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
		tg_log(TG_LOG_ERR, "db.commit", "msg=\"the transaction was aborted by an"
		    " earlier failure; rolled back\"");
		tg_db_rollback(db);
		return -TG_E_UNAVAIL;
	}
	if (db != NULL && db->tx_open &&
	    (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)) {
		tg_log(TG_LOG_ERR, "db.commit", "msg=\"the connection was lost in the"
		    " transaction; nothing of it was kept\"");
		db->tx_open = 0;
		return -TG_E_UNAVAIL;
	}
	rc = tg_db_exec(db, "COMMIT", 0, NULL, &res);
	if (db != NULL)
		db->tx_open = 0;
	if (rc != TG_OK)
		return rc;
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		tg_log(TG_LOG_ERR, "db.commit", "tag=%s", tg_log_q(PQcmdStatus(res)));
		rc = -TG_E_UNAVAIL;
	}
	PQclear(res);
	return rc;
}

void
tg_db_rollback(struct tg_db *db)
{
	PGresult *res;

	db->tx_open = 0;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

const char *
tg_db_sqlstate(const struct tg_db *db)
{
	return db->sqlstate;
}

const char *
tg_db_constraint(const struct tg_db *db)
{
	return db->constraint;
}

void
tg_db_request_begin(struct tg_db *db)
{
	db->req_statements = 0;
	tg_db_rollback(db); /* nothing of an earlier request stays open */
	tg_db_poll(db);
}

void
tg_db_request_end(struct tg_db *db)
{
	tg_db_rollback(db);
}

int
tg_db_round_trips(const struct tg_db *db)
{
	return db->req_statements;
}

int
tg_db_migrate(struct tg_db *db, int *applied)
{
	PGresult *res = NULL;
	const char *p[1];
	int i, rc, n = 0;

	rc = tg_db_script(db,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())");
	if (rc != TG_OK)
		return rc;
	for (i = 0; i < tg_n_migrations; i++) {
		if ((rc = tg_db_begin(db)) != TG_OK)
			return rc;
		/* One migrator at a time across hosts. */
		if ((rc = tg_db_exec(db, "SELECT pg_advisory_xact_lock(7415001)", 0,
		    NULL, NULL)) != TG_OK)
			goto fail;
		p[0] = tg_migrations[i].version;
		if ((rc = tg_db_exec(db,
		    "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p,
		    &res)) != TG_OK)
			goto fail;
		if (PQntuples(res) > 0) {
			PQclear(res);
			res = NULL;
			tg_db_rollback(db);
			continue;
		}
		PQclear(res);
		res = NULL;
		if ((rc = tg_db_script(db, tg_migrations[i].sql)) != TG_OK) {
			tg_log(TG_LOG_ERR, "db.migrate_failed", "version=%s",
			    tg_migrations[i].version);
			goto fail;
		}
		if ((rc = tg_db_exec(db,
		    "INSERT INTO schema_migrations (version) VALUES ($1)", 1, p,
		    NULL)) != TG_OK)
			goto fail;
		if ((rc = tg_db_commit(db)) != TG_OK)
			goto fail;
		tg_log(TG_LOG_INFO, "db.migrated", "version=%s", tg_migrations[i].version);
		n++;
	}
	if (applied)
		*applied = n;
	return TG_OK;
fail:
	PQclear(res);
	tg_db_rollback(db);
	return rc;
}
