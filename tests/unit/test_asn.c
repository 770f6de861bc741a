/* Unit tests for public-scope ASNs (issue 21): the state machine and the registry's refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "asn.h"

/* The legal transitions, written out from asn.h's diagram. */
static const struct {
	enum asn_state from;
	enum asn_event ev;
	enum asn_state to;
} legal[] = {
	{ ASN_NONE, ASN_EV_PROVISION, ASN_PENDING_PROVISION },
	{ ASN_FAILED_PROVISION, ASN_EV_PROVISION, ASN_PENDING_PROVISION },
	{ ASN_DEPROVISIONED, ASN_EV_PROVISION, ASN_PENDING_PROVISION },
	{ ASN_PENDING_PROVISION, ASN_EV_VERIFIED, ASN_PROVISIONED },
	{ ASN_PENDING_PROVISION, ASN_EV_VERIFY_FAILED, ASN_FAILED_PROVISION },
	{ ASN_PROVISIONED, ASN_EV_DEPROVISION, ASN_PENDING_DEPROVISION },
	{ ASN_PENDING_DEPROVISION, ASN_EV_DEPROVISIONED, ASN_DEPROVISIONED },
};

static void
test_every_transition_is_legal_or_invalid_state(void **state)
{
	(void)state;
	for (int s = 0; s < ASN_STATE_COUNT; s++)
		for (int ev = 0; ev < ASN_EVENT_COUNT; ev++) {
			enum asn_state st = (enum asn_state)s, want = st;
			struct err e = { 0 };
			int rc, is_legal = 0;

			for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
				if (legal[i].from == st && legal[i].ev == (enum asn_event)ev) {
					is_legal = 1;
					want = legal[i].to;
				}
			rc = asn_fsm(&st, (enum asn_event)ev, &e);
			assert_int_equal(rc, is_legal ? 0 : -1);
			assert_int_equal(st, want);
			if (!is_legal)
				assert_string_equal(e.code, "invalid-state");
		}
}

static void
test_state_names_round_trip(void **state)
{
	enum asn_state st;

	(void)state;
	for (int s = 1; s < ASN_STATE_COUNT; s++) {
		assert_int_equal(asn_state_parse(asn_state_name(s), &st), 0);
		assert_int_equal(st, s);
	}
	assert_int_equal(asn_state_parse("none", &st), -1);
	assert_int_equal(asn_state_parse(NULL, &st), -1);
}

static const struct ipam_actor who = { "token:t", "admin", "r1" };

/* Without a verifier every proof fails rdap-unavailable; a second try is allowed. */
static void
test_provision_without_verifier_fails_and_may_retry(void **state)
{
	struct asn_reg *r = asn_reg_new(&(struct asn_deps){ NULL, NULL, NULL });
	struct asn_obj *a = NULL;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(asn_provision(r, &who, 64500, "m", "s", &a, &e), -1);
	assert_string_equal(e.code, "rdap-unavailable");
	assert_int_equal(a->state, ASN_FAILED_PROVISION);
	assert_false(asn_is_provisioned(r, 64500));
	assert_int_equal(json_array_size(a->history), 2);
	assert_int_equal(asn_provision(r, &who, 64500, NULL, NULL, &a, &e), -1);
	assert_string_equal(e.code, "auth-malformed");
	assert_int_equal(asn_count(r), 1);
	asn_reg_free(r);
}

static int
always_in_use(void *arg, uint32_t asn, char *why, size_t len)
{
	(void)arg;
	snprintf(why, len, "192.0.2.0/24 is advertised from AS%u", (unsigned)asn);
	return 1;
}

static void
test_deprovision_refusals(void **state)
{
	struct asn_reg *r = asn_reg_new(&(struct asn_deps){ NULL, NULL, NULL });
	struct asn_obj *a = NULL;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(asn_deprovision(r, &who, 64500, &e), -1);
	assert_string_equal(e.code, "not-found");
	asn_provision(r, &who, 64500, "m", "s", &a, &e);
	a->state = ASN_PROVISIONED;             /* as if the proof had held */
	asn_reg_set_in_use(r, always_in_use, NULL);
	assert_int_equal(asn_deprovision(r, &who, 64500, &e), -1);
	assert_string_equal(e.code, "in-use");
	assert_non_null(strstr(e.msg, "192.0.2.0/24"));
	assert_true(asn_is_provisioned(r, 64500));
	asn_reg_set_in_use(r, NULL, NULL);
	assert_int_equal(asn_deprovision(r, &who, 64500, &e), 0);
	assert_int_equal(a->state, ASN_DEPROVISIONED);
	asn_reg_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition_is_legal_or_invalid_state),
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_provision_without_verifier_fails_and_may_retry),
		cmocka_unit_test(test_deprovision_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
