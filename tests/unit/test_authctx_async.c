/*
 * Unit tests for authctx's asynchronous runner on a libev loop: one callback per verification,
 * on the loop thread; the job cap; drain answers every pending verification at once (cancelling
 * fetches); free drops them without callbacks; an idle verifier does not keep the loop alive.
 * The slow peer is a loopback socket that listens and never answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "authctx.h"

#define PREFIX "192.0.2.0/24"

struct seen {
	int calls;
	int on_loop_thread;
	char code[64];
};

static pthread_t loop_thread;

static void
on_done(struct authctx_result *res, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
	snprintf(s->code, sizeof(s->code), "%s", res->err.code ? res->err.code : "ok");
	authctx_result_free(res);
}

/* A message that passes every local check at time t, and a signature that decodes. */
static void
good_inputs(time_t t, char *msg, size_t n, char *sig)
{
	struct tm tm;
	time_t later = t + 10 * 86400;
	char d[16];

	gmtime_r(&later, &tm);
	strftime(d, sizeof(d), "%Y%m%d", &tm);
	snprintf(msg, n, "1|prefixd|example-net|%s|%s|SHA256|RSAPSS", PREFIX, d);
	memset(sig, 'A', 342);
	strcpy(sig + 342, "==");
}

/* A loopback listener that never accepts or answers; returns its fd and port. */
static int
silent_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void
conf_for(struct authctx_conf *c, int port)
{
	authctx_conf_init(c);
	strcpy(c->owner_id, "example-net");
	snprintf(c->rdap_url, sizeof(c->rdap_url), "http://127.0.0.1:%d/ip/{cidr}", port);
	c->rdap_timeout_ms = 10000;
}

static void
test_verify_start_calls_back_once_on_the_loop(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct authctx_conf c;
	struct authctx *a;
	struct seen s = { 0 };
	char msg[256], sig[400];

	(void)state;
	loop_thread = pthread_self();
	authctx_conf_init(&c);
	strcpy(c.owner_id, "someone-else");
	good_inputs(time(NULL), msg, sizeof(msg), sig);
	assert_non_null(a = authctx_new(loop, &c, NULL));
	assert_int_equal(authctx_verify_start(a, PREFIX, msg, sig, time(NULL), on_done, &s, NULL),
	    0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(authctx_pending(a), 1);
	ev_run(loop, 0);
	assert_int_equal(s.calls, 1);
	assert_true(s.on_loop_thread);
	assert_string_equal(s.code, "auth-owner-mismatch");
	assert_int_equal(authctx_pending(a), 0);
	authctx_free(a);
	ev_loop_destroy(loop);
}

static void
test_verify_start_refuses_beyond_max_jobs_and_drain_answers_all(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct authctx_conf c;
	struct authctx *a;
	struct seen s[AUTHCTX_MAX_JOBS] = { 0 }, extra = { 0 };
	struct err e = { 0 };
	char msg[256], sig[400];
	int port, fd = silent_listener(&port);
	double t0;

	(void)state;
	loop_thread = pthread_self();
	conf_for(&c, port);
	good_inputs(time(NULL), msg, sizeof(msg), sig);
	assert_non_null(a = authctx_new(loop, &c, NULL));
	for (int i = 0; i < AUTHCTX_MAX_JOBS; i++)
		assert_int_equal(authctx_verify_start(a, PREFIX, msg, sig, time(NULL), on_done,
		    &s[i], NULL), 0);
	assert_int_equal(authctx_verify_start(a, PREFIX, msg, sig, time(NULL), on_done, &extra,
	    &e), -1);
	assert_string_equal(e.code, "busy");
	t0 = ev_time();
	authctx_drain(a);
	assert_true(ev_time() - t0 < 3.0);
	for (int i = 0; i < AUTHCTX_MAX_JOBS; i++) {
		assert_int_equal(s[i].calls, 1);
		assert_string_equal(s[i].code, "rdap-unavailable");
	}
	assert_int_equal(extra.calls, 0);
	assert_int_equal(authctx_pending(a), 0);
	authctx_free(a);
	close(fd);
	ev_loop_destroy(loop);
}

static void
test_free_with_pending_verification_never_calls_back(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct authctx_conf c;
	struct authctx *a;
	struct seen s = { 0 };
	char msg[256], sig[400];
	int port, fd = silent_listener(&port);
	double t0;

	(void)state;
	conf_for(&c, port);
	good_inputs(time(NULL), msg, sizeof(msg), sig);
	assert_non_null(a = authctx_new(loop, &c, NULL));
	assert_int_equal(authctx_verify_start(a, PREFIX, msg, sig, time(NULL), on_done, &s,
	    NULL), 0);
	t0 = ev_time();
	authctx_free(a);
	assert_true(ev_time() - t0 < 3.0);
	assert_int_equal(s.calls, 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(s.calls, 0);
	close(fd);
	ev_loop_destroy(loop);
}

static void
test_idle_verifier_does_not_keep_the_loop_alive(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct authctx_conf c;
	struct authctx *a;
	double t0;

	(void)state;
	authctx_conf_init(&c);
	assert_non_null(a = authctx_new(loop, &c, NULL));
	t0 = ev_time();
	ev_run(loop, 0);
	assert_true(ev_time() - t0 < 1.0);
	authctx_free(a);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_start_calls_back_once_on_the_loop),
		cmocka_unit_test(test_verify_start_refuses_beyond_max_jobs_and_drain_answers_all),
		cmocka_unit_test(test_free_with_pending_verification_never_calls_back),
		cmocka_unit_test(test_idle_verifier_does_not_keep_the_loop_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
