/*
 * worker.c - a pre-forked worker: own PostgreSQL connection (opened after
 * fork), FCGX_Accept_r loop, per-request arena, graceful stop on SIGTERM
 * (the request in flight finishes first). Also the plain-CGI path, which
 * serves one request through the same router with stdio as transport.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>
#include <jansson.h>

#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/worker.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/jsonalloc.h"	/* security */
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/sandbox_cfg.h"	/* warm sandboxes */

/*
 * Stopping (reliability). SIGTERM/SIGINT (the master's stop): finish the
 * request in flight, then keep accepting until nothing is queued on the
 * socket, then exit: a stop serves every connection that reached the
 * socket before it. The master has shut the listening socket down for
 * reading first (fcgi/main.c), so nothing new arrives and accept() fails
 * with EINVAL as soon as the queue is empty. SIGUSR1 (the master's rolling
 * restart on SIGHUP, where the socket stays open for the new workers):
 * finish the request in flight and exit at once. accept() also wakes every
 * ACCEPT_TICK_MS (SO_RCVTIMEO on the listening socket), so a signal that
 * lands just before the worker enters accept() cannot leave it blocked
 * there, and a worker on fd 0 under a process manager (whose socket no
 * master shuts down) stops after a tick without connections, or after
 * DRAIN_MAX_MS under ongoing traffic, well inside any grace period.
 */
#define STOP_DRAIN 1
#define STOP_NOW 2
#define ACCEPT_TICK_MS 250
#define DRAIN_MAX_MS 10000	/* a drain under ongoing traffic ends here */

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
	if (sig == SIGUSR1) {
		stop_flag = STOP_NOW;
		FCGX_ShutdownPending();
	} else if (stop_flag == 0) {
		stop_flag = STOP_DRAIN;
	}
}

/* FastCGI transport. */
static const char *
fcgx_param(void *ctx, const char *name)
{
	FCGX_Request *r = ctx;
	return FCGX_GetParam(name, r->envp);
}

static int
fcgx_read(void *ctx, char *buf, int n)
{
	FCGX_Request *r = ctx;
	return FCGX_GetStr(buf, n, r->in);
}

/*
 * Large writes bypass libfcgi's 8 KiB stream buffer: whatever it holds is
 * flushed first (order is kept), then the data goes out as FCGI_STDOUT
 * records of up to 65528 bytes in one writev, instead of one 8 KiB record
 * and one write(2) (and one wake-up of nginx) per 8 KiB. FCGX_Finish_r
 * still writes the closing empty record and FCGI_END_REQUEST.
 */
#define DIRECT_MIN 8192
#define RECORD_MAX 65528

static int
direct_write(FCGX_Request *r, const char *buf, size_t n)
{
	unsigned char hdr[16][8];
	struct iovec iov[32];
	size_t off = 0;

	if (FCGX_FFlush(r->out) < 0 || r->ipcFd < 0)
		return -1;
	while (off < n) {
		int k = 0;

		for (int i = 0; i < 16 && off < n; i++) {
			size_t len = n - off > RECORD_MAX ? RECORD_MAX : n - off;

			hdr[i][0] = FCGI_VERSION_1;
			hdr[i][1] = FCGI_STDOUT;
			hdr[i][2] = (unsigned char)((r->requestId >> 8) & 0xff);
			hdr[i][3] = (unsigned char)(r->requestId & 0xff);
			hdr[i][4] = (unsigned char)((len >> 8) & 0xff);
			hdr[i][5] = (unsigned char)(len & 0xff);
			hdr[i][6] = 0;	/* padding */
			hdr[i][7] = 0;
			iov[k].iov_base = hdr[i];
			iov[k++].iov_len = 8;
			iov[k].iov_base = (void *)(uintptr_t)(buf + off);
			iov[k++].iov_len = len;
			off += len;
		}
		/* A short write continues where it stopped. */
		for (struct iovec *v = iov; k > 0;) {
			ssize_t w = writev(r->ipcFd, v, k);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			while (k > 0 && (size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				v++;
				k--;
			}
			if (k > 0) {
				v->iov_base = (char *)v->iov_base + w;
				v->iov_len -= (size_t)w;
			}
		}
	}
	return 0;
}

static int
fcgx_write(void *ctx, const char *buf, size_t n)
{
	FCGX_Request *r = ctx;
	size_t off = 0;

	if (n >= DIRECT_MIN)
		return direct_write(r, buf, n);
	while (off < n) {
		int chunk = n - off > 65536 ? 65536 : (int)(n - off);
		if (FCGX_PutStr(buf + off, chunk, r->out) != chunk)
			return -1;
		off += (size_t)chunk;
	}
	return 0;
}

static int
fcgx_flush(void *ctx)
{
	FCGX_Request *r = ctx;
	return FCGX_FFlush(r->out) < 0 ? -1 : 0;
}

/* The connection to nginx: it is closed when the client goes away
 * (fastcgi_ignore_client_abort off), so hang-up on it means "client gone". */
static int
fcgx_cancel_fd(void *ctx)
{
	FCGX_Request *r = ctx;
	return r->ipcFd > 0 ? r->ipcFd : -1;
}

/* CGI transport. */
static const char *
cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static int
cgi_read(void *ctx, char *buf, int n)
{
	(void)ctx;
	return (int)fread(buf, 1, (size_t)n, stdin);
}

static int
cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

static int
cgi_flush(void *ctx)
{
	(void)ctx;
	return fflush(stdout) == 0 ? 0 : -1;
}

static int
install_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept() returns */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/* accept() returns EAGAIN after ACCEPT_TICK_MS without a connection. A
 * TCP listener passes its options on to accepted connections: those get
 * theirs cleared (*tcp = 1). */
static void
accept_tick(int fd, int *tcp)
{
	struct timeval tv = {0, ACCEPT_TICK_MS * 1000};
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	*tcp = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family != AF_UNIX;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		tg_log(TG_LOG_WARN, "worker.accept_tick", "errno=%d", errno);
}

int
tg_worker_run(const struct tg_config *cfg, int listen_fd,
    struct tg_metrics *metrics)
{
	FCGX_Request r;
	struct tg_arena *a = NULL;
	struct tg_ctx ctx;
	struct tg_io io = {.param = fcgx_param, .read = fcgx_read,
	    .write = fcgx_write, .flush = fcgx_flush, .cancel_fd = fcgx_cancel_fd};
	struct tg_req req;
	int code = 1, rc, tcp = 0;
	int64_t drain_start = 0;
	static const struct timeval no_timeout = {0, 0};
	struct timeval write_timeout;

	if (install_signals() != 0) {
		tg_log(TG_LOG_ERR, "worker.signals", "msg=\"cannot install handlers\"");
		return 1;
	}
	/* Die with the master even if it is SIGKILLed. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1 && listen_fd != 0)
		return 1;
	/* security: the wiping allocator must already be in place (set by
	 * main() before fork): refuse to serve secrets without it. */
	if (!tg_jsonalloc_installed()) {
		tg_log(TG_LOG_ERR, "worker.jsonalloc", "msg=\"zeroing jansson allocator not installed\"");
		return 1;
	}
	json_object_seed(0);

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.metrics = metrics;
	tg_metrics_set_self(metrics);
	ctx.db = tg_db_open("toolgate-worker");
	a = tg_arena_new();
	if (ctx.db == NULL || a == NULL) {
		tg_log(TG_LOG_ERR, "worker.init", "msg=\"out of memory\"");
		goto out;
	}
	if (FCGX_InitRequest(&r, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		tg_log(TG_LOG_ERR, "worker.init", "msg=\"FCGX_InitRequest failed\"");
		goto out;
	}
	io.ctx = &r;
	/* Caches (lib/inval.h): invalidated by NOTIFY and by the epochs the
	 * master shares between its workers. */
	tg_inval_set_ttl_ms((int)cfg->cache_ttl_ms);
	tg_db_listen(ctx.db);
	(void)tg_db_ok(ctx.db); /* connect now, after fork; retried per request */
	{	/* warm sandboxes: this worker's zygote, ahead of the first call */
		struct tg_sandbox_opts so;

		memset(&so, 0, sizeof(so));
		tg_sandbox_opts_config(cfg, &so);
		(void)tg_sandbox_warm_start(&so);
	}
	tg_log(TG_LOG_DEBUG, "worker.start", "fd=%d", listen_fd);
	accept_tick(listen_fd, &tcp);
	write_timeout.tv_sec = (time_t)(cfg->client_write_timeout_ms / 1000);
	write_timeout.tv_usec = (suseconds_t)(cfg->client_write_timeout_ms % 1000) * 1000;

	while (stop_flag != STOP_NOW) {
		if (stop_flag == STOP_DRAIN) {
			struct timespec now;
			int64_t ms;

			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
			if (drain_start == 0)
				drain_start = ms;
			else if (ms - drain_start > DRAIN_MAX_MS)
				break;
		}
		rc = FCGX_Accept_r(&r);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) {
			/* Draining and nothing queued for a whole tick: done. */
			if (stop_flag == STOP_DRAIN && rc != -EINTR)
				break;
			continue;
		}
		if (rc < 0)
			break;
		if (tcp)
			(void)setsockopt(r.ipcFd, SOL_SOCKET, SO_RCVTIMEO,
			    &no_timeout, sizeof(no_timeout));
		/* A write to nginx (an SSE event to a client that stopped
		 * reading) gives up after TOOLGATE_CLIENT_WRITE_TIMEOUT_MS:
		 * the request then ends as "client gone". */
		(void)setsockopt(r.ipcFd, SOL_SOCKET, SO_SNDTIMEO, &write_timeout,
		    sizeof(write_timeout));
		memset(&req, 0, sizeof(req));
		req.a = a;
		req.io = &io;
		req.ctx = &ctx;
		tg_router_serve(&req);
		/* libfcgi closes with a lingering close (shutdown, then wait
		 * up to 2 s for nginx to close its end) so that a peer still
		 * sending the request is not cut off. When the input has been
		 * read to its end there is nothing to cut off: close at once
		 * (FCGX_Detach makes FCGX_Free skip the shutdown). A request
		 * refused before its body was read keeps the lingering close. */
		if (r.in != NULL && FCGX_GetChar(r.in) == EOF)
			(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
		tg_arena_reset(a);
	}
	FCGX_Free(&r, 1);
	tg_log(TG_LOG_DEBUG, "worker.stop", "msg=\"clean exit\"");
	code = 0;
out:
	tg_arena_free(a);
	tg_db_close(ctx.db);
	return code;
}

int
tg_cgi_serve(const struct tg_config *cfg)
{
	struct tg_arena *a;
	struct tg_ctx ctx;
	struct tg_io io = {.param = cgi_param, .read = cgi_read, .write = cgi_write,
	    .flush = cgi_flush};
	struct tg_req req;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.db = tg_db_open("toolgate-cgi");
	tg_inval_set_ttl_ms(0);	/* one request per process: nothing to cache */
	a = tg_arena_new();
	if (ctx.db == NULL || a == NULL) {
		tg_db_close(ctx.db);
		tg_arena_free(a);
		fputs("Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nout of memory\n", stdout);
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.a = a;
	req.io = &io;
	req.ctx = &ctx;
	tg_router_serve(&req);
	fflush(stdout);
	tg_arena_free(a);
	tg_db_close(ctx.db);
	return 0;
}
