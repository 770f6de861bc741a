/*
 * store_pg — the PostgreSQL backend of store.h over libpq (issue 16): connection, schema and
 * migrations, transactions, the address model's tables, documents, counters, load, open, and
 * what copying a whole store needs (every document and counter, the id blocks moved past
 * copied ids: store_migrate.c). The event log and the audit chain are in store_pg_events.c,
 * the change feed in store_pg_feed.c, the deferred statements (pipeline mode) in
 * store_pg_pipe.c (shared state in
 * store_pg_private.h); the backend-neutral wrappers are in store.c.
 *
 * The database holds the address plan's invariants itself, so that no bug in any instance's
 * memory (ipam is a cache of the store) can break them:
 *
 *   constraint                          invariant it holds
 *   allocations_no_overlap_v4           two IPv4 allocations in one pool never share an
 *     EXCLUDE USING spgist (prefixd_alloc_key4(pool_id, cidr) WITH &&)   address
 *     WHERE (family(cidr) = 4)
 *   allocations_no_overlap_v6           two IPv6 allocations in one pool never share an
 *     EXCLUDE USING gist (pool_id WITH =, cidr inet_ops WITH &&)   address (btree_gist for =)
 *     WHERE (family(cidr) = 6)
 *   provisions_top_level_no_overlap     top-level CIDRs (provisions not carved from a parent
 *     EXCLUDE USING gist (scope_id WITH =, cidr inet_ops WITH &&)  pool's allocation) in one
 *     WHERE (alloc_id IS NULL)                                     scope never overlap
 *   allocations_token                   a client token names at most one allocation per pool
 *     UNIQUE (pool_id, token) WHERE token IS NOT NULL
 *   provisions_pool_cidr, primary keys, names UNIQUE               as in the SQLite backend
 *   audit_head: one row (CHECK one)     one audit chain: the head every append moves
 *
 * Allocations of the two families cannot overlap, so one constraint per family is the whole
 * invariant. IPv6 keeps the gist form issue 16 named; IPv4 (migration 5) uses one SP-GiST
 * column instead, since SP-GiST takes one column only: prefixd_alloc_key4 writes the pool id
 * into the top 64 bits of an IPv6 prefix and the IPv4 CIDR into the low 32, masked at 96 +
 * its length, so two keys overlap exactly when the pool is the same and the CIDRs overlap
 * (any bigint pool id). Why: the gist check was the largest cost inside the writers' lock.
 * A gist index of inet keeps a common prefix per page, and pages of densely allocated,
 * consecutive CIDRs straddle bit boundaries, so one overlap probe reads ~20 pages; measured
 * (one pool, 60,000 /32s): 100-110 us per insert with the gist constraint, 10 with the
 * SP-GiST (radix tree) one, 1.6 with none; in the 3-instance benchmark the INSERT went from
 * 84 us of server time to 29 (tests/bench/bench_pg.sh; pg_stat_statements). IPv6
 * allocations cannot use the same key (a pool id and 128 bits do not fit in one address).
 *
 * A violation reaches the caller as the store's error code, never as a 500: SQLSTATE 23P01
 * (exclusion) is "overlap", 23505 on allocations_token is "token-conflict", any other unique
 * violation "exists" (store_pg_fail); the API answers 409.
 *
 * Locking: every writing transaction first takes the audit head row's lock (FOR UPDATE,
 * store_pg_head_lock) and keeps it to COMMIT; a daemon batch takes it at its very start
 * (ipam_follow -> store_feed_sync), then brings memory up to the change feed, so that what
 * the batch decides from memory (the free CIDR, the token, the id) is exact for the whole
 * transaction. That one lock is what keeps one unbroken chain across instances and numbers
 * the change feed without gaps, and because it is the only lock a writer waits for, two
 * instances never wait on each other in opposite orders (no deadlock, and an exclusion check
 * that would wait for another transaction's insert always finds it finished). One
 * exception, for the lifecycle's batches (store_batch_defer, store.h), which decide nothing
 * from the feed inside the transaction: their writes are queued without the lock and their
 * events unsealed, and store_pg_seal (store_pg_events.c) takes the lock before the first of
 * them is sent (so the order head-then-rows holds) and seals the events in queue order; the
 * lock is then held from that flush to COMMIT only, and two instances' batches of 1,000
 * state changes prepare in parallel (tests/bench/bench_sites.sh).
 * It serialises writing transactions of all instances, NOT per pool. Why not per pool
 * (pg_advisory_xact_lock(pool) and the head locked only at the very end): a batch holds
 * several pools' locks in request order, so two instances deadlock (PostgreSQL breaks it only
 * after deadlock_timeout, 1 s, which superuser alone can lower), and a batch would need the
 * feed read again after every pool lock; the chain head at the end still serialises every
 * COMMIT's fsync. Round trips: a batch costs three, whatever its size: BEGIN; the head lock
 * with the feed after the caller's position (store_pg_feed_sync, one pipeline); and the
 * queued writes with the feed entry (PG_FLUSH) and the COMMIT (store_pg_commit_outer, one
 * pipeline). Inside, the API's batches of allocations and releases run deferred
 * (store_batch_defer, api.c): their inner levels send no SAVEPOINT and no request waits for
 * its own statements; a refusal fails the batch, which the API replays level by level, where
 * each request's SAVEPOINT, writes and RELEASE go in one pipeline (store_pg_pipe.c) and a
 * refusal reaches the one request. Measured (tests/bench/bench_pg_trips.sh, 16 clients, 1
 * instance): 4.47 round trips per allocation with a statement at a time, 1.49 with a pipeline
 * per request, 0.38 deferred. With several instances busy the lock passes from batch to
 * batch, so its hold time bounds their throughput. Two things keep it short: the overlap
 * check of IPv4 allocations is an SP-GiST probe (migration 5, above), and an API batch of
 * allocations and releases releases the lock before its COMMIT is flushed
 * (store_release_early, store.h): "SET LOCAL synchronous_commit TO off" goes before its
 * COMMIT and, in the same pipeline after it, a transaction of one logical WAL message whose
 * synchronous commit flushes the log past it; the caller answers after that. Other instances
 * may so read a commit one flush before it is durable, and a server that crashes then loses
 * it and numbers its next changes the same: on every reconnect (every crash cuts every
 * connection) the store starts a new feed epoch, whose followers start over
 * (store_feed_epoch), and forgets its own last numbers (store_pg_own).
 * Throughput (tests/bench/bench_pg.sh BUILD 300, 16 clients, one pool, fsync on, 2 shared
 * CPUs, alternating runs): 3 instances 2,900-3,500 alloc/s before these two, 4,400-5,800
 * after (the README has the runs; the lock wait per batch fell from 2.0 to 0.5 ms).
 * Reads take no lock.
 *
 * Transactions nest as store.h says: BEGIN at depth 0, SAVEPOINT sN inside. PostgreSQL
 * answers a COMMIT of a transaction that already failed with "ROLLBACK" and no error; that
 * is reported as a failed commit, so the caller undoes the batch (as with SQLite).
 *
 * Schema: an ordered array of migrations (4: documents compress with lz4, not pglz, where
 * the server has it; 5: IPv4 allocations' overlap check on SP-GiST, above); schema_version
 * holds how many ran. All pending migrations run in one transaction under an advisory lock,
 * so instances starting together migrate once; a schema newer than this binary is refused.
 * Parameters and results are text.
 *
 * Connection loss: a statement fails "store-failed"; the next statement outside a
 * transaction reconnects (store_pg_ready), at most once per backoff period (0.1 s doubling
 * to 5 s), so a dead server does not block the loop on every request.
 */
#include "store_pg_private.h"
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *const store_pg_migrations[] = {
	/* 1: the address model, events, the audit chain head, counters, documents */
	("CREATE EXTENSION IF NOT EXISTS btree_gist;"
	"CREATE TABLE scopes(id bigint PRIMARY KEY, name text NOT NULL UNIQUE,"
	"  kind integer NOT NULL);"
	"CREATE TABLE pools(id bigint PRIMARY KEY, name text NOT NULL UNIQUE,"
	"  scope_id bigint NOT NULL, parent_id bigint, family integer NOT NULL, locale text,"
	"  description text, default_netmask integer NOT NULL, min_netmask integer NOT NULL,"
	"  max_netmask integer NOT NULL, required_tags text, tags text,"
	"  alarm_at integer NOT NULL, origin_asn bigint NOT NULL, created bigint NOT NULL);"
	"CREATE TABLE provisions(id bigint PRIMARY KEY, pool_id bigint NOT NULL,"
	"  scope_id bigint NOT NULL, cidr cidr NOT NULL, alloc_id bigint,"
	"  created bigint NOT NULL,"
	"  CONSTRAINT provisions_pool_cidr UNIQUE (pool_id, cidr),"
	"  CONSTRAINT provisions_top_level_no_overlap EXCLUDE USING gist"
	"    (scope_id WITH =, cidr inet_ops WITH &&) WHERE (alloc_id IS NULL));"
	"CREATE TABLE allocations(id bigint PRIMARY KEY, pool_id bigint NOT NULL,"
	"  cidr cidr NOT NULL, kind integer NOT NULL, child_pool_id bigint, description text,"
	"  tags text, locale text, token text, created bigint NOT NULL,"
	"  CONSTRAINT allocations_no_overlap EXCLUDE USING gist"
	"    (pool_id WITH =, cidr inet_ops WITH &&));"
	"CREATE UNIQUE INDEX allocations_token ON allocations(pool_id, token)"
	"  WHERE token IS NOT NULL;"
	"CREATE TABLE resources(id bigint PRIMARY KEY, scope_id bigint NOT NULL,"
	"  cidr cidr NOT NULL, name text NOT NULL, tags text, created bigint NOT NULL);"
	"CREATE TABLE events(id bigint PRIMARY KEY, time bigint NOT NULL, actor text, role text,"
	"  request_id text, action text NOT NULL, object_kind text, cidr cidr, before text,"
	"  after text, evidence text, hash text);"
	"CREATE INDEX events_cidr ON events USING gist (cidr inet_ops);"
	"CREATE TABLE audit_head(one boolean PRIMARY KEY DEFAULT true CHECK (one),"
	"  id bigint NOT NULL, hash text NOT NULL);"
	"INSERT INTO audit_head(id, hash) VALUES(0, '" AUDIT_GENESIS "');"
	"CREATE TABLE counters(name text PRIMARY KEY, value bigint NOT NULL);"
	"CREATE TABLE docs(kind text NOT NULL, key text NOT NULL, doc text NOT NULL,"
	"  PRIMARY KEY(kind, key));"),
	/* 2: sites (issue 17): per (prefix, site) desire and state, leases, the breaker */
	store_pg_sites_migration,
	/* 3: several instances — the change feed and id blocks (store_pg_feed.c) */
	("ALTER TABLE audit_head ADD COLUMN seq bigint NOT NULL DEFAULT 0;"
	"CREATE TABLE changes(seq bigint PRIMARY KEY, tbl integer NOT NULL, op integer NOT NULL,"
	"  id bigint NOT NULL, kind text, key text);"
	"CREATE SEQUENCE id_blocks_scopes; CREATE SEQUENCE id_blocks_pools;"
	"CREATE SEQUENCE id_blocks_provisions; CREATE SEQUENCE id_blocks_allocations;"
	"CREATE SEQUENCE id_blocks_resources;" STORE_PG_ID_SYNC),
	/* 4: documents compress with lz4, not pglz: a public prefix's document carries its
	 * ownership evidence (the RDAP record, ~4 KB), and pglz cost PostgreSQL more CPU than
	 * anything else while a batch of 1,000 prefixes changed state twice at two sites
	 * (tests/bench/bench_sites.sh). A server built without lz4 keeps pglz. */
	("DO $$ BEGIN ALTER TABLE docs ALTER COLUMN doc SET COMPRESSION lz4;"
	" EXCEPTION WHEN feature_not_supported THEN NULL; END $$"),
	/* 5: IPv4 allocations' overlap check on SP-GiST (the header: allocations_no_overlap_v4).
	 * The key puts the pool id in the top 64 bits of an IPv6 prefix and the IPv4 CIDR in
	 * the low 32, with a mask of 96 + the CIDR's: two keys overlap exactly when the pool is
	 * the same and the CIDRs overlap. The function has a standard SQL body, bound at
	 * creation (no search_path lookup when the index is used). */
	("CREATE FUNCTION prefixd_alloc_key4(pool bigint, c cidr) RETURNS inet"
	"  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
	"  RETURN set_masklen((to_hex(pool >> 48 & 65535) || ':' || to_hex(pool >> 32 & 65535)"
	"    || ':' || to_hex(pool >> 16 & 65535) || ':' || to_hex(pool & 65535) || '::')::inet"
	"    + (c - '0.0.0.0'::inet), 96 + masklen(c));"
	"ALTER TABLE allocations DROP CONSTRAINT allocations_no_overlap,"
	"  ADD CONSTRAINT allocations_no_overlap_v4 EXCLUDE USING spgist"
	"    (prefixd_alloc_key4(pool_id, cidr) WITH &&) WHERE (family(cidr) = 4),"
	"  ADD CONSTRAINT allocations_no_overlap_v6 EXCLUDE USING gist"
	"    (pool_id WITH =, cidr inet_ops WITH &&) WHERE (family(cidr) = 6);"),
};
#define STORE_PG_NMIGRATIONS \
	((int)(sizeof(store_pg_migrations) / sizeof(store_pg_migrations[0])))
/* The advisory lock key instances take while migrating ("prefixd" in ASCII). */
#define STORE_PG_MIGRATE_LOCK "7378707567081316"

static const char *const store_pg_sql[PG_NQUERIES] = {
	"INSERT INTO scopes(id, name, kind) VALUES($1, $2, $3)",
	("INSERT INTO pools(id, name, scope_id, parent_id, family, locale, description,"
	" default_netmask, min_netmask, max_netmask, required_tags, tags, alarm_at, origin_asn,"
	" created) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"),
	/* the scope comes from the pool row: provisions_top_level_no_overlap compares it */
	("INSERT INTO provisions(id, pool_id, scope_id, cidr, alloc_id, created)"
	" SELECT $1::bigint, $2::bigint, scope_id, $3::cidr, $4::bigint, $5::bigint"
	" FROM pools WHERE id = $2::bigint"),
	("INSERT INTO allocations(id, pool_id, cidr, kind, child_pool_id, description, tags,"
	" locale, token, created) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
	("INSERT INTO resources(id, scope_id, cidr, name, tags, created)"
	" VALUES($1, $2, $3, $4, $5, $6)"),
	"DELETE FROM scopes WHERE id = $1",
	"DELETE FROM pools WHERE id = $1",
	"DELETE FROM provisions WHERE id = $1",
	"DELETE FROM allocations WHERE id = $1",
	"DELETE FROM resources WHERE id = $1",
	("INSERT INTO events(id, time, actor, role, request_id, action, object_kind, cidr,"
	" before, after, evidence, hash) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	" $12)"),
	/* PG_EVENT_QUERY: one page of history (store_pg_events_page): LIMIT is the page's
	 * limit + 1, so the extra row says whether there is more */
	("SELECT " STORE_PG_EVENT_COLS " FROM events WHERE cidr && $1::cidr AND time >= $2"
	" AND time <= $3 AND id > $4 ORDER BY id LIMIT $5"),
	"SELECT value FROM counters WHERE name = $1",
	("INSERT INTO counters(name, value) VALUES($1, $2)"
	" ON CONFLICT(name) DO UPDATE SET value = excluded.value"),
	("INSERT INTO docs(kind, key, doc) VALUES($1, $2, $3)"
	" ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc"),
	"DELETE FROM docs WHERE kind = $1 AND key = $2",
	"SELECT key, doc FROM docs WHERE kind = $1 ORDER BY key",
	"SELECT id, hash, seq FROM audit_head FOR UPDATE",
	"SELECT id, hash, seq FROM audit_head",
	"UPDATE audit_head SET id = $1, hash = $2",
	"SELECT " STORE_PG_EVENT_COLS " FROM events WHERE id > $1 ORDER BY id LIMIT $2",
	/* PG_FLUSH: the transaction's changes numbered after the head's seq, the moved head, and
	 * the notification the other instances LISTEN for (sent at COMMIT) */
	("WITH c AS (INSERT INTO changes(seq, tbl, op, id, kind, key)"
	" SELECT $4::bigint + u.o, u.t, u.p, u.i, u.k, u.y FROM unnest($5::int[], $6::int[],"
	" $7::bigint[], $8::text[], $9::text[]) WITH ORDINALITY AS u(t, p, i, k, y, o))"
	" UPDATE audit_head SET id = $1::bigint, hash = $2::text, seq = $3::bigint"
	" RETURNING pg_notify('prefixd', $3::bigint::text)"),
	"SELECT nextval($1::regclass)",
	/* PG_CHANGES_AFTER: with the allocation row as it is now for a put (tbl 3 = STORE_ALLOC) */
	("SELECT c.seq, c.tbl, c.op, c.id, c.kind, c.key, a.id, a.pool_id, a.cidr, a.kind,"
	" a.child_pool_id, a.description, a.tags, a.locale, a.token, a.created FROM changes c"
	" LEFT JOIN allocations a ON c.tbl = 3 AND c.op = 1 AND a.id = c.id WHERE c.seq > $1"
	" ORDER BY c.seq LIMIT $2"),
	/* PG_FLUSH_QUIET: PG_FLUSH whose notification is held back (store.h STORE_NOTIFY_GAP) */
	("WITH c AS (INSERT INTO changes(seq, tbl, op, id, kind, key)"
	" SELECT $4::bigint + u.o, u.t, u.p, u.i, u.k, u.y FROM unnest($5::int[], $6::int[],"
	" $7::bigint[], $8::text[], $9::text[]) WITH ORDINALITY AS u(t, p, i, k, y, o))"
	" UPDATE audit_head SET id = $1::bigint, hash = $2::text, seq = $3::bigint"),
	/* PG_NOTIFY: a held notification, on its own */
	"SELECT pg_notify('prefixd', $1::bigint::text)",
};

/* ---- parameters and results ---- */

void
store_pg_arg_text(struct store_pg_args *a, const char *s)
{
	a->v[a->n++] = s;
}

void
store_pg_arg_int(struct store_pg_args *a, int64_t v)
{
	snprintf(a->buf[a->n], sizeof(a->buf[a->n]), "%lld", (long long)v);
	a->v[a->n] = a->buf[a->n];
	a->n++;
}

void
store_pg_arg_id(struct store_pg_args *a, uint64_t id)
{
	if (id == 0)
		a->v[a->n++] = NULL;
	else
		store_pg_arg_int(a, (int64_t)id);
}

void
store_pg_arg_cidr(struct store_pg_args *a, const struct cidr *c)
{
	a->v[a->n] = cidr_format(c, a->buf[a->n], sizeof(a->buf[a->n]));
	a->n++;
}

int64_t
store_pg_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *
store_pg_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int
store_pg_cidr(const PGresult *r, int row, int col, struct cidr *c, struct err *e)
{
	const char *t = store_pg_text(r, row, col);

	if (t == NULL || cidr_parse(t, c, NULL) != 0)
		return err_set(e, "store-failed", "store: malformed address row '%s'",
		    t != NULL ? t : "");
	return 0;
}

/* ---- errors, statements, connection ---- */

static double
store_pg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PostgreSQL's message on one line (inner newlines become "; "), in buf. */
static const char *
store_pg_msg(const char *m, char *buf, size_t len)
{
	size_t n = 0;

	if (m == NULL || m[0] == '\0')
		m = "unknown error";
	for (; *m != '\0' && n + 3 < len; m++) {
		if (*m == '\t') {
			continue;
		} else if (*m != '\n') {
			buf[n++] = *m;
		} else if (m[1] != '\0') {
			buf[n++] = ';';
			buf[n++] = ' ';
		}
	}
	buf[n] = '\0';
	return buf;
}

int
store_pg_fail(struct store_pg *s, PGresult *r, struct err *e, const char *what)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r != NULL ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
	const char *primary = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	char msg[400], text[400];

	if (primary != NULL)
		snprintf(text, sizeof(text), "%s%s%s", primary, detail ? ": " : "",
		    detail ? detail : "");
	else
		snprintf(text, sizeof(text), "%s", PQerrorMessage(s->conn));
	store_pg_msg(text, msg, sizeof(msg));
	if (state == NULL)
		state = "";
	if (strcmp(state, "23P01") == 0)
		err_set(e, "overlap", "the database refuses it (%s): %s", cons ? cons : "exclusion",
		    msg);
	else if (strcmp(state, "23505") == 0 && cons != NULL &&
	    strcmp(cons, "allocations_token") == 0)
		err_set(e, "token-conflict", "the database refuses it (%s): %s", cons, msg);
	else if (strncmp(state, "23", 2) == 0)
		err_set(e, "exists", "store: %s: %s", what, msg);
	else
		err_set(e, strcmp(state, "53100") == 0 ? "storage-full" : "store-failed",
		    "store %s: %s: %s", s->name, what, msg);
	PQclear(r);
	return -1;
}

/* (Re)prepares every statement on the connection. */
static int
store_pg_prepare(struct store_pg *s, struct err *e)
{
	char name[16];
	PGresult *r;

	for (int i = 0; i < PG_NQUERIES; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		r = PQprepare(s->conn, name, store_pg_sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return store_pg_fail(s, r, e, "prepare");
		PQclear(r);
	}
	return 0;
}

bool
store_pg_usable(const struct store_pg *s)
{
	return PQstatus(s->conn) == CONNECTION_OK && PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF;
}

int
store_pg_ready(struct store_pg *s, struct err *e)
{
	double now;

	if (store_pg_usable(s))
		return 0;
	if (s->base.depth > 0)
		return err_set(e, "store-failed", "store %s: the connection was lost", s->name);
	now = store_pg_now();
	if (now < s->retry_at)
		return err_set(e, "store-failed", "store %s: the connection was lost; reconnecting "
		    "in %.1f s", s->name, s->retry_at - now);
	if (PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF) {
		/* broken in the middle of a pipeline (store_pg_usable): a new connection, since
		 * a reset one may keep the pipeline's uncollected results */
		PQfinish(s->conn);
		if ((s->conn = PQconnectdb(s->dsn)) == NULL)
			fatal("store: out of memory");
	} else {
		PQreset(s->conn);
	}
	if (PQstatus(s->conn) != CONNECTION_OK || store_pg_prepare(s, e) != 0) {
		s->backoff = s->backoff == 0 ? 0.1 : (s->backoff * 2 > 5 ? 5 : s->backoff * 2);
		s->retry_at = store_pg_now() + s->backoff;
		if (PQstatus(s->conn) != CONNECTION_OK)
			store_pg_fail(s, NULL, e, "reconnect");
		return -1;
	}
	log_info("store %s: reconnected", s->name);
	/* feed positions read before may be void (store.h store_feed_epoch), and so may the
	 * numbers of this instance's own last commits: the server may number others' next
	 * changes with them */
	s->base.feed_epoch++;
	s->nown = 0;
	s->backoff = 0;
	s->head.valid = false;
	return 0;
}

PGresult *
store_pg_run(struct store_pg *s, int q, const struct store_pg_args *a, struct err *e)
{
	char name[16];
	PGresult *r;
	ExecStatusType rs;

	if (s->base.depth == 0 && store_pg_ready(s, e) != 0)
		return NULL;
	if (store_pg_flush(s, e) != 0)
		return NULL;
	snprintf(name, sizeof(name), "p%d", q);
	r = PQexecPrepared(s->conn, name, a != NULL ? a->n : 0, a != NULL ? a->v : NULL, NULL,
	    NULL, 0);
	rs = PQresultStatus(r);
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		store_pg_fail(s, r, e, q <= PG_RES_PUT ? "insert" : "statement");
		return NULL;
	}
	return r;
}

int
store_pg_do(struct store_pg *s, int q, const struct store_pg_args *a, struct err *e)
{
	PGresult *r = store_pg_run(s, q, a, e);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
store_pg_exec(struct store_pg *s, const char *sql, struct err *e)
{
	PGresult *r;

	if (s->base.depth == 0 && store_pg_ready(s, e) != 0)
		return -1;
	if (store_pg_flush(s, e) != 0)
		return -1;
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		return store_pg_fail(s, r, e, sql);
	PQclear(r);
	return 0;
}

/* ---- transactions ---- */

static void
store_pg_close(struct store *st)
{
	struct store_pg *s = store_pg(st);

	store_pg_pend_free_all(s);
	store_pg_prefetch_drop(s);
	if (st->depth > 0 && PQstatus(s->conn) == CONNECTION_OK)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	PQfinish(s->conn);
	store_pg_listen_close(s);
	store_pg_changes_clear(s);
	free(s->chg);
	free(s->dsn);
	free(s->name);
	audit_text_free(&s->canon);
	free(s);
}

static int
store_pg_begin(struct store *st, struct err *e)
{
	struct store_pg *s = store_pg(st);
	char sql[32];

	if (st->depth >= STORE_PG_MAX_DEPTH)
		return err_set(e, "store-failed", "store: transactions nested deeper than %d",
		    STORE_PG_MAX_DEPTH);
	/* a level begins from a known head: a deferred batch's queued events get theirs now
	 * (lock and ids only; nothing queued is sent), so a rollback of the new level restores
	 * a head that includes them */
	if (st->depth > 0 && s->lazy_lock && store_pg_seal(s, e) != 0)
		return -1;
	s->saved[st->depth] = s->head;
	store_pg_changes_mark(s, st->depth);
	s->lvl[st->depth].elided = false;
	if (st->depth > 0 && st->batch_defer) {
		/* no SAVEPOINT: a failed write fails the whole batch anyway (store.h), and a
		 * transaction with a subtransaction per request is slower on the server (one
		 * xid each, and past 64 of them every snapshot overflows to pg_subtrans) */
		s->lvl[st->depth].elided = true;
		s->lvl[st->depth].npend = s->npend;
		s->lvl[st->depth].flushes = s->flushes;
		return 0;
	}
	if (st->depth == 0) {
		s->head.valid = false;
		if (store_pg_exec(s, "BEGIN", e) == 0)
			return 0;
		/* A connection cut while idle shows only now; nothing was done yet, so reconnect
		 * (store_pg_ready, with its backoff) and begin once more. */
		if (store_pg_usable(s) || store_pg_ready(s, e) != 0)
			return -1;
		return store_pg_exec(s, "BEGIN", e);
	}
	snprintf(sql, sizeof(sql), "SAVEPOINT s%d", st->depth);
	store_pg_put_sql(s, st->depth + 1, sql, true);       /* sent with the level's writes */
	return 0;
}

/* The outermost COMMIT: the queued writes, the feed's entries with the moved chain head
 * (PG_FLUSH) and the COMMIT go to the server in one pipeline, one round trip (after the head
 * lock, when a deferred batch has not taken it yet: store_pg_seal). A COMMIT that PostgreSQL
 * turned into a ROLLBACK (the transaction had failed) is a failure, never a success. */
static int
store_pg_commit_outer(struct store_pg *s, struct err *e)
{
	struct store_pg_head h;                 /* to publish once committed (store_audit.c) */
	uint64_t first = 0, last = 0;
	bool rolled_back = false, done = false;

	if (store_pg_seal(s, e) != 0 || store_pg_changes_flush(s, &first, &last, e) != 0 ||
	    store_pg_head_flush(s, e) != 0)
		goto fail;
	h = s->head;
	if (s->base.release_early)      /* store.h: the lock goes before the flush */
		store_pg_put_sql(s, 1, "SET LOCAL synchronous_commit TO off", false);
	store_pg_put_commit(s);
	if (s->base.release_early)      /* flushes the log past the COMMIT above */
		store_pg_put_sql(s, 1, "SELECT pg_logical_emit_message(true, 'prefixd', '')",
		    false);
	if (store_pg_flush_commit(s, &rolled_back, &done, e) != 0)
		goto fail;
	s->head.valid = false;
	store_pg_prefetch_drop(s);
	store_pg_changes_clear(s);
	store_pg_changes_done(s, first, last);
	if (h.valid)
		store_audit_published(&s->base, h.id, h.hash);
	return 0;
fail:
	store_pg_pend_clear(s);
	if (!done && PQstatus(s->conn) == CONNECTION_OK)
		PQclear(PQexec(s->conn, "ROLLBACK"));  /* a statement before the COMMIT failed */
	s->head.valid = false;
	store_pg_prefetch_drop(s);
	store_pg_changes_clear(s);
	return -1;
}

static int
store_pg_commit(struct store *st, struct err *e)
{
	struct store_pg *s = store_pg(st);
	char sql[80];

	if (st->depth == 1)
		return store_pg_commit_outer(s, e);
	if (s->lvl[st->depth - 1].elided)
		return 0;               /* its writes belong to the enclosing level now */
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT s%d", st->depth - 1);
	/* store_batch_defer: the RELEASE joins the queue as a write of the enclosing level (a
	 * later rollback of that level drops it with the rest); an error shows at the next
	 * flush, at the latest the outer COMMIT, and fails the whole transaction. */
	store_pg_put_sql(s, st->batch_defer ? st->depth - 1 : st->depth, sql, false);
	if (st->batch_defer)
		return 0;
	if (store_pg_flush(s, e) != 0) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT s%d; RELEASE SAVEPOINT s%d",
		    st->depth - 1, st->depth - 1);
		PQclear(PQexec(s->conn, sql));
		s->head = s->saved[st->depth - 1];
		store_pg_changes_undo(s, st->depth - 1);
		return -1;
	}
	return 0;
}

static int
store_pg_rollback(struct store *st, struct err *e)
{
	struct store_pg *s = store_pg(st);
	char sql[80];

	s->head = s->saved[st->depth - 1];
	store_pg_changes_undo(s, st->depth - 1);
	if (st->depth == 1) {
		store_pg_pend_clear(s);
		store_pg_prefetch_drop(s);
		s->head.valid = false;
		if (PQstatus(s->conn) != CONNECTION_OK)
			return 0;           /* the server rolled it back when the connection went */
		return store_pg_exec(s, "ROLLBACK", e);
	}
	if (s->lvl[st->depth - 1].elided) {
		if (s->lvl[st->depth - 1].flushes == s->flushes) {
			store_pg_pend_truncate(s, s->lvl[st->depth - 1].npend);
			return 0;       /* nothing of it reached the server */
		}
		/* some of it did, and there is no savepoint to go back to: the batch fails */
		st->batch_failed = true;
		st->batch_refused = PQstatus(s->conn) == CONNECTION_OK;
		return 0;
	}
	if (store_pg_pend_rollback(s, st->depth))
		return 0;           /* its SAVEPOINT was never sent: nothing reached the server */
	snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT s%d", st->depth - 1);
	store_pg_put_sql(s, st->depth, sql, false);
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT s%d", st->depth - 1);
	store_pg_put_sql(s, st->depth, sql, false);
	return store_pg_flush(s, e);
}

/* Every write: the head lock first (see the file comment), then the statement, then its
 * entry in the change feed (table t, row id; kind/key for documents; t < 0: none). A write
 * outside a transaction gets one of its own (the feed numbers changes at COMMIT). */
static int
store_pg_write(struct store_pg *s, int q, const struct store_pg_args *a, int t, bool put,
    uint64_t id, const char *kind, const char *key, struct err *e)
{
	struct store *st = &s->base;

	if (st->depth == 0) {
		if (store_begin(st, e) != 0)
			return -1;
		if (store_pg_write(s, q, a, t, put, id, kind, key, e) != 0) {
			store_rollback(st, NULL);
			return -1;
		}
		return store_commit(st, e);
	}
	if (st->batch_defer && !s->head.valid)
		s->lazy_lock = true;            /* taken at the flush, before this is sent */
	else if (store_pg_head_lock(s, e) != 0)
		return -1;
	if (store_pg_put(s, q, a, e) != 0)
		return -1;
	if (t >= 0)
		store_pg_change(s, (enum store_table)t, put, id, kind, key);
	return 0;
}

/* ---- the address model's rows ---- */

static int
store_pg_scope_put(struct store *st, const struct store_scope *r, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_id(&a, r->id);
	store_pg_arg_text(&a, r->name);
	store_pg_arg_int(&a, r->kind);
	return store_pg_write(store_pg(st), PG_SCOPE_PUT, &a, STORE_SCOPE, true, r->id, NULL,
	    NULL, e);
}

static int
store_pg_pool_put(struct store *st, const struct store_pool *r, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_id(&a, r->id);
	store_pg_arg_text(&a, r->name);
	store_pg_arg_int(&a, (int64_t)r->scope_id);
	store_pg_arg_id(&a, r->parent_id);
	store_pg_arg_int(&a, r->family);
	store_pg_arg_text(&a, r->locale);
	store_pg_arg_text(&a, r->description);
	store_pg_arg_int(&a, r->default_netmask);
	store_pg_arg_int(&a, r->min_netmask);
	store_pg_arg_int(&a, r->max_netmask);
	store_pg_arg_text(&a, r->required_tags);
	store_pg_arg_text(&a, r->tags);
	store_pg_arg_int(&a, r->alarm_at);
	store_pg_arg_int(&a, r->origin_asn);
	store_pg_arg_int(&a, r->created);
	return store_pg_write(store_pg(st), PG_POOL_PUT, &a, STORE_POOL, true, r->id, NULL,
	    NULL, e);
}

static int
store_pg_provision_put(struct store *st, const struct store_provision *r, struct err *e)
{
	struct store_pg *s = store_pg(st);
	struct store_pg_args a = { .n = 0 };
	PGresult *res;
	int n;

	store_pg_arg_id(&a, r->id);
	store_pg_arg_int(&a, (int64_t)r->pool_id);
	store_pg_arg_cidr(&a, &r->cidr);
	store_pg_arg_id(&a, r->alloc_id);
	store_pg_arg_int(&a, r->created);
	if (st->depth == 0) {
		if (store_begin(st, e) != 0)
			return -1;
		if (store_pg_provision_put(st, r, e) != 0) {
			store_rollback(st, NULL);
			return -1;
		}
		return store_commit(st, e);
	}
	if (store_pg_head_lock(s, e) != 0)
		return -1;
	if ((res = store_pg_run(s, PG_PROV_PUT, &a, e)) == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return err_set(e, "store-failed", "store %s: provision %llu: pool %llu is not stored",
		    s->name, (unsigned long long)r->id, (unsigned long long)r->pool_id);
	store_pg_change(s, STORE_PROVISION, true, r->id, NULL, NULL);
	return 0;
}

static int
store_pg_alloc_put(struct store *st, const struct store_alloc *r, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_id(&a, r->id);
	store_pg_arg_int(&a, (int64_t)r->pool_id);
	store_pg_arg_cidr(&a, &r->cidr);
	store_pg_arg_int(&a, r->kind);
	store_pg_arg_id(&a, r->child_pool_id);
	store_pg_arg_text(&a, r->description);
	store_pg_arg_text(&a, r->tags);
	store_pg_arg_text(&a, r->locale);
	store_pg_arg_text(&a, r->token);
	store_pg_arg_int(&a, r->created);
	return store_pg_write(store_pg(st), PG_ALLOC_PUT, &a, STORE_ALLOC, true, r->id, NULL,
	    NULL, e);
}

static int
store_pg_resource_put(struct store *st, const struct store_resource *r, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_id(&a, r->id);
	store_pg_arg_int(&a, (int64_t)r->scope_id);
	store_pg_arg_cidr(&a, &r->cidr);
	store_pg_arg_text(&a, r->name);
	store_pg_arg_text(&a, r->tags);
	store_pg_arg_int(&a, r->created);
	return store_pg_write(store_pg(st), PG_RES_PUT, &a, STORE_RESOURCE, true, r->id,
	    NULL, NULL, e);
}

static int
store_pg_remove(struct store *st, enum store_table t, uint64_t id, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_int(&a, (int64_t)id);
	return store_pg_write(store_pg(st), PG_DEL_SCOPE + (int)t, &a, (int)t, false, id, NULL,
	    NULL, e);
}

static int
store_pg_counter_get(struct store *st, const char *name, int64_t *value, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	store_pg_arg_text(&a, name);
	if ((r = store_pg_run(store_pg(st), PG_COUNTER_GET, &a, e)) == NULL)
		return -1;
	*value = PQntuples(r) > 0 ? store_pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

static int
store_pg_counter_put(struct store *st, const char *name, int64_t value, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_text(&a, name);
	store_pg_arg_int(&a, value);
	return store_pg_write(store_pg(st), PG_COUNTER_PUT, &a, -1, true, 0, NULL, NULL, e);
}

static int
store_pg_doc_put(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_text(&a, kind);
	store_pg_arg_text(&a, key);
	store_pg_arg_text(&a, doc);
	return store_pg_write(store_pg(st), PG_DOC_PUT, &a, STORE_DOC, true, 0, kind, key, e);
}

static int
store_pg_doc_remove(struct store *st, const char *kind, const char *key, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_text(&a, kind);
	store_pg_arg_text(&a, key);
	return store_pg_write(store_pg(st), PG_DOC_DEL, &a, STORE_DOC, false, 0, kind, key,
	    e);
}

static int
store_pg_doc_load(struct store *st, const char *kind, store_doc_cb cb, void *arg,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;
	int rc = 0;

	store_pg_arg_text(&a, kind);
	if ((r = store_pg_run(store_pg(st), PG_DOC_LOAD, &a, e)) == NULL)
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), e);
	PQclear(r);
	return rc;
}

/* store_doc_each and store_counter_each (store.h): every row of a small table. */
static int
store_pg_doc_each(struct store *st, store_doc_all_cb cb, void *arg, struct err *e)
{
	struct store_pg *s = store_pg(st);
	PGresult *r;
	int rc = 0;

	if (store_pg_ready(s, e) != 0 || store_pg_flush(s, e) != 0)
		return -1;
	r = PQexec(s->conn, "SELECT kind, key, doc FROM docs ORDER BY kind, key");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return store_pg_fail(s, r, e, "docs");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), e);
	PQclear(r);
	return rc;
}

static int
store_pg_counter_each(struct store *st, store_counter_cb cb, void *arg, struct err *e)
{
	struct store_pg *s = store_pg(st);
	PGresult *r;
	int rc = 0;

	if (store_pg_ready(s, e) != 0 || store_pg_flush(s, e) != 0)
		return -1;
	r = PQexec(s->conn, "SELECT name, value FROM counters ORDER BY name");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return store_pg_fail(s, r, e, "counters");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = cb(arg, PQgetvalue(r, i, 0), store_pg_int(r, i, 1), e);
	PQclear(r);
	return rc;
}

/* store_imported (store.h): the id-block sequences move past the ids just written. */
static int
store_pg_imported(struct store *st, struct err *e)
{
	return store_pg_exec(store_pg(st), STORE_PG_ID_SYNC, e);
}

/* ---- load ---- */

typedef int (*store_pg_row_fn)(const PGresult *r, int i, const struct store_load_cb *cb,
    void *arg, struct err *e);

/* Runs one SELECT and hands each row to fn. */
static int
store_pg_each(struct store_pg *s, const char *sql, store_pg_row_fn fn,
    const struct store_load_cb *cb, void *arg, struct err *e)
{
	PGresult *r = PQexec(s->conn, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return store_pg_fail(s, r, e, "load");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = fn(r, i, cb, arg, e);
	PQclear(r);
	return rc;
}

static int
store_pg_row_scope(const PGresult *q, int i, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	struct store_scope r;

	r.id = (uint64_t)store_pg_int(q, i, 0);
	r.name = store_pg_text(q, i, 1);
	r.kind = (int)store_pg_int(q, i, 2);
	return cb->scope(arg, &r, e);
}

static int
store_pg_row_pool(const PGresult *q, int i, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	struct store_pool r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)store_pg_int(q, i, 0);
	r.name = store_pg_text(q, i, 1);
	r.scope_id = (uint64_t)store_pg_int(q, i, 2);
	r.parent_id = (uint64_t)store_pg_int(q, i, 3);
	r.family = (int)store_pg_int(q, i, 4);
	r.locale = store_pg_text(q, i, 5);
	r.description = store_pg_text(q, i, 6);
	r.default_netmask = (int)store_pg_int(q, i, 7);
	r.min_netmask = (int)store_pg_int(q, i, 8);
	r.max_netmask = (int)store_pg_int(q, i, 9);
	r.required_tags = store_pg_text(q, i, 10);
	r.tags = store_pg_text(q, i, 11);
	r.alarm_at = (int)store_pg_int(q, i, 12);
	r.origin_asn = (uint32_t)store_pg_int(q, i, 13);
	r.created = store_pg_int(q, i, 14);
	return cb->pool(arg, &r, e);
}

static int
store_pg_row_prov(const PGresult *q, int i, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	struct store_provision r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)store_pg_int(q, i, 0);
	r.pool_id = (uint64_t)store_pg_int(q, i, 1);
	if (store_pg_cidr(q, i, 2, &r.cidr, e) != 0)
		return -1;
	r.alloc_id = (uint64_t)store_pg_int(q, i, 3);
	r.created = store_pg_int(q, i, 4);
	return cb->provision(arg, &r, e);
}

static int
store_pg_row_alloc(const PGresult *q, int i, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	struct store_alloc r;

	if (store_pg_alloc_cols(q, i, 0, &r, e) != 0)
		return -1;
	return cb->alloc(arg, &r, e);
}

int
store_pg_alloc_cols(const PGresult *q, int i, int c, struct store_alloc *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->id = (uint64_t)store_pg_int(q, i, c);
	r->pool_id = (uint64_t)store_pg_int(q, i, c + 1);
	if (store_pg_cidr(q, i, c + 2, &r->cidr, e) != 0)
		return -1;
	r->kind = (int)store_pg_int(q, i, c + 3);
	r->child_pool_id = (uint64_t)store_pg_int(q, i, c + 4);
	r->description = store_pg_text(q, i, c + 5);
	r->tags = store_pg_text(q, i, c + 6);
	r->locale = store_pg_text(q, i, c + 7);
	r->token = store_pg_text(q, i, c + 8);
	r->created = store_pg_int(q, i, c + 9);
	return 0;
}

static int
store_pg_row_resource(const PGresult *q, int i, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	struct store_resource r;

	memset(&r, 0, sizeof(r));
	r.id = (uint64_t)store_pg_int(q, i, 0);
	r.scope_id = (uint64_t)store_pg_int(q, i, 1);
	if (store_pg_cidr(q, i, 2, &r.cidr, e) != 0)
		return -1;
	r.name = store_pg_text(q, i, 3);
	r.tags = store_pg_text(q, i, 4);
	r.created = store_pg_int(q, i, 5);
	return cb->resource(arg, &r, e);
}

/* The change sequence number of the load's snapshot (store_load_cb.feed). */
static int
store_pg_load_seq(struct store_pg *s, const struct store_load_cb *cb, void *arg,
    struct err *e)
{
	PGresult *r;
	uint64_t seq;

	if (cb->feed == NULL)
		return 0;
	r = PQexec(s->conn, "SELECT seq FROM audit_head");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return store_pg_fail(s, r, e, "load");
	seq = (uint64_t)store_pg_int(r, 0, 0);
	PQclear(r);
	return cb->feed(arg, seq, e);
}

/* Every row from one snapshot (REPEATABLE READ), so that other instances' commits during
 * the load cannot leave a pool without its provisions. */
static int
store_pg_load(struct store *st, const struct store_load_cb *cb, void *arg, struct err *e)
{
	struct store_pg *s = store_pg(st);
	int rc, own = st->depth == 0;

	if (own && store_pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) != 0)
		return -1;
	if (!own && store_pg_flush(s, e) != 0)
		return -1;
	rc = store_pg_each(s, "SELECT id, name, kind FROM scopes ORDER BY id", store_pg_row_scope,
	    cb, arg, e) != 0 ||
	    store_pg_each(s, "SELECT id, name, scope_id, parent_id, family, locale, description,"
	    " default_netmask, min_netmask, max_netmask, required_tags, tags, alarm_at,"
	    " origin_asn, created FROM pools ORDER BY id", store_pg_row_pool, cb, arg, e) != 0 ||
	    store_pg_each(s, "SELECT id, pool_id, cidr, alloc_id, created FROM provisions"
	    " ORDER BY id", store_pg_row_prov, cb, arg, e) != 0 ||
	    store_pg_each(s, "SELECT id, pool_id, cidr, kind, child_pool_id, description, tags,"
	    " locale, token, created FROM allocations ORDER BY id", store_pg_row_alloc, cb, arg,
	    e) != 0 ||
	    store_pg_each(s, "SELECT id, scope_id, cidr, name, tags, created FROM resources"
	    " ORDER BY id", store_pg_row_resource, cb, arg, e) != 0 ||
	    store_pg_load_seq(s, cb, arg, e) != 0 ? -1 : 0;
	if (own)
		PQclear(PQexec(s->conn, rc == 0 ? "COMMIT" : "ROLLBACK"));
	return rc;
}

static int
store_pg_check(struct store *st, struct err *e)
{
	return store_pg_exec(store_pg(st), "SELECT 1", e);
}

static const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.close = store_pg_close,
	.begin = store_pg_begin,
	.commit = store_pg_commit,
	.rollback = store_pg_rollback,
	.scope_put = store_pg_scope_put,
	.pool_put = store_pg_pool_put,
	.provision_put = store_pg_provision_put,
	.alloc_put = store_pg_alloc_put,
	.resource_put = store_pg_resource_put,
	.remove = store_pg_remove,
	.event_append = store_pg_event_append,
	.events_page = store_pg_events_page,
	.load = store_pg_load,
	.check = store_pg_check,
	.counter_get = store_pg_counter_get,
	.counter_put = store_pg_counter_put,
	.doc_put = store_pg_doc_put,
	.doc_remove = store_pg_doc_remove,
	.doc_load = store_pg_doc_load,
	.events_after = store_pg_events_after,
	.event_head = store_pg_event_head,
	.audit_verify = store_pg_audit_verify,
	.events_index = store_pg_events_index,
	.sites = &store_pg_site_ops,
	.id_block = store_pg_id_block,
	.feed_sync = store_pg_feed_sync,
	.changes_after = store_pg_changes_after,
	.listen_fd = store_pg_listen_fd,
	.notified = store_pg_notified,
	.notify_due = store_pg_notify_due,
	.notify_send = store_pg_notify_send,
	.online = store_pg_online,
	.doc_each = store_pg_doc_each,
	.counter_each = store_pg_counter_each,
	.event_import = store_pg_event_import,
	.imported = store_pg_imported,
};

int
store_pg_schema_version(void)
{
	return STORE_PG_NMIGRATIONS;
}

/* Reads the schema version (inside the migration transaction, under its lock). */
static int
store_pg_version(struct store_pg *s, int *version, struct err *e)
{
	PGresult *r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM schema_version");

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return store_pg_fail(s, r, e, "schema_version");
	*version = (int)store_pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* Brings the schema up to date in one transaction; instances starting together take turns
 * on an advisory lock. Nothing is changed when it fails or the schema is newer. */
static int
store_pg_migrate(struct store_pg *s, struct err *e)
{
	char sql[96], what[48];
	int version = 0, rc = -1;
	PGresult *r;

	if (store_pg_exec(s, "BEGIN", e) != 0)
		return -1;
	if (store_pg_exec(s, "SELECT pg_advisory_xact_lock(" STORE_PG_MIGRATE_LOCK ")", e) != 0)
		goto out;
	r = PQexec(s->conn, "CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL)");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_fail(s, r, e, "migration: creating schema_version");
		goto out;
	}
	PQclear(r);
	if (store_pg_version(s, &version, e) != 0)
		goto out;
	if (version > STORE_PG_NMIGRATIONS) {
		err_set(e, "store-failed", "store %s has schema version %d, newer than this prefixd "
		    "(%d): upgrade prefixd, or point it at another database", s->name, version,
		    STORE_PG_NMIGRATIONS);
		goto out;
	}
	for (int i = version; i < STORE_PG_NMIGRATIONS; i++) {
		r = PQexec(s->conn, store_pg_migrations[i]);
		snprintf(what, sizeof(what), "migration %d", i + 1);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			store_pg_fail(s, r, e, what);
			e->code = "store-failed";       /* a refused migration is no user conflict */
			goto out;
		}
		PQclear(r);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version(version) VALUES(%d)", i + 1);
		if (store_pg_exec(s, sql, e) != 0)
			goto out;
		if (i == version)
			log_info("store %s: migrating schema %d -> %d", s->name, version,
			    STORE_PG_NMIGRATIONS);
	}
	rc = 0;
out:
	if (rc == 0)
		return store_pg_commit_outer(s, e);
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return -1;
}

/* Opens the connection; a malformed DSN or an unreachable server is named in e. */
static int
store_pg_connect(struct store_pg *s, const char *dsn, struct err *e)
{
	PQconninfoOption *opts;
	char *perr = NULL, msg[400];
	const char *db, *host;

	if ((opts = PQconninfoParse(dsn, &perr)) == NULL) {
		err_set(e, "store-failed", "store: [store] dsn is not a libpq connection string: %s",
		    store_pg_msg(perr != NULL ? perr : "out of memory", msg, sizeof(msg)));
		PQfreemem(perr);
		return -1;
	}
	PQconninfoFree(opts);
	s->conn = PQconnectdb(dsn);
	if (s->conn == NULL)
		fatal("store: out of memory");
	if (PQstatus(s->conn) != CONNECTION_OK)
		return err_set(e, "store-failed", "store: cannot connect to PostgreSQL ([store] dsn): "
		    "%s", store_pg_msg(PQerrorMessage(s->conn), msg, sizeof(msg)));
	db = PQdb(s->conn);
	host = PQhost(s->conn);
	if (asprintf(&s->name, "postgresql %s on %s", db ? db : "?", host ? host : "?") < 0)
		fatal("store: out of memory");
	if (PQserverVersion(s->conn) < 150000)
		return err_set(e, "store-failed", "store %s: PostgreSQL %d.%d is too old (15 or newer "
		    "is needed)", s->name, PQserverVersion(s->conn) / 10000,
		    PQserverVersion(s->conn) % 10000);
	PQclear(PQexec(s->conn, "SET client_min_messages = warning"));
	return 0;
}

int
store_pg_open(const char *dsn, struct store **out, struct err *e)
{
	struct store_pg *s;
	const char *v;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("store: out of memory");
	s->base.ops = &store_pg_ops;
	if ((v = getenv("PREFIXD_AUDIT")) != NULL && strcmp(v, "off") == 0)
		s->audit = STORE_PG_AUDIT_OFF;
	else if (v != NULL && strcmp(v, "nochain") == 0)
		s->audit = STORE_PG_AUDIT_NOCHAIN;
	if ((s->dsn = strdup(dsn)) == NULL)
		fatal("store: out of memory");
	if (store_pg_connect(s, dsn, e) != 0 || store_pg_migrate(s, e) != 0 ||
	    store_pg_prepare(s, e) != 0) {
		if (s->name == NULL)
			s->name = strdup("postgresql");
		store_pg_close(&s->base);
		return -1;
	}
	*out = &s->base;
	return 0;
}

const char *
store_pg_name(const struct store *st)
{
	return ((const struct store_pg *)(const void *)st)->name;
}
