/*
 * router.c - table-driven routing and the generic request pipeline (see
 * router.h for the order of checks). Handlers see only validated input:
 * a matched route, a body within its limit, well-formed JSON.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fcgi/router.h"
#include "fcgi/access.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/parse.h"
#include "lib/slots.h"
#include "lib/status.h"
#include "lib/trace.h"	/* observability */

#define CORS_ALLOW_HEADERS \
	"Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name"

/* Match one pattern against a raw path; fills captures on success. */
static int
match(struct tg_req *req, const char *pattern, const char *path, int fill)
{
	const char *p = pattern, *s = path;
	int ncap = 0;

	while (*p && *s) {
		const char *pe, *se;
		size_t plen, slen;

		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		plen = pe ? (size_t)(pe - p) : strlen(p);
		slen = se ? (size_t)(se - s) : strlen(s);
		if (*p == ':') {
			char *v;
			int n;

			if (slen == 0)
				return 0;
			if (fill) {
				if (ncap >= TG_MAX_CAPTURES)
					return 0;
				v = tg_arena_alloc(req->a, slen + 1);
				if (v == NULL)
					return 0;
				n = tg_parse_pct(s, slen, v, slen + 1, 0);
				if (n <= 0 || strchr(v, '/') != NULL)
					return 0;
				req->params[ncap].k = tg_arena_strndup(req->a, p + 1, plen - 1);
				req->params[ncap].v = v;
				if (req->params[ncap].k == NULL)
					return 0;
				ncap++;
			}
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return 0;
		}
		p += plen;
		s += slen;
	}
	if (*p || *s)
		return 0;
	if (fill)
		req->nparams = ncap;
	return 1;
}

const struct tg_route *
tg_router_find(const struct tg_route *table, struct tg_req *req,
    const char *method, const char *path, int *status, char *allow, size_t cap)
{
	const struct tg_route *r;
	int path_hit = 0, test_ok;
	size_t used = 0;

	if (cap)
		allow[0] = '\0';
	test_ok = req->ctx && req->ctx->cfg && req->ctx->cfg->test_routes;
	for (r = table; r->method != NULL; r++) {
		if ((r->flags & TG_R_TEST) && !test_ok)
			continue;
		if (!match(req, r->pattern, path, 0))
			continue;
		if (strcmp(r->method, method) == 0) {
			if (!match(req, r->pattern, path, 1)) {
				*status = 400;
				return NULL;
			}
			return r;
		}
		path_hit = 1;
		if (cap && !strstr(allow, r->method)) {
			int n = snprintf(allow + used, cap - used, "%s%s",
			    used ? ", " : "", r->method);
			if (n > 0 && (size_t)n < cap - used)
				used += (size_t)n;
		}
	}
	if (path_hit && cap) {
		int n = snprintf(allow + used, cap - used, ", OPTIONS");
		if (n > 0 && (size_t)n < cap - used)
			used += (size_t)n;
	}
	*status = path_hit ? 405 : 404;
	return NULL;
}

/* CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
static int
preflight(struct tg_req *req, struct tg_resp *resp)
{
	const char *origin = tg_req_param(req, "HTTP_ORIGIN");
	const char *want = tg_req_param(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
	char allow[128];
	int st = 0;

	if (tg_router_find(tg_route_table(), req, "\x01", req->path, &st, allow,
	    sizeof(allow)) == NULL && st == 404)
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such endpoint");
	if (!tg_config_origin_allowed(req->ctx->cfg, origin))
		return tg_resp_fail(req, resp, TG_E_FORBIDDEN,
		    "origin is not in TOOLGATE_ALLOWED_ORIGINS");
	if (want == NULL || strstr(allow, want) == NULL)
		return tg_resp_fail(req, resp, TG_E_METHOD,
		    "method not allowed for this endpoint");
	resp->status = 204;
	if (tg_resp_header(req, resp, "Access-Control-Allow-Methods", allow) ||
	    tg_resp_header(req, resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS) ||
	    tg_resp_header(req, resp, "Access-Control-Max-Age", "600"))
		return -TG_E_NOMEM;
	return TG_OK;
}

static int
pipeline(struct tg_req *req, struct tg_resp *resp, const char **route_name)
{
	const struct tg_route *r;
	char allow[128], err[256];
	int rc, st = 0;
	size_t limit;

	if ((rc = tg_req_init(req, req->a, req->io, req->ctx)) != TG_OK) {
		if (rc == -TG_E_TOOLARGE)
			return tg_resp_fail(req, resp, TG_E_BADREQ,
			    "the request URI is too long (at most %d bytes of path and %d of query)",
			    TG_MAX_PATH, TG_MAX_QUERY);
		if (req->uri == NULL)
			return tg_resp_fail(req, resp, TG_E_BADREQ, "missing or malformed request URI");
		return tg_resp_fail(req, resp, TG_E_BADREQ, "malformed Content-Length");
	}
	tg_log_set_request(req->request_id);

	if (strcmp(req->method, "OPTIONS") == 0 &&
	    tg_req_param(req, "HTTP_ORIGIN") != NULL &&
	    tg_req_param(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") != NULL) {
		*route_name = "preflight";
		return preflight(req, resp);
	}

	r = tg_router_find(tg_route_table(), req, req->method, req->path, &st, allow,
	    sizeof(allow));
	if (r == NULL) {
		if (st == 405) {
			if (strcmp(req->method, "OPTIONS") == 0) {
				resp->status = 204;
				return tg_resp_header(req, resp, "Allow", allow);
			}
			if ((rc = tg_resp_header(req, resp, "Allow", allow)) != TG_OK)
				return rc;
			return tg_resp_fail(req, resp, TG_E_METHOD,
			    "%s is not allowed here; allowed: %s", req->method, allow);
		}
		if (st == 400)
			return tg_resp_fail(req, resp, TG_E_BADREQ,
			    "malformed percent-encoding in the path (or not UTF-8 once decoded)");
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such endpoint");
	}
	req->route = r;
	*route_name = r->pattern;

	/* Size, before reading anything. */
	limit = r->max_body;
	if (limit > (size_t)req->ctx->cfg->max_body && !(r->flags & TG_R_RAW))
		limit = (size_t)req->ctx->cfg->max_body;
	if (req->content_length > 0 && (uint64_t)req->content_length > limit) {
		if (limit == 0)
			return tg_resp_fail(req, resp, TG_E_TOOLARGE,
			    "this endpoint takes no request body");
		return tg_resp_fail(req, resp, TG_E_TOOLARGE,
		    "the request body is %lld bytes; the limit here is %zu",
		    (long long)req->content_length, limit);
	}
	if (req->content_length < 0 && (r->flags & TG_R_JSON)) {
		/* nginx always sends CONTENT_LENGTH for a body; none = empty. */
		req->content_length = 0;
	}
	/* Content type. */
	if ((r->flags & (TG_R_JSON | TG_R_JSON_OPT)) && req->content_length > 0 &&
	    !tg_content_type_is_json(req->content_type))
		return tg_resp_fail(req, resp, TG_E_MEDIATYPE,
		    "the request body must be application/json (UTF-8)");

	/* Authentication, authorisation and rate limits. */
	if ((rc = tg_access_check(req, resp)) != TG_OK)
		return rc;

	if (req->content_length > 0 || (r->flags & TG_R_JSON)) {
		if ((rc = tg_req_read_body(req)) != TG_OK) {
			if (rc == -TG_E_NOMEM)
				return rc;
			return tg_resp_fail(req, resp, TG_E_BADREQ,
			    "the request body is shorter than its Content-Length");
		}
		if ((r->flags & (TG_R_JSON | TG_R_JSON_OPT)) &&
		    (req->body_len > 0 || (r->flags & TG_R_JSON))) {
			rc = tg_json_parse(req->body, req->body_len,
			    TG_MAX_JSON_DEPTH, &req->json, err, sizeof(err));
			if (rc == -TG_E_NOMEM)
				return rc;
			if (rc != TG_OK)
				return tg_resp_fail(req, resp, TG_E_BADREQ, "%s", err);
		}
	}
	return r->handler(req, resp);
}

/* Observability (issue #23): the request's SERVER span, from the caller's
 * traceparent/tracestate headers; nginx's $request_id is recorded on it. */
static void
span_done(int h, const struct tg_req *req, const char *route_name, int http)
{
	char name[160];

	if (h == 0)
		return;
	snprintf(name, sizeof(name), "%s %s", req->method ? req->method : "HTTP",
	    route_name);
	tg_span_name(h, name);
	tg_span_str(h, "http.request.method", req->method);
	tg_span_str(h, "http.route", route_name);
	tg_span_int(h, "http.response.status_code", http);
	tg_span_str(h, "toolgate.request_id", req->request_id);
	tg_span_int(h, "toolgate.db.round_trips",
	    req->ctx->db ? tg_db_round_trips(req->ctx->db) : 0);
	tg_span_int(h, "process.pid", (int64_t)getpid());
	if (http >= 500)
		tg_span_error(h, "server error");
	tg_span_end(h);
}

void
tg_router_serve(struct tg_req *req)
{
	struct tg_resp resp;
	const char *route_name = "-";
	int rc, http, span;
	int64_t dur;

	tg_resp_init(&resp);
	span = tg_span_start_remote("HTTP", TG_SPAN_SERVER,
	    tg_req_param(req, "HTTP_TRACEPARENT"), tg_req_param(req, "HTTP_TRACESTATE"));
	if (req->ctx->db)
		tg_db_request_begin(req->ctx->db);
	rc = pipeline(req, &resp, &route_name);
	if (req->ctx->db)
		tg_db_request_end(req->ctx->db);
	if (rc != TG_OK && resp.err == 0) {
		/* A status without a detail: render a generic problem. */
		resp.err = rc < 0 ? -rc : rc;
		if (resp.err == TG_E_DB || resp.err == TG_E_UNAVAIL)
			resp.detail = "the database is unavailable; retry shortly";
		else if (resp.err == TG_E_BUSY)
			resp.detail = "every tool slot is busy; retry after the Retry-After delay";
		else if (resp.err == TG_E_INTERNAL)
			resp.detail = "internal error; see the server log for this request id";
	}
	if (resp.err == TG_E_DB || resp.err == TG_E_UNAVAIL || resp.err == TG_E_NOMEM)
		tg_resp_header(req, &resp, "Retry-After", "2");
	else if (resp.err == TG_E_BUSY) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", tg_slots_retry_after_s());
		tg_resp_header(req, &resp, "Retry-After", ra);
	}
	if (tg_resp_send(req, &resp) != 0)
		tg_log(TG_LOG_INFO, "http.client_gone", "route=%s", tg_log_q(route_name));
	http = resp.status;
	dur = tg_now_us() - req->start_us;
	tg_metrics_request(req->ctx->metrics, route_name, http, dur);
	span_done(span, req, route_name, http);
	tg_trace_flush();	/* hands the spans to the exporter; never waits */
	tg_log(TG_LOG_INFO, "http.access",
	    "method=%s route=%s status=%d dur_us=%lld db_rt=%d remote=%s",
	    tg_log_q(req->method), tg_log_q(route_name), http, (long long)dur,
	    req->ctx->db ? tg_db_round_trips(req->ctx->db) : 0,
	    tg_log_q(req->remote_addr));
	tg_log_set_request(NULL);
	tg_resp_clear(&resp);
	tg_req_clear(req);
}
