/*
 * api_prefix — the control API of public prefixes (SPEC §3, §6) over lifecycle_ctl.
 *
 *   GET  /v1/prefixes                 reader    {"prefixes":[prefix...], "counts":{state:n}}
 *                                               optional ?state=STATE&pool=NAME filters;
 *                                               a page in address order (limit, cursor,
 *                                               next_cursor: api_page.c)
 *   GET  /v1/prefixes/{cidr}          reader    one prefix; 404 not-found
 *   POST /v1/advertise                operator  {"cidrs":[...] | "cidr", "allow_origin":[ASN],
 *                                               "dry_run": bool}
 *   POST /v1/withdraw                 operator  {"cidrs":[...] | "cidr", "drain": seconds,
 *                                               "confirm_large": bool, "dry_run": bool}
 *   POST /v1/pools/{name}/provision   admin     a public pool: {"cidr","auth_message",
 *                                               "auth_signature"} -> 202 with the prefix in
 *                                               pending-provision; a private pool: as before
 *                                               (ipam), {"cidr"} or {"netmask"}
 *   POST /v1/pools/{name}/deprovision admin     a public prefix: refused (in-use) while
 *                                               advertised or pending; else as before
 *
 * A CIDR in the path: write '_' for '/' (203.0.113.0_24, 2001:db8::_48). The transport decodes
 * %2F before routing, so 203.0.113.0%2F24 (and a plain 203.0.113.0/24) arrive as two segments;
 * GET /v1/prefixes/{addr}/{len} serves that form too.
 *
 * Advertise and withdraw wait for the outcome: the request is suspended until bird_apply
 * reports (BIRD's confirm timeout bounds it), so the answer says "advertised" only after the
 * read-back matched. 200 when every prefix reached its goal; otherwise the status of the first
 * failure (409 not-provisioned / not-advertised / other-origin-present / too-many / busy,
 * 422 rpki-invalid / rpki-not-found, 429 rate-limited, 503 rpki-stale / bird-*) with
 * "error" and the same per-prefix list. A withdraw with a drain answers once the
 * GRACEFUL_SHUTDOWN announcement is confirmed (state pending-withdraw); the withdrawal follows
 * when the drain ends.
 *
 * The provision / deprovision routes are served here alone (api_add_routes refuses a second
 * handler): public pools get the lifecycle, private pools ipam_provision / ipam_deprovision.
 * The controller is the daemon's (ctx->d->lc); its advertise / withdraw outcome is a struct
 * lifecycle_outcome that apx_outcome_json renders, the status coming from the API's one
 * error-code table (api_status_of). Metrics (api_prefix_metrics): prefixd_prefixes{state},
 * prefixd_rpki_alerts_total, prefixd_rpki_stale_alerts_total,
 * prefixd_lifecycle_apply_total{result}, prefixd_policy_withdrawals_total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_prefix_sites.h"
#include "lifecycle_ctl.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/* Replies 503 when no controller exists (only during start-up). */
static struct lifecycle_ctl *
apx_need(struct api_ctx *ctx)
{
	if (ctx->d->lc == NULL)
		api_error(ctx, "not-ready", "the public-prefix controller is not running");
	return ctx->d->lc;
}

/* The CIDR of a {cidr} ('_' stands for '/') or {addr}/{len} path (api.h). */
int
api_path_cidr(struct api_ctx *ctx, struct cidr *out)
{
	char buf[160];

	if (ctx->nparams == 2)          /* /v1/.../{addr}/{len} */
		snprintf(buf, sizeof(buf), "%.100s_%.8s", ctx->params[0], ctx->params[1]);
	else if (snprintf(buf, sizeof(buf), "%s", ctx->params[0]) >= (int)sizeof(buf)) {
		api_error(ctx, "cidr-invalid", "the CIDR in the path is too long");
		return -1;
	}
	for (char *s = buf; *s != '\0'; s++)
		if (*s == '_')
			*s = '/';
	return api_cidr_arg(ctx, buf, out);
}

static int
apx_cmp(const void *a, const void *b)
{
	return cidr_cmp(&(*(struct lifecycle_prefix *const *)a)->cidr,
	    &(*(struct lifecycle_prefix *const *)b)->cidr);
}

/*
 * The page of prefixes after the cursor (a CIDR), in address order, into list. The public
 * prefixes are few (each needs an ownership proof), so the page is picked from all of them.
 */
static int
apx_page(struct api_ctx *ctx, struct lifecycle_ctl *c, struct api_page *pg,
    const char *state, enum lifecycle_state st, const char *pool, json_t *list)
{
	struct lifecycle_prefix **v = calloc(lifecycle_ctl_count(c) + 1, sizeof(*v));
	struct cidr after;
	char buf[CIDR_STRLEN];
	size_t n = 0;

	if (v == NULL)
		fatal("calloc");
	if (pg->has_after && cidr_parse(pg->after, &after, NULL) < 0) {
		free(v);
		api_page_bad_cursor(ctx);
		return -1;
	}
	for (size_t i = 0; i < lifecycle_ctl_count(c); i++) {
		struct lifecycle_prefix *p = lifecycle_ctl_at(c, i);

		if ((state != NULL && p->state != st) || (pool != NULL && strcmp(p->pool, pool)) ||
		    (pg->has_after && cidr_cmp(&p->cidr, &after) <= 0))
			continue;
		v[n++] = p;
	}
	qsort(v, n, sizeof(*v), apx_cmp);
	for (size_t i = 0; i < n && api_page_take(pg); i++) {
		json_array_append_new(list, lifecycle_ctl_prefix_json(v[i]));
		api_page_next(pg, "%s", cidr_format(&v[i]->cidr, buf, sizeof(buf)));
	}
	free(v);
	return 0;
}

static void
apx_list(struct api_ctx *ctx)
{
	struct lifecycle_ctl *c = apx_need(ctx);
	const char *state = http_query(ctx->req, "state"), *pool = http_query(ctx->req, "pool");
	enum lifecycle_state st = LIFECYCLE_NONE;
	size_t counts[LIFECYCLE_STATE_COUNT];
	struct api_page pg;
	json_t *list, *cj, *j;

	if (c == NULL || api_page_args(ctx, "prefixes", &pg) < 0)
		return;
	if (state != NULL && lifecycle_state_parse(state, &st) < 0) {
		api_error(ctx, "invalid-argument", "unknown state '%.64s'", state);
		return;
	}
	/* A filter that selects by mistake (empty, or a pool that does not exist) is refused, not
	 * answered with an empty list that a script could read as "nothing to do" or, worse,
	 * with everything (issue 10: an empty filter value once matched all prefixes). */
	if (pool != NULL && pool[0] == '\0') {
		api_error(ctx, "invalid-argument", "empty pool filter (it never means all)");
		return;
	}
	if (pool != NULL && ipam_pool_find(ctx->d->ipam, pool) == NULL) {
		api_error(ctx, "not-found", "no pool '%.64s'", pool);
		return;
	}
	list = json_array();
	if (apx_page(ctx, c, &pg, state, st, pool, list) < 0) {
		json_decref(list);
		return;
	}
	api_sites_summary(ctx->d, list);
	lifecycle_ctl_counts(c, counts);
	cj = json_object();
	for (int i = 1; i < LIFECYCLE_STATE_COUNT; i++)
		json_object_set_new(cj, lifecycle_state_name(i), json_integer((json_int_t)counts[i]));
	j = json_pack("{s:o, s:o}", "prefixes", list, "counts", cj);
	api_page_finish(&pg, j);
	api_reply(ctx, 200, j);
}

static void
apx_show(struct api_ctx *ctx)
{
	struct lifecycle_ctl *c = apx_need(ctx);
	struct lifecycle_prefix *p;
	struct cidr cidr;

	if (c == NULL || api_path_cidr(ctx, &cidr) < 0)
		return;
	if ((p = lifecycle_ctl_find(c, &cidr)) == NULL) {
		api_error(ctx, "not-found", "%.64s is not a public prefix", ctx->params[0]);
		return;
	}
	json_t *j = lifecycle_ctl_prefix_json(p);

	json_object_set_new(j, "sites", api_sites_of(ctx->d, p));
	api_reply(ctx, 200, j);
}

/* ---- advertise / withdraw ------------------------------------------------------------- */

struct apx_wait {
	struct api_ctx *ctx;            /* NULL once the handler returned */
	struct http_req *req;
	struct daemon *d;
	int status;
	json_t *body;
	bool suspended;
};

/* The answer's body: {"prefixes":[{"cidr","state","code","message"}], "dry_run", "action",
 * "diff"?, "drain"?, "error"?:{"code","message"} of the first failure}. */
static json_t *
apx_outcome_json(const struct lifecycle_outcome *o)
{
	json_t *list, *body;
	char buf[CIDR_STRLEN];

	if (o->n == 0 && o->first_failure != NULL)      /* refused as a whole */
		return json_pack("{s:{s:s, s:s}}", "error", "code", o->first_failure->code,
		    "message", o->first_failure->message);
	list = json_array();
	for (size_t i = 0; i < o->n; i++) {
		const struct lifecycle_item_result *r = &o->items[i];

		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o}",
		    "cidr", cidr_format(&r->cidr, buf, sizeof(buf)),
		    "state", r->known ? lifecycle_state_name(r->state) : "none",
		    "code", r->code ? json_string(r->code) : json_null(),
		    "message", r->code ? json_string(r->message) : json_null()));
	}
	body = json_pack("{s:o, s:b, s:s}", "prefixes", list, "dry_run", o->dry_run,
	    "action", o->action);
	if (o->diff != NULL)
		json_object_set_new(body, "diff", json_string(o->diff));
	if (o->drain > 0)
		json_object_set_new(body, "drain", json_integer(o->drain));
	if (o->first_failure != NULL)
		json_object_set_new(body, "error", json_pack("{s:s, s:s}", "code",
		    o->first_failure->code, "message", o->first_failure->message));
	return body;
}

static void
apx_done(void *arg, const struct lifecycle_outcome *o)
{
	struct apx_wait *w = arg;
	int status = o->first_failure ? api_status_of(o->first_failure->code) : 200;
	json_t *body = apx_outcome_json(o);

	if (!w->suspended) {            /* answered before the handler returned */
		w->status = status;
		w->body = body;
		return;
	}
	http_reply_json(w->req, status, body);
	http_resume(w->req);
	http_kick(w->d->http);
	free(w);
}

static int
apx_cidr_cmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

/* Refuses a CIDR given twice (400; sorted copy, so 10,000 CIDRs cost n log n). */
static int
apx_unique(struct api_ctx *ctx, const struct cidr *v, size_t n)
{
	struct cidr *s = malloc(n * sizeof(*s));
	char buf[CIDR_STRLEN];
	int rc = 0;

	if (s == NULL)
		fatal("malloc");
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), apx_cidr_cmp);
	for (size_t i = 1; i < n && rc == 0; i++)
		if (cidr_equal(&s[i - 1], &s[i])) {
			api_error(ctx, "invalid-argument", "%s is given twice",
			    cidr_format(&s[i], buf, sizeof(buf)));
			rc = -1;
		}
	free(s);
	return rc;
}

/* Reads "cidrs" (array) or "cidr" into a new array. Replies and returns NULL when bad. */
static struct cidr *
apx_cidrs(struct api_ctx *ctx, size_t *n)
{
	json_t *arr = json_object_get(ctx->body, "cidrs"), *one = json_object_get(ctx->body, "cidr");
	size_t cnt = arr ? json_array_size(arr) : one ? 1 : 0, i;
	struct cidr *v;
	json_t *x;

	if ((arr != NULL) == (one != NULL) || cnt == 0 || cnt > LIFECYCLE_CTL_MAX_BATCH) {
		api_error(ctx, "invalid-argument", "give one of cidr or cidrs (1..%d CIDRs); "
		    "an empty selection never means all", LIFECYCLE_CTL_MAX_BATCH);
		return NULL;
	}
	if ((v = calloc(cnt, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < cnt; i++) {
		x = arr ? json_array_get(arr, i) : one;
		if (!json_is_string(x)) {
			api_error(ctx, "invalid-argument", "cidrs[%zu] is not a string", i);
			break;
		}
		if (api_cidr_arg(ctx, json_string_value(x), &v[i]) < 0)
			break;
	}
	if (i == cnt && apx_unique(ctx, v, cnt) == 0) {
		*n = cnt;
		return v;
	}
	free(v);
	return NULL;
}

static int
apx_allow(struct api_ctx *ctx, uint32_t *allow, size_t *n)
{
	json_t *arr = json_object_get(ctx->body, "allow_origin"), *x;
	size_t i;

	*n = 0;
	if (json_array_size(arr) > LIFECYCLE_CTL_MAX_ALLOW) {
		api_error(ctx, "invalid-argument", "at most %d allow_origin ASNs",
		    LIFECYCLE_CTL_MAX_ALLOW);
		return -1;
	}
	json_array_foreach(arr, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 1 ||
		    json_integer_value(x) > 4294967295LL) {
			api_error(ctx, "invalid-argument", "allow_origin[%zu] is not an ASN", i);
			return -1;
		}
		allow[(*n)++] = (uint32_t)json_integer_value(x);
	}
	return 0;
}

static void
apx_change(struct api_ctx *ctx, bool withdraw)
{
	static const char *const adv_f[] = { "cidr:s", "cidrs:a", "allow_origin:a", "dry_run:b",
		"sites:a", "all_sites:b", NULL };
	static const char *const wd_f[] = { "cidr:s", "cidrs:a", "drain:i", "confirm_large:b",
		"dry_run:b", "sites:a", "all_sites:b", NULL };
	struct lifecycle_ctl *c = apx_need(ctx);
	struct lifecycle_ctl_req r = { 0 };
	uint32_t allow[LIFECYCLE_CTL_MAX_ALLOW];
	json_t *drain = json_object_get(ctx->body, "drain");
	struct apx_wait *w;
	struct cidr *v;

	if (c == NULL || api_body_check(ctx, ctx->body, withdraw ? wd_f : adv_f) < 0 ||
	    (!withdraw && apx_allow(ctx, allow, &r.n_allow) < 0))
		return;
	if (drain != NULL && (json_integer_value(drain) < 0 ||
	    json_integer_value(drain) > 86400)) {
		api_error(ctx, "invalid-argument", "drain must be 0..86400 seconds");
		return;
	}
	if ((v = apx_cidrs(ctx, &r.n)) == NULL)
		return;
	r.cidrs = v;
	r.allow = allow;
	r.drain = (unsigned)json_integer_value(drain);
	r.confirm_large = json_is_true(json_object_get(ctx->body, "confirm_large"));
	r.dry_run = json_is_true(json_object_get(ctx->body, "dry_run"));
	r.who = &ctx->who;
	if (api_sites_requested(ctx->body)) {   /* issue 17: at several sites */
		api_sites_change(ctx, withdraw, &r);
		free(v);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("calloc");
	w->req = ctx->req;
	w->d = ctx->d;
	if (withdraw)
		lifecycle_ctl_withdraw(c, &r, apx_done, w);
	else
		lifecycle_ctl_advertise(c, &r, apx_done, w);
	free(v);
	if (w->body != NULL) {
		api_reply(ctx, w->status, w->body);
		free(w);
		return;
	}
	w->suspended = true;
	http_suspend(ctx->req);
}

static void
apx_advertise(struct api_ctx *ctx)
{
	apx_change(ctx, false);
}

static void
apx_withdraw(struct api_ctx *ctx)
{
	apx_change(ctx, true);
}

/* ---- provisioning --------------------------------------------------------------------- */

struct apx_prov {
	struct cidr cidr;
	bool has_cidr;
	int netmask;
	char *msg, *sig;
};

static void
apx_prov_free(void *arg)
{
	struct apx_prov *a = arg;

	free(a->msg);
	free(a->sig);
	free(a);
}

static void
apx_provision_work(struct api_ctx *ctx)
{
	struct apx_prov *a = ctx->work_arg;
	struct ipam_pool *pool = ipam_pool_find(ctx->d->ipam, ctx->params[0]);
	struct lifecycle_prefix *p = NULL;
	struct err e = { 0 };
	struct cidr out;

	if (pool == NULL) {
		api_error(ctx, "not-found", "no pool '%.64s'", ctx->params[0]);
		return;
	}
	if (pool->scope->kind != IPAM_SCOPE_PUBLIC) {
		if (ipam_provision(ctx->d->ipam, &ctx->who, pool, a->has_cidr ? &a->cidr : NULL,
		    a->has_cidr ? -1 : a->netmask, &out, &e) < 0) {
			api_reply_err(ctx, &e);
			return;
		}
		api_reply(ctx, 201, json_pack("{s:s,s:o}", "pool", pool->name, "cidr",
		    api_cidr_json(&out)));
		return;
	}
	if (!a->has_cidr || ctx->d->lc == NULL) {
		api_error(ctx, "invalid-argument", ctx->d->lc ? "a public pool is provisioned "
		    "with an explicit cidr" : "the public-prefix controller is not running");
		return;
	}
	if (lifecycle_ctl_provision(ctx->d->lc, &ctx->who, pool, &a->cidr, a->msg, a->sig, &p,
	    &e) < 0) {
		json_t *j = p ? lifecycle_ctl_prefix_json(p) : json_object();

		json_object_set_new(j, "error", json_pack("{s:s, s:s}", "code", e.code,
		    "message", e.msg));
		api_reply(ctx, p != NULL ? 422 : api_status_of(e.code), j);
		return;
	}
	api_reply(ctx, 202, lifecycle_ctl_prefix_json(p));
}

static void
apx_provision(struct api_ctx *ctx)
{
	static const char *const f[] = { "cidr:s", "netmask:i", "auth_message:s",
		"auth_signature:s", NULL };
	const char *c = json_string_value(json_object_get(ctx->body, "cidr"));
	json_t *nm = json_object_get(ctx->body, "netmask");
	struct apx_prov *a;

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	if ((c == NULL) == (nm == NULL) || (nm != NULL && (json_integer_value(nm) < 0 ||
	    json_integer_value(nm) > 128))) {
		api_error(ctx, "invalid-argument", "give exactly one of cidr and netmask "
		    "(0..128)");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->netmask = nm ? (int)json_integer_value(nm) : -1;
	if (c != NULL && api_cidr_arg(ctx, c, &a->cidr) < 0) {
		free(a);
		return;
	}
	a->has_cidr = c != NULL;
	a->msg = xstrdup(json_string_value(json_object_get(ctx->body, "auth_message")));
	a->sig = xstrdup(json_string_value(json_object_get(ctx->body, "auth_signature")));
	api_defer(ctx, apx_provision_work, a, apx_prov_free);
}

static void
apx_deprovision_work(struct api_ctx *ctx)
{
	struct cidr *c = ctx->work_arg;
	struct ipam_pool *pool = ipam_pool_find(ctx->d->ipam, ctx->params[0]);
	struct err e = { 0 };
	int rc;

	if (pool == NULL) {
		api_error(ctx, "not-found", "no pool '%.64s'", ctx->params[0]);
		return;
	}
	rc = pool->scope->kind == IPAM_SCOPE_PUBLIC && ctx->d->lc != NULL ?
	    lifecycle_ctl_deprovision(ctx->d->lc, &ctx->who, pool, c, &e) :
	    ipam_deprovision(ctx->d->ipam, &ctx->who, pool, c, &e);
	if (rc < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	api_reply(ctx, 200, json_pack("{s:s,s:o}", "pool", pool->name, "cidr", api_cidr_json(c)));
}

static void
apx_deprovision(struct api_ctx *ctx)
{
	static const char *const f[] = { "cidr:s", NULL };
	const char *s = json_string_value(json_object_get(ctx->body, "cidr"));
	struct cidr *c;

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	if (s == NULL) {
		api_error(ctx, "invalid-argument", "cidr is required");
		return;
	}
	if ((c = malloc(sizeof(*c))) == NULL)
		fatal("malloc");
	if (api_cidr_arg(ctx, s, c) < 0) {
		free(c);
		return;
	}
	api_defer(ctx, apx_deprovision_work, c, free);
}

json_t *
api_prefix_status(struct daemon *d)
{
	size_t counts[LIFECYCLE_STATE_COUNT];
	json_t *by;

	if (d->lc == NULL)
		return json_pack("{s:s}", "state", "not running");
	lifecycle_ctl_counts(d->lc, counts);
	by = json_object();
	for (int i = 1; i < LIFECYCLE_STATE_COUNT; i++)
		json_object_set_new(by, lifecycle_state_name(i), json_integer((json_int_t)counts[i]));
	return json_pack("{s:I, s:o}", "total", (json_int_t)lifecycle_ctl_count(d->lc),
	    "by_state", by);
}

/* ---- metrics -------------------------------------------------------------------------- */

void
api_prefix_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct lifecycle_ctl_stats s;
	size_t counts[LIFECYCLE_STATE_COUNT];

	if (d->lc == NULL)
		return;
	lifecycle_ctl_counts(d->lc, counts);
	lifecycle_ctl_get_stats(d->lc, &s);
	fprintf(out, "# HELP prefixd_prefixes Public prefixes by lifecycle state.\n"
	    "# TYPE prefixd_prefixes gauge\n");
	for (int i = 1; i < LIFECYCLE_STATE_COUNT; i++)
		fprintf(out, "prefixd_prefixes{state=\"%s\"} %zu\n", lifecycle_state_name(i),
		    counts[i]);
	fprintf(out, "# HELP prefixd_rpki_alerts_total Advertised prefixes found invalid or "
	    "not-found after an RTR change.\n# TYPE prefixd_rpki_alerts_total counter\n"
	    "prefixd_rpki_alerts_total %llu\n", (unsigned long long)s.rpki_alerts);
	fprintf(out, "# HELP prefixd_rpki_stale_alerts_total RTR data went stale while prefixes "
	    "were advertised.\n# TYPE prefixd_rpki_stale_alerts_total counter\n"
	    "prefixd_rpki_stale_alerts_total %llu\n", (unsigned long long)s.stale_alerts);
	fprintf(out, "# HELP prefixd_policy_withdrawals_total Withdrawals by on_invalid = "
	    "withdraw.\n# TYPE prefixd_policy_withdrawals_total counter\n"
	    "prefixd_policy_withdrawals_total %llu\n", (unsigned long long)s.policy_withdrawals);
	fprintf(out, "# HELP prefixd_lifecycle_apply_total Prefix changes by BIRD result.\n"
	    "# TYPE prefixd_lifecycle_apply_total counter\n"
	    "prefixd_lifecycle_apply_total{result=\"ok\"} %llu\n"
	    "prefixd_lifecycle_apply_total{result=\"failed\"} %llu\n",
	    (unsigned long long)s.apply_ok, (unsigned long long)s.apply_failed);
}

static const struct api_route apx_routes[] = {
	{ "GET", "/v1/prefixes", HTTP_ROLE_READER, apx_list },
	{ "GET", "/v1/prefixes/{cidr}", HTTP_ROLE_READER, apx_show },
	{ "GET", "/v1/prefixes/{addr}/{len}", HTTP_ROLE_READER, apx_show },
	{ "POST", "/v1/advertise", HTTP_ROLE_OPERATOR, apx_advertise },
	{ "POST", "/v1/withdraw", HTTP_ROLE_OPERATOR, apx_withdraw },
	{ "POST", "/v1/pools/{name}/provision", HTTP_ROLE_ADMIN, apx_provision },
	{ "POST", "/v1/pools/{name}/deprovision", HTTP_ROLE_ADMIN, apx_deprovision },
};
API_TABLE(api_prefix_routes, apx_routes);
