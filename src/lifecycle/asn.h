/*
 * asn — AS numbers of the public scope (issue 21, "bring your own ASN"): an owner proves an ASN
 * the way it proves a prefix (authctx, SPEC §4) before prefixd announces anything from it.
 *
 * Who calls it: src/prefixd.c creates the registry (asn_reg_new) with the store and the
 * verifier, tells it who may still use an ASN (asn_reg_set_in_use: the lifecycle's advertised
 * prefixes) and loads it (asn_reg_load); src/api/api_asn.c turns requests into the calls below;
 * the lifecycle asks asn_is_provisioned() before it provisions, associates or advertises.
 * It owns one row per ASN ever provisioned (never removed: a deprovisioned ASN keeps its
 * history), stored as a store document (kind "asn", key "AS<n>") with every transition written
 * with an event (object "asn", before/after states, the proof's evidence) in one transaction;
 * the document also keeps the last ASN_HISTORY_MAX transitions, which `prefixctl asn show`
 * prints (the event log is indexed by address, an ASN has none).
 *
 *                  PROVISION                     VERIFIED
 *   none, failed-provision, ──────> pending-provision ──────> provisioned
 *   deprovisioned                        │                       │ DEPROVISION (not in use)
 *                          VERIFY_FAILED v                       v
 *                                 failed-provision       pending-deprovision
 *                                                                │ DEPROVISIONED
 *                                                                v
 *                                                          deprovisioned
 *
 * Provisioning is asynchronous like a prefix's: the call writes pending-provision and starts the
 * verifier (subject "AS<n>": message 1|issuer|owner|AS<n>|date|SHA256|RSAPSS, certificate from
 * the autnum RDAP record); the verdict arrives on the loop: provisioned, or failed-provision
 * with the proof's code (auth-*, cert-*, signature-invalid, rdap-unavailable). A restart
 * resumes pending states (verification again; a deprovision finishes). Deprovisioning is
 * refused "in-use" while the in-use callback names a user (an advertised prefix).
 */
#ifndef PREFIXD_ASN_H
#define PREFIXD_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ipam.h"

struct ev_loop;
struct store;
struct authctx;
struct asn_reg;

#define ASN_HISTORY_MAX 32

enum asn_state {
	ASN_NONE,
	ASN_PENDING_PROVISION,
	ASN_PROVISIONED,
	ASN_FAILED_PROVISION,
	ASN_PENDING_DEPROVISION,
	ASN_DEPROVISIONED,
	ASN_STATE_COUNT
};

enum asn_event {
	ASN_EV_PROVISION,
	ASN_EV_VERIFIED,
	ASN_EV_VERIFY_FAILED,
	ASN_EV_DEPROVISION,
	ASN_EV_DEPROVISIONED,
	ASN_EVENT_COUNT
};

const char *asn_state_name(enum asn_state st);
int asn_state_parse(const char *s, enum asn_state *out);
/* The one transition function; an illegal event is "invalid-state" (message names both). */
int asn_fsm(enum asn_state *st, enum asn_event ev, struct err *e);

/* One ASN. Read-only for callers. */
struct asn_obj {
	uint32_t asn;
	enum asn_state state;
	char failure_reason[48];
	char message[ERR_MSG_MAX];
	char *auth_message, *auth_signature;
	json_t *evidence;               /* {"auth": the verifier's result} */
	json_t *history;                /* [{"time","actor","before","after","code"}] */
	int64_t updated, provision_started;
	bool verifying;                 /* memory only: authctx running */
	bool followed;                  /* memory only: pending at another instance, which
	                                 * verifies it (asn_reg_follow) */
	struct asn_reg *reg;
};

/* Who still uses asn: 1 with why filled ("203.0.113.0/24 is advertised from AS64500"), else
 * 0. Given by the daemon; the registry never names the lifecycle. */
typedef int (*asn_in_use_fn)(void *arg, uint32_t asn, char *why, size_t len);

struct asn_deps {
	struct ev_loop *loop;
	struct store *store;            /* NULL: memory only (tests) */
	struct authctx *auth;           /* NULL: every proof fails rdap-unavailable */
};

struct asn_reg *asn_reg_new(const struct asn_deps *deps);
void asn_reg_set_in_use(struct asn_reg *r, asn_in_use_fn fn, void *arg);
/* Loads the rows and resumes pending states. 0 or -1 with e. */
int asn_reg_load(struct asn_reg *r, struct err *e);
/* Several instances on one store: every ASN row is read again (called by the lifecycle's
 * follower when the change feed names an "asn" document) and memory takes the stored fields
 * of each ASN it is not verifying itself; an ASN pending at another instance is not verified
 * here (that instance does it). 0 or -1 with e. */
int asn_reg_follow(struct asn_reg *r, struct err *e);
/* Call after authctx_drain (callbacks hold rows). NULL is a no-op. */
void asn_reg_free(struct asn_reg *r);

struct asn_obj *asn_find(struct asn_reg *r, uint32_t asn);
size_t asn_count(const struct asn_reg *r);
struct asn_obj *asn_at(struct asn_reg *r, size_t i);
void asn_counts(const struct asn_reg *r, size_t counts[ASN_STATE_COUNT]);
/* True when asn is provisioned (false for a NULL registry). */
bool asn_is_provisioned(const struct asn_reg *r, uint32_t asn);

/*
 * Provisioning (inside the caller's transaction, if any). Returns 0 with *out in
 * pending-provision, or -1 with e: "exists" (pending or provisioned already), "auth-malformed"
 * (no message or signature: recorded as failed-provision, *out set), "store-failed".
 */
int asn_provision(struct asn_reg *r, const struct ipam_actor *who, uint32_t asn,
    const char *auth_message, const char *auth_signature, struct asn_obj **out,
    struct err *e);

/* Deprovisioning: "not-found" unless provisioned, "in-use" while the callback names a user.
 * Leaves the row deprovisioned. */
int asn_deprovision(struct asn_reg *r, const struct ipam_actor *who, uint32_t asn,
    struct err *e);

/* The ASN as the API's JSON: {"asn","name","state","failure_reason","message","evidence",
 * "history","updated","provision_started","auth_message"}. New reference. */
json_t *asn_json(const struct asn_obj *a);

#endif
