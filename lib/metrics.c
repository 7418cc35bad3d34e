/*
 * metrics.c - counters in one shared anonymous mapping (see metrics.h).
 * Routes are counted by pattern (a small fixed table of slots filled on
 * first use under an atomic compare-and-swap), so the label set is bounded
 * by the route table, never by client input.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/buf.h"
#include "lib/metrics.h"
#include "lib/obs.h"	/* observability: database health, spans */
#include "lib/shm.h"
#include "lib/slots.h"
#include "lib/status.h"

#define ROUTE_SLOTS 128
#define NBUCKETS 12

static const double bucket_s[NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

static const char *const counter_names[] = {
	"tool_calls_ok", "tool_calls_error", "tool_calls_timeout",
	"tool_calls_truncated", "tool_calls_cancelled", "rate_limited", "auth_failures", "db_errors",
	"db_reconnects",
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

struct route_slot {
	_Atomic(const char *) route;	/* pointer into the route table */
	atomic_ullong by_class[6];	/* 1xx..5xx by status / 100, [0] other */
	atomic_ullong buckets[NBUCKETS + 1];
	atomic_ullong sum_us;
	atomic_ullong count;
};

struct tg_metrics {
	struct route_slot routes[ROUTE_SLOTS];
	atomic_ullong counters[NCOUNTERS];
	atomic_ullong worker_restarts;
	/* sandbox run durations (tool calls) */
	atomic_ullong sbx_buckets[NBUCKETS + 1];
	atomic_ullong sbx_sum_ms;
	atomic_ullong sbx_count;
};

/* The one process-wide handle (the mapping is shared by every worker). */
static struct tg_metrics *self;

void
tg_metrics_set_self(struct tg_metrics *m)
{
	self = m;
}

struct tg_metrics *
tg_metrics_self(void)
{
	return self;
}

struct tg_metrics *
tg_metrics_create(void)
{
	void *p;

	if ((p = tg_shm_zalloc(sizeof(struct tg_metrics))) == NULL)
		return NULL;
	(void)tg_obs_init();	/* observability: its own shared region */
	return p;
}

void
tg_metrics_destroy(struct tg_metrics *m)
{
	if (m)
		munmap(m, sizeof(*m));
}

static struct route_slot *
slot_for(struct tg_metrics *m, const char *route)
{
	int i;

	for (i = 0; i < ROUTE_SLOTS; i++) {
		const char *cur = atomic_load(&m->routes[i].route);
		if (cur == route || (cur && strcmp(cur, route) == 0))
			return &m->routes[i];
		if (cur == NULL) {
			const char *expect = NULL;
			if (atomic_compare_exchange_strong(&m->routes[i].route,
			    &expect, route))
				return &m->routes[i];
			if (expect && strcmp(expect, route) == 0)
				return &m->routes[i];
		}
	}
	return NULL;
}

void
tg_metrics_request(struct tg_metrics *m, const char *route, int status,
    int64_t dur_us)
{
	struct route_slot *s;
	int cls;

	if (m == NULL || route == NULL)
		return;
	s = slot_for(m, route);
	if (s == NULL)
		return;
	cls = status / 100;
	if (cls < 1 || cls > 5)
		cls = 0;
	atomic_fetch_add(&s->by_class[cls], 1);
	tg_obs_hist(s->buckets, &s->sum_us, &s->count, bucket_s, NBUCKETS,
	    (double)dur_us / 1e6, (unsigned long long)(dur_us > 0 ? dur_us : 0));
}

void
tg_metrics_tool_call(struct tg_metrics *m, const char *outcome, int64_t wall_ms)
{
	char name[48];

	if (m == NULL || outcome == NULL)
		return;
	snprintf(name, sizeof(name), "tool_calls_%s", outcome);
	tg_metrics_inc(m, name);
	if (wall_ms < 0)
		wall_ms = 0;
	tg_obs_hist(m->sbx_buckets, &m->sbx_sum_ms, &m->sbx_count, bucket_s, NBUCKETS,
	    (double)wall_ms / 1e3, (unsigned long long)wall_ms);
}

void
tg_metrics_worker_restart(struct tg_metrics *m)
{
	if (m)
		atomic_fetch_add(&m->worker_restarts, 1);
}

void
tg_metrics_inc(struct tg_metrics *m, const char *name)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < NCOUNTERS; i++)
		if (strcmp(counter_names[i], name) == 0)
			atomic_fetch_add(&m->counters[i], 1);
}

/* reliability: the tool slots and their queue (lib/slots.h). */
static int
render_slots(struct tg_buf *b)
{
	struct tg_slots_stats st;
	int rc = 0;

	if (!tg_slots_stats(&st))
		return 0;
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_tool_slots Tool runs allowed at once (TOOLGATE_TOOL_SLOTS).\n"
	    "# TYPE toolgate_tool_slots gauge\ntoolgate_tool_slots %d\n"
	    "# HELP toolgate_tool_slots_busy Tool runs in progress.\n"
	    "# TYPE toolgate_tool_slots_busy gauge\ntoolgate_tool_slots_busy %d\n"
	    "# HELP toolgate_tool_queue_capacity Tool calls allowed to wait for a slot (TOOLGATE_TOOL_QUEUE).\n"
	    "# TYPE toolgate_tool_queue_capacity gauge\ntoolgate_tool_queue_capacity %d\n"
	    "# HELP toolgate_tool_queue_waiting Tool calls waiting for a slot.\n"
	    "# TYPE toolgate_tool_queue_waiting gauge\ntoolgate_tool_queue_waiting %d\n",
	    st.slots, st.busy, st.queue, st.waiting);
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_tool_slot_acquired_total Tool runs that got a slot.\n"
	    "# TYPE toolgate_tool_slot_acquired_total counter\ntoolgate_tool_slot_acquired_total %llu\n"
	    "# HELP toolgate_tool_queued_total Tool calls that had to wait for a slot.\n"
	    "# TYPE toolgate_tool_queued_total counter\ntoolgate_tool_queued_total %llu\n"
	    "# HELP toolgate_tool_queue_wait_seconds_total Time tool calls spent waiting for a slot.\n"
	    "# TYPE toolgate_tool_queue_wait_seconds_total counter\ntoolgate_tool_queue_wait_seconds_total %.3f\n"
	    "# HELP toolgate_tool_busy_total Tool calls refused as busy, by reason.\n"
	    "# TYPE toolgate_tool_busy_total counter\n"
	    "toolgate_tool_busy_total{reason=\"queue_full\"} %llu\n"
	    "toolgate_tool_busy_total{reason=\"queue_timeout\"} %llu\n"
	    "# HELP toolgate_tool_slots_reclaimed_total Slots freed by the master after a worker died holding them.\n"
	    "# TYPE toolgate_tool_slots_reclaimed_total counter\ntoolgate_tool_slots_reclaimed_total %llu\n",
	    st.acquired, st.queued, st.wait_s, st.busy_full, st.busy_timeout,
	    st.reclaimed);
	return rc;
}

int
tg_metrics_render(struct tg_metrics *m, struct tg_buf *b)
{
	static const char *const cls_label[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
	const char *r;
	int i, c, rc = 0;
	size_t n;

	if (m == NULL)
		return -TG_E_UNAVAIL;
	rc |= tg_buf_puts(b, "# HELP toolgate_http_requests_total HTTP requests by route and status class.\n"
	    "# TYPE toolgate_http_requests_total counter\n");
	for (i = 0; i < ROUTE_SLOTS && (r = atomic_load(&m->routes[i].route)) != NULL; i++)
		for (c = 0; c < 6; c++) {
			unsigned long long v = atomic_load(&m->routes[i].by_class[c]);
			if (v)
				rc |= tg_buf_printf(b,
				    "toolgate_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
				    r, cls_label[c], v);
		}
	rc |= tg_buf_puts(b, "# HELP toolgate_http_request_duration_seconds Request latency by route.\n"
	    "# TYPE toolgate_http_request_duration_seconds histogram\n");
	for (i = 0; i < ROUTE_SLOTS && (r = atomic_load(&m->routes[i].route)) != NULL; i++)
		rc |= tg_obs_hist_render(b, "toolgate_http_request_duration_seconds", r,
		    m->routes[i].buckets, bucket_s, NBUCKETS, &m->routes[i].sum_us, 1e6,
		    6, &m->routes[i].count);
	for (n = 0; n < NCOUNTERS; n++)
		rc |= tg_buf_printf(b, "# HELP toolgate_%s_total Count of %s events.\n"
		    "# TYPE toolgate_%s_total counter\ntoolgate_%s_total %llu\n",
		    counter_names[n], counter_names[n], counter_names[n],
		    counter_names[n], (unsigned long long)atomic_load(&m->counters[n]));
	rc |= tg_buf_puts(b, "# HELP toolgate_sandbox_duration_seconds Wall time of tool runs in the sandbox.\n"
	    "# TYPE toolgate_sandbox_duration_seconds histogram\n");
	rc |= tg_obs_hist_render(b, "toolgate_sandbox_duration_seconds", NULL,
	    m->sbx_buckets, bucket_s, NBUCKETS, &m->sbx_sum_ms, 1e3, 3, &m->sbx_count);
	rc |= tg_buf_printf(b, "# HELP toolgate_worker_restarts_total Workers respawned by the master.\n"
	    "# TYPE toolgate_worker_restarts_total counter\ntoolgate_worker_restarts_total %llu\n",
	    (unsigned long long)atomic_load(&m->worker_restarts));
	rc |= render_slots(b);	/* reliability: tool slots and queue */
	rc |= tg_obs_render(b) != TG_OK;	/* observability */
	return rc ? -TG_E_NOMEM : TG_OK;
}
