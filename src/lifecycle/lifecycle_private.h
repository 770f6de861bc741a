/*
 * lifecycle_private — the controller's internals shared by its files:
 *   lifecycle_ctl.c   rows, persistence, transitions, provisioning, re-validation, timers
 *   lifecycle_ops.c   advertise / withdraw operations (interlocks, bird_apply, dry runs)
 * Not for other modules: they use lifecycle_ctl.h.
 */
#ifndef PREFIXD_LIFECYCLE_PRIVATE_H
#define PREFIXD_LIFECYCLE_PRIVATE_H

#include <ev.h>

#include "lifecycle_ctl.h"

struct ptree;

#define LIFECYCLE_CTL_LOG_EACH 16       /* larger operations log one line, not one per prefix */

struct lifecycle_ctl {
	struct ev_loop *loop;
	const struct conf *conf;
	struct store *store;
	struct ipam *ipam;
	struct obs *obs;
	struct rtr *rtr;
	struct bird *bird;
	struct authctx *auth;
	struct asn_reg *asns;           /* proven origins (issue 21); NULL: none proven */
	struct lifecycle_prefix **v;
	size_t n, cap;
	struct ptree *idx[2];           /* v by CIDR (IPv4, IPv6): lifecycle_ctl_find, O(bits) */
	ev_timer tick;                  /* 1 s: provisioning retries, drains, stale alerts */
	bool was_fresh;
	uint64_t drift_seen;            /* reconcile drift count already raised as an alert */
	bool listening;                 /* birdc listener added */
	bool quiet;                     /* a large operation: transitions logged at debug */
	bool doc_hold;                  /* lc_save writes nothing: a site follower's transition
	                                 * (its result is the site's row and the event; the
	                                 * shared document stays its asking instance's) */
	bool resume_wanted;             /* a batch's COMMIT failed: resume pending-* on the tick */
	struct lifecycle_ctl_stats stats;
	struct lifecycle_prefix **dropped;      /* reload removed them while verifying */
	size_t ndropped, capdropped;
	uint64_t verify_gen;
	struct lifecycle_visibility vis;        /* deps->visibility */
	lifecycle_ctl_change_fn on_change;      /* lifecycle_ctl_on_change */
	void *on_change_arg;
	struct site_lease *lease;               /* deps->lease (issue 17) */
	ev_timer follow;                        /* 1 s: lifecycle_ctl_sites_follow */
	unsigned following;                     /* follow operations running */
	uint64_t adopted_epoch;                 /* lease epoch whose own-site states are in memory */
	uint64_t feed_seq;                      /* change feed read up to (lifecycle_ctl_follow) */
	uint64_t feed_epoch;                    /* store_feed_epoch when feed_seq was read */
};

/* lifecycle_ctl.c */
int64_t lc_now(void);
/* Makes event EV happen to P: lifecycle_fsm, then the row and one event (action "lifecycle",
 * evidence NOTE merged into the row's evidence under KEY when both are given) in one
 * transaction. On a store failure the state is put back. 0 or -1 with e. */
int lc_transition(struct lifecycle_ctl *c, struct lifecycle_prefix *p,
    enum lifecycle_event ev, const struct ipam_actor *who, const char *key, json_t *note,
    struct err *e);
/* Writes the row (no event, no state change); nothing while c->doc_hold. */
int lc_save(struct lifecycle_ctl *c, struct lifecycle_prefix *p, struct err *e);
bool lc_bird_up(const struct lifecycle_ctl *c);
size_t lc_count_state(const struct lifecycle_ctl *c, enum lifecycle_state st);
/* One store transaction around many transitions (an operation over thousands of prefixes
 * costs one fsync, not one each); the transitions inside become savepoints. A failed COMMIT
 * is logged: memory then runs ahead of the store until the next change of those rows. */
void lc_batch_begin(struct lifecycle_ctl *c, size_t n);
/* Commits the batch; -1 with e when it did not become durable (the store rolled it back:
 * the caller puts the prefixes' states back and must not report them changed). With the
 * failpoint NAME enabled (failpoint_fail), the batch is rolled back instead of committed. */
int lc_batch_end(struct lifecycle_ctl *c, const char *failpoint, struct err *e);
/* Appends an event without a transition (alerts). */
void lc_event(struct lifecycle_ctl *c, struct lifecycle_prefix *p, const char *action,
    json_t *evidence);

/* The routes BIRD should hold (lifecycle_ctl_desired without the writer check: dry runs). */
int lc_desired_set(struct lifecycle_ctl *c, struct bird_routeset *out, struct err *e);

/* lifecycle_sites.c (issue 17) */
/* False (with e: site-standby) while another instance holds the site's lease. */
bool lc_may_write(const struct lifecycle_ctl *c, struct err *e);
/* The lease epoch now (0 without a lease). */
uint64_t lc_epoch(const struct lifecycle_ctl *c);
/* Results at the own site, written together (no-op without a lease): lc_records_add collects
 * CIDR's STATE "advertised", "withdrawn" or "failed" (CODE its reason, MSG the evidence's
 * message) under EPOCH (one epoch per collection); lc_records_write records them all in one
 * store call (store_site_record_many: one statement for 1,000 prefixes) and empties r. -1
 * with e (lease-lost: the epoch moved on, nothing written). */
struct lc_records {
	struct store_site_row *v;
	size_t n, cap;
};
void lc_records_add(struct lifecycle_ctl *c, struct lc_records *r, const struct cidr *cidr,
    const char *state, const char *code, const char *msg, uint64_t epoch);
int lc_records_write(struct lifecycle_ctl *c, struct lc_records *r, struct err *e);
void lc_sites_start(struct lifecycle_ctl *c);
/* After (re)loading the prefix documents: the document's state is the last writer's, which
 * with several sites may be another site's; a prefix whose own-site row says advertised or
 * withdrawn takes that state in memory (this site's BIRD is what this instance drives). */
void lc_sites_adopt(struct lifecycle_ctl *c);
/* Before BIRD is written under a lease epoch not seen yet (this instance took the lease over):
 * the own-site states again, since the previous holder changed them while this one stood by. */
void lc_sites_takeover(struct lifecycle_ctl *c);
void lc_sites_stop(struct lifecycle_ctl *c);

/* lifecycle_ops.c */
/* Re-applies the desired set after a restart or a BIRD reconnect: pending-advertise and
 * pending-withdraw rows reach their stable state with the transaction's result. */
void lc_ops_resume(struct lifecycle_ctl *c);
/* Ends drains whose deadline passed (a withdraw transaction). */
void lc_ops_drain_tick(struct lifecycle_ctl *c);
/* Withdraws P because policy says so (on_invalid = withdraw); no blast radius, no rate. */
void lc_ops_policy_withdraw(struct lifecycle_ctl *c, struct lifecycle_prefix *p);

#endif
