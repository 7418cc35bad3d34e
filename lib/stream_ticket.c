/*
 * stream_ticket.c - signed stream tickets (see stream_ticket.h).
 *
 * Format: base64url(compact JSON) "." 64 hex digits of
 * HMAC-SHA256(key, the base64url part). The JSON members are short
 * names: e (era), r (role), u, k, j, ia, ex, s, v, id, tl, p, t.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/crypto.h"
#include "lib/jsonalloc.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"

static unsigned char key[32];
static int have_key;

int
tg_ticket_init(void)
{
	if (tg_crypto_random(key, sizeof(key)) != TG_OK)
		return -TG_E_INTERNAL;
	have_key = 1;
	return TG_OK;
}

void
tg_ticket_disable(void)
{
	tg_crypto_wipe(key, sizeof(key));
	have_key = 0;
}

int
tg_ticket_available(void)
{
	return have_key;
}

static int
mac_hex(const char *data, size_t n, char out[TG_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)data, n,
		md, &mdlen) == NULL ||
	    mdlen != TG_SHA256_LEN)
		return -TG_E_INTERNAL;
	return tg_crypto_hex(md, mdlen, out, TG_SHA256_HEX_LEN + 1);
}

int
tg_ticket_sign(const struct tg_ticket *t, char *out, size_t cap)
{
	char mac[TG_SHA256_HEX_LEN + 1], *text = NULL;
	size_t len = 0, blen = 0;
	json_t *j;
	int rc = -TG_E_NOMEM;

	if (!have_key)
		return -TG_E_UNAVAIL;
	j = json_pack("{s:i, s:i, s:I, s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:s, s:I}",
	    "e", t->era, "r", (int)t->role, "u", (json_int_t)t->user_id,
	    "k", (json_int_t)t->api_key_id, "j", t->jti, "ia", (json_int_t)t->iat,
	    "ex", (json_int_t)t->exp, "s", t->session, "v", t->version,
	    "id", t->listen_id, "tl", t->tools, "p", t->peer,
	    "t", (json_int_t)t->issued_ms);
	if (j == NULL || (text = tg_jsonalloc_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	len = strlen(text);
	rc = -TG_E_TOOLARGE;
	if ((len + 2) / 3 * 4 + 2 + TG_SHA256_HEX_LEN >= cap)
		goto out;
	if ((rc = tg_crypto_b64url_encode((const unsigned char *)text, len, out,
		 cap, &blen)) != TG_OK)
		goto out;
	if ((rc = mac_hex(out, blen, mac)) != TG_OK)
		goto out;
	if (blen + 1 + TG_SHA256_HEX_LEN + 1 > cap) {
		rc = -TG_E_TOOLARGE;
		goto out;
	}
	out[blen] = '.';
	memcpy(out + blen + 1, mac, TG_SHA256_HEX_LEN + 1);
	rc = TG_OK;
out:
	json_decref(j);
	free(text);
	return rc;
}

/* Copies a JSON string member into dst (cap); -1 when absent or too long. */
static int
str_member(json_t *o, const char *name, char *dst, size_t cap)
{
	json_t *v = json_object_get(o, name);
	size_t n;

	if (!json_is_string(v) || (n = json_string_length(v)) >= cap)
		return -1;
	memcpy(dst, json_string_value(v), n + 1);
	return strlen(dst) == n ? 0 : -1;
}

static int
int_member(json_t *o, const char *name, int64_t *dst)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		return -1;
	*dst = json_integer_value(v);
	return 0;
}

int
tg_ticket_verify(const char *s, size_t n, int64_t now_ms, struct tg_ticket *t,
    const char **why)
{
	unsigned char raw[TG_TICKET_MAX];
	char mac[TG_SHA256_HEX_LEN + 1];
	const char *dot;
	size_t blen, got = 0;
	int64_t era = 0, role = 0;
	json_t *j = NULL;
	int rc = -TG_E_UNAUTH;

	memset(t, 0, sizeof(*t));
	*why = "malformed ticket";
	if (!have_key) {
		*why = "no ticket key";
		return rc;
	}
	if (n == 0 || n >= TG_TICKET_MAX || (dot = memchr(s, '.', n)) == NULL)
		return rc;
	blen = (size_t)(dot - s);
	if (n - blen - 1 != TG_SHA256_HEX_LEN || mac_hex(s, blen, mac) != TG_OK)
		return rc;
	if (!tg_crypto_equal(mac, dot + 1, TG_SHA256_HEX_LEN)) {
		*why = "bad ticket signature";
		return rc;
	}
	if (tg_crypto_b64url_decode(s, blen, raw, sizeof(raw), &got) != TG_OK)
		return rc;
	j = json_loadb((const char *)raw, got, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j) || int_member(j, "e", &era) || int_member(j, "r", &role) ||
	    int_member(j, "u", &t->user_id) || int_member(j, "k", &t->api_key_id) ||
	    str_member(j, "j", t->jti, sizeof(t->jti)) ||
	    int_member(j, "ia", &t->iat) || int_member(j, "ex", &t->exp) ||
	    str_member(j, "s", t->session, sizeof(t->session)) ||
	    str_member(j, "v", t->version, sizeof(t->version)) ||
	    str_member(j, "id", t->listen_id, sizeof(t->listen_id)) ||
	    str_member(j, "p", t->peer, sizeof(t->peer)) ||
	    !json_is_boolean(json_object_get(j, "tl")) ||
	    int_member(j, "t", &t->issued_ms))
		goto out;
	if ((era != TG_TICKET_2025 && era != TG_TICKET_2026) ||
	    role < TG_ROLE_NONE || role > TG_ROLE_ADMIN)
		goto out;
	t->era = (int)era;
	t->role = (enum tg_role)role;
	t->tools = json_is_true(json_object_get(j, "tl"));
	if (t->issued_ms > now_ms + 5000 || now_ms - t->issued_ms > TG_TICKET_TTL_MS) {
		*why = "ticket expired";
		goto out;
	}
	rc = TG_OK;
	*why = NULL;
out:
	json_decref(j);
	if (rc != TG_OK)
		memset(t, 0, sizeof(*t));
	return rc;
}
