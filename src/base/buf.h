/*
 * buf — a growable byte buffer with a size cap, for bodies read from outside (an RDAP document
 * over libcurl, a daemon's reply in prefixctl). The bytes are always followed by a NUL, so a
 * text body can be handed to a parser as a C string. Owner frees `data`.
 */
#ifndef PREFIXD_BUF_H
#define PREFIXD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;         /* NULL until the first append */
	size_t len, cap;
	size_t max;         /* most bytes accepted */
	bool overflow;      /* an append would have gone past max */
};

/* Appends n bytes. Returns 0, or -1 when len + n would exceed max (overflow set, nothing
 * appended) or memory ran out. */
int buf_append(struct buf *b, const void *p, size_t n);

#endif
