/*
 * bird — the one face of a BIRD 2 router that the rest of prefixd uses (DESIGN "bgp/").
 *
 * Behind it: birdc (the control-socket client), bird_conf (the include file prefixd owns),
 * bird_apply (check -> timeout -> read back -> confirm, or undo), rib (`show route` readers:
 * the other-origin check) and reconcile (desired state vs BIRD, on start, reconnect and every
 * reconcile_interval). The lifecycle and the API include this header only; they never reach
 * into those modules' objects.
 *
 * Life cycle (src/prefixd.c):
 *   b = bird_start(loop, &cfg, desired_fn, arg);   NULL when no router is configured: public
 *                                                  changes then answer bird-unavailable
 *   ... bird_apply / bird_dry_run / bird_other_origins / bird_reconcile_now ...
 *   bird_stop(b);                                  in-flight requests are told, then freed
 * Only on the loop thread.
 */
#ifndef PREFIXD_BIRD_H
#define PREFIXD_BIRD_H

#include <stdbool.h>
#include <stdint.h>

#include "bird_apply.h"
#include "bird_conf.h"
#include "birdc.h"
#include "err.h"
#include "reconcile.h"
#include "rib.h"

struct ev_loop;

/* SPEC §7 [bird]: socket, config, include, confirm_timeout, reconcile_interval. */
struct bird_config {
	const char *socket;             /* BIRD's control socket */
	const char *config;             /* BIRD's main file for `configure check`; may be NULL */
	const char *include;            /* the include file prefixd owns */
	unsigned confirm_timeout;       /* `configure timeout N`; 0: 30 */
	double reconcile_interval;      /* seconds; 0: 60 */
};

struct bird;

/* Creates and starts the client, the transaction engine and the reconciler, which asks
 * DESIRED(desired_arg) for the routes BIRD should hold. NULL when cfg names no socket or no
 * include (no router configured). */
struct bird *bird_start(struct ev_loop *loop, const struct bird_config *cfg,
    reconcile_desired_fn desired, void *desired_arg);
/* Tears down in the safe order: client, transactions, reconciler. NULL is a no-op. */
void bird_stop(struct bird *b);

/* Connected to BIRD's control socket now. False for NULL. */
bool bird_is_up(const struct bird *b);
/* FN(arg, up, reason) on every connect and disconnect. 0, or -1 when the listener table is full. */
int bird_on_connect(struct bird *b, birdc_event_fn fn, void *arg);

/* One commit-confirm transaction that makes BIRD hold DESIRED (bird_apply_request). */
int bird_apply(struct bird *b, const struct bird_routeset *desired, bird_apply_fn done,
    void *arg);
/* Dry run: BIRD's route diff to DESIRED, changing nothing. 0, or -1 with e. */
int bird_dry_run(struct bird *b, const struct bird_routeset *desired, bird_apply_fn done,
    void *arg, struct err *e);
/* The other-origin check of SPEC §3 (rib_other_origins). 0, or -1 with e. */
int bird_other_origins(struct bird *b, const char *prefix, uint32_t expected_asn,
    rib_origins_fn done, void *arg, struct err *e);
/* Starts a reconcile run now (or joins the running one); DONE may be NULL. */
void bird_reconcile_now(struct bird *b, reconcile_fn done, void *arg);

/* Everything status and metrics show of the router. */
struct bird_stats {
	bool up;
	bool busy;                      /* a transaction is running */
	char socket[256];
	struct birdc_stats client;
	struct bird_apply_stats apply;
	struct reconcile_stats reconcile;
};
void bird_get_stats(const struct bird *b, struct bird_stats *out);

#endif
