/*
 * test_router.c - route matching, captures, 404/405 with Allow, and the
 * whole pipeline (size, content type, JSON, problem rendering) through an
 * in-memory transport.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fcgi/router.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/status.h"
#include "tests/unit/fake_io.h"

static int
h_ok(struct tg_req *req, struct tg_resp *resp)
{
	(void)req;
	(void)resp;
	return 0;
}

static const struct tg_route table[] = {
	{"GET", "/api/v1/tools", 0, 0, 0, h_ok},
	{"POST", "/api/v1/tools", TG_R_JSON, 1024, 0, h_ok},
	{"GET", "/api/v1/tools/:id", 0, 0, 0, h_ok},
	{"DELETE", "/api/v1/tools/:id", 0, 0, 0, h_ok},
	{"GET", "/api/v1/tools/:id/versions/:n", 0, 0, 0, h_ok},
	{"GET", "/api/v1/secret-test", TG_R_TEST, 0, 0, h_ok},
	{NULL, NULL, 0, 0, 0, NULL},
};

static struct tg_config cfg;
static struct tg_ctx ctx = {&cfg, NULL, NULL};

static void
find(const char *method, const char *path, const struct tg_route **r,
    int *status, char *allow, struct tg_req *req, struct tg_arena *a)
{
	memset(req, 0, sizeof(*req));
	req->a = a;
	req->ctx = &ctx;
	*status = 0;
	*r = tg_router_find(table, req, method, path, status, allow, 128);
}

static void
t_match_captures(void **state)
{
	struct tg_arena *a = tg_arena_new();
	struct tg_req req;
	const struct tg_route *r;
	char allow[128];
	int st;

	(void)state;
	find("GET", "/api/v1/tools/42/versions/7", &r, &st, allow, &req, a);
	assert_non_null(r);
	assert_string_equal(r->pattern, "/api/v1/tools/:id/versions/:n");
	assert_int_equal(req.nparams, 2);
	assert_string_equal(tg_req_capture(&req, "id"), "42");
	assert_string_equal(tg_req_capture(&req, "n"), "7");
	assert_null(tg_req_capture(&req, "nope"));

	find("GET", "/api/v1/tools/a%20b", &r, &st, allow, &req, a);
	assert_non_null(r);
	assert_string_equal(tg_req_capture(&req, "id"), "a b");
	tg_arena_free(a);
}

static void
t_not_found_and_method(void **state)
{
	struct tg_arena *a = tg_arena_new();
	struct tg_req req;
	const struct tg_route *r;
	char allow[128];
	int st;

	(void)state;
	find("GET", "/api/v1/nothing", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 404);
	find("GET", "/api/v1/tools/", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 404);
	find("GET", "/api/v1//tools", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 404);
	find("PUT", "/api/v1/tools/9", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 405);
	assert_string_equal(allow, "GET, DELETE, OPTIONS");
	/* A capture may not smuggle a slash or NUL. */
	find("GET", "/api/v1/tools/a%2Fb", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 400);
	find("GET", "/api/v1/tools/a%00b", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 400);
	tg_arena_free(a);
}

static void
t_test_routes_hidden(void **state)
{
	struct tg_arena *a = tg_arena_new();
	struct tg_req req;
	const struct tg_route *r;
	char allow[128];
	int st;

	(void)state;
	cfg.test_routes = 0;
	find("GET", "/api/v1/secret-test", &r, &st, allow, &req, a);
	assert_null(r);
	assert_int_equal(st, 404);
	cfg.test_routes = 1;
	find("GET", "/api/v1/secret-test", &r, &st, allow, &req, a);
	assert_non_null(r);
	cfg.test_routes = 0;
	tg_arena_free(a);
}

/* Full pipeline against the real route table (health + test echo). */
static char *
serve(const char *const *params, const char *body)
{
	static char out[8192];
	struct fake f = {params, body, 0, {0}};
	struct tg_arena *a = tg_arena_new();
	struct tg_io io;
	struct tg_req req;

	fake_io(&io, &f);
	memset(&req, 0, sizeof(req));
	req.a = a;
	req.io = &io;
	req.ctx = &ctx;
	tg_router_serve(&req);
	snprintf(out, sizeof(out), "%s", f.out.p ? f.out.p : "");
	tg_buf_free(&f.out);
	tg_arena_free(a);
	return out;
}

static void
t_pipeline(void **state)
{
	const char *get_health[] = {"REQUEST_METHOD", "GET", "REQUEST_URI", "/health", NULL};
	const char *big[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "999999999", NULL};
	const char *text[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "text/plain", "CONTENT_LENGTH", "2", NULL};
	const char *dup[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "application/json; charset=utf-8", "CONTENT_LENGTH", "13",
	    "REQUEST_ID", "abc123", NULL};
	const char *ok[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "7", NULL};
	const char *shortb[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "50", NULL};
	const char *badlen[] = {"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/v1/_test/echo",
	    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "12abc", NULL};
	const char *out;

	(void)state;
	cfg.test_routes = 1;
	cfg.max_body = 1024 * 1024;
	out = serve(get_health, NULL);
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(out, "X-Frame-Options: DENY\r\n"));
	assert_non_null(strstr(out, "Cache-Control: no-store\r\n"));
	assert_non_null(strstr(out, "{\"status\":\"ok\"}"));

	out = serve(big, NULL);
	assert_non_null(strstr(out, "Status: 413 "));
	assert_non_null(strstr(out, "application/problem+json"));

	out = serve(text, "{}");
	assert_non_null(strstr(out, "Status: 415 "));

	out = serve(dup, "{\"a\":1,\"a\":2}");
	assert_non_null(strstr(out, "Status: 400 "));
	assert_non_null(strstr(out, "duplicate object key"));
	assert_non_null(strstr(out, "\"request_id\":\"abc123\""));

	out = serve(ok, "{\"a\":1}");
	assert_non_null(strstr(out, "Status: 200 OK"));
	assert_non_null(strstr(out, "{\"echo\":{\"a\":1}}"));

	out = serve(shortb, "{\"a\":1}");
	assert_non_null(strstr(out, "Status: 400 "));
	assert_non_null(strstr(out, "shorter than its Content-Length"));

	out = serve(badlen, "{}");
	assert_non_null(strstr(out, "Status: 400 "));
	cfg.test_routes = 0;
}

static void
t_cors(void **state)
{
	const char *pre_ok[] = {"REQUEST_METHOD", "OPTIONS", "REQUEST_URI", "/health",
	    "HTTP_ORIGIN", "https://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD", "GET", NULL};
	const char *pre_bad[] = {"REQUEST_METHOD", "OPTIONS", "REQUEST_URI", "/health",
	    "HTTP_ORIGIN", "https://evil.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD", "GET", NULL};
	const char *get_ok[] = {"REQUEST_METHOD", "GET", "REQUEST_URI", "/health",
	    "HTTP_ORIGIN", "https://app.example", NULL};
	const char *get_bad[] = {"REQUEST_METHOD", "GET", "REQUEST_URI", "/health",
	    "HTTP_ORIGIN", "https://evil.example", NULL};
	const char *out;

	(void)state;
	cfg.origins[0] = "https://app.example";
	cfg.n_origins = 1;
	out = serve(pre_ok, NULL);
	assert_non_null(strstr(out, "Status: 204 "));
	assert_non_null(strstr(out, "Access-Control-Allow-Origin: https://app.example\r\n"));
	assert_non_null(strstr(out, "Access-Control-Allow-Methods: GET, OPTIONS\r\n"));
	out = serve(pre_bad, NULL);
	assert_non_null(strstr(out, "Status: 403 "));
	assert_null(strstr(out, "Access-Control-Allow-Origin"));
	out = serve(get_ok, NULL);
	assert_non_null(strstr(out, "Access-Control-Allow-Origin: https://app.example\r\n"));
	out = serve(get_bad, NULL);
	assert_non_null(strstr(out, "Status: 200 "));
	assert_null(strstr(out, "Access-Control-Allow-Origin"));
	cfg.n_origins = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_match_captures),
		cmocka_unit_test(t_not_found_and_method),
		cmocka_unit_test(t_test_routes_hidden),
		cmocka_unit_test(t_pipeline),
		cmocka_unit_test(t_cors),
	};
	tg_log_set_level(TG_LOG_ERR);
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
