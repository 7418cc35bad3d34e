/*
 * test_layers.c - what the one service layer promises across transports
 * (issue 17, docs/api.md):
 *   - every timestamp in a REST or MCP JSON answer has one format, RFC 3339
 *     UTC with milliseconds and "Z" (there were three: to_char with
 *     milliseconds in identity, PostgreSQL's own "+00:00" with up to six
 *     fractional digits in lifecycle rows, whole seconds in the export);
 *   - the audit trail has one outcome word for an operation that happened,
 *     "ok", written by identity and lifecycle services alike (lifecycle
 *     wrote "success"); rows written with the old word keep verifying;
 *   - the CLI audits through the same services ("cli" as the actor).
 *
 * Needs TG_BASE_URL, TG_ADMIN_USER/PASSWORD and PG* (psql as the superuser).
 */
#include "tests/integration/it.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char admin_tok[4096];
static char suffix[32];
static long long server_id, tool_id;
static char server_name[64];

static int
group_setup(void **state)
{
	(void)state;
	snprintf(suffix, sizeof(suffix), "%ld%d", (long)time(NULL) % 100000, getpid() % 1000);
	if (it_login_admin(admin_tok, sizeof(admin_tok)) != 0)
		return -1;
	snprintf(server_name, sizeof(server_name), "layers%s", suffix);
	server_id = it_server_create(admin_tok, server_name, NULL);
	tool_id = it_tool_create(admin_tok, server_name, "stamp",
	    "def main():\n    return 1\n", "layers test tool");
	return server_id > 0 && tool_id > 0 ? 0 : -1;
}

/* 1 when s is exactly YYYY-MM-DDTHH:MM:SS.mmmZ. */
static int
rfc3339_ms(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	}
	return 1;
}

static int
time_key(const char *k)
{
	size_t n = strlen(k);

	return strcmp(k, "at") == 0 || (n > 3 && strcmp(k + n - 3, "_at") == 0) ||
	    (n > 6 && strcmp(k + n - 6, "_until") == 0);
}

/* Checks every timestamp under a time-like key of v (recursively): a
 * string in the one format, never a number (token_expires_at was epoch
 * seconds once); returns how many were checked. */
static int
check_times(const char *where, const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int n = 0;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			if (time_key(k) && json_is_number(x))
				fail_msg("%s: %s is a number, not an RFC 3339 string", where, k);
			if (time_key(k) && json_is_string(x)) {
				if (!rfc3339_ms(json_string_value(x)))
					fail_msg("%s: %s = \"%s\" is not RFC 3339 UTC with milliseconds",
					    where, k, json_string_value(x));
				n++;
			} else {
				n += check_times(where, x);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			n += check_times(where, x);
	}
	return n;
}

static int
check_get(const char *path)
{
	json_t *j = it_call("GET", path, admin_tok, NULL, 200);
	int n = check_times(path, j);

	json_decref(j);
	return n;
}

static void
t_timestamps_one_format(void **state)
{
	char path[256], body[512], sid[128];
	json_t *j, *res;
	int n = 0, before;

	(void)state;
	/* rows with timestamps of every service */
	snprintf(body, sizeof(body), "{\"key\":\"LAYERS_KEY\",\"value\":\"v%s\"}", suffix);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/secrets", server_id);
	j = it_call("POST", path, admin_tok, body, 201);
	n += check_times("POST secrets", j);
	json_decref(j);
	snprintf(body, sizeof(body), "{\"server_id\":%lld,\"host\":\"layers%s.example.org\","
				     "\"reason\":\"test\"}",
	    server_id, suffix);
	j = it_call("POST", "/api/v1/network-requests", admin_tok, body, 201);
	n += check_times("POST network-requests", j);
	json_decref(j);
	snprintf(body, sizeof(body), "{\"name\":\"layers%s\"}", suffix);
	j = it_call("POST", "/api/v1/api-keys", admin_tok, body, 201);
	n += check_times("POST api-keys", j);
	json_decref(j);

	/* lifecycle rows (they rendered "+00:00" with microseconds) */
	before = n;
	snprintf(path, sizeof(path), "/api/v1/servers/%lld", server_id);
	n += check_get(path);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld", tool_id);
	n += check_get(path);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/versions", tool_id);
	n += check_get(path);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/secrets", server_id);
	n += check_get(path);
	n += check_get("/api/v1/network-requests");
	n += check_get("/api/v1/servers");
	assert_true(n - before >= 8);
	/* identity rows */
	before = n;
	n += check_get("/api/v1/users");
	n += check_get("/api/v1/api-keys");
	n += check_get("/api/v1/audit?limit=20");
	assert_true(n - before >= 5);
	/* the session: token_expires_at */
	before = n;
	n += check_get("/api/v1/auth/me");
	assert_int_equal(n - before, 1);
	/* the export (exported_at had whole seconds) */
	j = it_call("GET", "/api/v1/export", admin_tok, NULL, 200);
	assert_true(rfc3339_ms(it_jstr(j, "exported_at")));
	assert_true(check_times("export", j) >= 3);
	json_decref(j);

	/* MCP: a management tool's structuredContent is the same service row */
	it_mcp_init(admin_tok, IT_MCP_VERSION, sid, sizeof(sid));
	snprintf(body, sizeof(body), "{\"tool\":%lld}", tool_id);
	res = it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_get_tool", body, NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	assert_true(check_times("toolgate_get_tool", json_object_get(res, "structuredContent")) >= 2);
	json_decref(res);
}

/* The outcome of the newest audit row for action and target. */
static void
last_outcome(const char *action, const char *target, char *out, size_t cap)
{
	char path[256];
	json_t *j, *items;

	snprintf(path, sizeof(path), "/api/v1/audit?action=%s&target=%s&limit=1",
	    action, target);
	j = it_call("GET", path, admin_tok, NULL, 200);
	items = json_object_get(j, "items");
	if (json_array_size(items) != 1)
		fail_msg("no audit row for %s %s", action, target);
	snprintf(out, cap, "%s", it_jstr(json_array_get(items, 0), "outcome"));
	json_decref(j);
}

static void
t_audit_outcome_one_word(void **state)
{
	char target[64], out[64], name[64], body[512];
	long long uid;
	json_t *j;

	(void)state;
	/* lifecycle (was "success") */
	snprintf(target, sizeof(target), "%lld", server_id);
	last_outcome("server.create", target, out, sizeof(out));
	assert_string_equal(out, "ok");
	snprintf(target, sizeof(target), "%lld", tool_id);
	last_outcome("tool.create", target, out, sizeof(out));
	assert_string_equal(out, "ok");
	snprintf(body, sizeof(body), "{\"description\":\"layers test tool, changed\"}");
	snprintf(name, sizeof(name), "/api/v1/tools/%lld", tool_id);
	json_decref(it_call("PATCH", name, admin_tok, body, 200));
	last_outcome("tool.update", target, out, sizeof(out));
	assert_string_equal(out, "ok");
	/* identity (already "ok") */
	snprintf(name, sizeof(name), "layersu%s", suffix);
	uid = it_user_create(admin_tok, name, "layers-test-password-1", "viewer");
	assert_true(uid > 0);
	snprintf(target, sizeof(target), "user:%lld", uid);
	last_outcome("user.create", target, out, sizeof(out));
	assert_string_equal(out, "ok");

	/* an old row with the old word (appended through the chain function,
	 * as the previous version did) keeps verifying next to new ones */
	assert_int_equal(it_sh("psql -X -q -c \"SELECT audit_append(NULL, 'layers-test',"
			       " 'admin', 'server.update', 'server:0', 'layers', 'local', 'success', NULL)\""
			       " >/dev/null"),
	    0);
	snprintf(name, sizeof(name), "/api/v1/tools/%lld", tool_id);
	json_decref(it_call("PATCH", name, admin_tok,
	    "{\"description\":\"layers test tool, again\"}", 200));
	j = it_call("GET", "/api/v1/audit/verify", admin_tok, NULL, 200);
	if (!json_is_true(json_object_get(j, "ok")))
		fail_msg("audit chain does not verify: %s", json_dumps(j, 0));
	json_decref(j);
}

TG_TEST_MAIN("layers", group_setup, NULL, t_timestamps_one_format,
    t_audit_outcome_one_word)
