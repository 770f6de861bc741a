/*
 * hex — bytes to and from hexadecimal text: SHA-256 digests shown as 64 lower-case digits
 * (audit chain, certificate and message fingerprints), stored hashes read back (the event
 * log, the tokens file). Pure functions.
 */
#ifndef PREFIXD_HEX_H
#define PREFIXD_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes the n bytes of in as 2n lower-case hex digits and a NUL (out holds 2n + 1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Reads exactly 2n hex digits (either case) from the len bytes at s into out[n]. Returns 0,
 * or -1 when s is NULL, len is not 2n, or a character is not a hex digit (out is then
 * partly written). */
int hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

#endif
