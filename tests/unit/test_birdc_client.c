/*
 * Unit tests of the birdc client against a fake BIRD: a unix socket this test listens on and
 * answers by hand. Covers the hello, one command in flight, hostile replies (garbled, bad
 * hello, truncated by a close, silence), the errors they end in, and reconnecting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ev.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "birdc.h"
#include "log.h"

struct fake {
	char dir[32], path[64];
	int lfd, cfd;
	struct ev_loop *loop;
	struct birdc *c;
	int ups, downs;
};

struct result {
	bool done;
	int final_code;
	size_t nlines;
	char code[64];
	char first[128];
};

static void
on_event(void *arg, bool up, const struct err *why)
{
	struct fake *f = arg;
	(void)why;
	if (up)
		f->ups++;
	else
		f->downs++;
}

static void
on_done(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct result *res = arg;
	res->done = true;
	if (e != NULL) {
		snprintf(res->code, sizeof(res->code), "%s", e->code);
		return;
	}
	snprintf(res->code, sizeof(res->code), "ok");
	res->final_code = r->final_code;
	res->nlines = r->n;
	snprintf(res->first, sizeof(res->first), "%s", r->lines[0].text);
}

/* Runs the loop until *flag becomes true (or 5 s pass: a failure). */
static void
run_until(struct fake *f, const bool *flag)
{
	ev_tstamp end = ev_time() + 5;
	while (!*flag && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(1000);
	assert_true(*flag);
}

static void
run_until_int(struct fake *f, const int *v, int want)
{
	ev_tstamp end = ev_time() + 5;
	while (*v < want && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(1000);
	assert_true(*v >= want);
}

static void
fake_accept(struct fake *f)
{
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };
	ev_tstamp end = ev_time() + 5;
	while (poll(&p, 1, 0) == 0 && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(1000);
	f->cfd = accept(f->lfd, NULL, NULL);
	assert_true(f->cfd >= 0);
}

static void
fake_send(struct fake *f, const char *s)
{
	assert_int_equal(write(f->cfd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Reads what the client wrote so far (waits up to 1 s for something). */
static void
fake_recv(struct fake *f, char *buf, size_t len)
{
	struct pollfd p = { .fd = f->cfd, .events = POLLIN };
	ev_tstamp end = ev_time() + 1;
	buf[0] = '\0';
	while (poll(&p, 1, 0) == 0 && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(1000);
	if (poll(&p, 1, 0) > 0) {
		ssize_t n = read(f->cfd, buf, len - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
}

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/birdc-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/bird.ctl", f->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->cfd = -1;
	f->loop = ev_loop_new(0);
	struct birdc_config cfg = { .socket_path = f->path, .cmd_timeout = 0.3,
	    .backoff_min = 0.01, .backoff_max = 0.05 };
	f->c = birdc_new(f->loop, &cfg);
	birdc_add_listener(f->c, on_event, f);
	birdc_start(f->c);
	fake_accept(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;
	birdc_free(f->c);
	ev_loop_destroy(f->loop);
	if (f->cfd >= 0)
		close(f->cfd);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
hello(struct fake *f)
{
	fake_send(f, "0001 BIRD 2.0.12 ready.\n");
	run_until_int(f, &f->ups, 1);
}

static void
test_client_is_up_after_hello(void **state)
{
	struct fake *f = *state;
	assert_false(birdc_is_up(f->c));
	hello(f);
	assert_true(birdc_is_up(f->c));
}

static void
test_client_refuses_command_before_hello(void **state)
{
	struct fake *f = *state;
	struct err e = { 0 };
	struct result r = { 0 };
	assert_int_equal(birdc_command(f->c, "show status", on_done, &r, &e), -1);
	assert_string_equal(e.code, "bird-unavailable");
}

static void
test_client_completes_command_with_parsed_reply(void **state)
{
	struct fake *f = *state;
	struct result r = { 0 };
	char buf[256];

	hello(f);
	assert_int_equal(birdc_command(f->c, "configure check", on_done, &r, NULL), 0);
	fake_recv(f, buf, sizeof(buf));
	assert_string_equal(buf, "configure check\n");
	fake_send(f, "0002-Reading configuration from bird.conf\n0020 Configuration OK\n");
	run_until(f, &r.done);
	assert_string_equal(r.code, "ok");
	assert_int_equal(r.final_code, 20);
	assert_int_equal(r.nlines, 2);
}

static void
test_client_sends_one_command_at_a_time(void **state)
{
	struct fake *f = *state;
	struct result r1 = { 0 }, r2 = { 0 };
	char buf[256];

	hello(f);
	birdc_command(f->c, "show status", on_done, &r1, NULL);
	birdc_command(f->c, "show protocols", on_done, &r2, NULL);
	fake_recv(f, buf, sizeof(buf));
	assert_string_equal(buf, "show status\n");
	fake_send(f, "0013 Daemon is up and running\n");
	run_until(f, &r1.done);
	assert_false(r2.done);
	fake_recv(f, buf, sizeof(buf));
	assert_string_equal(buf, "show protocols\n");
	fake_send(f, "0000 \n");
	run_until(f, &r2.done);
	assert_int_equal(r2.final_code, 0);
}

static void
test_client_fails_command_on_garbled_reply_and_reconnects(void **state)
{
	struct fake *f = *state;
	struct result r = { 0 };
	char buf[256];

	hello(f);
	birdc_command(f->c, "show status", on_done, &r, NULL);
	fake_recv(f, buf, sizeof(buf));
	fake_send(f, "this is not BIRD\n");
	run_until(f, &r.done);
	assert_string_equal(r.code, "bird-protocol-error");
	assert_int_equal(f->downs, 1);
	close(f->cfd);
	fake_accept(f);         /* the client comes back by itself */
	hello(f);
	run_until_int(f, &f->ups, 2);
}

static void
test_client_fails_command_when_bird_closes_mid_reply(void **state)
{
	struct fake *f = *state;
	struct result r = { 0 };
	char buf[256];

	hello(f);
	birdc_command(f->c, "show route", on_done, &r, NULL);
	fake_recv(f, buf, sizeof(buf));
	fake_send(f, "1007-Table master4:\n 10.0.0.0/8 blackh");
	close(f->cfd);
	f->cfd = -1;
	run_until(f, &r.done);
	assert_string_equal(r.code, "bird-unavailable");
}

static void
test_client_times_out_a_silent_bird(void **state)
{
	struct fake *f = *state;
	struct result r = { 0 };
	struct birdc_stats st;

	hello(f);
	birdc_command(f->c, "show status", on_done, &r, NULL);
	run_until(f, &r.done);
	assert_string_equal(r.code, "bird-unavailable");
	birdc_get_stats(f->c, &st);
	assert_int_equal(st.timeouts, 1);
}

static void
test_client_rejects_wrong_hello(void **state)
{
	struct fake *f = *state;
	fake_send(f, "0013 Daemon is up and running\n");
	run_until_int(f, &f->downs, 1);
	assert_false(birdc_is_up(f->c));
	assert_int_equal(f->ups, 0);
}

static void
test_client_gives_up_on_missing_hello_and_retries(void **state)
{
	struct fake *f = *state;
	struct birdc_stats st;

	run_until_int(f, &f->downs, 1);      /* cmd_timeout 0.3 s bounds the hello wait */
	birdc_get_stats(f->c, &st);
	assert_int_equal(st.timeouts, 1);
	assert_false(birdc_is_up(f->c));
	close(f->cfd);
	fake_accept(f);
	hello(f);
	assert_true(birdc_is_up(f->c));
}

static void
test_client_fails_on_oversized_reply_line(void **state)
{
	struct fake *f = *state;
	struct result r = { 0 };
	char buf[256];
	char *big = malloc(BIRDC_LINE_MAX * 3);

	hello(f);
	birdc_command(f->c, "show route", on_done, &r, NULL);
	fake_recv(f, buf, sizeof(buf));
	memset(big, 'a', BIRDC_LINE_MAX * 3 - 1);
	memcpy(big, "1007-", 5);
	big[BIRDC_LINE_MAX * 3 - 1] = '\0';
	fake_send(f, big);
	free(big);
	run_until(f, &r.done);
	assert_string_equal(r.code, "bird-protocol-error");
}

static void
test_client_fails_on_reply_to_no_command(void **state)
{
	struct fake *f = *state;
	hello(f);
	fake_send(f, "0000 \n");
	run_until_int(f, &f->downs, 1);
}

static void
test_client_refuses_multiline_command(void **state)
{
	struct fake *f = *state;
	struct err e = { 0 };
	hello(f);
	assert_int_equal(birdc_command(f->c, "show status\nconfigure", on_done, NULL, &e), -1);
	assert_string_equal(e.code, "invalid-argument");
}

int
main(void)
{
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_is_up_after_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_command_before_hello, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_completes_command_with_parsed_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_sends_one_command_at_a_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_fails_command_on_garbled_reply_and_reconnects,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_fails_command_when_bird_closes_mid_reply,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_times_out_a_silent_bird, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_rejects_wrong_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gives_up_on_missing_hello_and_retries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_fails_on_oversized_reply_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_fails_on_reply_to_no_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_multiline_command, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
