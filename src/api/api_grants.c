/*
 * api_grants — shared pools (issue 21): managing grants and confining the principals that hold
 * them (the table is src/ipam/grant.h).
 *
 *   POST   /v1/pools/{name}/grants                admin  {"principal", "role"?: operator|reader}
 *   DELETE /v1/pools/{name}/grants?principal=P    admin
 *   GET    /v1/pools/{name}                       lists the pool's "grants" (api_ipam.c calls
 *                                                 api_grants_json)
 *
 * Confinement (api_grant_admit, called by api_dispatch before the role check): a principal
 * that holds at least one grant and whose global role is below operator may only use the
 * pool-scoped routes below, on a pool covered by one of its grants (the pool or an ancestor),
 * with a grant of the route's role (operator to allocate and release, reader or operator to
 * read). Everything else answers 403 forbidden naming the pool (or the principal's pools).
 * An admitted request's events carry the grant used as their role:
 * "grant:POOL:operator". Requests on the read-only socket are never confined nor admitted by
 * a grant (nothing changes through that socket). Principals match as events write actors: "token:NAME" and "uid:N"
 * exactly; "group:NAME" any unix peer whose user is in that group (getgrouplist).
 */
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "grant.h"
#include "log.h"

/* ---- who is the caller ------------------------------------------------------------------ */

/* grant_match_fn: principal p names the request's actor (arg: the http_req). */
static bool
agr_match(void *arg, const char *p)
{
	const struct http_req *req = arg;
	gid_t groups[256];
	int ng = 256;
	struct passwd *pw;
	struct group *gr;
	unsigned long uid;
	char *end;

	if (strcmp(p, req->actor) == 0)
		return true;
	if (strncmp(p, "group:", 6) != 0 || strncmp(req->actor, "uid:", 4) != 0)
		return false;
	uid = strtoul(req->actor + 4, &end, 10);
	if (*end != '\0' || (gr = getgrnam(p + 6)) == NULL || (pw = getpwuid((uid_t)uid)) == NULL)
		return false;
	if (pw->pw_gid == gr->gr_gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
		ng = 256;
	for (int i = 0; i < ng; i++)
		if (groups[i] == gr->gr_gid)
			return true;
	return false;
}

/* ---- confinement ------------------------------------------------------------------------ */

enum agr_where { AGR_PATH_POOL, AGR_PATH_ALLOC, AGR_QUERY_POOL };

/* The pool-scoped routes a confined principal may use, and where their pool is named. */
static const struct {
	const char *method, *pattern;
	enum agr_where where;
} agr_scoped[] = {
	{ "GET", "/v1/pools/{name}", AGR_PATH_POOL },
	{ "POST", "/v1/pools/{name}/allocations", AGR_PATH_POOL },
	{ "GET", "/v1/allocations/{id}", AGR_PATH_ALLOC },
	{ "DELETE", "/v1/allocations/{id}", AGR_PATH_ALLOC },
	{ "GET", "/v1/allocations", AGR_QUERY_POOL },
};

/* The pool the request acts on; *name is what the request said (for the refusal). */
static struct ipam_pool *
agr_pool_of(struct api_ctx *ctx, enum agr_where where, const char **name)
{
	struct ipam_alloc *a;
	char *end;
	uint64_t id;

	switch (where) {
	case AGR_PATH_POOL:
		*name = ctx->params[0];
		return ipam_pool_find(ctx->d->ipam, *name);
	case AGR_QUERY_POOL:
		*name = http_query(ctx->req, "pool");
		return *name ? ipam_pool_find(ctx->d->ipam, *name) : NULL;
	case AGR_PATH_ALLOC:
		*name = ctx->params[0];
		id = strtoull(ctx->params[0], &end, 10);
		if (*end != '\0' || (a = ipam_alloc_find(ctx->d->ipam, id)) == NULL)
			return NULL;
		*name = a->pool->name;
		return a->pool;
	}
	return NULL;
}

/* The pools the caller holds grants on, "a, b" (for a refusal's message). */
static void
agr_pools_of(struct api_ctx *ctx, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < grants_count(ctx->d->grants) && o + 2 < len; i++) {
		const struct grant *g = grants_at(ctx->d->grants, i);

		if (agr_match(ctx->req, g->principal))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", g->pool);
	}
}

int
api_grant_admit(struct api_ctx *ctx)
{
	struct http_req *req = ctx->req;
	const struct api_route *r = ctx->route;
	enum grant_role need = r->min_role >= HTTP_ROLE_OPERATOR ? GRANT_OPERATOR : GRANT_READER;
	const struct grant *g;
	struct ipam_pool *pool;
	const char *name = NULL;
	char mine[256];
	size_t i;

	/* the read-only socket never gains a write through a grant: its global role decides */
	if (req->role >= HTTP_ROLE_OPERATOR || http_req_read_only(req) ||
	    !grants_any(ctx->d->grants, agr_match, req))
		return 0;
	for (i = 0; i < sizeof(agr_scoped) / sizeof(agr_scoped[0]); i++)
		if (strcmp(agr_scoped[i].method, r->method) == 0 &&
		    strcmp(agr_scoped[i].pattern, r->pattern) == 0)
			break;
	agr_pools_of(ctx, mine, sizeof(mine));
	if (i == sizeof(agr_scoped) / sizeof(agr_scoped[0]) || r->min_role > HTTP_ROLE_OPERATOR) {
		api_error(ctx, "forbidden", "%s works only in its shared pools (%s): %s %s is not an "
		    "operation on one of them", req->actor, mine, r->method, r->pattern);
		return -1;
	}
	pool = agr_pool_of(ctx, agr_scoped[i].where, &name);
	g = pool ? grants_cover(ctx->d->grants, pool, agr_match, req) : NULL;
	if (g == NULL || g->role < need) {
		api_error(ctx, "forbidden", "%s has no %s grant on pool %.64s (its shared pools: %s)",
		    req->actor, grant_role_name(need), name ? name : "(none given)", mine);
		return -1;
	}
	snprintf(ctx->grant_role, sizeof(ctx->grant_role), "grant:%s:%s", g->pool,
	    grant_role_name(g->role));
	ctx->who.role = ctx->grant_role;
	return 1;
}

/* ---- managing grants -------------------------------------------------------------------- */

json_t *
api_grants_json(struct daemon *d, const char *pool)
{
	json_t *list = json_array();

	for (size_t i = 0; i < grants_count(d->grants); i++) {
		const struct grant *g = grants_at(d->grants, i);

		if (strcmp(g->pool, pool) == 0)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I}", "principal",
			    g->principal, "role", grant_role_name(g->role), "by", g->by, "created",
			    (json_int_t)g->created));
	}
	return list;
}

void
api_grants_drop_pool(struct api_ctx *ctx, const char *pool)
{
	struct err e = { 0 };

	for (size_t i = grants_count(ctx->d->grants); i > 0; i--) {
		const struct grant *g = grants_at(ctx->d->grants, i - 1);
		char principal[GRANT_PRINCIPAL_MAX];

		if (strcmp(g->pool, pool) != 0)
			continue;
		snprintf(principal, sizeof(principal), "%s", g->principal);
		if (grants_remove(ctx->d->grants, &ctx->who, pool, principal, &e) < 0)
			log_warnx("pool %s deleted, its grant to %s stays: %s", pool, principal, e.msg);
	}
}

static void
agr_reply_pool(struct api_ctx *ctx, const char *pool)
{
	api_reply(ctx, 200, json_pack("{s:s, s:o}", "pool", pool, "grants",
	    api_grants_json(ctx->d, pool)));
}

struct agr_arg {
	char principal[GRANT_PRINCIPAL_MAX];
	enum grant_role role;
};

static void
agr_share_work(struct api_ctx *ctx)
{
	struct agr_arg *a = ctx->work_arg;
	struct err e = { 0 };

	if (ipam_pool_find(ctx->d->ipam, ctx->params[0]) == NULL) {
		api_error(ctx, "not-found", "no pool '%.64s'", ctx->params[0]);
		return;
	}
	if (grants_put(ctx->d->grants, &ctx->who, ctx->params[0], a->principal, a->role, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	agr_reply_pool(ctx, ctx->params[0]);
}

static void
agr_share(struct api_ctx *ctx)
{
	static const char *const f[] = { "principal:s", "role:s", NULL };
	const char *p = api_str_field(ctx, "principal"), *role = api_str_field(ctx, "role");
	struct agr_arg *a;
	struct err e = { 0 };

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	if (grant_principal_check(p, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->role = GRANT_OPERATOR;
	if (role != NULL && grant_role_parse(role, &a->role) < 0) {
		free(a);
		api_error(ctx, "invalid-argument", "role must be operator or reader");
		return;
	}
	snprintf(a->principal, sizeof(a->principal), "%s", p);
	api_defer(ctx, agr_share_work, a, free);
}

static void
agr_unshare_work(struct api_ctx *ctx)
{
	const char *p = ctx->work_arg;
	struct err e = { 0 };

	if (grants_remove(ctx->d->grants, &ctx->who, ctx->params[0], p, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	agr_reply_pool(ctx, ctx->params[0]);
}

static void
agr_unshare(struct api_ctx *ctx)
{
	const char *p = http_query(ctx->req, "principal");
	struct err e = { 0 };
	char *copy;

	if (grant_principal_check(p, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	if ((copy = strdup(p)) == NULL)
		fatal("strdup");
	api_defer(ctx, agr_unshare_work, copy, free);
}

static const struct api_route agr_routes[] = {
	{ "POST", "/v1/pools/{name}/grants", HTTP_ROLE_ADMIN, agr_share },
	{ "DELETE", "/v1/pools/{name}/grants", HTTP_ROLE_ADMIN, agr_unshare },
};
API_TABLE(api_grants_routes, agr_routes);
