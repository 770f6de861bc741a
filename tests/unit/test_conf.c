/*
 * test_conf — the INI config (src/conf.c): SPEC §7 defaults, validation with file:line, the
 * normalised print and its round trip, and which keys need a restart on SIGHUP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static struct conf *
load(const char *text, struct err *e)
{
	return conf_load_string(text, "t.conf", e);
}

/* Loads text expecting a refusal whose message contains want. */
static void
refused(const char *text, const char *want)
{
	struct err e;
	struct conf *c = load(text, &e);

	assert_null(c);
	assert_string_equal(e.code, "conf-invalid");
	if (strstr(e.msg, want) == NULL)
		fail_msg("message '%s' does not contain '%s'", e.msg, want);
}

static char *
printed(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	conf_print(c, f);
	fclose(f);
	return buf;
}

static void
test_default_has_spec_defaults(void **state)
{
	struct conf *c = conf_default();

	(void)state;
	assert_string_equal(c->state_dir, "./prefixd-state");
	assert_string_equal(c->socket, "./prefixd.sock");
	assert_null(c->listen);
	assert_string_equal(c->auth_issuer, "prefixd");
	assert_int_equal(c->auth_max_validity_days, 366);
	assert_int_equal(c->policy_min_change_interval, 10);
	assert_int_equal(c->policy_max_withdraw, 1);
	assert_int_equal(c->policy_max_withdraw_percent, 10);
	assert_int_equal(c->policy_on_invalid, CONF_ON_INVALID_ALERT);
	assert_int_equal(c->policy_provision_timeout, 3600);
	assert_int_equal(c->max_body, 1048576);
	assert_int_equal(c->n_rpki_cache, 0);
	conf_free(c);
}

static void
test_load_keeps_defaults_for_missing_keys(void **state)
{
	struct err e;
	struct conf *c = load("[daemon]\nsocket = /tmp/x.sock\n", &e);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->socket, "/tmp/x.sock");
	assert_string_equal(c->state_dir, "./prefixd-state");
	assert_int_equal(c->rpki_refresh, 3600);
	conf_free(c);
}

static void
test_unknown_section_is_refused_with_line(void **state)
{
	(void)state;
	refused("[daemon]\nsocket = /x\n[bogus]\nkey = 1\n", "t.conf:3: unknown section [bogus]");
}

static void
test_unknown_empty_section_is_refused(void **state)
{
	(void)state;
	refused("[daemon]\n\n[nothing]\n", "t.conf:3: unknown section [nothing]");
}

static void
test_unknown_key_is_refused_with_line(void **state)
{
	(void)state;
	refused("[daemon]\nsocket = /x\nsockets = /y\n", "t.conf:3: unknown key 'sockets' in [daemon]");
}

static void
test_key_outside_section_is_refused(void **state)
{
	(void)state;
	refused("socket = /x\n", "t.conf:1: unknown section []");
}

static void
test_non_integer_is_refused(void **state)
{
	(void)state;
	refused("[policy]\nmax_withdraw = ten\n", "t.conf:2: max_withdraw: 'ten' is not an integer");
}

static void
test_integer_out_of_range_is_refused(void **state)
{
	(void)state;
	refused("[policy]\nmax_withdraw_percent = 101\n", "max_withdraw_percent: '101'");
	refused("[rpki]\nrefresh = 0\n", "refresh: '0'");
	refused("[rpki]\nrefresh = -5\n", "refresh: '-5'");
	refused("[rpki]\nrefresh = 99999999999999999999\n", "refresh");
}

static void
test_repeated_key_is_refused(void **state)
{
	(void)state;
	refused("[daemon]\nsocket = /a\nsocket = /b\n", "t.conf:3: [daemon] socket given twice");
}

static void
test_rpki_cache_is_repeatable(void **state)
{
	struct err e;
	struct conf *c = load("[rpki]\ncache = 127.0.0.1:3323\ncache = [::1]:8282\n", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->n_rpki_cache, 2);
	assert_string_equal(c->rpki_cache[0], "127.0.0.1:3323");
	assert_string_equal(c->rpki_cache[1], "[::1]:8282");
	conf_free(c);
}

static void
test_bad_host_port_is_refused(void **state)
{
	(void)state;
	refused("[rpki]\ncache = 127.0.0.1\n", "not HOST:PORT");
	refused("[rpki]\ncache = 127.0.0.1:0\n", "port must be 1-65535");
	refused("[rpki]\ncache = 127.0.0.1:70000\n", "port must be 1-65535");
	refused("[rpki]\ncache = ::1:323\n", "not HOST:PORT");
	refused("[daemon]\nlisten = [::1:80\n", "not [ADDR]:PORT");
	refused("[daemon]\nlisten = ho st:80\n", "bad character");
}

static void
test_log_level_and_format_are_checked(void **state)
{
	struct err e;
	struct conf *c = load("[daemon]\nlog_level = debug\nlog_format = json\n", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->log_format, LOG_FORMAT_JSON);
	conf_free(c);
	refused("[daemon]\nlog_level = loud\n", "log_level: 'loud'");
	refused("[daemon]\nlog_format = xml\n", "log_format: 'xml'");
}

static void
test_on_invalid_accepts_alert_and_withdraw_only(void **state)
{
	struct err e;
	struct conf *c = load("[policy]\non_invalid = withdraw\n", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->policy_on_invalid, CONF_ON_INVALID_WITHDRAW);
	conf_free(c);
	refused("[policy]\non_invalid = panic\n", "on_invalid: 'panic'");
}

static void
test_origin_asn_accepts_as_prefix(void **state)
{
	struct err e;
	struct conf *c = load("[bgp]\norigin_asn = AS64500\n", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->bgp_origin_asn, 64500);
	conf_free(c);
	refused("[bgp]\norigin_asn = 0\n", "not an AS number");
	refused("[bgp]\norigin_asn = 4294967296\n", "not an AS number");
}

/* [auth] allow_unproven_asn is off unless written true; rdap_asn_url needs {asn}. */
static void
test_auth_asn_keys(void **state)
{
	struct err e;
	struct conf *c = load("[auth]\nrdap_asn_url = http://r/autnum/{asn}\n", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->auth_allow_unproven_asn, 0);
	assert_string_equal(c->auth_rdap_asn_url, "http://r/autnum/{asn}");
	conf_free(c);
	c = load("[auth]\nallow_unproven_asn = true\n", &e);
	assert_non_null(c);
	assert_int_equal(c->auth_allow_unproven_asn, 1);
	conf_free(c);
	refused("[auth]\nallow_unproven_asn = yes\n", "not true or false");
	refused("[auth]\nrdap_asn_url = http://r/autnum/{cidr}\n", "has no {asn}");
}

static void
test_stale_after_above_expire_is_refused(void **state)
{
	(void)state;
	refused("[rpki]\nexpire = 3600\nstale_after = 7200\n", "stale_after (7200) exceeds expire (3600)");
}

static void
test_listen_without_tokens_file_is_refused(void **state)
{
	(void)state;
	refused("[daemon]\nlisten = 127.0.0.1:8080\n", "listen needs tokens_file");
}

static void
test_rdap_url_without_placeholder_is_refused(void **state)
{
	(void)state;
	refused("[auth]\nrdap_url = http://127.0.0.1/ip\n", "rdap_url has no {cidr}");
}

static void
test_empty_required_path_is_refused(void **state)
{
	(void)state;
	refused("[daemon]\nstate_dir =\n", "state_dir must not be empty");
}

static void
test_empty_value_leaves_optional_key_unset(void **state)
{
	struct err e;
	struct conf *c = load("[daemon]\nsocket_group =\nreadonly_socket =\n[bgp]\norigin_asn =\n", &e);

	(void)state;
	assert_non_null(c);
	assert_null(c->socket_group);
	assert_null(c->readonly_socket);
	assert_int_equal(c->bgp_origin_asn, 0);
	conf_free(c);
}

static void
test_overlong_line_is_refused(void **state)
{
	char *text = malloc(5000);

	(void)state;
	strcpy(text, "[daemon]\nsocket = /");
	memset(text + strlen(text), 'a', 4000);
	strcpy(text + 19 + 4000, "\n");
	refused(text, "t.conf:2: line too long");
	free(text);
}

static void
test_missing_file_names_the_file(void **state)
{
	struct err e;

	(void)state;
	assert_null(conf_load("/nonexistent/prefixd.conf", &e));
	assert_non_null(strstr(e.msg, "/nonexistent/prefixd.conf"));
}

static void
test_print_reads_back_to_the_same_config(void **state)
{
	struct err e;
	struct conf *a = load("[daemon]\nsocket = /run/p.sock\nlisten = 127.0.0.1:9\n"
	    "tokens_file = /etc/t\n[rpki]\ncache = 127.0.0.1:3323\ncache = 127.0.0.2:3323\n"
	    "[bgp]\norigin_asn = 64500\n[policy]\non_invalid = withdraw\n", &e);
	struct conf *b;
	char *pa, *pb;

	(void)state;
	assert_non_null(a);
	pa = printed(a);
	b = load(pa, &e);
	assert_non_null(b);
	pb = printed(b);
	assert_string_equal(pa, pb);
	assert_non_null(strstr(pa, "cache = 127.0.0.2:3323\n"));
	assert_non_null(strstr(pa, "[policy]\n"));
	free(pa);
	free(pb);
	conf_free(a);
	conf_free(b);
}

static void
test_value_whose_printed_line_would_not_read_back_is_refused(void **state)
{
	char text[512], value[256];
	struct err e;
	struct conf *c;

	(void)state;
	/* "rdap_url =VALUE" fits the reader's 198 characters, "rdap_url = VALUE" would not */
	memset(value, 'a', 188);
	memcpy(value, "http://x/{cidr}", 15);
	value[188] = '\0';
	snprintf(text, sizeof(text), "[auth]\nrdap_url =%s\n", value);
	c = load(text, &e);
	assert_null(c);
	assert_string_equal(e.code, "conf-invalid");
	assert_non_null(strstr(e.msg, "value too long"));
	assert_non_null(strstr(e.msg, ":2:"));
	value[187] = '\0';     /* one shorter: "rdap_url = VALUE" is exactly 198 characters */
	snprintf(text, sizeof(text), "[auth]\nrdap_url = %s\n", value);
	c = load(text, &e);
	assert_non_null(c);
	conf_free(c);
}

static void
test_restart_keys_name_changed_listener_keys_only(void **state)
{
	struct err e;
	struct conf *a = load("[daemon]\nsocket = /a\nlog_level = info\n", &e);
	struct conf *b = load("[daemon]\nsocket = /b\nlog_level = debug\nmax_body = 2048\n", &e);
	char buf[128];

	(void)state;
	assert_int_equal(conf_restart_keys(a, b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "socket");
	assert_int_equal(conf_restart_keys(a, a, buf, sizeof(buf)), 0);
	conf_free(a);
	conf_free(b);
}

static void
test_free_null_is_a_noop(void **state)
{
	(void)state;
	conf_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_has_spec_defaults),
		cmocka_unit_test(test_load_keeps_defaults_for_missing_keys),
		cmocka_unit_test(test_unknown_section_is_refused_with_line),
		cmocka_unit_test(test_unknown_empty_section_is_refused),
		cmocka_unit_test(test_unknown_key_is_refused_with_line),
		cmocka_unit_test(test_key_outside_section_is_refused),
		cmocka_unit_test(test_non_integer_is_refused),
		cmocka_unit_test(test_integer_out_of_range_is_refused),
		cmocka_unit_test(test_repeated_key_is_refused),
		cmocka_unit_test(test_rpki_cache_is_repeatable),
		cmocka_unit_test(test_bad_host_port_is_refused),
		cmocka_unit_test(test_log_level_and_format_are_checked),
		cmocka_unit_test(test_on_invalid_accepts_alert_and_withdraw_only),
		cmocka_unit_test(test_origin_asn_accepts_as_prefix),
		cmocka_unit_test(test_auth_asn_keys),
		cmocka_unit_test(test_stale_after_above_expire_is_refused),
		cmocka_unit_test(test_listen_without_tokens_file_is_refused),
		cmocka_unit_test(test_rdap_url_without_placeholder_is_refused),
		cmocka_unit_test(test_empty_required_path_is_refused),
		cmocka_unit_test(test_empty_value_leaves_optional_key_unset),
		cmocka_unit_test(test_overlong_line_is_refused),
		cmocka_unit_test(test_missing_file_names_the_file),
		cmocka_unit_test(test_print_reads_back_to_the_same_config),
		cmocka_unit_test(test_value_whose_printed_line_would_not_read_back_is_refused),
		cmocka_unit_test(test_restart_keys_name_changed_listener_keys_only),
		cmocka_unit_test(test_free_null_is_a_noop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
