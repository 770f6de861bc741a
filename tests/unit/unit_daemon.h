/*
 * unit_daemon — a daemon without sockets for the API's unit tests and the API fuzz target: an
 * SQLite store at PATH (":memory:" works), the model, the metrics registry, obs (started), the
 * transport and the API with every route table and the model's metrics, wired as
 * src/prefixd.c wires them, and the ASN registry without a verifier (every proof fails
 * rdap-unavailable) (the rest of the public side — RPKI, verifier, BIRD, lifecycle — stays absent:
 * its routes answer "not configured" / "not running"). Header-only; each test includes it once.
 */
#ifndef PREFIXD_UNIT_DAEMON_H
#define PREFIXD_UNIT_DAEMON_H

#include <string.h>

#include "api.h"
#include "asn.h"
#include "grant.h"
#include "conf.h"
#include "ipam.h"
#include "metrics.h"
#include "obs.h"
#include "store.h"

static const struct api_table *const unit_daemon_routes[] = {
	&api_status_routes, &api_ipam_routes, &api_import_routes, &api_events_routes,
	&api_prefix_routes, &api_rpki_routes, &api_auth_routes, &api_bird_routes, &api_ui_routes,
	&api_asn_routes, &api_grants_routes,
};

/* 0, or -1 with e. */
static int
unit_daemon_open(struct daemon *d, const char *path, struct err *e)
{
	struct http_limits lim = { .max_body = 1 << 20, .request_timeout = 30, .max_connections = 64 };

	memset(d, 0, sizeof(*d));
	d->loop = ev_default_loop(0);
	d->conf = conf_default();
	d->store_path = (char *)path;
	d->started = ev_time();
	if (store_sqlite_open(path, &d->store, e) < 0)
		return -1;
	d->ipam = ipam_new(d->store);
	if (ipam_load(d->ipam, e) < 0)
		return -1;
	d->grants = grants_new(d->store);
	if (grants_load(d->grants, e) < 0)
		return -1;
	d->metrics = metrics_new(d->started);
	d->obs = obs_new(d->loop, d->store, d->ipam);
	d->asns = asn_reg_new(&(struct asn_deps){ d->loop, d->store, NULL });
	if (asn_reg_load(d->asns, e) < 0)
		return -1;
	d->http = http_new(d->loop, &lim, api_dispatch, d);
	api_init(d);
	for (size_t i = 0; i < sizeof(unit_daemon_routes) / sizeof(unit_daemon_routes[0]); i++)
		if (api_add_routes(d->api, unit_daemon_routes[i], e) < 0)
			return -1;
	api_add_status_section(d->api, "rpki", api_rpki_status);
	api_add_status_section(d->api, "bird", api_bird_status);
	api_add_status_section(d->api, "prefixes", api_prefix_status);
	api_add_status_section(d->api, "asns", api_asn_status);
	metrics_add_renderer(d->metrics, metrics_ipam, d->ipam);
	metrics_add_renderer(d->metrics, obs_metrics, d->obs);
	obs_subscribe(d->obs, api_events_tick, d);
	obs_start(d->obs);
	return 0;
}

static void
unit_daemon_close(struct daemon *d)
{
	api_shutdown(d);
	http_free(d->http);
	api_free(d->api);
	obs_free(d->obs);
	asn_reg_free(d->asns);
	grants_free(d->grants);
	metrics_free(d->metrics);
	ipam_free(d->ipam);
	store_close(d->store);
	conf_free(d->conf);
}

#endif
