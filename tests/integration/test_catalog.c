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
	json_t *t = it_mcp_tool(admin, session_id, IT_MCP_VERSION, name);

	json_decref(t);
	return t != NULL;
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
	long long sid, tid;

	(void)state;
	assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
	it_mcp_init(admin, IT_MCP_VERSION, session_id, sizeof(session_id));

	sid = it_server_create(admin, "catalogtest", NULL);
	tid = it_tool_create(admin, "catalogtest", "echo",
	    "def main(text: str) -> str:\n    return text\n", NULL);
	it_server_start(admin, sid);
	expect_listed("catalogtest__echo", 0); /* a draft is never served */

	it_tool_submit(admin, tid);
	it_act(admin, "tools", tid, "approve", "{\"reason\":\"ok\",\"version\":1}");
	expect_listed("catalogtest__echo", 1);

	it_act(admin, "servers", sid, "stop", NULL);
	expect_listed("catalogtest__echo", 0);

	it_server_start(admin, sid);
	expect_listed("catalogtest__echo", 1);

	it_act(admin, "tools", tid, "revoke", "{\"reason\":\"gone\"}");
	expect_listed("catalogtest__echo", 0);

	/* Clean up. */
	it_act(admin, "servers", sid, "stop", NULL);
	it_callvf("DELETE", admin, NULL, 204, "/api/v1/servers/%lld", sid);
}

TG_TEST_MAIN("catalog", NULL, NULL, t_cache_follows_changes)
