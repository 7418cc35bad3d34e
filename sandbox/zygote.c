/*
 * zygote.c - the warm sandbox's zygote: a pre-initialised CPython that forks
 * one isolated child per call (docs/sandbox.md "Warm sandboxes").
 *
 * The helper in --serve mode (helper.c) clones a process into new user,
 * pid, mount, net, ipc, uts and cgroup namespaces exactly as for a cold run,
 * writes its id maps, and that process execs the helper binary again as
 * `toolgate-sandbox --zygote`: a fresh address space that has never seen a
 * request. Here it:
 *   1. builds the same root as a cold run (sbx_zygote_root) and pivots;
 *   2. sets the environment a cold run's Python gets, loads libpython3.11
 *      with dlopen (only the zygote pays for it), initialises it with the
 *      flags of `python3.11 -I -S -B -u`, imports the runner, the validator
 *      and the standard-library modules tools commonly use, initialises the
 *      AST types (the first compile() of a process), and freezes the heap
 *      (gc.freeze: collections in children leave the shared pages alone);
 *      forks one probe child that runs only the fork hooks and
 *      runner._prewarm, and keeps the list of pages it had to copy
 *      (hot_probe);
 *   3. says SBX_ZM_READY and serves SBX_ZM_PREPARE: unshare(CLONE_NEWPID),
 *      fork, setns back to its own pid namespace. The child (pid 1 of a pid
 *      namespace of its own) copies those pages in bulk (hot_copy: one
 *      madvise per run, not one fault per page), runs
 *      sbx_warm_child_setup (new mount, net,
 *      ipc, uts namespaces, fresh /tmp and /proc, rlimits, no capabilities,
 *      no_new_privs, landlock, seccomp), writes "R" on its ready pipe, and
 *      only then calls runner._warm(), which reads the call's job from fd 0
 *      - sent by the helper, never seen by the zygote - runs it and exits;
 *   4. reaps its children and reports their wait status and CPU time.
 * The zygote keeps every capability of its own user namespace (it needs
 * them for the children's namespaces and mounts) and never runs tool code;
 * the children drop them before anything of the call arrives.
 */
#include "sandbox/sbx.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define Z_MAX_KIDS 16
#define Z_HOT_RUNS 1024 /* page runs a child copies at once */
#define Z_HOT_READ 4096 /* pagemap entries read at a time */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

typedef void PyObj;

static struct {
	void (*SetProgramName)(const wchar_t *);
	void (*InitializeEx)(int);
	int (*RunSimpleStringFlags)(const char *, void *);
	PyObj *(*ImportModule)(const char *);
	PyObj *(*GetAttrString)(PyObj *, const char *);
	PyObj *(*CallNoArgs)(PyObj *);
	void (*BeforeFork)(void);
	void (*AfterForkParent)(void);
	void (*AfterForkChild)(void);
	void (*ErrPrint)(void);
} py;

/* The zygote's pages a call's child writes every time (found once by
 * hot_probe): a child copies them with one madvise per run instead of one
 * copy-on-write fault per page. */
static struct z_run {
	uintptr_t start;
	size_t len;
} hot[Z_HOT_RUNS];
static int nhot;

static struct {
	unsigned int id;
	pid_t pid;
	int pidfd;
} kids[Z_MAX_KIDS];

static void
zfail(const char *stage, const char *detail)
{
	struct sbx_zmsg m;

	memset(&m, 0, sizeof m);
	m.type = SBX_ZM_FAIL;
	snprintf(m.text, sizeof m.text, "%s%s%s", stage, detail ? ": " : "",
	    detail ? detail : "");
	(void)!send(SBX_ZYGOTE_CTL_FD, &m, sizeof m, MSG_NOSIGNAL);
	_exit(127);
}

/* Function and object pointers share one representation on every POSIX
 * platform, which dlsym() relies on anyway (as in proxy.c). */
static int
load_python(void)
{
	void *h = dlopen("libpython3.11.so.1.0", RTLD_NOW | RTLD_GLOBAL), *p;
	static const char *const flags[] = {"Py_IsolatedFlag", "Py_NoSiteFlag",
	    "Py_DontWriteBytecodeFlag", "Py_UnbufferedStdioFlag",
	    "Py_IgnoreEnvironmentFlag", "Py_NoUserSiteDirectory"};
	size_t i;

	if (h == NULL)
		return -1;
#define SYM(field, name) \
	do { \
		if ((p = dlsym(h, name)) == NULL) \
			return -1; \
		memcpy(&py.field, &p, sizeof p); \
	} while (0)
	SYM(SetProgramName, "Py_SetProgramName");
	SYM(InitializeEx, "Py_InitializeEx");
	SYM(RunSimpleStringFlags, "PyRun_SimpleStringFlags");
	SYM(ImportModule, "PyImport_ImportModule");
	SYM(GetAttrString, "PyObject_GetAttrString");
	SYM(CallNoArgs, "PyObject_CallNoArgs");
	SYM(BeforeFork, "PyOS_BeforeFork");
	SYM(AfterForkParent, "PyOS_AfterFork_Parent");
	SYM(AfterForkChild, "PyOS_AfterFork_Child");
	SYM(ErrPrint, "PyErr_Print");
#undef SYM
	for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		int *f = dlsym(h, flags[i]);

		if (f == NULL)
			return -1;
		*f = 1;
	}
	return 0;
}

/* What the zygote imports before its first fork: the runner and the
 * validator with what they use, and standard-library modules tools use
 * often. A tool's own imports still pass the runner's import guard, so a
 * preloaded module is not an allowed one. */
static const char preload[] =
    "import sys\n"
    "sys.path[:0] = ['/run/toolgate']\n"
    "import runner, validate\n"
    "import ast, json, re, datetime, math, collections, functools, itertools\n"
    "import base64, hashlib, random, string, time, traceback, linecache\n"
    "import urllib.parse, typing, dataclasses, enum, decimal, statistics\n"
    "compile('x = 1', 'tool.py', 'exec', dont_inherit=True)\n"
    "import gc\n"
    "gc.collect()\n"
    "gc.freeze()\n"
    "del sys.path[0]\n";

static int
send_msg(const struct sbx_zmsg *m, int fd)
{
	return sbx_send_fds(SBX_ZYGOTE_CTL_FD, m, sizeof *m, &fd, fd >= 0);
}

/* One message and up to 6 fds; returns the fd count, or -1 at EOF/error. */
static int
recv_msg(struct sbx_zmsg *m, int fds[6])
{
	int nfd;

	if (sbx_recv_fds(SBX_ZYGOTE_CTL_FD, m, sizeof *m, 0, fds, 6, &nfd) != 0)
		return -1;
	return nfd;
}

static void
close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Break the copy-on-write sharing of the hot pages in one go. Only this
 * child's own memory changes (it gets private copies earlier than its
 * first writes would have made them); errors (a run no longer mapped, a
 * kernel without MADV_POPULATE_WRITE) only cost the faults back. */
static void
hot_copy(void)
{
	int i;

	for (i = 0; i < nhot; i++)
		if (madvise((void *)hot[i].start, hot[i].len,
			MADV_POPULATE_WRITE) != 0 &&
		    errno == EINVAL)
			break;
}

/* In the probe child: the pages of private writable mappings that only
 * this process maps now (pagemap bit 56: the ones it copied or allocated
 * since the fork), as runs written to fd. */
static void
hot_scan(int fd)
{
	static uint64_t ent[Z_HOT_READ];
	struct z_run run = {0, 0};
	char line[512];
	FILE *maps;
	int pm;
	long pg = sysconf(_SC_PAGESIZE);

	maps = fopen("/proc/self/maps", "re");
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (maps == NULL || pm < 0 || pg <= 0)
		_exit(1);
	while (fgets(line, sizeof line, maps) != NULL) {
		unsigned long lo, hi, a;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 ||
		    strcmp(perm, "rw-p") != 0)
			continue;
		for (a = lo; a < hi;) {
			size_t want = (hi - a) / (unsigned long)pg, k;
			ssize_t n;

			if (want > Z_HOT_READ)
				want = Z_HOT_READ;
			n = pread(pm, ent, want * sizeof ent[0],
			    (off_t)(a / (unsigned long)pg * sizeof ent[0]));
			if (n <= 0)
				break;
			want = (size_t)n / sizeof ent[0];
			for (k = 0; k < want; k++, a += (unsigned long)pg) {
				if ((ent[k] >> 63 & 1) == 0 ||
				    (ent[k] >> 56 & 1) == 0)
					continue;
				if (run.len > 0 && run.start + run.len == a) {
					run.len += (size_t)pg;
					continue;
				}
				if (run.len > 0 && write(fd, &run, sizeof run) != (ssize_t)sizeof run)
					_exit(1);
				run.start = a;
				run.len = (size_t)pg;
			}
		}
	}
	if (run.len > 0 && write(fd, &run, sizeof run) != (ssize_t)sizeof run)
		_exit(1);
	_exit(0);
}

/*
 * Once, before the first call: a child that runs only what every call's
 * child runs before the call (the fork hooks and runner._prewarm, no tool
 * code), then reports which of the zygote's pages it had to copy. The list
 * is the zygote's own; nothing of a call ever reaches it.
 */
static void
hot_probe(PyObj *prewarm, int pidns)
{
	struct z_run r;
	pid_t pid;
	int p[2], ws;

	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	py.BeforeFork();
	pid = fork();
	if (pid == 0) {
		py.AfterForkChild();
		close(p[0]);
		close(SBX_ZYGOTE_CTL_FD);
		close(pidns);
		if (py.CallNoArgs(prewarm) == NULL)
			_exit(1);
		hot_scan(p[1]);
	}
	py.AfterForkParent();
	close(p[1]);
	nhot = 0;
	if (pid > 0) {
		while (read(p[0], &r, sizeof r) == (ssize_t)sizeof r)
			if (nhot < Z_HOT_RUNS)
				hot[nhot++] = r;
		if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) ||
		    WEXITSTATUS(ws) != 0)
			nhot = 0;
	}
	close(p[0]);
}

#ifdef TG_SANDBOX_TEST_HOOKS
/*
 * Test build only (--test-ready-first, tests/sandbox/harness.py): the order a
 * busy host can produce once in thousands of calls, every time. The
 * child's 'R' goes through the zygote (t is the child's fd 5 instead of
 * the helper's ready pipe): the zygote waits for it, forwards it to the
 * helper's pipe and waits until the helper has read it (FIONREAD on the
 * pipe, up to 1 s) before it sends SBX_ZM_CHILD. A helper that takes 'R'
 * before it knows the child (the bug of issue 18) reads it at once and
 * then runs a call nothing watches; a correct one reads it only after
 * SBX_ZM_CHILD, so this waits its second out and the call runs.
 */
static void
ready_first(int t, int ready_w)
{
	char buf[300];
	ssize_t n;
	int left = 0, i;

	do {
		n = read(t, buf, sizeof buf);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		(void)!write(ready_w, buf, (size_t)n);
	for (i = 0; n > 0 && i < 1000; i++) {
		struct timespec ms = {0, 1000000};

		if (ioctl(ready_w, FIONREAD, &left) != 0 || left == 0)
			break;
		nanosleep(&ms, NULL);
	}
	close(t);
}
#endif

static void
prepare(const struct sbx_zmsg *m, int fds[6], int nfd, int pidns, PyObj *entry,
    PyObj *prewarm, int test_ready_first)
{
	struct sbx_zmsg r;
	pid_t pid;
	int slot = -1, pidfd, i, t[2] = {-1, -1}, ready_w = -1;

	for (i = 0; i < Z_MAX_KIDS; i++)
		if (kids[i].pid == 0) {
			slot = i;
			break;
		}
	memset(&r, 0, sizeof r);
	r.type = SBX_ZM_CHILD;
	r.id = m->id;
	if (nfd != 6 || slot < 0 || unshare(CLONE_NEWPID) != 0) {
		close_fds(fds, nfd);
		r.zpid = -1;
		(void)send_msg(&r, -1);
		return;
	}
#ifdef TG_SANDBOX_TEST_HOOKS
	if (test_ready_first && pipe2(t, O_CLOEXEC) == 0) {
		ready_w = fds[5]; /* the helper's: written by ready_first */
		fds[5] = t[1];
	}
#else
	(void)test_ready_first; /* always 0: no test hooks in production */
#endif
	py.BeforeFork();
	pid = fork();
	if (pid == 0) {
		hot_copy();
		py.AfterForkChild();
		close(SBX_ZYGOTE_CTL_FD);
		close(pidns);
		for (i = 0; i < Z_MAX_KIDS; i++)
			if (kids[i].pid > 0)
				close(kids[i].pidfd);
		if (ready_w >= 0) {
			close(ready_w);
			close(t[0]);
		}
		/* the call's package tree, if any (packages.c) */
		memcpy(sbx_warm_tree, m->text, sizeof sbx_warm_tree - 1);
		sbx_warm_child_setup(&m->lim, fds);
		/* the runner's own path once, before the call (runner.py) */
		if (py.CallNoArgs(prewarm) == NULL)
			py.ErrPrint();
		/* isolated: now, and only now, the call may come */
		if (write(5, "R", 1) != 1)
			_exit(127);
		close(5);
		if (py.CallNoArgs(entry) == NULL)
			py.ErrPrint();
		_exit(1); /* runner._warm() ends with os._exit */
	}
	py.AfterForkParent();
	close_fds(fds, nfd);
	if (setns(pidns, CLONE_NEWPID) != 0)
		zfail("setns back to the zygote's pid namespace", strerror(errno));
#ifdef TG_SANDBOX_TEST_HOOKS
	if (ready_w >= 0) {
		if (pid > 0)
			ready_first(t[0], ready_w);
		else
			close(t[0]);
		close(ready_w);
	}
#endif
	if (pid < 0) {
		r.zpid = -1;
		(void)send_msg(&r, -1);
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		r.zpid = -1;
		(void)send_msg(&r, -1);
		return;
	}
	kids[slot].id = m->id;
	kids[slot].pid = pid;
	kids[slot].pidfd = pidfd;
	r.zpid = pid;
	if (send_msg(&r, pidfd) != 0)
		kill(pid, SIGKILL);
}

static void
reap(int slot)
{
	struct sbx_zmsg r;
	struct rusage ru;
	int ws = 0;

	memset(&r, 0, sizeof r);
	memset(&ru, 0, sizeof ru);
	if (wait4(kids[slot].pid, &ws, 0, &ru) != kids[slot].pid)
		return;
	r.type = SBX_ZM_EXIT;
	r.id = kids[slot].id;
	r.zpid = kids[slot].pid;
	r.wstatus = ws;
	r.cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	r.maxrss_kb = ru.ru_maxrss;
	close(kids[slot].pidfd);
	kids[slot].pid = 0;
	kids[slot].pidfd = -1;
	(void)send_msg(&r, -1);
}

int
sbx_zygote_main(const char *python, int test_ready_first)
{
	wchar_t wpy[256];
	PyObj *runner, *entry, *prewarm;
	struct sbx_zmsg m;
	int pidns, fd, i;

	/* the helper wrote our id maps before it let us exec */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		_exit(127);
	sbx_zygote_root(SBX_ZYGOTE_ERR_FD);
	close(SBX_ZYGOTE_ERR_FD);
	if (chdir("/tmp") != 0)
		zfail("chdir /tmp", strerror(errno));
	/* stdin and stdout: /dev/null; stderr stays the helper's */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) != 0 || dup2(fd, 1) != 1)
		zfail("/dev/null", strerror(errno));
	close(fd);
	syscall(SYS_close_range, 6U, ~0U, 0U);
	pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (pidns < 0)
		zfail("open own pid namespace", strerror(errno));
	for (i = 0; i < Z_MAX_KIDS; i++)
		kids[i].pidfd = -1;
	/* the environment a cold run's Python gets (child.c) */
	if (clearenv() != 0 || setenv("PATH", "/usr/bin", 1) ||
	    setenv("HOME", "/tmp", 1) || setenv("LANG", "C.UTF-8", 1) ||
	    setenv("TMPDIR", "/tmp", 1) ||
	    setenv("TOOLGATE_ISOLATION", "full", 1))
		zfail("environment", NULL);
	if (mbstowcs(wpy, python, sizeof wpy / sizeof wpy[0]) ==
		(size_t)-1 ||
	    wpy[sizeof wpy / sizeof wpy[0] - 1] != L'\0')
		wpy[0] = L'\0';
	if (load_python() != 0)
		zfail("load libpython3.11", dlerror());
	if (wpy[0] != L'\0')
		py.SetProgramName(wpy);
	signal(SIGPIPE, SIG_IGN); /* as Python itself does */
	py.InitializeEx(0);
	if (py.RunSimpleStringFlags(preload, NULL) != 0)
		zfail("preload", "importing the runner failed");
	runner = py.ImportModule("runner");
	entry = runner ? py.GetAttrString(runner, "_warm") : NULL;
	prewarm = runner ? py.GetAttrString(runner, "_prewarm") : NULL;
	if (entry == NULL || prewarm == NULL)
		zfail("runner._warm", NULL);
	hot_probe(prewarm, pidns);
	memset(&m, 0, sizeof m);
	m.type = SBX_ZM_READY;
	if (send_msg(&m, -1) != 0)
		_exit(0);
	for (;;) {
		struct pollfd p[Z_MAX_KIDS + 1];
		int idx[Z_MAX_KIDS + 1], np = 0, fds[6], nfd;

		p[np].fd = SBX_ZYGOTE_CTL_FD;
		p[np].events = POLLIN;
		idx[np++] = -1;
		for (i = 0; i < Z_MAX_KIDS; i++)
			if (kids[i].pid > 0) {
				p[np].fd = kids[i].pidfd;
				p[np].events = POLLIN;
				idx[np++] = i;
			}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 1; i < np; i++)
			if (p[i].revents)
				reap(idx[i]);
		if (p[0].revents) {
			nfd = recv_msg(&m, fds);
			if (nfd < 0)
				_exit(0); /* the helper closed: done */
			if (m.type == SBX_ZM_PREPARE)
				prepare(&m, fds, nfd, pidns, entry, prewarm,
				    test_ready_first);
			else
				close_fds(fds, nfd);
		}
	}
}
