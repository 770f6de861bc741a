/*
 * auth_api_server — driver for tests/integration/test_auth_api.sh: the control API's HTTP
 * transport with only the authorization-context routes (src/api/api_auth.c), wired as
 * src/prefixd.c wires them (authctx_conf_from, authctx_new into d.auth, api_add_routes with
 * api_auth_routes; at SIGTERM authctx_drain before the transport goes). No store, no model.
 *
 * usage: auth_api_server -c CONFIG     (SPEC §7 INI; [daemon] socket and [auth] are used)
 * Runs until SIGTERM; logs on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "api.h"
#include "authctx.h"
#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "log.h"

static struct daemon d;

static void
on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	authctx_drain(d.auth);    /* answers suspended verify requests before the transport */
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct http_limits lim;
	struct authctx_conf ac;
	struct err e = { 0 };
	ev_signal term;

	if (argc != 3 || strcmp(argv[1], "-c") != 0) {
		fprintf(stderr, "usage: auth_api_server -c CONFIG\n");
		return 2;
	}
	if ((d.conf = conf_load(argv[2], &e)) == NULL) {
		fprintf(stderr, "auth_api_server: %s\n", e.msg);
		return 1;
	}
	log_init(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
	signal(SIGPIPE, SIG_IGN);
	d.loop = ev_default_loop(EVFLAG_AUTO);
	d.started = ev_time();
	lim = (struct http_limits){ .max_body = d.conf->max_body,
	    .request_timeout = d.conf->request_timeout, .max_connections = d.conf->max_connections,
	    .max_long_polls = d.conf->max_long_polls,
	    .max_per_address = d.conf->max_connections_per_address,
	    .admin_connections = d.conf->admin_connections };
	d.http = http_new(d.loop, &lim, api_dispatch, &d);
	api_init(&d);
	authctx_conf_from(d.conf, &ac);
	if ((d.auth = authctx_new(d.loop, &ac, &e)) == NULL ||
	    api_add_routes(d.api, &api_auth_routes, &e) < 0 ||
	    http_listen_unix(d.http, d.conf->socket, NULL, 0660, 0, NULL, &e) < 0)
		fatalx("start: %s", e.msg);
	ev_signal_init(&term, on_term, SIGTERM);
	ev_signal_start(d.loop, &term);
	log_info("auth_api_server listening on %s", d.conf->socket);
	ev_run(d.loop, 0);
	api_shutdown(&d);
	http_free(d.http);
	api_free(d.api);
	authctx_free(d.auth);
	conf_free(d.conf);
	return 0;
}
