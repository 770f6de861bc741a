/*
 * ctl_asn — prefixctl's commands for public-scope AS numbers (issue 21, over
 * src/api/api_asn.c):
 *
 *   asn provision ASN --auth-message M --auth-signature S     POST /v1/asns
 *   asn list                                                   GET /v1/asns
 *   asn show ASN                                               GET /v1/asns/ASN
 *   asn deprovision ASN                                        POST /v1/asns/ASN/deprovision
 *   prefix associate CIDR --asn ASN     POST /v1/prefixes/CIDR/associate (the ASN announcing it)
 *   prefix disassociate CIDR            POST /v1/prefixes/CIDR/disassociate (the pool's again)
 *
 * ASN is 64500 or AS64500; a value that is not an AS number (0, 4294967296, AS, ASx, a
 * negative number) is a usage error (exit 2) and nothing is sent. `auth message AS64500`
 * (ctl_auth.c) builds the message to sign. Contributes ctl_asn_cmds[] to the registry.
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "asnum.h"

static const struct ctl_col asn_cols[] = {
	{ "ASN", "name" }, { "STATE", "state" }, { "FAILURE", "failure_reason" },
	{ "MESSAGE", "message" }, { 0 },
};

static void
print_list(struct ctl_ctx *ctx, json_t *reply)
{
	ctl_out_table(ctx->out, json_object_get(reply, "asns"), asn_cols);
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/* The proof's evidence and the history are long: a human sees the state, the code and the
 * certificate fingerprint; --json shows everything. */
static void
print_asn(struct ctl_ctx *ctx, json_t *reply)
{
	json_t *auth = json_object_get(json_object_get(reply, "evidence"), "auth");
	json_t *hist = json_object_get(reply, "history"), *h;
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(reply, key, v) {
		char cell[256];

		if (strcmp(key, "evidence") == 0 || strcmp(key, "history") == 0)
			continue;
		ctl_out_cell(v, cell, sizeof(cell));
		fprintf(ctx->out, "%-18s %s\n", key, cell);
	}
	if (auth != NULL)
		fprintf(ctx->out, "%-18s %s (certificate sha256 %s, from %s)\n", "proof",
		    json_is_true(json_object_get(auth, "ok")) ? "verified" : "refused",
		    or_dash(json_string_value(json_object_get(json_object_get(auth, "evidence"),
		    "cert_sha256"))), or_dash(json_string_value(json_object_get(json_object_get(auth,
		    "evidence"), "rdap_source"))));
	json_array_foreach(hist, i, h)
		fprintf(ctx->out, "%-18s %lld %s: %s -> %s%s%s\n", i == 0 ? "history" : "",
		    (long long)json_integer_value(json_object_get(h, "time")),
		    or_dash(json_string_value(json_object_get(h, "actor"))),
		    or_dash(json_string_value(json_object_get(h, "before"))),
		    or_dash(json_string_value(json_object_get(h, "after"))),
		    json_is_string(json_object_get(h, "code")) ? " " : "",
		    or_dash(json_string_value(json_object_get(h, "code"))));
}

/* The positional ASN must be an AS number; a usage error otherwise. */
static int
check_asn(const struct ctl_inv *inv, struct err *e)
{
	uint32_t asn;
	struct err ae = { 0 };

	if (inv->npos > 0 && asnum_parse(inv->pos[0], 0, &asn, &ae) < 0)
		return err_set(e, "usage", "ASN: %s", ae.msg);
	return 0;
}

static int
run_request(struct ctl_ctx *ctx, const char *method, const char *asn, const char *tail,
    json_t *body, void (*human)(struct ctl_ctx *, json_t *))
{
	return ctl_send3(ctx, method, "asns", asn, tail, body, human);
}

static int
run_provision(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return run_request(ctx, "POST", NULL, NULL, json_pack("{s:s, s:s, s:s}",
	    "asn", inv->pos[0], "auth_message", ctl_inv_str(inv, "auth-message"),
	    "auth_signature", ctl_inv_str(inv, "auth-signature")), print_asn);
}

static int
run_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return run_request(ctx, "GET", NULL, NULL, NULL, print_list);
}

static int
run_show(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return run_request(ctx, "GET", inv->pos[0], NULL, NULL, print_asn);
}

static int
run_deprovision(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return run_request(ctx, "POST", inv->pos[0], "deprovision", json_object(), print_asn);
}

/* POST /v1/prefixes/CIDR/(dis)associate ('/' sent as '_'). */
static int
run_assoc(struct ctl_ctx *ctx, const struct ctl_inv *inv, const char *verb, json_t *body)
{
	char seg[128];

	snprintf(seg, sizeof(seg), "%s", inv->pos[0]);
	for (char *s = seg; *s != '\0'; s++)
		if (*s == '/')
			*s = '_';
	return ctl_send3(ctx, "POST", "prefixes", seg, verb, body, print_asn);
}

static int
run_associate(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return run_assoc(ctx, inv, "associate", json_pack("{s:s}", "asn",
	    ctl_inv_str(inv, "asn")));
}

static int
run_disassociate(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return run_assoc(ctx, inv, "disassociate", json_object());
}

/* --asn of prefix associate must be an AS number. */
static int
check_assoc(const struct ctl_inv *inv, struct err *e)
{
	uint32_t asn;
	struct err ae = { 0 };
	const char *s = ctl_inv_str(inv, "asn");

	if (s != NULL && asnum_parse(s, 0, &asn, &ae) < 0)
		return err_set(e, "usage", "--asn: %s", ae.msg);
	return 0;
}

static const struct ctl_opt arg_cidr[] = {
	{ "CIDR", CTL_CIDR, 0, NULL, 0, 0, NULL, "a provisioned public prefix" },
	{ 0 },
};
static const struct ctl_opt opt_assoc[] = {
	{ "asn", CTL_STRING, CTL_OPT_REQUIRED, "ASN", 0, 0, NULL,
	  "a provisioned ASN to announce it from (RPKI must be valid for it)" },
	{ 0 },
};

static const struct ctl_opt arg_asn[] = {
	{ "ASN", CTL_STRING, 0, NULL, 0, 0, NULL, "an AS number: 64500 or AS64500" },
	{ 0 },
};
static const struct ctl_opt opt_provision[] = {
	{ "auth-message", CTL_STRING, CTL_OPT_REQUIRED, "M", 0, 0, NULL,
	  "1|issuer|owner-id|AS<n>|YYYYMMDD|SHA256|RSAPSS (prefixctl auth message AS<n>)" },
	{ "auth-signature", CTL_STRING, CTL_OPT_REQUIRED, "S", 0, 0, NULL,
	  "its RSA-PSS signature by the key of the autnum RDAP record's certificate" },
	{ 0 },
};

const struct ctl_cmd ctl_asn_cmds[] = {
	{ "asn provision", "ASN --auth-message M --auth-signature S",
	  "Prove an ASN (BYOASN): pending-provision, then provisioned or failed-provision.",
	  arg_asn, opt_provision, check_asn, run_provision },
	{ "asn list", "", "Public-scope ASNs and their states.", NULL, NULL, NULL, run_list },
	{ "asn show", "ASN", "One ASN: state, failure, proof, history.", arg_asn, NULL,
	  check_asn, run_show },
	{ "asn deprovision", "ASN", "Deprovision an ASN no advertised prefix uses.", arg_asn,
	  NULL, check_asn, run_deprovision },
	{ "prefix associate", "CIDR --asn ASN",
	  "Announce a provisioned prefix from another proven ASN than its pool's.", arg_cidr,
	  opt_assoc, check_assoc, run_associate },
	{ "prefix disassociate", "CIDR", "Announce a provisioned prefix from its pool's origin "
	  "again.", arg_cidr, NULL, NULL, run_disassociate },
	{ 0 },
};
