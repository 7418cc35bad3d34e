/*
 * test_mcp2026.c - /mcp speaking MCP 2026-07-28 (the stateless revision)
 * with raw HTTP through the private nginx, beside a 2025-11-25 session on
 * the same endpoint.
 *
 * One test per MUST of the revision as toolgate serves it (the spec
 * section is named at each check): server/discover; Mcp-Method on every
 * request and Mcp-Name on tools/call, checked against the body (-32020,
 * also for the =?base64?...?= form and malformed values); the version
 * header required, matching _meta (-32020) and supported (-32022 with
 * data.supported/requested); required _meta fields (-32602, 400); unknown
 * and removed methods (404 -32601); resultType on every result; ttlMs and
 * cacheScope on list results, deterministic order; Mcp-Session-Id ignored
 * and never minted; GET and DELETE 405; logging only with _meta logLevel;
 * progress with a progressToken over an SSE response; traceparent recorded
 * in the execution log; closing the response stream kills the tool run.
 * The same streaming (SSE, logging per session level, progress) is checked
 * for a 2025 session, and both eras are used side by side.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define V26 "2026-07-28"
#define META "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" V26 \
    "\",\"io.modelcontextprotocol/clientCapabilities\":{}," \
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"it26\",\"version\":\"1\"}"

static char prefix[64];		/* the fixture server's tool prefix */

/* it_mcp26_post with the admin token (see it.h). */
static void
post(const char *version, const char *method, const char *name,
    const char *body, const char *accept, const char *const *extra,
    struct it_resp *r)
{
	it_mcp26_post(it_admin(), version, method, name, body, accept, extra, r);
}

static void
expect_error(struct it_resp *r, long http, long code)
{
	if (r->status != http || it_rpc_code(r) != code)
		fprintf(stderr, "got %ld %s\n", r->status, r->body ? r->body : "");
	assert_int_equal(r->status, http);
	assert_int_equal(it_rpc_code(r), code);
	it_resp_free(r);
}

static json_t *
result_of(const struct it_resp *r)
{
	return json_object_get(r->json, "result");
}

/* SSE body -> array of the JSON messages of its data: lines (new ref). */
static json_t *
sse_messages(const struct it_resp *r)
{
	json_t *a = json_array();
	const char *p = r->body;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n > 6 && strncmp(p, "data: ", 6) == 0) {
			json_t *m = json_loadb(p + 6, n - 6, 0, NULL);

			assert_non_null(m);
			json_array_append_new(a, m);
		}
		p = e ? e + 1 : NULL;
	}
	return a;
}

static size_t
count_method(const json_t *msgs, const char *method)
{
	size_t i, n = 0;
	json_t *m;

	json_array_foreach(msgs, i, m) {
		const char *s = json_string_value(json_object_get(m, "method"));

		if (s && strcmp(s, method) == 0)
			n++;
	}
	return n;
}

static void
fixtures(void)
{
	static const char *const names[2] = {"stepper", "slow"};
	static const char code[] =
	    "import time\nimport toolgate\n"
	    "def main(n: int = 3, pause: float = 0.05) -> str:\n"
	    "    for i in range(n):\n"
	    "        toolgate.log('info', 'step %d' % i)\n"
	    "        toolgate.log('debug', {'i': i})\n"
	    "        toolgate.progress(i + 1, n, 'step %d' % i)\n"
	    "        time.sleep(pause)\n"
	    "    return 'done %d' % n\n";
	json_t *srv;
	char path[256], body[128];
	long long sid;
	int i;

	if (prefix[0])
		return;
	snprintf(body, sizeof(body), "{\"name\":\"it26s%ld\"}", (long)getpid());
	srv = it_call("POST", "/api/v1/servers", it_admin(), body, 201);
	sid = json_integer_value(json_object_get(srv, "id"));
	snprintf(prefix, sizeof(prefix), "%s__",
	    json_string_value(json_object_get(srv, "name")));
	json_decref(srv);
	snprintf(path, sizeof(path), "%lld", sid);
	for (i = 0; i < 2; i++)
		it_tool_approved(it_admin(), path, names[i], code, NULL);
	it_server_start(it_admin(), sid);
}

/* server/discover (server/discover; versioning "Protocol Version
 * Negotiation": servers MUST implement it). */
static void
t_discover(void **state)
{
	struct it_resp r;
	json_t *res, *v;
	const char *extra[] = {"Mcp-Session-Id: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", NULL};
	size_t i;
	int has26 = 0, has25 = 0;

	(void)state;
	post(V26, "server/discover", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"d1\",\"method\":\"server/discover\",\"params\":{" META "}}}",
	    NULL, extra, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), "d1");
	res = result_of(&r);
	assert_string_equal(json_string_value(json_object_get(res, "resultType")), "complete");
	json_array_foreach(json_object_get(res, "supportedVersions"), i, v) {
		has26 |= strcmp(json_string_value(v), V26) == 0;
		has25 |= strcmp(json_string_value(v), "2025-11-25") == 0;
	}
	assert_true(has26 && has25);
	assert_non_null(json_object_get(json_object_get(res, "capabilities"), "tools"));
	assert_true(json_is_string(json_object_get(res, "instructions")));
	assert_true(json_is_integer(json_object_get(res, "ttlMs")));
	assert_int_equal(json_integer_value(json_object_get(res, "ttlMs")), 300000);
	assert_string_equal(json_string_value(json_object_get(res, "cacheScope")), "public");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(res, "_meta"), "io.modelcontextprotocol/serverInfo"),
	    "name")), "toolgate");
	/* Mcp-Session-Id is ignored and never minted or echoed
	 * (streamable-http "Earlier Streamable HTTP Revisions"). */
	assert_null(it_header(&r, "Mcp-Session-Id"));
	it_resp_free(&r);
}

/* Every header/body mismatch and version error (streamable-http "Request
 * Metadata", "Server Validation"; basic/index "Per-request protocol
 * fields", "Error Codes"). */
static void
t_errors(void **state)
{
	struct it_resp r;
#define LIST "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":{" META "}}}"

	/* Each refused request: the version and Mcp-Method headers (NULL:
	 * none), the body, the HTTP status and the JSON-RPC error code. */
	static const struct {
		const char *version, *method, *body;
		long http, code;
	} refused[] = {
		/* Mcp-Method missing / not the body's method -> 400 -32020;
		 * values are case-sensitive. */
		{V26, NULL, LIST, 400, -32020},
		{V26, "tools/call", LIST, 400, -32020},
		{V26, "TOOLS/LIST", LIST, 400, -32020},
		/* MCP-Protocol-Version missing while _meta names a version. */
		{NULL, "tools/list", LIST, 400, -32020},
		/* Header and _meta disagree. */
		{V26, "tools/list", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
		    "\"2025-11-25\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		    400, -32020},
		/* Required _meta fields missing -> 400 -32602. */
		{V26, "tools/list", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}",
		    400, -32602},
		{V26, "tools/list", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" V26
		    "\"}}}", 400, -32602},
		{V26, "tools/list", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		    400, -32602},
		/* A logLevel that is not a LoggingLevel -> 400 -32602. */
		{V26, "tools/list", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\","
		    "\"params\":{" META ",\"io.modelcontextprotocol/logLevel\":\"loud\"}}}",
		    400, -32602},
		/* Unknown method -> HTTP 404 with -32601; so are the methods
		 * removed in 2026-07-28 (changelog: ping, logging/setLevel)
		 * and initialize. */
		{V26, "no/such", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"no/such\","
		    "\"params\":{" META "}}}", 404, -32601},
		{V26, "ping", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\","
		    "\"params\":{" META "}}}", 404, -32601},
		{V26, "logging/setLevel", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
		    "\"logging/setLevel\",\"params\":{\"level\":\"debug\"," META "}}}",
		    404, -32601},
		{V26, "initialize", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"initialize\","
		    "\"params\":{\"protocolVersion\":\"" V26 "\",\"capabilities\":{},"
		    "\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}," META "}}}",
		    404, -32601},
		/* Body rules: parse error, batch, client response -> 400. */
		{V26, "tools/list", "{\"jsonrpc\":", 400, -32700},
		{V26, "tools/list", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]",
		    400, -32600},
		{V26, NULL, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}", 400, -32600},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		post(refused[i].version, refused[i].method, NULL, refused[i].body,
		    NULL, NULL, &r);
		/* A request whose id can be read is answered with it. */
		if (strstr(refused[i].body, "\"id\":5"))
			it_match(r.json, "{\"id\":5}");
		expect_error(&r, refused[i].http, refused[i].code);
	}
	/* Unsupported version -> 400 -32022 listing what is supported. */
	post("2099-01-01", "tools/list", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":{\"_meta\":"
	    "{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}", NULL, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32022);
	/* Refused before the body is parsed, yet it answers the request's id
	 * (conformance 0.2 sep-2575-http-server-error-jsonrpc-id). */
	assert_int_equal(json_integer_value(json_object_get(r.json, "id")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(r.json, "error"), "data"), "requested")), "2099-01-01");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(json_object_get(r.json, "error"), "data"), "supported"), 0)), V26);
	it_resp_free(&r);
	/* A notification -> 202 without a body. */
	post(V26, "notifications/cancelled", NULL,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}",
	    NULL, NULL, &r);
	assert_int_equal(r.status, 202);
	assert_int_equal(r.len, 0);
	it_resp_free(&r);
}

/* tools/call of tool (arguments args, NULL: none) with Mcp-Name: hdr
 * (NULL: none): a 200 result with resultType "complete" when code is 0,
 * else the JSON-RPC error code in HTTP status http. */
static void
named_call(const char *tool, const char *args, const char *hdr, long http, long code)
{
	struct it_resp r;
	char body[1024];

	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",%s%s%s" META "}}}", tool, args ? "\"arguments\":" : "",
	    args ? args : "", args ? "," : "");
	post(V26, "tools/call", hdr, body, code ? NULL : "application/json", NULL, &r);
	if (code != 0) {
		expect_error(&r, http, code);
		return;
	}
	assert_int_equal(r.status, http);
	it_match(result_of(&r), "{\"resultType\":\"complete\"}");
	it_resp_free(&r);
}

/* The Mcp-Name header of s in its Base64 form (=?base64?...?=). */
static const char *
b64_name(const char *s)
{
	static char hdr[512];
	char b64[256];

	assert_int_equal(it_capture(b64, sizeof(b64), "printf %%s '%s' | base64 -w0", s), 0);
	snprintf(hdr, sizeof(hdr), "=?base64?%s?=", b64);
	return hdr;
}

/* Mcp-Name on tools/call: required, compared after Base64 decoding,
 * malformed values refused (streamable-http "Value Encoding"). */
static void
t_mcp_name(void **state)
{
	char name[128];
	const char *nonascii = "w\xc3\xa9" "ather";	/* "wéather" */

	(void)state;
	fixtures();
	snprintf(name, sizeof(name), "%sstepper", prefix);
	named_call(name, "{\"n\":1}", NULL, 400, -32020);
	named_call(name, "{\"n\":1}", "someone_else", 400, -32020);
	/* The Base64 form of the right name passes. */
	named_call(name, "{\"n\":1}", b64_name(name), 200, 0);
	/* Malformed Base64 and raw non-ASCII bytes -> -32020. */
	named_call(name, "{\"n\":1}", "=?base64?***?=", 400, -32020);
	named_call(name, "{\"n\":1}", nonascii, 400, -32020);
	/* A non-ASCII name in its Base64 form is decoded and compared: it
	 * matches the body, so the request reaches tools/call (unknown tool,
	 * a JSON-RPC error in a 200). */
	named_call(nonascii, NULL, b64_name(nonascii), 200, -32602);
}

/* tools/list: resultType, ttlMs, cacheScope private (per caller role),
 * deterministic order; no session anywhere. */
static void
t_list(void **state)
{
	struct it_resp r;
	char *first = NULL;
	json_t *tools, *t;
	const char *prev = "";
	size_t i;
	int k;

	(void)state;
	fixtures();
	for (k = 0; k < 2; k++) {
		post(V26, "tools/list", NULL,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" META "}}}",
		    NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_null(it_header(&r, "Mcp-Session-Id"));
		assert_string_equal(json_string_value(json_object_get(result_of(&r),
		    "resultType")), "complete");
		assert_string_equal(json_string_value(json_object_get(result_of(&r),
		    "cacheScope")), "private");
		/* Present, an integer, the documented hint (docs/mcp.md). */
		assert_true(json_is_integer(json_object_get(result_of(&r), "ttlMs")));
		assert_int_equal(json_integer_value(json_object_get(result_of(&r), "ttlMs")), 30000);
		tools = json_object_get(result_of(&r), "tools");
		assert_true(json_array_size(tools) > 0);
		json_array_foreach(tools, i, t) {
			const char *n = json_string_value(json_object_get(t, "name"));

			assert_true(strcmp(prev, n) < 0);	/* sorted, unique */
			prev = n;
		}
		prev = "";
		if (k == 0)
			first = json_dumps(tools, JSON_COMPACT);
		else {
			char *second = json_dumps(tools, JSON_COMPACT);

			assert_string_equal(first, second);
			free(second);
		}
		it_resp_free(&r);
	}
	free(first);
}

/* tools/call of the stepper (n steps) with request id, more _meta members
 * (",..." or ""), Accept: accept (NULL: both); expects 200 with a
 * Content-Type holding want_ct. */
static void
call_stepper(int id, int n, const char *meta_more, const char *accept,
    const char *want_ct, struct it_resp *r)
{
	char body[1024], name[128];
	const char *ct;

	snprintf(name, sizeof(name), "%sstepper", prefix);
	snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"%s\",\"arguments\":{\"n\":%d}," META "%s}}}", id, name, n, meta_more);
	post(V26, "tools/call", name, body, accept, NULL, r);
	assert_int_equal(r->status, 200);
	ct = it_header(r, "Content-Type");
	if (ct == NULL || strstr(ct, want_ct) == NULL)
		fail_msg("Content-Type %s, want %s", ct ? ct : "(none)", want_ct);
}

/* tools/call: result with resultType, logging only when _meta asks,
 * progress over SSE with a progressToken, traceparent in the log. */
static void
t_call_stream(void **state)
{
	struct it_resp r;
	json_t *msgs, *last;

	(void)state;
	fixtures();
	/* No logLevel, no progressToken: plain JSON, no notifications. */
	call_stepper(10, 3, ",\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01\"",
	    NULL, "application/json", &r);
	it_match(result_of(&r), "{\"resultType\":\"complete\"}");
	assert_false(json_is_true(json_object_get(result_of(&r), "isError")));
	assert_non_null(strstr(it_first_text(result_of(&r)), "done 3"));
	it_resp_free(&r);
	/* traceparent from _meta is in the execution log; no session. */
	it_sql_expect("1", "SELECT count(*) FROM execution_logs"
	    " WHERE tool_name = '%sstepper' AND session_hash IS NULL AND traceparent ="
	    " '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01'", prefix);

	/* logLevel info + progressToken: an SSE stream with 3 info messages
	 * (debug filtered), 3 increasing progress notifications, then the
	 * response. */
	call_stepper(11, 3, ",\"io.modelcontextprotocol/logLevel\":\"info\",\"progressToken\":\"pt-1\"",
	    NULL, "text/event-stream", &r);
	msgs = sse_messages(&r);
	assert_int_equal(count_method(msgs, "notifications/message"), 3);
	assert_int_equal(count_method(msgs, "notifications/progress"), 3);
	it_match(json_array_get(msgs, 0), "{\"params\":{\"level\":\"info\"}}");
	it_match(json_array_get(msgs, 1), "{\"params\":{\"progressToken\":\"pt-1\"}}");
	last = json_array_get(msgs, json_array_size(msgs) - 1);
	it_match(last, "{\"id\":11,\"result\":{\"resultType\":\"complete\"}}");
	json_decref(msgs);
	it_resp_free(&r);

	/* logLevel debug: both levels. */
	call_stepper(12, 2, ",\"io.modelcontextprotocol/logLevel\":\"debug\"", NULL,
	    "text/event-stream", &r);
	msgs = sse_messages(&r);
	assert_int_equal(count_method(msgs, "notifications/message"), 4);
	assert_int_equal(count_method(msgs, "notifications/progress"), 0);
	json_decref(msgs);
	it_resp_free(&r);

	/* A client that accepts only JSON gets JSON, events dropped. */
	call_stepper(12, 2, ",\"io.modelcontextprotocol/logLevel\":\"debug\"",
	    "application/json", "application/json", &r);
	assert_non_null(result_of(&r));
	it_resp_free(&r);
}

/* Closing the response stream cancels the request (streamable-http
 * "Cancellation"): the sandbox is killed, the log says so at once. */
static void
t_cancel(void **state)
{
	char name[128];
	long long t0;
	int i, found = 0;

	(void)state;
	fixtures();
	snprintf(name, sizeof(name), "%sslow", prefix);
	t0 = (long long)time(NULL);
	/* 400 steps of 50 ms = 20 s; the client hangs up after ~1.5 s. */
	it_sh("curl -s -o /dev/null -m 1.5 -X POST '%s/mcp' -H 'Authorization: Bearer %s'"
	    " -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'"
	    " -H 'MCP-Protocol-Version: " V26 "' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: %s'"
	    " --data-binary '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"%s\",\"arguments\":{\"n\":400}," META
	    ",\"progressToken\":1}}}'", it_base(), it_admin(), name, name);
	for (i = 0; i < 40 && !found; i++) {
		found = it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
		    " WHERE tool_name = '%s' AND error LIKE '%%went away%%'\" | grep -qx 1",
		    name) == 0;
		if (!found)
			usleep(250 * 1000);
	}
	assert_true(found);
	/* Well before the tool would have finished on its own (the log row
	 * is written once the helper is reaped; its sandbox dies with it). */
	assert_true((long long)time(NULL) - t0 < 12);
}

/* GET and DELETE with the 2026 header -> 405 (streamable-http "Earlier
 * Streamable HTTP Revisions"). */
static void
t_methods(void **state)
{
	const char *h[] = {it_bearer(it_admin()), "MCP-Protocol-Version: " V26,
	    "Mcp-Session-Id: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	    NULL};

	(void)state;
	assert_int_equal(it_hstatus("GET", "/mcp", h), 405);
	assert_int_equal(it_hstatus("DELETE", "/mcp", h), 405);
}

/* Both eras at once: a 2025-11-25 session streams logs at its
 * logging/setLevel level and progress; a 2026 request carrying that
 * session's id ignores it; the session still works afterwards. */
static void
t_both_eras(void **state)
{
	struct it_resp r;
	char sid[128], sh[200], body[1024], name[128];
	const char *extra[3];
	json_t *msgs;

	(void)state;
	fixtures();
	snprintf(name, sizeof(name), "%sstepper", prefix);
	post(NULL, NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":"
	    "{\"name\":\"it\",\"version\":\"1\"}}}", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(json_object_get(result_of(&r), "resultType"));
	snprintf(sid, sizeof(sid), "%s", it_header(&r, "Mcp-Session-Id"));
	it_resp_free(&r);
	snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", sid);
	extra[0] = sh;
	extra[1] = NULL;
	post("2025-11-25", NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"debug\"}}",
	    NULL, extra, &r);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);
	snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"%s\",\"arguments\":{\"n\":3},\"_meta\":{\"progressToken\":7}}}", name);
	post("2025-11-25", NULL, NULL, body, NULL, extra, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(it_header(&r, "Content-Type"), "text/event-stream"));
	msgs = sse_messages(&r);
	assert_int_equal(count_method(msgs, "notifications/message"), 6);
	assert_int_equal(count_method(msgs, "notifications/progress"), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(msgs,
	    json_array_size(msgs) - 1), "id")), 3);
	/* 2025 results carry no 2026 fields. */
	assert_null(json_object_get(json_object_get(json_array_get(msgs,
	    json_array_size(msgs) - 1), "result"), "resultType"));
	json_decref(msgs);
	it_resp_free(&r);
	/* A 2026 request with the session's id: served statelessly. */
	post(V26, "tools/list", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":{" META "}}}",
	    NULL, extra, &r);
	assert_int_equal(r.status, 200);
	assert_null(it_header(&r, "Mcp-Session-Id"));
	assert_string_equal(json_string_value(json_object_get(result_of(&r), "resultType")),
	    "complete");
	it_resp_free(&r);
	/* 2026 methods are not part of the 2025 era. */
	post("2025-11-25", NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"server/discover\"}", NULL, extra, &r);
	expect_error(&r, 200, -32601);
	/* The session is untouched. */
	post("2025-11-25", NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}",
	    NULL, extra, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_object(result_of(&r)));
	it_resp_free(&r);
}

TG_TEST_MAIN("tests", NULL, NULL, t_discover, t_errors, t_mcp_name, t_list,
    t_call_stream, t_cancel, t_methods, t_both_eras)
