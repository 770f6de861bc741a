/*
 * api_bmp — what the world sees of our prefixes, over HTTP (issue 19).
 *
 *   GET /v1/visibility/{cidr}         reader  the routes the BMP station keeps that overlap
 *   GET /v1/visibility/{addr}/{len}           CIDR (equal, more-specific, covering), each with
 *                                             its vantage point (router, peer, view), origin,
 *                                             AS path, since, verdict and relation; what the
 *                                             monitor knows of CIDR when it is one of our
 *                                             public prefixes (state, origin, routers holding
 *                                             it); the standing alerts that concern it.
 *                                             503 bmp-unavailable without [bmp] listen.
 *
 * Status section "bmp": configured, listening port, routers, the station's counters, the
 * monitor's alerts. Metrics (api_bmp_metrics): prefixd_visibility_vantages{prefix} (one
 * series per watched prefix: our public prefixes bound the labels), prefixd_bmp_sessions_open,
 * prefixd_bmp_sessions_total{result}, prefixd_bmp_messages_total, prefixd_bmp_bytes_total,
 * prefixd_bmp_routes_total{result}, prefixd_bmp_routes_kept, prefixd_bmp_vantages,
 * prefixd_bmp_alerts{kind}, prefixd_bmp_alerts_total{kind}, prefixd_bmp_alerts_dropped_total.
 *
 * Text from routers (sysName, AS path) is printable ASCII (the station keeps nothing else) and
 * is escaped for JSON by jansson like any string.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "bmp.h"
#include "lifecycle_bmp.h"

#define API_BMP_MAX_ROUTES 4096         /* routes in one answer; "truncated" beyond */
#define API_BMP_MAX_ALERTS 1024

static const char *const bmp_relations[] = { "exact", "more-specific", "less-specific" };

static json_t *
vantage_json(const struct bmp_vantage *v)
{
	char r[CIDR_STRLEN], p[CIDR_STRLEN], id[16];
	static const char *const types[] = { "global", "rd", "local", "loc-rib" };

	snprintf(id, sizeof(id), "%u.%u.%u.%u", v->peer_bgp_id >> 24, v->peer_bgp_id >> 16 & 255,
	    v->peer_bgp_id >> 8 & 255, v->peer_bgp_id & 255);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I}",
	    "router", cidr_format_addr(&v->router, r, sizeof(r)), "router_name", v->router_name,
	    "peer_type", v->peer_type < 4 ? types[v->peer_type] : "?",
	    "peer", cidr_format_addr(&v->peer_addr, p, sizeof(p)), "peer_as",
	    (json_int_t)v->peer_as, "peer_bgp_id", id, "view", bmp_view_name(v->view),
	    "distinguisher", (json_int_t)v->distinguisher);
}

static json_t *
route_json(const struct bmp_route *r, double now)
{
	return json_pack("{s:o, s:s, s:s, s:o, s:I, s:s, s:f, s:f, s:o, s:o}",
	    "prefix", api_cidr_json(&r->prefix),
	    "relation", r->relation < 3 ? bmp_relations[r->relation] : "?",
	    "verdict", bmp_verdict_name(r->verdict),
	    "origin_asn", r->origin_known ? json_integer(r->origin_as) : json_null(),
	    "first_as", (json_int_t)r->first_as, "as_path", r->as_path,
	    "since", r->since, "age_s", now - r->since,
	    "watched", api_cidr_json(&r->watched), "vantage", vantage_json(&r->vantage));
}

static json_t *
alert_json(const struct lifecycle_bmp_alert *a)
{
	return json_pack("{s:s, s:o, s:o, s:I, s:o, s:s, s:f}",
	    "alert", lifecycle_bmp_kind_name(a->kind), "prefix", api_cidr_json(&a->prefix),
	    "watched", api_cidr_json(&a->watched), "asn", (json_int_t)a->asn,
	    "vantage", vantage_json(&a->vantage), "as_path", a->as_path, "since", a->since);
}

static json_t *
alerts_json(const struct lifecycle_bmp *m, const struct cidr *q)
{
	struct lifecycle_bmp_alert *v = calloc(API_BMP_MAX_ALERTS, sizeof(*v));
	size_t n;
	json_t *list = json_array();

	if (v == NULL)
		return list;
	n = lifecycle_bmp_alerts(m, q, v, API_BMP_MAX_ALERTS);
	for (size_t i = 0; i < n && i < API_BMP_MAX_ALERTS; i++)
		json_array_append_new(list, alert_json(&v[i]));
	free(v);
	return list;
}

static void
visibility(struct api_ctx *ctx)
{
	struct daemon *d = ctx->d;
	struct lifecycle_bmp_info info;
	struct bmp_route *v;
	struct cidr q;
	size_t n;
	json_t *routes, *body;
	double now = ev_now(d->loop);

	if (api_path_cidr(ctx, &q) < 0)
		return;
	if (d->bmp == NULL || d->bmpmon == NULL) {
		api_error(ctx, "bmp-unavailable", "no BMP station ([bmp] listen)");
		return;
	}
	if ((v = calloc(API_BMP_MAX_ROUTES, sizeof(*v))) == NULL) {
		api_error(ctx, "internal", "out of memory");
		return;
	}
	n = bmp_visibility(d->bmp, &q, v, API_BMP_MAX_ROUTES);
	routes = json_array();
	for (size_t i = 0; i < n && i < API_BMP_MAX_ROUTES; i++)
		json_array_append_new(routes, route_json(&v[i], now));
	free(v);
	lifecycle_bmp_watch_info(d->bmpmon, &q, &info);
	body = json_pack("{s:o, s:b, s:o, s:o, s:I, s:I, s:o, s:I, s:b, s:o}",
	    "cidr", api_cidr_json(&q), "watched", info.watched,
	    "state", info.watched ? json_string(lifecycle_state_name(info.state)) : json_null(),
	    "origin_asn", info.watched ? json_integer(info.origin) : json_null(),
	    "vantages_holding", (json_int_t)info.holding,
	    "routers_up", (json_int_t)info.routers_up,
	    "routes", routes, "total", (json_int_t)n, "truncated", n > API_BMP_MAX_ROUTES,
	    "alerts", alerts_json(d->bmpmon, &q));
	api_reply(ctx, 200, body);
}

json_t *
api_bmp_status(struct daemon *d)
{
	struct bmp_station_stats s;
	struct lifecycle_bmp_stats ms;
	json_t *alerts;

	if (d->bmp == NULL || d->bmpmon == NULL)
		return json_pack("{s:b}", "configured", false);
	bmp_station_stats(d->bmp, &s);
	lifecycle_bmp_get_stats(d->bmpmon, &ms);
	alerts = json_object();
	for (int k = 0; k < LIFECYCLE_BMP_KINDS; k++)
		json_object_set_new(alerts, lifecycle_bmp_kind_name(k),
		    json_integer((json_int_t)ms.standing[k]));
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:o, s:I, s:I}",
	    "configured", true, "port", (json_int_t)bmp_station_port(d->bmp),
	    "routers_up", (json_int_t)ms.routers_up, "sessions_open", (json_int_t)s.sessions_open,
	    "sessions_accepted", (json_int_t)s.sessions_accepted,
	    "sessions_refused", (json_int_t)s.sessions_refused,
	    "sessions_malformed", (json_int_t)s.sessions_malformed,
	    "messages", (json_int_t)s.messages, "routes_kept", (json_int_t)s.routes_kept,
	    "routes_dropped", (json_int_t)s.routes_dropped, "vantages", (json_int_t)s.vantages,
	    "watched", (json_int_t)ms.watched, "waiting", (json_int_t)ms.waiting,
	    "alerts", alerts, "alerts_dropped", (json_int_t)ms.alerts_dropped,
	    "confirmations", (json_int_t)ms.records);
}

static void
bmp_counter(FILE *out, const char *name, const char *help, const char *type,
    unsigned long long v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

void
api_bmp_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct bmp_station_stats s;
	struct lifecycle_bmp_stats ms;
	struct lifecycle_bmp_info info;
	char b[CIDR_STRLEN];

	if (d->bmp == NULL || d->bmpmon == NULL)
		return;
	bmp_station_stats(d->bmp, &s);
	lifecycle_bmp_get_stats(d->bmpmon, &ms);
	fprintf(out, "# HELP prefixd_visibility_vantages Vantage points (BMP routers) holding the "
	    "public prefix from its origin.\n# TYPE prefixd_visibility_vantages gauge\n");
	for (size_t i = 0; i < lifecycle_bmp_watch_count(d->bmpmon); i++) {
		const struct cidr *c = lifecycle_bmp_watch_at(d->bmpmon, i, &info);

		fprintf(out, "prefixd_visibility_vantages{prefix=\"%s\"} %u\n",
		    cidr_format(c, b, sizeof(b)), info.holding);
	}
	bmp_counter(out, "prefixd_bmp_sessions_open", "BMP router sessions open.", "gauge",
	    s.sessions_open);
	fprintf(out, "# HELP prefixd_bmp_sessions_total BMP connections by outcome.\n"
	    "# TYPE prefixd_bmp_sessions_total counter\n"
	    "prefixd_bmp_sessions_total{result=\"accepted\"} %llu\n"
	    "prefixd_bmp_sessions_total{result=\"refused\"} %llu\n"
	    "prefixd_bmp_sessions_total{result=\"malformed\"} %llu\n",
	    (unsigned long long)s.sessions_accepted, (unsigned long long)s.sessions_refused,
	    (unsigned long long)s.sessions_malformed);
	bmp_counter(out, "prefixd_bmp_messages_total", "BMP messages read.", "counter",
	    s.messages);
	bmp_counter(out, "prefixd_bmp_bytes_total", "BMP bytes read.", "counter", s.bytes);
	fprintf(out, "# HELP prefixd_bmp_routes_total Prefixes announced or withdrawn by "
	    "routers, by what the station did.\n# TYPE prefixd_bmp_routes_total counter\n"
	    "prefixd_bmp_routes_total{result=\"ours\"} %llu\n"
	    "prefixd_bmp_routes_total{result=\"outside\"} %llu\n"
	    "prefixd_bmp_routes_total{result=\"dropped\"} %llu\n",
	    (unsigned long long)(s.routes_seen - s.routes_outside - s.routes_dropped),
	    (unsigned long long)s.routes_outside, (unsigned long long)s.routes_dropped);
	bmp_counter(out, "prefixd_bmp_routes_kept", "Routes kept (our space, all vantage "
	    "points).", "gauge", s.routes_kept);
	bmp_counter(out, "prefixd_bmp_vantages", "Vantage points (router, peer, view) known.",
	    "gauge", s.vantages);
	fprintf(out, "# HELP prefixd_bmp_alerts Standing BMP alerts by kind.\n"
	    "# TYPE prefixd_bmp_alerts gauge\n");
	for (int k = 0; k < LIFECYCLE_BMP_KINDS; k++)
		fprintf(out, "prefixd_bmp_alerts{kind=\"%s\"} %zu\n", lifecycle_bmp_kind_name(k),
		    ms.standing[k]);
	fprintf(out, "# HELP prefixd_bmp_alerts_total BMP alerts raised by kind.\n"
	    "# TYPE prefixd_bmp_alerts_total counter\n");
	for (int k = 0; k < LIFECYCLE_BMP_KINDS; k++)
		fprintf(out, "prefixd_bmp_alerts_total{kind=\"%s\"} %llu\n",
		    lifecycle_bmp_kind_name(k), (unsigned long long)ms.raised[k]);
	bmp_counter(out, "prefixd_bmp_alerts_dropped_total", "Alerts not raised: too many "
	    "standing.", "counter", ms.alerts_dropped);
}

static const struct api_route bmp_routes[] = {
	{ "GET", "/v1/visibility/{cidr}", HTTP_ROLE_READER, visibility },
	{ "GET", "/v1/visibility/{addr}/{len}", HTTP_ROLE_READER, visibility },
};
API_TABLE(api_bmp_routes, bmp_routes);
