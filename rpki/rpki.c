/*
 * rpki — origin validation on rtr's live data (contract in rpki.h). Part of the rpki module:
 * it reads rtr's table and index through rtr_private.h and decides with rov.
 */
#include "rpki.h"

#include <string.h>

#include "rtr_private.h"

int
rpki_validate(struct rtr *rtr, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e)
{
	int rc;

	if (rtr == NULL) {
		memset(out, 0, sizeof(*out));
		out->state = ROV_NOT_FOUND;
		out->stale = true;
		return err_set(e, "rpki-unavailable", "no RTR cache is configured");
	}
	if (rov_prefix_ok(prefix) && rtr_has_default_vrp(rtr, prefix->family)) {
		memset(out, 0, sizeof(*out));
		out->state = ROV_NOT_FOUND;
		out->stale = true;
		return err_set(e, "rov-unavailable", "the RTR data holds a /0 %s VRP, which "
		    "rtrlib 0.8.0 cannot validate against", cidr_family_name(prefix->family));
	}
	const struct rov_index *ix = rtr_index(rtr);
	if (rov_prefix_ok(prefix) && !rtr_maybe_covered(rtr, prefix)) {
		memset(out, 0, sizeof(*out));
		out->state = ROV_NOT_FOUND;
		rc = 0;
	} else if (ix == NULL || rov_validate_index(ix, prefix, asn, out) == -1) {
		rc = rov_validate_table(rtr_table(rtr), prefix, asn, out, e);
	} else {
		rc = 0;
	}
	out->stale = !rtr_is_fresh(rtr);
	return rc;
}

enum rov_state
rpki_check(struct rtr *rtr, const struct cidr *prefix, uint32_t asn, bool *stale)
{
	*stale = !rtr_is_fresh(rtr);
	if (rtr == NULL || !rov_prefix_ok(prefix) || rtr_has_default_vrp(rtr, prefix->family) ||
	    !rtr_maybe_covered(rtr, prefix))
		return ROV_NOT_FOUND;
	const struct rov_index *ix = rtr_index(rtr);
	return ix != NULL ? rov_check_index(ix, prefix, asn)
	    : rov_check_table(rtr_table(rtr), prefix, asn);
}
