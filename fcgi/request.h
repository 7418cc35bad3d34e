/*
 * request.h - one HTTP request as the handlers see it.
 *
 * The transport (FastCGI stream or plain CGI) hides behind struct tg_io.
 * All strings in struct tg_req are borrowed: from the arena (valid until
 * tg_arena_reset after the request) or from the transport (valid until
 * FCGX_Finish_r). req->json is owned by the request and released by
 * tg_req_clear().
 */
#ifndef TG_REQUEST_H
#define TG_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"	/* enum tg_role, struct tg_principal */
#include "lib/clock.h"	/* tg_now_us */
#include "lib/limits.h"

struct tg_arena;
struct tg_config;
struct tg_db;
struct tg_route;
struct tg_metrics;

struct tg_io {
	void *ctx;
	/* CGI/FastCGI parameter (HTTP_*, REQUEST_METHOD...) or NULL. */
	const char *(*param)(void *ctx, const char *name);
	/* Read up to n bytes; returns the count, fewer than n only at EOF. */
	int (*read)(void *ctx, char *buf, int n);
	/* Write all n bytes; 0 or -1 (client gone). */
	int (*write)(void *ctx, const char *buf, size_t n);
	/* Flush buffered output; 0 or -1. */
	int (*flush)(void *ctx);
	/* Optional (may be NULL): an fd that reports hang-up (POLLHUP/
	 * POLLRDHUP) when the client goes away, or -1. Long-running handlers
	 * poll it to stop work nobody will read (MCP: kill the sandbox). */
	int (*cancel_fd)(void *ctx);
};

/* Per-worker context shared by every request the worker serves. */
struct tg_ctx {
	const struct tg_config *cfg;
	struct tg_db *db;
	struct tg_metrics *metrics;	/* may be NULL */
};

struct tg_kv {
	const char *k, *v;
};

struct tg_req {
	struct tg_arena *a;
	const struct tg_io *io;
	struct tg_ctx *ctx;
	const struct tg_route *route;

	const char *method;
	const char *uri;		/* raw REQUEST_URI */
	const char *path;		/* raw path (no query) */
	const char *query;		/* raw query string, "" if none */
	const char *request_id;
	const char *remote_addr;
	const char *content_type;
	int64_t content_length;		/* -1 when absent */
	int https;

	struct tg_kv params[TG_MAX_CAPTURES];	/* decoded :captures */
	int nparams;
	struct tg_kv qs[TG_MAX_QUERY_PAIRS];	/* decoded query pairs */
	int nqs;
	int qs_parsed;

	char *body;			/* arena, NUL-terminated */
	size_t body_len;
	json_t *json;			/* parsed body, owned */

	struct tg_principal who;
	int64_t start_us;
};

/* Initialise from the transport's parameters. Returns 0 or -TG_E_*. */
int tg_req_init(struct tg_req *req, struct tg_arena *a, const struct tg_io *io,
    struct tg_ctx *ctx);
/* The service context of this request (lib/call.h): borrowed pointers,
 * valid while req is. */
struct tg_call tg_req_call(const struct tg_req *req);
/* Releases what the request owns (json). Safe to call twice. */
void tg_req_clear(struct tg_req *req);

/* Any CGI parameter, e.g. "HTTP_AUTHORIZATION"; NULL when absent. */
const char *tg_req_param(const struct tg_req *req, const char *name);
/* A :capture by name; NULL when absent. */
const char *tg_req_capture(const struct tg_req *req, const char *name);
/* A decoded query parameter; NULL when absent. Parses lazily; a malformed
 * query string is reported by tg_req_parse_query(). */
const char *tg_req_query(struct tg_req *req, const char *name);
int tg_req_parse_query(struct tg_req *req);
/* Integer query parameter in [lo, hi], def when absent. */
int tg_req_query_i64(struct tg_req *req, const char *name, int64_t lo,
    int64_t hi, int64_t def, int64_t *out);

/* Reads exactly content_length bytes (caller checked the limit).
 * Returns 0, -TG_E_BADREQ on a short body, -TG_E_NOMEM. */
int tg_req_read_body(struct tg_req *req);

/* Maximum nesting depth of JSON text (outside strings); scans raw bytes. */
int tg_json_depth(const char *s, size_t n);
/* Parse buf as a JSON object or array with duplicate keys rejected and a
 * depth limit. On failure writes a reason into err. Returns 0/-TG_E_BADREQ. */
int tg_json_parse(const char *buf, size_t n, int max_depth, json_t **out,
    char *err, size_t errlen);

/* "application/json" or "application/json; charset=utf-8" (any case). */
int tg_content_type_is_json(const char *ct);


#endif
