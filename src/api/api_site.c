/*
 * api_site — the site's face in /v1/status ("site": name, this instance's holder id, its
 * role writer | standby | unknown, the lease's epoch, holder and expiry) and in /metrics
 * (prefixd_site_lease_*; src/lifecycle/site_lease.h). Issue 17: one writer per router.
 */
#include <stdio.h>

#include "api.h"
#include "conf.h"
#include "daemon.h"
#include "site_lease.h"

json_t *
api_site_status(struct daemon *d)
{
	if (d->site != NULL)
		return site_lease_status(d->site);
	/* SQLite: one instance per store, the site's writer without a lease */
	return json_pack("{s:s, s:s, s:s}", "name", d->conf->site_name, "role", "writer",
	    "lease", "none (one instance per SQLite store)");
}

void
api_site_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;

	if (d->site != NULL)
		site_lease_metrics(d->site, out);
}
