/*
 * oauth.c - the OAuth 2.1 authorization server (oauth.h): metadata,
 * dynamic client registration, the authorization endpoint and the consent
 * decision. Tokens, revocation and the operations: lib/oauth_token.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/access_db.h" /* tg_rate_hit */
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/buf.h"
#include "lib/call.h"
#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/oauth.h"
#include "lib/parse.h"
#include "lib/rows.h"
#include "lib/status.h"

/* --- shared helpers ------------------------------------------------------- */

const char *
tg_oauth_kv_get(const struct tg_oauth_kv *kv, int n, const char *name, int *dup)
{
	const char *v = NULL;
	int i, seen = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(kv[i].k, name) != 0)
			continue;
		if (seen++ == 0)
			v = kv[i].v;
	}
	if (seen > 1 && dup != NULL)
		*dup = 1;
	return v;
}

void
tg_oauth_oerr(struct tg_oerr *oe, int http, const char *error,
    const char *fmt, ...)
{
	va_list ap;

	oe->http = http;
	oe->error = error;
	va_start(ap, fmt);
	(void)vsnprintf(oe->desc, sizeof(oe->desc), fmt, ap);
	va_end(ap);
}

int
tg_oauth_resource(const struct tg_config *cfg, char *buf, size_t cap)
{
	int n;

	if (cfg == NULL || cfg->public_url[0] == '\0')
		return -TG_E_NOTFOUND;
	n = snprintf(buf, cap, "%s/mcp", cfg->public_url);
	return n < 0 || (size_t)n >= cap ? -TG_E_TOOLARGE : TG_OK;
}

int
tg_oauth_prm_url(const struct tg_config *cfg, char *buf, size_t cap)
{
	int n;

	if (cfg == NULL || cfg->public_url[0] == '\0')
		return -TG_E_NOTFOUND;
	n = snprintf(buf, cap, "%s/.well-known/oauth-protected-resource/mcp",
	    cfg->public_url);
	return n < 0 || (size_t)n >= cap ? -TG_E_TOOLARGE : TG_OK;
}

json_t *
tg_oauth_prm(const struct tg_config *cfg)
{
	char res[TG_AUD_MAX];

	if (tg_oauth_resource(cfg, res, sizeof(res)) != TG_OK)
		return NULL;
	return json_pack("{s:s, s:[s], s:[s], s:s}", "resource", res,
	    "authorization_servers", cfg->public_url,
	    "bearer_methods_supported", "header",
	    "resource_name", "toolgate");
}

json_t *
tg_oauth_asm(const struct tg_config *cfg)
{
	const char *b;
	char authz[300], token[300], reg[300], rev[300];

	if (cfg == NULL || cfg->public_url[0] == '\0')
		return NULL;
	b = cfg->public_url;
	snprintf(authz, sizeof(authz), "%s/oauth/authorize", b);
	snprintf(token, sizeof(token), "%s/oauth/token", b);
	snprintf(reg, sizeof(reg), "%s/oauth/register", b);
	snprintf(rev, sizeof(rev), "%s/oauth/revoke", b);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s,s],"
			 " s:[s], s:[s], s:[s], s:b, s:b}",
	    "issuer", b, "authorization_endpoint", authz, "token_endpoint", token,
	    "registration_endpoint", reg, "revocation_endpoint", rev,
	    "response_types_supported", "code",
	    "response_modes_supported", "query",
	    "grant_types_supported", "authorization_code", "refresh_token",
	    "code_challenge_methods_supported", "S256",
	    "token_endpoint_auth_methods_supported", "none",
	    "revocation_endpoint_auth_methods_supported", "none",
	    "authorization_response_iss_parameter_supported", 1,
	    "client_id_metadata_document_supported", 0);
}

/* --- URIs ------------------------------------------------------------------ */

static int
scheme_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '+' || ch == '.' || ch == '-';
}

/* Characters a redirect URI may hold: printable ASCII minus what is never
 * part of one (space, quotes, angle brackets, backslash, fragment...). */
static int
uri_chars_ok(const char *u)
{
	for (; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || strchr("\"<>\\^`{|}#", *u) != NULL)
			return 0;
	return 1;
}

/* The authority of an http(s) URI (after "//"): its length. */
static size_t
authority_len(const char *a)
{
	return strcspn(a, "/?");
}

static int
loopback_host(const char *a, size_t alen, size_t *hostlen)
{
	static const char *const hosts[] = {"127.0.0.1", "[::1]", "localhost"};
	size_t i, hl;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		hl = strlen(hosts[i]);
		if (alen >= hl && strncmp(a, hosts[i], hl) == 0 &&
		    (alen == hl || a[hl] == ':')) {
			*hostlen = hl;
			return 1;
		}
	}
	return 0;
}

/* host[:port] of an https URI: a DNS name or a bracketed IPv6 literal. */
static int
authority_ok(const char *a, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	if (a[0] == '[') {
		while (i < n && a[i] != ']')
			i++;
		if (i >= n || i == 1)
			return 0;
		for (size_t j = 1; j < i; j++)
			if (!((a[j] >= '0' && a[j] <= '9') || (a[j] >= 'a' && a[j] <= 'f') ||
				(a[j] >= 'A' && a[j] <= 'F') || a[j] == ':' || a[j] == '.'))
				return 0;
		i++;
	} else {
		while (i < n && a[i] != ':') {
			char ch = a[i];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				(ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
				return 0;
			i++;
		}
		if (i == 0)
			return 0;
	}
	if (i == n)
		return 1;
	if (a[i] != ':' || n - i < 2 || n - i > 6)
		return 0;
	for (i++; i < n; i++)
		if (a[i] < '0' || a[i] > '9')
			return 0;
	return 1;
}

/*
 * security: the redirect URIs a client may register (RFC 8252, OAuth 2.1):
 * https://host[:port]/..., http:// on a loopback host (any port), or a
 * private-use scheme of a native app ("com.example.app:/cb", "cursor://..");
 * never a fragment, userinfo, whitespace, or a scheme a browser would run
 * or read locally (javascript:, data:, file:, ...). NULL when fine, else
 * why not.
 */
static const char *
redirect_uri_bad(const char *u)
{
	static const char *const banned[] = {"javascript", "data", "vbscript",
	    "file", "about", "blob", "filesystem", "ftp", "ws", "wss", "mailto",
	    "view-source", "chrome", "resource", NULL};
	const char *colon, *a;
	size_t slen, alen, hl;
	int i;

	if (strlen(u) > TG_OAUTH_URI_MAX)
		return "is too long";
	if (!uri_chars_ok(u))
		return "has a character a redirect URI cannot hold (or a fragment)";
	colon = strchr(u, ':');
	if (colon == NULL || colon == u)
		return "is not an absolute URI";
	slen = (size_t)(colon - u);
	if (!(u[0] >= 'a' && u[0] <= 'z'))
		return "has no lower-case scheme";
	for (size_t j = 0; j < slen; j++)
		if (!scheme_char(u[j]))
			return "has no lower-case scheme";
	if ((slen == 5 && strncmp(u, "https", 5) == 0) ||
	    (slen == 4 && strncmp(u, "http", 4) == 0)) {
		if (strncmp(colon, "://", 3) != 0)
			return "is not an absolute URI";
		a = colon + 3;
		alen = authority_len(a);
		if (memchr(a, '@', alen) != NULL)
			return "has userinfo";
		if (!authority_ok(a, alen))
			return "has no valid host";
		if (slen == 4 && !loopback_host(a, alen, &hl))
			return "must use https (http only for 127.0.0.1, [::1] or localhost)";
		return NULL;
	}
	for (i = 0; banned[i] != NULL; i++)
		if (strlen(banned[i]) == slen && strncmp(u, banned[i], slen) == 0)
			return "has a scheme that is not allowed";
	if (slen < 2 || colon[1] == '\0')
		return "is not an absolute URI";
	return NULL;
}

/* The port-free form of a loopback http URI into buf (RFC 8252 section
 * 7.3: the port may change between registration and use). 0 when u is
 * not one. */
static int
loopback_portless(const char *u, char *buf, size_t cap)
{
	const char *a;
	size_t alen, hl;

	if (strncmp(u, "http://", 7) != 0)
		return 0;
	a = u + 7;
	alen = authority_len(a);
	if (!loopback_host(a, alen, &hl))
		return 0;
	/* security: after the host only ":" and a port of 1 to 5 digits. The
	 * presented URI is not checked otherwise: "http://127.0.0.1:1@evil.example/cb"
	 * would match "http://127.0.0.1/cb" and send the browser to evil.example. */
	if (alen != hl) {
		if (a[hl] != ':' || alen - hl < 2 || alen - hl > 6)
			return 0;
		for (size_t j = hl + 1; j < alen; j++)
			if (a[j] < '0' || a[j] > '9')
				return 0;
	}
	if ((size_t)snprintf(buf, cap, "http://%.*s%s", (int)hl, a, a + alen) >= cap)
		return 0;
	return 1;
}

/* 1 when the presented redirect URI matches the registered one. */
static int
redirect_match(const char *reg, const char *got)
{
	char a[TG_OAUTH_URI_MAX + 16], b[TG_OAUTH_URI_MAX + 16];

	if (strcmp(reg, got) == 0)
		return 1;
	return loopback_portless(reg, a, sizeof(a)) &&
	    loopback_portless(got, b, sizeof(b)) && strcmp(a, b) == 0;
}

/* The host a person is shown: the authority of an http(s) URI, else the
 * scheme (a native app). */
static void
redirect_host(const char *u, char *buf, size_t cap)
{
	const char *p = NULL;

	/* security: only http(s) itself: a native app's "https.evil://bank.example"
	 * must not be shown as the host bank.example */
	if (strncmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		p = u + 7;
	if (p != NULL) {
		snprintf(buf, cap, "%.*s", (int)authority_len(p), p);
	} else {
		snprintf(buf, cap, "%.*s (an app on this device)", (int)strcspn(u, ":"), u);
	}
}

static void
pct_append(struct tg_buf *b, const char *s, int *rc)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && *rc == 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			*rc = tg_buf_append(b, s, 1);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			*rc = tg_buf_append(b, e, 3);
		}
	}
}

/*
 * base + "?" or "&" + the pairs (name, value; a NULL value is left out),
 * percent-encoded, then iss (RFC 9207). Returns a malloc'd string or NULL.
 */
static char *
with_params(const char *base, const char *iss, const char *const *pairs)
{
	struct tg_buf b = {0};
	char *s = NULL;
	int rc, first = strchr(base, '?') == NULL;

	rc = tg_buf_puts(&b, base);
	for (int i = 0; rc == 0 && pairs[i] != NULL; i += 2) {
		if (pairs[i + 1] == NULL)
			continue;
		rc = tg_buf_puts(&b, first ? "?" : "&");
		first = 0;
		if (rc == 0)
			rc = tg_buf_puts(&b, pairs[i]);
		if (rc == 0)
			rc = tg_buf_puts(&b, "=");
		pct_append(&b, pairs[i + 1], &rc);
	}
	if (rc == 0 && iss != NULL) {
		rc = tg_buf_puts(&b, first ? "?iss=" : "&iss=");
		pct_append(&b, iss, &rc);
	}
	if (rc == 0)
		s = strndup(b.p ? b.p : "", b.len);
	tg_buf_free(&b);
	return s;
}

/* A fresh random base64url handle (32 bytes) and its SHA-256 hex. */
static int
new_handle(char *h, size_t cap, char *hash)
{
	unsigned char r[32];
	int rc;

	if ((rc = tg_crypto_random(r, sizeof(r))) != TG_OK)
		return rc;
	rc = tg_crypto_b64url_encode(r, sizeof(r), h, cap, NULL);
	tg_crypto_wipe(r, sizeof(r));
	if (rc == TG_OK)
		rc = tg_crypto_sha256_hex(h, strlen(h), hash);
	return rc;
}

/* The SHA-256 hex of a presented handle, after a format check. */
static int
handle_hash(const char *h, char *hash)
{
	size_t n = h ? strlen(h) : 0;

	if (n != TG_OAUTH_HANDLE_LEN)
		return -TG_E_NOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (tg_parse_digit("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			h[i]) < 0)
			return -TG_E_NOTFOUND;
	return tg_crypto_sha256_hex(h, n, hash);
}

/* --- registration (RFC 7591) ---------------------------------------------- */

/*
 * security: a code point that changes how the text around it is shown
 * without being seen itself: C0/C1 controls, bidirectional overrides and
 * isolates (U+202E makes "ppa-doog" read "good-app"), zero-width and
 * invisible characters, line separators, tags. A client's name is shown
 * on the consent page as who is asking.
 */
static int
invisible_cp(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad ||
	    cp == 0x34f || cp == 0x61c || cp == 0x115f || cp == 0x1160 ||
	    cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff ||
	    cp == 0xffa0 || (cp >= 0xfff0 && cp <= 0xfffb) ||
	    (cp >= 0xe0000 && cp <= 0xe0fff);
}

/* Printable text of 1..max bytes of UTF-8 without control or invisible
 * characters (invisible_cp). */
static int
text_ok(const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	unsigned long cp;

	if (n == 0 || n > max || !tg_utf8_valid(s, n))
		return 0;
	while (i < n) {
		/* valid UTF-8 (checked above): decode one code point */
		if (u[i] < 0x80) {
			cp = u[i];
			len = 1;
		} else if (u[i] < 0xe0) {
			cp = u[i] & 0x1fUL;
			len = 2;
		} else if (u[i] < 0xf0) {
			cp = u[i] & 0x0fUL;
			len = 3;
		} else {
			cp = u[i] & 0x07UL;
			len = 4;
		}
		if (i + len > n)
			return 0;
		for (size_t j = 1; j < len; j++)
			cp = (cp << 6) | (u[i + j] & 0x3fUL);
		if (invisible_cp(cp))
			return 0;
		i += len;
	}
	return 1;
}

struct reg {
	json_t *in;
	const char *name, *uri;
	json_t *uris; /* borrowed from in */
	char client_id[4 + TG_OAUTH_HANDLE_LEN + 1];
	int limited; /* out: rate limited */
	int full;
	int64_t retry;
};

static int
reg_check(struct reg *r, struct tg_oerr *oe)
{
	json_t *v, *gt, *rt;
	const char *why, *s;
	size_t i;

	if (r->in == NULL || !json_is_object(r->in)) {
		tg_oauth_oerr(oe, 400, "invalid_client_metadata",
		    "the registration request must be a JSON object");
		return -TG_E_BADREQ;
	}
	r->uris = json_object_get(r->in, "redirect_uris");
	if (!json_is_array(r->uris) || json_array_size(r->uris) == 0 ||
	    json_array_size(r->uris) > TG_OAUTH_REDIRECTS_MAX) {
		tg_oauth_oerr(oe, 400, "invalid_redirect_uri",
		    "redirect_uris must be an array of 1 to %d URIs", TG_OAUTH_REDIRECTS_MAX);
		return -TG_E_BADREQ;
	}
	json_array_foreach(r->uris, i, v) {
		if (!json_is_string(v)) {
			tg_oauth_oerr(oe, 400, "invalid_redirect_uri",
			    "redirect_uris[%zu] is not a string", i);
			return -TG_E_BADREQ;
		}
		if ((why = redirect_uri_bad(json_string_value(v))) != NULL) {
			tg_oauth_oerr(oe, 400, "invalid_redirect_uri",
			    "redirect_uris[%zu] %s", i, why);
			return -TG_E_BADREQ;
		}
	}
	v = json_object_get(r->in, "client_name");
	if (v != NULL && (!json_is_string(v) || !text_ok(json_string_value(v), 100))) {
		tg_oauth_oerr(oe, 400, "invalid_client_metadata",
		    "client_name must be 1 to 100 bytes of text without control or invisible characters");
		return -TG_E_BADREQ;
	}
	r->name = v ? json_string_value(v) : NULL;
	v = json_object_get(r->in, "client_uri");
	if (v != NULL && (!json_is_string(v) || strncmp(json_string_value(v), "https://", 8) != 0 || redirect_uri_bad(json_string_value(v)) != NULL)) {
		tg_oauth_oerr(oe, 400, "invalid_client_metadata", "client_uri must be an https URL");
		return -TG_E_BADREQ;
	}
	r->uri = v ? json_string_value(v) : NULL;
	gt = json_object_get(r->in, "grant_types");
	if (gt != NULL) {
		int code = 0;

		if (!json_is_array(gt))
			goto bad_grant;
		json_array_foreach(gt, i, v) {
			s = json_is_string(v) ? json_string_value(v) : "";
			if (strcmp(s, "authorization_code") == 0)
				code = 1;
			else if (strcmp(s, "refresh_token") != 0)
				goto bad_grant;
		}
		if (!code)
			goto bad_grant;
	}
	rt = json_object_get(r->in, "response_types");
	if (rt != NULL) {
		if (!json_is_array(rt))
			goto bad_response;
		json_array_foreach(rt, i, v)
			if (!json_is_string(v) || strcmp(json_string_value(v), "code") != 0)
				goto bad_response;
	}
	v = json_object_get(r->in, "token_endpoint_auth_method");
	if (v != NULL && !json_is_string(v)) {
		tg_oauth_oerr(oe, 400, "invalid_client_metadata",
		    "token_endpoint_auth_method must be a string");
		return -TG_E_BADREQ;
	}
	v = json_object_get(r->in, "scope");
	if (v != NULL && (!json_is_string(v) || strlen(json_string_value(v)) > 512)) {
		tg_oauth_oerr(oe, 400, "invalid_client_metadata", "scope must be a string of at most 512 bytes");
		return -TG_E_BADREQ;
	}
	return TG_OK;
bad_grant:
	tg_oauth_oerr(oe, 400, "invalid_client_metadata",
	    "grant_types may hold authorization_code (required) and refresh_token only");
	return -TG_E_BADREQ;
bad_response:
	tg_oauth_oerr(oe, 400, "invalid_client_metadata", "response_types must be [\"code\"]");
	return -TG_E_BADREQ;
}

static int
reg_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct reg *r = arg;
	const char *p[6];
	char max[16], *uris = NULL;
	char host[TG_OAUTH_URI_MAX];
	PGresult *res = NULL;
	int64_t hits = 0;
	json_t *d;
	int rc;

	(void)err;
	/* Housekeeping first: requests and codes past their time, clients
	 * never used for a day or unused for 90 days. */
	if ((rc = tg_db_exec(c->db,
		 "WITH a AS (DELETE FROM oauth_requests WHERE expires_at < now() - interval '1 hour'),"
		 " b AS (DELETE FROM oauth_codes WHERE expires_at < now() - interval '1 day')"
		 " DELETE FROM oauth_clients oc WHERE (last_used_at IS NULL AND"
		 "  created_at < now() - interval '1 day' AND NOT EXISTS (SELECT 1 FROM oauth_grants g"
		 "  WHERE g.client_id = oc.id)) OR COALESCE(last_used_at, created_at) <"
		 "  now() - interval '90 days'",
		 0, NULL, NULL)) != TG_OK)
		goto out;
	/* security: registrations per client address and hour, and at most
	 * TG_OAUTH_CLIENTS_MAX clients at once */
	if ((rc = tg_rate_hit(c->db, TG_OAUTH_REG_WINDOW, &hits, &r->retry,
		 "oauth-reg:%s", c->client_addr ? c->client_addr : "")) != TG_OK)
		goto out;
	snprintf(max, sizeof(max), "%d", TG_OAUTH_CLIENTS_MAX);
	p[0] = max;
	if ((rc = tg_db_exec(c->db, "SELECT count(*) >= $1::int FROM oauth_clients",
		 1, p, &res)) != TG_OK)
		goto out;
	r->limited = hits > TG_OAUTH_REG_PER_WINDOW;
	r->full = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	res = NULL;
	if (r->limited || r->full)
		goto out; /* committed: the attempt counts */
	if ((uris = json_dumps(r->uris, JSON_COMPACT)) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if (r->name == NULL)
		redirect_host(json_string_value(json_array_get(r->uris, 0)), host, sizeof(host));
	p[0] = r->client_id;
	p[1] = r->name ? r->name : host;
	p[2] = r->uri;
	p[3] = uris;
	p[4] = c->client_addr ? c->client_addr : "";
	if ((rc = tg_db_exec(c->db,
		 "INSERT INTO oauth_clients (client_id, client_name, client_uri, redirect_uris,"
		 " registered_from) VALUES ($1, left($2, 100), $3, $4::jsonb, $5)",
		 5, p, NULL)) != TG_OK)
		goto out;
	d = json_pack("{s:s, s:O}", "client_name", p[1], "redirect_uris", r->uris);
	rc = tg_audit_call(c, "oauth.register", r->client_id, TG_AUDIT_OK, d);
	json_decref(d);
out:
	PQclear(res);
	free(uris);
	return rc;
}

int
tg_oauth_register(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_oerr *oe)
{
	struct reg r;
	struct tg_err err;
	char h[TG_OAUTH_HANDLE_LEN + 1], hash[TG_SHA256_HEX_LEN + 1];
	int rc;

	memset(&r, 0, sizeof(r));
	r.in = in;
	if ((rc = reg_check(&r, oe)) != TG_OK)
		return rc;
	if ((rc = new_handle(h, sizeof(h), hash)) != TG_OK)
		return rc;
	snprintf(r.client_id, sizeof(r.client_id), "tgc_%s", h);
	tg_err_init(&err);
	rc = tg_call_tx(c, reg_tx, &r, &err);
	tg_err_clear(&err);
	if (rc != TG_OK)
		return rc;
	if (r.limited || r.full) {
		tg_oauth_oerr(oe, 429, "invalid_request", r.full ? "registration is closed: too many clients are registered" : "too many registrations from this address; retry in %lld s",
		    (long long)r.retry);
		return -TG_E_RATE;
	}
	*out = json_pack("{s:s, s:I, s:s, s:O, s:[s,s], s:[s], s:s}",
	    "client_id", r.client_id, "client_id_issued_at", (json_int_t)time(NULL),
	    "client_name", r.name ? r.name : "", "redirect_uris", r.uris,
	    "grant_types", "authorization_code", "refresh_token",
	    "response_types", "code", "token_endpoint_auth_method", "none");
	if (*out != NULL && r.name == NULL)
		json_object_del(*out, "client_name");
	if (*out != NULL && r.uri != NULL)
		json_object_set_new(*out, "client_uri", json_string(r.uri));
	return *out != NULL ? TG_OK : -TG_E_NOMEM;
}

/* --- the authorization endpoint ------------------------------------------- */

static int
b64url43(const char *s)
{
	if (s == NULL || strlen(s) != 43)
		return 0;
	for (; *s; s++)
		if (tg_parse_digit("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			*s) < 0)
			return 0;
	return 1;
}

/* The first problem of an authorization request whose client and redirect
 * URI are known (RFC 6749 section 4.1.2.1), or NULL. */
static const char *
authz_check(const char *state, int dup, const char *rtype, const char *chal,
    const char *meth, const char *resource, const char *res, const char *scope,
    char *desc, size_t cap)
{
	const char *error = "invalid_request";

	if (state != NULL && strlen(state) > TG_OAUTH_STATE_MAX)
		snprintf(desc, cap, "state is longer than %d bytes", TG_OAUTH_STATE_MAX);
	else if (dup)
		snprintf(desc, cap, "a parameter was given twice");
	else if (rtype == NULL || strcmp(rtype, "code") != 0)
		error = "unsupported_response_type",
		snprintf(desc, cap, "only response_type=code is supported");
	else if (chal == NULL || meth == NULL || strcmp(meth, "S256") != 0)
		snprintf(desc, cap, "PKCE is required: code_challenge with code_challenge_method=S256");
	else if (!b64url43(chal))
		snprintf(desc, cap, "code_challenge must be 43 base64url characters (S256)");
	else if (resource != NULL && strcmp(resource, res) != 0)
		error = "invalid_target",
		snprintf(desc, cap, "resource must be this server's MCP endpoint (%s)", res);
	else if (scope != NULL && strlen(scope) > 512)
		error = "invalid_scope", snprintf(desc, cap, "scope is too long");
	else
		error = NULL;
	return error;
}

int
tg_oauth_authorize(const struct tg_call *c, const struct tg_oauth_kv *kv,
    int n, char **location, struct tg_oerr *oe)
{
	const struct tg_config *cfg = c->cfg;
	const char *cid, *ruri, *rtype, *chal, *meth, *state, *resource, *scope;
	const char *p[9], *pairs[7], *error = NULL;
	char res[TG_AUD_MAX], h[TG_OAUTH_HANDLE_LEN + 1], hash[TG_SHA256_HEX_LEN + 1];
	char desc[TG_AUD_MAX + 160], page[TG_AUD_MAX + 64], cidb[24], ttl[16];
	PGresult *res_db = NULL;
	json_t *uris = NULL, *v;
	size_t i;
	int dup = 0, dup_client = 0, rc, found = 0, given;

	*location = NULL;
	if (tg_oauth_resource(cfg, res, sizeof(res)) != TG_OK)
		return -TG_E_NOTFOUND;
	cid = tg_oauth_kv_get(kv, n, "client_id", &dup_client);
	ruri = tg_oauth_kv_get(kv, n, "redirect_uri", &dup_client);
	if (dup_client || cid == NULL || strlen(cid) > 64) {
		tg_oauth_oerr(oe, 400, "invalid_request", dup_client ? "client_id and redirect_uri may be given once" : "client_id is missing");
		return -TG_E_BADREQ;
	}
	p[0] = cid;
	if ((rc = tg_db_exec(c->db, "SELECT id, redirect_uris::text FROM oauth_clients"
				    " WHERE client_id = $1",
		 1, p, &res_db)) != TG_OK)
		return rc;
	if (PQntuples(res_db) != 1) {
		PQclear(res_db);
		tg_oauth_oerr(oe, 400, "invalid_client",
		    "this application is not registered here (unknown client_id)");
		return -TG_E_BADREQ;
	}
	snprintf(cidb, sizeof(cidb), "%s", PQgetvalue(res_db, 0, 0));
	uris = tg_rows_json(PQgetvalue(res_db, 0, 1));
	PQclear(res_db);
	res_db = NULL;
	if (!json_is_array(uris)) {
		json_decref(uris);
		return -TG_E_INTERNAL;
	}
	/* security: exact match against the registration (a loopback URI's
	 * port aside); without redirect_uri only a client with one. */
	given = ruri != NULL;
	if (ruri == NULL) {
		if (json_array_size(uris) == 1)
			ruri = json_string_value(json_array_get(uris, 0));
	} else {
		json_array_foreach(uris, i, v)
			if (json_is_string(v) && redirect_match(json_string_value(v), ruri))
				found = 1;
		if (!found)
			ruri = NULL;
	}
	if (ruri == NULL) {
		json_decref(uris);
		tg_oauth_oerr(oe, 400, "invalid_request",
		    "the redirect URI is not one this application registered");
		return -TG_E_BADREQ;
	}
	/* From here on errors go back to the client's redirect URI. */
	rtype = tg_oauth_kv_get(kv, n, "response_type", &dup);
	chal = tg_oauth_kv_get(kv, n, "code_challenge", &dup);
	meth = tg_oauth_kv_get(kv, n, "code_challenge_method", &dup);
	state = tg_oauth_kv_get(kv, n, "state", &dup);
	resource = tg_oauth_kv_get(kv, n, "resource", &dup);
	scope = tg_oauth_kv_get(kv, n, "scope", &dup);
	error = authz_check(state, dup, rtype, chal, meth, resource, res, scope,
	    desc, sizeof(desc));
	if (state != NULL && strlen(state) > TG_OAUTH_STATE_MAX)
		state = NULL;
	if (error != NULL) {
		pairs[0] = "error";
		pairs[1] = error;
		pairs[2] = "error_description";
		pairs[3] = desc;
		pairs[4] = "state";
		pairs[5] = state;
		pairs[6] = NULL;
		*location = with_params(ruri, cfg->public_url, pairs);
		json_decref(uris);
		return *location ? TG_OK : -TG_E_NOMEM;
	}
	/*
	 * security: anybody may start an authorization request, and each one
	 * is a row until it expires: at most TG_OAUTH_AUTHZ_PER_WINDOW per
	 * client and address and window, TG_OAUTH_PENDING_MAX pending at
	 * once. A refusal is a page for the person (never a redirect).
	 */
	{
		char max[16];
		int64_t hits = 0;

		if ((rc = tg_rate_hit(c->db, TG_OAUTH_AUTHZ_WINDOW, &hits, NULL,
			 "oauth-authz:%s:%s", cidb, c->client_addr ? c->client_addr : "")) != TG_OK)
			goto out;
		snprintf(max, sizeof(max), "%d", TG_OAUTH_PENDING_MAX);
		p[0] = max;
		if ((rc = tg_db_exec(c->db, "SELECT count(*) >= $1::int FROM (SELECT 1"
					    " FROM oauth_requests WHERE expires_at > now() AND decided_at IS NULL"
					    " LIMIT $1::int) x",
			 1, p, &res_db)) != TG_OK)
			goto out;
		if (hits > TG_OAUTH_AUTHZ_PER_WINDOW || PQgetvalue(res_db, 0, 0)[0] == 't') {
			PQclear(res_db);
			res_db = NULL;
			tg_oauth_oerr(oe, 429, "temporarily_unavailable",
			    "too many sign-in requests for this application; wait a few minutes and start again");
			rc = -TG_E_RATE;
			goto out;
		}
		PQclear(res_db);
		res_db = NULL;
	}
	if ((rc = new_handle(h, sizeof(h), hash)) != TG_OK)
		goto out;
	snprintf(ttl, sizeof(ttl), "%d", TG_OAUTH_REQUEST_TTL);
	p[0] = hash;
	p[1] = cidb;
	p[2] = ruri;
	p[3] = state;
	p[4] = chal;
	p[5] = res;
	p[6] = scope;
	p[7] = ttl;
	p[8] = given ? "true" : "false";
	if ((rc = tg_db_exec(c->db,
		 "INSERT INTO oauth_requests (id, client_id, redirect_uri, state, code_challenge,"
		 " resource, scope, expires_at, redirect_given) VALUES ($1, $2::bigint, $3, $4,"
		 " $5, $6, $7, now() + make_interval(secs => $8::int), $9::boolean)",
		 9, p, NULL)) != TG_OK)
		goto out;
	/* The consent page (web/ui/consent.html): the handle in the fragment,
	 * which no server log or Referer ever carries. */
	snprintf(page, sizeof(page), "%s/ui/consent.html#request=%s", cfg->public_url, h);
	*location = strdup(page);
	rc = *location ? TG_OK : -TG_E_NOMEM;
out:
	json_decref(uris);
	return rc;
}

/* --- the consent page's API ------------------------------------------------ */

#define REQ_SQL \
	"SELECT r.id, oc.id, oc.client_id, oc.client_name, oc.client_uri, r.redirect_uri," \
	" r.state, r.code_challenge, r.resource, g.role, r.redirect_given" \
	" FROM oauth_requests r JOIN oauth_clients oc ON oc.id = r.client_id" \
	" LEFT JOIN oauth_grants g ON g.client_id = oc.id AND g.user_id = $2::bigint" \
	" WHERE r.id = $1 AND r.decided_at IS NULL AND r.expires_at > now()"

static int
need_person(const struct tg_call *c, struct tg_err *err)
{
	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "sign in first");
	return TG_OK;
}

int
tg_oauth_request_get(const struct tg_call *c, const char *handle,
    json_t **out, struct tg_err *err)
{
	char hash[TG_SHA256_HEX_LEN + 1], uid[24], host[TG_OAUTH_URI_MAX];
	const char *p[2];
	PGresult *res = NULL;
	json_t *roles;
	enum tg_role r, remembered = TG_ROLE_NONE;
	int rc;

	if ((rc = need_person(c, err)) != TG_OK)
		return rc;
	if (handle_hash(handle, hash) != TG_OK)
		return tg_err_set(err, TG_E_NOTFOUND, "no such authorization request (or it expired)");
	snprintf(uid, sizeof(uid), "%lld", (long long)c->who->user_id);
	p[0] = hash;
	p[1] = uid;
	if ((rc = tg_db_exec(c->db, REQ_SQL, 2, p, &res)) != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return tg_err_set(err, TG_E_NOTFOUND,
		    "no such authorization request (or it expired, or was decided already)");
	}
	redirect_host(PQgetvalue(res, 0, 5), host, sizeof(host));
	if (!PQgetisnull(res, 0, 9))
		remembered = tg_role_parse(PQgetvalue(res, 0, 9));
	if (remembered > c->who->role)
		remembered = TG_ROLE_NONE;
	roles = json_array();
	for (r = TG_ROLE_VIEWER; roles != NULL && r <= c->who->role; r++)
		json_array_append_new(roles, json_string(tg_role_name(r)));
	*out = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:o, s:s?, s:s}",
	    "client_id", PQgetvalue(res, 0, 2), "client_name", PQgetvalue(res, 0, 3),
	    "client_uri", PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4),
	    "redirect_uri", PQgetvalue(res, 0, 5), "redirect_host", host,
	    "resource", PQgetvalue(res, 0, 8), "roles", roles ? roles : json_array(),
	    "remembered_role", remembered == TG_ROLE_NONE ? NULL : tg_role_name(remembered),
	    "username", c->who->username ? c->who->username : "");
	PQclear(res);
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}

struct decide {
	const char *hash;
	int allow;
	enum tg_role role; /* requested, or NONE */
	char *redirect; /* out, malloc'd */
};

static int
decide_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	const struct tg_config *cfg = c->cfg;
	struct decide *st = arg;
	const char *p[7], *pairs[7];
	char uid[24], code[TG_OAUTH_HANDLE_LEN + 1], chash[TG_SHA256_HEX_LEN + 1];
	char ttl[16], *grant = NULL;
	PGresult *res = NULL, *g = NULL;
	enum tg_role role, remembered = TG_ROLE_NONE;
	json_t *d;
	int rc;

	snprintf(uid, sizeof(uid), "%lld", (long long)c->who->user_id);
	p[0] = st->hash;
	p[1] = uid;
	if ((rc = tg_db_exec(c->db, REQ_SQL " FOR UPDATE OF r", 2, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = tg_err_set(err, TG_E_NOTFOUND,
		    "no such authorization request (or it expired, or was decided already)");
		goto out;
	}
	if (!PQgetisnull(res, 0, 9))
		remembered = tg_role_parse(PQgetvalue(res, 0, 9));
	if ((rc = tg_db_exec(c->db, "UPDATE oauth_requests SET decided_at = now()"
				    " WHERE id = $1",
		 1, p, NULL)) != TG_OK)
		goto out;
	pairs[4] = "state";
	pairs[5] = PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6);
	pairs[6] = NULL;
	if (!st->allow) {
		pairs[0] = "error";
		pairs[1] = "access_denied";
		pairs[2] = "error_description";
		pairs[3] = "the person denied the request";
		d = json_pack("{s:s}", "client_id", PQgetvalue(res, 0, 2));
		rc = tg_audit_call(c, "oauth.deny", PQgetvalue(res, 0, 2), TG_AUDIT_OK, d);
		json_decref(d);
		if (rc == TG_OK && (st->redirect = with_params(PQgetvalue(res, 0, 5), cfg->public_url, pairs)) == NULL)
			rc = -TG_E_NOMEM;
		goto out;
	}
	/* security: never above the caller's own (effective) role */
	role = st->role != TG_ROLE_NONE ? st->role :
	    remembered != TG_ROLE_NONE  ? remembered :
					  c->who->role;
	if (role > c->who->role) {
		rc = tg_err_field(err, "role", "may not be above your own role (%s)",
		    tg_role_name(c->who->role));
		goto out;
	}
	p[0] = uid;
	p[1] = PQgetvalue(res, 0, 1);
	p[2] = tg_role_name(role);
	if ((rc = tg_db_exec(c->db,
		 "WITH c AS (UPDATE oauth_clients SET last_used_at = now() WHERE id = $2::bigint)"
		 " INSERT INTO oauth_grants (user_id, client_id, role) VALUES ($1::bigint, $2::bigint, $3)"
		 " ON CONFLICT (user_id, client_id) DO UPDATE SET role = EXCLUDED.role,"
		 " updated_at = now() RETURNING id",
		 3, p, &g)) != TG_OK)
		goto out;
	if ((grant = strdup(PQgetvalue(g, 0, 0))) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = new_handle(code, sizeof(code), chash)) != TG_OK)
		goto out;
	snprintf(ttl, sizeof(ttl), "%d", TG_OAUTH_CODE_TTL);
	p[0] = chash;
	p[1] = grant;
	p[2] = PQgetvalue(res, 0, 5);
	p[3] = PQgetvalue(res, 0, 7);
	p[4] = PQgetvalue(res, 0, 8);
	p[5] = ttl;
	p[6] = PQgetvalue(res, 0, 10);
	if ((rc = tg_db_exec(c->db,
		 "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge,"
		 " resource, expires_at, redirect_given) VALUES ($1, $2::bigint, $3, $4, $5,"
		 " now() + make_interval(secs => $6::int), $7::boolean)",
		 7, p, NULL)) != TG_OK)
		goto out;
	d = json_pack("{s:s, s:s}", "client_id", PQgetvalue(res, 0, 2), "role", tg_role_name(role));
	rc = tg_audit_call(c, "oauth.authorize", PQgetvalue(res, 0, 2), TG_AUDIT_OK, d);
	json_decref(d);
	if (rc != TG_OK)
		goto out;
	pairs[0] = "code";
	pairs[1] = code;
	pairs[2] = "state";
	pairs[3] = pairs[5];
	pairs[4] = NULL;
	if ((st->redirect = with_params(PQgetvalue(res, 0, 5), cfg->public_url, pairs)) == NULL)
		rc = -TG_E_NOMEM;
out:
	tg_crypto_wipe(code, sizeof(code));
	PQclear(res);
	PQclear(g);
	free(grant);
	return rc;
}

int
tg_oauth_decide(const struct tg_call *c, const char *handle, json_t *in,
    json_t **out, struct tg_err *err)
{
	char hash[TG_SHA256_HEX_LEN + 1];
	const char *decision = NULL, *role = NULL;
	struct decide st;
	json_error_t je;
	int rc;

	if ((rc = need_person(c, err)) != TG_OK)
		return rc;
	if (c->cfg == NULL || c->cfg->public_url[0] == '\0')
		return tg_err_set(err, TG_E_NOTFOUND, "OAuth is off (TOOLGATE_PUBLIC_URL is not set)");
	if (in == NULL || json_unpack_ex(in, &je, JSON_STRICT, "{s:s, s?s}", "decision", &decision, "role", &role) != 0)
		return tg_err_field(err, "body", "{\"decision\": \"allow\"|\"deny\", \"role\"?}");
	memset(&st, 0, sizeof(st));
	if (strcmp(decision, "allow") == 0)
		st.allow = 1;
	else if (strcmp(decision, "deny") != 0)
		return tg_err_field(err, "decision", "must be allow or deny");
	if (role != NULL && (st.role = tg_role_parse(role)) == TG_ROLE_NONE)
		return tg_err_field(err, "role", "must be viewer, developer or admin");
	if (handle_hash(handle, hash) != TG_OK)
		return tg_err_set(err, TG_E_NOTFOUND, "no such authorization request (or it expired)");
	st.hash = hash;
	if ((rc = tg_call_tx(c, decide_tx, &st, err)) != TG_OK) {
		free(st.redirect);
		return rc;
	}
	*out = json_pack("{s:s}", "redirect_to", st.redirect);
	free(st.redirect);
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}
