/*
 * ptree — a path-compressed binary radix (Patricia) tree keyed by prefix, one address family
 * per tree. ipam keeps three kinds of set in it: provisioned CIDRs (covering look-ups,
 * scope-level overlap), allocations (exact look-up, overlap naming the collider) and free
 * space (maximal aligned free blocks, best-fit search).
 *
 * Shape: every node holds a prefix; a node is "stored" (a member of the set, with a value) or
 * glue (a branching point). A node's children are longer prefixes inside it, split on the bit
 * after its length. There are at most 2n - 1 nodes for n stored prefixes, and the depth is at
 * most maxlen + 1, so every operation below costs O(address bits).
 *
 * A tree made with PTREE_LENMASK also keeps in each node a 129-bit mask: which prefix lengths
 * are stored in its subtree. ptree_best_fit uses it to find, without scanning, the stored
 * prefix with the longest length l <= L and the lowest address among those of length l.
 *
 * Nodes come from a per-tree slab (no malloc per insert). Values are borrowed pointers. Out of
 * memory is fatal (log.h fatal), as for every allocation in the engine.
 */
#ifndef PREFIXD_PTREE_H
#define PREFIXD_PTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

struct ptree;

enum {
	PTREE_LENMASK = 1,          /* keep per-subtree length masks (for best fit) */
};

/* Called for stored prefixes in address order (shorter first at equal address). Return 0 to
 * go on; any other value stops the walk and is returned by the walking function. */
typedef int (*ptree_cb)(void *arg, const struct cidr *c, void *value);

/* A new empty tree for family (CIDR_V4 / CIDR_V6). flags: 0 or PTREE_LENMASK. */
struct ptree *ptree_new(int family, int flags);
/* Frees the tree and its nodes (not the values). ptree_free(NULL) is a no-op. */
void ptree_free(struct ptree *t);
int ptree_family(const struct ptree *t);
size_t ptree_count(const struct ptree *t);
/* Bytes held by the tree's node slabs (for memory accounting). */
size_t ptree_memory(const struct ptree *t);

/* Adds c with value. Returns 0, or -1 when c is already stored or of another family. */
int ptree_insert(struct ptree *t, const struct cidr *c, void *value);
/* Removes c. Returns 0 and *value (may be NULL), or -1 when c is not stored. */
int ptree_remove(struct ptree *t, const struct cidr *c, void **value);

/* Exact look-up: true and *value (may be NULL) when c is stored. */
bool ptree_find(const struct ptree *t, const struct cidr *c, void **value);
/* The longest stored prefix that contains c (c itself included). */
bool ptree_covering(const struct ptree *t, const struct cidr *c, struct cidr *found,
    void **value);
/* The shortest (outermost) stored prefix that contains c (c itself included). */
bool ptree_covering_outer(const struct ptree *t, const struct cidr *c, struct cidr *found,
    void **value);
/* Walks the stored prefixes inside c (c itself included), in address order. */
int ptree_walk_covered(const struct ptree *t, const struct cidr *c, ptree_cb cb, void *arg);
/* The first stored prefix that overlaps c: a covering one if any (the outermost), else the
 * lowest one inside c. */
bool ptree_overlap(const struct ptree *t, const struct cidr *c, struct cidr *found,
    void **value);
/* Walks all stored prefixes in address order. */
int ptree_walk(const struct ptree *t, ptree_cb cb, void *arg);

/* PTREE_LENMASK trees only. The stored prefix with the longest length l <= len, lowest
 * address among those of length l. false when none. */
bool ptree_best_fit(const struct ptree *t, unsigned len, struct cidr *found);
/* The stored prefix with the shortest length, lowest address among equals. */
bool ptree_shortest(const struct ptree *t, struct cidr *found);

#endif
