/*
 * rtr_state — the freshness state machine of the rtr module (diagram and events in rtr.h):
 * the transition table, rtr_fsm and the stale/expire timers it arms, and the freshness clock
 * that turns each cache's completed syncs into RTR_EV_SYNC (rtrlib's in_sync means "once").
 * Loop thread only. Called by rtr.c (rtr_state_init from rtr_new, rtr_poll_caches from the
 * ev_async handler, rtr_fsm and rtr_arm_timers from rtr_reconfigure), by the lifecycle and
 * the API (rtr_is_fresh, rtr_state, rtr_state_name) and by tests/unit/test_rtr_fsm.c. It
 * owns rtr->state, last_sync, the transition and illegal-event counts, the stale, expire and
 * poll timers, and each cache's loop-side sync record. Dropping the data on EXPIRE or RESET
 * and "everything changed" are rtr.c's (rtr_lib_restart, rtr_change_note_all).
 */
#include <ev.h>
#include <stdatomic.h>
#include <time.h>

#include "log.h"
#include "rtr.h"
#include "rtr_private.h"

/* ---- state machine ---------------------------------------------------------------- */

const char *
rtr_state_name(enum rtr_state s)
{
	static const char *names[RTR_STATE_COUNT] = {
		"connecting", "synced", "stale", "expired",
	};
	return (unsigned)s < RTR_STATE_COUNT ? names[s] : "?";
}

static const char *
event_name(enum rtr_event ev)
{
	switch (ev) {
	case RTR_EV_SYNC:
		return "sync";
	case RTR_EV_STALE:
		return "stale";
	case RTR_EV_EXPIRE:
		return "expire";
	case RTR_EV_RESET:
		return "reset";
	}
	return "?";
}

int
rtr_fsm_next(enum rtr_state s, enum rtr_event ev, enum rtr_state *next)
{
	switch (ev) {
	case RTR_EV_SYNC:
		if ((unsigned)s >= RTR_STATE_COUNT)
			return -1;
		*next = RTR_STATE_SYNCED;
		return 0;
	case RTR_EV_STALE:
		if (s != RTR_STATE_SYNCED)
			return -1;
		*next = RTR_STATE_STALE;
		return 0;
	case RTR_EV_EXPIRE:
		if (s != RTR_STATE_SYNCED && s != RTR_STATE_STALE)
			return -1;
		*next = RTR_STATE_EXPIRED;
		return 0;
	case RTR_EV_RESET:
		if ((unsigned)s >= RTR_STATE_COUNT)
			return -1;
		*next = RTR_STATE_CONNECTING;
		return 0;
	}
	return -1;
}

/* Arms the stale and expire timers from last_sync (both run while data is kept). */
void
rtr_arm_timers(struct rtr *rtr)
{
	double age = rtr_mono_now() - rtr->last_sync, left;

	ev_timer_stop(rtr->loop, &rtr->stale_w);
	ev_timer_stop(rtr->loop, &rtr->expire_w);
	if (rtr->state == RTR_STATE_SYNCED) {
		left = (double)rtr->conf.stale_after - age;
		ev_timer_set(&rtr->stale_w, left > 0 ? left : 0, 0);
		ev_timer_start(rtr->loop, &rtr->stale_w);
	}
	if (rtr->state == RTR_STATE_SYNCED || rtr->state == RTR_STATE_STALE) {
		left = (double)rtr->conf.expire - age;
		ev_timer_set(&rtr->expire_w, left > 0 ? left : 0, 0);
		ev_timer_start(rtr->loop, &rtr->expire_w);
	}
}

int
rtr_fsm(struct rtr *rtr, enum rtr_event ev)
{
	enum rtr_state next, prev = rtr->state;

	if (rtr_fsm_next(prev, ev, &next) == -1) {
		rtr->illegal_events++;
		log_warnx("rpki: illegal event %s in state %s", event_name(ev),
		    rtr_state_name(prev));
		return -1;
	}
	rtr->state = next;
	if (ev == RTR_EV_SYNC && atomic_exchange(&rtr->bulk, false))
		rtr_change_note_all(rtr);
	if (next != prev) {
		rtr->transitions[next]++;
		log_info("rpki: %s -> %s (%s)", rtr_state_name(prev), rtr_state_name(next),
		    event_name(ev));
	}
	if (ev == RTR_EV_EXPIRE || ev == RTR_EV_RESET) {
		/* RFC 8210 §6: the data must not be kept past expire. A fresh manager starts
		 * with an empty table and a Reset Query (also after a configuration change). */
		if (ev == RTR_EV_EXPIRE)
			log_warnx("rpki: no sync for %u s, dropping all VRPs", rtr->conf.expire);
		rtr_lib_restart(rtr);
		rtr->vrps_v4 = rtr->vrps_v6 = 0;
		rtr_change_note_all(rtr);
	}
	rtr_arm_timers(rtr);
	return 0;
}

bool
rtr_is_fresh(const struct rtr *rtr)
{
	return rtr != NULL && rtr->state == RTR_STATE_SYNCED;
}

enum rtr_state
rtr_state(const struct rtr *rtr)
{
	return rtr->state;
}

static void
on_stale(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	rtr_fsm(w->data, RTR_EV_STALE);
}

static void
on_expire(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	rtr_fsm(w->data, RTR_EV_EXPIRE);
}

/* ---- the freshness clock --------------------------------------------------------- */

/*
 * Has cache c completed a sync since we last looked? rtrlib 0.8.0 calls the status callback
 * for SYNC -> ESTABLISHED only when the group's status changes, i.e. after the first sync,
 * not after each refresh. So we also read rs.last_update (rtrlib's CLOCK_MONOTONIC seconds,
 * set at each End of Data), session_id and serial_number directly. 0.8.0's
 * lrtr_get_monotonic_time rounds *up* any non-zero fraction (read from the shipped library:
 * tv_sec + 1 unless tv_nsec is 0), so a sync at t is recorded as ceil(t): we take lu - 1,
 * the older end, which never lies in the future (an age must not be negative: /metrics
 * omits a negative one, and the stale timer would run late). rtrlib writes
 * them from its thread without synchronisation; we read them with relaxed atomic loads of
 * aligned 32/64-bit words, which cannot tear on the 64-bit targets we build for. Returns
 * true and sets c->last_sync when a sync completed.
 */
static bool
cache_synced(struct rtr_cache *c)
{
	uint64_t syncs = atomic_load(&c->syncs);
	time_t lu = __atomic_load_n(&c->rs.last_update, __ATOMIC_RELAXED);
	bool done = false;

	if (syncs != c->syncs_seen) {
		c->syncs_seen = syncs;
		c->last_sync = rtr_mono_now();
		done = true;
	}
	if (lu != 0 && lu != c->lu_seen) {
		c->lu_seen = lu;
		/* rtrlib rounds up to the second: take the older end. */
		if (!done)
			c->last_sync = (double)lu - 1.0;
		done = true;
	}
	if (done) {
		c->has_session = true;
		c->session_id = __atomic_load_n(&c->rs.session_id, __ATOMIC_RELAXED);
		c->serial = __atomic_load_n(&c->rs.serial_number, __ATOMIC_RELAXED);
	}
	return done;
}

/* Reads every cache: completed syncs drive RTR_EV_SYNC; up/down is logged. */
void
rtr_poll_caches(struct rtr *rtr)
{
	bool synced = false;

	for (size_t i = 0; i < rtr->conf.ncaches; i++) {
		struct rtr_cache *c = &rtr->caches[i];
		bool up = atomic_load(&c->up);
		if (cache_synced(c)) {
			if (c->last_sync > rtr->last_sync)
				rtr->last_sync = c->last_sync;
			synced = true;
		}
		if (up != c->was_up) {
			c->was_up = up;
			if (up)
				log_info("rpki: cache %s:%s up", c->tcp.host, c->tcp.port);
			else
				log_warnx("rpki: cache %s:%s down", c->tcp.host, c->tcp.port);
		}
	}
	if (synced)
		rtr_fsm(rtr, RTR_EV_SYNC);
}

/* Once a second: catches refresh syncs, which raise no callback (cache_synced). */
static void
on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	rtr_poll_caches(w->data);
}

/* ---- set-up ----------------------------------------------------------------------- */

void
rtr_state_init(struct rtr *rtr)
{
	rtr->state = RTR_STATE_CONNECTING;
	rtr->transitions[RTR_STATE_CONNECTING] = 1;
	ev_timer_init(&rtr->stale_w, on_stale, 0, 0);
	ev_timer_init(&rtr->expire_w, on_expire, 0, 0);
	ev_timer_init(&rtr->poll_w, on_poll, 1, 1);
	rtr->stale_w.data = rtr->expire_w.data = rtr->poll_w.data = rtr;
}
