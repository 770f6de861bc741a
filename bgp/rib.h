/*
 * rib — reading BIRD's routing tables: the `show route` parser, the read-back of prefixd's own
 * routes (for bird_apply and reconcile) and the other-origin check (for policy/advertise).
 *
 * `show route ... all` output (BIRD 2.0.12) is a sequence of route blocks:
 *   1007-Table master4:
 *    203.0.113.0/24       unicast [onprem 05:04:44.111] * (100) [AS64496i]   first route of a net
 *                         unicast [other 05:04:45.000] (100) [AS64497i]      more routes, same net
 *   1008-	Type: BGP univ                                                    attribute lines
 *   1012-	BGP.as_path: 64496
 *   1012-	BGP.community: (65535,0)
 * A line that starts with a tab under code 1007 is a next hop ("\tvia ..."), skipped. Final
 * 0000 is success, 8001 "Network not found" is an empty answer, 8004 "Stopped due to
 * reconfiguration" is retried (up to RIB_RETRIES times). Any other shape is an error.
 *
 * Other-origin check. Decision: prefixd asks `show route in PREFIX table master4|6 all`, i.e.
 * the prefix itself and its more-specifics, not SPEC §5's `show route for PREFIX` (which gives
 * the longest match, so a covering /16 of someone else would count and a more-specific would
 * not). For a hand-over, what matters is who else announces this prefix or part of it. The
 * origin AS is the last AS of BGP.as_path. Routes from prefixd4/prefixd6 are ignored; routes
 * without BGP.as_path (local static/kernel routes) and with an empty path (originated by this
 * router's own AS) are not another origin; a path ending in an AS_SET has no single origin
 * and is reported with origin_as 0, so it blocks unless the operator looks at it.
 */
#ifndef PREFIXD_RIB_H
#define PREFIXD_RIB_H

#include <stdbool.h>
#include <stdint.h>

#include "bird_conf.h"
#include "birdc.h"
#include "err.h"

#define RIB_RETRIES 3

struct rib_route {
	struct bird_route net;  /* net.drain: BGP.community holds (65535,0) */
	char proto[64];
	bool primary;           /* '*' in the route line */
	bool has_as_path;
	char as_path[256];      /* as BIRD prints it, truncated to fit */
	bool origin_known;      /* path non-empty and ends in a plain AS */
	uint32_t origin_as;
};

struct rib_table {
	struct rib_route *v;
	size_t n, cap;
};

void rib_table_clear(struct rib_table *t);

/*
 * Parses one complete `show route [...] all` reply into T (appended). Returns 0 (8001 counts
 * as success with nothing added), 1 for 8004 (retry; T unchanged), or -1 with e set:
 * "bird-error" for another error code (BIRD's text in the message), "bird-protocol-error" for
 * a line it does not understand.
 */
int rib_parse_show_route(const struct birdc_reply *r, struct rib_table *t, struct err *e);

/* Origin of an AS path as BIRD prints it ("64501 64496", "64501 {64498 64499}", ""). Returns
 * true with *asn set when the path ends in a plain AS number. */
bool rib_path_origin(const char *path, uint32_t *asn);

/*
 * Reads prefixd's own routes: `show route protocol prefixd4 table master4 all` and prefixd6 /
 * master6. DONE gets the normalised set (borrowed for the call) or an error ("bird-config-
 * invalid" when BIRD has no such protocol: its config does not include prefixd's file). 0, or
 * -1 with e set (BIRD not connected) and DONE never called.
 */
typedef void (*rib_own_fn)(void *arg, const struct bird_routeset *actual, const struct err *e);
int rib_read_own(struct birdc *c, rib_own_fn done, void *arg, struct err *e);

/* One route of another origin for the checked prefix. */
struct rib_origin {
	char net[BIRD_PREFIX_STRLEN];
	char proto[64];
	uint32_t origin_as;     /* 0 when the path ends in an AS_SET */
	char as_path[256];
};

/*
 * The other-origin check for PREFIX against EXPECTED_ASN (see the decision above). DONE gets
 * the offending routes (n may be 0; borrowed for the call) or an error. 0, or -1 with e set
 * ("cidr-invalid", "bird-unavailable") and DONE never called.
 */
typedef void (*rib_origins_fn)(void *arg, const struct rib_origin *v, size_t n,
    const struct err *e);
int rib_other_origins(struct birdc *c, const char *prefix, uint32_t expected_asn,
    rib_origins_fn done, void *arg, struct err *e);

#endif
