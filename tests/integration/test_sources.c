/*
 * test_sources.c - external MCP sources end to end (issue 7), against
 * servers started on 127.0.0.1 by tests/sources/servers.sh:
 *   - the official @modelcontextprotocol/server-everything (Streamable
 *     HTTP): create (credential write-only), health, discover, import,
 *     approval gate, start, tools/list and tools/call through /mcp, session
 *     loss on the remote (restart) -> re-initialise;
 *   - tests/sources/fake_server.py: redirect (never followed), hang,
 *     oversize, garbage and malformed JSON-RPC, each a clear error within
 *     the timeout, for discover and for passthrough calls; the circuit
 *     breaker then answers at once; the worker stays free;
 *   - loopback destinations: refused unless an admin marks the source
 *     internal, both at save time (literal / localhost) and after DNS
 *     resolution (a host name that resolves to 127.0.0.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/integration/it.h"

#define CRED "tg-test-credential-7f3a9c"

static char tok[4096];
static char dir[512];
static int ev_port, fake_port;
static char sname[64];		/* server name (unique per run) */
static int sess_n;

static int
read_port(const char *name)
{
	char out[32];

	if (it_capture(out, sizeof(out), "cat '%s/%s.port'", dir, name) != 0)
		return -1;
	return atoi(out);
}

static int
group_setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "%s/sources-test", it_env("TG_VAR"));
	if (it_sh("bash tests/sources/servers.sh start '%s'", dir) != 0)
		return -1;
	ev_port = read_port("everything");
	fake_port = read_port("fake");
	if (ev_port <= 0 || fake_port <= 0)
		return -1;
	if (it_login_admin(tok, sizeof(tok)) != 0)
		return -1;
	/* the credential never appears in any response */
	it_forbid(CRED);
	snprintf(sname, sizeof(sname), "src%ld", (long)getpid() % 100000);
	return 0;
}

static int
group_teardown(void **st)
{
	(void)st;
	it_sh("bash tests/sources/servers.sh stop '%s'", dir);
	return 0;
}

static long long
create_source(const char *name, const char *url, int internal, const char *extra)
{
	char path[128], body[1024];
	json_t *j;
	long long id;

	snprintf(path, sizeof(path), "/api/v1/servers/%s/sources", sname);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"url\":\"%s\",\"internal\":%s%s}",
	    name, url, internal ? "true" : "false", extra ? extra : "");
	j = it_call("POST", path, tok, body, 201);
	id = json_integer_value(json_object_get(j, "id"));
	assert_true(id > 0);
	assert_int_equal(json_is_true(json_object_get(j, "internal")), internal);
	json_decref(j);
	return id;
}

/* --- MCP client side of /mcp ----------------------------------------- */

static char mcp_sid[256];
#define SRC_MCP_VERSION "2025-06-18"

static void
session(void)
{
	if (!mcp_sid[0])
		it_mcp_init(tok, SRC_MCP_VERSION, mcp_sid, sizeof(mcp_sid));
}

static int
listed(const char *exposed)
{
	json_t *t;

	session();
	t = it_mcp_tool(tok, mcp_sid, SRC_MCP_VERSION, exposed);
	json_decref(t);
	return t != NULL;
}

/* tools/call; returns the result object (new reference). */
static json_t *
tool_call(const char *exposed, const char *args)
{
	char body[1024];
	json_t *j, *res;

	session();
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":%s}}", ++sess_n + 100, exposed, args);
	j = it_mcp_rpc(tok, mcp_sid, SRC_MCP_VERSION, body);
	res = json_object_get(j, "result");
	if (res == NULL)
		fail_msg("tools/call %s: no result: %s", exposed,
		    json_dumps(j, JSON_COMPACT));
	json_incref(res);
	json_decref(j);
	return res;
}

/* Imports the source's t1 as local (200), approves its version 1 (200);
 * returns the tool's id. */
static long long
import_approved(long long src, const char *local)
{
	char path[128], body[256];
	json_t *j;
	long long tid;

	snprintf(path, sizeof(path), "/api/v1/sources/%lld/import", src);
	snprintf(body, sizeof(body), "{\"tools\":[{\"name\":\"t1\",\"local_name\":\"%s\"}]}",
	    local);
	j = it_call("POST", path, tok, body, 200);
	tid = it_jint(json_array_get(json_object_get(j, "imported"), 0), "id");
	json_decref(j);
	assert_true(tid > 0);
	it_act(tok, "tools", tid, "approve", "{\"version\":1}");
	return tid;
}

/* --- tests ----------------------------------------------------------- */

static void
t_server(void **st)
{
	char body[128];
	json_t *j;

	(void)st;
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", sname);
	j = it_call("POST", "/api/v1/servers", tok, body, 201);
	json_decref(j);
}

static void
t_loopback_policy(void **st)
{
	char url[512], path[128], host[256];
	struct addrinfo hints, *ai = NULL;
	json_t *j;
	long long id;

	(void)st;
	/* save time: literals and localhost */
	snprintf(path, sizeof(path), "/api/v1/servers/%s/sources", sname);
	snprintf(url, sizeof(url), "{\"name\":\"lo1\",\"url\":\"http://127.0.0.1:%d/mcp\"}",
	    fake_port);
	j = it_call("POST", path, tok, url, 422);
	assert_non_null(strstr(it_jstr(j, "detail"), "loopback"));
	json_decref(j);
	snprintf(url, sizeof(url), "{\"name\":\"lo2\",\"url\":\"http://[::ffff:127.0.0.1]:%d/mcp\"}",
	    fake_port);
	json_decref(it_call("POST", path, tok, url, 422));
	snprintf(url, sizeof(url), "{\"name\":\"lo3\",\"url\":\"http://localhost:%d/mcp\"}",
	    fake_port);
	json_decref(it_call("POST", path, tok, url, 422));
	json_decref(it_call("POST", path, tok, "{\"name\":\"md\",\"url\":\"http://169.254.169.254/\","
	    "\"internal\":true}", 422));
	json_decref(it_call("POST", path, tok, "{\"name\":\"ftp\",\"url\":\"ftp://example.com/\"}", 422));
	json_decref(it_call("POST", path, tok, "{\"name\":\"up\",\"url\":\"http://u:p@example.com/\"}", 422));

	/* connect time: a host name that resolves to loopback */
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL ||
	    (ntohl(((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr.s_addr) >> 24) != 127) {
		if (ai)
			freeaddrinfo(ai);
		snprintf(host, sizeof(host), "localhost.");	/* fallback */
	} else {
		freeaddrinfo(ai);
	}
	snprintf(url, sizeof(url), "http://%s:%d/mcp", host, fake_port);
	id = create_source("byname", url, 0, NULL);
	j = it_callf("POST", tok, NULL, 503, "/api/v1/sources/%lld/discover", id);
	if (strstr(it_jstr(j, "detail"), "loopback") == NULL ||
	    strstr(it_jstr(j, "detail"), "internal") == NULL)
		fail_msg("discover of %s: %s", url, it_jstr(j, "detail"));
	json_decref(j);
	/* the admin marks it internal: now it works */
	it_callvf("PATCH", tok, "{\"internal\":true}", 200, "/api/v1/sources/%lld", id);
	j = it_callf("POST", tok, NULL, 200, "/api/v1/sources/%lld/discover", id);
	assert_string_equal(it_jstr(json_array_get(json_object_get(j, "tools"), 0), "name"), "t1");
	json_decref(j);
}

static long long ev_src;

static void
t_everything_import_and_call(void **st)
{
	char url[256], path[128], *dump;
	json_t *j, *t, *res;
	long long ids[2];
	size_t i;
	int echo = 0;

	(void)st;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", ev_port);
	ev_src = create_source("everything", url, 1,
	    ",\"auth_type\":\"bearer\",\"credential\":\"" CRED "\"");
	j = it_callf("GET", tok, NULL, 200, "/api/v1/sources/%lld", ev_src);
	assert_true(json_is_true(json_object_get(j, "has_credential")));
	assert_null(json_object_get(j, "credential"));
	json_decref(j);

	/* health: initialize + ping */
	j = it_callf("GET", tok, NULL, 200, "/api/v1/sources/%lld/health", ev_src);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_string_equal(it_jstr(j, "status"), "healthy");
	assert_true(strncmp(it_jstr(j, "protocol_version"), "2025-", 5) == 0);
	json_decref(j);

	/* discover */
	j = it_callf("POST", tok, NULL, 200, "/api/v1/sources/%lld/discover", ev_src);
	json_array_foreach(json_object_get(j, "tools"), i, t)
		if (strcmp(it_jstr(t, "name"), "echo") == 0) {
			echo = 1;
			assert_true(json_is_object(json_object_get(t, "input_schema")));
			assert_true(json_is_false(json_object_get(t, "imported")));
		}
	assert_true(echo);
	json_decref(j);

	/* import two tools (one renamed) and a missing one (422) */
	snprintf(path, sizeof(path), "/api/v1/sources/%lld/import", ev_src);
	json_decref(it_call("POST", path, tok, "{\"tools\":[\"no-such-tool\"]}", 422));
	j = it_call("POST", path, tok, "{\"tools\":[\"echo\",{\"name\":\"get-sum\",\"local_name\":\"sum\"}]}",
	    200);
	assert_int_equal(json_array_size(json_object_get(j, "imported")), 2);
	for (i = 0; i < 2; i++) {
		t = json_array_get(json_object_get(j, "imported"), i);
		ids[i] = json_integer_value(json_object_get(t, "id"));
		assert_string_equal(it_jstr(t, "status"), "pending_review");
	}
	json_decref(j);
	/* importing again is idempotent */
	j = it_call("POST", path, tok, "{\"tools\":[\"echo\"]}", 200);
	assert_int_equal(json_array_size(json_object_get(j, "already_imported")), 1);
	json_decref(j);

	/* start the server: not served before approval */
	it_callvf("POST", tok, NULL, 200, "/api/v1/servers/%s/start", sname);
	snprintf(url, sizeof(url), "%s__echo", sname);
	assert_false(listed(url));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/api/v1/tools/%lld/approve", ids[i]);
		json_decref(it_call("POST", path, tok, "{\"version\":1}", 200));
	}
	assert_true(listed(url));

	res = tool_call(url, "{\"message\":\"hello through toolgate\"}");
	it_tool_ok(res);
	assert_string_equal(it_first_text(res), "Echo: hello through toolgate");
	json_decref(res);
	snprintf(url, sizeof(url), "%s__sum", sname);
	res = tool_call(url, "{\"a\":2,\"b\":40}");
	assert_non_null(strstr(it_first_text(res), "42"));
	json_decref(res);

	/* the remote loses every session (restart): re-initialised */
	assert_int_equal(it_sh("bash tests/sources/servers.sh restart-everything '%s'", dir), 0);
	snprintf(url, sizeof(url), "%s__echo", sname);
	res = tool_call(url, "{\"message\":\"after restart\"}");
	assert_string_equal(it_first_text(res), "Echo: after restart");
	json_decref(res);

	/* security (review finding 4): an imported tool's code and input
	 * schema follow its source (422 naming the field); a description
	 * edit is allowed and sends it back to review. */
	snprintf(path, sizeof(path), "/api/v1/tools/%lld", ids[0]);
	j = it_call("PATCH", path, tok, "{\"code\":\"def main():\\n    return 1\\n\"}", 422);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(dump, "\"code\""));
	assert_non_null(strstr(dump, "edit the source instead"));
	free(dump);
	json_decref(j);
	j = it_call("PATCH", path, tok, "{\"input_schema\":{\"type\":\"object\"}}", 422);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(dump, "\"input_schema\""));
	free(dump);
	json_decref(j);
	j = it_call("GET", path, tok, NULL, 200);
	assert_string_equal(it_jstr(j, "status"), "approved");
	json_decref(j);
	j = it_call("PATCH", path, tok, "{\"description\":\"local words\"}", 200);
	assert_string_equal(it_jstr(j, "status"), "pending_review");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/approve", ids[0]);
	json_decref(it_call("POST", path, tok, "{\"version\":2}", 200));
}

static void
t_credential_never_leaks(void **st)
{

	(void)st;
	it_callvf("GET", tok, NULL, 200, "/api/v1/servers/%s/sources", sname);
	json_decref(it_call("GET", "/api/v1/audit?limit=200", tok, NULL, 200));
	/* nor in any log of the stack (app, nginx, PostgreSQL) */
	assert_int_equal(it_sh("! grep -rq '%s' '%s/log'", CRED, it_env("TG_VAR")), 0);
}

/* security (review finding 3): `toolgate rotate-key` re-encrypts source
 * credentials too (cred_key_version + 1 each time) and secrets-verify
 * checks them: after rotating to NEW they open with NEW only. Rotates
 * back at the end. */
static void
t_rotate_key_covers_credentials(void **st)
{
	char before[64], after[64], out[512];
	long long n = 0, v0 = 0, v1 = 0;

	(void)st;
	assert_int_equal(it_capture(before, sizeof(before), "psql -qAtX -c \"SELECT"
	    " count(*) || ' ' || coalesce(sum(cred_key_version), 0) FROM external_sources"
	    " WHERE cred_ciphertext IS NOT NULL\""), 0);
	assert_int_equal(sscanf(before, "%lld %lld", &n, &v0), 2);
	assert_true(n >= 1);
	assert_int_equal(it_capture(out, sizeof(out), "NEW=$(od -An -vtx1 -N32 /dev/urandom | tr -d ' \\n'); "
	    "TOOLGATE_ENCRYPTION_KEY_OLD=$TOOLGATE_ENCRYPTION_KEY TOOLGATE_ENCRYPTION_KEY=$NEW "
	    "build/toolgate rotate-key 2>/dev/null && "
	    "TOOLGATE_ENCRYPTION_KEY=$NEW build/toolgate secrets-verify 2>/dev/null && "
	    "{ build/toolgate secrets-verify 2>/dev/null; test $? -ne 0; } && "
	    "TOOLGATE_ENCRYPTION_KEY_OLD=$NEW build/toolgate rotate-key >/dev/null 2>&1 && "
	    "build/toolgate secrets-verify 2>/dev/null | tail -1"), 0);
	assert_non_null(strstr(out, "source credentials re-encrypted"));
	assert_non_null(strstr(out, " 0 do not"));
	assert_int_equal(it_capture(after, sizeof(after), "psql -qAtX -c \"SELECT"
	    " coalesce(sum(cred_key_version), 0) FROM external_sources"
	    " WHERE cred_ciphertext IS NOT NULL\""), 0);
	assert_int_equal(sscanf(after, "%lld", &v1), 1);
	assert_int_equal(v1, v0 + 2 * n);
}

struct bad {
	const char *path;	/* fake server path (discover) / mode (call) */
	const char *want;	/* substring of the error */
};

static const struct bad bads[] = {
	{"redirect", "redirect"},
	{"hang", "did not answer"},
	{"huge", "exceeds"},
	{"garbage", "invalid JSON"},
	{"badrpc", "malformed"},
	{"sse-garbage", "not valid JSON"},
	{"sse-noreply", "without a response"},
};

static void
t_fake_discover_failures(void **st)
{
	char url[256], path[128], name[32];
	json_t *j;
	int64_t t0, ms;
	size_t i;
	long long id;

	(void)st;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", fake_port, bads[i].path);
		snprintf(name, sizeof(name), "bad%zu", i);
		id = create_source(name, url, 1, ",\"timeout_ms\":1500,\"connect_timeout_ms\":1000,"
		    "\"max_response_bytes\":65536");
		snprintf(path, sizeof(path), "/api/v1/sources/%lld/discover", id);
		t0 = (int64_t)(it_now() * 1000);
		j = it_call("POST", path, tok, NULL, strcmp(bads[i].path, "hang") == 0 ? 504 : 503);
		ms = (int64_t)(it_now() * 1000) - t0;
		if (strstr(it_jstr(j, "detail"), bads[i].want) == NULL)
			fail_msg("%s: detail \"%s\" lacks \"%s\"", bads[i].path, it_jstr(j, "detail"),
			    bads[i].want);
		json_decref(j);
		if (ms > 4000)
			fail_msg("%s took %lld ms", bads[i].path, (long long)ms);
		/* the health check reports the same, recorded */
		snprintf(path, sizeof(path), "/api/v1/sources/%lld/health", id);
		j = it_call("GET", path, tok, NULL, 200);
		assert_true(json_is_false(json_object_get(j, "ok")));
		assert_non_null(strstr(it_jstr(j, "error"), bads[i].want));
		json_decref(j);
	}
	/* the redirect was never followed */
	{
		char out[128];

		assert_int_equal(it_capture(out, sizeof(out), "curl -s http://127.0.0.1:%d/hits",
		    fake_port), 0);
		assert_non_null(strstr(out, "\"target\": 0"));
	}
	/* the worker is free */
	assert_int_equal(it_wait_status("/health", 200, 2000), 0);
}

static void
set_mode(const char *mode)
{
	assert_int_equal(it_sh("curl -s -o /dev/null -X POST -d '{\"mode\":\"%s\"}'"
	    " http://127.0.0.1:%d/control", mode, fake_port), 0);
}

static void
t_fake_call_failures_and_breaker(void **st)
{
	char url[256], path[128], exposed[128];
	json_t *j, *res;
	long long id;
	int64_t t0, ms;
	size_t i;

	(void)st;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", fake_port);
	id = create_source("fake", url, 1, ",\"timeout_ms\":1500,\"connect_timeout_ms\":1000,"
	    "\"max_response_bytes\":65536,\"failure_threshold\":100,\"cooldown_s\":60");
	(void)import_approved(id, "fake_t1");
	snprintf(exposed, sizeof(exposed), "%s__fake_t1", sname);
	set_mode("ok");
	res = tool_call(exposed, "{\"x\":\"1\"}");
	assert_string_equal(it_first_text(res), "fake says 1");
	json_decref(res);

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		set_mode(bads[i].path);
		t0 = (int64_t)(it_now() * 1000);
		res = tool_call(exposed, "{\"x\":\"2\"}");
		ms = (int64_t)(it_now() * 1000) - t0;
		assert_true(json_is_true(json_object_get(res, "isError")));
		if (strstr(it_first_text(res), bads[i].want) == NULL)
			fail_msg("call in mode %s: \"%s\" lacks \"%s\"", bads[i].path,
			    it_first_text(res), bads[i].want);
		json_decref(res);
		if (ms > 4000)
			fail_msg("call in mode %s took %lld ms", bads[i].path, (long long)ms);
	}

	/* circuit breaker: threshold 2, the next failure opens it */
	snprintf(path, sizeof(path), "/api/v1/sources/%lld", id);
	json_decref(it_call("PATCH", path, tok, "{\"failure_threshold\":2}", 200));
	set_mode("hang");
	res = tool_call(exposed, "{\"x\":\"3\"}");
	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
	t0 = (int64_t)(it_now() * 1000);
	res = tool_call(exposed, "{\"x\":\"4\"}");
	ms = (int64_t)(it_now() * 1000) - t0;
	assert_true(json_is_true(json_object_get(res, "isError")));
	if (strstr(it_first_text(res), "unhealthy") == NULL)
		fail_msg("breaker: %s", it_first_text(res));
	json_decref(res);
	assert_true(ms < 1000);		/* answered at once, no remote call */
	j = it_call("GET", path, tok, NULL, 200);
	assert_string_equal(it_jstr(j, "status"), "unhealthy");
	assert_true(json_is_string(json_object_get(j, "circuit_open_until")));
	json_decref(j);
	/* re-enabling (enabled: true) closes the circuit; healthy again */
	set_mode("ok");
	json_decref(it_call("PATCH", path, tok, "{\"enabled\":true}", 200));
	res = tool_call(exposed, "{\"x\":\"5\"}");
	assert_string_equal(it_first_text(res), "fake says 5");
	json_decref(res);
	j = it_call("GET", path, tok, NULL, 200);
	assert_string_equal(it_jstr(j, "status"), "healthy");
	json_decref(j);
	assert_int_equal(it_wait_status("/health", 200, 2000), 0);
}

static void
t_remote_change_back_to_review(void **st)
{
	char path[128], tpath[160], body[64];
	json_t *j, *t;
	size_t i;
	long long tid = 0, toolid, v, av;

	(void)st;
	/* the fake's t1 was imported from /mcp; the same source discovered
	 * again with an unchanged tool keeps the approval */
	j = it_callf("GET", tok, NULL, 200, "/api/v1/servers/%s/sources", sname);
	json_array_foreach(json_object_get(j, "items"), i, t)
		if (strcmp(it_jstr(t, "name"), "fake") == 0)
			tid = json_integer_value(json_object_get(t, "id"));
	json_decref(j);
	assert_true(tid > 0);
	snprintf(path, sizeof(path), "/api/v1/sources/%lld/discover", tid);
	j = it_call("POST", path, tok, NULL, 200);
	t = json_array_get(json_object_get(j, "tools"), 0);
	assert_true(json_is_true(json_object_get(t, "imported")));
	assert_true(json_is_false(json_object_get(t, "changed")));
	assert_string_equal(it_jstr(t, "status"), "approved");
	toolid = json_integer_value(json_object_get(t, "tool_id"));
	json_decref(j);
	assert_true(toolid > 0);
	/*
	 * The tool-versioning rule (lib/versions.c), for an imported tool: a
	 * local content change is a new version and sends it back to review
	 * even under approval_reset_on "code" (its behaviour lives on the
	 * remote, so its approval never survives a change).
	 */
	json_decref(it_call("PATCH", "/api/v1/settings", tok, "{\"approval_reset_on\":\"code\"}", 200));
	snprintf(tpath, sizeof(tpath), "/api/v1/tools/%lld", toolid);
	t = it_call("GET", tpath, tok, NULL, 200);
	v = json_integer_value(json_object_get(t, "current_version"));
	av = json_integer_value(json_object_get(t, "approved_version"));
	json_decref(t);
	assert_int_equal(av, v);
	t = it_call("PATCH", tpath, tok, "{\"description\":\"edited here\"}", 200);
	json_decref(it_call("PATCH", "/api/v1/settings", tok,
	    "{\"approval_reset_on\":\"code+description+schema\"}", 200));
	assert_string_equal(it_jstr(t, "status"), "pending_review");
	assert_int_equal(json_integer_value(json_object_get(t, "current_version")), v + 1);
	assert_int_equal(json_integer_value(json_object_get(t, "approved_version")), av);
	assert_true(json_is_false(json_object_get(t, "served")));
	json_decref(t);
	snprintf(tpath, sizeof(tpath), "/api/v1/tools/%lld/approve", toolid);
	snprintf(body, sizeof(body), "{\"version\":%lld}", v + 1);
	json_decref(it_call("POST", tpath, tok, body, 200));
	/* the remote changes the tool's description: back to review */
	assert_int_equal(it_sh("curl -s -o /dev/null -X POST -d '{\"description\":\"changed\"}'"
	    " http://127.0.0.1:%d/control", fake_port), 0);
	j = it_call("POST", path, tok, NULL, 200);
	t = json_array_get(json_object_get(j, "tools"), 0);
	assert_true(json_is_true(json_object_get(t, "changed")));
	assert_string_equal(it_jstr(t, "status"), "pending_review");
	json_decref(j);
	/* ...as a new version with the remote's content, the approved one kept
	 * (not served: an imported tool is served only while approved) */
	t = it_callf("GET", tok, NULL, 200, "/api/v1/tools/%lld", toolid);
	assert_int_equal(json_integer_value(json_object_get(t, "current_version")), v + 2);
	assert_int_equal(json_integer_value(json_object_get(t, "approved_version")), v + 1);
	assert_string_equal(it_jstr(t, "review_reason"), "the remote tool changed");
	assert_string_equal(it_jstr(t, "description"), "changed");
	json_decref(t);
	t = it_callf("GET", tok, NULL, 200, "/api/v1/tools/%lld/versions/%lld", toolid, v + 2);
	assert_string_equal(it_jstr(t, "description"), "changed");
	assert_string_equal(it_jstr(t, "change_summary"),
	    "remote description/schema changed (discover)");
	json_decref(t);
	{
		char exposed[128];

		snprintf(exposed, sizeof(exposed), "%s__fake_t1", sname);
		assert_false(listed(exposed));
	}
	/* delete the source: its imported tool goes too */
	snprintf(path, sizeof(path), "/api/v1/sources/%lld", tid);
	json_decref(it_call("DELETE", path, tok, NULL, 204));
	json_decref(it_call("GET", path, tok, NULL, 404));
}

/*
 * security (issue #14, finding 2): a developer could point a source that
 * is not internal somewhere else and the admin's credential went along.
 * Now a URL change of a source with a credential needs an admin (403), or
 * the credential goes away in the same change (auth_type "none").
 */
static void
t_dev_url_change_keeps_credential_home(void **st)
{
	char dev[4096], user[64], path[128];
	json_t *j;
	long long id;

	(void)st;
	snprintf(user, sizeof(user), "srcdev%ld", (long)getpid() % 100000);
	it_user_token(tok, user, "developer-pass-123", "developer", dev, sizeof(dev));
	id = create_source("credhome", "https://mcp.example.com/mcp", 0,
	    ",\"auth_type\":\"bearer\",\"credential\":\"" CRED "\"");
	snprintf(path, sizeof(path), "/api/v1/sources/%lld", id);
	assert_int_equal(it_status("PATCH", path, dev,
	    "{\"url\":\"https://attacker.example.net/mcp\"}"), 403);
	/* nor by switching the header the credential goes in */
	assert_int_equal(it_status("PATCH", path, dev,
	    "{\"url\":\"https://attacker.example.net/mcp\",\"auth_type\":\"header\","
	    "\"auth_header\":\"X-Api-Key\"}"), 403);
	j = it_call("GET", path, tok, NULL, 200);
	assert_string_equal(it_jstr(j, "url"), "https://mcp.example.com/mcp");
	assert_true(json_is_true(json_object_get(j, "has_credential")));
	json_decref(j);
	/* other edits stay the developer's */
	assert_int_equal(it_status("PATCH", path, dev, "{\"description\":\"dev words\"}"), 200);
	/* moving it while dropping the credential is fine */
	assert_int_equal(it_status("PATCH", path, dev,
	    "{\"url\":\"https://elsewhere.example.net/mcp\",\"auth_type\":\"none\"}"), 200);
	j = it_call("GET", path, tok, NULL, 200);
	assert_string_equal(it_jstr(j, "url"), "https://elsewhere.example.net/mcp");
	assert_true(json_is_false(json_object_get(j, "has_credential")));
	json_decref(j);
	/* an admin may move a source with its credential */
	json_decref(it_call("PATCH", path, tok, "{\"auth_type\":\"bearer\",\"credential\":\"" CRED "\"}",
	    200));
	json_decref(it_call("PATCH", path, tok, "{\"url\":\"https://mcp.example.com/v2/mcp\"}", 200));
	j = it_call("GET", path, tok, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "has_credential")));
	json_decref(j);
	json_decref(it_call("DELETE", path, tok, NULL, 204));
}

/*
 * security (issue #14, finding 3): an approved imported tool whose source
 * gets a new URL (or credential) was still served and the next call went
 * to the new server. Now it goes back to review and is not served.
 */
static void
t_endpoint_change_sends_imports_to_review(void **st)
{
	char url[256], path[128], exposed[128];
	json_t *j, *res;
	long long id, tid;

	(void)st;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", fake_port);
	id = create_source("moved", url, 1, NULL);
	tid = import_approved(id, "moved_t1");
	snprintf(exposed, sizeof(exposed), "%s__moved_t1", sname);
	set_mode("ok");
	assert_true(listed(exposed));
	res = tool_call(exposed, "{\"x\":\"1\"}");
	assert_string_equal(it_first_text(res), "fake says 1");
	json_decref(res);

	/* a new URL: back to review, not listed, not callable */
	snprintf(path, sizeof(path), "/api/v1/sources/%lld", id);
	snprintf(url, sizeof(url), "{\"url\":\"http://127.0.0.1:%d/mcp?moved=1\"}", fake_port);
	json_decref(it_call("PATCH", path, tok, url, 200));
	j = it_callf("GET", tok, NULL, 200, "/api/v1/tools/%lld", tid);
	assert_string_equal(it_jstr(j, "status"), "pending_review");
	assert_true(json_is_false(json_object_get(j, "served")));
	json_decref(j);
	assert_false(listed(exposed));
	{
		char body[256];

		snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":9001,\"method\":"
		    "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":{}}}", exposed);
		j = it_mcp_rpc(tok, mcp_sid, SRC_MCP_VERSION, body);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "error"),
		    "code")), -32602);
		json_decref(j);
	}
	/* approved again (same version: the content did not change) */
	it_callvf("POST", tok, "{\"version\":1}", 200, "/api/v1/tools/%lld/approve", tid);
	assert_true(listed(exposed));
	/* a new credential: back to review as well; other edits are not */
	json_decref(it_call("PATCH", path, tok, "{\"timeout_ms\":9000}", 200));
	assert_true(listed(exposed));
	json_decref(it_call("PATCH", path, tok, "{\"auth_type\":\"bearer\",\"credential\":\"" CRED "\"}",
	    200));
	assert_false(listed(exposed));
	json_decref(it_call("DELETE", path, tok, NULL, 204));
}

/* security (issue #14, finding 6): while a renamed tool waits for review
 * it is served under its approved name; an import may not take it. */
static void
t_import_cannot_take_a_served_name(void **st)
{
	char url[256];
	json_t *j;
	long long id, tid;

	(void)st;
	j = it_callf("POST", tok, "{\"name\":\"keepname\",\"code\":\"def main():\\n"
	    "    return 1\\n\"}", 201, "/api/v1/servers/%s/tools", sname);
	tid = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	it_callvf("POST", tok, "{}", 200, "/api/v1/tools/%lld/submit", tid);
	it_callvf("POST", tok, "{\"version\":1}", 200, "/api/v1/tools/%lld/approve", tid);
	it_callvf("PATCH", tok, "{\"name\":\"newname\"}", 200, "/api/v1/tools/%lld", tid);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", fake_port);
	id = create_source("namegrab", url, 1, NULL);
	it_callvf("POST", tok, "{\"tools\":[{\"name\":\"t1\",\"local_name\":"
	    "\"keepname\"}]}", 409, "/api/v1/sources/%lld/import", id);
	it_callvf("DELETE", tok, NULL, 204, "/api/v1/sources/%lld", id);
	it_callvf("DELETE", tok, NULL, 204, "/api/v1/tools/%lld", tid);
}

TG_TEST_MAIN("sources", group_setup, group_teardown, t_server,
    t_loopback_policy, t_everything_import_and_call, t_credential_never_leaks,
    t_rotate_key_covers_credentials, t_fake_discover_failures,
    t_fake_call_failures_and_breaker, t_remote_change_back_to_review,
    t_dev_url_change_keeps_credential_home,
    t_endpoint_change_sends_imports_to_review,
    t_import_cannot_take_a_served_name)
