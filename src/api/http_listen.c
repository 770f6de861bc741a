/*
 * http_listen — the listeners of the http transport and the connections they accept.
 * Called by prefixd.c (http_listen_unix, http_listen_tcp, http_kick, the connection counts)
 * and by http.c (http_conn_of, the watchdog timer). It owns each listener: its socket (unix:
 * bound in a private directory with its group and mode, then renamed into place; TCP), its MHD daemon and the ev_io/ev_timer pair that runs MHD on the
 * loop; the per-connection bookkeeping (NOTIFY_CONNECTION) the slow-client watchdog reads;
 * and the connection budget (http.h): per-address limit on TCP, the admins' reserve on the
 * main unix socket (decided at accept, from SO_PEERCRED), the long-poll cap.
 * A TLS TCP listener gets http_tls.c's options (its certificate callback and versions).
 * Listeners are freed by http_free (http.c). See http.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "http_private.h"
#include "log.h"
#include "xmalloc.h"

/*
 * libmicrohttpd's memory pool per connection: it bounds a request's headers (and the read
 * buffer). MHD zeroes the pool for every request, so it is kept small: 16 KiB is four times
 * the largest header set our clients send, and costs a quarter of the 64 KiB default's memset
 * (which showed as ~10 % of the CPU in the GET benchmark).
 */
#define HTTP_CONN_MEMORY (16 * 1024)

/* ---- listeners ------------------------------------------------------------------------ */

static void
http_run(struct http_listener *l)
{
	MHD_UNSIGNED_LONG_LONG to;

	MHD_run(l->d);
	ev_timer_stop(l->h->loop, &l->tm);
	if (l->rerun) {                 /* a connection was refused: let MHD close it now */
		l->rerun = 0;
		ev_timer_set(&l->tm, 0., 0.);
		ev_timer_start(l->h->loop, &l->tm);
	} else if (MHD_get_timeout(l->d, &to) == MHD_YES) {
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

static void http_notify_conn(void *, struct MHD_Connection *, void **, enum MHD_ConnectionNotificationCode);
static unsigned http_conn_limit(const struct http_listener *l);

/*
 * libmicrohttpd's own messages (a refused connection at the limit, a malformed request, a
 * socket error) go through our logger, in the configured format (log_format = json stays
 * JSON), at info, one line each, bytes outside printable ASCII shown as '?' (they may quote
 * the client).
 */
static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	log_info("libmicrohttpd: %s", msg);
}

/* Starts the MHD daemon on l->fd and hooks it into the loop. */
static int
http_start(struct http *h, struct http_listener *l, struct err *e)
{
	static const struct MHD_OptionItem none[] = { { MHD_OPTION_END, 0, NULL } };
	const union MHD_DaemonInfo *info;

	l->h = h;
	l->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	    (l->tls ? MHD_USE_TLS : 0),
	    0, NULL, NULL, http_access, l,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, l,        /* first: MHD's own rule */
	    MHD_OPTION_LISTEN_SOCKET, l->fd,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, l,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify_conn, l,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri_seen, l,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, h->lim.request_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, http_conn_limit(l),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, l->kind == HTTP_TCP ? h->lim.max_per_address : 0u,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_ARRAY, l->tls ? http_tls_options() : none,
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

/*
 * Binds fd to `path` with group gid and mode `mode`, never acting on a name someone else can
 * swap: the socket is bound inside a fresh private directory beside path (mkdtemp, 0700), its
 * group and mode set there, then renamed over path in one step. A chown/chmod by name after a
 * bind in a shared directory would follow a symlink planted in between (issue 15, 16).
 */
static int
http_unix_bind(int fd, const char *path, gid_t gid, mode_t mode, struct err *e)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *slash = strrchr(path, '/');
	int n, dfd = -1, rc = -1;
	mode_t old;

	n = slash == NULL ? snprintf(dir, sizeof(dir), ".prefixd.XXXXXX") :
	    snprintf(dir, sizeof(dir), "%.*s/.prefixd.XXXXXX", (int)(slash - path), path);
	if (n < 0 || (size_t)n + 3 > sizeof(sun.sun_path))
		return err_set(e, "invalid-argument", "socket path too long: %s", path);
	if (mkdtemp(dir) == NULL)
		return err_set(e, "listen-failed", "%s: %s", dir, strerror(errno));
	memcpy(sun.sun_path, dir, (size_t)n);          /* fits: checked above */
	memcpy(sun.sun_path + n, "/s", 3);
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		err_set(e, "listen-failed", "bind %s: %s", path, strerror(errno));
		goto out;
	}
	umask(old);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchownat(dfd, "s", (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, "s", mode, 0) < 0 || renameat(dfd, "s", AT_FDCWD, path) < 0) {
		err_set(e, "listen-failed", "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlink(sun.sun_path);
	if (dfd >= 0)
		close(dfd);
	rmdir(dir);
	return rc;
}

int
http_listen_unix(struct http *h, const char *path, const char *group, unsigned mode,
    int readonly, const char *admin_group, struct err *e)
{
	struct http_listener *l;
	struct sockaddr_un sun;
	gid_t gid = getegid();
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
	if (http_unix_bind(fd, path, gid, (mode_t)mode, e) < 0) {
		close(fd);
		return -1;
	}
	if (listen(fd, 1024) < 0) {
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
	l->path = xstrdup(path);
	l->sock_gid = gid;
	l->sock_uid = geteuid();
	if (http_start(h, l, e) < 0) {
		unlink(path);
		close(fd);
		free(l->path);
		free(l);
		return -1;
	}
	log_info("listening on %s (%s, mode %04o, gid %u)", path,
	    readonly ? "read-only" : "peer credentials", mode, (unsigned)gid);
	return 0;
}

int
http_listen_tcp(struct http *h, const char *hostport, bool tls, struct err *e)
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
	l->tls = tls;
	if (http_start(h, l, e) < 0) {
		close(fd);
		free(l);
		return -1;
	}
	log_info("listening on tcp %s (bearer tokens%s)", hostport, tls ? ", TLS 1.2/1.3" : "");
	return 0;
}

/* ---- connection budget (http.h) ------------------------------------------------------ */

/* What libmicrohttpd may hold on l: the main unix socket adds the admins' reserve. */
static unsigned
http_conn_limit(const struct http_listener *l)
{
	return l->h->lim.max_connections + (l->kind == HTTP_UNIX ? l->h->lim.admin_connections : 0);
}

unsigned
http_long_poll_cap(const struct http_listener *l)
{
	unsigned half = l->h->lim.max_connections / 2;

	return l->h->lim.max_long_polls < half ? l->h->lim.max_long_polls : half;
}

/*
 * A new connection on the main unix socket: a peer that is not admin may use max_connections
 * slots, the rest are the admins' (admin_connections). Past that the peer is answered 503 at
 * once, before it sends anything, and the socket is shut both ways so libmicrohttpd closes it
 * at its next read (http_access never serves a refused connection). Shut both ways at once, not
 * a second later: a refused connection that lingered would hold one of the slots kept for
 * admins, and a peer reconnecting in a loop would fill them. The price: a client that writes
 * its request before the 503 arrives may see EPIPE or a reset instead of the answer.
 */
static void
http_conn_admit(struct http_listener *l, struct http_conn *hc)
{
	static const char body[] = "{\"error\":{\"code\":\"connection-limit\",\"message\":"
	    "\"max_connections reached; the rest are kept for admins\"}}";
	char actor[64], msg[512];
	int n;

	if (l->kind != HTTP_UNIX || hc->fd < 0 ||
	    http_unix_role(l, hc->fd, actor, sizeof(actor)) == HTTP_ROLE_ADMIN)
		return;
	if (l->n_other < l->h->lim.max_connections) {
		l->n_other++;
		hc->other = 1;
		return;
	}
	l->n_refused++;
	if (ev_now(l->h->loop) - l->refused_logged >= 1.0) {   /* one line a second at most */
		log_info("%s: refusing connections of peers that are not admin (%u, the last of "
		    "%s): max_connections reached, the rest are kept for admins", l->path,
		    l->n_refused, actor);
		l->n_refused = 0;
		l->refused_logged = ev_now(l->h->loop);
	}
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
	    "application/json\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(body) - 1, body);
	if (send(hc->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refused connection: %s", strerror(errno));
	shutdown(hc->fd, SHUT_RDWR);
	hc->refused = 1;
	hc->shut = 2;
	l->rerun = 1;
}

/* ---- connections (slow-client watchdog) ----------------------------------------------- */

static void
http_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_listener *l = cls;
	struct http *h = l->h;
	struct http_conn *hc = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = calloc(1, sizeof(*hc));
		if (hc == NULL)
			fatal("calloc");
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		hc->fd = ci ? ci->connect_fd : -1;
		hc->since = ev_now(h->loop);
		hc->tls_gen = http_tls_generation();
		hc->lis = l;
		hc->next = h->conns;
		if (h->conns)
			h->conns->prev = hc;
		h->conns = hc;
		*socket_context = hc;
		http_conn_admit(l, hc);
	} else if (hc != NULL) {
		if (hc->other)
			l->n_other--;
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

struct http_conn *
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
 * (or 413) written first (not on TLS, where raw bytes would not be read) and its sending
 * side shut; anything else (idle keep-alive, headers trickling in) is shut down silently. A connection still open a second later is shut down
 * both ways. shutdown(2) leaves the fd to MHD, which sees EOF and closes it itself.
 */
void
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
		if (hc->req != NULL && hc->req->status == 0 && !hc->lis->tls) {
			http_raw_answer(hc);
			shutdown(hc->fd, SHUT_WR);
			hc->shut = 1;
		} else {
			shutdown(hc->fd, SHUT_RDWR);
			hc->shut = 2;
		}
	}
	http_tls_collect(h);
	http_kick(h);
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
