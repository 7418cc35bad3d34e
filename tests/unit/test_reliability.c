/*
 * test_reliability.c - units of issue #15: tool slot sizing and validation
 * (lib/config.c), the slots themselves across processes (lib/slots.c),
 * UTF-8 after percent-decoding (lib/parse.c) and problem documents that
 * never carry invalid UTF-8 (fcgi/response.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "fcgi/response.h"
#include "lib/config.h"
#include "lib/parse.h"
#include "lib/slots.h"
#include "lib/status.h"
#include "tests/unit/unit.h"

/* The configuration of env (UNIT_ENV), serving: 0 or the failure. */
static int
load(const char *const *env, struct tg_config *c, char *err)
{
	int rc = unit_config(c, env, TG_CFG_SERVE, err);

	tg_config_wipe(c);
	return rc;
}

static void
t_slot_sizing(void **state)
{
	char err[256];
	struct tg_config c;
	int s, q;
	(void)state;
	/* Defaults: half the workers run tools, a quarter stays free. */
	tg_slots_defaults(4, &s, &q);
	assert_int_equal(s, 2);
	assert_int_equal(q, 1);
	tg_slots_defaults(8, &s, &q);
	assert_int_equal(s, 4);
	assert_int_equal(q, 2);
	tg_slots_defaults(2, &s, &q);
	assert_int_equal(s, 1);
	assert_int_equal(q, 0);
	for (int w = 2; w <= 64; w++) {
		tg_slots_defaults(w, &s, &q);
		assert_true(s >= 1 && q >= 0 && s + q < w);
	}
	assert_int_equal(load(UNIT_ENV("TOOLGATE_WORKERS", "4"), &c, err), 0);
	assert_int_equal(c.tool_slots, 2);
	assert_int_equal(c.tool_queue, 1);
	assert_int_equal(c.tool_queue_wait_ms, 5000);
	assert_int_equal(c.db_statement_timeout_ms, 30000);
	assert_int_equal(c.db_lock_timeout_ms, 5000);
	assert_int_equal(c.client_write_timeout_ms, 10000);
	assert_int_equal(load(UNIT_ENV("TOOLGATE_WORKERS", "2"), &c, err), 0);
	assert_int_equal(c.tool_slots + c.tool_queue, 1);
	assert_int_equal(load(UNIT_ENV("TOOLGATE_WORKERS", "1"), &c, err), 0);	/* one worker: nothing to keep free */
	assert_int_equal(c.tool_slots, 1);
	assert_int_equal(c.tool_queue, 0);
	/* Explicit sizes that leave no worker for the control plane. */
	assert_int_equal(load(UNIT_ENV("TOOLGATE_WORKERS", "4", "TOOLGATE_TOOL_SLOTS", "3",
	    "TOOLGATE_TOOL_QUEUE", "1"), &c, err), -TG_E_BADREQ);
	assert_non_null(strstr(err, "TOOLGATE_TOOL_SLOTS + TOOLGATE_TOOL_QUEUE"));
	/* An explicit slot count: the default queue shrinks to fit. */
	assert_int_equal(load(UNIT_ENV("TOOLGATE_WORKERS", "8", "TOOLGATE_TOOL_SLOTS", "6"), &c, err), 0);
	assert_int_equal(c.tool_slots, 6);
	assert_int_equal(c.tool_queue, 1);
	assert_int_equal(load(UNIT_ENV("TOOLGATE_TOOL_QUEUE_WAIT_MS", "-1"), &c, err), -TG_E_BADREQ);
	assert_non_null(strstr(err, "TOOLGATE_TOOL_QUEUE_WAIT_MS"));
	assert_int_equal(load(UNIT_ENV("TOOLGATE_DB_LOCK_TIMEOUT_MS", "0",
	    "TOOLGATE_DB_STATEMENT_TIMEOUT_MS", "x"), &c, err), -TG_E_BADREQ);
	assert_non_null(strstr(err, "TOOLGATE_DB_STATEMENT_TIMEOUT_MS"));
}

/* In a child: 0 when it got a slot, 1 when busy; it holds the slot for
 * hold_ms. */
static pid_t
child_acquire(int hold_ms, int *pipefd)
{
	pid_t pid;

	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int rc = tg_slots_acquire();
		char c = rc == TG_OK ? 'y' : 'n';

		if (write(pipefd[1], &c, 1) != 1)
			_exit(2);
		if (rc == TG_OK) {
			usleep((useconds_t)hold_ms * 1000);
			tg_slots_release();
		}
		_exit(rc == TG_OK ? 0 : 1);
	}
	close(pipefd[1]);
	return pid;
}

static char
child_answer(int *pipefd)
{
	char c = '?';

	if (read(pipefd[0], &c, 1) != 1)
		c = '!';
	close(pipefd[0]);
	return c;
}

/* The slot counters: refusals for a full queue and for a deadline, and
 * the callers waiting now. */
static void
expect_stats(unsigned long long full, unsigned long long timeout, int waiting)
{
	struct tg_slots_stats st;

	assert_int_equal(tg_slots_stats(&st), 1);
	assert_int_equal(st.busy_full, full);
	assert_int_equal(st.busy_timeout, timeout);
	assert_int_equal(st.waiting, waiting);
}

/* Polls (a generous minute) until n processes wait in the queue. */
static void
wait_waiting(int n)
{
	struct tg_slots_stats st;

	for (int i = 0; i < 60000; i++) {
		assert_int_equal(tg_slots_stats(&st), 1);
		if (st.waiting == n)
			return;
		usleep(1000);
	}
	fail_msg("%d waiters never showed up (%d)", n, st.waiting);
}

static void
t_slots_across_processes(void **state)
{
	struct tg_slots_stats st;
	int p1[2], p2[2], p3[2], ws;
	pid_t a, b, c;

	(void)state;
	/* Without the mapping there is no cap. */
	assert_int_equal(tg_slots_acquire(), TG_OK);
	assert_true(tg_slots_held());
	tg_slots_release();
	assert_false(tg_slots_held());
	assert_int_equal(tg_slots_stats(&st), 0);

	/* One slot, one queue place, 300 ms of waiting. */
	assert_int_equal(tg_slots_init(1, 1, 300), TG_OK);
	assert_int_equal(tg_slots_retry_after_s(), 1);
	assert_int_equal(tg_slots_acquire(), TG_OK);
	/* Nested: no second slot. */
	assert_int_equal(tg_slots_acquire(), TG_OK);
	tg_slots_release();
	assert_true(tg_slots_held());
	/* A second process waits in the queue and gives up at its deadline
	 * (alone in the queue: no race with a third). */
	a = child_acquire(0, p1);
	assert_int_equal(child_answer(p1), 'n');
	waitpid(a, NULL, 0);
	expect_stats(0, 1, 0);
	tg_slots_release();
	tg_slots_destroy();

	/* The same with a wait far longer than the test (no deadline can
	 * pass by accident): a third process finds the queue full and gives
	 * up at once, while the second still waits; the waiter gets the slot
	 * when it is released. The test synchronises on the queue itself,
	 * never on a sleep. */
	assert_int_equal(tg_slots_init(1, 1, 120000), TG_OK);
	assert_int_equal(tg_slots_acquire(), TG_OK);
	a = child_acquire(0, p1);
	wait_waiting(1);
	b = child_acquire(0, p2);
	assert_int_equal(child_answer(p2), 'n');
	waitpid(b, NULL, 0);
	expect_stats(1, 0, 1);
	tg_slots_release();
	assert_int_equal(child_answer(p1), 'y');
	waitpid(a, &ws, 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	expect_stats(1, 0, 0);
	/* A process killed while it holds the slot: the slot is back only
	 * once the master reclaims it. */
	c = child_acquire(60000, p3);
	assert_int_equal(child_answer(p3), 'y');
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	assert_int_equal(tg_slots_stats(&st), 1);
	assert_int_equal(st.busy, 1);
	tg_slots_reclaim(c);
	assert_int_equal(tg_slots_stats(&st), 1);
	assert_int_equal(st.busy, 0);
	assert_int_equal(st.reclaimed, 1);
	assert_int_equal(tg_slots_acquire(), TG_OK);
	tg_slots_release();
	tg_slots_destroy();
}

static void
t_utf8(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(tg_parse_pct("%FF", 3, out, sizeof(out), 0), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("a%C3%28", 7, out, sizeof(out), 0), -TG_E_BADREQ);
	assert_int_equal(tg_parse_pct("%C0%AF", 6, out, sizeof(out), 0), -TG_E_BADREQ); /* overlong */
	assert_int_equal(tg_parse_pct("%ED%A0%80", 9, out, sizeof(out), 0), -TG_E_BADREQ); /* surrogate */
	assert_int_equal(tg_parse_pct("%F4%90%80%80", 12, out, sizeof(out), 0), -TG_E_BADREQ); /* > U+10FFFF */
	assert_int_equal(tg_parse_pct("%E2%82", 6, out, sizeof(out), 0), -TG_E_BADREQ); /* cut */
	assert_int_equal(tg_parse_pct("caf%C3%A9", 9, out, sizeof(out), 0), 5);
	assert_string_equal(out, "caf\xc3\xa9");
	assert_int_equal(tg_parse_pct("%F0%9F%98%80", 12, out, sizeof(out), 0), 4);
	assert_true(tg_utf8_valid("plain", 5));
	assert_false(tg_utf8_valid("\xff", 1));
	snprintf(out, sizeof(out), "a\xff" "b\xc3\xa9" "\xe2\x82");
	tg_utf8_scrub(out);
	assert_string_equal(out, "a?b\xc3\xa9??");
}

static void
t_problem_never_invalid_utf8(void **state)
{
	json_t *p;

	(void)state;
	p = tg_problem_new(404, "Not Found", "not_found", "no tool \xff\xfe here",
	    "/api/v1/tools/\xff", "rid");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "no tool ?? here");
	assert_string_equal(json_string_value(json_object_get(p, "instance")), "/api/v1/tools/?");
	json_decref(p);
}

TG_TEST_MAIN("reliability", NULL, NULL, t_slot_sizing,
    t_slots_across_processes, t_utf8, t_problem_never_invalid_utf8)
