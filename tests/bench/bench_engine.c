/*
 * bench_engine — the address engine's benchmark (issue "Must be true" 4). A program, not a
 * test: it prints its figures and a Markdown table for the README.
 *
 * Workload: allocate every /24 of 10.0.0.0/8 (65,536 best-fit allocations), release a random
 * half (fixed seed), allocate /24s again until full (32,768): 131,072 operations.
 *   1. in-memory engine: best of ROUNDS runs, by wall clock and by CPU time (this machine
 *      is shared; CPU time is the fairer figure); memory per allocation from RSS growth;
 *   2. the same with the SQLite store (WAL, synchronous=FULL), transactions batched BATCH
 *      operations at a time (what the daemon's group commit does under load), and unbatched
 *      (one fsynced transaction per operation) on the first UNBATCHED operations;
 *   3. restart: a store holding 1,000,000 allocations is reopened and the model rebuilt, in
 *      a fresh process (bench_engine -R PATH) so its RSS growth is the model's alone;
 *   4. NetBox's method (python3-netaddr IPSet difference, tests/bench/bench_netaddr.py) on
 *      the same workload, extrapolated as that script explains; the ratio.
 *
 * Usage: bench_engine [-q] [-d DIR]   (-q: smaller restart store, for a smoke run)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ipam.h"

#define ROUNDS 5
#define BATCH 1000
#define UNBATCHED 2000

static struct ipam_actor who = { "bench", "admin", NULL };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the fair clock on a shared, loaded machine. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static long
peak_rss_bytes(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024L;
}

static void
die(const char *what, const struct err *e)
{
	fprintf(stderr, "bench_engine: %s: %s %s\n", what, e->code ? e->code : "", e->msg);
	exit(1);
}

static struct ipam_pool *
mkpool(struct ipam *m, const char *name, const char *cidr)
{
	struct ipam_pool_spec s;
	struct ipam_pool *p;
	struct cidr c;
	struct err e;

	if (cidr_parse(cidr, &c, &e) != 0)
		die("parse", &e);
	memset(&s, 0, sizeof(s));
	s.name = name;
	s.scope = IPAM_SCOPE_PRIVATE_DEFAULT;
	s.family = c.family;
	s.rules.default_netmask = s.rules.min_netmask = s.rules.max_netmask = -1;
	s.alarm_at = -1;
	if (ipam_pool_create(m, &who, &s, &p, &e) != 0 ||
	    ipam_provision(m, &who, p, &c, -1, NULL, &e) != 0)
		die("pool", &e);
	return p;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

/* Opens a transaction every `batch` operations (0: none, the store's own per operation). */
static void
batch_tick(struct ipam *m, int batch, long i)
{
	struct err e;
	struct store *st = ipam_store(m);

	if (st == NULL || batch <= 0 || i % batch != 0)
		return;
	if (store_in_txn(st) && store_commit(st, &e) != 0)
		die("commit", &e);
	if (store_begin(st, &e) != 0)
		die("begin", &e);
}

static void
batch_end(struct ipam *m)
{
	struct err e;
	struct store *st = ipam_store(m);

	if (st != NULL && store_in_txn(st) && store_commit(st, &e) != 0)
		die("commit", &e);
}

/* The workload on pool p; returns operations done (stops after limit ops if limit > 0). */
static long
workload(struct ipam *m, struct ipam_pool *p, int batch, long limit, long *rss_full)
{
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	uint64_t *ids = malloc(65536 * sizeof(*ids)), t;
	struct err e;
	long ops = 0, i, j;

	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	for (i = 0; i < 65536 && (limit == 0 || ops < limit); i++, ops++) {
		batch_tick(m, batch, ops);
		if (ipam_allocate(m, &who, p, &q, &r, &e) != 0)
			die("allocate", &e);
		ids[i] = r.alloc->id;
	}
	if (rss_full != NULL)
		*rss_full = rss_bytes();
	for (i = 65535; i > 0 && limit == 0; i--) {     /* shuffle: a random half */
		j = (long)(rnd() % (uint64_t)(i + 1));
		t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	for (i = 0; i < 32768 && (limit == 0 || ops < limit); i++, ops++) {
		batch_tick(m, batch, ops);
		if (ipam_release(m, &who, ids[i], &e) != 0)
			die("release", &e);
	}
	for (i = 0; i < 32768 && (limit == 0 || ops < limit); i++, ops++) {
		batch_tick(m, batch, ops);
		if (ipam_allocate(m, &who, p, &q, &r, &e) != 0)
			die("allocate again", &e);
	}
	batch_end(m);
	free(ids);
	return ops;
}

struct figures {
	double mem_ops, mem_cpu_ops, mem_bytes;
	double sql_ops, sql_unbatched_ops;
	double restart_s, restart_cpu, restart_bytes;
	long restart_n;
	double netaddr_ops;
	long peak;
};

static void
bench_memory(struct figures *fg)
{
	double best = 0, bestcpu = 0, t0, c0, dt, dc;
	long ops, before, full;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		struct ipam *m = ipam_new(NULL);
		struct err e;
		struct ipam_pool *p;

		if (ipam_load(m, &e) != 0)
			die("load", &e);
		p = mkpool(m, "bench", "10.0.0.0/8");
		before = rss_bytes();
		t0 = now_s();
		c0 = cpu_s();
		ops = workload(m, p, 0, 0, &full);
		dt = now_s() - t0;
		dc = cpu_s() - c0;
		if (ops / dt > best)
			best = ops / dt;
		if (ops / dc > bestcpu)
			bestcpu = ops / dc;
		if (r == 0)
			fg->mem_bytes = (double)(full - before) / 65536.0;
		printf("memory round %d: %ld ops in %.3f s wall (%.0f ops/s), %.3f s CPU (%.0f "
		    "ops/s)\n", r + 1, ops, dt, ops / dt, dc, ops / dc);
		ipam_free(m);
	}
	fg->mem_ops = best;
	fg->mem_cpu_ops = bestcpu;
}

static struct ipam *
open_model(const char *path, struct store **st)
{
	struct ipam *m;
	struct err e;

	if (store_sqlite_open(path, st, &e) != 0)
		die("open", &e);
	m = ipam_new(*st);
	if (ipam_load(m, &e) != 0)
		die("load", &e);
	return m;
}

static void
bench_sqlite(struct figures *fg, const char *dir)
{
	char path[512];
	struct store *st;
	struct ipam *m;
	double t0, dt;
	long ops;

	snprintf(path, sizeof(path), "%s/bench-batched.db", dir);
	unlink(path);
	m = open_model(path, &st);
	t0 = now_s();
	ops = workload(m, mkpool(m, "bench", "10.0.0.0/8"), BATCH, 0, NULL);
	dt = now_s() - t0;
	fg->sql_ops = ops / dt;
	printf("sqlite, %d operations per transaction: %ld ops in %.3f s = %.0f ops/s\n", BATCH,
	    ops, dt, fg->sql_ops);
	ipam_free(m);
	store_close(st);

	snprintf(path, sizeof(path), "%s/bench-unbatched.db", dir);
	unlink(path);
	m = open_model(path, &st);
	t0 = now_s();
	ops = workload(m, mkpool(m, "bench", "10.0.0.0/8"), 0, UNBATCHED, NULL);
	dt = now_s() - t0;
	fg->sql_unbatched_ops = ops / dt;
	printf("sqlite, one fsynced transaction per operation: %ld ops in %.3f s = %.0f ops/s\n",
	    ops, dt, fg->sql_unbatched_ops);
	ipam_free(m);
	store_close(st);
}

/* -R PATH: reopen the store and rebuild, in a fresh process so that the RSS growth is the
 * model's alone; prints "restart_s=S bytes=B n=N". */
static int
restart_only(const char *path)
{
	struct store *st;
	struct ipam *m;
	double t0, c0;
	long before = rss_bytes(), n;

	t0 = now_s();
	c0 = cpu_s();
	m = open_model(path, &st);
	t0 = now_s() - t0;
	c0 = cpu_s() - c0;
	n = (long)ipam_alloc_count(m);
	printf("restart_s=%.6f bytes=%.1f n=%ld cpu_s=%.6f\n", t0,
	    (double)(rss_bytes() - before) / (double)(n ? n : 1), n, c0);
	ipam_free(m);
	store_close(st);
	return 0;
}

static void
restart_child(struct figures *fg, const char *self, const char *path)
{
	char cmd[1200], line[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s -R %s", self, path);
	if ((f = popen(cmd, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "restart_s=%lf bytes=%lf n=%ld cpu_s=%lf", &fg->restart_s,
		    &fg->restart_bytes, &fg->restart_n, &fg->restart_cpu);
	pclose(f);
	printf("restart: opened the store and rebuilt %ld allocations in %.3f s wall, %.3f s CPU "
	    "(%.0f bytes of RSS per allocation)\n", fg->restart_n, fg->restart_s,
	    fg->restart_cpu, fg->restart_bytes);
}

static void
bench_restart(struct figures *fg, const char *self, const char *dir, long n)
{
	char path[512];
	struct store *st;
	struct ipam *m;
	struct ipam_pool *p;
	struct ipam_alloc_req q;
	struct ipam_alloc_result r;
	struct err e;
	double t0;
	long i;

	snprintf(path, sizeof(path), "%s/bench-restart.db", dir);
	unlink(path);
	m = open_model(path, &st);
	p = mkpool(m, "big", "16.0.0.0/4");
	memset(&q, 0, sizeof(q));
	q.netmask = 24;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		batch_tick(m, 10000, i);
		if (ipam_allocate(m, &who, p, &q, &r, &e) != 0)
			die("fill", &e);
	}
	batch_end(m);
	printf("filled a store with %ld allocations in %.1f s\n", n, now_s() - t0);
	ipam_free(m);
	store_close(st);

	restart_child(fg, self, path);
	unlink(path);
}

static void
bench_netaddr(struct figures *fg)
{
	char cmd[1200], line[1024], dir[1024];
	const char *src = getenv("PREFIXD_SOURCE_DIR");
	char *p;
	FILE *f;

	if (src != NULL)
		snprintf(dir, sizeof(dir), "%s/tests/bench", src);
	else {
		snprintf(dir, sizeof(dir), "%s", __FILE__);
		if ((p = strrchr(dir, '/')) != NULL)
			*p = '\0';
	}
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/bench_netaddr.py 1", dir);
	printf("running %s\n", cmd);
	fflush(stdout);
	if ((f = popen(cmd, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		fputs(line, stdout);
		if ((p = strstr(line, "ops_per_s=")) != NULL)
			fg->netaddr_ops = strtod(p + 10, NULL);
	}
	pclose(f);
}

/* The README's performance rows: benchmark | figure | baseline (same run) | target | command. */
static void
print_table(const struct figures *fg)
{
	const char *cmd = "`build/tests/bench_engine -d /tmp`";
	char base[160];

	if (fg->netaddr_ops > 0)
		snprintf(base, sizeof(base), "NetBox's method (python3-netaddr IPSet difference, "
		    "extrapolated): %.2f ops/s (engine x%.0f)", fg->netaddr_ops,
		    fg->mem_ops / fg->netaddr_ops);
	else
		snprintf(base, sizeof(base), "NetBox's method: not run (no /usr/bin/python3 with "
		    "python3-netaddr)");
	printf("\n| benchmark | figure | baseline (same run) | target | command |\n"
	    "|---|---|---|---|---|\n");
	printf("| engine in memory: allocate all 65,536 /24 of a /8, release a random half, "
	    "allocate again (best of %d) | %.2f M ops/s wall, %.2f M ops/s per CPU second | %s | "
	    ">= 1 M ops/s, >= 1000x | %s |\n", ROUNDS, fg->mem_ops / 1e6, fg->mem_cpu_ops / 1e6,
	    base, cmd);
	printf("| engine memory per allocation (RSS growth) | %.0f bytes at 65,536; %.0f bytes "
	    "at %ld after a restart | | <= 256 bytes | %s |\n", fg->mem_bytes, fg->restart_bytes,
	    fg->restart_n, cmd);
	printf("| same workload with the SQLite store (WAL, synchronous=FULL), %d operations per "
	    "transaction | %.0f ops/s | one fsynced transaction per operation: %.0f ops/s "
	    "(x%.0f) | | %s |\n", BATCH, fg->sql_ops, fg->sql_unbatched_ops,
	    fg->sql_unbatched_ops > 0 ? fg->sql_ops / fg->sql_unbatched_ops : 0, cmd);
	printf("| restart: reopen the store and rebuild %ld allocations | %.2f s wall, %.2f s CPU | "
	    "| < 3 s | %s |\n", fg->restart_n, fg->restart_s, fg->restart_cpu, cmd);
	printf("(peak RSS of the whole benchmark: %.0f MiB)\n", fg->peak / 1048576.0);
}

int
main(int argc, char **argv)
{
	struct figures fg;
	const char *dir = "/tmp";
	long restart_n = 1000000;
	int c;

	while ((c = getopt(argc, argv, "qd:R:")) != -1) {
		if (c == 'q')
			restart_n = 100000;
		else if (c == 'R')
			return restart_only(optarg);
		else if (c == 'd')
			dir = optarg;
		else {
			fprintf(stderr, "usage: bench_engine [-q] [-d DIR]\n");
			return 2;
		}
	}
	memset(&fg, 0, sizeof(fg));
	bench_memory(&fg);
	bench_sqlite(&fg, dir);
	bench_restart(&fg, argv[0], dir, restart_n);
	bench_netaddr(&fg);
	fg.peak = peak_rss_bytes();

	print_table(&fg);
	return 0;
}
