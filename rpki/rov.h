/*
 * rov — route origin validation (RFC 6811) with the reasons an operator needs.
 *
 * Pure: given a VRP table (rtrlib's pfx_table) or a sorted index built from one, it decides.
 * It knows nothing of the RTR connection; rpki.h binds it to rtr's live data for the
 * lifecycle and the API. It owns nothing but the result it fills in.
 *
 * Semantics (RFC 6811 §2):
 *   a VRP covers the route when its prefix contains the route's prefix;
 *   it matches when it covers, route length <= maxLength and the ASNs are equal;
 *   valid      at least one matching VRP
 *   invalid    covered, but no VRP matches; `reason` says why:
 *                ROV_REASON_LENGTH  some covering VRP names the same origin, but every such VRP's
 *                                   maxLength is shorter than the route (a too-specific route)
 *                ROV_REASON_ORIGIN  no covering VRP names this origin (incl. AS0 VRPs, RFC 7607)
 *   not-found  no covering VRP
 * A VRP for AS0 never matches, and origin AS0 is never valid.
 *
 * Deciding VRPs: for valid, the matching VRPs; for invalid, every covering VRP (each one
 * failed). They are found with one pfx_table_validate_r() walk with ASN 0, which never
 * matches and so collects every covering VRP down the trie (with the real ASN rtrlib stops at
 * the first matching node and may omit deeper VRPs); the state is then decided here from the
 * full list. At most ROV_MAX_VRPS are kept; `nvrps_total` says how many there were.
 *
 * RFC 9319 warning: `maxlength_warning` is set when a matching VRP's maxLength is longer than
 * the route's prefix length (the ROA also authorises more-specifics nobody announces, which a
 * forged-origin sub-prefix hijack can use).
 *
 * rtrlib keeps addresses in host byte order: IPv4 as one uint32, IPv6 as four uint32 words,
 * most significant first. rov converts from struct cidr (left-aligned 128 bits) here.
 */
#ifndef PREFIXD_ROV_H
#define PREFIXD_ROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"

struct pfx_table;

enum rov_state {
	ROV_NOT_FOUND,
	ROV_VALID,
	ROV_INVALID,
};

enum rov_reason {
	ROV_REASON_NONE,        /* valid or not-found */
	ROV_REASON_ORIGIN,
	ROV_REASON_LENGTH,
};

/* One Validated ROA Payload. */
struct rov_vrp {
	struct cidr prefix;
	uint8_t max_len;
	uint32_t asn;
};

#define ROV_MAX_VRPS 32

struct rov_result {
	enum rov_state state;
	enum rov_reason reason;
	bool maxlength_warning;     /* RFC 9319, see above */
	bool stale;                 /* the data was not fresh (rtr state other than synced) */
	size_t nvrps;               /* entries used in vrps[] */
	size_t nvrps_total;         /* deciding VRPs found (may exceed ROV_MAX_VRPS) */
	struct rov_vrp vrps[ROV_MAX_VRPS];
};

/*
 * Validates (prefix, asn) against a pfx_table. Fills *out. Returns 0, or -1 with
 * invalid-argument (not a prefix) or rov-failed (rtrlib error or out of memory). The table
 * must not hold a /0 VRP: rtrlib 0.8.0 aborts on any lookup then (rov_validate guards it). `stale` is left false. Safe on any thread
 * that may read the table (rtrlib takes its read lock); never call it from an rtrlib callback.
 */
int rov_validate_table(struct pfx_table *table, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e);

/*
 * The fast path: only the state, with no reasons (one trie walk that stops at the first
 * match). Returns the state; on an rtrlib error it answers ROV_NOT_FOUND. Like
 * rov_validate_table, it must not be used on a table holding a /0 VRP (rtrlib aborts).
 */
enum rov_state rov_check_table(struct pfx_table *table, const struct cidr *prefix,
    uint32_t asn);

/*
 * The result as the API's JSON object (new reference; NULL only on out of memory):
 *   {"prefix","asn","state","reason" (null unless invalid),"maxlength_warning","stale",
 *    "vrps":[{"prefix","max_length","asn"}],"vrps_total"}
 */
struct json_t;
struct json_t *rov_result_to_json(const struct cidr *prefix, uint32_t asn,
    const struct rov_result *r);

/*
 * The look-up index: a sorted snapshot of a pfx_table (see rov.c) that answers like
 * rov_validate_table in a fraction of the time. rtr builds one (on a thread of its own)
 * after each burst of changes and rov_validate/rov_check use it only while the table is
 * unchanged since (rtr_index); otherwise they ask rtrlib. rov_index_build walks the table
 * under its read lock (any thread but an rtrlib callback) and sets the VRP counts; NULL on
 * out of memory.
 * rov_validate_index returns 0, or -1 when p is not a prefix or more than 256 VRPs cover it
 * (then ask rov_validate_table).
 */
struct rov_index;
struct rov_index *rov_index_build(struct pfx_table *table, uint64_t *n4, uint64_t *n6);
void rov_index_free(struct rov_index *ix);
int rov_validate_index(const struct rov_index *ix, const struct cidr *p, uint32_t asn,
    struct rov_result *out);
enum rov_state rov_check_index(const struct rov_index *ix, const struct cidr *p, uint32_t asn);

/* "valid", "invalid", "not-found". */
const char *rov_state_name(enum rov_state st);
/* "origin", "length" or NULL for ROV_REASON_NONE. */
const char *rov_reason_name(enum rov_reason r);

/* A v4 prefix of length <= 32 or a v6 prefix of length <= 128 (what rtrlib can look up). */
bool rov_prefix_ok(const struct cidr *p);

/* Between struct cidr and rtrlib's addresses (rov and rtr; tests). Host bits beyond len are
 * cleared (cidr_make), whatever rtrlib handed over. */
struct lrtr_ip_addr;
void rov_addr_from_cidr(const struct cidr *c, struct lrtr_ip_addr *a);
struct cidr rov_cidr_from_addr(const struct lrtr_ip_addr *a, unsigned len);

#endif
