/*
 * rtr_conf — the [rpki] configuration of the rtr module (struct rtr_conf: defaults, caches,
 * checks, the mapping from struct conf) and its status snapshot (rtr_status_get). Part of the
 * rtr module (rtr_private.h); the API renders the snapshot (src/api/api_rpki.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "rtr.h"
#include "rtr_private.h"

void
rtr_conf_init(struct rtr_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->refresh = 300;
	c->retry = 30;
	c->expire = 7200;
	c->stale_after = 900;
	c->connect_timeout = 5;
	c->debounce_ms = 500;
	c->debounce_max_ms = 2000;
}

static bool
port_ok(const char *p)
{
	char *end;
	long v;

	if (*p < '1' || *p > '9')
		return false;
	v = strtol(p, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

int
rtr_conf_add_cache(struct rtr_conf *c, const char *hostport, struct err *e)
{
	const char *host = hostport, *colon;
	size_t hlen;

	if (c->ncaches >= RTR_MAX_CACHES)
		return err_set(e, "invalid-argument", "rpki.cache: at most %d caches",
		    RTR_MAX_CACHES);
	if (hostport[0] == '[') {
		const char *rb = strchr(hostport, ']');
		if (rb == NULL || rb[1] != ':')
			return err_set(e, "invalid-argument",
			    "rpki.cache: '%s' is not [ADDRESS]:PORT", hostport);
		host = hostport + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(hostport, ':');
		if (colon == NULL || strchr(hostport, ':') != colon)
			return err_set(e, "invalid-argument",
			    "rpki.cache: '%s' is not HOST:PORT", hostport);
		hlen = (size_t)(colon - host);
	}
	if (hlen == 0 || hlen >= RTR_HOST_MAX || !port_ok(colon + 1))
		return err_set(e, "invalid-argument",
		    "rpki.cache: '%s' needs a host and a port 1..65535", hostport);
	struct rtr_cache_conf *cc = &c->caches[c->ncaches++];
	memcpy(cc->host, host, hlen);
	cc->host[hlen] = '\0';
	snprintf(cc->port, sizeof(cc->port), "%s", colon + 1);
	return 0;
}

int
rtr_conf_check(const struct rtr_conf *c, struct err *e)
{
	if (c->ncaches == 0)
		return err_set(e, "invalid-argument", "rpki.cache: at least one cache is needed");
	if (c->refresh < 1 || c->refresh > 86400)
		return err_set(e, "invalid-argument", "rpki.refresh: %u is not in 1..86400",
		    c->refresh);
	if (c->retry < 1 || c->retry > 7200)
		return err_set(e, "invalid-argument", "rpki.retry: %u is not in 1..7200", c->retry);
	if (c->expire < 1 || c->expire > RTR_LIB_EXPIRE_MAX)
		return err_set(e, "invalid-argument", "rpki.expire: %u is not in 1..%d", c->expire,
		    RTR_LIB_EXPIRE_MAX);
	if (c->stale_after <= c->refresh)
		return err_set(e, "invalid-argument",
		    "rpki.stale_after: %u must exceed rpki.refresh (%u): a sync happens only "
		    "every refresh seconds", c->stale_after, c->refresh);
	if (c->stale_after > c->expire)
		return err_set(e, "invalid-argument",
		    "rpki.stale_after: %u must not exceed rpki.expire (%u)", c->stale_after,
		    c->expire);
	if (c->connect_timeout < 1 || c->debounce_ms < 1 || c->debounce_max_ms < c->debounce_ms)
		return err_set(e, "invalid-argument",
		    "rpki: connect_timeout and debounce need positive values, max >= quiet period");
	return 0;
}

/* Our own names: rtrlib's rtr_state_to_str(RTR_CLOSED) reads out of bounds in 0.8.0. */
static const char *
sock_state_name(int st)
{
	switch (st) {
	case RTR_CONNECTING:
		return "connecting";
	case RTR_ESTABLISHED:
		return "established";
	case RTR_RESET:
		return "reset";
	case RTR_SYNC:
		return "sync";
	case RTR_FAST_RECONNECT:
		return "fast-reconnect";
	case RTR_ERROR_NO_DATA_AVAIL:
		return "error-no-data";
	case RTR_ERROR_NO_INCR_UPDATE_AVAIL:
		return "error-no-incremental-update";
	case RTR_ERROR_FATAL:
		return "error-fatal";
	case RTR_ERROR_TRANSPORT:
		return "error-transport";
	case RTR_SHUTDOWN:
		return "shutdown";
	case RTR_CLOSED:
		return "closed";
	}
	return "unknown";
}

/* Seconds since a sync; a clock read in the same second can land a hair before it: 0. */
static double
sync_age(double now, double at)
{
	return now > at ? now - at : 0;
}

void
rtr_status_get(struct rtr *rtr, struct rtr_status *out)
{
	double now = rtr_mono_now();

	memset(out, 0, sizeof(*out));
	out->state = rtr->state;
	out->fresh = rtr_is_fresh(rtr);
	out->ncaches = rtr->conf.ncaches;
	for (size_t i = 0; i < rtr->conf.ncaches; i++) {
		struct rtr_cache *c = &rtr->caches[i];
		struct rtr_cache_status *cs = &out->caches[i];
		int st = atomic_load(&c->sock_state);
		snprintf(cs->name, sizeof(cs->name),
		    strchr(rtr->conf.caches[i].host, ':') ? "[%s]:%s" : "%s:%s",
		    rtr->conf.caches[i].host, rtr->conf.caches[i].port);
		cs->up = atomic_load(&c->up);
		cs->socket_state = sock_state_name(st);
		cs->has_session = c->has_session;
		cs->session_id = c->session_id;
		cs->serial = c->serial;
		cs->last_update_age = c->last_sync > 0 ? sync_age(now, c->last_sync) : -1;
		cs->syncs = atomic_load(&c->syncs);
	}
	out->vrps_v4 = rtr->vrps_v4;
	out->vrps_v6 = rtr->vrps_v6;
	out->last_update_age = rtr->last_sync > 0 ? sync_age(now, rtr->last_sync) : -1;
	memcpy(out->transitions, rtr->transitions, sizeof(out->transitions));
	out->illegal_events = rtr->illegal_events;
	out->overflows = rtr->overflows;
	out->changes = rtr->changes;
	out->stale_after = rtr->conf.stale_after;
	out->expire = rtr->conf.expire;
}

int
rtr_conf_from(const struct conf *c, struct rtr_conf *out, struct err *e)
{
	rtr_conf_init(out);
	for (unsigned i = 0; i < c->n_rpki_cache; i++)
		if (rtr_conf_add_cache(out, c->rpki_cache[i], e) == -1)
			return -1;
	if (c->rpki_refresh > 0)
		out->refresh = c->rpki_refresh;
	if (c->rpki_retry > 0)
		out->retry = c->rpki_retry;
	if (c->rpki_expire > 0)
		out->expire = c->rpki_expire;
	if (c->rpki_stale_after > 0)
		out->stale_after = c->rpki_stale_after;
	return rtr_conf_check(out, e);
}
