/*
 * slots.c - the tool slots shared by the workers of a master (see slots.h).
 *
 * Lock-free: every field of the mapping is an atomic. A slot is owned by
 * the pid stored in it; a queue place is a pid in waiter[] (a caller claims
 * an entry, then counts the entries and backs off if there are more than
 * TOOLGATE_TOOL_QUEUE: concurrent callers may both back off, never both
 * stay). With no separate counter, nothing can leak: the master gives back
 * a dead worker's entry by clearing its pid. Waiters sleep
 * on the futex word `gen`, which every release bumps before it wakes them
 * all (at most TOOLGATE_TOOL_QUEUE processes); each sleep is also capped at
 * 200 ms, so a lost wake-up costs at most that. The queue is not strictly
 * FIFO: a newcomer may take a slot that a waiter was woken for.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/slots.h"
#include "lib/shm.h"
#include "lib/status.h"

struct shm {
	int nslots, nqueue, wait_ms;
	_Atomic uint32_t gen;			/* futex word */
	_Atomic pid_t owner[TG_SLOTS_MAX];	/* 0: free */
	_Atomic pid_t waiter[TG_SLOTS_MAX];	/* 0: free */
	atomic_ullong acquired, queued, busy_full, busy_timeout, reclaimed;
	atomic_ullong wait_us;			/* total time spent queued */
};

static struct shm *shm;
static int held = -1;	/* slot index, or -1 (none / no mapping) */
static int depth;	/* nesting of tg_slots_acquire in this process */
static pid_t depth_pid;	/* whose depth it is (a forked child holds none) */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
tg_slots_defaults(int workers, int *slots, int *queue)
{
	int reserve, s, q;

	if (workers < 1)
		workers = 1;
	s = workers / 2 > 0 ? workers / 2 : 1;
	reserve = workers / 4 > 0 ? workers / 4 : 1;
	q = workers - s - reserve;
	*slots = s > TG_SLOTS_MAX ? TG_SLOTS_MAX : s;
	*queue = q < 0 ? 0 : q;
}

int
tg_slots_init(int slots, int queue, int queue_wait_ms)
{
	void *p;

	if (shm != NULL)
		return TG_OK;
	if ((p = tg_shm_zalloc(sizeof(struct shm))) == NULL)
		return -TG_E_NOMEM;
	shm = p;
	shm->nslots = slots < 1 ? 1 : slots > TG_SLOTS_MAX ? TG_SLOTS_MAX : slots;
	shm->nqueue = queue < 0 ? 0 : queue > TG_SLOTS_MAX ? TG_SLOTS_MAX : queue;
	shm->wait_ms = queue_wait_ms < 0 ? 0 : queue_wait_ms;
	return TG_OK;
}

void
tg_slots_destroy(void)
{
	if (shm != NULL)
		munmap(shm, sizeof(*shm));
	shm = NULL;
}

static void
wake_all(void)
{
	atomic_fetch_add_explicit(&shm->gen, 1, memory_order_acq_rel);
	/* Not FUTEX_PRIVATE: the word is shared between processes. */
	(void)syscall(SYS_futex, (uint32_t *)&shm->gen, FUTEX_WAKE, INT_MAX,
	    NULL, NULL, 0);
}

/* Callers in the queue now. */
static int
waiters(void)
{
	int n = 0;

	for (int i = 0; i < TG_SLOTS_MAX; i++)
		if (atomic_load_explicit(&shm->waiter[i], memory_order_acquire) != 0)
			n++;
	return n;
}

static int
try_take(pid_t me)
{
	for (int i = 0; i < shm->nslots; i++) {
		pid_t expect = 0;

		if (atomic_load_explicit(&shm->owner[i], memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&shm->owner[i], &expect, me)) {
			held = i;
			atomic_fetch_add(&shm->acquired, 1);
			return 1;
		}
	}
	return 0;
}

int
tg_slots_acquire(void)
{
	pid_t me;
	int place = -1, got = 0;
	int64_t t0, deadline, left;

	me = getpid();
	if (depth > 0 && depth_pid != me) {
		depth = 0;	/* inherited across fork: not ours */
		held = -1;
	}
	if (depth > 0 || shm == NULL) {
		depth++;
		depth_pid = me;
		return TG_OK;
	}
	if (try_take(me)) {
		depth = 1;
		depth_pid = me;
		return TG_OK;
	}
	for (int i = 0; i < TG_SLOTS_MAX && place < 0 && shm->nqueue > 0; i++) {
		pid_t expect = 0;

		if (atomic_compare_exchange_strong(&shm->waiter[i], &expect, me))
			place = i;
	}
	if (place < 0 || waiters() > shm->nqueue) {
		if (place >= 0)
			atomic_store(&shm->waiter[place], 0);
		atomic_fetch_add(&shm->busy_full, 1);
		return -TG_E_BUSY;
	}
	atomic_fetch_add(&shm->queued, 1);
	t0 = now_us();
	deadline = t0 + (int64_t)shm->wait_ms * 1000;
	for (;;) {
		uint32_t g = atomic_load_explicit(&shm->gen, memory_order_acquire);
		struct timespec ts;

		if (try_take(me)) {
			got = 1;
			break;
		}
		left = deadline - now_us();
		if (left <= 0)
			break;
		if (left > 200000)
			left = 200000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		(void)syscall(SYS_futex, (uint32_t *)&shm->gen, FUTEX_WAIT, g, &ts,
		    NULL, 0);
	}
	atomic_fetch_add(&shm->wait_us, (unsigned long long)(now_us() - t0));
	atomic_store(&shm->waiter[place], 0);	/* leave the queue */
	if (!got) {
		atomic_fetch_add(&shm->busy_timeout, 1);
		return -TG_E_BUSY;
	}
	depth = 1;
	depth_pid = me;
	return TG_OK;
}

void
tg_slots_release(void)
{
	pid_t expect;

	if (depth == 0 || depth_pid != getpid())
		return;
	if (--depth > 0)
		return;
	if (shm == NULL || held < 0)
		return;
	expect = getpid();
	(void)atomic_compare_exchange_strong(&shm->owner[held], &expect, 0);
	held = -1;
	wake_all();
}

int
tg_slots_held(void)
{
	return depth > 0 && depth_pid == getpid();
}

void
tg_slots_reclaim(pid_t pid)
{
	int freed = 0;

	if (shm == NULL || pid <= 0)
		return;
	for (int i = 0; i < TG_SLOTS_MAX; i++) {
		pid_t expect = pid;

		if (atomic_compare_exchange_strong(&shm->owner[i], &expect, 0)) {
			atomic_fetch_add(&shm->reclaimed, 1);
			freed = 1;
		}
		expect = pid;
		(void)atomic_compare_exchange_strong(&shm->waiter[i], &expect, 0);
	}
	if (freed)
		wake_all();
}

int
tg_slots_retry_after_s(void)
{
	int s;

	if (shm == NULL)
		return 1;
	s = (shm->wait_ms + 999) / 1000;
	return s < 1 ? 1 : s > 60 ? 60 : s;
}

int
tg_slots_stats(struct tg_slots_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (shm == NULL)
		return 0;
	for (int i = 0; i < shm->nslots; i++)
		if (atomic_load(&shm->owner[i]) != 0)
			st->busy++;
	st->slots = shm->nslots;
	st->queue = shm->nqueue;
	st->waiting = waiters();
	st->acquired = atomic_load(&shm->acquired);
	st->queued = atomic_load(&shm->queued);
	st->busy_full = atomic_load(&shm->busy_full);
	st->busy_timeout = atomic_load(&shm->busy_timeout);
	st->reclaimed = atomic_load(&shm->reclaimed);
	st->wait_s = (double)atomic_load(&shm->wait_us) / 1e6;
	return 1;
}
