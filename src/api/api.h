/*
 * api — the control API's route table, request dispatch, JSON helpers and group commit.
 *
 * Who calls it: http hands every complete request to api_dispatch (an http_cb). Each route
 * file (api_<area>.c) exports one route table (struct api_table, declared below); nothing
 * registers itself. src/prefixd.c, the composition root, adds every table, status section
 * and metrics renderer in one visible block (api_add_routes refuses a second handler for
 * the same METHOD and pattern, so a duplicate stops the start). `prefixd --list-routes` prints
 * the table (api_routes_print) and a test checks each route against doc/openapi.json.
 * The API's state (routes, status sections, the group-commit queue) lives in struct api,
 * owned by the daemon (d->api).
 *
 * Dispatch: match METHOD + path against the patterns ("/v1/pools/{name}": a {x} segment
 * matches one non-empty path segment, captured in order), 404 no-such-route / 405
 * method-not-allowed otherwise; check the caller's role (403 forbidden); parse a body (POST,
 * PUT, PATCH) as one JSON object (400 invalid-json; nesting deeper than API_MAX_DEPTH is
 * refused before jansson sees it); call the handler.
 *
 * Group commit: a handler that changes state validates its input, then calls api_defer with
 * its work function and returns. Once per loop iteration (an ev_prepare watcher) every
 * deferred work function runs inside one store transaction (store_begin ... store_commit);
 * each sets its own reply, a refused one (4xx) does not disturb the others because every ipam
 * mutation has its own savepoint. The replies go out only after COMMIT; if COMMIT fails, every
 * request of the batch gets 503 (storage-full on a full disk, else store-failed) and the model
 * is rebuilt from the store (ipam_load), and so is every other engine that src/prefixd.c
 * registered with api_on_rollback (the lifecycle controller): nothing answered 503 survives
 * in memory. On PostgreSQL a batch of replayable work only (allocate, release) is first run
 * optimistically: no request waits for its own statements' answer (store_batch_defer), the
 * whole batch goes to the server with its COMMIT; should the database refuse any of it, the
 * batch is rolled back, the model reloaded and the batch run again request by request, where
 * a refusal reaches the one request (overlap, token-conflict). Reads answer directly from
 * memory. When other
 * connections are open that have queued nothing yet, the batch waits up to [daemon]
 * commit_delay_us for them (an ev_timer) so that answered clients join the next batch.
 *
 * Error statuses: one table (api_status_of, api.c) maps every error code that engines report
 * to its HTTP status; engines never name a status. 400 invalid-json invalid-argument
 * unknown-field cidr-invalid cidr-not-canonical asn-invalid
 * bad-cursor; 401 unauthorized; 403 forbidden; 404
 * not-found no-such-route; 405 method-not-allowed; 408 request-timeout; 409 overlap exists
 * in-use token-conflict pool-exhausted audit-broken too-many busy not-provisioned
 * not-advertised other-origin-present asn-not-provisioned; 413 body-too-large; 422 netmask-too-large
 * netmask-too-small missing-tag locale-mismatch rpki-invalid rpki-not-found; 429
 * rate-limited; 500 internal; 503 store-failed storage-full shutting-down not-ready
 * rpki-stale rpki-unavailable rov-unavailable rov-failed bird-*; anything else 400.
 */
#ifndef PREFIXD_API_H
#define PREFIXD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "daemon.h"
#include "err.h"
#include "http.h"
#include "ipam.h"

#define API_MAX_PARAMS 4
#define API_MAX_DEPTH 64
#define API_MAX_ROUTES 128
#define API_MAX_SECTIONS 8

struct api;
struct api_ctx;
struct api_route;

typedef void (*api_handler)(struct api_ctx *ctx);

struct api_route {
	const char *method;             /* "GET", "POST", "DELETE" */
	const char *pattern;            /* "/v1/pools/{name}/allocations" */
	enum http_role min_role;        /* HTTP_ROLE_NONE: anyone, even without a token on TCP */
	api_handler handler;
};

/* One request as the handlers see it. Owned by api; valid until the reply is sent. */
struct api_ctx {
	struct daemon *d;
	struct http_req *req;
	const struct api_route *route;
	const char *params[API_MAX_PARAMS];     /* captured {x} segments, in order */
	int nparams;
	json_t *body;                   /* parsed object for POST/PUT/PATCH, else NULL */
	struct ipam_actor who;          /* actor, role and request id for events */
	api_handler work;               /* deferred work (group commit) */
	void *work_arg;
	void (*work_free)(void *);
	/* The work touches only the ipam model and the store, so it may run again after its
	 * batch rolled back (api_run_batch's optimistic batches); set by the handler. */
	bool replayable;
	struct api_ctx *next;
	char pbuf[API_MAX_PARAMS][256];
	char grant_role[IPAM_NAME_MAX + 32];    /* "grant:POOL:operator" when a grant admitted it */
};

/* One route file's routes (the array outlives the daemon). */
struct api_table {
	const char *name;
	const struct api_route *routes;
	size_t n;
};
#define API_TABLE(sym, arr) \
	const struct api_table sym = { #sym, arr, sizeof(arr) / sizeof(arr[0]) }

/* The route tables, one per route file. */
extern const struct api_table api_status_routes;        /* api_status.c: status, metrics */
extern const struct api_table api_ipam_routes;          /* api_ipam.c: scopes, pools, allocations */
extern const struct api_table api_import_routes;        /* api_import.c: resources, reports, history */
extern const struct api_table api_events_routes;        /* api_events.c: feed, audit verify */
extern const struct api_table api_prefix_routes;        /* api_prefix.c: public prefixes, provision */
extern const struct api_table api_rpki_routes;          /* api_rpki.c */
extern const struct api_table api_auth_routes;          /* api_auth.c */
extern const struct api_table api_bird_routes;          /* api_bird.c */
extern const struct api_table api_asn_routes;           /* api_asn.c: public-scope ASNs */
extern const struct api_table api_grants_routes;        /* api_grants.c: shared pools */
extern const struct api_table api_bmp_routes;           /* api_bmp.c: visibility */
extern const struct api_table api_ui_routes;            /* api_ui.c: the dashboard's static files */

/* A member of GET /v1/status: NAME -> fn(d) (a new reference). */
typedef json_t *(*api_section_fn)(struct daemon *d);
json_t *api_rpki_status(struct daemon *d);              /* "rpki" */
json_t *api_store_status(struct daemon *d);             /* "store_state" */
json_t *api_bird_status(struct daemon *d);              /* "bird" */
json_t *api_prefix_status(struct daemon *d);            /* "prefixes" */
json_t *api_asn_status(struct daemon *d);               /* "asns" */
json_t *api_bmp_status(struct daemon *d);               /* "bmp" */
json_t *api_site_status(struct daemon *d);              /* "site" (api_site.c) */
struct rtr_status;
json_t *api_rpki_status_json(const struct rtr_status *st);      /* GET /v1/rpki/status */

/* metrics_renderer functions of the route files (arg: the struct daemon). */
void api_rpki_metrics(void *arg, FILE *out);
void api_bird_metrics(void *arg, FILE *out);
void api_prefix_metrics(void *arg, FILE *out);
void api_bmp_metrics(void *arg, FILE *out);
void api_site_metrics(void *arg, FILE *out);

/* obs_tick_fn (arg: the struct daemon): answers the event feed's long polls. */
void api_events_tick(void *arg, uint64_t head);

/* Creates d->api (routes and sections empty) and starts the group-commit watchers. */
void api_init(struct daemon *d);
/* Runs any queued work and stops the watchers (requests still get answers: a stopping
 * daemon answers shutting-down). Idempotent. api_free(d->api) at the very end. */
void api_shutdown(struct daemon *d);
/* Runs the queued batch now, if any (tests and fuzzing; the loop does it by itself). */
void api_flush(struct daemon *d);

/* A route table alone, for `prefixd --list-routes` (no loop). Free with api_free. */
struct api *api_new(void);
void api_free(struct api *a);
/* Adds a table's routes. 0, or -1 with e when the table is full or a route's METHOD and
 * pattern are already served ("duplicate-route", naming both tables): nothing is added then. */
int api_add_routes(struct api *a, const struct api_table *t, struct err *e);
/* Adds a /v1/status member. 0, or -1 when full. */
int api_add_status_section(struct api *a, const char *name, api_section_fn fn);
/* Fills obj with every status section of d's API, in the order added. */
void api_status_sections(struct daemon *d, json_t *obj);
/* Prints "METHOD PATTERN ROLE" per registered route. */
void api_routes_print(const struct api *a, FILE *out);

/* The http_cb: dispatches one complete request (arg is the struct daemon). */
void api_dispatch(struct http_req *req, void *arg);

/* Registers fn(arg), called after a batch's COMMIT failed (the store rolled it back) so that an
 * engine whose work ran inside the batch rebuilds its memory from the store. At most
 * API_MAX_ROLLBACK_HOOKS; returns 0 or -1 when full. */
#define API_MAX_ROLLBACK_HOOKS 8
int api_on_rollback(struct api *a, void (*fn)(void *arg), void *arg);

/* Queues work(ctx) for this iteration's batch transaction; arg is freed with free_fn after. */
void api_defer(struct api_ctx *ctx, api_handler work, void *arg, void (*free_fn)(void *));

/* Replies. api_reply takes the reference to j. */
void api_reply(struct api_ctx *ctx, int status, json_t *j);
/* An error answer; its status comes from the one table (api_status_of). */
void api_error(struct api_ctx *ctx, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with an explicit status, for the one code whose meaning differs by route (the
 * verifier's "busy" is 503, see api_auth.c). */
void api_error_status(struct api_ctx *ctx, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Replies with e's code and message at the status api_status_of(e->code). */
void api_reply_err(struct api_ctx *ctx, const struct err *e);

/*
 * The one place errors reach a client (api_error* and api_reply_err end here). A store error
 * (store-failed, storage-full) quotes SQL and the store's path: it is logged with the request
 * id, and the client gets a generic message naming that id (issue 15, 15).
 */
void api_req_error(struct http_req *req, int status, const char *code, const char *msg);
int api_status_of(const char *code);

/*
 * Body checking. fields is a NULL-terminated list of "name:t" with t one of s (string),
 * i (integer), b (boolean), o (object of strings: tags), a (array), S (string or null).
 * Refuses unknown fields (400 unknown-field) and wrong types (400 invalid-argument), replying
 * itself. Returns 0 when the body is fine.
 */
int api_body_check(struct api_ctx *ctx, const json_t *obj, const char *const *fields);

/* Converts a tags object {"K":"V"} (may be NULL) into owned tags. Replies 400 and returns -1. */
int api_tags_from_json(struct api_ctx *ctx, const json_t *obj, const char *field,
    struct ipam_tags *out);
json_t *api_tags_to_json(const struct ipam_tags *t);
/* Parses a CIDR field value; replies 400 (cidr-invalid / cidr-not-canonical) and returns -1. */
int api_cidr_arg(struct api_ctx *ctx, const char *s, struct cidr *out);
/* The CIDR of a route's {cidr} ('_' for '/') or {addr}/{len} path; replies 400 and returns
 * -1 when bad (api_prefix.c). */
int api_path_cidr(struct api_ctx *ctx, struct cidr *out);
/* The id as a decimal string; a string or JSON null. */
json_t *api_id_json(uint64_t id);
json_t *api_str_or_null(const char *s);
/* The string field `name` of the request body, or NULL. */
const char *api_str_field(struct api_ctx *ctx, const char *name);
/* The optional ?scope= filter: *out NULL when absent. Replies 404 and returns -1 if unknown. */
int api_scope_filter(struct api_ctx *ctx, struct ipam_scope **out);
/* Issue 21: a public pool's origin_asn must be a provisioned ASN (d->asns) unless [auth]
 * allow_unproven_asn. Replies 409 asn-not-provisioned and returns -1 when it is not. */
struct ipam_pool_spec;
int api_asn_origin_check(struct api_ctx *ctx, const struct ipam_pool_spec *spec);
/* An ASN given as text (64500 or AS64500) into its canonical "AS<n>" (buf of 16 bytes or
 * more); replies 400 asn-invalid and returns -1 when it is not an AS number. */
int api_asn_subject(struct api_ctx *ctx, const char *s, char *buf);
/* Shared pools (api_grants.c): 1 when a grant admits the request (the role check is skipped;
 * ctx->who.role names the grant), 0 when the caller is not confined to grants (the global
 * role decides), -1 when refused (403 forbidden sent). */
int api_grant_admit(struct api_ctx *ctx);
/* Removes every grant of pool (a deleted pool's grants must not pass to a new pool of that
 * name); a failure is logged. */
void api_grants_drop_pool(struct api_ctx *ctx, const char *pool);
/* The grants of pool as a JSON array (pool show). New reference. */
json_t *api_grants_json(struct daemon *d, const char *pool);
/*
 * Paging of list routes (api_page.c, issue 15 finding 5). api_page_args reads ?limit= (1..
 * API_PAGE_MAX, default API_PAGE_DEFAULT) and ?cursor= (given by this list, kind KIND);
 * replies 400 invalid-argument / bad-cursor and returns -1 when bad. pg->after is then the
 * key text of the last row already answered (has_after). A handler walks its rows in key
 * order from after that key: api_page_take is true while the page has room (false once it
 * is full and another row exists: pg->more), api_page_next records the key of each row
 * taken, api_page_finish sets the answer's "next_cursor" (null on the last page). A key the
 * route cannot read is api_page_bad_cursor.
 */
#define API_PAGE_DEFAULT 500
#define API_PAGE_MAX 1000
#define API_CURSOR_MAX 160             /* bytes of "KIND:KEY" */
struct api_page {
	const char *kind;
	unsigned limit, n;
	bool has_after, more;
	char after[API_CURSOR_MAX + 1];
	char last[API_CURSOR_MAX + 1];
};
int api_page_args(struct api_ctx *ctx, const char *kind, struct api_page *pg);
void api_page_bad_cursor(struct api_ctx *ctx);
bool api_page_take(struct api_page *pg);
void api_page_next(struct api_page *pg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void api_page_finish(const struct api_page *pg, json_t *obj);
/* Lists keyed by an id (scopes, pools, resources...): the cursor's key as an id (0 without
 * a cursor; -1 after replying bad-cursor). A set collects (id, object) of the rows after it,
 * api_page_ids sorts it by id, appends render(obj) of each row the page takes to list and
 * frees the set. */
int api_page_after_id(struct api_ctx *ctx, const struct api_page *pg, uint64_t *id);
struct api_page_item {
	uint64_t id;
	void *obj;
};
struct api_page_set {
	size_t n, cap;
	struct api_page_item *v;
};
void api_page_set_add(struct api_page_set *s, uint64_t id, void *obj);
void api_page_set_sort(struct api_page_set *s);
void api_page_set_free(struct api_page_set *s);
void api_page_ids(struct api_page *pg, struct api_page_set *s, json_t *list,
    json_t *(*render)(const void *obj));

/* Formats helpers. */
json_t *api_cidr_json(const struct cidr *c);
json_t *api_u128_json(cidr_u128 v);
json_t *api_time_json(int64_t t);

#endif
