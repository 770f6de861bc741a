/*
 * rtr — prefixd's live view of RPKI: rtrlib 0.8's manager run inside the daemon's libev loop,
 * a freshness state machine of our own, VRP counts, a look-up index, and debounced change
 * events.
 *
 * Who calls it: src/prefixd.c creates one (rtr_conf_from + rtr_new + rtr_start) from the
 * [rpki] config; rpki/rpki.c validates against its data (rpki.h is the face the lifecycle
 * and the API include); the lifecycle subscribes to changes; src/api/api_rpki.c reads
 * rtr_status_get(). It owns the rtrlib manager, its sockets, the VRP table and the index.
 * Files: rtr.c (rtrlib, queue, index, change events), rtr_state.c (freshness state machine,
 * its timers, the per-cache sync clock), rtr_conf.c (config, status snapshot), rpki.c
 * (origin validation on the live data), rtr_private.h (struct rtr, shared by those files).
 *
 * Threads. rtrlib runs one pthread per cache. Its two callbacks (pfx update, status) only
 * (a) update a few atomic counters (table generation, /16 coverage counts, /0 VRPs, socket
 * state) and copy the record's fields into a bounded ring under a mutex, and (b) call
 * ev_async_send() when the ring turns non-empty. They never call rtrlib, never block on
 * anything but that short mutex, never touch the loop's state. Everything else - the state
 * machine, timers, counts, the index, change lists, logging, subscriber calls - runs on the
 * loop thread in the ev_async handler or in ev_timer handlers, except building the look-up
 * index: after a burst of changes a short-lived thread of ours reads the table (rtrlib's
 * read lock) and sorts it, then hands the index to the loop through the same ev_async; the
 * change event is delivered once it is in. If the ring is full the
 * callback sets an overflow flag (and stops queueing until the loop has drained) and the next
 * change event says "everything changed"; during the first sync (no data yet) nothing is
 * queued at all, the sync itself is "everything changed". While we stop or restart the
 * manager (rtr_mgr_stop fires one delete callback per VRP on our own thread, with the table's
 * write lock held) a `quiet` flag makes the callbacks return at once.
 *
 * rtrlib 0.8.0 traps and what this module does about each (../shared/reference/rpki-bird.md):
 *   cache overrides intervals     rtr_set_interval_mode(RTR_INTERVAL_MODE_IGNORE_ANY) per socket
 *   session-ID loop after a cache restart
 *                                 status callback on RTR_ERROR_FATAL sets
 *                                 request_session_id = true (on the socket's own thread, just
 *                                 before it loops to CONNECTING), so it sends a Reset Query
 *   stop + start does not restart never restarted: a restart is stop + free + a fresh init
 *   SIGPIPE                       rtr_start() sets SIGPIPE to SIG_IGN (process-wide)
 *   signals                       all signals are blocked around rtr_mgr_start() so rtrlib's
 *                                 threads inherit the mask; the loop thread's mask is restored
 *   callbacks under table lock    callbacks only count and enqueue; no rtrlib call from them
 *   padding in pfx_record         fields are copied one by one, never the struct
 *   rtr_state_to_str(RTR_CLOSED)  out of bounds in 0.8.0: we name socket states ourselves
 *   in_sync means "once"          our own freshness clock (last completed sync per cache)
 *   no callback after a refresh   the status callback reports SYNC -> ESTABLISHED only when the
 *                                 group's status changes (the first sync); refresh syncs are
 *                                 seen by reading rs.last_update once a second
 *                                 (rtr_state.c)
 *   /0 VRPs abort lookups         rtrlib asserts in lrtr_get_bits; rov refuses to validate a
 *                                 family while a /0 VRP is held (rtr_private.h)
 *   four syscalls per PDU         a read buffer in front of rtrlib's TCP transport
 *   lrtr_dbg debug lines          Debian's librtr0 is built without NDEBUG and prints its debug
 *                                 lines to stderr; 0.8.0 has no log hook and the symbol is not
 *                                 exported, so they cannot be routed into log_debug. They go
 *                                 to the daemon's stderr, mixed with its log. Known, accepted.
 * Transport: TCP only. SSH is left out (rtrlib's SSH stop can block ~70 s, issue #254).
 * All caches form one rtrlib group (the multi-group failover paths carry bugs #267/#269);
 * their VRPs are unioned.
 *
 * Freshness state machine (rtr_fsm makes every transition; each is logged and counted):
 *
 *                    SYNC                STALE
 *    connecting ────────────> synced ────────────> stale
 *                             ^ │ ^                 │ │
 *                             │ │ └──────SYNC───────┘ │
 *                             │ │                     │
 *                        SYNC │ │ EXPIRE       EXPIRE │
 *                             │ v                     │
 *                             expired <───────────────┘
 *
 *    and synced ──SYNC──> synced: the freshness clock restarts;
 *    any state ──RESET──> connecting.
 *
 *   SYNC    a cache completed a sync (a reset or serial query answered up to End of Data)
 *   STALE   `stale_after` seconds passed since the last completed sync. A cache is lost only
 *           after its last sync, so this is also at most `stale_after` after the last cache
 *           was lost (SPEC's "since the last successful sync, or since the cache was lost").
 *   EXPIRE  `expire` seconds passed since the last completed sync: the data is dropped, as
 *           RFC 8210 §6 requires, by restarting the manager (stop, free, init, start)
 *   RESET   rtr_reconfigure changed what rtrlib holds (caches, refresh, retry): the data is
 *           dropped the same way and the new caches are synced from scratch
 * Any other (state, event) pair is illegal: rtr_fsm returns -1 and changes nothing.
 * Only `synced` counts as fresh (SPEC §3). The loop decides expiry, not rtrlib: rtrlib is
 * given max(expire, 600) (its minimum), our timer uses `expire` as configured.
 */
#ifndef PREFIXD_RTR_H
#define PREFIXD_RTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"

struct ev_loop;
struct rtr;

#define RTR_MAX_CACHES 8
#define RTR_HOST_MAX 256
#define RTR_PORT_MAX 8

struct rtr_cache_conf {
	char host[RTR_HOST_MAX];
	char port[RTR_PORT_MAX];
};

/* [rpki] of SPEC §7. Durations in seconds. */
struct rtr_conf {
	size_t ncaches;
	struct rtr_cache_conf caches[RTR_MAX_CACHES];
	unsigned refresh;           /* serial query interval, 1..86400 (default 300) */
	unsigned retry;             /* wait after a failed query, 1..7200 (default 30) */
	unsigned expire;            /* drop data this long after the last sync (default 7200) */
	unsigned stale_after;       /* see the state machine (default 900); must exceed refresh */
	unsigned connect_timeout;   /* TCP connect timeout (default 5) */
	unsigned debounce_ms;       /* quiet period before a change event (default 500) */
	unsigned debounce_max_ms;   /* a change event at the latest this long after the first
	                               change of a burst (default 2000) */
};

/* Fills defaults; no caches. */
void rtr_conf_init(struct rtr_conf *c);
/* Adds "HOST:PORT" or "[V6ADDR]:PORT". Returns 0 or -1 with invalid-argument. */
int rtr_conf_add_cache(struct rtr_conf *c, const char *hostport, struct err *e);
/* Checks ranges and relations; -1 with invalid-argument naming the key. */
int rtr_conf_check(const struct rtr_conf *c, struct err *e);

enum rtr_state {
	RTR_STATE_CONNECTING,
	RTR_STATE_SYNCED,
	RTR_STATE_STALE,
	RTR_STATE_EXPIRED,
};
#define RTR_STATE_COUNT 4

enum rtr_event {
	RTR_EV_SYNC,
	RTR_EV_STALE,
	RTR_EV_EXPIRE,
	RTR_EV_RESET,
};

/* The transition table alone: 0 and *next, or -1 for an illegal pair. */
int rtr_fsm_next(enum rtr_state s, enum rtr_event ev, enum rtr_state *next);
/* Applies ev to rtr: transition, log, count, timers, and on EXPIRE drops the data.
 * Loop thread only. Returns 0, or -1 for an illegal event (logged, counted, no change). */
int rtr_fsm(struct rtr *rtr, enum rtr_event ev);

/* "connecting", "synced", "stale", "expired". */
const char *rtr_state_name(enum rtr_state s);

/* Creates the module on loop (nothing runs yet). c is copied. Returns NULL with e set
 * (invalid-argument from rtr_conf_check). */
struct rtr *rtr_new(struct ev_loop *loop, const struct rtr_conf *c, struct err *e);
/* Starts rtrlib. Returns 0, or -1 with rtr-failed. Call once. */
int rtr_start(struct rtr *rtr, struct err *e);
/*
 * SIGHUP: applies a new configuration (loop thread). stale_after, expire and the debounce
 * periods take effect at once; a change of caches, refresh, retry, connect_timeout, or of
 * the expire rtrlib is given (max(expire, 600)), restarts rtrlib (RTR_EV_RESET: data
 * dropped, state connecting until the new caches synced). Returns 0, or -1 with
 * invalid-argument and nothing changed.
 */
int rtr_reconfigure(struct rtr *rtr, const struct rtr_conf *c, struct err *e);

/* Stops rtrlib (joins its threads; may take up to connect_timeout), frees everything.
 * No subscriber is called. NULL is a no-op. */
void rtr_free(struct rtr *rtr);

/* True only in RTR_STATE_SYNCED. */
bool rtr_is_fresh(const struct rtr *rtr);
enum rtr_state rtr_state(const struct rtr *rtr);

struct rtr_cache_status {
	char name[RTR_HOST_MAX + RTR_PORT_MAX + 4];   /* host:port */
	bool up;                    /* completed a sync on its current connection */
	const char *socket_state;   /* the last state rtrlib reported ("sync" also while idle
	                               after a refresh: 0.8.0 reports no ESTABLISHED then) */
	bool has_session;           /* a session id has been received */
	uint32_t session_id;
	uint32_t serial;
	double last_update_age;     /* seconds since its last completed sync; -1: never */
	uint64_t syncs;             /* completed syncs */
};

struct rtr_status {
	enum rtr_state state;
	bool fresh;
	size_t ncaches;
	struct rtr_cache_status caches[RTR_MAX_CACHES];
	uint64_t vrps_v4, vrps_v6;
	double last_update_age;     /* seconds since the last completed sync; -1: never */
	uint64_t transitions[RTR_STATE_COUNT];  /* entries into each state */
	uint64_t illegal_events;
	uint64_t overflows;         /* times the callback ring overflowed */
	uint64_t changes;           /* change events delivered */
	unsigned stale_after, expire;
};

/* A snapshot for `prefixctl rpki status`, /v1/status and the metrics. Loop thread only. */
void rtr_status_get(struct rtr *rtr, struct rtr_status *out);

/*
 * Change events. After VRPs were added or removed, and once the burst has been quiet for
 * debounce_ms (or debounce_max_ms after its first change), every subscriber is called on the
 * loop with the changed VRP prefixes. `all` means "everything may have changed" (initial or
 * large sync, ring overflow, data dropped at expiry): re-validate every prefix; then
 * `prefixes` is empty. The change and its array are valid only during the call.
 */
#define RTR_CHANGE_MAX 4096

struct rtr_change {
	bool all;
	size_t n;
	const struct cidr *prefixes;
};

typedef void (*rtr_change_fn)(const struct rtr_change *ch, void *arg);

/* Returns 0, or -1 with rtr-failed when RTR_MAX_SUBSCRIBERS are registered. */
#define RTR_MAX_SUBSCRIBERS 8
int rtr_subscribe(struct rtr *rtr, rtr_change_fn fn, void *arg, struct err *e);
/* Removes the (fn, arg) pair if present. Safe from inside a change callback. */
void rtr_unsubscribe(struct rtr *rtr, rtr_change_fn fn, void *arg);

/* True when p's validation may have changed: ch->all, or a changed VRP prefix contains p
 * or is contained in p. */
bool rtr_change_covers(const struct rtr_change *ch, const struct cidr *p);

/* Maps [rpki] of struct conf onto an rtr_conf (defaults, caches, checks); rpki/rtr_conf.c. */
struct conf;
int rtr_conf_from(const struct conf *c, struct rtr_conf *out, struct err *e);

#endif
