/*
 * ipam — the address model of SPEC §1–§2: scopes, pools, provisioned CIDRs, allocations and
 * imported resources, with every rule and refusal code of SPEC §2.
 *
 * Who calls it: the daemon's API (src/api*), lifecycle (public prefixes are provisioned CIDRs
 * of public-scope pools), tests and the engine benchmark. It owns the in-memory model; the
 * store (store.h) owns the truth. ipam_load rebuilds the model from the store; a mutation
 * writes its rows and one event through the store inside its own transaction level and
 * changes memory only after the store accepted the rows. A refused mutation writes nothing
 * and changes nothing. If an outer (daemon-owned) COMMIT fails, call ipam_load to throw the
 * model away and rebuild it: that is the recovery.
 *
 * Free space: each pool keeps its free space as the set of maximal aligned free blocks in a
 * ptree with per-subtree length masks (ptree.h). Best fit for /L = the free block with the
 * longest length l <= L, lowest address among equals; it is split down to /L keeping the
 * lowest part. Buddies merge only inside the provisioned CIDR they belong to. Every
 * allocate / release / explicit carve is O(address bits); nothing scans the allocations.
 *
 * Refusal codes (struct err .code): overlap (names the colliding CIDR), netmask-too-large,
 * netmask-too-small, missing-tag (names the tag), locale-mismatch, pool-exhausted (names the
 * largest free block), token-conflict, in-use (lists what is inside), cidr-not-canonical,
 * not-found, exists, invalid-argument, store-failed. Rules are checked in SPEC order:
 * netmask-too-large, netmask-too-small, missing-tag, locale-mismatch, pool-exhausted.
 *
 * Choices where SPEC is silent:
 *  - an explicit --cidr not inside the pool's provisioned CIDRs: invalid-argument, unless it
 *    collides with an allocation (overlap, naming it);
 *  - an explicit --cidr also obeys min/max netmask, required tags and locale;
 *  - a request with a locale to a pool without one: locale-mismatch;
 *  - token replay compares pool, netmask / cidr, locale, description and tags; any difference is
 *    token-conflict; a replay answers the first allocation (result.replayed = true);
 *  - deprovisioning a child pool's CIDR returns it to the parent (its kind=pool allocation in
 *    the parent is released in the same transaction);
 *  - a child pool inherits its parent's family; its locale must equal the parent's when the
 *    parent has one;
 *  - top-level provisioned CIDRs are unique per scope (overlap); a child pool's provisioned
 *    CIDRs are by construction inside its parent;
 *  - only private scopes can be created or deleted; exactly one public scope exists.
 *
 * Ids: allocation ids are never issued twice, even across a release and a restart (the store
 * keeps a reservation above every issued id). Pool / scope ids are internal; those objects are
 * addressed by name.
 *
 * Memory: an allocation is a 56-byte struct, about two 48-byte nodes of its pool's allocation
 * tree and a hash slot (~190 bytes measured by bench_engine); description, tags, locale and
 * token live out of line and only when present.
 */
#ifndef PREFIXD_IPAM_H
#define PREFIXD_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "cidr.h"
#include "err.h"
#include "store.h"

#define IPAM_DEFAULT_ALARM_AT 80
#define IPAM_SCOPE_PRIVATE_DEFAULT "private-default"
#define IPAM_SCOPE_PUBLIC_DEFAULT "public-default"
#define IPAM_NAME_MAX 64            /* scope, pool, resource names: [A-Za-z0-9._-], 1..64 */
#define IPAM_TEXT_MAX 1024          /* description, tag keys/values, locale, token */
#define IPAM_MAX_TAGS 64            /* tags on one pool, allocation or resource */

struct ipam;
struct ipam_pool;
struct ipam_scope;
struct ipam_alloc;
struct ipam_resource;
struct ptree;
struct ipam_alloc_extra;

/* Who is changing something: copied into the event of every mutation. Fields may be NULL. */
struct ipam_actor {
	const char *actor;
	const char *role;
	const char *request_id;
};

struct ipam_tag {
	char *key;
	char *value;
};

/* A list of key=value tags. As input it is borrowed (the caller owns it); the model keeps
 * its own copies. Keys are unique within a list. */
struct ipam_tags {
	size_t n;
	struct ipam_tag *v;
};

enum ipam_scope_kind {
	IPAM_SCOPE_PRIVATE = 0,
	IPAM_SCOPE_PUBLIC = 1,
};

enum ipam_alloc_kind {
	IPAM_ALLOC_ALLOCATION = 0,
	IPAM_ALLOC_POOL = 1,        /* supplies a child pool */
};

/* Allocation rules of a pool (SPEC §1 "rules"); checked by policy/rules.h. Netmasks are
 * prefix lengths, -1 when unset. min is the biggest block allowed, max the smallest. */
struct ipam_rules {
	int default_netmask;
	int min_netmask;
	int max_netmask;
	struct ipam_tags required_tags;
};

/* Read-only views. The engine owns these objects; they live until removed or ipam_free /
 * ipam_load. Fields below "engine-private" are not for other modules. */
struct ipam_scope {
	uint64_t id;
	char *name;
	enum ipam_scope_kind kind;
	/* engine-private */
	struct ptree *top;          /* top-level provisioned CIDRs -> struct ipam_prov */
	struct ptree *top6;
	size_t npools;
	size_t nresources;
};

struct ipam_pool {
	uint64_t id;
	char *name;
	struct ipam_scope *scope;
	struct ipam_pool *parent;   /* NULL: top-level */
	int family;                 /* CIDR_V4 / CIDR_V6 */
	char *locale;               /* NULL: none */
	char *description;
	struct ipam_rules rules;
	struct ipam_tags tags;
	int alarm_at;               /* percent */
	uint32_t origin_asn;        /* 0: none */
	int64_t created;
	/* engine-private */
	struct ptree *prov;         /* provisioned CIDRs -> struct ipam_prov */
	struct ptree *free;         /* maximal free blocks (length-masked) */
	struct ptree *allocs;       /* allocations -> struct ipam_alloc */
	cidr_u128 provisioned;
	cidr_u128 allocated;
	size_t nchildren;
	size_t nallocs;
};

/* The input of ipam_pool_create. Strings are borrowed. */
struct ipam_pool_spec {
	const char *name;
	const char *scope;          /* scope name; a child pool may leave it NULL (parent's) */
	const char *parent;         /* NULL: top-level */
	int family;                 /* 0: the parent's (required for a top-level pool) */
	const char *locale;
	const char *description;
	struct ipam_rules rules;    /* netmasks -1 when unset */
	struct ipam_tags tags;
	int alarm_at;               /* -1: IPAM_DEFAULT_ALARM_AT */
	uint32_t origin_asn;
};

struct ipam_alloc {
	uint64_t id;
	struct cidr cidr;
	struct ipam_pool *pool;
	int64_t created;
	struct ipam_alloc_extra *x; /* engine-private; use the accessors below */
};

struct ipam_resource {
	uint64_t id;
	struct ipam_scope *scope;
	struct cidr cidr;
	char *name;
	struct ipam_tags tags;
	int64_t created;
};

/* The input of ipam_allocate. Strings are borrowed. */
struct ipam_alloc_req {
	int netmask;                /* -1: by cidr, else the pool's default_netmask */
	const struct cidr *cidr;    /* explicit allocation, or NULL */
	const char *description;
	const char *locale;
	const char *token;
	struct ipam_tags tags;
	bool preview;               /* answer only; change nothing */
};

struct ipam_alloc_result {
	struct cidr cidr;           /* the CIDR allocated (or that would be, for a preview) */
	struct ipam_alloc *alloc;   /* NULL for a preview */
	bool replayed;              /* a token replay answered the first allocation */
};

/* SPEC §2 Utilization. */
struct ipam_util {
	cidr_u128 provisioned;      /* addresses provisioned into the pool */
	cidr_u128 allocated;        /* addresses in its allocations (kind allocation and pool) */
	double percent;             /* 100 * allocated / provisioned; 0 when nothing provisioned */
	bool has_free;
	struct cidr largest_free;   /* lowest-addressed largest free block, when has_free */
	int alarm_at;
	bool alarm;                 /* percent >= alarm_at */
};

enum ipam_report_kind {
	IPAM_ITEM_ALLOCATION,
	IPAM_ITEM_RESOURCE,
};

enum ipam_compliance {
	IPAM_COMPLIANT,
	IPAM_NONCOMPLIANT,
	IPAM_COMPLIANCE_UNMANAGED,
};

/* One classified item of the overlap / compliance report (SPEC §2 Import, overlap and
 * compliance). Pointers are valid only during the callback. */
struct ipam_report_row {
	enum ipam_report_kind kind;
	const struct ipam_scope *scope;
	const struct ipam_alloc *alloc;         /* IPAM_ITEM_ALLOCATION */
	const struct ipam_resource *resource;   /* IPAM_ITEM_RESOURCE */
	struct cidr cidr;
	bool managed;                           /* "managed" / "unmanaged" */
	bool overlapping;                       /* "overlapping" / "nonoverlapping" */
	struct cidr overlap_cidr;               /* the other party, when overlapping */
	const char *overlap_name;               /* its name: resource name, or allocation's pool */
	enum ipam_compliance compliance;
	const char *rule;                       /* noncompliant: the refusal code of the rule */
};

/* Iteration callbacks: return 0 to go on, non-zero to stop (that value is returned). */
typedef int (*ipam_scope_cb)(void *arg, struct ipam_scope *s);
typedef int (*ipam_pool_cb)(void *arg, struct ipam_pool *p);
typedef int (*ipam_alloc_cb)(void *arg, struct ipam_alloc *a);
typedef int (*ipam_resource_cb)(void *arg, struct ipam_resource *r);
typedef int (*ipam_cidr_cb)(void *arg, const struct cidr *c);
typedef int (*ipam_report_cb)(void *arg, const struct ipam_report_row *row);

/* Life cycle. st may be NULL: a memory-only model (tests, the benchmark). ipam_new does not
 * read the store; call ipam_load. ipam_free(NULL) is a no-op; it does not close st. */
struct ipam *ipam_new(struct store *st);
void ipam_free(struct ipam *m);
/* Rebuilds the model from the store, creating the two default scopes when absent (first
 * start). The store is loaded into a fresh model that replaces the current one only on
 * success: -1 (store-failed, or invalid-argument when a row is inconsistent) leaves the model
 * as it was, marked for a reload at the next ipam_follow. Without a store it only resets. */
int ipam_load(struct ipam *m, struct err *e);
/*
 * Several instances on one store: brings memory up to the store's change feed (store.h),
 * applying other instances' allocations and releases one by one; any other change (pools,
 * scopes, provisions, resources) or one memory cannot place rebuilds the model
 * (ipam_load) when may_reload, else only marks it for the next call. Inside a transaction
 * it first takes the store's writer lock, so memory is exact for the rest of the
 * transaction. Call it at the start of every batch and when the store notifies a change.
 * A no-op without a store or a feed. Returns 0 or -1 (e set; memory unchanged).
 * may_reload false: callers holding object pointers (a retry inside a mutation).
 */
int ipam_follow(struct ipam *m, bool may_reload, struct err *e);
/* The change sequence memory is exact up to (0 without a feed); true while a rebuild is due. */
uint64_t ipam_feed_seq(const struct ipam *m);
bool ipam_stale(const struct ipam *m);
struct store *ipam_store(const struct ipam *m);
/* Clock used for created/event times (default time(NULL)); tests may pin it. */
void ipam_set_clock(struct ipam *m, int64_t (*now)(void));

/* Scopes. */
int ipam_scope_create(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct ipam_scope **out, struct err *e);
/* Refuses the public scope and scopes with pools or resources (in-use). */
int ipam_scope_delete(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct err *e);
struct ipam_scope *ipam_scope_find(const struct ipam *m, const char *name);
int ipam_scope_foreach(const struct ipam *m, ipam_scope_cb cb, void *arg);

/* Pools. */
int ipam_pool_create(struct ipam *m, const struct ipam_actor *who,
    const struct ipam_pool_spec *spec, struct ipam_pool **out, struct err *e);
/* Refused (in-use) while the pool has provisioned CIDRs or child pools. */
int ipam_pool_delete(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct err *e);
struct ipam_pool *ipam_pool_find(const struct ipam *m, const char *name);
struct ipam_pool *ipam_pool_find_id(const struct ipam *m, uint64_t id);
/* Pools in creation order; scope NULL for all scopes. */
int ipam_pool_foreach(const struct ipam *m, const struct ipam_scope *scope, ipam_pool_cb cb,
    void *arg);
/* The pool's provisioned CIDRs in address order. */
int ipam_pool_provisioned_foreach(const struct ipam_pool *p, ipam_cidr_cb cb, void *arg);
/* The pool's free blocks (maximal aligned) in address order. */
int ipam_pool_free_foreach(const struct ipam_pool *p, ipam_cidr_cb cb, void *arg);
void ipam_pool_util(const struct ipam_pool *p, struct ipam_util *out);
/* ipam_pool_util's "alarm" alone, in O(1) (no walk of the free blocks). */
bool ipam_pool_alarmed(const struct ipam_pool *p);

/* Provisioning. Exactly one of c (explicit) and netmask >= 0 (a child pool drawing from its
 * parent by size) is given. *out (may be NULL) receives the provisioned CIDR. */
int ipam_provision(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct cidr *c, int netmask, struct cidr *out, struct err *e);
/* Refused (in-use, listing the allocations) while allocations exist inside c. */
int ipam_deprovision(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct cidr *c, struct err *e);

/* Allocation. */
int ipam_allocate(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct ipam_alloc_req *req, struct ipam_alloc_result *out, struct err *e);
/* Releases allocation id (refused for a kind=pool allocation while its child pool has
 * CIDRs: in-use). */
int ipam_release(struct ipam *m, const struct ipam_actor *who, uint64_t id, struct err *e);
struct ipam_alloc *ipam_alloc_find(const struct ipam *m, uint64_t id);
/* The allocation with exactly this CIDR in p, or NULL. */
struct ipam_alloc *ipam_alloc_find_cidr(const struct ipam_pool *p, const struct cidr *c);
/* Allocations of p in address order. */
int ipam_alloc_foreach(const struct ipam_pool *p, ipam_alloc_cb cb, void *arg);
/* Allocations of p that come after `after` in that order (the ones inside it, then those
 * above its last address); after NULL: all. The cursor of a paged list: nothing is skipped
 * or repeated when allocations come and go between two calls. O(address bits) to start. */
int ipam_alloc_foreach_after(const struct ipam_pool *p, const struct cidr *after,
    ipam_alloc_cb cb, void *arg);
size_t ipam_alloc_count(const struct ipam *m);

enum ipam_alloc_kind ipam_alloc_kind(const struct ipam_alloc *a);
const char *ipam_alloc_kind_name(enum ipam_alloc_kind k);   /* "allocation" / "pool" */
struct ipam_pool *ipam_alloc_child(const struct ipam_alloc *a);  /* kind=pool, else NULL */
const char *ipam_alloc_description(const struct ipam_alloc *a); /* NULL when absent */
const char *ipam_alloc_locale(const struct ipam_alloc *a);
const char *ipam_alloc_token(const struct ipam_alloc *a);
const struct ipam_tags *ipam_alloc_tags(const struct ipam_alloc *a); /* never NULL */

/* Resources (imported, never refused for overlap; refused only for bad input). */
int ipam_resource_import(struct ipam *m, const struct ipam_actor *who, const char *scope,
    const struct cidr *c, const char *name, const struct ipam_tags *tags,
    struct ipam_resource **out, struct err *e);
int ipam_resource_delete(struct ipam *m, const struct ipam_actor *who, uint64_t id,
    struct err *e);
/* Resources of scope (NULL: all) in import order. */
int ipam_resource_foreach(const struct ipam *m, const struct ipam_scope *scope,
    ipam_resource_cb cb, void *arg);

/* Overlap + compliance report over every allocation (kind allocation) and resource of scope
 * (NULL: all scopes), in address order per scope. */
int ipam_report(const struct ipam *m, const struct ipam_scope *scope, ipam_report_cb cb,
    void *arg);
const char *ipam_compliance_name(enum ipam_compliance c);

/* Tags. ipam_tags_parse accepts "key=value" (key 1..64 of [A-Za-z0-9_.:/-], value any
 * printable text without newline, up to IPAM_TEXT_MAX). Returns 0 or -1 (invalid-argument). */
int ipam_tag_parse(const char *kv, struct ipam_tag *out, struct err *e);
/* The value of key in tags, or NULL. */
static inline const char *
ipam_tags_get(const struct ipam_tags *tags, const char *key)
{
	for (size_t i = 0; tags != NULL && i < tags->n; i++)
		if (strcmp(tags->v[i].key, key) == 0)
			return tags->v[i].value;
	return NULL;
}
/* Deep copy / free (for callers that build tag lists). */
int ipam_tags_copy(struct ipam_tags *dst, const struct ipam_tags *src);
void ipam_tags_clear(struct ipam_tags *t);

#endif
