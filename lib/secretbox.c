/*
 * secretbox.c - AES-256-GCM seal/open with AAD (see secretbox.h). The EVP
 * sequence is the one verified in docs/security.md; every EVP call is
 * checked and the context is freed on every path.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/secretbox.h"
#include "lib/status.h"

int
tg_secretbox_aad(char *buf, size_t cap, int64_t server_id, const char *key)
{
	int n = snprintf(buf, cap, "server_secret:%lld:%s", (long long)server_id, key);

	if (n < 0 || (size_t)n >= cap)
		return -TG_E_TOOLARGE;
	return TG_OK;
}

/*
 * An AES-256-GCM context that encrypts (enc 1) or decrypts (enc 0) under
 * key and nonce, with aad authenticated and the n bytes of in already
 * processed into out (*len bytes); NULL on failure. aad is at most INT_MAX
 * bytes and n at most TG_SECRETBOX_MAX_PLAIN (the callers check).
 */
static EVP_CIPHER_CTX *
gcm_begin(int enc, const unsigned char *key, const unsigned char *nonce,
    const char *aad, const unsigned char *in, size_t n, unsigned char *out, int *len)
{
	EVP_CIPHER_CTX *c;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, TG_SECRETBOX_NONCE, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, len, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto fail;
	*len = 0;
	if (n > 0 && EVP_CipherUpdate(c, out, len, in, (int)n) != 1)
		goto fail;
	return c;
fail:
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

int
tg_secretbox_seal(const unsigned char key[TG_SECRETBOX_KEY], const char *aad,
    const unsigned char *pt, size_t ptlen, unsigned char nonce[TG_SECRETBOX_NONCE],
    unsigned char *ct)
{
	EVP_CIPHER_CTX *c = NULL;
	int len, rc = -TG_E_INTERNAL;
	size_t aadlen = strlen(aad);

	if (ptlen > TG_SECRETBOX_MAX_PLAIN || aadlen > INT_MAX)
		return -TG_E_TOOLARGE;
	if (RAND_bytes(nonce, TG_SECRETBOX_NONCE) != 1)
		goto out;
	if ((c = gcm_begin(1, key, nonce, aad, pt, ptlen, ct, &len)) == NULL)
		goto out;
	if ((size_t)len != ptlen)
		goto out;
	if (EVP_EncryptFinal_ex(c, ct + len, &len) != 1 || len != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TG_SECRETBOX_TAG, ct + ptlen) != 1)
		goto out;
	rc = TG_OK;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int
tg_secretbox_open(const unsigned char key[TG_SECRETBOX_KEY], const char *aad,
    const unsigned char nonce[TG_SECRETBOX_NONCE], const unsigned char *ct,
    size_t ctlen, unsigned char *pt, size_t *ptlen)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char tag[TG_SECRETBOX_TAG];
	int len, fin, rc = -TG_E_INTERNAL;
	size_t n, aadlen = strlen(aad);

	if (ctlen < TG_SECRETBOX_TAG)
		return -TG_E_BADREQ;
	n = ctlen - TG_SECRETBOX_TAG;
	if (n > TG_SECRETBOX_MAX_PLAIN || aadlen > INT_MAX)
		return -TG_E_TOOLARGE;
	memcpy(tag, ct + n, TG_SECRETBOX_TAG);
	if ((c = gcm_begin(0, key, nonce, aad, ct, n, pt, &len)) == NULL)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TG_SECRETBOX_TAG, tag) != 1)
		goto out;
	fin = 0;
	if (EVP_DecryptFinal_ex(c, pt + len, &fin) != 1) {
		/* Authentication failed: discard what was decrypted. */
		if (n > 0)
			OPENSSL_cleanse(pt, n);
		rc = -TG_E_UNAUTH;
		goto out;
	}
	*ptlen = (size_t)len + (size_t)fin;
	rc = TG_OK;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}
