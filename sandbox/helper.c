/*
 * helper.c - toolgate-sandbox: run one tool call in fresh OS isolation.
 *
 *   toolgate-sandbox --status-fd N [--events-fd M] [--allow-degraded]
 *                    [--python PATH] < request.json
 *   toolgate-sandbox --probe [--status-fd N] [--allow-degraded]
 *   toolgate-sandbox --dump-seccomp [--degraded]
 *
 * Started by a worker with posix_spawn, an explicit minimal environment and
 * only its pipes open (lib/sandbox_client.c). Reads one JSON request on
 * stdin, writes one JSON status document on the status fd; the tool's own
 * stdout and stderr come back as bounded heads inside that document, so
 * tool output never mixes with the status. With --events-fd, the tool's
 * progress and log events (toolgate.progress / toolgate.log) are passed
 * on as they happen, one JSON object per line (see pass_events()). The contract is in
 * docs/sandbox.md.
 *
 * Parent side (this file): refuse uid 0; close stray fds; read and validate
 * the request; with allowed hosts, fork the egress proxy (proxy.c); clone3
 * into new user/pid/mount/net/ipc/uts/cgroup namespaces with a pidfd; write
 * the single-id uid/gid maps; then monitor: feed the runner its job, keep
 * the heads of stdout/stderr (discarding beyond the cap; a flood far beyond
 * it kills the run), sample the sandbox's aggregate RSS through its own
 * /proc, and SIGKILL pid 1 through the pidfd on deadline, flood or memory
 * overrun - which tears down the whole pid namespace. The child side is in
 * child.c.
 *
 * Without user namespaces the helper refuses, unless degraded mode is
 * enabled (--allow-degraded or "allow_degraded": true in the request).
 *
 * Test hooks (--egress-test-allow HOST:PORT, --test-ready-first,
 * --test-child-delay-ms MS) exist only when built with
 * -DTG_SANDBOX_TEST_HOOKS: build/tests/toolgate-sandbox-test, which
 * tests/sandbox uses for exactly the cases that need them. The production
 * build/toolgate-sandbox has no such code and refuses them as unknown
 * options (docs/sandbox.md "Test hooks").
 *
 * Exit status: 0 the tool ran (its outcome is in the status document),
 * 1 usage (an unknown option among them) or internal error, 2 bad
 * request, 3 sandbox unavailable (root, no namespaces and degraded mode
 * not enabled), 4 sandbox setup failed.
 */
#include "sandbox/sbx.h"
#include "lib/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_RAN		0
#define EX_USAGE	1
#define EX_BADREQ	2
#define EX_UNAVAIL	3
#define EX_SETUP	4

#define SAMPLE_MS	20

struct sbx_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
	    stack_size, tls, set_tid, set_tid_size, cgroup;
};

struct cfg {
	int status_fd;
	int events_fd;		/* --events-fd: tool events as JSON lines, or -1 */
	int allow_degraded;
	int force_degraded;	/* tests: behave as if userns were missing */
	int no_mount;		/* tests: namespaces but no mount layer */
	int probe;
	int dump_seccomp;
	int dump_degraded;
	const char *python;
	int serve;		/* --serve: warm sandboxes, one call at a time */
	int zygote;		/* --zygote: the zygote itself (zygote.c) */
	long long warm_calls;	/* --warm-calls: recycle the zygote after N */
	long long warm_ms;	/* --warm-ms: ... or after this long */
#ifdef TG_SANDBOX_TEST_HOOKS
	const char *egress_test_allow;	/* proxy.c admits this loopback
					 * HOST:PORT */
	int test_ready_first;	/* the zygote's children report ready
				 * before the zygote names them (zygote.c) */
	int test_child_delay_ms;	/* a cold child waits this long
					 * before its PR_SET_PDEATHSIG */
#endif
};

/* A test hook's value: the option's in the test build, none in production
 * (the production binary has neither the options nor the code they
 * drive). */
#ifdef TG_SANDBOX_TEST_HOOKS
#define TEST_HOOK(c, field, none) ((c)->field)
#else
#define TEST_HOOK(c, field, none) ((void)(c), (none))
#endif

struct sbuf {
	char *p;
	size_t len, cap, max;
	unsigned long long dropped;
	int eof;
};

struct run {
	struct sbx_limits lim;
	enum sbx_mode mode;
	json_t *req;
	json_t *hosts;		/* borrowed from req */
	const char *packages;	/* borrowed from req: package tree, or NULL */
	char *job;
	size_t job_len, job_off;
	int allow_degraded;
	int degraded;
	int sample;		/* aggregate-RSS watchdog on (needs own /proc) */
	/* warm: called once ahead_ms into the run if pid 1 is still
	 * running then (the next call's child, helper.c run_warm) */
	void (*ahead)(void *);
	void *ahead_arg;
	long long ahead_ms;
	struct sbuf out, err, res, errp;
	int ev_fd;		/* where tool events go (-1: dropped) */
	unsigned long events, events_dropped;
	int timed_out, flood, mem_over, res_over;
	int wstatus, reaped;
	struct rusage ru;
	long long start_ms, wall_ms, peak_kb;
	char scratch[PATH_MAX];
	int warm;		/* ran in a warm child (sandbox: "warm") */
	int cancel_fd;		/* --serve: the worker's socket ('K' = cancel) */
	int cancelled;		/* the worker cancelled or went away */
	/* one-shot: the status pipe, watched for its reader going away
	 * (the worker died, whether or not PDEATHSIG reached us) */
	int parent_fd;
};

/* --serve: status documents are kept here and sent as one frame */
static int g_serve;
static char *g_status;

long long
sbx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#ifdef SBX_TIMING
void
sbx_mark(const char *name)
{
	struct timespec ts;
	char buf[128];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(buf, sizeof buf, "sbx-mark %lld %s\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, name);
	if (n > 0 && (size_t)n < sizeof buf)
		(void)!write(2, buf, (size_t)n);
}
#endif

static void
warnx_(const char *msg, const char *detail)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "toolgate-sandbox: %s%s%s\n", msg,
	    detail ? ": " : "", detail ? detail : "");

	if (n > 0)
		(void)!write(2, buf, (size_t)n >= sizeof buf ? sizeof buf - 1 :
		    (size_t)n);
}

/* ---- bounded buffers ---------------------------------------------------- */

static int
sbuf_add(struct sbuf *b, const char *d, size_t n)
{
	size_t room, take;

	room = b->max > b->len ? b->max - b->len : 0;
	take = n < room ? n : room;
	if (take > 0) {
		if (b->len + take > b->cap) {
			size_t nc = b->cap ? b->cap : 4096;
			char *np;

			while (nc < b->len + take)
				nc *= 2;
			if (nc > b->max)
				nc = b->max;
			np = realloc(b->p, nc);
			if (np == NULL)
				return -ENOMEM;
			b->p = np;
			b->cap = nc;
		}
		memcpy(b->p + b->len, d, take);
		b->len += take;
	}
	b->dropped += n - take;
	return 0;
}

/* Valid UTF-8 JSON string from arbitrary bytes: invalid sequences and NUL
 * become U+FFFD. */
static json_t *
text_json(const char *s, size_t n)
{
	char *o;
	size_t i = 0, j = 0, len;
	json_t *v;

	o = malloc(n * 3 + 1);
	if (o == NULL)
		return NULL;
	while (i < n) {
		len = s[i] != '\0' ?
		    tg_utf8_seq((const unsigned char *)s + i, n - i) : 0;
		if (len == 0) {
			o[j++] = (char)0xef;
			o[j++] = (char)0xbf;
			o[j++] = (char)0xbd;
			i++;
			continue;
		}
		memcpy(o + j, s + i, len);
		j += len;
		i += len;
	}
	v = json_stringn(o, j);
	free(o);
	return v;
}

/* ---- status document ---------------------------------------------------- */

static void
emit(const struct cfg *c, json_t *st)
{
	char *s;

	if (st == NULL)
		return;
	s = json_dumps(st, JSON_COMPACT);
	if (s != NULL && g_serve) {
		free(g_status);
		g_status = s;
		s = NULL;
	}
	if (s != NULL) {
		if (c->status_fd < 0 || sbx_write_all(c->status_fd, s, strlen(s)) != 0)
			warnx_("cannot write the status document", NULL);
		free(s);
	}
	json_decref(st);
}

static int
fail_doc(const struct cfg *c, int ex, const char *type, const char *msg,
    const char *isolation)
{
	if (ex != EX_RAN)
		warnx_(type, msg);
	emit(c, json_pack("{s:b, s:{s:s, s:s, s:n}, s:s}", "ok", 0, "error",
	    "type", type, "message", msg, "traceback", "isolation", isolation));
	return ex;
}

/* ---- request ------------------------------------------------------------ */

static int
read_request(char **out, size_t *outlen)
{
	size_t len = 0, cap = 65536;
	char *p = malloc(cap), *np;

	if (p == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap > SBX_MAX_REQUEST) {
				free(p);
				return -E2BIG;
			}
			cap *= 2;
			np = realloc(p, cap);
			if (np == NULL) {
				free(p);
				return -ENOMEM;
			}
			p = np;
		}
		r = read(0, p + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > SBX_MAX_REQUEST) {
		free(p);
		return -E2BIG;
	}
	*out = p;
	*outlen = len;
	return 0;
}

static int
range(json_t *lim, const char *key, long long lo, long long hi, long long def,
    long long *out, char *msg, size_t msglen)
{
	json_t *v = lim ? json_object_get(lim, key) : NULL;
	long long x;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v)) {
		snprintf(msg, msglen, "limits.%s must be an integer", key);
		return -1;
	}
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		snprintf(msg, msglen, "limits.%s must be within %lld..%lld", key,
		    lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int
valid_ident(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
strings_only(json_t *v, int object)
{
	const char *k;
	json_t *x;
	size_t i;

	if (object) {
		json_object_foreach(v, k, x)
			if (!json_is_string(x))
				return 0;
	} else {
		json_array_foreach(v, i, x)
			if (!json_is_string(x) || json_string_length(x) == 0 ||
			    json_string_length(x) > 253)
				return 0;
	}
	return 1;
}

/* Parse and check the request; on failure msg says why. */
static int
parse_request(struct run *r, const char *buf, size_t len, char *msg,
    size_t msglen)
{
	json_error_t je;
	const char *mode = NULL, *code = NULL, *entry = "main";
	size_t code_len = 0;
	json_t *args = NULL, *secrets = NULL, *mods = NULL, *hosts = NULL;
	json_t *lim = NULL, *job = NULL, *pe = NULL;
	int ad = 0;

	r->req = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (r->req == NULL) {
		snprintf(msg, msglen, "request is not valid JSON: %s (at %d)",
		    je.text, je.position);
		return -1;
	}
	if (json_unpack_ex(r->req, &je, JSON_STRICT,
	    "{s:s, s:s%, s?s, s?o, s?o, s?o, s?o, s?o, s?b, s?s, s?o}", "mode",
	    &mode, "code", &code, &code_len, "entry", &entry, "arguments", &args,
	    "secrets", &secrets, "allowed_modules", &mods, "allowed_hosts",
	    &hosts, "limits", &lim, "allow_degraded", &ad, "packages",
	    &r->packages, "package_egress", &pe) != 0) {
		snprintf(msg, msglen, "bad request: %s", je.text);
		return -1;
	}
	if (strcmp(mode, "run") == 0)
		r->mode = SBX_MODE_RUN;
	else if (strcmp(mode, "validate") == 0)
		r->mode = SBX_MODE_VALIDATE;
	else {
		snprintf(msg, msglen, "mode must be \"run\" or \"validate\"");
		return -1;
	}
	if (code_len > SBX_MAX_CODE) {
		snprintf(msg, msglen, "code is %zu bytes; the limit is %d",
		    code_len, SBX_MAX_CODE);
		return -2;
	}
	if (!valid_ident(entry)) {
		snprintf(msg, msglen, "entry must be a Python identifier");
		return -1;
	}
	if ((args && !json_is_object(args)) ||
	    (secrets && (!json_is_object(secrets) || !strings_only(secrets, 1))) ||
	    (mods && (!json_is_array(mods) || !strings_only(mods, 0))) ||
	    (hosts && (!json_is_array(hosts) || !strings_only(hosts, 0))) ||
	    (lim && !json_is_object(lim))) {
		snprintf(msg, msglen, "arguments must be an object, secrets an "
		    "object of strings, allowed_modules and allowed_hosts "
		    "arrays of non-empty strings, limits an object");
		return -1;
	}
	if (lim != NULL) {
		const char *k;
		json_t *x;
		static const char *const keys[] = {"timeout_ms", "memory_mb",
			"max_procs", "output_bytes", "tmp_mb", "result_bytes"};

		json_object_foreach(lim, k, x) {
			size_t i;
			int ok = 0;

			for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
				ok |= strcmp(k, keys[i]) == 0;
			if (!ok) {
				snprintf(msg, msglen, "unknown limit \"%.64s\"", k);
				return -1;
			}
		}
	}
	if (range(lim, "timeout_ms", 100, 600000, SBX_DEF_TIMEOUT_MS,
	    &r->lim.timeout_ms, msg, msglen) ||
	    range(lim, "memory_mb", 32, 65536, SBX_DEF_MEMORY_MB,
	    &r->lim.memory_mb, msg, msglen) ||
	    range(lim, "max_procs", 1, 4096, SBX_DEF_MAX_PROCS,
	    &r->lim.max_procs, msg, msglen) ||
	    range(lim, "output_bytes", 0, 64LL << 20, SBX_DEF_OUTPUT_BYTES,
	    &r->lim.output_bytes, msg, msglen) ||
	    range(lim, "tmp_mb", 1, 4096, SBX_DEF_TMP_MB, &r->lim.tmp_mb, msg,
	    msglen) ||
	    range(lim, "result_bytes", 1024, 64LL << 20, SBX_DEF_RESULT_BYTES,
	    &r->lim.result_bytes, msg, msglen))
		return -1;
	if (r->packages != NULL && sbx_packages_check(r->packages, msg, msglen))
		return -1;
	if (pe != NULL && sbx_pkg_egress_check(pe, msg, msglen))
		return -1;
	r->hosts = hosts;
	r->allow_degraded = ad;
	job = json_pack("{s:s, s:s%, s:s, s:O?, s:O?, s:O?, s:b, s:b}", "mode",
	    mode, "code", code, code_len, "entry", entry, "arguments", args,
	    "secrets", secrets, "allowed_modules", mods, "egress",
	    hosts != NULL && json_array_size(hosts) > 0, "packages",
	    r->packages != NULL);
	if (job == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -3;
	}
	r->job = json_dumps(job, JSON_COMPACT);
	json_decref(job);
	if (r->job == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -3;
	}
	r->job_len = strlen(r->job);
	return 0;
}

/* ---- clone, maps -------------------------------------------------------- */

static int
write_proc(int dfd, const char *file, const char *data)
{
	int fd, rc;

	fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = sbx_write_all(fd, data, strlen(data));
	close(fd);
	return rc;
}

static int
write_maps(pid_t pid)
{
	char m[64];
	int rc, n, dfd;

	n = snprintf(m, sizeof m, "/proc/%d", (int)pid);
	if (n < 0 || (size_t)n >= sizeof m)
		return -ENAMETOOLONG;
	dfd = open(m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if ((rc = write_proc(dfd, "setgroups", "deny")) != 0)
		goto out;
	n = snprintf(m, sizeof m, "%d %u 1\n", SBX_INNER_ID, (unsigned)getuid());
	if (n < 0 || (size_t)n >= sizeof m) {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = write_proc(dfd, "uid_map", m)) != 0)
		goto out;
	n = snprintf(m, sizeof m, "%d %u 1\n", SBX_INNER_ID, (unsigned)getgid());
	if (n < 0 || (size_t)n >= sizeof m) {
		rc = -EINVAL;
		goto out;
	}
	rc = write_proc(dfd, "gid_map", m);
out:
	close(dfd);
	return rc;
}

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | \
	CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* fork into new namespaces; returns pid (0 in the child) or -errno */
static pid_t
ns_clone(int *pidfd)
{
	struct sbx_clone_args ca;
	long r;

	memset(&ca, 0, sizeof ca);
	ca.flags = NS_FLAGS | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	ca.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r < 0 && errno == ENOSYS)
		r = syscall(SYS_clone, (unsigned long)(NS_FLAGS | CLONE_PIDFD |
		    SIGCHLD), NULL, pidfd, NULL, 0UL);
	if (r < 0)
		return -errno;
	return (pid_t)r;
}

static int
userns_errno(int e)
{
	return e == EPERM || e == EINVAL || e == ENOSPC || e == EUSERS ||
	    e == EACCES || e == ENOSYS;
}

/* ---- degraded-mode scratch directory ------------------------------------ */

static int
rm_tree_at(int dfd, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if (depth > 64)
		return -ELOOP;
	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			continue;
		if (errno == EISDIR || errno == EPERM) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				(void)rm_tree_at(sub, depth + 1);
				close(sub);
			}
			(void)unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
	return 0;
}

static void
rm_scratch(const char *path)
{
	int fd;

	if (path[0] == '\0')
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)fchmod(fd, 0700);
		(void)rm_tree_at(fd, 0);
		close(fd);
	}
	(void)rmdir(path);
}

static int
make_scratch(struct run *r)
{
	int n, dfd = -1, rc = 0;

	n = snprintf(r->scratch, sizeof r->scratch, "/tmp/toolgate-sbx-XXXXXX");
	if (n < 0 || (size_t)n >= sizeof r->scratch)
		return -ENAMETOOLONG;
	if (mkdtemp(r->scratch) == NULL) {
		r->scratch[0] = '\0';
		return -errno;
	}
	dfd = open(r->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	{
		struct {
			const char *name, *start, *end;
		} f[] = {
			{"runner.py", tg_sbx_runner_py, tg_sbx_runner_py_end},
			{"runner.pyc", tg_sbx_runner_pyc, tg_sbx_runner_pyc_end},
			{"validate.py", tg_sbx_validate_py, tg_sbx_validate_py_end},
		};
		size_t i;

		for (i = 0; i < sizeof f / sizeof f[0] && rc == 0; i++) {
			int fd = openat(dfd, f[i].name, O_WRONLY | O_CREAT |
			    O_EXCL | O_CLOEXEC, 0400);

			if (fd < 0) {
				rc = -errno;
				break;
			}
			rc = sbx_write_all(fd, f[i].start, (size_t)(f[i].end -
			    f[i].start));
			close(fd);
		}
	}
	close(dfd);
	return rc;
}

/* The first bytes of the small file path (relative to dirfd; flags such as
 * O_NOFOLLOW added to the open) as a string in buf: 0, or -1 when it cannot
 * be opened or read or is empty. */
static int
read_text(int dirfd, const char *path, int flags, char *buf, size_t cap)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Kill and reap every descendant (we are a child subreaper in degraded mode,
 * so orphans, even ones that called setsid, come back to us). */
static void
sweep_children(void)
{
	int iter;

	for (iter = 0; iter < 200; iter++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		int found = 0;

		if (d == NULL)
			return;
		while ((de = readdir(d)) != NULL) {
			char path[64], buf[512], *p;
			int n;
			long ppid;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			n = snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
			if (n < 0 || (size_t)n >= sizeof path ||
			    read_text(AT_FDCWD, path, 0, buf, sizeof buf) != 0)
				continue;
			p = strrchr(buf, ')');
			if (p == NULL || sscanf(p, ") %*c %ld", &ppid) != 1)
				continue;
			if (ppid == (long)getpid()) {
				kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL);
				found = 1;
			}
		}
		closedir(d);
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			found = 1;
		if (!found)
			return;
		usleep(2000);
	}
}

/* ---- monitor ------------------------------------------------------------ */

/* Sum of resident memory of every process of the sandbox, in KiB, read from
 * the sandbox's own /proc (which lists exactly its pid namespace). */
static long long
sample_rss(int procfd)
{
	DIR *d;
	struct dirent *de;
	long long sum = 0;
	int fd;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;

	fd = dup(procfd);
	if (fd < 0)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char path[64], buf[128];
		long long size, rss;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (snprintf(path, sizeof path, "%s/statm", de->d_name) >=
		    (int)sizeof path ||
		    read_text(procfd, path, O_NOFOLLOW, buf, sizeof buf) != 0)
			continue;
		if (sscanf(buf, "%lld %lld", &size, &rss) == 2)
			sum += rss * page_kb;
	}
	closedir(d);
	return sum;
}

/*
 * Kills the run's process (and, degraded, its group). Never with a pid of
 * 1 or less: kill(0) or kill(-1) would hit the helper's own group or every
 * process of the uid (a run without a known pid has nothing to signal but
 * its pidfd).
 */
static void
kill_run(struct run *r, pid_t pid, int pidfd)
{
	if (r->degraded && pid > 1)
		kill(-pid, SIGKILL);
	if ((pidfd < 0 ||
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0U) != 0) &&
	    pid > 1)
		kill(pid, SIGKILL);
}

static int
drain(int fd, struct sbuf *b)
{
	char chunk[65536];
	ssize_t n;

	n = read(fd, chunk, sizeof chunk);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0) {
		b->eof = 1;
		return -1;
	}
	if (sbuf_add(b, chunk, (size_t)n) != 0)
		return -1;
	return 0;
}

/*
 * Tool events (toolgate.log / toolgate.progress in runner.py) arrive on
 * the result channel ahead of the result, each as RS (0x1e) + one JSON
 * line; the result itself never starts with RS. Complete event lines
 * leave the result buffer here: forwarded to the events fd (non-blocking;
 * lines up to PIPE_BUF, so a write is all or nothing; dropped when the
 * reader lags or past SBX_MAX_EVENTS), or dropped without one.
 */
#define SBX_MAX_EVENTS	10000

static void
pass_events(struct run *r)
{
	struct sbuf *b = &r->res;
	size_t off = 0;

	while (off < b->len && b->p[off] == '\x1e') {
		char *nl = memchr(b->p + off, '\n', b->len - off);
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (b->p + off)) + 1;	/* RS .. NL */
		if (r->ev_fd >= 0 && n > 2 && n - 1 <= PIPE_BUF &&
		    r->events < SBX_MAX_EVENTS) {
			ssize_t w = write(r->ev_fd, b->p + off + 1, n - 1);

			if (w != (ssize_t)(n - 1))
				r->events_dropped++;
		} else
			r->events_dropped++;
		r->events++;
		off += n;
	}
	if (off > 0) {
		memmove(b->p, b->p + off, b->len - off);
		b->len -= off;
	}
}

static void
monitor(struct run *r, pid_t pid, int pidfd, int job_w, int out_r, int err_r,
    int res_r, int errp_r)
{
	long long deadline = r->start_ms + r->lim.timeout_ms;
	long long flood_cap, next_sample = r->start_ms + SAMPLE_MS;
	int fds[5] = {out_r, err_r, res_r, errp_r, job_w};
	struct sbuf *bufs[4] = {&r->out, &r->err, &r->res, &r->errp};
	int exited = 0, killed = 0, procfd = -1, i;
	long long exit_ms = 0;
	char pbuf[64];

	flood_cap = r->lim.output_bytes * 16;
	if (flood_cap < (1LL << 20))
		flood_cap = 1LL << 20;
	for (i = 0; i < 5; i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[9];
		int np = 0, idx[9], timeout;
		long long now = sbx_now_ms();

		if (r->ahead != NULL && exited)
			r->ahead = NULL;	/* over in time: not needed */
		if (r->ahead != NULL && now >= r->ahead_ms) {
			r->ahead(r->ahead_arg);
			r->ahead = NULL;
			continue;	/* it took time: look at the clock again */
		}
		if (!killed && now >= deadline) {
			r->timed_out = 1;
			kill_run(r, pid, pidfd);
			killed = 1;
		}
		if (!killed && r->sample && !exited && r->errp.eof &&
		    now >= next_sample) {
			long long kb;

			if (procfd < 0 && snprintf(pbuf, sizeof pbuf,
			    "/proc/%d/root/proc", (int)pid) < (int)sizeof pbuf)
				procfd = open(pbuf, O_RDONLY | O_DIRECTORY |
				    O_CLOEXEC);
			kb = procfd >= 0 ? sample_rss(procfd) : -1;
			if (kb > r->peak_kb)
				r->peak_kb = kb;
			if (kb > r->lim.memory_mb * 1024) {
				r->mem_over = 1;
				kill_run(r, pid, pidfd);
				killed = 1;
			}
			next_sample = now + SAMPLE_MS;
		}
		for (i = 0; i < 4; i++)
			if (fds[i] >= 0) {
				p[np].fd = fds[i];
				p[np].events = POLLIN;
				idx[np++] = i;
			}
		if (fds[4] >= 0) {
			p[np].fd = fds[4];
			p[np].events = POLLOUT;
			idx[np++] = 4;
		}
		if (!exited) {
			p[np].fd = pidfd;
			p[np].events = POLLIN;
			idx[np++] = 5;
		}
		if (np == 0)
			break;
		if (r->cancel_fd >= 0 && !killed) {
			p[np].fd = r->cancel_fd;
			p[np].events = POLLIN;
			idx[np++] = 6;
		}
		if (r->parent_fd >= 0 && !killed) {
			/* POLLERR: the pipe has no reader any more */
			p[np].fd = r->parent_fd;
			p[np].events = 0;
			idx[np++] = 7;
		}
		if (exited) {
			/* every writer is gone once pid 1 is; a straggler
			 * holding a pipe (degraded mode) gets 1 s */
			if (now - exit_ms > 1000)
				break;
			timeout = (int)(exit_ms + 1000 - now);
		} else {
			timeout = (int)(deadline - now);
			if (!killed && r->sample && r->errp.eof &&
			    timeout > SAMPLE_MS)
				timeout = SAMPLE_MS;
			if (killed)
				timeout = 1000;
			if (timeout < 0)
				timeout = 0;
		}
		if (r->ahead != NULL && timeout > r->ahead_ms - now)
			timeout = (int)(r->ahead_ms - now);
		if (poll(p, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < np; i++) {
			int k = idx[i];

			if (p[i].revents == 0)
				continue;
			if (k == 7) {
				/* nobody can read the status: the worker is
				 * gone, so is the reason to run */
				r->cancelled = 1;
				kill_run(r, pid, pidfd);
				killed = 1;
				continue;
			}
			if (k == 6) {
				/* --serve: 'K' (or the worker gone) cancels */
				char b = 0;
				ssize_t n = read(r->cancel_fd, &b, 1);

				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				r->cancelled = 1;
				kill_run(r, pid, pidfd);
				killed = 1;
				continue;
			}
			if (k == 5) {
				SBX_MARK("helper.exited");
				exited = 1;
				exit_ms = sbx_now_ms();
				r->wall_ms = exit_ms - r->start_ms;
				continue;
			}
			if (k == 4) {
				ssize_t w = write(job_w, r->job + r->job_off,
				    r->job_len - r->job_off);

				if (w > 0)
					r->job_off += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
				    r->job_off == r->job_len) {
					close(job_w);
					fds[4] = -1;
				}
				continue;
			}
			if (drain(fds[k], bufs[k]) != 0) {
				/* setup pipe at EOF: Python is starting. The
				 * first RSS sample comes one period later: at
				 * exec there is nothing to measure, and opening
				 * the sandbox's /proc costs ~0.5 ms of CPU that
				 * Python's start-up would compete with. */
				if (k == 3)
					next_sample = sbx_now_ms() + SAMPLE_MS;
#ifdef SBX_TIMING
				static const char *const eofs[] = {"helper.eof.out",
					"helper.eof.err", "helper.eof.result",
					"helper.eof.setup"};

				SBX_MARK(eofs[k]);
#endif
				close(fds[k]);
				fds[k] = -1;
			}
			if (k == 2)
				pass_events(r);
			if (killed)
				continue;
			if ((k == 0 || k == 1) &&
			    bufs[k]->dropped > (unsigned long long)flood_cap) {
				r->flood = 1;
				kill_run(r, pid, pidfd);
				killed = 1;
			} else if (k == 2 && bufs[k]->dropped > 0) {
				r->res_over = 1;
				kill_run(r, pid, pidfd);
				killed = 1;
			}
		}
	}
	for (i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (procfd >= 0)
		close(procfd);
	if (!exited)
		kill_run(r, pid, pidfd);
	/* a warm child is the zygote's: it reaps and reports (warm_reaped) */
	if (!r->warm && wait4(pid, &r->wstatus, __WALL, &r->ru) == pid)
		r->reaped = 1;
	SBX_MARK("helper.reaped");
	if (!exited)
		r->wall_ms = sbx_now_ms() - r->start_ms;
}

/* ---- result ------------------------------------------------------------- */

/* Observability: the read end of the running call's proxy report pipe
 * (SBX_EGRESS_REPORT_FD in the proxy, set up by start_proxy). */
static int egress_rep = -1;

/* The proxy's report lines of this call as an array (new reference), or
 * NULL when there were none; closes the pipe. */
static json_t *
egress_report(void)
{
	char buf[SBX_EGRESS_REPORT_MAX * 512 + 1], *p, *nl;
	json_t *a = NULL, *line;
	size_t len = 0;
	ssize_t n;

	if (egress_rep < 0)
		return NULL;
	while (len < sizeof buf - 1 &&
	    (n = read(egress_rep, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(egress_rep);
	egress_rep = -1;
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		line = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (json_is_object(line) && (a != NULL || (a = json_array()) != NULL) &&
		    json_array_size(a) < SBX_EGRESS_REPORT_MAX)
			json_array_append(a, line);
		json_decref(line);
	}
	return a;
}

static json_t *
compose(struct run *r)
{
	json_t *st = NULL, *doc = NULL, *err = NULL;
	const char *copy_run[] = {"ok", "result", "content", "error"};
	const char *copy_val[] = {"ok", "errors", "input_schema", "description",
		"error"};
	const char **keys;
	size_t nkeys, i;
	int exit_code = -1, sig = 0;
	long long cpu_ms;
	char msg[256];

	st = json_object();
	if (st == NULL)
		return NULL;
	if (r->reaped && WIFEXITED(r->wstatus))
		exit_code = WEXITSTATUS(r->wstatus);
	if (r->reaped && WIFSIGNALED(r->wstatus))
		sig = WTERMSIG(r->wstatus);
	if (r->res.len > 0 && !r->res_over)
		doc = json_loadb(r->res.p, r->res.len, JSON_ALLOW_NUL, NULL);
	if (doc != NULL && (!json_is_object(doc) ||
	    !json_is_boolean(json_object_get(doc, "ok")) || r->timed_out ||
	    r->mem_over)) {
		json_decref(doc);
		doc = NULL;
	}
	if (r->mode == SBX_MODE_VALIDATE) {
		keys = copy_val;
		nkeys = sizeof copy_val / sizeof copy_val[0];
	} else {
		keys = copy_run;
		nkeys = sizeof copy_run / sizeof copy_run[0];
	}
	if (doc != NULL) {
		for (i = 0; i < nkeys; i++) {
			json_t *v = json_object_get(doc, keys[i]);

			if (v != NULL)
				json_object_set(st, keys[i], v);
		}
	} else {
		const char *type;

		msg[0] = '\0';
		if (r->timed_out) {
			type = "Timeout";
			snprintf(msg, sizeof msg, "the tool exceeded its time limit "
			    "of %lld ms and was killed", r->lim.timeout_ms);
		} else if (r->mem_over) {
			type = "MemoryLimit";
			snprintf(msg, sizeof msg, "the tool exceeded its memory "
			    "limit of %lld MiB and was killed", r->lim.memory_mb);
		} else if (r->flood) {
			type = "OutputLimit";
			snprintf(msg, sizeof msg, "the tool kept writing far beyond "
			    "its output limit of %lld bytes and was killed",
			    r->lim.output_bytes);
		} else if (r->res_over) {
			type = "ResultTooLarge";
			snprintf(msg, sizeof msg, "the result is larger than %lld "
			    "bytes", r->lim.result_bytes);
		} else if (sig == SIGXCPU) {
			type = "CpuLimit";
			snprintf(msg, sizeof msg, "the tool used up its CPU time");
		} else if (sig != 0) {
			type = "Killed";
			snprintf(msg, sizeof msg, "the tool was killed by signal "
			    "%d (%s)", sig, strsignal(sig));
		} else {
			type = "Crash";
			snprintf(msg, sizeof msg, "the tool exited with status %d "
			    "without a result", exit_code);
		}
		json_object_set_new(st, "ok", json_false());
		if (r->mode == SBX_MODE_VALIDATE)
			json_object_set_new(st, "errors", json_array());
		err = json_pack("{s:s, s:s, s:n}", "type", type, "message", msg,
		    "traceback");
		if (err != NULL)
			json_object_set_new(st, "error", err);
	}
	json_decref(doc);
	if (r->mode == SBX_MODE_RUN && json_object_get(st, "result") == NULL)
		json_object_set_new(st, "result", json_null());
	json_object_set_new(st, "stdout", text_json(r->out.p ? r->out.p : "",
	    r->out.len));
	json_object_set_new(st, "stderr", text_json(r->err.p ? r->err.p : "",
	    r->err.len));
	cpu_ms = (long long)(r->ru.ru_utime.tv_sec + r->ru.ru_stime.tv_sec) *
	    1000 + (r->ru.ru_utime.tv_usec + r->ru.ru_stime.tv_usec) / 1000;
	if (r->ru.ru_maxrss > r->peak_kb)
		r->peak_kb = r->ru.ru_maxrss;
	json_object_set_new(st, "exit_code", json_integer(exit_code));
	json_object_set_new(st, "signal", json_integer(sig));
	json_object_set_new(st, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(st, "truncated", json_boolean(r->out.dropped > 0 ||
	    r->err.dropped > 0));
	json_object_set_new(st, "wall_ms", json_integer(r->wall_ms));
	json_object_set_new(st, "cpu_ms", json_integer(cpu_ms));
	json_object_set_new(st, "peak_rss_kb", json_integer(r->peak_kb));
	json_object_set_new(st, "isolation", json_string(r->degraded ?
	    "degraded" : "full"));
	json_object_set_new(st, "sandbox", json_string(r->warm ? "warm" :
	    "cold"));
	{	/* observability: the egress proxy's requests */
		json_t *eg = egress_report();

		if (eg != NULL)
			json_object_set_new(st, "egress", eg);
	}
	return st;
}

/* ---- main flow ---------------------------------------------------------- */

static int
recv_fd(int sock)
{
	char byte;
	int fd = -1, nfd;

	if (sbx_recv_fds(sock, &byte, 1, 0, &fd, 1, &nfd) != 0 || nfd != 1)
		return -1;
	return fd;
}

/* sp: the socketpair end the child sends the listener on, or with direct
 * (warm sandboxes) the connection to the child itself. */
static pid_t
start_proxy(struct run *r, const struct cfg *c, int sp, int direct)
{
	int rep[2] = {-1, -1};
	pid_t pid;

	if (egress_rep >= 0)
		close(egress_rep);
	egress_rep = -1;
	if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) != 0)
		rep[0] = rep[1] = -1;
	pid = fork();
	if (pid != 0) {
		if (rep[1] >= 0)
			close(rep[1]);
		if (pid > 0)
			egress_rep = rep[0];
		else if (rep[0] >= 0)
			close(rep[0]);
		return pid;
	}
	/* proxy process: outside the sandbox, same uid as the worker */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		_exit(1);
	if (dup2(sp, 3) != 3)
		_exit(1);
	if (rep[1] >= 0 && dup2(rep[1], SBX_EGRESS_REPORT_FD) != SBX_EGRESS_REPORT_FD)
		_exit(1);
	{	/* --serve: fd 0 is the worker's socket, not the proxy's */
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (nul < 0 || dup2(nul, 0) != 0 || dup2(nul, 1) != 1)
			_exit(1);
		close(nul);
	}
	syscall(SYS_close_range, rep[1] >= 0 ? 5U : 4U, ~0U, 0U);
	{
		int lfd = direct ? 3 : recv_fd(3);

		if (!direct)
			close(3);
		if (lfd < 0)
			_exit(0);	/* the sandbox never came up */
		/* the package installer's own runs (packages.c) */
		sbx_proxy_packages(json_object_get(r->req, "package_egress"));
		sbx_proxy_main(lfd, r->hosts, r->start_ms + r->lim.timeout_ms,
		    TEST_HOOK(c, egress_test_allow, NULL));
	}
}

static int
run_tool(struct run *r, const struct cfg *c)
{
	int job[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int res[2] = {-1, -1}, sync[2] = {-1, -1}, errp[2] = {-1, -1};
	int sp[2] = {-1, -1}, pidfd = -1, ex = EX_RAN, rc;
	pid_t pid = -1, proxy = -1;
	struct sbx_child ch;
	json_t *st;
	int egress = r->hosts != NULL && json_array_size(r->hosts) > 0;
	char msg[300];

	r->out.max = r->err.max = (size_t)r->lim.output_bytes;
	r->res.max = (size_t)r->lim.result_bytes;
	r->errp.max = 400;
	if (pipe2(job, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC) || pipe2(res, O_CLOEXEC) ||
	    pipe2(sync, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(errno),
		    "unavailable");
		goto out;
	}
	r->degraded = c->force_degraded;
	memset(&ch, 0, sizeof ch);
	ch.mode = r->mode;
	ch.lim = &r->lim;
	ch.python = c->python;
	ch.no_mount = c->no_mount;
	ch.job_r = job[0];
	ch.out_w = out[1];
	ch.err_w = err[1];
	ch.res_w = res[0] >= 0 ? res[1] : -1;
	ch.sync_r = sync[0];
	ch.sync_w = sync[1];
	ch.errp_r = errp[0];
	ch.test_delay_ms = TEST_HOOK(c, test_child_delay_ms, 0);
	ch.errp_w = errp[1];
	ch.egress_sp = -1;
	ch.packages = r->packages;
	r->start_ms = sbx_now_ms();
	if (r->packages != NULL && (c->no_mount || r->degraded)) {
		ex = fail_doc(c, EX_SETUP, "SandboxSetup", "a package set needs "
		    "the mount layer (not available in degraded mode)",
		    "unavailable");
		goto out;
	}

	if (c->no_mount && !r->degraded) {
		/* debug mode: no new root, so the runner lives in a scratch dir */
		if ((rc = make_scratch(r)) != 0) {
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(-rc),
			    "full");
			goto out;
		}
		ch.scratch = r->scratch;
	}
	if (!r->degraded) {
		if (egress) {
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
			    sp) != 0) {
				ex = fail_doc(c, EX_SETUP, "SandboxSetup",
				    strerror(errno), "unavailable");
				goto out;
			}
			proxy = start_proxy(r, c, sp[0], 0);
			close(sp[0]);
			sp[0] = -1;
			ch.egress_sp = sp[1];
		}
		SBX_MARK("helper.clone");
		pid = ns_clone(&pidfd);
		if (pid == 0)
			sbx_child_main(&ch);
		SBX_MARK("helper.cloned");
		if (pid < 0 && !userns_errno(-pid)) {
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(-pid),
			    "unavailable");
			goto out;
		}
		if (pid < 0) {
			snprintf(msg, sizeof msg, "cannot create user namespaces "
			    "(%s)", strerror(-pid));
			if (!(c->allow_degraded || r->allow_degraded)) {
				ex = fail_doc(c, EX_UNAVAIL, "SandboxUnavailable",
				    msg, "unavailable");
				goto out;
			}
			warnx_("running in degraded mode", msg);
			r->degraded = 1;
		}
	}
	if (r->degraded) {
		if (!(c->allow_degraded || r->allow_degraded)) {
			ex = fail_doc(c, EX_UNAVAIL, "SandboxUnavailable",
			    "degraded mode is not enabled", "unavailable");
			goto out;
		}
		if (sbx_landlock_abi() < 1) {
			ex = fail_doc(c, EX_UNAVAIL, "SandboxUnavailable",
			    "no user namespaces and no landlock: refusing to run "
			    "without filesystem isolation", "unavailable");
			goto out;
		}
		if ((rc = make_scratch(r)) != 0) {
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(-rc),
			    "degraded");
			goto out;
		}
		if (r->packages != NULL) {
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", "a package set "
			    "needs the mount layer (not available in degraded "
			    "mode)", "degraded");
			goto out;
		}
		ch.degraded = 1;
		ch.scratch = r->scratch;
		ch.egress_sp = -1;
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		pid = fork();
		if (pid == 0)
			sbx_child_main(&ch);
		if (pid < 0) {
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(errno),
			    "degraded");
			goto out;
		}
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
		if (pidfd < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(errno),
			    "degraded");
			goto out;
		}
	}
	/* parent: the id maps first, the child is waiting for them */
	if (!r->degraded && (rc = write_maps(pid)) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		ex = fail_doc(c, EX_SETUP, "SandboxSetup", "cannot write the "
		    "uid/gid maps", "full");
		goto out;
	}
	close(job[0]);
	close(out[1]);
	close(err[1]);
	close(res[1]);
	close(sync[0]);
	close(errp[1]);
	job[0] = out[1] = err[1] = res[1] = sync[0] = errp[1] = -1;
	if (sp[1] >= 0) {
		close(sp[1]);
		sp[1] = -1;
	}
	if (write(sync[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		ex = fail_doc(c, EX_SETUP, "SandboxSetup", strerror(errno),
		    r->degraded ? "degraded" : "full");
		goto out;
	}
	close(sync[1]);
	sync[1] = -1;
	SBX_MARK("helper.maps");
	r->sample = !r->degraded && !c->no_mount;
	monitor(r, pid, pidfd, job[1], out[0], err[0], res[0], errp[0]);
	job[1] = out[0] = err[0] = res[0] = errp[0] = -1;
	if (r->degraded)
		sweep_children();
	if (r->errp.len > 0) {
		char *m = strndup(r->errp.p, r->errp.len);

		ex = fail_doc(c, EX_SETUP, "SandboxSetup", m ? m : "setup failed",
		    r->degraded ? "degraded" : "full");
		free(m);
		goto out;
	}
	st = compose(r);
	if (st == NULL) {
		ex = fail_doc(c, EX_USAGE, "Internal", "out of memory",
		    r->degraded ? "degraded" : "full");
		goto out;
	}
	emit(c, st);
	SBX_MARK("helper.status");
out:
	if (proxy > 0) {
		kill(proxy, SIGKILL);
		waitpid(proxy, NULL, 0);
	}
	{
		int *all[] = {&job[0], &job[1], &out[0], &out[1], &err[0],
			&err[1], &res[0], &res[1], &sync[0], &sync[1], &errp[0],
			&errp[1], &sp[0], &sp[1], &pidfd};
		size_t i;

		for (i = 0; i < sizeof all / sizeof all[0]; i++)
			if (*all[i] >= 0)
				close(*all[i]);
	}
	if (r->scratch[0] != '\0')
		rm_scratch(r->scratch);
	return ex;
}

/* ---- warm sandboxes: --serve ------------------------------------------- */

/*
 * The helper started once per worker (lib/sandbox_client.c) and kept: it
 * reads requests as frames on fd 0 ('Q', a flags byte, a 32-bit length,
 * the request), answers each with one frame on the status fd (32-bit
 * length, the exit status byte, the status document) and passes tool
 * events on the events fd as in a cold run. Each call runs in a child
 * that its zygote (zygote.c) forked and isolated before the call came
 * (docs/sandbox.md "Warm sandboxes"); when there is none to be had, the
 * call runs cold from here (the same clone as a cold helper, without the
 * helper's exec). One call at a time: a worker serves one request at a
 * time.
 */
#define WQ_STRICT	1	/* request flag: wait for a warm child, never cold */
#define W_PREP_WAIT_MS	2000	/* a parked child that is being prepared */
#define W_STRICT_WAIT_MS 15000	/* tests: the zygote may still be starting */
#define W_EXIT_WAIT_MS	5000	/* the zygote's report of a child's exit */
#define W_AHEAD_MS	50	/* the next child is asked for this far into a
				 * call still running (else after its status) */

enum kid_state { K_NONE, K_ASKED, K_CREATED, K_READY };

struct warm {
	int self_exe;		/* >= 0: warm sandboxes are possible */
	char self_path[PATH_MAX];	/* this binary, for the zygote's exec */
	pid_t zpid;		/* 0: no zygote */
	int zpidfd, ctl, zready;
	int zerr;		/* its setup-error pipe until it is ready */
	long long zstart_ms, retry_ms;
	long long calls;	/* calls since the zygote started */
	int failures;		/* consecutive failed starts */
	unsigned int next_id;
	int in_call;		/* a call's child runs: its exit comes first */
	struct sbx_limits lim;	/* what the next parked child is shaped by */
	char tree[65];		/* ... and its package tree ("" none) */
	struct {
		enum kid_state state;
		unsigned int id;
		pid_t pid;	/* in our pid namespace */
		int pidfd, job_w, out_r, err_r, res_r, eg, ready_r;
		int ns[2];	/* its mount and network namespaces, held */
		struct sbx_limits lim;
		char tree[65];
		dev_t tdev;	/* the tree's directory when it was asked for: */
		ino_t tino;	/* a tree rebuilt since is another one */
		long long born_ms;	/* asked at; older than --warm-ms: gone */
	} k;
	/* the namespaces of the call that just ran: released after its
	 * status is sent (see kid_hold_ns) */
	int done_ns[2];
	/* the exit report of the running call's child (run_id), kept until
	 * the call asks for it */
	unsigned int run_id;
	struct sbx_zmsg exit;
	int have_exit;
};

static void
close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * A child's mount and network namespaces die with it, and tearing a mount
 * namespace down waits for an RCU grace period in the exiting process
 * (milliseconds on a busy host): time between the tool's exit and its
 * status. The helper holds both namespaces open from the moment the child
 * is ready, so they outlive the child and are torn down when the helper
 * closes them - after the call's status is out (release_done_ns). The
 * child itself is gone at exit like any other: pid 1 of its pid namespace.
 */
static void
kid_hold_ns(struct warm *w)
{
	static const char *const names[2] = {"mnt", "net"};
	char path[64];
	int i;

	for (i = 0; i < 2; i++) {
		w->k.ns[i] = -1;
		if (w->k.pid > 0 && snprintf(path, sizeof path, "/proc/%d/ns/%s",
		    (int)w->k.pid, names[i]) < (int)sizeof path)
			w->k.ns[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
}

static void
release_done_ns(struct warm *w)
{
	close_fdp(&w->done_ns[0]);
	close_fdp(&w->done_ns[1]);
}

static void
kid_discard(struct warm *w)
{
	if (w->k.state >= K_CREATED && w->k.pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, w->k.pidfd, SIGKILL, NULL, 0U);
	close_fdp(&w->k.pidfd);
	close_fdp(&w->k.job_w);
	close_fdp(&w->k.out_r);
	close_fdp(&w->k.err_r);
	close_fdp(&w->k.res_r);
	close_fdp(&w->k.eg);
	close_fdp(&w->k.ready_r);
	close_fdp(&w->k.ns[0]);
	close_fdp(&w->k.ns[1]);
	w->k.pid = 0;
	w->k.state = K_NONE;
}

static void
zygote_stop(struct warm *w)
{
	kid_discard(w);
	if (w->zpid > 0) {
		(void)syscall(SYS_pidfd_send_signal, w->zpidfd, SIGKILL, NULL, 0U);
		waitpid(w->zpid, NULL, __WALL);
	}
	close_fdp(&w->zpidfd);
	close_fdp(&w->ctl);
	close_fdp(&w->zerr);
	w->zpid = 0;
	w->zready = 0;
	w->have_exit = 0;
}

static void
zygote_failed(struct warm *w, const char *why)
{
	static const long long backoff[] = {0, 1000, 5000, 30000};
	int i = w->failures < 3 ? w->failures : 3;

	char msg[300];
	ssize_t n;

	if (w->zerr >= 0 && (n = read(w->zerr, msg, sizeof msg - 1)) > 0) {
		msg[n] = '\0';
		why = msg;	/* the zygote's own reason for its root */
	}
	warnx_("warm sandbox unavailable, calls run cold", why);
	zygote_stop(w);
	w->failures++;
	w->retry_ms = sbx_now_ms() + backoff[i];
}

/* Lift fd to >= 10 (CLOEXEC), closing the original. */
static int
lift_fd(int *fd)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, 10);

	if (n < 0)
		return -1;
	close(*fd);
	*fd = n;
	return 0;
}

static int
zygote_start(struct warm *w, const struct cfg *c)
{
	int ctl[2] = {-1, -1}, sync[2] = {-1, -1}, errp[2] = {-1, -1};
	int pidfd = -1, rc;
	char go = 'g';
	pid_t pid;
	ssize_t n;

	w->zstart_ms = sbx_now_ms();
	w->calls = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0 ||
	    pipe2(sync, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
	    lift_fd(&ctl[1]) || lift_fd(&sync[0]) || lift_fd(&errp[1])) {
		rc = -errno;
		goto fail;
	}
	pid = ns_clone(&pidfd);
	if (pid == 0) {
		static const char *const env[] = {NULL};
		const char *argv[] = {"toolgate-sandbox", "--zygote", "--python",
			c->python, NULL, NULL, NULL, NULL};
		int na = 4;

		if (sbx_packages_root != NULL) {	/* packages.c */
			argv[na++] = "--packages-root";
			argv[na++] = sbx_packages_root;
		}
#ifdef TG_SANDBOX_TEST_HOOKS
		if (c->test_ready_first)
			argv[na++] = "--test-ready-first";
#endif
		struct __user_cap_header_struct h;
		struct __user_cap_data_struct d[2];
		int nul, cap;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		/* the helper's end: its death must be EOF here (child.c) */
		close(sync[1]);
		do {
			n = read(sync[0], &go, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);
		nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) != 0 || dup2(nul, 1) != 1 ||
		    dup2(ctl[1], SBX_ZYGOTE_CTL_FD) != SBX_ZYGOTE_CTL_FD ||
		    dup2(nul, 4) != 4 ||
		    dup2(errp[1], SBX_ZYGOTE_ERR_FD) != SBX_ZYGOTE_ERR_FD)
			_exit(127);
		/* uid 1000 is not root in the namespace: the zygote keeps the
		 * namespace's capabilities across exec as ambient ones */
		memset(&h, 0, sizeof h);
		memset(d, 0, sizeof d);
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capget, &h, d) != 0)
			_exit(127);
		d[0].inheritable = d[0].permitted;
		d[1].inheritable = d[1].permitted;
		if (syscall(SYS_capset, &h, d) != 0)
			_exit(127);
		for (cap = 0; cap <= 63; cap++)
			(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
		execve(w->self_path, (char *const *)argv, (char *const *)env);
		_exit(127);
	}
	if (pid < 0) {
		rc = pid;
		goto fail;
	}
	close_fdp(&ctl[1]);
	close_fdp(&sync[0]);
	close_fdp(&errp[1]);
	if ((rc = write_maps(pid)) != 0 || write(sync[1], &go, 1) != 1) {
		if (rc == 0)
			rc = -EIO;
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0U);
		waitpid(pid, NULL, __WALL);
		goto fail;
	}
	close_fdp(&sync[1]);
	w->zpid = pid;
	w->zpidfd = pidfd;
	w->ctl = ctl[0];
	ctl[0] = -1;
	/* a failure while it builds its root comes as "stage: reason" on
	 * the error pipe (sbx_child_fail), read when the zygote dies */
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	w->zerr = errp[0];
	errp[0] = -1;
	return 0;
fail:
	close_fdp(&ctl[0]);
	close_fdp(&ctl[1]);
	close_fdp(&sync[0]);
	close_fdp(&sync[1]);
	close_fdp(&errp[0]);
	close_fdp(&errp[1]);
	close_fdp(&pidfd);
	zygote_failed(w, strerror(-rc));
	return rc;
}

static int
zsend(struct warm *w, const struct sbx_zmsg *m, const int *fds, int nfd)
{
	return sbx_send_fds(w->ctl, m, sizeof *m, fds, nfd);
}

/*
 * The identity (device, inode) of package tree tree's directory, 0 and 0
 * without a tree or when it is missing. A parked child binds its tree's
 * directory when it is prepared; a tree deleted and rebuilt under the same
 * name since (a host re-creating it from the recorded hashes) is another
 * directory, which the parked child does not see: it must not serve. The
 * old inode cannot be reused meanwhile (the child's bind holds it).
 */
static void
tree_id(const char *tree, dev_t *dev, ino_t *ino)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	*dev = 0;
	*ino = 0;
	if (tree[0] == '\0' || sbx_packages_root == NULL)
		return;
	n = snprintf(path, sizeof path, "%s/%s", sbx_packages_root, tree);
	if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0)
		return;
	*dev = st.st_dev;
	*ino = st.st_ino;
}

/* Ask the zygote for a child shaped by w->lim. */
static void
kid_ask(struct warm *w)
{
	int job[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int res[2] = {-1, -1}, eg[2] = {-1, -1}, rdy[2] = {-1, -1};
	int theirs[6], i;
	struct sbx_zmsg m;

	if (!w->zready || w->k.state != K_NONE)
		return;
	if (pipe2(job, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC) || pipe2(res, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, eg) ||
	    pipe2(rdy, O_CLOEXEC)) {
		int *all[] = {&job[0], &job[1], &out[0], &out[1], &err[0],
			&err[1], &res[0], &res[1], &eg[0], &eg[1], &rdy[0],
			&rdy[1]};
		size_t k;

		for (k = 0; k < sizeof all / sizeof all[0]; k++)
			close_fdp(all[k]);
		return;
	}
	theirs[0] = job[0];
	theirs[1] = out[1];
	theirs[2] = err[1];
	theirs[3] = res[1];
	theirs[4] = eg[1];
	theirs[5] = rdy[1];
	memset(&m, 0, sizeof m);
	m.type = SBX_ZM_PREPARE;
	m.id = ++w->next_id;
	m.lim = w->lim;
	memcpy(m.text, w->tree, sizeof w->tree);	/* packages.c */
	w->k.id = m.id;
	w->k.lim = w->lim;
	memcpy(w->k.tree, w->tree, sizeof w->tree);
	tree_id(w->k.tree, &w->k.tdev, &w->k.tino);
	w->k.job_w = job[1];
	w->k.out_r = out[0];
	w->k.err_r = err[0];
	w->k.res_r = res[0];
	w->k.eg = eg[0];
	w->k.ready_r = rdy[0];
	w->k.pidfd = -1;
	w->k.born_ms = sbx_now_ms();
	w->k.state = K_ASKED;
	if (zsend(w, &m, theirs, 6) != 0)
		kid_discard(w);
	for (i = 0; i < 6; i++)	/* the zygote holds its copies now */
		close(theirs[i]);
}

/* pid of a pidfd in our pid namespace (its fdinfo), or -1 */
static pid_t
pidfd_pid(int pidfd)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd) >=
	    (int)sizeof path)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	return p ? (pid_t)strtol(p + 5, NULL, 10) : -1;
}

/* One message from the zygote; -1 when it is gone or broke the protocol. */
static int
zrecv(struct warm *w)
{
	struct sbx_zmsg m;
	int fd = -1, nfd, rc;

	rc = sbx_recv_fds(w->ctl, &m, sizeof m, MSG_DONTWAIT, &fd, 1, &nfd);
	if (rc == -EAGAIN)
		return 0;
	if (rc != 0)
		return -1;
	switch (m.type) {
	case SBX_ZM_READY:
		w->zready = 1;
		w->failures = 0;
		close_fdp(&w->zerr);	/* its root was built */
		kid_ask(w);
		break;
	case SBX_ZM_CHILD:
		if (w->k.state != K_ASKED || m.id != w->k.id || m.zpid <= 0 ||
		    fd < 0) {
			if (fd >= 0)
				close(fd);
			if (m.id == w->k.id)
				kid_discard(w);
			break;
		}
		w->k.pidfd = fd;
		w->k.pid = pidfd_pid(fd);
		w->k.state = K_CREATED;
		fd = -1;
		/* no pid of ours: no memory watchdog, and a kill(2)
		 * fallback with pid 0 would hit our own group */
		if (w->k.pid <= 0)
			kid_discard(w);
		break;
	case SBX_ZM_EXIT:
		if (w->k.state != K_NONE && m.id == w->k.id)
			kid_discard(w);	/* a parked child died */
		/* only the running call's report is kept: another child's
		 * (one discarded earlier) must not overwrite it when both
		 * come in one batch */
		if (m.id == w->run_id) {
			w->exit = m;
			w->have_exit = 1;
		}
		break;
	case SBX_ZM_FAIL:
		m.text[sizeof m.text - 1] = '\0';
		if (fd >= 0)
			close(fd);
		zygote_failed(w, m.text);
		return -2;
	default:
		break;
	}
	if (fd >= 0)
		close(fd);
	return 1;
}

/* A parked child said it is ready ('R') or failed (its reason). Only
 * read once its SBX_ZM_CHILD came (K_CREATED): its pidfd and pid known. */
static void
kid_ready_read(struct warm *w)
{
	char buf[300];
	ssize_t n;

	if (w->k.state != K_CREATED || w->k.pidfd < 0 || w->k.pid <= 0)
		return;
	n = read(w->k.ready_r, buf, sizeof buf - 1);

	if (n == 1 && buf[0] == 'R') {
		w->k.state = K_READY;
		close_fdp(&w->k.ready_r);
		kid_hold_ns(w);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	buf[n > 0 ? n : 0] = '\0';
	kid_discard(w);
	zygote_failed(w, n > 0 ? buf : "a warm child died while it was set up");
}

/*
 * Waits for events of the zygote and its parked child until until_ms
 * (or one event, when once). Returns -1 when the worker's socket wants
 * attention (a request or EOF) and watch_worker is set.
 */
static int
warm_poll(struct warm *w, const struct cfg *c, long long until_ms,
    int watch_worker)
{
	struct pollfd p[4];
	int np = 0, i_ctl = -1, i_z = -1, i_k = -1, i_w = -1, tmo;
	long long now = sbx_now_ms();

	if (w->zpid == 0 && w->retry_ms <= now && w->self_exe >= 0)
		(void)zygote_start(w, c);
	if (w->zpid > 0) {
		p[np].fd = w->ctl;
		p[np].events = POLLIN;
		i_ctl = np++;
		p[np].fd = w->zpidfd;
		p[np].events = POLLIN;
		i_z = np++;
	}
	/* the ready pipe only once the zygote said which child it is: its
	 * 'R' can come before the SBX_ZM_CHILD message (the zygote sends
	 * that after the fork, the child writes 'R' on its own), and a
	 * child taken as ready without its pidfd and pid is a call that
	 * nothing watches (docs/sandbox.md "Ready before known"); and not
	 * while a call's child runs: the next child, parked during the
	 * call, is looked at once the call's exit report is in (a parked
	 * child that failed restarts the zygote, which must not cost the
	 * running call its report) */
	if (w->k.state == K_CREATED && w->k.ready_r >= 0 && !w->in_call) {
		p[np].fd = w->k.ready_r;
		p[np].events = POLLIN;
		i_k = np++;
	}
	if (watch_worker) {
		p[np].fd = 0;
		p[np].events = POLLIN;
		i_w = np++;
	}
	tmo = until_ms < 0 ? -1 : (int)(until_ms > now ? until_ms - now : 0);
	if (w->zpid == 0 && w->self_exe >= 0 && w->retry_ms > now &&
	    (tmo < 0 || w->retry_ms - now < tmo))
		tmo = (int)(w->retry_ms - now);
	if (poll(p, (nfds_t)np, tmo) <= 0)
		return 0;
	if (i_ctl >= 0 && (p[i_ctl].revents & POLLIN))
		while (w->zpid > 0 && zrecv(w) > 0)
			;
	if (i_ctl >= 0 && w->zpid > 0 && (p[i_ctl].revents & (POLLHUP | POLLERR)))
		zygote_failed(w, "the zygote closed its control socket");
	else if (i_z >= 0 && w->zpid > 0 && p[i_z].revents)
		zygote_failed(w, "the zygote died");
	if (i_k >= 0 && w->k.ready_r >= 0 && p[i_k].revents)
		kid_ready_read(w);
	if (i_w >= 0 && p[i_w].revents)
		return -1;
	return 0;
}

static int
lim_eq(const struct sbx_limits *a, const struct sbx_limits *b)
{
	return a->timeout_ms == b->timeout_ms && a->memory_mb == b->memory_mb &&
	    a->max_procs == b->max_procs && a->output_bytes == b->output_bytes &&
	    a->tmp_mb == b->tmp_mb && a->result_bytes == b->result_bytes;
}

/* ms until the zygote is due for recycling by age, or -1 (never) */
static long long
zygote_due_ms(const struct warm *w, const struct cfg *c)
{
	if (w->zpid == 0 || c->warm_ms <= 0)
		return -1;
	return w->zstart_ms + c->warm_ms;
}

/*
 * Is the parked child unfit for the call about to run: shaped for other
 * limits or another tree (or a tree rebuilt since), or older than --warm-ms (it must not outlive
 * the zygote age that TOOLGATE_SANDBOX_WARM_MINUTES allows)?
 */
static int
kid_unfit(const struct warm *w, const struct cfg *c, const struct run *r)
{
	dev_t dev;
	ino_t ino;

	if (w->k.state == K_NONE)
		return 0;
	if (!lim_eq(&w->k.lim, &r->lim) || strcmp(w->k.tree, w->tree) != 0)
		return 1;
	tree_id(w->tree, &dev, &ino);
	if (dev != w->k.tdev || ino != w->k.tino)
		return 1;	/* the tree was rebuilt since */
	return c->warm_ms > 0 && sbx_now_ms() - w->k.born_ms >= c->warm_ms;
}

/*
 * The next call's child is asked for while this call runs when the call
 * takes longer than W_AHEAD_MS (monitor calls this then), so its fork,
 * isolation and pre-warm are off the next call's path; a shorter call's
 * next child is asked for after its status, as before (serve). Not at
 * once, nor when the call's child exits: on the 2 busy cores of the dev VM
 * either made a trivial call's p50 at c=1 40-70% slower, because the
 * preparation takes its CPU from the call and from the namespace teardown
 * after the status (docs/performance.md "Parked children"). Not when the
 * zygote is recycled after this call anyway (by count or age).
 */
struct ahead {
	struct warm *w;
	const struct cfg *c;
};

static void
kid_ask_ahead(void *arg)
{
	struct warm *w = ((struct ahead *)arg)->w;
	const struct cfg *c = ((struct ahead *)arg)->c;
	long long due = zygote_due_ms(w, c);

	if (c->warm_calls > 0 && w->calls + 1 >= c->warm_calls)
		return;
	if (due >= 0 && sbx_now_ms() >= due)
		return;
	kid_ask(w);
}

/*
 * Runs r in a warm child. Returns the helper exit status, or -1 when no
 * warm child could be had (the caller runs the call cold).
 */
static int
run_warm(struct run *r, const struct cfg *c, struct warm *w, int strict)
{
	long long until;
	pid_t proxy = -1;
	int egress = r->hosts != NULL && json_array_size(r->hosts) > 0;
	int job_w, out_r, err_r, res_r, pidfd, eg;
	unsigned int id;
	pid_t pid;
	struct ahead ah = {w, c};

	if (w->self_exe < 0 || sbx_pkg_tree_of(r->packages, w->tree) != 0)
		return -1;
	w->lim = r->lim;
	until = sbx_now_ms() + (strict ? W_STRICT_WAIT_MS : W_PREP_WAIT_MS);
	(void)warm_poll(w, c, 0, 0);	/* what happened meanwhile */
	for (;;) {
		if (kid_unfit(w, c, r))
			kid_discard(w);	/* other limits or tree, or too old */
		if (w->k.state == K_READY) {
			struct pollfd kp = {.fd = w->k.pidfd, .events = POLLIN};

			/* a child without its pidfd and pid is never taken:
			 * nothing would see it end (poll skips fd -1) */
			if (w->zpid == 0 || w->k.pidfd < 0 || w->k.pid <= 0 ||
			    poll(&kp, 1, 0) != 0)
				kid_discard(w);	/* died while parked */
		}
		if (w->k.state == K_READY)
			break;
		if (w->zpid > 0 && w->zready && w->k.state == K_NONE)
			kid_ask(w);
		/* no zygote yet: run cold rather than wait for its start */
		if (!strict && (w->zpid == 0 || !w->zready))
			return -1;
		if (sbx_now_ms() >= until)
			return -1;
		(void)warm_poll(w, c, until, 0);
	}
	/* the child is ours: the call goes to it and to nobody else */
	id = w->k.id;
	eg = w->k.eg;
	w->k.eg = -1;
	pid = w->k.pid;
	pidfd = w->k.pidfd;
	job_w = w->k.job_w;
	out_r = w->k.out_r;
	err_r = w->k.err_r;
	res_r = w->k.res_r;
	w->k.pidfd = w->k.job_w = w->k.out_r = w->k.err_r = w->k.res_r = -1;
	w->k.pid = 0;
	w->run_id = id;
	release_done_ns(w);
	w->done_ns[0] = w->k.ns[0];
	w->done_ns[1] = w->k.ns[1];
	w->k.ns[0] = w->k.ns[1] = -1;
	w->k.state = K_NONE;
	w->have_exit = 0;
	r->warm = 1;
	r->out.max = r->err.max = (size_t)r->lim.output_bytes;
	r->res.max = (size_t)r->lim.result_bytes;
	r->errp.max = 400;
	r->errp.eof = 1;
	r->start_ms = sbx_now_ms();
	if (egress)
		proxy = start_proxy(r, c, eg, 1);
	close_fdp(&eg);
	/* the next call's child, prepared while this one runs (it is
	 * shaped by this call's limits, like the one that ran it) */
	w->in_call = 1;
	r->ahead = kid_ask_ahead;
	r->ahead_arg = &ah;
	r->ahead_ms = r->start_ms + W_AHEAD_MS;
	r->sample = 1;	/* pid > 0: kids without one are discarded */
	monitor(r, pid, pidfd, job_w, out_r, err_r, res_r, -1);
	r->ahead = NULL;
	/* the zygote reaps the child and reports */
	until = sbx_now_ms() + W_EXIT_WAIT_MS;
	while (!(w->have_exit && w->exit.id == id) && w->zpid > 0 &&
	    sbx_now_ms() < until)
		(void)warm_poll(w, c, until, 0);
	w->in_call = 0;
	if (w->have_exit && w->exit.id == id) {
		r->wstatus = w->exit.wstatus;
		r->ru.ru_utime.tv_sec = w->exit.cpu_us / 1000000;
		r->ru.ru_utime.tv_usec = w->exit.cpu_us % 1000000;
		r->ru.ru_maxrss = w->exit.maxrss_kb;
		r->reaped = 1;
	} else {
		/* no report: the zygote is not trusted with another call */
		r->wstatus = SIGKILL;
		if (w->zpid > 0)
			zygote_failed(w, "no exit report from the zygote");
	}
	w->have_exit = 0;
	w->run_id = 0;
	close(pidfd);
	if (proxy > 0) {
		kill(proxy, SIGKILL);
		waitpid(proxy, NULL, 0);
	}
	{
		json_t *st = compose(r);

		if (st == NULL)
			return fail_doc(c, EX_USAGE, "Internal", "out of memory",
			    "full");
		emit(c, st);
	}
	return EX_RAN;
}

static int
read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Release what a run holds; the job is wiped first (it held the secrets). */
static void
run_free(struct run *r)
{
	if (r->job != NULL)	/* security */
		explicit_bzero(r->job, r->job_len);
	free(r->job);
	free(r->out.p);
	free(r->err.p);
	free(r->res.p);
	free(r->errp.p);
	json_decref(r->req);
}

/* One call of --serve. */
static int
serve_call(const struct cfg *c, struct warm *w, char *buf, size_t len,
    int flags)
{
	struct run r;
	char msg[300];
	int rc, ex;

	memset(&r, 0, sizeof r);
	r.ev_fd = c->events_fd;
	r.cancel_fd = 0;
	r.parent_fd = -1;
	rc = parse_request(&r, buf, len, msg, sizeof msg);
	if (rc != 0)
		ex = fail_doc(c, rc == -3 ? EX_USAGE : EX_BADREQ, rc == -2 ?
		    "TooLarge" : "BadRequest", msg, "unavailable");
	else {
		ex = -1;
		/* a package set runs warm when it is a tree of
		 * --packages-root (packages.c), else cold */
		if (!c->force_degraded && !c->no_mount && !r.allow_degraded)
			ex = run_warm(&r, c, w, flags & WQ_STRICT);
		if (ex < 0 && (flags & WQ_STRICT))
			ex = fail_doc(c, EX_SETUP, "SandboxSetup", "no warm "
			    "sandbox could be had (strict mode)", "unavailable");
		else if (ex < 0)
			ex = run_tool(&r, c);
		w->calls++;
	}
	run_free(&r);
	return ex;
}

static int
send_status(const struct cfg *c, int ex)
{
	const char *s = g_status ? g_status : "{}";
	size_t n = strlen(s);
	unsigned char hdr[5];
	uint32_t len = (uint32_t)n;
	int rc;

	memcpy(hdr, &len, 4);
	hdr[4] = (unsigned char)ex;
	rc = sbx_write_all(c->status_fd, (const char *)hdr, sizeof hdr);
	if (rc == 0)
		rc = sbx_write_all(c->status_fd, s, n);
	free(g_status);
	g_status = NULL;
	return rc;
}

static int
serve(const struct cfg *c)
{
	struct warm w;

	memset(&w, 0, sizeof w);
	w.zpidfd = w.ctl = w.zerr = -1;
	w.k.pidfd = w.k.job_w = w.k.out_r = w.k.err_r = w.k.res_r = -1;
	w.k.eg = w.k.ready_r = -1;
	w.k.ns[0] = w.k.ns[1] = w.done_ns[0] = w.done_ns[1] = -1;
	w.lim.timeout_ms = SBX_DEF_TIMEOUT_MS;
	w.lim.memory_mb = SBX_DEF_MEMORY_MB;
	w.lim.max_procs = SBX_DEF_MAX_PROCS;
	w.lim.output_bytes = SBX_DEF_OUTPUT_BYTES;
	w.lim.tmp_mb = SBX_DEF_TMP_MB;
	w.lim.result_bytes = SBX_DEF_RESULT_BYTES;
	g_serve = 1;
	/* warm only with full isolation and the interpreter libpython is */
	w.self_exe = -1;
	if (!c->force_degraded && !c->no_mount &&
	    strcmp(c->python, SBX_PYC_PYTHON) == 0)
	{
		ssize_t n = readlink("/proc/self/exe", w.self_path,
		    sizeof w.self_path - 1);

		if (n > 0) {
			w.self_path[n] = '\0';
			w.self_exe = 1;
		}
	}
	for (;;) {
		unsigned char hdr[6];
		uint32_t len;
		char *buf;
		int ex;

		if (w.zpid > 0 && ((c->warm_calls > 0 &&
		    w.calls >= c->warm_calls) || (c->warm_ms > 0 &&
		    sbx_now_ms() - w.zstart_ms >= c->warm_ms))) {
			zygote_stop(&w);	/* recycled: a fresh one next */
			w.retry_ms = 0;
		}
		/* wakes for the zygote's recycling by age too: neither it nor
		 * its parked child outlives --warm-ms while no call comes */
		if (warm_poll(&w, c, zygote_due_ms(&w, c), 1) != -1)
			continue;
		if (read_full(0, hdr, 1) != 0)
			break;	/* the worker closed: done */
		if (hdr[0] == 'K')
			continue;	/* a cancel that came too late */
		if (hdr[0] != 'Q' || read_full(0, hdr + 1, 5) != 0)
			break;
		memcpy(&len, hdr + 2, 4);
		if (len > SBX_MAX_REQUEST)
			break;
		buf = malloc(len ? len : 1);
		if (buf == NULL || read_full(0, buf, len) != 0) {
			free(buf);
			break;
		}
		ex = serve_call(c, &w, buf, len, hdr[1]);
		explicit_bzero(buf, len);
		free(buf);
		if (send_status(c, ex) != 0)
			break;
		release_done_ns(&w);	/* torn down now, after the status */
		/* the next call's child, if the call did not ask for it (after
		 * the teardown: asked before it, c=1 was 15-25% slower,
		 * docs/performance.md "End to end") */
		if (!(c->warm_calls > 0 && w.calls >= c->warm_calls))
			kid_ask(&w);
	}
	zygote_stop(&w);
	release_done_ns(&w);
	return EX_RAN;
}

/* --probe: which isolation can this host give? */
static int
probe(const struct cfg *c)
{
	int pidfd = -1, userns = 0, ll = sbx_landlock_abi(), sc;
	const char *iso, *reason = NULL;
	char why[128];
	pid_t pid;

	sc = sbx_seccomp_available();
	if (getuid() == 0 || geteuid() == 0) {
		emit(c, json_pack("{s:s, s:b, s:i, s:b, s:s}", "isolation",
		    "unavailable", "userns", 0, "landlock_abi", ll, "seccomp", sc,
		    "reason", "the helper refuses to run as root"));
		return EX_UNAVAIL;
	}
	if (!c->force_degraded) {
		pid = ns_clone(&pidfd);
		if (pid == 0)
			_exit(0);
		if (pid > 0) {
			int ws;

			userns = waitpid(pid, &ws, __WALL) == pid &&
			    WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
			close(pidfd);
		} else {
			snprintf(why, sizeof why, "user namespaces: %s",
			    strerror(-pid));
			reason = why;
		}
	} else
		reason = "degraded mode forced";
	if (userns && sc)
		iso = "full";
	else if (ll >= 1 && sc && c->allow_degraded)
		iso = "degraded";
	else {
		iso = "unavailable";
		if (reason == NULL)
			reason = "seccomp unavailable";
		else if (ll >= 1 && sc)
			reason = "no user namespaces and degraded mode is not "
			    "enabled";
	}
	emit(c, json_pack("{s:s, s:b, s:i, s:b, s:s?}", "isolation", iso,
	    "userns", userns, "landlock_abi", ll, "seccomp", sc, "reason",
	    reason));
	return iso[0] == 'u' ? EX_UNAVAIL : EX_RAN;
}

/* a descriptor number given on the command line (3 to 1024), or -1 */
static int
fd_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 3 || v > 1024)
		return -1;
	return (int)v;
}

/* 0, or -1 with *bad the unknown option (NULL: a bad value or mix) */
static int
parse_args(int argc, char **argv, struct cfg *c, const char **bad)
{
	int i;

	c->status_fd = -1;
	c->events_fd = -1;
	c->python = "/usr/bin/python3.11";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--status-fd") == 0 && i + 1 < argc) {
			if ((c->status_fd = fd_arg(argv[++i])) < 0)
				return -1;
		} else if (strcmp(a, "--events-fd") == 0 && i + 1 < argc) {
			if ((c->events_fd = fd_arg(argv[++i])) < 0)
				return -1;
		} else if (strcmp(a, "--allow-degraded") == 0)
			c->allow_degraded = 1;
		else if (strcmp(a, "--force-degraded") == 0)
			c->force_degraded = 1;
		else if (strcmp(a, "--no-mount") == 0)
			c->no_mount = 1;
		else if (strcmp(a, "--probe") == 0)
			c->probe = 1;
		else if (strcmp(a, "--dump-seccomp") == 0)
			c->dump_seccomp = 1;
		else if (strcmp(a, "--degraded") == 0)
			c->dump_degraded = 1;
		else if (strcmp(a, "--python") == 0 && i + 1 < argc)
			c->python = argv[++i];
		else if (strcmp(a, "--serve") == 0)
			c->serve = 1;
#ifdef TG_SANDBOX_TEST_HOOKS
		else if (strcmp(a, "--egress-test-allow") == 0 && i + 1 < argc)
			c->egress_test_allow = argv[++i];
		else if (strcmp(a, "--test-ready-first") == 0)
			c->test_ready_first = 1;	/* zygote.c */
		else if (strcmp(a, "--test-child-delay-ms") == 0 &&
		    i + 1 < argc && (c->test_child_delay_ms =
		    atoi(argv[i + 1])) > 0 && c->test_child_delay_ms <= 10000)
			i++;	/* harness.py orphans() */
#endif
		else if (strcmp(a, "--packages-root") == 0 && i + 1 < argc &&
		    argv[i + 1][0] == '/' && strlen(argv[i + 1]) < 400)
			sbx_packages_root = argv[++i];	/* warm package sets */
		else if (strcmp(a, "--zygote") == 0)
			c->zygote = 1;
		else if ((strcmp(a, "--warm-calls") == 0 ||
		    strcmp(a, "--warm-ms") == 0) && i + 1 < argc) {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(argv[i + 1], &end, 10);
			if (errno || *end || v < 0)
				return -1;
			if (a[7] == 'c')
				c->warm_calls = v;
			else
				c->warm_ms = v;
			i++;
		}
		else {
			*bad = a;
			return -1;
		}
	}
	if (strncmp(c->python, "/usr/", 5) != 0 || strstr(c->python, "/../"))
		return -1;
	if (c->events_fd >= 0 && c->events_fd == c->status_fd)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg c;
	struct run r;
	char *buf = NULL, msg[300];
	const char *bad = NULL;
	size_t len = 0;
	int rc, ex;
	pid_t ppid;

	SBX_MARK("helper.main");
	memset(&c, 0, sizeof c);
	memset(&r, 0, sizeof r);
	r.ev_fd = -1;
	r.cancel_fd = -1;
	r.parent_fd = -1;
	/* reliability: who started us, before anything can take time */
	ppid = getppid();
	if (parse_args(argc, argv, &c, &bad) != 0) {
		if (bad != NULL)
			warnx_("unknown option, or its value missing", bad);
		warnx_("usage: toolgate-sandbox --status-fd N [--allow-degraded] "
		    "[--python /usr/bin/python3.11] < request.json | --probe | "
		    "--dump-seccomp [--degraded]", NULL);
		return EX_USAGE;
	}
	if (c.dump_seccomp)
		return sbx_seccomp_dump(c.dump_degraded, 1) == 0 ? 0 : EX_USAGE;
	if (c.zygote)
		sbx_zygote_main(c.python, TEST_HOOK(&c, test_ready_first, 0));
	if (!c.probe && (getuid() == 0 || geteuid() == 0 || getgid() == 0 ||
	    getegid() == 0)) {
		if (c.status_fd >= 0 && fcntl(c.status_fd, F_GETFD) < 0)
			c.status_fd = -1;
		return fail_doc(&c, EX_UNAVAIL, "SandboxUnavailable",
		    "refusing to run as root (uid 0): run toolgate-sandbox as "
		    "the unprivileged worker user", "unavailable");
	}
	if (c.status_fd >= 0 && fcntl(c.status_fd, F_SETFD, FD_CLOEXEC) != 0) {
		warnx_("the status fd is not open", NULL);
		return EX_USAGE;
	}
	/* the parent dying kills us, and through PDEATHSIG the sandbox; a
	 * parent that died before the prctl is caught here (we were
	 * reparented: to pid 1, or to a subreaper, so compare with the pid we
	 * started with), and any later way of losing it by the status pipe's
	 * reader going away (monitor, parent_fd) */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != ppid || ppid == 1)
		return EX_USAGE;
	signal(SIGPIPE, SIG_IGN);
	if (c.events_fd >= 0 && (fcntl(c.events_fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(c.events_fd, F_SETFL, O_NONBLOCK) != 0))
		c.events_fd = -1;	/* not open: events are dropped */
	/* nothing but stdio, the status fd and the events fd survives */
	{
		int keep[2], nk = 0, i;
		unsigned int from = 3;

		if (c.status_fd > 2)
			keep[nk++] = c.status_fd;
		if (c.events_fd > 2)
			keep[nk++] = c.events_fd;
		if (nk == 2 && keep[0] > keep[1]) {
			int t = keep[0];

			keep[0] = keep[1];
			keep[1] = t;
		}
		for (i = 0; i < nk; i++) {
			if ((unsigned int)keep[i] > from)
				syscall(SYS_close_range, from,
				    (unsigned int)keep[i] - 1, 0U);
			from = (unsigned int)keep[i] + 1;
		}
		syscall(SYS_close_range, from, ~0U, 0U);
	}
	if (c.probe)
		return probe(&c);
	if (c.serve) {
		if (c.status_fd < 0) {
			warnx_("--serve needs --status-fd", NULL);
			return EX_USAGE;
		}
		return serve(&c);
	}
	if (c.status_fd < 0) {
		warnx_("--status-fd is required", NULL);
		return EX_USAGE;
	}
	rc = read_request(&buf, &len);
	if (rc != 0)
		return fail_doc(&c, EX_BADREQ, rc == -E2BIG ? "TooLarge" :
		    "BadRequest", rc == -E2BIG ? "request is too large" :
		    "cannot read the request", "unavailable");
	rc = parse_request(&r, buf, len, msg, sizeof msg);
	free(buf);
	SBX_MARK("helper.request");
	if (rc != 0)
		ex = fail_doc(&c, rc == -3 ? EX_USAGE : EX_BADREQ, rc == -2 ?
		    "TooLarge" : "BadRequest", msg, "unavailable");
	else {
		r.ev_fd = c.events_fd;
		r.parent_fd = c.status_fd;
		ex = run_tool(&r, &c);
	}
	run_free(&r);
	return ex;
}
