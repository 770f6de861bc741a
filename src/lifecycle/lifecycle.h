/*
 * lifecycle — the public-prefix state machine of SPEC §3 (BYOIP, state names as in AWS).
 *
 * Who calls it: the public-prefix controller (provisioning worker, advertise/withdraw handlers,
 * bird_apply completions, the RPKI re-validation). It owns no I/O and no storage: it says whether
 * an event is legal in a state and what the next state is. Every transition of a public prefix
 * goes through lifecycle_fsm(); an illegal one is refused with a stable error code, never
 * silently ignored.
 *
 *                       PROVISION
 *   none, failed-provision, ──────────> pending-provision ──RETRY──┐ (RPKI not fresh yet)
 *   deprovisioned                        │  ^                      │
 *                                        │  └──────────────────────┘
 *                          VERIFY_FAILED │ VERIFIED
 *              failed-provision <────────┴──────────> provisioned <──────────────────┐
 *                                                      │    │   ^                     │
 *                                          DEPROVISION │    │   │ APPLY_FAILED        │ APPLIED
 *                                                      v    │   │                     │
 *                                   pending-deprovision     │ ADVERTISE               │
 *                                          │ DEPROVISIONED  v   │                     │
 *                                          v          pending-advertise       pending-withdraw
 *                                    deprovisioned          │ APPLIED             ^    │
 *                                                           v                     │    │ APPLY_FAILED
 *                                                       advertised ──WITHDRAW─────┘    │
 *                                                           ^──────────────────────────┘
 *
 * Pending states are persisted like the others. After a restart the controller resumes them:
 * pending-provision re-runs verification; pending-advertise / pending-withdraw re-apply the
 * desired BIRD state (idempotent: the include file is rendered from the desired set, so a change
 * that already reached BIRD is not made twice); pending-deprovision finishes.
 */
#ifndef PREFIXD_LIFECYCLE_H
#define PREFIXD_LIFECYCLE_H

#include <stdbool.h>

#include "err.h"

enum lifecycle_state {
	LIFECYCLE_NONE,                 /* not yet provisioned (never stored) */
	LIFECYCLE_PENDING_PROVISION,
	LIFECYCLE_FAILED_PROVISION,
	LIFECYCLE_PROVISIONED,
	LIFECYCLE_PENDING_ADVERTISE,
	LIFECYCLE_ADVERTISED,
	LIFECYCLE_PENDING_WITHDRAW,
	LIFECYCLE_PENDING_DEPROVISION,
	LIFECYCLE_DEPROVISIONED,
	LIFECYCLE_STATE_COUNT
};

enum lifecycle_event {
	LIFECYCLE_EV_PROVISION,         /* operator: provision with an authorization context */
	LIFECYCLE_EV_RETRY,             /* verification must wait (RPKI not fresh): stay pending */
	LIFECYCLE_EV_VERIFIED,          /* every provisioning check passed */
	LIFECYCLE_EV_VERIFY_FAILED,     /* a provisioning check failed: failure_reason is set */
	LIFECYCLE_EV_ADVERTISE,         /* operator: advertise, interlocks passed */
	LIFECYCLE_EV_WITHDRAW,          /* operator or policy: withdraw */
	LIFECYCLE_EV_APPLIED,           /* BIRD's read-back matched and the change is confirmed */
	LIFECYCLE_EV_APPLY_FAILED,      /* BIRD refused, or the read-back did not match: undone */
	LIFECYCLE_EV_DEPROVISION,       /* operator: deprovision */
	LIFECYCLE_EV_DEPROVISIONED,     /* deprovisioning finished */
	LIFECYCLE_EVENT_COUNT
};

/* "pending-provision", "advertised", ...; "none" for LIFECYCLE_NONE. */
const char *lifecycle_state_name(enum lifecycle_state st);
const char *lifecycle_event_name(enum lifecycle_event ev);

/* Parses a state name; returns 0 or -1 for an unknown word. */
int lifecycle_state_parse(const char *s, enum lifecycle_state *out);

/*
 * Applies ev to *st. On success updates *st and returns 0. An illegal transition leaves *st
 * unchanged and returns -1 with e set: "not-provisioned" for ADVERTISE outside provisioned,
 * "not-advertised" for WITHDRAW outside advertised, "in-use" for DEPROVISION while advertised,
 * "invalid-state" otherwise; the message names the state and the event.
 */
int lifecycle_fsm(enum lifecycle_state *st, enum lifecycle_event ev, struct err *e);

/* True for pending-* states, which a restart must resume. */
bool lifecycle_state_is_pending(enum lifecycle_state st);

/* True when the desired BIRD state holds a route for the prefix: pending-advertise (on its way
 * up) and advertised. pending-withdraw is desired-down; a drain keeps the route up with the
 * GRACEFUL_SHUTDOWN community until the drain ends, which the controller decides. */
bool lifecycle_state_wants_route(enum lifecycle_state st);

#endif
