/*
 * test_auth.c - sign-in reliability, end to end on the private test stack:
 * a sign-in's session, last_login_at and audit row commit together or not
 * at all (a database fault is a 503 and no token, nothing half written;
 * logout likewise), and the refresh-token reuse interval (setting
 * refresh_reuse_interval_seconds, docs/security.md): a retry of a rotated
 * token whose successor is unused gets a fresh pair and kills that
 * successor; after the successor was used, after the interval, or with the
 * setting 0 it is reuse and the family is revoked; concurrent refreshes
 * with one token leave at most one live token.
 *
 * No timed assertion: the interval is set per test through PATCH
 * /api/v1/settings, and "after the interval" moves the rotation's time
 * back in the database instead of sleeping.
 *
 * Needs TG_BASE_URL, TG_ADMIN_USER/PASSWORD and PG* (psql).
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PW "auth-reliability-pw-1"
#define SETTING "refresh_reuse_interval_seconds"
#define USED "refresh token already used: every token of this session was revoked"

static char suffix[32];

/* The reuse interval, through the API (admin): 200, or want for a bad one. */
static void
interval_set(const char *value, long want)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"" SETTING "\":%s}", value);
	it_callv("PATCH", "/api/v1/settings", it_admin(), body, want);
}

/* Back to the default (no stored value). */
static void
interval_reset(void)
{
	char out[64];

	it_sql(out, sizeof(out), "DELETE FROM settings WHERE key = '" SETTING "'");
}

/* A new developer named base-<suffix>; its id. */
static long long
mkuser(const char *base, char *name, size_t cap)
{
	long long id;

	snprintf(name, cap, "%s-%s", base, suffix);
	id = it_user_create(it_admin(), name, PW, "developer");
	assert_true(id > 0);
	return id;
}

/* POST /api/v1/auth/refresh with rt: the status; on 200 the new pair into
 * at/rt2 (each may be NULL), on 401 the problem's detail must be why (NULL:
 * any). */
static long
refresh(const char *rt, char *at, char *rt2, const char *why)
{
	char body[512];
	struct it_resp r;
	long st;

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	assert_int_equal(it_json("POST", "/api/v1/auth/refresh", NULL, body, &r), 0);
	st = r.status;
	if (st == 200) {
		if (at != NULL)
			snprintf(at, 4096, "%s", it_jstr(r.json, "access_token"));
		if (rt2 != NULL)
			snprintf(rt2, 256, "%s", it_jstr(r.json, "refresh_token"));
	} else if (st == 401 && why != NULL &&
	    strcmp(it_jstr(r.json, "detail"), why) != 0) {
		fail_msg("refresh: want 401 '%s', got %s", why, r.body);
	}
	it_resp_free(&r);
	return st;
}

/* The status of GET /api/v1/auth/me with the access token at. */
static long
me(const char *at)
{
	return it_status("GET", "/api/v1/auth/me", at, NULL);
}

/* Refresh tokens of user id that are neither used nor revoked. */
static void
live_expect(const char *want, long long id)
{
	it_sql_expect(want, "SELECT count(*) FROM refresh_tokens WHERE user_id = %lld"
			    " AND used_at IS NULL AND revoked_at IS NULL",
	    id);
}

static int
group_setup(void **state)
{
	(void)state;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(suffix, sizeof(suffix), "%ld%04ld", (long)getpid(), random() % 10000);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	interval_reset();
	return 0;
}

/*
 * Sign-in under a database fault: the audit row (the last statement of
 * the sign-in's transaction) waits on a locked audit_log until
 * lock_timeout: 503 + Retry-After, no token in the answer, and nothing of
 * the sign-in left: no refresh token row, last_login_at and the audit
 * trail as before. The same for logout: its access token stays valid
 * (the blacklist entry rolled back with the audit row). Afterwards both
 * work. (Before: 200 with a token, the audit row lost.)
 */
static void
t_login_rolls_back_on_db_fault(void **state)
{
	char name[96], at[4096], rt[256], body[256], before[64], after[64];
	struct it_resp r;
	long long id;
	FILE *lk;

	(void)state;
	id = mkuser("login-fault", name, sizeof(name));
	assert_int_equal(it_login_full(name, PW, at, sizeof(at), rt, sizeof(rt)), 0);
	it_sql(before, sizeof(before), "SELECT last_login_at FROM users WHERE id = %lld", id);
	assert_true(before[0] != '\0');
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PW "\"}", name);
	lk = it_lock_table("audit_log");
	assert_int_equal(it_json("POST", "/api/v1/auth/login", NULL, body, &r), 0);
	it_unlock_table(lk);
	if (r.status != 503 || it_header(&r, "Retry-After") == NULL ||
	    r.json == NULL || json_object_get(r.json, "access_token") != NULL ||
	    strstr(r.body, "tgr_") != NULL)
		fail_msg("login, audit_log locked: want 503 without a token, got %ld %s",
		    r.status, r.body);
	it_resp_free(&r);
	it_sql_expect("1", "SELECT count(*) FROM refresh_tokens WHERE user_id = %lld", id);
	it_sql(after, sizeof(after), "SELECT last_login_at FROM users WHERE id = %lld", id);
	assert_string_equal(after, before);
	it_sql_expect("1", "SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
			   " AND outcome = 'ok' AND actor_id = %lld",
	    id);
	/* logout: the same fault, nothing revoked */
	lk = it_lock_table("audit_log");
	assert_int_equal(it_json("POST", "/api/v1/auth/logout", at, "{}", &r), 0);
	it_unlock_table(lk);
	if (r.status != 503)
		fail_msg("logout, audit_log locked: want 503, got %ld %s", r.status, r.body);
	it_resp_free(&r);
	assert_int_equal(me(at), 200);
	live_expect("1", id);
	/* without the fault both work, each with its audit row */
	assert_int_equal(it_login(name, PW, at, sizeof(at)), 0);
	it_sql_expect("2", "SELECT count(*) FROM refresh_tokens WHERE user_id = %lld", id);
	it_sql_expect("t", "SELECT last_login_at > '%s' FROM users WHERE id = %lld", before, id);
	it_sql_expect("2", "SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
			   " AND outcome = 'ok' AND actor_id = %lld",
	    id);
	assert_int_equal(it_status("POST", "/api/v1/auth/logout", at, "{}"), 204);
	assert_int_equal(me(at), 401);
}

/* A failed sign-in: its pacing counters and its audit row commit
 * together; one that cannot be counted is a 503 (fail closed), not a 401
 * that would let guesses go on uncounted. */
static void
t_failed_login_counted_or_503(void **state)
{
	char name[96], body[256];
	struct it_resp r;
	FILE *lk;

	(void)state;
	(void)mkuser("login-failfault", name, sizeof(name));
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-%s\"}",
	    name, PW);
	lk = it_lock_table("audit_log");
	assert_int_equal(it_json("POST", "/api/v1/auth/login", NULL, body, &r), 0);
	it_unlock_table(lk);
	if (r.status != 503 || it_header(&r, "Retry-After") == NULL)
		fail_msg("failed login, audit_log locked: want 503, got %ld %s", r.status,
		    r.body);
	it_resp_free(&r);
	it_sql_expect("0", "SELECT COALESCE(sum(hits), 0) FROM rate_limits"
			   " WHERE bucket = lower('login-user:%s')",
	    name);
	it_sql_expect("0", "SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
			   " AND outcome = 'failed' AND target = '%s'",
	    name);
	/* without the fault: 401, counted once, audited once */
	assert_int_equal(it_status("POST", "/api/v1/auth/login", NULL, body), 401);
	it_sql_expect("1", "SELECT COALESCE(sum(hits), 0) FROM rate_limits"
			   " WHERE bucket = lower('login-user:%s')",
	    name);
	it_sql_expect("1", "SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
			   " AND outcome = 'failed' AND target = '%s'",
	    name);
}

/* The setting: default 30, 0..60, anything else 422. */
static void
t_interval_setting(void **state)
{
	json_t *j;

	(void)state;
	interval_reset();
	j = it_call("GET", "/api/v1/settings", it_admin(), NULL, 200);
	assert_int_equal(it_jint(j, SETTING), 30);
	json_decref(j);
	interval_set("61", 422);
	interval_set("-1", 422);
	interval_set("\"5\"", 422);
	interval_set("1.5", 422);
	interval_set("0", 200);
	interval_set("60", 200);
	j = it_call("GET", "/api/v1/settings", it_admin(), NULL, 200);
	assert_int_equal(it_jint(j, SETTING), 60);
	json_decref(j);
	interval_reset();
}

/* A retry with rt within the interval: 200, the new access token (into at,
 * 4096 bytes; next: the refresh token, 256) works, prev (the access token
 * of the pair it supersedes) no longer does, one live token for the user
 * id. */
static void
retry_supersedes(const char *rt, const char *prev, char *at, char *next, long long id)
{
	assert_int_equal(refresh(rt, at, next, NULL), 200);
	assert_string_not_equal(at, prev);
	assert_int_equal(me(at), 200);
	assert_int_equal(me(prev), 401);
	live_expect("1", id);
}

/* old presented again is reuse: 401, and the family is revoked: its last
 * refresh token last is refused as well, last's access token at is dead,
 * no live token left for the user id. */
static void
reuse_kills(const char *old, const char *last, const char *at, long long id)
{
	assert_int_equal(refresh(old, NULL, NULL, USED), 401);
	assert_int_equal(refresh(last, NULL, NULL, USED), 401);
	assert_int_equal(me(at), 401);
	live_expect("0", id);
}

/*
 * Within the interval (the default one), a retry of the rotated token
 * while its successor is unused: a fresh pair, and the successor it
 * replaces is dead (its access token too); again: the same. One live
 * token per family throughout; the last successor rotates normally. The
 * retries are audited ok with detail retry. A superseded token presented
 * later is reuse: the family is revoked.
 */
static void
t_retry_within_interval(void **state)
{
	char name[96], a1[4096], r1[256], a2[4096], r2[256], a3[4096], r3[256];
	char a4[4096], r4[256], a5[4096], r5[256];
	long long id;

	(void)state;
	interval_reset();
	id = mkuser("retry", name, sizeof(name));
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, sizeof(r1)), 0);
	assert_int_equal(refresh(r1, a2, r2, NULL), 200);
	/* the answer was lost: the client retries with r1 */
	retry_supersedes(r1, a2, a3, r3, id);
	assert_string_not_equal(r3, r2);
	it_sql_expect("1", "SELECT count(*) FROM refresh_tokens WHERE user_id = %lld"
			   " AND revoked_reason = 'superseded'",
	    id);
	/* and again: r3 dies in turn */
	retry_supersedes(r1, a3, a4, r4, id);
	/* the successor rotates as usual */
	assert_int_equal(refresh(r4, a5, r5, NULL), 200);
	assert_int_equal(me(a5), 200);
	live_expect("1", id);
	it_sql_expect("2", "SELECT count(*) FROM audit_log WHERE action = 'auth.refresh'"
			   " AND outcome = 'ok' AND actor_id = %lld AND detail->>'retry' = 'true'",
	    id);
	/* a superseded token comes back: two holders of r1; the family dies */
	reuse_kills(r2, r5, a5, id);
	assert_int_equal(me(a1), 401);
}

/* The reuse interval at 60 s and a user of its own (base) signed in, its
 * first refresh token (r1, 256 bytes) rotated into a2 (4096) and r2 (256);
 * the user's id. */
static long long
rotated_once(const char *base, char *r1, char *a2, char *r2)
{
	char name[96], a1[4096];
	long long id;

	interval_set("60", 200);
	id = mkuser(base, name, sizeof(name));
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, 256), 0);
	assert_int_equal(refresh(r1, a2, r2, NULL), 200);
	return id;
}

/* A retry after the successor was used is reuse: the family is revoked,
 * the successor's successor too. */
static void
t_retry_after_successor_used(void **state)
{
	char r1[256], a2[4096], r2[256], a3[4096], r3[256];
	long long id;

	(void)state;
	id = rotated_once("retry-used", r1, a2, r2);
	assert_int_equal(refresh(r2, a3, r3, NULL), 200);
	reuse_kills(r1, r3, a3, id);
	assert_int_equal(me(a2), 401);
	/* both presentations: r1's, and r3's (revoked by the first) */
	it_sql_expect("2", "SELECT count(*) FROM audit_log WHERE action = 'auth.refresh'"
			   " AND outcome = 'reuse_detected' AND actor_id = %lld",
	    id);
	interval_reset();
}

/* A successor revoked for another reason than a retry (here as a logout
 * would) is not brought back by a retry of its parent: that is reuse. */
static void
t_retry_after_successor_revoked(void **state)
{
	char r1[256], a2[4096], r2[256];
	long long id;

	(void)state;
	id = rotated_once("retry-revoked", r1, a2, r2);
	it_sql_expect("1", "WITH u AS (UPDATE refresh_tokens SET revoked_at = now(),"
			   " revoked_reason = 'logout' WHERE user_id = %lld AND used_at IS NULL"
			   " AND revoked_at IS NULL RETURNING 1) SELECT count(*) FROM u",
	    id);
	assert_int_equal(refresh(r1, NULL, NULL, USED), 401);
	assert_int_equal(refresh(r2, NULL, NULL, NULL), 401);
	live_expect("0", id);
	interval_reset();
}

/*
 * A user of its own (base) with the reuse interval set to interval: its
 * first refresh token rotated, then, when late, the rotation moved 61 s
 * into the past (after the interval, without waiting for it). Presenting
 * the first token again is reuse: 401 and the family revoked.
 */
static void
rotate_then_reuse(const char *base, const char *interval, int late)
{
	char name[96], a1[4096], r1[256], a2[4096], r2[256], out[64];
	long long id;

	interval_set(interval, 200);
	id = mkuser(base, name, sizeof(name));
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, sizeof(r1)), 0);
	assert_int_equal(refresh(r1, a2, r2, NULL), 200);
	if (late)
		it_sql(out, sizeof(out), "UPDATE refresh_tokens SET used_at = used_at -"
					 " interval '61 seconds' WHERE user_id = %lld AND used_at IS NOT NULL",
		    id);
	reuse_kills(r1, r2, a2, id);
	interval_reset();
}

/* After the interval (60 s here), a retry is reuse. */
static void
t_retry_after_interval(void **state)
{
	(void)state;
	rotate_then_reuse("retry-late", "60", 1);
}

/* The setting 0: no retry at all, reuse at once (the behaviour before
 * the interval existed). */
static void
t_interval_zero_disables(void **state)
{
	(void)state;
	rotate_then_reuse("retry-off", "0", 0);
}

/* The statuses of n concurrent refreshes with rt (one connection each). */
static void
burst(const char *rt, int n, long *st)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	char body[512];

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	it_burst("POST", "/api/v1/auth/refresh", NULL, h, body, n, st);
}

/*
 * Concurrent refreshes with one token (the row lock orders them): within
 * the interval every one is answered 200, each later one superseding the
 * one before: one live token in the family, never two. With the interval
 * off: one 200, the others are reuse, and nothing stays alive.
 */
static void
t_concurrent_refresh(void **state)
{
	char name[96], a1[4096], r1[256];
	long st[6];
	long long id;
	int i, ok;

	(void)state;
	interval_set("60", 200);
	id = mkuser("retry-race", name, sizeof(name));
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, sizeof(r1)), 0);
	burst(r1, 6, st);
	for (i = 0; i < 6; i++)
		if (st[i] != 200)
			fail_msg("concurrent refresh %d within the interval: %ld", i, st[i]);
	live_expect("1", id);
	it_sql_expect("7", "SELECT count(*) FROM refresh_tokens WHERE user_id = %lld", id);
	interval_set("0", 200);
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, sizeof(r1)), 0);
	burst(r1, 6, st);
	for (i = ok = 0; i < 6; i++) {
		if (st[i] == 200)
			ok++;
		else if (st[i] != 401)
			fail_msg("concurrent refresh %d, interval off: %ld", i, st[i]);
	}
	assert_int_equal(ok, 1);
	/* the first family's one live token, none of the second's */
	live_expect("1", id);
	interval_reset();
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "auth", group_setup,
    group_teardown, t_login_rolls_back_on_db_fault, t_failed_login_counted_or_503,
    t_interval_setting,
    t_retry_within_interval, t_retry_after_successor_used,
    t_retry_after_successor_revoked, t_retry_after_interval,
    t_interval_zero_disables, t_concurrent_refresh)
