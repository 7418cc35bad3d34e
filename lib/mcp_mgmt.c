/*
 * mcp_mgmt.c - the toolgate_* management tools (see mcp_mgmt.h).
 *
 * A static table, one row per tool: name, the least role that sees and
 * may call it, annotations, description, inputSchema and the function
 * that maps its arguments onto the lifecycle service layer (lib/svc.h).
 * The service gets the request, so permission rules, validation and
 * audit are exactly those of REST. Service failures come back as isError
 * results whose text is "<status>: <detail>" (and the field errors), so a
 * model can correct itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "lib/approvals.h"
#include "lib/execlog.h"
#include "lib/jschema.h"
#include "lib/logs.h"
#include "lib/mcp_mgmt.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/status.h"
#include "lib/svc.h"
#include "lib/tools.h"

typedef int (*mfn)(struct tg_req *req, json_t *args, json_t **out,
    struct tg_err *err);

/* Tool annotations (MCP ToolAnnotations): readOnlyHint; for the others,
 * destructiveHint and idempotentHint; openWorldHint. */
#define MH_RO 0x1
#define MH_DESTRUCTIVE 0x2
#define MH_IDEMPOTENT 0x4
#define MH_OPEN 0x8

struct mtool {
	const char *name;
	enum tg_role min_role;
	unsigned hints;		/* MH_* */
	const char *description;
	const char *schema;
	mfn fn;
};

/* Portable schemas (no "type" arrays: clients that map schemas onto a
 * single-type dialect reject them): a tool is named by id or name. */
#define S_TOOL_ID "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the tool: its id, its exposed name (<server>__<tool>, as in tools/list) or <server>/<tool>\"}"
#define S_SERVER_REF "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"}},\"required\":[\"server\"],\"additionalProperties\":false}"
#define S_PAGE "{\"type\":\"object\",\"properties\":{\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"additionalProperties\":false}"

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
target_id(struct tg_req *req, json_t *args, enum target t, int64_t *id,
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
		return tg_servers_resolve(req, ref, id, err);
	if (t == T_TOOL)
		return tg_tools_resolve(req, ref, id, err);
	return tg_sources_resolve(req, ref, id, err);
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

/* Adapters from a tool's arguments to the service functions' shapes. */
typedef int (*id_fn)(struct tg_req *, int64_t, json_t **, struct tg_err *);
typedef int (*body_fn)(struct tg_req *, int64_t, json_t *, json_t **,
    struct tg_err *);
typedef int (*page_fn)(struct tg_req *, int64_t, const struct tg_page *,
    json_t **, struct tg_err *);
typedef int (*delete_fn)(struct tg_req *, int64_t, struct tg_err *);

static int
on_id(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, id_fn fn)
{
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	return fn(req, id, out, err);
}

/* fn gets the arguments without the target's member. */
static int
on_body(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, body_fn fn)
{
	json_t *in;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	if ((in = body_of(args, target_member[t])) == NULL)
		return -TG_E_NOMEM;
	rc = fn(req, id, in, out, err);
	json_decref(in);
	return rc;
}

static int
on_page(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, page_fn fn)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return fn(req, id, &pg, out, err);
}

/* {"deleted": true, "id": id} */
static int
on_delete(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, delete_fn fn)
{
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK ||
	    (rc = fn(req, id, err)) != TG_OK)
		return rc;
	*out = json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id);
	return *out ? TG_OK : -TG_E_NOMEM;
}

static int
m_list_servers(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;

	page_of(args, &pg);
	return tg_servers_list(req, &pg, out, err);
}

static int
m_get_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_get);
}

static int
m_create_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return tg_servers_create(req, args, out, err);
}

static int
m_delete_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_delete(req, args, out, err, T_SERVER, tg_servers_delete);
}

static int
m_start_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_start);
}

static int
m_stop_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_stop);
}

static int
m_list_tools(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, T_SERVER, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return tg_tools_list(req, id, json_string_value(json_object_get(args, "status")),
	    &pg, out, err);
}

static int
m_get_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_TOOL, tg_tools_get);
}

static int
m_create_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_tools_create);
}

static int
m_update_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_update);
}

static int
m_delete_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_delete(req, args, out, err, T_TOOL, tg_tools_delete);
}

static int
m_list_versions(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_page(req, args, out, err, T_TOOL, tg_tools_versions);
}

static int
m_rollback(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_rollback);
}

static int
m_request_publish(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_submit);
}

static int
m_test_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_test);
}

static int
m_validate_code(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return tg_tools_validate(req, args, out, err);
}

/* Secrets: names only. The schema has no "value": values never pass
 * through MCP, whatever the caller's role. */
static int
m_create_secret(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_secrets_create);
}

static int
m_list_secrets(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	return on_page(req, args, out, err, T_SERVER, tg_secrets_list);
}

static int
m_request_module(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	json_t *in, *reason = json_object_get(args, "reason");
	int64_t tid;
	int rc;

	in = json_pack("{s:O}", "module", json_object_get(args, "module"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = TG_OK;
	if (reason != NULL && json_object_set(in, "reason", reason) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK && json_object_get(args, "tool") != NULL &&
	    (rc = target_id(req, args, T_TOOL, &tid, err)) == TG_OK &&
	    json_object_set_new(in, "tool_id", json_integer((json_int_t)tid)) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK)
		rc = tg_module_requests_create(req, in, out, err);
	json_decref(in);
	return rc;
}

static int
m_request_network(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	json_t *in;
	int rc;

	/* The service resolves server_id as an id or a name. */
	in = json_pack("{s:O, s:O, s:O*}", "server_id", json_object_get(args, "server"),
	    "host", json_object_get(args, "host"), "reason", json_object_get(args, "reason"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = tg_network_requests_create(req, in, out, err);
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
m_tool_status(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	static const char *const keep[] = {"id", "name", "exposed_name", "server_id",
		"server_name", "status", "current_version", "approved_version",
		"review_reason", "reviewed_at", "served", "served_version", "updated_at",
		NULL};
	json_t *t = NULL, *s = NULL, *o = NULL, *v;
	const char *st, *sst;
	int64_t id;
	int rc, i;

	if ((rc = target_id(req, args, T_TOOL, &id, err)) != TG_OK ||
	    (rc = tg_tools_get(req, id, &t, err)) != TG_OK)
		goto out;
	v = json_object_get(t, "server_id");
	if ((rc = tg_servers_get(req, json_is_integer(v) ? json_integer_value(v) : 0,
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
m_pending(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;

	page_of(args, &pg);
	return tg_approvals_pending(req, &pg, out, err);
}

static int
m_tool_logs(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_logs_filter f;
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, T_TOOL, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	f.status = json_string_value(json_object_get(args, "status"));
	f.since = json_string_value(json_object_get(args, "since"));
	return tg_logs_list_tool(req, id, &f, &pg, out, err);
}

/* External sources. Credentials and "internal" are not in the schemas:
 * they are admin settings made over REST, never through a model. */
static int
m_add_source(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_sources_create);
}

static int
m_list_sources(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_page(req, args, out, err, T_SERVER, tg_sources_list);
}

static int
m_discover_source(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SOURCE, tg_sources_discover);
}

static int
m_import_source_tools(struct tg_req *req, json_t *args, json_t **out,
    struct tg_err *err)
{
	return on_body(req, args, out, err, T_SOURCE, tg_sources_import);
}

#define S_TOOL_REF "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID "},\"required\":[\"tool\"],\"additionalProperties\":false}"

static const struct mtool mtools[] = {
	{"toolgate_add_source", TG_ROLE_DEVELOPER, 0,
	 "Add an external MCP server (Streamable HTTP URL) to a server as a source of tools. Then toolgate_discover_source_tools and toolgate_import_source_tools. Credentials and internal (private-network) sources are set by an admin over REST.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,47}$\"},\"url\":{\"type\":\"string\",\"description\":\"http(s) URL of the remote MCP endpoint\"},\"description\":{\"type\":\"string\"},\"enabled\":{\"type\":\"boolean\"},\"auth_type\":{\"type\":\"string\",\"enum\":[\"none\",\"bearer\",\"header\"]},\"auth_header\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},\"connect_timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":60000},\"timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":120000},\"max_response_bytes\":{\"type\":\"integer\",\"minimum\":1024,\"maximum\":67108864},\"failure_threshold\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},\"cooldown_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400}},\"required\":[\"server\",\"name\",\"url\"],\"additionalProperties\":false}",
	 m_add_source},
	{"toolgate_create_secret", TG_ROLE_DEVELOPER, 0,
	 "Create a secret placeholder on a server: a NAME (and description) without a value. An admin sets the value outside MCP (REST PUT /api/v1/servers/{id}/secrets/{key}); tools then read it from the secrets mapping. Values are never readable by anyone and cannot be passed here.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"key\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z_][A-Za-z0-9_]{0,63}$\",\"description\":\"secret name\"},\"description\":{\"type\":\"string\",\"maxLength\":1024}},\"required\":[\"server\",\"key\"],\"additionalProperties\":false}",
	 m_create_secret},
	{"toolgate_create_server", TG_ROLE_DEVELOPER, 0,
	 "Create a server (a named group of tools), stopped. Its tools are exposed to MCP clients as <tool_prefix><tool> (default prefix \"<name>__\") once approved and the server is running.",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,47}$\"},\"description\":{\"type\":\"string\"},\"tool_prefix\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],\"description\":\"exposed-name prefix; \\\"\\\" for none; null or absent for <name>__\"}},\"required\":[\"name\"],\"additionalProperties\":false}",
	 m_create_server},
	{"toolgate_create_tool", TG_ROLE_DEVELOPER, 0,
	 "Create a Python tool on a server, as a draft. code must define main(...); keyword arguments come from the MCP call; return a JSON value or a list of MCP content blocks. input_schema (JSON Schema) is kept verbatim; without it the schema is derived from main()'s signature. Next: toolgate_test_tool, then toolgate_request_publish.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"name\":{\"type\":\"string\"},\"code\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},\"input_schema\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"annotations\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"change_summary\":{\"type\":\"string\"}},\"required\":[\"server\",\"name\",\"code\"],\"additionalProperties\":false}",
	 m_create_tool},
	{"toolgate_delete_server", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a stopped server with all its tools, versions and secrets. Cannot be undone; refused while the server is running.",
	 S_SERVER_REF,
	 m_delete_server},
	{"toolgate_delete_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a tool with all its versions; it disappears from MCP clients at once. Cannot be undone.",
	 S_TOOL_REF,
	 m_delete_tool},
	{"toolgate_discover_source_tools", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT | MH_OPEN,
	 "Connect to an external source and list its tools, marking which are imported. An imported tool whose remote description, schema or annotations changed is updated, and goes back to review if it was approved.",
	 "{\"type\":\"object\",\"properties\":{\"source\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the external source: its id or <server>/<source>\"}},\"required\":[\"source\"],\"additionalProperties\":false}",
	 m_discover_source},
	{"toolgate_get_server", TG_ROLE_VIEWER, MH_RO,
	 "Get one server by name or id (status, tool_prefix, allowed_hosts, tool_count).",
	 S_SERVER_REF,
	 m_get_server},
	{"toolgate_get_tool", TG_ROLE_VIEWER, MH_RO,
	 "Get a tool (code, schema, status: draft, pending_review, approved or rejected, and whether it is served).",
	 S_TOOL_REF,
	 m_get_tool},
	{"toolgate_import_source_tools", TG_ROLE_DEVELOPER, MH_IDEMPOTENT | MH_OPEN,
	 "Import tools of an external source into its server, as tools pending review (served once an admin approves them and the server runs). tools: remote names, or {name, local_name} to rename.",
	 "{\"type\":\"object\",\"properties\":{\"source\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the external source: its id or <server>/<source>\"},\"tools\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"local_name\":{\"type\":\"string\"}},\"required\":[\"name\"],\"additionalProperties\":false}]}}},\"required\":[\"source\",\"tools\"],\"additionalProperties\":false}",
	 m_import_source_tools},
	{"toolgate_list_pending_requests", TG_ROLE_VIEWER, MH_RO,
	 "List everything waiting for an admin: tools pending review, module requests and network requests (kind: tool, module_request, network_request); paginated.",
	 S_PAGE,
	 m_pending},
	{"toolgate_list_secrets", TG_ROLE_VIEWER, MH_RO,
	 "List a server's secret names with has_value (whether an admin has set the value) and timestamps. Values are never returned.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_secrets},
	{"toolgate_list_servers", TG_ROLE_VIEWER, MH_RO,
	 "List servers (paginated: pass next_cursor back as cursor).",
	 S_PAGE,
	 m_list_servers},
	{"toolgate_list_sources", TG_ROLE_VIEWER, MH_RO,
	 "List a server's external MCP sources (URL, health status, circuit breaker state, tool count). Credentials are never returned.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_sources},
	{"toolgate_list_tools", TG_ROLE_VIEWER, MH_RO,
	 "List the tools of a server (without code), optionally by status; paginated.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\"},\"status\":{\"type\":\"string\",\"enum\":[\"draft\",\"pending_review\",\"approved\",\"rejected\"]},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_tools},
	{"toolgate_list_versions", TG_ROLE_VIEWER, MH_RO,
	 "List a tool's immutable versions, oldest first (without code); paginated.",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_list_versions},
	{"toolgate_request_module", TG_ROLE_DEVELOPER, 0,
	 "Ask an admin to add a Python module to the global import allow-list (a pending module request). Use it when toolgate_validate_code reports a disallowed import.",
	 "{\"type\":\"object\",\"properties\":{\"module\":{\"type\":\"string\",\"description\":\"dotted module name, e.g. \\\"requests\\\" or \\\"xml.etree\\\"\"},\"reason\":{\"type\":\"string\",\"maxLength\":2048},\"tool\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the tool that needs it (optional): its id, exposed name or <server>/<tool>\"}},\"required\":[\"module\"],\"additionalProperties\":false}",
	 m_request_module},
	{"toolgate_request_network_access", TG_ROLE_DEVELOPER, 0,
	 "Ask an admin to allow a server's tools to reach a host (a pending network request). host: lower-case host name or IP, optional :port, optional \"*.\" wildcard prefix.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"host\":{\"type\":\"string\"},\"reason\":{\"type\":\"string\",\"maxLength\":2048}},\"required\":[\"server\",\"host\"],\"additionalProperties\":false}",
	 m_request_network},
	{"toolgate_request_publish", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Submit a draft tool for review (draft -> pending_review). An admin approves it; then it is served while its server runs.",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"note\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_request_publish},
	{"toolgate_rollback_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE,
	 "Make an old version current again (as a new version, pending review; the approved version stays served meanwhile. Back to exactly the approved content: approved again at once).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"version\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"tool\",\"version\"],\"additionalProperties\":false}",
	 m_rollback},
	{"toolgate_start_server", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Start a server: its approved tools become visible to MCP clients. Refused when an exposed name clashes with another running server's.",
	 S_SERVER_REF,
	 m_start_server},
	{"toolgate_stop_server", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Stop a server: its tools disappear from MCP clients until it is started again.",
	 S_SERVER_REF,
	 m_stop_server},
	{"toolgate_test_tool", TG_ROLE_DEVELOPER, MH_OPEN,
	 "Run a tool's current code (any status) in the sandbox with arguments, the allowed modules and the server's allowed hosts; returns the sandbox result (result, stdout, stderr, error, timed_out) and secret_values. Secrets: code that no admin approved never receives a real secret value - unless the code is exactly the tool's approved version, SECRETS maps each key to a placeholder \"[placeholder:KEY]\" (secret_values \"placeholder\"). Only an admin may pass real_secrets: true to run unapproved code with the real values (audited).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"arguments\":{\"type\":\"object\"},\"real_secrets\":{\"type\":\"boolean\",\"description\":\"admin only: give unapproved code the real secret values\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_test_tool},
	{"toolgate_tool_logs", TG_ROLE_VIEWER, MH_RO,
	 "Recent executions of a tool (its MCP tools/call runs), newest first: status (ok, error, timeout, truncated, unavailable), error, duration_ms, caller, version, redacted arguments. Secrets are never shown. Paginated; filter by status or since (ISO 8601 timestamp).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"status\":{\"type\":\"string\",\"enum\":[\"ok\",\"error\",\"timeout\",\"truncated\",\"unavailable\"],\"description\":\"only runs with this status\"},\"since\":{\"type\":\"string\",\"description\":\"ISO 8601 timestamp, e.g. 2026-01-31T00:00:00Z\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_tool_logs},
	{"toolgate_tool_status", TG_ROLE_VIEWER, MH_RO,
	 "Where a tool stands: status (draft, pending_review, approved, rejected), current and approved versions, review reason, server status, whether it is served and under which name, and the next step to take.",
	 S_TOOL_REF,
	 m_tool_status},
	{"toolgate_update_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Change a tool's name, code, description, input_schema or annotations (a new version; an approved tool goes back to review and MCP clients keep getting its approved version until the new one is approved; identical content changes nothing).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"name\":{\"type\":\"string\"},\"code\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},\"input_schema\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"annotations\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"change_summary\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_update_tool},
	{"toolgate_validate_code", TG_ROLE_DEVELOPER, MH_RO,
	 "Validate Python tool code without saving it: syntax, main(), allowed imports (with line numbers), and the derived input schema.",
	 "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},\"input_schema\":{\"type\":\"object\"}},\"required\":[\"code\"],\"additionalProperties\":false}",
	 m_validate_code},
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

static int
role_allows(const struct tg_req *req, enum tg_role min)
{
	return req->who.authenticated && req->who.role >= min;
}

static json_t *
mtool_json(const struct mtool *m)
{
	json_error_t je;
	json_t *schema = json_loads(m->schema, JSON_REJECT_DUPLICATES, &je);

	if (schema == NULL) {
		tg_log(TG_LOG_ERR, "mcp.bad_builtin_schema", "tool=%s msg=%s", m->name,
		    tg_log_q(je.text));
		return NULL;
	}
	if (m->hints & MH_RO)
		return json_pack("{s:s, s:s, s:o, s:{s:b, s:b}}", "name", m->name,
		    "description", m->description, "inputSchema", schema,
		    "annotations", "readOnlyHint", 1, "openWorldHint",
		    (m->hints & MH_OPEN) != 0);
	return json_pack("{s:s, s:s, s:o, s:{s:b, s:b, s:b, s:b}}", "name", m->name,
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
		json_object_set(out, "structuredContent",
		    json_pack("{s:s, s:s, s:O}", "error", tg_status_name(st), "detail",
		    err->detail, "errors", err->fields));
	}
	return out;
}

static int
mtool_call(const struct tg_mcp_call *c, const struct mtool *m, json_t *args,
    json_t **result, struct tg_rpc_err *rerr)
{
	struct tg_err err;
	json_error_t je;
	json_t *schema = NULL, *out = NULL, *empty = NULL;
	char why[256], *text = NULL;
	int rc;

	tg_err_init(&err);
	if (args == NULL)
		args = empty = json_object();
	schema = json_loads(m->schema, 0, &je);
	if (schema == NULL || args == NULL) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "internal error");
		goto out;
	}
	if (tg_mcp_schema_validate(schema, args, why, sizeof(why)) != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS,
		    "Invalid arguments for %s: %s", m->name, why);
		goto out;
	}
	rc = m->fn(c->req, args, &out, &err);
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
	json_decref(schema);
	json_decref(empty);
	tg_err_clear(&err);
	return rc;
}

/* The descriptors, built on first use (never freed: they live as long as
 * the process, and tools/list hands them out shared). */
static json_t *desc[N_MTOOLS];

int
tg_mcp_mgmt_list(const struct tg_req *req, json_t *arr)
{
	size_t i;

	for (i = 0; i < N_MTOOLS; i++) {
		if (!role_allows(req, mtools[i].min_role))
			continue;
		if (desc[i] == NULL && (desc[i] = mtool_json(&mtools[i])) == NULL)
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
	const struct mtool *m = &mtools[i];

	if (!role_allows(c->req, m->min_role))
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS, "Unknown tool: %s",
		    m->name);
	return mtool_call(c, m, args, result, err);
}
