/*
 * asnum — AS number text (contract in asnum.h).
 */
#include <stdio.h>
#include <string.h>

#include "asnum.h"

int
asnum_looks_like(const char *s)
{
	return s != NULL && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's');
}

int
asnum_parse(const char *s, int want_prefix, uint32_t *out, struct err *e)
{
	const char *d = s;
	uint64_t n = 0;

	if (s == NULL || s[0] == '\0')
		return err_set(e, "asn-invalid", "an AS number is required (AS1..AS4294967294)");
	if (strncmp(s, "AS", 2) == 0)
		d = s + 2;
	else if (want_prefix)
		return err_set(e, "asn-invalid", "\"%.40s\" is not an AS number: write AS<n>", s);
	if (*d == '\0')
		return err_set(e, "asn-invalid", "\"%.40s\" has no number after AS", s);
	for (const char *p = d; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return err_set(e, "asn-invalid", "\"%.40s\" is not an AS number: only "
			    "decimal digits may follow AS", s);
		if (p - d >= 10)
			return err_set(e, "asn-invalid", "\"%.40s\" is above 4294967295", s);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (d[0] == '0' && d[1] != '\0')
		return err_set(e, "asn-invalid", "\"%.40s\" has a leading zero (not canonical)", s);
	if (n > 4294967295ULL)
		return err_set(e, "asn-invalid", "\"%.40s\" is above 4294967295", s);
	if (n == 0)
		return err_set(e, "asn-invalid", "AS0 is never a valid origin (RFC 7607)");
	if (n == 23456)
		return err_set(e, "asn-invalid", "AS23456 is AS_TRANS, a placeholder (RFC 6793)");
	if (n == 4294967295ULL)
		return err_set(e, "asn-invalid", "AS4294967295 is reserved (RFC 7300)");
	*out = (uint32_t)n;
	return 0;
}

char *
asnum_format(uint32_t asn, char *buf)
{
	snprintf(buf, ASNUM_STRLEN, "AS%u", (unsigned)asn);
	return buf;
}
