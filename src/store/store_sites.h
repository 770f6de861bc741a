/*
 * store_sites — what the store keeps for sites (issue 17): one prefixd beside each BIRD
 * router, a "site" being such a pair, several sites sharing one store (PostgreSQL).
 *
 * Three things, in both backends (SQLite migration 8, PostgreSQL migration 2; a single
 * instance on SQLite has one site, "local" by default, and never needs more than one row
 * each):
 *
 * - prefix_sites: per (public prefix, site) the desired announcement (want) and the site's
 *   own state: "pending" (desire recorded, the site has not applied it yet), "advertised",
 *   "withdrawn", "failed" (the site refused: failure_reason is its code), with the time of its
 *   last change, its evidence (JSON text) and the lease epoch it was recorded under.
 *   store_site_desire writes the desire and sets the state to pending when the desire
 *   changes; store_site_record writes the outcome, fenced (below).
 *
 * - site_leases: one writer per router. A lease per site: holder (an instance id), epoch,
 *   expiry. store_lease_acquire takes a free or expired lease (the epoch goes up by one when
 *   the holder changes) or renews one it holds (same epoch, new expiry); it never takes a
 *   lease another holder holds unexpired. Times are the callers' clocks (unix seconds):
 *   instances sharing a store need synchronised clocks (NTP), well within the expiry.
 *   Fencing: store_site_record writes only while the site's lease row still names HOLDER
 *   with the row's epoch and has not expired; otherwise it changes nothing and fails
 *   "lease-lost". In PostgreSQL the lease row is read FOR SHARE in the recording
 *   transaction, so a takeover waits for it (or the recording waits for the takeover and
 *   then sees the new epoch): a BIRD transaction's result is recorded only if its epoch
 *   still holds.
 *
 * - The withdrawal circuit breaker (SPEC brakes across sites): store_withdraw_admit counts
 *   prefix-site withdrawals of the last 60 s across every instance (a table of withdrawal
 *   times; in PostgreSQL under a transaction-level advisory lock, so two instances cannot
 *   both take the last slot). Under LIMIT it records this one and admits it; at LIMIT it opens
 *   the breaker (a row that stays until store_breaker_reset) and refuses "circuit-open"; while
 *   open every withdrawal is refused. LIMIT 0 admits everything and records nothing.
 *
 * Every write opens its own store level (a transaction, or a savepoint inside the caller's),
 * so it can run alone or join a batch. Returns 0, or -1 with e ("store-failed", "lease-lost",
 * "circuit-open").
 */
#ifndef PREFIXD_STORE_SITES_H
#define PREFIXD_STORE_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"

struct store;

#define STORE_SITE_NAME_MAX 32
#define STORE_HOLDER_MAX 96

struct store_site_row {
	struct cidr cidr;
	const char *site;
	bool want;                      /* desired: announced at this site */
	int64_t desired_at;             /* when the desire was recorded */
	const char *state;              /* "pending", "advertised", "withdrawn", "failed" */
	int64_t last_change;
	const char *failure_reason;     /* a code, or NULL */
	const char *evidence;           /* JSON text, or NULL */
	uint64_t epoch;                 /* lease epoch of the last record (0: none yet) */
};

struct store_lease {
	char site[STORE_SITE_NAME_MAX + 1];
	char holder[STORE_HOLDER_MAX + 1];
	uint64_t epoch;
	int64_t expires;                /* unix seconds */
};

/* Rows of a query, in (cidr, site) order; pointers valid only during the call. Return 0 to
 * go on, -1 to stop (set e). */
typedef int (*store_site_cb)(void *arg, const struct store_site_row *r, struct err *e);

/* What a backend provides; the rules (desire, fencing, leases, the breaker) are in
 * store_sites.c, the same for every backend. lease_lock makes SITE's lease row exist
 * (holder "", epoch 0, expires 0) and locks it for the open transaction (PostgreSQL: FOR
 * UPDATE), then reads it; withdraw_lock serialises the breaker's count-and-add across
 * instances for the open transaction (PostgreSQL: an advisory transaction lock). */
struct store_site_ops {
	int (*desire)(struct store *st, const struct cidr *c, const char *site, bool want,
	    int64_t now, struct err *e);
	/* desire of n (cidr, site) pairs: one statement where the backend can (PostgreSQL) */
	int (*desire_many)(struct store *st, const struct cidr *c, const char *const *site,
	    size_t n, bool want, int64_t now, struct err *e);
	/* one of the two: record writes one row, record_many n rows of one site in one
	 * statement (PostgreSQL) */
	int (*record)(struct store *st, const struct store_site_row *r, struct err *e);
	int (*record_many)(struct store *st, const struct store_site_row *r, size_t n,
	    struct err *e);
	int (*load)(struct store *st, const struct cidr *c, const char *site, store_site_cb cb,
	    void *arg, struct err *e);
	int (*forget)(struct store *st, const struct cidr *c, struct err *e);
	int (*lease_lock)(struct store *st, const char *site, struct store_lease *out,
	    struct err *e);
	int (*lease_put)(struct store *st, const struct store_lease *l, struct err *e);
	int (*lease_get)(struct store *st, const char *site, struct store_lease *out,
	    struct err *e);
	int (*lease_list)(struct store *st, struct store_lease *out, size_t max, size_t *n,
	    struct err *e);
	int (*withdraw_lock)(struct store *st, struct err *e);
	int (*withdraw_count)(struct store *st, int64_t since, int64_t *n, struct err *e);
	int (*withdraw_add)(struct store *st, const struct cidr *c, const char *site,
	    int64_t now, struct err *e);
	int (*breaker_read)(struct store *st, int64_t *open_since, struct err *e);
	int (*breaker_write)(struct store *st, int64_t open_since, struct err *e);
};

/* Records that SITE should (want) or should not announce C. A changed desire resets the
 * site's state to "pending" (its failure reason cleared); the same desire again changes
 * nothing but desired_at. */
int store_site_desire(struct store *st, const struct cidr *c, const char *site, bool want,
    int64_t now, struct err *e);
/* The same for n pairs (c[i], site[i]) at once, one transaction (joins the open one) and, on
 * PostgreSQL, one statement and one notification: a request for 1,000 prefixes at two sites
 * costs one round trip, not 2,000. A pair given twice counts once. */
int store_site_desire_many(struct store *st, const struct cidr *c, const char *const *site,
    size_t n, bool want, int64_t now, struct err *e);
/* Records site r->site's outcome for r->cidr (state, last_change, failure_reason, evidence)
 * under lease epoch r->epoch held by HOLDER; "lease-lost" (nothing written) when the lease
 * moved on or expired at NOW. A row without a desire is created (want = false). */
int store_site_record(struct store *st, const struct store_site_row *r, const char *holder,
    int64_t now, struct err *e);
/* The same for n rows of ONE site under ONE epoch (an operation's results, 1,000 prefixes of
 * a batch): one level, the lease checked once, on PostgreSQL one statement, so a batch's
 * results cost three round trips, not three per prefix. All or nothing: "lease-lost" or
 * "store-failed" writes no row; rows of several sites or epochs are refused "invalid". */
int store_site_record_many(struct store *st, const struct store_site_row *r, size_t n,
    const char *holder, int64_t now, struct err *e);
/* Writes the n rows' states as they are, unfenced, in the open level (store_migrate.c, whose
 * target's leases are copied as they were; and store_site_record_many once fenced). */
int store_site_put_rows(struct store *st, const struct store_site_row *r, size_t n,
    struct err *e);
/* Rows of prefix C (NULL: every prefix) at SITE (NULL: every site). */
int store_site_load(struct store *st, const struct cidr *c, const char *site,
    store_site_cb cb, void *arg, struct err *e);
/* Removes every site row of C (deprovisioning). */
int store_site_forget(struct store *st, const struct cidr *c, struct err *e);

/* Takes or renews SITE's lease for HOLDER until now + ttl. Returns 0 (held by HOLDER; *out
 * is the lease), 1 (another holder holds it unexpired; *out names it), or -1 with e. */
int store_lease_acquire(struct store *st, const char *site, const char *holder, int64_t now,
    unsigned ttl, struct store_lease *out, struct err *e);
/* 0 and *out, 1 when SITE has no lease row, -1 with e. */
int store_lease_get(struct store *st, const char *site, struct store_lease *out,
    struct err *e);
/* Every site's lease row, in site order: up to MAX into OUT, *n of them (the sites the store
 * knows: every instance that ever ran on it made its site's row). 0 or -1 with e. */
int store_lease_list(struct store *st, struct store_lease *out, size_t max, size_t *n,
    struct err *e);
/* Gives the lease up (expires now) if HOLDER holds it; a clean stop hands over at once. */
int store_lease_release(struct store *st, const char *site, const char *holder,
    struct err *e);

/* The circuit breaker (see above). 0: admitted; -1 "circuit-open" (or store-failed). */
int store_withdraw_admit(struct store *st, const struct cidr *c, const char *site,
    int64_t now, unsigned limit, struct err *e);
/* *open_since: 0 while closed; *count: withdrawals recorded in the 60 s before NOW. */
int store_breaker_get(struct store *st, int64_t now, int64_t *open_since, int64_t *count,
    struct err *e);
int store_breaker_reset(struct store *st, struct err *e);

#endif
