/*
 * test_store_durability — crash safety of the store (issue "Must be true" 3).
 *
 * A child process (tests/tools/engine_durability_child) allocates and releases in a loop and
 * prints each change after ipam acknowledged it. The test SIGKILLs it at a random moment, at
 * least 50 times (PREFIXD_DURABILITY_KILLS to change) — 5..125 ms after it is ready, and in
 * every fifth round that long after its start — and after each kill reopens the store:
 *   - PRAGMA integrity_check says ok;
 *   - the model rebuilds (a rebuild refuses overlapping or out-of-pool rows);
 *   - every acknowledged allocation is present with its CIDR (unless the child was killed
 *     inside its release: then the store decides), every acknowledged release is gone;
 *   - no two allocations of a pool overlap.
 * The seed is printed; PREFIXD_SEED reproduces the kill schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipam.h"

struct acked {
	bool live;
	bool released;
	bool unsure;                /* release begun, not acknowledged */
	struct cidr c;
};

struct book {
	struct acked *v;
	size_t cap;
	long allocs, releases;
	bool ready;                 /* the running child has loaded its model */
	char line[256];
	size_t linelen;
};

static struct acked *
book_at(struct book *b, uint64_t id)
{
	size_t ncap;

	if (id >= b->cap) {
		ncap = b->cap ? b->cap : 1024;
		while (ncap <= id)
			ncap *= 2;
		b->v = realloc(b->v, ncap * sizeof(*b->v));
		assert_non_null(b->v);
		memset(b->v + b->cap, 0, (ncap - b->cap) * sizeof(*b->v));
		b->cap = ncap;
	}
	return &b->v[id];
}

static void
book_line(struct book *b, const char *line)
{
	unsigned long long id;
	char cidr[64];
	struct acked *a;

	if (strcmp(line, "ready") == 0) {
		b->ready = true;
		return;
	}
	if (sscanf(line, "A %llu %63s", &id, cidr) == 2) {
		a = book_at(b, id);
		assert_int_equal(cidr_parse(cidr, &a->c, NULL), 0);
		a->live = true;
		a->released = false;
		b->allocs++;
	} else if (sscanf(line, "T %llu", &id) == 1) {
		book_at(b, id)->unsure = true;
	} else if (sscanf(line, "R %llu", &id) == 1) {
		a = book_at(b, id);     /* may be an allocation committed but never acknowledged */
		a->live = false;
		a->released = true;
		a->unsure = false;
		b->releases++;
	} else {
		fail_msg("child printed '%s'", line);
	}
}

/* Feeds bytes from the child into complete lines. */
static void
book_feed(struct book *b, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			b->line[b->linelen] = '\0';
			book_line(b, b->line);
			b->linelen = 0;
		} else if (b->linelen + 1 < sizeof(b->line)) {
			b->line[b->linelen++] = buf[i];
		}
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs the child, kills it delay_ms after it said "ready" (or delay_ms after the start when
 * early is set, which may hit the start-up and the rebuild), and books everything it
 * acknowledged. Waiting for "ready" keeps the test meaningful on a slow or loaded machine
 * (an ASan child may need seconds to start there).
 */
static void
run_and_kill(const char *child, const char *db, unsigned seed, int delay_ms, bool early,
    struct book *b)
{
	int fd[2], status;
	pid_t pid;
	char buf[4096], seedtxt[32];
	struct pollfd pfd;
	int64_t start = now_ms(), deadline = early ? start + delay_ms : start + 60000;
	ssize_t n;
	int left;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		snprintf(seedtxt, sizeof(seedtxt), "%u", seed);
		execl(child, child, db, seedtxt, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	pfd.fd = fd[0];
	pfd.events = POLLIN;
	b->ready = false;
	while ((left = (int)(deadline - now_ms())) > 0) {
		if (poll(&pfd, 1, left) > 0) {
			if ((n = read(fd[0], buf, sizeof(buf))) <= 0)
				break;
			book_feed(b, buf, (size_t)n);
			if (!early && b->ready && deadline > now_ms() + delay_ms)
				deadline = now_ms() + delay_ms;
		}
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		fail_msg("child ended before the kill (status %d): is %s built?", status, child);
	while ((n = read(fd[0], buf, sizeof(buf))) > 0)
		book_feed(b, buf, (size_t)n);
	b->linelen = 0;         /* a torn last line was never acknowledged */
	close(fd[0]);
}

struct prev {
	bool have;
	struct cidr last;
};

static int
no_overlap_cb(void *arg, struct ipam_alloc *a)
{
	struct prev *p = arg;
	cidr_u128 first = cidr_addr_u128(&a->cidr);

	if (p->have && p->last.family == a->cidr.family) {
		cidr_u128 pl = cidr_addr_u128(&p->last);

		assert_true(pl < first);
	}
	p->have = true;
	p->last = cidr_last(&a->cidr);
	return 0;
}

static int
pool_cb(void *arg, struct ipam_pool *p)
{
	struct prev pr = { false, { 0, 0, 0, 0 } };

	(void)arg;
	ipam_alloc_foreach(p, no_overlap_cb, &pr);
	return 0;
}

static void
verify(const char *db, struct book *b)
{
	struct store *st;
	struct ipam *m;
	struct ipam_alloc *a;
	struct err e;
	size_t id;

	assert_int_equal(store_sqlite_open(db, &st, &e), 0);
	if (store_check(st, &e) != 0)
		fail_msg("integrity_check: %s", e.msg);
	m = ipam_new(st);
	if (ipam_load(m, &e) != 0)
		fail_msg("rebuild after kill: %s %s", e.code, e.msg);
	for (id = 0; id < b->cap; id++) {
		a = ipam_alloc_find(m, id);
		if (b->v[id].unsure) {  /* killed mid-release: the store decides */
			b->v[id].unsure = false;
			b->v[id].live = a != NULL;
			b->v[id].released = a == NULL;
			if (a != NULL)  /* its allocation may never have been acknowledged */
				b->v[id].c = a->cidr;
		}
		if (b->v[id].live) {
			if (a == NULL)
				fail_msg("acknowledged allocation %zu is lost", id);
			if (!cidr_equal(&a->cidr, &b->v[id].c)) {
				char x[CIDR_STRLEN], y[CIDR_STRLEN];

				fail_msg("allocation %zu was acknowledged as %s, the store has %s", id,
				    cidr_format(&b->v[id].c, x, sizeof(x)),
				    cidr_format(&a->cidr, y, sizeof(y)));
			}
		} else if (b->v[id].released) {
			if (a != NULL)
				fail_msg("acknowledged release of %zu is lost", id);
		}
	}
	ipam_pool_foreach(m, NULL, pool_cb, NULL);
	ipam_free(m);
	store_close(st);
}

static void
test_sigkilled_writer_loses_no_acknowledged_allocation(void **state)
{
	const char *bd = getenv("PREFIXD_BUILD_DIR"), *s = getenv("PREFIXD_SEED");
	const char *k = getenv("PREFIXD_DURABILITY_KILLS");
	char dir[] = "/tmp/test_durability.XXXXXX", db[96], child[512], cmd[128];
	struct book b;
	unsigned seed = s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)time(NULL);
	int kills = k ? atoi(k) : 50, i;

	(void)state;
	snprintf(child, sizeof(child), "%s/tests/engine_durability_child", bd ? bd : ".");
	if (access(child, X_OK) != 0)
		fail_msg("%s not found (set PREFIXD_BUILD_DIR)", child);
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/state.db", dir);
	memset(&b, 0, sizeof(b));
	srandom(seed);
	printf("# seed %u (PREFIXD_SEED=%u reproduces it), %d kills\n", seed, seed, kills);
	for (i = 0; i < kills; i++) {
		run_and_kill(child, db, seed + (unsigned)i, 5 + (int)(random() % 120), i % 5 == 4,
		    &b);
		verify(db, &b);
	}
	printf("# %ld allocations and %ld releases acknowledged, all present after %d kills\n",
	    b.allocs, b.releases, kills);
	assert_true(b.allocs > 0);
	free(b.v);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkilled_writer_loses_no_acknowledged_allocation),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
