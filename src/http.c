/*
 * http — libmicrohttpd in external-epoll mode on the libev loop; listeners, roles, limits.
 * See http.h for the contract. Layout of this file:
 *   listeners     socket creation (unix: bind, 0660, chgrp; TCP), one MHD daemon each, the
 *                 ev_io/ev_timer pair that runs MHD on the loop
 *   connections   NOTIFY_CONNECTION bookkeeping for the slow-client watchdog
 *   requests      the MHD access handler: auth, body accumulation, callback, suspend/resume
 *   tokens        the bearer-token table (SHA-256 hashes, constant-time compare)
 */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

enum http_kind { HTTP_UNIX, HTTP_UNIX_RO, HTTP_TCP };

/*
 * libmicrohttpd's memory pool per connection: it bounds a request's headers (and the read
 * buffer). MHD zeroes the pool for every request, so it is kept small: 16 KiB is four times
 * the largest header set our clients send, and costs a quarter of the 64 KiB default's memset
 * (which showed as ~10 % of the CPU in the GET benchmark).
 */
#define HTTP_CONN_MEMORY (16 * 1024)

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
	struct http_listener *next;
};

struct http {
	struct ev_loop *loop;
	struct http_limits lim;
	http_cb cb;
	void *arg;
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

static const char *const http_role_names[] = { "reader", "operator", "admin" };

const char *
http_role_name(enum http_role r)
{
	return r >= HTTP_ROLE_READER && r <= HTTP_ROLE_ADMIN ? http_role_names[r] : "none";
}

int
http_role_parse(const char *s, enum http_role *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, http_role_names[i]) == 0) {
			*out = (enum http_role)i;
			return 0;
		}
	return -1;
}

/* ---- listeners ------------------------------------------------------------------------ */

static void
http_run(struct http_listener *l)
{
	MHD_UNSIGNED_LONG_LONG to;

	MHD_run(l->d);
	ev_timer_stop(l->h->loop, &l->tm);
	if (MHD_get_timeout(l->d, &to) == MHD_YES) {
		ev_timer_set(&l->tm, (double)to / 1000.0, 0.);
		ev_timer_start(l->h->loop, &l->tm);
	}
}

static void
http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(w->data);
}

static void
http_tm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(w->data);
}

void
http_kick(struct http *h)
{
	for (struct http_listener *l = h->listeners; l != NULL; l = l->next)
		if (l->d != NULL)
			http_run(l);
}

static enum MHD_Result http_access(void *, struct MHD_Connection *, const char *, const char *,
    const char *, const char *, size_t *, void **);
static void http_completed(void *, struct MHD_Connection *, void **, enum MHD_RequestTerminationCode);
static void http_notify_conn(void *, struct MHD_Connection *, void **, enum MHD_ConnectionNotificationCode);

/* Starts the MHD daemon on l->fd and hooks it into the loop. */
static int
http_start(struct http *h, struct http_listener *l, struct err *e)
{
	const union MHD_DaemonInfo *info;

	l->h = h;
	l->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, http_access, l,
	    MHD_OPTION_LISTEN_SOCKET, l->fd,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, l,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify_conn, l,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, h->lim.request_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, h->lim.max_connections,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_END);
	if (l->d == NULL)
		return err_set(e, "listen-failed", "libmicrohttpd refused the listener");
	info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		return err_set(e, "listen-failed", "libmicrohttpd has no epoll fd");
	}
	ev_io_init(&l->io, http_io_cb, info->epoll_fd, EV_READ);
	l->io.data = l;
	ev_io_start(h->loop, &l->io);
	ev_init(&l->tm, http_tm_cb);
	l->tm.data = l;
	l->next = h->listeners;
	h->listeners = l;
	http_run(l);
	return 0;
}

static int
http_resolve_group(const char *group, gid_t *gid, struct err *e)
{
	struct group *gr = getgrnam(group);
	char *end;
	unsigned long n;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(group, &end, 10);
	if (*group != '\0' && *end == '\0' && errno == 0) {
		*gid = (gid_t)n;
		return 0;
	}
	return err_set(e, "invalid-argument", "unknown group '%s'", group);
}

/* Refuses to replace a socket another live process answers on; removes a stale one. */
static int
http_unix_prepare(const char *path, struct sockaddr_un *sun, struct err *e)
{
	struct stat st;
	int fd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return err_set(e, "invalid-argument", "socket path too long: %s", path);
	strcpy(sun->sun_path, path);
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, "listen-failed", "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)sun, sizeof(*sun)) == 0) {
		close(fd);
		return err_set(e, "listen-failed", "%s: another daemon is listening", path);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return 0;
}

int
http_listen_unix(struct http *h, const char *path, const char *group, int readonly,
    const char *admin_group, struct err *e)
{
	struct http_listener *l;
	struct sockaddr_un sun;
	gid_t gid = getegid();
	mode_t old;
	int fd;

	if (group != NULL && http_resolve_group(group, &gid, e) < 0)
		return -1;
	if (admin_group != NULL && http_set_admin_group(h, admin_group, e) < 0)
		return -1;
	if (http_unix_prepare(path, &sun, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, "listen-failed", "socket: %s", strerror(errno));
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		close(fd);
		return err_set(e, "listen-failed", "bind %s: %s", path, strerror(errno));
	}
	umask(old);
	if (chown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0 || listen(fd, 1024) < 0) {
		err_set(e, "listen-failed", "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		fatal("calloc");
	l->kind = readonly ? HTTP_UNIX_RO : HTTP_UNIX;
	l->fd = fd;
	l->path = strdup(path);
	l->sock_gid = gid;
	l->sock_uid = geteuid();
	if (l->path == NULL)
		fatal("strdup");
	if (http_start(h, l, e) < 0) {
		unlink(path);
		close(fd);
		free(l->path);
		free(l);
		return -1;
	}
	log_info("listening on %s (%s, mode 0660, gid %u)", path,
	    readonly ? "read-only" : "peer credentials", (unsigned)gid);
	return 0;
}

int
http_listen_tcp(struct http *h, const char *hostport, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct http_listener *l;
	char host[256], port[8];
	unsigned p;
	int fd, one = 1, rc;

	if (conf_split_hostport(hostport, host, sizeof(host), &p, e) < 0)
		return -1;
	snprintf(port, sizeof(port), "%u", p);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_set(e, "listen-failed", "%s: %s", hostport, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		err_set(e, "listen-failed", "%s: %s", hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		fatal("calloc");
	l->kind = HTTP_TCP;
	l->fd = fd;
	if (http_start(h, l, e) < 0) {
		close(fd);
		free(l);
		return -1;
	}
	log_info("listening on tcp %s (bearer tokens)", hostport);
	return 0;
}

/* ---- connections (slow-client watchdog) ----------------------------------------------- */

static void
http_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = ((struct http_listener *)cls)->h;
	struct http_conn *hc = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = calloc(1, sizeof(*hc));
		if (hc == NULL)
			fatal("calloc");
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		hc->fd = ci ? ci->connect_fd : -1;
		hc->since = ev_now(h->loop);
		hc->next = h->conns;
		if (h->conns)
			h->conns->prev = hc;
		h->conns = hc;
		*socket_context = hc;
	} else if (hc != NULL) {
		if (hc->prev)
			hc->prev->next = hc->next;
		else
			h->conns = hc->next;
		if (hc->next)
			hc->next->prev = hc->prev;
		free(hc);
		*socket_context = NULL;
	}
}

static struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/*
 * Writes a final answer straight to the socket of a request whose body is still arriving:
 * libmicrohttpd 0.9.75 refuses MHD_queue_response until the body is complete, and a slow
 * client must still learn why it was cut off. MHD has written nothing for this request yet.
 */
static void
http_raw_answer(struct http_conn *hc)
{
	struct http_req *r = hc->req;
	char body[160], msg[512];
	int n, status = r->too_large ? 413 : 408;

	snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
	    status == 413 ? "body-too-large" : "request-timeout",
	    status == 413 ? "body exceeds max_body" : "request not received within request_timeout");
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\nX-Request-Id: %s\r\nContent-Length: %zu\r\n\r\n%s", status,
	    status == 413 ? "Content Too Large" : "Request Timeout", r->request_id, strlen(body), body);
	if (send(hc->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("slow client: %s", strerror(errno));
	r->status = status;
}

/*
 * Once a second: cut off connections whose current request (or idleness) has lasted longer
 * than request_timeout plus a grace second. A request whose body is being read gets a 408
 * (or 413) written first and its sending side shut; anything else (idle keep-alive, headers
 * trickling in) is shut down silently. A connection still open a second later is shut down
 * both ways. shutdown(2) leaves the fd to MHD, which sees EOF and closes it itself.
 */
static void
http_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http *h = w->data;
	double now = ev_now(loop);

	(void)revents;
	for (struct http_conn *hc = h->conns; hc != NULL; hc = hc->next) {
		if (hc->suspended || hc->fd < 0 || hc->shut == 2)
			continue;
		if (hc->shut == 1) {
			shutdown(hc->fd, SHUT_RDWR);
			hc->shut = 2;
			continue;
		}
		if (now - hc->since <= (double)h->lim.request_timeout + 1.0)
			continue;
		log_info("cutting off a connection idle or slow for %.0f s", now - hc->since);
		if (hc->req != NULL && hc->req->status == 0) {
			http_raw_answer(hc);
			shutdown(hc->fd, SHUT_WR);
			hc->shut = 1;
		} else {
			shutdown(hc->fd, SHUT_RDWR);
			hc->shut = 2;
		}
	}
	http_kick(h);
}

/* ---- requests ------------------------------------------------------------------------- */

static int
http_id_sane(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n >= 64 || !(isalnum((unsigned char)s[n]) || strchr("._-:", s[n]) != NULL))
			return 0;
	return n > 0;
}

/* The peer's role on a unix listener, from SO_PEERCRED / SO_PEERGROUPS. */
static enum http_role
http_unix_role(struct http_listener *l, int fd, char *actor, size_t len)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	gid_t groups[256];
	socklen_t gl = sizeof(groups);
	int ng, is_admin = 0, is_group;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return HTTP_ROLE_NONE;
	snprintf(actor, len, "uid:%u", (unsigned)cr.uid);
	if (l->kind == HTTP_UNIX_RO)
		return HTTP_ROLE_READER;
	if (cr.uid == 0)
		return HTTP_ROLE_ADMIN;
	ng = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0 ? (int)(gl / sizeof(gid_t)) : 0;
	is_group = cr.gid == l->sock_gid || cr.uid == l->sock_uid;
	if (l->h->has_admin_gid && cr.gid == l->h->admin_gid)
		is_admin = 1;
	for (int i = 0; i < ng; i++) {
		is_group |= groups[i] == l->sock_gid;
		is_admin |= l->h->has_admin_gid && groups[i] == l->h->admin_gid;
	}
	if (is_admin)
		return HTTP_ROLE_ADMIN;
	return is_group ? HTTP_ROLE_OPERATOR : HTTP_ROLE_READER;
}

static void
http_sha256(const char *s, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) != 1)
		fatalx("EVP_Digest(sha256) failed");
}

/* The bearer token's role (constant time over the whole table), or HTTP_ROLE_NONE. */
static enum http_role
http_token_role(struct http *h, const char *auth, char *actor, size_t len)
{
	unsigned char hash[32];
	enum http_role role = HTTP_ROLE_NONE;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
		return HTTP_ROLE_NONE;
	http_sha256(auth + 7, strlen(auth + 7), hash);
	for (size_t i = 0; i < h->ntokens; i++) {
		if (CRYPTO_memcmp(hash, h->tokens[i].hash, 32) == 0) {
			role = h->tokens[i].role;
			snprintf(actor, len, "token:%s", h->tokens[i].name);
		}
	}
	return role;
}

static struct http_req *
http_req_new(struct http_listener *l, struct MHD_Connection *c, const char *url, const char *method)
{
	struct http *h = l->h;
	struct http_req *r = calloc(1, sizeof(*r));
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	const union MHD_ConnectionInfo *ci;

	if (r == NULL || (r->body = malloc(1)) == NULL)
		fatal("calloc");
	r->body[0] = '\0';
	r->lis = l;
	r->conn = c;
	r->method = method;
	r->path = url;
	r->body_cap = h->lim.max_body;
	r->started = ev_now(h->loop);
	if (id != NULL && http_id_sane(id))
		snprintf(r->request_id, sizeof(r->request_id), "%s", id);
	else
		snprintf(r->request_id, sizeof(r->request_id), "%lx-%lu", h->boot, ++h->req_seq);
	if (l->kind == HTTP_TCP) {
		r->role = http_token_role(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_AUTHORIZATION), r->actor, sizeof(r->actor));
	} else {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		r->role = ci ? http_unix_role(l, ci->connect_fd, r->actor, sizeof(r->actor)) : HTTP_ROLE_NONE;
	}
	return r;
}

static enum MHD_Result
http_queue(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"prefixd\"");
	if (r->too_large)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* First call for a request: authentication and size checks that need no body. */
static int
http_precheck(struct http_req *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (r->role == HTTP_ROLE_NONE) {
		if (r->lis->kind == HTTP_TCP)
			http_reply_error(r, 401, "unauthorized", "missing or unknown bearer token");
		else
			http_reply_error(r, 403, "forbidden", "peer credentials unavailable");
		return -1;
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > r->body_cap) {
		r->too_large = 1;
		http_reply_error(r, 413, "body-too-large", "body of %s bytes exceeds max_body %zu", cl, r->body_cap);
		return -1;
	}
	return 0;
}

/*
 * Appends a chunk of body. Past max_body the rest is read and dropped, and 413 is answered
 * once the request is complete: answering while the client still sends makes most clients
 * fail on a reset connection before they read the answer (and MHD 0.9.75 refuses to queue
 * an answer before the body is complete). The watchdog cuts off a body that never ends.
 */
static void
http_body_chunk(struct http_req *r, const char *data, size_t n)
{
	char *nb;

	if (r->status != 0 || r->too_large)
		return;
	if (r->body_len + n > r->body_cap) {
		r->too_large = 1;
		return;
	}
	nb = realloc(r->body, r->body_len + n + 1);
	if (nb == NULL)
		fatal("realloc");
	r->body = nb;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_listener *l = cls;
	struct http_req *r = *con_cls;
	struct http_conn *hc;

	(void)version;
	if (r == NULL) {
		r = http_req_new(l, c, url, method);
		*con_cls = r;
		if (http_precheck(r) < 0)
			return http_queue(r);
		if ((hc = http_conn_of(c)) != NULL) {
			hc->since = r->started;
			hc->req = r;
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		http_body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if ((hc = http_conn_of(c)) != NULL)
		hc->req = NULL;                 /* the body is complete */
	if (r->too_large && r->status == 0)
		http_reply_error(r, 413, "body-too-large", "body exceeds max_body %zu", r->body_cap);
	if (r->status != 0)
		return r->suspended ? MHD_YES : http_queue(r);
	log_set_request_id(r->request_id);
	l->h->cb(r, l->h->arg);
	log_set_request_id(NULL);
	if (r->suspended) {
		if ((hc = http_conn_of(c)) != NULL)
			hc->suspended = 1;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (r->status == 0)
		http_reply_error(r, 500, "internal", "handler gave no answer");
	return http_queue(r);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_listener *l = cls;
	struct http_req *r = *con_cls;
	struct http_conn *hc = http_conn_of(c);

	(void)toe;
	if (hc != NULL) {
		hc->since = ev_now(l->h->loop);
		hc->req = NULL;
	}
	if (r == NULL)
		return;
	free(r->body);
	free(r->resp);
	free(r);
	*con_cls = NULL;
}

size_t
http_connection_count(const struct http *h)
{
	size_t n = 0;

	for (const struct http_conn *hc = h->conns; hc != NULL; hc = hc->next)
		n++;
	return n;
}

size_t
http_connection_count_active(const struct http *h)
{
	size_t n = 0;

	for (const struct http_conn *hc = h->conns; hc != NULL; hc = hc->next)
		n += !hc->suspended;
	return n;
}

const char *
http_query(struct http_req *req, const char *name)
{
	if (req->conn == NULL)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct http_req *
http_req_detached(const char *method, const char *path, const char *body, size_t len,
    enum http_role role)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->body = malloc(len + 1)) == NULL)
		fatal("calloc");
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->method = method;
	r->path = path;
	r->role = role;
	snprintf(r->actor, sizeof(r->actor), "detached");
	snprintf(r->request_id, sizeof(r->request_id), "detached");
	r->started = ev_time();
	return r;
}

void
http_req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	free(req->body);
	free(req->resp);
	free(req);
}

void
http_reply(struct http_req *req, int status, const char *type, const char *body, size_t len)
{
	free(req->resp);
	req->resp = malloc(len + 1);
	if (req->resp == NULL)
		fatal("malloc");
	memcpy(req->resp, body, len);
	req->resp[len] = '\0';
	req->resp_len = len;
	req->resp_type = type;
	req->status = status;
}

void
http_reply_json(struct http_req *req, int status, json_t *j)
{
	static const char internal[] =
	    "{\"error\":{\"code\":\"internal\",\"message\":\"answer could not be encoded\"}}";
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	if (s == NULL) {                /* a handler built invalid JSON: a bug, never a crash */
		log_error("%s: answer %d could not be encoded", req->request_id, status);
		http_reply(req, 500, "application/json", internal, sizeof(internal) - 1);
		return;
	}
	free(req->resp);
	req->resp = s;
	req->resp_len = strlen(s);
	req->resp_type = "application/json";
	req->status = status;
}

/*
 * Error messages quote what the client sent (paths, names), which may be any bytes and may
 * have been cut inside a UTF-8 sequence: keep printable ASCII, replace the rest with '?'.
 */
void
http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	http_reply_json(req, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void
http_suspend(struct http_req *req)
{
	req->suspended = 1;
}

void
http_resume(struct http_req *req)
{
	struct http_conn *hc;

	req->suspended = 0;
	if (req->conn == NULL)
		return;                 /* detached: the caller reads the reply */
	hc = http_conn_of(req->conn);
	if (hc != NULL) {
		hc->suspended = 0;
		hc->since = ev_now(req->lis->h->loop);
	}
	MHD_resume_connection(req->conn);
}

/* ---- tokens --------------------------------------------------------------------------- */

static int
http_hex32(const char *s, unsigned char out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[64] == '\0' ? 0 : -1;
}

/* Parses one tokens-file line into t; 1 = a token, 0 = blank/comment, -1 = bad. */
static int
http_token_line(char *line, struct http_token *t)
{
	char *name, *role, *hex, *extra, *save = NULL;

	line[strcspn(line, "\r\n")] = '\0';
	name = strtok_r(line, " \t", &save);
	if (name == NULL || name[0] == '#')
		return 0;
	role = strtok_r(NULL, " \t", &save);
	hex = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (role == NULL || hex == NULL || extra != NULL || strlen(name) >= sizeof(t->name) ||
	    http_role_parse(role, &t->role) < 0 || http_hex32(hex, t->hash) < 0)
		return -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return 1;
}

int
http_tokens_load(struct http *h, const char *path, struct err *e)
{
	struct http_token *tab = NULL, t;
	size_t n = 0;
	char line[512];
	int lineno = 0, rc;
	FILE *fp;

	if (path == NULL) {
		free(h->tokens);
		h->tokens = NULL;
		h->ntokens = 0;
		return 0;
	}
	if ((fp = fopen(path, "r")) == NULL)
		return err_set(e, "conf-invalid", "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			/* never parse the tail of an overlong line (a comment's, say) as a token */
			fclose(fp);
			free(tab);
			return err_set(e, "conf-invalid", "%s:%d: line longer than %zu bytes", path,
			    lineno, sizeof(line) - 2);
		}
		if ((rc = http_token_line(line, &t)) < 0) {
			fclose(fp);
			free(tab);
			return err_set(e, "conf-invalid", "%s:%d: want 'name reader|operator|admin sha256hex'",
			    path, lineno);
		}
		if (rc == 0)
			continue;
		if ((tab = reallocarray(tab, n + 1, sizeof(*tab))) == NULL)
			fatal("reallocarray");
		tab[n++] = t;
	}
	fclose(fp);
	free(h->tokens);
	h->tokens = tab;
	h->ntokens = n;
	return 0;
}

/* ---- life cycle ----------------------------------------------------------------------- */

struct http *
http_new(struct ev_loop *loop, const struct http_limits *lim, http_cb cb, void *arg)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		fatal("calloc");
	h->loop = loop;
	h->lim = *lim;
	h->cb = cb;
	h->arg = arg;
	h->boot = (unsigned long)time(NULL);
	ev_timer_init(&h->watchdog, http_watchdog_cb, 1., 1.);
	h->watchdog.data = h;
	ev_timer_start(loop, &h->watchdog);
	return h;
}

void
http_set_limits(struct http *h, const struct http_limits *lim)
{
	h->lim.max_body = lim->max_body;
}

int
http_set_admin_group(struct http *h, const char *group, struct err *e)
{
	gid_t gid;

	if (group == NULL) {
		h->has_admin_gid = 0;
		return 0;
	}
	if (http_resolve_group(group, &gid, e) < 0)
		return -1;
	h->admin_gid = gid;
	h->has_admin_gid = 1;
	return 0;
}

void
http_quiesce(struct http *h)
{
	for (struct http_listener *l = h->listeners; l != NULL; l = l->next) {
		if (l->d != NULL && !l->quiesced && MHD_quiesce_daemon(l->d) >= 0)
			l->quiesced = 1;
		if (l->path != NULL)
			unlink(l->path);
	}
}

void
http_free(struct http *h)
{
	struct http_listener *l, *next;

	if (h == NULL)
		return;
	for (l = h->listeners; l != NULL; l = next) {
		next = l->next;
		ev_io_stop(h->loop, &l->io);
		ev_timer_stop(h->loop, &l->tm);
		if (l->d != NULL)
			MHD_stop_daemon(l->d);
		if (l->quiesced)
			close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
		free(l->path);
		free(l);
	}
	ev_timer_stop(h->loop, &h->watchdog);
	free(h->tokens);
	free(h);
}
