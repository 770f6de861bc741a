/*
 * store_sqlite — the embedded SQLite backend of store.h: schema and migrations, transactions,
 * the address model's tables, documents, counters, load, check, open, and what copying a
 * whole store needs (every document and counter: store_migrate.c). The event log is in
 * store_sqlite_events.c (shared state in store_sqlite_private.h); the backend-neutral
 * wrappers (store_begin, store_alloc_put, ...) are in store.c.
 *
 * Durability: journal_mode=WAL, synchronous=FULL, so a COMMIT that returned is on disk.
 * Schema: an ordered array of migrations; schema_version holds how many ran. A change of
 * schema appends a migration to the array (never edits a released one). Addresses are stored as
 * 16-byte left-aligned big-endian BLOBs ("start") so SQLite's memcmp ordering is address
 * order and range queries use an index.
 *
 * A store is used by one thread only (the loop thread), so the connection is opened without
 * SQLite's mutexes (SQLITE_OPEN_NOMUTEX).
 *
 * Uniqueness is enforced here as well as in ipam: UNIQUE(pool_id, start) on allocations and
 * provisions, a partial UNIQUE(pool_id, token) index, UNIQUE names.
 */
#include "store_sqlite_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const store_migrations[] = {
	/* 1: the address model and events */
	("CREATE TABLE scopes(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  kind INTEGER NOT NULL);"
	"CREATE TABLE pools(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  scope_id INTEGER NOT NULL, parent_id INTEGER, family INTEGER NOT NULL, locale TEXT,"
	"  description TEXT, default_netmask INTEGER NOT NULL, min_netmask INTEGER NOT NULL,"
	"  max_netmask INTEGER NOT NULL, required_tags TEXT, tags TEXT,"
	"  alarm_at INTEGER NOT NULL, origin_asn INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE provisions(id INTEGER PRIMARY KEY, pool_id INTEGER NOT NULL,"
	"  family INTEGER NOT NULL, start BLOB NOT NULL, len INTEGER NOT NULL,"
	"  alloc_id INTEGER, created INTEGER NOT NULL, UNIQUE(pool_id, start));"
	"CREATE TABLE allocations(id INTEGER PRIMARY KEY, pool_id INTEGER NOT NULL,"
	"  family INTEGER NOT NULL, start BLOB NOT NULL, len INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL, child_pool_id INTEGER, description TEXT, tags TEXT,"
	"  locale TEXT, token TEXT, created INTEGER NOT NULL, UNIQUE(pool_id, start));"
	"CREATE UNIQUE INDEX allocations_token ON allocations(pool_id, token)"
	"  WHERE token IS NOT NULL;"
	"CREATE TABLE resources(id INTEGER PRIMARY KEY, scope_id INTEGER NOT NULL,"
	"  family INTEGER NOT NULL, start BLOB NOT NULL, len INTEGER NOT NULL,"
	"  name TEXT NOT NULL, tags TEXT, created INTEGER NOT NULL);"
	"CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	"  actor TEXT, role TEXT, request_id TEXT, action TEXT NOT NULL, object_kind TEXT,"
	"  family INTEGER, start BLOB, last BLOB, len INTEGER, before TEXT, after TEXT,"
	"  evidence TEXT);"
	"CREATE INDEX events_range ON events(family, start);"),
	/* 2: counters (id reservations) */
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
	/* 3: documents of other modules (public-prefix lifecycle rows) */
	("CREATE TABLE docs(kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
	"  PRIMARY KEY(kind, key));"),
	/* 4: the audit chain (audit.h): each event's hash, the chain head in meta */
	("ALTER TABLE events ADD COLUMN hash TEXT;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"),
	/* 5: events without AUTOINCREMENT: the chain assigns ids (head + 1) and meta keeps the
	 * head, so sqlite_sequence was one more page written by every commit */
	("CREATE TABLE events_v5(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT,"
	"  role TEXT, request_id TEXT, action TEXT NOT NULL, object_kind TEXT, family INTEGER,"
	"  start BLOB, last BLOB, len INTEGER, before TEXT, after TEXT, evidence TEXT, hash TEXT);"
	"INSERT INTO events_v5 SELECT id, time, actor, role, request_id, action, object_kind,"
	"  family, start, last, len, before, after, evidence, hash FROM events;"
	"DROP TABLE events;"
	"ALTER TABLE events_v5 RENAME TO events;"
	"CREATE INDEX events_range ON events(family, start);"),
	/* 6: smaller event rows, because every change pays for its event's bytes in the WAL:
	 * the hash as a 32-byte BLOB (prefixd_unhex, registered at open) and no "last" column
	 * (CIDRs nest, so history finds overlaps from start alone: store_sqlite_events_query) */
	("CREATE TABLE events_v6(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT,"
	"  role TEXT, request_id TEXT, action TEXT NOT NULL, object_kind TEXT, family INTEGER,"
	"  start BLOB, len INTEGER, before TEXT, after TEXT, evidence TEXT, hash BLOB);"
	"INSERT INTO events_v6 SELECT id, time, actor, role, request_id, action, object_kind,"
	"  family, start, len, before, after, evidence, prefixd_unhex(hash) FROM events;"
	"DROP TABLE events;"
	"ALTER TABLE events_v6 RENAME TO events;"
	"CREATE INDEX events_range ON events(family, start);"),
	/* 7: history's address index becomes a table kept up to date in batches
	 * (store_sqlite_events_index), not in every change's commit; meta "ranges_upto" is the
	 * last event id it covers, later events are scanned (store_sqlite_events_query) */
	("DROP INDEX events_range;"
	"CREATE TABLE event_ranges(family INTEGER NOT NULL, start BLOB NOT NULL,"
	"  id INTEGER NOT NULL, PRIMARY KEY(family, start, id)) WITHOUT ROWID;"
	"INSERT INTO event_ranges SELECT family, start, id FROM events WHERE start IS NOT NULL;"
	"INSERT OR REPLACE INTO meta(key, value)"
	"  SELECT 'ranges_upto', coalesce(max(id), 0) FROM events;"),
	/* 8: sites (issue 17): per (prefix, site) desire and state, leases, the breaker */
	store_sqlite_sites_migration,
};
#define STORE_AUDIT_MIGRATION 4

#define STORE_NMIGRATIONS ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

static const char *const store_sql[Q_NQUERIES] = {
	"INSERT INTO scopes(id, name, kind) VALUES(?,?,?)",
	("INSERT INTO pools(id, name, scope_id, parent_id, family, locale, description,"
	" default_netmask, min_netmask, max_netmask, required_tags, tags, alarm_at, origin_asn,"
	" created) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
	("INSERT INTO provisions(id, pool_id, family, start, len, alloc_id, created)"
	" VALUES(?,?,?,?,?,?,?)"),
	("INSERT INTO allocations(id, pool_id, family, start, len, kind, child_pool_id,"
	" description, tags, locale, token, created) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"),
	("INSERT INTO resources(id, scope_id, family, start, len, name, tags, created)"
	" VALUES(?,?,?,?,?,?,?,?)"),
	"DELETE FROM scopes WHERE id = ?",
	"DELETE FROM pools WHERE id = ?",
	"DELETE FROM provisions WHERE id = ?",
	"DELETE FROM allocations WHERE id = ?",
	"DELETE FROM resources WHERE id = ?",
	("INSERT INTO events(time, actor, role, request_id, action, object_kind, family, start,"
	" len, before, after, evidence, id, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
	NULL,   /* Q_EVENT_QUERY: built by store_event_query_sql */
	"SELECT value FROM counters WHERE name = ?",
	("INSERT INTO counters(name, value) VALUES(?, ?)"
	" ON CONFLICT(name) DO UPDATE SET value = excluded.value"),
	("INSERT INTO docs(kind, key, doc) VALUES(?, ?, ?)"
	" ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc"),
	"DELETE FROM docs WHERE kind = ? AND key = ?",
	"SELECT key, doc FROM docs WHERE kind = ? ORDER BY key",
	"SELECT value FROM meta WHERE key = 'audit_head'",
	("INSERT INTO meta(key, value) VALUES('audit_head', ?)"
	" ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
	"SELECT " STORE_EVENT_COLS " FROM events WHERE id > ? ORDER BY id LIMIT ?",
	"SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'ranges_upto'",
	("INSERT INTO meta(key, value) VALUES('ranges_upto', ?)"
	" ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
	"SELECT coalesce(max(id), 0) FROM events",
	("INSERT OR IGNORE INTO event_ranges SELECT family, start, id FROM events"
	" WHERE id > ?1 AND id <= ?2 AND start IS NOT NULL"),
};

int
store_fail(struct store_sqlite *s, struct err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return err_set(e, "exists", "store: %s: %s", what, sqlite3_errmsg(s->db));
	return err_set(e, (rc & 0xff) == SQLITE_FULL ? "storage-full" : "store-failed",
	    "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int
store_exec(struct store_sqlite *s, const char *sql, struct err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, e, sql);
	return 0;
}

/* Runs a prepared write statement whose parameters are bound; resets it. */
int
store_step(struct store_sqlite *s, int q, struct err *e)
{
	sqlite3_stmt *st = s->q[q];
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		store_fail(s, e, "write");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return 0;
}


void
store_bind_addr(sqlite3_stmt *st, int i, const struct cidr *c)
{
	uint8_t b[16];

	cidr_to_bytes(c, b);
	sqlite3_bind_blob(st, i, b, 16, SQLITE_TRANSIENT);
}

/* Reads a 16-byte address BLOB and a length into a cidr; -1 when malformed. */
int
store_col_cidr(sqlite3_stmt *st, int fam_col, int start_col, int len_col, struct cidr *c,
    struct err *e)
{
	const uint8_t *b = sqlite3_column_blob(st, start_col);
	int family = sqlite3_column_int(st, fam_col);
	int len = sqlite3_column_int(st, len_col);
	uint8_t v4[4];

	if (b == NULL || sqlite3_column_bytes(st, start_col) != 16 || len < 0 ||
	    (family != CIDR_V4 && family != CIDR_V6))
		return err_set(e, "store-failed", "store: malformed address row");
	if (family == CIDR_V4) {
		memcpy(v4, b, 4);
		return cidr_from_bytes(CIDR_V4, v4, (unsigned)len, c, e);
	}
	return cidr_from_bytes(CIDR_V6, b, (unsigned)len, c, e);
}

int
store_read_int(struct store_sqlite *s, int qi, int64_t *v, const char *what, struct err *e)
{
	sqlite3_stmt *q = s->q[qi];
	int rc = sqlite3_step(q);

	*v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, e, what);
	return 0;
}

/* ---- ops ---- */

static void
store_sqlite_close(struct store *st)
{
	struct store_sqlite *s = store_sq(st);
	int i;

	if (st->depth > 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < Q_NQUERIES; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db);
	free(s->path);
	audit_text_free(&s->canon);
	free(s);
}

static int
store_sqlite_begin(struct store *st, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	char sql[32];

	if (st->depth >= STORE_MAX_DEPTH)
		return err_set(e, "store-failed", "store: transactions nested deeper than %d",
		    STORE_MAX_DEPTH);
	s->saved[st->depth] = s->head;
	if (st->depth == 0)
		return store_exec(store_sq(st), "BEGIN IMMEDIATE", e);
	snprintf(sql, sizeof(sql), "SAVEPOINT s%d", st->depth);
	return store_exec(store_sq(st), sql, e);
}

static int
store_sqlite_commit(struct store *st, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	char sql[64];

	if (st->depth == 1) {
		if (store_head_flush(s, e) != 0 || store_exec(s, "COMMIT", e) != 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			s->head.valid = false;
			return -1;
		}
		if (s->head.valid)
			store_audit_published(st, s->head.id, s->head.hash);
		return 0;
	}
	snprintf(sql, sizeof(sql), "RELEASE s%d", st->depth - 1);
	if (store_exec(s, sql, e) != 0) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO s%d; RELEASE s%d", st->depth - 1,
		    st->depth - 1);
		sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		s->head = s->saved[st->depth - 1];
		return -1;
	}
	return 0;
}

static int
store_sqlite_rollback(struct store *st, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	char sql[64];

	s->head = s->saved[st->depth - 1];
	if (st->depth == 1)
		return store_exec(store_sq(st), "ROLLBACK", e);
	snprintf(sql, sizeof(sql), "ROLLBACK TO s%d; RELEASE s%d", st->depth - 1,
	    st->depth - 1);
	return store_exec(store_sq(st), sql, e);
}

static int
store_sqlite_scope_put(struct store *st, const struct store_scope *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_SCOPE_PUT];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
	store_bind_text(q, 2, r->name);
	sqlite3_bind_int(q, 3, r->kind);
	return store_step(s, Q_SCOPE_PUT, e);
}

static int
store_sqlite_pool_put(struct store *st, const struct store_pool *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_POOL_PUT];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
	store_bind_text(q, 2, r->name);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)r->scope_id);
	if (r->parent_id != 0)
		sqlite3_bind_int64(q, 4, (sqlite3_int64)r->parent_id);
	sqlite3_bind_int(q, 5, r->family);
	store_bind_text(q, 6, r->locale);
	store_bind_text(q, 7, r->description);
	sqlite3_bind_int(q, 8, r->default_netmask);
	sqlite3_bind_int(q, 9, r->min_netmask);
	sqlite3_bind_int(q, 10, r->max_netmask);
	store_bind_text(q, 11, r->required_tags);
	store_bind_text(q, 12, r->tags);
	sqlite3_bind_int(q, 13, r->alarm_at);
	sqlite3_bind_int64(q, 14, (sqlite3_int64)r->origin_asn);
	sqlite3_bind_int64(q, 15, r->created);
	return store_step(s, Q_POOL_PUT, e);
}

static int
store_sqlite_provision_put(struct store *st, const struct store_provision *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_PROV_PUT];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->pool_id);
	sqlite3_bind_int(q, 3, r->cidr.family);
	store_bind_addr(q, 4, &r->cidr);
	sqlite3_bind_int(q, 5, r->cidr.len);
	if (r->alloc_id != 0)
		sqlite3_bind_int64(q, 6, (sqlite3_int64)r->alloc_id);
	sqlite3_bind_int64(q, 7, r->created);
	return store_step(s, Q_PROV_PUT, e);
}

static int
store_sqlite_alloc_put(struct store *st, const struct store_alloc *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_ALLOC_PUT];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->pool_id);
	sqlite3_bind_int(q, 3, r->cidr.family);
	store_bind_addr(q, 4, &r->cidr);
	sqlite3_bind_int(q, 5, r->cidr.len);
	sqlite3_bind_int(q, 6, r->kind);
	if (r->child_pool_id != 0)
		sqlite3_bind_int64(q, 7, (sqlite3_int64)r->child_pool_id);
	store_bind_text(q, 8, r->description);
	store_bind_text(q, 9, r->tags);
	store_bind_text(q, 10, r->locale);
	store_bind_text(q, 11, r->token);
	sqlite3_bind_int64(q, 12, r->created);
	return store_step(s, Q_ALLOC_PUT, e);
}

static int
store_sqlite_resource_put(struct store *st, const struct store_resource *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_RES_PUT];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->scope_id);
	sqlite3_bind_int(q, 3, r->cidr.family);
	store_bind_addr(q, 4, &r->cidr);
	sqlite3_bind_int(q, 5, r->cidr.len);
	store_bind_text(q, 6, r->name);
	store_bind_text(q, 7, r->tags);
	sqlite3_bind_int64(q, 8, r->created);
	return store_step(s, Q_RES_PUT, e);
}

static int
store_sqlite_remove(struct store *st, enum store_table t, uint64_t id, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	int q = Q_DEL_SCOPE + (int)t;

	sqlite3_bind_int64(s->q[q], 1, (sqlite3_int64)id);
	return store_step(s, q, e);
}

static int
store_sqlite_counter_get(struct store *st, const char *name, int64_t *value, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	store_bind_text(s->q[Q_COUNTER_GET], 1, name);
	return store_read_int(s, Q_COUNTER_GET, value, "counter", e);
}

static int
store_sqlite_counter_put(struct store *st, const char *name, int64_t value, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_COUNTER_PUT];

	store_bind_text(q, 1, name);
	sqlite3_bind_int64(q, 2, value);
	return store_step(s, Q_COUNTER_PUT, e);
}

static int
store_sqlite_doc_put(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_DOC_PUT];

	store_bind_text(q, 1, kind);
	store_bind_text(q, 2, key);
	store_bind_text(q, 3, doc);
	return store_step(s, Q_DOC_PUT, e);
}

static int
store_sqlite_doc_remove(struct store *st, const char *kind, const char *key, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_DOC_DEL];

	store_bind_text(q, 1, kind);
	store_bind_text(q, 2, key);
	return store_step(s, Q_DOC_DEL, e);
}

static int
store_sqlite_doc_load(struct store *st, const char *kind, store_doc_cb cb, void *arg,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_DOC_LOAD];
	int rc = 0, step = SQLITE_DONE;

	store_bind_text(q, 1, kind);
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = cb(arg, (const char *)sqlite3_column_text(q, 0),
		    (const char *)sqlite3_column_text(q, 1), e);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "doc load");
	return rc;
}

/* store_doc_each and store_counter_each (store.h): every row of a small table. */
static int
store_sqlite_doc_each(struct store *st, store_doc_all_cb cb, void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q;
	int rc = 0, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(s->db, "SELECT kind, key, doc FROM docs ORDER BY kind, key", -1,
	    &q, NULL) != SQLITE_OK)
		return store_fail(s, e, "docs");
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = cb(arg, store_col_text(q, 0), store_col_text(q, 1), store_col_text(q, 2), e);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "docs");
	sqlite3_finalize(q);
	return rc;
}

static int
store_sqlite_counter_each(struct store *st, store_counter_cb cb, void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q;
	int rc = 0, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(s->db, "SELECT name, value FROM counters ORDER BY name", -1, &q,
	    NULL) != SQLITE_OK)
		return store_fail(s, e, "counters");
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = cb(arg, store_col_text(q, 0), sqlite3_column_int64(q, 1), e);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "counters");
	sqlite3_finalize(q);
	return rc;
}

/* store_imported (store.h): the chain head moved by store_event_import goes to meta now, so
 * that the migration's checks (store_event_head, audit verify) read it before the COMMIT. */
static int
store_sqlite_imported(struct store *st, struct err *e)
{
	return store_head_flush(store_sq(st), e);
}

/* Runs one SELECT and hands each row to fn. */
static int
store_each(struct store_sqlite *s, const char *sql,
    int (*fn)(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e),
    const struct store_load_cb *cb, void *arg, struct err *e)
{
	sqlite3_stmt *q;
	int rc = 0, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return store_fail(s, e, "load");
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = fn(q, cb, arg, e);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "load");
	sqlite3_finalize(q);
	return rc;
}

static int
store_row_scope(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_scope r;

	r.id = (uint64_t)sqlite3_column_int64(q, 0);
	r.name = store_col_text(q, 1);
	r.kind = sqlite3_column_int(q, 2);
	if (r.name == NULL)
		return err_set(e, "store-failed", "store: scope %llu has no name",
		    (unsigned long long)r.id);
	return cb->scope(arg, &r, e);
}

static int
store_row_pool(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_pool r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)sqlite3_column_int64(q, 0);
	r.name = store_col_text(q, 1);
	r.scope_id = (uint64_t)sqlite3_column_int64(q, 2);
	r.parent_id = (uint64_t)sqlite3_column_int64(q, 3);
	r.family = sqlite3_column_int(q, 4);
	r.locale = store_col_text(q, 5);
	r.description = store_col_text(q, 6);
	r.default_netmask = sqlite3_column_int(q, 7);
	r.min_netmask = sqlite3_column_int(q, 8);
	r.max_netmask = sqlite3_column_int(q, 9);
	r.required_tags = store_col_text(q, 10);
	r.tags = store_col_text(q, 11);
	r.alarm_at = sqlite3_column_int(q, 12);
	r.origin_asn = (uint32_t)sqlite3_column_int64(q, 13);
	r.created = sqlite3_column_int64(q, 14);
	if (r.name == NULL)
		return err_set(e, "store-failed", "store: pool %llu has no name",
		    (unsigned long long)r.id);
	return cb->pool(arg, &r, e);
}

static int
store_row_prov(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_provision r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)sqlite3_column_int64(q, 0);
	r.pool_id = (uint64_t)sqlite3_column_int64(q, 1);
	if (store_col_cidr(q, 2, 3, 4, &r.cidr, e) != 0)
		return -1;
	r.alloc_id = (uint64_t)sqlite3_column_int64(q, 5);
	r.created = sqlite3_column_int64(q, 6);
	return cb->provision(arg, &r, e);
}

static int
store_row_alloc(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_alloc r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)sqlite3_column_int64(q, 0);
	r.pool_id = (uint64_t)sqlite3_column_int64(q, 1);
	if (store_col_cidr(q, 2, 3, 4, &r.cidr, e) != 0)
		return -1;
	r.kind = sqlite3_column_int(q, 5);
	r.child_pool_id = (uint64_t)sqlite3_column_int64(q, 6);
	r.description = store_col_text(q, 7);
	r.tags = store_col_text(q, 8);
	r.locale = store_col_text(q, 9);
	r.token = store_col_text(q, 10);
	r.created = sqlite3_column_int64(q, 11);
	return cb->alloc(arg, &r, e);
}

static int
store_row_resource(sqlite3_stmt *q, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_resource r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)sqlite3_column_int64(q, 0);
	r.scope_id = (uint64_t)sqlite3_column_int64(q, 1);
	if (store_col_cidr(q, 2, 3, 4, &r.cidr, e) != 0)
		return -1;
	r.name = store_col_text(q, 5);
	r.tags = store_col_text(q, 6);
	r.created = sqlite3_column_int64(q, 7);
	return cb->resource(arg, &r, e);
}

static int
store_sqlite_load(struct store *st, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	if (store_each(s, "SELECT id, name, kind FROM scopes ORDER BY id", store_row_scope, cb,
	    arg, e) != 0 ||
	    store_each(s, "SELECT id, name, scope_id, parent_id, family, locale, description,"
	    " default_netmask, min_netmask, max_netmask, required_tags, tags, alarm_at,"
	    " origin_asn, created FROM pools ORDER BY id", store_row_pool, cb, arg, e) != 0 ||
	    store_each(s, "SELECT id, pool_id, family, start, len, alloc_id, created"
	    " FROM provisions ORDER BY id", store_row_prov, cb, arg, e) != 0 ||
	    store_each(s, "SELECT id, pool_id, family, start, len, kind, child_pool_id,"
	    " description, tags, locale, token, created FROM allocations ORDER BY id",
	    store_row_alloc, cb, arg, e) != 0 ||
	    store_each(s, "SELECT id, scope_id, family, start, len, name, tags, created"
	    " FROM resources ORDER BY id", store_row_resource, cb, arg, e) != 0)
		return -1;
	return 0;
}

static int
store_sqlite_check(struct store *st, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q;
	const char *r;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
		return store_fail(s, e, "integrity_check");
	rc = sqlite3_step(q);
	r = rc == SQLITE_ROW ? store_col_text(q, 0) : NULL;
	if (r == NULL || strcmp(r, "ok") != 0) {
		err_set(e, "store-failed", "store %s: integrity_check: %s", s->path,
		    r ? r : sqlite3_errmsg(s->db));
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	return 0;
}

static const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.close = store_sqlite_close,
	.begin = store_sqlite_begin,
	.commit = store_sqlite_commit,
	.rollback = store_sqlite_rollback,
	.scope_put = store_sqlite_scope_put,
	.pool_put = store_sqlite_pool_put,
	.provision_put = store_sqlite_provision_put,
	.alloc_put = store_sqlite_alloc_put,
	.resource_put = store_sqlite_resource_put,
	.remove = store_sqlite_remove,
	.event_append = store_sqlite_event_append,
	.events_query = store_sqlite_events_query,
	.load = store_sqlite_load,
	.check = store_sqlite_check,
	.counter_get = store_sqlite_counter_get,
	.counter_put = store_sqlite_counter_put,
	.doc_put = store_sqlite_doc_put,
	.doc_remove = store_sqlite_doc_remove,
	.doc_load = store_sqlite_doc_load,
	.events_after = store_sqlite_events_after,
	.event_head = store_sqlite_event_head,
	.audit_verify = store_sqlite_audit_verify,
	.events_index = store_sqlite_events_index,
	.sites = &store_sqlite_site_ops,
	.doc_each = store_sqlite_doc_each,
	.counter_each = store_sqlite_counter_each,
	.event_import = store_sqlite_event_import,
	.imported = store_sqlite_imported,
};

int
store_sqlite_schema_version(void)
{
	return STORE_NMIGRATIONS;
}

/* Brings the schema up to date, one transaction per migration. */
static int
store_sqlite_migrate(struct store_sqlite *s, struct err *e)
{
	sqlite3_stmt *q;
	int version = 0, i;
	char sql[96];

	if (store_exec(s, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);",
	    e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM schema_version", -1, &q,
	    NULL) != SQLITE_OK)
		return store_fail(s, e, "schema_version");
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > STORE_NMIGRATIONS)
		return err_set(e, "store-failed", "store %s has schema version %d, newer than "
		    "this prefixd (%d)", s->path, version, STORE_NMIGRATIONS);
	for (i = version; i < STORE_NMIGRATIONS; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version(version) VALUES(%d)", i + 1);
		if (store_exec(s, "BEGIN IMMEDIATE", e) != 0)
			return -1;
		if (store_exec(s, store_migrations[i], e) != 0 || store_exec(s, sql, e) != 0 ||
		    store_exec(s, "COMMIT", e) != 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	if (version < STORE_AUDIT_MIGRATION && STORE_NMIGRATIONS >= STORE_AUDIT_MIGRATION)
		return store_sqlite_audit_seal_old(s, e);
	return 0;
}

int
store_sqlite_open(const char *path, struct store **out, struct err *e)
{
	struct store_sqlite *s;
	struct err ie;
	const char *v;
	int i;

	err_clear(&ie);
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->path = strdup(path)) == NULL)
		fatal("store: out of memory");
	s->base.ops = &store_sqlite_ops;
	if ((v = getenv("PREFIXD_AUDIT")) != NULL && strcmp(v, "off") == 0)
		s->audit = STORE_AUDIT_OFF;
	else if (v != NULL && strcmp(v, "nochain") == 0)
		s->audit = STORE_AUDIT_NOCHAIN;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "store-failed", "store %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_create_function_v2(s->db, "prefixd_unhex", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, store_sql_unhex, NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(s, e, "prefixd_unhex");
		goto fail;
	}
	if (store_exec(s, "PRAGMA journal_mode=WAL", e) != 0 ||
	    store_exec(s, "PRAGMA synchronous=FULL", e) != 0 ||
	    store_sqlite_migrate(s, e) != 0)
		goto fail;
	for (i = 0; i < Q_NQUERIES; i++)
		if (sqlite3_prepare_v3(s->db, store_sql[i] != NULL ? store_sql[i] :
		    store_event_query_sql(), -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
		    SQLITE_OK) {
			store_fail(s, e, "prepare");
			goto fail;
		}
	if (store_sqlite_index_repair(s, &ie) != 0) {
		if (ie.code == NULL || strcmp(ie.code, "audit-broken") != 0) {
			*e = ie;
			goto fail;
		}
		log_error("store %s: %s", path, ie.msg);
	}
	*out = &s->base;
	return 0;
fail:
	store_sqlite_close(&s->base);
	return -1;
}
