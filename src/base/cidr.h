/*
 * cidr — IPv4 and IPv6 addresses and prefixes: strict parsing, RFC 5952 formatting, and the
 * prefix arithmetic every other module stands on (ptree, ipam, rpki, bgp, the API).
 *
 * Representation. Every address is kept left-aligned in 128 bits (`hi`, `lo`, host byte
 * order): an IPv4 address sits in the top 32 bits of `hi`, the rest is zero. Bit 0 is the most
 * significant bit of `hi`. With that, bit operations (ptree's radix walk, splitting, masking)
 * are the same code for both families. A struct cidr is always canonical: host bits are zero.
 * A plain address is a host prefix (/32 or /128).
 *
 * Parsing is strict: `cidr_parse` wants ADDRESS/LEN. IPv4 is exactly four dotted decimal
 * octets 0..255 with no leading zeros ("010.0.0.0" is refused), no spaces, no junk. IPv6 is
 * RFC 4291 text (hex groups, one "::", an optional dotted IPv4 tail), no zone id. LEN is
 * decimal without leading zeros, 0..32 or 0..128. Refusals:
 *   cidr-invalid        syntax, length out of range, junk; the message quotes the text
 *   cidr-not-canonical  host bits set; the message names the canonical form
 *
 * Formatting: IPv4 dotted decimal; IPv6 per RFC 5952 (lower case, no leading zeros, the
 * longest run of two or more zero groups as "::", the first such run on a tie, and
 * "::ffff:a.b.c.d" for IPv4-mapped addresses).
 *
 * Counting: address counts are `unsigned __int128` (cidr_u128). The only count that does not
 * fit is ::/0 (2^128); it saturates to 2^128 - 1 (CIDR_U128_MAX). JSON carries IPv6 counts as
 * decimal strings: use cidr_u128_format.
 */
#ifndef PREFIXD_CIDR_H
#define PREFIXD_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum cidr_family {
	CIDR_V4 = 4,
	CIDR_V6 = 6,
};

struct cidr {
	uint64_t hi;            /* address bits 0..63, left-aligned */
	uint64_t lo;            /* address bits 64..127 */
	uint8_t family;         /* CIDR_V4 or CIDR_V6 */
	uint8_t len;            /* prefix length, 0..32 or 0..128 */
};

typedef unsigned __int128 cidr_u128;
#define CIDR_U128_MAX (~(cidr_u128)0)

/* Buffer size that holds any formatted prefix, with NUL ("ffff:...:ffff/128" is 43). */
#define CIDR_STRLEN 52
/* Buffer size that holds any cidr_u128 in decimal, with NUL (2^128 - 1 has 39 digits). */
#define CIDR_U128_STRLEN 40

/* Parses "ADDRESS/LEN" strictly (see above). Returns 0 and fills *out, or -1 with
 * cidr-invalid / cidr-not-canonical in e (e may be NULL). *out is untouched on error. */
int cidr_parse(const char *s, struct cidr *out, struct err *e);

/* Parses a bare address ("192.0.2.1", "2001:db8::1") into a host prefix. Code cidr-invalid. */
int cidr_parse_addr(const char *s, struct cidr *out, struct err *e);

/* Parses "ipv4" / "ipv6" into *out. Returns 0 or -1 (invalid-argument naming the text). */
int cidr_family_parse(const char *s, enum cidr_family *out, struct err *e);
/* "ipv4" or "ipv6" (or "?" for anything else). */
const char *cidr_family_name(int family);

/* 32 for IPv4, 128 for IPv6. */
unsigned cidr_maxlen(int family);

/* Builds a prefix from a left-aligned address, clearing host bits. len must be <= maxlen. */
struct cidr cidr_make(int family, uint64_t hi, uint64_t lo, unsigned len);

/* Builds a prefix from network-order bytes (4 for IPv4, 16 for IPv6). Returns 0 or -1 with
 * cidr-invalid (len out of range) or cidr-not-canonical (host bits set). */
int cidr_from_bytes(int family, const uint8_t *bytes, unsigned len, struct cidr *out,
    struct err *e);
/* Writes the address in network order: 4 bytes for IPv4, 16 for IPv6. Returns the count. */
size_t cidr_to_bytes(const struct cidr *c, uint8_t out[16]);

/* Formats "ADDRESS/LEN" into buf (size >= CIDR_STRLEN is always enough). Returns buf. */
char *cidr_format(const struct cidr *c, char *buf, size_t size);
/* Formats only the address. Returns buf. */
char *cidr_format_addr(const struct cidr *c, char *buf, size_t size);

/* Total order: family (IPv4 first), then address, then length (shorter first). <0, 0, >0. */
int cidr_cmp(const struct cidr *a, const struct cidr *b);
bool cidr_equal(const struct cidr *a, const struct cidr *b);
/* True when inner lies inside outer (same family, outer->len <= inner->len). A prefix
 * contains itself. */
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
/* True when a and b share at least one address (one contains the other). */
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* Splits c into its two halves (len + 1). Returns 0, or -1 when c is a host prefix. */
int cidr_split(const struct cidr *c, struct cidr *low, struct cidr *high);
/* The prefix one bit shorter that contains c (c itself for /0). */
struct cidr cidr_parent(const struct cidr *c);
/* The other half of c's parent. c must not be /0. */
struct cidr cidr_sibling(const struct cidr *c);

/* First and last address of c, as host prefixes. */
struct cidr cidr_first(const struct cidr *c);
struct cidr cidr_last(const struct cidr *c);

/* Bit i (0 = most significant) of c's address. i < 128. */
static inline unsigned
cidr_bit(const struct cidr *c, unsigned i)
{
	return i < 64 ? (unsigned)(c->hi >> (63 - i)) & 1u
	    : (unsigned)(c->lo >> (127 - i)) & 1u;
}

/* The address as a left-aligned 128-bit integer (for range arithmetic and storage). */
static inline cidr_u128
cidr_addr_u128(const struct cidr *c)
{
	return ((cidr_u128)c->hi << 64) | c->lo;
}

/* Number of addresses in c: 2^(maxlen - len); ::/0 saturates to CIDR_U128_MAX. */
cidr_u128 cidr_count(const struct cidr *c);
/* Number of addresses in a block of length len of the family (same rules as cidr_count). */
cidr_u128 cidr_count_len(int family, unsigned len);

/*
 * Sums of address counts inside one address space, where CIDR_U128_MAX stands for 2^128 (the
 * count of ::/0, as cidr_count saturates). Such a sum never exceeds 2^128, so a carry means
 * exactly 2^128: add saturates to CIDR_U128_MAX, sub takes CIDR_U128_MAX as 2^128. Plain
 * + and - wrapped: a pool ::/0 allocated in two halves showed 0 %.
 */
cidr_u128 cidr_u128_add(cidr_u128 a, cidr_u128 n);
cidr_u128 cidr_u128_sub(cidr_u128 a, cidr_u128 n);

/* Formats v in decimal into buf (size >= CIDR_U128_STRLEN is enough). Returns buf. */
char *cidr_u128_format(cidr_u128 v, char *buf, size_t size);

#endif
