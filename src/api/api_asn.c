/*
 * api_asn — the control API of public-scope AS numbers (issue 21) over src/lifecycle/asn.h.
 *
 *   GET  /v1/asns                      reader  {"asns":[asn...], "counts":{state:n}}, a page
 *                                              in AS number order (limit, cursor: api_page.c)
 *   GET  /v1/asns/{asn}                reader  one ASN (64500 or AS64500); 404 not-found
 *   POST /v1/asns                      admin   {"asn","auth_message","auth_signature"} -> 202
 *                                              with the ASN in pending-provision
 *   POST /v1/asns/{asn}/deprovision    admin   409 in-use while an advertised prefix uses it
 *   POST /v1/prefixes/{cidr}/associate admin   {"asn"}: announce the provisioned prefix from
 *                                              this provisioned ASN instead of its pool's
 *                                              origin; RPKI must be valid for it
 *   POST /v1/prefixes/{cidr}/disassociate admin  back to the pool's origin
 *
 * An ASN in a body is a string ("AS64500" or "64500") or an integer; anything else — 0,
 * 4294967296, "AS", "ASx", a negative number, AS_TRANS — is 400 asn-invalid and changes nothing.
 * Provisioning runs in the group commit like every change; the proof's verdict arrives later
 * (poll GET /v1/asns/{asn}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "asn.h"
#include "asnum.h"
#include "conf.h"
#include "lifecycle_ctl.h"
#include "log.h"
#include "xmalloc.h"

/* Reads an ASN from a JSON value (string or integer); replies 400 asn-invalid on -1. */
static int
aasn_value(struct api_ctx *ctx, const json_t *v, uint32_t *out)
{
	struct err e = { 0 };

	if (json_is_integer(v)) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		if (asnum_parse(buf, 0, out, &e) == 0)
			return 0;
	} else if (json_is_string(v)) {
		if (asnum_parse(json_string_value(v), 0, out, &e) == 0)
			return 0;
	} else
		err_set(&e, "asn-invalid", "asn must be a string (AS64500) or an integer");
	api_reply_err(ctx, &e);
	return -1;
}

int
api_asn_subject(struct api_ctx *ctx, const char *s, char *buf)
{
	struct err e = { 0 };
	uint32_t asn;

	if (asnum_parse(s, 0, &asn, &e) < 0) {
		api_reply_err(ctx, &e);
		return -1;
	}
	asnum_format(asn, buf);
	return 0;
}

static int
aasn_path(struct api_ctx *ctx, uint32_t *out)
{
	json_t *s = json_string(ctx->params[0]);
	int rc = aasn_value(ctx, s, out);

	json_decref(s);
	return rc;
}

static struct asn_reg *
aasn_need(struct api_ctx *ctx)
{
	if (ctx->d->asns == NULL)
		api_error(ctx, "not-ready", "the ASN registry is not running");
	return ctx->d->asns;
}

static json_t *
aasn_render(const void *a)
{
	return asn_json(a);
}

static void
aasn_list(struct api_ctx *ctx)
{
	struct asn_reg *r = aasn_need(ctx);
	size_t counts[ASN_STATE_COUNT];
	struct api_page_set set = { 0 };
	struct api_page pg;
	uint64_t after;
	json_t *list, *cj, *j;

	if (r == NULL || api_page_args(ctx, "asns", &pg) < 0 ||
	    api_page_after_id(ctx, &pg, &after) < 0)
		return;
	for (size_t i = 0; i < asn_count(r); i++)      /* in AS number order, after the cursor's */
		if (asn_at(r, i)->asn > after || !pg.has_after)
			api_page_set_add(&set, asn_at(r, i)->asn, asn_at(r, i));
	list = json_array();
	api_page_ids(&pg, &set, list, aasn_render);
	asn_counts(r, counts);
	cj = json_object();
	for (int i = 1; i < ASN_STATE_COUNT; i++)
		json_object_set_new(cj, asn_state_name(i), json_integer((json_int_t)counts[i]));
	j = json_pack("{s:o, s:o}", "asns", list, "counts", cj);
	api_page_finish(&pg, j);
	api_reply(ctx, 200, j);
}

static void
aasn_show(struct api_ctx *ctx)
{
	struct asn_reg *r = aasn_need(ctx);
	struct asn_obj *a;
	uint32_t asn;

	if (r == NULL || aasn_path(ctx, &asn) < 0)
		return;
	if ((a = asn_find(r, asn)) == NULL) {
		api_error(ctx, "not-found", "AS%u is not known", (unsigned)asn);
		return;
	}
	api_reply(ctx, 200, asn_json(a));
}

struct aasn_prov {
	uint32_t asn;
	char *msg, *sig;
};

static void
aasn_prov_free(void *arg)
{
	struct aasn_prov *p = arg;

	free(p->msg);
	free(p->sig);
	free(p);
}

static void
aasn_provision_work(struct api_ctx *ctx)
{
	struct aasn_prov *p = ctx->work_arg;
	struct asn_obj *a = NULL;
	struct err e = { 0 };

	if (asn_provision(ctx->d->asns, &ctx->who, p->asn, p->msg, p->sig, &a, &e) < 0) {
		json_t *j = a ? asn_json(a) : json_object();

		json_object_set_new(j, "error", json_pack("{s:s, s:s}", "code", e.code,
		    "message", e.msg));
		api_reply(ctx, a != NULL ? 422 : api_status_of(e.code), j);
		return;
	}
	api_reply(ctx, 202, asn_json(a));
}

static void
aasn_provision(struct api_ctx *ctx)
{
	static const char *const fs[] = { "asn:s", "auth_message:s", "auth_signature:s", NULL };
	static const char *const fi[] = { "asn:i", "auth_message:s", "auth_signature:s", NULL };
	json_t *v = json_object_get(ctx->body, "asn");
	struct aasn_prov *p;
	uint32_t asn;

	if (aasn_need(ctx) == NULL ||
	    api_body_check(ctx, ctx->body, json_is_integer(v) ? fi : fs) < 0)
		return;
	if (v == NULL) {
		api_error(ctx, "asn-invalid", "asn is required");
		return;
	}
	if (aasn_value(ctx, v, &asn) < 0)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->asn = asn;
	p->msg = xstrdup(api_str_field(ctx, "auth_message"));
	p->sig = xstrdup(api_str_field(ctx, "auth_signature"));
	api_defer(ctx, aasn_provision_work, p, aasn_prov_free);
}

static void
aasn_deprovision_work(struct api_ctx *ctx)
{
	uint32_t *asn = ctx->work_arg;
	struct err e = { 0 };

	if (asn_deprovision(ctx->d->asns, &ctx->who, *asn, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	api_reply(ctx, 200, asn_json(asn_find(ctx->d->asns, *asn)));
}

static void
aasn_deprovision(struct api_ctx *ctx)
{
	static const char *const f[] = { NULL };
	uint32_t *asn;

	if (aasn_need(ctx) == NULL || api_body_check(ctx, ctx->body, f) < 0)
		return;
	if ((asn = malloc(sizeof(*asn))) == NULL)
		fatal("malloc");
	if (aasn_path(ctx, asn) < 0) {
		free(asn);
		return;
	}
	api_defer(ctx, aasn_deprovision_work, asn, free);
}

int
api_asn_origin_check(struct api_ctx *ctx, const struct ipam_pool_spec *spec)
{
	const struct ipam_pool *parent = spec->parent ? ipam_pool_find(ctx->d->ipam, spec->parent) :
	    NULL;
	const struct ipam_scope *scope = parent ? parent->scope : spec->scope ?
	    ipam_scope_find(ctx->d->ipam, spec->scope) : NULL;

	if (spec->origin_asn == 0 || scope == NULL || scope->kind != IPAM_SCOPE_PUBLIC ||
	    ctx->d->conf->auth_allow_unproven_asn || asn_is_provisioned(ctx->d->asns,
	    spec->origin_asn))
		return 0;
	api_error(ctx, "asn-not-provisioned", "origin_asn AS%u of public pool %.64s is not a "
	    "provisioned ASN: prove it first (prefixctl asn provision AS%u)",
	    (unsigned)spec->origin_asn, spec->name, (unsigned)spec->origin_asn);
	return -1;
}

struct aasn_assoc {
	struct cidr cidr;
	uint32_t asn;           /* 0: disassociate */
};

static void
aasn_assoc_work(struct api_ctx *ctx)
{
	struct aasn_assoc *a = ctx->work_arg;
	struct err e = { 0 };

	if (lifecycle_ctl_associate(ctx->d->lc, &ctx->who, &a->cidr, a->asn, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	api_reply(ctx, 200, lifecycle_ctl_prefix_json(lifecycle_ctl_find(ctx->d->lc, &a->cidr)));
}

/* POST /v1/prefixes/{cidr}/associate {"asn"} and .../disassociate {}. */
static void
aasn_assoc(struct api_ctx *ctx, bool dis)
{
	static const char *const fs[] = { "asn:s", NULL }, *const fi[] = { "asn:i", NULL };
	static const char *const none[] = { NULL };
	json_t *v = json_object_get(ctx->body, "asn");
	struct aasn_assoc *a;

	if (ctx->d->lc == NULL) {
		api_error(ctx, "not-ready", "the public-prefix controller is not running");
		return;
	}
	if (api_body_check(ctx, ctx->body, dis ? none : json_is_integer(v) ? fi : fs) < 0)
		return;
	if (!dis && v == NULL) {
		api_error(ctx, "asn-invalid", "asn is required");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	if (api_path_cidr(ctx, &a->cidr) < 0 ||
	    (!dis && aasn_value(ctx, v, &a->asn) < 0)) {
		free(a);
		return;
	}
	api_defer(ctx, aasn_assoc_work, a, free);
}

static void
aasn_associate(struct api_ctx *ctx)
{
	aasn_assoc(ctx, false);
}

static void
aasn_disassociate(struct api_ctx *ctx)
{
	aasn_assoc(ctx, true);
}

/* GET /v1/status "asns": counts per state. */
json_t *
api_asn_status(struct daemon *d)
{
	size_t counts[ASN_STATE_COUNT];
	json_t *by;

	if (d->asns == NULL)
		return json_pack("{s:s}", "state", "not running");
	asn_counts(d->asns, counts);
	by = json_object();
	for (int i = 1; i < ASN_STATE_COUNT; i++)
		json_object_set_new(by, asn_state_name(i), json_integer((json_int_t)counts[i]));
	return json_pack("{s:I, s:o}", "total", (json_int_t)asn_count(d->asns), "by_state", by);
}

static const struct api_route aasn_routes[] = {
	{ "GET", "/v1/asns", HTTP_ROLE_READER, aasn_list },
	{ "GET", "/v1/asns/{asn}", HTTP_ROLE_READER, aasn_show },
	{ "POST", "/v1/asns", HTTP_ROLE_ADMIN, aasn_provision },
	{ "POST", "/v1/asns/{asn}/deprovision", HTTP_ROLE_ADMIN, aasn_deprovision },
	{ "POST", "/v1/prefixes/{cidr}/associate", HTTP_ROLE_ADMIN, aasn_associate },
	{ "POST", "/v1/prefixes/{cidr}/disassociate", HTTP_ROLE_ADMIN, aasn_disassociate },
};
API_TABLE(api_asn_routes, aasn_routes);
