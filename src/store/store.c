/*
 * store — the backend-neutral wrappers of store.h (store_begin, store_alloc_put, ...): each
 * dispatches through the backend's ops table; store_begin/commit/rollback also keep the
 * nesting depth. The backends are store_sqlite.c and store_pg.c; the keyed audit chain's
 * wrappers (store_audit_key, store_audit_verify) are in store_audit.c; the copy of a whole
 * store (prefixd --migrate-store) is store_migrate.c.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

void
store_close(struct store *st)
{
	if (st != NULL) {
		if (st->audit_head != NULL)
			close(st->audit_head_fd);
		free(st->audit_head);
		st->ops->close(st);
	}
}

int
store_begin(struct store *st, struct err *e)
{
	if (st->depth == 0)
		st->batch_refused = false;
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
	if (st->depth == 1 && st->batch_failed) {
		st->ops->rollback(st, NULL);
		st->depth = 0;
		st->batch_defer = st->batch_failed = st->release_early = false;
		return err_set(e, "store-failed", "store: a write of the batch failed; the batch "
		    "is rolled back as a whole");
	}
	rc = st->ops->commit(st, e);
	if (--st->depth == 0)
		st->batch_defer = st->batch_failed = st->release_early = false;
	return rc;
}

void
store_batch_defer(struct store *st, bool on)
{
	st->batch_defer = on && st->depth > 0;
}

uint64_t
store_feed_epoch(const struct store *st)
{
	return st->feed_epoch;
}

void
store_release_early(struct store *st)
{
	st->release_early = st->depth > 0;
}

bool
store_batch_deferred(const struct store *st)
{
	return st->batch_defer;
}

bool
store_batch_refused(const struct store *st)
{
	return st->batch_refused;
}

void
store_batch_fail(struct store *st)
{
	if (st->depth > 0)
		st->batch_failed = true;
}

int
store_rollback(struct store *st, struct err *e)
{
	int rc;

	if (st->depth == 0)
		return err_set(e, "store-failed", "store: rollback without a transaction");
	rc = st->ops->rollback(st, e);
	if (--st->depth == 0)
		st->batch_defer = st->batch_failed = st->release_early = false;
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
store_events_index(struct store *st, struct err *e)
{
	return st->ops->events_index(st, e);
}

int
store_events_query(struct store *st, const struct cidr *c, int64_t since, int64_t until,
    store_event_cb cb, void *arg, struct err *e)
{
	struct store_event_page pg = { c, since, until, 0, 1000, 0 };

	do {
		if (st->ops->events_page(st, &pg, cb, arg, e) != 0)
			return -1;
		pg.after = pg.next;
	} while (pg.next != 0);
	return 0;
}

int
store_page_push(struct store_page_acc *a, const struct store_event *ev)
{
	int rc;

	if (a->n == a->limit) {
		a->more = true;
		return 1;
	}
	if ((rc = a->cb(a->arg, ev)) != 0)
		return rc;
	a->n++;
	a->last = ev->id;
	return 0;
}

int
store_events_page(struct store *st, struct store_event_page *pg, store_event_cb cb, void *arg,
    struct err *e)
{
	pg->next = 0;
	return st->ops->events_page(st, pg, cb, arg, e);
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
store_doc_put_sited(struct store *st, const char *kind, const char *key, const char *doc,
    struct err *e)
{
	int rc;

	st->doc_sited = true;
	rc = st->ops->doc_put(st, kind, key, doc, e);
	st->doc_sited = false;
	return rc;
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
store_id_block(struct store *st, enum store_table t, uint64_t *first, uint64_t *n,
    struct err *e)
{
	if (st->ops->id_block == NULL)
		return 1;
	return st->ops->id_block(st, t, first, n, e);
}

bool
store_has_feed(const struct store *st)
{
	return st->ops->changes_after != NULL;
}

int
store_feed_sync(struct store *st, uint64_t *seq, struct err *e)
{
	return store_feed_sync_from(st, UINT64_MAX, seq, e);
}

int
store_feed_sync_from(struct store *st, uint64_t after, uint64_t *seq, struct err *e)
{
	*seq = 0;
	return st->ops->feed_sync != NULL ? st->ops->feed_sync(st, after, seq, e) : 0;
}

int
store_changes_after(struct store *st, uint64_t after, store_change_cb cb, void *arg,
    uint64_t *last, struct err *e)
{
	*last = after;
	return st->ops->changes_after != NULL ?
	    st->ops->changes_after(st, after, cb, arg, last, e) : 0;
}

int
store_listen_fd(struct store *st)
{
	return st->ops->listen_fd != NULL ? st->ops->listen_fd(st) : -1;
}

int
store_notified(struct store *st)
{
	return st->ops->notified != NULL ? st->ops->notified(st) : 0;
}

double
store_notify_due(struct store *st)
{
	return st->ops->notify_due != NULL ? st->ops->notify_due(st) : -1;
}

int
store_notify_send(struct store *st, struct err *e)
{
	return st->ops->notify_send != NULL ? st->ops->notify_send(st, e) : 0;
}

bool
store_online(struct store *st)
{
	return st->ops->online != NULL ? st->ops->online(st) : true;
}

int
store_doc_each(struct store *st, store_doc_all_cb cb, void *arg, struct err *e)
{
	return st->ops->doc_each(st, cb, arg, e);
}

int
store_counter_each(struct store *st, store_counter_cb cb, void *arg, struct err *e)
{
	return st->ops->counter_each(st, cb, arg, e);
}

int
store_event_import(struct store *st, const struct store_event *ev, struct err *e)
{
	if (ev->hash == NULL || strlen(ev->hash) != AUDIT_HASH_HEXLEN)
		return err_set(e, "audit-broken", "event %llu has no audit hash (written with "
		    "PREFIXD_AUDIT=nochain?): the chain cannot be copied",
		    (unsigned long long)ev->id);
	return st->ops->event_import(st, ev, e);
}

int
store_imported(struct store *st, struct err *e)
{
	return st->ops->imported != NULL ? st->ops->imported(st, e) : 0;
}
