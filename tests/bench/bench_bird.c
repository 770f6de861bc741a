/*
 * bench_bird — cost of prefixd's BIRD transaction (bird_apply) against a real BIRD 2, compared in
 * the same run with a bare reconfiguration (write the include file, `configure`, poll `configure
 * status`: no check, no commit-confirm, no read-back) as the baseline. Run by
 * tests/bench/bench_bird.sh, which starts BIRD (or uses the lab) and prints the table.
 *
 *   bench_bird -s SOCK -i INCLUDE [-n SINGLE=100] [-N BATCH=10000] [-b BASE=100.64.0.0]
 *              [-w WAIT_CMD]
 *
 * With -w, each single step also runs `WAIT_CMD PREFIX` after the transaction (the script's
 * poller that returns once upstream's Adj-RIB-In holds PREFIX) and reports up_p50_ms /
 * up_p99_ms: request -> route at upstream.
 *
 * Output, key=value lines:
 *   single_p50_ms single_p99_ms     one bird_apply request adding one /24 -> result "ok"
 *   base_p50_ms base_p99_ms         the same one-prefix change done bare (baseline)
 *   batch_ms                        one request adding BATCH /24s -> confirmed and read back
 *   batch_start_epoch_ms            wall clock when the batch request was made (for the
 *                                   script's upstream polling)
 *   batch_base_ms                   the same batch done bare
 * The set grows: each single step adds one prefix to everything before it, as advertising does.
 */
#include <arpa/inet.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bird_apply.h"
#include "bird_conf.h"
#include "birdc.h"
#include "log.h"

static struct ev_loop *loop;
static struct birdc *bc;
static struct bird_apply *ap;
static bool done;
static char code[64];
static int last_code;
static const char *include_path;
static const char *wait_cmd;

static double
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
on_apply(void *arg, const struct bird_apply_result *res)
{
	(void)arg;
	snprintf(code, sizeof(code), "%s", res->code);
	if (strcmp(res->code, "ok") != 0)
		fprintf(stderr, "bench_bird: %s: %s\n", res->code, res->message);
	done = true;
}

static void
on_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	(void)arg;
	last_code = e ? -1 : (r->final_code == 0 && r->n > 1 ? r->lines[0].code : r->final_code);
	done = true;
}

static void
wait_done(void)
{
	while (!done)
		ev_run(loop, EVRUN_ONCE);
	done = false;
}

static int
command(const char *cmd)
{
	if (birdc_command(bc, cmd, on_reply, NULL, NULL) < 0)
		fatalx("BIRD not connected");
	wait_done();
	return last_code;
}

/* The baseline: render + write + configure + poll status until 0003. */
static double
bare_apply(const struct bird_routeset *s)
{
	char *text;
	size_t len;
	struct err e;
	double t0 = mono_ms();

	if (bird_conf_render(s, &text, &len) < 0 || bird_conf_write(include_path, text, len, &e) < 0)
		fatalx("bare write failed");
	free(text);
	int c = command("configure");
	while (c == 4 || c == 5)
		c = command("configure status");
	if (c != 3)
		fatalx("bare configure answered %d", c);
	return mono_ms() - t0;
}

static double
txn_apply(const struct bird_routeset *s)
{
	double t0 = mono_ms();
	bird_apply_request(ap, s, on_apply, NULL);
	wait_done();
	if (strcmp(code, "ok") != 0)
		fatalx("transaction failed: %s", code);
	return mono_ms() - t0;
}

static void
add_prefix(struct bird_routeset *s, uint32_t base, unsigned i)
{
	char p[64];
	struct in_addr a = { htonl(base + (i << 8)) };
	snprintf(p, sizeof(p), "%s/24", inet_ntoa(a));
	if (bird_routeset_add(s, p, false, NULL) < 0)
		fatalx("bad prefix %s", p);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
pct(double *v, unsigned n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	unsigned i = (unsigned)(p * (n - 1) + 0.5);
	return v[i];
}

/* Times N single-prefix changes as a transaction and bare; prints single_* and base_*. */
static void
bench_single(uint32_t b, unsigned n)
{
	struct bird_routeset s = { 0 }, prev = { 0 }, empty = { 0 };
	double *txn = calloc(n, sizeof(double)), *bare = calloc(n, sizeof(double));
	double *up = calloc(n, sizeof(double));

	txn_apply(&empty);
	for (unsigned i = 0; i < n; i++) {
		/* BIRD holds prefixes 0..i-1; both ways add prefix i to that. */
		add_prefix(&s, b, i);
		bare[i] = bare_apply(&s);
		bare_apply(&prev);                  /* back to 0..i-1, not timed */
		double t0 = mono_ms();
		txn[i] = txn_apply(&s);
		if (wait_cmd != NULL) {
			char cmd[512], p[BIRD_PREFIX_STRLEN];
			bird_route_format(&s.v[s.n - 1], p, sizeof(p));
			snprintf(cmd, sizeof(cmd), "%s %s", wait_cmd, p);
			if (system(cmd) != 0)
				fatalx("%s failed", cmd);
			up[i] = mono_ms() - t0;
		}
		add_prefix(&prev, b, i);
	}
	if (wait_cmd != NULL)
		printf("up_p50_ms=%.2f\nup_p99_ms=%.2f\n", pct(up, n, 0.5), pct(up, n, 0.99));
	printf("single_n=%u\nsingle_p50_ms=%.2f\nsingle_p99_ms=%.2f\nbase_p50_ms=%.2f\n"
	    "base_p99_ms=%.2f\n", n, pct(txn, n, 0.5), pct(txn, n, 0.99), pct(bare, n, 0.5),
	    pct(bare, n, 0.99));
	bird_routeset_clear(&s);
	bird_routeset_clear(&prev);
	txn_apply(&empty);
	free(txn);
	free(bare);
	free(up);
}

/* Times one request of N new prefixes (and the same bare); prints batch_*. */
static void
bench_batch(uint32_t b, unsigned n)
{
	struct bird_routeset s = { 0 }, empty = { 0 };
	struct timespec rt;

	for (unsigned i = 0; i < n; i++)
		add_prefix(&s, b, i);
	double bb = bare_apply(&s);
	bare_apply(&empty);
	clock_gettime(CLOCK_REALTIME, &rt);
	double t = txn_apply(&s);
	printf("batch_n=%u\nbatch_start_epoch_ms=%.0f\nbatch_ms=%.1f\nbatch_base_ms=%.1f\n", n,
	    rt.tv_sec * 1e3 + rt.tv_nsec / 1e6, t, bb);
	bird_routeset_clear(&s);
}

int
main(int argc, char **argv)
{
	struct birdc_config cc = { .cmd_timeout = 120 };
	struct bird_apply_config ac = { .confirm_timeout = 60 };
	unsigned nsingle = 100, nbatch = 10000;
	const char *base_s = "100.64.0.0";
	struct in_addr base;
	int opt;

	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	while ((opt = getopt(argc, argv, "s:i:n:N:b:w:")) != -1) {
		switch (opt) {
		case 's': cc.socket_path = optarg; break;
		case 'i': include_path = ac.include_path = optarg; break;
		case 'n': nsingle = (unsigned)atoi(optarg); break;
		case 'N': nbatch = (unsigned)atoi(optarg); break;
		case 'b': base_s = optarg; break;
		case 'w': wait_cmd = optarg; break;
		default: return 2;
		}
	}
	if (!cc.socket_path || !include_path || inet_pton(AF_INET, base_s, &base) != 1 ||
	    nsingle < 2 || nsingle > 1000 || nbatch > 60000)
		fatalx("usage: bench_bird -s SOCK -i INCLUDE [-n 2..1000] [-N BATCH] [-b IPV4]");
	loop = EV_DEFAULT;
	bc = birdc_new(loop, &cc);
	ap = bird_apply_new(loop, bc, &ac);
	birdc_start(bc);
	while (!birdc_is_up(bc))
		ev_run(loop, EVRUN_ONCE);

	bench_single(ntohl(base.s_addr), nsingle);
	if (nbatch > 0)
		bench_batch(ntohl(base.s_addr), nbatch);
	fflush(stdout);
	birdc_free(bc);
	bird_apply_free(ap);
	return 0;
}
