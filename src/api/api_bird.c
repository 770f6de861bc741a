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
 * Reads the router through its face (bgp/bird.h: bird_get_stats, bird_reconcile_now); the
 * bird object is the daemon's (ctx->d->bird, NULL without [bird]).
 */
#include <stdbool.h>
#include <stdio.h>

#include "api.h"
#include "bird.h"

static json_t *
status_json(const struct bird *b)
{
	struct bird_stats st;
	const struct birdc_stats *cs = &st.client;
	const struct bird_apply_stats *as = &st.apply;
	const struct reconcile_stats *rs = &st.reconcile;

	bird_get_stats(b, &st);
	return json_pack("{s:b, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:b,"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f},"
	    " s:{s:I, s:I, s:I, s:I, s:f, s:s}}",
	    "configured", true, "socket", st.socket, "up", st.up,
	    "version", cs->version, "connects", (json_int_t)cs->connects,
	    "disconnects", (json_int_t)cs->disconnects,
	    "protocol_errors", (json_int_t)cs->protocol_errors,
	    "timeouts", (json_int_t)cs->timeouts, "busy", st.busy,
	    "transactions",
	    "total", (json_int_t)as->transactions, "ok", (json_int_t)as->ok,
	    "noop", (json_int_t)as->noop, "config_invalid", (json_int_t)as->config_invalid,
	    "verify_failed", (json_int_t)as->verify_failed,
	    "unavailable", (json_int_t)as->unavailable, "undos", (json_int_t)as->undos,
	    "recovered", (json_int_t)as->recovered, "last_seconds", as->last_elapsed,
	    "reconcile",
	    "runs", (json_int_t)rs->runs, "drift", (json_int_t)rs->drift,
	    "repaired", (json_int_t)rs->repaired, "failed", (json_int_t)rs->failed,
	    "last_run", rs->last_run, "last_code", rs->last_code);
}

json_t *
api_bird_status(struct daemon *d)
{
	if (d->bird == NULL)
		return json_pack("{s:b, s:b}", "configured", false, "up", false);
	return status_json(d->bird);
}

static void
bird_status(struct api_ctx *ctx)
{
	api_reply(ctx, 200, api_bird_status(ctx->d));
}

static void
bird_reconcile(struct api_ctx *ctx)
{
	struct bird_stats st;

	if (ctx->d->bird == NULL) {
		api_error(ctx, "bird-unavailable", "no BIRD configured ([bird] socket)");
		return;
	}
	bird_get_stats(ctx->d->bird, &st);
	if (!st.up) {
		api_error(ctx, "bird-unavailable", "not connected to BIRD at %s", st.socket);
		return;
	}
	bird_reconcile_now(ctx->d->bird, NULL, NULL);
	api_reply(ctx, 202, json_pack("{s:b, s:I}", "started", true, "runs",
	    (json_int_t)st.reconcile.runs));
}

static void
counter(FILE *out, const char *name, const char *help, unsigned long long v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

void
api_bird_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct bird_stats st;
	struct birdc_stats cs;
	struct bird_apply_stats as;
	struct reconcile_stats rs;

	if (d->bird == NULL)
		return;
	bird_get_stats(d->bird, &st);
	cs = st.client;
	as = st.apply;
	rs = st.reconcile;
	fprintf(out, "# HELP prefixd_bird_up 1 while connected to BIRD's control socket.\n"
	    "# TYPE prefixd_bird_up gauge\nprefixd_bird_up %d\n", st.up);
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
API_TABLE(api_bird_routes, bird_routes);
