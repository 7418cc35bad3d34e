/*
 * health.h - readiness (GET /ready, handlers/health.c): may this worker take
 * traffic? The database must answer and tools must be able to run: the
 * sandbox helper is probed (--probe) at most every 10 s per process, and
 * only full isolation counts unless TOOLGATE_SANDBOX_ALLOW_DEGRADED is on.
 */
#ifndef TG_HEALTH_H
#define TG_HEALTH_H

#include <jansson.h>

#include "lib/err.h"

struct tg_call;

/* *out = {"status":"ready","checks":{"database":"ok","sandbox":"full"|
 * "degraded"}}; failures: TG_E_DB (the database is not reachable) or
 * TG_E_UNAVAIL (the sandbox cannot run tools), with the reason in err.
 * c->cfg is required. */
int tg_health_ready(const struct tg_call *c, json_t **out, struct tg_err *err);

/* reliability, TOOLGATE_TEST_ROUTES only: a transaction whose failed
 * statement is swallowed, then COMMIT; returns the commit's status (a
 * failure: nothing was kept), never TG_OK. lost: the failure is the loss
 * of the connection (the server ends the session idle in the
 * transaction), and statements follow it before the COMMIT (they must not
 * run on a new connection). */
int tg_health_aborted_commit(const struct tg_call *c, int lost);

/* reliability, TOOLGATE_TEST_ROUTES only: a statement failing with
 * sqlstate (40001 or 40P01; else -TG_E_BADREQ); returns its status. */
int tg_health_raise(const struct tg_call *c, const char *sqlstate);

#endif
