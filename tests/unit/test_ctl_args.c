/*
 * Unit tests for prefixctl's argument parser (ctl_args.c) and command registry (ctl_cmd.c):
 * global options, command lookup, option values, required arguments, per-command checks,
 * help and completion. Every refusal must be a usage error naming what was wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(inv, e, ...) ctl_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (inv), (e))

/* Asserts a usage refusal whose message contains want. */
static void
assert_refused(int rc, const struct err *e, const char *want)
{
	assert_int_equal(rc, -1);
	assert_non_null(e->code);
	assert_string_equal(e->code, "usage");
	if (strstr(e->msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e->msg, want);
}

static void
test_parse_reads_global_options_before_the_command(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "-s", "/tmp/x.sock", "--json", "status"), 0);
	assert_string_equal(inv.socket, "/tmp/x.sock");
	assert_true(inv.json);
	assert_string_equal(inv.cmd->words, "status");
}

static void
test_parse_accepts_global_options_after_the_command(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "pool", "list", "--json", "--socket=/s"), 0);
	assert_true(inv.json);
	assert_string_equal(inv.socket, "/s");
	assert_string_equal(inv.cmd->words, "pool list");
}

static void
test_parse_finds_two_word_commands(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "pool", "show", "top"), 0);
	assert_string_equal(inv.cmd->words, "pool show");
	assert_int_equal(inv.npos, 1);
	assert_string_equal(inv.pos[0], "top");
}

static void
test_parse_refuses_unknown_command(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "frobnicate"), &e, "unknown command 'frobnicate'");
	assert_refused(PARSE(&inv, &e, "pool", "bogus"), &e, "unknown command 'bogus'");
}

static void
test_parse_refuses_group_word_without_subcommand(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool"), &e, "'pool' needs a subcommand");
}

static void
test_parse_refuses_missing_command(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "--json"), &e, "missing command");
	assert_refused(ctl_parse(0, ARGV(NULL), &inv, &e), &e, "missing command");
}

static void
test_parse_refuses_unknown_options(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "list", "--bogus"), &e, "unknown option --bogus");
	assert_refused(PARSE(&inv, &e, "pool", "list", "-x"), &e, "unknown option -x");
	assert_refused(PARSE(&inv, &e, "-x", "status"), &e, "unknown option -x");
}

static void
test_parse_refuses_option_without_value(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask"), &e,
	    "--netmask needs a value");
	assert_refused(PARSE(&inv, &e, "-s"), &e, "-s needs a value");
}

static void
test_parse_refuses_netmask_out_of_range_or_not_a_number(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", "129"), &e,
	    "out of range 0..128");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", "-1"), &e, "not a number");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", "24x"), &e, "not a number");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", ""), &e, "empty value");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", "99999999999999999999"), &e,
	    "not a number");
	assert_refused(PARSE(&inv, &e, "pool", "create", "x", "--scope", "s", "--alarm-at", "0"),
	    &e, "out of range 1..100");
}

static void
test_parse_reads_numbers_with_equals_form(void **state)
{
	struct ctl_inv inv;
	struct err e;
	long long n = 0;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "allocate", "p", "--netmask=24"), 0);
	assert_true(ctl_inv_num(&inv, "netmask", &n));
	assert_int_equal(n, 24);
	assert_false(ctl_inv_num(&inv, "cidr", &n));
}

static void
test_parse_refuses_tag_not_key_equals_value(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--tag", "Environment"), &e,
	    "not KEY=VALUE");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--tag", "=lab"), &e, "not KEY=VALUE");
}

static void
test_parse_collects_repeated_tags_in_order(void **state)
{
	struct ctl_inv inv;
	struct err e;
	size_t it = 0;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "allocate", "p", "--tag", "a=1", "--tag=b=2=3",
	    "--tag", "c="), 0);
	assert_string_equal(ctl_inv_next(&inv, "tag", &it), "a=1");
	assert_string_equal(ctl_inv_next(&inv, "tag", &it), "b=2=3");
	assert_string_equal(ctl_inv_next(&inv, "tag", &it), "c=");
	assert_null(ctl_inv_next(&inv, "tag", &it));
}

static void
test_parse_refuses_single_option_given_twice(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--token", "a", "--token", "b"), &e,
	    "--token given more than once");
}

static void
test_parse_refuses_bad_cidr_syntax(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--cidr", "10.0.0.0"), &e, "--cidr");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--cidr", "10.0.0.0/33"), &e, "--cidr");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--cidr", "300.0.0.0/8"), &e, "--cidr");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--cidr", "10.0.0.0/8x"), &e, "--cidr");
	assert_refused(PARSE(&inv, &e, "history", "2001:db8::/129"), &e, "CIDR");
	assert_refused(PARSE(&inv, &e, "pool", "deprovision", "p", "bogus"), &e, "CIDR");
}

static void
test_parse_refuses_values_that_are_not_utf8(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "show", "bad\xff"), &e, "NAME: value is not valid UTF-8");
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--description", "\xc3("), &e,
	    "--description: value is not valid UTF-8");
	assert_int_equal(PARSE(&inv, &e, "allocate", "p", "--description", "caf\xc3\xa9"), 0);
}

static void
test_parse_leaves_non_canonical_cidr_to_the_daemon(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "allocate", "p", "--cidr", "10.0.0.1/24"), 0);
	assert_string_equal(ctl_inv_str(&inv, "cidr"), "10.0.0.1/24");
	assert_int_equal(PARSE(&inv, &e, "history", "2001:db8::/32"), 0);
}

static void
test_parse_refuses_missing_and_extra_positionals(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "show"), &e, "'pool show' needs NAME");
	assert_refused(PARSE(&inv, &e, "pool", "deprovision", "p"), &e, "needs CIDR");
	assert_refused(PARSE(&inv, &e, "release", "1", "2"), &e, "unexpected argument '2'");
}

static void
test_parse_refuses_missing_required_option(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "create", "top"), &e, "needs --scope");
	assert_refused(PARSE(&inv, &e, "import", "--cidr", "10.0.0.0/8", "--name", "n"), &e,
	    "needs --scope");
}

static void
test_parse_refuses_family_outside_its_choices(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "create", "x", "--scope", "s", "--family", "ipv5"),
	    &e, "not one of ipv4|ipv6");
	assert_int_equal(PARSE(&inv, &e, "pool", "create", "x", "--scope", "s", "--family",
	    "ipv6"), 0);
}

static void
test_parse_provision_needs_exactly_one_of_cidr_and_netmask(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "provision", "p"), &e, "either CIDR or --netmask");
	assert_refused(PARSE(&inv, &e, "pool", "provision", "p", "10.0.0.0/16", "--netmask", "20"),
	    &e, "either CIDR or --netmask");
	assert_int_equal(PARSE(&inv, &e, "pool", "provision", "p", "--netmask", "20"), 0);
	assert_int_equal(PARSE(&inv, &e, "pool", "provision", "p", "10.0.0.0/16"), 0);
}

static void
test_parse_provision_wants_auth_message_and_signature_together(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "pool", "provision", "p", "192.0.2.0/24", "--auth-message",
	    "m"), &e, "go together");
}

static void
test_parse_allocate_refuses_netmask_with_cidr(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--netmask", "24", "--cidr",
	    "10.0.0.0/24"), &e, "not both");
}

static void
test_parse_import_wants_file_or_cidr_and_name(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "import", "--scope", "s"), &e, "needs --cidr C --name N");
	assert_refused(PARSE(&inv, &e, "import", "--scope", "s", "--cidr", "10.0.0.0/8"), &e,
	    "needs --cidr C --name N");
	assert_refused(PARSE(&inv, &e, "import", "--scope", "s", "--file", "f", "--name", "n"), &e,
	    "not both");
	assert_int_equal(PARSE(&inv, &e, "import", "--scope", "s", "--file", "f"), 0);
}

static void
test_parse_reads_time_forms_as_unix_seconds(void **state)
{
	struct ctl_inv inv;
	struct err e;
	long long t = 0;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "history", "10.0.0.0/8", "--since", "2026-11-21"), 0);
	assert_true(ctl_inv_num(&inv, "since", &t));
	assert_int_equal(t, 1795219200LL);
	assert_int_equal(PARSE(&inv, &e, "history", "10.0.0.0/8", "--since",
	    "2026-11-21T01:00:05Z"), 0);
	assert_true(ctl_inv_num(&inv, "since", &t));
	assert_int_equal(t, 1795219200LL + 3605);
	assert_int_equal(PARSE(&inv, &e, "history", "10.0.0.0/8", "--until", "1700000000"), 0);
	assert_true(ctl_inv_num(&inv, "until", &t));
	assert_int_equal(t, 1700000000LL);
	assert_refused(PARSE(&inv, &e, "history", "10.0.0.0/8", "--since", "yesterday"), &e,
	    "is not a time");
	assert_refused(PARSE(&inv, &e, "history", "10.0.0.0/8", "--since", "2026-11-21T01:00"),
	    &e, "is not a time");
}

static void
test_parse_help_skips_required_checks(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "pool", "create", "--help"), 0);
	assert_true(inv.help);
	assert_string_equal(inv.cmd->words, "pool create");
	assert_int_equal(PARSE(&inv, &e, "help", "allocate"), 0);
	assert_true(inv.help);
	assert_string_equal(inv.cmd->words, "allocate");
	assert_int_equal(PARSE(&inv, &e, "help", "pool"), 0);
	assert_null(inv.cmd);
	assert_string_equal(inv.topic, "pool");
	assert_int_equal(PARSE(&inv, &e, "-h"), 0);
	assert_true(inv.help);
	assert_null(inv.cmd);
}

static void
test_parse_version_needs_no_command(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "--version"), 0);
	assert_true(inv.version);
	assert_null(inv.cmd);
}

static void
test_parse_double_dash_ends_options(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_int_equal(PARSE(&inv, &e, "release", "--", "-odd-id"), 0);
	assert_string_equal(inv.pos[0], "-odd-id");
}

static void
test_parse_flag_refuses_a_value(void **state)
{
	struct ctl_inv inv;
	struct err e;

	(void)state;
	assert_refused(PARSE(&inv, &e, "allocate", "p", "--preview=yes"), &e, "takes no value");
	assert_int_equal(PARSE(&inv, &e, "allocate", "p", "--preview"), 0);
	assert_true(ctl_inv_flag(&inv, "preview"));
}

static void
test_parse_refuses_more_options_than_it_holds(void **state)
{
	struct ctl_inv inv;
	struct err e;
	char *argv[2 + 2 * (CTL_MAX_VALS + 1)];
	int i, argc = 0;

	(void)state;
	argv[argc++] = "allocate";
	argv[argc++] = "p";
	for (i = 0; i <= CTL_MAX_VALS; i++) {
		argv[argc++] = "--tag";
		argv[argc++] = "k=v";
	}
	assert_refused(ctl_parse(argc, argv, &inv, &e), &e, "too many options");
}

/* Reads what ctl_complete prints for the typed words. */
static char *
complete(int argc, char *argv[])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_complete(f, argc, argv, NULL);
	fclose(f);
	return buf;
}

/* How many lines of s are exactly line. */
static int
count_line(const char *s, const char *line)
{
	size_t n = strlen(line);
	int count = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, "\n");

		if (len == n && strncmp(s, line, n) == 0)
			count++;
		s += len + (s[len] == '\n');
	}
	return count;
}

static void
test_complete_lists_next_words_options_and_choices(void **state)
{
	char *s;

	(void)state;
	s = complete(0, ARGV(NULL));
	assert_non_null(strstr(s, "help\n"));
	assert_non_null(strstr(s, "pool\n"));
	assert_null(strstr(s, "create"));
	assert_int_equal(count_line(s, "pool"), 1);     /* each word once */
	free(s);
	s = complete(1, ARGV("pool"));
	assert_non_null(strstr(s, "provision\n"));
	assert_null(strstr(s, "pool\n"));
	free(s);
	s = complete(3, ARGV("pool", "create", "x"));
	assert_non_null(strstr(s, "--min-netmask\n"));
	free(s);
	s = complete(4, ARGV("pool", "create", "x", "--family"));
	assert_string_equal(s, "ipv4\nipv6\n");
	free(s);
	s = complete(3, ARGV("-s", "/x", "allocate"));
	assert_non_null(strstr(s, "--preview\n"));
	free(s);
}

static void
check_cmd_table(const struct ctl_cmd *c, void *arg)
{
	const struct ctl_opt *o;
	int used;
	char *words = strdup(c->words), *argv[8], *save = NULL, *w;
	int n = 0;

	(void)arg;
	assert_non_null(c->usage);
	assert_non_null(c->summary);
	assert_non_null(c->run);
	for (o = c->args; o != NULL && o->name != NULL; o++)
		assert_true(o->name[0] >= 'A' && o->name[0] <= 'Z');
	for (o = c->opts; o != NULL && o->name != NULL; o++) {
		assert_true(o->name[0] >= 'a' && o->name[0] <= 'z');
		assert_non_null(o->help);
		if (o->kind != CTL_FLAG)
			assert_non_null(o->metavar);
	}
	for (w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	assert_ptr_equal(ctl_cmd_find(n, argv, &used), c);
	assert_int_equal(used, n);
	free(words);
}

/* Every command's help: usage line first, no line repeated (runs of CIDR CIDR ... fold). */
static void
check_cmd_help(const struct ctl_cmd *c, void *arg)
{
	char *buf = NULL, *line, *prev = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)arg;
	ctl_help_cmd(f, c);
	fclose(f);
	assert_int_equal(strncmp(buf, "usage: prefixctl ", 17), 0);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (prev != NULL && strcmp(prev, line) == 0)
			fail_msg("'%s' help repeats '%s'", c->words, line);
		prev = line;
	}
	free(buf);
}

static void
test_parse_takes_many_cidrs_for_advertise_and_refuses_past_the_cap(void **state)
{
	static char bufs[CTL_MAX_POS + 1][24];
	static char *argv[CTL_MAX_POS + 3];
	struct ctl_inv inv;
	struct err e;
	int argc = 0;

	(void)state;
	argv[argc++] = "advertise";
	for (int i = 0; i < 100; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "198.51.%d.0/24", i);
		argv[argc++] = bufs[i];
	}
	argv[argc] = NULL;
	assert_int_equal(ctl_parse(argc, argv, &inv, &e), 0);
	assert_int_equal(inv.npos, 100);
	assert_string_equal(inv.pos[99], "198.51.99.0/24");
	/* every repeated argument is still checked */
	argv[50] = "198.51.100.1/24x";
	assert_refused(ctl_parse(argc, argv, &inv, &e), &e, "198.51.100.1/24x");
	/* CTL_MAX_POS + 1 prefixes: a usage error, not an overflow */
	argc = 1;
	for (int i = 0; i <= CTL_MAX_POS; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "10.%d.%d.0/24", i / 256, i % 256);
		argv[argc++] = bufs[i];
	}
	argv[argc] = NULL;
	assert_refused(ctl_parse(argc, argv, &inv, &e), &e, "more than");
	/* a single-CIDR command still takes one */
	assert_refused(PARSE(&inv, &e, "prefix", "show", "198.51.0.0/24", "198.51.1.0/24"), &e,
	    "unexpected argument");
}

static void
test_every_command_help_starts_with_usage_and_repeats_no_line(void **state)
{
	(void)state;
	ctl_cmd_foreach(check_cmd_help, NULL);
}

static void
test_every_command_is_found_by_its_words_and_documented(void **state)
{
	(void)state;
	ctl_cmd_foreach(check_cmd_table, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reads_global_options_before_the_command),
		cmocka_unit_test(test_parse_accepts_global_options_after_the_command),
		cmocka_unit_test(test_parse_finds_two_word_commands),
		cmocka_unit_test(test_parse_refuses_unknown_command),
		cmocka_unit_test(test_parse_refuses_group_word_without_subcommand),
		cmocka_unit_test(test_parse_refuses_missing_command),
		cmocka_unit_test(test_parse_refuses_unknown_options),
		cmocka_unit_test(test_parse_refuses_option_without_value),
		cmocka_unit_test(test_parse_refuses_netmask_out_of_range_or_not_a_number),
		cmocka_unit_test(test_parse_reads_numbers_with_equals_form),
		cmocka_unit_test(test_parse_refuses_tag_not_key_equals_value),
		cmocka_unit_test(test_parse_collects_repeated_tags_in_order),
		cmocka_unit_test(test_parse_refuses_single_option_given_twice),
		cmocka_unit_test(test_parse_refuses_bad_cidr_syntax),
		cmocka_unit_test(test_parse_refuses_values_that_are_not_utf8),
		cmocka_unit_test(test_parse_leaves_non_canonical_cidr_to_the_daemon),
		cmocka_unit_test(test_parse_refuses_missing_and_extra_positionals),
		cmocka_unit_test(test_parse_refuses_missing_required_option),
		cmocka_unit_test(test_parse_refuses_family_outside_its_choices),
		cmocka_unit_test(test_parse_provision_needs_exactly_one_of_cidr_and_netmask),
		cmocka_unit_test(test_parse_provision_wants_auth_message_and_signature_together),
		cmocka_unit_test(test_parse_allocate_refuses_netmask_with_cidr),
		cmocka_unit_test(test_parse_import_wants_file_or_cidr_and_name),
		cmocka_unit_test(test_parse_reads_time_forms_as_unix_seconds),
		cmocka_unit_test(test_parse_help_skips_required_checks),
		cmocka_unit_test(test_parse_version_needs_no_command),
		cmocka_unit_test(test_parse_double_dash_ends_options),
		cmocka_unit_test(test_parse_flag_refuses_a_value),
		cmocka_unit_test(test_parse_refuses_more_options_than_it_holds),
		cmocka_unit_test(test_complete_lists_next_words_options_and_choices),
		cmocka_unit_test(test_every_command_is_found_by_its_words_and_documented),
		cmocka_unit_test(test_every_command_help_starts_with_usage_and_repeats_no_line),
		cmocka_unit_test(test_parse_takes_many_cidrs_for_advertise_and_refuses_past_the_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
