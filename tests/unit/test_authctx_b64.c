/*
 * Unit tests for authctx's strict base64 decoder: the two accepted alphabets (standard, and
 * SPEC's `tr -- '+=/' '-_~'` form) and everything it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "authctx.h"

static int
dec(const char *in, unsigned char *out, size_t *n, struct err *e)
{
	return authctx_b64_decode(in, strlen(in), out, 64, n, e);
}

static void
test_b64_standard_with_padding_decodes(void **state)
{
	unsigned char out[64];
	size_t n;

	(void)state;
	assert_int_equal(dec("+/8=", out, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(dec("YQ==", out, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'a');
	assert_int_equal(dec("YWJj", out, &n, NULL), 0);
	assert_int_equal(n, 3);
}

static void
test_b64_spec_url_safe_decodes_like_standard(void **state)
{
	unsigned char a[64], b[64];
	size_t na, nb;

	(void)state;
	assert_int_equal(dec("-~8_", a, &na, NULL), 0);
	assert_int_equal(dec("+/8=", b, &nb, NULL), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(dec("YQ__", a, &na, NULL), 0);
	assert_int_equal(na, 1);
}

/* Expects a refusal with code signature-invalid. */
static void
refuse(const char *in)
{
	unsigned char out[64];
	size_t n;
	struct err e = { 0 };

	assert_int_equal(dec(in, out, &n, &e), -1);
	assert_string_equal(e.code, "signature-invalid");
}

static void
test_b64_refuses_mixed_alphabets(void **state)
{
	(void)state;
	refuse("+~8=");
	refuse("-/8_");
	refuse("YQ=_");
	refuse("-/8=");
}

static void
test_b64_refuses_whitespace_and_newlines(void **state)
{
	(void)state;
	refuse("YWJj ");
	refuse(" YWJj");
	refuse("YW\nJj");
	refuse("YWJj\n");
	refuse("YW\tJ");
	refuse("YWJjYWJj\r\n");
}

static void
test_b64_refuses_bad_padding(void **state)
{
	(void)state;
	refuse("YQ");       /* missing padding */
	refuse("YQ=");
	refuse("Y===");     /* three pad characters */
	refuse("YQ=a");     /* padding not at the end */
	refuse("YQ==YWJj"); /* padding inside */
	refuse("=");
	refuse("====");
}

static void
test_b64_refuses_nonzero_trailing_bits(void **state)
{
	(void)state;
	refuse("YR==");     /* 'R' leaves bits in the discarded half-byte */
	refuse("YWK=");
}

static void
test_b64_refuses_empty_and_foreign_bytes(void **state)
{
	(void)state;
	refuse("");
	refuse("YW.j");
	refuse("YW\x80j");
	refuse("YW*j");
}

static void
test_b64_refuses_output_beyond_capacity(void **state)
{
	unsigned char out[4];
	size_t n;

	(void)state;
	assert_int_equal(authctx_b64_decode("YWJjYWJj", 8, out, 4, &n, NULL), -1);
	assert_int_equal(authctx_b64_decode("YWJj", 4, out, 3, &n, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_standard_with_padding_decodes),
		cmocka_unit_test(test_b64_spec_url_safe_decodes_like_standard),
		cmocka_unit_test(test_b64_refuses_mixed_alphabets),
		cmocka_unit_test(test_b64_refuses_whitespace_and_newlines),
		cmocka_unit_test(test_b64_refuses_bad_padding),
		cmocka_unit_test(test_b64_refuses_nonzero_trailing_bits),
		cmocka_unit_test(test_b64_refuses_empty_and_foreign_bytes),
		cmocka_unit_test(test_b64_refuses_output_beyond_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
