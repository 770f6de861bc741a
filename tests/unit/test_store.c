/*
 * test_store — the SQLite store and its use by ipam: schema and pragmas, rebuild from the
 * store, stable ids, the store's own UNIQUE constraints, nested transactions (group commit),
 * refused mutations writing nothing, and the history query by overlapping range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "ipam.h"
#include "store.h"
#include "unit_sqlite.h"

struct fx {
	char dir[64];
	char path[96];
	struct store *st;
	struct ipam *m;
	struct err e;
};

static struct ipam_actor who = { "alice", "admin", "req-7" };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	f->m = ipam_new(f->st);
	assert_int_equal(ipam_load(f->m, &f->e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ipam_free(f->m);
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Closes and reopens the store and rebuilds the model from it. */
static void
restart(struct fx *f)
{
	ipam_free(f->m);
	store_close(f->st);
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	f->m = ipam_new(f->st);
	if (ipam_load(f->m, &f->e) != 0)
		fail_msg("load: %s %s", f->e.code, f->e.msg);
}

static struct cidr
C(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c, NULL) != 0)
		fail_msg("bad CIDR %s", s);
	return c;
}

static struct ipam_pool *
mkpool(struct fx *f, const char *name, const char *cidr)
{
	struct ipam_pool_spec s;
	struct ipam_pool *p;
	struct cidr c = C(cidr);

	memset(&s, 0, sizeof(s));
	s.name = name;
	s.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
	s.family = c.family;
	s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
	s.alarm_at = -1;
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &p, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, p, &c, -1, NULL, &f->e), 0);
	return p;
}

static struct ipam_alloc *
alloc(struct fx *f, struct ipam_pool *p, int netmask, const char *token)
{
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;

	memset(&q, 0, sizeof(q));
	q.netmask = netmask;
	q.token = token;
	if (ipam_allocate(f->m, &who, p, &q, &r, &f->e) != 0)
		fail_msg("allocate: %s %s", f->e.code, f->e.msg);
	return r.alloc;
}

static void
test_store_uses_wal_and_current_schema(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_int_equal(unit_sql_int(f->path, "SELECT max(version) FROM schema_version"),
	    store_sqlite_schema_version());
}

static void
test_reopen_does_not_rerun_migrations(void **state)
{
	struct fx *f = *state;

	restart(f);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM schema_version"),
	    store_sqlite_schema_version());
}

/*
 * store_batch_defer / store_batch_fail (store.h): a caller that writes at the batch's level
 * and sees one write fail marks the batch; the outer COMMIT then rolls back and fails, so no
 * item is left half written, and the next transaction is a normal one again.
 */
static void
test_failed_deferred_batch_commits_nothing(void **state)
{
	struct fx *f = *state;
	int64_t v = 0;

	assert_int_equal(store_begin(f->st, &f->e), 0);
	store_batch_defer(f->st, true);
	assert_true(store_batch_deferred(f->st));
	assert_int_equal(store_counter_put(f->st, "batch-a", 1, &f->e), 0);
	store_batch_fail(f->st);                /* the next item's write failed */
	assert_int_equal(store_commit(f->st, &f->e), -1);
	assert_string_equal(f->e.code, "store-failed");
	assert_false(store_in_txn(f->st));
	assert_false(store_batch_deferred(f->st));
	assert_int_equal(store_counter_get(f->st, "batch-a", &v, &f->e), 0);
	assert_int_equal(v, 0);
	/* the next batch is not marked: it commits */
	assert_int_equal(store_begin(f->st, &f->e), 0);
	assert_int_equal(store_counter_put(f->st, "batch-b", 2, &f->e), 0);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	assert_int_equal(store_counter_get(f->st, "batch-b", &v, &f->e), 0);
	assert_int_equal(v, 2);
	/* outside a transaction neither mode sticks */
	store_batch_defer(f->st, true);
	store_batch_fail(f->st);
	assert_false(store_batch_deferred(f->st));
	restart(f);
	assert_int_equal(store_counter_get(f->st, "batch-a", &v, &f->e), 0);
	assert_int_equal(v, 0);
}

static void
test_default_scopes_are_created_once(void **state)
{
	struct fx *f = *state;

	restart(f);
	restart(f);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM scopes"), 2);
}

static void
test_model_is_rebuilt_from_store_with_stable_ids(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	struct ipam_alloc *a = alloc(f, p, 24, NULL), *b = alloc(f, p, 26, "tok");
	uint64_t ida = a->id, idb = b->id;
	struct cidr ca = a->cidr, cb = b->cidr;
	struct ipam_util u;

	restart(f);
	p = ipam_pool_find(f->m, "p");
	assert_non_null(p);
	a = ipam_alloc_find(f->m, ida);
	b = ipam_alloc_find(f->m, idb);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(cidr_equal(&a->cidr, &ca));
	assert_true(cidr_equal(&b->cidr, &cb));
	assert_string_equal(ipam_alloc_token(b), "tok");
	ipam_pool_util(p, &u);
	assert_true(u.allocated == 256 + 64);
	/* the next id continues after the loaded ones */
	assert_true(alloc(f, p, 24, NULL)->id > idb);
}

static void
test_released_id_is_not_issued_again_after_restart(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	uint64_t id = alloc(f, p, 24, NULL)->id;

	assert_int_equal(ipam_release(f->m, &who, id, &f->e), 0);
	restart(f);
	p = ipam_pool_find(f->m, "p");
	assert_true(alloc(f, p, 24, NULL)->id > id);
}

static void
test_token_replay_survives_restart(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	uint64_t id = alloc(f, p, 24, "retry-me")->id;
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;

	restart(f);
	p = ipam_pool_find(f->m, "p");
	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	q.token = "retry-me";
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), 0);
	assert_true(r.replayed);
	assert_int_equal(r.alloc->id, id);
}

static void
test_refused_allocation_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24");
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	long events = unit_sql_int(f->path, "SELECT count(*) FROM events");

	memset(&q, 0, sizeof(q));
	q.netmask = 23;
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), -1);
	assert_string_equal(f->e.code, "pool-exhausted");
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM allocations"), 0);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM events"), events);
}

static void
test_child_pools_survive_restart(void **state)
{
	struct fx *f = *state;
	struct ipam_pool_spec s;
	struct ipam_pool *p = mkpool(f, "p6", "2001:db8::/32"), *c;
	struct cidr got;

	memset(&s, 0, sizeof(s));
	s.name = "c6";
	s.parent = "p6";
	s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
	s.alarm_at = -1;
	assert_int_equal(ipam_pool_create(f->m, &who, &s, &c, &f->e), 0);
	assert_int_equal(ipam_provision(f->m, &who, c, NULL, 40, &got, &f->e), 0);
	alloc(f, c, 48, NULL);
	restart(f);
	p = ipam_pool_find(f->m, "p6");
	c = ipam_pool_find(f->m, "c6");
	assert_ptr_equal(c->parent, p);
	assert_ptr_equal(ipam_alloc_child(ipam_alloc_find_cidr(p, &got)), c);
	/* deletion protection still holds after the restart */
	assert_int_equal(ipam_deprovision(f->m, &who, c, &got, &f->e), -1);
	assert_string_equal(f->e.code, "in-use");
}

static void
test_store_refuses_duplicate_start_in_pool(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	struct ipam_alloc *a = alloc(f, p, 24, NULL);
	struct store_alloc row;

	memset(&row, 0, sizeof(row));
	row.id = 9999;
	row.pool_id = p->id;
	row.cidr = a->cidr;         /* a bug in the index would try exactly this */
	assert_int_equal(store_alloc_put(f->st, &row, &f->e), -1);
	assert_string_equal(f->e.code, "exists");
}

static void
test_store_refuses_duplicate_token_in_pool(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	struct store_alloc row;

	alloc(f, p, 24, "once");
	memset(&row, 0, sizeof(row));
	row.id = 9999;
	row.pool_id = p->id;
	row.cidr = C("10.0.200.0/24");
	row.token = "once";
	assert_int_equal(store_alloc_put(f->st, &row, &f->e), -1);
	assert_string_equal(f->e.code, "exists");
}

static void
test_group_commit_keeps_batch_when_one_request_is_refused(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24");
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;

	assert_int_equal(store_begin(f->st, &f->e), 0);
	alloc(f, p, 25, NULL);
	memset(&q, 0, sizeof(q));
	q.netmask = 24;                 /* refused: exhausted */
	assert_int_equal(ipam_allocate(f->m, &who, p, &q, &r, &f->e), -1);
	alloc(f, p, 26, NULL);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	assert_false(store_in_txn(f->st));
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM allocations"), 2);
}

static void
test_rolled_back_batch_is_recovered_by_load(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/24");

	assert_int_equal(store_begin(f->st, &f->e), 0);
	alloc(f, p, 25, NULL);
	assert_int_equal(store_rollback(f->st, &f->e), 0);    /* as if COMMIT had failed */
	assert_int_equal(ipam_load(f->m, &f->e), 0);
	assert_int_equal(ipam_alloc_count(f->m), 0);
	p = ipam_pool_find(f->m, "p");
	assert_non_null(alloc(f, p, 24, NULL));
}

struct seen {
	int n;
	char actions[8][32];
};

static int
seen_cb(void *arg, const struct store_event *ev)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->actions[s->n], sizeof(s->actions[0]), "%s", ev->action);
	s->n++;
	return 0;
}

static void
test_history_finds_events_of_overlapping_cidrs(void **state)
{
	struct fx *f = *state;
	struct ipam_pool *p = mkpool(f, "p", "10.0.0.0/16");
	struct ipam_alloc *a = alloc(f, p, 24, NULL);
	struct cidr q1 = a->cidr, q2 = C("10.0.0.128/25"), q3 = C("10.0.9.0/24");
	struct seen s;

	assert_int_equal(ipam_release(f->m, &who, a->id, &f->e), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_events_query(f->st, &q1, 0, INT64_MAX, seen_cb, &s, &f->e), 0);
	assert_int_equal(s.n, 3);       /* provision of the /16, allocate, release */
	assert_string_equal(s.actions[0], "provision");
	assert_string_equal(s.actions[1], "allocate");
	assert_string_equal(s.actions[2], "release");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_events_query(f->st, &q2, 0, INT64_MAX, seen_cb, &s, &f->e), 0);
	assert_int_equal(s.n, 3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_events_query(f->st, &q3, 0, INT64_MAX, seen_cb, &s, &f->e), 0);
	assert_int_equal(s.n, 1);       /* only the /16 provision covers it */
}

static void
test_history_honours_since_and_until(void **state)
{
	struct fx *f = *state;
	struct cidr c = C("10.0.0.0/24");
	struct seen s;

	mkpool(f, "p", "10.0.0.0/16");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_events_query(f->st, &c, 0, 1, seen_cb, &s, &f->e), 0);
	assert_int_equal(s.n, 0);
}

static void
test_events_carry_actor_and_request_id(void **state)
{
	struct fx *f = *state;

	mkpool(f, "p", "10.0.0.0/16");
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM events WHERE actor = 'alice' "
	    "AND role = 'admin' AND request_id = 'req-7' AND action = 'provision'"), 1);
}

static void
test_integrity_check_passes_on_fresh_store(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_check(f->st, &f->e), 0);
}

static void
test_open_refuses_unwritable_path(void **state)
{
	struct store *st;
	struct err e;

	(void)state;
	assert_int_equal(store_sqlite_open("/nonexistent-dir/x.db", &st, &e), -1);
	assert_string_equal(e.code, "store-failed");
	assert_non_null(strstr(e.msg, "/nonexistent-dir/x.db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_store_uses_wal_and_current_schema),
		T(test_reopen_does_not_rerun_migrations),
		T(test_default_scopes_are_created_once),
		T(test_failed_deferred_batch_commits_nothing),
		T(test_model_is_rebuilt_from_store_with_stable_ids),
		T(test_released_id_is_not_issued_again_after_restart),
		T(test_token_replay_survives_restart),
		T(test_refused_allocation_writes_nothing),
		T(test_child_pools_survive_restart),
		T(test_store_refuses_duplicate_start_in_pool),
		T(test_store_refuses_duplicate_token_in_pool),
		T(test_group_commit_keeps_batch_when_one_request_is_refused),
		T(test_rolled_back_batch_is_recovered_by_load),
		T(test_history_finds_events_of_overlapping_cidrs),
		T(test_history_honours_since_and_until),
		T(test_events_carry_actor_and_request_id),
		T(test_integrity_check_passes_on_fresh_store),
		cmocka_unit_test(test_open_refuses_unwritable_path),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
