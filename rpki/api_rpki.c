/*
 * api_rpki — the control API's RPKI routes (SPEC §6, issue 5), the rpki section of
 * /v1/status, the rpki metric families, and the mapping of [rpki] onto struct rtr_conf.
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

static struct rtr *rpki_rtr;

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
