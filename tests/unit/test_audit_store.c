/*
 * test_audit_store — the audit chain as the SQLite store keeps it (store.h "Audit chain"):
 * the canonical form, sealing on append, verification naming the first broken event (edit,
 * deletion, forged row, truncated tail), the head across savepoint rollbacks, a failed
 * transaction and a reopen, the feed (events_after), sealing of a store written before the
 * chain existed, and PREFIXD_AUDIT=off.
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

#include "audit.h"
#include "store.h"

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
	tamper(f, "ALTER TABLE events DROP COLUMN hash; DROP TABLE meta;"
	    "DELETE FROM schema_version WHERE version >= 4");
	assert_int_equal(store_sqlite_open(f->path, &f->st, &f->e), 0);
	assert_int_equal(verify(f, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(append(f, "release", NULL), 4);
	assert_int_equal(verify(f, &n), 0);
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
		cmocka_unit_test_setup_teardown(test_audit_off_writes_no_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
