/*
 * engine_durability_child — the process test_store_durability SIGKILLs at random moments.
 *
 * Usage: engine_durability_child STORE_PATH SEED
 * Opens the store, rebuilds the model, and loops forever: mostly allocates a /24 from pool
 * "dur" (10.0.0.0/8, created on the first run) or a /56 from "dur6" (2001:db8::/32), sometimes
 * releases one of the allocations it knows. Each change is written to stdout only after
 * ipam returned, i.e. after the COMMIT was durable:
 *   "A <id> <cidr>"   allocation acknowledged
 *   "T <id>"          about to release (the release may commit without an ack)
 *   "R <id>"          release acknowledged
 * and first "ready" once the model is loaded and the pools exist.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

static struct ipam_actor who = { "durability", "admin", NULL };

static struct ipam_pool *
ensure_pool(struct ipam *m, const char *name, const char *cidr)
{
	struct ipam_pool_spec s;
	struct ipam_pool *p = ipam_pool_find(m, name);
	struct cidr c;
	struct err e;

	if (cidr_parse(cidr, &c, &e) != 0)
		exit(2);
	memset(&s, 0, sizeof(s));
	s.name = name;
	s.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
	s.family = c.family;
	s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
	s.alarm_at = -1;
	/* a kill may land between the two transactions: finish what is missing */
	if ((p == NULL && ipam_pool_create(m, &who, &s, &p, &e) != 0) ||
	    (p->provisioned == 0 && ipam_provision(m, &who, p, &c, -1, NULL, &e) != 0)) {
		fprintf(stderr, "child: %s: %s\n", e.code, e.msg);
		exit(2);
	}
	return p;
}

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void
ids_push(struct ids *ids, uint64_t id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 1024;
		if ((ids->v = realloc(ids->v, ids->cap * sizeof(*ids->v))) == NULL)
			exit(2);
	}
	ids->v[ids->n++] = id;
}

static int
collect(void *arg, struct ipam_alloc *a)
{
	ids_push(arg, a->id);
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct ipam *m;
	struct ipam_pool *p4, *p6;
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct ids ids = { NULL, 0, 0 };
	struct err e;
	char b[CIDR_STRLEN];
	size_t k;

	if (argc != 3)
		return 2;
	signal(SIGPIPE, SIG_DFL);       /* die with the test rather than loop on EPIPE */
	srandom((unsigned)strtoul(argv[2], NULL, 0));
	if (store_sqlite_open(argv[1], &st, &e) != 0 || ipam_load((m = ipam_new(st)), &e) != 0) {
		fprintf(stderr, "child: %s: %s\n", e.code, e.msg);
		return 2;
	}
	p4 = ensure_pool(m, "dur", "10.0.0.0/8");
	p6 = ensure_pool(m, "dur6", "2001:db8::/32");
	ipam_alloc_foreach(p4, collect, &ids);
	ipam_alloc_foreach(p6, collect, &ids);
	printf("ready\n");
	if (fflush(stdout) != 0)
		return 4;
	for (;;) {
		if (ids.n > 0 && random() % 4 == 0) {
			k = (size_t)random() % ids.n;
			printf("T %llu\n", (unsigned long long)ids.v[k]);
			if (fflush(stdout) != 0)
				return 4;       /* the test is gone */
			if (ipam_release(m, &who, ids.v[k], &e) != 0)
				return 3;
			printf("R %llu\n", (unsigned long long)ids.v[k]);
			ids.v[k] = ids.v[--ids.n];
		} else {
			memset(&q, 0, sizeof(q));
			q.netmask = random() % 2 ? 24 : 56;
			if (ipam_allocate(m, &who, q.netmask == 24 ? p4 : p6, &q, &r, &e) != 0)
				return 3;
			ids_push(&ids, r.alloc->id);
			printf("A %llu %s\n", (unsigned long long)r.alloc->id,
			    cidr_format(&r.cidr, b, sizeof(b)));
		}
		if (fflush(stdout) != 0)
			return 4;
	}
}
