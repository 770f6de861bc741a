/*
 * lifecycle_sites — the controller's part of sites (issue 17; contract in lifecycle_ctl.h,
 * struct lifecycle_deps.lease): the writer check before BIRD is touched, the per-(prefix,
 * site) record of each result under the lease epoch, and the follower that applies what
 * other instances asked of this site.
 *
 * The follower: every second, and at once when another instance's desire is notified (on
 * PostgreSQL, prefixd.c's feed watcher calls lifecycle_ctl_sites_follow), while this instance
 * holds its site's lease, it reads the store's
 * rows of its own site (store_site_load) and takes those whose desire is not applied yet —
 * state "pending", or "failed" with the desire recorded after the failure (asked again). A
 * prefix already where the desire wants it is recorded so at once; the others become one
 * advertise and one withdraw operation of this instance (every interlock of this site runs:
 * its RIB, its RTR view, its rate limit, the circuit breaker), whose results lc_op_record
 * writes. Those operations run with site_follow: their results are this site's rows and the
 * events, and the shared prefix document is not rewritten (it keeps the asking instance's
 * state, which names its site: lc_row_state reads it as "provisioned" here), which halves the
 * store's work when 1,000 prefixes go to two sites (tests/bench/bench_sites.sh). The
 * blast-radius cap was the asking instance's check (confirm_large here). A row
 * of a prefix memory does not know yet first makes memory follow the store's public prefixes
 * (lifecycle_ctl_follow: provisioned at another instance a moment ago).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "lifecycle_private.h"
#include "log.h"
#include "site_lease.h"
#include "store_sites.h"

const char *
lifecycle_ctl_site(const struct lifecycle_ctl *c)
{
	return c->lease != NULL ? site_lease_site(c->lease) : c->conf->site_name;
}

bool
lc_may_write(const struct lifecycle_ctl *c, struct err *e)
{
	if (c->lease == NULL || site_lease_may_write(c->lease))
		return true;
	if (e != NULL)
		err_set(e, "site-standby", "this instance is a standby of site %s (another "
		    "instance holds its writer lease): it does not write BIRD",
		    site_lease_site(c->lease));
	return false;
}

uint64_t
lc_epoch(const struct lifecycle_ctl *c)
{
	return c->lease != NULL ? site_lease_epoch(c->lease) : 0;
}

void
lc_records_add(struct lifecycle_ctl *c, struct lc_records *r, const struct cidr *cidr,
    const char *state, const char *code, const char *msg, uint64_t epoch)
{
	struct store_site_row *row;
	json_t *ev;

	if (c->lease == NULL || c->store == NULL)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if ((r->v = realloc(r->v, r->cap * sizeof(*r->v))) == NULL)
			fatal("realloc");
	}
	row = &r->v[r->n++];
	*row = (struct store_site_row){ .cidr = *cidr, .site = site_lease_site(c->lease),
		.state = state, .last_change = lc_now(), .failure_reason = code, .epoch = epoch };
	if (code != NULL) {
		ev = json_pack("{s:s, s:s}", "code", code, "message", msg ? msg : "");
		row->evidence = json_dumps(ev, JSON_COMPACT);   /* freed by lc_records_write */
		json_decref(ev);
	}
}

int
lc_records_write(struct lifecycle_ctl *c, struct lc_records *r, struct err *e)
{
	int rc = 0;

	if (r->n > 0)
		rc = store_site_record_many(c->store, r->v, r->n, site_lease_holder(c->lease),
		    lc_now(), e);
	for (size_t i = 0; i < r->n; i++)
		free((char *)r->v[i].evidence);
	free(r->v);
	*r = (struct lc_records){ 0 };
	return rc;
}

static int
lc_adopt_row(void *arg, const struct store_site_row *r, struct err *e)
{
	struct lifecycle_ctl *c = arg;
	struct lifecycle_prefix *p = lifecycle_ctl_find(c, &r->cidr);

	(void)e;
	if (p == NULL || (p->state != LIFECYCLE_ADVERTISED && p->state != LIFECYCLE_PROVISIONED))
		return 0;
	if (strcmp(r->state, "advertised") == 0)
		p->state = LIFECYCLE_ADVERTISED;
	else if (strcmp(r->state, "withdrawn") == 0)
		p->state = LIFECYCLE_PROVISIONED;
	return 0;
}

void
lc_sites_adopt(struct lifecycle_ctl *c)
{
	struct err e = { 0 };

	if (c->lease != NULL && c->store != NULL &&
	    store_site_load(c->store, NULL, lifecycle_ctl_site(c), lc_adopt_row, c, &e) < 0)
		log_warnx("site %s: own-site states not read (the documents' states stand): %s",
		    lifecycle_ctl_site(c), e.msg);
}

void
lc_sites_takeover(struct lifecycle_ctl *c)
{
	uint64_t epoch = lc_epoch(c);

	if (c->lease == NULL || epoch == 0 || epoch == c->adopted_epoch ||
	    !site_lease_may_write(c->lease))
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i]->busy)
			return;                 /* an operation runs: it decides (next call) */
	c->adopted_epoch = epoch;
	log_info("site %s: writer under epoch %llu: own-site states read again",
	    lifecycle_ctl_site(c), (unsigned long long)epoch);
	lc_sites_adopt(c);
}

/* ---- the follower -------------------------------------------------------------------- */

struct lc_follow {
	struct cidr *v;                 /* rows to act on (collected first: no store write
	                                   while the store's rows are being read) */
	bool *want;
	size_t n, cap;
};

static int
lc_follow_row(void *arg, const struct store_site_row *r, struct err *e)
{
	struct lc_follow *f = arg;

	(void)e;
	if (strcmp(r->state, "pending") != 0 && !(strcmp(r->state, "failed") == 0 &&
	    r->desired_at > r->last_change))
		return 0;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		if ((f->v = realloc(f->v, f->cap * sizeof(*f->v))) == NULL ||
		    (f->want = realloc(f->want, f->cap * sizeof(*f->want))) == NULL)
			fatal("realloc");
	}
	f->v[f->n] = r->cidr;
	f->want[f->n++] = r->want;
	return 0;
}

/* Sorts the collected rows into the two operations; a prefix already where its desire wants
 * it is recorded at once. */
static void
lc_follow_sort(struct lifecycle_ctl *c, const struct lc_follow *f, struct cidr *adv,
    size_t *nadv, struct cidr *wd, size_t *nwd)
{
	uint64_t epoch = lc_epoch(c);
	struct lc_records rec = { 0 };
	struct err e = { 0 };

	for (size_t i = 0; i < f->n; i++) {
		struct lifecycle_prefix *p = lifecycle_ctl_find(c, &f->v[i]);
		const char *state = NULL, *code = NULL;

		if (p == NULL)
			state = "failed", code = "not-found";
		else if (p->busy)
			continue;               /* its running operation records the result */
		else if (f->want[i] && p->state == LIFECYCLE_ADVERTISED)
			state = "advertised";
		else if (!f->want[i] && !lifecycle_state_wants_route(p->state) &&
		    !lifecycle_state_is_pending(p->state))
			state = "withdrawn";
		else if (f->want[i])
			adv[(*nadv)++] = f->v[i];
		else
			wd[(*nwd)++] = f->v[i];
		if (state != NULL)
			lc_records_add(c, &rec, &f->v[i], state, code, code ?
			    "not a public prefix at this site's instance" : NULL, epoch);
	}
	if (lc_records_write(c, &rec, &e) < 0)
		log_warnx("site follow: %s", e.msg);
}

static void
lc_follow_done(void *arg, const struct lifecycle_outcome *o)
{
	struct lifecycle_ctl *c = arg;
	char buf[CIDR_STRLEN];

	c->following--;
	if (o->first_failure != NULL)
		log_warnx("site %s: %s of %s asked by another instance: %s",
		    lifecycle_ctl_site(c), o->action, o->n ? cidr_format(&o->first_failure->cidr,
		    buf, sizeof(buf)) : "(none)", o->first_failure->message);
}

/* A row of a prefix memory does not know yet (provisioned at another instance a moment ago):
 * memory follows the store's prefixes first (lifecycle_ctl_follow), so that the row is not
 * answered not-found. */
static void
lc_follow_known(struct lifecycle_ctl *c, const struct lc_follow *f)
{
	struct err e = { 0 };

	for (size_t i = 0; i < f->n; i++)
		if (lifecycle_ctl_find(c, &f->v[i]) == NULL) {
			if (lifecycle_ctl_follow(c, &e) < 0)
				log_warnx("site follow: public prefixes: %s", e.msg);
			return;
		}
}

void
lifecycle_ctl_sites_follow(struct lifecycle_ctl *c)
{
	static const struct ipam_actor who = { .actor = "site-follower", .role = "system",
		.request_id = "" };
	struct lc_follow f = { 0 };
	struct cidr *adv = NULL, *wd = NULL;
	size_t nadv = 0, nwd = 0;
	struct err e = { 0 };

	if (c->lease == NULL || c->store == NULL || c->following > 0 || !lc_bird_up(c) ||
	    !lc_may_write(c, NULL))
		return;                 /* a site that cannot write leaves its rows pending */
	lc_sites_takeover(c);
	if (store_site_load(c->store, NULL, lifecycle_ctl_site(c), lc_follow_row, &f, &e) < 0)
		log_warnx("site follow: %s", e.msg);
	else if (f.n > 0) {
		lc_follow_known(c, &f);
		if ((adv = calloc(f.n, sizeof(*adv))) == NULL ||
		    (wd = calloc(f.n, sizeof(*wd))) == NULL)
			fatal("calloc");
		lc_follow_sort(c, &f, adv, &nadv, wd, &nwd);
	}
	if (nadv > 0) {
		c->following++;
		lifecycle_ctl_advertise(c, &(struct lifecycle_ctl_req){ .cidrs = adv, .n = nadv,
		    .site_follow = true, .who = &who }, lc_follow_done, c);
	}
	if (nwd > 0) {
		c->following++;
		lifecycle_ctl_withdraw(c, &(struct lifecycle_ctl_req){ .cidrs = wd, .n = nwd,
		    .confirm_large = true, .site_follow = true, .who = &who }, lc_follow_done, c);
	}
	free(adv);
	free(wd);
	free(f.v);
	free(f.want);
}

static void
lc_follow_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	lifecycle_ctl_sites_follow(w->data);
}

void
lc_sites_start(struct lifecycle_ctl *c)
{
	if (c->lease == NULL)
		return;
	ev_timer_init(&c->follow, lc_follow_tick, 1., 1.);
	c->follow.data = c;
	ev_timer_start(c->loop, &c->follow);
}

void
lc_sites_stop(struct lifecycle_ctl *c)
{
	if (c->lease != NULL)
		ev_timer_stop(c->loop, &c->follow);
}
