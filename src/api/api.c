/*
 * api — route table, dispatch, the error-code -> HTTP-status table, JSON helpers and the group
 * commit (see api.h for the contract). Its state is struct api (d->api).
 */
#include "api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "grant.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

struct api_section {
	const char *name;
	api_section_fn fn;
};

struct api {
	struct daemon *d;               /* NULL for a bare route table (--list-routes) */
	const struct api_route *routes[API_MAX_ROUTES];
	const struct api_table *route_table[API_MAX_ROUTES];    /* where each route came from */
	size_t nroutes;
	struct api_section sections[API_MAX_SECTIONS];
	size_t nsections;
	/* What else must forget a batch whose COMMIT failed (api_on_rollback). */
	struct { void (*fn)(void *); void *arg; } rollback[API_MAX_ROLLBACK_HOOKS];
	size_t nrollback;
	/* Group commit: one queue, drained once per loop iteration. */
	struct api_ctx *queue_head, **queue_tail;
	size_t nqueued;
	ev_prepare prepare_w;
	ev_idle idle_w;
	ev_timer gather_w;
};

struct api *
api_new(void)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		fatal("calloc");
	a->queue_tail = &a->queue_head;
	return a;
}

void
api_free(struct api *a)
{
	free(a);
}

int
api_on_rollback(struct api *a, void (*fn)(void *arg), void *arg)
{
	for (size_t i = 0; i < a->nrollback; i++)
		if (a->rollback[i].fn == fn && a->rollback[i].arg == arg)
			return 0;
	if (a->nrollback == API_MAX_ROLLBACK_HOOKS)
		return -1;
	a->rollback[a->nrollback].fn = fn;
	a->rollback[a->nrollback++].arg = arg;
	return 0;
}

int
api_add_routes(struct api *a, const struct api_table *t, struct err *e)
{
	if (a->nroutes + t->n > API_MAX_ROUTES)
		return err_set(e, "internal", "%s: the route table is full (%d routes)", t->name,
		    API_MAX_ROUTES);
	for (size_t i = 0; i < t->n; i++) {
		const struct api_route *r = &t->routes[i];

		for (size_t j = 0; j < a->nroutes; j++)
			if (strcmp(a->routes[j]->method, r->method) == 0 &&
			    strcmp(a->routes[j]->pattern, r->pattern) == 0)
				return err_set(e, "duplicate-route", "%s %s is served twice: by %s and "
				    "by %s", r->method, r->pattern, a->route_table[j]->name, t->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->routes[j].method, r->method) == 0 &&
			    strcmp(t->routes[j].pattern, r->pattern) == 0)
				return err_set(e, "duplicate-route", "%s %s is served twice by %s",
				    r->method, r->pattern, t->name);
	}
	for (size_t i = 0; i < t->n; i++) {
		a->route_table[a->nroutes] = t;
		a->routes[a->nroutes++] = &t->routes[i];
	}
	return 0;
}

int
api_add_status_section(struct api *a, const char *name, api_section_fn fn)
{
	if (a->nsections == API_MAX_SECTIONS)
		return -1;
	a->sections[a->nsections].name = name;
	a->sections[a->nsections++].fn = fn;
	return 0;
}

void
api_status_sections(struct daemon *d, json_t *obj)
{
	for (size_t i = 0; i < d->api->nsections; i++)
		json_object_set_new(obj, d->api->sections[i].name, d->api->sections[i].fn(d));
}

void
api_routes_print(const struct api *a, FILE *out)
{
	for (size_t i = 0; i < a->nroutes; i++)
		fprintf(out, "%s %s %s\n", a->routes[i]->method, a->routes[i]->pattern,
		    http_role_name(a->routes[i]->min_role));
}

/*
 * Matches path against pattern, capturing {x} segments into ctx (when not NULL).
 * Returns 1 on a match. libmicrohttpd has already percent-decoded the path.
 */
static int
api_match(const char *pattern, const char *path, struct api_ctx *ctx)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			size_t seg = strcspn(s, "/");
			const char *close = strchr(p, '}');
			if (seg == 0 || close == NULL || n == API_MAX_PARAMS || seg >= sizeof(ctx->pbuf[0]))
				return 0;
			if (ctx != NULL) {
				memcpy(ctx->pbuf[n], s, seg);
				ctx->pbuf[n][seg] = '\0';
				ctx->params[n] = ctx->pbuf[n];
			}
			n++;
			p = close + 1;
			s += seg;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (ctx != NULL)
		ctx->nparams = n;
	return 1;
}

int
api_status_of(const char *code)
{
	static const struct { const char *code; int status; } map[] = {
		{ "invalid-json", 400 }, { "invalid-argument", 400 }, { "unknown-field", 400 },
		{ "cidr-invalid", 400 }, { "cidr-not-canonical", 400 }, { "asn-invalid", 400 },
		{ "bad-cursor", 400 },
		{ "unauthorized", 401 }, { "forbidden", 403 },
		{ "not-found", 404 }, { "no-such-route", 404 }, { "method-not-allowed", 405 },
		{ "request-timeout", 408 },
		{ "overlap", 409 }, { "exists", 409 }, { "in-use", 409 }, { "token-conflict", 409 },
		{ "pool-exhausted", 409 }, { "audit-broken", 409 },
		{ "too-many", 409 }, { "busy", 409 }, { "not-provisioned", 409 },
		{ "not-advertised", 409 }, { "other-origin-present", 409 },
		{ "asn-not-provisioned", 409 },
		{ "body-too-large", 413 },
		{ "netmask-too-large", 422 }, { "netmask-too-small", 422 }, { "missing-tag", 422 },
		{ "locale-mismatch", 422 }, { "rpki-invalid", 422 }, { "rpki-not-found", 422 },
		{ "rate-limited", 429 },
		{ "internal", 500 },
		{ "store-failed", 503 }, { "storage-full", 503 }, { "shutting-down", 503 },
		{ "not-ready", 503 }, { "rpki-stale", 503 }, { "rpki-unavailable", 503 },
		{ "rov-unavailable", 503 }, { "rov-failed", 503 }, { "bmp-unavailable", 503 },
		{ "not-visible", 504 },
		/* sites (issue 17) */
		{ "site-unknown", 404 }, { "lease-lost", 409 }, { "circuit-open", 503 },
		{ "site-standby", 503 }, { "site-unavailable", 503 }, { "site-timeout", 504 },
	};

	if (code == NULL)
		return 500;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	if (strncmp(code, "bird-", 5) == 0)     /* bird-unavailable, -config-invalid, -verify-failed */
		return 503;
	if (strncmp(code, "rpki-", 5) == 0)     /* other RPKI verdicts of the lifecycle */
		return 422;
	return 400;
}

void
api_reply(struct api_ctx *ctx, int status, json_t *j)
{
	http_reply_json(ctx->req, status, j);
}

void
api_req_error(struct http_req *req, int status, const char *code, const char *msg)
{
	if (code != NULL && (strcmp(code, "store-failed") == 0 || strcmp(code, "storage-full") == 0)) {
		log_error("request %s: %s: %s", req->request_id, code, msg);
		http_reply_error(req, status, code, "%s; the details are in the daemon's log "
		    "(request %s)", strcmp(code, "storage-full") == 0 ? "the store's disk is full" :
		    "the store failed", req->request_id);
		return;
	}
	http_reply_error(req, status, code, "%s", msg);
}

static void
api_verror(struct api_ctx *ctx, int status, const char *code, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	api_req_error(ctx->req, status, code, msg);
}

void
api_error(struct api_ctx *ctx, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	api_verror(ctx, api_status_of(code), code, fmt, ap);
	va_end(ap);
}

void
api_error_status(struct api_ctx *ctx, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	api_verror(ctx, status, code, fmt, ap);
	va_end(ap);
}

void
api_reply_err(struct api_ctx *ctx, const struct err *e)
{
	const char *code = e->code ? e->code : "internal";

	api_error(ctx, code, "%s", e->msg);
}

/* Nesting depth of a JSON text, counted outside strings; stops early past limit. */
static int
api_json_depth(const char *s, size_t n, int limit)
{
	int depth = 0, max = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max && (max = depth) > limit)
				return max;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

/* Parses the request body into ctx->body (an object). Replies 400 and returns -1 on error. */
static int
api_parse_body(struct api_ctx *ctx)
{
	struct http_req *r = ctx->req;
	json_error_t je;
	size_t i;

	for (i = 0; i < r->body_len && strchr(" \t\r\n", r->body[i]) != NULL; i++)
		;
	if (i == r->body_len) {
		ctx->body = json_object();
		return 0;
	}
	if (api_json_depth(r->body, r->body_len, API_MAX_DEPTH) > API_MAX_DEPTH) {
		api_error(ctx, "invalid-json", "JSON nested deeper than %d levels", API_MAX_DEPTH);
		return -1;
	}
	ctx->body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (ctx->body == NULL) {
		api_error(ctx, "invalid-json", "line %d column %d: %s", je.line, je.column, je.text);
		return -1;
	}
	if (!json_is_object(ctx->body)) {
		api_error(ctx, "invalid-json", "the body must be a JSON object");
		return -1;
	}
	return 0;
}

static void
api_ctx_free(struct api_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->work_free != NULL)
		ctx->work_free(ctx->work_arg);
	json_decref(ctx->body);
	free(ctx);
}

/* Finds the route; replies 404/405 itself when none matches. */
static const struct api_route *
api_route_find(struct api_ctx *ctx)
{
	const struct api *a = ctx->d->api;
	const char *method = ctx->req->method, *path = ctx->req->path;
	int path_known = 0;

	for (size_t i = 0; i < a->nroutes; i++) {
		if (!api_match(a->routes[i]->pattern, path, NULL))
			continue;
		path_known = 1;
		if (strcmp(a->routes[i]->method, method) == 0) {
			api_match(a->routes[i]->pattern, path, ctx);
			return a->routes[i];
		}
	}
	if (path_known)
		api_error(ctx, "method-not-allowed", "%s is not allowed on %s", method, path);
	else
		api_error(ctx, "no-such-route", "no route %s %s", method, path);
	return NULL;
}

static void
api_finish_metrics(struct api_ctx *ctx)
{
	metrics_request(ctx->d->metrics, ctx->route ? ctx->route->pattern : "unmatched",
	    ctx->req->method, ctx->req->status, ev_time() - ctx->req->started);
}

void
api_dispatch(struct http_req *req, void *arg)
{
	struct api_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *m = req->method;
	int granted;

	if (ctx == NULL)
		fatal("calloc");
	ctx->d = arg;
	ctx->req = req;
	ctx->who.actor = req->actor;
	ctx->who.role = http_role_name(req->role);
	ctx->who.request_id = req->request_id;
	ctx->route = api_route_find(ctx);
	if (ctx->route == NULL)
		goto done;
	if (req->role == HTTP_ROLE_NONE && ctx->route->min_role > HTTP_ROLE_NONE) {
		api_error(ctx, "unauthorized", "missing or unknown bearer token");
		goto done;
	}
	if ((granted = api_grant_admit(ctx)) < 0)
		goto done;
	if (!granted && req->role < ctx->route->min_role) {
		api_error(ctx, "forbidden", "%s %s needs role %s; %s is %s", m,
		    ctx->route->pattern, http_role_name(ctx->route->min_role), req->actor,
		    http_role_name(req->role));
		goto done;
	}
	if ((strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) &&
	    api_parse_body(ctx) < 0)
		goto done;
	if (ctx->d->stopping) {
		api_error(ctx, "shutting-down", "prefixd is stopping");
		goto done;
	}
	ctx->route->handler(ctx);
	if (ctx->work != NULL) {
		http_suspend(req);
		return;                 /* answered after the batch's COMMIT */
	}
done:
	api_finish_metrics(ctx);
	api_ctx_free(ctx);
}

/* Whether path is served to anyone (a route with min_role HTTP_ROLE_NONE): http_set_anonymous. */
static int
api_path_anonymous(void *arg, const char *path)
{
	const struct api *a = arg;

	for (size_t i = 0; i < a->nroutes; i++)
		if (a->routes[i]->min_role == HTTP_ROLE_NONE &&
		    api_match(a->routes[i]->pattern, path, NULL))
			return 1;
	return 0;
}

/*
 * Commit delay (after PostgreSQL's commit_delay): when other connections are open that have
 * not queued anything yet, the batch waits up to [daemon] commit_delay_us for them, so that
 * clients answered by the previous batch join this one instead of forming the next. A lone
 * client never waits: it is the only open connection. Connections suspended elsewhere (a
 * long poll, an advertise waiting for BIRD) and those already queued (suspended once their
 * callback returns) are not waited for; the current request's is still active, hence "> 1".
 */
void
api_defer(struct api_ctx *ctx, api_handler work, void *arg, void (*free_fn)(void *))
{
	struct daemon *d = ctx->d;
	struct api *a = d->api;
	double delay = (double)d->conf->commit_delay_us / 1e6;

	ctx->work = work;
	ctx->work_arg = arg;
	ctx->work_free = free_fn;
	*a->queue_tail = ctx;
	a->queue_tail = &ctx->next;
	a->nqueued++;
	if (ev_is_active(&a->idle_w))
		return;
	if (delay > 0 && http_connection_count_active(d->http) > 1) {
		if (!ev_is_active(&a->gather_w)) {
			ev_timer_set(&a->gather_w, delay, 0.);
			ev_timer_start(d->loop, &a->gather_w);
		}
		return;
	}
	ev_timer_stop(d->loop, &a->gather_w);
	ev_idle_start(d->loop, &a->idle_w);     /* the loop must not block before the batch */
}

/* Runs the batch's work in one transaction; -1 with e set when it did not commit. */
static int
api_batch_run_once(struct daemon *d, struct api_ctx *batch, bool deferred, size_t *n,
    struct err *e)
{
	struct api_ctx *ctx;

	*n = 0;
	err_clear(e);
	if (store_begin(d->store, e) < 0)
		return -1;
	/* several instances: memory follows the others' committed changes, under the store's
	 * writer lock, before this batch decides anything (ipam_follow) */
	if (ipam_follow(d->ipam, true, e) < 0) {
		store_rollback(d->store, NULL);
		return -1;
	}
	if (deferred) {
		store_batch_defer(d->store, true);
		store_release_early(d->store);  /* ipam only: nothing leaves but the answers */
	}
	for (ctx = batch; ctx != NULL; ctx = ctx->next, (*n)++) {
		log_set_request_id(ctx->req->request_id);
		ctx->work(ctx);
		log_set_request_id(NULL);
	}
	if (store_commit(d->store, e) < 0) {
		if (store_in_txn(d->store))
			store_rollback(d->store, NULL);
		return -1;
	}
	return 0;
}

/* Memory forgets a batch that did not commit: the model from the store, and every engine
 * registered with api_on_rollback. */
static void
api_batch_forget(struct daemon *d)
{
	struct api *a = d->api;
	struct err e;

	err_clear(&e);
	if (ipam_load(d->ipam, &e) < 0 || grants_load(d->grants, &e) < 0)
		log_error("rebuilding the model from the store failed: %s", e.msg);
	for (size_t i = 0; i < a->nrollback; i++)
		a->rollback[i].fn(a->rollback[i].arg);
}

/*
 * Runs the queued work in one transaction and answers every request after COMMIT. On
 * PostgreSQL a batch of replayable work goes first as one deferred batch (see api.h); a
 * refusal there (nothing committed: store_batch_refused) costs one rollback, a reload and
 * the batch once more the careful way, request by request.
 */
static void
api_run_batch(struct daemon *d)
{
	struct api *a = d->api;
	struct api_ctx *batch = a->queue_head, *ctx, *next;
	struct err e;
	double t0 = ev_time();
	size_t n = 0;
	bool deferred = store_has_feed(d->store);
	int failed;

	a->queue_head = NULL;
	a->queue_tail = &a->queue_head;
	a->nqueued = 0;
	ev_timer_stop(d->loop, &a->gather_w);
	for (ctx = batch; ctx != NULL && deferred; ctx = ctx->next)
		deferred = ctx->replayable;
	failed = api_batch_run_once(d, batch, deferred, &n, &e) < 0;
	if (failed && deferred && store_batch_refused(d->store)) {
		log_info("a batch of %zu requests was refused as a whole (%s); running it again "
		    "request by request", n, e.msg);
		api_batch_forget(d);
		failed = api_batch_run_once(d, batch, false, &n, &e) < 0;
	}
	if (failed) {
		const char *code = e.code != NULL && strcmp(e.code, "storage-full") == 0 ?
		    "storage-full" : "store-failed";
		log_error("batch of %zu changes not committed: %s", n, e.msg);
		for (ctx = batch; ctx != NULL; ctx = ctx->next)
			api_error(ctx, code, "not committed: %s", e.msg);
		api_batch_forget(d);
	}
	metrics_commit(d->metrics, ev_time() - t0, n, failed);
	for (ctx = batch; ctx != NULL; ctx = next) {
		next = ctx->next;
		http_resume(ctx->req);
		api_finish_metrics(ctx);
		api_ctx_free(ctx);
	}
}

/* Runs the batch once the loop has read everything that arrived in this iteration. */
static void
api_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon *d = w->data;
	struct api *a = d->api;

	(void)revents;
	if (a->queue_head != NULL && !ev_is_active(&a->gather_w)) {
		api_run_batch(d);
		http_kick(d->http);
	}
	if (a->queue_head == NULL || ev_is_active(&a->gather_w))
		ev_idle_stop(loop, &a->idle_w);
}

static void
api_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* The commit delay is over: commit what has gathered. */
static void
api_gather_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	if (d->api->queue_head != NULL) {
		api_run_batch(d);
		http_kick(d->http);
	}
}

void
api_init(struct daemon *d)
{
	struct api *a = api_new();

	a->d = d;
	d->api = a;
	ev_prepare_init(&a->prepare_w, api_prepare_cb);
	a->prepare_w.data = d;
	ev_prepare_start(d->loop, &a->prepare_w);
	ev_idle_init(&a->idle_w, api_idle_cb);
	ev_timer_init(&a->gather_w, api_gather_cb, 0., 0.);
	a->gather_w.data = d;
	if (d->http != NULL)
		http_set_anonymous(d->http, api_path_anonymous, a);
}

void
api_flush(struct daemon *d)
{
	if (d->api->queue_head != NULL)
		api_run_batch(d);
}

void
api_shutdown(struct daemon *d)
{
	struct api *a = d->api;

	if (a == NULL)
		return;
	if (a->queue_head != NULL) {
		api_run_batch(d);
		http_kick(d->http);
	}
	ev_prepare_stop(d->loop, &a->prepare_w);
	ev_idle_stop(d->loop, &a->idle_w);
	ev_timer_stop(d->loop, &a->gather_w);
}

/* ---- JSON helpers --------------------------------------------------------------------- */

static int
api_type_ok(char t, const json_t *v)
{
	switch (t) {
	case 's': return json_is_string(v);
	case 'S': return json_is_string(v) || json_is_null(v);
	case 'i': return json_is_integer(v);
	case 'b': return json_is_boolean(v);
	case 'o': return json_is_object(v);
	case 'a': return json_is_array(v);
	}
	return 0;
}

static const char *
api_type_name(char t)
{
	switch (t) {
	case 's': return "a string";
	case 'S': return "a string or null";
	case 'i': return "an integer";
	case 'b': return "a boolean";
	case 'o': return "an object";
	case 'a': return "an array";
	}
	return "?";
}

int
api_body_check(struct api_ctx *ctx, const json_t *obj, const char *const *fields)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		const char *const *f;
		size_t kl = strlen(key);
		for (f = fields; *f != NULL; f++)
			if (strncmp(*f, key, kl) == 0 && (*f)[kl] == ':')
				break;
		if (*f == NULL) {
			api_error(ctx, "unknown-field", "unknown field '%.64s'", key);
			return -1;
		}
		if (!api_type_ok((*f)[kl + 1], v)) {
			api_error(ctx, "invalid-argument", "field '%s' must be %s", key,
			    api_type_name((*f)[kl + 1]));
			return -1;
		}
	}
	return 0;
}

int
api_tags_from_json(struct api_ctx *ctx, const json_t *obj, const char *field,
    struct ipam_tags *out)
{
	const char *key;
	json_t *v;
	struct err e;

	memset(out, 0, sizeof(*out));
	if (obj == NULL)
		return 0;
	if (json_object_size(obj) > IPAM_MAX_TAGS) {    /* refused before any work is done */
		api_error(ctx, "invalid-argument", "%s: %zu tags; at most %d", field,
		    json_object_size(obj), IPAM_MAX_TAGS);
		return -1;
	}
	out->v = calloc(json_object_size(obj) + 1, sizeof(*out->v));
	if (out->v == NULL)
		fatal("calloc");
	json_object_foreach((json_t *)obj, key, v) {
		char *kv;
		if (!json_is_string(v)) {
			api_error(ctx, "invalid-argument", "%s.%.64s must be a string", field, key);
			goto fail;
		}
		if (strchr(key, '=') != NULL || asprintf(&kv, "%s=%s", key, json_string_value(v)) < 0) {
			api_error(ctx, "invalid-argument", "%s: bad tag key '%.64s'", field, key);
			goto fail;
		}
		err_clear(&e);
		if (ipam_tag_parse(kv, &out->v[out->n], &e) < 0) {
			free(kv);
			api_error(ctx, e.code ? e.code : "invalid-argument", "%s: %s", field, e.msg);
			goto fail;
		}
		free(kv);
		out->n++;
	}
	return 0;
fail:
	ipam_tags_clear(out);
	return -1;
}

json_t *
api_tags_to_json(const struct ipam_tags *t)
{
	json_t *o = json_object();

	for (size_t i = 0; t != NULL && i < t->n; i++)
		json_object_set_new(o, t->v[i].key, json_string(t->v[i].value));
	return o;
}

int
api_cidr_arg(struct api_ctx *ctx, const char *s, struct cidr *out)
{
	struct err e;

	err_clear(&e);
	if (cidr_parse(s, out, &e) < 0) {
		api_reply_err(ctx, &e);
		return -1;
	}
	return 0;
}

json_t *
api_cidr_json(const struct cidr *c)
{
	char buf[CIDR_STRLEN];

	return json_string(cidr_format(c, buf, sizeof(buf)));
}

json_t *
api_u128_json(cidr_u128 v)
{
	char buf[CIDR_U128_STRLEN];

	return json_string(cidr_u128_format(v, buf, sizeof(buf)));
}

json_t *
api_time_json(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *
api_id_json(uint64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, id);
	return json_string(buf);
}

json_t *
api_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

const char *
api_str_field(struct api_ctx *ctx, const char *name)
{
	return json_string_value(json_object_get(ctx->body, name));
}

/* The optional ?scope= filter: *out NULL when absent. Replies 404 and returns -1 if unknown. */
int
api_scope_filter(struct api_ctx *ctx, struct ipam_scope **out)
{
	const char *name = http_query(ctx->req, "scope");

	*out = NULL;
	if (name == NULL)
		return 0;
	if ((*out = ipam_scope_find(ctx->d->ipam, name)) == NULL) {
		api_error(ctx, "not-found", "no scope '%.64s'", name);
		return -1;
	}
	return 0;
}
