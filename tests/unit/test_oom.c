/*
 * test_oom.c - allocation-failure injection (tests/unit/failalloc.h, the
 * SQLite idea) for the modules that allocate: lib/buf.c, lib/arena.c,
 * lib/jsonalloc.c, the request front door (fcgi/request.c with
 * lib/parse.c: path, query pairs, body, JSON parse) and the /mcp transport
 * (handlers/mcp.c, in-memory backend). Each operation is run with its
 * first, second, ... allocation failing until it no longer allocates
 * that often; every failure must come back as the documented
 * out-of-memory outcome with the state intact, and no leak (the ASan and
 * valgrind runs of this binary check that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <malloc.h>

#include <jansson.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "handlers/mcp.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/jsonalloc.h"
#include "lib/status.h"
#include "tests/unit/failalloc.h"
#include "tests/unit/unit.h"
#include "tests/unit/fake_io.h"

/* An operation that allocates more often than this is a bug in itself. */
#define MAX_ALLOCS 5000

/* ---------------------------------------------------------------- buf */

static void
t_buf(void **state)
{
	struct tg_buf b = {NULL, 0, 0, 0};
	char chunk[300], want[4096];
	long n, failures = 0;
	size_t before;
	int rc, step;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	want[0] = '\0';
	/* Grow through 256, 512, 1024, 2048, 4096: each step may realloc. */
	for (step = 0; step < 12; step++) {
		for (n = 1; n < MAX_ALLOCS; n++) {
			before = b.len;
			tg_fa_arm(n);
			rc = step % 2 ? tg_buf_printf(&b, "%.*s|%d", 299, chunk, step) : tg_buf_append(&b, chunk, sizeof(chunk));
			if (!tg_fa_disarm())
				break;
			failures++;
			assert_int_equal(rc, -TG_E_NOMEM);
			/* The buffer is untouched: same length, same bytes. */
			assert_int_equal(b.len, before);
			if (b.p != NULL)
				assert_memory_equal(b.p, want, before + 1);
		}
		assert_int_equal(rc, TG_OK);
		assert_true(b.len < sizeof(want));
		memcpy(want, b.p, b.len + 1);
	}
	assert_true(failures >= 4); /* every growth (512 ... 4096) failed once */
	tg_buf_wipe(&b);
}

/* -------------------------------------------------------------- arena */

static void
t_arena(void **state)
{
	struct tg_arena *a = NULL;
	char *p;
	long n;

	(void)state;
	for (n = 1; n < MAX_ALLOCS; n++) {
		tg_fa_arm(n);
		a = tg_arena_new();
		if (!tg_fa_disarm())
			break;
		assert_null(a);
	}
	assert_non_null(a);
	assert_true(n > 2); /* the arena and its first block */
	/* A block beyond the first: NULL, and the arena stays usable. */
	tg_fa_arm(1);
	p = tg_arena_alloc(a, 64 * 1024);
	assert_true(tg_fa_disarm());
	assert_null(p);
	p = tg_arena_strdup(a, "still fine");
	assert_string_equal(p, "still fine");
	tg_arena_free(a);
}

/* ---------------------------------------------------------- jsonalloc */


/* The wiping allocator under failure: jansson's constructors, parser and
 * serialiser return NULL, free what they had (each block wiped first). */
static void
t_jsonalloc(void **state)
{
	json_t *o = NULL, *l = NULL;
	char *txt = NULL;
	long n, failures = 0;

	(void)state;
	tg_jsonalloc_install();
	tg_jsonalloc_set_release(unit_check_release);
	*unit_releases() = (struct unit_released){0, 0};
	for (n = 1; n < MAX_ALLOCS; n++) {
		tg_fa_arm(n);
		o = json_pack("{s:s, s:[s, i], s:{s:s}}", "API_KEY", "tg-secret",
		    "list", "tg-secret", 7, "nested", "password", "tg-secret");
		if (!tg_fa_disarm())
			break;
		failures++;
		assert_null(o);
	}
	assert_non_null(o);
	/* jansson 2.14's json_dumps can return a text with an object key
	 * left out after a failed allocation; tg_jsonalloc_dumps (what
	 * responses are rendered with) returns NULL instead. */
	for (n = 1; n < MAX_ALLOCS; n++) {
		tg_fa_arm(n);
		txt = tg_jsonalloc_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (!tg_fa_disarm())
			break;
		failures++;
		if (txt != NULL)
			fail_msg("allocation %ld failed, yet a text: %s", n, txt);
	}
	assert_non_null(txt);
	for (n = 1; n < MAX_ALLOCS; n++) {
		tg_fa_arm(n);
		l = json_loads(txt, JSON_REJECT_DUPLICATES, NULL);
		if (!tg_fa_disarm())
			break;
		failures++;
		assert_null(l);
	}
	assert_non_null(l);
	assert_true(json_equal(o, l));
	assert_string_equal(txt, "{\"API_KEY\":\"tg-secret\",\"list\":"
				 "[\"tg-secret\",7],\"nested\":{\"password\":\"tg-secret\"}}");
	assert_true(failures >= 10);
	tg_jsonalloc_free(txt);
	json_decref(o);
	json_decref(l);
	assert_true(unit_releases()->released > 0);
	assert_int_equal(unit_releases()->dirty, 0);
	tg_jsonalloc_set_release(NULL);
}

/* ----------------------------------------------- request front door */

#include "tests/unit/fake_mcp.h"

/* One request through tg_req_init, the query parser, the body reader and
 * tg_json_parse; 0 or the first failure. */
static int
front_door(const char *uri, const char *body, char *out, size_t cap)
{
	struct fake_params p;
	struct fake_req x;
	char err[256];
	json_t *j = NULL;
	int rc;
	int64_t limit = 0;

	fake_params_init(&p, "POST", uri, body);
	if (fake_req_open(&x, p.v, body, &ctx) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = tg_req_init(&x.req, x.a, &x.io, &ctx)) != TG_OK)
		goto out;
	if ((rc = tg_req_parse_query(&x.req)) != TG_OK)
		goto out;
	if ((rc = tg_req_query_i64(&x.req, "limit", 1, 100, 10, &limit)) != TG_OK)
		goto out;
	if ((rc = tg_req_read_body(&x.req)) != TG_OK)
		goto out;
	if ((rc = tg_json_parse(x.req.body, x.req.body_len, 16, &j, err,
		 sizeof(err))) != TG_OK)
		goto out;
	snprintf(out, cap, "%s %s %lld %s %zu", x.req.path,
	    tg_req_query(&x.req, "q"), (long long)limit,
	    json_string_value(json_object_get(j, "name")),
	    json_array_size(json_object_get(j, "list")));
out:
	json_decref(j);
	fake_req_close(&x);
	return rc;
}

static void
t_front_door(void **state)
{
	char uri[TG_MAX_QUERY], body[40000], got[256];
	size_t o;
	long n, failures = 0;
	int rc = -1, i;

	(void)state;
	tg_jsonalloc_install(); /* as in every toolgate process */
	/* A query with many pairs and a body larger than the first arena
	 * block, so both need allocations of their own. */
	o = (size_t)snprintf(uri, sizeof(uri), "/api/v1/things?q=a%%20b&limit=42");
	for (i = 0; i < 20; i++)
		o += (size_t)snprintf(uri + o, sizeof(uri) - o, "&k%d=%0200d", i, i);
	o = (size_t)snprintf(body, sizeof(body), "{\"name\":\"n\",\"list\":[");
	for (i = 0; i < 2000; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s\"item%05d\"",
		    i ? "," : "", i);
	snprintf(body + o, sizeof(body) - o, "]}");
	for (n = 1; n < MAX_ALLOCS * 4; n++) {
		tg_fa_arm(n);
		got[0] = '\0';
		rc = front_door(uri, body, got, sizeof(got));
		if (!tg_fa_disarm())
			break;
		failures++;
		/* Out of memory is a 500, never a 400 blaming the client. */
		if (rc != -TG_E_NOMEM)
			fail_msg("allocation %ld failed: got status %d, want %d",
			    n, rc, -TG_E_NOMEM);
	}
	assert_int_equal(rc, TG_OK);
	assert_string_equal(got, "/api/v1/things a b 42 n 2000");
	assert_true(failures > 2000); /* the body's strings were failed too */
}

/* -------------------------------------------------- the whole pipeline */

/* One request through tg_router_serve (the real route table) into out,
 * with allocation `fail` failing. The output buffer is reserved before the
 * hook is armed: the fake transport's own writes are not under test. */
static void
router_once(const char *const *params, const char *body, struct tg_buf *out,
    long fail)
{
	struct fake_req x;

	/* the arena is the worker's, made once before any request */
	assert_int_equal(fake_req_open(&x, params, body, &ctx), 0);
	assert_int_equal(tg_buf_printf(&x.f.out, "%65536s", ""), TG_OK);
	tg_buf_reset(&x.f.out);
	tg_fa_arm(fail);
	tg_router_serve(&x.req);
	tg_arena_free(x.a);
	*out = x.f.out;
}

/* POST /api/v1/_test/echo: the body is read, parsed (JSON front door),
 * handled and rendered; any allocation failing makes it a 503 problem
 * document (TG_E_NOMEM), never a 400, and never a broken 200. */
static void
t_router(void **state)
{
	const char *body = "{\"name\":\"n\",\"list\":[1,2,{\"k\":\"v\"}],\"o\":{\"a\":null}}";
	struct fake_params p;
	struct tg_buf out;
	long n, failures = 0;
	int fired;

	(void)state;
	tg_jsonalloc_install();
	cfg.test_routes = 1;
	fake_params_init(&p, "POST", "/api/v1/_test/echo", body);
	for (n = 1; n < MAX_ALLOCS; n++) {
		router_once(p.v, body, &out, n);
		fired = tg_fa_disarm();
		if (!fired)
			break;
		failures++;
		if (out.p == NULL || strstr(out.p, "Status: 503 ") == NULL ||
		    strstr(out.p, "Content-Type: application/problem+json\r\n") == NULL)
			fail_msg("allocation %ld failed: %s", n, out.p ? out.p : "(nothing)");
		tg_buf_free(&out);
	}
	assert_non_null(out.p);
	assert_non_null(strstr(out.p, "Status: 200 "));
	assert_non_null(strstr(out.p, "{\"echo\":{\"name\":\"n\",\"list\":[1,2,"
				      "{\"k\":\"v\"}],\"o\":{\"a\":null}}}"));
	tg_buf_free(&out);
	assert_true(failures >= 10);
	cfg.test_routes = 0;
}

/* ------------------------------------------------------- /mcp transport */


/* When set, tools/list answers like the real backend's first page: one
 * shared, stamped result the transport serialises once and reuses. */
static int list_stamped;
static json_t *list_shared;
static uint64_t list_stamp;

/* Like the real backend, an allocation failure is a -32603. */
static int
f_list(const struct tg_mcp_call *c, const char *cursor, json_t **result,
    uint64_t *stamp, struct tg_rpc_err *err)
{
	(void)c;
	(void)cursor;
	*stamp = 0;
	if (list_stamped) {
		if (list_shared == NULL)
			list_shared = json_pack("{s:[{s:s, s:{s:s}}]}", "tools",
			    "name", "t1", "inputSchema", "type", "object");
		if (list_shared == NULL)
			return tg_rpc_err_set(err, -32603, "out of memory");
		/* A new stamp each time: the transport serialises anew
		 * instead of reusing the text of an earlier iteration. */
		*stamp = ++list_stamp;
		*result = json_incref(list_shared);
		return 0;
	}
	*result = json_pack("{s:[{s:s, s:{s:s}}]}", "tools", "name", "t1",
	    "inputSchema", "type", "object");
	return *result ? 0 : tg_rpc_err_set(err, -32603, "out of memory");
}

static int
f_call(const struct tg_mcp_call *c, const char *name, json_t *args,
    json_t **result, struct tg_rpc_err *err)
{
	(void)c;
	(void)args;
	if (strcmp(name, "t1") != 0)
		return tg_rpc_err_set(err, -32602, "Unknown tool: %s", name);
	*result = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text",
	    "text", "hi");
	return *result ? 0 : tg_rpc_err_set(err, -32603, "out of memory");
}

static const struct tg_mcp_backend be = {
    f_create,
    f_get,
    f_del,
    f_init,
    f_level,
    f_list,
    f_call,
};

struct mcp_out {
	int fired; /* the armed allocation was failed */
	int rc, status;
	char *text; /* the response body as JSON text, or NULL */
};

/* One POST /mcp with the hook armed by the caller; the hook is disarmed
 * before the answer is copied out. Everything the request allocated is
 * released before it returns. */
static void
mcp_post(const char *body, const char *sid, struct mcp_out *o)
{
	struct fake_params p;
	struct fake_mcp m;

	memset(o, 0, sizeof(*o));
	fake_mcp_params(&p, "POST", body, sid, NULL);
	o->rc = fake_mcp_serve(&m, &p, body, NULL, &be);
	o->fired = tg_fa_disarm();
	if (m.served) {
		o->status = fake_mcp_status(&m);
		if (m.resp.json != NULL)
			o->text = json_dumps(m.resp.json, JSON_COMPACT | JSON_SORT_KEYS);
		else if (m.resp.body.len > 0)
			o->text = strdup(m.resp.body.p);
	}
	fake_mcp_done(&m);
}

/* 1 when the response is the JSON-RPC internal error (-32603). */
static int
is_internal_error(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	json_t *e;
	int yes;

	e = json_is_array(j) ? json_array_get(j, 0) : j;
	yes = json_integer_value(json_object_get(json_object_get(e, "error"),
		  "code")) == -32603;
	json_decref(j);
	return yes;
}

static void
mcp_case(const char *body, const char *sid, int want_status, const char *want)
{
	struct mcp_out o;
	long n, failures = 0;
	int ok;

	for (n = 1; n < MAX_ALLOCS; n++) {
		tg_fa_arm(n);
		mcp_post(body, sid, &o);
		if (!o.fired)
			break;
		failures++;
		/* Out of memory: the handler's -TG_E_NOMEM (the router renders
		 * a 500), a 500, or a JSON-RPC -32603; never another answer. */
		ok = o.rc == -TG_E_NOMEM || o.status == 500 ||
		    is_internal_error(o.text);
		/* ... or the full answer, when the allocation was optional
		 * (jansson's unpack survives a failed key-set insert). */
		ok = ok || (o.rc == TG_OK && o.status == want_status && o.text != NULL && strstr(o.text, want) != NULL);
		if (!ok)
			fail_msg("%s: allocation %ld failed: rc %d, HTTP %d, %s",
			    body, n, o.rc, o.status, o.text ? o.text : "(no body)");
		free(o.text);
	}
	assert_int_equal(o.rc, TG_OK);
	assert_int_equal(o.status, want_status);
	assert_non_null(o.text);
	if (strstr(o.text, want) == NULL)
		fail_msg("%s: got %s, want it to contain %s", body, o.text, want);
	free(o.text);
	assert_true(failures >= 3);
}

static void
t_mcp(void **state)
{
	(void)state;
	tg_jsonalloc_install(); /* as in every toolgate process */
	snprintf(sess_version, sizeof(sess_version), "2025-06-18");
	mcp_case("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
		 "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
		 "\"clientInfo\":{\"name\":\"u\",\"version\":\"1\"}}}",
	    NULL, 200,
	    "\"protocolVersion\":\"2025-06-18\"");
	mcp_case("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", SID,
	    200, "\"name\":\"t1\"");
	mcp_case("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
		 "\"params\":{\"name\":\"t1\",\"arguments\":{}}}",
	    SID, 200,
	    "\"text\":\"hi\"");
	/* Batches: 2025-03-26 sessions only. */
	snprintf(sess_version, sizeof(sess_version), "2025-03-26");
	mcp_case("[{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"},"
		 "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}]",
	    SID, 200,
	    "\"id\":5");
	snprintf(sess_version, sizeof(sess_version), "2025-06-18");
	/* A stamped result is serialised once and the text reused: a text
	 * made while an allocation failed must never be kept (jansson can
	 * leave a key out of it), or every later answer would carry it. */
	list_stamped = 1;
	mcp_case("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}", SID,
	    200, "\"result\":{\"tools\":[{\"name\":\"t1\",\"inputSchema\":"
		 "{\"type\":\"object\"}}]}");
	list_stamped = 0;
	json_decref(list_shared);
	list_shared = NULL;
	mcp_case("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
		 "\"params\":{\"name\":\"nope\"}}",
	    SID, 200, "-32602");
}

TG_TEST_MAIN("oom", NULL, NULL, t_buf, t_arena, t_jsonalloc, t_front_door,
    t_router, t_mcp)
