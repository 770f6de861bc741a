/*
 * authctx — authorization-context (proof of ownership) verification, SPEC §4.
 *
 * A holder proves it may have a public prefix announced by signing the message
 *
 *     1|<issuer>|<owner-id>|<cidr>|<YYYYMMDD>|SHA256|RSAPSS
 *
 * with RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) under a key whose self-signed certificate it
 * published in the RDAP record of the address range. This module checks such a proof and
 * rejects everything else. It owns: the message parser, the strict base64 decoder, the key and
 * certificate checks, the RSA-PSS verification (OpenSSL 3 EVP; there is no PKCS#1 v1.5 path),
 * the per-check report and the evidence (message SHA-256, certificate fingerprint, RDAP
 * document). The lifecycle calls authctx_verify_start() while provisioning; POST
 * /v1/auth/verify (src/api/api_auth.c, behind `prefixctl auth verify`) uses it too, or the
 * synchronous authctx_verify_pems() when the caller supplies the certificate.
 *
 * Threads: authctx_verify_start() runs the RDAP fetch and the checks on a worker thread and
 * reports back on the loop through ev_async (DESIGN decision 1); everything else is plain
 * functions with no shared state.
 *
 * Failure codes (SPEC §4) and the choices this module makes where SPEC leaves room:
 *   auth-malformed        not exactly 7 fields; empty field; bytes outside printable ASCII;
 *                         version not "1"; CIDR that does not parse or is not in canonical
 *                         text form (host bits set, "2001:0db8::/32"); date that is not a real
 *                         calendar YYYYMMDD (30 February); hash not "SHA256" (e.g. "SHA1");
 *                         algorithm not "RSAPSS"; trailing whitespace or newline.
 *   auth-issuer-mismatch  issuer field differs from auth.issuer (exact bytes).
 *   auth-owner-mismatch   owner field differs from auth.owner_id (exact bytes).
 *   auth-cidr-mismatch    a well-formed CIDR that is not exactly the prefix (superset, subset,
 *                         disjoint, other family).
 *   auth-expired          the date is in the past, or more than auth.max_validity_days ahead
 *                         (both are "outside the validity window"). The date is the LAST day
 *                         the message is valid: a message dated today is valid until 24:00 UTC.
 *   signature-invalid     the signature does not decode (mixed alphabets, whitespace, bad
 *                         padding, non-zero trailing bits), has the wrong length for the key,
 *                         or does not verify under any acceptable certificate.
 *   rdap-unavailable      fetch failed (connect, timeout, HTTP status not 200, > 1 MiB, not
 *                         JSON, not an object) or the record does not cover the prefix (a
 *                         record for another range is not the record of this prefix).
 *   cert-not-found        the record holds no PEM certificate in remarks[].description.
 *   cert-invalid          every candidate certificate is unusable: PEM garbage, not
 *                         self-signed, key not RSA / < 2048 bits / e != 65537; or the
 *                         certificate whose key verifies the signature is outside its
 *                         validity dates.
 * Every candidate is tried; the proof holds when one verifies and is within its dates. When
 * none does: cert-invalid if one verified but is outside its dates, else signature-invalid if
 * at least one candidate had an acceptable key, else cert-invalid. The certificate dates are
 * compared with the verifier's clock exactly (no skew allowance): a certificate made
 * "now" on a machine whose clock runs ahead is not yet valid.
 *
 * ASN proofs (issue 21): wherever a function below takes `prefix`, the subject may instead be
 * an AS number "AS<n>" (asnum.h; 1..4294967294 except AS_TRANS). The message is then
 *     1|<issuer>|<owner-id>|AS<n>|<YYYYMMDD>|SHA256|RSAPSS
 * and the certificate comes from the RDAP autnum record of the ASN: auth.rdap_dir's file
 * "AS<n>.json", else auth.rdap_asn_url with "{asn}" expanded to the bare number (RDAP's
 * "/autnum/64500"). The same checks, evidence and codes apply, with these twins:
 *   auth-asn-mismatch     a well-formed "AS<n>" field that is not the ASN being proven.
 *   auth-malformed        field 4 is not a canonical "AS<n>" (AS0, AS23456, AS4294967295,
 *                         above 2^32-1, "AS", "ASx", a sign, a leading zero); also a prefix
 *                         proof whose field 4 is an "AS..." word (an ASN message cannot prove
 *                         a prefix).
 *   asn-invalid           the subject itself is not an AS number (a caller's bug or input).
 *   rdap-unavailable      as for prefixes; an autnum record whose startAutnum..endAutnum does
 *                         not hold the ASN (or whose objectClassName is not "autnum") is not
 *                         the record of the ASN.
 *
 * Order of checks (cheap and local first, so hostile input never causes a fetch): message
 * (fields, version, algorithm, issuer, owner, cidr, expiry), signature encoding, RDAP record,
 * coverage, certificates, signature, certificate dates. The first failure decides the code.
 */
#ifndef PREFIXD_AUTHCTX_H
#define PREFIXD_AUTHCTX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

struct ev_loop;
typedef struct evp_pkey_st EVP_PKEY;

#define AUTHCTX_FIELD_MAX   128     /* issuer / owner-id length cap */
#define AUTHCTX_PATH_MAX    1024    /* rdap_url / rdap_dir length cap */
#define AUTHCTX_MSG_MAX     512     /* a message longer than this is malformed */
#define AUTHCTX_SIG_MAX     2048    /* decoded signature cap (bytes; 16384-bit key) */
#define AUTHCTX_MIN_BITS    2048
#define AUTHCTX_MAX_BITS    16384
#define AUTHCTX_SALT_LEN    32
#define AUTHCTX_MAX_CHECKS  16
#define AUTHCTX_MAX_JOBS    32      /* concurrent asynchronous verifications */

/* Configuration: the daemon maps SPEC §7 [auth] keys onto this. */
struct authctx_conf {
	char issuer[AUTHCTX_FIELD_MAX];     /* auth.issuer, default "prefixd" */
	char owner_id[AUTHCTX_FIELD_MAX];   /* auth.owner_id, default "" (then every proof fails) */
	char rdap_url[AUTHCTX_PATH_MAX];    /* auth.rdap_url template ({cidr}, {addr}) or "" */
	char rdap_dir[AUTHCTX_PATH_MAX];    /* auth.rdap_dir or ""; consulted before rdap_url */
	char rdap_asn_url[AUTHCTX_PATH_MAX]; /* auth.rdap_asn_url template ({asn}) or "" */
	int max_validity_days;              /* auth.max_validity_days, default 366 */
	long rdap_timeout_ms;               /* auth.rdap_timeout (whole transfer), default 10000 */
	long rdap_connect_timeout_ms;       /* default 5000 */
};

/* Fills c with the defaults above. */
void authctx_conf_init(struct authctx_conf *c);

/* One line of the report `prefixctl auth verify` prints. */
struct authctx_check {
	const char *name;       /* "fields", "version", "issuer", "owner", "cidr", "expiry", ... */
	int ok;                 /* 1 passed, 0 failed */
	char detail[256];
};

/*
 * The outcome of one verification plus the evidence the lifecycle stores.
 * ok == 1 and err.code == NULL, or ok == 0 and err carries a SPEC §4 code and a message
 * naming the field. Evidence fields are filled as far as the checks got.
 */
struct authctx_result {
	int ok;
	struct err err;
	struct authctx_check checks[AUTHCTX_MAX_CHECKS];
	size_t nchecks;
	char msg_sha256[65];        /* hex SHA-256 of the exact message bytes */
	char cert_sha256[65];       /* hex SHA-256 of the DER of the certificate that verified */
	char rdap_source[AUTHCTX_PATH_MAX]; /* URL (credentials redacted) or "rdap_dir:FILE" */
	char *rdap_doc;             /* the RDAP document as received (owned, NUL-terminated) */
	size_t rdap_len;
};

/* Allocates an empty result; NULL on out of memory. */
struct authctx_result *authctx_result_new(void);
/* Frees r and its RDAP document; NULL is a no-op. */
void authctx_result_free(struct authctx_result *r);

/*
 * Strict base64: exactly one alphabet per input — standard (A-Z a-z 0-9 + / with '='
 * padding) or SPEC's URL-safe, which is what SPEC's `tr -- '+=/' '-_~'` makes of it
 * (A-Z a-z 0-9 - ~ with '_' padding). Refuses empty input,
 * whitespace of any kind, mixed alphabets, a length that is not a multiple of 4, padding
 * anywhere but the end or more than two, and non-zero trailing bits.
 * Writes at most outcap bytes; returns 0 with *outlen set, or -1 with err code
 * "signature-invalid".
 */
int authctx_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
    size_t *outlen, struct err *e);

/*
 * Checks the message against the configuration, the prefix (canonical CIDR text) and the time
 * `now`. Appends one check per field to r (may be NULL). Returns 0 or -1 with e set to one of
 * auth-malformed / auth-issuer-mismatch / auth-owner-mismatch / auth-cidr-mismatch /
 * auth-expired, the message naming the field.
 */
int authctx_check_message(const struct authctx_conf *c, const char *prefix, const char *msg,
    size_t msglen, time_t now, struct authctx_result *r, struct err *e);

/*
 * Refuses a key that is not RSA, is shorter than 2048 or longer than 16384 bits, or whose
 * public exponent is not 65537. Returns 0 or -1 with code "cert-invalid".
 */
int authctx_check_key(EVP_PKEY *pkey, struct err *e);

/*
 * RSA-PSS / SHA-256 / MGF1-SHA-256 / salt length exactly 32 over msg. The signature must be
 * exactly the modulus size. Does not check the key's strength (authctx_check_key does).
 * Returns 0 when it verifies, -1 with code "signature-invalid" otherwise.
 */
int authctx_verify_pss(EVP_PKEY *pkey, const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen, struct err *e);

/*
 * Full check against candidate certificates given as PEM text (a file the operator has,
 * or what rdap_extract_pems() found). Runs every check in order, records each in r, and sets
 * r->ok / r->err. npem == 0 fails with cert-not-found. Returns 0 if the proof holds, else -1.
 */
int authctx_verify_pems(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, const char *const *pems, size_t npem, time_t now,
    struct authctx_result *r);

/*
 * Full check with the certificate taken from an RDAP document (already fetched or read):
 * parses it, checks it covers the prefix, extracts the PEMs, then as authctx_verify_pems().
 * Keeps a copy of the document in r as evidence only when it is a record covering the prefix
 * (a document that is not is never handed back). Returns 0 if the proof holds, else -1.
 */
int authctx_verify_doc(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, const char *doc, size_t doclen, const char *source, time_t now,
    struct authctx_result *r);

/*
 * Full check, blocking: message and signature checks, then the RDAP record from c->rdap_dir
 * (if set and the file exists) or c->rdap_url, then authctx_verify_doc(). Never call this on
 * the loop thread with a URL configured; it is what the worker runs.
 */
int authctx_verify_blocking(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, time_t now, struct authctx_result *r);

/* ---- Asynchronous verification on the daemon's loop ---- */

struct authctx;

/*
 * Called on the loop thread when a verification ends. The callback owns res and frees it
 * with authctx_result_free(). It may start new verifications, but must not authctx_free().
 */
typedef void (*authctx_done_cb)(struct authctx_result *res, void *arg);

/* Creates the verifier on loop with a copy of conf. NULL with e set on failure. */
struct authctx *authctx_new(struct ev_loop *loop, const struct authctx_conf *conf,
    struct err *e);

/* Replaces the configuration (SIGHUP); running verifications keep the old one. */
void authctx_reconfigure(struct authctx *a, const struct authctx_conf *conf);

/*
 * Starts verifying (prefix, msg, sig) at time `now` with the current configuration. Returns 0
 * and later calls cb(res, arg) exactly once on the loop — unless authctx_free() comes first, in
 * which case cb is never called. Returns -1 with e set ("busy" when AUTHCTX_MAX_JOBS run,
 * "auth-malformed" for an oversized argument) and cb is never called.
 */
int authctx_verify_start(struct authctx *a, const char *prefix, const char *msg,
    const char *sig, time_t now, authctx_done_cb cb, void *arg, struct err *e);

/* As authctx_verify_start, with the configuration conf (copied) instead of the current one:
 * POST /v1/auth/verify restricts the configured sources to one of them. conf comes from the
 * daemon's configuration, never from a request. */
int authctx_verify_start_with(struct authctx *a, const struct authctx_conf *conf,
    const char *prefix, const char *msg, const char *sig, time_t now, authctx_done_cb cb,
    void *arg, struct err *e);

/*
 * Shutdown step: cancels running fetches, waits for every worker, and reports each
 * verification to its callback now (a cancelled fetch fails with rdap-unavailable). Call it
 * before tearing down whatever the callbacks answer to (suspended HTTP requests).
 */
void authctx_drain(struct authctx *a);

/* Number of verifications started and not yet reported. */
size_t authctx_pending(const struct authctx *a);

/* Cancels running fetches, joins the workers, drops their results; NULL is a no-op. */
void authctx_free(struct authctx *a);

/* ---- The daemon's side (rpki/authctx_conf.c; the routes are src/api/api_auth.c) ---- */

struct conf;
struct json_t;

/* Maps SPEC §7's [auth] keys of c onto out (defaults for what c leaves unset). */
void authctx_conf_from(const struct conf *c, struct authctx_conf *out);

/*
 * The result as JSON: {"ok", "code", "message", "checks":[{"name","ok","detail"}],
 * "evidence":{"message_sha256","cert_sha256","rdap_source","rdap_document"}}. New reference.
 */
struct json_t *authctx_result_json(const struct authctx_result *r);

#endif
