/*
 * test_inval.c - cache epochs (lib/inval.c): a stamp stays fresh until
 * its own domain moves or the TTL passes; a bump in one process of a
 * master's family is seen by the others through the shared mapping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "lib/inval.h"
#include "lib/status.h"

static void
t_payloads(void **state)
{
	(void)state;
	assert_int_equal(tg_inval_payload_mask("auth"), 1u << TG_INV_AUTH);
	assert_int_equal(tg_inval_payload_mask("session"), 1u << TG_INV_SESSION);
	assert_int_equal(tg_inval_payload_mask("catalog"), 1u << TG_INV_CATALOG);
	/* Anything else (including "all" and garbage) drops everything. */
	assert_int_equal(tg_inval_payload_mask("all"), TG_INV_ALL);
	assert_int_equal(tg_inval_payload_mask("authx"), TG_INV_ALL);
	assert_int_equal(tg_inval_payload_mask(""), TG_INV_ALL);
	assert_int_equal(tg_inval_payload_mask(NULL), TG_INV_ALL);
}

static void
t_fresh(void **state)
{
	struct tg_inval_stamp s, z = {0, 0};

	(void)state;
	tg_inval_set_ttl_ms(60000);
	tg_inval_stamp(&s, TG_INV_AUTH);
	assert_true(tg_inval_fresh(&s, TG_INV_AUTH));
	assert_false(tg_inval_fresh(&z, TG_INV_AUTH));	/* never filled */
	/* Another domain moving leaves it alone; its own drops it. */
	tg_inval_bump(1u << TG_INV_SESSION);
	assert_true(tg_inval_fresh(&s, TG_INV_AUTH));
	tg_inval_bump(1u << TG_INV_AUTH);
	assert_false(tg_inval_fresh(&s, TG_INV_AUTH));
	tg_inval_stamp(&s, TG_INV_CATALOG);
	tg_inval_bump(TG_INV_ALL);
	assert_false(tg_inval_fresh(&s, TG_INV_CATALOG));
	/* TTL 0: nothing is ever fresh (caches off). */
	tg_inval_stamp(&s, TG_INV_AUTH);
	tg_inval_set_ttl_ms(0);
	assert_false(tg_inval_fresh(&s, TG_INV_AUTH));
	assert_int_equal(tg_inval_ttl_ms(), 0);
	/* Clamped to 0..TG_CACHE_TTL_MAX_MS. */
	tg_inval_set_ttl_ms(-5);
	assert_int_equal(tg_inval_ttl_ms(), 0);
	tg_inval_set_ttl_ms(10 * TG_CACHE_TTL_MAX_MS);
	assert_int_equal(tg_inval_ttl_ms(), TG_CACHE_TTL_MAX_MS);
	/* An expired TTL drops it. */
	tg_inval_set_ttl_ms(1);
	tg_inval_stamp(&s, TG_INV_AUTH);
	usleep(5000);
	assert_false(tg_inval_fresh(&s, TG_INV_AUTH));
}

/* A sibling (forked after the mapping, like a worker) bumps; the parent's
 * stamp goes stale without any bump of its own. */
static void
t_shared(void **state)
{
	struct tg_inval_stamp s;
	pid_t pid;
	int st = 0;

	(void)state;
	assert_int_equal(tg_inval_shared_init(), TG_OK);
	assert_int_equal(tg_inval_shared_init(), TG_OK);	/* idempotent */
	tg_inval_set_ttl_ms(60000);
	tg_inval_stamp(&s, TG_INV_SESSION);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		tg_inval_bump(1u << TG_INV_SESSION);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_false(tg_inval_fresh(&s, TG_INV_SESSION));
}

TG_TEST_MAIN("tests", NULL, NULL, t_payloads, t_fresh, t_shared)
