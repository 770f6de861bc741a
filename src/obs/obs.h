/*
 * obs — what prefixd notices on its own and records as events: alerts raised by other modules
 * (RPKI stale, BIRD drift), the utilization alarm of every pool, and the upkeep of history's
 * address index. No HTTP: the API's event feed (src/api/api_events.c) reads the store and
 * subscribes here to learn when new events were committed.
 *
 * Who calls it: src/prefixd.c creates one (obs_new) once the store and the model are loaded,
 * starts it (obs_start), hands it to the lifecycle (alerts) and registers obs_metrics and the
 * API's subscription. Owns the tick timer, the alarm records' memory copy and its counters.
 *
 * The tick (every 100 ms, never keeping the loop alive on its own): when the chain head moved
 * since the last scan (every mutation writes an event, so utilization changes only then) the
 * pools are scanned; a pool whose alarm state differs from the one recorded (document kind
 * "alarm", key the pool's name) gets one event, "alarm-raised" or "alarm-cleared" (actor
 * "prefixd", role "system"), and the record is updated in the same transaction: one event per
 * crossing, also across restarts. An alarm event has no CIDR (a pool may hold several); its
 * `after` names the pool. About once a second the tick brings history's address index up to
 * date (store_events_index: one small transaction, so a change's own commit does not pay for
 * it; history is complete meanwhile, it scans the log's tail). Then every subscriber is called
 * with the current head (long polls answer from it). Nothing runs while a transaction is open.
 */
#ifndef PREFIXD_OBS_H
#define PREFIXD_OBS_H

#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "err.h"

struct ev_loop;
struct store;
struct ipam;
struct obs;

/* A new observer over the store and the model; loads the alarm records. Not started. */
struct obs *obs_new(struct ev_loop *loop, struct store *store, struct ipam *ipam);
/* Starts the tick. */
void obs_start(struct obs *o);
/* Stops the tick and frees; NULL is a no-op. */
void obs_free(struct obs *o);

/*
 * Compares every pool's utilization with its alarm and records the transitions (the tick does
 * this whenever the event chain's head moved). O(pools), O(1) per pool that did not cross its
 * threshold (tests/unit/test_obs_scan: 16.5k pools).
 */
void obs_alarm_scan(struct obs *o);

/*
 * Records one alert as an event: actor "prefixd", role "system", the given action
 * ("rpki-stale", "drift", ...), object kind, CIDR (may be NULL) and `after` (a JSON text, may
 * be NULL). Joins the caller's open transaction as a savepoint, or commits its own. Only on
 * the loop thread. Returns 0, or -1 with e set (nothing written).
 */
int obs_alert(struct obs *o, const char *action, const char *kind, const struct cidr *c,
    const char *after, struct err *e);

/* FN(arg, head) after every tick, with the id of the last committed event. One subscriber
 * per (fn, arg); at most OBS_MAX_SUBSCRIBERS. 0, or -1 when full. */
#define OBS_MAX_SUBSCRIBERS 4
typedef void (*obs_tick_fn)(void *arg, uint64_t head);
int obs_subscribe(struct obs *o, obs_tick_fn fn, void *arg);

/* metrics_renderer (arg: the obs): prefixd_events_last_id, prefixd_pool_alarm_transitions_total. */
void obs_metrics(void *arg, FILE *out);

#endif
