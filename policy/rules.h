/*
 * rules — a pool's allocation rules (SPEC §1 "rules", §2 "Rules"): validation of the rule
 * settings when a pool is created, the ordered check of an allocation request, and the
 * compliance verdict of an existing allocation against its pool's current rules.
 *
 * Called by ipam (allocate, pool create, report). Owns nothing; the rules live in the pool.
 *
 * Order of checks and codes (SPEC §2): netmask-too-large (prefix shorter than min_netmask),
 * netmask-too-small (longer than max_netmask), missing-tag (names key=value), locale-mismatch.
 * pool-exhausted is ipam's, after these.
 */
#ifndef PREFIXD_RULES_H
#define PREFIXD_RULES_H

#include "ipam.h"

/* Validates rule settings for a pool of family: each netmask -1 or 0..maxlen, min <= max,
 * default inside [min, max], required tags well-formed. Returns 0 or -1 (invalid-argument
 * naming the field). */
int rules_validate(const struct ipam_rules *r, int family, struct err *e);

/* Checks a request for a block of prefix length len with tags and locale (NULL: none)
 * against pool p. Returns 0 or -1 with the first failing rule's code. */
int rules_check(const struct ipam_pool *p, unsigned len, const struct ipam_tags *tags,
    const char *locale, struct err *e);

/* The netmask a request gets: netmask when >= 0, else the pool's default_netmask. Returns 0,
 * or -1 (invalid-argument) when neither is set. */
int rules_effective_netmask(const struct ipam_pool *p, int netmask, unsigned *out,
    struct err *e);

#endif
