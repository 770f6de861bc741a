/*
 * store_pg_feed — what lets several prefixd instances share one PostgreSQL store
 * (store.h "Several instances"): id blocks, the change feed, LISTEN/NOTIFY, connection state.
 * Shares store_pg_private.h with store_pg.c and store_pg_events.c.
 *
 * ids: one sequence per table (id_blocks_<table>, migration 2); nextval k hands out the block
 * (k-1)*1024+1 .. k*1024 to one instance only. A crashed instance's unused rest is never
 * issued: ids have gaps, never duplicates.
 *
 * The feed: every put and remove of a writing transaction is recorded in memory
 * (store_pg_change) and, just before COMMIT, written to `changes` numbered after
 * audit_head.seq, with the head moved and pg_notify('prefixd', seq) (one statement,
 * PG_FLUSH). The numbers are given under the head row lock that the transaction holds to its
 * COMMIT, so they are gap-free and in commit order: a reader that sees number n committed
 * has every number below n too, and "changes after my last" never skips one. A reader leaves
 * out the numbers its own store committed (own[]): memory has them already. op is 0 for a
 * remove, 1 for a put, 2 for a document put by store_doc_put_sited (store_change.sited).
 *
 * Notifications arrive on a second connection (LISTEN prefixd; its socket is what the daemon
 * watches). They only say "look": the feed itself is read on the main connection, so a lost
 * notification costs latency (the daemon also looks once a second), never a change. A commit
 * less than STORE_NOTIFY_GAP (store.h, 20 ms) after this store's last notification moves the
 * head without one (PG_FLUSH_QUIET) and owes it; the daemon sends the owed number alone
 * (PG_NOTIFY, store_pg_notify_send) when the gap is up. Every notification woke every
 * instance's listening backend and daemon, this one's included; held back, 1 instance went
 * from ~5,900 to ~6,300 allocations/s and 3 instances from ~3,800 to ~4,050
 * (tests/bench/bench_pg.sh, README).
 */
#include "store_pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

static double
store_pg_feed_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
store_pg_change(struct store_pg *s, enum store_table t, bool put, uint64_t id,
    const char *kind, const char *key)
{
	struct store_pg_change *c;

	if (s->nchg == s->chgcap) {
		s->chgcap = s->chgcap ? s->chgcap * 2 : 64;
		if ((s->chg = realloc(s->chg, s->chgcap * sizeof(*s->chg))) == NULL)
			fatal("store: out of memory");
	}
	c = &s->chg[s->nchg++];
	c->table = (int)t;
	c->put = put;
	c->sited = put && t == STORE_DOC && s->base.doc_sited;
	c->id = id;
	c->kind = xstrdup(kind);
	c->key = xstrdup(key);
}

static void
store_pg_changes_cut(struct store_pg *s, size_t n)
{
	while (s->nchg > n) {
		s->nchg--;
		free(s->chg[s->nchg].kind);
		free(s->chg[s->nchg].key);
	}
}

void
store_pg_changes_mark(struct store_pg *s, int depth)
{
	s->chg_saved[depth] = s->nchg;
}

void
store_pg_changes_undo(struct store_pg *s, int depth)
{
	store_pg_changes_cut(s, s->chg_saved[depth]);
}

void
store_pg_changes_clear(struct store_pg *s)
{
	store_pg_changes_cut(s, 0);
}

void
store_pg_array_put(struct store_pg_array *a, char ch)
{
	if (a->len + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		if ((a->buf = realloc(a->buf, a->cap)) == NULL)
			fatal("store: out of memory");
	}
	a->buf[a->len++] = ch;
	a->buf[a->len] = '\0';
}

void
store_pg_array_add(struct store_pg_array *a, const char *v)
{
	store_pg_array_put(a, a->len == 0 ? '{' : ',');
	if (v == NULL) {
		for (const char *p = "NULL"; *p != '\0'; p++)
			store_pg_array_put(a, *p);
		return;
	}
	store_pg_array_put(a, '"');
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			store_pg_array_put(a, '\\');
		store_pg_array_put(a, *v);
	}
	store_pg_array_put(a, '"');
}

int
store_pg_changes_flush(struct store_pg *s, uint64_t *first, uint64_t *last, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	struct store_pg_array arr[5];
	char num[32];
	int rc;

	*first = *last = 0;
	if (s->nchg == 0)
		return 0;
	if (!s->head.valid && store_pg_head_lock(s, e) != 0)
		return -1;
	memset(arr, 0, sizeof(arr));
	for (size_t i = 0; i < s->nchg; i++) {
		const struct store_pg_change *c = &s->chg[i];

		snprintf(num, sizeof(num), "%d", c->table);
		store_pg_array_add(&arr[0], num);
		store_pg_array_add(&arr[1], c->put ? (c->sited ? "2" : "1") : "0");
		snprintf(num, sizeof(num), "%llu", (unsigned long long)c->id);
		store_pg_array_add(&arr[2], num);
		store_pg_array_add(&arr[3], c->kind);
		store_pg_array_add(&arr[4], c->key);
	}
	for (int i = 0; i < 5; i++)
		store_pg_array_put(&arr[i], '}');
	*first = s->head.seq + 1;
	*last = s->head.seq + s->nchg;
	store_pg_arg_int(&a, (int64_t)s->head.id);
	store_pg_arg_text(&a, s->head.hash);
	store_pg_arg_int(&a, (int64_t)*last);
	store_pg_arg_int(&a, (int64_t)s->head.seq);
	for (int i = 0; i < 5; i++)
		store_pg_arg_text(&a, arr[i].buf);
	/* the notification goes with this COMMIT unless one went less than the gap ago; then
	 * store_pg_changes_done owes it (store_pg_notify_send) */
	s->flush_quiet = store_pg_feed_now() - s->notify_at < STORE_NOTIFY_GAP;
	rc = store_pg_put(s, s->flush_quiet ? PG_FLUSH_QUIET : PG_FLUSH, &a, e);
	for (int i = 0; i < 5; i++)
		free(arr[i].buf);
	if (rc != 0)
		return -1;
	s->head.seq = *last;
	s->head.dirty = false;      /* written with the changes */
	return 0;
}

void
store_pg_changes_done(struct store_pg *s, uint64_t first, uint64_t last)
{
	if (first == 0)
		return;
	if (s->flush_quiet)
		s->notify_owed = last;
	else {
		s->notify_owed = 0;
		s->notify_at = store_pg_feed_now();
	}
	s->own[s->nown % STORE_PG_OWN].first = first;
	s->own[s->nown % STORE_PG_OWN].last = last;
	s->nown++;
}

/* The end of this store's own range that starts right after `after`, or `after`. */
static uint64_t
store_pg_own_skip(const struct store_pg *s, uint64_t after)
{
	bool moved = true;

	while (moved) {
		moved = false;
		for (unsigned i = 0; i < STORE_PG_OWN && i < s->nown; i++)
			if (s->own[i].first == after + 1) {
				after = s->own[i].last;
				moved = true;
			}
	}
	return after;
}

static bool
store_pg_own(const struct store_pg *s, uint64_t seq)
{
	for (unsigned i = 0; i < STORE_PG_OWN && i < s->nown; i++)
		if (seq >= s->own[i].first && seq <= s->own[i].last)
			return true;
	return false;
}

int
store_pg_id_block(struct store *st, enum store_table t, uint64_t *first, uint64_t *n,
    struct err *e)
{
	static const char *const seq[] = { "id_blocks_scopes", "id_blocks_pools",
		"id_blocks_provisions", "id_blocks_allocations", "id_blocks_resources" };
	struct store_pg_args a = { .n = 0 };
	PGresult *r;
	int64_t k;

	if ((unsigned)t >= sizeof(seq) / sizeof(seq[0]))
		return err_set(e, "internal", "store: no id blocks for table %d", (int)t);
	store_pg_arg_text(&a, seq[t]);
	if ((r = store_pg_run(store_pg(st), PG_ID_BLOCK, &a, e)) == NULL)
		return -1;
	k = store_pg_int(r, 0, 0);
	PQclear(r);
	*first = (uint64_t)(k - 1) * STORE_PG_ID_BLOCK + 1;
	*n = STORE_PG_ID_BLOCK;
	return 0;
}

void
store_pg_prefetch_drop(struct store_pg *s)
{
	PQclear(s->prefetch);
	s->prefetch = NULL;
}

/* The head lock and, in the same round trip, the changes after `after` (the caller reads
 * them next: store_pg_changes_after). The second statement runs once the lock is granted,
 * with a snapshot taken then: it sees every change committed before this transaction holds
 * the lock, as a separate statement would. */
static int
store_pg_lock_prefetch(struct store_pg *s, uint64_t after, struct err *e)
{
	char lock[16], chg[16], num[24], page[16];
	const char *v[2] = { num, page };
	PGresult *r, *head = NULL, *rows = NULL, *bad = NULL;
	int i, rc;

	snprintf(lock, sizeof(lock), "p%d", PG_HEAD_LOCK);
	snprintf(chg, sizeof(chg), "p%d", PG_CHANGES_AFTER);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)after);
	snprintf(page, sizeof(page), "%u", STORE_PG_FEED_PAGE);
	if (PQenterPipelineMode(s->conn) != 1)
		return store_pg_fail(s, NULL, e, "pipeline");
	if (PQsendQueryPrepared(s->conn, lock, 0, NULL, NULL, NULL, 0) != 1 ||
	    PQsendQueryPrepared(s->conn, chg, 2, v, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(s->conn) != 1) {
		PQexitPipelineMode(s->conn);
		return store_pg_fail(s, NULL, e, "pipeline");
	}
	for (i = 0; i < 2 && PQstatus(s->conn) == CONNECTION_OK; i++) {
		while ((r = PQgetResult(s->conn)) != NULL) {
			if (PQresultStatus(r) != PGRES_TUPLES_OK) {
				if (bad == NULL && PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
					bad = r;
				else
					PQclear(r);
			} else if (i == 0 && head == NULL) {
				head = r;
			} else if (i == 1 && rows == NULL) {
				rows = r;
			} else {
				PQclear(r);
			}
		}
	}
	store_pg_sync_drain(s);
	PQexitPipelineMode(s->conn);
	if (bad != NULL || head == NULL || rows == NULL) {
		PQclear(head);
		PQclear(rows);
		return store_pg_fail(s, bad, e, "statement");
	}
	if ((rc = store_pg_head_row(s, head, &s->head.id, s->head.hash, &s->head.seq, e)) != 0) {
		PQclear(rows);
		return rc;
	}
	s->head.valid = true;
	s->head.dirty = false;
	store_pg_prefetch_drop(s);
	s->prefetch = rows;
	s->prefetch_after = after;
	return 0;
}

int
store_pg_feed_sync(struct store *st, uint64_t after, uint64_t *seq, struct err *e)
{
	struct store_pg *s = store_pg(st);
	PGresult *r;

	if (st->depth > 0) {
		if (!s->head.valid && after != UINT64_MAX && s->npend == 0 && !s->lazy_lock) {
			if (store_pg_lock_prefetch(s, store_pg_own_skip(s, after), e) != 0)
				return -1;
		} else if (store_pg_head_lock(s, e) != 0) {
			return -1;
		}
		*seq = s->head.seq;
		return 0;
	}
	if ((r = store_pg_run(s, PG_HEAD_GET, NULL, e)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 2)) {
		PQclear(r);
		return err_set(e, "audit-broken", "store %s: the audit chain head is malformed",
		    s->name);
	}
	*seq = (uint64_t)store_pg_int(r, 0, 2);
	PQclear(r);
	return 0;
}

int
store_pg_changes_after(struct store *st, uint64_t after, store_change_cb cb, void *arg,
    uint64_t *last, struct err *e)
{
	struct store_pg *s = store_pg(st);
	struct store_pg_args a;
	struct store_change c;
	struct store_alloc al;
	PGresult *r;
	int rows, rc = 0;
	const unsigned page = STORE_PG_FEED_PAGE;

	*last = after = store_pg_own_skip(s, after);
	if (s->head.valid && after >= s->head.seq)
		return 0;               /* under the lock, and nothing but our own since */
	do {
		a.n = 0;
		store_pg_arg_int(&a, (int64_t)after);
		store_pg_arg_int(&a, page);
		if (s->prefetch != NULL && s->prefetch_after == after && s->head.valid) {
			r = s->prefetch;                /* read with the lock, this transaction */
			s->prefetch = NULL;
		} else if ((r = store_pg_run(s, PG_CHANGES_AFTER, &a, e)) == NULL) {
			return -1;
		}
		rows = PQntuples(r);
		if (rows > 0 && (uint64_t)store_pg_int(r, 0, 0) != after + 1) {
			PQclear(r);
			return err_set(e, "feed-gap", "store %s: changes after %llu are no longer kept",
			    s->name, (unsigned long long)after);
		}
		for (int i = 0; rc == 0 && i < rows; i++) {
			memset(&c, 0, sizeof(c));
			c.seq = (uint64_t)store_pg_int(r, i, 0);
			after = c.seq;
			if (store_pg_own(s, c.seq))
				continue;
			c.table = (enum store_table)store_pg_int(r, i, 1);
			c.put = store_pg_int(r, i, 2) != 0;
			c.sited = store_pg_int(r, i, 2) == 2;
			c.id = (uint64_t)store_pg_int(r, i, 3);
			c.doc_kind = store_pg_text(r, i, 4);
			c.doc_key = store_pg_text(r, i, 5);
			if (!PQgetisnull(r, i, 6)) {
				if (store_pg_alloc_cols(r, i, 6, &al, e) != 0) {
					rc = -1;
					break;
				}
				c.alloc = &al;
			}
			if ((rc = cb(arg, &c, e)) == 0)
				*last = c.seq;
		}
		if (rc == 0)
			*last = after;
		PQclear(r);
	} while (rc == 0 && rows == (int)page);
	return rc;
}

/* ---- LISTEN: the second connection ---- */

void
store_pg_listen_close(struct store_pg *s)
{
	if (s->listen != NULL)
		PQfinish(s->listen);
	s->listen = NULL;
}

/* (Re)opens the listening connection, at most once per backoff period. */
static void
store_pg_listen_open(struct store_pg *s)
{
	PGresult *r;
	double now = store_pg_feed_now();

	if (s->listen != NULL || now < s->listen_retry_at || s->dsn == NULL)
		return;
	s->listen = PQconnectdb(s->dsn);
	if (s->listen != NULL && PQstatus(s->listen) == CONNECTION_OK) {
		r = PQexec(s->listen, "LISTEN prefixd");
		if (PQresultStatus(r) == PGRES_COMMAND_OK && PQsetnonblocking(s->listen, 1) == 0) {
			PQclear(r);
			s->listen_backoff = 0;
			return;
		}
		PQclear(r);
	}
	store_pg_listen_close(s);
	s->listen_backoff = s->listen_backoff == 0 ? 0.1 :
	    (s->listen_backoff * 2 > 5 ? 5 : s->listen_backoff * 2);
	s->listen_retry_at = now + s->listen_backoff;
}

int
store_pg_listen_fd(struct store *st)
{
	struct store_pg *s = store_pg(st);

	store_pg_listen_open(s);
	return s->listen != NULL ? PQsocket(s->listen) : -1;
}

int
store_pg_notified(struct store *st)
{
	struct store_pg *s = store_pg(st);
	PGnotify *n;
	int count = 0;

	if (s->listen == NULL) {
		store_pg_listen_open(s);
		return -1;
	}
	if (PQconsumeInput(s->listen) == 0 || PQstatus(s->listen) != CONNECTION_OK) {
		log_warn("store %s: the listening connection was lost; reconnecting", s->name);
		store_pg_listen_close(s);
		return -1;
	}
	while ((n = PQnotifies(s->listen)) != NULL) {
		/* the payload is the commit's last feed number: this instance's own commits are
		 * in memory already and wake nobody (a payload that does not parse does) */
		char *end;
		unsigned long long seq = strtoull(n->extra, &end, 10);

		count += end == n->extra || *end != '\0' || !store_pg_own(s, seq);
		PQfreemem(n);
	}
	return count;
}

double
store_pg_notify_due(struct store *st)
{
	struct store_pg *s = store_pg(st);

	double due = s->notify_at + STORE_NOTIFY_GAP - store_pg_feed_now();

	if (s->notify_owed == 0)
		return -1;
	return due > 0 ? due : 0;
}

int
store_pg_notify_send(struct store *st, struct err *e)
{
	struct store_pg *s = store_pg(st);
	struct store_pg_args a = { .n = 0 };
	uint64_t owed = s->notify_owed;

	if (owed == 0)
		return 0;
	if (st->depth > 0)
		return err_set(e, "internal", "store: a held notification is sent outside a "
		    "transaction");
	s->notify_owed = 0;             /* sent or not: the others' next look finds it */
	s->notify_at = store_pg_feed_now();
	store_pg_arg_int(&a, (int64_t)owed);
	return store_pg_do(s, PG_NOTIFY, &a, e);
}

bool
store_pg_online(struct store *st)
{
	return store_pg_usable(store_pg(st));
}
