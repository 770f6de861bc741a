/*
 * rtr_private — what the files of the rpki/rtr module share and nobody else needs:
 *   rtr.c       rtrlib in the loop, the queue, the index, change events
 *   rtr_state.c the freshness state machine, its timers, the per-cache sync clock
 *   rtr_conf.c  [rpki] config and the status snapshot
 *   rpki.c      origin validation on the live data: reads the table, the index and the
 *               prefilters through the accessors below and decides with rov (which is pure)
 * It holds struct rtr itself, the accessors for the live data, and the calls between rtr.c and
 * rtr_state.c. The conversion between struct cidr and rtrlib's addresses is rov's
 * (rov_addr_from_cidr, rov_cidr_from_addr).
 *
 * rtrlib's address layout (lib/ipv4.h, lib/ipv6.h): host byte order; IPv4 is one uint32,
 * IPv6 four uint32 words with addr[0] the most significant. struct cidr is left-aligned in
 * 128 bits (hi, lo), so IPv4 is the top 32 bits of hi.
 */
#ifndef PREFIXD_RTR_PRIVATE_H
#define PREFIXD_RTR_PRIVATE_H

#include <ev.h>
#include <pthread.h>
#include <rtrlib/rtrlib.h>
#include <stdatomic.h>
#include <time.h>

#include "cidr.h"
#include "rov.h"
#include "rtr.h"

/* Records the rtrlib threads may queue before the loop drains them; beyond this the loop is
 * told "everything changed" instead. */
#define RTR_RING_CAP 65536
/* rtrlib's accepted range for the expire interval. */
#define RTR_LIB_EXPIRE_MIN 600
#define RTR_LIB_EXPIRE_MAX 172800

/* One queued VRP change, copied field by field from rtrlib's pfx_record. */
struct rtr_qrec {
	uint32_t asn;
	uint32_t w[4];
	uint8_t v6, len, max_len, added;
};

/*
 * A read buffer in front of rtrlib's TCP transport. rtrlib reads every PDU as a header and a
 * body, each with setsockopt(SO_RCVTIMEO) + recv(): four system calls per VRP, most of a full
 * sync's time. Our recv_fp serves those reads from one large recv(); the other functions pass
 * through to rtrlib's (kept in `fns`). Touched only by the cache's rtrlib thread, and by ours
 * after that thread was joined (close, free).
 */
#define RTR_RBUF_SIZE 65536

struct rtr_rbuf {
	void *inner;                /* rtrlib's TCP socket object */
	struct tr_socket fns;       /* rtrlib's TCP functions */
	size_t off, len;
	uint8_t buf[RTR_RBUF_SIZE];
};

struct rtr_cache {
	struct rtr_socket rs;       /* first: rtrlib hands back &rs, see cache_of() */
	struct tr_socket tr;
	struct tr_tcp_config tcp;
	struct rtr_rbuf rb;
	struct rtr *rtr;
	/* written by the cache's rtrlib thread (status callback), read by the loop */
	_Atomic int sock_state;
	_Atomic bool up;            /* reached ESTABLISHED, no error or reconnect since */
	_Atomic uint64_t syncs;
	/* loop only */
	uint64_t syncs_seen;
	time_t lu_seen;             /* rs.last_update as last read */
	bool has_session;
	uint32_t session_id, serial;
	double last_sync;           /* monotonic seconds; 0: never */
	bool was_up;
};

struct rtr_sub {
	rtr_change_fn fn;
	void *arg;
};

struct rtr {
	struct ev_loop *loop;
	struct rtr_conf conf;
	struct rtr_cache caches[RTR_MAX_CACHES];
	struct rtr_socket *socks[RTR_MAX_CACHES];
	struct rtr_mgr_group group;
	struct rtr_mgr_config *mgr;     /* NULL before start and during a restart */
	bool started;
	_Atomic bool quiet;             /* callbacks return at once (stop, restart, free) */
	_Atomic bool bulk;              /* no data yet: the first sync is "everything changed",
	                                   so the pfx callback queues nothing */

	pthread_mutex_t q_mu;           /* guards q_fill, q_n */
	struct rtr_qrec *q_fill;        /* the rtrlib threads append here */
	size_t q_n;
	struct rtr_qrec *q_drain;       /* the loop's half of the double buffer */
	_Atomic bool overflow;
	/* /0 VRPs per family (0: IPv4, 1: IPv6), counted by the pfx callback itself, see
	 * rtr_has_default_vrp() */
	_Atomic long zero_len[2];
	/* Per family, VRPs overlapping each /16 block (top 16 address bits), counted by the pfx
	 * callback: rtr_maybe_covered() answers "no VRP can cover this" without rtrlib. */
	_Atomic uint32_t *cover[2];
	_Atomic uint64_t gen;           /* table changes seen by the pfx callback */

	struct rov_index *ix;           /* look-up index (loop), valid while gen == ix_gen */
	uint64_t ix_gen;
	/* the index is built on its own thread (ix_build), then installed by the loop */
	bool ix_building;               /* loop: a builder thread runs */
	bool ch_deliver;                /* loop: deliver the change event once it is done */
	pthread_t ix_thread;
	_Atomic bool ix_done;           /* builder -> loop */
	struct pfx_table *ix_table;     /* builder's input (the manager outlives the build) */
	struct rov_index *ix_new;       /* builder's output, read by the loop after the join */
	uint64_t ix_new_gen, ix_n4, ix_n6;

	ev_async async_w;
	ev_timer stale_w, expire_w, debounce_w, poll_w;

	enum rtr_state state;
	double last_sync;               /* monotonic seconds of the last completed sync */
	uint64_t transitions[RTR_STATE_COUNT];
	uint64_t illegal_events, overflows, changes;
	uint64_t vrps_v4, vrps_v6;

	bool ch_pending, ch_all;
	double ch_first;
	size_t ch_n;
	struct cidr *ch;                /* RTR_CHANGE_MAX entries */
	struct rtr_sub subs[RTR_MAX_SUBSCRIBERS];
};

static inline double
rtr_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * True while the table holds a /0 VRP of that family (CIDR_V4 / CIDR_V6). rtrlib 0.8.0 aborts
 * the process (assert in lrtr_get_bits) on any lookup in a family whose trie root is a /0, so
 * rov refuses to validate then. The count is kept by the pfx callback as soon as rtrlib has
 * inserted the record; a lookup in the few instructions between rtrlib's insert and that
 * callback could still reach the assert (known, unclosable without a hook before insert).
 */
bool rtr_has_default_vrp(struct rtr *rtr, int family);

/*
 * False when no VRP overlaps p's /16 block (top 16 address bits), so no VRP can cover p and
 * the answer is not-found without a trie walk. True means "maybe". The block counts are kept
 * by the pfx callback right after rtrlib changed its table (same ordering as above).
 */
bool rtr_maybe_covered(struct rtr *rtr, const struct cidr *p);

/* The look-up index while it matches the table (no VRP change since it was built), else
 * NULL. Loop thread only. */
struct rov_index;
const struct rov_index *rtr_index(struct rtr *rtr);

/* The live VRP table, or NULL while there is none (before start, during a restart).
 * Loop thread only. */
struct pfx_table *rtr_table(struct rtr *rtr);

/*
 * Between rtr.c and rtr_state.c, loop thread only.
 *
 * rtr_state.c:
 *   rtr_state_init    from rtr_new: state connecting (counted once), the stale, expire and
 *                     poll timers initialised (not started)
 *   rtr_arm_timers    (re)arms the stale and expire timers from last_sync for the current
 *                     state and conf (both run while data is kept; neither otherwise)
 *   rtr_poll_caches   reads every cache: completed syncs drive RTR_EV_SYNC; up/down is logged
 * rtr.c:
 *   rtr_lib_restart   drops the data: stops and frees the manager, then a fresh init + start
 *                     (no-op before rtr_start; on failure logged, RPKI stays without data)
 *   rtr_change_note_all  the next change event says "everything changed" (debounced)
 */
void rtr_state_init(struct rtr *rtr);
void rtr_arm_timers(struct rtr *rtr);
void rtr_poll_caches(struct rtr *rtr);
void rtr_lib_restart(struct rtr *rtr);
void rtr_change_note_all(struct rtr *rtr);

#endif
