/*
 * test_mcp_transport.c - the seams of the /mcp transport (handlers/mcp*.c)
 * with an in-memory backend: session refusals and DELETE (mcp2025.c), the
 * server card of initialize and server/discover (mcp_rpc.c, mcp2026.c),
 * and the SSE stream of tool events (mcp_sse.c): which progress and log
 * events become notifications in each era, in order, before the response,
 * and that a failed write reports the client gone to the running tool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unit.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/mcp.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"
#include "tests/unit/fake_io.h"

#include "tests/unit/fake_mcp.h"

static int
f_list(const struct tg_mcp_call *c, const char *cursor, json_t **result,
    uint64_t *stamp, struct tg_rpc_err *err)
{
	(void)c; (void)cursor; (void)err;
	*stamp = 0;
	*result = json_pack("{s:[]}", "tools");
	return 0;
}

/* What the running "tool" emits, and what on_event answered each time. */
static const char *const events[] = {
	"{\"type\":\"progress\",\"progress\":1}",
	"{\"type\":\"progress\",\"progress\":1}",		/* not increasing */
	"{\"type\":\"progress\",\"progress\":0.5}",		/* not increasing */
	"{\"type\":\"log\",\"level\":\"debug\",\"data\":\"d\"}",
	"{\"type\":\"log\",\"level\":\"warning\",\"data\":\"w\",\"logger\":\"lg\"}",
	"{\"type\":\"log\",\"level\":\"warning\"}",		/* no data */
	"{\"type\":\"other\"}",
	"{\"type\":\"progress\",\"progress\":2,\"total\":3,\"message\":\"m\"}",
	NULL,
};
static int event_rc[16];

static int
f_call(const struct tg_mcp_call *c, const char *name, json_t *args,
    json_t **result, struct tg_rpc_err *err)
{
	json_error_t je;
	int i;

	(void)name; (void)args; (void)err;
	for (i = 0; events[i]; i++) {
		json_t *ev = json_loads(events[i], 0, &je);

		assert_non_null(ev);
		event_rc[i] = c->on_event ? c->on_event(c->on_event_ctx, ev) : 0;
		json_decref(ev);
	}
	*result = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", "done");
	return 0;
}

static const struct tg_mcp_backend be = {
	f_create, f_get, f_del, f_init, f_level, f_list, f_call,
};

struct out {
	int status;
	json_t *json;		/* the JSON body, when not streamed */
	char *text;		/* everything written to the client */
	const char *content_type;
};

static const char *xparams[9];	/* extra CGI parameters, NULL-terminated */
static int fail_writes;		/* fake_write fails after this many (0: never) */
static int writes;

static int
failing_write(void *c, const char *buf, size_t n)
{
	if (fail_writes && ++writes > fail_writes)
		return -1;
	return fake_write(c, buf, n);
}

static void
run(const char *method, const char *body, const char *sid, const char *ver,
    const char *accept, struct out *o)
{
	struct fake_params p;
	struct fake_mcp m;
	int i;

	memset(o, 0, sizeof(*o));
	writes = 0;
	fake_mcp_params(&p, method, body, sid, ver);
	fake_params_add(&p, "HTTP_ACCEPT", accept);
	for (i = 0; xparams[i] && xparams[i + 1]; i += 2)
		fake_params_add(&p, xparams[i], xparams[i + 1]);
	memset(event_rc, 0, sizeof(event_rc));
	(void)fake_mcp_serve(&m, &p, body, failing_write, &be);
	assert_true(m.served);
	o->status = fake_mcp_status(&m);
	o->json = m.resp.json ? json_incref(m.resp.json) : NULL;
	o->content_type = m.resp.content_type;
	o->text = strndup(m.x.f.out.p ? m.x.f.out.p : "", m.x.f.out.len);
	assert_non_null(o->text);
	fake_mcp_done(&m);
}

static void
out_free(struct out *o)
{
	json_decref(o->json);
	free(o->text);
}

static void
assert_error(const struct out *o, int http, long code, const char *message)
{
	json_t *e = json_object_get(o->json, "error");

	assert_int_equal(o->status, http);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	assert_string_equal(json_string_value(json_object_get(e, "message")), message);
}

#define PING "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"

/* The 2025 session checks of POST and DELETE keep their statuses, codes
 * and messages. */
static void
t_sessions(void **state)
{
	struct out o;

	(void)state;
	run("DELETE", NULL, NULL, NULL, NULL, &o);
	assert_error(&o, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
	out_free(&o);
	run("DELETE", NULL, "", NULL, NULL, &o);
	assert_error(&o, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
	out_free(&o);
	run("DELETE", NULL, "nope", NULL, NULL, &o);
	assert_error(&o, 404, -32001, "Session not found");
	out_free(&o);
	run("DELETE", NULL, SID, "2031-01-01", NULL, &o);
	assert_error(&o, 400, -32022, "Unsupported protocol version");
	out_free(&o);
	run("DELETE", NULL, SID, "2025-11-25", NULL, &o);
	assert_int_equal(o.status, 204);
	out_free(&o);

	run("POST", PING, NULL, NULL, NULL, &o);
	assert_error(&o, 400, -32000,
	    "Bad Request: Mcp-Session-Id header is required (send initialize first)");
	out_free(&o);
	run("POST", PING, "nope", "2025-11-25", NULL, &o);
	assert_error(&o, 404, -32001,
	    "Session not found: it expired or was ended; initialize again");
	out_free(&o);
	/* Another version we speak than the session's: accepted, the
	 * session's version governs. */
	run("POST", PING, SID, "2025-06-18", NULL, &o);
	assert_int_equal(o.status, 200);
	assert_true(json_is_object(json_object_get(o.json, "result")));
	out_free(&o);
	/* One we do not speak: 400 -32022 on GET too (POST refuses it before
	 * the body); GET needs a stream process (its ticket key). */
	assert_int_equal(tg_ticket_init(), TG_OK);
	run("GET", NULL, SID, "2031-01-01", "text/event-stream", &o);
	tg_ticket_disable();
	assert_error(&o, 400, -32022, "Unsupported protocol version");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o.json,
	    "error"), "data"), "requested")), "2031-01-01");
	out_free(&o);
	/* Without the header the session's version applies. */
	run("POST", PING, SID, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	assert_true(json_is_object(json_object_get(o.json, "result")));
	out_free(&o);
}

/* The keys of obj, in order, joined by ",". */
static void
keys_of(const json_t *obj, char *buf, size_t cap)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)obj, k, v) {
		int w = snprintf(buf + n, cap - n, "%s%s", n ? "," : "", k);

		(void)v;
		assert_true(w > 0 && (size_t)w < cap - n);
		n += (size_t)w;
	}
}

static void
assert_card(const json_t *r)
{
	char *caps = json_dumps(json_object_get(r, "capabilities"), JSON_COMPACT);
	json_t *info = json_object_get(r, "serverInfo");
	char keys[64];

	assert_string_equal(caps, "{\"tools\":{\"listChanged\":false},\"logging\":{}}");
	keys_of(info, keys, sizeof(keys));
	assert_string_equal(keys, "name,title,version");
	assert_string_equal(json_string_value(json_object_get(info, "name")), "toolgate");
	assert_string_equal(json_string_value(json_object_get(info, "title")), "toolgate");
	/* (the build's TG_VERSION, which may differ from this file's) */
	assert_true(json_string_length(json_object_get(info, "version")) > 0);
	assert_non_null(strstr(json_string_value(json_object_get(r, "instructions")),
	    "<server>__<tool>"));
	free(caps);
}

#define M26 "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* initialize and server/discover describe the server the same way, with
 * their keys in the same order as before the split. */
static void
t_server_card(void **state)
{
	struct out o;
	json_t *r;
	char keys[256];
	char *sv;

	(void)state;
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"u\",\"version\":\"1\"}}}", NULL, NULL, NULL, &o);
	assert_int_equal(o.status, 200);
	r = json_object_get(o.json, "result");
	keys_of(r, keys, sizeof(keys));
	assert_string_equal(keys, "protocolVersion,capabilities,serverInfo,instructions");
	assert_string_equal(json_string_value(json_object_get(r, "protocolVersion")), "2025-03-26");
	assert_card(r);
	out_free(&o);

	xparams[0] = "HTTP_MCP_METHOD";
	xparams[1] = "server/discover";
	xparams[2] = NULL;
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\",\"params\":{" M26 "}}",
	    NULL, "2026-07-28", NULL, &o);
	xparams[0] = NULL;
	assert_int_equal(o.status, 200);
	r = json_object_get(o.json, "result");
	keys_of(r, keys, sizeof(keys));
	assert_string_equal(keys, "supportedVersions,capabilities,serverInfo,instructions,"
	    "_meta,resultType,ttlMs,cacheScope");
	sv = json_dumps(json_object_get(r, "supportedVersions"), JSON_COMPACT);
	assert_string_equal(sv, "[\"2026-07-28\",\"2025-11-25\",\"2025-06-18\","
	    "\"2025-03-26\",\"2024-11-05\",\"2024-10-07\"]");
	free(sv);
	assert_card(r);
	assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), 300000);
	assert_string_equal(json_string_value(json_object_get(r, "cacheScope")), "public");
	keys_of(json_object_get(json_object_get(r, "_meta"),
	    "io.modelcontextprotocol/serverInfo"), keys, sizeof(keys));
	assert_string_equal(keys, "name,version");
	out_free(&o);
}

/* The SSE events in text, as compact JSON texts joined by "\n". */
static void
sse_events(const char *text, char *buf, size_t cap)
{
	const char *p = text, *tag = "event: message\n";
	size_t n = 0;

	buf[0] = '\0';
	while ((p = strstr(p, tag)) != NULL) {
		const char *end;
		size_t len;

		p += strlen(tag);
		if (strncmp(p, "id: ", 4) == 0)	/* 2025 sessions: SEP-1699 ids */
			p = strchr(p, '\n') + 1;
		assert_int_equal(strncmp(p, "data: ", 6), 0);
		p += 6;
		end = strstr(p, "\n\n");
		assert_non_null(end);
		len = (size_t)(end - p);
		assert_true(n + len + 2 < cap);
		if (n)
			buf[n++] = '\n';
		memcpy(buf + n, p, len);
		n += len;
		buf[n] = '\0';
		p = end + 2;
	}
}

#define SSE "application/json, text/event-stream"
#define CALL25 "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":" \
    "{\"name\":\"t1\",\"_meta\":{\"progressToken\":\"pt\"}}}"
#define P1 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"pt\",\"progress\":1}}"
#define P2 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"pt\",\"progress\":2,\"total\":3,\"message\":\"m\"}}"
#define LOGD "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"debug\",\"data\":\"d\"}}"
#define LOGW "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"warning\",\"data\":\"w\",\"logger\":\"lg\"}}"
#define DONE "\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]"

/* 2025: progress (increasing only) and logs at or above "info" become
 * notifications before the response; without SSE in Accept, plain JSON. */
static void
t_sse_2025(void **state)
{
	struct out o;
	char ev[4096];
	int i;

	(void)state;
	run("POST", CALL25, SID, "2025-11-25", SSE, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.content_type, "text/event-stream");
	assert_null(o.json);
	assert_non_null(strstr(o.text, "X-Accel-Buffering: no"));
	sse_events(o.text, ev, sizeof(ev));
	assert_string_equal(ev, P1 "\n" LOGW "\n" P2
	    "\n{\"jsonrpc\":\"2.0\",\"id\":7," DONE "}}");
	for (i = 0; events[i]; i++)
		assert_int_equal(event_rc[i], 0);
	/* SEP-1699: a priming event (id, retry, empty data) first, then every
	 * event with an id of the same stream, counting up. */
	{
		const char *b = strstr(o.text, "\nid: "), *q;
		char stream[17], want[64];

		assert_non_null(b);
		assert_true(b < strstr(o.text, "event: message"));
		b++;
		assert_int_equal(strncmp(b, "id: ", 4), 0);
		assert_int_equal(strspn(b + 4, "0123456789abcdef"), 16);
		memcpy(stream, b + 4, 16);
		stream[16] = '\0';
		assert_int_equal(strncmp(b + 20, "-0\nretry: 3000\ndata: \n\n", 23), 0);
		for (i = 1, q = b; i <= 4; i++, q++) {
			snprintf(want, sizeof(want), "event: message\nid: %s-%d\ndata: ", stream, i);
			assert_non_null(q = strstr(q, want));
		}
	}
	out_free(&o);

	run("POST", CALL25, SID, "2025-11-25", "application/json", &o);
	assert_int_equal(o.status, 200);
	assert_non_null(o.json);
	assert_null(strstr(o.text, "event: message"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(o.json,
	    "result"), "content"), 0), "text")), "done");
	out_free(&o);
}

/* 2026-07-28: logs only when _meta names a level (then from that level
 * on); progress as in 2025. */
static void
t_sse_2026(void **state)
{
	struct out o;
	char ev[4096];

	(void)state;
	xparams[0] = "HTTP_MCP_METHOD";
	xparams[1] = "tools/call";
	xparams[2] = "HTTP_MCP_NAME";
	xparams[3] = "t1";
	xparams[4] = NULL;
	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"t1\",\"_meta\":{\"progressToken\":\"pt\","
	    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    NULL, "2026-07-28", SSE, &o);
	assert_int_equal(o.status, 200);
	sse_events(o.text, ev, sizeof(ev));
	assert_non_null(strstr(ev, P1 "\n" P2 "\n{\"jsonrpc\":\"2.0\",\"id\":8," DONE));
	assert_null(strstr(ev, "notifications/message"));
	assert_non_null(strstr(ev, "\"resultType\":\"complete\""));
	/* no session, no SEP-1699 ids or priming */
	assert_null(strstr(o.text, "\nid: "));
	assert_null(strstr(o.text, "retry:"));
	out_free(&o);

	run("POST", "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"t1\",\"_meta\":{\"progressToken\":\"pt\","
	    "\"io.modelcontextprotocol/logLevel\":\"debug\","
	    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    NULL, "2026-07-28", SSE, &o);
	xparams[0] = NULL;
	assert_int_equal(o.status, 200);
	sse_events(o.text, ev, sizeof(ev));
	assert_non_null(strstr(ev, P1 "\n" LOGD "\n" LOGW "\n" P2 "\n{\"jsonrpc\":\"2.0\",\"id\":9," DONE));
	out_free(&o);
}

/* A write that fails marks the client gone: on_event answers -1 from then
 * on (which kills the sandbox run), and nothing more is written. */
static void
t_client_gone(void **state)
{
	struct out o;
	size_t len;

	(void)state;
	fail_writes = 1;	/* the headers go out, the first event fails */
	run("POST", CALL25, SID, "2025-11-25", SSE, &o);
	fail_writes = 0;
	assert_int_equal(o.status, 200);
	assert_int_equal(event_rc[0], -1);
	assert_int_equal(event_rc[4], -1);
	assert_int_equal(event_rc[7], -1);
	assert_null(strstr(o.text, "event: message"));
	len = strlen(o.text);
	assert_true(len > 0);
	out_free(&o);
}

TG_TEST_MAIN("mcp_transport", NULL, NULL, t_sessions, t_server_card,
    t_sse_2025, t_sse_2026, t_client_gone)
