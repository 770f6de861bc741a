/*
 * lifecycle_ops — the advertise and withdraw operations of the public-prefix controller
 * (contract in lifecycle_ctl.h). One struct lc_op per request (or per internal change: a
 * restart's resume, a drain's end, a policy withdrawal) walks these phases:
 *
 *   check    per prefix, the interlocks that need no router (policy/advertise.h; for
 *            withdraw the blast radius first, then state and rate)
 *   rib      advertise only: the other-origin look-up in BIRD's RIB for every prefix that
 *            passed (bgp/rib.h), then the full advertise_check in SPEC order
 *   apply    the passing prefixes go pending-* (written), the whole desired set goes to
 *            bird_apply; its result moves each to its stable state
 *   reply    one struct lifecycle_outcome: per-prefix code, state and message, the route
 *            diff, the first failure (the API renders it; lifecycle_ctl.h)
 *
 * A dry run stops after the checks and answers bird_apply_dry_run's diff of the desired set
 * with the change applied. Prefixes held by a running operation are refused with "busy".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advertise.h"
#include "bird.h"
#include "conf.h"
#include "lifecycle_private.h"
#include "log.h"
#include "rpki.h"
#include "store_sites.h"

struct lc_item {
	struct lifecycle_ctl *c;
	struct lc_op *op;
	struct cidr cidr;
	struct lifecycle_prefix *p;
	const char *code;               /* NULL: passed so far */
	char msg[ERR_MSG_MAX];
	bool go;                        /* part of the change */
	bool held;                      /* this operation set p->busy */
	bool drain_phase;               /* withdraw --drain: the announcement with 65535:0 */
	bool moved;                     /* its state changed in the open batch, from `was` */
	enum lifecycle_state was;
	json_t *facts;                  /* advertise evidence */
};

struct lc_op {
	struct lifecycle_ctl *c;
	bool withdraw, dry_run, follow;    /* follow: lifecycle_ctl_req.site_follow */
	unsigned drain;
	uint32_t allow[LIFECYCLE_CTL_MAX_ALLOW];
	size_t n_allow;
	char actor[128], role[32], rid[64];
	struct ipam_actor who;
	struct lc_item *items;
	size_t n, rib_pending;
	char *diff;
	size_t *vis_idx, nvis;          /* items awaiting c->vis (advertise) */
	lifecycle_ctl_done_fn done;
	void *arg;
	uint64_t epoch;                 /* the lease epoch its BIRD transaction ran under */
};

static void lc_op_apply(struct lc_op *op);

/* lc_transition of one of OP's prefixes; a site follower's (lifecycle_ctl_req.site_follow)
 * writes the event and not the shared document (c->doc_hold). */
static int
lc_op_transition(struct lc_op *op, struct lifecycle_prefix *p, enum lifecycle_event ev,
    const char *key, json_t *note, struct err *e)
{
	int rc;

	op->c->doc_hold = op->follow;
	rc = lc_transition(op->c, p, ev, &op->who, key, note, e);
	op->c->doc_hold = false;
	return rc;
}
static void lc_batch_undo(struct lc_op *op, const struct err *e, const char *what);

static struct lc_op *
lc_op_new(struct lifecycle_ctl *c, const struct lifecycle_ctl_req *r, bool withdraw,
    lifecycle_ctl_done_fn done, void *arg)
{
	struct lc_op *op = calloc(1, sizeof(*op));
	size_t n = r ? r->n : 0;

	if (op == NULL || (op->items = calloc(n ? n : 1, sizeof(*op->items))) == NULL)
		fatal("calloc");
	op->c = c;
	op->withdraw = withdraw;
	op->done = done;
	op->arg = arg;
	op->who.actor = "prefixd";
	op->who.role = "system";
	if (r == NULL)
		return op;
	op->dry_run = r->dry_run;
	op->follow = r->site_follow;
	op->drain = r->drain;
	for (size_t i = 0; i < r->n_allow && i < LIFECYCLE_CTL_MAX_ALLOW; i++)
		op->allow[op->n_allow++] = r->allow[i];
	if (r->who != NULL) {
		snprintf(op->actor, sizeof(op->actor), "%s", r->who->actor ? r->who->actor : "");
		snprintf(op->role, sizeof(op->role), "%s", r->who->role ? r->who->role : "");
		snprintf(op->rid, sizeof(op->rid), "%s", r->who->request_id ?
		    r->who->request_id : "");
		op->who.actor = op->actor;
		op->who.role = op->role;
		op->who.request_id = op->rid;
	}
	for (size_t i = 0; i < n; i++) {
		struct lc_item *it = &op->items[op->n++];

		it->c = c;
		it->op = op;
		it->cidr = r->cidrs[i];
		it->p = lifecycle_ctl_find(c, &r->cidrs[i]);
	}
	return op;
}

/* Records the item's first failure: CODE and "CIDR: DETAIL" (DETAIL alone when it already
 * names the prefix, with_cidr false). */
static void
lc_item_fail(struct lc_item *it, const char *code, const char *detail, bool with_cidr)
{
	char buf[CIDR_STRLEN];

	if (it->code != NULL)
		return;
	it->code = code;
	it->go = false;
	if (!with_cidr)
		snprintf(it->msg, sizeof(it->msg), "%s", detail);
	else if (snprintf(it->msg, sizeof(it->msg), "%s: %s",
	    cidr_format(&it->cidr, buf, sizeof(buf)), detail) >= (int)sizeof(it->msg))
		it->msg[sizeof(it->msg) - 2] = '.';     /* cut: the prefix and code still stand */
}

/*
 * Records each prefix's result at the own site (issue 17; only with a lease): advertised /
 * withdrawn where it stands so, failed with its code otherwise; busy and site-standby are no
 * result of this site. Under the epoch of the BIRD transaction (or the current one when BIRD
 * was not reached): once the lease moved on, nothing is recorded and the prefix is reported
 * lease-lost.
 */
static void
lc_op_record(struct lc_op *op)
{
	struct lifecycle_ctl *c = op->c;
	uint64_t epoch = op->epoch ? op->epoch : lc_epoch(c);
	struct lc_records rec = { 0 };
	size_t *which;                  /* rec.v[k] is op->items[which[k]]'s */
	struct err e = { 0 };

	if (c->lease == NULL || op->dry_run || op->n == 0)
		return;
	if ((which = calloc(op->n, sizeof(*which))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];
		const char *state, *code = it->code;

		if (it->p == NULL || (code != NULL && (strcmp(code, "busy") == 0 ||
		    strcmp(code, "site-standby") == 0)))
			continue;
		bool up = it->p->state == LIFECYCLE_ADVERTISED;
		bool down = !lifecycle_state_wants_route(it->p->state) &&
		    !lifecycle_state_is_pending(it->p->state);

		/* where it stands is the site's state; a refusal that leaves it where the request
		 * wanted it (advertise of an advertised prefix, not-visible) is no failure */
		if (up && (code == NULL || !op->withdraw))
			state = "advertised", code = NULL;
		else if (down && (code == NULL || op->withdraw))
			state = "withdrawn", code = NULL;
		else if (code != NULL)
			state = "failed";
		else
			continue;               /* a drain still running: recorded when it ends */
		which[rec.n] = i;
		lc_records_add(c, &rec, &it->cidr, state, code, code ? it->msg : NULL, epoch);
	}
	size_t n = rec.n;

	if (lc_records_write(c, &rec, &e) < 0) {
		log_warnx("site results not recorded: %s", e.msg);
		for (size_t k = 0; k < n; k++)
			lc_item_fail(&op->items[which[k]], e.code, e.msg, true);
	}
	free(which);
}

/* Answers (or, for internal operations, logs) and frees the operation. */
static void
lc_op_finish(struct lc_op *op)
{
	struct lifecycle_item_result *res = calloc(op->n ? op->n : 1, sizeof(*res));
	struct lifecycle_outcome out = { 0 };

	if (res == NULL)
		fatal("calloc");
	lc_op_record(op);
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];

		if (it->held)
			it->p->busy = false;
		res[i].cidr = it->cidr;
		res[i].known = it->p != NULL;
		res[i].state = it->p ? it->p->state : LIFECYCLE_NONE;
		res[i].code = it->code;
		if (it->code != NULL) {
			snprintf(res[i].message, sizeof(res[i].message), "%s", it->msg);
			if (out.first_failure == NULL)
				out.first_failure = &res[i];
			if (op->done == NULL)
				log_warnx("%s", it->msg);
		}
		json_decref(it->facts);
	}
	out.action = op->withdraw ? "withdraw" : "advertise";
	out.dry_run = op->dry_run;
	out.drain = op->drain;
	out.diff = op->diff;
	out.items = res;
	out.n = op->n;
	if (op->done != NULL)
		op->done(op->arg, &out);
	free(res);
	free(op->vis_idx);
	free(op->diff);
	free(op->items);
	free(op);
}

/* ---- the apply phase ----------------------------------------------------------------- */

/* The outside's answer (lifecycle_ctl.h, struct lifecycle_visibility): a prefix nobody
 * confirmed stays advertised and is reported not-visible. */
static void
lc_visible_done(void *arg, const struct lifecycle_visible *v)
{
	struct lc_op *op = arg;
	char msg[ERR_MSG_MAX];

	for (size_t i = 0; i < op->nvis; i++) {
		if (v[i].visible)
			continue;
		snprintf(msg, sizeof(msg), "%u of %u required vantage points hold it from AS%u "
		    "after %.0f s; it stays announced", v[i].holding, v[i].required,
		    op->items[op->vis_idx[i]].p->origin_asn, v[i].waited);
		lc_item_fail(&op->items[op->vis_idx[i]], "not-visible", msg, true);
	}
	lc_op_finish(op);
}

/* Hands the advertised items to c->vis; false when there is nothing to wait for. */
static bool
lc_op_wait_visible(struct lc_op *op)
{
	struct lifecycle_ctl *c = op->c;
	struct cidr *cidrs;
	bool waiting;

	if (op->withdraw || c->vis.wait == NULL)
		return false;
	if ((op->vis_idx = calloc(op->n ? op->n : 1, sizeof(*op->vis_idx))) == NULL ||
	    (cidrs = calloc(op->n ? op->n : 1, sizeof(*cidrs))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < op->n; i++)
		if (op->items[i].go && op->items[i].code == NULL &&
		    op->items[i].p->state == LIFECYCLE_ADVERTISED) {
			cidrs[op->nvis] = op->items[i].cidr;
			op->vis_idx[op->nvis++] = i;
		}
	/* c->vis.wait may answer at once (the vantages already hold every route) and so finish
	 * and free op before it returns: nothing here reads op after the call. */
	if ((waiting = op->nvis > 0))
		c->vis.wait(c->vis.arg, cidrs, op->nvis, lc_visible_done, op);
	free(cidrs);
	return waiting;
}

static void
lc_dry_done(void *arg, const struct bird_apply_result *res)
{
	struct lc_op *op = arg;

	if (strcmp(res->code, "ok") != 0) {
		for (size_t i = 0; i < op->n; i++)
			lc_item_fail(&op->items[i], res->code, res->message, true);
	} else
		op->diff = bird_routediff_format(&res->diff);
	lc_op_finish(op);
}

/* The desired set with the passing items changed as the operation would change them. */
static void
lc_dry_run(struct lc_op *op)
{
	struct lifecycle_ctl *c = op->c;
	struct bird_routeset want = { 0 };
	struct err e = { 0 };
	char buf[CIDR_STRLEN];

	lc_desired_set(c, &want, &e);
	bird_routeset_normalize(&want);
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];
		struct bird_route r;
		long at;

		if (!it->go || bird_route_parse(cidr_format(&it->cidr, buf, sizeof(buf)), &r,
		    &e) < 0)
			continue;
		r.origin = lifecycle_ctl_route_origin(c, it->p);
		if (!op->withdraw)
			bird_routeset_add_route(&want, &r);     /* merged by the normalise below */
		else if ((at = bird_routeset_find(&want, &r)) >= 0 && op->drain > 0)
			want.v[at].drain = true;
		else if (at >= 0)
			want.v[at].plen = 255;                  /* removed below */
	}
	size_t kept = 0;
	for (size_t i = 0; i < want.n; i++)
		if (want.v[i].plen != 255)
			want.v[kept++] = want.v[i];
	want.n = kept;
	bird_routeset_normalize(&want);
	if (bird_dry_run(c->bird, &want, lc_dry_done, op, &e) < 0) {
		for (size_t i = 0; i < op->n; i++)
			lc_item_fail(&op->items[i], e.code, e.msg, true);
		lc_op_finish(op);
	}
	bird_routeset_clear(&want);
}

static void
lc_applied(void *arg, const struct bird_apply_result *res)
{
	struct lc_op *op = arg;
	struct lifecycle_ctl *c = op->c;
	bool ok = strcmp(res->code, "ok") == 0;
	char *diff = bird_routediff_format(&res->diff);
	struct err e = { 0 };

	lc_batch_begin(c, op->n);
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];
		struct lifecycle_prefix *p = it->p;

		if (!it->go)
			continue;
		/* the whole diff goes in the answer, not into every prefix's evidence */
		json_t *note = json_pack("{s:s, s:s, s:I, s:f, s:b}", "code", res->code,
		    "message", res->message, "txn", (json_int_t)res->txn, "elapsed",
		    res->elapsed, "noop", res->noop);
		if (ok && it->drain_phase) {
			json_object_set_new(p->evidence, "drain", note);
			if (!op->follow)
				lc_save(c, p, &e);
			continue;
		}
		if (!ok) {
			p->drain_until = 0;
			c->stats.apply_failed++;
			lc_item_fail(it, res->code, res->message, true);
		} else {
			p->last_change = lc_now();
			p->drain_until = 0;
			c->stats.apply_ok++;
		}
		it->was = p->state;
		if (lc_op_transition(op, p, ok ? LIFECYCLE_EV_APPLIED : LIFECYCLE_EV_APPLY_FAILED,
		    "bird", note, &e) < 0) {
			if (ok)
				lc_item_fail(it, e.code, e.msg, true);
		} else {
			it->moved = true;
		}
	}
	if (lc_batch_end(c, "lifecycle_applied_commit", &e) < 0)
		lc_batch_undo(op, &e, "BIRD holds the change, but its new state is not durable; "
		    "it stays pending and is resumed once the store takes writes again");
	op->diff = diff;
	if (ok && lc_op_wait_visible(op))
		return;                 /* lc_visible_done answers */
	lc_op_finish(op);
}

/*
 * The batch's COMMIT failed, so the store still holds every prefix as it was before the
 * batch: put the moved ones back in memory (the last durable state) and fail them with the
 * store's code. A pending-* state left this way is retried by lc_ops_resume from the tick.
 */
static void
lc_batch_undo(struct lc_op *op, const struct err *e, const char *what)
{
	char detail[2 * ERR_MSG_MAX];

	snprintf(detail, sizeof(detail), "%s: %s", what, e->msg);
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];

		if (!it->moved)
			continue;
		it->moved = false;
		it->p->state = it->was;
		if (it->drain_phase) {
			it->p->drain_until = 0;
			it->drain_phase = false;
		}
		it->code = NULL;                /* the store's failure is what to report */
		lc_item_fail(it, e->code ? e->code : "store-failed", detail, true);
		op->c->resume_wanted = true;
	}
}

/* Moves the passing items to their pending state and starts the transaction. */
static void
lc_op_apply(struct lc_op *op)
{
	struct lifecycle_ctl *c = op->c;
	struct bird_routeset want = { 0 };
	struct err e = { 0 };
	size_t going = 0;

	lc_batch_begin(c, op->n);              /* pending-* durable before BIRD is touched */
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];
		enum lifecycle_event ev = op->withdraw ? LIFECYCLE_EV_WITHDRAW :
		    LIFECYCLE_EV_ADVERTISE;

		if (!it->go)
			continue;
		if (it->p->state == LIFECYCLE_PENDING_WITHDRAW ||
		    it->p->state == LIFECYCLE_PENDING_ADVERTISE) {
			going++;                /* resumed after a restart */
			continue;
		}
		if (op->withdraw && op->drain > 0) {
			/* whole seconds, rounded up: never shorter than asked */
			it->p->drain_until = lc_now() + op->drain + 1;
			it->drain_phase = true;
		}
		if (!op->withdraw) {
			memcpy(it->p->allow_origin, op->allow, sizeof(op->allow));
			it->p->n_allow = op->n_allow;
		}
		it->was = it->p->state;
		if (lc_op_transition(op, it->p, ev, op->withdraw ? NULL : "advertise",
		    json_incref(it->facts), &e) < 0) {
			lc_item_fail(it, e.code, e.msg, true);
			continue;
		}
		it->moved = true;
		it->p->busy = it->held = true;
		going++;
	}
	if (lc_batch_end(c, NULL, &e) < 0) {
		lc_batch_undo(op, &e, "not changed: the store did not take the pending state, so "
		    "BIRD was not touched");
		lc_op_finish(op);
		return;
	}
	for (size_t i = 0; i < op->n; i++)
		op->items[i].moved = false;
	if (going == 0 || c->bird == NULL) {
		lc_applied(op, &(struct bird_apply_result){ .code = "bird-unavailable",
		    .message = "no BIRD configured" });
		return;
	}
	if (!lc_may_write(c, &e)) {     /* the lease went away since the checks */
		struct bird_apply_result r = { .code = "site-standby" };

		snprintf(r.message, sizeof(r.message), "%s", e.msg);
		lc_applied(op, &r);
		return;
	}
	op->epoch = lc_epoch(c);
	lifecycle_ctl_desired(c, &want, &e);
	bird_apply(c->bird, &want, lc_applied, op);
	bird_routeset_clear(&want);
}

/* After the checks: dry run, apply, or answer. */
static void
lc_op_decide(struct lc_op *op)
{
	size_t go = 0;

	for (size_t i = 0; i < op->n; i++)
		go += op->items[i].go;
	if (op->dry_run && go > 0 && lc_bird_up(op->c))
		lc_dry_run(op);
	else if (op->dry_run || go == 0)
		lc_op_finish(op);
	else
		lc_op_apply(op);
}

/* ---- advertise ----------------------------------------------------------------------- */

static void
lc_adv_facts(struct lc_item *it, struct advertise_facts *f, enum advertise_rov *rov,
    struct rov_result *res)
{
	struct lifecycle_ctl *c = it->c;
	struct err e = { 0 };

	memset(f, 0, sizeof(*f));
	f->state = it->p->state;
	f->state_name = lifecycle_state_name(it->p->state);
	f->rpki_fresh = c->rtr != NULL && rtr_is_fresh(c->rtr);
	f->origin_asn = it->p->origin_asn;
	memset(res, 0, sizeof(*res));
	if (c->rtr == NULL || rpki_validate(c->rtr, &it->cidr, it->p->origin_asn, res, &e) < 0)
		res->state = ROV_NOT_FOUND;
	*rov = res->state == ROV_VALID ? ADVERTISE_ROV_VALID : res->state == ROV_INVALID ?
	    ADVERTISE_ROV_INVALID : ADVERTISE_ROV_NOT_FOUND;
	f->rov = *rov;
	f->allowed = it->op->allow;
	f->n_allowed = it->op->n_allow;
	f->now = (double)lc_now();
	f->last_change = (double)it->p->last_change;
	f->min_change_interval = c->conf->policy_min_change_interval;
	if (it->facts == NULL)
		it->facts = json_pack("{s:b, s:o}", "rpki_fresh", f->rpki_fresh, "rov",
		    rov_result_to_json(&it->cidr, it->p->origin_asn, res));
}

static void
lc_adv_check(struct lc_item *it, const struct advertise_origin *others, size_t n_others,
    bool with_rate)
{
	struct advertise_facts f;
	enum advertise_rov rov;
	struct rov_result res;
	struct err e = { 0 };
	char buf[CIDR_STRLEN];

	lc_adv_facts(it, &f, &rov, &res);
	f.prefix = cidr_format(&it->cidr, buf, sizeof(buf));
	f.others = others;
	f.n_others = n_others;
	if (!with_rate)
		f.min_change_interval = 0;
	if (advertise_check(&f, &e) < 0)
		lc_item_fail(it, e.code, e.msg, false);
	else if (lifecycle_ctl_origin_ok(it->c, it->p->origin_asn, &e) < 0)
		lc_item_fail(it, e.code, e.msg, false);
}

static void
lc_rib_done(void *arg, const struct rib_origin *v, size_t n, const struct err *e)
{
	struct lc_item *it = arg;
	struct lc_op *op = it->op;
	struct advertise_origin *o = calloc(n ? n : 1, sizeof(*o));
	json_t *seen = json_array();

	if (o == NULL)
		fatal("calloc");
	if (e != NULL) {
		lc_item_fail(it, strcmp(e->code, "bird-config-invalid") == 0 ?
		    "bird-config-invalid" : "bird-unavailable", e->msg, true);
	} else {
		for (size_t i = 0; i < n; i++) {
			o[i].asn = v[i].origin_as;
			o[i].as_path = v[i].as_path;
			json_array_append_new(seen, json_pack("{s:s, s:s, s:I, s:s}", "net",
			    v[i].net, "proto", v[i].proto, "origin_as", (json_int_t)v[i].origin_as,
			    "as_path", v[i].as_path));
		}
		lc_adv_check(it, o, n, true);
		it->go = it->code == NULL;
	}
	json_object_set_new(it->facts, "other_origins", seen);
	free(o);
	if (--op->rib_pending == 0)
		lc_op_decide(op);
}

void
lifecycle_ctl_advertise(struct lifecycle_ctl *c, const struct lifecycle_ctl_req *r,
    lifecycle_ctl_done_fn done, void *arg)
{
	struct lc_op *op = lc_op_new(c, r, false, done, arg);
	struct err e = { 0 };
	char buf[CIDR_STRLEN];

	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];

		if (it->p == NULL) {
			lc_item_fail(it, "not-found", "not a public prefix", true);
			continue;
		}
		if (it->p->busy) {
			lc_item_fail(it, "busy", "a change of it is in progress", true);
			continue;
		}
		lc_adv_check(it, NULL, 0, false);
		if (it->code == NULL && !lc_bird_up(c))
			lc_item_fail(it, "bird-unavailable", "BIRD is not connected", true);
		if (it->code == NULL && !op->dry_run && !lc_may_write(c, &e))
			lc_item_fail(it, e.code, e.msg, true);
	}
	op->rib_pending = 1;            /* held until every look-up is started */
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];

		if (it->code != NULL)
			continue;
		it->p->busy = it->held = true;
		op->rib_pending++;
		if (bird_other_origins(c->bird, cidr_format(&it->cidr, buf, sizeof(buf)),
		    it->p->origin_asn, lc_rib_done, it, &e) < 0) {
			op->rib_pending--;
			lc_item_fail(it, "bird-unavailable", e.msg, true);
		}
	}
	if (--op->rib_pending == 0)
		lc_op_decide(op);
}

/* ---- withdraw ------------------------------------------------------------------------ */

void
lifecycle_ctl_withdraw(struct lifecycle_ctl *c, const struct lifecycle_ctl_req *r,
    lifecycle_ctl_done_fn done, void *arg)
{
	struct lc_op *op = lc_op_new(c, r, true, done, arg);
	const struct conf *cf = c->conf;
	struct err e = { 0 };
	char buf[CIDR_STRLEN];

	if (advertise_check_blast_radius(op->n, lc_count_state(c, LIFECYCLE_ADVERTISED),
	    cf->policy_max_withdraw, cf->policy_max_withdraw_percent, r->confirm_large, &e) < 0) {
		for (size_t i = 0; i < op->n; i++)
			lc_item_fail(&op->items[i], e.code, e.msg, false);
		if (op->n == 0 && done != NULL) {       /* the request as a whole is refused */
			struct lifecycle_item_result whole = { .code = e.code };
			struct lifecycle_outcome out = { .action = "withdraw",
			    .first_failure = &whole };

			snprintf(whole.message, sizeof(whole.message), "%s", e.msg);
			done(arg, &out);
			free(op->items);
			free(op);
			return;
		}
	}
	for (size_t i = 0; i < op->n; i++) {
		struct lc_item *it = &op->items[i];
		enum lifecycle_state st;

		if (it->code != NULL)
			continue;
		if (it->p == NULL) {
			lc_item_fail(it, "not-found", "not a public prefix", true);
			continue;
		}
		st = it->p->state;
		if (it->p->busy || lifecycle_fsm(&st, LIFECYCLE_EV_WITHDRAW, &e) < 0) {
			lc_item_fail(it, it->p->busy ? "busy" : e.code, it->p->busy ?
			    "a change of it is in progress" : e.msg, it->p->busy);
			continue;
		}
		if (advertise_check_rate(cidr_format(&it->cidr, buf, sizeof(buf)),
		    (double)lc_now(), (double)it->p->last_change,
		    cf->policy_min_change_interval, &e) < 0) {
			lc_item_fail(it, e.code, e.msg, false);
			continue;
		}
		if (!lc_bird_up(c)) {
			lc_item_fail(it, "bird-unavailable", "BIRD is not connected", true);
			continue;
		}
		if (!op->dry_run && !lc_may_write(c, &e)) {
			lc_item_fail(it, e.code, e.msg, true);
			continue;
		}
		/* the circuit breaker counts every prefix-site withdrawal across instances; the
		 * last check, so that only withdrawals about to happen are counted */
		if (!op->dry_run && c->store != NULL && store_withdraw_admit(c->store, &it->cidr,
		    lifecycle_ctl_site(c), lc_now(), cf->policy_max_withdraw_rate, &e) < 0) {
			lc_item_fail(it, e.code, e.msg, true);
			continue;
		}
		it->go = true;
	}
	lc_op_decide(op);
}

/* ---- internal operations ------------------------------------------------------------- */

/* An operation over every row matching WANT (resume) or over one prefix. */
static void
lc_internal(struct lifecycle_ctl *c, bool withdraw, struct lifecycle_prefix *only,
    bool (*want)(const struct lifecycle_prefix *p, int64_t now))
{
	struct lc_op *op = lc_op_new(c, NULL, withdraw, NULL, NULL);
	int64_t now = lc_now();
	size_t n = 0;

	free(op->items);
	if ((op->items = calloc(c->n ? c->n : 1, sizeof(*op->items))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < c->n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->busy || (only != NULL ? p != only : !want(p, now)))
			continue;
		op->items[n] = (struct lc_item){ .c = c, .op = op, .cidr = p->cidr, .p = p,
		    .go = true };
		n++;
	}
	op->n = n;
	if (n == 0) {
		lc_op_finish(op);
		return;
	}
	for (size_t i = 0; i < n; i++)
		op->items[i].p->busy = op->items[i].held = true;
	lc_op_apply(op);
}

static bool
lc_want_resume(const struct lifecycle_prefix *p, int64_t now)
{
	return p->state == LIFECYCLE_PENDING_ADVERTISE ||
	    (p->state == LIFECYCLE_PENDING_WITHDRAW && p->drain_until <= now);
}

static bool
lc_want_drained(const struct lifecycle_prefix *p, int64_t now)
{
	return p->state == LIFECYCLE_PENDING_WITHDRAW && p->drain_until != 0 &&
	    p->drain_until <= now;
}

/* The reconcile run that covered a resume: BIRD now equals the desired set (which holds the
 * pending rows' routes), or the run failed. */
static void
lc_resume_done(void *arg, const struct reconcile_result *res)
{
	struct bird_apply_result r = { .code = res->code };

	snprintf(r.message, sizeof(r.message), "%s", res->message);
	lc_applied(arg, &r);
}

/*
 * Resume joins the reconciler's run (the one every BIRD connect starts) instead of making a
 * transaction of its own: that run undoes a config a crash left unconfirmed and applies the
 * desired set, so a change that already reached BIRD is not made again, and one that did not
 * is made once.
 */
void
lc_ops_resume(struct lifecycle_ctl *c)
{
	struct lc_op *op;
	int64_t now = lc_now();
	size_t n = 0;

	if (!lc_bird_up(c) || !lc_may_write(c, NULL))
		return;
	for (size_t i = 0; i < c->n; i++)
		n += !c->v[i]->busy && lc_want_resume(c->v[i], now);
	if (n == 0)
		return;
	op = lc_op_new(c, NULL, false, NULL, NULL);
	free(op->items);
	if ((op->items = calloc(n, sizeof(*op->items))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < c->n && op->n < n; i++) {
		struct lifecycle_prefix *p = c->v[i];

		if (p->busy || !lc_want_resume(p, now))
			continue;
		op->items[op->n++] = (struct lc_item){ .c = c, .op = op, .cidr = p->cidr, .p = p,
		    .go = true, .held = true };
		p->busy = true;
	}
	op->epoch = lc_epoch(c);
	bird_reconcile_now(c->bird, lc_resume_done, op);
}

void
lc_ops_drain_tick(struct lifecycle_ctl *c)
{
	int64_t now = lc_now();
	bool any = false;

	for (size_t i = 0; i < c->n; i++)
		any |= !c->v[i]->busy && lc_want_drained(c->v[i], now);
	if (any && lc_bird_up(c) && lc_may_write(c, NULL))
		lc_internal(c, true, NULL, lc_want_drained);
}

void
lc_ops_policy_withdraw(struct lifecycle_ctl *c, struct lifecycle_prefix *p)
{
	struct err e = { 0 };

	if (p->state != LIFECYCLE_ADVERTISED || p->busy || !lc_may_write(c, NULL))
		return;
	if (c->store != NULL && store_withdraw_admit(c->store, &p->cidr, lifecycle_ctl_site(c),
	    lc_now(), c->conf->policy_max_withdraw_rate, &e) < 0) {
		log_warnx("policy on_invalid = withdraw: not withdrawn: %s", e.msg);
		return;
	}
	log_warnx("policy on_invalid = withdraw: withdrawing an invalid prefix");
	lc_internal(c, true, p, NULL);
}
