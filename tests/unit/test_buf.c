/* Unit tests for the capped body buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void
test_buf_append_keeps_a_nul_and_grows(void **state)
{
	struct buf b = { .max = 100000 };
	char chunk[3000];

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 30000);
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap > b.len);
	assert_false(b.overflow);
	free(b.data);
}

static void
test_buf_append_refuses_past_max_and_keeps_what_it_had(void **state)
{
	struct buf b = { .max = 10 };

	(void)state;
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);   /* exactly max */
	assert_int_equal(buf_append(&b, "a", 1), -1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	free(b.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_keeps_a_nul_and_grows),
		cmocka_unit_test(test_buf_append_refuses_past_max_and_keeps_what_it_had),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
