/*
 * secretbox.h - AES-256-GCM for server secrets (docs/security.md).
 *
 * A fresh 12-byte nonce from RAND_bytes per seal; the 16-byte tag is
 * appended to the ciphertext (ct = enc || tag). The AAD binds a value to
 * its row: "server_secret:<server_id>:<key>" (tg_secretbox_aad), so a
 * ciphertext copied to another server or key fails to open. Opening with
 * the wrong key or AAD, or a tampered nonce/ciphertext/tag, returns
 * -TG_E_UNAUTH and writes nothing. Plaintext buffers are the caller's; wipe
 * them with OPENSSL_cleanse.
 */
#ifndef TG_SECRETBOX_H
#define TG_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#define TG_SECRETBOX_KEY 32
#define TG_SECRETBOX_NONCE 12
#define TG_SECRETBOX_TAG 16
#define TG_SECRETBOX_MAX_PLAIN (64 * 1024)

/* "server_secret:<server_id>:<key>" into buf; -TG_E_TOOLARGE if it does
 * not fit. */
int tg_secretbox_aad(char *buf, size_t cap, int64_t server_id, const char *key);

/* ct must hold ptlen + TG_SECRETBOX_TAG bytes. Returns 0, -TG_E_TOOLARGE
 * (ptlen > TG_SECRETBOX_MAX_PLAIN), -TG_E_INTERNAL (RAND/EVP failure). */
int tg_secretbox_seal(const unsigned char key[TG_SECRETBOX_KEY],
    const char *aad, const unsigned char *pt, size_t ptlen,
    unsigned char nonce[TG_SECRETBOX_NONCE], unsigned char *ct);

/* pt must hold ctlen - TG_SECRETBOX_TAG bytes; *ptlen set on success.
 * Returns 0, -TG_E_UNAUTH (authentication failed), -TG_E_BADREQ (ctlen too
 * short), -TG_E_INTERNAL. */
int tg_secretbox_open(const unsigned char key[TG_SECRETBOX_KEY],
    const char *aad, const unsigned char nonce[TG_SECRETBOX_NONCE],
    const unsigned char *ct, size_t ctlen, unsigned char *pt, size_t *ptlen);

#endif
