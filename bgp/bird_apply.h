/*
 * bird_apply — makes BIRD's prefixd4/prefixd6 routes equal a desired set, one commit-confirm
 * transaction at a time (SPEC §5). Callers: reconcile, the lifecycle (advertise/withdraw) and
 * the API's dry-run. Owns the include file's contents and the transaction queue.
 *
 * One transaction:
 *
 *   read back (before) ──equal and file current──> done "ok" (no-op, BIRD untouched)
 *        │                (BIRD has no prefixd4/prefixd6: counts as holding no routes)
 *   render + atomic write of the include file
 *        │
 *   configure check ["bird.config"] ──8002──> restore file, "bird-config-invalid"
 *        │ 0020
 *   configure timeout N ──0004/0005──> poll configure status every poll_interval until 0003
 *        │ 0003
 *   read back prefixd4/master4 + prefixd6/master6 (with attributes: drain community)
 *        │                          └──mismatch──> configure undo, restore file,
 *        │                                         "bird-verify-failed" with the diff
 *   [failpoint bird_apply_before_confirm]
 *   configure confirm (0018) ──> "ok"
 *
 * The include file is prefixd's whole (issue 18): a missing, empty or foreign file, or a BIRD
 * without prefixd4/prefixd6 (someone reloaded it with such a file), is not an error here: the
 * transaction writes the rendered file and applies it like any change. What a transaction
 * still refuses is a main config that does not pass `configure check` with our file in it
 * ("bird-config-invalid", the previous file put back byte for byte), and a BIRD that still
 * has no prefixd4/prefixd6 after the reload (its main config does not include the file).
 *
 * Any lost connection or unexpected reply ends the transaction with "bird-unavailable" and
 * restores the previous include file; if `configure timeout` had been accepted, BIRD reverts
 * by itself when N seconds pass (prefixd never leaves a change confirmed it did not verify).
 *
 * Coalescing: requests carry the whole desired set. A request made while a transaction runs
 * replaces the pending set (latest wins) and its callback joins the pending waiters; when the
 * running transaction ends, one transaction covers all of them. Every requester is called
 * exactly once, with the result of the transaction that covered its request. Transactions
 * start from the loop (a zero timer), never inside bird_apply_request(). While birdc is in
 * the middle of a connection attempt, a transaction waits for its outcome instead of failing
 * at once (so requests made at start-up, before BIRD's hello, are not refused).
 *
 * Restart with an unconfirmed config in BIRD (prefixd died between `configure timeout` and
 * `configure confirm`): bird_apply_recover() — which reconcile runs after every (re)connect,
 * before comparing — sees "0022 ... unconfirmed" in `configure status` and sends `configure
 * undo`, returning BIRD to the last confirmed config at once instead of waiting for the timer;
 * then reconcile re-applies the desired set in a fresh transaction. Either way (undo or BIRD's
 * own timeout) the reconciler converges.
 */
#ifndef PREFIXD_BIRD_APPLY_H
#define PREFIXD_BIRD_APPLY_H

#include <stdint.h>

#include "bird_conf.h"
#include "birdc.h"
#include "err.h"

struct ev_loop;

struct bird_apply_config {
	const char *include_path;   /* the file prefixd owns (required) */
	const char *check_config;   /* BIRD's main file for `configure check "F"`; NULL: BIRD's -c */
	unsigned confirm_timeout;   /* N of `configure timeout N`; default 30 */
	double poll_interval;       /* `configure status` polling; default 0.02 s */
};

struct bird_apply_result {
	const char *code;           /* "ok", "bird-unavailable", "bird-config-invalid",
	                               "bird-verify-failed" */
	char message[ERR_MSG_MAX];
	struct bird_routediff diff; /* ok: what changed; verify-failed: desired vs read-back;
	                               dry-run: what would change */
	uint64_t txn;               /* transaction number (0 for a dry run) */
	double elapsed;             /* seconds from start to result */
	bool noop;                  /* BIRD already matched; nothing was sent */
};

/* Called once per request; RES is borrowed for the call. */
typedef void (*bird_apply_fn)(void *arg, const struct bird_apply_result *res);

struct bird_apply;

/* Copies the config. 0-field defaults apply. Never fails except on OOM (fatal). */
struct bird_apply *bird_apply_new(struct ev_loop *loop, struct birdc *c,
    const struct bird_apply_config *cfg);
/* Pending requests complete with "bird-unavailable". NULL is a no-op. Not from inside a
 * bird_apply callback. Free the birdc first (that ends a running transaction), then this,
 * then anything its requesters own (the reconciler). */
void bird_apply_free(struct bird_apply *ap);

/* Requests BIRD = DESIRED (copied). DONE may be NULL. Always returns 0 (asynchronous). */
int  bird_apply_request(struct bird_apply *ap, const struct bird_routeset *desired,
    bird_apply_fn done, void *arg);

/* Dry run: reads BIRD's routes and reports the diff to DESIRED; changes nothing. 0, or -1 with
 * e ("bird-unavailable") and DONE never called. */
int  bird_apply_dry_run(struct bird_apply *ap, const struct bird_routeset *desired,
    bird_apply_fn done, void *arg, struct err *e);

/* Undoes an unconfirmed config left in BIRD (see above). DONE(arg, undone, e). 0 or -1+e. */
typedef void (*bird_apply_recover_fn)(void *arg, bool undone, const struct err *e);
int  bird_apply_recover(struct bird_apply *ap, bird_apply_recover_fn done, void *arg,
    struct err *e);

/* True when the include file holds exactly what DESIRED renders to. Else false, with WHY
 * saying how it is not: missing (or unreadable), empty, or foreign content. */
bool bird_apply_include_current(const struct bird_apply *ap,
    const struct bird_routeset *desired, char *why, size_t whylen);

/* For a BIRD that is not connected: writes the include rendered from DESIRED when there is
 * no file at all (BIRD cannot start or reload without it, and with no BIRD there is nothing to
 * `configure check` against, so nothing is lost by writing it). An existing file — empty or
 * foreign too — is left for the transaction once BIRD is back. 1 written, 0 nothing to do
 * (or a transaction runs), -1 with e ("io-error"). */
int  bird_apply_write_missing(struct bird_apply *ap, const struct bird_routeset *desired,
    struct err *e);

bool bird_apply_busy(const struct bird_apply *ap);

struct bird_apply_stats {
	uint64_t transactions, ok, noop, config_invalid, verify_failed, unavailable, undos,
	    requests, recovered;
	double last_elapsed;
};
void bird_apply_get_stats(const struct bird_apply *ap, struct bird_apply_stats *out);

#endif
