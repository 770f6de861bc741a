/* Unit tests for the public-prefix state machine (SPEC §3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lifecycle.h"

/* The legal transitions, written out from SPEC §3's diagram independently of lifecycle.c. */
static const struct {
	enum lifecycle_state from;
	enum lifecycle_event ev;
	enum lifecycle_state to;
} legal[] = {
	{ LIFECYCLE_NONE, LIFECYCLE_EV_PROVISION, LIFECYCLE_PENDING_PROVISION },
	{ LIFECYCLE_FAILED_PROVISION, LIFECYCLE_EV_PROVISION, LIFECYCLE_PENDING_PROVISION },
	{ LIFECYCLE_DEPROVISIONED, LIFECYCLE_EV_PROVISION, LIFECYCLE_PENDING_PROVISION },
	{ LIFECYCLE_PENDING_PROVISION, LIFECYCLE_EV_RETRY, LIFECYCLE_PENDING_PROVISION },
	{ LIFECYCLE_PENDING_PROVISION, LIFECYCLE_EV_VERIFIED, LIFECYCLE_PROVISIONED },
	{ LIFECYCLE_PENDING_PROVISION, LIFECYCLE_EV_VERIFY_FAILED, LIFECYCLE_FAILED_PROVISION },
	{ LIFECYCLE_PROVISIONED, LIFECYCLE_EV_ADVERTISE, LIFECYCLE_PENDING_ADVERTISE },
	{ LIFECYCLE_PENDING_ADVERTISE, LIFECYCLE_EV_APPLIED, LIFECYCLE_ADVERTISED },
	{ LIFECYCLE_PENDING_ADVERTISE, LIFECYCLE_EV_APPLY_FAILED, LIFECYCLE_PROVISIONED },
	{ LIFECYCLE_ADVERTISED, LIFECYCLE_EV_WITHDRAW, LIFECYCLE_PENDING_WITHDRAW },
	{ LIFECYCLE_PENDING_WITHDRAW, LIFECYCLE_EV_APPLIED, LIFECYCLE_PROVISIONED },
	{ LIFECYCLE_PENDING_WITHDRAW, LIFECYCLE_EV_APPLY_FAILED, LIFECYCLE_ADVERTISED },
	{ LIFECYCLE_PROVISIONED, LIFECYCLE_EV_DEPROVISION, LIFECYCLE_PENDING_DEPROVISION },
	{ LIFECYCLE_FAILED_PROVISION, LIFECYCLE_EV_DEPROVISION, LIFECYCLE_PENDING_DEPROVISION },
	{ LIFECYCLE_PENDING_DEPROVISION, LIFECYCLE_EV_DEPROVISIONED, LIFECYCLE_DEPROVISIONED },
};

static int
legal_target(enum lifecycle_state from, enum lifecycle_event ev)
{
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (legal[i].from == from && legal[i].ev == ev)
			return (int)legal[i].to;
	return -1;
}

static void
test_lifecycle_fsm_allows_exactly_the_spec_transitions(void **state)
{
	(void)state;
	for (int s = 0; s < LIFECYCLE_STATE_COUNT; s++)
		for (int ev = 0; ev < LIFECYCLE_EVENT_COUNT; ev++) {
			enum lifecycle_state st = (enum lifecycle_state)s;
			struct err e;
			int want = legal_target(st, (enum lifecycle_event)ev);
			int rc;

			err_clear(&e);
			rc = lifecycle_fsm(&st, (enum lifecycle_event)ev, &e);
			if (want < 0) {
				assert_int_equal(rc, -1);
				assert_int_equal(st, s); /* unchanged */
				assert_non_null(e.code);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(st, want);
			}
		}
}

static void
test_lifecycle_advertise_outside_provisioned_is_not_provisioned(void **state)
{
	enum lifecycle_state st = LIFECYCLE_PENDING_PROVISION;
	struct err e;

	(void)state;
	assert_int_equal(lifecycle_fsm(&st, LIFECYCLE_EV_ADVERTISE, &e), -1);
	assert_string_equal(e.code, "not-provisioned");
	assert_non_null(strstr(e.msg, "pending-provision"));
}

static void
test_lifecycle_deprovision_while_advertised_is_in_use(void **state)
{
	enum lifecycle_state st = LIFECYCLE_ADVERTISED;
	struct err e;

	(void)state;
	assert_int_equal(lifecycle_fsm(&st, LIFECYCLE_EV_DEPROVISION, &e), -1);
	assert_string_equal(e.code, "in-use");
	assert_int_equal(st, LIFECYCLE_ADVERTISED);
}

static void
test_lifecycle_withdraw_outside_advertised_is_not_advertised(void **state)
{
	enum lifecycle_state st = LIFECYCLE_PROVISIONED;
	struct err e;

	(void)state;
	assert_int_equal(lifecycle_fsm(&st, LIFECYCLE_EV_WITHDRAW, &e), -1);
	assert_string_equal(e.code, "not-advertised");
}

static void
test_lifecycle_state_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < LIFECYCLE_STATE_COUNT; s++) {
		enum lifecycle_state out;

		assert_int_equal(lifecycle_state_parse(lifecycle_state_name(s), &out), 0);
		assert_int_equal(out, s);
	}
	enum lifecycle_state out;
	assert_int_equal(lifecycle_state_parse("Advertised", &out), -1);
	assert_int_equal(lifecycle_state_parse("", &out), -1);
	assert_string_equal(lifecycle_state_name(LIFECYCLE_PENDING_WITHDRAW), "pending-withdraw");
}

static void
test_lifecycle_pending_and_wanted_route_states(void **state)
{
	(void)state;
	assert_true(lifecycle_state_is_pending(LIFECYCLE_PENDING_ADVERTISE));
	assert_false(lifecycle_state_is_pending(LIFECYCLE_ADVERTISED));
	assert_true(lifecycle_state_wants_route(LIFECYCLE_PENDING_ADVERTISE));
	assert_true(lifecycle_state_wants_route(LIFECYCLE_ADVERTISED));
	assert_false(lifecycle_state_wants_route(LIFECYCLE_PENDING_WITHDRAW));
	assert_false(lifecycle_state_wants_route(LIFECYCLE_PROVISIONED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle_fsm_allows_exactly_the_spec_transitions),
		cmocka_unit_test(test_lifecycle_advertise_outside_provisioned_is_not_provisioned),
		cmocka_unit_test(test_lifecycle_deprovision_while_advertised_is_in_use),
		cmocka_unit_test(test_lifecycle_withdraw_outside_advertised_is_not_advertised),
		cmocka_unit_test(test_lifecycle_state_names_round_trip),
		cmocka_unit_test(test_lifecycle_pending_and_wanted_route_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
