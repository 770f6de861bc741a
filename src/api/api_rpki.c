/*
 * api_rpki — rpki/rtr's surface towards the daemon: the [rpki] configuration (struct
 * rtr_conf, its checks, the mapping from struct conf), the status snapshot and its JSON, the
 * control API's RPKI routes (SPEC §6, issue 5), the rpki section of /v1/status and the rpki
 * metric families. Part of the rtr module (rtr_private.h).
 *
 *   GET /v1/rpki/status                         (reader)
 *       200 rtr_status_to_json(): state, fresh, caches (state, serial, session), VRP counts
 *       per family, last_update_age, transition counters. Without [rpki] caches:
 *       200 {"state":"not-configured"}.
 *   GET /v1/rpki/validate?prefix=P&asn=N        (reader)   N as 65001 or AS65001
 *       200 rov_result_to_json(): state valid|invalid|not-found, reason origin|length,
 *       maxlength_warning (RFC 9319), stale, the deciding VRPs.
 *       400 cidr-invalid / cidr-not-canonical / invalid-argument (asn);
 *       503 rpki-unavailable (not configured) / rov-unavailable (a /0 VRP, see rov.h).
 *
 * Metrics (metrics_add_renderer): prefixd_rpki_state{state} (1 for the current state, 0 for
 * the others), prefixd_rpki_fresh, prefixd_rpki_vrps{family}, prefixd_rpki_last_update_age_
 * seconds (absent before the first sync), prefixd_rpki_cache_up{cache},
 * prefixd_rpki_transitions_total{state}, prefixd_rpki_change_events_total.
 *
 * Wiring in src/prefixd.c (after api_init):
 *   struct rtr_conf rc; rtr_conf_from(conf, &rc, &e);     with n_rpki_cache > 0
 *   rtr = rtr_new(loop, &rc, &e); rtr_start(rtr, &e);
 *   rtr_api_register(rtr);                                 (also with rtr == NULL: the routes
 *                                                           then answer "not configured")
 * and at shutdown rtr_api_register(NULL) before rtr_free(rtr).
 * Owns: one pointer to the daemon's struct rtr (not the object).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "conf.h"
#include "metrics.h"
#include "rov.h"
#include "rtr.h"
#include "rtr_private.h"

static struct rtr *rpki_rtr;

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
		cs->last_update_age = c->last_sync > 0 ? now - c->last_sync : -1;
		cs->syncs = atomic_load(&c->syncs);
	}
	out->vrps_v4 = rtr->vrps_v4;
	out->vrps_v6 = rtr->vrps_v6;
	out->last_update_age = rtr->last_sync > 0 ? now - rtr->last_sync : -1;
	memcpy(out->transitions, rtr->transitions, sizeof(out->transitions));
	out->illegal_events = rtr->illegal_events;
	out->overflows = rtr->overflows;
	out->changes = rtr->changes;
	out->stale_after = rtr->conf.stale_after;
	out->expire = rtr->conf.expire;
}

static json_t *
age_json(double age)
{
	return age < 0 ? json_null() : json_real(age);
}

json_t *
rtr_status_to_json(const struct rtr_status *st)
{
	json_t *caches = json_array(), *tr = json_object(), *o;

	if (caches == NULL || tr == NULL) {
		json_decref(caches);
		json_decref(tr);
		return NULL;
	}
	for (unsigned s = 0; s < RTR_STATE_COUNT; s++)
		json_object_set_new(tr, rtr_state_name(s), json_integer((json_int_t)st->transitions[s]));
	for (size_t i = 0; i < st->ncaches; i++) {
		const struct rtr_cache_status *c = &st->caches[i];
		json_array_append_new(caches, json_pack("{s:s, s:b, s:s, s:o, s:o, s:o, s:I}",
		    "cache", c->name, "up", c->up, "socket_state", c->socket_state,
		    "session_id", c->has_session ? json_integer(c->session_id) : json_null(),
		    "serial", c->has_session ? json_integer(c->serial) : json_null(),
		    "last_update_age", age_json(c->last_update_age),
		    "syncs", (json_int_t)c->syncs));
	}
	o = json_pack("{s:s, s:b, s:I, s:I, s:o, s:{s:I, s:I}, s:o, s:I, s:I, s:I, s:o}",
	    "state", rtr_state_name(st->state), "fresh", st->fresh,
	    "stale_after", (json_int_t)st->stale_after, "expire", (json_int_t)st->expire,
	    "last_update_age", age_json(st->last_update_age),
	    "vrps", "ipv4", (json_int_t)st->vrps_v4, "ipv6", (json_int_t)st->vrps_v6,
	    "transitions", tr, "illegal_events", (json_int_t)st->illegal_events,
	    "overflows", (json_int_t)st->overflows, "changes", (json_int_t)st->changes,
	    "caches", caches);
	return o;
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

json_t *
rtr_api_status_section(void)
{
	struct rtr_status st;

	if (rpki_rtr == NULL)
		return json_pack("{s:s}", "state", "not-configured");
	rtr_status_get(rpki_rtr, &st);
	return rtr_status_to_json(&st);
}

static void
rpki_status(struct api_ctx *ctx)
{
	api_reply(ctx, 200, rtr_api_status_section());
}

/* "65001" or "AS65001", 0..4294967295. */
static int
parse_asn(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL)
		return -1;
	if (strncasecmp(s, "AS", 2) == 0)
		s += 2;
	if (*s < '0' || *s > '9' || strlen(s) > 10)
		return -1;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void
rpki_validate(struct api_ctx *ctx)
{
	const char *pfx = http_query(ctx->req, "prefix");
	struct cidr p;
	struct rov_result r;
	struct err e = {0};
	uint32_t asn;

	if (pfx == NULL)
		api_error(ctx, 400, "invalid-argument", "prefix: missing (?prefix=P&asn=N)");
	else if (api_cidr_arg(ctx, pfx, &p) == -1)
		;       /* replied */
	else if (parse_asn(http_query(ctx->req, "asn"), &asn) == -1)
		api_error(ctx, 400, "invalid-argument",
		    "asn: want a number 0..4294967295 (or AS65001)");
	else if (rpki_rtr == NULL)
		api_error(ctx, 503, "rpki-unavailable", "no [rpki] cache is configured");
	else if (rov_validate(rpki_rtr, &p, asn, &r, &e) == -1)
		api_error(ctx, 503, e.code, "%s", e.msg);
	else
		api_reply(ctx, 200, rov_result_to_json(&p, asn, &r));
}

static void
rpki_metrics(struct daemon *d, FILE *out)
{
	struct rtr_status st;

	(void)d;
	if (rpki_rtr == NULL)
		return;
	rtr_status_get(rpki_rtr, &st);
	fprintf(out, "# HELP prefixd_rpki_state RTR data freshness state (1 = current).\n"
	    "# TYPE prefixd_rpki_state gauge\n");
	for (unsigned s = 0; s < RTR_STATE_COUNT; s++)
		fprintf(out, "prefixd_rpki_state{state=\"%s\"} %d\n", rtr_state_name(s),
		    st.state == s);
	fprintf(out, "# HELP prefixd_rpki_fresh 1 when the RTR data is synced (fresh).\n"
	    "# TYPE prefixd_rpki_fresh gauge\nprefixd_rpki_fresh %d\n", st.fresh);
	fprintf(out, "# HELP prefixd_rpki_vrps VRPs held, per address family.\n"
	    "# TYPE prefixd_rpki_vrps gauge\n"
	    "prefixd_rpki_vrps{family=\"ipv4\"} %llu\nprefixd_rpki_vrps{family=\"ipv6\"} %llu\n",
	    (unsigned long long)st.vrps_v4, (unsigned long long)st.vrps_v6);
	if (st.last_update_age >= 0)
		fprintf(out, "# HELP prefixd_rpki_last_update_age_seconds Seconds since the last "
		    "completed sync.\n# TYPE prefixd_rpki_last_update_age_seconds gauge\n"
		    "prefixd_rpki_last_update_age_seconds %.3f\n", st.last_update_age);
	fprintf(out, "# HELP prefixd_rpki_cache_up 1 when the cache completed a sync on its "
	    "current connection.\n# TYPE prefixd_rpki_cache_up gauge\n");
	for (size_t i = 0; i < st.ncaches; i++)
		fprintf(out, "prefixd_rpki_cache_up{cache=\"%s\"} %d\n", st.caches[i].name,
		    st.caches[i].up);
	fprintf(out, "# HELP prefixd_rpki_transitions_total Entries into each freshness state.\n"
	    "# TYPE prefixd_rpki_transitions_total counter\n");
	for (unsigned s = 0; s < RTR_STATE_COUNT; s++)
		fprintf(out, "prefixd_rpki_transitions_total{state=\"%s\"} %llu\n",
		    rtr_state_name(s), (unsigned long long)st.transitions[s]);
	fprintf(out, "# HELP prefixd_rpki_change_events_total Debounced VRP change events.\n"
	    "# TYPE prefixd_rpki_change_events_total counter\n"
	    "prefixd_rpki_change_events_total %llu\n", (unsigned long long)st.changes);
}

static const struct api_route rpki_routes[] = {
	{ "GET", "/v1/rpki/status", HTTP_ROLE_READER, rpki_status },
	{ "GET", "/v1/rpki/validate", HTTP_ROLE_READER, rpki_validate },
};

void
rtr_api_register(struct rtr *rtr)
{
	static bool registered;

	rpki_rtr = rtr;
	if (registered)
		return;
	registered = true;
	api_register_routes(rpki_routes, sizeof(rpki_routes) / sizeof(rpki_routes[0]));
	metrics_add_renderer(rpki_metrics);
}
