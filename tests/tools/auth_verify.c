/*
 * auth_verify — driver for tests/integration/test_rdap_*.sh and test_auth_*.sh: runs one
 * authorization-context verification through authctx_verify_start() inside a libev loop,
 * exactly as the daemon does, and prints the outcome as one JSON line:
 *
 *   {"ok":false,"code":"rdap-unavailable","message":"...","elapsed_ms":1503,"ticks":30,
 *    "msg_sha256":"...","cert_sha256":"...","rdap_source":"...","rdap_len":0,
 *    "checks":[{"name":"fields","ok":true,"detail":"7 fields"},...]}
 *
 * "ticks" counts a 50 ms loop timer while the verification ran: it proves the loop kept
 * turning during the fetch. Exit status 0 when the proof holds, 1 when refused, 2 on usage.
 *
 * usage: auth_verify --prefix CIDR --message M --signature S --owner ID
 *            [--issuer I] [--rdap-url TEMPLATE] [--rdap-dir DIR] [--timeout-ms N]
 *            [--connect-timeout-ms N] [--max-validity-days N] [--now EPOCH]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <jansson.h>

#include "authctx.h"

struct run {
	struct ev_loop *loop;
	ev_timer tick;
	unsigned ticks;
	double started;
	int status;
};

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;

	(void)loop;
	(void)revents;
	r->ticks++;
}

static void
on_done(struct authctx_result *res, void *arg)
{
	struct run *r = arg;
	json_t *o = json_object(), *checks = json_array();

	for (size_t i = 0; i < res->nchecks; i++)
		json_array_append_new(checks, json_pack("{s:s,s:b,s:s}", "name",
		    res->checks[i].name, "ok", res->checks[i].ok, "detail",
		    res->checks[i].detail));
	json_object_set_new(o, "ok", json_boolean(res->ok));
	json_object_set_new(o, "code", res->err.code ? json_string(res->err.code) : json_null());
	json_object_set_new(o, "message", json_string(res->err.msg));
	json_object_set_new(o, "elapsed_ms",
	    json_integer((json_int_t)((ev_time() - r->started) * 1000)));
	json_object_set_new(o, "ticks", json_integer(r->ticks));
	json_object_set_new(o, "msg_sha256", json_string(res->msg_sha256));
	json_object_set_new(o, "cert_sha256", json_string(res->cert_sha256));
	json_object_set_new(o, "rdap_source", json_string(res->rdap_source));
	json_object_set_new(o, "rdap_len", json_integer((json_int_t)res->rdap_len));
	json_object_set_new(o, "checks", checks);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	r->status = res->ok ? 0 : 1;
	authctx_result_free(res);
	ev_timer_stop(r->loop, &r->tick);
}

static void
usage(void)
{
	fprintf(stderr, "usage: auth_verify --prefix CIDR --message M --signature S --owner ID "
	    "[--issuer I] [--rdap-url T] [--rdap-dir D] [--timeout-ms N] "
	    "[--connect-timeout-ms N] [--max-validity-days N] [--now EPOCH]\n");
	exit(2);
}

static void
copy(char *dst, size_t n, const char *src)
{
	if ((size_t)snprintf(dst, n, "%s", src) >= n)
		usage();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefix", 1, NULL, 'p' }, { "message", 1, NULL, 'm' },
		{ "signature", 1, NULL, 's' }, { "owner", 1, NULL, 'o' },
		{ "issuer", 1, NULL, 'i' }, { "rdap-url", 1, NULL, 'u' },
		{ "rdap-dir", 1, NULL, 'd' }, { "timeout-ms", 1, NULL, 't' },
		{ "connect-timeout-ms", 1, NULL, 'c' }, { "max-validity-days", 1, NULL, 'v' },
		{ "now", 1, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	struct authctx_conf conf;
	const char *prefix = NULL, *msg = NULL, *sig = NULL;
	time_t now = time(NULL);
	struct run r = { .status = 2 };
	struct authctx *a;
	struct err e = { 0 };
	int ch;

	authctx_conf_init(&conf);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': prefix = optarg; break;
		case 'm': msg = optarg; break;
		case 's': sig = optarg; break;
		case 'o': copy(conf.owner_id, sizeof(conf.owner_id), optarg); break;
		case 'i': copy(conf.issuer, sizeof(conf.issuer), optarg); break;
		case 'u': copy(conf.rdap_url, sizeof(conf.rdap_url), optarg); break;
		case 'd': copy(conf.rdap_dir, sizeof(conf.rdap_dir), optarg); break;
		case 't': conf.rdap_timeout_ms = atol(optarg); break;
		case 'c': conf.rdap_connect_timeout_ms = atol(optarg); break;
		case 'v': conf.max_validity_days = atoi(optarg); break;
		case 'n': now = (time_t)atoll(optarg); break;
		default: usage();
		}
	}
	if (prefix == NULL || msg == NULL || sig == NULL)
		usage();
	r.loop = EV_DEFAULT;
	if ((a = authctx_new(r.loop, &conf, &e)) == NULL) {
		fprintf(stderr, "auth_verify: %s\n", e.msg);
		return 2;
	}
	ev_timer_init(&r.tick, on_tick, 0.05, 0.05);
	r.tick.data = &r;
	ev_timer_start(r.loop, &r.tick);
	r.started = ev_time();
	if (authctx_verify_start(a, prefix, msg, sig, now, on_done, &r, &e) == -1) {
		fprintf(stderr, "auth_verify: %s: %s\n", e.code, e.msg);
		return 2;
	}
	ev_run(r.loop, 0);
	authctx_free(a);
	return r.status;
}
