/*
 * otlp_export.h - the telemetry process the master owns (issue #23).
 *
 * The span queue is one unix datagram socketpair per master (per host):
 * the workers share the sending end and never block on it (lib/trace.c
 * sends with MSG_DONTWAIT and drops + counts on EAGAIN); the kernel bounds
 * it (net.unix.max_dgram_qlen datagrams, SO_SNDBUF bytes). The telemetry
 * process reads it, batches spans (up to TG_OTLP_BATCH_SPANS or one second)
 * and POSTs them as OTLP/HTTP JSON to TOOLGATE_OTLP_ENDPOINT with libcurl
 * under TOOLGATE_OTLP_TIMEOUT_MS; a batch the collector does not accept in
 * time is dropped and counted (lib/obs.h), never retried, and while it
 * waits the queue fills and the workers drop instead of waiting.
 *
 * The same process samples PostgreSQL's health every
 * TOOLGATE_DB_HEALTH_INTERVAL_S (lib/pghealth.h) with a connection of its
 * own (application_name toolgate-telemetry), so the master itself still
 * holds no database connection.
 */
#ifndef TG_OTLP_EXPORT_H
#define TG_OTLP_EXPORT_H

struct tg_config;

#define TG_OTLP_BATCH_SPANS 512
#define TG_OTLP_BATCH_MS 1000

/* The queue: *send_fd for the workers (non-blocking), *recv_fd for the
 * telemetry process; both close-on-exec. 0 or -TG_E_INTERNAL. */
int tg_otlp_queue(int *send_fd, int *recv_fd);

/* 1 when the master needs a telemetry process for cfg. */
int tg_telemetry_wanted(const struct tg_config *cfg);

/* The telemetry process: runs until SIGTERM (or its parent dies); recv_fd
 * is -1 when export is off. Returns the exit code. */
int tg_telemetry_run(const struct tg_config *cfg, int recv_fd);

#endif
