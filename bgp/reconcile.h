/*
 * reconcile — keeps BIRD's prefixd routes equal to the desired state (SPEC §5, DESIGN 3).
 *
 * A run: undo an unconfirmed config left by a crashed transaction (bird_apply_recover), ask the
 * desired set from the DESIRED callback (the lifecycle supplies it from the store), read BIRD's
 * prefixd4/prefixd6 routes (rib_read_own), and when they differ — drift — log the diff at warn
 * level, count it, and repair it with one bird_apply transaction.
 *
 * Runs happen after every BIRD (re)connect (the first connect is the start), every `interval`
 * seconds, and on demand (reconcile_run: `prefixctl bird reconcile`). One run at a time; an
 * on-demand request during a run gets that run's result. A run never compares while bird_apply
 * is busy (BIRD would be mid-change): it waits and retries every second.
 */
#ifndef PREFIXD_RECONCILE_H
#define PREFIXD_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "bird_apply.h"
#include "bird_conf.h"
#include "birdc.h"
#include "err.h"

struct ev_loop;

/* Fills OUT (empty on entry) with the desired routes. 0, or -1 with e set (run fails). */
typedef int (*reconcile_desired_fn)(void *arg, struct bird_routeset *out, struct err *e);

struct reconcile_config {
	double interval;        /* seconds between periodic runs; default 60; <0 disables */
};

struct reconcile_result {
	const char *code;       /* "ok" or the failure code (bird_apply's, or the callback's) */
	char message[ERR_MSG_MAX];
	bool drift;             /* BIRD differed from the desired set */
	bool repaired;          /* ...and a transaction made it match */
	char *diff;             /* bird_routediff_format of desired vs actual (borrowed) */
};

typedef void (*reconcile_fn)(void *arg, const struct reconcile_result *res);

struct reconcile;

struct reconcile *reconcile_new(struct ev_loop *loop, struct birdc *c, struct bird_apply *ap,
    const struct reconcile_config *cfg, reconcile_desired_fn desired, void *desired_arg);
/* Outstanding on-demand callbacks get "bird-unavailable". Free birdc first. NULL: no-op. */
void reconcile_free(struct reconcile *r);

/* Registers for birdc's connect events and starts the periodic timer. Call once, before or
 * after birdc_start(); if BIRD is already up a run is scheduled at once. */
void reconcile_start(struct reconcile *r);

/* Runs now (or joins the running run). DONE may be NULL. Always asynchronous; returns 0. */
int  reconcile_run(struct reconcile *r, reconcile_fn done, void *arg);

struct reconcile_stats {
	uint64_t runs, drift, repaired, failed;
	double last_run;        /* ev_now() of the last finished run, 0 if none */
	char last_code[32];
};
void reconcile_get_stats(const struct reconcile *r, struct reconcile_stats *out);

/*
 * ---- Attaching the whole BIRD side to the daemon (two calls) ----
 *
 *   d->bird = reconcile_bird_start(d->loop, &cfg, lifecycle_bird_desired, d);   // at start-up
 *   reconcile_api_register(d->bird);          // GET /v1/bird/status, POST /v1/bird/reconcile,
 *                                             // prefixd_bird_* metrics (bgp/api_bird.c)
 *   ...
 *   reconcile_bird_stop(d->bird);             // at SIGTERM
 *
 * The fields map SPEC §7's [bird] keys (struct conf: bird_socket, bird_config, bird_include,
 * bird_confirm_timeout, bird_reconcile_interval). Advertise/withdraw then call
 * bird_apply_request(d->bird->apply, ...), the other-origin check rib_other_origins(
 * d->bird->birdc, ...). With socket NULL (no router configured) start returns NULL and
 * public-scope changes answer bird-unavailable.
 */
struct reconcile_bird_config {
	const char *socket;             /* BIRD's control socket */
	const char *config;             /* BIRD's main file for `configure check`; may be NULL */
	const char *include;            /* the include file prefixd owns */
	unsigned confirm_timeout;       /* `configure timeout N`; 0: 30 */
	double reconcile_interval;      /* seconds; 0: 60 */
};

struct reconcile_bird {
	struct birdc *birdc;
	struct bird_apply *apply;
	struct reconcile *reconcile;
	char socket[256];               /* for status */
};

/* Creates and starts the client, the transaction engine and the reconciler. NULL when
 * cfg->socket or cfg->include is NULL. */
struct reconcile_bird *reconcile_bird_start(struct ev_loop *loop,
    const struct reconcile_bird_config *cfg, reconcile_desired_fn desired, void *desired_arg);
/* Tears down in the safe order: client, transactions, reconciler. NULL is a no-op. */
void reconcile_bird_stop(struct reconcile_bird *b);

/* bgp/api_bird.c: registers the HTTP routes and the metrics renderer for B (B may be NULL:
 * status then says "not configured", reconcile answers bird-unavailable). Call once. */
void reconcile_api_register(struct reconcile_bird *b);
/* bgp/api_bird.c: the "bird" member of /v1/status (same JSON as GET /v1/bird/status; new
 * reference). */
struct json_t *reconcile_api_status_section(void);

#endif
