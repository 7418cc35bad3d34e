/*
 * test_catalog.c - the workers' tools/list cache never serves a stale
 * catalogue: approving a tool, stopping or starting its server and
 * revoking it show up in the very next tools/list, on every worker.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char admin[4096];

static char session_id[200];

static int
listed(const char *name)
{
	struct it_resp r;
	json_t *tools, *t;
	size_t i;
	int found = 0;

	it_mcp_post(admin, session_id, IT_MCP_VERSION,
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}", &r);
	assert_int_equal(r.status, 200);
	tools = json_object_get(json_object_get(r.json, "result"), "tools");
	assert_true(json_is_array(tools));
	json_array_foreach(tools, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
			found = 1;
	it_resp_free(&r);
	return found;
}

/* Every worker must agree: ask more often than there are workers. */
static void
expect_listed(const char *name, int want)
{
	int i;

	for (i = 0; i < 12; i++)
		assert_int_equal(listed(name), want);
}

static void
t_cache_follows_changes(void **state)
{
	struct it_resp r;
	long long sid, tid;
	char path[256];

	(void)state;
	assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
	it_mcp_init(admin, IT_MCP_VERSION, session_id, sizeof(session_id));

	sid = it_create_id(admin, "/api/v1/servers", "{\"name\":\"catalogtest\"}");
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/tools", sid);
	tid = it_create_id(admin, path, "{\"name\":\"echo\",\"code\":\"def main(text: str) -> str:\\n    return text\\n\"}");
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/start", sid);
	it_post_ok(admin, path, NULL);
	expect_listed("catalogtest__echo", 0); /* a draft is never served */

	snprintf(path, sizeof(path), "/api/v1/tools/%lld/submit", tid);
	it_post_ok(admin, path, NULL);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/approve", tid);
	it_post_ok(admin, path, "{\"reason\":\"ok\",\"version\":1}");
	expect_listed("catalogtest__echo", 1);

	snprintf(path, sizeof(path), "/api/v1/servers/%lld/stop", sid);
	it_post_ok(admin, path, NULL);
	expect_listed("catalogtest__echo", 0);

	snprintf(path, sizeof(path), "/api/v1/servers/%lld/start", sid);
	it_post_ok(admin, path, NULL);
	expect_listed("catalogtest__echo", 1);

	snprintf(path, sizeof(path), "/api/v1/tools/%lld/revoke", tid);
	it_post_ok(admin, path, "{\"reason\":\"gone\"}");
	expect_listed("catalogtest__echo", 0);

	/* Clean up. */
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/stop", sid);
	it_post_ok(admin, path, NULL);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld", sid);
	assert_int_equal(it_get("DELETE", path, admin, &r), 0);
	assert_int_equal(r.status, 204);
	it_resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cache_follows_changes),
	};
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
