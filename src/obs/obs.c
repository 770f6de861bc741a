/*
 * obs — alerts, utilization alarms and the history index tick (contract in obs.h).
 */
#include "obs.h"

#include <ev.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "ipam.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define OBS_TICK 0.1
#define OBS_INDEX_EVERY 10              /* ticks: history's address index, about once a second */

struct obs_alarm {
	char *pool;
	bool on;
};

struct obs_sub {
	obs_tick_fn fn;
	void *arg;
};

struct obs {
	struct ev_loop *loop;
	struct store *store;
	struct ipam *ipam;
	ev_timer tick;
	struct obs_alarm *alarms;
	size_t nalarms, capalarms;
	size_t *slots, nslots;          /* index of alarms by pool name (SIZE_MAX: empty) */
	uint64_t scanned_head;          /* chain head at the last pool scan */
	unsigned ticks;                 /* since the last store_events_index */
	unsigned long long raised, cleared;
	struct obs_sub subs[OBS_MAX_SUBSCRIBERS];
	size_t nsubs;
};

/* ---- alarms and alerts ------------------------------------------------------------------------- */

/* FNV-1a of a pool name: the alarm index's hash. */
static size_t
obs_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* Rebuilds the index (open addressing, linear probing) at twice the entries' capacity. */
static void
obs_index_grow(struct obs *o)
{
	free(o->slots);
	o->nslots = o->capalarms * 2;
	if ((o->slots = malloc(o->nslots * sizeof(*o->slots))) == NULL)
		fatal("obs: out of memory");
	for (size_t i = 0; i < o->nslots; i++)
		o->slots[i] = SIZE_MAX;
	for (size_t i = 0; i < o->nalarms; i++) {
		size_t j = obs_hash(o->alarms[i].pool) & (o->nslots - 1);
		while (o->slots[j] != SIZE_MAX)
			j = (j + 1) & (o->nslots - 1);
		o->slots[j] = i;
	}
}

/*
 * The alarm record of a pool, created (off) when missing. O(1) on average: the pool scan runs
 * on every head move, and a linear search here made it O(pools^2) (0.4 s at 16.5k pools,
 * issue 15 finding 9).
 */
static struct obs_alarm *
obs_alarm_of(struct obs *o, const char *pool)
{
	size_t j = 0;

	if (o->nslots != 0) {
		for (j = obs_hash(pool) & (o->nslots - 1); o->slots[j] != SIZE_MAX;
		    j = (j + 1) & (o->nslots - 1))
			if (strcmp(o->alarms[o->slots[j]].pool, pool) == 0)
				return &o->alarms[o->slots[j]];
	}
	if (o->nalarms == o->capalarms) {
		o->capalarms = o->capalarms ? 2 * o->capalarms : 16;
		o->alarms = realloc(o->alarms, o->capalarms * sizeof(*o->alarms));
		if (o->alarms == NULL)
			fatal("obs: out of memory");
		obs_index_grow(o);
		for (j = obs_hash(pool) & (o->nslots - 1); o->slots[j] != SIZE_MAX;
		    j = (j + 1) & (o->nslots - 1))
			;
	}
	o->slots[j] = o->nalarms;
	o->alarms[o->nalarms].pool = xstrdup(pool);
	o->alarms[o->nalarms].on = false;
	return &o->alarms[o->nalarms++];
}

static int
obs_alarm_load_cb(void *arg, const char *key, const char *doc, struct err *e)
{
	struct obs *o = arg;

	(void)e;
	obs_alarm_of(o, key)->on = doc != NULL && strstr(doc, "\"alarm\":true") != NULL;
	return 0;
}

/*
 * Appends one system event (actor "prefixd", role "system") and, when key is not NULL, puts
 * the document (kind "alarm", key) in the same store level: its own transaction, or a
 * savepoint of the caller's. Returns 0, or -1 with e set and nothing written.
 */
static int
obs_system_write(struct obs *o, const char *action, const char *kind,
    const struct cidr *c, const char *after, const char *key, struct err *e)
{
	struct store_event ev = { 0 };

	ev.time = (int64_t)ev_now(o->loop);
	ev.actor = "prefixd";
	ev.role = "system";
	ev.action = action;
	ev.object_kind = kind;
	if (c != NULL) {
		ev.has_cidr = true;
		ev.cidr = *c;
	}
	ev.after = after;
	if (store_begin(o->store, e) < 0)
		return -1;
	if (store_event_append(o->store, &ev, e) < 0 ||
	    (key != NULL && store_doc_put(o->store, "alarm", key, after, e) < 0)) {
		store_rollback(o->store, NULL);
		return -1;
	}
	return store_commit(o->store, e);
}

int
obs_alert(struct obs *o, const char *action, const char *kind, const struct cidr *c,
    const char *after, struct err *e)
{
	return obs_system_write(o, action, kind, c, after, NULL, e);
}

/* Writes the crossing's event and record in one transaction; false when it failed. */
static bool
obs_alarm_write(struct obs *o, struct ipam_pool *p, const struct ipam_util *u)
{
	char prov[CIDR_U128_STRLEN], alloc[CIDR_U128_STRLEN];
	struct err e;
	json_t *j;
	char *after;
	int rc;

	j = json_pack("{s:s,s:s,s:b,s:f,s:i,s:s,s:s}", "pool", p->name, "scope", p->scope->name,
	    "alarm", u->alarm, "utilization_percent", u->percent, "alarm_at", u->alarm_at,
	    "provisioned", cidr_u128_format(u->provisioned, prov, sizeof(prov)),
	    "allocated", cidr_u128_format(u->allocated, alloc, sizeof(alloc)));
	if (j == NULL || (after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatal("obs: out of memory");
	json_decref(j);
	err_clear(&e);
	rc = obs_system_write(o, u->alarm ? "alarm-raised" : "alarm-cleared", "pool", NULL,
	    after, p->name, &e);
	if (rc < 0)
		log_warnx("pool %s: alarm event not written: %s", p->name, e.msg);
	else
		log_warnx("pool %s: utilization %.2f%% %s alarm_at %d%%", p->name, u->percent,
		    u->alarm ? "crossed" : "fell below", u->alarm_at);
	free(after);
	return rc == 0;
}

static int
obs_alarm_cb(void *arg, struct ipam_pool *p)
{
	struct obs *o = arg;
	struct obs_alarm *a = obs_alarm_of(o, p->name);
	struct ipam_util u;

	if (ipam_pool_alarmed(p) == a->on)
		return 0;                       /* O(1) per pool: no free-block walk */
	ipam_pool_util(p, &u);
	if (u.alarm != a->on && obs_alarm_write(o, p, &u)) {
		a->on = u.alarm;
		if (u.alarm)
			o->raised++;
		else
			o->cleared++;
	}
	return 0;
}

void
obs_alarm_scan(struct obs *o)
{
	ipam_pool_foreach(o->ipam, NULL, obs_alarm_cb, o);
}

static void
obs_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct obs *o = t->data;
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t head = 0;
	struct err e;

	(void)loop;
		(void)revents;
	if (store_in_txn(o->store))
		return;
	err_clear(&e);
	if (store_event_head(o->store, &head, hash, &e) < 0) {
		log_warnx("obs: %s", e.msg);
		return;
	}
	if (head != o->scanned_head) {
		o->scanned_head = head;
		obs_alarm_scan(o);
		store_event_head(o->store, &head, hash, &e);
	}
	if (++o->ticks >= OBS_INDEX_EVERY) {
		o->ticks = 0;
		if (store_events_index(o->store, &e) < 0)
			log_warnx("obs: history index not brought up to date: %s", e.msg);
	}
	for (size_t i = 0; i < o->nsubs; i++)
		o->subs[i].fn(o->subs[i].arg, head);
}

struct obs *
obs_new(struct ev_loop *loop, struct store *store, struct ipam *ipam)
{
	struct obs *o = calloc(1, sizeof(*o));
	struct err e;

	if (o == NULL)
		fatal("calloc");
	o->loop = loop;
	o->store = store;
	o->ipam = ipam;
	o->scanned_head = UINT64_MAX;   /* scan at the first tick */
	err_clear(&e);
	if (store_doc_load(store, "alarm", obs_alarm_load_cb, o, &e) < 0)
		log_warnx("obs: alarm records not loaded: %s", e.msg);
	ev_timer_init(&o->tick, obs_tick_cb, OBS_TICK, OBS_TICK);
	o->tick.data = o;
	return o;
}

void
obs_start(struct obs *o)
{
	ev_timer_start(o->loop, &o->tick);
	ev_unref(o->loop);      /* the tick alone must not keep the loop running */
}

void
obs_free(struct obs *o)
{
	if (o == NULL)
		return;
	if (ev_is_active(&o->tick)) {
		ev_ref(o->loop);
		ev_timer_stop(o->loop, &o->tick);
	}
	while (o->nalarms > 0)
		free(o->alarms[--o->nalarms].pool);
	free(o->alarms);
	free(o->slots);
	free(o);
}

int
obs_subscribe(struct obs *o, obs_tick_fn fn, void *arg)
{
	if (o->nsubs == OBS_MAX_SUBSCRIBERS)
		return -1;
	o->subs[o->nsubs].fn = fn;
	o->subs[o->nsubs++].arg = arg;
	return 0;
}

/* ---- metrics --------------------------------------------------------------------------- */

void
obs_metrics(void *arg, FILE *out)
{
	struct obs *o = arg;
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t head = 0;

	if (!store_in_txn(o->store) && store_event_head(o->store, &head, hash, NULL) < 0)
		head = 0;
	fprintf(out, "# HELP prefixd_events_last_id Id of the last event in the audit log.\n"
	    "# TYPE prefixd_events_last_id gauge\nprefixd_events_last_id %" PRIu64 "\n", head);
	fprintf(out, "# HELP prefixd_pool_alarm_transitions_total Utilization alarms raised and "
	    "cleared.\n# TYPE prefixd_pool_alarm_transitions_total counter\n"
	    "prefixd_pool_alarm_transitions_total{transition=\"raised\"} %llu\n"
	    "prefixd_pool_alarm_transitions_total{transition=\"cleared\"} %llu\n",
	    o->raised, o->cleared);
}
