/*
 * store_sqlite — the embedded SQLite backend of store.h, and the backend-neutral wrappers
 * (store_begin, store_alloc_put, ...) that dispatch through the ops table.
 *
 * Durability: journal_mode=WAL, synchronous=FULL, so a COMMIT that returned is on disk.
 * Schema: an ordered array of migrations; schema_version holds how many ran. Later modules
 * append migrations to the array (never edit a released one). Addresses are stored as
 * 16-byte left-aligned big-endian BLOBs ("start", and "last" for events) so SQLite's memcmp
 * ordering is address order and range queries use an index.
 *
 * A store is used by one thread only (the loop thread), so the connection is opened without
 * SQLite's mutexes (SQLITE_OPEN_NOMUTEX).
 *
 * Uniqueness is enforced here as well as in ipam: UNIQUE(pool_id, start) on allocations and
 * provisions, a partial UNIQUE(pool_id, token) index, UNIQUE names.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
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
	/* 3: documents of later modules (public-prefix lifecycle rows) */
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
};
#define STORE_AUDIT_MIGRATION 4

#define STORE_NMIGRATIONS ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

enum {
	Q_SCOPE_PUT, Q_POOL_PUT, Q_PROV_PUT, Q_ALLOC_PUT, Q_RES_PUT,
	Q_DEL_SCOPE, Q_DEL_POOL, Q_DEL_PROV, Q_DEL_ALLOC, Q_DEL_RES,
	Q_EVENT_PUT, Q_EVENT_QUERY, Q_COUNTER_GET, Q_COUNTER_PUT,
	Q_DOC_PUT, Q_DOC_DEL, Q_DOC_LOAD, Q_HEAD_GET, Q_HEAD_PUT, Q_EVENTS_AFTER, Q_NQUERIES
};

/* The columns store_col_event reads, in its order. */
#define STORE_EVENT_COLS "id, time, actor, role, request_id, action, object_kind, family," \
	" start, len, before, after, evidence, hash"

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
};

/*
 * The audit chain head, cached so that an append costs no read: valid once read from meta;
 * dirty while appended events have moved it past meta, which is written once, just before
 * the outermost COMMIT. A level that rolls back restores the head it began with.
 */
struct store_head {
	bool valid, dirty;
	uint64_t id;
	char hash[AUDIT_HASH_HEXLEN + 1];
};

#define STORE_MAX_DEPTH 32

/* PREFIXD_AUDIT: unset or "on"; "nochain": events without hashes; "off": no events. */
enum { STORE_AUDIT_ON, STORE_AUDIT_NOCHAIN, STORE_AUDIT_OFF };

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *q[Q_NQUERIES];
	int audit;                  /* STORE_AUDIT_*, from PREFIXD_AUDIT (benchmarks only) */
	struct store_head head;     /* the chain head as the open transaction sees it */
	struct store_head saved[STORE_MAX_DEPTH];   /* head at each level's begin */
	struct audit_text canon;    /* the canonical form being hashed, reused */
};

static struct store_sqlite *
store_sq(struct store *st)
{
	return (struct store_sqlite *)(void *)st;
}

static int
store_fail(struct store_sqlite *s, struct err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return err_set(e, "exists", "store: %s: %s", what, sqlite3_errmsg(s->db));
	return err_set(e, "store-failed", "store %s: %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
}

static int
store_exec(struct store_sqlite *s, const char *sql, struct err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, e, sql);
	return 0;
}

/* Runs a prepared write statement whose parameters are bound; resets it. */
static int
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

static void
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void
store_bind_addr(sqlite3_stmt *st, int i, const struct cidr *c)
{
	uint8_t b[16];

	cidr_to_bytes(c, b);
	sqlite3_bind_blob(st, i, b, 16, SQLITE_TRANSIENT);
}

/* Reads a 16-byte address BLOB and a length into a cidr; -1 when malformed. */
static int
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

static const char *
store_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * The history query (Q_EVENT_QUERY). CIDRs nest or are disjoint, so an event overlaps the
 * asked prefix Q exactly when it starts inside Q, or it is one of Q's supernets, which start
 * at Q masked to a shorter length. Both are look-ups in events_range(family, start): a range
 * and up to STORE_SUPERNETS points (?6 onwards; unused ones stay NULL and match nothing),
 * as two SELECTs joined by UNION ALL (with one OR, SQLite factors out "family = ?1" and
 * scans the whole family). The points all lie below Q, so no row comes twice.
 * The points can also hit shorter events that merely start there, so the rows are filtered
 * with cidr_overlaps (store_query_filter).
 *   ?1 family  ?2 since  ?3 until  ?4 Q's first address  ?5 Q's last address
 */
#define STORE_SUPERNETS 128

static const char *
store_event_query_sql(void)
{
	static char sql[2048];
	size_t n;

	if (sql[0] != '\0')
		return sql;
	n = (size_t)snprintf(sql, sizeof(sql), "SELECT " STORE_EVENT_COLS " FROM events WHERE"
	    " family = ?1 AND start BETWEEN ?4 AND ?5 AND time >= ?2 AND time <= ?3"
	    " UNION ALL SELECT " STORE_EVENT_COLS " FROM events WHERE family = ?1 AND start IN (");
	for (int i = 0; i < STORE_SUPERNETS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s?%d", i ? "," : "", 6 + i);
	snprintf(sql + n, sizeof(sql) - n, ") AND time >= ?2 AND time <= ?3 ORDER BY id");
	return sql;
}

/* 64 hex digits (either case) into 32 bytes; -1 when malformed. */
static int
store_unhex32(const char *hex, size_t len, uint8_t out[32])
{
	if (hex == NULL || len != AUDIT_HASH_HEXLEN)
		return -1;
	for (size_t i = 0; i < AUDIT_HASH_HEXLEN; i++) {
		int c = (unsigned char)hex[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = (c | 0x20) - 'a' + 10;
		else
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

/* SQL prefixd_unhex(text): the 32-byte BLOB of a 64-digit hex hash; NULL for anything else
 * (a malformed stored hash then fails verification at its event, as it should). */
static void
store_sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	uint8_t b[32];

	(void)argc;
	if (store_unhex32(t, t != NULL ? (size_t)sqlite3_value_bytes(argv[0]) : 0, b) == 0)
		sqlite3_result_blob(cx, b, 32, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(cx);
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

/* Writes a moved chain head to meta (inside the transaction, before its COMMIT). */
static int
store_head_flush(struct store_sqlite *s, struct err *e)
{
	char val[AUDIT_HASH_HEXLEN + 24];

	if (!s->head.valid || !s->head.dirty)
		return 0;
	snprintf(val, sizeof(val), "%llu %s", (unsigned long long)s->head.id, s->head.hash);
	store_bind_text(s->q[Q_HEAD_PUT], 1, val);
	if (store_step(s, Q_HEAD_PUT, e) != 0)
		return -1;
	s->head.dirty = false;
	return 0;
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

/* Reads the chain head "ID HASH" from meta; an empty chain is 0 and AUDIT_GENESIS. */
static int
store_sqlite_event_head(struct store *st, uint64_t *id, char hash[AUDIT_HASH_HEXLEN + 1],
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_HEAD_GET];
	unsigned long long n = 0;
	const char *v;
	int rc = sqlite3_step(q), bad = 0;

	memcpy(hash, AUDIT_GENESIS, AUDIT_HASH_HEXLEN + 1);
	if (rc == SQLITE_ROW && (v = store_col_text(q, 0)) != NULL)
		bad = sscanf(v, "%llu %64s", &n, hash) != 2;
	sqlite3_reset(q);
	*id = n;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, e, "audit head");
	if (bad)
		return err_set(e, "audit-broken", "store %s: the audit chain head is malformed",
		    s->path);
	return 0;
}

/* Gives ev the next id and its chain hash and moves the cached head (see struct store_head). */
static int
store_sqlite_event_seal(struct store_sqlite *s, struct store_event *ev,
    char hash[AUDIT_HASH_HEXLEN + 1], struct err *e)
{
	if (!s->head.valid) {
		if (store_sqlite_event_head(&s->base, &s->head.id, s->head.hash, e) != 0)
			return -1;
		s->head.valid = true;
		s->head.dirty = false;
	}
	ev->id = s->head.id + 1;
	ev->hash = NULL;
	audit_chain_hash(s->head.hash, audit_event_canonical_into(ev, &s->canon), hash);
	return 0;
}

/* The row is written: the head moves (and goes to meta now when no transaction is open). */
static int
store_head_advance(struct store_sqlite *s, uint64_t id, const char *hash, struct err *e)
{
	s->head.id = id;
	memcpy(s->head.hash, hash, AUDIT_HASH_HEXLEN + 1);
	s->head.dirty = true;
	return s->base.depth == 0 ? store_head_flush(s, e) : 0;
}

static int
store_sqlite_event_append(struct store *st, struct store_event *ev, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_EVENT_PUT];
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint8_t first_b[16], hash_b[32];    /* bound SQLITE_STATIC: live until the step */

	if (s->audit == STORE_AUDIT_OFF) {
		ev->id = 0;
		return 0;
	}
	if (s->audit == STORE_AUDIT_ON && store_sqlite_event_seal(s, ev, hash, e) != 0)
		return -1;
	sqlite3_bind_int64(q, 1, ev->time);
	store_bind_text(q, 2, ev->actor);
	store_bind_text(q, 3, ev->role);
	store_bind_text(q, 4, ev->request_id);
	store_bind_text(q, 5, ev->action);
	store_bind_text(q, 6, ev->object_kind);
	if (ev->has_cidr) {
		cidr_to_bytes(&ev->cidr, first_b);
		sqlite3_bind_int(q, 7, ev->cidr.family);
		sqlite3_bind_blob(q, 8, first_b, 16, SQLITE_STATIC);
		sqlite3_bind_int(q, 9, ev->cidr.len);
	}
	store_bind_text(q, 10, ev->before);
	store_bind_text(q, 11, ev->after);
	store_bind_text(q, 12, ev->evidence);
	if (s->audit == STORE_AUDIT_NOCHAIN) {      /* id from AUTOINCREMENT, no hash */
		if (store_step(s, Q_EVENT_PUT, e) != 0)
			return -1;
		ev->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
		return 0;
	}
	sqlite3_bind_int64(q, 13, (sqlite3_int64)ev->id);
	if (store_unhex32(hash, strlen(hash), hash_b) == 0)
		sqlite3_bind_blob(q, 14, hash_b, 32, SQLITE_STATIC);
	else                                /* the all-'x' hash of a failed digest */
		store_bind_text(q, 14, hash);
	if (store_step(s, Q_EVENT_PUT, e) != 0)
		return -1;
	return store_head_advance(s, ev->id, hash, e);
}

/* One row of STORE_EVENT_COLS into ev (pointers valid until the next step); the hash is
 * written as hex into hash (ev->hash NULL when the column is not a 32-byte BLOB). */
static void
store_col_event(sqlite3_stmt *q, struct store_event *ev, char hash[AUDIT_HASH_HEXLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b;

	memset(ev, 0, sizeof(*ev));
	ev->id = (uint64_t)sqlite3_column_int64(q, 0);
	ev->time = sqlite3_column_int64(q, 1);
	ev->actor = store_col_text(q, 2);
	ev->role = store_col_text(q, 3);
	ev->request_id = store_col_text(q, 4);
	ev->action = store_col_text(q, 5);
	ev->object_kind = store_col_text(q, 6);
	ev->has_cidr = sqlite3_column_type(q, 7) != SQLITE_NULL &&
	    store_col_cidr(q, 7, 8, 9, &ev->cidr, NULL) == 0;
	ev->before = store_col_text(q, 10);
	ev->after = store_col_text(q, 11);
	ev->evidence = store_col_text(q, 12);
	if (sqlite3_column_type(q, 13) == SQLITE_BLOB && sqlite3_column_bytes(q, 13) == 32 &&
	    (b = sqlite3_column_blob(q, 13)) != NULL) {
		for (int i = 0; i < 32; i++) {
			hash[2 * i] = hex[b[i] >> 4];
			hash[2 * i + 1] = hex[b[i] & 15];
		}
		hash[AUDIT_HASH_HEXLEN] = '\0';
		ev->hash = hash;
	}
}

/* The history query's rows that really overlap the asked prefix (see Q_EVENT_QUERY). */
struct store_query_filter {
	struct cidr asked;
	store_event_cb cb;
	void *arg;
};

static int
store_query_filter_cb(void *arg, const struct store_event *ev)
{
	struct store_query_filter *f = arg;

	if (!ev->has_cidr || !cidr_overlaps(&ev->cidr, &f->asked))
		return 0;
	return f->cb(f->arg, ev);
}

/* Steps a bound event SELECT to its end, handing each row to cb; resets it. */
static int
store_event_rows(struct store_sqlite *s, sqlite3_stmt *q, store_event_cb cb, void *arg,
    struct err *e)
{
	struct store_event ev;
	char hash[AUDIT_HASH_HEXLEN + 1];
	int rc = 0, step = SQLITE_DONE;

	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
		store_col_event(q, &ev, hash);
		rc = cb(arg, &ev);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "events query");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int
store_sqlite_events_query(struct store *st, const struct cidr *c, int64_t since,
    int64_t until, store_event_cb cb, void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_EVENT_QUERY];
	struct store_query_filter f = { *c, cb, arg };
	struct cidr last = cidr_last(c), sup, prev = *c;
	uint8_t first_b[16], last_b[16], sup_b[STORE_SUPERNETS][16];
	int n = 0;

	cidr_to_bytes(c, first_b);
	cidr_to_bytes(&last, last_b);
	sqlite3_bind_int(q, 1, c->family);
	sqlite3_bind_int64(q, 2, since);
	sqlite3_bind_int64(q, 3, until);
	sqlite3_bind_blob(q, 4, first_b, 16, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, last_b, 16, SQLITE_STATIC);
	for (int len = c->len - 1; len >= 0 && n < STORE_SUPERNETS; len--) {
		sup = cidr_make(c->family, c->hi, c->lo, (unsigned)len);
		if (sup.hi == prev.hi && sup.lo == prev.lo)
			continue;               /* same start as a longer one: already asked */
		prev = sup;
		cidr_to_bytes(&sup, sup_b[n]);
		sqlite3_bind_blob(q, 6 + n, sup_b[n], 16, SQLITE_STATIC);
		n++;
	}
	return store_event_rows(s, q, store_query_filter_cb, &f, e);
}

static int
store_sqlite_events_after(struct store *st, uint64_t after, unsigned limit, store_event_cb cb,
    void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_EVENTS_AFTER];

	sqlite3_bind_int64(q, 1, (sqlite3_int64)(after > INT64_MAX ? INT64_MAX : after));
	sqlite3_bind_int64(q, 2, limit);
	return store_event_rows(s, q, cb, arg, e);
}

struct store_verify_arg {
	struct audit_verifier *v;
	struct err *e;
	int failed;
};

static int
store_verify_cb(void *arg, const struct store_event *ev)
{
	struct store_verify_arg *a = arg;
	char *canon = audit_event_canonical(ev);
	int rc;

	rc = audit_verify_step(a->v, ev->id, canon, ev->hash, a->e);
	free(canon);
	a->failed = rc != 0;
	return rc;
}

/* Walks the whole log in id order (a fresh statement: it may take a while and is rare). */
static int
store_sqlite_audit_verify(struct store *st, struct audit_verifier *v, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	struct store_verify_arg a = { v, e, 0 };
	char head[AUDIT_HASH_HEXLEN + 1];
	sqlite3_stmt *q;
	uint64_t head_id;

	audit_verifier_init(v);
	if (sqlite3_prepare_v2(s->db, "SELECT " STORE_EVENT_COLS " FROM events ORDER BY id", -1,
	    &q, NULL) != SQLITE_OK)
		return store_fail(s, e, "audit verify");
	if (store_event_rows(s, q, store_verify_cb, &a, e) != 0 || a.failed) {
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	if (store_sqlite_event_head(st, &head_id, head, e) != 0)
		return -1;
	if (head_id > v->last_id)
		return err_set(e, "audit-broken", "event %llu is missing: the log ends at event %llu "
		    "but the chain head is event %llu", (unsigned long long)(v->last_id + 1),
		    (unsigned long long)v->last_id, (unsigned long long)head_id);
	if (head_id != v->last_id || strcmp(head, v->prev) != 0)
		return err_set(e, "audit-broken", "event %llu does not match the chain head "
		    "(head: event %llu)", (unsigned long long)v->last_id,
		    (unsigned long long)head_id);
	return 0;
}

/*
 * Migration 4 found events without a hash: seals them in id order (one transaction), so a
 * store created before the audit chain verifies from its first event.
 */
static int
store_sqlite_audit_seal_old(struct store_sqlite *s, struct err *e)
{
	char prev[AUDIT_HASH_HEXLEN + 1], val[AUDIT_HASH_HEXLEN + 24];
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint8_t prev_b[32];
	sqlite3_stmt *q = NULL, *u = NULL;
	struct store_event ev;
	uint64_t n = 0;
	int rc = -1, step;

	memcpy(prev, AUDIT_GENESIS, sizeof(prev));
	if (store_exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT " STORE_EVENT_COLS " FROM events ORDER BY id", -1,
	    &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE events SET hash = ? WHERE id = ?", -1, &u,
	    NULL) != SQLITE_OK) {
		store_fail(s, e, "audit seal");
		goto out;
	}
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		char *canon;

		store_col_event(q, &ev, hash);
		n = ev.id;
		canon = audit_event_canonical(&ev);
		audit_chain_hash(prev, canon, prev);
		free(canon);
		if (store_unhex32(prev, strlen(prev), prev_b) == 0)
			sqlite3_bind_blob(u, 1, prev_b, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(u, 2, (sqlite3_int64)n);
		if (sqlite3_step(u) != SQLITE_DONE) {
			store_fail(s, e, "audit seal");
			goto out;
		}
		sqlite3_reset(u);
	}
	if (step != SQLITE_DONE) {
		store_fail(s, e, "audit seal");
		goto out;
	}
	snprintf(val, sizeof(val), "%llu %s", (unsigned long long)n, prev);
	sqlite3_finalize(u);
	u = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(key, value) VALUES('audit_head', ?)", -1,
	    &u, NULL) != SQLITE_OK)
		goto fail_u;
	sqlite3_bind_text(u, 1, val, -1, SQLITE_TRANSIENT);
	if (n > 0 && sqlite3_step(u) != SQLITE_DONE)
		goto fail_u;
	rc = 0;
	goto out;
fail_u:
	store_fail(s, e, "audit seal");
out:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	if (rc == 0 && store_exec(s, "COMMIT", e) != 0)
		rc = -1;
	if (rc != 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int
store_sqlite_counter_get(struct store *st, const char *name, int64_t *value, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_COUNTER_GET];
	int rc;

	store_bind_text(q, 1, name);
	rc = sqlite3_step(q);
	*value = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, e, "counter");
	return 0;
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
	const char *v;
	int i;

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
	*out = &s->base;
	return 0;
fail:
	store_sqlite_close(&s->base);
	return -1;
}

/* ---- backend-neutral wrappers ---- */

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_begin(struct store *st, struct err *e)
{
	if (st->ops->begin(st, e) != 0)
		return -1;
	st->depth++;
	return 0;
}

/* Closes the innermost level whether or not it committed (see store.h). */
int
store_commit(struct store *st, struct err *e)
{
	int rc;

	if (st->depth == 0)
		return err_set(e, "store-failed", "store: commit without a transaction");
	rc = st->ops->commit(st, e);
	st->depth--;
	return rc;
}

int
store_rollback(struct store *st, struct err *e)
{
	int rc;

	if (st->depth == 0)
		return err_set(e, "store-failed", "store: rollback without a transaction");
	rc = st->ops->rollback(st, e);
	st->depth--;
	return rc;
}

bool
store_in_txn(const struct store *st)
{
	return st->depth > 0;
}

int
store_scope_put(struct store *st, const struct store_scope *r, struct err *e)
{
	return st->ops->scope_put(st, r, e);
}

int
store_pool_put(struct store *st, const struct store_pool *r, struct err *e)
{
	return st->ops->pool_put(st, r, e);
}

int
store_provision_put(struct store *st, const struct store_provision *r, struct err *e)
{
	return st->ops->provision_put(st, r, e);
}

int
store_alloc_put(struct store *st, const struct store_alloc *r, struct err *e)
{
	return st->ops->alloc_put(st, r, e);
}

int
store_resource_put(struct store *st, const struct store_resource *r, struct err *e)
{
	return st->ops->resource_put(st, r, e);
}

int
store_remove(struct store *st, enum store_table t, uint64_t id, struct err *e)
{
	return st->ops->remove(st, t, id, e);
}

int
store_event_append(struct store *st, struct store_event *ev, struct err *e)
{
	return st->ops->event_append(st, ev, e);
}

int
store_events_query(struct store *st, const struct cidr *c, int64_t since, int64_t until,
    store_event_cb cb, void *arg, struct err *e)
{
	return st->ops->events_query(st, c, since, until, cb, arg, e);
}

int
store_load(struct store *st, const struct store_load_cb *cb, void *arg, struct err *e)
{
	return st->ops->load(st, cb, arg, e);
}

int
store_check(struct store *st, struct err *e)
{
	return st->ops->check(st, e);
}

int
store_counter_get(struct store *st, const char *name, int64_t *value, struct err *e)
{
	return st->ops->counter_get(st, name, value, e);
}

int
store_counter_put(struct store *st, const char *name, int64_t value, struct err *e)
{
	return st->ops->counter_put(st, name, value, e);
}

int
store_doc_put(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e)
{
	return st->ops->doc_put(st, kind, key, doc, e);
}

int
store_doc_remove(struct store *st, const char *kind, const char *key, struct err *e)
{
	return st->ops->doc_remove(st, kind, key, e);
}

int
store_doc_load(struct store *st, const char *kind, store_doc_cb cb, void *arg,
    struct err *e)
{
	return st->ops->doc_load(st, kind, cb, arg, e);
}

int
store_events_after(struct store *st, uint64_t after, unsigned limit, store_event_cb cb,
    void *arg, struct err *e)
{
	return st->ops->events_after(st, after, limit, cb, arg, e);
}

int
store_event_head(struct store *st, uint64_t *id, char hash[65], struct err *e)
{
	return st->ops->event_head(st, id, hash, e);
}

int
store_audit_verify(struct store *st, struct audit_verifier *v, struct err *e)
{
	return st->ops->audit_verify(st, v, e);
}
