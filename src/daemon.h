/*
 * daemon — the state one prefixd process shares between its modules.
 *
 * prefixd.c owns the one struct daemon: it creates it at start-up, fills it (config, store,
 * model, transport), hands it to api_init, and tears it down on SIGTERM. Everything in it is
 * touched only from the libev loop thread (DESIGN decision 1). Later modules (rpki, bird,
 * lifecycle) hang their state here too.
 */
#ifndef PREFIXD_DAEMON_H
#define PREFIXD_DAEMON_H

#include <ev.h>

struct conf;
struct store;
struct ipam;
struct http;

struct daemon {
	struct ev_loop *loop;
	struct conf *conf;              /* the live config; replaced whole on SIGHUP */
	struct store *store;
	struct ipam *ipam;
	struct http *http;
	char *store_path;
	double started;                 /* ev_time() at start */
	int stopping;                   /* SIGTERM received: no new work is queued */
};

#endif
