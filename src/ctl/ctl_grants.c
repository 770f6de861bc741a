/*
 * ctl_grants — prefixctl's shared-pool commands (issue 21, over src/api/api_grants.c):
 *
 *   pool share POOL --to PRINCIPAL [--role operator|reader]   POST /v1/pools/POOL/grants
 *   pool unshare POOL --to PRINCIPAL                          DELETE /v1/pools/POOL/grants
 *
 * PRINCIPAL is written as events write actors: token:NAME, group:NAME or uid:N. `pool show`
 * (ctl_ipam.c) lists a pool's grants. Contributes ctl_grants_cmds[] to the registry.
 */
#include "ctl.h"

#include <string.h>

static const struct ctl_col grant_cols[] = {
	{ "PRINCIPAL", "principal" }, { "ROLE", "role" }, { "BY", "by" }, { 0 },
};

static void
print_grants(struct ctl_ctx *ctx, json_t *reply)
{
	fprintf(ctx->out, "pool %s shared with:\n", json_string_value(json_object_get(reply,
	    "pool")));
	ctl_out_table(ctx->out, json_object_get(reply, "grants"), grant_cols);
}

/* A principal as events write actors; a usage error otherwise (nothing is sent). */
static int
check_principal(const struct ctl_inv *inv, struct err *e)
{
	const char *p = ctl_inv_str(inv, "to");

	if (p != NULL && strncmp(p, "token:", 6) != 0 && strncmp(p, "group:", 6) != 0 &&
	    strncmp(p, "uid:", 4) != 0)
		return err_set(e, "usage", "--to: '%.64s' is not token:NAME, group:NAME or uid:N",
		    p);
	return 0;
}

static int
run_share(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = json_pack("{s:s}", "principal", ctl_inv_str(inv, "to"));

	if (ctl_inv_str(inv, "role") != NULL)
		json_object_set_new(body, "role", json_string(ctl_inv_str(inv, "role")));
	return ctl_send3(ctx, "POST", "pools", inv->pos[0], "grants", body, print_grants);
}

static int
run_unshare(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;

	ctl_path_init(&p, "/v1/pools");
	if (ctl_path_add(&p, inv->pos[0]) < 0 || ctl_path_add(&p, "grants") < 0 ||
	    ctl_path_query(&p, "principal", ctl_inv_str(inv, "to")) < 0) {
		fprintf(ctx->errf, "prefixctl: request path too long\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_request(ctx, "DELETE", p.s, NULL, print_grants);
}

static const struct ctl_opt arg_pool[] = {
	{ "POOL", CTL_STRING, 0, NULL, 0, 0, NULL, "the pool (its children are shared too)" },
	{ 0 },
};
static const struct ctl_opt opt_share[] = {
	{ "to", CTL_STRING, CTL_OPT_REQUIRED, "PRINCIPAL", 0, 0, NULL,
	  "token:NAME, group:NAME or uid:N" },
	{ "role", CTL_CHOICE, 0, "R", 0, 0, "operator|reader",
	  "operator: allocate, release, read (default); reader: read" },
	{ 0 },
};
static const struct ctl_opt opt_unshare[] = {
	{ "to", CTL_STRING, CTL_OPT_REQUIRED, "PRINCIPAL", 0, 0, NULL,
	  "the principal whose grant goes" },
	{ 0 },
};

const struct ctl_cmd ctl_grants_cmds[] = {
	{ "pool share", "POOL --to PRINCIPAL [--role operator|reader]",
	  "Let a principal allocate (or read) in a pool and its children.", arg_pool, opt_share,
	  check_principal, run_share },
	{ "pool unshare", "POOL --to PRINCIPAL", "Remove a principal's grant on a pool.",
	  arg_pool, opt_unshare, check_principal, run_unshare },
	{ 0 },
};
