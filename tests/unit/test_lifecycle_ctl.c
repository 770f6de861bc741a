/*
 * test_lifecycle_ctl — the public-prefix controller without a router, an RTR cache or a
 * verifier: provisioning refusals and their records, the desired BIRD set per state, the
 * advertise / withdraw refusals that need no router (SPEC §3 order), the blast radius,
 * deprovision protection, and rows surviving a reload from the SQLite store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api.h"
#include "bird_conf.h"
#include "conf.h"
#include "daemon.h"
#include "ipam.h"
#include "lifecycle_ctl.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	struct daemon d;
	struct lifecycle_ctl *c;
	struct ipam_pool *pool4, *pool6;
	struct err e;
	int status;
	json_t *body;
};

static struct ipam_actor who = { "alice", "admin", "req-1" };

static void
open_all(struct fx *f)
{
	struct lifecycle_deps deps;

	assert_int_equal(store_sqlite_open(f->path, &f->d.store, &f->e), 0);
	f->d.ipam = ipam_new(f->d.store);
	assert_int_equal(ipam_load(f->d.ipam, &f->e), 0);
	deps = (struct lifecycle_deps){ .loop = f->d.loop, .conf = f->d.conf, .store = f->d.store,
		.ipam = f->d.ipam };
	f->c = lifecycle_ctl_new(&deps);
	assert_int_equal(lifecycle_ctl_load(f->c, &f->e), 0);
	f->pool4 = ipam_pool_find(f->d.ipam, "pub4");
	f->pool6 = ipam_pool_find(f->d.ipam, "pub6");
}

static void
close_all(struct fx *f)
{
	lifecycle_ctl_free(f->c);
	ipam_free(f->d.ipam);
	store_close(f->d.store);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ipam_pool_spec s4 = { .name = "pub4", .scope = IPAM_SCOPE_PUBLIC_DEFAULT,
		.family = CIDR_V4, .rules = { -1, -1, -1, { 0 } }, .alarm_at = -1,
		.origin_asn = 64500 };
	struct ipam_pool_spec s6 = s4;

	s6.name = "pub6";
	s6.family = CIDR_V6;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_lifecycle_ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	f->d.loop = ev_loop_new(EVFLAG_AUTO);
	f->d.conf = conf_default();
	f->d.conf->auth_allow_unproven_asn = 1;        /* origin proofs: see test_asn_* */
	open_all(f);
	assert_int_equal(ipam_pool_create(f->d.ipam, &who, &s4, &f->pool4, &f->e), 0);
	assert_int_equal(ipam_pool_create(f->d.ipam, &who, &s6, &f->pool6, &f->e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	close_all(f);
	json_decref(f->body);
	conf_free(f->d.conf);
	ev_loop_destroy(f->d.loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct cidr
C(const char *s)
{
	struct cidr c;
	struct err e;

	assert_int_equal(cidr_parse(s, &c, &e), 0);
	return c;
}

/* Provisions s with a (meaningless) proof; returns the call's result. */
static int
provision(struct fx *f, struct ipam_pool *pool, const char *s, struct lifecycle_prefix **p)
{
	struct cidr c = C(s);

	err_clear(&f->e);
	return lifecycle_ctl_provision(f->c, &who, pool, &c, "msg", "sig", p, &f->e);
}

/* Puts a prefix straight into a state, as a restored row would be. */
static struct lifecycle_prefix *
with_state(struct fx *f, const char *s, enum lifecycle_state st)
{
	struct lifecycle_prefix *p = NULL;

	provision(f, strchr(s, ':') ? f->pool6 : f->pool4, s, &p);
	assert_non_null(p);
	p->state = st;
	p->failure_reason[0] = '\0';
	return p;
}

/* Renders the outcome as the API does (status from its one error table, the error object). */
static void
done(void *arg, const struct lifecycle_outcome *o)
{
	struct fx *f = arg;
	const struct lifecycle_item_result *ff = o->first_failure;

	json_decref(f->body);
	f->status = ff ? api_status_of(ff->code) : 200;
	f->body = ff ? json_pack("{s:{s:s, s:s}}", "error", "code", ff->code, "message",
	    ff->message) : json_object();
}

static const char *
error_code(const struct fx *f)
{
	return json_string_value(json_object_get(json_object_get(f->body, "error"), "code"));
}

static void
change(struct fx *f, bool withdraw, const char *const *cidrs, size_t n, bool confirm)
{
	struct cidr v[8];
	struct lifecycle_ctl_req r = { .cidrs = v, .n = n, .confirm_large = confirm, .who = &who };

	for (size_t i = 0; i < n; i++)
		v[i] = C(cidrs[i]);
	f->status = 0;
	if (withdraw)
		lifecycle_ctl_withdraw(f->c, &r, done, f);
	else
		lifecycle_ctl_advertise(f->c, &r, done, f);
	assert_int_not_equal(f->status, 0);    /* no router: answered at once */
}

static void
test_provision_refuses_ipv4_longer_than_24(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;

	assert_int_equal(provision(f, f->pool4, "203.0.113.128/25", &p), -1);
	assert_string_equal(f->e.code, "prefix-too-specific");
	assert_non_null(p);
	assert_int_equal(p->state, LIFECYCLE_FAILED_PROVISION);
	assert_string_equal(p->failure_reason, "prefix-too-specific");
}

static void
test_provision_refuses_ipv6_longer_than_48(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;

	assert_int_equal(provision(f, f->pool6, "2001:db8:113:100::/56", &p), -1);
	assert_string_equal(f->e.code, "prefix-too-specific");
	assert_int_equal(p->state, LIFECYCLE_FAILED_PROVISION);
}

static void
test_provision_without_context_fails_auth_malformed(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;
	struct cidr c = C("203.0.113.0/24");

	assert_int_equal(lifecycle_ctl_provision(f->c, &who, f->pool4, &c, NULL, NULL, &p,
	    &f->e), -1);
	assert_string_equal(f->e.code, "auth-malformed");
	assert_string_equal(p->failure_reason, "auth-malformed");
}

/* Issue 21: without the lab escape the pool's origin must be a proven ASN; nothing is
 * verified then (the refusal comes before any fetch) and the prefix says why. */
static void
test_provision_from_unproven_origin_fails_asn_not_provisioned(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;

	f->d.conf->auth_allow_unproven_asn = 0;
	assert_int_equal(provision(f, f->pool4, "203.0.113.0/24", &p), -1);
	assert_string_equal(f->e.code, "asn-not-provisioned");
	assert_non_null(strstr(f->e.msg, "AS64500"));
	assert_string_equal(p->failure_reason, "asn-not-provisioned");
	assert_int_equal(p->state, LIFECYCLE_FAILED_PROVISION);
	assert_false(p->verifying);
}

static void
test_provision_of_a_live_prefix_is_exists(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;

	with_state(f, "203.0.113.0/24", LIFECYCLE_PROVISIONED);
	assert_int_equal(provision(f, f->pool4, "203.0.113.0/24", &p), -1);
	assert_string_equal(f->e.code, "exists");
}

static void
test_failed_prefix_can_be_provisioned_again(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;
	struct cidr c = C("203.0.113.0/24");

	lifecycle_ctl_provision(f->c, &who, f->pool4, &c, NULL, NULL, &p, &f->e);
	assert_int_equal(p->state, LIFECYCLE_FAILED_PROVISION);
	/* no verifier configured: accepted again, then fails with its own reason */
	provision(f, f->pool4, "203.0.113.0/24", &p);
	assert_string_not_equal(f->e.code ? f->e.code : "", "exists");
	assert_string_equal(p->failure_reason, "rdap-unavailable");
}

static void
test_provision_overlapping_public_prefix_is_overlap(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;
	struct cidr c24 = C("198.51.100.0/24"), c16 = C("198.51.0.0/16");

	assert_int_equal(ipam_provision(f->d.ipam, &who, f->pool4, &c24, -1, NULL, &f->e), 0);
	assert_int_equal(provision(f, f->pool4, "198.51.0.0/16", &p), -1);
	assert_string_equal(f->e.code, "overlap");
	assert_null(lifecycle_ctl_find(f->c, &c16));    /* nothing recorded */
}

static void
test_desired_holds_advertised_and_pending_advertise_only(void **state)
{
	struct fx *f = *state;
	struct bird_routeset rs = { 0 };
	char buf[BIRD_PREFIX_STRLEN];

	with_state(f, "198.51.100.0/24", LIFECYCLE_ADVERTISED);
	with_state(f, "203.0.113.0/24", LIFECYCLE_PENDING_ADVERTISE);
	with_state(f, "192.0.2.0/24", LIFECYCLE_PROVISIONED);
	with_state(f, "2001:db8:113::/48", LIFECYCLE_PENDING_WITHDRAW);
	assert_int_equal(lifecycle_ctl_desired(f->c, &rs, &f->e), 0);
	bird_routeset_normalize(&rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(bird_route_format(&rs.v[0], buf, sizeof(buf)), "198.51.100.0/24");
	assert_string_equal(bird_route_format(&rs.v[1], buf, sizeof(buf)), "203.0.113.0/24");
	assert_false(rs.v[0].drain || rs.v[1].drain);
	bird_routeset_clear(&rs);
}

static void
test_desired_keeps_draining_route_with_gshut(void **state)
{
	struct fx *f = *state;
	struct bird_routeset rs = { 0 };
	struct lifecycle_prefix *p = with_state(f, "2001:db8:113::/48",
	    LIFECYCLE_PENDING_WITHDRAW);

	p->drain_until = (int64_t)time(NULL) + 60;
	assert_int_equal(lifecycle_ctl_desired(f->c, &rs, &f->e), 0);
	assert_int_equal(rs.n, 1);
	assert_true(rs.v[0].drain);
	bird_routeset_clear(&rs);
}

static void
test_advertise_unknown_prefix_is_not_found(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "10.0.0.0/24" };

	change(f, false, v, 1, false);
	assert_int_equal(f->status, 404);
	assert_string_equal(error_code(f), "not-found");
}

static void
test_advertise_outside_provisioned_is_not_provisioned(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "203.0.113.0/24" };

	with_state(f, "203.0.113.0/24", LIFECYCLE_PENDING_PROVISION);
	change(f, false, v, 1, false);
	assert_string_equal(error_code(f), "not-provisioned");
}

static void
test_advertise_without_rpki_is_rpki_stale(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "203.0.113.0/24" };

	struct lifecycle_prefix *p = with_state(f, "203.0.113.0/24", LIFECYCLE_PROVISIONED);

	change(f, false, v, 1, false);
	assert_int_equal(f->status, 503);
	assert_string_equal(error_code(f), "rpki-stale");
	assert_int_equal(p->state, LIFECYCLE_PROVISIONED);
}

static void
test_withdraw_outside_advertised_is_not_advertised(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "203.0.113.0/24" };

	with_state(f, "203.0.113.0/24", LIFECYCLE_PROVISIONED);
	change(f, true, v, 1, false);
	assert_string_equal(error_code(f), "not-advertised");
}

static void
test_withdraw_of_two_with_default_cap_is_too_many(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "203.0.113.0/24", "198.51.100.0/24" };

	struct lifecycle_prefix *a = with_state(f, v[0], LIFECYCLE_ADVERTISED);
	struct lifecycle_prefix *b = with_state(f, v[1], LIFECYCLE_ADVERTISED);

	change(f, true, v, 2, false);
	assert_int_equal(f->status, 409);
	assert_string_equal(error_code(f), "too-many");
	assert_int_equal(a->state, LIFECYCLE_ADVERTISED);
	assert_int_equal(b->state, LIFECYCLE_ADVERTISED);
}

static void
test_withdraw_confirm_large_passes_the_cap(void **state)
{
	struct fx *f = *state;
	const char *v[] = { "203.0.113.0/24", "198.51.100.0/24" };

	with_state(f, v[0], LIFECYCLE_ADVERTISED);
	with_state(f, v[1], LIFECYCLE_ADVERTISED);
	change(f, true, v, 2, true);
	assert_string_equal(error_code(f), "bird-unavailable");   /* the next check */
}

static void
test_withdraw_of_nothing_is_refused(void **state)
{
	struct fx *f = *state;

	change(f, true, NULL, 0, true);
	assert_int_equal(f->status, 400);
	assert_string_equal(error_code(f), "invalid-argument");
}

static void
test_deprovision_refused_while_advertised(void **state)
{
	struct fx *f = *state;
	struct cidr c = C("203.0.113.0/24");

	with_state(f, "203.0.113.0/24", LIFECYCLE_ADVERTISED);
	assert_int_equal(lifecycle_ctl_deprovision(f->c, &who, f->pool4, &c, &f->e), -1);
	assert_string_equal(f->e.code, "in-use");
}

static void
test_deprovision_of_provisioned_ends_deprovisioned(void **state)
{
	struct fx *f = *state;
	struct cidr c = C("203.0.113.0/24");
	struct lifecycle_prefix *p = with_state(f, "203.0.113.0/24", LIFECYCLE_PROVISIONED);

	assert_int_equal(lifecycle_ctl_deprovision(f->c, &who, f->pool4, &c, &f->e), 0);
	assert_int_equal(p->state, LIFECYCLE_DEPROVISIONED);
}

static void
test_rows_survive_a_reload(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = NULL;
	struct cidr c = C("203.0.113.128/25");

	provision(f, f->pool4, "203.0.113.128/25", &p);
	close_all(f);
	open_all(f);
	p = lifecycle_ctl_find(f->c, &c);
	assert_non_null(p);
	assert_int_equal(p->state, LIFECYCLE_FAILED_PROVISION);
	assert_string_equal(p->failure_reason, "prefix-too-specific");
	assert_string_equal(p->pool, "pub4");
	assert_int_equal(p->origin_asn, 64500);
	assert_non_null(json_object_get(p->evidence, "size"));
}

static int
doc_cb(void *arg, const char *key, const char *doc, struct err *e)
{
	json_t **out = arg;

	(void)e;
	if (strcmp(key, "203.0.113.0/24") == 0) {
		json_decref(*out);
		*out = json_loads(doc, 0, NULL);
	}
	return 0;
}

/* The stored document equals the API's JSON plus the signature, whatever the evidence holds
 * (quotes, new lines, non-ASCII), and follows a new "auth" member: lc_doc keeps the encoded
 * "auth" while it is the same object, and must not write a replaced one's old text. */
static void
assert_doc_is_memory(struct fx *f, struct lifecycle_prefix *p)
{
	json_t *doc = NULL, *want = lifecycle_ctl_prefix_json(p);

	json_object_set_new(want, "auth_signature", json_string(p->auth_signature));
	assert_int_equal(store_doc_load(f->d.store, "prefix", doc_cb, &doc, &f->e), 0);
	assert_non_null(doc);
	assert_true(json_equal(doc, want));
	json_decref(doc);
	json_decref(want);
}

static void
test_stored_document_is_memory_and_follows_a_new_auth(void **state)
{
	struct fx *f = *state;
	struct lifecycle_prefix *p = with_state(f, "203.0.113.0/24", LIFECYCLE_PROVISIONED);
	struct cidr c = C("203.0.113.0/24");
	json_t *n[3] = {
		json_pack("{s:s, s:[s, s]}", "rdap_document", "{\"a\": \"b\\n\", \"c\": \"\\u00e9\"}\n",
		    "checks", "x\ty", "\xc3\xa9"),
		json_pack("{s:i}", "n", 1),
		json_pack("{s:s}", "rdap_document", "new"),
	};

	lifecycle_ctl_note(f->c, &c, "note", "auth", n[0]);     /* borrowed */
	assert_doc_is_memory(f, p);
	lifecycle_ctl_note(f->c, &c, "note", "other", n[1]);
	assert_doc_is_memory(f, p);
	lifecycle_ctl_note(f->c, &c, "note", "auth", n[2]);
	assert_doc_is_memory(f, p);
	for (int i = 0; i < 3; i++)
		json_decref(n[i]);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p->evidence,
	    "auth"), "rdap_document")), "new");
}

int
main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_provision_refuses_ipv4_longer_than_24),
		T(test_provision_refuses_ipv6_longer_than_48),
		T(test_provision_without_context_fails_auth_malformed),
		T(test_provision_from_unproven_origin_fails_asn_not_provisioned),
		T(test_provision_of_a_live_prefix_is_exists),
		T(test_failed_prefix_can_be_provisioned_again),
		T(test_provision_overlapping_public_prefix_is_overlap),
		T(test_desired_holds_advertised_and_pending_advertise_only),
		T(test_desired_keeps_draining_route_with_gshut),
		T(test_advertise_unknown_prefix_is_not_found),
		T(test_advertise_outside_provisioned_is_not_provisioned),
		T(test_advertise_without_rpki_is_rpki_stale),
		T(test_withdraw_outside_advertised_is_not_advertised),
		T(test_withdraw_of_two_with_default_cap_is_too_many),
		T(test_withdraw_confirm_large_passes_the_cap),
		T(test_withdraw_of_nothing_is_refused),
		T(test_deprovision_refused_while_advertised),
		T(test_deprovision_of_provisioned_ends_deprovisioned),
		T(test_rows_survive_a_reload),
		T(test_stored_document_is_memory_and_follows_a_new_auth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
