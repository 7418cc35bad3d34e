/*
 * test_mcp.c - /mcp through the private nginx with raw HTTP: every
 * transport rule of the 2025 era with its status code (Origin 403, 401
 * with WWW-Authenticate, 406, 415, 400 parse/invalid/batch/version/no
 * session, 404 unknown session, 202 notifications and responses, 405 GET,
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

static char token[4096];
static char auth_hdr[4200];
static char origin_ok[256];

#define CT "Content-Type: application/json"
#define ACC "Accept: application/json, text/event-stream"

static void
login(void)
{
	if (token[0])
		return;
	assert_int_equal(it_login_admin(token, sizeof(token)), 0);
	snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: Bearer %s", token);
	snprintf(origin_ok, sizeof(origin_ok), "Origin: %s", it_base());
}

/* POST /mcp with the usual headers plus extra (NULL-terminated). */
static void
post(const char *session, const char *version, const char *body,
    struct it_resp *r, const char *extra1, const char *extra2)
{
	const char *h[10];
	char sh[256], vh[64];
	int n = 0;

	login();
	h[n++] = auth_hdr;
	if (extra1)
		h[n++] = extra1;
	if (extra2)
		h[n++] = extra2;
	if (!extra1 || strncasecmp(extra1, "Content-Type", 12) != 0)
		h[n++] = CT;
	if (!extra1 || strncasecmp(extra1, "Accept", 6) != 0)
		h[n++] = ACC;
	if (session) {
		snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", session);
		h[n++] = sh;
	}
	if (version) {
		snprintf(vh, sizeof(vh), "MCP-Protocol-Version: %s", version);
		h[n++] = vh;
	}
	h[n] = NULL;
	assert_int_equal(it_request("POST", "/mcp", h, body, strlen(body), r), 0);
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
	post(NULL, NULL, body, &r, NULL, NULL);
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
	    &r, NULL, NULL);
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

	(void)state;
	login();
	/* DNS rebinding: foreign Origin -> 403 (before anything else). */
	post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r,
	    bad_origin, NULL);
	assert_int_equal(r.status, 403);
	assert_int_equal(it_rpc_code(&r), -32000);
	it_resp_free(&r);
	/* An allowed Origin passes. */
	post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":"
	    "{\"name\":\"it\",\"version\":\"1\"}}}", &r, origin_ok, NULL);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);
	/* No credentials -> 401 + WWW-Authenticate; a bad token too. */
	h[0] = CT;
	h[1] = ACC;
	h[2] = NULL;
	assert_int_equal(it_request("POST", "/mcp", h, "{}", 2, &r), 0);
	assert_int_equal(r.status, 401);
	assert_non_null(it_header(&r, "WWW-Authenticate"));
	it_resp_free(&r);
	h[2] = "Authorization: Bearer not-a-token";
	h[3] = NULL;
	assert_int_equal(it_request("POST", "/mcp", h, "{}", 2, &r), 0);
	assert_int_equal(r.status, 401);
	assert_non_null(it_header(&r, "WWW-Authenticate"));
	it_resp_free(&r);

	init_session("2025-11-25", sid, v);
	/* Accept that admits neither JSON nor SSE -> 406. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r,
	    "Accept: text/html", NULL);
	assert_int_equal(r.status, 406);
	it_resp_free(&r);
	/* Wrong Content-Type -> 415. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r,
	    "Content-Type: text/plain", NULL);
	assert_int_equal(r.status, 415);
	it_resp_free(&r);
	/* Malformed JSON -> 400 -32700. */
	post(sid, v, "{\"jsonrpc\":", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32700);
	assert_true(json_is_null(json_object_get(r.json, "id")));
	it_resp_free(&r);
	/* Not a request object -> 400 -32600 (with the id when readable). */
	post(sid, v, "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32600);
	assert_int_equal(json_integer_value(json_object_get(r.json, "id")), 7);
	it_resp_free(&r);
	post(sid, v, "42", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32600);
	it_resp_free(&r);
	/* Unknown method -> 200 with -32601; bad params -> -32602. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"no/such\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(it_rpc_code(&r), -32601);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), "a");
	it_resp_free(&r);
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{}}",
	    &r, NULL, NULL);
	assert_int_equal(it_rpc_code(&r), -32602);
	it_resp_free(&r);
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"no__such_tool\"}}", &r, NULL, NULL);
	assert_int_equal(it_rpc_code(&r), -32602);
	it_resp_free(&r);
	/* Batches are not part of 2025-06-18 and later -> 400 -32600. */
	post(sid, v, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32600);
	it_resp_free(&r);
	/* A response from the client -> 202. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}", &r, NULL, NULL);
	assert_int_equal(r.status, 202);
	it_resp_free(&r);
	/* MCP-Protocol-Version: unsupported or not the session's -> 400. */
	post(sid, "2031-01-01", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_non_null(json_object_get(json_object_get(json_object_get(r.json, "error"),
	    "data"), "supported"));
	it_resp_free(&r);
	post(sid, "2025-06-18", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	it_resp_free(&r);
	/* Header absent: the session's version is assumed. */
	post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_true(json_is_object(json_object_get(r.json, "result")));
	it_resp_free(&r);
	/* No session -> 400; unknown session -> 404. */
	post(NULL, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	it_resp_free(&r);
	post("0000000000000000000000000000000000000000000000000000000000000000", v,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 404);
	it_resp_free(&r);
	/* GET: no server stream -> 405 with Allow. */
	h[0] = auth_hdr;
	h[1] = "Accept: text/event-stream";
	h[2] = NULL;
	assert_int_equal(it_request("GET", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_non_null(it_header(&r, "Allow"));
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
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]", &r, NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_true(json_is_array(r.json));
	assert_int_equal(json_array_size(r.json), 2);
	it_resp_free(&r);
	post(sid, v, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}]",
	    &r, NULL, NULL);
	assert_int_equal(r.status, 202);
	it_resp_free(&r);
	post(sid, v, "[]", &r, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32600);
	it_resp_free(&r);
}

static void
t_delete_session(void **state)
{
	struct it_resp r;
	const char *h[3];
	char sid[128], v[32], sh[256];

	(void)state;
	init_session("2025-11-25", sid, v);
	snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", sid);
	h[0] = auth_hdr;
	h[1] = sh;
	h[2] = NULL;
	assert_int_equal(it_request("DELETE", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 204);
	it_resp_free(&r);
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 404);
	it_resp_free(&r);
	assert_int_equal(it_request("DELETE", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	it_resp_free(&r);
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
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r, NULL, NULL);
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
	res = it_mcp_call(token, sid, v, "toolgate_create_server", "{\"nme\":\"x\"}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);
	snprintf(name, sizeof(name), "itmcp%ld", (long)getpid());
	snprintf(path, sizeof(path), "{\"name\":\"%s\"}", name);
	res = it_mcp_call(token, sid, v, "toolgate_create_server", path, NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	srv = json_object_get(res, "structuredContent");
	assert_non_null(srv);
	sid_n = json_integer_value(json_object_get(srv, "id"));
	json_decref(res);
	/* Service errors are isError results (duplicate name: conflict). */
	res = it_mcp_call(token, sid, v, "toolgate_create_server", path, NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);

	/* Tools over REST, submitted and approved; limits short for the run. */
	it_callv("PATCH", "/api/v1/settings", token, "{\"limits\":{\"timeout_ms\":1500}}", 200);
	snprintf(path, sizeof(path), "%lld", sid_n);
	for (i = 0; i < 4; i++)
		it_tool_approved(token, path, names[i], codes[i], NULL);
	/* Not served while the server is stopped. */
	snprintf(path, sizeof(path), "%s__weather", name);
	res = it_mcp_call(token, sid, v, path, "{\"city\":\"Oslo\"}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/start", sid_n);
	it_callv("POST", path, token, "{}", 200);

	snprintf(path, sizeof(path), "%s__weather", name);
	res = it_mcp_call(token, sid, v, path, "{\"city\":\"Oslo\",\"api_token\":\"s3cr3t-value\"}", NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(res,
	    "structuredContent"), "city")), "Oslo");
	assert_non_null(strstr(it_first_text(res), "Oslo"));
	json_decref(res);
	/* Schema validation: missing required / wrong type -> -32602. */
	res = it_mcp_call(token, sid, v, path, "{}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "city"));
	json_decref(res);
	res = it_mcp_call(token, sid, v, path, "{\"city\":5}", NULL);
	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);

	snprintf(path, sizeof(path), "%s__raiser", name);
	res = it_mcp_call(token, sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "boom from the tool"));
	json_decref(res);
	snprintf(path, sizeof(path), "%s__looper", name);
	res = it_mcp_call(token, sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "time"));
	json_decref(res);
	snprintf(path, sizeof(path), "%s__flooder", name);
	res = it_mcp_call(token, sid, v, path, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	/* The session keeps working. */
	post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);

	/* Execution logs: redacted arguments, statuses. */
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__weather' AND status = 'ok'"
	    " AND arguments->>'api_token' = '[REDACTED]'"
	    " AND arguments->>'city' = 'Oslo'\" | grep -qx 1", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__weather' AND arguments::text LIKE '%%s3cr3t%%'\""
	    " | grep -qx 0", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT status FROM execution_logs"
	    " WHERE tool_name = '%s__looper'\" | grep -qx timeout", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__raiser' AND status = 'error'"
	    " AND error LIKE '%%boom%%'\" | grep -qx 1", name), 0);

	/* security (review finding 1): a tool that prints, returns or raises
	 * a secret value of its server: the row holds "[REDACTED]" instead,
	 * raw and JSON-escaped (the value holds a quote). */
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/secrets", sid_n);
	it_callv("POST", path, token, "{\"key\":\"LEAK\",\"value\":\"mcpleak-4e1\\\"q-value\"}", 201);
	{
		snprintf(path, sizeof(path), "%lld", sid_n);
		it_tool_approved(token, path, "leaker",
		    "def main(mode: str = 'ret'):\n"
		    "    print('out:' + SECRETS['LEAK'])\n"
		    "    if mode == 'raise':\n"
		    "        raise ValueError('err:' + SECRETS['LEAK'])\n"
		    "    return {'v': SECRETS['LEAK']}\n", NULL);
	}
	snprintf(path, sizeof(path), "%s__leaker", name);
	res = it_mcp_call(token, sid, v, path, "{}", NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	res = it_mcp_call(token, sid, v, path, "{\"mode\":\"raise\"}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__leaker' AND kind = 'call'\" | grep -qx 2", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__leaker'"
	    " AND concat(result, stdout, stderr, error) LIKE '%%mcpleak%%'\""
	    " | grep -qx 0", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__leaker' AND status = 'ok'"
	    " AND result LIKE '%%[REDACTED]%%' AND stdout LIKE 'out:[REDACTED]%%'\""
	    " | grep -qx 1", name), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%s__leaker' AND status = 'error'"
	    " AND error LIKE '%%err:[REDACTED]%%'\" | grep -qx 1", name), 0);
	it_callv("PATCH", "/api/v1/settings", token, "{\"limits\":{\"timeout_ms\":30000}}", 200);
}

static void
t_workers_and_restart(void **state)
{
	struct it_resp r;
	char sid[128], v[32];
	int i;

	(void)state;
	init_session("2025-11-25", sid, v);
	/* More requests than workers: any worker serves the session. */
	for (i = 0; i < 12; i++) {
		post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r, NULL, NULL);
		assert_int_equal(r.status, 200);
		it_resp_free(&r);
	}
	/* SIGHUP restarts every worker; the session survives. */
	assert_int_equal(it_sh("kill -HUP \"$(cat \"$TG_VAR/run/toolgate.pid\")\""), 0);
	usleep(1500 * 1000);
	assert_int_equal(it_wait_status("/health", 200, 10000), 0);
	for (i = 0; i < 6; i++) {
		post(sid, v, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r, NULL, NULL);
		assert_int_equal(r.status, 200);
		assert_non_null(json_object_get(r.json, "result"));
		it_resp_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_negotiation),
		cmocka_unit_test(t_transport_errors),
		cmocka_unit_test(t_batch_2025_03_26),
		cmocka_unit_test(t_delete_session),
		cmocka_unit_test(t_tools),
		cmocka_unit_test(t_workers_and_restart),
	};

	return cmocka_run_group_tests_name("mcp", tests, NULL, NULL);
}
