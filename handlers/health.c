/*
 * health.c - liveness, readiness and version.
 *
 *   GET /health          200 {"status":"ok"}            (no database)
 *   GET /ready           200 {"status":"ready","checks":{...}} or 503 problem
 *   GET /api/v1/version  200 {"name":"toolgate","version":"..."}
 *   POST /api/v1/_test/echo  (TOOLGATE_TEST_ROUTES=1 only) echoes the parsed
 *                        JSON body back: lets the tests reach the body
 *                        pipeline (413/415/400) without auth.
 */
#include <libpq-fe.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "lib/db.h"
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

int
tg_h_ready(struct tg_req *req, struct tg_resp *resp)
{
	int rc;

	rc = tg_db_exec(req->ctx->db, "SELECT 1", 0, NULL, NULL);
	if (rc != TG_OK)
		return tg_resp_fail(req, resp, TG_E_DB,
		    "the database is not reachable");
	return tg_resp_json(resp, 200, json_pack("{s:s, s:{s:s}}", "status",
	    "ready", "checks", "database", "ok"));
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
