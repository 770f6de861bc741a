/*
 * ipam_private — internals shared by the ipam files. Not for other modules.
 *
 *   ipam.c         life cycle, load from the store, scopes, transactions, events
 *   ipam_util.c    hash set, vector, text checks, tag lists
 *   ipam_pool.c    pools, provisioning and deprovisioning
 *   ipam_alloc.c   free-space operations, allocate, release, allocation accessors
 *   ipam_report.c  utilization, resources, overlap / compliance report
 */
#ifndef PREFIXD_IPAM_PRIVATE_H
#define PREFIXD_IPAM_PRIVATE_H

#include "ipam.h"
#include "ptree.h"
#include "xmalloc.h"

/* Open-addressing hash set of object pointers (linear probing, backward-shift delete). */
struct ipam_hash {
	void **slot;
	size_t cap;                 /* power of two, or 0 */
	size_t n;
	uint64_t (*hash)(const void *obj);
};

typedef bool (*ipam_hash_eq)(const void *obj, const void *key);

void ipam_hash_init(struct ipam_hash *h, uint64_t (*hash)(const void *obj));
void ipam_hash_clear(struct ipam_hash *h);
void ipam_hash_insert(struct ipam_hash *h, void *obj);
void *ipam_hash_find(const struct ipam_hash *h, uint64_t hv, ipam_hash_eq eq, const void *key);
void ipam_hash_remove(struct ipam_hash *h, void *obj);
uint64_t ipam_hash_str(const char *s, uint64_t seed);
uint64_t ipam_hash_u64(uint64_t v);

/* A growable array of pointers in creation order. */
struct ipam_vec {
	void **v;
	size_t n, cap;
};
void ipam_vec_push(struct ipam_vec *a, void *p);
void ipam_vec_remove(struct ipam_vec *a, void *p);

struct ipam_alloc_extra {
	uint8_t kind;               /* enum ipam_alloc_kind */
	char *description;
	char *locale;
	char *token;
	struct ipam_tags tags;
	struct ipam_pool *child;    /* kind=pool */
};

struct ipam_prov {
	uint64_t id;
	struct cidr cidr;
	struct ipam_pool *pool;
	struct ipam_alloc *from;    /* child pools: the kind=pool allocation in the parent */
	int64_t created;
};

enum { IPAM_ID_SCOPE, IPAM_ID_POOL, IPAM_ID_PROV, IPAM_ID_ALLOC, IPAM_ID_RESOURCE, IPAM_NIDS };

struct ipam {
	struct store *st;
	int64_t (*now)(void);
	uint64_t next_id[IPAM_NIDS];
	struct ipam_vec scopes;
	struct ipam_vec pools;
	struct ipam_vec resources;
	struct ipam_hash pool_by_name;
	struct ipam_hash alloc_by_id;
	struct ipam_hash alloc_by_token;    /* allocations with a token, key (pool id, token) */
	size_t nallocs;
	int txdepth;                /* store depth when the current mutation began */
	uint64_t alloc_reserved;    /* allocation ids below this are reserved in the store */
	/* Several instances (store.h "Several instances"): ids come from blocks the store hands
	 * out (id_blocks 1; 0: not known yet; -1: the store has none, ids are max + 1 from
	 * memory); feed_seq is the change sequence memory is exact up to; need_reload: a reload
	 * failed or a change could not be applied, memory must be rebuilt when it can be. */
	int id_blocks;
	uint64_t blk_next[IPAM_NIDS], blk_end[IPAM_NIDS];
	uint64_t feed_seq;
	uint64_t feed_epoch;        /* store_feed_epoch when feed_seq was read */
	bool need_reload;
};

#define IPAM_ID_RESERVE 4096        /* allocation ids reserved per store write */

/* Inside a mutation's transaction, before writing allocation id m->next_id[IPAM_ID_ALLOC]:
 * extends the store's reservation when needed. ipam_id_reserved records it after COMMIT. */
int ipam_id_reserve(struct ipam *m, struct err *e);
void ipam_id_reserved(struct ipam *m);
/* The id the next object of kind k (IPAM_ID_*) gets: from the store's block when it hands
 * out blocks, else max + 1. Only ipam_id_seen (attach) consumes it. */
int ipam_id_next(struct ipam *m, int k, uint64_t *id, struct err *e);
void ipam_id_seen(struct ipam *m, int k, uint64_t id);

/* Memory helpers: out of memory is fatal. NULL in, NULL out for xstrdup. */
void *ipam_xcalloc(size_t n, size_t size);

/* Text checks: names [A-Za-z0-9._-]{1,64}; free text printable, no newline, bounded. */
int ipam_check_name(const char *what, const char *s, struct err *e);
int ipam_check_text(const char *what, const char *s, struct err *e);
int ipam_check_tags(const struct ipam_tags *t, struct err *e);
/* A struct cidr built by hand must still be canonical (cidr_parse's are). */
int ipam_check_cidr(const struct cidr *c, struct err *e);
bool ipam_tags_equal(const struct ipam_tags *a, const struct ipam_tags *b);
/* "k=v\n" encoding used in the store; decode returns -1 on a malformed text. */
char *ipam_tags_encode(const struct ipam_tags *t);
int ipam_tags_decode(const char *s, struct ipam_tags *out);

/* Store transaction wrappers that are no-ops without a store. */
int ipam_tx_begin(struct ipam *m, struct err *e);
int ipam_tx_commit(struct ipam *m, struct err *e);
void ipam_tx_abort(struct ipam *m);

/* Appends one event (no-op without a store). after/before are JSON texts or NULL. */
int ipam_event(struct ipam *m, const struct ipam_actor *who, const char *action,
    const char *kind, const struct cidr *c, const char *before, const char *after,
    struct err *e);
/* Writes a JSON string literal (quoted, escaped) of s into buf; returns buf. */
char *ipam_json_str(const char *s, char *buf, size_t size);

int64_t ipam_now(const struct ipam *m);
struct ipam_scope *ipam_scope_find_id(const struct ipam *m, uint64_t id);

/* Pools: memory-only parts used by load. */
struct ipam_pool *ipam_pool_attach(struct ipam *m, const struct store_pool *r,
    struct ipam_scope *scope, struct ipam_pool *parent, struct err *e);
void ipam_pool_destroy(struct ipam_pool *p);
struct ipam_prov *ipam_prov_attach(struct ipam *m, struct ipam_pool *p, uint64_t id,
    const struct cidr *c, int64_t created);

/* Free space of a pool. */
/* Takes c out of the free block that covers it; returns -1 if c is not wholly free. */
int ipam_space_take(struct ipam_pool *p, const struct cidr *c);
/* Gives c back, merging buddies up to the provisioned CIDR that contains it. */
void ipam_space_give(struct ipam_pool *p, const struct cidr *c);
/* Takes c out of block, a free block that contains it (no look-up). */
void ipam_space_carve(struct ipam_pool *p, const struct cidr *block, const struct cidr *c);
/* The CIDR an allocation of length len would get (and the free block it comes from, when
 * block is not NULL), or -1 with pool-exhausted. */
int ipam_space_pick(const struct ipam_pool *p, unsigned len, struct cidr *out,
    struct cidr *block, struct err *e);
/* Explains why c is not free in p: overlap (naming the collider) or invalid-argument. */
int ipam_space_refuse(const struct ipam_pool *p, const struct cidr *c, struct err *e);

/* Allocations: memory-only creation / removal (used by allocate, provision and load). */
struct ipam_alloc *ipam_alloc_attach(struct ipam *m, struct ipam_pool *p, uint64_t id,
    const struct cidr *c, enum ipam_alloc_kind kind, const char *description,
    const char *locale, const char *token, const struct ipam_tags *tags, int64_t created);
void ipam_alloc_detach(struct ipam *m, struct ipam_alloc *a);
void ipam_alloc_destroy(struct ipam_alloc *a);
int ipam_alloc_store_row(struct ipam *m, const struct ipam_actor *who,
    const struct ipam_alloc *a, struct err *e);
bool ipam_token_eq(const void *obj, const void *key);
uint64_t ipam_token_hash(uint64_t pool_id, const char *token);

struct ipam_resource *ipam_resource_attach(struct ipam *m, const struct store_resource *r,
    struct ipam_scope *s, struct err *e);
void ipam_resource_destroy(struct ipam_resource *r);

#endif
