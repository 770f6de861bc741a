/*
 * reconcile — keeps BIRD's prefixd routes equal to the desired state (SPEC §5, DESIGN 3).
 *
 * A run: undo an unconfirmed config left by a crashed transaction (bird_apply_recover), ask the
 * desired set from the DESIRED callback (the lifecycle supplies it from the store), read BIRD's
 * prefixd4/prefixd6 routes (rib_read_own) and the include file, and when either differs from
 * the desired set — drift — log what differs at warn level, count it, and repair it with one
 * bird_apply transaction (which rewrites the file and applies it with commit-confirm).
 *
 * Drift (issue 18: prefixd owns its include file whole):
 *   - BIRD has no prefixd4/prefixd6 (it was reloaded with a missing, empty or foreign file);
 *   - BIRD's routes differ from the desired set;
 *   - the file is missing, empty, or not byte for byte what prefixd renders (foreign), even
 *     while BIRD's routes still match (BIRD was not reloaded yet: the next reload would lose
 *     them).
 * The first run, at BIRD's first connect (before any periodic run), is prefixd's start-up
 * write: a file or BIRD that does not hold the desired state is rewritten and applied then,
 * so no one has to seed the file by hand. A main config that fails `configure check` with our
 * file is refused: logged, counted (bird_apply's config_invalid, reconcile's failed), shown as
 * last_code "bird-config-invalid", and the file is put back as it was; the next run retries.
 * While BIRD is not connected (every failed connect attempt, every interval) nothing can be
 * checked; only a MISSING include is written then (BIRD cannot start without it), counted as
 * drift; an empty or foreign file waits for BIRD.
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
	char last_drift[512];   /* what the last drift was ("" if none): the log line's text */
};
void reconcile_get_stats(const struct reconcile *r, struct reconcile_stats *out);

#endif
