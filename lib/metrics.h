/*
 * metrics.h - process-shared counters for /metrics.
 *
 * The master maps one anonymous MAP_SHARED region before forking, so every
 * worker increments the same counters (atomics, no locks). All functions
 * accept a NULL struct tg_metrics and then do nothing (CLI, CGI mode).
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include <stdint.h>

struct tg_metrics;
struct tg_buf;

struct tg_metrics *tg_metrics_create(void);
void tg_metrics_destroy(struct tg_metrics *m);

/* The shared counters of this process (set by the master before fork; NULL
 * in CLI and CGI processes), for code that has no request context (lib/db.c). */
void tg_metrics_set_self(struct tg_metrics *m);
struct tg_metrics *tg_metrics_self(void);

void tg_metrics_request(struct tg_metrics *m, const char *route, int status,
    int64_t dur_us);
/* One tool run: outcome "ok", "error", "timeout", "truncated" or
 * "cancelled", and its
 * wall time in the sandbox (histogram toolgate_sandbox_duration_seconds). */
void tg_metrics_tool_call(struct tg_metrics *m, const char *outcome,
    int64_t wall_ms);
void tg_metrics_worker_restart(struct tg_metrics *m);
/* Named counter (see metrics.c for the list); unknown names ignored. */
void tg_metrics_inc(struct tg_metrics *m, const char *name);
/* Renders Prometheus text exposition format into b. */
int tg_metrics_render(struct tg_metrics *m, struct tg_buf *b);

#endif
