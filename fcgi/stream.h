/*
 * stream.h - the stream process (docs/architecture.md "Streams"): one
 * event-driven process per master that holds the long-lived MCP streams
 * (a 2025 session's GET /mcp, 2026-07-28 subscriptions/listen), so that
 * idle clients pin no worker, and pushes notifications/tools/list_changed
 * to them when what their role sees in tools/list changes, on a NOTIFY
 * from PostgreSQL (any host).
 *
 * The master binds the stream socket (tg_stream_listen, before dropping
 * privileges), forks the process (tg_stream_spawn) and respawns it when
 * it dies; SIGTERM closes every stream gracefully.
 */
#ifndef TG_STREAM_H
#define TG_STREAM_H

#include <sys/types.h>

struct tg_config;

/* Binds and listens on cfg->stream_socket (mode 0666); the fd or -1. */
int tg_stream_listen(const struct tg_config *cfg);
/* Forks the stream process on lfd; its pid, or -1. */
pid_t tg_stream_spawn(const struct tg_config *cfg, int lfd);

#endif
