/*
 * bird_driver — runs the BIRD modules (birdc, bird_apply, rib, reconcile) in a libev loop
 * against a real BIRD, for tests/integration/test_bird_*.sh and by hand.
 *
 *   bird_driver -s BIRD_SOCKET -i INCLUDE [-c BIRD_CONF] [-t CONFIRM_TIMEOUT]
 *               [-r RECONCILE_INTERVAL] [-a PREFIX[:drain]]...
 *
 * The desired set starts as the -a prefixes; reconcile asks the driver for it. Commands, one per
 * line on stdin; every answer and event is one JSON object per line on stdout:
 *   add PREFIX | drain PREFIX | del PREFIX | clear   edit the desired set (no BIRD change)
 *   apply          one bird_apply request        -> {"event":"apply","code",...}
 *   burst N BASE   N requests, each adding BASE's /32 + i (v4), coalesced
 *                                                -> {"event":"burst","transactions",...}
 *   dry            dry run                       -> {"event":"dry","code","diff"}
 *   reconcile      on-demand run                 -> {"event":"reconcile","code","drift",...}
 *   origins PREFIX ASN                           -> {"event":"origins","routes":[...]}
 *   stats                                        -> {"event":"stats",...}
 *   quit
 * Events: {"event":"bird","up":true|false}; {"event":"ready"} once stdin is being read.
 */
#include <arpa/inet.h>
#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bird_apply.h"
#include "bird_conf.h"
#include "birdc.h"
#include "log.h"
#include "reconcile.h"
#include "rib.h"

static struct ev_loop *loop;
static struct birdc *bc;
static struct bird_apply *ap;
static struct reconcile *rc;
static struct bird_routeset desired;
static char inbuf[8192];
static size_t inlen;
static unsigned burst_left;
static uint64_t burst_txn_first, burst_txn_last;
static double burst_t0;

static void
emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void
emit_error(const char *what, const struct err *e)
{
	emit(json_pack("{s:s, s:s, s:s}", "event", what, "code", e->code, "message", e->msg));
}

static int
desired_cb(void *arg, struct bird_routeset *out, struct err *e)
{
	(void)arg;
	if (bird_routeset_copy(out, &desired) < 0)
		return err_set(e, "internal", "out of memory");
	return 0;
}

static json_t *
apply_json(const char *event, const struct bird_apply_result *res)
{
	char *d = bird_routediff_format(&res->diff);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:f, s:b, s:s}", "event", event, "code",
	    res->code, "message", res->message, "txn", (json_int_t)res->txn, "elapsed",
	    res->elapsed, "noop", res->noop, "diff", d ? d : "");
	free(d);
	return o;
}

static void
on_apply(void *arg, const struct bird_apply_result *res)
{
	(void)arg;
	emit(apply_json("apply", res));
}

static void
on_dry(void *arg, const struct bird_apply_result *res)
{
	(void)arg;
	emit(apply_json("dry", res));
}

static void
on_burst(void *arg, const struct bird_apply_result *res)
{
	(void)arg;
	if (burst_txn_first == 0 || res->txn < burst_txn_first)
		burst_txn_first = res->txn;
	if (res->txn > burst_txn_last)
		burst_txn_last = res->txn;
	if (--burst_left == 0)
		emit(json_pack("{s:s, s:s, s:I, s:f}", "event", "burst", "code", res->code,
		    "transactions", (json_int_t)(burst_txn_last - burst_txn_first + 1), "elapsed",
		    ev_time() - burst_t0));
}

static void
on_reconcile(void *arg, const struct reconcile_result *res)
{
	(void)arg;
	emit(json_pack("{s:s, s:s, s:s, s:b, s:b, s:s}", "event", "reconcile", "code", res->code,
	    "message", res->message, "drift", res->drift, "repaired", res->repaired, "diff",
	    res->diff));
}

static void
on_origins(void *arg, const struct rib_origin *v, size_t n, const struct err *e)
{
	(void)arg;
	if (e != NULL) {
		emit_error("origins", e);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:s}", "net", v[i].net, "proto",
		    v[i].proto, "origin_as", (json_int_t)v[i].origin_as, "as_path", v[i].as_path));
	emit(json_pack("{s:s, s:s, s:o}", "event", "origins", "code", "ok", "routes", a));
}

static void
on_bird(void *arg, bool up, const struct err *reason)
{
	(void)arg;
	emit(json_pack("{s:s, s:b, s:s}", "event", "bird", "up", up,
	    "reason", reason ? reason->msg : ""));
}

static void
cmd_stats(void)
{
	struct birdc_stats cs;
	struct bird_apply_stats as;
	struct reconcile_stats rs;

	birdc_get_stats(bc, &cs);
	bird_apply_get_stats(ap, &as);
	reconcile_get_stats(rc, &rs);
	emit(json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, "
	    "s:s}",
	    "event", "stats", "up", birdc_is_up(bc), "connects", (json_int_t)cs.connects,
	    "transactions", (json_int_t)as.transactions, "ok", (json_int_t)as.ok,
	    "noop", (json_int_t)as.noop, "undos", (json_int_t)as.undos,
	    "recovered", (json_int_t)as.recovered, "requests", (json_int_t)as.requests,
	    "config_invalid", (json_int_t)as.config_invalid,
	    "reconcile_runs", (json_int_t)rs.runs, "drift", (json_int_t)rs.drift,
	    "repaired", (json_int_t)rs.repaired, "last_code", rs.last_code,
	    "last_drift", rs.last_drift));
}

static void
cmd_burst(unsigned n, const char *base)
{
	struct in_addr a;

	if (n == 0 || inet_pton(AF_INET, base, &a) != 1) {
		emit(json_pack("{s:s, s:s}", "event", "error", "message", "burst N IPV4"));
		return;
	}
	burst_left = n;
	burst_txn_first = burst_txn_last = 0;
	burst_t0 = ev_time();
	for (unsigned i = 0; i < n; i++) {
		char p[64];
		struct in_addr x = { htonl(ntohl(a.s_addr) + i) };
		snprintf(p, sizeof(p), "%s/32", inet_ntoa(x));
		bird_routeset_add(&desired, p, false, NULL);
		bird_apply_request(ap, &desired, on_burst, NULL);
	}
}

static void
edit_desired(const char *verb, const char *prefix)
{
	struct bird_route r;
	struct err e;

	if (bird_route_parse(prefix, &r, &e) < 0) {
		emit_error("error", &e);
		return;
	}
	bird_routeset_normalize(&desired);
	long i = bird_routeset_find(&desired, &r);
	if (strcmp(verb, "del") == 0) {
		if (i >= 0)
			desired.v[i] = desired.v[--desired.n];
	} else {
		r.drain = strcmp(verb, "drain") == 0;
		if (i >= 0)
			desired.v[i].drain = r.drain;
		else
			bird_routeset_add_route(&desired, &r);
	}
	bird_routeset_normalize(&desired);
	emit(json_pack("{s:s, s:I}", "event", "desired", "n", (json_int_t)desired.n));
}

static void
command(char *line)
{
	char *argv[4] = { 0 };
	int argc = 0;
	struct err e;

	for (char *tok = strtok(line, " \t"); tok && argc < 4; tok = strtok(NULL, " \t"))
		argv[argc++] = tok;
	if (argc == 0)
		return;
	if (strcmp(argv[0], "quit") == 0) {
		ev_break(loop, EVBREAK_ALL);
	} else if (argc == 2 && (!strcmp(argv[0], "add") || !strcmp(argv[0], "del") ||
	    !strcmp(argv[0], "drain"))) {
		edit_desired(argv[0], argv[1]);
	} else if (strcmp(argv[0], "clear") == 0) {
		bird_routeset_clear(&desired);
		emit(json_pack("{s:s, s:i}", "event", "desired", "n", 0));
	} else if (strcmp(argv[0], "apply") == 0) {
		bird_apply_request(ap, &desired, on_apply, NULL);
	} else if (argc == 3 && strcmp(argv[0], "burst") == 0) {
		cmd_burst((unsigned)strtoul(argv[1], NULL, 10), argv[2]);
	} else if (strcmp(argv[0], "dry") == 0) {
		if (bird_apply_dry_run(ap, &desired, on_dry, NULL, &e) < 0)
			emit_error("dry", &e);
	} else if (strcmp(argv[0], "reconcile") == 0) {
		reconcile_run(rc, on_reconcile, NULL);
	} else if (argc == 3 && strcmp(argv[0], "origins") == 0) {
		if (rib_other_origins(bc, argv[1], (uint32_t)strtoul(argv[2], NULL, 10), on_origins,
		    NULL, &e) < 0)
			emit_error("origins", &e);
	} else if (strcmp(argv[0], "stats") == 0) {
		cmd_stats();
	} else {
		emit(json_pack("{s:s, s:s}", "event", "error", "message", "unknown command"));
	}
}

static void
on_stdin(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	ssize_t n = read(w->fd, inbuf + inlen, sizeof(inbuf) - 1 - inlen);
	if (n <= 0) {
		ev_break(l, EVBREAK_ALL);
		return;
	}
	inlen += (size_t)n;
	char *nl;
	while ((nl = memchr(inbuf, '\n', inlen)) != NULL) {
		*nl = '\0';
		command(inbuf);
		size_t used = (size_t)(nl - inbuf) + 1;
		memmove(inbuf, inbuf + used, inlen - used);
		inlen -= used;
	}
	if (inlen == sizeof(inbuf) - 1)
		inlen = 0;      /* an over-long line is dropped */
}

int
main(int argc, char **argv)
{
	struct birdc_config cc = { .cmd_timeout = 60 };
	struct bird_apply_config ac = { .confirm_timeout = 30 };
	struct reconcile_config rcfg = { .interval = 60 };
	int opt;
	ev_io in;

	log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	while ((opt = getopt(argc, argv, "s:i:c:t:r:a:")) != -1) {
		char *colon;
		switch (opt) {
		case 's': cc.socket_path = optarg; break;
		case 'i': ac.include_path = optarg; break;
		case 'c': ac.check_config = optarg; break;
		case 't': ac.confirm_timeout = (unsigned)atoi(optarg); break;
		case 'r': rcfg.interval = atof(optarg); break;
		case 'a':
			colon = strrchr(optarg, ':');
			if (colon && strcmp(colon, ":drain") == 0)
				*colon = '\0';
			else
				colon = NULL;
			if (bird_routeset_add(&desired, optarg, colon != NULL, NULL) < 0)
				fatalx("bad prefix %s", optarg);
			break;
		default:
			fprintf(stderr, "usage: bird_driver -s SOCK -i INCLUDE [-c CONF] [-t N] "
			    "[-r SECONDS] [-a PREFIX[:drain]]...\n");
			return 2;
		}
	}
	if (cc.socket_path == NULL || ac.include_path == NULL)
		fatalx("-s and -i are required");
	loop = EV_DEFAULT;
	bc = birdc_new(loop, &cc);
	ap = bird_apply_new(loop, bc, &ac);
	rc = reconcile_new(loop, bc, ap, &rcfg, desired_cb, NULL);
	birdc_add_listener(bc, on_bird, NULL);
	reconcile_start(rc);
	birdc_start(bc);
	ev_io_init(&in, on_stdin, 0, EV_READ);
	ev_io_start(loop, &in);
	emit(json_pack("{s:s}", "event", "ready"));
	ev_run(loop, 0);
	birdc_free(bc);
	bird_apply_free(ap);
	reconcile_free(rc);
	bird_routeset_clear(&desired);
	return 0;
}
