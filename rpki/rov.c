/*
 * rov — RFC 6811 origin validation over rtrlib's pfx_table, with reasons. The contract and the
 * way the deciding VRPs are collected are in rov.h.
 */
#include <stdlib.h>
#include <jansson.h>
#include <string.h>

#include "rov.h"

#include <rtrlib/rtrlib.h>

const char *
rov_state_name(enum rov_state st)
{
	switch (st) {
	case ROV_VALID:
		return "valid";
	case ROV_INVALID:
		return "invalid";
	case ROV_NOT_FOUND:
		break;
	}
	return "not-found";
}

const char *
rov_reason_name(enum rov_reason r)
{
	switch (r) {
	case ROV_REASON_ORIGIN:
		return "origin";
	case ROV_REASON_LENGTH:
		return "length";
	case ROV_REASON_NONE:
		break;
	}
	return NULL;
}

bool
rov_prefix_ok(const struct cidr *p)
{
	return p != NULL && ((p->family == CIDR_V4 && p->len <= 32) ||
	    (p->family == CIDR_V6 && p->len <= 128));
}

static bool
vrp_matches(const struct rov_vrp *v, const struct cidr *p, uint32_t asn)
{
	return v->asn != 0 && v->asn == asn && p->len <= v->max_len;
}

/*
 * Decides the state from every covering VRP (v[0..n)) and keeps the deciding ones: the
 * matching VRPs for valid, all covering VRPs for invalid.
 */
static void
decide(const struct rov_vrp *v, size_t n, const struct cidr *p, uint32_t asn,
    struct rov_result *out)
{
	bool valid = false, same_origin = false;

	out->state = ROV_NOT_FOUND;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (vrp_matches(&v[i], p, asn))
			valid = true;
		else if (v[i].asn != 0 && v[i].asn == asn)
			same_origin = true;
	}
	out->state = valid ? ROV_VALID : ROV_INVALID;
	if (!valid)
		out->reason = same_origin ? ROV_REASON_LENGTH : ROV_REASON_ORIGIN;
	for (size_t i = 0; i < n; i++) {
		bool m = vrp_matches(&v[i], p, asn);
		if (valid && !m)
			continue;
		if (m && v[i].max_len > p->len)
			out->maxlength_warning = true;
		out->nvrps_total++;
		if (out->nvrps < ROV_MAX_VRPS)
			out->vrps[out->nvrps++] = v[i];
	}
}

int
rov_validate_table(struct pfx_table *table, const struct cidr *prefix, uint32_t asn,
    struct rov_result *out, struct err *e)
{
	struct lrtr_ip_addr a;
	struct pfx_record *recs = NULL;
	unsigned int n = 0;
	enum pfxv_state st;

	memset(out, 0, sizeof(*out));
	out->state = ROV_NOT_FOUND;
	if (!rov_prefix_ok(prefix))
		return err_set(e, "invalid-argument", "prefix is not an IPv4 or IPv6 prefix");
	if (table == NULL)
		return 0;
	rov_addr_from_cidr(prefix, &a);
	/* ASN 0 never matches, so rtrlib walks to the deepest covering node and returns every
	 * covering VRP (rov.h); the state is decided below from that list. */
	if (pfx_table_validate_r(table, &recs, &n, 0, &a, prefix->len, &st) != PFX_SUCCESS) {
		free(recs);
		return err_set(e, "rov-failed", "rtrlib could not validate the prefix");
	}
	if (st == BGP_PFXV_STATE_NOT_FOUND)
		n = 0;
	struct rov_vrp *v = n > 0 ? calloc(n, sizeof(*v)) : NULL;
	if (n > 0 && v == NULL) {
		free(recs);
		return err_set(e, "rov-failed", "out of memory");
	}
	for (unsigned i = 0; i < n; i++) {
		v[i].prefix = rov_cidr_from_addr(&recs[i].prefix, recs[i].min_len);
		v[i].max_len = recs[i].max_len;
		v[i].asn = recs[i].asn;
	}
	decide(v, n, prefix, asn, out);
	free(v);
	free(recs);
	return 0;
}

enum rov_state
rov_check_table(struct pfx_table *table, const struct cidr *prefix, uint32_t asn)
{
	struct lrtr_ip_addr a;
	enum pfxv_state st;

	if (table == NULL || !rov_prefix_ok(prefix))
		return ROV_NOT_FOUND;
	rov_addr_from_cidr(prefix, &a);
	if (pfx_table_validate(table, asn, &a, prefix->len, &st) != PFX_SUCCESS)
		return ROV_NOT_FOUND;
	switch (st) {
	case BGP_PFXV_STATE_VALID:
		return ROV_VALID;
	case BGP_PFXV_STATE_INVALID:
		return ROV_INVALID;
	case BGP_PFXV_STATE_NOT_FOUND:
		break;
	}
	return ROV_NOT_FOUND;
}

/* ---- the look-up index ---------------------------------------------------------------
 *
 * A snapshot of the table as one sorted array per family: entries ordered by (address,
 * length, asn, max_len), each with `parent`, the index of the last entry of the nearest
 * strictly covering prefix (-1: none), and `bucket`, the first entry of each /16 block (top
 * 16 address bits). The deepest VRP covering P is the last entry <= P in that order or one of
 * its ancestors: an entry between a covering W and P lies inside W (canonical prefixes), so
 * W is on its parent chain. Every covering VRP is then on the chain from the deepest one.
 * A look-up is one bucket read, a binary search inside the block and a short chain walk.
 */
struct rov_ient {
	struct rov_vrp v;
	int32_t parent;
};

struct rov_ifam {
	struct rov_ient *e;
	size_t n, cap;
	uint32_t bucket[(1u << 16) + 1];
};

struct rov_index {
	struct rov_ifam fam[2];         /* 0: IPv4, 1: IPv6 */
	bool oom;
};

static int
key_cmp(const struct cidr *a, const struct cidr *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (int)a->len - (int)b->len;
}

static int
ient_cmp(const void *pa, const void *pb)
{
	const struct rov_vrp *a = &((const struct rov_ient *)pa)->v;
	const struct rov_vrp *b = &((const struct rov_ient *)pb)->v;
	int c = key_cmp(&a->prefix, &b->prefix);

	if (c != 0)
		return c;
	if (a->asn != b->asn)
		return a->asn < b->asn ? -1 : 1;
	return (int)a->max_len - (int)b->max_len;
}

static void
index_add(const struct pfx_record *r, void *data)
{
	struct rov_index *ix = data;
	struct rov_ifam *f = &ix->fam[r->prefix.ver == LRTR_IPV6];

	if (ix->oom)
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		struct rov_ient *e = realloc(f->e, cap * sizeof(*e));
		if (e == NULL) {
			ix->oom = true;
			return;
		}
		f->e = e;
		f->cap = cap;
	}
	f->e[f->n++] = (struct rov_ient){.v = {.prefix = rov_cidr_from_addr(&r->prefix,
	    r->min_len), .max_len = r->max_len, .asn = r->asn}, .parent = -1};
}

/* Sorts, links parents (a stack of open prefixes) and fills the buckets. */
static void
index_finish(struct rov_ifam *f)
{
	int32_t stack[130];     /* open prefixes, at most one per length */
	size_t sp = 0, b = 0;

	if (f->n > 1)
		qsort(f->e, f->n, sizeof(*f->e), ient_cmp);
	for (size_t i = 0; i < f->n; i++) {
		struct rov_ient *x = &f->e[i];
		if (i > 0 && cidr_equal(&f->e[i - 1].v.prefix, &x->v.prefix)) {
			x->parent = f->e[i - 1].parent;
			stack[sp - 1] = (int32_t)i;     /* the group's last entry so far */
			continue;
		}
		while (sp > 0 && !cidr_contains(&f->e[stack[sp - 1]].v.prefix, &x->v.prefix))
			sp--;
		x->parent = sp > 0 ? stack[sp - 1] : -1;
		stack[sp++] = (int32_t)i;
	}
	for (uint32_t top = 0; top <= (1u << 16); top++) {
		while (b < f->n && (f->e[b].v.prefix.hi >> 48) < top)
			b++;
		f->bucket[top] = (uint32_t)b;
	}
}

struct rov_index *
rov_index_build(struct pfx_table *table, uint64_t *n4, uint64_t *n6)
{
	struct rov_index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	pfx_table_for_each_ipv4_record(table, index_add, ix);
	pfx_table_for_each_ipv6_record(table, index_add, ix);
	if (ix->oom || (ix->fam[0].n + ix->fam[1].n > 0 && ix->fam[0].n + ix->fam[1].n >
	    (size_t)INT32_MAX)) {
		rov_index_free(ix);
		return NULL;
	}
	index_finish(&ix->fam[0]);
	index_finish(&ix->fam[1]);
	*n4 = ix->fam[0].n;
	*n6 = ix->fam[1].n;
	return ix;
}

void
rov_index_free(struct rov_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->fam[0].e);
	free(ix->fam[1].e);
	free(ix);
}

/* The last entry of the deepest VRP prefix covering p, or -1. */
static int32_t
index_deepest(const struct rov_ifam *f, const struct cidr *p)
{
	uint32_t top = (uint32_t)(p->hi >> 48), lo = f->bucket[top], hi = f->bucket[top + 1];
	int32_t j;

	while (lo < hi) {           /* first entry > p in [lo, hi) */
		uint32_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&f->e[mid].v.prefix, p) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	j = (int32_t)lo - 1;
	while (j >= 0 && !cidr_contains(&f->e[j].v.prefix, p))
		j = f->e[j].parent;
	return j;
}

#define ROV_COLLECT_MAX 256

int
rov_validate_index(const struct rov_index *ix, const struct cidr *p, uint32_t asn,
    struct rov_result *out)
{
	const struct rov_ifam *f = &ix->fam[p->family == CIDR_V6];
	struct rov_vrp v[ROV_COLLECT_MAX];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->state = ROV_NOT_FOUND;
	if (!rov_prefix_ok(p))
		return -1;
	for (int32_t j = index_deepest(f, p); j >= 0; j = f->e[j].parent) {
		/* the whole group of equal prefixes ending at j */
		for (int32_t k = j; k >= 0 && cidr_equal(&f->e[k].v.prefix, &f->e[j].v.prefix); k--) {
			if (n == ROV_COLLECT_MAX)
				return -1;
			v[n++] = f->e[k].v;
		}
	}
	decide(v, n, p, asn, out);
	return 0;
}

enum rov_state
rov_check_index(const struct rov_index *ix, const struct cidr *p, uint32_t asn)
{
	const struct rov_ifam *f = &ix->fam[p->family == CIDR_V6];
	bool covered = false;

	if (!rov_prefix_ok(p))
		return ROV_NOT_FOUND;
	for (int32_t j = index_deepest(f, p); j >= 0; j = f->e[j].parent) {
		covered = true;
		for (int32_t k = j; k >= 0 && cidr_equal(&f->e[k].v.prefix, &f->e[j].v.prefix); k--)
			if (vrp_matches(&f->e[k].v, p, asn))
				return ROV_VALID;
	}
	return covered ? ROV_INVALID : ROV_NOT_FOUND;
}

json_t *
rov_result_to_json(const struct cidr *prefix, uint32_t asn, const struct rov_result *r)
{
	char buf[CIDR_STRLEN];
	const char *reason = r->state == ROV_INVALID ? rov_reason_name(r->reason) : NULL;
	json_t *vrps = json_array(), *o;

	if (vrps == NULL)
		return NULL;
	for (size_t i = 0; i < r->nvrps; i++)
		json_array_append_new(vrps, json_pack("{s:s, s:i, s:I}",
		    "prefix", cidr_format(&r->vrps[i].prefix, buf, sizeof(buf)),
		    "max_length", (int)r->vrps[i].max_len, "asn", (json_int_t)r->vrps[i].asn));
	o = json_pack("{s:s, s:I, s:s, s:o, s:b, s:b, s:o, s:I}",
	    "prefix", cidr_format(prefix, buf, sizeof(buf)), "asn", (json_int_t)asn,
	    "state", rov_state_name(r->state),
	    "reason", reason != NULL ? json_string(reason) : json_null(),
	    "maxlength_warning", r->maxlength_warning, "stale", r->stale,
	    "vrps", vrps, "vrps_total", (json_int_t)r->nvrps_total);
	return o;
}

void
rov_addr_from_cidr(const struct cidr *c, struct lrtr_ip_addr *a)
{
	if (c->family == CIDR_V4) {
		a->ver = LRTR_IPV4;
		a->u.addr4.addr = (uint32_t)(c->hi >> 32);
	} else {
		a->ver = LRTR_IPV6;
		a->u.addr6.addr[0] = (uint32_t)(c->hi >> 32);
		a->u.addr6.addr[1] = (uint32_t)c->hi;
		a->u.addr6.addr[2] = (uint32_t)(c->lo >> 32);
		a->u.addr6.addr[3] = (uint32_t)c->lo;
	}
}

/* Host bits beyond len are cleared (cidr_make), whatever rtrlib handed over. */
struct cidr
rov_cidr_from_addr(const struct lrtr_ip_addr *a, unsigned len)
{
	if (a->ver == LRTR_IPV4)
		return cidr_make(CIDR_V4, (uint64_t)a->u.addr4.addr << 32, 0, len > 32 ? 32 : len);
	return cidr_make(CIDR_V6,
	    ((uint64_t)a->u.addr6.addr[0] << 32) | a->u.addr6.addr[1],
	    ((uint64_t)a->u.addr6.addr[2] << 32) | a->u.addr6.addr[3], len > 128 ? 128 : len);
}
