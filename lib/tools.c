/*
 * tools.c - tools: reads, writes (create, update, delete, rollback) and the
 * approval workflow (see tools.h). Validation, test runs and the MCP
 * serving queries are in tools_run.c, diffs in tools_diff.c.
 *
 * Every content change (name, code, description, input schema,
 * annotations) bumps tools.current_version and appends the new content as
 * an immutable tool_versions row inside the same transaction, through the
 * one tool-versioning function (lib/versions.c); tools always holds the
 * current version's content. Approval state lives on tools; which version
 * was approved is tools.approved_version.
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

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/parse.h"
#include "lib/servers.h"
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/tools_int.h"
#include "lib/versions.h"

#define VERSION_FIELDS \
	"'tool_id', v.tool_id, 'version', v.version, 'name', v.name," \
	" 'description', v.description," \
	" 'input_schema', v.input_schema, 'schema_source', v.schema_source," \
	" 'annotations', v.annotations, 'change_summary', v.change_summary," \
	" 'author_id', v.author_id, 'created_at', " TG_SQL_TS("v.created_at")

static int
db(const struct tg_call *c, const char *sql, int n, const char *const *p,
    PGresult **out)
{
	return tg_db_exec(c->db, sql, n, p, out);
}

static int
no_tool(struct tg_err *err, int64_t id)
{
	return tg_err_set(err, TG_E_NOTFOUND, "no tool with id %lld", (long long)id);
}

/* ---------------------------------------------------------------- reads */

int
tg_tools_list(const struct tg_call *c, int64_t server_id, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	if (status && strcmp(status, "draft") != 0 && strcmp(status, "pending_review") != 0 &&
	    strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0)
		return tg_err_set(err, TG_E_BADREQ,
		    "status must be draft, pending_review, approved or rejected");
	return tg_servers_child_list(c, server_id, pg,
	    "SELECT json_build_object(" TOOL_FIELDS ")::text" TOOL_FROM
	    " WHERE t.server_id = $1::bigint AND t.id > $2::bigint"
	    " AND ($4::text IS NULL OR t.status = $4::text)"
	    " ORDER BY t.id LIMIT $3::bigint", 4, status, out, err);
}

int
tg_tools_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	return tg_crud_get(c, TG_P_READ,
	    "SELECT json_build_object(" TOOL_FIELDS ", 'code', t.code)::text"
	    TOOL_FROM " WHERE t.id = $1::bigint", "tool", id, out, err);
}

int
tg_tools_versions(const struct tg_call *c, int64_t id, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	struct tg_keyset ks;
	char ids[24];
	const char *p[3];
	json_t *one = NULL;
	int rc;

	if ((rc = tg_tools_get(c, id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	if ((rc = tg_keyset_args(pg, &ks, err)) != TG_OK)
		return rc;
	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	p[1] = ks.after;
	p[2] = ks.limit1;
	return tg_keyset_query(c,
	    "SELECT json_build_object(" VERSION_FIELDS ")::text FROM tool_versions v"
	    " WHERE v.tool_id = $1::bigint AND v.version > $2::bigint"
	    " ORDER BY v.version LIMIT $3::bigint", 3, p, &ks, "version", out, err);
}

int
tg_tools_version_get(const struct tg_call *c, int64_t id, int64_t version,
    json_t **out, struct tg_err *err)
{
	char ids[24], vs[24];
	const char *p[2];
	json_t *one = NULL;
	int rc;

	if ((rc = tg_tools_get(c, id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	tg_i64s(ids, sizeof(ids), id);
	tg_i64s(vs, sizeof(vs), version);
	p[0] = ids;
	p[1] = vs;
	rc = tg_svc_query_object(c->db,
	    "SELECT json_build_object(" VERSION_FIELDS ", 'code', v.code)::text"
	    " FROM tool_versions v WHERE v.tool_id = $1::bigint AND v.version = $2::int",
	    2, p, out);
	if (rc == -TG_E_NOTFOUND)
		return tg_err_set(err, rc, "tool %lld has no version %lld",
		    (long long)id, (long long)version);
	return tg_err_from(err, rc);
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
	tg_tools_check_schema(json_object_get(in, "input_schema"), err);
	return err->status ? -err->status : TG_OK;
}

static int
name_taken(const struct tg_call *c, struct tg_err *err, int rc,
    const char *name)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(c->db), "23505") == 0)
		return tg_err_set(err, rc, "this server already has a tool named '%s'", name);
	return tg_err_from(err, rc);
}

int
tg_tools_served_as(struct tg_db *dbh, int64_t server_id, int64_t except,
    const char *name, int64_t *tool_id)
{
	char sid[24], tid[24];
	const char *p[3];
	PGresult *res = NULL;
	int rc;

	*tool_id = 0;
	tg_i64s(sid, sizeof(sid), server_id);
	tg_i64s(tid, sizeof(tid), except);
	p[0] = sid;
	p[1] = tid;
	p[2] = name;
	rc = tg_db_exec(dbh, "SELECT t.id FROM tools t" SERVED_JOIN
	    " WHERE t.server_id = $1::bigint AND t.id <> $2::bigint AND v.name = $3"
	    " AND " SERVABLE " LIMIT 1", 3, p, &res);
	if (rc == TG_OK && PQntuples(res) > 0)
		rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, tool_id);
	PQclear(res);
	return rc;
}

/* tg_tools_served_as as a 409 for a new name of tool_id (0: a new tool). */
static int
served_name_taken(const struct tg_call *c, int64_t server_id, int64_t tool_id,
    const char *name, struct tg_err *err)
{
	int64_t other = 0;
	int rc;

	rc = tg_tools_served_as(c->db, server_id, tool_id, name, &other);
	if (rc == TG_OK && other != 0)
		rc = tg_err_set(err, TG_E_CONFLICT, "tool %lld of this server is served as '%s'"
		    " (its approved version) until its rename is approved", (long long)other,
		    name);
	return tg_err_from(err, rc);
}

struct create {
	int64_t server_id;
	const char *name, *desc, *code, *source, *summary;
	json_t *schema, *annot;
	int64_t id;			/* out */
};

static int
create_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct create *a = arg;
	const char *p[8];
	char sid[24], actor[24], *schema_txt = NULL, *annot_txt = NULL;
	PGresult *res = NULL, *srv = NULL;
	json_t *detail = NULL;
	int rc;

	if ((rc = tg_servers_lock(c, a->server_id, 0, "status", &srv, err)) != TG_OK)
		goto out;
	if (strcmp(PQgetvalue(srv, 0, 0), "running") == 0 &&
	    (rc = tg_servers_check_clash(c, a->server_id, NULL, a->name, err)) != TG_OK)
		goto out;
	if ((rc = served_name_taken(c, a->server_id, 0, a->name, err)) != TG_OK)
		goto out;
	tg_i64s(sid, sizeof(sid), a->server_id);
	p[0] = sid;
	p[1] = a->name;
	p[2] = a->desc;
	p[3] = a->code;
	p[4] = dumps(a->schema, &schema_txt);
	p[5] = a->source;
	p[6] = dumps(a->annot, &annot_txt);
	p[7] = tg_svc_actor(c, actor, sizeof(actor));
	rc = tg_db_exec(c->db, "INSERT INTO tools (server_id, name, description, code,"
	    " input_schema, schema_source, annotations, created_by, updated_by)"
	    " VALUES ($1::bigint, $2, $3, $4, $5::json, $6, $7::json, $8::bigint, $8::bigint)"
	    " RETURNING id", 8, p, &res);
	if (rc != TG_OK) {
		rc = name_taken(c, err, rc, a->name);
		goto out;
	}
	if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &a->id)) != TG_OK)
		goto out;
	if ((rc = tg_versions_append(c->db, PQgetvalue(res, 0, 0), a->summary,
	    p[7])) != TG_OK)
		goto out;
	detail = json_pack("{s:s, s:I, s:i}", "name", a->name, "server_id",
	    (json_int_t)a->server_id, "version", 1);
	rc = tg_audit_call(c, "tool.create", PQgetvalue(res, 0, 0), TG_AUDIT_OK, detail);
out:
	free(schema_txt);
	free(annot_txt);
	json_decref(detail);
	PQclear(res);
	PQclear(srv);
	return tg_err_from(err, rc);
}

int
tg_tools_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err)
{
	struct create a = {.server_id = server_id, .desc = "",
		.summary = "created"};
	json_t *schema_in = NULL, *one = NULL;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0,
	    "{s:s, s:s, s?s, s?o, s?o, s?s !}", "name", &a.name, "code", &a.code,
	    "description", &a.desc, "input_schema", &schema_in, "annotations",
	    &a.annot, "change_summary", &a.summary)) != TG_OK)
		return rc;
	if ((rc = check_common(in, err)) != TG_OK)
		return rc;
	if (json_is_null(schema_in))
		schema_in = NULL;
	if ((rc = tg_servers_get(c, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	if ((rc = tg_tools_check_code(c, server_id, a.code, schema_in, &a.schema, &a.source,
	    err)) != TG_OK)
		return rc;
	if ((rc = tg_call_tx(c, create_tx, &a, err)) == TG_OK)
		rc = tg_tools_get(c, a.id, out, err);
	json_decref(a.schema);
	return rc;
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
lock_tool(const struct tg_call *c, int64_t id, PGresult **res,
    struct tg_err *err)
{
	char ids[24];
	const char *p[1];
	int rc;

	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	rc = db(c, "SELECT t.server_id, t.name, t.description, t.code,"
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

/* A new name (rename, rollback to another name) of tool id on server
 * server_id (server status in srv_status): not an exposed name of another
 * tool, nor the name another tool of the server is served under. */
static int
check_rename(const struct tg_call *c, int64_t server_id, const char *srv_status,
    int64_t id, const char *name, struct tg_err *err)
{
	int rc;

	if (strcmp(srv_status, "running") == 0 &&
	    (rc = tg_servers_check_clash(c, server_id, NULL, name, err)) != TG_OK)
		return rc;
	return served_name_taken(c, server_id, id, name, err);
}

struct update {
	int64_t id;
	const char *name, *desc, *code, *summary;
	json_t *schema_in, *annot_in;
};

static int
update_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct update *a = arg;
	const char *name = a->name, *desc = a->desc, *code = a->code, *source, *status;
	const char *p[8];
	json_t *old_schema = NULL, *old_annot = NULL, *schema = NULL, *annot, *detail = NULL;
	char ids[24], actor[24], st[16], *schema_txt = NULL, *annot_txt = NULL;
	struct tg_vchange vc;
	PGresult *row = NULL;
	int rc, code_changed, desc_changed, schema_changed, annot_changed;
	int content_changed, has_schema = a->schema_in != NULL, name_changed, external;
	int64_t server_id = 0;

	if ((rc = lock_tool(c, a->id, &row, err)) != TG_OK)
		goto out;
	tg_parse_i64(PQgetvalue(row, 0, 0), 1, INT64_MAX, &server_id);
	/* security: an imported (external) tool's code and input schema come
	 * from its source; other edits reset approval whatever the setting. */
	external = strcmp(PQgetvalue(row, 0, 10), "external") == 0;
	if (external) {
		if (code != NULL)
			rc = tg_err_field(err, "code", "imported tools follow their source;"
			    " edit the source instead");
		if (has_schema)
			rc = tg_err_field(err, "input_schema", "imported tools follow their"
			    " source; edit the source instead");
		if (rc != TG_OK)
			goto out;
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
	if (has_schema && !json_is_null(a->schema_in)) {
		if (code_changed) {
			if ((rc = tg_tools_check_code(c, server_id, code, a->schema_in, &schema, &source,
			    err)) != TG_OK)
				goto out;
		} else {
			schema = json_incref(a->schema_in);
			source = "explicit";
		}
	} else if (code_changed || (has_schema && strcmp(source, "explicit") == 0)) {
		json_t *keep = (!has_schema && strcmp(source, "explicit") == 0) ?
		    old_schema : NULL;

		if ((rc = tg_tools_check_code(c, server_id, code, keep, &schema, &source, err)) != TG_OK)
			goto out;
	} else {
		schema = json_incref(old_schema);
	}
	annot = a->annot_in ? a->annot_in : old_annot;
	schema_changed = !tg_tools_jeq(schema, old_schema);
	annot_changed = !tg_tools_jeq(annot, old_annot);
	/* security (issue #14): the name is what models see, so a rename is a
	 * content change like a description change (a new version; review
	 * again unless approval_reset_on is "code"). */
	name_changed = strcmp(name, PQgetvalue(row, 0, 1)) != 0;
	content_changed = code_changed || desc_changed || schema_changed ||
	    annot_changed || name_changed;
	if (name_changed && (rc = check_rename(c, server_id, PQgetvalue(row, 0, 8),
	    a->id, name, err)) != TG_OK)
		goto out;

	tg_i64s(ids, sizeof(ids), a->id);
	p[0] = ids;
	p[1] = name;
	p[2] = desc;
	p[3] = code;
	p[4] = dumps(schema, &schema_txt);
	p[5] = source;
	p[6] = dumps(annot, &annot_txt);
	p[7] = tg_svc_actor(c, actor, sizeof(actor));
	rc = tg_db_exec(c->db, "UPDATE tools SET name = $2, description = $3, code = $4,"
	    " input_schema = $5::json, schema_source = $6, annotations = $7::json,"
	    " updated_by = $8::bigint, updated_at = now() WHERE id = $1::bigint",
	    8, p, NULL);
	if (rc != TG_OK) {
		rc = name_taken(c, err, rc, name);
		goto out;
	}
	/* A content change is a new version; the tool-versioning rule
	 * (lib/versions.c) says what happens to the approval. */
	status = PQgetvalue(row, 0, 7);
	if (content_changed) {
		memset(&vc, 0, sizeof(vc));
		vc.tool_id = ids;
		vc.summary = a->summary;
		vc.actor = p[7];
		vc.rule = TG_V_EDIT;
		if ((rc = tg_versions_keeps_approval(c->db, external, code_changed,
		    &vc.keep_approval)) != TG_OK ||
		    (rc = tg_versions_bump(c->db, &vc, st, sizeof(st))) != TG_OK)
			goto out;
		status = st;
	}
	detail = json_pack("{s:b, s:b, s:b, s:b, s:b, s:s, s:s}", "code_changed",
	    code_changed, "description_changed", desc_changed, "schema_changed",
	    schema_changed, "annotations_changed", annot_changed, "name_changed",
	    name_changed, "status", status, "name", name);
	rc = tg_audit_call(c, "tool.update", ids, TG_AUDIT_OK, detail);
out:
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
tg_tools_update(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct update a = {.id = id, .summary = "updated"};
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0,
	    "{s?s, s?s, s?s, s?o, s?o, s?s !}", "name", &a.name, "code", &a.code,
	    "description", &a.desc, "input_schema", &a.schema_in, "annotations",
	    &a.annot_in, "change_summary", &a.summary)) != TG_OK)
		return rc;
	if ((rc = check_common(in, err)) != TG_OK)
		return rc;
	return tg_call_tx_read(c, update_tx, &a, tg_tools_get, &id, out, err);
}

int
tg_tools_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	return tg_crud_delete(c, TG_P_WRITE, "DELETE FROM tools WHERE id = $1::bigint"
	    " RETURNING name", "tool.delete", "tool", id, err);
}

struct rollback {
	int64_t id;
	json_int_t version;
};

static int
no_version(struct tg_err *err, int64_t id, int64_t version)
{
	return tg_err_set(err, TG_E_NOTFOUND, "tool %lld has no version %lld",
	    (long long)id, (long long)version);
}

static int
rollback_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct rollback *a = arg;
	PGresult *row = NULL, *res = NULL;
	char ids[24], vs[24], actor[24], summary[64], vname[80];
	const char *p[2];
	struct tg_vchange vc;
	json_t *detail = NULL;
	int rc, same;

	if ((rc = lock_tool(c, a->id, &row, err)) != TG_OK)
		goto out;
	tg_i64s(ids, sizeof(ids), a->id);
	tg_i64s(vs, sizeof(vs), a->version);
	p[0] = ids;
	p[1] = vs;
	if ((rc = tg_db_exec(c->db, "SELECT name FROM tool_versions WHERE tool_id ="
	    " $1::bigint AND version = $2::int", 2, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = no_version(err, a->id, a->version);
		goto out;
	}
	/* the version's name comes back too: the same checks as a rename */
	if (strcmp(PQgetvalue(res, 0, 0), PQgetvalue(row, 0, 1)) != 0) {
		int64_t sid = 0;

		tg_parse_i64(PQgetvalue(row, 0, 0), 1, INT64_MAX, &sid);
		if ((rc = check_rename(c, sid, PQgetvalue(row, 0, 8), a->id,
		    PQgetvalue(res, 0, 0), err)) != TG_OK)
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
	rc = tg_db_exec(c->db, "WITH x AS (SELECT v.*, (t.kind = 'python'"
	    "  AND a.version IS NOT NULL"
	    "  AND a.name = v.name AND a.code = v.code AND a.description = v.description"
	    "  AND a.input_schema::text IS NOT DISTINCT FROM v.input_schema::text"
	    "  AND a.schema_source = v.schema_source"
	    "  AND a.annotations::text IS NOT DISTINCT FROM v.annotations::text) AS same"
	    "  FROM tools t JOIN tool_versions v ON v.tool_id = t.id AND v.version = $2::int"
	    "  LEFT JOIN tool_versions a ON a.tool_id = t.id AND a.version = t.approved_version"
	    "  WHERE t.id = $1::bigint)"
	    " UPDATE tools t SET name = x.name, code = x.code, description = x.description,"
	    " input_schema = x.input_schema, schema_source = x.schema_source,"
	    " annotations = x.annotations FROM x WHERE t.id = $1::bigint"
	    " RETURNING x.same", 2, p, &res);
	if (rc != TG_OK) {
		rc = name_taken(c, err, rc, vname);
		goto out;
	}
	if (PQntuples(res) == 0) {
		rc = no_version(err, a->id, a->version);
		goto out;
	}
	same = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	snprintf(summary, sizeof(summary), "rollback to version %lld", (long long)a->version);
	memset(&vc, 0, sizeof(vc));
	vc.tool_id = ids;
	vc.summary = summary;
	vc.actor = tg_svc_actor(c, actor, sizeof(actor));
	vc.rule = same ? TG_V_APPROVED : TG_V_REVIEW;
	if ((rc = tg_versions_bump(c->db, &vc, NULL, 0)) != TG_OK)
		goto out;
	detail = json_pack("{s:I, s:b}", "to_version", a->version,
	    "identical_to_approved", same);
	rc = tg_audit_call(c, "tool.rollback", ids, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(row);
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_tools_rollback(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct rollback a = {.id = id};
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:I !}", "version", &a.version) != 0)
		return tg_err_field(err, "version", "%s", je.text);
	if (a.version < 1 || a.version > 2147483647)
		return tg_err_field(err, "version", "must be a version number (1 or more)");
	return tg_call_tx_read(c, rollback_tx, &a, tg_tools_get, &id, out, err);
}

/* ---------------------------------------------------------- workflow */

enum tx { TX_SUBMIT, TX_APPROVE, TX_REJECT, TX_REVOKE };

static const char *const actions[] = {"tool.submit", "tool.approve",
	"tool.reject", "tool.revoke"};

struct transition {
	int64_t id;
	enum tx tx;
	const char *reason;
	json_int_t version;
};

/* The status tool row moves to with a.tx, NULL when it cannot. */
static const char *
next_status(enum tx tx, const char *from, const PGresult *row)
{
	switch (tx) {
	case TX_SUBMIT:
		if (strcmp(from, "draft") == 0 || strcmp(from, "rejected") == 0)
			return "pending_review";
		return from; /* already submitted or approved: unchanged */
	case TX_APPROVE:
		return strcmp(from, "pending_review") == 0 ? "approved" : NULL;
	case TX_REJECT:
		return strcmp(from, "pending_review") == 0 ? "rejected" : NULL;
	case TX_REVOKE:
		/* whatever is served (an approved version behind a pending,
		 * draft or rejected newer one too) can be withdrawn */
		if (strcmp(from, "approved") == 0 || strcmp(PQgetvalue(row, 0, 12), "t") == 0)
			return "rejected";
		return NULL;
	}
	return NULL;
}

static int
transition_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct transition *a = arg;
	const char *from, *to, *p[6];
	PGresult *row = NULL;
	json_t *detail = NULL;
	char ids[24], actor[24], vs[24];
	int64_t cur = 0;
	int rc;

	if ((rc = lock_tool(c, a->id, &row, err)) != TG_OK)
		goto out;
	from = PQgetvalue(row, 0, 7);
	if ((to = next_status(a->tx, from, row)) == NULL) {
		rc = tg_err_set(err, TG_E_CONFLICT, "tool %lld is %s; cannot %s it",
		    (long long)a->id, from, actions[a->tx] + 5);
		goto out;
	}
	tg_parse_i64(PQgetvalue(row, 0, 9), 1, INT64_MAX, &cur);
	if (a->tx == TX_APPROVE && a->version != cur) {
		rc = tg_err_set(err, TG_E_CONFLICT, "version %lld of tool %lld is not its"
		    " current version (%lld): review version %lld (GET /tools/%lld/diff) and"
		    " approve that", (long long)a->version, (long long)a->id, (long long)cur,
		    (long long)cur, (long long)a->id);
		goto out;
	}
	tg_i64s(ids, sizeof(ids), a->id);
	tg_i64s(vs, sizeof(vs), a->version);
	p[0] = ids;
	p[1] = to;
	p[2] = a->tx == TX_SUBMIT ? NULL : a->reason;
	p[3] = tg_svc_actor(c, actor, sizeof(actor));
	p[4] = a->tx == TX_APPROVE ? vs : "0";
	p[5] = a->tx == TX_REVOKE ? "revoke" : "";
	if (a->tx == TX_SUBMIT && strcmp(to, from) != 0)
		rc = tg_db_exec(c->db, "UPDATE tools SET status = $2, review_reason = NULL,"
		    " updated_at = now() WHERE id = $1::bigint", 2, p, NULL);
	else if (a->tx != TX_SUBMIT)
		/* approve: exactly the reviewed version (still current: the row
		 * is locked); revoke: nothing is served any more; reject: the
		 * rejected newer version is not served, an approved older one
		 * stays served (revoke withdraws it). */
		rc = tg_db_exec(c->db, "UPDATE tools SET status = $2, review_reason = $3,"
		    " reviewed_by = $4::bigint, reviewed_at = now(),"
		    " approved_version = CASE WHEN $2 = 'approved' THEN $5::int"
		    " WHEN $6 = 'revoke' THEN NULL ELSE approved_version END,"
		    " updated_at = now() WHERE id = $1::bigint AND current_version >= $5::int",
		    6, p, NULL);
	if (rc != TG_OK)
		goto out;
	detail = json_pack("{s:s, s:s, s:s?}", "from", from, "to", to, "reason", a->reason);
	if (detail && a->tx == TX_APPROVE)
		json_object_set_new(detail, "version", json_integer(a->version));
	rc = tg_audit_call(c, actions[a->tx], ids, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(row);
	return tg_err_from(err, rc);
}

static int
transition(const struct tg_call *c, int64_t id, enum tx tx, json_t *in,
    json_t **out, struct tg_err *err)
{
	struct transition a = {.id = id, .tx = tx};
	json_error_t je;
	int rc;

	rc = tg_svc_need(c, tx == TX_SUBMIT ? TG_P_WRITE : TG_P_APPROVE, err);
	if (rc != TG_OK)
		return rc;
	if (in == NULL || json_is_null(in)) {
		in = NULL;
	} else if (tx == TX_APPROVE) {
		if (json_unpack_ex(in, &je, 0, "{s?s, s?I !}", "reason", &a.reason,
		    "version", &a.version) != 0)
			return tg_err_field(err, "body", "%s", je.text);
	} else {
		if (json_unpack_ex(in, &je, 0, "{s?s !}", tx == TX_SUBMIT ? "note" :
		    "reason", &a.reason) != 0)
			return tg_err_field(err, "body", "%s", je.text);
	}
	/*
	 * security (issue #14): an approval names the version the admin
	 * reviewed. Without it the admin could approve content saved after
	 * the review, so it is required (422), and a version that is no
	 * longer the current one is a conflict (409, in transition_tx).
	 */
	if (tx == TX_APPROVE && (in == NULL || json_object_get(in, "version") == NULL))
		return tg_err_field(err, "version", "required: the version you reviewed"
		    " (the tool's current_version, \"to_version\" of GET /tools/{id}/diff)");
	if (tx == TX_APPROVE && (a.version < 1 || a.version > 2147483647))
		return tg_err_field(err, "version", "must be a version number (1 or more)");
	if ((tx == TX_REJECT || tx == TX_REVOKE) && (a.reason == NULL || *a.reason == '\0'))
		return tg_err_field(err, "reason", "a reason is required");
	if (a.reason && strlen(a.reason) > 2048)
		return tg_err_field(err, tx == TX_SUBMIT ? "note" : "reason", "at most 2048 bytes");
	return tg_call_tx_read(c, transition_tx, &a, tg_tools_get, &id, out, err);
}

/* The four workflow endpoints (tools.h). */
#define TRANSITION(fn, tx) \
	int \
	fn(const struct tg_call *c, int64_t id, json_t *in, json_t **out, struct tg_err *err) \
	{ \
		return transition(c, id, tx, in, out, err); \
	}

TRANSITION(tg_tools_submit, TX_SUBMIT)
TRANSITION(tg_tools_approve, TX_APPROVE)
TRANSITION(tg_tools_reject, TX_REJECT)
TRANSITION(tg_tools_revoke, TX_REVOKE)
