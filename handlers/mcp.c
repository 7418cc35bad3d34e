/*
 * mcp.c - /mcp, the MCP Streamable HTTP endpoint (DESIGN.md §6).
 *
 * Endpoints:
 *   POST /mcp    one JSON-RPC message, or a batch where the negotiated
 *                version allows it (2024-11-05, 2025-03-26)
 *   DELETE /mcp  ends the session named by Mcp-Session-Id (204)
 *   GET /mcp     405 (no server-initiated stream; see docs/mcp.md)
 *
 * Order of checks on POST (each failure answers with a JSON-RPC error
 * object with "id": null, as the official SDK's server does):
 *   Origin not in TOOLGATE_ALLOWED_ORIGINS          403  -32000
 *   caller not authenticated (MCP auth required)    401  (problem+json,
 *                                                        WWW-Authenticate)
 *   Accept admits neither JSON nor SSE              406  -32000
 *   Content-Type not application/json               415  -32000
 *   MCP-Protocol-Version unknown / not the session's 400 -32000
 *   body not JSON                                   400  -32700
 *   not a JSON-RPC message / empty batch            400  -32600
 *   batch under a version without batches           400  -32600
 *   no Mcp-Session-Id (anything but initialize)     400  -32000
 *   unknown, expired or foreign session             404  -32001
 * Then: notifications and responses only -> 202 without a body; requests
 * -> 200 with the response(s) as application/json. Method-level errors
 * (-32601 unknown method, -32602 bad params) are JSON-RPC errors in a 200.
 *
 * Eras: the request's MCP-Protocol-Version header picks the era. The
 * 2025 era (initialize + sessions) is implemented here; a request naming
 * 2026-07-28 is refused as an unsupported version until the stateless
 * revision lands (issue 10): dispatch() takes the era in its context and
 * nothing in a worker remembers anything between requests, so the
 * stateless path slots in beside this one.
 */
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
#include "lib/status.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0-dev"
#endif

#define V_LATEST "2025-11-25"

const char *const tg_mcp_versions_2025[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07", NULL,
};

static const char *const log_levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency", NULL,
};

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

static json_t *
supported_versions_new(void)
{
	json_t *a = json_array();
	int i;

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

struct conn {
	struct tg_req *req;
	struct tg_resp *resp;
	const struct tg_mcp_backend *be;
	enum tg_mcp_era era;
	const char *version;
	struct tg_mcp_session session;
	int have_session;
};

static int
do_initialize(struct conn *cn, json_t *params, json_t **result,
    struct tg_rpc_err *err)
{
	json_error_t je;
	json_t *caps = NULL, *info = NULL, *ccaps = NULL;
	const char *want = NULL, *cname = NULL, *cver = NULL, *ver;
	int rc;

	if (params == NULL || json_unpack_ex(params, &je, 0,
	    "{s:s, s:o, s:{s:s, s:s}}", "protocolVersion", &want,
	    "capabilities", &ccaps, "clientInfo", "name", &cname,
	    "version", &cver) != 0 || !json_is_object(ccaps))
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "initialize needs protocolVersion (string), capabilities (object) and clientInfo {name, version}");
	info = json_object_get(params, "clientInfo");
	/* Negotiation: the client's version when we speak it, else ours. */
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
	    TG_VERSION, "instructions",
	    "toolgate serves approved Python tools of running servers as "
	    "<server>__<tool>, plus toolgate_* management tools (by role) to "
	    "write, test and submit tools for approval. Tool calls run in a "
	    "sandbox and are never retried.");
	if (*result == NULL)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	return 0;
}

/* Runs one request; *result or err. */
static int
dispatch(struct conn *cn, const char *method, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	struct tg_mcp_call c;
	json_error_t je;
	json_t *meta = params ? json_object_get(params, "_meta") : NULL;
	const char *s = NULL;
	json_t *args = NULL;

	memset(&c, 0, sizeof(c));
	c.req = cn->req;
	c.era = cn->era;
	c.version = cn->version;
	c.session = cn->have_session ? &cn->session : NULL;
	c.meta = json_is_object(meta) ? meta : NULL;
	if (c.meta && json_is_string(json_object_get(c.meta, "traceparent")))
		c.traceparent = json_string_value(json_object_get(c.meta, "traceparent"));

	if (strcmp(method, "ping") == 0) {
		*result = json_object();
		return *result ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	}
	if (strcmp(method, "tools/list") == 0) {
		if (params && json_unpack_ex(params, &je, 0, "{s?s}", "cursor", &s) != 0)
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
			    "cursor must be a string");
		return cn->be->tools_list(&c, s, result, err);
	}
	if (strcmp(method, "tools/call") == 0) {
		if (params == NULL || json_unpack_ex(params, &je, 0, "{s:s, s?o}",
		    "name", &s, "arguments", &args) != 0)
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
			    "tools/call needs name (string) and optional arguments (object)");
		if (args != NULL && json_is_null(args))
			args = NULL;
		if (args != NULL && !json_is_object(args))
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
			    "arguments must be an object");
		return cn->be->tools_call(&c, s, args, result, err);
	}
	if (strcmp(method, "logging/setLevel") == 0) {
		if (params == NULL || json_unpack_ex(params, &je, 0, "{s:s}",
		    "level", &s) != 0 || !in_list(log_levels, s))
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
			    "level must be one of debug, info, notice, warning, error, critical, alert, emergency");
		if (cn->be->session_log_level(cn->req, &cn->session, s) != TG_OK)
			return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
			    "could not store the level");
		*result = json_object();
		return *result ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	}
	if (strcmp(method, "initialize") == 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_REQUEST,
		    "initialize must be sent alone, without a session");
	return tg_rpc_err_set(err, TG_RPC_METHOD_NOT_FOUND, "Method not found: %s",
	    method);
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

static int
origin_ok(struct tg_req *req)
{
	const char *origin = tg_req_param(req, "HTTP_ORIGIN");

	return origin == NULL || tg_config_origin_allowed(req->ctx->cfg, origin);
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
serve_post(struct conn *cn)
{
	struct tg_req *req = cn->req;
	struct tg_resp *resp = cn->resp;
	const char *hv = tg_req_param(req, "HTTP_MCP_PROTOCOL_VERSION");
	const char *accept = tg_req_param(req, "HTTP_ACCEPT");
	json_error_t je;
	json_t *body = NULL, *out = NULL, *r = NULL, *id = NULL;
	size_t i;
	int rc = TG_OK, refused = 0;

	if (!accepts(accept, "application/json") && !accepts(accept, "text/event-stream")) {
		rc = refuse(resp, 406, TG_RPC_SERVER_ERROR,
		    "Not Acceptable: the client must accept application/json and text/event-stream", NULL);
		goto out;
	}
	if (!tg_content_type_is_json(req->content_type)) {
		rc = refuse(resp, 415, TG_RPC_SERVER_ERROR,
		    "Unsupported Media Type: Content-Type must be application/json", NULL);
		goto out;
	}
	if (hv != NULL && !in_list(tg_mcp_versions_2025, hv)) {
		rc = refuse(resp, 400, TG_RPC_SERVER_ERROR,
		    "Bad Request: unsupported MCP-Protocol-Version",
		    json_pack("{s:o, s:s}", "supported", supported_versions_new(),
		    "requested", hv));
		goto out;
	}
	cn->era = TG_MCP_ERA_2025;
	if (req->body == NULL || req->body_len == 0 ||
	    tg_json_depth(req->body, req->body_len) > TG_MAX_JSON_DEPTH ||
	    (body = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je)) == NULL) {
		rc = refuse(resp, 400, TG_RPC_PARSE_ERROR,
		    "Parse error: the body is not valid JSON (UTF-8, no duplicate keys, depth <= 64)", NULL);
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
		if (json_array_size(out) == 0) {
			resp->status = 202;
			goto out;
		}
		rc = tg_resp_json(resp, 200, out);
		out = NULL;
		goto out;
	}

	/* A single message. */
	if (classify(body, &id) == K_INVALID) {
		r = rpc_error_new(id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 request, notification or response", NULL);
		rc = r ? tg_resp_json(resp, 400, r) : -TG_E_NOMEM;
		r = NULL;
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
	rc = tg_resp_json(resp, 200, r);
	r = NULL;
out:
	json_decref(body);
	json_decref(out);
	json_decref(r);
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
	struct conn cn;
	int rc;

	memset(&cn, 0, sizeof(cn));
	cn.req = req;
	cn.resp = resp;
	cn.be = be;
	/* DNS-rebinding protection first: a browser page of another origin
	 * learns nothing, not even whether it would need credentials. */
	if (!origin_ok(req))
		return refuse(resp, 403, TG_RPC_SERVER_ERROR,
		    "Forbidden: Origin is not in TOOLGATE_ALLOWED_ORIGINS", NULL);
	if ((rc = check_auth(req, resp)) != TG_OK)
		return rc;
	if (strcmp(req->method, "POST") == 0)
		return serve_post(&cn);
	if (strcmp(req->method, "DELETE") == 0)
		return serve_delete(&cn);
	if (tg_resp_header(req, resp, "Allow", "POST, DELETE, OPTIONS") != TG_OK)
		return -TG_E_NOMEM;
	return refuse(resp, 405, TG_RPC_SERVER_ERROR,
	    "Method Not Allowed: this server offers no GET stream", NULL);
}

int
tg_h_mcp(struct tg_req *req, struct tg_resp *resp)
{
	return tg_mcp_serve(req, resp, &tg_mcp_backend_db);
}
