/*
 * grant — pools shared with teams (issue 21, AWS RAM's delegated pools): a grant gives one
 * principal the right to work in one pool and its children.
 *
 * A principal is written as events write actors: "token:NAME" (a bearer token of the TCP
 * listener), "uid:N" (a unix-socket peer) or "group:NAME" (every unix peer in that group).
 * A grant's role is "operator" (allocate, release, read) or "reader" (read). Who calls it:
 * src/prefixd.c creates and loads the table; src/api/api_grants.c manages grants (pool share /
 * unshare, pool show) and decides, for every request, whether a principal that holds grants
 * but no global operator role is confined to its pools. This module only keeps the table: one
 * store document per grant (kind "grant", key "POOL|PRINCIPAL"), written with an event (object
 * "pool", action "share" / "unshare") in one store level. A grant names its pool by name; a
 * grant whose pool was deleted covers nothing (and is listed by nobody).
 */
#ifndef PREFIXD_GRANT_H
#define PREFIXD_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ipam.h"

#define GRANT_PRINCIPAL_MAX 96
#define GRANT_MAX 4096                  /* grants in all (a bound on what admins can grow) */

enum grant_role { GRANT_READER, GRANT_OPERATOR };

struct grant {
	char pool[IPAM_NAME_MAX + 1];
	char principal[GRANT_PRINCIPAL_MAX];
	enum grant_role role;
	int64_t created;
	char by[64];                    /* the actor who shared */
};

struct grants;
struct store;

struct grants *grants_new(struct store *st);   /* st NULL: memory only */
int grants_load(struct grants *g, struct err *e);
void grants_free(struct grants *g);

/* "operator" / "reader"; parse returns -1 for anything else. */
const char *grant_role_name(enum grant_role r);
int grant_role_parse(const char *s, enum grant_role *out);

/* A principal is "token:NAME", "group:NAME" or "uid:N" with a non-empty printable name. 0 or
 * -1 with e "invalid-argument". */
int grant_principal_check(const char *p, struct err *e);

/* Adds or changes (role) the grant of principal on pool. 0 or -1 with e (invalid-argument,
 * too-many, store-failed). */
int grants_put(struct grants *g, const struct ipam_actor *who, const char *pool,
    const char *principal, enum grant_role role, struct err *e);
/* Removes it; -1 "not-found" when there is none. */
int grants_remove(struct grants *g, const struct ipam_actor *who, const char *pool,
    const char *principal, struct err *e);

/* Iteration in insertion order; NULL past the end. */
size_t grants_count(const struct grants *g);
const struct grant *grants_at(const struct grants *g, size_t i);

/*
 * match(arg, principal) says whether a grant's principal is the caller (the API's side knows
 * how a "group:" principal maps to a peer). grants_any: the caller holds at least one grant.
 * grants_cover: the best grant the caller holds on pool or one of its ancestors (NULL: none);
 * an operator grant beats a reader grant.
 */
typedef bool (*grant_match_fn)(void *arg, const char *principal);
bool grants_any(const struct grants *g, grant_match_fn match, void *arg);
const struct grant *grants_cover(const struct grants *g, const struct ipam_pool *pool,
    grant_match_fn match, void *arg);

#endif
