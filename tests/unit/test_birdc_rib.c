/*
 * Unit tests of rib's `show route ... all` parser, fed through birdc's reply parser with
 * replies captured from BIRD 2.0.12 (the lab's edge router) and hostile variants of them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "birdc.h"
#include "rib.h"

static struct birdc_reply got;
static int ngot;

static void
take(void *arg, struct birdc_reply *r)
{
	(void)arg;
	got = *r;
	ngot++;
}

/* Parses TEXT as one BIRD reply into T; returns rib_parse_show_route's result. */
static int
parse(const char *text, struct rib_table *t, struct err *e)
{
	struct birdc_parser p;
	birdc_parser_init(&p, take, NULL, NULL);
	ngot = 0;
	assert_int_equal(birdc_parser_feed(&p, text, strlen(text), e), 0);
	assert_int_equal(ngot, 1);
	int rc = rib_parse_show_route(&got, t, e);
	birdc_reply_free(&got);
	return rc;
}

static const char upstream_route[] =
	"1007-Table master4:\n"
	" 203.0.113.0/24       unicast [upstream4 05:12:53.785] * (100) [AS64496i]\n"
	" \tvia 10.0.1.2 on up0\n"
	"1008-\tType: BGP univ\n"
	"1012-\tBGP.origin: IGP\n"
	" \tBGP.as_path: 64501 64496\n"
	" \tBGP.next_hop: 10.0.1.2\n"
	" \tBGP.local_pref: 100\n"
	"0000 \n";

static void
test_rib_parses_bgp_route_with_origin_as(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	char net[64];
	(void)state;

	assert_int_equal(parse(upstream_route, &t, &e), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(bird_route_format(&t.v[0].net, net, sizeof(net)), "203.0.113.0/24");
	assert_string_equal(t.v[0].proto, "upstream4");
	assert_true(t.v[0].primary);
	assert_string_equal(t.v[0].as_path, "64501 64496");
	assert_true(t.v[0].origin_known);
	assert_int_equal(t.v[0].origin_as, 64496);
	rib_table_clear(&t);
}

static void
test_rib_gives_second_route_of_a_net_the_same_net(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	(void)state;
	const char *two =
		"1007-Table master4:\n"
		" 203.0.113.0/24       unicast [a 05:12:53.785] * (100) [AS64496i]\n"
		"1012-\tBGP.as_path: 64496\n"
		"1007-                     unicast [b 05:12:54.000] (100) [AS64497i]\n"
		"1012-\tBGP.as_path: 64511 {64497 64498}\n"
		"0000 \n";

	assert_int_equal(parse(two, &t, &e), 0);
	assert_int_equal(t.n, 2);
	assert_memory_equal(t.v[1].net.addr, t.v[0].net.addr, 16);
	assert_int_equal(t.v[1].net.plen, 24);
	assert_string_equal(t.v[1].proto, "b");
	assert_false(t.v[1].primary);
	rib_table_clear(&t);
}

static void
test_rib_path_ending_in_as_set_has_no_origin(void **state)
{
	uint32_t asn = 7;
	(void)state;
	assert_false(rib_path_origin("64511 {64497 64498}", &asn));
	assert_false(rib_path_origin("", &asn));
	assert_false(rib_path_origin("(65000 65001)", &asn));
	assert_true(rib_path_origin("64501 64496 ", &asn));
	assert_int_equal(asn, 64496);
	assert_false(rib_path_origin("64501 99999999999", &asn));
}

static void
test_rib_marks_graceful_shutdown_community_as_drain(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	(void)state;
	const char *own =
		"1007-Table master4:\n"
		" 198.51.100.0/24      blackhole [prefixd4 05:04:44.111] * (200)\n"
		"1008-\tType: static univ\n"
		"1012-\tBGP.community: (65535,0)\n"
		"1007-203.0.113.0/24       blackhole [prefixd4 05:04:44.111] * (200)\n"
		"1008-\tType: static univ\n"
		"0000 \n";

	assert_int_equal(parse(own, &t, &e), 0);
	assert_int_equal(t.n, 2);
	assert_true(t.v[0].net.drain);
	assert_false(t.v[1].net.drain);
	assert_false(t.v[1].has_as_path);
	rib_table_clear(&t);
}

static void
test_rib_treats_network_not_found_as_empty(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	(void)state;
	assert_int_equal(parse("8001 Network not found\n", &t, &e), 0);
	assert_int_equal(t.n, 0);
}

static void
test_rib_asks_retry_on_stopped_due_to_reconfiguration(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	(void)state;
	assert_int_equal(parse("1007-Table master4:\n8004 Stopped due to reconfiguration\n", &t,
	    &e), 1);
	assert_int_equal(t.n, 0);
}

static void
test_rib_reports_bird_error_code(void **state)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	(void)state;
	assert_int_equal(parse("9001 syntax error, unexpected CF_SYM_UNDEFINED\n", &t, &e), -1);
	assert_string_equal(e.code, "bird-error");
	assert_non_null(strstr(e.msg, "9001"));
}

static void
expect_garbage(const char *text)
{
	struct rib_table t = { 0 };
	struct err e = { 0 };
	assert_int_equal(parse(text, &t, &e), -1);
	assert_string_equal(e.code, "bird-protocol-error");
	assert_int_equal(t.n, 0);
	rib_table_clear(&t);
}

static void
test_rib_refuses_route_line_with_bad_network(void **state)
{
	(void)state;
	expect_garbage("1007-203.0.113.0/33  unicast [a 1] * (100)\n0000 \n");
	expect_garbage("1007-203.0.113.1/24  unicast [a 1] * (100)\n0000 \n");
	expect_garbage("1007-banana  unicast [a 1] * (100)\n0000 \n");
}

static void
test_rib_refuses_route_line_without_protocol(void **state)
{
	(void)state;
	expect_garbage("1007-203.0.113.0/24  unicast * (100)\n0000 \n");
	expect_garbage("1007-203.0.113.0/24  unicast [] * (100)\n0000 \n");
}

static void
test_rib_refuses_attribute_before_any_route(void **state)
{
	(void)state;
	expect_garbage("1012-\tBGP.as_path: 64496\n0000 \n");
}

static void
test_rib_refuses_unexpected_code_in_listing(void **state)
{
	(void)state;
	expect_garbage("1002-prefixd4 Static master4 up\n0000 \n");
}

static void
test_rib_refuses_same_net_line_without_a_net(void **state)
{
	(void)state;
	expect_garbage("1007-          unicast [b 1] (100)\n0000 \n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rib_parses_bgp_route_with_origin_as),
		cmocka_unit_test(test_rib_gives_second_route_of_a_net_the_same_net),
		cmocka_unit_test(test_rib_path_ending_in_as_set_has_no_origin),
		cmocka_unit_test(test_rib_marks_graceful_shutdown_community_as_drain),
		cmocka_unit_test(test_rib_treats_network_not_found_as_empty),
		cmocka_unit_test(test_rib_asks_retry_on_stopped_due_to_reconfiguration),
		cmocka_unit_test(test_rib_reports_bird_error_code),
		cmocka_unit_test(test_rib_refuses_route_line_with_bad_network),
		cmocka_unit_test(test_rib_refuses_route_line_without_protocol),
		cmocka_unit_test(test_rib_refuses_attribute_before_any_route),
		cmocka_unit_test(test_rib_refuses_unexpected_code_in_listing),
		cmocka_unit_test(test_rib_refuses_same_net_line_without_a_net),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
