/*
 * api_import — the read side of the address plan and the import of resources (SPEC §2
 * "Import, overlap and compliance", "History"): GET/POST /v1/resources, the overlap and
 * compliance reports, and GET /v1/history. Called by api_dispatch through the route table
 * exported as api_import_routes (registered by src/prefixd.c); the JSON shapes are doc/openapi.json's. An import is
 * a change and goes through the group commit (api_defer); the rest are reads. The resource
 * list and history answer a page at a time (api_page.c; history's pages are the store's,
 * store_events_page). The reports are not paged: each is computed whole.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "store.h"

static json_t *
api_resource_json(const struct ipam_resource *r)
{
	return json_pack("{s:o,s:s,s:o,s:s,s:o,s:o}", "id", api_id_json(r->id),
	    "scope", r->scope->name, "cidr", api_cidr_json(&r->cidr), "name", r->name,
	    "tags", api_tags_to_json(&r->tags), "created_at", api_time_json(r->created));
}

/* ---- resources (import) --------------------------------------------------------------- */

struct api_import_item {
	struct cidr cidr;
	const char *name;               /* borrowed from ctx->body */
	struct ipam_tags tags;
};

struct api_import_arg {
	size_t n;
	struct api_import_item *v;
};

static void
api_import_arg_free(void *p)
{
	struct api_import_arg *a = p;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		ipam_tags_clear(&a->v[i].tags);
	free(a->v);
	free(a);
}

/* The resources after the cursor's id (a page is api_page.c's). */
struct api_resource_rows {
	struct api_page_set set;
	uint64_t after;
};

static int
api_resource_push(void *arg, struct ipam_resource *r)
{
	struct api_resource_rows *x = arg;

	if (r->id > x->after)
		api_page_set_add(&x->set, r->id, r);
	return 0;
}

static json_t *
api_resource_render(const void *r)
{
	return api_resource_json(r);
}

static void
api_resources_list(struct api_ctx *ctx)
{
	struct api_resource_rows x = { { 0 }, 0 };
	struct ipam_scope *s;
	struct api_page pg;
	json_t *a, *j;

	if (api_scope_filter(ctx, &s) < 0 || api_page_args(ctx, "resources", &pg) < 0 ||
	    api_page_after_id(ctx, &pg, &x.after) < 0)
		return;
	ipam_resource_foreach(ctx->d->ipam, s, api_resource_push, &x);
	a = json_array();
	api_page_ids(&pg, &x.set, a, api_resource_render);
	j = json_pack("{s:o}", "resources", a);
	api_page_finish(&pg, j);
	api_reply(ctx, 200, j);
}

/*
 * All resources of one request or none: they are imported inside a savepoint; on a refusal
 * the ones already imported are deleted from memory and the savepoint is rolled back.
 */
static void
api_import_work(struct api_ctx *ctx)
{
	struct api_import_arg *a = ctx->work_arg;
	const char *scope = api_str_field(ctx, "scope");
	struct ipam_resource **done = calloc(a->n + 1, sizeof(*done));
	json_t *out = json_array();
	struct err e;
	size_t i;

	if (done == NULL)
		fatal("calloc");
	err_clear(&e);
	if (store_begin(ctx->d->store, &e) < 0)
		goto fail;
	for (i = 0; i < a->n; i++)
		if (ipam_resource_import(ctx->d->ipam, &ctx->who, scope, &a->v[i].cidr,
		    a->v[i].name, &a->v[i].tags, &done[i], &e) < 0)
			break;
	if (i < a->n) {
		while (i-- > 0)
			ipam_resource_delete(ctx->d->ipam, &ctx->who, done[i]->id, NULL);
		store_rollback(ctx->d->store, NULL);
		goto fail;
	}
	for (i = 0; i < a->n; i++)
		json_array_append_new(out, api_resource_json(done[i]));
	if (store_commit(ctx->d->store, &e) < 0)
		goto fail;
	free(done);
	api_reply(ctx, 201, json_pack("{s:o}", "resources", out));
	return;
fail:
	free(done);
	json_decref(out);
	api_reply_err(ctx, &e);
}

/* One resource object {cidr,name,tags} into item; replies 400 and returns -1 when bad. */
static int
api_import_item(struct api_ctx *ctx, const json_t *o, struct api_import_item *it)
{
	static const char *const f[] = { "cidr:s", "name:s", "tags:o", "scope:s", "resources:a", NULL };

	if (api_body_check(ctx, o, f) < 0)
		return -1;
	it->name = json_string_value(json_object_get(o, "name"));
	if (json_object_get(o, "cidr") == NULL || it->name == NULL) {
		api_error(ctx, "invalid-argument", "a resource needs cidr and name");
		return -1;
	}
	if (api_cidr_arg(ctx, json_string_value(json_object_get(o, "cidr")), &it->cidr) < 0)
		return -1;
	return api_tags_from_json(ctx, json_object_get(o, "tags"), "tags", &it->tags);
}

static void
api_import(struct api_ctx *ctx)
{
	static const char *const f[] = { "scope:s", "cidr:s", "name:s", "tags:o", "resources:a", NULL };
	static const char *const item_f[] = { "cidr:s", "name:s", "tags:o", NULL };
	json_t *list = json_object_get(ctx->body, "resources"), *v;
	struct api_import_arg *a;
	size_t i;

	if (api_body_check(ctx, ctx->body, f) < 0)
		return;
	if (api_str_field(ctx, "scope") == NULL ||
	    (list != NULL) == (json_object_get(ctx->body, "cidr") != NULL)) {
		api_error(ctx, "invalid-argument", "give scope and either cidr+name or resources[]");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->v = calloc(list ? json_array_size(list) + 1 : 1, sizeof(*a->v))) == NULL)
		fatal("calloc");
	if (list == NULL) {
		if (api_import_item(ctx, ctx->body, &a->v[0]) < 0)
			goto fail;
		a->n = 1;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_object(v)) {
			api_error(ctx, "invalid-argument", "resources[%zu] must be an object", i);
			goto fail;
		}
		if (api_body_check(ctx, v, item_f) < 0 || api_import_item(ctx, v, &a->v[i]) < 0)
			goto fail;
		a->n++;
	}
	if (a->n == 0) {
		api_error(ctx, "invalid-argument", "resources[] is empty");
		goto fail;
	}
	api_defer(ctx, api_import_work, a, api_import_arg_free);
	return;
fail:
	api_import_arg_free(a);
}

/* ---- reports -------------------------------------------------------------------------- */

static int
api_report_push(void *arg, const struct ipam_report_row *r)
{
	json_t *row, *with = json_array();

	if (r->overlapping)
		json_array_append_new(with, api_cidr_json(&r->overlap_cidr));
	row = json_pack("{s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:s,s:o}",
	    "scope", r->scope->name, "cidr", api_cidr_json(&r->cidr),
	    "type", r->kind == IPAM_ITEM_ALLOCATION ? "allocation" : "resource",
	    "management_state", r->managed ? "managed" : "unmanaged",
	    "overlap_status", r->overlapping ? "overlapping" : "nonoverlapping",
	    "overlaps_with", with,
	    "overlap_name", api_str_or_null(r->overlapping ? r->overlap_name : NULL),
	    "compliance_status", ipam_compliance_name(r->compliance),
	    "compliance_reason", api_str_or_null(r->compliance == IPAM_NONCOMPLIANT ? r->rule : NULL));
	if (r->kind == IPAM_ITEM_ALLOCATION && r->alloc != NULL) {
		json_object_set_new(row, "id", api_id_json(r->alloc->id));
		json_object_set_new(row, "pool", json_string(r->alloc->pool->name));
		json_object_set_new(row, "name", api_str_or_null(ipam_alloc_description(r->alloc)));
	} else if (r->resource != NULL) {
		json_object_set_new(row, "id", api_id_json(r->resource->id));
		json_object_set_new(row, "pool", json_null());
		json_object_set_new(row, "name", json_string(r->resource->name));
	}
	json_array_append_new(arg, row);
	return 0;
}

static void
api_report(struct api_ctx *ctx)
{
	struct ipam_scope *s;
	json_t *rows;

	if (api_scope_filter(ctx, &s) < 0)
		return;
	rows = json_array();
	ipam_report(ctx->d->ipam, s, api_report_push, rows);
	api_reply(ctx, 200, json_pack("{s:o}", "rows", rows));
}

/* ---- history -------------------------------------------------------------------------- */

/* "1700000000", "2026-11-21", "2026-11-21T04:00:00Z" into unix seconds; -1 when bad. */
static int
api_time_arg(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;
	long long v;

	memset(&tm, 0, sizeof(tm));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0) {
		*out = v;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return -1;
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

static json_t *
api_json_text(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	return j != NULL ? j : json_string(s);
}

static int
api_event_push(void *arg, const struct store_event *ev)
{
	json_array_append_new(arg, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)ev->id, "time", api_time_json(ev->time),
	    "actor", api_str_or_null(ev->actor), "role", api_str_or_null(ev->role),
	    "request_id", api_str_or_null(ev->request_id), "action", api_str_or_null(ev->action),
	    "object_kind", api_str_or_null(ev->object_kind),
	    "cidr", ev->has_cidr ? api_cidr_json(&ev->cidr) : json_null(),
	    "before", api_json_text(ev->before), "after", api_json_text(ev->after),
	    "evidence", api_json_text(ev->evidence)));
	return 0;
}

static void
api_history(struct api_ctx *ctx)
{
	const char *c = http_query(ctx->req, "cidr"), *since = http_query(ctx->req, "since");
	const char *until = http_query(ctx->req, "until");
	struct store_event_page sp = { 0 };
	int64_t t0 = 0, t1 = INT64_MAX;
	struct api_page pg;
	struct cidr cidr;
	json_t *a, *j;
	struct err e;

	if (c == NULL) {
		api_error(ctx, "invalid-argument", "query parameter cidr is required");
		return;
	}
	if (api_cidr_arg(ctx, c, &cidr) < 0)
		return;
	if ((since != NULL && api_time_arg(since, &t0) < 0) ||
	    (until != NULL && api_time_arg(until, &t1) < 0)) {
		api_error(ctx, "invalid-argument", "since/until: unix seconds, YYYY-MM-DD or RFC 3339 UTC");
		return;
	}
	if (api_page_args(ctx, "history", &pg) < 0 || api_page_after_id(ctx, &pg, &sp.after) < 0)
		return;
	sp.cidr = &cidr;
	sp.since = t0;
	sp.until = t1;
	sp.limit = pg.limit;
	a = json_array();
	err_clear(&e);
	if (store_events_page(ctx->d->store, &sp, api_event_push, a, &e) < 0) {
		json_decref(a);
		api_reply_err(ctx, &e);
		return;
	}
	/* the store pages by id and may end a page early (a bounded read): its next is the key */
	pg.more = sp.next != 0;
	api_page_next(&pg, "%llu", (unsigned long long)sp.next);
	j = json_pack("{s:o,s:o}", "cidr", api_cidr_json(&cidr), "events", a);
	api_page_finish(&pg, j);
	api_reply(ctx, 200, j);
}

/* ---- route table ---------------------------------------------------------------------- */

static const struct api_route import_routes[] = {
	{ "GET", "/v1/resources", HTTP_ROLE_READER, api_resources_list },
	{ "POST", "/v1/resources", HTTP_ROLE_ADMIN, api_import },
	{ "GET", "/v1/reports/overlaps", HTTP_ROLE_READER, api_report },
	{ "GET", "/v1/reports/compliance", HTTP_ROLE_READER, api_report },
	{ "GET", "/v1/history", HTTP_ROLE_READER, api_history },
};
API_TABLE(api_import_routes, import_routes);
