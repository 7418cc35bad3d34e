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

#define SECRET "tg-secret-9d1e-value"

static size_t released, dirty;

/* Runs instead of free() after the wipe: every byte must be zero. */
static void
check_release(void *p)
{
	size_t n = malloc_usable_size(p), i;
	const unsigned char *b = p;

	for (i = 0; i < n; i++)
		if (b[i] != 0) {
			dirty++;
			break;
		}
	released++;
	free(p);
}

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
	tg_jsonalloc_set_release(check_release);
	released = dirty = 0;
	o = json_pack("{s:s, s:[s]}", "API_KEY", SECRET, "list", SECRET);
	assert_non_null(o);
	txt = json_dumps(o, JSON_COMPACT);
	assert_non_null(txt);
	assert_non_null(strstr(txt, SECRET));
	tg_jsonalloc_free(txt);
	json_decref(o);
	assert_true(released >= 4);
	assert_int_equal(dirty, 0);
	/* A parse and an error path too. */
	released = dirty = 0;
	o = json_loads("{\"k\": \"" SECRET "\"}", 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "k")), SECRET);
	json_decref(o);
	assert_null(json_loads("{\"k\": \"" SECRET "\"", 0, NULL));
	assert_true(released >= 2);
	assert_int_equal(dirty, 0);
	tg_jsonalloc_free(NULL);
	tg_jsonalloc_set_release(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_wipes_on_free),
	};

	return cmocka_run_group_tests_name("jsonalloc", tests, NULL, NULL);
}
