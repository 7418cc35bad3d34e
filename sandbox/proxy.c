/*
 * proxy.c - the egress proxy: the only way out of the sandbox's network.
 *
 * Runs as a separate process outside the sandbox (forked by the helper, same
 * uid as the worker, dies with the helper) and serves the listening unix
 * socket that the child created at /run/toolgate/egress.sock inside the
 * sandbox. The runner's `toolgate.http` helper speaks one JSON object per
 * line:
 *
 *   -> {"method":"GET","url":"https://api.example.com/x","headers":{..},
 *       "body_b64":"..","timeout_ms":10000}
 *   <- {"ok":true,"status":200,"headers":{..},"body_b64":"..","url":".."}
 *   <- {"ok":false,"error":"host \"evil.com\" is not in the allowed hosts"}
 *
 * Rules: http and https only; no userinfo; the host must be in the run's
 * allowed_hosts ("api.example.com" = default ports, "api.example.com:8443",
 * "*.example.com" = any subdomain); the address libcurl actually connects to
 * is checked in the open-socket callback, after DNS resolution, so DNS
 * rebinding cannot reach loopback, private, link-local (cloud metadata),
 * CGNAT, multicast or reserved ranges; no proxy from the environment; a
 * redirect is followed (up to 5) only to the same scheme, host and port;
 * responses are capped at 5 MiB and every request at min(its timeout, 30 s,
 * the run's deadline). In the test build only (-DTG_SANDBOX_TEST_HOOKS,
 * build/tests/toolgate-sandbox-test), --egress-test-allow HOST:PORT admits
 * one loopback endpoint so the allow/deny/redirect logic can be tested
 * offline; the production helper has no such exception.
 *
 * The package installer's own runs (the request's "package_egress",
 * packages.c; never a tool run) also have: "download": true for GET of the
 * configured index and extra hosts, streamed to the client as frames
 * ("<hex length>\n" + bytes, then "0\n", then the JSON line without a
 * body) under their own cap instead of the 5 MiB one; private and
 * loopback addresses for exactly the configured hosts (checked per
 * connection against the URL's host, so another name that resolves into
 * private space is still refused); and "store" of unpacked files into the
 * installer's output directory.
 */
#include "sandbox/sbx.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PX_MAX_LINE	(8 * 1024 * 1024)
#define PX_MAX_BODY	(5 * 1024 * 1024)
#define PX_MAX_REQS	256
#define PX_MAX_REDIR	5

struct px {
	const json_t *hosts;
	long long deadline;
#ifdef TG_SANDBOX_TEST_HOOKS
	const char *test_allow;	/* --egress-test-allow */
#endif
	char refused[160];
	char *body;
	size_t body_len;
	int body_over;
	json_t *headers;
	/* the package installer's runs (packages.c) */
	const char *cur_host, *cur_scheme;
	long cur_port;
	int cfd;		/* the client: download frames go there */
	CURL *c;
	long long dl_max, dl_total;	/* download mode when dl_max > 0 */
	int dl_fail;
};

/*
 * libcurl is loaded with dlopen() by the proxy process only, never linked
 * into the helper: libcurl's dependency tree (gnutls, krb5, ldap, ssh2,
 * nghttp2 ... 30 shared objects) cost ~12 ms of loading and relocation at
 * every helper start, tool calls without egress included.
 */
static struct {
	/* the prototypes of curl.h, whatever they are in this version */
#define CU(f) __typeof__(&curl_##f) f
	CU(global_init);
	CU(easy_init);
	CU(easy_setopt);
	CU(easy_perform);
	CU(easy_getinfo);
	CU(easy_strerror);
	CU(easy_cleanup);
	CU(free);
	CU(slist_append);
	CU(slist_free_all);
	CU(url);
	CU(url_set);
	CU(url_get);
	CU(url_cleanup);
#undef CU
} cu;

_Static_assert(sizeof(void (*)(void)) == sizeof(void *),
    "dlsym() results are copied into function pointers");

/* 0, or -1 when libcurl or one of its symbols is missing. Function and
 * object pointers share one representation on every POSIX platform, which
 * dlsym() relies on anyway. */
static int
load_curl(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL), *p;

	if (h == NULL)
		return -1;
#define SYM(f) do { \
		if ((p = dlsym(h, "curl_" #f)) == NULL) \
			return -1; \
		memcpy(&cu.f, &p, sizeof p); \
	} while (0)
	SYM(global_init);
	SYM(easy_init);
	SYM(easy_setopt);
	SYM(easy_perform);
	SYM(easy_getinfo);
	SYM(easy_strerror);
	SYM(easy_cleanup);
	SYM(free);
	SYM(slist_append);
	SYM(slist_free_all);
	SYM(url);
	SYM(url_set);
	SYM(url_get);
	SYM(url_cleanup);
#undef SYM
	return 0;
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const char *in, size_t n)
{
	char *o = malloc((n + 2) / 3 * 4 + 1), *p;
	size_t i;

	if (o == NULL)
		return NULL;
	p = o;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = ((unsigned char)in[i] << 16) |
		    ((unsigned char)in[i + 1] << 8) | (unsigned char)in[i + 2];

		*p++ = b64[v >> 18];
		*p++ = b64[(v >> 12) & 63];
		*p++ = b64[(v >> 6) & 63];
		*p++ = b64[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		*p++ = b64[v >> 18];
		*p++ = b64[(v >> 12) & 63];
		*p++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return o;
}

static int
b64_val(char c)
{
	const char *q = c ? strchr(b64, c) : NULL;

	return q ? (int)(q - b64) : -1;
}

static int
b64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), i, j = 0;
	unsigned v = 0;
	int bits = 0;
	char *o = malloc(n / 4 * 3 + 3);

	if (o == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		int d;

		if (in[i] == '=')
			break;
		d = b64_val(in[i]);
		if (d < 0) {
			free(o);
			return -1;
		}
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[j++] = (char)((v >> bits) & 0xff);
		}
	}
	*out = o;
	*outlen = j;
	return 0;
}

/* ---- address policy ----------------------------------------------------- */

static int
v4_public(uint32_t a)
{
	static const struct {
		uint32_t net;
		int len;
	} bad[] = {
		{0x00000000, 8}, {0x0a000000, 8}, {0x64400000, 10},
		{0x7f000000, 8}, {0xa9fe0000, 16}, {0xac100000, 12},
		{0xc0000000, 24}, {0xc0000200, 24}, {0xc0a80000, 16},
		{0xc6120000, 15}, {0xc6336400, 24}, {0xcb007100, 24},
		{0xe0000000, 4}, {0xf0000000, 4},
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t mask = bad[i].len ? ~0U << (32 - bad[i].len) : 0;

		if ((a & mask) == bad[i].net)
			return 0;
	}
	return 1;
}

static int
v6_public(const unsigned char *b)
{
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	uint32_t v4;

	if (memcmp(b, zero, 12) == 0 || memcmp(b, mapped, 12) == 0 ||
	    memcmp(b, nat64, 12) == 0) {
		memcpy(&v4, b + 12, 4);
		if (memcmp(b, zero, 12) == 0)
			return 0;	/* ::, ::1 and deprecated compat */
		return v4_public(ntohl(v4));
	}
	if (b[0] == 0x20 && b[1] == 0x02) {	/* 6to4 embeds a v4 */
		memcpy(&v4, b + 2, 4);
		return v4_public(ntohl(v4));
	}
	if ((b[0] & 0xfe) == 0xfc || b[0] == 0xff ||
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) ||
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) ||
	    (b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0))
		return 0;
	return 1;
}

#ifdef TG_SANDBOX_TEST_HOOKS
/* the test build's one exception (--egress-test-allow) */
static int
test_allowed(const struct px *px, const char *ip, unsigned port)
{
	char want[80];
	int n;

	if (px->test_allow == NULL)
		return 0;
	n = snprintf(want, sizeof want, "%s:%u", ip, port);
	if (n < 0 || (size_t)n >= sizeof want)
		return 0;
	return strcmp(want, px->test_allow) == 0;
}
#else
static int
test_allowed(const struct px *px, const char *ip, unsigned port)
{
	(void)px;
	(void)ip;
	(void)port;
	return 0;	/* production: no exception */
}
#endif

static int host_allowed(const json_t *hosts, const char *host,
    const char *scheme, long port);

static curl_socket_t
open_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct px *px = ud;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int ok = 0;

	(void)purpose;
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->addr;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		port = ntohs(s->sin_port);
		ok = v4_public(ntohl(s->sin_addr.s_addr));
	} else if (a->family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->addr;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		port = ntohs(s->sin6_port);
		ok = v6_public(s->sin6_addr.s6_addr);
	}
	if (!ok && !test_allowed(px, ip, port) &&
	    !sbx_pkg_private_ok(px->cur_host, px->cur_scheme, px->cur_port,
	    host_allowed)) {
		snprintf(px->refused, sizeof px->refused, "address %s is private, "
		    "loopback, link-local or reserved: refused", ip);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- host policy -------------------------------------------------------- */

static int
host_allowed(const json_t *hosts, const char *host, const char *scheme,
    long port)
{
	size_t i, hl = strlen(host);
	json_t *h;
	long defport = strcmp(scheme, "https") == 0 ? 443 : 80;

	json_array_foreach(hosts, i, h) {
		const char *e = json_string_value(h), *colon;
		char name[256];
		long eport = defport;
		size_t nl;

		colon = strrchr(e, ':');
		if (colon != NULL && strchr(e, ']') == NULL) {
			char *end;

			eport = strtol(colon + 1, &end, 10);
			if (*end != '\0' || eport <= 0 || eport > 65535)
				continue;
			nl = (size_t)(colon - e);
		} else
			nl = strlen(e);
		if (nl >= sizeof name)
			continue;
		memcpy(name, e, nl);
		name[nl] = '\0';
		if (port != eport)
			continue;
		if (strncmp(name, "*.", 2) == 0) {
			size_t sl = nl - 1;	/* ".example.com" */

			if (hl > sl && strcasecmp(host + hl - sl, name + 1) == 0)
				return 1;
		} else if (strcasecmp(host, name) == 0)
			return 1;
	}
	return 0;
}

/* Split url; checks scheme and userinfo. Caller frees *host, *scheme. */
static int
url_parts(const char *url, char **scheme, char **host, long *port,
    char *err, size_t errlen)
{
	CURLU *u = cu.url();
	char *user = NULL, *p = NULL;
	int rc = -1;

	*scheme = *host = NULL;
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cu.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "invalid URL");
		goto out;
	}
	if (cu.url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
	    (strcmp(*scheme, "http") != 0 && strcmp(*scheme, "https") != 0)) {
		snprintf(err, errlen, "only http and https URLs are allowed");
		goto out;
	}
	if (cu.url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(err, errlen, "credentials in URLs are not allowed");
		goto out;
	}
	if (cu.url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "URL has no host");
		goto out;
	}
	if (cu.url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(err, errlen, "URL has no port");
		goto out;
	}
	*port = strtol(p, NULL, 10);
	rc = 0;
out:
	cu.free(user);
	cu.free(p);
	cu.url_cleanup(u);
	if (rc != 0) {
		cu.free(*scheme);
		cu.free(*host);
		*scheme = *host = NULL;
	}
	return rc;
}

/* ---- one request -------------------------------------------------------- */

/* download mode: a 2xx body goes to the client as it arrives (frames),
 * never into memory; other bodies (redirects, errors) are dropped */
static size_t
download_cb(struct px *px, const char *d, size_t n)
{
	long st = 0;
	char hdr[32];
	int hl;

	cu.easy_getinfo(px->c, CURLINFO_RESPONSE_CODE, &st);
	if (st < 200 || st > 299 || n == 0)
		return n;
	if (px->dl_total + (long long)n > px->dl_max) {
		px->body_over = 1;
		return 0;
	}
	hl = snprintf(hdr, sizeof hdr, "%zx\n", n);
	if (sbx_send_all(px->cfd, hdr, (size_t)hl) != 0 ||
	    sbx_send_all(px->cfd, d, n) != 0) {
		px->dl_fail = 1;
		return 0;
	}
	px->dl_total += (long long)n;
	return n;
}

static size_t
write_cb(char *d, size_t sz, size_t nm, void *ud)
{
	struct px *px = ud;
	size_t n = sz * nm;
	char *np;

	if (px->dl_max > 0)
		return download_cb(px, d, n);
	if (px->body_len + n > PX_MAX_BODY) {
		px->body_over = 1;
		return 0;
	}
	np = realloc(px->body, px->body_len + n + 1);
	if (np == NULL)
		return 0;
	px->body = np;
	memcpy(px->body + px->body_len, d, n);
	px->body_len += n;
	return n;
}

static size_t
header_cb(char *d, size_t sz, size_t nm, void *ud)
{
	struct px *px = ud;
	size_t n = sz * nm, i, k;
	char name[128];
	const char *colon;

	if (n >= 5 && strncmp(d, "HTTP/", 5) == 0) {
		json_object_clear(px->headers);	/* a new response */
		return n;
	}
	colon = memchr(d, ':', n);
	if (colon == NULL || (size_t)(colon - d) >= sizeof name)
		return n;
	for (i = 0; d + i < colon; i++)
		name[i] = (char)((d[i] >= 'A' && d[i] <= 'Z') ? d[i] + 32 : d[i]);
	name[i] = '\0';
	k = (size_t)(colon - d) + 1;
	while (k < n && (d[k] == ' ' || d[k] == '\t'))
		k++;
	while (n > k && (d[n - 1] == '\r' || d[n - 1] == '\n'))
		n--;
	json_object_set_new(px->headers, name, json_stringn(d + k, n - k));
	return sz * nm;
}

static json_t *
errdoc(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *
handle(struct px *px, json_t *req)
{
	const char *method = "GET", *url = NULL, *body64 = NULL;
	json_t *hdrs = NULL, *resp = NULL, *h;
	json_int_t tmo = 10000;
	char err[256], *body = NULL, *scheme = NULL, *host = NULL;
	char *cur_url = NULL, *b64o = NULL;
	size_t body_len = 0;
	struct curl_slist *sl = NULL;
	CURL *c = NULL;
	long port = 0, status = 0;
	const char *k;
	int redirects, download = 0;
	json_error_t je;
	json_t *store = NULL;

	px->dl_max = px->dl_total = 0;
	px->dl_fail = 0;
	if ((store = json_object_get(req, "store")) != NULL) {
		if (!sbx_pkg_installer())
			return errdoc("store is for the package installer only");
		return sbx_pkg_store(store, b64_decode);
	}
	if (json_unpack_ex(req, &je, JSON_STRICT, "{s?s, s:s, s?o, s?s, s?I, "
	    "s?b}", "method", &method, "url", &url, "headers", &hdrs,
	    "body_b64", &body64, "timeout_ms", &tmo, "download", &download) != 0) {
		snprintf(err, sizeof err, "bad egress request: %s", je.text);
		return errdoc(err);
	}
	if (download && strcmp(method, "GET") != 0)
		return errdoc("download is GET only");
	if (strcmp(method, "GET") && strcmp(method, "POST") &&
	    strcmp(method, "PUT") && strcmp(method, "PATCH") &&
	    strcmp(method, "DELETE") && strcmp(method, "HEAD"))
		return errdoc("method not allowed");
	if (hdrs != NULL && !json_is_object(hdrs))
		return errdoc("headers must be an object of strings");
	if (body64 != NULL && b64_decode(body64, &body, &body_len) != 0)
		return errdoc("body_b64 is not valid base64");
	if (tmo < 1 || tmo > (download ? 600000 : 30000))
		tmo = download ? 600000 : 30000;
	if (px->deadline - sbx_now_ms() < tmo)
		tmo = px->deadline - sbx_now_ms();
	if (tmo < 1) {
		resp = errdoc("the run's deadline has passed");
		goto out;
	}
	if (hdrs != NULL)
		json_object_foreach(hdrs, k, h) {
			char line[8192];
			int n;

			if (!json_is_string(h) || strpbrk(k, "\r\n:") ||
			    strpbrk(json_string_value(h), "\r\n") ||
			    strcasecmp(k, "host") == 0 ||
			    strncasecmp(k, "proxy-", 6) == 0) {
				resp = errdoc("header not allowed");
				goto out;
			}
			n = snprintf(line, sizeof line, "%s: %s", k,
			    json_string_value(h));
			if (n < 0 || (size_t)n >= sizeof line) {
				resp = errdoc("header too long");
				goto out;
			}
			sl = cu.slist_append(sl, line);
		}
	cur_url = strdup(url);
	px->headers = json_object();
	if (cur_url == NULL || px->headers == NULL) {
		resp = errdoc("out of memory");
		goto out;
	}
	for (redirects = 0;; redirects++) {
		char *nscheme = NULL, *nhost = NULL, *loc = NULL;
		long nport = 0;
		CURLcode cc;

		if (url_parts(cur_url, &nscheme, &nhost, &nport, err,
		    sizeof err) != 0) {
			resp = errdoc(err);
			goto out;
		}
		if (scheme != NULL && (strcmp(scheme, nscheme) != 0 ||
		    strcasecmp(host, nhost) != 0 || port != nport)) {
			snprintf(err, sizeof err, "redirect to another host "
			    "refused: %.180s", cur_url);
			cu.free(nscheme);
			cu.free(nhost);
			resp = errdoc(err);
			goto out;
		}
		if (scheme == NULL) {
			scheme = nscheme;
			host = nhost;
			port = nport;
		} else {
			cu.free(nscheme);
			cu.free(nhost);
		}
		if (!host_allowed(px->hosts, host, scheme, port)) {
			snprintf(err, sizeof err, "host \"%.120s\" (port %ld) is "
			    "not in the allowed hosts", host, port);
			resp = errdoc(err);
			goto out;
		}
		px->cur_host = host;
		px->cur_scheme = scheme;
		px->cur_port = port;
		if (download && (px->dl_max = sbx_pkg_download_cap(host, scheme,
		    port, host_allowed)) <= 0) {
			resp = errdoc("download is for the package installer and "
			    "its configured index hosts only");
			goto out;
		}
		cu.easy_cleanup(c);
		c = cu.easy_init();
		if (c == NULL) {
			resp = errdoc("out of memory");
			goto out;
		}
		free(px->body);
		px->body = NULL;
		px->body_len = 0;
		px->body_over = 0;
		px->refused[0] = '\0';
		json_object_clear(px->headers);
		cu.easy_setopt(c, CURLOPT_URL, cur_url);
		cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		cu.easy_setopt(c, CURLOPT_PROXY, "");
		cu.easy_setopt(c, CURLOPT_NOPROXY, "*");
		cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tmo);
		cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)tmo);
		px->c = c;
		cu.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)(download ? px->dl_max : PX_MAX_BODY));
		cu.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cb);
		cu.easy_setopt(c, CURLOPT_OPENSOCKETDATA, px);
		cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
		cu.easy_setopt(c, CURLOPT_WRITEDATA, px);
		cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
		cu.easy_setopt(c, CURLOPT_HEADERDATA, px);
		cu.easy_setopt(c, CURLOPT_USERAGENT, "toolgate-egress/1");
		cu.easy_setopt(c, CURLOPT_HTTPHEADER, sl);
		cu.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
		if (strcmp(method, "HEAD") == 0)
			cu.easy_setopt(c, CURLOPT_NOBODY, 1L);
		else if (strcmp(method, "GET") != 0)
			cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL) {
			cu.easy_setopt(c, CURLOPT_POSTFIELDS, body);
			cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)body_len);
		}
		cc = cu.easy_perform(c);
		if (cc != CURLE_OK) {
			if (px->refused[0])
				resp = errdoc(px->refused);
			else if (download && (px->body_over ||
			    cc == CURLE_FILESIZE_EXCEEDED)) {
				snprintf(err, sizeof err, "download larger than "
				    "the package download cap (%lld MiB, "
				    "TOOLGATE_PIP_MAX_DOWNLOAD): refused",
				    px->dl_max >> 20);
				resp = errdoc(err);
			} else if (px->body_over || cc == CURLE_FILESIZE_EXCEEDED)
				resp = errdoc("response larger than 5 MiB: refused");
			else {
				snprintf(err, sizeof err, "request failed: %s",
				    cu.easy_strerror(cc));
				resp = errdoc(err);
			}
			goto out;
		}
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 300 || status > 399 || status == 304 ||
		    cu.easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) !=
		    CURLE_OK || loc == NULL)
			break;
		if (redirects >= PX_MAX_REDIR) {
			resp = errdoc("too many redirects");
			goto out;
		}
		free(cur_url);
		cur_url = strdup(loc);
		if (cur_url == NULL) {
			resp = errdoc("out of memory");
			goto out;
		}
		if (status != 307 && status != 308) {
			method = "GET";
			free(body);
			body = NULL;
			cu.easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		}
	}
	if (download) {
		resp = json_pack("{s:b, s:i, s:O, s:s, s:I}", "ok", 1, "status",
		    (int)status, "headers", px->headers, "url", cur_url, "bytes",
		    (json_int_t)px->dl_total);
		goto out;
	}
	b64o = b64_encode(px->body ? px->body : "", px->body_len);
	if (b64o == NULL) {
		resp = errdoc("out of memory");
		goto out;
	}
	resp = json_pack("{s:b, s:i, s:O, s:s, s:s}", "ok", 1, "status",
	    (int)status, "headers", px->headers, "body_b64", b64o, "url",
	    cur_url);
out:
	cu.easy_cleanup(c);
	px->c = NULL;
	px->cur_host = px->cur_scheme = NULL;
	px->dl_max = 0;
	cu.slist_free_all(sl);
	cu.free(scheme);
	cu.free(host);
	free(cur_url);
	free(body);
	free(b64o);
	free(px->body);
	px->body = NULL;
	json_decref(px->headers);
	px->headers = NULL;
	return resp;
}

/*
 * Observability (issue #23): one line per request on fd SBX_EGRESS_REPORT_FD
 * (a non-blocking pipe to the helper, which puts them in the status as
 * "egress"; the worker makes them spans). Only the method, the host (no
 * path, query or credentials: they may hold secrets), the HTTP status and
 * the wall-clock times; written before the answer goes to the tool, so a
 * finished run's lines are all in the pipe. A full or missing pipe loses
 * the line, never the request.
 */
static void
report(const json_t *req, const json_t *resp, long long start_us,
    long long end_us)
{
	const char *url = json_string_value(json_object_get(req, "url"));
	const char *m = json_string_value(json_object_get(req, "method"));
	char host[256] = "", *s;
	const char *h;
	json_t *doc;
	size_t n;

	if (url != NULL && (h = strstr(url, "://")) != NULL) {
		h += 3;
		n = strcspn(h, "/?#");
		if (n >= sizeof host)
			n = sizeof host - 1;
		memcpy(host, h, n);
		host[n] = '\0';
		if (strchr(host, '@') != NULL)
			host[0] = '\0';
	}
	doc = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "method",
	    m && strlen(m) < 16 ? m : "?", "host", host, "ok",
	    json_is_true(json_object_get(resp, "ok")), "status",
	    (json_int_t)json_integer_value(json_object_get(resp, "status")),
	    "start_us", (json_int_t)start_us, "dur_us",
	    (json_int_t)(end_us - start_us));
	s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (s == NULL)
		return;
	n = strlen(s);
	s[n++] = '\n';
	if (n <= 512)	/* atomic in a pipe */
		(void)!write(SBX_EGRESS_REPORT_FD, s, n);
	free(s);
}

static long long
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
send_line(int fd, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	size_t n, off = 0;
	int rc = 0;

	if (s == NULL)
		s = strdup("{\"ok\":false,\"error\":\"internal error\"}");
	if (s == NULL)
		return -1;
	n = strlen(s);
	s[n] = '\n';	/* replaces the NUL; we track the length */
	n++;
	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	free(s);
	return rc;
}

void
sbx_proxy_main(int lfd, const json_t *hosts, long long deadline_ms,
    const char *test_allow)
{
	struct px px;
	char *line = NULL;
	size_t cap = 65536;
	int served = 0, connected = 0;
	int max_reqs = sbx_pkg_installer() ? 1000000 : PX_MAX_REQS;

	memset(&px, 0, sizeof px);
	px.hosts = hosts;
	px.deadline = deadline_ms;
#ifdef TG_SANDBOX_TEST_HOOKS
	px.test_allow = test_allow;
#else
	(void)test_allow;	/* always NULL: no test hooks in production */
#endif
	if (load_curl() != 0 || cu.global_init(CURL_GLOBAL_DEFAULT) != 0)
		_exit(1);
	line = malloc(cap);
	if (line == NULL)
		_exit(1);
	{
		int acc = 0;
		socklen_t al = sizeof acc;

		/* warm sandboxes hand over one connected socket */
		if (getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) == 0 &&
		    acc == 0)
			connected = 1;
	}
	while (served < max_reqs && sbx_now_ms() < deadline_ms) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		size_t len = 0;
		int cfd;

		if (connected) {
			if (connected++ > 1)
				break;
			cfd = lfd;
			goto serve;
		}
		if (poll(&p, 1, (int)(deadline_ms - sbx_now_ms())) <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
serve:
		/* one connection: requests, one per line */
		for (;;) {
			char *nl;
			ssize_t r;

			nl = len ? memchr(line, '\n', len) : NULL;
			if (nl != NULL) {
				size_t ll = (size_t)(nl - line);
				json_t *req, *resp;
				long long t0 = wall_us();

				req = json_loadb(line, ll, JSON_REJECT_DUPLICATES,
				    NULL);
				px.cfd = cfd;
				resp = req && json_is_object(req) ?
				    handle(&px, req) : errdoc("bad egress request");
				report(req, resp, t0, wall_us());
				served++;
				/* a download's frames end with an empty one */
				r = json_is_true(json_object_get(req, "download")) ?
				    sbx_send_all(cfd, "0\n", 2) : 0;
				json_decref(req);
				if (r == 0)
					r = send_line(cfd, resp);
				json_decref(resp);
				memmove(line, nl + 1, len - ll - 1);
				len -= ll + 1;
				if (r != 0 || served >= max_reqs)
					break;
				continue;
			}
			if (len == cap) {
				char *np;

				if (cap >= PX_MAX_LINE)
					break;
				np = realloc(line, cap * 2);
				if (np == NULL)
					break;
				line = np;
				cap *= 2;
			}
			r = recv(cfd, line + len, cap - len, 0);
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		close(cfd);
	}
	_exit(0);
}
