/*
 * test_mcp_rpc.c - the /mcp transport with an in-memory backend (no
 * database): JSON-RPC classification and error codes with their HTTP
 * statuses, initialize/negotiation, sessions, batches per version, Origin
 * and Accept checks; plus redaction, truncation and the schema subset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unit.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/status.h"
#include "tests/unit/fake_io.h"

#include "tests/unit/fake_mcp.h"

static int
f_list(const struct tg_mcp_call *c, const char *cursor, json_t **result,
    uint64_t *stamp, struct tg_rpc_err *err)
{
	static json_t *shared;

	(void)c; (void)err;
	/* Like the real backend: one shared, stamped result for the first
	 * page (the transport serialises it once per era and must not modify
	 * it); a fresh, unstamped one for any cursor. */
	if (cursor != NULL) {
		*stamp = 0;
		*result = json_pack("{s:[{s:s}]}", "tools", "name", "t2");
		return 0;
	}
	if (shared == NULL)
		shared = json_pack("{s:[{s:s}]}", "tools", "name", "t1");
	*stamp = 1;
	*result = json_incref(shared);
	return 0;
}

static int
f_call(const struct tg_mcp_call *c, const char *name, json_t *args,
    json_t **result, struct tg_rpc_err *err)
{
	(void)c; (void)args;
	if (strcmp(name, "t1") != 0)
		return tg_rpc_err_set(err, -32602, "Unknown tool: %s", name);
	*result = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", "hi");
	return 0;
}

static const struct tg_mcp_backend be = {
	f_create, f_get, f_del, f_init, f_level, f_list, f_call,
};

struct out {
	int status;
	json_t *json;
	char hdr_sid[80];
};

/* Extra CGI parameters for the next run() (name, value, ..., NULL). */
static const char *xparams[9];

static void
run(const char *method, const char *body, const char *sid, const char *ver,
    const char *origin, const char *accept, struct out *o)
{
	struct fake_params p;
	struct fake_mcp m;
	int i;

	fake_mcp_params(&p, method, body, sid, ver);
	fake_params_add(&p, "HTTP_ORIGIN", origin);
	fake_params_add(&p, "HTTP_ACCEPT", accept);
	for (i = 0; xparams[i] && xparams[i + 1]; i += 2)
		fake_params_add(&p, xparams[i], xparams[i + 1]);
	(void)fake_mcp_serve(&m, &p, body, NULL, &be);
	assert_true(m.served);
	o->status = fake_mcp_status(&m);
	o->json = m.resp.json ? json_incref(m.resp.json) : NULL;
	/* Cached results are rendered as text (handlers/mcp_rpc.c result_text). */
	if (o->json == NULL && m.resp.body.len > 0 && m.resp.content_type != NULL &&
	    strcmp(m.resp.content_type, "application/json") == 0) {
		json_error_t je;

		o->json = json_loadb(m.resp.body.p, m.resp.body.len, 0, &je);
		assert_non_null(o->json);
	}
	o->hdr_sid[0] = '\0';
	for (i = 0; i < m.resp.nheaders; i++)
		if (strcmp(m.resp.headers[i].name, "Mcp-Session-Id") == 0)
			snprintf(o->hdr_sid, sizeof(o->hdr_sid), "%s", m.resp.headers[i].value);
	fake_mcp_done(&m);
}

static long
code_of(const struct out *o)
{
	return (long)json_integer_value(json_object_get(json_object_get(o->json,
	    "error"), "code"));
}

#define INIT "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"u\",\"version\":\"1\"}}}"

static void
t_initialize(void **state)
{
	struct out o;
	char body[512];

	(void)state;
	snprintf(body, sizeof(body), INIT, "2025-06-18");
	run("POST", body, NULL, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.hdr_sid, SID);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "protocolVersion")), "2025-06-18");
	json_decref(o.json);
	snprintf(body, sizeof(body), INIT, "2099-01-01");
	run("POST", body, NULL, NULL, NULL, NULL, &o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "protocolVersion")), "2025-11-25");
	json_decref(o.json);
	/* Bad initialize params: -32602. */
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}",
	    NULL, NULL, NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32602);
	json_decref(o.json);
}

static void
t_errors(void **state)
{
	struct out o;

	(void)state;
	run("POST", "{nope", SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32700);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32600);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x/y\"}", SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_int_equal(code_of(&o), -32601);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"zz\"}}",
	    SID, NULL, NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32602);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"t1\",\"arguments\":[1]}}",
	    SID, NULL, NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32602);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"t1\"}}",
	    SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_non_null(json_object_get(o.json, "result"));
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 202);
	assert_null(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", NULL, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 404);
	json_decref(o.json);
	/* another supported version than the session's: accepted */
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", SID, "2025-03-26", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", SID, "1999-01-01", NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", SID, NULL,
	    "http://evil.example", NULL, &o);
	assert_int_equal(o.status, 403);
	json_decref(o.json);
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", SID, NULL, NULL,
	    "text/html", &o);
	assert_int_equal(o.status, 406);
	json_decref(o.json);
	run("GET", NULL, SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 405);
	json_decref(o.json);
	run("DELETE", NULL, SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 204);
	json_decref(o.json);
}

static void
t_batches(void **state)
{
	struct out o;
	const char *b = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"n\"},5]";

	(void)state;
	snprintf(sess_version, sizeof(sess_version), "2025-11-25");
	run("POST", b, SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32600);
	json_decref(o.json);
	snprintf(sess_version, sizeof(sess_version), "2025-03-26");
	run("POST", b, SID, NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_int_equal(json_array_size(o.json), 2);	/* ping + the invalid 5 */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(o.json, 1), "error"), "code")), -32600);
	json_decref(o.json);
	snprintf(sess_version, sizeof(sess_version), "2025-11-25");
}

static void
t_redact_truncate(void **state)
{
	json_error_t je;
	json_t *in = json_loads("{\"city\":\"x\",\"API_Key\":\"k\",\"nested\":[{\"password\":1,"
	    "\"ok\":2,\"deep\":{\"refresh_token\":\"t\",\"Cookie\":\"c\"}}],\"authorization\":\"b\"}", 0, &je);
	json_t *r;
	char *t;

	(void)state;
	r = tg_mcp_redact(in);
	t = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(t, "{\"API_Key\":\"[REDACTED]\",\"authorization\":\"[REDACTED]\","
	    "\"city\":\"x\",\"nested\":[{\"deep\":{\"Cookie\":\"[REDACTED]\",\"refresh_token\":"
	    "\"[REDACTED]\"},\"ok\":2,\"password\":\"[REDACTED]\"}]}");
	free(t);
	json_decref(r);
	json_decref(in);
	t = tg_mcp_truncate("h\xC3\xA9llo", 6, 2);	/* never split é */
	assert_string_equal(t, "h\xE2\x80\xA6[truncated 5 bytes]");
	free(t);
	t = tg_mcp_truncate("abc", 3, 10);
	assert_string_equal(t, "abc");
	free(t);
}

static void
t_schema(void **state)
{
	json_error_t je;
	char why[256];
	json_t *s = json_loads("{\"type\":\"object\",\"$defs\":{\"a\":{\"type\":\"object\","
	    "\"properties\":{\"city\":{\"type\":\"string\",\"minLength\":2}},\"required\":[\"city\"]}},"
	    "\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1},\"addr\":{\"$ref\":\"#/$defs/a\"},"
	    "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",\"y\"]}}},"
	    "\"required\":[\"n\"],\"additionalProperties\":false}", 0, &je);
	json_t *ok = json_loads("{\"n\":2,\"addr\":{\"city\":\"Oslo\"},\"tags\":[\"x\"]}", 0, &je);
	json_t *b1 = json_loads("{\"addr\":{\"city\":\"Oslo\"}}", 0, &je);
	json_t *b2 = json_loads("{\"n\":2,\"addr\":{\"city\":\"O\"}}", 0, &je);
	json_t *b3 = json_loads("{\"n\":2,\"zzz\":1}", 0, &je);
	json_t *b4 = json_loads("{\"n\":2.5}", 0, &je);
	json_t *b5 = json_loads("{\"n\":1,\"tags\":[\"q\"]}", 0, &je);

	(void)state;
	assert_int_equal(tg_mcp_schema_validate(s, ok, why, sizeof(why)), 0);
	/* Each refusal is a 422 whose message names what is wrong. */
	assert_int_equal(tg_mcp_schema_validate(s, b1, why, sizeof(why)), -TG_E_UNPROCESSABLE);
	assert_non_null(strstr(why, "\"n\""));
	assert_int_equal(tg_mcp_schema_validate(s, b2, why, sizeof(why)), -TG_E_UNPROCESSABLE);
	assert_non_null(strstr(why, "$.addr.city"));
	assert_int_equal(tg_mcp_schema_validate(s, b3, why, sizeof(why)), -TG_E_UNPROCESSABLE);
	assert_non_null(strstr(why, "zzz"));
	assert_int_equal(tg_mcp_schema_validate(s, b4, why, sizeof(why)), -TG_E_UNPROCESSABLE);
	assert_non_null(strstr(why, "$.n"));
	assert_int_equal(tg_mcp_schema_validate(s, b5, why, sizeof(why)), -TG_E_UNPROCESSABLE);
	assert_non_null(strstr(why, "$.tags"));
	json_decref(s); json_decref(ok); json_decref(b1); json_decref(b2);
	json_decref(b3); json_decref(b4); json_decref(b5);
}

static void
t_result_mapping(void **state)
{
	json_error_t je;
	const char *st = NULL;
	json_t *sbx, *r;

	(void)state;
	sbx = json_loads("{\"ok\":true,\"result\":{\"a\":1}}", 0, &je);
	r = tg_mcp_result_from_sandbox(sbx, &st);
	assert_string_equal(st, "ok");
	assert_false(json_is_true(json_object_get(r, "isError")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "structuredContent"), "a")), 1);
	json_decref(r); json_decref(sbx);
	sbx = json_loads("{\"ok\":false,\"timed_out\":true,\"error\":{\"type\":\"Timeout\",\"message\":\"too slow\"}}", 0, &je);
	r = tg_mcp_result_from_sandbox(sbx, &st);
	assert_string_equal(st, "timeout");
	assert_true(json_is_true(json_object_get(r, "isError")));
	json_decref(r); json_decref(sbx);
	sbx = json_loads("{\"ok\":true,\"result\":null,\"content\":[{\"type\":\"image\",\"data\":\"AA==\",\"mimeType\":\"image/png\"}]}", 0, &je);
	r = tg_mcp_result_from_sandbox(sbx, &st);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "type")), "image");
	json_decref(r); json_decref(sbx);
}

#define M26 "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* 2026-07-28 through the in-memory backend: no session is ever asked for,
 * header checks with their codes, Base64 Mcp-Name, result decoration. */
static void
t_era_2026(void **state)
{
	struct out o;
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"t1\"," M26 "}}";

	(void)state;
	xparams[0] = "HTTP_MCP_METHOD";
	xparams[1] = "server/discover";
	xparams[2] = NULL;
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{" M26 "}}",
	    NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.hdr_sid, "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "resultType")), "complete");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "cacheScope")), "public");
	json_decref(o.json);
	/* tools/list: private cache scope, ttlMs. */
	xparams[1] = "tools/list";
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{" M26 "}}",
	    NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "cacheScope")), "private");
	assert_true(json_is_integer(json_object_get(json_object_get(o.json, "result"), "ttlMs")));
	json_decref(o.json);
	/* tools/call: Mcp-Name plain, Base64 ("t1" = dDE=), wrong, malformed. */
	xparams[1] = "tools/call";
	xparams[2] = "HTTP_MCP_NAME";
	xparams[3] = "t1";
	xparams[4] = NULL;
	run("POST", call, NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
	    "result"), "resultType")), "complete");
	json_decref(o.json);
	xparams[3] = "=?base64?dDE=?=";
	run("POST", call, NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	json_decref(o.json);
	xparams[3] = "=?base64?dDI=?=";
	run("POST", call, NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32020);
	json_decref(o.json);
	xparams[3] = "=?base64?d!E=?=";
	run("POST", call, NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32020);
	json_decref(o.json);
	xparams[2] = NULL;
	run("POST", call, NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32020);
	json_decref(o.json);
	/* Unsupported version: -32022 with the supported list. */
	run("POST", call, NULL, "2030-01-01", NULL, NULL, &o);
	assert_int_equal(o.status, 400);
	assert_int_equal(code_of(&o), -32022);
	assert_int_equal(json_integer_value(json_object_get(o.json, "id")), 3);
	json_decref(o.json);
	/* ... and null when the body has no usable id. */
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}", NULL,
	    "2030-01-01", NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32022);
	assert_true(json_is_null(json_object_get(o.json, "id")));
	json_decref(o.json);
	run("POST", "{", NULL, "2030-01-01", NULL, NULL, &o);
	assert_int_equal(code_of(&o), -32022);
	assert_true(json_is_null(json_object_get(o.json, "id")));
	json_decref(o.json);
	/* Unknown method: 404. */
	xparams[1] = "ping";
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"params\":{" M26 "}}",
	    NULL, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 404);
	assert_int_equal(code_of(&o), -32601);
	json_decref(o.json);
	/* DELETE -> 405 in this era. */
	xparams[0] = NULL;
	run("DELETE", "", SID, "2026-07-28", NULL, NULL, &o);
	assert_int_equal(o.status, 405);
	json_decref(o.json);
}

/* tools/list results the backend caches (stamped) are served from their
 * serialised text: right id each time, decorated per era, and the shared
 * result is never modified; unstamped results take the ordinary path. */
static void
t_tools_list_cached(void **state)
{
	static const char *ids[] = {"7", "\"abc\"", "9007199254740991"};
	struct out o;
	char body[512];
	size_t i;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++) {
			snprintf(body, sizeof(body),
			    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/list\"}", ids[i]);
			run("POST", body, SID, "2025-11-25", NULL, NULL, &o);
			assert_int_equal(o.status, 200);
			{
				json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);

				assert_true(json_equal(json_object_get(o.json, "id"), want));
				json_decref(want);
			}
			assert_string_equal(json_string_value(json_object_get(o.json, "jsonrpc")), "2.0");
			assert_string_equal(json_string_value(json_object_get(json_array_get(
			    json_object_get(json_object_get(o.json, "result"), "tools"), 0), "name")), "t1");
			/* 2025-11-25 results carry no 2026 decoration. */
			assert_null(json_object_get(json_object_get(o.json, "result"), "resultType"));
			json_decref(o.json);
		}
		xparams[0] = "HTTP_MCP_METHOD";
		xparams[1] = "tools/list";
		xparams[2] = NULL;
		run("POST", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":{" M26 "}}",
		    NULL, "2026-07-28", NULL, NULL, &o);
		xparams[0] = NULL;
		assert_int_equal(o.status, 200);
		assert_int_equal(json_integer_value(json_object_get(o.json, "id")), 5);
		assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
		    "result"), "resultType")), "complete");
		assert_string_equal(json_string_value(json_object_get(json_object_get(o.json,
		    "result"), "cacheScope")), "private");
		assert_non_null(json_object_get(json_object_get(json_object_get(o.json,
		    "result"), "_meta"), "io.modelcontextprotocol/serverInfo"));
		json_decref(o.json);
	}
	/* An unstamped result (a cursor, in the fake) goes the ordinary way. */
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\",\"params\":{\"cursor\":\"x\"}}",
	    SID, "2025-11-25", NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(o.json, "result"), "tools"), 0), "name")), "t2");
	json_decref(o.json);
}

TG_TEST_MAIN("mcp_rpc", NULL, NULL, t_initialize, t_errors, t_batches,
    t_redact_truncate, t_schema, t_result_mapping, t_era_2026,
    t_tools_list_cached)
