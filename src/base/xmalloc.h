/*
 * xmalloc — allocation that cannot fail for the caller: out of memory is fatal (STYLE.md rule
 * 3: fatal only at start-up and on out-of-memory). One copy for the whole tree.
 */
#ifndef PREFIXD_XMALLOC_H
#define PREFIXD_XMALLOC_H

#include <stddef.h>

/* A copy of s, or NULL when s is NULL. Never returns NULL for a non-NULL s. */
char *xstrdup(const char *s);

#endif
