/*
 * mcp2026.c - /mcp in the 2026-07-28 era: stateless, every request
 * self-describing.
 *
 * A request comes here (from handlers/mcp.c) when its MCP-Protocol-Version
 * is 2026-07-28. It never reads or writes sessions (Mcp-Session-Id is
 * ignored, never minted or echoed), and nothing of the 2025 era (initialize,
 * ping, logging/setLevel, batches) is served. After the common checks
 * (basic/transports/streamable-http "Request Metadata" and "Server
 * Validation"):
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
 *   and server/discover carry ttlMs and cacheScope. GET/DELETE -> 405
 *   (handlers/mcp.c).
 * Log notifications are sent only when the request names a level in
 * _meta io.modelcontextprotocol/logLevel (changelog, major change 5);
 * closing the response stream cancels a running tool (handlers/mcp_sse.c).
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp_conn.h"
#include "lib/status.h"

#define MAX_NAME_HDR 1024		/* Mcp-Name header, bytes */

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

/* Adds what every 2026-07-28 result carries (basic/index "Result
 * Responses": resultType; "Per-response protocol fields": serverInfo) and,
 * for CacheableResults, ttlMs and cacheScope. */
int
tg_mcp_decorate_2026(json_t *result, const struct tg_mcp_method *m)
{
	json_t *meta = json_object_get(result, "_meta");

	if (!json_is_object(meta)) {
		if ((meta = json_object()) == NULL ||
		    json_object_set_new(result, "_meta", meta) != 0)
			return -TG_E_NOMEM;
	}
	if (json_object_set_new(result, "resultType", json_string("complete")) != 0 ||
	    json_object_set_new(meta, TG_MCP_META_SERVERINFO, json_pack("{s:s, s:s}",
	    "name", "toolgate", "version", TG_VERSION)) != 0)
		return -TG_E_NOMEM;
	if (m->cache_scope != NULL &&
	    (json_object_set_new(result, "ttlMs", json_integer(m->ttl_ms)) != 0 ||
	    json_object_set_new(result, "cacheScope", json_string(m->cache_scope)) != 0))
		return -TG_E_NOMEM;
	return TG_OK;
}

/* tools/call: the Mcp-Name header must name params.name. Renders the
 * refusal itself (*refused set). */
static int
check_name_header(struct tg_mcp_conn *cn, json_t *id, json_t *params,
    int *refused)
{
	json_t *bn = params ? json_object_get(params, "name") : NULL;
	const char *nh = tg_req_param(cn->req, "HTTP_MCP_NAME");
	const char *why = NULL;
	char name[MAX_NAME_HDR];

	if (nh == NULL)
		why = "Header mismatch: Mcp-Name header is required for tools/call";
	else if (header_text(nh, name, sizeof(name)) != 0)
		why = "Header mismatch: Mcp-Name header value is malformed (invalid characters or Base64)";
	else if (json_is_string(bn) && strcmp(name, json_string_value(bn)) != 0)
		why = "Header mismatch: Mcp-Name header value does not match params.name";
	*refused = why != NULL;
	return why ? tg_mcp_refuse(cn->resp, 400, id, TG_MCP_HEADER_MISMATCH,
	    why, NULL) : TG_OK;
}

/*
 * The request metadata checks (see the top comment) of a request (not a
 * notification): headers against the body, _meta's required fields, the
 * method. Renders the refusal itself (*refused set); else *m is the
 * method and *lvl the requested log level (NULL: none).
 */
static int
check_request(struct tg_mcp_conn *cn, json_t *body, json_t *id,
    const char *hv, const struct tg_mcp_method **m, json_t **lvl, int *refused)
{
	struct tg_resp *resp = cn->resp;
	const char *method = json_string_value(json_object_get(body, "method"));
	const char *mh = tg_req_param(cn->req, "HTTP_MCP_METHOD");
	json_t *params = json_object_get(body, "params");
	json_t *meta, *v, *caps;

	*refused = 1;
	if (mh == NULL || strcmp(mh, method) != 0)
		return tg_mcp_refuse(resp, 400, id, TG_MCP_HEADER_MISMATCH,
		    mh == NULL ? "Header mismatch: Mcp-Method header is required" :
		    "Header mismatch: Mcp-Method header value does not match the body's method",
		    json_pack("{s:s, s:s?}", "method", method, "header", mh));
	/* Per-request protocol fields (basic/index): protocolVersion and
	 * clientCapabilities are required; missing -> -32602 with 400. */
	meta = tg_mcp_meta(params);
	v = meta ? json_object_get(meta, TG_MCP_META_VERSION) : NULL;
	caps = meta ? json_object_get(meta, TG_MCP_META_CAPS) : NULL;
	if (!json_is_string(v) || !json_is_object(caps))
		return tg_mcp_refuse(resp, 400, id, TG_RPC_INVALID_PARAMS,
		    "Invalid params: _meta needs io.modelcontextprotocol/protocolVersion (string) and io.modelcontextprotocol/clientCapabilities (object)",
		    NULL);
	if (strcmp(json_string_value(v), hv) != 0)
		return tg_mcp_refuse(resp, 400, id, TG_MCP_HEADER_MISMATCH,
		    "Header mismatch: MCP-Protocol-Version header does not match _meta io.modelcontextprotocol/protocolVersion",
		    json_pack("{s:s, s:O}", "header", hv, "body", v));
	*lvl = json_object_get(meta, TG_MCP_META_LOGLEVEL);
	if (*lvl != NULL && tg_mcp_level_index(json_string_value(*lvl)) < 0)
		return tg_mcp_refuse(resp, 400, id, TG_RPC_INVALID_PARAMS,
		    "Invalid params: io.modelcontextprotocol/logLevel must be one of debug, info, notice, warning, error, critical, alert, emergency",
		    NULL);
	/* "If the server does not implement the requested RPC method, it MUST
	 * respond with 404 Not Found and -32601" (streamable-http). */
	if ((*m = tg_mcp_find_method(method, TG_MCP_ERA_2026)) == NULL)
		return tg_mcp_refuse(resp, 404, id, TG_RPC_METHOD_NOT_FOUND,
		    strcmp(method, "initialize") == 0 ?
		    "Method not found: initialize (2026-07-28 has no handshake; send MCP-Protocol-Version 2025-11-25 or older to initialize a session)" :
		    "Method not found", json_pack("{s:s}", "method", method));
	if (strcmp(method, "tools/call") == 0)
		return check_name_header(cn, id, params, refused);
	*refused = 0;
	return TG_OK;
}

int
tg_mcp_serve_2026(struct tg_mcp_conn *cn, json_t *body, const char *hv)
{
	struct tg_resp *resp = cn->resp;
	struct tg_rpc_err err;
	const struct tg_mcp_method *m = NULL;
	json_t *id = NULL, *lvl = NULL, *result = NULL, *r;
	enum tg_mcp_msg k;
	int rc, refused = 0;

	memset(&err, 0, sizeof(err));
	cn->era = TG_MCP_ERA_2026;
	cn->version = hv;
	cn->log_min = -1;
	/* "The body of the HTTP POST MUST be a single JSON-RPC request or
	 * notification. The client MUST NOT send JSON-RPC responses."
	 * (streamable-http "Sending Messages") */
	if (json_is_array(body))
		return tg_mcp_refuse(resp, 400, NULL, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: 2026-07-28 has no JSON-RPC batches", NULL);
	k = tg_mcp_classify(body, &id);
	if (k == TG_MCP_MSG_INVALID || k == TG_MCP_MSG_RESPONSE)
		return tg_mcp_refuse(resp, 400, id, TG_RPC_INVALID_REQUEST,
		    k == TG_MCP_MSG_RESPONSE ? "Invalid Request: clients send no responses in 2026-07-28" :
		    "Invalid Request: not a JSON-RPC 2.0 request or notification", NULL);
	if (k == TG_MCP_MSG_NOTIFICATION) {
		/* 2026-07-28 defines none over HTTP (closing the stream
		 * cancels); accepted and dropped. */
		resp->status = 202;
		return TG_OK;
	}
	if ((rc = check_request(cn, body, id, hv, &m, &lvl, &refused)) != TG_OK ||
	    refused)
		return rc;
	if (strcmp(m->name, "subscriptions/listen") == 0)
		return tg_mcp_stream_listen(cn, id, json_object_get(body, "params"));
	/* Logging only when the request asks for a level (changelog, major
	 * change 5: "servers MUST NOT emit notifications/message for
	 * requests that did not include this field"). */
	cn->log_min = lvl ? tg_mcp_level_index(json_string_value(lvl)) : -1;
	if (tg_mcp_dispatch(cn, m->name, json_object_get(body, "params"),
	    &result, &err) == 0 && result != NULL) {
		if (cn->stamp != 0 && !cn->streaming) {
			rc = tg_mcp_respond_stamped(cn, id, result);
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
		if ((rc = tg_mcp_decorate_2026(result, m)) != TG_OK)
			goto out;
		r = tg_mcp_rpc_result(id, result);	/* steals result */
		result = NULL;
	} else
		r = tg_mcp_rpc_error_from(id, &err);
	rc = r ? tg_mcp_respond(cn, 200, r) : -TG_E_NOMEM;
out:
	json_decref(result);
	tg_rpc_err_clear(&err);
	return rc;
}
