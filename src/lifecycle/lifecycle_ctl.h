/*
 * lifecycle_ctl — the public-prefix controller: SPEC §3 end to end inside the daemon.
 *
 * Who calls it: src/prefixd.c creates one (lifecycle_ctl_new) with what it needs (struct
 * lifecycle_deps: loop, config, store, model, obs, RPKI, the verifier), hands
 * lifecycle_ctl_desired to the router (bgp/bird.h) and attaches it (lifecycle_ctl_set_bird),
 * loads it (lifecycle_ctl_load), and passes the new config on SIGHUP (lifecycle_ctl_set_conf);
 * src/api/api_prefix.c turns HTTP requests into the calls below and renders their result
 * structs. The lifecycle never names the API. It owns one row per public prefix (memory index; the truth is the store's "prefix"
 * documents, store_doc_*), the provisioning pipeline, the advertise / withdraw operations,
 * drain timers, RPKI re-validation and the lifecycle metrics. Every state change goes through
 * lifecycle_fsm() and is written, with an event carrying its evidence, in one transaction.
 *
 * Provisioning (asynchronous; the call returns with pending-provision once the row is
 * written): size (v4 <= /24, v6 <= /48, else prefix-too-specific) -> overlap in the public
 * scope (ipam, refused at once) -> authorization context (authctx on its worker; auth-*,
 * cert-*, signature-invalid, rdap-unavailable) -> RPKI: while the RTR data is not fresh the
 * prefix stays pending-provision (message says why) and is retried every second and on each
 * RTR change; after provision_timeout it fails with rpki-unavailable; then origin validation
 * of (prefix, pool origin ASN): roa-invalid / roa-not-found; a ROA maxLength longer than the
 * prefix is kept as a warning in the evidence (RFC 9319).
 *
 * Advertise: facts (state, RTR freshness, ROV now, last change, other origins from BIRD's
 * RIB) go to policy/advertise.h in SPEC order; the other-origin look-up needs BIRD, so with
 * BIRD down a prefix that passes the RPKI checks is refused with bird-unavailable. Passing
 * prefixes go to pending-advertise (written), the desired set goes to bird_apply, and the
 * outcome (read-back matched: advertised; otherwise back to provisioned with BIRD's code)
 * is reported to the caller. Withdraw: blast radius and rate limit first; advertised ->
 * pending-withdraw -> provisioned; with a drain the route is re-announced with
 * GRACEFUL_SHUTDOWN for N seconds (deadline stored, a restart continues it) and then
 * withdrawn. Dry runs run every check and answer BIRD's route diff, changing nothing.
 *
 * Re-validation: on RTR change events every provisioned / advertised prefix the change covers
 * is validated again; an advertised prefix that is not valid any more raises an alert (warn
 * log, "rpki-alert" event, prefixd_rpki_alerts_total) and is withdrawn only with
 * policy.on_invalid = withdraw. RTR data going stale while prefixes are advertised raises an
 * alert (warn log, "rpki-stale" event through obs_alert, prefixd_rpki_stale_alerts_total)
 * and never withdraws; RTR changes while the data is not fresh are not verdicts.
 *
 * Restart: rows are loaded from the store; pending-provision re-runs verification;
 * pending-advertise / pending-withdraw re-apply the desired set when BIRD is up (bird_apply
 * is idempotent: a change already in BIRD is a no-op transaction); a drain continues until its
 * stored deadline.
 */
#ifndef PREFIXD_LIFECYCLE_CTL_H
#define PREFIXD_LIFECYCLE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cidr.h"
#include "err.h"
#include "ipam.h"
#include "lifecycle.h"

struct ev_loop;
struct conf;
struct store;
struct obs;
struct rtr;
struct authctx;
struct bird;
struct bird_routeset;
struct lifecycle_ctl;
struct asn_reg;
struct site_lease;

#define LIFECYCLE_CTL_MAX_BATCH 100000   /* prefixes in one advertise / withdraw request */
#define LIFECYCLE_CTL_MAX_ALLOW 16       /* --allow-origin values */

/* One public prefix as the controller keeps it. Read-only for callers. */
struct lifecycle_prefix {
	struct cidr cidr;
	char pool[IPAM_NAME_MAX + 1];
	uint32_t origin_asn;            /* the origin it is announced with (and validated for) */
	uint32_t associated_asn;        /* 0, or the proven ASN `prefix associate` chose instead
	                                 * of the pool's origin (then origin_asn equals it) */
	enum lifecycle_state state;
	char failure_reason[48];        /* "" unless failed-provision */
	char message[ERR_MSG_MAX];      /* failure message, or why it waits */
	char *auth_message, *auth_signature;
	json_t *evidence;               /* {"size","auth","rpki","advertise","bird",...} */
	int64_t last_change;            /* unix seconds of the last BIRD change (rate limit) */
	int64_t updated;                /* unix seconds of the last transition */
	int64_t provision_started;
	int64_t drain_until;            /* 0: no drain running */
	uint32_t allow_origin[LIFECYCLE_CTL_MAX_ALLOW];
	size_t n_allow;
	/* memory only */
	bool verifying;                 /* authctx running */
	bool followed;                  /* pending-provision at another instance, which verifies
	                                 * it (lifecycle_ctl_follow) */
	bool auth_ok;                   /* the proof held; RPKI is the remaining check */
	bool alerted;                   /* an rpki alert is standing */
	bool busy;                      /* an advertise / withdraw operation holds it */
	struct lifecycle_ctl *ctl;      /* the controller that holds it */
	bool dropped;                   /* reload removed it; freed when its verification ends */
	uint64_t verify_gen;            /* which verification's answer counts */
	json_t *auth_seen;              /* evidence "auth" whose text auth_text is (a reference */
	char *auth_text;                /* held, so the address is not reused): lc_doc */
};

/*
 * Confirmation from outside (the BMP monitor, lifecycle_bmp.h; optional). Once BIRD confirmed
 * an advertisement of n prefixes, the controller calls wait(arg, cidrs, n, done, op) and
 * answers the request only when done(op, v) comes: exactly once, from the loop (possibly
 * before wait returns), v[i] telling whether cidrs[i] became visible in time. A prefix that
 * did not stays advertised and is reported "not-visible" (the operator decides).
 */
struct lifecycle_visible {
	bool visible;
	unsigned holding, required;     /* vantage points holding it from its origin / asked */
	double waited;                  /* seconds */
};
typedef void (*lifecycle_visible_done_fn)(void *op, const struct lifecycle_visible *v);
struct lifecycle_visibility {
	void (*wait)(void *arg, const struct cidr *cidrs, size_t n, lifecycle_visible_done_fn done,
	    void *op);                  /* NULL: advertisements answer once BIRD confirmed */
	void *arg;
};

/* What the controller uses; all borrowed (the daemon owns them). rtr and auth may be NULL (not
 * configured); store NULL keeps everything in memory (tests). */
struct lifecycle_deps {
	struct ev_loop *loop;
	const struct conf *conf;        /* [policy], [bgp]; replaced by lifecycle_ctl_set_conf */
	struct store *store;
	struct ipam *ipam;
	struct obs *obs;                /* alerts; may be NULL */
	struct rtr *rtr;
	struct authctx *auth;
	struct lifecycle_visibility visibility;
	struct asn_reg *asns;           /* proven ASNs; an origin must be one unless [auth]
	                                 * allow_unproven_asn (issue 21) */
	/* Issue 17: this instance's writer lease (site_lease.h), NULL on SQLite (one instance,
	 * its site's writer). With a lease, every BIRD transaction needs site_lease_may_write
	 * (else "site-standby"), every (prefix, own site) result is recorded in the store
	 * (store_site_record, fenced by the epoch of the transaction), and the controller
	 * follows the store: every second, and when a desire is notified, it applies the desired
	 * state other instances recorded for its site (lifecycle_ctl_sites_follow). */
	struct site_lease *lease;
};

/* Creates the controller (the router is attached after, lifecycle_ctl_set_bird). */
struct lifecycle_ctl *lifecycle_ctl_new(const struct lifecycle_deps *deps);
/* The config after a SIGHUP (the old one is freed after this call). */
void lifecycle_ctl_set_conf(struct lifecycle_ctl *c, const struct conf *conf);
/* Cancels timers and subscriptions; pending requests are answered bird-unavailable.
 * NULL is a no-op. Call after authctx_drain and before freeing the BIRD side. */
void lifecycle_ctl_free(struct lifecycle_ctl *c);
/* Attaches the router created after the controller (its reconciler needs our callback);
 * NULL detaches it (before bird_stop). */
void lifecycle_ctl_set_bird(struct lifecycle_ctl *c, struct bird *bird);

/* Loads every row from the store and resumes pending states. 0 or -1 with e. */
int lifecycle_ctl_load(struct lifecycle_ctl *c, struct err *e);

/*
 * After a COMMIT failed (the caller's batch was rolled back): memory becomes the store's rows
 * again. A row the store does not hold is dropped (a provision answered 503 never happened);
 * a row it holds gets its stored fields back. A verification still running for a dropped or
 * reset row is ignored when it reports. 0 or -1 with e (the store could not be read).
 */
int lifecycle_ctl_reload(struct lifecycle_ctl *c, struct err *e);

/*
 * Several instances on one store (PostgreSQL): memory follows the public prefixes other
 * instances provision and deprovision, through the store's change feed (store.h "Several
 * instances"). The prefix documents the feed names since the last call are read again
 * (store_doc_load, only when one changed); a prefix new to memory is added, and one whose
 * stored or remembered state is a provisioning state (pending-provision, failed-provision,
 * pending-deprovision, deprovisioned) takes the stored fields, its per-site state then read
 * from this site's row (a prefix advertised elsewhere is provisioned here). A prefix busy here,
 * verifying, or with a route (or a change of it) at this site keeps what it has: its
 * advertisement is this site's business; a document another site saved for a change between
 * routing states (store_doc_put_sited) is then not even read. With sites, the documents name
 * the site whose state they hold, and an instance loading one written at another site reads
 * its routing state as provisioned (its own comes from its rows). No verification starts here
 * (the provisioning instance runs it). Never inside a transaction (the caller checks).
 * Returns the number of
 * prefixes added or changed, or -1 with e.
 */
int lifecycle_ctl_follow(struct lifecycle_ctl *c, struct err *e);
/* The same as a rollback hook (arg: the controller; failures are logged). src/prefixd.c
 * registers it with the API's group commit (api_on_rollback). */
void lifecycle_ctl_rollback(void *arg);

/* reconcile_desired_fn: the routes BIRD should hold now (arg is the controller). */
int lifecycle_ctl_desired(void *arg, struct bird_routeset *out, struct err *e);

/*
 * FN(arg, p, before) after every state change of a prefix and, with p NULL, after the rows were
 * (re)loaded. It runs inside the controller's transaction: it notes what changed and acts later
 * (no store writes, no calls back into the controller). One subscriber; NULL fn removes it.
 */
typedef void (*lifecycle_ctl_change_fn)(void *arg, const struct lifecycle_prefix *p,
    enum lifecycle_state before);
void lifecycle_ctl_on_change(struct lifecycle_ctl *c, lifecycle_ctl_change_fn fn, void *arg);

/* Records NOTE (borrowed) under KEY in the prefix's evidence and as an event ACTION (actor
 * prefixd) in its history. Not inside a transaction of the controller. Unknown CIDR: no-op. */
void lifecycle_ctl_note(struct lifecycle_ctl *c, const struct cidr *cidr, const char *action,
    const char *key, json_t *note);

/* Look-up and iteration (address order is not guaranteed: insertion order). */
struct lifecycle_prefix *lifecycle_ctl_find(struct lifecycle_ctl *c, const struct cidr *p);
size_t lifecycle_ctl_count(const struct lifecycle_ctl *c);
struct lifecycle_prefix *lifecycle_ctl_at(struct lifecycle_ctl *c, size_t i);
/* Counts per state into counts[LIFECYCLE_STATE_COUNT]. */
void lifecycle_ctl_counts(const struct lifecycle_ctl *c, size_t *counts);

/* The prefix as the API's JSON (SPEC nouns: cidr, pool, origin_asn, state, failure_reason,
 * message, evidence, ...). New reference. */
json_t *lifecycle_ctl_prefix_json(const struct lifecycle_prefix *p);

/*
 * Provisioning of CIDR into public pool POOL (run inside the caller's transaction). Returns 0
 * with *out in pending-provision (verification started), or -1 with e: overlap / exists /
 * invalid-state / store-failed (nothing recorded), or a failure found at once —
 * prefix-too-specific, auth-malformed (no context), origin-asn-missing, asn-not-provisioned
 * (the origin is not a proven ASN, issue 21) — recorded as
 * failed-provision (*out is set then too). Later failures arrive asynchronously.
 */
int lifecycle_ctl_provision(struct lifecycle_ctl *c, const struct ipam_actor *who,
    struct ipam_pool *pool, const struct cidr *cidr, const char *auth_message,
    const char *auth_signature, struct lifecycle_prefix **out, struct err *e);

/* Deprovisioning (inside the caller's transaction): in-use while advertised or pending, or
 * with allocations; removes the CIDR from the pool and leaves the row deprovisioned. */
int lifecycle_ctl_deprovision(struct lifecycle_ctl *c, const struct ipam_actor *who,
    struct ipam_pool *pool, const struct cidr *cidr, struct err *e);

/* The outcome of an advertise or withdraw request, per prefix. */
struct lifecycle_item_result {
	struct cidr cidr;
	bool known;                     /* a public prefix of that CIDR exists */
	enum lifecycle_state state;     /* its state now (LIFECYCLE_NONE when unknown) */
	const char *code;               /* NULL: reached its goal; else the refusal's code */
	char message[ERR_MSG_MAX];      /* "" unless code */
};

struct lifecycle_outcome {
	const char *action;             /* "advertise" or "withdraw" */
	bool dry_run;
	unsigned drain;                 /* withdraw --drain seconds, 0 none */
	const char *diff;               /* the router's route diff, or NULL */
	const struct lifecycle_item_result *items;
	size_t n;
	const struct lifecycle_item_result *first_failure;      /* NULL: every prefix reached it */
};
/* n == 0 with first_failure set: the request as a whole was refused (an empty selection). */

/* Valid only during the call. */
typedef void (*lifecycle_ctl_done_fn)(void *arg, const struct lifecycle_outcome *o);

struct lifecycle_ctl_req {
	const struct cidr *cidrs;
	size_t n;
	const uint32_t *allow;          /* advertise: --allow-origin */
	size_t n_allow;
	unsigned drain;                 /* withdraw: --drain seconds, 0 none */
	bool confirm_large;             /* withdraw */
	bool dry_run;
	bool site_follow;               /* asked by another instance of this site's desire
	                                 * (lifecycle_sites.c): results go to the site's rows
	                                 * and the events; the shared prefix document is not
	                                 * rewritten (c->doc_hold) */
	const struct ipam_actor *who;   /* copied */
};

/*
 * Starts an advertise / withdraw. Always asynchronous: DONE is called exactly once from the
 * loop (possibly before this returns when everything is refused at once) with the outcome.
 */
void lifecycle_ctl_advertise(struct lifecycle_ctl *c, const struct lifecycle_ctl_req *r,
    lifecycle_ctl_done_fn done, void *arg);
void lifecycle_ctl_withdraw(struct lifecycle_ctl *c, const struct lifecycle_ctl_req *r,
    lifecycle_ctl_done_fn done, void *arg);

/*
 * `prefix associate` (issue 21): announce the provisioned prefix cidr from the provisioned ASN
 * asn instead of its pool's origin; asn 0 goes back to the pool's origin (disassociate). The
 * prefix must be provisioned (advertised or pending: "in-use", withdraw first; else
 * "not-provisioned"); asn must be provisioned ("asn-not-provisioned"), and with RTR data fresh
 * the prefix must be RPKI-valid for it ("rpki-invalid", "rpki-not-found"; "rpki-stale" while
 * the data is not fresh). Writes the row and an "associate" event. 0 or -1 with e.
 */
int lifecycle_ctl_associate(struct lifecycle_ctl *c, const struct ipam_actor *who,
    const struct cidr *cidr, uint32_t asn, struct err *e);

/* The origin BIRD must prepend for p: its associated ASN when that is not [bgp] origin_asn,
 * else 0 (the router's own AS originates it). */
uint32_t lifecycle_ctl_route_origin(const struct lifecycle_ctl *c,
    const struct lifecycle_prefix *p);

/* asn_in_use_fn (arg: the controller): 1 with why when a prefix is advertised (or on its way
 * up or down) from asn. */
int lifecycle_ctl_asn_in_use(void *arg, uint32_t asn, char *why, size_t len);

/* 0 when asn may originate public prefixes (proven, or [auth] allow_unproven_asn), else -1
 * with e "asn-not-provisioned" naming it. */
int lifecycle_ctl_origin_ok(const struct lifecycle_ctl *c, uint32_t asn, struct err *e);
/* The site this controller writes: the lease's, else [site] name. */
const char *lifecycle_ctl_site(const struct lifecycle_ctl *c);
/* One follow pass now (the 1 s timer runs it too): rows of the own site whose desire is not
 * applied yet (pending, or failed before the desire was last recorded) become advertise /
 * withdraw operations of this instance; their results are recorded per (prefix, site). */
void lifecycle_ctl_sites_follow(struct lifecycle_ctl *c);

/* Counters for metrics and status. */
struct lifecycle_ctl_stats {
	uint64_t rpki_alerts, stale_alerts, policy_withdrawals, apply_ok, apply_failed,
	    provisioned, provision_failed;
};
void lifecycle_ctl_get_stats(const struct lifecycle_ctl *c, struct lifecycle_ctl_stats *out);

#endif
