/*
 * ipam_report — utilization, imported resources and the overlap / compliance report
 * (SPEC §2 "Utilization", "Import, overlap and compliance").
 *
 * The report classifies, per scope, every allocation of kind allocation (managed) and every
 * resource (unmanaged). Overlap: two items overlap when their CIDRs share an address; a
 * child pool's kind=pool allocation is supply, not an item, so a pool hierarchy never counts
 * as overlapping itself. Items are sorted by start address and swept once (O(n log n)).
 * Compliance: a resource is "unmanaged"; an allocation is checked against its pool's current
 * rules (netmask bounds, required tags, locale) and reports the first broken rule's code.
 */
#include "ipam_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

void
ipam_pool_util(const struct ipam_pool *p, struct ipam_util *out)
{
	memset(out, 0, sizeof(*out));
	out->provisioned = p->provisioned;
	out->allocated = p->allocated;
	if (p->provisioned != 0)
		out->percent = (double)p->allocated * 100.0 / (double)p->provisioned;
	out->has_free = ptree_shortest(p->free, &out->largest_free);
	out->alarm_at = p->alarm_at;
	out->alarm = p->provisioned != 0 && out->percent >= (double)p->alarm_at;
}

bool
ipam_pool_alarmed(const struct ipam_pool *p)
{
	return p->provisioned != 0 &&
	    (double)p->allocated * 100.0 / (double)p->provisioned >= (double)p->alarm_at;
}

/* ---- resources ---- */

struct ipam_resource *
ipam_resource_attach(struct ipam *m, const struct store_resource *r, struct ipam_scope *s,
    struct err *e)
{
	struct ipam_resource *res = ipam_xcalloc(1, sizeof(*res));

	if (ipam_tags_decode(r->tags, &res->tags) != 0) {
		free(res);
		err_set(e, "invalid-argument", "resource '%s': malformed tags",
		    r->name ? r->name : "");
		return NULL;
	}
	res->id = r->id;
	res->scope = s;
	res->cidr = r->cidr;
	res->name = xstrdup(r->name);
	res->created = r->created;
	ipam_vec_push(&m->resources, res);
	s->nresources++;
	ipam_id_seen(m, IPAM_ID_RESOURCE, r->id);
	return res;
}

void
ipam_resource_destroy(struct ipam_resource *r)
{
	if (r == NULL)
		return;
	free(r->name);
	ipam_tags_clear(&r->tags);
	free(r);
}

int
ipam_resource_import(struct ipam *m, const struct ipam_actor *who, const char *scope,
    const struct cidr *c, const char *name, const struct ipam_tags *tags,
    struct ipam_resource **out, struct err *e)
{
	struct ipam_scope *s = ipam_scope_find(m, scope);
	struct store_resource row;
	struct ipam_resource *res;
	char after[512], jn[160], b[CIDR_STRLEN];
	int rc;

	if (s == NULL)
		return err_set(e, "not-found", "scope '%s' not found", scope ? scope : "");
	if (ipam_check_cidr(c, e) != 0 || ipam_check_name("resource name", name, e) != 0 ||
	    ipam_check_tags(tags, e) != 0)
		return -1;
	if (name == NULL || name[0] == '\0')
		return err_set(e, "invalid-argument", "resource name is missing");
	memset(&row, 0, sizeof(row));
	if (ipam_id_next(m, IPAM_ID_RESOURCE, &row.id, e) != 0)
		return -1;
	row.scope_id = s->id;
	row.cidr = *c;
	row.name = name;
	row.tags = ipam_tags_encode(tags);
	row.created = ipam_now(m);
	snprintf(after, sizeof(after), "{\"scope\":\"%s\",\"name\":%s,\"cidr\":\"%s\"}",
	    s->name, ipam_json_str(name, jn, sizeof(jn)), cidr_format(c, b, sizeof(b)));
	rc = ipam_tx_begin(m, e);
	if (rc == 0 && ((m->st != NULL && store_resource_put(m->st, &row, e) != 0) ||
	    ipam_event(m, who, "import", "resource", c, NULL, after, e) != 0)) {
		ipam_tx_abort(m);
		rc = -1;
	}
	if (rc == 0)
		rc = ipam_tx_commit(m, e);
	res = rc == 0 ? ipam_resource_attach(m, &row, s, e) : NULL;
	free((char *)row.tags);
	if (res == NULL)
		return -1;
	if (out != NULL)
		*out = res;
	return 0;
}

int
ipam_resource_delete(struct ipam *m, const struct ipam_actor *who, uint64_t id,
    struct err *e)
{
	struct ipam_resource *r = NULL;
	char before[256], jn[160], b[CIDR_STRLEN];
	size_t i;

	for (i = 0; i < m->resources.n && r == NULL; i++)
		if (((struct ipam_resource *)m->resources.v[i])->id == id)
			r = m->resources.v[i];
	if (r == NULL)
		return err_set(e, "not-found", "resource %llu not found", (unsigned long long)id);
	snprintf(before, sizeof(before), "{\"name\":%s,\"cidr\":\"%s\"}",
	    ipam_json_str(r->name, jn, sizeof(jn)), cidr_format(&r->cidr, b, sizeof(b)));
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((m->st != NULL && store_remove(m->st, STORE_RESOURCE, id, e) != 0) ||
	    ipam_event(m, who, "resource-delete", "resource", &r->cidr, before, NULL, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	if (ipam_tx_commit(m, e) != 0)
		return -1;
	r->scope->nresources--;
	ipam_vec_remove(&m->resources, r);
	ipam_resource_destroy(r);
	return 0;
}

int
ipam_resource_foreach(const struct ipam *m, const struct ipam_scope *scope,
    ipam_resource_cb cb, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < m->resources.n; i++) {
		struct ipam_resource *r = m->resources.v[i];

		if (scope != NULL && r->scope != scope)
			continue;
		if ((rc = cb(arg, r)) != 0)
			return rc;
	}
	return 0;
}

/* ---- report ---- */

const char *
ipam_compliance_name(enum ipam_compliance c)
{
	switch (c) {
	case IPAM_COMPLIANT:
		return "compliant";
	case IPAM_NONCOMPLIANT:
		return "noncompliant";
	default:
		return "unmanaged";
	}
}

struct ipam_item {
	struct ipam_report_row row;
	cidr_u128 first, last;
};

struct ipam_items {
	struct ipam_item *v;
	size_t n, cap;
};

static struct ipam_item *
ipam_items_add(struct ipam_items *it, const struct ipam_scope *s, const struct cidr *c)
{
	struct ipam_item *x;
	struct cidr l = cidr_last(c);

	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 64;
		it->v = realloc(it->v, it->cap * sizeof(*it->v));
		if (it->v == NULL)
			return NULL;
	}
	x = &it->v[it->n++];
	memset(x, 0, sizeof(*x));
	x->row.scope = s;
	x->row.cidr = *c;
	x->first = cidr_addr_u128(c);
	x->last = cidr_addr_u128(&l);
	return x;
}

static int
ipam_item_cmp(const void *a, const void *b)
{
	const struct ipam_item *x = a, *y = b;

	if (x->row.cidr.family != y->row.cidr.family)
		return x->row.cidr.family < y->row.cidr.family ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->row.cidr.len < y->row.cidr.len ? -1 : x->row.cidr.len > y->row.cidr.len;
}

struct ipam_collect {
	struct ipam_items *it;
	const struct ipam_scope *scope;
	int failed;
};

static int
ipam_collect_alloc(void *arg, struct ipam_alloc *a)
{
	struct ipam_collect *c = arg;
	struct ipam_item *x;
	struct err e;

	if (a->x->kind != IPAM_ALLOC_ALLOCATION)
		return 0;
	if ((x = ipam_items_add(c->it, c->scope, &a->cidr)) == NULL)
		return c->failed = -1;
	x->row.kind = IPAM_ITEM_ALLOCATION;
	x->row.alloc = a;
	x->row.managed = true;
	err_clear(&e);
	if (rules_check(a->pool, a->cidr.len, &a->x->tags, a->x->locale, &e) != 0) {
		x->row.compliance = IPAM_NONCOMPLIANT;
		x->row.rule = e.code;
	}
	return 0;
}

/* The name a report gives an item: the resource's name, or its allocation's pool name. */
static const char *
ipam_item_name(const struct ipam_item *x)
{
	return x->row.kind == IPAM_ITEM_RESOURCE ? x->row.resource->name
	    : x->row.alloc->pool->name;
}

/* Marks overlaps in items sorted by start: each item is compared with the earlier item that
 * reaches furthest (same family), which is enough to find one partner for both sides. */
static void
ipam_items_sweep(struct ipam_items *it)
{
	size_t i, far = 0;
	bool have = false;

	for (i = 0; i < it->n; i++) {
		struct ipam_item *x = &it->v[i], *f;

		if (have && it->v[far].row.cidr.family != x->row.cidr.family)
			have = false;
		if (have && it->v[far].last >= x->first) {
			f = &it->v[far];
			x->row.overlapping = true;
			x->row.overlap_cidr = f->row.cidr;
			x->row.overlap_name = ipam_item_name(f);
			if (!f->row.overlapping) {
				f->row.overlapping = true;
				f->row.overlap_cidr = x->row.cidr;
				f->row.overlap_name = ipam_item_name(x);
			}
		}
		if (!have || x->last > it->v[far].last) {
			far = i;
			have = true;
		}
	}
}

static int
ipam_report_scope(const struct ipam *m, const struct ipam_scope *s, ipam_report_cb cb,
    void *arg)
{
	struct ipam_items it = { NULL, 0, 0 };
	struct ipam_collect col = { &it, s, 0 };
	struct ipam_item *x;
	size_t i;
	int rc = 0;

	for (i = 0; i < m->pools.n && col.failed == 0; i++)
		if (((struct ipam_pool *)m->pools.v[i])->scope == s)
			ipam_alloc_foreach(m->pools.v[i], ipam_collect_alloc, &col);
	for (i = 0; i < m->resources.n && col.failed == 0; i++) {
		struct ipam_resource *r = m->resources.v[i];

		if (r->scope != s)
			continue;
		if ((x = ipam_items_add(&it, s, &r->cidr)) == NULL)
			col.failed = -1;
		else {
			x->row.kind = IPAM_ITEM_RESOURCE;
			x->row.resource = r;
			x->row.compliance = IPAM_COMPLIANCE_UNMANAGED;
		}
	}
	if (col.failed == 0 && it.n > 0) {
		qsort(it.v, it.n, sizeof(*it.v), ipam_item_cmp);
		ipam_items_sweep(&it);
	}
	for (i = 0; i < it.n && rc == 0 && col.failed == 0; i++)
		rc = cb(arg, &it.v[i].row);
	free(it.v);
	return col.failed != 0 ? -1 : rc;
}

int
ipam_report(const struct ipam *m, const struct ipam_scope *scope, ipam_report_cb cb,
    void *arg)
{
	size_t i;
	int rc;

	if (scope != NULL)
		return ipam_report_scope(m, scope, cb, arg);
	for (i = 0; i < m->scopes.n; i++)
		if ((rc = ipam_report_scope(m, m->scopes.v[i], cb, arg)) != 0)
			return rc;
	return 0;
}
