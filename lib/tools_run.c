/*
 * tools_run.c - code in the sandbox for the tools service (see tools.h):
 * validation of code on save and on request, test runs, and the MCP
 * serving queries (tools/list, the tool a tools/call runs).
 *
 * security (issue #14): what MCP clients see and what the sandbox runs is
 * the APPROVED version's content (SERVED_JOIN, tools_int.h); only code an
 * admin approved receives real secret values (run_secrets below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/audit.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/execlog.h"	/* security: tg_mcp_log_test */
#include "lib/inval.h"	/* performance: run_settings */
#include "lib/log.h"
#include "lib/packages.h"
#include "lib/sandbox_cfg.h"
#include "lib/sandbox_client.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/settings.h"
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/tools_int.h"

static void
i64s(char *buf, size_t cap, int64_t v)
{
	snprintf(buf, cap, "%lld", (long long)v);
}

/* ------------------------------------------------------- validation */

static void
sandbox_opts(const struct tg_call *c, struct tg_sandbox_opts *o, char *diag,
    size_t cap)
{
	const struct tg_config *cfg = c->cfg;

	memset(o, 0, sizeof(*o));
	if (cfg) {
		o->helper_path = cfg->sandbox_helper[0] ? cfg->sandbox_helper : NULL;
		o->python_path = cfg->sandbox_python[0] ? cfg->sandbox_python : NULL;
		o->allow_degraded = cfg->sandbox_allow_degraded;
		tg_sandbox_warm_opts(cfg, o);
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
run_validator(const struct tg_call *c, int64_t server_id, const char *code,
    json_t **result, struct tg_err *err)
{
	struct tg_sandbox_opts o;
	json_t *rq = NULL, *mods = NULL, *lim;
	char diag[256];
	int rc;

	if ((rc = tg_settings_value(c->db, "allowed_modules", &mods)) != TG_OK)
		return tg_err_from(err, rc);
	/* packages: the server's package set is importable */
	if ((rc = tg_packages_import_names(c->db, server_id, mods)) != TG_OK) {
		json_decref(mods);
		return tg_err_from(err, rc);
	}
	lim = run_limits(c->db);
	rq = json_pack("{s:s, s:s, s:o, s:o, s:{}}", "mode", "validate", "code",
	    code, "allowed_modules", mods, "limits", lim ? lim : json_object(),
	    "arguments");
	if (rq == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	sandbox_opts(c, &o, diag, sizeof(diag));
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

int
tg_tools_check_code(const struct tg_call *c, int64_t server_id,
    const char *code,
    json_t *explicit_schema, json_t **schema, const char **source,
    struct tg_err *err)
{
	json_t *res = NULL, *lim = NULL, *cb;
	struct tg_err verr;
	int64_t max = 256 * 1024;
	int rc;

	tg_err_init(&verr);
	if (tg_settings_value(c->db, "limits", &lim) == TG_OK &&
	    json_is_integer(cb = json_object_get(lim, "code_bytes")))
		max = json_integer_value(cb);
	json_decref(lim);
	if (strlen(code) == 0)
		return tg_err_field(err, "code", "must not be empty");
	if ((int64_t)strlen(code) > max)
		return tg_err_field(err, "code", "is %zu bytes; the limit is %lld",
		    strlen(code), (long long)max);
	rc = run_validator(c, server_id, code, &res, &verr);
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

int
tg_tools_check_schema(json_t *s, struct tg_err *err)
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
tg_tools_validate(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *code = NULL;
	json_t *schema = NULL, *res = NULL, *errs, *o;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_RUN, err, in, 0, "{s:s, s?o !}", "code",
	    &code, "input_schema", &schema)) != TG_OK)
		return rc;
	if (json_is_null(schema))
		schema = NULL;
	if ((rc = tg_tools_check_schema(schema, err)) != TG_OK)
		return rc;
	if ((rc = run_validator(c, 0, code, &res, err)) != TG_OK)
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
tg_tools_test(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct tg_sandbox_opts o;
	struct tg_execlog l;
	json_t *tool = NULL, *secrets = NULL, *mods = NULL, *srv = NULL;
	json_t *args = NULL, *rq = NULL, *res = NULL, *detail = NULL;
	char diag[256];
	json_error_t je;
	int64_t sid, t0;
	int rc, want_real = 0, real = 0;

	if ((rc = tg_svc_need(c, TG_P_RUN, err)) != TG_OK)
		return rc;
	if (in && !json_is_null(in)) {
		if (json_unpack_ex(in, &je, 0, "{s?o s?b !}", "arguments", &args,
		    "real_secrets", &want_real) != 0)
			return tg_err_field(err, "arguments", "%s", je.text);
	}
	/* security: only an admin may hand real values to code no admin
	 * approved, and only when asking for it explicitly. */
	if (want_real && !tg_call_can(c, TG_P_SECRETS))
		return tg_err_set(err, TG_E_FORBIDDEN,
		    "real_secrets: only an admin may run unapproved code with the real"
		    " secret values; without it the run gets placeholders");
	if ((rc = tg_tools_get(c, id, &tool, err)) != TG_OK)
		return rc;
	sid = json_integer_value(json_object_get(tool, "server_id"));
	if ((rc = tg_servers_get(c, sid, &srv, err)) != TG_OK)
		goto out;
	if ((rc = run_secrets(c->db, c->cfg, id, sid,
	    json_string_value(json_object_get(tool, "code")), want_real, &secrets,
	    &real)) != TG_OK)
		goto out;
	if ((rc = tg_settings_value(c->db, "allowed_modules", &mods)) != TG_OK)
		goto out;
	rq = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:o}", "mode", "run", "code",
	    json_object_get(tool, "code"), "arguments", args ? args : json_object(),
	    "secrets", secrets, "allowed_modules", mods, "allowed_hosts",
	    json_object_get(srv, "allowed_hosts"), "limits", run_limits(c->db));
	if (rq == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	sandbox_opts(c, &o, diag, sizeof(diag));
	/* packages: the server's package set, mounted read-only */
	if ((rc = tg_packages_apply(c->db, c->cfg, sid, rq, &o, diag,
	    sizeof(diag))) != TG_OK) {
		rc = tg_err_set(err, TG_E_UNAVAIL, "%s", diag);
		goto out;
	}
	/* reliability: the row first; a run that cannot be recorded is not run */
	if ((rc = tg_mcp_log_test_begin(c, tool, json_object_get(rq, "arguments"),
	    &l)) != TG_OK) {
		tg_log(TG_LOG_WARN, "tools.test_log_start_failed", "tool=%lld rc=%s",
		    (long long)id, tg_status_name(rc));
		rc = tg_err_set(err, TG_E_UNAVAIL, "the test run cannot be recorded right now"
		    " (the execution log is unavailable), so it was not run; retry shortly");
		goto out;
	}
	t0 = tg_now_us();
	rc = tg_sandbox_run(&o, rq, &res);
	/* security: test runs are logged like tools/call (kind "test"), with
	 * redacted arguments and the server's secret values scrubbed out
	 * (there are none to scrub when the run had placeholders). */
	if (tg_mcp_log_test(c, &l, res, rc, diag, real ? secrets : NULL,
	    (tg_now_us() - t0) / 1000) != TG_OK)
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
	tg_audit_call(c, "tool.test", json_string_value(json_object_get(tool, "name")),
	    json_is_true(json_object_get(res, "ok")) ? TG_AUDIT_OK : TG_AUDIT_FAILED, detail);
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

/*
 * performance: allowed_modules and the sandbox limits of a served call
 * (new references), read once and kept per worker while the settings are
 * unchanged: every change of the settings table sends NOTIFY toolgate_inval
 * 'all' (sql/007_inval.sql), which moves the catalogue epoch (lib/inval.h),
 * and the entry also ages out after TOOLGATE_CACHE_TTL_MS, like the
 * catalogue cache. With caching off (TTL 0) every call reads the settings.
 */
static int
run_settings(struct tg_db *dbh, json_t **mods, json_t **lim)
{
	static struct {
		struct tg_inval_stamp st;
		json_t *mods, *lim;
	} c;
	struct tg_inval_stamp st;
	json_t *all = NULL, *m, *l;
	int rc;

	if (c.mods != NULL && tg_inval_fresh(&c.st, TG_INV_CATALOG))
		goto hit;
	tg_inval_stamp(&st, TG_INV_CATALOG);
	if ((rc = tg_settings_effective(dbh, &all)) != TG_OK)
		return rc;
	m = json_object_get(all, "allowed_modules");
	l = json_object_get(all, "limits");
	m = m ? json_deep_copy(m) : NULL;
	l = json_is_object(l) ? json_deep_copy(l) : json_object();
	json_decref(all);
	if (m == NULL || l == NULL) {
		json_decref(m);
		json_decref(l);
		return m == NULL ? -TG_E_NOTFOUND : -TG_E_NOMEM;
	}
	json_object_del(l, "code_bytes");
	json_decref(c.mods);
	json_decref(c.lim);
	c.mods = m;
	c.lim = l;
	c.st = st;
hit:
	/* copies: the caller's request document owns and frees its own */
	*mods = json_deep_copy(c.mods);
	*lim = json_deep_copy(c.lim);
	if (*mods == NULL || *lim == NULL) {
		json_decref(*mods);
		json_decref(*lim);
		*mods = *lim = NULL;
		return -TG_E_NOMEM;
	}
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
	    " 'allowed_hosts', to_json(s.allowed_hosts),"
	    /* performance: the package set in the same round trip
	     * (tg_packages_apply_set), and whether there are secrets to
	     * read at all (the rows tg_secrets_decrypt_all would open) */
	    " 'package_set', (SELECT " TG_PACKAGES_SET_JSON " FROM package_sets"
	    " WHERE server_id = s.id), 'has_secrets', EXISTS (SELECT 1 "
	    TG_SECRETS_SEALED " AND server_id = s.id))::text"
	    TOOL_FROM SERVED_JOIN
	    " WHERE coalesce(s.tool_prefix, s.name || '__') || v.name = $1"
	    " AND " SERVABLE " AND s.status = 'running'"
	    " ORDER BY t.id LIMIT 1", 1, p, &t);
	if (rc != TG_OK)
		goto out;
	/* security: what is served is the approved version's code (the
	 * SERVED_JOIN above), so it gets the real values. performance: a
	 * server without secrets costs no round trip for them (without the
	 * encryption key the call fails as before). */
	if (json_is_false(json_object_get(t, "has_secrets")) && cfg != NULL &&
	    cfg->have_enc_key)
		secrets = json_object();
	else if ((rc = tg_secrets_decrypt_all(dbh, cfg,
	    json_integer_value(json_object_get(t, "server_id")), &secrets)) != TG_OK)
		goto out;
	json_object_del(t, "has_secrets");
	if (secrets == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = run_settings(dbh, &mods, &lim)) != TG_OK)
		goto out;
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
