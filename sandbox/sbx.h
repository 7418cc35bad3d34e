/*
 * sbx.h - internal interfaces of the toolgate-sandbox helper.
 *
 * The helper is split into small files:
 *   helper.c   argv, request parsing, the monitor (parent side), status document
 *   child.c    everything the sandboxed child does between clone and execve
 *   filter.c   the seccomp filter (libseccomp, at build time: seccomp_gen.c)
 *   seccomp.c  loads the precompiled filter
 *   landlock.c the landlock ruleset (raw syscalls; Debian 12 headers are ABI 2)
 *   proxy.c    the egress proxy (libcurl), a separate process outside the sandbox
 *   fdio.c     write loops and descriptor passing (helper, child, zygote, proxy)
 *   embed.S    runner.py and validate.py, embedded into the binary at build time
 *
 * Nothing here is used outside sandbox/; lib/sandbox_client.h is the public API.
 */
#ifndef TG_SBX_H
#define TG_SBX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <linux/filter.h>

/* Defaults and bounds of the request's "limits" (docs/sandbox.md). */
#define SBX_DEF_TIMEOUT_MS	30000
#define SBX_DEF_MEMORY_MB	256
#define SBX_DEF_MAX_PROCS	64
#define SBX_DEF_OUTPUT_BYTES	(100 * 1024)
#define SBX_DEF_TMP_MB		16
#define SBX_DEF_RESULT_BYTES	(4 * 1024 * 1024)
#define SBX_MAX_CODE		(256 * 1024)
#define SBX_MAX_REQUEST		(8 * 1024 * 1024)
#define SBX_INNER_ID		1000	/* uid/gid inside the user namespace */
#define SBX_RUN_DIR		"/run/toolgate"
/* the server's package set, bound read-only (packages.c) */
#define SBX_PKG_DIR		SBX_RUN_DIR "/packages"
/* warm: every tree of --packages-root in the zygote's root; each child
 * binds its call's tree at SBX_PKG_DIR and unmounts this (packages.c) */
#define SBX_TREES_DIR		SBX_RUN_DIR "/.trees"
#define SBX_EGRESS_SOCK		"/run/toolgate/egress.sock"

enum sbx_mode {
	SBX_MODE_RUN,
	SBX_MODE_VALIDATE,
};

struct sbx_limits {
	long long timeout_ms;
	long long memory_mb;
	long long max_procs;
	long long output_bytes;
	long long tmp_mb;
	long long result_bytes;
};

/* Everything the child needs; filled by the parent before clone. */
struct sbx_child {
	enum sbx_mode mode;
	const struct sbx_limits *lim;
	const char *python;	/* absolute path under /usr */
	int degraded;		/* no namespaces: degraded mode */
	int no_mount;		/* debug: skip the mount layer (tests landlock) */
	const char *scratch;	/* degraded mode: per-run directory */
	int job_r;		/* runner job (becomes fd 0) */
	int out_w;		/* tool stdout (fd 1) */
	int err_w;		/* tool stderr (fd 2) */
	int res_w;		/* runner result (fd 3) */
	int sync_r;		/* one byte from the parent: id maps written */
	int sync_w;		/* its write end (the parent's): closed first,
				 * so that the parent's death is EOF */
	int errp_r;		/* the error pipe's read end (the parent's) */
	int test_delay_ms;	/* test build: sleep before PR_SET_PDEATHSIG
				 * (always 0 in production) */
	int errp_w;		/* setup failure message; CLOEXEC, EOF = exec ok */
	int egress_sp;		/* -1, or socket to hand the egress listener to */
	const char *packages;	/* NULL, or the package tree to bind (packages.c) */
	const char *trees;	/* zygote: --packages-root, bound at SBX_TREES_DIR */
};

/* packages.c: 0 when path may be bound as the package set, else -1 with
 * msg set. */
int sbx_packages_check(const char *path, char *msg, size_t msglen);
/* packages.c: the request's "package_egress" (the package installer's own
 * runs only): checked by the helper, handed to the proxy before it serves.
 * match is proxy.c's host matcher. */
int sbx_pkg_egress_check(const json_t *pe, char *msg, size_t msglen);
void sbx_proxy_packages(const json_t *pe);
long long sbx_pkg_download_cap(const char *host, const char *scheme, long port,
    int (*match)(const json_t *, const char *, const char *, long));
int sbx_pkg_private_ok(const char *host, const char *scheme, long port,
    int (*match)(const json_t *, const char *, const char *, long));
int sbx_pkg_installer(void);
/* packages.c, warm package sets: --packages-root (the worker's
 * TOOLGATE_PACKAGES_DIR) or NULL; the tree name of a request's packages
 * path when it is <root>/<64 hex> (0), else -1; the tree of the child
 * being prepared (zygote.c) and its mounts (child.c). */
extern const char *sbx_packages_root;
int sbx_pkg_tree_of(const char *packages, char tree[65]);
extern char sbx_warm_tree[65];
void sbx_warm_packages_bind(int errp,
    int (*bind)(const char *, const char *));
json_t *sbx_pkg_store(const json_t *files,
    int (*b64dec)(const char *, char **, size_t *));

/* child.c: never returns. */
void sbx_child_main(const struct sbx_child *c) __attribute__((noreturn));
/* child.c: write "stage: message" on the error pipe and _exit(127). */
void sbx_child_fail(int errp, const char *stage, int err)
    __attribute__((noreturn));

/* child.c, for warm sandboxes (zygote.c): the zygote's root, and the
 * isolation of one call's child before the call arrives. */
void sbx_zygote_root(int errp);
void sbx_warm_child_setup(const struct sbx_limits *lim, const int fds[6]);

/*
 * Warm sandboxes (docs/sandbox.md "Warm sandboxes"): the helper in --serve
 * mode talks to its zygote (zygote.c) over a SOCK_SEQPACKET socketpair.
 *   helper -> zygote  SBX_ZM_PREPARE + 6 fds (job r, stdout w, stderr w,
 *                     result w, egress connection, ready w): fork one
 *                     isolated child that waits for its job
 *   zygote -> helper  SBX_ZM_READY once Python is initialised;
 *                     SBX_ZM_CHILD + the child's pidfd;
 *                     SBX_ZM_EXIT when it reaped a child (status, rusage);
 *                     SBX_ZM_FAIL + text when it could not start
 * The zygote only ever receives limits: never code, arguments or secrets
 * (those go from the helper straight to the child's job pipe).
 */
enum {
	SBX_ZM_PREPARE = 'P',
	SBX_ZM_READY = 'Z',
	SBX_ZM_CHILD = 'C',
	SBX_ZM_EXIT = 'X',
	SBX_ZM_FAIL = 'F',
};

struct sbx_zmsg {
	char type;
	unsigned int id;	/* the helper's number for the child */
	int zpid;		/* the child's pid in the zygote's namespace */
	int wstatus;
	struct sbx_limits lim;
	long long cpu_us;	/* user + system time of the reaped child */
	long long maxrss_kb;
	char text[200];
};

#define SBX_ZYGOTE_CTL_FD	3	/* the zygote's control socket */
#define SBX_ZYGOTE_ERR_FD	5	/* setup failure text */
/* zygote.c: the zygote's main (after exec in fresh namespaces).
 * test_ready_first: the test build's --test-ready-first (ignored without
 * TG_SANDBOX_TEST_HOOKS). */
int sbx_zygote_main(const char *python, int test_ready_first)
    __attribute__((noreturn));

/* seccomp.c: load the precompiled filter (sets no_new_privs first); 0 or
 * negative errno. */
int sbx_seccomp_load(int degraded);
/* seccomp.c: print the filter as PFC on fd (for review); 0 or -errno. */
int sbx_seccomp_dump(int degraded, int fd);
/* seccomp.c: 1 if seccomp filters with SECCOMP_RET_KILL_PROCESS work. */
int sbx_seccomp_available(void);
/* filter.c (build time only, in seccomp-gen): export the filter built with
 * libseccomp as raw BPF on bpf_fd and PFC on pfc_fd (-1: skip). */
int sbx_seccomp_export(int degraded, int bpf_fd, int pfc_fd);
/* build/sandbox/seccomp_bpf.c, generated by seccomp-gen */
extern const struct sock_filter tg_sbx_bpf_full[];
extern const unsigned short tg_sbx_bpf_full_len;
extern const char tg_sbx_pfc_full[];
extern const struct sock_filter tg_sbx_bpf_degraded[];
extern const unsigned short tg_sbx_bpf_degraded_len;
extern const char tg_sbx_pfc_degraded[];

/* landlock.c */
struct sbx_ll_rule {
	const char *path;
	uint64_t access;	/* SBX_LL_* sets below */
};
#define SBX_LL_RO	1	/* read files and directories */
#define SBX_LL_RX	2	/* read + execute */
#define SBX_LL_RW	3	/* read, write, create, remove; no execute, no devices */
#define SBX_LL_DEV	4	/* read/write/ioctl of existing files only */
#define SBX_LL_DIR	5	/* readdir only */
/* Highest landlock ABI of the running kernel, or 0. */
int sbx_landlock_abi(void);
/* Apply rules (paths that do not exist are skipped); returns the ABI used
 * (> 0), or negative errno. scope: also block signals and abstract unix
 * sockets leaving the domain (ABI 6+). */
int sbx_landlock_apply(const struct sbx_ll_rule *rules, size_t n, int scope);

/* proxy.c: serve egress requests on listener lfd until it is closed or the
 * run ends. hosts: JSON array of allowed host names. test_allow: "host:port"
 * of one loopback endpoint that is allowed anyway (the test build's
 * --egress-test-allow), or NULL; ignored without TG_SANDBOX_TEST_HOOKS. */
/* lfd may also be an already connected socket (warm sandboxes): then
 * that one connection is served. */
void sbx_proxy_main(int lfd, const json_t *hosts, long long deadline_ms,
    const char *test_allow) __attribute__((noreturn));
/* The proxy's report pipe (observability): one JSON line per request,
 * collected by the helper into the status's "egress" array. */
#define SBX_EGRESS_REPORT_FD 4
#define SBX_EGRESS_REPORT_MAX 64

/* embed.S */
extern const char tg_sbx_runner_py[];
extern const char tg_sbx_runner_py_end[];
extern const char tg_sbx_runner_pyc[];
extern const char tg_sbx_runner_pyc_end[];
extern const char tg_sbx_validate_py[];
extern const char tg_sbx_validate_py_end[];

/* util */
long long sbx_now_ms(void);

/* fdio.c: write all n bytes of p to fd (retrying EINTR); 0 or -errno. */
int sbx_write_all(int fd, const void *p, size_t n);
/* fdio.c: the same on a socket, with send(2) and MSG_NOSIGNAL. */
int sbx_send_all(int sock, const void *p, size_t n);
/* fdio.c: the most descriptors one message carries (SBX_ZM_PREPARE's six) */
#define SBX_MAX_FDS	6
/* fdio.c: send len bytes of p as one message on sock with nfd (0 to
 * SBX_MAX_FDS) descriptors attached; 0, or negative errno (-EIO when the
 * message went out short). */
int sbx_send_fds(int sock, const void *p, size_t len, const int *fds,
    int nfd);
/* fdio.c: receive one message of exactly len bytes into p (recvmsg flags,
 * e.g. MSG_DONTWAIT; retries EINTR) and up to maxfd descriptors into fds,
 * close-on-exec (any more are closed); *nfd gets their number. 0, negative
 * errno (-EAGAIN with MSG_DONTWAIT), or -EPROTO at end of file or on a
 * message of another length (then no descriptor is kept). */
int sbx_recv_fds(int sock, void *p, size_t len, int flags, int *fds,
    int maxfd, int *nfd);

/* Phase checkpoints for latency work (docs/sandbox.md "Performance"):
 * `make sandbox-timing` builds build/toolgate-sandbox-timing with
 * -DSBX_TIMING, where each SBX_MARK writes "sbx-mark <CLOCK_MONOTONIC ns>
 * <name>" on fd 2 with one write(2); tests/sandbox/phases.py collects them.
 * In the child after its fds are set up, fd 2 is the tool's stderr pipe, so
 * those marks come back in the status document's "stderr". The normal build
 * compiles them out. */
#ifdef SBX_TIMING
void sbx_mark(const char *name);
#define SBX_MARK(name) sbx_mark(name)
#else
#define SBX_MARK(name) ((void)0)
#endif

#endif
