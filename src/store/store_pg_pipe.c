/*
 * store_pg_pipe — the PostgreSQL backend's deferred statements: inside a transaction, the
 * statements whose only answer is "done" (SAVEPOINT, the row writes, the event insert, and
 * the ROLLBACK TO of a savepoint that reached the server) are queued, and sent together in
 * libpq's pipeline mode (one round trip) when an answer is needed: at the RELEASE that
 * closes a savepoint, before any statement that returns rows, and with the outer COMMIT
 * (store_pg_put_commit: the COMMIT is the pipeline's last statement, its "ROLLBACK" answer a
 * failure). A daemon request (SAVEPOINT, INSERT, event, RELEASE) thus costs one round trip
 * instead of four; in a deferred batch (store_batch_defer) the RELEASE asks for no answer and
 * inner levels send no SAVEPOINT at all (store_pg.c), so the whole batch is one round trip.
 *
 * Nothing about the guarantees changes: the first error of a flush is the error of the
 * statement that needed the answer (the RELEASE of the request's savepoint, so a 23P01 or
 * 23505 reaches the request as "overlap" or "token-conflict" and it retries as before); the
 * statements after an error in the same pipeline are skipped by the server (the transaction
 * has failed), so nothing half-done survives: the level rolls back, and a COMMIT of a failed
 * transaction is still a failure (store_pg.c). A level that rolls back before its SAVEPOINT
 * was sent drops its queued statements and sends nothing. A lost connection fails the flush
 * "store-failed" and drops the queue.
 */
#include "store_pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

static struct store_pg_pending *
store_pg_pend_add(struct store_pg *s, int level)
{
	struct store_pg_pending *p;

	if (s->npend == s->pendcap) {
		s->pendcap = s->pendcap == 0 ? 32 : s->pendcap * 2;
		if ((s->pend = realloc(s->pend, s->pendcap * sizeof(*s->pend))) == NULL)
			fatal("store: out of memory");
	}
	p = &s->pend[s->npend++];
	memset(p, 0, sizeof(*p));
	p->level = level;
	return p;
}

static void
store_pg_pend_free(struct store_pg_pending *p)
{
	free(p->sql);
	for (int i = 0; i < p->n; i++)
		free(p->v[i]);
}

void
store_pg_pend_truncate(struct store_pg *s, size_t from)
{
	while (s->npend > from)
		store_pg_pend_free(&s->pend[--s->npend]);
}

void
store_pg_pend_clear(struct store_pg *s)
{
	store_pg_pend_truncate(s, 0);
	s->lazy_lock = false;
}

void
store_pg_pend_free_all(struct store_pg *s)
{
	store_pg_pend_clear(s);
	free(s->pend);
	s->pend = NULL;
	s->pendcap = 0;
}

int
store_pg_put(struct store_pg *s, int q, const struct store_pg_args *a, struct err *e)
{
	struct store_pg_pending *p;

	if (s->base.depth == 0)
		return store_pg_do(s, q, a, e);
	p = store_pg_pend_add(s, s->base.depth);
	p->q = q;
	for (int i = 0; a != NULL && i < a->n; i++)
		p->v[p->n++] = xstrdup(a->v[i]);
	return 0;
}

void
store_pg_put_sql(struct store_pg *s, int level, const char *sql, bool savepoint)
{
	struct store_pg_pending *p = store_pg_pend_add(s, level);

	p->sql = xstrdup(sql);
	p->savepoint = savepoint;
}

int
store_pg_pend_rollback(struct store_pg *s, int level)
{
	size_t from = s->npend;
	bool unsent = false;

	while (from > 0 && s->pend[from - 1].level >= level) {
		from--;
		unsent = unsent || s->pend[from].savepoint;
	}
	store_pg_pend_truncate(s, from);
	return unsent;
}

/* Sends one queued statement into the pipeline. */
static int
store_pg_pend_send(struct store_pg *s, const struct store_pg_pending *p)
{
	char name[16];

	if (p->sql != NULL)
		return PQsendQueryParams(s->conn, p->sql, 0, NULL, NULL, NULL, NULL, 0);
	snprintf(name, sizeof(name), "p%d", p->q);
	return PQsendQueryPrepared(s->conn, name, p->n, (const char *const *)p->v, NULL, NULL,
	    0);
}

/* Reads the results of `sent` statements and the sync; the first error result, or NULL.
 * *rolled_back: the COMMIT among them was answered "ROLLBACK" (the transaction had failed);
 * *done: a COMMIT among them was answered at all (it ended the transaction). */
static PGresult *
store_pg_pend_results(struct store_pg *s, size_t sent, bool *rolled_back, bool *done)
{
	PGresult *r, *bad = NULL;
	ExecStatusType st;

	for (size_t i = 0; i < sent && PQstatus(s->conn) == CONNECTION_OK; i++) {
		while ((r = PQgetResult(s->conn)) != NULL) {
			st = PQresultStatus(r);
			if (s->pend[i].commit && st == PGRES_COMMAND_OK) {
				*done = true;
				*rolled_back = strcmp(PQcmdStatus(r), "COMMIT") != 0;
			}
			if (bad == NULL && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
			    st != PGRES_PIPELINE_ABORTED)
				bad = r;
			else
				PQclear(r);
		}
	}
	store_pg_sync_drain(s);
	return bad;
}

void
store_pg_sync_drain(struct store_pg *s)
{
	PGresult *r;
	ExecStatusType st;

	while (PQstatus(s->conn) == CONNECTION_OK && (r = PQgetResult(s->conn)) != NULL) {
		st = PQresultStatus(r);
		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
}

int
store_pg_flush(struct store_pg *s, struct err *e)
{
	bool rolled_back = false, done = false;

	return store_pg_flush_commit(s, &rolled_back, &done, e);
}

int
store_pg_flush_commit(struct store_pg *s, bool *rolled_back, bool *done, struct err *e)
{
	PGresult *bad;
	size_t sent = 0;

	if (s->npend == 0)
		return 0;
	if (store_pg_seal(s, e) != 0) {
		store_pg_pend_clear(s);
		return -1;
	}
	if (PQenterPipelineMode(s->conn) != 1) {
		store_pg_pend_clear(s);
		return store_pg_fail(s, NULL, e, "pipeline");
	}
	s->flushes++;
	while (sent < s->npend && store_pg_pend_send(s, &s->pend[sent]) == 1)
		sent++;
	if (PQpipelineSync(s->conn) != 1) {
		store_pg_pend_clear(s);
		return store_pg_fail(s, NULL, e, "pipeline");
	}
	bad = store_pg_pend_results(s, sent, rolled_back, done);
	if (PQexitPipelineMode(s->conn) != 1 && PQstatus(s->conn) == CONNECTION_OK)
		log_error("store %s: leaving pipeline mode: %s", s->name, PQerrorMessage(s->conn));
	if (bad == NULL && sent < s->npend) {
		store_pg_pend_clear(s);
		return store_pg_fail(s, NULL, e, "pipeline");
	}
	store_pg_pend_clear(s);
	if ((bad != NULL || *rolled_back) && s->base.batch_defer) {
		/* a deferred batch: the transaction has failed, whoever asked for this flush */
		s->base.batch_failed = true;
		s->base.batch_refused = store_pg_usable(s);
	}
	if (bad != NULL)
		return store_pg_fail(s, bad, e, "insert");
	if (!store_pg_usable(s))
		return store_pg_fail(s, NULL, e, "pipeline");
	if (*rolled_back)
		return err_set(e, "store-failed", "store %s: commit: the transaction had failed "
		    "and was rolled back", s->name);
	return 0;
}

void
store_pg_put_commit(struct store_pg *s)
{
	store_pg_put_sql(s, 1, "COMMIT", false);
	s->pend[s->npend - 1].commit = true;
}
