/*
 * ctl_bird — prefixctl's BIRD commands (SPEC §6):
 *
 *   bird status      GET /v1/bird/status: connected or not, BIRD's version, transaction
 *                    counters by result, reconcile runs / drift found / drift repaired and
 *                    the last run's result
 *   bird reconcile   POST /v1/bird/reconcile starts a run (202), then GET /v1/bird/status is
 *                    polled every 100 ms until the run count passes the one the POST reported
 *                    (within the request timeout); prints the run's result. Exit 0 when the
 *                    run ended "ok" (with or without repaired drift), 1 otherwise (the code on
 *                    stderr), 3 when the daemon is unreachable.
 *
 * Contributes ctl_bird_cmds[] to the registry (declared in ctl.h, listed in ctl_cmd.c).
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>


static long long
num(json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

static void
print_status(struct ctl_ctx *ctx, json_t *r)
{
	json_t *t = json_object_get(r, "transactions"), *rc = json_object_get(r, "reconcile");
	char s[1024];

	if (!json_is_true(json_object_get(r, "configured"))) {
		fprintf(ctx->out, "bird: not configured\n");
		return;
	}
	fprintf(ctx->out, "bird: %s (%s)\n", json_is_true(json_object_get(r, "up")) ?
	    "connected" : "not connected", ctl_out_text(json_string_value(json_object_get(r,
	    "socket")), s, sizeof(s)));
	fprintf(ctx->out, "version: %s\n", ctl_out_text(json_string_value(json_object_get(r,
	    "version")), s, sizeof(s)));
	fprintf(ctx->out, "connects: %lld, disconnects: %lld, protocol errors: %lld\n",
	    num(r, "connects"), num(r, "disconnects"), num(r, "protocol_errors"));
	fprintf(ctx->out, "transactions: %lld (ok %lld, no-op %lld, config-invalid %lld, "
	    "verify-failed %lld, unavailable %lld), undos %lld\n", num(t, "total"), num(t, "ok"),
	    num(t, "noop"), num(t, "config_invalid"), num(t, "verify_failed"),
	    num(t, "unavailable"), num(t, "undos"));
	fprintf(ctx->out, "reconcile: %lld runs, drift found %lld, repaired %lld, failed %lld; "
	    "last: %s\n", num(rc, "runs"), num(rc, "drift"), num(rc, "repaired"),
	    num(rc, "failed"), ctl_out_text(json_string_value(json_object_get(rc, "last_code")),
	    s, sizeof(s)));
}

static int
run_status(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return ctl_request(ctx, "GET", "/v1/bird/status", NULL, print_status);
}

/* GET /v1/bird/status into *out (owned). 0, or an exit status after printing why. */
static int
get_status(struct ctl_ctx *ctx, json_t **out)
{
	struct ctl_reply r;
	struct err e;

	if (ctl_http(ctx, "GET", "/v1/bird/status", NULL, &r, &e) < 0) {
		fprintf(ctx->errf, "prefixctl: %s\n", e.msg);
		return CTL_EXIT_UNREACHABLE;
	}
	long status = r.status;
	*out = status == 200 && r.body ? json_loads(r.body, 0, NULL) : NULL;
	if (*out == NULL) {
		ctl_out_refusal(ctx->errf, status, r.body);
		ctl_reply_free(&r);
		return status == 200 ? CTL_EXIT_UNREACHABLE : CTL_EXIT_REFUSED;
	}
	ctl_reply_free(&r);
	return 0;
}

/* Polls status until reconcile.runs > before; prints the result. */
static int
wait_run(struct ctl_ctx *ctx, long long before)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	long waited = 0;
	json_t *st = NULL;
	int rc;

	for (;;) {
		if ((rc = get_status(ctx, &st)) != 0)
			return rc;
		json_t *r = json_object_get(st, "reconcile");
		if (num(r, "runs") > before)
			break;
		json_decref(st);
		if ((waited += 100) > ctx->timeout_ms) {
			fprintf(ctx->errf, "prefixctl: the reconcile run did not finish in %ld ms\n",
			    ctx->timeout_ms);
			return CTL_EXIT_UNREACHABLE;
		}
		nanosleep(&pause, NULL);
	}
	const char *code = json_string_value(json_object_get(json_object_get(st, "reconcile"),
	    "last_code"));
	if (ctx->json) {
		char *s = json_dumps(st, JSON_COMPACT);
		fprintf(ctx->out, "%s\n", s ? s : "{}");
		free(s);
	} else {
		print_status(ctx, st);
	}
	rc = code != NULL && strcmp(code, "ok") == 0 ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
	if (rc != CTL_EXIT_OK)
		fprintf(ctx->errf, "prefixctl: %s: the reconcile run failed (see the daemon's log)\n",
		    code ? code : "unknown");
	json_decref(st);
	return rc;
}

static int
run_reconcile(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_reply r;
	struct err e;
	(void)inv;

	if (ctl_http(ctx, "POST", "/v1/bird/reconcile", "{}", &r, &e) < 0) {
		fprintf(ctx->errf, "prefixctl: %s\n", e.msg);
		return CTL_EXIT_UNREACHABLE;
	}
	if (r.status != 202) {
		ctl_out_refusal(ctx->errf, r.status, r.body);
		ctl_reply_free(&r);
		return CTL_EXIT_REFUSED;
	}
	json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	long long before = num(j, "runs");
	json_decref(j);
	ctl_reply_free(&r);
	return wait_run(ctx, before);
}

const struct ctl_cmd ctl_bird_cmds[] = {
	{ "bird status", "", "BIRD connection, transactions and reconcile counters", NULL, NULL,
	  NULL, run_status },
	{ "bird reconcile", "", "compare BIRD's routes with the desired state now and repair drift",
	  NULL, NULL, NULL, run_reconcile },
	{ 0 },
};
