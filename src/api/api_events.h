/*
 * api_events — the event feed (GET /v1/events), audit verification (GET /v1/audit/verify)
 * and the utilization alarm; see api_events.c for the routes and the watcher.
 *
 * Who calls it: metrics.c renders the feed's families on every scrape; modules that raise
 * alerts (the lifecycle's RPKI stale alert, the reconciler's drift) record them with
 * api_events_alert so that `prefixctl events --follow` shows them.
 */
#ifndef PREFIXD_API_EVENTS_H
#define PREFIXD_API_EVENTS_H

#include <stdio.h>

#include "cidr.h"
#include "daemon.h"
#include "err.h"

/*
 * Records one alert as an event: actor "prefixd", role "system", the given action
 * ("rpki-stale", "drift", ...), object kind, CIDR (may be NULL) and `after` (a JSON text, may
 * be NULL). Joins the caller's open transaction as a savepoint, or commits its own. Only on
 * the loop thread. Returns 0, or -1 with e set (nothing written).
 */
int api_events_alert(struct daemon *d, const char *action, const char *kind,
    const struct cidr *c, const char *after, struct err *e);

/* Writes the feed's metric families (and starts the feed's watcher if it is not running). */
void api_events_metrics(struct daemon *d, FILE *out);
/* Registers GET /v1/events and GET /v1/audit/verify (from api_register_builtin). */
void api_events_register(void);
/* Starts the watcher (long polls, utilization alarm) for d; a second call is a no-op. */
void api_events_start(struct daemon *d);

#endif
