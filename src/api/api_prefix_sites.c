/*
 * api_prefix_sites — advertise / withdraw at several sites (issue 17; contract in
 * api_prefix_sites.h).
 *
 *   POST /v1/advertise | /v1/withdraw  + "sites":["fra1","ams2"] | "all_sites":true
 *   GET  /v1/sites                     reader  every site the store knows: lease holder,
 *                                              epoch, expiry, live; the withdrawal breaker
 *   POST /v1/sites/breaker/reset       admin   closes the withdrawal circuit breaker
 *
 * A site request records the desired state of every (prefix, site) in the store
 * (store_site_desire_many: one statement for all of them); this instance's own site is
 * changed at once (the lifecycle, as without sites), every other site's instance applies its
 * rows by itself (lifecycle_sites.c). The
 * request waits, polling the store every 200 ms, until each (prefix, site) recorded a result
 * or [site] change_timeout passed. A site without a live lease holder is answered
 * site-unavailable at once; its desire stays recorded and is applied when it comes back. No
 * answer in time: site-timeout. The answer lists every (prefix, site) with its code; the
 * status is the first failure's (never 200 when a site failed). The sites are checked before
 * anything is written: an empty list, a bad name, a site the store does not know, a name
 * twice, and a dry run of another site are refused and change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "api_prefix_sites.h"
#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "site_lease.h"
#include "store_sites.h"

#define APS_MAX_SITES 64

struct aps_res {
	bool done;
	const char *state;              /* static: "advertised", "withdrawn", "failed", ... */
	char code[48];                  /* "" on success */
	char message[ERR_MSG_MAX];
};

struct aps {
	struct daemon *d;
	struct http_req *req;
	bool withdraw, suspended, own_running;
	char sites[APS_MAX_SITES][STORE_SITE_NAME_MAX + 1];
	size_t nsites;
	long own;                       /* index of the own site, -1 when not targeted */
	struct cidr *cidrs;
	size_t n, left;                 /* (prefix, site) results still awaited */
	struct aps_res *res;            /* [site * n + i] */
	int64_t t0;
	ev_tstamp deadline;
	ev_timer poll;
	json_t *own_body;               /* the lifecycle's answer for the own site */
	int status;
	json_t *body;                   /* the answer, once ready before suspension */
};

static void *
aps_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		fatal("calloc");
	return p;
}

static int64_t
aps_now(void)
{
	return (int64_t)time(NULL);
}

bool
api_sites_requested(const json_t *body)
{
	return json_object_get(body, "sites") != NULL || json_object_get(body, "all_sites") != NULL;
}

static void
aps_set(struct aps *a, size_t s, size_t i, const char *state, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 6, 7)));

static void
aps_set(struct aps *a, size_t s, size_t i, const char *state, const char *code, const char *fmt,
    ...)
{
	struct aps_res *r = &a->res[s * a->n + i];
	va_list ap;

	if (r->done)
		return;
	r->done = true;
	a->left--;
	r->state = state;
	snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
	r->message[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->message, sizeof(r->message), fmt, ap);
		va_end(ap);
	}
}

static void
aps_free(struct aps *a)
{
	free(a->cidrs);
	free(a->res);
	json_decref(a->own_body);
	free(a);
}

/* The answer: {"action","dry_run","sites":[...],"results":[{"site","cidr","state","code",
 * "message"}],"prefixes"?:(the own site's, as without sites),"diff"?,"error"?}. */
static void
aps_answer(struct aps *a)
{
	json_t *results = json_array(), *sites = json_array(), *body;
	const struct aps_res *first = NULL;
	size_t first_site = 0;
	char buf[CIDR_STRLEN];

	for (size_t s = 0; s < a->nsites; s++) {
		json_array_append_new(sites, json_string(a->sites[s]));
		for (size_t i = 0; i < a->n; i++) {
			const struct aps_res *r = &a->res[s * a->n + i];

			json_array_append_new(results, json_pack("{s:s, s:s, s:s, s:o, s:o}",
			    "site", a->sites[s], "cidr", cidr_format(&a->cidrs[i], buf, sizeof(buf)),
			    "state", r->state ? r->state : "pending",
			    "code", r->code[0] ? json_string(r->code) : json_null(),
			    "message", r->code[0] ? json_string(r->message) : json_null()));
			if (r->code[0] && first == NULL) {
				first = r;
				first_site = s;
			}
		}
	}
	body = json_pack("{s:s, s:b, s:o, s:o}", "action", a->withdraw ? "withdraw" :
	    "advertise", "dry_run", false, "sites", sites, "results", results);
	if (a->own_body != NULL) {
		json_object_set(body, "prefixes", json_object_get(a->own_body, "prefixes"));
		if (json_object_get(a->own_body, "diff") != NULL)
			json_object_set(body, "diff", json_object_get(a->own_body, "diff"));
		json_object_set(body, "dry_run", json_object_get(a->own_body, "dry_run"));
	}
	if (first != NULL) {
		char msg[ERR_MSG_MAX + 64];

		snprintf(msg, sizeof(msg), "at site %s: %s", a->sites[first_site], first->message);
		json_object_set_new(body, "error", json_pack("{s:s, s:s, s:s}", "code", first->code,
		    "site", a->sites[first_site], "message", msg));
	}
	a->status = first != NULL ? api_status_of(first->code) : 200;
	if (!a->suspended) {
		a->body = body;
		return;
	}
	http_reply_json(a->req, a->status, body);
	http_resume(a->req);
	http_kick(a->d->http);
	aps_free(a);
}

static void
aps_maybe_answer(struct aps *a)
{
	if (a->left > 0 || a->own_running)
		return;
	ev_timer_stop(a->d->loop, &a->poll);
	aps_answer(a);
}

/* The own site's outcome (the lifecycle, as a request without sites). */
static void
aps_own_done(void *arg, const struct lifecycle_outcome *o)
{
	struct aps *a = arg;
	size_t s = (size_t)a->own;

	for (size_t i = 0; i < o->n && i < a->n; i++) {
		const struct lifecycle_item_result *r = &o->items[i];
		const char *state = r->code != NULL ? "failed" : r->state ==
		    LIFECYCLE_ADVERTISED ? "advertised" : a->withdraw ? "withdrawn" :
		    lifecycle_state_name(r->state);

		/* already where the request wants it at this site: no failure here (the other
		 * sites may still have to change) */
		if (r->code != NULL && ((!a->withdraw && strcmp(r->code, "not-provisioned") == 0 &&
		    r->state == LIFECYCLE_ADVERTISED) || (a->withdraw &&
		    strcmp(r->code, "not-advertised") == 0 && r->state == LIFECYCLE_PROVISIONED))) {
			aps_set(a, s, i, a->withdraw ? "withdrawn" : "advertised", NULL, NULL);
			continue;
		}

		if (o->dry_run && r->code == NULL)
			state = "dry-run";
		aps_set(a, s, i, state, r->code, "%s", r->message);
	}
	if (o->n == 0 && o->first_failure != NULL)      /* refused as a whole */
		for (size_t i = 0; i < a->n; i++)
			aps_set(a, s, i, "failed", o->first_failure->code, "%s",
			    o->first_failure->message);
	for (size_t i = 0; i < a->n; i++)               /* never left open */
		aps_set(a, s, i, "failed", "internal", "no result from the lifecycle");
	a->own_body = json_pack("{s:b}", "dry_run", o->dry_run);
	if (o->diff != NULL)
		json_object_set_new(a->own_body, "diff", json_string(o->diff));
	a->own_running = false;
	aps_maybe_answer(a);
}

static int
aps_cidr_find(const struct aps *a, const struct cidr *c)
{
	for (size_t i = 0; i < a->n; i++)
		if (cidr_equal(&a->cidrs[i], c))
			return (int)i;
	return -1;
}

struct aps_poll {
	struct aps *a;
	size_t site;
};

static int
aps_poll_row(void *arg, const struct store_site_row *r, struct err *e)
{
	struct aps_poll *p = arg;
	struct aps *a = p->a;
	int i;

	(void)e;
	if ((i = aps_cidr_find(a, &r->cidr)) < 0 || a->res[p->site * a->n + (size_t)i].done ||
	    r->want == a->withdraw)
		return 0;
	if (strcmp(r->state, a->withdraw ? "withdrawn" : "advertised") == 0)
		aps_set(a, p->site, (size_t)i, a->withdraw ? "withdrawn" : "advertised", NULL,
		    NULL);
	else if (strcmp(r->state, "failed") == 0 && r->last_change >= a->t0 &&
	    r->last_change >= r->desired_at)
		aps_set(a, p->site, (size_t)i, "failed", r->failure_reason ? r->failure_reason :
		    "internal", "%s", r->evidence ? r->evidence : "");
	return 0;
}

static bool
aps_lease_live(const struct store_lease *l, int64_t now)
{
	return l->holder[0] != '\0' && l->expires > now;
}

/* The desire of every (prefix, site), in the request's transaction and one store statement
 * (store_site_desire_many); a prefix this instance does not know fails not-found at the
 * other sites (its own operation answers for the own site). */
static int
aps_desire(struct daemon *d, struct aps *a, bool withdraw, int64_t now, struct err *e)
{
	struct cidr *c = aps_calloc(a->n * a->nsites, sizeof(*c));
	const char **site = aps_calloc(a->n * a->nsites, sizeof(*site));
	size_t k = 0;
	int rc;

	for (size_t s = 0; s < a->nsites; s++)
		for (size_t i = 0; i < a->n; i++) {
			if (lifecycle_ctl_find(d->lc, &a->cidrs[i]) == NULL) {
				if ((long)s != a->own)
					aps_set(a, s, i, "failed", "not-found", "not a public prefix");
				continue;
			}
			c[k] = a->cidrs[i];
			site[k++] = a->sites[s];
		}
	rc = store_site_desire_many(d->store, c, site, k, !withdraw, now, e);
	free(c);
	free(site);
	return rc;
}

static void
aps_unavailable(struct aps *a, size_t s, const char *why)
{
	for (size_t i = 0; i < a->n; i++)
		aps_set(a, s, i, "pending", "site-unavailable", "site %s %s; its desired state "
		    "stays recorded and is applied when it comes back", a->sites[s], why);
}

static void
aps_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct aps *a = w->data;
	int64_t now = aps_now();
	struct err e = { 0 };

	(void)revents;
	for (size_t s = 0; s < a->nsites && a->left > 0; s++) {
		struct aps_poll p = { a, s };
		struct store_lease l;
		bool open = false;

		if ((long)s == a->own)
			continue;
		for (size_t i = 0; i < a->n && !open; i++)
			open = !a->res[s * a->n + i].done;
		if (!open)
			continue;
		if (store_site_load(a->d->store, NULL, a->sites[s], aps_poll_row, &p, &e) < 0)
			log_warnx("site request: %s", e.msg);
		else if (store_lease_get(a->d->store, a->sites[s], &l, &e) == 0 &&
		    !aps_lease_live(&l, now))
			aps_unavailable(a, s, "has no live instance (its writer lease expired)");
	}
	if (a->left > 0 && ev_now(loop) >= a->deadline)
		for (size_t s = 0; s < a->nsites; s++)
			for (size_t i = 0; i < a->n; i++)
				aps_set(a, s, i, "pending", "site-timeout", "site %s did not answer "
				    "within change_timeout (%u s); its desired state stays recorded",
				    a->sites[s], a->d->conf->site_change_timeout);
	aps_maybe_answer(a);
}

/* The sites the store knows (every instance that ran on it made its lease row); on SQLite
 * the one site. */
static int
aps_known(struct daemon *d, struct store_lease *v, size_t *n, struct err *e)
{
	if (d->site == NULL) {
		memset(v, 0, sizeof(*v));
		snprintf(v->site, sizeof(v->site), "%s", d->conf->site_name);
		snprintf(v->holder, sizeof(v->holder), "this instance");
		v->expires = INT64_MAX;
		*n = 1;
		return 0;
	}
	return store_lease_list(d->store, v, APS_MAX_SITES, n, e);
}

/* Reads "sites" / "all_sites" into a->sites; replies and returns -1 when refused. */
static int
aps_parse(struct api_ctx *ctx, struct aps *a, const struct store_lease *known, size_t nknown)
{
	json_t *sites = json_object_get(ctx->body, "sites"), *all = json_object_get(ctx->body,
	    "all_sites"), *x;
	size_t i;

	if (sites != NULL && all != NULL) {
		api_error(ctx, "invalid-argument", "give sites or all_sites, not both");
		return -1;
	}
	if (all != NULL) {
		if (!json_is_true(all)) {
			api_error(ctx, "invalid-argument", "all_sites is true or absent");
			return -1;
		}
		for (i = 0; i < nknown; i++)
			snprintf(a->sites[a->nsites++], sizeof(a->sites[0]), "%.32s", known[i].site);
		return 0;
	}
	if (!json_is_array(sites) || json_array_size(sites) == 0) {
		api_error(ctx, "invalid-argument", "sites is a non-empty list of site names (an "
		    "empty list never means all: use all_sites)");
		return -1;
	}
	if (json_array_size(sites) > APS_MAX_SITES) {
		api_error(ctx, "invalid-argument", "at most %d sites", APS_MAX_SITES);
		return -1;
	}
	json_array_foreach(sites, i, x) {
		const char *v = json_string_value(x);
		bool found = false;

		if (v == NULL || conf_site_name_ok(v, json_string_length(x)) < 0) {
			api_error(ctx, "invalid-argument", "sites[%zu] is not a site name "
			    "([a-z0-9-], 1 to %d characters)", i, STORE_SITE_NAME_MAX);
			return -1;
		}
		for (size_t j = 0; j < a->nsites; j++)
			if (strcmp(a->sites[j], v) == 0) {
				api_error(ctx, "invalid-argument", "site %s is given twice", v);
				return -1;
			}
		for (size_t j = 0; j < nknown && !found; j++)
			found = strcmp(known[j].site, v) == 0;
		if (!found) {
			char list[APS_MAX_SITES * (STORE_SITE_NAME_MAX + 2)] = "";

			for (size_t j = 0; j < nknown; j++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.32s",
				    j ? ", " : "", known[j].site);
			api_error(ctx, "site-unknown", "no site '%s' in the store (known: %s)", v,
			    list);
			return -1;
		}
		snprintf(a->sites[a->nsites++], sizeof(a->sites[0]), "%.32s", v);
	}
	return 0;
}

void
api_sites_change(struct api_ctx *ctx, bool withdraw, const struct lifecycle_ctl_req *r)
{
	struct daemon *d = ctx->d;
	struct store_lease known[APS_MAX_SITES];
	size_t nknown = 0;
	int64_t now = aps_now();
	struct aps *a = aps_calloc(1, sizeof(*a));
	struct err e = { 0 };

	a->d = d;
	a->req = ctx->req;
	a->withdraw = withdraw;
	a->own = -1;
	a->t0 = now;
	if (aps_known(d, known, &nknown, &e) < 0) {
		api_reply_err(ctx, &e);
		aps_free(a);
		return;
	}
	if (aps_parse(ctx, a, known, nknown) < 0) {
		aps_free(a);
		return;
	}
	for (size_t s = 0; s < a->nsites; s++)
		if (strcmp(a->sites[s], lifecycle_ctl_site(d->lc)) == 0)
			a->own = (long)s;
	if (r->dry_run && (a->nsites != 1 || a->own != 0)) {
		api_error(ctx, "invalid-argument", "a dry run covers this instance's site (%s) "
		    "only: ask each site's instance", lifecycle_ctl_site(d->lc));
		aps_free(a);
		return;
	}
	a->n = r->n;
	a->left = a->n * a->nsites;
	a->cidrs = aps_calloc(a->n, sizeof(*a->cidrs));
	memcpy(a->cidrs, r->cidrs, a->n * sizeof(*a->cidrs));
	a->res = aps_calloc(a->n * a->nsites, sizeof(*a->res));
	if (d->site != NULL && !r->dry_run && aps_desire(d, a, withdraw, now, &e) < 0) {
		api_reply_err(ctx, &e);
		aps_free(a);
		return;
	}
	for (size_t s = 0; s < a->nsites; s++)
		for (size_t k = 0; k < nknown && (long)s != a->own; k++)
			if (strcmp(known[k].site, a->sites[s]) == 0 &&
			    !aps_lease_live(&known[k], now))
				aps_unavailable(a, s, "has no live instance (its writer lease "
				    "expired)");
	ev_timer_init(&a->poll, aps_poll_cb, 0.2, 0.2);
	a->poll.data = a;
	a->deadline = ev_now(d->loop) + d->conf->site_change_timeout;
	if (a->own >= 0) {
		a->own_running = true;
		if (withdraw)
			lifecycle_ctl_withdraw(d->lc, r, aps_own_done, a);
		else
			lifecycle_ctl_advertise(d->lc, r, aps_own_done, a);
	}
	if (a->body == NULL) {          /* the own site may have answered at once */
		if (a->left > 0 || a->own_running)
			ev_timer_start(d->loop, &a->poll);
		else
			aps_answer(a);
	}
	if (a->body != NULL) {          /* answered before suspension */
		api_reply(ctx, a->status, a->body);
		a->body = NULL;
		aps_free(a);
		return;
	}
	a->suspended = true;
	http_suspend(ctx->req);
}

/* ---- views --------------------------------------------------------------------------- */

static int
aps_row_json(void *arg, const struct store_site_row *r, struct err *e)
{
	json_t *list = arg, *ev = r->evidence ? json_loads(r->evidence, 0, NULL) : NULL;

	(void)e;
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:I}",
	    "site", r->site, "want", r->want ? "advertised" : "withdrawn", "state", r->state,
	    "last_change", (json_int_t)r->last_change, "failure_reason", r->failure_reason ?
	    json_string(r->failure_reason) : json_null(), "evidence", ev ? ev : json_null(),
	    "epoch", (json_int_t)r->epoch));
	return 0;
}

json_t *
api_sites_of(struct daemon *d, const struct lifecycle_prefix *p)
{
	json_t *list = json_array();
	struct err e = { 0 };

	if (d->site == NULL) {          /* SQLite: one site, the lifecycle's state is its own */
		bool up = lifecycle_state_wants_route(p->state);

		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "site",
		    d->conf->site_name, "want", up ? "advertised" : "withdrawn", "state",
		    p->state == LIFECYCLE_ADVERTISED ? "advertised" : up ? "pending" :
		    "withdrawn"));
		return list;
	}
	if (store_site_load(d->store, &p->cidr, NULL, aps_row_json, list, &e) < 0)
		log_warnx("sites of a prefix: %s", e.msg);
	return list;
}

struct aps_sum {
	const struct cidr *cidr;
	unsigned adv, all;
};

static int
aps_sum_row(void *arg, const struct store_site_row *r, struct err *e)
{
	struct aps_sum *s = arg;

	(void)e;
	s->all++;
	s->adv += strcmp(r->state, "advertised") == 0;
	return 0;
}

void
api_sites_summary(struct daemon *d, json_t *list)
{
	size_t i;
	json_t *x;
	struct err e = { 0 };

	if (d->site == NULL)
		return;
	json_array_foreach(list, i, x) {
		struct cidr c;
		struct aps_sum s = { 0 };
		char buf[64];

		if (cidr_parse(json_string_value(json_object_get(x, "cidr")), &c, &e) < 0)
			continue;
		s.cidr = &c;
		if (store_site_load(d->store, &c, NULL, aps_sum_row, &s, &e) < 0 || s.all == 0)
			continue;
		snprintf(buf, sizeof(buf), "advertised %u/%u", s.adv, s.all);
		json_object_set_new(x, "sites", json_string(buf));
	}
}

/* ---- routes -------------------------------------------------------------------------- */

static void
aps_list(struct api_ctx *ctx)
{
	struct store_lease known[APS_MAX_SITES];
	size_t n = 0;
	int64_t now = aps_now(), open_since = 0, count = 0;
	json_t *list = json_array();
	struct err e = { 0 };

	if (aps_known(ctx->d, known, &n, &e) < 0 ||
	    store_breaker_get(ctx->d->store, now, &open_since, &count, &e) < 0) {
		json_decref(list);
		api_reply_err(ctx, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:b}", "site",
		    known[i].site, "holder", known[i].holder, "epoch", (json_int_t)known[i].epoch,
		    "expires", (json_int_t)(known[i].expires == INT64_MAX ? 0 : known[i].expires),
		    "live", aps_lease_live(&known[i], now)));
	api_reply(ctx, 200, json_pack("{s:o, s:{s:s, s:I, s:I, s:I}}", "sites", list,
	    "breaker", "state", open_since ? "open" : "closed", "open_since",
	    (json_int_t)open_since, "withdrawals_last_minute", (json_int_t)count,
	    "max_withdraw_rate", (json_int_t)ctx->d->conf->policy_max_withdraw_rate));
}

static void
aps_breaker_reset(struct api_ctx *ctx)
{
	struct err e = { 0 };

	if (api_body_check(ctx, ctx->body, (const char *const[]){ NULL }) < 0)
		return;
	if (store_breaker_reset(ctx->d->store, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	log_info("withdrawal circuit breaker reset by %s", ctx->who.actor);
	api_reply(ctx, 200, json_pack("{s:s}", "breaker", "closed"));
}

static const struct api_route routes[] = {
	{ "GET", "/v1/sites", HTTP_ROLE_READER, aps_list },
	{ "POST", "/v1/sites/breaker/reset", HTTP_ROLE_ADMIN, aps_breaker_reset },
};

API_TABLE(api_sites_routes, routes);
