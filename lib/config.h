/*
 * config.h - configuration from the environment, read and validated once.
 *
 * tg_config_load() takes a getenv-like function so tests can feed it a
 * table. On failure it writes a one-line reason into err and returns
 * -TG_E_BADREQ; the caller prints it and exits. Secrets in the struct are
 * wiped by tg_config_wipe().
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/limits.h"

enum tg_config_need {
	TG_CFG_SERVE = 1,	/* socket, secrets, workers */
	TG_CFG_SECRETS = 2,	/* secrets only (CLI commands that sign/encrypt) */
	TG_CFG_NONE = 0,	/* database-only commands */
};

struct tg_config {
	char socket_path[108];
	int workers;
	char user[64];		/* drop to this user when started as root */
	char pidfile[512];

	unsigned char enc_key[32];
	int have_enc_key;
	unsigned char enc_key_old[32];
	int have_enc_key_old;
	unsigned char jwt_secret[128];
	size_t jwt_secret_len;
	int jwt_derived;	/* derived from the encryption key */
	char jwt_issuer[128];
	/* TOOLGATE_PUBLIC_URL: the origin clients reach us at, e.g.
	 * "https://toolgate.example.com" (no path). The OAuth issuer, and
	 * <public_url>/mcp the resource its tokens are bound to; "" = OAuth
	 * for MCP clients is off (lib/oauth.h). */
	char public_url[256];

	int mcp_auth_required;
	char *origins[TG_MAX_ORIGINS];	/* points into origins_buf */
	int n_origins;
	char origins_buf[2048];

	int log_level;
	int64_t max_body;
	int test_routes;	/* TOOLGATE_TEST_ROUTES=1: diagnostic endpoints */
	int64_t maintenance_interval_s;	/* 0: the master runs none */
	int64_t cache_ttl_ms;		/* worker caches (lib/inval.h); 0: off */

	char sandbox_helper[512];
	char sandbox_python[256];
	int sandbox_allow_degraded;
	int64_t sandbox_timeout_ms;
	int64_t sandbox_memory_mb;
	int64_t sandbox_output_bytes;
	/* warm sandboxes (docs/sandbox.md "Warm sandboxes") */
	int sandbox_warm;		/* TOOLGATE_SANDBOX_WARM, default on */
	int64_t sandbox_warm_calls;	/* recycle the zygote after N calls */
	int64_t sandbox_warm_minutes;	/* ... or after this many minutes */
	/* third-party packages (docs/packages.md); "" = off */
	char pip_index_url[512];	/* TOOLGATE_PIP_INDEX_URL */
	char osv_url[512];		/* TOOLGATE_OSV_URL */
	char pip_extra_hosts[512];	/* TOOLGATE_PIP_EXTRA_HOSTS */
	char packages_dir[512];		/* TOOLGATE_PACKAGES_DIR */
	int64_t pip_max_download_mb;	/* TOOLGATE_PIP_MAX_DOWNLOAD (MiB) */

	/* reliability: tool slots (lib/slots.h) and database timeouts */
	int tool_slots;			/* tool runs at once, per master */
	int tool_queue;			/* calls that may wait for a slot */
	int64_t tool_queue_wait_ms;	/* longest wait in the queue */
	int64_t db_statement_timeout_ms;	/* 0: none */
	int64_t db_lock_timeout_ms;		/* 0: none */
	int64_t db_idle_tx_timeout_ms;		/* 0: none */
	int64_t client_write_timeout_ms;	/* one write to nginx, at most */

	/* streams: the stream process (fcgi/stream.c, docs/mcp.md "Streams") */
	char stream_socket[108];	/* "": no stream process */
	int64_t streams_max;		/* open streams, in total */
	int64_t streams_per_principal;	/* ... per user, API key or address */
	int64_t stream_heartbeat_s;	/* SSE comment every N s */
	int64_t stream_coalesce_ms;	/* a burst of changes: one notification */
	/* observability (issue #23): OTLP export and database health */
	char otlp_endpoint[512];	/* TOOLGATE_OTLP_ENDPOINT, "" = off */
	char otlp_service[64];		/* TOOLGATE_OTLP_SERVICE_NAME */
	int64_t otlp_sample_ppm;	/* TOOLGATE_OTLP_SAMPLE_RATIO, ppm */
	int64_t otlp_timeout_ms;	/* TOOLGATE_OTLP_TIMEOUT_MS */
	int64_t db_health_interval_s;	/* TOOLGATE_DB_HEALTH_INTERVAL_S, 0 = off */
};

typedef const char *(*tg_getenv_fn)(const char *name);

int tg_config_load(struct tg_config *c, int need, tg_getenv_fn get,
    char *err, size_t errlen);
/* 1 when origin (exact string, e.g. "https://a.example") is allowed. */
int tg_config_origin_allowed(const struct tg_config *c, const char *origin);
void tg_config_wipe(struct tg_config *c);

#endif
