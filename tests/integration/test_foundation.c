/*
 * test_foundation.c - the request pipeline end to end through the private
 * nginx: health, problem documents with the request id, 404/405/413/415/
 * 400, security headers, CORS, access log lines, worker respawn under load,
 * and 503 + recovery while PostgreSQL is stopped.
 */
#include "tests/integration/it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
assert_problem(struct it_resp *r, long status)
{
	const char *ct = it_header(r, "Content-Type");

	assert_int_equal(r->status, status);
	assert_non_null(ct);
	assert_string_equal(ct, "application/problem+json");
	assert_non_null(r->json);
	assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
	assert_non_null(json_string_value(json_object_get(r->json, "title")));
	assert_non_null(json_string_value(json_object_get(r->json, "detail")));
	assert_non_null(strstr(json_string_value(json_object_get(r->json, "type")),
	    "urn:toolgate:problem:"));
}

static void
t_health_and_headers(void **state)
{
	struct it_resp r;

	(void)state;
	assert_int_equal(it_get("GET", "/health", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
	assert_string_equal(it_header(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(it_header(&r, "X-Frame-Options"), "DENY");
	assert_string_equal(it_header(&r, "Referrer-Policy"), "no-referrer");
	assert_non_null(strstr(it_header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	assert_string_equal(it_header(&r, "Cache-Control"), "no-store");
	assert_non_null(it_header(&r, "X-Request-Id"));
	it_resp_free(&r);

	assert_int_equal(it_get("GET", "/api/v1/version", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "toolgate");
	assert_non_null(json_string_value(json_object_get(r.json, "version")));
	it_resp_free(&r);

	assert_int_equal(it_get("GET", "/ready", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json,
	    "checks"), "sandbox")), "full");
	it_resp_free(&r);
}

/* Plain CGI mode (shared hosting): the same binary serves one request from
 * the environment; /ready there also probes the sandbox, and a missing
 * helper makes it 503 with the reason. Runs as nobody when we are root (the
 * helper refuses uid 0). */
static void
t_cgi_mode(void **state)
{
	char out[8192];
	const char *asuser = geteuid() == 0 ?
	    "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";

	(void)state;
	(void)it_capture(out, sizeof(out), "env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET"
	    " REQUEST_URI=/ready %sbuild/toolgate 2>/dev/null", asuser);
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	assert_non_null(strstr(out, "\"sandbox\":\"full\""));
	assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));

	(void)it_capture(out, sizeof(out), "env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET"
	    " REQUEST_URI=/ready TOOLGATE_SANDBOX_HELPER=/nonexistent/toolgate-sandbox"
	    " %sbuild/toolgate 2>/dev/null", asuser);
	assert_non_null(strstr(out, "Status: 503 "));
	assert_non_null(strstr(out, "application/problem+json"));
	assert_non_null(strstr(out, "sandbox helper"));
}

static void
t_not_found_method(void **state)
{
	struct it_resp r;
	const char *rid;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/does-not-exist", NULL, &r), 0);
	assert_problem(&r, 404);
	/* The problem carries the same request id nginx logged and sent. */
	rid = it_header(&r, "X-Request-Id");
	assert_non_null(rid);
	assert_string_equal(json_string_value(json_object_get(r.json, "request_id")), rid);
	it_resp_free(&r);

	assert_int_equal(it_get("DELETE", "/health", NULL, &r), 0);
	assert_problem(&r, 405);
	assert_non_null(it_header(&r, "Allow"));
	assert_non_null(strstr(it_header(&r, "Allow"), "GET"));
	it_resp_free(&r);
}

static void
t_body_limits(void **state)
{
	struct it_resp r;
	char *big;
	char deep[200];
	size_t n = 100 * 1024;
	int i;
	const char *hdr_json[] = {"Content-Type: application/json", NULL};
	const char *hdr_text[] = {"Content-Type: text/plain", NULL};

	(void)state;
	/* Within limits: the echo route (test stack only) round-trips JSON. */
	assert_int_equal(it_json("POST", "/api/v1/_test/echo", NULL, "{\"x\":[1,2]}", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(
	    json_object_get(r.json, "echo"), "x"), 1)), 2);
	it_resp_free(&r);

	big = malloc(n + 1);
	assert_non_null(big);
	big[0] = '[';
	for (i = 1; i < (int)n - 1; i++)
		big[i] = (i % 2) ? '1' : ',';
	big[n - 1] = ']';
	big[n] = '\0';
	assert_int_equal(it_request("POST", "/api/v1/_test/echo", hdr_json, big, n, &r), 0);
	assert_problem(&r, 413);
	it_resp_free(&r);
	free(big);

	assert_int_equal(it_request("POST", "/api/v1/_test/echo", hdr_text, "{}", 2, &r), 0);
	assert_problem(&r, 415);
	it_resp_free(&r);

	assert_int_equal(it_json("POST", "/api/v1/_test/echo", NULL, "{\"a\":", &r), 0);
	assert_problem(&r, 400);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "malformed JSON"));
	it_resp_free(&r);

	assert_int_equal(it_json("POST", "/api/v1/_test/echo", NULL, "{\"a\":1,\"a\":2}", &r), 0);
	assert_problem(&r, 400);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "duplicate"));
	it_resp_free(&r);

	for (i = 0; i < 70; i++) {
		deep[i] = '[';
		deep[70 + i] = ']';
	}
	deep[140] = '\0';
	assert_int_equal(it_json("POST", "/api/v1/_test/echo", NULL, deep, &r), 0);
	assert_problem(&r, 400);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "deeper"));
	it_resp_free(&r);

	/* A JSON route with no body at all. */
	assert_int_equal(it_json("POST", "/api/v1/_test/echo", NULL, "", &r), 0);
	assert_problem(&r, 400);
	it_resp_free(&r);

	/* A body on a route that takes none. */
	assert_int_equal(it_request("GET", "/health", hdr_json, "{}", 2, &r), 0);
	assert_problem(&r, 413);
	it_resp_free(&r);
}

static void
t_cors(void **state)
{
	struct it_resp r;
	char origin[256], pre[300];
	const char *hdrs[4];

	(void)state;
	/* The test stack allows its own base URL as an origin. */
	snprintf(origin, sizeof(origin), "Origin: %s", it_base());
	hdrs[0] = origin;
	hdrs[1] = "Access-Control-Request-Method: GET";
	hdrs[2] = NULL;
	assert_int_equal(it_request("OPTIONS", "/api/v1/version", hdrs, NULL, 0, &r), 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(it_header(&r, "Access-Control-Allow-Origin"), it_base());
	assert_non_null(strstr(it_header(&r, "Access-Control-Allow-Methods"), "GET"));
	assert_null(strstr(it_header(&r, "Access-Control-Allow-Headers"), "Cookie"));
	it_resp_free(&r);

	hdrs[0] = "Origin: https://evil.example";
	assert_int_equal(it_request("OPTIONS", "/api/v1/version", hdrs, NULL, 0, &r), 0);
	assert_int_equal(r.status, 403);
	assert_null(it_header(&r, "Access-Control-Allow-Origin"));
	it_resp_free(&r);

	hdrs[1] = NULL;
	assert_int_equal(it_request("GET", "/api/v1/version", hdrs, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(it_header(&r, "Access-Control-Allow-Origin"));
	it_resp_free(&r);

	snprintf(pre, sizeof(pre), "%s", origin);
	hdrs[0] = pre;
	assert_int_equal(it_request("GET", "/api/v1/version", hdrs, NULL, 0, &r), 0);
	assert_string_equal(it_header(&r, "Access-Control-Allow-Origin"), it_base());
	assert_non_null(it_header(&r, "Vary"));
	it_resp_free(&r);
}

static void
t_access_log(void **state)
{
	struct it_resp r;
	char rid[128], path[512];
	int found;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/version?token=should-not-be-logged", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	snprintf(rid, sizeof(rid), "%s", it_header(&r, "X-Request-Id"));
	it_resp_free(&r);
	snprintf(path, sizeof(path), "%s/log/toolgate.log", it_env("TG_VAR"));
	/* One access line with nginx's request id; the query is not logged. */
	found = it_sh("grep -q 'req=%s ev=http.access method=\"GET\" route=\"/api/v1/version\" status=200 dur_us=[0-9]* db_rt=0 ' %s",
	    rid, path);
	assert_int_equal(found, 0);
	assert_int_not_equal(it_sh("grep -q 'should-not-be-logged' %s", path), 0);
}

/* Reads the worker pids (children of the master named toolgate: not the
 * telemetry process, tg-telemetry) into pids[]. */
static int
worker_pids(pid_t *pids, int cap)
{
	char cmd[512], line[64];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "pgrep -x toolgate -P \"$(cat %s/run/toolgate.pid)\"", it_env("TG_VAR"));
	f = popen(cmd, "r");
	if (f == NULL)
		return 0;
	while (n < cap && fgets(line, sizeof(line), f))
		pids[n++] = (pid_t)atol(line);
	pclose(f);
	return n;
}

static void
t_worker_respawn_under_load(void **state)
{
	pid_t before[64], after[64], load;
	int nb, na, i, st, failures;
	struct it_resp r;

	(void)state;
	nb = worker_pids(before, 64);
	assert_true(nb >= 1);
	/* Load: a child process doing 150 requests, paced under nginx's
	 * per-IP limit_req so that only a lost request counts as a failure. */
	load = fork();
	assert_true(load >= 0);
	if (load == 0) {
		int fails = 0;
		for (i = 0; i < 150; i++) {
			if (it_get("GET", "/ready", NULL, &r) != 0 || r.status != 200)
				fails++;
			it_resp_free(&r);
			usleep(25 * 1000);
		}
		_exit(fails > 250 ? 250 : fails);
	}
	usleep(500 * 1000);
	assert_int_equal(kill(before[0], SIGKILL), 0);
	assert_int_equal(waitpid(load, &st, 0), load);
	assert_true(WIFEXITED(st));
	failures = WEXITSTATUS(st);
	/* At most the one request the killed worker had in hand. */
	assert_in_range(failures, 0, 1);
	/* The master replaced it: same count, the dead pid gone. */
	for (i = 0; i < 50; i++) {
		na = worker_pids(after, 64);
		if (na == nb)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(na, nb);
	for (i = 0; i < na; i++)
		assert_int_not_equal(after[i], before[0]);
	for (i = 0; i < 20; i++) {
		assert_int_equal(it_status("GET", "/ready", NULL, NULL), 200);
	}
}

static void
t_database_down_and_back(void **state)
{
	struct it_resp r;
	int i;

	(void)state;
	assert_int_equal(it_sh("bash %s pg-stop >/dev/null 2>&1", it_env("TG_STACK")), 0);
	/* Every worker answers 503 with Retry-After, and fast (no hang: the
	 * client timeout is 60 s, a hang fails the test). */
	for (i = 0; i < 8; i++) {
		assert_int_equal(it_get("GET", "/ready", NULL, &r), 0);
		assert_problem(&r, 503);
		assert_non_null(it_header(&r, "Retry-After"));
		it_resp_free(&r);
	}
	/* Liveness does not depend on the database. */
	assert_int_equal(it_status("GET", "/health", NULL, NULL), 200);
	assert_int_equal(it_sh("bash %s pg-start >/dev/null 2>&1", it_env("TG_STACK")), 0);
	/* Recovery without restarting toolgate (each worker reconnects). */
	assert_int_equal(it_wait_status("/ready", 200, 20000), 0);
	/* A worker retries a failed connect at most once a second (lib/db.c
	 * ensure()): one whose last attempt failed while PostgreSQL was still
	 * starting answers 503 for the rest of that second. After it, every
	 * worker serves. */
	usleep(1200 * 1000);
	for (i = 0; i < 16; i++) {
		assert_int_equal(it_status("GET", "/ready", NULL, NULL), 200);
	}
}

TG_TEST_MAIN("foundation", NULL, NULL, t_health_and_headers, t_cgi_mode,
    t_not_found_method, t_body_limits, t_cors, t_access_log,
    t_worker_respawn_under_load, t_database_down_and_back)
