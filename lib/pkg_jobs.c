/*
 * pkg_jobs.c - package requests are resolved and installed off the
 * request path (see packages.h and docs/packages.md "The flow").
 *
 * tg_packages_create records a request 'resolving', an approval makes it
 * 'installing' (tg_packages_decide); both answer at once. The master keeps
 * one package-job process (fcgi/main.c; without the master, `toolgate
 * packages run-jobs`, fcgi/cli_packages.c, runs the same loop); it claims
 * a due request with a session advisory lock (so a process that dies
 * releases it at once and the next one, on this host or another, takes
 * the job over: nothing is lost) and does its job in a cold sandbox run:
 *   - resolving: tg_pkg_resolver_run, then one UPDATE: 'pending' with the
 *     review document, or 'failed' with {"status", "message"};
 *   - installing: tg_pkg_install builds the new set's tree (renamed into
 *     place only when whole) and then, in one transaction, makes the
 *     request 'approved' and rewrites the server's set; or 'failed' with
 *     the reason, the server keeping its previous set.
 * An index or sandbox that is unavailable is retried (3 attempts, 30 s
 * apart) before the request fails.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/audit.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/packages.h"
#include "lib/pkg_int.h"
#include "lib/rows.h"
#include "lib/status.h"

#define JOB_LOCK_CLASS "7415020"
#define JOB_ATTEMPTS 3
#define JOB_IDLE_MS 5000
#define AHEAD_RETRY_MS 60000 /* a tree that could not be built: next try */
#define AHEAD_FAILED 16 /* ... remembered for this many trees */

/* The diff of a new closure against the approved one of the same name. */
static json_t *
closure_diff(json_t *old, json_t *new)
{
	json_t *d = json_pack("{s:[], s:[], s:[]}", "added", "removed", "changed");
	json_t *e, *o;
	size_t i, j;

	if (d == NULL)
		return NULL;
	json_array_foreach(new, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		int found = 0;

		json_array_foreach(old, j, o) {
			if (!json_equal(json_object_get(o, "name"), json_object_get(e, "name")))
				continue;
			found = 1;
			if (!json_equal(json_object_get(o, "sha256"),
				json_object_get(e, "sha256")))
				json_array_append_new(json_object_get(d, "changed"),
				    json_pack("{s:s?, s:O, s:O}", "name", n, "from",
					json_object_get(o, "version"), "to",
					json_object_get(e, "version")));
		}
		if (!found)
			json_array_append_new(json_object_get(d, "added"),
			    json_pack("{s:s?, s:O}", "name", n, "version",
				json_object_get(e, "version")));
	}
	json_array_foreach(old, j, o) {
		int found = 0;

		json_array_foreach(new, i, e)
			found |= json_equal(json_object_get(o, "name"),
			    json_object_get(e, "name"));
		if (!found)
			json_array_append_new(json_object_get(d, "removed"),
			    json_pack("{s:O, s:O}", "name", json_object_get(o, "name"),
				"version", json_object_get(o, "version")));
	}
	return d;
}

/*
 * The requester's import names against what the package provides (its
 * own when none were named), and the diff against an approved request of
 * the same name. 422 when a named module is not provided.
 */
static int
review(struct tg_db *db, json_t *job, json_t *resn, json_t **imports,
    struct tg_err *err)
{
	const char *cn = json_string_value(json_object_get(job, "name"));
	json_t *want = json_object_get(job, "import_names"), *top = NULL, *e;
	json_t *prev = NULL;
	const char *p[2];
	char sid[24];
	size_t i, j;

	json_array_foreach(json_object_get(resn, "closure"), i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n != NULL && cn != NULL && strcmp(n, cn) == 0)
			top = json_object_get(e, "import_names");
	}
	if (!json_is_array(top))
		return tg_err_set(err, TG_E_UNAVAIL, "the resolver did not return"
						     " '%s'",
		    cn ? cn : "?");
	json_array_foreach(want, i, e) {
		int ok = 0;
		json_t *x;

		json_array_foreach(top, j, x)
			ok |= json_equal(x, e);
		if (!ok) {
			char *provided = json_dumps(top, JSON_COMPACT);

			tg_err_set(err, TG_E_UNPROCESSABLE, "import_names: '%s' is"
							    " not a module of %s (it provides %s)",
			    json_string_value(e), cn, provided ? provided : "?");
			free(provided);
			return -TG_E_UNPROCESSABLE;
		}
	}
	*imports = json_incref(json_array_size(want) > 0 ? want : top);
	snprintf(sid, sizeof(sid), "%lld",
	    (long long)json_integer_value(json_object_get(job, "server_id")));
	p[0] = sid;
	p[1] = cn;
	if (tg_svc_query_object(db, "SELECT (r.resolution->'closure')::text FROM"
				    " package_requests r WHERE r.server_id = $1::bigint AND r.name = $2"
				    " AND r.status = 'approved'",
		2, p, &prev) == TG_OK) {
		json_t *d = closure_diff(prev, json_object_get(resn, "closure"));

		if (d)
			json_object_set_new(resn, "diff", d);
	}
	json_decref(prev);
	return TG_OK;
}

/* Writes the outcome of job id in state stage ('resolving' or
 * 'installing'): resn (resolved: pending) or err (failed, or retried
 * later when the failure may pass). */
static int
finish(struct tg_db *db, const char *id, const char *stage, int attempts,
    json_t *resn, json_t *imports, const struct tg_err *err)
{
	json_t *const js[2] = {resn, imports};
	const char *p[4];
	char *ej = NULL;
	json_t *e = NULL;
	int rc, retry, audit;

	p[0] = id;
	if (resn != NULL)
		return tg_db_exec_json(db, "UPDATE package_requests SET status ="
					   " 'pending', resolution = $2::jsonb, import_names = coalesce((SELECT"
					   " array_agg(x) FROM jsonb_array_elements_text($3::jsonb) x), '{}'),"
					   " error = NULL, claimed_pid = NULL, resolved_at = now()"
					   " WHERE id = $1::bigint AND status = 'resolving'",
		    3, p, js, 2, NULL);
	retry = (err->status == TG_E_UNAVAIL || err->status == TG_E_BUSY ||
		    err->status == TG_E_TIMEOUT || err->status == TG_E_DB) &&
	    attempts < JOB_ATTEMPTS;
	e = json_pack("{s:i, s:s, s:b, s:s}", "status",
	    tg_status_http(err->status ? -err->status : -TG_E_INTERNAL), "message",
	    err->detail[0] ? err->detail : "the package job failed", "retrying",
	    retry, "stage", strcmp(stage, "installing") == 0 ? "install" : "resolve");
	ej = e ? json_dumps(e, JSON_COMPACT) : NULL;
	if (ej == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	p[1] = ej;
	p[2] = retry ? stage : "failed";
	p[3] = stage;
	audit = !retry && strcmp(stage, "installing") == 0;
	/* a failed install and its audit row commit together */
	if (audit && (rc = tg_db_begin(db)) != TG_OK)
		goto out;
	/* a failed install keeps resolved_at: the review it installed */
	rc = tg_db_exec(db, "UPDATE package_requests SET status = $3, error ="
			    " $2::jsonb, claimed_pid = NULL, next_attempt_at = now() +"
			    " attempts * interval '30 seconds', resolved_at = CASE WHEN $3 ="
			    " 'failed' AND $4 = 'resolving' THEN now() ELSE resolved_at END"
			    " WHERE id = $1::bigint AND status = $4",
	    4, p, NULL);
	if (audit) {
		if (rc == TG_OK)
			rc = tg_pkg_audit_install(db, id, TG_AUDIT_FAILED, e);
		if (rc == TG_OK)
			rc = tg_db_commit(db);
		if (rc != TG_OK)
			tg_db_rollback(db);
	}
out:
	free(ej);
	json_decref(e);
	return rc;
}

/* Resolves the claimed job (a row as JSON). */
static int
resolve_job(struct tg_db *db, const struct tg_config *cfg, json_t *job)
{
	struct tg_err err;
	json_t *args, *resn = NULL, *imports = NULL;
	char id[24];
	int rc, attempts = (int)json_integer_value(json_object_get(job, "attempts"));

	tg_err_init(&err);
	snprintf(id, sizeof(id), "%lld",
	    (long long)json_integer_value(json_object_get(job, "id")));
	args = json_pack("{s:s, s:s, s:O, s:O, s:O, s:s}", "op", "resolve",
	    "index_url", cfg->pip_index_url, "name", json_object_get(job, "name"),
	    "spec", json_object_get(job, "spec"), "extras",
	    json_object_get(job, "extras"), "osv_url", cfg->osv_url);
	if (args == NULL)
		rc = tg_err_from(&err, -TG_E_NOMEM);
	else
		rc = tg_pkg_resolver_run(cfg, args, NULL, &resn, &err);
	if (rc == TG_OK && (rc = review(db, job, resn, &imports, &err)) != TG_OK) {
		json_decref(resn);
		resn = NULL;
	}
	tg_log(rc == TG_OK ? TG_LOG_INFO : TG_LOG_WARN, "packages.resolved",
	    "id=%s name=%s attempt=%d outcome=%s msg=%s", id,
	    tg_log_q(json_string_value(json_object_get(job, "name"))), attempts,
	    rc == TG_OK ? "pending" : tg_status_name(rc), tg_log_q(err.detail));
	rc = finish(db, id, "resolving", attempts, resn, imports, &err);
	json_decref(args);
	json_decref(resn);
	json_decref(imports);
	tg_err_clear(&err);
	return rc;
}

/* Installs the claimed job (a row as JSON, status 'installing'). */
static int
install_job(struct tg_db *db, const struct tg_config *cfg, json_t *job)
{
	struct tg_err err;
	char id[24];
	int rc, attempts = (int)json_integer_value(json_object_get(job, "attempts"));

	tg_err_init(&err);
	snprintf(id, sizeof(id), "%lld",
	    (long long)json_integer_value(json_object_get(job, "id")));
	rc = tg_pkg_install(db, cfg, job, &err);
	tg_log(rc == TG_OK ? TG_LOG_INFO : TG_LOG_WARN, "packages.install",
	    "id=%s name=%s attempt=%d outcome=%s msg=%s", id,
	    tg_log_q(json_string_value(json_object_get(job, "name"))), attempts,
	    rc == TG_OK ? "approved" : tg_status_name(rc), tg_log_q(err.detail));
	/* done, or the request is gone or no longer installing */
	if (rc != TG_OK && rc != -TG_E_NOTFOUND)
		rc = finish(db, id, "installing", attempts, NULL, NULL, &err);
	tg_err_clear(&err);
	return rc;
}

int
tg_pkg_jobs_run_one(struct tg_db *db, const struct tg_config *cfg,
    json_t **done)
{
	json_t *ids = NULL, *x, *job = NULL;
	const char *p[2], *st;
	char id[24], pid[24];
	size_t i;
	int rc, ran = 0;

	if (done != NULL)
		*done = NULL;
	rc = tg_svc_query_array(db, "SELECT to_json(id)::text FROM package_requests"
				    " WHERE status IN ('resolving', 'installing') AND next_attempt_at"
				    " <= now() ORDER BY next_attempt_at, id LIMIT 16",
	    0, NULL, &ids);
	if (rc != TG_OK)
		return rc;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	json_array_foreach(ids, i, x) {
		json_t *got = NULL;

		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(x));
		p[0] = id;
		/* another process (here or on another host) has it: skip */
		if (tg_svc_query_object(db, "SELECT to_json(pg_try_advisory_lock(" JOB_LOCK_CLASS ", ($1::bigint % 2147483647)::int))::text",
			1, p, &got) != TG_OK ||
		    !json_is_true(got)) {
			json_decref(got);
			continue;
		}
		json_decref(got);
		p[1] = pid;
		rc = tg_svc_query_object(db, "UPDATE package_requests SET attempts ="
					     " attempts + 1, claimed_pid = $2::int WHERE id = $1::bigint AND"
					     " status IN ('resolving', 'installing') RETURNING"
					     " json_build_object('id', id, 'server_id', server_id, 'name',"
					     " name, 'spec', spec, 'extras', to_json(extras), 'import_names',"
					     " to_json(import_names), 'attempts', attempts, 'status', status,"
					     " 'closure', resolution->'closure')::text",
		    2, p, &job);
		st = json_string_value(json_object_get(job, "status"));
		if (rc == TG_OK)
			rc = st && strcmp(st, "installing") == 0 ?
			    install_job(db, cfg, job) :
			    resolve_job(db, cfg, job);
		(void)tg_db_exec(db, "SELECT pg_advisory_unlock(" JOB_LOCK_CLASS ","
				     " ($1::bigint % 2147483647)::int)",
		    1, p, NULL);
		json_decref(job);
		job = NULL;
		if (rc == -TG_E_NOTFOUND) /* finished meanwhile */
			continue;
		ran = rc == TG_OK ? 1 : rc;
		if (rc == TG_OK && done != NULL)
			(void)tg_svc_query_object(db, "SELECT json_build_object('id', id,"
						      " 'name', name, 'status', status, 'error', error)::text"
						      " FROM package_requests WHERE id = $1::bigint",
			    1, p, done);
		break;
	}
	json_decref(ids);
	return ran;
}

/*
 * Trees ahead of calls: a package set in use whose tree this host does not
 * have (another host installed it, or it was removed here) is built by
 * this process before a call needs it, at most max per turn, so that the
 * call's worker finds it instead of downloading it during the call
 * (tg_packages_apply_set still builds a missing tree: the fallback). A
 * tree that could not be built is tried again after AHEAD_RETRY_MS, not at
 * every turn (the last AHEAD_FAILED such trees are remembered). Returns how many were built.
 */
static int
trees_ahead(struct tg_db *db, const struct tg_config *cfg, int max)
{
	/* the trees that could not be built lately, and when */
	static struct {
		char tree[TG_SHA256_HEX_LEN + 1];
		int64_t ms;
	} failed[AHEAD_FAILED];
	json_t *sets = NULL, *s;
	int64_t now = tg_now_ms();
	char path[1024];
	struct stat st;
	size_t i;
	int built = 0;

	if (cfg->packages_dir[0] == '\0' ||
	    tg_svc_query_array(db, "SELECT json_build_object('tree', tree, 'closure', closure)::text"
				   " FROM (SELECT DISTINCT ON (tree) tree, closure FROM package_sets"
				   " ORDER BY tree) s",
		0, NULL, &sets) != TG_OK)
		return 0;
	json_array_foreach(sets, i, s) {
		const char *tree = json_string_value(json_object_get(s, "tree"));
		struct tg_err err;
		int rc, k, slot = 0;

		if (built >= max)
			break;
		if (tree == NULL || tg_pkg_tree_path(cfg, tree, path, sizeof(path)) != TG_OK ||
		    stat(path, &st) == 0)
			continue;
		/* its own entry, else the oldest one */
		for (k = 0; k < AHEAD_FAILED; k++) {
			if (strcmp(failed[k].tree, tree) == 0) {
				slot = k;
				break;
			}
			if (failed[k].ms < failed[slot].ms)
				slot = k;
		}
		if (k < AHEAD_FAILED && now - failed[slot].ms < AHEAD_RETRY_MS)
			continue;
		tg_err_init(&err);
		rc = tg_pkg_ensure_tree(cfg, tree, json_object_get(s, "closure"), &err);
		tg_log(rc == TG_OK ? TG_LOG_INFO : TG_LOG_WARN, "packages.tree_ahead",
		    "tree=%.12s outcome=%s msg=%s", tree, tg_status_name(rc),
		    tg_log_q(err.detail));
		tg_err_clear(&err);
		if (rc == TG_OK) {
			built++;
		} else {
			snprintf(failed[slot].tree, sizeof(failed[slot].tree), "%s", tree);
			failed[slot].ms = tg_now_ms();
		}
	}
	json_decref(sets);
	return built;
}

int
tg_pkg_jobs_run(const struct tg_config *cfg, int once,
    void (*report)(const json_t *done))
{
	struct tg_db *db = NULL;
	int n = 0;

	for (;;) {
		PGconn *pc;
		PGnotify *nt;
		struct pollfd pfd;
		json_t *done = NULL;
		int rc;

		if (db == NULL) {
			db = tg_db_open(TG_PKG_JOBS_APPNAME);
			if (db == NULL || tg_db_exec(db, "LISTEN " TG_PKG_JOBS_CHANNEL, 0, NULL, NULL) != TG_OK) {
				tg_db_close(db);
				db = NULL;
				if (once)
					return -TG_E_DB;
				sleep(5);
				continue;
			}
		}
		while ((rc = tg_pkg_jobs_run_one(db, cfg, report ? &done : NULL)) == 1) {
			n++;
			if (report != NULL && done != NULL)
				report(done);
			json_decref(done);
			done = NULL;
		}
		if (rc < 0) {
			tg_log(TG_LOG_WARN, "packages.jobs", "rc=%s", tg_status_name(rc));
			tg_db_close(db);
			db = NULL;
			if (once)
				return rc;
			sleep(1);
			continue;
		}
		if (once) {
			(void)trees_ahead(db, cfg, 16);
			tg_db_close(db);
			return n;
		}
		/* one tree ahead of the calls, then back to the requests */
		(void)trees_ahead(db, cfg, 1);
		/* until a new request or approval, or a retry falls due */
		pc = tg_db_conn(db);
		pfd.fd = PQsocket(pc);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, JOB_IDLE_MS) < 0 && errno != EINTR)
			sleep(1);
		if (PQconsumeInput(pc) == 0) {
			tg_db_close(db);
			db = NULL;
			continue;
		}
		while ((nt = PQnotifies(pc)) != NULL)
			PQfreemem(nt);
	}
}

void
tg_pkg_jobs_main(const struct tg_config *cfg)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* `ps`: the master's package-job process (docs/operations.md) */
	prctl(PR_SET_NAME, "tg-packages", 0, 0, 0);
	(void)tg_pkg_jobs_run(cfg, 0, NULL);
	_exit(1);
}
