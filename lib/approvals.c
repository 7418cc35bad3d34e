/*
 * approvals.c - module and network request queues and the combined
 * pending list (see approvals.h). Approving a module request adds the
 * module to settings.allowed_modules; approving a network request adds
 * the host to servers.allowed_hosts; both in the decision's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/approvals.h"
#include "lib/audit.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/packages_sql.h"
#include "lib/servers.h"
#include "lib/settings.h"
#include "lib/status.h"
#include "lib/tools.h"

#define DECISION_FIELDS \
	" 'reason', r.reason, 'status', r.status, 'requested_by', r.requested_by," \
	" 'decided_by', r.decided_by, 'decision_reason', r.decision_reason," \
	" 'created_at', " TG_SQL_TS("r.created_at") ", 'decided_at', " TG_SQL_TS("r.decided_at")
#define MODULE_JSON \
	"json_build_object('id', r.id, 'kind', 'module_request', 'module', r.module," \
	" 'tool_id', r.tool_id," DECISION_FIELDS ")::text FROM module_requests r"
#define NETWORK_JSON \
	"json_build_object('id', r.id, 'kind', 'network_request', 'server_id', r.server_id," \
	" 'server_name', s.name, 'host', r.host," DECISION_FIELDS ")::text" \
	" FROM network_requests r JOIN servers s ON s.id = r.server_id"
/* A page of one queue (MODULE_JSON or NETWORK_JSON), $3 the status or NULL. */
#define LIST_SQL(json) \
	"SELECT " json " WHERE r.id > $1::bigint" \
	" AND ($3::text IS NULL OR r.status = $3::text) ORDER BY r.id LIMIT $2::bigint"

int
tg_approvals_valid_host(const char *s)
{
	size_t n = strlen(s), i;
	const char *colon;

	if (n < 1 || n > 260)
		return 0;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	colon = strchr(s, ':');
	for (i = 0; s[i] && s + i != colon; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	if (i == 0 || s[0] == '.' || s[0] == '-')
		return 0;
	if (colon) {
		size_t d = strlen(colon + 1);

		if (d < 1 || d > 5 || strspn(colon + 1, "0123456789") != d)
			return 0;
	}
	return 1;
}

static int
list(const struct tg_call *c, const char *sql, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	if (status && strcmp(status, "pending") != 0 && strcmp(status, "approved") != 0 &&
	    strcmp(status, "rejected") != 0)
		return tg_err_set(err, TG_E_BADREQ, "status must be pending, approved or rejected");
	return tg_crud_list(c, TG_P_READ, pg, sql, 3, status, out, err);
}

int
tg_module_requests_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	return list(c, LIST_SQL(MODULE_JSON), status, pg, out, err);
}

int
tg_network_requests_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	return list(c, LIST_SQL(NETWORK_JSON), status, pg, out, err);
}

/*
 * A pending tool's "diff" (built by the query): from_version (the approved
 * version, null when none), to_version (current: what an approval must
 * name), changed (members that differ), plus here identical (nothing
 * differs from the approved version) and lines_added / lines_removed of
 * the code diff. The codes the query carried for it are removed.
 */
static int
diff_summary(json_t *it)
{
	json_t *d = json_object_get(it, "diff");
	const char *a = json_string_value(json_object_get(it, "_old"));
	const char *b = json_string_value(json_object_get(it, "_new"));
	json_int_t plus = 0, minus = 0;
	char *u = NULL, *line;
	int rc = TG_OK, n;

	if (!json_is_object(d) || a == NULL || b == NULL)
		goto out;
	if (strcmp(a, b) != 0) {
		if ((u = tg_tools_unified_diff(a, b)) == NULL) {
			rc = -TG_E_NOMEM;
			goto out;
		}
		/* after the three header lines ("---", "+++", "@@") */
		for (n = 0, line = u; line && *line; n++) {
			if (n >= 3 && *line == '+')
				plus++;
			else if (n >= 3 && *line == '-')
				minus++;
			if ((line = strchr(line, '\n')) != NULL)
				line++;
		}
	}
	if (json_object_set_new(d, "identical", json_boolean(
	    !json_is_null(json_object_get(d, "from_version")) &&
	    json_array_size(json_object_get(d, "changed")) == 0)) != 0 ||
	    json_object_set_new(d, "lines_added", json_integer(plus)) != 0 ||
	    json_object_set_new(d, "lines_removed", json_integer(minus)) != 0)
		rc = -TG_E_NOMEM;
out:
	free(u);
	json_object_del(it, "_old");
	json_object_del(it, "_new");
	return rc;
}

int
tg_approvals_pending(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	struct tg_keyset ks;
	const char *p[2];
	json_t *res = NULL, *it;
	size_t i;
	int rc;

	if ((rc = tg_keyset_need(c, TG_P_READ, pg, &ks, err)) != TG_OK)
		return rc;
	p[0] = ks.after;
	p[1] = ks.limit1;
	/* One keyset over the four queues: seq = rank * 10^15 + id. */
	rc = tg_keyset_query(c,
	    "SELECT j FROM ("
	    " SELECT 1000000000000000 + t.id AS seq, json_build_object('seq',"
	    "  1000000000000000 + t.id, 'kind', 'tool', 'id', t.id, 'server_id', t.server_id,"
	    "  'server_name', s.name, 'name', t.name,"
	    "  'exposed_name', coalesce(s.tool_prefix, s.name || '__') || t.name,"
	    "  'current_version', t.current_version, 'approved_version', t.approved_version,"
	    "  'updated_at', " TG_SQL_TS("t.updated_at") ","
	    /* issue #16: enough to review from the list (see diff_summary) */
	    "  'diff', json_build_object('from_version', a.version,"
	    "   'to_version', t.current_version, 'changed', to_json(array_remove(ARRAY["
	    "    CASE WHEN a.name IS DISTINCT FROM t.name THEN 'name' END,"
	    "    CASE WHEN a.code IS DISTINCT FROM t.code THEN 'code' END,"
	    "    CASE WHEN a.description IS DISTINCT FROM t.description THEN 'description' END,"
	    "    CASE WHEN a.input_schema::text IS DISTINCT FROM t.input_schema::text"
	    "     THEN 'input_schema' END,"
	    "    CASE WHEN a.annotations::text IS DISTINCT FROM t.annotations::text"
	    "     THEN 'annotations' END], NULL))),"
	    "  '_old', coalesce(a.code, ''), '_new', t.code)::text AS j"
	    "  FROM tools t JOIN servers s ON s.id = t.server_id"
	    "  LEFT JOIN tool_versions a ON a.tool_id = t.id AND a.version = t.approved_version"
	    "  WHERE t.status = 'pending_review'"
	    " UNION ALL"
	    " SELECT 2000000000000000 + m.id, (json_build_object('seq', 2000000000000000 + m.id)::jsonb"
	    "  || (SELECT " MODULE_JSON " WHERE r.id = m.id)::jsonb)::text"
	    "  FROM module_requests m WHERE m.status = 'pending'"
	    " UNION ALL"
	    " SELECT 3000000000000000 + m.id, (json_build_object('seq', 3000000000000000 + m.id)::jsonb"
	    "  || (SELECT " NETWORK_JSON " WHERE r.id = m.id)::jsonb)::text"
	    "  FROM network_requests m WHERE m.status = 'pending'"
	    /* packages: third-party package requests with their resolution */
	    " UNION ALL"
	    " SELECT 4000000000000000 + m.id, (json_build_object('seq', 4000000000000000 + m.id)::jsonb"
	    "  || (SELECT " TG_PACKAGES_JSON " WHERE r.id = m.id)::jsonb)::text"
	    "  FROM package_requests m WHERE m.status = 'pending'"
	    ") q WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint", 2, p, &ks,
	    "seq", &res, err);
	if (rc != TG_OK)
		return rc;
	json_array_foreach(json_object_get(res, "items"), i, it) {
		json_object_del(it, "seq");
		if ((rc = diff_summary(it)) != TG_OK) {
			json_decref(res);
			return tg_err_from(err, rc);
		}
	}
	*out = res;
	return TG_OK;
}

static int
dup_pending(const struct tg_call *c, int rc, void *what, struct tg_err *err)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(c->db), "23505") == 0)
		return tg_err_set(err, rc, "a request for %s is already pending", (const char *)what);
	if (rc == -TG_E_CONFLICT)
		return tg_err_set(err, TG_E_NOTFOUND, "the referenced tool or server does not exist");
	return tg_err_from(err, rc);
}

/* A network request: p[0] the server id, p[1] the host. */
struct net_req {
	const char *const *p;
	const char *host;
};

static int
host_not_allowed(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct net_req *nr = arg;
	PGresult *res = NULL;
	int rc;

	if ((rc = tg_db_exec(c->db, "SELECT 1 FROM servers WHERE id = $1::bigint"
	    " AND $2 = ANY (allowed_hosts)", 2, nr->p, &res)) != TG_OK)
		return rc;
	if (PQntuples(res) > 0)
		rc = tg_err_set(err, TG_E_CONFLICT, "host '%s' is already allowed for server %s",
		    nr->host, nr->p[0]);
	PQclear(res);
	return rc;
}

static int
dup_host(const struct tg_call *c, int rc, void *arg, struct tg_err *err)
{
	struct net_req *nr = arg;

	return dup_pending(c, rc, (void *)nr->host, err);
}

int
tg_module_requests_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *module = NULL, *reason = "", *p[4];
	struct tg_insert_op op = {.action = "module_request.create", .p = p,
	    .np = 4, .sql = "INSERT INTO module_requests (module, reason, tool_id,"
	    " requested_by) VALUES ($1, $2, $3::bigint, $4::bigint) RETURNING id",
	    .on_error = dup_pending};
	json_int_t tool = 0;
	json_t *mods = NULL, *m;
	char tid[24], actor[24];
	size_t i;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0, "{s:s, s?s, s?I !}",
	    "module", &module, "reason", &reason, "tool_id", &tool)) != TG_OK)
		return rc;
	if (!tg_settings_valid_module(module))
		return tg_err_field(err, "module", "must be a Python module name such as 'requests' or 'xml.etree'");
	if (strlen(reason) > 2048)
		return tg_err_field(err, "reason", "at most 2048 bytes");
	if (tool < 0)
		return tg_err_field(err, "tool_id", "must be a tool id");
	if ((rc = tg_settings_value(c->db, "allowed_modules", &mods)) != TG_OK)
		return tg_err_from(err, rc);
	json_array_foreach(mods, i, m) {
		if (strcmp(json_string_value(m), module) == 0) {
			json_decref(mods);
			return tg_err_set(err, TG_E_CONFLICT, "module '%s' is already allowed", module);
		}
	}
	json_decref(mods);
	snprintf(tid, sizeof(tid), "%lld", (long long)tool);
	p[0] = module;
	p[1] = reason;
	p[2] = tool > 0 ? tid : NULL;
	p[3] = tg_svc_actor(c, actor, sizeof(actor));
	op.arg = (void *)module;
	return tg_crud_create(c, &op, json_pack("{s:s}", "module", module),
	    "SELECT " MODULE_JSON " WHERE r.id = $1::bigint", out, err);
}

int
tg_network_requests_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *host = NULL, *reason = "", *p[4];
	struct net_req nr = {.p = p};
	struct tg_insert_op op = {.action = "network_request.create", .p = p,
	    .np = 4, .sql = "INSERT INTO network_requests (server_id, host, reason,"
	    " requested_by) VALUES ($1::bigint, $2, $3, $4::bigint) RETURNING id",
	    .pre = host_not_allowed, .on_error = dup_host, .arg = &nr};
	json_t *server = NULL;
	char sid[24], actor[24];
	int64_t id = 0;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0, "{s:o, s:s, s?s !}",
	    "server_id", &server, "host", &host, "reason", &reason)) != TG_OK)
		return rc;
	if (json_is_integer(server) && json_integer_value(server) > 0)
		id = json_integer_value(server);
	else if (json_is_string(server))
		rc = tg_servers_resolve(c, json_string_value(server), &id, err);
	else
		return tg_err_field(err, "server_id", "must be a server id or name");
	if (rc != TG_OK)
		return rc;
	if (!tg_approvals_valid_host(host))
		return tg_err_field(err, "host",
		    "a lower-case host name or IP address, optionally with :port or a '*.' prefix");
	if (strlen(reason) > 2048)
		return tg_err_field(err, "reason", "at most 2048 bytes");
	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	p[0] = sid;
	p[1] = host;
	p[2] = reason;
	p[3] = tg_svc_actor(c, actor, sizeof(actor));
	nr.host = host;
	return tg_crud_create(c, &op, json_pack("{s:s, s:I}", "host", host, "server_id",
	    (json_int_t)id), "SELECT " NETWORK_JSON " WHERE r.id = $1::bigint", out, err);
}

/* A decision on request ids of one queue (network or module). */
struct decision {
	int network, approve;
	const char *ids, *reason;
};

static int
decide_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct decision *d = arg;
	const char *table = d->network ? "network_requests" : "module_requests";
	const char *p[4];
	PGresult *res = NULL;
	char actor[24], sql[512];
	json_t *detail = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT status, %s FROM %s WHERE id = $1::bigint FOR UPDATE",
	    d->network ? "server_id::text, host" : "module, ''", table);
	p[0] = d->ids;
	if ((rc = tg_db_exec(c->db, sql, 1, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no %s request with id %s",
		    d->network ? "network" : "module", d->ids);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "pending") != 0) {
		rc = tg_err_set(err, TG_E_CONFLICT, "request %s is already %s", d->ids,
		    PQgetvalue(res, 0, 0));
		goto out;
	}
	if (d->approve && !d->network)
		rc = tg_settings_allow_module(c, PQgetvalue(res, 0, 1));
	else if (d->approve)
		rc = tg_db_exec(c->db, "UPDATE servers SET allowed_hosts ="
		    " array_append(allowed_hosts, $2), updated_at = now()"
		    " WHERE id = $1::bigint AND NOT ($2 = ANY (allowed_hosts))", 2,
		    (const char *const[]){PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)}, NULL);
	if (rc != TG_OK)
		goto out;
	snprintf(sql, sizeof(sql), "UPDATE %s SET status = $2, decision_reason = $3,"
	    " decided_by = $4::bigint, decided_at = now() WHERE id = $1::bigint", table);
	p[1] = d->approve ? "approved" : "rejected";
	p[2] = d->reason;
	p[3] = tg_svc_actor(c, actor, sizeof(actor));
	if ((rc = tg_db_exec(c->db, sql, 4, p, NULL)) != TG_OK)
		goto out;
	detail = json_pack("{s:s, s:s?}", "subject", PQgetvalue(res, 0, d->network ? 2 : 1),
	    "reason", d->reason);
	rc = tg_audit_call(c, d->network ? (d->approve ? "network_request.approve" :
	    "network_request.reject") : (d->approve ? "module_request.approve" :
	    "module_request.reject"), d->ids, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(res);
	return tg_err_from(err, rc);
}

static int
decide(const struct tg_call *c, int network, int64_t id, int approve,
    json_t *in, json_t **out, struct tg_err *err)
{
	struct decision d = {.network = network, .approve = approve};
	const char *p[1];
	char ids[24];
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_APPROVE, err)) != TG_OK)
		return rc;
	if (in && !json_is_null(in)) {
		if (json_unpack_ex(in, &je, 0, "{s?s !}", "reason", &d.reason) != 0)
			return tg_err_field(err, "reason", "%s", je.text);
	}
	if (!approve && (d.reason == NULL || *d.reason == '\0'))
		return tg_err_field(err, "reason", "a reason is required");
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	d.ids = p[0] = ids;
	if ((rc = tg_call_tx(c, decide_tx, &d, err)) != TG_OK)
		return rc;
	return tg_err_from(err, tg_svc_query_object(c->db, network ?
	    "SELECT " NETWORK_JSON " WHERE r.id = $1::bigint" :
	    "SELECT " MODULE_JSON " WHERE r.id = $1::bigint", 1, p, out));
}

int
tg_module_requests_decide(const struct tg_call *c, int64_t id, int approve,
    json_t *in, json_t **out, struct tg_err *err)
{
	return decide(c, 0, id, approve, in, out, err);
}

int
tg_network_requests_decide(const struct tg_call *c, int64_t id, int approve,
    json_t *in, json_t **out, struct tg_err *err)
{
	return decide(c, 1, id, approve, in, out, err);
}
