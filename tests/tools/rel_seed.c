/*
 * rel_seed — fills a SQLite store with many allocations (and so as many events) for
 * tests/integration/test_rel_paging.sh, before prefixd opens it.
 *
 *   rel_seed DBPATH POOL CIDR N
 *
 * Creates pool POOL (private-default scope) with CIDR provisioned, then allocates N host
 * prefixes (/32 or /128) in it through the engine itself (ipam_allocate), so the rows, the
 * events and their audit chain are exactly what the daemon would have written; all in one
 * transaction, which is what makes 200,000 take seconds rather than minutes. Then brings
 * history's address index up to date (store_events_index), as the daemon does once a second.
 * Prints "allocations=N events=M seconds=S".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cidr.h"
#include "ipam.h"
#include "store.h"

static double
seed_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
seed_fail(const char *what, const struct err *e)
{
	fprintf(stderr, "rel_seed: %s: %s: %s\n", what, e->code ? e->code : "?", e->msg);
	return 1;
}

static int
seed_allocs(struct ipam *m, struct ipam_pool *p, long n, struct err *e)
{
	static const struct ipam_actor who = { "rel_seed", "admin", "seed" };
	struct ipam_alloc_req req = { .netmask = (int)cidr_maxlen(p->family) };
	struct ipam_alloc_result res;

	for (long i = 0; i < n; i++)
		if (ipam_allocate(m, &who, p, &req, &res, e) < 0)
			return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct ipam_actor who = { "rel_seed", "admin", "seed" };
	struct ipam_pool_spec spec = { 0 };
	struct store *st = NULL;
	struct ipam_pool *p;
	struct ipam *m;
	struct cidr c;
	uint64_t head;
	char hash[65];
	struct err e;
	double t0 = seed_now();
	long n;

	err_clear(&e);
	if (argc != 5 || (n = atol(argv[4])) <= 0) {
		fprintf(stderr, "usage: rel_seed DBPATH POOL CIDR N\n");
		return 2;
	}
	if (cidr_parse(argv[3], &c, &e) < 0)
		return seed_fail("cidr", &e);
	if (store_sqlite_open(argv[1], &st, &e) < 0)
		return seed_fail("open", &e);
	m = ipam_new(st);
	spec.name = argv[2];
	spec.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
	spec.family = c.family;
	spec.rules.default_netmask = spec.rules.min_netmask = spec.rules.max_netmask = -1;
	spec.alarm_at = -1;
	if (ipam_load(m, &e) < 0 || store_begin(st, &e) < 0 ||
	    ipam_pool_create(m, &who, &spec, &p, &e) < 0 ||
	    ipam_provision(m, &who, p, &c, -1, NULL, &e) < 0 || seed_allocs(m, p, n, &e) < 0 ||
	    store_commit(st, &e) < 0 || store_events_index(st, &e) < 0 ||
	    store_event_head(st, &head, hash, &e) < 0)
		return seed_fail("seed", &e);
	printf("allocations=%zu events=%llu seconds=%.1f\n", ipam_alloc_count(m),
	    (unsigned long long)head, seed_now() - t0);
	ipam_free(m);
	store_close(st);
	return 0;
}
