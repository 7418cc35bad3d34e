/*
 * test_trace.c - W3C Trace Context parsing, sampling and span encoding
 * (lib/trace.c), the observability settings (lib/config.c) and the shared
 * counters (lib/obs.c). The span queue is a datagram socketpair here, read
 * back and parsed as the exporter would concatenate it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/obs.h"
#include "lib/status.h"
#include "lib/trace.h"
#include "tests/unit/unit.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static int sv[2] = {-1, -1};

/* The spans of the next datagram as a JSON array (new reference), or
 * NULL when none is waiting. */
static json_t *
next_spans(void)
{
	static char dg[65536 + 2];
	char *txt;
	json_t *j;
	ssize_t r;
	uint32_t n;

	r = recv(sv[1], dg, sizeof(dg) - 2, MSG_DONTWAIT);
	if (r <= (ssize_t)sizeof(n))
		return NULL;
	memcpy(&n, dg, sizeof(n));
	dg[r] = '\0';
	txt = malloc((size_t)r + 4);
	assert_non_null(txt);
	snprintf(txt, (size_t)r + 4, "[%s]", dg + sizeof(n));
	j = json_loads(txt, 0, NULL);
	free(txt);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), n);
	return j;
}

static const char *
attr(const json_t *span, const char *key)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(span, "attributes"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "key")), key) == 0) {
			json_t *v = json_object_get(a, "value");
			json_t *s = json_object_get(v, "stringValue");

			return s ? json_string_value(s) :
				   json_string_value(json_object_get(v, "intValue"));
		}
	return NULL;
}

static int
setup(void **st)
{
	(void)st;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
		return -1;
	tg_trace_setup(sv[0], 1000000);
	return tg_obs_init();
}

static int
teardown(void **st)
{
	(void)st;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static void
t_parse(void **st)
{
	uint8_t tid[16], sid[8], fl;
	static const char *const bad[] = {
	    "",
	    "00",
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
	    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", /* upper */
	    "00-00000000000000000000000000000000-b7ad6b7169203331-01", /* zero id */
	    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
	    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* version ff */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", /* 00 + more */
	    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	    "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
	};
	size_t i;

	(void)st;
	assert_int_equal(tg_trace_parse(TP, tid, sid, &fl), 0);
	assert_int_equal(tid[0], 0x0a);
	assert_int_equal(tid[15], 0x9c);
	assert_int_equal(sid[7], 0x31);
	assert_int_equal(fl, 1);
	/* a later version may add fields after a dash */
	assert_int_equal(tg_trace_parse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra",
			     tid, sid, &fl),
	    0);
	assert_int_equal(fl, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tg_trace_parse(bad[i], tid, sid, &fl) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(tg_trace_parse(NULL, tid, sid, &fl), -1);
}

static void
t_ratio(void **st)
{
	(void)st;
	assert_int_equal(tg_trace_ratio_ppm("0"), 0);
	assert_int_equal(tg_trace_ratio_ppm("1"), 1000000);
	assert_int_equal(tg_trace_ratio_ppm("0.25"), 250000);
	assert_int_equal(tg_trace_ratio_ppm("1e-3"), 1000);
	assert_int_equal(tg_trace_ratio_ppm("1.5"), -1);
	assert_int_equal(tg_trace_ratio_ppm("-0.1"), -1);
	assert_int_equal(tg_trace_ratio_ppm("nan"), -1);
	assert_int_equal(tg_trace_ratio_ppm("0.5x"), -1);
	assert_int_equal(tg_trace_ratio_ppm(""), -1);
}

/* A request span from a sampled traceparent with children: the tree, the
 * ids, the attributes (escaped), events and status, one datagram. */
static void
t_tree(void **st)
{
	json_t *spans, *srv, *child, *grand;
	char tp[TG_TRACEPARENT_LEN + 1];
	int h, c, g;

	(void)st;
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, TP, "k=v");
	assert_true(h > 0);
	assert_string_equal(tg_trace_id_hex(), "0af7651916cd43dd8448eb211c80319c");
	c = tg_span_start("child", TG_SPAN_INTERNAL);
	g = tg_span_start("db", TG_SPAN_CLIENT);
	assert_true(c > 0 && g > 0);
	/* outgoing context: the innermost span, sampled */
	assert_int_equal(tg_trace_traceparent(tp, sizeof(tp)), 0);
	assert_memory_equal(tp, "00-0af7651916cd43dd8448eb211c80319c-", 36);
	assert_string_equal(tp + 53, "01");
	assert_string_equal(tg_trace_tracestate(), "k=v");
	tg_span_str(g, "q", "say \"hi\"\n\\");
	tg_span_int(g, "n", -42);
	tg_span_bool(g, "b", 1);
	tg_span_event(g, "ev");
	tg_span_error(g, "bad \"thing\"");
	tg_span_end(c); /* ends g too (left open inside it) */
	tg_span_name(h, "GET /x");
	tg_trace_flush();
	spans = next_spans();
	assert_non_null(spans);
	assert_int_equal(json_array_size(spans), 3);
	grand = json_array_get(spans, 0);
	child = json_array_get(spans, 1);
	srv = json_array_get(spans, 2);
	assert_string_equal(json_string_value(json_object_get(srv, "name")), "GET /x");
	assert_int_equal(json_integer_value(json_object_get(srv, "kind")), 2);
	assert_string_equal(json_string_value(json_object_get(srv, "parentSpanId")),
	    "b7ad6b7169203331");
	assert_string_equal(json_string_value(json_object_get(srv, "traceState")), "k=v");
	assert_string_equal(json_string_value(json_object_get(child, "parentSpanId")),
	    json_string_value(json_object_get(srv, "spanId")));
	assert_string_equal(json_string_value(json_object_get(grand, "parentSpanId")),
	    json_string_value(json_object_get(child, "spanId")));
	assert_memory_equal(tp + 36, json_string_value(json_object_get(grand, "spanId")), 16);
	assert_string_equal(attr(grand, "q"), "say \"hi\"\n\\");
	assert_string_equal(attr(grand, "n"), "-42");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(grand,
								"status"),
			     "code")),
	    2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(grand,
								  "status"),
				"message")),
	    "bad \"thing\"");
	assert_int_equal(json_array_size(json_object_get(grand, "events")), 1);
	assert_true(atoll(json_string_value(json_object_get(grand, "endTimeUnixNano"))) >=
	    atoll(json_string_value(json_object_get(grand, "startTimeUnixNano"))));
	json_decref(spans);
	/* after the request: no current span, no context */
	assert_int_equal(tg_trace_current(), 0);
	assert_int_equal(tg_trace_traceparent(tp, sizeof(tp)), -1);
}

/* Sampling: flag 00 records nothing but the context is passed on; ratio 0
 * records no root; a remote context of another trace inside a request
 * starts there and links back. */
static void
t_sampling(void **st)
{
	char tp[TG_TRACEPARENT_LEN + 1];
	json_t *spans, *s;
	int h, m;

	(void)st;
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER,
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", NULL);
	assert_int_equal(h, 0);
	assert_int_equal(tg_span_start("x", TG_SPAN_INTERNAL), 0);
	assert_int_equal(tg_trace_traceparent(tp, sizeof(tp)), 0);
	assert_string_equal(tp, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
	tg_span_str(h, "k", "v"); /* 0: no-op */
	tg_span_end(h);
	tg_trace_flush();
	assert_null(next_spans());

	tg_trace_setup(sv[0], 0);
	assert_int_equal(tg_span_start_remote("HTTP", TG_SPAN_SERVER, NULL, NULL), 0);
	assert_int_equal(tg_span_start_remote("HTTP", TG_SPAN_SERVER, "garbage", NULL), 0);
	tg_trace_flush();
	assert_null(next_spans());
	/* parent-based: a sampled parent is recorded whatever the ratio */
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, TP, NULL);
	assert_true(h > 0);
	m = tg_span_start_remote("tools/call", TG_SPAN_INTERNAL,
	    "00-11111111111111111111111111111111-2222222222222222-01", NULL);
	assert_true(m > 0);
	tg_trace_flush();
	spans = next_spans();
	assert_int_equal(json_array_size(spans), 2);
	s = json_array_get(spans, 0);
	assert_string_equal(json_string_value(json_object_get(s, "traceId")),
	    "11111111111111111111111111111111");
	assert_string_equal(json_string_value(json_object_get(s, "parentSpanId")),
	    "2222222222222222");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
								  json_object_get(s, "links"), 0),
				"traceId")),
	    "0af7651916cd43dd8448eb211c80319c");
	json_decref(spans);
	tg_trace_setup(sv[0], 1000000);
	/* ratio 1: a root without any context */
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, NULL, NULL);
	assert_true(h > 0);
	tg_trace_flush();
	spans = next_spans();
	assert_int_equal(json_array_size(spans), 1);
	assert_null(json_object_get(json_array_get(spans, 0), "parentSpanId"));
	json_decref(spans);
}

/* Bounded: a deep nest stops recording at the pool's size, long values
 * are cut, too many attributes are dropped and counted, never overflow. */
static void
t_bounds(void **st)
{
	char big[4096], key[32];
	json_t *spans;
	int h, i, n = 0, last = 0;

	(void)st;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, TP, NULL);
	for (i = 0; i < 40; i++) {
		int c = tg_span_start("nest", TG_SPAN_INTERNAL);

		if (c == 0)
			break;
		last = c;
		n++;
	}
	assert_true(n > 0 && n < 40);
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		tg_span_str(last, key, big);
	}
	tg_trace_flush();
	while ((spans = next_spans()) != NULL) {
		json_t *s;
		size_t k;

		json_array_foreach(spans, k, s) {
			if (json_integer_value(json_object_get(s, "droppedAttributesCount")) > 0)
				assert_true(strlen(attr(s, "k0")) <= 256);
		}
		json_decref(spans);
	}
	(void)h;
	/* the queue full: dropped and counted, the caller never waits */
	{
		uint64_t before = tg_obs_spans_get(TG_OBS_SPANS_DROPPED_QUEUE);
		int sent = 0;

		for (i = 0; i < 5000; i++) {
			h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, TP, NULL);
			tg_span_str(h, "pad", big);
			tg_trace_flush();
			sent++;
			if (tg_obs_spans_get(TG_OBS_SPANS_DROPPED_QUEUE) > before)
				break;
		}
		assert_true(tg_obs_spans_get(TG_OBS_SPANS_DROPPED_QUEUE) > before);
		while ((spans = next_spans()) != NULL)
			json_decref(spans);
		(void)sent;
	}
}

/* Ids are drawn from a pool of CSPRNG output: a forked child must not
 * hand out the ids its parent is about to (the pool is emptied at fork). */
static void
t_ids_after_fork(void **st)
{
	char mine[33], theirs[33] = "";
	int pfd[2], h;
	pid_t pid;

	(void)st;
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, NULL, NULL); /* fills the pool */
	assert_true(h > 0);
	tg_span_end(h);
	tg_trace_flush();
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, NULL, NULL);
		if (write(pfd[1], tg_trace_id_hex(), 32) != 32)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	h = tg_span_start_remote("HTTP", TG_SPAN_SERVER, NULL, NULL);
	snprintf(mine, sizeof(mine), "%s", tg_trace_id_hex());
	assert_int_equal(read(pfd[0], theirs, 32), 32);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_string_not_equal(mine, theirs);
	tg_span_end(h);
	tg_trace_flush();
	{
		json_t *j;

		while ((j = next_spans()) != NULL)
			json_decref(j);
	}
}

static void
t_config(void **st)
{
	static const char *const refused[] = {"TOOLGATE_OTLP_ENDPOINT", "ftp://x",
	    "TOOLGATE_OTLP_SAMPLE_RATIO", "2", "TOOLGATE_OTLP_TIMEOUT_MS", "5",
	    "TOOLGATE_OTLP_SERVICE_NAME", "a b", NULL};
	struct tg_config c;
	char err[256];
	size_t i;

	(void)st;
	assert_int_equal(unit_config2(NULL, NULL, NULL, NULL, &c, err), 0);
	assert_string_equal(c.otlp_endpoint, "");
	assert_int_equal(c.otlp_sample_ppm, 1000000);
	assert_int_equal(c.db_health_interval_s, 15);
	assert_string_equal(c.otlp_service, "toolgate");
	tg_config_wipe(&c);
	assert_int_equal(unit_config2("TOOLGATE_OTLP_ENDPOINT", "http://collector:4318",
			     "TOOLGATE_OTLP_SAMPLE_RATIO", "0.1", &c, err),
	    0);
	assert_string_equal(c.otlp_endpoint, "http://collector:4318/v1/traces");
	assert_int_equal(c.otlp_sample_ppm, 100000);
	tg_config_wipe(&c);
	assert_int_equal(unit_config2("TOOLGATE_OTLP_ENDPOINT", "https://x.example/otlp/v1/traces",
			     NULL, NULL, &c, err),
	    0);
	assert_string_equal(c.otlp_endpoint, "https://x.example/otlp/v1/traces");
	tg_config_wipe(&c);
	/* refused, the message naming the setting */
	for (i = 0; refused[i] != NULL; i += 2)
		unit_config_refused(refused[i], refused[i + 1], refused[i]);
}

static void
t_obs_render(void **st)
{
	struct tg_buf b = {0};
	struct tg_obs_pg pg;

	(void)st;
	memset(&pg, 0, sizeof(pg));
	pg.ok = 1;
	pg.max_connections = 100;
	pg.connections = 7;
	pg.nreplicas = 1;
	snprintf(pg.replica[0].name, sizeof(pg.replica[0].name), "standby1");
	pg.replica[0].lag_s = 1.5;
	tg_obs_pg_sample(&pg);
	tg_obs_db_conn(1);
	tg_obs_db_statement(300, 1, 0);
	tg_obs_db_statement(2000000, 0, 1);
	tg_obs_cache(0, 1);
	assert_int_equal(tg_obs_render(&b), TG_OK);
	assert_non_null(strstr(b.p, "toolgate_pg_max_connections 100\n"));
	assert_non_null(strstr(b.p, "toolgate_pg_connections 7\n"));
	assert_non_null(strstr(b.p, "toolgate_pg_replication_lag_seconds{replica=\"standby1\"} 1.500\n"));
	assert_non_null(strstr(b.p, "toolgate_db_connection_up{worker=\"0\"} 1\n"));
	assert_non_null(strstr(b.p, "toolgate_db_lock_timeouts_total{worker=\"0\"} 1\n"));
	assert_non_null(strstr(b.p, "toolgate_db_statement_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(b.p, "toolgate_db_statement_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(b.p, "toolgate_cache_lookups_total{domain=\"auth\",result=\"hit\"} 1\n"));
	assert_non_null(strstr(b.p, "toolgate_db_statement_duration_seconds_sum 2.000300\n"
				    "toolgate_db_statement_duration_seconds_count 2\n"));
	tg_buf_free(&b);
}

/* The one histogram printer of /metrics (lib/obs.c): cumulative buckets,
 * +Inf, sum and count, with and without the route label. */
static void
t_hist_render(void **st)
{
	static const double bounds[2] = {0.01, 0.1};
	atomic_ullong buckets[3], sum, count;
	struct tg_buf b = {0};

	(void)st;
	atomic_init(&buckets[0], 1);
	atomic_init(&buckets[1], 0);
	atomic_init(&buckets[2], 2);
	atomic_init(&sum, 2500);
	atomic_init(&count, 3);
	assert_int_equal(tg_obs_hist_render(&b, "x_seconds", "/api/v1/x", buckets,
			     bounds, 2, &sum, 1e3, 3, &count),
	    0);
	assert_int_equal(tg_obs_hist_render(&b, "y_seconds", NULL, buckets, bounds,
			     2, &sum, 1e6, 6, &count),
	    0);
	assert_string_equal(b.p,
	    "x_seconds_bucket{route=\"/api/v1/x\",le=\"0.01\"} 1\n"
	    "x_seconds_bucket{route=\"/api/v1/x\",le=\"0.1\"} 1\n"
	    "x_seconds_bucket{route=\"/api/v1/x\",le=\"+Inf\"} 3\n"
	    "x_seconds_sum{route=\"/api/v1/x\"} 2.500\n"
	    "x_seconds_count{route=\"/api/v1/x\"} 3\n"
	    "y_seconds_bucket{le=\"0.01\"} 1\n"
	    "y_seconds_bucket{le=\"0.1\"} 1\n"
	    "y_seconds_bucket{le=\"+Inf\"} 3\n"
	    "y_seconds_sum 0.002500\n"
	    "y_seconds_count 3\n");
	tg_buf_free(&b);
}

TG_TEST_MAIN("tests", setup, teardown, t_parse, t_ratio, t_tree, t_sampling,
    t_ids_after_fork,
    t_bounds, t_config, t_obs_render, t_hist_render)
