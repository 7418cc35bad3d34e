/*
 * child.c - the sandboxed side of toolgate-sandbox, from clone to execve.
 *
 * Full mode (we are pid 1 of new user, pid, mount, net, ipc, uts and cgroup
 * namespaces, with every capability of the new user namespace):
 *   1. PR_SET_PDEATHSIG(SIGKILL); wait for the parent's "id maps written" byte
 *      (EOF means the parent died: exit);
 *   2. make every mount private; build a new root on a small tmpfs:
 *      /usr (read-only bind), the lib/bin symlinks, /dev with null, zero,
 *      full, random and urandom bind-mounted, a fresh /proc, a size- and
 *      inode-capped /tmp, /etc/{passwd,group}, /run/toolgate/{runner,validate}.py
 *      and, with egress, the proxy's listening socket /run/toolgate/egress.sock
 *      (its fd is handed to the proxy process over a socketpair);
 *   3. pivot_root, detach the old root, remount / read-only, set the hostname;
 *   4. rlimits (inside the user namespace, so RLIMIT_NPROC counts this run only);
 *   5. stdio := job pipe, stdout pipe, stderr pipe; fd 3 := result pipe;
 *      every other fd closed;
 *   6. drop the bounding set, ambient and all capabilities; no_new_privs;
 *      landlock; seccomp last; execve Python with a fresh environment.
 *
 * Degraded mode (no user namespaces): own session, rlimits (NPROC counted
 * over the whole uid), landlock (mandatory here), the degraded seccomp filter
 * (no sockets but socketpair), in a per-run scratch directory.
 *
 * Any failure before execve is written as "stage: reason" on the error pipe,
 * which the parent turns into an error of type "SandboxSetup".
 */
#include "sandbox/sbx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT "/tmp"	/* mount point of the new root, in our own mount ns */

static const char *const devices[] = {"null", "zero", "full", "random",
	"urandom"};

void
sbx_child_fail(int errp, const char *stage, int err)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof buf, "%s: %s", stage, strerror(err));
	if (n > 0) {
		size_t len = (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n;
		(void)!write(errp, buf, len);
	}
	_exit(127);
}

/* out = prefix + name + suffix, with the truncation check */
static int
mkpath3(const char *prefix, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", prefix, name);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

static unsigned long
locked_flags(const char *src)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ST_NOSUID, MS_NOSUID},
		{ST_NODEV, MS_NODEV},
		{ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME},
		{ST_NODIRATIME, MS_NODIRATIME},
		{ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long f = 0;
	size_t i;

	if (statvfs(src, &sv) != 0)
		return 0;
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (sv.f_flag & map[i].st)
			f |= map[i].ms;
	return f;
}

/* Bind src on dst and make the bind read-only, keeping the source's locked
 * flags (a remount that drops them fails with EPERM in a user namespace). */
static int
bind_ro(const char *src, const char *dst, unsigned long extra, int rec)
{
	unsigned long f;

	if (mount(src, dst, NULL, MS_BIND | (rec ? MS_REC : 0UL), NULL) != 0)
		return -errno;
	f = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra |
	    locked_flags(src);
	if (mount(NULL, dst, NULL, f, NULL) != 0)
		return -errno;
	return 0;
}

static int
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0)
		return -errno;
	rc = sbx_write_all(fd, data, len);
	close(fd);
	return rc;
}

/* Replicate /lib, /lib64, /bin, /sbin ...: a symlink stays a symlink, a real
 * directory is bound read-only. */
static int
link_topdir(const char *name)
{
	char host[64], dst[64], target[256];
	struct stat st;
	ssize_t n;
	int rc;

	if ((rc = mkpath3("/", name, host, sizeof host)) != 0 ||
	    (rc = mkpath3(NEWROOT "/", name, dst, sizeof dst)) != 0)
		return rc;
	if (lstat(host, &st) != 0)
		return 0;	/* absent on this system */
	if (S_ISLNK(st.st_mode)) {
		n = readlink(host, target, sizeof target - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlink(target, dst) != 0)
			return -errno;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(dst, 0755) != 0)
		return -errno;
	return bind_ro(host, dst, MS_NODEV, 1);
}

static int
send_fd(int sock, int fd)
{
	char byte = 'L';

	return sbx_send_fds(sock, &byte, 1, &fd, 1);
}

static int
make_egress(int sp)
{
	struct sockaddr_un sa;
	int s, rc = 0;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (mkpath3(NEWROOT, SBX_EGRESS_SOCK, sa.sun_path,
	    sizeof sa.sun_path) != 0)
		return -ENAMETOOLONG;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(s, 16) != 0 || chmod(sa.sun_path, 0600) != 0)
		rc = -errno;
	else
		rc = send_fd(sp, s);
	close(s);
	return rc;
}

/*
 * The two mounts that need no uid/gid map (nothing is created with our ids
 * yet), done while the parent writes the maps: by the time we wait for its
 * byte it is usually there, which saves a sleep and a cross-CPU wake-up.
 * Any mount done here stays inside our own mount namespace.
 */
static void
early_mounts(const struct sbx_child *c)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		sbx_child_fail(c->errp_w, "make mounts private", errno);
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=1m,nr_inodes=128,mode=0755") != 0)
		sbx_child_fail(c->errp_w, "root tmpfs", errno);
}

static void
build_root(const struct sbx_child *c)
{
	char path[128], opts[128];
	const char *stage;
	size_t i;
	int rc, n;
	static const char passwd[] =
	    "sandbox:x:1000:1000:sandbox:/tmp:/usr/sbin/nologin\n";
	static const char group[] = "sandbox:x:1000:\n";

#define TRY(st, expr) do { stage = (st); if ((rc = (expr)) != 0) goto fail; } while (0)
#define SYS(st, expr) do { stage = (st); if ((expr) != 0) { rc = -errno; goto fail; } } while (0)

	/* "make mounts private" and "root tmpfs": early_mounts() */
	SYS("mkdir usr", mkdir(NEWROOT "/usr", 0755));
	TRY("bind /usr", bind_ro("/usr", NEWROOT "/usr", MS_NODEV, 1));
	TRY("link /lib", link_topdir("lib"));
	TRY("link /lib64", link_topdir("lib64"));
	TRY("link /lib32", link_topdir("lib32"));
	TRY("link /libx32", link_topdir("libx32"));
	TRY("link /bin", link_topdir("bin"));
	TRY("link /sbin", link_topdir("sbin"));

	SYS("mkdir dev", mkdir(NEWROOT "/dev", 0755));
	for (i = 0; i < sizeof devices / sizeof devices[0]; i++) {
		char host[64];

		TRY("dev path", mkpath3(NEWROOT "/dev/", devices[i], path,
		    sizeof path));
		TRY("dev path", mkpath3("/dev/", devices[i], host, sizeof host));
		TRY("dev node", write_file(path, "", 0, 0644));
		SYS("bind dev node", mount(host, path, NULL, MS_BIND, NULL));
		SYS("remount dev node", mount(NULL, path, NULL, MS_REMOUNT |
		    MS_BIND | MS_NOSUID | MS_NOEXEC | locked_flags(host), NULL));
	}
	SYS("dev/fd", symlink("/proc/self/fd", NEWROOT "/dev/fd"));
	SYS("dev/stdin", symlink("/proc/self/fd/0", NEWROOT "/dev/stdin"));
	SYS("dev/stdout", symlink("/proc/self/fd/1", NEWROOT "/dev/stdout"));
	SYS("dev/stderr", symlink("/proc/self/fd/2", NEWROOT "/dev/stderr"));
	SYS("dev/shm", symlink("/tmp", NEWROOT "/dev/shm"));

	SYS("mkdir proc", mkdir(NEWROOT "/proc", 0555));
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, "subset=pid") != 0)
		SYS("mount proc", mount("proc", NEWROOT "/proc", "proc",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));

	SYS("mkdir tmp", mkdir(NEWROOT "/tmp", 01777));
	n = snprintf(opts, sizeof opts, "size=%lldm,nr_inodes=%lld,mode=1777",
	    c->lim->tmp_mb, c->lim->tmp_mb * 256 < 64 ? 64 : c->lim->tmp_mb * 256);
	stage = "tmp options";
	if (n < 0 || (size_t)n >= sizeof opts) {
		rc = -EINVAL;
		goto fail;
	}
	SYS("mount tmp", mount("tmpfs", NEWROOT "/tmp", "tmpfs", MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, opts));

	SYS("mkdir etc", mkdir(NEWROOT "/etc", 0755));
	TRY("etc/passwd", write_file(NEWROOT "/etc/passwd", passwd,
	    sizeof passwd - 1, 0644));
	TRY("etc/group", write_file(NEWROOT "/etc/group", group,
	    sizeof group - 1, 0644));
	SYS("mkdir run", mkdir(NEWROOT "/run", 0755));
	SYS("mkdir run/toolgate", mkdir(NEWROOT SBX_RUN_DIR, 0755));
	TRY("runner.py", write_file(NEWROOT SBX_RUN_DIR "/runner.py",
	    tg_sbx_runner_py, (size_t)(tg_sbx_runner_py_end - tg_sbx_runner_py),
	    0644));
	TRY("runner.pyc", write_file(NEWROOT SBX_RUN_DIR "/runner.pyc",
	    tg_sbx_runner_pyc,
	    (size_t)(tg_sbx_runner_pyc_end - tg_sbx_runner_pyc), 0644));
	TRY("validate.py", write_file(NEWROOT SBX_RUN_DIR "/validate.py",
	    tg_sbx_validate_py,
	    (size_t)(tg_sbx_validate_py_end - tg_sbx_validate_py), 0644));
	if (c->egress_sp >= 0)
		TRY("egress socket", make_egress(c->egress_sp));
	if (c->packages != NULL) {	/* the server's package set */
		SYS("mkdir packages", mkdir(NEWROOT SBX_PKG_DIR, 0755));
		TRY("bind packages", bind_ro(c->packages, NEWROOT SBX_PKG_DIR,
		    MS_NODEV, 0));
	}
	if (c->trees != NULL) {	/* warm: sbx_warm_packages_bind */
		SYS("mkdir packages", mkdir(NEWROOT SBX_PKG_DIR, 0755));
		SYS("mkdir trees", mkdir(NEWROOT SBX_TREES_DIR, 0700));
		TRY("bind trees", bind_ro(c->trees, NEWROOT SBX_TREES_DIR,
		    MS_NODEV, 0));
	}

	SYS("chdir new root", chdir(NEWROOT));
	SYS("pivot_root", (int)syscall(SYS_pivot_root, ".", "."));
	SYS("detach old root", umount2(".", MNT_DETACH));
	SYS("chdir /", chdir("/"));
	SYS("remount / read-only", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND |
	    MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
	SYS("sethostname", sethostname("sandbox", 7));
	return;
fail:
	sbx_child_fail(c->errp_w, stage, -rc);
#undef TRY
#undef SYS
}

/* Number of processes the real uid owns (degraded mode: RLIMIT_NPROC counts
 * the whole uid). */
static long long
count_uid_procs(void)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	long long n = 0;
	uid_t uid = getuid();

	d = opendir("/proc");
	if (d == NULL)
		return 256;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    st.st_uid == uid)
			n++;
	}
	closedir(d);
	return n;
}

static int
set_limits(const struct sbx_limits *l, long long nproc)
{
	rlim_t mem = (rlim_t)l->memory_mb * 1024 * 1024;
	rlim_t cpu = (rlim_t)((l->timeout_ms + 999) / 1000 + 1);
	struct {
		int res;
		rlim_t v;
	} t[] = {
		{RLIMIT_NPROC, (rlim_t)nproc},
		{RLIMIT_AS, mem},
		{RLIMIT_DATA, mem},
		{RLIMIT_FSIZE, (rlim_t)l->tmp_mb * 1024 * 1024},
		{RLIMIT_NOFILE, 64},
		{RLIMIT_CPU, cpu},
		{RLIMIT_CORE, 0},
		{RLIMIT_MEMLOCK, 64 * 1024},
		{RLIMIT_MSGQUEUE, 0},
		{RLIMIT_STACK, 8 * 1024 * 1024},
		{RLIMIT_NICE, 0},
		{RLIMIT_RTPRIO, 0},
		{RLIMIT_LOCKS, 64},
		{RLIMIT_SIGPENDING, 256},
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rlimit rl, cur;

		if (getrlimit(t[i].res, &cur) != 0)
			return -errno;
		rl.rlim_cur = rl.rlim_max = t[i].v;
		if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < t[i].v)
			rl.rlim_cur = rl.rlim_max = cur.rlim_max;
		if (setrlimit(t[i].res, &rl) != 0)
			return -errno;
	}
	return 0;
}

/* Move fd to >= 10 so that the dup2 onto 0..4 below cannot clobber it. */
static int
lift(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static void
setup_fds(const struct sbx_child *c)
{
	int fds[4], errp, i;

	fds[0] = lift(c->job_r);
	fds[1] = lift(c->out_w);
	fds[2] = lift(c->err_w);
	fds[3] = lift(c->res_w);
	errp = lift(c->errp_w);
	if (errp < 0)
		_exit(127);
	for (i = 0; i < 4; i++) {
		if (fds[i] < 0)
			sbx_child_fail(errp, "dup fds", errno);
		if (dup2(fds[i], i) != i)
			sbx_child_fail(errp, "dup2", errno);
	}
	if (dup2(errp, 4) != 4 || fcntl(4, F_SETFD, FD_CLOEXEC) != 0)
		sbx_child_fail(errp, "dup2 errpipe", errno);
	if (syscall(SYS_close_range, 5U, ~0U, 0U) != 0)
		sbx_child_fail(4, "close_range", errno);
}

static void
drop_caps(int errfd)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
	int cap;

	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
			sbx_child_fail(errfd, "drop bounding set", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
		sbx_child_fail(errfd, "clear ambient caps", errno);
	memset(&h, 0, sizeof h);
	memset(d, 0, sizeof d);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &h, d) != 0)
		sbx_child_fail(errfd, "capset", errno);
}

/* The landlock layer of a run with namespaces, cold or warm: the same
 * rights whether or not the mount layer is there (--no-mount passes the
 * per-run scratch directory, and tests landlock alone against the host
 * tree). A kernel without landlock is not fatal here. */
static void
sandbox_landlock(int errfd, const char *scratch)
{
	struct sbx_ll_rule rules[] = {
		{"/usr", SBX_LL_RX},
		{"/proc", SBX_LL_RO},
		{"/dev/null", SBX_LL_DEV},
		{"/dev/zero", SBX_LL_DEV},
		{"/dev/full", SBX_LL_DEV},
		{"/dev/random", SBX_LL_DEV},
		{"/dev/urandom", SBX_LL_DEV},
		{scratch ? scratch : "/tmp", SBX_LL_RW},
		{scratch ? scratch : "/etc", SBX_LL_RO},
		{scratch ? scratch : SBX_RUN_DIR, SBX_LL_RO},
	};
	int rc;

	rc = sbx_landlock_apply(rules, sizeof rules / sizeof rules[0], 1);
	if (rc < 0 && rc != -ENOSYS && rc != -EOPNOTSUPP)
		sbx_child_fail(errfd, "landlock", -rc);
}

void
sbx_child_main(const struct sbx_child *c)
{
	char script[256], ebuf[3][300];
	char *envp[6];
	char *argv[8];
	sigset_t none;
	char go;
	ssize_t r;
	long long nproc;
	int rc;

	/* reliability: the parent's ends of the sync and error pipes are the
	 * parent's alone. Held here too, a parent that died before the prctl
	 * below (killed right after the clone) left this child waiting for
	 * its byte forever: pid 1 of its pid namespace, so deaf to SIGTERM. */
	if (c->sync_w >= 0)
		close(c->sync_w);
	if (c->errp_r >= 0)
		close(c->errp_r);
#ifdef TG_SANDBOX_TEST_HOOKS
	if (c->test_delay_ms > 0) {	/* --test-child-delay-ms: widen the
					 * window below */
		struct timespec ts = {c->test_delay_ms / 1000,
			(long)(c->test_delay_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
#endif
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		sbx_child_fail(c->errp_w, "pdeathsig", errno);
	{	/* a parent that died before the prctl sends no signal, but it
		 * closed its files first: its error pipe has no reader */
		struct pollfd p = {.fd = c->errp_w, .events = 0, .revents = 0};

		if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
			_exit(127);
	}
	if (!c->degraded && !c->no_mount)
		early_mounts(c);
	do {
		r = read(c->sync_r, &go, 1);
	} while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(127);	/* parent gone */
	SBX_MARK("child.go");

	if (c->degraded) {
		if (setsid() < 0)
			sbx_child_fail(c->errp_w, "setsid", errno);
		nproc = count_uid_procs() + c->lim->max_procs;
		if (chdir(c->scratch) != 0)
			sbx_child_fail(c->errp_w, "chdir scratch", errno);
	} else {
		if (!c->no_mount)
			build_root(c);
		else if (c->egress_sp >= 0)
			sbx_child_fail(c->errp_w, "egress", ENOTSUP);
		SBX_MARK("child.root");
		nproc = c->lim->max_procs;
		if (chdir(c->no_mount ? c->scratch : "/tmp") != 0)
			sbx_child_fail(c->errp_w, "chdir /tmp", errno);
	}
	if ((rc = set_limits(c->lim, nproc)) != 0)
		sbx_child_fail(c->errp_w, "rlimits", -rc);
	SBX_MARK("child.rlimits");

	setup_fds(c);		/* from here the error pipe is fd 4 */
	if (!c->degraded)
		drop_caps(4);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		sbx_child_fail(4, "no_new_privs", errno);
	SBX_MARK("child.caps");
	if (c->degraded) {
		struct sbx_ll_rule rules[] = {
			{"/usr", SBX_LL_RX},
			{c->scratch, SBX_LL_RW},
			{"/dev/null", SBX_LL_DEV},
			{"/dev/zero", SBX_LL_DEV},
			{"/dev/full", SBX_LL_DEV},
			{"/dev/random", SBX_LL_DEV},
			{"/dev/urandom", SBX_LL_DEV},
		};
		rc = sbx_landlock_apply(rules, sizeof rules / sizeof rules[0], 1);
		if (rc < 0)	/* the only filesystem layer left: mandatory */
			sbx_child_fail(4, "landlock (required in degraded mode)",
			    -rc);
	} else
		sandbox_landlock(4, c->no_mount ? c->scratch : NULL);
	SBX_MARK("child.landlock");
	if ((rc = sbx_seccomp_load(c->degraded)) != 0)
		sbx_child_fail(4, "seccomp", -rc);
	SBX_MARK("child.seccomp");

	/* The precompiled runner only for the interpreter it was built for
	 * (a .pyc carries that Python's magic number). */
	rc = snprintf(script, sizeof script, "%s/%s",
	    c->scratch ? c->scratch : SBX_RUN_DIR,
	    c->mode == SBX_MODE_VALIDATE ? "validate.py" :
	    strcmp(c->python, SBX_PYC_PYTHON) == 0 ? "runner.pyc" : "runner.py");
	if (rc < 0 || (size_t)rc >= sizeof script)
		sbx_child_fail(4, "script path", ENAMETOOLONG);
	argv[0] = (char *)"python3";
	argv[1] = (char *)"-I";
	argv[2] = (char *)"-S";
	argv[3] = (char *)"-B";
	argv[4] = (char *)"-u";
	argv[5] = script;
	argv[6] = NULL;
	if (c->degraded) {
		int n0 = snprintf(ebuf[0], sizeof ebuf[0], "HOME=%s", c->scratch);
		int n1 = snprintf(ebuf[1], sizeof ebuf[1], "TMPDIR=%s",
		    c->scratch);

		if (n0 < 0 || (size_t)n0 >= sizeof ebuf[0] || n1 < 0 ||
		    (size_t)n1 >= sizeof ebuf[1])
			sbx_child_fail(4, "env", ENAMETOOLONG);
		envp[1] = ebuf[0];
		envp[3] = ebuf[1];
	} else {
		envp[1] = (char *)"HOME=/tmp";
		envp[3] = (char *)"TMPDIR=/tmp";
	}
	envp[0] = (char *)"PATH=/usr/bin";
	envp[2] = (char *)"LANG=C.UTF-8";
	envp[4] = c->degraded ? (char *)"TOOLGATE_ISOLATION=degraded" :
	    (char *)"TOOLGATE_ISOLATION=full";
	envp[5] = NULL;
	(void)ebuf[2];
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	SBX_MARK("child.exec");
	execve(c->python, argv, envp);
	sbx_child_fail(4, "execve python", errno);
}

/* ---- warm sandboxes (zygote.c) ------------------------------------------ */

/*
 * The zygote's root: the same tree as a cold run's (early_mounts and
 * build_root), with a token /tmp (each call mounts its own over it).
 * Failures go to errp as "stage: reason" and end the process.
 */
static int
bind_pkg(const char *src, const char *dst)
{
	return bind_ro(src, dst, MS_NODEV, 0);
}

void
sbx_zygote_root(int errp)
{
	static const struct sbx_limits lim = {.tmp_mb = 1};
	struct sbx_child c;

	memset(&c, 0, sizeof c);
	c.sync_w = c.errp_r = -1;
	c.lim = &lim;
	c.errp_w = errp;
	c.egress_sp = -1;
	{	/* warm package sets (packages.c): a root that is no
		 * directory only costs them their warmth */
		struct stat st;

		if (sbx_packages_root != NULL &&
		    stat(sbx_packages_root, &st) == 0 && S_ISDIR(st.st_mode))
			c.trees = sbx_packages_root;
	}
	early_mounts(&c);
	build_root(&c);
}

/*
 * One warm call's child, forked by the zygote into a new pid namespace
 * (it is pid 1 there) and still holding the zygote's capabilities over its
 * user namespace. Before one byte of the call arrives: own session, new
 * mount, network, IPC and UTS namespaces, a fresh size-capped /tmp and a
 * fresh /proc of its own pid namespace, the call's rlimits, fds 0..4
 * (job, stdout, stderr, result, egress connection), no capabilities,
 * no_new_privs, landlock, seccomp - the same layers, in the same order, as
 * a cold run's child (sbx_child_main). fds: the six descriptors the
 * helper sent (fds[5] is the ready pipe, on which failures are reported).
 * Returns with fd 5 still open; the caller writes "R" on it.
 */
void
sbx_warm_child_setup(const struct sbx_limits *lim, const int fds[6])
{
	char opts[128];
	int i, n, rc, lifted[6];
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		sbx_child_fail(fds[5], "pdeathsig", errno);
	if (setsid() < 0)
		sbx_child_fail(fds[5], "setsid", errno);
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
	    CLONE_NEWUTS) != 0)
		sbx_child_fail(fds[5], "unshare", errno);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		sbx_child_fail(fds[5], "make mounts private", errno);
	n = snprintf(opts, sizeof opts, "size=%lldm,nr_inodes=%lld,mode=1777",
	    lim->tmp_mb, lim->tmp_mb * 256 < 64 ? 64 : lim->tmp_mb * 256);
	if (n < 0 || (size_t)n >= sizeof opts)
		sbx_child_fail(fds[5], "tmp options", EINVAL);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    opts) != 0)
		sbx_child_fail(fds[5], "mount tmp", errno);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "subset=pid") != 0 && mount("proc", "/proc", "proc", MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL) != 0)
		sbx_child_fail(fds[5], "mount proc", errno);
	if (sethostname("sandbox", 7) != 0)
		sbx_child_fail(fds[5], "sethostname", errno);
	if (chdir("/tmp") != 0)
		sbx_child_fail(fds[5], "chdir /tmp", errno);
	sbx_warm_packages_bind(fds[5], bind_pkg);
	/* RLIMIT_NPROC counts the uid of the zygote's user namespace: the
	 * zygote and the next call's parked child are the two others. */
	if ((rc = set_limits(lim, lim->max_procs + 2)) != 0)
		sbx_child_fail(fds[5], "rlimits", -rc);
	for (i = 0; i < 6; i++) {
		lifted[i] = lift(fds[i]);
		if (lifted[i] < 0)
			sbx_child_fail(fds[5], "dup fds", errno);
	}
	for (i = 0; i < 6; i++)
		if (dup2(lifted[i], i) != i)
			sbx_child_fail(lifted[5], "dup2", errno);
	if (syscall(SYS_close_range, 6U, ~0U, 0U) != 0)
		sbx_child_fail(5, "close_range", errno);
	drop_caps(5);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		sbx_child_fail(5, "no_new_privs", errno);
	sandbox_landlock(5, NULL);
	if ((rc = sbx_seccomp_load(0)) != 0)
		sbx_child_fail(5, "seccomp", -rc);
	/* dispositions stay the zygote's Python's (SIGPIPE ignored, as
	 * Python's own start-up sets it in a cold run) */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
