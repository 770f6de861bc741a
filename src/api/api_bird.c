/*
 * api_bird — the control API's BIRD routes and metrics (SPEC §6 `bird status | bird reconcile`).
 *
 *   GET  /v1/bird/status      reader   connection, BIRD version, transaction and reconcile
 *                                      counters, the last run's result
 *   POST /v1/bird/reconcile   operator starts a reconcile run now; answers 202 at once with
 *                                      {"started": true, "runs": N} (N: runs finished before);
 *                                      the run's outcome shows in status (reconcile.runs > N,
 *                                      reconcile.last_code). 503 bird-unavailable when BIRD is
 *                                      not connected or not configured.
 *
 * The API answers synchronously (api.h), so the reconcile request does not wait for the run;
 * prefixctl polls status. Metrics: prefixd_bird_up, prefixd_bird_transactions_total{result},
 * prefixd_bird_undos_total, prefixd_bird_recovered_total, prefixd_bird_reconcile_runs_total,
 * prefixd_bird_drift_total, prefixd_bird_drift_repaired_total, prefixd_bird_disconnects_total,
 * prefixd_bird_protocol_errors_total.
 *
 * Called by: prefixd.c, once, reconcile_api_register(d->bird) (see reconcile.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "api.h"
#include "bird_apply.h"
#include "birdc.h"
#include "metrics.h"
#include "reconcile.h"

static struct reconcile_bird *api_bird;

static json_t *
status_json(const struct reconcile_bird *b)
{
	struct birdc_stats cs;
	struct bird_apply_stats as;
	struct reconcile_stats rs;

	birdc_get_stats(b->birdc, &cs);
	bird_apply_get_stats(b->apply, &as);
	reconcile_get_stats(b->reconcile, &rs);
	return json_pack("{s:b, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:b,"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f},"
	    " s:{s:I, s:I, s:I, s:I, s:f, s:s}}",
	    "configured", true, "socket", b->socket, "up", birdc_is_up(b->birdc),
	    "version", cs.version, "connects", (json_int_t)cs.connects,
	    "disconnects", (json_int_t)cs.disconnects,
	    "protocol_errors", (json_int_t)cs.protocol_errors,
	    "timeouts", (json_int_t)cs.timeouts, "busy", bird_apply_busy(b->apply),
	    "transactions",
	    "total", (json_int_t)as.transactions, "ok", (json_int_t)as.ok,
	    "noop", (json_int_t)as.noop, "config_invalid", (json_int_t)as.config_invalid,
	    "verify_failed", (json_int_t)as.verify_failed,
	    "unavailable", (json_int_t)as.unavailable, "undos", (json_int_t)as.undos,
	    "recovered", (json_int_t)as.recovered, "last_seconds", as.last_elapsed,
	    "reconcile",
	    "runs", (json_int_t)rs.runs, "drift", (json_int_t)rs.drift,
	    "repaired", (json_int_t)rs.repaired, "failed", (json_int_t)rs.failed,
	    "last_run", rs.last_run, "last_code", rs.last_code);
}

json_t *
reconcile_api_status_section(void)
{
	if (api_bird == NULL)
		return json_pack("{s:b, s:b}", "configured", false, "up", false);
	return status_json(api_bird);
}

static void
bird_status(struct api_ctx *ctx)
{
	api_reply(ctx, 200, reconcile_api_status_section());
}

static void
bird_reconcile(struct api_ctx *ctx)
{
	struct reconcile_stats rs;

	if (api_bird == NULL) {
		api_error(ctx, 503, "bird-unavailable", "no BIRD configured ([bird] socket)");
		return;
	}
	if (!birdc_is_up(api_bird->birdc)) {
		api_error(ctx, 503, "bird-unavailable", "not connected to BIRD at %s",
		    api_bird->socket);
		return;
	}
	reconcile_get_stats(api_bird->reconcile, &rs);
	reconcile_run(api_bird->reconcile, NULL, NULL);
	api_reply(ctx, 202, json_pack("{s:b, s:I}", "started", true, "runs", (json_int_t)rs.runs));
}

static void
counter(FILE *out, const char *name, const char *help, unsigned long long v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void
bird_metrics(struct daemon *d, FILE *out)
{
	struct birdc_stats cs;
	struct bird_apply_stats as;
	struct reconcile_stats rs;
	(void)d;

	if (api_bird == NULL)
		return;
	birdc_get_stats(api_bird->birdc, &cs);
	bird_apply_get_stats(api_bird->apply, &as);
	reconcile_get_stats(api_bird->reconcile, &rs);
	fprintf(out, "# HELP prefixd_bird_up 1 while connected to BIRD's control socket.\n"
	    "# TYPE prefixd_bird_up gauge\nprefixd_bird_up %d\n", birdc_is_up(api_bird->birdc));
	fprintf(out, "# HELP prefixd_bird_transactions_total BIRD transactions by result.\n"
	    "# TYPE prefixd_bird_transactions_total counter\n");
	fprintf(out, "prefixd_bird_transactions_total{result=\"ok\"} %llu\n"
	    "prefixd_bird_transactions_total{result=\"bird-config-invalid\"} %llu\n"
	    "prefixd_bird_transactions_total{result=\"bird-verify-failed\"} %llu\n"
	    "prefixd_bird_transactions_total{result=\"bird-unavailable\"} %llu\n",
	    (unsigned long long)as.ok, (unsigned long long)as.config_invalid,
	    (unsigned long long)as.verify_failed, (unsigned long long)as.unavailable);
	counter(out, "prefixd_bird_undos_total", "configure undo sent by prefixd.", as.undos);
	counter(out, "prefixd_bird_recovered_total",
	    "Unconfirmed configs of an earlier run undone at reconnect.", as.recovered);
	counter(out, "prefixd_bird_reconcile_runs_total", "Reconcile runs finished.", rs.runs);
	counter(out, "prefixd_bird_drift_total", "Reconcile runs that found drift.", rs.drift);
	counter(out, "prefixd_bird_drift_repaired_total", "Drift repaired by a transaction.",
	    rs.repaired);
	counter(out, "prefixd_bird_disconnects_total", "Control-socket connections lost.",
	    cs.disconnects);
	counter(out, "prefixd_bird_protocol_errors_total",
	    "Control-socket replies refused by the parser.", cs.protocol_errors);
}

static const struct api_route bird_routes[] = {
	{ "GET", "/v1/bird/status", HTTP_ROLE_READER, bird_status },
	{ "POST", "/v1/bird/reconcile", HTTP_ROLE_OPERATOR, bird_reconcile },
};

void
reconcile_api_register(struct reconcile_bird *b)
{
	static bool registered;

	api_bird = b;
	if (registered)
		return;
	registered = true;
	api_register_routes(bird_routes, sizeof(bird_routes) / sizeof(bird_routes[0]));
	metrics_add_renderer(bird_metrics);
}
