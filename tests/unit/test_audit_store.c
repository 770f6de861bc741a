/*
 * test_audit_store — the audit chain as the SQLite store keeps it (store.h "Audit chain"):
 * the canonical form, sealing on append, verification naming the first broken event (edit,
 * deletion, forged row, truncated tail), the head across savepoint rollbacks, a failed
 * transaction and a reopen, the feed (events_after), sealing of a store written before the
 * chain existed, schema 5's hex hashes migrating to BLOBs, history against a brute-force
 * model of overlap, and PREFIXD_AUDIT=off.
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
#include <sqlite3.h>

#include "audit.h"
#include "store.h"
#include "unit_sqlite.h"

struct fx {
	char dir[64];
	char path[96];
	struct store *st;
	struct err e;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	unsetenv("PREFIXD_AUDIT");
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_audit_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("PREFIXD_AUDIT");
	free(f);
	return 0;
}

/* Appends one event in its own transaction; returns its id. */
static uint64_t
append(struct fx *f, const char *action, const char *after)
{
	struct store_event ev = { 0 };

	ev.time = 1700000000;
	ev.actor = "uid:0";
	ev.role = "admin";
	ev.request_id = "req-1";
	ev.action = action;
	ev.object_kind = "allocation";
	ev.has_cidr = true;
	assert_int_equal(cidr_parse("10.0.0.0/24", &ev.cidr, &f->e), 0);
	ev.after = after;
	assert_int_equal(store_begin(f->st, &f->e), 0);
	assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	return ev.id;
}

/* Runs SQL on the file behind the store's back (as the sqlite3 CLI would). */
static void
tamper(struct fx *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int
verify(struct fx *f, uint64_t *count)
{
	struct audit_verifier v;
	int rc;

	err_clear(&f->e);
	rc = store_audit_verify(f->st, &v, &f->e);
	if (count != NULL)
		*count = v.count;
	return rc;
}

static void
test_event_canonical_equals_sorted_compact_json(void **state)
{
	struct store_event ev = { 0 };
	json_t *j;
	char *a, *b;

	(void)state;
	ev.id = 42;
	ev.time = -5;
	ev.actor = "token:ci \"x\" \\ \n\t\b\f\r\001\037/";
	ev.action = "release";
	ev.before = "{\"cidr\":\"10.0.0.0/24\"}";
	ev.has_cidr = true;
	assert_int_equal(cidr_parse("2001:db8::/48", &ev.cidr, NULL), 0);
	a = audit_event_canonical(&ev);
	j = audit_event_json(&ev);
	b = audit_canonical(j);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(j);
}

static void
test_append_seals_consecutive_ids_and_verify_passes(void **state)
{
	struct fx *f = *state;
	uint64_t n = 0, head_id;
	char head[AUDIT_HASH_HEXLEN + 1];

	for (int i = 1; i <= 5; i++)
		assert_int_equal(append(f, "allocate", "{}"), (uint64_t)i);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_event_head(f->st, &head_id, head, &f->e), 0);
	assert_int_equal(head_id, 5);
	assert_int_equal(strlen(head), AUDIT_HASH_HEXLEN);
}

static void
test_verify_names_an_edited_event(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		append(f, "allocate", "{\"id\":1}");
	tamper(f, "UPDATE events SET after = '{\"id\":2}' WHERE id = 3");
	assert_int_equal(verify(f, NULL), -1);
	assert_string_equal(f->e.code, "audit-broken");
	assert_non_null(strstr(f->e.msg, "event 3 does not match"));
}

static void
test_verify_names_a_deleted_event(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		append(f, "allocate", NULL);
	tamper(f, "DELETE FROM events WHERE id = 2");
	assert_int_equal(verify(f, NULL), -1);
	assert_non_null(strstr(f->e.msg, "event 2 is missing"));
}

static void
test_verify_names_a_truncated_tail(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		append(f, "allocate", NULL);
	tamper(f, "DELETE FROM events WHERE id = 4");
	assert_int_equal(verify(f, NULL), -1);
	assert_non_null(strstr(f->e.msg, "event 4 is missing"));
}

static void
test_append_after_a_deleted_tail_leaves_the_gap_visible(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", NULL);
	tamper(f, "DELETE FROM events WHERE id = 3");
	assert_int_equal(append(f, "release", NULL), 4);
	assert_int_equal(verify(f, NULL), -1);
	assert_non_null(strstr(f->e.msg, "event 3 is missing"));
}

static void
test_verify_names_an_event_with_a_changed_actor(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", NULL);
	tamper(f, "UPDATE events SET actor = 'uid:1000' WHERE id = 2");
	assert_int_equal(verify(f, NULL), -1);
	assert_non_null(strstr(f->e.msg, "event 2 does not match"));
}

static void
test_rolled_back_savepoint_does_not_break_the_chain(void **state)
{
	struct fx *f = *state;
	struct store_event ev = { .time = 1, .action = "allocate" };
	uint64_t n;

	append(f, "allocate", NULL);
	assert_int_equal(store_begin(f->st, &f->e), 0);             /* batch */
	assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);        /* id 2 */
	assert_int_equal(store_begin(f->st, &f->e), 0);             /* a refused mutation */
	assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);        /* id 3, undone */
	assert_int_equal(ev.id, 3);
	assert_int_equal(store_rollback(f->st, &f->e), 0);
	assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);
	assert_int_equal(ev.id, 3);                                 /* reused: no gap */
	assert_int_equal(store_commit(f->st, &f->e), 0);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 3);
}

static void
test_rolled_back_batch_restores_the_head(void **state)
{
	struct fx *f = *state;
	struct store_event ev = { .time = 1, .action = "allocate" };
	uint64_t n;

	append(f, "allocate", NULL);
	assert_int_equal(store_begin(f->st, &f->e), 0);
	assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);
	assert_int_equal(store_rollback(f->st, &f->e), 0);
	assert_int_equal(append(f, "release", NULL), 2);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_chain_continues_after_reopen(void **state)
{
	struct fx *f = *state;

	append(f, "allocate", NULL);
	append(f, "allocate", NULL);
	store_close(f->st);
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(append(f, "release", NULL), 3);
	assert_int_equal(verify(f, NULL), 0);
}

static int
collect(void *arg, const struct store_event *ev)
{
	uint64_t *ids = arg;

	ids[++ids[0]] = ev->id;
	return ev->hash != NULL && strlen(ev->hash) == AUDIT_HASH_HEXLEN ? 0 : -1;
}

static void
test_events_after_streams_newer_events_with_limit(void **state)
{
	struct fx *f = *state;
	uint64_t ids[8] = { 0 };

	for (int i = 0; i < 5; i++)
		append(f, "allocate", NULL);
	assert_int_equal(store_events_after(f->st, 2, 2, collect, ids, &f->e), 0);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 4);
	ids[0] = 0;
	assert_int_equal(store_events_after(f->st, 5, 10, collect, ids, &f->e), 0);
	assert_int_equal(ids[0], 0);
}

static void
test_store_without_chain_is_sealed_on_open(void **state)
{
	struct fx *f = *state;
	uint64_t n;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", NULL);
	store_close(f->st);
	f->st = NULL;
	/* make it a schema-3 store, as written before the audit chain existed */
	tamper(f, "CREATE TABLE e3(id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	    " actor TEXT, role TEXT, request_id TEXT, action TEXT NOT NULL, object_kind TEXT,"
	    " family INTEGER, start BLOB, last BLOB, len INTEGER, before TEXT, after TEXT,"
	    " evidence TEXT);"
	    "INSERT INTO e3 SELECT id, time, actor, role, request_id, action, object_kind, family,"
	    " start, start, len, before, after, evidence FROM events;"
	    "DROP TABLE events; ALTER TABLE e3 RENAME TO events;"
	    "CREATE INDEX events_range ON events(family, start); DROP TABLE meta;"
	    "DROP TABLE event_ranges; DELETE FROM schema_version WHERE version >= 4");
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(append(f, "release", NULL), 4);
	assert_int_equal(verify(f, &n), 0);
}

/* Turns the store into a schema-5 one (hex TEXT hashes, a "last" column); hash_sql is the
 * expression written for each row's hash (from the BLOB column "hash"). */
static void
make_schema5(struct fx *f, const char *hash_sql)
{
	char sql[1024];

	store_close(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql), "CREATE TABLE e5(id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	    " actor TEXT, role TEXT, request_id TEXT, action TEXT NOT NULL, object_kind TEXT,"
	    " family INTEGER, start BLOB, last BLOB, len INTEGER, before TEXT, after TEXT,"
	    " evidence TEXT, hash TEXT);"
	    "INSERT INTO e5 SELECT id, time, actor, role, request_id, action, object_kind, family,"
	    " start, start, len, before, after, evidence, %s FROM events;"
	    "DROP TABLE events; ALTER TABLE e5 RENAME TO events;"
	    "CREATE INDEX events_range ON events(family, start);"
	    "DROP TABLE event_ranges; DELETE FROM meta WHERE key = 'ranges_upto';"
	    "DELETE FROM schema_version WHERE version >= 6", hash_sql);
	tamper(f, sql);
}

static int
hash_cb(void *arg, const struct store_event *ev)
{
	char (*h)[AUDIT_HASH_HEXLEN + 1] = arg;

	assert_non_null(ev->hash);
	snprintf(h[ev->id - 1], AUDIT_HASH_HEXLEN + 1, "%s", ev->hash);
	return 0;
}

static void
test_schema5_text_hashes_become_blobs_and_still_verify(void **state)
{
	struct fx *f = *state;
	char before[3][AUDIT_HASH_HEXLEN + 1], after[3][AUDIT_HASH_HEXLEN + 1];
	uint64_t n;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", "{\"id\":1}");
	assert_int_equal(store_events_after(f->st, 0, 10, hash_cb, before, &f->e), 0);
	make_schema5(f, "CASE id WHEN 2 THEN upper(hex(hash)) ELSE lower(hex(hash)) END");
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_events_after(f->st, 0, 10, hash_cb, after, &f->e), 0);
	for (int i = 0; i < 3; i++)
		assert_string_equal(before[i], after[i]);
	assert_int_equal(append(f, "release", NULL), 4);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 4);
}

static void
test_schema5_malformed_hash_is_named_after_migration(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", NULL);
	make_schema5(f, "CASE id WHEN 2 THEN 'not-a-hash' ELSE lower(hex(hash)) END");
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(verify(f, NULL), -1);
	assert_string_equal(f->e.code, "audit-broken");
	assert_non_null(strstr(f->e.msg, "event 2 does not match"));
}

/* History (store_events_query, and store_events_page in small pages) against a brute-force
 * model: random v4/v6 prefixes of every length, events without a CIDR among them, random
 * questions; the answer must be exactly the overlapping events, in id order. */
#define HIST_EVENTS 400
#define HIST_QUERIES 400

struct hist_got {
	uint64_t ids[HIST_EVENTS];
	int n;
};

static int
hist_cb(void *arg, const struct store_event *ev)
{
	struct hist_got *g = arg;

	assert_true(g->n < HIST_EVENTS);
	g->ids[g->n++] = ev->id;
	return 0;
}

static struct cidr
hist_random(unsigned *seed)
{
	int fam = rand_r(seed) % 2 ? CIDR_V4 : CIDR_V6;
	unsigned len = (unsigned)rand_r(seed) % (cidr_maxlen(fam) + 1);
	/* few distinct high bits, so that prefixes nest often */
	uint64_t hi = (uint64_t)(rand_r(seed) % 4) << 62 | (uint64_t)(rand_r(seed) % 4) << 56 |
	    (uint64_t)rand_r(seed) << 20 | (uint64_t)(rand_r(seed) % 2) << 8;
	uint64_t lo = fam == CIDR_V6 ? (uint64_t)rand_r(seed) << 32 | (uint64_t)rand_r(seed) : 0;

	return cidr_make(fam, hi, lo, len);
}

static long
nhas(const bool *has)
{
	long n = 0;

	for (int i = 0; i < HIST_EVENTS; i++)
		n += has[i];
	return n;
}

static void
test_history_returns_exactly_the_overlapping_events(void **state)
{
	struct fx *f = *state;
	static struct cidr cidrs[HIST_EVENTS];
	static bool has[HIST_EVENTS];
	unsigned seed = (unsigned)time(NULL);
	struct hist_got got;
	struct store_event_page pg;
	uint64_t want[HIST_EVENTS];
	int nwant;

	if (getenv("PREFIXD_SEED") != NULL)
		seed = (unsigned)strtoul(getenv("PREFIXD_SEED"), NULL, 10);
	printf("test_history_returns_exactly_the_overlapping_events: PREFIXD_SEED=%u\n", seed);
	assert_int_equal(store_begin(f->st, &f->e), 0);
	for (int i = 0; i < HIST_EVENTS; i++) {
		struct store_event ev = { 0 };

		if (i == HIST_EVENTS / 2)   /* the first half indexed, the rest a tail to scan */
			assert_int_equal(store_events_index(f->st, &f->e), 0);

		ev.time = 1700000000;
		ev.action = "allocate";
		ev.has_cidr = has[i] = rand_r(&seed) % 10 != 0;
		ev.cidr = cidrs[i] = hist_random(&seed);
		assert_int_equal(store_event_append(f->st, &ev, &f->e), 0);
		assert_int_equal(ev.id, (uint64_t)i + 1);
	}
	assert_int_equal(store_commit(f->st, &f->e), 0);
	for (int k = 0; k < HIST_QUERIES; k++) {
		struct cidr q = k < HIST_EVENTS / 2 ? cidrs[k] : hist_random(&seed);

		nwant = 0;
		for (int i = 0; i < HIST_EVENTS; i++)
			if (has[i] && cidr_overlaps(&cidrs[i], &q))
				want[nwant++] = (uint64_t)i + 1;
		if (k == HIST_QUERIES / 2)  /* now all indexed */
			assert_int_equal(store_events_index(f->st, &f->e), 0);
		got.n = 0;
		assert_int_equal(store_events_query(f->st, &q, 0, INT64_MAX, hist_cb, &got, &f->e),
		    0);
		assert_int_equal(got.n, nwant);
		for (int i = 0; i < nwant; i++)
			assert_int_equal(got.ids[i], want[i]);
		/* the same a page of 1..5 at a time (issue 15): each event once, in order */
		got.n = 0;
		pg = (struct store_event_page){ &q, 0, INT64_MAX, 0, 1 + (unsigned)k % 5, 0 };
		do {
			assert_int_equal(store_events_page(f->st, &pg, hist_cb, &got, &f->e), 0);
			pg.after = pg.next;
		} while (pg.next != 0);
		assert_int_equal(got.n, nwant);
		for (int i = 0; i < nwant; i++)
			assert_int_equal(got.ids[i], want[i]);
	}
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM event_ranges"), nhas(has));
	assert_int_equal(unit_sql_int(f->path, "SELECT value FROM meta WHERE key = 'ranges_upto'"),
	    HIST_EVENTS);
}

/* Migration 7 indexes the events of an older store; the index then follows new events only
 * when asked (store_events_index), and history finds both. */
static void
test_schema6_events_are_indexed_by_migration_7(void **state)
{
	struct fx *f = *state;
	struct hist_got got = { .n = 0 };
	struct cidr q;

	for (int i = 0; i < 3; i++)
		append(f, "allocate", NULL);
	make_schema5(f, "lower(hex(hash))");        /* 5 and 6 differ only in the events row */
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM event_ranges"), 3);
	assert_int_equal(unit_sql_int(f->path, "SELECT value FROM meta WHERE key = 'ranges_upto'"), 3);
	assert_int_equal(append(f, "release", NULL), 4);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM event_ranges"), 3);
	assert_int_equal(cidr_parse("10.0.0.0/25", &q, &f->e), 0);
	assert_int_equal(store_events_query(f->st, &q, 0, INT64_MAX, hist_cb, &got, &f->e), 0);
	assert_int_equal(got.n, 4);                 /* three indexed, one from the tail */
	assert_int_equal(got.ids[3], 4);
	assert_int_equal(store_events_index(f->st, &f->e), 0);
	assert_int_equal(unit_sql_int(f->path, "SELECT count(*) FROM event_ranges"), 4);
	assert_int_equal(store_events_index(f->st, &f->e), 0);     /* nothing new: no-op */
	assert_int_equal(unit_sql_int(f->path, "SELECT value FROM meta WHERE key = 'ranges_upto'"), 4);
	got.n = 0;
	assert_int_equal(store_events_query(f->st, &q, 0, INT64_MAX, hist_cb, &got, &f->e), 0);
	assert_int_equal(got.n, 4);
}

static void
test_audit_off_writes_no_event(void **state)
{
	struct fx *f = *state;
	uint64_t n = 1;

	store_close(f->st);
	setenv("PREFIXD_AUDIT", "off", 1);
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(append(f, "allocate", NULL), 0);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_canonical_equals_sorted_compact_json),
		cmocka_unit_test_setup_teardown(test_append_seals_consecutive_ids_and_verify_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_an_edited_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_a_deleted_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_a_truncated_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_after_a_deleted_tail_leaves_the_gap_visible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_an_event_with_a_changed_actor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_savepoint_does_not_break_the_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_batch_restores_the_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_continues_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_after_streams_newer_events_with_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_without_chain_is_sealed_on_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema5_text_hashes_become_blobs_and_still_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema5_malformed_hash_is_named_after_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_returns_exactly_the_overlapping_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema6_events_are_indexed_by_migration_7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_off_writes_no_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
