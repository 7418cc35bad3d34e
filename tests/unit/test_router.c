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

#include "tests/unit/unit.h"
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

/* One request through serve: its CGI parameters (name, value, ...,
 * NULL), body, and what the output must and must not hold. */
struct served {
	const char *params[11];
	const char *body;
	const char *has[6];
	const char *lacks;
};

static void
expect_served(const struct served *cases, size_t n)
{
	const char *out;
	size_t i, k;

	for (i = 0; i < n; i++) {
		out = serve(cases[i].params, cases[i].body);
		for (k = 0; k < 6 && cases[i].has[k]; k++)
			if (strstr(out, cases[i].has[k]) == NULL)
				fail_msg("case %zu: no '%s' in %s", i, cases[i].has[k], out);
		if (cases[i].lacks && strstr(out, cases[i].lacks))
			fail_msg("case %zu: '%s' in %s", i, cases[i].lacks, out);
	}
}

#define ECHO_POST(type, len) "REQUEST_METHOD", "POST", "REQUEST_URI", \
	"/api/v1/_test/echo", "CONTENT_TYPE", type, "CONTENT_LENGTH", len

static void
t_pipeline(void **state)
{
	static const struct served cases[] = {
		{{"REQUEST_METHOD", "GET", "REQUEST_URI", "/health", NULL}, NULL,
		    {"Status: 200 OK\r\n", "X-Content-Type-Options: nosniff\r\n",
		    "X-Frame-Options: DENY\r\n", "Cache-Control: no-store\r\n",
		    "{\"status\":\"ok\"}"}, NULL},
		{{ECHO_POST("application/json", "999999999"), NULL}, NULL,
		    {"Status: 413 ", "application/problem+json"}, NULL},
		{{ECHO_POST("text/plain", "2"), NULL}, "{}", {"Status: 415 "}, NULL},
		{{ECHO_POST("application/json; charset=utf-8", "13"), "REQUEST_ID", "abc123", NULL},
		    "{\"a\":1,\"a\":2}", {"Status: 400 ", "duplicate object key",
		    "\"request_id\":\"abc123\""}, NULL},
		{{ECHO_POST("application/json", "7"), NULL}, "{\"a\":1}",
		    {"Status: 200 OK", "{\"echo\":{\"a\":1}}"}, NULL},
		{{ECHO_POST("application/json", "50"), NULL}, "{\"a\":1}",
		    {"Status: 400 ", "shorter than its Content-Length"}, NULL},
		{{ECHO_POST("application/json", "12abc"), NULL}, "{}", {"Status: 400 "}, NULL},
	};

	(void)state;
	cfg.test_routes = 1;
	cfg.max_body = 1024 * 1024;
	expect_served(cases, sizeof(cases) / sizeof(cases[0]));
	cfg.test_routes = 0;
}

#define HEALTH(method, origin) "REQUEST_METHOD", method, "REQUEST_URI", "/health", \
	"HTTP_ORIGIN", origin

static void
t_cors(void **state)
{
	static const struct served cases[] = {
		{{HEALTH("OPTIONS", "https://app.example"), "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
		    "GET", NULL}, NULL, {"Status: 204 ",
		    "Access-Control-Allow-Origin: https://app.example\r\n",
		    "Access-Control-Allow-Methods: GET, OPTIONS\r\n"}, NULL},
		{{HEALTH("OPTIONS", "https://evil.example"), "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
		    "GET", NULL}, NULL, {"Status: 403 "}, "Access-Control-Allow-Origin"},
		{{HEALTH("GET", "https://app.example"), NULL}, NULL,
		    {"Access-Control-Allow-Origin: https://app.example\r\n"}, NULL},
		{{HEALTH("GET", "https://evil.example"), NULL}, NULL, {"Status: 200 "},
		    "Access-Control-Allow-Origin"},
	};

	(void)state;
	cfg.origins[0] = "https://app.example";
	cfg.n_origins = 1;
	expect_served(cases, sizeof(cases) / sizeof(cases[0]));
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
