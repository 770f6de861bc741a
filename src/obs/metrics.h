/*
 * metrics — the registry behind GET /metrics: Prometheus text exposition (format 0.0.4).
 *
 * Who calls it: src/prefixd.c creates one (metrics_new) and registers every module's
 * renderer in its one wiring block (metrics_add_renderer: the ipam families first, then obs,
 * the lifecycle, RPKI and BIRD); the API records every answered request (metrics_request) and
 * every group commit (metrics_commit) and renders the page (metrics_render). Only touched on
 * the loop thread. Label sets are bounded: the route label is the route's pattern
 * ("/v1/pools/{name}") or "unmatched", never a raw path; the method one of GET HEAD POST PUT
 * PATCH DELETE OPTIONS or "other"; status codes come from a fixed set; the table holds at
 * most METRICS_MAX_SERIES series, and a sample that finds it full is counted in
 * prefixd_metrics_series_dropped_total.
 *
 * Families written here: prefixd_build_info, prefixd_uptime_seconds,
 * prefixd_api_requests_total{route,method,code}, prefixd_api_request_duration_seconds
 * (histogram by route), prefixd_store_commit_duration_seconds (histogram),
 * prefixd_store_commit_changes_total, prefixd_store_commit_failures_total; metrics_ipam:
 * prefixd_allocations, prefixd_pool_{provisioned,allocated}_addresses,
 * prefixd_pool_utilization_ratio, prefixd_pool_alarm_threshold_ratio, prefixd_pool_alarm (per
 * pool and scope). Then the renderers in registration order. Every family is written whole:
 * HELP, TYPE, then all its samples.
 */
#ifndef PREFIXD_METRICS_H
#define PREFIXD_METRICS_H

#include <stddef.h>
#include <stdio.h>

#define METRICS_MAX_ROUTES 129        /* route patterns with a latency histogram (the API's 128 + "unmatched") */

struct metrics;

/* A new, empty registry; `started` is ev_time() at start (uptime). Frees with metrics_free. */
struct metrics *metrics_new(double started);
void metrics_free(struct metrics *m);

/* One answered API request. `route` must be a string that outlives the process (a pattern).
 * m may be NULL (a test without a registry): nothing is counted. */
void metrics_request(struct metrics *m, const char *route, const char *method, int status,
    double seconds);

/* One group commit of n changes taking `seconds`; failed when the COMMIT failed. */
void metrics_commit(struct metrics *m, double seconds, size_t n, int failed);

/* A module's own families, appended to the page: fn(arg, out). 0, or -1 when full. */
typedef void (*metrics_renderer)(void *arg, FILE *out);
int metrics_add_renderer(struct metrics *m, metrics_renderer fn, void *arg);

/* The ipam families (arg: the struct ipam). */
void metrics_ipam(void *ipam, FILE *out);

/* Escapes s as a Prometheus label value into buf (len bytes) and returns buf: backslash,
 * quote and newline escaped; other control bytes and broken UTF-8 become '?'. Every label
 * value that is not a constant goes through it. */
const char *metrics_esc(const char *s, char *buf, size_t len);

/* Writes the whole page to out. */
void metrics_render(struct metrics *m, FILE *out);

#endif
