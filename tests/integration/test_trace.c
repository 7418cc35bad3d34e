/*
 * test_trace.c - OpenTelemetry traces and database health (issue #23),
 * against the test stack, which tests/run.sh starts with
 * TOOLGATE_OTLP_ENDPOINT on a loopback port, TOOLGATE_OTLP_SAMPLE_RATIO=0
 * (only calls with a sampled traceparent are traced), a 1 s export timeout
 * and a 1 s database health interval. This test runs the receiver there
 * (tests/trace/otlp_receiver.py) and a fake external MCP server
 * (tests/sources/fake_server.py, which records the traceparent it gets):
 *   - a tools/call with a traceparent header: one trace with the caller's
 *     trace id; the HTTP span's parent is the caller's span, the tools/call
 *     span its child, the sandbox span the tools/call span's child and
 *     inside it in time, with the phase events; database spans; the
 *     attributes for tool, server, outcome and nginx's request id;
 *   - the same with _meta.traceparent instead of the header (no header,
 *     ratio 0: only the _meta context makes it traced);
 *   - a traceparent with the sampled flag off records nothing;
 *   - an external-source call carries the traceparent (our client span as
 *     parent, the caller's tracestate) to the remote MCP server;
 *   - the egress proxy's requests are client spans under the sandbox span
 *     (method and host, never the query);
 *   - a hanging or failing collector never blocks calls, and the dropped
 *     span counter of /metrics rises; export resumes when it recovers;
 *   - /metrics has the database health series, the longest transaction
 *     follows a transaction held open in PostgreSQL, and a session waiting
 *     for a lock shows as a waiter whose wait adds up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/integration/it.h"

#define VERSION "2025-06-18"

static char admin[4096];
static char dir[512];
static char srv[64], echo_name[160], ext_name[160], net_name[160];
static char sid[256];
static int rport, fport;
static long long server_id;

/* --- helpers ------------------------------------------------------------ */

static int
port_of(const char *url)
{
	const char *p = strstr(url, "127.0.0.1:");

	return p ? atoi(p + 10) : -1;
}

/* A fresh random id as lower-case hex (n bytes). */
static void
rand_hex(char *out, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	FILE *f = fopen("/dev/urandom", "rb");
	size_t i;
	unsigned char b;

	assert_non_null(f);
	for (i = 0; i < n; i++) {
		assert_int_equal(fread(&b, 1, 1, f), 1);
		out[2 * i] = hx[b >> 4];
		out[2 * i + 1] = hx[b & 15];
	}
	out[2 * n] = '\0';
	fclose(f);
}

/* GET http://127.0.0.1:port path -> JSON (new reference). */
static json_t *
local_get(int port, const char *path)
{
	char out[1 << 20];
	json_error_t je;
	json_t *j;

	out[0] = '\0';
	if (it_capture(out, sizeof(out), "curl -s -m 30 'http://127.0.0.1:%d%s'", port, path) != 0)
		fail_msg("GET 127.0.0.1:%d%s failed", port, path);
	j = json_loads(out, 0, &je);
	if (j == NULL)
		fail_msg("GET 127.0.0.1:%d%s: not JSON: %.200s", port, path, out);
	return j;
}

static void
receiver_mode(const char *mode)
{
	assert_int_equal(it_sh("curl -s -m 10 -o /dev/null -d '{\"mode\":\"%s\"}'"
			       " http://127.0.0.1:%d/control",
			     mode, rport),
	    0);
}

/* The spans of trace tid the receiver holds once it holds at least min
 * of them (the receiver waits up to 20 s: the exporter batches for 1 s). */
static json_t *
spans_of(const char *tid, size_t min)
{
	char path[128];

	snprintf(path, sizeof(path), "/spans?trace=%s&min=%zu", tid, min);
	return local_get(rport, path);
}

/* A trace of the caller's: fresh random ids and its traceparent header. */
struct trace {
	char tid[33], pid[17];
	char header[128]; /* "traceparent: 00-<tid>-<pid>-<flags>" */
};
#define TP_HEADER "traceparent: "

static void
new_trace(struct trace *t, const char *flags)
{
	rand_hex(t->tid, 16);
	rand_hex(t->pid, 8);
	snprintf(t->header, sizeof(t->header), TP_HEADER "00-%s-%s-%s", t->tid, t->pid,
	    flags);
}

static json_t *
find_span(json_t *spans, const char *name_prefix, int kind)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(spans, "spans"), i, s) {
		if (strncmp(it_jstr(s, "name"), name_prefix, strlen(name_prefix)) == 0 &&
		    (kind == 0 || json_integer_value(json_object_get(s, "kind")) == kind))
			return s;
	}
	return NULL;
}

/* find_span that fails the test (printing the spans) when there is none. */
static json_t *
must_span(json_t *spans, const char *name_prefix, int kind)
{
	json_t *s = find_span(spans, name_prefix, kind);

	if (s == NULL)
		fail_msg("no span %s (kind %d): %s", name_prefix, kind,
		    json_dumps(spans, JSON_COMPACT));
	return s;
}

static const char *
attr(const json_t *span, const char *key)
{
	const json_t *v = json_object_get(json_object_get(span, "attrs"), key);

	return json_is_string(v) ? json_string_value(v) : "";
}

static long long
ns(const json_t *span, const char *key)
{
	return atoll(it_jstr(span, key));
}

static int
has_event(const json_t *span, const char *name)
{
	return it_has(span, "events", "name", name);
}

/* The sum of a counter's series in /metrics (every label set). */
static unsigned long long
metric_sum(const char *name)
{
	struct it_resp r;
	unsigned long long sum = 0;
	const char *p;
	size_t n = strlen(name);

	assert_int_equal(it_get("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	for (p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '{')) {
			const char *v = strchr(p, ' ');

			if (v)
				sum += strtoull(v + 1, NULL, 10);
		}
	}
	it_resp_free(&r);
	return sum;
}

/* One metric line's value (the first series whose line starts with
 * prefix), or -1. */
static double
metric_value(const char *prefix)
{
	struct it_resp r;
	double v = -1;
	const char *p;

	assert_int_equal(it_get("GET", "/metrics", NULL, &r), 0);
	for (p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0 && p[strlen(prefix)] == ' ') {
			v = strtod(p + strlen(prefix) + 1, NULL);
			break;
		}
	it_resp_free(&r);
	return v;
}

/* tools/call name in the session with extra headers; body extra params
 * (e.g. a _meta member). Returns the HTTP response (caller frees). */
static void
call(const char *name, const char *meta, const char *const *extra,
    struct it_resp *r)
{
	struct it_mcp_req q;
	char body[1024];

	memset(&q, 0, sizeof(q));
	q.token = admin;
	q.sid = sid;
	q.version = VERSION;
	q.extra = extra;
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
				     "\"params\":{\"name\":\"%s\",\"arguments\":{\"x\":\"3\"}%s}}",
	    name,
	    meta ? meta : "");
	it_mcp_send(&q, body, r);
	if (r->status != 200 || json_object_get(r->json, "result") == NULL)
		fail_msg("tools/call %s: HTTP %ld: %.400s", name, r->status,
		    r->body ? r->body : "");
}

/* call(), then the spans of trace tid once at least min of them arrived. */
static json_t *
traced(const char *name, const char *meta, const char *const *extra,
    const char *tid, size_t min)
{
	struct it_resp r;

	call(name, meta, extra, &r);
	it_resp_free(&r);
	return spans_of(tid, min);
}

/* --- setup -------------------------------------------------------------- */

static int
group_setup(void **st)
{
	char path[128], url[128], body[512];
	const char *ep = getenv("TOOLGATE_OTLP_ENDPOINT");
	json_t *j;
	long long src, tid;

	(void)st;
	if (ep == NULL || (rport = port_of(ep)) <= 0) {
		fprintf(stderr, "test_trace: TOOLGATE_OTLP_ENDPOINT is not a loopback URL\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/trace-test", it_env("TG_VAR"));
	if (it_sh("mkdir -p '%s' && python3 tests/trace/otlp_receiver.py %d"
		  " '%s/receiver.pid' >'%s/receiver.log' 2>&1 &",
		dir, rport, dir, dir) != 0)
		return -1;
	{ /* any free loopback port for the fake source */
		char out[32];

		if (it_capture(out, sizeof(out), "python3 -c 'import socket; s=socket.socket();"
						 " s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'") != 0)
			return -1;
		fport = atoi(out);
	}
	if (it_sh("python3 tests/sources/fake_server.py %d >'%s/fake.log' 2>&1 &"
		  " echo $! >'%s/fake.pid'",
		fport, dir, dir) != 0)
		return -1;
	if (it_sh("for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:%d/stats &&"
		  " curl -s -o /dev/null http://127.0.0.1:%d/hits && exit 0; sleep 0.1; done;"
		  " exit 1",
		rport, fport) != 0)
		return -1;
	if (it_login_admin(admin, sizeof(admin)) != 0)
		return -1;
	snprintf(srv, sizeof(srv), "trace%ld", (long)getpid());
	server_id = it_server_create(admin, srv, NULL);
	snprintf(path, sizeof(path), "%lld", server_id);
	(void)it_tool_approved(admin, path, "echo",
	    "def main(x: str = '') -> dict:\n    return {'x': x}\n", NULL);
	snprintf(echo_name, sizeof(echo_name), "%s__echo", srv);
	/* egress through the proxy: a host of the server's (set with SQL, as
	 * an approved network request would) that does not resolve */
	(void)it_tool_approved(admin, path, "net",
	    "import toolgate\n\n"
	    "def main(x: str = '') -> dict:\n"
	    "    try:\n"
	    "        toolgate.http.get('http://egress-test.invalid:8081/p?key=s3cr3t', timeout=3)\n"
	    "        return {'ok': True}\n"
	    "    except toolgate.http.HttpError:\n"
	    "        return {'ok': False}\n",
	    NULL);
	snprintf(net_name, sizeof(net_name), "%s__net", srv);
	it_sql_expect("ok", "UPDATE servers SET allowed_hosts ="
			    " '{egress-test.invalid:8081}' WHERE id = %lld RETURNING 'ok'",
	    server_id);
	/* an external source: the fake server's t1, imported and approved */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", fport);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/sources", srv);
	snprintf(body, sizeof(body), "{\"name\":\"fake\",\"url\":\"%s\",\"internal\":true}", url);
	j = it_call("POST", path, admin, body, 201);
	src = it_jint(j, "id");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/sources/%lld/import", src);
	j = it_call("POST", path, admin, "{\"tools\":[{\"name\":\"t1\",\"local_name\":\"ext\"}]}", 200);
	tid = it_jint(json_array_get(json_object_get(j, "imported"), 0), "id");
	json_decref(j);
	assert_true(tid > 0);
	it_act(admin, "tools", tid, "approve", "{\"version\":1}");
	snprintf(ext_name, sizeof(ext_name), "%s__ext", srv);
	it_server_start(admin, server_id);
	it_mcp_init(admin, VERSION, sid, sizeof(sid));
	return 0;
}

static int
group_teardown(void **st)
{
	(void)st;
	(void)it_sh("test -s '%s/receiver.pid' && kill $(cat '%s/receiver.pid')", dir, dir);
	(void)it_sh("test -s '%s/fake.pid' && kill $(cat '%s/fake.pid')", dir, dir);
	return 0;
}

/* --- tests -------------------------------------------------------------- */

static void
t_span_tree(void **st)
{
	struct trace t, off;
	char ts[64];
	const char *h[3] = {t.header, ts, NULL}, *hoff[2] = {off.header, NULL};
	struct it_resp r, r0;
	json_t *spans, *none, *http, *tc, *sbx, *s;
	const char *reqid;
	size_t i;
	int db = 0;

	(void)st;
	receiver_mode("ok");
	/* first a call whose traceparent is not sampled: nothing recorded */
	new_trace(&off, "00");
	call(echo_name, NULL, hoff, &r0);
	it_resp_free(&r0);

	new_trace(&t, "01");
	snprintf(ts, sizeof(ts), "tracestate: tg=t1,other=x");
	call(echo_name, NULL, h, &r);
	reqid = it_header(&r, "X-Request-Id");
	assert_non_null(reqid);

	spans = spans_of(t.tid, 4);
	http = must_span(spans, "POST /mcp", 2);
	tc = must_span(spans, "tools/call", 1);
	sbx = must_span(spans, "sandbox.run", 1);
	/* the caller's span is the parent of ours; nginx's id is on it */
	assert_string_equal(it_jstr(http, "parentSpanId"), t.pid);
	assert_string_equal(attr(http, "toolgate.request_id"), reqid);
	assert_string_equal(attr(http, "http.route"), "/mcp");
	assert_string_equal(it_jstr(http, "traceState"), "tg=t1,other=x");
	assert_string_equal(json_string_value(json_object_get(json_object_get(http,
								  "resource"),
				"service.name")),
	    "toolgate");
	/* tools/call under the HTTP span, the sandbox run under it */
	assert_string_equal(it_jstr(tc, "parentSpanId"), it_jstr(http, "spanId"));
	assert_string_equal(attr(tc, "toolgate.tool"), echo_name);
	assert_string_equal(attr(tc, "toolgate.server"), srv);
	assert_string_equal(attr(tc, "toolgate.outcome"), "ok");
	assert_string_equal(it_jstr(sbx, "parentSpanId"), it_jstr(tc, "spanId"));
	assert_true(ns(sbx, "startTimeUnixNano") >= ns(tc, "startTimeUnixNano"));
	assert_true(ns(sbx, "endTimeUnixNano") <= ns(tc, "endTimeUnixNano"));
	assert_true(ns(tc, "endTimeUnixNano") <= ns(http, "endTimeUnixNano"));
	assert_true(ns(sbx, "endTimeUnixNano") > ns(sbx, "startTimeUnixNano"));
	assert_true(has_event(sbx, "sandbox.spawn"));
	assert_true(has_event(sbx, "sandbox.setup"));
	assert_true(has_event(sbx, "sandbox.wait"));
	assert_true(has_event(sbx, "sandbox.run"));
	/* every span is in the trace, and every parent but the caller's is
	 * one of ours; database statements are client spans */
	json_array_foreach(json_object_get(spans, "spans"), i, s) {
		const char *par = it_jstr(s, "parentSpanId");
		size_t k;
		json_t *o;
		int found = strcmp(par, t.pid) == 0;

		assert_string_equal(it_jstr(s, "traceId"), t.tid);
		json_array_foreach(json_object_get(spans, "spans"), k, o)
			if (strcmp(it_jstr(o, "spanId"), par) == 0)
				found = 1;
		if (!found)
			fail_msg("span %s has an unknown parent %s", it_jstr(s, "name"), par);
		if (strcmp(attr(s, "db.system.name"), "postgresql") == 0) {
			assert_int_equal(json_integer_value(json_object_get(s, "kind")), 3);
			db++;
		}
	}
	assert_true(db >= 1);
	/* the unsampled call, exported before this one if at all: nothing */
	none = spans_of(off.tid, 0);
	assert_int_equal(json_array_size(json_object_get(none, "spans")), 0);
	json_decref(none);
	json_decref(spans);
	it_resp_free(&r);
}

static void
t_meta_traceparent(void **st)
{
	struct trace t;
	char meta[160];
	json_t *spans, *tc, *sbx;

	(void)st;
	new_trace(&t, "01");
	snprintf(meta, sizeof(meta), ",\"_meta\":{\"traceparent\":\"%s\"}",
	    t.header + strlen(TP_HEADER));
	spans = traced(echo_name, meta, NULL, t.tid, 2);
	tc = must_span(spans, "tools/call", 1);
	sbx = must_span(spans, "sandbox.run", 1);
	assert_string_equal(it_jstr(tc, "parentSpanId"), t.pid);
	assert_string_equal(it_jstr(sbx, "parentSpanId"), it_jstr(tc, "spanId"));
	/* the HTTP request had no traceparent and roots are not sampled */
	assert_null(find_span(spans, "POST /mcp", 2));
	json_decref(spans);
}

static void
t_source_gets_traceparent(void **st)
{
	struct trace t;
	char ts[64], want[40];
	const char *h[3] = {t.header, ts, NULL};
	struct it_resp r;
	json_t *got, *spans, *cl;
	const char *rtp;

	(void)st;
	new_trace(&t, "01");
	snprintf(ts, sizeof(ts), "tracestate: tg=src");
	call(ext_name, NULL, h, &r);
	assert_string_equal(it_first_text(json_object_get(r.json, "result")), "fake says 3");
	it_resp_free(&r);
	got = local_get(fport, "/trace");
	rtp = it_jstr(got, "traceparent");
	snprintf(want, sizeof(want), "00-%s-", t.tid);
	if (strncmp(rtp, want, strlen(want)) != 0 || strlen(rtp) != 55)
		fail_msg("the source got traceparent \"%s\", want trace %s", rtp, t.tid);
	assert_string_equal(rtp + 53, "01");
	assert_string_equal(it_jstr(got, "tracestate"), "tg=src");
	/* its parent is our client span for the exchange, not the caller's */
	spans = spans_of(t.tid, 4);
	cl = must_span(spans, "tools/call t1", 3);
	assert_memory_equal(rtp + 36, it_jstr(cl, "spanId"), 16);
	assert_non_null(strstr(attr(cl, "server.address"), "127.0.0.1:"));
	json_decref(spans);
	json_decref(got);
}

/* The egress proxy's requests are client spans under the sandbox span:
 * method and host only (never the path or query), the proxy's outcome. */
static void
t_egress_span(void **st)
{
	struct trace t;
	const char *h[2] = {t.header, NULL};
	json_t *spans, *sbx, *eg;
	char *txt;

	(void)st;
	new_trace(&t, "01");
	spans = traced(net_name, NULL, h, t.tid, 5);
	sbx = must_span(spans, "sandbox.run", 1);
	eg = must_span(spans, "egress GET egress-test.invalid:8081", 3);
	assert_string_equal(it_jstr(eg, "parentSpanId"), it_jstr(sbx, "spanId"));
	assert_string_equal(attr(eg, "server.address"), "egress-test.invalid:8081");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(eg, "status"),
			     "code")),
	    2); /* the name does not resolve: failed */
	assert_true(ns(eg, "startTimeUnixNano") >= ns(sbx, "startTimeUnixNano"));
	assert_true(ns(eg, "endTimeUnixNano") <= ns(sbx, "endTimeUnixNano"));
	txt = json_dumps(spans, JSON_COMPACT);
	assert_non_null(txt);
	assert_null(strstr(txt, "s3cr3t"));
	free(txt);
	json_decref(spans);
}

/* Calls while the collector hangs (then fails): every call answers, and
 * the dropped counter rises; afterwards export resumes. */
static void
t_collector_down_never_blocks(void **st)
{
	struct trace t;
	const char *h[2] = {t.header, NULL};
	unsigned long long before, after = 0;
	struct it_resp r;
	double t0;
	json_t *spans;
	int i;
	static const char *const modes[] = {"hang", "error"};
	size_t m;

	(void)st;
	for (m = 0; m < 2; m++) {
		receiver_mode(modes[m]);
		before = metric_sum("toolgate_trace_spans_dropped_total");
		for (i = 0; i < 12; i++) {
			new_trace(&t, "01");
			t0 = it_now();
			assert_int_equal(it_request("GET", "/api/v1/version", h, NULL, 0, &r), 0);
			assert_int_equal(r.status, 200);
			it_resp_free(&r);
			/* generous: the export timeout is 1 s, a blocked
			 * request would wait for it (or 60 s of hang) */
			if (it_now() - t0 > 20)
				fail_msg("a traced request took %.1f s with the collector %s",
				    it_now() - t0, modes[m]);
		}
		for (i = 0; i < 300; i++) {
			after = metric_sum("toolgate_trace_spans_dropped_total");
			if (after > before)
				break;
			usleep(100000);
		}
		if (after <= before)
			fail_msg("collector %s: dropped spans stayed at %llu", modes[m], before);
	}
	assert_true(metric_sum("toolgate_trace_exports_total{result=\"error\"}") > 0 ||
	    metric_sum("toolgate_trace_exports_total") > 0);
	/* the collector is back: spans arrive again */
	receiver_mode("ok");
	new_trace(&t, "01");
	assert_int_equal(it_request("GET", "/api/v1/version", h, NULL, 0, &r), 0);
	it_resp_free(&r);
	spans = spans_of(t.tid, 1);
	assert_int_equal(json_array_size(json_object_get(spans, "spans")), 1);
	json_decref(spans);
}

static void
t_db_health_metrics(void **st)
{
	double v = -1;
	int i;

	(void)st;
	assert_true(metric_sum("toolgate_db_connection_up") >= 1);
	assert_true(metric_sum("toolgate_db_round_trips_total") > 0);
	assert_true(metric_sum("toolgate_db_statement_duration_seconds_count") > 0);
	assert_true(metric_sum("toolgate_db_notifications_total") > 0);
	assert_true(metric_sum("toolgate_cache_lookups_total") > 0);
	assert_true(metric_value("toolgate_pg_max_connections") > 0);
	assert_true(metric_value("toolgate_pg_connections") >= 1);
	assert_true(metric_value("toolgate_pg_connections_toolgate") >= 1);
	assert_true(metric_sum("toolgate_trace_spans_queued_total") > 0);
	/* a transaction held open for 6 s shows as the longest one */
	assert_int_equal(it_sh("psql -X -q -c 'BEGIN; SELECT pg_sleep(6); COMMIT;'"
			       " >/dev/null 2>&1 &"),
	    0);
	for (i = 0; i < 100; i++) {
		v = metric_value("toolgate_pg_longest_transaction_seconds");
		if (v >= 1.0)
			break;
		usleep(100000);
	}
	if (v < 1.0)
		fail_msg("toolgate_pg_longest_transaction_seconds stayed at %.3f", v);
	/* a session waiting for another's advisory lock: a lock waiter,
	 * and the time it waits adds up */
	assert_int_equal(it_sh("psql -X -q -c 'SELECT pg_advisory_lock(424242);"
			       " SELECT pg_sleep(6);' >/dev/null 2>&1 & sleep 0.5;"
			       " psql -X -q -c 'SELECT pg_advisory_lock(424242);' >/dev/null 2>&1 &"),
	    0);
	for (i = 0; i < 100; i++) {
		if (metric_value("toolgate_pg_lock_waiters") >= 1 &&
		    metric_value("toolgate_pg_lock_wait_seconds_total") > 0)
			break;
		usleep(100000);
	}
	if (i == 100)
		fail_msg("no lock waiter seen (waiters %.0f, wait %.3f s)",
		    metric_value("toolgate_pg_lock_waiters"),
		    metric_value("toolgate_pg_lock_wait_seconds_total"));
}

TG_TEST_MAIN("tests", group_setup, group_teardown, t_span_tree,
    t_meta_traceparent, t_source_gets_traceparent, t_egress_span,
    t_collector_down_never_blocks, t_db_health_metrics)
