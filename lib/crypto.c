/*
 * crypto.c - random bytes, SHA-256, hex, base64url and constant-time
 * comparison (see crypto.h). Thin wrappers that check every OpenSSL return
 * so callers need not; the base64url codec is ours because OpenSSL's
 * EVP_EncodeBlock speaks only the padded standard alphabet.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/crypto.h"
#include "lib/parse.h"
#include "lib/status.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
tg_crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return -TG_E_INTERNAL;
		p += chunk;
		n -= (size_t)chunk;
	}
	return TG_OK;
}

int
tg_crypto_sha256(const void *data, size_t n, unsigned char out[TG_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != TG_SHA256_LEN)
		return -TG_E_INTERNAL;
	return TG_OK;
}

int
tg_crypto_hex(const unsigned char *in, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (cap == 0 || n > (cap - 1) / 2)
		return -TG_E_TOOLARGE;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return TG_OK;
}

int
tg_crypto_sha256_hex(const void *data, size_t n, char out[TG_SHA256_HEX_LEN + 1])
{
	unsigned char md[TG_SHA256_LEN];
	int rc;

	if ((rc = tg_crypto_sha256(data, n, md)) != TG_OK)
		return rc;
	return tg_crypto_hex(md, sizeof(md), out, TG_SHA256_HEX_LEN + 1);
}

int
tg_crypto_b64url_encode(const unsigned char *in, size_t n, char *out,
    size_t cap, size_t *outlen)
{
	size_t i, o = 0, need;

	if (n > (SIZE_MAX - 4) / 4 * 3)
		return -TG_E_TOOLARGE;
	need = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0) + 1;
	if (cap < need)
		return -TG_E_TOOLARGE;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return TG_OK;
}

int
tg_crypto_b64url_decode(const char *in, size_t n, unsigned char *out,
    size_t cap, size_t *outlen)
{
	size_t i, o = 0, need;
	unsigned v = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -TG_E_BADREQ;
	need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (cap < need)
		return -TG_E_TOOLARGE;
	for (i = 0; i < n; i++) {
		int d = tg_parse_digit(b64url, (unsigned char)in[i]);

		if (d < 0)
			return -TG_E_BADREQ;
		v = (v << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)((v >> bits) & 0xff);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (bits > 0 && (v & ((1u << bits) - 1)) != 0)
		return -TG_E_BADREQ;
	if (outlen)
		*outlen = o;
	return TG_OK;
}

int
tg_crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
tg_crypto_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
tg_crypto_free_str(char *s)
{
	if (s != NULL) {
		tg_crypto_wipe(s, strlen(s));
		free(s);
	}
}
