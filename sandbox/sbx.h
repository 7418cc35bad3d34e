/*
 * sbx.h - internal interfaces of the toolgate-sandbox helper.
 *
 * The helper is split into small files:
 *   helper.c   argv, request parsing, the monitor (parent side), status document
 *   child.c    everything the sandboxed child does between clone and execve
 *   filter.c   the seccomp filter (libseccomp)
 *   landlock.c the landlock ruleset (raw syscalls; Debian 12 headers are ABI 2)
 *   proxy.c    the egress proxy (libcurl), a separate process outside the sandbox
 *   embed.S    runner.py and validate.py, embedded into the binary at build time
 *
 * Nothing here is used outside sandbox/; lib/sandbox_client.h is the public API.
 */
#ifndef TG_SBX_H
#define TG_SBX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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
	int errp_w;		/* setup failure message; CLOEXEC, EOF = exec ok */
	int egress_sp;		/* -1, or socket to hand the egress listener to */
};

/* child.c: never returns. */
void sbx_child_main(const struct sbx_child *c) __attribute__((noreturn));
/* child.c: write "stage: message" on the error pipe and _exit(127). */
void sbx_child_fail(int errp, const char *stage, int err)
    __attribute__((noreturn));

/* filter.c: build and load the filter; 0 or negative errno. */
int sbx_seccomp_load(int degraded);
/* filter.c: print the filter as PFC on fd (for review). */
int sbx_seccomp_dump(int degraded, int fd);

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
 * of one loopback endpoint that is allowed anyway (tests only), or NULL. */
void sbx_proxy_main(int lfd, const json_t *hosts, long long deadline_ms,
    const char *test_allow) __attribute__((noreturn));

/* embed.S */
extern const char tg_sbx_runner_py[];
extern const char tg_sbx_runner_py_end[];
extern const char tg_sbx_runner_pyc[];
extern const char tg_sbx_runner_pyc_end[];
extern const char tg_sbx_validate_py[];
extern const char tg_sbx_validate_py_end[];

/* util */
long long sbx_now_ms(void);

#endif
