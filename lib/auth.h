/*
 * auth.h - credentials: JWT access tokens (HS256 via libjwt 1.10.2, closed
 * per docs/security.md "Access tokens"), Argon2id password hashes (libargon2), API keys and
 * opaque refresh tokens. Pure functions: no database, no request; fcgi/access.c
 * and handlers/auth.c add the stateful checks (blacklist, disabled users,
 * tokens_valid_after).
 *
 * Every function returns 0 or a negated enum tg_status. Verification
 * failures of any kind are -TG_E_UNAUTH (the caller renders 401); outputs
 * are written only on success.
 */
#ifndef TG_AUTH_H
#define TG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/call.h"	/* enum tg_role */

#define TG_JWT_ACCESS_TTL 900		/* 15 min */
#define TG_REFRESH_TTL (7 * 86400)	/* 7 days */
#define TG_JWT_LEEWAY 30		/* seconds of clock skew tolerated */
#define TG_JWT_MAX_LIFETIME 86400	/* exp - iat ceiling accepted */
#define TG_JWT_MAX_LEN 2048		/* our tokens are ~300 bytes */
#define TG_JTI_LEN 32			/* 16 random bytes, hex */
#define TG_SECRET_MIN 32		/* HMAC key bytes, at least */

/* API keys: "tgk_" + base64url(32 random bytes) = 47 chars; the first 12
 * characters after the prefix are the non-secret lookup handle. */
#define TG_APIKEY_PREFIX "tgk_"
#define TG_APIKEY_LEN 47
#define TG_APIKEY_HANDLE_LEN 12
/* Refresh tokens: "tgr_" + base64url(32 random bytes). */
#define TG_REFRESH_PREFIX "tgr_"
#define TG_REFRESH_LEN 47
/* The reuse interval (setting refresh_reuse_interval_seconds, 0: off;
 * lib/sessions.h): seconds after a rotation in which the rotated token may
 * be presented again, as long as its successor is unused. */
#define TG_REFRESH_REUSE_DEFAULT 30
#define TG_REFRESH_REUSE_MAX 60

/* Argon2id parameters (docs/security.md): OWASP's first recommendation. */
#define TG_ARGON2_T 2			/* iterations */
#define TG_ARGON2_M_KIB 19456		/* 19 MiB */
#define TG_ARGON2_P 1			/* lanes */
#define TG_ARGON2_SALT 16
#define TG_ARGON2_HASH 32
#define TG_PWHASH_MAX 160		/* encoded hash incl. NUL */
#define TG_PASSWORD_MIN 12
#define TG_PASSWORD_MAX 1024

#define TG_AUD_MAX 320		/* "aud": <public URL>/mcp */
#define TG_CID_MAX 64		/* "cid": an OAuth client_id */

struct tg_claims {
	int64_t user_id;		/* sub (decimal string in the token) */
	enum tg_role role;
	int64_t iat, exp;
	char jti[TG_JTI_LEN + 1];
	/* OAuth access tokens only (lib/oauth.h): the resource the token is
	 * bound to and the client it was issued to; "" in console tokens,
	 * which carry neither claim. */
	char aud[TG_AUD_MAX];
	char cid[TG_CID_MAX];
};

/* "admin"/"developer"/"viewer" <-> enum; unknown -> TG_ROLE_NONE / NULL. */
enum tg_role tg_role_parse(const char *s);
const char *tg_role_name(enum tg_role r);

/*
 * Issues an HS256 access token for user_id/role: iat = now, exp = now + ttl,
 * a fresh random jti, iss = issuer. out (cap bytes) receives the token;
 * claims (may be NULL) what it says. key_len must be >= TG_SECRET_MIN.
 */
int tg_auth_jwt_issue(const unsigned char *key, size_t key_len,
    const char *issuer, int64_t user_id, enum tg_role role, int64_t now,
    int64_t ttl, char *out, size_t cap, struct tg_claims *claims);

/* The same for an OAuth client: aud (the resource) and cid (client_id)
 * become claims of the token; both NULL is tg_auth_jwt_issue. */
int tg_auth_jwt_issue_aud(const unsigned char *key, size_t key_len,
    const char *issuer, int64_t user_id, enum tg_role role, int64_t now,
    int64_t ttl, const char *aud, const char *cid, char *out, size_t cap,
    struct tg_claims *claims);

/*
 * The verification routine (docs/security.md "Access tokens", every step): refuses keys
 * shorter than TG_SECRET_MIN; caps the length; requires three base64url
 * segments; parses the header ourselves and requires exactly
 * {"alg":"HS256"[,"typ":"JWT"]} (so "none", "hs256", HS384/HS512 fail);
 * jwt_decode with the key; jwt_get_alg == HS256; then the payload, parsed
 * by us with duplicate keys rejected and strict types:
 * {sub: decimal string, role: known role, iat: int, exp: int, jti: 32 hex,
 * iss: string, and optionally aud and cid: strings, both or neither} and
 * nothing else; iss == issuer; exp > now - leeway;
 * iat <= now + leeway; 0 < exp - iat <= TG_JWT_MAX_LIFETIME.
 * Returns 0 with *out filled, or -TG_E_UNAUTH (reason, static text, in
 * *why when why is not NULL), or -TG_E_NOMEM.
 */
int tg_auth_jwt_verify(const unsigned char *key, size_t key_len,
    const char *issuer, const char *token, size_t token_len, int64_t now,
    struct tg_claims *out, const char **why);

/* Argon2id: hashes pw[0..len) into the PHC string ($argon2id$v=19$m=...).
 * -TG_E_UNPROCESSABLE for a password outside [TG_PASSWORD_MIN, MAX]. */
int tg_auth_pw_hash(const char *pw, size_t len, char *out, size_t cap);
/* 0 when pw matches encoded, -TG_E_UNAUTH otherwise (also for a malformed
 * or non-argon2id encoding). */
int tg_auth_pw_verify(const char *encoded, const char *pw, size_t len);
/* Burns the same time as a verification (unknown users; no oracle). */
void tg_auth_pw_dummy(const char *pw, size_t len);

/* New API key: key (cap >= TG_APIKEY_LEN+1) shown once, handle
 * (TG_APIKEY_HANDLE_LEN+1) and hash (65, SHA-256 hex) for storage. */
int tg_auth_apikey_new(char *key, size_t cap, char *handle, size_t hcap,
    char *hash_hex, size_t hashcap);
/* Checks the format of a presented key and extracts its handle and hash.
 * -TG_E_UNAUTH when it is not a well-formed key. */
int tg_auth_apikey_parse(const char *key, size_t len, char *handle,
    size_t hcap, char *hash_hex, size_t hashcap);

/* New opaque refresh token + its SHA-256 hex; and a random 32-hex id. */
int tg_auth_refresh_new(char *tok, size_t cap, char *hash_hex, size_t hashcap);
/* Hash of a presented refresh token after a format check (-TG_E_UNAUTH). */
int tg_auth_refresh_hash(const char *tok, size_t len, char *hash_hex,
    size_t hashcap);
int tg_auth_random_hex32(char *out, size_t cap);

#endif
