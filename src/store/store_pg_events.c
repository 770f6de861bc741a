/*
 * store_pg_events — the PostgreSQL backend's event log (store.h "Events", "Audit chain"):
 * append, sealing each event into the one hash chain (audit.h) that all instances share;
 * import of an event sealed elsewhere, id and hash verbatim (store_event_import, the
 * migration's);
 * history by CIDR overlap (a gist index on the event's cidr answers && directly, so there
 * is no separate address index as in SQLite and store_events_index has nothing to do), a
 * page at a time (LIMIT); the
 * feed; whole-chain verification. Shares store_pg_private.h with store_pg.c.
 *
 * The chain head is one row (audit_head). A transaction that writes locks it first
 * (store_pg_head_lock) and holds the lock to its COMMIT, so the events of concurrent
 * instances get consecutive ids in commit order and each hashes over its true predecessor:
 * `audit verify` walks one unbroken chain whoever wrote the events. With a key (store_audit_key)
 * the links are HMACs: every instance must hold the same key, and each publishes the head it
 * committed in its own state directory (audit_key.h).
 */
#include "store_pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Reads a head row "id, hash" into *id / hash. */
int
store_pg_head_row(struct store_pg *s, PGresult *r, uint64_t *id,
    char hash[AUDIT_HASH_HEXLEN + 1], uint64_t *seq, struct err *e)
{
	const char *h;

	if (PQntuples(r) != 1 || (h = store_pg_text(r, 0, 1)) == NULL ||
	    strlen(h) != AUDIT_HASH_HEXLEN) {
		PQclear(r);
		return err_set(e, "audit-broken", "store %s: the audit chain head is malformed",
		    s->name);
	}
	*id = (uint64_t)store_pg_int(r, 0, 0);
	memcpy(hash, h, AUDIT_HASH_HEXLEN + 1);
	if (seq != NULL)
		*seq = (uint64_t)store_pg_int(r, 0, 2);
	PQclear(r);
	return 0;
}

int
store_pg_head_lock(struct store_pg *s, struct err *e)
{
	PGresult *r;

	if (s->head.valid)
		return 0;
	if ((r = store_pg_run(s, PG_HEAD_LOCK, NULL, e)) == NULL ||
	    store_pg_head_row(s, r, &s->head.id, s->head.hash, &s->head.seq, e) != 0)
		return -1;
	s->head.valid = true;
	s->head.dirty = false;
	return 0;
}

int
store_pg_head_flush(struct store_pg *s, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	if (!s->head.valid || !s->head.dirty)
		return 0;
	store_pg_arg_int(&a, (int64_t)s->head.id);
	store_pg_arg_text(&a, s->head.hash);
	if (store_pg_put(s, PG_HEAD_PUT, &a, e) != 0)       /* queued in a transaction */
		return -1;
	s->head.dirty = false;
	return 0;
}

int
store_pg_event_head(struct store *st, uint64_t *id, char hash[AUDIT_HASH_HEXLEN + 1],
    struct err *e)
{
	struct store_pg *s = store_pg(st);
	PGresult *r;

	if (s->lazy_lock && store_pg_seal(s, e) != 0)
		return -1;
	if (s->head.valid) {                /* this transaction's view, appends included */
		*id = s->head.id;
		memcpy(hash, s->head.hash, AUDIT_HASH_HEXLEN + 1);
		return 0;
	}
	if ((r = store_pg_run(s, PG_HEAD_GET, NULL, e)) == NULL)
		return -1;
	return store_pg_head_row(s, r, id, hash, NULL, e);
}

/* The parameters of PG_EVENT_PUT; the indexes store_pg_seal fills in. */
enum { EV_ARG_ID = 0, EV_ARG_TIME = 1, EV_ARG_CIDR = 7, EV_ARG_HASH = 11 };

static void
store_pg_event_args(const struct store_event *ev, uint64_t id, const char *hash,
    struct store_pg_args *a)
{
	store_pg_arg_int(a, (int64_t)id);
	store_pg_arg_int(a, ev->time);
	store_pg_arg_text(a, ev->actor);
	store_pg_arg_text(a, ev->role);
	store_pg_arg_text(a, ev->request_id);
	store_pg_arg_text(a, ev->action);
	store_pg_arg_text(a, ev->object_kind);
	if (ev->has_cidr)
		store_pg_arg_cidr(a, &ev->cidr);
	else
		store_pg_arg_text(a, NULL);
	store_pg_arg_text(a, ev->before);
	store_pg_arg_text(a, ev->after);
	store_pg_arg_text(a, ev->evidence);
	store_pg_arg_text(a, hash);
}

/* Inserts ev with id and hash (NULL: unsealed) and moves the head to them. */
static int
store_pg_event_insert(struct store_pg *s, const struct store_event *ev, uint64_t id,
    const char *hash, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_event_args(ev, id, hash, &a);
	if (store_pg_put(s, PG_EVENT_PUT, &a, e) != 0)
		return -1;
	s->head.id = id;
	if (hash != NULL)
		memcpy(s->head.hash, hash, AUDIT_HASH_HEXLEN + 1);
	s->head.dirty = true;
	return 0;
}

/* Seals and inserts ev inside the open transaction; in a deferred batch without the head
 * lock yet, queues it for store_pg_seal (ev->id stays 0: known once sealed). */
static int
store_pg_event_put(struct store_pg *s, struct store_event *ev, struct err *e)
{
	char hash[AUDIT_HASH_HEXLEN + 1];

	if (!s->head.valid && s->base.batch_defer) {
		struct store_pg_args a = { .n = 0 };

		store_pg_event_args(ev, 0, NULL, &a);
		if (store_pg_put(s, PG_EVENT_PUT, &a, e) != 0)
			return -1;
		s->pend[s->npend - 1].unsealed = true;
		s->lazy_lock = true;
		ev->id = 0;
		ev->hash = NULL;
		return 0;
	}
	if (store_pg_head_lock(s, e) != 0)
		return -1;
	ev->id = s->head.id + 1;
	ev->hash = NULL;
	if (s->audit == STORE_PG_AUDIT_ON)
		audit_chain_link(s->base.audit_key, s->head.hash,
		    audit_event_canonical_into(ev, &s->canon), hash);
	return store_pg_event_insert(s, ev, ev->id, s->audit == STORE_PG_AUDIT_ON ? hash : NULL,
	    e);
}

int
store_pg_seal(struct store_pg *s, struct err *e)
{
	char name[16], hash[AUDIT_HASH_HEXLEN + 1], id[24];
	PGresult *r;

	if (!s->lazy_lock)
		return 0;
	s->lazy_lock = false;
	if (!s->head.valid) {
		/* not store_pg_head_lock: its store_pg_run would flush, which calls us */
		snprintf(name, sizeof(name), "p%d", PG_HEAD_LOCK);
		r = PQexecPrepared(s->conn, name, 0, NULL, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			return store_pg_fail(s, r, e, "statement");
		if (store_pg_head_row(s, r, &s->head.id, s->head.hash, &s->head.seq, e) != 0)
			return -1;
		s->head.valid = true;
		s->head.dirty = false;
	}
	for (size_t i = 0; i < s->npend; i++) {
		struct store_pg_pending *p = &s->pend[i];
		struct store_event ev = { 0 };

		if (!p->unsealed)
			continue;
		ev.id = s->head.id + 1;
		ev.time = strtoll(p->v[EV_ARG_TIME], NULL, 10);
		ev.actor = p->v[2];
		ev.role = p->v[3];
		ev.request_id = p->v[4];
		ev.action = p->v[5];
		ev.object_kind = p->v[6];
		ev.has_cidr = p->v[EV_ARG_CIDR] != NULL &&
		    cidr_parse(p->v[EV_ARG_CIDR], &ev.cidr, NULL) == 0;
		ev.before = p->v[8];
		ev.after = p->v[9];
		ev.evidence = p->v[10];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)ev.id);
		free(p->v[EV_ARG_ID]);
		p->v[EV_ARG_ID] = xstrdup(id);
		if (s->audit == STORE_PG_AUDIT_ON) {
			audit_chain_link(s->base.audit_key, s->head.hash,
			    audit_event_canonical_into(&ev, &s->canon), hash);
			free(p->v[EV_ARG_HASH]);
			p->v[EV_ARG_HASH] = xstrdup(hash);
			memcpy(s->head.hash, hash, AUDIT_HASH_HEXLEN + 1);
		}
		s->head.id = ev.id;
		s->head.dirty = true;
		p->unsealed = false;
	}
	return 0;
}

/* store_event_import (store.h): ev as it is, id and hash included, after the head; inside
 * the caller's transaction (the migration's). */
int
store_pg_event_import(struct store *st, const struct store_event *ev, struct err *e)
{
	struct store_pg *s = store_pg(st);

	if (st->depth == 0)
		return err_set(e, "internal", "store: an event import needs a transaction");
	if (store_pg_head_lock(s, e) != 0)
		return -1;
	if (ev->id != s->head.id + 1)
		return err_set(e, "audit-broken", "store %s: event %llu cannot follow the chain "
		    "head %llu", s->name, (unsigned long long)ev->id,
		    (unsigned long long)s->head.id);
	return store_pg_event_insert(s, ev, ev->id, ev->hash, e);
}

/* Outside a transaction the append gets one of its own: the head lock needs one. */
int
store_pg_event_append(struct store *st, struct store_event *ev, struct err *e)
{
	struct store_pg *s = store_pg(st);

	if (s->audit == STORE_PG_AUDIT_OFF) {
		ev->id = 0;
		return 0;
	}
	if (st->depth > 0)
		return store_pg_event_put(s, ev, e);
	if (store_begin(st, e) != 0)
		return -1;
	if (store_pg_event_put(s, ev, e) != 0) {
		store_rollback(st, NULL);
		return -1;
	}
	return store_commit(st, e);
}

/* Hands each row of an events SELECT to cb (pointers valid during the call). */
static int
store_pg_event_rows(PGresult *r, store_event_cb cb, void *arg)
{
	struct store_event ev;
	int rc = 0;

	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		memset(&ev, 0, sizeof(ev));
		ev.id = (uint64_t)store_pg_int(r, i, 0);
		ev.time = store_pg_int(r, i, 1);
		ev.actor = store_pg_text(r, i, 2);
		ev.role = store_pg_text(r, i, 3);
		ev.request_id = store_pg_text(r, i, 4);
		ev.action = store_pg_text(r, i, 5);
		ev.object_kind = store_pg_text(r, i, 6);
		ev.has_cidr = !PQgetisnull(r, i, 7) && store_pg_cidr(r, i, 7, &ev.cidr, NULL) == 0;
		ev.before = store_pg_text(r, i, 8);
		ev.after = store_pg_text(r, i, 9);
		ev.evidence = store_pg_text(r, i, 10);
		ev.hash = store_pg_text(r, i, 11);
		rc = cb(arg, &ev);
	}
	PQclear(r);
	return rc;
}

static int
store_pg_page_cb(void *arg, const struct store_event *ev)
{
	return store_page_push(arg, ev);
}

/* The gist index answers && and the primary key the id order: the planner takes whichever
 * reaches limit + 1 rows first, and the LIMIT bounds what is read and sent. */
int
store_pg_events_page(struct store *st, struct store_event_page *pg, store_event_cb cb,
    void *arg, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	struct store_page_acc p = { cb, arg, pg->limit, 0, false, 0 };
	PGresult *r;

	store_pg_arg_cidr(&a, pg->cidr);
	store_pg_arg_int(&a, pg->since);
	store_pg_arg_int(&a, pg->until);
	store_pg_arg_int(&a, (int64_t)(pg->after > INT64_MAX ? INT64_MAX : pg->after));
	store_pg_arg_int(&a, (int64_t)pg->limit + 1);
	if ((r = store_pg_run(store_pg(st), PG_EVENT_QUERY, &a, e)) == NULL)
		return -1;
	if (store_pg_event_rows(r, store_pg_page_cb, &p) < 0)
		return -1;
	pg->next = p.more ? p.last : 0;
	return 0;
}

int
store_pg_events_after(struct store *st, uint64_t after, unsigned limit, store_event_cb cb,
    void *arg, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	store_pg_arg_int(&a, (int64_t)(after > INT64_MAX ? INT64_MAX : after));
	store_pg_arg_int(&a, limit);
	if ((r = store_pg_run(store_pg(st), PG_EVENTS_AFTER, &a, e)) == NULL)
		return -1;
	return store_pg_event_rows(r, cb, arg);
}

int
store_pg_events_index(struct store *st, struct err *e)
{
	(void)st;
	(void)e;
	return 0;
}

struct store_pg_verify {
	struct audit_verifier *v;
	struct err *e;
	int failed;
	unsigned rows;
};

static int
store_pg_verify_cb(void *arg, const struct store_event *ev)
{
	struct store_pg_verify *a = arg;
	int rc = audit_verify_event(a->v, ev, a->e);

	a->failed = rc != 0;
	a->rows++;
	return rc;
}

/* Walks the whole log in id order, a page at a time (the log may be long), then compares
 * the last event with the head. */
int
store_pg_audit_verify(struct store *st, struct audit_verifier *v, struct err *e)
{
	struct store_pg_verify a = { v, e, 0, 0 };
	char head[AUDIT_HASH_HEXLEN + 1];
	uint64_t head_id, after = 0;

	do {
		a.rows = 0;
		if (store_pg_events_after(st, after, 4096, store_pg_verify_cb, &a, e) != 0 ||
		    a.failed)
			return -1;
		after = v->last_id;
	} while (a.rows == 4096);
	if (store_pg_event_head(st, &head_id, head, e) != 0)
		return -1;
	return audit_verify_head(v, head_id, head, e);
}
