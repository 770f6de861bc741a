/*
 * prefixd — the daemon's main: options, config, the libev loop, signals.
 *
 *   prefixd [-c FILE] [-d]       run (no -c: the embedded default, state and socket in ./)
 *   prefixd -n [-c FILE]         check the config, print it normalised, exit 0 (or 1 + error)
 *   prefixd --list-routes        print the API's route table (METHOD PATTERN ROLE) and exit
 *
 * Start-up: config -> log -> state dir -> store ([store] backend: SQLite state_dir/prefixd.db,
 * or PostgreSQL at [store] dsn) -> model
 * (ipam_load) -> listeners -> loop. Signals are libev watchers, so handlers run on the loop:
 *   SIGHUP   reload the config into a new struct; on error keep the old one and log why;
 *            keys that need a restart are named in the log (conf.h lists them)
 *   SIGTERM/SIGINT  stop listening, finish the queued batch, let answered connections drain
 *            (at most 2 s), close the store, remove the sockets, exit 0
 * SIGPIPE is ignored (a client that hangs up must not kill the daemon).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "authctx.h"
#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "ipam.h"
#include "lifecycle_ctl.h"
#include "log.h"
#include "reconcile.h"
#include "rtr.h"
#include "store.h"
#include "store_pg.h"

static struct daemon pd;
static ev_signal pd_sigterm, pd_sigint, pd_sighup;
static ev_timer pd_drain;
static double pd_drain_deadline;

/* The public side (SPEC §3-§5): RTR, ownership proofs, BIRD, the lifecycle controller. */
static struct rtr *pd_rtr;
static struct authctx *pd_auth;
static struct reconcile_bird *pd_bird;
static struct lifecycle_ctl *pd_lc;

static void
usage(FILE *out)
{
	fprintf(out, "usage: prefixd [-n] [-c FILE] [-d]\n"
	    "       prefixd --list-routes\n"
	    "  -c FILE   INI config (default: the embedded default, state and socket in ./)\n"
	    "  -n        check the config, print it normalised and exit\n"
	    "  -d        log at debug level (overrides log_level)\n"
	    "  -V        print the version\n");
}

static void
pd_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	http_kick(pd.http);
	if (http_connection_count(pd.http) == 0 || ev_now(loop) > pd_drain_deadline)
		ev_break(loop, EVBREAK_ALL);
}

static void
pd_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (pd.stopping)
		return;
	log_info("signal %d: stopping", w->signum);
	pd.stopping = 1;
	http_quiesce(pd.http);
	api_shutdown(&pd);
	pd_drain_deadline = ev_now(loop) + 2.0;
	ev_timer_init(&pd_drain, pd_drain_cb, 0., 0.02);
	ev_timer_start(loop, &pd_drain);
}

/* Applies the reloadable keys of c; -1 (and nothing applied) when one of them fails. */
static int
pd_apply(struct conf *c, struct err *e)
{
	struct http_limits lim = { c->max_body, c->request_timeout, c->max_connections };

	if (http_tokens_load(pd.http, c->tokens_file, e) < 0 ||
	    http_set_admin_group(pd.http, c->admin_group, e) < 0)
		return -1;
	http_set_limits(pd.http, &lim);
	log_init(c->log_level, c->log_format);
	return 0;
}

static void
pd_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct conf *c;
	struct err e;
	char keys[256];

	(void)loop;
	(void)w;
	(void)revents;
	if (pd.conf->path == NULL) {
		log_info("SIGHUP: running on the embedded default, nothing to reload");
		return;
	}
	if ((c = conf_load(pd.conf->path, &e)) == NULL) {
		log_error("SIGHUP: keeping the old config: %s", e.msg);
		return;
	}
	if (pd_apply(c, &e) < 0) {
		log_error("SIGHUP: keeping the old config: %s", e.msg);
		pd_apply(pd.conf, &e);
		conf_free(c);
		return;
	}
	if (conf_restart_keys(pd.conf, c, keys, sizeof(keys)) > 0)
		log_warnx("SIGHUP: %s changed and take effect only after a restart", keys);
	conf_free(pd.conf);
	pd.conf = c;
	if (pd_auth != NULL) {
		struct authctx_conf ac;

		authctx_conf_from(c, &ac);
		authctx_reconfigure(pd_auth, &ac);
	}
	if (pd_rtr != NULL) {
		/* [rpki] caches and timers; adding or removing [rpki] altogether needs a restart. */
		struct rtr_conf rc;

		if (rtr_conf_from(c, &rc, &e) < 0 || rtr_reconfigure(pd_rtr, &rc, &e) < 0)
			log_error("SIGHUP: RPKI keeps its old settings: %s", e.msg);
	}
	log_info("SIGHUP: config %s reloaded", c->path);
}

static int
pd_listen(struct err *e)
{
	struct conf *c = pd.conf;

	if (http_tokens_load(pd.http, c->tokens_file, e) < 0 ||
	    http_listen_unix(pd.http, c->socket, c->socket_group, 0, c->admin_group, e) < 0)
		return -1;
	if (c->readonly_socket != NULL &&
	    http_listen_unix(pd.http, c->readonly_socket, c->socket_group, 1, NULL, e) < 0)
		return -1;
	if (c->listen != NULL && http_listen_tcp(pd.http, c->listen, e) < 0)
		return -1;
	return 0;
}

static void
pd_open_store(void)
{
	struct err e;

	if (mkdir(pd.conf->state_dir, 0750) < 0 && errno != EEXIST)
		fatal("mkdir %s", pd.conf->state_dir);
	err_clear(&e);
	if (pd.conf->store_backend == CONF_STORE_POSTGRESQL) {
		if (store_pg_open(pd.conf->store_dsn, &pd.store, &e) < 0)
			fatalx("%s", e.msg);
		if ((pd.store_path = strdup(store_pg_name(pd.store))) == NULL)
			fatal("strdup");
	} else {
		if (asprintf(&pd.store_path, "%s/prefixd.db", pd.conf->state_dir) < 0)
			fatal("asprintf");
		if (store_sqlite_open(pd.store_path, &pd.store, &e) < 0)
			fatalx("store: %s", e.msg);
	}
	pd.ipam = ipam_new(pd.store);
	if (ipam_load(pd.ipam, &e) < 0)
		fatalx("loading the model from %s: %s", pd.store_path, e.msg);
	log_info("store %s: %zu allocations", pd.store_path, ipam_alloc_count(pd.ipam));
}

/* Starts RTR, the verifier, BIRD and the lifecycle controller and registers their routes
 * (the lifecycle's were registered before the builtin ones, see main). */
static void
pd_public_start(void)
{
	struct conf *c = pd.conf;
	struct reconcile_bird_config bc = { c->bird_socket, c->bird_config, c->bird_include,
		c->bird_confirm_timeout, c->bird_reconcile_interval };
	struct authctx_conf ac;
	struct rtr_conf rc;
	struct err e = { 0 };

	if (c->n_rpki_cache > 0) {
		if (rtr_conf_from(c, &rc, &e) < 0 || (pd_rtr = rtr_new(pd.loop, &rc, &e)) == NULL)
			fatalx("rpki: %s", e.msg);
		if (rtr_start(pd_rtr, &e) < 0)
			log_error("rpki: %s (RPKI stays stale)", e.msg);
	}
	rtr_api_register(pd_rtr);
	authctx_conf_from(c, &ac);
	if ((pd_auth = authctx_new(pd.loop, &ac, &e)) == NULL)
		fatalx("auth: %s", e.msg);
	if (authctx_api_register(&pd, pd_auth) < 0)
		fatalx("api: route table full");
	pd_lc = lifecycle_ctl_new(&pd, pd_rtr, NULL, pd_auth);
	pd_bird = reconcile_bird_start(pd.loop, &bc, lifecycle_ctl_desired, pd_lc);
	reconcile_api_register(pd_bird);
	lifecycle_ctl_set_bird(pd_lc, pd_bird);
	if (lifecycle_ctl_load(pd_lc, &e) < 0)
		fatalx("loading public prefixes: %s", e.msg);
	lifecycle_ctl_api_register(pd_lc);
}

/* Tears the public side down in the safe order (see each header). */
static void
pd_public_stop(void)
{
	authctx_drain(pd_auth);
	reconcile_bird_stop(pd_bird);
	lifecycle_ctl_set_bird(pd_lc, NULL);
	lifecycle_ctl_free(pd_lc);
	lifecycle_ctl_api_register(NULL);
	reconcile_api_register(NULL);
	rtr_api_register(NULL);
	rtr_free(pd_rtr);
	authctx_free(pd_auth);
}

static int
pd_run(int debug)
{
	struct http_limits lim = { pd.conf->max_body, pd.conf->request_timeout,
	    pd.conf->max_connections };
	struct err e;

	log_init(debug ? LOG_LEVEL_DEBUG : pd.conf->log_level, pd.conf->log_format);
	signal(SIGPIPE, SIG_IGN);
	pd.loop = ev_default_loop(EVFLAG_AUTO);
	pd.started = ev_time();
	pd_open_store();
	pd.http = http_new(pd.loop, &lim, api_dispatch, &pd);
	api_init(&pd);
	pd_public_start();
	err_clear(&e);
	if (pd_listen(&e) < 0)
		fatalx("%s", e.msg);
	ev_signal_init(&pd_sigterm, pd_stop_cb, SIGTERM);
	ev_signal_init(&pd_sigint, pd_stop_cb, SIGINT);
	ev_signal_init(&pd_sighup, pd_hup_cb, SIGHUP);
	ev_signal_start(pd.loop, &pd_sigterm);
	ev_signal_start(pd.loop, &pd_sigint);
	ev_signal_start(pd.loop, &pd_sighup);
	log_info("prefixd %s started (config %s)", PREFIXD_VERSION,
	    pd.conf->path ? pd.conf->path : "embedded default");
	ev_run(pd.loop, 0);
	api_shutdown(&pd);
	pd_public_stop();
	http_free(pd.http);
	ipam_free(pd.ipam);
	store_close(pd.store);
	log_info("prefixd stopped");
	free(pd.store_path);
	conf_free(pd.conf);
	ev_loop_destroy(pd.loop);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list-routes", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	int ch, check = 0, debug = 0;
	struct err e;

	while ((ch = getopt_long(argc, argv, "c:dnhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': debug = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("prefixd %s\n", PREFIXD_VERSION); return 0;
		case 'L':
			lifecycle_ctl_api_register(NULL);
			api_register_builtin();
			rtr_api_register(NULL);
			authctx_api_register(&pd, NULL);
			reconcile_api_register(NULL);
			api_routes_print(stdout);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	pd.conf = file ? conf_load(file, &e) : conf_default();
	if (pd.conf == NULL) {
		fprintf(stderr, "prefixd: %s\n", e.msg);
		return 1;
	}
	if (check) {
		conf_print(pd.conf, stdout);
		conf_free(pd.conf);
		return 0;
	}
	lifecycle_ctl_api_register(NULL);   /* first: its provision routes take precedence */
	api_register_builtin();
	return pd_run(debug);
}
