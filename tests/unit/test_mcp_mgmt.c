/*
 * test_mcp_mgmt.c - schemas generated from field specs (lib/jschema.h)
 * and the management tools' table (lib/mcp_mgmt.c) without a database:
 * what each role sees, that every served inputSchema is portable (no
 * "type" arrays) and closed, that calls are validated against it, and
 * that a service refusal with field errors maps to an isError result
 * (under ASan and valgrind: without leaking it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unit.h"
#include "fcgi/request.h"
#include "lib/config.h"
#include "lib/jschema.h"
#include "lib/mcp_mgmt.h"
#include "lib/status.h"

static struct tg_config cfg;
static struct tg_ctx ctx = {&cfg, NULL, NULL};

static const struct tg_jfield item_obj[] = {
	{"name", .types = TG_JT_STRING, .required = 1},
	{"alias", .types = TG_JT_STRING},
	{NULL, .types = 0},
};
static const struct tg_jfield item = {NULL, .types = TG_JT_STRING | TG_JT_OBJECT,
	.props = item_obj};
static const struct tg_jfield spec[] = {
	{"ref", .types = TG_JT_STRING | TG_JT_INTEGER, .required = 1,
	 .description = "an id or a name"},
	{"name", .types = TG_JT_STRING, .pattern = "^[a-z]+$", .max_length = 8},
	{"mode", .types = TG_JT_STRING, .enums = "a|bc|d"},
	{"n", .types = TG_JT_INTEGER, .has_min = 1, .min = 0, .has_max = 1, .max = 5},
	{"opt", .types = TG_JT_OBJECT | TG_JT_NULL},
	{"list", .types = TG_JT_ARRAY, .required = 1, .min_items = 1, .items = &item},
	{NULL, .types = 0},
};

static void
t_schema_from_fields(void **state)
{
	json_error_t je;
	json_t *want, *got;

	(void)state;
	want = json_loads("{\"type\":\"object\",\"properties\":{"
	    "\"ref\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
	    "\"description\":\"an id or a name\"},"
	    "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":8},"
	    "\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"bc\",\"d\"]},"
	    "\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":5},"
	    "\"opt\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},"
	    "\"list\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"anyOf\":["
	    "{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{"
	    "\"name\":{\"type\":\"string\"},\"alias\":{\"type\":\"string\"}},"
	    "\"required\":[\"name\"],\"additionalProperties\":false}]}}},"
	    "\"required\":[\"ref\",\"list\"],\"additionalProperties\":false}", 0, &je);
	assert_non_null(want);
	got = tg_jschema_object(spec);
	assert_non_null(got);
	assert_true(json_equal(want, got));
	json_decref(want);
	json_decref(got);
}

/* Arguments are checked against the generated schema as against any. */
static void
t_schema_validates(void **state)
{
	const char *ok[] = {"{\"ref\":3,\"list\":[\"x\"]}",
		"{\"ref\":\"a\",\"list\":[{\"name\":\"x\"}],\"opt\":null,\"n\":5}", NULL};
	const char *bad[][2] = {
		{"{\"list\":[\"x\"]}", "$: missing required property \"ref\""},
		{"{\"ref\":true,\"list\":[\"x\"]}", "$.ref: matches none of anyOf"},
		{"{\"ref\":1,\"list\":[]}", "$.list: fewer than 1 items"},
		{"{\"ref\":1,\"list\":[{\"alias\":\"y\"}]}", "$.list[0]: matches none of anyOf"},
		{"{\"ref\":1,\"list\":[\"x\"],\"n\":6}", "$.n: must be <= 5"},
		{"{\"ref\":1,\"list\":[\"x\"],\"mode\":\"b\"}", "$.mode: must be one of the enum values"},
		{"{\"ref\":1,\"list\":[\"x\"],\"more\":1}", "$: unexpected property \"more\""},
	};
	json_t *s = tg_jschema_object(spec), *x;
	char why[256];
	size_t i;

	(void)state;
	assert_non_null(s);
	for (i = 0; ok[i]; i++) {
		x = json_loads(ok[i], 0, NULL);
		assert_int_equal(tg_mcp_schema_validate(s, x, why, sizeof(why)), 0);
		json_decref(x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = json_loads(bad[i][0], 0, NULL);
		assert_int_equal(tg_mcp_schema_validate(s, x, why, sizeof(why)),
		    -TG_E_UNPROCESSABLE);
		assert_string_equal(why, bad[i][1]);
		json_decref(x);
	}
	json_decref(s);
}

/* No "type" arrays anywhere (portable), every object closed or open on
 * purpose, every required member declared. */
static void
portable(const json_t *s)
{
	const char *k;
	json_t *v, *req;
	size_t i;

	if (json_is_array(s)) {
		json_array_foreach(s, i, v)
			portable(v);
		return;
	}
	if (!json_is_object(s))
		return;
	assert_false(json_is_array(json_object_get(s, "type")));
	if ((req = json_object_get(s, "required")) != NULL)
		json_array_foreach(req, i, v)
			assert_non_null(json_object_get(json_object_get(s, "properties"),
			    json_string_value(v)));
	json_object_foreach((json_t *)s, k, v)
		if (strcmp(k, "enum") != 0 && strcmp(k, "required") != 0)
			portable(v);
}

static size_t
listed(enum tg_role role, int authenticated, json_t **arr)
{
	struct tg_req req;
	struct tg_call c;

	memset(&req, 0, sizeof(req));
	req.ctx = &ctx;
	req.who.authenticated = authenticated;
	req.who.role = role;
	c = tg_req_call(&req);
	*arr = json_array();
	assert_non_null(*arr);
	assert_int_equal(tg_mcp_mgmt_list(&c, *arr), 0);
	return json_array_size(*arr);
}

static void
t_list_by_role(void **state)
{
	json_t *arr, *t, *s;
	size_t i, n;

	(void)state;
	assert_int_equal(listed(TG_ROLE_ADMIN, 0, &arr), 0);	/* anonymous */
	json_decref(arr);
	n = listed(TG_ROLE_VIEWER, 1, &arr);
	assert_int_equal(n, 11);
	json_array_foreach(arr, i, t)
		assert_true(json_is_true(json_object_get(json_object_get(t,
		    "annotations"), "readOnlyHint")));
	json_decref(arr);
	assert_int_equal(listed(TG_ROLE_DEVELOPER, 1, &arr), 28);
	json_decref(arr);
	n = listed(TG_ROLE_ADMIN, 1, &arr);
	assert_int_equal(n, 30); /* + the OAuth clients (list, delete), the package request (get) */
	json_array_foreach(arr, i, t) {
		s = json_object_get(t, "inputSchema");
		assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
		assert_true(json_is_false(json_object_get(s, "additionalProperties")));
		assert_true(json_object_size(json_object_get(s, "properties")) > 0);
		assert_non_null(json_string_value(json_object_get(t, "description")));
		portable(s);
		assert_int_equal(tg_mcp_mgmt_find(json_string_value(json_object_get(t,
		    "name"))), (int)i);
	}
	/* Built once: the same objects again. */
	t = json_array_get(arr, 0);
	json_decref(arr);
	listed(TG_ROLE_ADMIN, 1, &arr);
	assert_ptr_equal(json_array_get(arr, 0), t);
	json_decref(arr);
	assert_int_equal(tg_mcp_mgmt_find("toolgate_nope"), -1);
}

static int
call(enum tg_role role, const char *name, const char *args, json_t **result,
    struct tg_rpc_err *err)
{
	struct tg_mcp_call c;
	struct tg_call cc;
	struct tg_req req;
	json_t *a = args ? json_loads(args, 0, NULL) : NULL;
	int rc, i = tg_mcp_mgmt_find(name);

	assert_true(i >= 0);
	memset(&req, 0, sizeof(req));
	memset(&c, 0, sizeof(c));
	memset(err, 0, sizeof(*err));
	req.ctx = &ctx;
	req.who.authenticated = 1;
	req.who.role = role;
	cc = tg_req_call(&req);
	c.call = &cc;
	c.era = TG_MCP_ERA_2025;
	*result = NULL;
	rc = tg_mcp_mgmt_call(&c, i, a, result, err);
	json_decref(a);
	return rc;
}

static void
t_call_validation(void **state)
{
	struct tg_rpc_err err;
	json_t *r;

	(void)state;
	assert_int_equal(call(TG_ROLE_VIEWER, "toolgate_create_server",
	    "{\"name\":\"x\"}", &r, &err), -1);
	assert_int_equal(err.code, TG_RPC_INVALID_PARAMS);
	assert_string_equal(err.message, "Unknown tool: toolgate_create_server");
	tg_rpc_err_clear(&err);
	assert_int_equal(call(TG_ROLE_VIEWER, "toolgate_get_server", NULL, &r, &err), -1);
	assert_string_equal(err.message,
	    "Invalid arguments for toolgate_get_server: $: missing required property \"server\"");
	tg_rpc_err_clear(&err);
	assert_int_equal(call(TG_ROLE_VIEWER, "toolgate_get_tool",
	    "{\"tool\":1.5}", &r, &err), -1);
	assert_string_equal(err.message,
	    "Invalid arguments for toolgate_get_tool: $.tool: matches none of anyOf");
	tg_rpc_err_clear(&err);
	assert_int_equal(call(TG_ROLE_DEVELOPER, "toolgate_create_secret",
	    "{\"server\":\"s\",\"key\":\"K\",\"value\":\"v\"}", &r, &err), -1);
	assert_string_equal(err.message,
	    "Invalid arguments for toolgate_create_secret: $: unexpected property \"value\"");
	tg_rpc_err_clear(&err);
}

/* A service refusal (here before any database access: a bad server name)
 * is an isError result with the field errors, text and structured. */
static void
t_call_service_error(void **state)
{
	struct tg_rpc_err err;
	json_t *r, *e;

	(void)state;
	assert_int_equal(call(TG_ROLE_DEVELOPER, "toolgate_create_server",
	    "{\"name\":\"Bad Name\"}", &r, &err), 0);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "isError")));
	assert_int_equal(json_array_size(json_object_get(r, "content")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "content"), 0), "text")), "validation_failed"));
	e = json_object_get(json_object_get(r, "structuredContent"), "errors");
	assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0),
	    "field")), "name");
	/* The only reference: ASan and valgrind see a leak otherwise. */
	assert_int_equal(json_object_get(r, "structuredContent")->refcount, 1);
	json_decref(r);
	tg_rpc_err_clear(&err);
}

TG_TEST_MAIN("mcp_mgmt", NULL, NULL, t_schema_from_fields, t_schema_validates,
    t_list_by_role, t_call_validation, t_call_service_error)
