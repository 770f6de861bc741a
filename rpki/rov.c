/*
 * rov — RFC 6811 origin validation over rtrlib's pfx_table, with reasons. The contract and the
 * way the deciding VRPs are collected are in rov.h.
 */
#include <stdlib.h>
#include <jansson.h>
#include <string.h>

#include "rov.h"
#include "rtr.h"
#include "rtr_private.h"

const char *
rov_state_name(enum rov_state st)
{
	switch (st) {
	case ROV_VALID:
		return "valid";
	case ROV_INVALID:
		return "invalid";
	case ROV_NOT_FOUND:
		break;
	}
	return "not-found";
}

const char *
rov_reason_name(enum rov_reason r)
{
	switch (r) {
	case ROV_REASON_ORIGIN:
		return "origin";
	case ROV_REASON_LENGTH:
		return "length";
	case ROV_REASON_NONE:
		break;
	}
	return NULL;
}

static bool
prefix_ok(const struct cidr *p)
{
	return p != NULL && ((p->family == CIDR_V4 && p->len <= 32) ||
	    (p->family == CIDR_V6 && p->len <= 128));
}

static bool
vrp_matches(const struct pfx_record *r, const struct cidr *p, uint32_t asn)
{
	return r->asn != 0 && r->asn == asn && p->len <= r->max_len;
}

static void
keep_vrp(struct rov_result *out, const struct pfx_record *r)
{
	out->nvrps_total++;
	if (out->nvrps >= ROV_MAX_VRPS)
		return;
	struct rov_vrp *v = &out->vrps[out->nvrps++];
	v->prefix = rtr_cidr_from_addr(&r->prefix, r->min_len);
	v->max_len = r->max_len;
	v->asn = r->asn;
}

/*
 * Decides the state from every covering VRP (recs[0..n)) and keeps the deciding ones: the
 * matching VRPs for valid, all covering VRPs for invalid.
 */
static void
decide(const struct pfx_record *recs, unsigned n, const struct cidr *p, uint32_t asn,
    struct rov_result *out)
{
	bool valid = false, same_origin = false;

	if (n == 0) {
		out->state = ROV_NOT_FOUND;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (vrp_matches(&recs[i], p, asn))
			valid = true;
		else if (recs[i].asn != 0 && recs[i].asn == asn)
			same_origin = true;
	}
	out->state = valid ? ROV_VALID : ROV_INVALID;
	if (!valid)
		out->reason = same_origin ? ROV_REASON_LENGTH : ROV_REASON_ORIGIN;
	for (unsigned i = 0; i < n; i++) {
		bool m = vrp_matches(&recs[i], p, asn);
		if (valid && !m)
			continue;
		if (m && recs[i].max_len > p->len)
			out->maxlength_warning = true;
		keep_vrp(out, &recs[i]);
	}
}

int
rov_validate_table(struct pfx_table *table, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e)
{
	struct lrtr_ip_addr a;
	struct pfx_record *recs = NULL;
	unsigned int n = 0;
	enum pfxv_state st;

	memset(out, 0, sizeof(*out));
	out->state = ROV_NOT_FOUND;
	if (!prefix_ok(prefix))
		return err_set(e, "invalid-argument", "prefix is not an IPv4 or IPv6 prefix");
	if (table == NULL)
		return 0;
	rtr_addr_from_cidr(prefix, &a);
	/* ASN 0 never matches, so rtrlib walks to the deepest covering node and returns every
	 * covering VRP (rov.h); the state is decided below from that list. */
	if (pfx_table_validate_r(table, &recs, &n, 0, &a, prefix->len, &st) != PFX_SUCCESS) {
		free(recs);
		return err_set(e, "rov-failed", "rtrlib could not validate the prefix");
	}
	if (st == BGP_PFXV_STATE_NOT_FOUND)
		n = 0;
	decide(recs, n, prefix, asn, out);
	free(recs);
	return 0;
}

enum rov_state
rov_check_table(struct pfx_table *table, const struct cidr *prefix, uint32_t asn)
{
	struct lrtr_ip_addr a;
	enum pfxv_state st;

	if (table == NULL || !prefix_ok(prefix))
		return ROV_NOT_FOUND;
	rtr_addr_from_cidr(prefix, &a);
	if (pfx_table_validate(table, asn, &a, prefix->len, &st) != PFX_SUCCESS)
		return ROV_NOT_FOUND;
	switch (st) {
	case BGP_PFXV_STATE_VALID:
		return ROV_VALID;
	case BGP_PFXV_STATE_INVALID:
		return ROV_INVALID;
	case BGP_PFXV_STATE_NOT_FOUND:
		break;
	}
	return ROV_NOT_FOUND;
}

int
rov_validate(struct rtr *rtr, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e)
{
	int rc;

	if (prefix_ok(prefix) && rtr_has_default_vrp(rtr, prefix->family)) {
		memset(out, 0, sizeof(*out));
		out->state = ROV_NOT_FOUND;
		out->stale = true;
		return err_set(e, "rov-unavailable", "the RTR data holds a /0 %s VRP, which "
		    "rtrlib 0.8.0 cannot validate against", cidr_family_name(prefix->family));
	}
	rc = rov_validate_table(rtr_table(rtr), prefix, asn, out, e);
	out->stale = !rtr_is_fresh(rtr);
	return rc;
}

json_t *
rov_result_to_json(const struct cidr *prefix, uint32_t asn, const struct rov_result *r)
{
	char buf[CIDR_STRLEN];
	const char *reason = r->state == ROV_INVALID ? rov_reason_name(r->reason) : NULL;
	json_t *vrps = json_array(), *o;

	if (vrps == NULL)
		return NULL;
	for (size_t i = 0; i < r->nvrps; i++)
		json_array_append_new(vrps, json_pack("{s:s, s:i, s:I}",
		    "prefix", cidr_format(&r->vrps[i].prefix, buf, sizeof(buf)),
		    "max_length", (int)r->vrps[i].max_len, "asn", (json_int_t)r->vrps[i].asn));
	o = json_pack("{s:s, s:I, s:s, s:o, s:b, s:b, s:o, s:I}",
	    "prefix", cidr_format(prefix, buf, sizeof(buf)), "asn", (json_int_t)asn,
	    "state", rov_state_name(r->state),
	    "reason", reason != NULL ? json_string(reason) : json_null(),
	    "maxlength_warning", r->maxlength_warning, "stale", r->stale,
	    "vrps", vrps, "vrps_total", (json_int_t)r->nvrps_total);
	return o;
}
