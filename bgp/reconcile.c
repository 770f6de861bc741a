/*
 * reconcile — desired vs actual, drift repair. See reconcile.h.
 * Owns its timers, the list of on-demand waiters and the run in progress (flag + waiters).
 */
#include "reconcile.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rib.h"

struct rwaiter {
	struct rwaiter *next;
	reconcile_fn fn;
	void *arg;
};

struct reconcile {
	struct ev_loop *loop;
	struct birdc *c;
	struct bird_apply *ap;
	double interval;
	reconcile_desired_fn desired_fn;
	void *desired_arg;
	ev_timer periodic, soon, offline;
	bool running, again, started;
	struct rwaiter *waiters;        /* of the run in progress */
	struct rwaiter *next_waiters;   /* of the run requested while one is in progress */
	struct bird_routeset desired;
	char *diff;
	struct reconcile_stats stats;
};

static void run_begin(struct reconcile *r);

/* Calls and frees every waiter of list W, in order. */
static void
waiters_complete(struct rwaiter *w, const struct reconcile_result *res)
{
	while (w != NULL) {
		struct rwaiter *next = w->next;
		if (w->fn)
			w->fn(w->arg, res);
		free(w);
		w = next;
	}
}

static void
schedule(struct reconcile *r, double after)
{
	ev_timer_stop(r->loop, &r->soon);
	ev_timer_set(&r->soon, after, 0.0);
	ev_timer_start(r->loop, &r->soon);
}

static void
run_end(struct reconcile *r, const char *code, bool drift, bool repaired, const char *msg)
{
	struct reconcile_result res = { .code = code, .drift = drift, .repaired = repaired,
	    .diff = r->diff ? r->diff : "" };
	struct rwaiter *w = r->waiters;

	snprintf(res.message, sizeof(res.message), "%s", msg);
	r->stats.runs++;
	r->stats.last_run = ev_now(r->loop);
	snprintf(r->stats.last_code, sizeof(r->stats.last_code), "%s", code);
	if (strcmp(code, "ok") != 0) {
		r->stats.failed++;
		log_warnx("reconcile: %s: %s", code, msg);
	}
	r->waiters = NULL;
	r->running = false;
	waiters_complete(w, &res);
	free(r->diff);
	r->diff = NULL;
	bird_routeset_clear(&r->desired);
	if (r->next_waiters != NULL || r->again) {
		r->again = false;
		schedule(r, 0.0);
	}
}

static void
after_apply(void *arg, const struct bird_apply_result *res)
{
	struct reconcile *r = arg;
	bool ok = strcmp(res->code, "ok") == 0;

	if (ok) {
		r->stats.repaired++;
		log_info("reconcile: drift repaired (transaction %llu)",
		    (unsigned long long)res->txn);
	}
	run_end(r, res->code, true, ok, ok ? "drift repaired" : res->message);
}

/* Compares BIRD's routes and the include file with the desired set. Drift is any of: BIRD
 * without prefixd4/prefixd6 (the read-back's "bird-config-invalid": BIRD holds none of our
 * routes), routes that differ, an include file that is missing, empty or foreign. Drift is
 * logged with what differs and counted, and one bird_apply transaction repairs it all. */
static void
after_read(void *arg, const struct bird_routeset *actual, const struct err *e)
{
	static const struct bird_routeset none;
	struct reconcile *r = arg;
	struct bird_routediff d = { 0 };
	char file_why[ERR_MSG_MAX] = "", *reason = r->stats.last_drift;
	size_t rlen = sizeof(r->stats.last_drift);
	bool protos = e == NULL, routes_ok, file_ok;

	if (e != NULL && strcmp(e->code, "bird-config-invalid") != 0) {
		run_end(r, e->code, false, false, e->msg);
		return;
	}
	routes_ok = protos && bird_routeset_equal(&r->desired, actual);
	file_ok = bird_apply_include_current(r->ap, &r->desired, file_why, sizeof(file_why));
	if (routes_ok && file_ok) {
		log_debug("reconcile: BIRD matches the desired state (%zu routes)", actual->n);
		run_end(r, "ok", false, false, "no drift");
		return;
	}
	bird_routediff_compute(&r->desired, protos ? actual : &none, &d);
	r->diff = bird_routediff_format(&d);
	bird_routediff_clear(&d);
	if (!protos)
		snprintf(reason, rlen, "%s", e->msg);
	else if (!routes_ok)
		snprintf(reason, rlen, "BIRD differs from the desired state: %s",
		    r->diff ? r->diff : "?");
	else
		snprintf(reason, rlen, "BIRD's routes match");
	if (!file_ok)
		snprintf(reason + strlen(reason), rlen - strlen(reason), "; %s", file_why);
	r->stats.drift++;
	log_warnx("reconcile: drift: %s", reason);
	bird_apply_request(r->ap, &r->desired, after_apply, r);
}

static void
after_recover(void *arg, bool undone, const struct err *e)
{
	struct reconcile *r = arg;
	struct err re;
	(void)undone;

	if (e != NULL) {
		run_end(r, e->code, false, false, e->msg);
		return;
	}
	if (bird_apply_busy(r->ap)) {
		/* Our own transaction is changing BIRD: compare once it is done. */
		r->running = false;
		struct rwaiter *w = r->waiters;
		r->waiters = NULL;
		while (w != NULL) {     /* keep them for the retried run, in order */
			struct rwaiter *next = w->next;
			w->next = r->next_waiters;
			r->next_waiters = w;
			w = next;
		}
		schedule(r, 1.0);
		return;
	}
	bird_routeset_clear(&r->desired);
	if (r->desired_fn(r->desired_arg, &r->desired, &re) < 0) {
		run_end(r, re.code, false, false, re.msg);
		return;
	}
	bird_routeset_normalize(&r->desired);
	if (rib_read_own(r->c, after_read, r, &re) < 0)
		run_end(r, re.code, false, false, re.msg);
}

static void
run_begin(struct reconcile *r)
{
	struct err e;

	if (r->running) {
		r->again = true;
		return;
	}
	r->running = true;
	r->waiters = r->next_waiters;
	r->next_waiters = NULL;
	if (!birdc_is_up(r->c)) {
		run_end(r, "bird-unavailable", false, false, "not connected to BIRD");
		return;
	}
	if (bird_apply_busy(r->ap)) {
		after_recover(r, false, NULL);      /* defers without touching BIRD */
		return;
	}
	if (bird_apply_recover(r->ap, after_recover, r, &e) < 0)
		run_end(r, e.code, false, false, e.msg);
}

static void
on_soon(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_begin(w->data);
}

/* BIRD is not connected: a missing include is written from the desired state (drift, logged
 * and counted) so that BIRD can start; nothing else can be repaired without BIRD. From the
 * loop only (a timer): at start-up that is after the lifecycle has loaded the desired state. */
static void
on_offline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct reconcile *r = w->data;
	struct bird_routeset want = { 0 };
	struct err e;
	int rc = 0;
	(void)loop;
	(void)revents;

	if (birdc_is_up(r->c))
		return;
	if (r->desired_fn(r->desired_arg, &want, &e) == 0 &&
	    (rc = bird_apply_write_missing(r->ap, &want, &e)) > 0) {
		r->stats.drift++;
		snprintf(r->stats.last_drift, sizeof(r->stats.last_drift), "include file is "
		    "missing while BIRD is not connected: written with the desired state (%zu "
		    "routes)", want.n);
		log_warnx("reconcile: drift: %s", r->stats.last_drift);
	}
	if (rc < 0)
		log_warnx("reconcile: writing the missing include file: %s", e.msg);
	bird_routeset_clear(&want);
}

static void
on_periodic(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct reconcile *r = w->data;
	(void)loop;
	(void)revents;

	if (birdc_is_up(r->c))
		run_begin(r);
	else
		ev_timer_start(r->loop, &r->offline);
}

static void
on_bird_event(void *arg, bool up, const struct err *reason)
{
	struct reconcile *r = arg;
	(void)reason;

	if (up)
		schedule(r, 0.0);
	else
		ev_timer_start(r->loop, &r->offline);
}

struct reconcile *
reconcile_new(struct ev_loop *loop, struct birdc *c, struct bird_apply *ap,
    const struct reconcile_config *cfg, reconcile_desired_fn desired, void *desired_arg)
{
	struct reconcile *r = calloc(1, sizeof(*r));

	if (r == NULL)
		fatalx("reconcile_new: out of memory");
	r->loop = loop;
	r->c = c;
	r->ap = ap;
	r->interval = cfg->interval == 0 ? 60.0 : cfg->interval;
	r->desired_fn = desired;
	r->desired_arg = desired_arg;
	ev_init(&r->soon, on_soon);
	ev_init(&r->periodic, on_periodic);
	ev_timer_init(&r->offline, on_offline, 0.0, 0.0);
	r->soon.data = r->periodic.data = r->offline.data = r;
	return r;
}

void
reconcile_free(struct reconcile *r)
{
	struct reconcile_result res = { .code = "bird-unavailable", .diff = "" };

	if (r == NULL)
		return;
	ev_timer_stop(r->loop, &r->soon);
	ev_timer_stop(r->loop, &r->periodic);
	ev_timer_stop(r->loop, &r->offline);
	snprintf(res.message, sizeof(res.message), "reconciler shut down");
	waiters_complete(r->waiters, &res);
	waiters_complete(r->next_waiters, &res);
	bird_routeset_clear(&r->desired);
	free(r->diff);
	free(r);
}

void
reconcile_start(struct reconcile *r)
{
	if (r->started)
		return;
	r->started = true;
	if (birdc_add_listener(r->c, on_bird_event, r) < 0)
		fatalx("reconcile_start: too many birdc listeners");
	if (r->interval > 0) {
		ev_timer_set(&r->periodic, r->interval, r->interval);
		ev_timer_start(r->loop, &r->periodic);
	}
	if (birdc_is_up(r->c))
		schedule(r, 0.0);
}

int
reconcile_run(struct reconcile *r, reconcile_fn done, void *arg)
{
	struct rwaiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		fatalx("reconcile_run: out of memory");
	w->fn = done;
	w->arg = arg;
	if (r->running) {
		w->next = r->waiters;       /* join the run in progress */
		r->waiters = w;
	} else {
		w->next = r->next_waiters;
		r->next_waiters = w;
		schedule(r, 0.0);
	}
	return 0;
}

void
reconcile_get_stats(const struct reconcile *r, struct reconcile_stats *out)
{
	*out = r->stats;
}
