/*
 * bench_rtr — rpki/rtr full-sync time and rpki/rov look-up rate against a real RTR cache.
 * Run by tests/bench/bench_rtr.sh, which also times BIRD's own rpki protocol on the same
 * cache and prints the comparison; run alone it prints key=value lines:
 *
 *   bench_rtr -c HOST:PORT -n EXPECTED_VRPS [-l LOOKUPS]      (-l 0: sync only)
 *
 *   sync_s        rtr_start() -> freshness state `synced` (End of Data applied)
 *   counted_s     rtr_start() -> the first change event whose VRP counts reach EXPECTED_VRPS
 *   vrps_v4/v6    counts at that point
 *   random_check_per_s     rov_check (state only) over LOOKUPS random look-ups
 *   random_validate_per_s  rov_validate (reasons, deciding VRPs) over the same look-ups
 *   random_mixture         share of valid / invalid / not-found answers
 *   covered_*              the same with every look-up inside the VRP ranges (the trie
 *                          walk every time: the worst case)
 *   peak_rss_kb   peak resident set of this process (getrusage)
 *
 * Look-ups: 80 % IPv4 /24s and 20 % IPv6 /48s; "random" puts half of them inside the
 * synthetic VRP ranges that bench_rtr.sh generates (11.0.0.0/8.., 2a00::/16..) and half
 * anywhere, "covered" all inside; inside, half ask with the VRP's own origin, so all three
 * answers occur.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "rpki.h"
#include "rtr.h"
#include "rtr_private.h"

struct bench {
	struct rtr *rtr;
	double t0, sync_s, counted_s;
	uint64_t expected;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
on_change(const struct rtr_change *ch, void *arg)
{
	struct bench *b = arg;
	struct rtr_status st;

	(void)ch;
	rtr_status_get(b->rtr, &st);
	if (b->counted_s == 0 && st.vrps_v4 + st.vrps_v6 >= b->expected) {
		b->counted_s = ev_time() - b->t0;
		ev_break(EV_DEFAULT, EVBREAK_ALL);
	}
}

static void
on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	struct bench *b = w->data;

	(void)loop;
	(void)revents;
	if (b->sync_s == 0 && rtr_is_fresh(b->rtr))
		b->sync_s = ev_time() - b->t0;
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	log_warnx("bench_rtr: timed out waiting for the sync");
	ev_break(loop, EVBREAK_ALL);
}

/*
 * `inside` share of the look-ups fall in the generated ranges (/24 number k of 11.0.0.0/8..
 * has origin 64512 + k % 1000, the same for /48 number k of 2a00::/16..; half of those ask
 * with that origin); the rest are uniformly random addresses.
 */
static void
make_lookups(struct cidr *q, uint32_t *asn, size_t n, unsigned inside_pct)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rand(), k = (r >> 8) % 600000;
		bool inside = (r >> 40) % 100 < inside_pct, own = (r >> 1) & 1;
		if ((r >> 2) % 5 != 0) {
			uint64_t a = inside ? 0x0B000000ull + k * 256 : (r >> 8) & 0xFFFFFF00ull;
			q[i] = cidr_make(CIDR_V4, (a & 0xFFFFFFFFull) << 32, 0, 24);
		} else {
			k %= 150000;
			uint64_t hi = inside ? 0x2a00000000000000ull + (k << 16)
			    : (r & 0xFFFFFFFFFFFF0000ull);
			q[i] = cidr_make(CIDR_V6, hi, 0, 48);
		}
		asn[i] = inside && own ? 64512 + (uint32_t)(k % 1000)
		    : 64512 + (uint32_t)((r >> 48) % 1000);
	}
}

static void
run_lookups(struct rtr *rtr, size_t n, unsigned inside_pct, const char *tag)
{
	struct cidr *q = calloc(n, sizeof(*q));
	uint32_t *asn = calloc(n, sizeof(*asn));
	size_t seen[3] = {0};
	struct rov_result r;
	double t;

	if (q == NULL || asn == NULL)
		fatal("bench_rtr");
	bool stale;

	make_lookups(q, asn, n, inside_pct);
	/* warm-up pass (page faults, caches), not timed */
	for (size_t i = 0; i < n / 10; i++)
		(void)rpki_check(rtr, &q[i], asn[i], &stale);
	t = ev_time();
	for (size_t i = 0; i < n; i++)
		seen[rpki_check(rtr, &q[i], asn[i], &stale)]++;
	t = ev_time() - t;
	printf("lookups=%zu\n%s_check_per_s=%.0f\n", n, tag, (double)n / t);
	t = ev_time();
	for (size_t i = 0; i < n; i++)
		rpki_validate(rtr, &q[i], asn[i], &r, NULL);
	t = ev_time() - t;
	printf("%s_validate_per_s=%.0f\n", tag, (double)n / t);
	printf("%s_mixture=valid %.1f%%, invalid %.1f%%, not-found %.1f%%\n", tag,
	    100.0 * (double)seen[ROV_VALID] / (double)n,
	    100.0 * (double)seen[ROV_INVALID] / (double)n,
	    100.0 * (double)seen[ROV_NOT_FOUND] / (double)n);
	free(q);
	free(asn);
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct bench b = {0};
	struct rtr_conf c;
	struct err e = {0};
	struct rtr_status st;
	struct rusage ru;
	ev_check check_w;
	ev_timer limit_w;
	size_t lookups = 1000000;
	int ch;

	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	rtr_conf_init(&c);
	c.refresh = 3600;
	c.stale_after = 3700;
	while ((ch = getopt(argc, argv, "c:n:l:")) != -1) {
		if (ch == 'c' && rtr_conf_add_cache(&c, optarg, &e) == 0)
			continue;
		else if (ch == 'n')
			b.expected = strtoull(optarg, NULL, 10);
		else if (ch == 'l')
			lookups = strtoul(optarg, NULL, 10);
		else
			fatalx("usage: bench_rtr -c HOST:PORT -n EXPECTED_VRPS [-l LOOKUPS] %s", e.msg);
	}
	if ((b.rtr = rtr_new(loop, &c, &e)) == NULL ||
	    rtr_subscribe(b.rtr, on_change, &b, &e) == -1)
		fatalx("%s", e.msg);
	ev_check_init(&check_w, on_check);
	check_w.data = &b;
	ev_check_start(loop, &check_w);
	ev_timer_init(&limit_w, on_timeout, 300, 0);
	ev_timer_start(loop, &limit_w);
	b.t0 = ev_time();
	if (rtr_start(b.rtr, &e) == -1)
		fatalx("%s", e.msg);
	ev_run(loop, 0);
	rtr_status_get(b.rtr, &st);
	printf("sync_s=%.3f\ncounted_s=%.3f\nvrps_v4=%llu\nvrps_v6=%llu\n", b.sync_s, b.counted_s,
	    (unsigned long long)st.vrps_v4, (unsigned long long)st.vrps_v6);
	if (b.counted_s == 0)
		return 1;
	printf("index_current=%s\n", rtr_index(b.rtr) != NULL ? "yes" : "no");
	if (lookups > 0) {
		run_lookups(b.rtr, lookups, 50, "random");
		run_lookups(b.rtr, lookups, 100, "covered");
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("peak_rss_kb=%ld\n", ru.ru_maxrss);
	fflush(stdout);
	rtr_free(b.rtr);
	return 0;
}
