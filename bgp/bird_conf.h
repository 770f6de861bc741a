/*
 * bird_conf — the set of routes prefixd wants in BIRD, and the include file that holds it.
 *
 * A bird_routeset is a list of (prefix, drain) pairs: one static blackhole route per advertised
 * prefix; drain marks a route being withdrawn gracefully, which carries the GRACEFUL_SHUTDOWN
 * community (65535,0) of RFC 8326. bird_apply, rib (read-back) and reconcile share this type.
 *
 * bird_conf_render() is deterministic: the set is normalised (sorted by family, address,
 * length; duplicates merged) so the same desired set always gives the same bytes. The file is
 * SPEC §5's include: a "do not edit" header, `protocol static prefixd4 { ipv4; route ...; }` and
 * the same for prefixd6 — both protocols always present, possibly empty — with tab indentation:
 *
 *   # Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.
 *   protocol static prefixd4 {
 *   	ipv4;
 *   	route 203.0.113.0/24 blackhole;
 *   	route 198.51.100.0/24 blackhole { bgp_community.add((65535,0)); };
 *   	route 192.0.2.0/24 blackhole { bgp_path.prepend(64511); };
 *   }
 *   protocol static prefixd6 {
 *   	ipv6;
 *   }
 *
 * bird_conf_write() replaces the file atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. The file is created mode 0644 (BIRD reads it as user bird).
 */
#ifndef PREFIXD_BIRD_CONF_H
#define PREFIXD_BIRD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BIRD_PREFIX_STRLEN 50   /* "ffff:...:ffff/128" plus NUL, with room */

struct bird_route {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];       /* network address, host bits zero */
	unsigned plen;
	bool drain;             /* carries (65535,0) GRACEFUL_SHUTDOWN */
	uint32_t origin;        /* 0: BIRD's own AS originates it; else announced from this AS
	                         * (bgp_path.prepend, issue 21's associated ASN) */
};

struct bird_routeset {
	struct bird_route *v;
	size_t n, cap;
};

/* Empties the set and frees its storage (the struct itself is the caller's). NULL is fine. */
void bird_routeset_clear(struct bird_routeset *s);

/*
 * Adds PREFIX ("203.0.113.0/24", "2001:db8::/48"). Refuses with "cidr-invalid" what does not
 * parse and with "cidr-not-canonical" a prefix with host bits set. A prefix already present is
 * merged at normalise time (drain if either says drain).
 */
int  bird_routeset_add(struct bird_routeset *s, const char *prefix, bool drain, struct err *e);
int  bird_routeset_add_route(struct bird_routeset *s, const struct bird_route *r);
int  bird_routeset_copy(struct bird_routeset *dst, const struct bird_routeset *src);
void bird_routeset_normalize(struct bird_routeset *s);     /* sort + merge duplicates */
bool bird_routeset_equal(const struct bird_routeset *a, const struct bird_routeset *b);
/* Index of PREFIX's route in a normalised set, or -1. */
long bird_routeset_find(const struct bird_routeset *s, const struct bird_route *r);

/* "203.0.113.0/24" into buf (at least BIRD_PREFIX_STRLEN bytes). Returns buf. */
char *bird_route_format(const struct bird_route *r, char *buf, size_t len);
/* Parses a prefix as BIRD prints it. 0 or -1 with e ("cidr-invalid"/"cidr-not-canonical"). */
int  bird_route_parse(const char *prefix, struct bird_route *out, struct err *e);

/* What turns the actual set into the desired one. */
struct bird_routediff {
	struct bird_routeset add;       /* desired, not in BIRD */
	struct bird_routeset remove;    /* in BIRD, not desired */
	struct bird_routeset change;    /* in both, drain flag differs (desired value) */
};

/* Both sets must be normalised. Fills d (cleared first). */
int  bird_routediff_compute(const struct bird_routeset *desired,
    const struct bird_routeset *actual, struct bird_routediff *d);
bool bird_routediff_empty(const struct bird_routediff *d);
void bird_routediff_clear(struct bird_routediff *d);
/* "+203.0.113.0/24 -198.51.100.0/24 ~192.0.2.0/24(drain)" — malloc'd, "" when empty. */
char *bird_routediff_format(const struct bird_routediff *d);

/* Renders S (normalised by the caller or not: a normalised copy is rendered) into a malloc'd
 * NUL-terminated buffer. Returns 0, or -1 on out of memory. */
int  bird_conf_render(const struct bird_routeset *s, char **out, size_t *len);

/* Writes DATA to PATH atomically (see above). 0 or -1 with e ("io-error", names the step). */
int  bird_conf_write(const char *path, const char *data, size_t len, struct err *e);

/* Reads PATH whole (at most 64 MiB) into a malloc'd buffer. 0, or -1 with e ("io-error");
 * a missing file is e->code "not-found". */
int  bird_conf_read(const char *path, char **out, size_t *len, struct err *e);

#endif
