/*
 * health.c - liveness, readiness and version.
 *
 *   GET /health          200 {"status":"ok"}            (no database)
 *   GET /ready           (lib/ops.c) 200 {"status":"ready","checks":{"database":"ok",
 *                        "sandbox":"full"|"degraded"}} or 503 problem: the
 *                        database is unreachable, or tools cannot run (the
 *                        helper is missing, or only degraded isolation is
 *                        available and TOOLGATE_SANDBOX_ALLOW_DEGRADED is off).
 *                        The sandbox probe runs the helper (--probe), at most
 *                        every 10 s per worker (lib/health.c).
 *   GET /api/v1/version  200 {"name":"toolgate","version":"..."}
 *   POST /api/v1/_test/echo  (TOOLGATE_TEST_ROUTES=1 only) echoes the parsed
 *                        JSON body back: lets the tests reach the body
 *                        pipeline (413/415/400) without auth.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/health.h"
#include "lib/status.h"
#include "lib/svc.h"

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

/* reliability: GET /api/v1/_test/aborted-commit[?how=lost]
 * (TOOLGATE_TEST_ROUTES=1 only): the answer of a COMMIT after a swallowed
 * failure, or after the connection was lost mid-transaction (a 503:
 * nothing was kept), never a 200. */
int
tg_h_test_aborted_commit(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	const char *how = tg_req_query(req, "how");
	int rc;

	if ((rc = tg_health_aborted_commit(&c, how != NULL &&
	    strcmp(how, "lost") == 0)) != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, json_pack("{s:b}", "committed", 1));
}

/* reliability: GET /api/v1/_test/sqlstate?code=40001|40P01
 * (TOOLGATE_TEST_ROUTES=1 only): the answer to a statement that failed
 * with a serialization failure or as a deadlock victim (503 + Retry-After:
 * retry), never a 409 or a 500. */
int
tg_h_test_sqlstate(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	const char *code = tg_req_query(req, "code");
	int rc = tg_health_raise(&c, code);

	if (rc == -TG_E_BADREQ)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "code must be 40001 or 40P01");
	if (rc != TG_OK)
		return rc;
	return tg_resp_json(resp, 200, json_pack("{s:b}", "raised", 0));
}
