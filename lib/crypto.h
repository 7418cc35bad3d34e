/*
 * crypto.h - small primitives over OpenSSL: random bytes, SHA-256, hex,
 * base64url (RFC 4648 §5, no padding) and constant-time comparison.
 * (AES-256-GCM for stored secrets lives in lib/secretbox.h.)
 *
 * All functions write their outputs only on success and return 0 or a
 * negated enum tg_status (lib/status.h).
 */
#ifndef TG_CRYPTO_H
#define TG_CRYPTO_H

#include <stddef.h>

#define TG_SHA256_LEN 32
#define TG_SHA256_HEX_LEN 64

/* n bytes from the OpenSSL DRBG. -TG_E_INTERNAL when RAND_bytes fails. */
int tg_crypto_random(void *buf, size_t n);
/* SHA-256 of data[0..n) into out[32]. */
int tg_crypto_sha256(const void *data, size_t n, unsigned char out[TG_SHA256_LEN]);
/* SHA-256 as 64 lowercase hex digits plus NUL into out[65]. */
int tg_crypto_sha256_hex(const void *data, size_t n, char out[TG_SHA256_HEX_LEN + 1]);
/* Lowercase hex of in[0..n) into out (cap >= 2n+1). -TG_E_TOOLARGE. */
int tg_crypto_hex(const unsigned char *in, size_t n, char *out, size_t cap);
/* base64url without padding; out gets NUL-terminated text, *outlen its
 * length (may be NULL). cap must hold 4*ceil(n/3)+1. -TG_E_TOOLARGE. */
int tg_crypto_b64url_encode(const unsigned char *in, size_t n, char *out,
    size_t cap, size_t *outlen);
/* Decodes base64url without padding (rejects '=', other alphabets, and
 * non-canonical trailing bits). -TG_E_BADREQ on bad input, -TG_E_TOOLARGE
 * when cap is too small. */
int tg_crypto_b64url_decode(const char *in, size_t n, unsigned char *out,
    size_t cap, size_t *outlen);
/* 1 when a[0..n) == b[0..n), in time independent of the contents. */
int tg_crypto_equal(const void *a, const void *b, size_t n);
/* Wipes n bytes (OPENSSL_cleanse); p may be NULL. */
void tg_crypto_wipe(void *p, size_t n);
/* Wipes the string s (to its NUL) and frees it: it may hold a secret; s may be NULL. */
void tg_crypto_free_str(char *s);

#endif
