/*
 * xmalloc — see xmalloc.h.
 */
#include "xmalloc.h"

#include <string.h>

#include "log.h"

char *
xstrdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("strdup");
	return d;
}
