/*
 * store_sqlite_events — the SQLite backend's event log (store.h "Events", "Audit chain"):
 * append, sealing each event into the hash chain (audit.h) in the change's own transaction;
 * import of an event sealed elsewhere, id and hash verbatim (store_event_import, the
 * migration's); history by CIDR overlap; the feed (events after an id); whole-chain
 * verification, with a check of history's address index against the events (rebuilt when it
 * does not match, at open and at verify); sealing of a store written before the chain
 * existed. Shares store_sqlite_private.h with store_sqlite.c.
 *
 * Rows (migration 6): the hash is a 32-byte BLOB, shown as hex; the address is "start" (a
 * 16-byte left-aligned BLOB) and "len". Each change pays for its event's bytes in the WAL,
 * so the row holds nothing that can be derived.
 */
#include "store_sqlite_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

/*
 * The history query (Q_EVENT_QUERY). CIDRs nest or are disjoint, so an event overlaps the
 * asked prefix Q exactly when it starts inside Q, or it is one of Q's supernets, which start
 * at Q masked to a shorter length. Events up to meta "ranges_upto" are found through the
 * address index event_ranges(family, start, id): a range and up to STORE_SUPERNETS points
 * (?7 onwards; unused ones stay NULL and match nothing); later ones, not indexed yet, by a
 * scan of the log's tail (rowid > ?6). Three SELECTs joined by UNION ALL, each on an index
 * (with OR, SQLite scans the whole table); the points lie below Q and the tail above the
 * index's end, so no row comes twice. The points and the tail also return events that do not
 * overlap Q, so the rows are filtered with cidr_overlaps (store_query_filter).
 *   ?1 family  ?2 since  ?3 until  ?4 Q's first address  ?5 Q's last address  ?6 ranges_upto
 */
#define STORE_SUPERNETS 128

const char *
store_event_query_sql(void)
{
	static char sql[4096];
	size_t n;

	if (sql[0] != '\0')
		return sql;
	n = (size_t)snprintf(sql, sizeof(sql), "SELECT " STORE_EVENT_COLS " FROM events WHERE"
	    " id IN (SELECT id FROM event_ranges WHERE family = ?1 AND start BETWEEN ?4 AND ?5)"
	    " AND id <= ?6 AND time >= ?2 AND time <= ?3"
	    " UNION ALL SELECT " STORE_EVENT_COLS " FROM events WHERE"
	    " id IN (SELECT id FROM event_ranges WHERE family = ?1 AND start IN (");
	for (int i = 0; i < STORE_SUPERNETS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s?%d", i ? "," : "", 7 + i);
	snprintf(sql + n, sizeof(sql) - n, ")) AND id <= ?6 AND time >= ?2 AND time <= ?3"
	    " UNION ALL SELECT " STORE_EVENT_COLS " FROM events WHERE id > ?6 AND family = ?1"
	    " AND time >= ?2 AND time <= ?3 ORDER BY id");
	return sql;
}

int
store_sqlite_events_index(struct store *st, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	int64_t upto, max;

	if (store_read_int(s, Q_RANGES_UPTO_GET, &upto, "ranges_upto", e) != 0 ||
	    store_read_int(s, Q_EVENTS_MAX, &max, "events max", e) != 0)
		return -1;
	if (max <= upto)
		return 0;
	if (store_begin(st, e) != 0)
		return -1;
	sqlite3_bind_int64(s->q[Q_RANGES_ADD], 1, upto);
	sqlite3_bind_int64(s->q[Q_RANGES_ADD], 2, max);
	sqlite3_bind_int64(s->q[Q_RANGES_UPTO_PUT], 1, max);
	if (store_step(s, Q_RANGES_ADD, e) != 0 || store_step(s, Q_RANGES_UPTO_PUT, e) != 0) {
		store_rollback(st, NULL);
		return -1;
	}
	return store_commit(st, e);
}

/* SQL prefixd_unhex(text): the 32-byte BLOB of a 64-digit hex hash; NULL for anything else
 * (a malformed stored hash then fails verification at its event, as it should). */
void
store_sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	uint8_t b[32];

	(void)argc;
	if (hex_decode(t, t != NULL ? (size_t)sqlite3_value_bytes(argv[0]) : 0, b, sizeof(b)) == 0)
		sqlite3_result_blob(cx, b, 32, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(cx);
}

/* Writes a moved chain head to meta (inside the transaction, before its COMMIT). */
int
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

/* Reads the chain head "ID HASH" from meta; an empty chain is 0 and AUDIT_GENESIS. */
int
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

/* Reads the chain head into the cache unless it is there (see struct store_head). */
static int
store_head_cache(struct store_sqlite *s, struct err *e)
{
	if (s->head.valid)
		return 0;
	if (store_sqlite_event_head(&s->base, &s->head.id, s->head.hash, e) != 0)
		return -1;
	s->head.valid = true;
	s->head.dirty = false;
	return 0;
}

/* Gives ev the next id and its chain hash and moves the cached head (see struct store_head). */
static int
store_sqlite_event_seal(struct store_sqlite *s, struct store_event *ev,
    char hash[AUDIT_HASH_HEXLEN + 1], struct err *e)
{
	if (store_head_cache(s, e) != 0)
		return -1;
	ev->id = s->head.id + 1;
	ev->hash = NULL;
	audit_chain_link(s->base.audit_key, s->head.hash, audit_event_canonical_into(ev, &s->canon),
	    hash);
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

/* Binds ev's fields (not id and hash) to Q_EVENT_PUT; addr is the caller's buffer for the
 * address BLOB, bound SQLITE_STATIC (live until the step). */
static void
store_event_bind(sqlite3_stmt *q, const struct store_event *ev, uint8_t addr[16])
{
	sqlite3_bind_int64(q, 1, ev->time);
	store_bind_text(q, 2, ev->actor);
	store_bind_text(q, 3, ev->role);
	store_bind_text(q, 4, ev->request_id);
	store_bind_text(q, 5, ev->action);
	store_bind_text(q, 6, ev->object_kind);
	if (ev->has_cidr) {
		cidr_to_bytes(&ev->cidr, addr);
		sqlite3_bind_int(q, 7, ev->cidr.family);
		sqlite3_bind_blob(q, 8, addr, 16, SQLITE_STATIC);
		sqlite3_bind_int(q, 9, ev->cidr.len);
	}
	store_bind_text(q, 10, ev->before);
	store_bind_text(q, 11, ev->after);
	store_bind_text(q, 12, ev->evidence);
}

/* Writes the bound event with id and hash, then moves the head to them. */
static int
store_event_write(struct store_sqlite *s, uint64_t id, const char *hash, struct err *e)
{
	sqlite3_stmt *q = s->q[Q_EVENT_PUT];
	uint8_t hash_b[32];                 /* bound SQLITE_STATIC: live until the step */

	sqlite3_bind_int64(q, 13, (sqlite3_int64)id);
	if (hex_decode(hash, strlen(hash), hash_b, sizeof(hash_b)) == 0)
		sqlite3_bind_blob(q, 14, hash_b, 32, SQLITE_STATIC);
	else                                /* the all-'x' hash of a failed digest */
		store_bind_text(q, 14, hash);
	if (store_step(s, Q_EVENT_PUT, e) != 0)
		return -1;
	return store_head_advance(s, id, hash, e);
}

int
store_sqlite_event_append(struct store *st, struct store_event *ev, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint8_t addr[16];

	if (s->audit == STORE_AUDIT_OFF) {
		ev->id = 0;
		return 0;
	}
	if (s->audit == STORE_AUDIT_ON && store_sqlite_event_seal(s, ev, hash, e) != 0)
		return -1;
	store_event_bind(s->q[Q_EVENT_PUT], ev, addr);
	if (s->audit == STORE_AUDIT_NOCHAIN) {      /* id from AUTOINCREMENT, no hash */
		if (store_step(s, Q_EVENT_PUT, e) != 0)
			return -1;
		ev->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
		return 0;
	}
	return store_event_write(s, ev->id, hash, e);
}

/* store_event_import (store.h): ev as it is, id and hash included, after the head. */
int
store_sqlite_event_import(struct store *st, const struct store_event *ev, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	uint8_t addr[16];

	if (store_head_cache(s, e) != 0)
		return -1;
	if (ev->id != s->head.id + 1)
		return err_set(e, "audit-broken", "store %s: event %llu cannot follow the chain "
		    "head %llu", s->path, (unsigned long long)ev->id,
		    (unsigned long long)s->head.id);
	store_event_bind(s->q[Q_EVENT_PUT], ev, addr);
	return store_event_write(s, ev->id, ev->hash, e);
}

/* One row of STORE_EVENT_COLS into ev (pointers valid until the next step); the hash is
 * written as hex into hash (ev->hash NULL when the column is not a 32-byte BLOB). */
static void
store_col_event(sqlite3_stmt *q, struct store_event *ev, char hash[AUDIT_HASH_HEXLEN + 1])
{
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
		hex_encode(b, 32, hash);
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

int
store_sqlite_events_query(struct store *st, const struct cidr *c, int64_t since,
    int64_t until, store_event_cb cb, void *arg, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = s->q[Q_EVENT_QUERY];
	struct store_query_filter f = { *c, cb, arg };
	struct cidr last = cidr_last(c), sup, prev = *c;
	uint8_t first_b[16], last_b[16], sup_b[STORE_SUPERNETS][16];
	int64_t upto;
	int n = 0;

	if (store_read_int(s, Q_RANGES_UPTO_GET, &upto, "ranges_upto", e) != 0)
		return -1;
	cidr_to_bytes(c, first_b);
	cidr_to_bytes(&last, last_b);
	sqlite3_bind_int(q, 1, c->family);
	sqlite3_bind_int64(q, 2, since);
	sqlite3_bind_int64(q, 3, until);
	sqlite3_bind_blob(q, 4, first_b, 16, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, last_b, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, upto);
	for (int len = c->len - 1; len >= 0 && n < STORE_SUPERNETS; len--) {
		sup = cidr_make(c->family, c->hi, c->lo, (unsigned)len);
		if (sup.hi == prev.hi && sup.lo == prev.lo)
			continue;               /* same start as a longer one: already asked */
		prev = sup;
		cidr_to_bytes(&sup, sup_b[n]);
		sqlite3_bind_blob(q, 7 + n, sup_b[n], 16, SQLITE_STATIC);
		n++;
	}
	return store_event_rows(s, q, store_query_filter_cb, &f, e);
}

int
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
	int rc = audit_verify_event(a->v, ev, a->e);

	a->failed = rc != 0;
	return rc;
}

/*
 * History's address index against the events (issue 15 finding 7): the index is derived
 * data outside the chain, so an edit of it would otherwise hide events from `history` for
 * good. Three ways to hide one: an event up to ranges_upto missing from event_ranges (a row
 * deleted, or its address changed), ranges_upto beyond the last event (later events would be
 * neither indexed nor scanned), an index row naming no such event. Returns 0 when it matches,
 * 1 with *bad the first event id concerned and what the text, or -1 on a store error.
 */
static int
store_sqlite_index_check(struct store_sqlite *s, int64_t *bad, const char **what,
    struct err *e)
{
	static const struct { const char *what, *sql; } checks[] = {
		{ "is missing from history's address index", "SELECT min(id) FROM events e"
		    " WHERE e.start IS NOT NULL AND e.id <= coalesce((SELECT CAST(value AS INTEGER)"
		    " FROM meta WHERE key = 'ranges_upto'), 0) AND NOT EXISTS (SELECT 1 FROM"
		    " event_ranges r WHERE r.family = e.family AND r.start = e.start AND r.id = e.id)" },
		{ "is past the last event but history's address index claims it (ranges_upto)",
		    "SELECT (SELECT coalesce(max(id), 0) FROM events) + 1 WHERE coalesce((SELECT"
		    " CAST(value AS INTEGER) FROM meta WHERE key = 'ranges_upto'), 0) >"
		    " (SELECT coalesce(max(id), 0) FROM events)" },
		{ "is in history's address index under an address it does not have",
		    "SELECT min(id) FROM event_ranges r WHERE NOT EXISTS (SELECT 1 FROM events e"
		    " WHERE e.id = r.id AND e.family = r.family AND e.start = r.start)" },
	};

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		sqlite3_stmt *q;
		int rc;

		if (sqlite3_prepare_v2(s->db, checks[i].sql, -1, &q, NULL) != SQLITE_OK)
			return store_fail(s, e, "history index check");
		rc = sqlite3_step(q);
		*bad = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		sqlite3_finalize(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_fail(s, e, "history index check");
		if (*bad != 0) {
			*what = checks[i].what;
			return 1;
		}
	}
	return 0;
}

/* Rebuilds history's address index from the events (in a transaction, or a savepoint). */
static int
store_sqlite_index_rebuild(struct store_sqlite *s, struct err *e)
{
	if (store_begin(&s->base, e) != 0)
		return -1;
	if (store_exec(s, "DELETE FROM event_ranges;"
	    "INSERT INTO event_ranges SELECT family, start, id FROM events WHERE start IS NOT NULL;"
	    "INSERT OR REPLACE INTO meta(key, value)"
	    "  SELECT 'ranges_upto', coalesce(max(id), 0) FROM events;", e) != 0) {
		store_rollback(&s->base, NULL);
		return -1;
	}
	return store_commit(&s->base, e);
}

int
store_sqlite_index_repair(struct store_sqlite *s, struct err *e)
{
	const char *what = NULL;
	int64_t bad = 0;
	int rc = store_sqlite_index_check(s, &bad, &what, e);

	if (rc <= 0)
		return rc;
	if (store_sqlite_index_rebuild(s, e) != 0)
		return -1;
	return err_set(e, "audit-broken", "event %lld %s: the index was edited; it is rebuilt from "
	    "the events", (long long)bad, what);
}

/* Walks the whole log in id order (a fresh statement: it may take a while and is rare), then
 * checks history's index (and rebuilds it when it does not match). */
int
store_sqlite_audit_verify(struct store *st, struct audit_verifier *v, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	struct store_verify_arg a = { v, e, 0 };
	char head[AUDIT_HASH_HEXLEN + 1];
	sqlite3_stmt *q;
	uint64_t head_id;

	if (sqlite3_prepare_v2(s->db, "SELECT " STORE_EVENT_COLS " FROM events ORDER BY id", -1,
	    &q, NULL) != SQLITE_OK)
		return store_fail(s, e, "audit verify");
	if (store_event_rows(s, q, store_verify_cb, &a, e) != 0 || a.failed) {
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	if (store_sqlite_event_head(st, &head_id, head, e) != 0 ||
	    audit_verify_head(v, head_id, head, e) != 0)
		return -1;
	return store_sqlite_index_repair(s, e) != 0 ? -1 : 0;
}

/*
 * Migration 4 found events without a hash: seals them in id order (one transaction), so a
 * store created before the audit chain verifies from its first event.
 */
int
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
		if (hex_decode(prev, strlen(prev), prev_b, sizeof(prev_b)) == 0)
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
