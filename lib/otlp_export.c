/*
 * otlp_export.c - the telemetry process: span export over OTLP/HTTP JSON
 * and the PostgreSQL health sampler (see otlp_export.h).
 *
 * Loop: poll the queue until the next deadline (the batch's age limit or
 * the next health sample); drain every datagram waiting; send the batch
 * when it is full or a second old; sample PostgreSQL when due. One export
 * request at a time, synchronously: while it waits for a slow collector
 * nothing is read, the kernel queue fills and the workers drop spans. A
 * failed batch is dropped (counted), never retried: a collector that is
 * down costs no memory and no backlog.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/obs.h"
#include "lib/otlp_export.h"
#include "lib/pghealth.h"
#include "lib/status.h"

#ifndef TG_VERSION
#define TG_VERSION "0.0.0-dev"
#endif

#define DGRAM_MAX (64 * 1024)
#define BATCH_BYTES (4 * 1024 * 1024)
#define QUEUE_SNDBUF (1024 * 1024)
#define FAIL_LOG_EVERY_MS 60000
#define DRAIN_PAUSE_MS 20

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
tg_otlp_queue(int *send_fd, int *recv_fd)
{
	int sv[2], sz = QUEUE_SNDBUF;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
		tg_log(TG_LOG_ERR, "otlp.queue", "errno=%d", errno);
		return -TG_E_INTERNAL;
	}
	/* the bound on queued bytes (the kernel caps it at wmem_max) */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	*send_fd = sv[0];
	*recv_fd = sv[1];
	return TG_OK;
}

int
tg_telemetry_wanted(const struct tg_config *cfg)
{
	return cfg->otlp_endpoint[0] != '\0' || cfg->db_health_interval_s > 0;
}

struct exporter {
	const struct tg_config *cfg;
	CURL *curl;
	struct curl_slist *hdr;
	struct tg_buf batch; /* span JSON objects joined by commas */
	uint32_t nspans;
	int64_t first_ms; /* when the batch's first span arrived */
	char prefix[512];
	int64_t last_fail_log_ms;
	uint64_t failed_since_log;
};

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static int
exporter_init(struct exporter *x, const struct tg_config *cfg)
{
	char host[128];
	int n;

	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	x->batch.max = BATCH_BYTES + DGRAM_MAX;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, "\"\\")] = '\0';
	n = snprintf(x->prefix, sizeof(x->prefix),
	    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
	    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"%s\"}},"
	    "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"%s\"}},"
	    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"%s\"}}]},"
	    "\"scopeSpans\":[{\"scope\":{\"name\":\"toolgate\",\"version\":\"%s\"},"
	    "\"spans\":[",
	    cfg->otlp_service, TG_VERSION, host, TG_VERSION);
	if (n < 0 || (size_t)n >= sizeof(x->prefix))
		return -TG_E_INTERNAL;
	if ((x->curl = curl_easy_init()) == NULL)
		return -TG_E_NOMEM;
	x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (x->hdr == NULL)
		return -TG_E_NOMEM;
	if (curl_easy_setopt(x->curl, CURLOPT_URL, cfg->otlp_endpoint) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->hdr) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, (long)cfg->otlp_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS,
		(long)(cfg->otlp_timeout_ms < 1000 ? cfg->otlp_timeout_ms : 1000)) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_PROXY, "") != CURLE_OK)
		return -TG_E_INTERNAL;
	return TG_OK;
}

static void
exporter_free(struct exporter *x)
{
	curl_slist_free_all(x->hdr);
	if (x->curl)
		curl_easy_cleanup(x->curl);
	tg_buf_free(&x->batch);
}

/* Sends the batch (one request, bounded by the timeout) and empties it. */
static void
flush(struct exporter *x)
{
	struct tg_buf body;
	CURLcode cc = CURLE_OK;
	long code = 0;
	int64_t now;

	if (x->nspans == 0)
		return;
	memset(&body, 0, sizeof(body));
	if (tg_buf_puts(&body, x->prefix) != TG_OK ||
	    tg_buf_append(&body, x->batch.p, x->batch.len) != TG_OK ||
	    tg_buf_puts(&body, "]}]}]}") != TG_OK) {
		cc = CURLE_OUT_OF_MEMORY;
	} else if (curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body.p) != CURLE_OK ||
	    curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		(curl_off_t)body.len) != CURLE_OK) {
		cc = CURLE_FAILED_INIT;
	} else {
		cc = curl_easy_perform(x->curl);
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	}
	if (cc == CURLE_OK && code >= 200 && code < 300) {
		tg_obs_spans(TG_OBS_SPANS_EXPORTED, x->nspans);
		tg_obs_spans(TG_OBS_EXPORT_OK, 1);
	} else {
		tg_obs_spans(TG_OBS_SPANS_DROPPED_EXPORT, x->nspans);
		tg_obs_spans(TG_OBS_EXPORT_FAILED, 1);
		x->failed_since_log++;
		now = tg_now_ms();
		if (x->last_fail_log_ms == 0 || now - x->last_fail_log_ms >= FAIL_LOG_EVERY_MS) {
			tg_log(TG_LOG_WARN, "otlp.export_failed",
			    "spans=%u failed_batches=%llu http=%ld err=%s", x->nspans,
			    (unsigned long long)x->failed_since_log, code,
			    tg_log_q(curl_easy_strerror(cc)));
			x->last_fail_log_ms = now;
			x->failed_since_log = 0;
		}
	}
	tg_buf_free(&body);
	x->batch.len = 0;
	if (x->batch.p)
		x->batch.p[0] = '\0';
	x->nspans = 0;
	x->first_ms = 0;
}

/* Reads every datagram waiting into the batch (sending full batches). */
static void
drain(struct exporter *x, int fd, char *dg)
{
	uint32_t n;
	ssize_t r;

	while (!stop) {
		r = recv(fd, dg, DGRAM_MAX, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= (ssize_t)sizeof(n))
			break;
		memcpy(&n, dg, sizeof(n));
		if (n == 0)
			continue;
		if (x->batch.len + (size_t)r > BATCH_BYTES)
			flush(x);
		if ((x->nspans && tg_buf_puts(&x->batch, ",") != TG_OK) ||
		    tg_buf_append(&x->batch, dg + sizeof(n), (size_t)r - sizeof(n)) != TG_OK) {
			tg_obs_spans(TG_OBS_SPANS_DROPPED_EXPORT, n);
			continue;
		}
		if (x->nspans == 0)
			x->first_ms = tg_now_ms();
		x->nspans += n;
		if (x->nspans >= TG_OTLP_BATCH_SPANS)
			flush(x);
	}
}

static void
sample(struct tg_db *db)
{
	static int64_t last_ms;
	struct tg_obs_pg pg;
	int64_t now = tg_now_ms();

	if (tg_pghealth_sample(db, &pg) != TG_OK)
		pg.ok = 0;
	pg.interval_ms = last_ms ? now - last_ms : 0;
	last_ms = now;
	tg_obs_pg_sample(&pg);
}

int
tg_telemetry_run(const struct tg_config *cfg, int recv_fd)
{
	struct exporter x;
	struct sigaction sa;
	struct pollfd pfd;
	struct tg_db *db = NULL;
	sigset_t none;
	char *dg = NULL;
	int64_t now, next_health = 0, wait;
	int code = 1, exporting = recv_fd >= 0;

	memset(&x, 0, sizeof(x));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return 1;
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* ps and pgrep tell it from the workers */
	prctl(PR_SET_NAME, "tg-telemetry", 0, 0, 0);
	if (getppid() == 1)
		return 1;
	if (exporting) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    exporter_init(&x, cfg) != TG_OK ||
		    (dg = malloc(DGRAM_MAX)) == NULL) {
			tg_log(TG_LOG_ERR, "otlp.init", "msg=\"cannot set up the exporter\"");
			goto out;
		}
	}
	if (cfg->db_health_interval_s > 0 &&
	    (db = tg_db_open("toolgate-telemetry")) == NULL)
		goto out;
	/* the endpoint is not logged: its URL may carry a credential */
	tg_log(TG_LOG_INFO, "telemetry.start", "otlp=%s sample_ppm=%lld health_interval_s=%lld",
	    exporting ? "on" : "off", (long long)cfg->otlp_sample_ppm,
	    (long long)cfg->db_health_interval_s);
	next_health = tg_now_ms() + 1000;
	while (!stop) {
		now = tg_now_ms();
		wait = 60000;
		if (db != NULL)
			wait = next_health - now;
		if (x.nspans && x.first_ms + TG_OTLP_BATCH_MS - now < wait)
			wait = x.first_ms + TG_OTLP_BATCH_MS - now;
		if (wait < 0)
			wait = 0;
		pfd.fd = recv_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(exporting ? &pfd : NULL, exporting ? 1 : 0, (int)wait) < 0 &&
		    errno != EINTR)
			break;
		if (exporting && (pfd.revents & POLLIN)) {
			drain(&x, recv_fd, dg);
			/* let the queue collect for a while: one wake-up per
			 * DRAIN_PAUSE_MS, not one per request (the kernel
			 * holds up to the send buffer meanwhile) */
			if (x.nspans > 0 && x.nspans < TG_OTLP_BATCH_SPANS)
				(void)nanosleep(&(struct timespec){0, DRAIN_PAUSE_MS * 1000000L}, NULL);
		}
		now = tg_now_ms();
		if (x.nspans && now - x.first_ms >= TG_OTLP_BATCH_MS)
			flush(&x);
		if (db != NULL && now >= next_health) {
			sample(db);
			next_health = tg_now_ms() + cfg->db_health_interval_s * 1000;
		}
	}
	/* SIGTERM: whatever is already read goes out, within the timeout */
	if (exporting) {
		drain(&x, recv_fd, dg);
		flush(&x);
	}
	code = 0;
out:
	exporter_free(&x);
	free(dg);
	tg_db_close(db);
	if (exporting)
		curl_global_cleanup();
	return code;
}
