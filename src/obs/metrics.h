/*
 * metrics — Prometheus text exposition (format 0.0.4) for GET /metrics.
 *
 * Who calls it: api records every answered request (metrics_request) and every group commit
 * (metrics_commit); api_status renders the page (metrics_render). Later modules add their own
 * families through metrics_add_renderer. State is process-wide and only touched on the loop
 * thread. Label sets are bounded: the route label is the route's pattern ("/v1/pools/{name}")
 * or "unmatched", never a raw path; the method one of GET HEAD POST PUT PATCH DELETE OPTIONS
 * or "other"; status codes come from a fixed set. A sample that finds the series table full is
 * counted in prefixd_metrics_series_dropped_total.
 *
 * Families: prefixd_build_info, prefixd_uptime_seconds, prefixd_api_requests_total{route,
 * method,code}, prefixd_api_request_duration_seconds (histogram by route), prefixd_store_
 * commit_duration_seconds (histogram), prefixd_store_commit_changes_total,
 * prefixd_store_commit_failures_total, prefixd_allocations, prefixd_pool_{provisioned,
 * allocated}_addresses, prefixd_pool_utilization_ratio, prefixd_pool_alarm_threshold_ratio,
 * prefixd_pool_alarm (per pool and scope), then api_events' prefixd_events_last_id and
 * prefixd_pool_alarm_transitions_total, then the renderers of later modules (public prefixes
 * by state, RPKI, BIRD). Every family is written whole: HELP, TYPE, then all its samples.
 */
#ifndef PREFIXD_METRICS_H
#define PREFIXD_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct daemon;

/* One answered API request. `route` must be a string that outlives the process (a pattern). */
void metrics_request(const char *route, const char *method, int status, double seconds);

/* One group commit of n changes taking `seconds`; failed when the COMMIT failed. */
void metrics_commit(double seconds, size_t n, int failed);

/* A module's own families, appended to the page. */
typedef void (*metrics_renderer)(struct daemon *d, FILE *out);
int metrics_add_renderer(metrics_renderer fn);

/* Escapes s as a Prometheus label value into buf (len bytes) and returns buf: backslash,
 * quote and newline escaped; other control bytes and broken UTF-8 become '?'. Every label
 * value that is not a constant goes through it. */
const char *metrics_esc(const char *s, char *buf, size_t len);

/* Writes the whole page to out. */
void metrics_render(struct daemon *d, FILE *out);

#endif
