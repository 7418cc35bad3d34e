/*
 * test_cache.c - the workers' caches (lib/inval.h) never let a change slip
 * past them. The test stack runs with TOOLGATE_CACHE_TTL_MS=60000 (tests/
 * run.sh), so nothing here can pass by waiting for entries to age out:
 * every change must reach every worker through the shared epochs (changes
 * made through the API) or PostgreSQL's NOTIFY (changes made by psql, as
 * another host or the CLI would).
 *
 * Requests go out in concurrent bursts so that they land on several
 * workers, each of which has the credential, session or lease cached.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#define PW "cache-test-password-1"
#define BURST 16

static char admin[4096];

struct counts {
	int ok, unauth, forbidden, limited, notfound, other;
};

/* n concurrent requests (it_burst), counted by status. */
static void
burst(const char *method, const char *path, const char *token,
    const char *const *extra, const char *body, int n, struct counts *c)
{
	long st[IT_BURST_MAX];

	memset(c, 0, sizeof(*c));
	it_burst(method, path, token, extra, body, n, st);
	for (int i = 0; i < n; i++) {
		switch (st[i]) {
		case 200: case 202: c->ok++; break;
		case 401: c->unauth++; break;
		case 403: c->forbidden++; break;
		case 404: c->notfound++; break;
		case 429: c->limited++; break;
		default: c->other++; break;
		}
	}
}

static void
me_burst(const char *token, struct counts *c)
{
	burst("GET", "/api/v1/auth/me", token, NULL, NULL, BURST, c);
}

/* Warms every worker's cache with token: several bursts, all 200. */
static void
warm(const char *token)
{
	struct counts c;

	for (int i = 0; i < 4; i++) {
		me_burst(token, &c);
		if (c.ok != BURST)
			fail_msg("warm-up: %d of %d passed (401 %d, 429 %d, other %d)",
			    c.ok, BURST, c.unauth, c.limited, c.other);
	}
}

/* Bursts until none passes, for at most ms; returns the time it took. A
 * change made through the API must take 0 ms (the first burst). */
static int
until_refused(const char *token, int ms, struct counts *last)
{
	int waited = 0;

	for (;;) {
		me_burst(token, last);
		if (last->ok == 0)
			return waited;
		if (waited >= ms)
			return -1;
		usleep(50 * 1000);
		waited += 50;
	}
}

static long long
user(const char *name, const char *role)
{
	long long id = it_user_create(admin, name, PW, role);

	assert_true(id > 0);
	return id;
}

/* A new API key of the signed-in token; *id its id. */
static void
new_key(const char *token, char *key, size_t cap, long long *id)
{
	struct it_resp r;

	assert_int_equal(it_json("POST", "/api/v1/api-keys", token,
	    "{\"name\":\"cache-test\"}", &r), 0);
	assert_int_equal(r.status, 201);
	snprintf(key, cap, "%s", json_string_value(json_object_get(r.json, "key")));
	*id = json_integer_value(json_object_get(r.json, "id"));
	it_resp_free(&r);
	assert_true(*id > 0);
}

static void
setup(void)
{
	if (admin[0] == '\0')
		assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
}

/* A new user name (role) signed in (token into tok, 4096 bytes) with an
 * API key of its own (into key, *kid its id); returns the user's id. */
static long long
key_user(const char *name, const char *role, char *tok, char *key, size_t cap,
    long long *kid)
{
	long long uid;

	setup();
	uid = it_user_token(admin, name, PW, role, tok, 4096);
	new_key(tok, key, cap, kid);
	return uid;
}

/* n bursts with key: every request refused (401). */
static void
refused_bursts(const char *key, int n)
{
	struct counts c;

	for (int i = 0; i < n; i++) {
		me_burst(key, &c);
		assert_int_equal(c.ok, 0);
		assert_int_equal(c.unauth, BURST);
	}
}

/* Revoked through the API: refused by every worker at once. */
static void
t_key_revoked_api(void **state)
{
	char tok[4096], key[256], path[128];
	long long kid;

	(void)state;
	key_user("cache_k1", "developer", tok, key, sizeof(key), &kid);
	warm(key);
	snprintf(path, sizeof(path), "/api/v1/api-keys/%lld", kid);
	assert_int_equal(it_status("DELETE", path, tok, NULL), 204);
	refused_bursts(key, 4);
}

/* Revoked behind the app's back (psql, like another host or the CLI):
 * refused once PostgreSQL delivers the NOTIFY - well within a second,
 * while the cache entries would live a minute. */
static void
t_key_revoked_sql(void **state)
{
	char tok[4096], key[256];
	struct counts c;
	long long kid;
	int t;

	(void)state;
	key_user("cache_k2", "developer", tok, key, sizeof(key), &kid);
	warm(key);
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE api_keys SET revoked_at = now()"
	    " WHERE id = %lld\" >/dev/null", kid), 0);
	t = until_refused(key, 5000, &c);
	if (t < 0)
		fail_msg("a key revoked in SQL still passed after 5 s (%d of %d)", c.ok, BURST);
	assert_true(t <= 1000);
	refused_bursts(key, 3);
}

/* JWTs: logout blacklists the token (API); disabling the user in SQL
 * refuses its other tokens (NOTIFY). */
static void
t_jwt(void **state)
{
	char t1[4096], t2[4096];
	struct counts c;
	struct it_resp r;
	long long uid;
	int t;

	(void)state;
	setup();
	uid = user("cache_j1", "viewer");
	assert_int_equal(it_login("cache_j1", PW, t1, sizeof(t1)), 0);
	assert_int_equal(it_login("cache_j1", PW, t2, sizeof(t2)), 0);
	warm(t1);
	warm(t2);
	assert_int_equal(it_json("POST", "/api/v1/auth/logout", t1, "{}", &r), 0);
	assert_int_equal(r.status, 204);
	it_resp_free(&r);
	me_burst(t1, &c);
	assert_int_equal(c.unauth, BURST);
	me_burst(t2, &c);
	assert_int_equal(c.ok, BURST);	/* the other token is untouched */
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE users SET disabled = true"
	    " WHERE id = %lld\" >/dev/null", uid), 0);
	t = until_refused(t2, 5000, &c);
	if (t < 0)
		fail_msg("a disabled user's token still passed after 5 s");
	assert_true(t <= 1000);
}

/* A role lowered in SQL: the cached principal's role goes with it (the
 * key's effective role is the lower of the key's and the owner's). */
static void
t_role_lowered(void **state)
{
	char tok[4096], key[256];
	struct counts c;
	long long uid, kid;
	int waited = 0;

	(void)state;
	uid = key_user("cache_r1", "admin", tok, key, sizeof(key), &kid);
	for (int i = 0; i < 3; i++) {
		burst("GET", "/api/v1/users", key, NULL, NULL, BURST, &c);
		assert_int_equal(c.ok, BURST);
	}
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE users SET role = 'viewer'"
	    " WHERE id = %lld\" >/dev/null", uid), 0);
	for (;;) {
		burst("GET", "/api/v1/users", key, NULL, NULL, BURST, &c);
		if (c.ok == 0)
			break;
		assert_true(waited < 1000);
		usleep(50 * 1000);
		waited += 50;
	}
	assert_int_equal(c.forbidden, BURST);
}

/* MCP sessions: ended through one worker, gone on all of them. */
static void
t_session_deleted(void **state)
{
	char sid[128], hs[200], auth[4200];
	const char *h[6];
	struct counts c;
	struct it_resp r;
	const char *init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"cache\",\"version\":\"1\"}}}";
	const char *list = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}";

	(void)state;
	setup();
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin);
	h[0] = auth;
	h[1] = "Content-Type: application/json";
	h[2] = "Accept: application/json, text/event-stream";
	h[3] = NULL;
	assert_int_equal(it_request("POST", "/mcp", h, init, strlen(init), &r), 0);
	assert_int_equal(r.status, 200);
	snprintf(sid, sizeof(sid), "%s", it_header(&r, "Mcp-Session-Id"));
	it_resp_free(&r);
	snprintf(hs, sizeof(hs), "Mcp-Session-Id: %s", sid);
	{
		const char *x[] = {"Content-Type: application/json",
		    "Accept: application/json, text/event-stream",
		    "MCP-Protocol-Version: 2025-11-25", hs, NULL};

		for (int i = 0; i < 3; i++) {
			burst("POST", "/mcp", admin, x, list, BURST, &c);
			assert_int_equal(c.ok, BURST);
		}
		h[1] = hs;
		h[2] = "MCP-Protocol-Version: 2025-11-25";
		h[3] = NULL;
		assert_int_equal(it_hstatus("DELETE", "/mcp", h), 204);
		for (int i = 0; i < 3; i++) {
			burst("POST", "/mcp", admin, x, list, BURST, &c);
			assert_int_equal(c.notfound, BURST);
		}
	}
}

/*
 * Rate-limit leases: with a limit of 200 per window, a principal served by
 * every worker at once is never let past the limit, loses at most a few
 * requests to unused leases, and the count in PostgreSQL covers every
 * request that passed.
 */
static void
t_rate_lease(void **state)
{
	char tok[4096], key[256], saved[512], out[64];
	struct counts c;
	long long kid;
	int ok = 0, limited = 0, windows, workers;

	(void)state;
	key_user("cache_l1", "developer", tok, key, sizeof(key), &kid);
	it_rate_limit_set("developer", 200, saved, sizeof(saved));
	for (int i = 0; i < 16; i++) {
		burst("GET", "/api/v1/auth/me", key, NULL, NULL, 16, &c);
		ok += c.ok;
		limited += c.limited;
		assert_int_equal(c.other + c.unauth, 0);
	}
	it_rate_limit_restore(saved);
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT count(*)"
	    " FROM rate_limits WHERE bucket = 'k:%lld'\"", kid), 0);
	windows = atoi(out);
	assert_int_equal(it_capture(out, sizeof(out), "pgrep -c -P \"$(cat \"$TG_VAR/run/toolgate.pid\")\""), 0);
	workers = atoi(out);
	assert_true(workers >= 1);
	assert_int_equal(ok + limited, 256);
	if (windows == 1) {
		/* Each worker may be left holding part of a lease of at most
		 * (200 - count) / 64 = 3 requests. */
		assert_true(ok <= 200);
		assert_true(ok >= 200 - workers * 3);
	} else {
		assert_true(ok <= 400);	/* the burst spanned two windows */
	}
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT sum(hits)"
	    " FROM rate_limits WHERE bucket = 'k:%lld'\"", kid), 0);
	assert_true(atoll(out) >= ok);
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "tests", NULL, NULL,
    t_key_revoked_api, t_key_revoked_sql, t_jwt, t_role_lowered,
    t_session_deleted, t_rate_lease)
