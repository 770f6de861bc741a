/*
 * http — the control API's HTTP/1.1 transport: libmicrohttpd driven from the libev loop.
 *
 * Who calls it: prefixd.c creates one struct http, opens its listeners (main unix socket,
 * optional read-only unix socket, optional TCP with bearer tokens) and hands every complete
 * request to one callback (api_dispatch). It owns the listening sockets, the MHD daemons, the
 * per-request state (struct http_req) and the token table.
 *
 * Threads: none. Each listener is one MHD daemon in external-epoll mode (MHD_USE_EPOLL without
 * an internal thread); an ev_io on MHD's epoll fd and an ev_timer from MHD_get_timeout call
 * MHD_run on the loop thread, so no libmicrohttpd thread ever touches the model.
 *
 * Request life cycle: headers and body are read (body capped at max_body: 413 body-too-large,
 * answered at once); the callback then runs with the whole request. It answers with
 * http_reply()/http_reply_error(), or calls http_suspend() and answers later (group commit)
 * followed by http_resume(). A request still arriving after request_timeout (plus a grace
 * second) is cut off by a watchdog timer (MHD's own idle timeout resets on every byte, so a
 * client sending one byte per second would never time out): if its headers are complete and
 * its body is trickling, 408 request-timeout is written first; a connection still sending
 * headers, or idle between keep-alive requests, is closed without an answer.
 *
 * Connection budget (issue 15, finding 4). Each listener serves at most max_connections
 * connections, and three rules keep one client from taking them all:
 *   - long polls (http_suspend_long) wait outside the watchdog, so they have their own cap: at
 *     most max_long_polls per listener and never more than half its max_connections; past it
 *     a long poll is answered 429 too-many-long-polls (Retry-After, connection closed) at once
 *     instead of holding a slot for up to a minute;
 *   - on TCP, one client address holds at most max_connections_per_address connections;
 *     libmicrohttpd closes the next ones at accept (nothing was read, nothing is answered);
 *   - the main unix socket keeps admin_connections slots beyond max_connections that only
 *     admins may use: the peer's credentials are read when the connection is accepted
 *     (SO_PEERCRED needs no request), and a non-admin peer past max_connections is answered
 *     503 connection-limit and closed. Admins come through the unix socket, so this is where
 *     room is kept for them; on TCP the role is known only once a request's headers are in,
 *     so TCP relies on the per-address limit, the long-poll cap and the watchdog instead.
 * Authentication happens at the header stage: a TCP request without a known bearer token (or
 * a unix peer without credentials) is answered 401 (403) before its body is read, and the
 * connection is closed. Half-sent requests are cut by the watchdog.
 *
 * Roles (SPEC §6): main unix socket — SO_PEERCRED: uid 0 or a member of admin_group is admin,
 * a member of the socket's group (or its owner) is operator, anyone else reader; read-only
 * socket — reader; TCP — "Authorization: Bearer T" whose SHA-256 matches a tokens_file line
 * "name role sha256hex" (constant-time compare), else 401 unauthorized.
 */
#ifndef PREFIXD_HTTP_H
#define PREFIXD_HTTP_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "err.h"

enum http_role { HTTP_ROLE_NONE = -1, HTTP_ROLE_READER, HTTP_ROLE_OPERATOR, HTTP_ROLE_ADMIN };

struct http;
struct http_listener;

/* One request. The callback may read every field; the transport owns and frees it. */
struct http_req {
	const char *method;             /* "GET", "POST", ... */
	const char *path;               /* URL path without the query string */
	char *body;                     /* NUL-terminated body (may be empty, never NULL) */
	size_t body_len;
	enum http_role role;
	char actor[64];                 /* "uid:0", "token:ci", ... recorded in events */
	char request_id[65];
	double started;                 /* ev_now() when the request's headers arrived */
	const char *const *resp_headers; /* NULL or {name, value, ..., NULL}: see http_reply_headers */
	/* transport-private below */
	struct http_listener *lis;
	void *conn;                     /* struct MHD_Connection * */
	size_t body_cap;
	int status;                     /* 0 until a reply is set */
	char *resp;
	size_t resp_len;
	const char *resp_type;
	int suspended, too_large;
	int long_poll;                  /* counted in lis->n_long (http_suspend_long) */
	int must_close;                 /* answer with Connection: close (a malformed request) */
};

typedef void (*http_cb)(struct http_req *req, void *arg);

struct http_limits {
	unsigned max_body;              /* bytes */
	unsigned request_timeout;       /* seconds */
	unsigned max_connections;       /* per listener */
	unsigned max_long_polls;        /* per listener, and at most max_connections / 2 */
	unsigned max_per_address;       /* TCP: connections from one client address */
	unsigned admin_connections;     /* main unix socket: slots beyond max_connections for admins */
};

/* A new transport on `loop`; `cb(req, arg)` receives each complete request. */
struct http *http_new(struct ev_loop *loop, const struct http_limits *lim, http_cb cb, void *arg);

/* Stops every listener (removing unix socket files) and frees h. http_free(NULL) is a no-op. */
void http_free(struct http *h);

/*
 * Listens on a unix socket at `path` (an existing socket file is replaced) with `mode` (0660
 * for the main socket; [daemon] readonly_socket_mode for the read-only one), group `group`
 * (NULL: the daemon's group). `readonly`: every peer is reader. admin_group (may be NULL)
 * names the group whose members are admin. Returns 0 or -1 with e set.
 */
int http_listen_unix(struct http *h, const char *path, const char *group, unsigned mode,
    int readonly, const char *admin_group, struct err *e);

/* Listens on TCP "host:port"; requests need a bearer token. Returns 0 or -1 with e set. */
int http_listen_tcp(struct http *h, const char *hostport, struct err *e);

/*
 * Loads a tokens file (lines "name role sha256hex", '#' comments) replacing the table.
 * On error the old table stays and e names file:line. path NULL clears the table.
 */
int http_tokens_load(struct http *h, const char *path, struct err *e);

/*
 * Reads a tokens file as http_tokens_load would, and keeps nothing (`prefixd -n`). Refused
 * (both): a file group or others may write, a bad or overlong line, a hash listed twice.
 * path NULL passes.
 */
int http_tokens_check(const char *path, struct err *e);

/* Changes the limits that apply to new requests (SIGHUP: max_body). */
void http_set_limits(struct http *h, const struct http_limits *lim);

/* Sets admin_group for the unix listeners (SIGHUP). */
int http_set_admin_group(struct http *h, const char *group, struct err *e);

/* Closes the listening sockets so no new connection arrives (SIGTERM, first step). */
void http_quiesce(struct http *h);

/*
 * A request that did not come from a connection (unit tests, fuzzing): it goes to the
 * callback like any other, replies are kept in it (status, resp, resp_len), it has no query
 * parameters or headers. Free it with http_req_free.
 */
struct http_req *http_req_detached(const char *method, const char *path, const char *body,
    size_t len, enum http_role role);
void http_req_free(struct http_req *req);

/* Open connections over all listeners (SIGTERM waits for them to drain). */
size_t http_connection_count(const struct http *h);
/* Open connections that are not suspended (that may still send a request this instant). */
size_t http_connection_count_active(const struct http *h);

/* Query parameter `name` of req, or NULL. */
const char *http_query(struct http_req *req, const char *name);
/* True when req arrived on the read-only socket (nothing may change through it). */
bool http_req_read_only(const struct http_req *req);

/* Sets the reply: status and body (copied). Sent at once, or at http_resume if suspended. */
void http_reply(struct http_req *req, int status, const char *type, const char *body, size_t len);

/* Extra headers for the reply: hdrs is {name, value, ..., NULL} and must outlive the reply. */
void http_reply_headers(struct http_req *req, const char *const *hdrs);

/*
 * A TCP request without a known bearer token normally gets 401 before the callback sees it.
 * When ok(arg, path) answers 1, it goes to the callback instead, with role HTTP_ROLE_NONE and no
 * body allowed (413): for public, data-free files such as the dashboard's. NULL: never.
 */
void http_set_anonymous(struct http *h, int (*ok)(void *arg, const char *path), void *arg);

/* Sets a JSON reply; takes the reference to j. */
void http_reply_json(struct http_req *req, int status, json_t *j);

/* Sets {"error":{"code":code,"message":...}} with status. */
void http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Defers the answer: only valid inside the callback, which must not set a reply itself. */
void http_suspend(struct http_req *req);

/*
 * Defers the answer of a long poll: as http_suspend, but counted against the listener's
 * long-poll cap (see "Connection budget" above) until http_resume. Returns 0; or -1 when the
 * cap is reached, with the request already answered 429 too-many-long-polls (the caller sets
 * no reply of its own).
 */
int http_suspend_long(struct http_req *req);

/* Sends the reply of a suspended request (set with http_reply*). */
void http_resume(struct http_req *req);

/* Runs MHD for every listener (after resuming connections; never from inside the callback). */
void http_kick(struct http *h);

/* Name of a role ("reader"...), and its parse. */
const char *http_role_name(enum http_role r);
int http_role_parse(const char *s, enum http_role *out);

#endif
