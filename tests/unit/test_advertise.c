/* Unit tests for the advertise interlocks and the blast-radius cap (SPEC §3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "advertise.h"

static struct advertise_facts
good_facts(void)
{
	struct advertise_facts f = {
		.prefix = "203.0.113.0/24", .state = LIFECYCLE_PROVISIONED, .rpki_fresh = true,
		.rov = ADVERTISE_ROV_VALID, .origin_asn = 64500, .now = 1000.0,
		.last_change = 0, .min_change_interval = 10,
	};
	return f;
}

static void
test_advertise_passes_when_every_interlock_holds(void **state)
{
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(advertise_check(&f, &e), 0);
	assert_null(e.code);
}

static void
test_advertise_refuses_unprovisioned_first(void **state)
{
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.state = LIFECYCLE_PENDING_PROVISION;
	f.rpki_fresh = false;            /* a later check would fail too: order matters */
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "not-provisioned");
}

static void
test_advertise_refuses_stale_rpki_before_validation(void **state)
{
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.rpki_fresh = false;
	f.rov = ADVERTISE_ROV_INVALID;
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "rpki-stale");
}

static void
test_advertise_refuses_invalid_and_not_found(void **state)
{
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.rov = ADVERTISE_ROV_INVALID;
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "rpki-invalid");
	f.rov = ADVERTISE_ROV_NOT_FOUND;
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "rpki-not-found");
}

static void
test_advertise_refuses_other_origin_naming_as_and_path(void **state)
{
	struct advertise_origin other = { .asn = 64496, .as_path = "64501 64496" };
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.others = &other;
	f.n_others = 1;
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "other-origin-present");
	assert_non_null(strstr(e.msg, "64496"));
	assert_non_null(strstr(e.msg, "64501 64496"));
}

static void
test_advertise_allow_origin_permits_planned_handover(void **state)
{
	struct advertise_origin other = { .asn = 64496, .as_path = "64501 64496" };
	uint32_t allowed[] = { 64496 };
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.others = &other;
	f.n_others = 1;
	f.allowed = allowed;
	f.n_allowed = 1;
	assert_int_equal(advertise_check(&f, &e), 0);
}

static void
test_advertise_own_origin_elsewhere_is_not_another_origin(void **state)
{
	struct advertise_origin same = { .asn = 64500, .as_path = "64501 64500" };
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.others = &same;
	f.n_others = 1;
	assert_int_equal(advertise_check(&f, &e), 0);
}

static void
test_advertise_rate_limits_a_second_change_within_interval(void **state)
{
	struct advertise_facts f = good_facts();
	struct err e;

	(void)state;
	f.last_change = 995.0;           /* 5 s ago, interval 10 s */
	assert_int_equal(advertise_check(&f, &e), -1);
	assert_string_equal(e.code, "rate-limited");
	f.last_change = 990.0;           /* exactly 10 s ago: allowed */
	assert_int_equal(advertise_check(&f, &e), 0);
}

static void
test_max_withdraw_is_the_larger_of_count_and_percent(void **state)
{
	(void)state;
	assert_int_equal(advertise_max_withdraw(0, 1, 10), 1);
	assert_int_equal(advertise_max_withdraw(19, 1, 10), 1);
	assert_int_equal(advertise_max_withdraw(20, 1, 10), 2);
	assert_int_equal(advertise_max_withdraw(1000, 1, 10), 100);
	assert_int_equal(advertise_max_withdraw(1000, 250, 10), 250);
}

static void
test_blast_radius_refuses_above_cap_without_confirm(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(advertise_check_blast_radius(1, 5, 1, 10, false, &e), 0);
	assert_int_equal(advertise_check_blast_radius(2, 5, 1, 10, false, &e), -1);
	assert_string_equal(e.code, "too-many");
	assert_int_equal(advertise_check_blast_radius(2, 5, 1, 10, true, &e), 0);
}

static void
test_blast_radius_refuses_empty_selection_even_when_confirmed(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(advertise_check_blast_radius(0, 5, 1, 10, true, &e), -1);
	assert_string_equal(e.code, "invalid-argument");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advertise_passes_when_every_interlock_holds),
		cmocka_unit_test(test_advertise_refuses_unprovisioned_first),
		cmocka_unit_test(test_advertise_refuses_stale_rpki_before_validation),
		cmocka_unit_test(test_advertise_refuses_invalid_and_not_found),
		cmocka_unit_test(test_advertise_refuses_other_origin_naming_as_and_path),
		cmocka_unit_test(test_advertise_allow_origin_permits_planned_handover),
		cmocka_unit_test(test_advertise_own_origin_elsewhere_is_not_another_origin),
		cmocka_unit_test(test_advertise_rate_limits_a_second_change_within_interval),
		cmocka_unit_test(test_max_withdraw_is_the_larger_of_count_and_percent),
		cmocka_unit_test(test_blast_radius_refuses_above_cap_without_confirm),
		cmocka_unit_test(test_blast_radius_refuses_empty_selection_even_when_confirmed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
