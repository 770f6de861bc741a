/*
 * bench_bmp — the BMP station under a full table: a synthetic vantage point sends N routes
 * (default 800,000) of which K (default 1,000) are in our space, and the station must keep
 * only those K. Prints key=value lines, each figure next to a baseline measured in the same
 * run on the same bytes:
 *
 *   bench_bmp [-n ROUTES] [-k OURS] [-p PREFIXES_PER_UPDATE]
 *
 *   stream_bytes, stream_msgs       the synthetic stream (Route Monitoring, post-policy,
 *                                   4-byte AS paths of 3 to 6 ASNs, two communities)
 *   scan_mb_per_s                   baseline: memcpy of the stream plus a walk of its common
 *                                   headers (the least any reader must do)
 *   parse_msgs_per_s, parse_routes_per_s   bmp_frame + bmp_parse + every NLRI decoded, in
 *                                   memory; parse_vs_scan is the time ratio to the baseline
 *   station_msgs_per_s, station_routes_per_s   the whole station: a writer thread sends the
 *                                   stream over loopback TCP, the loop reads, parses, filters
 *                                   against the watch and keeps our routes;
 *                                   station_vs_scan is its time ratio to the baseline
 *   routes_kept, routes_outside     what the station kept and forgot
 *   rss_growth_kb                   VmRSS after the station took the stream minus before
 *                                   (stream and socket buffers excluded: allocated before);
 *   rss_per_kept_route_b            that growth per kept route, and stream_bytes for contrast
 *   target_routes_per_s=500000 and target_met=yes|no
 */
#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmp.h"
#include "log.h"

struct stream {
	uint8_t *p;
	size_t len, cap, msgs, routes;
};

static void
put(struct stream *s, const void *b, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->cap + n) * 2;
		if ((s->p = realloc(s->p, s->cap)) == NULL)
			fatal("realloc");
	}
	memcpy(s->p + s->len, b, n);
	s->len += n;
}

static void
put8(struct stream *s, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(s, &b, 1);
}

static void
put16(struct stream *s, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(s, b, 2);
}

static void
put32(struct stream *s, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(s, b, 4);
}

static void
set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The i-th route: the ours-th share inside 198.18.0.0/16 (/26s), the rest /24s from 1.0.0.0. */
static uint32_t
route_addr(size_t i, size_t every, unsigned *len, size_t *nours)
{
	if (every && i % every == every - 1) {
		*len = 26;
		return 0xc6120000u + (uint32_t)((*nours)++ << 6);
	}
	*len = 24;
	return 0x01000000u + (uint32_t)(i << 8);
}

/* One Route Monitoring message announcing routes [i, i + n). */
static void
put_update(struct stream *s, size_t i, size_t n, size_t every, size_t *nours)
{
	size_t start = s->len, bgp, attrs;
	unsigned plen = 3 + (unsigned)(i % 4);

	put8(s, 3);
	put32(s, 0);
	put8(s, BMP_ROUTE_MONITORING);
	put8(s, 0);                             /* global peer, post-policy, IPv4 */
	put8(s, BMP_PEER_FLAG_L);
	put32(s, 0);
	put32(s, 0);                            /* distinguisher */
	for (int k = 0; k < 3; k++)
		put32(s, 0);
	put32(s, 0xc0000201);                   /* 192.0.2.1 */
	put32(s, 64501);
	put32(s, 0xc0000201);
	put32(s, 1796356210);
	put32(s, 0);
	bgp = s->len;
	for (int k = 0; k < 4; k++)
		put32(s, 0xffffffff);
	put16(s, 0);
	put8(s, 2);
	put16(s, 0);                            /* no withdrawn routes */
	attrs = s->len;
	put16(s, 0);
	put8(s, 0x40); put8(s, 1); put8(s, 1); put8(s, 0);                 /* ORIGIN IGP */
	put8(s, 0x40); put8(s, 2); put8(s, (unsigned)(2 + 4 * plen));      /* AS_PATH */
	put8(s, 2); put8(s, plen);
	for (unsigned k = 0; k < plen; k++)
		put32(s, k + 1 == plen ? 4200000000u + (uint32_t)(i % 50000) : 64501 + k);
	put8(s, 0x40); put8(s, 3); put8(s, 4); put32(s, 0xc0000201);       /* NEXT_HOP */
	put8(s, 0xc0); put8(s, 8); put8(s, 8); put32(s, 64501u << 16 | 100);
	put32(s, 64501u << 16 | (uint32_t)(i % 1000));
	s->p[attrs] = (uint8_t)((s->len - attrs - 2) >> 8);
	s->p[attrs + 1] = (uint8_t)(s->len - attrs - 2);
	for (size_t r = i; r < i + n; r++) {
		unsigned len;
		uint32_t a = route_addr(r, every, &len, nours);
		put8(s, len);
		put32(s, a);                    /* 4 bytes: /24 and /26 both need 4 */
		s->len -= len <= 24 ? 1 : 0;
	}
	s->p[bgp + 16] = (uint8_t)((s->len - bgp) >> 8);
	s->p[bgp + 17] = (uint8_t)(s->len - bgp);
	set32(s->p + start + 1, (uint32_t)(s->len - start));
	s->msgs++;
	s->routes += n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static volatile uint32_t bench_sink;   /* keeps the baseline's reads from being optimised out */

/* Baseline: copy the stream and walk its headers. Returns seconds. */
static double
bench_scan(const struct stream *s, uint8_t *copy)
{
	double t0 = now();
	size_t off = 0, msgs = 0;
	uint32_t sum = 0;

	memcpy(copy, s->p, s->len);
	while (off < s->len) {
		uint32_t l = (uint32_t)copy[off + 1] << 24 | (uint32_t)copy[off + 2] << 16 |
		    (uint32_t)copy[off + 3] << 8 | copy[off + 4];
		sum += copy[off + 5];
		off += l;
		msgs++;
	}
	bench_sink = sum;
	if (msgs != s->msgs)
		fatalx("scan: %zu messages, want %zu", msgs, s->msgs);
	return now() - t0;
}

static double
bench_parse(const struct stream *s)
{
	double t0 = now();
	size_t off = 0, n, routes = 0;
	struct bmp_msg m;
	struct err e;

	while (off < s->len) {
		struct bmp_nlri_iter it;
		struct cidr c;

		if (bmp_frame(s->p + off, s->len - off, BMP_MSG_MAX, &n, &e) != 1 ||
		    bmp_parse(s->p + off, n, &m, &e) < 0)
			fatalx("parse: %s: %s", e.code, e.msg);
		bmp_nlri_begin(&it, &m.u.update.nlri, CIDR_V4);
		while (bmp_nlri_next(&it, &c))
			routes++;
		off += n;
	}
	if (routes != s->routes)
		fatalx("parse: %zu routes, want %zu", routes, s->routes);
	return now() - t0;
}

struct writer {
	const struct stream *s;
	unsigned port;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)w->port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t sent = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fatal("connect");
	while (sent < w->s->len) {
		ssize_t n = send(fd, w->s->p + sent, w->s->len - sent, MSG_NOSIGNAL);
		if (n <= 0)
			fatal("send");
		sent += (size_t)n;
	}
	pause();                                /* keep the session open; main exits */
	return NULL;
}

static void
bench_station(const struct stream *s, size_t ours, double scan_s)
{
	struct cidr allow, watched;
	struct bmp_conf c = { .listen_addr = "127.0.0.1", .allow = &allow, .nallow = 1 };
	struct bmp_watch w;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct bmp_station *st;
	struct bmp_station_stats stats;
	struct writer wr = { s, 0 };
	pthread_t th;
	struct err e;
	double t0, t;
	long rss0, rss1;

	(void)cidr_parse("127.0.0.1/32", &allow, NULL);
	(void)cidr_parse("198.18.0.0/16", &watched, NULL);
	w = (struct bmp_watch){ watched, 4200000000u };
	if ((st = bmp_station_new(loop, &c, &e)) == NULL || bmp_set_watch(st, &w, 1, &e) < 0)
		fatalx("station: %s", e.msg);
	wr.port = bmp_station_port(st);
	rss0 = rss_kb();
	t0 = now();
	if (pthread_create(&th, NULL, writer_main, &wr) != 0)
		fatalx("pthread_create");
	do {
		ev_run(loop, EVRUN_ONCE);
		bmp_station_stats(st, &stats);
	} while (stats.messages < s->msgs && now() - t0 < 120);
	t = now() - t0;
	rss1 = rss_kb();
	if (stats.messages != s->msgs || stats.routes_kept != ours)
		fatalx("station: %llu messages, %llu routes kept, want %zu and %zu",
		    (unsigned long long)stats.messages, (unsigned long long)stats.routes_kept,
		    s->msgs, ours);
	printf("station_s=%.3f\nstation_msgs_per_s=%.0f\nstation_routes_per_s=%.0f\n"
	    "station_vs_scan=%.1f\n", t, s->msgs / t, s->routes / t, t / scan_s);
	printf("routes_kept=%llu\nroutes_outside=%llu\nroutes_dropped=%llu\n",
	    (unsigned long long)stats.routes_kept, (unsigned long long)stats.routes_outside,
	    (unsigned long long)stats.routes_dropped);
	printf("rss_before_kb=%ld\nrss_after_kb=%ld\nrss_growth_kb=%ld\n"
	    "rss_per_kept_route_b=%.0f\nstream_kb=%zu\n", rss0, rss1, rss1 - rss0,
	    (double)(rss1 - rss0) * 1024 / (double)ours, s->len / 1024);
	printf("target_routes_per_s=500000\ntarget_met=%s\n",
	    s->routes / t >= 500000 ? "yes" : "no");
}

int
main(int argc, char **argv)
{
	size_t routes = 800000, ours = 1000, per = 8, nours = 0;
	struct stream s = { 0 };
	double scan_s, parse_s;
	uint8_t *copy;
	int opt;

	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	while ((opt = getopt(argc, argv, "n:k:p:")) != -1) {
		switch (opt) {
		case 'n': routes = strtoul(optarg, NULL, 10); break;
		case 'k': ours = strtoul(optarg, NULL, 10); break;
		case 'p': per = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_bmp [-n ROUTES] [-k OURS] [-p PER_UPDATE]\n");
			return 2;
		}
	}
	if (ours == 0 || ours > 1024 || per == 0 || per > 500 || routes < ours)
		fatalx("bench_bmp: -k 1..1024 (the /26s of a /16), -p 1..500, -n >= -k");
	for (size_t i = 0; i < routes; i += per)
		put_update(&s, i, i + per <= routes ? per : routes - i, routes / ours, &nours);
	if (nours != ours)
		fatalx("generated %zu routes of ours, want %zu", nours, ours);
	if ((copy = malloc(s.len)) == NULL)
		fatal("malloc");
	printf("routes=%zu\nours=%zu\nper_update=%zu\nstream_bytes=%zu\nstream_msgs=%zu\n",
	    s.routes, ours, per, s.len, s.msgs);
	scan_s = bench_scan(&s, copy);
	scan_s = bench_scan(&s, copy);          /* the second, warm */
	printf("scan_s=%.4f\nscan_mb_per_s=%.0f\n", scan_s, s.len / scan_s / 1e6);
	parse_s = bench_parse(&s);
	printf("parse_s=%.3f\nparse_msgs_per_s=%.0f\nparse_routes_per_s=%.0f\nparse_vs_scan=%.1f\n",
	    parse_s, s.msgs / parse_s, s.routes / parse_s, parse_s / scan_s);
	bench_station(&s, ours, scan_s);
	fflush(stdout);
	_exit(0);                               /* the writer thread sleeps in pause() */
}
