/*
 * test_warm.c - the warm-sandbox settings (issue #18): TOOLGATE_SANDBOX_WARM
 * (on by default; on/off, 1/0, true/false, yes/no), the recycling settings
 * and their bounds, and how they become the sandbox client's options
 * (lib/sandbox_cfg.h). The warm path itself runs in tests/sandbox (every
 * attack case and functional test, warm and cold) and
 * tests/integration/test_warm.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/sandbox_cfg.h"
#include "lib/status.h"
#include "tests/unit/unit.h"

#define load unit_config2

static void
t_defaults(void **state)
{
	struct tg_config c;
	struct tg_sandbox_opts o;
	char err[256];

	(void)state;
	assert_int_equal(load(NULL, NULL, NULL, NULL, &c, err), 0);
	assert_int_equal(c.sandbox_warm, 1);
	assert_int_equal(c.sandbox_warm_calls, 1000);
	assert_int_equal(c.sandbox_warm_minutes, 10);
	memset(&o, 0, sizeof(o));
	tg_sandbox_opts_config(&c, &o);
	assert_int_equal(o.warm, 1);
	assert_int_equal(o.warm_calls, 1000);
	assert_int_equal(o.warm_ms, 10 * 60 * 1000);
	assert_string_equal(o.helper_path, c.sandbox_helper);
	tg_config_wipe(&c);
}

static void
t_on_off(void **state)
{
	static const char *const off[] = {"off", "0", "false", "no"};
	static const char *const on[] = {"on", "1", "true", "yes"};
	struct tg_config c;
	struct tg_sandbox_opts o;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		assert_int_equal(load("TOOLGATE_SANDBOX_WARM", off[i], NULL, NULL, &c, err), 0);
		assert_int_equal(c.sandbox_warm, 0);
		memset(&o, 0, sizeof(o));
		tg_sandbox_warm_opts(&c, &o);
		assert_int_equal(o.warm, 0);
		tg_config_wipe(&c);
	}
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		assert_int_equal(load("TOOLGATE_SANDBOX_WARM", on[i], NULL, NULL, &c, err), 0);
		assert_int_equal(c.sandbox_warm, 1);
		tg_config_wipe(&c);
	}
}

static void
t_bad_values(void **state)
{
	struct tg_config c;
	char err[256];

	(void)state;
	assert_int_not_equal(load("TOOLGATE_SANDBOX_WARM", "sometimes", NULL, NULL, &c,
				 err),
	    0);
	assert_non_null(strstr(err, "TOOLGATE_SANDBOX_WARM"));
	tg_config_wipe(&c);
	assert_int_not_equal(load("TOOLGATE_SANDBOX_WARM_CALLS", "-1", NULL, NULL, &c, err),
	    0);
	assert_non_null(strstr(err, "TOOLGATE_SANDBOX_WARM_CALLS"));
	tg_config_wipe(&c);
	assert_int_not_equal(load("TOOLGATE_SANDBOX_WARM_MINUTES", "10081", NULL, NULL, &c,
				 err),
	    0);
	assert_non_null(strstr(err, "TOOLGATE_SANDBOX_WARM_MINUTES"));
	tg_config_wipe(&c);
	assert_int_not_equal(load("TOOLGATE_SANDBOX_WARM_MINUTES", "5m", NULL, NULL, &c,
				 err),
	    0);
	tg_config_wipe(&c);
}

static void
t_recycling(void **state)
{
	struct tg_config c;
	struct tg_sandbox_opts o;
	char err[256];

	(void)state;
	assert_int_equal(load("TOOLGATE_SANDBOX_WARM_CALLS", "0", "TOOLGATE_SANDBOX_WARM_MINUTES",
			     "3", &c, err),
	    0);
	memset(&o, 0, sizeof(o));
	tg_sandbox_warm_opts(&c, &o);
	assert_int_equal(o.warm_calls, 0); /* never by count */
	assert_int_equal(o.warm_ms, 3 * 60 * 1000);
	tg_config_wipe(&c);
}

TG_TEST_MAIN("warm", NULL, NULL, t_defaults, t_on_off, t_bad_values,
    t_recycling)
