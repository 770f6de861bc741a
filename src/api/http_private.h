/*
 * http_private — internals shared by the http files. Not for other modules (they use http.h).
 *
 *   http.c         requests and replies: the MHD access handler, body accumulation,
 *                  suspend/resume, reply helpers; life cycle (new, free, limits, quiesce)
 *   http_listen.c  listeners (unix and TCP sockets, one MHD daemon each, run on the libev loop),
 *                  connection bookkeeping and the slow-client watchdog
 *   http_auth.c    who is asking: SO_PEERCRED roles, admin group, the bearer-token table,
 *                  role names
 */
#ifndef PREFIXD_HTTP_PRIVATE_H
#define PREFIXD_HTTP_PRIVATE_H

#include <microhttpd.h>
#include <sys/types.h>

#include "http.h"

enum http_kind { HTTP_UNIX, HTTP_UNIX_RO, HTTP_TCP };

struct http_token {
	char name[48];
	enum http_role role;
	unsigned char hash[32];
};

struct http_conn {
	int fd;
	double since;                   /* start of the current request (or of idleness) */
	struct http_req *req;           /* the request whose body is being read, or NULL */
	int suspended, shut;            /* shut: 1 = answered and SHUT_WR, 2 = SHUT_RDWR */
	int nul_in_uri;                 /* the current request's raw target holds %00 */
	struct http_listener *lis;
	int other;                      /* counted in lis->n_other (not admin on the main socket) */
	int refused;                    /* over the listener's budget: answered 503, never served */
	struct http_conn *prev, *next;
};

struct http_listener {
	struct http *h;
	enum http_kind kind;
	struct MHD_Daemon *d;
	int fd;
	char *path;                     /* unix socket file, removed on free */
	gid_t sock_gid;
	uid_t sock_uid;
	ev_io io;
	ev_timer tm;
	int quiesced;                   /* MHD gave the listen fd back: ours to close */
	unsigned n_long;                /* long polls waiting (http_suspend_long) */
	unsigned n_other;               /* main unix socket: connections of non-admin peers */
	int rerun;                      /* run MHD again at once (a connection was refused) */
	unsigned n_refused;             /* refused since refused_logged (logged once a second) */
	double refused_logged;
	struct http_listener *next;
};

struct http {
	struct ev_loop *loop;
	struct http_limits lim;
	http_cb cb;
	void *arg;
	int (*anon_ok)(void *arg, const char *path);    /* http_set_anonymous */
	void *anon_arg;
	struct http_listener *listeners;
	struct http_token *tokens;
	size_t ntokens;
	int has_admin_gid;
	gid_t admin_gid;
	struct http_conn *conns;
	ev_timer watchdog;
	unsigned long boot;             /* start time: request ids stay unique across restarts */
	unsigned long req_seq;
};

/* http.c: the MHD callbacks every listener's daemon is started with. */
enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls);
void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe);
/* http.c: sees each request's raw target before MHD unescapes it (MHD_OPTION_URI_LOG_CALLBACK). */
void *http_uri_seen(void *cls, const char *uri, struct MHD_Connection *c);

/* http_listen.c: the bookkeeping of connection c (NULL if it has none). */
struct http_conn *http_conn_of(struct MHD_Connection *c);
/* http_listen.c: the long-poll cap of listener l (see http.h, "Connection budget"). */
unsigned http_long_poll_cap(const struct http_listener *l);
/* http_listen.c: the once-a-second slow-client watchdog; w->data is the struct http. */
void http_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* http_auth.c: a group name or number into gid; 0, or -1 with e set. */
int http_resolve_group(const char *group, gid_t *gid, struct err *e);
/* http_auth.c: the peer's role on unix listener l (actor gets "uid:N"), or HTTP_ROLE_NONE. */
enum http_role http_unix_role(struct http_listener *l, int fd, char *actor, size_t len);
/* http_auth.c: the role of an Authorization header value (actor gets "token:NAME"). */
enum http_role http_token_role(struct http *h, const char *auth, char *actor, size_t len);

#endif
