/*
 * redact.c - redaction of sensitive keys, scrubbing of secret values and
 * UTF-8-safe truncation (see redact.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lib/crypto.h"
#include "lib/jsonalloc.h"
#include "lib/redact.h"


int
tg_mcp_key_sensitive(const char *key)
{
	static const char *const words[] = {"password", "secret", "token", "key",
		"auth", "credential", "cookie", "passwd", NULL};
	int i;

	for (i = 0; words[i]; i++)
		if (strcasestr(key, words[i]) != NULL)
			return 1;
	return 0;
}

static json_t *
redact(const json_t *v, int depth)
{
	json_t *out, *c;
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 128)
		return json_string(TG_REDACTED);
	if (json_is_object(v)) {
		if ((out = json_object()) == NULL)
			return NULL;
		json_object_foreach((json_t *)v, k, x) {
			c = tg_mcp_key_sensitive(k) ? json_string(TG_REDACTED) : redact(x, depth + 1);
			if (c == NULL || json_object_set_new(out, k, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_array(v)) {
		if ((out = json_array()) == NULL)
			return NULL;
		json_array_foreach(v, i, x) {
			c = redact(x, depth + 1);
			if (c == NULL || json_array_append_new(out, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_deep_copy(v);
}

json_t *
tg_mcp_redact(const json_t *v)
{
	if (v == NULL)
		return json_null();
	return redact(v, 0);
}

char *
tg_mcp_truncate(const char *s, size_t n, size_t max)
{
	char marker[64], *out;
	size_t cut = n, mlen = 0;
	int k;

	if (n > max) {
		cut = max;
		/* Back up to a UTF-8 boundary (never split a sequence). */
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		k = snprintf(marker, sizeof(marker), "\xE2\x80\xA6[truncated %zu bytes]",
		    n - cut);
		if (k < 0 || (size_t)k >= sizeof(marker))
			return NULL;
		mlen = (size_t)k;
	}
	if ((out = malloc(cut + mlen + 1)) == NULL)
		return NULL;
	memcpy(out, s, cut);
	if (mlen)
		memcpy(out + cut, marker, mlen);
	out[cut + mlen] = '\0';
	return out;
}

/* Copy of s with every occurrence of needle replaced by TG_REDACTED
 * (malloc'd; NULL on OOM). */
static char *
replace_all(const char *s, const char *needle)
{
	size_t n = strlen(needle), rl = strlen(TG_REDACTED), count = 0, len;
	const char *p, *q;
	char *out, *w;

	for (p = s; (q = strstr(p, needle)) != NULL; p = q + n)
		count++;
	len = strlen(s) + count * rl - count * n;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	w = out;
	for (p = s; (q = strstr(p, needle)) != NULL; p = q + n) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, TG_REDACTED, rl);
		w += rl;
	}
	memcpy(w, p, strlen(p) + 1);
	return out;
}

char *
tg_logs_scrub(const char *s, const json_t *secrets)
{
	const json_t *v;
	const char *name;
	char *cur = NULL, *next, *esc = NULL;
	int pass;

	if ((cur = strdup(s)) == NULL)
		return NULL;
	if (!json_is_object(secrets))
		return cur;
	json_object_foreach((json_t *)secrets, name, v) {
		const char *val = json_string_value(v);

		if (val == NULL || strlen(val) < TG_LOGS_SCRUB_MIN)
			continue;
		for (pass = 0; pass < 2; pass++) {
			const char *needle = val;
			size_t el;

			if (pass == 1) {
				/* The JSON-escaped form, without its quotes. */
				tg_jsonalloc_free(esc);
				if ((esc = json_dumps(v, JSON_ENCODE_ANY)) == NULL)
					goto oom;
				el = strlen(esc);
				if (el < 2 || el - 2 < TG_LOGS_SCRUB_MIN)
					continue;
				esc[el - 1] = '\0';
				needle = esc + 1;
				if (strcmp(needle, val) == 0)
					continue;
			}
			if (strstr(cur, needle) == NULL)
				continue;
			if ((next = replace_all(cur, needle)) == NULL)
				goto oom;
			tg_crypto_free_str(cur);
			cur = next;
		}
	}
	tg_jsonalloc_free(esc);
	return cur;
oom:
	tg_jsonalloc_free(esc);
	tg_crypto_free_str(cur);
	return NULL;
}
