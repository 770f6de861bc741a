/*
 * bmp_rib — the station's route store: which vantage point holds which route of our space
 * (bmp.h "The station" says what is kept, the bounds and the events). Pure: bmp.c feeds it
 * parsed messages and the time; it calls only the subscriber.
 *
 * Shape. Two trees per family: the watch (our prefixes, each with its expected origin) and the
 * routes (a struct bmp_rnode per prefix some vantage point holds, with its list of paths, one
 * per vantage point). Each path is also on its vantage point's list, so a Peer Down or a
 * closed session drops a vantage point's routes without a search. A prefix is tested against
 * the watch before anything else is looked up: a route outside our space costs two tree
 * descents and is forgotten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp_private.h"
#include "log.h"
#include "ptree.h"

static int
fam_index(int family)
{
	return family == CIDR_V6;
}

void
bmp_rib_init(struct bmp_rib *r, size_t max_paths, size_t max_vants)
{
	memset(r, 0, sizeof(*r));
	r->max_paths = max_paths;
	r->max_vants = max_vants;
	r->vants = calloc(max_vants, sizeof(*r->vants));
	if (r->vants == NULL)
		fatal("calloc");
	for (int i = 0; i < 2; i++) {
		r->watch[i] = ptree_new(i ? CIDR_V6 : CIDR_V4, 0);
		r->routes[i] = ptree_new(i ? CIDR_V6 : CIDR_V4, 0);
	}
}

/* The watched prefix a route concerns: the longest watched prefix containing it, else the
 * first watched prefix inside it. NULL when it concerns none. */
static const struct bmp_watch *
watch_of(const struct bmp_rib *r, const struct cidr *c, uint8_t *relation)
{
	struct ptree *t = r->watch[fam_index(c->family)];
	struct cidr found;
	void *v;

	if (ptree_covering(t, c, &found, &v)) {
		*relation = found.len == c->len ? BMP_REL_EXACT : BMP_REL_MORE_SPECIFIC;
		return v;
	}
	if (ptree_overlap(t, c, &found, &v)) {
		*relation = BMP_REL_LESS_SPECIFIC;
		return v;
	}
	return NULL;
}

static uint8_t
verdict(uint8_t relation, const struct bmp_watch *w, bool known, uint32_t origin)
{
	bool ours = w->origin_as == 0 || (known && origin == w->origin_as);

	if (relation == BMP_REL_LESS_SPECIFIC)
		return BMP_VERDICT_LESS_SPECIFIC;
	if (!known && w->origin_as != 0)
		return BMP_VERDICT_ORIGIN_UNKNOWN;
	if (relation == BMP_REL_EXACT)
		return ours ? BMP_VERDICT_OK : BMP_VERDICT_ORIGIN_MISMATCH;
	return ours ? BMP_VERDICT_MORE_SPECIFIC : BMP_VERDICT_MORE_SPECIFIC_OTHER;
}

/* Fills a public route from a path. */
static void
route_of(const struct bmp_rib *r, const struct bmp_path *p, struct bmp_route *out)
{
	const struct bmp_watch *w;

	memset(out, 0, sizeof(*out));
	out->prefix = p->node->prefix;
	out->vantage = p->vant->id;
	out->origin_known = p->origin_known;
	out->origin_as = p->origin_as;
	out->first_as = p->first_as;
	memcpy(out->as_path, p->as_path, sizeof(out->as_path));
	out->since = p->since;
	if ((w = watch_of(r, &out->prefix, &out->relation)) != NULL) {
		out->watched = w->prefix;
		out->expected_origin = w->origin_as;
		out->verdict = verdict(out->relation, w, p->origin_known, p->origin_as);
	}
}

static void
emit(struct bmp_rib *r, uint8_t type, const struct bmp_path *p, uint8_t old_verdict,
    const char *reason)
{
	struct bmp_route route;
	struct bmp_event ev = { .type = type, .route = &route, .old_verdict = old_verdict,
	    .reason = reason };

	if (r->cb == NULL)
		return;
	route_of(r, p, &route);
	ev.router = &p->vant->id.router;
	r->cb(r->cb_arg, &ev);
}

/* Unlinks and frees a path (and its node when it was the last). No event. */
static void
path_free(struct bmp_rib *r, struct bmp_path *p)
{
	struct bmp_rnode *n = p->node;
	struct bmp_path **pp;

	for (pp = &n->paths; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	if (p->vprev)
		p->vprev->vnext = p->vnext;
	else
		p->vant->head = p->vnext;
	if (p->vnext)
		p->vnext->vprev = p->vprev;
	p->vant->npaths--;
	r->npaths--;
	if (n->paths == NULL) {
		(void)ptree_remove(r->routes[fam_index(n->prefix.family)], &n->prefix, NULL);
		free(n);
	}
	free(p);
}

static void
path_remove(struct bmp_rib *r, struct bmp_path *p, const char *reason)
{
	emit(r, BMP_EV_ROUTE_DOWN, p, 0, reason);
	path_free(r, p);
}

static void
vant_drop(struct bmp_rib *r, struct bmp_vant *v, const char *reason)
{
	while (v->head)
		path_remove(r, v->head, reason);
	v->used = false;
	r->nvants--;
}

void
bmp_rib_clear(struct bmp_rib *r)
{
	for (size_t i = 0; i < r->max_vants; i++)
		if (r->vants[i].used) {
			while (r->vants[i].head)
				path_free(r, r->vants[i].head);
		}
	for (int i = 0; i < 2; i++) {
		ptree_free(r->watch[i]);
		ptree_free(r->routes[i]);
	}
	free(r->vants);
	free(r->watches);
	memset(r, 0, sizeof(*r));
}

/* A peer is known by its type, distinguisher and address (RFC 7854 4.2), a vantage point by
 * the peer and the view. The peer AS and BGP ID are kept from the first message, not
 * compared: gobgpd 3.10 sends Loc-RIB withdrawals at shutdown with AS 0 and BGP ID 0. */
static bool
vantage_equal(const struct bmp_vantage *a, const struct bmp_vantage *b)
{
	return a->peer_type == b->peer_type && a->view == b->view &&
	    a->distinguisher == b->distinguisher && cidr_equal(&a->peer_addr, &b->peer_addr);
}

/* The vantage point of a message from o, made on first use. NULL when the table is full. */
static struct bmp_vant *
vant_get(struct bmp_rib *r, const struct bmp_origin *o, const struct bmp_peer *pp)
{
	struct bmp_vantage id = {
		.router = *o->router, .peer_type = pp->type, .view = pp->view,
		.distinguisher = pp->distinguisher, .peer_addr = pp->addr, .peer_as = pp->as,
		.peer_bgp_id = pp->bgp_id,
	};
	struct bmp_vant *free_slot = NULL;

	for (size_t i = 0; i < r->max_vants; i++) {
		struct bmp_vant *v = &r->vants[i];
		if (!v->used) {
			if (free_slot == NULL)
				free_slot = v;
		} else if (v->owner == o->owner && vantage_equal(&v->id, &id)) {
			return v;
		}
	}
	if (free_slot == NULL)
		return NULL;
	snprintf(id.router_name, sizeof(id.router_name), "%s", o->router_name);
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->id = id;
	free_slot->owner = o->owner;
	free_slot->used = true;
	r->nvants++;
	return free_slot;
}

static struct bmp_path *
path_find(struct bmp_rib *r, const struct cidr *c, const struct bmp_vant *v)
{
	void *val;

	if (!ptree_find(r->routes[fam_index(c->family)], c, &val))
		return NULL;
	for (struct bmp_path *p = ((struct bmp_rnode *)val)->paths; p; p = p->next)
		if (p->vant == v)
			return p;
	return NULL;
}

/* The attributes of an announcement, as kept. */
struct attrs {
	bool origin_known;
	uint32_t origin_as, first_as;
	char as_path[BMP_ASPATH_TEXT];
};

static void
attrs_of(const struct bmp_msg *m, struct attrs *a)
{
	const struct bmp_update *u = &m->u.update;

	memset(a, 0, sizeof(*a));
	if (u->as_path_len == 0) {
		a->origin_known = true;         /* a route of the router's own AS */
		a->origin_as = m->peer.as;
		return;
	}
	a->origin_known = u->origin_known;
	a->origin_as = u->origin_as;
	a->first_as = u->first_as;
	if (bmp_aspath_format(u, a->as_path, sizeof(a->as_path)) >= sizeof(a->as_path))
		memcpy(a->as_path + sizeof(a->as_path) - 4, "...", 4);
}

/* Adds or updates v's route for c. Returns false when there was no room. */
static bool
announce(struct bmp_rib *r, struct bmp_vant *v, const struct cidr *c, const struct attrs *a)
{
	struct bmp_path *p = path_find(r, c, v);
	struct bmp_route before;
	void *val;

	if (p != NULL) {
		if (p->origin_known == a->origin_known && p->origin_as == a->origin_as &&
		    strcmp(p->as_path, a->as_path) == 0)
			return true;
		route_of(r, p, &before);
		p->origin_known = a->origin_known;
		p->origin_as = a->origin_as;
		p->first_as = a->first_as;
		memcpy(p->as_path, a->as_path, sizeof(p->as_path));
		p->since = r->now;
		emit(r, BMP_EV_ROUTE_CHANGED, p, before.verdict, NULL);
		return true;
	}
	if (r->npaths >= r->max_paths)
		return false;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	if (!ptree_find(r->routes[fam_index(c->family)], c, &val)) {
		struct bmp_rnode *n = calloc(1, sizeof(*n));
		if (n == NULL)
			fatal("calloc");
		n->prefix = *c;
		(void)ptree_insert(r->routes[fam_index(c->family)], c, n);
		val = n;
	}
	p->node = val;
	p->next = p->node->paths;
	p->node->paths = p;
	p->vant = v;
	p->vnext = v->head;
	if (v->head)
		v->head->vprev = p;
	v->head = p;
	v->npaths++;
	r->npaths++;
	p->origin_known = a->origin_known;
	p->origin_as = a->origin_as;
	p->first_as = a->first_as;
	memcpy(p->as_path, a->as_path, sizeof(p->as_path));
	p->since = r->now;
	emit(r, BMP_EV_ROUTE_UP, p, 0, NULL);
	return true;
}

/* Applies one NLRI span; announce when a is set, else withdraw. Returns the drops. */
static size_t
apply_span(struct bmp_rib *r, const struct bmp_origin *o, const struct bmp_msg *m,
    const struct bmp_span *s, int family, const struct attrs *a, struct bmp_vant **v)
{
	struct bmp_nlri_iter it;
	struct cidr c;
	uint8_t rel;
	size_t dropped = 0;

	if (family == 0 || s->len == 0)
		return 0;
	bmp_nlri_begin(&it, s, family);
	while (bmp_nlri_next(&it, &c)) {
		struct bmp_path *p;

		r->routes_seen++;
		if (watch_of(r, &c, &rel) == NULL) {
			r->routes_outside++;
			continue;
		}
		if (*v == NULL && (*v = vant_get(r, o, &m->peer)) == NULL) {
			dropped++;
			continue;
		}
		if (a != NULL) {
			if (!announce(r, *v, &c, a))
				dropped++;
		} else if ((p = path_find(r, &c, *v)) != NULL) {
			path_remove(r, p, "withdrawn");
		}
	}
	return dropped;
}

size_t
bmp_rib_apply(struct bmp_rib *r, const struct bmp_origin *o, const struct bmp_msg *m)
{
	const struct bmp_update *u = &m->u.update;
	struct bmp_vant *v = NULL;
	struct attrs a;
	size_t dropped = 0;

	if (m->type == BMP_PEER_DOWN) {
		/* Every view of that peer goes down with it. */
		for (size_t i = 0; i < r->max_vants; i++) {
			struct bmp_vant *x = &r->vants[i];
			if (x->used && x->owner == o->owner && x->id.peer_type == m->peer.type &&
			    x->id.distinguisher == m->peer.distinguisher &&
			    cidr_equal(&x->id.peer_addr, &m->peer.addr))
				vant_drop(r, x, "peer-down");
		}
		return 0;
	}
	if (m->type != BMP_ROUTE_MONITORING)
		return 0;
	dropped += apply_span(r, o, m, &u->withdrawn, CIDR_V4, NULL, &v);
	dropped += apply_span(r, o, m, &u->mp_unreach, u->mp_unreach_family, NULL, &v);
	if (u->nlri.len || u->mp_reach.len) {
		attrs_of(m, &a);
		dropped += apply_span(r, o, m, &u->nlri, CIDR_V4, &a, &v);
		dropped += apply_span(r, o, m, &u->mp_reach, u->mp_reach_family, &a, &v);
	}
	r->routes_dropped += dropped;
	return dropped;
}

void
bmp_rib_drop_owner(struct bmp_rib *r, const void *owner, const char *reason)
{
	for (size_t i = 0; i < r->max_vants; i++)
		if (r->vants[i].used && r->vants[i].owner == owner)
			vant_drop(r, &r->vants[i], reason);
}

/* ---- watch ---------------------------------------------------------------------------- */

struct collect {
	struct bmp_rnode **v;
	size_t n, cap;
};

static int
collect_cb(void *arg, const struct cidr *c, void *value)
{
	struct collect *k = arg;

	(void)c;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		if ((k->v = realloc(k->v, k->cap * sizeof(*k->v))) == NULL)
			fatal("realloc");
	}
	k->v[k->n++] = value;
	return 0;
}

int
bmp_rib_set_watch(struct bmp_rib *r, const struct bmp_watch *w, size_t n, struct err *e)
{
	struct ptree *t[2] = { ptree_new(CIDR_V4, 0), ptree_new(CIDR_V6, 0) };
	struct bmp_watch *copy = n ? calloc(n, sizeof(*copy)) : NULL;
	struct collect k = { 0 };
	uint8_t rel;

	if (n && copy == NULL)
		fatal("calloc");
	for (size_t i = 0; i < n; i++) {
		copy[i] = w[i];
		if (ptree_insert(t[fam_index(w[i].prefix.family)], &w[i].prefix, &copy[i]) < 0) {
			char buf[CIDR_STRLEN];
			ptree_free(t[0]);
			ptree_free(t[1]);
			free(copy);
			return err_set(e, "invalid-argument", "%s is watched twice",
			    cidr_format(&w[i].prefix, buf, sizeof(buf)));
		}
	}
	for (int i = 0; i < 2; i++) {
		ptree_free(r->watch[i]);
		r->watch[i] = t[i];
	}
	free(r->watches);
	r->watches = copy;
	r->nwatch = n;
	/* Forget what left the scope (collected first: the walk must not see removals). */
	for (int i = 0; i < 2; i++)
		(void)ptree_walk(r->routes[i], collect_cb, &k);
	for (size_t i = 0; i < k.n; i++) {
		if (watch_of(r, &k.v[i]->prefix, &rel) != NULL)
			continue;
		while (k.v[i]->paths->next)
			path_remove(r, k.v[i]->paths, "unwatched");
		path_remove(r, k.v[i]->paths, "unwatched");     /* frees the node */
	}
	free(k.v);
	return 0;
}

/* ---- visibility ----------------------------------------------------------------------- */

struct vis {
	const struct bmp_rib *r;
	struct bmp_route *out;
	size_t max, n;
};

static int
vis_cb(void *arg, const struct cidr *c, void *value)
{
	struct vis *v = arg;

	(void)c;
	for (const struct bmp_path *p = ((struct bmp_rnode *)value)->paths; p; p = p->next) {
		if (v->n < v->max)
			route_of(v->r, p, &v->out[v->n]);
		v->n++;
	}
	return 0;
}

size_t
bmp_rib_visibility(const struct bmp_rib *r, const struct cidr *q, struct bmp_route *out,
    size_t max)
{
	const struct ptree *t = r->routes[fam_index(q->family)];
	struct vis v = { r, out, max, 0 };
	void *val;

	/* Covering routes first (shortest first), then q and what lies inside it. */
	for (unsigned len = 0; len < q->len; len++) {
		struct cidr c = cidr_make(q->family, q->hi, q->lo, len);
		if (ptree_find(t, &c, &val))
			(void)vis_cb(&v, &c, val);
	}
	(void)ptree_walk_covered(t, q, vis_cb, &v);
	return v.n;
}
