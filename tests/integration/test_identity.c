/*
 * test_identity.c - issue 3 acceptance, end to end through nginx on the
 * private test stack: JWT forgeries and revocations -> 401, logout and
 * refresh-token reuse, the RBAC matrix, API keys, the per-user rate limit
 * (shared by every worker), and the append-only hash-chained audit log.
 *
 * Needs TG_BASE_URL, TG_ADMIN_USER/PASSWORD, TOOLGATE_JWT_SECRET(+ISSUER),
 * PG* (psql as the superuser) and TOOLGATE_TEST_ROUTES=1 on the stack.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PW "integration-password-1"

static char admin_tok[4096];
static long long admin_id;
static char suffix[32];

/* ------------------------------------------------------------ helpers */

static void
expect_401(const char *token, const char *why)
{
	struct it_resp r;
	const char *wa;

	assert_int_equal(it_get("GET", "/api/v1/auth/me", token, &r), 0);
	if (r.status != 401)
		fail_msg("%s: expected 401, got %ld %s", why, r.status, r.body);
	wa = it_header(&r, "WWW-Authenticate");
	assert_non_null(wa);
	assert_true(strncmp(wa, "Bearer", 6) == 0);
	assert_non_null(strstr(it_header(&r, "Content-Type"), "application/problem+json"));
	assert_non_null(r.json);
	assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 401);
	it_resp_free(&r);
}

static void
b64url(const unsigned char *in, size_t n, char *out, size_t cap)
{
	char tmp[8192];
	int len, i, o = 0;

	assert_true(n * 2 + 4 < sizeof(tmp) && n * 2 < cap);
	len = EVP_EncodeBlock((unsigned char *)tmp, in, (int)n);
	for (i = 0; i < len; i++) {
		if (tmp[i] == '=')
			break;
		out[o++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	}
	out[o] = '\0';
}

static void
forge(const char *hdr, const char *pay, const char *key, const EVP_MD *md,
    char *out, size_t cap)
{
	char h[2048], p[4096], s[256];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	b64url((const unsigned char *)hdr, strlen(hdr), h, sizeof(h));
	b64url((const unsigned char *)pay, strlen(pay), p, sizeof(p));
	snprintf(out, cap, "%s.%s", h, p);
	s[0] = '\0';
	if (md) {
		assert_non_null(HMAC(md, key, (int)strlen(key), (unsigned char *)out,
		    strlen(out), mac, &maclen));
		b64url(mac, maclen, s, sizeof(s));
	}
	snprintf(out + strlen(out), cap - strlen(out), ".%s", s);
}

static void
claims(char *out, size_t cap, long long sub, const char *role, long long iat,
    long long exp, const char *iss)
{
	snprintf(out, cap, "{\"sub\":\"%lld\",\"role\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
	    "\"jti\":\"%08lx%08lx0123456789abcdef\",\"iss\":\"%s\"}", sub, role, iat, exp,
	    (unsigned long)random() & 0xffffffffUL, (unsigned long)random() & 0xffffffffUL, iss);
}

static const char *
issuer(void)
{
	const char *i = getenv("TOOLGATE_JWT_ISSUER");
	return i && *i ? i : "toolgate";
}

static void
mkuser(const char *base, const char *role, char *name, size_t cap, long long *id)
{
	snprintf(name, cap, "%s-%s", base, suffix);
	*id = it_user_create(admin_tok, name, PW, role);
	assert_true(*id > 0);
}

/* mkuser, then a login of the new user (tok, cap tokcap) */
static void
mkuser_login(const char *base, const char *role, char *name, size_t cap,
    long long *id, char *tok, size_t tokcap)
{
	mkuser(base, role, name, cap, id);
	assert_int_equal(it_login(name, PW, tok, tokcap), 0);
}

static int
group_setup(void **state)
{
	struct it_resp r;

	(void)state;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(suffix, sizeof(suffix), "%ld%04ld", (long)getpid(), random() % 10000);
	if (it_login_admin(admin_tok, sizeof(admin_tok)) != 0)
		return -1;
	if (it_get("GET", "/api/v1/auth/me", admin_tok, &r) != 0 || r.status != 200)
		return -1;
	admin_id = it_jint(r.json, "id");
	it_resp_free(&r);
	return 0;
}

/* ------------------------------------------------------------ tests */

static void
t_missing_and_garbage_headers(void **state)
{
	static const char *const bad[] = {
		"Authorization: garbage",
		"Authorization: Bearer",
		"Authorization: Bearer ",
		"Authorization: Basic YWRtaW46YWRtaW4=",
		"Authorization: Bearer a.b.c",
		"Authorization: Bearer ....",
		"Authorization: Bearer tgk_short",
		"Authorization: Bearer tgr_notanaccesstoken",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x y",
		"Authorization: Bearer \x01\x02\x7f",
		NULL,
	};
	char big[6000];
	const char *hdrs[2] = {NULL, NULL};
	struct it_resp r;
	int i;

	(void)state;
	expect_401(NULL, "no Authorization");
	for (i = 0; bad[i]; i++) {
		hdrs[0] = bad[i];
		assert_int_equal(it_request("GET", "/api/v1/auth/me", hdrs, NULL, 0, &r), 0);
		if (r.status != 401)
			fail_msg("'%s': expected 401, got %ld", bad[i], r.status);
		assert_non_null(it_header(&r, "WWW-Authenticate"));
		it_resp_free(&r);
	}
	/* A token over the length cap. */
	memcpy(big, "Authorization: Bearer ", 22);
	memset(big + 22, 'A', sizeof(big) - 23);
	big[sizeof(big) - 1] = '\0';
	hdrs[0] = big;
	assert_int_equal(it_request("GET", "/api/v1/auth/me", hdrs, NULL, 0, &r), 0);
	assert_int_equal(r.status, 401);	/* over TG_MAX_TOKEN, under nginx's header limit */
	it_resp_free(&r);
}

static void
t_forged_tokens(void **state)
{
	const char *key = it_env("TOOLGATE_JWT_SECRET");
	long long now = (long long)time(NULL);
	char c[1024], tok[8192];

	(void)state;
	/* Control: a correctly forged token with the real key works, so every
	 * rejection below is due to the one thing that differs. */
	claims(c, sizeof(c), admin_id, "admin", now, now + 600, issuer());
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok, NULL), 200);

	forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", c, key, NULL, tok, sizeof(tok));
	expect_401(tok, "alg none");
	forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", c, key, EVP_sha512(), tok, sizeof(tok));
	expect_401(tok, "HS512");
	forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", c, key, EVP_sha384(), tok, sizeof(tok));
	expect_401(tok, "HS384");
	forge("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "lower-case alg");
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c,
	    "this-is-the-wrong-key-of-at-least-32-bytes", EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "wrong key");
	claims(c, sizeof(c), admin_id, "admin", now - 3600, now - 1800, issuer());
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "expired");
	claims(c, sizeof(c), admin_id, "admin", now + 3600, now + 4000, issuer());
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "future iat");
	claims(c, sizeof(c), admin_id, "admin", now, now + 600, "not-toolgate");
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "wrong issuer");
	claims(c, sizeof(c), admin_id, "superuser", now, now + 600, issuer());
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "invalid role");
	claims(c, sizeof(c), 999999999, "admin", now, now + 600, issuer());
	forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, key, EVP_sha256(), tok, sizeof(tok));
	expect_401(tok, "unknown user");
	/* Tampered payload: a viewer's real token with the role changed. */
	{
		char vname[96], vtok[4096], *d1, *d2, p[2048], forged[8192];
		long long vid;

		mkuser_login("forge", "viewer", vname, sizeof(vname), &vid, vtok, sizeof(vtok));
		assert_int_equal(it_status("GET", "/api/v1/auth/me", vtok, NULL), 200);
		claims(c, sizeof(c), vid, "admin", now, now + 600, issuer());
		b64url((const unsigned char *)c, strlen(c), p, sizeof(p));
		d1 = strchr(vtok, '.');
		d2 = strchr(d1 + 1, '.');
		*d1 = '\0';
		snprintf(forged, sizeof(forged), "%s.%s%s", vtok, p, d2);
		expect_401(forged, "tampered payload");
	}
}

static void
t_logout_then_reuse(void **state)
{
	char name[96], tok[4096], rt[256], body[512];
	long long id;

	(void)state;
	mkuser("logout", "developer", name, sizeof(name), &id);
	assert_int_equal(it_login_full(name, PW, tok, sizeof(tok), rt, sizeof(rt)), 0);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok, NULL), 200);
	assert_int_equal(it_status("POST", "/api/v1/auth/logout", tok, "{}"), 204);
	expect_401(tok, "access token after logout");
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	assert_int_equal(it_status("POST", "/api/v1/auth/refresh", NULL, body), 401);
}

/* A refresh with rt that must succeed: the new access token into at (4096
 * bytes; NULL: dropped) and refresh token into next (256 bytes); the
 * session's username must be name. */
static void
rotate(const char *rt, const char *name, char *at, char *next)
{
	char body[512];
	struct it_resp r;

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	assert_int_equal(it_json("POST", "/api/v1/auth/refresh", NULL, body, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "user"),
	    "username")), name);
	if (at != NULL)
		snprintf(at, 4096, "%s", json_string_value(json_object_get(r.json, "access_token")));
	snprintf(next, 256, "%s", json_string_value(json_object_get(r.json, "refresh_token")));
	it_resp_free(&r);
}

static void
t_refresh_rotation_and_reuse(void **state)
{
	char name[96], a1[4096], r1[256], body[512], a2[4096], r2[256];
	char a3[4096], r3[256];
	long long id;

	(void)state;
	mkuser("refresh", "developer", name, sizeof(name), &id);
	assert_int_equal(it_login_full(name, PW, a1, sizeof(a1), r1, sizeof(r1)), 0);
	rotate(r1, name, a2, r2);
	assert_string_not_equal(r1, r2);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", a2, NULL), 200);
	/* r2 used: r1 is no longer a retry within the reuse interval */
	rotate(r2, name, a3, r3);
	/* Reuse of the rotated-out token: the family dies. */
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", r1);
	assert_int_equal(it_status("POST", "/api/v1/auth/refresh", NULL, body), 401);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", r3);
	assert_int_equal(it_status("POST", "/api/v1/auth/refresh", NULL, body), 401);
	expect_401(a3, "last access token of a revoked family");
	expect_401(a2, "access token of a revoked family");
	expect_401(a1, "first access token of a revoked family");
	/* Garbage refresh tokens. */
	assert_int_equal(it_status("POST", "/api/v1/auth/refresh", NULL,
	    "{\"refresh_token\":\"tgr_nope\"}"), 401);
	assert_int_equal(it_status("POST", "/api/v1/auth/refresh", NULL,
	    "{\"refresh_token\":42}"), 422);
}

static void
t_revoke_and_revoke_all(void **state)
{
	char name[96], t1[4096], t2[4096], t3[4096], body[4300];
	long long id;

	(void)state;
	mkuser_login("revoke", "viewer", name, sizeof(name), &id, t1, sizeof(t1));
	assert_int_equal(it_login(name, PW, t2, sizeof(t2)), 0);
	/* revoke one token (jti blacklisted) */
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", t1);
	assert_int_equal(it_status("POST", "/api/v1/auth/revoke", t2, body), 200);
	expect_401(t1, "revoked jti");
	assert_int_equal(it_status("GET", "/api/v1/auth/me", t2, NULL), 200);
	/* a viewer may not revoke the admin's token */
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", admin_tok);
	assert_int_equal(it_status("POST", "/api/v1/auth/revoke", t2, body), 403);
	/* revoke-all by the admin: every token issued before now dies */
	snprintf(body, sizeof(body), "{\"user_id\":%lld}", id);
	assert_int_equal(it_status("POST", "/api/v1/auth/revoke-all", t2, body), 200);
	expect_401(t2, "revoke-all (self)");
	assert_int_equal(it_login(name, PW, t3, sizeof(t3)), 0);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", t3, NULL), 200);
	assert_int_equal(it_status("POST", "/api/v1/auth/revoke-all", admin_tok, body), 200);
	expect_401(t3, "revoke-all by admin");
	/* a fresh login right after still works (same second) */
	assert_int_equal(it_login(name, PW, t3, sizeof(t3)), 0);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", t3, NULL), 200);
	/* stats */
	{
		struct it_resp r;
		assert_int_equal(it_get("GET", "/api/v1/auth/blacklist/stats", admin_tok, &r), 0);
		assert_int_equal(r.status, 200);
		assert_true(json_integer_value(json_object_get(r.json, "active")) >= 1);
		assert_non_null(json_object_get(json_object_get(r.json, "by_reason"), "revoke"));
		it_resp_free(&r);
		assert_int_equal(it_status("GET", "/api/v1/auth/blacklist/stats", t3, NULL), 403);
	}
}

static void
t_disabled_user(void **state)
{
	char name[96], tok[4096], path[64], body[256];
	long long id;

	(void)state;
	mkuser_login("disabled", "developer", name, sizeof(name), &id, tok, sizeof(tok));
	snprintf(path, sizeof(path), "/api/v1/users/%lld", id);
	assert_int_equal(it_status("PATCH", path, admin_tok, "{\"disabled\":true}"), 200);
	expect_401(tok, "disabled user");
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
	assert_int_equal(it_status("POST", "/api/v1/auth/login", NULL, body), 401);
	assert_int_equal(it_status("PATCH", path, admin_tok, "{\"disabled\":false}"), 200);
	assert_int_equal(it_login(name, PW, tok, sizeof(tok)), 0);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok, NULL), 200);
}

static void
t_login_does_not_tell(void **state)
{
	struct it_resp a, b;
	char body[256];

	(void)state;
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-password-123\"}",
	    it_env("TG_ADMIN_USER"));
	assert_int_equal(it_json("POST", "/api/v1/auth/login", NULL, body, &a), 0);
	assert_int_equal(it_json("POST", "/api/v1/auth/login", NULL,
	    "{\"username\":\"nobody-at-all-here\",\"password\":\"wrong-password-123\"}", &b), 0);
	assert_int_equal(a.status, 401);
	assert_int_equal(b.status, 401);
	assert_string_equal(json_string_value(json_object_get(a.json, "detail")),
	    json_string_value(json_object_get(b.json, "detail")));
	it_resp_free(&a);
	it_resp_free(&b);
	assert_int_equal(it_status("POST", "/api/v1/auth/login", NULL, "{\"username\":1}"), 422);
	assert_int_equal(it_status("POST", "/api/v1/auth/login", NULL,
	    "{\"username\":\"a\",\"password\":\"b\",\"x\":1}"), 422);
}

static void
t_rbac_matrix(void **state)
{
	char vn[96], dn[96], vt[4096], dt[4096];
	long long vid, did;

	(void)state;
	mkuser("rbac-v", "viewer", vn, sizeof(vn), &vid);
	mkuser("rbac-d", "developer", dn, sizeof(dn), &did);
	assert_int_equal(it_login(vn, PW, vt, sizeof(vt)), 0);
	assert_int_equal(it_login(dn, PW, dt, sizeof(dt)), 0);
	/* viewer: reads, cannot write */
	assert_int_equal(it_status("GET", "/api/v1/auth/me", vt, NULL), 200);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/write", vt, "{}"), 403);
	assert_int_equal(it_status("POST", "/api/v1/users", vt,
	    "{\"username\":\"x\",\"password\":\"xxxxxxxxxxxxxxx\",\"role\":\"viewer\"}"), 403);
	/* developer: writes, cannot approve, manage users, read audit, set secrets */
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/write", dt, "{}"), 200);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/approve", dt, "{}"), 403);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/secrets", dt, "{}"), 403);
	assert_int_equal(it_status("GET", "/api/v1/audit", dt, NULL), 403);
	assert_int_equal(it_status("GET", "/api/v1/audit/verify", dt, NULL), 403);
	assert_int_equal(it_status("GET", "/api/v1/users", dt, NULL), 403);
	/* admin: everything */
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/write", admin_tok, "{}"), 200);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/approve", admin_tok, "{}"), 200);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/secrets", admin_tok, "{}"), 200);
	assert_int_equal(it_status("GET", "/api/v1/audit", admin_tok, NULL), 200);
	assert_int_equal(it_status("GET", "/api/v1/users", admin_tok, NULL), 200);
}

static void
t_api_keys(void **state)
{
	char dn[96], dt[4096], key[128], path[64];
	struct it_resp r;
	long long did, kid;

	(void)state;
	mkuser_login("keys", "developer", dn, sizeof(dn), &did, dt, sizeof(dt));
	assert_int_equal(it_status("POST", "/api/v1/api-keys", dt,
	    "{\"name\":\"too high\",\"role\":\"admin\"}"), 403);
	assert_int_equal(it_json("POST", "/api/v1/api-keys", dt,
	    "{\"name\":\"ci\",\"role\":\"viewer\"}", &r), 0);
	assert_int_equal(r.status, 201);
	snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(r.json, "key")));
	kid = it_jint(r.json, "id");
	it_resp_free(&r);
	assert_true(strncmp(key, "tgk_", 4) == 0);
	assert_int_equal(it_get("GET", "/api/v1/auth/me", key, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "viewer");
	assert_string_equal(json_string_value(json_object_get(r.json, "auth")), "api_key");
	it_resp_free(&r);
	assert_int_equal(it_status("POST", "/api/v1/_test/perm/write", key, "{}"), 403);
	/* listed without the secret, with last_used_at */
	assert_int_equal(it_get("GET", "/api/v1/api-keys", dt, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	assert_null(strstr(r.body, key));
	assert_true(json_is_string(json_object_get(json_array_get(json_object_get(r.json,
	    "items"), 0), "last_used_at")));
	it_resp_free(&r);
	/* a wrong secret with a real handle */
	{
		char forged[128];
		snprintf(forged, sizeof(forged), "%s", key);
		forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B' : 'A';
		expect_401(forged, "API key with a wrong secret");
	}
	snprintf(path, sizeof(path), "/api/v1/api-keys/%lld", kid);
	assert_int_equal(it_status("DELETE", path, dt, NULL), 204);
	expect_401(key, "revoked API key");
}

/* Limit lowered through the settings row; N+1 concurrent requests from one
 * user: exactly N pass, whichever worker serves them. */
static void
t_rate_limit_shared(void **state)
{
	enum { LIMIT = 6, N = 12 };
	char vn[96], vt[4096], out[256], saved[512];
	long st[N];
	int i, ok = 0, limited = 0;
	long long vid;
	struct it_resp r;
	const char *v;

	(void)state;
	mkuser_login("ratelimit", "viewer", vn, sizeof(vn), &vid, vt, sizeof(vt));
	/* Keep the stack's own limits (tests/run.sh raises them) for later. */
	it_rate_limit_set("viewer", LIMIT, saved, sizeof(saved));
	/* N concurrent requests */
	it_burst("GET", "/api/v1/auth/me", vt, NULL, NULL, N, st);
	for (i = 0; i < N; i++) {
		if (st[i] == 200)
			ok++;
		else if (st[i] == 429)
			limited++;
	}
	/* N+1-th (and later) request: 429 with the headers (should a window
	 * boundary have passed meanwhile, within the next LIMIT + 1) */
	for (i = 0; i <= LIMIT; i++) {
		assert_int_equal(it_get("GET", "/api/v1/auth/me", vt, &r), 0);
		if (r.status == 429)
			break;
		assert_int_equal(r.status, 200);
		it_resp_free(&r);
	}
	assert_int_equal(r.status, 429);
	assert_non_null(it_header(&r, "Retry-After"));
	v = it_header(&r, "RateLimit-Limit");
	assert_non_null(v);
	assert_int_equal(atoi(v), LIMIT);
	v = it_header(&r, "RateLimit-Remaining");
	assert_non_null(v);
	assert_string_equal(v, "0");
	assert_non_null(it_header(&r, "RateLimit-Reset"));
	it_resp_free(&r);
	/* the count lives in PostgreSQL: every request of every worker */
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT sum(hits) FROM"
	    " rate_limits WHERE bucket = 'u:%lld'\"", vid), 0);
	it_rate_limit_restore(saved);
	/* A window boundary can split the burst; then the first window's share
	 * passed and the rest hit a fresh window. Both prove the shared count. */
	if (!(ok == LIMIT && limited == N - LIMIT) && !(ok > LIMIT && ok <= 2 * LIMIT))
		fail_msg("ok=%d limited=%d (limit %d, %d concurrent)", ok, limited, LIMIT, N);
	assert_true(atoll(out) >= N + 1);
}

static void
t_audit_append_only(void **state)
{
	char out[512], id[32], orig[128];
	struct it_resp r;
	json_t *items;
	const char *cur;

	(void)state;
	/* the application role cannot UPDATE, DELETE or TRUNCATE */
	assert_int_not_equal(it_sh("psql -X -q -c \"SET ROLE toolgate_app;"
	    " UPDATE audit_log SET outcome = 'x' WHERE id = (SELECT min(id) FROM audit_log)\""
	    " >/dev/null 2>&1"), 0);
	assert_int_not_equal(it_sh("psql -X -q -c \"SET ROLE toolgate_app;"
	    " DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)\" >/dev/null 2>&1"), 0);
	assert_int_not_equal(it_sh("psql -X -q -c \"SET ROLE toolgate_app; TRUNCATE audit_log\""
	    " >/dev/null 2>&1"), 0);
	assert_int_equal(it_sh("psql -X -q -c \"SET ROLE toolgate_app;"
	    " SELECT count(*) FROM audit_log\" >/dev/null 2>&1"), 0);
	/* chain intact */
	assert_int_equal(it_get("GET", "/api/v1/audit/verify", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	if (!json_is_true(json_object_get(r.json, "ok")))
		fail_msg("chain not ok before tampering: %s", r.body);
	it_resp_free(&r);
	/* a superuser alters one row: reported */
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -F ' ' -c \"SELECT id, outcome"
	    " FROM audit_log WHERE action = 'auth.login' ORDER BY id LIMIT 1\""), 0);
	assert_int_equal(sscanf(out, "%31s %127s", id, orig), 2);
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE audit_log SET outcome = 'tampered'"
	    " WHERE id = %s\" >/dev/null", id), 0);
	assert_int_equal(it_get("GET", "/api/v1/audit/verify", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(json_is_false(json_object_get(r.json, "ok")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r.json,
	    "problems"), 0), "id")), atoll(id));
	it_resp_free(&r);
	/* put it back: the chain verifies again */
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE audit_log SET outcome = '%s'"
	    " WHERE id = %s\" >/dev/null", orig, id), 0);
	assert_int_equal(it_get("GET", "/api/v1/audit/verify", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "ok")));
	it_resp_free(&r);
	/* listing: filters and pagination */
	assert_int_equal(it_get("GET", "/api/v1/audit?action=auth.login&limit=2", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "action")),
	    "auth.login");
	cur = json_string_value(json_object_get(r.json, "next_cursor"));
	assert_non_null(cur);
	{
		char path[128];
		struct it_resp r2;
		snprintf(path, sizeof(path), "/api/v1/audit?action=auth.login&limit=2&cursor=%s", cur);
		long long next;

		assert_int_equal(it_get("GET", path, admin_tok, &r2), 0);
		assert_int_equal(r2.status, 200);
		/* the next page: older rows (an empty page or a row without an
		 * id would pass a bare comparison) */
		next = it_jint(json_array_get(json_object_get(r2.json, "items"), 0), "id");
		assert_true(next > 0);
		assert_true(next < atoll(cur) + 1);
		it_resp_free(&r2);
	}
	it_resp_free(&r);
	assert_int_equal(it_status("GET", "/api/v1/audit?since=not-a-date-ish", admin_tok, NULL), 422);
	assert_int_equal(it_status("GET", "/api/v1/audit?limit=0", admin_tok, NULL), 400);
}

static void
t_users_admin(void **state)
{
	char name[96], path[64];
	struct it_resp r;
	long long id;

	(void)state;
	mkuser("crud", "viewer", name, sizeof(name), &id);
	snprintf(path, sizeof(path), "/api/v1/users/%lld", id);
	assert_int_equal(it_get("GET", path, admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(json_object_get(r.json, "password_hash"));
	it_resp_free(&r);
	assert_int_equal(it_status("PATCH", path, admin_tok, "{\"role\":\"root\"}"), 422);
	assert_int_equal(it_status("PATCH", path, admin_tok, "{\"password\":\"short\"}"), 422);
	assert_int_equal(it_status("PATCH", path, admin_tok, "{\"role\":\"developer\"}"), 200);
	assert_int_equal(it_user_create(admin_tok, name, PW, "viewer"), -1); /* 409 */
	assert_int_equal(it_status("DELETE", path, admin_tok, NULL), 204);
	assert_int_equal(it_status("GET", path, admin_tok, NULL), 404);
	/* the last-admin rule (no demoting, disabling or deleting the last
	 * enabled admin) is tested unconditionally, through REST and the CLI,
	 * by test_users.c t_last_admin_everywhere */
}

/* A request's problem: status, detail (when given) and the first field
 * error's name (when given). */
static void
expect_problem(const char *method, const char *path, const char *token,
    const char *body, long status, const char *detail, const char *field)
{
	struct it_resp r;
	json_t *e;

	if (body)
		assert_int_equal(it_json(method, path, token, body, &r), 0);
	else
		assert_int_equal(it_get(method, path, token, &r), 0);
	if (r.status != status)
		fail_msg("%s %s: expected %ld, got %ld %s", method, path, status, r.status, r.body);
	assert_non_null(r.json);
	if (detail != NULL)
		assert_string_equal(json_string_value(json_object_get(r.json, "detail")), detail);
	if (field != NULL) {
		e = json_array_get(json_object_get(r.json, "errors"), 0);
		assert_string_equal(json_string_value(json_object_get(e, "field")), field);
	}
	if (status == 401)
		assert_non_null(it_header(&r, "WWW-Authenticate"));
	it_resp_free(&r);
}

/*
 * The REST contract of the session service (lib/sessions.c) and the audit
 * query (lib/audit_query.c): statuses, problem details, field errors and
 * headers as the handlers rendered them before the move, the order of the
 * checks included (an API key's logout is a 400 whatever its body).
 */
static void
t_session_contract(void **state)
{
	char name[96], tok[4096], rt[256], rt2[256], rt3[256], key[128], body[4300], path[256];
	struct it_resp r;
	json_t *it;
	long long id;

	(void)state;
	mkuser("contract", "developer", name, sizeof(name), &id);
	assert_int_equal(it_login_full(name, PW, tok, sizeof(tok), rt, sizeof(rt)), 0);
	/* login */
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-password-1\"}",
	    name);
	expect_problem("POST", "/api/v1/auth/login", NULL, body, 401,
	    "invalid username or password", NULL);
	expect_problem("POST", "/api/v1/auth/login", NULL,
	    "{\"username\":\"a\",\"password\":\"b\",\"extra\":1}", 422, NULL, "body");
	/* the audit query: the failed login is the newest auth.login of name */
	snprintf(path, sizeof(path), "/api/v1/audit?action=auth.login&target=%s&limit=1", name);
	assert_int_equal(it_get("GET", path, admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	it = json_array_get(json_object_get(r.json, "items"), 0);
	assert_string_equal(json_string_value(json_object_get(it, "outcome")), "failed");
	assert_string_equal(json_string_value(json_object_get(it, "actor")), "-");
	assert_string_equal(json_string_value(json_object_get(json_object_get(it, "detail"),
	    "username")), name);
	assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
	it_resp_free(&r);
	expect_problem("GET", "/api/v1/audit?since=not-a-date", admin_tok, NULL, 422,
	    "since/until: not an ISO 8601 timestamp", "since/until");
	expect_problem("GET", "/api/v1/audit", tok, NULL, 403, NULL, NULL);
	/* logout: an API key's is a 400 before its body is looked at */
	assert_int_equal(it_json("POST", "/api/v1/api-keys", tok, "{\"name\":\"contract\"}", &r), 0);
	assert_int_equal(r.status, 201);
	snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(r.json, "key")));
	it_resp_free(&r);
	expect_problem("POST", "/api/v1/auth/logout", key, "{\"bogus\":1}", 400,
	    "logout ends a token session; revoke API keys with DELETE /api/v1/api-keys/{id}",
	    NULL);
	expect_problem("POST", "/api/v1/auth/logout", tok, "{\"bogus\":1}", 422, NULL, "body");
	expect_problem("POST", "/api/v1/auth/logout", tok, "{\"refresh_token\":\"nope\"}", 422,
	    "refresh_token: not a refresh token", "refresh_token");
	/* revoke */
	expect_problem("POST", "/api/v1/auth/revoke", tok,
	    "{\"token\":\"tgr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", 404,
	    "no such token", NULL);
	expect_problem("POST", "/api/v1/auth/revoke", tok, "{\"token\":\"tgr_x\"}", 422,
	    "token: not a valid refresh token", "token");
	/* revoke-all */
	expect_problem("POST", "/api/v1/auth/revoke-all", tok, "{\"user_id\":0}", 422,
	    "user_id: must be a positive integer", "user_id");
	snprintf(body, sizeof(body), "{\"user_id\":%lld}", admin_id);
	expect_problem("POST", "/api/v1/auth/revoke-all", tok, body, 403,
	    "only an admin may revoke another user's tokens", NULL);
	/* refresh: rotation twice, then reuse of the first token (its
	 * successor was used: no retry) kills the family */
	rotate(rt, name, NULL, rt2);
	rotate(rt2, name, NULL, rt3);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	expect_problem("POST", "/api/v1/auth/refresh", NULL, body, 401,
	    "refresh token already used: every token of this session was revoked", NULL);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt3);
	expect_problem("POST", "/api/v1/auth/refresh", NULL, body, 401,
	    "refresh token already used: every token of this session was revoked", NULL);
	/* a new password revokes (tokens_valid_after) the session of before */
	assert_int_equal(it_login_full(name, PW, tok, sizeof(tok), rt2, sizeof(rt2)), 0);
	snprintf(path, sizeof(path), "/api/v1/users/%lld", id);
	snprintf(body, sizeof(body), "{\"password\":\"%s\"}", PW);
	assert_int_equal(it_status("PATCH", path, admin_tok, body), 200);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt2);
	expect_problem("POST", "/api/v1/auth/refresh", NULL, body, 401,
	    "refresh token revoked", NULL);
	snprintf(path, sizeof(path), "/api/v1/audit?action=auth.refresh&target=%s", name);
	assert_int_equal(it_get("GET", path, admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	/* newest first: failed (revoked), reuse_detected twice, ok twice;
	 * all as the token's user */
	it = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(it), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 0), "outcome")),
	    "failed");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(it, 0), "detail"), "reason")), "refresh token revoked");
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 1), "outcome")),
	    "reuse_detected");
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 2), "outcome")),
	    "reuse_detected");
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 3), "outcome")),
	    "ok");
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 4), "outcome")),
	    "ok");
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(json_string_value(json_object_get(json_array_get(it, i),
		    "actor")), name);
		assert_string_equal(json_string_value(json_object_get(json_array_get(it, i),
		    "role")), "developer");
	}
	it_resp_free(&r);
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "identity", group_setup, NULL,
    t_missing_and_garbage_headers, t_forged_tokens, t_logout_then_reuse,
    t_refresh_rotation_and_reuse, t_revoke_and_revoke_all, t_disabled_user,
    t_login_does_not_tell, t_rbac_matrix, t_api_keys, t_rate_limit_shared,
    t_audit_append_only, t_users_admin, t_session_contract)
