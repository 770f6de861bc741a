/*
 * authctx_conf — the daemon's side of authctx that is not HTTP: the mapping from struct conf's
 * [auth] keys onto struct authctx_conf, and a verification result as the JSON kept as
 * evidence (the lifecycle stores it; the API answers it). Part of the authctx module.
 */
#include <stdio.h>

#include <jansson.h>

#include "authctx.h"
#include "conf.h"

void
authctx_conf_from(const struct conf *c, struct authctx_conf *out)
{
	authctx_conf_init(out);
	if (c->auth_issuer != NULL)
		snprintf(out->issuer, sizeof(out->issuer), "%s", c->auth_issuer);
	if (c->auth_owner_id != NULL)
		snprintf(out->owner_id, sizeof(out->owner_id), "%s", c->auth_owner_id);
	if (c->auth_rdap_url != NULL)
		snprintf(out->rdap_url, sizeof(out->rdap_url), "%s", c->auth_rdap_url);
	if (c->auth_rdap_dir != NULL)
		snprintf(out->rdap_dir, sizeof(out->rdap_dir), "%s", c->auth_rdap_dir);
	if (c->auth_rdap_asn_url != NULL)
		snprintf(out->rdap_asn_url, sizeof(out->rdap_asn_url), "%s", c->auth_rdap_asn_url);
	if (c->auth_max_validity_days > 0)
		out->max_validity_days = (int)c->auth_max_validity_days;
}

/* The RDAP document as a JSON string; null when absent or not UTF-8 (the hash of the message
 * and the certificate fingerprint still stand as evidence). */
static json_t *
doc_json(const struct authctx_result *r)
{
	json_t *s = r->rdap_doc ? json_stringn(r->rdap_doc, r->rdap_len) : NULL;

	return s ? s : json_null();
}

json_t *
authctx_result_json(const struct authctx_result *r)
{
	json_t *checks = json_array();

	for (size_t i = 0; i < r->nchecks; i++)
		json_array_append_new(checks, json_pack("{s:s,s:b,s:s}", "name",
		    r->checks[i].name, "ok", r->checks[i].ok, "detail", r->checks[i].detail));
	return json_pack("{s:b,s:o,s:s,s:o,s:{s:s,s:o,s:s,s:o}}",
	    "ok", r->ok,
	    "code", r->err.code ? json_string(r->err.code) : json_null(),
	    "message", r->err.msg,
	    "checks", checks,
	    "evidence",
	    "message_sha256", r->msg_sha256,
	    "cert_sha256", r->cert_sha256[0] ? json_string(r->cert_sha256) : json_null(),
	    "rdap_source", r->rdap_source,
	    "rdap_document", doc_json(r));
}
