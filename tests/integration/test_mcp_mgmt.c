/*
 * test_mcp_mgmt.c - the toolgate_* management tools added for secrets,
 * requests, status, pending queue, execution logs and external sources,
 * called through /mcp (nginx, real sessions) with each role: viewers see
 * and call only the read tools, developers cannot approve, secret values
 * never appear in any MCP or REST answer. Then the REST execution-log
 * endpoints (pagination, filters, 404s, redaction of arguments and of the
 * server's secret values in logged output) and the settings keys the
 * gateway reads (mcp_session_idle_seconds, log_max_bytes). Tools and
 * sources named by name (exposed name, server/tool, server/source), and
 * portable input schemas (no "type" arrays).
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CT "Content-Type: application/json"
#define ACC "Accept: application/json, text/event-stream"
#define SECRET_VALUE "sk-live-7f3a9c1e5b2d4e6f8a0b"
#define ARG_SECRET "pw-hunter2-argument"
/* A value that JSON escapes: the logged result holds it as q\"uo\\te-77. */
#define QUOTED_JSON "\"q\\\"uo\\\\te-77\""
#define QUOTED_ESCAPED "q\\\"uo\\\\te-77"

enum { ADMIN, DEV, VIEWER, NROLES };

struct who {
	char token[4096];
	char sid[128];
};

static struct who who[NROLES];
static char sname[64];		/* server of this run */
static long long server_id, tool_id;

static void
set_token(struct who *w)
{
	it_mcp_init(w->token, IT_MCP_VERSION, w->sid, sizeof(w->sid));
}

static int
setup(void **state)
{
	char user[64], pass[] = "it-mgmt-Passw0rd!";

	(void)state;
	if (it_login_admin(who[ADMIN].token, sizeof(who[ADMIN].token)) != 0)
		return -1;
	set_token(&who[ADMIN]);
	snprintf(user, sizeof(user), "itmgmtdev%ld", (long)getpid());
	it_user_token(who[ADMIN].token, user, pass, "developer", who[DEV].token,
	    sizeof(who[DEV].token));
	set_token(&who[DEV]);
	snprintf(user, sizeof(user), "itmgmtview%ld", (long)getpid());
	it_user_token(who[ADMIN].token, user, pass, "viewer", who[VIEWER].token,
	    sizeof(who[VIEWER].token));
	set_token(&who[VIEWER]);
	snprintf(sname, sizeof(sname), "itmgmt%ld", (long)getpid());
	/* the secret value never appears in a REST response */
	it_forbid(SECRET_VALUE);
	return 0;
}

/* tools/call; *raw (optional) gets the whole response body. Returns the
 * result, or the JSON-RPC error object (new reference). */
static json_t *
call_raw(struct who *w, const char *name, const char *args, char **raw)
{
	return it_mcp_call(w->token, w->sid, IT_MCP_VERSION, name, args, raw);
}

static json_t *
call(struct who *w, const char *name, const char *args)
{
	return call_raw(w, name, args, NULL);
}

/* A successful management call: its structuredContent (new reference). */
static json_t *
call_ok(struct who *w, const char *name, const char *args)
{
	json_t *res = call(w, name, args), *sc;

	if (json_is_true(json_object_get(res, "isError")) || json_object_get(res, "code")) {
		char *d = json_dumps(res, JSON_COMPACT);

		fprintf(stderr, "%s %s -> %s\n", name, args, d);
		free(d);
	}
	it_tool_ok(res);
	sc = json_object_get(res, "structuredContent");
	assert_non_null(sc);
	json_incref(sc);
	json_decref(res);
	return sc;
}

static void
assert_unknown_tool(struct who *w, const char *name, const char *args)
{
	json_t *res = call(w, name, args);

	assert_int_equal(json_integer_value(json_object_get(res, "code")), -32602);
	json_decref(res);
}

static void
assert_is_error(struct who *w, const char *name, const char *args)
{
	json_t *res = call(w, name, args);

	assert_true(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
}

static json_t *
tools_list(struct who *w)
{
	struct it_resp r;
	json_t *tools;

	it_mcp_post(w->token, w->sid, IT_MCP_VERSION, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r);
	assert_int_equal(r.status, 200);
	tools = json_object_get(json_object_get(r.json, "result"), "tools");
	assert_true(json_is_array(tools));
	json_incref(tools);
	it_resp_free(&r);
	return tools;
}

static json_t *
find_tool(json_t *tools, const char *name)
{
	json_t *t;
	size_t i;

	json_array_foreach(tools, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
			return t;
	return NULL;
}

/* The annotations of the listed tool name (which must be listed). */
static json_t *
annotations(json_t *tools, const char *name)
{
	json_t *t = find_tool(tools, name);

	if (t == NULL)
		fail_msg("%s is not listed", name);
	return json_object_get(t, "annotations");
}

static const char *const read_tools[] = {"toolgate_list_secrets",
	"toolgate_tool_status", "toolgate_list_pending_requests",
	"toolgate_tool_logs", "toolgate_list_sources", NULL};
static const char *const write_tools[] = {"toolgate_create_secret",
	"toolgate_request_module", "toolgate_request_network_access",
	"toolgate_add_source", "toolgate_discover_source_tools",
	"toolgate_import_source_tools", "toolgate_request_publish", NULL};

static void
t_list_by_role(void **state)
{
	json_t *tools, *t, *a;
	size_t i;

	(void)state;
	tools = tools_list(&who[VIEWER]);
	for (i = 0; read_tools[i]; i++)
		it_match(annotations(tools, read_tools[i]), "{\"readOnlyHint\":true}");
	for (i = 0; write_tools[i]; i++)
		assert_null(find_tool(tools, write_tools[i]));
	json_decref(tools);

	tools = tools_list(&who[DEV]);
	for (i = 0; write_tools[i]; i++) {
		a = annotations(tools, write_tools[i]);
		assert_true(json_is_false(json_object_get(a, "readOnlyHint")));
		assert_true(json_is_boolean(json_object_get(a, "destructiveHint")));
		assert_true(json_is_boolean(json_object_get(a, "idempotentHint")));
	}
	/* Every management tool: a description, a schema and annotations. */
	json_array_foreach(tools, i, t) {
		const char *n = json_string_value(json_object_get(t, "name"));

		if (strncmp(n, "toolgate_", 9) != 0)
			continue;
		assert_true(strlen(json_string_value(json_object_get(t, "description"))) > 20);
		assert_true(json_is_object(json_object_get(t, "inputSchema")));
		assert_true(json_is_object(json_object_get(t, "annotations")));
		/* Nobody approves through MCP. */
		assert_null(strstr(n, "approve"));
	}
	a = json_object_get(find_tool(tools, "toolgate_delete_tool"), "annotations");
	assert_true(json_is_true(json_object_get(a, "destructiveHint")));
	a = json_object_get(find_tool(tools, "toolgate_create_secret"), "annotations");
	assert_true(json_is_false(json_object_get(a, "destructiveHint")));
	a = json_object_get(find_tool(tools, "toolgate_discover_source_tools"), "annotations");
	assert_true(json_is_true(json_object_get(a, "openWorldHint")));
	json_decref(tools);

	/* A viewer calling a write tool by its exact name: unknown tool. */
	assert_unknown_tool(&who[VIEWER], "toolgate_create_secret",
	    "{\"server\":\"x\",\"key\":\"K\"}");
	assert_unknown_tool(&who[VIEWER], "toolgate_request_module", "{\"module\":\"xml\"}");
	assert_unknown_tool(&who[VIEWER], "toolgate_add_source",
	    "{\"server\":\"x\",\"name\":\"y\",\"url\":\"https://example.com/mcp\"}");
}

static void
t_secrets(void **state)
{
	json_t *o, *items, *it;
	char args[512], *raw = NULL;
	size_t i;
	int found = 0;

	(void)state;
	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", sname);
	o = call_ok(&who[DEV], "toolgate_create_server", args);
	server_id = json_integer_value(json_object_get(o, "id"));
	assert_true(server_id > 0);
	json_decref(o);

	/* A placeholder: a name without a value. */
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"key\":\"API_TOKEN\","
	    "\"description\":\"upstream API key\"}", sname);
	o = call_ok(&who[DEV], "toolgate_create_secret", args);
	assert_string_equal(json_string_value(json_object_get(o, "key")), "API_TOKEN");
	assert_true(json_is_false(json_object_get(o, "has_value")));
	assert_null(json_object_get(o, "value"));
	json_decref(o);
	/* Duplicate: a service error (409) as an isError result. */
	assert_is_error(&who[DEV], "toolgate_create_secret", args);
	/* A value cannot be passed through MCP, not even by an admin. */
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"key\":\"OTHER\","
	    "\"value\":\"x\"}", sname);
	assert_unknown_tool(&who[DEV], "toolgate_create_secret", args);
	o = call(&who[ADMIN], "toolgate_create_secret", args);
	assert_int_equal(json_integer_value(json_object_get(o, "code")), -32602);
	json_decref(o);
	/* Bad name: a field error. */
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"key\":\"1bad\"}", sname);
	assert_is_error(&who[DEV], "toolgate_create_secret", args);

	/* The admin sets the value over REST. */
	it_callvf("PUT", who[ADMIN].token, "{\"value\":\"" SECRET_VALUE "\"}", 200, "/api/v1/servers/%lld/secrets/API_TOKEN", server_id);
	it_callvf("PUT", who[ADMIN].token, "{\"value\":" QUOTED_JSON "}", 200, "/api/v1/servers/%lld/secrets/QUOTED", server_id);

	/* Names only, to every role; the value is nowhere in the answer. */
	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", sname);
	o = call_raw(&who[VIEWER], "toolgate_list_secrets", args, &raw);
	assert_null(strstr(raw, SECRET_VALUE));
	free(raw);
	items = json_object_get(json_object_get(o, "structuredContent"), "items");
	json_array_foreach(items, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "key")), "API_TOKEN") == 0) {
			found = 1;
			assert_true(json_is_true(json_object_get(it, "has_value")));
			assert_null(json_object_get(it, "value"));
		}
	}
	assert_true(found);
	json_decref(o);
	o = call_raw(&who[ADMIN], "toolgate_list_secrets", args, &raw);
	assert_null(strstr(raw, SECRET_VALUE));
	free(raw);
	json_decref(o);
	assert_is_error(&who[VIEWER], "toolgate_list_secrets", "{\"server\":\"no-such-server-x\"}");
}

static void
t_requests_and_status(void **state)
{
	json_t *o, *items, *it;
	char args[1024], mod[64];
	const char *kind;
	size_t i;
	int seen_tool = 0, seen_mod = 0, seen_net = 0;

	(void)state;
	/* A tool created through MCP is a draft. */
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"echo\",\"code\":"
	    "\"def main(q: str, password: str = '') -> dict:\\n"
	    "    print('token', SECRETS.get('API_TOKEN'))\\n"
	    "    if q == 'fail':\\n        raise ValueError('failed on purpose')\\n"
	    "    return {'q': q, 'seen': SECRETS.get('API_TOKEN'), 'quoted': SECRETS.get('QUOTED')}\\n\"}", sname);
	o = call_ok(&who[DEV], "toolgate_create_tool", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "draft");
	tool_id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);

	snprintf(args, sizeof(args), "{\"tool\":%lld}", tool_id);
	o = call_ok(&who[VIEWER], "toolgate_tool_status", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "draft");
	assert_true(json_is_false(json_object_get(o, "served")));
	assert_string_equal(json_string_value(json_object_get(o, "server_status")), "stopped");
	assert_non_null(strstr(json_string_value(json_object_get(o, "next_step")),
	    "toolgate_request_publish"));
	assert_null(json_object_get(o, "code"));
	json_decref(o);
	assert_is_error(&who[VIEWER], "toolgate_tool_status", "{\"tool\":999999999}");
	assert_is_error(&who[VIEWER], "toolgate_tool_status", "{\"tool\":\"abc\"}");

	/* Publish, module and network requests (developer; not viewer). */
	snprintf(args, sizeof(args), "{\"tool\":\"%lld\",\"note\":\"ready\"}", tool_id);
	assert_unknown_tool(&who[VIEWER], "toolgate_request_publish", args);
	o = call_ok(&who[DEV], "toolgate_request_publish", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "pending_review");
	json_decref(o);
	snprintf(mod, sizeof(mod), "itmgmt_mod_%ld", (long)getpid());
	snprintf(args, sizeof(args), "{\"module\":\"%s\",\"reason\":\"parse\","
	    "\"tool\":%lld}", mod, tool_id);
	o = call_ok(&who[DEV], "toolgate_request_module", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
	json_decref(o);
	assert_is_error(&who[DEV], "toolgate_request_module", "{\"module\":\"not a module\"}");
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"host\":\"api.example.com\","
	    "\"reason\":\"weather\"}", sname);
	o = call_ok(&who[DEV], "toolgate_request_network_access", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
	assert_string_equal(json_string_value(json_object_get(o, "host")), "api.example.com");
	json_decref(o);
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"host\":\"Bad Host\"}", sname);
	assert_is_error(&who[DEV], "toolgate_request_network_access", args);

	/* The pending queue (viewer). */
	o = call_ok(&who[VIEWER], "toolgate_list_pending_requests", "{\"limit\":200}");
	items = json_object_get(o, "items");
	json_array_foreach(items, i, it) {
		kind = json_string_value(json_object_get(it, "kind"));
		if (strcmp(kind, "tool") == 0 &&
		    json_integer_value(json_object_get(it, "id")) == tool_id)
			seen_tool = 1;
		if (strcmp(kind, "module_request") == 0 &&
		    strcmp(json_string_value(json_object_get(it, "module")), mod) == 0)
			seen_mod = 1;
		if (strcmp(kind, "network_request") == 0 &&
		    json_integer_value(json_object_get(it, "server_id")) == server_id)
			seen_net = 1;
	}
	assert_true(seen_tool && seen_mod && seen_net);
	json_decref(o);

	/* A developer cannot approve (REST 403; no MCP tool for it). */
	it_callvf("POST", who[DEV].token, "{\"version\":1}", 403, "/api/v1/tools/%lld/approve", tool_id);
	assert_unknown_tool(&who[DEV], "toolgate_approve_tool", "{}");
	it_callvf("POST", who[ADMIN].token, "{\"version\":1}", 200, "/api/v1/tools/%lld/approve", tool_id);

	snprintf(args, sizeof(args), "{\"tool\":%lld}", tool_id);
	o = call_ok(&who[DEV], "toolgate_tool_status", args);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "approved");
	assert_true(json_is_false(json_object_get(o, "served")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "next_step")),
	    "toolgate_start_server"));
	json_decref(o);
	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", sname);
	json_decref(call_ok(&who[DEV], "toolgate_start_server", args));
	snprintf(args, sizeof(args), "{\"tool\":%lld}", tool_id);
	o = call_ok(&who[VIEWER], "toolgate_tool_status", args);
	assert_true(json_is_true(json_object_get(o, "served")));
	json_decref(o);
}

static long long
log_ids(json_t *page, long long *ids, size_t cap)
{
	json_t *items = json_object_get(page, "items"), *it;
	size_t i;

	assert_true(json_is_array(items));
	json_array_foreach(items, i, it)
		if (i < cap)
			ids[i] = json_integer_value(json_object_get(it, "id"));
	return (long long)json_array_size(items);
}

/* The number of log items GET <path printed by fmt> returns (viewer). */
static long long __attribute__((format(printf, 1, 2)))
logs_at(const char *fmt, ...)
{
	char path[512];
	long long ids[8], n;
	json_t *page;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	page = it_call("GET", path, who[VIEWER].token, NULL, 200);
	n = log_ids(page, ids, 8);
	json_decref(page);
	return n;
}

static void
t_logs(void **state)
{
	json_t *o, *page, *it;
	char name[128], args[512], path[512], *raw = NULL;
	long long ids[8], more[8], one;
	const char *cur;
	int i;

	(void)state;
	assert_true(tool_id > 0);
	snprintf(name, sizeof(name), "%s__echo", sname);
	/* Three calls: two ok (one carries a sensitive argument), one error. */
	o = call(&who[DEV], name, "{\"q\":\"one\"}");
	it_tool_ok(o);
	json_decref(o);
	o = call(&who[DEV], name, "{\"q\":\"two\",\"password\":\"" ARG_SECRET "\"}");
	it_tool_ok(o);
	json_decref(o);
	o = call(&who[DEV], name, "{\"q\":\"fail\"}");
	assert_true(json_is_true(json_object_get(o, "isError")));
	json_decref(o);

	/* Pagination: 2 + 1, newest first, cursor round trip. */
	page = it_callf("GET", who[VIEWER].token, NULL, 200, "/api/v1/tools/%lld/logs?limit=2", tool_id);
	assert_int_equal(log_ids(page, ids, 8), 2);
	assert_true(ids[0] > ids[1]);
	cur = json_string_value(json_object_get(page, "next_cursor"));
	assert_non_null(cur);
	it = json_array_get(json_object_get(page, "items"), 0);
	assert_string_equal(json_string_value(json_object_get(it, "status")), "error");
	assert_non_null(strstr(json_string_value(json_object_get(it, "error")), "failed on purpose"));
	assert_string_equal(json_string_value(json_object_get(it, "tool_name")), name);
	assert_int_equal(json_integer_value(json_object_get(it, "tool_id")), tool_id);
	assert_null(json_object_get(it, "session_hash"));
	it = json_array_get(json_object_get(page, "items"), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(it,
	    "arguments"), "password")), "[REDACTED]");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/logs?limit=2&cursor=%s", tool_id, cur);
	json_decref(page);
	page = it_call("GET", path, who[VIEWER].token, NULL, 200);
	assert_int_equal(log_ids(page, more, 8), 1);
	assert_true(more[0] < ids[1]);
	assert_true(json_is_null(json_object_get(page, "next_cursor")));
	json_decref(page);

	/* Filters. */
	assert_int_equal(logs_at("/api/v1/tools/%lld/logs?status=error", tool_id), 1);
	assert_int_equal(logs_at("/api/v1/tools/%lld/logs?since=2000-01-01T00:00:00Z", tool_id), 3);
	assert_int_equal(logs_at("/api/v1/tools/%lld/logs?since=2999-01-01T00:00:00Z", tool_id), 0);
	it_callvf("GET", who[VIEWER].token, NULL, 422, "/api/v1/tools/%lld/logs?status=bogus", tool_id);
	it_callvf("GET", who[VIEWER].token, NULL, 422, "/api/v1/tools/%lld/logs?since=yesterday-ish", tool_id);
	it_callvf("GET", who[VIEWER].token, NULL, 400, "/api/v1/tools/%lld/logs?limit=0", tool_id);
	it_callvf("GET", who[VIEWER].token, NULL, 400, "/api/v1/tools/%lld/logs?cursor=abc", tool_id);

	/* By server (id or name). */
	assert_int_equal(logs_at("/api/v1/servers/%s/logs", sname), 3);
	page = it_callf("GET", who[VIEWER].token, NULL, 200, "/api/v1/servers/%lld/logs?status=ok&limit=1", server_id);
	assert_int_equal(log_ids(page, more, 8), 1);
	assert_non_null(json_string_value(json_object_get(page, "next_cursor")));
	json_decref(page);

	/* One log: output fields, and the secret the tool printed and
	 * returned is redacted (it_forbid: it appears in no REST response). */
	for (i = 0; i < 2; i++) {
		one = i == 0 ? ids[1] : more[0];
		snprintf(path, sizeof(path), "/api/v1/logs/%lld", one);
		o = it_call("GET", path, who[VIEWER].token, NULL, 200);
		assert_int_equal(json_integer_value(json_object_get(o, "id")), one);
		assert_true(json_is_string(json_object_get(o, "stdout")));
		assert_non_null(strstr(json_string_value(json_object_get(o, "stdout")), "[REDACTED]"));
		assert_non_null(strstr(json_string_value(json_object_get(o, "result")), "[REDACTED]"));
		json_decref(o);
	}
	o = it_callf("GET", who[VIEWER].token, NULL, 200, "/api/v1/logs/%lld", ids[1]);
	raw = json_dumps(o, 0);
	assert_non_null(raw);
	assert_null(strstr(raw, ARG_SECRET));
	assert_null(strstr(json_string_value(json_object_get(o, "result")), QUOTED_ESCAPED));
	assert_non_null(strstr(json_string_value(json_object_get(o, "result")),
	    "\"quoted\":\"[REDACTED]\""));
	free(raw);
	raw = NULL;
	json_decref(o);

	/* 404s and auth. */
	it_callv("GET", "/api/v1/tools/999999999/logs", who[VIEWER].token, NULL, 404);
	it_callv("GET", "/api/v1/servers/999999999/logs", who[VIEWER].token, NULL, 404);
	it_callv("GET", "/api/v1/servers/no-such-server-x/logs", who[VIEWER].token, NULL, 404);
	it_callv("GET", "/api/v1/logs/999999999", who[VIEWER].token, NULL, 404);
	it_callv("GET", "/api/v1/logs/abc", who[VIEWER].token, NULL, 404);
	{

		assert_int_equal(it_status("GET", "/api/v1/logs/1", NULL, NULL), 401);
	}

	/* The same rows through MCP (viewer). */
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"limit\":2}", tool_id);
	o = call_raw(&who[VIEWER], "toolgate_tool_logs", args, &raw);
	assert_null(strstr(raw, SECRET_VALUE));
	assert_null(strstr(raw, ARG_SECRET));
	free(raw);
	page = json_object_get(o, "structuredContent");
	assert_int_equal(log_ids(page, more, 8), 2);
	assert_int_equal(more[0], ids[0]);
	cur = json_string_value(json_object_get(page, "next_cursor"));
	assert_non_null(cur);
	snprintf(args, sizeof(args), "{\"tool\":\"%lld\",\"cursor\":\"%s\"}", tool_id, cur);
	json_decref(o);
	page = call_ok(&who[VIEWER], "toolgate_tool_logs", args);
	assert_int_equal(log_ids(page, more, 8), 1);
	json_decref(page);
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"status\":\"error\"}", tool_id);
	page = call_ok(&who[VIEWER], "toolgate_tool_logs", args);
	assert_int_equal(log_ids(page, more, 8), 1);
	json_decref(page);
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"status\":\"weird\"}", tool_id);
	assert_unknown_tool(&who[VIEWER], "toolgate_tool_logs", args);	/* -32602: enum */
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"since\":\"not a time\"}", tool_id);
	assert_is_error(&who[VIEWER], "toolgate_tool_logs", args);
	assert_is_error(&who[VIEWER], "toolgate_tool_logs", "{\"tool\":999999999}");
}

static void
t_sources(void **state)
{
	json_t *o, *items;
	char args[512];
	long long src;

	(void)state;
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"ext\",\"url\":"
	    "\"https://mcp.example.invalid/mcp\",\"credential\":\"x\"}", sname);
	assert_unknown_tool(&who[DEV], "toolgate_add_source", args);	/* not in the schema */
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"ext\",\"url\":"
	    "\"https://mcp.example.invalid/mcp\",\"timeout_ms\":2000,"
	    "\"connect_timeout_ms\":1000,\"description\":\"remote\"}", sname);
	o = call_ok(&who[DEV], "toolgate_add_source", args);
	src = json_integer_value(json_object_get(o, "id"));
	assert_true(src > 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "ext");
	json_decref(o);
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"bad\",\"url\":\"ftp://x\"}", sname);
	assert_is_error(&who[DEV], "toolgate_add_source", args);

	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", sname);
	o = call_ok(&who[VIEWER], "toolgate_list_sources", args);
	items = json_object_get(o, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), src);
	json_decref(o);

	/* Unreachable source: tool errors, not protocol errors. */
	snprintf(args, sizeof(args), "{\"source\":%lld}", src);
	assert_unknown_tool(&who[VIEWER], "toolgate_discover_source_tools", args);
	assert_is_error(&who[DEV], "toolgate_discover_source_tools", args);
	snprintf(args, sizeof(args), "{\"source\":%lld,\"tools\":[\"nope\"]}", src);
	assert_is_error(&who[DEV], "toolgate_import_source_tools", args);
	snprintf(args, sizeof(args), "{\"source\":%lld,\"tools\":[]}", src);
	assert_unknown_tool(&who[DEV], "toolgate_import_source_tools", args);	/* minItems */
	assert_is_error(&who[DEV], "toolgate_discover_source_tools", "{\"source\":999999999}");
}

/* The text of an isError result (fails the test unless it is one);
 * caller frees. */
static char *
error_text(struct who *w, const char *name, const char *args)
{
	json_t *res = call(w, name, args);
	const char *t;
	char *out;

	if (!json_is_true(json_object_get(res, "isError")))
		fprintf(stderr, "%s %s: expected an isError result\n", name, args);
	assert_true(json_is_true(json_object_get(res, "isError")));
	t = json_string_value(json_object_get(json_array_get(json_object_get(res,
	    "content"), 0), "text"));
	assert_non_null(t);
	out = strdup(t);
	json_decref(res);
	return out;
}

static long long
tool_id_of(struct who *w, const char *name, const char *args)
{
	json_t *o = call_ok(w, name, args);
	long long id = json_integer_value(json_object_get(o, "id"));

	json_decref(o);
	return id;
}

/* Management tool name called by w with the arguments printed by fmt: an
 * isError result whose text holds want (NULL: any text), or, with
 * lacks set, does not. */
static void __attribute__((format(printf, 5, 6)))
error_says(struct who *w, const char *name, const char *want, int lacks,
    const char *fmt, ...)
{
	char args[1024], *txt;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	txt = error_text(w, name, args);
	if (want != NULL && (strstr(txt, want) == NULL) != lacks)
		fail_msg("%s %s: error text '%s' %s '%s'", name, args, txt,
		    lacks ? "holds" : "lacks", want);
	free(txt);
}

/* The id of the tool the call name (arguments printed by fmt) returns. */
static long long __attribute__((format(printf, 3, 4)))
tool_idf(struct who *w, const char *name, const char *fmt, ...)
{
	char args[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return tool_id_of(w, name, args);
}

/* Issue #16: management tools named tools by numeric id only ("no tool
 * with id 'fib'"). A tool is also named by its exposed name or
 * <server>/<tool>, a source by <server>/<source>, as REST does. */
static void
t_names(void **state)
{
	char srv[48], srv2[64], pre[64], args[1024], path[256];
	long long sid, id, dup1, dup2;
	json_t *o;

	(void)state;
	snprintf(srv, sizeof(srv), "itnames%ld", (long)getpid());
	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", srv);
	o = call_ok(&who[DEV], "toolgate_create_server", args);
	sid = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"fib\",\"code\":"
	    "\"def main(n: int = 1):\\n    return n\\n\"}", srv);
	id = tool_id_of(&who[DEV], "toolgate_create_tool", args);
	assert_true(id > 0);

	/* Every accepted form names the same tool, for reads and writes. */
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":\"%s__fib\"}", srv), id);
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":\"%s/fib\"}", srv), id);
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_tool_status", "{\"tool\":\"%lld/fib\"}", sid), id);
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":\"%lld\"}", id), id);
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":%lld}", id), id);
	snprintf(args, sizeof(args), "{\"tool\":\"%s__fib\",\"description\":\"renamed by name\"}", srv);
	o = call_ok(&who[DEV], "toolgate_update_tool", args);
	assert_string_equal(json_string_value(json_object_get(o, "description")), "renamed by name");
	json_decref(o);
	snprintf(args, sizeof(args), "{\"tool\":\"%s/fib\",\"limit\":5}", srv);
	o = call_ok(&who[VIEWER], "toolgate_list_versions", args);
	assert_int_equal(json_array_size(json_object_get(o, "items")), 2);
	json_decref(o);

	/* Unknown names: a tool error that says which forms are accepted. */
	error_says(&who[VIEWER], "toolgate_get_tool", "no tool 'fib'", 0, "{\"tool\":\"fib\"}");
	error_says(&who[VIEWER], "toolgate_get_tool", "exposed name", 0, "{\"tool\":\"fib\"}");
	error_says(&who[VIEWER], "toolgate_get_tool", "no tool", 0, "{\"tool\":\"%s/nope\"}", srv);
	error_says(&who[VIEWER], "toolgate_get_tool", "no server 'no-such-server-q'", 0,
	    "{\"tool\":\"no-such-server-q/fib\"}");
	error_says(&who[VIEWER], "toolgate_get_tool", NULL, 0, "{\"tool\":\"/\"}");
	error_says(&who[VIEWER], "toolgate_get_tool", NULL, 0, "{\"tool\":\"\"}");
	memset(path, 'a', 200);
	path[200] = '\0';
	snprintf(args, sizeof(args), "{\"tool\":\"%s/%s\"}", path, path);
	assert_is_error(&who[VIEWER], "toolgate_get_tool", args);

	/* REST takes the exposed name too, through the same resolver. */
	o = it_callf("GET", who[VIEWER].token, NULL, 200, "/api/v1/tools/%s__fib", srv);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), id);
	json_decref(o);
	it_callv("GET", "/api/v1/tools/fib", who[VIEWER].token, NULL, 404);
	/* Bytes that are not UTF-8: 400 (issue 15); bytes no name has: a
	 * clear 404, never a database error. */
	it_callv("GET", "/api/v1/tools/%ff%fe", who[VIEWER].token, NULL, 400);
	it_callv("GET", "/api/v1/tools/a%20b", who[VIEWER].token, NULL, 404);
	it_callv("GET", "/api/v1/sources/%ff", who[VIEWER].token, NULL, 400);
	error_says(&who[VIEWER], "toolgate_get_tool", "no such tool", 0, "{\"tool\":\"caf\u00e9__x\"}");

	/* One exposed name on two stopped servers: ambiguous until one runs
	 * (then it is the tool MCP clients see under that name). */
	snprintf(pre, sizeof(pre), "itn%ldx_", (long)getpid());
	snprintf(srv2, sizeof(srv2), "%sb", srv);
	snprintf(args, sizeof(args), "{\"name\":\"%sa\",\"tool_prefix\":\"%s\"}", srv, pre);
	json_decref(call_ok(&who[DEV], "toolgate_create_server", args));
	snprintf(args, sizeof(args), "{\"name\":\"%s\",\"tool_prefix\":\"%s\"}", srv2, pre);
	json_decref(call_ok(&who[DEV], "toolgate_create_server", args));
	snprintf(args, sizeof(args), "{\"server\":\"%sa\",\"name\":\"dup\",\"code\":"
	    "\"def main():\\n    return 1\\n\"}", srv);
	dup1 = tool_id_of(&who[DEV], "toolgate_create_tool", args);
	snprintf(args, sizeof(args), "{\"server\":\"%s\",\"name\":\"dup\",\"code\":"
	    "\"def main():\\n    return 2\\n\"}", srv2);
	dup2 = tool_id_of(&who[DEV], "toolgate_create_tool", args);
	assert_true(dup1 > 0 && dup2 > 0 && dup1 != dup2);
	error_says(&who[VIEWER], "toolgate_get_tool", "<server>/<tool>", 0, "{\"tool\":\"%sdup\"}", pre);
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":\"%s/dup\"}", srv2), dup2);
	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", srv2);
	json_decref(call_ok(&who[DEV], "toolgate_start_server", args));
	assert_int_equal(tool_idf(&who[VIEWER], "toolgate_get_tool", "{\"tool\":\"%sdup\"}", pre), dup2);
	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", srv2);
	json_decref(call_ok(&who[DEV], "toolgate_stop_server", args));

	/* Sources by <server>/<source> (t_sources added "ext" to sname): the
	 * name resolves, so the error is the unreachable remote's. */
	error_says(&who[DEV], "toolgate_discover_source_tools", "no source", 1,
	    "{\"source\":\"%s/ext\"}", sname);
	error_says(&who[DEV], "toolgate_discover_source_tools", "no source", 0,
	    "{\"source\":\"%s/nope\"}", sname);
	error_says(&who[DEV], "toolgate_discover_source_tools", "<server>/<source>", 0,
	    "{\"source\":\"ext\"}");
}

/* No "type" arrays anywhere in a schema (the MCP Inspector's portability
 * lint; clients mapping schemas onto single-type dialects reject them). */
static int
has_type_array(json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 64)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (has_type_array(x, depth + 1))
				return 1;
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	if (json_is_array(json_object_get(v, "type")))
		return 1;
	json_object_foreach(v, k, x)
		if (has_type_array(x, depth + 1))
			return 1;
	return 0;
}

static void
t_portable_schemas(void **state)
{
	json_t *tools, *t;
	size_t i, n = 0;

	(void)state;
	tools = tools_list(&who[ADMIN]);
	json_array_foreach(tools, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));

		if (strncmp(name, "toolgate_", 9) != 0)
			continue;
		n++;
		if (has_type_array(json_object_get(t, "inputSchema"), 0))
			fprintf(stderr, "%s: inputSchema has a type array\n", name);
		assert_false(has_type_array(json_object_get(t, "inputSchema"), 0));
	}
	assert_true(n >= 20);
	json_decref(tools);
	/* Integers and null still validate through the anyOf branches. */
	json_decref(call_ok(&who[VIEWER], "toolgate_list_pending_requests", "{\"limit\":1}"));
	assert_unknown_tool(&who[VIEWER], "toolgate_get_tool", "{\"tool\":true}");
}

static void
t_settings_keys(void **state)
{
	json_t *o;

	(void)state;
	o = it_call("GET", "/api/v1/settings", who[VIEWER].token, NULL, 200);
	assert_true(json_is_integer(json_object_get(o, "mcp_session_idle_seconds")));
	assert_true(json_is_integer(json_object_get(o, "log_max_bytes")));
	json_decref(o);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":59}", 422);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":2592001}", 422);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":\"60\"}", 422);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"log_max_bytes\":255}", 422);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"log_max_bytes\":16777217}", 422);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"log_max_bytes\":1.5}", 422);
	it_callv("PATCH", "/api/v1/settings", who[DEV].token, "{\"log_max_bytes\":4096}", 403);
	o = it_call("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":60,\"log_max_bytes\":256}", 200);
	assert_int_equal(json_integer_value(json_object_get(o, "mcp_session_idle_seconds")), 60);
	assert_int_equal(json_integer_value(json_object_get(o, "log_max_bytes")), 256);
	json_decref(o);
	it_callv("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":2592000,\"log_max_bytes\":16777216}", 200);
	o = it_call("PATCH", "/api/v1/settings", who[ADMIN].token, "{\"mcp_session_idle_seconds\":3600,\"log_max_bytes\":16384}", 200);
	assert_int_equal(json_integer_value(json_object_get(o, "mcp_session_idle_seconds")), 3600);
	assert_int_equal(json_integer_value(json_object_get(o, "log_max_bytes")), 16384);
	json_decref(o);
}

TG_TEST_MAIN("mcp_mgmt", setup, NULL, t_list_by_role, t_secrets,
    t_requests_and_status, t_logs, t_sources, t_names, t_portable_schemas,
    t_settings_keys)
