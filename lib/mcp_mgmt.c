/*
 * mcp_mgmt.c - the toolgate_* management tools (see mcp_mgmt.h).
 *
 * One description per operation: a row of mtools[] gives the tool's name,
 * the permission bit that lets a caller see and call it, its annotations, its
 * description, its arguments as field specs (lib/jschema.h) and the
 * service function (lib/svc.h) it calls, with the shape of that call
 * (by id, with a body, paged, delete, or its own adapter). The
 * inputSchema served in tools/list and the schema every call's arguments
 * are checked against are one object, generated from the field specs
 * once per process. Adding a tool is one row (plus an adapter when no
 * shape fits).
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

#include "lib/approvals.h"
#include "lib/execlog.h"
#include "lib/jschema.h"
#include "lib/logs.h"
#include "lib/mcp_mgmt.h"
#include "lib/packages.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/status.h"
#include "lib/svc.h"
#include "lib/tools.h"

/* The shapes of the service calls (lib/svc.h) a tool's row may name. */
typedef int (*mfn)(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err);
typedef int (*list_fn)(const struct tg_call *, const struct tg_page *, json_t **,
    struct tg_err *);
typedef int (*id_fn)(const struct tg_call *, int64_t, json_t **, struct tg_err *);
typedef int (*body_fn)(const struct tg_call *, int64_t, json_t *, json_t **,
    struct tg_err *);
typedef int (*page_fn)(const struct tg_call *, int64_t, const struct tg_page *,
    json_t **, struct tg_err *);
typedef int (*delete_fn)(const struct tg_call *, int64_t, struct tg_err *);

/* Tool annotations (MCP ToolAnnotations): readOnlyHint; for the others,
 * destructiveHint and idempotentHint; openWorldHint. */
#define MH_RO 0x1
#define MH_DESTRUCTIVE 0x2
#define MH_IDEMPOTENT 0x4
#define MH_OPEN 0x8

static int
page_of(json_t *args, struct tg_page *pg)
{
	json_t *l = json_object_get(args, "limit"), *c = json_object_get(args, "cursor");

	pg->limit = json_is_integer(l) ? json_integer_value(l) : 0;
	pg->cursor = json_is_string(c) ? json_string_value(c) : NULL;
	return TG_OK;
}

/* What a management tool acts on, and the member of its arguments that
 * names it: a server (name or id), a tool (id, exposed name or
 * server/tool) or a source (id or server/source), resolved as REST does. */
enum target { T_SERVER, T_TOOL, T_SOURCE };
static const char *const target_member[] = {"server", "tool", "source"};

static int
target_id(const struct tg_call *c, json_t *args, enum target t, int64_t *id,
    struct tg_err *err)
{
	json_t *v = json_object_get(args, target_member[t]);
	const char *ref = json_string_value(v);
	char buf[24];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		ref = buf;
	}
	if (t == T_SERVER)
		return tg_servers_resolve(c, ref, id, err);
	if (t == T_TOOL)
		return tg_tools_resolve(c, ref, id, err);
	return tg_sources_resolve(c, ref, id, err);
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

/* A management tool: what tools/list shows and what tools/call runs.
 * Exactly one of the service members is set; all but fn and list first
 * resolve the target named by the member target_member[target]. */
struct mtool {
	const char *name;
	unsigned perm;		/* TG_P_*: who sees and may call it */
	unsigned hints;		/* MH_* */
	const char *description;
	const struct tg_jfield *args;	/* the inputSchema's members */
	enum target target;
	mfn fn;			/* its own adapter: gets the arguments */
	list_fn list;		/* a page (limit, cursor), no target */
	id_fn by_id;		/* the target's id */
	body_fn body;		/* the id and the arguments without the target */
	page_fn paged;		/* the id and a page */
	delete_fn del;		/* the id; answers {"deleted": true, "id": id} */
};

/* Runs the service call of m with args (already valid against its
 * inputSchema). */
static int
mtool_run(const struct mtool *m, const struct tg_call *c, json_t *args,
    json_t **out, struct tg_err *err)
{
	struct tg_page pg;
	json_t *in;
	int64_t id;
	int rc;

	if (m->fn != NULL)
		return m->fn(c, args, out, err);
	page_of(args, &pg);
	if (m->list != NULL)
		return m->list(c, &pg, out, err);
	if ((rc = target_id(c, args, m->target, &id, err)) != TG_OK)
		return rc;
	if (m->by_id != NULL)
		return m->by_id(c, id, out, err);
	if (m->paged != NULL)
		return m->paged(c, id, &pg, out, err);
	if (m->del != NULL) {
		if ((rc = m->del(c, id, err)) != TG_OK)
			return rc;
		*out = json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id);
		return *out ? TG_OK : -TG_E_NOMEM;
	}
	if ((in = body_of(args, target_member[m->target])) == NULL)
		return -TG_E_NOMEM;
	rc = m->body(c, id, in, out, err);
	json_decref(in);
	return rc;
}

/* --- adapters: tools whose arguments fit no shape above ---------------- */

static int
m_list_tools(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(c, args, T_SERVER, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return tg_tools_list(c, id, json_string_value(json_object_get(args, "status")),
	    &pg, out, err);
}

static int
m_list_secrets(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK ||
	    (rc = target_id(c, args, T_SERVER, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return tg_secrets_list(c, id, &pg, out, err);
}

/* toolgate_request_module with "package": a package request
 * (lib/packages.h), resolved at once; the result is the review document. */
static int
m_request_package(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	static const char *const copy[] = {"version", "import_names", "reason"};
	json_t *in;
	int64_t sid, tid;
	size_t i;
	int rc;

	if (json_object_get(args, "server") == NULL)
		return tg_err_field(err, "server", "a package is requested for one"
		    " server: name it");
	if (json_object_get(args, "module") != NULL)
		return tg_err_field(err, "module", "give either module or package");
	if ((rc = target_id(c, args, T_SERVER, &sid, err)) != TG_OK)
		return rc;
	in = json_pack("{s:I, s:O}", "server_id", (json_int_t)sid, "name",
	    json_object_get(args, "package"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = TG_OK;
	for (i = 0; i < sizeof(copy) / sizeof(copy[0]) && rc == TG_OK; i++)
		if (json_object_get(args, copy[i]) != NULL &&
		    json_object_set(in, copy[i], json_object_get(args, copy[i])) != 0)
			rc = -TG_E_NOMEM;
	if (rc == TG_OK && json_object_get(args, "tool") != NULL &&
	    (rc = target_id(c, args, T_TOOL, &tid, err)) == TG_OK &&
	    json_object_set_new(in, "tool_id", json_integer((json_int_t)tid)) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK)
		rc = tg_packages_create(c, in, out, err);
	json_decref(in);
	return rc;
}

static int
m_request_module(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	json_t *in, *reason = json_object_get(args, "reason");
	int64_t tid;
	int rc;

	/* packages: a third-party distribution for one server */
	if (json_object_get(args, "package") != NULL)
		return m_request_package(c, args, out, err);
	if (json_object_get(args, "module") == NULL)
		return tg_err_field(err, "module", "give module (an allow-list entry)"
		    " or package (a third-party distribution, with server)");
	in = json_pack("{s:O}", "module", json_object_get(args, "module"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = TG_OK;
	if (reason != NULL && json_object_set(in, "reason", reason) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK && json_object_get(args, "tool") != NULL &&
	    (rc = target_id(c, args, T_TOOL, &tid, err)) == TG_OK &&
	    json_object_set_new(in, "tool_id", json_integer((json_int_t)tid)) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK)
		rc = tg_module_requests_create(c, in, out, err);
	json_decref(in);
	return rc;
}

static int
m_request_network(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	json_t *in;
	int rc;

	/* The service resolves server_id as an id or a name. */
	in = json_pack("{s:O, s:O, s:O*}", "server_id", json_object_get(args, "server"),
	    "host", json_object_get(args, "host"), "reason", json_object_get(args, "reason"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = tg_network_requests_create(c, in, out, err);
	json_decref(in);
	return rc;
}

/* What to do next, for a model reading toolgate_tool_status. */
static const char *
next_step(const char *status, int served, const char *server_status)
{
	if (strcmp(status, "draft") == 0)
		return "Draft: test it with toolgate_test_tool, then submit it with toolgate_request_publish.";
	if (strcmp(status, "pending_review") == 0 && served)
		return "Pending review: MCP clients still get the approved version (served_version) until an admin approves or rejects the current one.";
	if (strcmp(status, "pending_review") == 0)
		return "Pending review: wait for an admin to approve or reject it (toolgate_list_pending_requests shows the queue).";
	if (strcmp(status, "rejected") == 0)
		return "Rejected (see review_reason): change it with toolgate_update_tool (it goes back to draft), then toolgate_request_publish.";
	if (served)
		return "Approved and served: MCP clients can call it under exposed_name.";
	if (server_status && strcmp(server_status, "running") != 0)
		return "Approved but not served: start its server with toolgate_start_server.";
	return "Approved but not served right now.";
}

static int
m_tool_status(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	static const char *const keep[] = {"id", "name", "exposed_name", "server_id",
		"server_name", "status", "current_version", "approved_version",
		"review_reason", "reviewed_at", "served", "served_version", "updated_at",
		NULL};
	json_t *t = NULL, *s = NULL, *o = NULL, *v;
	const char *st, *sst;
	int64_t id;
	int rc, i;

	if ((rc = target_id(c, args, T_TOOL, &id, err)) != TG_OK ||
	    (rc = tg_tools_get(c, id, &t, err)) != TG_OK)
		goto out;
	v = json_object_get(t, "server_id");
	if ((rc = tg_servers_get(c, json_is_integer(v) ? json_integer_value(v) : 0,
	    &s, err)) != TG_OK)
		goto out;
	if ((o = json_object()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (i = 0; keep[i]; i++)
		if ((v = json_object_get(t, keep[i])) != NULL &&
		    json_object_set(o, keep[i], v) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	st = json_string_value(json_object_get(t, "status"));
	sst = json_string_value(json_object_get(s, "status"));
	if (json_object_set_new(o, "server_status", sst ? json_string(sst) : json_null()) != 0 ||
	    json_object_set_new(o, "next_step", json_string(next_step(st ? st : "",
	    json_is_true(json_object_get(t, "served")), sst))) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(t);
	json_decref(s);
	json_decref(o);
	return rc;
}

static int
m_tool_logs(const struct tg_call *c, json_t *args, json_t **out,
    struct tg_err *err)
{
	struct tg_logs_filter f;
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(c, args, T_TOOL, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	f.status = json_string_value(json_object_get(args, "status"));
	f.since = json_string_value(json_object_get(args, "since"));
	return tg_logs_list_tool(c, id, &f, &pg, out, err);
}

/* --- arguments, as field specs (lib/jschema.h) ------------------------- */

#define T_STR .types = TG_JT_STRING
#define T_INT .types = TG_JT_INTEGER
#define T_BOOL .types = TG_JT_BOOLEAN
#define T_ARRAY .types = TG_JT_ARRAY
#define T_OBJ .types = TG_JT_OBJECT
#define T_ID .types = TG_JT_STRING | TG_JT_INTEGER	/* an id or a name */
#define T_STR_NULL .types = TG_JT_STRING | TG_JT_NULL
#define T_OBJ_NULL .types = TG_JT_OBJECT | TG_JT_NULL
#define REQ .required = 1
#define DESC(d) .description = (d)
#define RANGE(lo, hi) .has_min = 1, .min = (lo), .has_max = 1, .max = (hi)
#define END {NULL, .types = 0}

#define NAME_RE "^[a-z0-9][a-z0-9_-]{0,47}$"
#define F_SERVER {"server", T_STR, REQ, DESC("server name or id")}
#define F_TOOL {"tool", T_ID, REQ, DESC("the tool: its id, its exposed name" \
	" (<server>__<tool>, as in tools/list) or <server>/<tool>")}
#define F_SOURCE {"source", T_ID, REQ, \
	DESC("the external source: its id or <server>/<source>")}
#define F_LIMIT {"limit", T_INT, RANGE(1, 200)}
#define F_CURSOR {"cursor", T_STR}
#define F_LIMIT_D {"limit", T_INT, RANGE(1, 200), DESC("page size (default 50)")}
#define F_CURSOR_D {"cursor", T_STR, DESC("next_cursor of the previous page")}

static const struct tg_jfield a_server[] = {F_SERVER, END};
static const struct tg_jfield a_tool[] = {F_TOOL, END};
static const struct tg_jfield a_source[] = {F_SOURCE, END};
static const struct tg_jfield a_page[] = {F_LIMIT, F_CURSOR, END};
static const struct tg_jfield a_server_page[] = {
	F_SERVER, F_LIMIT_D, F_CURSOR_D, END};

static const struct tg_jfield a_add_source[] = {
	F_SERVER,
	{"name", T_STR, REQ, .pattern = NAME_RE},
	{"url", T_STR, REQ, DESC("http(s) URL of the remote MCP endpoint")},
	{"description", T_STR},
	{"enabled", T_BOOL},
	{"auth_type", T_STR, .enums = "none|bearer|header"},
	{"auth_header", T_STR_NULL},
	{"connect_timeout_ms", T_INT, RANGE(100, 60000)},
	{"timeout_ms", T_INT, RANGE(100, 120000)},
	{"max_response_bytes", T_INT, RANGE(1024, 67108864)},
	{"failure_threshold", T_INT, RANGE(1, 100)},
	{"cooldown_s", T_INT, RANGE(1, 86400)},
	END};

/* Secrets: names only. There is no "value": values never pass through
 * MCP, whatever the caller's role. */
static const struct tg_jfield a_create_secret[] = {
	F_SERVER,
	{"key", T_STR, REQ, .pattern = "^[A-Za-z_][A-Za-z0-9_]{0,63}$",
	 DESC("secret name")},
	{"description", T_STR, .max_length = 1024},
	END};

static const struct tg_jfield a_create_server[] = {
	{"name", T_STR, REQ, .pattern = NAME_RE},
	{"description", T_STR},
	{"tool_prefix", T_STR_NULL,
	 DESC("exposed-name prefix; \"\" for none; null or absent for <name>__")},
	END};

static const struct tg_jfield a_create_tool[] = {
	F_SERVER,
	{"name", T_STR, REQ},
	{"code", T_STR, REQ},
	{"description", T_STR},
	{"input_schema", T_OBJ_NULL},
	{"annotations", T_OBJ_NULL},
	{"change_summary", T_STR},
	END};

static const struct tg_jfield a_import_item_obj[] = {
	{"name", T_STR, REQ},
	{"local_name", T_STR},
	END};
static const struct tg_jfield a_import_item = {
	NULL, .types = TG_JT_STRING | TG_JT_OBJECT, .props = a_import_item_obj};
static const struct tg_jfield a_import[] = {
	F_SOURCE,
	{"tools", T_ARRAY, REQ, .min_items = 1, .items = &a_import_item},
	END};

static const struct tg_jfield a_list_tools[] = {
	{"server", T_STR, REQ},
	{"status", T_STR, .enums = "draft|pending_review|approved|rejected"},
	F_LIMIT, F_CURSOR,
	END};

static const struct tg_jfield a_list_versions[] = {F_TOOL, F_LIMIT, F_CURSOR, END};

static const struct tg_jfield a_import_name = {NULL, T_STR,
	.pattern = "^[A-Za-z_][A-Za-z0-9_]*$"};
static const struct tg_jfield a_request_module[] = {
	{"module", T_STR,
	 DESC("dotted module name, e.g. \"requests\" or \"xml.etree\" (an allow-list"
	 " entry; or give package instead)")},
	{"reason", T_STR, .max_length = 2048},
	{"tool", T_ID, DESC("the tool that needs it (optional): its id, exposed"
	 " name or <server>/<tool>")},
	{"package", T_STR, .max_length = 100,
	 DESC("a third-party distribution from the package index, e.g. \"pyyaml\""
	 " (with server): resolved at once, wheels only, installed on approval")},
	{"version", T_STR, .max_length = 200,
	 DESC("with package: a version specifier, e.g. \"==6.0.1\" or \">=2,<3\"")},
	{"import_names", T_ARRAY, .items = &a_import_name,
	 DESC("with package: the modules it provides that the tool imports, e.g."
	 " [\"yaml\"] (default: all its top-level modules)")},
	{"server", T_ID, DESC("with package: the server whose tools import it")},
	END};

static const struct tg_jfield a_request_network[] = {
	F_SERVER,
	{"host", T_STR, REQ},
	{"reason", T_STR, .max_length = 2048},
	END};

static const struct tg_jfield a_request_publish[] = {
	F_TOOL, {"note", T_STR}, END};

static const struct tg_jfield a_rollback[] = {
	F_TOOL, {"version", T_INT, REQ, .has_min = 1, .min = 1}, END};

static const struct tg_jfield a_test_tool[] = {
	F_TOOL,
	{"arguments", T_OBJ},
	{"real_secrets", T_BOOL,
	 DESC("admin only: give unapproved code the real secret values")},
	END};

static const struct tg_jfield a_tool_logs[] = {
	F_TOOL,
	{"status", T_STR, .enums = "ok|error|timeout|truncated|unavailable",
	 DESC("only runs with this status")},
	{"since", T_STR, DESC("ISO 8601 timestamp, e.g. 2026-01-31T00:00:00Z")},
	F_LIMIT_D, F_CURSOR_D,
	END};

static const struct tg_jfield a_update_tool[] = {
	F_TOOL,
	{"name", T_STR},
	{"code", T_STR},
	{"description", T_STR},
	{"input_schema", T_OBJ_NULL},
	{"annotations", T_OBJ_NULL},
	{"change_summary", T_STR},
	END};

static const struct tg_jfield a_validate_code[] = {
	{"code", T_STR, REQ}, {"input_schema", T_OBJ}, END};

/* --- the table --------------------------------------------------------- */

static const struct mtool mtools[] = {
	{"toolgate_add_source", TG_P_WRITE, 0,
	 "Add an external MCP server (Streamable HTTP URL) to a server as a source of tools. Then toolgate_discover_source_tools and toolgate_import_source_tools. Credentials and internal (private-network) sources are set by an admin over REST.",
	 a_add_source, .target = T_SERVER, .body = tg_sources_create},
	{"toolgate_create_secret", TG_P_WRITE, 0,
	 "Create a secret placeholder on a server: a NAME (and description) without a value. An admin sets the value outside MCP (REST PUT /api/v1/servers/{id}/secrets/{key}); tools then read it from the secrets mapping. Values are never readable by anyone and cannot be passed here.",
	 a_create_secret, .target = T_SERVER, .body = tg_secrets_create},
	{"toolgate_create_server", TG_P_WRITE, 0,
	 "Create a server (a named group of tools), stopped. Its tools are exposed to MCP clients as <tool_prefix><tool> (default prefix \"<name>__\") once approved and the server is running.",
	 a_create_server, .fn = tg_servers_create},
	{"toolgate_create_tool", TG_P_WRITE, 0,
	 "Create a Python tool on a server, as a draft. code must define main(...); keyword arguments come from the MCP call; return a JSON value or a list of MCP content blocks. input_schema (JSON Schema) is kept verbatim; without it the schema is derived from main()'s signature. Next: toolgate_test_tool, then toolgate_request_publish.",
	 a_create_tool, .target = T_SERVER, .body = tg_tools_create},
	{"toolgate_delete_server", TG_P_WRITE, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a stopped server with all its tools, versions and secrets. Cannot be undone; refused while the server is running.",
	 a_server, .target = T_SERVER, .del = tg_servers_delete},
	{"toolgate_delete_tool", TG_P_WRITE, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a tool with all its versions; it disappears from MCP clients at once. Cannot be undone.",
	 a_tool, .target = T_TOOL, .del = tg_tools_delete},
	{"toolgate_discover_source_tools", TG_P_WRITE, MH_DESTRUCTIVE | MH_IDEMPOTENT | MH_OPEN,
	 "Connect to an external source and list its tools, marking which are imported. An imported tool whose remote description, schema or annotations changed is updated, and goes back to review if it was approved.",
	 a_source, .target = T_SOURCE, .by_id = tg_sources_discover},
	{"toolgate_get_server", TG_P_READ, MH_RO,
	 "Get one server by name or id (status, tool_prefix, allowed_hosts, tool_count).",
	 a_server, .target = T_SERVER, .by_id = tg_servers_get},
	{"toolgate_get_tool", TG_P_READ, MH_RO,
	 "Get a tool (code, schema, status: draft, pending_review, approved or rejected, and whether it is served).",
	 a_tool, .target = T_TOOL, .by_id = tg_tools_get},
	{"toolgate_import_source_tools", TG_P_WRITE, MH_IDEMPOTENT | MH_OPEN,
	 "Import tools of an external source into its server, as tools pending review (served once an admin approves them and the server runs). tools: remote names, or {name, local_name} to rename.",
	 a_import, .target = T_SOURCE, .body = tg_sources_import},
	{"toolgate_list_pending_requests", TG_P_READ, MH_RO,
	 "List everything waiting for an admin: tools pending review, module requests and network requests (kind: tool, module_request, network_request); paginated.",
	 a_page, .list = tg_approvals_pending},
	{"toolgate_list_secrets", TG_P_READ, MH_RO,
	 "List a server's secret names with has_value (whether an admin has set the value) and timestamps. Values are never returned.",
	 a_server_page, .fn = m_list_secrets},
	{"toolgate_list_servers", TG_P_READ, MH_RO,
	 "List servers (paginated: pass next_cursor back as cursor).",
	 a_page, .list = tg_servers_list},
	{"toolgate_list_sources", TG_P_READ, MH_RO,
	 "List a server's external MCP sources (URL, health status, circuit breaker state, tool count). Credentials are never returned.",
	 a_server_page, .target = T_SERVER, .paged = tg_sources_list},
	{"toolgate_list_tools", TG_P_READ, MH_RO,
	 "List the tools of a server (without code), optionally by status; paginated.",
	 a_list_tools, .fn = m_list_tools},
	{"toolgate_list_versions", TG_P_READ, MH_RO,
	 "List a tool's immutable versions, oldest first (without code); paginated.",
	 a_list_versions, .target = T_TOOL, .paged = tg_tools_versions},
	{"toolgate_request_module", TG_P_WRITE, 0,
	 "Ask an admin to add a Python module to the global import allow-list (a pending module request), or, with package and server, to install a third-party distribution from the package index for that server's tools (a pending package request showing its resolved version, dependency closure, hashes and known vulnerabilities). Use it when toolgate_validate_code reports a disallowed import.",
	 a_request_module, .fn = m_request_module},
	{"toolgate_request_network_access", TG_P_WRITE, 0,
	 "Ask an admin to allow a server's tools to reach a host (a pending network request). host: lower-case host name or IP, optional :port, optional \"*.\" wildcard prefix.",
	 a_request_network, .fn = m_request_network},
	{"toolgate_request_publish", TG_P_WRITE, MH_IDEMPOTENT,
	 "Submit a draft tool for review (draft -> pending_review). An admin approves it; then it is served while its server runs.",
	 a_request_publish, .target = T_TOOL, .body = tg_tools_submit},
	{"toolgate_rollback_tool", TG_P_WRITE, MH_DESTRUCTIVE,
	 "Make an old version current again (as a new version, pending review; the approved version stays served meanwhile. Back to exactly the approved content: approved again at once).",
	 a_rollback, .target = T_TOOL, .body = tg_tools_rollback},
	{"toolgate_start_server", TG_P_WRITE, MH_IDEMPOTENT,
	 "Start a server: its approved tools become visible to MCP clients. Refused when an exposed name clashes with another running server's.",
	 a_server, .target = T_SERVER, .by_id = tg_servers_start},
	{"toolgate_stop_server", TG_P_WRITE, MH_IDEMPOTENT,
	 "Stop a server: its tools disappear from MCP clients until it is started again.",
	 a_server, .target = T_SERVER, .by_id = tg_servers_stop},
	{"toolgate_test_tool", TG_P_RUN, MH_OPEN,
	 "Run a tool's current code (any status) in the sandbox with arguments, the allowed modules and the server's allowed hosts; returns the sandbox result (result, stdout, stderr, error, timed_out) and secret_values. Secrets: code that no admin approved never receives a real secret value - unless the code is exactly the tool's approved version, SECRETS maps each key to a placeholder \"[placeholder:KEY]\" (secret_values \"placeholder\"). Only an admin may pass real_secrets: true to run unapproved code with the real values (audited).",
	 a_test_tool, .target = T_TOOL, .body = tg_tools_test},
	{"toolgate_tool_logs", TG_P_READ, MH_RO,
	 "Recent executions of a tool (its MCP tools/call runs), newest first: status (ok, error, timeout, truncated, unavailable), error, duration_ms, caller, version, redacted arguments. Secrets are never shown. Paginated; filter by status or since (ISO 8601 timestamp).",
	 a_tool_logs, .fn = m_tool_logs},
	{"toolgate_tool_status", TG_P_READ, MH_RO,
	 "Where a tool stands: status (draft, pending_review, approved, rejected), current and approved versions, review reason, server status, whether it is served and under which name, and the next step to take.",
	 a_tool, .fn = m_tool_status},
	{"toolgate_update_tool", TG_P_WRITE, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Change a tool's name, code, description, input_schema or annotations (a new version; an approved tool goes back to review and MCP clients keep getting its approved version until the new one is approved; identical content changes nothing).",
	 a_update_tool, .target = T_TOOL, .body = tg_tools_update},
	{"toolgate_validate_code", TG_P_RUN, MH_RO,
	 "Validate Python tool code without saving it: syntax, main(), allowed imports (with line numbers), and the derived input schema.",
	 a_validate_code, .fn = tg_tools_validate},
};
#define N_MTOOLS (sizeof(mtools) / sizeof(mtools[0]))

int
tg_mcp_mgmt_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_MTOOLS; i++)
		if (strcmp(mtools[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* 1 when exactly one service member of m is set (a row without one, or
 * with two, is a bug the catalogue refuses to serve). */
static int
one_shape(const struct mtool *m)
{
	return (m->fn != NULL) + (m->list != NULL) + (m->by_id != NULL) +
	    (m->body != NULL) + (m->paged != NULL) + (m->del != NULL) == 1;
}

/* The inputSchema of mtools[i], generated from its field specs on first
 * use; tools/list serves it and tools/call validates against it. Never
 * freed (it lives as long as the process). NULL on OOM or for a bad row. */
static const json_t *
schema_of(size_t i)
{
	static json_t *schema[N_MTOOLS];

	if (schema[i] == NULL && one_shape(&mtools[i]))
		schema[i] = tg_jschema_object(mtools[i].args);
	return schema[i];
}

static json_t *
mtool_json(size_t i)
{
	const struct mtool *m = &mtools[i];
	const json_t *schema = schema_of(i);

	if (schema == NULL)
		return NULL;
	if (m->hints & MH_RO)
		return json_pack("{s:s, s:s, s:O, s:{s:b, s:b}}", "name", m->name,
		    "description", m->description, "inputSchema", schema,
		    "annotations", "readOnlyHint", 1, "openWorldHint",
		    (m->hints & MH_OPEN) != 0);
	return json_pack("{s:s, s:s, s:O, s:{s:b, s:b, s:b, s:b}}", "name", m->name,
	    "description", m->description, "inputSchema", schema, "annotations",
	    "readOnlyHint", 0, "destructiveHint", (m->hints & MH_DESTRUCTIVE) != 0,
	    "idempotentHint", (m->hints & MH_IDEMPOTENT) != 0, "openWorldHint",
	    (m->hints & MH_OPEN) != 0);
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
	const struct mtool *m = &mtools[i];
	const json_t *schema = schema_of(i);
	struct tg_call call = tg_req_call(c->req);
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
		    "Invalid arguments for %s: %s", m->name, why);
		goto out;
	}
	rc = mtool_run(m, &call, args, &out, &err);
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
static json_t *desc[N_MTOOLS];

int
tg_mcp_mgmt_list(const struct tg_call *c, json_t *arr)
{
	size_t i;

	for (i = 0; i < N_MTOOLS; i++) {
		if (!tg_call_can(c, mtools[i].perm))
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
	struct tg_call call = tg_req_call(c->req);

	if (!tg_call_can(&call, mtools[i].perm))
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS, "Unknown tool: %s",
		    mtools[i].name);
	return mtool_call(c, (size_t)i, args, result, err);
}
