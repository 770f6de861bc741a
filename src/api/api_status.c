/*
 * api_status — GET /v1/status (what the daemon is and holds) and GET /metrics (Prometheus).
 * Called through the route table; reads only. The sections after "counts" ("rpki", "bird",
 * "prefixes") are the status sections src/prefixd.c added (api_add_status_section); each
 * says "not configured" / "not running" when its engine is absent.
 */
#include <stdlib.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "metrics.h"

struct api_counts {
	json_int_t scopes, pools, resources;
};

static int
api_count_scope(void *arg, struct ipam_scope *s)
{
	(void)s;
	((struct api_counts *)arg)->scopes++;
	return 0;
}

static int
api_count_pool(void *arg, struct ipam_pool *p)
{
	(void)p;
	((struct api_counts *)arg)->pools++;
	return 0;
}

static int
api_count_resource(void *arg, struct ipam_resource *r)
{
	(void)r;
	((struct api_counts *)arg)->resources++;
	return 0;
}

/*
 * "store_state" of /v1/status: whether the store answers, and so where reads come from. While
 * the database connection is lost, writes fail store-failed (503) and reads are answered from
 * memory ("reads": "memory"), possibly missing what other instances wrote since
 * ("feed_seq" is the change sequence memory is exact up to). "stale": a rebuild is due.
 */
json_t *
api_store_status(struct daemon *d)
{
	bool online = store_online(d->store);

	return json_pack("{s:b,s:s,s:I,s:b}", "online", online, "reads",
	    online && !ipam_stale(d->ipam) ? "store" : "memory", "feed_seq",
	    (json_int_t)ipam_feed_seq(d->ipam), "stale", ipam_stale(d->ipam));
}

static void
api_status(struct api_ctx *ctx)
{
	struct daemon *d = ctx->d;
	struct api_counts c = { 0, 0, 0 };
	json_t *j;

	ipam_scope_foreach(d->ipam, api_count_scope, &c);
	ipam_pool_foreach(d->ipam, NULL, api_count_pool, &c);
	ipam_resource_foreach(d->ipam, NULL, api_count_resource, &c);
	j = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:{s:I,s:I,s:I,s:I}}",
	    "version", PREFIXD_VERSION, "pid", (json_int_t)getpid(),
	    "uptime_seconds", (json_int_t)(ev_time() - d->started),
	    /* the store's path is for admins; others learn the backend only (issue 15, 15) */
	    "store", ctx->req->role == HTTP_ROLE_ADMIN ? d->store_path : "sqlite", "role", http_role_name(ctx->req->role), "actor", ctx->req->actor,
	    "counts", "scopes", c.scopes, "pools", c.pools,
	    "allocations", (json_int_t)ipam_alloc_count(d->ipam), "resources", c.resources);
	api_status_sections(d, j);
	api_reply(ctx, 200, j);
}

static void
api_metrics(struct api_ctx *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		fatal("open_memstream");
	metrics_render(ctx->d->metrics, f);
	fclose(f);
	http_reply(ctx->req, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
}

static const struct api_route status_routes[] = {
	{ "GET", "/v1/status", HTTP_ROLE_READER, api_status },
	{ "GET", "/metrics", HTTP_ROLE_READER, api_metrics },
};
API_TABLE(api_status_routes, status_routes);
