/*
 * store_sites — the rules of store_sites.h over the backends' primitives (struct
 * store_site_ops): desire (one pair, or a request's pairs at once), fenced records, leases,
 * the withdrawal circuit breaker. Every write runs in a store level of its own (a transaction
 * alone, a savepoint inside the caller's), so a refused or failed write leaves the caller's
 * batch intact.
 */
#include "store_sites.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

#define SITE_OPS(st) ((st)->ops->sites)
#define BREAKER_WINDOW 60               /* seconds: max_withdraw_rate is per minute */

static int
site_unsupported(const struct store *st, struct err *e)
{
	return err_set(e, "store-failed", "store %s: no site tables", st->ops->name);
}

/* Opens a level; -1 when the backend has no site tables or BEGIN failed. */
static int
site_begin(struct store *st, struct err *e)
{
	if (SITE_OPS(st) == NULL)
		return site_unsupported(st, e);
	return store_begin(st, e);
}

/* Closes the level site_begin opened: commits when rc >= 0 (then returns rc, or -1 when the
 * commit failed), else rolls back and returns -1 with e as the body set it. */
static int
site_end(struct store *st, int rc, struct err *e)
{
	if (rc < 0) {
		store_rollback(st, NULL);
		return -1;
	}
	if (store_commit(st, e) < 0)
		return -1;
	return rc;
}

int
store_site_desire(struct store *st, const struct cidr *c, const char *site, bool want,
    int64_t now, struct err *e)
{
	if (site_begin(st, e) < 0)
		return -1;
	return site_end(st, SITE_OPS(st)->desire(st, c, site, want, now, e), e);
}

int
store_site_desire_many(struct store *st, const struct cidr *c, const char *const *site,
    size_t n, bool want, int64_t now, struct err *e)
{
	if (n == 0)
		return 0;
	if (site_begin(st, e) < 0)
		return -1;
	return site_end(st, SITE_OPS(st)->desire_many(st, c, site, n, want, now, e), e);
}

/* 0 when L is HOLDER's at epoch EPOCH and unexpired at NOW, else -1 "lease-lost". */
static int
site_lease_holds(const struct store_lease *l, const char *holder, uint64_t epoch, int64_t now,
    struct err *e)
{
	if (strcmp(l->holder, holder) == 0 && l->epoch == epoch && l->expires > now)
		return 0;
	if (strcmp(l->holder, holder) != 0)
		return err_set(e, "lease-lost", "site %s: the lease is %s's (epoch %llu), not "
		    "ours (epoch %llu): nothing recorded", l->site, l->holder[0] ? l->holder :
		    "nobody", (unsigned long long)l->epoch, (unsigned long long)epoch);
	return err_set(e, "lease-lost", "site %s: our lease (epoch %llu) %s: nothing recorded",
	    l->site, (unsigned long long)l->epoch, l->epoch != epoch ? "moved on" : "expired");
}

int
store_site_record(struct store *st, const struct store_site_row *r, const char *holder,
    int64_t now, struct err *e)
{
	return store_site_record_many(st, r, 1, holder, now, e);
}

int
store_site_record_many(struct store *st, const struct store_site_row *r, size_t n,
    const char *holder, int64_t now, struct err *e)
{
	struct store_lease l;
	int rc;

	if (n == 0)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (strcmp(r[i].site, r[0].site) != 0 || r[i].epoch != r[0].epoch)
			return err_set(e, "invalid", "site records of one call are of one site under "
			    "one epoch (%s/%llu, then %s/%llu)", r[0].site,
			    (unsigned long long)r[0].epoch, r[i].site, (unsigned long long)r[i].epoch);
	if (site_begin(st, e) < 0)
		return -1;
	rc = SITE_OPS(st)->lease_lock(st, r[0].site, &l, e);
	if (rc == 0)
		rc = site_lease_holds(&l, holder, r[0].epoch, now, e);
	if (rc == 0)
		rc = store_site_put_rows(st, r, n, e);
	return site_end(st, rc, e);
}

int
store_site_put_rows(struct store *st, const struct store_site_row *r, size_t n, struct err *e)
{
	int rc = 0;

	if (SITE_OPS(st)->record_many != NULL)
		return SITE_OPS(st)->record_many(st, r, n, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = SITE_OPS(st)->record(st, &r[i], e);
	return rc;
}

int
store_site_load(struct store *st, const struct cidr *c, const char *site, store_site_cb cb,
    void *arg, struct err *e)
{
	if (SITE_OPS(st) == NULL)
		return site_unsupported(st, e);
	return SITE_OPS(st)->load(st, c, site, cb, arg, e);
}

int
store_site_forget(struct store *st, const struct cidr *c, struct err *e)
{
	if (site_begin(st, e) < 0)
		return -1;
	return site_end(st, SITE_OPS(st)->forget(st, c, e), e);
}

int
store_lease_acquire(struct store *st, const char *site, const char *holder, int64_t now,
    unsigned ttl, struct store_lease *out, struct err *e)
{
	int rc;

	if (site_begin(st, e) < 0)
		return -1;
	rc = SITE_OPS(st)->lease_lock(st, site, out, e);
	if (rc == 0 && strcmp(out->holder, holder) != 0 && out->expires > now && out->holder[0])
		rc = 1;                 /* another holder, unexpired: a standby */
	else if (rc == 0) {
		if (strcmp(out->holder, holder) != 0) {   /* taking it: a new epoch fences */
			snprintf(out->holder, sizeof(out->holder), "%s", holder);
			out->epoch++;
		}
		out->expires = now + (int64_t)ttl;
		rc = SITE_OPS(st)->lease_put(st, out, e);
	}
	return site_end(st, rc, e);
}

int
store_lease_get(struct store *st, const char *site, struct store_lease *out, struct err *e)
{
	if (SITE_OPS(st) == NULL)
		return site_unsupported(st, e);
	return SITE_OPS(st)->lease_get(st, site, out, e);
}

int
store_lease_list(struct store *st, struct store_lease *out, size_t max, size_t *n,
    struct err *e)
{
	*n = 0;
	if (SITE_OPS(st) == NULL)
		return site_unsupported(st, e);
	return SITE_OPS(st)->lease_list(st, out, max, n, e);
}

int
store_lease_release(struct store *st, const char *site, const char *holder, struct err *e)
{
	struct store_lease l;
	int rc;

	if (site_begin(st, e) < 0)
		return -1;
	rc = SITE_OPS(st)->lease_lock(st, site, &l, e);
	if (rc == 0 && strcmp(l.holder, holder) == 0) {
		l.expires = 0;
		rc = SITE_OPS(st)->lease_put(st, &l, e);
	}
	return site_end(st, rc, e);
}

int
store_withdraw_admit(struct store *st, const struct cidr *c, const char *site, int64_t now,
    unsigned limit, struct err *e)
{
	const struct store_site_ops *o;
	int64_t open_since = 0, n = 0;
	int rc;

	if (limit == 0)
		return 0;
	if (site_begin(st, e) < 0)
		return -1;
	o = SITE_OPS(st);
	if ((rc = o->withdraw_lock(st, e)) == 0 && (rc = o->breaker_read(st, &open_since, e)) == 0 &&
	    open_since == 0 && (rc = o->withdraw_count(st, now - BREAKER_WINDOW, &n, e)) == 0) {
		if (n < (int64_t)limit)
			rc = o->withdraw_add(st, c, site, now, e);
		else
			rc = o->breaker_write(st, open_since = now, e);     /* it opens */
	}
	/* The breaker's opening is kept: the level commits even though this is refused. */
	if (site_end(st, rc, e) < 0)
		return -1;
	if (open_since != 0)
		return err_set(e, "circuit-open", "the withdrawal circuit breaker is open (since "
		    "%lld; at most %u prefix-site withdrawals per minute across all instances): "
		    "nothing withdrawn; an admin resets it", (long long)open_since, limit);
	return 0;
}

int
store_breaker_get(struct store *st, int64_t now, int64_t *open_since, int64_t *count,
    struct err *e)
{
	if (SITE_OPS(st) == NULL)
		return site_unsupported(st, e);
	if (SITE_OPS(st)->breaker_read(st, open_since, e) < 0)
		return -1;
	return SITE_OPS(st)->withdraw_count(st, now - BREAKER_WINDOW, count, e);
}

int
store_breaker_reset(struct store *st, struct err *e)
{
	if (site_begin(st, e) < 0)
		return -1;
	return site_end(st, SITE_OPS(st)->breaker_write(st, 0, e), e);
}
