/*
 * test_jsonalloc.c - the wiping jansson allocator (review finding 2):
 * installed, every block jansson frees (a string holding a secret, an
 * object's key/value storage, a json_dumps() result) is zero when it is
 * released, and jansson keeps working with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "lib/jsonalloc.h"
#include "tests/unit/unit.h"

#define SECRET "tg-secret-9d1e-value"

static void
test_installed(void **state)
{
	(void)state;
	tg_jsonalloc_install();
	assert_true(tg_jsonalloc_installed());
	tg_jsonalloc_install();	/* idempotent */
	assert_true(tg_jsonalloc_installed());
}

static void
test_wipes_on_free(void **state)
{
	json_t *o;
	char *txt;

	(void)state;
	tg_jsonalloc_install();
	tg_jsonalloc_set_release(unit_check_release);
	*unit_releases() = (struct unit_released){0, 0};
	o = json_pack("{s:s, s:[s]}", "API_KEY", SECRET, "list", SECRET);
	assert_non_null(o);
	txt = json_dumps(o, JSON_COMPACT);
	assert_non_null(txt);
	assert_non_null(strstr(txt, SECRET));
	tg_jsonalloc_free(txt);
	json_decref(o);
	assert_true(unit_releases()->released >= 4);
	assert_int_equal(unit_releases()->dirty, 0);
	/* A parse and an error path too. */
	*unit_releases() = (struct unit_released){0, 0};
	o = json_loads("{\"k\": \"" SECRET "\"}", 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "k")), SECRET);
	json_decref(o);
	assert_null(json_loads("{\"k\": \"" SECRET "\"", 0, NULL));
	assert_true(unit_releases()->released >= 2);
	assert_int_equal(unit_releases()->dirty, 0);
	tg_jsonalloc_free(NULL);
	tg_jsonalloc_set_release(NULL);
}

TG_TEST_MAIN("jsonalloc", NULL, NULL, test_installed, test_wipes_on_free)
