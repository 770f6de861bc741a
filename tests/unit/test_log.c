/* Unit tests for log's word parsers (the config depends on them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "log.h"

static void
test_log_level_parse_accepts_the_four_levels_only(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("DEBUG", &l), -1);
	assert_int_equal(log_level_parse("", &l), -1);
	assert_int_equal(log_level_parse("warning", &l), -1);
}

static void
test_err_set_returns_minus_one_and_keeps_code(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	assert_null(e.code);
	assert_int_equal(err_set(&e, "overlap", "collides with %s", "10.0.0.0/8"), -1);
	assert_string_equal(e.code, "overlap");
	assert_string_equal(e.msg, "collides with 10.0.0.0/8");
	assert_int_equal(err_set(NULL, "x", "y"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_level_parse_accepts_the_four_levels_only),
		cmocka_unit_test(test_err_set_returns_minus_one_and_keeps_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
