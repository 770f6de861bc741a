/*
 * api_rpki — the control API's RPKI routes, the "rpki" section of /v1/status and the rpki
 * metric families (SPEC §6). Reads rpki/ through rtr_status_get and rpki_validate; the rtr
 * object is the daemon's (ctx->d->rtr, NULL without [rpki] caches).
 *
 *   GET /v1/rpki/status                         (reader)
 *       200 the status snapshot: state, fresh, caches (state, serial, session), VRP counts
 *       per family, last_update_age, transition counters. Without [rpki] caches:
 *       200 {"state":"not-configured"}.
 *   GET /v1/rpki/validate?prefix=P&asn=N        (reader)   N as 65001 or AS65001
 *       200 the origin validation result: state valid|invalid|not-found, reason origin|length,
 *       maxlength_warning (RFC 9319), stale, the deciding VRPs.
 *       400 cidr-invalid / cidr-not-canonical / invalid-argument (asn);
 *       503 rpki-unavailable (not configured) / rov-unavailable (a /0 VRP, see rov.h).
 *
 * Metrics (api_rpki_metrics): prefixd_rpki_state{state} (1 for the current state, 0 for
 * the others), prefixd_rpki_fresh, prefixd_rpki_vrps{family}, prefixd_rpki_last_update_age_
 * seconds (absent before the first sync), prefixd_rpki_cache_up{cache},
 * prefixd_rpki_transitions_total{state}, prefixd_rpki_change_events_total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "rpki.h"

static json_t *
age_json(double age)
{
	return age < 0 ? json_null() : json_real(age);
}

json_t *
api_rpki_status_json(const struct rtr_status *st)
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

json_t *
api_rpki_status(struct daemon *d)
{
	struct rtr_status st;

	if (d->rtr == NULL)
		return json_pack("{s:s}", "state", "not-configured");
	rtr_status_get(d->rtr, &st);
	return api_rpki_status_json(&st);
}

static void
rpki_status(struct api_ctx *ctx)
{
	api_reply(ctx, 200, api_rpki_status(ctx->d));
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
rpki_validate_get(struct api_ctx *ctx)
{
	const char *pfx = http_query(ctx->req, "prefix");
	struct cidr p;
	struct rov_result r;
	struct err e = {0};
	uint32_t asn;

	if (pfx == NULL)
		api_error(ctx, "invalid-argument", "prefix: missing (?prefix=P&asn=N)");
	else if (api_cidr_arg(ctx, pfx, &p) == -1)
		;       /* replied */
	else if (parse_asn(http_query(ctx->req, "asn"), &asn) == -1)
		api_error(ctx, "invalid-argument",
		    "asn: want a number 0..4294967295 (or AS65001)");
	else if (ctx->d->rtr == NULL)
		api_error(ctx, "rpki-unavailable", "no [rpki] cache is configured");
	else if (rpki_validate(ctx->d->rtr, &p, asn, &r, &e) == -1)
		api_error(ctx, e.code, "%s", e.msg);
	else
		api_reply(ctx, 200, rov_result_to_json(&p, asn, &r));
}

void
api_rpki_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct rtr_status st;

	if (d->rtr == NULL)
		return;
	rtr_status_get(d->rtr, &st);
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
	{ "GET", "/v1/rpki/validate", HTTP_ROLE_READER, rpki_validate_get },
};
API_TABLE(api_rpki_routes, rpki_routes);
