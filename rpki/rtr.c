/*
 * rtr — rtrlib inside the libev loop: its callbacks and the ring they fill, the buffered
 * transport, the manager's life cycle (create, start, restart, destroy), VRP counts, the
 * look-up index and debounced change events. Called by src/prefixd.c (rtr_new, rtr_start,
 * rtr_reconfigure, rtr_free), by rov.c through the accessors of rtr_private.h and by the
 * subscribers. The freshness state machine, its timers and the per-cache sync clock are in
 * rtr_state.c; this file drives them (rtr_state_init, rtr_poll_caches, rtr_arm_timers) and
 * lends them the manager restart and "everything changed" (rtr_lib_restart,
 * rtr_change_note_all). The contract, the threading rules and the state machine are in
 * rtr.h; rtrlib's traps are listed there.
 */
#include <ev.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rov.h"
#include "rtr.h"
#include "rtr_private.h"

static void ix_finish(struct rtr *rtr);

/* ---- the live data, for rov (rtr_private.h) ---------------------------------------- */

bool
rtr_maybe_covered(struct rtr *rtr, const struct cidr *p)
{
	return atomic_load_explicit(&rtr->cover[p->family == CIDR_V6][p->hi >> 48],
	    memory_order_relaxed) != 0;
}

bool
rtr_has_default_vrp(struct rtr *rtr, int family)
{
	return atomic_load(&rtr->zero_len[family == CIDR_V6]) > 0;
}

const struct rov_index *
rtr_index(struct rtr *rtr)
{
	return rtr->ix != NULL && atomic_load(&rtr->gen) == rtr->ix_gen ? rtr->ix : NULL;
}

struct pfx_table *
rtr_table(struct rtr *rtr)
{
	return rtr != NULL && rtr->mgr != NULL ? rtr->mgr->pfx_table : NULL;
}

/* ---- rtrlib callbacks (rtrlib threads, or ours during stop) --------------------------- */

/* Our sockets are the first member of struct rtr_cache, so the pointer rtrlib hands back
 * is the cache. */
static struct rtr_cache *
cache_of(const struct rtr_socket *sk)
{
	return (struct rtr_cache *)(void *)(uintptr_t)sk;
}

/* Counts r in every /16 block it overlaps (one block, or 2^(16-len) for shorter VRPs). */
static void
cover_update(struct rtr *rtr, const struct pfx_record *r, bool added)
{
	bool v6 = r->prefix.ver == LRTR_IPV6;
	uint32_t top = (v6 ? r->prefix.u.addr6.addr[0] : r->prefix.u.addr4.addr) >> 16;
	uint32_t n = 1;

	if (r->min_len < 16) {
		n = 1u << (16 - r->min_len);
		top &= ~(n - 1) & 0xFFFF;
	}
	for (uint32_t i = 0; i < n; i++)
		atomic_fetch_add_explicit(&rtr->cover[v6][top + i], added ? 1u : UINT32_MAX,
		    memory_order_relaxed);
}

/*
 * pfx update: copy the fields (never the struct: its padding is uninitialised, rtrlib #318)
 * into the ring, or flag an overflow, and wake the loop. May run with the table's lock held.
 */
static void
on_pfx(struct pfx_table *t, const struct pfx_record r, const bool added)
{
	(void)t;
	if (r.socket == NULL)
		return;
	struct rtr *rtr = cache_of(r.socket)->rtr;
	if (r.min_len == 0)
		atomic_fetch_add(&rtr->zero_len[r.prefix.ver == LRTR_IPV6], added ? 1 : -1);
	cover_update(rtr, &r, added);
	atomic_fetch_add_explicit(&rtr->gen, 1, memory_order_relaxed);
	/* After an overflow the loop re-evaluates everything anyway: skip the lock and the
	 * wake-up until it has drained (this keeps a full sync of ~800k VRPs cheap). */
	if (atomic_load(&rtr->quiet) || atomic_load_explicit(&rtr->bulk, memory_order_relaxed) ||
	    atomic_load_explicit(&rtr->overflow, memory_order_relaxed))
		return;
	bool wake = false;
	struct rtr_qrec q = {.asn = r.asn, .len = r.min_len, .max_len = r.max_len,
	    .added = added ? 1 : 0};
	if (r.prefix.ver == LRTR_IPV6) {
		q.v6 = 1;
		memcpy(q.w, r.prefix.u.addr6.addr, sizeof(q.w));
	} else {
		q.w[0] = r.prefix.u.addr4.addr;
	}
	pthread_mutex_lock(&rtr->q_mu);
	if (rtr->q_n < RTR_RING_CAP) {
		rtr->q_fill[rtr->q_n++] = q;
		wake = rtr->q_n == 1;
	} else {
		atomic_store(&rtr->overflow, true);
		wake = true;
	}
	pthread_mutex_unlock(&rtr->q_mu);
	/* The loop empties the ring as a whole: one wake-up per non-empty ring suffices. */
	if (wake)
		ev_async_send(rtr->loop, &rtr->async_w);
}

/*
 * Socket state change. Stores the state, and after a completed sync (SYNC -> ESTABLISHED)
 * the session and serial, into the cache's atomics. On RTR_ERROR_FATAL it asks for a new
 * session (rtrlib trap: after a cache restart the old session id loops on "Corrupt Data"
 * until expire). This runs on the socket's own thread just before it loops to CONNECTING,
 * so the write does not race with rtrlib.
 */
static void
on_status(const struct rtr_mgr_group *g, enum rtr_mgr_status st,
    const struct rtr_socket *sk, void *data)
{
	struct rtr *rtr = data;

	(void)g;
	(void)st;
	if (sk == NULL || atomic_load(&rtr->quiet))
		return;
	struct rtr_cache *c = cache_of(sk);
	int prev = atomic_exchange(&c->sock_state, (int)sk->state);
	if (sk->state == RTR_ERROR_FATAL)
		((struct rtr_socket *)(uintptr_t)sk)->request_session_id = true;
	if (sk->state == RTR_ESTABLISHED && prev == RTR_SYNC)
		atomic_fetch_add(&c->syncs, 1);
	/* Up means "has served data on this connection": a cache that accepts TCP but never
	 * completes a sync (a garbage sender) stays down. */
	if (sk->state == RTR_ESTABLISHED)
		atomic_store(&c->up, true);
	else if (sk->state != RTR_SYNC && sk->state != RTR_RESET)
		atomic_store(&c->up, false);
	ev_async_send(rtr->loop, &rtr->async_w);
}

/* ---- the buffered transport (see struct rtr_rbuf) ---------------------------------- */

static int
rb_open(void *sock)
{
	struct rtr_rbuf *rb = sock;

	rb->off = rb->len = 0;
	return rb->fns.open_fp(rb->inner);
}

static void
rb_close(void *sock)
{
	struct rtr_rbuf *rb = sock;

	rb->off = rb->len = 0;
	rb->fns.close_fp(rb->inner);
}

/* rtrlib's free reads tr->socket: hand it its own object back. */
static void
rb_free(struct tr_socket *tr)
{
	struct rtr_rbuf *rb = tr->socket;

	tr->socket = rb->inner;
	rb->fns.free_fp(tr);
	rb->inner = NULL;
}

static int
rb_send(const void *sock, const void *pdu, const size_t len, const time_t timeout)
{
	const struct rtr_rbuf *rb = sock;

	return rb->fns.send_fp(rb->inner, pdu, len, timeout);
}

/* Returns buffered bytes first (at most len, like recv()); refills with one recv(). */
static int
rb_recv(const void *sock, void *pdu, const size_t len, const time_t timeout)
{
	struct rtr_rbuf *rb = (struct rtr_rbuf *)(uintptr_t)sock;
	size_t k;

	if (rb->off == rb->len) {
		int n = rb->fns.recv_fp(rb->inner, rb->buf, sizeof(rb->buf), timeout);
		if (n <= 0)
			return n;
		rb->off = 0;
		rb->len = (size_t)n;
	}
	k = rb->len - rb->off < len ? rb->len - rb->off : len;
	memcpy(pdu, rb->buf + rb->off, k);
	rb->off += k;
	return (int)k;
}

static const char *
rb_ident(void *sock)
{
	struct rtr_rbuf *rb = sock;

	return rb->fns.ident_fp(rb->inner);
}

static void
rb_install(struct rtr_cache *c)
{
	c->rb.fns = c->tr;
	c->rb.inner = c->tr.socket;
	c->rb.off = c->rb.len = 0;
	c->tr.socket = &c->rb;
	c->tr.open_fp = rb_open;
	c->tr.close_fp = rb_close;
	c->tr.free_fp = rb_free;
	c->tr.send_fp = rb_send;
	c->tr.recv_fp = rb_recv;
	c->tr.ident_fp = rb_ident;
}

/* ---- the rtrlib manager ------------------------------------------------------------ */

static int
mgr_create(struct rtr *rtr, struct err *e)
{
	unsigned lib_expire = rtr->conf.expire < RTR_LIB_EXPIRE_MIN ? RTR_LIB_EXPIRE_MIN
	    : rtr->conf.expire;

	for (size_t i = 0; i < rtr->conf.ncaches; i++) {
		struct rtr_cache *c = &rtr->caches[i];
		memset(&c->rs, 0, sizeof(c->rs));
		memset(&c->tr, 0, sizeof(c->tr));
		c->tcp = (struct tr_tcp_config){
			.host = rtr->conf.caches[i].host, .port = rtr->conf.caches[i].port,
			.connect_timeout = rtr->conf.connect_timeout,
		};
		if (tr_tcp_init(&c->tcp, &c->tr) != TR_SUCCESS)
			return err_set(e, "rtr-failed", "rpki: cannot set up cache %s:%s",
			    c->tcp.host, c->tcp.port);
		rb_install(c);
		c->rs.tr_socket = &c->tr;
		rtr->socks[i] = &c->rs;
		atomic_store(&c->sock_state, RTR_CLOSED);
	}
	rtr->group = (struct rtr_mgr_group){.sockets = rtr->socks,
	    .sockets_len = (unsigned)rtr->conf.ncaches, .preference = 1};
	if (rtr_mgr_init(&rtr->mgr, &rtr->group, 1, rtr->conf.refresh, lib_expire,
	    rtr->conf.retry, on_pfx, NULL, on_status, rtr) != RTR_SUCCESS) {
		rtr->mgr = NULL;
		return err_set(e, "rtr-failed", "rpki: rtr_mgr_init failed");
	}
	/* rtrlib trap: without this the cache's End of Data intervals replace ours. */
	for (size_t i = 0; i < rtr->conf.ncaches; i++)
		rtr_set_interval_mode(&rtr->caches[i].rs, RTR_INTERVAL_MODE_IGNORE_ANY);
	return 0;
}

/* Starts rtrlib's threads with every signal blocked, so they inherit that mask and signals
 * reach only the loop thread (libev's advice for threaded programs). */
static int
mgr_run(struct rtr *rtr, struct err *e)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = rtr_mgr_start(rtr->mgr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != RTR_SUCCESS)
		return err_set(e, "rtr-failed", "rpki: rtr_mgr_start failed");
	return 0;
}

/* Stops and frees the manager. rtr_mgr_stop fires a delete callback per VRP on this thread
 * with the table locked; `quiet` turns them into no-ops. Never stop + start again: rtrlib
 * 0.8.0 cannot restart a stopped socket (#267). */
static void
mgr_destroy(struct rtr *rtr)
{
	if (rtr->mgr == NULL)
		return;
	atomic_store(&rtr->quiet, true);
	ix_finish(rtr);     /* the builder reads the table: join it first */
	rtr_mgr_stop(rtr->mgr);
	rtr_mgr_free(rtr->mgr);
	rtr->mgr = NULL;
	rov_index_free(rtr->ix);
	rtr->ix = NULL;
	pthread_mutex_lock(&rtr->q_mu);
	rtr->q_n = 0;
	pthread_mutex_unlock(&rtr->q_mu);
	atomic_store(&rtr->overflow, false);
	atomic_store(&rtr->zero_len[0], 0);
	atomic_store(&rtr->zero_len[1], 0);
	/* the stop's delete callbacks brought the block counts back to zero */
	for (size_t i = 0; i < rtr->conf.ncaches; i++) {
		struct rtr_cache *c = &rtr->caches[i];
		atomic_store(&c->sock_state, RTR_CLOSED);
		atomic_store(&c->up, false);
		c->has_session = false;
		c->lu_seen = 0;
		c->syncs_seen = atomic_load(&c->syncs);
		c->was_up = false;
	}
	atomic_store(&rtr->bulk, true);
	atomic_store(&rtr->quiet, false);
}

void
rtr_lib_restart(struct rtr *rtr)
{
	struct err e = {0};

	if (!rtr->started)
		return;
	mgr_destroy(rtr);
	if (mgr_create(rtr, &e) == -1 || mgr_run(rtr, &e) == -1) {
		log_error("%s; RPKI stays without data", e.msg);
		if (rtr->mgr != NULL) {
			rtr_mgr_free(rtr->mgr);
			rtr->mgr = NULL;
		}
	}
}

/* ---- change events (loop) --------------------------------------------------------- */

static void
arm_debounce(struct rtr *rtr)
{
	double now = rtr_mono_now(), due;

	if (!rtr->ch_pending) {
		rtr->ch_pending = true;
		rtr->ch_first = now;
	}
	due = now + rtr->conf.debounce_ms / 1000.0;
	if (due > rtr->ch_first + rtr->conf.debounce_max_ms / 1000.0)
		due = rtr->ch_first + rtr->conf.debounce_max_ms / 1000.0;
	ev_timer_stop(rtr->loop, &rtr->debounce_w);
	ev_timer_set(&rtr->debounce_w, due > now ? due - now : 0, 0);
	ev_timer_start(rtr->loop, &rtr->debounce_w);
}

void
rtr_change_note_all(struct rtr *rtr)
{
	rtr->ch_all = true;
	rtr->ch_n = 0;
	arm_debounce(rtr);
}

static void
change_note(struct rtr *rtr, const struct cidr *p)
{
	if (rtr->ch_all)
		return;
	if (rtr->ch_n > 0 && cidr_equal(&rtr->ch[rtr->ch_n - 1], p))
		return;
	if (rtr->ch_n == RTR_CHANGE_MAX) {
		rtr->ch_all = true;
		rtr->ch_n = 0;
		return;
	}
	rtr->ch[rtr->ch_n++] = *p;
}

static void
count_one(const struct pfx_record *r, void *data)
{
	(void)r;
	(*(uint64_t *)data)++;
}

/* Recounts the VRPs per family (read lock, loop thread: never from a callback). */
static void
recount(struct rtr *rtr)
{
	uint64_t n4 = 0, n6 = 0;

	if (rtr->mgr != NULL) {
		rtr_mgr_for_each_ipv4_record(rtr->mgr, count_one, &n4);
		rtr_mgr_for_each_ipv6_record(rtr->mgr, count_one, &n6);
	}
	rtr->vrps_v4 = n4;
	rtr->vrps_v6 = n6;
}

/* Calls every subscriber with the pending changes, then clears them. */
static void
deliver(struct rtr *rtr)
{
	struct rtr_change ch = {.all = rtr->ch_all, .n = rtr->ch_all ? 0 : rtr->ch_n,
	    .prefixes = rtr->ch};

	rtr->ch_deliver = false;
	if (!ch.all && ch.n == 0)
		return;
	rtr->changes++;
	log_debug("rpki: change event (%s, %zu prefixes; %llu IPv4 + %llu IPv6 VRPs)",
	    ch.all ? "all" : "some", ch.n, (unsigned long long)rtr->vrps_v4,
	    (unsigned long long)rtr->vrps_v6);
	for (size_t i = 0; i < RTR_MAX_SUBSCRIBERS; i++)
		if (rtr->subs[i].fn != NULL)
			rtr->subs[i].fn(&ch, rtr->subs[i].arg);
	/* Subscribers may not add changes; new ones arriving later start a new burst. */
	rtr->ch_all = false;
	rtr->ch_n = 0;
}

/* The builder thread: reads the table under rtrlib's read lock, sorts, reports. */
static void *
ix_build(void *arg)
{
	struct rtr *rtr = arg;

	rtr->ix_new = rov_index_build(rtr->ix_table, &rtr->ix_n4, &rtr->ix_n6);
	atomic_store(&rtr->ix_done, true);
	ev_async_send(rtr->loop, &rtr->async_w);
	return NULL;
}

/*
 * Starts building the index (810k VRPs take a few hundred ms: off the loop) unless it is
 * current. Returns true when a build runs; the change event waits for it, so subscribers
 * re-validate against the new index and see the new counts.
 */
static bool
ix_start(struct rtr *rtr)
{
	sigset_t all, old;
	int rc;

	if (rtr->mgr == NULL || (rtr->ix != NULL && atomic_load(&rtr->gen) == rtr->ix_gen))
		return false;
	rtr->ix_new_gen = atomic_load(&rtr->gen);
	rtr->ix_table = rtr->mgr->pfx_table;
	atomic_store(&rtr->ix_done, false);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&rtr->ix_thread, NULL, ix_build, rtr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("rpki: cannot start the index builder; counting on the loop");
		recount(rtr);
		return false;
	}
	rtr->ix_building = true;
	return true;
}

/* Joins the builder and installs its index. A change during the build leaves gen !=
 * ix_gen: the index stays unused (rtrlib answers) and another build is scheduled. */
static void
ix_finish(struct rtr *rtr)
{
	if (!rtr->ix_building)
		return;
	pthread_join(rtr->ix_thread, NULL);
	rtr->ix_building = false;
	if (rtr->ix_new == NULL) {
		recount(rtr);
		return;
	}
	rov_index_free(rtr->ix);
	rtr->ix = rtr->ix_new;
	rtr->ix_new = NULL;
	rtr->ix_gen = rtr->ix_new_gen;
	rtr->vrps_v4 = rtr->ix_n4;
	rtr->vrps_v6 = rtr->ix_n6;
}

static void
on_debounce(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rtr *rtr = w->data;

	(void)loop;
	(void)revents;
	rtr->ch_pending = false;
	rtr->ch_deliver = true;
	if (rtr->ix_building || ix_start(rtr))
		return;     /* delivered when the index is in (on_async) */
	deliver(rtr);
}

/* Loop side of a finished build. */
static void
ix_check(struct rtr *rtr)
{
	if (!rtr->ix_building || !atomic_load(&rtr->ix_done))
		return;
	ix_finish(rtr);
	if (atomic_load(&rtr->gen) != rtr->ix_gen && !rtr->ch_pending)
		arm_debounce(rtr);  /* changed meanwhile: build again */
	if (rtr->ch_deliver)
		deliver(rtr);
}

int
rtr_subscribe(struct rtr *rtr, rtr_change_fn fn, void *arg, struct err *e)
{
	for (size_t i = 0; i < RTR_MAX_SUBSCRIBERS; i++) {
		if (rtr->subs[i].fn == NULL) {
			rtr->subs[i] = (struct rtr_sub){fn, arg};
			return 0;
		}
	}
	return err_set(e, "rtr-failed", "rpki: at most %d change subscribers",
	    RTR_MAX_SUBSCRIBERS);
}

void
rtr_unsubscribe(struct rtr *rtr, rtr_change_fn fn, void *arg)
{
	for (size_t i = 0; i < RTR_MAX_SUBSCRIBERS; i++)
		if (rtr->subs[i].fn == fn && rtr->subs[i].arg == arg)
			rtr->subs[i] = (struct rtr_sub){NULL, NULL};
}

bool
rtr_change_covers(const struct rtr_change *ch, const struct cidr *p)
{
	if (ch->all)
		return true;
	for (size_t i = 0; i < ch->n; i++)
		if (cidr_overlaps(&ch->prefixes[i], p))
			return true;
	return false;
}

/* ---- the loop side of the queue --------------------------------------------------- */

static void
drain_queue(struct rtr *rtr)
{
	struct rtr_qrec *batch;
	size_t n;

	pthread_mutex_lock(&rtr->q_mu);
	batch = rtr->q_fill;
	n = rtr->q_n;
	rtr->q_fill = rtr->q_drain;
	rtr->q_n = 0;
	pthread_mutex_unlock(&rtr->q_mu);
	rtr->q_drain = batch;

	if (atomic_exchange(&rtr->overflow, false)) {
		rtr->overflows++;
		log_debug("rpki: update ring overflowed, re-evaluating everything");
		rtr_change_note_all(rtr);
	}
	for (size_t i = 0; i < n; i++) {
		struct lrtr_ip_addr a = {.ver = batch[i].v6 ? LRTR_IPV6 : LRTR_IPV4};
		if (batch[i].v6)
			memcpy(a.u.addr6.addr, batch[i].w, sizeof(batch[i].w));
		else
			a.u.addr4.addr = batch[i].w[0];
		struct cidr p = rov_cidr_from_addr(&a, batch[i].len);
		if (p.len == 0 && batch[i].added)
			log_error("rpki: a cache sent the /0 VRP AS%u; rtrlib 0.8.0 aborts when "
			    "validating against it, so %s validation is refused while it is held",
			    batch[i].asn, cidr_family_name(p.family));
		change_note(rtr, &p);
	}
	if (n > 0)
		arm_debounce(rtr);
}


static void
on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct rtr *rtr = w->data;

	(void)loop;
	(void)revents;
	drain_queue(rtr);
	rtr_poll_caches(rtr);
	ix_check(rtr);
}

/* ---- life cycle ------------------------------------------------------------------- */

struct rtr *
rtr_new(struct ev_loop *loop, const struct rtr_conf *c, struct err *e)
{
	struct rtr *rtr;

	if (rtr_conf_check(c, e) == -1)
		return NULL;
	if ((rtr = calloc(1, sizeof(*rtr))) == NULL ||
	    (rtr->q_fill = calloc(RTR_RING_CAP, sizeof(struct rtr_qrec))) == NULL ||
	    (rtr->q_drain = calloc(RTR_RING_CAP, sizeof(struct rtr_qrec))) == NULL ||
	    (rtr->ch = calloc(RTR_CHANGE_MAX, sizeof(struct cidr))) == NULL ||
	    (rtr->cover[0] = calloc(1u << 16, sizeof(*rtr->cover[0]))) == NULL ||
	    (rtr->cover[1] = calloc(1u << 16, sizeof(*rtr->cover[1]))) == NULL)
		fatal("rtr_new");
	rtr->loop = loop;
	rtr->conf = *c;
	for (size_t i = 0; i < c->ncaches; i++) {
		rtr->caches[i].rtr = rtr;
		atomic_store(&rtr->caches[i].sock_state, RTR_CLOSED);
	}
	pthread_mutex_init(&rtr->q_mu, NULL);
	rtr_state_init(rtr);
	atomic_store(&rtr->bulk, true);
	ev_async_init(&rtr->async_w, on_async);
	ev_timer_init(&rtr->debounce_w, on_debounce, 0, 0);
	rtr->async_w.data = rtr->debounce_w.data = rtr;
	return rtr;
}

int
rtr_start(struct rtr *rtr, struct err *e)
{
	if (rtr->started)
		return err_set(e, "rtr-failed", "rpki: already started");
	/* rtrlib's tr_tcp_send() uses send() without MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	ev_async_start(rtr->loop, &rtr->async_w);
	if (mgr_create(rtr, e) == -1 || mgr_run(rtr, e) == -1) {
		if (rtr->mgr != NULL) {
			rtr_mgr_free(rtr->mgr);
			rtr->mgr = NULL;
		}
		ev_async_stop(rtr->loop, &rtr->async_w);
		return -1;
	}
	rtr->started = true;
	ev_timer_start(rtr->loop, &rtr->poll_w);
	log_info("rpki: started with %zu cache(s), refresh %u s, stale_after %u s, expire %u s",
	    rtr->conf.ncaches, rtr->conf.refresh, rtr->conf.stale_after, rtr->conf.expire);
	return 0;
}

/* Whether c needs a new rtrlib manager (anything rtrlib holds), or only new timers. */
static bool
conf_needs_restart(const struct rtr_conf *a, const struct rtr_conf *b)
{
	if (a->ncaches != b->ncaches || a->refresh != b->refresh || a->retry != b->retry ||
	    a->connect_timeout != b->connect_timeout ||
	    (a->expire < RTR_LIB_EXPIRE_MIN ? RTR_LIB_EXPIRE_MIN : a->expire) !=
	    (b->expire < RTR_LIB_EXPIRE_MIN ? RTR_LIB_EXPIRE_MIN : b->expire))
		return true;
	for (size_t i = 0; i < a->ncaches; i++)
		if (strcmp(a->caches[i].host, b->caches[i].host) != 0 ||
		    strcmp(a->caches[i].port, b->caches[i].port) != 0)
			return true;
	return false;
}

int
rtr_reconfigure(struct rtr *rtr, const struct rtr_conf *c, struct err *e)
{
	bool restart;

	if (rtr_conf_check(c, e) == -1)
		return -1;
	restart = conf_needs_restart(&rtr->conf, c);
	if (restart)
		mgr_destroy(rtr);   /* with the old caches, before they are replaced */
	rtr->conf = *c;
	for (size_t i = 0; i < c->ncaches; i++)
		rtr->caches[i].rtr = rtr;
	if (restart) {
		log_info("rpki: configuration changed, reconnecting to %zu cache(s)", c->ncaches);
		rtr_fsm(rtr, RTR_EV_RESET);
	} else {
		rtr_arm_timers(rtr);
	}
	return 0;
}

void
rtr_free(struct rtr *rtr)
{
	if (rtr == NULL)
		return;
	mgr_destroy(rtr);
	ev_async_stop(rtr->loop, &rtr->async_w);
	ev_timer_stop(rtr->loop, &rtr->stale_w);
	ev_timer_stop(rtr->loop, &rtr->expire_w);
	ev_timer_stop(rtr->loop, &rtr->debounce_w);
	ev_timer_stop(rtr->loop, &rtr->poll_w);
	pthread_mutex_destroy(&rtr->q_mu);
	free(rtr->q_fill);
	free(rtr->q_drain);
	rov_index_free(rtr->ix);
	free(rtr->ch);
	free((void *)rtr->cover[0]);
	free((void *)rtr->cover[1]);
	free(rtr);
}
