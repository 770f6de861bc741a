/*
 * test_store_sites — the store's site tables (src/store/store_sites.h, issue 17): desire and
 * per-site state, the lease (acquire, renew, standby, takeover with a new epoch, release),
 * fencing (a record under a lost epoch changes nothing), the withdrawal circuit breaker, and
 * the change feed's mark on a document put by store_doc_put_sited.
 * "Two instances" are two stores opened on the same database. Runs on SQLite (a temp file);
 * with PREFIXD_TEST_DSN set it runs the same on PostgreSQL (test_store_pg_sites.sh; each
 * test empties the site tables first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_pg.h"
#include "store_sites.h"

struct fx {
	char path[64];
	struct store *a, *b;            /* two instances on one database */
	struct err e;
};

static int
open_one(struct fx *f, struct store **out)
{
	const char *dsn = getenv("PREFIXD_TEST_DSN");

	if (dsn != NULL && dsn[0] != '\0')
		return store_pg_open(dsn, out, &f->e);
	return store_sqlite_open(f->path, out, &f->e);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/test_store_sites.XXXXXX");
	if ((fd = mkstemp(f->path)) < 0)
		return -1;
	close(fd);
	unlink(f->path);
	if (open_one(f, &f->a) != 0 || open_one(f, &f->b) != 0) {
		fprintf(stderr, "open: %s\n", f->e.msg);
		return -1;
	}
	if (getenv("PREFIXD_TEST_DSN") != NULL) {       /* the tables outlive a test case */
		PGconn *pg = PQconnectdb(getenv("PREFIXD_TEST_DSN"));
		PGresult *r = PQexec(pg, "TRUNCATE prefix_sites, site_leases, site_withdrawals,"
		    " site_breaker");
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		PQfinish(pg);
		if (!ok)
			return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->a);
	store_close(f->b);
	unlink(f->path);
	free(f);
	return 0;
}

static struct cidr
C(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c, NULL), 0);
	return c;
}

/* The rows of one query, flattened to "cidr site want state reason epoch;" */
struct rows {
	char buf[1024];
};

static int
row_cb(void *arg, const struct store_site_row *r, struct err *e)
{
	struct rows *rs = arg;
	char c[CIDR_STRLEN];
	size_t n = strlen(rs->buf);

	(void)e;
	snprintf(rs->buf + n, sizeof(rs->buf) - n, "%s %s %d %s %s %llu;",
	    cidr_format(&r->cidr, c, sizeof(c)), r->site, r->want, r->state,
	    r->failure_reason ? r->failure_reason : "-", (unsigned long long)r->epoch);
	return 0;
}

static const char *
rows_of(struct store *st, const char *cidr, const char *site)
{
	static struct rows rs;
	struct cidr c;
	struct err e;

	rs.buf[0] = '\0';
	if (cidr != NULL)
		c = C(cidr);
	assert_int_equal(store_site_load(st, cidr ? &c : NULL, site, row_cb, &rs, &e), 0);
	return rs.buf;
}

static void
test_desire_sets_pending_and_record_needs_the_lease(void **state)
{
	struct fx *f = *state;
	struct cidr p = C("203.0.113.0/24");
	struct store_lease l;
	struct store_site_row r = { .cidr = p, .site = "edge1", .state = "advertised",
	    .last_change = 1000, .evidence = "{\"bird\":\"ok\"}" };

	assert_int_equal(store_site_desire(f->a, &p, "edge1", true, 1000, &f->e), 0);
	assert_int_equal(store_site_desire(f->a, &p, "edge2", true, 1000, &f->e), 0);
	assert_string_equal(rows_of(f->b, "203.0.113.0/24", NULL),
	    "203.0.113.0/24 edge1 1 pending - 0;203.0.113.0/24 edge2 1 pending - 0;");
	/* no lease: nothing recorded */
	r.epoch = 1;
	assert_int_equal(store_site_record(f->a, &r, "a", 1000, &f->e), -1);
	assert_string_equal(f->e.code, "lease-lost");
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 1000, 6, &l, &f->e), 0);
	assert_int_equal(l.epoch, 1);
	assert_int_equal(store_site_record(f->a, &r, "a", 1001, &f->e), 0);
	assert_string_equal(rows_of(f->b, NULL, "edge1"), "203.0.113.0/24 edge1 1 advertised - 1;");
	/* the same desire again keeps the state; a changed one makes it pending */
	assert_int_equal(store_site_desire(f->b, &p, "edge1", true, 1002, &f->e), 0);
	assert_string_equal(rows_of(f->a, NULL, "edge1"), "203.0.113.0/24 edge1 1 advertised - 1;");
	assert_int_equal(store_site_desire(f->b, &p, "edge1", false, 1003, &f->e), 0);
	assert_string_equal(rows_of(f->a, NULL, "edge1"), "203.0.113.0/24 edge1 0 pending - 1;");
	/* a failure is kept with its code; desiring again retries it */
	r.state = "failed";
	r.failure_reason = "bird-verify-failed";
	assert_int_equal(store_site_record(f->a, &r, "a", 1004, &f->e), 0);
	assert_string_equal(rows_of(f->a, NULL, "edge1"),
	    "203.0.113.0/24 edge1 0 failed bird-verify-failed 1;");
	assert_int_equal(store_site_desire(f->b, &p, "edge1", false, 1005, &f->e), 0);
	assert_string_equal(rows_of(f->a, NULL, "edge1"), "203.0.113.0/24 edge1 0 pending - 1;");
	assert_int_equal(store_site_forget(f->a, &p, &f->e), 0);
	assert_string_equal(rows_of(f->b, NULL, NULL), "");
}

/* store_site_desire_many: the pairs of one request at once (one statement on PostgreSQL),
 * the same rules as one by one; a pair given twice counts once. */
static void
test_desire_many(void **state)
{
	struct fx *f = *state;
	struct cidr c[4] = { C("203.0.113.0/24"), C("198.51.100.0/24"), C("203.0.113.0/24"),
	    C("203.0.113.0/24") };
	const char *site[4] = { "edge1", "edge1", "edge2", "edge1" };
	struct store_lease l;
	struct store_site_row r = { .cidr = c[0], .site = "edge1", .state = "advertised",
	    .last_change = 1001, .epoch = 1 };

	assert_int_equal(store_site_desire_many(f->a, c, site, 4, true, 1000, &f->e), 0);
	assert_string_equal(rows_of(f->b, NULL, NULL), "198.51.100.0/24 edge1 1 pending - 0;"
	    "203.0.113.0/24 edge1 1 pending - 0;203.0.113.0/24 edge2 1 pending - 0;");
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 1000, 6, &l, &f->e), 0);
	assert_int_equal(store_site_record(f->a, &r, "a", 1001, &f->e), 0);
	/* the same desire keeps advertised; a changed one makes every named pair pending */
	assert_int_equal(store_site_desire_many(f->b, c, site, 2, true, 1002, &f->e), 0);
	assert_string_equal(rows_of(f->a, "203.0.113.0/24", "edge1"),
	    "203.0.113.0/24 edge1 1 advertised - 1;");
	assert_int_equal(store_site_desire_many(f->b, c, site, 3, false, 1003, &f->e), 0);
	assert_string_equal(rows_of(f->a, NULL, NULL), "198.51.100.0/24 edge1 0 pending - 0;"
	    "203.0.113.0/24 edge1 0 pending - 1;203.0.113.0/24 edge2 0 pending - 0;");
	assert_int_equal(store_site_desire_many(f->b, c, site, 0, true, 1004, &f->e), 0);
}

static int
evidence_cb(void *arg, const struct store_site_row *r, struct err *e)
{
	(void)e;
	snprintf(arg, 256, "%s", r->evidence ? r->evidence : "(null)");
	return 0;
}

/* store_site_record_many: an operation's results in one call (one statement on PostgreSQL):
 * the lease checked once, all rows or none, one site and one epoch per call; a CIDR given
 * twice keeps its last row; evidence with quotes and backslashes comes back as it went in. */
static void
test_record_many(void **state)
{
	struct fx *f = *state;
	struct store_lease l;
	struct cidr a = C("203.0.113.0/24"), b = C("198.51.100.0/24");
	const char *ev = "{\"code\":\"bird-verify-failed\",\"message\":\"a \\\"quoted\\\" \\\\ path\"}";
	struct store_site_row r[3] = {
		{ .cidr = a, .site = "edge1", .state = "withdrawn", .last_change = 10, .epoch = 1 },
		{ .cidr = b, .site = "edge1", .state = "failed", .last_change = 10, .epoch = 1,
		  .failure_reason = "bird-verify-failed", .evidence = ev },
		{ .cidr = a, .site = "edge1", .state = "advertised", .last_change = 11, .epoch = 1 },
	};
	char got[256];

	assert_int_equal(store_site_record_many(f->a, r, 3, "a", 10, &f->e), -1);
	assert_string_equal(f->e.code, "lease-lost");
	assert_string_equal(rows_of(f->b, NULL, NULL), "");
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 10, 6, &l, &f->e), 0);
	r[1].site = "edge2";
	assert_int_equal(store_site_record_many(f->a, r, 3, "a", 10, &f->e), -1);
	assert_string_equal(f->e.code, "invalid");
	assert_string_equal(rows_of(f->b, NULL, NULL), "");
	r[1].site = "edge1";
	r[2].epoch = 2;
	assert_int_equal(store_site_record_many(f->a, r, 3, "a", 10, &f->e), -1);
	assert_string_equal(f->e.code, "invalid");
	r[2].epoch = 1;
	assert_int_equal(store_site_record_many(f->a, r, 0, "a", 10, &f->e), 0);
	assert_int_equal(store_site_record_many(f->a, r, 3, "a", 10, &f->e), 0);
	assert_string_equal(rows_of(f->b, NULL, NULL), "198.51.100.0/24 edge1 0 failed "
	    "bird-verify-failed 1;203.0.113.0/24 edge1 0 advertised - 1;");
	assert_int_equal(store_site_load(f->b, &b, "edge1", evidence_cb, got, &f->e), 0);
	assert_string_equal(got, ev);
	assert_int_equal(store_site_load(f->b, &a, "edge1", evidence_cb, got, &f->e), 0);
	assert_string_equal(got, "(null)");
	/* another holder now: nothing of the call is written */
	assert_int_equal(store_lease_acquire(f->b, "edge1", "b", 100, 6, &l, &f->e), 0);
	r[0].state = "withdrawn";
	r[2].state = "withdrawn";
	assert_int_equal(store_site_record_many(f->a, r, 3, "a", 101, &f->e), -1);
	assert_string_equal(f->e.code, "lease-lost");
	assert_string_equal(rows_of(f->b, "203.0.113.0/24", NULL),
	    "203.0.113.0/24 edge1 0 advertised - 1;");
}

static void
test_lease_standby_takeover_and_fencing(void **state)
{
	struct fx *f = *state;
	struct cidr p = C("2001:db8::/48");
	struct store_lease la, lb;
	struct store_site_row r = { .cidr = p, .site = "edge1", .state = "advertised",
	    .last_change = 100 };

	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 100, 6, &la, &f->e), 0);
	/* b is a standby while a's lease runs, and learns who holds it */
	assert_int_equal(store_lease_acquire(f->b, "edge1", "b", 103, 6, &lb, &f->e), 1);
	assert_string_equal(lb.holder, "a");
	assert_int_equal(lb.epoch, la.epoch);
	/* a renews: same epoch, later expiry */
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 104, 6, &la, &f->e), 0);
	assert_int_equal(la.epoch, 1);
	assert_int_equal(la.expires, 110);
	assert_int_equal(store_lease_acquire(f->b, "edge1", "b", 109, 6, &lb, &f->e), 1);
	/* a stops renewing (SIGSTOP): at expiry b takes it with a new epoch */
	assert_int_equal(store_lease_acquire(f->b, "edge1", "b", 110, 6, &lb, &f->e), 0);
	assert_int_equal(lb.epoch, 2);
	r.epoch = 2;
	assert_int_equal(store_site_record(f->b, &r, "b", 111, &f->e), 0);
	/* a wakes up (SIGCONT): its result under epoch 1 is not recorded, b's stays */
	r.epoch = 1;
	r.state = "withdrawn";
	assert_int_equal(store_site_record(f->a, &r, "a", 111, &f->e), -1);
	assert_string_equal(f->e.code, "lease-lost");
	assert_non_null(strstr(f->e.msg, "the lease is b's (epoch 2)"));
	assert_string_equal(rows_of(f->a, NULL, NULL), "2001:db8::/48 edge1 0 advertised - 2;");
	/* and a cannot take it back while b renews */
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 112, 6, &la, &f->e), 1);
	assert_string_equal(la.holder, "b");
	/* an expired lease fences its own holder too */
	r.epoch = 2;
	assert_int_equal(store_site_record(f->b, &r, "b", 116, &f->e), -1);
	assert_non_null(strstr(f->e.msg, "expired"));
	/* release hands over at once */
	assert_int_equal(store_lease_release(f->b, "edge1", "b", &f->e), 0);
	assert_int_equal(store_lease_acquire(f->a, "edge1", "a", 113, 6, &la, &f->e), 0);
	assert_int_equal(la.epoch, 3);
	assert_int_equal(store_lease_get(f->b, "edge1", &lb, &f->e), 0);
	assert_string_equal(lb.holder, "a");
	assert_int_equal(store_lease_get(f->b, "nowhere", &lb, &f->e), 1);
	/* leases are per site */
	assert_int_equal(store_lease_acquire(f->b, "edge2", "b", 113, 6, &lb, &f->e), 0);
	assert_int_equal(lb.epoch, 1);
	/* every site the store knows, in site order (--all-sites), bounded by the caller */
	struct store_lease all[4];
	size_t n;

	assert_int_equal(store_lease_list(f->a, all, 4, &n, &f->e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].site, "edge1");
	assert_string_equal(all[0].holder, "a");
	assert_int_equal(all[0].epoch, 3);
	assert_string_equal(all[1].site, "edge2");
	assert_int_equal(all[1].expires, 119);
	assert_int_equal(store_lease_list(f->a, all, 1, &n, &f->e), 0);
	assert_int_equal(n, 1);
}

static void
test_breaker_counts_across_instances_and_stays_open(void **state)
{
	struct fx *f = *state;
	struct cidr p = C("198.51.100.0/24");
	int64_t open_since, n;

	/* limit 0: off, nothing recorded */
	assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 500, 0, &f->e), 0);
	assert_int_equal(store_breaker_get(f->a, 500, &open_since, &n, &f->e), 0);
	assert_int_equal(n, 0);
	/* 3 per minute, from two instances */
	assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 500, 3, &f->e), 0);
	assert_int_equal(store_withdraw_admit(f->b, &p, "edge2", 501, 3, &f->e), 0);
	assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 502, 3, &f->e), 0);
	assert_int_equal(store_withdraw_admit(f->b, &p, "edge2", 503, 3, &f->e), -1);
	assert_string_equal(f->e.code, "circuit-open");
	assert_int_equal(store_breaker_get(f->a, 503, &open_since, &n, &f->e), 0);
	assert_int_equal(open_since, 503);
	assert_int_equal(n, 3);
	/* open until reset, even a minute later, on every instance */
	assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 700, 3, &f->e), -1);
	assert_string_equal(f->e.code, "circuit-open");
	/* inside a caller's batch that goes on: the opening is kept, the batch is intact */
	assert_int_equal(store_breaker_reset(f->b, &f->e), 0);
	assert_int_equal(store_breaker_get(f->a, 701, &open_since, &n, &f->e), 0);
	assert_int_equal(open_since, 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_begin(f->a, &f->e), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 702, 3, &f->e), 0);
	assert_int_equal(store_withdraw_admit(f->a, &p, "edge1", 702, 3, &f->e), -1);
	assert_int_equal(store_commit(f->a, &f->e), 0);
	assert_int_equal(store_breaker_get(f->b, 702, &open_since, &n, &f->e), 0);
	assert_int_equal(open_since, 702);
	assert_int_equal(n, 3);
	assert_int_equal(store_breaker_reset(f->a, &f->e), 0);
}

struct doc_changes {
	char key[4][16];
	bool sited[4];
	int n;
};

static int
doc_change(void *arg, const struct store_change *c, struct err *e)
{
	struct doc_changes *d = arg;

	(void)e;
	if (c->table == STORE_DOC && c->doc_key != NULL && d->n < 4) {
		snprintf(d->key[d->n], sizeof(d->key[0]), "%s", c->doc_key);
		d->sited[d->n++] = c->sited;
	}
	return 0;
}

static int
doc_count(void *arg, const char *key, const char *doc, struct err *e)
{
	(void)key;
	(void)doc;
	(void)e;
	++*(int *)arg;
	return 0;
}

/* A document put by store_doc_put_sited (a routing state at the writer's site) reaches the
 * other instance's change feed marked sited, a plain put unmarked; both are stored. */
static void
test_sited_doc_put_is_marked_in_the_feed(void **state)
{
	struct fx *f = *state;
	struct doc_changes d = { .n = 0 };
	uint64_t seq, last;
	int n = 0;

	assert_int_equal(store_feed_sync(f->b, &seq, &f->e), 0);
	assert_int_equal(store_begin(f->a, &f->e), 0);
	assert_int_equal(store_doc_put(f->a, "sitedtest", "plain", "{}", &f->e), 0);
	assert_int_equal(store_doc_put_sited(f->a, "sitedtest", "sited", "{}", &f->e), 0);
	assert_int_equal(store_commit(f->a, &f->e), 0);
	assert_int_equal(store_doc_put(f->a, "sitedtest", "later", "{}", &f->e), 0);
	assert_int_equal(store_doc_load(f->b, "sitedtest", doc_count, &n, &f->e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_changes_after(f->b, seq, doc_change, &d, &last, &f->e), 0);
	if (!store_has_feed(f->b)) {
		assert_int_equal(d.n, 0);       /* SQLite: one instance, no feed */
		return;
	}
	assert_int_equal(d.n, 3);
	assert_string_equal(d.key[0], "plain");
	assert_false(d.sited[0]);
	assert_string_equal(d.key[1], "sited");
	assert_true(d.sited[1]);
	assert_string_equal(d.key[2], "later");       /* the mark ends with the call */
	assert_false(d.sited[2]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_desire_sets_pending_and_record_needs_the_lease,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_desire_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sited_doc_put_is_marked_in_the_feed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease_standby_takeover_and_fencing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_breaker_counts_across_instances_and_stays_open,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
