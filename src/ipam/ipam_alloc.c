/*
 * ipam_alloc — free space, allocate and release (SPEC §2 allocate by size / explicitly,
 * preview, idempotency, rules, release). See ipam.h for the best-fit contract.
 *
 * Free space of a pool = the maximal aligned free blocks, in a length-masked ptree. Taking a
 * CIDR out of the block that covers it leaves the sibling halves on the way down; giving one
 * back merges it with its buddy while the merged block stays inside the provisioned CIDR.
 * Both are O(address bits). ipam_alloc_foreach_after resumes a paged list after a CIDR.
 */
#include "ipam_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rules.h"

void
ipam_space_carve(struct ipam_pool *p, const struct cidr *block, const struct cidr *c)
{
	struct cidr blk = *block, lo, hi;

	ptree_remove(p->free, &blk, NULL);
	while (blk.len < c->len) {
		cidr_split(&blk, &lo, &hi);
		if (cidr_contains(&lo, c)) {
			ptree_insert(p->free, &hi, NULL);
			blk = lo;
		} else {
			ptree_insert(p->free, &lo, NULL);
			blk = hi;
		}
	}
}

int
ipam_space_take(struct ipam_pool *p, const struct cidr *c)
{
	struct cidr blk;

	if (!ptree_covering(p->free, c, &blk, NULL))
		return -1;
	ipam_space_carve(p, &blk, c);
	return 0;
}

void
ipam_space_give(struct ipam_pool *p, const struct cidr *c)
{
	struct cidr prov, x = *c, sib;

	if (!ptree_covering(p->prov, c, &prov, NULL))
		fatalx("ipam: released %u-bit block outside the provisioned space", c->len);
	while (x.len > prov.len) {
		sib = cidr_sibling(&x);
		if (ptree_remove(p->free, &sib, NULL) != 0)
			break;
		x = cidr_parent(&x);
	}
	ptree_insert(p->free, &x, NULL);
}

int
ipam_space_pick(const struct ipam_pool *p, unsigned len, struct cidr *out,
    struct cidr *block, struct err *e)
{
	struct cidr blk;
	char b[CIDR_STRLEN];

	if (ptree_best_fit(p->free, len, &blk)) {
		*out = cidr_make(p->family, blk.hi, blk.lo, len);
		if (block != NULL)
			*block = blk;
		return 0;
	}
	if (ptree_shortest(p->free, &blk))
		return err_set(e, "pool-exhausted",
		    "pool '%s' has no free /%u; the largest free block is %s", p->name, len,
		    cidr_format(&blk, b, sizeof(b)));
	return err_set(e, "pool-exhausted", "pool '%s' has no free /%u; it has no free space%s",
	    p->name, len, ptree_count(p->prov) == 0 ? " (nothing provisioned)" : "");
}

int
ipam_space_refuse(const struct ipam_pool *p, const struct cidr *c, struct err *e)
{
	struct cidr other;
	void *v;
	struct ipam_alloc *a;
	char b1[CIDR_STRLEN], b2[CIDR_STRLEN];

	cidr_format(c, b1, sizeof(b1));
	if (ptree_overlap(p->allocs, c, &other, &v)) {
		a = v;
		return err_set(e, "overlap", "%s overlaps %s (%s %llu) in pool '%s'", b1,
		    cidr_format(&other, b2, sizeof(b2)), ipam_alloc_kind_name(a->x->kind),
		    (unsigned long long)a->id, p->name);
	}
	return err_set(e, "invalid-argument", "%s is not inside the provisioned CIDRs of pool "
	    "'%s'", b1, p->name);
}

/* ---- allocation objects ---- */

uint64_t
ipam_token_hash(uint64_t pool_id, const char *token)
{
	return ipam_hash_str(token, pool_id);
}

struct ipam_token_key {
	uint64_t pool_id;
	const char *token;
};

bool
ipam_token_eq(const void *obj, const void *key)
{
	const struct ipam_alloc *a = obj;
	const struct ipam_token_key *k = key;

	return a->pool->id == k->pool_id && strcmp(a->x->token, k->token) == 0;
}

static bool
ipam_alloc_id_eq(const void *obj, const void *key)
{
	return ((const struct ipam_alloc *)obj)->id == *(const uint64_t *)key;
}

static struct ipam_alloc_extra ipam_no_extra;   /* shared by allocations without extras */

struct ipam_alloc *
ipam_alloc_attach(struct ipam *m, struct ipam_pool *p, uint64_t id, const struct cidr *c,
    enum ipam_alloc_kind kind, const char *description, const char *locale,
    const char *token, const struct ipam_tags *tags, int64_t created)
{
	struct ipam_alloc *a = malloc(sizeof(*a));
	struct ipam_alloc_extra *x = &ipam_no_extra;

	if (a == NULL)
		fatal("ipam: out of memory");
	if (kind != IPAM_ALLOC_ALLOCATION || description != NULL || locale != NULL ||
	    token != NULL || (tags != NULL && tags->n > 0)) {
		x = ipam_xcalloc(1, sizeof(*x));
		x->kind = (uint8_t)kind;
		x->description = xstrdup(description);
		x->locale = xstrdup(locale);
		x->token = xstrdup(token);
		ipam_tags_copy(&x->tags, tags);
	}
	a->id = id;
	a->cidr = *c;
	a->pool = p;
	a->created = created;
	a->x = x;
	if (ptree_insert(p->allocs, c, a) != 0)
		fatalx("ipam: allocation index out of step with free space");
	ipam_hash_insert(&m->alloc_by_id, a);
	if (x->token != NULL)
		ipam_hash_insert(&m->alloc_by_token, a);
	p->allocated = cidr_u128_add(p->allocated, cidr_count(c));
	p->nallocs++;
	m->nallocs++;
	ipam_id_seen(m, IPAM_ID_ALLOC, id);
	return a;
}

void
ipam_alloc_detach(struct ipam *m, struct ipam_alloc *a)
{
	ptree_remove(a->pool->allocs, &a->cidr, NULL);
	ipam_hash_remove(&m->alloc_by_id, a);
	if (a->x->token != NULL)
		ipam_hash_remove(&m->alloc_by_token, a);
	a->pool->allocated = cidr_u128_sub(a->pool->allocated, cidr_count(&a->cidr));
	a->pool->nallocs--;
	m->nallocs--;
}

void
ipam_alloc_destroy(struct ipam_alloc *a)
{
	if (a == NULL)
		return;
	if (a->x != &ipam_no_extra) {
		free(a->x->description);
		free(a->x->locale);
		free(a->x->token);
		ipam_tags_clear(&a->x->tags);
		free(a->x);
	}
	free(a);
}

int
ipam_alloc_store_row(struct ipam *m, const struct ipam_actor *who,
    const struct ipam_alloc *a, struct err *e)
{
	struct store_alloc row;
	char after[512], b[CIDR_STRLEN];
	int rc;

	if (m->st == NULL)
		return 0;
	memset(&row, 0, sizeof(row));
	row.id = a->id;
	row.pool_id = a->pool->id;
	row.cidr = a->cidr;
	row.kind = a->x->kind;
	row.child_pool_id = a->x->child ? a->x->child->id : 0;
	row.description = a->x->description;
	row.locale = a->x->locale;
	row.token = a->x->token;
	row.tags = ipam_tags_encode(&a->x->tags);
	row.created = a->created;
	rc = store_alloc_put(m->st, &row, e);
	free((char *)row.tags);
	if (rc != 0)
		return -1;
	snprintf(after, sizeof(after), "{\"id\":%llu,\"pool\":\"%s\",\"cidr\":\"%s\","
	    "\"kind\":\"%s\"}", (unsigned long long)a->id, a->pool->name,
	    cidr_format(&a->cidr, b, sizeof(b)), ipam_alloc_kind_name(a->x->kind));
	return ipam_event(m, who, "allocate", "allocation", &a->cidr, NULL, after, e);
}

struct ipam_alloc *
ipam_alloc_find(const struct ipam *m, uint64_t id)
{
	return ipam_hash_find(&m->alloc_by_id, ipam_hash_u64(id), ipam_alloc_id_eq, &id);
}

struct ipam_alloc *
ipam_alloc_find_cidr(const struct ipam_pool *p, const struct cidr *c)
{
	void *v;

	return ptree_find(p->allocs, c, &v) ? v : NULL;
}

struct ipam_alloc_adapter {
	ipam_alloc_cb cb;
	void *arg;
};

static int
ipam_alloc_adapter_cb(void *arg, const struct cidr *c, void *value)
{
	struct ipam_alloc_adapter *a = arg;

	(void)c;
	return a->cb(a->arg, value);
}

int
ipam_alloc_foreach(const struct ipam_pool *p, ipam_alloc_cb cb, void *arg)
{
	struct ipam_alloc_adapter a = { cb, arg };

	return ptree_walk(p->allocs, ipam_alloc_adapter_cb, &a);
}

/* Skips the stored prefix equal to `after` itself (walked by ptree_walk_covered(after)). */
struct ipam_alloc_after {
	struct ipam_alloc_adapter a;
	const struct cidr *after;
};

static int
ipam_alloc_after_cb(void *arg, const struct cidr *c, void *value)
{
	struct ipam_alloc_after *x = arg;

	if (cidr_equal(c, x->after))
		return 0;
	return x->a.cb(x->a.arg, value);
}

/*
 * The stored prefixes after `after` in ptree order are those inside it (longer, same start)
 * and those in [last(after) + 1, end of the address space]. That range is at most maxlen
 * aligned blocks, largest first at each step; each is walked with ptree_walk_covered, so the
 * cost is O(address bits * depth) plus the allocations the callback takes.
 */
int
ipam_alloc_foreach_after(const struct ipam_pool *p, const struct cidr *after, ipam_alloc_cb cb,
    void *arg)
{
	struct ipam_alloc_after x = { { cb, arg }, after };
	struct cidr last, blk;
	cidr_u128 a, step;
	unsigned tz;
	int rc;

	if (after == NULL)
		return ipam_alloc_foreach(p, cb, arg);
	if (after->family != p->family)
		return after->family < p->family ? ipam_alloc_foreach(p, cb, arg) : 0;
	if ((rc = ptree_walk_covered(p->allocs, after, ipam_alloc_after_cb, &x)) != 0)
		return rc;
	last = cidr_last(after);
	step = (cidr_u128)1 << (128 - cidr_maxlen(p->family));
	for (a = cidr_addr_u128(&last) + step; a != 0; a += (cidr_u128)1 << tz) {
		for (tz = 0; tz < 127 && ((a >> tz) & 1) == 0; tz++)
			;
		blk = cidr_make(p->family, (uint64_t)(a >> 64), (uint64_t)a, 128 - tz);
		if ((rc = ptree_walk_covered(p->allocs, &blk, ipam_alloc_adapter_cb, &x.a)) != 0)
			return rc;
	}
	return 0;
}

enum ipam_alloc_kind
ipam_alloc_kind(const struct ipam_alloc *a)
{
	return (enum ipam_alloc_kind)a->x->kind;
}

const char *
ipam_alloc_kind_name(enum ipam_alloc_kind k)
{
	return k == IPAM_ALLOC_POOL ? "pool" : "allocation";
}

struct ipam_pool *
ipam_alloc_child(const struct ipam_alloc *a)
{
	return a->x->child;
}

const char *
ipam_alloc_description(const struct ipam_alloc *a)
{
	return a->x->description;
}

const char *
ipam_alloc_locale(const struct ipam_alloc *a)
{
	return a->x->locale;
}

const char *
ipam_alloc_token(const struct ipam_alloc *a)
{
	return a->x->token;
}

const struct ipam_tags *
ipam_alloc_tags(const struct ipam_alloc *a)
{
	return &a->x->tags;
}

/* ---- allocate / release ---- */

static bool
ipam_str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A request carrying a token already used in p: replay or token-conflict. */
static int
ipam_token_replay(const struct ipam_pool *p, struct ipam_alloc *a,
    const struct ipam_alloc_req *req, struct ipam_alloc_result *out, struct err *e)
{
	unsigned len;
	bool same;

	if (req->cidr != NULL)
		same = cidr_equal(req->cidr, &a->cidr);
	else
		same = rules_effective_netmask(p, req->netmask, &len, NULL) == 0 &&
		    len == a->cidr.len;
	same = same && ipam_str_eq(req->description, a->x->description) &&
	    ipam_str_eq(req->locale, a->x->locale) && ipam_tags_equal(&req->tags, &a->x->tags);
	if (!same)
		return err_set(e, "token-conflict", "token '%s' was used in pool '%s' for "
		    "allocation %llu with different parameters", req->token, p->name,
		    (unsigned long long)a->id);
	out->cidr = a->cidr;
	out->alloc = req->preview ? NULL : a;
	out->replayed = true;
	return 0;
}

/* Validates the request and picks its CIDR; changes nothing. */
static int
ipam_allocate_pick(const struct ipam_pool *p, const struct ipam_alloc_req *req,
    struct cidr *pick, struct cidr *block, struct err *e)
{
	unsigned len;
	char b[CIDR_STRLEN];

	if (ipam_check_text("description", req->description, e) != 0 ||
	    ipam_check_text("locale", req->locale, e) != 0 ||
	    ipam_check_text("token", req->token, e) != 0 || ipam_check_tags(&req->tags, e) != 0)
		return -1;
	if (req->cidr != NULL) {
		if (ipam_check_cidr(req->cidr, e) != 0)
			return -1;
		if (req->netmask >= 0 && (unsigned)req->netmask != req->cidr->len)
			return err_set(e, "invalid-argument", "give --cidr or --netmask, not both");
		if (req->cidr->family != p->family)
			return err_set(e, "invalid-argument", "%s is not %s like pool '%s'",
			    cidr_format(req->cidr, b, sizeof(b)), cidr_family_name(p->family),
			    p->name);
		len = req->cidr->len;
	} else if (rules_effective_netmask(p, req->netmask, &len, e) != 0) {
		return -1;
	}
	if (rules_check(p, len, &req->tags, req->locale, e) != 0)
		return -1;
	if (req->cidr == NULL)
		return ipam_space_pick(p, len, pick, block, e);
	if (!ptree_covering(p->free, req->cidr, block, NULL))
		return ipam_space_refuse(p, req->cidr, e);
	*pick = *req->cidr;
	return 0;
}

static int
ipam_allocate_once(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct ipam_alloc_req *req, struct ipam_alloc_result *out, bool *refused,
    struct err *e)
{
	struct ipam_token_key key;
	struct ipam_alloc *a, tmp;
	struct ipam_alloc_extra tx;
	struct cidr pick, block;

	memset(out, 0, sizeof(*out));
	if (req->token != NULL) {
		if (req->token[0] == '\0')
			return err_set(e, "invalid-argument", "token is empty");
		key.pool_id = p->id;
		key.token = req->token;
		a = ipam_hash_find(&m->alloc_by_token, ipam_token_hash(p->id, req->token),
		    ipam_token_eq, &key);
		if (a != NULL)
			return ipam_token_replay(p, a, req, out, e);
	}
	if (ipam_allocate_pick(p, req, &pick, &block, e) != 0)
		return -1;
	out->cidr = pick;
	if (req->preview)
		return 0;
	memset(&tmp, 0, sizeof(tmp));
	memset(&tx, 0, sizeof(tx));
	if (ipam_id_next(m, IPAM_ID_ALLOC, &tmp.id, e) != 0)
		return -1;
	tmp.cidr = pick;
	tmp.pool = p;
	tmp.created = ipam_now(m);
	tmp.x = &tx;
	tx.description = (char *)req->description;
	tx.locale = (char *)req->locale;
	tx.token = (char *)req->token;
	tx.tags = req->tags;
	if (m->st != NULL) {
		if (ipam_tx_begin(m, e) != 0)
			return -1;
		if (ipam_id_reserve(m, e) != 0 || ipam_alloc_store_row(m, who, &tmp, e) != 0 ||
		    ipam_tx_commit(m, e) != 0) {
			ipam_tx_abort(m);
			*refused = true;
			return -1;
		}
		ipam_id_reserved(m);
	}
	ipam_space_carve(p, &block, &pick);
	out->alloc = ipam_alloc_attach(m, p, tmp.id, &pick, IPAM_ALLOC_ALLOCATION,
	    req->description, req->locale, req->token, &req->tags, tmp.created);
	return 0;
}

/*
 * The store refused what memory thought free (overlap, token-conflict: another instance got
 * there first and memory has not followed yet): memory follows the store's change feed and
 * the request is tried once more; a second refusal is the answer (409).
 */
int
ipam_allocate(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct ipam_alloc_req *req, struct ipam_alloc_result *out, struct err *e)
{
	bool refused = false;
	struct err fe;

	if (ipam_allocate_once(m, who, p, req, out, &refused, e) == 0)
		return 0;
	if (!refused || e->code == NULL || (strcmp(e->code, "overlap") != 0 &&
	    strcmp(e->code, "token-conflict") != 0) || !store_has_feed(m->st))
		return -1;
	err_clear(&fe);
	if (ipam_follow(m, false, &fe) != 0 || m->need_reload)
		return -1;
	refused = false;
	return ipam_allocate_once(m, who, p, req, out, &refused, e);
}

int
ipam_release(struct ipam *m, const struct ipam_actor *who, uint64_t id, struct err *e)
{
	struct ipam_alloc *a = ipam_alloc_find(m, id);
	char before[256], b[CIDR_STRLEN];

	if (a == NULL)
		return err_set(e, "not-found", "allocation %llu not found",
		    (unsigned long long)id);
	if (a->x->child != NULL)
		return err_set(e, "in-use", "allocation %llu (%s) supplies child pool '%s'; "
		    "deprovision it from the child pool first", (unsigned long long)id,
		    cidr_format(&a->cidr, b, sizeof(b)), a->x->child->name);
	if (m->st != NULL) {
		snprintf(before, sizeof(before), "{\"id\":%llu,\"pool\":\"%s\",\"cidr\":\"%s\"}",
		    (unsigned long long)id, a->pool->name, cidr_format(&a->cidr, b, sizeof(b)));
		if (ipam_tx_begin(m, e) != 0)
			return -1;
		if (store_remove(m->st, STORE_ALLOC, id, e) != 0 ||
		    ipam_event(m, who, "release", "allocation", &a->cidr, before, NULL, e) != 0 ||
		    ipam_tx_commit(m, e) != 0) {
			ipam_tx_abort(m);
			return -1;
		}
	}
	ipam_alloc_detach(m, a);
	ipam_space_give(a->pool, &a->cidr);
	ipam_alloc_destroy(a);
	return 0;
}
