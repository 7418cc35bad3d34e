/*
 * test_security.c - regression tests of security issue #14 (findings 1,
 * 5, 7, 8, 9) and the module-error hint of #16, against the real stack:
 *
 *   t_test_run_placeholders    REST test runs of unapproved code get
 *                              placeholders; real values only for the
 *                              approved code or an admin's explicit ask
 *   t_test_tool_mcp            the same through toolgate_test_tool
 *   t_served_drift             a served tool runs its approved version's
 *                              code, whatever the current code is
 *   t_source_credential_url    a developer cannot point an admin-set source
 *                              credential at another URL
 *   t_batch_rate               a 2025-03-26 batch costs one unit per message
 *                              and is bounded
 *   t_apikey_rate_limited      an API key is counted by the rate limiter
 *   t_login_no_lockout         failures from other addresses neither lock
 *                              the account nor tell unknown users apart
 *   t_reject_aggregated        a flood of bad credentials writes a few audit
 *                              rows, not one each
 *   t_import_guard             __builtins__['__import__']('o'+'s') is
 *                              refused; module errors name the fix
 *
 * Other client addresses come from binding the client socket to
 * 127.a.b.x (CURLOPT_INTERFACE): nginx sees them as REMOTE_ADDR.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <pthread.h>

#define PW "security-Passw0rd!"
#define SECRET "tg-sec14-s3cr3t-value"
#define CT "Content-Type: application/json"

static char admin_tok[4096], dev_tok[4096], view_tok[4096];
static char dev_name[64], view_name[64], sfx[32];
/* Client addresses of this run (127.a.b.1..6, fresh per run, so that
 * reruns on the same stack start from empty per-address counters). */
static char addr[8][24];

/* ------------------------------------------------------------ helpers */

/* POST body to path from source address src; returns the HTTP status,
 * *ms the duration, *detail (optional, malloc'd) the problem detail. */
static long
post_from(const char *src, const char *path, const char *token,
    const char *body, long *ms, char **detail)
{
	CURL *c;
	struct curl_slist *hl = NULL;
	struct it_sink b = {0};
	char iface[64];
	double t0;
	long st = 0;
	json_t *j;

	snprintf(iface, sizeof(iface), "host!%s", src);
	hl = curl_slist_append(hl, CT);
	if (token)
		hl = curl_slist_append(hl, it_bearer(token));
	c = it_curl(path, hl, body, it_sink_write, &b);
	curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	t0 = it_now();
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	if (ms)
		*ms = (long)((it_now() - t0) * 1000);
	if (detail) {
		j = b.p ? json_loads(b.p, 0, NULL) : NULL;
		*detail = strdup(j && json_is_string(json_object_get(j, "detail")) ?
		    json_string_value(json_object_get(j, "detail")) : "");
		json_decref(j);
	}
	free(b.p);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return st;
}

/* A server with the secret KEY = SECRET (set by the admin). */
static void
mk_server(const char *name)
{
	char path[160];

	it_server_create(dev_tok, name, NULL);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", name);
	it_callv("POST", path, admin_tok, "{\"key\":\"KEY\",\"value\":\"" SECRET "\"}", 201);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(sfx, sizeof(sfx), "%ld%d", (long)time(NULL) % 100000, (int)getpid() % 1000);
	for (int i = 1; i < 8; i++)
		snprintf(addr[i], sizeof(addr[i]), "127.%d.%d.%d",
		    1 + (int)(getpid() % 250), 1 + (int)(time(NULL) % 250), i);
	if (it_login_admin(admin_tok, sizeof(admin_tok)) != 0)
		return -1;
	snprintf(dev_name, sizeof(dev_name), "sec_dev_%s", sfx);
	snprintf(view_name, sizeof(view_name), "sec_view_%s", sfx);
	it_user_token(admin_tok, dev_name, PW, "developer", dev_tok, sizeof(dev_tok));
	it_user_token(admin_tok, view_name, PW, "viewer", view_tok, sizeof(view_tok));
	return 0;
}

/* ------------------------------------------ #14.1 secrets and test runs */

#define DUMP_CODE "def main():\n    return dict(SECRETS)\n"



static void
t_test_run_placeholders(void **state)
{
	char srv[64], path[160], mark[32];
	json_t *j, *res;
	long long tid;

	(void)state;
	snprintf(srv, sizeof(srv), "sec_srv_%s", sfx);
	mk_server(srv);
	tid = it_tool_create(dev_tok, srv, "dump", DUMP_CODE, "security test");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tid);

	/* A developer's draft: placeholders, never the value. */
	j = it_call("POST", path, dev_tok, "{}", 200);
	it_json_lacks(j, SECRET);
	res = json_object_get(j, "result");
	assert_string_equal(json_string_value(json_object_get(res, "KEY")), "[placeholder:KEY]");
	assert_string_equal(json_string_value(json_object_get(j, "secret_values")), "placeholder");
	json_decref(j);
	/* Only an admin may ask for the real values ... */
	it_callv("POST", path, dev_tok, "{\"real_secrets\":true}", 403);
	it_callv("POST", path, dev_tok, "{\"real_secrets\":\"yes\"}", 422);
	/* ... an admin who does not ask gets placeholders too ... */
	j = it_call("POST", path, admin_tok, "{}", 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "result"),
	    "KEY")), "[placeholder:KEY]");
	json_decref(j);
	/* ... and one who asks gets them (audited), scrubbed from the log. */
	assert_int_equal(it_capture(mark, sizeof(mark), "psql -qAtX -c \"SELECT"
	    " coalesce(max(id), 0) FROM audit_log\""), 0);
	j = it_call("POST", path, admin_tok, "{\"real_secrets\":true}", 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "result"),
	    "KEY")), SECRET);
	assert_string_equal(json_string_value(json_object_get(j, "secret_values")), "real");
	json_decref(j);
	it_sql_expect("1", "SELECT count(*) FROM audit_log WHERE"
	    " action = 'tool.test' AND detail->>'secret_values' = 'real'"
	    " AND detail->>'real_secrets_requested' = 'true' AND target = 'dump'"
	    " AND id > %s", mark);
	it_sql_expect("0", "SELECT count(*) FROM execution_logs"
	    " WHERE tool_id = %lld AND concat(result, stdout, stderr, error) LIKE"
	    " '%%" SECRET "%%'", tid);

	/* Approved code: the real values, like tools/call. */
	it_callvf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/submit", tid);
	it_approve_current(admin_tok, tid);
	j = it_callf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/test", tid);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "result"),
	    "KEY")), SECRET);
	json_decref(j);
	/* An edit (pending review again), or a rollback to it: placeholders. */
	it_callvf("PATCH", dev_tok, "{\"code\":\"def main():\\n    return {'k': SECRETS['KEY'][::-1]}\\n\"}", 200, "/api/v1/tools/%lld", tid);
	j = it_callf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/test", tid);
	it_json_lacks(j, "eulav-t3rc3s");	/* reversed SECRET */
	it_json_has(j, "]YEK:redlohecalp[");
	json_decref(j);
	/* A rollback to an unapproved version: placeholders as well. */
	it_callvf("PATCH", dev_tok, "{\"code\":\"def main():\\n    return dict(SECRETS)\\n\\n\"}", 200, "/api/v1/tools/%lld", tid);
	it_callvf("POST", dev_tok, "{\"version\":2}", 200, "/api/v1/tools/%lld/rollback", tid);
	j = it_callf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/test", tid);
	it_json_lacks(j, "eulav-t3rc3s");
	it_json_has(j, "]YEK:redlohecalp[");
	json_decref(j);
}

static void
t_test_tool_mcp(void **state)
{
	char srv[64], sid[128], args[128], *raw;
	long long tid;

	(void)state;
	snprintf(srv, sizeof(srv), "sec_mcp_%s", sfx);
	mk_server(srv);
	tid = it_tool_create(dev_tok, srv, "dump", DUMP_CODE, "security test");
	it_mcp_init(dev_tok, "2025-11-25", sid, sizeof(sid));
	snprintf(args, sizeof(args), "{\"tool\":%lld}", tid);
	json_decref(it_mcp_call(dev_tok, sid, IT_MCP_VERSION, "toolgate_test_tool", args, &raw));
	assert_null(strstr(raw, SECRET));
	assert_non_null(strstr(raw, "[placeholder:KEY]"));
	free(raw);
	snprintf(args, sizeof(args), "{\"tool\":%lld,\"real_secrets\":true}", tid);
	json_decref(it_mcp_call(dev_tok, sid, IT_MCP_VERSION, "toolgate_test_tool", args, &raw));
	assert_null(strstr(raw, SECRET));
	assert_non_null(strstr(raw, "only an admin"));
	free(raw);
	/* The description states the rule. */
	{
		struct it_resp r;

		it_mcp_post(dev_tok, sid, "2025-11-25",
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}", &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "never receives a real secret value"));
		it_resp_free(&r);
	}
	it_mcp_init(admin_tok, "2025-11-25", sid, sizeof(sid));
	json_decref(it_mcp_call(admin_tok, sid, IT_MCP_VERSION, "toolgate_test_tool", args, &raw));
	assert_non_null(strstr(raw, SECRET));
	free(raw);
}

/* An approved, served tool whose current code is not the approved
 * version's (drift made with SQL, whatever path could cause it): tools/call
 * runs it with placeholders. */
static void
t_served_drift(void **state)
{
	char srv[64], path[160], sid[128], name[128], *raw;
	long long tid;

	(void)state;
	snprintf(srv, sizeof(srv), "sec_drift_%s", sfx);
	mk_server(srv);
	tid = it_tool_create(dev_tok, srv, "dump", DUMP_CODE, "security test");
	it_callvf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/submit", tid);
	it_approve_current(admin_tok, tid);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/start", srv);
	it_callv("POST", path, dev_tok, "{}", 200);
	snprintf(name, sizeof(name), "%s__dump", srv);
	it_mcp_init(view_tok, "2025-11-25", sid, sizeof(sid));
	json_decref(it_mcp_call(view_tok, sid, IT_MCP_VERSION, name, "{}", &raw));
	assert_non_null(strstr(raw, SECRET));	/* the approved code: real */
	free(raw);
	assert_int_equal(it_sh("psql -qX -v ON_ERROR_STOP=1 -c \"UPDATE tools SET code ="
	    " E'def main():\\n    return dict(drift=dict(SECRETS))\\n' WHERE id = %lld\""
	    " >/dev/null", tid), 0);
	/* what is served is the approved version's row of tool_versions, so
	 * a change of the current code by any path (here: psql) reaches
	 * neither the sandbox nor the secrets: the approved code still runs */
	json_decref(it_mcp_call(view_tok, sid, IT_MCP_VERSION, name, "{}", &raw));
	assert_null(strstr(raw, "drift"));
	assert_non_null(strstr(raw, SECRET));
	free(raw);
}

/* A developer cannot redirect an admin-set source credential to a URL of
 * their choosing (found reviewing the secret flows of #14). */
static void
t_source_credential_url(void **state)
{
	char srv[64], path[160], body[256];
	long long id;
	json_t *j;

	(void)state;
	snprintf(srv, sizeof(srv), "sec_src_%s", sfx);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", srv);
	it_callv("POST", "/api/v1/servers", dev_tok, body, 201);
	j = it_callf("POST", admin_tok, "{\"name\":\"up\",\"url\":"
	    "\"https://mcp.example.com/mcp\",\"auth_type\":\"bearer\","
	    "\"credential\":\"tok-sec14\"}", 201, "/api/v1/servers/%s/sources", srv);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/sources/%lld", id);
	j = it_call("PATCH", path, dev_tok, "{\"url\":\"https://attacker.example.net/mcp\"}", 403);
	assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "credential"));
	json_decref(j);
	/* the same URL, other fields, or dropping the credential: fine */
	it_callv("PATCH", path, dev_tok, "{\"url\":\"https://mcp.example.com/mcp\","
	    "\"description\":\"d\"}", 200);
	j = it_call("PATCH", path, dev_tok, "{\"url\":\"https://attacker.example.net/mcp\","
	    "\"auth_type\":\"none\"}", 200);
	assert_true(json_is_false(json_object_get(j, "has_credential")));
	json_decref(j);
	/* an admin may move a credentialed source */
	it_callv("PATCH", path, admin_tok, "{\"url\":\"https://mcp2.example.com/mcp\","
	    "\"auth_type\":\"bearer\",\"credential\":\"tok-2\"}", 200);
	it_callv("PATCH", path, admin_tok, "{\"url\":\"https://mcp3.example.com/mcp\"}", 200);
}

/* ------------------------------------------------- #14.5 batches */

static void
t_batch_rate(void **state)
{
	enum { LIMIT = 6 };
	char sid[128], saved[512], name[64], tok[4096], *big;
	struct it_resp r;
	size_t i, off;

	(void)state;
	it_mcp_init(view_tok, "2025-03-26", sid, sizeof(sid));
	/* Bounded: 65 messages are refused before anything runs. */
	big = malloc(65 * 64 + 16);
	assert_non_null(big);
	off = 0;
	big[off++] = '[';
	for (i = 0; i < 65; i++)
		off += (size_t)sprintf(big + off, "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"ping\"}",
		    i ? "," : "", i + 1);
	big[off++] = ']';
	big[off] = '\0';
	it_mcp_post(view_tok, sid, "2025-03-26", big, &r);
	free(big);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "at most 64"));
	it_resp_free(&r);

	it_rate_limit_set("viewer", LIMIT, saved, sizeof(saved));
	/* A viewer that made no request before the limit changed: no worker
	 * holds a lease of its requests (fcgi/access.c) taken under the old
	 * limit, whatever the order in which the workers hear of the change.
	 * Its session costs two units (initialize, initialized). */
	snprintf(name, sizeof(name), "sec_batch_%s", sfx);
	it_user_token(admin_tok, name, PW, "viewer", tok, sizeof(tok));
	it_mcp_init(tok, "2025-03-26", sid, sizeof(sid));
	/* Eight messages cost eight units: more than the limit, in any window. */
	it_mcp_post(tok, sid, "2025-03-26",
	    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}]", &r);
	it_rate_limit_restore(saved);
	if (r.status != 429)
		fail_msg("batch of 8 with a limit of %d: HTTP %ld %s", LIMIT, r.status, r.body);
	assert_non_null(it_header(&r, "Retry-After"));
	assert_string_equal(it_header(&r, "RateLimit-Remaining"), "0");
	it_resp_free(&r);
}

/* An API key is counted like every principal (its own bucket): a fresh
 * viewer's key, a limit of 3, seven requests meet a 429 in any split
 * across two windows. (Access tokens: t_batch_rate; OAuth tokens:
 * test_oauth.c; anonymous callers: test_reliability.c.) */
static void
t_apikey_rate_limited(void **state)
{
	char name[64], tok[4096], key[256], saved[512];
	struct it_resp r;
	int i, limited = 0;

	(void)state;
	snprintf(name, sizeof(name), "sec_keyrl_%s", sfx);
	it_user_token(admin_tok, name, PW, "viewer", tok, sizeof(tok));
	assert_int_equal(it_json("POST", "/api/v1/api-keys", tok, "{\"name\":\"rl\"}", &r), 0);
	assert_int_equal(r.status, 201);
	snprintf(key, sizeof(key), "%s", it_jstr(r.json, "key"));
	it_resp_free(&r);
	it_rate_limit_set("viewer", 3, saved, sizeof(saved));
	for (i = 0; i < 7; i++) {
		assert_int_equal(it_get("GET", "/api/v1/auth/me", key, &r), 0);
		if (r.status == 429)
			limited++;
		else if (r.status != 200)
			fail_msg("GET /auth/me with an API key: %ld", r.status);
		it_resp_free(&r);
	}
	it_rate_limit_restore(saved);
	assert_true(limited >= 1);
}

/* --------------------------------------------- #14.7 login throttling */

/* Two throttling details, for a known and an unknown name, say the same:
 * equal text, but for the "retry in N s" count, which may have ticked a
 * second between the two requests. */
static void
same_answer(const char *a, const char *b)
{
	const char *pa = strstr(a, "retry in "), *pb = strstr(b, "retry in ");
	long na, nb;

	if (pa == NULL || pb == NULL || pa - a != pb - b || strncmp(a, b, (size_t)(pa - a)) != 0)
		fail_msg("'%s' and '%s' differ", a, b);
	na = strtol(pa + 9, (char **)&pa, 10);
	nb = strtol(pb + 9, (char **)&pb, 10);
	if (na - nb > 1 || nb - na > 1 || strcmp(pa, pb) != 0)
		fail_msg("'%s' and '%s' differ", a, b);
}

struct attempt {
	const char *body;
	long status;
	char *detail;
};

static void *
attempt_run(void *arg)
{
	struct attempt *at = arg;

	at->status = post_from(addr[4], "/api/v1/auth/login", NULL, at->body, NULL,
	    &at->detail);
	return NULL;
}

/*
 * Nine concurrent attempts on a paced account (from a fresh address,
 * below its own limits): the ones beyond one a second are refused at
 * once, 429 "one attempt a second" (an attempt that waited a second in a
 * worker, as before, would never be refused). Concurrent, so that the
 * attempts meet in a second whatever one password check costs under load.
 * *detail: the first refusal's detail.
 */
static void
paced_burst(const char *body, char **detail)
{
	enum { N = 9 };
	struct attempt at[N];
	pthread_t th[N];
	double t0 = it_now();
	int i, allowed = 0, paced = 0;

	*detail = NULL;
	for (i = 0; i < N; i++) {
		at[i].body = body;
		at[i].status = 0;
		at[i].detail = NULL;
		assert_int_equal(pthread_create(&th[i], NULL, attempt_run, &at[i]), 0);
	}
	for (i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < N; i++) {
		if (at[i].status == 429 && at[i].detail != NULL &&
		    strstr(at[i].detail, "one attempt a second") != NULL) {
			paced++;
			if (*detail == NULL) {
				*detail = at[i].detail;
				at[i].detail = NULL;
			}
		} else if (at[i].status == 401) {
			allowed++;
		} else {
			fail_msg("attempt on a paced account: %ld %s", at[i].status,
			    at[i].detail ? at[i].detail : "");
		}
		free(at[i].detail);
	}
	if (paced < 1)
		fail_msg("no attempt paced (%d allowed in %.1f s)", allowed, it_now() - t0);
	/* at most one per second window the burst touched */
	assert_true(allowed <= (int)(it_now() - t0) + 2);
}

/* An attempt on a paced account, retried while it is paced (a few
 * seconds): the final status. */
static long
login_paced_retry(const char *src, const char *body)
{
	char *d = NULL;
	long st;

	for (int i = 0; i < 30; i++) {
		st = post_from(src, "/api/v1/auth/login", NULL, body, NULL, &d);
		if (st != 429 || strstr(d, "one attempt a second") == NULL) {
			free(d);
			return st;
		}
		free(d);
		d = NULL;
		usleep(1000 * 1000);	/* the Retry-After of a paced answer */
	}
	return 429;
}

static void
t_login_no_lockout(void **state)
{
	char name[64], body[256], ghost[256], tok[4096], *d1 = NULL, *d2 = NULL;
	int i, a;

	(void)state;
	snprintf(name, sizeof(name), "sec_lock_%s", sfx);
	assert_true(it_user_create(admin_tok, name, PW, "developer") > 0);
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-password-1\"}", name);
	snprintf(ghost, sizeof(ghost), "{\"username\":\"ghost_%s\",\"password\":\"wrong-password-1\"}", sfx);
	/* 10 failures from one other address: that address is throttled for
	 * this account (and an unknown name answers exactly the same) ... */
	for (i = 0; i < 10; i++) {
		assert_int_equal(post_from(addr[1], "/api/v1/auth/login", NULL, body, NULL, NULL), 401);
		assert_int_equal(post_from(addr[1], "/api/v1/auth/login", NULL, ghost, NULL, NULL), 401);
	}
	assert_int_equal(post_from(addr[1], "/api/v1/auth/login", NULL, body, NULL, &d1), 429);
	assert_int_equal(post_from(addr[1], "/api/v1/auth/login", NULL, ghost, NULL, &d2), 429);
	same_answer(d1, d2);
	free(d1);
	free(d2);
	/* ... the real user elsewhere is not. */
	assert_int_equal(it_login(name, PW, tok, sizeof(tok)), 0);
	/* 30 failures from three addresses: the account is paced (one
	 * attempt a second from anywhere), never locked, and no worker waits
	 * for it: attempts beyond the pace are answered 429 at once. */
	for (a = 2; a < 4; a++)
		for (i = 0; i < 10; i++)
			assert_int_equal(post_from(addr[a], "/api/v1/auth/login", NULL, body,
			    NULL, NULL), 401);
	paced_burst(body, &d1);
	/* The real user signs in, at worst after the pace's second. */
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
	assert_int_equal(login_paced_retry("127.0.0.1", body), 200);
	/* The same for an unknown name: paced, 401, no lockout signal, the
	 * same words. */
	for (a = 2; a < 4; a++)
		for (i = 0; i < 10; i++)
			assert_int_equal(post_from(addr[a], "/api/v1/auth/login", NULL, ghost,
			    NULL, NULL), 401);
	paced_burst(ghost, &d2);
	same_answer(d1, d2);
	free(d1);
	free(d2);
	assert_int_equal(login_paced_retry(addr[5], ghost), 401);
}

/* --------------------------------- #14.8 aggregated credential rejections */

static void
t_reject_aggregated(void **state)
{
	char out[64];
	int i;

	(void)state;
	for (i = 0; i < 25; i++)
		assert_int_equal(post_from(addr[6], "/api/v1/auth/revoke-all",
		    "not-a-token", "{}", NULL, NULL), 401);
	/* 1st and 10th of the minute (twice that if a minute boundary fell in
	 * between), with the running count; never 25 rows. */
	assert_int_equal(it_capture(out, sizeof(out), "psql -qAtX -c \"SELECT count(*)"
	    " FROM audit_log WHERE action = 'auth.reject' AND client_addr = '%s'"
	    " AND at > now() - interval '10 minutes'\"", addr[6]), 0);
	assert_true(atoi(out) >= 2 && atoi(out) <= 4);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM audit_log WHERE"
	    " action = 'auth.reject' AND client_addr = '%s' AND"
	    " (detail->>'count')::int = 10\" | grep -qx '[12]'", addr[6]), 0);
	/* the counter holds every one of them */
	assert_int_equal(it_capture(out, sizeof(out), "psql -qAtX -c \"SELECT sum(hits) FROM"
	    " rate_limits WHERE bucket LIKE 'rej:auth.reject|%%|%s'\"", addr[6]), 0);
	assert_int_equal(atoi(out), 25);
}

/*
 * The session service (lib/sessions.c) audits the rejections of nobody's
 * credentials aggregated, with the transport's method and path in the
 * detail: unknown and malformed refresh tokens, throttled sign-ins.
 */
static void
t_session_rejects_audited(void **state)
{
	char body[256], ghost[256], out[64], *d = NULL;
	int i;

	(void)state;
	snprintf(body, sizeof(body), "{\"refresh_token\":\"tgr_%s\"}",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	for (i = 0; i < 12; i++) {
		assert_int_equal(post_from(addr[7], "/api/v1/auth/refresh", NULL, body,
		    NULL, i == 0 ? &d : NULL), 401);
		assert_int_equal(post_from(addr[7], "/api/v1/auth/refresh", NULL,
		    "{\"refresh_token\":\"tgr_nope\"}", NULL, NULL), 401);
	}
	assert_non_null(d);
	assert_string_equal(d, "unknown refresh token");
	free(d);
	/* (account, address) limit: 10 failures, then 429 */
	snprintf(ghost, sizeof(ghost), "{\"username\":\"ghost-agg-%s\",\"password\":\"x\"}",
	    sfx);
	for (i = 0; i < 10; i++)
		assert_int_equal(post_from(addr[7], "/api/v1/auth/login", NULL, ghost,
		    NULL, NULL), 401);
	assert_int_equal(post_from(addr[7], "/api/v1/auth/login", NULL, ghost, NULL,
	    NULL), 429);
	/* 1st and 10th of each (reason, minute): 2..4 rows per reason, each
	 * naming the request that was rejected. */
	assert_int_equal(it_capture(out, sizeof(out), "psql -qAtX -c \"SELECT"
	    " count(*) FILTER (WHERE detail->>'reason' = 'unknown refresh token')"
	    " || ' ' || count(*) FILTER (WHERE detail->>'reason' = 'malformed refresh token')"
	    " || ' ' || count(*) FILTER (WHERE action = 'auth.refresh' AND outcome = 'failed'"
	    "  AND detail->>'method' = 'POST' AND detail->>'path' = '/api/v1/auth/refresh')"
	    " FROM audit_log WHERE action = 'auth.refresh' AND client_addr = '%s'\"",
	    addr[7]), 0);
	{
		int unknown = -1, malformed = -1, named = -1;

		assert_int_equal(sscanf(out, "%d %d %d", &unknown, &malformed, &named), 3);
		assert_true(unknown >= 2 && unknown <= 4);
		assert_true(malformed >= 2 && malformed <= 4);
		assert_int_equal(named, unknown + malformed);
	}
	it_sql_expect("1", "SELECT count(*) FROM audit_log WHERE"
	    " action = 'auth.login' AND outcome = 'throttled' AND client_addr = '%s'"
	    " AND detail->>'method' = 'POST' AND detail->>'path' = '/api/v1/auth/login'"
	    " AND detail->>'reason' = 'login throttled'", addr[7]);
}

/* ------------------------------------------------ #14.9 module allow-list */

static void
t_import_guard(void **state)
{
	char srv[64], path[160];
	const char *msg;
	json_t *j, *e;
	long long tid;

	(void)state;
	snprintf(srv, sizeof(srv), "sec_imp_%s", sfx);
	snprintf(path, sizeof(path), "{\"name\":\"%s\"}", srv);
	it_callv("POST", "/api/v1/servers", dev_tok, path, 201);
	tid = it_tool_create(dev_tok, srv, "bypass",
	    "def main():\n    return __builtins__['__import__']('o' + 's').getcwd()\n", "security test");
	j = it_callf("POST", dev_tok, "{}", 200, "/api/v1/tools/%lld/test", tid);
	assert_true(json_is_false(json_object_get(j, "ok")));
	e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "type")), "ImportError");
	msg = json_string_value(json_object_get(e, "message"));
	assert_non_null(strstr(msg, "toolgate_request_module"));
	assert_non_null(strstr(msg, "POST /api/v1/module-requests"));
	assert_non_null(strstr(msg, "not a security boundary"));
	json_decref(j);
	/* The validator names the fix too. */
	j = it_call("POST", "/api/v1/validate", dev_tok,
	    "{\"code\":\"import os\\ndef main():\\n    return 1\\n\"}", 200);
	e = json_array_get(json_object_get(j, "errors"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")),
	    "toolgate_request_module"));
	json_decref(j);
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "security", setup, NULL,
    t_test_run_placeholders, t_test_tool_mcp, t_served_drift,
    t_source_credential_url, t_batch_rate, t_apikey_rate_limited, t_login_no_lockout,
    t_reject_aggregated, t_session_rejects_audited, t_import_guard)
