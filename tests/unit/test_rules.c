/*
 * test_rules — policy/rules on its own: validation of rule settings, the ordered check and
 * the effective netmask. (The same rules through ipam_allocate are in test_ipam.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

static struct ipam_pool
pool(int min, int max, int def, const char *locale)
{
	struct ipam_pool p;

	memset(&p, 0, sizeof(p));
	p.name = "p";
	p.family = CIDR_V4;
	p.locale = (char *)locale;
	p.rules.min_netmask = min;
	p.rules.max_netmask = max;
	p.rules.default_netmask = def;
	return p;
}

static void
test_min_16_max_24_accepts_16_and_24(void **state)
{
	struct ipam_pool p = pool(16, 24, -1, NULL);

	(void)state;
	assert_int_equal(rules_check(&p, 16, NULL, NULL, NULL), 0);
	assert_int_equal(rules_check(&p, 24, NULL, NULL, NULL), 0);
}

static void
test_min_16_max_24_refuses_15_and_25(void **state)
{
	struct ipam_pool p = pool(16, 24, -1, NULL);
	struct err e;

	(void)state;
	assert_int_equal(rules_check(&p, 15, NULL, NULL, &e), -1);
	assert_string_equal(e.code, "netmask-too-large");
	assert_int_equal(rules_check(&p, 25, NULL, NULL, &e), -1);
	assert_string_equal(e.code, "netmask-too-small");
}

static void
test_validate_refuses_default_outside_bounds(void **state)
{
	struct ipam_pool p = pool(16, 24, 26, NULL);
	struct err e;

	(void)state;
	assert_int_equal(rules_validate(&p.rules, CIDR_V4, &e), -1);
	assert_string_equal(e.code, "invalid-argument");
	assert_non_null(strstr(e.msg, "default_netmask 26"));
}

static void
test_validate_refuses_length_beyond_family(void **state)
{
	struct ipam_pool p = pool(-1, 33, -1, NULL);
	struct err e;

	(void)state;
	assert_int_equal(rules_validate(&p.rules, CIDR_V4, &e), -1);
	assert_int_equal(rules_validate(&p.rules, CIDR_V6, &e), 0);
}

static void
test_effective_netmask_falls_back_to_default(void **state)
{
	struct ipam_pool p = pool(-1, -1, 27, NULL);
	unsigned len;

	(void)state;
	assert_int_equal(rules_effective_netmask(&p, -1, &len, NULL), 0);
	assert_int_equal(len, 27);
	assert_int_equal(rules_effective_netmask(&p, 20, &len, NULL), 0);
	assert_int_equal(len, 20);
	p.rules.default_netmask = -1;
	assert_int_equal(rules_effective_netmask(&p, -1, &len, NULL), -1);
}

static void
test_missing_tag_names_key_and_value(void **state)
{
	struct ipam_pool p = pool(-1, -1, -1, NULL);
	struct ipam_tag req = { "team", "net" };
	struct err e;

	(void)state;
	p.rules.required_tags.n = 1;
	p.rules.required_tags.v = &req;
	assert_int_equal(rules_check(&p, 24, NULL, NULL, &e), -1);
	assert_string_equal(e.code, "missing-tag");
	assert_non_null(strstr(e.msg, "team=net"));
}

static void
test_locale_must_match(void **state)
{
	struct ipam_pool p = pool(-1, -1, -1, "fra1");
	struct err e;

	(void)state;
	assert_int_equal(rules_check(&p, 24, NULL, "fra1", &e), 0);
	assert_int_equal(rules_check(&p, 24, NULL, "ams1", &e), -1);
	assert_string_equal(e.code, "locale-mismatch");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_min_16_max_24_accepts_16_and_24),
		cmocka_unit_test(test_min_16_max_24_refuses_15_and_25),
		cmocka_unit_test(test_validate_refuses_default_outside_bounds),
		cmocka_unit_test(test_validate_refuses_length_beyond_family),
		cmocka_unit_test(test_effective_netmask_falls_back_to_default),
		cmocka_unit_test(test_missing_tag_names_key_and_value),
		cmocka_unit_test(test_locale_must_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
