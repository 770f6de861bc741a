/*
 * advertise — interlock evaluation; see advertise.h for the order and the codes.
 */
#include "advertise.h"

#include <stdio.h>

static bool
origin_allowed(const struct advertise_facts *f, uint32_t asn)
{
	if (asn == f->origin_asn)
		return true;
	for (size_t i = 0; i < f->n_allowed; i++)
		if (f->allowed[i] == asn)
			return true;
	return false;
}

int
advertise_check_rate(const char *prefix, double now, double last_change,
    double min_change_interval, struct err *e)
{
	double since = now - last_change;

	if (last_change > 0 && since < min_change_interval)
		return err_set(e, "rate-limited",
		    "%s changed %.1f s ago; at most one change per %.0f s, retry in %.1f s",
		    prefix, since, min_change_interval, min_change_interval - since);
	return 0;
}

int
advertise_check(const struct advertise_facts *f, struct err *e)
{
	if (f->state != LIFECYCLE_PROVISIONED)
		return err_set(e, "not-provisioned", "%s is %s, not provisioned", f->prefix,
		    f->state_name != NULL ? f->state_name : "in another state");
	if (!f->rpki_fresh)
		return err_set(e, "rpki-stale",
		    "RPKI data is not fresh; %s cannot be validated now", f->prefix);
	if (f->rov == ADVERTISE_ROV_INVALID)
		return err_set(e, "rpki-invalid", "%s from AS%u is RPKI-invalid", f->prefix,
		    f->origin_asn);
	if (f->rov == ADVERTISE_ROV_NOT_FOUND)
		return err_set(e, "rpki-not-found", "no ROA covers %s (origin AS%u)", f->prefix,
		    f->origin_asn);
	for (size_t i = 0; i < f->n_others; i++) {
		const struct advertise_origin *o = &f->others[i];

		if (!origin_allowed(f, o->asn))
			return err_set(e, "other-origin-present",
			    "%s is announced by origin AS%u (AS path %s); withdraw it there first, "
			    "or pass --allow-origin %u for a planned hand-over", f->prefix, o->asn,
			    o->as_path ? o->as_path : "?", o->asn);
	}
	return advertise_check_rate(f->prefix, f->now, f->last_change, f->min_change_interval, e);
}

size_t
advertise_max_withdraw(size_t n_advertised, unsigned max_withdraw, unsigned max_withdraw_percent)
{
	size_t by_percent = n_advertised * max_withdraw_percent / 100;

	return by_percent > max_withdraw ? by_percent : max_withdraw;
}

int
advertise_check_blast_radius(size_t n_selected, size_t n_advertised, unsigned max_withdraw,
    unsigned max_withdraw_percent, bool confirm_large, struct err *e)
{
	size_t cap = advertise_max_withdraw(n_advertised, max_withdraw, max_withdraw_percent);

	if (n_selected == 0)
		return err_set(e, "invalid-argument",
		    "the selection matches no prefix; an empty filter never means all");
	if (n_selected > cap && !confirm_large)
		return err_set(e, "too-many",
		    "this would withdraw %zu prefixes, more than the cap of %zu (max_withdraw %u, "
		    "%u %% of %zu advertised); repeat with --confirm-large", n_selected, cap,
		    max_withdraw, max_withdraw_percent, n_advertised);
	return 0;
}
