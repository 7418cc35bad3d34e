/*
 * ops.c - the operation table (see ops.h): every REST endpoint of the
 * services and every toolgate_* MCP management tool is one row here.
 *
 * A row names the operation, its permission bit, its target, its field
 * specs and its service call; then its REST route (method, pattern,
 * success status, body limit, body/query flags) and its MCP tool (name,
 * annotations, description), either optional. The REST rows are in the
 * order of the old route table: the router lists a path's methods in
 * table order (the Allow header). tools/list sorts by name, so MCP rows
 * may stand anywhere.
 *
 * Where no shape fits, a row names an adapter: a few lines that read the
 * struct tg_op_in (named inputs: a capture or query parameter in REST, a
 * string argument in MCP) and call the service. Adapters know nothing of
 * the transport.
 */
#include <stdio.h>
#include <string.h>

#include "lib/apikeys.h"
#include "lib/approvals.h"
#include "lib/audit.h"
#include "lib/export.h"
#include "lib/health.h"
#include "lib/logs.h"
#include "lib/oauth.h"
#include "lib/ops.h"
#include "lib/packages.h"
#include "lib/parse.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/sessions.h"
#include "lib/settings.h"
#include "lib/sources.h"
#include "lib/status.h"
#include "lib/svc.h"
#include "lib/tools.h"
#include "lib/users.h"

#define KiB 1024

/* --- targets ------------------------------------------------------------ */

const char *
tg_op_target_member(enum tg_op_target t)
{
	switch (t) {
	case TG_OT_SERVER:
		return "server";
	case TG_OT_TOOL:
		return "tool";
	case TG_OT_SOURCE:
		return "source";
	case TG_OT_OAUTH_CLIENT:
		return "id";
	case TG_OT_PACKAGE:
		return "request";
	default:
		return NULL;
	}
}

/* The targets that are plain ids: what a bad one's 404 names
 * (tg_svc_parse_id: "no <what> with id '<ref>'"), or its whole text. */
static const struct {
	const char *what, *text;
} plain[] = {
    [TG_OT_LOG] = {"execution log", NULL},
    [TG_OT_REQUEST] = {"request", NULL},
    [TG_OT_PACKAGE] = {"package request", NULL},
    [TG_OT_USER] = {NULL, "no such user"},
    [TG_OT_APIKEY] = {NULL, "no such API key"},
    [TG_OT_OAUTH_CLIENT] = {NULL, "no such OAuth client"},
    [TG_OT_OAUTH_GRANT] = {NULL, "no such connected app"},
};

int
tg_op_resolve(const struct tg_call *c, enum tg_op_target t, const char *ref,
    int64_t *id, struct tg_err *err)
{
	switch (t) {
	case TG_OT_SERVER:
		return tg_servers_resolve(c, ref, id, err);
	case TG_OT_TOOL:
		return tg_tools_resolve(c, ref, id, err);
	case TG_OT_SOURCE:
		return tg_sources_resolve(c, ref, id, err);
	default:
		break;
	}
	if ((size_t)t >= sizeof(plain) / sizeof(plain[0]) ||
	    (plain[t].what == NULL && plain[t].text == NULL)) {
		*id = 0; /* TG_OT_NONE */
		return TG_OK;
	}
	if (plain[t].what != NULL)
		return tg_svc_parse_id(ref, plain[t].what, id, err);
	if (ref == NULL || tg_parse_i64(ref, 1, INT64_MAX, id) != TG_OK)
		return tg_err_set(err, TG_E_NOTFOUND, "%s", plain[t].text);
	return TG_OK;
}

/* --- adapters ------------------------------------------------------------ */

static const char *
arg(const struct tg_op_in *in, const char *name)
{
	return in->arg ? in->arg(in, name) : NULL;
}

/*
 * The consent page (web/ui/consent.*): a pending authorization request
 * (decide 0), or the person's decision on it (decide 1). security: the
 * request's handle is the body's "request" member, never the path (access
 * logs record paths); the decision is the rest of the body.
 */
static int
consent(const struct tg_op_in *in, int decide, json_t **out, struct tg_err *err)
{
	json_t *h = json_object_get(in->body, "request"), *rest = NULL;
	int rc;

	if (!json_is_string(h))
		return tg_err_field(err, "request",
		    "the pending request's handle (from the consent page's #request=) is required");
	if ((rest = json_copy(in->body)) == NULL ||
	    json_object_del(rest, "request") != 0)
		rc = tg_err_from(err, -TG_E_NOMEM);
	else if (decide)
		rc = tg_oauth_decide(in->c, json_string_value(h), rest, out, err);
	else if (json_object_size(rest) != 0)
		rc = tg_err_field(err, "body", "only {\"request\"} is expected");
	else
		rc = tg_oauth_request_get(in->c, json_string_value(h), out, err);
	json_decref(rest);
	return rc;
}

static int
a_oauth_request(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	return consent(in, 0, out, err);
}

static int
a_oauth_decide(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	return consent(in, 1, out, err);
}

/* Ends the caller's session (204): no result. */
static int
a_logout(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	(void)out;
	return tg_sessions_logout(in->c, in->body, err);
}

static int
a_tools_list(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	return tg_tools_list(in->c, in->id, arg(in, "status"), &in->page, out, err);
}

static int
a_version_get(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	int64_t n;

	if (tg_parse_i64(arg(in, "n"), 1, 2147483647, &n) != TG_OK)
		return tg_err_set(err, TG_E_NOTFOUND, "no such version");
	return tg_tools_version_get(in->c, in->id, n, out, err);
}

/* variant 0: the logs of a tool; 1: of every tool of a server. */
static int
a_logs(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_logs_filter f = {arg(in, "status"), arg(in, "since")};

	if (in->op->variant == 0)
		return tg_logs_list_tool(in->c, in->id, &f, &in->page, out, err);
	return tg_logs_list_server(in->c, in->id, &f, &in->page, out, err);
}

static const struct tg_jfield f_secret_set[];

/* The key is checked before the body: an unknown key is a 404 whatever
 * the body says. */
static int
a_secret_set(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	const char *key = arg(in, "key");
	int rc;

	if (key == NULL || !tg_secrets_valid_key(key))
		return tg_err_set(err, TG_E_NOTFOUND, "no secret '%s'", key ? key : "");
	if ((rc = tg_jfields_check(f_secret_set, in->body, err)) != TG_OK)
		return rc;
	return tg_secrets_set(in->c, in->id, key, in->body, out, err);
}

static int
a_secret_delete(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	(void)out;
	return tg_secrets_delete(in->c, in->id, arg(in, "key"), err);
}

/* variant 0: module requests; 1: network requests; 2: package requests. */
static int
a_requests_list(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	if (in->op->variant == 0)
		return tg_module_requests_list(in->c, arg(in, "status"), &in->page,
		    out, err);
	if (in->op->variant == 2)
		return tg_packages_list(in->c, arg(in, "status"), &in->page, out, err);
	return tg_network_requests_list(in->c, arg(in, "status"), &in->page,
	    out, err);
}

/* variant: 1 approve (else reject) | 2 network (else module). */
static int
a_requests_decide(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	int approve = in->op->variant & 1;

	if (in->op->variant & 2)
		return tg_network_requests_decide(in->c, in->id, approve, in->body,
		    out, err);
	return tg_module_requests_decide(in->c, in->id, approve, in->body, out, err);
}

/* variant: enum tg_pkg_action. */
static int
a_packages_decide(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	return tg_packages_decide(in->c, in->id, (enum tg_pkg_action)in->op->variant,
	    in->body, out, err);
}

/* Boolean query flag: absent -> def; "true"/"1" or "false"/"0" else 400. */
static int
flag(const struct tg_op_in *in, const char *name, int def, int *out,
    struct tg_err *err)
{
	const char *v = arg(in, name);

	if (v == NULL)
		*out = def;
	else if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return tg_err_set(err, TG_E_BADREQ, "%s must be true or false", name);
	return TG_OK;
}

/* ?keep_status=true keeps tool approval and server states; ?settings=false
 * leaves the settings alone. */
static int
a_import(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_import_opts opts = {0, 0};
	int rc, settings = 1;

	if ((rc = flag(in, "keep_status", 0, &opts.keep_status, err)) != TG_OK ||
	    (rc = flag(in, "settings", 1, &settings, err)) != TG_OK)
		return rc;
	opts.skip_settings = !settings;
	return tg_export_import(in->c, in->body, &opts, out, err);
}

/* The identity lists' page: ?limit= (1..200, default 50) and ?cursor= (a
 * positive id), with their own texts. */
static int
id_page(const struct tg_op_in *in, struct tg_page *pg, struct tg_err *err)
{
	const char *l = arg(in, "limit");
	int64_t v;

	pg->limit = 50;
	pg->cursor = arg(in, "cursor");
	if (l != NULL && tg_parse_i64(l, 1, 200, &pg->limit) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ, "limit must be an integer in 1..200");
	if (pg->cursor != NULL && tg_parse_i64(pg->cursor, 1, INT64_MAX, &v) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ, "malformed cursor");
	return TG_OK;
}

static int
a_users_list(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_page pg;
	int rc;

	if ((rc = id_page(in, &pg, err)) != TG_OK)
		return rc;
	return tg_users_list(in->c, &pg, out, err);
}

/* A body json_unpack_ex refused: 422 naming "body" with jansson's text. */
static int
bad_body(const json_error_t *je, struct tg_err *err)
{
	return tg_err_field(err, "body", "%s", je->text);
}

static int
a_users_create(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_user_new u;
	json_error_t je;
	int disabled = 0;

	memset(&u, 0, sizeof(u));
	if (json_unpack_ex(in->body, &je, JSON_STRICT, "{s:s, s:s, s:s, s?b}",
		"username", &u.username, "password", &u.password, "role", &u.role,
		"disabled", &disabled) != 0)
		return bad_body(&je, err);
	u.password_len = strlen(u.password);
	u.disabled = disabled;
	return tg_users_create(in->c, &u, out, err);
}

static int
a_users_update(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_user_patch pa;
	json_error_t je;
	json_t *jdis = NULL;

	memset(&pa, 0, sizeof(pa));
	if (json_unpack_ex(in->body, &je, JSON_STRICT, "{s?s, s?o, s?s}", "role",
		&pa.role, "disabled", &jdis, "password", &pa.password) != 0)
		return bad_body(&je, err);
	if (jdis != NULL && !json_is_boolean(jdis))
		return tg_err_field(err, "disabled", "must be true or false");
	pa.disabled = jdis == NULL ? -1 : json_is_true(jdis);
	pa.password_len = pa.password ? strlen(pa.password) : 0;
	return tg_users_update(in->c, in->id, &pa, out, err);
}

static int
a_apikeys_list(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	const char *all = arg(in, "all");
	struct tg_page pg;
	int64_t a = 0;
	int rc;

	if ((rc = id_page(in, &pg, err)) != TG_OK)
		return rc;
	if (all != NULL && tg_parse_i64(all, 0, 1, &a) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ, "all must be 0 or 1");
	return tg_apikeys_list(in->c, (int)a, &pg, out, err);
}

static int
a_apikeys_create(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	const char *name = NULL, *role = NULL;
	json_int_t days = 0;
	json_error_t je;

	if (json_unpack_ex(in->body, &je, JSON_STRICT, "{s:s, s?s, s?I}", "name",
		&name, "role", &role, "expires_in_days", &days) != 0)
		return bad_body(&je, err);
	return tg_apikeys_create(in->c, name, role, (int64_t)days, out, err);
}

static int
a_audit_list(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	struct tg_audit_filter f = {arg(in, "actor"), arg(in, "action"),
	    arg(in, "target"), arg(in, "since"), arg(in, "until")};
	struct tg_page pg;
	int rc;

	if ((rc = id_page(in, &pg, err)) != TG_OK)
		return rc;
	return tg_audit_query(in->c, &f, &pg, out, err);
}

static int
a_audit_verify(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	return tg_err_from(err, tg_audit_verify(in->c->db, out));
}

/* The request body b of an MCP request tool: the members named in copy
 * (those present) and tool_id from the optional "tool" argument. Takes b;
 * then runs create (module or package request). */
static int
request_create(const struct tg_op_in *in, json_t *b, const char *const *copy,
    int (*create)(const struct tg_call *, json_t *, json_t **, struct tg_err *),
    json_t **out, struct tg_err *err)
{
	json_t *tool = json_object_get(in->body, "tool"), *v;
	char buf[24];
	int64_t tid;
	int rc = b != NULL ? TG_OK : -TG_E_NOMEM;

	for (; rc == TG_OK && *copy != NULL; copy++)
		if ((v = json_object_get(in->body, *copy)) != NULL &&
		    json_object_set(b, *copy, v) != 0)
			rc = -TG_E_NOMEM;
	if (rc == TG_OK && tool != NULL &&
	    (rc = tg_op_resolve(in->c, TG_OT_TOOL, tg_op_ref(tool, buf, sizeof(buf)),
		 &tid, err)) == TG_OK &&
	    json_object_set_new(b, "tool_id", json_integer((json_int_t)tid)) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK)
		rc = create(in->c, b, out, err);
	json_decref(b);
	return rc;
}

/* MCP only: {package, server, version?, import_names?, reason?, tool?} as
 * a package request (lib/packages.h), answered at once with status
 * "resolving" (the review document follows; GET the request). */
static int
request_package(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	static const char *const copy[] = {"version", "import_names", "reason", NULL};
	char buf[24];
	int64_t sid;
	int rc;

	if (json_object_get(in->body, "server") == NULL)
		return tg_err_field(err, "server", "a package is requested for one"
						   " server: name it");
	if (json_object_get(in->body, "module") != NULL)
		return tg_err_field(err, "module", "give either module or package");
	if ((rc = tg_op_resolve(in->c, TG_OT_SERVER,
		 tg_op_ref(json_object_get(in->body, "server"), buf, sizeof(buf)), &sid,
		 err)) != TG_OK)
		return rc;
	return request_create(in,
	    json_pack("{s:I, s:O}", "server_id", (json_int_t)sid, "name",
		json_object_get(in->body, "package")),
	    copy, tg_packages_create, out, err);
}

/* MCP only: {module, reason, tool?} as a module request, or with package a
 * package request. */
static int
a_request_module(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	static const char *const copy[] = {"module", "reason", NULL};

	if (json_object_get(in->body, "package") != NULL)
		return request_package(in, out, err);
	if (json_object_get(in->body, "module") == NULL)
		return tg_err_field(err, "module", "give module (an allow-list entry)"
						   " or package (a third-party distribution, with server)");
	return request_create(in, json_object(), copy, tg_module_requests_create,
	    out, err);
}

/* MCP only: {server, host, reason?} as a network request (the service
 * resolves server_id as an id or a name). */
static int
a_request_network(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	json_t *b;
	int rc;

	b = json_pack("{s:O, s:O, s:O*}", "server_id", json_object_get(in->body, "server"),
	    "host", json_object_get(in->body, "host"), "reason",
	    json_object_get(in->body, "reason"));
	if (b == NULL)
		return -TG_E_NOMEM;
	rc = tg_network_requests_create(in->c, b, out, err);
	json_decref(b);
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

/* The status object of tool t on server s (*out, new). */
static int
tool_status(json_t *t, json_t *s, json_t **out)
{
	static const char *const keep[] = {"id", "name", "exposed_name", "server_id",
	    "server_name", "status", "current_version", "approved_version",
	    "review_reason", "reviewed_at", "served", "served_version", "updated_at",
	    NULL};
	const char *st = json_string_value(json_object_get(t, "status"));
	const char *sst = json_string_value(json_object_get(s, "status"));
	json_t *o = json_object(), *v;
	int i, bad = o == NULL;

	for (i = 0; !bad && keep[i] != NULL; i++)
		if ((v = json_object_get(t, keep[i])) != NULL)
			bad = json_object_set(o, keep[i], v) != 0;
	bad = bad || json_object_set_new(o, "server_status", sst ? json_string(sst) : json_null()) != 0 ||
	    json_object_set_new(o, "next_step", json_string(next_step(st ? st : "", json_is_true(json_object_get(t, "served")), sst))) != 0;
	if (bad) {
		json_decref(o);
		return -TG_E_NOMEM;
	}
	*out = o;
	return TG_OK;
}

/* MCP only: where a tool stands, and the next step. */
static int
a_tool_status(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	json_t *t = NULL, *s = NULL;
	int rc;

	if ((rc = tg_tools_get(in->c, in->id, &t, err)) == TG_OK &&
	    (rc = tg_servers_get(in->c, json_integer_value(json_object_get(t, "server_id")), &s, err)) == TG_OK)
		rc = tool_status(t, s, out);
	json_decref(t);
	json_decref(s);
	return rc;
}

/* --- field specs (lib/jschema.h) ------------------------------------------ */

#define T_STR .types = TG_JT_STRING
#define T_INT .types = TG_JT_INTEGER
#define T_BOOL .types = TG_JT_BOOLEAN
#define T_ARRAY .types = TG_JT_ARRAY
#define T_OBJ .types = TG_JT_OBJECT
#define T_ANY .types = 0
#define T_ID .types = TG_JT_STRING | TG_JT_INTEGER /* an id or a name */
#define T_STR_NULL .types = TG_JT_STRING | TG_JT_NULL
#define T_OBJ_NULL .types = TG_JT_OBJECT | TG_JT_NULL
#define REQ .required = 1
#define REST .only = TG_JF_REST
#define MCP .only = TG_JF_MCP
#define DESC(d) .description = (d)
#define RANGE(lo, hi) .has_min = 1, .min = (lo), .has_max = 1, .max = (hi)
#define END \
	{ \
		NULL, .types = 0 \
	}

#define NAME_RE "^[a-z0-9][a-z0-9_-]{0,47}$"
#define F_SERVER \
	{ \
		"server", T_STR, REQ, DESC("server name or id") \
	}
#define F_TOOL \
	{ \
		"tool", T_ID, REQ, DESC("the tool: its id, its exposed name" \
					" (<server>__<tool>, as in tools/list) or <server>/<tool>") \
	}
#define F_SOURCE \
	{ \
		"source", T_ID, REQ, \
		    DESC("the external source: its id or <server>/<source>") \
	}

/* The MCP member of each target, and the page (lib/mcp_mgmt.c adds them
 * to a tool's inputSchema). */
static const struct tg_jfield f_server[] = {F_SERVER, END};
static const struct tg_jfield f_tool[] = {F_TOOL, END};
static const struct tg_jfield f_source[] = {F_SOURCE, END};
static const struct tg_jfield f_oauth_client[] = {
    {"id", T_ID, REQ, DESC("the OAuth client's id (toolgate_list_oauth_clients)")}, END};
static const struct tg_jfield f_package[] = {
    {"request", T_ID, REQ, DESC("the package request's id")}, END};
static const struct tg_jfield f_page[] = {
    {"limit", T_INT, RANGE(1, 200), DESC("page size (default 50)")},
    {"cursor", T_STR, DESC("next_cursor of the previous page")},
    END};

const struct tg_jfield *
tg_op_target_fields(enum tg_op_target t)
{
	switch (t) {
	case TG_OT_SERVER:
		return f_server;
	case TG_OT_TOOL:
		return f_tool;
	case TG_OT_SOURCE:
		return f_source;
	case TG_OT_OAUTH_CLIENT:
		return f_oauth_client;
	case TG_OT_PACKAGE:
		return f_package;
	default:
		return NULL;
	}
}

const struct tg_jfield *
tg_op_page_fields(void)
{
	return f_page;
}

static const struct tg_jfield f_server_new[] = {
    {"name", T_STR, REQ, .pattern = NAME_RE},
    {"description", T_STR},
    {"tool_prefix", T_STR_NULL,
	DESC("exposed-name prefix; \"\" for none; null or absent for <name>__")},
    END};
static const struct tg_jfield f_server_patch[] = {
    {"name", T_STR}, {"description", T_STR}, {"tool_prefix", T_STR_NULL}, END};

static const struct tg_jfield f_tool_new[] = {
    {"name", T_STR, REQ},
    {"code", T_STR, REQ},
    {"description", T_STR},
    {"input_schema", T_OBJ_NULL},
    {"annotations", T_OBJ_NULL},
    {"change_summary", T_STR},
    END};
static const struct tg_jfield f_tool_patch[] = {
    {"name", T_STR},
    {"code", T_STR},
    {"description", T_STR},
    {"input_schema", T_OBJ_NULL},
    {"annotations", T_OBJ_NULL},
    {"change_summary", T_STR},
    END};
static const struct tg_jfield f_tools_list[] = {
    {"status", T_STR, .enums = "draft|pending_review|approved|rejected"}, END};
static const struct tg_jfield f_rollback[] = {
    {"version", T_INT, REQ, .has_min = 1, .min = 1}, END};
static const struct tg_jfield f_submit[] = {{"note", T_STR}, END};
static const struct tg_jfield f_approve[] = {
    {"reason", T_STR}, {"version", T_INT}, END};
static const struct tg_jfield f_reason[] = {{"reason", T_STR}, END};
static const struct tg_jfield f_test[] = {
    {"arguments", T_OBJ},
    {"real_secrets", T_BOOL,
	DESC("admin only: give unapproved code the real secret values")},
    END};
static const struct tg_jfield f_validate[] = {
    {"code", T_STR, REQ},
    {"input_schema", T_OBJ_NULL, REST},
    {"input_schema", T_OBJ, MCP},
    END};
static const struct tg_jfield f_logs[] = {
    {"status", T_STR, .enums = "ok|error|timeout|truncated|unavailable",
	DESC("only runs with this status")},
    {"since", T_STR, DESC("ISO 8601 timestamp, e.g. 2026-01-31T00:00:00Z")},
    END};

/* Secrets: over MCP names only; a value passes through REST alone. */
static const struct tg_jfield f_secret_new[] = {
    {"key", T_STR, REQ, .pattern = "^[A-Za-z_][A-Za-z0-9_]{0,63}$",
	DESC("secret name")},
    {"description", T_STR, .max_length = 1024},
    {"value", T_STR, REST},
    END};
static const struct tg_jfield f_secret_set[] = {
    {"value", T_STR, REQ}, {"description", T_STR}, END};

static const struct tg_jfield f_module_req[] = {
    {"module", T_STR, REQ}, {"reason", T_STR}, {"tool_id", T_INT}, END};
static const struct tg_jfield f_network_req[] = {
    {"server_id", T_ANY, REQ}, {"host", T_STR, REQ}, {"reason", T_STR}, END};
static const struct tg_jfield f_package_req[] = {
    {"server_id", T_INT, REQ}, {"name", T_STR, REQ}, {"version", T_STR},
    {"import_names", T_ARRAY}, {"reason", T_STR}, {"tool_id", T_INT}, END};
static const struct tg_jfield f_import_name = {NULL, T_STR,
    .pattern = "^[A-Za-z_][A-Za-z0-9_]*$"};
static const struct tg_jfield f_request_module[] = {
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
    {"import_names", T_ARRAY, .items = &f_import_name,
	DESC("with package: the modules it provides that the tool imports, e.g."
	     " [\"yaml\"] (default: all its top-level modules)")},
    {"server", T_ID, DESC("with package: the server whose tools import it")},
    END};
static const struct tg_jfield f_request_network[] = {
    F_SERVER,
    {"host", T_STR, REQ},
    {"reason", T_STR, .max_length = 2048},
    END};

/* Sources: credentials and "internal" are set by an admin over REST; the
 * numeric settings come from lib/sources.h. */
#define SOURCE_NUM(n, lo, hi, def) {#n, T_INT, RANGE(lo, hi)},
#define SOURCE_FIELDS(req) \
	{"name", T_STR, req, .pattern = NAME_RE}, \
	    {"url", T_STR, req, DESC("http(s) URL of the remote MCP endpoint")}, \
	    {"description", T_STR}, \
	    {"transport", T_STR, REST}, \
	    {"internal", T_BOOL, REST}, \
	    {"enabled", T_BOOL}, \
	    {"auth_type", T_STR, .enums = "none|bearer|header"}, \
	    {"auth_header", T_STR_NULL}, \
	    {"credential", T_STR_NULL, REST}, \
	    TG_SOURCE_NUMS(SOURCE_NUM) END
static const struct tg_jfield f_source_new[] = {SOURCE_FIELDS(REQ)};
static const struct tg_jfield f_source_patch[] = {SOURCE_FIELDS(.required = 0)};

static const struct tg_jfield f_import_item_obj[] = {
    {"name", T_STR, REQ},
    {"local_name", T_STR},
    END};
static const struct tg_jfield f_import_item = {
    NULL, .types = TG_JT_STRING | TG_JT_OBJECT, .props = f_import_item_obj};
static const struct tg_jfield f_import[] = {
    {"tools", T_ARRAY, REQ, .min_items = 1, .items = &f_import_item},
    END};

/* --- the table ------------------------------------------------------------ */

#define GET(p) .rest = {"GET", (p), 200, 0, 0}
#define GETQ(p) .rest = {"GET", (p), 200, 0, TG_OPR_QUERY}
#define POST(p, st, max) .rest = {"POST", (p), (st), (max), TG_OPR_BODY}
#define POST_OPT_ST(p, st, max) .rest = {"POST", (p), (st), (max), TG_OPR_BODY_OPT}
#define POST_OPT(p, max) POST_OPT_ST((p), 200, (max))
#define PATCH(p, max) .rest = {"PATCH", (p), 200, (max), TG_OPR_BODY}
#define DELETE(p) .rest = {"DELETE", (p), 204, 0, 0}
#define TOOL(n, h, d) .mcp = {(n), (h), (d)}
#define RO TG_OPM_RO
#define DESTRUCTIVE TG_OPM_DESTRUCTIVE
#define IDEMPOTENT TG_OPM_IDEMPOTENT
#define OPEN TG_OPM_OPEN
#define SERVER .target = TG_OT_SERVER
#define TOOL_T .target = TG_OT_TOOL
#define SOURCE .target = TG_OT_SOURCE
/* A decision on a module or network request (a_requests_decide). */
#define DECIDE(name, v, path) \
	{ \
		(name), TG_P_APPROVE, .target = TG_OT_REQUEST, .fields = f_reason, .adapt = a_requests_decide, .variant = (v), POST_OPT((path), 4 * KiB) \
	}

/* A decision on a package request (a_packages_decide); st: its success
 * status (an approval is 202: the package-job process installs it). */
#define PKG_DECIDE(name, v, path, st) \
	{ \
		(name), TG_P_APPROVE, .target = TG_OT_PACKAGE, .fields = f_reason, .adapt = a_packages_decide, .variant = (v), POST_OPT_ST((path), (st), 4 * KiB) \
	}

const struct tg_op tg_ops[] = {
    {"health.ready", 0, .none = tg_health_ready, .rest = {"GET", "/ready", 200, 0, TG_OPR_PUBLIC}},

    /* sign-in sessions (login, refresh and me: handlers/auth.c) */
    {"sessions.logout", TG_P_SELF, .adapt = a_logout,
	.rest = {"POST", "/api/v1/auth/logout", 204, 4 * KiB, TG_OPR_BODY_OPT}},
    {"sessions.revoke", TG_P_SELF, .create = tg_sessions_revoke, POST("/api/v1/auth/revoke", 200, 8 * KiB)},
    {"sessions.revoke_all", TG_P_SELF, .create = tg_sessions_revoke_all, POST_OPT("/api/v1/auth/revoke-all", 4 * KiB)},
    {"sessions.blacklist_stats", TG_P_USERS, .none = tg_sessions_blacklist_stats, GET("/api/v1/auth/blacklist/stats")},

    /* identity: users, API keys, audit trail */
    {"users.list", TG_P_USERS, .adapt = a_users_list, GETQ("/api/v1/users")},
    {"users.create", TG_P_USERS, .adapt = a_users_create, POST("/api/v1/users", 201, 8 * KiB)},
    {"users.get", TG_P_USERS, .target = TG_OT_USER, .by_id = tg_users_get, GET("/api/v1/users/:id")},
    {"users.update", TG_P_USERS, .target = TG_OT_USER, .adapt = a_users_update, PATCH("/api/v1/users/:id", 8 * KiB)},
    {"users.delete", TG_P_USERS, .target = TG_OT_USER, .del = tg_users_delete, DELETE("/api/v1/users/:id")},
    {"apikeys.list", TG_P_SELF, .adapt = a_apikeys_list, GETQ("/api/v1/api-keys")},
    {"apikeys.create", TG_P_SELF, .adapt = a_apikeys_create, POST("/api/v1/api-keys", 201, 4 * KiB)},
    {"apikeys.delete", TG_P_SELF, .target = TG_OT_APIKEY, .del = tg_apikeys_revoke, DELETE("/api/v1/api-keys/:id")},
    /* OAuth for MCP clients (lib/oauth.h): registered clients, connected apps */
    {"oauth.clients.list", TG_P_USERS, .list = tg_oauth_clients_list, GET("/api/v1/oauth/clients"),
	TOOL("toolgate_list_oauth_clients", RO, "List the OAuth clients MCP applications registered (dynamic client registration): name, redirect URIs, registering address, last use, number of users who allowed them; paginated.")},
    {"oauth.clients.delete", TG_P_USERS, .target = TG_OT_OAUTH_CLIENT, .del = tg_oauth_clients_delete,
	DELETE("/api/v1/oauth/clients/:id"),
	TOOL("toolgate_delete_oauth_client", DESTRUCTIVE | IDEMPOTENT, "Delete a registered OAuth client by id: every user's consent for it is withdrawn and its tokens stop working at once.")},
    {"oauth.grants.list", TG_P_SELF, .list = tg_oauth_grants_list, GET("/api/v1/oauth/grants")},
    {"oauth.grants.delete", TG_P_SELF, .target = TG_OT_OAUTH_GRANT, .del = tg_oauth_grants_delete,
	DELETE("/api/v1/oauth/grants/:id")},
    /* security: the pending request's handle travels in the body, never
     * the path (access logs record paths) */
    {"oauth.requests.get", TG_P_SELF, .adapt = a_oauth_request, POST("/api/v1/oauth/consent", 200, 4 * KiB)},
    {"oauth.requests.decide", TG_P_SELF, .adapt = a_oauth_decide,
	POST("/api/v1/oauth/consent/decision", 200, 4 * KiB)},
    {"audit.list", TG_P_AUDIT, .adapt = a_audit_list, GETQ("/api/v1/audit")},
    {"audit.verify", TG_P_AUDIT, .adapt = a_audit_verify, GET("/api/v1/audit/verify")},

    /* servers */
    {"servers.list", TG_P_READ, .list = tg_servers_list, GET("/api/v1/servers"),
	TOOL("toolgate_list_servers", RO, "List servers (paginated: pass next_cursor back as cursor).")},
    {"servers.create", TG_P_WRITE, .fields = f_server_new, .create = tg_servers_create,
	POST("/api/v1/servers", 201, 16 * KiB),
	TOOL("toolgate_create_server", 0, "Create a server (a named group of tools), stopped. Its tools are exposed to MCP clients as <tool_prefix><tool> (default prefix \"<name>__\") once approved and the server is running.")},
    {"servers.get", TG_P_READ, SERVER, .by_id = tg_servers_get, GET("/api/v1/servers/:id"),
	TOOL("toolgate_get_server", RO, "Get one server by name or id (status, tool_prefix, allowed_hosts, tool_count).")},
    {"servers.update", TG_P_WRITE, SERVER, .fields = f_server_patch,
	.body = tg_servers_update, PATCH("/api/v1/servers/:id", 16 * KiB)},
    {"servers.delete", TG_P_WRITE, SERVER, .del = tg_servers_delete, DELETE("/api/v1/servers/:id"),
	TOOL("toolgate_delete_server", DESTRUCTIVE | IDEMPOTENT, "Delete a stopped server with all its tools, versions and secrets. Cannot be undone; refused while the server is running.")},
    {"servers.start", TG_P_WRITE, SERVER, .by_id = tg_servers_start, POST_OPT("/api/v1/servers/:id/start", 1 * KiB),
	TOOL("toolgate_start_server", IDEMPOTENT, "Start a server: its approved tools become visible to MCP clients. Refused when an exposed name clashes with another running server's.")},
    {"servers.stop", TG_P_WRITE, SERVER, .by_id = tg_servers_stop, POST_OPT("/api/v1/servers/:id/stop", 1 * KiB),
	TOOL("toolgate_stop_server", IDEMPOTENT, "Stop a server: its tools disappear from MCP clients until it is started again.")},

    /* tools */
    {"tools.list", TG_P_READ, SERVER, TG_OP_PAGED, .fields = f_tools_list,
	.adapt = a_tools_list, GET("/api/v1/servers/:id/tools"),
	TOOL("toolgate_list_tools", RO, "List the tools of a server (without code), optionally by status; paginated.")},
    {"tools.create", TG_P_WRITE, SERVER, .fields = f_tool_new, .body = tg_tools_create,
	POST("/api/v1/servers/:id/tools", 201, 1024 * KiB),
	TOOL("toolgate_create_tool", 0, "Create a Python tool on a server, as a draft. code must define main(...); keyword arguments come from the MCP call; return a JSON value or a list of MCP content blocks. input_schema (JSON Schema) is kept verbatim; without it the schema is derived from main()'s signature. Next: toolgate_test_tool, then toolgate_request_publish.")},

    /* secrets */
    {"secrets.list", TG_P_READ, SERVER, .paged = tg_secrets_list, GET("/api/v1/servers/:id/secrets"),
	TOOL("toolgate_list_secrets", RO, "List a server's secret names with has_value (whether an admin has set the value) and timestamps. Values are never returned.")},
    {"secrets.set", TG_P_SECRETS, SERVER, .adapt = a_secret_set,
	.rest = {"PUT", "/api/v1/servers/:id/secrets/:key", 200, 80 * KiB, TG_OPR_BODY}},
    {"secrets.create", TG_P_WRITE, SERVER, .fields = f_secret_new,
	.body = tg_secrets_create, POST("/api/v1/servers/:id/secrets", 201, 80 * KiB),
	TOOL("toolgate_create_secret", 0, "Create a secret placeholder on a server: a NAME (and description) without a value. An admin sets the value outside MCP (REST PUT /api/v1/servers/{id}/secrets/{key}); tools then read it from the secrets mapping. Values are never readable by anyone and cannot be passed here.")},
    {"secrets.delete", TG_P_SECRETS, SERVER, .adapt = a_secret_delete, DELETE("/api/v1/servers/:id/secrets/:key")},

    {"tools.get", TG_P_READ, TOOL_T, .by_id = tg_tools_get, GET("/api/v1/tools/:id"),
	TOOL("toolgate_get_tool", RO, "Get a tool (code, schema, status: draft, pending_review, approved or rejected, and whether it is served).")},
    {"tools.update", TG_P_WRITE, TOOL_T, .fields = f_tool_patch, .body = tg_tools_update,
	PATCH("/api/v1/tools/:id", 1024 * KiB),
	TOOL("toolgate_update_tool", DESTRUCTIVE | IDEMPOTENT, "Change a tool's name, code, description, input_schema or annotations (a new version; an approved tool goes back to review and MCP clients keep getting its approved version until the new one is approved; identical content changes nothing).")},
    {"tools.delete", TG_P_WRITE, TOOL_T, .del = tg_tools_delete, DELETE("/api/v1/tools/:id"),
	TOOL("toolgate_delete_tool", DESTRUCTIVE | IDEMPOTENT, "Delete a tool with all its versions; it disappears from MCP clients at once. Cannot be undone.")},
    {"tools.versions", TG_P_READ, TOOL_T, .paged = tg_tools_versions, GET("/api/v1/tools/:id/versions"),
	TOOL("toolgate_list_versions", RO, "List a tool's immutable versions, oldest first (without code); paginated.")},
    {"tools.version", TG_P_READ, TOOL_T, .adapt = a_version_get, GET("/api/v1/tools/:id/versions/:n")},
    {"tools.diff", TG_P_READ, TOOL_T, .by_id = tg_tools_diff, GET("/api/v1/tools/:id/diff")},

    /* execution logs */
    {"logs.tool", TG_P_READ, TOOL_T, TG_OP_PAGED, .fields = f_logs, .adapt = a_logs, GETQ("/api/v1/tools/:id/logs"),
	TOOL("toolgate_tool_logs", RO, "Recent executions of a tool (its MCP tools/call runs), newest first: status (ok, error, timeout, truncated, unavailable), error, duration_ms, caller, version, redacted arguments. Secrets are never shown. Paginated; filter by status or since (ISO 8601 timestamp).")},
    {"logs.server", TG_P_READ, SERVER, TG_OP_PAGED, .fields = f_logs,
	.adapt = a_logs, .variant = 1, GETQ("/api/v1/servers/:id/logs")},
    {"logs.get", TG_P_READ, .target = TG_OT_LOG, .by_id = tg_logs_get, GET("/api/v1/logs/:id")},

    /* the approval workflow */
    {"tools.rollback", TG_P_WRITE, TOOL_T, .fields = f_rollback,
	.body = tg_tools_rollback, POST("/api/v1/tools/:id/rollback", 200, 1 * KiB),
	TOOL("toolgate_rollback_tool", DESTRUCTIVE, "Make an old version current again (as a new version, pending review; the approved version stays served meanwhile. Back to exactly the approved content: approved again at once).")},
    {"tools.submit", TG_P_WRITE, TOOL_T, .fields = f_submit, .body = tg_tools_submit,
	POST_OPT("/api/v1/tools/:id/submit", 4 * KiB),
	TOOL("toolgate_request_publish", IDEMPOTENT, "Submit a draft tool for review (draft -> pending_review). An admin approves it; then it is served while its server runs.")},
    {"tools.approve", TG_P_APPROVE, TOOL_T, .fields = f_approve,
	.body = tg_tools_approve, POST_OPT("/api/v1/tools/:id/approve", 4 * KiB)},
    {"tools.reject", TG_P_APPROVE, TOOL_T, .fields = f_reason, .body = tg_tools_reject,
	POST_OPT("/api/v1/tools/:id/reject", 4 * KiB)},
    {"tools.revoke", TG_P_APPROVE, TOOL_T, .fields = f_reason, .body = tg_tools_revoke,
	POST_OPT("/api/v1/tools/:id/revoke", 4 * KiB)},
    {"tools.test", TG_P_RUN, TOOL_T, .fields = f_test, .body = tg_tools_test, POST_OPT("/api/v1/tools/:id/test", 512 * KiB),
	TOOL("toolgate_test_tool", OPEN, "Run a tool's current code (any status) in the sandbox with arguments, the allowed modules and the server's allowed hosts; returns the sandbox result (result, stdout, stderr, error, timed_out) and secret_values. Secrets: code that no admin approved never receives a real secret value - unless the code is exactly the tool's approved version, SECRETS maps each key to a placeholder \"[placeholder:KEY]\" (secret_values \"placeholder\"). Only an admin may pass real_secrets: true to run unapproved code with the real values (audited).")},
    {"tools.validate", TG_P_RUN, .fields = f_validate, .create = tg_tools_validate,
	POST("/api/v1/validate", 200, 1024 * KiB),
	TOOL("toolgate_validate_code", RO, "Validate Python tool code without saving it: syntax, main(), allowed imports (with line numbers), and the derived input schema.")},
    {"approvals.pending", TG_P_READ, .list = tg_approvals_pending, GET("/api/v1/approvals"),
	TOOL("toolgate_list_pending_requests", RO, "List everything waiting for an admin: tools pending review, module requests and network requests (kind: tool, module_request, network_request); paginated.")},
    {"module_requests.list", TG_P_READ, .flags = TG_OP_PAGED,
	.adapt = a_requests_list, GET("/api/v1/module-requests")},
    {"module_requests.create", TG_P_WRITE, .fields = f_module_req,
	.create = tg_module_requests_create, POST("/api/v1/module-requests", 201, 8 * KiB)},
    DECIDE("module_requests.approve", 1, "/api/v1/module-requests/:id/approve"),
    DECIDE("module_requests.reject", 0, "/api/v1/module-requests/:id/reject"),
    {"network_requests.list", TG_P_READ, .flags = TG_OP_PAGED,
	.adapt = a_requests_list, .variant = 1, GET("/api/v1/network-requests")},
    {"network_requests.create", TG_P_WRITE, .fields = f_network_req,
	.create = tg_network_requests_create,
	POST("/api/v1/network-requests", 201, 8 * KiB)},
    DECIDE("network_requests.approve", 3, "/api/v1/network-requests/:id/approve"),
    DECIDE("network_requests.reject", 2, "/api/v1/network-requests/:id/reject"),

    /* third-party packages (lib/packages.c) */
    {"packages.list", TG_P_READ, .flags = TG_OP_PAGED,
	.adapt = a_requests_list, .variant = 2, GET("/api/v1/package-requests")},
    {"packages.create", TG_P_WRITE, .fields = f_package_req,
	.create = tg_packages_create, POST("/api/v1/package-requests", 202, 16 * KiB)},
    {"packages.get", TG_P_READ, .target = TG_OT_PACKAGE, .by_id = tg_packages_get,
	GET("/api/v1/package-requests/:id"),
	TOOL("toolgate_get_package_request", RO, "Get a package request by id (request): its status (resolving, failed, pending, installing, approved, rejected, revoked, superseded), the review document once resolved, or the error when resolution or installation failed (error.stage resolve or install). toolgate_request_module with package answers at once with status resolving; call this until it is no longer resolving. An approved request is installing until the package-job process has installed it; then approved (its tools can import it) or failed.")},
    PKG_DECIDE("packages.approve", TG_PKG_APPROVE, "/api/v1/package-requests/:id/approve", 202),
    PKG_DECIDE("packages.reject", TG_PKG_REJECT, "/api/v1/package-requests/:id/reject", 200),
    PKG_DECIDE("packages.revoke", TG_PKG_REVOKE, "/api/v1/package-requests/:id/revoke", 200),

    /* settings, export and import */
    {"settings.get", TG_P_READ, .none = tg_settings_get, GET("/api/v1/settings")},
    {"settings.patch", TG_P_SETTINGS, .create = tg_settings_patch, PATCH("/api/v1/settings", 64 * KiB)},
    {"export", TG_P_SETTINGS, .none = tg_export_build, GET("/api/v1/export")},
    {"import", TG_P_SETTINGS, .adapt = a_import,
	.rest = {"POST", "/api/v1/import", 201, 8192 * KiB, TG_OPR_BODY | TG_OPR_QUERY}},

    /* external MCP sources */
    {"sources.list", TG_P_READ, SERVER, .paged = tg_sources_list, GET("/api/v1/servers/:id/sources"),
	TOOL("toolgate_list_sources", RO, "List a server's external MCP sources (URL, health status, circuit breaker state, tool count). Credentials are never returned.")},
    {"sources.create", TG_P_WRITE, SERVER, .fields = f_source_new,
	.body = tg_sources_create, POST("/api/v1/servers/:id/sources", 201, 32 * KiB),
	TOOL("toolgate_add_source", 0, "Add an external MCP server (Streamable HTTP URL) to a server as a source of tools. Then toolgate_discover_source_tools and toolgate_import_source_tools. Credentials and internal (private-network) sources are set by an admin over REST.")},
    {"sources.get", TG_P_READ, SOURCE, .by_id = tg_sources_get, GET("/api/v1/sources/:id")},
    {"sources.update", TG_P_WRITE, SOURCE, .fields = f_source_patch,
	.body = tg_sources_update, PATCH("/api/v1/sources/:id", 32 * KiB)},
    {"sources.delete", TG_P_WRITE, SOURCE, .del = tg_sources_delete, DELETE("/api/v1/sources/:id")},
    {"sources.discover", TG_P_WRITE, SOURCE, .by_id = tg_sources_discover, POST_OPT("/api/v1/sources/:id/discover", 1 * KiB),
	TOOL("toolgate_discover_source_tools", DESTRUCTIVE | IDEMPOTENT | OPEN, "Connect to an external source and list its tools, marking which are imported. An imported tool whose remote description, schema or annotations changed is updated, and goes back to review if it was approved.")},
    {"sources.import", TG_P_WRITE, SOURCE, .fields = f_import,
	.body = tg_sources_import, POST("/api/v1/sources/:id/import", 200, 64 * KiB),
	TOOL("toolgate_import_source_tools", IDEMPOTENT | OPEN, "Import tools of an external source into its server, as tools pending review (served once an admin approves them and the server runs). tools: remote names, or {name, local_name} to rename.")},
    {"sources.health", TG_P_READ, SOURCE, .by_id = tg_sources_health, GET("/api/v1/sources/:id/health")},

    /* MCP only: arguments of their own */
    {"module_requests.ask", TG_P_WRITE, .fields = f_request_module,
	.adapt = a_request_module,
	TOOL("toolgate_request_module", 0, "Ask an admin to add a Python module to the global import allow-list (a pending module request), or, with package and server, to install a third-party distribution (optionally with extras, 'requests[socks]') from the package index for that server's tools: the request is answered at once with status resolving and is then resolved in the background into a pending request showing its resolved version, dependency closure, hashes and known vulnerabilities, or failed with the reason (see toolgate_get_package_request). Use it when toolgate_validate_code reports a disallowed import.")},
    {"network_requests.ask", TG_P_WRITE, .fields = f_request_network,
	.adapt = a_request_network,
	TOOL("toolgate_request_network_access", 0, "Ask an admin to allow a server's tools to reach a host (a pending network request). host: lower-case host name or IP, optional :port, optional \"*.\" wildcard prefix.")},
    {"tools.status", TG_P_READ, TOOL_T, .adapt = a_tool_status,
	TOOL("toolgate_tool_status", RO, "Where a tool stands: status (draft, pending_review, approved, rejected), current and approved versions, review reason, server status, whether it is served and under which name, and the next step to take.")},
};

const size_t tg_ops_n = sizeof(tg_ops) / sizeof(tg_ops[0]);
_Static_assert(sizeof(tg_ops) / sizeof(tg_ops[0]) <= TG_OPS_MAX,
    "raise TG_OPS_MAX");

/* --- running one ------------------------------------------------------------ */

int
tg_op_valid(const struct tg_op *op)
{
	return (op->none != NULL) + (op->create != NULL) + (op->list != NULL) +
	    (op->by_id != NULL) + (op->body != NULL) + (op->paged != NULL) +
	    (op->del != NULL) + (op->adapt != NULL) ==
	    1;
}

int
tg_op_paged(const struct tg_op *op)
{
	return op->list != NULL || op->paged != NULL || (op->flags & TG_OP_PAGED);
}

const char *
tg_op_ref(const json_t *v, char *buf, size_t cap)
{
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return json_string_value(v);
}

int
tg_op_run(const struct tg_op_in *in, json_t **out, struct tg_err *err)
{
	const struct tg_op *op = in->op;
	const struct tg_call *c = in->c;

	if (op->adapt != NULL)
		return op->adapt(in, out, err);
	if (op->none != NULL)
		return op->none(c, out, err);
	if (op->create != NULL)
		return op->create(c, in->body, out, err);
	if (op->list != NULL)
		return op->list(c, &in->page, out, err);
	if (op->by_id != NULL)
		return op->by_id(c, in->id, out, err);
	if (op->body != NULL)
		return op->body(c, in->id, in->body, out, err);
	if (op->paged != NULL)
		return op->paged(c, in->id, &in->page, out, err);
	return op->del(c, in->id, err);
}
