/*
 * ipam_pool — pools, provisioning and deprovisioning (SPEC §1 pool / provisioned CIDR,
 * §2 deletion protection). See ipam.h for the rules and ipam_private.h for the file split.
 */
#include "ipam_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static bool
ipam_pool_name_eq(const void *obj, const void *key)
{
	return strcmp(((const struct ipam_pool *)obj)->name, key) == 0;
}

struct ipam_pool *
ipam_pool_find(const struct ipam *m, const char *name)
{
	if (name == NULL)
		return NULL;
	return ipam_hash_find(&m->pool_by_name, ipam_hash_str(name, 0), ipam_pool_name_eq, name);
}

struct ipam_pool *
ipam_pool_find_id(const struct ipam *m, uint64_t id)
{
	size_t lo = 0, hi = m->pools.n, mid;
	struct ipam_pool *p;

	while (lo < hi) {               /* pools are kept in ascending id order */
		mid = (lo + hi) / 2;
		p = m->pools.v[mid];
		if (p->id == id)
			return p;
		if (p->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
ipam_pool_foreach(const struct ipam *m, const struct ipam_scope *scope, ipam_pool_cb cb,
    void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < m->pools.n; i++) {
		struct ipam_pool *p = m->pools.v[i];

		if (scope != NULL && p->scope != scope)
			continue;
		if ((rc = cb(arg, p)) != 0)
			return rc;
	}
	return 0;
}

struct ipam_pool *
ipam_pool_attach(struct ipam *m, const struct store_pool *r, struct ipam_scope *scope,
    struct ipam_pool *parent, struct err *e)
{
	struct ipam_pool *p;

	if (ipam_pool_find(m, r->name) != NULL) {
		err_set(e, "exists", "pool '%s' exists", r->name);
		return NULL;
	}
	p = ipam_xcalloc(1, sizeof(*p));
	p->id = r->id;
	p->name = xstrdup(r->name);
	p->scope = scope;
	p->parent = parent;
	p->family = r->family;
	p->locale = xstrdup(r->locale);
	p->description = xstrdup(r->description);
	p->rules.default_netmask = r->default_netmask;
	p->rules.min_netmask = r->min_netmask;
	p->rules.max_netmask = r->max_netmask;
	if (ipam_tags_decode(r->required_tags, &p->rules.required_tags) != 0 ||
	    ipam_tags_decode(r->tags, &p->tags) != 0) {
		ipam_pool_destroy(p);
		err_set(e, "invalid-argument", "pool '%s': malformed tags", r->name);
		return NULL;
	}
	p->alarm_at = r->alarm_at;
	p->origin_asn = r->origin_asn;
	p->created = r->created;
	p->prov = ptree_new(p->family, 0);
	p->free = ptree_new(p->family, PTREE_LENMASK);
	p->allocs = ptree_new(p->family, 0);
	ipam_vec_push(&m->pools, p);
	ipam_hash_insert(&m->pool_by_name, p);
	scope->npools++;
	if (parent != NULL)
		parent->nchildren++;
	ipam_id_seen(m, IPAM_ID_POOL, p->id);
	return p;
}

static int
ipam_prov_free_cb(void *arg, const struct cidr *c, void *value)
{
	(void)arg;
	(void)c;
	free(value);
	return 0;
}

static int
ipam_alloc_free_cb(void *arg, const struct cidr *c, void *value)
{
	(void)arg;
	(void)c;
	ipam_alloc_destroy(value);
	return 0;
}

void
ipam_pool_destroy(struct ipam_pool *p)
{
	if (p == NULL)
		return;
	if (p->prov != NULL)
		ptree_walk(p->prov, ipam_prov_free_cb, NULL);
	if (p->allocs != NULL)
		ptree_walk(p->allocs, ipam_alloc_free_cb, NULL);
	ptree_free(p->prov);
	ptree_free(p->free);
	ptree_free(p->allocs);
	free(p->name);
	free(p->locale);
	free(p->description);
	ipam_tags_clear(&p->rules.required_tags);
	ipam_tags_clear(&p->tags);
	free(p);
}

/* Validates a pool spec; resolves scope and parent. */
static int
ipam_pool_check(struct ipam *m, const struct ipam_pool_spec *sp, struct ipam_scope **scope,
    struct ipam_pool **parent, int *family, struct err *e)
{
	*parent = NULL;
	if (ipam_check_name("pool name", sp->name, e) != 0 ||
	    ipam_check_text("locale", sp->locale, e) != 0 ||
	    ipam_check_text("description", sp->description, e) != 0 ||
	    ipam_check_tags(&sp->tags, e) != 0 || ipam_check_tags(&sp->rules.required_tags, e))
		return -1;
	if (ipam_pool_find(m, sp->name) != NULL)
		return err_set(e, "exists", "pool '%s' exists", sp->name);
	if (sp->parent != NULL && (*parent = ipam_pool_find(m, sp->parent)) == NULL)
		return err_set(e, "not-found", "parent pool '%s' not found", sp->parent);
	if (sp->scope != NULL) {
		if ((*scope = ipam_scope_find(m, sp->scope)) == NULL)
			return err_set(e, "not-found", "scope '%s' not found", sp->scope);
		if (*parent != NULL && (*parent)->scope != *scope)
			return err_set(e, "invalid-argument",
			    "parent pool '%s' is in scope '%s', not '%s'", sp->parent,
			    (*parent)->scope->name, sp->scope);
	} else if (*parent != NULL) {
		*scope = (*parent)->scope;
	} else {
		return err_set(e, "invalid-argument", "pool '%s' needs a scope", sp->name);
	}
	*family = sp->family;
	if (*parent != NULL) {
		if (*family != 0 && *family != (*parent)->family)
			return err_set(e, "invalid-argument",
			    "pool '%s' is %s but its parent '%s' is %s", sp->name,
			    cidr_family_name(*family), sp->parent,
			    cidr_family_name((*parent)->family));
		*family = (*parent)->family;
		if ((*parent)->locale != NULL &&
		    (sp->locale == NULL || strcmp(sp->locale, (*parent)->locale) != 0))
			return err_set(e, "locale-mismatch",
			    "pool '%s' locale '%s' must equal its parent's locale '%s'", sp->name,
			    sp->locale ? sp->locale : "(none)", (*parent)->locale);
	}
	if (*family != CIDR_V4 && *family != CIDR_V6)
		return err_set(e, "invalid-argument", "pool '%s' needs a family (ipv4 or ipv6)",
		    sp->name);
	if (sp->alarm_at < -1 || sp->alarm_at > 100)
		return err_set(e, "invalid-argument", "alarm_at %d is not a percentage",
		    sp->alarm_at);
	return rules_validate(&sp->rules, *family, e);
}

int
ipam_pool_create(struct ipam *m, const struct ipam_actor *who,
    const struct ipam_pool_spec *sp, struct ipam_pool **out, struct err *e)
{
	struct ipam_scope *scope = NULL;
	struct ipam_pool *parent, *p;
	struct store_pool row;
	char after[512], jn[160];
	int family = 0;

	uint64_t id;

	if (ipam_pool_check(m, sp, &scope, &parent, &family, e) != 0 ||
	    ipam_id_next(m, IPAM_ID_POOL, &id, e) != 0)
		return -1;
	memset(&row, 0, sizeof(row));
	row.id = id;
	row.name = sp->name;
	row.scope_id = scope->id;
	row.parent_id = parent ? parent->id : 0;
	row.family = family;
	row.locale = sp->locale;
	row.description = sp->description;
	row.default_netmask = sp->rules.default_netmask;
	row.min_netmask = sp->rules.min_netmask;
	row.max_netmask = sp->rules.max_netmask;
	row.required_tags = ipam_tags_encode(&sp->rules.required_tags);
	row.tags = ipam_tags_encode(&sp->tags);
	row.alarm_at = sp->alarm_at < 0 ? IPAM_DEFAULT_ALARM_AT : sp->alarm_at;
	row.origin_asn = sp->origin_asn;
	row.created = ipam_now(m);
	snprintf(after, sizeof(after), "{\"name\":%s,\"scope\":\"%s\",\"family\":\"%s\"}",
	    ipam_json_str(sp->name, jn, sizeof(jn)), scope->name, cidr_family_name(family));
	p = NULL;
	if (ipam_tx_begin(m, e) == 0) {
		if ((m->st == NULL || store_pool_put(m->st, &row, e) == 0) &&
		    ipam_event(m, who, "pool-create", "pool", NULL, NULL, after, e) == 0 &&
		    ipam_tx_commit(m, e) == 0)
			p = ipam_pool_attach(m, &row, scope, parent, e);
		else
			ipam_tx_abort(m);
	}
	free((char *)row.required_tags);
	free((char *)row.tags);
	if (p == NULL)
		return -1;
	if (out != NULL)
		*out = p;
	return 0;
}

int
ipam_pool_delete(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct err *e)
{
	struct ipam_pool *p = ipam_pool_find(m, name);
	char before[256], jn[160];

	if (p == NULL)
		return err_set(e, "not-found", "pool '%s' not found", name ? name : "");
	if (ptree_count(p->prov) > 0 || p->nchildren > 0)
		return err_set(e, "in-use", "pool '%s' still has %zu provisioned CIDRs and %zu "
		    "child pools; deprovision and delete them first", name,
		    ptree_count(p->prov), p->nchildren);
	snprintf(before, sizeof(before), "{\"name\":%s}", ipam_json_str(name, jn, sizeof(jn)));
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((m->st != NULL && store_remove(m->st, STORE_POOL, p->id, e) != 0) ||
	    ipam_event(m, who, "pool-delete", "pool", NULL, before, NULL, e) != 0 ||
	    ipam_tx_commit(m, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	ipam_hash_remove(&m->pool_by_name, p);
	ipam_vec_remove(&m->pools, p);
	p->scope->npools--;
	if (p->parent != NULL)
		p->parent->nchildren--;
	ipam_pool_destroy(p);
	return 0;
}

struct ipam_cb_adapter {
	ipam_cidr_cb cb;
	void *arg;
};

static int
ipam_cidr_adapter(void *arg, const struct cidr *c, void *value)
{
	struct ipam_cb_adapter *a = arg;

	(void)value;
	return a->cb(a->arg, c);
}

int
ipam_pool_provisioned_foreach(const struct ipam_pool *p, ipam_cidr_cb cb, void *arg)
{
	struct ipam_cb_adapter a = { cb, arg };

	return ptree_walk(p->prov, ipam_cidr_adapter, &a);
}

int
ipam_pool_free_foreach(const struct ipam_pool *p, ipam_cidr_cb cb, void *arg)
{
	struct ipam_cb_adapter a = { cb, arg };

	return ptree_walk(p->free, ipam_cidr_adapter, &a);
}

static struct ptree *
ipam_scope_tree(struct ipam_scope *s, int family)
{
	return family == CIDR_V4 ? s->top : s->top6;
}

struct ipam_prov *
ipam_prov_attach(struct ipam *m, struct ipam_pool *p, uint64_t id, const struct cidr *c,
    int64_t created)
{
	struct ipam_prov *v = ipam_xcalloc(1, sizeof(*v));

	v->id = id;
	v->cidr = *c;
	v->pool = p;
	v->created = created;
	if (ptree_insert(p->prov, c, v) != 0) {
		free(v);
		return NULL;
	}
	if (p->parent == NULL && ptree_insert(ipam_scope_tree(p->scope, p->family), c, v) != 0) {
		ptree_remove(p->prov, c, NULL);
		free(v);
		return NULL;
	}
	ptree_insert(p->free, c, NULL);
	p->provisioned = cidr_u128_add(p->provisioned, cidr_count(c));
	ipam_id_seen(m, IPAM_ID_PROV, id);
	return v;
}

/* Checks a top-level explicit provision: family and scope-wide uniqueness. */
static int
ipam_provision_check_top(struct ipam_pool *p, const struct cidr *c, struct err *e)
{
	struct cidr other;
	void *v;
	char b1[CIDR_STRLEN], b2[CIDR_STRLEN];

	if (ptree_overlap(ipam_scope_tree(p->scope, p->family), c, &other, &v))
		return err_set(e, "overlap", "%s overlaps %s provisioned in pool '%s' (scope '%s')",
		    cidr_format(c, b1, sizeof(b1)), cidr_format(&other, b2, sizeof(b2)),
		    ((struct ipam_prov *)v)->pool->name, p->scope->name);
	return 0;
}

/* Picks the CIDR a child pool gets from its parent (explicit c, or by netmask). */
static int
ipam_provision_pick_child(struct ipam_pool *p, const struct cidr *c, int netmask,
    struct cidr *out, struct err *e)
{
	struct ipam_pool *parent = p->parent;
	const struct ipam_rules *r = &parent->rules;
	unsigned len = c != NULL ? c->len : (unsigned)netmask;
	struct cidr blk;

	if (r->min_netmask >= 0 && len < (unsigned)r->min_netmask)
		return err_set(e, "netmask-too-large", "/%u is larger than pool '%s' allows "
		    "(min_netmask %d)", len, parent->name, r->min_netmask);
	if (r->max_netmask >= 0 && len > (unsigned)r->max_netmask)
		return err_set(e, "netmask-too-small", "/%u is smaller than pool '%s' allows "
		    "(max_netmask %d)", len, parent->name, r->max_netmask);
	if (c != NULL) {
		if (!ptree_covering(parent->free, c, &blk, NULL))
			return ipam_space_refuse(parent, c, e);
		*out = *c;
		return 0;
	}
	return ipam_space_pick(parent, len, out, NULL, e);
}

/* Validates a provision request and picks the CIDR; changes nothing. */
static int
ipam_provision_pick(struct ipam_pool *p, const struct cidr *c, int netmask, struct cidr *pick,
    struct err *e)
{
	char b[CIDR_STRLEN];

	if ((c == NULL) == (netmask < 0))
		return err_set(e, "invalid-argument", "provision needs a CIDR or a netmask");
	if (c != NULL && ipam_check_cidr(c, e) != 0)
		return -1;
	if (c != NULL && c->family != p->family)
		return err_set(e, "invalid-argument", "%s is not %s like pool '%s'",
		    cidr_format(c, b, sizeof(b)), cidr_family_name(p->family), p->name);
	if (c == NULL && p->parent == NULL)
		return err_set(e, "invalid-argument",
		    "pool '%s' is top-level: provision it with an explicit CIDR", p->name);
	if (c == NULL && (unsigned)netmask > cidr_maxlen(p->family))
		return err_set(e, "invalid-argument", "netmask %d is out of range", netmask);
	if (p->parent != NULL)
		return ipam_provision_pick_child(p, c, netmask, pick, e);
	if (ipam_provision_check_top(p, c, e) != 0)
		return -1;
	*pick = *c;
	return 0;
}

int
ipam_provision(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct cidr *c, int netmask, struct cidr *out, struct err *e)
{
	struct store_provision row;
	struct ipam_alloc tmp, *pa = NULL;
	struct ipam_alloc_extra tx;
	struct ipam_prov *v;
	struct cidr pick;
	char after[256], b[CIDR_STRLEN];

	uint64_t prov_id, alloc_id = 0;

	if (ipam_provision_pick(p, c, netmask, &pick, e) != 0 ||
	    ipam_id_next(m, IPAM_ID_PROV, &prov_id, e) != 0 ||
	    (p->parent != NULL && ipam_id_next(m, IPAM_ID_ALLOC, &alloc_id, e) != 0))
		return -1;
	memset(&row, 0, sizeof(row));
	row.id = prov_id;
	row.pool_id = p->id;
	row.cidr = pick;
	row.created = ipam_now(m);
	memset(&tmp, 0, sizeof(tmp));
	memset(&tx, 0, sizeof(tx));
	if (p->parent != NULL) {        /* the kind=pool allocation in the parent */
		tmp.id = alloc_id;
		tmp.cidr = pick;
		tmp.pool = p->parent;
		tmp.created = row.created;
		tmp.x = &tx;
		tx.kind = IPAM_ALLOC_POOL;
		tx.child = p;
		row.alloc_id = tmp.id;
	}
	snprintf(after, sizeof(after), "{\"pool\":\"%s\",\"cidr\":\"%s\"}", p->name,
	    cidr_format(&pick, b, sizeof(b)));
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((p->parent != NULL && (ipam_id_reserve(m, e) != 0 ||
	    ipam_alloc_store_row(m, who, &tmp, e) != 0)) ||
	    (m->st != NULL && store_provision_put(m->st, &row, e) != 0) ||
	    ipam_event(m, who, "provision", "pool", &pick, NULL, after, e) != 0 ||
	    ipam_tx_commit(m, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	if (p->parent != NULL) {
		ipam_id_reserved(m);
		ipam_space_take(p->parent, &pick);
		pa = ipam_alloc_attach(m, p->parent, tmp.id, &pick, IPAM_ALLOC_POOL, NULL, NULL,
		    NULL, NULL, tmp.created);
		pa->x->child = p;
	}
	v = ipam_prov_attach(m, p, row.id, &pick, row.created);
	v->from = pa;
	if (out != NULL)
		*out = pick;
	return 0;
}

struct ipam_inuse {
	char *buf;
	size_t size, len;
	size_t n;
};

static int
ipam_inuse_cb(void *arg, const struct cidr *c, void *value)
{
	struct ipam_inuse *u = arg;
	struct ipam_alloc *a = value;
	char b[CIDR_STRLEN];
	int w;

	if (u->n++ >= 8)
		return 0;
	w = snprintf(u->buf + u->len, u->size - u->len, "%s%s (id %llu%s%s)",
	    u->n > 1 ? ", " : "", cidr_format(c, b, sizeof(b)), (unsigned long long)a->id,
	    a->x->child ? ", child pool " : "", a->x->child ? a->x->child->name : "");
	if (w > 0 && (size_t)w < u->size - u->len)
		u->len += (size_t)w;
	return 0;
}

int
ipam_deprovision(struct ipam *m, const struct ipam_actor *who, struct ipam_pool *p,
    const struct cidr *c, struct err *e)
{
	struct ipam_prov *v;
	struct ipam_alloc *from;
	char list[300], before[256], b[CIDR_STRLEN];
	struct ipam_inuse u = { list, sizeof(list), 0, 0 };

	list[0] = '\0';
	if (!ptree_find(p->prov, c, (void **)&v))
		return err_set(e, "not-found", "%s is not provisioned in pool '%s'",
		    cidr_format(c, b, sizeof(b)), p->name);
	ptree_walk_covered(p->allocs, c, ipam_inuse_cb, &u);
	if (u.n > 0)
		return err_set(e, "in-use", "%s in pool '%s' holds %zu allocations: %s%s",
		    cidr_format(c, b, sizeof(b)), p->name, u.n, list, u.n > 8 ? ", ..." : "");
	from = v->from;
	snprintf(before, sizeof(before), "{\"pool\":\"%s\",\"cidr\":\"%s\"}", p->name,
	    cidr_format(c, b, sizeof(b)));
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((m->st != NULL && store_remove(m->st, STORE_PROVISION, v->id, e) != 0) ||
	    (m->st != NULL && from != NULL && store_remove(m->st, STORE_ALLOC, from->id, e)) ||
	    ipam_event(m, who, "deprovision", "pool", c, before, NULL, e) != 0 ||
	    ipam_tx_commit(m, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	ptree_remove(p->free, c, NULL);
	ptree_remove(p->prov, c, NULL);
	if (p->parent == NULL)
		ptree_remove(ipam_scope_tree(p->scope, p->family), c, NULL);
	p->provisioned = cidr_u128_sub(p->provisioned, cidr_count(c));
	if (from != NULL) {
		ipam_alloc_detach(m, from);
		ipam_space_give(p->parent, c);
		ipam_alloc_destroy(from);
	}
	free(v);
	return 0;
}
