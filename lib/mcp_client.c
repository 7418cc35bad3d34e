/*
 * mcp_client.c - MCP Streamable HTTP client over libcurl (see
 * mcp_client.h for the contract).
 *
 * Design. One CURL easy handle per struct tg_mcp_client, created on the
 * first POST and reused for the operation (initialize, the initialized
 * notification and the request share a connection). Each POST is a
 * transfer with its own state (struct xfer): captured headers, the body
 * (capped), an SSE parser when the answer is an event stream, and the
 * JSON-RPC response once found. The address policy runs in the
 * open-socket callback, i.e. on the address curl really connects to, after
 * its own resolution, so a DNS answer cannot change between check and use.
 * Sessions are plain strings in the struct; lib/sources.c loads and saves
 * them in external_sources so every worker continues the same session.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/mcp_client.h"
#include "lib/trace.h"	/* observability */
#include "lib/rows.h"
#include "lib/status.h"

#ifndef TG_VERSION
#define TG_VERSION "0.0.0-dev"
#endif

#define SESSION_GONE 1		/* internal: re-initialise and retry */

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

/* ------------------------------------------------------------ URLs */

int
tg_mcp_url_check(const char *url, struct tg_mcp_url *out, char *why, size_t cap)
{
	struct tg_mcp_url u;
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL,
	    *frag = NULL, *zone = NULL;
	const unsigned char *s;
	size_t n;
	int rc = -TG_E_UNPROCESSABLE;

	memset(&u, 0, sizeof(u));
	if (url == NULL || *url == '\0') {
		snprintf(why, cap, "a URL is required");
		return rc;
	}
	n = strlen(url);
	if (n > TG_MCP_URL_MAX) {
		snprintf(why, cap, "at most %d bytes", TG_MCP_URL_MAX);
		return rc;
	}
	for (s = (const unsigned char *)url; *s; s++)
		if (*s <= 0x20 || *s == 0x7f) {
			snprintf(why, cap, "no spaces or control characters");
			return rc;
		}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		snprintf(why, cap, "only http:// and https:// URLs");
		return rc;
	}
	if (url[strncasecmp(url, "http://", 7) == 0 ? 7 : 8] == '/') {
		snprintf(why, cap, "the URL needs a host");
		return rc;
	}
	if ((h = curl_url()) == NULL) {
		rc = -TG_E_NOMEM;
		snprintf(why, cap, "out of memory");
		goto out;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(why, cap, "not a valid URL");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(why, cap, "only http:// and https:// URLs");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		snprintf(why, cap, "no user or password in the URL; use the auth settings");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		snprintf(why, cap, "no fragment (#...) in the URL");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
		snprintf(why, cap, "no IPv6 zone id in the URL");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(why, cap, "the URL needs a host");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(why, cap, "not a valid port");
		goto out;
	}
	u.https = strcmp(scheme, "https") == 0;
	n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		if (n - 2 >= sizeof(u.host))
			goto toolong;
		memcpy(u.host, host + 1, n - 2);
		u.host[n - 2] = '\0';
	} else {
		if (n >= sizeof(u.host))
			goto toolong;
		memcpy(u.host, host, n + 1);
	}
	u.port = strtol(port, NULL, 10);
	if (u.port < 1 || u.port > 65535) {
		snprintf(why, cap, "not a valid port");
		goto out;
	}
	u.host_is_ip = tg_mcp_addr_classify_str(u.host) >= 0;
	if (out)
		*out = u;
	rc = TG_OK;
	goto out;
toolong:
	snprintf(why, cap, "the host name is too long");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_free(frag);
	curl_free(zone);
	curl_url_cleanup(h);
	return rc;
}

/* ------------------------------------------------------- addresses */

static enum tg_addr_class
classify4(uint32_t a)
{
	if (a == 0xA9FEA9FEu || a == 0x646464C8u)	/* 169.254.169.254, 100.100.100.200 */
		return TG_ADDR_METADATA;
	if ((a >> 24) == 0)
		return TG_ADDR_RESERVED;
	if ((a >> 24) == 10)
		return TG_ADDR_PRIVATE;
	if ((a & 0xFFC00000u) == 0x64400000u)		/* 100.64/10 */
		return TG_ADDR_PRIVATE;
	if ((a >> 24) == 127)
		return TG_ADDR_LOOPBACK;
	if ((a & 0xFFFF0000u) == 0xA9FE0000u)		/* 169.254/16 */
		return TG_ADDR_LINKLOCAL;
	if ((a & 0xFFF00000u) == 0xAC100000u)		/* 172.16/12 */
		return TG_ADDR_PRIVATE;
	if ((a & 0xFFFFFF00u) == 0xC0000000u ||	/* 192.0.0/24 */
	    (a & 0xFFFFFF00u) == 0xC0000200u ||	/* 192.0.2/24 */
	    (a & 0xFFFFFF00u) == 0xC0586300u ||	/* 192.88.99/24 */
	    (a & 0xFFFE0000u) == 0xC6120000u ||	/* 198.18/15 */
	    (a & 0xFFFFFF00u) == 0xC6336400u ||	/* 198.51.100/24 */
	    (a & 0xFFFFFF00u) == 0xCB007100u)		/* 203.0.113/24 */
		return TG_ADDR_RESERVED;
	if ((a & 0xFFFF0000u) == 0xC0A80000u)		/* 192.168/16 */
		return TG_ADDR_PRIVATE;
	if (a == 0xFFFFFFFFu || (a >> 28) == 0xE)	/* broadcast, 224/4 */
		return TG_ADDR_MULTICAST;
	if ((a >> 28) == 0xF)				/* 240/4 */
		return TG_ADDR_RESERVED;
	return TG_ADDR_PUBLIC;
}

static uint32_t
v4at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static enum tg_addr_class
classify6(const unsigned char *b)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char ec2md[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0x02, 0x54};

	if (memcmp(b, zero, 16) == 0)
		return TG_ADDR_RESERVED;		/* :: */
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return TG_ADDR_LOOPBACK;		/* ::1 */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return classify4(v4at(b + 12));
	if (memcmp(b, zero, 12) == 0)
		return TG_ADDR_RESERVED;		/* ::a.b.c.d (deprecated) */
	if (b[0] == 0x20 && b[1] == 0x02)
		return classify4(v4at(b + 2));		/* 6to4 */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
		return TG_ADDR_RESERVED;		/* Teredo */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return TG_ADDR_RESERVED;		/* documentation */
	if (b[0] == 0x01 && memcmp(b + 1, zero, 7) == 0)
		return TG_ADDR_RESERVED;		/* 100::/64 discard */
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
		return TG_ADDR_PRIVATE;			/* 64:ff9b:1::/48 local NAT64 */
	if (memcmp(b, ec2md, 16) == 0)
		return TG_ADDR_METADATA;
	if ((b[0] & 0xfe) == 0xfc)
		return TG_ADDR_PRIVATE;			/* fc00::/7 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return TG_ADDR_LINKLOCAL;		/* fe80::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return TG_ADDR_PRIVATE;			/* fec0::/10 */
	if (b[0] == 0xff)
		return TG_ADDR_MULTICAST;
	return TG_ADDR_PUBLIC;
}

enum tg_addr_class
tg_mcp_addr_classify(const struct sockaddr *sa)
{
	if (sa == NULL)
		return TG_ADDR_RESERVED;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return classify4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return classify6(in6->sin6_addr.s6_addr);
	}
	return TG_ADDR_RESERVED;
}

int
tg_mcp_addr_classify_str(const char *s)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, &a4) == 1)
		return (int)classify4(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return (int)classify6(a6.s6_addr);
	return -1;
}

const char *
tg_mcp_addr_class_name(enum tg_addr_class c)
{
	switch (c) {
	case TG_ADDR_PUBLIC: return "public";
	case TG_ADDR_LOOPBACK: return "loopback";
	case TG_ADDR_PRIVATE: return "private";
	case TG_ADDR_LINKLOCAL: return "link-local";
	case TG_ADDR_METADATA: return "cloud metadata";
	case TG_ADDR_RESERVED: return "reserved";
	case TG_ADDR_MULTICAST: return "multicast/broadcast";
	}
	return "reserved";
}

int
tg_mcp_addr_allowed(enum tg_addr_class c, int internal)
{
	switch (c) {
	case TG_ADDR_PUBLIC:
		return 1;
	case TG_ADDR_LOOPBACK:
	case TG_ADDR_PRIVATE:
	case TG_ADDR_LINKLOCAL:
		return internal != 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------- SSE */

void
tg_sse_init(struct tg_sse *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->line.max = max;
	p->data.max = max;
}

void
tg_sse_free(struct tg_sse *p)
{
	tg_buf_free(&p->line);
	tg_buf_free(&p->data);
}

/* One complete line (without its terminator). */
static int
sse_line(struct tg_sse *p, const char *s, size_t n, tg_sse_event_fn fn, void *ctx)
{
	const char *colon, *v;
	size_t flen, vlen;
	int rc;

	if (n == 0) {			/* blank line: dispatch */
		if (!p->has_data) {
			p->event[0] = '\0';
			return 0;
		}
		rc = fn(ctx, p->event, p->data.p ? p->data.p : "", p->data.len);
		tg_buf_reset(&p->data);
		p->has_data = 0;
		p->event[0] = '\0';
		return rc;
	}
	if (s[0] == ':')		/* comment */
		return 0;
	colon = memchr(s, ':', n);
	flen = colon ? (size_t)(colon - s) : n;
	v = colon ? colon + 1 : s + n;
	vlen = colon ? n - flen - 1 : 0;
	if (vlen > 0 && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (flen == 4 && memcmp(s, "data", 4) == 0) {
		if (p->has_data && (rc = tg_buf_append(&p->data, "\n", 1)) != TG_OK)
			return rc;
		if ((rc = tg_buf_append(&p->data, v, vlen)) != TG_OK)
			return rc;
		p->has_data = 1;
	} else if (flen == 5 && memcmp(s, "event", 5) == 0) {
		if (vlen >= sizeof(p->event))
			vlen = sizeof(p->event) - 1;
		memcpy(p->event, v, vlen);
		p->event[vlen] = '\0';
	}
	/* id, retry and unknown fields: ignored */
	return 0;
}

int
tg_sse_feed(struct tg_sse *p, const char *buf, size_t n, tg_sse_event_fn fn, void *ctx)
{
	size_t i = 0, start;
	int rc;

	while (i < n) {
		if (p->last_cr) {	/* CRLF split across chunks */
			p->last_cr = 0;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		start = i;
		while (i < n && buf[i] != '\n' && buf[i] != '\r')
			i++;
		if (i == n) {		/* partial line: keep it */
			if ((rc = tg_buf_append(&p->line, buf + start, i - start)) != TG_OK)
				return rc;
			break;
		}
		if (p->line.len > 0) {
			if ((rc = tg_buf_append(&p->line, buf + start, i - start)) != TG_OK)
				return rc;
			rc = sse_line(p, p->line.p, p->line.len, fn, ctx);
			tg_buf_reset(&p->line);
		} else {
			rc = sse_line(p, buf + start, i - start, fn, ctx);
		}
		if (buf[i] == '\r') {
			if (i + 1 < n) {
				if (buf[i + 1] == '\n')
					i++;
			} else {
				p->last_cr = 1;
			}
		}
		i++;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------- transfers */

struct xfer {
	struct tg_mcp_client *c;
	int64_t want_id;		/* -1: notification */
	struct tg_buf body;
	struct tg_sse sse;
	int is_sse;
	int status_seen;
	size_t total;
	char ctype[128];
	char session[TG_MCP_CLIENT_SESSION_MAX];
	int session_bad;
	char location[256];
	json_t *msg;			/* the matching response */
	int done, too_large, refused, bad;
	char why[256];
};

static int
fail(struct tg_mcp_client *c, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct tg_mcp_client *c, int st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->failure = st;
	return st;
}

static curl_socket_t
opensock(void *cp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = cp;
	enum tg_addr_class k;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (purpose != CURLSOCKTYPE_IPCXN || (a->family != AF_INET && a->family != AF_INET6)) {
		x->refused = 1;
		snprintf(x->why, sizeof(x->why), "only IPv4/IPv6 destinations are allowed");
		return CURL_SOCKET_BAD;
	}
	k = tg_mcp_addr_classify(&a->addr);
	if (!tg_mcp_addr_allowed(k, x->c->internal)) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr,
			    ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr,
			    ip, sizeof(ip));
		x->refused = 1;
		snprintf(x->why, sizeof(x->why), "destination %s is a %s address%s", ip,
		    tg_mcp_addr_class_name(k),
		    k == TG_ADDR_LOOPBACK || k == TG_ADDR_PRIVATE || k == TG_ADDR_LINKLOCAL ?
		    "; an admin must mark the source as internal to allow it" :
		    " and is never allowed");
		tg_log(TG_LOG_WARN, "mcp_client.refused", "addr=%s class=%s", ip,
		    tg_mcp_addr_class_name(k));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void
copy_hval(char *dst, size_t cap, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		n--;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems, i;
	const char *colon;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {	/* a new response */
		x->ctype[0] = x->session[0] = x->location[0] = '\0';
		x->session_bad = 0;
		return n;
	}
	if ((colon = memchr(buf, ':', n)) == NULL)
		return n;
	i = (size_t)(colon - buf);
	if (i == 12 && strncasecmp(buf, "content-type", 12) == 0) {
		copy_hval(x->ctype, sizeof(x->ctype), colon + 1, n - i - 1);
	} else if (i == 14 && strncasecmp(buf, "mcp-session-id", 14) == 0) {
		const unsigned char *s;

		copy_hval(x->session, sizeof(x->session), colon + 1, n - i - 1);
		if (strlen(x->session) >= sizeof(x->session) - 1)
			x->session_bad = 1;
		for (s = (const unsigned char *)x->session; *s; s++)
			if (*s < 0x21 || *s > 0x7e)
				x->session_bad = 1;
	} else if (i == 8 && strncasecmp(buf, "location", 8) == 0) {
		copy_hval(x->location, sizeof(x->location), colon + 1, n - i - 1);
	}
	return n;
}

static int
ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
	    ct[n] == ' ');
}

/* Checks one JSON-RPC message; 1 when it is the response we wait for. */
static int
is_our_response(const struct xfer *x, const json_t *m)
{
	const json_t *id;

	if (!json_is_object(m))
		return 0;
	id = json_object_get(m, "id");
	if (json_object_get(m, "method") != NULL)
		return 0;		/* a server request or notification */
	return json_is_integer(id) && json_integer_value(id) == x->want_id;
}

static int
on_event(void *ctx, const char *event, const char *data, size_t len)
{
	struct xfer *x = ctx;
	json_error_t je;
	json_t *m;

	if (event[0] != '\0' && strcmp(event, "message") != 0)
		return 0;
	if (len == 0)
		return 0;		/* priming event */
	m = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (m == NULL) {
		x->bad = 1;
		snprintf(x->why, sizeof(x->why), "an SSE event is not valid JSON (%s)", je.text);
		return -TG_E_BADREQ;
	}
	if (is_our_response(x, m)) {
		x->msg = m;
		x->done = 1;
		return 1;
	}
	json_decref(m);
	return 0;
}

static size_t
on_body(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;
	long code = 0;
	int rc;

	x->total += n;
	if (x->c->max_bytes && x->total > x->c->max_bytes) {
		x->too_large = 1;
		return 0;
	}
	if (!x->status_seen) {
		x->status_seen = 1;
		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code);
		x->is_sse = code == 200 && ctype_is(x->ctype, "text/event-stream") &&
		    x->want_id >= 0;
	}
	if (x->is_sse) {
		rc = tg_sse_feed(&x->sse, buf, n, on_event, x);
		if (rc == 1)
			return 0;	/* done: stop reading the stream */
		if (rc == -TG_E_TOOLARGE) {
			x->too_large = 1;
			return 0;
		}
		if (rc < 0) {
			x->bad = 1;
			return 0;
		}
		return n;
	}
	if (tg_buf_append(&x->body, buf, n) != TG_OK) {
		x->too_large = 1;
		return 0;
	}
	return n;
}

static int
setup(struct tg_mcp_client *c)
{
	CURL *h;

	if (c->curl != NULL)
		return TG_OK;
	if ((h = curl_easy_init()) == NULL)
		return fail(c, -TG_E_NOMEM, "out of memory");
	c->curl = h;
	if (curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "toolgate/" TG_VERSION) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensock) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(c->max_bytes ? c->max_bytes : 0)) != CURLE_OK)
		return fail(c, -TG_E_INTERNAL, "could not configure the HTTP client");
	return TG_OK;
}

static int
add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct tg_buf b = {0};
	struct curl_slist *n;
	int rc;

	if ((rc = tg_buf_printf(&b, "%s: %s", name, value)) != TG_OK)
		return rc;
	n = curl_slist_append(*l, b.p);
	tg_buf_wipe(&b);
	if (n == NULL)
		return -TG_E_NOMEM;
	*l = n;
	return TG_OK;
}

static void
free_headers(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i; i = i->next)	/* one of them holds the credential */
		tg_crypto_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static int
check_response(struct tg_mcp_client *c, json_t *m, json_t **result)
{
	const json_t *err, *res, *code, *msg;

	if (!json_is_object(m) || !json_is_string(json_object_get(m, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(m, "jsonrpc")), "2.0") != 0)
		return fail(c, -TG_E_BADREQ, "the source sent a malformed JSON-RPC response"
		    " (no \"jsonrpc\": \"2.0\")");
	err = json_object_get(m, "error");
	res = json_object_get(m, "result");
	if ((err == NULL) == (res == NULL))
		return fail(c, -TG_E_BADREQ, "the source sent a malformed JSON-RPC response"
		    " (needs exactly one of result and error)");
	if (err != NULL) {
		code = json_object_get(err, "code");
		msg = json_object_get(err, "message");
		if (!json_is_integer(code) || !json_is_string(msg))
			return fail(c, -TG_E_BADREQ, "the source sent a malformed JSON-RPC error");
		c->rpc_code = (long)json_integer_value(code);
		return fail(c, -TG_E_UNPROCESSABLE, "the source answered with error %ld: %.400s",
		    c->rpc_code, json_string_value(msg));
	}
	if (!json_is_object(res))
		return fail(c, -TG_E_BADREQ, "the source sent a JSON-RPC result that is not an object");
	*result = json_incref((json_t *)res);
	return TG_OK;
}

/* Observability (issue #23): a CLIENT span per exchange, named after the
 * JSON-RPC method (and tool), with the source's host only (a URL may hold
 * a key in its query: never recorded). */
static int
span_begin(const struct tg_mcp_client *c, const json_t *msg)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *tool = json_string_value(json_object_get(json_object_get(msg,
	    "params"), "name"));
	const char *h;
	char name[160], host[256];
	size_t n;
	int span;

	if (tg_trace_current() == 0)
		return 0;
	snprintf(name, sizeof(name), "%s%s%s", method ? method : "mcp",
	    tool && method && strcmp(method, "tools/call") == 0 ? " " : "",
	    tool && method && strcmp(method, "tools/call") == 0 ? tool : "");
	span = tg_span_start(name, TG_SPAN_CLIENT);
	tg_span_str(span, "mcp.method.name", method);
	if (c->url != NULL && (h = strstr(c->url, "://")) != NULL) {
		h += 3;
		n = strcspn(h, "/?#");
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, h, n);
		host[n] = '\0';
		if (strchr(host, '@') == NULL)
			tg_span_str(span, "server.address", host);
	}
	return span;
}

/*
 * One POST of msg. For a request (want_id >= 0) *result receives the
 * JSON-RPC result. Returns 0, SESSION_GONE, or -TG_E_*.
 */
static int
post(struct tg_mcp_client *c, json_t *msg, int64_t want_id, int initializing,
    json_t **result)
{
	struct xfer x;
	struct curl_slist *hdr = NULL;
	char *body = NULL;
	json_t *m = NULL;
	json_error_t je;
	CURLcode cc;
	long code = 0, remain;
	int rc, span;
	char tp[TG_TRACEPARENT_LEN + 1];

	memset(&x, 0, sizeof(x));
	span = span_begin(c, msg);	/* observability */
	x.c = c;
	x.want_id = want_id;
	x.body.max = c->max_bytes;
	tg_sse_init(&x.sse, c->max_bytes);
	c->http_status = 0;
	if ((rc = setup(c)) != TG_OK)
		goto out;
	remain = (long)((c->deadline_us - tg_now_us()) / 1000);
	if (remain <= 0) {
		rc = fail(c, -TG_E_TIMEOUT, "the source did not answer within %ld ms",
		    c->timeout_ms);
		goto out;
	}
	if ((body = json_dumps(msg, JSON_COMPACT)) == NULL) {
		rc = fail(c, -TG_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = add_header(&hdr, "Content-Type", "application/json")) != TG_OK ||
	    (rc = add_header(&hdr, "Accept", "application/json, text/event-stream")) != TG_OK ||
	    (rc = add_header(&hdr, "Expect", "")) != TG_OK)
		goto oom;
	if (!initializing && c->version[0] &&
	    (rc = add_header(&hdr, "MCP-Protocol-Version", c->version)) != TG_OK)
		goto oom;
	if (!initializing && c->session_id[0] &&
	    (rc = add_header(&hdr, "Mcp-Session-Id", c->session_id)) != TG_OK)
		goto oom;
	if (c->auth_name && c->auth_value &&
	    (rc = add_header(&hdr, c->auth_name, c->auth_value)) != TG_OK)
		goto oom;
	/* observability: W3C Trace Context to the source */
	if (tg_trace_traceparent(tp, sizeof(tp)) == 0 &&
	    ((rc = add_header(&hdr, "traceparent", tp)) != TG_OK ||
	    (tg_trace_tracestate()[0] &&
	    (rc = add_header(&hdr, "tracestate", tg_trace_tracestate())) != TG_OK)))
		goto oom;
	if (curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body)) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, remain) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    c->connect_timeout_ms < remain ? c->connect_timeout_ms : remain) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETDATA, &x) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x) != CURLE_OK) {
		rc = fail(c, -TG_E_INTERNAL, "could not configure the HTTP client");
		goto out;
	}
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	c->http_status = code;
	if (x.refused && cc != CURLE_OK) {
		rc = fail(c, -TG_E_FORBIDDEN, "refused: %s", x.why);
		goto out;
	}
	if (x.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = fail(c, -TG_E_TOOLARGE, "the source's response exceeds the %zu-byte limit",
		    c->max_bytes);
		goto out;
	}
	if (x.bad) {
		rc = fail(c, -TG_E_BADREQ, "the source sent a malformed response: %s",
		    x.why[0] ? x.why : "bad event stream");
		goto out;
	}
	if (!x.done && cc != CURLE_OK) {
		if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = fail(c, -TG_E_TIMEOUT, "the source did not answer within %ld ms"
			    " (%s)", c->timeout_ms, curl_easy_strerror(cc));
		else
			rc = fail(c, -TG_E_UNAVAIL, "could not reach the source: %s",
			    curl_easy_strerror(cc));
		goto out;
	}
	if (code >= 300 && code < 400) {
		rc = fail(c, -TG_E_UNAVAIL, "the source answered with a redirect (HTTP %ld%s%s);"
		    " redirects are never followed: configure the final URL", code,
		    x.location[0] ? " to " : "", x.location);
		goto out;
	}
	if (!initializing && c->session_id[0] && (code == 404 || (code == 400 &&
	    x.body.p && strcasestr(x.body.p, "session") != NULL))) {
		rc = SESSION_GONE;
		goto out;
	}
	if (code == 401 || code == 403) {
		rc = fail(c, -TG_E_UNAVAIL, "the source refused the request (HTTP %ld):"
		    " check the source's credentials", code);
		goto out;
	}
	if (code < 200 || code >= 300) {
		rc = fail(c, -TG_E_UNAVAIL, "the source answered HTTP %ld", code);
		goto out;
	}
	if (initializing) {
		if (x.session_bad) {
			rc = fail(c, -TG_E_BADREQ, "the source sent an invalid Mcp-Session-Id");
			goto out;
		}
		snprintf(c->session_id, sizeof(c->session_id), "%s", x.session);
	}
	if (want_id < 0) {		/* notification: 202 (any 2xx) */
		rc = TG_OK;
		goto out;
	}
	if (x.done) {
		m = x.msg;
		x.msg = NULL;
	} else if (x.is_sse) {
		rc = fail(c, -TG_E_BADREQ, "the source's event stream ended without a response");
		goto out;
	} else if (ctype_is(x.ctype, "application/json")) {
		m = json_loadb(x.body.p ? x.body.p : "", x.body.len, JSON_REJECT_DUPLICATES, &je);
		if (m == NULL) {
			rc = fail(c, -TG_E_BADREQ, "the source sent invalid JSON: %s", je.text);
			goto out;
		}
		if (!json_is_object(m) || !json_is_integer(json_object_get(m, "id")) ||
		    json_integer_value(json_object_get(m, "id")) != want_id) {
			rc = fail(c, -TG_E_BADREQ, "the source sent a malformed JSON-RPC response"
			    " (not a response to request %lld)", (long long)want_id);
			goto out;
		}
	} else {
		rc = fail(c, -TG_E_BADREQ, "the source answered with content type \"%.100s\""
		    " (expected application/json or text/event-stream)", x.ctype);
		goto out;
	}
	rc = check_response(c, m, result);
	goto out;
oom:
	rc = fail(c, -TG_E_NOMEM, "out of memory");
out:
	if (span != 0) {	/* observability */
		if (c->http_status > 0)
			tg_span_int(span, "http.response.status_code", c->http_status);
		if (rc != TG_OK)
			tg_span_error(span, rc == SESSION_GONE ? "session gone" : c->error);
		tg_span_end(span);
	}
	if (c->curl)
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	free_headers(hdr);
	free(body);
	json_decref(m);
	json_decref(x.msg);
	tg_buf_free(&x.body);
	tg_sse_free(&x.sse);
	return rc;
}

/* ---------------------------------------------------------- client */

void
tg_mcp_client_init(struct tg_mcp_client *c)
{
	memset(c, 0, sizeof(*c));
	c->connect_timeout_ms = 5000;
	c->timeout_ms = 30000;
	c->max_bytes = 4u << 20;
	c->next_id = 1;
}

void
tg_mcp_client_cleanup(struct tg_mcp_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	json_decref(c->server_info);
	json_decref(c->server_caps);
	c->server_info = c->server_caps = NULL;
}

void
tg_mcp_client_begin(struct tg_mcp_client *c)
{
	c->deadline_us = tg_now_us() + (int64_t)c->timeout_ms * 1000;
	c->failure = 0;
	c->error[0] = '\0';
	c->rpc_code = 0;
}

static json_t *
request_msg(struct tg_mcp_client *c, const char *method, json_t *params,
    int64_t *id)
{
	json_t *m;

	*id = c->next_id++;
	m = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", (json_int_t)*id,
	    "method", method);
	if (m && params && json_object_set(m, "params", params) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

int
tg_mcp_client_initialize(struct tg_mcp_client *c)
{
	json_t *params = NULL, *m = NULL, *res = NULL, *note = NULL;
	const char *v = NULL;
	int64_t id;
	int rc, i, ok = 0;

	if (c->deadline_us == 0)
		tg_mcp_client_begin(c);
	c->session_id[0] = '\0';
	c->version[0] = '\0';
	c->session_changed = 1;
	params = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion",
	    TG_MCP_CLIENT_VERSION, "capabilities", "clientInfo", "name", "toolgate",
	    "version", TG_VERSION);
	if (params == NULL || (m = request_msg(c, "initialize", params, &id)) == NULL) {
		rc = fail(c, -TG_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = post(c, m, id, 1, &res)) != TG_OK) {
		if (rc == SESSION_GONE)
			rc = fail(c, -TG_E_UNAVAIL, "initialize failed");
		goto out;
	}
	if (json_is_string(json_object_get(res, "protocolVersion")))
		v = json_string_value(json_object_get(res, "protocolVersion"));
	for (i = 0; v && versions[i]; i++)
		if (strcmp(v, versions[i]) == 0)
			ok = 1;
	if (!ok) {
		c->session_id[0] = '\0';
		rc = fail(c, -TG_E_BADREQ, "the source speaks MCP protocol version \"%.40s\","
		    " which toolgate does not support (2025-03-26 or later is needed)",
		    v ? v : "(none)");
		goto out;
	}
	if (!json_is_object(json_object_get(res, "capabilities")) ||
	    !json_is_object(json_object_get(res, "serverInfo"))) {
		c->session_id[0] = '\0';
		rc = fail(c, -TG_E_BADREQ, "the source's initialize result lacks capabilities"
		    " or serverInfo");
		goto out;
	}
	snprintf(c->version, sizeof(c->version), "%s", v);
	json_decref(c->server_info);
	json_decref(c->server_caps);
	c->server_info = json_incref(json_object_get(res, "serverInfo"));
	c->server_caps = json_incref(json_object_get(res, "capabilities"));
	note = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized");
	if (note == NULL) {
		rc = fail(c, -TG_E_NOMEM, "out of memory");
		goto out;
	}
	rc = post(c, note, -1, 0, NULL);
	if (rc == SESSION_GONE)
		rc = fail(c, -TG_E_UNAVAIL, "the source forgot the session it just created");
out:
	if (rc != TG_OK) {
		c->session_id[0] = '\0';
		c->version[0] = '\0';
	}
	json_decref(params);
	json_decref(m);
	json_decref(res);
	json_decref(note);
	return rc;
}

int
tg_mcp_client_request(struct tg_mcp_client *c, const char *method,
    json_t *params, json_t **result)
{
	json_t *m = NULL;
	int64_t id;
	int rc, attempt;

	if (c->deadline_us == 0)
		tg_mcp_client_begin(c);
	for (attempt = 0; attempt < 2; attempt++) {
		if (c->version[0] == '\0' && (rc = tg_mcp_client_initialize(c)) != TG_OK)
			return rc;
		if ((m = request_msg(c, method, params, &id)) == NULL)
			return fail(c, -TG_E_NOMEM, "out of memory");
		rc = post(c, m, id, 0, result);
		json_decref(m);
		m = NULL;
		if (rc != SESSION_GONE)
			return rc;
		tg_log(TG_LOG_INFO, "mcp_client.session_gone", "method=%s", method);
		c->version[0] = '\0';	/* re-initialise once */
		c->session_id[0] = '\0';
		c->session_changed = 1;
	}
	return fail(c, -TG_E_UNAVAIL, "the source keeps rejecting its new session");
}

int
tg_mcp_client_list_tools(struct tg_mcp_client *c, json_t **tools)
{
	json_t *all = NULL, *res = NULL, *params = NULL, *t;
	char *cursor = NULL;
	const json_t *next;
	size_t i;
	int page, rc;

	if ((all = json_array()) == NULL)
		return fail(c, -TG_E_NOMEM, "out of memory");
	for (page = 0; ; page++) {
		if (page >= TG_MCP_CLIENT_MAX_PAGES) {
			rc = fail(c, -TG_E_TOOLARGE, "the source's tool list has more than %d pages",
			    TG_MCP_CLIENT_MAX_PAGES);
			goto out;
		}
		params = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
		if (cursor && params == NULL) {
			rc = fail(c, -TG_E_NOMEM, "out of memory");
			goto out;
		}
		rc = tg_mcp_client_request(c, "tools/list", params, &res);
		json_decref(params);
		params = NULL;
		if (rc != TG_OK)
			goto out;
		if (!json_is_array(json_object_get(res, "tools"))) {
			rc = fail(c, -TG_E_BADREQ, "the source's tools/list result has no tools array");
			goto out;
		}
		json_array_foreach(json_object_get(res, "tools"), i, t) {
			if (!json_is_object(t) || !json_is_string(json_object_get(t, "name"))) {
				rc = fail(c, -TG_E_BADREQ, "the source listed a tool without a name");
				goto out;
			}
			if (json_array_size(all) >= TG_MCP_CLIENT_MAX_TOOLS) {
				rc = fail(c, -TG_E_TOOLARGE, "the source lists more than %d tools",
				    TG_MCP_CLIENT_MAX_TOOLS);
				goto out;
			}
			if (json_array_append(all, t) != 0) {
				rc = fail(c, -TG_E_NOMEM, "out of memory");
				goto out;
			}
		}
		next = json_object_get(res, "nextCursor");
		if (!json_is_string(next) || json_string_length(next) == 0)
			break;
		if (cursor && strcmp(cursor, json_string_value(next)) == 0) {
			rc = fail(c, -TG_E_BADREQ, "the source repeats the same nextCursor");
			goto out;
		}
		free(cursor);
		if ((cursor = strdup(json_string_value(next))) == NULL) {
			rc = fail(c, -TG_E_NOMEM, "out of memory");
			goto out;
		}
		json_decref(res);
		res = NULL;
	}
out:
	/* rc is tools/list's TG_OK after the last page */
	free(cursor);
	json_decref(res);
	return tg_json_hand(tools, all, rc);
}

int
tg_mcp_client_ping(struct tg_mcp_client *c)
{
	json_t *res = NULL;
	int rc;

	rc = tg_mcp_client_request(c, "ping", NULL, &res);
	json_decref(res);
	return rc;
}
