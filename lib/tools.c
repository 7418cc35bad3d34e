/*
 * tools.c - tools, versions, the approval workflow, validation and test
 * runs through the sandbox, and the MCP serving queries (see tools.h).
 *
 * Every content change (name, code, description, input schema,
 * annotations) bumps tools.current_version and appends the new content as
 * an immutable tool_versions row inside the same transaction; tools always
 * holds the current version's content. Approval state lives on tools;
 * which version was approved is tools.approved_version.
 *
 * security (issue #14): an approval names the version the admin reviewed
 * ({"version": n}, 409 when it is no longer current), and what MCP clients
 * see and what the sandbox runs is always the APPROVED version's content
 * (tool_versions row approved_version), never tools' current columns. So a
 * Python tool stays served with its approved version while a newer one
 * waits for review; revoke withdraws it (approved_version NULL). An
 * imported (external) tool is served only while its status is 'approved'
 * (its behaviour lives on the remote; any change stops it until review).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/config.h"
#include "fcgi/log.h"
#include "fcgi/request.h"
#include "lib/buf.h"
#include "lib/db.h"
#include "lib/execlog.h"	/* security: tg_mcp_log_test */
#include "lib/parse.h"
#include "lib/sandbox_client.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/settings.h"
#include "lib/status.h"
#include "lib/tools.h"

/* security: a tool has something to serve (see the head comment). */
#define SERVABLE \
	"(t.approved_version IS NOT NULL AND (t.kind = 'python' OR t.status = 'approved'))"

#define TOOL_FIELDS \
	"'id', t.id, 'server_id', t.server_id, 'server_name', s.name," \
	" 'name', t.name, 'exposed_name', coalesce(s.tool_prefix, s.name || '__') || t.name," \
	" 'description', t.description, 'input_schema', t.input_schema," \
	" 'schema_source', t.schema_source, 'annotations', t.annotations," \
	" 'status', t.status, 'current_version', t.current_version," \
	" 'approved_version', t.approved_version, 'review_reason', t.review_reason," \
	" 'reviewed_by', t.reviewed_by, 'reviewed_at', t.reviewed_at," \
	" 'served', (" SERVABLE " AND s.status = 'running')," \
	" 'served_version', CASE WHEN " SERVABLE " THEN t.approved_version END," \
	" 'created_by', t.created_by, 'updated_by', t.updated_by," \
	" 'created_at', t.created_at, 'updated_at', t.updated_at"
#define TOOL_FROM " FROM tools t JOIN servers s ON s.id = t.server_id"
/* security: what is served is the approved version's content */
#define SERVED_JOIN \
	" JOIN tool_versions v ON v.tool_id = t.id AND v.version = t.approved_version"

#define VERSION_FIELDS \
	"'tool_id', v.tool_id, 'version', v.version, 'name', v.name," \
	" 'description', v.description," \
	" 'input_schema', v.input_schema, 'schema_source', v.schema_source," \
	" 'annotations', v.annotations, 'change_summary', v.change_summary," \
	" 'author_id', v.author_id, 'created_at', v.created_at"

#define APPEND_VERSION \
	"INSERT INTO tool_versions (tool_id, version, name, code, description," \
	" input_schema, schema_source, annotations, change_summary, author_id)" \
	" SELECT id, current_version, name, code, description, input_schema, schema_source," \
	" annotations, $2, $3::bigint FROM tools WHERE id = $1::bigint"

static int
db(struct tg_req *req, const char *sql, int n, const char *const *p,
    PGresult **out)
{
	return tg_db_exec(req->ctx->db, sql, n, p, out);
}

static void
i64s(char *buf, size_t cap, int64_t v)
{
	snprintf(buf, cap, "%lld", (long long)v);
}

static int
no_tool(struct tg_err *err, int64_t id)
{
	return tg_err_set(err, TG_E_NOTFOUND, "no tool with id %lld", (long long)id);
}

/* ---------------------------------------------------------------- reads */

int
tg_tools_list(struct tg_req *req, int64_t server_id, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	char sid[24], lim[24], aft[24];
	const char *p[4];
	int64_t limit, after;
	json_t *rows = NULL, *one = NULL;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_page_args(pg, &limit, &after, err)) != TG_OK)
		return rc;
	if (status && strcmp(status, "draft") != 0 && strcmp(status, "pending_review") != 0 &&
	    strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0)
		return tg_err_set(err, TG_E_BADREQ,
		    "status must be draft, pending_review, approved or rejected");
	if ((rc = tg_servers_get(req, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	i64s(sid, sizeof(sid), server_id);
	i64s(lim, sizeof(lim), limit + 1);
	i64s(aft, sizeof(aft), after);
	p[0] = sid;
	p[1] = aft;
	p[2] = lim;
	p[3] = status;
	rc = tg_svc_query_array(req->ctx->db,
	    "SELECT json_build_object(" TOOL_FIELDS ")::text" TOOL_FROM
	    " WHERE t.server_id = $1::bigint AND t.id > $2::bigint"
	    " AND ($4::text IS NULL OR t.status = $4::text)"
	    " ORDER BY t.id LIMIT $3::bigint", 4, p, &rows);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, limit, "id", out));
}

int
tg_tools_get(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	char ids[24];
	const char *p[1];
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	rc = tg_svc_query_object(req->ctx->db,
	    "SELECT json_build_object(" TOOL_FIELDS ", 'code', t.code)::text"
	    TOOL_FROM " WHERE t.id = $1::bigint", 1, p, out);
	if (rc == -TG_E_NOTFOUND)
		return no_tool(err, id);
	return tg_err_from(err, rc);
}

int
tg_tools_versions(struct tg_req *req, int64_t id, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	char ids[24], lim[24], aft[24];
	const char *p[3];
	int64_t limit, after;
	json_t *rows = NULL, *one = NULL;
	int rc;

	if ((rc = tg_tools_get(req, id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	if ((rc = tg_svc_page_args(pg, &limit, &after, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	i64s(lim, sizeof(lim), limit + 1);
	i64s(aft, sizeof(aft), after);
	p[0] = ids;
	p[1] = aft;
	p[2] = lim;
	rc = tg_svc_query_array(req->ctx->db,
	    "SELECT json_build_object(" VERSION_FIELDS ")::text FROM tool_versions v"
	    " WHERE v.tool_id = $1::bigint AND v.version > $2::bigint"
	    " ORDER BY v.version LIMIT $3::bigint", 3, p, &rows);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, limit, "version", out));
}

int
tg_tools_version_get(struct tg_req *req, int64_t id, int64_t version,
    json_t **out, struct tg_err *err)
{
	char ids[24], vs[24];
	const char *p[2];
	json_t *one = NULL;
	int rc;

	if ((rc = tg_tools_get(req, id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	i64s(ids, sizeof(ids), id);
	i64s(vs, sizeof(vs), version);
	p[0] = ids;
	p[1] = vs;
	rc = tg_svc_query_object(req->ctx->db,
	    "SELECT json_build_object(" VERSION_FIELDS ", 'code', v.code)::text"
	    " FROM tool_versions v WHERE v.tool_id = $1::bigint AND v.version = $2::int",
	    2, p, out);
	if (rc == -TG_E_NOTFOUND)
		return tg_err_set(err, rc, "tool %lld has no version %lld",
		    (long long)id, (long long)version);
	return tg_err_from(err, rc);
}

/* ------------------------------------------------------- validation */

static void
sandbox_opts(const struct tg_req *req, struct tg_sandbox_opts *o, char *diag,
    size_t cap)
{
	const struct tg_config *cfg = req->ctx->cfg;

	memset(o, 0, sizeof(*o));
	if (cfg) {
		o->helper_path = cfg->sandbox_helper[0] ? cfg->sandbox_helper : NULL;
		o->python_path = cfg->sandbox_python[0] ? cfg->sandbox_python : NULL;
		o->allow_degraded = cfg->sandbox_allow_degraded;
	}
	o->diag = diag;
	o->diag_len = cap;
	diag[0] = '\0';
}

/* Sandbox limits from the settings (code_bytes is ours, not the helper's). */
static json_t *
run_limits(struct tg_db *dbh)
{
	json_t *lim = NULL;

	if (tg_settings_value(dbh, "limits", &lim) != TG_OK)
		return json_object();
	json_object_del(lim, "code_bytes");
	return lim;
}

/*
 * Validates code in the sandbox. On success *result is the validator's
 * document ({"ok", "errors", "input_schema", ...}); -TG_E_UNAVAIL when the
 * sandbox cannot run (err says why).
 */
static int
run_validator(struct tg_req *req, const char *code, json_t **result,
    struct tg_err *err)
{
	struct tg_sandbox_opts o;
	json_t *rq = NULL, *mods = NULL, *lim;
	char diag[256];
	int rc;

	if ((rc = tg_settings_value(req->ctx->db, "allowed_modules", &mods)) != TG_OK)
		return tg_err_from(err, rc);
	lim = run_limits(req->ctx->db);
	rq = json_pack("{s:s, s:s, s:o, s:o, s:{}}", "mode", "validate", "code",
	    code, "allowed_modules", mods, "limits", lim ? lim : json_object(),
	    "arguments");
	if (rq == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	sandbox_opts(req, &o, diag, sizeof(diag));
	rc = tg_sandbox_run(&o, rq, result);
	json_decref(rq);
	if (rc == -TG_E_UNAVAIL || rc == -TG_E_TIMEOUT || rc == -TG_E_INTERNAL) {
		tg_log(TG_LOG_WARN, "tools.validator_unavailable", "rc=%d msg=%s", rc,
		    tg_log_q(diag));
		return tg_err_set(err, TG_E_UNAVAIL,
		    "the sandbox is not available to validate code%s%s",
		    diag[0] ? ": " : "", diag);
	}
	if (rc == -TG_E_TOOLARGE)
		return tg_err_field(err, "code", "the code is too large for the sandbox");
	if (rc == -TG_E_BADREQ)
		return tg_err_field(err, "code", "%s", diag[0] ? diag : "rejected by the sandbox");
	return tg_err_from(err, rc);
}

/* Validator errors -> 422 field errors on "code". */
static int
code_errors(json_t *res, struct tg_err *err)
{
	json_t *errs = json_object_get(res, "errors"), *e;
	size_t i;

	json_array_foreach(errs, i, e) {
		json_t *l = json_object_get(e, "line"), *c = json_object_get(e, "column");
		const char *m = json_string_value(json_object_get(e, "message"));

		tg_err_field(err, "code", "line %lld, column %lld: %s",
		    (long long)(json_is_integer(l) ? json_integer_value(l) : 0),
		    (long long)(json_is_integer(c) ? json_integer_value(c) : 0),
		    m ? m : "invalid");
	}
	if (err->status == 0)
		tg_err_field(err, "code", "%s", json_string_value(json_object_get(res, "error")) ?
		    json_string_value(json_object_get(res, "error")) : "the code is not valid");
	return -err->status;
}

/*
 * Validates code and works out the schema to store: explicit (given, kept
 * verbatim), derived (from the validator) or default ({"type":"object"},
 * when the sandbox is unavailable: saving still works, derivation happens
 * on the next save). *schema is a new reference.
 */
static int
check_code(struct tg_req *req, const char *code, json_t *explicit_schema,
    json_t **schema, const char **source, struct tg_err *err)
{
	json_t *res = NULL, *lim = NULL, *cb;
	struct tg_err verr;
	int64_t max = 256 * 1024;
	int rc;

	tg_err_init(&verr);
	if (tg_settings_value(req->ctx->db, "limits", &lim) == TG_OK &&
	    json_is_integer(cb = json_object_get(lim, "code_bytes")))
		max = json_integer_value(cb);
	json_decref(lim);
	if (strlen(code) == 0)
		return tg_err_field(err, "code", "must not be empty");
	if ((int64_t)strlen(code) > max)
		return tg_err_field(err, "code", "is %zu bytes; the limit is %lld",
		    strlen(code), (long long)max);
	rc = run_validator(req, code, &res, &verr);
	if (rc == -TG_E_UNAVAIL) {
		tg_err_clear(&verr);
		*schema = explicit_schema ? json_incref(explicit_schema) :
		    json_pack("{s:s}", "type", "object");
		*source = explicit_schema ? "explicit" : "default";
		return *schema ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
	}
	if (rc != TG_OK) {
		/* hand the validator's error over */
		*err = verr;
		return rc;
	}
	if (!json_is_true(json_object_get(res, "ok"))) {
		rc = code_errors(res, err);
		json_decref(res);
		return rc;
	}
	if (explicit_schema) {
		*schema = json_incref(explicit_schema);
		*source = "explicit";
	} else if (json_is_object(json_object_get(res, "input_schema"))) {
		*schema = json_incref(json_object_get(res, "input_schema"));
		*source = "derived";
	} else {
		*schema = json_pack("{s:s}", "type", "object");
		*source = "default";
	}
	json_decref(res);
	return *schema ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}

static int
check_schema(json_t *s, struct tg_err *err)
{
	json_t *t;

	if (s == NULL || json_is_null(s))
		return TG_OK;
	t = json_object_get(s, "type");
	if (t && !(json_is_string(t) && strcmp(json_string_value(t), "object") == 0))
		return tg_err_field(err, "input_schema",
		    "must describe an object (\"type\": \"object\")");
	return TG_OK;
}

int
tg_tools_validate(struct tg_req *req, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *code = NULL;
	json_t *schema = NULL, *res = NULL, *errs, *o;
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_check_object(in, "code:s!,input_schema:O", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:s, s?o !}", "code", &code,
	    "input_schema", &schema) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if (json_is_null(schema))
		schema = NULL;
	if ((rc = check_schema(schema, err)) != TG_OK)
		return rc;
	if ((rc = run_validator(req, code, &res, err)) != TG_OK)
		return rc;
	errs = json_object_get(res, "errors");
	o = json_pack("{s:b, s:o, s:O, s:s}", "ok",
	    json_is_true(json_object_get(res, "ok")), "errors",
	    json_is_array(errs) ? json_incref(errs) : json_array(), "input_schema",
	    schema ? schema : (json_object_get(res, "input_schema") ?
	    json_object_get(res, "input_schema") : json_null()),
	    "schema_source", schema ? "explicit" : "derived");
	json_decref(res);
	if (o == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	*out = o;
	return TG_OK;
}

/* ------------------------------------------------------------- writes */

static const char *
dumps(json_t *v, char **hold)
{
	*hold = NULL;
	if (v == NULL || json_is_null(v))
		return NULL;
	*hold = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return *hold;
}

static int
check_common(json_t *in, struct tg_err *err)
{
	const char *s;
	json_t *v;

	if ((v = json_object_get(in, "name")) && json_is_string(v) &&
	    !tg_svc_valid_tool_name(json_string_value(v)))
		tg_err_field(err, "name",
		    "1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'");
	if ((v = json_object_get(in, "description")) && json_is_string(v) &&
	    strlen(json_string_value(v)) > TG_TOOL_DESC_MAX)
		tg_err_field(err, "description", "at most %d bytes", TG_TOOL_DESC_MAX);
	if ((v = json_object_get(in, "change_summary")) && json_is_string(v) &&
	    strlen(json_string_value(v)) > 1024)
		tg_err_field(err, "change_summary", "at most 1024 bytes");
	if ((v = json_object_get(in, "code")) && json_is_string(v) &&
	    (s = json_string_value(v)) && strlen(s) > TG_TOOL_CODE_MAX)
		tg_err_field(err, "code", "at most %d bytes", TG_TOOL_CODE_MAX);
	check_schema(json_object_get(in, "input_schema"), err);
	return err->status ? -err->status : TG_OK;
}

static int
name_taken(struct tg_req *req, struct tg_err *err, int rc, const char *name)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(req->ctx->db), "23505") == 0)
		return tg_err_set(err, rc, "this server already has a tool named '%s'", name);
	return tg_err_from(err, rc);
}

/*
 * security: the name a tool of this server SERVES (its approved version's
 * name) stays its own while a rename waits for review, so no other tool of
 * the server may take it (tools' unique index only covers current names).
 * tool_id 0: a new tool.
 */
static int
served_name_taken(struct tg_req *req, int64_t server_id, int64_t tool_id,
    const char *name, struct tg_err *err)
{
	char sid[24], tid[24];
	const char *p[3];
	PGresult *res = NULL;
	int rc;

	i64s(sid, sizeof(sid), server_id);
	i64s(tid, sizeof(tid), tool_id);
	p[0] = sid;
	p[1] = tid;
	p[2] = name;
	rc = db(req, "SELECT t.id FROM tools t JOIN tool_versions v ON v.tool_id = t.id"
	    " AND v.version = t.approved_version WHERE t.server_id = $1::bigint"
	    " AND t.id <> $2::bigint AND v.name = $3 AND " SERVABLE " LIMIT 1", 3, p, &res);
	if (rc == TG_OK && PQntuples(res) > 0)
		rc = tg_err_set(err, TG_E_CONFLICT, "tool %s of this server is served as '%s'"
		    " (its approved version) until its rename is approved", PQgetvalue(res, 0, 0),
		    name);
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_tools_create(struct tg_req *req, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err)
{
	const char *name = NULL, *code = NULL, *desc = "", *summary = "created";
	const char *source = NULL, *p[9];
	json_t *schema_in = NULL, *annot = NULL, *schema = NULL, *one = NULL;
	json_t *detail = NULL;
	char sid[24], actor[24], *schema_txt = NULL, *annot_txt = NULL;
	PGresult *res = NULL, *srv = NULL;
	json_error_t je;
	int64_t id = 0;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_check_object(in, "name:s!,code:s!,description:s,"
	    "input_schema:O,annotations:O,change_summary:s", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:s, s:s, s?s, s?o, s?o, s?s !}", "name",
	    &name, "code", &code, "description", &desc, "input_schema", &schema_in,
	    "annotations", &annot, "change_summary", &summary) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if ((rc = check_common(in, err)) != TG_OK)
		return rc;
	if (json_is_null(schema_in))
		schema_in = NULL;
	if ((rc = tg_servers_get(req, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	one = NULL;
	if ((rc = check_code(req, code, schema_in, &schema, &source, err)) != TG_OK)
		return rc;

	i64s(sid, sizeof(sid), server_id);
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	p[0] = sid;
	if ((rc = db(req, "SELECT status FROM servers WHERE id = $1::bigint FOR SHARE",
	    1, p, &srv)) != TG_OK)
		goto out;
	if (PQntuples(srv) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no server with id %lld", (long long)server_id);
		goto out;
	}
	if (strcmp(PQgetvalue(srv, 0, 0), "running") == 0 &&
	    (rc = tg_servers_check_clash(req, server_id, NULL, name, err)) != TG_OK)
		goto out;
	if ((rc = served_name_taken(req, server_id, 0, name, err)) != TG_OK)
		goto out;
	p[1] = name;
	p[2] = desc;
	p[3] = code;
	p[4] = dumps(schema, &schema_txt);
	p[5] = source;
	p[6] = dumps(annot, &annot_txt);
	p[7] = tg_svc_actor(req, actor, sizeof(actor));
	rc = db(req, "INSERT INTO tools (server_id, name, description, code, input_schema,"
	    " schema_source, annotations, created_by, updated_by)"
	    " VALUES ($1::bigint, $2, $3, $4, $5::json, $6, $7::json, $8::bigint, $8::bigint)"
	    " RETURNING id", 8, p, &res);
	if (rc != TG_OK) {
		rc = name_taken(req, err, rc, name);
		goto out;
	}
	if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &id)) != TG_OK)
		goto out;
	p[0] = PQgetvalue(res, 0, 0);
	p[1] = summary;
	p[2] = p[7];
	if ((rc = db(req, APPEND_VERSION, 3, p, NULL)) != TG_OK)
		goto out;
	detail = json_pack("{s:s, s:I, s:i}", "name", name, "server_id",
	    (json_int_t)server_id, "version", 1);
	if ((rc = tg_svc_audit(req, "tool.create", PQgetvalue(res, 0, 0),
	    "success", detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_tools_get(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	free(schema_txt);
	free(annot_txt);
	json_decref(schema);
	json_decref(detail);
	PQclear(res);
	PQclear(srv);
	return tg_err_from(err, rc);
}

static json_t *
load_json_cell(PGresult *res, int col)
{
	json_error_t je;

	if (PQgetisnull(res, 0, col))
		return json_null();
	return json_loads(PQgetvalue(res, 0, col), JSON_DECODE_ANY, &je);
}

/* Loads the tool row for update: columns 0 server_id, 1 name, 2
 * description, 3 code, 4 input_schema, 5 schema_source, 6 annotations,
 * 7 status, 8 server status, 9 current_version, 10 kind, 11
 * approved_version (NULL: none), 12 whether it has something to serve. */
static int
lock_tool(struct tg_req *req, int64_t id, PGresult **res, struct tg_err *err)
{
	char ids[24];
	const char *p[1];
	int rc;

	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	rc = db(req, "SELECT t.server_id, t.name, t.description, t.code,"
	    " t.input_schema::text, t.schema_source, t.annotations::text, t.status,"
	    " s.status, t.current_version,"
	    " t.kind," /* security: column 10, imported tools (sql/005) */
	    " t.approved_version, " SERVABLE
	    " FROM tools t JOIN servers s ON s.id = t.server_id"
	    " WHERE t.id = $1::bigint FOR UPDATE OF t", 1, p, res);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return no_tool(err, id);
	}
	return TG_OK;
}

static int
jeq(json_t *a, json_t *b)
{
	if (a == NULL)
		a = json_null();
	if (b == NULL)
		b = json_null();
	return json_equal(a, b);
}

int
tg_tools_update(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *name, *desc, *code, *summary = "updated", *source, *status;
	const char *p[11];
	json_t *schema_in = NULL, *annot_in = NULL, *old_schema = NULL;
	json_t *old_annot = NULL, *schema = NULL, *annot, *detail = NULL;
	char ids[24], actor[24], *schema_txt = NULL, *annot_txt = NULL;
	PGresult *row = NULL;
	json_error_t je;
	int rc, code_changed, desc_changed, schema_changed, annot_changed;
	int content_changed, code_only = 0, has_schema, has_annot, name_changed;
	int64_t server_id = 0;

	name = desc = code = NULL;
	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_check_object(in, "name:s,code:s,description:s,"
	    "input_schema:O,annotations:O,change_summary:s", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s?s, s?s, s?s, s?o, s?o, s?s !}", "name",
	    &name, "code", &code, "description", &desc, "input_schema", &schema_in,
	    "annotations", &annot_in, "change_summary", &summary) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if ((rc = check_common(in, err)) != TG_OK)
		return rc;
	has_schema = schema_in != NULL;
	has_annot = annot_in != NULL;
	if ((rc = tg_settings_reset_code_only(req->ctx->db, &code_only)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = lock_tool(req, id, &row, err)) != TG_OK)
		goto out;
	tg_parse_i64(PQgetvalue(row, 0, 0), 1, INT64_MAX, &server_id);
	/* security: an imported (external) tool's code and input schema come
	 * from its source; other edits reset approval whatever the setting. */
	if (strcmp(PQgetvalue(row, 0, 10), "external") == 0) {
		if (code != NULL)
			rc = tg_err_field(err, "code", "imported tools follow their source;"
			    " edit the source instead");
		if (has_schema)
			rc = tg_err_field(err, "input_schema", "imported tools follow their"
			    " source; edit the source instead");
		if (rc != TG_OK)
			goto out;
		code_only = 0;
	}
	if (name == NULL)
		name = PQgetvalue(row, 0, 1);
	if (desc == NULL)
		desc = PQgetvalue(row, 0, 2);
	if (code == NULL)
		code = PQgetvalue(row, 0, 3);
	old_schema = load_json_cell(row, 4);
	old_annot = load_json_cell(row, 6);
	source = PQgetvalue(row, 0, 5);
	code_changed = strcmp(code, PQgetvalue(row, 0, 3)) != 0;
	desc_changed = strcmp(desc, PQgetvalue(row, 0, 2)) != 0;

	/* The schema after this change. */
	if (has_schema && !json_is_null(schema_in)) {
		if (code_changed) {
			if ((rc = check_code(req, code, schema_in, &schema, &source, err)) != TG_OK)
				goto out;
		} else {
			schema = json_incref(schema_in);
			source = "explicit";
		}
	} else if (code_changed || (has_schema && strcmp(source, "explicit") == 0)) {
		json_t *keep = (!has_schema && strcmp(source, "explicit") == 0) ?
		    old_schema : NULL;

		if ((rc = check_code(req, code, keep, &schema, &source, err)) != TG_OK)
			goto out;
	} else {
		schema = json_incref(old_schema);
	}
	annot = has_annot ? annot_in : old_annot;
	schema_changed = !jeq(schema, old_schema);
	annot_changed = !jeq(annot, old_annot);
	/* security (issue #14): the name is what models see, so a rename is a
	 * content change like a description change (a new version; review
	 * again unless approval_reset_on is "code"). */
	name_changed = strcmp(name, PQgetvalue(row, 0, 1)) != 0;
	content_changed = code_changed || desc_changed || schema_changed ||
	    annot_changed || name_changed;

	/* An approved tool that stays approved (approval_reset_on "code" and
	 * no code change) has its approval moved to the new version below,
	 * so what is served is always what approved_version names. */
	status = PQgetvalue(row, 0, 7);
	if (content_changed) {
		if (strcmp(status, "approved") == 0 &&
		    (code_changed || !code_only))
			status = "pending_review";
		else if (strcmp(status, "rejected") == 0)
			status = "draft";
	}
	if (name_changed && strcmp(PQgetvalue(row, 0, 8), "running") == 0 &&
	    (rc = tg_servers_check_clash(req, server_id, NULL, name, err)) != TG_OK)
		goto out;
	if (name_changed && (rc = served_name_taken(req, server_id, id, name, err)) != TG_OK)
		goto out;

	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	p[1] = name;
	p[2] = desc;
	p[3] = code;
	p[4] = dumps(schema, &schema_txt);
	p[5] = source;
	p[6] = dumps(annot, &annot_txt);
	p[7] = status;
	p[8] = content_changed ? "1" : "0";
	p[9] = tg_svc_actor(req, actor, sizeof(actor));
	rc = db(req, "UPDATE tools SET name = $2, description = $3, code = $4,"
	    " input_schema = $5::json, schema_source = $6, annotations = $7::json,"
	    " review_reason = CASE WHEN status = $8 THEN review_reason ELSE NULL END,"
	    " approved_version = CASE WHEN status = 'approved' AND $8 = 'approved'"
	    " AND $9::int = 1 THEN current_version + 1 ELSE approved_version END,"
	    " status = $8, current_version = current_version + $9::int,"
	    " updated_by = $10::bigint, updated_at = now() WHERE id = $1::bigint",
	    10, p, NULL);
	if (rc != TG_OK) {
		rc = name_taken(req, err, rc, name);
		goto out;
	}
	if (content_changed) {
		p[1] = summary;
		p[2] = p[9];
		if ((rc = db(req, APPEND_VERSION, 3, p, NULL)) != TG_OK)
			goto out;
	}
	detail = json_pack("{s:b, s:b, s:b, s:b, s:b, s:s, s:s}", "code_changed",
	    code_changed, "description_changed", desc_changed, "schema_changed",
	    schema_changed, "annotations_changed", annot_changed, "name_changed",
	    name_changed, "status", status, "name", name);
	if ((rc = tg_svc_audit(req, "tool.update", ids, "success", detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_tools_get(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	free(schema_txt);
	free(annot_txt);
	json_decref(schema);
	json_decref(old_schema);
	json_decref(old_annot);
	json_decref(detail);
	PQclear(row);
	return tg_err_from(err, rc);
}

int
tg_tools_delete(struct tg_req *req, int64_t id, struct tg_err *err)
{
	char ids[24], missing[64];
	const char *p[1];
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	snprintf(missing, sizeof(missing), "no tool with id %lld", (long long)id);
	return tg_svc_exec_audited(req, "DELETE FROM tools WHERE id = $1::bigint"
	    " RETURNING name", 1, p, "tool.delete", ids, missing, err);
}

int
tg_tools_rollback(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	json_int_t version = 0;
	PGresult *row = NULL, *res = NULL;
	char ids[24], vs[24], actor[24], summary[64], vname[80];
	const char *p[3];
	json_t *detail = NULL;
	json_error_t je;
	int rc, same;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_check_object(in, "version:I!", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:I !}", "version", &version) != 0)
		return tg_err_field(err, "version", "%s", je.text);
	if (version < 1 || version > 2147483647)
		return tg_err_field(err, "version", "must be a version number (1 or more)");
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = lock_tool(req, id, &row, err)) != TG_OK)
		goto out;
	i64s(ids, sizeof(ids), id);
	i64s(vs, sizeof(vs), version);
	p[0] = ids;
	p[1] = vs;
	p[2] = tg_svc_actor(req, actor, sizeof(actor));
	if ((rc = db(req, "SELECT name FROM tool_versions WHERE tool_id = $1::bigint"
	    " AND version = $2::int", 2, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "tool %lld has no version %lld",
		    (long long)id, (long long)version);
		goto out;
	}
	/* the version's name comes back too: the same checks as a rename */
	if (strcmp(PQgetvalue(res, 0, 0), PQgetvalue(row, 0, 1)) != 0) {
		int64_t sid = 0;

		tg_parse_i64(PQgetvalue(row, 0, 0), 1, INT64_MAX, &sid);
		if (strcmp(PQgetvalue(row, 0, 8), "running") == 0 &&
		    (rc = tg_servers_check_clash(req, sid, NULL, PQgetvalue(res, 0, 0),
		    err)) != TG_OK)
			goto out;
		if ((rc = served_name_taken(req, sid, id, PQgetvalue(res, 0, 0), err)) != TG_OK)
			goto out;
	}
	snprintf(vname, sizeof(vname), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	/*
	 * issue #16: a rollback to content byte-identical (name, code,
	 * description, schema, annotations) to the approved version of a
	 * Python tool is that reviewed content again: approved at once, no new
	 * review. Anything else goes to review. Imported tools always go to
	 * review (a source change may be what sent them there).
	 */
	rc = db(req, "WITH x AS (SELECT v.*, (t.kind = 'python' AND a.version IS NOT NULL"
	    "  AND a.name = v.name AND a.code = v.code AND a.description = v.description"
	    "  AND a.input_schema::text IS NOT DISTINCT FROM v.input_schema::text"
	    "  AND a.schema_source = v.schema_source"
	    "  AND a.annotations::text IS NOT DISTINCT FROM v.annotations::text) AS same"
	    "  FROM tools t JOIN tool_versions v ON v.tool_id = t.id AND v.version = $2::int"
	    "  LEFT JOIN tool_versions a ON a.tool_id = t.id AND a.version = t.approved_version"
	    "  WHERE t.id = $1::bigint)"
	    " UPDATE tools t SET name = x.name, code = x.code, description = x.description,"
	    " input_schema = x.input_schema, schema_source = x.schema_source,"
	    " annotations = x.annotations,"
	    " status = CASE WHEN x.same THEN 'approved' ELSE 'pending_review' END,"
	    " approved_version = CASE WHEN x.same THEN t.current_version + 1"
	    " ELSE t.approved_version END, review_reason = NULL,"
	    " current_version = t.current_version + 1, updated_by = $3::bigint,"
	    " updated_at = now() FROM x WHERE t.id = $1::bigint"
	    " RETURNING t.current_version, x.same", 3, p, &res);
	if (rc != TG_OK) {
		rc = name_taken(req, err, rc, vname);
		goto out;
	}
	if (PQntuples(res) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "tool %lld has no version %lld",
		    (long long)id, (long long)version);
		goto out;
	}
	same = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	snprintf(summary, sizeof(summary), "rollback to version %lld", (long long)version);
	p[1] = summary;
	if ((rc = db(req, APPEND_VERSION, 3, p, NULL)) != TG_OK)
		goto out;
	detail = json_pack("{s:I, s:b}", "to_version", version,
	    "identical_to_approved", same);
	if ((rc = tg_svc_audit(req, "tool.rollback", ids, "success", detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_tools_get(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	json_decref(detail);
	PQclear(row);
	PQclear(res);
	return tg_err_from(err, rc);
}

/* ---------------------------------------------------------- workflow */

enum tx { TX_SUBMIT, TX_APPROVE, TX_REJECT, TX_REVOKE };

static int
transition(struct tg_req *req, int64_t id, enum tx tx, json_t *in,
    json_t **out, struct tg_err *err)
{
	static const char *const actions[] = {"tool.submit", "tool.approve",
		"tool.reject", "tool.revoke"};
	const char *reason = NULL, *from, *to = NULL, *p[4];
	PGresult *row = NULL;
	json_t *detail = NULL;
	char ids[24], actor[24], vs[24];
	json_int_t version = 0;
	json_error_t je;
	int64_t cur = 0;
	int rc;

	rc = tg_svc_need_role(req, tx == TX_SUBMIT ? TG_ROLE_DEVELOPER : TG_ROLE_ADMIN, err);
	if (rc != TG_OK)
		return rc;
	if (in == NULL || json_is_null(in)) {
		in = NULL;
	} else if (tx == TX_APPROVE) {
		if ((rc = tg_svc_check_object(in, "reason:s,version:I", err)) != TG_OK)
			return rc;
		if (json_unpack_ex(in, &je, 0, "{s?s, s?I !}", "reason", &reason,
		    "version", &version) != 0)
			return tg_err_field(err, "body", "%s", je.text);
	} else {
		if ((rc = tg_svc_check_object(in, tx == TX_SUBMIT ? "note:s" :
		    "reason:s", err)) != TG_OK)
			return rc;
		if (json_unpack_ex(in, &je, 0, "{s?s !}", tx == TX_SUBMIT ? "note" :
		    "reason", &reason) != 0)
			return tg_err_field(err, "body", "%s", je.text);
	}
	/*
	 * security (issue #14): an approval names the version the admin
	 * reviewed. Without it the admin could approve content saved after
	 * the review, so it is required (422), and a version that is no
	 * longer the current one is a conflict (409, below).
	 */
	if (tx == TX_APPROVE && (in == NULL || json_object_get(in, "version") == NULL))
		return tg_err_field(err, "version", "required: the version you reviewed"
		    " (the tool's current_version, \"to_version\" of GET /tools/{id}/diff)");
	if (tx == TX_APPROVE && (version < 1 || version > 2147483647))
		return tg_err_field(err, "version", "must be a version number (1 or more)");
	if ((tx == TX_REJECT || tx == TX_REVOKE) && (reason == NULL || *reason == '\0'))
		return tg_err_field(err, "reason", "a reason is required");
	if (reason && strlen(reason) > 2048)
		return tg_err_field(err, tx == TX_SUBMIT ? "note" : "reason", "at most 2048 bytes");
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = lock_tool(req, id, &row, err)) != TG_OK)
		goto out;
	from = PQgetvalue(row, 0, 7);
	switch (tx) {
	case TX_SUBMIT:
		if (strcmp(from, "draft") == 0 || strcmp(from, "rejected") == 0)
			to = "pending_review";
		else
			to = from; /* already submitted or approved: unchanged */
		break;
	case TX_APPROVE:
		if (strcmp(from, "pending_review") == 0)
			to = "approved";
		break;
	case TX_REJECT:
		if (strcmp(from, "pending_review") == 0)
			to = "rejected";
		break;
	case TX_REVOKE:
		/* whatever is served (an approved version behind a pending,
		 * draft or rejected newer one too) can be withdrawn */
		if (strcmp(from, "approved") == 0 || strcmp(PQgetvalue(row, 0, 12), "t") == 0)
			to = "rejected";
		break;
	}
	if (to == NULL) {
		rc = tg_err_set(err, TG_E_CONFLICT, "tool %lld is %s; cannot %s it",
		    (long long)id, from, actions[tx] + 5);
		goto out;
	}
	tg_parse_i64(PQgetvalue(row, 0, 9), 1, INT64_MAX, &cur);
	if (tx == TX_APPROVE && version != cur) {
		rc = tg_err_set(err, TG_E_CONFLICT, "version %lld of tool %lld is not its"
		    " current version (%lld): review version %lld (GET /tools/%lld/diff) and"
		    " approve that", (long long)version, (long long)id, (long long)cur,
		    (long long)cur, (long long)id);
		goto out;
	}
	i64s(ids, sizeof(ids), id);
	i64s(vs, sizeof(vs), version);
	p[0] = ids;
	p[1] = to;
	p[2] = tx == TX_SUBMIT ? NULL : reason;
	p[3] = tg_svc_actor(req, actor, sizeof(actor));
	if (tx == TX_SUBMIT && strcmp(to, from) != 0)
		rc = db(req, "UPDATE tools SET status = $2, review_reason = NULL,"
		    " updated_at = now() WHERE id = $1::bigint", 2, p, NULL);
	else if (tx != TX_SUBMIT)
		/* approve: exactly the reviewed version (still current: the row
		 * is locked); revoke: nothing is served any more; reject: the
		 * rejected newer version is not served, an approved older one
		 * stays served (revoke withdraws it). */
		rc = db(req, "UPDATE tools SET status = $2, review_reason = $3,"
		    " reviewed_by = $4::bigint, reviewed_at = now(),"
		    " approved_version = CASE WHEN $2 = 'approved' THEN $5::int"
		    " WHEN $6 = 'revoke' THEN NULL ELSE approved_version END,"
		    " updated_at = now() WHERE id = $1::bigint AND current_version >= $5::int",
		    6, (const char *const[]){p[0], p[1], p[2], p[3], tx == TX_APPROVE ? vs : "0",
		    tx == TX_REVOKE ? "revoke" : ""}, NULL);
	if (rc != TG_OK)
		goto out;
	detail = json_pack("{s:s, s:s, s:s?}", "from", from, "to", to, "reason", reason);
	if (detail && tx == TX_APPROVE)
		json_object_set_new(detail, "version", json_integer(version));
	if ((rc = tg_svc_audit(req, actions[tx], ids, "success", detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_tools_get(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	json_decref(detail);
	PQclear(row);
	return tg_err_from(err, rc);
}

int
tg_tools_submit(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	return transition(req, id, TX_SUBMIT, in, out, err);
}

int
tg_tools_approve(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	return transition(req, id, TX_APPROVE, in, out, err);
}

int
tg_tools_reject(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	return transition(req, id, TX_REJECT, in, out, err);
}

int
tg_tools_revoke(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	return transition(req, id, TX_REVOKE, in, out, err);
}

/* -------------------------------------------------------------- diff */

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int
split(const char *s, struct lines *l)
{
	const char *q;
	size_t n = 1, i = 0;

	for (q = s; *q; q++)
		if (*q == '\n')
			n++;
	l->p = calloc(n, sizeof(*l->p));
	l->len = calloc(n, sizeof(*l->len));
	if (l->p == NULL || l->len == NULL)
		return -TG_E_NOMEM;
	while (*s) {
		q = strchr(s, '\n');
		l->p[i] = s;
		l->len[i] = q ? (size_t)(q - s) : strlen(s);
		i++;
		if (q == NULL)
			break;
		s = q + 1;
	}
	l->n = i;
	return TG_OK;
}

static int
line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static int
emit(struct tg_buf *o, char mark, const char *p, size_t n)
{
	if (tg_buf_append(o, &mark, 1) || tg_buf_append(o, p, n) ||
	    tg_buf_append(o, "\n", 1))
		return -TG_E_NOMEM;
	return TG_OK;
}

char *
tg_tools_unified_diff(const char *a, const char *b)
{
	struct lines la = {0}, lb = {0};
	struct tg_buf o = {0};
	unsigned *t = NULL;
	size_t i, j, w;
	char *res = NULL;
	int rc = TG_OK;

	if (split(a, &la) != TG_OK || split(b, &lb) != TG_OK)
		goto out;
	if (tg_buf_printf(&o, "--- approved\n+++ current\n@@ -1,%zu +1,%zu @@\n",
	    la.n, lb.n) != 0)
		goto out;
	w = lb.n + 1;
	if ((la.n + 1) * w <= 4u * 1024 * 1024)
		t = calloc((la.n + 1) * w, sizeof(*t));
	if (t == NULL) {
		/* Too large (or no memory for the table): replace everything. */
		for (i = 0; rc == TG_OK && i < la.n; i++)
			rc = emit(&o, '-', la.p[i], la.len[i]);
		for (j = 0; rc == TG_OK && j < lb.n; j++)
			rc = emit(&o, '+', lb.p[j], lb.len[j]);
	} else {
		/* LCS table from the end. */
		for (i = la.n; i-- > 0;)
			for (j = lb.n; j-- > 0;)
				t[i * w + j] = line_eq(&la, i, &lb, j) ?
				    t[(i + 1) * w + j + 1] + 1 :
				    (t[(i + 1) * w + j] > t[i * w + j + 1] ?
				    t[(i + 1) * w + j] : t[i * w + j + 1]);
		i = j = 0;
		while (rc == TG_OK && (i < la.n || j < lb.n)) {
			if (i < la.n && j < lb.n && line_eq(&la, i, &lb, j)) {
				rc = emit(&o, ' ', la.p[i], la.len[i]);
				i++;
				j++;
			} else if (i < la.n && (j == lb.n ||
			    t[(i + 1) * w + j] >= t[i * w + j + 1])) {
				/* Deletions before insertions, as diff -u does. */
				rc = emit(&o, '-', la.p[i], la.len[i]);
				i++;
			} else {
				rc = emit(&o, '+', lb.p[j], lb.len[j]);
				j++;
			}
		}
	}
	if (rc == TG_OK && o.p) {
		res = o.p;
		o.p = NULL;
	}
out:
	tg_buf_free(&o);
	free(t);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	return res;
}

int
tg_tools_diff(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	json_t *cur = NULL, *old = NULL, *o = NULL, *ov, *nv;
	char *d = NULL;
	static const char *const keys[] = {"name", "description", "input_schema",
		"annotations", NULL};
	json_int_t av;
	int rc, k, same;

	if ((rc = tg_tools_get(req, id, &cur, err)) != TG_OK)
		return rc;
	ov = json_object_get(cur, "approved_version");
	av = json_is_integer(ov) ? json_integer_value(ov) : 0;
	if (av > 0 && (rc = tg_tools_version_get(req, id, av, &old, err)) != TG_OK)
		goto out;
	/* issue #16: content identical to the approved version (a rollback
	 * to it) is said so, instead of a hunk of unchanged lines. */
	same = old != NULL && jeq(json_object_get(old, "code"), json_object_get(cur, "code")) &&
	    jeq(json_object_get(old, "schema_source"), json_object_get(cur, "schema_source"));
	for (k = 0; same && keys[k]; k++)
		same = jeq(json_object_get(old, keys[k]), json_object_get(cur, keys[k]));
	if (!same)
		d = tg_tools_unified_diff(old ? json_string_value(json_object_get(old, "code")) : "",
		    json_string_value(json_object_get(cur, "code")));
	o = json_pack("{s:I, s:o, s:O, s:s, s:b}", "tool_id", (json_int_t)id,
	    "from_version", av > 0 ? json_integer(av) : json_null(), "to_version",
	    json_object_get(cur, "current_version"), "code_diff", d ? d : "",
	    "identical", same);
	if (o == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if (same && json_object_set_new(o, "summary",
	    json_string("identical to the approved version")) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (k = 0; keys[k]; k++) {
		ov = old ? json_object_get(old, keys[k]) : json_null();
		nv = json_object_get(cur, keys[k]);
		if (!jeq(ov, nv))
			json_object_set_new(o, keys[k], json_pack("{s:O, s:O}", "old",
			    ov ? ov : json_null(), "new", nv ? nv : json_null()));
	}
	*out = o;
	o = NULL;
out:
	free(d);
	json_decref(o);
	json_decref(cur);
	json_decref(old);
	return tg_err_from(err, rc);
}

/* ------------------------------------------------------------- runs */

/*
 * security: the rule "code that no admin approved never receives a real
 * secret value" (docs/security.md). *yes = 1 when code is, byte for byte,
 * the code of the version an admin approved (tools.approved_version, which
 * stays set while a newer version waits for review or was rejected, and is
 * cleared by a revoke); anything else - a draft, an edit, a rollback to an
 * unapproved version - is unapproved code.
 */
static int
code_approved(struct tg_db *dbh, int64_t tool_id, const char *code, int *yes)
{
	PGresult *res = NULL;
	char ids[24];
	const char *p[2];
	int rc;

	*yes = 0;
	if (code == NULL)
		return TG_OK;
	i64s(ids, sizeof(ids), tool_id);
	p[0] = ids;
	p[1] = code;
	if ((rc = tg_db_exec(dbh, "SELECT 1 FROM tools t JOIN tool_versions v"
	    " ON v.tool_id = t.id AND v.version = t.approved_version"
	    " WHERE t.id = $1::bigint AND v.code = $2",
	    2, p, &res)) != TG_OK)
		return rc;
	*yes = PQntuples(res) == 1;
	PQclear(res);
	return TG_OK;
}

/*
 * security: the secrets a run of code of tool_id gets: the real values
 * when the code is approved or when want_real (an admin's explicit
 * request, checked by the caller); placeholders otherwise. *real tells
 * which.
 */
static int
run_secrets(struct tg_db *dbh, const struct tg_config *cfg, int64_t tool_id,
    int64_t server_id, const char *code, int want_real, json_t **out, int *real)
{
	int rc, ok = 0;

	if (!want_real && (rc = code_approved(dbh, tool_id, code, &ok)) != TG_OK)
		return rc;
	*real = want_real || ok;
	if (*real)
		return tg_secrets_decrypt_all(dbh, cfg, server_id, out);
	return tg_secrets_placeholders(dbh, server_id, out);
}

int
tg_tools_test(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct tg_sandbox_opts o;
	json_t *tool = NULL, *secrets = NULL, *mods = NULL, *srv = NULL;
	json_t *args = NULL, *rq = NULL, *res = NULL, *detail = NULL;
	char diag[256];
	json_error_t je;
	int64_t sid, t0;
	int rc, want_real = 0, real = 0;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if (in && !json_is_null(in)) {
		if ((rc = tg_svc_check_object(in, "arguments:o,real_secrets:b", err)) != TG_OK)
			return rc;
		if (json_unpack_ex(in, &je, 0, "{s?o s?b !}", "arguments", &args,
		    "real_secrets", &want_real) != 0)
			return tg_err_field(err, "arguments", "%s", je.text);
	}
	/* security: only an admin may hand real values to code no admin
	 * approved, and only when asking for it explicitly. */
	if (want_real && req->who.role != TG_ROLE_ADMIN)
		return tg_err_set(err, TG_E_FORBIDDEN,
		    "real_secrets: only an admin may run unapproved code with the real"
		    " secret values; without it the run gets placeholders");
	if ((rc = tg_tools_get(req, id, &tool, err)) != TG_OK)
		return rc;
	sid = json_integer_value(json_object_get(tool, "server_id"));
	if ((rc = tg_servers_get(req, sid, &srv, err)) != TG_OK)
		goto out;
	if ((rc = run_secrets(req->ctx->db, req->ctx->cfg, id, sid,
	    json_string_value(json_object_get(tool, "code")), want_real, &secrets,
	    &real)) != TG_OK)
		goto out;
	if ((rc = tg_settings_value(req->ctx->db, "allowed_modules", &mods)) != TG_OK)
		goto out;
	rq = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:o}", "mode", "run", "code",
	    json_object_get(tool, "code"), "arguments", args ? args : json_object(),
	    "secrets", secrets, "allowed_modules", mods, "allowed_hosts",
	    json_object_get(srv, "allowed_hosts"), "limits", run_limits(req->ctx->db));
	if (rq == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	sandbox_opts(req, &o, diag, sizeof(diag));
	t0 = tg_now_us();
	rc = tg_sandbox_run(&o, rq, &res);
	/* security: test runs are logged like tools/call (kind "test"), with
	 * redacted arguments and the server's secret values scrubbed out
	 * (there are none to scrub when the run had placeholders). */
	if ((rc == TG_OK || rc == -TG_E_UNAVAIL || rc == -TG_E_TIMEOUT) &&
	    tg_mcp_log_test(req, tool, json_object_get(rq, "arguments"), res, rc,
	    diag, real ? secrets : NULL, (tg_now_us() - t0) / 1000) != TG_OK)
		tg_log(TG_LOG_WARN, "tools.test_log_failed", "tool=%lld", (long long)id);
	if (rc == -TG_E_UNAVAIL || rc == -TG_E_TIMEOUT) {
		tg_log(TG_LOG_WARN, "tools.sandbox_unavailable", "rc=%d msg=%s", rc,
		    tg_log_q(diag));
		rc = tg_err_set(err, TG_E_UNAVAIL, "the sandbox is not available%s%s",
		    diag[0] ? ": " : "", diag);
		goto out;
	}
	if (rc == -TG_E_BADREQ || rc == -TG_E_TOOLARGE) {
		rc = tg_err_field(err, "arguments", "%s", diag[0] ? diag : "rejected by the sandbox");
		goto out;
	}
	if (rc != TG_OK)
		goto out;
	if (json_object_set_new(res, "secret_values",
	    json_string(real ? "real" : "placeholder")) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	detail = json_pack("{s:s, s:b}", "secret_values", real ? "real" : "placeholder",
	    "real_secrets_requested", want_real);
	tg_svc_audit(req, "tool.test", json_string_value(json_object_get(tool, "name")),
	    json_is_true(json_object_get(res, "ok")) ? "success" : "failure", detail);
	*out = res;
	res = NULL;
out:
	json_decref(tool);
	json_decref(srv);
	json_decref(secrets);
	json_decref(mods);
	json_decref(rq);
	json_decref(res);
	json_decref(detail);
	return tg_err_from(err, rc);
}

/* --------------------------------------------------------------- MCP */

int
tg_tools_served_list(struct tg_db *dbh, json_t **out)
{
	json_t *rows = NULL, *r;
	size_t i;
	int rc;

	rc = tg_svc_query_array(dbh,
	    "SELECT json_build_object('name', coalesce(s.tool_prefix, s.name || '__') || v.name,"
	    " 'description', v.description,"
	    " 'inputSchema', coalesce(v.input_schema, '{\"type\":\"object\"}'::json),"
	    " 'annotations', v.annotations, 'tool_id', t.id, 'server_id', s.id)::text"
	    TOOL_FROM SERVED_JOIN " WHERE " SERVABLE " AND s.status = 'running'"
	    " ORDER BY coalesce(s.tool_prefix, s.name || '__') || v.name, t.id", 0,
	    NULL, &rows);
	if (rc != TG_OK)
		return rc;
	json_array_foreach(rows, i, r) {
		if (json_is_null(json_object_get(r, "annotations")))
			json_object_del(r, "annotations");
	}
	*out = rows;
	return TG_OK;
}

int
tg_tools_served_lookup(struct tg_db *dbh, const struct tg_config *cfg,
    const char *exposed, json_t **out)
{
	json_t *t = NULL, *secrets = NULL, *mods = NULL, *lim = NULL;
	const char *p[1];
	int rc;

	p[0] = exposed;
	rc = tg_svc_query_object(dbh,
	    "SELECT json_build_object('tool_id', t.id, 'server_id', s.id,"
	    " 'server_name', s.name, 'name', v.name, 'version', v.version,"
	    " 'code', v.code, 'kind', t.kind," /* sources: kind (sql/005) */
	    " 'input_schema', coalesce(v.input_schema, '{\"type\":\"object\"}'::json),"
	    " 'allowed_hosts', to_json(s.allowed_hosts))::text" TOOL_FROM SERVED_JOIN
	    " WHERE coalesce(s.tool_prefix, s.name || '__') || v.name = $1"
	    " AND " SERVABLE " AND s.status = 'running'"
	    " ORDER BY t.id LIMIT 1", 1, p, &t);
	if (rc != TG_OK)
		goto out;
	/* security: what is served is the approved version's code (the
	 * SERVED_JOIN above), so it gets the real values. */
	if ((rc = tg_secrets_decrypt_all(dbh, cfg,
	    json_integer_value(json_object_get(t, "server_id")), &secrets)) != TG_OK)
		goto out;
	if ((rc = tg_settings_value(dbh, "allowed_modules", &mods)) != TG_OK)
		goto out;
	if ((lim = run_limits(dbh)) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	/* json_object_set_new steals the value even when it fails, so each
	 * pointer is cleared right after its own call: a failure in the middle
	 * must not leave the later ones unreleased. */
	rc = json_object_set_new(t, "secrets", secrets) != 0 ? -TG_E_NOMEM : TG_OK;
	secrets = NULL;
	if (json_object_set_new(t, "allowed_modules", mods) != 0)
		rc = -TG_E_NOMEM;
	mods = NULL;
	if (json_object_set_new(t, "limits", lim) != 0)
		rc = -TG_E_NOMEM;
	lim = NULL;
	if (rc != TG_OK)
		goto out;
	*out = t;
	t = NULL;
out:
	json_decref(t);
	json_decref(secrets);
	json_decref(mods);
	json_decref(lim);
	return rc;
}
