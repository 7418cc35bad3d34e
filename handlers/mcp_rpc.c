/*
 * mcp_rpc.c - JSON-RPC 2.0 for /mcp: building and classifying messages,
 * and the methods both eras share.
 *
 * One method table serves both eras; each entry names the eras it exists
 * in (ping and logging/setLevel were removed in 2026-07-28, server/discover
 * is new there) and, for 2026-07-28 CacheableResults, the cache hints the
 * era decorates results with (handlers/mcp2026.c). tg_mcp_dispatch() turns
 * one request into a struct tg_mcp_call for lib/mcp_tools.c through the
 * backend: the era, the negotiated version, the session (2025 only),
 * _meta (traceparent, progressToken) and the streaming hooks of
 * handlers/mcp_sse.c (events to this response, the connection to watch
 * while a tool runs). initialize is not in the table: it makes a session
 * and is handled by handlers/mcp2025.c alone.
 *
 * Cached results (tools/list) come from the backend with a stamp naming
 * their content; their serialisation, decorated for the era, is kept here
 * by (stamp, era), so a repeated tools/list is a memcpy of the text into
 * the envelope instead of building and dumping ~25 KiB of JSON. The texts
 * live for the worker (RESULT_TEXTS of them, oldest replaced first).
 */
#include <stdlib.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp_conn.h"
#include "lib/jsonalloc.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"

#define TTL_TOOLS_MS 30000		/* tools/list freshness hint */
#define TTL_DISCOVER_MS 300000		/* server/discover freshness hint */
#define RESULT_TEXTS 8

#define ERA_2025 (1 << TG_MCP_ERA_2025)
#define ERA_2026 (1 << TG_MCP_ERA_2026)

static const char *const log_levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency", NULL,
};

static const char instructions[] =
    "toolgate serves approved Python tools of running servers as "
    "<server>__<tool>, plus toolgate_* management tools (by role) to "
    "write, test and submit tools for approval. Tool calls run in a "
    "sandbox and are never retried.";

/* --- messages ------------------------------------------------------------ */

json_t *
tg_mcp_rpc_error(json_t *id, int code, const char *message, json_t *data)
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

json_t *
tg_mcp_rpc_error_from(json_t *id, struct tg_rpc_err *err)
{
	json_t *data = err->data;

	err->data = NULL;
	return tg_mcp_rpc_error(id, err->code ? err->code : TG_RPC_INTERNAL_ERROR,
	    err->message[0] ? err->message : "Internal error", data);
}

json_t *
tg_mcp_rpc_result(json_t *id, json_t *result)
{
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
	    "result", result);
}

int
tg_mcp_refuse(struct tg_resp *resp, int http, json_t *id, int code,
    const char *message, json_t *data)
{
	json_t *body = tg_mcp_rpc_error(id, code, message, data);

	if (body == NULL)
		return -TG_E_NOMEM;
	return tg_resp_json(resp, http, body);
}

enum tg_mcp_msg
tg_mcp_classify(json_t *msg, json_t **id)
{
	json_t *jv, *m, *i, *p;

	*id = NULL;
	if (!json_is_object(msg))
		return TG_MCP_MSG_INVALID;
	jv = json_object_get(msg, "jsonrpc");
	m = json_object_get(msg, "method");
	i = json_object_get(msg, "id");
	p = json_object_get(msg, "params");
	if (i != NULL && (json_is_string(i) || json_is_integer(i)))
		*id = i;
	if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0)
		return TG_MCP_MSG_INVALID;
	if (m == NULL) {
		/* A response from the client (we never send requests, so it
		 * answers nothing; accepted and dropped). */
		if (*id != NULL && (json_object_get(msg, "result") != NULL) !=
		    (json_object_get(msg, "error") != NULL))
			return TG_MCP_MSG_RESPONSE;
		return TG_MCP_MSG_INVALID;
	}
	if (!json_is_string(m) || (p != NULL && !json_is_object(p)))
		return TG_MCP_MSG_INVALID;
	if (i == NULL)
		return TG_MCP_MSG_NOTIFICATION;
	if (*id == NULL)	/* null, fractional or other ids */
		return TG_MCP_MSG_INVALID;
	return TG_MCP_MSG_REQUEST;
}

int
tg_mcp_level_index(const char *s)
{
	int i;

	for (i = 0; s && log_levels[i]; i++)
		if (strcmp(log_levels[i], s) == 0)
			return i;
	return -1;
}

json_t *
tg_mcp_meta(json_t *params)
{
	json_t *meta = params ? json_object_get(params, "_meta") : NULL;

	return json_is_object(meta) ? meta : NULL;
}

int
tg_mcp_add_server_card(json_t *result)
{
	return json_object_set_new(result, "capabilities",
	    json_pack("{s:{s:b}, s:{}}", "tools", "listChanged",
	    tg_ticket_available(), "logging")) != 0 ||
	    json_object_set_new(result, "serverInfo",
	    json_pack("{s:s, s:s, s:s}", "name", "toolgate", "title", "toolgate",
	    "version", TG_VERSION)) != 0 ||
	    json_object_set_new(result, "instructions", json_string(instructions)) != 0 ?
	    -TG_E_NOMEM : TG_OK;
}

/* --- methods (shared by both eras) ---------------------------------------- */

/* *result = v (stolen); 0, or an internal error when v is NULL. */
static int
give(json_t **result, json_t *v, struct tg_rpc_err *err)
{
	*result = v;
	return v ? 0 : tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
}

static int
m_ping(struct tg_mcp_conn *cn, const struct tg_mcp_call *c, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	(void)cn;
	(void)c;
	(void)params;
	return give(result, json_object(), err);
}

static int
m_tools_list(struct tg_mcp_conn *cn, const struct tg_mcp_call *c,
    json_t *params, json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	const char *s = NULL;

	if (params && json_unpack_ex(params, &je, 0, "{s?s}", "cursor", &s) != 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "cursor must be a string");
	return cn->be->tools_list(c, s, result, &cn->stamp, err);
}

static int
m_tools_call(struct tg_mcp_conn *cn, const struct tg_mcp_call *c,
    json_t *params, json_t **result, struct tg_rpc_err *err)
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
m_set_level(struct tg_mcp_conn *cn, const struct tg_mcp_call *c,
    json_t *params, json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	const char *s = NULL;

	(void)c;
	if (params == NULL || json_unpack_ex(params, &je, 0, "{s:s}",
	    "level", &s) != 0 || tg_mcp_level_index(s) < 0)
		return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
		    "level must be one of debug, info, notice, warning, error, critical, alert, emergency");
	if (cn->be->session_log_level(cn->req, &cn->session, s) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "could not store the level");
	return give(result, json_object(), err);
}

/* server/discover (2026-07-28 server/discover; DiscoverResult). The
 * server's identity is in _meta (added by tg_mcp_decorate_2026) and, for
 * clients written against the drafts, in serverInfo as well. */
static int
m_discover(struct tg_mcp_conn *cn, const struct tg_mcp_call *c,
    json_t *params, json_t **result, struct tg_rpc_err *err)
{
	json_t *r;

	(void)cn;
	(void)c;
	(void)params;
	r = json_pack("{s:o}", "supportedVersions", tg_mcp_supported_versions());
	if (r != NULL && tg_mcp_add_server_card(r) != TG_OK) {
		json_decref(r);
		r = NULL;
	}
	return give(result, r, err);
}

static const struct tg_mcp_method methods[] = {
	{"tools/list", ERA_2025 | ERA_2026, m_tools_list, "private", TTL_TOOLS_MS},
	{"tools/call", ERA_2025 | ERA_2026, m_tools_call, NULL, 0},
	{"server/discover", ERA_2026, m_discover, "public", TTL_DISCOVER_MS},
	/* Removed in 2026-07-28 (changelog, major change 5). */
	{"ping", ERA_2025, m_ping, NULL, 0},
	{"logging/setLevel", ERA_2025, m_set_level, NULL, 0},
	/* Served by the stream process (handlers/mcp_stream.c): never
	 * dispatched (no fn); not found when there is none. */
	{"subscriptions/listen", ERA_2026, NULL, NULL, 0},
};

const struct tg_mcp_method *
tg_mcp_find_method(const char *name, enum tg_mcp_era era)
{
	size_t i;

	if (strcmp(name, "subscriptions/listen") == 0 && !tg_ticket_available())
		return NULL;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0 &&
		    (methods[i].eras & (1 << era)) != 0)
			return &methods[i];
	return NULL;
}

int
tg_mcp_dispatch(struct tg_mcp_conn *cn, const char *method, json_t *params,
    json_t **result, struct tg_rpc_err *err)
{
	const struct tg_mcp_method *m = tg_mcp_find_method(method, cn->era);
	struct tg_mcp_call c;
	struct tg_call call = tg_req_call(cn->req);
	json_t *meta = tg_mcp_meta(params), *tok;
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
	c.call = &call;
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
	c.on_event = tg_mcp_on_tool_event;
	c.on_event_ctx = cn;
	c.cancel_fd = io->cancel_fd ? io->cancel_fd(io->ctx) : -1;
	if (m->fn == NULL)
		rc = tg_rpc_err_set(err, TG_RPC_METHOD_NOT_FOUND, "Method not found");
	else
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

/* --- cached result texts -------------------------------------------------- */

static struct {
	uint64_t stamp;
	enum tg_mcp_era era;
	char *text;
	size_t len;
} rtext[RESULT_TEXTS];
static unsigned rtext_next;

static int
result_text(const struct tg_mcp_conn *cn, const json_t *result,
    const char **text, size_t *len)
{
	const struct tg_mcp_method *m = tg_mcp_find_method("tools/list", cn->era);
	json_t *own;
	char *t;
	unsigned i;

	for (i = 0; i < RESULT_TEXTS; i++)
		if (rtext[i].text != NULL && rtext[i].stamp == cn->stamp &&
		    rtext[i].era == cn->era)
			goto hit;
	if (m == NULL || (own = json_copy((json_t *)result)) == NULL)
		return -TG_E_NOMEM;
	if (cn->era == TG_MCP_ERA_2026 && tg_mcp_decorate_2026(own, m) != TG_OK) {
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

int
tg_mcp_respond_stamped(struct tg_mcp_conn *cn, json_t *id, const json_t *result)
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
