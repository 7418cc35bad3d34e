/*
 * main.c - the toolgate binary: the FastCGI master (socket, privilege
 * drop, pre-forked workers, respawn with backoff, graceful SIGTERM, rolling
 * restart on SIGHUP), plain CGI mode, and the admin subcommands.
 *
 * Only this file exits the process. Subcommands are one table (commands[]);
 * each returns the process exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi/cli.h"
#include "fcgi/cli_base.h"
#include "lib/jsonalloc.h"	/* security */
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "fcgi/worker.h"
#include "fcgi/stream.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/maintenance.h"
#include "lib/metrics.h"
#include "lib/otlp_export.h"	/* observability */
#include "lib/packages.h"
#include "lib/slots.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"
#include "lib/trace.h"	/* observability */

#ifndef TG_VERSION
#define TG_VERSION "0.0.0-dev"
#endif

#define SHUTDOWN_GRACE_S 40

struct slot {
	pid_t pid;
	int64_t started_ms;
	int64_t respawn_at_ms;	/* 0: not waiting */
	int64_t backoff_ms;
};

/*
 * The master's helper processes besides the workers: each has its pid
 * (0: none) and when it may be started again after it died. Their start
 * conditions differ (serve_master); ending, reaping and the stop are the
 * same for all.
 */
enum { CH_MAINT, CH_STREAM, CH_TELEM, CH_PKG, CH_N };

struct child {
	const char *died;	/* the log event when it dies, NULL: none */
	pid_t pid;
	int64_t at;		/* ms: not started again before */
};

/* If p is one of the children: it is gone, it may start again in 1 s
 * (maintenance keeps its own schedule); returns its index, or -1. */
static int
child_died(struct child *ch, pid_t p, int wst, int64_t now)
{
	int k;

	for (k = 0; k < CH_N; k++) {
		if (ch[k].pid != p)
			continue;
		if (ch[k].died != NULL)
			tg_log(TG_LOG_WARN, ch[k].died, "pid=%ld status=%d", (long)p,
			    WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
		ch[k].pid = 0;
		ch[k].at = now + 1000;
		return k;
	}
	return -1;
}

static void
children_kill(const struct child *ch, int sig)
{
	int k;

	for (k = 0; k < CH_N; k++)
		if (ch[k].pid > 0)
			kill(ch[k].pid, sig);
}

/* Reaps the children that have exited; returns how many still run. */
static int
children_alive(struct child *ch)
{
	int k, alive = 0;

	for (k = 0; k < CH_N; k++) {
		if (ch[k].pid > 0 && waitpid(ch[k].pid, NULL, WNOHANG) == ch[k].pid)
			ch[k].pid = 0;
		alive += ch[k].pid > 0;
	}
	return alive;
}

/* Refuse to steal a socket another live process is serving. */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static int
lock_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "toolgate: cannot open pid file %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "toolgate: another master is running (pid %s, pid file %s)\n",
		    buf, path);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		fprintf(stderr, "toolgate: cannot write pid file %s\n", path);
		close(fd);
		return -1;
	}
	return fd; /* kept open: the lock lives as long as the master */
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "toolgate: TOOLGATE_USER %s does not exist\n", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "toolgate: TOOLGATE_USER must not be root\n");
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "toolgate: cannot drop privileges to %s: %s\n", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		fprintf(stderr, "toolgate: privilege drop did not stick\n");
		return -1;
	}
	tg_log(TG_LOG_INFO, "master.privdrop", "user=%s uid=%ld", tg_log_q(user),
	    (long)pw->pw_uid);
	return 0;
}

static pid_t
spawn_worker(const struct tg_config *cfg, int fd, struct tg_metrics *m)
{
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(tg_worker_run(cfg, fd, m));
	if (pid < 0)
		tg_log(TG_LOG_ERR, "master.fork", "errno=%d", errno);
	return pid;
}

/* Runs maintenance in a short-lived child: the master itself never holds a
 * database connection (libpq connections must not cross fork). */
static pid_t
spawn_maintenance(const struct tg_config *cfg)
{
	struct tg_maint_report rep;
	struct tg_db *db;
	pid_t pid;
	sigset_t none;
	int rc;

	pid = fork();
	if (pid != 0)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	db = tg_db_open("toolgate-maintenance");
	rc = db ? tg_maintenance_run(db, &rep) : -TG_E_NOMEM;
	/* packages: this host's unused trees (every host has its own) */
	if (db != NULL && rc == TG_OK)
		(void)tg_packages_gc(db, cfg, TG_PACKAGES_GC_GRACE_S);
	tg_db_close(db);
	_exit(rc == TG_OK ? 0 : 1);
}

/* Observability (issue #23): the telemetry process (lib/otlp_export.h),
 * which exports the workers' spans and samples PostgreSQL's health. Like
 * maintenance it runs in a child: the master holds no database connection. */
static pid_t
spawn_telemetry(const struct tg_config *cfg, int recv_fd)
{
	pid_t pid;

	if (!tg_telemetry_wanted(cfg))
		return 0;
	pid = fork();
	if (pid == 0)
		_exit(tg_telemetry_run(cfg, recv_fd));
	if (pid < 0)
		tg_log(TG_LOG_ERR, "master.fork", "errno=%d", errno);
	return pid < 0 ? 0 : pid;
}

/* The package-job process (lib/pkg_jobs.c): resolves package requests
 * off the request path; respawned by the loop below when it dies. */
static pid_t
spawn_pkg_jobs(const struct tg_config *cfg)
{
	pid_t pid = fork();

	if (pid == 0)
		tg_pkg_jobs_main(cfg);
	return pid < 0 ? 0 : pid;
}

static int
serve_master(struct tg_config *cfg)
{
	struct slot slots[TG_MAX_WORKERS];
	struct tg_metrics *metrics = NULL;
	sigset_t set;
	siginfo_t si;
	struct timespec tick = {1, 0};
	int fd = -1, pidfd = -1, i, sig, stopping = 0, alive, code = 1, sfd = -1;
	int64_t now, deadline, next_maint;
	/* the telemetry child is started again only after it died (at != 0) */
	struct child ch[CH_N] = {
		[CH_STREAM] = {.died = "master.stream_died"},
		[CH_TELEM] = {.died = "master.telemetry_died"},
	};
	int qsend = -1, qrecv = -1;	/* the span queue (observability) */
	mode_t old;

	memset(slots, 0, sizeof(slots));
	if (cfg->jwt_derived)
		tg_log(TG_LOG_WARN, "config.jwt_secret",
		    "msg=\"TOOLGATE_JWT_SECRET is not set; deriving it from TOOLGATE_ENCRYPTION_KEY (rotating that key will log everyone out)\"");
	if (cfg->pidfile[0] && (pidfd = lock_pidfile(cfg->pidfile)) < 0)
		return 1;

	/* Signals are handled synchronously with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "toolgate: FCGX_Init failed\n");
		goto out;
	}
	if (socket_in_use(cfg->socket_path)) {
		fprintf(stderr, "toolgate: %s is already being served by another process\n",
		    cfg->socket_path);
		goto out;
	}
	old = umask(0);
	fd = FCGX_OpenSocket(cfg->socket_path, 256);
	umask(old);
	if (fd < 0) {
		fprintf(stderr, "toolgate: cannot listen on %s: %s\n", cfg->socket_path,
		    strerror(errno));
		goto out;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		goto out;
	if (chmod(cfg->socket_path, 0666) != 0)
		tg_log(TG_LOG_WARN, "master.socket_mode", "errno=%d", errno);
	metrics = tg_metrics_create();
	/* reliability: tool slots shared by the workers (lib/slots.h), and
	 * the database timeouts every connection of this master gets. */
	if (tg_slots_init(cfg->tool_slots, cfg->tool_queue,
	    (int)cfg->tool_queue_wait_ms) != TG_OK)
		tg_log(TG_LOG_WARN, "master.slots", "msg=\"no shared memory; tool runs are not capped\"");
	tg_db_set_timeouts(cfg->db_statement_timeout_ms, cfg->db_lock_timeout_ms,
	    cfg->db_idle_tx_timeout_ms);
	if (tg_inval_shared_init() != TG_OK)
		tg_log(TG_LOG_WARN, "master.inval", "msg=\"no shared cache epochs; workers rely on NOTIFY alone\"");
	if (metrics == NULL)
		tg_log(TG_LOG_WARN, "master.metrics", "msg=\"no shared memory; /metrics disabled\"");
	/* streams (fcgi/stream.h): the socket before the privilege drop, the
	 * key of the workers' tickets before any fork */
	if (cfg->stream_socket[0] && (sfd = tg_stream_listen(cfg)) >= 0 &&
	    tg_ticket_init() != TG_OK) {
		close(sfd);
		sfd = -1;
	}
	if (cfg->stream_socket[0] && sfd < 0)
		tg_log(TG_LOG_WARN, "master.stream", "msg=\"no stream process: GET /mcp is 405, listChanged false\"");
	if (cfg->otlp_endpoint[0] && tg_otlp_queue(&qsend, &qrecv) != TG_OK)
		tg_log(TG_LOG_WARN, "master.otlp", "msg=\"no span queue; traces are not exported\"");
	tg_trace_setup(qsend, cfg->otlp_sample_ppm);
	if (drop_privileges(cfg->user) != 0)
		goto out;

	tg_log(TG_LOG_INFO, "master.start",
	    "version=%s socket=%s workers=%d tool_slots=%d tool_queue=%d",
	    TG_VERSION, tg_log_q(cfg->socket_path), cfg->workers, cfg->tool_slots,
	    cfg->tool_queue);
	if (sfd >= 0 && (ch[CH_STREAM].pid = tg_stream_spawn(cfg, sfd)) < 0)
		ch[CH_STREAM].pid = 0, ch[CH_STREAM].at = tg_now_ms() + 1000;
	for (i = 0; i < cfg->workers; i++) {
		slots[i].pid = spawn_worker(cfg, fd, metrics);
		slots[i].started_ms = tg_now_ms();
	}
	ch[CH_TELEM].pid = spawn_telemetry(cfg, qrecv);	/* observability */

	next_maint = tg_now_ms() + 5000;
	while (!stopping) {
		/* reliability: sleep until the next respawn is due, not a whole
		 * tick, so backoffs of 100..800 ms are kept to the ms. */
		now = tg_now_ms();
		tick.tv_sec = 1;
		tick.tv_nsec = 0;
		for (i = 0; i < cfg->workers; i++) {
			int64_t d;

			if (slots[i].pid != 0)
				continue;
			/* + 1 ms: never wake just before it is due */
			d = slots[i].respawn_at_ms - now + 1;
			if (d < 1)
				d = 1;
			if (d < (int64_t)tick.tv_sec * 1000 + tick.tv_nsec / 1000000) {
				tick.tv_sec = (time_t)(d / 1000);
				tick.tv_nsec = (long)(d % 1000) * 1000000;
			}
		}
		sig = sigtimedwait(&set, &si, &tick);
		now = tg_now_ms();
		if (cfg->maintenance_interval_s > 0 && ch[CH_MAINT].pid == 0 && now >= next_maint) {
			ch[CH_MAINT].pid = spawn_maintenance(cfg);
			if (ch[CH_MAINT].pid < 0)
				ch[CH_MAINT].pid = 0;
			next_maint = now + cfg->maintenance_interval_s * 1000;
		}
		if (cfg->pip_index_url[0] && ch[CH_PKG].pid == 0 && now >= ch[CH_PKG].at)
			ch[CH_PKG].pid = spawn_pkg_jobs(cfg);
		if (sig == SIGTERM || sig == SIGINT) {
			tg_log(TG_LOG_INFO, "master.stop", "signal=%d", sig);
			stopping = 1;
			break;
		}
		if (sig == SIGHUP) {
			tg_log(TG_LOG_INFO, "master.reload", "msg=\"rolling restart of workers\"");
			/* SIGUSR1: finish the request in flight and exit; the
			 * socket stays open, the new workers serve the rest. */
			for (i = 0; i < cfg->workers; i++) {
				if (slots[i].pid > 0) {
					kill(slots[i].pid, SIGUSR1);
					slots[i].backoff_ms = -1; /* planned: no backoff */
				}
			}
		}
		/* Reap whatever died, whatever the signal was. */
		for (;;) {
			int wst;
			pid_t p = waitpid(-1, &wst, WNOHANG);
			if (p <= 0)
				break;
			switch (child_died(ch, p, wst, now)) {
			case -1:
				break;
			case CH_PKG:
				tg_slots_reclaim(p);
				continue;
			default:
				continue;
			}
			/* reliability: whatever tool slot or queue place it held */
			tg_slots_reclaim(p);
			for (i = 0; i < cfg->workers; i++) {
				if (slots[i].pid != p)
					continue;
				slots[i].pid = 0;
				if (slots[i].backoff_ms == -1) {
					slots[i].backoff_ms = 0;
				} else {
					tg_log(TG_LOG_WARN, "master.worker_died",
					    "worker_pid=%ld status=%d signal=%d", (long)p,
					    WIFEXITED(wst) ? WEXITSTATUS(wst) : -1,
					    WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
					tg_metrics_worker_restart(metrics);
					/* reliability: mark its call "lost" soon */
					if (next_maint > now + 1000)
						next_maint = now + 1000;
					if (now - slots[i].started_ms < 2000)
						slots[i].backoff_ms = slots[i].backoff_ms ?
						    (slots[i].backoff_ms * 2 > 30000 ? 30000 :
						    slots[i].backoff_ms * 2) : 100;
					else
						slots[i].backoff_ms = 0;
				}
				slots[i].respawn_at_ms = now + slots[i].backoff_ms;
			}
		}
		for (i = 0; i < cfg->workers; i++) {
			if (slots[i].pid == 0 && slots[i].respawn_at_ms <= now) {
				slots[i].pid = spawn_worker(cfg, fd, metrics);
				slots[i].started_ms = now;
				slots[i].respawn_at_ms = 0;
				if (slots[i].pid < 0) {
					slots[i].pid = 0;
					slots[i].respawn_at_ms = now + 1000;
				}
			}
		}
		if (sfd >= 0 && ch[CH_STREAM].pid == 0 && now >= ch[CH_STREAM].at &&
		    (ch[CH_STREAM].pid = tg_stream_spawn(cfg, sfd)) < 0)
			ch[CH_STREAM].pid = 0, ch[CH_STREAM].at = now + 1000;
		if (ch[CH_TELEM].pid == 0 && ch[CH_TELEM].at != 0 && now >= ch[CH_TELEM].at) {
			ch[CH_TELEM].pid = spawn_telemetry(cfg, qrecv);
			ch[CH_TELEM].at = ch[CH_TELEM].pid ? 0 : now + 1000;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			tg_log(TG_LOG_WARN, "master.sigwait", "errno=%d", errno);
	}

	/*
	 * Graceful stop (reliability): shutdown(SHUT_RD) on the listening
	 * socket first: from then on a new connection is refused at once
	 * (nginx answers 502 without waiting) while the connections already
	 * queued stay acceptable, and once they are taken accept() fails with
	 * EINVAL in every worker, even one already blocked in it. The name goes
	 * too where the directory lets us, so a new master can bind the path
	 * meanwhile. Workers finish the request in flight, drain the queue
	 * (fcgi/worker.c) and exit: a stop loses nothing that arrived before it.
	 */
	if (shutdown(fd, SHUT_RD) != 0)
		tg_log(TG_LOG_WARN, "master.shutdown", "errno=%d", errno);
	if (unlink(cfg->socket_path) != 0)
		tg_log(TG_LOG_DEBUG, "master.unlink", "errno=%d", errno);
	for (i = 0; i < cfg->workers; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	children_kill(ch, SIGTERM);
	if (sfd >= 0) {
		close(sfd);
		sfd = -1;
		(void)unlink(cfg->stream_socket);
	}
	deadline = tg_now_ms() + SHUTDOWN_GRACE_S * 1000;
	for (;;) {
		alive = 0;
		for (i = 0; i < cfg->workers; i++) {
			if (slots[i].pid > 0 && waitpid(slots[i].pid, NULL, WNOHANG) == slots[i].pid)
				slots[i].pid = 0;
			if (slots[i].pid > 0)
				alive++;
		}
		/* reliability: the other children too, or the maintenance one
		 * would outlive the master as a zombie of pid 1 (issue #15). */
		alive += children_alive(ch);
		if (alive == 0)
			break;
		if (tg_now_ms() > deadline) {
			for (i = 0; i < cfg->workers; i++)
				if (slots[i].pid > 0)
					kill(slots[i].pid, SIGKILL);
			children_kill(ch, SIGKILL);
			while (waitpid(-1, NULL, 0) > 0)
				;
			break;
		}
		(void)sigtimedwait(&set, &si, &(struct timespec){0, 100000000});
	}
	tg_log(TG_LOG_INFO, "master.exit", "msg=\"all workers stopped\"");
	code = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	if (qsend >= 0)
		close(qsend);
	if (qrecv >= 0)
		close(qrecv);
	if (pidfd >= 0) {
		if (code == 0 && cfg->pidfile[0])
			(void)unlink(cfg->pidfile);
		close(pidfd);
	}
	tg_metrics_destroy(metrics);
	tg_slots_destroy();
	return code;
}

static int
cmd_serve(int argc, char **argv)
{
	struct tg_config cfg;
	int rc;

	(void)argc;
	(void)argv;
	if (getenv("GATEWAY_INTERFACE") != NULL) {
		/* Plain CGI: one request, then exit. */
		if (tg_cli_load_config(&cfg, TG_CFG_SECRETS) != 0) {
			fputs("Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\ntoolgate is misconfigured; see the server log\n", stdout);
			return 1;
		}
		/* The web server logs each stderr line as an error and keeps an
		 * access log of its own: warnings only, unless configured. */
		if (getenv("TOOLGATE_LOG_LEVEL") == NULL || *getenv("TOOLGATE_LOG_LEVEL") == '\0')
			tg_log_set_level(TG_LOG_WARN);
		tg_db_set_timeouts(cfg.db_statement_timeout_ms,
		    cfg.db_lock_timeout_ms, cfg.db_idle_tx_timeout_ms);
		rc = tg_cgi_serve(&cfg);
		tg_config_wipe(&cfg);
		return rc;
	}
	if (getenv("TOOLGATE_SOCKET") == NULL && !FCGX_IsCGI()) {
		/* Started by a FastCGI process manager with the socket on fd 0. */
		if (tg_cli_load_config(&cfg, TG_CFG_SECRETS) != 0)
			return 1;
		if (FCGX_Init() != 0)
			return 1;
		tg_db_set_timeouts(cfg.db_statement_timeout_ms,
		    cfg.db_lock_timeout_ms, cfg.db_idle_tx_timeout_ms);
		rc = tg_worker_run(&cfg, 0, NULL);
		tg_config_wipe(&cfg);
		return rc;
	}
	if (tg_cli_load_config(&cfg, TG_CFG_SERVE) != 0)
		return 1;
	rc = serve_master(&cfg);
	tg_config_wipe(&cfg);
	return rc;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_db *db;
	int applied = 0, rc;

	(void)argc;
	(void)argv;
	if ((db = tg_cli_connect(&cfg, TG_CFG_NONE, "toolgate-migrate", NULL)) == NULL)
		return 1;
	rc = tg_db_migrate(db, &applied);
	tg_db_close(db);
	tg_config_wipe(&cfg);
	if (rc != TG_OK) {
		fprintf(stderr, "toolgate: migration failed (see the log line above)\n");
		return 1;
	}
	printf("migrations: %d applied, schema up to date\n", applied);
	return 0;
}

static int
cmd_check_config(int argc, char **argv)
{
	struct tg_config cfg;

	(void)argc;
	(void)argv;
	if (tg_cli_load_config(&cfg, getenv("TOOLGATE_SOCKET") ? TG_CFG_SERVE : TG_CFG_SECRETS) != 0)
		return 1;
	printf("configuration ok: workers=%d socket=%s mcp_auth=%s jwt_secret=%s\n",
	    cfg.workers, cfg.socket_path[0] ? cfg.socket_path : "(cgi)",
	    cfg.mcp_auth_required ? "required" : "none",
	    cfg.jwt_derived ? "derived" : "set");
	tg_config_wipe(&cfg);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("toolgate %s\n", TG_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct tg_cli_cmd base_commands[] = {
	{"serve", cmd_serve, "run the FastCGI master (default), or one CGI request"},
	{"migrate", cmd_migrate, "apply database migrations (idempotent)"},
	{"check-config", cmd_check_config, "validate the environment configuration"},
	{"version", cmd_version, "print the version (also --version)"},
	{"help", cmd_help, "the commands and the settings (also --help)"},
	{NULL, NULL, NULL},
};

static const struct tg_cli_cmd *const tables[] = {base_commands, tg_cli_extra_commands};

static int
cmd_help(int argc, char **argv)
{
	const struct tg_cli_cmd *c;
	size_t t;

	(void)argc;
	(void)argv;
	printf("usage: toolgate [command] [args]\n"
	    "       toolgate --help | --version\n\n"
	    "With no command, toolgate serves (the same as 'toolgate serve'): as the\n"
	    "FastCGI master on TOOLGATE_SOCKET, as a worker on the socket a process\n"
	    "manager (mod_fcgid, spawn-fcgi) passes on fd 0, or one CGI request when\n"
	    "GATEWAY_INTERFACE is set.\n\ncommands:\n");
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (c = tables[t]; c->name; c++)
			printf("  %-14s %s\n", c->name, c->help);
	printf("\nSettings come from the environment, never from arguments:\n"
	    "  TOOLGATE_ENCRYPTION_KEY  required to serve: 64 hex characters (openssl rand -hex 32)\n"
	    "  TOOLGATE_JWT_SECRET      32..128 bytes (derived from the key when unset)\n"
	    "  TOOLGATE_SOCKET          FastCGI unix socket of the master (absolute path)\n"
	    "  PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD  the PostgreSQL database (libpq)\n"
	    "Every variable: docs/configuration.md. 'make run' in a checkout sets them all up.\n");
	return 0;
}

static const struct tg_cli_cmd *
find_cmd(const char *name)
{
	const struct tg_cli_cmd *c;
	size_t t;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (c = tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static int
is_help_flag(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
	    strcmp(a, "-?") == 0;
}

int
main(int argc, char **argv)
{
	const struct tg_cli_cmd *c;

	/* security: jansson's wiping allocator, before any jansson use, for
	 * every mode (serve, CGI, CLI); workers inherit it across fork(). */
	tg_jsonalloc_install();
	/* Bare toolgate serves: web servers and service managers start it so. */
	if (argc < 2 || getenv("GATEWAY_INTERFACE") != NULL)
		return cmd_serve(argc, argv);
	if (is_help_flag(argv[1]))
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(argc - 1, argv + 1);
	if (argv[1][0] == '-') {
		fprintf(stderr, "toolgate: unknown option %s (try: toolgate --help)\n", argv[1]);
		return 2;
	}
	if ((c = find_cmd(argv[1])) == NULL) {
		fprintf(stderr, "toolgate: unknown command %s (try: toolgate --help)\n", argv[1]);
		return 2;
	}
	/* toolgate CMD --help: that command's line, never the command itself
	 * (export would write a file named --help, serve would start). */
	if (argc == 3 && is_help_flag(argv[2])) {
		printf("usage: toolgate %s [args]\n  %s\n(all commands: toolgate --help)\n",
		    c->name, c->help);
		return 0;
	}
	return c->fn(argc - 1, argv + 1);
}
