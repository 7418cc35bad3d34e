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

/* A route lookup: the arena of one test, the request it fills, and what
 * tg_router_find answered. */
struct lookup {
	struct tg_arena *a;
	struct tg_req req;
	const struct tg_route *r;
	char allow[128];
	int status;
};

static int
lookup_setup(void **state)
{
	static struct lookup l;

	memset(&l, 0, sizeof(l));
	l.a = tg_arena_new();
	assert_non_null(l.a);
	*state = &l;
	return 0;
}

static int
lookup_teardown(void **state)
{
	struct lookup *l = *state;

	tg_arena_free(l->a);
	cfg.test_routes = 0;
	return 0;
}

static void
find(struct lookup *l, const char *method, const char *path)
{
	memset(&l->req, 0, sizeof(l->req));
	l->req.a = l->a;
	l->req.ctx = &ctx;
	l->status = 0;
	l->r = tg_router_find(table, &l->req, method, path, &l->status, l->allow,
	    sizeof(l->allow));
}

/* find, expecting no route and status. */
static void
refused(struct lookup *l, const char *method, const char *path, int status)
{
	find(l, method, path);
	if (l->r != NULL || l->status != status)
		fail_msg("%s %s: route %s, status %d; want none, %d", method, path,
		    l->r ? l->r->pattern : "none", l->status, status);
}

static void
t_match_captures(void **state)
{
	struct lookup *l = *state;

	find(l, "GET", "/api/v1/tools/42/versions/7");
	assert_non_null(l->r);
	assert_string_equal(l->r->pattern, "/api/v1/tools/:id/versions/:n");
	assert_int_equal(l->req.nparams, 2);
	assert_string_equal(tg_req_capture(&l->req, "id"), "42");
	assert_string_equal(tg_req_capture(&l->req, "n"), "7");
	assert_null(tg_req_capture(&l->req, "nope"));

	find(l, "GET", "/api/v1/tools/a%20b");
	assert_non_null(l->r);
	assert_string_equal(tg_req_capture(&l->req, "id"), "a b");
}

static void
t_not_found_and_method(void **state)
{
	struct lookup *l = *state;

	refused(l, "GET", "/api/v1/nothing", 404);
	refused(l, "GET", "/api/v1/tools/", 404);
	refused(l, "GET", "/api/v1//tools", 404);
	refused(l, "PUT", "/api/v1/tools/9", 405);
	assert_string_equal(l->allow, "GET, DELETE, OPTIONS");
	/* A capture may not smuggle a slash or NUL. */
	refused(l, "GET", "/api/v1/tools/a%2Fb", 400);
	refused(l, "GET", "/api/v1/tools/a%00b", 400);
}

static void
t_test_routes_hidden(void **state)
{
	struct lookup *l = *state;

	cfg.test_routes = 0;
	refused(l, "GET", "/api/v1/secret-test", 404);
	cfg.test_routes = 1;
	find(l, "GET", "/api/v1/secret-test");
	assert_non_null(l->r);
}

/* Full pipeline against the real route table (health + test echo). */
static char *
serve(const char *const *params, const char *body)
{
	static char out[8192];
	struct fake_req x;

	assert_int_equal(fake_req_open(&x, params, body, &ctx), 0);
	tg_router_serve(&x.req);
	snprintf(out, sizeof(out), "%s", x.f.out.p ? x.f.out.p : "");
	fake_req_close(&x);
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
		cmocka_unit_test_setup_teardown(t_match_captures, lookup_setup, lookup_teardown),
		cmocka_unit_test_setup_teardown(t_not_found_and_method, lookup_setup, lookup_teardown),
		cmocka_unit_test_setup_teardown(t_test_routes_hidden, lookup_setup, lookup_teardown),
		cmocka_unit_test(t_pipeline),
		cmocka_unit_test(t_cors),
	};
	tg_log_set_level(TG_LOG_ERR);
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
