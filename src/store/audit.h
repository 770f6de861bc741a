/*
 * audit — the hash chain that makes the event log tamper-evident (issue: observability/audit).
 *
 * Every event row stores hash = SHA-256(prev_hash_hex || "\n" || canonical), where canonical is
 * the event's JSON with sorted keys and no insignificant white space (audit_canonical) and
 * prev_hash_hex is the previous event's hash (64 zeros before the first event). Ids are
 * consecutive from 1. A verifier walks the log in id order with audit_verify_step:
 *   - an edited event no longer hashes to its stored hash: that event is named;
 *   - a deleted event leaves a gap in the ids: the first missing id is named (and even if the
 *     ids were renumbered, the next event's hash would not match its new predecessor);
 *   - a truncated tail is caught by comparing the last hash with one kept elsewhere (the store
 *     keeps it in its meta table; a later step can publish it).
 * Who calls it: the store (append: compute the hash in the same transaction as the change) and
 * `audit verify`. Pure functions, no I/O.
 */
#ifndef PREFIXD_AUDIT_H
#define PREFIXD_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "store.h"

#define AUDIT_HASH_HEXLEN 64
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/*
 * The canonical form of one stored event, the text that is hashed: a JSON object with the
 * members action, actor, after, before, cidr, evidence, id, object_kind, request_id, role,
 * time in that (sorted) order, compact; absent values are null; before/after/evidence are
 * the stored JSON texts as strings, so that any edit of them changes the hash. Strings escape
 * '"', '\\' and bytes below 0x20 (\n, \t, ... or \u00XX) as jansson does; other bytes are
 * kept as they are (jansson would write \uXXXX for non-ASCII with JSON_ENSURE_ASCII). For ASCII text
 * this equals audit_canonical(audit_event_json(ev)); it is built without jansson because
 * every change pays for it. Caller frees. Never NULL (out of memory is fatal).
 */
char *audit_event_canonical(const struct store_event *ev);

/* A reusable text buffer for audit_event_canonical_into. */
struct audit_text {
	char *p;
	size_t len, cap;
};

/* The same canonical form, built into t (reused across calls, so a busy log does not malloc
 * per event); returns t->p, valid until the next call. audit_text_free releases it. */
const char *audit_event_canonical_into(const struct store_event *ev, struct audit_text *t);
void audit_text_free(struct audit_text *t);

/*
 * The same event as a JSON object: id, time, actor, role, request_id, action,
 * object_kind, cidr (text or null), before, after, evidence (the stored JSON texts as strings,
 * so that any edit of them changes the hash). Every member is present; absent values are
 * null. Caller owns the reference. NULL on allocation failure.
 */
json_t *audit_event_json(const struct store_event *ev);

/* The canonical text of an event object (sorted keys, compact, UTF-8). Caller frees. NULL on
 * allocation failure. */
char *audit_canonical(const json_t *event);

/* out = hex(SHA-256(prev || "\n" || canonical)); out has room for AUDIT_HASH_HEXLEN + 1. */
void audit_chain_hash(const char *prev, const char *canonical, char out[AUDIT_HASH_HEXLEN + 1]);

struct audit_verifier {
	char prev[AUDIT_HASH_HEXLEN + 1];   /* hash of the last verified event */
	uint64_t last_id;                   /* id of the last verified event, 0 before the first */
	uint64_t count;                     /* events verified */
};

void audit_verifier_init(struct audit_verifier *v);

/*
 * Verifies the next event in id order. Returns 0, or -1 with e: "audit-broken" naming the id
 * of the first event that does not check (edited, or the id after a gap: "event 42 is missing").
 */
int audit_verify_step(struct audit_verifier *v, uint64_t id, const char *canonical,
    const char *stored_hash, struct err *e);

/* audit_verify_step on a stored event (its canonical form and its stored hash): what each
 * store backend's verify walk calls per event. */
int audit_verify_event(struct audit_verifier *v, const struct store_event *ev, struct err *e);

/*
 * After the walk: the chain head kept by the store (head_id, head hash) must be the last
 * verified event. Returns 0, or -1 with e "audit-broken": events missing at the end (a
 * truncated tail) or a last event that is not the head.
 */
int audit_verify_head(const struct audit_verifier *v, uint64_t head_id, const char *head,
    struct err *e);

#endif
