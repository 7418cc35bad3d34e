/*
 * auth.c - JWT issue/verify, Argon2id passwords, API keys, refresh tokens.
 *
 * libjwt 1.10.2 is used only for what it does right (HMAC signing and the
 * constant-time signature check); everything it does wrong (docs/security.md "Access tokens":
 * NULL/empty keys, any HS* algorithm, case-insensitive alg names, duplicate
 * claims, no claim validation, -1/0 for missing or odd-typed claims) is
 * closed here: we parse the header and the payload ourselves, strictly, and
 * pin HS256 both before and after jwt_decode.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <jansson.h>
#include <jwt.h>

#include "lib/auth.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/status.h"

enum tg_role
tg_role_parse(const char *s)
{
	if (s == NULL)
		return TG_ROLE_NONE;
	if (strcmp(s, "admin") == 0)
		return TG_ROLE_ADMIN;
	if (strcmp(s, "developer") == 0)
		return TG_ROLE_DEVELOPER;
	if (strcmp(s, "viewer") == 0)
		return TG_ROLE_VIEWER;
	return TG_ROLE_NONE;
}

const char *
tg_role_name(enum tg_role r)
{
	switch (r) {
	case TG_ROLE_ADMIN:
		return "admin";
	case TG_ROLE_DEVELOPER:
		return "developer";
	case TG_ROLE_VIEWER:
		return "viewer";
	case TG_ROLE_NONE:
		break;
	}
	return NULL;
}

int
tg_auth_random_hex32(char *out, size_t cap)
{
	unsigned char r[16];
	int rc;

	if ((rc = tg_crypto_random(r, sizeof(r))) != TG_OK)
		return rc;
	rc = tg_crypto_hex(r, sizeof(r), out, cap);
	tg_crypto_wipe(r, sizeof(r));
	return rc;
}

int
tg_auth_jwt_issue(const unsigned char *key, size_t key_len,
    const char *issuer, int64_t user_id, enum tg_role role, int64_t now,
    int64_t ttl, char *out, size_t cap, struct tg_claims *claims)
{
	return tg_auth_jwt_issue_aud(key, key_len, issuer, user_id, role, now,
	    ttl, NULL, NULL, out, cap, claims);
}

int
tg_auth_jwt_issue_aud(const unsigned char *key, size_t key_len,
    const char *issuer, int64_t user_id, enum tg_role role, int64_t now,
    int64_t ttl, const char *aud, const char *cid, char *out, size_t cap,
    struct tg_claims *claims)
{
	jwt_t *j = NULL;
	char *tok = NULL, sub[24], jti[TG_JTI_LEN + 1];
	const char *rname = tg_role_name(role);
	size_t n;
	int rc = -TG_E_INTERNAL;

	if (key == NULL || key_len < TG_SECRET_MIN || rname == NULL ||
	    user_id <= 0 || ttl <= 0 || ttl > TG_JWT_MAX_LIFETIME ||
	    (aud == NULL) != (cid == NULL) ||
	    (aud != NULL && (*aud == '\0' || strlen(aud) >= TG_AUD_MAX ||
	    *cid == '\0' || strlen(cid) >= TG_CID_MAX)))
		return -TG_E_INTERNAL;
	if ((rc = tg_auth_random_hex32(jti, sizeof(jti))) != TG_OK)
		return rc;
	rc = -TG_E_INTERNAL;
	snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
	if (jwt_new(&j) != 0 || j == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if (jwt_set_alg(j, JWT_ALG_HS256, key, (int)key_len) != 0 ||
	    jwt_add_grant(j, "sub", sub) != 0 ||
	    jwt_add_grant(j, "role", rname) != 0 ||
	    jwt_add_grant_int(j, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(j, "exp", (long)(now + ttl)) != 0 ||
	    jwt_add_grant(j, "jti", jti) != 0 ||
	    jwt_add_grant(j, "iss", issuer) != 0 ||
	    (aud != NULL && (jwt_add_grant(j, "aud", aud) != 0 ||
	    jwt_add_grant(j, "cid", cid) != 0))) {
		tg_log(TG_LOG_ERR, "auth.jwt_issue", "msg=\"cannot build token\"");
		goto out;
	}
	tok = jwt_encode_str(j);
	if (tok == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	n = strlen(tok);
	if (n >= cap || n > TG_JWT_MAX_LEN) {
		rc = -TG_E_TOOLARGE;
		goto out;
	}
	memcpy(out, tok, n + 1);
	if (claims) {
		claims->user_id = user_id;
		claims->role = role;
		claims->iat = now;
		claims->exp = now + ttl;
		memcpy(claims->jti, jti, sizeof(jti));
		snprintf(claims->aud, sizeof(claims->aud), "%s", aud ? aud : "");
		snprintf(claims->cid, sizeof(claims->cid), "%s", cid ? cid : "");
	}
	rc = TG_OK;
out:
	if (tok) {
		tg_crypto_wipe(tok, strlen(tok));
		free(tok);
	}
	jwt_free(j);
	return rc;
}

static int
is_b64url(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Decodes one segment and parses it as a JSON object (duplicates rejected). */
static int
segment_json(const char *s, size_t n, json_t **out)
{
	unsigned char buf[TG_JWT_MAX_LEN];
	size_t len = 0;
	json_error_t err;
	json_t *j;

	if (tg_crypto_b64url_decode(s, n, buf, sizeof(buf), &len) != TG_OK)
		return -TG_E_UNAUTH;
	j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return -TG_E_UNAUTH;
	}
	*out = j;
	return TG_OK;
}

static int
is_hex32(const char *s)
{
	size_t i;

	if (strlen(s) != TG_JTI_LEN)
		return 0;
	for (i = 0; i < TG_JTI_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
tg_auth_jwt_verify(const unsigned char *key, size_t key_len,
    const char *issuer, const char *token, size_t token_len, int64_t now,
    struct tg_claims *out, const char **why)
{
	char buf[TG_JWT_MAX_LEN + 1];
	const char *d1, *d2, *sub = NULL, *role = NULL, *jti = NULL, *iss = NULL;
	const char *alg = NULL, *typ = NULL, *reason = "malformed token";
	const char *aud = NULL, *cid = NULL;
	json_t *hdr = NULL, *pay = NULL;
	json_error_t jerr;
	json_int_t iat = 0, exp = 0;
	jwt_t *j = NULL;
	int64_t uid = 0;
	enum tg_role r;
	int rc = -TG_E_UNAUTH;

	/* Step 1: a short or missing key would switch verification off. */
	if (key == NULL || key_len < TG_SECRET_MIN) {
		reason = "server key too short";
		tg_log(TG_LOG_ERR, "auth.jwt_key", "msg=\"JWT key shorter than 32 bytes; refusing\"");
		goto out;
	}
	/* Step 2: length cap; exactly three non-empty base64url segments. */
	if (token == NULL || token_len == 0 || token_len > TG_JWT_MAX_LEN ||
	    memchr(token, '\0', token_len) != NULL) {
		reason = "token missing or too long";
		goto out;
	}
	memcpy(buf, token, token_len);
	buf[token_len] = '\0';
	d1 = strchr(buf, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL ||
	    !is_b64url(buf, (size_t)(d1 - buf)) ||
	    !is_b64url(d1 + 1, (size_t)(d2 - d1 - 1)) ||
	    !is_b64url(d2 + 1, strlen(d2 + 1)))
		goto out;
	/* The header, parsed by us: exactly HS256 (case-sensitive), typ JWT. */
	if (segment_json(buf, (size_t)(d1 - buf), &hdr) != TG_OK)
		goto out;
	if (json_unpack_ex(hdr, &jerr, JSON_STRICT, "{s:s, s?s}", "alg", &alg,
	    "typ", &typ) != 0 || strcmp(alg, "HS256") != 0 ||
	    (typ != NULL && strcmp(typ, "JWT") != 0)) {
		reason = "algorithm not accepted";
		goto out;
	}
	/* Step 3: signature, with a key that is never NULL or empty. */
	if (jwt_decode(&j, buf, key, (int)key_len) != 0 || j == NULL) {
		reason = "bad signature";
		goto out;
	}
	/* Step 4: pinned again after decode. */
	if (jwt_get_alg(j) != JWT_ALG_HS256) {
		reason = "algorithm not accepted";
		goto out;
	}
	/* Step 5: claims, from the signed payload, strictly typed. */
	if (segment_json(d1 + 1, (size_t)(d2 - d1 - 1), &pay) != TG_OK)
		goto out;
	if (json_unpack_ex(pay, &jerr, JSON_STRICT,
	    "{s:s, s:s, s:I, s:I, s:s, s:s, s?s, s?s}", "sub", &sub, "role", &role,
	    "iat", &iat, "exp", &exp, "jti", &jti, "iss", &iss, "aud", &aud,
	    "cid", &cid) != 0 || (aud == NULL) != (cid == NULL) ||
	    (aud != NULL && (*aud == '\0' || strlen(aud) >= TG_AUD_MAX ||
	    *cid == '\0' || strlen(cid) >= TG_CID_MAX))) {
		reason = "claims missing or mistyped";
		goto out;
	}
	if (strcmp(iss, issuer) != 0) {
		reason = "wrong issuer";
		goto out;
	}
	if (tg_parse_i64(sub, 1, INT64_MAX, &uid) != TG_OK) {
		reason = "bad subject";
		goto out;
	}
	if ((r = tg_role_parse(role)) == TG_ROLE_NONE) {
		reason = "bad role";
		goto out;
	}
	if (!is_hex32(jti)) {
		reason = "bad jti";
		goto out;
	}
	if (exp <= now - TG_JWT_LEEWAY) {
		reason = "token expired";
		goto out;
	}
	if (iat > now + TG_JWT_LEEWAY) {
		reason = "token issued in the future";
		goto out;
	}
	if (exp <= iat || exp - iat > TG_JWT_MAX_LIFETIME) {
		reason = "bad token lifetime";
		goto out;
	}
	out->user_id = uid;
	out->role = r;
	out->iat = (int64_t)iat;
	out->exp = (int64_t)exp;
	memcpy(out->jti, jti, TG_JTI_LEN + 1);
	snprintf(out->aud, sizeof(out->aud), "%s", aud ? aud : "");
	snprintf(out->cid, sizeof(out->cid), "%s", cid ? cid : "");
	rc = TG_OK;
	reason = NULL;
out:
	/* Step 6: free on every path. */
	jwt_free(j);
	json_decref(hdr);
	json_decref(pay);
	tg_crypto_wipe(buf, sizeof(buf));
	if (why)
		*why = reason;
	return rc;
}

int
tg_auth_pw_hash(const char *pw, size_t len, char *out, size_t cap)
{
	unsigned char salt[TG_ARGON2_SALT];
	char enc[TG_PWHASH_MAX];
	size_t need;
	int rc;

	if (len < TG_PASSWORD_MIN || len > TG_PASSWORD_MAX)
		return -TG_E_UNPROCESSABLE;
	need = argon2_encodedlen(TG_ARGON2_T, TG_ARGON2_M_KIB, TG_ARGON2_P,
	    TG_ARGON2_SALT, TG_ARGON2_HASH, Argon2_id);
	if (need > sizeof(enc) || need > cap)
		return -TG_E_TOOLARGE;
	if ((rc = tg_crypto_random(salt, sizeof(salt))) != TG_OK)
		return rc;
	rc = argon2id_hash_encoded(TG_ARGON2_T, TG_ARGON2_M_KIB, TG_ARGON2_P,
	    pw, len, salt, sizeof(salt), TG_ARGON2_HASH, enc, sizeof(enc));
	if (rc != ARGON2_OK) {
		tg_log(TG_LOG_ERR, "auth.argon2", "msg=%s",
		    tg_log_q(argon2_error_message(rc)));
		return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? -TG_E_NOMEM : -TG_E_INTERNAL;
	}
	memcpy(out, enc, strlen(enc) + 1);
	return TG_OK;
}

int
tg_auth_pw_verify(const char *encoded, const char *pw, size_t len)
{
	if (encoded == NULL || pw == NULL || len > TG_PASSWORD_MAX ||
	    strncmp(encoded, "$argon2id$", 10) != 0)
		return -TG_E_UNAUTH;
	return argon2id_verify(encoded, pw, len) == ARGON2_OK ? TG_OK : -TG_E_UNAUTH;
}

void
tg_auth_pw_dummy(const char *pw, size_t len)
{
	/* A real hash of a random password with the current parameters. */
	static const char dummy[] =
	    "$argon2id$v=19$m=19456,t=2,p=1$mNhAvfRDgNrU7wQgOAlm9g"
	    "$HynucqhWEi2d9sRPu1OkXAnNY/75q3B9TWGFgdb3+/g";

	(void)tg_auth_pw_verify(dummy, pw, len > TG_PASSWORD_MAX ? 0 : len);
}

static int
random_b64(const char *prefix, char *tok, size_t cap, char *hash_hex,
    size_t hashcap)
{
	unsigned char r[32];
	size_t pl = strlen(prefix);
	int rc;

	if (cap < pl + 44 || hashcap < TG_SHA256_HEX_LEN + 1)
		return -TG_E_TOOLARGE;
	if ((rc = tg_crypto_random(r, sizeof(r))) != TG_OK)
		goto out;
	memcpy(tok, prefix, pl);
	if ((rc = tg_crypto_b64url_encode(r, sizeof(r), tok + pl, cap - pl, NULL)) != TG_OK)
		goto out;
	rc = tg_crypto_sha256_hex(tok, strlen(tok), hash_hex);
out:
	tg_crypto_wipe(r, sizeof(r));
	return rc;
}

int
tg_auth_apikey_new(char *key, size_t cap, char *handle, size_t hcap,
    char *hash_hex, size_t hashcap)
{
	int rc;

	if (hcap < TG_APIKEY_HANDLE_LEN + 1)
		return -TG_E_TOOLARGE;
	if ((rc = random_b64(TG_APIKEY_PREFIX, key, cap, hash_hex, hashcap)) != TG_OK)
		return rc;
	memcpy(handle, key + 4, TG_APIKEY_HANDLE_LEN);
	handle[TG_APIKEY_HANDLE_LEN] = '\0';
	return TG_OK;
}

static int
opaque_ok(const char *prefix, const char *tok, size_t len, size_t want)
{
	unsigned char tmp[40];
	size_t n = 0;

	if (tok == NULL || len != want || strncmp(tok, prefix, 4) != 0 ||
	    !is_b64url(tok + 4, len - 4))
		return 0;
	return tg_crypto_b64url_decode(tok + 4, len - 4, tmp, sizeof(tmp), &n) == TG_OK &&
	    n == 32;
}

int
tg_auth_apikey_parse(const char *key, size_t len, char *handle, size_t hcap,
    char *hash_hex, size_t hashcap)
{
	if (!opaque_ok(TG_APIKEY_PREFIX, key, len, TG_APIKEY_LEN) ||
	    hcap < TG_APIKEY_HANDLE_LEN + 1 || hashcap < TG_SHA256_HEX_LEN + 1)
		return -TG_E_UNAUTH;
	memcpy(handle, key + 4, TG_APIKEY_HANDLE_LEN);
	handle[TG_APIKEY_HANDLE_LEN] = '\0';
	return tg_crypto_sha256_hex(key, len, hash_hex);
}

int
tg_auth_refresh_new(char *tok, size_t cap, char *hash_hex, size_t hashcap)
{
	return random_b64(TG_REFRESH_PREFIX, tok, cap, hash_hex, hashcap);
}

int
tg_auth_refresh_hash(const char *tok, size_t len, char *hash_hex, size_t hashcap)
{
	if (!opaque_ok(TG_REFRESH_PREFIX, tok, len, TG_REFRESH_LEN) ||
	    hashcap < TG_SHA256_HEX_LEN + 1)
		return -TG_E_UNAUTH;
	return tg_crypto_sha256_hex(tok, len, hash_hex);
}
