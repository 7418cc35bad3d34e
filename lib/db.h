/*
 * db.h - the libpq wrapper every module uses.
 *
 * One struct tg_db per worker (connect after fork). Queries are always
 * parameterised (text parameters; NULL pointer = SQL NULL). Failures are
 * logged once here with their SQLSTATE and mapped to a tg_status:
 * connection loss -> TG_E_DB (503), 23505/23503 -> TG_E_CONFLICT,
 * 22xxx/23502/23514 -> TG_E_UNPROCESSABLE, 57014 -> TG_E_UNAVAIL,
 * anything else -> TG_E_INTERNAL. tg_db_sqlstate()/tg_db_constraint()
 * tell the caller which rule failed.
 *
 * Reconnection: a broken connection is reset before the next statement;
 * the first statement of a request is retried once after a reset if the
 * connection turned out to be dead (nothing of the request had run yet).
 * Reconnect attempts are throttled to one per second while the database
 * stays down, so requests fail fast with 503.
 */
#ifndef TG_DB_H
#define TG_DB_H

#include <stdint.h>

#include <libpq-fe.h>

struct tg_db;

/* A handle that connects on first use with libpq's PG* variables (and
 * reconnects later as needed); NULL only for OOM. */
struct tg_db *tg_db_open(const char *appname);
void tg_db_close(struct tg_db *db);
/* 1 when connected (or reconnected now). */
int tg_db_ok(struct tg_db *db);

/* Run sql with n text params. *out (may be NULL if not wanted) receives
 * the result (caller PQclear()s it) on success only. */
int tg_db_exec(struct tg_db *db, const char *sql, int n,
    const char *const *params, PGresult **out);
/* Run a multi-statement script without parameters (migrations). */
int tg_db_script(struct tg_db *db, const char *sql);

int tg_db_begin(struct tg_db *db);
int tg_db_commit(struct tg_db *db);
/* Rolls back if a transaction is open; never fails. */
void tg_db_rollback(struct tg_db *db);

/* SQLSTATE / constraint of the last failure ("" if none). */
const char *tg_db_sqlstate(const struct tg_db *db);
const char *tg_db_constraint(const struct tg_db *db);

/* Request boundaries: begin resets the retry state; end rolls back any
 * transaction a handler left open. */
void tg_db_request_begin(struct tg_db *db);
void tg_db_request_end(struct tg_db *db);

/* Number of statements sent since tg_db_request_begin (benchmarks). */
int tg_db_round_trips(const struct tg_db *db);

/* Workers: LISTEN on the invalidation channel on every (re)connect, apply
 * notifications after every statement (lib/inval.h). */
void tg_db_listen(struct tg_db *db);
/* Reads pending notifications without blocking (tg_db_request_begin does
 * it); a broken connection invalidates every cache. */
void tg_db_poll(struct tg_db *db);

PGconn *tg_db_conn(struct tg_db *db);

/* reliability: per-connection limits, sent as startup options on every
 * (re)connect of this process (0 = none): statement_timeout, lock_timeout
 * and idle_in_transaction_session_timeout, in ms. The migrator
 * ("toolgate-migrate") never gets them. A statement cut by one fails with
 * -TG_E_UNAVAIL (503 + Retry-After). */
#define TG_DB_STATEMENT_TIMEOUT_DEFAULT_MS 30000
#define TG_DB_LOCK_TIMEOUT_DEFAULT_MS 5000
#define TG_DB_IDLE_TX_TIMEOUT_DEFAULT_MS 120000
void tg_db_set_timeouts(int64_t statement_ms, int64_t lock_ms, int64_t idle_tx_ms);

/* Applies the embedded migrations in order; idempotent; serialised by an
 * advisory lock. Writes progress lines to log. Returns 0 or -TG_E_*. */
int tg_db_migrate(struct tg_db *db, int *applied);

#endif
