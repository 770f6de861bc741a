/*
 * test_cidr — strict parsing, RFC 5952 formatting, prefix math and counts; thousands of
 * malformed strings refused without a crash (run under ASan by the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cidr.h"

static const char *
fmt(const char *in)
{
	static char buf[CIDR_STRLEN];
	struct cidr c;
	struct err e;

	if (cidr_parse(in, &c, &e) != 0)
		fail_msg("'%s' refused: %s %s", in, e.code, e.msg);
	return cidr_format(&c, buf, sizeof(buf));
}

static void
refused(const char *in, const char *code)
{
	struct cidr c;
	struct err e;

	err_clear(&e);
	if (cidr_parse(in, &c, &e) != -1)
		fail_msg("'%s' was accepted", in);
	assert_string_equal(e.code, code);
}

static void
test_parse_accepts_canonical_v4(void **state)
{
	(void)state;
	assert_string_equal(fmt("10.0.0.0/8"), "10.0.0.0/8");
	assert_string_equal(fmt("0.0.0.0/0"), "0.0.0.0/0");
	assert_string_equal(fmt("255.255.255.255/32"), "255.255.255.255/32");
	assert_string_equal(fmt("192.0.2.128/25"), "192.0.2.128/25");
}

static void
test_parse_refuses_host_bits_naming_canonical_form(void **state)
{
	struct cidr c;
	struct err e;

	(void)state;
	assert_int_equal(cidr_parse("10.1.2.3/8", &c, &e), -1);
	assert_string_equal(e.code, "cidr-not-canonical");
	assert_non_null(strstr(e.msg, "10.0.0.0/8"));
	assert_int_equal(cidr_parse("2001:db8::1/32", &c, &e), -1);
	assert_string_equal(e.code, "cidr-not-canonical");
	assert_non_null(strstr(e.msg, "2001:db8::/32"));
}

static void
test_parse_refuses_leading_zeros_and_junk_in_v4(void **state)
{
	(void)state;
	refused("010.0.0.0/8", "cidr-invalid");
	refused("10.00.0.0/16", "cidr-invalid");
	refused("10.0.0.0/08", "cidr-invalid");
	refused("10.0.0.0/8 ", "cidr-invalid");
	refused(" 10.0.0.0/8", "cidr-invalid");
	refused("10.0.0/8", "cidr-invalid");
	refused("10.0.0.0.0/8", "cidr-invalid");
	refused("256.0.0.0/8", "cidr-invalid");
	refused("10.0.0.0/", "cidr-invalid");
	refused("10.0.0.0", "cidr-invalid");
	refused("10.0.0.0/8/8", "cidr-invalid");
	refused("0x0a.0.0.0/8", "cidr-invalid");
	refused("+10.0.0.0/8", "cidr-invalid");
	refused("10.0.0.0/-1", "cidr-invalid");
	refused("", "cidr-invalid");
}

static void
test_parse_refuses_out_of_range_lengths(void **state)
{
	(void)state;
	refused("10.0.0.0/33", "cidr-invalid");
	refused("::/129", "cidr-invalid");
	refused("10.0.0.0/4294967304", "cidr-invalid");
}

static void
test_parse_refuses_malformed_v6(void **state)
{
	(void)state;
	refused("2001:db8:::/48", "cidr-invalid");
	refused("2001::db8::/48", "cidr-invalid");
	refused("2001:db8::g/128", "cidr-invalid");
	refused("2001:db8:0:0:0:0:0:0:0/128", "cidr-invalid");
	refused("12345::/16", "cidr-invalid");
	refused("fe80::%eth0/64", "cidr-invalid");
	refused("[2001:db8::]/32", "cidr-invalid");
	refused(":/0", "cidr-invalid");
}

static void
test_format_follows_rfc5952(void **state)
{
	(void)state;
	assert_string_equal(fmt("2001:0DB8:0000:0000:0000:0000:0000:0000/32"), "2001:db8::/32");
	assert_string_equal(fmt("2001:db8:0:0:1:0:0:1/128"), "2001:db8::1:0:0:1/128");
	assert_string_equal(fmt("2001:db8:0:1:1:1:1:1/128"), "2001:db8:0:1:1:1:1:1/128");
	assert_string_equal(fmt("2001:0:0:1:0:0:0:1/128"), "2001:0:0:1::1/128");
	assert_string_equal(fmt("::/0"), "::/0");
	assert_string_equal(fmt("::1/128"), "::1/128");
	assert_string_equal(fmt("1::/16"), "1::/16");
	assert_string_equal(fmt("::ffff:192.0.2.1/128"), "::ffff:192.0.2.1/128");
}

static void
test_parse_addr_gives_host_prefix(void **state)
{
	struct cidr c;
	char b[CIDR_STRLEN];

	(void)state;
	assert_int_equal(cidr_parse_addr("192.0.2.1", &c, NULL), 0);
	assert_string_equal(cidr_format(&c, b, sizeof(b)), "192.0.2.1/32");
	assert_int_equal(cidr_parse_addr("2001:db8::1", &c, NULL), 0);
	assert_int_equal(c.len, 128);
	assert_int_equal(cidr_parse_addr("192.0.2.1/32", &c, NULL), -1);
}

static struct cidr
P(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c, NULL), 0);
	return c;
}

static void
test_contains_and_overlaps(void **state)
{
	struct cidr a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");
	struct cidr v6 = P("::/0");

	(void)state;
	assert_true(cidr_contains(&a, &b));
	assert_false(cidr_contains(&b, &a));
	assert_true(cidr_contains(&a, &a));
	assert_true(cidr_overlaps(&a, &b));
	assert_true(cidr_overlaps(&b, &a));
	assert_false(cidr_overlaps(&a, &c));
	assert_false(cidr_overlaps(&v6, &a));   /* families never overlap */
}

static void
test_cmp_orders_family_address_length(void **state)
{
	struct cidr a = P("10.0.0.0/8"), b = P("10.0.0.0/16"), c = P("9.0.0.0/8"), d = P("::/0");

	(void)state;
	assert_true(cidr_cmp(&a, &b) < 0);
	assert_true(cidr_cmp(&c, &a) < 0);
	assert_true(cidr_cmp(&a, &d) < 0);
	assert_int_equal(cidr_cmp(&a, &a), 0);
}

static void
test_split_parent_sibling(void **state)
{
	struct cidr c = P("2001:db8::/32"), lo, hi, s, par;
	char b[CIDR_STRLEN];
	struct cidr host = P("10.0.0.1/32");

	(void)state;
	assert_int_equal(cidr_split(&c, &lo, &hi), 0);
	assert_string_equal(cidr_format(&lo, b, sizeof(b)), "2001:db8::/33");
	assert_string_equal(cidr_format(&hi, b, sizeof(b)), "2001:db8:8000::/33");
	s = cidr_sibling(&hi);
	assert_true(cidr_equal(&s, &lo));
	par = cidr_parent(&hi);
	assert_true(cidr_equal(&par, &c));
	assert_int_equal(cidr_split(&host, &lo, &hi), -1);
}

static void
test_split_across_64_bit_boundary(void **state)
{
	struct cidr c = P("2001:db8::/64"), lo, hi;
	char b[CIDR_STRLEN];

	(void)state;
	assert_int_equal(cidr_split(&c, &lo, &hi), 0);
	assert_string_equal(cidr_format(&hi, b, sizeof(b)), "2001:db8:0:0:8000::/65");
}

static void
test_first_and_last_address(void **state)
{
	struct cidr c = P("192.0.2.0/24"), f, l;
	struct cidr c6 = P("2001:db8::/32");
	char b[CIDR_STRLEN];

	(void)state;
	f = cidr_first(&c);
	l = cidr_last(&c);
	assert_string_equal(cidr_format(&f, b, sizeof(b)), "192.0.2.0/32");
	assert_string_equal(cidr_format(&l, b, sizeof(b)), "192.0.2.255/32");
	l = cidr_last(&c6);
	assert_string_equal(cidr_format(&l, b, sizeof(b)),
	    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void
test_counts_above_2_64_do_not_overflow(void **state)
{
	struct cidr a = P("2001:db8::/32"), all = P("::/0"), v4 = P("0.0.0.0/0");
	char b[CIDR_U128_STRLEN];

	(void)state;
	assert_string_equal(cidr_u128_format(cidr_count(&a), b, sizeof(b)),
	    "79228162514264337593543950336");
	assert_true(cidr_count(&all) == CIDR_U128_MAX);
	assert_string_equal(cidr_u128_format(cidr_count(&all), b, sizeof(b)),
	    "340282366920938463463374607431768211455");
	assert_true(cidr_count(&v4) == ((cidr_u128)1 << 32));
	assert_string_equal(cidr_u128_format(0, b, sizeof(b)), "0");
}

static void
test_bytes_round_trip(void **state)
{
	struct cidr c = P("2001:db8:1::/48"), d, v4 = P("198.51.100.0/24");
	uint8_t bytes[16];

	(void)state;
	assert_int_equal(cidr_to_bytes(&c, bytes), 16);
	assert_int_equal(cidr_from_bytes(CIDR_V6, bytes, 48, &d, NULL), 0);
	assert_true(cidr_equal(&c, &d));
	assert_int_equal(cidr_to_bytes(&v4, bytes), 4);
	assert_int_equal(cidr_from_bytes(CIDR_V4, bytes, 24, &d, NULL), 0);
	assert_true(cidr_equal(&v4, &d));
	assert_int_equal(cidr_from_bytes(CIDR_V4, bytes, 16, &d, NULL), -1);
	assert_int_equal(cidr_from_bytes(CIDR_V4, bytes, 33, &d, NULL), -1);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mutations of valid CIDRs: every result either parses to something that formats back to a
 * canonical string which parses to the same prefix, or is refused with one of the two codes. */
static void
test_thousands_of_mutated_strings_are_refused_or_round_trip(void **state)
{
	static const char *seeds[] = {
		"10.0.0.0/8", "192.0.2.128/25", "2001:db8::/32", "::ffff:1.2.3.4/128", "::/0",
		"fe80::1:2:3:4/128", "0.0.0.0/0", "1:2:3:4:5:6:7:8/128",
	};
	static const char alphabet[] = "0123456789abcdefABCDEF:./%- x\t\n\xff";
	uint64_t s = 0x1234567;
	char buf[80], out[CIDR_STRLEN];
	struct cidr c, d;
	struct err e;
	int i, refusals = 0, k, len;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "%s", seeds[rnd(&s) % 8]);
		for (k = 0; k < 1 + (int)(rnd(&s) % 3); k++) {
			len = (int)strlen(buf);
			switch (rnd(&s) % 3) {
			case 0:         /* replace */
				if (len > 0)
					buf[rnd(&s) % (uint64_t)len] =
					    alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
				break;
			case 1:         /* insert */
				if (len < 70) {
					int at = (int)(rnd(&s) % (uint64_t)(len + 1));

					memmove(buf + at + 1, buf + at, (size_t)(len - at + 1));
					buf[at] = alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
				}
				break;
			default:        /* delete */
				if (len > 0) {
					int at = (int)(rnd(&s) % (uint64_t)len);

					memmove(buf + at, buf + at + 1, (size_t)(len - at));
				}
			}
		}
		err_clear(&e);
		if (cidr_parse(buf, &c, &e) == 0) {
			cidr_format(&c, out, sizeof(out));
			assert_int_equal(cidr_parse(out, &d, NULL), 0);
			assert_true(cidr_equal(&c, &d));
		} else {
			refusals++;
			assert_true(strcmp(e.code, "cidr-invalid") == 0 ||
			    strcmp(e.code, "cidr-not-canonical") == 0);
		}
	}
	assert_true(refusals > 10000);
}

static void
test_very_long_input_is_refused(void **state)
{
	char big[4096];

	(void)state;
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "cidr-invalid");
	refused(NULL, "cidr-invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts_canonical_v4),
		cmocka_unit_test(test_parse_refuses_host_bits_naming_canonical_form),
		cmocka_unit_test(test_parse_refuses_leading_zeros_and_junk_in_v4),
		cmocka_unit_test(test_parse_refuses_out_of_range_lengths),
		cmocka_unit_test(test_parse_refuses_malformed_v6),
		cmocka_unit_test(test_format_follows_rfc5952),
		cmocka_unit_test(test_parse_addr_gives_host_prefix),
		cmocka_unit_test(test_contains_and_overlaps),
		cmocka_unit_test(test_cmp_orders_family_address_length),
		cmocka_unit_test(test_split_parent_sibling),
		cmocka_unit_test(test_split_across_64_bit_boundary),
		cmocka_unit_test(test_first_and_last_address),
		cmocka_unit_test(test_counts_above_2_64_do_not_overflow),
		cmocka_unit_test(test_bytes_round_trip),
		cmocka_unit_test(test_thousands_of_mutated_strings_are_refused_or_round_trip),
		cmocka_unit_test(test_very_long_input_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
