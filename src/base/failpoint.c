/*
 * failpoint — see failpoint.h. Reads PREFIXD_FAILPOINT on every call (tests set it before
 * starting the process; the cost is a getenv and a short scan, only at rare call sites).
 */
#include "failpoint.h"

#ifdef PREFIXD_FAILPOINTS

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool
failpoint_enabled(const char *name)
{
	const char *list = getenv("PREFIXD_FAILPOINT");
	size_t nlen = strlen(name);

	if (list == NULL || nlen == 0)
		return false;
	while (*list != '\0') {
		size_t len = strcspn(list, ",");
		if (len == nlen && strncmp(list, name, len) == 0)
			return true;
		list += len;
		if (*list == ',')
			list++;
	}
	return false;
}

void
failpoint_hit(const char *name)
{
	if (!failpoint_enabled(name))
		return;
	log_warnx("failpoint %s hit; pausing until killed", name);
	for (;;)
		pause();
}

bool
failpoint_fail(const char *name)
{
	if (!failpoint_enabled(name))
		return false;
	log_warnx("failpoint %s hit; failing there", name);
	return true;
}
#endif
