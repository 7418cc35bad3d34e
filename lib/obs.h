/*
 * obs.h - observability counters for /metrics (issue #23): the database
 * health of every worker connection, PostgreSQL's own view sampled by the
 * master's telemetry process, the workers' cache hits, and the span
 * pipeline (queued, exported, dropped).
 *
 * Like lib/metrics.h: one anonymous MAP_SHARED region mapped by the master
 * before fork (tg_obs_init, called by tg_metrics_create), atomics, no
 * locks; every function does nothing before tg_obs_init (CLI, CGI).
 * Per-worker values live in slots claimed by pid on first use (a slot whose
 * process is gone is taken over), labelled worker="<slot>", so the label
 * set is bounded by TG_MAX_WORKERS.
 */
#ifndef TG_OBS_H
#define TG_OBS_H

#include <stdatomic.h>
#include <stdint.h>

struct tg_buf;

/* Maps the region (idempotent); 0 or -TG_E_NOMEM. */
int tg_obs_init(void);

/* This process's database connection went up (1) or down (0). */
void tg_obs_db_conn(int up);
/* One statement round trip of dur_us; ok 0 when it failed. lock_timeout:
 * it failed with lock_not_available (55P03). */
void tg_obs_db_statement(int64_t dur_us, int ok, int lock_timeout);
/* n notifications received (LISTEN toolgate_inval). */
void tg_obs_db_notifications(int n);
/* A worker cache lookup in domain d (lib/inval.h): hit, or a fill (a read
 * from PostgreSQL). */
void tg_obs_cache(int domain, int hit);

/* The span pipeline. */
enum tg_obs_span {
	TG_OBS_SPANS_QUEUED = 0, /* handed to the exporter's queue */
	TG_OBS_SPANS_DROPPED_QUEUE, /* queue full or unavailable */
	TG_OBS_SPANS_DROPPED_EXPORT, /* the collector failed or timed out */
	TG_OBS_SPANS_EXPORTED, /* accepted by the collector */
	TG_OBS_EXPORT_OK, /* export requests that succeeded */
	TG_OBS_EXPORT_FAILED, /* ... that failed */
	TG_OBS_SPAN_N
};
void tg_obs_spans(enum tg_obs_span what, uint64_t n);
uint64_t tg_obs_spans_get(enum tg_obs_span what);

/* PostgreSQL's view, sampled by the telemetry process. */
#define TG_OBS_MAX_REPLICAS 4
struct tg_obs_pg {
	int ok; /* 0: the last sample failed */
	int64_t connections; /* backends (pg_stat_activity) */
	int64_t max_connections;
	int64_t app_connections; /* ours: application_name toolgate-% */
	double longest_tx_s; /* oldest open transaction */
	int64_t lock_waiters; /* backends waiting for a lock */
	int64_t interval_ms; /* since the previous sample (lock-wait sum) */
	double longest_lock_wait_s;
	int in_recovery; /* we are connected to a standby */
	double replay_lag_s; /* on a standby: now - last replay */
	int nreplicas; /* on a primary: pg_stat_replication */
	struct {
		char name[64];
		double lag_s; /* replay_lag */
	} replica[TG_OBS_MAX_REPLICAS];
};
void tg_obs_pg_sample(const struct tg_obs_pg *s);

/* Renders every series above in Prometheus text format; 0 or -TG_E_NOMEM. */
int tg_obs_render(struct tg_buf *b);

/* The stream process (fcgi/stream.c): open streams, why they ended or
 * were refused, list_changed notifications written and the fan-out
 * latency of a change (from its NOTIFY to the last stream written). */
enum tg_obs_stream_end {
	TG_OBS_STREAM_CLIENT_GONE = 0,
	TG_OBS_STREAM_SLOW_CLIENT, /* pending output passed its bound */
	TG_OBS_STREAM_WRITE_FAILED,
	TG_OBS_STREAM_REVOKED, /* the credential is no longer admitted */
	TG_OBS_STREAM_SESSION_ENDED,
	TG_OBS_STREAM_TOKEN_EXPIRED,
	TG_OBS_STREAM_SHUTDOWN,
	TG_OBS_STREAM_END_N
};
enum tg_obs_stream_refusal {
	TG_OBS_REFUSED_BAD_REQUEST = 0,
	TG_OBS_REFUSED_BAD_TICKET,
	TG_OBS_REFUSED_PER_PRINCIPAL, /* TOOLGATE_STREAMS_PER_PRINCIPAL */
	TG_OBS_REFUSED_TOTAL, /* TOOLGATE_STREAMS_MAX or no descriptor left */
	TG_OBS_REFUSED_UNAVAILABLE, /* stopping, out of memory */
	TG_OBS_REFUSED_N
};
const char *tg_obs_stream_end_name(enum tg_obs_stream_end why);
void tg_obs_stream_live(uint64_t open); /* streams held now */
void tg_obs_stream_opened(void);
void tg_obs_stream_closed(enum tg_obs_stream_end why);
void tg_obs_stream_refused(enum tg_obs_stream_refusal why);
/* One change fanned out: notified streams, dur_us since its NOTIFY. */
void tg_obs_stream_fanout(uint64_t notified, int64_t dur_us);
/* The stream process's LISTEN connection went up (1) or down (0). */
void tg_obs_stream_db(int up);
/* A credential re-check of the open streams completed. */
void tg_obs_stream_rechecked(void);

/* One observation of a histogram in shared memory: +1 in the bucket of
 * v among the n ascending bounds (buckets[n]: above them all), add to
 * *sum (in the unit the caller keeps it), +1 to *count. */
void tg_obs_hist(atomic_ullong *buckets, atomic_ullong *sum,
    atomic_ullong *count, const double *bounds, int n, double v,
    unsigned long long add);

/* Such a histogram as text (Prometheus) in b: name_bucket lines (cumulative,
 * le = each of the n bounds, then +Inf), name_sum (*sum / scale with prec
 * decimals) and name_count; every line has the label route="..." when route
 * is not NULL. Nonzero when b is full. */
int tg_obs_hist_render(struct tg_buf *b, const char *name, const char *route,
    const atomic_ullong *buckets, const double *bounds, int n,
    const atomic_ullong *sum, double scale, int prec,
    const atomic_ullong *count);

#endif
