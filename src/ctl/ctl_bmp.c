/*
 * ctl_bmp — prefixctl's view of what the world sees (issue 19):
 *
 *   visibility CIDR     GET /v1/visibility/CIDR: for one of our public prefixes (or any
 *                       CIDR), the routes the BMP station keeps that overlap it, one row per
 *                       vantage point (router, peer, view) with origin, AS path, age and
 *                       verdict; how many routers hold it from our origin; standing alerts
 *
 * --json prints the daemon's answer as it is. A daemon without [bmp] listen refuses with
 * bmp-unavailable (exit 1).
 */
#include "ctl.h"

#include <stdio.h>

extern const struct ctl_cmd ctl_bmp_cmds[];

static const struct ctl_opt arg_cidr[] = {
	{ "CIDR", CTL_CIDR, 0, NULL, 0, 0, NULL, "a prefix (usually one of ours)" },
	{ 0 },
};

/* The route (or alert) with its vantage's members lifted beside its own, for a table. */
static json_t *
flat(json_t *row)
{
	json_t *o = json_deep_copy(row), *v = json_object_get(row, "vantage");
	const char *k;
	json_t *x;

	json_object_foreach(v, k, x)
		json_object_set(o, k, x);
	if (json_is_number(json_object_get(row, "age_s")))
		json_object_set_new(o, "age", json_sprintf("%.0fs",
		    json_number_value(json_object_get(row, "age_s"))));
	return o;
}

static void
print_visibility(struct ctl_ctx *ctx, json_t *r)
{
	static const struct ctl_col rcols[] = {
		{ "ROUTER", "router" }, { "NAME", "router_name" }, { "PEER", "peer" },
		{ "PEER_AS", "peer_as" }, { "VIEW", "view" }, { "PREFIX", "prefix" },
		{ "ORIGIN", "origin_asn" }, { "AS_PATH", "as_path" }, { "AGE", "age" },
		{ "VERDICT", "verdict" }, { 0 },
	};
	static const struct ctl_col acols[] = {
		{ "ALERT", "alert" }, { "PREFIX", "prefix" }, { "ASN", "asn" },
		{ "ROUTER", "router" }, { "PEER", "peer" }, { "VIEW", "view" },
		{ "AS_PATH", "as_path" }, { 0 },
	};
	json_t *rows, *x;
	size_t i;
	char cidr[128], state[64];

	ctl_out_cell(json_object_get(r, "cidr"), cidr, sizeof(cidr));
	if (json_is_true(json_object_get(r, "watched"))) {
		ctl_out_cell(json_object_get(r, "state"), state, sizeof(state));
		fprintf(ctx->out, "%s: %s, origin AS%lld, held by %lld of %lld routers\n", cidr,
		    state, (long long)json_integer_value(json_object_get(r, "origin_asn")),
		    (long long)json_integer_value(json_object_get(r, "vantages_holding")),
		    (long long)json_integer_value(json_object_get(r, "routers_up")));
	} else {
		fprintf(ctx->out, "%s: not one of our public prefixes (%lld routers up)\n", cidr,
		    (long long)json_integer_value(json_object_get(r, "routers_up")));
	}
	rows = json_array();
	json_array_foreach(json_object_get(r, "routes"), i, x)
		json_array_append_new(rows, flat(x));
	if (json_array_size(rows) == 0)
		fprintf(ctx->out, "no vantage point holds a route for it\n");
	else
		ctl_out_table(ctx->out, rows, rcols);
	if (json_is_true(json_object_get(r, "truncated")))
		fprintf(ctx->out, "(%lld routes, the first %zu shown)\n",
		    (long long)json_integer_value(json_object_get(r, "total")), json_array_size(rows));
	json_decref(rows);
	rows = json_array();
	json_array_foreach(json_object_get(r, "alerts"), i, x)
		json_array_append_new(rows, flat(x));
	if (json_array_size(rows) > 0) {
		fprintf(ctx->out, "alerts:\n");
		ctl_out_table(ctx->out, rows, acols);
	}
	json_decref(rows);
}

static int
run_visibility(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;

	ctl_path_init(&p, "/v1/visibility");
	if (ctl_path_add(&p, inv->pos[0]) < 0) {
		fprintf(ctx->errf, "prefixctl: request path too long\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_request(ctx, "GET", p.s, NULL, print_visibility);
}

const struct ctl_cmd ctl_bmp_cmds[] = {
	{ "visibility", "CIDR", "which BMP vantage points hold CIDR, from which origin and path",
	  arg_cidr, NULL, NULL, run_visibility },
	{ 0 },
};
