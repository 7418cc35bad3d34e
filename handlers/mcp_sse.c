/*
 * mcp_sse.c - how a /mcp response leaves: one JSON body, or an SSE stream
 * of notifications followed by the response.
 *
 * Streaming (both eras): when the client accepts text/event-stream and a
 * running tool emits progress (the request had _meta.progressToken) or
 * log messages (2025: at or above the session's logging/setLevel level,
 * "info" when never set; 2026: only when _meta io.modelcontextprotocol/
 * logLevel is present), the response becomes an SSE stream: the
 * notifications as they happen, then the response, then the end. Without
 * events (or without SSE in Accept) the response is plain JSON. The stream
 * starts lazily, at the first event worth sending, so a call without
 * events is answered exactly as it would be without SSE.
 *
 * In a 2025 session the stream starts with a priming event (an id, empty
 * data, retry:) and every event has an id (SEP-1699); the stream is never
 * closed before its response and is not replayed (docs/mcp.md
 * "Resumability").
 *
 * Every write is checked; when the client goes away (the FastCGI
 * connection reports hang-up, or a write fails) the sandbox run is killed
 * - in 2026-07-28 closing the response stream is the cancellation signal.
 * reliability: writes are bounded. Notifications are dropped, never
 * waited for, while the connection to nginx is not writable (the sandbox
 * loop that calls tg_mcp_on_tool_event() must keep its deadline); a write
 * that starts and then stalls is bounded by TOOLGATE_CLIENT_WRITE_TIMEOUT_MS
 * (fcgi/worker.c). Progress values must increase; a repeated or smaller
 * one is dropped.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp_conn.h"
#include "lib/crypto.h"
#include "lib/jsonalloc.h"
#include "lib/log.h"
#include "lib/status.h"

static int
sse_begin(struct tg_mcp_conn *cn)
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
	if (tg_resp_begin(cn->req, resp) != 0)
		goto gone;
	/* 2025-11-25 sessions (transports "Sending Messages to the Server",
	 * SEP-1699): the stream opens with a priming event, an id and empty
	 * data, and the client's reconnection delay. Ids are
	 * "<stream>-<n>", the stream 64 random bits: unique in the session,
	 * and never taken by the GET stream (fcgi/stream.c: a Last-Event-ID
	 * of a POST stream replays nothing there). */
	if (cn->era == TG_MCP_ERA_2025 && cn->have_session) {
		unsigned char rnd[8];
		char prime[80];
		int n;

		if (tg_crypto_random(rnd, sizeof(rnd)) != TG_OK ||
		    tg_crypto_hex(rnd, sizeof(rnd), cn->sse_stream,
			sizeof(cn->sse_stream)) != TG_OK)
			cn->sse_stream[0] = '\0';	/* events without ids */
		else {
			n = snprintf(prime, sizeof(prime), "id: %s-0\nretry: %d\ndata: \n\n",
			    cn->sse_stream, TG_MCP_SSE_RETRY_MS);
			if (n < 0 || (size_t)n >= sizeof(prime) ||
			    tg_resp_write(cn->req, prime, (size_t)n) != 0)
				goto gone;
		}
	}
	return 0;
gone:
	cn->gone = 1;
	tg_log(TG_LOG_INFO, "mcp.client_gone", "at=sse_begin");
	return -1;
}

/* One SSE event carrying msg (stolen). 0, or -1 when the client is gone. */
static int
sse_send(struct tg_mcp_conn *cn, json_t *msg)
{
	char *d = NULL, *ev = NULL, id[48] = "";
	size_t n;
	int rc = -1;

	if (cn->gone)
		goto out;
	/* Compact JSON has no raw newlines (they are escaped in strings), so
	 * one data: line carries the whole message. */
	if ((d = tg_jsonalloc_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		goto out;
	if (cn->sse_stream[0] != '\0')
		snprintf(id, sizeof(id), "id: %s-%u\n", cn->sse_stream, ++cn->sse_seq);
	n = strlen(d) + strlen(id) + sizeof("event: message\ndata: \n\n");
	if ((ev = malloc(n)) == NULL)
		goto out;
	if (snprintf(ev, n, "event: message\n%sdata: %s\n\n", id, d) != (int)n - 1)
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
client_writable(struct tg_mcp_conn *cn)
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

/* notifications/message params for a sandbox "log" event, or NULL when
 * the level is below the one asked for (or the event is malformed). */
static json_t *
log_params(const struct tg_mcp_conn *cn, const json_t *ev)
{
	const char *lv = json_string_value(json_object_get(ev, "level"));
	json_t *data = json_object_get(ev, "data");
	json_t *logger = json_object_get(ev, "logger");
	json_t *params;
	int li = tg_mcp_level_index(lv);

	if (cn->log_min < 0 || li < cn->log_min || data == NULL)
		return NULL;
	params = json_pack("{s:s, s:O}", "level", lv, "data", data);
	if (params != NULL && json_is_string(logger))
		json_object_set(params, "logger", logger);
	return params;
}

/* notifications/progress params for a sandbox "progress" event, or NULL
 * when no progress was asked for or the value does not increase. */
static json_t *
progress_params(struct tg_mcp_conn *cn, const json_t *ev)
{
	json_t *p = json_object_get(ev, "progress");
	json_t *t = json_object_get(ev, "total");
	json_t *m = json_object_get(ev, "message");
	json_t *params;

	if (cn->progress_token == NULL || !json_is_number(p))
		return NULL;
	/* "The progress value MUST increase with each notification". */
	if (cn->have_progress && json_number_value(p) <= cn->last_progress)
		return NULL;
	cn->have_progress = 1;
	cn->last_progress = json_number_value(p);
	params = json_pack("{s:O, s:O}", "progressToken", cn->progress_token,
	    "progress", p);
	if (params != NULL && json_is_number(t))
		json_object_set(params, "total", t);
	if (params != NULL && json_is_string(m))
		json_object_set(params, "message", m);
	return params;
}

/*
 * Sandbox event -> MCP notification on the response stream (see
 * lib/sandbox_client.h for the event documents). Returns 0 (sent or
 * dropped), or -1 when the client is gone, which ends the run.
 */
int
tg_mcp_on_tool_event(void *ctx, const json_t *ev)
{
	struct tg_mcp_conn *cn = ctx;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *method;
	json_t *params, *msg;

	if (cn->gone)
		return -1;
	if (!cn->sse_ok || type == NULL)
		return 0;
	if (strcmp(type, "log") == 0) {
		params = log_params(cn, ev);
		method = "notifications/message";
	} else if (strcmp(type, "progress") == 0) {
		params = progress_params(cn, ev);
		method = "notifications/progress";
	} else
		return 0;
	if (params == NULL)
		return 0;	/* not wanted, or out of memory: dropped */
	msg = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method,
	    "params", params);
	if (msg == NULL)
		return 0;
	if (!cn->streaming && sse_begin(cn) != 0) {
		json_decref(msg);
		return -1;
	}
	/* reliability: dropped while the client is not reading (see the top
	 * comment). */
	if (!client_writable(cn)) {
		json_decref(msg);
		return 0;
	}
	return sse_send(cn, msg);
}

int
tg_mcp_respond(struct tg_mcp_conn *cn, int http, json_t *msg)
{
	if (cn->streaming) {
		(void)sse_send(cn, msg);	/* a gone client is not an error */
		return TG_OK;
	}
	return tg_resp_json(cn->resp, http, msg);
}
