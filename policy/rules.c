/*
 * rules — allocation rules of a pool; see rules.h.
 */
#include "rules.h"

#include <string.h>

static int
rules_netmask_ok(int v, int family)
{
	return v == -1 || (v >= 0 && (unsigned)v <= cidr_maxlen(family));
}

int
rules_validate(const struct ipam_rules *r, int family, struct err *e)
{
	size_t i, j;

	if (!rules_netmask_ok(r->default_netmask, family))
		return err_set(e, "invalid-argument", "default_netmask %d is out of range for %s",
		    r->default_netmask, cidr_family_name(family));
	if (!rules_netmask_ok(r->min_netmask, family))
		return err_set(e, "invalid-argument", "min_netmask %d is out of range for %s",
		    r->min_netmask, cidr_family_name(family));
	if (!rules_netmask_ok(r->max_netmask, family))
		return err_set(e, "invalid-argument", "max_netmask %d is out of range for %s",
		    r->max_netmask, cidr_family_name(family));
	if (r->min_netmask >= 0 && r->max_netmask >= 0 && r->min_netmask > r->max_netmask)
		return err_set(e, "invalid-argument",
		    "min_netmask %d is longer than max_netmask %d (min is the biggest block)",
		    r->min_netmask, r->max_netmask);
	if (r->default_netmask >= 0 && r->min_netmask >= 0 &&
	    r->default_netmask < r->min_netmask)
		return err_set(e, "invalid-argument",
		    "default_netmask %d is shorter than min_netmask %d", r->default_netmask,
		    r->min_netmask);
	if (r->default_netmask >= 0 && r->max_netmask >= 0 &&
	    r->default_netmask > r->max_netmask)
		return err_set(e, "invalid-argument",
		    "default_netmask %d is longer than max_netmask %d", r->default_netmask,
		    r->max_netmask);
	for (i = 0; i < r->required_tags.n; i++) {
		const struct ipam_tag *t = &r->required_tags.v[i];

		if (t->key == NULL || t->key[0] == '\0' || t->value == NULL)
			return err_set(e, "invalid-argument", "required tag %zu is empty", i);
		for (j = 0; j < i; j++)
			if (strcmp(r->required_tags.v[j].key, t->key) == 0)
				return err_set(e, "invalid-argument",
				    "required tag '%s' is given twice", t->key);
	}
	return 0;
}

int
rules_effective_netmask(const struct ipam_pool *p, int netmask, unsigned *out, struct err *e)
{
	if (netmask >= 0) {
		if ((unsigned)netmask > cidr_maxlen(p->family))
			return err_set(e, "invalid-argument", "netmask %d is out of range for %s",
			    netmask, cidr_family_name(p->family));
		*out = (unsigned)netmask;
		return 0;
	}
	if (p->rules.default_netmask < 0)
		return err_set(e, "invalid-argument",
		    "no netmask given and pool '%s' has no default_netmask", p->name);
	*out = (unsigned)p->rules.default_netmask;
	return 0;
}

int
rules_check(const struct ipam_pool *p, unsigned len, const struct ipam_tags *tags,
    const char *locale, struct err *e)
{
	const struct ipam_rules *r = &p->rules;
	const char *have;
	size_t i;

	if (r->min_netmask >= 0 && len < (unsigned)r->min_netmask)
		return err_set(e, "netmask-too-large",
		    "/%u is larger than pool '%s' allows (min_netmask %d)", len, p->name,
		    r->min_netmask);
	if (r->max_netmask >= 0 && len > (unsigned)r->max_netmask)
		return err_set(e, "netmask-too-small",
		    "/%u is smaller than pool '%s' allows (max_netmask %d)", len, p->name,
		    r->max_netmask);
	for (i = 0; i < r->required_tags.n; i++) {
		const struct ipam_tag *t = &r->required_tags.v[i];

		have = tags != NULL ? ipam_tags_get(tags, t->key) : NULL;
		if (have == NULL || strcmp(have, t->value) != 0)
			return err_set(e, "missing-tag", "pool '%s' requires tag %s=%s", p->name,
			    t->key, t->value);
	}
	if (p->locale != NULL || locale != NULL) {
		if (p->locale == NULL || locale == NULL || strcmp(p->locale, locale) != 0)
			return err_set(e, "locale-mismatch",
			    "locale '%s' does not match pool '%s' locale '%s'",
			    locale ? locale : "(none)", p->name,
			    p->locale ? p->locale : "(none)");
	}
	return 0;
}
