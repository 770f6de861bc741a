/*
 * rtr_private — what rpki/rtr.c and rpki/rov.c share and nobody else needs: the conversion
 * between prefixd's struct cidr and rtrlib's struct lrtr_ip_addr, and the accessor for the
 * live pfx_table.
 *
 * rtrlib's address layout (lib/ipv4.h, lib/ipv6.h): host byte order; IPv4 is one uint32,
 * IPv6 four uint32 words with addr[0] the most significant. struct cidr is left-aligned in
 * 128 bits (hi, lo), so IPv4 is the top 32 bits of hi.
 */
#ifndef PREFIXD_RTR_PRIVATE_H
#define PREFIXD_RTR_PRIVATE_H

#include <rtrlib/rtrlib.h>

#include "cidr.h"

struct rtr;

static inline void
rtr_addr_from_cidr(const struct cidr *c, struct lrtr_ip_addr *a)
{
	if (c->family == CIDR_V4) {
		a->ver = LRTR_IPV4;
		a->u.addr4.addr = (uint32_t)(c->hi >> 32);
	} else {
		a->ver = LRTR_IPV6;
		a->u.addr6.addr[0] = (uint32_t)(c->hi >> 32);
		a->u.addr6.addr[1] = (uint32_t)c->hi;
		a->u.addr6.addr[2] = (uint32_t)(c->lo >> 32);
		a->u.addr6.addr[3] = (uint32_t)c->lo;
	}
}

/* Host bits beyond len are cleared (cidr_make), whatever rtrlib handed over. */
static inline struct cidr
rtr_cidr_from_addr(const struct lrtr_ip_addr *a, unsigned len)
{
	if (a->ver == LRTR_IPV4)
		return cidr_make(CIDR_V4, (uint64_t)a->u.addr4.addr << 32, 0, len > 32 ? 32 : len);
	return cidr_make(CIDR_V6,
	    ((uint64_t)a->u.addr6.addr[0] << 32) | a->u.addr6.addr[1],
	    ((uint64_t)a->u.addr6.addr[2] << 32) | a->u.addr6.addr[3], len > 128 ? 128 : len);
}

/*
 * True while the table holds a /0 VRP of that family (CIDR_V4 / CIDR_V6). rtrlib 0.8.0 aborts
 * the process (assert in lrtr_get_bits) on any lookup in a family whose trie root is a /0, so
 * rov refuses to validate then. The count is kept by the pfx callback as soon as rtrlib has
 * inserted the record; a lookup in the few instructions between rtrlib's insert and that
 * callback could still reach the assert (known, unclosable without a hook before insert).
 */
bool rtr_has_default_vrp(struct rtr *rtr, int family);

/*
 * False when no VRP overlaps p's /16 block (top 16 address bits), so no VRP can cover p and
 * the answer is not-found without a trie walk. True means "maybe". The block counts are kept
 * by the pfx callback right after rtrlib changed its table (same ordering as above).
 */
bool rtr_maybe_covered(struct rtr *rtr, const struct cidr *p);

/* The look-up index while it matches the table (no VRP change since it was built), else
 * NULL. Loop thread only. */
struct rov_index;
const struct rov_index *rtr_index(struct rtr *rtr);

/* The live VRP table, or NULL while there is none (before start, during a restart).
 * Loop thread only. */
struct pfx_table *rtr_table(struct rtr *rtr);

#endif
