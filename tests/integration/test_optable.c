/*
 * test_optable.c - the operation table (lib/ops.c) through the real stack:
 * one generic REST handler and the MCP management tools serve its rows,
 * and what the one-line handlers did before still holds: the ":id" target
 * is resolved before the body is checked (404 before 422), a secret's key
 * before its body, the body check names every field with the texts the
 * services used to produce, paging and query-string errors keep their
 * texts (lifecycle and identity pages differ), the Allow header lists a
 * path's methods in their old order, /ready needs no caller, and an MCP
 * body gets the same field check after its JSON Schema (2.0 is a schema
 * "integer", not a service one).
 *
 * Needs TG_BASE_URL and TG_ADMIN_USER/PASSWORD.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char admin_tok[4096];

/* A fresh name: prefix, then the time and the pid. */
static void
fresh(char *buf, size_t cap, const char *prefix)
{
	snprintf(buf, cap, "%s%ld%d", prefix, (long)time(NULL) % 100000, getpid() % 1000);
}

static int
setup(void **state)
{
	(void)state;
	return it_login_admin(admin_tok, sizeof(admin_tok));
}

/* The "field: message" list of a problem document's errors. */
static void
fields_of(const json_t *prob, char *buf, size_t cap)
{
	json_t *f;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(prob, "errors"), i, f) {
		int n = snprintf(buf + used, cap - used, "%s: %s\n",
		    it_jstr(f, "field"), it_jstr(f, "message"));

		assert_true(n > 0 && (size_t)n < cap - used);
		used += (size_t)n;
	}
}

static void
t_body_check(void **state)
{
	char path[128], got[1024];
	long long sid;
	json_t *p;

	(void)state;
	p = it_call("POST", "/api/v1/servers", admin_tok,
	    "{\"name\":1,\"bogus\":true,\"tool_prefix\":5}", 422);
	fields_of(p, got, sizeof(got));
	assert_string_equal(got, "name: must be a string\nbogus: unknown member\n"
				 "tool_prefix: must be a string or null\n");
	assert_string_equal(it_jstr(p, "detail"), "name: must be a string");
	json_decref(p);
	p = it_call("POST", "/api/v1/servers", admin_tok, "{}", 422);
	fields_of(p, got, sizeof(got));
	assert_string_equal(got, "name: is required\n");
	json_decref(p);
	p = it_call("POST", "/api/v1/validate", admin_tok, "[1]", 422);
	fields_of(p, got, sizeof(got));
	assert_string_equal(got, "body: must be a JSON object\n");
	json_decref(p);

	/* The target first: an unknown server is 404 whatever the body. */
	it_callv("PATCH", "/api/v1/servers/no-such-server-optable", admin_tok,
	    "{\"bogus\":1}", 404);
	/* An optional body that is absent is not checked; a present one is. */
	fresh(got, sizeof(got), "optable");
	sid = it_server_create(admin_tok, got, NULL);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/start", sid);
	it_callv("POST", path, admin_tok, NULL, 200);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/stop", sid);
	it_callv("POST", path, admin_tok, NULL, 200);
	/* A secret's key before its body: 404, not 422. */
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/secrets/9bad-key", sid);
	p = it_call("PUT", path, admin_tok, "{\"nope\":1}", 404);
	assert_string_equal(it_jstr(p, "detail"), "no secret '9bad-key'");
	json_decref(p);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld/secrets/GOOD_KEY", sid);
	p = it_call("PUT", path, admin_tok, "{\"nope\":1}", 422);
	fields_of(p, got, sizeof(got));
	assert_string_equal(got, "nope: unknown member\nvalue: is required\n");
	json_decref(p);
	snprintf(path, sizeof(path), "/api/v1/servers/%lld", sid);
	it_callv("DELETE", path, admin_tok, NULL, 204);
}

/* Refusals before any service runs, and their texts. */
static const struct {
	const char *method, *path, *body;
	long status;
	const char *detail;
} refusals[] = {
    {"GET", "/api/v1/servers?limit=0", NULL, 400, "limit must be an integer from 1 to 200"},
    {"GET", "/api/v1/servers?cursor=x", NULL, 400, "malformed cursor"},
    {"GET", "/api/v1/users?limit=500", NULL, 400, "limit must be an integer in 1..200"},
    {"GET", "/api/v1/api-keys?all=2", NULL, 400, "all must be 0 or 1"},
    {"GET", "/api/v1/audit?cursor=%zz", NULL, 400, "malformed query string"},
    {"POST", "/api/v1/import?keep_status=maybe", "{}", 400, "keep_status must be true or false"},
    {"GET", "/api/v1/users/0", NULL, 404, "no such user"},
    {"GET", "/api/v1/logs/x", NULL, 404, "no execution log with id 'x'"},
    {"POST", "/api/v1/module-requests/x/approve", NULL, 404, "no request with id 'x'"},
};

static void
t_query_texts(void **state)
{
	struct it_resp r;
	json_t *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		p = it_call(refusals[i].method, refusals[i].path, admin_tok,
		    refusals[i].body, refusals[i].status);
		assert_string_equal(it_jstr(p, "detail"), refusals[i].detail);
		json_decref(p);
	}
	/* Allow: a path's methods in table order. */
	assert_int_equal(it_get("PUT", "/api/v1/servers/1", admin_tok, &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(it_header(&r, "Allow"), "GET, PATCH, DELETE, OPTIONS");
	it_resp_free(&r);
	/* /ready needs no caller (an answer about readiness, never a 401);
	 * the operations behind it all do. */
	assert_int_not_equal(it_status("GET", "/ready", NULL, NULL), 401);
	assert_int_equal(it_status("GET", "/api/v1/servers", NULL, NULL), 401);
}

static void
t_mcp_body_check(void **state)
{
	char sid[256], name[64], args[256];
	long long tid;
	json_t *res;

	(void)state;
	fresh(name, sizeof(name), "optmcp");
	it_server_create(admin_tok, name, NULL);
	tid = it_tool_create(admin_tok, name, "t", "def main():\n    return 1\n", NULL);
	it_mcp_init(admin_tok, IT_MCP_VERSION, sid, sizeof(sid));
	/* The schema takes 2.0 as an integer; the body check does not. */
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"version\":2.0}", tid);
	res = it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_rollback_tool", args, NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "version: must be an integer"));
	json_decref(res);
	/* Past the schema, the arguments without the target are the body. */
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"version\":1}", tid);
	res = it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_rollback_tool", args, NULL);
	assert_null(json_object_get(res, "code"));
	assert_null(strstr(it_first_text(res), "must be"));
	json_decref(res);
	/* A delete answers {"deleted": true, "id": id} over MCP. */
	snprintf(args, sizeof(args), "{\"tool\":%lld}", tid);
	res = it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_delete_tool", args, NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	assert_true(json_is_true(json_object_get(json_object_get(res,
						     "structuredContent"),
	    "deleted")));
	assert_int_equal(it_jint(json_object_get(res, "structuredContent"), "id"), tid);
	json_decref(res);
	snprintf(args, sizeof(args), "{\"server\":\"%s\"}", name);
	res = it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_delete_server", args, NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	json_decref(res);
}

TG_TEST_MAIN("tests", setup, NULL, t_body_check, t_query_texts, t_mcp_body_check)
