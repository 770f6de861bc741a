/*
 * ctl_rpki — prefixctl's RPKI commands (SPEC §6, issue 5):
 *
 *   rpki status                 GET /v1/rpki/status: the freshness state, each cache with
 *                               its state, serial and session, VRP counts per family, the
 *                               age of the last update
 *   rpki validate PREFIX ASN    GET /v1/rpki/validate?prefix=&asn=: valid / invalid (origin
 *                               or length) / not-found, the deciding VRPs, the RFC 9319
 *                               warning and whether the data was stale
 *
 * `rpki validate` exits 0 whatever the answer (the question was answered); a refusal (bad
 * prefix, RPKI not configured) exits 1. Contributes ctl_rpki_cmds[] to the registry (to be
 * declared in ctl.h and listed in ctl_cmd.c's area list).
 */
#include "ctl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static const struct ctl_opt arg_validate[] = {
	{ "PREFIX", CTL_CIDR, 0, NULL, 0, 0, NULL, "the announced prefix" },
	{ "ASN", CTL_STRING, 0, NULL, 0, 0, NULL, "the origin AS (65001 or AS65001)" },
	{ 0 },
};

static int
check_validate(const struct ctl_inv *inv, struct err *e)
{
	const char *s = inv->pos[1];
	char *end;
	unsigned long long v;

	if (s != NULL && strncasecmp(s, "AS", 2) == 0)
		s += 2;
	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 10)
		return err_set(e, "usage", "ASN: want a number 0..4294967295 (or AS65001)");
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > UINT32_MAX)
		return err_set(e, "usage", "ASN: want a number 0..4294967295 (or AS65001)");
	return 0;
}

static void
print_age(FILE *f, const char *label, json_t *age)
{
	if (json_is_number(age))
		fprintf(f, "%s%.1f s ago\n", label, json_number_value(age));
	else
		fprintf(f, "%snever\n", label);
}

static void
print_status(struct ctl_ctx *ctx, json_t *r)
{
	static const struct ctl_col cols[] = {
		{ "CACHE", "cache" }, { "UP", "up" }, { "SOCKET", "socket_state" },
		{ "SESSION", "session_id" }, { "SERIAL", "serial" },
		{ "LAST_UPDATE_AGE", "last_update_age" }, { "SYNCS", "syncs" }, { 0 },
	};
	json_t *vrps = json_object_get(r, "vrps");

	fprintf(ctx->out, "state: %s\n", json_string_value(json_object_get(r, "state")));
	if (vrps == NULL)
		return;     /* not configured */
	fprintf(ctx->out, "fresh: %s\n", json_is_true(json_object_get(r, "fresh")) ? "yes" : "no");
	fprintf(ctx->out, "vrps: %lld ipv4, %lld ipv6\n",
	    (long long)json_integer_value(json_object_get(vrps, "ipv4")),
	    (long long)json_integer_value(json_object_get(vrps, "ipv6")));
	print_age(ctx->out, "last update: ", json_object_get(r, "last_update_age"));
	fprintf(ctx->out, "stale after: %lld s, expire: %lld s\n",
	    (long long)json_integer_value(json_object_get(r, "stale_after")),
	    (long long)json_integer_value(json_object_get(r, "expire")));
	ctl_out_table(ctx->out, json_object_get(r, "caches"), cols);
}

static int
run_status(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return ctl_request(ctx, "GET", "/v1/rpki/status", NULL, print_status);
}

static void
print_validate(struct ctl_ctx *ctx, json_t *r)
{
	static const struct ctl_col cols[] = {
		{ "VRP", "prefix" }, { "MAXLEN", "max_length" }, { "ASN", "asn" }, { 0 },
	};
	const char *reason = json_string_value(json_object_get(r, "reason"));

	fprintf(ctx->out, "%s AS%lld: %s%s%s%s\n",
	    json_string_value(json_object_get(r, "prefix")),
	    (long long)json_integer_value(json_object_get(r, "asn")),
	    json_string_value(json_object_get(r, "state")),
	    reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
	if (json_is_true(json_object_get(r, "stale")))
		fprintf(ctx->out, "warning: RPKI data is not fresh; answer from kept data\n");
	if (json_is_true(json_object_get(r, "maxlength_warning")))
		fprintf(ctx->out, "warning: a matching VRP's maxLength is longer than the prefix "
		    "(RFC 9319)\n");
	if (json_array_size(json_object_get(r, "vrps")) > 0)
		ctl_out_table(ctx->out, json_object_get(r, "vrps"), cols);
}

static int
run_validate(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;

	ctl_path_init(&p, "/v1/rpki/validate");
	if (ctl_path_query(&p, "prefix", inv->pos[0]) == -1 ||
	    ctl_path_query(&p, "asn", inv->pos[1]) == -1) {
		fprintf(ctx->errf, "prefixctl: request too long\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_request(ctx, "GET", p.s, NULL, print_validate);
}

const struct ctl_cmd ctl_rpki_cmds[] = {
	{ "rpki status", "", "RTR data freshness, caches and VRP counts", NULL, NULL, NULL,
	  run_status },
	{ "rpki validate", "PREFIX ASN", "RFC 6811 origin validation against the live RTR data",
	  arg_validate, NULL, check_validate, run_validate },
	{ 0 },
};
