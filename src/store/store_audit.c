/*
 * store_audit — the keyed audit chain on any backend (store.h "Audit chain", audit.h,
 * audit_key.h): at start, store_audit_key checks that the store's chain and the configured key
 * agree and writes the switch event when a key meets a chain that is not keyed yet; after every
 * outermost COMMIT the backends call store_audit_published, which writes the head outside the
 * store (over the start of a file opened once, audit_key.h); store_audit_verify hands the key
 * and the published head to the backend's walk.
 *
 * What the store remembers of the key is the document ("audit", "chain"):
 * {"key_id": ID, "keyed_from": EVENT}. It only serves the start checks (a daemon without the
 * key, or with another key, refuses the store); `audit verify` trusts the events, not it.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "audit_key.h"
#include "log.h"

#define STORE_AUDIT_DOC_KIND "audit"
#define STORE_AUDIT_DOC_KEY "chain"

struct store_audit_doc {
	bool keyed;
	char key_id[AUDIT_KEY_ID_HEXLEN + 1];
	uint64_t from;
};

static int
store_audit_doc_cb(void *arg, const char *key, const char *doc, struct err *e)
{
	struct store_audit_doc *d = arg;
	json_t *j;
	const char *id = NULL;
	json_int_t from = 0;

	if (strcmp(key, STORE_AUDIT_DOC_KEY) != 0)
		return 0;
	j = json_loads(doc, 0, NULL);
	if (j == NULL || json_unpack(j, "{s:s,s:I}", "key_id", &id, "keyed_from", &from) != 0 ||
	    strlen(id) != AUDIT_KEY_ID_HEXLEN || from < 1) {
		json_decref(j);
		return err_set(e, "audit-broken", "the store's audit chain document is malformed");
	}
	d->keyed = true;
	memcpy(d->key_id, id, sizeof(d->key_id));
	d->from = (uint64_t)from;
	json_decref(j);
	return 0;
}

/* Writes the switch event and the document in one transaction (audit.h). */
static int
store_audit_switch(struct store *st, const struct audit_key *k, struct err *e)
{
	struct store_event ev = { 0 };
	char evid[64], doc[96];

	snprintf(evid, sizeof(evid), "{\"key_id\":\"%s\"}", k->id);
	ev.time = (int64_t)time(NULL);
	ev.actor = "prefixd";
	ev.role = "system";
	ev.action = AUDIT_KEYED_ACTION;
	ev.object_kind = AUDIT_KEYED_KIND;
	ev.evidence = evid;
	if (store_begin(st, e) != 0)
		return -1;
	if (store_event_append(st, &ev, e) != 0)
		goto fail;
	snprintf(doc, sizeof(doc), "{\"key_id\":\"%s\",\"keyed_from\":%" PRIu64 "}", k->id, ev.id);
	if (ev.id != 0 && store_doc_put(st, STORE_AUDIT_DOC_KIND, STORE_AUDIT_DOC_KEY, doc, e) != 0)
		goto fail;
	if (store_commit(st, e) != 0)
		return -1;
	log_info("audit chain: keyed with key %s from event %" PRIu64, k->id, ev.id);
	return 0;
fail:
	store_rollback(st, NULL);
	return -1;
}

/* The event at id, for the start check of the published head. */
struct store_audit_at {
	uint64_t id;
	char hash[AUDIT_HASH_HEXLEN + 1];
};

static int
store_audit_at_cb(void *arg, const struct store_event *ev)
{
	struct store_audit_at *a = arg;

	a->id = ev->id;
	snprintf(a->hash, sizeof(a->hash), "%s", ev->hash != NULL ? ev->hash : "");
	return 0;
}

/*
 * At start: the published head must name an event the store still has, with that link. A
 * mismatch is logged, not fatal (the daemon keeps serving; `audit verify` keeps answering
 * broken), and the file is then never overwritten, so the evidence stays.
 */
static void
store_audit_head_start(struct store *st)
{
	struct store_audit_at at = { 0 };
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t id = 0;
	struct err e;
	int rc;

	err_clear(&e);
	rc = audit_head_read(st->audit_head, st->audit_key, &id, hash, &e);
	if (rc == 1) {
		log_info("audit chain: no head published in %s yet (from now on, every commit)",
		    st->audit_head);
		return;
	}
	if (rc == 0 && store_events_after(st, id - 1, 1, store_audit_at_cb, &at, &e) == 0 &&
	    at.id == id && strcmp(at.hash, hash) == 0) {
		st->audit_published = id;
		return;
	}
	st->audit_published = UINT64_MAX;
	if (rc == 0 && e.code == NULL)
		log_error("audit chain broken: event %" PRIu64 " was published in %s but the store "
		    "%s (events cut or rewritten); `prefixctl audit verify` names the first bad "
		    "event. The file is kept as evidence: remove it and restart to accept the store "
		    "as it is",
		    id, st->audit_head, at.id == id ? "has another link there" : "does not have it");
	else
		log_error("audit chain broken: %s; the file is kept as evidence: remove it and "
		    "restart to accept the store as it is", e.msg);
}

int
store_audit_key(struct store *st, const struct audit_key *k, const char *head_path,
    struct err *e)
{
	struct store_audit_doc d = { 0 };
	int fd;

	if (store_doc_load(st, STORE_AUDIT_DOC_KIND, store_audit_doc_cb, &d, e) != 0)
		return -1;
	if (k == NULL) {
		if (d.keyed)
			return err_set(e, "conf-invalid", "the audit chain is keyed with key %s since "
			    "event %" PRIu64 ": set [daemon] audit_key_file to that key's file",
			    d.key_id, d.from);
		log_info("audit chain: unkeyed (it shows accidental damage, not an edit by someone "
		    "who can write the store; set [daemon] audit_key_file)");
		return 0;
	}
	if (d.keyed && strcmp(d.key_id, k->id) != 0)
		return err_set(e, "conf-invalid", "the audit chain is keyed with key %s since event "
		    "%" PRIu64 ", but [daemon] audit_key_file holds key %s (a chain keeps its key)",
		    d.key_id, d.from, k->id);
	if (st->audit_head != NULL)
		return err_set(e, "store-failed", "store_audit_key: called twice");
	if ((fd = audit_head_open(head_path, e)) < 0)
		return -1;
	if ((st->audit_head = strdup(head_path)) == NULL)
		fatal("store: out of memory");
	st->audit_head_fd = fd;
	st->audit_key = k;
	store_audit_head_start(st);
	if (!d.keyed)
		return store_audit_switch(st, k, e);
	log_info("audit chain: keyed with key %s since event %" PRIu64, k->id, d.from);
	return 0;
}

void
store_audit_published(struct store *st, uint64_t id, const char *hash)
{
	struct err e;

	if (st->audit_key == NULL || st->audit_head == NULL || id <= st->audit_published ||
	    st->audit_published == UINT64_MAX)
		return;
	err_clear(&e);
	if (audit_head_write(st->audit_head_fd, st->audit_key, id, hash, &e) != 0) {
		log_error("audit chain: %s (the published head stays at event %" PRIu64 ")", e.msg,
		    st->audit_published);
		return;
	}
	st->audit_published = id;
}

int
store_audit_verify(struct store *st, struct audit_verifier *v, struct err *e)
{
	int rc;

	audit_verifier_init(v);
	v->key = st->audit_key;
	if (st->audit_key == NULL || st->audit_head == NULL)
		return st->ops->audit_verify(st, v, e);
	if (audit_head_replaced(st->audit_head_fd, st->audit_head))
		return err_set(e, "audit-broken", "the published audit head %s was removed or "
		    "replaced behind the daemon's back", st->audit_head);
	if ((rc = audit_head_read(st->audit_head, st->audit_key, &v->pub_id, v->pub, e)) < 0)
		return -1;
	if (rc == 1 && st->audit_published != 0 && st->audit_published != UINT64_MAX)
		return err_set(e, "audit-broken", "the published audit head %s was emptied (this "
		    "daemon wrote event %" PRIu64 " to it)", st->audit_head, st->audit_published);
	return st->ops->audit_verify(st, v, e);
}
