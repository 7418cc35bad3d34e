/*
 * mcp_stream.c - the opening of a long-lived stream (docs/mcp.md
 * "Streams"): a 2025 session's GET /mcp and a 2026-07-28
 * subscriptions/listen. The request has passed everything a POST passes
 * (Origin, the access step's authentication and rate limit, the session
 * or the 2026-07-28 metadata checks); this worker does not hold the
 * stream: it answers nginx with X-Accel-Redirect to the internal stream
 * location and a signed ticket (lib/stream_ticket.h), nginx hands the
 * client to the stream process (fcgi/stream.c), and the worker is free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp_conn.h"
#include "lib/auth.h"
#include "lib/config.h"
#include "lib/jsonalloc.h"
#include "lib/log.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"

/* The principal of the request into t; a JWT's iat from the token itself
 * (verified again: a pure function), so the stream process can re-check
 * it against tokens_valid_after. */
static void
principal(struct tg_req *req, struct tg_ticket *t)
{
	const struct tg_principal *w = &req->who;
	const struct tg_config *cfg = req->ctx->cfg;
	const char *h = tg_req_param(req, "HTTP_AUTHORIZATION"), *tok;
	struct tg_claims cl;

	snprintf(t->peer, sizeof(t->peer), "%s", req->remote_addr ? req->remote_addr : "");
	if (!w->authenticated)
		return;
	t->role = w->role;
	t->user_id = w->user_id;
	t->api_key_id = w->api_key_id;
	t->exp = w->api_key_id > 0 ? 0 : w->token_exp;
	if (w->api_key_id > 0 || w->jti == NULL || h == NULL ||
	    strncasecmp(h, "Bearer ", 7) != 0)
		return;
	for (tok = h + 7; *tok == ' '; tok++)
		;
	if (tg_auth_jwt_verify(cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer,
		tok, strlen(tok), (int64_t)time(NULL), &cl, NULL) == TG_OK &&
	    strcmp(cl.jti, w->jti) == 0) {
		snprintf(t->jti, sizeof(t->jti), "%s", cl.jti);
		t->iat = cl.iat;
	}
}

/* 200 + X-Accel-Redirect to the stream location with t signed. */
static int
hand_over(struct tg_mcp_conn *cn, struct tg_ticket *t)
{
	char ticket[TG_TICKET_MAX], loc[TG_TICKET_MAX + 64];
	struct timespec ts;
	int rc, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->issued_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	principal(cn->req, t);
	if ((rc = tg_ticket_sign(t, ticket, sizeof(ticket))) != TG_OK)
		return rc == -TG_E_TOOLARGE ? tg_mcp_refuse(cn->resp, 400, NULL,
						  TG_RPC_INVALID_REQUEST, "Invalid Request: the stream's parameters are too long",
						  NULL) :
					      rc;
	n = snprintf(loc, sizeof(loc), "%s?t=%s", TG_TICKET_PATH, ticket);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return -TG_E_INTERNAL;
	if ((rc = tg_resp_header(cn->req, cn->resp, "X-Accel-Redirect", loc)) != TG_OK)
		return rc;
	cn->resp->status = 200;
	tg_log(TG_LOG_DEBUG, "mcp.stream_handover", "era=%d role=%d", t->era, (int)t->role);
	return TG_OK;
}

int
tg_mcp_stream_get(struct tg_mcp_conn *cn)
{
	struct tg_ticket t;

	memset(&t, 0, sizeof(t));
	t.era = TG_TICKET_2025;
	snprintf(t.session, sizeof(t.session), "%s", cn->session.id_hash);
	snprintf(t.version, sizeof(t.version), "%s", cn->session.version);
	return hand_over(cn, &t);
}

int
tg_mcp_stream_listen(struct tg_mcp_conn *cn, json_t *id, json_t *params)
{
	json_t *filter = params ? json_object_get(params, "notifications") : NULL, *r;
	struct tg_ticket t;
	char *text;
	int n;

	if (!json_is_object(filter)) {
		r = tg_mcp_rpc_error(id, TG_RPC_INVALID_PARAMS,
		    "Invalid params: subscriptions/listen needs notifications (a SubscriptionFilter object)",
		    NULL);
		return r ? tg_resp_json(cn->resp, 200, r) : -TG_E_NOMEM;
	}
	if (!cn->sse_ok)
		return tg_mcp_refuse(cn->resp, 406, id, TG_RPC_SERVER_ERROR,
		    "Not Acceptable: subscriptions/listen answers with text/event-stream", NULL);
	memset(&t, 0, sizeof(t));
	t.era = TG_TICKET_2026;
	t.tools = json_is_true(json_object_get(filter, "toolsListChanged"));
	snprintf(t.version, sizeof(t.version), "%s", cn->version ? cn->version : "");
	if ((text = tg_jsonalloc_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return -TG_E_NOMEM;
	n = snprintf(t.listen_id, sizeof(t.listen_id), "%s", text);
	free(text);
	if (n < 0 || (size_t)n >= sizeof(t.listen_id))
		return tg_mcp_refuse(cn->resp, 400, id, TG_RPC_INVALID_REQUEST,
		    "Invalid Request: the id of subscriptions/listen is too long for a stream", NULL);
	return hand_over(cn, &t);
}
