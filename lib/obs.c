/*
 * obs.c - observability counters in one shared anonymous mapping (see
 * obs.h). Writers are the workers (their own slot, plus the shared
 * histogram and span counters, all atomics) and the telemetry process (the
 * PostgreSQL sample, under a sequence lock so a reader never renders half
 * of one sample and half of the next).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/obs.h"
#include "lib/shm.h"
#include "lib/status.h"

#define NSLOTS (TG_MAX_WORKERS + 8)
#define NB 12
#define NDOMAINS 3 /* TG_INV_N (lib/inval.h) */

static const double bucket_s[NB] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
static const char *const domain_names[NDOMAINS] = {"auth", "session", "catalog"};
/* fan-out of a change to the streams: includes the coalescing window
 * (TOOLGATE_STREAM_COALESCE_MS, 50 ms by default) */
static const double fanout_s[NB] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
    0.3, 0.5, 1, 2.5, 10};
static const char *const stream_end_names[TG_OBS_STREAM_END_N] = {
    "client_gone", "slow_client", "write_failed", "credential_revoked",
    "session_ended", "token_expired", "shutdown"};
static const char *const stream_refusal_names[TG_OBS_REFUSED_N] = {
    "bad_request", "bad_ticket", "per_principal", "total", "unavailable"};

struct wslot {
	atomic_int pid;
	atomic_int conn; /* 1 up, 0 down, -1 never tried */
	atomic_ullong round_trips;
	atomic_ullong errors;
	atomic_ullong lock_timeouts;
	atomic_ullong notifications;
	atomic_ullong reconnects;
};

struct obs {
	struct wslot w[NSLOTS];
	atomic_ullong stmt_buckets[NB + 1];
	atomic_ullong stmt_sum_us;
	atomic_ullong stmt_count;
	atomic_ullong cache[NDOMAINS][2]; /* [d][1] hits, [d][0] fills */
	atomic_ullong spans[TG_OBS_SPAN_N];
	atomic_uint pg_seq; /* odd while being written */
	atomic_llong pg_at; /* Unix s of the last sample, 0 none */
	atomic_ullong pg_samples_failed;
	atomic_ullong pg_lock_wait_ms; /* waiters x interval, summed */
	/* the stream process */
	atomic_ullong streams_live;
	atomic_ullong streams_opened;
	atomic_ullong streams_closed[TG_OBS_STREAM_END_N];
	atomic_ullong streams_refused[TG_OBS_REFUSED_N];
	atomic_ullong stream_notified;
	atomic_ullong fanout_buckets[NB + 1];
	atomic_ullong fanout_sum_us;
	atomic_ullong fanout_count;
	atomic_int stream_db_up; /* -1 no stream process yet */
	atomic_ullong stream_db_reconnects;
	atomic_ullong stream_rechecks; /* credential re-checks completed */
	struct tg_obs_pg pg;
};

static struct obs *O;
static struct wslot *mine; /* this process's slot, once claimed */

int
tg_obs_init(void)
{
	if (O == NULL && (O = tg_shm_zalloc(sizeof(*O))) == NULL)
		return -TG_E_NOMEM;
	atomic_store(&O->stream_db_up, -1);
	return TG_OK;
}

/* This process's slot: its own, a free one, or one whose process is gone. */
static struct wslot *
slot(void)
{
	pid_t me;
	int i, cur;

	if (O == NULL)
		return NULL;
	/* claimed once per process: only workers claim (the statements of
	 * LISTENing connections), and a worker forks no process that would
	 * inherit its slot and run statements (getpid() is a system call:
	 * not on every statement) */
	if (mine != NULL)
		return mine;
	me = getpid();
	for (i = 0; i < NSLOTS && mine == NULL; i++) {
		cur = atomic_load(&O->w[i].pid);
		if (cur == (int)me)
			mine = &O->w[i];
	}
	for (i = 0; i < NSLOTS && mine == NULL; i++) {
		cur = atomic_load(&O->w[i].pid);
		if (cur != 0 && !(kill((pid_t)cur, 0) != 0 && errno == ESRCH))
			continue;
		if (!atomic_compare_exchange_strong(&O->w[i].pid, &cur, (int)me))
			continue;
		atomic_store(&O->w[i].conn, -1);
		atomic_store(&O->w[i].round_trips, 0);
		atomic_store(&O->w[i].errors, 0);
		atomic_store(&O->w[i].lock_timeouts, 0);
		atomic_store(&O->w[i].notifications, 0);
		atomic_store(&O->w[i].reconnects, 0);
		mine = &O->w[i];
	}
	return mine;
}

void
tg_obs_db_conn(int up)
{
	struct wslot *s = slot();
	int was;

	if (s == NULL)
		return;
	was = atomic_exchange(&s->conn, up ? 1 : 0);
	if (up && was == 0)
		atomic_fetch_add(&s->reconnects, 1);
}

void
tg_obs_db_statement(int64_t dur_us, int ok, int lock_timeout)
{
	struct wslot *s = slot();

	if (s == NULL)
		return;
	atomic_fetch_add(&s->round_trips, 1);
	if (!ok)
		atomic_fetch_add(&s->errors, 1);
	if (lock_timeout)
		atomic_fetch_add(&s->lock_timeouts, 1);
	if (dur_us < 0)
		dur_us = 0;
	tg_obs_hist(O->stmt_buckets, &O->stmt_sum_us, &O->stmt_count, bucket_s, NB,
	    (double)dur_us / 1e6, (unsigned long long)dur_us);
}

void
tg_obs_hist(atomic_ullong *buckets, atomic_ullong *sum, atomic_ullong *count,
    const double *bounds, int n, double v, unsigned long long add)
{
	int b;

	for (b = 0; b < n; b++)
		if (v <= bounds[b])
			break;
	atomic_fetch_add(&buckets[b], 1);
	atomic_fetch_add(sum, add);
	atomic_fetch_add(count, 1);
}

int
tg_obs_hist_render(struct tg_buf *b, const char *name, const char *route,
    const atomic_ullong *buckets, const double *bounds, int n,
    const atomic_ullong *sum, double scale, int prec,
    const atomic_ullong *count)
{
	const char *rl = route ? "route=\"" : "", *rr = route ? "\"," : "";
	const char *open = route ? "{" : "", *close = route ? "\"}" : "";
	unsigned long long cum = 0;
	int k, rc = 0;

	if (route == NULL)
		route = "";
	for (k = 0; k <= n; k++) {
		cum += atomic_load(&buckets[k]);
		if (k < n)
			rc |= tg_buf_printf(b, "%s_bucket{%s%s%sle=\"%g\"} %llu\n",
			    name, rl, route, rr, bounds[k], cum);
	}
	rc |= tg_buf_printf(b, "%s_bucket{%s%s%sle=\"+Inf\"} %llu\n"
			       "%s_sum%s%s%s%s %.*f\n%s_count%s%s%s%s %llu\n",
	    name, rl, route, rr,
	    cum, name, open, rl, route, close, prec, (double)atomic_load(sum) / scale,
	    name, open, rl, route, close, (unsigned long long)atomic_load(count));
	return rc;
}

const char *
tg_obs_stream_end_name(enum tg_obs_stream_end why)
{
	return (unsigned)why < TG_OBS_STREAM_END_N ? stream_end_names[why] : "other";
}

void
tg_obs_stream_live(uint64_t open)
{
	if (O != NULL)
		atomic_store(&O->streams_live, open);
}

void
tg_obs_stream_opened(void)
{
	if (O != NULL)
		atomic_fetch_add(&O->streams_opened, 1);
}

void
tg_obs_stream_closed(enum tg_obs_stream_end why)
{
	if (O != NULL && (unsigned)why < TG_OBS_STREAM_END_N)
		atomic_fetch_add(&O->streams_closed[why], 1);
}

void
tg_obs_stream_refused(enum tg_obs_stream_refusal why)
{
	if (O != NULL && (unsigned)why < TG_OBS_REFUSED_N)
		atomic_fetch_add(&O->streams_refused[why], 1);
}

void
tg_obs_stream_fanout(uint64_t notified, int64_t dur_us)
{
	if (O == NULL)
		return;
	atomic_fetch_add(&O->stream_notified, notified);
	if (dur_us < 0)
		dur_us = 0;
	tg_obs_hist(O->fanout_buckets, &O->fanout_sum_us, &O->fanout_count, fanout_s,
	    NB, (double)dur_us / 1e6, (unsigned long long)dur_us);
}

void
tg_obs_stream_db(int up)
{
	/* a reconnect: up after down (not the first connect, from -1) */
	if (O != NULL && atomic_exchange(&O->stream_db_up, up ? 1 : 0) == 0 && up)
		atomic_fetch_add(&O->stream_db_reconnects, 1);
}

void
tg_obs_stream_rechecked(void)
{
	if (O != NULL)
		atomic_fetch_add(&O->stream_rechecks, 1);
}

/* The stream process's series (only once one has run). */
static int
render_streams(struct tg_buf *b)
{
	int k, rc = 0, up = atomic_load(&O->stream_db_up);

	if (up < 0)
		return 0;
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_streams_open Streams (GET /mcp, subscriptions/listen) the stream process holds.\n"
	    "# TYPE toolgate_streams_open gauge\ntoolgate_streams_open %llu\n"
	    "# HELP toolgate_streams_opened_total Streams admitted.\n"
	    "# TYPE toolgate_streams_opened_total counter\ntoolgate_streams_opened_total %llu\n"
	    "# HELP toolgate_streams_closed_total Streams ended, by reason.\n"
	    "# TYPE toolgate_streams_closed_total counter\n",
	    (unsigned long long)atomic_load(&O->streams_live),
	    (unsigned long long)atomic_load(&O->streams_opened));
	for (k = 0; k < TG_OBS_STREAM_END_N; k++)
		rc |= tg_buf_printf(b, "toolgate_streams_closed_total{reason=\"%s\"} %llu\n",
		    stream_end_names[k], (unsigned long long)atomic_load(&O->streams_closed[k]));
	rc |= tg_buf_puts(b, "# HELP toolgate_streams_refused_total Streams refused, by reason.\n"
			     "# TYPE toolgate_streams_refused_total counter\n");
	for (k = 0; k < TG_OBS_REFUSED_N; k++)
		rc |= tg_buf_printf(b, "toolgate_streams_refused_total{reason=\"%s\"} %llu\n",
		    stream_refusal_names[k], (unsigned long long)atomic_load(&O->streams_refused[k]));
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_stream_notifications_total list_changed notifications written to streams.\n"
	    "# TYPE toolgate_stream_notifications_total counter\ntoolgate_stream_notifications_total %llu\n"
	    "# HELP toolgate_stream_db_up The stream process's LISTEN connection (1 up, 0 down).\n"
	    "# TYPE toolgate_stream_db_up gauge\ntoolgate_stream_db_up %d\n"
	    "# HELP toolgate_stream_db_reconnects_total LISTEN connections of the stream process re-established.\n"
	    "# TYPE toolgate_stream_db_reconnects_total counter\ntoolgate_stream_db_reconnects_total %llu\n"
	    "# HELP toolgate_stream_credential_rechecks_total Credential re-checks of the open streams completed (after an auth change, and every 30 s).\n"
	    "# TYPE toolgate_stream_credential_rechecks_total counter\ntoolgate_stream_credential_rechecks_total %llu\n",
	    (unsigned long long)atomic_load(&O->stream_notified), up,
	    (unsigned long long)atomic_load(&O->stream_db_reconnects),
	    (unsigned long long)atomic_load(&O->stream_rechecks));
	rc |= tg_buf_puts(b, "# HELP toolgate_stream_fanout_seconds From a catalogue change's NOTIFY to the last stream notified (incl. the coalescing window).\n"
			     "# TYPE toolgate_stream_fanout_seconds histogram\n");
	rc |= tg_obs_hist_render(b, "toolgate_stream_fanout_seconds", NULL,
	    O->fanout_buckets, fanout_s, NB, &O->fanout_sum_us, 1e6, 6, &O->fanout_count);
	return rc;
}

void
tg_obs_db_notifications(int n)
{
	struct wslot *s = slot();

	if (s != NULL && n > 0)
		atomic_fetch_add(&s->notifications, (unsigned long long)n);
}

void
tg_obs_cache(int domain, int hit)
{
	if (O == NULL || domain < 0 || domain >= NDOMAINS)
		return;
	atomic_fetch_add(&O->cache[domain][hit ? 1 : 0], 1);
}

void
tg_obs_spans(enum tg_obs_span what, uint64_t n)
{
	if (O == NULL || (int)what < 0 || what >= TG_OBS_SPAN_N)
		return;
	atomic_fetch_add(&O->spans[what], (unsigned long long)n);
}

uint64_t
tg_obs_spans_get(enum tg_obs_span what)
{
	if (O == NULL || (int)what < 0 || what >= TG_OBS_SPAN_N)
		return 0;
	return atomic_load(&O->spans[what]);
}

void
tg_obs_pg_sample(const struct tg_obs_pg *s)
{
	if (O == NULL)
		return;
	if (!s->ok) {
		atomic_fetch_add(&O->pg_samples_failed, 1);
		return;
	}
	atomic_fetch_add(&O->pg_seq, 1);
	atomic_thread_fence(memory_order_seq_cst);
	memcpy(&O->pg, s, sizeof(*s));
	atomic_thread_fence(memory_order_seq_cst);
	atomic_fetch_add(&O->pg_seq, 1);
	atomic_store(&O->pg_at, (long long)time(NULL));
	if (s->lock_waiters > 0 && s->interval_ms > 0)
		atomic_fetch_add(&O->pg_lock_wait_ms,
		    (unsigned long long)(s->lock_waiters * s->interval_ms));
}

/* A consistent copy of the last sample; 0 when there is none. */
static int
pg_read(struct tg_obs_pg *out)
{
	unsigned a, b;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		a = atomic_load(&O->pg_seq);
		if (a & 1)
			continue;
		atomic_thread_fence(memory_order_seq_cst);
		memcpy(out, &O->pg, sizeof(*out));
		atomic_thread_fence(memory_order_seq_cst);
		b = atomic_load(&O->pg_seq);
		if (a == b)
			return atomic_load(&O->pg_at) != 0;
	}
	return 0;
}

static int
render_workers(struct tg_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
	    {"toolgate_db_round_trips_total", "Statements sent to PostgreSQL, by worker.",
		offsetof(struct wslot, round_trips)},
	    {"toolgate_db_statement_errors_total", "Statements that failed, by worker.",
		offsetof(struct wslot, errors)},
	    {"toolgate_db_lock_timeouts_total", "Statements cut by lock_timeout (55P03), by worker.",
		offsetof(struct wslot, lock_timeouts)},
	    {"toolgate_db_notifications_total", "Invalidation notifications received, by worker.",
		offsetof(struct wslot, notifications)},
	    {"toolgate_db_worker_reconnects_total", "Connections re-established after a loss, by worker.",
		offsetof(struct wslot, reconnects)},
	};
	size_t k;
	int i, rc = 0;

	rc |= tg_buf_puts(b, "# HELP toolgate_db_connection_up Database connection of each worker (1 up, 0 down).\n"
			     "# TYPE toolgate_db_connection_up gauge\n");
	for (i = 0; i < NSLOTS; i++) {
		int pid = atomic_load(&O->w[i].pid), st = atomic_load(&O->w[i].conn);

		if (pid == 0 || st < 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
			continue;
		rc |= tg_buf_printf(b, "toolgate_db_connection_up{worker=\"%d\"} %d\n", i, st);
	}
	for (k = 0; k < sizeof(ctr) / sizeof(ctr[0]); k++) {
		rc |= tg_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", ctr[k].name,
		    ctr[k].help, ctr[k].name);
		for (i = 0; i < NSLOTS; i++) {
			const atomic_ullong *v = (const atomic_ullong *)(const void *)((const char *)&O->w[i] + ctr[k].off);

			if (atomic_load(&O->w[i].pid) == 0)
				continue;
			rc |= tg_buf_printf(b, "%s{worker=\"%d\"} %llu\n", ctr[k].name, i,
			    (unsigned long long)atomic_load(v));
		}
	}
	return rc;
}

static int
render_pg(struct tg_buf *b)
{
	struct tg_obs_pg pg;
	int rc = 0, i;

	rc |= tg_buf_printf(b, "# HELP toolgate_pg_samples_failed_total PostgreSQL health samples that failed.\n"
			       "# TYPE toolgate_pg_samples_failed_total counter\ntoolgate_pg_samples_failed_total %llu\n",
	    (unsigned long long)atomic_load(&O->pg_samples_failed));
	if (!pg_read(&pg))
		return rc;
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_pg_sample_timestamp_seconds When the master last sampled PostgreSQL.\n"
	    "# TYPE toolgate_pg_sample_timestamp_seconds gauge\ntoolgate_pg_sample_timestamp_seconds %lld\n"
	    "# HELP toolgate_pg_connections Backends connected to PostgreSQL (all clients).\n"
	    "# TYPE toolgate_pg_connections gauge\ntoolgate_pg_connections %lld\n"
	    "# HELP toolgate_pg_connections_toolgate Backends of toolgate processes.\n"
	    "# TYPE toolgate_pg_connections_toolgate gauge\ntoolgate_pg_connections_toolgate %lld\n"
	    "# HELP toolgate_pg_max_connections PostgreSQL's max_connections.\n"
	    "# TYPE toolgate_pg_max_connections gauge\ntoolgate_pg_max_connections %lld\n",
	    (long long)atomic_load(&O->pg_at), (long long)pg.connections,
	    (long long)pg.app_connections, (long long)pg.max_connections);
	rc |= tg_buf_printf(b,
	    "# HELP toolgate_pg_longest_transaction_seconds Age of the oldest open transaction.\n"
	    "# TYPE toolgate_pg_longest_transaction_seconds gauge\ntoolgate_pg_longest_transaction_seconds %.3f\n"
	    "# HELP toolgate_pg_lock_waiters Backends waiting for a lock.\n"
	    "# TYPE toolgate_pg_lock_waiters gauge\ntoolgate_pg_lock_waiters %lld\n"
	    "# HELP toolgate_pg_lock_wait_seconds_total Time backends spent waiting for locks (sampled: waiters x interval).\n"
	    "# TYPE toolgate_pg_lock_wait_seconds_total counter\ntoolgate_pg_lock_wait_seconds_total %.3f\n"
	    "# HELP toolgate_pg_lock_wait_longest_seconds Longest current wait for a lock.\n"
	    "# TYPE toolgate_pg_lock_wait_longest_seconds gauge\ntoolgate_pg_lock_wait_longest_seconds %.3f\n"
	    "# HELP toolgate_pg_in_recovery 1 when the database toolgate uses is a standby.\n"
	    "# TYPE toolgate_pg_in_recovery gauge\ntoolgate_pg_in_recovery %d\n",
	    pg.longest_tx_s, (long long)pg.lock_waiters,
	    (double)atomic_load(&O->pg_lock_wait_ms) / 1e3, pg.longest_lock_wait_s,
	    pg.in_recovery);
	if (pg.in_recovery || pg.nreplicas > 0)
		rc |= tg_buf_puts(b, "# HELP toolgate_pg_replication_lag_seconds Replay lag: of each standby"
				     " (on a primary) or of this standby.\n"
				     "# TYPE toolgate_pg_replication_lag_seconds gauge\n");
	if (pg.in_recovery)
		rc |= tg_buf_printf(b, "toolgate_pg_replication_lag_seconds{replica=\"self\"} %.3f\n",
		    pg.replay_lag_s);
	for (i = 0; i < pg.nreplicas && i < TG_OBS_MAX_REPLICAS; i++)
		rc |= tg_buf_printf(b, "toolgate_pg_replication_lag_seconds{replica=\"%s\"} %.3f\n",
		    pg.replica[i].name, pg.replica[i].lag_s);
	return rc;
}

int
tg_obs_render(struct tg_buf *b)
{
	static const char *const span_names[TG_OBS_SPAN_N] = {
	    "toolgate_trace_spans_queued_total", NULL, NULL,
	    "toolgate_trace_spans_exported_total", NULL, NULL};
	static const char *const span_help[TG_OBS_SPAN_N] = {
	    "Spans the workers handed to the exporter's queue.", NULL, NULL,
	    "Spans the collector accepted.", NULL, NULL};
	int k, d, rc = 0;

	if (O == NULL)
		return TG_OK;
	rc |= render_workers(b);
	rc |= tg_buf_puts(b, "# HELP toolgate_db_statement_duration_seconds Statement round-trip latency.\n"
			     "# TYPE toolgate_db_statement_duration_seconds histogram\n");
	rc |= tg_obs_hist_render(b, "toolgate_db_statement_duration_seconds", NULL,
	    O->stmt_buckets, bucket_s, NB, &O->stmt_sum_us, 1e6, 6, &O->stmt_count);
	rc |= tg_buf_puts(b, "# HELP toolgate_cache_lookups_total Worker cache lookups by domain: hit, or fill (read from PostgreSQL).\n"
			     "# TYPE toolgate_cache_lookups_total counter\n");
	for (d = 0; d < NDOMAINS; d++)
		rc |= tg_buf_printf(b, "toolgate_cache_lookups_total{domain=\"%s\",result=\"hit\"} %llu\n"
				       "toolgate_cache_lookups_total{domain=\"%s\",result=\"fill\"} %llu\n",
		    domain_names[d], (unsigned long long)atomic_load(&O->cache[d][1]),
		    domain_names[d], (unsigned long long)atomic_load(&O->cache[d][0]));
	rc |= render_pg(b);
	rc |= render_streams(b);
	for (k = 0; k < TG_OBS_SPAN_N; k++)
		if (span_names[k] != NULL)
			rc |= tg_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
			    span_names[k], span_help[k], span_names[k], span_names[k],
			    (unsigned long long)atomic_load(&O->spans[k]));
	rc |= tg_buf_printf(b, "# HELP toolgate_trace_spans_dropped_total Spans dropped, by reason.\n"
			       "# TYPE toolgate_trace_spans_dropped_total counter\n"
			       "toolgate_trace_spans_dropped_total{reason=\"queue_full\"} %llu\n"
			       "toolgate_trace_spans_dropped_total{reason=\"export_failed\"} %llu\n"
			       "# HELP toolgate_trace_exports_total OTLP export requests, by result.\n"
			       "# TYPE toolgate_trace_exports_total counter\n"
			       "toolgate_trace_exports_total{result=\"ok\"} %llu\n"
			       "toolgate_trace_exports_total{result=\"error\"} %llu\n",
	    (unsigned long long)atomic_load(&O->spans[TG_OBS_SPANS_DROPPED_QUEUE]),
	    (unsigned long long)atomic_load(&O->spans[TG_OBS_SPANS_DROPPED_EXPORT]),
	    (unsigned long long)atomic_load(&O->spans[TG_OBS_EXPORT_OK]),
	    (unsigned long long)atomic_load(&O->spans[TG_OBS_EXPORT_FAILED]));
	return rc ? -TG_E_NOMEM : TG_OK;
}
