/*
 * test_core.c - config validation, strict parsers, query strings, the JSON
 * front door (depth, duplicates), content types, buf and arena limits, and
 * the status -> HTTP table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "tests/unit/fake_io.h"
#include "tests/unit/unit.h"

static void
t_config(void **state)
{
	char err[256];
	struct tg_config c;
	char longsock[200];
	/* Each refused environment, and a fragment of its message (NULL:
	 * any). */
	const struct {
		const char *const *env;
		const char *says;
	} refused[] = {
		{UNIT_ENV("TOOLGATE_ENCRYPTION_KEY", "abcd"), "64 hex"},
		{UNIT_ENV("TOOLGATE_ENCRYPTION_KEY",
		    "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), NULL},
		{UNIT_ENV("TOOLGATE_ENCRYPTION_KEY_OLD", "1234"), "TOOLGATE_ENCRYPTION_KEY_OLD"},
		{UNIT_ENV("TOOLGATE_JWT_SECRET", "too-short"), "at least 32 bytes"},
		{UNIT_ENV("TOOLGATE_SOCKET", "x.sock"), NULL},
		{UNIT_ENV("TOOLGATE_WORKERS", "0"), NULL},
		{UNIT_ENV("TOOLGATE_WORKERS", "4x"), NULL},
		{UNIT_ENV("TOOLGATE_MCP_AUTH", "maybe"), NULL},
		{UNIT_ENV("TOOLGATE_ALLOWED_ORIGINS", "a.example"), NULL},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "toolgate.example"), "https://"},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "http://toolgate.example"), "loopback"},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "https://toolgate.example/"), "without a path"},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "https://toolgate.example/tg"), "without a path"},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "https://Toolgate.example"), "lower case"},
		{UNIT_ENV("TOOLGATE_PUBLIC_URL", "https://"), "no host"},
	};
	const char *nokey[] = {"TOOLGATE_SOCKET", "/tmp/x.sock", NULL};
	const char *longs[] = {"TOOLGATE_SOCKET", longsock, "TOOLGATE_ENCRYPTION_KEY", UNIT_KEY64, NULL};
	size_t i;

	(void)state;
	assert_int_equal(unit_config_rc(UNIT_ENV(NULL, NULL), err), 0);
	assert_int_equal(unit_config_rc(nokey, err), -TG_E_BADREQ);
	assert_non_null(strstr(err, "TOOLGATE_ENCRYPTION_KEY is required"));
	assert_int_equal(unit_config(&c, nokey, TG_CFG_NONE, err), 0);
	tg_config_wipe(&c);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(unit_config_rc(refused[i].env, err), -TG_E_BADREQ);
		if (refused[i].says != NULL && strstr(err, refused[i].says) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err, refused[i].says);
		assert_null(strstr(err, "too-short")); /* never echo a secret */
	}
	memset(longsock, 'a', sizeof(longsock) - 1);
	longsock[0] = '/';
	longsock[sizeof(longsock) - 1] = '\0';
	assert_int_equal(unit_config_rc(longs, err), -TG_E_BADREQ);
	assert_non_null(strstr(err, "108"));

	/* Derived JWT secret: 32 bytes, flagged, deterministic. */
	assert_int_equal(unit_config(&c, UNIT_ENV(NULL, NULL), TG_CFG_SERVE, err), 0);
	assert_true(c.jwt_derived);
	assert_int_equal(c.jwt_secret_len, 32);
	assert_true(c.mcp_auth_required);
	assert_string_equal(c.public_url, "");
	tg_config_wipe(&c);
	assert_int_equal(unit_config(&c, UNIT_ENV("TOOLGATE_PUBLIC_URL", "https://tg.example:8443"),
	    TG_CFG_SERVE, err), 0);
	assert_string_equal(c.public_url, "https://tg.example:8443");
	tg_config_wipe(&c);
	assert_int_equal(unit_config(&c, UNIT_ENV("TOOLGATE_PUBLIC_URL", "http://127.0.0.1:8080"),
	    TG_CFG_SERVE, err), 0);
	tg_config_wipe(&c);
	assert_int_equal(unit_config(&c, UNIT_ENV("TOOLGATE_ALLOWED_ORIGINS",
	    "https://a.example, http://localhost:3000"), TG_CFG_SERVE, err), 0);
	assert_int_equal(c.n_origins, 2);
	assert_true(tg_config_origin_allowed(&c, "http://localhost:3000"));
	assert_false(tg_config_origin_allowed(&c, "http://localhost:3001"));
	assert_false(tg_config_origin_allowed(&c, NULL));
	tg_config_wipe(&c);
}

#define U(s) ((const unsigned char *)(s))

static void
t_parse(void **state)
{
	static const char *const set[] = {"a", "b", NULL};
	int64_t v;
	unsigned char h[2];
	char out[16];

	(void)state;
	assert_int_equal(tg_parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(tg_parse_i64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(tg_parse_i64("101", 0, 100, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64("", 0, 100, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64(" 1", 0, 100, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64("+1", 0, 100, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64("1e3", 0, 10000, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64("99999999999999999999", 0, INT64_MAX, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_i64(NULL, 0, 1, &v), -TG_E_BADREQ);
	assert_int_equal(tg_parse_hex("0aFf", h, 2), 0);
	assert_int_equal(h[0], 0x0a);
	assert_int_equal(h[1], 0xff);
	assert_int_equal(tg_parse_hex("0aF", h, 2), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("a%20b+c", 7, out, sizeof(out), 1), 5);
	assert_string_equal(out, "a b c");
	assert_int_equal(tg_parse_pct("a+b", 3, out, sizeof(out), 0), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(tg_parse_pct("%2", 2, out, sizeof(out), 0), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("%zz", 3, out, sizeof(out), 0), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("%00", 3, out, sizeof(out), 0), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("0123456789abcdefg", 17, out, sizeof(out), 0), -TG_E_TOOLARGE);
	/* tg_utf8_seq (also the sandbox helper's output scrubbing): the
	 * length of one valid sequence, 0 for anything else */
	assert_int_equal(tg_utf8_seq(U("a"), 1), 1);
	assert_int_equal(tg_utf8_seq(U("\xc3\xa9"), 2), 2);
	assert_int_equal(tg_utf8_seq(U("\xe2\x82\xac"), 3), 3);
	assert_int_equal(tg_utf8_seq(U("\xf0\x9f\x98\x80"), 4), 4);
	assert_int_equal(tg_utf8_seq(U("\xc3\xa9"), 1), 0);		/* cut */
	assert_int_equal(tg_utf8_seq(U("\xc0\xaf"), 2), 0);		/* overlong */
	assert_int_equal(tg_utf8_seq(U("\xe0\x80\xaf"), 3), 0);	/* overlong */
	assert_int_equal(tg_utf8_seq(U("\xed\xa0\x80"), 3), 0);	/* surrogate */
	assert_int_equal(tg_utf8_seq(U("\xf4\x90\x80\x80"), 4), 0);	/* > U+10FFFF */
	assert_int_equal(tg_utf8_seq(U("\xe2\x28\xa1"), 3), 0);	/* not a continuation */
	assert_int_equal(tg_utf8_seq(U("\x80"), 1), 0);		/* a lone continuation */
	assert_true(tg_str_in("b", set));
	assert_false(tg_str_in("B", set));
	assert_false(tg_str_in("", set));
	assert_false(tg_str_in("a", set + 2));
}

static void
t_query(void **state)
{
	const char *params[] = {"REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/x?limit=10&cursor=a%2Bb&flag&empty=&q=hello+world", NULL};
	const char *bad[] = {"REQUEST_METHOD", "GET", "REQUEST_URI", "/x?limit=%zz", NULL};
	struct fake f = {params, NULL, 0, {0}};
	struct tg_arena *a = tg_arena_new();
	struct tg_io io;
	struct tg_req req;
	int64_t v;

	(void)state;
	fake_io(&io, &f);
	assert_int_equal(tg_req_init(&req, a, &io, NULL), 0);
	assert_string_equal(req.path, "/x");
	assert_string_equal(tg_req_query(&req, "cursor"), "a+b");
	assert_string_equal(tg_req_query(&req, "flag"), "");
	assert_string_equal(tg_req_query(&req, "empty"), "");
	assert_string_equal(tg_req_query(&req, "q"), "hello world");
	assert_null(tg_req_query(&req, "none"));
	assert_int_equal(tg_req_query_i64(&req, "limit", 1, 100, 20, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(tg_req_query_i64(&req, "none", 1, 100, 20, &v), 0);
	assert_int_equal(v, 20);
	assert_int_equal(tg_req_query_i64(&req, "q", 1, 100, 20, &v), -TG_E_BADREQ);
	tg_arena_reset(a);
	f.params = bad;
	assert_int_equal(tg_req_init(&req, a, &io, NULL), 0);
	assert_int_equal(tg_req_parse_query(&req), -TG_E_BADREQ);
	tg_arena_free(a);
}

static void
t_json_front_door(void **state)
{
	char err[256], deep[300];
	json_t *j = NULL;
	int i;

	(void)state;
	assert_int_equal(tg_json_depth("{\"a\":[1,{\"b\":\"[[[[\"}]}", 22), 3);
	assert_int_equal(tg_json_depth("\"\\\"[\"", 5), 0);
	assert_int_equal(tg_json_parse("{\"a\":1}", 7, 64, &j, err, sizeof(err)), 0);
	json_decref(j);
	j = NULL;
	assert_int_equal(tg_json_parse("{\"a\":1,\"a\":2}", 13, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(tg_json_parse("{\"a\":", 5, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	assert_non_null(strstr(err, "malformed JSON"));
	assert_int_equal(tg_json_parse("", 0, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	assert_int_equal(tg_json_parse("42", 2, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	assert_int_equal(tg_json_parse("[\"\xff\"]", 5, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	for (i = 0; i < 65; i++)
		deep[i] = '[';
	for (i = 0; i < 65; i++)
		deep[65 + i] = ']';
	assert_int_equal(tg_json_parse(deep, 130, 64, &j, err, sizeof(err)), -TG_E_BADREQ);
	assert_non_null(strstr(err, "deeper than 64"));
	assert_int_equal(tg_json_parse(deep + 1, 128, 64, &j, err, sizeof(err)), 0);
	json_decref(j);
}

static void
t_content_type(void **state)
{
	(void)state;
	assert_true(tg_content_type_is_json("application/json"));
	assert_true(tg_content_type_is_json("Application/JSON; charset=UTF-8"));
	assert_true(tg_content_type_is_json("application/json;charset=\"utf-8\""));
	assert_false(tg_content_type_is_json("application/json; charset=latin1"));
	assert_false(tg_content_type_is_json("application/jsonx"));
	assert_false(tg_content_type_is_json("text/plain"));
	assert_false(tg_content_type_is_json(NULL));
}

static void
t_buf_arena(void **state)
{
	struct tg_buf b = {0};
	struct tg_arena *a;
	char *p, *big;
	int i;

	(void)state;
	b.max = 10;
	assert_int_equal(tg_buf_puts(&b, "hello"), 0);
	assert_int_equal(tg_buf_printf(&b, "%d", 12345), 0);
	assert_string_equal(b.p, "hello12345");
	assert_int_equal(tg_buf_puts(&b, "!"), -TG_E_TOOLARGE);
	assert_string_equal(b.p, "hello12345");
	tg_buf_wipe(&b);
	a = tg_arena_new();
	for (i = 0; i < 1000; i++) {
		p = tg_arena_printf(a, "item-%d", i);
		assert_non_null(p);
	}
	assert_string_equal(p, "item-999");
	big = tg_arena_alloc(a, 100000);
	assert_non_null(big);
	memset(big, 1, 100000);
	tg_arena_reset(a);
	p = tg_arena_strndup(a, "abcdef", 3);
	assert_string_equal(p, "abc");
	tg_arena_free(a);
	tg_arena_free(NULL);
}

static void
t_status_problem(void **state)
{
	json_t *p;

	(void)state;
	assert_int_equal(tg_status_http(-TG_E_NOTFOUND), 404);
	assert_int_equal(tg_status_http(TG_E_TOOLARGE), 413);
	assert_int_equal(tg_status_http(-TG_E_MEDIATYPE), 415);
	assert_int_equal(tg_status_http(-TG_E_RATE), 429);
	assert_int_equal(tg_status_http(-TG_E_DB), 503);
	assert_int_equal(tg_status_http(-9999), 500);
	p = tg_problem_new(404, "Not Found", "not_found", "no such tool", "/api/v1/tools/9", "rid1");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "type")), "urn:toolgate:problem:not_found");
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "no such tool");
	assert_string_equal(json_string_value(json_object_get(p, "request_id")), "rid1");
	json_decref(p);
	p = tg_problem_new(500, "x", "internal", NULL, NULL, "");
	assert_null(json_object_get(p, "detail"));
	assert_null(json_object_get(p, "request_id"));
	json_decref(p);
}

TG_TEST_MAIN_WITH(tg_log_set_level(TG_LOG_ERR), "core", NULL, NULL, t_config,
    t_parse, t_query, t_json_front_door, t_content_type, t_buf_arena,
    t_status_problem)
