/*
 * request.c - request parameters, query parsing, body reading and the JSON
 * front door (duplicate keys rejected, depth-limited before jansson sees it).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/request.h"
#include "lib/arena.h"
#include "lib/jsonalloc.h"
#include "lib/parse.h"
#include "lib/status.h"

const char *
tg_req_param(const struct tg_req *req, const char *name)
{
	return req->io->param(req->io->ctx, name);
}

struct tg_call
tg_req_call(const struct tg_req *req)
{
	struct tg_call c;

	memset(&c, 0, sizeof(c));
	c.db = req->ctx ? req->ctx->db : NULL;
	c.cfg = req->ctx ? req->ctx->cfg : NULL;
	c.metrics = req->ctx ? req->ctx->metrics : NULL;
	c.who = &req->who;
	c.request_id = req->request_id;
	c.client_addr = req->remote_addr;
	c.method = req->method;
	c.path = req->path;
	return c;
}

int
tg_req_init(struct tg_req *req, struct tg_arena *a, const struct tg_io *io,
    struct tg_ctx *ctx)
{
	const char *v, *q;
	int64_t n;

	memset(req, 0, sizeof(*req));
	req->a = a;
	req->io = io;
	req->ctx = ctx;
	req->start_us = tg_now_us();
	req->content_length = -1;

	v = tg_req_param(req, "REQUEST_METHOD");
	req->method = v ? v : "";
	v = tg_req_param(req, "REQUEST_ID");
	req->request_id = v ? v : "";
	v = tg_req_param(req, "REMOTE_ADDR");
	req->remote_addr = v ? v : "";
	req->content_type = tg_req_param(req, "CONTENT_TYPE");
	v = tg_req_param(req, "HTTPS");
	req->https = v != NULL && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0);

	v = tg_req_param(req, "REQUEST_URI");
	if (v == NULL || *v == '\0')
		v = tg_req_param(req, "SCRIPT_NAME"); /* bare CGI fallback */
	if (v == NULL || *v != '/')
		return -TG_E_BADREQ;
	if (strlen(v) > TG_MAX_PATH + TG_MAX_QUERY)
		return -TG_E_TOOLARGE;
	req->uri = v;
	q = strchr(v, '?');
	if (q != NULL) {
		req->path = tg_arena_strndup(a, v, (size_t)(q - v));
		req->query = q + 1;
	} else {
		req->path = v;
		req->query = "";
	}
	if (req->path == NULL)
		return -TG_E_NOMEM;
	if (strlen(req->path) > TG_MAX_PATH || strlen(req->query) > TG_MAX_QUERY)
		return -TG_E_TOOLARGE;

	v = tg_req_param(req, "CONTENT_LENGTH");
	if (v != NULL && *v != '\0') {
		if (tg_parse_i64(v, 0, INT64_MAX, &n) != 0)
			return -TG_E_BADREQ;
		req->content_length = n;
	}
	return TG_OK;
}

void
tg_req_clear(struct tg_req *req)
{
	json_decref(req->json);
	req->json = NULL;
}

/* The value of name among the n pairs of kv, or NULL. */
static const char *
kv_find(const struct tg_kv *kv, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].k, name) == 0)
			return kv[i].v;
	return NULL;
}

const char *
tg_req_capture(const struct tg_req *req, const char *name)
{
	return kv_find(req->params, req->nparams, name);
}

int
tg_req_parse_query(struct tg_req *req)
{
	const char *p, *amp, *eq;
	char *k, *v;
	size_t klen, vlen;
	int n;

	if (req->qs_parsed)
		return req->qs_parsed > 0 ? TG_OK : -TG_E_BADREQ;
	req->qs_parsed = -1;
	for (p = req->query; *p; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		vlen = eq ? (size_t)(amp - eq - 1) : 0;
		if (req->nqs >= TG_MAX_QUERY_PAIRS)
			return -TG_E_BADREQ;
		k = tg_arena_alloc(req->a, klen + 1);
		v = tg_arena_alloc(req->a, vlen + 1);
		if (k == NULL || v == NULL)
			return -TG_E_NOMEM;
		if ((n = tg_parse_pct(p, klen, k, klen + 1, 1)) < 0 || n == 0)
			return -TG_E_BADREQ;
		if (tg_parse_pct(eq ? eq + 1 : "", vlen, v, vlen + 1, 1) < 0)
			return -TG_E_BADREQ;
		req->qs[req->nqs].k = k;
		req->qs[req->nqs].v = v;
		req->nqs++;
	}
	req->qs_parsed = 1;
	return TG_OK;
}

const char *
tg_req_query(struct tg_req *req, const char *name)
{
	if (tg_req_parse_query(req) != TG_OK)
		return NULL;
	return kv_find(req->qs, req->nqs, name);
}

int
tg_req_query_i64(struct tg_req *req, const char *name, int64_t lo, int64_t hi,
    int64_t def, int64_t *out)
{
	const char *v;
	int rc;

	if ((rc = tg_req_parse_query(req)) != TG_OK)
		return rc;
	v = tg_req_query(req, name);
	if (v == NULL) {
		*out = def;
		return TG_OK;
	}
	return tg_parse_i64(v, lo, hi, out);
}

int
tg_req_read_body(struct tg_req *req)
{
	size_t want, got = 0;
	int chunk, n;
	char *p;

	if (req->content_length <= 0) {
		req->body = tg_arena_strdup(req->a, "");
		req->body_len = 0;
		return req->body ? TG_OK : -TG_E_NOMEM;
	}
	want = (size_t)req->content_length;
	p = tg_arena_alloc(req->a, want + 1);
	if (p == NULL)
		return -TG_E_NOMEM;
	while (got < want) {
		chunk = want - got > 65536 ? 65536 : (int)(want - got);
		n = req->io->read(req->io->ctx, p + got, chunk);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (n < chunk)
			break;
	}
	if (got != want)
		return -TG_E_BADREQ;
	p[got] = '\0';
	req->body = p;
	req->body_len = got;
	return TG_OK;
}

int
tg_json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0, in_str = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

int
tg_json_parse(const char *buf, size_t n, int max_depth, json_t **out,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;
	unsigned long oom;

	if (n == 0) {
		snprintf(err, errlen, "the request body is empty; a JSON object is required");
		return -TG_E_BADREQ;
	}
	if (tg_json_depth(buf, n) > max_depth) {
		snprintf(err, errlen, "JSON nesting is deeper than %d levels", max_depth);
		return -TG_E_BADREQ;
	}
	oom = tg_jsonalloc_failures();
	j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	/* Out of memory is a 500, not the client's fault; jansson may even
	 * return an incomplete document after a failed allocation. */
	if (tg_jsonalloc_failures() != oom) {
		json_decref(j);
		snprintf(err, errlen, "out of memory while parsing the request body");
		return -TG_E_NOMEM;
	}
	if (j == NULL) {
		snprintf(err, errlen, "malformed JSON at line %d, column %d: %s",
		    je.line, je.column, je.text);
		return -TG_E_BADREQ;
	}
	*out = j;
	return TG_OK;
}

int
tg_content_type_is_json(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return 0;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	p = ct + 16;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p != ';')
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (*p == '"')
		p++;
	return strncasecmp(p, "utf-8", 5) == 0 &&
	    (p[5] == '\0' || p[5] == '"' || p[5] == ' ' || p[5] == ';');
}
