/*
 * store_migrate — copies a whole store into an empty one: `prefixd --migrate-store FROM TO`
 * (issue 16), e.g. from an instance's SQLite file into the PostgreSQL database several
 * instances will share, or back.
 *
 * FROM and TO name stores as "sqlite:PATH" or "postgresql:DSN" (a libpq connection string).
 * What moves, through the store interface (store.h), so any backend reads into any other:
 * scopes, pools, provisions, allocations (with their client tokens) and resources with their
 * ids; counters; every document (public prefixes, ASNs, grants, alarms, ...); the sites'
 * rows, leases and breaker (store_sites.h); and the event log with its audit chain, copied
 * verbatim (ids and links as stored: store_event_import), so the chain is the same chain,
 * keyed or not. Withdrawal times of the breaker's last minute are not copied.
 *
 * Every instance on either store must be stopped. The steps:
 *   1. open both (a SQLite FROM must exist: a missing file is refused, never created);
 *   2. FROM: one transaction, the writers' lock taken, `audit verify` (a broken chain is
 *      refused: it would be copied broken), then everything is counted;
 *   3. TO: one transaction, the writers' lock taken; anything stored there (a row, an event,
 *      a document, a counter, a site row or lease) refuses the copy: "not empty";
 *   4. copy, then TO's backend fix-ups (store_imported), then TO is counted again (each count
 *      must equal FROM's, and its chain head FROM's) and `audit verify` runs on TO, all
 *      before COMMIT: any failure rolls the whole copy back;
 *   5. COMMIT. FROM is never written.
 * A SQLite TO that did not exist before is removed when the copy fails.
 */
#ifndef PREFIXD_STORE_MIGRATE_H
#define PREFIXD_STORE_MIGRATE_H

#include <stdio.h>

#include "err.h"

struct audit_key;

/*
 * Copies FROM into TO (see above); k (NULL: none) is the key of a keyed audit chain
 * ([daemon] audit_key_file, audit_key.h): both chains are verified with it (a keyed chain
 * without it is refused "audit-broken" naming the first keyed event); on success writes what was copied to out (one line per
 * kind of object). Returns 0, or -1 with e naming the cause: "invalid-argument" (a store
 * spec that is not sqlite:PATH or postgresql:DSN, FROM equal to TO), "not-empty" (TO holds
 * something: what, counted), "audit-broken" (FROM's chain does not verify), "store-failed"
 * (either store: could not be opened or read, the copy was refused; which store and why).
 */
int store_migrate(const char *from, const char *to, const struct audit_key *k, FILE *out,
    struct err *e);

#endif
