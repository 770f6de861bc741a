/*
 * ptree — path-compressed radix tree over prefixes; see ptree.h for the contract.
 *
 * Nodes carry the prefix as left-aligned hi/lo + len (the family is the tree's). Insert and
 * remove record the path from the root (at most 130 nodes) so length masks can be recomputed
 * bottom-up along it without parent pointers. Nodes are carved from slabs of PTREE_SLAB
 * nodes and recycled through a free list threaded through child[0].
 */
#include "ptree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PTREE_SLAB 1024
#define PTREE_MAXDEPTH 130
#define PTREE_MASKW 3           /* 129 length bits in 64-bit words */

struct ptree_node {
	uint64_t hi;
	uint64_t lo;
	uint8_t len;
	uint8_t stored;
	struct ptree_node *child[2];
	void *value;
	uint64_t mask[];            /* maskw words in PTREE_LENMASK trees */
};

struct ptree_slab {
	struct ptree_slab *next;
	unsigned char nodes[];
};

struct ptree {
	int family;
	int flags;
	int maskw;                  /* mask words in use: 1 for IPv4 (lengths 0..32), else 3 */
	size_t nodesize;
	size_t count;
	struct ptree_node *root;
	struct ptree_node *freelist;
	struct ptree_slab *slabs;
	size_t nslabs;
	size_t slabused;            /* nodes handed out from the newest slab */
};

struct ptree *
ptree_new(int family, int flags)
{
	struct ptree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		fatal("ptree_new");
	t->family = family;
	t->flags = flags;
	t->maskw = family == CIDR_V4 ? 1 : PTREE_MASKW;
	t->nodesize = sizeof(struct ptree_node);
	if (flags & PTREE_LENMASK)
		t->nodesize += (size_t)t->maskw * sizeof(uint64_t);
	t->slabused = PTREE_SLAB;
	return t;
}

void
ptree_free(struct ptree *t)
{
	struct ptree_slab *s, *next;

	if (t == NULL)
		return;
	for (s = t->slabs; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	free(t);
}

int
ptree_family(const struct ptree *t)
{
	return t->family;
}

size_t
ptree_count(const struct ptree *t)
{
	return t->count;
}

size_t
ptree_memory(const struct ptree *t)
{
	return sizeof(*t) + t->nslabs * (sizeof(struct ptree_slab) + PTREE_SLAB * t->nodesize);
}

static struct ptree_node *
ptree_node_new(struct ptree *t, const struct cidr *c)
{
	struct ptree_node *n;
	struct ptree_slab *s;

	if (t->freelist != NULL) {
		n = t->freelist;
		t->freelist = n->child[0];
	} else {
		if (t->slabused == PTREE_SLAB) {
			s = malloc(sizeof(*s) + PTREE_SLAB * t->nodesize);
			if (s == NULL)
				fatal("ptree slab");
			s->next = t->slabs;
			t->slabs = s;
			t->nslabs++;
			t->slabused = 0;
		}
		n = (struct ptree_node *)(void *)(t->slabs->nodes + t->slabused * t->nodesize);
		t->slabused++;
	}
	memset(n, 0, t->nodesize);
	n->hi = c->hi;
	n->lo = c->lo;
	n->len = c->len;
	return n;
}

static void
ptree_node_release(struct ptree *t, struct ptree_node *n)
{
	n->child[0] = t->freelist;
	t->freelist = n;
}

static struct cidr
ptree_key(const struct ptree *t, const struct ptree_node *n)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	c.family = (uint8_t)t->family;
	c.hi = n->hi;
	c.lo = n->lo;
	c.len = n->len;
	return c;
}

static unsigned
ptree_bit(const struct ptree_node *n, unsigned i)
{
	return i < 64 ? (unsigned)(n->hi >> (63 - i)) & 1u : (unsigned)(n->lo >> (127 - i)) & 1u;
}

/* True when node n's prefix contains c (n->len <= c->len). Hot: inline mask arithmetic. */
static inline bool
ptree_node_contains(const struct ptree_node *n, const struct cidr *c)
{
	if (n->len > c->len)
		return false;
	if (n->len == 0)
		return true;
	if (n->len <= 64)
		return ((n->hi ^ c->hi) >> (64 - n->len)) == 0;
	return n->hi == c->hi && (n->len == 128 || ((n->lo ^ c->lo) >> (128 - n->len)) == 0);
}

/* Length of the common prefix of n and c, capped at min(n->len, c->len). */
static unsigned
ptree_common(const struct ptree_node *n, const struct cidr *c)
{
	unsigned max = n->len < c->len ? n->len : c->len, d;
	uint64_t x;

	x = n->hi ^ c->hi;
	if (x != 0)
		d = (unsigned)__builtin_clzll(x);
	else if ((x = n->lo ^ c->lo) != 0)
		d = 64 + (unsigned)__builtin_clzll(x);
	else
		d = 128;
	return d < max ? d : max;
}

/* Recomputes n's length mask from its children; returns true when it changed. */
static bool
ptree_mask_update(const struct ptree *t, struct ptree_node *n)
{
	uint64_t m[PTREE_MASKW] = { 0, 0, 0 };
	bool changed = false;
	int w, i;

	if (!(t->flags & PTREE_LENMASK))
		return false;
	for (i = 0; i < 2; i++)
		if (n->child[i] != NULL)
			for (w = 0; w < t->maskw; w++)
				m[w] |= n->child[i]->mask[w];
	if (n->stored)
		m[n->len >> 6] |= (uint64_t)1 << (n->len & 63);
	for (w = 0; w < t->maskw; w++) {
		changed |= n->mask[w] != m[w];
		n->mask[w] = m[w];
	}
	return changed;
}

/* Finds the slot where c belongs, recording the path of nodes above it. */
static struct ptree_node **
ptree_descend(struct ptree *t, const struct cidr *c, struct ptree_node **path, int *depth)
{
	struct ptree_node **slot = &t->root;

	*depth = 0;
	while (*slot != NULL && (*slot)->len < c->len && ptree_node_contains(*slot, c)) {
		path[(*depth)++] = *slot;
		slot = &(*slot)->child[cidr_bit(c, (*slot)->len)];
	}
	return slot;
}

/* Recomputes masks up the path; stops at the first node whose mask did not change, since
 * its ancestors' masks depend only on it. */
static void
ptree_fix_path(struct ptree *t, struct ptree_node **path, int depth)
{
	while (depth > 0)
		if (!ptree_mask_update(t, path[--depth]))
			return;
}

int
ptree_insert(struct ptree *t, const struct cidr *c, void *value)
{
	struct ptree_node *path[PTREE_MAXDEPTH], **slot, *old, *n, *g;
	struct cidr gk;
	unsigned common;
	int depth;

	if (c->family != t->family)
		return -1;
	slot = ptree_descend(t, c, path, &depth);
	old = *slot;
	if (old != NULL && old->len == c->len && old->hi == c->hi && old->lo == c->lo) {
		if (old->stored)
			return -1;
		n = old;                /* a glue node becomes stored */
	} else if (old == NULL) {
		n = ptree_node_new(t, c);
		*slot = n;
	} else {
		common = ptree_common(old, c);
		n = ptree_node_new(t, c);
		if (common == c->len) {         /* c contains old */
			n->child[ptree_bit(old, c->len)] = old;
			*slot = n;
		} else {                        /* branch at the first differing bit */
			gk = cidr_make(t->family, c->hi, c->lo, common);
			g = ptree_node_new(t, &gk);
			g->child[cidr_bit(c, common)] = n;
			g->child[ptree_bit(old, common)] = old;
			*slot = g;
			path[depth++] = g;      /* g's mask is fixed after n's */
		}
	}
	n->stored = 1;
	n->value = value;
	ptree_mask_update(t, n);
	t->count++;
	ptree_fix_path(t, path, depth);
	return 0;
}

int
ptree_remove(struct ptree *t, const struct cidr *c, void **value)
{
	struct ptree_node *path[PTREE_MAXDEPTH], **slot, **pslot, *n, *p, *only;
	int depth;

	if (c->family != t->family)
		return -1;
	slot = ptree_descend(t, c, path, &depth);
	n = *slot;
	if (n == NULL || !n->stored || n->len != c->len || n->hi != c->hi || n->lo != c->lo)
		return -1;
	if (value != NULL)
		*value = n->value;
	t->count--;
	n->stored = 0;
	n->value = NULL;
	if (n->child[0] != NULL && n->child[1] != NULL) {
		ptree_mask_update(t, n);        /* stays as glue */
		ptree_fix_path(t, path, depth);
		return 0;
	}
	only = n->child[0] != NULL ? n->child[0] : n->child[1];
	*slot = only;
	ptree_node_release(t, n);
	if (only == NULL && depth > 0 && !path[depth - 1]->stored) {
		/* the parent is glue left with one child: splice it out */
		p = path[depth - 1];
		only = p->child[0] != NULL ? p->child[0] : p->child[1];
		pslot = depth >= 2 ? &path[depth - 2]->child[ptree_bit(p, path[depth - 2]->len)]
		    : &t->root;
		*pslot = only;
		ptree_node_release(t, p);
		depth--;
	}
	ptree_fix_path(t, path, depth);
	return 0;
}

/* The node holding exactly c, or NULL. */
static const struct ptree_node *
ptree_lookup(const struct ptree *t, const struct cidr *c)
{
	const struct ptree_node *n = t->root;

	if (c->family != t->family)
		return NULL;
	while (n != NULL && n->len < c->len && ptree_node_contains(n, c))
		n = n->child[cidr_bit(c, n->len)];
	if (n != NULL && n->len == c->len && n->hi == c->hi && n->lo == c->lo)
		return n;
	return NULL;
}

bool
ptree_find(const struct ptree *t, const struct cidr *c, void **value)
{
	const struct ptree_node *n = ptree_lookup(t, c);

	if (n == NULL || !n->stored)
		return false;
	if (value != NULL)
		*value = n->value;
	return true;
}

static bool
ptree_cover(const struct ptree *t, const struct cidr *c, bool outer, struct cidr *found,
    void **value)
{
	const struct ptree_node *n = t->root, *best = NULL;

	if (c->family != t->family)
		return false;
	while (n != NULL && ptree_node_contains(n, c)) {
		if (n->stored) {
			best = n;
			if (outer)
				break;
		}
		if (n->len == c->len)
			break;
		n = n->child[cidr_bit(c, n->len)];
	}
	if (best == NULL)
		return false;
	if (found != NULL)
		*found = ptree_key(t, best);
	if (value != NULL)
		*value = best->value;
	return true;
}

bool
ptree_covering(const struct ptree *t, const struct cidr *c, struct cidr *found, void **value)
{
	return ptree_cover(t, c, false, found, value);
}

bool
ptree_covering_outer(const struct ptree *t, const struct cidr *c, struct cidr *found,
    void **value)
{
	return ptree_cover(t, c, true, found, value);
}

static int
ptree_walk_node(const struct ptree *t, const struct ptree_node *n, ptree_cb cb, void *arg)
{
	struct cidr k;
	int rc;

	while (n != NULL) {
		if (n->stored) {
			k = ptree_key(t, n);
			if ((rc = cb(arg, &k, n->value)) != 0)
				return rc;
		}
		if (n->child[0] != NULL && (rc = ptree_walk_node(t, n->child[0], cb, arg)) != 0)
			return rc;
		n = n->child[1];        /* tail position: iterate */
	}
	return 0;
}

/* The topmost node inside c (its subtree is exactly the stored prefixes inside c). */
static const struct ptree_node *
ptree_subtree(const struct ptree *t, const struct cidr *c)
{
	const struct ptree_node *n = t->root;
	struct cidr nk;

	if (c->family != t->family)
		return NULL;
	while (n != NULL && n->len < c->len) {
		if (!ptree_node_contains(n, c))
			return NULL;
		n = n->child[cidr_bit(c, n->len)];
	}
	if (n == NULL)
		return NULL;
	nk = ptree_key(t, n);
	return cidr_contains(c, &nk) ? n : NULL;
}

int
ptree_walk_covered(const struct ptree *t, const struct cidr *c, ptree_cb cb, void *arg)
{
	const struct ptree_node *n = ptree_subtree(t, c);

	return n != NULL ? ptree_walk_node(t, n, cb, arg) : 0;
}

int
ptree_walk(const struct ptree *t, ptree_cb cb, void *arg)
{
	return ptree_walk_node(t, t->root, cb, arg);
}

bool
ptree_overlap(const struct ptree *t, const struct cidr *c, struct cidr *found, void **value)
{
	const struct ptree_node *n;

	if (ptree_covering_outer(t, c, found, value))
		return true;
	n = ptree_subtree(t, c);
	while (n != NULL && !n->stored)         /* glue always has two children */
		n = n->child[0];
	if (n == NULL)
		return false;
	if (found != NULL)
		*found = ptree_key(t, n);
	if (value != NULL)
		*value = n->value;
	return true;
}

static bool
ptree_has_len(const struct ptree_node *n, unsigned l)
{
	return n != NULL && ((n->mask[l >> 6] >> (l & 63)) & 1u);
}

/* Descends to the lowest stored node of length l (the root mask must have bit l). */
static bool
ptree_find_len(const struct ptree *t, unsigned l, struct cidr *found)
{
	const struct ptree_node *n = t->root;

	while (n != NULL) {
		if (n->stored && n->len == l) {
			*found = ptree_key(t, n);
			return true;
		}
		n = ptree_has_len(n->child[0], l) ? n->child[0] : n->child[1];
	}
	return false;
}

bool
ptree_best_fit(const struct ptree *t, unsigned len, struct cidr *found)
{
	uint64_t w;
	int i;

	if (!(t->flags & PTREE_LENMASK) || t->root == NULL)
		return false;
	if (len > 128)
		len = 128;
	if (len >= (unsigned)t->maskw * 64)
		len = (unsigned)t->maskw * 64 - 1;
	for (i = (int)(len >> 6); i >= 0; i--) {
		w = t->root->mask[i];
		if (i == (int)(len >> 6))
			w &= (len & 63) == 63 ? ~(uint64_t)0 : ((uint64_t)2 << (len & 63)) - 1;
		if (w != 0)
			return ptree_find_len(t, (unsigned)(i * 64 + 63 - __builtin_clzll(w)),
			    found);
	}
	return false;
}

bool
ptree_shortest(const struct ptree *t, struct cidr *found)
{
	int i;

	if (!(t->flags & PTREE_LENMASK) || t->root == NULL)
		return false;
	for (i = 0; i < t->maskw; i++)
		if (t->root->mask[i] != 0)
			return ptree_find_len(t,
			    (unsigned)(i * 64 + __builtin_ctzll(t->root->mask[i])), found);
	return false;
}
