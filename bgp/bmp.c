/*
 * bmp — the BMP station on the daemon's libev loop: the listener, the allow list, one session
 * per router with its own read buffer, and the hand-off of every parsed message to the route
 * store (bmp_rib.c). What is kept, the bounds and the events are in bmp.h "The station".
 *
 * Life of a session: accepted (allow list, session cap) -> reading (frame, parse, apply, for
 * as many whole messages as the buffer holds, at most BMP_READ_BUDGET bytes per wake-up) ->
 * closed, by the router (EOF, Termination) or by us (a refused message, a read error). A close
 * drops the session's vantage points (ROUTE_DOWN "session-closed" per route, then
 * SESSION_DOWN) and frees the session; it happens at the end of the session's own callback,
 * after the last use of its buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmp_private.h"
#include "log.h"

#define BMP_BUF_INITIAL (64u << 10)

struct bmp_session {
	struct bmp_session *next;
	struct bmp_station *st;
	int fd;
	ev_io io;
	struct cidr router;
	char addr[CIDR_STRLEN];
	char name[BMP_NAME_MAX];
	uint8_t *buf;
	size_t len, cap;
	bool warned_full;
};

struct bmp_station {
	struct ev_loop *loop;
	int lfd;
	ev_io lio;
	unsigned port;
	struct cidr *allow;
	size_t nallow, max_msg, max_sessions, nsessions;
	struct bmp_session *sessions;
	struct bmp_rib rib;
	struct bmp_station_stats stats;
};

const char *
bmp_verdict_name(int verdict)
{
	static const char *const names[] = {
		"ok", "origin-mismatch", "more-specific", "more-specific-other-origin",
		"less-specific", "origin-unknown",
	};
	return verdict >= 0 && verdict <= BMP_VERDICT_ORIGIN_UNKNOWN ? names[verdict] : "?";
}

static void
session_event(struct bmp_session *s, uint8_t type, const char *reason)
{
	struct bmp_event ev = { .type = type, .router = &s->router, .reason = reason };

	if (s->st->rib.cb)
		s->st->rib.cb(s->st->rib.cb_arg, &ev);
}

static void
session_close(struct bmp_session *s, const char *reason)
{
	struct bmp_station *st = s->st;
	struct bmp_session **pp;

	ev_io_stop(st->loop, &s->io);
	close(s->fd);
	bmp_rib_drop_owner(&st->rib, s, "session-closed");
	session_event(s, BMP_EV_SESSION_DOWN, reason);
	for (pp = &st->sessions; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	st->nsessions--;
	free(s->buf);
	free(s);
}

/* The router's sysName, printable ASCII only (it reaches logs and JSON). */
static void
session_name(struct bmp_session *s, const struct bmp_msg *m)
{
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	bmp_tlv_begin(&it, &m->u.tlvs);
	while (bmp_tlv_next(&it, &t)) {
		size_t n = 0;

		if (t.type != 2)
			continue;
		for (size_t i = 0; i < t.len && n + 1 < sizeof(s->name); i++)
			s->name[n++] = t.value[i] >= 0x20 && t.value[i] < 0x7f ? (char)t.value[i] : '?';
		s->name[n] = '\0';
	}
}

/* Applies one parsed message. Returns false when the session must close (Termination). */
static bool
session_apply(struct bmp_session *s, const struct bmp_msg *m)
{
	struct bmp_station *st = s->st;
	struct bmp_origin o = { s, &s->router, s->name };

	st->stats.messages++;
	switch (m->type) {
	case BMP_INITIATION:
		session_name(s, m);
		log_info("bmp: router %s is %s", s->addr, s->name);
		return true;
	case BMP_TERMINATION:
		log_info("bmp: router %s (%s) terminates its session", s->addr, s->name);
		return false;
	case BMP_ROUTE_MONITORING:
	case BMP_PEER_DOWN:
		st->rib.now = ev_now(st->loop);
		if (bmp_rib_apply(&st->rib, &o, m) > 0 && !s->warned_full) {
			s->warned_full = true;
			log_warnx("bmp: router %s: route store full (%zu routes, %zu vantage points): "
			    "routes of our space dropped", s->addr, st->rib.max_paths,
			    st->rib.max_vants);
		}
		return true;
	}
	return true;
}

/* Parses and applies every whole message in the buffer. Returns 0, or -1 when the session
 * must close (reason in *why, e filled for a refused message). */
static int
session_drain(struct bmp_session *s, const char **why, struct err *e)
{
	size_t off = 0, n;
	struct bmp_msg m;
	int rc = 0;

	while (rc == 0) {
		int fr = bmp_frame(s->buf + off, s->len - off, s->st->max_msg, &n, e);

		if (fr < 0 || (fr == 1 && bmp_parse(s->buf + off, n, &m, e) < 0)) {
			*why = e->code;
			rc = -1;
			break;
		}
		if (fr == 0) {
			if (n > s->cap) {
				if ((s->buf = realloc(s->buf, n)) == NULL)
					fatal("realloc");
				s->cap = n;
			}
			break;
		}
		off += n;
		if (!session_apply(s, &m)) {
			*why = "termination";
			rc = -1;
		}
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	return rc;
}

static void
session_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bmp_session *s = w->data;
	const char *why = NULL;
	size_t budget = BMP_READ_BUDGET;
	struct err e;

	(void)loop;
	(void)revents;
	err_clear(&e);
	while (budget > 0 && why == NULL) {
		ssize_t r = read(s->fd, s->buf + s->len, s->cap - s->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0) {
			why = r == 0 ? "closed" : "read-error";
			if (r < 0)
				log_warn("bmp: router %s: read", s->addr);
			break;
		}
		s->len += (size_t)r;
		s->st->stats.bytes += (uint64_t)r;
		budget = (size_t)r >= budget ? 0 : budget - (size_t)r;
		if (session_drain(s, &why, &e) < 0 && e.code != NULL) {
			s->st->stats.sessions_malformed++;
			log_warnx("bmp: router %s (%s): session closed: %s: %s", s->addr, s->name,
			    e.code, e.msg);
		}
	}
	if (why != NULL) {
		if (e.code == NULL)
			log_info("bmp: router %s (%s): session %s", s->addr, s->name, why);
		session_close(s, why);
	}
}

/* ---- listener ------------------------------------------------------------------------- */

static int
sockaddr_cidr(const struct sockaddr_storage *ss, struct cidr *out)
{
	struct err e;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		return cidr_from_bytes(CIDR_V4, (const uint8_t *)&a->sin_addr, 32, out, &e);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			return cidr_from_bytes(CIDR_V4, a->sin6_addr.s6_addr + 12, 32, out, &e);
		return cidr_from_bytes(CIDR_V6, a->sin6_addr.s6_addr, 128, out, &e);
	}
	return -1;
}

static bool
allowed(const struct bmp_station *st, const struct cidr *c)
{
	for (size_t i = 0; i < st->nallow; i++)
		if (cidr_contains(&st->allow[i], c))
			return true;
	return false;
}

static void
listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bmp_station *st = w->data;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct bmp_session *s;
	struct cidr router;
	char addr[CIDR_STRLEN] = "?";
	int fd;

	(void)revents;
	fd = accept4(st->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("bmp: accept");
		return;
	}
	if (sockaddr_cidr(&ss, &router) == 0)
		cidr_format_addr(&router, addr, sizeof(addr));
	if (addr[0] == '?' || !allowed(st, &router) || st->nsessions >= st->max_sessions) {
		log_warnx("bmp: connection from %s refused: %s", addr, addr[0] == '?' ?
		    "unknown address family" : st->nsessions >= st->max_sessions ?
		    "too many sessions" : "not in [bmp] allow");
		st->stats.sessions_refused++;
		close(fd);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->buf = malloc(BMP_BUF_INITIAL)) == NULL)
		fatal("malloc");
	s->st = st;
	s->fd = fd;
	s->cap = BMP_BUF_INITIAL;
	s->router = router;
	memcpy(s->addr, addr, sizeof(s->addr));
	s->next = st->sessions;
	st->sessions = s;
	st->nsessions++;
	st->stats.sessions_accepted++;
	ev_io_init(&s->io, session_read_cb, fd, EV_READ);
	s->io.data = s;
	ev_io_start(loop, &s->io);
	log_info("bmp: router %s connected", addr);
	session_event(s, BMP_EV_SESSION_UP, NULL);
}

static int
listen_open(struct bmp_station *st, const struct bmp_conf *c, struct err *e)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	struct cidr a;
	uint8_t bytes[16];
	int one = 1;

	if (cidr_parse_addr(c->listen_addr, &a, e) < 0)
		return -1;
	if (a.family == CIDR_V4) {
		struct sockaddr_in *in = (void *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)c->listen_port);
		(void)cidr_to_bytes(&a, bytes);
		memcpy(&in->sin_addr, bytes, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)c->listen_port);
		(void)cidr_to_bytes(&a, bytes);
		memcpy(in6->sin6_addr.s6_addr, bytes, 16);
		sl = sizeof(*in6);
	}
	st->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->lfd < 0 || setsockopt(st->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(st->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(st->lfd, 64) < 0 ||
	    getsockname(st->lfd, (struct sockaddr *)&ss, &sl) < 0)
		return err_set(e, "listen-failed", "bmp: %s port %u: %s", c->listen_addr,
		    c->listen_port, strerror(errno));
	st->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	return 0;
}

struct bmp_station *
bmp_station_new(struct ev_loop *loop, const struct bmp_conf *c, struct err *e)
{
	struct bmp_station *st;

	if (c->nallow == 0) {
		err_set(e, "invalid-argument", "bmp: listen without allow: no router may connect");
		return NULL;
	}
	if (c->listen_port > 65535 || c->max_msg > BMP_MSG_MAX) {
		err_set(e, "invalid-argument", "bmp: port %u or max_msg %zu out of range",
		    c->listen_port, c->max_msg);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->allow = calloc(c->nallow, sizeof(*st->allow))) == NULL)
		fatal("calloc");
	st->loop = loop;
	st->lfd = -1;
	memcpy(st->allow, c->allow, c->nallow * sizeof(*st->allow));
	st->nallow = c->nallow;
	st->max_msg = c->max_msg ? c->max_msg : BMP_MSG_MAX;
	st->max_sessions = c->max_sessions ? c->max_sessions : BMP_DEFAULT_MAX_SESSIONS;
	bmp_rib_init(&st->rib, c->max_routes ? c->max_routes : BMP_DEFAULT_MAX_ROUTES,
	    c->max_vantages ? c->max_vantages : BMP_DEFAULT_MAX_VANTAGES);
	if (listen_open(st, c, e) < 0) {
		bmp_station_free(st);
		return NULL;
	}
	ev_io_init(&st->lio, listen_cb, st->lfd, EV_READ);
	st->lio.data = st;
	ev_io_start(loop, &st->lio);
	log_info("bmp: listening on %s port %u", c->listen_addr, st->port);
	return st;
}

void
bmp_station_free(struct bmp_station *st)
{
	if (st == NULL)
		return;
	st->rib.cb = NULL;                      /* no events while everything goes */
	while (st->sessions)
		session_close(st->sessions, "station-stopped");
	if (st->lfd >= 0) {
		ev_io_stop(st->loop, &st->lio);
		close(st->lfd);
	}
	bmp_rib_clear(&st->rib);
	free(st->allow);
	free(st);
}

unsigned
bmp_station_port(const struct bmp_station *st)
{
	return st->port;
}

int
bmp_set_watch(struct bmp_station *st, const struct bmp_watch *w, size_t n, struct err *e)
{
	return bmp_rib_set_watch(&st->rib, w, n, e);
}

void
bmp_subscribe(struct bmp_station *st, bmp_event_cb cb, void *arg)
{
	st->rib.cb = cb;
	st->rib.cb_arg = arg;
}

size_t
bmp_visibility(const struct bmp_station *st, const struct cidr *q, struct bmp_route *out,
    size_t max)
{
	return bmp_rib_visibility(&st->rib, q, out, max);
}

void
bmp_station_stats(const struct bmp_station *st, struct bmp_station_stats *out)
{
	*out = st->stats;
	out->sessions_open = st->nsessions;
	out->routes_seen = st->rib.routes_seen;
	out->routes_outside = st->rib.routes_outside;
	out->routes_dropped = st->rib.routes_dropped;
	out->routes_kept = st->rib.npaths;
	out->vantages = st->rib.nvants;
}
