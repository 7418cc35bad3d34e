/*
 * test_optable.c - the operation table (lib/ops.c) and what is made from
 * it, without a database: every row is well formed; the route table holds
 * one route per REST part with the flags and permission the row implies;
 * the body check (tg_jfields_check) reports exactly what the spec-string
 * check (tg_svc_check_object) reports; REST-only fields never reach an MCP
 * inputSchema, and an MCP tool's arguments are its target, its fields and
 * its page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unit.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "lib/config.h"
#include "lib/jschema.h"
#include "lib/mcp_mgmt.h"
#include "lib/ops.h"
#include "lib/status.h"
#include "lib/svc.h"

static void check_routes(void);

/* Exactly one service member; unique names; a REST pattern names its
 * target as ":id"; a paged operation takes no body; an MCP tool is
 * toolgate_*, with a description. */
static void
t_rows(void **state)
{
	const struct tg_op *a, *b;
	size_t i, j, n_mcp = 0;

	(void)state;
	assert_true(tg_ops_n > 0 && tg_ops_n <= TG_OPS_MAX);
	for (i = 0; i < tg_ops_n; i++) {
		a = &tg_ops[i];
		assert_true(tg_op_valid(a));
		assert_true(a->rest.method != NULL || a->mcp.name != NULL);
		for (j = i + 1; j < tg_ops_n; j++) {
			b = &tg_ops[j];
			assert_string_not_equal(a->name, b->name);
			if (a->mcp.name && b->mcp.name)
				assert_string_not_equal(a->mcp.name, b->mcp.name);
			if (a->rest.method && b->rest.method)
				assert_false(strcmp(a->rest.method, b->rest.method) == 0 &&
				    strcmp(a->rest.pattern, b->rest.pattern) == 0);
		}
		if (a->rest.method != NULL) {
			assert_true(a->target == TG_OT_NONE ||
			    strstr(a->rest.pattern, "/:id") != NULL);
			/* 202: answered before the package-job process's work */
			assert_true(a->rest.status == 200 || a->rest.status == 201 ||
			    a->rest.status == 204 || (a->rest.status == 202 && (strcmp(a->name, "packages.create") == 0 || strcmp(a->name, "packages.approve") == 0)));
			assert_true((a->rest.status == 204) == (a->del != NULL || strcmp(a->name, "sessions.logout") == 0 || strcmp(a->name, "secrets.delete") == 0));
			if (tg_op_paged(a))
				assert_int_equal(a->rest.max_body, 0);
			assert_true(a->perm != 0 || (a->rest.flags & TG_OPR_PUBLIC));
		}
		if (a->mcp.name != NULL) {
			n_mcp++;
			assert_int_equal(strncmp(a->mcp.name, "toolgate_", 9), 0);
			assert_non_null(a->mcp.description);
			assert_int_not_equal(a->perm, 0);
		}
	}
	assert_int_equal(n_mcp, 30);
	check_routes();
}

/* The route table: the fixed rows, then one route per REST part, served
 * by the operation's row. */
static void
check_routes(void)
{
	const struct tg_route *r;
	const struct tg_op *op;
	size_t n_ops = 0, i;

	for (r = tg_route_table(); r->method != NULL; r++) {
		if ((op = tg_route_op(r)) == NULL)
			continue;
		n_ops++;
		assert_string_equal(r->method, op->rest.method);
		assert_string_equal(r->pattern, op->rest.pattern);
		assert_int_equal(r->max_body, op->rest.max_body);
		assert_int_equal(r->perm, op->perm);
		assert_int_equal((r->flags & TG_R_AUTH) != 0,
		    !(op->rest.flags & TG_OPR_PUBLIC));
		assert_int_equal((r->flags & TG_R_JSON) != 0,
		    (op->rest.flags & TG_OPR_BODY) != 0);
		assert_int_equal((r->flags & TG_R_JSON_OPT) != 0,
		    (op->rest.flags & TG_OPR_BODY_OPT) != 0);
	}
	for (i = 0; i < tg_ops_n; i++)
		if (tg_ops[i].rest.method != NULL)
			n_ops--;
	assert_int_equal(n_ops, 0);
	/* Built once. */
	assert_ptr_equal(tg_route_table(), tg_route_table());
	/* /ready is public, the others need a caller. */
	for (r = tg_route_table(); r->method != NULL; r++)
		if (strcmp(r->pattern, "/ready") == 0)
			assert_int_equal(r->flags & TG_R_AUTH, 0);
}

/* Field errors of one check as "field: message" lines. */
static void
errors_of(const struct tg_err *e, char *buf, size_t cap)
{
	json_t *f;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(e->fields, i, f) {
		int n = snprintf(buf + used, cap - used, "%s: %s\n",
		    json_string_value(json_object_get(f, "field")),
		    json_string_value(json_object_get(f, "message")));

		assert_true(n > 0 && (size_t)n < cap - used);
		used += (size_t)n;
	}
}

/* tg_jfields_check and tg_svc_check_object agree, text for text. */
static void
t_check_texts(void **state)
{
	static const struct tg_jfield fields[] = {
	    {"name", .types = TG_JT_STRING, .required = 1},
	    {"prefix", .types = TG_JT_STRING | TG_JT_NULL},
	    {"schema", .types = TG_JT_OBJECT | TG_JT_NULL},
	    {"args", .types = TG_JT_OBJECT},
	    {"version", .types = TG_JT_INTEGER, .required = 1},
	    {"on", .types = TG_JT_BOOLEAN},
	    {"tools", .types = TG_JT_ARRAY},
	    {"ref", .types = 0, .required = 1},
	    {"mcp_only", .types = TG_JT_STRING, .required = 1, .only = TG_JF_MCP},
	    {"value", .types = TG_JT_STRING, .only = TG_JF_REST},
	    {NULL, .types = 0},
	};
	static const char *const spec =
	    "name:s!,prefix:S,schema:O,args:o,version:I!,on:b,tools:a,ref:*!,value:s";
	static const struct {
		const char *in;
		const char *want; /* field errors, "" when valid */
	} cases[] = {
	    {"{\"name\":\"a\",\"version\":1,\"ref\":[1]}", ""},
	    {"{\"name\":\"a\",\"version\":1,\"ref\":null,\"prefix\":null,"
	     "\"schema\":null,\"args\":{},\"on\":false,\"tools\":[],\"value\":\"v\"}",
		""},
	    {"[]", "body: must be a JSON object\n"},
	    {"{\"name\":1,\"bogus\":true,\"version\":2.0,\"mcp_only\":\"x\"}",
		"name: must be a string\nbogus: unknown member\n"
		"version: must be an integer\nmcp_only: unknown member\nref: is required\n"},
	    {"{\"prefix\":1,\"schema\":[],\"args\":null,\"on\":1,\"tools\":{},\"ref\":0}",
		"prefix: must be a string or null\nschema: must be an object or null\n"
		"args: must be an object\non: must be a boolean\ntools: must be an array\n"
		"name: is required\nversion: is required\n"},
	};
	struct tg_err a, b;
	char ta[1024], tb[1024];
	json_error_t je;
	json_t *in;
	size_t i;
	int ra, rb;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = json_loads(cases[i].in, 0, &je);
		assert_non_null(in);
		tg_err_init(&a);
		tg_err_init(&b);
		ra = tg_jfields_check(fields, in, &a);
		rb = tg_svc_check_object(in, spec, &b);
		errors_of(&a, ta, sizeof(ta));
		errors_of(&b, tb, sizeof(tb));
		assert_string_equal(ta, cases[i].want);
		assert_string_equal(tb, cases[i].want);
		assert_int_equal(ra, rb);
		assert_int_equal(ra, cases[i].want[0] ? -TG_E_UNPROCESSABLE : TG_OK);
		assert_string_equal(a.detail, b.detail);
		tg_err_clear(&a);
		tg_err_clear(&b);
		json_decref(in);
	}
}

static struct tg_config cfg;
static struct tg_ctx ctx = {&cfg, NULL, NULL};

/* Every tool's inputSchema: its target member (required), its fields
 * without the REST-only ones, limit/cursor when paged; never a secret
 * value, a source credential or "internal". */
static void
t_mcp_schemas(void **state)
{
	static const char *const never[] = {"value", "credential", "internal",
	    "transport", NULL};
	const struct tg_op *op;
	const struct tg_jfield *f;
	struct tg_req req;
	struct tg_call c;
	json_t *arr, *t, *props, *req_list;
	size_t i, k, n;
	int found, idx;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.ctx = &ctx;
	req.who.authenticated = 1;
	req.who.role = TG_ROLE_ADMIN;
	c = tg_req_call(&req);
	arr = json_array();
	assert_int_equal(tg_mcp_mgmt_list(&c, arr), 0);
	json_array_foreach(arr, i, t) {
		idx = -1;
		for (k = 0; k < tg_ops_n; k++)
			if (tg_ops[k].mcp.name && strcmp(tg_ops[k].mcp.name, json_string_value(json_object_get(t, "name"))) == 0)
				idx = (int)k;
		assert_true(idx >= 0);
		op = &tg_ops[idx];
		props = json_object_get(json_object_get(t, "inputSchema"), "properties");
		req_list = json_object_get(json_object_get(t, "inputSchema"), "required");
		for (k = 0; never[k]; k++)
			assert_null(json_object_get(props, never[k]));
		n = 0;
		if (tg_op_target_member(op->target) != NULL) {
			assert_non_null(json_object_get(props, tg_op_target_member(op->target)));
			assert_string_equal(json_string_value(json_array_get(req_list, 0)),
			    tg_op_target_member(op->target));
			n++;
		}
		for (f = op->fields; f && f->name; f++)
			if (!(f->only & TG_JF_REST)) {
				assert_non_null(json_object_get(props, f->name));
				n++;
			}
		if (tg_op_paged(op)) {
			assert_non_null(json_object_get(props, "limit"));
			assert_non_null(json_object_get(props, "cursor"));
			n += 2;
		}
		assert_int_equal(json_object_size(props), n);
		found = json_is_true(json_object_get(json_object_get(t, "annotations"),
		    "readOnlyHint"));
		assert_int_equal(found, (op->mcp.hints & TG_OPM_RO) != 0);
	}
	json_decref(arr);
}

TG_TEST_MAIN("optable", NULL, NULL, t_rows, t_check_texts, t_mcp_schemas)
