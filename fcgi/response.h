/*
 * response.h - what a handler hands back, and how it is written.
 *
 * A handler fills resp->status (default 200) and resp->json (one root,
 * owned by resp) or resp->body (raw text with resp->content_type), adds
 * headers with tg_resp_header(), or fails with tg_resp_fail(), which
 * records a problem detail and returns the negated status for the handler
 * to return. The router renders everything; only streaming handlers (SSE)
 * write themselves, through tg_resp_begin()/tg_resp_write() checking
 * every return.
 */
#ifndef TG_RESPONSE_H
#define TG_RESPONSE_H

#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/limits.h"

struct tg_req;

struct tg_resp {
	int status;			/* HTTP status */
	json_t *json;			/* body, owned */
	struct tg_buf body;		/* raw body when json is NULL */
	const char *content_type;	/* for body; JSON types set by render */
	struct {
		const char *name, *value;	/* arena strings */
	} headers[TG_MAX_HEADERS];
	int nheaders;
	int no_store;			/* Cache-Control: no-store (default on) */
	int started;			/* headers already written (streaming) */
	/* problem details */
	int err;			/* tg_status of a failure, 0 if none */
	const char *detail;
	json_t *problem_ext;		/* extra members, e.g. "errors": [...] */
};

void tg_resp_init(struct tg_resp *resp);
void tg_resp_clear(struct tg_resp *resp);

/* Adds a header; name and value are copied into the request arena. Values
 * with CR or LF are refused (-TG_E_INTERNAL). */
int tg_resp_header(struct tg_req *req, struct tg_resp *resp, const char *name,
    const char *value);
/* Sets the body root (steals the reference) and status. */
int tg_resp_json(struct tg_resp *resp, int http_status, json_t *root);
/* Records a problem (detail printf-style) with field errors for 422 and
 * returns -st: errors is an array of {"field":..., "message":...} objects
 * (stolen), or NULL. */
int tg_resp_fail_fields(struct tg_req *req, struct tg_resp *resp, int st,
    json_t *errors, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Records a problem (detail printf-style) and returns -st. */
/* The response headers a browser page of an allowed origin may read
 * (CORS; also on the stream process's responses, fcgi/stream.c). */
#define TG_CORS_EXPOSE_HEADERS \
	"Mcp-Session-Id, MCP-Protocol-Version, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id"

#define tg_resp_fail(req, resp, st, ...) \
	tg_resp_fail_fields((req), (resp), (st), NULL, __VA_ARGS__)

/* Builds the RFC 9457 problem document (new reference). */
json_t *tg_problem_new(int http_status, const char *title, const char *name,
    const char *detail, const char *instance_path, const char *request_id);

/* Writes status line, headers and body. Returns 0 or -1 (client gone). */
int tg_resp_send(struct tg_req *req, struct tg_resp *resp);
/* Streaming: write status and headers now (resp->started = 1). */
int tg_resp_begin(struct tg_req *req, struct tg_resp *resp);
int tg_resp_write(struct tg_req *req, const char *data, size_t n);

/* Reason phrase for an HTTP status. */
const char *tg_http_reason(int status);

#endif
