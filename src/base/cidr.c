/*
 * cidr — address and prefix math; see cidr.h for the representation and the parsing rules.
 *
 * IPv4 is parsed by hand (inet_pton's tolerance differs between libcs, and we must refuse
 * leading zeros everywhere). IPv6 text goes to inet_pton(AF_INET6) after a character check
 * that rules out zone ids, spaces and anything else inet_pton might accept on some libc.
 * IPv6 formatting is our own so that it follows RFC 5952 exactly on every libc.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define CIDR_TEXT_MAX 64        /* longer input is refused before any parsing */

unsigned
cidr_maxlen(int family)
{
	return family == CIDR_V4 ? 32 : 128;
}

const char *
cidr_family_name(int family)
{
	if (family == CIDR_V4)
		return "ipv4";
	if (family == CIDR_V6)
		return "ipv6";
	return "?";
}

int
cidr_family_parse(const char *s, enum cidr_family *out, struct err *e)
{
	if (s != NULL && strcmp(s, "ipv4") == 0)
		*out = CIDR_V4;
	else if (s != NULL && strcmp(s, "ipv6") == 0)
		*out = CIDR_V6;
	else
		return err_set(e, "invalid-argument", "family '%s' is not ipv4 or ipv6",
		    s ? s : "(null)");
	return 0;
}

/* Mask with the top len bits of a 128-bit value set, split into hi/lo. */
static void
cidr_mask(unsigned len, uint64_t *mhi, uint64_t *mlo)
{
	if (len == 0) {
		*mhi = 0;
		*mlo = 0;
	} else if (len < 64) {
		*mhi = ~(uint64_t)0 << (64 - len);
		*mlo = 0;
	} else if (len == 64) {
		*mhi = ~(uint64_t)0;
		*mlo = 0;
	} else {
		*mhi = ~(uint64_t)0;
		*mlo = len >= 128 ? ~(uint64_t)0 : ~(uint64_t)0 << (128 - len);
	}
}

struct cidr
cidr_make(int family, uint64_t hi, uint64_t lo, unsigned len)
{
	struct cidr c;
	uint64_t mhi, mlo;

	cidr_mask(len, &mhi, &mlo);
	memset(&c, 0, sizeof(c));
	c.family = (uint8_t)family;
	c.len = (uint8_t)len;
	c.hi = hi & mhi;
	c.lo = lo & mlo;
	if (family == CIDR_V4) {
		c.hi &= 0xffffffff00000000ULL;
		c.lo = 0;
	}
	return c;
}

/* Parses a decimal number of 1..maxdigits digits without leading zeros, up to max.
 * Returns the number of characters consumed, or 0 on failure. */
static size_t
cidr_parse_dec(const char *s, unsigned maxdigits, unsigned max, unsigned *out)
{
	size_t i = 0;
	unsigned v = 0;

	while (s[i] >= '0' && s[i] <= '9') {
		if (i == maxdigits)
			return 0;
		if (i == 1 && v == 0)
			return 0;   /* leading zero */
		v = v * 10 + (unsigned)(s[i] - '0');
		i++;
	}
	if (i == 0 || v > max)
		return 0;
	*out = v;
	return i;
}

/* Strict dotted quad, the whole of s. */
static int
cidr_parse_v4(const char *s, uint64_t *hi)
{
	uint32_t a = 0;
	unsigned octet;
	size_t n;
	int i;

	for (i = 0; i < 4; i++) {
		n = cidr_parse_dec(s, 3, 255, &octet);
		if (n == 0)
			return -1;
		a = (a << 8) | octet;
		s += n;
		if (i < 3) {
			if (*s != '.')
				return -1;
			s++;
		}
	}
	if (*s != '\0')
		return -1;
	*hi = (uint64_t)a << 32;
	return 0;
}

static int
cidr_parse_v6(const char *s, uint64_t *hi, uint64_t *lo)
{
	unsigned char b[16];
	const char *p;
	int i;

	for (p = s; *p != '\0'; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		    (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
			return -1;
	}
	if (inet_pton(AF_INET6, s, b) != 1)
		return -1;
	*hi = 0;
	*lo = 0;
	for (i = 0; i < 8; i++) {
		*hi = (*hi << 8) | b[i];
		*lo = (*lo << 8) | b[8 + i];
	}
	return 0;
}

/* Parses an address (no length) into family/hi/lo. Returns 0 or -1. */
static int
cidr_parse_any(const char *s, uint8_t *family, uint64_t *hi, uint64_t *lo)
{
	if (strchr(s, ':') != NULL) {
		*family = CIDR_V6;
		return cidr_parse_v6(s, hi, lo);
	}
	*family = CIDR_V4;
	*lo = 0;
	return cidr_parse_v4(s, hi);
}

int
cidr_parse_addr(const char *s, struct cidr *out, struct err *e)
{
	uint8_t family;
	uint64_t hi, lo;

	if (s == NULL)
		return err_set(e, "cidr-invalid", "missing address");
	if (strlen(s) >= CIDR_TEXT_MAX || cidr_parse_any(s, &family, &hi, &lo) != 0)
		return err_set(e, "cidr-invalid", "'%.*s' is not an IPv4 or IPv6 address",
		    CIDR_TEXT_MAX, s);
	*out = cidr_make(family, hi, lo, cidr_maxlen(family));
	return 0;
}

int
cidr_parse(const char *s, struct cidr *out, struct err *e)
{
	char addr[CIDR_TEXT_MAX];
	const char *slash;
	uint8_t family;
	uint64_t hi, lo;
	unsigned len;
	size_t alen, n;
	struct cidr c;
	char canon[CIDR_STRLEN];

	if (s == NULL)
		return err_set(e, "cidr-invalid", "missing CIDR");
	slash = strchr(s, '/');
	if (strlen(s) >= CIDR_TEXT_MAX || slash == NULL)
		goto invalid;
	alen = (size_t)(slash - s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (cidr_parse_any(addr, &family, &hi, &lo) != 0)
		goto invalid;
	n = cidr_parse_dec(slash + 1, 3, cidr_maxlen(family), &len);
	if (n == 0 || slash[1 + n] != '\0')
		goto invalid;
	c = cidr_make(family, hi, lo, len);
	if (c.hi != hi || c.lo != lo)
		return err_set(e, "cidr-not-canonical",
		    "'%s' has host bits set; the canonical form is %s", s,
		    cidr_format(&c, canon, sizeof(canon)));
	*out = c;
	return 0;
invalid:
	return err_set(e, "cidr-invalid", "'%.*s' is not a valid CIDR (want ADDRESS/LEN)",
	    CIDR_TEXT_MAX, s);
}

int
cidr_from_bytes(int family, const uint8_t *bytes, unsigned len, struct cidr *out,
    struct err *e)
{
	uint64_t hi = 0, lo = 0;
	struct cidr c;
	char canon[CIDR_STRLEN];
	int i;

	if ((family != CIDR_V4 && family != CIDR_V6) || len > cidr_maxlen(family))
		return err_set(e, "cidr-invalid", "prefix length %u out of range for %s", len,
		    cidr_family_name(family));
	if (family == CIDR_V4) {
		for (i = 0; i < 4; i++)
			hi = (hi << 8) | bytes[i];
		hi <<= 32;
	} else {
		for (i = 0; i < 8; i++) {
			hi = (hi << 8) | bytes[i];
			lo = (lo << 8) | bytes[8 + i];
		}
	}
	c = cidr_make(family, hi, lo, len);
	if (c.hi != hi || c.lo != lo)
		return err_set(e, "cidr-not-canonical", "host bits set; the canonical form is %s",
		    cidr_format(&c, canon, sizeof(canon)));
	*out = c;
	return 0;
}

size_t
cidr_to_bytes(const struct cidr *c, uint8_t out[16])
{
	int i;

	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(c->hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(c->lo >> (56 - 8 * i));
	}
	return c->family == CIDR_V4 ? 4 : 16;
}

/* RFC 5952 text of a 128-bit address into buf (at least 40 bytes). */
static void
cidr_format_v6(uint64_t hi, uint64_t lo, char *buf)
{
	unsigned g[8];
	int i, best = -1, bestlen = 0, run, pos = 0;

	for (i = 0; i < 4; i++) {
		g[i] = (unsigned)(hi >> (48 - 16 * i)) & 0xffff;
		g[4 + i] = (unsigned)(lo >> (48 - 16 * i)) & 0xffff;
	}
	if (hi == 0 && g[4] == 0 && g[5] == 0xffff) {   /* IPv4-mapped, RFC 5952 §5 */
		sprintf(buf, "::ffff:%u.%u.%u.%u", g[6] >> 8, g[6] & 0xff, g[7] >> 8,
		    g[7] & 0xff);
		return;
	}
	for (i = 0; i < 8; i += run > 0 ? run : 1) {
		for (run = 0; i + run < 8 && g[i + run] == 0; run++)
			;
		if (run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			pos += sprintf(buf + pos, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && !(best >= 0 && i == best + bestlen))
			buf[pos++] = ':';
		pos += sprintf(buf + pos, "%x", g[i]);
	}
	buf[pos] = '\0';
}

char *
cidr_format_addr(const struct cidr *c, char *buf, size_t size)
{
	char tmp[48];
	uint32_t a;

	if (c->family == CIDR_V4) {
		a = (uint32_t)(c->hi >> 32);
		snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		    (a >> 8) & 0xff, a & 0xff);
	} else {
		cidr_format_v6(c->hi, c->lo, tmp);
	}
	snprintf(buf, size, "%s", tmp);
	return buf;
}

char *
cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char a[48];             /* the longest address text is 45 characters */

	cidr_format_addr(c, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, (unsigned)c->len);
	return buf;
}

int
cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

bool
cidr_equal(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->len == b->len && a->hi == b->hi && a->lo == b->lo;
}

bool
cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	uint64_t mhi, mlo;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	cidr_mask(outer->len, &mhi, &mlo);
	return (inner->hi & mhi) == outer->hi && (inner->lo & mlo) == outer->lo;
}

bool
cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return a->len <= b->len ? cidr_contains(a, b) : cidr_contains(b, a);
}

/* The prefix with bit `bit` of the address set (bit < 128). */
static struct cidr
cidr_with_bit(struct cidr c, unsigned bit)
{
	if (bit < 64)
		c.hi |= (uint64_t)1 << (63 - bit);
	else
		c.lo |= (uint64_t)1 << (127 - bit);
	return c;
}

int
cidr_split(const struct cidr *c, struct cidr *low, struct cidr *high)
{
	struct cidr l;

	if (c->len >= cidr_maxlen(c->family))
		return -1;
	l = *c;
	l.len = (uint8_t)(c->len + 1);
	*low = l;
	*high = cidr_with_bit(l, c->len);
	return 0;
}

struct cidr
cidr_parent(const struct cidr *c)
{
	if (c->len == 0)
		return *c;
	return cidr_make(c->family, c->hi, c->lo, c->len - 1u);
}

struct cidr
cidr_sibling(const struct cidr *c)
{
	struct cidr s = *c;
	unsigned bit = c->len - 1u;

	if (bit < 64)
		s.hi ^= (uint64_t)1 << (63 - bit);
	else
		s.lo ^= (uint64_t)1 << (127 - bit);
	return s;
}

struct cidr
cidr_first(const struct cidr *c)
{
	struct cidr f = *c;

	f.len = (uint8_t)cidr_maxlen(c->family);
	return f;
}

struct cidr
cidr_last(const struct cidr *c)
{
	struct cidr l = *c;
	uint64_t mhi, mlo;

	cidr_mask(c->len, &mhi, &mlo);
	l.hi |= ~mhi;
	l.lo |= ~mlo;
	l.len = (uint8_t)cidr_maxlen(c->family);
	if (c->family == CIDR_V4) {
		l.hi &= 0xffffffff00000000ULL;
		l.lo = 0;
	}
	return l;
}

cidr_u128
cidr_count_len(int family, unsigned len)
{
	unsigned bits = cidr_maxlen(family) - len;

	if (bits >= 128)
		return CIDR_U128_MAX;
	return (cidr_u128)1 << bits;
}

cidr_u128
cidr_count(const struct cidr *c)
{
	return cidr_count_len(c->family, c->len);
}

cidr_u128
cidr_u128_add(cidr_u128 a, cidr_u128 n)
{
	return a == CIDR_U128_MAX || n == CIDR_U128_MAX || a + n < a ? CIDR_U128_MAX : a + n;
}

cidr_u128
cidr_u128_sub(cidr_u128 a, cidr_u128 n)
{
	if (n == CIDR_U128_MAX)
		return 0;                       /* 2^128 - 2^128, or less than nothing */
	if (a == CIDR_U128_MAX)
		return n == 0 ? a : a - n + 1;  /* 2^128 - n */
	return a >= n ? a - n : 0;
}

char *
cidr_u128_format(cidr_u128 v, char *buf, size_t size)
{
	char tmp[CIDR_U128_STRLEN];
	size_t i = sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	snprintf(buf, size, "%s", tmp + i);
	return buf;
}
