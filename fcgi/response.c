/*
 * response.c - rendering: CGI status line, security and CORS headers, JSON
 * or problem+json bodies. All output passes through here (or through
 * tg_resp_write for streams), so every response carries the same headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "lib/parse.h"
#include "lib/arena.h"
#include "lib/jsonalloc.h"
#include "lib/status.h"

void
tg_resp_init(struct tg_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 200;
	resp->no_store = 1;
	resp->body.max = 64u * 1024 * 1024;
}

void
tg_resp_clear(struct tg_resp *resp)
{
	json_decref(resp->json);
	json_decref(resp->problem_ext);
	resp->json = NULL;
	resp->problem_ext = NULL;
	tg_buf_free(&resp->body);
}

static int
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int
tg_resp_header(struct tg_req *req, struct tg_resp *resp, const char *name,
    const char *value)
{
	char *n, *v;

	if (has_crlf(name) || has_crlf(value) || resp->nheaders >= TG_MAX_HEADERS)
		return -TG_E_INTERNAL;
	n = tg_arena_strdup(req->a, name);
	v = tg_arena_strdup(req->a, value);
	if (n == NULL || v == NULL)
		return -TG_E_NOMEM;
	resp->headers[resp->nheaders].name = n;
	resp->headers[resp->nheaders].value = v;
	resp->nheaders++;
	return TG_OK;
}

int
tg_resp_json(struct tg_resp *resp, int http_status, json_t *root)
{
	if (root == NULL)
		return -TG_E_NOMEM;
	json_decref(resp->json);
	resp->json = root;
	resp->status = http_status;
	return TG_OK;
}

static int
vfail(struct tg_req *req, struct tg_resp *resp, int st, json_t *errors,
    const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (st < 0)
		st = -st;
	resp->err = st;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= 0)
		resp->detail = tg_arena_strdup(req->a, buf);
	if (errors != NULL) {
		json_decref(resp->problem_ext);
		resp->problem_ext = json_object();
		if (resp->problem_ext)
			json_object_set_new(resp->problem_ext, "errors", errors);
		else
			json_decref(errors);
	}
	return -st;
}

int
tg_resp_fail_fields(struct tg_req *req, struct tg_resp *resp, int st,
    json_t *errors, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(req, resp, st, errors, fmt, ap);
	va_end(ap);
	return rc;
}

json_t *
tg_problem_new(int http_status, const char *title, const char *name,
    const char *detail, const char *instance_path, const char *request_id)
{
	char type[128], *d = NULL, *ip = NULL;
	json_t *p;

	/* reliability: never unvalidated bytes in a problem document (jansson
	 * refuses invalid UTF-8 and the reply would become a bare 503). */
	if (detail && !tg_utf8_valid(detail, strlen(detail)) &&
	    (detail = d = strdup(detail)) != NULL)
		tg_utf8_scrub(d);
	if (instance_path && !tg_utf8_valid(instance_path, strlen(instance_path)) &&
	    (instance_path = ip = strdup(instance_path)) != NULL)
		tg_utf8_scrub(ip);
	snprintf(type, sizeof(type), "urn:toolgate:problem:%s", name);
	p = json_pack("{s:s, s:s, s:i, s:s*, s:s*, s:s*}", "type", type, "title",
	    title, "status", http_status, "detail", detail, "instance",
	    instance_path, "request_id",
	    request_id && *request_id ? request_id : NULL);
	free(d);
	free(ip);
	return p;
}

const char *
tg_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static int
put(struct tg_req *req, const char *s, size_t n)
{
	return req->io->write(req->io->ctx, s, n);
}

/* Writes the header block and, when body is not NULL, the body with it in
 * one write (one FastCGI exchange for a whole JSON reply). */
/* What a complete response becomes when its head cannot be built (out of
 * memory): static text, so that the client gets a 503 rather than nothing
 * (which nginx would turn into a 502). */
#define OOM_BODY "{\"type\":\"urn:toolgate:problem:internal\",\"title\":\"Service Unavailable\",\"status\":503}"
static const char oom_reply[] = "Status: 503 Service Unavailable\r\n"
    "Content-Type: application/problem+json\r\n"
    "Content-Length: 83\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Cache-Control: no-store\r\n"
    "Retry-After: 2\r\n"
    "\r\n" OOM_BODY;
_Static_assert(sizeof(OOM_BODY) - 1 == 83, "Content-Length of OOM_BODY");

static int
write_headers(struct tg_req *req, struct tg_resp *resp, const char *ctype,
    size_t body_len, int with_len, const char *body)
{
	struct tg_buf h = {0};
	const char *origin;
	int i, rc = -1, built = 0;

	h.max = 64 * 1024 + (body != NULL ? body_len : 0);
	if (tg_buf_printf(&h, "Status: %d %s\r\n", resp->status,
	    tg_http_reason(resp->status)) != 0)
		goto out;
	if (ctype != NULL && tg_buf_printf(&h, "Content-Type: %s\r\n", ctype) != 0)
		goto out;
	if (with_len && tg_buf_printf(&h, "Content-Length: %zu\r\n", body_len) != 0)
		goto out;
	/* Security headers, on every response. */
	if (tg_buf_puts(&h,
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
	    "Cross-Origin-Resource-Policy: same-origin\r\n") != 0)
		goto out;
	if (resp->no_store && tg_buf_puts(&h, "Cache-Control: no-store\r\n") != 0)
		goto out;
	if (req->https && tg_buf_puts(&h,
	    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n") != 0)
		goto out;
	/* CORS: only for allow-listed origins. */
	origin = tg_req_param(req, "HTTP_ORIGIN");
	if (origin != NULL && req->ctx && req->ctx->cfg &&
	    tg_config_origin_allowed(req->ctx->cfg, origin) && !has_crlf(origin)) {
		if (tg_buf_printf(&h,
		    "Access-Control-Allow-Origin: %s\r\n"
		    "Access-Control-Expose-Headers: " TG_CORS_EXPOSE_HEADERS "\r\n",
		    origin) != 0)
			goto out;
	}
	if (origin != NULL && tg_buf_puts(&h, "Vary: Origin\r\n") != 0)
		goto out;
	for (i = 0; i < resp->nheaders; i++)
		if (tg_buf_printf(&h, "%s: %s\r\n", resp->headers[i].name,
		    resp->headers[i].value) != 0)
			goto out;
	if (tg_buf_puts(&h, "\r\n") != 0)
		goto out;
	if (body != NULL && body_len > 0 && tg_buf_append(&h, body, body_len) != 0)
		goto out;
	built = 1;
	rc = put(req, h.p, h.len);
out:
	if (!built && with_len) {
		resp->status = 503;
		rc = put(req, oom_reply, sizeof(oom_reply) - 1);
	}
	if (body != NULL)
		tg_buf_wipe(&h);	/* a reply may carry a new API key */
	else
		tg_buf_free(&h);
	return rc;
}

int
tg_resp_send(struct tg_req *req, struct tg_resp *resp)
{
	char *dumped = NULL;
	json_t *prob = NULL;
	const char *ctype = NULL, *body = NULL;
	size_t len = 0;
	int rc = -1, st;

	if (resp->started)
		return 0;
	if (resp->err) {
		st = tg_status_http(resp->err);
		resp->status = st;
		prob = tg_problem_new(st, tg_status_title(resp->err),
		    tg_status_name(resp->err), resp->detail, req->path,
		    req->request_id);
		if (prob && resp->problem_ext)
			json_object_update(prob, resp->problem_ext);
		if (prob)
			dumped = tg_jsonalloc_dumps(prob, JSON_COMPACT);
		if (dumped == NULL) {
			/* Out of memory: a fixed problem document. */
			body = "{\"type\":\"urn:toolgate:problem:internal\",\"title\":\"Service Unavailable\",\"status\":503}";
			resp->status = 503;
		} else {
			body = dumped;
		}
		len = strlen(body);
		ctype = "application/problem+json";
	} else if (resp->json != NULL) {
		dumped = tg_jsonalloc_dumps(resp->json, JSON_COMPACT | JSON_ENCODE_ANY);
		if (dumped == NULL) {
			resp->status = 503;
			body = "{\"type\":\"urn:toolgate:problem:internal\",\"title\":\"Service Unavailable\",\"status\":503}";
			ctype = "application/problem+json";
		} else {
			body = dumped;
			ctype = "application/json";
		}
		len = strlen(body);
	} else if (resp->body.len > 0 || resp->content_type) {
		body = resp->body.p ? resp->body.p : "";
		len = resp->body.len;
		ctype = resp->content_type ? resp->content_type : "text/plain; charset=utf-8";
	}
	if (write_headers(req, resp, ctype, len, 1,
	    strcmp(req->method, "HEAD") != 0 ? body : NULL) != 0)
		goto out;
	resp->started = 1;
	rc = 0;
out:
	free(dumped);
	json_decref(prob);
	return rc;
}

int
tg_resp_begin(struct tg_req *req, struct tg_resp *resp)
{
	int rc;

	rc = write_headers(req, resp, resp->content_type, 0, 0, NULL);
	resp->started = 1;
	if (rc == 0 && req->io->flush)
		rc = req->io->flush(req->io->ctx);
	return rc;
}

int
tg_resp_write(struct tg_req *req, const char *data, size_t n)
{
	if (put(req, data, n) != 0)
		return -1;
	return req->io->flush ? req->io->flush(req->io->ctx) : 0;
}
