/*
 * Unit tests of bird_apply's transaction against a scripted fake BIRD (a unix socket served in
 * the same libev loop): the paths a real BIRD rarely takes — a read-back that differs (undo,
 * bird-verify-failed), `configure` still in progress (status polling), a check error, a
 * confirm that finds no timer, a garbled reply mid-transaction, a BIRD without prefixd4 (the
 * file is written; refused only when the reload still gives none) — and the start-up recovery
 * of an unconfirmed config. Each test lists the exact commands it expects, in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bird_apply.h"
#include "birdc.h"
#include "log.h"

struct step {
	const char *cmd;        /* expected command (exact) */
	const char *reply;
};

struct fake {
	char dir[32], sock[64], include[64];
	struct ev_loop *loop;
	int lfd, cfd;
	ev_io lw, cw;
	char in[4096];
	size_t inlen;
	const struct step *script;
	size_t nsteps, at;
	char unexpected[256];
	struct birdc *c;
	struct bird_apply *ap;
	bool done;
	char code[64], diff[256];
	bool undone;
};

static const char empty_v4[] = "1007-Table master4:\n0000 \n";
static const char empty_v6[] = "1007-Table master6:\n0000 \n";
static const char one_v4[] =
	"1007-Table master4:\n 203.0.113.0/24       blackhole [prefixd4 05:04:44.111] * (200)\n"
	"1008-\tType: static univ\n0000 \n";
#define SHOW4 "show route protocol prefixd4 table master4 all"
#define SHOW6 "show route protocol prefixd6 table master6 all"

static void
on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake *f = w->data;
	char *nl;
	(void)loop;
	(void)revents;

	ssize_t n = read(f->cfd, f->in + f->inlen, sizeof(f->in) - 1 - f->inlen);
	if (n <= 0) {
		ev_io_stop(f->loop, w);
		return;
	}
	f->inlen += (size_t)n;
	while ((nl = memchr(f->in, '\n', f->inlen)) != NULL) {
		*nl = '\0';
		if (f->at < f->nsteps && strcmp(f->in, f->script[f->at].cmd) == 0) {
			const char *r = f->script[f->at++].reply;
			assert_int_equal(write(f->cfd, r, strlen(r)), (ssize_t)strlen(r));
		} else if (f->unexpected[0] == '\0') {
			snprintf(f->unexpected, sizeof(f->unexpected), "step %zu: got '%.200s'", f->at,
			    f->in);
		}
		size_t used = (size_t)(nl - f->in) + 1;
		memmove(f->in, f->in + used, f->inlen - used);
		f->inlen -= used;
	}
}

static void
on_listen(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake *f = w->data;
	(void)revents;

	f->cfd = accept(f->lfd, NULL, NULL);
	assert_true(f->cfd >= 0);
	assert_int_equal(write(f->cfd, "0001 BIRD 2.0.12 ready.\n", 24), 24);
	ev_io_init(&f->cw, on_conn, f->cfd, EV_READ);
	f->cw.data = f;
	ev_io_start(loop, &f->cw);
	ev_io_stop(loop, w);
}

static void
run_until(struct fake *f, bool (*cond)(struct fake *))
{
	ev_tstamp end = ev_time() + 5;
	while (!cond(f) && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(500);
	assert_true(cond(f));
}

static bool is_up(struct fake *f) { return birdc_is_up(f->c); }
static bool is_done(struct fake *f) { return f->done; }

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/bapply-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/bird.ctl", f->dir);
	snprintf(f->include, sizeof(f->include), "%s/inc", f->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 2), 0);
	f->cfd = -1;
	f->loop = ev_loop_new(0);
	ev_io_init(&f->lw, on_listen, f->lfd, EV_READ);
	f->lw.data = f;
	ev_io_start(f->loop, &f->lw);
	struct birdc_config cc = { .socket_path = f->sock, .cmd_timeout = 2 };
	struct bird_apply_config ac = { .include_path = f->include, .confirm_timeout = 10,
	    .poll_interval = 0.005 };
	f->c = birdc_new(f->loop, &cc);
	f->ap = bird_apply_new(f->loop, f->c, &ac);
	birdc_start(f->c);
	run_until(f, is_up);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;
	birdc_free(f->c);
	bird_apply_free(f->ap);
	ev_io_stop(f->loop, &f->cw);
	ev_io_stop(f->loop, &f->lw);
	ev_loop_destroy(f->loop);
	if (f->cfd >= 0)
		close(f->cfd);
	close(f->lfd);
	unlink(f->sock);
	unlink(f->include);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
on_result(void *arg, const struct bird_apply_result *res)
{
	struct fake *f = arg;
	char *d = bird_routediff_format(&res->diff);
	snprintf(f->code, sizeof(f->code), "%s", res->code);
	snprintf(f->diff, sizeof(f->diff), "%s", d ? d : "");
	free(d);
	f->done = true;
}

/* Runs one transaction for {203.0.113.0/24} against SCRIPT; checks every step was taken. */
static void
apply_one(struct fake *f, const struct step *script, size_t n)
{
	struct bird_routeset s = { 0 };

	f->script = script;
	f->nsteps = n;
	bird_routeset_add(&s, "203.0.113.0/24", false, NULL);
	bird_apply_request(f->ap, &s, on_result, f);
	bird_routeset_clear(&s);
	run_until(f, is_done);
	if (f->unexpected[0] != '\0')
		fail_msg("unexpected command: %s", f->unexpected);
	assert_int_equal(f->at, n);
}

static void
write_include(struct fake *f, const char *text)
{
	FILE *fp = fopen(f->include, "w");
	fputs(text, fp);
	fclose(fp);
}

static char *
read_include(struct fake *f)
{
	static char buf[4096];
	FILE *fp = fopen(f->include, "r");
	if (fp == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_apply_confirms_after_matching_readback(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0002-Reading configuration from bird.conf\n0020 Configuration OK\n" },
		{ "configure timeout 10", "0002-Reading\n0022-Undo scheduled in 10 s\n0003 Reconfigured\n" },
		{ SHOW4, one_v4 }, { SHOW6, empty_v6 },
		{ "configure confirm", "0018 Reconfiguration confirmed\n" },
	};
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "ok");
	assert_string_equal(f->diff, "+203.0.113.0/24");
	assert_non_null(strstr(read_include(f), "route 203.0.113.0/24 blackhole;"));
}

static void
test_apply_undoes_when_readback_differs(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "0003 Reconfigured\n" },
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure undo", "0021-Undo requested\n0003 Reconfigured\n" },
	};
	write_include(f, "previous\n");
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-verify-failed");
	assert_string_equal(f->diff, "+203.0.113.0/24");
	assert_string_equal(read_include(f), "previous\n");
}

static void
test_apply_polls_status_while_reconfiguration_runs(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "0004 Reconfiguration in progress\n" },
		{ "configure status", "0004-Reconfiguration in progress\n0000 \n" },
		{ "configure status", "0005-Reconfiguration in progress, next one enqueued\n0000 \n" },
		{ "configure status", "0003-Daemon is up and running\n"
		    "0022-Configuration unconfirmed, undo in 9.9 s\n0000 \n" },
		{ SHOW4, one_v4 }, { SHOW6, empty_v6 },
		{ "configure confirm", "0018 Reconfiguration confirmed\n" },
	};
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "ok");
}

static void
test_apply_reports_check_error_and_restores_file(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0002-Reading\n8002 /etc/bird/x.conf:3:1 syntax error\n" },
	};
	write_include(f, "previous\n");
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-config-invalid");
	assert_string_equal(read_include(f), "previous\n");
}

static void
test_apply_removes_new_file_when_none_existed(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "8002 x.conf:1:1 syntax error\n" },
	};
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-config-invalid");
	assert_null(read_include(f));
}

static void
test_apply_fails_when_confirm_finds_no_timer(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "0003 Reconfigured\n" },
		{ SHOW4, one_v4 }, { SHOW6, empty_v6 },
		{ "configure confirm", "0019 Nothing to do\n" },
	};
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-unavailable");
}

static void
test_apply_fails_on_garbled_reply_mid_transaction(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, empty_v4 }, { SHOW6, empty_v6 },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "Reconfigured!\n" },
	};
	write_include(f, "previous\n");
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-unavailable");
	assert_string_equal(read_include(f), "previous\n");
}

static void
test_apply_fails_unavailable_on_readback_of_foreign_protocol(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, "1007-Table master4:\n 203.0.113.0/24  blackhole [other 1] * (200)\n0000 \n" },
	};
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-unavailable");
}

#define NO_PROTO "9001 syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN\n"

/* Issue 18: BIRD without prefixd4 (its include is empty) is no refusal: the transaction
 * writes the file and applies it like any change. */
static void
test_apply_writes_include_when_bird_lacks_prefixd_protocols(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, NO_PROTO },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "0003 Reconfigured\n" },
		{ SHOW4, one_v4 }, { SHOW6, empty_v6 },
		{ "configure confirm", "0018 Reconfiguration confirmed\n" },
	};
	write_include(f, "");
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "ok");
	assert_string_equal(f->diff, "+203.0.113.0/24");
	assert_non_null(strstr(read_include(f), "protocol static prefixd6 {"));
}

/* ...but a BIRD still without prefixd4 after the reload does not include the file at all:
 * undo, the previous file back, bird-config-invalid. */
static void
test_apply_reports_config_invalid_when_reload_gives_no_prefixd_protocols(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ SHOW4, NO_PROTO },
		{ "configure check", "0020 Configuration OK\n" },
		{ "configure timeout 10", "0003 Reconfigured\n" },
		{ SHOW4, NO_PROTO },
		{ "configure undo", "0021-Undo requested\n0003 Reconfigured\n" },
	};
	write_include(f, "foreign\n");
	apply_one(f, s, sizeof(s) / sizeof(s[0]));
	assert_string_equal(f->code, "bird-config-invalid");
	assert_string_equal(read_include(f), "foreign\n");
}

static void
on_recover(void *arg, bool undone, const struct err *e)
{
	struct fake *f = arg;
	assert_null(e);
	f->undone = undone;
	f->done = true;
}

static void
test_recover_undoes_unconfirmed_config(void **state)
{
	struct fake *f = *state;
	struct bird_apply_stats st;
	const struct step s[] = {
		{ "configure status", "0003-Daemon is up and running\n"
		    "0022-Configuration unconfirmed, undo in 20.5 s\n0000 \n" },
		{ "configure undo", "0021-Undo requested\n0003 Reconfigured\n" },
	};
	f->script = s;
	f->nsteps = 2;
	assert_int_equal(bird_apply_recover(f->ap, on_recover, f, NULL), 0);
	run_until(f, is_done);
	assert_true(f->undone);
	assert_int_equal(f->at, 2);
	bird_apply_get_stats(f->ap, &st);
	assert_int_equal(st.recovered, 1);
}

static void
test_recover_leaves_confirmed_config_alone(void **state)
{
	struct fake *f = *state;
	const struct step s[] = {
		{ "configure status", "0003-Daemon is up and running\n0000 \n" },
	};
	f->script = s;
	f->nsteps = 1;
	assert_int_equal(bird_apply_recover(f->ap, on_recover, f, NULL), 0);
	run_until(f, is_done);
	assert_false(f->undone);
	assert_string_equal(f->unexpected, "");
}

int
main(void)
{
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_confirms_after_matching_readback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_undoes_when_readback_differs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_polls_status_while_reconfiguration_runs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_reports_check_error_and_restores_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_removes_new_file_when_none_existed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_fails_when_confirm_finds_no_timer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_fails_on_garbled_reply_mid_transaction,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_fails_unavailable_on_readback_of_foreign_protocol,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_apply_writes_include_when_bird_lacks_prefixd_protocols, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_apply_reports_config_invalid_when_reload_gives_no_prefixd_protocols, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_undoes_unconfirmed_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_leaves_confirmed_config_alone, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
