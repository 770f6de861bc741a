/*
 * asnum — AS numbers as text, in one place: the authorization message's "AS<n>" field, the
 * API's and prefixctl's ASN arguments, RDAP autnum file names.
 *
 * An AS number is 1..4294967295 (RFC 6793, four octets). Refused, with code "asn-invalid" and
 * a message naming the text: an empty string, "AS" alone, anything but decimal digits after the
 * optional "AS" (signs, spaces, "ASx", hex), a leading zero ("AS064500": not canonical, a signed
 * message must not have two spellings), 0 (RFC 7607: never valid), AS_TRANS 23456 (RFC 6793:
 * a placeholder, never an origin), 4294967295 (RFC 7300: reserved last ASN) and anything above
 * 4294967295. Knows nothing of the daemon.
 */
#ifndef PREFIXD_ASNUM_H
#define PREFIXD_ASNUM_H

#include <stdint.h>

#include "err.h"

#define ASNUM_STRLEN 16         /* "AS4294967294" and NUL */

/*
 * Parses "AS<n>" (exactly these two upper-case letters) when want_prefix is 1, the bare number
 * "<n>" or "AS<n>" when it is 0. Returns 0 with *out set, or -1 with e "asn-invalid".
 */
int asnum_parse(const char *s, int want_prefix, uint32_t *out, struct err *e);

/* 1 when s starts with "AS" or "as" (what a caller checks to tell an ASN from a CIDR). */
int asnum_looks_like(const char *s);

/* "AS<n>" into buf (ASNUM_STRLEN bytes); returns buf. */
char *asnum_format(uint32_t asn, char *buf);

#endif
