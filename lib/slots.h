/*
 * slots.h - the tool slots: a cap, shared by all the workers of a master,
 * on how many tool runs (sandbox runs and calls passed through to external
 * sources) are in progress at once, with a bounded wait queue.
 *
 * The control plane must never wait on tools: a tool runs synchronously
 * in the worker that accepted its request, so without a cap N slow calls
 * take N workers and /health, /ready, REST and tools/list queue behind
 * them. With TOOLGATE_TOOL_SLOTS + TOOLGATE_TOOL_QUEUE kept below
 * TOOLGATE_WORKERS, at least one worker is always free for everything that
 * is not a tool run.
 *
 * The slots live in one anonymous MAP_SHARED mapping made by the master
 * before it forks (like lib/metrics.c and lib/inval.c): an owner pid per
 * slot (taken with a compare-and-swap), the pids of the callers waiting
 * (at most TOOLGATE_TOOL_QUEUE), and a generation word that every release
 * bumps and wakes with a futex. A waiter gives up at its deadline
 * (TOOLGATE_TOOL_QUEUE_WAIT_MS); a caller that finds the queue full gives
 * up at once. Both then answer "busy, retry after N s". When a worker dies
 * (SIGKILL, crash) the master reaps it and calls tg_slots_reclaim() with
 * its pid: its slot and its queue place are freed (a zombie's pid is not
 * reused before it is reaped, so the pid is an exact owner).
 *
 * Without the mapping (CGI mode, a worker under an external FastCGI
 * process manager, CLI commands) every acquire succeeds at once: each
 * process serves one request at a time and the process manager's own
 * process limit is the cap.
 *
 * Acquisition nests within a process (a tools/call holds its slot and the
 * sandbox run inside it does not take a second one).
 */
#ifndef TG_SLOTS_H
#define TG_SLOTS_H

#include <sys/types.h>

#define TG_SLOTS_MAX 64		/* = TG_MAX_WORKERS */
#define TG_SLOTS_QUEUE_WAIT_DEFAULT_MS 5000

/* Default slots and queue for a number of workers: half the workers run
 * tools, a quarter (at least one) is kept for the control plane, the rest
 * may wait in the queue. */
void tg_slots_defaults(int workers, int *slots, int *queue);

/* Master, before fork: maps the shared state. Returns TG_OK or
 * -TG_E_NOMEM (then there is no cap; the caller logs it). */
int tg_slots_init(int slots, int queue, int queue_wait_ms);
void tg_slots_destroy(void);

/* Takes a slot, waiting in the queue up to the queue deadline. TG_OK, or
 * -TG_E_BUSY (no slot: the queue was full or the wait ran out). */
int tg_slots_acquire(void);
/* Gives back what tg_slots_acquire() took (a no-op past nesting). */
void tg_slots_release(void);
/* 1 while this process holds a slot. */
int tg_slots_held(void);

/* Master: frees whatever a dead worker (pid, already reaped) held. */
void tg_slots_reclaim(pid_t pid);

/* Seconds a refused caller should wait before it retries (>= 1). */
int tg_slots_retry_after_s(void);

/* Counters for /metrics (lib/metrics.c renders them); 0 without the
 * mapping. */
struct tg_slots_stats {
	int slots, busy, queue, waiting;
	unsigned long long acquired, queued, busy_full, busy_timeout, reclaimed;
	double wait_s;
};
int tg_slots_stats(struct tg_slots_stats *st);

#endif
