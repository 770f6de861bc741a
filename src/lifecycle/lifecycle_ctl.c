/*
 * lifecycle_ctl — rows, persistence, transitions, provisioning and RPKI re-validation of the
 * public-prefix controller (the contract and the whole story are in lifecycle_ctl.h; the
 * advertise / withdraw operations live in lifecycle_ops.c).
 *
 * Persistence: one store document per prefix (kind "prefix", key the canonical CIDR) holding
 * every field of struct lifecycle_prefix that is not marked memory-only. A transition writes
 * the document and one event ("lifecycle", object "prefix", before/after states, evidence)
 * inside one store level, so `prefixctl history CIDR` shows the lifecycle with its evidence.
 *
 * Asynchronous callbacks find the controller through their argument (rtr, birdc: the
 * controller; authctx: the prefix, whose `ctl` names its controller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "asn.h"
#include "authctx.h"
#include "bird.h"
#include "conf.h"
#include "failpoint.h"
#include "lifecycle_private.h"
#include "log.h"
#include "obs.h"
#include "ptree.h"
#include "rpki.h"
#include "store.h"
#include "xmalloc.h"

static const struct ipam_actor lc_system = { "prefixd", "system", NULL };

static void lc_verify(struct lifecycle_ctl *c, struct lifecycle_prefix *p);

int64_t
lc_now(void)
{
	return (int64_t)time(NULL);
}

bool
lc_bird_up(const struct lifecycle_ctl *c)
{
	return bird_is_up(c->bird);
}

size_t
lc_count_state(const struct lifecycle_ctl *c, enum lifecycle_state st)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->v[i]->state == st;
	return n;
}

/* ---- rows ---------------------------------------------------------------------------- */

/* The index of c->v by CIDR: a request of 1,000 prefixes looked each one up in every row
 * (a million comparisons; with the feed's rows, several million per batch). */
static struct ptree **
lc_idx(struct lifecycle_ctl *c, const struct cidr *p)
{
	int i = p->family == CIDR_V4 ? 0 : 1;

	if (c->idx[i] == NULL)
		c->idx[i] = ptree_new(p->family, 0);
	return &c->idx[i];
}

/* Rebuilds the index after c->v was cut (lc_reload). */
static void
lc_idx_rebuild(struct lifecycle_ctl *c)
{
	for (int i = 0; i < 2; i++) {
		ptree_free(c->idx[i]);
		c->idx[i] = NULL;
	}
	for (size_t i = 0; i < c->n; i++)
		(void)ptree_insert(*lc_idx(c, &c->v[i]->cidr), &c->v[i]->cidr, c->v[i]);
}

struct lifecycle_prefix *
lifecycle_ctl_find(struct lifecycle_ctl *c, const struct cidr *p)
{
	void *v;

	return ptree_find(*lc_idx(c, p), p, &v) ? v : NULL;
}

size_t
lifecycle_ctl_count(const struct lifecycle_ctl *c)
{
	return c->n;
}

struct lifecycle_prefix *
lifecycle_ctl_at(struct lifecycle_ctl *c, size_t i)
{
	return i < c->n ? c->v[i] : NULL;
}

void
lifecycle_ctl_counts(const struct lifecycle_ctl *c, size_t *counts)
{
	memset(counts, 0, sizeof(size_t) * LIFECYCLE_STATE_COUNT);
	for (size_t i = 0; i < c->n; i++)
		counts[c->v[i]->state]++;
}

void
lifecycle_ctl_get_stats(const struct lifecycle_ctl *c, struct lifecycle_ctl_stats *out)
{
	*out = c->stats;
}

static struct lifecycle_prefix *
lc_add(struct lifecycle_ctl *c, const struct cidr *cidr)
{
	struct lifecycle_prefix *p = calloc(1, sizeof(*p));

	if (p == NULL)
		fatal("calloc");
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		if ((c->v = realloc(c->v, c->cap * sizeof(*c->v))) == NULL)
			fatal("realloc");
	}
	p->cidr = *cidr;
	p->ctl = c;
	p->evidence = json_object();
	c->v[c->n++] = p;
	(void)ptree_insert(*lc_idx(c, cidr), cidr, p);  /* a CIDR twice: the first is found */
	return p;
}

static void
lc_prefix_free(struct lifecycle_prefix *p)
{
	free(p->auth_message);
	free(p->auth_signature);
	json_decref(p->evidence);
	json_decref(p->auth_seen);
	free(p->auth_text);
	free(p);
}

static json_t *
lc_str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
lifecycle_ctl_prefix_json(const struct lifecycle_prefix *p)
{
	char buf[CIDR_STRLEN];
	json_t *allow = json_array();

	for (size_t i = 0; i < p->n_allow; i++)
		json_array_append_new(allow, json_integer(p->allow_origin[i]));
	return json_pack("{s:s, s:s, s:I, s:o, s:s, s:o, s:o, s:O, s:o, s:I, s:I, s:I, s:o, s:o}",
	    "cidr", cidr_format(&p->cidr, buf, sizeof(buf)), "pool", p->pool,
	    "origin_asn", (json_int_t)p->origin_asn,
	    "associated_asn", p->associated_asn ? json_integer(p->associated_asn) : json_null(),
	    "state", lifecycle_state_name(p->state),
	    "failure_reason", lc_str_or_null(p->failure_reason),
	    "message", lc_str_or_null(p->message), "evidence", p->evidence,
	    "allow_origin", allow, "last_change", (json_int_t)p->last_change,
	    "updated", (json_int_t)p->updated, "provision_started",
	    (json_int_t)p->provision_started,
	    "drain_until", p->drain_until ? json_integer(p->drain_until) : json_null(),
	    "auth_message", lc_str_or_null(p->auth_message));
}

/* Writes s (a json_dumps result; NULL: out of memory) to f and frees it. */
static void
lc_put(FILE *f, char *s)
{
	if (s == NULL)
		fatalx("out of memory");
	fputs(s, f);
	free(s);
}

/*
 * The stored document: the API's JSON plus the signature, evidence last. The evidence's
 * "auth" member (the ownership proof's checks and the RDAP record it was checked against,
 * most of a document's 4 KB) is set once per verification and never changed in place
 * (lc_verify_done, lc_row_fill put a new object), so its text is kept with a reference to the
 * object it was made from and written again as long as that object is the member: every
 * transition saves the document, and encoding the RDAP record each time was a third of the
 * daemon's CPU while 1,000 prefixes were advertised (tests/bench/bench_sites.sh).
 */
static char *
lc_doc(const struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	json_t *j = lifecycle_ctl_prefix_json(p), *v;
	const char *key;
	char *s, *out = NULL;
	size_t len;
	bool first = true;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		fatal("open_memstream");
	json_object_set_new(j, "auth_signature", lc_str_or_null(p->auth_signature));
	if (c->lease != NULL)           /* whose state "state" is: lc_row_state */
		json_object_set_new(j, "site", json_string(lifecycle_ctl_site(c)));
	json_object_del(j, "evidence");
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("out of memory");
	json_decref(j);
	s[strlen(s) - 1] = '\0';               /* its closing brace: the evidence follows */
	lc_put(f, s);
	fputs(",\"evidence\":{", f);
	json_object_foreach(p->evidence, key, v) {
		if (!first)
			fputc(',', f);
		first = false;
		j = json_string(key);
		lc_put(f, json_dumps(j, JSON_ENCODE_ANY));
		json_decref(j);
		fputc(':', f);
		if (strcmp(key, "auth") != 0) {
			lc_put(f, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
			continue;
		}
		if (p->auth_seen != v) {
			json_decref(p->auth_seen);
			free(p->auth_text);
			p->auth_seen = json_incref(v);
			if ((p->auth_text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
				fatalx("out of memory");
		}
		fputs(p->auth_text, f);
	}
	fputs("}}", f);
	if (ferror(f) || fclose(f) != 0)
		fatalx("out of memory");
	return out;
}

/* SITED: the save records a change of the routing state at this site only (with sites: the
 * feed marks it, and the other instances, which keep their own site's state, skip it:
 * lc_feed_change). */
static int
lc_save_as(struct lifecycle_ctl *c, struct lifecycle_prefix *p, bool sited, struct err *e)
{
	char key[CIDR_STRLEN], *doc;
	int rc;

	if (c->store == NULL || c->doc_hold)
		return 0;
	doc = lc_doc(c, p);
	cidr_format(&p->cidr, key, sizeof(key));
	rc = sited && c->lease != NULL ? store_doc_put_sited(c->store, "prefix", key, doc, e) :
	    store_doc_put(c->store, "prefix", key, doc, e);
	free(doc);
	return rc;
}

int
lc_save(struct lifecycle_ctl *c, struct lifecycle_prefix *p, struct err *e)
{
	return lc_save_as(c, p, false, e);
}

static void
lc_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

/* Sets p's stored fields from its document j (state already parsed into st). */
static void
lc_row_fill(struct lifecycle_prefix *p, json_t *j, enum lifecycle_state st)
{
	json_t *v;
	size_t i;

	p->state = st;
	p->failure_reason[0] = p->message[0] = '\0';
	snprintf(p->pool, sizeof(p->pool), "%s", json_string_value(json_object_get(j, "pool")) ?
	    json_string_value(json_object_get(j, "pool")) : "");
	p->origin_asn = (uint32_t)json_integer_value(json_object_get(j, "origin_asn"));
	p->associated_asn = (uint32_t)json_integer_value(json_object_get(j, "associated_asn"));
	if ((v = json_object_get(j, "failure_reason")) && json_is_string(v))
		snprintf(p->failure_reason, sizeof(p->failure_reason), "%s", json_string_value(v));
	if ((v = json_object_get(j, "message")) && json_is_string(v))
		snprintf(p->message, sizeof(p->message), "%s", json_string_value(v));
	lc_set_str(&p->auth_message, json_string_value(json_object_get(j, "auth_message")));
	lc_set_str(&p->auth_signature, json_string_value(json_object_get(j, "auth_signature")));
	if ((v = json_object_get(j, "evidence")) && json_is_object(v)) {
		json_decref(p->evidence);
		p->evidence = json_incref(v);
	}
	p->last_change = json_integer_value(json_object_get(j, "last_change"));
	p->updated = json_integer_value(json_object_get(j, "updated"));
	p->provision_started = json_integer_value(json_object_get(j, "provision_started"));
	p->drain_until = json_integer_value(json_object_get(j, "drain_until"));
	p->n_allow = 0;
	json_array_foreach(json_object_get(j, "allow_origin"), i, v)
		if (p->n_allow < LIFECYCLE_CTL_MAX_ALLOW)
			p->allow_origin[p->n_allow++] = (uint32_t)json_integer_value(v);
}

/* True for the states that say where the prefix is routed: each site's own business. */
static bool
lc_state_sited(enum lifecycle_state st)
{
	return st == LIFECYCLE_PROVISIONED || st == LIFECYCLE_PENDING_ADVERTISE ||
	    st == LIFECYCLE_ADVERTISED || st == LIFECYCLE_PENDING_WITHDRAW;
}

/*
 * The state a stored document gives this instance. With sites, a document's routing state
 * is the state at the site that wrote it (lc_doc names it): written at another site, it says
 * nothing of this one, which starts from provisioned and takes its own state from its row
 * in the store (lc_sites_adopt). Taken as is, a prefix advertised at edge1 only came up
 * advertised at a restarted edge2, whose reconciler then announced it there
 * (tests/integration/test_sites_restart.sh). A document naming no site (written before
 * sites, or without them) keeps its state: mapping it would withdraw at an upgrade.
 */
static enum lifecycle_state
lc_row_state(const struct lifecycle_ctl *c, const json_t *j, enum lifecycle_state st)
{
	const char *site = json_string_value(json_object_get(j, "site"));

	if (c->lease == NULL || site == NULL || strcmp(site, lifecycle_ctl_site(c)) == 0 ||
	    !lc_state_sited(st))
		return st;
	return LIFECYCLE_PROVISIONED;
}

/* Parses one stored row; j and st are set on success. */
static int
lc_row_parse(const char *key, const char *doc, struct cidr *cidr, json_t **j,
    enum lifecycle_state *st, struct err *e)
{
	if ((*j = json_loads(doc, 0, NULL)) == NULL || cidr_parse(key, cidr, e) < 0 ||
	    lifecycle_state_parse(json_string_value(json_object_get(*j, "state")), st) < 0) {
		json_decref(*j);
		return err_set(e, "store-failed", "prefix row %s is unreadable", key);
	}
	return 0;
}

static int
lc_row_load(void *arg, const char *key, const char *doc, struct err *e)
{
	struct lifecycle_ctl *c = arg;
	enum lifecycle_state st;
	struct cidr cidr;
	json_t *j;

	if (lc_row_parse(key, doc, &cidr, &j, &st, e) < 0)
		return -1;
	lc_row_fill(lc_add(c, &cidr), j, lc_row_state(c, j, st));
	json_decref(j);
	return 0;
}

/* ---- transitions --------------------------------------------------------------------- */

static void
lc_event_write(struct lifecycle_ctl *c, struct lifecycle_prefix *p, const char *action,
    const struct ipam_actor *who, const char *before, const char *after, json_t *evidence,
    struct err *e, int *rc)
{
	struct store_event ev = { 0 };
	char *evs = evidence ? json_dumps(evidence, JSON_COMPACT) : NULL;

	ev.time = lc_now();
	ev.actor = who ? who->actor : NULL;
	ev.role = who ? who->role : NULL;
	ev.request_id = who ? who->request_id : NULL;
	ev.action = action;
	ev.object_kind = "prefix";
	ev.has_cidr = true;
	ev.cidr = p->cidr;
	ev.before = before;
	ev.after = after;
	ev.evidence = evs;
	if (*rc == 0 && c->store != NULL)
		*rc = store_event_append(c->store, &ev, e);
	free(evs);
}

void
lc_batch_begin(struct lifecycle_ctl *c, size_t n)
{
	struct err e = { 0 };

	c->quiet = n > LIFECYCLE_CTL_LOG_EACH;
	if (c->quiet)
		log_info("lifecycle: %zu prefixes change in one transaction (each at debug level)", n);

	if (c->store != NULL && store_begin(c->store, &e) < 0)
		log_warnx("lifecycle: begin: %s", e.msg);
	else if (c->store != NULL)
		store_batch_defer(c->store, true);      /* one round trip for the batch (store.h) */
}

int
lc_batch_end(struct lifecycle_ctl *c, const char *failpoint, struct err *e)
{
	c->quiet = false;
	if (c->store == NULL || !store_in_txn(c->store))
		return 0;
	store_batch_defer(c->store, false);
	if (failpoint != NULL && failpoint_fail(failpoint)) {
		store_rollback(c->store, NULL);
		return err_set(e, "store-failed", "failpoint %s: rolled back instead of committed",
		    failpoint);
	}
	if (store_commit(c->store, e) < 0) {
		log_error("lifecycle: changes not committed: %s", e->msg);
		if (store_in_txn(c->store))
			store_rollback(c->store, NULL);
		return -1;
	}
	return 0;
}

void
lc_event(struct lifecycle_ctl *c, struct lifecycle_prefix *p, const char *action,
    json_t *evidence)
{
	struct err e = { 0 };
	int rc = 0;

	if (c->store == NULL)
		return;
	if (store_begin(c->store, &e) < 0) {
		log_warnx("event %s: %s", action, e.msg);
		return;
	}
	lc_event_write(c, p, action, &lc_system, NULL, NULL, evidence, &e, &rc);
	if (rc < 0 || store_commit(c->store, &e) < 0) {
		log_warnx("event %s: %s", action, e.msg);
		if (store_in_txn(c->store))
			store_rollback(c->store, &e);
	}
}

int
lc_transition(struct lifecycle_ctl *c, struct lifecycle_prefix *p, enum lifecycle_event ev,
    const struct ipam_actor *who, const char *key, json_t *note, struct err *e)
{
	enum lifecycle_state before = p->state;
	char b[64], a[ERR_MSG_MAX + 160];
	struct store *st = c->store;
	int rc = 0;
	bool sited;

	if (lifecycle_fsm(&p->state, ev, e) < 0) {
		json_decref(note);
		return -1;
	}
	sited = lc_state_sited(before) && lc_state_sited(p->state);
	p->updated = lc_now();
	if (key != NULL && note != NULL)
		json_object_set(p->evidence, key, note);
	snprintf(b, sizeof(b), "{\"state\":\"%s\"}", lifecycle_state_name(before));
	json_t *aj = json_pack("{s:s, s:o}", "state", lifecycle_state_name(p->state),
	    "failure_reason", lc_str_or_null(p->failure_reason));
	char *as = json_dumps(aj, JSON_COMPACT);
	snprintf(a, sizeof(a), "%s", as ? as : "{}");
	free(as);
	json_decref(aj);
	if (st != NULL && store_batch_deferred(st)) {
		/* a batch whose writes go together (lc_batch_begin): no level of its own; a
		 * failure fails the whole batch, which lc_batch_undo puts back in memory */
		rc = lc_save_as(c, p, sited, e);
		lc_event_write(c, p, "lifecycle", who ? who : &lc_system, b, a, note, e, &rc);
		if (rc < 0)
			store_batch_fail(st);
	} else if (st != NULL) {
		if ((rc = store_begin(st, e)) == 0)
			rc = lc_save_as(c, p, sited, e);
		lc_event_write(c, p, "lifecycle", who ? who : &lc_system, b, a, note, e, &rc);
		if (rc == 0)
			rc = store_commit(st, e);
		else if (store_in_txn(st))
			store_rollback(st, NULL);
	}
	json_decref(note);
	if (rc < 0) {
		p->state = before;
		return -1;
	}
	(c->quiet ? log_debug : log_info)("prefix %s: %s -> %s (%s)",
	    cidr_format(&p->cidr, b, sizeof(b)), lifecycle_state_name(before),
	    lifecycle_state_name(p->state), lifecycle_event_name(ev));
	if (c->on_change != NULL)
		c->on_change(c->on_change_arg, p, before);
	return 0;
}

/* ---- provisioning -------------------------------------------------------------------- */

/* 1 when c is one of pool's provisioned CIDRs. */
static int
lc_prov_eq(void *arg, const struct cidr *c)
{
	return cidr_equal(arg, c);
}

/* failed-provision with CODE; the CIDR goes back out of the pool (best effort). */
static void
lc_fail(struct lifecycle_ctl *c, struct lifecycle_prefix *p, const char *code,
    const char *msg, const char *key, json_t *note)
{
	struct ipam_pool *pool = ipam_pool_find(c->ipam, p->pool);
	struct err e = { 0 };
	char buf[CIDR_STRLEN];

	snprintf(p->failure_reason, sizeof(p->failure_reason), "%s", code);
	snprintf(p->message, sizeof(p->message), "%s", msg);
	p->verifying = p->auth_ok = false;
	if (note == NULL) {
		key = "failure";
		note = json_pack("{s:s, s:s}", "code", code, "message", msg);
	}
	if (lc_transition(c, p, LIFECYCLE_EV_VERIFY_FAILED, NULL, key, note, &e) < 0) {
		log_warnx("prefix %s: recording %s failed: %s",
		    cidr_format(&p->cidr, buf, sizeof(buf)), code, e.msg);
		return;
	}
	c->stats.provision_failed++;
	if (pool != NULL && ipam_pool_provisioned_foreach(pool, lc_prov_eq, &p->cidr) &&
	    ipam_deprovision(c->ipam, &lc_system, pool, &p->cidr, &e) < 0)
		log_warnx("prefix %s: kept in pool %s: %s", cidr_format(&p->cidr, buf, sizeof(buf)),
		    p->pool, e.msg);
}

static void
lc_rpki_step(struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	struct rov_result res;
	struct err e = { 0 };
	json_t *note;

	if (c->rtr == NULL || !rtr_is_fresh(c->rtr)) {
		if (lc_now() - p->provision_started >= (int64_t)c->conf->policy_provision_timeout) {
			lc_fail(c, p, "rpki-unavailable", "no fresh RPKI data within provision_timeout",
			    NULL, NULL);
			return;
		}
		if (strncmp(p->message, "waiting", 7) != 0) {
			snprintf(p->message, sizeof(p->message), "waiting for fresh RPKI data (%s)",
			    c->rtr ? rtr_state_name(rtr_state(c->rtr)) : "no RTR cache configured");
			lc_transition(c, p, LIFECYCLE_EV_RETRY, NULL, NULL, NULL, &e);
		}
		return;
	}
	if (rpki_validate(c->rtr, &p->cidr, p->origin_asn, &res, &e) < 0) {
		lc_fail(c, p, "rpki-unavailable", e.msg, NULL, NULL);
		return;
	}
	note = rov_result_to_json(&p->cidr, p->origin_asn, &res);
	if (res.maxlength_warning)
		json_object_set_new(note, "warning", json_string("a ROA's maxLength is longer than "
		    "the prefix: more-specifics are authorised too (RFC 9319)"));
	if (res.state != ROV_VALID) {
		bool inv = res.state == ROV_INVALID;
		snprintf(e.msg, sizeof(e.msg), "origin validation of AS%u is %s%s%s", p->origin_asn,
		    rov_state_name(res.state), inv ? ": " : "",
		    inv ? rov_reason_name(res.reason) : "");
		lc_fail(c, p, inv ? "roa-invalid" : "roa-not-found", e.msg, "rpki", note);
		return;
	}
	p->message[0] = '\0';
	p->auth_ok = false;
	if (lc_transition(c, p, LIFECYCLE_EV_VERIFIED, NULL, "rpki", note, &e) == 0)
		c->stats.provisioned++;
}

/* Which verification of which row an answer belongs to: a reload (failed COMMIT) may drop the
 * row or start it over, and then this answer no longer counts. */
struct lc_verify_arg {
	struct lifecycle_prefix *p;
	uint64_t gen;
};

/* Frees p if a reload dropped it and nothing refers to it any more. */
static void
lc_dropped_release(struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	for (size_t i = 0; c != NULL && i < c->ndropped; i++)
		if (c->dropped[i] == p) {
			c->dropped[i] = c->dropped[--c->ndropped];
			lc_prefix_free(p);
			return;
		}
}

static void
lc_verify_done(struct authctx_result *res, void *arg)
{
	struct lc_verify_arg *va = arg;
	struct lifecycle_prefix *p = va->p;
	struct lifecycle_ctl *c = p->ctl;
	json_t *note = authctx_result_json(res);
	bool stale = p->verify_gen != va->gen;

	free(va);
	if (p->dropped) {
		json_decref(note);
		authctx_result_free(res);
		lc_dropped_release(c, p);
		return;
	}
	if (!stale)
		p->verifying = false;
	if (c == NULL || stale || p->state != LIFECYCLE_PENDING_PROVISION) {
		json_decref(note);
		authctx_result_free(res);
		return;
	}
	if (!res->ok) {
		lc_fail(c, p, res->err.code ? res->err.code : "signature-invalid", res->err.msg,
		    "auth", note);
		authctx_result_free(res);
		return;
	}
	authctx_result_free(res);
	json_object_set_new(p->evidence, "auth", note);
	p->auth_ok = true;
	lc_rpki_step(c, p);
}

static void
lc_verify(struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	struct lc_verify_arg *va;
	char buf[CIDR_STRLEN];
	struct err e = { 0 };

	if (p->auth_message == NULL || p->auth_signature == NULL) {
		lc_fail(c, p, "auth-malformed", "a public prefix needs an authorization context "
		    "(auth_message and auth_signature)", NULL, NULL);
		return;
	}
	if (c->auth == NULL) {
		lc_fail(c, p, "rdap-unavailable", "no ownership verifier configured", NULL, NULL);
		return;
	}
	if ((va = malloc(sizeof(*va))) == NULL)
		fatal("malloc");
	va->p = p;
	va->gen = p->verify_gen = ++c->verify_gen;
	p->verifying = true;
	if (authctx_verify_start(c->auth, cidr_format(&p->cidr, buf, sizeof(buf)),
	    p->auth_message, p->auth_signature, time(NULL), lc_verify_done, va, &e) < 0) {
		free(va);
		p->verifying = false;
		log_warnx("prefix %s: verification not started (%s), retrying", buf, e.msg);
	}
}

int
lifecycle_ctl_provision(struct lifecycle_ctl *c, const struct ipam_actor *who,
    struct ipam_pool *pool, const struct cidr *cidr, const char *auth_message,
    const char *auth_signature, struct lifecycle_prefix **out, struct err *e)
{
	struct lifecycle_prefix *p = lifecycle_ctl_find(c, cidr);
	unsigned maxlen = cidr->family == CIDR_V4 ? 24 : 48;
	bool too_specific = cidr->len > maxlen;
	uint32_t asn = pool->origin_asn ? pool->origin_asn : c->conf->bgp_origin_asn;
	char buf[CIDR_STRLEN];

	cidr_format(cidr, buf, sizeof(buf));
	if (p != NULL && p->state != LIFECYCLE_FAILED_PROVISION &&
	    p->state != LIFECYCLE_DEPROVISIONED)
		return err_set(e, "exists", "%s is already %s in pool %s", buf,
		    lifecycle_state_name(p->state), p->pool);
	if (!too_specific && !ipam_pool_provisioned_foreach(pool, lc_prov_eq, (void *)cidr) &&
	    ipam_provision(c->ipam, who, pool, cidr, -1, NULL, e) < 0)
		return -1;
	if (p == NULL)
		p = lc_add(c, cidr);
	snprintf(p->pool, sizeof(p->pool), "%s", pool->name);
	p->origin_asn = asn;
	p->associated_asn = 0;
	p->failure_reason[0] = p->message[0] = '\0';
	lc_set_str(&p->auth_message, auth_message);
	lc_set_str(&p->auth_signature, auth_signature);
	json_object_clear(p->evidence);
	p->provision_started = lc_now();
	p->n_allow = 0;
	p->auth_ok = false;
	*out = p;
	if (lc_transition(c, p, LIFECYCLE_EV_PROVISION, who, "size", json_pack("{s:b, s:I}",
	    "ok", !too_specific, "longest_allowed", (json_int_t)maxlen), e) < 0)
		return -1;
	if (too_specific) {
		snprintf(e->msg, sizeof(e->msg), "%s is longer than /%u: BGP peers filter it",
		    buf, maxlen);
		lc_fail(c, p, "prefix-too-specific", e->msg, NULL, NULL);
		return err_set(e, "prefix-too-specific", "%s is longer than /%u: BGP peers "
		    "filter prefixes this specific", buf, maxlen);
	}
	if (asn == 0) {
		lc_fail(c, p, "origin-asn-missing", "the pool has no origin_asn and [bgp] "
		    "origin_asn is unset", NULL, NULL);
		return err_set(e, "origin-asn-missing", "%s", p->message);
	}
	if (lifecycle_ctl_origin_ok(c, asn, e) < 0) {
		lc_fail(c, p, "asn-not-provisioned", e->msg, NULL, NULL);
		return err_set(e, "asn-not-provisioned", "%s", p->message);
	}
	lc_verify(c, p);
	if (p->state == LIFECYCLE_FAILED_PROVISION)     /* refused before any fetch */
		return err_set(e, p->failure_reason, "%s", p->message);
	return 0;
}

int
lifecycle_ctl_deprovision(struct lifecycle_ctl *c, const struct ipam_actor *who,
    struct ipam_pool *pool, const struct cidr *cidr, struct err *e)
{
	struct lifecycle_prefix *p = lifecycle_ctl_find(c, cidr);
	char buf[CIDR_STRLEN];

	cidr_format(cidr, buf, sizeof(buf));
	if (p == NULL || strcmp(p->pool, pool->name) != 0)
		return ipam_deprovision(c->ipam, who, pool, cidr, e);
	if (p->state == LIFECYCLE_ADVERTISED || p->state == LIFECYCLE_PENDING_ADVERTISE ||
	    p->state == LIFECYCLE_PENDING_WITHDRAW || p->busy)
		return err_set(e, "in-use", "%s is %s: withdraw it first", buf,
		    lifecycle_state_name(p->state));
	if (p->state == LIFECYCLE_FAILED_PROVISION || p->state == LIFECYCLE_DEPROVISIONED)
		return err_set(e, "not-found", "%s is %s, not provisioned", buf,
		    lifecycle_state_name(p->state));
	/* the pool may have lost the CIDR already (a row restored by hand): the row decides */
	if (ipam_pool_provisioned_foreach(pool, lc_prov_eq, (void *)cidr) &&
	    ipam_deprovision(c->ipam, who, pool, cidr, e) < 0)
		return -1;
	if (lc_transition(c, p, LIFECYCLE_EV_DEPROVISION, who, NULL, NULL, e) < 0)
		return -1;
	return lc_transition(c, p, LIFECYCLE_EV_DEPROVISIONED, who, NULL, NULL, e);
}

int
lifecycle_ctl_origin_ok(const struct lifecycle_ctl *c, uint32_t asn, struct err *e)
{
	if (c->conf->auth_allow_unproven_asn || asn_is_provisioned(c->asns, asn))
		return 0;
	return err_set(e, "asn-not-provisioned", "AS%u is not a provisioned ASN: prove it first "
	    "(prefixctl asn provision AS%u)", (unsigned)asn, (unsigned)asn);
}

int
lifecycle_ctl_asn_in_use(void *arg, uint32_t asn, char *why, size_t len)
{
	struct lifecycle_ctl *c = arg;
	char buf[CIDR_STRLEN];

	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->origin_asn != asn || (p->state != LIFECYCLE_ADVERTISED &&
		    p->state != LIFECYCLE_PENDING_ADVERTISE && p->state != LIFECYCLE_PENDING_WITHDRAW))
			continue;
		snprintf(why, len, "%s is %s from AS%u", cidr_format(&p->cidr, buf, sizeof(buf)),
		    lifecycle_state_name(p->state), (unsigned)asn);
		return 1;
	}
	return 0;
}

uint32_t
lifecycle_ctl_route_origin(const struct lifecycle_ctl *c, const struct lifecycle_prefix *p)
{
	return p->associated_asn != 0 && p->associated_asn != c->conf->bgp_origin_asn ?
	    p->associated_asn : 0;
}

/* The RPKI verdict for (p, asn) as an associate refusal; 0 when valid. */
static int
lc_assoc_rpki(struct lifecycle_ctl *c, struct lifecycle_prefix *p, uint32_t asn,
    json_t **note, struct err *e)
{
	struct rov_result res;

	if (c->rtr == NULL || !rtr_is_fresh(c->rtr))
		return err_set(e, "rpki-stale", "no fresh RPKI data: the origin AS%u cannot be "
		    "validated now", (unsigned)asn);
	if (rpki_validate(c->rtr, &p->cidr, asn, &res, e) < 0)
		return -1;
	*note = rov_result_to_json(&p->cidr, asn, &res);
	if (res.state == ROV_VALID)
		return 0;
	json_decref(*note);
	*note = NULL;
	return err_set(e, res.state == ROV_INVALID ? "rpki-invalid" : "rpki-not-found",
	    "origin validation of AS%u is %s", (unsigned)asn, rov_state_name(res.state));
}

int
lifecycle_ctl_associate(struct lifecycle_ctl *c, const struct ipam_actor *who,
    const struct cidr *cidr, uint32_t asn, struct err *e)
{
	struct lifecycle_prefix *p = lifecycle_ctl_find(c, cidr);
	struct ipam_pool *pool = p ? ipam_pool_find(c->ipam, p->pool) : NULL;
	uint32_t origin, before, before_assoc;
	json_t *note = NULL, *evj;
	char buf[CIDR_STRLEN], b[96], a[96];
	int rc = 0;

	cidr_format(cidr, buf, sizeof(buf));
	if (p == NULL || p->state == LIFECYCLE_FAILED_PROVISION ||
	    p->state == LIFECYCLE_DEPROVISIONED)
		return err_set(e, "not-found", "%s is not a provisioned public prefix", buf);
	if (p->state != LIFECYCLE_PROVISIONED || p->busy)
		return err_set(e, p->state == LIFECYCLE_PENDING_PROVISION ? "not-provisioned" :
		    "in-use", "%s is %s: its origin changes only while provisioned (withdraw "
		    "first)", buf, lifecycle_state_name(p->state));
	origin = asn ? asn : pool && pool->origin_asn ? pool->origin_asn : c->conf->bgp_origin_asn;
	if (lifecycle_ctl_origin_ok(c, origin, e) < 0 || lc_assoc_rpki(c, p, origin, &note, e) < 0)
		return -1;
	before = p->origin_asn;
	before_assoc = p->associated_asn;
	snprintf(b, sizeof(b), "{\"origin_asn\":%u}", (unsigned)before);
	snprintf(a, sizeof(a), "{\"origin_asn\":%u,\"associated\":%s}", (unsigned)origin,
	    asn ? "true" : "false");
	p->origin_asn = origin;
	p->associated_asn = asn;
	json_object_set_new(p->evidence, "rpki", note);
	if (c->store != NULL) {
		struct store_event ev = { .time = lc_now(), .actor = who->actor, .role = who->role,
			.request_id = who->request_id, .action = asn ? "associate" : "disassociate",
			.object_kind = "prefix", .has_cidr = true, .cidr = p->cidr, .before = b,
			.after = a };
		char *evs = (evj = json_object_get(p->evidence, "rpki")) ?
		    json_dumps(evj, JSON_COMPACT) : NULL;

		ev.evidence = evs;
		if ((rc = store_begin(c->store, e)) == 0 && (rc = lc_save(c, p, e)) == 0 &&
		    (rc = store_event_append(c->store, &ev, e)) == 0)
			rc = store_commit(c->store, e);
		else if (store_in_txn(c->store))
			store_rollback(c->store, NULL);
		free(evs);
	}
	if (rc < 0) {
		p->origin_asn = before;
		p->associated_asn = before_assoc;
		return -1;
	}
	log_info("prefix %s: announced from AS%u%s", buf, (unsigned)origin,
	    asn ? " (associated)" : " (the pool's origin)");
	return 0;
}

/* ---- re-validation ------------------------------------------------------------------- */

static void
lc_revalidate(struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	struct rov_result res;
	struct err e = { 0 };
	char buf[CIDR_STRLEN];
	json_t *note;

	if (rpki_validate(c->rtr, &p->cidr, p->origin_asn, &res, &e) < 0 || res.stale)
		return;                 /* no verdict: never act on missing data */
	note = rov_result_to_json(&p->cidr, p->origin_asn, &res);
	json_object_set(p->evidence, "revalidation", note);
	if (res.state == ROV_VALID || p->state != LIFECYCLE_ADVERTISED) {
		p->alerted = false;
		json_decref(note);
		lc_save(c, p, &e);
		return;
	}
	if (!p->alerted) {
		p->alerted = true;
		c->stats.rpki_alerts++;
		log_warnx("rpki alert: advertised prefix %s origin AS%u is now %s (on_invalid=%s)",
		    cidr_format(&p->cidr, buf, sizeof(buf)), p->origin_asn,
		    rov_state_name(res.state),
		    c->conf->policy_on_invalid == CONF_ON_INVALID_WITHDRAW ? "withdraw" : "alert");
		lc_event(c, p, "rpki-alert", note);
	}
	json_decref(note);
	if (c->conf->policy_on_invalid == CONF_ON_INVALID_WITHDRAW) {
		c->stats.policy_withdrawals++;
		lc_ops_policy_withdraw(c, p);
	}
}

static void
lc_rtr_change(const struct rtr_change *ch, void *arg)
{
	struct lifecycle_ctl *c = arg;

	/* Data dropped at expiry (or not yet synced) is missing, not a verdict: it never
	 * withdraws and never alerts as invalid; lc_stale_check raises the stale alert. */
	if (!rtr_is_fresh(c->rtr))
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (!rtr_change_covers(ch, &p->cidr))
			continue;
		if (p->state == LIFECYCLE_PENDING_PROVISION && p->auth_ok)
			lc_rpki_step(c, p);
		else if (p->state == LIFECYCLE_PROVISIONED || p->state == LIFECYCLE_ADVERTISED)
			lc_revalidate(c, p);
	}
}

static void
lc_stale_check(struct lifecycle_ctl *c)
{
	bool fresh = c->rtr != NULL && rtr_is_fresh(c->rtr);
	size_t up = lc_count_state(c, LIFECYCLE_ADVERTISED);

	if (c->was_fresh && !fresh && up > 0) {
		const char *st = c->rtr ? rtr_state_name(rtr_state(c->rtr)) : "missing";
		char after[128];
		struct err e = { 0 };

		c->stats.stale_alerts++;
		log_warnx("rpki alert: RTR data is %s with %zu prefixes advertised; they stay "
		    "announced, new advertisements are refused (rpki-stale)", st, up);
		snprintf(after, sizeof(after), "{\"rtr_state\":\"%s\",\"advertised\":%zu}", st,
		    up);
		if (c->obs != NULL && obs_alert(c->obs, "rpki-stale", "rpki", NULL, after, &e) < 0)
			log_warnx("rpki-stale event: %s", e.msg);
	}
	c->was_fresh = fresh;
}

/* Raises one "drift" alert event for each reconcile run that found BIRD or its include file
 * differing from the desired state (the reconciler logs, counts and repairs it; this makes it
 * streamable and puts it in the history). The event's "reason" is the last drift's text. */
static void
lc_drift_check(struct lifecycle_ctl *c)
{
	struct bird_stats st;
	const struct reconcile_stats *rs = &st.reconcile;
	char *after;
	json_t *j;
	struct err e = { 0 };

	if (c->bird == NULL)
		return;
	bird_get_stats(c->bird, &st);
	if (rs->drift <= c->drift_seen)
		return;
	j = json_pack("{s:I, s:I}", "drift_total", (json_int_t)rs->drift, "repaired_total",
	    (json_int_t)rs->repaired);
	if (j == NULL)
		fatalx("drift event: out of memory");
	/* the reason names the include path, which need not be UTF-8: then it is left out */
	json_object_set_new(j, "reason", json_string(rs->last_drift));
	if ((after = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("drift event: out of memory");
	json_decref(j);
	c->drift_seen = rs->drift;
	if (c->obs != NULL && obs_alert(c->obs, "drift", "bird", NULL, after, &e) < 0)
		log_warnx("drift event: %s", e.msg);
	free(after);
}

static void
lc_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lifecycle_ctl *c = w->data;

	(void)loop;
	(void)revents;
	lc_stale_check(c);
	lc_drift_check(c);
	if (c->resume_wanted) {         /* retried every tick until the store takes it */
		c->resume_wanted = false;
		lc_ops_resume(c);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->state != LIFECYCLE_PENDING_PROVISION || p->verifying || p->followed)
			continue;
		if (p->auth_ok)
			lc_rpki_step(c, p);
		else
			lc_verify(c, p);
	}
	lc_ops_drain_tick(c);
}

static void
lc_bird_event(void *arg, bool up, const struct err *reason)
{
	(void)reason;
	if (up)
		lc_ops_resume(arg);
}

/* ---- life cycle ---------------------------------------------------------------------- */

struct lifecycle_ctl *
lifecycle_ctl_new(const struct lifecycle_deps *deps)
{
	struct lifecycle_ctl *c = calloc(1, sizeof(*c));
	struct err e = { 0 };

	if (c == NULL)
		fatal("calloc");
	c->loop = deps->loop;
	c->conf = deps->conf;
	c->store = deps->store;
	c->ipam = deps->ipam;
	c->obs = deps->obs;
	c->rtr = deps->rtr;
	c->auth = deps->auth;
	c->asns = deps->asns;
	c->vis = deps->visibility;
	c->lease = deps->lease;
	if (c->rtr != NULL && rtr_subscribe(c->rtr, lc_rtr_change, c, &e) < 0)
		log_warnx("lifecycle: no RTR change events: %s", e.msg);
	ev_timer_init(&c->tick, lc_tick, 1., 1.);
	c->tick.data = c;
	ev_timer_start(c->loop, &c->tick);
	lc_sites_start(c);
	return c;
}

void
lifecycle_ctl_set_conf(struct lifecycle_ctl *c, const struct conf *conf)
{
	c->conf = conf;
}

void
lifecycle_ctl_set_bird(struct lifecycle_ctl *c, struct bird *bird)
{
	c->bird = bird;
	if (bird != NULL && !c->listening && bird_on_connect(bird, lc_bird_event, c) == 0)
		c->listening = true;
}

void
lifecycle_ctl_free(struct lifecycle_ctl *c)
{
	if (c == NULL)
		return;
	ev_timer_stop(c->loop, &c->tick);
	lc_sites_stop(c);
	if (c->rtr != NULL)
		rtr_unsubscribe(c->rtr, lc_rtr_change, c);
	for (size_t i = 0; i < c->n; i++)
		lc_prefix_free(c->v[i]);
	for (size_t i = 0; i < c->ndropped; i++)
		lc_prefix_free(c->dropped[i]);
	for (int i = 0; i < 2; i++)
		ptree_free(c->idx[i]);
	free(c->v);
	free(c->dropped);
	free(c);
}

int
lifecycle_ctl_load(struct lifecycle_ctl *c, struct err *e)
{
	/* the feed position first: a change committed while the rows load is read again */
	if (c->store != NULL && store_has_feed(c->store) &&
	    store_feed_sync(c->store, &c->feed_seq, e) < 0)
		return -1;
	if (c->store != NULL)
		c->feed_epoch = store_feed_epoch(c->store);
	if (c->store != NULL && store_doc_load(c->store, "prefix", lc_row_load, c, e) < 0)
		return -1;
	lc_sites_adopt(c);
	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->state == LIFECYCLE_PENDING_PROVISION)
			lc_verify(c, p);
		else if (p->state == LIFECYCLE_PENDING_DEPROVISION)
			lc_transition(c, p, LIFECYCLE_EV_DEPROVISIONED, NULL, NULL, NULL, e);
	}
	log_info("lifecycle: %zu public prefixes (%zu advertised)", c->n,
	    lc_count_state(c, LIFECYCLE_ADVERTISED));
	if (c->on_change != NULL)
		c->on_change(c->on_change_arg, NULL, LIFECYCLE_NONE);
	if (lc_bird_up(c))
		lc_ops_resume(c);
	return 0;
}

/* lifecycle_ctl_reload's store callback: the stored row back into memory, marked seen. */
static int
lc_row_reload(void *arg, const char *key, const char *doc, struct err *e)
{
	struct lifecycle_ctl *c = arg;
	struct lifecycle_prefix *p;
	enum lifecycle_state st;
	struct cidr cidr;
	json_t *j;

	if (lc_row_parse(key, doc, &cidr, &j, &st, e) < 0)
		return -1;
	st = lc_row_state(c, j, st);
	if ((p = lifecycle_ctl_find(c, &cidr)) == NULL)
		p = lc_add(c, &cidr);
	else if (p->state != st) {      /* changed by the batch: its verification is void */
		p->verify_gen = 0;
		p->verifying = false;
	}
	lc_row_fill(p, j, st);
	p->auth_ok = false;
	p->dropped = true;          /* "seen" while reloading; cleared below */
	json_decref(j);
	return 0;
}

int
lifecycle_ctl_reload(struct lifecycle_ctl *c, struct err *e)
{
	size_t i, n = 0;
	char buf[CIDR_STRLEN];

	if (c->store == NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		c->v[i]->dropped = false;
	if (store_doc_load(c->store, "prefix", lc_row_reload, c, e) < 0)
		return -1;
	for (i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->dropped) {               /* seen: the store holds it */
			p->dropped = false;
			c->v[n++] = p;
			continue;
		}
		log_info("prefix %s: dropped, its provision was not committed",
		    cidr_format(&p->cidr, buf, sizeof(buf)));
		p->dropped = true;
		if (!p->verifying) {
			lc_prefix_free(p);
			continue;
		}
		if (c->ndropped == c->capdropped) {
			c->capdropped = c->capdropped ? 2 * c->capdropped : 8;
			if ((c->dropped = realloc(c->dropped, c->capdropped *
			    sizeof(*c->dropped))) == NULL)
				fatal("realloc");
		}
		c->dropped[c->ndropped++] = p;
	}
	c->n = n;
	lc_idx_rebuild(c);
	lc_sites_adopt(c);
	if (c->on_change != NULL)
		c->on_change(c->on_change_arg, NULL, LIFECYCLE_NONE);
	return 0;
}

/* ---- several instances: other instances' provisioning (lifecycle_ctl_follow) ---------- */

struct lc_feed {
	struct lifecycle_ctl *c;
	struct cidr *v;                 /* prefixes whose documents changed */
	size_t n, cap;
	bool asns;                      /* an ASN's document changed */
	int changed;
};

static int
lc_feed_change(void *arg, const struct store_change *ch, struct err *e)
{
	struct lc_feed *f = arg;
	const struct lifecycle_prefix *p;
	struct cidr cidr;
	struct err ignored = { 0 };

	(void)e;
	if (ch->table != STORE_DOC || ch->doc_kind == NULL || ch->doc_key == NULL)
		return 0;
	if (strcmp(ch->doc_kind, "asn") == 0)
		f->asns = true;
	if (strcmp(ch->doc_kind, "prefix") != 0 || cidr_parse(ch->doc_key, &cidr, &ignored) < 0)
		return 0;
	/* another site's routing state (store_doc_put_sited, lc_save_as): a prefix this site
	 * holds in a routing state of its own stays as it is (lc_feed_row's rule), so its
	 * document is not even read; 1,000 prefixes advertised at one site made every other
	 * instance read and parse 4 MB of documents to change nothing, stalling its loop for up
	 * to 200 ms while a change was asked of it */
	if (ch->sited && (p = lifecycle_ctl_find(f->c, &cidr)) != NULL &&
	    lc_state_sited(p->state))
		return 0;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		if ((f->v = realloc(f->v, f->cap * sizeof(*f->v))) == NULL)
			fatal("realloc");
	}
	f->v[f->n++] = cidr;
	return 0;
}

/* Whether the document of P (NULL: a prefix memory does not know) must be read: not while
 * this site's operation holds it or its proof is being checked, and not while it stands in a
 * state of this site other than provisioned (what the other site did is its own business;
 * lc_feed_row's rule without the document). */
static bool
lc_feed_wanted(const struct lifecycle_prefix *p)
{
	return p == NULL || (!p->busy && !p->verifying &&
	    (!lc_state_sited(p->state) || p->state == LIFECYCLE_PROVISIONED));
}

static int
lc_cidr_qcmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

/* Keeps each changed prefix once, and only those whose document must be read, sorted for
 * lc_feed_named: a batch of 1,000 prefixes at another site is 2,000 changes, and every one
 * of them compared with every stored document cost more than the batch itself. */
static void
lc_feed_prune(struct lc_feed *f)
{
	size_t k = 0;

	if (f->n == 0)
		return;
	qsort(f->v, f->n, sizeof(*f->v), lc_cidr_qcmp);
	for (size_t i = 0; i < f->n; i++) {
		if (k > 0 && cidr_equal(&f->v[k - 1], &f->v[i]))
			continue;
		if (lc_feed_wanted(lifecycle_ctl_find(f->c, &f->v[i])))
			f->v[k++] = f->v[i];
	}
	f->n = k;
}

static bool
lc_feed_named(const struct lc_feed *f, const struct cidr *cidr)
{
	return f->n > 0 && bsearch(cidr, f->v, f->n, sizeof(*f->v), lc_cidr_qcmp) != NULL;
}

/* store_doc_load callback: applies a named document (rules in lifecycle_ctl.h). */
static int
lc_feed_row(void *arg, const char *key, const char *doc, struct err *e)
{
	struct lc_feed *f = arg;
	struct lifecycle_prefix *p;
	enum lifecycle_state st;
	struct cidr cidr;
	struct err ignored = { 0 };
	json_t *j;

	if (cidr_parse(key, &cidr, &ignored) < 0 || !lc_feed_named(f, &cidr))
		return 0;
	if (lc_row_parse(key, doc, &cidr, &j, &st, e) < 0)
		return -1;
	p = lifecycle_ctl_find(f->c, &cidr);
	if (p != NULL && (p->busy || p->verifying || (lc_state_sited(p->state) &&
	    (p->state != LIFECYCLE_PROVISIONED || lc_state_sited(st))))) {
		json_decref(j);
		return 0;               /* this site's business, or unchanged for it */
	}
	if (p == NULL)
		p = lc_add(f->c, &cidr);
	lc_row_fill(p, j, lc_state_sited(st) ? LIFECYCLE_PROVISIONED : st);
	p->auth_ok = false;
	p->followed = st == LIFECYCLE_PENDING_PROVISION;
	json_decref(j);
	f->changed++;
	return 0;
}

int
lifecycle_ctl_follow(struct lifecycle_ctl *c, struct err *e)
{
	struct lc_feed f = { .c = c };
	uint64_t seq, last;
	int rc;

	if (c->store == NULL || !store_has_feed(c->store) || store_in_txn(c->store))
		return 0;
	if (store_feed_sync(c->store, &seq, e) < 0)
		return -1;
	if (c->feed_epoch != store_feed_epoch(c->store)) {
		/* reconnected: the position may be void (store.h store_feed_epoch); start over
		 * from the position just read, as lifecycle_ctl_load does */
		if (lifecycle_ctl_reload(c, e) < 0 ||
		    (c->asns != NULL && asn_reg_follow(c->asns, e) < 0))
			return -1;
		c->feed_seq = seq;
		c->feed_epoch = store_feed_epoch(c->store);
		log_info("lifecycle: the store's connection was re-established; public prefixes "
		    "reloaded");
		return 0;
	}
	if (seq == c->feed_seq)
		return 0;
	rc = store_changes_after(c->store, c->feed_seq, lc_feed_change, &f, &last, e);
	lc_feed_prune(&f);
	if (rc == 0 && f.asns && c->asns != NULL)
		rc = asn_reg_follow(c->asns, e);
	if (rc == 0 && f.n > 0)
		rc = store_doc_load(c->store, "prefix", lc_feed_row, &f, e);
	if (rc == 0)
		c->feed_seq = last;
	free(f.v);
	if (f.changed > 0) {
		lc_sites_adopt(c);
		log_info("lifecycle: %d public prefixes provisioned or deprovisioned by another "
		    "instance followed", f.changed);
		if (c->on_change != NULL)
			c->on_change(c->on_change_arg, NULL, LIFECYCLE_NONE);
	}
	return rc < 0 ? -1 : f.changed;
}

void
lifecycle_ctl_on_change(struct lifecycle_ctl *c, lifecycle_ctl_change_fn fn, void *arg)
{
	c->on_change = fn;
	c->on_change_arg = arg;
}

void
lifecycle_ctl_note(struct lifecycle_ctl *c, const struct cidr *cidr, const char *action,
    const char *key, json_t *note)
{
	struct lifecycle_prefix *p = lifecycle_ctl_find(c, cidr);
	struct err e = { 0 };

	if (p == NULL)
		return;
	json_object_set(p->evidence, key, note);
	if (lc_save(c, p, &e) < 0)
		log_warnx("lifecycle: saving %s evidence: %s", key, e.msg);
	lc_event(c, p, action, note);
}

int
lifecycle_ctl_desired(void *arg, struct bird_routeset *out, struct err *e)
{
	/* the reconciler writes what this answers: a standby never writes BIRD, not even a
	 * repair (its run ends with site-standby) */
	if (!lc_may_write(arg, e))
		return -1;
	lc_sites_takeover(arg);
	return lc_desired_set(arg, out, e);
}

int
lc_desired_set(struct lifecycle_ctl *c, struct bird_routeset *out, struct err *e)
{
	int64_t now = lc_now();

	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];
		struct bird_route r;
		uint8_t bytes[16] = { 0 };
		bool drain = p->state == LIFECYCLE_PENDING_WITHDRAW && p->drain_until > now;

		if (!lifecycle_state_wants_route(p->state) && !drain)
			continue;
		memset(&r, 0, sizeof(r));
		r.family = p->cidr.family == CIDR_V4 ? AF_INET : AF_INET6;
		cidr_to_bytes(&p->cidr, bytes);
		memcpy(r.addr, bytes, sizeof(bytes));
		r.plen = p->cidr.len;
		r.drain = drain;
		r.origin = lifecycle_ctl_route_origin(c, p);
		if (bird_routeset_add_route(out, &r) < 0)
			return err_set(e, "out-of-memory", "desired routes");
	}
	return 0;
}

void
lifecycle_ctl_rollback(void *arg)
{
	struct err e = { 0 };

	if (lifecycle_ctl_reload(arg, &e) < 0)
		log_error("lifecycle: reloading the rows after a failed COMMIT: %s", e.msg);
}
