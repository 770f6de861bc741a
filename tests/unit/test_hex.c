/*
 * test_hex — hex_encode / hex_decode (src/base/hex.h): round trip, either case on input, and
 * hostile text refused (wrong length, non-digits, NULL) — the decoder reads the tokens file
 * and stored hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hex.h"

static void
test_hex_encode_writes_lower_case_and_a_nul(void **state)
{
	const uint8_t in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[9];

	(void)state;
	memset(out, 'z', sizeof(out));
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "000fa5ff");
}

static void
test_hex_decode_reads_either_case_and_round_trips(void **state)
{
	uint8_t all[256], back[256];
	char text[513];

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	hex_encode(all, sizeof(all), text);
	assert_int_equal(hex_decode(text, strlen(text), back, sizeof(back)), 0);
	assert_memory_equal(all, back, sizeof(all));
	assert_int_equal(hex_decode("A5fF", 4, back, 2), 0);
	assert_int_equal(back[0], 0xa5);
	assert_int_equal(back[1], 0xff);
}

static void
test_hex_decode_refuses_hostile_text(void **state)
{
	static const char *const bad[] = {
		"a5f", "a5fff", "", "g0ff", "a5 f", "0x5f", "a5f\n", "-1ff", "a5\377f", "@0ff",
		"`0ff", "G0ff", "/0ff", ":0ff",
	};
	uint8_t out[2];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hex_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	assert_int_equal(hex_decode(NULL, 4, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("a5ff", 3, out, sizeof(out)), -1);     /* len is what counts */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_encode_writes_lower_case_and_a_nul),
		cmocka_unit_test(test_hex_decode_reads_either_case_and_round_trips),
		cmocka_unit_test(test_hex_decode_refuses_hostile_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
