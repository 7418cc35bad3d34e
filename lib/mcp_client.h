/*
 * mcp_client.h - a small MCP client for the Streamable HTTP transport
 * (libcurl), used by lib/sources_remote.c to talk to external MCP servers.
 *
 * What it does (MCP 2025-03-26 .. 2025-11-25, client side):
 *   - every JSON-RPC message is one POST with
 *     "Accept: application/json, text/event-stream";
 *   - initialize with the newest version we speak (TG_MCP_CLIENT_VERSION);
 *     the server's answer must be one we support, else the source is
 *     refused; then notifications/initialized (202 expected);
 *   - the Mcp-Session-Id the server gave is sent on every later request,
 *     with MCP-Protocol-Version; the caller persists the session (in
 *     PostgreSQL) so any worker can continue it: c->session_changed says
 *     when it must be saved;
 *   - a 404 to a request carrying a session id (and, for servers that
 *     answer so, a 400 naming the session) means the session is gone: the
 *     client initialises again once and repeats the request;
 *   - responses are application/json (one JSON-RPC response) or
 *     text/event-stream (SSE: server requests and notifications before
 *     the response are skipped; the transfer ends as soon as the matching
 *     response arrived);
 *   - tools/list follows nextCursor (bounded pages and tools); ping.
 *
 * Safety: http and https only, no userinfo in URLs; redirects are never
 * followed (a 3xx is an error naming the status and Location); TLS peer
 * and host verification always on; no proxy from the environment; one
 * deadline per operation (connect timeout and total timeout); the response
 * body is capped in the write callback; every address curl is about to
 * connect to (after DNS resolution, in CURLOPT_OPENSOCKETFUNCTION, so there
 * is no rebinding window) is classified and loopback, private, link-local,
 * reserved and cloud-metadata destinations are refused unless the source
 * is marked internal; metadata, unspecified and multicast addresses are
 * refused even then.
 *
 * Errors: functions return 0 or -TG_E_*; c->error holds a one-line reason
 * safe to show to users (never a credential), c->failure classifies it:
 *   -TG_E_TIMEOUT   deadline passed (connect or total)
 *   -TG_E_FORBIDDEN destination refused by the address policy
 *   -TG_E_TOOLARGE  response over the cap
 *   -TG_E_UNAVAIL   connection failed, HTTP error, redirect
 *   -TG_E_BADREQ    malformed response / JSON-RPC
 *   -TG_E_UNPROCESSABLE the server answered with a JSON-RPC error
 *                   (c->rpc_code, c->error has its message)
 */
#ifndef TG_MCP_CLIENT_H
#define TG_MCP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "lib/buf.h"

#define TG_MCP_CLIENT_VERSION "2025-11-25"
#define TG_MCP_CLIENT_SESSION_MAX 256
#define TG_MCP_CLIENT_MAX_PAGES 50
#define TG_MCP_CLIENT_MAX_TOOLS 2000
#define TG_MCP_URL_MAX 2048

/* --- URL and address policy (pure, unit-tested) ------------------------ */

struct tg_mcp_url {
	int https;
	char host[256];		/* without brackets for IPv6 */
	long port;
	int host_is_ip;		/* IPv4/IPv6 literal */
};

/* Checks url: absolute http(s) URL, a host, no userinfo, no fragment, no
 * whitespace or control bytes, at most TG_MCP_URL_MAX bytes. Fills *out
 * (may be NULL). Returns 0 or -TG_E_UNPROCESSABLE with why. */
int tg_mcp_url_check(const char *url, struct tg_mcp_url *out, char *why,
    size_t cap);

enum tg_addr_class {
	TG_ADDR_PUBLIC = 0,
	TG_ADDR_LOOPBACK,	/* 127/8, ::1 */
	TG_ADDR_PRIVATE,	/* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10 */
	TG_ADDR_LINKLOCAL,	/* 169.254/16, fe80::/10 */
	TG_ADDR_METADATA,	/* 169.254.169.254, 100.100.100.200, fd00:ec2::254 */
	TG_ADDR_RESERVED,	/* 0/8, 240/4, TEST-NETs, 198.18/15, ::, ::/96, 2001:db8::/32, Teredo */
	TG_ADDR_MULTICAST,	/* 224/4, 255.255.255.255, ff00::/8 */
};

/* Classifies an IPv4 (AF_INET) or IPv6 (AF_INET6) socket address. IPv6
 * forms that embed an IPv4 address (v4-mapped ::ffff:a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are classified by the embedded address.
 * Other families are TG_ADDR_RESERVED. */
enum tg_addr_class tg_mcp_addr_classify(const struct sockaddr *sa);
/* The same for a numeric address string; -1 when s is not one. */
int tg_mcp_addr_classify_str(const char *s);
const char *tg_mcp_addr_class_name(enum tg_addr_class c);
/* 1 when the policy allows connecting to class c (internal: the admin
 * marked the source as internal). */
int tg_mcp_addr_allowed(enum tg_addr_class c, int internal);

/* --- SSE parsing (pure, unit-tested) ----------------------------------- */

/* Called per dispatched event (data joined with '\n', NUL-terminated);
 * event is "" when the stream named none. Return 0 to go on, 1 to stop
 * (done), or a negative status to fail. */
typedef int (*tg_sse_event_fn)(void *ctx, const char *event,
    const char *data, size_t len);

struct tg_sse {
	struct tg_buf line;	/* the current line */
	struct tg_buf data;	/* data of the current event */
	char event[64];
	int has_data;
	int last_cr;		/* previous chunk ended in CR */
	size_t max;		/* cap for one line / one event; 0 = none */
};

void tg_sse_init(struct tg_sse *p, size_t max);
/* Feeds n bytes; calls fn for every complete event. Returns 0, 1 (fn said
 * done), -TG_E_TOOLARGE, -TG_E_NOMEM, or fn's negative status. */
int tg_sse_feed(struct tg_sse *p, const char *buf, size_t n,
    tg_sse_event_fn fn, void *ctx);
void tg_sse_free(struct tg_sse *p);

/* --- the client ---------------------------------------------------------- */

struct tg_mcp_client {
	/* set by the caller before use */
	const char *url;
	int internal;			/* allow private destinations */
	const char *auth_name;		/* header name or NULL */
	const char *auth_value;		/* secret; wiped copies only */
	long connect_timeout_ms;
	long timeout_ms;		/* deadline of one operation */
	size_t max_bytes;		/* response body cap */
	/* session state: load before use, save when session_changed */
	char session_id[TG_MCP_CLIENT_SESSION_MAX];
	char version[32];
	int session_changed;
	/* after initialize (NULL when it did not run in this client) */
	json_t *server_info;		/* owned */
	json_t *server_caps;		/* owned */
	/* diagnostics of the last failure */
	int failure;			/* -TG_E_* or 0 */
	long http_status;
	long rpc_code;
	char error[512];
	/* internal */
	void *curl;
	int64_t deadline_us;
	int64_t next_id;
};

/* Zeroes c and sets defaults (5 s connect, 30 s total, 4 MiB). */
void tg_mcp_client_init(struct tg_mcp_client *c);
/* Frees what c holds; safe to call twice. */
void tg_mcp_client_cleanup(struct tg_mcp_client *c);

/* Starts one operation: its deadline is now + timeout_ms. */
void tg_mcp_client_begin(struct tg_mcp_client *c);

/* initialize + notifications/initialized, replacing any session. */
int tg_mcp_client_initialize(struct tg_mcp_client *c);
/* A request in the session (initialising first when there is none, and
 * again once when the session turned out to be gone). *result gets the
 * JSON-RPC "result" (new reference). params may be NULL. */
int tg_mcp_client_request(struct tg_mcp_client *c, const char *method,
    json_t *params, json_t **result);
/* Every tool of the server (all pages): *tools is a new array. */
int tg_mcp_client_list_tools(struct tg_mcp_client *c, json_t **tools);
int tg_mcp_client_ping(struct tg_mcp_client *c);

#endif
