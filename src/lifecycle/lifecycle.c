/*
 * lifecycle — the transition table of SPEC §3. See lifecycle.h for the diagram.
 */
#include "lifecycle.h"

#include <string.h>

static const char *const state_names[LIFECYCLE_STATE_COUNT] = {
	[LIFECYCLE_NONE] = "none",
	[LIFECYCLE_PENDING_PROVISION] = "pending-provision",
	[LIFECYCLE_FAILED_PROVISION] = "failed-provision",
	[LIFECYCLE_PROVISIONED] = "provisioned",
	[LIFECYCLE_PENDING_ADVERTISE] = "pending-advertise",
	[LIFECYCLE_ADVERTISED] = "advertised",
	[LIFECYCLE_PENDING_WITHDRAW] = "pending-withdraw",
	[LIFECYCLE_PENDING_DEPROVISION] = "pending-deprovision",
	[LIFECYCLE_DEPROVISIONED] = "deprovisioned",
};

static const char *const event_names[LIFECYCLE_EVENT_COUNT] = {
	[LIFECYCLE_EV_PROVISION] = "provision",
	[LIFECYCLE_EV_RETRY] = "retry",
	[LIFECYCLE_EV_VERIFIED] = "verified",
	[LIFECYCLE_EV_VERIFY_FAILED] = "verify-failed",
	[LIFECYCLE_EV_ADVERTISE] = "advertise",
	[LIFECYCLE_EV_WITHDRAW] = "withdraw",
	[LIFECYCLE_EV_APPLIED] = "applied",
	[LIFECYCLE_EV_APPLY_FAILED] = "apply-failed",
	[LIFECYCLE_EV_DEPROVISION] = "deprovision",
	[LIFECYCLE_EV_DEPROVISIONED] = "deprovisioned",
};

/* Next state for (state, event); LIFECYCLE_STATE_COUNT marks an illegal transition. */
static enum lifecycle_state
next_state(enum lifecycle_state st, enum lifecycle_event ev)
{
	switch (ev) {
	case LIFECYCLE_EV_PROVISION:
		if (st == LIFECYCLE_NONE || st == LIFECYCLE_FAILED_PROVISION ||
		    st == LIFECYCLE_DEPROVISIONED)
			return LIFECYCLE_PENDING_PROVISION;
		break;
	case LIFECYCLE_EV_RETRY:
		if (st == LIFECYCLE_PENDING_PROVISION)
			return LIFECYCLE_PENDING_PROVISION;
		break;
	case LIFECYCLE_EV_VERIFIED:
		if (st == LIFECYCLE_PENDING_PROVISION)
			return LIFECYCLE_PROVISIONED;
		break;
	case LIFECYCLE_EV_VERIFY_FAILED:
		if (st == LIFECYCLE_PENDING_PROVISION)
			return LIFECYCLE_FAILED_PROVISION;
		break;
	case LIFECYCLE_EV_ADVERTISE:
		if (st == LIFECYCLE_PROVISIONED)
			return LIFECYCLE_PENDING_ADVERTISE;
		break;
	case LIFECYCLE_EV_WITHDRAW:
		if (st == LIFECYCLE_ADVERTISED)
			return LIFECYCLE_PENDING_WITHDRAW;
		break;
	case LIFECYCLE_EV_APPLIED:
		if (st == LIFECYCLE_PENDING_ADVERTISE)
			return LIFECYCLE_ADVERTISED;
		if (st == LIFECYCLE_PENDING_WITHDRAW)
			return LIFECYCLE_PROVISIONED;
		break;
	case LIFECYCLE_EV_APPLY_FAILED:
		if (st == LIFECYCLE_PENDING_ADVERTISE)
			return LIFECYCLE_PROVISIONED;
		if (st == LIFECYCLE_PENDING_WITHDRAW)
			return LIFECYCLE_ADVERTISED;
		break;
	case LIFECYCLE_EV_DEPROVISION:
		if (st == LIFECYCLE_PROVISIONED || st == LIFECYCLE_FAILED_PROVISION)
			return LIFECYCLE_PENDING_DEPROVISION;
		break;
	case LIFECYCLE_EV_DEPROVISIONED:
		if (st == LIFECYCLE_PENDING_DEPROVISION)
			return LIFECYCLE_DEPROVISIONED;
		break;
	case LIFECYCLE_EVENT_COUNT:
		break;
	}
	return LIFECYCLE_STATE_COUNT;
}

const char *
lifecycle_state_name(enum lifecycle_state st)
{
	return (unsigned)st < LIFECYCLE_STATE_COUNT ? state_names[st] : "unknown";
}

const char *
lifecycle_event_name(enum lifecycle_event ev)
{
	return (unsigned)ev < LIFECYCLE_EVENT_COUNT ? event_names[ev] : "unknown";
}

int
lifecycle_state_parse(const char *s, enum lifecycle_state *out)
{
	for (int i = 0; i < LIFECYCLE_STATE_COUNT; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum lifecycle_state)i;
			return 0;
		}
	return -1;
}

int
lifecycle_fsm(enum lifecycle_state *st, enum lifecycle_event ev, struct err *e)
{
	enum lifecycle_state next;
	const char *code = "invalid-state";

	if ((unsigned)*st >= LIFECYCLE_STATE_COUNT || (unsigned)ev >= LIFECYCLE_EVENT_COUNT)
		return err_set(e, "invalid-state", "unknown state or event");
	next = next_state(*st, ev);
	if (next != LIFECYCLE_STATE_COUNT) {
		*st = next;
		return 0;
	}
	if (ev == LIFECYCLE_EV_ADVERTISE)
		code = "not-provisioned";
	else if (ev == LIFECYCLE_EV_WITHDRAW)
		code = "not-advertised";
	else if (ev == LIFECYCLE_EV_DEPROVISION && (*st == LIFECYCLE_ADVERTISED ||
	    *st == LIFECYCLE_PENDING_ADVERTISE || *st == LIFECYCLE_PENDING_WITHDRAW))
		code = "in-use";
	return err_set(e, code, "cannot %s a prefix in state %s", event_names[ev],
	    state_names[*st]);
}

bool
lifecycle_state_is_pending(enum lifecycle_state st)
{
	return st == LIFECYCLE_PENDING_PROVISION || st == LIFECYCLE_PENDING_ADVERTISE ||
	    st == LIFECYCLE_PENDING_WITHDRAW || st == LIFECYCLE_PENDING_DEPROVISION;
}

bool
lifecycle_state_wants_route(enum lifecycle_state st)
{
	return st == LIFECYCLE_PENDING_ADVERTISE || st == LIFECYCLE_ADVERTISED;
}
