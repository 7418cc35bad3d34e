/*
 * pghealth.h - PostgreSQL's own view of its health (issue #23), sampled by
 * the master's telemetry process (lib/otlp_export.h), never per request:
 * connections used vs max_connections, the oldest open transaction, lock
 * waits, and replication lag (of each standby on a primary, or of this
 * server when it is a standby).
 *
 * What a role without pg_monitor / pg_read_all_stats may see of other
 * roles' sessions is limited (their xact_start is hidden), so the numbers
 * cover toolgate's own sessions plus whatever PostgreSQL shows; grant
 * pg_monitor to the application role for the whole server
 * (docs/operations.md).
 */
#ifndef TG_PGHEALTH_H
#define TG_PGHEALTH_H

struct tg_db;
struct tg_obs_pg;

/* Fills *out (out->ok set) from one round of queries; 0 or -TG_E_*. */
int tg_pghealth_sample(struct tg_db *db, struct tg_obs_pg *out);

#endif
