/*
 * mcp.c - /mcp, the MCP Streamable HTTP endpoint (docs/mcp.md), serving
 * two protocol eras side by side, chosen per request.
 *
 * Era selection (nothing is remembered between requests; a worker serves
 * any era and any session):
 *   MCP-Protocol-Version: 2026-07-28         -> modern (stateless) rules
 *   MCP-Protocol-Version: a 2025-era version -> legacy rules (sessions)
 *   MCP-Protocol-Version: anything else      -> 400 -32022 (both eras'
 *                                               versions in data.supported)
 *   no header, body _meta names a version    -> 400 -32020 (a modern request
 *                                               must carry the header)
 *   no header otherwise                      -> legacy (initialize, and
 *                                               pre-2025-06-18 clients)
 * The modern era never reads or writes sessions (Mcp-Session-Id is ignored,
 * never minted or echoed); the legacy era never sees resultType, cache
 * hints or server/discover. Both eras share the method handlers (dispatch()
 * and lib/mcp_tools.c); what differs is the envelope: validation before
 * dispatch and decoration of the result after it.
 *
 * Common checks (each failure answers with a JSON-RPC error with id null,
 * except -32022, which answers the body's id when the body parses):
 *   Origin not in TOOLGATE_ALLOWED_ORIGINS          403  -32000
 *   caller not authenticated (MCP auth required)    401  (problem+json,
 *                                                        WWW-Authenticate)
 *   Accept admits neither JSON nor SSE              406  -32000
 *   Content-Type not application/json               415  -32000
 *   MCP-Protocol-Version unknown                    400  -32022
 *   body not JSON                                   400  -32700
 *
 * Legacy (2025-11-25 and older), after the common checks:
 *   not a JSON-RPC message / empty batch            400  -32600
 *   batch under a version without batches           400  -32600
 *   no Mcp-Session-Id (anything but initialize)     400  -32000
 *   unknown, expired or foreign session             404  -32001
 *   MCP-Protocol-Version not the session's          400  -32000
 *   notifications and responses only -> 202; requests -> 200 with the
 *   response(s); method-level errors (-32601, -32602) in a 200.
 *   DELETE ends the session (204).
 *
 * Modern (2026-07-28), after the common checks (basic/transports/
 * streamable-http "Request Metadata" and "Server Validation"):
 *   batch, response or invalid message              400  -32600
 *   notification                                    202
 *   Mcp-Method missing or not the body's method     400  -32020
 *   _meta, its protocolVersion or clientCapabilities
 *   missing (basic/index "Per-request protocol
 *   fields")                                        400  -32602
 *   _meta protocolVersion not the header's          400  -32020
 *   _meta logLevel not a LoggingLevel               400  -32602
 *   method not served in this era (incl. initialize,
 *   ping, logging/setLevel, removed in 2026-07-28)  404  -32601
 *   tools/call: Mcp-Name missing, malformed or not
 *   params.name (after =?base64?...?= decoding)     400  -32020
 *   then 200 with the response; every result carries resultType
 *   "complete" and _meta io.modelcontextprotocol/serverInfo; tools/list
 *   and server/discover carry ttlMs and cacheScope. GET/DELETE -> 405.
 *
 * Streaming (both eras): when the client accepts text/event-stream and a
 * running tool emits progress (the request had _meta.progressToken) or
 * log messages (2025: at or above the session's logging/setLevel level,
 * "info" when never set; 2026: only when _meta io.modelcontextprotocol/
 * logLevel is present), the response becomes an SSE stream: the
 * notifications as they happen, then the response, then the end. Without
 * events (or without SSE in Accept) the response is plain JSON. Every
 * write is checked; when the client goes away (the FastCGI connection
 * reports hang-up, or a write fails) the sandbox run is killed - in
 * 2026-07-28 closing the response stream is the cancellation signal.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/config.h"
#include "fcgi/log.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/mcp.h"
#include "lib/access.h"	/* security: tg_access_charge */
#include "lib/jsonalloc.h"
#include "lib/status.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0-dev"
#endif

#define V_LATEST "2025-11-25"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define TTL_TOOLS_MS 30000		/* tools/list freshness hint */
#define TTL_DISCOVER_MS 300000		/* server/discover freshness hint */
#define MAX_NAME_HDR 1024		/* Mcp-Name header, bytes */
#define BATCH_MAX 64			/* security: messages per JSON-RPC batch */
#define BATCH_MAX_S "64"

const char *const tg_mcp_versions_2025[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07", NULL,
};

const char *const tg_mcp_versions_2026[] = {
	"2026-07-28", NULL,
};

static const char *const log_levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency", NULL,
};

static const char instructions[] =
    "toolgate serves approved Python tools of running servers as "
    "<server>__<tool>, plus toolgate_* management tools (by role) to "
    "write, test and submit tools for approval. Tool calls run in a "
    "sandbox and are never retried.";

const struct tg_mcp_backend tg_mcp_backend_db = {
	tg_mcp_session_create,
	tg_mcp_session_get,
	tg_mcp_session_delete,
	tg_mcp_session_mark_initialized,
	tg_mcp_session_set_log_level,
	tg_mcp_tools_list,
	tg_mcp_tools_call,
};

static int
in_list(const char *const *list, const char *s)
{
	int i;

	for (i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static int
batch_allowed(const char *version)
{
	return strcmp(version, "2025-03-26") == 0 ||
	    strcmp(version, "2024-11-05") == 0 || strcmp(version, "2024-10-07") == 0;
}

/* {"jsonrpc":"2.0","id":id,"error":{...}}; id borrowed (NULL -> null). */
static json_t *
rpc_error_new(json_t *id, int code, const char *message, json_t *data)
{
	json_t *e;

	e = json_pack("{s:i, s:s}", "code", code, "message", message);
	if (e == NULL) {
		json_decref(data);
		return NULL;
	}
	if (data != NULL && json_object_set_new(e, "data", data) != 0) {
		json_decref(e);
		return NULL;
	}
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
	    id ? id : json_null(), "error", e);
}

static json_t *
rpc_result_new(json_t *id, json_t *result)
{
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
	    "result", result);
}

/* A transport-level refusal: HTTP status plus a JSON-RPC error body. */
static int
refuse(struct tg_resp *resp, int http, int code, const char *message,
    json_t *data)
{
	json_t *body = rpc_error_new(NULL, code, message, data);

	if (body == NULL)
		return -TG_E_NOMEM;
	return tg_resp_json(resp, http, body);
}

/* Every version served, newest first (both eras). */
static json_t *
supported_versions_new(void)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && tg_mcp_versions_2026[i]; i++)
		if (json_array_append_new(a, json_string(tg_mcp_versions_2026[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	for (i = 0; a && tg_mcp_versions_2025[i]; i++)
		if (json_array_append_new(a, json_string(tg_mcp_versions_2025[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Does the Accept header admit type ("application/json")? Missing = yes. */
static int
accepts(const char *accept, const char *type)
{
	const char *p = accept;
	const char *slash = strchr(type, '/');
	size_t major = slash ? (size_t)(slash - type) : strlen(type);

	if (accept == NULL || *accept == '\0')
		return 1;
	while (*p) {
		const char *end = strchr(p, ','), *semi;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (end == NULL)
			end = p + strlen(p);
		semi = memchr(p, ';', (size_t)(end - p));
		len = (size_t)((semi ? semi : end) - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == strlen(type) && strncasecmp(p, type, len) == 0) ||
		    (len == 3 && strncmp(p, "*/*", 3) == 0) ||
		    (len == major + 2 && strncasecmp(p, type, major) == 0 &&
		    strncmp(p + major, "/*", 2) == 0)) {
			/* q=0 means "not acceptable". */
			if (semi && strstr(semi, "q=0") != NULL &&
			    strstr(semi, "q=0.") == NULL)
				return 0;
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int
loopback(const char *addr)
{
	if (addr == NULL)
		return 0;
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strncmp(addr, "::ffff:127.", 11) == 0;
}

/* Authentication policy for /mcp (the access step already verified any
 * credential that was presented). */
static int
check_auth(struct tg_req *req, struct tg_resp *resp)
{
	if (req->who.authenticated)
		return TG_OK;
	if (!req->ctx->cfg->mcp_auth_required && loopback(req->remote_addr))
		return TG_OK;
	if (tg_resp_header(req, resp, "WWW-Authenticate",
	    "Bearer realm=\"toolgate\"") != TG_OK)
		return -TG_E_NOMEM;
	return tg_resp_fail(req, resp, TG_E_UNAUTH,
	    req->ctx->cfg->mcp_auth_required ?
	    "/mcp needs Authorization: Bearer <API key or access token>" :
	    "anonymous MCP access (TOOLGATE_MCP_AUTH=none) is for loopback clients only");
}

/* --- one message ---------------------------------------------------- */

enum kind { K_INVALID, K_REQUEST, K_NOTIFICATION, K_RESPONSE };

/* Classifies msg; for invalid ones, *id is the id to answer with (or
 * NULL). */
static enum kind
classify(json_t *msg, json_t **id)
{
	json_t *jv, *m, *i, *p;

	*id = NULL;
	if (!json_is_object(msg))
		return K_INVALID;
	jv = json_object_get(msg, "jsonrpc");
	m = json_object_get(msg, "method");
	i = json_object_get(msg, "id");
	p = json_object_get(msg, "params");
	if (i != NULL && (json_is_string(i) || json_is_integer(i)))
		*id = i;
	if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0)
		return K_INVALID;
	if (m == NULL) {
		/* A response from the client (we never send requests, so it
		 * answers nothing; accepted and dropped). */
		if (*id != NULL && (json_object_get(msg, "result") != NULL) !=
		    (json_object_get(msg, "error") != NULL))
			return K_RESPONSE;
		return K_INVALID;
	}
	if (!json_is_string(m) || (p != NULL && !json_is_object(p)))
		return K_INVALID;
	if (i == NULL)
		return K_NOTIFICATION;
	if (*id == NULL)	/* null, fractional or other ids */
		return K_INVALID;
	return K_REQUEST;
}

/* Index of a LoggingLevel in log_levels, or -1. */
static int
level_index(const char *s)
{
	int i;

	for (i = 0; s && log_levels[i]; i++)
		if (strcmp(log_levels[i], s) == 0)
			return i;
	return -1;
}

/* --- the request being served ------------------------------------------ */

struct conn {
	struct tg_req *req;
	struct tg_resp *resp;
	const struct tg_mcp_backend *be;
	enum tg_mcp_era era;
	const char *version;
	struct tg_mcp_session session;
	int have_session;
	/* streaming (see the comment at the top) */
	int sse_ok;		/* Accept admits text/event-stream */
	int streaming;		/* SSE headers are out: respond() writes events */
	int dropping;		/* reliability: events dropped (client not reading) */
	int gone;		/* a write failed: the client is gone */
	int log_min;		/* lowest log level index forwarded; -1: none */
	json_t *progress_token;	/* borrowed from the request; NULL: none */
	double last_progress;
	int have_progress;
	/* The stamp of a cached result (tools/list) the backend returned for
	 * the last dispatched request; 0: none. See result_text(). */
	uint64_t stamp;
};

/* Base64 (RFC 4648 §4, padding optional) into out; 0, or -1 when
 * malformed or longer than cap - 1. out is NUL-terminated. */
static int
b64_decode(const char *in, size_t n, char *out, size_t cap)
{
	unsigned int acc = 0;
	size_t i, o = 0;
	int bits = 0, pad = 0;

	for (i = 0; i < n; i++) {
		char ch = in[i];
		int v;

		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -1;	/* data after padding */
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	out[o] = '\0';
	return memchr(out, '\0', o) ? -1 : 0;
}

/*
 * An Mcp-Name (or Mcp-Param-*) header value as plain text: the
 * "=?base64?...?=" sentinel form decoded, else the value itself, which
 * must be visible ASCII, space or tab (2026-07-28 basic/transports/
 * streamable-http "Value Encoding"). 0, or -1 when malformed.
 */
static int
header_text(const char *v, char *out, size_t cap)
{
	size_t n = strlen(v), i;

	if (n >= 11 && strncmp(v, "=?base64?", 9) == 0 &&
	    strcmp(v + n - 2, "?=") == 0)
		return b64_decode(v + 9, n - 11, out, cap);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!((ch >= 0x21 && ch <= 0x7e) || ch == ' ' || ch == '\t'))
			return -1;
	}
	if (n + 1 > cap)
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

/* A transport-level refusal answering request id (borrowed, may be NULL). */
static int
refuse_id(struct tg_resp *resp, int http, json_t *id, int code,
    const char *message, json_t *data)
{
	json_t *body = rpc_error_new(id, code, message, data);

	if (body == NULL)
		return -TG_E_NOMEM;
	return tg_resp_json(resp, http, body);
}

/* --- streaming ---------------------------------------------------------- */

static int
sse_begin(struct conn *cn)
{
	struct tg_resp *resp = cn->resp;

	resp->status = 200;
	resp->content_type = "text/event-stream";
	/* nginx already has fastcgi_buffering off for /mcp; the header keeps
	 * other proxies from buffering (2026-07-28 streamable-http
	 * "Receiving Messages"). */
	if (tg_resp_header(cn->req, resp, "X-Accel-Buffering", "no") != TG_OK)
		return -1;
	cn->streaming = 1;
	if (tg_resp_begin(cn->req, resp) != 0) {
		cn->gone = 1;
		tg_log(TG_LOG_INFO, "mcp.client_gone", "at=sse_begin");
		return -1;
	}
	return 0;
}

/* One SSE event carrying msg (stolen). 0, or -1 when the client is gone. */
static int
sse_send(struct conn *cn, json_t *msg)
{
	char *d = NULL, *ev = NULL;
	size_t n;
	int rc = -1;

	if (cn->gone)
		goto out;
	/* Compact JSON has no raw newlines (they are escaped in strings), so
	 * one data: line carries the whole message. */
	if ((d = tg_jsonalloc_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		goto out;
	n = strlen(d) + sizeof("event: message\ndata: \n\n");
	if ((ev = malloc(n)) == NULL)
		goto out;
	if (snprintf(ev, n, "event: message\ndata: %s\n\n", d) != (int)n - 1)
		goto out;
	if (tg_resp_write(cn->req, ev, n - 1) != 0) {
		cn->gone = 1;
		tg_log(TG_LOG_INFO, "mcp.client_gone", "at=sse_write");
		goto out;
	}
	rc = 0;
out:
	free(d);
	free(ev);
	json_decref(msg);
	return rc;
}

/* reliability: 1 when the connection to nginx can take more output now
 * (or there is no way to tell: CGI). */
static int
client_writable(struct conn *cn)
{
	const struct tg_io *io = cn->req->io;
	struct pollfd p;
	int fd = io->cancel_fd ? io->cancel_fd(io->ctx) : -1;

	if (fd <= 0)
		return 1;
	p.fd = fd;
	p.events = POLLOUT;
	p.revents = 0;
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		return 1;
	if (!cn->dropping)
		tg_log(TG_LOG_INFO, "mcp.events_dropped", "msg=\"the client is not reading; progress/log notifications are dropped\"");
	cn->dropping = 1;
	return 0;
}

/*
 * Sandbox event -> MCP notification on the response stream (see
 * lib/sandbox_client.h for the event documents). Returns 0 (sent or
 * dropped), or -1 when the client is gone, which ends the run.
 */
static int
on_tool_event(void *ctx, const json_t *ev)
{
	struct conn *cn = ctx;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *method;
	json_t *params = NULL, *msg;

	if (cn->gone)
		return -1;
	if (!cn->sse_ok || type == NULL)
		return 0;
	if (strcmp(type, "log") == 0) {
		const char *lv = json_string_value(json_object_get(ev, "level"));
		json_t *data = json_object_get(ev, "data");
		json_t *logger = json_object_get(ev, "logger");
		int li = level_index(lv);

		if (cn->log_min < 0 || li < cn->log_min || data == NULL)
			return 0;
		params = json_pack("{s:s, s:O}", "level", lv, "data", data);
		if (params != NULL && json_is_string(logger))
			json_object_set(params, "logger", logger);
		method = "notifications/message";
	} else if (strcmp(type, "progress") == 0) {
		json_t *p = json_object_get(ev, "progress");
		json_t *t = json_object_get(ev, "total");
		json_t *m = json_object_get(ev, "message");

		if (cn->progress_token == NULL || !json_is_number(p))
			return 0;
		/* "The progress value MUST increase with each notification". */
		if (cn->have_progress && json_number_value(p) <= cn->last_progress)
			return 0;
		cn->have_progress = 1;
		cn->last_progress = json_number_value(p);
		params = json_pack("{s:O, s:O}", "progressToken",
		    cn->progress_token, "progress", p);
		if (params != NULL && json_is_number(t))
			json_object_set(params, "total", t);
		if (params != NULL && json_is_string(m))
			json_object_set(params, "message", m);
		method = "notifications/progress";
	} else
		return 0;
	if (params == NULL)
		return 0;	/* out of memory: the event is dropped */
	msg = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method,
	    "params", params);
	if (msg == NULL)
		return 0;
	if (!cn->streaming && sse_begin(cn) != 0) {
		json_decref(msg);
		return -1;
	}
	/* reliability: progress and log notifications are dropped, never
	 * waited for, while the client is not reading (the connection to
	 * nginx is not writable): the sandbox loop that calls us must keep
	 * its deadline. A write that starts and then stalls is bounded by
	 * TOOLGATE_CLIENT_WRITE_TIMEOUT_MS (fcgi/worker.c). */
	if (!client_writable(cn)) {
		json_decref(msg);
		return 0;
	}
	return sse_send(cn, msg);
}

/* The final response (msg stolen): the last SSE event when streaming,
 * else a JSON body with the given status. */
static int
respond(struct conn *cn, int http, json_t *msg)
{
	if (cn->streaming) {
		(void)sse_send(cn, msg);	/* a gone client is not an error */
		return TG_OK;
	}
	return tg_resp_json(cn->resp, http, msg);
}

static int respond_stamped(struct conn *cn, json_t *id, const json_t *result);

/* --- methods (shared by both eras) ---------------------------------------- */

#define ERA_2025 (1 << TG_MCP_ERA_2025)
#define ERA_2026 (1 << TG_MCP_ERA_2026)

typedef int (*method_fn)(struct conn *cn, const struct tg_mcp_call *c,
    json_t *params, json_t **result, struct tg_rpc_err *err);

struct method {
	const char *name;
	int eras;		/* ERA_* mask */
	method_fn fn;
	/* 2026-07-28 CacheableResult: "public" / "private", NULL when the
	 * result is not cacheable; ttl_ms the freshness hint. */
	const char *cache_scope;
	int ttl_ms;
};

static int
m_ping(struct conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	(void)cn;
	(void)c;
	(void)params;
	*result = json_object();
	return *result ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
}

static int
m_tools_list(struct conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	const char *s = NULL;

	if (params && json_unpack_ex(params, &je, 0, "{s?s}", "cursor", &s) != 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "cursor must be a string");
	return cn->be->tools_list(c, s, result, &cn->stamp, err);
}

static int
m_tools_call(struct conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	const char *s = NULL;
	json_t *args = NULL;

	if (params == NULL || json_unpack_ex(params, &je, 0, "{s:s, s?o}",
	    "name", &s, "arguments", &args) != 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "tools/call needs name (string) and optional arguments (object)");
	if (args != NULL && json_is_null(args))
		args = NULL;
	if (args != NULL && !json_is_object(args))
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "arguments must be an object");
	return cn->be->tools_call(c, s, args, result, err);
}

static int
m_set_level(struct conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	const char *s = NULL;

	(void)c;
	if (params == NULL || json_unpack_ex(params, &je, 0, "{s:s}",
	    "level", &s) != 0 || level_index(s) < 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "level must be one of debug, info, notice, warning, error, critical, alert, emergency");
	if (cn->be->session_log_level(cn->req, &cn->session, s) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "could not store the level");
	*result = json_object();
	return *result ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
}

/* server/discover (2026-07-28 server/discover; DiscoverResult). The
 * server's identity is in _meta (added by decorate_2026) and, for clients
 * written against the drafts, in serverInfo as well. */
static int
m_discover(struct conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	(void)cn;
	(void)c;
	(void)params;
	*result = json_pack("{s:o, s:{s:{s:b}, s:{}}, s:{s:s, s:s, s:s}, s:s}",
	    "supportedVersions", supported_versions_new(),
	    "capabilities", "tools", "listChanged", 0, "logging",
	    "serverInfo", "name", "toolgate", "title", "toolgate",
	    "version", TG_VERSION, "instructions", instructions);
	return *result ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
}

static const struct method methods[] = {
	{"tools/list", ERA_2025 | ERA_2026, m_tools_list, "private", TTL_TOOLS_MS},
	{"tools/call", ERA_2025 | ERA_2026, m_tools_call, NULL, 0},
	{"server/discover", ERA_2026, m_discover, "public", TTL_DISCOVER_MS},
	/* Removed in 2026-07-28 (changelog, major change 5). */
	{"ping", ERA_2025, m_ping, NULL, 0},
	{"logging/setLevel", ERA_2025, m_set_level, NULL, 0},
};

static const struct method *
find_method(const char *name, enum tg_mcp_era era)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0 &&
		    (methods[i].eras & (1 << era)) != 0)
			return &methods[i];
	return NULL;
}

static json_t *
meta_of(json_t *params)
{
	json_t *meta = params ? json_object_get(params, "_meta") : NULL;

	return json_is_object(meta) ? meta : NULL;
}

/* Runs one request of either era; *result or err. */
static int
dispatch(struct conn *cn, const char *method, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	const struct method *m = find_method(method, cn->era);
	struct tg_mcp_call c;
	json_t *meta = meta_of(params), *tok;
	const struct tg_io *io = cn->req->io;
	unsigned long oom = tg_jsonalloc_failures();
	int rc;

	if (m == NULL && cn->era == TG_MCP_ERA_2025 &&
	    strcmp(method, "initialize") == 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_REQUEST,
		    "initialize must be sent alone, without a session");
	if (m == NULL)
		return tg_rpc_err_set(err, TG_RPC_METHOD_NOT_FOUND,
		    "Method not found: %s", method);
	cn->stamp = 0;
	memset(&c, 0, sizeof(c));
	c.req = cn->req;
	c.era = cn->era;
	c.version = cn->version;
	c.session = cn->have_session ? &cn->session : NULL;
	c.meta = meta;
	if (meta && json_is_string(json_object_get(meta, "traceparent")))
		c.traceparent = json_string_value(json_object_get(meta, "traceparent"));
	/* Streaming: progress when asked for, events to this response, and
	 * the connection to watch while a tool runs. */
	tok = meta ? json_object_get(meta, "progressToken") : NULL;
	cn->progress_token = json_is_string(tok) || json_is_integer(tok) ? tok : NULL;
	cn->have_progress = 0;
	c.on_event = on_tool_event;
	c.on_event_ctx = cn;
	c.cancel_fd = io->cancel_fd ? io->cancel_fd(io->ctx) : -1;
	rc = m->fn(cn, &c, params, result, err);
	/* jansson reports an allocation failure inside json_unpack as bad
	 * input: out of memory is -32603, never the client's mistake. */
	if (rc != 0 && err->code != TG_RPC_INTERNAL_ERROR &&
	    tg_jsonalloc_failures() != oom) {
		json_decref(err->data);
		err->data = NULL;
		rc = tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	}
	return rc;
}

/* --- 2025 era: sessions ----------------------------------------------------- */

static int
do_initialize(struct conn *cn, json_t *params, json_t **result,
    struct tg_rpc_err *err)
{
	json_error_t je;
	json_t *caps = NULL, *info = NULL, *ccaps = NULL;
	const char *want = NULL, *cname = NULL, *cver = NULL, *ver;
	unsigned long oom = tg_jsonalloc_failures();
	int rc;

	if (params == NULL || json_unpack_ex(params, &je, 0,
	    "{s:s, s:o, s:{s:s, s:s}}", "protocolVersion", &want,
	    "capabilities", &ccaps, "clientInfo", "name", &cname,
	    "version", &cver) != 0 || !json_is_object(ccaps))
		return tg_jsonalloc_failures() != oom ?
		    tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory") :
		    tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "initialize needs protocolVersion (string), capabilities (object) and clientInfo {name, version}");
	info = json_object_get(params, "clientInfo");
	/* Negotiation: the client's version when we speak it, else ours.
	 * A 2026-07-28 client never initializes (it has no handshake). */
	ver = in_list(tg_mcp_versions_2025, want) ? want : V_LATEST;
	rc = cn->be->session_create(cn->req, ver, info, ccaps, &cn->session);
	if (rc != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "could not create the session (%s)", tg_status_name(rc));
	cn->have_session = 1;
	if (tg_resp_header(cn->req, cn->resp, "Mcp-Session-Id", cn->session.id) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	tg_log(TG_LOG_INFO, "mcp.session_created", "version=%s client=%s session=%.12s",
	    tg_log_q(ver), tg_log_q(cname), cn->session.id_hash);
	caps = json_pack("{s:{s:b}, s:{}}", "tools", "listChanged", 0, "logging");
	*result = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:s}",
	    "protocolVersion", ver, "capabilities", caps,
	    "serverInfo", "name", "toolgate", "title", "toolgate", "version",
	    TG_VERSION, "instructions", instructions);
	if (*result == NULL)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	return 0;
}

/* Handles one message of a session; *out is the response (or NULL for
 * notifications and responses). */
static int
one(struct conn *cn, json_t *msg, json_t **out)
{
	struct tg_rpc_err err;
	json_t *id = NULL, *result = NULL, *params;
	const char *method;
	enum kind k;
	int rc;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	k = classify(msg, &id);
	if (k == K_INVALID) {
		*out = rpc_error_new(id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 request, notification or response", NULL);
		return *out ? TG_OK : -TG_E_NOMEM;
	}
	if (k == K_RESPONSE)
		return TG_OK;
	method = json_string_value(json_object_get(msg, "method"));
	params = json_object_get(msg, "params");
	if (k == K_NOTIFICATION) {
		if (strcmp(method, "notifications/initialized") == 0 && cn->have_session)
			return cn->be->session_initialized(cn->req, &cn->session);
		/* cancelled, roots/list_changed, progress...: nothing to do. */
		return TG_OK;
	}
	rc = dispatch(cn, method, params, &result, &err);
	if (rc == 0 && result != NULL) {
		*out = rpc_result_new(id, result);
	} else {
		*out = rpc_error_new(id, err.code ? err.code : TG_RPC_INTERNAL_ERROR,
		    err.message[0] ? err.message : "Internal error", err.data);
		err.data = NULL;
	}
	tg_rpc_err_clear(&err);
	return *out ? TG_OK : -TG_E_NOMEM;
}

/* Looks up the session named in the header; renders 400/404 itself. */
static int
need_session(struct conn *cn, int *refused)
{
	const char *sid = tg_req_param(cn->req, "HTTP_MCP_SESSION_ID");
	int rc;

	*refused = 1;
	if (sid == NULL || *sid == '\0')
		return refuse(cn->resp, 400, TG_RPC_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required (send initialize first)", NULL);
	rc = cn->be->session_get(cn->req, sid, &cn->session);
	if (rc == -TG_E_NOTFOUND)
		return refuse(cn->resp, 404, -32001,
		    "Session not found: it expired or was ended; initialize again", NULL);
	if (rc != TG_OK)
		return rc;
	*refused = 0;
	cn->have_session = 1;
	/* Logging follows logging/setLevel; "info" until the client sets it. */
	cn->log_min = level_index(cn->session.log_level[0] ?
	    cn->session.log_level : "info");
	return TG_OK;
}

/* Header version rules once the session is known. */
static int
check_version_header(struct conn *cn, const char *hv, int *refused)
{
	*refused = 0;
	if (hv == NULL) {
		cn->version = cn->session.version;
		return TG_OK;
	}
	if (strcmp(hv, cn->session.version) != 0) {
		*refused = 1;
		return refuse(cn->resp, 400, TG_RPC_SERVER_ERROR,
		    "Bad Request: MCP-Protocol-Version does not match the version negotiated for this session",
		    json_pack("{s:s, s:s}", "negotiated", cn->session.version,
		    "received", hv));
	}
	cn->version = cn->session.version;
	return TG_OK;
}

static int
serve_legacy(struct conn *cn, json_t *body, const char *hv)
{
	struct tg_resp *resp = cn->resp;
	json_t *out = NULL, *r = NULL, *id = NULL, *meta;
	size_t i;
	int rc = TG_OK, refused = 0;

	cn->era = TG_MCP_ERA_2025;
	/* A modern request without its MCP-Protocol-Version header: refuse
	 * it as modern (2026-07-28 streamable-http "Server Validation": a
	 * missing required header is a HeaderMismatch) rather than asking
	 * for a session it will never have. */
	meta = json_is_object(body) ? meta_of(json_object_get(body, "params")) : NULL;
	if (hv == NULL && meta != NULL && json_object_get(meta, META_VERSION) != NULL) {
		rc = refuse_id(resp, 400, json_object_get(body, "id"),
		    TG_MCP_HEADER_MISMATCH,
		    "Header mismatch: MCP-Protocol-Version header is required with _meta io.modelcontextprotocol/protocolVersion",
		    NULL);
		goto out;
	}
	if (json_is_array(body)) {
		if (json_array_size(body) == 0) {
			rc = refuse(resp, 400, TG_RPC_INVALID_REQUEST,
			    "Invalid Request: empty batch", NULL);
			goto out;
		}
		if ((rc = need_session(cn, &refused)) != TG_OK || refused)
			goto out;
		if ((rc = check_version_header(cn, hv, &refused)) != TG_OK || refused)
			goto out;
		if (!batch_allowed(cn->version)) {
			rc = refuse(resp, 400, TG_RPC_INVALID_REQUEST,
			    "Invalid Request: JSON-RPC batches are not part of the negotiated protocol version",
			    json_pack("{s:s}", "protocolVersion", cn->version));
			goto out;
		}
		/* security: every message of a batch costs one rate-limit unit
		 * (the HTTP request paid for the first), and a batch is bounded,
		 * so N tools/call cannot run N sandboxes for one unit. */
		if (json_array_size(body) > BATCH_MAX) {
			rc = refuse(resp, 400, TG_RPC_INVALID_REQUEST,
			    "Invalid Request: a JSON-RPC batch holds at most " BATCH_MAX_S " messages",
			    json_pack("{s:i}", "max_batch", BATCH_MAX));
			goto out;
		}
		if ((rc = tg_access_charge(cn->req, resp,
		    (int64_t)json_array_size(body) - 1)) != TG_OK)
			goto out;
		if ((out = json_array()) == NULL) {
			rc = -TG_E_NOMEM;
			goto out;
		}
		for (i = 0; i < json_array_size(body); i++) {
			if ((rc = one(cn, json_array_get(body, i), &r)) != TG_OK)
				goto out;
			if (r != NULL && json_array_append_new(out, r) != 0) {
				r = NULL;
				rc = -TG_E_NOMEM;
				goto out;
			}
			r = NULL;
		}
		if (json_array_size(out) == 0 && !cn->streaming) {
			resp->status = 202;
			goto out;
		}
		rc = respond(cn, 200, out);
		out = NULL;
		goto out;
	}

	/* A single message. */
	if (classify(body, &id) == K_INVALID) {
		rc = refuse_id(resp, 400, id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 request, notification or response", NULL);
		goto out;
	}
	if (json_is_string(json_object_get(body, "method")) &&
	    strcmp(json_string_value(json_object_get(body, "method")), "initialize") == 0 &&
	    json_object_get(body, "id") != NULL) {
		struct tg_rpc_err err;
		json_t *result = NULL;

		memset(&err, 0, sizeof(err));
		cn->version = NULL;
		if (do_initialize(cn, json_object_get(body, "params"), &result, &err) == 0)
			r = rpc_result_new(json_object_get(body, "id"), result);
		else {
			r = rpc_error_new(json_object_get(body, "id"), err.code,
			    err.message, err.data);
			err.data = NULL;
		}
		tg_rpc_err_clear(&err);
		rc = r ? tg_resp_json(resp, 200, r) : -TG_E_NOMEM;
		r = NULL;
		goto out;
	}
	if ((rc = need_session(cn, &refused)) != TG_OK || refused)
		goto out;
	if ((rc = check_version_header(cn, hv, &refused)) != TG_OK || refused)
		goto out;
	if ((rc = one(cn, body, &r)) != TG_OK)
		goto out;
	if (r == NULL) {
		resp->status = 202;
		goto out;
	}
	if (cn->stamp != 0 && !cn->streaming && json_object_get(r, "result") != NULL) {
		rc = respond_stamped(cn, json_object_get(r, "id"),
		    json_object_get(r, "result"));
		goto out;
	}
	rc = respond(cn, 200, r);
	r = NULL;
out:
	json_decref(out);
	json_decref(r);
	return rc;
}

/* --- 2026-07-28 era: stateless ------------------------------------------------ */

/* Adds what every 2026-07-28 result carries (basic/index "Result
 * Responses": resultType; "Per-response protocol fields": serverInfo) and,
 * for CacheableResults, ttlMs and cacheScope. */
static int
decorate_2026(json_t *result, const struct method *m)
{
	json_t *meta = json_object_get(result, "_meta");

	if (!json_is_object(meta)) {
		if ((meta = json_object()) == NULL ||
		    json_object_set_new(result, "_meta", meta) != 0)
			return -TG_E_NOMEM;
	}
	if (json_object_set_new(result, "resultType", json_string("complete")) != 0 ||
	    json_object_set_new(meta, META_SERVERINFO, json_pack("{s:s, s:s}",
	    "name", "toolgate", "version", TG_VERSION)) != 0)
		return -TG_E_NOMEM;
	if (m->cache_scope != NULL &&
	    (json_object_set_new(result, "ttlMs", json_integer(m->ttl_ms)) != 0 ||
	    json_object_set_new(result, "cacheScope", json_string(m->cache_scope)) != 0))
		return -TG_E_NOMEM;
	return TG_OK;
}

/*
 * Cached results (tools/list) come from the backend with a stamp naming
 * their content; their serialisation, decorated for the era, is kept here
 * by (stamp, era), so a repeated tools/list is a memcpy of the text into
 * the envelope instead of building and dumping ~25 KiB of JSON.
 */
#define RESULT_TEXTS 8

static struct {
	uint64_t stamp;
	enum tg_mcp_era era;
	char *text;
	size_t len;
} rtext[RESULT_TEXTS];
static unsigned rtext_next;

static int
result_text(const struct conn *cn, const json_t *result, const char **text,
    size_t *len)
{
	const struct method *m = find_method("tools/list", cn->era);
	json_t *own;
	char *t;
	unsigned i;

	for (i = 0; i < RESULT_TEXTS; i++)
		if (rtext[i].text != NULL && rtext[i].stamp == cn->stamp &&
		    rtext[i].era == cn->era)
			goto hit;
	if (m == NULL || (own = json_copy((json_t *)result)) == NULL)
		return -TG_E_NOMEM;
	if (cn->era == TG_MCP_ERA_2026 && decorate_2026(own, m) != TG_OK) {
		json_decref(own);
		return -TG_E_NOMEM;
	}
	t = tg_jsonalloc_dumps(own, JSON_COMPACT);	/* never keep a corrupt text */
	json_decref(own);
	if (t == NULL)
		return -TG_E_NOMEM;
	i = rtext_next++ % RESULT_TEXTS;
	free(rtext[i].text);
	rtext[i].text = t;
	rtext[i].len = strlen(t);
	rtext[i].stamp = cn->stamp;
	rtext[i].era = cn->era;
hit:
	*text = rtext[i].text;
	*len = rtext[i].len;
	return TG_OK;
}

/* {"jsonrpc":"2.0","id":id,"result":<cached text>} as the body. */
static int
respond_stamped(struct conn *cn, json_t *id, const json_t *result)
{
	struct tg_resp *resp = cn->resp;
	const char *text = NULL;
	char *idt;
	size_t len = 0;
	int rc;

	if ((rc = result_text(cn, result, &text, &len)) != TG_OK)
		return rc;
	if ((idt = tg_jsonalloc_dumps(id ? id : json_null(), JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return -TG_E_NOMEM;
	tg_buf_reset(&resp->body);
	rc = tg_buf_puts(&resp->body, "{\"jsonrpc\":\"2.0\",\"id\":") != 0 ||
	    tg_buf_puts(&resp->body, idt) != 0 ||
	    tg_buf_puts(&resp->body, ",\"result\":") != 0 ||
	    tg_buf_append(&resp->body, text, len) != 0 ||
	    tg_buf_puts(&resp->body, "}") != 0 ? -TG_E_NOMEM : TG_OK;
	free(idt);
	if (rc != TG_OK)
		return rc;
	json_decref(resp->json);
	resp->json = NULL;
	resp->content_type = "application/json";
	resp->status = 200;
	return TG_OK;
}

static int
serve_modern(struct conn *cn, json_t *body, const char *hv)
{
	struct tg_req *req = cn->req;
	struct tg_resp *resp = cn->resp;
	struct tg_rpc_err err;
	const struct method *m;
	json_t *id = NULL, *params, *meta, *v, *caps, *lvl, *result = NULL, *r;
	const char *method, *mh, *nh;
	char name[MAX_NAME_HDR];
	enum kind k;
	int rc;

	memset(&err, 0, sizeof(err));
	cn->era = TG_MCP_ERA_2026;
	cn->version = hv;
	cn->log_min = -1;
	/* "The body of the HTTP POST MUST be a single JSON-RPC request or
	 * notification. The client MUST NOT send JSON-RPC responses."
	 * (streamable-http "Sending Messages") */
	if (json_is_array(body)) {
		rc = refuse(resp, 400, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: 2026-07-28 has no JSON-RPC batches", NULL);
		goto out;
	}
	k = classify(body, &id);
	if (k == K_INVALID || k == K_RESPONSE) {
		rc = refuse_id(resp, 400, id, TG_RPC_INVALID_REQUEST,
		    k == K_RESPONSE ? "Invalid Request: clients send no responses in 2026-07-28" :
		    "Invalid Request: not a JSON-RPC 2.0 request or notification", NULL);
		goto out;
	}
	if (k == K_NOTIFICATION) {
		/* 2026-07-28 defines none over HTTP (closing the stream
		 * cancels); accepted and dropped. */
		resp->status = 202;
		rc = TG_OK;
		goto out;
	}
	method = json_string_value(json_object_get(body, "method"));
	params = json_object_get(body, "params");
	mh = tg_req_param(req, "HTTP_MCP_METHOD");
	if (mh == NULL || strcmp(mh, method) != 0) {
		rc = refuse_id(resp, 400, id, TG_MCP_HEADER_MISMATCH,
		    mh == NULL ? "Header mismatch: Mcp-Method header is required" :
		    "Header mismatch: Mcp-Method header value does not match the body's method",
		    json_pack("{s:s, s:s?}", "method", method, "header", mh));
		goto out;
	}
	/* Per-request protocol fields (basic/index): protocolVersion and
	 * clientCapabilities are required; missing -> -32602 with 400. */
	meta = meta_of(params);
	v = meta ? json_object_get(meta, META_VERSION) : NULL;
	caps = meta ? json_object_get(meta, META_CAPS) : NULL;
	if (!json_is_string(v) || !json_is_object(caps)) {
		rc = refuse_id(resp, 400, id, TG_RPC_INVALID_PARAMS,
		    "Invalid params: _meta needs io.modelcontextprotocol/protocolVersion (string) and io.modelcontextprotocol/clientCapabilities (object)",
		    NULL);
		goto out;
	}
	if (strcmp(json_string_value(v), hv) != 0) {
		rc = refuse_id(resp, 400, id, TG_MCP_HEADER_MISMATCH,
		    "Header mismatch: MCP-Protocol-Version header does not match _meta io.modelcontextprotocol/protocolVersion",
		    json_pack("{s:s, s:O}", "header", hv, "body", v));
		goto out;
	}
	lvl = json_object_get(meta, META_LOGLEVEL);
	if (lvl != NULL && level_index(json_string_value(lvl)) < 0) {
		rc = refuse_id(resp, 400, id, TG_RPC_INVALID_PARAMS,
		    "Invalid params: io.modelcontextprotocol/logLevel must be one of debug, info, notice, warning, error, critical, alert, emergency",
		    NULL);
		goto out;
	}
	/* "If the server does not implement the requested RPC method, it MUST
	 * respond with 404 Not Found and -32601" (streamable-http). */
	if ((m = find_method(method, TG_MCP_ERA_2026)) == NULL) {
		rc = refuse_id(resp, 404, id, TG_RPC_METHOD_NOT_FOUND,
		    strcmp(method, "initialize") == 0 ?
		    "Method not found: initialize (2026-07-28 has no handshake; send MCP-Protocol-Version 2025-11-25 or older to initialize a session)" :
		    "Method not found", json_pack("{s:s}", "method", method));
		goto out;
	}
	if (strcmp(method, "tools/call") == 0) {
		json_t *bn = params ? json_object_get(params, "name") : NULL;

		nh = tg_req_param(req, "HTTP_MCP_NAME");
		if (nh == NULL) {
			rc = refuse_id(resp, 400, id, TG_MCP_HEADER_MISMATCH,
			    "Header mismatch: Mcp-Name header is required for tools/call", NULL);
			goto out;
		}
		if (header_text(nh, name, sizeof(name)) != 0) {
			rc = refuse_id(resp, 400, id, TG_MCP_HEADER_MISMATCH,
			    "Header mismatch: Mcp-Name header value is malformed (invalid characters or Base64)",
			    NULL);
			goto out;
		}
		if (json_is_string(bn) && strcmp(name, json_string_value(bn)) != 0) {
			rc = refuse_id(resp, 400, id, TG_MCP_HEADER_MISMATCH,
			    "Header mismatch: Mcp-Name header value does not match params.name",
			    NULL);
			goto out;
		}
	}
	/* Logging only when the request asks for a level (changelog, major
	 * change 5: "servers MUST NOT emit notifications/message for
	 * requests that did not include this field"). */
	cn->log_min = lvl ? level_index(json_string_value(lvl)) : -1;
	if (dispatch(cn, method, params, &result, &err) == 0 && result != NULL) {
		if (cn->stamp != 0 && !cn->streaming) {
			rc = respond_stamped(cn, id, result);
			goto out;
		}
		if (cn->stamp != 0) {	/* shared: decorate a copy */
			json_t *own = json_copy(result);

			json_decref(result);
			if ((result = own) == NULL) {
				rc = -TG_E_NOMEM;
				goto out;
			}
		}
		if ((rc = decorate_2026(result, m)) != TG_OK)
			goto out;
		r = rpc_result_new(id, result);	/* steals result */
		result = NULL;
	} else {
		r = rpc_error_new(id, err.code ? err.code : TG_RPC_INTERNAL_ERROR,
		    err.message[0] ? err.message : "Internal error", err.data);
		err.data = NULL;
	}
	rc = r ? respond(cn, 200, r) : -TG_E_NOMEM;
out:
	json_decref(result);
	tg_rpc_err_clear(&err);
	return rc;
}

/* --- entry ---------------------------------------------------------------- */

/*
 * The id of the request in the body (new reference), or NULL when the body
 * does not parse or its id is not a string or an integer. For refusals
 * decided before the body is parsed: JSON-RPC 2.0 answers null only when
 * the id cannot be detected (conformance server-stateless,
 * sep-2575-http-server-error-jsonrpc-id).
 */
static json_t *
body_id(const struct tg_req *req)
{
	json_error_t je;
	json_t *body, *id = NULL;

	if (req->body == NULL || req->body_len == 0 ||
	    tg_json_depth(req->body, req->body_len) > TG_MAX_JSON_DEPTH ||
	    (body = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je)) == NULL)
		return NULL;
	(void)classify(body, &id);
	json_incref(id);
	json_decref(body);
	return id;
}

static int
origin_ok(struct tg_req *req)
{
	const char *origin = tg_req_param(req, "HTTP_ORIGIN");

	return origin == NULL || tg_config_origin_allowed(req->ctx->cfg, origin);
}

static int
serve_post(struct conn *cn)
{
	struct tg_req *req = cn->req;
	struct tg_resp *resp = cn->resp;
	const char *hv = tg_req_param(req, "HTTP_MCP_PROTOCOL_VERSION");
	const char *accept = tg_req_param(req, "HTTP_ACCEPT");
	json_error_t je;
	json_t *body = NULL, *id;
	unsigned long oom;
	int rc;

	if (!accepts(accept, "application/json") && !accepts(accept, "text/event-stream"))
		return refuse(resp, 406, TG_RPC_SERVER_ERROR,
		    "Not Acceptable: the client must accept application/json and text/event-stream", NULL);
	/* SSE only for clients that name it (a missing Accept admits
	 * anything, but such clients get plain JSON). */
	cn->sse_ok = accept != NULL && *accept != '\0' &&
	    accepts(accept, "text/event-stream");
	if (!tg_content_type_is_json(req->content_type))
		return refuse(resp, 415, TG_RPC_SERVER_ERROR,
		    "Unsupported Media Type: Content-Type must be application/json", NULL);
	/* UnsupportedProtocolVersionError for either era, with every version
	 * served, so dual-era clients can pick one (versioning "Protocol
	 * Version Negotiation"). */
	if (hv != NULL && !in_list(tg_mcp_versions_2025, hv) &&
	    !in_list(tg_mcp_versions_2026, hv)) {
		id = body_id(req);
		rc = refuse_id(resp, 400, id, TG_MCP_UNSUPPORTED_VERSION,
		    "Unsupported protocol version",
		    json_pack("{s:o, s:s}", "supported", supported_versions_new(),
		    "requested", hv));
		json_decref(id);
		return rc;
	}
	oom = tg_jsonalloc_failures();
	if (req->body != NULL && req->body_len > 0 &&
	    tg_json_depth(req->body, req->body_len) <= TG_MAX_JSON_DEPTH)
		body = json_loadb(req->body, req->body_len,
		    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	/* An allocation failure is not a parse error, and jansson may even
	 * return an incomplete document after one. */
	if (tg_jsonalloc_failures() != oom) {
		json_decref(body);
		return -TG_E_NOMEM;
	}
	if (body == NULL)
		return refuse(resp, 400, TG_RPC_PARSE_ERROR,
		    "Parse error: the body is not valid JSON (UTF-8, no duplicate keys, depth <= 64)", NULL);
	if (hv != NULL && in_list(tg_mcp_versions_2026, hv))
		rc = serve_modern(cn, body, hv);
	else
		rc = serve_legacy(cn, body, hv);
	json_decref(body);
	return rc;
}

static int
serve_delete(struct conn *cn)
{
	const char *sid = tg_req_param(cn->req, "HTTP_MCP_SESSION_ID");
	int rc;

	if (sid == NULL || *sid == '\0')
		return refuse(cn->resp, 400, TG_RPC_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required", NULL);
	rc = cn->be->session_delete(cn->req, sid);
	if (rc == -TG_E_NOTFOUND)
		return refuse(cn->resp, 404, -32001, "Session not found", NULL);
	if (rc != TG_OK)
		return rc;
	cn->resp->status = 204;
	return TG_OK;
}

int
tg_mcp_serve(struct tg_req *req, struct tg_resp *resp,
    const struct tg_mcp_backend *be)
{
	const char *hv = tg_req_param(req, "HTTP_MCP_PROTOCOL_VERSION");
	int modern = hv != NULL && in_list(tg_mcp_versions_2026, hv);
	struct conn cn;
	int rc;

	memset(&cn, 0, sizeof(cn));
	cn.req = req;
	cn.resp = resp;
	cn.be = be;
	cn.log_min = -1;
	/* DNS-rebinding protection first: a browser page of another origin
	 * learns nothing, not even whether it would need credentials. */
	if (!origin_ok(req))
		return refuse(resp, 403, TG_RPC_SERVER_ERROR,
		    "Forbidden: Origin is not in TOOLGATE_ALLOWED_ORIGINS", NULL);
	if ((rc = check_auth(req, resp)) != TG_OK)
		return rc;
	if (strcmp(req->method, "POST") == 0)
		return serve_post(&cn);
	/* 2026-07-28 has no sessions to end: DELETE is 405 like GET
	 * (streamable-http "Earlier Streamable HTTP Revisions"). */
	if (strcmp(req->method, "DELETE") == 0 && !modern)
		return serve_delete(&cn);
	if (tg_resp_header(req, resp, "Allow", modern ? "POST, OPTIONS" :
	    "POST, DELETE, OPTIONS") != TG_OK)
		return -TG_E_NOMEM;
	return refuse(resp, 405, TG_RPC_SERVER_ERROR, modern ?
	    "Method Not Allowed: 2026-07-28 uses POST only" :
	    "Method Not Allowed: this server offers no GET stream", NULL);
}

int
tg_h_mcp(struct tg_req *req, struct tg_resp *resp)
{
	return tg_mcp_serve(req, resp, &tg_mcp_backend_db);
}
