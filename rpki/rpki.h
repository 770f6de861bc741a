/*
 * rpki — the face of RPKI that the lifecycle and the API use (DESIGN "rpki/"): is the data
 * fresh, what does origin validation say about (prefix, ASN) on the live data, and a
 * subscription to VRP changes. Behind it: rtr (rtrlib on the loop, the freshness FSM,
 * rtr.h) and rov (pure RFC 6811 decisions, rov.h). Callers include this header only.
 *
 *   rtr_is_fresh(rtr)                 fresh? (rtr.h; false for NULL)
 *   rpki_validate / rpki_check        origin validation on rtr's live data (below)
 *   rtr_subscribe / rtr_unsubscribe   VRP change events; rtr_change_covers (rtr.h)
 * Loop thread only.
 */
#ifndef PREFIXD_RPKI_H
#define PREFIXD_RPKI_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"
#include "rov.h"
#include "rtr.h"

/*
 * Validates against rtr's live data (loop thread only) and sets `stale` when rtr's freshness
 * state is not synced. With no data at all (connecting, expired) the answer is not-found,
 * stale. Returns 0 or -1 as rov_validate_table, or -1 with rov-unavailable while the data
 * holds a /0 VRP of the prefix's family (rtrlib 0.8.0 aborts on lookups then; see
 * rtr_private.h). Callers must treat -1 as "not valid". rtr may be NULL (no [rpki] cache):
 * -1 with rpki-unavailable, not-found, stale.
 */
int rpki_validate(struct rtr *rtr, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e);

/*
 * The fast path on rtr's live data (loop thread): the state only. *stale is set as in
 * rpki_validate. While a /0 VRP is held (see rpki_validate) it answers ROV_NOT_FOUND, which is
 * never "valid": callers that need the reason use rpki_validate.
 */
enum rov_state rpki_check(struct rtr *rtr, const struct cidr *prefix, uint32_t asn,
    bool *stale);

#endif
