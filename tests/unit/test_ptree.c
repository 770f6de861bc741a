/*
 * test_ptree — the radix tree: insert/remove, exact / covering / covered / overlap look-ups,
 * best fit and shortest with length masks, checked against brute force on random sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ptree.h"

static struct cidr
P(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c, NULL) != 0)
		fail_msg("bad CIDR %s", s);
	return c;
}

static const char *
S(const struct cidr *c)
{
	static char b[2][CIDR_STRLEN];
	static int i;

	return cidr_format(c, b[i++ & 1], CIDR_STRLEN);
}

static void
test_insert_refuses_duplicate_and_other_family(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, 0);
	struct cidr a = P("10.0.0.0/8"), v6 = P("::/0");

	(void)state;
	assert_int_equal(ptree_insert(t, &a, NULL), 0);
	assert_int_equal(ptree_insert(t, &a, NULL), -1);
	assert_int_equal(ptree_insert(t, &v6, NULL), -1);
	assert_int_equal(ptree_count(t), 1);
	ptree_free(t);
	ptree_free(NULL);
}

static void
test_find_exact_only(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, 0);
	struct cidr a = P("10.0.0.0/8"), b = P("10.0.0.0/16");
	void *v;
	int x = 7;

	(void)state;
	assert_int_equal(ptree_insert(t, &a, &x), 0);
	assert_true(ptree_find(t, &a, &v));
	assert_ptr_equal(v, &x);
	assert_false(ptree_find(t, &b, &v));
	ptree_free(t);
}

static void
test_covering_returns_longest_and_outer_returns_shortest(void **state)
{
	struct ptree *t = ptree_new(CIDR_V6, 0);
	struct cidr a = P("2001:db8::/32"), b = P("2001:db8:1::/48"), q = P("2001:db8:1:2::/64");
	struct cidr got;

	(void)state;
	ptree_insert(t, &a, NULL);
	ptree_insert(t, &b, NULL);
	assert_true(ptree_covering(t, &q, &got, NULL));
	assert_string_equal(S(&got), "2001:db8:1::/48");
	assert_true(ptree_covering_outer(t, &q, &got, NULL));
	assert_string_equal(S(&got), "2001:db8::/32");
	ptree_free(t);
}

static int
count_cb(void *arg, const struct cidr *c, void *v)
{
	(void)c;
	(void)v;
	(*(int *)arg)++;
	return 0;
}

static void
test_walk_covered_visits_only_inside(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, 0);
	const char *in[] = { "10.0.0.0/24", "10.0.1.0/24", "10.0.0.128/25", "10.1.0.0/24" };
	struct cidr q = P("10.0.0.0/16"), c;
	int i, n = 0;

	(void)state;
	for (i = 0; i < 4; i++) {
		c = P(in[i]);
		ptree_insert(t, &c, NULL);
	}
	ptree_walk_covered(t, &q, count_cb, &n);
	assert_int_equal(n, 3);
	ptree_free(t);
}

static void
test_overlap_finds_covering_then_covered(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, 0);
	struct cidr a = P("10.0.4.0/22"), q1 = P("10.0.5.0/24"), q2 = P("10.0.0.0/16");
	struct cidr q3 = P("10.0.8.0/22"), got;

	(void)state;
	ptree_insert(t, &a, NULL);
	assert_true(ptree_overlap(t, &q1, &got, NULL));
	assert_string_equal(S(&got), "10.0.4.0/22");
	assert_true(ptree_overlap(t, &q2, &got, NULL));
	assert_string_equal(S(&got), "10.0.4.0/22");
	assert_false(ptree_overlap(t, &q3, &got, NULL));
	ptree_free(t);
}

static void
test_best_fit_prefers_smallest_block_that_fits(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, PTREE_LENMASK);
	struct cidr a = P("10.0.0.0/16"), b = P("10.1.0.0/26"), c = P("10.2.0.0/24"), got;

	(void)state;
	ptree_insert(t, &a, NULL);
	ptree_insert(t, &b, NULL);
	ptree_insert(t, &c, NULL);
	assert_true(ptree_best_fit(t, 27, &got));
	assert_string_equal(S(&got), "10.1.0.0/26");
	assert_true(ptree_best_fit(t, 25, &got));
	assert_string_equal(S(&got), "10.2.0.0/24");
	assert_true(ptree_best_fit(t, 16, &got));
	assert_string_equal(S(&got), "10.0.0.0/16");
	assert_false(ptree_best_fit(t, 15, &got));
	assert_true(ptree_shortest(t, &got));
	assert_string_equal(S(&got), "10.0.0.0/16");
	ptree_free(t);
}

static void
test_best_fit_lowest_address_among_equals_v6(void **state)
{
	struct ptree *t = ptree_new(CIDR_V6, PTREE_LENMASK);
	struct cidr a = P("2001:db8:5::/48"), b = P("2001:db8:2::/48"), got;

	(void)state;
	ptree_insert(t, &a, NULL);
	ptree_insert(t, &b, NULL);
	assert_true(ptree_best_fit(t, 64, &got));
	assert_string_equal(S(&got), "2001:db8:2::/48");
	ptree_remove(t, &b, NULL);
	assert_true(ptree_best_fit(t, 128, &got));
	assert_string_equal(S(&got), "2001:db8:5::/48");
	ptree_free(t);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random inserts/removes of prefixes in 10.0.0.0/16 (lengths 16..24), every look-up checked
 * against a plain array. */
static void
test_random_sets_match_brute_force(void **state)
{
	struct ptree *t = ptree_new(CIDR_V4, PTREE_LENMASK);
	struct cidr set[512], c, got, want;
	uint64_t s = 42;
	int n = 0, i, k, j, op;
	bool have, in;

	(void)state;
	for (i = 0; i < 20000; i++) {
		unsigned len = 16 + (unsigned)(rnd(&s) % 9);

		c = cidr_make(CIDR_V4, (0x0a000000ULL | (rnd(&s) & 0xffff) << 8) << 32, 0, len);
		op = (int)(rnd(&s) % 3);
		for (k = 0, in = false; k < n && !in; k++)
			in = cidr_equal(&set[k], &c);
		if (op < 2 && !in && n < 512) {
			assert_int_equal(ptree_insert(t, &c, NULL), 0);
			set[n++] = c;
		} else if (op == 2 && n > 0) {
			k = (int)(rnd(&s) % (uint64_t)n);
			assert_int_equal(ptree_remove(t, &set[k], NULL), 0);
			set[k] = set[--n];
		}
		assert_int_equal(ptree_count(t), n);
		/* best fit for a random length */
		len = 16 + (unsigned)(rnd(&s) % 9);
		have = false;
		for (j = 0; j < n; j++) {
			if (set[j].len > len)
				continue;
			if (!have || set[j].len > want.len ||
			    (set[j].len == want.len && cidr_cmp(&set[j], &want) < 0)) {
				want = set[j];
				have = true;
			}
		}
		assert_int_equal(ptree_best_fit(t, len, &got), have);
		if (have)
			assert_true(cidr_equal(&got, &want));
		/* covering of a random /24 */
		c = cidr_make(CIDR_V4, (0x0a000000ULL | (rnd(&s) & 0xffff) << 8) << 32, 0, 24);
		have = false;
		for (j = 0; j < n; j++)
			if (cidr_contains(&set[j], &c) && (!have || set[j].len > want.len)) {
				want = set[j];
				have = true;
			}
		assert_int_equal(ptree_covering(t, &c, &got, NULL), have);
		if (have)
			assert_true(cidr_equal(&got, &want));
	}
	ptree_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_refuses_duplicate_and_other_family),
		cmocka_unit_test(test_find_exact_only),
		cmocka_unit_test(test_covering_returns_longest_and_outer_returns_shortest),
		cmocka_unit_test(test_walk_covered_visits_only_inside),
		cmocka_unit_test(test_overlap_finds_covering_then_covered),
		cmocka_unit_test(test_best_fit_prefers_smallest_block_that_fits),
		cmocka_unit_test(test_best_fit_lowest_address_among_equals_v6),
		cmocka_unit_test(test_random_sets_match_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
