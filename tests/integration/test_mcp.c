/*
 * test_mcp.c - /mcp through the private nginx with raw HTTP: every
 * transport rule of the 2025 era with its status code (Origin 403, 401
 * with WWW-Authenticate, 406, 415, 400 parse/invalid/batch/version/no
 * session, 404 unknown session, 202 notifications and responses, 400 GET
 * without a session (the stream itself: test_push.c),
 * DELETE), initialize/version negotiation, ping, tools/list with the
 * management tools, management tool calls, and tool calls through the
 * sandbox (result, exception, timeout, output flood -> isError; the
 * session keeps working; execution logs with redacted arguments), and a
 * session served by every worker and after a master restart (SIGHUP).
 */
#include "tests/integration/it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* POST /mcp as the admin with the usual headers; extra (NULL: none) is
 * one more header, or replaces Content-Type or Accept. */
static void
post(const char *session, const char *version, const char *body,
    struct it_resp *r, const char *extra)
{
	const char *more[2] = {extra, NULL};
	struct it_mcp_req q = {.token = it_admin(), .sid = session, .version = version};

	if (extra && strncasecmp(extra, "Content-Type: ", 14) == 0)
		q.content_type = extra + 14;
	else if (extra && strncasecmp(extra, "Accept: ", 8) == 0)
		q.accept = extra + 8;
	else
		q.extra = more;
	it_mcp_send(&q, body, r);
}

#define PING "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"

/* post, failing unless the status is status and, when code is not 0, the
 * JSON-RPC error code is code. Returns the parsed body (new reference; an
 * empty object when there is none). */
static json_t *
expect(const char *session, const char *version, const char *body,
    const char *extra, long status, long code)
{
	struct it_resp r;
	json_t *j;

	post(session, version, body, &r, extra);
	if (r.status != status || (code != 0 && it_rpc_code(&r) != code))
		fail_msg("%s: want HTTP %ld / %ld, got %ld: %.400s", body, status,
		    code, r.status, r.body ? r.body : "");
	j = r.json ? json_incref(r.json) : json_object();
	it_resp_free(&r);
	return j;
}

static void
init_session(const char *version, char sid[128], char negotiated[32])
{
	struct it_resp r;
	char body[512];
	const char *s;

	snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":"
	    "{\"name\":\"it\",\"version\":\"1\"}}}", version);
	post(NULL, NULL, body, &r, NULL);
	assert_int_equal(r.status, 200);
	s = it_header(&r, "Mcp-Session-Id");
	assert_non_null(s);
	assert_int_equal(strlen(s), 64);	/* 256 random bits, hex */
	snprintf(sid, 128, "%s", s);
	s = json_string_value(json_object_get(json_object_get(r.json, "result"),
	    "protocolVersion"));
	assert_non_null(s);
	snprintf(negotiated, 32, "%s", s);
	assert_non_null(json_object_get(json_object_get(json_object_get(r.json,
	    "result"), "capabilities"), "tools"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(r.json, "result"), "serverInfo"), "name")), "toolgate");
	it_resp_free(&r);
	post(sid, negotiated, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	    &r, NULL);
	assert_int_equal(r.status, 202);
	assert_int_equal(r.len, 0);
	it_resp_free(&r);
}

static void
t_negotiation(void **state)
{
	char sid[128], v[32];

	(void)state;
	init_session("2025-11-25", sid, v);
	assert_string_equal(v, "2025-11-25");
	init_session("2025-06-18", sid, v);
	assert_string_equal(v, "2025-06-18");
	init_session("2024-11-05", sid, v);
	assert_string_equal(v, "2024-11-05");
	init_session("1999-01-01", sid, v);	/* unknown: we offer our latest */
	assert_string_equal(v, "2025-11-25");
}

static void
t_transport_errors(void **state)
{
	struct it_resp r;
	const char *h[4];
	char sid[128], v[32], bad_origin[] = "Origin: http://evil.example.com";
	char origin_ok[256];
	json_t *j;

	(void)state;
	snprintf(origin_ok, sizeof(origin_ok), "Origin: %s", it_base());
	/* DNS rebinding: foreign Origin -> 403 (before anything else). */
	json_decref(expect(NULL, NULL, PING, bad_origin, 403, -32000));
	/* An allowed Origin passes. */
	json_decref(expect(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"it\",\"version\":\"1\"}}}", origin_ok, 200, 0));
	/* No credentials -> 401 + WWW-Authenticate; a bad token too. */
	it_mcp_send(&(struct it_mcp_req){0}, "{}", &r);
	assert_int_equal(r.status, 401);
	assert_non_null(it_header(&r, "WWW-Authenticate"));
	it_resp_free(&r);
	it_mcp_send(&(struct it_mcp_req){.token = "not-a-token"}, "{}", &r);
	assert_int_equal(r.status, 401);
	assert_non_null(it_header(&r, "WWW-Authenticate"));
	it_resp_free(&r);

	init_session("2025-11-25", sid, v);
	/* Accept that admits neither JSON nor SSE -> 406. */
	json_decref(expect(sid, v, PING, "Accept: text/html", 406, 0));
	/* Wrong Content-Type -> 415. */
	json_decref(expect(sid, v, PING, "Content-Type: text/plain", 415, 0));
	/* Malformed JSON -> 400 -32700. */
	j = expect(sid, v, "{\"jsonrpc\":", NULL, 400, -32700);
	assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);
	/* Not a request object -> 400 -32600 (with the id when readable). */
	j = expect(sid, v, "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}", NULL, 400, -32600);
	it_match(j, "{\"id\":7}");
	json_decref(j);
	json_decref(expect(sid, v, "42", NULL, 400, -32600));
	/* Unknown method -> 200 with -32601; bad params -> -32602. */
	j = expect(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"no/such\"}", NULL, 200, -32601);
	it_match(j, "{\"id\":\"a\"}");
	json_decref(j);
	json_decref(expect(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{}}", NULL, 200, -32602));
	json_decref(expect(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"no__such_tool\"}}", NULL, 200, -32602));
	/* Batches are not part of 2025-06-18 and later -> 400 -32600. */
	json_decref(expect(sid, v, "[" PING "]", NULL, 400, -32600));
	/* A response from the client -> 202. */
	json_decref(expect(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}", NULL, 202, 0));
	/* MCP-Protocol-Version: unsupported or invalid -> 400 -32022. */
	j = expect(sid, "2031-01-01", PING, NULL, 400, -32022);
	assert_non_null(json_object_get(json_object_get(json_object_get(j, "error"),
	    "data"), "supported"));
	json_decref(j);
	json_decref(expect(sid, "not-a-version", PING, NULL, 400, -32022));
	/* Another version we speak than the session's: accepted (the SEP-1699
	 * conformance scenarios send 2025-03-26 in a 2025-11-25 session); the
	 * session's version governs: no batches in a 2025-11-25 session even
	 * when the header names 2025-03-26. */
	j = expect(sid, "2025-03-26", PING, NULL, 200, 0);
	assert_true(json_is_object(json_object_get(j, "result")));
	json_decref(j);
	json_decref(expect(sid, "2025-03-26", "[" PING "]", NULL, 400, -32600));
	/* Header absent: the session's version is assumed. */
	j = expect(sid, NULL, PING, NULL, 200, 0);
	assert_true(json_is_object(json_object_get(j, "result")));
	json_decref(j);
	/* No session -> 400; unknown session -> 404. */
	json_decref(expect(NULL, v, PING, NULL, 400, 0));
	json_decref(expect("0000000000000000000000000000000000000000000000000000000000000000", v,
	    PING, NULL, 404, 0));
	/* GET: the session's stream (held by the stream process, see
	 * test_push.c) needs the session: without one -> 400. */
	h[0] = it_bearer(it_admin());
	h[1] = "Accept: text/event-stream";
	h[2] = NULL;
	assert_int_equal(it_request("GET", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 400);
	it_resp_free(&r);
}

static void
t_batch_2025_03_26(void **state)
{
	struct it_resp r;
	char sid[128], v[32];

	(void)state;
	init_session("2025-03-26", sid, v);
	post(sid, v, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]", &r, NULL);
	assert_int_equal(r.status, 200);
	assert_true(json_is_array(r.json));
	assert_int_equal(json_array_size(r.json), 2);
	it_resp_free(&r);
	json_decref(expect(sid, v, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{}}]", NULL, 202, 0));
	json_decref(expect(sid, v, "[]", NULL, 400, -32600));
}

static void
t_delete_session(void **state)
{
	const char *h[3];
	char sid[128], v[32], sh[256];

	(void)state;
	init_session("2025-11-25", sid, v);
	snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", sid);
	h[0] = it_bearer(it_admin());
	h[1] = sh;
	h[2] = NULL;
	assert_int_equal(it_hstatus("DELETE", "/mcp", h), 204);
	json_decref(expect(sid, v, PING, NULL, 404, 0));
	assert_int_equal(it_hstatus("DELETE", "/mcp", h), 404);
}

static void
t_tools(void **state)
{
	struct it_resp r;
	json_t *res, *srv, *tool, *tools;
	char sid[128], v[32], path[256], name[64];
	long long sid_n;
	size_t i;
	int found = 0;
	static const char *const codes[4] = {
		"def main(city: str, api_token: str = '') -> dict:\n    return {'city': city, 'temp': 21}\n",
		"def main() -> str:\n    raise ValueError('boom from the tool')\n",
		"def main() -> str:\n    while True:\n        pass\n",
		"def main() -> str:\n    while True:\n        print('x' * 65536)\n",
	};
	static const char *const names[4] = {"weather", "raiser", "looper", "flooder"};

	(void)state;
	init_session("2025-11-25", sid, v);
	/* tools/list: the admin sees the management tools. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r, NULL);
	assert_int_equal(r.status, 200);
	tools = json_object_get(json_object_get(r.json, "result"), "tools");
	assert_true(json_is_array(tools));
	json_array_foreach(tools, i, tool) {
		if (strcmp(json_string_value(json_object_get(tool, "name")), "toolgate_create_server") == 0)
			found = 1;
		assert_true(json_is_object(json_object_get(tool, "inputSchema")));
	}
	assert_true(found);
	it_resp_free(&r);

	/* A management tool creates a server; bad arguments are -32602. */
	res = it_mcp_call(it_admin(), sid, v, "toolgate_create_server", "{\"nme\":\"x\"}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);
	snprintf(name, sizeof(name), "itmcp%ld", (long)getpid());
	snprintf(path, sizeof(path), "{\"name\":\"%s\"}", name);
	res = it_mcp_call(it_admin(), sid, v, "toolgate_create_server", path, NULL);
	it_tool_ok(res);
	srv = json_object_get(res, "structuredContent");
	assert_non_null(srv);
	sid_n = json_integer_value(json_object_get(srv, "id"));
	json_decref(res);
	/* Service errors are isError results (duplicate name: conflict). */
	res = it_mcp_call(it_admin(), sid, v, "toolgate_create_server", path, NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);

	/* Tools over REST, submitted and approved; limits short for the run. */
	it_callv("PATCH", "/api/v1/settings", it_admin(), "{\"limits\":{\"timeout_ms\":1500}}", 200);
	snprintf(path, sizeof(path), "%lld", sid_n);
	for (i = 0; i < 4; i++)
		it_tool_approved(it_admin(), path, names[i], codes[i], NULL);
	/* Not served while the server is stopped. */
	snprintf(path, sizeof(path), "%s__weather", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{\"city\":\"Oslo\"}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);
	it_callvf("POST", it_admin(), "{}", 200, "/api/v1/servers/%lld/start", sid_n);

	snprintf(path, sizeof(path), "%s__weather", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{\"city\":\"Oslo\",\"api_token\":\"s3cr3t-value\"}", NULL);
	it_tool_ok(res);
	assert_string_equal(json_string_value(json_object_get(json_object_get(res,
	    "structuredContent"), "city")), "Oslo");
	assert_non_null(strstr(it_first_text(res), "Oslo"));
	json_decref(res);
	/* Schema validation: missing required / wrong type -> -32602. */
	res = it_mcp_call(it_admin(), sid, v, path, "{}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "city"));
	json_decref(res);
	res = it_mcp_call(it_admin(), sid, v, path, "{\"city\":5}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);

	snprintf(path, sizeof(path), "%s__raiser", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "boom from the tool"));
	json_decref(res);
	snprintf(path, sizeof(path), "%s__looper", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "time"));
	json_decref(res);
	snprintf(path, sizeof(path), "%s__flooder", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	/* The session keeps working. */
	json_decref(expect(sid, v, PING, NULL, 200, 0));

	/* Execution logs: redacted arguments, statuses. */
	it_sql_expect("1", "SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__weather' AND status = 'ok'"
	    " AND arguments->>'api_token' = '[REDACTED]'"
	    " AND arguments->>'city' = 'Oslo'", name);
	it_sql_expect("0", "SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__weather' AND arguments::text LIKE '%%s3cr3t%%'", name);
	it_sql_expect("timeout", "SELECT status FROM execution_logs"
	    " WHERE tool_name = '%s__looper'", name);
	it_sql_expect("1", "SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__raiser' AND status = 'error'"
	    " AND error LIKE '%%boom%%'", name);

	/* security (review finding 1): a tool that prints, returns or raises
	 * a secret value of its server: the row holds "[REDACTED]" instead,
	 * raw and JSON-escaped (the value holds a quote). */
	it_callvf("POST", it_admin(), "{\"key\":\"LEAK\",\"value\":\"mcpleak-4e1\\\"q-value\"}", 201, "/api/v1/servers/%lld/secrets", sid_n);
	snprintf(path, sizeof(path), "%lld", sid_n);
	it_tool_approved(it_admin(), path, "leaker", IT_LEAK_CODE("LEAK"), NULL);
	snprintf(path, sizeof(path), "%s__leaker", name);
	res = it_mcp_call(it_admin(), sid, v, path, "{}", NULL);
	it_tool_ok(res);
	json_decref(res);
	res = it_mcp_call(it_admin(), sid, v, path, "{\"mode\":\"raise\"}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	snprintf(path, sizeof(path), "tool_name = '%s__leaker'", name);
	it_logs_scrubbed(path, "call", "mcpleak");
	it_callv("PATCH", "/api/v1/settings", it_admin(), "{\"limits\":{\"timeout_ms\":30000}}", 200);
}

static void
t_workers_and_restart(void **state)
{
	json_t *j;
	char sid[128], v[32];
	int i;

	(void)state;
	init_session("2025-11-25", sid, v);
	/* More requests than workers: any worker serves the session. */
	for (i = 0; i < 12; i++)
		json_decref(expect(sid, v, PING, NULL, 200, 0));
	/* SIGHUP restarts every worker; the session survives. */
	assert_int_equal(it_sh("kill -HUP \"$(cat \"$TG_VAR/run/toolgate.pid\")\""), 0);
	usleep(1500 * 1000);
	assert_int_equal(it_wait_status("/health", 200, 10000), 0);
	for (i = 0; i < 6; i++) {
		j = expect(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
		    NULL, 200, 0);
		assert_non_null(json_object_get(j, "result"));
		json_decref(j);
	}
}

TG_TEST_MAIN("mcp", NULL, NULL, t_negotiation, t_transport_errors,
    t_batch_2025_03_26, t_delete_session, t_tools, t_workers_and_restart)
