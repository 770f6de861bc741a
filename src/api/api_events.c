/*
 * api_events — the event feed and audit verification (issue 9).
 *
 * Routes (reader):
 *   GET /v1/events?after=ID&limit=N&wait=S
 *       Events with id > ID, oldest first, at most N (default 100, 1..1000). Without `after`,
 *       the latest N events. With wait=S (1..60) and nothing to send yet, the request is a
 *       long poll: it is answered as soon as an event is committed (checked every 100 ms),
 *       or with an empty list after S seconds. The answer is {"events": [...], "last_id": the
 *       id of the last event sent, or `after` when none}; a follower asks again with
 *       after=last_id (`prefixctl events --follow`). Long polls have their own cap per
 *       listener ([daemon] max_long_polls, at most half of max_connections, src/api/http.h):
 *       past it, 429 too-many-long-polls with Retry-After: 1 and the connection closed, so
 *       waiting readers never hold every connection slot.
 *   GET /v1/audit/verify
 *       Walks the whole hash chain (store_audit_verify): 200 {"ok": true, "events": N,
 *       "head_id", "head", "keyed", "key_id", "keyed_from", "published_head_id"} or 409
 *       audit-broken naming the first event that does not check (audit.h: edited, missing,
 *       a cut tail, a keyed chain re-hashed; SQLite: history's index edited, then rebuilt).
 *
 * Long polls wait in a list here; the daemon subscribes api_events_tick to obs's tick
 * (src/obs/obs.h, every 100 ms), which answers every waiter that has news, has waited long
 * enough, or must go (stopping). Without an obs (unit tests) a long poll answers at once.
 * Long polls are counted in the request metrics when they are answered (a suspended
 * request's status is 0 and metrics_request skips it).
 */
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

struct events_waiter {
	struct http_req *req;
	uint64_t after;
	unsigned limit;
	double deadline;
	struct events_waiter *next;
};

/* The suspended long polls (requests of this process's one API). */
static struct events_waiter *events_waiters;

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

/* ---- long polls ------------------------------------------------------------------------ */

static void
events_answer(struct daemon *d, struct events_waiter *w)
{
	json_t *j;
	struct err e;

	err_clear(&e);
	if (events_page(d, w->after, w->limit, &j, &e) < 0)
		api_req_error(w->req, 503, e.code ? e.code : "store-failed", e.msg);
	else
		http_reply_json(w->req, 200, j);
	metrics_request(d->metrics, events_route, "GET", w->req->status,
	    ev_time() - w->req->started);
	http_resume(w->req);
	free(w);
}

void
api_events_tick(void *arg, uint64_t head)
{
	struct daemon *d = arg;
	struct events_waiter **pw = &events_waiters, *w;
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
		api_error(ctx, "invalid-argument", "%s: want a number %" PRIu64 "..%" PRIu64,
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
	if (after >= head && wait > 0 && ctx->d->obs != NULL && !ctx->d->stopping) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			fatal("events: out of memory");
		if (http_suspend_long(ctx->req) < 0) {
			free(w);        /* the long-poll cap: answered 429 too-many-long-polls */
			return;
		}
		w->req = ctx->req;
		w->after = after;
		w->limit = (unsigned)limit;
		w->deadline = ev_now(ctx->d->loop) + (double)wait;
		w->next = events_waiters;
		events_waiters = w;
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

	err_clear(&e);
	if (store_audit_verify(ctx->d->store, &v, &e) < 0) {
		if (e.code != NULL && strcmp(e.code, "audit-broken") == 0) {
			log_warnx("audit verify: %s (%" PRIu64 " events checked before)", e.msg, v.count);
			api_error(ctx, e.code, "%s", e.msg);
		} else {
			api_reply_err(ctx, &e);
		}
		return;
	}
	api_reply(ctx, 200, json_pack("{s:b,s:I,s:I,s:s,s:b,s:s?,s:I,s:I}", "ok", 1, "events",
	    (json_int_t)v.count, "head_id", (json_int_t)v.last_id, "head", v.prev,
	    "keyed", v.keyed_from != 0, "key_id", v.key != NULL ? v.key->id : NULL,
	    "keyed_from", (json_int_t)v.keyed_from, "published_head_id", (json_int_t)v.pub_id));
}

static const struct api_route api_events_table[] = {
	{ "GET", events_route, HTTP_ROLE_READER, api_events_get },
	{ "GET", "/v1/audit/verify", HTTP_ROLE_READER, api_audit_verify },
};
API_TABLE(api_events_routes, api_events_table);
