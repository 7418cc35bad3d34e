/*
 * oauth.c - the HTTP side of the OAuth 2.1 authorization server for MCP
 * clients (lib/oauth.h; docs/api.md "OAuth for MCP clients"):
 *
 *   GET  /.well-known/oauth-protected-resource[/mcp]   RFC 9728
 *   GET  /.well-known/oauth-authorization-server       RFC 8414
 *   GET  /.well-known/openid-configuration             (the same document)
 *   POST /oauth/register     RFC 7591 (JSON)          -> 201 | 400 {"error"}
 *   GET  /oauth/authorize    -> 302 to the consent page or the client's
 *                               redirect URI; 400 page when the client or
 *                               redirect URI is not registered
 *   POST /oauth/token        form: authorization_code | refresh_token
 *   POST /oauth/revoke       form: RFC 7009 -> 200
 *
 * The consent page's calls are rows of the operation table (lib/ops.c):
 *   POST /api/v1/oauth/consent            {"request"}: the consent page's view
 *   POST /api/v1/oauth/consent/decision   {"request","decision","role"?}
 * (the pending request's handle in the body, never in the path, which
 * access logs record)
 *
 * The endpoints of the OAuth protocol answer OAuth's error documents
 * ({"error","error_description"}), everything else RFC 9457 problems.
 * Without TOOLGATE_PUBLIC_URL every one of them is a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/oauth.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/svc.h"

#define OAUTH_MAX_PARAMS 32

static int
off(struct tg_req *req, struct tg_resp *resp)
{
	return tg_resp_fail(req, resp, TG_E_NOTFOUND,
	    "OAuth for MCP clients is off on this server (TOOLGATE_PUBLIC_URL is not set); use an API key");
}

static int
oauth_error(struct tg_req *req, struct tg_resp *resp, const struct tg_oerr *oe)
{
	json_t *j = json_pack("{s:s, s:s}", "error", oe->error ? oe->error : "invalid_request",
	    "error_description", oe->desc);

	if (j == NULL)
		return -TG_E_NOMEM;
	if (oe->http == 429)
		(void)tg_resp_header(req, resp, "Retry-After", "60");
	return tg_resp_json(resp, oe->http ? oe->http : 400, j);
}

/* The service's answer: oe when it filled one, else a problem. */
static int
answer(struct tg_req *req, struct tg_resp *resp, int rc, const struct tg_oerr *oe,
    json_t *out, int status)
{
	if (rc == TG_OK)
		return tg_resp_json(resp, status, out);
	if ((rc == -TG_E_BADREQ || rc == -TG_E_RATE) && oe->error != NULL)
		return oauth_error(req, resp, oe);
	if (rc == -TG_E_NOTFOUND)
		return off(req, resp);
	return rc;
}

/* A metadata document j, or 404 where OAuth is off (j NULL). */
static int
metadata(struct tg_req *req, struct tg_resp *resp, json_t *j)
{
	if (j == NULL)
		return off(req, resp);
	return tg_resp_json(resp, 200, j);
}

int
tg_h_oauth_prm(struct tg_req *req, struct tg_resp *resp)
{
	return metadata(req, resp, tg_oauth_prm(req->ctx->cfg));
}

int
tg_h_oauth_asm(struct tg_req *req, struct tg_resp *resp)
{
	return metadata(req, resp, tg_oauth_asm(req->ctx->cfg));
}

int
tg_h_oauth_register(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_oerr oe = {0};
	char why[160];
	json_t *in = NULL, *out = NULL;
	int rc;

	if (req->ctx->cfg->public_url[0] == '\0')
		return off(req, resp);
	if (!tg_content_type_is_json(req->content_type)) {
		tg_oauth_oerr(&oe, 400, "invalid_client_metadata",
		    "the registration request must be application/json");
		return oauth_error(req, resp, &oe);
	}
	if (req->body == NULL || tg_json_parse(req->body, req->body_len, TG_MAX_JSON_DEPTH, &in, why, sizeof(why)) != TG_OK) {
		tg_oauth_oerr(&oe, 400, "invalid_client_metadata",
		    "the registration request is not valid JSON");
		return oauth_error(req, resp, &oe);
	}
	rc = tg_oauth_register(&c, in, &out, &oe);
	json_decref(in);
	return answer(req, resp, rc, &oe, out, 201);
}

/* Decodes an application/x-www-form-urlencoded body into kv (arena). */
static int
form(struct tg_req *req, struct tg_oauth_kv *kv, int max, int *n)
{
	const char *p, *amp, *eq, *end;
	size_t klen, vlen;
	char *k, *v;

	*n = 0;
	if (req->body == NULL)
		return TG_OK;
	end = req->body + req->body_len;
	if (memchr(req->body, '\0', req->body_len) != NULL)
		return -TG_E_BADREQ;
	for (p = req->body; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p)
			continue;
		if (*n >= max)
			return -TG_E_BADREQ;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		vlen = eq ? (size_t)(amp - eq - 1) : 0;
		k = tg_arena_alloc(req->a, klen + 1);
		v = tg_arena_alloc(req->a, vlen + 1);
		if (k == NULL || v == NULL)
			return -TG_E_NOMEM;
		if (tg_parse_pct(p, klen, k, klen + 1, 1) <= 0 ||
		    tg_parse_pct(eq ? eq + 1 : "", vlen, v, vlen + 1, 1) < 0)
			return -TG_E_BADREQ;
		kv[*n].k = k;
		kv[*n].v = v;
		(*n)++;
		if (amp == end)
			break;
	}
	return TG_OK;
}

/* The start of a form endpoint (token, revoke): 404 when OAuth is off, an
 * OAuth error for a body that is not a form; 1 when kv[0..*n) holds it. */
static int
form_endpoint(struct tg_req *req, struct tg_resp *resp, struct tg_oauth_kv *kv,
    int *n, struct tg_oerr *oe)
{
	const char *ct = req->content_type;
	int rc;

	memset(oe, 0, sizeof(*oe));
	if (req->ctx->cfg->public_url[0] == '\0')
		return off(req, resp);
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';')) {
		tg_oauth_oerr(oe, 400, "invalid_request",
		    "the body must be application/x-www-form-urlencoded");
		return oauth_error(req, resp, oe);
	}
	if ((rc = form(req, kv, OAUTH_MAX_PARAMS, n)) != TG_OK) {
		if (rc == -TG_E_NOMEM)
			return rc;
		tg_oauth_oerr(oe, 400, "invalid_request", "the form body is malformed");
		return oauth_error(req, resp, oe);
	}
	return 1;
}

int
tg_h_oauth_token(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_oauth_kv kv[OAUTH_MAX_PARAMS];
	struct tg_oerr oe;
	json_t *out = NULL;
	int n = 0, rc;

	if ((rc = form_endpoint(req, resp, kv, &n, &oe)) != 1)
		return rc;
	rc = tg_oauth_token(&c, kv, n, &out, &oe);
	if (rc == TG_OK)
		(void)tg_resp_header(req, resp, "Pragma", "no-cache");
	return answer(req, resp, rc, &oe, out, 200);
}

int
tg_h_oauth_revoke(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_oauth_kv kv[OAUTH_MAX_PARAMS];
	struct tg_oerr oe;
	int n = 0, rc;

	if ((rc = form_endpoint(req, resp, kv, &n, &oe)) != 1)
		return rc;
	rc = tg_oauth_revoke(&c, kv, n, &oe);
	if (rc == TG_OK) {
		resp->status = 200;
		return TG_OK;
	}
	return answer(req, resp, rc, &oe, NULL, 200);
}

/* An error of the authorization endpoint that must not go back to the
 * client (unknown client or redirect URI): a page for the person. */
static int
authorize_page(struct tg_resp *resp, const struct tg_oerr *oe)
{
	static const char head[] =
	    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"referrer\" content=\"no-referrer\"><title>Sign-in request refused"
	    " &middot; toolgate</title></head><body><h1>This sign-in request was refused</h1><p>";
	static const char tail[] =
	    "</p><p>The application that sent you here is not set up correctly for this"
	    " toolgate server. Nothing was shared with it. Close this page and tell the"
	    " application's owner.</p></body></html>\n";
	static const char busy[] =
	    "</p><p>Nothing was shared with the application. Close this page and"
	    " try again from the application in a few minutes.</p></body></html>\n";
	const char *s;
	int rc;

	resp->status = oe->http ? oe->http : 400;
	resp->content_type = "text/html; charset=utf-8";
	rc = tg_buf_puts(&resp->body, head);
	/* the texts are ours (lib/oauth.c), but escape them anyway */
	for (s = oe->desc; rc == 0 && *s; s++) {
		if (*s == '<')
			rc = tg_buf_puts(&resp->body, "&lt;");
		else if (*s == '>')
			rc = tg_buf_puts(&resp->body, "&gt;");
		else if (*s == '&')
			rc = tg_buf_puts(&resp->body, "&amp;");
		else if (*s == '"')
			rc = tg_buf_puts(&resp->body, "&quot;");
		else
			rc = tg_buf_append(&resp->body, s, 1);
	}
	if (rc == 0)
		rc = tg_buf_puts(&resp->body, resp->status == 429 ? busy : tail);
	return rc == 0 ? TG_OK : -TG_E_NOMEM;
}

int
tg_h_oauth_authorize(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_oauth_kv kv[TG_MAX_QUERY_PAIRS];
	struct tg_oerr oe = {0};
	char *loc = NULL;
	int i, rc;

	if (req->ctx->cfg->public_url[0] == '\0')
		return off(req, resp);
	if ((rc = tg_req_parse_query(req)) != TG_OK) {
		if (rc == -TG_E_NOMEM)
			return rc;
		tg_oauth_oerr(&oe, 400, "invalid_request", "the query string is malformed");
		return authorize_page(resp, &oe);
	}
	for (i = 0; i < req->nqs; i++) {
		kv[i].k = req->qs[i].k;
		kv[i].v = req->qs[i].v;
	}
	rc = tg_oauth_authorize(&c, kv, req->nqs, &loc, &oe);
	if (rc == -TG_E_RATE) {
		(void)tg_resp_header(req, resp, "Retry-After", "60");
		return authorize_page(resp, &oe);
	}
	if (rc == -TG_E_BADREQ)
		return authorize_page(resp, &oe);
	if (rc == -TG_E_NOTFOUND)
		return off(req, resp);
	if (rc != TG_OK)
		return rc;
	rc = tg_resp_header(req, resp, "Location", loc);
	free(loc);
	if (rc != TG_OK)
		return rc;
	resp->status = 302;
	return TG_OK;
}
