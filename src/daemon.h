/*
 * daemon — every long-lived object of one prefixd process, in one struct.
 *
 * src/prefixd.c (the composition root) owns the one struct daemon: it creates each engine in
 * dependency order (conf -> store -> ipam -> obs -> rpki, auth, bgp, lifecycle -> api),
 * keeps it here, registers every route table, status section and metrics renderer, and
 * tears everything down in reverse on SIGTERM. No module keeps a file-scope pointer to
 * another module's object: whoever needs one is handed it (engines at creation, route
 * handlers through api_ctx->d). Everything in it is touched only from the libev loop thread
 * (DESIGN decision 1). Only src/api/ and src/prefixd.c include this header: engines are given
 * the objects they use and never see the wiring.
 */
#ifndef PREFIXD_DAEMON_H
#define PREFIXD_DAEMON_H

#include <ev.h>

struct conf;
struct store;
struct ipam;
struct http;
struct api;
struct metrics;
struct obs;
struct rtr;
struct authctx;
struct bird;
struct lifecycle_ctl;
struct asn_reg;
struct grants;
struct bmp_station;
struct lifecycle_bmp;
struct site_lease;

struct daemon {
	struct ev_loop *loop;
	struct conf *conf;              /* the live config; replaced whole on SIGHUP */
	struct store *store;
	struct ipam *ipam;
	struct metrics *metrics;        /* the /metrics registry (src/obs/metrics.h) */
	struct obs *obs;                /* alerts, utilization alarms, history index tick */
	struct rtr *rtr;                /* NULL without [rpki] caches */
	struct authctx *auth;           /* ownership proofs (rpki/authctx.h) */
	struct bird *bird;              /* the router (bgp/bird.h); NULL without [bird] */
	struct lifecycle_ctl *lc;       /* public prefixes (src/lifecycle/lifecycle_ctl.h) */
	struct asn_reg *asns;           /* public-scope ASNs (src/lifecycle/asn.h) */
	struct grants *grants;          /* shared pools (src/ipam/grant.h) */
	struct bmp_station *bmp;        /* the BMP station (bgp/bmp.h); NULL without [bmp] listen */
	struct lifecycle_bmp *bmpmon;   /* its monitor (src/lifecycle/lifecycle_bmp.h); NULL too */
	struct site_lease *site;        /* this site's writer lease (src/lifecycle/site_lease.h) */
	struct http *http;
	struct api *api;                /* routes, status sections, group commit */
	char *store_path;
	double started;                 /* ev_time() at start */
	int stopping;                   /* SIGTERM received: no new work is queued */
};

#endif
