/*
 * prefixd — the composition root: options, config, every engine created in dependency order
 * and kept in struct daemon, the one block that lists what the daemon serves, the libev loop
 * and signals.
 *
 *   prefixd [-c FILE] [-d]       run (no -c: the embedded default, state and socket in ./)
 *   prefixd -n [-c FILE]         check the config, print it normalised, exit 0 (or 1 + error)
 *   prefixd --list-routes        print the API's route table (METHOD PATTERN ROLE) and exit
 *   prefixd [-c FILE] --migrate-store FROM TO   copy a store into an empty one and exit
 *                                (store_migrate.h; FILE only for [daemon] audit_key_file)
 *
 * Start-up: config -> log -> listeners (as root) -> privilege drop ([daemon] user, priv.h)
 * -> state dir -> store ([store] backend: SQLite state_dir/prefixd.db, or PostgreSQL at
 * [store] dsn) -> model (ipam_load) -> metrics, obs -> RPKI, verifier, lifecycle, BIRD -> API
 * (routes, status sections, renderers: pd_serve) -> loop (readiness to systemd, notify.h).
 * Tear-down runs in reverse. Signals are libev watchers, so handlers run on the loop:
 *   SIGHUP   reload the config into a new struct; on error keep the old one and log why;
 *            keys that need a restart are named in the log (conf.h lists them); the TLS
 *            certificate and key are re-read (a bad new pair keeps the old one serving)
 *   SIGTERM/SIGINT  stop listening, finish the queued batch, let answered connections drain
 *            (at most 2 s), close the store, remove the sockets, exit 0
 * SIGPIPE is ignored (a client that hangs up must not kill the daemon).
 * With [daemon] user, prefixd drops to that user once the listeners are open, before it
 * opens the store (priv.h); under systemd it reports readiness and keep-alives (notify.h); library chatter on
 * stderr is logged at debug (logcap.h).
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
#include "bird.h"
#include "bmp.h"
#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "ipam.h"
#include "asn.h"
#include "audit_key.h"
#include "grant.h"
#include "lifecycle_bmp.h"
#include "lifecycle_ctl.h"
#include "log.h"
#include "logcap.h"
#include "metrics.h"
#include "notify.h"
#include "obs.h"
#include "priv.h"
#include "rdap.h"
#include "rtr.h"
#include "site_lease.h"
#include "api_prefix_sites.h"
#include "store.h"
#include "store_migrate.h"
#include "store_pg.h"

static struct daemon pd;
static struct audit_key pd_audit_key;   /* [daemon] audit_key_file, read before the drop */
static ev_signal pd_sigterm, pd_sigint, pd_sighup;
static ev_io pd_feed_io;            /* the store's LISTEN socket (several instances) */
static ev_timer pd_feed_timer;      /* once a second: follow, reconnect */
static ev_prepare pd_notify_check;  /* before each wait: a held notification owed? */
static ev_timer pd_notify_timer;    /* ... then sent when due (store.h STORE_NOTIFY_GAP) */
static ev_timer pd_drain;
static double pd_drain_deadline;

/* ---- What the daemon serves: every route table, status section and metrics renderer ---- */

static const struct api_table *const pd_routes[] = {
	&api_status_routes,     /* GET /v1/status, GET /metrics */
	&api_ipam_routes,       /* scopes, pools, allocations */
	&api_import_routes,     /* resources, reports, history */
	&api_events_routes,     /* event feed, audit verify */
	&api_prefix_routes,     /* public prefixes: list, show, advertise, withdraw; provisioning */
	&api_rpki_routes,       /* RPKI status, validate */
	&api_auth_routes,       /* authorization context: message, verify */
	&api_bird_routes,       /* BIRD status, reconcile */
	&api_asn_routes,        /* public-scope ASNs: list, show, provision, deprovision */
	&api_grants_routes,     /* shared pools: pool share / unshare */
	&api_bmp_routes,        /* visibility (BMP) */
	&api_ui_routes,         /* /ui/: the read-only dashboard (static files; data via /v1/) */
	&api_sites_routes,      /* sites (issue 17): list, withdrawal breaker reset */
};

static const struct {
	const char *name;
	api_section_fn fn;
} pd_sections[] = {
	{ "rpki", api_rpki_status },
	{ "bird", api_bird_status },
	{ "prefixes", api_prefix_status },
	{ "asns", api_asn_status },
	{ "bmp", api_bmp_status },
	{ "site", api_site_status },
	{ "store_state", api_store_status },
};

/* Adds every route table to a; -1 with e on a duplicate route or a full table. */
static int
pd_add_routes(struct api *a, struct err *e)
{
	for (size_t i = 0; i < sizeof(pd_routes) / sizeof(pd_routes[0]); i++)
		if (api_add_routes(a, pd_routes[i], e) < 0)
			return -1;
	return 0;
}

/* Registers what the daemon serves: routes, /v1/status sections, /metrics families (in page
 * order: the model, events and alarms, public prefixes, RPKI, BIRD), the feed's long polls. */
static void
pd_serve(void)
{
	struct err e = { 0 };

	if (pd_add_routes(pd.api, &e) < 0)
		fatalx("api: %s", e.msg);
	for (size_t i = 0; i < sizeof(pd_sections) / sizeof(pd_sections[0]); i++)
		if (api_add_status_section(pd.api, pd_sections[i].name, pd_sections[i].fn) < 0)
			fatalx("api: too many status sections");
	if (metrics_add_renderer(pd.metrics, metrics_ipam, pd.ipam) < 0 ||
	    metrics_add_renderer(pd.metrics, obs_metrics, pd.obs) < 0 ||
	    metrics_add_renderer(pd.metrics, api_prefix_metrics, &pd) < 0 ||
	    metrics_add_renderer(pd.metrics, api_rpki_metrics, &pd) < 0 ||
	    metrics_add_renderer(pd.metrics, api_bird_metrics, &pd) < 0 ||
	    metrics_add_renderer(pd.metrics, api_bmp_metrics, &pd) < 0 ||
	    metrics_add_renderer(pd.metrics, api_site_metrics, &pd) < 0)
		fatalx("metrics: too many renderers");
	if (obs_subscribe(pd.obs, api_events_tick, &pd) < 0)
		fatalx("obs: too many subscribers");
	/* a batch whose COMMIT failed: the model (api.c) and the lifecycle forget it */
	if (api_on_rollback(pd.api, lifecycle_ctl_rollback, pd.lc) < 0)
		fatalx("api: too many rollback hooks");
}

/*
 * Several instances on one store: memory follows the others' changes as soon as the store
 * notifies one (LISTEN), and at least once a second (a lost notification, a lost listening
 * connection); the same tick notices a lost database connection and reconnects (with the
 * store's backoff), so /v1/status tells "reads from memory" within a second. Never inside a
 * batch's transaction (the batch follows under the writer lock itself). The public prefixes
 * follow too, once a second (lifecycle_ctl_follow: provisioned or deprovisioned at another
 * instance; it reads the changed prefix documents, which would delay a site's change if done
 * on every notification). A notification wakes the site follower (issue 17: another instance
 * may have asked this site for a change; a desire for a prefix not followed yet makes it
 * follow the prefixes first).
 */
static void
pd_follow(bool prefixes)
{
	struct err e;

	if (store_in_txn(pd.store))
		return;
	err_clear(&e);
	if (ipam_follow(pd.ipam, true, &e) < 0)
		log_debug("store: following the other instances' changes: %s", e.msg);
	err_clear(&e);
	if (prefixes && pd.lc != NULL && lifecycle_ctl_follow(pd.lc, &e) < 0)
		log_debug("lifecycle: following the other instances' prefixes: %s", e.msg);
}

static void
pd_feed_arm(void)
{
	int fd = store_listen_fd(pd.store);

	if (ev_is_active(&pd_feed_io) && (fd < 0 || pd_feed_io.fd != fd))
		ev_io_stop(pd.loop, &pd_feed_io);
	if (fd >= 0 && !ev_is_active(&pd_feed_io)) {
		ev_io_set(&pd_feed_io, fd, EV_READ);
		ev_io_start(pd.loop, &pd_feed_io);
	}
}

static void
pd_feed_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (store_notified(pd.store) != 0) {
		/* the site follower first: a desire for this site is the latency-bound part */
		if (pd.lc != NULL && !store_in_txn(pd.store))
			lifecycle_ctl_sites_follow(pd.lc);
		pd_follow(false);
	}
	pd_feed_arm();
}

static void
pd_feed_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct err e;

	(void)loop;
	(void)w;
	(void)revents;
	err_clear(&e);
	if (!store_in_txn(pd.store) && store_check(pd.store, &e) < 0)
		log_debug("store: %s", e.msg);
	store_notified(pd.store);
	pd_follow(true);
	pd_feed_arm();
}

/* A commit whose notification the store held back (store.h STORE_NOTIFY_GAP) is announced
 * when due, outside any transaction (a batch running then: a little later). */
static void
pd_notify_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct err e;

	(void)revents;
	if (store_in_txn(pd.store)) {
		ev_timer_set(w, 0.002, 0.);
		ev_timer_start(loop, w);
		return;
	}
	err_clear(&e);
	if (store_notify_send(pd.store, &e) < 0)
		log_debug("store: notifying the other instances: %s", e.msg);
}

static void
pd_notify_check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	double due = store_notify_due(pd.store);

	(void)w;
	(void)revents;
	if (due >= 0 && !ev_is_active(&pd_notify_timer)) {
		ev_timer_set(&pd_notify_timer, due > 0 ? due : 0., 0.);
		ev_timer_start(loop, &pd_notify_timer);
	}
}

static void
pd_feed_start(void)
{
	if (!store_has_feed(pd.store))
		return;
	ev_prepare_init(&pd_notify_check, pd_notify_check_cb);
	ev_prepare_start(pd.loop, &pd_notify_check);
	ev_init(&pd_notify_timer, pd_notify_timer_cb);
	ev_init(&pd_feed_io, pd_feed_io_cb);
	ev_timer_init(&pd_feed_timer, pd_feed_timer_cb, 1., 1.);
	ev_timer_start(pd.loop, &pd_feed_timer);
	pd_feed_arm();
}

static void
pd_feed_stop(void)
{
	if (!store_has_feed(pd.store))
		return;
	ev_io_stop(pd.loop, &pd_feed_io);
	ev_timer_stop(pd.loop, &pd_feed_timer);
	ev_prepare_stop(pd.loop, &pd_notify_check);
	ev_timer_stop(pd.loop, &pd_notify_timer);
}

static struct priv_target pd_priv;   /* [daemon] user, group, groups, resolved at start */

static void
usage(FILE *out)
{
	fprintf(out, "usage: prefixd [-n] [-c FILE] [-d]\n"
	    "       prefixd --list-routes\n"
	    "       prefixd [-c FILE] --migrate-store FROM TO\n"
	    "  -c FILE   INI config (default: the embedded default, state and socket in ./)\n"
	    "  -n        check the config, print it normalised and exit\n"
	    "  -d        log at debug level (overrides log_level)\n"
	    "  -V        print the version\n"
	    "  --migrate-store FROM TO\n"
	    "            copy every object, the event log and its audit chain from store FROM\n"
	    "            into the empty store TO, in one transaction, then check the copy and\n"
	    "            exit; each store is sqlite:PATH or postgresql:DSN (a libpq connection\n"
	    "            string); stop every instance on either store first; -c: only its\n"
	    "            [daemon] audit_key_file is read, to verify a keyed audit chain\n");
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
	notify_stopping();
	pd.stopping = 1;
	http_quiesce(pd.http);
	api_shutdown(&pd);
	pd_drain_deadline = ev_now(loop) + 2.0;
	ev_timer_init(&pd_drain, pd_drain_cb, 0., 0.02);
	ev_timer_start(loop, &pd_drain);
}

/* Applies the reloadable keys of c; -1 (and nothing applied) when one of them fails. */
/* The transport's limits from c. */
static struct http_limits
pd_limits(const struct conf *c)
{
	return (struct http_limits){ .max_body = c->max_body, .request_timeout = c->request_timeout,
	    .max_connections = c->max_connections, .max_long_polls = c->max_long_polls,
	    .max_per_address = c->max_connections_per_address,
	    .admin_connections = c->admin_connections };
}

static int
pd_apply(struct conf *c, struct err *e)
{
	struct http_limits lim = pd_limits(c);

	/* first: a refused certificate leaves everything as it was (TLS on/off: restart) */
	if (c->tls_cert != NULL && http_tls_loaded() &&
	    http_tls_load(c->tls_cert, c->tls_key, e) < 0)
		return -1;
	if (http_tokens_load(pd.http, c->tokens_file, e) < 0 ||
	    http_set_admin_group(pd.http, c->admin_group, e) < 0)
		return -1;
	http_set_limits(pd.http, &lim);
	log_init(c->log_level, c->log_format);
	return 0;
}

/* [bmp]'s keys for the monitor (the transits stay c's: the monitor copies them). */
static void
pd_bmp_conf(const struct conf *c, struct lifecycle_bmp_conf *mc)
{
	*mc = (struct lifecycle_bmp_conf){ c->bmp_require_visibility, c->bmp_visibility_timeout,
		c->bmp_transits_v, c->n_bmp_transits };
}

/* With [bmp] listen: the station and its monitor, which confirms advertisements for the
 * controller made next (deps->visibility). */
static void
pd_bmp_start(struct lifecycle_deps *deps)
{
	struct conf *c = pd.conf;
	struct bmp_conf bc = { 0 };
	struct lifecycle_bmp_conf mc;
	char host[256];
	unsigned port;
	struct err e = { 0 };

	if (c->bmp_listen == NULL)
		return;
	if (conf_split_hostport(c->bmp_listen, host, sizeof(host), &port, &e) < 0)
		fatalx("bmp: %s", e.msg);
	bc.listen_addr = host;
	bc.listen_port = port;
	bc.allow = c->bmp_allow_v;
	bc.nallow = c->n_bmp_allow;
	if ((pd.bmp = bmp_station_new(pd.loop, &bc, &e)) == NULL)
		fatalx("bmp: %s", e.msg);
	pd_bmp_conf(c, &mc);
	pd.bmpmon = lifecycle_bmp_new(pd.loop, pd.bmp, pd.obs, pd.rtr, &mc);
	deps->visibility = (struct lifecycle_visibility){ lifecycle_bmp_wait, pd.bmpmon };
	log_info("bmp: listening on %s for %u routers", c->bmp_listen, c->n_bmp_allow);
}

static void
pd_reload(void)
{
	struct conf *c;
	struct err e;
	char keys[256];

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
	if (pd.lc != NULL)
		lifecycle_ctl_set_conf(pd.lc, c);
	if (pd.bmpmon != NULL) {
		struct lifecycle_bmp_conf mc;

		pd_bmp_conf(c, &mc);
		lifecycle_bmp_set_conf(pd.bmpmon, &mc);
	}
	conf_free(pd.conf);
	pd.conf = c;
	if (pd.auth != NULL) {
		struct authctx_conf ac;

		authctx_conf_from(c, &ac);
		authctx_reconfigure(pd.auth, &ac);
	}
	if (pd.rtr != NULL) {
		/* [rpki] caches and timers; adding or removing [rpki] altogether needs a restart. */
		struct rtr_conf rc;

		if (rtr_conf_from(c, &rc, &e) < 0 || rtr_reconfigure(pd.rtr, &rc, &e) < 0)
			log_error("SIGHUP: RPKI keeps its old settings: %s", e.msg);
	}
	log_info("SIGHUP: config %s reloaded", c->path);
}

static void
pd_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	notify_reloading();
	pd_reload();
	notify_ready();
}

static int
pd_listen(struct err *e)
{
	struct conf *c = pd.conf;

	/* the certificate first: a refused one must leave no socket file behind */
	if ((c->tls_cert != NULL && http_tls_load(c->tls_cert, c->tls_key, e) < 0) ||
	    http_tokens_load(pd.http, c->tokens_file, e) < 0 ||
	    http_listen_unix(pd.http, c->socket, c->socket_group, 0660, 0, c->admin_group, e) < 0)
		return -1;
	if (c->readonly_socket != NULL &&
	    http_listen_unix(pd.http, c->readonly_socket, c->readonly_socket_group ?
	    c->readonly_socket_group : c->socket_group, c->readonly_socket_mode, 1, NULL, e) < 0)
		return -1;
	if (c->listen != NULL && http_listen_tcp(pd.http, c->listen, c->tls_cert != NULL, e) < 0)
		return -1;
	return 0;
}

/* The keyed audit chain (store_audit_key): the key read at start, the head published in
 * the state directory. */
static int
pd_audit_start(struct err *e)
{
	char *head;
	int rc;

	if (asprintf(&head, "%s/" AUDIT_HEAD_FILE, pd.conf->state_dir) < 0)
		fatal("asprintf");
	rc = store_audit_key(pd.store, pd.conf->audit_key_file != NULL ? &pd_audit_key : NULL,
	    head, e);
	free(head);
	return rc;
}

/* Opens the store and loads the model. On failure the listeners opened before (as root) are
 * closed and their sockets removed, so a bad [store] changes nothing, then prefixd exits. */
static void
pd_store_fail(const char *fmt, const char *what, const char *msg)
{
	http_free(pd.http);
	pd.http = NULL;
	fatalx(fmt, what, msg);
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
			pd_store_fail("%s%s", "", e.msg);
		if ((pd.store_path = strdup(store_pg_name(pd.store))) == NULL)
			fatal("strdup");
	} else {
		if (asprintf(&pd.store_path, "%s/prefixd.db", pd.conf->state_dir) < 0)
			fatal("asprintf");
		if (store_sqlite_open(pd.store_path, &pd.store, &e) < 0)
			pd_store_fail("%s%s", "store: ", e.msg);
	}
	if (pd_audit_start(&e) < 0)
		pd_store_fail("audit chain of %s: %s", pd.store_path, e.msg);
	pd.ipam = ipam_new(pd.store);
	if (ipam_load(pd.ipam, &e) < 0)
		pd_store_fail("loading the model from %s: %s", pd.store_path, e.msg);
	log_info("store %s: %zu allocations", pd.store_path, ipam_alloc_count(pd.ipam));
	pd.grants = grants_new(pd.store);
	if (grants_load(pd.grants, &e) < 0)
		fatalx("loading pool grants from %s: %s", pd.store_path, e.msg);
}

/* Creates the public side (SPEC §3-§5): RTR, the ownership verifier, the lifecycle controller
 * and the router, which asks the controller for the desired routes. */
static void
pd_public_start(void)
{
	struct conf *c = pd.conf;
	struct bird_config bc = { c->bird_socket, c->bird_config, c->bird_include,
		c->bird_confirm_timeout, c->bird_reconcile_interval };
	struct authctx_conf ac;
	struct rtr_conf rc;
	struct lifecycle_deps deps;
	struct asn_deps adeps;
	struct err e = { 0 };

	if (c->n_rpki_cache > 0) {
		if (rtr_conf_from(c, &rc, &e) < 0 || (pd.rtr = rtr_new(pd.loop, &rc, &e)) == NULL)
			fatalx("rpki: %s", e.msg);
		if (rtr_start(pd.rtr, &e) < 0)
			log_error("rpki: %s (RPKI stays stale)", e.msg);
	}
	authctx_conf_from(c, &ac);
	if ((pd.auth = authctx_new(pd.loop, &ac, &e)) == NULL)
		fatalx("auth: %s", e.msg);
	/* The writer lease matters only where several instances share a store (PostgreSQL); an
	 * SQLite store belongs to one process, which is its site's writer by construction. */
	if (c->store_backend == CONF_STORE_POSTGRESQL)
		pd.site = site_lease_new(&(struct site_lease_deps){ pd.loop, pd.store,
		    c->site_name, NULL, c->site_lease_renew });
	adeps = (struct asn_deps){ pd.loop, pd.store, pd.auth };
	pd.asns = asn_reg_new(&adeps);
	if (asn_reg_load(pd.asns, &e) < 0)
		fatalx("loading ASNs: %s", e.msg);
	if (c->auth_allow_unproven_asn)
		log_warnx("[auth] allow_unproven_asn = true: origin ASNs are used without a proof "
		    "(a lab setting; never in production)");
	else if (c->bgp_origin_asn != 0 && !asn_is_provisioned(pd.asns, c->bgp_origin_asn))
		log_warnx("[bgp] origin_asn AS%u is not a provisioned ASN: prefixes of pools without "
		    "their own origin_asn fail asn-not-provisioned until it is proven "
		    "(prefixctl asn provision AS%u)", (unsigned)c->bgp_origin_asn,
		    (unsigned)c->bgp_origin_asn);
	deps = (struct lifecycle_deps){ pd.loop, pd.conf, pd.store, pd.ipam, pd.obs, pd.rtr,
		pd.auth, { NULL, NULL }, pd.asns, pd.site };
	pd_bmp_start(&deps);
	pd.lc = lifecycle_ctl_new(&deps);
	asn_reg_set_in_use(pd.asns, lifecycle_ctl_asn_in_use, pd.lc);
	pd.bird = bird_start(pd.loop, &bc, lifecycle_ctl_desired, pd.lc);
	lifecycle_ctl_set_bird(pd.lc, pd.bird);
	if (lifecycle_ctl_load(pd.lc, &e) < 0)
		fatalx("loading public prefixes: %s", e.msg);
	if (pd.bmpmon != NULL)
		lifecycle_bmp_attach(pd.bmpmon, pd.lc);
}

/* Tears the public side down in the safe order (see each header). */
static void
pd_public_stop(void)
{
	authctx_drain(pd.auth);
	lifecycle_bmp_free(pd.bmpmon);          /* answers waiting advertisements first */
	pd.bmpmon = NULL;
	bmp_station_free(pd.bmp);
	pd.bmp = NULL;
	lifecycle_ctl_set_bird(pd.lc, NULL);
	bird_stop(pd.bird);
	pd.bird = NULL;
	lifecycle_ctl_free(pd.lc);
	pd.lc = NULL;
	asn_reg_free(pd.asns);
	pd.asns = NULL;
	rtr_free(pd.rtr);
	pd.rtr = NULL;
	authctx_free(pd.auth);
	pd.auth = NULL;
	site_lease_free(pd.site);       /* a clean stop hands the site over at once */
	pd.site = NULL;
}

static int
pd_run(int debug)
{
	struct http_limits lim = pd_limits(pd.conf);
	struct err e;

	log_init(debug ? LOG_LEVEL_DEBUG : pd.conf->log_level, pd.conf->log_format);
	signal(SIGPIPE, SIG_IGN);
	pd.loop = ev_default_loop(EVFLAG_AUTO);
	pd.started = ev_time();
	err_clear(&e);
	if (priv_resolve(pd.conf, &pd_priv, &e) < 0)
		fatalx("refusing to start: %s", e.msg);
	if (logcap_start(pd.loop, &e) < 0)
		fatalx("%s", e.msg);
	/* Listeners as root, then the drop, then the store as the user (priv.h says why). */
	pd.http = http_new(pd.loop, &lim, api_dispatch, &pd);
	if (pd_listen(&e) < 0)
		fatalx("%s", e.msg);
	/* The audit key as root too: its file may be readable by root only (audit_key.h). */
	if (pd.conf->audit_key_file != NULL &&
	    audit_key_load(pd.conf->audit_key_file, &pd_audit_key, &e) < 0)
		fatalx("refusing to start: %s", e.msg);
	if (priv_drop(&pd_priv, pd.conf, &e) < 0)
		fatalx("refusing to run: cannot run as [daemon] user %s: %s", pd.conf->user, e.msg);
	pd_open_store();
	pd.metrics = metrics_new(pd.started);
	pd.obs = obs_new(pd.loop, pd.store, pd.ipam);
	pd_public_start();
	api_init(&pd);
	pd_serve();
	pd_feed_start();
	obs_start(pd.obs);
	ev_signal_init(&pd_sigterm, pd_stop_cb, SIGTERM);
	ev_signal_init(&pd_sigint, pd_stop_cb, SIGINT);
	ev_signal_init(&pd_sighup, pd_hup_cb, SIGHUP);
	ev_signal_start(pd.loop, &pd_sigterm);
	ev_signal_start(pd.loop, &pd_sigint);
	ev_signal_start(pd.loop, &pd_sighup);
	log_info("prefixd %s started (config %s)", PREFIXD_VERSION,
	    pd.conf->path ? pd.conf->path : "embedded default");
	notify_ready();
	notify_watchdog_start(pd.loop);
	ev_run(pd.loop, 0);
	pd_feed_stop();
	api_shutdown(&pd);
	pd_public_stop();
	logcap_stop();
	http_free(pd.http);
	http_tls_free();
	api_free(pd.api);
	obs_free(pd.obs);
	metrics_free(pd.metrics);
	grants_free(pd.grants);
	ipam_free(pd.ipam);
	store_close(pd.store);
	log_info("prefixd stopped");
	free(pd.store_path);
	conf_free(pd.conf);
	ev_loop_destroy(pd.loop);
	return 0;
}

/* prefixd [-c FILE] --migrate-store FROM TO (store_migrate.h): 0 copied, 1 refused (nothing
 * changed). The config is read only for [daemon] audit_key_file: a keyed chain is verified
 * with its key. */
static int
pd_migrate(const char *file, const char *from, const char *to)
{
	struct conf *c = NULL;
	struct err e;
	int rc = 1;

	err_clear(&e);
	if (file != NULL && (c = conf_load(file, &e)) == NULL)
		goto out;
	if (c != NULL && c->audit_key_file != NULL &&
	    audit_key_load(c->audit_key_file, &pd_audit_key, &e) < 0)
		goto out;
	rc = store_migrate(from, to, c != NULL && c->audit_key_file != NULL ? &pd_audit_key :
	    NULL, stdout, &e) < 0;
out:
	if (rc != 0)
		fprintf(stderr, "prefixd: --migrate-store: %s\n", e.msg);
	conf_free(c);
	return rc;
}

/*
 * prefixd -n: the config and what it names that the daemon reads at start (the tokens file
 * and the audit key file: a bad path, mode or line fails here, not at start-up; the TLS
 * certificate and key), then the config normalised, with credentials embedded in [auth]
 * rdap_url shown as "***@" (the output lands in tickets).
 */
static int
pd_check(struct conf *c)
{
	struct err e;
	char *url;

	if (http_tokens_check(c->tokens_file, &e) < 0) {
		fprintf(stderr, "prefixd: tokens_file %s\n", e.msg);
		conf_free(c);
		return 1;
	}
	if (c->tls_cert != NULL && http_tls_check(c->tls_cert, c->tls_key, &e) < 0) {
		fprintf(stderr, "prefixd: %s\n", e.msg);
		conf_free(c);
		return 1;
	}
	if (c->audit_key_file != NULL && audit_key_load(c->audit_key_file, &pd_audit_key, &e) < 0) {
		fprintf(stderr, "prefixd: %s\n", e.msg);
		conf_free(c);
		return 1;
	}
	if (c->auth_rdap_url != NULL) {
		size_t len = strlen(c->auth_rdap_url) + 16;

		if ((url = malloc(len)) == NULL)
			fatal("malloc");
		rdap_redact_url(c->auth_rdap_url, url, len);
		free(c->auth_rdap_url);
		c->auth_rdap_url = url;
	}
	conf_print(c, stdout);
	conf_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list-routes", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "migrate-store", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	int ch, check = 0, debug = 0, migrate = 0;
	struct err e;

	while ((ch = getopt_long(argc, argv, "c:dnhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': debug = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("prefixd %s\n", PREFIXD_VERSION); return 0;
		case 'L': {
			struct api *a = api_new();

			if (pd_add_routes(a, &e) < 0) {
				fprintf(stderr, "prefixd: %s\n", e.msg);
				api_free(a);
				return 1;
			}
			api_routes_print(a, stdout);
			api_free(a);
			return 0;
		}
		case 'h': usage(stdout); return 0;
		case 'M': migrate = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (migrate) {
		if (argc - optind != 2 || check) {
			usage(stderr);
			return 2;
		}
		return pd_migrate(file, argv[optind], argv[optind + 1]);
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
	if (check)
		return pd_check(pd.conf);
	return pd_run(debug);
}
