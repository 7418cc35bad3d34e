/*
 * packages.c - third-party Python packages: requests, resolution and
 * installation through the sandbox, package sets and their trees (see
 * packages.h and docs/packages.md).
 *
 * security: nothing from an index runs on the host. The resolver
 * (lib/pkg_resolver.py, embedded below) runs as the code of a cold sandbox
 * run whose only egress is the index (and the vulnerability source); it
 * reads wheels only, so no setup.py ever runs. To install, the sandbox
 * downloads the recorded wheels again, compares each sha256 with the one
 * recorded at review and unpacks them; the host only compares the hashes
 * once more and writes the listed files (paths checked here again: no
 * absolute paths, no "..", nothing but regular files) into a fresh
 * directory that becomes read-only and is renamed to its content address.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/approvals.h"
#include "lib/audit.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/packages.h"
#include "lib/parse.h"
#include "lib/pkg_int.h"
#include "lib/rows.h"
#include "lib/sandbox_cfg.h"
#include "lib/status.h"

/* lib/pkg_embed.c */
extern const char tg_pkg_resolver_py[];
extern const char tg_pkg_resolver_py_end[];

#define PKG_JSON TG_PACKAGES_JSON

/* ------------------------------------------------------------ helpers */

static int
valid_dist(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 100)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ((ch == '.' || ch == '-' || ch == '_') && i > 0 && i < n - 1)))
			return 0;
	}
	return 1;
}

/* PEP 503 normalisation: runs of -_. become one '-', lower case. */
static void
canon(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 1 < cap; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			if (o > 0 && out[o - 1] != '-')
				out[o++] = '-';
			continue;
		}
		out[o++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
	}
	out[o] = '\0';
}

static int
valid_spec(const char *s)
{
	size_t n = strlen(s);

	return n <= 200 && strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ.*<>=!~, +") == n;
}


/* "host" or "host:port" of an http(s) URL, lower case; -1 if malformed. */
static int
url_host(const char *url, char *out, size_t cap)
{
	const char *p, *e;
	size_t n, i;

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return -1;
	e = p + strcspn(p, "/?#");
	n = (size_t)(e - p);
	if (n == 0 || n >= cap || memchr(p, '@', n) != NULL)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
	out[n] = '\0';
	return 0;
}

/* ---------------------------------------------------- sandbox runs */

/*
 * Runs the resolver with args in a cold sandbox whose only egress is the
 * index and the vulnerability source. *result = the resolver's return
 * value. A PackageRefused becomes 422 with its message; anything else that
 * went wrong 503.
 *
 * The run's "package_egress" (sandbox/packages.c, this run only, never a
 * tool's) gives the proxy: download mode with TOOLGATE_PIP_MAX_DOWNLOAD for
 * the index and extra hosts; private addresses for exactly the configured
 * hosts (index, extra hosts, OSV source: an admin's choice, e.g. a LAN
 * mirror); and, with out_dir, where the unpacked files are stored.
 */
int
tg_pkg_resolver_run(const struct tg_config *cfg, json_t *args,
    const char *out_dir, json_t **result, struct tg_err *err)
{
	struct tg_sandbox_opts o;
	char h1[300], h2[300], diag[256];
	json_t *rq = NULL, *res = NULL, *hosts = NULL, *dl = NULL, *pe = NULL, *e;
	const char *type, *msg;
	long long maxdl;
	int rc;

	*result = NULL;
	if (cfg == NULL || cfg->pip_index_url[0] == '\0')
		return tg_err_set(err, TG_E_UNAVAIL, "no package index is configured"
						     " (TOOLGATE_PIP_INDEX_URL): third-party packages are off");
	if (url_host(cfg->pip_index_url, h1, sizeof(h1)) != 0)
		return tg_err_set(err, TG_E_UNAVAIL, "TOOLGATE_PIP_INDEX_URL is not an"
						     " http(s) URL");
	hosts = json_array();
	dl = json_array();
	if (hosts == NULL || dl == NULL ||
	    json_array_append_new(hosts, json_string(h1)) != 0 ||
	    json_array_append_new(dl, json_string(h1)) != 0) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	if (cfg->osv_url[0] && url_host(cfg->osv_url, h2, sizeof(h2)) == 0 &&
	    strcmp(h1, h2) != 0 && json_array_append_new(hosts, json_string(h2)) != 0) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	/* the hosts the index's file links point to */
	{
		char list[sizeof(cfg->pip_extra_hosts)], *save = NULL, *h;

		memcpy(list, cfg->pip_extra_hosts, sizeof(list));
		for (h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save))
			if (tg_approvals_valid_host(h) &&
			    (json_array_append_new(hosts, json_string(h)) != 0 ||
				json_array_append_new(dl, json_string(h)) != 0)) {
				rc = tg_err_from(err, -TG_E_NOMEM);
				goto out;
			}
	}
	maxdl = (long long)cfg->pip_max_download_mb * 1024 * 1024;
	pe = json_pack("{s:O, s:O, s:I}", "hosts", dl, "private_hosts", hosts,
	    "max_download", (json_int_t)maxdl);
	if (pe == NULL || (out_dir != NULL && (json_object_set_new(pe, "out_dir", json_string(out_dir)) != 0 || json_object_set_new(pe, "max_tree", json_integer(4 * maxdl)) != 0))) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	/* /tmp holds one wheel at a time (streamed there by the proxy) */
	rq = json_pack("{s:s, s:s#, s:s, s:O, s:[s], s:O, s:O, s:{s:i, s:i, s:i,"
		       " s:i, s:I, s:i}}",
	    "mode", "run", "code", tg_pkg_resolver_py,
	    (int)(tg_pkg_resolver_py_end - tg_pkg_resolver_py), "entry", "main",
	    "arguments", args, "allowed_modules", "*", "allowed_hosts", hosts,
	    "package_egress", pe, "limits", "timeout_ms", out_dir ? 600000 : 180000,
	    "memory_mb", 1024, "max_procs", 16, "output_bytes", 65536, "tmp_mb",
	    (json_int_t)cfg->pip_max_download_mb + 16, "result_bytes",
	    4 * 1024 * 1024);
	if (rq == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	tg_sandbox_opts_config(cfg, &o);
	o.warm = 0;
	o.diag = diag;
	o.diag_len = sizeof(diag);
	diag[0] = '\0';
	rc = tg_sandbox_run(&o, rq, &res);
	if (rc != TG_OK) {
		tg_log(TG_LOG_WARN, "packages.sandbox_failed", "rc=%s msg=%s",
		    tg_status_name(rc), tg_log_q(diag));
		rc = tg_err_set(err, rc == -TG_E_BUSY ? TG_E_BUSY : TG_E_UNAVAIL,
		    "the sandbox could not run the package resolver%s%s",
		    diag[0] ? ": " : "", diag);
		goto out;
	}
	if (json_is_true(json_object_get(res, "ok"))) {
		*result = json_incref(json_object_get(res, "result"));
		rc = json_is_object(*result) ? TG_OK : tg_err_set(err, TG_E_UNAVAIL, "the package resolver returned nothing");
		goto out;
	}
	e = json_object_get(res, "error");
	type = json_string_value(json_object_get(e, "type"));
	msg = json_string_value(json_object_get(e, "message"));
	if (type && strcmp(type, "PackageRefused") == 0)
		rc = tg_err_set(err, TG_E_UNPROCESSABLE, "%s", msg ? msg : "refused");
	else
		rc = tg_err_set(err, TG_E_UNAVAIL, "the package index could not be"
						   " used: %s: %.300s",
		    type ? type : "error", msg ? msg : "no detail");
out:
	if (rc != TG_OK) {
		json_decref(*result);
		*result = NULL;
	}
	json_decref(res);
	json_decref(rq);
	json_decref(hosts);
	json_decref(dl);
	json_decref(pe);
	return rc;
}

/* ------------------------------------------------------ package sets */

/*
 * The union of the closures of approved requests of server sid (and of
 * those being installed when installing is set: an approval's conflict
 * check), with the requests named skip_name left out and extra (a
 * resolution, or NULL) added. *closure sorted by name, *imports the import
 * names of the requested packages. A package at two versions is a
 * conflict (409).
 */
static int
set_closure(struct tg_db *db, const char *sid, const char *skip_name,
    json_t *extra, int installing, json_t **closure, json_t **imports,
    struct tg_err *err)
{
	const char *p[3];
	json_t *rows = NULL, *all = NULL, *by = NULL, *r, *e, *have;
	const char *k;
	size_t i, j;
	int rc;

	*closure = *imports = NULL;
	p[0] = sid;
	p[1] = skip_name;
	p[2] = installing ? "t" : "f";
	rc = tg_svc_query_array(db, "SELECT json_build_object('closure',"
				    " r.resolution->'closure', 'import_names', to_json(r.import_names))::text"
				    " FROM package_requests r WHERE r.server_id = $1::bigint AND"
				    " (r.status = 'approved' OR ($3::bool AND r.status = 'installing'))"
				    " AND ($2::text IS NULL OR r.name <> $2::text) ORDER BY r.id",
	    3, p, &rows);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	if (extra && json_array_append(rows, extra) != 0) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	by = json_object();
	*imports = json_array();
	if (by == NULL || *imports == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	json_array_foreach(rows, i, r) {
		json_array_foreach(json_object_get(r, "closure"), j, e) {
			const char *n = json_string_value(json_object_get(e, "name"));

			if (n == NULL)
				continue;
			have = json_object_get(by, n);
			if (have && !json_equal(json_object_get(have, "sha256"), json_object_get(e, "sha256"))) {
				rc = tg_err_set(err, TG_E_CONFLICT, "conflict: the server's"
								    " package set already has %s %s; this closure needs %s %s",
				    n, json_string_value(json_object_get(have, "version")), n,
				    json_string_value(json_object_get(e, "version")));
				goto out;
			}
			json_object_set(by, n, e);
		}
		json_array_foreach(json_object_get(r, "import_names"), j, e)
			json_array_append(*imports, e);
	}
	all = json_array();
	if (all == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	/* json objects iterate in insertion order: sort the keys */
	{
		const char **keys = calloc(json_object_size(by) + 1, sizeof(*keys));
		size_t n = 0, a, b;

		if (keys == NULL) {
			rc = tg_err_from(err, -TG_E_NOMEM);
			goto out;
		}
		json_object_foreach(by, k, e)
			keys[n++] = k;
		for (a = 1; a < n; a++)
			for (b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
				const char *t = keys[b];

				keys[b] = keys[b - 1];
				keys[b - 1] = t;
			}
		for (a = 0; a < n; a++)
			json_array_append(all, json_object_get(by, keys[a]));
		free(keys);
	}
	*closure = all;
	all = NULL;
	rc = TG_OK;
out:
	if (rc != TG_OK) {
		json_decref(*imports);
		*imports = NULL;
	}
	json_decref(all);
	json_decref(by);
	json_decref(rows);
	return rc;
}

/* Writes the set of server sid (inside the caller's transaction). */
static int
store_set(struct tg_db *db, const char *sid, json_t *closure, json_t *imports)
{
	char hash[TG_SHA256_HEX_LEN + 1];
	json_t *const js[2] = {closure, imports};
	const char *p[4];
	int rc;

	if (json_array_size(closure) == 0) {
		p[0] = sid;
		return tg_db_exec(db, "DELETE FROM package_sets WHERE server_id ="
				      " $1::bigint",
		    1, p, NULL);
	}
	if ((rc = tg_pkg_closure_hash(closure, hash)) != TG_OK)
		return rc;
	p[0] = sid;
	p[1] = hash;
	return tg_db_exec_json(db, "INSERT INTO package_sets (server_id, tree,"
				   " closure, import_names) SELECT $1::bigint, $2, $3::jsonb,"
				   " coalesce(array_agg(DISTINCT x), '{}') FROM jsonb_array_elements_text($4::jsonb) x"
				   " ON CONFLICT (server_id) DO UPDATE SET tree = EXCLUDED.tree,"
				   " closure = EXCLUDED.closure, import_names = EXCLUDED.import_names,"
				   " updated_at = now()",
	    4, p, js, 2, NULL);
}

/* ---------------------------------------------------------- service */

/* "name" or "name[extra1,extra2]" (PEP 508 extras): the name into name,
 * the extras (PEP 685 normalised, sorted, unique) into *extras. */
static int
split_extras(const char *in, char *name, size_t cap, json_t **extras,
    struct tg_err *err)
{
	const char *br = strchr(in, '['), *end, *s;
	size_t n = br ? (size_t)(br - in) : strlen(in);

	*extras = json_array();
	if (*extras == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	if (n >= cap)
		return tg_err_field(err, "name", "too long");
	memcpy(name, in, n);
	name[n] = '\0';
	if (br == NULL)
		return TG_OK;
	end = strchr(br, ']');
	if (end == NULL || end[1] != '\0' || end == br + 1)
		return tg_err_field(err, "name", "extras are written"
						 " 'name[extra1,extra2]'");
	for (s = br + 1; s < end;) {
		size_t k = strcspn(s, ",]"), i, j;
		char ex[64], cx[64];

		if (k == 0 || k >= sizeof(ex))
			return tg_err_field(err, "name", "an extra must be a name"
							 " such as 'socks'");
		memcpy(ex, s, k);
		ex[k] = '\0';
		if (!valid_dist(ex))
			return tg_err_field(err, "name", "an extra must be a name"
							 " such as 'socks'");
		canon(ex, cx, sizeof(cx));
		for (i = 0; i < json_array_size(*extras); i++)
			if (strcmp(json_string_value(json_array_get(*extras, i)),
				cx) >= 0)
				break;
		j = i;
		if (j < json_array_size(*extras) &&
		    strcmp(json_string_value(json_array_get(*extras, j)), cx) == 0)
			;
		else if (json_array_size(*extras) >= 16)
			return tg_err_field(err, "name", "at most 16 extras");
		else if (json_array_insert_new(*extras, j, json_string(cx)) != 0)
			return tg_err_from(err, -TG_E_NOMEM);
		s += k + (s[k] == ',');
	}
	return TG_OK;
}

/*
 * "job_runner" in an answer that waits for the package-job process:
 * whether one is connected to the database now (the master's, or
 * `toolgate packages run-jobs`). Without the master (plain CGI, mod_fcgid)
 * nothing resolves or installs until one runs: the answer says so instead
 * of waiting. Best effort: nothing added when the question fails.
 */
static void
note_runner(struct tg_db *db, json_t *out)
{
	const char *p[1] = {TG_PKG_JOBS_APPNAME};
	json_t *got = NULL, *jr;
	int on;

	if (!json_is_object(out) ||
	    tg_svc_query_object(db, "SELECT to_json(EXISTS (SELECT 1 FROM"
				    " pg_stat_activity WHERE application_name = $1 AND datname ="
				    " current_database()))::text",
		1, p, &got) != TG_OK)
		return;
	on = json_is_true(got);
	json_decref(got);
	jr = json_pack("{s:b}", "connected", on);
	if (jr != NULL && !on)
		json_object_set_new(jr, "message", json_string("no package-job"
							       " process is connected: this request waits until one runs"
							       " (the master keeps one when TOOLGATE_PIP_INDEX_URL is set;"
							       " without the master run `toolgate packages run-jobs`, e.g."
							       " from cron)"));
	json_object_set_new(out, "job_runner", jr);
}

/*
 * A request is recorded 'resolving' and answered at once (202); the
 * master's package-job process (lib/pkg_jobs.c) resolves it in the sandbox
 * and makes it 'pending' (ready for review) or 'failed' (with the reason).
 */
int
tg_packages_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	const char *name = NULL, *spec = "", *reason = "", *p[9];
	json_int_t sid = 0, tool = 0;
	json_t *want = NULL, *have = NULL, *extras = NULL, *e, *detail = NULL;
	char bare[128], cn[128], sids[24], tids[24], actor[24], *ij = NULL;
	char *xj = NULL;
	PGresult *res = NULL;
	json_error_t je;
	size_t i;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:I, s:s, s?s, s?o, s?s, s?I !}",
		"server_id", &sid, "name", &name, "version", &spec, "import_names",
		&want, "reason", &reason, "tool_id", &tool) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if ((rc = split_extras(name, bare, sizeof(bare), &extras, err)) != TG_OK)
		goto out;
	if (!valid_dist(bare)) {
		rc = tg_err_field(err, "name", "must be a distribution name such as"
					       " 'requests', 'python-dateutil' or 'requests[socks]'");
		goto out;
	}
	if (!valid_spec(spec)) {
		rc = tg_err_field(err, "version", "must be a version specifier such"
						  " as '==2.31.0' or '>=6,<7'");
		goto out;
	}
	if (strlen(reason) > 2048) {
		rc = tg_err_field(err, "reason", "at most 2048 bytes");
		goto out;
	}
	if (sid <= 0) {
		rc = tg_err_field(err, "server_id", "must be a server id");
		goto out;
	}
	if (tool < 0) {
		rc = tg_err_field(err, "tool_id", "must be a tool id");
		goto out;
	}
	if (want && (!json_is_array(want) || json_array_size(want) > 64)) {
		rc = tg_err_field(err, "import_names", "at most 64 names");
		goto out;
	}
	json_array_foreach(want, i, e) {
		if (!json_is_string(e) || !tg_parse_ident(json_string_value(e), 100)) {
			rc = tg_err_field(err, "import_names", "must be Python module"
							       " names such as 'yaml'");
			goto out;
		}
	}
	if (c->cfg == NULL || c->cfg->pip_index_url[0] == '\0') {
		rc = tg_err_set(err, TG_E_UNAVAIL, "no package index is configured"
						   " (TOOLGATE_PIP_INDEX_URL): third-party packages are off");
		goto out;
	}
	canon(bare, cn, sizeof(cn));
	snprintf(sids, sizeof(sids), "%lld", (long long)sid);
	p[0] = sids;
	if ((rc = tg_svc_query_object(c->db, "SELECT json_build_object('id', id)::text"
					     " FROM servers WHERE id = $1::bigint",
		 1, p, &have)) != TG_OK) {
		if (rc == -TG_E_NOTFOUND)
			rc = tg_err_set(err, TG_E_NOTFOUND, "server %lld does not exist",
			    (long long)sid);
		else
			rc = tg_err_from(err, rc);
		goto out;
	}
	ij = want ? json_dumps(want, JSON_COMPACT) : strdup("[]");
	xj = json_dumps(extras, JSON_COMPACT);
	if (ij == NULL || xj == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto out;
	}
	snprintf(tids, sizeof(tids), "%lld", (long long)tool);
	p[0] = sids;
	p[1] = cn;
	p[2] = spec;
	p[3] = ij;
	p[4] = reason;
	p[5] = tool > 0 ? tids : NULL;
	p[6] = tg_svc_actor(c, actor, sizeof(actor));
	p[7] = xj;
	if ((rc = tg_db_begin(c->db)) != TG_OK) {
		rc = tg_err_from(err, rc);
		goto out;
	}
	rc = tg_db_exec(c->db, "INSERT INTO package_requests (server_id, name, spec,"
			       " import_names, reason, tool_id, requested_by, extras, status)"
			       " SELECT $1::bigint, $2, $3, coalesce((SELECT array_agg(x) FROM"
			       " jsonb_array_elements_text($4::jsonb) x), '{}'), $5, $6::bigint,"
			       " $7::bigint, coalesce((SELECT array_agg(x) FROM"
			       " jsonb_array_elements_text($8::jsonb) x), '{}'), 'resolving'"
			       " RETURNING id",
	    8, p, &res);
	if (rc != TG_OK) {
		tg_db_rollback(c->db);
		if (rc == -TG_E_CONFLICT)
			rc = tg_err_set(err, TG_E_CONFLICT, "a request for %s on this"
							    " server is already resolving, pending or installing",
			    cn);
		else
			rc = tg_err_from(err, rc);
		goto out;
	}
	p[0] = PQgetvalue(res, 0, 0);
	/* wakes the package-job process (lib/pkg_jobs.c) at commit */
	if ((rc = tg_db_exec(c->db, "SELECT pg_notify('" TG_PKG_JOBS_CHANNEL "',"
				    " $1)",
		 1, p, NULL)) != TG_OK) {
		tg_db_rollback(c->db);
		rc = tg_err_from(err, rc);
		goto out;
	}
	detail = json_pack("{s:s, s:s, s:O}", "name", cn, "spec", spec, "extras",
	    extras);
	if ((rc = tg_audit_call(c, "package_request.create", PQgetvalue(res, 0, 0),
		 "success", detail)) != TG_OK ||
	    (rc = tg_db_commit(c->db)) != TG_OK) {
		tg_db_rollback(c->db);
		rc = tg_err_from(err, rc);
		goto out;
	}
	p[0] = PQgetvalue(res, 0, 0);
	rc = tg_err_from(err, tg_svc_query_object(c->db, "SELECT " PKG_JSON " WHERE r.id = $1::bigint", 1, p, out));
	if (rc == TG_OK)
		note_runner(c->db, *out);
out:
	PQclear(res);
	free(ij);
	free(xj);
	json_decref(detail);
	json_decref(have);
	json_decref(extras);
	return rc;
}

int
tg_packages_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	char lim[24], aft[24];
	const char *p[3];
	int64_t limit, after;
	json_t *rows = NULL;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_page_args(pg, &limit, &after, err)) != TG_OK)
		return rc;
	if (status && strcmp(status, "pending") != 0 && strcmp(status, "approved") != 0 &&
	    strcmp(status, "rejected") != 0 && strcmp(status, "revoked") != 0 &&
	    strcmp(status, "superseded") != 0 && strcmp(status, "resolving") != 0 &&
	    strcmp(status, "failed") != 0 && strcmp(status, "installing") != 0)
		return tg_err_set(err, TG_E_BADREQ, "status must be resolving, failed,"
						    " pending, installing, approved, rejected, revoked or superseded");
	snprintf(lim, sizeof(lim), "%lld", (long long)(limit + 1));
	snprintf(aft, sizeof(aft), "%lld", (long long)after);
	p[0] = aft;
	p[1] = lim;
	p[2] = status;
	if ((rc = tg_svc_query_array(c->db, "SELECT " PKG_JSON " WHERE r.id >"
					    " $1::bigint AND ($3::text IS NULL OR r.status = $3::text) ORDER BY r.id"
					    " LIMIT $2::bigint",
		 3, p, &rows)) != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, limit, "id", out));
}

int
tg_packages_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	int rc = tg_crud_get(c, TG_P_READ, "SELECT " PKG_JSON " WHERE r.id = $1::bigint",
	    "package request", id, out, err);

	if (rc == -TG_E_NOTFOUND)
		rc = tg_err_set(err, TG_E_NOTFOUND, "package request %lld does not exist",
		    (long long)id);
	return rc;
}

/* The new set (closure, imports, content address) of server sid with
 * the request job ({"closure", "import_names", ...}) replacing an
 * approved one of its name. */
static int
next_set(struct tg_db *db, const char *sid, const char *name, json_t *job,
    int installing, json_t **closure, json_t **imports,
    char hash[TG_SHA256_HEX_LEN + 1], struct tg_err *err)
{
	int rc = set_closure(db, sid, name, job, installing, closure, imports, err);

	if (rc == TG_OK && (rc = tg_pkg_closure_hash(*closure, hash)) != TG_OK)
		rc = tg_err_from(err, rc);
	return rc;
}

int
tg_packages_decide(const struct tg_call *c, int64_t id,
    enum tg_pkg_action action, json_t *in, json_t **out, struct tg_err *err)
{
	static const char *const verbs[] = {"approve", "reject", "revoke"};
	static const char *const from[] = {"pending", "pending", "approved"};
	static const char *const to[] = {"installing", "rejected", "revoked"};
	const char *reason = NULL, *p[5], *st, *sid, *name;
	json_t *row = NULL, *closure = NULL, *imports = NULL, *job = NULL;
	json_t *detail = NULL, *got = NULL;
	char ids[24], actor[24], me[24];
	char action_name[64];
	json_error_t je;
	int rc;

	*out = NULL;
	if ((rc = tg_svc_need(c, TG_P_APPROVE, err)) != TG_OK)
		return rc;
	if (in && !json_is_null(in)) {
		if (json_unpack_ex(in, &je, 0, "{s?s !}", "reason", &reason) != 0)
			return tg_err_field(err, "body", "%s", je.text);
		if (reason && strlen(reason) > 2048)
			return tg_err_field(err, "reason", "at most 2048 bytes");
	}
	if ((rc = tg_packages_get(c, id, &row, err)) != TG_OK)
		return rc;
	st = json_string_value(json_object_get(row, "status"));
	if (st == NULL || strcmp(st, from[action]) != 0) {
		rc = tg_err_set(err, TG_E_CONFLICT, "package request %lld is %s; only a"
						    " %s request can be %sd",
		    (long long)id, st ? st : "?", from[action],
		    verbs[action]);
		goto out;
	}
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	snprintf(actor, sizeof(actor), "%lld", (long long)json_integer_value(json_object_get(row, "server_id")));
	sid = actor; /* reused below as the server id string */
	name = json_string_value(json_object_get(row, "name"));
	if (action == TG_PKG_APPROVE) {
		/* what can be checked cheaply, now: the install itself (the
		 * download and unpack of the whole set) is the package-job
		 * process's, off the request path */
		if (c->cfg == NULL || c->cfg->pip_index_url[0] == '\0' ||
		    c->cfg->packages_dir[0] == '\0') {
			rc = tg_err_set(err, TG_E_UNAVAIL, "no package index or package"
							   " directory is configured (TOOLGATE_PIP_INDEX_URL,"
							   " TOOLGATE_PACKAGES_DIR): nothing can be installed");
			goto out;
		}
		job = json_pack("{s:O, s:O}", "closure", json_object_get(json_object_get(row, "resolution"), "closure"), "import_names",
		    json_object_get(row, "import_names"));
		if (job == NULL) {
			rc = tg_err_from(err, -TG_E_NOMEM);
			goto out;
		}
	}
	if ((rc = tg_db_begin(c->db)) != TG_OK) {
		rc = tg_err_from(err, rc);
		goto out;
	}
	p[0] = sid;
	/* one decision at a time per server: its set is rewritten below */
	rc = tg_db_exec(c->db, "SELECT 1 FROM servers WHERE id = $1::bigint FOR UPDATE",
	    1, p, NULL);
	/* one version per distribution in the set it joins (with the
	 * approvals still being installed), checked under the server's lock
	 * so that two approvals at once cannot both pass: 409 now, not at
	 * the install */
	if (rc == TG_OK && action == TG_PKG_APPROVE &&
	    (rc = set_closure(c->db, sid, name, job, 1, &closure, &imports, err)) != TG_OK) {
		tg_db_rollback(c->db);
		goto out;
	}
	if (rc == TG_OK) {
		p[0] = ids;
		p[1] = to[action];
		p[2] = tg_svc_actor(c, me, sizeof(me));
		p[3] = reason;
		p[4] = from[action];
		/* an approval is a new job, due now: attempts count the
		 * install's */
		rc = tg_svc_query_object(c->db, "UPDATE package_requests SET status = $2,"
						" decided_by = $3::bigint, decision_reason = $4, decided_at = now(),"
						" attempts = CASE WHEN $2 = 'installing' THEN 0 ELSE attempts END,"
						" error = CASE WHEN $2 = 'installing' THEN NULL ELSE error END,"
						" next_attempt_at = CASE WHEN $2 = 'installing' THEN now() ELSE"
						" next_attempt_at END WHERE id = $1::bigint AND status = $5"
						" RETURNING to_json(id)::text",
		    5, p, &got);
		/* decided meanwhile by someone else */
		if (rc == -TG_E_NOTFOUND) {
			tg_db_rollback(c->db);
			rc = tg_err_set(err, TG_E_CONFLICT, "package request %lld is no"
							    " longer %s",
			    (long long)id, from[action]);
			goto out;
		}
	}
	/* wakes the package-job process (lib/pkg_jobs.c) at commit */
	if (rc == TG_OK && action == TG_PKG_APPROVE)
		rc = tg_db_exec(c->db, "SELECT pg_notify('" TG_PKG_JOBS_CHANNEL "',"
				       " $1)",
		    1, p, NULL);
	if (rc == TG_OK && action == TG_PKG_REVOKE) {
		json_decref(closure);
		json_decref(imports);
		closure = imports = NULL;
		if ((rc = set_closure(c->db, sid, NULL, NULL, 0, &closure, &imports,
			 err)) != TG_OK) {
			tg_db_rollback(c->db);
			goto out;
		}
		rc = store_set(c->db, sid, closure, imports);
	}
	snprintf(action_name, sizeof(action_name), "package_request.%s",
	    verbs[action]);
	detail = json_pack("{s:s?, s:O?}", "name", name, "version",
	    json_object_get(json_object_get(row, "resolution"), "version"));
	/* the answer is the decision as this transaction commits it (read
	 * before the commit: the job process cannot have installed it yet) */
	p[0] = ids;
	if (rc == TG_OK)
		rc = tg_svc_query_object(c->db, "SELECT " PKG_JSON " WHERE r.id ="
						" $1::bigint",
		    1, p, out);
	if (rc == TG_OK)
		rc = tg_audit_call(c, action_name, ids, "success", detail);
	if (rc == TG_OK)
		rc = tg_db_commit(c->db);
	if (rc != TG_OK) {
		tg_db_rollback(c->db);
		json_decref(*out);
		*out = NULL;
		rc = tg_err_from(err, rc);
		goto out;
	}
	if (action == TG_PKG_APPROVE)
		note_runner(c->db, *out);
out:
	json_decref(detail);
	json_decref(got);
	json_decref(job);
	json_decref(closure);
	json_decref(imports);
	json_decref(row);
	return rc;
}

int
tg_pkg_audit_install(struct tg_db *db, const char *id, const char *outcome,
    const json_t *detail)
{
	struct tg_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.actor = TG_PKG_JOBS_APPNAME;
	rec.action = "package_request.install";
	rec.target = id;
	rec.outcome = outcome;
	rec.detail = detail;
	return tg_audit_write(db, &rec);
}

int
tg_pkg_install(struct tg_db *db, const struct tg_config *cfg, json_t *job,
    struct tg_err *err)
{
	const char *name = json_string_value(json_object_get(job, "name"));
	char sid[24], id[24], built[TG_SHA256_HEX_LEN + 1];
	char hash[TG_SHA256_HEX_LEN + 1];
	json_t *closure = NULL, *imports = NULL, *got = NULL, *detail = NULL;
	const char *p[2];
	int rc, tries;

	snprintf(sid, sizeof(sid), "%lld",
	    (long long)json_integer_value(json_object_get(job, "server_id")));
	snprintf(id, sizeof(id), "%lld",
	    (long long)json_integer_value(json_object_get(job, "id")));
	for (tries = 0;; tries++) {
		/* the tree, outside any transaction (download and unpack in
		 * the sandbox; renamed into place only when whole) */
		if ((rc = next_set(db, sid, name, job, 0, &closure, &imports,
			 built, err)) != TG_OK ||
		    (rc = tg_pkg_ensure_tree(cfg, built, closure, err)) != TG_OK)
			goto out;
		json_decref(closure);
		json_decref(imports);
		closure = imports = NULL;
		if ((rc = tg_db_begin(db)) != TG_OK) {
			rc = tg_err_from(err, rc);
			goto out;
		}
		/* a decision on the server waits for this one (and this for
		 * it): the set read now is the one committed */
		p[0] = sid;
		rc = tg_svc_query_object(db, "SELECT to_json(id)::text FROM servers"
					     " WHERE id = $1::bigint FOR UPDATE",
		    1, p, &got);
		json_decref(got);
		got = NULL;
		if (rc != TG_OK) {
			rc = tg_err_from(err, rc);
			goto fail;
		}
		if ((rc = next_set(db, sid, name, job, 0, &closure, &imports, hash,
			 err)) != TG_OK)
			goto fail;
		if (strcmp(hash, built) == 0)
			break;
		/* approved or revoked meanwhile: that set's tree */
		tg_db_rollback(db);
		json_decref(closure);
		json_decref(imports);
		closure = imports = NULL;
		if (tries >= 2) {
			rc = tg_err_set(err, TG_E_UNAVAIL, "the server's package set"
							   " changed during each of 3 installs");
			goto out;
		}
	}
	p[1] = name;
	rc = tg_db_exec(db, "UPDATE package_requests SET status = 'superseded',"
			    " decided_at = now() WHERE server_id = $1::bigint AND name = $2 AND"
			    " status = 'approved'",
	    2, p, NULL);
	p[0] = id;
	if (rc == TG_OK)
		rc = tg_svc_query_object(db, "UPDATE package_requests SET status ="
					     " 'approved', installed_at = now(), error = NULL, claimed_pid ="
					     " NULL WHERE id = $1::bigint AND status = 'installing'"
					     " RETURNING to_json(id)::text",
		    1, p, &got);
	if (rc == TG_OK)
		rc = store_set(db, sid, closure, imports);
	if (rc == TG_OK) {
		detail = json_pack("{s:s?, s:s, s:i}", "name", name, "tree", hash,
		    "attempt", (int)json_integer_value(json_object_get(job, "attempts")));
		rc = tg_pkg_audit_install(db, id, TG_AUDIT_OK, detail);
	}
	if (rc == TG_OK)
		rc = tg_db_commit(db);
	if (rc != TG_OK) {
		rc = tg_err_from(err, rc);
		goto fail;
	}
	goto out;
fail:
	tg_db_rollback(db);
out:
	json_decref(got);
	json_decref(detail);
	json_decref(closure);
	json_decref(imports);
	return rc;
}

/* ------------------------------------------------- export / import */

static int
hex64(const char *s)
{
	return s != NULL && strlen(s) == 64 &&
	    strspn(s, "0123456789abcdef") == 64;
}

int
tg_packages_check_export(json_t *o, char *why, size_t cap)
{
	static const char *const states[] = {"pending", "approved", "rejected",
	    "revoked", "superseded"};
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *st = json_string_value(json_object_get(o, "status"));
	json_t *cl = json_object_get(json_object_get(o, "resolution"), "closure"), *e, *x;
	char cn[128];
	size_t i, j;
	int ok = st == NULL;

	for (i = 0; st && i < sizeof(states) / sizeof(states[0]); i++)
		ok |= strcmp(st, states[i]) == 0;
	canon(name ? name : "", cn, sizeof(cn));
	if (name == NULL || !valid_dist(name) || strcmp(cn, name) != 0 || !ok) {
		snprintf(why, cap, "name must be a normalised distribution name and"
				   " status one of pending, approved, rejected, revoked, superseded");
		return -1;
	}
	if (json_object_get(o, "spec") &&
	    !valid_spec(json_string_value(json_object_get(o, "spec"))))
		return snprintf(why, cap, "spec is not a version specifier"), -1;
	json_array_foreach(json_object_get(o, "import_names"), i, x)
		if (!json_is_string(x) || !tg_parse_ident(json_string_value(x), 100))
			return snprintf(why, cap, "import_names must be module names"), -1;
	if (!json_is_array(cl) || json_array_size(cl) == 0 ||
	    json_array_size(cl) > 64)
		return snprintf(why, cap, "resolution.closure must list 1..64 wheels"), -1;
	json_array_foreach(cl, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *v = json_string_value(json_object_get(e, "version"));
		const char *u = json_string_value(json_object_get(e, "url"));
		const char *f = json_string_value(json_object_get(e, "filename"));
		size_t fl = f ? strlen(f) : 0;

		if (n == NULL || !valid_dist(n) || v == NULL || strlen(v) > 100 ||
		    !hex64(json_string_value(json_object_get(e, "sha256"))) ||
		    u == NULL || strlen(u) > 2000 || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || f == NULL || fl < 5 ||
		    fl > 255 || strcmp(f + fl - 4, ".whl") != 0 || strchr(f, '/')) {
			snprintf(why, cap, "resolution.closure[%zu] needs name, version,"
					   " an http(s) url, a .whl filename and a sha256",
			    i);
			return -1;
		}
		json_array_foreach(json_object_get(e, "import_names"), j, x)
			if (!json_is_string(x) || !tg_parse_ident(json_string_value(x), 100))
				return snprintf(why, cap, "resolution.closure[%zu]."
							  "import_names must be module names",
					   i),
				       -1;
	}
	return 0;
}

int
tg_packages_import(const struct tg_call *c, int64_t server_id, json_t *arr,
    int keep_status, const char *actor, struct tg_err *err)
{
	char sid[24], *rj = NULL, *ij = NULL;
	const char *p[8], *st;
	json_t *e, *o, *closure = NULL, *imports = NULL;
	size_t i, j;
	int rc = TG_OK;

	snprintf(sid, sizeof(sid), "%lld", (long long)server_id);
	json_array_foreach(arr, i, e) {
		st = json_string_value(json_object_get(e, "status"));
		st = st ? st : "pending";
		if (!keep_status && strcmp(st, "approved") == 0) {
			st = "pending";
			json_array_foreach(arr, j, o)
				if (j != i && json_equal(json_object_get(o, "name"), json_object_get(e, "name")) && json_is_string(json_object_get(o, "status")) && strcmp(json_string_value(json_object_get(o, "status")), "pending") == 0)
					st = "superseded";
		}
		rj = json_dumps(json_object_get(e, "resolution"), JSON_COMPACT);
		ij = json_dumps(json_object_get(e, "import_names") ?
			json_object_get(e, "import_names") :
			json_array(),
		    JSON_COMPACT);
		if (rj == NULL || ij == NULL) {
			rc = tg_err_from(err, -TG_E_NOMEM);
			goto out;
		}
		p[0] = sid;
		p[1] = json_string_value(json_object_get(e, "name"));
		p[2] = json_string_value(json_object_get(e, "spec"));
		p[3] = ij;
		p[4] = json_string_value(json_object_get(e, "reason"));
		p[5] = st;
		p[6] = rj;
		p[7] = actor;
		rc = tg_db_exec(c->db, "INSERT INTO package_requests (server_id, name,"
				       " spec, import_names, reason, status, resolution, requested_by)"
				       " SELECT $1::bigint, $2, coalesce($3, ''), coalesce((SELECT"
				       " array_agg(x) FROM jsonb_array_elements_text($4::jsonb) x), '{}'),"
				       " coalesce($5, ''), $6, $7::jsonb, $8::bigint",
		    8, p, NULL);
		free(rj);
		free(ij);
		rj = ij = NULL;
		if (rc != TG_OK) {
			rc = rc == -TG_E_CONFLICT ? tg_err_set(err, TG_E_CONFLICT,
							"packages[%zu]: a second %s request for %s", i, st, p[1]) :
						    tg_err_from(err, rc);
			goto out;
		}
	}
	if (json_array_size(arr) == 0)
		goto out;
	if ((rc = set_closure(c->db, sid, NULL, NULL, 0, &closure, &imports,
		 err)) != TG_OK)
		goto out;
	rc = tg_err_from(err, store_set(c->db, sid, closure, imports));
out:
	free(rj);
	free(ij);
	json_decref(closure);
	json_decref(imports);
	return rc;
}

/* ------------------------------------------------------- tool runs */

/* The JSON value cols (SQL) of server_id's package set into *set; NULL
 * when the server has none. */
static int
read_set(struct tg_db *db, int64_t server_id, const char *cols, json_t **set)
{
	char sql[256];
	int n, rc;

	*set = NULL;
	n = snprintf(sql, sizeof(sql), "SELECT %s::text FROM package_sets WHERE"
				       " server_id = $1::bigint",
	    cols);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return -TG_E_INTERNAL;
	rc = tg_svc_query_id(db, sql, server_id, set);
	return rc == -TG_E_NOTFOUND ? TG_OK : rc;
}

int
tg_packages_apply(struct tg_db *db, const struct tg_config *cfg,
    int64_t server_id, json_t *sreq, struct tg_sandbox_opts *o, char *msg,
    size_t msglen)
{
	json_t *set = NULL;
	int rc;

	if ((rc = read_set(db, server_id, TG_PACKAGES_SET_JSON, &set)) == TG_OK)
		rc = tg_packages_apply_set(cfg, set, sreq, o, msg, msglen);
	json_decref(set);
	return rc;
}

int
tg_packages_apply_set(const struct tg_config *cfg, const json_t *set,
    json_t *sreq, struct tg_sandbox_opts *o, char *msg, size_t msglen)
{
	char path[1024];
	const char *tree;
	json_t *mods, *e;
	struct tg_err err;
	size_t i;
	int rc;

	if (set == NULL || json_is_null(set))
		return TG_OK; /* no package set */
	tg_err_init(&err);
	tree = json_string_value(json_object_get(set, "tree"));
	if (tree == NULL || cfg == NULL || cfg->packages_dir[0] == '\0' ||
	    tg_pkg_tree_path(cfg, tree, path, sizeof(path)) != TG_OK) {
		snprintf(msg, msglen, "this server has a package set but no package"
				      " directory is configured (TOOLGATE_PACKAGES_DIR)");
		rc = -TG_E_UNAVAIL;
		goto out;
	}
	/* first use on this host (or after maintenance removed it) */
	if ((rc = tg_pkg_ensure_tree(cfg, tree, json_object_get(set, "closure"),
		 &err)) != TG_OK) {
		snprintf(msg, msglen, "the server's package set cannot be installed:"
				      " %s",
		    err.detail);
		goto out;
	}
	(void)utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
	if (json_object_set_new(sreq, "packages", json_string(path)) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	mods = json_object_get(sreq, "allowed_modules");
	if (json_is_array(mods))
		json_array_foreach(json_object_get(set, "import_names"), i, e)
			json_array_append(mods, e);
	/* warm or cold alike: the helper's --packages-root (sandbox_cfg.h) */
	(void)o;
	rc = TG_OK;
out:
	tg_err_clear(&err);
	return rc;
}

int
tg_packages_import_names(struct tg_db *db, int64_t server_id, json_t *mods)
{
	json_t *names = NULL, *e;
	size_t i;
	int rc;

	if (server_id <= 0 || !json_is_array(mods))
		return TG_OK;
	if ((rc = read_set(db, server_id, "to_json(import_names)", &names)) != TG_OK)
		return rc;
	json_array_foreach(names, i, e)
		json_array_append(mods, e);
	json_decref(names);
	return TG_OK;
}
