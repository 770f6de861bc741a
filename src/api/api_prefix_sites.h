/*
 * api_prefix_sites — advertise / withdraw by site (issue 17), the per-site view of a prefix,
 * and the admin routes of sites (api_prefix_sites.c). Only api_prefix.c and src/prefixd.c
 * include it.
 */
#ifndef PREFIXD_API_PREFIX_SITES_H
#define PREFIXD_API_PREFIX_SITES_H

#include <stdbool.h>

#include <jansson.h>

#include "api.h"
#include "lifecycle_ctl.h"

/* True when the request body names sites ("sites" or "all_sites"). */
bool api_sites_requested(const json_t *body);
/* Runs advertise / withdraw of R (validated CIDRs, options) at the sites the body names:
 * replies (now, or after every site answered or [site] change_timeout). */
void api_sites_change(struct api_ctx *ctx, bool withdraw, const struct lifecycle_ctl_req *r);
/* "sites" of GET /v1/prefixes/{cidr}: [{"site","want","state","last_change",
 * "failure_reason","evidence"}] (new reference). */
json_t *api_sites_of(struct daemon *d, const struct lifecycle_prefix *p);
/* Adds "sites":"advertised N/M" to each prefix object of LIST (GET /v1/prefixes). */
void api_sites_summary(struct daemon *d, json_t *list);

extern const struct api_table api_sites_routes;  /* GET /v1/sites, breaker reset */

#endif
