/* Unit tests for the audit hash chain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audit.h"

#define N 5

struct chain {
	char *canon[N];
	char hash[N][AUDIT_HASH_HEXLEN + 1];
};

static void
build_chain(struct chain *c)
{
	const char *prev = AUDIT_GENESIS;

	for (int i = 0; i < N; i++) {
		json_t *ev = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)(i + 1), "action",
		    "allocate", "cidr", "10.0.0.0/24");
		c->canon[i] = audit_canonical(ev);
		json_decref(ev);
		audit_chain_hash(prev, c->canon[i], c->hash[i]);
		prev = c->hash[i];
	}
}

static void
free_chain(struct chain *c)
{
	for (int i = 0; i < N; i++)
		free(c->canon[i]);
}

static void
test_audit_canonical_sorts_keys_and_is_compact(void **state)
{
	json_t *a = json_pack("{s:i, s:s}", "z", 1, "a", "x");
	char *s = audit_canonical(a);

	(void)state;
	assert_string_equal(s, "{\"a\":\"x\",\"z\":1}");
	free(s);
	json_decref(a);
}

static void
test_audit_chain_hash_matches_sha256_of_prev_newline_canonical(void **state)
{
	char out[AUDIT_HASH_HEXLEN + 1];

	(void)state;
	/* printf '%s\n%s' 000…0 '{}' | sha256sum */
	audit_chain_hash(AUDIT_GENESIS, "{}", out);
	assert_int_equal(strlen(out), AUDIT_HASH_HEXLEN);
	assert_string_equal(out,
	    "5649d09ed68c17156095d175eef152856c5b1a81c117c409c1e00f096aa6838e");
}

static void
test_audit_verify_accepts_an_untouched_chain(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	for (int i = 0; i < N; i++)
		assert_int_equal(audit_verify_step(&v, (uint64_t)i + 1, c.canon[i], c.hash[i], &e), 0);
	assert_int_equal(v.count, N);
	free_chain(&c);
}

static void
test_audit_verify_names_an_edited_event(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	c.canon[2][strlen(c.canon[2]) - 3] ^= 1;        /* flip one bit in event 3 */
	audit_verifier_init(&v);
	assert_int_equal(audit_verify_step(&v, 1, c.canon[0], c.hash[0], &e), 0);
	assert_int_equal(audit_verify_step(&v, 2, c.canon[1], c.hash[1], &e), 0);
	assert_int_equal(audit_verify_step(&v, 3, c.canon[2], c.hash[2], &e), -1);
	assert_string_equal(e.code, "audit-broken");
	assert_non_null(strstr(e.msg, "event 3 "));
	free_chain(&c);
}

static void
test_audit_verify_names_a_deleted_event(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	assert_int_equal(audit_verify_step(&v, 1, c.canon[0], c.hash[0], &e), 0);
	assert_int_equal(audit_verify_step(&v, 2, c.canon[1], c.hash[1], &e), 0);
	/* event 3 deleted: the next row is event 4 */
	assert_int_equal(audit_verify_step(&v, 4, c.canon[3], c.hash[3], &e), -1);
	assert_non_null(strstr(e.msg, "event 3 is missing"));
	free_chain(&c);
}

static void
test_audit_verify_catches_a_renumbered_deletion(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	assert_int_equal(audit_verify_step(&v, 1, c.canon[0], c.hash[0], &e), 0);
	/* event 2 deleted and event 3 renumbered to 2: its hash chains to event 2, not event 1 */
	assert_int_equal(audit_verify_step(&v, 2, c.canon[2], c.hash[2], &e), -1);
	assert_non_null(strstr(e.msg, "event 2 "));
	free_chain(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_canonical_sorts_keys_and_is_compact),
		cmocka_unit_test(test_audit_chain_hash_matches_sha256_of_prev_newline_canonical),
		cmocka_unit_test(test_audit_verify_accepts_an_untouched_chain),
		cmocka_unit_test(test_audit_verify_names_an_edited_event),
		cmocka_unit_test(test_audit_verify_names_a_deleted_event),
		cmocka_unit_test(test_audit_verify_catches_a_renumbered_deletion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
