/*
 * Unit tests of birdc's reply parser (pure, no I/O): BIRD's framing, and hostile input —
 * truncated, oversized, garbled replies, bad codes, missing final lines — always a clear
 * "bird-protocol-error", never a guess or a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "birdc.h"

struct sink {
	struct birdc_reply replies[8];
	int nreplies;
	char async[8][128];
	int nasync;
};

static void
sink_reply(void *arg, struct birdc_reply *r)
{
	struct sink *s = arg;
	assert_true(s->nreplies < 8);
	s->replies[s->nreplies++] = *r;
}

static void
sink_async(void *arg, const char *text)
{
	struct sink *s = arg;
	snprintf(s->async[s->nasync++], sizeof(s->async[0]), "%s", text);
}

static int
setup(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct birdc_parser *p = calloc(1, sizeof(*p));
	birdc_parser_init(p, sink_reply, sink_async, s);
	state[0] = p;
	return 0;
}

static int
teardown(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	for (int i = 0; i < s->nreplies; i++)
		birdc_reply_free(&s->replies[i]);
	birdc_parser_reset(p);
	free(s);
	free(p);
	return 0;
}

static int
feed(struct birdc_parser *p, const char *text, struct err *e)
{
	return birdc_parser_feed(p, text, strlen(text), e);
}

static void
test_parser_splits_final_line_and_code(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "0002-Reading configuration from bird.conf\n0020 Configuration OK\n",
	    &e), 0);
	assert_int_equal(s->nreplies, 1);
	assert_int_equal(s->replies[0].final_code, 20);
	assert_int_equal(s->replies[0].n, 2);
	assert_int_equal(s->replies[0].lines[0].code, 2);
	assert_string_equal(s->replies[0].lines[1].text, "Configuration OK");
}

static void
test_parser_gives_continuation_the_previous_code(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "1007-Table master4:\n 10.0.0.0/8  blackhole [s 1] * (200)\n"
	    "0000 \n", &e), 0);
	assert_int_equal(s->nreplies, 1);
	assert_int_equal(s->replies[0].lines[1].code, 1007);
	assert_string_equal(s->replies[0].lines[1].text, "10.0.0.0/8  blackhole [s 1] * (200)");
	assert_int_equal(s->replies[0].final_code, 0);
}

static void
test_parser_accepts_bytes_split_anywhere(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };
	const char *msg = "0003-Daemon is up and running\n0022-Configuration unconfirmed\n0000 \n";

	for (size_t i = 0; msg[i]; i++)
		assert_int_equal(birdc_parser_feed(p, msg + i, 1, &e), 0);
	assert_int_equal(s->nreplies, 1);
	assert_int_equal(s->replies[0].n, 3);
	assert_int_equal(s->replies[0].lines[1].code, 22);
}

static void
test_parser_reports_async_lines_outside_replies(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "1007-Table master4:\n+Config timeout expired, starting undo\n"
	    "0000 \n", &e), 0);
	assert_int_equal(s->nasync, 1);
	assert_string_equal(s->async[0], "Config timeout expired, starting undo");
	assert_int_equal(s->replies[0].n, 2);
}

static void
test_parser_delivers_consecutive_replies_in_order(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "0001 BIRD 2.0.12 ready.\n8001 Network not found\n", &e), 0);
	assert_int_equal(s->nreplies, 2);
	assert_int_equal(s->replies[0].final_code, 1);
	assert_int_equal(s->replies[1].final_code, 8001);
}

static void
test_parser_holds_truncated_reply_as_pending(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "1007-Table master4:\n 10.0.0.0/8", &e), 0);
	assert_int_equal(s->nreplies, 0);
	assert_true(birdc_parser_pending(p));
}

static void
test_parser_holds_reply_without_final_line_as_pending(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "0002-Reading configuration\n0022-Undo scheduled in 30 s\n", &e), 0);
	assert_int_equal(s->nreplies, 0);
	assert_true(birdc_parser_pending(p));
}

static void
expect_protocol_error(struct birdc_parser *p, const char *input)
{
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, input, &e), -1);
	assert_non_null(e.code);
	assert_string_equal(e.code, "bird-protocol-error");
	assert_true(strlen(e.msg) > 0);
	assert_int_equal(s->nreplies, 0);
	/* once failed, it stays failed until reset */
	assert_int_equal(feed(p, "0000 \n", &e), -1);
	assert_int_equal(s->nreplies, 0);
}

static void
test_parser_refuses_oversized_line(void **state)
{
	char *big = malloc(BIRDC_LINE_MAX + 64);
	memcpy(big, "1007-", 5);
	memset(big + 5, 'x', BIRDC_LINE_MAX + 10);
	big[BIRDC_LINE_MAX + 15] = '\n';
	big[BIRDC_LINE_MAX + 16] = '\0';
	expect_protocol_error(state[0], big);
	free(big);
}

static void
test_parser_refuses_garbled_line(void **state)
{
	expect_protocol_error(state[0], "hello world\n");
}

static void
test_parser_refuses_code_with_bad_separator(void **state)
{
	expect_protocol_error(state[0], "0000:OK\n");
}

static void
test_parser_refuses_code_outside_bird_classes(void **state)
{
	expect_protocol_error(state[0], "5000 something\n");
}

static void
test_parser_refuses_short_code(void **state)
{
	expect_protocol_error(state[0], "000 \n");
}

static void
test_parser_refuses_continuation_at_reply_start(void **state)
{
	expect_protocol_error(state[0], " orphan continuation\n0000 \n");
}

static void
test_parser_refuses_nul_byte(void **state)
{
	struct birdc_parser *p = state[0];
	struct err e = { 0 };
	const char bad[] = "0000 a\0b\n";
	assert_int_equal(birdc_parser_feed(p, bad, sizeof(bad) - 1, &e), -1);
	assert_string_equal(e.code, "bird-protocol-error");
}

static void
test_parser_refuses_control_bytes(void **state)
{
	expect_protocol_error(state[0], "0000 a\rb\n");
}

static void
test_parser_refuses_empty_line(void **state)
{
	expect_protocol_error(state[0], "\n");
}

static void
test_parser_reset_recovers_after_error(void **state)
{
	struct birdc_parser *p = state[0];
	struct sink *s = p->arg;
	struct err e = { 0 };

	assert_int_equal(feed(p, "garbage\n", &e), -1);
	birdc_parser_reset(p);
	assert_int_equal(feed(p, "0000 \n", &e), 0);
	assert_int_equal(s->nreplies, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parser_splits_final_line_and_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_gives_continuation_the_previous_code, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_accepts_bytes_split_anywhere, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_reports_async_lines_outside_replies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_delivers_consecutive_replies_in_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_holds_truncated_reply_as_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_holds_reply_without_final_line_as_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_oversized_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_garbled_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_code_with_bad_separator, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_code_outside_bird_classes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_short_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_continuation_at_reply_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_control_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_refuses_empty_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parser_reset_recovers_after_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
