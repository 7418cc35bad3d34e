/*
 * health.c - liveness, readiness and version.
 *
 *   GET /health          200 {"status":"ok"}            (no database)
 *   GET /ready           200 {"status":"ready","checks":{"database":"ok",
 *                        "sandbox":"full"|"degraded"}} or 503 problem: the
 *                        database is unreachable, or tools cannot run (the
 *                        helper is missing, or only degraded isolation is
 *                        available and TOOLGATE_SANDBOX_ALLOW_DEGRADED is off).
 *                        The sandbox probe runs the helper (--probe), at most
 *                        every 10 s per worker.
 *   GET /api/v1/version  200 {"name":"toolgate","version":"..."}
 *   POST /api/v1/_test/echo  (TOOLGATE_TEST_ROUTES=1 only) echoes the parsed
 *                        JSON body back: lets the tests reach the body
 *                        pipeline (413/415/400) without auth.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "fcgi/config.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "lib/db.h"
#include "lib/sandbox_client.h"
#include "lib/status.h"

#ifndef TG_VERSION
#define TG_VERSION "0.0.0-dev"
#endif

int
tg_h_health(struct tg_req *req, struct tg_resp *resp)
{
	(void)req;
	resp->no_store = 1;
	return tg_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

/* The last probe of this worker: the helper is spawned at most every 10 s. */
static struct {
	int64_t at_us;
	int rc;
	enum tg_sandbox_isolation level;
	char reason[160];
} probe;

static void
sandbox_probe(const struct tg_config *cfg)
{
	struct tg_sandbox_opts o;
	json_t *details = NULL;
	int64_t now = tg_now_us();

	if (probe.at_us != 0 && now - probe.at_us < 10 * 1000000)
		return;
	memset(&o, 0, sizeof(o));
	o.helper_path = cfg->sandbox_helper;
	o.python_path = cfg->sandbox_python;
	o.allow_degraded = cfg->sandbox_allow_degraded;
	o.diag = probe.reason;
	o.diag_len = sizeof(probe.reason);
	probe.reason[0] = '\0';
	probe.rc = tg_sandbox_probe(&o, &probe.level, &details);
	if (probe.rc == TG_OK && probe.reason[0] == '\0') {
		const char *r = json_string_value(json_object_get(details, "reason"));
		snprintf(probe.reason, sizeof(probe.reason), "%s", r ? r : "");
	}
	json_decref(details);
	probe.at_us = now;
}

int
tg_h_ready(struct tg_req *req, struct tg_resp *resp)
{
	const struct tg_config *cfg = req->ctx->cfg;
	int rc;

	rc = tg_db_exec(req->ctx->db, "SELECT 1", 0, NULL, NULL);
	if (rc != TG_OK)
		return tg_resp_fail(req, resp, TG_E_DB,
		    "the database is not reachable");
	sandbox_probe(cfg);
	if (probe.rc != TG_OK)
		return tg_resp_fail(req, resp, TG_E_UNAVAIL,
		    "the sandbox helper %s cannot run%s%s", cfg->sandbox_helper,
		    probe.reason[0] ? ": " : "", probe.reason);
	if (probe.level == TG_SANDBOX_UNAVAILABLE ||
	    (probe.level == TG_SANDBOX_DEGRADED && !cfg->sandbox_allow_degraded))
		return tg_resp_fail(req, resp, TG_E_UNAVAIL,
		    "tools cannot run: sandbox isolation is %s%s%s (see docs/sandbox.md;"
		    " TOOLGATE_SANDBOX_ALLOW_DEGRADED=1 accepts degraded isolation)",
		    tg_sandbox_isolation_name(probe.level),
		    probe.reason[0] ? ": " : "", probe.reason);
	return tg_resp_json(resp, 200, json_pack("{s:s, s:{s:s, s:s}}", "status",
	    "ready", "checks", "database", "ok", "sandbox",
	    tg_sandbox_isolation_name(probe.level)));
}

int
tg_h_version(struct tg_req *req, struct tg_resp *resp)
{
	(void)req;
	return tg_resp_json(resp, 200, json_pack("{s:s, s:s, s:s}", "name",
	    "toolgate", "version", TG_VERSION, "api", "v1"));
}

int
tg_h_test_echo(struct tg_req *req, struct tg_resp *resp)
{
	return tg_resp_json(resp, 200, json_pack("{s:O}", "echo", req->json));
}

/* reliability: GET /api/v1/_test/sleep?ms=N (TOOLGATE_TEST_ROUTES=1 only)
 * holds its worker N ms (0..10000): the drain-on-stop test needs requests
 * queued behind a busy worker. */
int
tg_h_test_sleep(struct tg_req *req, struct tg_resp *resp)
{
	struct timespec ts;
	int64_t ms;
	int rc;

	if ((rc = tg_req_query_i64(req, "ms", 0, 10000, 100, &ms)) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "ms must be 0..10000");
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0)
		;
	return tg_resp_json(resp, 200, json_pack("{s:I}", "slept_ms", (json_int_t)ms));
}
