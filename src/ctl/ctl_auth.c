/*
 * ctl_auth — prefixctl's authorization-context toolkit (SPEC §4, §6), for preparing a
 * provisioning offline:
 *
 *   auth message (CIDR | ASN) --expires YYYYMMDD
 *       prints the exact message to sign (issuer and owner-id from the daemon's config) and
 *       the openssl command that signs it (POST /v1/auth/message); an ASN (64500, AS64500)
 *       gives the message of an ASN proof (issue 21).
 *   auth verify CIDR --message M --signature S (--cert FILE | --rdap-url URL)
 *       runs every check in the daemon and prints each with its result (POST /v1/auth/verify);
 *       exit 0 when the proof holds, 1 when refused (code and message on stderr).
 *
 * Contributes ctl_auth_cmds[] to the registry (ctl_cmd.c's area list; declared in ctl.h).
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "asnum.h"
#include "cidr.h"

#define CERT_FILE_MAX (64u * 1024)

/* Designated initializers: fields added to struct ctl_opt later default to zero. */
static const struct ctl_opt arg_cidr[] = {
	{ .name = "CIDR", .kind = CTL_CIDR, .help = "the prefix to provision" },
	{ 0 },
};

static const struct ctl_opt arg_subject[] = {
	{ .name = "CIDR|ASN", .kind = CTL_STRING,
	  .help = "the prefix, or the AS number (AS64500), to prove" },
	{ 0 },
};

/* The subject of `auth message` is a CIDR or an AS number; a usage error otherwise. */
static int
check_message(const struct ctl_inv *inv, struct err *e)
{
	struct cidr c;
	uint32_t asn;
	struct err ae = { 0 };

	if (inv->npos == 0 || asnum_parse(inv->pos[0], 0, &asn, NULL) == 0 ||
	    (!asnum_looks_like(inv->pos[0]) && cidr_parse(inv->pos[0], &c, NULL) == 0))
		return 0;
	if (asnum_looks_like(inv->pos[0]))
		asnum_parse(inv->pos[0], 0, &asn, &ae);
	return err_set(e, "usage", "'%.64s' is neither a CIDR nor an AS number%s%s", inv->pos[0],
	    ae.code ? ": " : "", ae.code ? ae.msg : "");
}

static const struct ctl_opt opt_message[] = {
	{ .name = "expires", .kind = CTL_STRING, .flags = CTL_OPT_REQUIRED,
	  .metavar = "YYYYMMDD", .help = "last day (UTC) the message is valid" },
	{ 0 },
};

static const struct ctl_opt opt_verify[] = {
	{ .name = "message", .kind = CTL_STRING, .flags = CTL_OPT_REQUIRED, .metavar = "M",
	  .help = "the signed message" },
	{ .name = "signature", .kind = CTL_STRING, .flags = CTL_OPT_REQUIRED, .metavar = "S",
	  .help = "the signature (base64, standard or SPEC's URL-safe)" },
	{ .name = "cert", .kind = CTL_STRING, .metavar = "FILE",
	  .help = "the certificate as a PEM file" },
	{ .name = "rdap-url", .kind = CTL_STRING, .metavar = "URL",
	  .help = "the daemon's configured auth.rdap_url template (another URL is refused)" },
	{ 0 },
};

static int
check_verify(const struct ctl_inv *inv, struct err *e)
{
	if ((ctl_inv_str(inv, "cert") == NULL) == (ctl_inv_str(inv, "rdap-url") == NULL))
		return err_set(e, "usage", "auth verify needs exactly one of --cert FILE and "
		    "--rdap-url URL");
	return 0;
}

static void
print_message(struct ctl_ctx *ctx, json_t *reply)
{
	char a[1024], b[4096];

	fprintf(ctx->out, "message: %s\n", ctl_out_text(json_string_value(
	    json_object_get(reply, "message")), a, sizeof(a)));
	fprintf(ctx->out, "sign with:\n  %s\n", ctl_out_text(json_string_value(
	    json_object_get(reply, "sign_command")), b, sizeof(b)));
}

static int
run_message(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	uint32_t asn;
	json_t *body = json_pack("{s:s,s:s}", asnum_parse(inv->pos[0], 0, &asn, NULL) == 0 ?
	    "asn" : "cidr", inv->pos[0], "expires", ctl_inv_str(inv, "expires"));
	int rc = ctl_request(ctx, "POST", "/v1/auth/message", body, print_message);

	json_decref(body);
	return rc;
}

/* Prints every check as "ok|FAIL name detail", then the evidence. */
static void
print_checks(struct ctl_ctx *ctx, json_t *reply)
{
	json_t *checks = json_object_get(reply, "checks"), *c, *ev;
	char n[128], d[1024];
	size_t i;

	json_array_foreach(checks, i, c)
		fprintf(ctx->out, "%-4s  %-18s  %s\n",
		    json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
		    ctl_out_text(json_string_value(json_object_get(c, "name")), n, sizeof(n)),
		    ctl_out_text(json_string_value(json_object_get(c, "detail")), d, sizeof(d)));
	ev = json_object_get(reply, "evidence");
	fprintf(ctx->out, "result: %s\n", json_is_true(json_object_get(reply, "ok")) ?
	    "ok" : ctl_out_text(json_string_value(json_object_get(reply, "code")), n, sizeof(n)));
	fprintf(ctx->out, "message sha256: %s\n", ctl_out_text(json_string_value(
	    json_object_get(ev, "message_sha256")), d, sizeof(d)));
	if (json_string_value(json_object_get(ev, "cert_sha256")) != NULL)
		fprintf(ctx->out, "certificate sha256: %s\n", ctl_out_text(json_string_value(
		    json_object_get(ev, "cert_sha256")), d, sizeof(d)));
}

/* Builds the verify request body; NULL after printing why (cert file unreadable). */
static json_t *
verify_body(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	const char *file = ctl_inv_str(inv, "cert"), *url = ctl_inv_str(inv, "rdap-url");
	json_t *body = json_pack("{s:s,s:s,s:s}", "cidr", inv->pos[0], "message",
	    ctl_inv_str(inv, "message"), "signature", ctl_inv_str(inv, "signature"));
	struct err e = { 0 };

	if (file != NULL) {
		size_t len;
		char *pem = ctl_read_file(file, CERT_FILE_MAX, &len, &e);
		json_t *s;

		if (pem == NULL) {
			fprintf(ctx->errf, "prefixctl: --cert: %s\n", e.msg);
			json_decref(body);
			return NULL;
		}
		s = json_stringn(pem, len);
		free(pem);
		if (s == NULL) {
			fprintf(ctx->errf, "prefixctl: --cert: %s is not a text PEM file\n", file);
			json_decref(body);
			return NULL;
		}
		json_object_set_new(body, "cert", s);
	}
	if (url != NULL)
		json_object_set_new(body, "rdap_url", json_string(url));
	return body;
}

static int
run_verify(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = verify_body(ctx, inv), *j = NULL;
	struct ctl_reply r = { 0 };
	struct err e = { 0 };
	char *text;
	int rc = CTL_EXIT_REFUSED;

	if (body == NULL)
		return CTL_EXIT_USAGE;
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL || ctl_http(ctx, "POST", "/v1/auth/verify", text, &r, &e) < 0) {
		fprintf(ctx->errf, "prefixctl: %s\n", text ? e.msg : "out of memory");
		free(text);
		return text ? CTL_EXIT_UNREACHABLE : CTL_EXIT_REFUSED;
	}
	free(text);
	if ((r.status == 200 || r.status == 422) && r.body != NULL &&
	    (j = json_loadb(r.body, r.len, 0, NULL)) != NULL) {
		if (ctx->json)
			fprintf(ctx->out, "%s\n", r.body);
		else
			print_checks(ctx, j);
		if (r.status == 200)
			rc = CTL_EXIT_OK;
	}
	if (rc != CTL_EXIT_OK)
		ctl_out_refusal(ctx->errf, r.status, r.body);
	json_decref(j);
	ctl_reply_free(&r);
	return rc;
}

const struct ctl_cmd ctl_auth_cmds[] = {
	{ .words = "auth message", .usage = "(CIDR | ASN) --expires YYYYMMDD",
	  .summary = "Print the authorization message to sign and the openssl command that "
	  "signs it.", .args = arg_subject, .opts = opt_message, .check = check_message,
	  .run = run_message },
	{ .words = "auth verify",
	  .usage = "CIDR --message M --signature S (--cert FILE | --rdap-url URL)",
	  .summary = "Check an authorization context and print every check with its result.",
	  .args = arg_cidr, .opts = opt_verify, .check = check_verify, .run = run_verify },
	{ 0 },
};
