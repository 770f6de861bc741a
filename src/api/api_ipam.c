/*
 * api_ipam — the routes of SPEC §1–§2 that change the address plan: scopes, pools and
 * allocations (resources, reports and history are api_import.c's; provisioning, private and
 * public alike, is api_prefix.c's, the one handler of those routes). Called by api_dispatch
 * through the table api_ipam_routes, which src/prefixd.c registers; the JSON shapes are
 * doc/openapi.json's.
 *
 * Reads answer from the in-memory model at once; lists a page at a time (api_page.c: scopes and
 * pools by id, allocations by pool id and address). Changes validate their body here, then
 * api_defer a work function that runs inside the batch's store transaction (group commit,
 * api.h). Work functions look their objects up again by name or id, because an earlier
 * request in the same batch may have removed them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "store.h"

/* ---- JSON views ----------------------------------------------------------------------- */

static json_t *
api_netmask_json(int n)
{
	return n >= 0 ? json_integer(n) : json_null();
}

static json_t *
api_alloc_json(const struct ipam_alloc *a)
{
	struct ipam_pool *child = ipam_alloc_child(a);

	return json_pack("{s:o,s:s,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", api_id_json(a->id), "pool", a->pool->name, "scope", a->pool->scope->name,
	    "cidr", api_cidr_json(&a->cidr), "kind", ipam_alloc_kind_name(ipam_alloc_kind(a)),
	    "child_pool", api_str_or_null(child ? child->name : NULL),
	    "description", api_str_or_null(ipam_alloc_description(a)),
	    "tags", api_tags_to_json(ipam_alloc_tags(a)),
	    "locale", api_str_or_null(ipam_alloc_locale(a)),
	    "token", api_str_or_null(ipam_alloc_token(a)),
	    "created_at", api_time_json(a->created));
}

static int
api_cidr_push(void *arg, const struct cidr *c)
{
	json_array_append_new(arg, api_cidr_json(c));
	return 0;
}

static json_t *
api_util_json(const struct ipam_pool *p)
{
	struct ipam_util u;

	ipam_pool_util(p, &u);
	return json_pack("{s:o,s:o,s:f,s:o,s:i,s:b}",
	    "provisioned_addresses", api_u128_json(u.provisioned),
	    "allocated_addresses", api_u128_json(u.allocated),
	    "utilization_percent", u.percent,
	    "largest_free", u.has_free ? api_cidr_json(&u.largest_free) : json_null(),
	    "alarm_at", u.alarm_at, "alarm", u.alarm);
}

static json_t *
api_pool_json(const struct ipam_pool *p)
{
	json_t *cidrs = json_array();

	ipam_pool_provisioned_foreach(p, api_cidr_push, cidrs);
	return json_pack("{s:s,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o}",
	    "name", p->name, "scope", p->scope->name,
	    "parent", api_str_or_null(p->parent ? p->parent->name : NULL),
	    "family", p->family == CIDR_V6 ? "ipv6" : "ipv4",
	    "locale", api_str_or_null(p->locale),
	    "default_netmask", api_netmask_json(p->rules.default_netmask),
	    "min_netmask", api_netmask_json(p->rules.min_netmask),
	    "max_netmask", api_netmask_json(p->rules.max_netmask),
	    "required_tags", api_tags_to_json(&p->rules.required_tags),
	    "tags", api_tags_to_json(&p->tags),
	    "alarm_at", p->alarm_at,
	    "origin_asn", p->origin_asn ? json_integer(p->origin_asn) : json_null(),
	    "description", api_str_or_null(p->description),
	    "cidrs", cidrs, "utilization", api_util_json(p),
	    "created_at", api_time_json(p->created));
}

static json_t *
api_scope_json(const struct ipam_scope *s)
{
	return json_pack("{s:s,s:s,s:I,s:I}", "name", s->name,
	    "kind", s->kind == IPAM_SCOPE_PUBLIC ? "public" : "private",
	    "pools", (json_int_t)s->npools, "resources", (json_int_t)s->nresources);
}

/* ---- lookups -------------------------------------------------------------------------- */

static struct ipam_pool *
api_pool_arg(struct api_ctx *ctx, const char *name)
{
	struct ipam_pool *p = ipam_pool_find(ctx->d->ipam, name);

	if (p == NULL)
		api_error(ctx, "not-found", "no pool '%.64s'", name);
	return p;
}

static int
api_id_arg(struct api_ctx *ctx, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9' || (*out = strtoull(s, &end, 10), errno != 0 || *end != '\0')) {
		api_error(ctx, "invalid-argument", "'%.64s' is not an allocation id", s);
		return -1;
	}
	return 0;
}

/* Integer field in [lo,hi], or def when absent. Replies 400 and returns -1 when out of range. */
static int
api_int_field(struct api_ctx *ctx, const char *name, long long lo, long long hi, long long def,
    long long *out)
{
	json_t *v = json_object_get(ctx->body, name);

	*out = def;
	if (v == NULL)
		return 0;
	*out = json_integer_value(v);
	if (*out < lo || *out > hi) {
		api_error(ctx, "invalid-argument", "%s must be %lld..%lld", name, lo, hi);
		return -1;
	}
	return 0;
}

/* ---- scopes --------------------------------------------------------------------------- */

/* Collects the objects of a list keyed by id that come after the cursor (api_page.h). */
struct api_id_rows {
	struct api_page_set set;
	uint64_t after;
};

static int
api_scope_push(void *arg, struct ipam_scope *s)
{
	struct api_id_rows *r = arg;

	if (s->id > r->after)
		api_page_set_add(&r->set, s->id, s);
	return 0;
}

static json_t *
api_scope_render(const void *s)
{
	return api_scope_json(s);
}

/* Answers {"KEY": [the page's rows], "next_cursor"} of the rows r collected. */
static void
api_id_page_reply(struct api_ctx *ctx, struct api_page *pg, struct api_id_rows *r,
    const char *key, json_t *(*render)(const void *obj))
{
	json_t *a = json_array(), *j;

	api_page_ids(pg, &r->set, a, render);
	j = json_pack("{s:o}", key, a);
	api_page_finish(pg, j);
	api_reply(ctx, 200, j);
}

static void
api_scopes_list(struct api_ctx *ctx)
{
	struct api_id_rows r = { { 0 }, 0 };
	struct api_page pg;

	if (api_page_args(ctx, "scopes", &pg) < 0 || api_page_after_id(ctx, &pg, &r.after) < 0)
		return;
	ipam_scope_foreach(ctx->d->ipam, api_scope_push, &r);
	api_id_page_reply(ctx, &pg, &r, "scopes", api_scope_render);
}

static void
api_scope_get(struct api_ctx *ctx)
{
	struct ipam_scope *s = ipam_scope_find(ctx->d->ipam, ctx->params[0]);

	if (s == NULL)
		api_error(ctx, "not-found", "no scope '%.64s'", ctx->params[0]);
	else
		api_reply(ctx, 200, api_scope_json(s));
}

static void
api_scope_create_work(struct api_ctx *ctx)
{
	struct ipam_scope *s;
	struct err e;

	err_clear(&e);
	if (ipam_scope_create(ctx->d->ipam, &ctx->who, api_str_field(ctx, "name"), &s, &e) < 0)
		api_reply_err(ctx, &e);
	else
		api_reply(ctx, 201, api_scope_json(s));
}

static void
api_scope_create(struct api_ctx *ctx)
{
	static const char *const f[] = { "name:s", NULL };

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	if (api_str_field(ctx, "name") == NULL) {
		api_error(ctx, "invalid-argument", "name is required");
		return;
	}
	api_defer(ctx, api_scope_create_work, NULL, NULL);
}

/* Answers a delete: 200 with the object as it was before (rc 0), or the error; takes j. */
static void
api_reply_deleted(struct api_ctx *ctx, json_t *j, int rc, struct err *e)
{
	if (rc < 0) {
		json_decref(j);
		api_reply_err(ctx, e);
		return;
	}
	api_reply(ctx, 200, j);
}

static void
api_scope_delete_work(struct api_ctx *ctx)
{
	struct ipam_scope *s = ipam_scope_find(ctx->d->ipam, ctx->params[0]);
	json_t *j;
	struct err e;

	if (s == NULL) {
		api_error(ctx, "not-found", "no scope '%.64s'", ctx->params[0]);
		return;
	}
	j = api_scope_json(s);
	err_clear(&e);
	api_reply_deleted(ctx, j, ipam_scope_delete(ctx->d->ipam, &ctx->who, ctx->params[0], &e),
	    &e);
}

static void
api_scope_delete(struct api_ctx *ctx)
{
	api_defer(ctx, api_scope_delete_work, NULL, NULL);
}

/* ---- pools ---------------------------------------------------------------------------- */

struct api_pool_arg {
	struct ipam_pool_spec spec;     /* strings borrowed from ctx->body */
};

static void
api_pool_arg_free(void *p)
{
	struct api_pool_arg *a = p;

	if (a == NULL)
		return;
	ipam_tags_clear(&a->spec.tags);
	ipam_tags_clear(&a->spec.rules.required_tags);
	free(a);
}

static int
api_pool_push(void *arg, struct ipam_pool *p)
{
	struct api_id_rows *r = arg;

	if (p->id > r->after)
		api_page_set_add(&r->set, p->id, p);
	return 0;
}

static json_t *
api_pool_render(const void *p)
{
	return api_pool_json(p);
}

static void
api_pools_list(struct api_ctx *ctx)
{
	struct api_id_rows r = { { 0 }, 0 };
	struct ipam_scope *s;
	struct api_page pg;

	if (api_scope_filter(ctx, &s) < 0 || api_page_args(ctx, "pools", &pg) < 0 ||
	    api_page_after_id(ctx, &pg, &r.after) < 0)
		return;
	ipam_pool_foreach(ctx->d->ipam, s, api_pool_push, &r);
	api_id_page_reply(ctx, &pg, &r, "pools", api_pool_render);
}

struct api_children {
	const struct ipam_pool *parent;
	json_t *names;
};

static int
api_child_push(void *arg, struct ipam_pool *p)
{
	struct api_children *c = arg;

	if (p->parent == c->parent)
		json_array_append_new(c->names, json_string(p->name));
	return 0;
}

static void
api_pool_get(struct api_ctx *ctx)
{
	struct ipam_pool *p = api_pool_arg(ctx, ctx->params[0]);
	struct api_children c;
	json_t *j;

	if (p == NULL)
		return;
	j = api_pool_json(p);
	c.parent = p;
	c.names = json_array();
	ipam_pool_foreach(ctx->d->ipam, p->scope, api_child_push, &c);
	json_object_set_new(j, "children", c.names);
	json_object_set_new(j, "grants", api_grants_json(ctx->d, p->name));
	api_reply(ctx, 200, j);
}

static void
api_pool_create_work(struct api_ctx *ctx)
{
	struct api_pool_arg *a = ctx->work_arg;
	struct ipam_pool *p;
	struct err e;

	err_clear(&e);
	if (api_asn_origin_check(ctx, &a->spec) < 0)
		return;
	if (ipam_pool_create(ctx->d->ipam, &ctx->who, &a->spec, &p, &e) < 0)
		api_reply_err(ctx, &e);
	else
		api_reply(ctx, 201, api_pool_json(p));
}

/* Netmask fields of a pool body into the spec's rules. */
static int
api_pool_netmasks(struct api_ctx *ctx, struct ipam_pool_spec *s)
{
	long long dn, mn, xn, alarm, asn;

	if (api_int_field(ctx, "default_netmask", 0, 128, -1, &dn) < 0 ||
	    api_int_field(ctx, "min_netmask", 0, 128, -1, &mn) < 0 ||
	    api_int_field(ctx, "max_netmask", 0, 128, -1, &xn) < 0 ||
	    api_int_field(ctx, "alarm_at", 1, 100, -1, &alarm) < 0 ||
	    api_int_field(ctx, "origin_asn", 0, 4294967295LL, 0, &asn) < 0)
		return -1;
	s->rules.default_netmask = (int)dn;
	s->rules.min_netmask = (int)mn;
	s->rules.max_netmask = (int)xn;
	s->alarm_at = (int)alarm;
	s->origin_asn = (uint32_t)asn;
	return 0;
}

static void
api_pool_create(struct api_ctx *ctx)
{
	static const char *const f[] = { "name:s", "scope:s", "parent:S", "family:s", "locale:S",
	    "default_netmask:i", "min_netmask:i", "max_netmask:i", "required_tags:o", "tags:o",
	    "alarm_at:i", "origin_asn:i", "description:S", NULL };
	struct api_pool_arg *a;
	const char *fam;
	struct err e;
	enum cidr_family family;

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		fatal("calloc");
	a->spec.name = api_str_field(ctx, "name");
	a->spec.scope = api_str_field(ctx, "scope");
	a->spec.parent = api_str_field(ctx, "parent");
	a->spec.locale = api_str_field(ctx, "locale");
	a->spec.description = api_str_field(ctx, "description");
	if (a->spec.name == NULL || (a->spec.scope == NULL && a->spec.parent == NULL)) {
		api_error(ctx, "invalid-argument", "name and scope are required");
		goto fail;
	}
	if ((fam = api_str_field(ctx, "family")) != NULL) {
		err_clear(&e);
		if (cidr_family_parse(fam, &family, &e) < 0) {
			api_error(ctx, "invalid-argument", "family must be ipv4 or ipv6");
			goto fail;
		}
		a->spec.family = family;
	} else {
		a->spec.family = a->spec.parent != NULL ? 0 : CIDR_V4;
	}
	if (api_pool_netmasks(ctx, &a->spec) < 0 ||
	    api_tags_from_json(ctx, json_object_get(ctx->body, "tags"), "tags", &a->spec.tags) < 0 ||
	    api_tags_from_json(ctx, json_object_get(ctx->body, "required_tags"), "required_tags",
	    &a->spec.rules.required_tags) < 0)
		goto fail;
	api_defer(ctx, api_pool_create_work, a, api_pool_arg_free);
	return;
fail:
	api_pool_arg_free(a);
}

static void
api_pool_delete_work(struct api_ctx *ctx)
{
	struct ipam_pool *p = api_pool_arg(ctx, ctx->params[0]);
	json_t *j;
	int rc;
	struct err e;

	if (p == NULL)
		return;
	j = api_pool_json(p);
	err_clear(&e);
	rc = ipam_pool_delete(ctx->d->ipam, &ctx->who, ctx->params[0], &e);
	if (rc == 0)
		api_grants_drop_pool(ctx, ctx->params[0]);     /* a new pool of that name starts bare */
	api_reply_deleted(ctx, j, rc, &e);
}

static void
api_pool_delete(struct api_ctx *ctx)
{
	api_defer(ctx, api_pool_delete_work, NULL, NULL);
}

/* ---- allocations ---------------------------------------------------------------------- */

struct api_alloc_arg {
	struct ipam_alloc_req req;      /* strings borrowed from ctx->body */
	struct cidr cidr;
};

static void
api_alloc_arg_free(void *p)
{
	struct api_alloc_arg *a = p;

	if (a == NULL)
		return;
	ipam_tags_clear(&a->req.tags);
	free(a);
}

static void
api_allocate_work(struct api_ctx *ctx)
{
	struct api_alloc_arg *a = ctx->work_arg;
	struct ipam_pool *p = api_pool_arg(ctx, ctx->params[0]);
	struct ipam_alloc_result res;
	json_t *j;
	struct err e;

	if (p == NULL)
		return;
	err_clear(&e);
	if (ipam_allocate(ctx->d->ipam, &ctx->who, p, &a->req, &res, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	if (a->req.preview || res.alloc == NULL) {
		api_reply(ctx, 200, json_pack("{s:s,s:s,s:o,s:b}", "pool", p->name, "scope",
		    p->scope->name, "cidr", api_cidr_json(&res.cidr), "preview", 1));
		return;
	}
	j = api_alloc_json(res.alloc);
	json_object_set_new(j, "replayed", json_boolean(res.replayed));
	api_reply(ctx, res.replayed ? 200 : 201, j);
}

static void
api_allocate(struct api_ctx *ctx)
{
	static const char *const f[] = { "netmask:i", "cidr:s", "tags:o", "locale:S",
	    "description:S", "token:S", "preview:b", NULL };
	struct api_alloc_arg *a;
	const char *c;
	long long nm;

	if (api_body_check(ctx, ctx->body, f) < 0 ||
	    api_int_field(ctx, "netmask", 0, 128, -1, &nm) < 0)
		return;
	c = api_str_field(ctx, "cidr");
	if (c != NULL && nm >= 0) {
		api_error(ctx, "invalid-argument", "give at most one of cidr and netmask");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->req.netmask = (int)nm;
	a->req.description = api_str_field(ctx, "description");
	a->req.locale = api_str_field(ctx, "locale");
	a->req.token = api_str_field(ctx, "token");
	a->req.preview = json_is_true(json_object_get(ctx->body, "preview"));
	if (c != NULL) {
		if (api_cidr_arg(ctx, c, &a->cidr) < 0)
			goto fail;
		a->req.cidr = &a->cidr;
	}
	if (api_tags_from_json(ctx, json_object_get(ctx->body, "tags"), "tags", &a->req.tags) < 0)
		goto fail;
	if (a->req.preview) {           /* changes nothing: answer now, outside the batch */
		ctx->work_arg = a;
		api_allocate_work(ctx);
		ctx->work_arg = NULL;
		api_alloc_arg_free(a);
		return;
	}
	ctx->replayable = true;
	api_defer(ctx, api_allocate_work, a, api_alloc_arg_free);
	return;
fail:
	api_alloc_arg_free(a);
}

/*
 * Allocations are listed by pool (in id order), then by address: the key of a row is
 * "POOLID/CIDR", and a page resumes inside the cursor's pool right after its CIDR
 * (ipam_alloc_foreach_after), so a page costs the rows it answers, not the whole model.
 */
struct api_alloc_rows {
	struct api_page *pg;
	json_t *list;
};

static int
api_alloc_push(void *arg, struct ipam_alloc *a)
{
	struct api_alloc_rows *r = arg;
	char buf[CIDR_STRLEN];

	if (!api_page_take(r->pg))
		return 1;
	json_array_append_new(r->list, api_alloc_json(a));
	api_page_next(r->pg, "%" PRIu64 "/%s", a->pool->id, cidr_format(&a->cidr, buf,
	    sizeof(buf)));
	return 0;
}

/* The cursor's pool id and CIDR; replies bad-cursor and returns -1 when unreadable. */
static int
api_alloc_cursor(struct api_ctx *ctx, const struct api_page *pg, uint64_t *pool,
    struct cidr *after)
{
	const char *slash = strchr(pg->after, '/');
	char *end;

	errno = 0;
	if (slash == NULL || pg->after[0] < '0' || pg->after[0] > '9' ||
	    (*pool = strtoull(pg->after, &end, 10), end != slash || errno != 0) ||
	    cidr_parse(slash + 1, after, NULL) < 0) {
		api_page_bad_cursor(ctx);
		return -1;
	}
	return 0;
}

static int
api_alloc_pool_push(void *arg, struct ipam_pool *p)
{
	struct api_id_rows *r = arg;

	if (p->id >= r->after)
		api_page_set_add(&r->set, p->id, p);
	return 0;
}

static void
api_allocations_list(struct api_ctx *ctx)
{
	const char *pool = http_query(ctx->req, "pool");
	struct api_id_rows pools = { { 0 }, 0 };
	struct api_alloc_rows r;
	struct api_page pg;
	struct ipam_pool *p = NULL;
	struct cidr after;
	json_t *j;

	if ((pool != NULL && (p = api_pool_arg(ctx, pool)) == NULL) ||
	    api_page_args(ctx, "allocations", &pg) < 0 ||
	    (pg.has_after && api_alloc_cursor(ctx, &pg, &pools.after, &after) < 0))
		return;
	if (p != NULL && pg.has_after && pools.after != p->id) {
		api_page_bad_cursor(ctx);
		return;
	}
	if (p != NULL)
		api_page_set_add(&pools.set, p->id, p);
	else
		ipam_pool_foreach(ctx->d->ipam, NULL, api_alloc_pool_push, &pools);
	api_page_set_sort(&pools.set);
	r.pg = &pg;
	r.list = json_array();
	for (size_t i = 0; i < pools.set.n; i++) {
		struct ipam_pool *q = pools.set.v[i].obj;
		bool resume = pg.has_after && q->id == pools.after;

		if (ipam_alloc_foreach_after(q, resume ? &after : NULL, api_alloc_push, &r) != 0)
			break;
	}
	api_page_set_free(&pools.set);
	j = json_pack("{s:o}", "allocations", r.list);
	api_page_finish(&pg, j);
	api_reply(ctx, 200, j);
}

static struct ipam_alloc *
api_alloc_param(struct api_ctx *ctx)
{
	struct ipam_alloc *a;
	uint64_t id;

	if (api_id_arg(ctx, ctx->params[0], &id) < 0)
		return NULL;
	if ((a = ipam_alloc_find(ctx->d->ipam, id)) == NULL)
		api_error(ctx, "not-found", "no allocation %" PRIu64, id);
	return a;
}

static void
api_allocation_get(struct api_ctx *ctx)
{
	struct ipam_alloc *a = api_alloc_param(ctx);

	if (a != NULL)
		api_reply(ctx, 200, api_alloc_json(a));
}

static void
api_release_work(struct api_ctx *ctx)
{
	struct ipam_alloc *a = api_alloc_param(ctx);
	json_t *j;
	struct err e;

	if (a == NULL)
		return;
	j = api_alloc_json(a);
	err_clear(&e);
	if (ipam_release(ctx->d->ipam, &ctx->who, a->id, &e) < 0) {
		json_decref(j);
		api_reply_err(ctx, &e);
		return;
	}
	api_reply(ctx, 200, j);
}

static void
api_release(struct api_ctx *ctx)
{
	uint64_t id;

	if (api_id_arg(ctx, ctx->params[0], &id) < 0)
		return;
	ctx->replayable = true;
	api_defer(ctx, api_release_work, NULL, NULL);
}

/* ---- route table ---------------------------------------------------------------------- */

static const struct api_route ipam_routes[] = {
	{ "GET", "/v1/scopes", HTTP_ROLE_READER, api_scopes_list },
	{ "POST", "/v1/scopes", HTTP_ROLE_ADMIN, api_scope_create },
	{ "GET", "/v1/scopes/{name}", HTTP_ROLE_READER, api_scope_get },
	{ "DELETE", "/v1/scopes/{name}", HTTP_ROLE_ADMIN, api_scope_delete },
	{ "GET", "/v1/pools", HTTP_ROLE_READER, api_pools_list },
	{ "POST", "/v1/pools", HTTP_ROLE_ADMIN, api_pool_create },
	{ "GET", "/v1/pools/{name}", HTTP_ROLE_READER, api_pool_get },
	{ "DELETE", "/v1/pools/{name}", HTTP_ROLE_ADMIN, api_pool_delete },
	{ "POST", "/v1/pools/{name}/allocations", HTTP_ROLE_OPERATOR, api_allocate },
	{ "GET", "/v1/allocations", HTTP_ROLE_READER, api_allocations_list },
	{ "GET", "/v1/allocations/{id}", HTTP_ROLE_READER, api_allocation_get },
	{ "DELETE", "/v1/allocations/{id}", HTTP_ROLE_OPERATOR, api_release },
};
API_TABLE(api_ipam_routes, ipam_routes);
