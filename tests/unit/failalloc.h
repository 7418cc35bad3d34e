/*
 * failalloc.h - allocation-failure injection for the unit tests (the
 * SQLite idea: fail allocation N, for N = 1, 2, ... until the operation
 * no longer allocates N times, and check every failure path).
 *
 * Every unit-test binary is linked with -Wl,--wrap=malloc,calloc,realloc
 * (Makefile, UNIT_WRAP), so each malloc/calloc/realloc call made by the
 * application objects (build/libtoolgate.a) and the test itself goes
 * through tests/unit/failalloc.c. jansson allocates inside its shared
 * library, out of reach of --wrap, but through lib/jsonalloc.c once
 * tg_jsonalloc_install() ran (as in every toolgate process), and that
 * malloc is wrapped: install it to fail jansson's allocations too.
 * Disarmed, the hook only counts.
 *
 * Use:
 *
 *	for (n = 1; ; n++) {
 *		tg_fa_arm(n);
 *		rc = operation();
 *		if (!tg_fa_disarm())
 *			break;			// nothing failed: it succeeded
 *		assert rc is the out-of-memory outcome, state unchanged
 *	}
 *	assert rc is the success outcome; n > 1 proves a failure was tried
 *
 * Leaks on the failure paths are caught by the ASan and valgrind runs of
 * the same binaries (tests/run.sh).
 */
#ifndef TG_FAILALLOC_H
#define TG_FAILALLOC_H

#include <stddef.h>

/* Fail the n-th allocation from now (1-based), and only that one; n = 0
 * counts without failing. */
void tg_fa_arm(long n);

/* Stop failing; returns 1 when the armed allocation was failed. */
int tg_fa_disarm(void);

/* Allocations seen since the last tg_fa_arm(). */
long tg_fa_count(void);

#endif
