/*
 * Unit tests of the BMP station (bgp/bmp.c, bgp/bmp_rib.c) on a real libev loop and real
 * loopback TCP: the gobgpd capture replayed as a router would send it, what is kept of our
 * space and what is forgotten, the events a subscriber hears (a more-specific from another
 * origin is a hijack; it clears when withdrawn), the allow list, the route cap, a change of
 * watch — and hostile sessions (a malformed message, 10 MB of garbage) that are closed while
 * another session goes on being served. Every wait polls the station's counters with a
 * deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmp.h"
#include "unit_bmp.h"

static uint8_t capture[UNIT_BMP_CAPTURE_LEN + 1];
static size_t off[UNIT_BMP_CAPTURE_MSGS + 1];

struct seen {
	uint8_t type, verdict, old_verdict, view;
	uint32_t origin;
	char prefix[CIDR_STRLEN];
	char reason[40];
};

struct fx {
	struct ev_loop *loop;
	struct bmp_station *st;
	struct seen ev[128];
	int nev;
};

static void
on_event(void *arg, const struct bmp_event *ev)
{
	struct fx *f = arg;
	struct seen *s;

	assert_true(f->nev < 128);
	s = &f->ev[f->nev++];
	memset(s, 0, sizeof(*s));
	s->type = ev->type;
	s->old_verdict = ev->old_verdict;
	snprintf(s->reason, sizeof(s->reason), "%s", ev->reason ? ev->reason : "");
	if (ev->route) {
		s->verdict = ev->route->verdict;
		s->view = ev->route->vantage.view;
		s->origin = ev->route->origin_as;
		cidr_format(&ev->route->prefix, s->prefix, sizeof(s->prefix));
	}
}

static struct cidr
P(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c, NULL), 0);
	return c;
}

/* A prefix that lives until the next call (for arguments). */
static const struct cidr *
pfx(const char *s)
{
	static struct cidr c;

	c = P(s);
	return &c;
}

static void
start(struct fx *f, const char *allow, size_t max_routes)
{
	struct cidr a = P(allow);
	struct bmp_conf c = { .listen_addr = "127.0.0.1", .allow = &a, .nallow = 1,
	    .max_routes = max_routes };
	struct bmp_watch w[] = {
		{ P("203.0.113.0/24"), 64500 },
		{ P("2001:db8:1000::/48"), 64500 },
	};
	struct err e;

	memset(f, 0, sizeof(*f));
	unit_bmp_capture(capture, off);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->st = bmp_station_new(f->loop, &c, &e);
	if (f->st == NULL)
		fail_msg("%s: %s", e.code, e.msg);
	assert_int_equal(bmp_set_watch(f->st, w, 2, &e), 0);
	bmp_subscribe(f->st, on_event, f);
}

static void
stop(struct fx *f)
{
	bmp_station_free(f->st);
	ev_loop_destroy(f->loop);
}

static int
dial(struct fx *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(
	    (uint16_t)bmp_station_port(f->st)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
stat_of(struct fx *f, size_t field)
{
	struct bmp_station_stats s;

	bmp_station_stats(f->st, &s);
	return *(const uint64_t *)((const char *)&s + field);
}

/* Runs the loop until the counter reaches want (5 s deadline). */
#define WAIT(f, field, want) wait_stat(f, offsetof(struct bmp_station_stats, field), want, #field)

static void
wait_stat(struct fx *f, size_t field, uint64_t want, const char *name)
{
	double deadline = now() + 5;

	while (stat_of(f, field) < want) {
		if (now() > deadline)
			fail_msg("%s is %llu, want %llu", name,
			    (unsigned long long)stat_of(f, field), (unsigned long long)want);
		ev_run(f->loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

/* Sends n bytes while running the loop (the station reads in this same thread). Returns
 * the bytes sent before the station closed the connection. */
static size_t
send_all(struct fx *f, int fd, const uint8_t *p, size_t n)
{
	size_t sent = 0;
	double deadline = now() + 20;

	while (sent < n) {
		ssize_t w = send(fd, p + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;                  /* reset by the station */
		assert_true(now() < deadline);
		ev_run(f->loop, EVRUN_NOWAIT);
	}
	return sent;
}

static void
send_msgs(struct fx *f, int fd, int from, int to)
{
	assert_int_equal(send_all(f, fd, capture + off[from], off[to] - off[from]),
	    off[to] - off[from]);
}

static int
count_events(const struct fx *f, uint8_t type, const char *prefix, int verdict)
{
	int n = 0;

	for (int i = 0; i < f->nev; i++)
		if (f->ev[i].type == type && (prefix == NULL || strcmp(f->ev[i].prefix, prefix) == 0) &&
		    (verdict < 0 || f->ev[i].verdict == verdict))
			n++;
	return n;
}

static void
test_station_keeps_our_space_and_hears_the_hijack(void **state)
{
	struct bmp_route r[16];
	struct fx f;
	int fd, hijacks = 0, ok = 0, closed;
	size_t n;

	(void)state;
	start(&f, "127.0.0.1/32", 0);
	fd = dial(&f);
	WAIT(&f, sessions_accepted, 1);
	send_msgs(&f, fd, 0, 16);               /* up to the hijack of 203.0.113.0/25 */
	WAIT(&f, messages, 16);
	n = bmp_visibility(f.st, pfx("203.0.113.0/24"), r, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		char buf[CIDR_STRLEN];
		cidr_format(&r[i].prefix, buf, sizeof(buf));
		assert_int_equal(r[i].vantage.router.family, CIDR_V4);
		if (strcmp(buf, "203.0.113.0/25") == 0) {
			assert_int_equal(r[i].origin_as, 64496);
			assert_string_equal(r[i].as_path, "64496");
			assert_int_equal(r[i].verdict, BMP_VERDICT_MORE_SPECIFIC_OTHER);
			assert_int_equal(r[i].relation, BMP_REL_MORE_SPECIFIC);
			hijacks++;
		} else {
			assert_string_equal(buf, "203.0.113.0/24");
			assert_int_equal(r[i].origin_as, 64500);
			assert_int_equal(r[i].verdict, BMP_VERDICT_OK);
			assert_int_equal(r[i].expected_origin, 64500);
			assert_true(r[i].since > 0);
			ok++;
		}
	}
	assert_int_equal(hijacks, 3);           /* pre-policy, post-policy, Loc-RIB */
	assert_int_equal(ok, 3);
	assert_int_equal(bmp_visibility(f.st, pfx("2001:db8::/32"), r, 16), 3);
	assert_int_equal(count_events(&f, BMP_EV_ROUTE_UP, "203.0.113.0/25",
	    BMP_VERDICT_MORE_SPECIFIC_OTHER), 3);
	assert_int_equal(count_events(&f, BMP_EV_ROUTE_UP, "198.51.100.0/24", -1), 0);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_outside)), 3);

	send_msgs(&f, fd, 16, UNIT_BMP_CAPTURE_MSGS);   /* withdrawals, stats, peer down, ... */
	WAIT(&f, messages, UNIT_BMP_CAPTURE_MSGS);
	assert_int_equal(count_events(&f, BMP_EV_ROUTE_DOWN, "203.0.113.0/25", -1), 3);
	/* The last two messages withdraw the /24 from post-policy and Loc-RIB. */
	n = bmp_visibility(f.st, pfx("203.0.113.0/24"), r, 16);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].vantage.view, BMP_VIEW_PRE_POLICY);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_kept)), 4);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_seen)), 17);

	close(fd);                              /* the router goes: so do its routes */
	WAIT(&f, sessions_accepted, 1);
	{
		double deadline = now() + 5;
		while (stat_of(&f, offsetof(struct bmp_station_stats, sessions_open)) > 0) {
			assert_true(now() < deadline);
			ev_run(f.loop, EVRUN_NOWAIT);
			usleep(1000);
		}
	}
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_kept)), 0);
	assert_int_equal(count_events(&f, BMP_EV_ROUTE_DOWN, NULL, -1), 3 + 2 + 4);
	assert_int_equal(count_events(&f, BMP_EV_SESSION_DOWN, NULL, -1), 1);
	closed = 0;
	for (int i = 0; i < f.nev; i++)
		if (f.ev[i].type == BMP_EV_ROUTE_DOWN)
			closed += strcmp(f.ev[i].reason, "session-closed") == 0;
	assert_int_equal(closed, 4);
	stop(&f);
}

/* Waits until the station has closed every session but `keep` (sessions_open). */
static void
wait_open(struct fx *f, uint64_t want)
{
	double deadline = now() + 10;

	while (stat_of(f, offsetof(struct bmp_station_stats, sessions_open)) != want) {
		assert_true(now() < deadline);
		ev_run(f->loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

static void
test_station_closes_only_the_malformed_session(void **state)
{
	uint8_t bad[512];
	size_t len = off[11] - off[10];
	struct bmp_route r[8];
	struct fx f;
	int good, evil, garbage;
	uint8_t *g;

	(void)state;
	start(&f, "127.0.0.1/32", 0);
	good = dial(&f);
	evil = dial(&f);
	WAIT(&f, sessions_accepted, 2);
	send_msgs(&f, good, 0, 7);              /* Initiation, Peer Ups, the /24 in three views */
	WAIT(&f, messages, 7);
	/* The evil router: its Initiation, then an AS_PATH segment overflowing its attribute. */
	struct bmp_msg m;
	memcpy(bad, capture + off[10], len);
	assert_int_equal(bmp_parse(bad, len, &m, NULL), 0);
	bad[m.u.update.as_path.p - bad + 11] = 3;       /* the AS_SET of 2 says 3 */
	send_all(&f, evil, capture, off[1]);
	send_all(&f, evil, bad, len);
	WAIT(&f, sessions_malformed, 1);
	wait_open(&f, 1);
	/* 10 MB of garbage from a third connection: closed at its first byte. */
	garbage = dial(&f);
	g = malloc(10u << 20);
	for (size_t i = 0; i < (10u << 20); i++)
		g[i] = (uint8_t)(i * 2654435761u >> 13);
	g[0] = 7;
	send_all(&f, garbage, g, 10u << 20);
	free(g);
	WAIT(&f, sessions_malformed, 2);
	wait_open(&f, 1);
	/* The good router is still served. */
	send_msgs(&f, good, 7, 16);
	WAIT(&f, messages, 1 + 7 + 9);
	assert_int_equal(bmp_visibility(f.st, pfx("203.0.113.0/24"), r, 8), 6);
	close(good);
	close(evil);
	close(garbage);
	stop(&f);
}

static void
test_station_refuses_routers_outside_allow(void **state)
{
	struct fx f;
	char c;
	int fd;

	(void)state;
	start(&f, "192.0.2.1/32", 0);
	fd = dial(&f);
	WAIT(&f, sessions_refused, 1);
	assert_int_equal(read(fd, &c, 1), 0);   /* closed at once */
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, sessions_accepted)), 0);
	close(fd);
	stop(&f);
}

static void
test_station_refuses_listen_without_allow(void **state)
{
	struct bmp_conf c = { .listen_addr = "127.0.0.1" };
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct err e;

	(void)state;
	assert_null(bmp_station_new(loop, &c, &e));
	assert_string_equal(e.code, "invalid-argument");
	ev_loop_destroy(loop);
}

static void
test_station_caps_routes_and_counts_the_drops(void **state)
{
	struct fx f;
	int fd;

	(void)state;
	start(&f, "127.0.0.1/32", 2);
	fd = dial(&f);
	send_msgs(&f, fd, 0, 16);
	WAIT(&f, messages, 16);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_kept)), 2);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_dropped)), 9 - 2);
	close(fd);
	stop(&f);
}

static void
test_station_forgets_what_leaves_the_watch(void **state)
{
	struct bmp_watch w = { P("2001:db8::/32"), 64500 };
	struct bmp_route r[8];
	struct fx f;
	struct err e;
	int fd;

	(void)state;
	start(&f, "127.0.0.1/32", 0);
	fd = dial(&f);
	send_msgs(&f, fd, 0, 16);
	WAIT(&f, messages, 16);
	assert_int_equal(bmp_set_watch(f.st, &w, 1, &e), 0);
	assert_int_equal(count_events(&f, BMP_EV_ROUTE_DOWN, NULL, -1), 6);
	assert_int_equal(stat_of(&f, offsetof(struct bmp_station_stats, routes_kept)), 3);
	/* The IPv6 routes now concern a /32: they are more-specifics from our origin. */
	assert_int_equal(bmp_visibility(f.st, &w.prefix, r, 8), 3);
	assert_int_equal(r[0].verdict, BMP_VERDICT_MORE_SPECIFIC);
	close(fd);
	stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_station_keeps_our_space_and_hears_the_hijack),
		cmocka_unit_test(test_station_closes_only_the_malformed_session),
		cmocka_unit_test(test_station_refuses_routers_outside_allow),
		cmocka_unit_test(test_station_refuses_listen_without_allow),
		cmocka_unit_test(test_station_caps_routes_and_counts_the_drops),
		cmocka_unit_test(test_station_forgets_what_leaves_the_watch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
