/*
 * audit — the hash chain that makes the event log tamper-evident (issue: observability/audit,
 * issue 15 finding 7: the keyed chain).
 *
 * Every event row stores a link: hash = LINK(prev_hash_hex || "\n" || canonical), where
 * canonical is the event's JSON with sorted keys and no insignificant white space
 * (audit_canonical) and prev_hash_hex is the previous event's hash (64 zeros before the first
 * event). Ids are consecutive from 1. LINK is
 *   - unkeyed: SHA-256 (audit_chain_hash). Anyone who can write the store can re-hash the
 *     chain after an edit, so an unkeyed chain proves only that nothing was damaged by
 *     accident. This is what a daemon without [daemon] audit_key_file writes (the default:
 *     a key generated into the state directory would sit beside the SQLite file it is meant
 *     to protect, and on PostgreSQL each instance would invent a different one);
 *   - keyed: HMAC-SHA256 with the key of [daemon] audit_key_file (audit_chain_hmac), a key
 *     kept outside the store: without it, an edited event cannot be re-linked.
 * A chain switches from unkeyed to keyed once, at an event with action "audit-keyed" and
 * object_kind "audit" (AUDIT_KEYED_ACTION), itself keyed: it links the whole unkeyed segment
 * before it (a later re-hash of that segment breaks it), and every event after it is keyed.
 * The switch is written by store_audit_key when a daemon with a key opens a store that is not
 * keyed yet (a new store: event 1). A verifier walks the log in id order with
 * audit_verify_event / audit_verify_step:
 *   - an edited event no longer links to its stored hash: that event is named;
 *   - a deleted event leaves a gap in the ids: the first missing id is named (and even if the
 *     ids were renumbered, the next event's hash would not match its new predecessor);
 *   - a truncated tail is caught by comparing the last event with the head kept in the store
 *     (its meta table: the store's own view) and, with a key, with the head published outside
 *     the store (audit_key.h: a MAC'd file written after every commit), which names the first
 *     event cut even when the store's head was moved back with the log;
 *   - with a key, a chain with no keyed event (re-hashed whole, the switch removed) is broken.
 * Who calls it: the store (append: compute the link in the same transaction as the change) and
 * `audit verify`. Pure functions, no I/O (the key file and the published head: audit_key.c).
 */
#ifndef PREFIXD_AUDIT_H
#define PREFIXD_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "store.h"

#define AUDIT_HASH_HEXLEN 64
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* The event that switches a chain to keyed links (see above). */
#define AUDIT_KEYED_ACTION "audit-keyed"
#define AUDIT_KEYED_KIND "audit"

/* [daemon] audit_key_file: at least AUDIT_KEY_MIN bytes (any bytes: raw or hex text). */
#define AUDIT_KEY_MIN 32
#define AUDIT_KEY_MAX 1024
#define AUDIT_KEY_ID_HEXLEN 16

/* A loaded key and its id: the first 8 bytes (hex) of HMAC(key, "prefixd audit key id"),
 * which names the key in events and messages without revealing it. */
struct audit_key {
	unsigned char k[AUDIT_KEY_MAX];
	size_t len;
	char id[AUDIT_KEY_ID_HEXLEN + 1];
};

/* Sets k to the len bytes at b (len within AUDIT_KEY_MIN..AUDIT_KEY_MAX) and computes its id. */
void audit_key_set(struct audit_key *k, const void *b, size_t len);

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
/* out = hex(HMAC-SHA256(key, prev || "\n" || canonical)): the keyed link. */
void audit_chain_hmac(const struct audit_key *k, const char *prev, const char *canonical,
    char out[AUDIT_HASH_HEXLEN + 1]);
/* The link a store writes: keyed when k is not NULL, else audit_chain_hash. */
void audit_chain_link(const struct audit_key *k, const char *prev, const char *canonical,
    char out[AUDIT_HASH_HEXLEN + 1]);
/* out = hex(HMAC-SHA256(key, text)) (the published head's MAC, the key id). */
void audit_mac(const struct audit_key *k, const char *text, char out[AUDIT_HASH_HEXLEN + 1]);

struct audit_verifier {
	char prev[AUDIT_HASH_HEXLEN + 1];   /* hash of the last verified event */
	uint64_t last_id;                   /* id of the last verified event, 0 before the first */
	uint64_t count;                     /* events verified */
	const struct audit_key *key;        /* the daemon's key; NULL: none configured */
	uint64_t keyed_from;                /* the switch event (links keyed from here); 0: none */
	uint64_t pub_id;                    /* head published outside the store; 0: none */
	char pub[AUDIT_HASH_HEXLEN + 1];
};

/* An empty verifier: no key, nothing published (set key, pub_id and pub after it). */
void audit_verifier_init(struct audit_verifier *v);

/*
 * Verifies the next event in id order, with the link the chain has reached (keyed after the
 * switch). Returns 0, or -1 with e: "audit-broken" naming the id of the first event that does
 * not check (edited, or the id after a gap: "event 42 is missing", or not the published head).
 */
int audit_verify_step(struct audit_verifier *v, uint64_t id, const char *canonical,
    const char *stored_hash, struct err *e);

/* audit_verify_step on a stored event (its canonical form and its stored hash): what each
 * store backend's verify walk calls per event. It also recognises the switch event (keyed;
 * broken when the verifier has no key). */
int audit_verify_event(struct audit_verifier *v, const struct store_event *ev, struct err *e);

/*
 * After the walk: the chain head kept by the store (head_id, head hash) must be the last
 * verified event, the published head (pub_id) must not lie beyond it, and with a key the
 * chain must have reached its keyed segment. Returns 0, or -1 with e "audit-broken": events
 * missing at the end (a truncated tail, named by its first id), a last event that is not the
 * head, or a chain with a key configured and no keyed event.
 */
int audit_verify_head(const struct audit_verifier *v, uint64_t head_id, const char *head,
    struct err *e);

#endif
