/*
 * test_ipam — every rule and refusal code of SPEC §2, for IPv4 and IPv6, against the
 * memory-only model (the store's part is in test_store.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipam.h"

struct fx {
	struct ipam *m;
	struct err e;
};

static struct ipam_actor who = { "test", "admin", "req-1" };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;

	f->m = ipam_new(NULL);
	assert_int_equal(ipam_load(f->m, &e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ipam_free(f->m);
	free(f);
	return 0;
}

static struct cidr
C(const char *s)
{
	struct cidr c;
	struct err e;

	if (cidr_parse(s, &c, &e) != 0)
		fail_msg("bad CIDR in test: %s", s);
	return c;
}

static const char *
S(const struct cidr *c)
{
	static char buf[4][CIDR_STRLEN];
	static int i;

	return cidr_format(c, buf[i++ & 3], CIDR_STRLEN);
}

static struct ipam_pool_spec
spec(const char *name, int family)
{
	struct ipam_pool_spec s;

	memset(&s, 0, sizeof(s));
	s.name = name;
	s.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
	s.family = family;
	s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
	s.alarm_at = -1;
	return s;
}

/* A top-level pool provisioned with cidr; rules via min/max/default (-1 unset). */
static struct ipam_pool *
mkpool(struct fx *f, const char *name, const char *cidr, int min, int max, int def)
{
	struct cidr c = C(cidr);
	struct ipam_pool_spec s = spec(name, c.family);
	struct ipam_pool *p;

	s.rules.min_netmask = min;
	s.rules.max_netmask = max;
	s.rules.default_netmask = def;
	if (ipam_pool_create(f->m, &who, &s, &p, &f->e) != 0)
		fail_msg("pool_create: %s %s", f->e.code, f->e.msg);
	if (ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e) != 0)
		fail_msg("provision: %s %s", f->e.code, f->e.msg);
	return p;
}

static int
alloc_n(struct fx *f, struct ipam_pool *p, int netmask, struct ipam_alloc_result *r)
{
	struct ipam_alloc_req q;

	memset(&q, 0, sizeof(q));
	q.netmask = netmask;
	err_clear(&f->e);
	return ipam_allocate(f->m, &who, p, &q, r, &f->e);
}

static int
alloc_c(struct fx *f, struct ipam_pool *p, const char *cidr, struct ipam_alloc_result *r)
{
	struct ipam_alloc_req q;
	struct cidr c = C(cidr);

	memset(&q, 0, sizeof(q));
	q.netmask = -1;
	q.cidr = &c;
	err_clear(&f->e);
	return ipam_allocate(f->m, &who, p, &q, r, &f->e);
}

static void
assert_refused(struct fx *f, int rc, const char *code, const char *needle)
{
	assert_int_equal(rc, -1);
	assert_non_null(f->e.code);
	assert_string_equal(f->e.code, code);
	if (needle != NULL && strstr(f->e.msg, needle) == NULL)
		fail_msg("message '%s' does not name '%s'", f->e.msg, needle);
}

/* ---- counting (issue 15 finding 10) ---- */

/* ::/0 allocated in two halves is 2^128 addresses: 100 %, alarmed; freeing one half gives
 * 50 % (the counters must not wrap at 2^128). */
static void
test_util_of_full_v6_space_is_100_percent(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "all6", "::/0", -1, -1, -1);
	struct ipam_alloc_result r1, r2;
	struct ipam_util u;

	assert_int_equal(alloc_c(f, p, "::/1", &r1), 0);
	assert_int_equal(alloc_c(f, p, "8000::/1", &r2), 0);
	ipam_pool_util(p, &u);
	assert_true(u.percent > 99.9);
	assert_true(u.alarm);
	assert_int_equal(ipam_release(f->m, &who, r1.alloc->id, &f->e), 0);
	ipam_pool_util(p, &u);
	assert_true(u.percent > 49.9 && u.percent < 50.1);
}

/* ---- scopes ---- */

static void
test_load_creates_the_two_default_scopes(void **state)
{
	struct fx *f = *state;
	struct ipam_scope *pv = ipam_scope_find(f->m, "private-default");
	struct ipam_scope *pb = ipam_scope_find(f->m, "public-default");

	assert_non_null(pv);
	assert_non_null(pb);
	assert_int_equal(pv->kind, IPAM_SCOPE_PRIVATE);
	assert_int_equal(pb->kind, IPAM_SCOPE_PUBLIC);
}

static void
test_scope_create_refuses_existing_name(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ipam_scope_create(f->m, &who, "lab", NULL, &f->e), 0);
	assert_refused(f, ipam_scope_create(f->m, &who, "lab", NULL, &f->e), "exists", "lab");
}

static void
test_scope_delete_refuses_public_scope(void **state)
{
	struct fx *f = *state;

	assert_refused(f, ipam_scope_delete(f->m, &who, "public-default", &f->e),
	    "invalid-argument", "public-default");
}

static void
test_scope_delete_refuses_scope_with_pools(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);

	assert_int_equal(ipam_scope_create(f->m, &who, "lab", NULL, &f->e), 0);
	s.scope = "lab";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, NULL, &f->e), 0);
	assert_refused(f, ipam_scope_delete(f->m, &who, "lab", &f->e), "in-use", "lab");
}

/* ---- pools ---- */

static void
test_pool_create_refuses_duplicate_name(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("dup", CIDR_V4);

	assert_int_equal(ipam_pool_create(f->m, &who, &s, NULL, &f->e), 0);
	assert_refused(f, ipam_pool_create(f->m, &who, &s, NULL, &f->e), "exists", "dup");
}

static void
test_pool_create_refuses_unknown_scope(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);

	s.scope = "nowhere";
	assert_refused(f, ipam_pool_create(f->m, &who, &s, NULL, &f->e), "not-found", "nowhere");
}

static void
test_pool_create_refuses_min_longer_than_max(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);

	s.rules.min_netmask = 24;
	s.rules.max_netmask = 16;
	assert_refused(f, ipam_pool_create(f->m, &who, &s, NULL, &f->e), "invalid-argument",
	    "min_netmask 24");
}

static void
test_child_pool_locale_must_equal_parent_locale(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("parent", CIDR_V4);

	s.locale = "fra1";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, NULL, &f->e), 0);
	s = spec("child", 0);
	s.parent = "parent";
	s.locale = "ams1";
	assert_refused(f, ipam_pool_create(f->m, &who, &s, NULL, &f->e), "locale-mismatch",
	    "fra1");
}

static void
test_child_pool_inherits_family(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("parent6", CIDR_V6);
	struct ipam_pool *child;

	assert_int_equal(ipam_pool_create(f->m, &who, &s, NULL, &f->e), 0);
	s = spec("child6", 0);
	s.scope = NULL;
	s.parent = "parent6";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &child, &f->e), 0);
	assert_int_equal(child->family, CIDR_V6);
}

/* ---- uniqueness ---- */

static void
test_provision_refuses_overlap_in_scope_naming_cidr(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("b", CIDR_V4);
	struct ipam_pool *b;
	struct cidr c = C("10.1.0.0/24");

	mkpool(f, "a", "10.0.0.0/8", -1, -1, -1);
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &b, &f->e), 0);
	assert_refused(f, ipam_provision(f->m, &who, b, &c, -1, NULL, &f->e), "overlap",
	    "10.0.0.0/8");
}

static void
test_provision_refuses_overlap_in_scope_v6(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("b6", CIDR_V6);
	struct ipam_pool *b;
	struct cidr c = C("2001::/16");

	mkpool(f, "a6", "2001:db8::/32", -1, -1, -1);
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &b, &f->e), 0);
	assert_refused(f, ipam_provision(f->m, &who, b, &c, -1, NULL, &f->e), "overlap",
	    "2001:db8::/32");
}

static void
test_provision_same_cidr_in_other_scope_is_allowed(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("other", CIDR_V4);
	struct ipam_pool *p;
	struct cidr c = C("10.0.0.0/8");

	mkpool(f, "a", "10.0.0.0/8", -1, -1, -1);
	assert_int_equal(ipam_scope_create(f->m, &who, "isolated", NULL, &f->e), 0);
	s.scope = "isolated";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &p, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e), 0);
}

static void
test_explicit_allocation_overlap_names_colliding_cidr(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_c(f, p, "10.0.4.0/22", &r), 0);
	assert_refused(f, alloc_c(f, p, "10.0.5.0/24", &r), "overlap", "10.0.4.0/22");
	assert_refused(f, alloc_c(f, p, "10.0.0.0/20", &r), "overlap", "10.0.4.0/22");
}

static void
test_explicit_allocation_overlap_v6(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_c(f, p, "2001:db8:1::/48", &r), 0);
	assert_refused(f, alloc_c(f, p, "2001:db8:1:2::/64", &r), "overlap", "2001:db8:1::/48");
}

static void
test_explicit_allocation_outside_pool_is_refused(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_refused(f, alloc_c(f, p, "10.1.0.0/24", &r), "invalid-argument", "10.1.0.0/24");
}

/* ---- allocate by size ---- */

static void
test_allocate_best_fit_keeps_large_blocks_whole(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r, hole;

	/* free: 10.0.0.0/24 hole (after releasing), and the rest of the /16 */
	assert_int_equal(alloc_n(f, p, 24, &hole), 0);
	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_int_equal(ipam_release(f->m, &who, hole.alloc->id, &f->e), 0);
	assert_int_equal(alloc_n(f, p, 26, &r), 0);
	assert_string_equal(S(&r.cidr), "10.0.0.0/26");
}

static void
test_allocate_lowest_address_among_equals(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32", -1, -1, -1);
	struct ipam_alloc_result a, b;

	assert_int_equal(alloc_n(f, p, 48, &a), 0);
	assert_int_equal(alloc_n(f, p, 48, &b), 0);
	assert_string_equal(S(&a.cidr), "2001:db8::/48");
	assert_string_equal(S(&b.cidr), "2001:db8:1::/48");
}

static void
test_allocate_uses_default_netmask(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, 27);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, -1, &r), 0);
	assert_int_equal(r.cidr.len, 27);
}

static void
test_allocate_without_netmask_or_default_is_refused(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_refused(f, alloc_n(f, p, -1, &r), "invalid-argument", "default_netmask");
}

static void
test_allocate_min_max_inversion_v4(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/8", 16, 24, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, 16, &r), 0);
	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_refused(f, alloc_n(f, p, 15, &r), "netmask-too-large", "/15");
	assert_refused(f, alloc_n(f, p, 25, &r), "netmask-too-small", "/25");
}

static void
test_allocate_min_max_inversion_v6(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32", 48, 64, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, 48, &r), 0);
	assert_int_equal(alloc_n(f, p, 64, &r), 0);
	assert_refused(f, alloc_n(f, p, 47, &r), "netmask-too-large", "/47");
	assert_refused(f, alloc_n(f, p, 65, &r), "netmask-too-small", "/65");
}

static void
test_allocate_refuses_missing_required_tag_naming_it(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);
	struct ipam_tag req = { "env", "prod" }, have = { "env", "dev" };
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct ipam_pool *p;
	struct cidr c = C("10.0.0.0/16");

	s.rules.required_tags.n = 1;
	s.rules.required_tags.v = &req;
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &p, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e), 0);
	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "missing-tag",
	    "env=prod");
	q.tags.n = 1;
	q.tags.v = &have;
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "missing-tag",
	    "env=prod");
	have.value = "prod";
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), 0);
}

static void
test_allocate_refuses_other_locale(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p6", CIDR_V6);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct ipam_pool *p;
	struct cidr c = C("2001:db8::/32");

	s.locale = "fra1";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &p, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e), 0);
	memset(&q, 0, sizeof(q));
	q.netmask = 48;
	q.locale = "ams1";
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "locale-mismatch",
	    "ams1");
	q.locale = NULL;
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "locale-mismatch",
	    "fra1");
	q.locale = "fra1";
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), 0);
}

static void
test_rules_are_checked_in_spec_order(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);
	struct ipam_tag req = { "env", "prod" };
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct ipam_pool *p;
	struct cidr c = C("10.0.0.0/24");

	s.rules.min_netmask = 24;
	s.rules.max_netmask = 28;
	s.rules.required_tags.n = 1;
	s.rules.required_tags.v = &req;
	s.locale = "fra1";
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &p, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e), 0);
	memset(&q, 0, sizeof(q));
	q.netmask = 23;                 /* everything wrong: netmask first */
	q.locale = "ams1";
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "netmask-too-large", NULL);
	q.netmask = 24;                 /* tags before locale */
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "missing-tag", NULL);
}

static void
test_exhaustion_names_largest_free_block_v4(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_c(f, p, "10.0.0.0/25", &r), 0);
	assert_int_equal(alloc_c(f, p, "10.0.0.192/26", &r), 0);
	assert_refused(f, alloc_n(f, p, 25, &r), "pool-exhausted", "10.0.0.128/26");
}

static void
test_exhaustion_names_largest_free_block_v6(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/47", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, 48, &r), 0);
	assert_refused(f, alloc_n(f, p, 47, &r), "pool-exhausted", "2001:db8:1::/48");
}

static void
test_exhaustion_of_full_pool_says_no_free_space(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_refused(f, alloc_n(f, p, 30, &r), "pool-exhausted", "no free space");
}

/* ---- preview, tokens ---- */

static void
test_preview_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r1, r2;

	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	q.preview = true;
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r1, &f->e), 0);
	assert_null(r1.alloc);
	assert_int_equal(ipam_alloc_count(f->m), 0);
	q.preview = false;
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r2, &f->e), 0);
	assert_true(cidr_equal(&r1.cidr, &r2.cidr));
}

static void
test_token_replay_returns_first_allocation(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r1, r2;

	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	q.token = "tok-1";
	q.description = "web";
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r1, &f->e), 0);
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r2, &f->e), 0);
	assert_true(r2.replayed);
	assert_ptr_equal(r1.alloc, r2.alloc);
	assert_int_equal(ipam_alloc_count(f->m), 1);
}

static void
test_token_with_other_parameters_is_conflict(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32", -1, -1, -1);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;

	memset(&q, 0, sizeof(q));
	q.netmask = 48;
	q.token = "tok-1";
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), 0);
	q.netmask = 56;
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "token-conflict",
	    "tok-1");
}

static void
test_same_token_in_other_pool_is_independent(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *a = mkpool(f, "a", "10.0.0.0/16", -1, -1, -1);
	struct ipam_pool *b = mkpool(f, "b", "10.1.0.0/16", -1, -1, -1);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r1, r2;

	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	q.token = "tok";
	assert_int_equal(ipam_allocate(f->m, &who, a, &q, &r1, &f->e), 0);
	assert_int_equal(ipam_allocate(f->m, &who, b, &q, &r2, &f->e), 0);
	assert_false(r2.replayed);
	assert_ptr_not_equal(r1.alloc, r2.alloc);
}

/* ---- release, child pools, deletion protection ---- */

static void
test_release_frees_space_at_once(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24", -1, -1, -1);
	struct ipam_alloc_result r;

	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_int_equal(ipam_release(f->m, &who, r.alloc->id, &f->e), 0);
	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_string_equal(S(&r.cidr), "10.0.0.0/24");
}

static void
test_release_unknown_id_is_not_found(void **state)
{
	struct fx *f = *state;

	assert_refused(f, ipam_release(f->m, &who, 999, &f->e), "not-found", "999");
}

static struct ipam_pool *
mkchild(struct fx *f, const char *name, const char *parent)
{
	struct ipam_pool_spec s = spec(name, 0);
	struct ipam_pool *c;

	s.scope = NULL;
	s.parent = parent;
	if (ipam_pool_create(f->m, &who, &s, &c, &f->e) != 0)
		fail_msg("child: %s %s", f->e.code, f->e.msg);
	return c;
}

static void
test_child_pool_provisioned_by_netmask(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_pool *c = mkchild(f, "c", "p");
	struct cidr got;
	struct ipam_alloc *a;

	assert_int_equal(ipam_provision(f->m, &who, c, NULL, 20, &got, &f->e), 0);
	assert_string_equal(S(&got), "10.0.0.0/20");
	a = ipam_alloc_find_cidr(p, &got);
	assert_non_null(a);
	assert_int_equal(ipam_alloc_kind(a), IPAM_ALLOC_POOL);
	assert_ptr_equal(ipam_alloc_child(a), c);
}

static void
test_child_pool_provisioned_by_netmask_v6(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *c;
	struct cidr got;

	mkpool(f, "p6", "2001:db8::/32", -1, -1, -1);
	c = mkchild(f, "c6", "p6");
	assert_int_equal(ipam_provision(f->m, &who, c, NULL, 40, &got, &f->e), 0);
	assert_string_equal(S(&got), "2001:db8::/40");
}

static void
test_child_pool_explicit_cidr_must_be_free_in_parent(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_pool *c = mkchild(f, "c", "p");
	struct ipam_alloc_result r;
	struct cidr want = C("10.0.0.0/20");

	assert_int_equal(alloc_c(f, p, "10.0.1.0/24", &r), 0);
	assert_refused(f, ipam_provision(f->m, &who, c, &want, -1, NULL, &f->e), "overlap",
	    "10.0.1.0/24");
}

static void
test_release_of_child_pool_allocation_is_refused(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_pool *c = mkchild(f, "c", "p");
	struct cidr got;

	assert_int_equal(ipam_provision(f->m, &who, c, NULL, 20, &got, &f->e), 0);
	assert_refused(f, ipam_release(f->m, &who, ipam_alloc_find_cidr(p, &got)->id, &f->e),
	    "in-use", "c");
}

static void
test_deprovision_refused_while_allocations_inside(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;
	struct cidr c = C("10.0.0.0/16");

	assert_int_equal(alloc_c(f, p, "10.0.7.0/24", &r), 0);
	assert_refused(f, ipam_deprovision(f->m, &who, p, &c, &f->e), "in-use", "10.0.7.0/24");
}

static void
test_pool_delete_refused_while_it_has_cidrs(void **state)
{
	struct fx *f = *state;

	mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	assert_refused(f, ipam_pool_delete(f->m, &who, "p", &f->e), "in-use", "p");
}

static void
test_pool_delete_refused_while_it_has_children(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s = spec("p", CIDR_V4);

	assert_int_equal(ipam_pool_create(f->m, &who, &s, NULL, &f->e), 0);
	mkchild(f, "c", "p");
	assert_refused(f, ipam_pool_delete(f->m, &who, "p", &f->e), "in-use", "child");
}

static void
test_reclaim_bottom_up(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_pool *c = mkchild(f, "c", "p");
	struct ipam_alloc_result r;
	struct cidr got, top = C("10.0.0.0/16");

	assert_int_equal(ipam_provision(f->m, &who, c, NULL, 20, &got, &f->e), 0);
	assert_int_equal(alloc_n(f, c, 24, &r), 0);
	/* top-down is refused at every level */
	assert_refused(f, ipam_deprovision(f->m, &who, p, &top, &f->e), "in-use", NULL);
	assert_refused(f, ipam_deprovision(f->m, &who, c, &got, &f->e), "in-use", NULL);
	/* bottom-up works */
	assert_int_equal(ipam_release(f->m, &who, r.alloc->id, &f->e), 0);
	assert_int_equal(ipam_deprovision(f->m, &who, c, &got, &f->e), 0);
	assert_null(ipam_alloc_find_cidr(p, &got));
	assert_int_equal(ipam_pool_delete(f->m, &who, "c", &f->e), 0);
	assert_int_equal(ipam_deprovision(f->m, &who, p, &top, &f->e), 0);
	assert_int_equal(ipam_pool_delete(f->m, &who, "p", &f->e), 0);
}

/* ---- utilization ---- */

static void
test_utilization_figures_v4(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24", -1, -1, -1);
	struct ipam_alloc_result r;
	struct ipam_util u;

	assert_int_equal(alloc_n(f, p, 25, &r), 0);
	assert_int_equal(alloc_n(f, p, 27, &r), 0);
	ipam_pool_util(p, &u);
	assert_true(u.provisioned == 256);
	assert_true(u.allocated == 160);
	assert_true(u.percent > 62.49 && u.percent < 62.51);
	assert_true(u.has_free);
	assert_string_equal(S(&u.largest_free), "10.0.0.192/26");
	assert_int_equal(u.alarm_at, 80);
	assert_false(u.alarm);
	assert_int_equal(alloc_n(f, p, 26, &r), 0);
	ipam_pool_util(p, &u);
	assert_true(u.alarm);
}

static void
test_utilization_figures_v6_above_2_64(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32", -1, -1, -1);
	struct ipam_alloc_result r;
	struct ipam_util u;
	char buf[CIDR_U128_STRLEN];

	assert_int_equal(alloc_n(f, p, 33, &r), 0);
	ipam_pool_util(p, &u);
	assert_string_equal(cidr_u128_format(u.provisioned, buf, sizeof(buf)),
	    "79228162514264337593543950336");
	assert_true(u.allocated * 2 == u.provisioned);
	assert_true(u.percent > 49.99 && u.percent < 50.01);
	assert_string_equal(S(&u.largest_free), "2001:db8:8000::/33");
}

/* ---- resources and reports ---- */

struct rows {
	int n;
	struct ipam_report_row r[8];
};

static int
collect(void *arg, const struct ipam_report_row *row)
{
	struct rows *rs = arg;

	if (rs->n < 8)
		rs->r[rs->n++] = *row;
	return 0;
}

static void
test_report_classifies_overlap_and_compliance(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;
	struct cidr vpc = C("10.0.0.128/25"), lan = C("192.168.0.0/24");
	struct rows rs = { 0 };

	assert_int_equal(alloc_n(f, p, 24, &r), 0);
	assert_int_equal(ipam_resource_import(f->m, &who, "private-default", &vpc, "vpc-1",
	    NULL, NULL, &f->e), 0);
	assert_int_equal(ipam_resource_import(f->m, &who, "private-default", &lan, "lan", NULL,
	    NULL, &f->e), 0);
	assert_int_equal(ipam_report(f->m, ipam_scope_find(f->m, "private-default"), collect,
	    &rs), 0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.r[0].kind, IPAM_ITEM_ALLOCATION);
	assert_true(rs.r[0].managed);
	assert_true(rs.r[0].overlapping);
	assert_string_equal(S(&rs.r[0].overlap_cidr), "10.0.0.128/25");
	assert_string_equal(rs.r[0].overlap_name, "vpc-1");
	assert_int_equal(rs.r[0].compliance, IPAM_COMPLIANT);
	assert_int_equal(rs.r[1].kind, IPAM_ITEM_RESOURCE);
	assert_false(rs.r[1].managed);
	assert_true(rs.r[1].overlapping);
	assert_int_equal(rs.r[1].compliance, IPAM_COMPLIANCE_UNMANAGED);
	assert_false(rs.r[2].overlapping);
}

static void
test_report_marks_allocation_breaking_new_rule_noncompliant(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_result r;
	struct rows rs = { 0 };

	assert_int_equal(alloc_n(f, p, 20, &r), 0);
	p->rules.min_netmask = 24;      /* the rule changed after the allocation */
	assert_int_equal(ipam_report(f->m, NULL, collect, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].compliance, IPAM_NONCOMPLIANT);
	assert_string_equal(rs.r[0].rule, "netmask-too-large");
}

static void
test_hand_built_cidr_with_host_bits_is_not_canonical(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16", -1, -1, -1);
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct cidr c = C("10.0.1.0/24");

	c.lo = 0;
	c.hi |= (uint64_t)1 << 32;      /* 10.0.1.1/24 */
	memset(&q, 0, sizeof(q));
	q.netmask = -1;
	q.cidr = &c;
	assert_refused(f, ipam_allocate(f->m, &who, p, &q, &r, &f->e), "cidr-not-canonical",
	    "10.0.1.0/24");
}

static void
test_tag_parse_refuses_missing_equals(void **state)
{
	struct fx *f = *state;
	struct ipam_tag t;

	assert_refused(f, ipam_tag_parse("novalue", &t, &f->e), "invalid-argument", "novalue");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_util_of_full_v6_space_is_100_percent),
		T(test_load_creates_the_two_default_scopes),
		T(test_scope_create_refuses_existing_name),
		T(test_scope_delete_refuses_public_scope),
		T(test_scope_delete_refuses_scope_with_pools),
		T(test_pool_create_refuses_duplicate_name),
		T(test_pool_create_refuses_unknown_scope),
		T(test_pool_create_refuses_min_longer_than_max),
		T(test_child_pool_locale_must_equal_parent_locale),
		T(test_child_pool_inherits_family),
		T(test_provision_refuses_overlap_in_scope_naming_cidr),
		T(test_provision_refuses_overlap_in_scope_v6),
		T(test_provision_same_cidr_in_other_scope_is_allowed),
		T(test_explicit_allocation_overlap_names_colliding_cidr),
		T(test_explicit_allocation_overlap_v6),
		T(test_explicit_allocation_outside_pool_is_refused),
		T(test_allocate_best_fit_keeps_large_blocks_whole),
		T(test_allocate_lowest_address_among_equals),
		T(test_allocate_uses_default_netmask),
		T(test_allocate_without_netmask_or_default_is_refused),
		T(test_allocate_min_max_inversion_v4),
		T(test_allocate_min_max_inversion_v6),
		T(test_allocate_refuses_missing_required_tag_naming_it),
		T(test_allocate_refuses_other_locale),
		T(test_rules_are_checked_in_spec_order),
		T(test_exhaustion_names_largest_free_block_v4),
		T(test_exhaustion_names_largest_free_block_v6),
		T(test_exhaustion_of_full_pool_says_no_free_space),
		T(test_preview_changes_nothing),
		T(test_token_replay_returns_first_allocation),
		T(test_token_with_other_parameters_is_conflict),
		T(test_same_token_in_other_pool_is_independent),
		T(test_release_frees_space_at_once),
		T(test_release_unknown_id_is_not_found),
		T(test_child_pool_provisioned_by_netmask),
		T(test_child_pool_provisioned_by_netmask_v6),
		T(test_child_pool_explicit_cidr_must_be_free_in_parent),
		T(test_release_of_child_pool_allocation_is_refused),
		T(test_deprovision_refused_while_allocations_inside),
		T(test_pool_delete_refused_while_it_has_cidrs),
		T(test_pool_delete_refused_while_it_has_children),
		T(test_reclaim_bottom_up),
		T(test_utilization_figures_v4),
		T(test_utilization_figures_v6_above_2_64),
		T(test_report_classifies_overlap_and_compliance),
		T(test_report_marks_allocation_breaking_new_rule_noncompliant),
		T(test_hand_built_cidr_with_host_bits_is_not_canonical),
		T(test_tag_parse_refuses_missing_equals),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
