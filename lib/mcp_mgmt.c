/*
 * mcp_mgmt.c - the toolgate_* management tools (see mcp_mgmt.h): the MCP
 * side of the operation table (lib/ops.c).
 *
 * Every row of tg_ops[] with an MCP part is a tool: its name, annotations
 * and description come from the row, its permission bit lets a caller see
 * and call it, and its inputSchema is generated from the row's field
 * specs once per process: the target's member ("server", "tool",
 * "source"), the fields (those not marked REST-only), and limit/cursor
 * for an operation that takes a page. The same object is served in
 * tools/list and is what every call's arguments are validated against
 * (-32602 with the reason). A call then resolves the target, reads the
 * page, and runs the row's service call with the arguments (without the
 * target member) as the body: lib/ops.c runs it for REST alike.
 *
 * The service gets the caller's context (lib/call.h, built from the
 * request as REST builds it), so permission rules, validation and
 * audit are exactly those of REST. Service failures come back as isError
 * results whose text is "<status>: <detail>" (and the field errors), so a
 * model can correct itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jschema.h"
#include "lib/mcp_mgmt.h"
#include "lib/ops.h"
#include "lib/status.h"
#include "lib/svc.h"

/* A named input of an MCP call: a string argument. */
static const char *
mcp_arg(const struct tg_op_in *in, const char *name)
{
	return json_string_value(json_object_get((json_t *)in->ctx, name));
}

/* Copy of args without the member naming the target (new reference). */
static json_t *
body_of(json_t *args, const char *drop)
{
	json_t *c = json_copy(args);

	if (c != NULL)
		json_object_del(c, drop);
	return c;
}

/* Runs the operation of tool op with args (already valid against its
 * inputSchema). */
static int
mtool_run(const struct tg_op *op, const struct tg_call *c, json_t *args,
    json_t **out, struct tg_err *err)
{
	const char *member = tg_op_target_member(op->target);
	struct tg_op_in in = {op, c, 0, args, {0, NULL}, mcp_arg, args};
	json_t *l = json_object_get(args, "limit"), *cur = json_object_get(args, "cursor");
	char buf[24];
	int rc;

	if (tg_op_paged(op)) {
		in.page.limit = json_is_integer(l) ? json_integer_value(l) : 0;
		in.page.cursor = json_is_string(cur) ? json_string_value(cur) : NULL;
	}
	if (member != NULL &&
	    (rc = tg_op_resolve(c, op->target, tg_op_ref(json_object_get(args, member),
	    buf, sizeof(buf)), &in.id, err)) != TG_OK)
		return rc;
	if (member != NULL && (in.body = body_of(args, member)) == NULL)
		return -TG_E_NOMEM;
	/* A body also gets REST's field check: JSON Schema's "integer" takes
	 * 2.0, the services' integers do not. */
	rc = TG_OK;
	if (op->fields != NULL && (op->body != NULL || op->create != NULL))
		rc = tg_jfields_check(op->fields, in.body, err);
	if (rc == TG_OK)
		rc = tg_op_run(&in, out, err);
	if (member != NULL)
		json_decref(in.body);
	if (rc == TG_OK && op->del != NULL) {
		*out = json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)in.id);
		rc = *out ? TG_OK : -TG_E_NOMEM;
	}
	return rc;
}

/* The management tools are the rows of tg_ops[] with an MCP part; tool i
 * is the i-th of them (table order). NULL past the last. */
static const struct tg_op *
mtool(size_t i)
{
	size_t k;

	for (k = 0; k < tg_ops_n; k++)
		if (tg_ops[k].mcp.name != NULL && i-- == 0)
			return &tg_ops[k];
	return NULL;
}

int
tg_mcp_mgmt_find(const char *name)
{
	size_t k;
	int i = 0;

	for (k = 0; k < tg_ops_n; k++) {
		if (tg_ops[k].mcp.name == NULL)
			continue;
		if (strcmp(tg_ops[k].mcp.name, name) == 0)
			return i;
		i++;
	}
	return -1;
}

/* The inputSchema of tool i, generated from its field specs on first
 * use; tools/list serves it and tools/call validates against it. Never
 * freed (it lives as long as the process). NULL on OOM or for a bad row. */
static const json_t *
schema_of(size_t i)
{
	static json_t *schema[TG_OPS_MAX];
	const struct tg_op *op = mtool(i);
	const struct tg_jfield *target = tg_op_target_fields(op->target);
	json_t *o;

	if (schema[i] != NULL || !tg_op_valid(op))
		return schema[i];
	if ((o = json_pack("{s:s, s:{}}", "type", "object", "properties")) == NULL)
		return NULL;
	if ((target != NULL && tg_jschema_add(o, target) != TG_OK) ||
	    (op->fields != NULL && tg_jschema_add(o, op->fields) != TG_OK) ||
	    (tg_op_paged(op) && tg_jschema_add(o, tg_op_page_fields()) != TG_OK) ||
	    json_object_set_new(o, "additionalProperties", json_false()) != 0) {
		json_decref(o);
		return NULL;
	}
	schema[i] = o;
	return o;
}

static json_t *
mtool_json(size_t i)
{
	const struct tg_op_mcp *m = &mtool(i)->mcp;
	const json_t *schema = schema_of(i);

	if (schema == NULL)
		return NULL;
	if (m->hints & TG_OPM_RO)
		return json_pack("{s:s, s:s, s:O, s:{s:b, s:b}}", "name", m->name,
		    "description", m->description, "inputSchema", schema,
		    "annotations", "readOnlyHint", 1, "openWorldHint",
		    (m->hints & TG_OPM_OPEN) != 0);
	return json_pack("{s:s, s:s, s:O, s:{s:b, s:b, s:b, s:b}}", "name", m->name,
	    "description", m->description, "inputSchema", schema, "annotations",
	    "readOnlyHint", 0, "destructiveHint", (m->hints & TG_OPM_DESTRUCTIVE) != 0,
	    "idempotentHint", (m->hints & TG_OPM_IDEMPOTENT) != 0, "openWorldHint",
	    (m->hints & TG_OPM_OPEN) != 0);
}

static json_t *
svc_error_result(struct tg_err *err, int rc)
{
	char msg[1024];
	json_t *out;
	int st = err->status ? err->status : (rc < 0 ? -rc : rc);

	snprintf(msg, sizeof(msg), "%s: %s", tg_status_name(st),
	    err->detail[0] ? err->detail : tg_status_title(st));
	out = tg_mcp_text_result(msg, 1);
	if (out && err->fields) {
		char *f = json_dumps(err->fields, JSON_COMPACT);

		if (f) {
			json_array_append_new(json_object_get(out, "content"),
			    json_pack("{s:s, s:s}", "type", "text", "text", f));
			free(f);
		}
		json_object_set_new(out, "structuredContent",
		    json_pack("{s:s, s:s, s:O}", "error", tg_status_name(st), "detail",
		    err->detail, "errors", err->fields));
	}
	return out;
}

static int
mtool_call(const struct tg_mcp_call *c, size_t i, json_t *args,
    json_t **result, struct tg_rpc_err *rerr)
{
	const struct tg_op *op = mtool(i);
	const json_t *schema = schema_of(i);
	const struct tg_call *call = c->call;
	struct tg_err err;
	json_t *out = NULL, *empty = NULL;
	char why[256], *text = NULL;
	int rc;

	tg_err_init(&err);
	if (args == NULL)
		args = empty = json_object();
	if (schema == NULL || args == NULL) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "internal error");
		goto out;
	}
	if (tg_mcp_schema_validate(schema, args, why, sizeof(why)) != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS,
		    "Invalid arguments for %s: %s", op->mcp.name, why);
		goto out;
	}
	rc = mtool_run(op, call, args, &out, &err);
	if (rc != TG_OK) {
		*result = svc_error_result(&err, rc);
	} else {
		text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		*result = text ? tg_mcp_text_result(text, 0) : NULL;
		if (*result && json_is_object(out))
			json_object_set(*result, "structuredContent", out);
	}
	rc = *result ? 0 : tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
out:
	free(text);
	json_decref(out);
	json_decref(empty);
	tg_err_clear(&err);
	return rc;
}

/* The descriptors, built on first use (never freed: they live as long as
 * the process, and tools/list hands them out shared). */
static json_t *desc[TG_OPS_MAX];

int
tg_mcp_mgmt_list(const struct tg_call *c, json_t *arr)
{
	const struct tg_op *op;
	size_t i;

	for (i = 0; (op = mtool(i)) != NULL; i++) {
		if (!tg_call_can(c, op->perm))
			continue;
		if (desc[i] == NULL && (desc[i] = mtool_json(i)) == NULL)
			return -TG_E_NOMEM;
		if (json_array_append(arr, desc[i]) != 0)
			return -TG_E_NOMEM;
	}
	return TG_OK;
}

int
tg_mcp_mgmt_call(const struct tg_mcp_call *c, int i, json_t *args,
    json_t **result, struct tg_rpc_err *err)
{
	const struct tg_call *call = c->call;
	const struct tg_op *op = mtool((size_t)i);

	if (op == NULL || !tg_call_can(call, op->perm))
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS, "Unknown tool: %s",
		    op ? op->mcp.name : "");
	return mtool_call(c, (size_t)i, args, result, err);
}
