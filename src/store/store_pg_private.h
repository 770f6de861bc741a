/*
 * store_pg_private — what the PostgreSQL backend's two files share: src/store/store_pg.c
 * (connection, schema, transactions, the address model's tables, load, open) and
 * src/store/store_pg_events.c (the event log and the one audit chain). Nothing outside those
 * two files includes it.
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
	PG_EVENTS_AFTER, PG_NQUERIES
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
};

#define STORE_PG_MAX_DEPTH 32
#define STORE_PG_MAX_ARGS 16

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
int64_t store_pg_int(const PGresult *r, int row, int col);
const char *store_pg_text(const PGresult *r, int row, int col);     /* NULL when NULL */
int store_pg_cidr(const PGresult *r, int row, int col, struct cidr *c, struct err *e);

/* ---- the event log (store_pg_events.c) ---- */

/* Takes the chain head's row lock unless this transaction holds it (see store_pg_head);
 * every write of a transaction calls it first, so all writers take their locks in one
 * order: the head, then rows (no deadlock between instances). */
int store_pg_head_lock(struct store_pg *s, struct err *e);
/* Writes a moved head to its row (inside the transaction, before its COMMIT). */
int store_pg_head_flush(struct store_pg *s, struct err *e);
int store_pg_event_head(struct store *st, uint64_t *id, char hash[AUDIT_HASH_HEXLEN + 1],
    struct err *e);
int store_pg_event_append(struct store *st, struct store_event *ev, struct err *e);
int store_pg_events_query(struct store *st, const struct cidr *c, int64_t since,
    int64_t until, store_event_cb cb, void *arg, struct err *e);
int store_pg_events_after(struct store *st, uint64_t after, unsigned limit,
    store_event_cb cb, void *arg, struct err *e);
int store_pg_audit_verify(struct store *st, struct audit_verifier *v, struct err *e);
int store_pg_events_index(struct store *st, struct err *e);

#endif
