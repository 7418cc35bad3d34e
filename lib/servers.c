/*
 * servers.c - servers service (see servers.h): CRUD, start/stop with the
 * exposed-name clash check, name resolution (servers, and the tools and
 * sources named through them, for REST and the MCP management tools).
 *
 * Concurrency: everything that can change the set of exposed names of
 * running servers (start, rename, prefix change, tool create/rename in a
 * running server) takes one transaction-scoped advisory lock first, so two
 * concurrent starts cannot both pass the clash check.
 */
#include <stdio.h>
#include <string.h>

#include "lib/audit.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/parse.h"
#include "lib/servers.h"
#include "lib/status.h"

#define LIFECYCLE_LOCK "SELECT pg_advisory_xact_lock(7415004)"

#define SERVER_JSON \
	"json_build_object('id', s.id, 'name', s.name, 'description', s.description," \
	" 'tool_prefix', coalesce(s.tool_prefix, s.name || '__')," \
	" 'default_prefix', s.tool_prefix IS NULL, 'status', s.status," \
	" 'allowed_hosts', to_json(s.allowed_hosts)," \
	" 'tool_count', (SELECT count(*) FROM tools t WHERE t.server_id = s.id)," \
	" 'created_by', s.created_by, 'created_at', " TG_SQL_TS("s.created_at") "," \
	" 'updated_at', " TG_SQL_TS("s.updated_at") ")::text"

static int
db(const struct tg_call *c, const char *sql, int n, const char *const *p,
    PGresult **out)
{
	return tg_db_exec(c->db, sql, n, p, out);
}

int
tg_servers_list(const struct tg_call *c, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	return tg_crud_list(c, TG_P_READ, pg,
	    "SELECT " SERVER_JSON " FROM servers s WHERE s.id > $1::bigint"
	    " ORDER BY s.id LIMIT $2::bigint", 2, NULL, out, err);
}

int
tg_servers_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	return tg_crud_get(c, TG_P_READ,
	    "SELECT " SERVER_JSON " FROM servers s WHERE s.id = $1::bigint",
	    "server", id, out, err);
}

int
tg_servers_child_page(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, struct tg_keyset *ks, struct tg_err *err)
{
	json_t *one = NULL;
	int rc;

	if ((rc = tg_keyset_need(c, TG_P_READ, pg, ks, err)) != TG_OK)
		return rc;
	if ((rc = tg_servers_get(c, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	tg_i64s(ks->owner, sizeof(ks->owner), server_id);
	return TG_OK;
}

int
tg_servers_child_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err)
{
	struct tg_keyset ks;
	int rc = tg_servers_child_page(c, server_id, pg, &ks, err);

	return rc != TG_OK ? rc : tg_keyset_page(c, &ks, ks.owner, sql, np, extra, out, err);
}

int
tg_servers_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err)
{
	PGresult *res = NULL;
	const char *p[1];
	int64_t v;
	int rc;

	if (ref == NULL || *ref == '\0')
		return tg_err_set(err, TG_E_NOTFOUND, "no such server");
	if (tg_parse_i64(ref, 1, INT64_MAX, &v) == TG_OK) {
		*id = v;
		return TG_OK;
	}
	if (!tg_svc_valid_server_name(ref))
		return tg_err_set(err, TG_E_NOTFOUND, "no server '%s'", ref);
	p[0] = ref;
	if ((rc = db(c, "SELECT id FROM servers WHERE name = $1", 1, p,
	    &res)) != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(res) == 0)
		rc = tg_err_set(err, TG_E_NOTFOUND, "no server '%s'", ref);
	else
		rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, id);
	PQclear(res);
	return rc;
}

/* Names of servers, tools and sources are printable ASCII without spaces:
 * anything else (control bytes, invalid UTF-8 from a URL) names nothing and
 * never reaches the database or an error message. */
static int
plain_ref(const char *ref)
{
	size_t i;

	for (i = 0; ref[i]; i++)
		if ((unsigned char)ref[i] <= 0x20 || (unsigned char)ref[i] >= 0x7f)
			return 0;
	return i <= 160;
}

/* The server part of "<server>/<name>": name or id, at most 48 bytes. */
static int
split_ref(const struct tg_call *c, const char *ref, const char *slash,
    char *sid, size_t cap, struct tg_err *err)
{
	char server[64];
	int64_t id;
	int rc;

	if ((size_t)(slash - ref) >= sizeof(server))
		return -TG_E_NOTFOUND;
	memcpy(server, ref, (size_t)(slash - ref));
	server[slash - ref] = '\0';
	if ((rc = tg_servers_resolve(c, server, &id, err)) != TG_OK)
		return rc;
	snprintf(sid, cap, "%lld", (long long)id);
	return TG_OK;
}

/* One id from res (column 0) when it has exactly one row. */
static int
one_id(PGresult *res, int64_t *id)
{
	if (PQntuples(res) != 1)
		return -TG_E_NOTFOUND;
	return tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, id);
}

/*
 * The id of a server's tool or source named <server>/<name> (slash points
 * into ref): sql takes $1 the server id and $2 the name. 404 "no <what>
 * '<ref>'<forms>" when the server or the child does not exist.
 */
static int
child_id(const struct tg_call *c, const char *ref, const char *slash,
    const char *sql, const char *what, const char *forms, int64_t *id,
    struct tg_err *err)
{
	PGresult *res = NULL;
	const char *p[2];
	char sid[24];
	int rc;

	rc = split_ref(c, ref, slash, sid, sizeof(sid), err);
	if (rc == -TG_E_NOTFOUND && err->detail[0] == '\0')
		return tg_err_set(err, TG_E_NOTFOUND, "no %s '%s'%s", what, ref, forms);
	if (rc != TG_OK)
		return rc;
	p[0] = sid;
	p[1] = slash + 1;
	if ((rc = db(c, sql, 2, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = one_id(res, id)) == -TG_E_NOTFOUND)
		rc = tg_err_set(err, TG_E_NOTFOUND, "no %s '%s'%s", what, ref, forms);
	PQclear(res);
	return rc;
}

#define TOOL_FORMS "a tool is named by its id, its exposed name (<server>__<tool>) or <server>/<tool>"

int
tg_tools_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err)
{
	PGresult *res = NULL;
	const char *p[1], *slash;
	int64_t v;
	int rc, n, running;

	if (ref == NULL || *ref == '\0')
		return tg_err_set(err, TG_E_NOTFOUND, "no such tool (%s)", TOOL_FORMS);
	if (tg_parse_i64(ref, 1, INT64_MAX, &v) == TG_OK) {
		*id = v;
		return TG_OK;
	}
	if (!plain_ref(ref))
		return tg_err_set(err, TG_E_NOTFOUND, "no such tool (%s)", TOOL_FORMS);
	if ((slash = strchr(ref, '/')) != NULL)
		return child_id(c, ref, slash, "SELECT id FROM tools WHERE server_id ="
		    " $1::bigint AND name = $2", "tool", " (" TOOL_FORMS ")", id, err);
	/* The exposed name: unique among running servers (start refuses a
	 * clash), so the served tool wins; among stopped ones it may not be. */
	p[0] = ref;
	if ((rc = db(c, "SELECT t.id, s.status = 'running' FROM tools t"
	    " JOIN servers s ON s.id = t.server_id"
	    " WHERE coalesce(s.tool_prefix, s.name || '__') || t.name = $1"
	    " ORDER BY s.status = 'running' DESC, t.id LIMIT 3", 1, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	n = PQntuples(res);
	running = n > 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (n == 0)
		rc = tg_err_set(err, TG_E_NOTFOUND, "no tool '%s' (%s)", ref, TOOL_FORMS);
	else if (n > 1 && !running)
		rc = tg_err_set(err, TG_E_CONFLICT,
		    "'%s' is the exposed name of several tools of stopped servers;"
		    " name it as <server>/<tool> or by id", ref);
	else
		rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, id);
	PQclear(res);
	return rc;
}

int
tg_sources_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err)
{
	const char *slash;
	int64_t v;

	if (ref != NULL && tg_parse_i64(ref, 1, INT64_MAX, &v) == TG_OK) {
		*id = v;
		return TG_OK;
	}
	if (ref == NULL || !plain_ref(ref))
		return tg_err_set(err, TG_E_NOTFOUND,
		    "no such source (a source is named by its id or <server>/<source>)");
	if ((slash = strchr(ref, '/')) == NULL)
		return tg_err_set(err, TG_E_NOTFOUND,
		    "no source '%s' (a source is named by its id or <server>/<source>)", ref);
	return child_id(c, ref, slash, "SELECT id FROM external_sources WHERE"
	    " server_id = $1::bigint AND name = $2", "source", "", id, err);
}

int
tg_servers_check_clash(const struct tg_call *c, int64_t id, const char *prefix,
    const char *only, struct tg_err *err)
{
	PGresult *res = NULL;
	char ids[24];
	const char *p[3];
	int rc;

	if ((rc = db(c, LIFECYCLE_LOCK, 0, NULL, NULL)) != TG_OK)
		return tg_err_from(err, rc);
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	p[0] = ids;
	p[1] = prefix;
	p[2] = only;
	rc = db(c,
	    "WITH pre AS (SELECT coalesce($2::text, coalesce(tool_prefix, name || '__')) AS p"
	    "  FROM servers WHERE id = $1::bigint),"
	    /* security (issue #14): a tool is exposed under its current name
	     * and, while a rename waits for review, its approved version's */
	    " names AS (SELECT server_id, name FROM tools UNION SELECT t.server_id, v.name"
	    "  FROM tools t JOIN tool_versions v ON v.tool_id = t.id"
	    "  AND v.version = t.approved_version),"
	    " mine AS (SELECT pre.p || t.name AS ex FROM names t, pre"
	    "  WHERE t.server_id = $1::bigint AND ($3::text IS NULL OR t.name = $3::text)"
	    "  UNION SELECT pre.p || $3::text FROM pre WHERE $3::text IS NOT NULL)"
	    " SELECT m.ex, '' FROM mine m WHERE m.ex LIKE 'toolgate\\_%'"
	    " UNION ALL"
	    " SELECT m.ex, s2.name FROM mine m JOIN names t2 ON true"
	    "  JOIN servers s2 ON s2.id = t2.server_id"
	    "  WHERE s2.status = 'running' AND s2.id <> $1::bigint"
	    "  AND coalesce(s2.tool_prefix, s2.name || '__') || t2.name = m.ex"
	    " LIMIT 1", 3, p, &res);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(res) > 0) {
		if (*PQgetvalue(res, 0, 1) == '\0')
			rc = tg_err_set(err, TG_E_CONFLICT,
			    "exposed tool name '%s' uses the reserved prefix toolgate_",
			    PQgetvalue(res, 0, 0));
		else
			rc = tg_err_set(err, TG_E_CONFLICT,
			    "exposed tool name '%s' is already served by running server '%s'",
			    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

/* Validates the optional members of create/update. */
static int
check_fields(struct tg_err *err, const char *name, const char *desc,
    json_t *prefix)
{
	if (name && !tg_svc_valid_server_name(name))
		tg_err_field(err, "name",
		    "1 to 48 characters of a-z, 0-9, '_' and '-', starting with a letter or digit");
	if (desc && strlen(desc) > 4096)
		tg_err_field(err, "description", "at most 4096 bytes");
	if (prefix && !json_is_null(prefix) && (!json_is_string(prefix) ||
	    !tg_svc_valid_prefix(json_string_value(prefix))))
		tg_err_field(err, "tool_prefix",
		    "a string of at most 64 characters of A-Z, a-z, 0-9, '_', '.', '-' (may be empty), or null for the default '<name>__'");
	return err->status ? -err->status : TG_OK;
}

static int
unpack_err(struct tg_err *err, const json_error_t *je)
{
	return tg_err_field(err, je->source[0] && strcmp(je->source, "<root>") != 0 ?
	    je->source : "body", "%s", je->text);
}

static int
dup_name(const struct tg_call *c, struct tg_err *err, int rc, const char *name)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(c->db), "23505") == 0)
		return tg_err_set(err, rc, "a server named '%s' already exists", name);
	return tg_err_from(err, rc);
}

static int
dup_new_name(const struct tg_call *c, int rc, void *name, struct tg_err *err)
{
	return dup_name(c, err, rc, name);
}

int
tg_servers_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *name = NULL, *desc = "", *p[4];
	struct tg_insert_op op = {.action = "server.create", .p = p, .np = 4,
	    .sql = "INSERT INTO servers (name, description, tool_prefix, created_by)"
	    " VALUES ($1, $2, $3, $4::bigint) RETURNING id", .on_error = dup_new_name};
	json_t *prefix = NULL;
	char actor[24];
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s, s?s, s?o !}", "name",
	    &name, "description", &desc, "tool_prefix", &prefix) != 0)
		return unpack_err(err, &je);
	if ((rc = check_fields(err, name, desc, prefix)) != TG_OK)
		return rc;
	p[0] = name;
	p[1] = desc;
	p[2] = prefix && json_is_string(prefix) ? json_string_value(prefix) : NULL;
	p[3] = tg_svc_actor(c, actor, sizeof(actor));
	op.arg = (void *)name;
	return tg_crud_create(c, &op, json_pack("{s:s}", "name", name),
	    "SELECT " SERVER_JSON " FROM servers s WHERE s.id = $1::bigint", out, err);
}

int
tg_servers_lock(const struct tg_call *c, int64_t id, int update,
    const char *cols, PGresult **res, struct tg_err *err)
{
	char ids[24], sql[160];
	const char *p[1] = {ids};
	int n, rc;

	tg_i64s(ids, sizeof(ids), id);
	n = snprintf(sql, sizeof(sql), "SELECT %s FROM servers WHERE id = $1::bigint"
	    " FOR %s", cols, update ? "UPDATE" : "SHARE");
	if (n < 0 || (size_t)n >= sizeof(sql))
		return -TG_E_INTERNAL;
	if ((rc = db(c, sql, 1, p, res)) != TG_OK)
		return rc;
	if (PQntuples(*res) == 0)
		return tg_err_set(err, TG_E_NOTFOUND, "no server with id %lld", (long long)id);
	return TG_OK;
}

/* A server's name, description or tool_prefix changed (tg_servers_update). */
struct srv_update {
	int64_t id;
	const char *name, *desc;
	json_t *prefix, *in;
};

static int
update_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct srv_update *a = arg;
	const char *name = a->name, *desc = a->desc, *p[5];
	json_t *prefix = a->prefix, *detail = NULL;
	int64_t id = a->id;
	PGresult *res = NULL;
	char ids[24], newprefix[128];
	int rc, running, prefix_given = prefix != NULL;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	p[0] = ids;
	if ((rc = tg_servers_lock(c, id, 1, "status, name, tool_prefix IS NULL,"
	    " coalesce(tool_prefix, '')", &res, err)) != TG_OK)
		goto out;
	running = strcmp(PQgetvalue(res, 0, 0), "running") == 0;
	/* The prefix after this change. */
	if (prefix_given && json_is_string(prefix))
		snprintf(newprefix, sizeof(newprefix), "%s", json_string_value(prefix));
	else if ((prefix_given && json_is_null(prefix)) || *PQgetvalue(res, 0, 2) == 't')
		snprintf(newprefix, sizeof(newprefix), "%s__",
		    name ? name : PQgetvalue(res, 0, 1));
	else
		snprintf(newprefix, sizeof(newprefix), "%s", PQgetvalue(res, 0, 3));
	/*
	 * security (issue #14, the class of finding 6): the exposed name
	 * <prefix><tool> is what models see. A developer may not change the
	 * prefix (a server rename without its own tool_prefix, or a new
	 * tool_prefix) of a server whose tools are approved and served: that
	 * renames reviewed tools without review. An admin may.
	 */
	if (!tg_call_can(c, TG_P_APPROVE)) {
		char oldprefix[128];

		if (*PQgetvalue(res, 0, 2) == 't')
			snprintf(oldprefix, sizeof(oldprefix), "%s__", PQgetvalue(res, 0, 1));
		else
			snprintf(oldprefix, sizeof(oldprefix), "%s", PQgetvalue(res, 0, 3));
		PQclear(res);
		res = NULL;
		if (strcmp(oldprefix, newprefix) != 0) {
			if ((rc = db(c, "SELECT 1 FROM tools WHERE server_id = $1::bigint"
			    " AND approved_version IS NOT NULL AND (kind = 'python'"
			    " OR status = 'approved') LIMIT 1", 1, p, &res)) != TG_OK)
				goto out;
			if (PQntuples(res) > 0) {
				rc = tg_err_set(err, TG_E_FORBIDDEN, "only an admin can change the"
				    " exposed names (server name or tool_prefix) of a server with"
				    " approved tools");
				goto out;
			}
		}
	}
	PQclear(res);
	res = NULL;
	if (running && (rc = tg_servers_check_clash(c, id, newprefix, NULL,
	    err)) != TG_OK)
		goto out;
	p[1] = name;
	p[2] = desc;
	p[3] = prefix_given ? "1" : "0";
	p[4] = prefix && json_is_string(prefix) ? json_string_value(prefix) : NULL;
	rc = db(c, "UPDATE servers SET name = coalesce($2, name),"
	    " description = coalesce($3, description),"
	    " tool_prefix = CASE WHEN $4 = '1' THEN $5 ELSE tool_prefix END,"
	    " updated_at = now() WHERE id = $1::bigint", 5, p, NULL);
	if (rc != TG_OK) {
		rc = dup_name(c, err, rc, name ? name : "");
		goto out;
	}
	detail = json_deep_copy(a->in);
	rc = tg_audit_call(c, "server.update", ids, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_servers_update(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct srv_update a = {.id = id, .in = in};
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, JSON_STRICT, "{s?s, s?s, s?o !}", "name",
	    &a.name, "description", &a.desc, "tool_prefix", &a.prefix) != 0)
		return unpack_err(err, &je);
	if ((rc = check_fields(err, a.name, a.desc, a.prefix)) != TG_OK)
		return rc;
	return tg_call_tx_read(c, update_tx, &a, tg_servers_get, &id, out, err);
}

/* A change of one server's row: delete, start, stop. */
struct srv_change {
	int64_t id;
	char ids[24];
	int start;
};

/* Before a delete, in its transaction: the server locked; 409 while it
 * runs. */
static int
not_running(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct srv_change *a = arg;
	PGresult *res = NULL;
	int rc = tg_servers_lock(c, a->id, 1, "status", &res, err);

	if (rc == TG_OK && strcmp(PQgetvalue(res, 0, 0), "running") == 0)
		rc = tg_err_set(err, TG_E_CONFLICT,
		    "server %lld is running; stop it before deleting it", (long long)a->id);
	PQclear(res);
	return rc;
}

int
tg_servers_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	struct srv_change a = {.id = id};
	const char *p[1] = {a.ids};
	struct tg_row_op op = {.action = "server.delete", .id = a.ids, .p = p,
	    .np = 1, .sql = "DELETE FROM servers WHERE id = $1::bigint RETURNING id",
	    .missing = "no such server", .pre = not_running, .pre_arg = &a};
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	tg_i64s(a.ids, sizeof(a.ids), id);
	return tg_call_row_op(c, &op, err);
}

static int
status_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct srv_change *a = arg;
	const char *p[2] = {a->ids, a->start ? "running" : "stopped"};
	PGresult *res = NULL;
	int rc;

	if (a->start && (rc = db(c, LIFECYCLE_LOCK, 0, NULL, NULL)) != TG_OK)
		goto out;
	if ((rc = tg_servers_lock(c, a->id, 1, "status", &res, err)) != TG_OK)
		goto out;
	if (a->start && (rc = tg_servers_check_clash(c, a->id, NULL, NULL, err)) != TG_OK)
		goto out;
	if ((rc = db(c, "UPDATE servers SET status = $2, updated_at = now()"
	    " WHERE id = $1::bigint AND status <> $2", 2, p, NULL)) != TG_OK)
		goto out;
	rc = tg_audit_call(c, a->start ? "server.start" : "server.stop", a->ids,
	    TG_AUDIT_OK, NULL);
out:
	PQclear(res);
	return rc;
}

static int
set_status(const struct tg_call *c, int64_t id, int start, json_t **out,
    struct tg_err *err)
{
	struct srv_change a = {.id = id, .start = start};
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	tg_i64s(a.ids, sizeof(a.ids), id);
	return tg_call_tx_read(c, status_tx, &a, tg_servers_get, &id, out, err);
}

int
tg_servers_start(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	return set_status(c, id, 1, out, err);
}

int
tg_servers_stop(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	return set_status(c, id, 0, out, err);
}
