/*
 * authctx_parse — the untrusted-text half of authctx (SPEC §4): the authorization message
 * parser (authctx_check_message) and the strict base64 decoder for the signature
 * (authctx_b64_decode). Called by authctx.c's pipeline before any certificate or RDAP work,
 * and directly by the unit tests and fuzzers. It owns no state; each check it makes is
 * recorded through authctx_report()/authctx_fail() (authctx.c, via authctx_private.h). The
 * failure codes and the choices made are in authctx.h.
 */
#include <stdio.h>
#include <string.h>

#include "authctx.h"
#include "authctx_private.h"
#include "asnum.h"
#include "cidr.h"

/* ---- message ---- */

#define NFIELDS 7

/* Splits msg at '|' into exactly NFIELDS fields; counts all fields found in *nfound. */
static int
split_fields(const char *msg, size_t len, char fields[NFIELDS][AUTHCTX_MSG_MAX + 1],
    size_t *nfound)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && msg[i] != '|')
			continue;
		if (n < NFIELDS) {
			memcpy(fields[n], msg + start, i - start);
			fields[n][i - start] = '\0';
		}
		n++;
		start = i + 1;
	}
	*nfound = n;
	return n == NFIELDS ? 0 : -1;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long
days_from_civil(int y, int m, int d)
{
	static const int cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	long yy = y - 1;
	long days = 365L * (y - 1970) + (yy / 4 - 1969 / 4) - (yy / 100 - 1969 / 100) +
	    (yy / 400 - 1969 / 400);

	return days + cum[m - 1] + (m > 2 && is_leap(y)) + d - 1;
}

/* Parses a real calendar date YYYYMMDD into days since the epoch. */
static int
parse_date(const char *s, long *days)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, dim;

	if (strlen(s) != 8)
		return -1;
	for (int i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return -1;
	dim = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d < 1 || d > dim)
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

static int
printable(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] <= 0x20 || (unsigned char)msg[i] >= 0x7f)
			return 0;
	return 1;
}

/* The CIDR field: canonical text and exactly the prefix. */
static int
check_cidr_field(const char *field, const char *prefix, struct authctx_result *r,
    struct err *e)
{
	struct cidr mine, want;
	char canon[CIDR_STRLEN], buf[ERR_MSG_MAX - 64];
	struct err ce = { 0 };

	if (cidr_parse(prefix, &want, &ce) == -1) {
		snprintf(buf, sizeof(buf), "prefix: %.200s", ce.msg);
		return authctx_fail(r, e, "cidr", "auth-cidr-mismatch", buf);
	}
	if (asnum_looks_like(field)) {
		snprintf(buf, sizeof(buf), "field 4 \"%.32s\" is an AS number: this message "
		    "proves an ASN, not the prefix %.60s", field, prefix);
		return authctx_fail(r, e, "cidr", "auth-malformed", buf);
	}
	if (cidr_parse(field, &mine, &ce) == -1 ||
	    strcmp(cidr_format(&mine, canon, sizeof(canon)), field) != 0) {
		snprintf(buf, sizeof(buf), "field 4 (cidr) \"%.64s\" is not a canonical CIDR",
		    field);
		return authctx_fail(r, e, "cidr", "auth-malformed", buf);
	}
	if (!cidr_equal(&mine, &want)) {
		snprintf(buf, sizeof(buf), "field 4 (cidr) %.60s is %s %s, not exactly it", field,
		    cidr_contains(&mine, &want) ? "a superset of" :
		    cidr_contains(&want, &mine) ? "a subset of" : "different from",
		    cidr_format(&want, canon, sizeof(canon)));
		return authctx_fail(r, e, "cidr", "auth-cidr-mismatch", buf);
	}
	authctx_report(r, "cidr", 1, "%s", field);
	return 0;
}

/* The ASN field of an ASN proof: canonical "AS<n>" and exactly the ASN being proven. */
static int
check_asn_field(const char *field, const char *subject, struct authctx_result *r,
    struct err *e)
{
	uint32_t mine, want;
	char buf[ERR_MSG_MAX - 64];
	struct err ce = { 0 };

	if (asnum_parse(subject, 1, &want, &ce) == -1) {
		snprintf(buf, sizeof(buf), "subject: %.200s", ce.msg);
		return authctx_fail(r, e, "asn", "asn-invalid", buf);
	}
	if (asnum_parse(field, 1, &mine, &ce) == -1) {
		snprintf(buf, sizeof(buf), "field 4 (asn): %.200s", ce.msg);
		return authctx_fail(r, e, "asn", "auth-malformed", buf);
	}
	if (mine != want) {
		snprintf(buf, sizeof(buf), "field 4 (asn) %.16s is not %.16s", field, subject);
		return authctx_fail(r, e, "asn", "auth-asn-mismatch", buf);
	}
	authctx_report(r, "asn", 1, "%s", field);
	return 0;
}

/* The date field: a real date, not past (valid through its last day), not too far ahead. */
static int
check_date_field(const char *field, int max_days, time_t now, struct authctx_result *r,
    struct err *e)
{
	long days, today = (long)(now / 86400);
	char buf[160];

	if (now < 0)
		today = -1;
	if (parse_date(field, &days) == -1) {
		snprintf(buf, sizeof(buf), "field 5 (expiry) \"%.16s\" is not a calendar date "
		    "YYYYMMDD", field);
		return authctx_fail(r, e, "expiry", "auth-malformed", buf);
	}
	if (days < today) {
		snprintf(buf, sizeof(buf), "field 5 (expiry) %s is in the past", field);
		return authctx_fail(r, e, "expiry", "auth-expired", buf);
	}
	if (days - today > max_days) {
		snprintf(buf, sizeof(buf), "field 5 (expiry) %s is more than %d days ahead",
		    field, max_days);
		return authctx_fail(r, e, "expiry", "auth-expired", buf);
	}
	authctx_report(r, "expiry", 1, "%s (valid through 23:59:59 UTC)", field);
	return 0;
}

/* Fields 1, 2, 3, 6 and 7: fixed words and the configured identities. */
static int
check_fixed_fields(const struct authctx_conf *c, char f[NFIELDS][AUTHCTX_MSG_MAX + 1],
    struct authctx_result *r, struct err *e)
{
	char buf[400];

	if (strcmp(f[0], "1") != 0) {
		snprintf(buf, sizeof(buf), "field 1 (version) \"%.32s\" is not 1", f[0]);
		return authctx_fail(r, e, "version", "auth-malformed", buf);
	}
	authctx_report(r, "version", 1, "1");
	if (strcmp(f[5], "SHA256") != 0 || strcmp(f[6], "RSAPSS") != 0) {
		snprintf(buf, sizeof(buf), "fields 6-7 (algorithm) \"%.32s|%.32s\" are not "
		    "SHA256|RSAPSS", f[5], f[6]);
		return authctx_fail(r, e, "algorithm", "auth-malformed", buf);
	}
	authctx_report(r, "algorithm", 1, "SHA256|RSAPSS");
	if (strcmp(f[1], c->issuer) != 0) {
		snprintf(buf, sizeof(buf), "field 2 (issuer) \"%.64s\" is not the configured "
		    "issuer \"%.64s\"", f[1], c->issuer);
		return authctx_fail(r, e, "issuer", "auth-issuer-mismatch", buf);
	}
	authctx_report(r, "issuer", 1, "%s", f[1]);
	if (c->owner_id[0] == '\0' || strcmp(f[2], c->owner_id) != 0) {
		snprintf(buf, sizeof(buf), "field 3 (owner-id) \"%.64s\" is not the configured "
		    "owner_id \"%.64s\"", f[2], c->owner_id);
		return authctx_fail(r, e, "owner", "auth-owner-mismatch", buf);
	}
	authctx_report(r, "owner", 1, "%s", f[2]);
	return 0;
}

int
authctx_check_message(const struct authctx_conf *c, const char *prefix, const char *msg,
    size_t msglen, time_t now, struct authctx_result *r, struct err *e)
{
	char f[NFIELDS][AUTHCTX_MSG_MAX + 1];
	char buf[160];
	size_t n;

	if (msglen == 0 || msglen > AUTHCTX_MSG_MAX)
		return authctx_fail(r, e, "fields", "auth-malformed",
		    "message: empty or longer than 512 bytes");
	if (!printable(msg, msglen))
		return authctx_fail(r, e, "fields", "auth-malformed", "message: contains "
		    "whitespace, control or non-ASCII bytes (sign the exact message, no newline)");
	if (split_fields(msg, msglen, f, &n) == -1) {
		snprintf(buf, sizeof(buf), "message: %zu fields, exactly 7 required", n);
		return authctx_fail(r, e, "fields", "auth-malformed", buf);
	}
	for (int i = 0; i < NFIELDS; i++)
		if (f[i][0] == '\0') {
			snprintf(buf, sizeof(buf), "message: field %d is empty", i + 1);
			return authctx_fail(r, e, "fields", "auth-malformed", buf);
		}
	authctx_report(r, "fields", 1, "7 fields");
	if (check_fixed_fields(c, f, r, e) == -1 ||
	    (asnum_looks_like(prefix) ? check_asn_field(f[3], prefix, r, e) :
	    check_cidr_field(f[3], prefix, r, e)) == -1 ||
	    check_date_field(f[4], c->max_validity_days, now, r, e) == -1)
		return -1;
	return 0;
}

/* ---- signature encoding ---- */

/*
 * Value of one base64 character in the given alphabet (0 standard, 1 SPEC's URL-safe), or -1.
 * SPEC's alphabet is what `tr -- '+=/' '-_~'` makes of standard base64: '+' -> '-',
 * '/' -> '~', and the padding '=' -> '_'. (RFC 4648's base64url differs: '_' is value 63
 * there; a signature in that alphabet is refused unless it happens to need no '/'.)
 */
static int
b64_value(unsigned char ch, int url)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == (url ? '-' : '+'))
		return 62;
	if (ch == (url ? '~' : '/'))
		return 63;
	return -1;
}

/* Picks the alphabet: 0 standard, 1 URL-safe; -1 when both or foreign bytes appear. */
static int
b64_alphabet(const char *in, size_t len)
{
	int std = 0, url = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '+' || ch == '/' || ch == '=')
			std = 1;
		else if (ch == '-' || ch == '_' || ch == '~')
			url = 1;
		else if (b64_value(ch, 0) == -1)
			return -1;
	}
	return std && url ? -1 : url;
}

int
authctx_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
    size_t *outlen, struct err *e)
{
	int url, v[4];
	size_t o = 0, pad = 0;
	char padch;

	if (inlen == 0 || inlen % 4 != 0)
		return err_set(e, "signature-invalid", "signature: base64 length %zu is not a "
		    "non-zero multiple of 4", inlen);
	if ((url = b64_alphabet(in, inlen)) == -1)
		return err_set(e, "signature-invalid", "signature: not base64 in one alphabet "
		    "(mixed alphabets, whitespace or foreign characters)");
	padch = url ? '_' : '=';
	while (pad < 2 && in[inlen - 1 - pad] == padch)
		pad++;
	if ((inlen / 4) * 3 - pad > outcap)
		return err_set(e, "signature-invalid", "signature: longer than %zu bytes", outcap);
	for (size_t i = 0; i < inlen; i += 4) {
		for (int k = 0; k < 4; k++) {
			int last = i + 4 == inlen && k >= 4 - (int)pad;
			v[k] = last ? 0 : b64_value((unsigned char)in[i + k], url);
			if (v[k] == -1)
				return err_set(e, "signature-invalid", "signature: bad base64 "
				    "padding at offset %zu", i + k);
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (i + 4 < inlen || pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (i + 4 < inlen || pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
		return err_set(e, "signature-invalid", "signature: non-zero trailing bits in "
		    "base64");
	*outlen = o;
	return 0;
}
