/*
 * api_events — the event feed, audit verification and the utilization alarm (issue 9).
 *
 * Routes (reader):
 *   GET /v1/events?after=ID&limit=N&wait=S
 *       Events with id > ID, oldest first, at most N (default 100, 1..1000). Without `after`,
 *       the latest N events. With wait=S (1..60) and nothing to send yet, the request is a
 *       long poll: it is answered as soon as an event is committed (checked every 100 ms),
 *       or with an empty list after S seconds. The answer is {"events": [...], "last_id": the
 *       id of the last event sent, or `after` when none}; a follower asks again with
 *       after=last_id (`prefixctl events --follow`).
 *   GET /v1/audit/verify
 *       Walks the whole hash chain (store_audit_verify): 200 {"ok": true, "events": N,
 *       "head_id", "head"} or 409 audit-broken naming the first event that does not check.
 *
 * The watcher: one ev_timer (every 100 ms) answers long polls and raises the utilization
 * alarm. Utilization changes only through mutations, and every mutation writes an event, so
 * the pools are scanned only when the chain head moved. A pool whose alarm state differs
 * from the one recorded (document kind "alarm", key the pool's name) gets one event,
 * "alarm-raised" or "alarm-cleared" (actor "prefixd", role "system"), and the record is
 * updated in the same transaction: one event per crossing, also across restarts. An alert
 * event has no CIDR (a pool may hold several); its `after` names the pool.
 *
 * The tick also brings history's address index up to date about once a second
 * (store_events_index: one small transaction, so a change's own commit does not pay for it;
 * history is complete meanwhile, it scans the log's tail).
 *
 * Wiring: api_register_builtin() registers the routes (api_events_register) and api_init()
 * starts the watcher (api_events_start; idempotent per daemon). Long polls are counted in the
 * request metrics when they are answered (a suspended request's status is 0 and metrics_request skips it).
 */
#include "api_events.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define EVENTS_LIMIT_DEFAULT 100
#define EVENTS_LIMIT_MAX 1000
#define EVENTS_WAIT_MAX 60
#define EVENTS_TICK 0.1
#define EVENTS_INDEX_EVERY 10           /* ticks: history's address index, about once a second */

struct events_waiter {
	struct http_req *req;
	uint64_t after;
	unsigned limit;
	double deadline;
	struct events_waiter *next;
};

struct events_alarm {
	char *pool;
	bool on;
};

static struct {
	struct daemon *d;
	struct ev_loop *loop;           /* the loop the tick runs on */
	ev_timer tick;
	struct events_waiter *waiters;
	struct events_alarm *alarms;
	size_t nalarms, capalarms;
	uint64_t scanned_head;          /* chain head at the last pool scan */
	unsigned ticks;                 /* since the last store_events_index */
	unsigned long long raised, cleared;
} ev_obs;

static const char events_route[] = "/v1/events";

/* ---- event JSON ------------------------------------------------------------------------ */

static json_t *
events_text(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		j = json_string(s);
	return j != NULL ? j : json_null();
}

static json_t *
events_str(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();
}

static int
events_push(void *arg, const struct store_event *ev)
{
	json_array_append_new(arg, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)ev->id, "time", api_time_json(ev->time),
	    "actor", events_str(ev->actor), "role", events_str(ev->role),
	    "request_id", events_str(ev->request_id), "action", events_str(ev->action),
	    "object_kind", events_str(ev->object_kind),
	    "cidr", ev->has_cidr ? api_cidr_json(&ev->cidr) : json_null(),
	    "before", events_text(ev->before), "after", events_text(ev->after),
	    "evidence", events_text(ev->evidence), "hash", events_str(ev->hash)));
	return 0;
}

/* The answer to a feed request: events after `after`, at most limit. */
static int
events_page(struct daemon *d, uint64_t after, unsigned limit, json_t **out, struct err *e)
{
	json_t *a = json_array(), *last;
	uint64_t last_id = after;

	if (store_events_after(d->store, after, limit, events_push, a, e) < 0) {
		json_decref(a);
		return -1;
	}
	if ((last = json_array_get(a, json_array_size(a) - 1)) != NULL)
		last_id = (uint64_t)json_integer_value(json_object_get(last, "id"));
	*out = json_pack("{s:o,s:I}", "events", a, "last_id", (json_int_t)last_id);
	return 0;
}

/* ---- the alarm ------------------------------------------------------------------------- */

static struct events_alarm *
events_alarm_of(const char *pool)
{
	for (size_t i = 0; i < ev_obs.nalarms; i++)
		if (strcmp(ev_obs.alarms[i].pool, pool) == 0)
			return &ev_obs.alarms[i];
	if (ev_obs.nalarms == ev_obs.capalarms) {
		ev_obs.capalarms = ev_obs.capalarms ? 2 * ev_obs.capalarms : 16;
		ev_obs.alarms = realloc(ev_obs.alarms, ev_obs.capalarms * sizeof(*ev_obs.alarms));
		if (ev_obs.alarms == NULL)
			fatal("events: out of memory");
	}
	if ((ev_obs.alarms[ev_obs.nalarms].pool = strdup(pool)) == NULL)
		fatal("events: out of memory");
	ev_obs.alarms[ev_obs.nalarms].on = false;
	return &ev_obs.alarms[ev_obs.nalarms++];
}

static int
events_alarm_load_cb(void *arg, const char *key, const char *doc, struct err *e)
{
	(void)arg;
	(void)e;
	events_alarm_of(key)->on = doc != NULL && strstr(doc, "\"alarm\":true") != NULL;
	return 0;
}

/*
 * Appends one system event (actor "prefixd", role "system") and, when key is not NULL, puts
 * the document (kind "alarm", key) in the same store level: its own transaction, or a
 * savepoint of the caller's. Returns 0, or -1 with e set and nothing written.
 */
static int
events_system_write(struct daemon *d, const char *action, const char *kind,
    const struct cidr *c, const char *after, const char *key, struct err *e)
{
	struct store_event ev = { 0 };

	ev.time = (int64_t)ev_now(d->loop);
	ev.actor = "prefixd";
	ev.role = "system";
	ev.action = action;
	ev.object_kind = kind;
	if (c != NULL) {
		ev.has_cidr = true;
		ev.cidr = *c;
	}
	ev.after = after;
	if (store_begin(d->store, e) < 0)
		return -1;
	if (store_event_append(d->store, &ev, e) < 0 ||
	    (key != NULL && store_doc_put(d->store, "alarm", key, after, e) < 0)) {
		store_rollback(d->store, NULL);
		return -1;
	}
	return store_commit(d->store, e);
}

int
api_events_alert(struct daemon *d, const char *action, const char *kind, const struct cidr *c,
    const char *after, struct err *e)
{
	return events_system_write(d, action, kind, c, after, NULL, e);
}

/* Writes the crossing's event and record in one transaction; false when it failed. */
static bool
events_alarm_write(struct daemon *d, struct ipam_pool *p, const struct ipam_util *u)
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
		fatal("events: out of memory");
	json_decref(j);
	err_clear(&e);
	rc = events_system_write(d, u->alarm ? "alarm-raised" : "alarm-cleared", "pool", NULL,
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
events_alarm_cb(void *arg, struct ipam_pool *p)
{
	struct daemon *d = arg;
	struct events_alarm *a = events_alarm_of(p->name);
	struct ipam_util u;

	ipam_pool_util(p, &u);
	if (u.alarm != a->on && events_alarm_write(d, p, &u)) {
		a->on = u.alarm;
		if (u.alarm)
			ev_obs.raised++;
		else
			ev_obs.cleared++;
	}
	return 0;
}

/* ---- long polls ------------------------------------------------------------------------ */

static void
events_answer(struct daemon *d, struct events_waiter *w)
{
	json_t *j;
	struct err e;

	err_clear(&e);
	if (events_page(d, w->after, w->limit, &j, &e) < 0)
		http_reply_error(w->req, 503, e.code ? e.code : "store-failed", "%s", e.msg);
	else
		http_reply_json(w->req, 200, j);
	metrics_request(events_route, "GET", w->req->status, ev_time() - w->req->started);
	http_resume(w->req);
	free(w);
}

/* Answers every waiter that has news, has waited long enough, or must go (stopping). */
static void
events_wake(struct daemon *d, uint64_t head)
{
	struct events_waiter **pw = &ev_obs.waiters, *w;
	double now = ev_now(d->loop);
	int answered = 0;

	while ((w = *pw) != NULL) {
		if (w->after < head || now >= w->deadline || d->stopping) {
			*pw = w->next;
			events_answer(d, w);
			answered = 1;
		} else {
			pw = &w->next;
		}
	}
	if (answered && d->http != NULL)
		http_kick(d->http);
}

static void
events_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct daemon *d = ev_obs.d;
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t head = 0;
	struct err e;

	(void)loop;
	(void)t;
	(void)revents;
	if (store_in_txn(d->store))
		return;
	err_clear(&e);
	if (store_event_head(d->store, &head, hash, &e) < 0) {
		log_warnx("events: %s", e.msg);
		return;
	}
	if (head != ev_obs.scanned_head) {
		ev_obs.scanned_head = head;
		ipam_pool_foreach(d->ipam, NULL, events_alarm_cb, d);
		store_event_head(d->store, &head, hash, &e);
	}
	if (++ev_obs.ticks >= EVENTS_INDEX_EVERY) {
		ev_obs.ticks = 0;
		if (store_events_index(d->store, &e) < 0)
			log_warnx("events: history index not brought up to date: %s", e.msg);
	}
	events_wake(d, head);
}

/* Starts the watcher once per daemon (loads the alarm records first). */
void
api_events_start(struct daemon *d)
{
	struct err e;

	if (ev_obs.d == d || d->store == NULL)  /* no store (auth_api_server): nothing to watch */
		return;
	if (ev_obs.d != NULL) {         /* another daemon (unit tests): start over */
		ev_ref(ev_obs.loop);
		ev_timer_stop(ev_obs.loop, &ev_obs.tick);
		while (ev_obs.nalarms > 0)
			free(ev_obs.alarms[--ev_obs.nalarms].pool);
	}
	ev_obs.d = d;
	ev_obs.loop = d->loop;
	ev_obs.scanned_head = UINT64_MAX;       /* scan at the first tick */
	err_clear(&e);
	if (store_doc_load(d->store, "alarm", events_alarm_load_cb, NULL, &e) < 0)
		log_warnx("events: alarm records not loaded: %s", e.msg);
	ev_timer_init(&ev_obs.tick, events_tick_cb, EVENTS_TICK, EVENTS_TICK);
	ev_timer_start(d->loop, &ev_obs.tick);
	ev_unref(d->loop);      /* the watcher alone must not keep the loop running */
}

/* ---- handlers -------------------------------------------------------------------------- */

/* A decimal query parameter within [min, max]; absent: *out unchanged, 0. -1: replied 400. */
static int
events_num_arg(struct api_ctx *ctx, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = http_query(ctx->req, name);
	char *end;
	unsigned long long v;

	if (s == NULL)
		return 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || strlen(s) > 20 || v < min || v > max) {
		api_error(ctx, 400, "invalid-argument", "%s: want a number %" PRIu64 "..%" PRIu64,
		    name, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void
api_events_get(struct api_ctx *ctx)
{
	uint64_t after = 0, limit = EVENTS_LIMIT_DEFAULT, wait = 0, head = 0;
	char hash[AUDIT_HASH_HEXLEN + 1];
	struct events_waiter *w;
	struct err e;
	json_t *j;

	api_events_start(ctx->d);
	if (events_num_arg(ctx, "limit", 1, EVENTS_LIMIT_MAX, &limit) < 0 ||
	    events_num_arg(ctx, "wait", 0, EVENTS_WAIT_MAX, &wait) < 0)
		return;
	err_clear(&e);
	if (store_event_head(ctx->d->store, &head, hash, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	after = head > limit ? head - limit : 0;        /* default: the latest `limit` */
	if (events_num_arg(ctx, "after", 0, INT64_MAX, &after) < 0)
		return;
	if (after >= head && wait > 0 && !ctx->d->stopping) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			fatal("events: out of memory");
		w->req = ctx->req;
		w->after = after;
		w->limit = (unsigned)limit;
		w->deadline = ev_now(ctx->d->loop) + (double)wait;
		w->next = ev_obs.waiters;
		ev_obs.waiters = w;
		http_suspend(ctx->req);
		return;
	}
	if (events_page(ctx->d, after, (unsigned)limit, &j, &e) < 0) {
		api_reply_err(ctx, &e);
		return;
	}
	api_reply(ctx, 200, j);
}

static void
api_audit_verify(struct api_ctx *ctx)
{
	struct audit_verifier v;
	struct err e;

	api_events_start(ctx->d);
	err_clear(&e);
	if (store_audit_verify(ctx->d->store, &v, &e) < 0) {
		if (e.code != NULL && strcmp(e.code, "audit-broken") == 0) {
			log_warnx("audit verify: %s (%" PRIu64 " events checked before)", e.msg, v.count);
			api_error(ctx, 409, e.code, "%s", e.msg);
		} else {
			api_reply_err(ctx, &e);
		}
		return;
	}
	api_reply(ctx, 200, json_pack("{s:b,s:I,s:I,s:s}", "ok", 1, "events", (json_int_t)v.count,
	    "head_id", (json_int_t)v.last_id, "head", v.prev));
}

static const struct api_route api_events_routes[] = {
	{ "GET", events_route, HTTP_ROLE_READER, api_events_get },
	{ "GET", "/v1/audit/verify", HTTP_ROLE_READER, api_audit_verify },
};

void
api_events_register(void)
{
	if (api_register_routes(api_events_routes,
	    sizeof(api_events_routes) / sizeof(api_events_routes[0])) < 0)
		fatalx("api: route table full");
}

/* ---- metrics --------------------------------------------------------------------------- */

void
api_events_metrics(struct daemon *d, FILE *out)
{
	char hash[AUDIT_HASH_HEXLEN + 1];
	uint64_t head = 0;

	api_events_start(d);
	if (!store_in_txn(d->store) && store_event_head(d->store, &head, hash, NULL) < 0)
		head = 0;
	fprintf(out, "# HELP prefixd_events_last_id Id of the last event in the audit log.\n"
	    "# TYPE prefixd_events_last_id gauge\nprefixd_events_last_id %" PRIu64 "\n", head);
	fprintf(out, "# HELP prefixd_pool_alarm_transitions_total Utilization alarms raised and "
	    "cleared.\n# TYPE prefixd_pool_alarm_transitions_total counter\n"
	    "prefixd_pool_alarm_transitions_total{transition=\"raised\"} %llu\n"
	    "prefixd_pool_alarm_transitions_total{transition=\"cleared\"} %llu\n",
	    ev_obs.raised, ev_obs.cleared);
}
