/*
 * test_auth.c - lib/auth.c and lib/crypto.c: the JWT verification routine
 * against every forgery docs/security.md "Access tokens" lists, Argon2id hashing, API key and
 * refresh token formats, base64url.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/unit/unit.h"
#include "lib/auth.h"
#include "lib/crypto.h"
#include "lib/status.h"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef-test-key";
#define KEYLEN (sizeof(KEY) - 1)
static const unsigned char OTHER[] = "fedcba9876543210fedcba9876543210-other-key";
#define ISS "toolgate"
#define NOW ((int64_t)1800000000)
#define JTI "0123456789abcdef0123456789abcdef"

/* Builds header.payload.signature with HMAC md (NULL: no signature). */
static char *
mk(const char *hdr, const char *pay, const unsigned char *key, size_t klen,
    const EVP_MD *md)
{
	static char tok[3 * 8192];
	char h[4096], p[4096], s[256];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t n;

	assert_int_equal(tg_crypto_b64url_encode((const unsigned char *)hdr,
	    strlen(hdr), h, sizeof(h), NULL), 0);
	assert_int_equal(tg_crypto_b64url_encode((const unsigned char *)pay,
	    strlen(pay), p, sizeof(p), NULL), 0);
	snprintf(tok, sizeof(tok), "%s.%s", h, p);
	s[0] = '\0';
	if (md != NULL) {
		assert_non_null(HMAC(md, key, (int)klen, (unsigned char *)tok,
		    strlen(tok), mac, &maclen));
		assert_int_equal(tg_crypto_b64url_encode(mac, maclen, s, sizeof(s), NULL), 0);
	}
	n = strlen(tok);
	snprintf(tok + n, sizeof(tok) - n, ".%s", s);
	return tok;
}

static char *
payload(const char *fmt_extra, int64_t iat, int64_t exp, const char *iss,
    const char *role)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "{\"sub\":\"7\",\"role\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"" JTI
	    "\",\"iss\":\"%s\"%s}", role, (long long)iat, (long long)exp, iss,
	    fmt_extra ? fmt_extra : "");
	return buf;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static int
verify(const char *tok, const char **why)
{
	struct tg_claims c;

	return tg_auth_jwt_verify(KEY, KEYLEN, ISS, tok, strlen(tok), NOW, &c, why);
}

static void
expect_reject(const char *tok)
{
	const char *why = NULL;

	assert_int_equal(verify(tok, &why), -TG_E_UNAUTH);
	assert_non_null(why);
}

static void
t_roundtrip(void **state)
{
	char tok[TG_JWT_MAX_LEN + 1];
	struct tg_claims a, b;
	const char *why = "x";

	(void)state;
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 42, TG_ROLE_DEVELOPER,
	    NOW, TG_JWT_ACCESS_TTL, tok, sizeof(tok), &a), 0);
	assert_int_equal(tg_auth_jwt_verify(KEY, KEYLEN, ISS, tok, strlen(tok), NOW + 10,
	    &b, &why), 0);
	assert_null(why);
	assert_int_equal(b.user_id, 42);
	assert_int_equal(b.role, TG_ROLE_DEVELOPER);
	assert_int_equal(b.iat, NOW);
	assert_int_equal(b.exp, NOW + TG_JWT_ACCESS_TTL);
	assert_string_equal(a.jti, b.jti);
	assert_int_equal(strlen(b.jti), TG_JTI_LEN);
	/* A hand-built valid token passes too (the forgeries below differ in one way). */
	assert_int_equal(verify(mk(HS256, payload(NULL, NOW, NOW + 900, ISS, "admin"),
	    KEY, KEYLEN, EVP_sha256()), NULL), 0);
	assert_int_equal(verify(mk("{\"alg\":\"HS256\"}", payload(NULL, NOW, NOW + 900, ISS,
	    "viewer"), KEY, KEYLEN, EVP_sha256()), NULL), 0);
}

static void
t_issue_refuses_bad_input(void **state)
{
	char tok[TG_JWT_MAX_LEN + 1];

	(void)state;
	/* A short key, no role, no user: refused as a caller's bug; no room
	 * for the token: too large. */
	assert_int_equal(tg_auth_jwt_issue(KEY, 16, ISS, 1, TG_ROLE_ADMIN, NOW, 900,
	    tok, sizeof(tok), NULL), -TG_E_INTERNAL);
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 1, TG_ROLE_NONE, NOW, 900,
	    tok, sizeof(tok), NULL), -TG_E_INTERNAL);
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 0, TG_ROLE_ADMIN, NOW, 900,
	    tok, sizeof(tok), NULL), -TG_E_INTERNAL);
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 1, TG_ROLE_ADMIN, NOW, 900,
	    tok, 10, NULL), -TG_E_TOOLARGE);
}

static void
t_alg_none(void **state)
{
	const char *pay = payload(NULL, NOW, NOW + 900, ISS, "admin");

	(void)state;
	expect_reject(mk("{\"alg\":\"none\",\"typ\":\"JWT\"}", pay, KEY, KEYLEN, NULL));
	expect_reject(mk("{\"alg\":\"none\"}", pay, KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk("{\"alg\":\"NoNe\"}", pay, KEY, KEYLEN, NULL));
	/* header without alg */
	expect_reject(mk("{\"typ\":\"JWT\"}", pay, KEY, KEYLEN, EVP_sha256()));
}

static void
t_other_hmacs(void **state)
{
	const char *pay = payload(NULL, NOW, NOW + 900, ISS, "admin");

	(void)state;
	expect_reject(mk("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", pay, KEY, KEYLEN, EVP_sha512()));
	expect_reject(mk("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", pay, KEY, KEYLEN, EVP_sha384()));
	/* claims HS256 but signed with HS512 */
	expect_reject(mk(HS256, pay, KEY, KEYLEN, EVP_sha512()));
	expect_reject(mk("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pay, KEY, KEYLEN, EVP_sha256()));
}

static void
t_lower_case_alg(void **state)
{
	(void)state;
	expect_reject(mk("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload(NULL, NOW,
	    NOW + 900, ISS, "admin"), KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", payload(NULL, NOW,
	    NOW + 900, ISS, "admin"), KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x\"}", payload(NULL,
	    NOW, NOW + 900, ISS, "admin"), KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", payload(NULL, NOW,
	    NOW + 900, ISS, "admin"), KEY, KEYLEN, EVP_sha256()));
}

static void
t_wrong_key(void **state)
{
	char tok[TG_JWT_MAX_LEN + 1];
	struct tg_claims c;

	(void)state;
	expect_reject(mk(HS256, payload(NULL, NOW, NOW + 900, ISS, "admin"), OTHER,
	    sizeof(OTHER) - 1, EVP_sha256()));
	/* The verifier refuses to run with a short/empty/NULL key (libjwt would
	 * then skip the signature check). */
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 1, TG_ROLE_ADMIN, NOW, 900,
	    tok, sizeof(tok), NULL), 0);
	assert_int_equal(tg_auth_jwt_verify(KEY, 0, ISS, tok, strlen(tok), NOW, &c, NULL),
	    -TG_E_UNAUTH);
	assert_int_equal(tg_auth_jwt_verify(NULL, 0, ISS, tok, strlen(tok), NOW, &c, NULL),
	    -TG_E_UNAUTH);
	assert_int_equal(tg_auth_jwt_verify(KEY, 31, ISS, tok, strlen(tok), NOW, &c, NULL),
	    -TG_E_UNAUTH);
}

static void
t_expired_and_future(void **state)
{
	const char *why = NULL;

	(void)state;
	expect_reject(mk(HS256, payload(NULL, NOW - 2000, NOW - 1100, ISS, "admin"), KEY,
	    KEYLEN, EVP_sha256()));
	assert_int_equal(verify(mk(HS256, payload(NULL, NOW - 2000, NOW - 1100, ISS, "admin"),
	    KEY, KEYLEN, EVP_sha256()), &why), -TG_E_UNAUTH);
	assert_string_equal(why, "token expired");
	/* within leeway: accepted */
	assert_int_equal(verify(mk(HS256, payload(NULL, NOW - 900, NOW - 5, ISS, "admin"),
	    KEY, KEYLEN, EVP_sha256()), NULL), 0);
	/* iat in the future beyond the leeway */
	assert_int_equal(verify(mk(HS256, payload(NULL, NOW + 3600, NOW + 4000, ISS, "admin"),
	    KEY, KEYLEN, EVP_sha256()), &why), -TG_E_UNAUTH);
	assert_string_equal(why, "token issued in the future");
	/* exp before iat, and absurd lifetimes */
	expect_reject(mk(HS256, payload(NULL, NOW, NOW - 10, ISS, "admin"), KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, payload(NULL, NOW, NOW + 10LL * 86400, ISS, "admin"), KEY,
	    KEYLEN, EVP_sha256()));
}

static void
t_wrong_issuer(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(verify(mk(HS256, payload(NULL, NOW, NOW + 900, "evil", "admin"),
	    KEY, KEYLEN, EVP_sha256()), &why), -TG_E_UNAUTH);
	assert_string_equal(why, "wrong issuer");
}

static void
t_tampered(void **state)
{
	char good[4096], *dot1, *dot2, forged[8192], p2[4096], pay[2048];

	(void)state;
	snprintf(pay, sizeof(pay), "%s", payload(NULL, NOW, NOW + 900, ISS, "admin"));
	snprintf(good, sizeof(good), "%s", mk(HS256, payload(NULL, NOW, NOW + 900, ISS,
	    "viewer"), KEY, KEYLEN, EVP_sha256()));
	assert_int_equal(verify(good, NULL), 0);
	/* Swap the payload for an admin one, keep the viewer token's signature. */
	assert_int_equal(tg_crypto_b64url_encode((const unsigned char *)pay, strlen(pay), p2,
	    sizeof(p2), NULL), 0);
	dot1 = strchr(good, '.');
	dot2 = strchr(dot1 + 1, '.');
	*dot1 = '\0';
	snprintf(forged, sizeof(forged), "%s.%s%s", good, p2, dot2);
	expect_reject(forged);
	/* Flip one signature character. */
	*dot1 = '.';
	good[strlen(good) - 2] = good[strlen(good) - 2] == 'A' ? 'B' : 'A';
	expect_reject(good);
}

static void
t_claims(void **state)
{
	char pay[1024];

	(void)state;
	/* missing exp */
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN, EVP_sha256()));
	/* missing jti / sub / role */
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":1800000900,\"iss\":\"toolgate\"}", KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, "{\"role\":\"admin\",\"iat\":1800000000,\"exp\":1800000900,"
	    "\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"iat\":1800000000,\"exp\":1800000900,"
	    "\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN, EVP_sha256()));
	/* exp as a string, as a real; sub as an integer; bad role; bad jti */
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":\"1800000900\",\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":1.8000009e9,\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, "{\"sub\":7,\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":1800000900,\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, payload(NULL, NOW, NOW + 900, ISS, "root"), KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, payload(NULL, NOW, NOW + 900, ISS, "Admin"), KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, payload(NULL, NOW, NOW + 900, ISS, ""), KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, "{\"sub\":\"-1\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":1800000900,\"jti\":\"" JTI "\",\"iss\":\"toolgate\"}", KEY, KEYLEN,
	    EVP_sha256()));
	expect_reject(mk(HS256, "{\"sub\":\"7\",\"role\":\"admin\",\"iat\":1800000000,"
	    "\"exp\":1800000900,\"jti\":\"short\",\"iss\":\"toolgate\"}", KEY, KEYLEN,
	    EVP_sha256()));
	/* an extra claim, a duplicate claim, a payload that is an array */
	expect_reject(mk(HS256, payload(",\"admin\":true", NOW, NOW + 900, ISS, "viewer"), KEY,
	    KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, payload(",\"role\":\"admin\"", NOW, NOW + 900, ISS, "viewer"),
	    KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, "[1,2,3]", KEY, KEYLEN, EVP_sha256()));
	snprintf(pay, sizeof(pay), "%s", "{}");
	expect_reject(mk(HS256, pay, KEY, KEYLEN, EVP_sha256()));
}

static void
t_garbage(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.", "a.b.c.d", "abc def.x.y",
		"eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJIUzI1NiJ9..sig",
		"!!!.@@@.###", "eyJ=.eyJ=.abc=", "Bearer x.y.z",
		NULL,
	};
	int i;

	(void)state;
	for (i = 0; bad[i]; i++)
		expect_reject(bad[i]);
}

static void
t_huge(void **state)
{
	char *big = malloc(100000);
	char *ex;
	size_t n;

	(void)state;
	assert_non_null(big);
	/* A valid token padded with a giant claim value. */
	ex = malloc(70000);
	assert_non_null(ex);
	memcpy(ex, ",\"x\":\"", 6);
	memset(ex + 6, 'a', 60000);
	memcpy(ex + 60006, "\"", 2);
	n = (size_t)snprintf(big, 100000, "%s", mk(HS256, payload(ex, NOW, NOW + 900, ISS,
	    "admin"), KEY, KEYLEN, EVP_sha256()));
	assert_true(n > TG_JWT_MAX_LEN);
	expect_reject(big);
	free(ex);
	free(big);
}

static void
t_password(void **state)
{
	char h[TG_PWHASH_MAX], h2[TG_PWHASH_MAX];
	const char *pw = "correct horse battery staple";

	(void)state;
	assert_int_equal(tg_auth_pw_hash(pw, strlen(pw), h, sizeof(h)), 0);
	assert_true(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	assert_int_equal(tg_auth_pw_verify(h, pw, strlen(pw)), 0);
	assert_int_equal(tg_auth_pw_verify(h, "correct horse battery stapler", 29), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_pw_verify(h, "", 0), -TG_E_UNAUTH);
	/* salted: same password, different encoding */
	assert_int_equal(tg_auth_pw_hash(pw, strlen(pw), h2, sizeof(h2)), 0);
	assert_string_not_equal(h, h2);
	/* length rules */
	assert_int_equal(tg_auth_pw_hash("short", 5, h2, sizeof(h2)), -TG_E_UNPROCESSABLE);
	/* non-argon2id encodings are never accepted */
	assert_int_equal(tg_auth_pw_verify("$argon2i$v=19$m=19456,t=2,p=1$YWJj$YWJj", pw,
	    strlen(pw)), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_pw_verify("plaintext", "plaintext", 9), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_pw_verify(NULL, pw, strlen(pw)), -TG_E_UNAUTH);
	tg_auth_pw_dummy(pw, strlen(pw));
}

static void
t_apikey(void **state)
{
	char key[TG_APIKEY_LEN + 1], handle[TG_APIKEY_HANDLE_LEN + 1], hash[65];
	char h2[TG_APIKEY_HANDLE_LEN + 1], hash2[65], bad[TG_APIKEY_LEN + 2];
	char key2[TG_APIKEY_LEN + 1], handle3[TG_APIKEY_HANDLE_LEN + 1], hash3[65];
	size_t i;

	(void)state;
	assert_int_equal(tg_auth_apikey_new(key, sizeof(key), handle, sizeof(handle), hash,
	    sizeof(hash)), 0);
	assert_int_equal(strlen(key), TG_APIKEY_LEN);
	assert_true(strncmp(key, "tgk_", 4) == 0);
	for (i = 4; i < TG_APIKEY_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", key[i]));
	assert_int_equal(strlen(handle), TG_APIKEY_HANDLE_LEN);
	assert_memory_equal(handle, key + 4, TG_APIKEY_HANDLE_LEN);
	assert_int_equal(strlen(hash), 64);
	assert_int_equal(tg_auth_apikey_parse(key, strlen(key), h2, sizeof(h2), hash2,
	    sizeof(hash2)), 0);
	assert_string_equal(handle, h2);
	assert_true(tg_crypto_equal(hash, hash2, 64));
	assert_int_equal(tg_auth_apikey_new(key2, sizeof(key2), handle3, sizeof(handle3), hash3,
	    sizeof(hash3)), 0);
	assert_string_not_equal(key, key2);
	assert_false(tg_crypto_equal(hash, hash3, 64));
	/* format violations */
	snprintf(bad, sizeof(bad), "tgx_%s", key + 4);
	assert_int_equal(tg_auth_apikey_parse(bad, strlen(bad), h2, sizeof(h2), hash2,
	    sizeof(hash2)), -TG_E_UNAUTH);
	snprintf(bad, sizeof(bad), "%s", key);
	bad[10] = '=';
	assert_int_equal(tg_auth_apikey_parse(bad, strlen(bad), h2, sizeof(h2), hash2,
	    sizeof(hash2)), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_apikey_parse(key, strlen(key) - 1, h2, sizeof(h2), hash2,
	    sizeof(hash2)), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_apikey_parse("tgk_", 4, h2, sizeof(h2), hash2,
	    sizeof(hash2)), -TG_E_UNAUTH);
	/* refresh tokens are not API keys and vice versa */
	assert_int_equal(tg_auth_refresh_new(bad, sizeof(bad), hash2, sizeof(hash2)), 0);
	assert_true(strncmp(bad, "tgr_", 4) == 0);
	assert_int_equal(tg_auth_refresh_hash(bad, strlen(bad), hash3, sizeof(hash3)), 0);
	assert_string_equal(hash2, hash3);
	assert_int_equal(tg_auth_apikey_parse(bad, strlen(bad), h2, sizeof(h2), hash2,
	    sizeof(hash2)), -TG_E_UNAUTH);
	assert_int_equal(tg_auth_refresh_hash(key, strlen(key), hash3, sizeof(hash3)),
	    -TG_E_UNAUTH);
}

static void
t_crypto(void **state)
{
	unsigned char in[64], out[64];
	char enc[128], hex[65];
	size_t n, m, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		assert_int_equal(tg_crypto_b64url_encode(in, n, enc, sizeof(enc), &m), 0);
		assert_int_equal(m, strlen(enc));
		assert_null(strchr(enc, '='));
		assert_int_equal(tg_crypto_b64url_decode(enc, m, out, sizeof(out), &m), 0);
		assert_int_equal(m, n);
		assert_memory_equal(in, out, n);
	}
	assert_int_equal(tg_crypto_b64url_decode("a", 1, out, sizeof(out), &m), -TG_E_BADREQ);
	assert_int_equal(tg_crypto_b64url_decode("ab+/", 4, out, sizeof(out), &m), -TG_E_BADREQ);
	assert_int_equal(tg_crypto_b64url_decode("QR", 2, out, sizeof(out), &m), -TG_E_BADREQ);
	assert_int_equal(tg_crypto_b64url_decode("QQ", 2, out, sizeof(out), &m), 0);
	assert_int_equal(tg_crypto_b64url_encode(in, 10, enc, 5, NULL), -TG_E_TOOLARGE);
	assert_int_equal(tg_crypto_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(tg_crypto_equal("abcd", "abcd", 4));
	assert_false(tg_crypto_equal("abcd", "abce", 4));
	assert_int_equal(tg_crypto_random(in, sizeof(in)), 0);
	tg_crypto_wipe(in, sizeof(in));
	for (i = 0; i < sizeof(in); i++)
		assert_int_equal(in[i], 0);
	tg_crypto_wipe(NULL, 10);
}

/* OAuth access tokens (lib/oauth.h): aud and cid round-trip, both or
 * neither; console tokens carry neither. */
static void
t_audience(void **state)
{
	char tok[TG_JWT_MAX_LEN + 1];
	struct tg_claims c;

	(void)state;
	assert_int_equal(tg_auth_jwt_issue_aud(KEY, KEYLEN, ISS, 9, TG_ROLE_VIEWER, NOW, 900,
	    "https://tg.example/mcp", "tgc_abc", tok, sizeof(tok), NULL), 0);
	assert_int_equal(tg_auth_jwt_verify(KEY, KEYLEN, ISS, tok, strlen(tok), NOW, &c, NULL), 0);
	assert_string_equal(c.aud, "https://tg.example/mcp");
	assert_string_equal(c.cid, "tgc_abc");
	assert_int_equal(c.role, TG_ROLE_VIEWER);
	assert_int_equal(tg_auth_jwt_issue(KEY, KEYLEN, ISS, 9, TG_ROLE_VIEWER, NOW, 900, tok,
	    sizeof(tok), NULL), 0);
	assert_int_equal(tg_auth_jwt_verify(KEY, KEYLEN, ISS, tok, strlen(tok), NOW, &c, NULL), 0);
	assert_string_equal(c.aud, "");
	assert_string_equal(c.cid, "");
	/* one without the other, empty, or not a string: refused */
	assert_int_equal(tg_auth_jwt_issue_aud(KEY, KEYLEN, ISS, 9, TG_ROLE_VIEWER, NOW, 900,
	    "https://tg.example/mcp", NULL, tok, sizeof(tok), NULL), -TG_E_INTERNAL);
	expect_reject(mk(HS256, payload(",\"aud\":\"https://tg.example/mcp\"", NOW, NOW + 900,
	    ISS, "viewer"), KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, payload(",\"cid\":\"tgc_abc\"", NOW, NOW + 900, ISS, "viewer"),
	    KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, payload(",\"aud\":\"\",\"cid\":\"x\"", NOW, NOW + 900, ISS,
	    "viewer"), KEY, KEYLEN, EVP_sha256()));
	expect_reject(mk(HS256, payload(",\"aud\":[\"a\"],\"cid\":\"x\"", NOW, NOW + 900, ISS,
	    "viewer"), KEY, KEYLEN, EVP_sha256()));
}

static void
t_roles(void **state)
{
	(void)state;
	assert_int_equal(tg_role_parse("admin"), TG_ROLE_ADMIN);
	assert_int_equal(tg_role_parse("developer"), TG_ROLE_DEVELOPER);
	assert_int_equal(tg_role_parse("viewer"), TG_ROLE_VIEWER);
	assert_int_equal(tg_role_parse("ADMIN"), TG_ROLE_NONE);
	assert_int_equal(tg_role_parse(NULL), TG_ROLE_NONE);
	assert_null(tg_role_name(TG_ROLE_NONE));
	assert_string_equal(tg_role_name(TG_ROLE_VIEWER), "viewer");
}

TG_TEST_MAIN("auth", NULL, NULL, t_roundtrip, t_issue_refuses_bad_input,
    t_alg_none, t_other_hmacs, t_lower_case_alg, t_wrong_key,
    t_expired_and_future, t_wrong_issuer, t_tampered, t_claims, t_garbage,
    t_huge, t_password, t_apikey, t_crypto, t_roles, t_audience)
