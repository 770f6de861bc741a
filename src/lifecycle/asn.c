/*
 * asn — the registry of public-scope AS numbers (contract, states and the story in asn.h).
 *
 * Persistence: one store document per ASN (kind "asn", key "AS<n>") holding every field of
 * struct asn_obj that is not memory-only; a transition writes the document and one event
 * (action "lifecycle", object "asn", no CIDR, the proof's evidence) in one store level.
 * The verifier's callback finds its row through its argument; rows are never freed before
 * asn_reg_free, which the daemon calls after authctx_drain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "asn.h"
#include "asnum.h"
#include "authctx.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

struct asn_reg {
	struct ev_loop *loop;
	struct store *store;
	struct authctx *auth;
	asn_in_use_fn in_use;
	void *in_use_arg;
	struct asn_obj **v;
	size_t n, cap;
	ev_timer tick;                  /* retries a verification the verifier had no room for */
	int following;                  /* asn_reg_follow is reading the rows */
};

static const struct ipam_actor asn_system = { "prefixd", "system", NULL };

/* ---- states ---------------------------------------------------------------------------- */

static const char *const asn_state_names[ASN_STATE_COUNT] = {
	"none", "pending-provision", "provisioned", "failed-provision", "pending-deprovision",
	"deprovisioned",
};

static const char *const asn_event_names[ASN_EVENT_COUNT] = {
	"provision", "verified", "verify-failed", "deprovision", "deprovisioned",
};

const char *
asn_state_name(enum asn_state st)
{
	return (unsigned)st < ASN_STATE_COUNT ? asn_state_names[st] : "unknown";
}

int
asn_state_parse(const char *s, enum asn_state *out)
{
	for (int i = 1; s != NULL && i < ASN_STATE_COUNT; i++)
		if (strcmp(s, asn_state_names[i]) == 0) {
			*out = (enum asn_state)i;
			return 0;
		}
	return -1;
}

int
asn_fsm(enum asn_state *st, enum asn_event ev, struct err *e)
{
	enum asn_state next = ASN_NONE;

	switch (ev) {
	case ASN_EV_PROVISION:
		if (*st == ASN_NONE || *st == ASN_FAILED_PROVISION || *st == ASN_DEPROVISIONED)
			next = ASN_PENDING_PROVISION;
		break;
	case ASN_EV_VERIFIED:
		if (*st == ASN_PENDING_PROVISION)
			next = ASN_PROVISIONED;
		break;
	case ASN_EV_VERIFY_FAILED:
		if (*st == ASN_PENDING_PROVISION)
			next = ASN_FAILED_PROVISION;
		break;
	case ASN_EV_DEPROVISION:
		if (*st == ASN_PROVISIONED)
			next = ASN_PENDING_DEPROVISION;
		break;
	case ASN_EV_DEPROVISIONED:
		if (*st == ASN_PENDING_DEPROVISION)
			next = ASN_DEPROVISIONED;
		break;
	case ASN_EVENT_COUNT:
		break;
	}
	if (next == ASN_NONE)
		return err_set(e, "invalid-state", "cannot %s an ASN in state %s",
		    (unsigned)ev < ASN_EVENT_COUNT ? asn_event_names[ev] : "?", asn_state_name(*st));
	*st = next;
	return 0;
}

/* ---- rows ------------------------------------------------------------------------------ */

struct asn_obj *
asn_find(struct asn_reg *r, uint32_t asn)
{
	for (size_t i = 0; r != NULL && i < r->n; i++)
		if (r->v[i]->asn == asn)
			return r->v[i];
	return NULL;
}

size_t
asn_count(const struct asn_reg *r)
{
	return r->n;
}

struct asn_obj *
asn_at(struct asn_reg *r, size_t i)
{
	return i < r->n ? r->v[i] : NULL;
}

void
asn_counts(const struct asn_reg *r, size_t counts[ASN_STATE_COUNT])
{
	memset(counts, 0, sizeof(size_t) * ASN_STATE_COUNT);
	for (size_t i = 0; i < r->n; i++)
		counts[r->v[i]->state]++;
}

bool
asn_is_provisioned(const struct asn_reg *r, uint32_t asn)
{
	for (size_t i = 0; r != NULL && i < r->n; i++)
		if (r->v[i]->asn == asn)
			return r->v[i]->state == ASN_PROVISIONED;
	return false;
}

static struct asn_obj *
asn_add(struct asn_reg *r, uint32_t asn)
{
	struct asn_obj *a = calloc(1, sizeof(*a));

	if (a == NULL)
		fatal("calloc");
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		if ((r->v = reallocarray(r->v, r->cap, sizeof(*r->v))) == NULL)
			fatal("reallocarray");
	}
	a->asn = asn;
	a->reg = r;
	a->evidence = json_object();
	a->history = json_array();
	r->v[r->n++] = a;
	return a;
}

static void
asn_obj_free(struct asn_obj *a)
{
	free(a->auth_message);
	free(a->auth_signature);
	json_decref(a->evidence);
	json_decref(a->history);
	free(a);
}

static json_t *
asn_str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
asn_json(const struct asn_obj *a)
{
	char name[ASNUM_STRLEN];

	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:O, s:O, s:I, s:I, s:o}",
	    "asn", (json_int_t)a->asn, "name", asnum_format(a->asn, name),
	    "state", asn_state_name(a->state),
	    "failure_reason", asn_str_or_null(a->failure_reason),
	    "message", asn_str_or_null(a->message), "evidence", a->evidence,
	    "history", a->history, "updated", (json_int_t)a->updated,
	    "provision_started", (json_int_t)a->provision_started,
	    "auth_message", asn_str_or_null(a->auth_message));
}

/* The stored document: the API's JSON plus the signature. */
static int
asn_save(struct asn_reg *r, const struct asn_obj *a, struct err *e)
{
	json_t *j = asn_json(a);
	char key[ASNUM_STRLEN], *doc;
	int rc;

	if (r->store == NULL) {
		json_decref(j);
		return 0;
	}
	json_object_set_new(j, "auth_signature", asn_str_or_null(a->auth_signature));
	if ((doc = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("out of memory");
	json_decref(j);
	rc = store_doc_put(r->store, "asn", asnum_format(a->asn, key), doc, e);
	free(doc);
	return rc;
}

static void
asn_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

static int
asn_row_load(void *arg, const char *key, const char *doc, struct err *e)
{
	struct asn_reg *r = arg;
	json_t *j = json_loads(doc, 0, NULL), *v;
	struct asn_obj *a;
	enum asn_state st;
	uint32_t asn;

	if (j == NULL || asnum_parse(key, 1, &asn, NULL) < 0 ||
	    asn_state_parse(json_string_value(json_object_get(j, "state")), &st) < 0) {
		json_decref(j);
		return err_set(e, "store-failed", "asn row %.32s is unreadable", key);
	}
	if ((a = asn_find(r, asn)) == NULL)
		a = asn_add(r, asn);
	else if (a->verifying || r->following == 0) {
		json_decref(j);         /* its own verification decides */
		return 0;
	}
	a->state = st;
	a->followed = r->following > 0 && st == ASN_PENDING_PROVISION;
	if ((v = json_object_get(j, "failure_reason")) && json_is_string(v))
		snprintf(a->failure_reason, sizeof(a->failure_reason), "%s", json_string_value(v));
	if ((v = json_object_get(j, "message")) && json_is_string(v))
		snprintf(a->message, sizeof(a->message), "%s", json_string_value(v));
	asn_set_str(&a->auth_message, json_string_value(json_object_get(j, "auth_message")));
	asn_set_str(&a->auth_signature, json_string_value(json_object_get(j, "auth_signature")));
	if ((v = json_object_get(j, "evidence")) && json_is_object(v)) {
		json_decref(a->evidence);
		a->evidence = json_incref(v);
	}
	if ((v = json_object_get(j, "history")) && json_is_array(v)) {
		json_decref(a->history);
		a->history = json_incref(v);
	}
	a->updated = json_integer_value(json_object_get(j, "updated"));
	a->provision_started = json_integer_value(json_object_get(j, "provision_started"));
	json_decref(j);
	return 0;
}

/* ---- transitions ----------------------------------------------------------------------- */

/* Keeps the last ASN_HISTORY_MAX transitions in the row. */
static void
asn_history_add(struct asn_obj *a, const struct ipam_actor *who, enum asn_state before)
{
	json_array_append_new(a->history, json_pack("{s:I, s:s, s:s, s:s, s:o}",
	    "time", (json_int_t)a->updated, "actor", who->actor ? who->actor : "?",
	    "before", asn_state_name(before), "after", asn_state_name(a->state),
	    "code", asn_str_or_null(a->failure_reason)));
	while (json_array_size(a->history) > ASN_HISTORY_MAX)
		json_array_remove(a->history, 0);
}

/* Applies ev, writes the row and its event in one store level; undone in memory on failure.
 * note (consumed, may be NULL) is the event's evidence and, under key, the row's. */
static int
asn_transition(struct asn_reg *r, struct asn_obj *a, enum asn_event ev,
    const struct ipam_actor *who, const char *key, json_t *note, struct err *e)
{
	enum asn_state before = a->state;
	struct store_event sev = { 0 };
	char b[64], aft[160], name[ASNUM_STRLEN], *evs = NULL;
	json_t *saved_history = json_deep_copy(a->history);
	int rc = 0;

	if (who == NULL)
		who = &asn_system;
	if (asn_fsm(&a->state, ev, e) < 0) {
		json_decref(note);
		json_decref(saved_history);
		return -1;
	}
	a->updated = (int64_t)time(NULL);
	if (key != NULL && note != NULL)
		json_object_set(a->evidence, key, note);
	asn_history_add(a, who, before);
	asnum_format(a->asn, name);
	snprintf(b, sizeof(b), "{\"asn\":\"%s\",\"state\":\"%s\"}", name, asn_state_name(before));
	snprintf(aft, sizeof(aft), "{\"asn\":\"%s\",\"state\":\"%s\",\"failure_reason\":%s%s%s}",
	    name, asn_state_name(a->state), a->failure_reason[0] ? "\"" : "",
	    a->failure_reason[0] ? a->failure_reason : "null", a->failure_reason[0] ? "\"" : "");
	if (r->store != NULL) {
		evs = note ? json_dumps(note, JSON_COMPACT) : NULL;
		sev.time = a->updated;
		sev.actor = who->actor;
		sev.role = who->role;
		sev.request_id = who->request_id;
		sev.action = "lifecycle";
		sev.object_kind = "asn";
		sev.before = b;
		sev.after = aft;
		sev.evidence = evs;
		if ((rc = store_begin(r->store, e)) == 0 && (rc = asn_save(r, a, e)) == 0 &&
		    (rc = store_event_append(r->store, &sev, e)) == 0)
			rc = store_commit(r->store, e);
		else if (store_in_txn(r->store))
			store_rollback(r->store, NULL);
		free(evs);
	}
	json_decref(note);
	if (rc < 0) {
		a->state = before;
		json_decref(a->history);
		a->history = saved_history;
		return -1;
	}
	json_decref(saved_history);
	log_info("asn %s: %s -> %s (%s)", name, asn_state_name(before), asn_state_name(a->state),
	    asn_event_names[ev]);
	return 0;
}

/* failed-provision with code and message. */
static void
asn_fail(struct asn_reg *r, struct asn_obj *a, const char *code, const char *msg,
    json_t *note)
{
	struct err e = { 0 };
	char name[ASNUM_STRLEN];

	snprintf(a->failure_reason, sizeof(a->failure_reason), "%s", code);
	snprintf(a->message, sizeof(a->message), "%s", msg);
	a->verifying = false;
	if (note == NULL)
		note = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (asn_transition(r, a, ASN_EV_VERIFY_FAILED, NULL, "auth", note, &e) < 0)
		log_warnx("asn %s: recording %s failed: %s", asnum_format(a->asn, name), code,
		    e.msg);
}

static void
asn_verify_done(struct authctx_result *res, void *arg)
{
	struct asn_obj *a = arg;
	struct asn_reg *r = a->reg;
	json_t *note = authctx_result_json(res);
	struct err e = { 0 };
	char name[ASNUM_STRLEN];

	a->verifying = false;
	if (a->state != ASN_PENDING_PROVISION) {
		json_decref(note);
	} else if (!res->ok) {
		asn_fail(r, a, res->err.code ? res->err.code : "signature-invalid", res->err.msg,
		    note);
	} else {
		a->failure_reason[0] = a->message[0] = '\0';
		if (asn_transition(r, a, ASN_EV_VERIFIED, NULL, "auth", note, &e) < 0)
			log_warnx("asn %s: recording the proof failed: %s",
			    asnum_format(a->asn, name), e.msg);
	}
	authctx_result_free(res);
}

/* Starts the proof; a full verifier leaves the row pending for the tick to retry. */
static void
asn_verify(struct asn_reg *r, struct asn_obj *a)
{
	char name[ASNUM_STRLEN];
	struct err e = { 0 };

	asnum_format(a->asn, name);
	if (a->auth_message == NULL || a->auth_signature == NULL) {
		asn_fail(r, a, "auth-malformed", "an ASN needs an authorization context "
		    "(auth_message and auth_signature)", NULL);
		return;
	}
	if (r->auth == NULL) {
		asn_fail(r, a, "rdap-unavailable", "no ownership verifier configured", NULL);
		return;
	}
	a->verifying = true;
	if (authctx_verify_start(r->auth, name, a->auth_message, a->auth_signature, time(NULL),
	    asn_verify_done, a, &e) < 0) {
		a->verifying = false;
		log_warnx("asn %s: verification not started (%s), retrying", name, e.msg);
	}
}

int
asn_provision(struct asn_reg *r, const struct ipam_actor *who, uint32_t asn,
    const char *auth_message, const char *auth_signature, struct asn_obj **out,
    struct err *e)
{
	struct asn_obj *a = asn_find(r, asn);
	char name[ASNUM_STRLEN];
	bool added = a == NULL;

	asnum_format(asn, name);
	if (a != NULL && a->state != ASN_FAILED_PROVISION && a->state != ASN_DEPROVISIONED)
		return err_set(e, "exists", "%s is already %s", name, asn_state_name(a->state));
	if (a == NULL)
		a = asn_add(r, asn);
	a->failure_reason[0] = a->message[0] = '\0';
	asn_set_str(&a->auth_message, auth_message);
	asn_set_str(&a->auth_signature, auth_signature);
	json_object_clear(a->evidence);
	a->provision_started = (int64_t)time(NULL);
	*out = a;
	if (asn_transition(r, a, ASN_EV_PROVISION, who, NULL, NULL, e) < 0) {
		if (added) {            /* never stored: forget it */
			r->n--;
			asn_obj_free(a);
			*out = NULL;
		}
		return -1;
	}
	asn_verify(r, a);
	if (a->state == ASN_FAILED_PROVISION)   /* refused before any fetch */
		return err_set(e, a->failure_reason, "%s", a->message);
	return 0;
}

int
asn_deprovision(struct asn_reg *r, const struct ipam_actor *who, uint32_t asn,
    struct err *e)
{
	struct asn_obj *a = asn_find(r, asn);
	char name[ASNUM_STRLEN], why[ERR_MSG_MAX - 64];

	asnum_format(asn, name);
	if (a == NULL || a->state != ASN_PROVISIONED)
		return err_set(e, "not-found", "%s is %s, not provisioned", name,
		    a ? asn_state_name(a->state) : "unknown");
	if (r->in_use != NULL && r->in_use(r->in_use_arg, asn, why, sizeof(why)))
		return err_set(e, "in-use", "%s is in use: %s", name, why);
	if (asn_transition(r, a, ASN_EV_DEPROVISION, who, NULL, NULL, e) < 0)
		return -1;
	return asn_transition(r, a, ASN_EV_DEPROVISIONED, who, NULL, NULL, e);
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void
asn_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct asn_reg *r = w->data;

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i]->state == ASN_PENDING_PROVISION && !r->v[i]->verifying &&
		    !r->v[i]->followed)
			asn_verify(r, r->v[i]);
}

struct asn_reg *
asn_reg_new(const struct asn_deps *deps)
{
	struct asn_reg *r = calloc(1, sizeof(*r));

	if (r == NULL)
		fatal("calloc");
	r->loop = deps->loop;
	r->store = deps->store;
	r->auth = deps->auth;
	if (r->loop != NULL) {
		ev_timer_init(&r->tick, asn_tick, 1., 1.);
		r->tick.data = r;
		ev_timer_start(r->loop, &r->tick);
		ev_unref(r->loop);      /* an idle registry does not keep the loop alive */
	}
	return r;
}

void
asn_reg_set_in_use(struct asn_reg *r, asn_in_use_fn fn, void *arg)
{
	r->in_use = fn;
	r->in_use_arg = arg;
}

int
asn_reg_load(struct asn_reg *r, struct err *e)
{
	if (r->store != NULL && store_doc_load(r->store, "asn", asn_row_load, r, e) < 0)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		struct asn_obj *a = r->v[i];

		if (a->state == ASN_PENDING_PROVISION)
			asn_verify(r, a);
		else if (a->state == ASN_PENDING_DEPROVISION &&
		    asn_transition(r, a, ASN_EV_DEPROVISIONED, NULL, NULL, NULL, e) < 0)
			return -1;
	}
	log_info("asn: %zu ASNs known", r->n);
	return 0;
}

int
asn_reg_follow(struct asn_reg *r, struct err *e)
{
	int rc;

	if (r->store == NULL)
		return 0;
	r->following++;
	rc = store_doc_load(r->store, "asn", asn_row_load, r, e);
	r->following--;
	return rc;
}

void
asn_reg_free(struct asn_reg *r)
{
	if (r == NULL)
		return;
	if (r->loop != NULL) {
		ev_ref(r->loop);
		ev_timer_stop(r->loop, &r->tick);
	}
	for (size_t i = 0; i < r->n; i++)
		asn_obj_free(r->v[i]);
	free(r->v);
	free(r);
}
