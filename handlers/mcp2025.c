/*
 * mcp2025.c - /mcp in the 2025 era (2025-11-25 and older, negotiated by
 * initialize): sessions, the handshake and JSON-RPC batches.
 *
 * A request comes here (from handlers/mcp.c) when its MCP-Protocol-Version
 * names a 2025-era version, or when it has none (initialize, and clients
 * older than 2025-06-18, which send no header). After the common checks:
 *   a modern request without its header (_meta names a
 *   protocolVersion)                                400  -32020
 *   not a JSON-RPC message / empty batch            400  -32600
 *   batch under a version without batches           400  -32600
 *   batch of more than BATCH_MAX messages           400  -32600
 *   no Mcp-Session-Id (anything but initialize)     400  -32000
 *   unknown, expired or foreign session             404  -32001
 *   MCP-Protocol-Version not a 2025-era version     400  -32022
 *   (another supported version than the session's is accepted; the
 *   session's version governs)
 *   notifications and responses only -> 202; requests -> 200 with the
 *   response(s); method-level errors (-32601, -32602) in a 200.
 *   DELETE ends the session (204; 400 without Mcp-Session-Id, 404 when
 *   unknown).
 *
 * initialize is answered on its own: it creates the session (in
 * PostgreSQL through the backend; lib/mcp_session.c), names it in
 * Mcp-Session-Id and negotiates the version (the client's when we speak
 * it, else the newest). Every other message needs the session; its
 * header may name any 2025-era version we speak. Batches exist only in 2025-03-26 and
 * older; security: every message of a batch costs one rate-limit unit.
 * Log notifications follow the session's logging/setLevel ("info" until
 * set). The methods themselves are shared with the 2026-07-28 era
 * (handlers/mcp_rpc.c).
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp_conn.h"
#include "fcgi/access.h"	/* security: tg_access_charge */
#include "lib/jsonalloc.h"
#include "lib/log.h"
#include "lib/status.h"

#define V_LATEST "2025-11-25"
#define BATCH_MAX 64			/* security: messages per JSON-RPC batch */
#define BATCH_MAX_S "64"
#define SESSION_NOT_FOUND -32001	/* unknown, expired or foreign session */

static int
batch_allowed(const char *version)
{
	return strcmp(version, "2025-03-26") == 0 ||
	    strcmp(version, "2024-11-05") == 0 || strcmp(version, "2024-10-07") == 0;
}

static int
do_initialize(struct tg_mcp_conn *cn, json_t *params, json_t **result,
    struct tg_rpc_err *err)
{
	json_error_t je;
	json_t *info = NULL, *ccaps = NULL;
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
	ver = tg_mcp_in_list(tg_mcp_versions_2025, want) ? want : V_LATEST;
	rc = cn->be->session_create(cn->req, ver, info, ccaps, &cn->session);
	if (rc != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "could not create the session (%s)", tg_status_name(rc));
	cn->have_session = 1;
	if (tg_resp_header(cn->req, cn->resp, "Mcp-Session-Id", cn->session.id) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	tg_log(TG_LOG_INFO, "mcp.session_created", "version=%s client=%s session=%.12s",
	    tg_log_q(ver), tg_log_q(cname), cn->session.id_hash);
	*result = json_pack("{s:s}", "protocolVersion", ver);
	if (*result != NULL && tg_mcp_add_server_card(*result) != TG_OK) {
		json_decref(*result);
		*result = NULL;
	}
	if (*result == NULL)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	return 0;
}

/* Answers initialize (body is a request for it) with a 200. */
static int
serve_initialize(struct tg_mcp_conn *cn, json_t *body)
{
	struct tg_rpc_err err;
	json_t *id = json_object_get(body, "id"), *result = NULL, *r;

	memset(&err, 0, sizeof(err));
	cn->version = NULL;
	if (do_initialize(cn, json_object_get(body, "params"), &result, &err) == 0)
		r = tg_mcp_rpc_result(id, result);
	else
		r = tg_mcp_rpc_error_from(id, &err);
	tg_rpc_err_clear(&err);
	return r ? tg_resp_json(cn->resp, 200, r) : -TG_E_NOMEM;
}

/* Handles one message of a session; *out is the response (or NULL for
 * notifications and responses). */
static int
one(struct tg_mcp_conn *cn, json_t *msg, json_t **out)
{
	struct tg_rpc_err err;
	json_t *id = NULL, *result = NULL, *params;
	const char *method;
	enum tg_mcp_msg k;
	int rc;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	k = tg_mcp_classify(msg, &id);
	if (k == TG_MCP_MSG_INVALID) {
		*out = tg_mcp_rpc_error(id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 request, notification or response", NULL);
		return *out ? TG_OK : -TG_E_NOMEM;
	}
	if (k == TG_MCP_MSG_RESPONSE)
		return TG_OK;
	method = json_string_value(json_object_get(msg, "method"));
	params = json_object_get(msg, "params");
	if (k == TG_MCP_MSG_NOTIFICATION) {
		if (strcmp(method, "notifications/initialized") == 0 && cn->have_session)
			return cn->be->session_initialized(cn->req, &cn->session);
		/* cancelled, roots/list_changed, progress...: nothing to do. */
		return TG_OK;
	}
	rc = tg_mcp_dispatch(cn, method, params, &result, &err);
	if (rc == 0 && result != NULL)
		*out = tg_mcp_rpc_result(id, result);
	else
		*out = tg_mcp_rpc_error_from(id, &err);
	tg_rpc_err_clear(&err);
	return *out ? TG_OK : -TG_E_NOMEM;
}

/* The Mcp-Session-Id header, or NULL with the 400 (message) rendered
 * and its status in *rc. */
static const char *
session_header(struct tg_mcp_conn *cn, const char *message, int *rc)
{
	const char *sid = tg_req_param(cn->req, "HTTP_MCP_SESSION_ID");

	*rc = TG_OK;
	if (sid != NULL && *sid != '\0')
		return sid;
	*rc = tg_mcp_refuse(cn->resp, 400, NULL, TG_RPC_SERVER_ERROR, message, NULL);
	return NULL;
}

/*
 * The MCP-Protocol-Version header must name a version we speak (2025-11-25
 * transports "Protocol Version Header": 400 for an invalid or unsupported
 * one; a POST's is checked before its body, a GET's and a DELETE's here).
 * Another supported version than the session's is accepted, as the
 * official SDKs do (the conformance suite's SEP-1699 scenarios send
 * 2025-03-26 in a 2025-11-25 session): the negotiated version keeps
 * governing the session (batches, logging, results).
 */
static int
unsupported(struct tg_mcp_conn *cn, const char *hv)
{
	return tg_mcp_refuse(cn->resp, 400, NULL, TG_MCP_UNSUPPORTED_VERSION,
	    "Unsupported protocol version",
	    json_pack("{s:o, s:s}", "supported", tg_mcp_supported_versions(),
	    "requested", hv));
}

/*
 * Checks the header version and looks up the session named in the
 * header; renders 400/404 itself (*refused set). On success the
 * session and its version are the conn's.
 */
static int
open_session(struct tg_mcp_conn *cn, const char *hv, int *refused)
{
	const char *sid;
	int rc;

	*refused = 1;
	if (hv != NULL && !tg_mcp_in_list(tg_mcp_versions_2025, hv))
		return unsupported(cn, hv);
	if ((sid = session_header(cn,
	    "Bad Request: Mcp-Session-Id header is required (send initialize first)",
	    &rc)) == NULL)
		return rc;
	rc = cn->be->session_get(cn->req, sid, &cn->session);
	if (rc == -TG_E_NOTFOUND)
		return tg_mcp_refuse(cn->resp, 404, NULL, SESSION_NOT_FOUND,
		    "Session not found: it expired or was ended; initialize again", NULL);
	if (rc != TG_OK)
		return rc;
	cn->have_session = 1;
	/* Logging follows logging/setLevel; "info" until the client sets it. */
	cn->log_min = tg_mcp_level_index(cn->session.log_level[0] ?
	    cn->session.log_level : "info");
	*refused = 0;
	cn->version = cn->session.version;
	return TG_OK;
}

int
tg_mcp_delete_2025(struct tg_mcp_conn *cn)
{
	const char *sid, *hv = tg_req_param(cn->req, "HTTP_MCP_PROTOCOL_VERSION");
	int rc;

	if (hv != NULL && !tg_mcp_in_list(tg_mcp_versions_2025, hv))
		return unsupported(cn, hv);
	if ((sid = session_header(cn,
	    "Bad Request: Mcp-Session-Id header is required", &rc)) == NULL)
		return rc;
	rc = cn->be->session_delete(cn->req, sid);
	if (rc == -TG_E_NOTFOUND)
		return tg_mcp_refuse(cn->resp, 404, NULL, SESSION_NOT_FOUND,
		    "Session not found", NULL);
	if (rc != TG_OK)
		return rc;
	cn->resp->status = 204;
	return TG_OK;
}

static int
serve_batch(struct tg_mcp_conn *cn, json_t *body, const char *hv)
{
	struct tg_resp *resp = cn->resp;
	json_t *out = NULL, *r = NULL;
	size_t i;
	int rc, refused = 0;

	if (json_array_size(body) == 0)
		return tg_mcp_refuse(resp, 400, NULL, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: empty batch", NULL);
	if ((rc = open_session(cn, hv, &refused)) != TG_OK || refused)
		return rc;
	if (!batch_allowed(cn->version))
		return tg_mcp_refuse(resp, 400, NULL, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: JSON-RPC batches are not part of the negotiated protocol version",
		    json_pack("{s:s}", "protocolVersion", cn->version));
	/* security: every message of a batch costs one rate-limit unit (the
	 * HTTP request paid for the first), and a batch is bounded, so N
	 * tools/call cannot run N sandboxes for one unit. */
	if (json_array_size(body) > BATCH_MAX)
		return tg_mcp_refuse(resp, 400, NULL, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: a JSON-RPC batch holds at most " BATCH_MAX_S " messages",
		    json_pack("{s:i}", "max_batch", BATCH_MAX));
	if ((rc = tg_access_charge(cn->req, resp,
	    (int64_t)json_array_size(body) - 1)) != TG_OK)
		return rc;
	if ((out = json_array()) == NULL)
		return -TG_E_NOMEM;
	for (i = 0; i < json_array_size(body); i++) {
		if ((rc = one(cn, json_array_get(body, i), &r)) != TG_OK)
			goto out;
		if (r != NULL && json_array_append_new(out, r) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	}
	if (json_array_size(out) == 0 && !cn->streaming) {
		resp->status = 202;
		goto out;
	}
	rc = tg_mcp_respond(cn, 200, out);
	out = NULL;
out:
	json_decref(out);
	return rc;
}

int
tg_mcp_serve_2025(struct tg_mcp_conn *cn, json_t *body, const char *hv)
{
	struct tg_resp *resp = cn->resp;
	json_t *r = NULL, *id = NULL, *meta;
	const char *method;
	int rc, refused = 0;

	cn->era = TG_MCP_ERA_2025;
	/* A modern request without its MCP-Protocol-Version header: refuse
	 * it as modern (2026-07-28 streamable-http "Server Validation": a
	 * missing required header is a HeaderMismatch) rather than asking
	 * for a session it will never have. */
	meta = json_is_object(body) ? tg_mcp_meta(json_object_get(body, "params")) : NULL;
	if (hv == NULL && meta != NULL &&
	    json_object_get(meta, TG_MCP_META_VERSION) != NULL)
		return tg_mcp_refuse(resp, 400, json_object_get(body, "id"),
		    TG_MCP_HEADER_MISMATCH,
		    "Header mismatch: MCP-Protocol-Version header is required with _meta io.modelcontextprotocol/protocolVersion",
		    NULL);
	if (json_is_array(body))
		return serve_batch(cn, body, hv);

	/* A single message. */
	if (tg_mcp_classify(body, &id) == TG_MCP_MSG_INVALID)
		return tg_mcp_refuse(resp, 400, id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON-RPC 2.0 request, notification or response", NULL);
	method = json_string_value(json_object_get(body, "method"));
	if (method != NULL && strcmp(method, "initialize") == 0 &&
	    json_object_get(body, "id") != NULL)
		return serve_initialize(cn, body);
	if ((rc = open_session(cn, hv, &refused)) != TG_OK || refused)
		return rc;
	if ((rc = one(cn, body, &r)) != TG_OK)
		return rc;
	if (r == NULL) {
		resp->status = 202;
		return TG_OK;
	}
	if (cn->stamp != 0 && !cn->streaming && json_object_get(r, "result") != NULL)
		rc = tg_mcp_respond_stamped(cn, json_object_get(r, "id"),
		    json_object_get(r, "result"));
	else {
		rc = tg_mcp_respond(cn, 200, r);
		r = NULL;
	}
	json_decref(r);
	return rc;
}

int
tg_mcp_get_2025(struct tg_mcp_conn *cn, const char *hv)
{
	int rc, refused = 0;

	cn->era = TG_MCP_ERA_2025;
	if ((rc = open_session(cn, hv, &refused)) != TG_OK || refused)
		return rc;
	return tg_mcp_stream_get(cn);
}
