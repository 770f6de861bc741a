/*
 * site_lease — one writer per router (issue 17): this instance's hold on its site's lease.
 *
 * Who calls it: src/prefixd.c creates one per instance (site_lease_new) with the store, the
 * site name ([site] name) and the renewal period ([site] lease_renew); the lifecycle asks
 * site_lease_may_write before every BIRD transaction and records the transaction's result
 * under site_lease_epoch (store_site_record, fenced); /v1/status and /metrics show it.
 *
 * Every `renew` seconds it takes or renews the lease (store_lease_acquire, expiry 3 x renew).
 * It is the writer while its last successful renewal is younger than the expiry by its own
 * monotonic clock; so a holder that was stopped (SIGSTOP) or lost the database stops writing
 * BIRD at once when it runs again, before any renewal: may_write is false until a renewal
 * succeeds, and a renewal after another instance took the lease finds itself a standby
 * (the epoch moved on: whatever it still tries to record is refused lease-lost). A second
 * instance with the same site name is a standby and takes over within one expiry. A clean
 * stop releases the lease so that the standby takes over at once.
 */
#ifndef PREFIXD_SITE_LEASE_H
#define PREFIXD_SITE_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store_sites.h"

struct ev_loop;
struct store;
struct site_lease;

struct site_lease_deps {
	struct ev_loop *loop;
	struct store *store;
	const char *site;               /* [site] name (copied) */
	const char *holder;             /* this instance's id (copied); NULL: host:pid:start */
	unsigned renew;                 /* [site] lease_renew seconds */
};

/* Creates it and tries the lease once at once (a standby or a store failure is no error:
 * it keeps trying every renew seconds). */
struct site_lease *site_lease_new(const struct site_lease_deps *d);
/* Stops renewing and releases the lease if held. NULL is a no-op. */
void site_lease_free(struct site_lease *s);

const char *site_lease_site(const struct site_lease *s);
const char *site_lease_holder(const struct site_lease *s);
/* True while this instance may write its BIRD (see above). */
bool site_lease_may_write(const struct site_lease *s);
/* The epoch of the lease it holds (0 when it holds none). */
uint64_t site_lease_epoch(const struct site_lease *s);
/* Renews now (tests; the timer does it every renew seconds). */
void site_lease_renew_now(struct site_lease *s);

/* /v1/status "site": {"name","holder","role":"writer"|"standby"|"unknown","epoch",
 * "lease_holder","lease_expires","renew","acquired","lost"}. New reference. */
json_t *site_lease_status(const struct site_lease *s);
/* prefixd_site_lease_held{site}, prefixd_site_lease_epoch{site},
 * prefixd_site_lease_acquired_total{site}, prefixd_site_lease_lost_total{site}. */
void site_lease_metrics(const struct site_lease *s, FILE *out);

#endif
