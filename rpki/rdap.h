/*
 * rdap — getting the RDAP record of an address range and the certificates in it (SPEC §4).
 *
 * The proof-of-ownership certificate is published as PEM inside the RDAP record of the range,
 * in remarks[].description. This module fetches that record over HTTP(S) with libcurl or reads
 * it from a directory, checks the record covers the prefix, and extracts the PEM candidates.
 * authctx calls it; the fetch is blocking and runs on authctx's worker thread, never on the loop.
 *
 * URL template (auth.rdap_url): "{cidr}" expands to ADDR/LEN unescaped (RDAP's own path form,
 * RFC 9082 "/ip/192.0.2.0/24"), "{addr}" to the network address alone; e.g.
 * "http://127.0.0.1:8080/ip/{cidr}". Only http and https. Redirects are followed only within
 * the URL's own scheme, host and port (at most RDAP_MAX_REDIRS); a redirect to another host is
 * rdap-unavailable. HTTP status must be 200. Documents above RDAP_MAX_DOC (1 MiB) abort the transfer.
 *
 * Directory (auth.rdap_dir): the record for 192.0.2.0/24 is the file "192.0.2.0_24.json"
 * (IPv6: "2001:db8::_32.json"); a missing file is rdap-unavailable.
 *
 * Coverage: the record covers the prefix when startAddress..endAddress contains it, or when
 * one of cidr0_cidrs ({"v4prefix"|"v6prefix", "length"}) contains it.
 *
 * PEM extraction: each remark's description may be one string or an array of strings (RFC 9083
 * says array); the lines of one remark are joined with newlines and every
 * BEGIN CERTIFICATE ... END CERTIFICATE block found is rebuilt as clean PEM, whether it came on
 * many lines, on one line with embedded newlines, or on one line with spaces. Only the record's
 * top-level remarks are searched. At most RDAP_MAX_CERTS candidates are returned.
 */
#ifndef PREFIXD_RDAP_H
#define PREFIXD_RDAP_H

#include <stdatomic.h>
#include <stddef.h>

#include "err.h"

#define RDAP_MAX_DOC    (1024 * 1024)
#define RDAP_MAX_CERTS  8
#define RDAP_MAX_PEM    (64 * 1024)
#define RDAP_MAX_REDIRS 3
#define RDAP_URL_SHOWN 1024  /* a redacted URL fits in this */

struct rdap_fetch_opts {
	long timeout_ms;            /* whole transfer; <= 0 means 10000 */
	long connect_timeout_ms;    /* <= 0 means 5000 */
	const atomic_int *cancel;   /* optional: the transfer aborts once *cancel != 0 */
};

/* PEM candidates found in a record. */
struct rdap_pems {
	char *pem[RDAP_MAX_CERTS];  /* NUL-terminated clean PEM, owned */
	size_t n;
	size_t markers;             /* BEGIN CERTIFICATE markers seen (may exceed n) */
};

/*
 * Expands the URL template for prefix (canonical CIDR text "ADDR/LEN"). Refuses a template
 * that is not http:// or https:// or a result longer than outlen. Returns 0 or -1 with code
 * "rdap-unavailable".
 */
int rdap_expand_url(const char *tmpl, const char *prefix, char *out, size_t outlen,
    struct err *e);

/*
 * Fetches url, blocking, within opts' timeouts. On success *doc is a malloc'd NUL-terminated
 * copy of the body and *len its length. Returns 0 or -1 with code "rdap-unavailable" and a
 * message saying why (status, timeout, size, connect failure, cancelled).
 */
int rdap_fetch_url(const char *url, const struct rdap_fetch_opts *opts, char **doc,
    size_t *len, struct err *e);

/*
 * Copies url into out with what may be a credential hidden: the user:password@ part becomes
 * "***@" and a query string "?***". For logs, evidence and `prefixd -n`.
 */
void rdap_redact_url(const char *url, char *out, size_t outlen);

/*
 * Reads the record for prefix from dir (file name above), at most RDAP_MAX_DOC bytes.
 * path receives the file name used (for the evidence). Returns 0 or -1 "rdap-unavailable".
 */
int rdap_read_dir(const char *dir, const char *prefix, char *path, size_t pathlen,
    char **doc, size_t *len, struct err *e);

/*
 * Parses doc as an RDAP IP network record and checks it covers prefix; on success extracts
 * the PEM candidates into out (free with rdap_pems_clear). Returns 0, or -1 with code
 * "rdap-unavailable" (not JSON, not an object, does not cover the prefix).
 */
int rdap_record_certs(const char *doc, size_t len, const char *prefix, struct rdap_pems *out,
    struct err *e);

/* Frees the candidates in p and zeroes it. */
void rdap_pems_clear(struct rdap_pems *p);

#endif
