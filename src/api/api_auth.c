/*
 * api_auth — the control API's authorization-context routes (SPEC §4, §6) over the daemon's
 * verifier (ctx->d->auth; rpki/authctx.h). src/prefixd.c creates the verifier and registers
 * this table.
 *
 *   POST /v1/auth/message  (reader)    {"cidr","expires":"YYYYMMDD"}
 *       200 {"message": "1|issuer|owner|cidr|date|SHA256|RSAPSS",
 *            "sign_command": "printf %s '<message>' | openssl dgst ... | tr -- '+=/' '-_~'"}
 *       400 with the code of the check that refuses the message (auth-malformed, auth-expired,
 *       auth-owner-mismatch when auth.owner_id is not configured, ...).
 *   POST /v1/auth/verify   (operator)  {"cidr","message","signature",
 *                                       "cert": PEM text (optional),
 *                                       "rdap_source": "url" | "dir" (optional: only
 *                                       auth.rdap_url, or only auth.rdap_dir),
 *                                       "rdap_url": (optional) the configured auth.rdap_url
 *                                       template itself, the same as "rdap_source":"url"}
 *       The RDAP source is never taken from a request: a URL that is not the configured
 *       template is refused 400 rdap-source-not-configured (a request-chosen URL made the
 *       daemon fetch loopback and intranet pages for whoever asked).
 *       200 authctx_result_json() with "ok": true when the proof holds;
 *       422 {"error":{"code","message"}, ...the same members} when it does not.
 *       Without "cert" the RDAP record is fetched on authctx's worker; the request is
 *       suspended meanwhile and answered from the loop when the verification reports.
 *
 * Owns: the route table. A suspended verify request owns its struct verify_wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "authctx.h"
#include "cidr.h"
#include "log.h"

/* 200 with the result, or 422 with the error object and the same members. */
static void
reply_result(struct http_req *req, const struct authctx_result *r)
{
	json_t *j = authctx_result_json(r);

	if (!r->ok)
		json_object_set_new(j, "error", json_pack("{s:s,s:s}", "code", r->err.code,
		    "message", r->err.msg));
	http_reply_json(req, r->ok ? 200 : 422, j);
}

struct verify_wait {
	struct http_req *req;
	struct http *http;
};

static void
verify_done(struct authctx_result *res, void *arg)
{
	struct verify_wait *w = arg;

	reply_result(w->req, res);
	authctx_result_free(res);
	http_resume(w->req);
	http_kick(w->http);
	free(w);
}

/* Reads a required string field; replies 400 and returns NULL when absent. */
static const char *
need(struct api_ctx *ctx, const char *field)
{
	const char *v = json_string_value(json_object_get(ctx->body, field));

	if (v == NULL)
		api_error(ctx, "invalid-argument", "field '%s' is required", field);
	return v;
}

/*
 * Narrows c to the configured source the request names: "rdap_source" "url" or "dir", or
 * "rdap_url" equal to the configured template. Replies 400 and returns -1 otherwise.
 */
static int
pick_source(struct api_ctx *ctx, struct authctx_conf *c)
{
	const char *url = json_string_value(json_object_get(ctx->body, "rdap_url"));
	const char *src = json_string_value(json_object_get(ctx->body, "rdap_source"));

	if (url != NULL && (c->rdap_url[0] == '\0' || strcmp(url, c->rdap_url) != 0)) {
		api_error(ctx, "rdap-source-not-configured", "field 'rdap_url' is not the "
		    "configured auth.rdap_url; the RDAP source is chosen by configuration");
		return -1;
	}
	if (url != NULL)
		src = src ? src : "url";
	if (src == NULL)
		return 0;
	if ((strcmp(src, "url") != 0 && strcmp(src, "dir") != 0) || (url && src[0] != 'u')) {
		api_error(ctx, "invalid-argument", "field 'rdap_source' must be \"url\" "
		    "or \"dir\"");
		return -1;
	}
	if ((src[0] == 'u' ? c->rdap_url : c->rdap_dir)[0] == '\0') {
		api_error(ctx, "rdap-source-not-configured", "auth.rdap_%s is not "
		    "configured", src);
		return -1;
	}
	(src[0] == 'u' ? c->rdap_dir : c->rdap_url)[0] = '\0';
	return 0;
}

static void
api_auth_verify(struct api_ctx *ctx)
{
	static const char *const fields[] = { "cidr:s", "message:s", "signature:s", "cert:s",
		"rdap_url:s", "rdap_source:s", NULL };
	const char *cidr, *msg, *sig, *pem;
	struct verify_wait *w;
	struct authctx_conf c = { 0 };
	struct err e = { 0 };
	struct cidr p;

	if (api_body_check(ctx, ctx->body, fields) < 0 || (cidr = need(ctx, "cidr")) == NULL ||
	    (msg = need(ctx, "message")) == NULL || (sig = need(ctx, "signature")) == NULL ||
	    api_cidr_arg(ctx, cidr, &p) < 0)
		return;
	authctx_conf_from(ctx->d->conf, &c);
	if ((pem = json_string_value(json_object_get(ctx->body, "cert"))) != NULL) {
		struct authctx_result *r = authctx_result_new();

		if (r == NULL)
			fatalx("out of memory");
		authctx_verify_pems(&c, cidr, msg, sig, &pem, 1, time(NULL), r);
		reply_result(ctx->req, r);
		authctx_result_free(r);
		return;
	}
	if (pick_source(ctx, &c) < 0)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("calloc");
	w->req = ctx->req;
	w->http = ctx->d->http;
	if (authctx_verify_start_with(ctx->d->auth, &c, cidr, msg, sig, time(NULL), verify_done,
	    w, &e) < 0) {
		free(w);
		/* "busy" here is the verifier's worker pool being full: try again later (503),
		 * not the lifecycle's conflict on one prefix (409 in the table). */
		api_error_status(ctx, 503, e.code, "%s", e.msg);
		return;
	}
	http_suspend(ctx->req);
}

/* Single-quotes s for a POSIX shell ('it'\''s'); out must hold 4 * strlen(s) + 3. */
static void
shell_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	out[o++] = '\'';
	for (; *s != '\0' && o + 6 < outlen; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else
			out[o++] = *s;
	}
	out[o++] = '\'';
	out[o] = '\0';
}

static void
api_auth_message(struct api_ctx *ctx)
{
	static const char *const fields[] = { "cidr:s", "asn:s", "expires:s", NULL };
	const char *cidr = NULL, *expires, *asn = api_str_field(ctx, "asn");
	struct authctx_conf c;
	struct err e = { 0 };
	char msg[AUTHCTX_MSG_MAX + 1], quoted[4 * AUTHCTX_MSG_MAX + 3];
	char cmd[sizeof(quoted) + 200], canon[CIDR_STRLEN];
	struct cidr p;

	if (api_body_check(ctx, ctx->body, fields) < 0 ||
	    (asn == NULL && (cidr = need(ctx, "cidr")) == NULL) ||
	    (expires = need(ctx, "expires")) == NULL ||
	    (asn == NULL && api_cidr_arg(ctx, cidr, &p) < 0) ||
	    (asn != NULL && api_asn_subject(ctx, asn, canon) < 0))
		return;
	authctx_conf_from(ctx->d->conf, &c);
	if (c.owner_id[0] == '\0') {
		api_error(ctx, "auth-owner-mismatch", "auth.owner_id is not configured");
		return;
	}
	if (asn == NULL)                /* the message carries the canonical text */
		cidr_format(&p, canon, sizeof(canon));
	if ((size_t)snprintf(msg, sizeof(msg), "1|%s|%s|%s|%s|SHA256|RSAPSS", c.issuer,
	    c.owner_id, canon, expires) >= sizeof(msg) ||
	    authctx_check_message(&c, canon, msg, strlen(msg), time(NULL), NULL, &e) < 0) {
		api_error(ctx, e.code ? e.code : "auth-malformed", "%s",
		    e.code ? e.msg : "message too long");
		return;
	}
	shell_quote(msg, quoted, sizeof(quoted));
	snprintf(cmd, sizeof(cmd), "printf %%s %s | openssl dgst -sha256 -sigopt "
	    "rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign key.pem | openssl base64 -A | "
	    "tr -- '+=/' '-_~'", quoted);
	api_reply(ctx, 200, json_pack("{s:s,s:s}", "message", msg, "sign_command", cmd));
}

static const struct api_route auth_routes[] = {
	{ "POST", "/v1/auth/message", HTTP_ROLE_READER, api_auth_message },
	{ "POST", "/v1/auth/verify", HTTP_ROLE_OPERATOR, api_auth_verify },
};
API_TABLE(api_auth_routes, auth_routes);
