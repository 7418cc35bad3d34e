/*
 * test_packages.c - third-party Python packages through the real stack
 * (issue #20; docs/packages.md). No public index is reachable: the suite
 * builds small wheels with tests/packages/make_index.py into
 * $TG_PKGINDEX_DIR (tests/run.sh starts tests/packages/index_server.py on it
 * when it picks the port; by hand: $TG_VAR/pkgindex, started here) on
 * the loopback port tests/run.sh gave the stack (TOOLGATE_PIP_INDEX_URL,
 * TOOLGATE_OSV_URL): configured package hosts may be loopback, no
 * test-only escape hatch; TOOLGATE_PIP_MAX_DOWNLOAD is 20 MiB there.
 *
 *   - a request is answered 202 "resolving" at once and resolved by the
 *     master's package-job process into "pending" or "failed" (with the
 *     reason); killing that process mid-resolution loses nothing;
 *   - a 12 MiB wheel (over the 5 MiB reply cap of tool egress) installs
 *     and is imported; a 24 MiB one (over the download cap) is refused;
 *   - a tool's own egress to the (loopback) index is still refused, and a
 *     tool cannot use the installer's download mode;
 *   - extras: name[extra] follows the extra's dependencies, an unknown
 *     extra is refused;
 *   - request -> review data (version, summary, licence, home page, the
 *     closure with sha256 hashes, vulnerabilities checked) -> the validator
 *     refuses the import before approval -> approve (installed by the
 *     package-job process) -> a tool imports it
 *     (test run and tools/call) -> revoke -> the import fails clearly;
 *   - an import name that differs from the distribution's (top_level.txt);
 *     a claimed import name the package does not provide is a 422;
 *   - an sdist-only package is refused (422, says why);
 *   - approval is answered at once (202 "installing") while the index holds
 *     the download back; health and REST answer meanwhile, the server keeps
 *     its previous set until the package-job process has installed the new
 *     one; killing that process mid-install loses nothing;
 *   - without the master (CGI), an approval says the install waits for a job
 *     runner, and `toolgate packages run-jobs --once` installs it;
 *   - a wheel whose bytes changed on the index after review makes the
 *     install fail (the old set keeps serving), and after approval a host
 *     rebuilding the tree refuses it;
 *   - the package tree cannot be written from a tool;
 *   - the vulnerability stub reports GHSA-tg-0001 for tgvuln and the
 *     review shows it; an update shows the diff of the closure.
 */
#include "tests/integration/it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char admin[4096];
static char var[1024], port[16];
static char idx[1100]; /* the index's directory */
static int own_index;
static char srv[32];
static long long sid;

static int
setup(void **state)
{
	const char *eg, *colon;
	char url[64];
	int i;

	(void)state;
	if (it_login_admin(admin, sizeof(admin)) != 0)
		return -1;
	snprintf(var, sizeof(var), "%s", it_env("TG_VAR"));
	/* http://127.0.0.1:PORT/simple/ */
	eg = it_env("TOOLGATE_PIP_INDEX_URL");
	colon = strrchr(eg, ':');
	if (colon == NULL || strncmp(eg, "http://127.0.0.1:", 17) != 0)
		return -1;
	snprintf(port, sizeof(port), "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
	/* tests/run.sh starts the index server as soon as it picks the port
	 * and names its directory (TG_PKGINDEX_DIR); by hand, this starts it */
	if (getenv("TG_PKGINDEX_DIR") != NULL && *getenv("TG_PKGINDEX_DIR")) {
		snprintf(idx, sizeof(idx), "%s", getenv("TG_PKGINDEX_DIR"));
		own_index = 0;
	} else {
		snprintf(idx, sizeof(idx), "%s/pkgindex", var);
		own_index = 1;
	}
	if (it_sh("rm -rf '%s'/* && mkdir -p '%s' && python3"
		  " tests/packages/make_index.py '%s'",
		idx, idx, idx) != 0)
		return -1;
	if (own_index && it_sh("python3 tests/packages/index_server.py %s '%s'"
			       " '%s.pid' >'%s.log' 2>&1 &",
			     port, idx, idx, idx) != 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/simple/tgdep/", port);
	for (i = 0; i < 100; i++) {
		if (it_sh("curl -sf -o /dev/null '%s'", url) == 0)
			break;
		usleep(100000);
	}
	snprintf(srv, sizeof(srv), "pkgs%ld", (long)getpid());
	sid = it_server_create(admin, srv, NULL);
	it_server_start(admin, sid);
	return 0;
}

/* The master's package-job process while t_run_jobs_without_master has
 * it stopped (0: none): teardown lets it go on whatever happened. */
static pid_t frozen;

static void
thaw(void)
{
	if (frozen > 0)
		(void)kill(frozen, SIGCONT);
	frozen = 0;
}

static int
teardown(void **state)
{
	(void)state;
	thaw();
	(void)it_sh("rm -f '%s'/*.hold", idx);
	if (own_index)
		(void)it_sh("test -s '%s.pid' && kill $(cat '%s.pid')", idx, idx);
	return 0;
}

/* POST /api/v1/package-requests for srv; returns the response (caller
 * frees) after asserting want. */
static json_t *
request_pkg(long long server, const char *name, const char *extra, long want)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"server_id\":%lld,\"name\":\"%s\"%s%s}",
	    server, name, extra ? "," : "", extra ? extra : "");
	return it_call("POST", "/api/v1/package-requests", admin, body, want);
}

/* GET the request until it is no longer in state st ("resolving" or
 * "installing": the package-job process works on it; generous bound,
 * never a timing assertion). */
static json_t *
wait_while(long long id, const char *st)
{
	char path[96];
	json_t *r = NULL;
	int i;

	snprintf(path, sizeof(path), "/api/v1/package-requests/%lld", id);
	for (i = 0; i < 1800; i++) {
		json_decref(r);
		r = it_call("GET", path, admin, NULL, 200);
		if (strcmp(it_jstr(r, "status"), st) != 0)
			return r;
		usleep(100000);
	}
	fail_msg("package request %lld still %s after 180 s", id, st);
	return r;
}

static json_t *
wait_resolved(long long id)
{
	return wait_while(id, "resolving");
}

/* The request r must be in state want (else the test fails, showing r). */
static void
want_status(json_t *r, const char *want)
{
	if (strcmp(it_jstr(r, "status"), want) != 0) {
		char *t = json_dumps(r, JSON_COMPACT);

		fail_msg("request %lld is %s, want %s: %s", it_jint(r, "id"),
		    it_jstr(r, "status"), want, t ? t : "?");
	}
}

/* A request (202, "resolving"), then its outcome, which must be want
 * ("pending" or "failed"). Caller frees. */
static json_t *
resolve_pkg(long long server, const char *name, const char *extra,
    const char *want)
{
	json_t *r = request_pkg(server, name, extra, 202), *out;
	long long id = it_jint(r, "id");

	assert_string_equal(it_jstr(r, "status"), "resolving");
	assert_true(json_is_null(json_object_get(r, "resolution")));
	json_decref(r);
	out = wait_resolved(id);
	want_status(out, want);
	return out;
}

static void
decide(long long id, const char *verb, long want)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/package-requests/%lld/%s", id, verb);
	json_decref(it_call("POST", path, admin, "{}", want));
}

/* POST approve: 202 at once with status "installing" and "job_runner";
 * returns the answer (caller frees). */
static json_t *
approve_async(long long id)
{
	char path[96];
	json_t *r;

	snprintf(path, sizeof(path), "/api/v1/package-requests/%lld/approve", id);
	r = it_call("POST", path, admin, "{}", 202);
	assert_string_equal(it_jstr(r, "status"), "installing");
	assert_true(json_is_boolean(json_object_get(json_object_get(r, "job_runner"),
	    "connected")));
	assert_non_null(json_string_value(json_object_get(r, "decided_at")));
	return r;
}

/* Approves (202 "installing") and waits until the package-job process has
 * installed the set: the request must end in want ("approved" or
 * "failed"). Caller frees the request. */
static json_t *
approve_wait(long long id, const char *want)
{
	json_t *r = approve_async(id);

	json_decref(r);
	r = wait_while(id, "installing");
	want_status(r, want);
	return r;
}

static void
approve_installed(long long id)
{
	json_t *r = approve_wait(id, "approved");

	assert_non_null(json_string_value(json_object_get(r, "installed_at")));
	json_decref(r);
}

/* A server of this test's own: prefix and the pid; its name into name (40
 * bytes) unless that is NULL. */
static long long
own_server(const char *prefix, char *name)
{
	char own[40];

	return it_server_own(admin, prefix, name ? name : own, sizeof(own), NULL, 0);
}

/* Requests package name for server (202), waits until it is resolved to
 * "pending", approves the request (202) and waits until it is installed. */
static void
approved_pkg(long long server, const char *name)
{
	json_t *r = resolve_pkg(server, name, NULL, "pending");

	approve_installed(it_jint(r, "id"));
	json_decref(r);
}

/* Creates a tool on server (201) and runs it with POST /test; returns the
 * run's result document. */
static json_t *
test_run(long long server, const char *name, const char *code, long long *tool)
{
	char path[96], s[24];
	json_t *j;

	snprintf(s, sizeof(s), "%lld", server);
	*tool = it_tool_create(admin, s, name, code, NULL);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", *tool);
	j = it_call("POST", path, admin, "{}", 200);
	return j;
}

/* test_run, whose result document must hold want (JSON text, it_match);
 * returns the tool's id. */
static long long
run_expect(long long server, const char *name, const char *code, const char *want)
{
	long long tool;
	json_t *res = test_run(server, name, code, &tool);

	it_match(res, want);
	json_decref(res);
	return tool;
}

static json_t *
rerun(long long tool)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tool);
	return it_call("POST", path, admin, "{}", 200);
}

static json_t *
closure_entry(json_t *req, const char *name)
{
	json_t *c = json_object_get(json_object_get(req, "resolution"), "closure"), *e;
	size_t i;

	json_array_foreach(c, i, e) {
		if (strcmp(it_jstr(e, "name"), name) == 0)
			return e;
	}
	return NULL;
}

static void
t_request_review_approve_use_revoke(void **state)
{
	json_t *r, *res, *e, *v;
	long long rid, tool;
	char sess[256], exposed[96], s[24], body[256];

	(void)state;
	r = resolve_pkg(sid, "tgdemo", "\"import_names\":[\"tgdemo\"],\"reason\":\"demo\"",
	    "pending");
	rid = it_jint(r, "id");
	assert_string_equal(it_jstr(r, "status"), "pending");
	assert_string_equal(it_jstr(r, "kind"), "package_request");
	v = json_object_get(r, "resolution");
	/* what the reviewer needs */
	assert_string_equal(it_jstr(v, "version"), "1.0");
	assert_string_equal(it_jstr(v, "summary"), "test package tgdemo");
	assert_string_equal(it_jstr(v, "license"), "MIT");
	assert_string_equal(it_jstr(v, "home_page"), "https://example.invalid/tgdemo");
	/* the closure: the dependency, not the marker-excluded one */
	assert_int_equal(json_array_size(json_object_get(v, "closure")), 2);
	e = closure_entry(r, "tgdep");
	assert_non_null(e);
	assert_string_equal(it_jstr(e, "version"), "1.2");
	assert_int_equal(strlen(it_jstr(e, "sha256")), 64);
	assert_null(closure_entry(r, "tgnever"));
	assert_string_equal(it_jstr(json_object_get(v, "vulnerabilities"), "status"),
	    "checked");
	json_decref(r);

	/* a second request for it while one is pending */
	json_decref(request_pkg(sid, "tgdemo", NULL, 409));

	/* before approval the validator refuses the import */
	snprintf(s, sizeof(s), "%lld", sid);
	snprintf(body, sizeof(body), "{\"name\":\"early\",\"code\":\"import tgdemo\\n"
				     "def main():\\n    return 1\\n\"}");
	{
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/servers/%lld/tools", sid);
		r = it_call("POST", path, admin, body, 422);
		it_json_has(r, "tgdemo");
		json_decref(r);
	}

	approve_installed(rid);
	r = it_call("GET", "/api/v1/package-requests?status=approved", admin, NULL, 200);
	it_json_has(r, "\"tgdemo\"");
	json_decref(r);

	/* a tool imports it (its dependency is imported by the package) */
	tool = run_expect(sid, "usedemo", "import tgdemo\n\ndef main() -> str:\n"
					  "    return tgdemo.hello()\n",
	    "{\"ok\":true,\"result\":\"hello from tgdemo 42\"}");

	/* served through tools/call as well */
	it_tool_submit(admin, tool);
	it_approve_current(admin, tool);
	snprintf(exposed, sizeof(exposed), "%s__usedemo", srv);
	it_mcp_init(admin, IT_MCP_VERSION, sess, sizeof(sess));
	res = it_mcp_call(admin, sess, IT_MCP_VERSION, exposed, "{}", NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "hello from tgdemo 42"));
	json_decref(res);

	/* revoke: gone from the next call at once, with a clear error */
	decide(rid, "revoke", 200);
	res = rerun(tool);
	assert_false(json_is_true(json_object_get(res, "ok")));
	it_json_has(res, "import of 'tgdemo' is not allowed");
	json_decref(res);
	res = it_mcp_call(admin, sess, IT_MCP_VERSION, exposed, "{}", NULL);
	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_non_null(strstr(it_first_text(res), "tgdemo"));
	json_decref(res);
	/* a revoked request cannot be approved again: a new request */
	decide(rid, "approve", 409);
}

static void
t_import_name_differs(void **state)
{
	json_t *r;
	long long rid, s2;

	(void)state;
	s2 = own_server("pkgodd", NULL);
	/* a claimed module the package does not provide */
	r = resolve_pkg(s2, "tg-odd-name", "\"import_names\":[\"tg_odd_name\"]", "failed");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"),
			     "status")),
	    422);
	it_json_has(r, "oddmod");
	json_decref(r);
	/* PEP 503 normalisation: the same distribution */
	r = resolve_pkg(s2, "TG_Odd.Name", NULL, "pending");
	rid = it_jint(r, "id");
	assert_string_equal(it_jstr(r, "name"), "tg-odd-name");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r,
								 "import_names"),
				0)),
	    "oddmod");
	json_decref(r);
	approve_installed(rid);
	(void)run_expect(s2, "useodd", "import oddmod\n\ndef main() -> str:\n"
				       "    return oddmod.NAME\n",
	    "{\"ok\":true,\"result\":\"odd\"}");
}

static void
t_sdist_only_refused(void **state)
{
	json_t *r;

	(void)state;
	r = resolve_pkg(sid, "tgsdist", NULL, "failed");
	it_json_has(r, "source distributions");
	it_json_has(r, "wheels only");
	json_decref(r);
	/* not on the index at all */
	r = resolve_pkg(sid, "tgmissing", NULL, "failed");
	it_json_has(r, "not on the package index");
	json_decref(r);
	/* bad input: clear 422s, nothing resolved */
	json_decref(request_pkg(sid, "../etc", NULL, 422));
	json_decref(request_pkg(sid, "tgdep", "\"version\":\"; rm -rf /\"", 422));
	json_decref(request_pkg(999999999, "tgdep", NULL, 404));
}

/* The tree of server's package set, into out (65 bytes; "" when none). */
static void
set_tree(long long server, char *out, size_t cap)
{
	assert_int_equal(it_capture(out, cap, "psql -X -Atq -c \"SELECT tree FROM"
					      " package_sets WHERE server_id = %lld\"",
			     server),
	    0);
}

/* tree (a set's, 64 hex digits) is on this host and read-only: the
 * directory 555, its file (a module) 444. */
static void
tree_read_only(const char *tree, const char *file)
{
	assert_int_equal(strlen(tree), 64);
	assert_int_equal(it_sh("test \"$(stat -c %%a \"$TOOLGATE_PACKAGES_DIR/%s\")\" = 555"
			       " && test \"$(stat -c %%a \"$TOOLGATE_PACKAGES_DIR/%s/%s\")\" = 444",
			     tree, tree, file),
	    0);
}

/* No package tree of an earlier run (the same closure is the same
 * content address, which an install would find built already): every
 * tree goes; the sets rebuild theirs on first use. */
static void
no_trees(void)
{
	assert_int_equal(it_sh("chmod -R u+w \"$TOOLGATE_PACKAGES_DIR\" && find"
			       " \"$TOOLGATE_PACKAGES_DIR\" -mindepth 1 -maxdepth 1 -exec rm -rf {} +"),
	    0);
}

/* The index holds every download of name's files back until release. */
static void
hold(const char *name)
{
	assert_int_equal(it_sh("rm -f '%s/%s.held' && touch '%s/%s.hold'", idx, name,
			     idx, name),
	    0);
}

/* name "*": every hold (one a failed test left behind) */
static void
release(const char *name)
{
	assert_int_equal(it_sh("rm -f '%s/'%s.hold", idx, name), 0);
}

/* Until the installer asked the index for a file of name (which holds it
 * back): the install is under way. A generous bound, not a timing one. */
static void
wait_held(const char *name)
{
	int i;

	for (i = 0; i < 1800; i++) {
		if (it_sh("test -e '%s/%s.held'", idx, name) == 0)
			return;
		usleep(100000);
	}
	fail_msg("no download of %s was asked for in 180 s", name);
}

/* The request's attempts with status st, from the database. */
static int
attempts_in(long long id, const char *st)
{
	char v[32];

	assert_int_equal(it_capture(v, sizeof(v), "psql -X -Atq -c \"SELECT attempts"
						  " FROM package_requests WHERE id = %lld AND status = '%s'\"",
			     id, st),
	    0);
	return v[0] ? atoi(v) : -1;
}

/* A server of its own (prefix) with a pending request for name (no hold
 * a failed test left behind): the request's id, the server in *server. */
static long long
pending_pkg(const char *prefix, const char *name, long long *server)
{
	json_t *r;
	long long id;

	*server = own_server(prefix, NULL);
	release("*");
	r = resolve_pkg(*server, name, NULL, "pending");
	id = it_jint(r, "id");
	json_decref(r);
	return id;
}

/* A set that serves on server: tgdep approved and installed, a tool of
 * it importing it (its id returned); its tree into before (128 bytes). */
static long long
serving_dep(long long server, char *before)
{
	long long tool;

	approved_pkg(server, "tgdep");
	tool = run_expect(server, "usedep", "import tgdep\n\ndef main() -> int:\n"
					    "    return tgdep.VALUE\n",
	    "{\"ok\":true,\"result\":42}");
	set_tree(server, before, 128);
	assert_int_equal(strlen(before), 64);
	return tool;
}

/* The validator refuses a tool of server importing module (its set does
 * not have it). */
static void
import_refused(long long server, const char *module)
{
	char path[96], body[160];
	json_t *r;

	snprintf(path, sizeof(path), "/api/v1/servers/%lld/tools", server);
	snprintf(body, sizeof(body), "{\"name\":\"early\",\"code\":\"import %s\\n"
				     "def main():\\n    return 1\\n\"}",
	    module);
	r = it_call("POST", path, admin, body, 422);
	it_json_has(r, module);
	json_decref(r);
}

/*
 * server keeps the set serving_dep gave it (tree before, tool dtool): the
 * same tree, the tool still runs, module is still refused; request rid
 * (installing, or failed) can be neither approved nor rejected (409).
 */
static void
kept_set(long long server, const char *before, long long dtool,
    const char *module, long long rid)
{
	char tree[128];
	json_t *r;

	set_tree(server, tree, sizeof(tree));
	assert_string_equal(tree, before);
	r = rerun(dtool);
	it_match(r, "{\"ok\":true,\"result\":42}");
	json_decref(r);
	import_refused(server, module);
	decide(rid, "approve", 409);
	decide(rid, "reject", 409);
}

static void
t_hash_changed_refused(void **state)
{
	json_t *r;
	long long rid, tool, dtool, s3;
	char before[128];

	(void)state;
	s3 = own_server("pkgchg", NULL);
	no_trees();
	dtool = serving_dep(s3, before);
	/* changed between review and approval */
	r = resolve_pkg(s3, "tgchange", NULL, "pending");
	rid = it_jint(r, "id");
	json_decref(r);
	assert_int_equal(it_sh("python3 tests/packages/make_index.py '%s'"
			       " tamper tgchange",
			     idx),
	    0);
	json_decref(it_call("POST", "/api/v1/package-requests/0/approve", admin, "{}", 404));
	/* accepted at once; the install refuses the changed wheel: failed,
	 * with the reason, and what was reviewed */
	r = approve_wait(rid, "failed");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"),
			     "status")),
	    422);
	assert_string_equal(it_jstr(json_object_get(r, "error"), "stage"), "install");
	it_json_has(json_object_get(r, "error"), "changed after review");
	assert_non_null(closure_entry(r, "tgchange"));
	assert_true(json_is_null(json_object_get(r, "installed_at")));
	json_decref(r);
	/* the old set keeps serving; failed is final */
	kept_set(s3, before, dtool, "tgchange", rid);
	/* visible over MCP too */
	{
		char sess[256], args[64];

		it_mcp_init(admin, IT_MCP_VERSION, sess, sizeof(sess));
		snprintf(args, sizeof(args), "{\"request\":%lld}", rid);
		r = it_mcp_call(admin, sess, IT_MCP_VERSION,
		    "toolgate_get_package_request", args, NULL);
		assert_false(json_is_true(json_object_get(r, "isError")));
		assert_non_null(strstr(it_first_text(r), "\"status\":\"failed\""));
		assert_non_null(strstr(it_first_text(r), "changed after review"));
		json_decref(r);
	}

	/* changed after approval: a host rebuilding the tree refuses it */
	assert_int_equal(it_sh("python3 tests/packages/make_index.py '%s'",
			     idx),
	    0);
	approved_pkg(s3, "tgchange");
	tool = run_expect(s3, "usechange", "import tgchange\n\ndef main() -> int:\n"
					   "    return tgchange.X\n",
	    "{\"ok\":true}");
	assert_int_equal(it_sh("python3 tests/packages/make_index.py '%s'"
			       " tamper tgchange",
			     idx),
	    0);
	/* another host (or maintenance) has no tree: it rebuilds from the
	 * recorded hashes */
	assert_int_equal(it_sh("psql -X -Atq -c \"SELECT tree FROM package_sets WHERE"
			       " server_id = %lld\" | while read t; do chmod -R u+w \"$TOOLGATE_PACKAGES_DIR/$t\""
			       " && rm -rf \"$TOOLGATE_PACKAGES_DIR/$t\"; done",
			     s3),
	    0);
	{
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tool);
		r = it_call("POST", path, admin, "{}", 503);
		it_json_has(r, "changed after review");
		json_decref(r);
	}
	assert_int_equal(it_sh("python3 tests/packages/make_index.py '%s'",
			     idx),
	    0);
	/* the recorded bytes are back: the next call rebuilds the tree */
	r = rerun(tool);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 1);
	json_decref(r);
}

static void
t_tree_not_writable(void **state)
{
	json_t *res;
	long long tool, s4;

	(void)state;
	s4 = own_server("pkgro", NULL);
	approved_pkg(s4, "tgdep");
	res = test_run(s4, "scribble",
	    "import tgdep\n\n"
	    "def main() -> list:\n"
	    "    out = []\n"
	    "    for how in ('a', 'w'):\n"
	    "        try:\n"
	    "            with open(tgdep.__file__, how) as f:\n"
	    "                f.write('VALUE = 666\\n')\n"
	    "            out.append('wrote')\n"
	    "        except OSError as e:\n"
	    "            out.append(type(e).__name__ + ':' + str(e.errno))\n"
	    "    try:\n"
	    "        open(tgdep.__file__.rsplit('/', 1)[0] + '/new.py', 'w').close()\n"
	    "        out.append('created')\n"
	    "    except OSError as e:\n"
	    "        out.append(type(e).__name__ + ':' + str(e.errno))\n"
	    "    out.append(tgdep.__file__)\n"
	    "    return out\n",
	    &tool);
	it_match(res, "{\"ok\":true}");
	/* it wrote nothing into the package tree */
	it_json_lacks(json_object_get(res, "result"), "wrote");
	it_json_lacks(json_object_get(res, "result"), "created");
	it_json_has(json_object_get(res, "result"), "/run/toolgate/packages/tgdep.py");
	json_decref(res);
	/* and the package is as installed */
	tool = run_expect(s4, "readback", "import tgdep\n\ndef main() -> int:\n"
					  "    return tgdep.VALUE\n",
	    "{\"result\":42}");
	/* a server with packages runs warm (the first calls may still find
	 * the zygote starting: then cold; a generous minute under load) */
	{
		double t0 = it_now();
		int warm = 0;

		while (!warm && it_now() - t0 < 60) {
			res = rerun(tool);
			assert_int_equal(json_integer_value(json_object_get(res,
					     "result")),
			    42);
			warm = strcmp(it_jstr(res, "sandbox"), "warm") == 0;
			json_decref(res);
			if (!warm)
				usleep(200000);
		}
		assert_true(warm);
	}
	/* on the host the tree is read-only too */
	assert_int_equal(it_sh("psql -X -Atq -c \"SELECT tree FROM package_sets WHERE"
			       " server_id = %lld\" | while read t; do test \"$(stat -c %%a"
			       " \"$TOOLGATE_PACKAGES_DIR/$t/tgdep.py\")\" = 444 &&"
			       " test \"$(stat -c %%a \"$TOOLGATE_PACKAGES_DIR/$t\")\" = 555 || exit 1;"
			       " done",
			     s4),
	    0);
}

static void
t_vulnerabilities_and_update_diff(void **state)
{
	json_t *r, *vul, *ids, *diff, *ch;
	long long rid, s5;

	(void)state;
	s5 = own_server("pkgvul", NULL);
	r = resolve_pkg(s5, "tgvuln", "\"version\":\"==1.0\"", "pending");
	rid = it_jint(r, "id");
	vul = json_object_get(json_object_get(r, "resolution"), "vulnerabilities");
	assert_string_equal(it_jstr(vul, "status"), "checked");
	ids = json_object_get(json_object_get(vul, "packages"), "tgvuln");
	assert_int_equal(json_array_size(ids), 1);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), "GHSA-tg-0001");
	/* shown in the pending lists too */
	json_decref(r);
	r = it_call("GET", "/api/v1/package-requests?status=pending", admin, NULL, 200);
	it_json_has(r, "GHSA-tg-0001");
	json_decref(r);
	r = it_call("GET", "/api/v1/approvals?cursor=3999999999999999&limit=200", admin, NULL, 200);
	it_json_has(r, "\"kind\":\"package_request\"");
	it_json_has(r, "GHSA-tg-0001");
	json_decref(r);
	approve_installed(rid);
	/* an update: a new request, with the diff against the approved one */
	r = resolve_pkg(s5, "tgvuln", NULL, "pending");
	assert_string_equal(it_jstr(json_object_get(r, "resolution"), "version"), "1.1");
	diff = json_object_get(json_object_get(r, "resolution"), "diff");
	ch = json_array_get(json_object_get(diff, "changed"), 0);
	assert_string_equal(it_jstr(ch, "name"), "tgvuln");
	assert_string_equal(it_jstr(ch, "from"), "1.0");
	assert_string_equal(it_jstr(ch, "to"), "1.1");
	approve_installed(it_jint(r, "id"));
	json_decref(r);
	/* the earlier approval is superseded */
	{
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/package-requests/%lld", rid);
		r = it_call("GET", path, admin, NULL, 200);
		assert_string_equal(it_jstr(r, "status"), "superseded");
		json_decref(r);
	}
}

static void
t_vulnerability_source_down_is_unknown(void **state)
{
	json_t *r, *vul;

	(void)state;
	r = resolve_pkg(sid, "tgosvdown", NULL, "pending");
	vul = json_object_get(json_object_get(r, "resolution"), "vulnerabilities");
	/* never a silent "none" */
	assert_string_equal(it_jstr(vul, "status"), "unknown");
	assert_null(json_object_get(vul, "packages"));
	it_json_has(vul, "500");
	json_decref(r);
}

static void
t_maintenance_removes_unused_trees(void **state)
{
	char out[1024], live[128];

	(void)state;
	/* an orphan tree, unused for two hours, and a fresh one */
	assert_int_equal(it_sh("mkdir -p \"$TOOLGATE_PACKAGES_DIR/%064d\" \"$TOOLGATE_PACKAGES_DIR/%063d1\""
			       " && touch -d '2 hours ago' \"$TOOLGATE_PACKAGES_DIR/%064d\"",
			     0, 0, 0),
	    0);
	/* a package set's tree, made old too */
	assert_int_equal(it_capture(live, sizeof(live), "psql -X -Atq -c \"SELECT tree FROM"
							" package_sets\" | while read t; do test -d"
							" \"$TOOLGATE_PACKAGES_DIR/$t\" && echo $t && break; done"),
	    0);
	assert_int_equal(strlen(live), 64);
	assert_int_equal(it_sh("touch -d '2 hours ago' \"$TOOLGATE_PACKAGES_DIR/%s\"", live), 0);
	assert_int_equal(it_capture(out, sizeof(out), "build/toolgate maintenance 2>&1"), 0);
	assert_non_null(strstr(out, "package trees: "));
	assert_int_not_equal(it_sh("test -e \"$TOOLGATE_PACKAGES_DIR/%064d\"", 0), 0);
	/* the fresh one stays (a call may be starting with it) */
	assert_int_equal(it_sh("test -d \"$TOOLGATE_PACKAGES_DIR/%063d1\"", 0), 0);
	/* the tree of a package set stays whatever its age */
	assert_int_equal(it_sh("test -d \"$TOOLGATE_PACKAGES_DIR/%s\"", live), 0);
}

/* Exports, renames the server named from to to, and imports it. */
static json_t *
reimport(const char *from, const char *to, const char *query, long want,
    void (*mutate)(json_t *server))
{
	json_t *doc, *servers, *one = NULL, *s, *out;
	char *body, path[96];
	size_t i;

	doc = it_call("GET", "/api/v1/export", admin, NULL, 200);
	servers = json_object_get(doc, "servers");
	json_array_foreach(servers, i, s) {
		if (strcmp(it_jstr(s, "name"), from) == 0)
			one = json_incref(s);
	}
	assert_non_null(one);
	json_object_set_new(one, "name", json_string(to));
	if (mutate)
		mutate(one);
	json_array_clear(servers);
	json_array_append_new(servers, one);
	json_object_del(doc, "settings");
	body = json_dumps(doc, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/import%s", query);
	out = it_call("POST", path, admin, body, want);
	free(body);
	json_decref(doc);
	return out;
}

static void
bad_sha(json_t *server)
{
	json_t *p = json_array_get(json_object_get(server, "packages"), 0);
	json_t *c = json_array_get(json_object_get(json_object_get(p, "resolution"),
				       "closure"),
	    0);

	json_object_set_new(c, "sha256", json_string("not-a-hash"));
}

static void
t_export_import_carries_packages(void **state)
{
	json_t *r;
	char from[40], to[40], to2[40], q[256], a[128], b[128], path[96];
	long long nid;

	(void)state;
	snprintf(from, sizeof(from), "pkgvul%ld", (long)getpid());
	snprintf(to, sizeof(to), "pkgimp%ld", (long)getpid());
	snprintf(to2, sizeof(to2), "pkgbad%ld", (long)getpid());
	/* a closure entry without a proper hash: 422 naming the field */
	r = reimport(from, to2, "", 422, bad_sha);
	it_json_has(r, "packages[0].resolution");
	json_decref(r);
	/* keep_status: the approved request stays approved; the set is the
	 * same content address as on the exporting server */
	r = reimport(from, to, "?keep_status=true", 201, NULL);
	json_decref(r);
	snprintf(q, sizeof(q), "psql -X -Atq -c \"SELECT p.tree FROM package_sets p JOIN"
			       " servers s ON s.id = p.server_id WHERE s.name = '%s'\"",
	    from);
	assert_int_equal(it_capture(a, sizeof(a), "%s", q), 0);
	snprintf(q, sizeof(q), "psql -X -Atq -c \"SELECT p.tree FROM package_sets p JOIN"
			       " servers s ON s.id = p.server_id WHERE s.name = '%s'\"",
	    to);
	assert_int_equal(it_capture(b, sizeof(b), "%s", q), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	/* the tree is rebuilt from the recorded hashes on first use */
	assert_int_equal(it_sh("t=$(printf '%%s' '%s' | tr -d '\\n'); chmod -R u+w"
			       " \"$TOOLGATE_PACKAGES_DIR/$t\" && rm -rf \"$TOOLGATE_PACKAGES_DIR/$t\"",
			     a),
	    0);
	snprintf(q, sizeof(q), "psql -X -Atq -c \"SELECT id FROM servers WHERE name = '%s'\"", to);
	assert_int_equal(it_capture(b, sizeof(b), "%s", q), 0);
	nid = atoll(b);
	(void)run_expect(nid, "usevuln", "import tgvuln\n\ndef main() -> str:\n"
					 "    return tgvuln.V\n",
	    "{\"ok\":true,\"result\":\"1.1\"}");
	snprintf(path, sizeof(path), "/api/v1/package-requests?status=approved");
	r = it_call("GET", path, admin, NULL, 200);
	it_json_has(r, to);
	json_decref(r);
}

static void
t_mcp_request(void **state)
{
	char sess[256], args[256];
	json_t *res;

	(void)state;
	it_mcp_init(admin, IT_MCP_VERSION, sess, sizeof(sess));
	snprintf(args, sizeof(args), "{\"package\":\"tgvuln\",\"version\":\"==1.1\","
				     "\"server\":\"%s\",\"reason\":\"parse things\"}",
	    srv);
	res = it_mcp_call(admin, sess, IT_MCP_VERSION, "toolgate_request_module", args,
	    NULL);
	assert_false(json_is_true(json_object_get(res, "isError")));
	/* answered at once: resolving; the review document follows */
	{
		json_t *doc = json_loads(it_first_text(res), 0, NULL), *r;

		assert_non_null(doc);
		assert_string_equal(it_jstr(doc, "status"), "resolving");
		r = wait_resolved(it_jint(doc, "id"));
		assert_string_equal(it_jstr(r, "status"), "pending");
		it_json_has(r, "GHSA-tg-0001");
		json_decref(r);
		/* and over MCP: toolgate_get_package_request */
		snprintf(args, sizeof(args), "{\"request\":%lld}", it_jint(doc, "id"));
		r = it_mcp_call(admin, sess, IT_MCP_VERSION,
		    "toolgate_get_package_request", args, NULL);
		assert_false(json_is_true(json_object_get(r, "isError")));
		{
			json_t *got = json_loads(it_first_text(r), 0, NULL);

			assert_non_null(got);
			assert_string_equal(it_jstr(got, "status"), "pending");
			it_json_has(got, "GHSA-tg-0001");
			json_decref(got);
		}
		json_decref(r);
		/* an unknown one: a clear error */
		r = it_mcp_call(admin, sess, IT_MCP_VERSION,
		    "toolgate_get_package_request", "{\"request\":999999999}", NULL);
		assert_true(json_is_true(json_object_get(r, "isError")));
		assert_non_null(strstr(it_first_text(r), "does not exist"));
		json_decref(r);
		json_decref(doc);
	}
	json_decref(res);
	/* package without server: a clear error */
	res = it_mcp_call(admin, sess, IT_MCP_VERSION, "toolgate_request_module",
	    "{\"package\":\"tgdep\"}", NULL);
	it_json_has(res, "server");
	json_decref(res);
}

static void
t_states_failure_and_retry(void **state)
{
	json_t *r;
	long long id, s6;
	char name[40], path[96];

	(void)state;
	s6 = own_server("pkgst", name);
	/* a refusal is a "failed" request with the reason, not a 4xx later */
	r = resolve_pkg(s6, "tgsdist", "\"reason\":\"states\"", "failed");
	id = it_jint(r, "id");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"),
			     "status")),
	    422);
	it_json_has(json_object_get(r, "error"), "source distributions");
	assert_true(json_is_null(json_object_get(r, "resolution")));
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 1);
	assert_non_null(json_string_value(json_object_get(r, "resolved_at")));
	json_decref(r);
	/* listed by state; a failed request cannot be approved */
	r = it_call("GET", "/api/v1/package-requests?status=failed", admin, NULL, 200);
	it_json_has(r, name);
	json_decref(r);
	json_decref(it_call("GET", "/api/v1/package-requests?status=bogus", admin, NULL,
	    400));
	snprintf(path, sizeof(path), "/api/v1/package-requests/%lld/approve", id);
	json_decref(it_call("POST", path, admin, "{}", 409));
	/* not in the approval queue while resolving or failed */
	r = it_call("GET", "/api/v1/approvals?limit=200", admin, NULL, 200);
	{
		char *t = json_dumps(r, JSON_COMPACT);

		assert_non_null(t);
		assert_null(strstr(t, "\"reason\":\"states\""));
		free(t);
	}
	json_decref(r);
	/* failed does not block a new request for the same name */
	r = request_pkg(s6, "tgsdist", NULL, 202);
	json_decref(r);
	/* ... but one in flight does */
	json_decref(request_pkg(s6, "tgsdist", NULL, 409));
}

/* Kills the package-job process while it resolves a request: the master
 * starts another, which takes the request over (the claim is a session
 * lock, gone with the process) and finishes it. */
static void
t_restart_mid_resolution(void **state)
{
	json_t *r;
	long long id, s7;
	char pid[32];
	int i;

	(void)state;
	s7 = own_server("pkgslow", NULL);
	assert_int_equal(it_sh("rm -f '%s/tgslow.fast'", idx), 0);
	r = request_pkg(s7, "tgslow", NULL, 202);
	id = it_jint(r, "id");
	json_decref(r);
	/* claimed: the index holds its page back (20 s) meanwhile */
	pid[0] = '\0';
	for (i = 0; i < 600 && pid[0] == '\0'; i++) {
		assert_int_equal(it_capture(pid, sizeof(pid), "psql -X -Atq -c \"SELECT"
							      " claimed_pid FROM package_requests WHERE id = %lld AND"
							      " attempts = 1\"",
				     id),
		    0);
		if (pid[0] == '\0')
			usleep(100000);
	}
	assert_true(pid[0] != '\0');
	assert_int_equal(it_sh("kill -9 %s", pid), 0);
	assert_int_equal(it_sh("touch '%s/tgslow.fast'", idx), 0);
	r = wait_resolved(id);
	assert_string_equal(it_jstr(r, "status"), "pending");
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 2);
	assert_string_equal(it_jstr(json_object_get(r, "resolution"), "version"), "1.0");
	json_decref(r);
}

static void
t_large_wheel_and_download_cap(void **state)
{
	json_t *r, *e;
	long long id, s8;

	(void)state;
	s8 = own_server("pkgbig", NULL);
	/* 12 MiB: over tool egress's 5 MiB reply cap, under the download cap */
	r = resolve_pkg(s8, "tgbig", NULL, "pending");
	id = it_jint(r, "id");
	e = closure_entry(r, "tgbig");
	assert_non_null(e);
	assert_true(json_integer_value(json_object_get(e, "size")) > 12 * 1024 * 1024);
	json_decref(r);
	approve_installed(id);
	(void)run_expect(s8, "usebig", "import tgbig\n\ndef main() -> int:\n"
				       "    return tgbig.SIZE\n",
	    "{\"ok\":true,\"result\":12582912}"); /* 12 << 20 */
	/* 24 MiB: over TOOLGATE_PIP_MAX_DOWNLOAD (20 MiB): refused, clearly */
	r = resolve_pkg(s8, "tghuge", NULL, "failed");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"),
			     "status")),
	    422);
	it_json_has(r, "download cap");
	it_json_has(r, "TOOLGATE_PIP_MAX_DOWNLOAD");
	json_decref(r);
}

/* The index is on loopback and the installer reaches it; a tool allowed
 * that very host still cannot (its egress refuses private addresses), and
 * cannot use the installer's download mode or store. */
static void
t_tool_egress_to_index_refused(void **state)
{
	json_t *r, *res;
	long long nid, tool, s9;
	char body[256], code[1024];

	(void)state;
	s9 = own_server("pkgeg", NULL);
	snprintf(body, sizeof(body), "{\"server_id\":%lld,\"host\":\"127.0.0.1:%s\"}",
	    s9, port);
	r = it_call("POST", "/api/v1/network-requests", admin, body, 201);
	nid = it_jint(r, "id");
	json_decref(r);
	it_callvf("POST", admin, NULL, 200, "/api/v1/network-requests/%lld/approve", nid);
	snprintf(code, sizeof(code),
	    "from toolgate import http\n\n"
	    "def main() -> list:\n"
	    "    out = []\n"
	    "    u = 'http://127.0.0.1:%s/simple/tgdep/'\n"
	    "    for f in (lambda: http.get(u), lambda: http._download(u, '/tmp/x'),\n"
	    "              lambda: http._roundtrip({'store': [['a.py', '', False]]})):\n"
	    "        try:\n"
	    "            r = f()\n"
	    "            out.append(r.get('error', 'stored') if isinstance(r, dict) else 'reached')\n"
	    "        except Exception as e:\n"
	    "            out.append(str(e))\n"
	    "    return out\n",
	    port);
	res = test_run(s9, "egress", code, &tool);
	it_match(res, "{\"ok\":true}");
	/* it did not reach the loopback index */
	it_json_lacks(json_object_get(res, "result"), "reached");
	it_json_lacks(json_object_get(res, "result"), "stored");
	it_json_has(json_object_get(res, "result"), "127.0.0.1 is private, loopback");
	it_json_has(json_object_get(res, "result"), "package installer");
	json_decref(res);
}

static void
t_extras(void **state)
{
	json_t *r, *v;
	long long id, s10, s11;

	(void)state;
	s10 = own_server("pkgx", NULL);
	s11 = own_server("pkgy", NULL);
	/* bad extras: clear 422s at once */
	json_decref(request_pkg(s10, "tgextra[]", NULL, 422));
	json_decref(request_pkg(s10, "tgextra[fa st]", NULL, 422));
	json_decref(request_pkg(s10, "tgextra[fast", NULL, 422));
	/* without the extra: no tgdep */
	r = resolve_pkg(s11, "tgextra", NULL, "pending");
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "resolution"),
			     "closure")),
	    1);
	json_decref(r);
	/* an extra the package does not declare */
	r = resolve_pkg(s10, "tgextra[nope]", NULL, "failed");
	it_json_has(r, "no extra 'nope'");
	it_json_has(r, "fast, plain");
	json_decref(r);
	/* [Fast]: normalised, its dependency followed, shown in the review */
	r = resolve_pkg(s10, "tgextra[Fast,fast]", NULL, "pending");
	id = it_jint(r, "id");
	assert_string_equal(it_jstr(r, "name"), "tgextra");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "extras"),
				0)),
	    "fast");
	assert_int_equal(json_array_size(json_object_get(r, "extras")), 1);
	v = json_object_get(r, "resolution");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "extras"),
				0)),
	    "fast");
	assert_non_null(closure_entry(r, "tgdep"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(
								 closure_entry(r, "tgextra"), "extras"),
				0)),
	    "fast");
	json_decref(r);
	approve_installed(id);
}

/*
 * Approval answers at once (202, "installing") while the index holds the
 * download back: the install runs in the package-job process, and the
 * control plane answers meanwhile. Until the install is done the server
 * keeps its previous set (tgdep: its tools run, the new import is
 * refused); then the request is approved and both packages import.
 */
static void
t_approval_does_not_wait_for_the_install(void **state)
{
	json_t *r;
	long long rid, s12, dtool;
	char path[96], before[128], tree[128];

	(void)state;
	rid = pending_pkg("pkgwait", "tgwait", &s12);
	no_trees();
	dtool = serving_dep(s12, before);
	hold("tgwait");
	r = approve_async(rid);
	assert_true(json_is_null(json_object_get(r, "installed_at")));
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 0);
	json_decref(r);
	/* the package-job process is downloading, held back by the index */
	wait_held("tgwait");
	assert_int_equal(attempts_in(rid, "installing"), 1);
	/* and the control plane answers: health, REST */
	assert_int_equal(it_status("GET", "/health", NULL, NULL), 200);
	snprintf(path, sizeof(path), "/api/v1/package-requests/%lld", rid);
	r = it_call("GET", path, admin, NULL, 200);
	assert_string_equal(it_jstr(r, "status"), "installing");
	assert_non_null(closure_entry(r, "tgwait"));
	json_decref(r);
	r = it_call("GET", "/api/v1/package-requests?status=installing", admin, NULL, 200);
	it_json_has(r, "\"tgwait\"");
	json_decref(r);
	/* the server keeps its previous set meanwhile; decided already: no
	 * second approval, no rejection, no new request */
	kept_set(s12, before, dtool, "tgwait", rid);
	json_decref(request_pkg(s12, "tgwait", NULL, 409));
	/* not in the approval queue either */
	r = it_call("GET", "/api/v1/approvals?limit=200", admin, NULL, 200);
	it_json_lacks(r, "\"tgwait\"");
	json_decref(r);

	release("tgwait");
	r = wait_while(rid, "installing");
	assert_string_equal(it_jstr(r, "status"), "approved");
	assert_non_null(json_string_value(json_object_get(r, "installed_at")));
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 1);
	json_decref(r);
	(void)run_expect(s12, "usewait", "import tgwait\nimport tgdep\n\n"
					 "def main() -> str:\n"
					 "    return tgwait.W + str(tgdep.VALUE)\n",
	    "{\"ok\":true,\"result\":\"waited42\"}");
	set_tree(s12, tree, sizeof(tree));
	assert_int_equal(strlen(tree), 64);
	assert_string_not_equal(tree, before);
}

/* Kills the package-job process while it installs (the index holds the
 * download back): the master starts another, which takes the install over
 * (the claim is a session lock, gone with the process) and finishes it;
 * what the killed one had written is never served (a tree is renamed into
 * place only when whole, read-only). */
static void
t_restart_mid_install(void **state)
{
	json_t *r;
	long long rid, s13;
	char pid[32], tree[128];

	(void)state;
	rid = pending_pkg("pkgcrash", "tgcrash", &s13);
	no_trees();
	hold("tgcrash");
	json_decref(approve_async(rid));
	wait_held("tgcrash");
	assert_int_equal(it_capture(pid, sizeof(pid), "psql -X -Atq -c \"SELECT"
						      " claimed_pid FROM package_requests WHERE id = %lld AND"
						      " status = 'installing' AND attempts = 1\"",
			     rid),
	    0);
	assert_true(pid[0] != '\0');
	assert_int_equal(it_sh("kill -9 %s", pid), 0);
	release("tgcrash");
	r = wait_while(rid, "installing");
	assert_string_equal(it_jstr(r, "status"), "approved");
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 2);
	json_decref(r);
	(void)run_expect(s13, "usecrash", "import tgcrash\n\ndef main() -> str:\n"
					  "    return tgcrash.C\n",
	    "{\"ok\":true,\"result\":\"taken over\"}");
	set_tree(s13, tree, sizeof(tree));
	tree_read_only(tree, "tgcrash.py");
}

/* The number of database sessions of package-job processes. */
static int
runners(void)
{
	char v[32];

	assert_int_equal(it_capture(v, sizeof(v), "psql -X -Atq -c \"SELECT count(*)"
						  " FROM pg_stat_activity WHERE application_name ="
						  " 'toolgate-packages'\""),
	    0);
	return atoi(v);
}

/*
 * Without the master (the Apache CGI recipe) no package-job process runs:
 * the master's is stopped here and its session ended. An approval made in
 * CGI mode answers at once (202) and says the install waits for a job
 * runner; `toolgate packages run-jobs --once` (cron) then installs it.
 */
static void
t_run_jobs_without_master(void **state)
{
	char out[8192], pid[32], want[128];
	const char *asuser = geteuid() == 0 ?
	    "setpriv --reuid=\"$(id -u \"$TOOLGATE_USER\")\" --regid=\"$(id -g"
	    " \"$TOOLGATE_USER\")\" --clear-groups " :
	    "";
	long long rid, s14;
	int i;

	(void)state;
	rid = pending_pkg("pkgcli", "tgcli", &s14);
	no_trees();
	/* the master's package-job process (`tg-packages` in ps) stops and
	 * its database session ends: no runner, as under Apache */
	assert_int_equal(it_capture(pid, sizeof(pid), "pgrep -P \"$(cat"
						      " \"$TOOLGATE_PIDFILE\")\" -x tg-packages"),
	    0);
	frozen = (pid_t)atoi(pid);
	assert_true(frozen > 0);
	assert_int_equal(kill(frozen, SIGSTOP), 0);
	assert_int_equal(it_sh("psql -X -Atq -c \"SELECT pg_terminate_backend(pid) FROM"
			       " pg_stat_activity WHERE application_name = 'toolgate-packages'\""
			       " >/dev/null"),
	    0);
	for (i = 0; i < 600 && runners() > 0; i++)
		usleep(100000);
	assert_int_equal(runners(), 0);
	/* the approval, made in CGI mode: at once, and it says why nothing
	 * happens yet */
	assert_int_equal(it_capture(out, sizeof(out), "printf '{}' | env"
						      " GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST"
						      " REQUEST_URI=/api/v1/package-requests/%lld/approve"
						      " SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1"
						      " CONTENT_TYPE=application/json CONTENT_LENGTH=2"
						      " HTTP_AUTHORIZATION='Bearer %s' timeout 60 build/toolgate"
						      " 2>/dev/null",
			     rid, admin),
	    0);
	if (strstr(out, "Status: 202") == NULL)
		fail_msg("CGI approval: %s", out);
	assert_non_null(strstr(out, "\"status\":\"installing\""));
	assert_non_null(strstr(out, "\"connected\":false"));
	assert_non_null(strstr(out, "toolgate packages run-jobs"));
	/* nobody runs the job meanwhile */
	assert_int_equal(attempts_in(rid, "installing"), 0);
	if (geteuid() == 0) {
		/* the helper refuses root: so does the runner, clearly */
		assert_int_not_equal(it_capture(out, sizeof(out), "build/toolgate"
								  " packages run-jobs --once 2>&1"),
		    0);
		assert_non_null(strstr(out, "not as root"));
	}
	assert_int_equal(it_status("GET", "/health", NULL, NULL), 200);
	/* the runner, as cron would start it (as the workers' user) */
	assert_int_equal(it_capture(out, sizeof(out), "%sbuild/toolgate packages"
						      " run-jobs --once 2>&1",
			     asuser),
	    0);
	snprintf(want, sizeof(want), "package request %lld (tgcli): approved", rid);
	if (strstr(out, want) == NULL)
		fail_msg("run-jobs: %s", out);
	assert_non_null(strstr(out, "package job"));
	assert_int_equal(attempts_in(rid, "approved"), 1);
	(void)run_expect(s14, "usecli", "import tgcli\n\ndef main() -> str:\n"
					"    return tgcli.R\n",
	    "{\"ok\":true,\"result\":\"run-jobs\"}");
	/* bad usage: a clear message, status 2 */
	assert_int_equal(it_capture(out, sizeof(out), "build/toolgate packages"
						      " run-jobs --twice 2>&1; echo \" rc=$?\""),
	    0);
	assert_non_null(strstr(out, "usage: toolgate packages run-jobs [--once]"));
	assert_non_null(strstr(out, "rc=2"));
	/* the master's process goes on (a new session) */
	thaw();
	for (i = 0; i < 600 && runners() == 0; i++)
		usleep(100000);
	assert_true(runners() > 0);
}

/* A set's tree that this host lacks (another host installed it, or it was
 * removed here) is built again by the package-job process, before any call
 * needs it: no tool call is made here until it is back. */
static void
t_tree_built_ahead(void **state)
{
	char tree[128];
	long long s15;
	double t0;
	int back = 0;

	(void)state;
	s15 = own_server("pkgahead", NULL);
	approved_pkg(s15, "tgdep");
	set_tree(s15, tree, sizeof(tree));
	assert_int_equal(strlen(tree), 64);
	assert_int_equal(it_sh("chmod -R u+w \"$TOOLGATE_PACKAGES_DIR/%s\" && rm -rf"
			       " \"$TOOLGATE_PACKAGES_DIR/%s\"",
			     tree, tree),
	    0);
	/* the process looks every 5 s when idle; a generous minute */
	for (t0 = it_now(); !back && it_now() - t0 < 60;) {
		back = it_sh("test -d \"$TOOLGATE_PACKAGES_DIR/%s\"", tree) == 0;
		if (!back)
			usleep(200000);
	}
	assert_true(back);
	tree_read_only(tree, "tgdep.py");
	(void)run_expect(s15, "useahead", "import tgdep\n\ndef main() -> int:\n"
					  "    return tgdep.VALUE\n",
	    "{\"ok\":true,\"result\":42}");
}

TG_TEST_MAIN("packages", setup, teardown, t_request_review_approve_use_revoke,
    t_import_name_differs, t_sdist_only_refused, t_hash_changed_refused,
    t_tree_not_writable, t_vulnerabilities_and_update_diff,
    t_vulnerability_source_down_is_unknown, t_maintenance_removes_unused_trees,
    t_export_import_carries_packages, t_mcp_request,
    t_states_failure_and_retry, t_restart_mid_resolution,
    t_large_wheel_and_download_cap, t_tool_egress_to_index_refused, t_extras,
    t_approval_does_not_wait_for_the_install, t_restart_mid_install,
    t_run_jobs_without_master, t_tree_built_ahead)
