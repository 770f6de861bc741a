/*
 * store — persistence interface of the address model (SPEC §6 "Store", DESIGN decision 2).
 *
 * The store is the truth; ipam's memory is an index rebuilt from it at start (ipam_load).
 * This header is backend-neutral: a struct store carries an ops table; the backends are
 * store_sqlite.c (embedded, WAL, synchronous=FULL) and store_pg.c (PostgreSQL, store_pg.h),
 * each with versioned migrations. No SQL appears outside the backends.
 *
 * Rows are plain structs. ids are assigned by ipam (max id + 1 at load), so they are stable
 * across restarts and identical in every backend. Text fields may be NULL (absent). Tag lists
 * are stored as the text ipam encodes ("key=value" lines); the store does not interpret them.
 *
 * Transactions nest: store_begin opens a transaction at depth 0 and a savepoint inside one;
 * store_commit / store_rollback close the innermost level. The daemon opens one outer
 * transaction for a batch of requests (group commit); each ipam mutation opens its own inner
 * level, so a refused or failed mutation leaves the batch's earlier writes intact. If the outer
 * COMMIT fails, the caller must rebuild memory with ipam_load (the documented recovery).
 *
 * The store enforces uniqueness itself, independent of ipam's index: UNIQUE(pool, start
 * address) on allocations, UNIQUE(pool, token) on client tokens, UNIQUE names.
 *
 * Every call returns 0 or -1 with e set (code "store-failed", "exists" on a UNIQUE violation,
 * "storage-full" when the disk is full).
 * Only the libev loop thread uses a store.
 */
#ifndef PREFIXD_STORE_H
#define PREFIXD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"

struct store;
struct audit_verifier;
struct audit_key;
struct store_site_ops;

struct store_scope {
	uint64_t id;
	const char *name;
	int kind;                   /* enum ipam_scope_kind */
};

struct store_pool {
	uint64_t id;
	const char *name;
	uint64_t scope_id;
	uint64_t parent_id;         /* 0: top-level */
	int family;                 /* CIDR_V4 / CIDR_V6 */
	const char *locale;
	const char *description;
	int default_netmask;        /* -1: unset */
	int min_netmask;
	int max_netmask;
	const char *required_tags;  /* encoded tag list */
	const char *tags;
	int alarm_at;               /* percent */
	uint32_t origin_asn;        /* 0: none */
	int64_t created;
};

/* A provisioned CIDR. For a child pool, alloc_id is the kind=pool allocation in the parent. */
struct store_provision {
	uint64_t id;
	uint64_t pool_id;
	struct cidr cidr;
	uint64_t alloc_id;          /* 0 for a top-level pool */
	int64_t created;
};

struct store_alloc {
	uint64_t id;
	uint64_t pool_id;
	struct cidr cidr;
	int kind;                   /* enum ipam_alloc_kind */
	uint64_t child_pool_id;     /* kind=pool: the child pool it supplies */
	const char *description;
	const char *tags;
	const char *locale;
	const char *token;
	int64_t created;
};

struct store_resource {
	uint64_t id;
	uint64_t scope_id;
	struct cidr cidr;
	const char *name;
	const char *tags;
	int64_t created;
};

/* One change to a CIDR (SPEC §2 History). JSON texts are produced by the caller. */
struct store_event {
	uint64_t id;                /* assigned by the store on append */
	int64_t time;               /* unix seconds */
	const char *actor;
	const char *role;
	const char *request_id;
	const char *action;         /* "allocate", "release", "provision", ... */
	const char *object_kind;    /* "allocation", "pool", "scope", "resource", ... */
	bool has_cidr;
	struct cidr cidr;
	const char *before;         /* JSON text or NULL */
	const char *after;
	const char *evidence;
	const char *hash;           /* audit chain hash (hex), set by the store; NULL when unsealed */
};

/* Rows streamed by store_load, in dependency order: scopes, pools (ascending id, so parents
 * come first), provisions, allocations, resources. A callback returning -1 stops the load;
 * it should set e itself. Pointers in a row are valid only during the call. */
struct store_load_cb {
	int (*scope)(void *arg, const struct store_scope *r, struct err *e);
	int (*pool)(void *arg, const struct store_pool *r, struct err *e);
	int (*provision)(void *arg, const struct store_provision *r, struct err *e);
	int (*alloc)(void *arg, const struct store_alloc *r, struct err *e);
	int (*resource)(void *arg, const struct store_resource *r, struct err *e);
	/* Optional (may be NULL; backends with a change feed call it once, after the rows):
	 * the change sequence number the rows are a snapshot of (see "Change feed"). */
	int (*feed)(void *arg, uint64_t seq, struct err *e);
};

/* Called for each event of a query, oldest first. Return 0 to go on, -1 to stop. */
typedef int (*store_event_cb)(void *arg, const struct store_event *ev);
/* Every document of every kind, and every counter (store_doc_each, store_counter_each). */
typedef int (*store_doc_all_cb)(void *arg, const char *kind, const char *key, const char *doc,
    struct err *e);
typedef int (*store_counter_cb)(void *arg, const char *name, int64_t value, struct err *e);

/*
 * One page of history (store_events_page): the events whose CIDR overlaps cidr, with
 * since <= time <= until and id > after, oldest first, at most limit (>= 1). next is set to
 * the id to continue after, or 0 when nothing is left. A page may hold fewer than limit
 * events (even none) and still have a next: each call reads a bounded number of rows, so one
 * request never holds the loop for long (issue 15, finding 5).
 */
struct store_event_page {
	const struct cidr *cidr;
	int64_t since, until;
	uint64_t after;
	unsigned limit;
	uint64_t next;              /* out */
};

enum store_table {
	STORE_SCOPE,
	STORE_POOL,
	STORE_PROVISION,
	STORE_ALLOC,
	STORE_RESOURCE,
	STORE_DOC,                  /* change feed only: a document (kind, key) */
};

/*
 * One entry of the change feed: a row of table `table` with `id` was written (put) or deleted.
 * For a put of an allocation that is still stored, alloc is the row as it is now (NULL when it
 * was deleted since: a later entry says so). Documents carry kind and key (id 0).
 */
struct store_change {
	uint64_t seq;
	enum store_table table;
	bool put;                   /* false: removed */
	bool sited;                 /* a document put by store_doc_put_sited */
	uint64_t id;
	const struct store_alloc *alloc;
	const char *doc_kind, *doc_key;
};
typedef int (*store_change_cb)(void *arg, const struct store_change *c, struct err *e);

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	int (*begin)(struct store *st, struct err *e);
	int (*commit)(struct store *st, struct err *e);
	int (*rollback)(struct store *st, struct err *e);
	int (*scope_put)(struct store *st, const struct store_scope *r, struct err *e);
	int (*pool_put)(struct store *st, const struct store_pool *r, struct err *e);
	int (*provision_put)(struct store *st, const struct store_provision *r, struct err *e);
	int (*alloc_put)(struct store *st, const struct store_alloc *r, struct err *e);
	int (*resource_put)(struct store *st, const struct store_resource *r, struct err *e);
	int (*remove)(struct store *st, enum store_table t, uint64_t id, struct err *e);
	int (*event_append)(struct store *st, struct store_event *ev, struct err *e);
	int (*events_page)(struct store *st, struct store_event_page *pg, store_event_cb cb,
	    void *arg, struct err *e);
	int (*load)(struct store *st, const struct store_load_cb *cb, void *arg, struct err *e);
	int (*check)(struct store *st, struct err *e);
	int (*counter_get)(struct store *st, const char *name, int64_t *value, struct err *e);
	int (*counter_put)(struct store *st, const char *name, int64_t value, struct err *e);
	int (*doc_put)(struct store *st, const char *kind, const char *key, const char *doc,
	    struct err *e);
	int (*doc_remove)(struct store *st, const char *kind, const char *key, struct err *e);
	int (*doc_load)(struct store *st, const char *kind,
	    int (*cb)(void *arg, const char *key, const char *doc, struct err *e), void *arg,
	    struct err *e);
	int (*events_after)(struct store *st, uint64_t after, unsigned limit, store_event_cb cb,
	    void *arg, struct err *e);
	int (*event_head)(struct store *st, uint64_t *id, char hash[65], struct err *e);
	int (*audit_verify)(struct store *st, struct audit_verifier *v, struct err *e);
	int (*events_index)(struct store *st, struct err *e);
	const struct store_site_ops *sites;     /* store_sites.h (issue 17) */
	/* Optional (NULL: the backend has one writer and no feed; see "Several instances"). */
	int (*id_block)(struct store *st, enum store_table t, uint64_t *first, uint64_t *n,
	    struct err *e);
	int (*feed_sync)(struct store *st, uint64_t after, uint64_t *seq, struct err *e);
	int (*changes_after)(struct store *st, uint64_t after, store_change_cb cb, void *arg,
	    uint64_t *last, struct err *e);
	int (*listen_fd)(struct store *st);
	int (*notified)(struct store *st);
	double (*notify_due)(struct store *st);
	int (*notify_send)(struct store *st, struct err *e);
	bool (*online)(struct store *st);
	/* Copying a whole store (store_migrate.h; see "Copying a store" below). */
	int (*doc_each)(struct store *st, store_doc_all_cb cb, void *arg, struct err *e);
	int (*counter_each)(struct store *st, store_counter_cb cb, void *arg, struct err *e);
	int (*event_import)(struct store *st, const struct store_event *ev, struct err *e);
	int (*imported)(struct store *st, struct err *e);   /* optional (NULL: nothing to do) */
};

struct store {
	const struct store_ops *ops;
	int depth;                  /* open transaction levels; maintained by store_begin/... */
	bool batch_defer;           /* store_batch_defer: inner levels need no answer */
	bool batch_failed;          /* store_batch_fail: the outer COMMIT rolls back */
	bool batch_refused;         /* store_batch_refused: see there; reset by the outer BEGIN */
	bool release_early;         /* store_release_early: until the outer level closes */
	uint64_t feed_epoch;        /* store_feed_epoch */
	bool doc_sited;             /* inside store_doc_put_sited */
	/* the keyed chain (store_audit_key, store_audit.c); zero: unkeyed, nothing published */
	const struct audit_key *audit_key;  /* the links are HMACs with it; not owned */
	char *audit_head;                   /* the published head's file */
	int audit_head_fd;                  /* open on it (valid while audit_head is set) */
	uint64_t audit_published;           /* the last event published; UINT64_MAX: never again */
};

/* Opens (creating if needed) the SQLite store at path and runs pending migrations. Returns
 * 0 and *out, or -1 (store-failed naming the path and SQLite's reason). */
int store_sqlite_open(const char *path, struct store **out, struct err *e);
/* Closes any backend; rolls back an open transaction. store_close(NULL) is a no-op. */
void store_close(struct store *st);

/* Current schema version of the SQLite backend (the number of migrations). */
int store_sqlite_schema_version(void);

/* Transactions (see above). store_in_txn is true while any level is open. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
int store_rollback(struct store *st, struct err *e);
bool store_in_txn(const struct store *st);
/*
 * store_batch_defer(st, true), inside an outer transaction: until the outer level closes (or
 * store_batch_defer(st, false)), closing an inner level asks the backend for no answer, so a
 * backend that ships statements over a network (PostgreSQL) queues the level's release with
 * its writes and sends a whole batch of them in one round trip at the outer COMMIT (or when a
 * read needs an answer first). The price: a write that fails is seen only there, so it fails
 * the whole outer transaction rather than its own level. For callers whose levels do not
 * expect refusals (the lifecycle's batches of state changes: any failure is the store's, and
 * the batch is then undone as a whole, lc_batch_undo; the API's batches of ipam requests on
 * PostgreSQL, which decide from memory brought up to the feed under the writer lock, so a
 * refusal means memory was wrong: the batch is run again without the mode, where a
 * constraint refusal reaches the one request, store_batch_refused and api.c). PostgreSQL also
 * takes the audit chain head's lock only at that flush (store_pg_seal, store_pg_private.h).
 * SQLite answers every statement at once; there the mode matters only through its callers
 * (the lifecycle then writes without inner levels, so one failed write fails its whole batch
 * on both backends). Ends by itself when the outer level closes.
 */
void store_batch_defer(struct store *st, bool on);
/* True while store_batch_defer is on: a caller may then write at the batch's own level
 * instead of opening an inner one per item (its writes are sent together anyway, and a
 * failure fails the batch). A caller that does so and sees a write fail calls
 * store_batch_fail: the outer COMMIT then rolls back and fails ("store-failed"), so no item
 * is left half written. */
bool store_batch_deferred(const struct store *st);
void store_batch_fail(struct store *st);
/* After a failed outer COMMIT of a deferred batch: true when the database refused one of its
 * statements before the COMMIT was sent (a constraint, an aborted transaction) and the
 * connection is fine, so nothing of the batch was committed and it may be run again. False
 * when the failure was the connection's or the COMMIT's own (the outcome may be unknown). */
bool store_batch_refused(const struct store *st);
/*
 * store_release_early(st), inside an outer transaction: its locks may be released before its
 * COMMIT is durable; store_commit still returns only once it is. PostgreSQL commits the
 * transaction asynchronously (synchronous_commit off for it alone: the commit record is
 * written, the locks released, the WAL not yet flushed) and, in the same round trip, runs a
 * second transaction of one logical WAL message whose ordinary, synchronous commit flushes
 * the log past the first one (and waits for synchronous standbys, if any). So the next
 * instance waiting for the writers' lock starts one flush sooner; the flushes of several
 * instances' batches overlap and share fsyncs. The price: other instances can read the
 * transaction up to one flush before it is durable, and if the server crashes in that
 * window it is lost, never acknowledged; anything another instance decided from it and
 * committed lies after it in the log and is lost with it. For callers whose transaction has
 * no effect outside the store but the answers sent after store_commit (the API's batches of
 * ipam requests, api.c); the lifecycle's batches, whose desires other sites act on at their
 * routers, never use it. SQLite ignores it. Ends by itself when the outer level closes.
 */
void store_release_early(struct store *st);

int store_scope_put(struct store *st, const struct store_scope *r, struct err *e);
int store_pool_put(struct store *st, const struct store_pool *r, struct err *e);
int store_provision_put(struct store *st, const struct store_provision *r, struct err *e);
int store_alloc_put(struct store *st, const struct store_alloc *r, struct err *e);
int store_resource_put(struct store *st, const struct store_resource *r, struct err *e);
/* Deletes row id of table t; deleting a missing row is not an error. */
int store_remove(struct store *st, enum store_table t, uint64_t id, struct err *e);

/* Appends ev (ev->id is set). Called inside the mutation's transaction. */
int store_event_append(struct store *st, struct store_event *ev, struct err *e);
/* Events whose CIDR overlaps c (equal, inside or covering it), with since <= time <= until
 * (pass 0 / INT64_MAX for no bound), oldest first. Always complete: events not yet in the
 * address index (see store_events_index) are found by a scan of the log's tail. */
int store_events_query(struct store *st, const struct cidr *c, int64_t since, int64_t until,
    store_event_cb cb, void *arg, struct err *e);
/* For the backends: the events of a page go through store_page_push, which hands the first
 * `limit` to cb and stops (returns 1) at the next one, noting that more is left. */
struct store_page_acc {
	store_event_cb cb;
	void *arg;
	unsigned limit, n;
	bool more;
	uint64_t last;              /* id of the last event handed to cb */
};
int store_page_push(struct store_page_acc *a, const struct store_event *ev);
/* One bounded page of that query (struct store_event_page); store_events_query walks every
 * page. Ordered by id, so a cursor (pg->next) neither skips nor repeats an event. */
int store_events_page(struct store *st, struct store_event_page *pg, store_event_cb cb,
    void *arg, struct err *e);
/*
 * Brings history's address index up to the newest event, in a transaction of its own (a
 * savepoint when one is open). The index is derived data: writing it in batches, not in
 * every change's commit, keeps a change's commit to the pages of the change and its event
 * (the daemon calls this about once a second; SQLite migration 7). Cheap when nothing is new.
 */
int store_events_index(struct store *st, struct err *e);

/* Streams every row to cb (see struct store_load_cb). */
int store_load(struct store *st, const struct store_load_cb *cb, void *arg, struct err *e);
/* Named persistent counters (ipam reserves id ranges with them so that an id is never
 * issued twice, even after a release and a restart). A missing counter reads as 0. */
int store_counter_get(struct store *st, const char *name, int64_t *value, struct err *e);
int store_counter_put(struct store *st, const char *name, int64_t value, struct err *e);

/*
 * Documents: one JSON text per (kind, key), for state of other modules that is not part of
 * the address model. The public-prefix lifecycle keeps one per prefix (kind "prefix", key the
 * canonical CIDR: state, failure_reason, evidence, drain deadline, ...). Put inserts or
 * replaces; removing a missing key is not an error; load streams every document of KIND in
 * key order (a callback returning -1 stops it and should set e). Puts and removes join the
 * open transaction like every other write.
 */
typedef int (*store_doc_cb)(void *arg, const char *key, const char *doc, struct err *e);
int store_doc_put(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e);
/* store_doc_put of a document whose change concerns only the writing instance's own site
 * (a prefix's routing state there, issue 17): the change feed marks it (store_change.sited),
 * so that another instance, which keeps its own site's state, may leave it unread. */
int store_doc_put_sited(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e);
int store_doc_remove(struct store *st, const char *kind, const char *key, struct err *e);
int store_doc_load(struct store *st, const char *kind, store_doc_cb cb, void *arg,
    struct err *e);

/*
 * Audit chain (audit.h; SQLite migration 4). store_event_append seals every event: it takes
 * the chain head (last id and hash, kept in the meta table), gives the event id head+1 and
 * hash = audit_chain_link(key, head hash, canonical form) (unkeyed SHA-256 unless
 * store_audit_key gave a key, then HMAC-SHA256), and moves the head, all inside the
 * caller's transaction, so an event is durable exactly when the change it describes is.
 * Events written before migration 4 are sealed, in id order, when the store is opened.
 * For benchmarks only (tests/tools/obs_bench_audit.sh measures what the audit log costs),
 * the environment variable PREFIXD_AUDIT=nochain writes events without hashes (verify then
 * fails) and PREFIXD_AUDIT=off writes no events at all (ev->id is 0).
 *
 * store_events_after streams at most `limit` events with id > after, oldest first (the
 * event feed). store_event_head reads the chain head (0 and AUDIT_GENESIS when empty).
 * store_audit_verify walks every event in id order through audit_verify_step and then
 * compares the last one with the head; returns 0, or -1 with e "audit-broken" naming the
 * first event that does not check (edited, missing, or a truncated tail). v holds the count.
 */
int store_events_after(struct store *st, uint64_t after, unsigned limit, store_event_cb cb,
    void *arg, struct err *e);
int store_event_head(struct store *st, uint64_t *id, char hash[65], struct err *e);
int store_audit_verify(struct store *st, struct audit_verifier *v, struct err *e);

/*
 * The keyed chain (issue 15; audit.h, audit_key.h, store_audit.c). Called once after the
 * store is opened, before anything is written. With k (the daemon's [daemon] audit_key_file,
 * which must outlive the store): every later link is an HMAC with k; a store not keyed yet
 * gets the switch event (the first event of a new store); the head is published to head_path
 * after every outermost COMMIT that moved it (the backends call store_audit_published), and a
 * published head the store no longer matches is logged at start and kept. Without k: the
 * chain stays unkeyed. Returns 0, or -1 with e "conf-invalid" when the store's chain is keyed
 * and k is NULL or another key (a chain keeps its key), or a store error.
 * store_audit_verify sets the verifier's key and the published head (audit-broken when it was
 * removed or does not check), then walks the backend's log.
 */
int store_audit_key(struct store *st, const struct audit_key *k, const char *head_path,
    struct err *e);
void store_audit_published(struct store *st, uint64_t id, const char *hash);

/* Integrity check of the backend (SQLite: PRAGMA integrity_check). 0 when ok. */
int store_check(struct store *st, struct err *e);

/*
 * Several instances on one store (PostgreSQL; SQLite has one writer and none of this: the
 * calls below answer "no feed" there, see each).
 *
 * ids: store_id_block hands out a block of ids of table t that no other instance gets
 * (first, n), from the database. Returns 1 when the backend has no id blocks (ipam then
 * numbers from its memory, as for SQLite), 0 with the block, -1 on failure.
 *
 * Change feed: every committed put or remove of a row (and of a document) has a sequence
 * number, in commit order, without gaps. store_feed_sync returns the newest number; inside a
 * transaction it first takes the lock that serialises writers (so nothing newer can commit
 * before this transaction does: memory brought up to *seq is exact for the whole batch).
 * store_feed_sync_from is the same for a caller that will then read the entries after
 * `after` (its position): the backend may fetch them in the same round trip as the lock.
 * store_changes_after streams the entries after `after`, oldest first, leaving out those this
 * store wrote itself (memory has them), and sets *last to the newest number read; -1 with e
 * "feed-gap" when entries after `after` are no longer kept (reload instead). Without a feed
 * store_feed_sync sets *seq = 0 and store_changes_after streams nothing.
 *
 * store_listen_fd is a descriptor that becomes readable when another instance commits (-1:
 * none); store_notified consumes what arrived and returns how many notifications came from
 * other instances' commits (-1 when the listening connection is lost; the next call
 * reconnects, with backoff). store_online is false
 * while the backend's connection is lost (writes then fail store-failed; reads come from
 * memory).
 *
 * A commit's notification is held back while this store sent one less than
 * STORE_NOTIFY_GAP seconds before (a busy instance commits hundreds of times a second, and
 * every notification wakes every instance's listening connection, its own included):
 * store_notify_due says in how many seconds a held one is due (0: now; -1: none held),
 * store_notify_send sends it outside a transaction (0, or -1 with e; then the others see the
 * change at their next look, within a second). So another instance hears of a commit at
 * most STORE_NOTIFY_GAP later than it would have.
 */
#define STORE_NOTIFY_GAP 0.02
int store_id_block(struct store *st, enum store_table t, uint64_t *first, uint64_t *n,
    struct err *e);
int store_feed_sync(struct store *st, uint64_t *seq, struct err *e);
int store_feed_sync_from(struct store *st, uint64_t after, uint64_t *seq, struct err *e);
int store_changes_after(struct store *st, uint64_t after, store_change_cb cb, void *arg,
    uint64_t *last, struct err *e);
bool store_has_feed(const struct store *st);
/*
 * How many times the backend's connection was established again after it was lost (0 on
 * SQLite). A change feed position read in an earlier epoch may be void: a server that
 * crashed lost whatever it had not flushed yet (another instance's commit that released its
 * lock before its flush, store_release_early, may have been read by then) and numbers its
 * next changes with the same sequence numbers. So a follower keeps the epoch of its position
 * and, when it changed, starts over from the store (ipam_follow, lifecycle_ctl_follow),
 * as at start.
 */
uint64_t store_feed_epoch(const struct store *st);
int store_listen_fd(struct store *st);
int store_notified(struct store *st);
double store_notify_due(struct store *st);
int store_notify_send(struct store *st, struct err *e);
bool store_online(struct store *st);

/*
 * Copying a store (prefixd --migrate-store, store_migrate.h). store_doc_each streams every
 * document in (kind, key) order and store_counter_each every counter in name order (a
 * callback returning -1 stops and sets e). store_event_import writes an event as another
 * store sealed it: its id, fields and hash verbatim (the link is not recomputed, so a chain
 * keyed or sealed by any version of audit_chain_hash moves unchanged), and moves the chain
 * head to (ev->id, ev->hash); ev->id must be the head's id + 1 and ev->hash a hash, else -1
 * "audit-broken" and nothing is written. store_imported runs after rows were written with
 * ids chosen elsewhere (PostgreSQL: moves its id blocks past them, as its migration 3 does).
 * All four join the open transaction; only the migration calls them, with every instance
 * stopped.
 */
int store_doc_each(struct store *st, store_doc_all_cb cb, void *arg, struct err *e);
int store_counter_each(struct store *st, store_counter_cb cb, void *arg, struct err *e);
int store_event_import(struct store *st, const struct store_event *ev, struct err *e);
int store_imported(struct store *st, struct err *e);

#endif
