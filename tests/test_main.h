/*
 * test_main.h - the main() of a cmocka test program (included by
 * tests/unit/unit.h and tests/integration/it.h, after cmocka.h).
 *
 *   TG_TEST_MAIN("core", setup, teardown, t_a, t_b, ...)
 *
 * expands to main() running the group "core" of cmocka_unit_test(t_a),
 * cmocka_unit_test(t_b), ... with the group set-up and tear-down hooks
 * (NULL for none). TG_TEST_MAIN_WITH(init, ...) runs the expression init
 * first (curl_global_init, a log level). TG_TEST_RUN("name", table, setup,
 * teardown) runs a table written out by hand (tests with their own hooks).
 * A group that had no name in cmocka_run_group_tests(tests, ...) was
 * called "tests"; tests/run.sh counts the TAP "ok" lines.
 */
#ifndef TG_TEST_MAIN_H
#define TG_TEST_MAIN_H

/* TG_TEST_EACH(f, a, b, ...) is f(a), f(b), ... (up to 24 arguments). */
#define TG_TEST_EACH_1(f, x) f(x)
#define TG_TEST_EACH_2(f, x, ...) f(x), TG_TEST_EACH_1(f, __VA_ARGS__)
#define TG_TEST_EACH_3(f, x, ...) f(x), TG_TEST_EACH_2(f, __VA_ARGS__)
#define TG_TEST_EACH_4(f, x, ...) f(x), TG_TEST_EACH_3(f, __VA_ARGS__)
#define TG_TEST_EACH_5(f, x, ...) f(x), TG_TEST_EACH_4(f, __VA_ARGS__)
#define TG_TEST_EACH_6(f, x, ...) f(x), TG_TEST_EACH_5(f, __VA_ARGS__)
#define TG_TEST_EACH_7(f, x, ...) f(x), TG_TEST_EACH_6(f, __VA_ARGS__)
#define TG_TEST_EACH_8(f, x, ...) f(x), TG_TEST_EACH_7(f, __VA_ARGS__)
#define TG_TEST_EACH_9(f, x, ...) f(x), TG_TEST_EACH_8(f, __VA_ARGS__)
#define TG_TEST_EACH_10(f, x, ...) f(x), TG_TEST_EACH_9(f, __VA_ARGS__)
#define TG_TEST_EACH_11(f, x, ...) f(x), TG_TEST_EACH_10(f, __VA_ARGS__)
#define TG_TEST_EACH_12(f, x, ...) f(x), TG_TEST_EACH_11(f, __VA_ARGS__)
#define TG_TEST_EACH_13(f, x, ...) f(x), TG_TEST_EACH_12(f, __VA_ARGS__)
#define TG_TEST_EACH_14(f, x, ...) f(x), TG_TEST_EACH_13(f, __VA_ARGS__)
#define TG_TEST_EACH_15(f, x, ...) f(x), TG_TEST_EACH_14(f, __VA_ARGS__)
#define TG_TEST_EACH_16(f, x, ...) f(x), TG_TEST_EACH_15(f, __VA_ARGS__)
#define TG_TEST_EACH_17(f, x, ...) f(x), TG_TEST_EACH_16(f, __VA_ARGS__)
#define TG_TEST_EACH_18(f, x, ...) f(x), TG_TEST_EACH_17(f, __VA_ARGS__)
#define TG_TEST_EACH_19(f, x, ...) f(x), TG_TEST_EACH_18(f, __VA_ARGS__)
#define TG_TEST_EACH_20(f, x, ...) f(x), TG_TEST_EACH_19(f, __VA_ARGS__)
#define TG_TEST_EACH_21(f, x, ...) f(x), TG_TEST_EACH_20(f, __VA_ARGS__)
#define TG_TEST_EACH_22(f, x, ...) f(x), TG_TEST_EACH_21(f, __VA_ARGS__)
#define TG_TEST_EACH_23(f, x, ...) f(x), TG_TEST_EACH_22(f, __VA_ARGS__)
#define TG_TEST_EACH_24(f, x, ...) f(x), TG_TEST_EACH_23(f, __VA_ARGS__)
#define TG_TEST_NTH(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, n, ...) n
#define TG_TEST_EACH(f, ...) TG_TEST_NTH(__VA_ARGS__, TG_TEST_EACH_24, TG_TEST_EACH_23, TG_TEST_EACH_22, TG_TEST_EACH_21, TG_TEST_EACH_20, TG_TEST_EACH_19, TG_TEST_EACH_18, TG_TEST_EACH_17, TG_TEST_EACH_16, TG_TEST_EACH_15, TG_TEST_EACH_14, TG_TEST_EACH_13, TG_TEST_EACH_12, TG_TEST_EACH_11, TG_TEST_EACH_10, TG_TEST_EACH_9, TG_TEST_EACH_8, TG_TEST_EACH_7, TG_TEST_EACH_6, TG_TEST_EACH_5, TG_TEST_EACH_4, TG_TEST_EACH_3, TG_TEST_EACH_2, TG_TEST_EACH_1)(f, __VA_ARGS__)

#define TG_TEST_RUN(name, table, setup, teardown) \
	int \
	main(void) \
	{ \
		return cmocka_run_group_tests_name(name, table, setup, teardown); \
	}

#define TG_TEST_MAIN_WITH(init, name, setup, teardown, ...) \
	int \
	main(void) \
	{ \
		const struct CMUnitTest tests[] = { \
		    TG_TEST_EACH(cmocka_unit_test, __VA_ARGS__)}; \
\
		(void)(init); \
		return cmocka_run_group_tests_name(name, tests, setup, teardown); \
	}

#define TG_TEST_MAIN(name, setup, teardown, ...) \
	TG_TEST_MAIN_WITH(0, name, setup, teardown, __VA_ARGS__)

#endif
