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
test_store_backend_defaults_to_sqlite(void **state)
{
	struct conf *c = conf_default();

	(void)state;
	assert_int_equal(c->store_backend, CONF_STORE_SQLITE);
	assert_null(c->store_dsn);
	conf_free(c);
}

static void
test_store_postgresql_takes_a_dsn(void **state)
{
	struct err e;
	struct conf *c = load("[store]\nbackend = postgresql\n"
	    "dsn = host=/run/postgresql dbname=prefixd\n", &e);
	char *out;

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->store_backend, CONF_STORE_POSTGRESQL);
	assert_string_equal(c->store_dsn, "host=/run/postgresql dbname=prefixd");
	out = printed(c);
	assert_non_null(strstr(out, "[store]\nbackend = postgresql\n"
	    "dsn = host=/run/postgresql dbname=prefixd\n"));
	free(out);
	conf_free(c);
}

static void
test_store_backend_and_dsn_must_agree(void **state)
{
	(void)state;
	refused("[store]\nbackend = mysql\n", "backend: 'mysql' is not sqlite|postgresql");
	refused("[store]\nbackend = postgresql\n", "[store] backend = postgresql needs dsn");
	refused("[store]\ndsn = dbname=prefixd\n", "[store] dsn is set but backend is sqlite");
}

static void
test_store_keys_need_a_restart(void **state)
{
	struct err e;
	struct conf *a = load("[store]\nbackend = sqlite\n", &e);
	struct conf *b = load("[store]\nbackend = postgresql\ndsn = dbname=x\n", &e);
	char keys[128];

	(void)state;
	assert_int_equal(conf_restart_keys(a, b, keys, sizeof(keys)), 2);
	assert_string_equal(keys, "backend,dsn");
	conf_free(a);
	conf_free(b);
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
test_privilege_keys_default_to_unset_and_load(void **state)
{
	struct err e;
	struct conf *c = conf_default();

	(void)state;
	assert_null(c->user);
	assert_null(c->group);
	assert_null(c->groups);
	conf_free(c);
	c = load("[daemon]\nuser = prefixd\ngroup = prefixd\ngroups = bird,adm\n", &e);
	assert_non_null(c);
	assert_string_equal(c->user, "prefixd");
	assert_string_equal(c->group, "prefixd");
	assert_string_equal(c->groups, "bird,adm");
	conf_free(c);
}

static void
test_privilege_keys_refuse_bad_names(void **state)
{
	(void)state;
	refused("[daemon]\nuser = pre fixd\n", "'pre fixd' is not a user or group name");
	refused("[daemon]\nuser = a,b\n", "user: one name, not a list");
	refused("[daemon]\nuser = -x\n", "is not a user or group name");
	refused("[daemon]\nuser = p\ngroups = bird,,adm\n", "groups: empty name");
	refused("[daemon]\nuser = p\ngroups = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
	    "at most 16 groups");
	refused("[daemon]\ngroup = prefixd\n", "group and groups need user");
}

static void
test_privilege_keys_need_a_restart(void **state)
{
	struct err e;
	struct conf *a = load("[daemon]\nuser = a\n", &e);
	struct conf *b = load("[daemon]\nuser = b\ngroups = bird\n", &e);
	char buf[128];

	(void)state;
	assert_int_equal(conf_restart_keys(a, b, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "user,groups");
	conf_free(a);
	conf_free(b);
}

static void
test_free_null_is_a_noop(void **state)
{
	(void)state;
	conf_free(NULL);
}

static void
test_bmp_is_off_by_default(void **state)
{
	struct conf *c = conf_default();

	(void)state;
	assert_null(c->bmp_listen);
	assert_int_equal(c->n_bmp_allow, 0);
	assert_int_equal(c->bmp_require_visibility, 0);
	assert_int_equal(c->bmp_visibility_timeout, 60);
	assert_int_equal(c->n_bmp_transits, 0);
	conf_free(c);
}

static void
test_bmp_lists_load_and_print_normalised(void **state)
{
	struct err e;
	struct conf *c = load("[bmp]\nlisten = [::1]:11019\nallow = 10.0.1.2 ,2001:db8::/64\n"
	    "transits = AS64510,64511\nrequire_visibility = 2\nvisibility_timeout = 5\n", &e);
	char *out;

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->n_bmp_allow, 2);
	assert_int_equal(c->bmp_allow_v[0].len, 32);
	assert_int_equal(c->bmp_allow_v[1].len, 64);
	assert_int_equal(c->n_bmp_transits, 2);
	assert_int_equal(c->bmp_transits_v[0], 64510);
	assert_int_equal(c->bmp_transits_v[1], 64511);
	assert_int_equal(c->bmp_require_visibility, 2);
	out = printed(c);
	assert_non_null(strstr(out, "[bmp]\nlisten = [::1]:11019\nallow = 10.0.1.2, 2001:db8::/64\n"
	    "require_visibility = 2\nvisibility_timeout = 5\ntransits = 64510, 64511\n"));
	free(out);
	conf_free(c);
}

static void
test_bmp_listen_without_allow_is_refused(void **state)
{
	(void)state;
	refused("[bmp]\nlisten = 127.0.0.1:11019\n", "[bmp] listen needs allow");
	refused("[bmp]\nlisten = localhost:11019\nallow = 127.0.0.1\n", "numeric address");
	refused("[bmp]\nrequire_visibility = 1\n", "require_visibility needs listen");
}

static void
test_bmp_bad_list_items_are_refused(void **state)
{
	(void)state;
	refused("[bmp]\nallow = 10.0.1.2,\n", "t.conf:2: allow: empty");
	refused("[bmp]\nallow = 10.0.1.2,,10.0.1.3\n", "empty");
	refused("[bmp]\nallow = router1\n", "'router1'");
	refused("[bmp]\ntransits = 64510, x\n", "'x' is not an AS number");
	refused("[bmp]\ntransits = 0\n", "not an AS number");
	refused("[bmp]\ntransits = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", "at most 16");
	refused("[bmp]\nvisibility_timeout = 0\n", "visibility_timeout");
}

static void
test_bmp_listen_and_allow_need_a_restart(void **state)
{
	struct err e;
	struct conf *a = load("[bmp]\nlisten = 127.0.0.1:11019\nallow = 127.0.0.2\n", &e);
	struct conf *b = load("[bmp]\nlisten = 127.0.0.1:11019\nallow = 127.0.0.3\n"
	    "visibility_timeout = 9\n", &e);
	char buf[128];

	(void)state;
	assert_int_equal(conf_restart_keys(a, b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "[bmp] allow");
	conf_free(a);
	conf_free(b);
}

static void
test_site_defaults_to_local(void **state)
{
	struct conf *c = conf_default();

	(void)state;
	assert_string_equal(c->site_name, "local");
	assert_int_equal(c->site_change_timeout, 30);
	assert_int_equal(c->site_lease_renew, 2);
	assert_int_equal(c->policy_max_withdraw_rate, 0);
	conf_free(c);
}

static void
test_site_keys_load(void **state)
{
	struct err e;
	struct conf *c = load("[site]\nname = fra1-b\nchange_timeout = 5\nlease_renew = 1\n"
	    "[policy]\nmax_withdraw_rate = 20\n", &e);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->site_name, "fra1-b");
	assert_int_equal(c->site_change_timeout, 5);
	assert_int_equal(c->site_lease_renew, 1);
	assert_int_equal(c->policy_max_withdraw_rate, 20);
	conf_free(c);
	c = load("[site]\nname =\n", &e);         /* empty: the default */
	assert_non_null(c);
	assert_string_equal(c->site_name, "local");
	conf_free(c);
}

static void
test_site_name_refuses_bad_characters(void **state)
{
	(void)state;
	refused("[site]\nname = Edge1\n", "t.conf:2: name: 'Edge1' is not a site name");
	refused("[site]\nname = edge_1\n", "is not a site name (1-32 of a-z, 0-9, '-')");
	refused("[site]\nname = edge 1\n", "is not a site name");
	refused("[site]\nname = edge1,edge2\n", "is not a site name");
	refused("[site]\nname = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "is not a site name");
	refused("[site]\nlease_renew = 0\n", "lease_renew: '0' is not an integer in 1..600");
	refused("[site]\nchange_timeout = 0\n", "change_timeout");
	refused("[site]\nzone = a\n", "unknown key 'zone' in [site]");
	assert_int_equal(conf_site_name_ok("a", 1), 0);
	assert_int_equal(conf_site_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32), 0);
	assert_int_equal(conf_site_name_ok("", 0), -1);
}

static void
test_site_name_and_lease_need_a_restart(void **state)
{
	struct err e;
	struct conf *a = load("[site]\nname = a\n", &e);
	struct conf *b = load("[site]\nname = b\nlease_renew = 3\nchange_timeout = 9\n", &e);
	char buf[128];

	(void)state;
	assert_int_equal(conf_restart_keys(a, b, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "name,lease_renew");
	conf_free(a);
	conf_free(b);
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
		cmocka_unit_test(test_privilege_keys_default_to_unset_and_load),
		cmocka_unit_test(test_privilege_keys_refuse_bad_names),
		cmocka_unit_test(test_privilege_keys_need_a_restart),
		cmocka_unit_test(test_free_null_is_a_noop),
		cmocka_unit_test(test_bmp_is_off_by_default),
		cmocka_unit_test(test_bmp_lists_load_and_print_normalised),
		cmocka_unit_test(test_bmp_listen_without_allow_is_refused),
		cmocka_unit_test(test_bmp_bad_list_items_are_refused),
		cmocka_unit_test(test_bmp_listen_and_allow_need_a_restart),
		cmocka_unit_test(test_store_backend_defaults_to_sqlite),
		cmocka_unit_test(test_store_postgresql_takes_a_dsn),
		cmocka_unit_test(test_store_backend_and_dsn_must_agree),
		cmocka_unit_test(test_store_keys_need_a_restart),
		cmocka_unit_test(test_site_defaults_to_local),
		cmocka_unit_test(test_site_keys_load),
		cmocka_unit_test(test_site_name_refuses_bad_characters),
		cmocka_unit_test(test_site_name_and_lease_need_a_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
