/*
 * ctl_prefix — prefixctl's public-prefix commands (SPEC §3, §6), over src/api/api_prefix.c:
 *
 *   prefix list [--state S] [--pool P]          GET /v1/prefixes
 *   prefix show CIDR                            GET /v1/prefixes/CIDR ('/' sent as '_')
 *   advertise CIDR... [--allow-origin ASN]... [--dry-run]
 *                                               POST /v1/advertise; waits for BIRD's read-back
 *   withdraw CIDR... [--drain SECONDS] [--confirm-large] [--dry-run]
 *                                               POST /v1/withdraw
 *
 * Exit 0 only when every prefix reached its goal (advertised; withdrawn, or draining with
 * --drain; a dry run whose checks all passed), 1 with the first failure's code otherwise.
 * `pool provision NAME CIDR --auth-message M --auth-signature S` lives in ctl_ipam.c.
 *
 * Contributes ctl_prefix_cmds[] to the registry (declared in ctl.h, listed in ctl_cmd.c).
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>


static const struct ctl_col prefix_cols[] = {
	{ "CIDR", "cidr" }, { "POOL", "pool" }, { "ORIGIN", "origin_asn" },
	{ "STATE", "state" }, { "FAILURE", "failure_reason" }, { 0 },
};

static const struct ctl_col change_cols[] = {
	{ "CIDR", "cidr" }, { "STATE", "state" }, { "CODE", "code" }, { "MESSAGE", "message" },
	{ 0 },
};

static void
print_list(struct ctl_ctx *ctx, json_t *reply)
{
	ctl_out_table(ctx->out, json_object_get(reply, "prefixes"), prefix_cols);
}

/* Long evidence strings (the RDAP document, certificates) would bury the state in a human
 * view: replace each string over PREFIX_SHOW_MAX bytes by its size; --json shows them whole. */
#define PREFIX_SHOW_MAX 160

static json_t *
elide_long(json_t *v)
{
	json_t *out, *item;
	const char *key;
	size_t i, len;
	char note[96];

	if (json_is_string(v) && (len = json_string_length(v)) > PREFIX_SHOW_MAX) {
		snprintf(note, sizeof(note), "(%zu bytes; --json shows it)", len);
		return json_string(note);
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, key, item)
			json_object_set_new(out, key, elide_long(item));
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(out, elide_long(item));
		return out;
	}
	return json_incref(v);
}

static void
print_prefix(struct ctl_ctx *ctx, json_t *reply)
{
	json_t *shown = elide_long(reply);

	ctl_out_object(ctx->out, shown);
	json_decref(shown);
}

static void
print_change(struct ctl_ctx *ctx, json_t *reply)
{
	const char *diff = json_string_value(json_object_get(reply, "diff"));
	char d[4096];

	ctl_out_table(ctx->out, json_object_get(reply, "prefixes"), change_cols);
	if (json_is_true(json_object_get(reply, "dry_run")))
		fprintf(ctx->out, "dry run: nothing changed; BIRD route diff: %s\n",
		    diff && diff[0] ? ctl_out_text(diff, d, sizeof(d)) : "(none)");
}

static int
run_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;

	ctl_path_init(&p, "/v1/prefixes");
	if (ctl_path_query(&p, "state", ctl_inv_str(inv, "state")) < 0 ||
	    ctl_path_query(&p, "pool", ctl_inv_str(inv, "pool")) < 0) {
		fprintf(ctx->errf, "prefixctl: request path too long\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_request(ctx, "GET", p.s, NULL, print_list);
}

static int
run_show(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	char seg[128];
	struct ctl_path p;

	snprintf(seg, sizeof(seg), "%s", inv->pos[0]);
	for (char *s = seg; *s != '\0'; s++)
		if (*s == '/')
			*s = '_';
	ctl_path_init(&p, "/v1/prefixes");
	if (ctl_path_add(&p, seg) < 0) {
		fprintf(ctx->errf, "prefixctl: request path too long\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_request(ctx, "GET", p.s, NULL, print_prefix);
}

/* {"cidrs":[every positional], "dry_run"?} */
static json_t *
change_body(const struct ctl_inv *inv)
{
	json_t *body = json_object(), *cidrs = json_array();

	for (size_t i = 0; i < inv->npos; i++)
		json_array_append_new(cidrs, json_string(inv->pos[i]));
	json_object_set_new(body, "cidrs", cidrs);
	if (ctl_inv_flag(inv, "dry-run"))
		json_object_set_new(body, "dry_run", json_true());
	return body;
}

static int
send_change(struct ctl_ctx *ctx, const char *path, json_t *body)
{
	int rc = ctl_request(ctx, "POST", path, body, print_change);

	json_decref(body);
	return rc;
}

static int
run_advertise(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = change_body(inv), *allow = json_array();
	const char *s;
	size_t it = 0;

	while ((s = ctl_inv_next(inv, "allow-origin", &it)) != NULL)
		json_array_append_new(allow, json_integer(strtoll(s, NULL, 10)));
	json_object_set_new(body, "allow_origin", allow);
	return send_change(ctx, "/v1/advertise", body);
}

static int
run_withdraw(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = change_body(inv);
	long long drain;

	if (ctl_inv_num(inv, "drain", &drain))
		json_object_set_new(body, "drain", json_integer(drain));
	if (ctl_inv_flag(inv, "confirm-large"))
		json_object_set_new(body, "confirm_large", json_true());
	return send_change(ctx, "/v1/withdraw", body);
}

#define CIDR_ARG(flags) { "CIDR", CTL_CIDR, flags, NULL, 0, 0, NULL, "a public prefix" }

static const struct ctl_opt arg_one[] = { CIDR_ARG(0), { 0 } };
static const struct ctl_opt arg_many[] = { CIDR_ARG(CTL_ARG_REPEAT), { 0 } };
static const struct ctl_opt opt_list[] = {
	{ "state", CTL_CHOICE, 0, "S", 0, 0, "pending-provision|failed-provision|provisioned|"
	  "pending-advertise|advertised|pending-withdraw|pending-deprovision|deprovisioned",
	  "only prefixes in this state" },
	{ "pool", CTL_STRING, 0, "P", 0, 0, NULL, "only prefixes of this pool" },
	{ 0 },
};
static const struct ctl_opt opt_advertise[] = {
	{ "allow-origin", CTL_NUM, CTL_OPT_REPEAT, "ASN", 1, 4294967295LL, NULL,
	  "another origin AS that may still announce it (planned hand-over)" },
	{ "dry-run", CTL_FLAG, 0, NULL, 0, 0, NULL, "run every check, show BIRD's route diff" },
	{ 0 },
};
static const struct ctl_opt opt_withdraw[] = {
	{ "drain", CTL_NUM, 0, "SECONDS", 1, 86400, NULL,
	  "announce with GRACEFUL_SHUTDOWN (65535:0) this long first" },
	{ "confirm-large", CTL_FLAG, 0, NULL, 0, 0, NULL, "allow more than max_withdraw" },
	{ "dry-run", CTL_FLAG, 0, NULL, 0, 0, NULL, "run every check, show BIRD's route diff" },
	{ 0 },
};

const struct ctl_cmd ctl_prefix_cmds[] = {
	{ "prefix list", "[--state S] [--pool P]", "public prefixes and their lifecycle state",
	  NULL, opt_list, NULL, run_list },
	{ "prefix show", "CIDR", "one public prefix: state, failure_reason, evidence", arg_one,
	  NULL, NULL, run_show },
	{ "advertise", "CIDR... [--allow-origin ASN] [--dry-run]",
	  "announce public prefixes through BIRD (every interlock of SPEC §3)", arg_many,
	  opt_advertise, NULL, run_advertise },
	{ "withdraw", "CIDR... [--drain SECONDS] [--confirm-large] [--dry-run]",
	  "stop announcing public prefixes", arg_many, opt_withdraw, NULL, run_withdraw },
	{ 0 },
};
