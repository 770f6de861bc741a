/*
 * lifecycle_bmp — the BMP monitor (contract and rules in lifecycle_bmp.h).
 *
 * Data: one struct lbw per watched prefix (heap, found through a ptree per family), each with
 * its standing alerts, its tracker and the routers holding it; a table of routers (address ->
 * bit); the waiters of require_visibility. Three entry points change them: the controller's
 * change callback (lbm_on_change: notes and schedules, never writes), the station's event
 * callback (lbm_on_bmp: marks dirty), and the timers (lbm_flush: rebuild the watch set,
 * evaluate what is dirty; lbm_tick: deadlines). Only the timers write events.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle_bmp.h"
#include "log.h"
#include "obs.h"
#include "ptree.h"
#include "rpki.h"

struct lbw_track {
	uint8_t kind;                   /* 0 none, 1 advertise, 2 withdraw */
	bool applied;                   /* the lifecycle reached the goal state */
	double t0, first, all;          /* first / all: seconds after t0, < 0 not yet */
	uint64_t at_start;              /* withdraw: routers holding it at t0 */
};
enum { TRK_NONE, TRK_ADV, TRK_WD };

struct lbw {
	struct cidr cidr;
	uint32_t origin;
	uint32_t allow[LIFECYCLE_CTL_MAX_ALLOW];
	size_t nallow;
	enum lifecycle_state state;
	bool seen, dirty;
	double down_since;              /* it stopped wanting its route then; 0: it wants it */
	uint64_t held;                  /* routers holding it from our origin */
	uint64_t was_held;              /* routers that held it while advertised */
	struct lbw_track trk;
	struct lifecycle_bmp_alert *alerts;
	size_t nalerts, capalerts;
};

struct lbm_router {
	struct cidr addr;
	unsigned sessions;              /* its open BMP sessions: a reconnect may overlap the old one */
};

struct lbm_waiter {
	struct lbm_waiter *next;
	lifecycle_visible_done_fn done;
	void *op;
	size_t n, left;
	struct cidr *cidrs;
	struct lifecycle_visible *v;
	bool *resolved;
	double t0;
};

struct lifecycle_bmp {
	struct ev_loop *loop;
	struct bmp_station *st;
	struct obs *obs;
	struct rtr *rtr;
	struct lifecycle_ctl *lc;
	unsigned require, timeout;
	uint32_t transits[LIFECYCLE_BMP_MAX_TRANSITS];
	size_t ntransits;
	struct ptree *tree[2];
	struct lbw **w;
	size_t nw, capw;
	struct lbm_router routers[LIFECYCLE_BMP_MAX_ROUTERS];
	size_t nrouters;
	bool rebuild, all_dirty;
	struct cidr *dirty;
	size_t ndirty, capdirty;
	struct bmp_route *buf;
	size_t capbuf;
	struct lbm_waiter *waiters;
	size_t nstanding;
	struct lifecycle_bmp_stats stats;
	ev_timer flush, tick;
};

static const char *const lbm_kinds[LIFECYCLE_BMP_KINDS] = { "hijack", "unexpected-transit",
	"rpki-invalid", "visibility-lost", "still-visible" };

const char *
lifecycle_bmp_kind_name(int kind)
{
	return kind >= 0 && kind < LIFECYCLE_BMP_KINDS ? lbm_kinds[kind] : "?";
}

static int
lbm_fam(int family)
{
	return family == CIDR_V6;
}

static struct lbw *
lbm_find(const struct lifecycle_bmp *m, const struct cidr *c)
{
	void *v;

	return ptree_find(m->tree[lbm_fam(c->family)], c, &v) ? v : NULL;
}

static unsigned
lbm_popcount(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

static uint64_t
lbm_up_mask(const struct lifecycle_bmp *m)
{
	uint64_t up = 0;

	for (size_t i = 0; i < m->nrouters; i++)
		if (m->routers[i].sessions > 0)
			up |= 1ull << i;
	return up;
}

/* The router's bit index, made on first sight; -1 when the table is full. */
static int
lbm_router(struct lifecycle_bmp *m, const struct cidr *addr)
{
	for (size_t i = 0; i < m->nrouters; i++)
		if (cidr_equal(&m->routers[i].addr, addr))
			return (int)i;
	if (m->nrouters == LIFECYCLE_BMP_MAX_ROUTERS) {
		m->stats.routers_dropped++;
		return -1;
	}
	m->routers[m->nrouters].addr = *addr;
	m->routers[m->nrouters].sessions = 0;
	return (int)m->nrouters++;
}

static void
lbm_schedule(struct lifecycle_bmp *m)
{
	if (!ev_is_active(&m->flush))
		ev_timer_start(m->loop, &m->flush);
}

static void
lbm_mark(struct lifecycle_bmp *m, const struct cidr *c)
{
	struct lbw *w = lbm_find(m, c);

	lbm_schedule(m);
	if (w == NULL || w->dirty)
		return;
	w->dirty = true;
	if (m->ndirty == m->capdirty) {
		m->capdirty = m->capdirty ? 2 * m->capdirty : 64;
		if ((m->dirty = realloc(m->dirty, m->capdirty * sizeof(*m->dirty))) == NULL)
			fatal("realloc");
	}
	m->dirty[m->ndirty++] = *c;
}

static bool
lbm_watched_state(enum lifecycle_state st)
{
	return st == LIFECYCLE_PROVISIONED || st == LIFECYCLE_PENDING_ADVERTISE ||
	    st == LIFECYCLE_ADVERTISED || st == LIFECYCLE_PENDING_WITHDRAW;
}

/* ---- alerts ----------------------------------------------------------------------------- */

static json_t *
lbm_vantage_json(const struct bmp_vantage *v)
{
	char r[CIDR_STRLEN], p[CIDR_STRLEN];

	return json_pack("{s:s, s:s, s:s, s:I, s:s}", "router",
	    cidr_format_addr(&v->router, r, sizeof(r)), "router_name", v->router_name,
	    "peer", cidr_format_addr(&v->peer_addr, p, sizeof(p)), "peer_as",
	    (json_int_t)v->peer_as, "view", bmp_view_name(v->view));
}

static void
lbm_alert_event(struct lifecycle_bmp *m, const struct lbw *w, const struct lifecycle_bmp_alert *a,
    bool raised)
{
	char pb[CIDR_STRLEN], wb[CIDR_STRLEN], rb[CIDR_STRLEN], *after;
	json_t *j;
	struct err e = { 0 };

	cidr_format(&a->prefix, pb, sizeof(pb));
	cidr_format(&w->cidr, wb, sizeof(wb));
	cidr_format_addr(&a->vantage.router, rb, sizeof(rb));
	j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:s, s:I}", "alert",
	    lbm_kinds[a->kind], "prefix", pb, "watched", wb, "asn", (json_int_t)a->asn,
	    "expected_origin", (json_int_t)w->origin, "vantage", lbm_vantage_json(&a->vantage),
	    "as_path", a->as_path, "routers_holding", (json_int_t)lbm_popcount(w->held));
	after = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (raised) {
		m->stats.raised[a->kind]++;
		log_warnx("bmp alert %s: %s AS%u (ours: %s from AS%u) at router %s %s peer AS%u "
		    "%s, path \"%s\"", lbm_kinds[a->kind], pb, a->asn, wb, w->origin, rb,
		    a->vantage.router_name, a->vantage.peer_as, bmp_view_name(a->vantage.view),
		    a->as_path);
	} else {
		m->stats.cleared[a->kind]++;
		log_info("bmp alert %s cleared: %s AS%u (ours: %s)", lbm_kinds[a->kind], pb,
		    a->asn, wb);
	}
	if (m->obs != NULL && obs_alert(m->obs, raised ? "alert-raised" : "alert-cleared", "bmp",
	    &w->cidr, after, &e) < 0)
		log_warnx("bmp alert event: %s", e.msg);
	free(after);
}

/* The alert (kind, prefix, asn, router for visibility-lost) is wanted now: kept when it
 * stands, raised when it does not. */
static void
lbm_want(struct lifecycle_bmp *m, struct lbw *w, uint8_t kind, const struct cidr *prefix,
    uint32_t asn, const struct bmp_vantage *v, const char *as_path)
{
	struct lifecycle_bmp_alert *a;

	for (size_t i = 0; i < w->nalerts; i++) {
		a = &w->alerts[i];
		if (a->kind == kind && a->asn == asn && cidr_equal(&a->prefix, prefix) &&
		    (kind != LIFECYCLE_BMP_VIS_LOST || cidr_equal(&a->vantage.router, &v->router))) {
			a->keep = true;
			return;
		}
	}
	if (m->nstanding >= LIFECYCLE_BMP_MAX_ALERTS) {
		if (m->stats.alerts_dropped++ == 0)
			log_warnx("bmp: %d alerts stand; further ones are counted, not raised",
			    LIFECYCLE_BMP_MAX_ALERTS);
		return;
	}
	if (w->nalerts == w->capalerts) {
		w->capalerts = w->capalerts ? 2 * w->capalerts : 4;
		if ((w->alerts = realloc(w->alerts, w->capalerts * sizeof(*w->alerts))) == NULL)
			fatal("realloc");
	}
	a = &w->alerts[w->nalerts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->prefix = *prefix;
	a->watched = w->cidr;
	a->asn = asn;
	a->vantage = *v;
	snprintf(a->as_path, sizeof(a->as_path), "%s", as_path ? as_path : "");
	a->since = ev_now(m->loop);
	a->keep = true;
	m->nstanding++;
	m->stats.standing[kind]++;
	lbm_alert_event(m, w, a, true);
}

/* Clears the alerts not wanted in this evaluation (all of them with everything false). */
static void
lbm_sweep(struct lifecycle_bmp *m, struct lbw *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->nalerts; i++) {
		struct lifecycle_bmp_alert *a = &w->alerts[i];

		if (a->keep) {
			a->keep = false;
			w->alerts[kept++] = *a;
			continue;
		}
		lbm_alert_event(m, w, a, false);
		m->nstanding--;
		m->stats.standing[a->kind]--;
	}
	w->nalerts = kept;
}

/* The AS before the origin in an AS path text, origin prepends skipped: 1 and *asn, 0 when
 * the path is the origin alone, -1 when it cannot be told (cut text, a set before it). */
static int
lbm_neighbour_of_origin(const char *path, uint32_t origin, uint32_t *asn)
{
	const char *end = path + strlen(path);

	if (end - path >= 3 && strcmp(end - 3, "...") == 0)
		return -1;
	while (end > path) {
		const char *b = end;
		char tok[24];

		while (b > path && b[-1] != ' ')
			b--;
		if ((size_t)(end - b) >= sizeof(tok))
			return -1;
		memcpy(tok, b, (size_t)(end - b));
		tok[end - b] = '\0';
		end = b > path ? b - 1 : b;
		if (tok[0] == '\0')
			continue;
		if (tok[0] < '0' || tok[0] > '9')
			return -1;
		*asn = (uint32_t)strtoul(tok, NULL, 10);
		if (*asn != origin)
			return 1;
	}
	return 0;
}

static bool
lbm_listed(const uint32_t *v, size_t n, uint32_t asn)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == asn)
			return true;
	return false;
}

/* ---- confirmation ----------------------------------------------------------------------- */

static void
lbm_track_record(struct lifecycle_bmp *m, struct lbw *w, double now)
{
	bool adv = w->trk.kind == TRK_ADV;
	json_t *j = json_pack("{s:s, s:o, s:o, s:b, s:I, s:I, s:f, s:I}",
	    "after", adv ? "advertise" : "withdraw",
	    "first_s", w->trk.first >= 0 ? json_real(w->trk.first) : json_null(),
	    "all_s", w->trk.all >= 0 ? json_real(w->trk.all) : json_null(),
	    "confirmed", w->trk.all >= 0, "vantages", (json_int_t)lbm_popcount(w->held),
	    "routers_up", (json_int_t)lbm_popcount(lbm_up_mask(m)), "waited_s", now - w->trk.t0,
	    "timeout_s", (json_int_t)m->timeout);
	char b[CIDR_STRLEN];

	log_info("bmp: %s %s: first vantage point after %.3f s, all after %.3f s (%u of %u)",
	    cidr_format(&w->cidr, b, sizeof(b)), adv ? "advertised" : "withdrawn", w->trk.first,
	    w->trk.all, lbm_popcount(w->held), lbm_popcount(lbm_up_mask(m)));
	if (m->lc != NULL)
		lifecycle_ctl_note(m->lc, &w->cidr, "visibility", adv ? "visibility_advertise" :
		    "visibility_withdraw", j);
	json_decref(j);
	m->stats.records++;
	w->trk.kind = TRK_NONE;
}

/* since[r]: when router r got the route (station time). */
static void
lbm_track(struct lifecycle_bmp *m, struct lbw *w, const double *since, double now)
{
	struct lbw_track *t = &w->trk;
	uint64_t up = lbm_up_mask(m);

	if (t->kind == TRK_ADV && w->held != 0) {
		double lo = 0, hi = 0;
		bool any = false;

		for (size_t r = 0; r < m->nrouters; r++) {
			if (!(w->held >> r & 1))
				continue;
			lo = any && lo < since[r] ? lo : since[r];
			hi = any && hi > since[r] ? hi : since[r];
			any = true;
		}
		t->first = lo > t->t0 ? lo - t->t0 : 0;
		if ((w->held & up) == up)
			t->all = hi > t->t0 ? hi - t->t0 : 0;
	} else if (t->kind == TRK_WD) {
		if (t->first < 0 && (t->at_start & ~w->held) != 0)
			t->first = now - t->t0;
		if (w->held == 0) {
			if (t->first < 0)
				t->first = now - t->t0;
			t->all = now - t->t0;
		}
	}
	if (t->kind != TRK_NONE && t->applied && (t->all >= 0 || now - t->t0 >= m->timeout))
		lbm_track_record(m, w, now);
}

static void
lbm_track_start(struct lbw *w, uint8_t kind, double now)
{
	w->trk = (struct lbw_track){ kind, false, now, -1, -1, w->held };
}

/* Resolves waiters' items for w; a waiter with nothing left (or, with expire, every waiter
 * past its deadline) is answered. */
static void
lbm_waiters(struct lifecycle_bmp *m, const struct lbw *w, bool expire, double now)
{
	struct lbm_waiter **pp = &m->waiters, *done = NULL;

	while (*pp != NULL) {
		struct lbm_waiter *q = *pp;

		for (size_t i = 0; i < q->n; i++) {
			const struct lbw *x = w;

			if (q->resolved[i])
				continue;
			if (x == NULL || !cidr_equal(&x->cidr, &q->cidrs[i]))
				x = w == NULL ? lbm_find(m, &q->cidrs[i]) : NULL;
			if (x == NULL && !expire)
				continue;
			q->v[i].holding = x ? lbm_popcount(x->held) : 0;
			q->v[i].waited = now - q->t0;
			q->v[i].visible = q->v[i].holding >= q->v[i].required;
			if (q->v[i].visible || (expire && now - q->t0 >= m->timeout)) {
				q->resolved[i] = true;
				q->left--;
			}
		}
		if (q->left > 0) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		q->next = done;
		done = q;
	}
	/* answered after the walk: the answer may start new work */
	while (done != NULL) {
		struct lbm_waiter *q = done;

		done = q->next;
		m->stats.waiting--;
		q->done(q->op, q->v);
		free(q->cidrs);
		free(q->v);
		free(q->resolved);
		free(q);
	}
}

void
lifecycle_bmp_wait(void *arg, const struct cidr *cidrs, size_t n,
    lifecycle_visible_done_fn done, void *op)
{
	struct lifecycle_bmp *m = arg;
	struct lbm_waiter *q = calloc(1, sizeof(*q));

	if (q == NULL || (q->cidrs = calloc(n, sizeof(*q->cidrs))) == NULL ||
	    (q->v = calloc(n, sizeof(*q->v))) == NULL ||
	    (q->resolved = calloc(n, sizeof(*q->resolved))) == NULL)
		fatal("calloc");
	memcpy(q->cidrs, cidrs, n * sizeof(*cidrs));
	q->n = q->left = n;
	q->done = done;
	q->op = op;
	q->t0 = ev_now(m->loop);
	for (size_t i = 0; i < n; i++)
		q->v[i].required = m->require;
	q->next = m->waiters;
	m->waiters = q;
	m->stats.waiting++;
	lbm_waiters(m, NULL, false, q->t0);
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* The kept routes that concern w (grows the buffer to hold them all). */
static size_t
lbm_routes(struct lifecycle_bmp *m, const struct lbw *w)
{
	size_t n = bmp_visibility(m->st, &w->cidr, m->buf, m->capbuf);

	if (n > m->capbuf) {
		m->capbuf = n + 64;
		if ((m->buf = realloc(m->buf, m->capbuf * sizeof(*m->buf))) == NULL)
			fatal("realloc");
		n = bmp_visibility(m->st, &w->cidr, m->buf, m->capbuf);
	}
	return n < m->capbuf ? n : m->capbuf;
}

static void
lbm_judge_route(struct lifecycle_bmp *m, struct lbw *w, const struct bmp_route *r)
{
	uint32_t nb;
	bool stale;

	if ((r->verdict == BMP_VERDICT_ORIGIN_MISMATCH ||
	    r->verdict == BMP_VERDICT_MORE_SPECIFIC_OTHER) &&
	    !lbm_listed(w->allow, w->nallow, r->origin_as))
		lbm_want(m, w, LIFECYCLE_BMP_HIJACK, &r->prefix, r->origin_as, &r->vantage,
		    r->as_path);
	if (m->ntransits > 0 && (r->verdict == BMP_VERDICT_OK ||
	    r->verdict == BMP_VERDICT_MORE_SPECIFIC) &&
	    lbm_neighbour_of_origin(r->as_path, r->origin_as, &nb) == 1 &&
	    !lbm_listed(m->transits, m->ntransits, nb))
		lbm_want(m, w, LIFECYCLE_BMP_TRANSIT, &r->prefix, nb, &r->vantage, r->as_path);
	if (m->rtr != NULL && r->relation != BMP_REL_LESS_SPECIFIC && r->origin_known &&
	    rpki_check(m->rtr, &r->prefix, r->origin_as, &stale) == ROV_INVALID && !stale)
		lbm_want(m, w, LIFECYCLE_BMP_RPKI_INVALID, &r->prefix, r->origin_as, &r->vantage,
		    r->as_path);
}

/* Re-derives w's routers, alerts, tracker and waiters from the station's routes. */
static void
lbm_eval(struct lifecycle_bmp *m, struct lbw *w, double now)
{
	double since[LIFECYCLE_BMP_MAX_ROUTERS] = { 0 };
	struct bmp_vantage first_holder = { 0 };
	size_t n = lbm_routes(m, w);
	uint64_t held = 0, up;

	w->dirty = false;
	for (size_t i = 0; i < n; i++) {
		const struct bmp_route *r = &m->buf[i];
		int ri;

		if (!cidr_equal(&r->watched, &w->cidr))
			continue;
		lbm_judge_route(m, w, r);
		if (r->relation != BMP_REL_EXACT || r->verdict != BMP_VERDICT_OK ||
		    (ri = lbm_router(m, &r->vantage.router)) < 0)
			continue;
		if (held == 0)
			first_holder = r->vantage;
		if (!(held >> ri & 1) || r->since < since[ri])
			since[ri] = r->since;
		held |= 1ull << ri;
	}
	up = lbm_up_mask(m);
	w->held = held & up;
	if (w->state == LIFECYCLE_ADVERTISED) {
		uint64_t lost = w->was_held & ~w->held & up;

		for (size_t r = 0; r < m->nrouters; r++) {
			struct bmp_vantage v = { 0 };

			if (!(lost >> r & 1))
				continue;
			v.router = m->routers[r].addr;
			lbm_want(m, w, LIFECYCLE_BMP_VIS_LOST, &w->cidr, w->origin, &v, NULL);
		}
		w->was_held = (w->was_held | w->held) & up;
	} else {
		w->was_held = 0;
	}
	if (w->down_since > 0 && now - w->down_since >= m->timeout && w->held != 0)
		lbm_want(m, w, LIFECYCLE_BMP_STILL_VISIBLE, &w->cidr, w->origin, &first_holder,
		    NULL);
	lbm_sweep(m, w);
	lbm_track(m, w, since, now);
	lbm_waiters(m, w, false, now);
}

/* ---- the watch set ---------------------------------------------------------------------- */

static void
lbw_free(struct lifecycle_bmp *m, struct lbw *w)
{
	for (size_t i = 0; i < w->nalerts; i++)
		w->alerts[i].keep = false;
	lbm_sweep(m, w);                /* "cleared": it is not ours to watch any more */
	free(w->alerts);
	free(w);
}

static void
lbm_rebuild(struct lifecycle_bmp *m)
{
	size_t n = m->lc ? lifecycle_ctl_count(m->lc) : 0, kept = 0;
	struct bmp_watch *set;
	double now = ev_now(m->loop);
	struct err e = { 0 };

	m->rebuild = false;
	for (size_t i = 0; i < m->nw; i++)
		m->w[i]->seen = false;
	for (size_t i = 0; i < n; i++) {
		const struct lifecycle_prefix *p = lifecycle_ctl_at(m->lc, i);
		struct lbw *w;

		if (!lbm_watched_state(p->state))
			continue;
		if ((w = lbm_find(m, &p->cidr)) == NULL) {
			if ((w = calloc(1, sizeof(*w))) == NULL)
				fatal("calloc");
			w->cidr = p->cidr;
			w->trk.kind = TRK_NONE;
			w->down_since = lifecycle_state_wants_route(p->state) ? 0 : now;
			if (ptree_insert(m->tree[lbm_fam(p->cidr.family)], &p->cidr, w) < 0)
				fatal("ptree_insert");
			if (m->nw == m->capw) {
				m->capw = m->capw ? 2 * m->capw : 64;
				if ((m->w = realloc(m->w, m->capw * sizeof(*m->w))) == NULL)
					fatal("realloc");
			}
			m->w[m->nw++] = w;
		}
		w->seen = true;
		w->state = p->state;
		w->origin = p->origin_asn;
		w->nallow = p->n_allow;
		memcpy(w->allow, p->allow_origin, p->n_allow * sizeof(*p->allow_origin));
	}
	if ((set = calloc(m->nw ? m->nw : 1, sizeof(*set))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < m->nw; i++) {
		struct lbw *w = m->w[i];

		if (!w->seen) {
			(void)ptree_remove(m->tree[lbm_fam(w->cidr.family)], &w->cidr, NULL);
			lbw_free(m, w);
			continue;
		}
		set[kept].prefix = w->cidr;
		set[kept].origin_as = w->origin;
		m->w[kept++] = w;
	}
	m->nw = kept;
	if (bmp_set_watch(m->st, set, kept, &e) < 0)
		log_error("bmp: watch set: %s", e.msg);
	free(set);
	m->all_dirty = true;
}

static void
lbm_flush_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lifecycle_bmp *m = t->data;
	double now = ev_now(loop);

	(void)revents;
	if (m->rebuild)
		lbm_rebuild(m);
	if (m->all_dirty) {
		m->all_dirty = false;
		m->ndirty = 0;
		for (size_t i = 0; i < m->nw; i++)
			lbm_eval(m, m->w[i], now);
		return;
	}
	for (size_t i = 0; i < m->ndirty; i++) {
		struct lbw *w = lbm_find(m, &m->dirty[i]);

		if (w != NULL && w->dirty)
			lbm_eval(m, w, now);
	}
	m->ndirty = 0;
}

/* Deadlines: trackers and withdrawn-but-visible prefixes are evaluated again, waiters past
 * the timeout answered. */
static void
lbm_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lifecycle_bmp *m = t->data;
	double now = ev_now(loop);

	(void)revents;
	for (size_t i = 0; i < m->nw; i++) {
		struct lbw *w = m->w[i];

		if (w->trk.kind != TRK_NONE || (w->down_since > 0 && w->held != 0))
			lbm_mark(m, &w->cidr);
	}
	lbm_waiters(m, NULL, true, now);
}

/* ---- subscriptions ---------------------------------------------------------------------- */

static void
lbm_on_bmp(void *arg, const struct bmp_event *ev)
{
	struct lifecycle_bmp *m = arg;
	int r;

	switch (ev->type) {
	case BMP_EV_SESSION_UP:
	case BMP_EV_SESSION_DOWN:
		/* counted, not set: the new session of a reconnecting router may come up before
		 * the old one's close is seen, and that close must not mark the router down */
		if ((r = lbm_router(m, ev->router)) >= 0) {
			if (ev->type == BMP_EV_SESSION_UP)
				m->routers[r].sessions++;
			else if (m->routers[r].sessions > 0)
				m->routers[r].sessions--;
		}
		m->all_dirty = true;
		lbm_schedule(m);
		break;
	default:
		lbm_mark(m, &ev->route->watched);
		break;
	}
}

/* The controller's change callback: inside its transaction, so only notes. */
static void
lbm_on_change(void *arg, const struct lifecycle_prefix *p, enum lifecycle_state before)
{
	struct lifecycle_bmp *m = arg;
	double now = ev_now(m->loop);
	struct lbw *w;

	lbm_schedule(m);
	if (p == NULL || (w = lbm_find(m, &p->cidr)) == NULL || !lbm_watched_state(p->state)) {
		m->rebuild = true;
		return;
	}
	w->state = p->state;
	switch (p->state) {
	case LIFECYCLE_PENDING_ADVERTISE:
		lbm_track_start(w, TRK_ADV, now);
		w->down_since = 0;
		break;
	case LIFECYCLE_ADVERTISED:
		if (before == LIFECYCLE_PENDING_WITHDRAW)       /* a withdraw failed */
			w->trk.kind = TRK_NONE;
		w->trk.applied = w->trk.kind == TRK_ADV;
		w->down_since = 0;
		break;
	case LIFECYCLE_PENDING_WITHDRAW:
		if (p->drain_until == 0) {
			lbm_track_start(w, TRK_WD, now);
			w->down_since = now;
		}
		break;
	case LIFECYCLE_PROVISIONED:
		if (before == LIFECYCLE_PENDING_WITHDRAW) {
			if (w->trk.kind != TRK_WD)              /* the end of a drain */
				lbm_track_start(w, TRK_WD, now);
			w->trk.applied = true;
		} else {
			w->trk.kind = TRK_NONE;                 /* an advertise failed */
		}
		if (w->down_since == 0)
			w->down_since = now;
		break;
	default:
		break;
	}
	lbm_mark(m, &w->cidr);
}

/* ---- life cycle ------------------------------------------------------------------------- */

struct lifecycle_bmp *
lifecycle_bmp_new(struct ev_loop *loop, struct bmp_station *st, struct obs *obs,
    struct rtr *rtr, const struct lifecycle_bmp_conf *conf)
{
	struct lifecycle_bmp *m = calloc(1, sizeof(*m));

	if (m == NULL)
		fatal("calloc");
	m->loop = loop;
	m->st = st;
	m->obs = obs;
	m->rtr = rtr;
	m->tree[0] = ptree_new(CIDR_V4, 0);
	m->tree[1] = ptree_new(CIDR_V6, 0);
	lifecycle_bmp_set_conf(m, conf);
	ev_timer_init(&m->flush, lbm_flush_cb, 0., 0.);
	m->flush.data = m;
	ev_timer_init(&m->tick, lbm_tick_cb, 1., 1.);
	m->tick.data = m;
	ev_timer_start(loop, &m->tick);
	ev_unref(loop);                 /* the tick alone does not keep the loop running */
	return m;
}

void
lifecycle_bmp_set_conf(struct lifecycle_bmp *m, const struct lifecycle_bmp_conf *conf)
{
	m->require = conf->require;
	m->timeout = conf->timeout ? conf->timeout : 60;
	m->ntransits = conf->ntransits < LIFECYCLE_BMP_MAX_TRANSITS ? conf->ntransits :
	    LIFECYCLE_BMP_MAX_TRANSITS;
	memcpy(m->transits, conf->transits, m->ntransits * sizeof(*m->transits));
	m->all_dirty = true;
	if (m->loop != NULL && m->tick.data != NULL)
		lbm_schedule(m);
}

void
lifecycle_bmp_attach(struct lifecycle_bmp *m, struct lifecycle_ctl *lc)
{
	m->lc = lc;
	lifecycle_ctl_on_change(lc, lbm_on_change, m);
	bmp_subscribe(m->st, lbm_on_bmp, m);
	lbm_rebuild(m);
}

void
lifecycle_bmp_free(struct lifecycle_bmp *m)
{
	if (m == NULL)
		return;
	bmp_subscribe(m->st, NULL, NULL);
	if (m->lc != NULL)
		lifecycle_ctl_on_change(m->lc, NULL, NULL);
	m->timeout = 0;                 /* every waiter is past its deadline now */
	lbm_waiters(m, NULL, true, ev_now(m->loop));
	ev_timer_stop(m->loop, &m->flush);
	ev_ref(m->loop);
	ev_timer_stop(m->loop, &m->tick);
	for (size_t i = 0; i < m->nw; i++) {
		free(m->w[i]->alerts);
		free(m->w[i]);
	}
	ptree_free(m->tree[0]);
	ptree_free(m->tree[1]);
	free(m->w);
	free(m->dirty);
	free(m->buf);
	free(m);
}

/* ---- reading ---------------------------------------------------------------------------- */

static void
lbm_info(const struct lifecycle_bmp *m, const struct lbw *w, struct lifecycle_bmp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->routers_up = lbm_popcount(lbm_up_mask(m));
	if (w == NULL)
		return;
	info->watched = true;
	info->state = w->state;
	info->origin = w->origin;
	info->holding = lbm_popcount(w->held);
	info->alerts = w->nalerts;
}

void
lifecycle_bmp_watch_info(const struct lifecycle_bmp *m, const struct cidr *c,
    struct lifecycle_bmp_info *info)
{
	lbm_info(m, lbm_find(m, c), info);
}

size_t
lifecycle_bmp_watch_count(const struct lifecycle_bmp *m)
{
	return m->nw;
}

const struct cidr *
lifecycle_bmp_watch_at(const struct lifecycle_bmp *m, size_t i, struct lifecycle_bmp_info *info)
{
	if (i >= m->nw)
		return NULL;
	lbm_info(m, m->w[i], info);
	return &m->w[i]->cidr;
}

size_t
lifecycle_bmp_alerts(const struct lifecycle_bmp *m, const struct cidr *q,
    struct lifecycle_bmp_alert *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nw; i++) {
		const struct lbw *w = m->w[i];

		if (q != NULL && !cidr_overlaps(q, &w->cidr))
			continue;
		for (size_t j = 0; j < w->nalerts; j++, n++)
			if (n < max)
				out[n] = w->alerts[j];
	}
	return n;
}

void
lifecycle_bmp_get_stats(const struct lifecycle_bmp *m, struct lifecycle_bmp_stats *out)
{
	*out = m->stats;
	out->watched = m->nw;
	out->routers_up = lbm_popcount(lbm_up_mask(m));
}
