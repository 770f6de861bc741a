/*
 * api — the control API's route table, request dispatch, JSON helpers and group commit.
 *
 * Who calls it: http hands every complete request to api_dispatch (an http_cb). Route files
 * (api_ipam.c, api_status.c, and later modules' own api_*.c) describe their routes in arrays
 * of struct api_route and register them at start-up with api_register_routes; nothing here
 * needs editing to add a route. `prefixd --list-routes` prints the table (api_routes_print)
 * and a test checks each route against doc/openapi.json.
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
 * is rebuilt from the store (ipam_load). Reads answer directly from memory. When other
 * connections are open that have queued nothing yet, the batch waits up to [daemon]
 * commit_delay_us for them (an ev_timer) so that answered clients join the next batch.
 *
 * Error statuses (api_status_of): 400 invalid-json invalid-argument unknown-field cidr-invalid
 * cidr-not-canonical; 401 unauthorized; 403 forbidden; 404 not-found no-such-route; 405
 * method-not-allowed; 408 request-timeout; 409 overlap exists in-use token-conflict
 * pool-exhausted; 413 body-too-large; 422 netmask-too-large netmask-too-small missing-tag
 * locale-mismatch; 503 store-failed storage-full; anything else 400.
 */
#ifndef PREFIXD_API_H
#define PREFIXD_API_H

#include <jansson.h>
#include <stdio.h>
#include "daemon.h"
#include "err.h"
#include "http.h"
#include "ipam.h"

#define API_MAX_PARAMS 4
#define API_MAX_DEPTH 64
#define API_MAX_ROUTES 128

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
	struct api_ctx *next;
	char pbuf[API_MAX_PARAMS][256];
};

/* Binds the API to the daemon state and starts the group-commit watcher. */
void api_init(struct daemon *d);
/* Stops the watcher after running any queued work. */
void api_shutdown(struct daemon *d);
/* Runs the queued batch now, if any (tests and fuzzing; the loop does it by itself). */
void api_flush(struct daemon *d);

/* Adds n routes (the array must outlive the daemon). Returns 0, or -1 when the table is full. */
int api_register_routes(const struct api_route *routes, size_t n);
/* Registers the routes of this module's route files: api_ipam.c and api_status.c. */
void api_register_builtin(void);
void api_ipam_register(void);
void api_import_register(void);
void api_status_register(void);
/* Prints "METHOD PATTERN ROLE" per registered route. */
void api_routes_print(FILE *out);

/* The http_cb: dispatches one complete request (arg is the struct daemon). */
void api_dispatch(struct http_req *req, void *arg);

/* Queues work(ctx) for this iteration's batch transaction; arg is freed with free_fn after. */
void api_defer(struct api_ctx *ctx, api_handler work, void *arg, void (*free_fn)(void *));

/* Replies. api_reply takes the reference to j. */
void api_reply(struct api_ctx *ctx, int status, json_t *j);
void api_error(struct api_ctx *ctx, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Replies with e's code and message at the status api_status_of(e->code). */
void api_reply_err(struct api_ctx *ctx, const struct err *e);
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
/* The id as a decimal string; a string or JSON null. */
json_t *api_id_json(uint64_t id);
json_t *api_str_or_null(const char *s);
/* The string field `name` of the request body, or NULL. */
const char *api_str_field(struct api_ctx *ctx, const char *name);
/* The optional ?scope= filter: *out NULL when absent. Replies 404 and returns -1 if unknown. */
int api_scope_filter(struct api_ctx *ctx, struct ipam_scope **out);
/* Formats helpers. */
json_t *api_cidr_json(const struct cidr *c);
json_t *api_u128_json(cidr_u128 v);
json_t *api_time_json(int64_t t);

#endif
