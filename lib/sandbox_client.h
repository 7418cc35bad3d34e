/*
 * sandbox_client.h - run a tool call through toolgate-sandbox (worker side).
 *
 * tg_sandbox_run() posix_spawns the helper with an explicit minimal
 * environment, its own session, default signals and only three pipes open
 * (request on stdin, diagnostics on stderr, the status document on fd 3),
 * writes the request, collects the status, enforces a hard deadline of
 * limits.timeout_ms + grace even if the helper misbehaves (SIGKILL through a
 * pidfd), and always reaps the helper. The request and result documents are
 * described in docs/sandbox.md.
 *
 * With opts.warm the helper is started once per process and kept
 * (--serve): requests go to it as frames over a socket, and each call runs
 * in a child its zygote isolated ahead of the call; the result says
 * "sandbox": "warm" or "cold".
 *
 * Dependencies: jansson, libc, lib/status.h. Not thread-safe with warm
 * (one long-lived helper per process, one call at a time; workers are
 * single-threaded); SIGPIPE is never raised (the request goes over a socket with
 * MSG_NOSIGNAL). Do not set SIGCHLD to SIG_IGN in the calling process.
 */
#ifndef TG_SANDBOX_CLIENT_H
#define TG_SANDBOX_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#define TG_SANDBOX_HELPER_DEFAULT	"/usr/local/libexec/toolgate-sandbox"
#define TG_SANDBOX_GRACE_MS_DEFAULT	5000
#define TG_SANDBOX_MAX_STATUS		(80 * 1024 * 1024)

enum tg_sandbox_isolation {
	TG_SANDBOX_UNAVAILABLE = 0,
	TG_SANDBOX_DEGRADED = 1,
	TG_SANDBOX_FULL = 2,
};

struct tg_sandbox_opts {
	/* Helper binary; NULL = TG_SANDBOX_HELPER_DEFAULT. */
	const char *helper_path;
	/* Python inside the sandbox (must be under /usr); NULL = helper's
	 * default /usr/bin/python3.11. */
	const char *python_path;
	/* Non-zero: pass --allow-degraded (admin enabled degraded mode). */
	int allow_degraded;
	/* Extra wall time beyond limits.timeout_ms before the client kills
	 * the helper itself; 0 = TG_SANDBOX_GRACE_MS_DEFAULT. */
	int grace_ms;
	/* Optional NULL-terminated extra helper arguments (e.g.
	 * "--packages-root", DIR: lib/sandbox_cfg.h; sandbox-drive passes
	 * its own, such as the test build's hooks, docs/sandbox.md). */
	const char *const *extra_args;
	/* Optional buffer for a one-line reason when a call fails; may be
	 * NULL. Written on failure only. */
	char *diag;
	size_t diag_len;
	/* Optional: called for each event the tool emits while it runs
	 * (toolgate.log / toolgate.progress, docs/sandbox.md), a JSON object
	 * (borrowed for the call):
	 *   {"type":"log", "level":"info", "data":<json>, "logger"?:"..."}
	 *   {"type":"progress", "progress":n, "total"?:n, "message"?:"..."}
	 * Returning -1 cancels the run (as cancel_fd does). NULL: the helper
	 * gets no events fd and the runner's events are dropped. */
	int (*on_event)(void *ctx, const json_t *ev);
	void *event_ctx;
	/* Optional: while the tool runs this fd is polled for hang-up
	 * (POLLHUP / POLLRDHUP / POLLERR; e.g. the FastCGI connection, which
	 * nginx closes when the client goes away); then the helper and its
	 * sandbox are killed and the run ends as cancelled. Used when > 0
	 * (fd 0 is never a request connection), so a zeroed struct has none. */
	int cancel_fd;
	/* Warm sandboxes (docs/sandbox.md "Warm sandboxes"): 0 = every call
	 * spawns a helper (cold); 1 = calls go to this process's long-lived
	 * helper (--serve) and its zygote, falling back to a cold run when
	 * no warm child can be had; 2 = like 1 but never cold (tests: a
	 * call waits for the zygote to start, and fails without one). */
	int warm;
	/* With warm: recycle the zygote after this many calls / this long
	 * (0 = never). Part of what shapes it: a change restarts it. */
	long long warm_calls;
	long long warm_ms;
	/* Optional (observability, issue #23): told each phase of the run as
	 * it happens, for span events: "spawn" (helper started, or the
	 * request handed to the warm zygote), "setup" (the request is
	 * written: the sandbox is being set up), "wait" (the status is in:
	 * the run is over, reaping). NULL: not told. */
	void (*on_phase)(void *ctx, const char *phase);
	void *phase_ctx;
};

/*
 * Run one request (mode "run" or "validate"; see docs/sandbox.md).
 *
 * Returns 0 and sets *result_out to a new reference (caller json_decrefs it)
 * whenever the tool ran, whatever its outcome: exceptions, timeouts, output
 * and memory limits are reported inside the result ("ok": false, "error",
 * "timed_out", "truncated" ...). A run cancelled through cancel_fd or
 * on_event is such an outcome too: {"ok": false, "cancelled": true,
 * "error": {"type": "Cancelled", ...}, "result": null, "stdout": "",
 * "stderr": ""}. The result is parsed with JSON_ALLOW_NUL,
 * so strings may contain NUL bytes.
 *
 * Fails (nothing stored in *result_out) with:
 *   -TG_E_BADREQ    the helper rejected the request (diag says why)
 *   -TG_E_TOOLARGE  code or request over the limits
 *   -TG_E_UNAVAIL   helper missing/not executable, refused to run (root,
 *                   no namespaces and degraded mode not allowed), or the
 *                   sandbox could not be set up
 *   -TG_E_TIMEOUT   the helper itself overran timeout + grace and was killed
 *   -TG_E_BUSY      no tool slot was free within the queue wait (lib/slots.h;
 *                   a caller holding one already is not gated again)
 *   -TG_E_NOMEM, -TG_E_INTERNAL
 */
int tg_sandbox_run(const struct tg_sandbox_opts *o, const json_t *request,
    json_t **result_out);

/*
 * Warm sandboxes: start this process's long-lived helper and its zygote
 * now, ahead of the first call (a no-op when o->warm is 0 or it runs
 * already). 0 or -TG_E_*; a failure only means the first call starts it.
 */
int tg_sandbox_warm_start(const struct tg_sandbox_opts *o);

/* Stops this process's long-lived helper, if any (tests; exit does it
 * anyway: the helper dies with its worker). */
void tg_sandbox_warm_stop(void);

/*
 * Ask the helper which isolation this host gives (for /ready): full
 * (namespaces + landlock + seccomp), degraded (landlock + seccomp + rlimits,
 * and only if o->allow_degraded), or unavailable. Returns 0 and sets
 * *level; on failure to run the helper at all, returns -TG_E_UNAVAIL with
 * *level untouched. details_out, if not NULL, receives a new reference to
 * the helper's probe document ({"isolation","userns","landlock_abi",
 * "seccomp","reason"}).
 */
int tg_sandbox_probe(const struct tg_sandbox_opts *o,
    enum tg_sandbox_isolation *level, json_t **details_out);

/* "full", "degraded" or "unavailable"; never NULL. */
const char *tg_sandbox_isolation_name(enum tg_sandbox_isolation level);

#endif
