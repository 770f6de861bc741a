/*
 * lifecycle_bmp — what the world sees of our public prefixes, judged against our intent: the
 * BMP station's subscriber on the lifecycle's side (issue 19). No HTTP, no second config: the
 * intent is the lifecycle's (which prefixes are ours, from which origin, advertised or not),
 * the observations are the station's (bgp/bmp.h), the verdicts are events (obs_alert), log
 * lines and counters.
 *
 * Who calls it: src/prefixd.c makes one when [bmp] listen is set (lifecycle_bmp_new, before
 * the controller, whose struct lifecycle_deps gets lifecycle_bmp_wait as its visibility
 * hook), attaches it to the controller (lifecycle_bmp_attach: change subscription, watch set,
 * station subscription), passes [bmp] changes on SIGHUP (lifecycle_bmp_set_conf) and frees it
 * before the controller. src/api/api_bmp.c reads it (lifecycle_bmp_watch_info, _alerts,
 * _stats). Owns the watch records, the standing alerts, the waiters and two timers.
 *
 * Watch set. Every public prefix in provisioned, pending-advertise, advertised or
 * pending-withdraw, with its origin ASN, goes to bmp_set_watch (again whenever that set
 * changes; the rebuild runs on the loop after the change, never inside the controller's
 * transaction).
 *
 * Vantage points. The station keeps routes per (router, peer, view). For counting, a vantage
 * point is a router (a BMP session's address): it holds a prefix when any of its views holds
 * the exact prefix from our origin (verdict ok). At most LIFECYCLE_BMP_MAX_ROUTERS routers are
 * told apart; routes of more are shown by the API but not counted (routers_dropped).
 *
 * Evaluation is level-triggered: a station event marks its watched prefix dirty; a zero-delay
 * timer then re-derives that prefix's whole state from bmp_visibility (so the order of events
 * inside one BMP message does not matter), and a 1 s tick re-evaluates prefixes with a
 * deadline (trackers, waiters, withdrawn-but-visible).
 *
 * Alerts (event "alert-raised" / "alert-cleared", object kind "bmp", the watched prefix as
 * CIDR, `after` naming the alert, route prefix, AS, vantage and AS path; a warn / info log line;
 * prefixd_bmp_alerts_total{kind} and the standing prefixd_bmp_alerts{kind}):
 *   hijack              a route for our prefix (exact) or a more-specific from another origin,
 *                       unless that origin is one of the prefix's --allow-origin; one alert per
 *                       (route prefix, origin), naming the first vantage that showed it
 *   unexpected-transit  ([bmp] transits set) a route from our origin whose AS before the origin
 *                       (prepends of the origin skipped) is not a declared transit; a path of
 *                       our origin alone (the vantage peers with us) passes; a path cut in the
 *                       station's text (longer than BMP_ASPATH_TEXT) is not judged
 *   rpki-invalid        a route for our prefix or a more-specific that rpki_check calls
 *                       invalid (fresh RTR data only; no RTR: never)
 *   visibility-lost     an advertised prefix that a router held is no longer held by it (a
 *                       router whose BMP session closed is not counted: that is blindness,
 *                       not loss)
 *   still-visible       a prefix that does not want its route (withdrawn, or never advertised)
 *                       is held by a router more than visibility_timeout after it stopped
 * Each clears when its condition no longer holds. At most LIFECYCLE_BMP_MAX_ALERTS stand at
 * once; more are counted (alerts_dropped) and logged, not raised.
 *
 * Confirmation. Entering pending-advertise (or pending-withdraw without a drain; the end of a
 * drain) starts a tracker at t0. Once the prefix reached advertised (provisioned) and every
 * router with an open session holds it (none holds it), or visibility_timeout passed, the
 * tracker writes the times from t0 to the first and to the last router agreeing into the
 * prefix's evidence ("visibility_advertise" / "visibility_withdraw") and history (event
 * "visibility"); a time that never came is null.
 * With require_visibility = N, lifecycle_bmp_wait answers a waiting advertise as soon as N
 * routers hold each prefix, else at visibility_timeout with visible = false.
 */
#ifndef PREFIXD_LIFECYCLE_BMP_H
#define PREFIXD_LIFECYCLE_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmp.h"
#include "cidr.h"
#include "lifecycle_ctl.h"

struct ev_loop;
struct obs;
struct rtr;
struct lifecycle_bmp;

#define LIFECYCLE_BMP_MAX_ROUTERS 64
#define LIFECYCLE_BMP_MAX_ALERTS 4096
#define LIFECYCLE_BMP_MAX_TRANSITS 16

enum lifecycle_bmp_kind {
	LIFECYCLE_BMP_HIJACK,
	LIFECYCLE_BMP_TRANSIT,
	LIFECYCLE_BMP_RPKI_INVALID,
	LIFECYCLE_BMP_VIS_LOST,
	LIFECYCLE_BMP_STILL_VISIBLE,
	LIFECYCLE_BMP_KINDS
};
/* "hijack", "unexpected-transit", "rpki-invalid", "visibility-lost", "still-visible". */
const char *lifecycle_bmp_kind_name(int kind);

struct lifecycle_bmp_conf {
	unsigned require;               /* [bmp] require_visibility */
	unsigned timeout;               /* [bmp] visibility_timeout, seconds (>= 1) */
	const uint32_t *transits;       /* [bmp] transits (copied) */
	size_t ntransits;
};

/* A standing alert (read-only for callers). */
struct lifecycle_bmp_alert {
	uint8_t kind;                   /* enum lifecycle_bmp_kind */
	struct cidr prefix;             /* the route's prefix (the watched one for lost/visible) */
	struct cidr watched;
	uint32_t asn;                   /* hijack / rpki-invalid: the origin; transit: the AS
	                                 * before the origin; else our origin */
	struct bmp_vantage vantage;     /* the first vantage that showed it (lost: the router) */
	char as_path[BMP_ASPATH_TEXT];
	double since;                   /* when it was raised (ev_now) */
	bool keep;                      /* evaluation scratch */
};

struct lifecycle_bmp_info {
	bool watched;
	enum lifecycle_state state;
	uint32_t origin;
	unsigned holding;               /* routers holding it from our origin */
	unsigned routers_up;            /* routers with an open BMP session */
	size_t alerts;                  /* standing alerts for it */
};

struct lifecycle_bmp_stats {
	uint64_t raised[LIFECYCLE_BMP_KINDS], cleared[LIFECYCLE_BMP_KINDS];
	size_t standing[LIFECYCLE_BMP_KINDS];
	uint64_t alerts_dropped, routers_dropped, records;
	size_t watched, routers_up, waiting;
};

/* A monitor of the station (borrowed; its subscriber is set by lifecycle_bmp_attach). obs
 * and rtr may be NULL (no events; no RPKI check). */
struct lifecycle_bmp *lifecycle_bmp_new(struct ev_loop *loop, struct bmp_station *st,
    struct obs *obs, struct rtr *rtr, const struct lifecycle_bmp_conf *conf);
/* The controller to follow: subscribes to its changes and the station's events and sets
 * the watch set from its rows. */
void lifecycle_bmp_attach(struct lifecycle_bmp *m, struct lifecycle_ctl *lc);
/* New [bmp] require_visibility / visibility_timeout / transits (SIGHUP). */
void lifecycle_bmp_set_conf(struct lifecycle_bmp *m, const struct lifecycle_bmp_conf *conf);
/* Unsubscribes, answers every waiting advertise (not visible), frees. NULL is a no-op. Call
 * before lifecycle_ctl_free and bmp_station_free. */
void lifecycle_bmp_free(struct lifecycle_bmp *m);

/* The controller's visibility hook (struct lifecycle_visibility.wait; arg: the monitor). */
void lifecycle_bmp_wait(void *arg, const struct cidr *cidrs, size_t n,
    lifecycle_visible_done_fn done, void *op);

/* What the monitor knows of watched prefix c (info->watched false when it is not one). */
void lifecycle_bmp_watch_info(const struct lifecycle_bmp *m, const struct cidr *c,
    struct lifecycle_bmp_info *info);
/* The watched prefixes, for metrics: i < count. */
size_t lifecycle_bmp_watch_count(const struct lifecycle_bmp *m);
const struct cidr *lifecycle_bmp_watch_at(const struct lifecycle_bmp *m, size_t i,
    struct lifecycle_bmp_info *info);
/* Standing alerts whose watched prefix overlaps q (NULL: all), as many as fit in out[max].
 * Returns how many there are. */
size_t lifecycle_bmp_alerts(const struct lifecycle_bmp *m, const struct cidr *q,
    struct lifecycle_bmp_alert *out, size_t max);
void lifecycle_bmp_get_stats(const struct lifecycle_bmp *m, struct lifecycle_bmp_stats *out);

#endif
