/*
 * test_obs_scan — the utilization alarm scan (obs_alarm_scan, run on every head move) stays
 * linear in the number of pools (issue 15 finding 9: a linear search per pool made it
 * O(pools^2), a 0.4 s stall of the loop at 16.5k pools on every change).
 *
 * 16,500 pools with a /24 each; one pool then crosses its alarm. The scan after that change
 * must record exactly that one transition and take under 50 ms (the finding's stall was 0.4 s;
 * the figure printed next to a bare walk over the pools, measured in the same run, as a ratio).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <ev.h>

#include "ipam.h"
#include "log.h"
#include "obs.h"
#include "store.h"

#define NPOOLS 16500

static struct ipam_actor who = { "test", "admin", "req-1" };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
noop_cb(void *arg, struct ipam_pool *p)
{
	(void)p;
	(*(size_t *)arg)++;
	return 0;
}

static unsigned long long
raised_of(struct obs *o)
{
	char *buf = NULL, *l;
	size_t len = 0;
	unsigned long long n = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	obs_metrics(o, f);
	fclose(f);
	l = strstr(buf, "{transition=\"raised\"} ");
	assert_non_null(l);
	n = strtoull(l + strlen("{transition=\"raised\"} "), NULL, 10);
	free(buf);
	return n;
}

static void
test_scan_is_linear_at_16500_pools(void **state)
{
	struct store *st;
	struct ipam *m;
	struct obs *o;
	struct ipam_pool *p, *hot = NULL;
	struct ipam_alloc_result r;
	struct ipam_alloc_req q;
	struct err e;
	char name[32];
	double t0, walk, scan;
	size_t n = 0;

	(void)state;
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	assert_int_equal(store_sqlite_open(":memory:", &st, &e), 0);
	m = ipam_new(NULL);
	assert_int_equal(ipam_load(m, &e), 0);
	for (int i = 0; i < NPOOLS; i++) {
		struct ipam_pool_spec s;
		struct cidr c = { 0 };

		memset(&s, 0, sizeof(s));
		snprintf(name, sizeof(name), "pool-%05d", i);
		s.name = name;
		s.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
		s.family = CIDR_V4;
		s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
		s.alarm_at = -1;
		assert_int_equal(ipam_pool_create(m, &who, &s, &p, &e), 0);
		snprintf(name, sizeof(name), "10.%d.%d.0/24", i / 256, i % 256);
		assert_int_equal(cidr_parse(name, &c, &e), 0);
		assert_int_equal(ipam_provision(m, &who, p, &c, -1, NULL, &e), 0);
		if (i == NPOOLS / 2)
			hot = p;
	}
	o = obs_new(ev_default_loop(0), st, m);
	obs_alarm_scan(o);                      /* cold: every pool gets its record */
	assert_int_equal(raised_of(o), 0);

	/* 87.5 % of one pool: /25 + /26 + /27 crosses the default 80 % alarm */
	for (int len = 25; len <= 27; len++) {
		memset(&q, 0, sizeof(q));
		q.netmask = len;
		assert_int_equal(ipam_allocate(m, &who, hot, &q, &r, &e), 0);
	}
	t0 = now_s();
	ipam_pool_foreach(m, NULL, noop_cb, &n);
	walk = now_s() - t0;
	t0 = now_s();
	obs_alarm_scan(o);
	scan = now_s() - t0;
	assert_int_equal(n, NPOOLS);
	assert_int_equal(raised_of(o), 1);
	print_message("alarm scan over %d pools after one change: %.3f ms; bare walk %.3f ms "
	    "(ratio %.1f); the finding's stall: 400 ms\n", NPOOLS, scan * 1e3, walk * 1e3,
	    walk > 0 ? scan / walk : 0.0);
	assert_true(scan < 0.050);

	obs_free(o);
	ipam_free(m);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_is_linear_at_16500_pools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
