/*
 * advertise — the interlocks of SPEC §3 that guard every advertise and withdraw.
 *
 * Who calls it: the public-prefix controller, before it changes the desired BIRD state, and in
 * --dry-run. Pure functions over facts the caller gathered (lifecycle state, RPKI freshness and
 * verdict, other origins seen in BIRD's RIB, the last change time): no I/O, so every refusal is
 * unit-tested and the order of checks is fixed here, in one place.
 *
 * Advertise checks, in SPEC order, first failure wins:
 *   1. state is provisioned                      not-provisioned
 *   2. RPKI data is fresh (synced)               rpki-stale
 *   3. origin validation is valid now            rpki-invalid / rpki-not-found
 *   4. no other origin AS announces the prefix   other-origin-present (names AS and AS path),
 *      unless that AS is in --allow-origin
 *   5. min_change_interval since the last change rate-limited (says when to retry)
 * BIRD's own checks (bird-unavailable, bird-config-invalid, bird-verify-failed) come from
 * bird_apply when the change is made.
 *
 * Blast radius: a withdraw of more than advertise_max_withdraw() prefixes is refused with
 * too-many unless confirmed (--confirm-large). The cap is max(max_withdraw, floor(percent% of the
 * advertised prefixes)): with the defaults (1, 10 %) one prefix, or a tenth once more than 19
 * are up. Rounding down keeps the cap conservative.
 */
#ifndef PREFIXD_ADVERTISE_H
#define PREFIXD_ADVERTISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "lifecycle.h"

enum advertise_rov {
	ADVERTISE_ROV_VALID,
	ADVERTISE_ROV_INVALID,
	ADVERTISE_ROV_NOT_FOUND,
};

/* A route for the prefix from another origin, as bgp/rib reports it. */
struct advertise_origin {
	uint32_t asn;               /* origin AS (last AS of the path) */
	const char *as_path;        /* e.g. "64501 64496", for the message */
};

struct advertise_facts {
	const char *prefix;                     /* for messages */
	enum lifecycle_state state;
	const char *state_name;                 /* for messages (lifecycle_state_name) */
	bool rpki_fresh;
	enum advertise_rov rov;
	uint32_t origin_asn;                    /* the pool's origin */
	const struct advertise_origin *others;  /* routes from other origins */
	size_t n_others;
	const uint32_t *allowed;                /* --allow-origin ASNs */
	size_t n_allowed;
	double now;                             /* seconds, any monotonic or wall clock */
	double last_change;                     /* 0 when never changed */
	double min_change_interval;             /* seconds */
};

/* Runs the advertise interlocks in SPEC order. Returns 0 when all pass, else -1 and e. */
int advertise_check(const struct advertise_facts *f, struct err *e);

/* The rate limit alone (also guards withdraw). Returns 0 or -1 with "rate-limited". */
int advertise_check_rate(const char *prefix, double now, double last_change,
    double min_change_interval, struct err *e);

/* The largest number of prefixes one request may withdraw without --confirm-large. */
size_t advertise_max_withdraw(size_t n_advertised, unsigned max_withdraw,
    unsigned max_withdraw_percent);

/* Refuses (too-many) a withdraw of n_selected prefixes above the cap unless confirm_large;
 * refuses (invalid-argument) an empty selection: an empty filter never means "all". */
int advertise_check_blast_radius(size_t n_selected, size_t n_advertised, unsigned max_withdraw,
    unsigned max_withdraw_percent, bool confirm_large, struct err *e);

#endif
