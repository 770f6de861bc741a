/*
 * bmp_private.h — between the station (bmp.c: listener, sessions) and its route store
 * (bmp_rib.c: watch set, routes per vantage point, visibility, events). Only bgp/bmp*.c
 * include it. The store is pure (no loop, no socket): the station tells it the time.
 */
#ifndef PREFIXD_BMP_PRIVATE_H
#define PREFIXD_BMP_PRIVATE_H

#include "bmp.h"

struct ptree;
struct bmp_vant;

/* One route: a prefix as one vantage point holds it. */
struct bmp_path {
	struct bmp_path *next;          /* the prefix's other vantage points */
	struct bmp_path *vprev, *vnext; /* the vantage point's other routes */
	struct bmp_rnode *node;
	struct bmp_vant *vant;
	double since;
	uint32_t origin_as, first_as;
	bool origin_known;
	char as_path[BMP_ASPATH_TEXT];
};

/* A prefix some vantage point holds: the value stored in the route tree. */
struct bmp_rnode {
	struct cidr prefix;
	struct bmp_path *paths;
};

struct bmp_vant {
	struct bmp_vantage id;
	const void *owner;              /* the session it came from */
	struct bmp_path *head;
	size_t npaths;
	bool used;
};

struct bmp_rib {
	struct ptree *watch[2];         /* [0] IPv4, [1] IPv6; values: struct bmp_watch * */
	struct bmp_watch *watches;
	size_t nwatch;
	struct ptree *routes[2];        /* values: struct bmp_rnode * */
	struct bmp_vant *vants;
	size_t max_vants, max_paths, npaths, nvants;
	double now;
	bmp_event_cb cb;
	void *cb_arg;
	uint64_t routes_seen, routes_outside, routes_dropped;
};

/* What a session contributes to a vantage point's identity. */
struct bmp_origin {
	const void *owner;
	const struct cidr *router;
	const char *router_name;
};

void bmp_rib_init(struct bmp_rib *r, size_t max_paths, size_t max_vants);
/* Frees every route (no events). */
void bmp_rib_clear(struct bmp_rib *r);
int bmp_rib_set_watch(struct bmp_rib *r, const struct bmp_watch *w, size_t n, struct err *e);
/* Applies a parsed Route Monitoring or Peer Down message. Returns the routes dropped for
 * lack of room by this message (the station logs the first). */
size_t bmp_rib_apply(struct bmp_rib *r, const struct bmp_origin *o, const struct bmp_msg *m);
/* Forgets every vantage point of owner, with a ROUTE_DOWN (reason) per route. */
void bmp_rib_drop_owner(struct bmp_rib *r, const void *owner, const char *reason);
size_t bmp_rib_visibility(const struct bmp_rib *r, const struct cidr *q, struct bmp_route *out,
    size_t max);

#endif
