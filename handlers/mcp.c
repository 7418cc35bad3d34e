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
 * hints or server/discover. Both eras share the method handlers
 * (tg_mcp_dispatch() and lib/mcp_tools.c); what differs is the envelope:
 * validation before dispatch and decoration of the result after it.
 *
 * This file is the endpoint: the common checks, body parsing and the
 * HTTP methods. The rest of the transport (handlers/mcp_conn.h has the
 * map): handlers/mcp2025.c (legacy rules: sessions, initialize,
 * batches), handlers/mcp2026.c (modern rules), handlers/mcp_rpc.c
 * (JSON-RPC messages, the method table, dispatch), handlers/mcp_sse.c
 * (the response: JSON or an SSE stream of tool progress/log events).
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
 * Then POST goes to the era's rules; DELETE ends a 2025 session
 * (handlers/mcp2025.c); GET of a 2025 session is handed to the stream
 * process (handlers/mcp_stream.c) when the master runs one; otherwise
 * GET, and DELETE in 2026-07-28 (no sessions to end), are 405 with Allow.
 */
#include <string.h>
#include <strings.h>

#include "fcgi/access.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/mcp_conn.h"
#include "lib/config.h"
#include "lib/jsonalloc.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"

const char *const tg_mcp_versions_2025[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07", NULL,
};

const char *const tg_mcp_versions_2026[] = {
	"2026-07-28", NULL,
};

/* The sessions of lib/mcp_session.c, called with the request's service
 * context (lib/ knows no struct tg_req). */
static int
db_session_create(struct tg_req *req, const char *version,
    const json_t *client_info, const json_t *caps, struct tg_mcp_session *out)
{
	struct tg_call c = tg_req_call(req);

	return tg_mcp_session_create(&c, version, client_info, caps, out);
}

static int
db_session_get(struct tg_req *req, const char *id, struct tg_mcp_session *out)
{
	struct tg_call c = tg_req_call(req);

	return tg_mcp_session_get(&c, id, out);
}

static int
db_session_delete(struct tg_req *req, const char *id)
{
	struct tg_call c = tg_req_call(req);

	return tg_mcp_session_delete(&c, id);
}

static int
db_session_initialized(struct tg_req *req, const struct tg_mcp_session *s)
{
	struct tg_call c = tg_req_call(req);

	return tg_mcp_session_mark_initialized(&c, s);
}

static int
db_session_log_level(struct tg_req *req, const struct tg_mcp_session *s,
    const char *level)
{
	struct tg_call c = tg_req_call(req);

	return tg_mcp_session_set_log_level(&c, s, level);
}

const struct tg_mcp_backend tg_mcp_backend_db = {
	db_session_create,
	db_session_get,
	db_session_delete,
	db_session_initialized,
	db_session_log_level,
	tg_mcp_tools_list,
	tg_mcp_tools_call,
};

int
tg_mcp_in_list(const char *const *list, const char *s)
{
	int i;

	for (i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* Appends the strings of list to a; 0, or -1 when out of memory. */
static int
append_all(json_t *a, const char *const *list)
{
	int i;

	for (i = 0; list[i]; i++)
		if (json_array_append_new(a, json_string(list[i])) != 0)
			return -1;
	return 0;
}

json_t *
tg_mcp_supported_versions(void)
{
	json_t *a = json_array();

	if (a != NULL && (append_all(a, tg_mcp_versions_2026) != 0 ||
	    append_all(a, tg_mcp_versions_2025) != 0)) {
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
		return tg_access_anonymous(req, resp);	/* security: counted */
	if (tg_oauth_www_authenticate(req, resp, 0) != TG_OK)
		return -TG_E_NOMEM;
	return tg_resp_fail(req, resp, TG_E_UNAUTH,
	    req->ctx->cfg->mcp_auth_required ?
	    "/mcp needs Authorization: Bearer <API key or access token>" :
	    "anonymous MCP access (TOOLGATE_MCP_AUTH=none) is for loopback clients only");
}

static int
origin_ok(struct tg_req *req)
{
	const char *origin = tg_req_param(req, "HTTP_ORIGIN");

	return origin == NULL || tg_config_origin_allowed(req->ctx->cfg, origin);
}

/* The body as JSON (new reference; any JSON text, depth-bounded, no
 * duplicate keys), or NULL when there is none or it does not parse.
 * *oom (may be NULL) is set when an allocation failed meanwhile: that is
 * not a parse error, and jansson may even return an incomplete document
 * after one (then NULL as well). */
static json_t *
parse_body(const struct tg_req *req, int *oom)
{
	unsigned long fails = tg_jsonalloc_failures();
	json_error_t je;
	json_t *body = NULL;

	if (oom != NULL)
		*oom = 0;
	if (req->body != NULL && req->body_len > 0 &&
	    tg_json_depth(req->body, req->body_len) <= TG_MAX_JSON_DEPTH)
		body = json_loadb(req->body, req->body_len,
		    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (tg_jsonalloc_failures() != fails) {
		json_decref(body);
		if (oom != NULL)
			*oom = 1;
		return NULL;
	}
	return body;
}

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
	json_t *body, *id = NULL;

	if ((body = parse_body(req, NULL)) == NULL)
		return NULL;
	(void)tg_mcp_classify(body, &id);
	json_incref(id);
	json_decref(body);
	return id;
}

static int
serve_post(struct tg_mcp_conn *cn)
{
	struct tg_req *req = cn->req;
	struct tg_resp *resp = cn->resp;
	const char *hv = tg_req_param(req, "HTTP_MCP_PROTOCOL_VERSION");
	const char *accept = tg_req_param(req, "HTTP_ACCEPT");
	json_t *body = NULL, *id;
	int rc, oom;

	if (!accepts(accept, "application/json") && !accepts(accept, "text/event-stream"))
		return tg_mcp_refuse(resp, 406, NULL, TG_RPC_SERVER_ERROR,
		    "Not Acceptable: the client must accept application/json and text/event-stream", NULL);
	/* SSE only for clients that name it (a missing Accept admits
	 * anything, but such clients get plain JSON). */
	cn->sse_ok = accept != NULL && *accept != '\0' &&
	    accepts(accept, "text/event-stream");
	if (!tg_content_type_is_json(req->content_type))
		return tg_mcp_refuse(resp, 415, NULL, TG_RPC_SERVER_ERROR,
		    "Unsupported Media Type: Content-Type must be application/json", NULL);
	/* UnsupportedProtocolVersionError for either era, with every version
	 * served, so dual-era clients can pick one (versioning "Protocol
	 * Version Negotiation"). */
	if (hv != NULL && !tg_mcp_in_list(tg_mcp_versions_2025, hv) &&
	    !tg_mcp_in_list(tg_mcp_versions_2026, hv)) {
		id = body_id(req);
		rc = tg_mcp_refuse(resp, 400, id, TG_MCP_UNSUPPORTED_VERSION,
		    "Unsupported protocol version",
		    json_pack("{s:o, s:s}", "supported", tg_mcp_supported_versions(),
		    "requested", hv));
		json_decref(id);
		return rc;
	}
	if ((body = parse_body(req, &oom)) == NULL && oom)
		return -TG_E_NOMEM;
	if (body == NULL)
		return tg_mcp_refuse(resp, 400, NULL, TG_RPC_PARSE_ERROR,
		    "Parse error: the body is not valid JSON (UTF-8, no duplicate keys, depth <= 64)", NULL);
	if (hv != NULL && tg_mcp_in_list(tg_mcp_versions_2026, hv))
		rc = tg_mcp_serve_2026(cn, body, hv);
	else
		rc = tg_mcp_serve_2025(cn, body, hv);
	json_decref(body);
	return rc;
}

int
tg_mcp_serve(struct tg_req *req, struct tg_resp *resp,
    const struct tg_mcp_backend *be)
{
	const char *hv = tg_req_param(req, "HTTP_MCP_PROTOCOL_VERSION");
	int modern = hv != NULL && tg_mcp_in_list(tg_mcp_versions_2026, hv);
	struct tg_mcp_conn cn;
	int rc;

	memset(&cn, 0, sizeof(cn));
	cn.req = req;
	cn.resp = resp;
	cn.be = be;
	cn.log_min = -1;
	/* DNS-rebinding protection first: a browser page of another origin
	 * learns nothing, not even whether it would need credentials. */
	if (!origin_ok(req))
		return tg_mcp_refuse(resp, 403, NULL, TG_RPC_SERVER_ERROR,
		    "Forbidden: Origin is not in TOOLGATE_ALLOWED_ORIGINS", NULL);
	if ((rc = check_auth(req, resp)) != TG_OK)
		return rc;
	if (strcmp(req->method, "POST") == 0)
		return serve_post(&cn);
	/* A session's GET stream, held by the stream process when there is
	 * one (handlers/mcp_stream.c); without it GET is 405 below. */
	if (strcmp(req->method, "GET") == 0 && !modern && tg_ticket_available()) {
		if (!accepts(tg_req_param(req, "HTTP_ACCEPT"), "text/event-stream"))
			return tg_mcp_refuse(resp, 406, NULL, TG_RPC_SERVER_ERROR,
			    "Not Acceptable: the GET stream is text/event-stream", NULL);
		return tg_mcp_get_2025(&cn, hv);
	}
	/* 2026-07-28 has no sessions to end: DELETE is 405 like GET
	 * (streamable-http "Earlier Streamable HTTP Revisions"). */
	if (strcmp(req->method, "DELETE") == 0 && !modern)
		return tg_mcp_delete_2025(&cn);
	if (tg_resp_header(req, resp, "Allow", modern ? "POST, OPTIONS" :
	    "POST, DELETE, OPTIONS") != TG_OK)
		return -TG_E_NOMEM;
	return tg_mcp_refuse(resp, 405, NULL, TG_RPC_SERVER_ERROR, modern ?
	    "Method Not Allowed: 2026-07-28 uses POST only" :
	    "Method Not Allowed: this server offers no GET stream", NULL);
}

int
tg_h_mcp(struct tg_req *req, struct tg_resp *resp)
{
	return tg_mcp_serve(req, resp, &tg_mcp_backend_db);
}
