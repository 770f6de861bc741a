/*
 * store_pg_private — what the PostgreSQL backend's files share: src/store/store_pg.c
 * (connection, schema, transactions, the address model's tables, load, open),
 * store_pg_events.c (the event log and the one audit chain), store_pg_feed.c (the change
 * feed), store_pg_sites.c and store_pg_pipe.c (statements deferred into one pipeline).
 * Nothing outside those files includes it.
 */
#ifndef PREFIXD_STORE_PG_PRIVATE_H
#define PREFIXD_STORE_PG_PRIVATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "store.h"

/* Prepared statements, named "p<index>" on the connection. */
enum {
	PG_SCOPE_PUT, PG_POOL_PUT, PG_PROV_PUT, PG_ALLOC_PUT, PG_RES_PUT,
	PG_DEL_SCOPE, PG_DEL_POOL, PG_DEL_PROV, PG_DEL_ALLOC, PG_DEL_RES,
	PG_EVENT_PUT, PG_EVENT_QUERY, PG_COUNTER_GET, PG_COUNTER_PUT,
	PG_DOC_PUT, PG_DOC_DEL, PG_DOC_LOAD, PG_HEAD_LOCK, PG_HEAD_GET, PG_HEAD_PUT,
	PG_EVENTS_AFTER, PG_FLUSH, PG_ID_BLOCK, PG_CHANGES_AFTER, PG_FLUSH_QUIET, PG_NOTIFY,
	PG_NQUERIES
};

/* The columns store_pg_row_event reads, in its order. */
#define STORE_PG_EVENT_COLS "id, time, actor, role, request_id, action, object_kind, cidr," \
	" before, after, evidence, hash"

/*
 * The audit chain head as the open transaction sees it. valid: this transaction holds the
 * head row's lock (SELECT ... FOR UPDATE) and id/hash are what it read or appended since;
 * dirty: appended events moved it past the row, which is written once, just before the
 * outermost COMMIT. The lock ends with the transaction, so COMMIT and ROLLBACK clear valid; a
 * savepoint that rolls back restores the head it began with (and PostgreSQL releases a lock
 * taken inside it, which valid = false then matches).
 */
struct store_pg_head {
	bool valid, dirty;
	uint64_t id;
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t seq;               /* the change feed's newest sequence number */
};

/* A change of the open transaction, numbered when it commits (store_pg_feed.c). */
struct store_pg_change {
	int table;                  /* enum store_table */
	bool put;
	bool sited;                 /* store_doc_put_sited: op 2 in the feed */
	uint64_t id;
	char *kind, *key;           /* documents */
};

/* Sequence numbers this store committed itself: the feed leaves them out (memory has them). */
#define STORE_PG_OWN 64

#define STORE_PG_MAX_DEPTH 32
#define STORE_PG_MAX_ARGS 16

/* A statement queued for the next pipeline flush (store_pg_pipe.c): prepared statement q
 * with copied parameters, or SQL text; level: the transaction depth it belongs to. */
struct store_pg_pending {
	int q, n, level;
	bool savepoint;             /* the SAVEPOINT that opens `level` */
	bool unsealed;              /* PG_EVENT_PUT without id and hash yet (store_pg_seal) */
	bool commit;                /* the outer COMMIT: "ROLLBACK" as its answer is a failure */
	char *sql;
	char *v[STORE_PG_MAX_ARGS];
};

/* PREFIXD_AUDIT: unset or "on"; "nochain": events without hashes; "off": no events. */
enum { STORE_PG_AUDIT_ON, STORE_PG_AUDIT_NOCHAIN, STORE_PG_AUDIT_OFF };

struct store_pg {
	struct store base;
	PGconn *conn;
	char *name;                 /* "postgresql DB on HOST", for messages and /v1/status */
	int audit;                  /* STORE_PG_AUDIT_*, from PREFIXD_AUDIT (benchmarks only) */
	double retry_at;            /* connection lost: no reconnect attempt before this */
	double backoff;             /* seconds until the next attempt after a failed one */
	struct store_pg_head head;
	struct store_pg_head saved[STORE_PG_MAX_DEPTH];
	struct audit_text canon;    /* the canonical form being hashed, reused */
	/* the change feed (store_pg_feed.c) */
	struct store_pg_change *chg;
	size_t nchg, chgcap;
	size_t chg_saved[STORE_PG_MAX_DEPTH];
	/* inner levels opened in a deferred batch send no SAVEPOINT (store_pg_begin): where
	 * each began in the queue, and the flush count then (a flush since: no undo) */
	struct { bool elided; size_t npend; unsigned long flushes; } lvl[STORE_PG_MAX_DEPTH];
	unsigned long flushes;      /* store_pg_flush calls that sent something */
	struct { uint64_t first, last; } own[STORE_PG_OWN];
	unsigned nown;              /* ranges written, ring index nown % STORE_PG_OWN */
	/* notifications (store.h STORE_NOTIFY_GAP): when the last went, whether the open
	 * transaction's flush holds its own back, the newest committed number none announced */
	double notify_at;
	bool flush_quiet;
	uint64_t notify_owed;
	char *dsn;                  /* for the listening connection */
	PGconn *listen;             /* LISTEN prefixd; NULL while lost */
	double listen_retry_at, listen_backoff;
	/* deferred statements (store_pg_pipe.c) */
	struct store_pg_pending *pend;
	size_t npend, pendcap;
	bool lazy_lock;             /* a write of a deferred batch was queued before the head
	                             * lock: the next flush takes it first (store_pg_seal) */
	/* the changes after prefetch_after, read with the head lock (store_pg_feed_sync) */
	PGresult *prefetch;
	uint64_t prefetch_after;
};

static inline struct store_pg *
store_pg(struct store *st)
{
	return (struct store_pg *)(void *)st;
}

/* Text parameters of one statement: integers and CIDRs are formatted into buf. */
struct store_pg_args {
	const char *v[STORE_PG_MAX_ARGS];
	char buf[STORE_PG_MAX_ARGS][64];
	int n;
};

void store_pg_arg_text(struct store_pg_args *a, const char *s);
void store_pg_arg_int(struct store_pg_args *a, int64_t v);
void store_pg_arg_id(struct store_pg_args *a, uint64_t id);     /* 0: NULL */
void store_pg_arg_cidr(struct store_pg_args *a, const struct cidr *c);

/* ---- helpers (store_pg.c) ---- */

/*
 * Turns a failed result into e and clears r (r may be NULL: the connection's message).
 * SQLSTATE 23P01 (an EXCLUDE constraint) is "overlap", 23505 on allocations_token is
 * "token-conflict", any other unique violation "exists", 53100 "storage-full", the rest
 * "store-failed" naming the store, what was done and PostgreSQL's message. Returns -1.
 */
int store_pg_fail(struct store_pg *s, PGresult *r, struct err *e, const char *what);
/* Runs prepared statement q with a's parameters. Returns the result (tuples or command ok;
 * the caller clears it) or NULL with e set. */
PGresult *store_pg_run(struct store_pg *s, int q, const struct store_pg_args *a,
    struct err *e);
/* store_pg_run for a statement whose result is not needed. */
int store_pg_do(struct store_pg *s, int q, const struct store_pg_args *a, struct err *e);
/* Runs SQL text (no parameters). */
int store_pg_exec(struct store_pg *s, const char *sql, struct err *e);
/* Before a statement outside a transaction: reconnects a lost connection (with backoff). */
int store_pg_ready(struct store_pg *s, struct err *e);
/* The connection is up and can take a statement: libpq says so, and it is not stuck in
 * pipeline mode (a connection that broke in the middle of a pipeline can keep
 * CONNECTION_OK with results nobody can collect; store_pg_ready then reconnects). */
bool store_pg_usable(const struct store_pg *s);
int64_t store_pg_int(const PGresult *r, int row, int col);
const char *store_pg_text(const PGresult *r, int row, int col);     /* NULL when NULL */
int store_pg_cidr(const PGresult *r, int row, int col, struct cidr *c, struct err *e);
/* An allocation row whose columns start at c (id, pool_id, cidr, kind, child_pool_id,
 * description, tags, locale, token, created); text pointers stay valid with q. */
int store_pg_alloc_cols(const PGresult *q, int i, int c, struct store_alloc *r, struct err *e);

/* ---- deferred statements (store_pg_pipe.c) ---- */

/* Inside a transaction: queues prepared statement q (a's values are copied) for the next
 * flush; outside one: runs it (store_pg_do). */
int store_pg_put(struct store_pg *s, int q, const struct store_pg_args *a, struct err *e);
/* Queues SQL text without parameters for level `level` (savepoint: it opens that level). */
void store_pg_put_sql(struct store_pg *s, int level, const char *sql, bool savepoint);
/* Sends every queued statement in one pipeline and reads the answers; the first error is
 * returned as store_pg_fail makes it (overlap, token-conflict, store-failed ...). The queue
 * is empty afterwards either way. */
int store_pg_flush(struct store_pg *s, struct err *e);
/* The same, when the queue ends with the outer COMMIT (store_pg_put_commit): *done says
 * whether the server answered the COMMIT (the transaction is over, committed unless
 * *rolled_back); not done, it is still open (a statement before it failed) or unknown (the
 * connection went). */
int store_pg_flush_commit(struct store_pg *s, bool *rolled_back, bool *done, struct err *e);
void store_pg_put_commit(struct store_pg *s);
/* In pipeline mode, after the statements' results: reads up to and including the sync. */
void store_pg_sync_drain(struct store_pg *s);
/* Drops the queued statements from index `from` on. */
void store_pg_pend_truncate(struct store_pg *s, size_t from);
/* Level `level` rolls back: drops what it queued. True when its SAVEPOINT was still queued
 * (the server never saw the level: nothing to roll back there). */
int store_pg_pend_rollback(struct store_pg *s, int level);
void store_pg_pend_clear(struct store_pg *s);
void store_pg_pend_free_all(struct store_pg *s);

/* ---- sites (store_pg_sites.c; store_sites.h) ---- */

extern const char store_pg_sites_migration[];          /* migration 2 */
extern const struct store_site_ops store_pg_site_ops;

/* ---- the event log (store_pg_events.c) ---- */

/* Takes the chain head's row lock unless this transaction holds it (see store_pg_head);
 * every write of a transaction calls it first, so all writers take their locks in one
 * order: the head, then rows (no deadlock between instances). */
int store_pg_head_lock(struct store_pg *s, struct err *e);
/* Reads a head row (id, hash[, seq]) and clears r; "audit-broken" when malformed. */
int store_pg_head_row(struct store_pg *s, PGresult *r, uint64_t *id,
    char hash[AUDIT_HASH_HEXLEN + 1], uint64_t *seq, struct err *e);
/* Writes a moved head to its row (inside the transaction, before its COMMIT). */
int store_pg_head_flush(struct store_pg *s, struct err *e);
/* A deferred batch (store_batch_defer) writes without the head lock and queues its events
 * unsealed; store_pg_flush calls this before it sends anything: the head lock first (so the
 * lock order, head then rows, holds), then each queued event gets its id and chain link in
 * queue order. The lock is thus held from the batch's flush to its COMMIT, not from its
 * first write: two instances' batches prepare in parallel and only their flushes queue. */
int store_pg_seal(struct store_pg *s, struct err *e);
int store_pg_event_head(struct store *st, uint64_t *id, char hash[AUDIT_HASH_HEXLEN + 1],
    struct err *e);
int store_pg_event_append(struct store *st, struct store_event *ev, struct err *e);
int store_pg_event_import(struct store *st, const struct store_event *ev, struct err *e);
int store_pg_events_page(struct store *st, struct store_event_page *pg, store_event_cb cb,
    void *arg, struct err *e);
int store_pg_events_after(struct store *st, uint64_t after, unsigned limit,
    store_event_cb cb, void *arg, struct err *e);
int store_pg_audit_verify(struct store *st, struct audit_verifier *v, struct err *e);
int store_pg_events_index(struct store *st, struct err *e);

/* ---- the change feed (store_pg_feed.c) ---- */

/* The size of an id block (store_id_block); block k of a table holds ids (k-1)*B+1 .. k*B. */
#define STORE_PG_ID_BLOCK 1024
/* How many feed entries one read returns (store_pg_changes_after). */
#define STORE_PG_FEED_PAGE 4096
/* Moves each table's block sequence past every stored id (migration 3, store_imported). */
#define STORE_PG_ID_SYNC_ONE(t, extra) \
	"SELECT setval('id_blocks_" t "', greatest((SELECT last_value + 1 FROM id_blocks_" t \
	"  WHERE is_called), (greatest(coalesce((SELECT max(id) FROM " t "), 0)" extra ") + 1023)" \
	"  / 1024 + 1), false);"
#define STORE_PG_ID_SYNC \
	STORE_PG_ID_SYNC_ONE("scopes", "") STORE_PG_ID_SYNC_ONE("pools", "") \
	STORE_PG_ID_SYNC_ONE("provisions", "") STORE_PG_ID_SYNC_ONE("resources", "") \
	STORE_PG_ID_SYNC_ONE("allocations", ", coalesce((SELECT value FROM counters" \
	"  WHERE name = 'allocation'), 0)")
/* Records a change of the open transaction. */
void store_pg_change(struct store_pg *s, enum store_table t, bool put, uint64_t id,
    const char *kind, const char *key);
/* Savepoints: how many changes to keep when level `depth` rolls back. */
void store_pg_changes_mark(struct store_pg *s, int depth);
void store_pg_changes_undo(struct store_pg *s, int depth);
/* Before the outermost COMMIT: numbers the changes, writes them and the moved head, and
 * notifies the other instances (delivered at COMMIT). On success store_pg_changes_done
 * records the numbers as this store's own after the COMMIT. */
int store_pg_changes_flush(struct store_pg *s, uint64_t *first, uint64_t *last,
    struct err *e);
void store_pg_changes_done(struct store_pg *s, uint64_t first, uint64_t last);
double store_pg_notify_due(struct store *st);
int store_pg_notify_send(struct store *st, struct err *e);
void store_pg_changes_clear(struct store_pg *s);
/* A PostgreSQL array literal being built ("{"a","b",NULL}"; zero-initialised): add appends
 * v (NULL: SQL NULL), quoted and escaped; put appends one character (the closing '}'). The
 * caller frees buf. */
struct store_pg_array {
	char *buf;
	size_t len, cap;
};
void store_pg_array_put(struct store_pg_array *a, char ch);
void store_pg_array_add(struct store_pg_array *a, const char *v);
int store_pg_id_block(struct store *st, enum store_table t, uint64_t *first, uint64_t *n,
    struct err *e);
int store_pg_feed_sync(struct store *st, uint64_t after, uint64_t *seq, struct err *e);
/* Forgets the changes store_pg_feed_sync read ahead (at the end of the transaction). */
void store_pg_prefetch_drop(struct store_pg *s);
int store_pg_changes_after(struct store *st, uint64_t after, store_change_cb cb, void *arg,
    uint64_t *last, struct err *e);
int store_pg_listen_fd(struct store *st);
int store_pg_notified(struct store *st);
bool store_pg_online(struct store *st);
void store_pg_listen_close(struct store_pg *s);

#endif
