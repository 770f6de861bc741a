/*
 * store_sqlite_private — what the SQLite backend's two files share: src/store/store_sqlite.c
 * (schema, transactions, the address model's tables, load, check, open) and
 * src/store/store_sqlite_events.c (the event log: append with the audit chain, history, the feed,
 * verification). Nothing outside those two files includes it.
 */
#ifndef PREFIXD_STORE_SQLITE_PRIVATE_H
#define PREFIXD_STORE_SQLITE_PRIVATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "store.h"

enum {
	Q_SCOPE_PUT, Q_POOL_PUT, Q_PROV_PUT, Q_ALLOC_PUT, Q_RES_PUT,
	Q_DEL_SCOPE, Q_DEL_POOL, Q_DEL_PROV, Q_DEL_ALLOC, Q_DEL_RES,
	Q_EVENT_PUT, Q_EVENT_QUERY, Q_COUNTER_GET, Q_COUNTER_PUT,
	Q_DOC_PUT, Q_DOC_DEL, Q_DOC_LOAD, Q_HEAD_GET, Q_HEAD_PUT, Q_EVENTS_AFTER,
	Q_RANGES_UPTO_GET, Q_RANGES_UPTO_PUT, Q_EVENTS_MAX, Q_RANGES_ADD, Q_NQUERIES
};

/* The columns store_col_event reads, in its order. */
#define STORE_EVENT_COLS "id, time, actor, role, request_id, action, object_kind, family," \
	" start, len, before, after, evidence, hash"

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

static inline struct store_sqlite *
store_sq(struct store *st)
{
	return (struct store_sqlite *)(void *)st;
}

static inline void
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static inline const char *
store_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* ---- helpers (store_sqlite.c) ---- */

/* store_fail: err "exists" on a constraint, else "store-failed" naming the path; -1. */
int store_fail(struct store_sqlite *s, struct err *e, const char *what);
int store_exec(struct store_sqlite *s, const char *sql, struct err *e);
int store_step(struct store_sqlite *s, int q, struct err *e);
/* Runs a prepared one-column SELECT whose parameters are bound: *v is its first row's
 * integer, 0 when there is no row; resets it and clears its bindings. what names it in e. */
int store_read_int(struct store_sqlite *s, int qi, int64_t *v, const char *what,
    struct err *e);
void store_bind_addr(sqlite3_stmt *st, int i, const struct cidr *c);
int store_col_cidr(sqlite3_stmt *st, int fam_col, int start_col, int len_col, struct cidr *c,
    struct err *e);

/* ---- sites (store_sqlite_sites.c; store_sites.h) ---- */

extern const char store_sqlite_sites_migration[];      /* migration 8 */
extern const struct store_site_ops store_sqlite_site_ops;

/* ---- the event log (store_sqlite_events.c) ---- */

/* The ops of the event log (store.h), the history SELECT (built once), SQL prefixd_unhex
 * (registered before migrations: migration 6 uses it), the chain head's write before the
 * outermost COMMIT, and the sealing of a store from before the chain (migration 4). */
const char *store_event_query_sql(void);
void store_sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv);
int store_head_flush(struct store_sqlite *s, struct err *e);
int store_sqlite_event_head(struct store *st, uint64_t *id, char hash[AUDIT_HASH_HEXLEN + 1],
    struct err *e);
int store_sqlite_event_append(struct store *st, struct store_event *ev, struct err *e);
int store_sqlite_event_import(struct store *st, const struct store_event *ev, struct err *e);
int store_sqlite_events_query(struct store *st, const struct cidr *c, int64_t since,
    int64_t until, store_event_cb cb, void *arg, struct err *e);
int store_sqlite_events_after(struct store *st, uint64_t after, unsigned limit,
    store_event_cb cb, void *arg, struct err *e);
int store_sqlite_audit_verify(struct store *st, struct audit_verifier *v, struct err *e);
int store_sqlite_audit_seal_old(struct store_sqlite *s, struct err *e);
int store_sqlite_events_index(struct store *st, struct err *e);
/* History's address index against the events: 0 when it matches; when it does not, rebuilds
 * it and returns -1 with e "audit-broken" naming the first event it hid (or -1, store error). */
int store_sqlite_index_repair(struct store_sqlite *s, struct err *e);

#endif
