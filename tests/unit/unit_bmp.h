/*
 * unit_bmp.h — the gobgpd BMP capture (tests/unit/data/bmp_gobgp.bin, made by
 * tests/tools/bmp_capture.sh) for the BMP unit tests: its bytes and where each message starts.
 */
#ifndef PREFIXD_UNIT_BMP_H
#define PREFIXD_UNIT_BMP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define UNIT_BMP_CAPTURE_LEN 2668
#define UNIT_BMP_CAPTURE_MSGS 25

/* Reads the capture into buf (>= UNIT_BMP_CAPTURE_LEN bytes) and the start of each message
 * into off[0..UNIT_BMP_CAPTURE_MSGS] (off[MSGS] is the end). Fails the test when absent. */
static inline void
unit_bmp_capture(uint8_t *buf, size_t *off)
{
	const char *src = getenv("PREFIXD_SOURCE_DIR");
	char path[1024];
	size_t len, at = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/data/bmp_gobgp.bin", src ? src : ".");
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, UNIT_BMP_CAPTURE_LEN + 1, f);
	fclose(f);
	assert_int_equal(len, UNIT_BMP_CAPTURE_LEN);
	for (int i = 0; i < UNIT_BMP_CAPTURE_MSGS; i++) {
		off[i] = at;
		assert_true(at + 6 <= len);
		at += (size_t)buf[at + 1] << 24 | (size_t)buf[at + 2] << 16 |
		    (size_t)buf[at + 3] << 8 | buf[at + 4];
	}
	off[UNIT_BMP_CAPTURE_MSGS] = at;
	assert_int_equal(at, len);
}

#endif
