/*
 * sandbox_client.c - the worker side of toolgate-sandbox.
 *
 * One call = one helper process:
 *   - the request goes over an AF_UNIX socketpair on the helper's stdin
 *     (send with MSG_NOSIGNAL: a dead helper can never SIGPIPE the worker);
 *   - the helper's stderr is a pipe (a bounded diagnostic line);
 *   - the status document comes on fd 3 (a pipe), never mixed with output;
 *   - posix_spawn with SETSID (no controlling tty), SETSIGMASK (empty),
 *     SETSIGDEF (all), an explicit envp, and addclosefrom_np(4): the helper
 *     inherits nothing else from the worker;
 *   - all our pipe ends are lifted to fds >= 10 first, so adddup2 never
 *     meets a source equal to its target (where CLOEXEC would survive);
 *   - hard deadline = limits.timeout_ms + grace: past it the helper is
 *     SIGKILLed through its pidfd (its sandbox dies with it by PDEATHSIG);
 *   - the helper is always reaped with waitpid, on every path;
 *   - with an event callback, a fourth pipe becomes the helper's fd 4
 *     (--events-fd 4): one JSON object per line, handed to the callback
 *     as it arrives; with a cancel fd, hang-up on it (the client went
 *     away) kills the helper like the deadline does, and the run ends as
 *     "cancelled".
 */
#include "lib/sandbox_client.h"
#include "lib/slots.h"
#include "lib/status.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIAG_MAX	2048
#define MAX_ARGS	32
#define EVENT_LINE_MAX	8192	/* the helper passes lines <= PIPE_BUF */

struct rbuf {
	char *p;
	size_t len, cap, max;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* observability: the run's phases (sandbox_client.h, on_phase) */
#define PHASE(o, name) \
	do { \
		if ((o)->on_phase != NULL) \
			(o)->on_phase((o)->phase_ctx, (name)); \
	} while (0)

static void
set_diag(const struct tg_sandbox_opts *o, const char *msg, const char *detail)
{
	int n;

	if (o == NULL || o->diag == NULL || o->diag_len == 0)
		return;
	n = snprintf(o->diag, o->diag_len, "%s%s%s", msg, detail ? ": " : "",
	    detail ? detail : "");
	if (n < 0)
		o->diag[0] = '\0';
	/* truncation of a diagnostic is acceptable: snprintf terminated it */
}

static int
rbuf_read(int fd, struct rbuf *b)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof chunk);
	size_t take;

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0)
		return -1;
	take = (size_t)n;
	if (b->len + take > b->max)
		take = b->max - b->len;
	if (take > 0) {
		if (b->len + take + 1 > b->cap) {
			size_t nc = b->cap ? b->cap : 8192;
			char *np;

			while (nc < b->len + take + 1)
				nc *= 2;
			np = realloc(b->p, nc);
			if (np == NULL)
				return -2;
			b->p = np;
			b->cap = nc;
		}
		memcpy(b->p + b->len, chunk, take);
		b->len += take;
		b->p[b->len] = '\0';
	}
	return 0;
}

static int
lift(int *fd)
{
	int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 10);

	if (nfd < 0)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* SIGKILL to a helper: through its pidfd when there is one, else by pid;
 * never a pid of 1 or less (kill(0) or kill(-1) would hit our own group
 * or every process of the uid). */
static void
kill_helper(pid_t pid, int pidfd)
{
	if ((pidfd < 0 ||
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0U) != 0) &&
	    pid > 1)
		kill(pid, SIGKILL);
}

/* Hands every complete line of b to the event callback; keeps the rest.
 * Returns -1 when the callback asks to cancel. */
static int
events_pass(const struct tg_sandbox_opts *o, struct rbuf *b)
{
	size_t off = 0;
	int rc = 0;

	while (off < b->len) {
		char *nl = memchr(b->p + off, '\n', b->len - off);
		json_t *ev;

		if (nl == NULL)
			break;
		ev = json_loadb(b->p + off, (size_t)(nl - (b->p + off)), 0, NULL);
		if (json_is_object(ev) && rc == 0 &&
		    o->on_event(o->event_ctx, ev) != 0)
			rc = -1;
		json_decref(ev);
		off = (size_t)(nl - b->p) + 1;
	}
	if (off > 0) {
		memmove(b->p, b->p + off, b->len - off);
		b->len -= off;
	}
	if (b->len >= EVENT_LINE_MAX)	/* an overlong line: drop it */
		b->len = 0;
	return rc;
}

/* Adds fd (when there is one) to the poll set p of *n entries; returns its
 * index, or -1. */
static int
watch(struct pollfd *p, int *n, int fd, short events)
{
	if (fd < 0)
		return -1;
	p[*n].fd = fd;
	p[*n].events = events;
	return (*n)++;
}

/* The helper's descriptors: 0 the request socket sv, 1 /dev/null, 2 er
 * (er < 0: the worker's own stderr stays), 3 the status pipe st, 4 the
 * events pipe ev (ev < 0: none); every other one closed. 0, or -1. */
static int
spawn_fds(posix_spawn_file_actions_t *fa, int sv, int er, int st, int ev)
{
	if (posix_spawn_file_actions_adddup2(fa, sv, 0) != 0 ||
	    posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY,
	    0) != 0 ||
	    (er >= 0 && posix_spawn_file_actions_adddup2(fa, er, 2) != 0) ||
	    posix_spawn_file_actions_adddup2(fa, st, 3) != 0 ||
	    (ev >= 0 && posix_spawn_file_actions_adddup2(fa, ev, 4) != 0) ||
	    posix_spawn_file_actions_addclosefrom_np(fa, ev >= 0 ? 5 : 4) != 0)
		return -1;
	return 0;
}

/* The helper starts in a session of its own, with no signal blocked and
 * every disposition the default. 0, or -1. */
static int
spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setsigmask(at, &none) != 0 ||
	    posix_spawnattr_setsigdefault(at, &all) != 0)
		return -1;
	return 0;
}

/* Destroys the spawn file actions and attributes that were initialised
 * (NULL: not). */
static void
spawn_done(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at)
{
	if (fa != NULL)
		posix_spawn_file_actions_destroy(fa);
	if (at != NULL)
		posix_spawnattr_destroy(at);
}

static void
close_pair(int p[2])
{
	close_fd(&p[0]);
	close_fd(&p[1]);
}

/*
 * Spawn the helper with args, send req (may be NULL), wait at most
 * deadline_ms of wall time. With stream, events go to o->on_event and
 * o->cancel_fd is watched (*cancelled = 1 when the run was cancelled). On
 * return status and diag hold what was read and *wstatus the helper's wait
 * status. Returns 0, or -TG_E_* for spawn failure (-TG_E_UNAVAIL),
 * deadline (-TG_E_TIMEOUT), memory.
 */
static int
exec_helper(const struct tg_sandbox_opts *o, const char *const *args,
    const char *req, size_t req_len, long long deadline_ms,
    struct rbuf *status, struct rbuf *diag, int *wstatus, int stream,
    int *cancelled)
{
	static char *const envp[] = {(char *)"PATH=/usr/bin:/bin",
		(char *)"LANG=C.UTF-8", NULL};
	const char *helper = o->helper_path ? o->helper_path :
	    TG_SANDBOX_HELPER_DEFAULT;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int sv[2] = {-1, -1}, st[2] = {-1, -1}, er[2] = {-1, -1};
	int ev[2] = {-1, -1};
	int pidfd = -1, rc = 0, fa_init = 0, at_init = 0, killed = 0;
	int want_ev = stream && o->on_event != NULL, cx = 0;
	int cfd = stream && o->cancel_fd > 0 ? o->cancel_fd : -1;
	pid_t pid = -1;
	size_t off = 0;
	long long deadline = now_ms() + deadline_ms;
	struct rbuf evb = {NULL, 0, 0, EVENT_LINE_MAX + 16384};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(st, O_CLOEXEC) != 0 || pipe2(er, O_CLOEXEC) != 0 ||
	    lift(&sv[0]) || lift(&sv[1]) || lift(&st[0]) || lift(&st[1]) ||
	    lift(&er[0]) || lift(&er[1]) || (want_ev &&
	    (pipe2(ev, O_CLOEXEC) != 0 || lift(&ev[0]) || lift(&ev[1])))) {
		set_diag(o, "sandbox: cannot create pipes", strerror(errno));
		rc = -TG_E_INTERNAL;
		goto out;
	}
	/* only the helper's ends become 0, 2, 3; 1 is /dev/null */
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	fa_init = 1;
	if (spawn_fds(&fa, sv[1], er[1], st[1], want_ev ? ev[1] : -1) != 0 ||
	    posix_spawnattr_init(&at) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	at_init = 1;
	if (spawn_attrs(&at) != 0) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	rc = posix_spawn(&pid, helper, &fa, &at, (char *const *)args, envp);
	if (rc != 0) {
		set_diag(o, "sandbox: cannot start the helper", strerror(rc));
		pid = -1;
		rc = -TG_E_UNAVAIL;
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	PHASE(o, "spawn");
	close_fd(&sv[1]);
	close_fd(&st[1]);
	close_fd(&er[1]);
	close_fd(&ev[1]);
	if (ev[0] >= 0)
		fcntl(ev[0], F_SETFL, O_NONBLOCK);
	if (req == NULL)
		shutdown(sv[0], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	fcntl(er[0], F_SETFL, O_NONBLOCK);

	for (;;) {
		struct pollfd p[6];
		int n = 0, pr, tmo, i_sv = -1, i_st = -1, i_er = -1, i_pid = -1;
		int i_ev = -1, i_cx = -1;
		long long left = deadline - now_ms();

		if (left <= 0 && !killed) {
			kill_helper(pid, pidfd);
			killed = 1;
			set_diag(o, "sandbox: the helper overran its deadline "
			    "and was killed", NULL);
		}
		if (req != NULL && off < req_len)
			i_sv = watch(p, &n, sv[0], POLLOUT);
		i_st = watch(p, &n, st[0], POLLIN);
		i_er = watch(p, &n, er[0], POLLIN);
		i_ev = watch(p, &n, ev[0], POLLIN);
		/* hang-up only: data nginx might send is not ours */
		if (!killed)
			i_cx = watch(p, &n, cfd, POLLRDHUP);
		/* pipes are done; wait for the exit itself */
		if (st[0] < 0 && er[0] < 0 && ev[0] < 0)
			i_pid = watch(p, &n, pidfd, POLLIN);
		if (n == 0)
			break;
		tmo = killed ? 2000 : (int)(left > 0 ? left : 0);
		pr = poll(p, (nfds_t)n, tmo);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pr == 0 && killed)
			break;	/* killed and quiet: stop waiting */
		if (i_sv >= 0 && p[i_sv].revents) {
			ssize_t w = send(sv[0], req + off, req_len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				off += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = req_len;	/* helper stopped reading */
			if (off == req_len) {
				shutdown(sv[0], SHUT_WR);
				PHASE(o, "setup");
			}
		}
		if (i_st >= 0 && p[i_st].revents) {
			int r = rbuf_read(st[0], status);

			if (r == -2) {
				rc = -TG_E_NOMEM;
				close_fd(&st[0]);
			} else if (r < 0) {
				close_fd(&st[0]);
				PHASE(o, "wait");
			}
		}
		if (i_er >= 0 && p[i_er].revents && rbuf_read(er[0], diag) != 0)
			close_fd(&er[0]);
		if (i_ev >= 0 && p[i_ev].revents) {
			int r = rbuf_read(ev[0], &evb);

			if (!killed && events_pass(o, &evb) != 0)
				cx = 1;
			if (r != 0)
				close_fd(&ev[0]);
		}
		if (i_cx >= 0 && (p[i_cx].revents & POLLNVAL))
			cfd = -1;	/* not open: nothing to watch */
		else if (i_cx >= 0 && p[i_cx].revents)
			cx = 1;
		if (cx && !killed) {
			/* the client is gone: stop the run like the deadline */
			kill_helper(pid, pidfd);
			killed = 1;
		}
		if (i_pid >= 0 && p[i_pid].revents)
			break;
	}
	if (killed && rc == 0 && !cx)
		rc = -TG_E_TIMEOUT;
	if (cancelled != NULL)
		*cancelled = cx;
out:
	if (pid > 0) {
		if (pidfd >= 0 && killed == 0 && (st[0] >= 0 || er[0] >= 0 ||
		    ev[0] >= 0))
			(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL,
			    NULL, 0U);
		while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
			;
	}
	spawn_done(fa_init ? &fa : NULL, at_init ? &at : NULL);
	close_pair(sv);
	close_pair(st);
	close_pair(er);
	close_pair(ev);
	close_fd(&pidfd);
	free(evb.p);
	return rc;
}

/* ---- warm sandboxes ------------------------------------------------------ */

static int build_args(const struct tg_sandbox_opts *o, const char **argv,
    const char *mode, int events, const char *const *more);

/*
 * One long-lived helper per process (toolgate-sandbox --serve), started
 * on the first call or by tg_sandbox_warm_start, replaced when what shapes
 * it changes (helper path or binary, python, degraded switch, extra
 * arguments, recycling) and when it dies. Frames on its fd 0: 'Q', a
 * flags byte, a 32-bit length and the request; 'K' cancels the call in
 * progress. It answers on its fd 3 with a 32-bit length, its exit status
 * byte and the status document; tool events come on its fd 4 as lines.
 */
#define WARM_KEY_MAX	2048
#define WARM_AGAIN	1	/* the helper was gone before the call: retry */

static struct {
	pid_t owner;	/* the process that started it (not inherited) */
	pid_t pid;
	int pidfd, req, st, ev;
	char key[WARM_KEY_MAX];
	struct stat bin;
	pid_t enabled;	/* the process that called tg_sandbox_warm_start */
} W = {0, -1, -1, -1, -1, -1, "", {0}, 0};

static int
warm_key(const struct tg_sandbox_opts *o, char *key, size_t cap)
{
	size_t off = 0;
	int n, i;

	n = snprintf(key, cap, "%s|%s|%d|%d|%lld|%lld", o->helper_path ?
	    o->helper_path : TG_SANDBOX_HELPER_DEFAULT, o->python_path ?
	    o->python_path : "", o->allow_degraded, o->warm, o->warm_calls,
	    o->warm_ms);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	off = (size_t)n;
	for (i = 0; o->extra_args != NULL && o->extra_args[i] != NULL; i++) {
		n = snprintf(key + off, cap - off, "|%s", o->extra_args[i]);
		if (n < 0 || (size_t)n >= cap - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

void
tg_sandbox_warm_stop(void)
{
	if (W.owner != getpid()) {
		/* inherited across fork: the helper is the parent's */
		if (W.owner != 0) {
			close_fd(&W.req);
			close_fd(&W.st);
			close_fd(&W.ev);
			close_fd(&W.pidfd);
		}
		W.pid = -1;
		W.owner = getpid();
		return;
	}
	close_fd(&W.req);	/* EOF: the helper ends by itself */
	if (W.pid > 0) {
		kill_helper(W.pid, W.pidfd);
		while (waitpid(W.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	W.pid = -1;
	close_fd(&W.st);
	close_fd(&W.ev);
	close_fd(&W.pidfd);
}

static int
warm_alive(void)
{
	struct pollfd p = {.fd = W.pidfd, .events = POLLIN};

	return W.pid > 0 && W.pidfd >= 0 && poll(&p, 1, 0) == 0;
}

static int
warm_spawn(const struct tg_sandbox_opts *o, const char *key,
    const struct stat *bin)
{
	static char *const envp[] = {(char *)"PATH=/usr/bin:/bin",
		(char *)"LANG=C.UTF-8", NULL};
	const char *helper = o->helper_path ? o->helper_path :
	    TG_SANDBOX_HELPER_DEFAULT;
	const char *argv[MAX_ARGS];
	char calls[24], ms[24];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int sv[2] = {-1, -1}, st[2] = {-1, -1}, ev[2] = {-1, -1};
	int rc, fa_init = 0, at_init = 0;
	const char *more[] = {"--warm-calls", calls, "--warm-ms", ms, NULL};
	pid_t pid;

	snprintf(calls, sizeof(calls), "%lld", o->warm_calls);
	snprintf(ms, sizeof(ms), "%lld", o->warm_ms);
	if ((rc = build_args(o, argv, "--serve", 1, more)) != 0)
		return rc;
	rc = -TG_E_INTERNAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(st, O_CLOEXEC) != 0 || pipe2(ev, O_CLOEXEC) != 0 ||
	    lift(&sv[0]) || lift(&sv[1]) || lift(&st[0]) || lift(&st[1]) ||
	    lift(&ev[0]) || lift(&ev[1]))
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	fa_init = 1;
	/* fd 2 stays the worker's: the helper's warnings reach its log */
	if (spawn_fds(&fa, sv[1], -1, st[1], ev[1]) != 0 ||
	    posix_spawnattr_init(&at) != 0)
		goto out;
	at_init = 1;
	if (spawn_attrs(&at) != 0)
		goto out;
	if (posix_spawn(&pid, helper, &fa, &at, (char *const *)argv, envp) != 0) {
		rc = -TG_E_UNAVAIL;
		goto out;
	}
	W.owner = getpid();
	W.pid = pid;
	W.pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	W.req = sv[0];
	W.st = st[0];
	W.ev = ev[0];
	sv[0] = st[0] = ev[0] = -1;
	fcntl(W.req, F_SETFL, O_NONBLOCK);
	fcntl(W.st, F_SETFL, O_NONBLOCK);
	fcntl(W.ev, F_SETFL, O_NONBLOCK);
	snprintf(W.key, sizeof(W.key), "%s", key);
	W.bin = *bin;
	rc = 0;
out:
	spawn_done(fa_init ? &fa : NULL, at_init ? &at : NULL);
	close_pair(sv);
	close_pair(st);
	close_pair(ev);
	return rc;
}

/* A helper of the right shape, running: 0, or -TG_E_*. */
static int
warm_ensure(const struct tg_sandbox_opts *o)
{
	char key[WARM_KEY_MAX];
	struct stat bin;
	const char *helper = o->helper_path ? o->helper_path :
	    TG_SANDBOX_HELPER_DEFAULT;

	if (W.owner != getpid())
		tg_sandbox_warm_stop();
	if (warm_key(o, key, sizeof(key)) != 0)
		return -TG_E_BADREQ;
	if (stat(helper, &bin) != 0) {
		tg_sandbox_warm_stop();
		return -TG_E_UNAVAIL;
	}
	if (W.pid > 0 && (!warm_alive() || strcmp(key, W.key) != 0 ||
	    bin.st_dev != W.bin.st_dev || bin.st_ino != W.bin.st_ino ||
	    bin.st_mtim.tv_sec != W.bin.st_mtim.tv_sec ||
	    bin.st_mtim.tv_nsec != W.bin.st_mtim.tv_nsec))
		tg_sandbox_warm_stop();	/* dead, or shaped otherwise */
	if (W.pid > 0)
		return 0;
	return warm_spawn(o, key, &bin);
}

int
tg_sandbox_warm_start(const struct tg_sandbox_opts *o)
{
	if (o == NULL || !o->warm)
		return 0;
	/* only a process that asked for it keeps a warm helper: a CGI
	 * process serves one request and would only pay for the start */
	W.enabled = getpid();
	return warm_ensure(o);
}

/*
 * One call through the long-lived helper. Returns 0 with the status frame
 * in status and its exit byte in *code, WARM_AGAIN when the helper was
 * gone before it read the request (nothing ran: the caller may retry), or
 * -TG_E_*.
 */
static int
warm_call(const struct tg_sandbox_opts *o, const char *req, size_t req_len,
    long long deadline_ms, struct rbuf *status, int *code, int *cancelled)
{
	unsigned char hdr[6];
	uint32_t len32 = (uint32_t)req_len, want = 0;
	size_t off = 0, total = req_len + sizeof(hdr);
	long long deadline = now_ms() + deadline_ms;
	int cfd = o->cancel_fd > 0 ? o->cancel_fd : -1, cx = 0, sent_k = 0;
	int rc;
	struct rbuf evb = {NULL, 0, 0, EVENT_LINE_MAX + 16384};

	if ((rc = warm_ensure(o)) != 0) {
		set_diag(o, "sandbox: cannot start the warm helper", strerror(errno));
		return rc;
	}
	/* events left from a call whose reader stopped early */
	while (rbuf_read(W.ev, &evb) == 0 && evb.len > 0)
		evb.len = 0;
	evb.len = 0;
	PHASE(o, "spawn");
	hdr[0] = 'Q';
	hdr[1] = o->warm == 2 ? 1 : 0;
	memcpy(hdr + 2, &len32, 4);
	while (off < total) {
		struct pollfd p[2] = {{.fd = W.req, .events = POLLOUT},
			{.fd = W.pidfd, .events = POLLIN}};
		struct iovec iov[2];
		struct msghdr mh;
		ssize_t w;
		long long left = deadline - now_ms();

		if (left <= 0 || poll(p, 2, (int)left) <= 0 ||
		    (p[1].revents & POLLIN)) {
			tg_sandbox_warm_stop();
			free(evb.p);
			return left <= 0 ? -TG_E_TIMEOUT : WARM_AGAIN;
		}
		memset(&mh, 0, sizeof(mh));
		if (off < sizeof(hdr)) {
			iov[0].iov_base = hdr + off;
			iov[0].iov_len = sizeof(hdr) - off;
			iov[1].iov_base = (void *)req;
			iov[1].iov_len = req_len;
			mh.msg_iovlen = 2;
		} else {
			iov[0].iov_base = (void *)(req + off - sizeof(hdr));
			iov[0].iov_len = total - off;
			mh.msg_iovlen = 1;
		}
		mh.msg_iov = iov;
		w = sendmsg(W.req, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0) {	/* gone before it read the whole request */
			tg_sandbox_warm_stop();
			free(evb.p);
			return WARM_AGAIN;
		}
		off += (size_t)w;
	}
	PHASE(o, "setup");
	for (;;) {
		struct pollfd p[4];
		int n = 0, i_st, i_ev, i_cx = -1, i_pid;
		long long left = deadline - now_ms();

		if (left <= 0) {
			set_diag(o, "sandbox: the helper overran its deadline "
			    "and was killed", NULL);
			tg_sandbox_warm_stop();
			rc = -TG_E_TIMEOUT;
			break;
		}
		p[n].fd = W.st;
		p[n].events = POLLIN;
		i_st = n++;
		p[n].fd = W.ev;
		p[n].events = POLLIN;
		i_ev = n++;
		p[n].fd = W.pidfd;
		p[n].events = POLLIN;
		i_pid = n++;
		if (cfd >= 0 && !cx) {
			p[n].fd = cfd;
			p[n].events = POLLRDHUP;
			i_cx = n++;
		}
		if (poll(p, (nfds_t)n, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = -TG_E_INTERNAL;
			break;
		}
		if (p[i_ev].revents) {
			int r = rbuf_read(W.ev, &evb);

			if (o->on_event != NULL) {
				if (!cx && events_pass(o, &evb) != 0)
					cx = 1;
			} else
				evb.len = 0;
			(void)r;
		}
		if (i_cx >= 0 && (p[i_cx].revents & POLLNVAL))
			cfd = -1;
		else if (i_cx >= 0 && p[i_cx].revents)
			cx = 1;
		if (cx && !sent_k) {
			/* the client is gone: the helper stops the run */
			(void)send(W.req, "K", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			sent_k = 1;
		}
		if (p[i_st].revents) {
			int r = rbuf_read(W.st, status);

			if (r == -2) {
				rc = -TG_E_NOMEM;
				tg_sandbox_warm_stop();
				break;
			}
			if (status->len >= 5 && want == 0) {
				memcpy(&want, status->p, 4);
				want += 5;
			}
			if (want > 0 && status->len >= want) {
				*code = (unsigned char)status->p[4];
				memmove(status->p, status->p + 5, status->len - 5);
				status->len -= 5;
				status->p[status->len] = '\0';
				rc = 0;
				PHASE(o, "wait");
				break;
			}
			if (r < 0) {	/* EOF mid-frame: the helper died */
				set_diag(o, "sandbox: the warm helper died during"
				    " the call", NULL);
				tg_sandbox_warm_stop();
				rc = -TG_E_UNAVAIL;
				break;
			}
		}
		if ((p[i_pid].revents & POLLIN) && !p[i_st].revents) {
			set_diag(o, "sandbox: the warm helper died during the "
			    "call", NULL);
			tg_sandbox_warm_stop();
			rc = -TG_E_UNAVAIL;
			break;
		}
	}
	/* events written before the status are in the pipe already */
	if (rc == 0 && W.ev >= 0) {
		while (rbuf_read(W.ev, &evb) == 0 && evb.len > 0) {
			if (o->on_event != NULL && !cx)
				(void)events_pass(o, &evb);
			else
				evb.len = 0;
			if (evb.len > 0)
				break;
		}
	}
	*cancelled = cx;
	free(evb.p);
	return rc;
}

/* argv of the helper: mode (NULL for one run, "--probe", "--serve"), the
 * status fd 3, with events the events fd 4, the options of o, then more
 * (NULL-terminated, or NULL) and o's extra arguments. */
static int
build_args(const struct tg_sandbox_opts *o, const char **argv,
    const char *mode, int events, const char *const *more)
{
	int n = 0, i;

	argv[n++] = "toolgate-sandbox";
	if (mode != NULL)
		argv[n++] = mode;
	argv[n++] = "--status-fd";
	argv[n++] = "3";
	if (events) {
		argv[n++] = "--events-fd";
		argv[n++] = "4";
	}
	if (o->allow_degraded)
		argv[n++] = "--allow-degraded";
	if (o->python_path != NULL) {
		argv[n++] = "--python";
		argv[n++] = o->python_path;
	}
	for (i = 0; more != NULL && more[i] != NULL; i++)
		argv[n++] = more[i];	/* a few: far below MAX_ARGS */
	for (i = 0; o->extra_args != NULL && o->extra_args[i] != NULL; i++) {
		if (n >= MAX_ARGS - 1)
			return -TG_E_BADREQ;
		argv[n++] = o->extra_args[i];
	}
	argv[n] = NULL;
	return 0;
}

static long long
request_timeout(const json_t *request)
{
	json_t *lim = json_object_get(request, "limits");
	json_t *t = lim ? json_object_get(lim, "timeout_ms") : NULL;

	if (json_is_integer(t) && json_integer_value(t) > 0 &&
	    json_integer_value(t) <= 600000)
		return json_integer_value(t);
	return 30000;
}

int
tg_sandbox_run(const struct tg_sandbox_opts *o, const json_t *request,
    json_t **result_out)
{
	const char *argv[MAX_ARGS];
	struct rbuf status = {NULL, 0, 0, TG_SANDBOX_MAX_STATUS};
	struct rbuf diag = {NULL, 0, 0, DIAG_MAX};
	char *req = NULL;
	json_t *res = NULL;
	json_error_t je;
	int rc, ws = 0, code = -1, cancelled = 0;
	long long grace;

	if (o == NULL || request == NULL || result_out == NULL ||
	    !json_is_object(request))
		return -TG_E_BADREQ;
	if ((rc = build_args(o, argv, NULL, o->on_event != NULL, NULL)) != 0)
		return rc;
	req = json_dumps(request, JSON_COMPACT);
	if (req == NULL)
		return -TG_E_NOMEM;
	grace = o->grace_ms > 0 ? o->grace_ms : TG_SANDBOX_GRACE_MS_DEFAULT;
	/* reliability: every run holds a tool slot (lib/slots.h); a caller
	 * that already holds one (tools/call) does not take a second. */
	if (tg_slots_acquire() != TG_OK) {
		set_diag(o, "every tool slot is busy", NULL);
		free(req);
		return -TG_E_BUSY;
	}
	rc = WARM_AGAIN;
	if (o->warm && W.enabled == getpid()) {
		/* a helper that was gone before it read the request ran
		 * nothing: one retry with a fresh one, then cold */
		rc = warm_call(o, req, strlen(req), request_timeout(request) +
		    grace, &status, &code, &cancelled);
		if (rc == WARM_AGAIN)
			rc = warm_call(o, req, strlen(req),
			    request_timeout(request) + grace, &status, &code,
			    &cancelled);
		if (rc == WARM_AGAIN && o->warm == 2) {
			set_diag(o, "sandbox: the warm helper cannot start", NULL);
			rc = -TG_E_UNAVAIL;
		}
	}
	if (rc == WARM_AGAIN) {
		rc = exec_helper(o, argv, req, strlen(req),
		    request_timeout(request) + grace, &status, &diag, &ws, 1,
		    &cancelled);
		code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	}
	tg_slots_release();
	if (rc != 0)
		goto out;
	if (cancelled) {
		*result_out = json_pack("{s:b, s:b, s:{s:s, s:s, s:n}, s:n, s:s, s:s}",
		    "ok", 0, "cancelled", 1, "error", "type", "Cancelled",
		    "message", "the client went away; the run was stopped",
		    "traceback", "result", "stdout", "", "stderr", "");
		rc = *result_out ? 0 : -TG_E_NOMEM;
		goto out;
	}
	if (status.len > 0)
		res = json_loadb(status.p, status.len, JSON_ALLOW_NUL, &je);
	if (code == 0 && json_is_object(res)) {
		*result_out = res;
		res = NULL;
		rc = 0;
		goto out;
	}
	{
		json_t *e = res ? json_object_get(res, "error") : NULL;
		const char *m = e ? json_string_value(json_object_get(e,
		    "message")) : NULL;
		const char *t = e ? json_string_value(json_object_get(e,
		    "type")) : NULL;

		if (m == NULL)
			m = diag.len ? diag.p : "the helper gave no status";
		switch (code) {
		case 2:
			rc = t && strcmp(t, "TooLarge") == 0 ? -TG_E_TOOLARGE :
			    -TG_E_BADREQ;
			break;
		case 3:
		case 4:
			rc = -TG_E_UNAVAIL;
			break;
		default:
			rc = -TG_E_INTERNAL;
			break;
		}
		if (code < 0 && WIFSIGNALED(ws)) {
			char sig[64];

			snprintf(sig, sizeof sig, "helper killed by signal %d",
			    WTERMSIG(ws));
			set_diag(o, "sandbox", sig);
		} else
			set_diag(o, "sandbox", m);
	}
out:
	json_decref(res);
	if (req)	/* security: the request text held the secrets */
		explicit_bzero(req, strlen(req));
	free(req);
	free(status.p);
	free(diag.p);
	return rc;
}

int
tg_sandbox_probe(const struct tg_sandbox_opts *o,
    enum tg_sandbox_isolation *level, json_t **details_out)
{
	const char *argv[MAX_ARGS];
	struct rbuf status = {NULL, 0, 0, 65536};
	struct rbuf diag = {NULL, 0, 0, DIAG_MAX};
	json_t *res = NULL;
	const char *iso;
	int rc, ws = 0;

	if (o == NULL || level == NULL)
		return -TG_E_BADREQ;
	if ((rc = build_args(o, argv, "--probe", 0, NULL)) != 0)
		return rc;
	rc = exec_helper(o, argv, NULL, 0, 10000, &status, &diag, &ws, 0, NULL);
	if (rc != 0)
		goto out;
	res = status.len ? json_loadb(status.p, status.len, 0, NULL) : NULL;
	iso = res ? json_string_value(json_object_get(res, "isolation")) : NULL;
	if (iso == NULL) {
		set_diag(o, "sandbox probe failed", diag.len ? diag.p : NULL);
		rc = -TG_E_UNAVAIL;
		goto out;
	}
	if (strcmp(iso, "full") == 0)
		*level = TG_SANDBOX_FULL;
	else if (strcmp(iso, "degraded") == 0)
		*level = TG_SANDBOX_DEGRADED;
	else
		*level = TG_SANDBOX_UNAVAILABLE;
	if (details_out != NULL) {
		*details_out = res;
		res = NULL;
	}
	rc = 0;
out:
	json_decref(res);
	free(status.p);
	free(diag.p);
	return rc;
}

const char *
tg_sandbox_isolation_name(enum tg_sandbox_isolation level)
{
	switch (level) {
	case TG_SANDBOX_FULL:
		return "full";
	case TG_SANDBOX_DEGRADED:
		return "degraded";
	default:
		return "unavailable";
	}
}
