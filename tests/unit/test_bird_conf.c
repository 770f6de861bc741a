/*
 * Unit tests of bird_conf: the include file's exact bytes (the lab writes the same empty file),
 * deterministic rendering, the drain community, prefix validation, the route diff, and the
 * atomic write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bird_conf.h"

static const char empty_file[] =
	"# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.\n"
	"protocol static prefixd4 {\n"
	"\tipv4;\n"
	"}\n"
	"protocol static prefixd6 {\n"
	"\tipv6;\n"
	"}\n";

static char *
render(const struct bird_routeset *s)
{
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(bird_conf_render(s, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void
test_conf_renders_empty_set_as_lab_file(void **state)
{
	struct bird_routeset s = { 0 };
	(void)state;
	char *out = render(&s);
	assert_string_equal(out, empty_file);
	free(out);
}

static void
test_conf_renders_routes_sorted_into_their_protocol(void **state)
{
	struct bird_routeset s = { 0 };
	(void)state;
	assert_int_equal(bird_routeset_add(&s, "2001:db8:113::/48", false, NULL), 0);
	assert_int_equal(bird_routeset_add(&s, "203.0.113.0/24", false, NULL), 0);
	assert_int_equal(bird_routeset_add(&s, "198.51.100.0/24", true, NULL), 0);
	char *out = render(&s);
	assert_string_equal(out,
	    "# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.\n"
	    "protocol static prefixd4 {\n"
	    "\tipv4;\n"
	    "\troute 198.51.100.0/24 blackhole { bgp_community.add((65535,0)); };\n"
	    "\troute 203.0.113.0/24 blackhole;\n"
	    "}\n"
	    "protocol static prefixd6 {\n"
	    "\tipv6;\n"
	    "\troute 2001:db8:113::/48 blackhole;\n"
	    "}\n");
	free(out);
	bird_routeset_clear(&s);
}

/* Issue 21: a route announced from an associated ASN carries it as its AS path; an origin
 * change is a change of the route (the diff and the equality see it). */
static void
test_conf_renders_associated_origin_as_path_prepend(void **state)
{
	struct bird_routeset s = { 0 }, t = { 0 };
	struct bird_routediff d = { 0 };
	(void)state;
	assert_int_equal(bird_routeset_add(&s, "203.0.113.0/24", false, NULL), 0);
	assert_int_equal(bird_routeset_add(&s, "198.51.100.0/24", true, NULL), 0);
	assert_int_equal(bird_routeset_copy(&t, &s), 0);
	s.v[0].origin = 64511;
	s.v[1].origin = 64511;
	char *out = render(&s);
	assert_non_null(strstr(out, "\troute 203.0.113.0/24 blackhole { bgp_path.prepend(64511); };\n"));
	assert_non_null(strstr(out, "\troute 198.51.100.0/24 blackhole { bgp_community.add((65535,0)); "
	    "bgp_path.prepend(64511); };\n"));
	free(out);
	bird_routeset_normalize(&s);
	bird_routeset_normalize(&t);
	assert_false(bird_routeset_equal(&s, &t));
	assert_int_equal(bird_routediff_compute(&s, &t, &d), 0);
	assert_int_equal(d.change.n, 2);
	bird_routediff_clear(&d);
	bird_routeset_clear(&s);
	bird_routeset_clear(&t);
}

static void
test_conf_same_set_in_any_order_gives_same_bytes(void **state)
{
	struct bird_routeset a = { 0 }, b = { 0 };
	const char *p[] = { "10.0.0.0/8", "10.0.0.0/16", "192.0.2.0/24", "2001:db8::/32",
	    "2001:db8::/48", "203.0.113.0/24" };
	(void)state;
	for (int i = 0; i < 6; i++) {
		bird_routeset_add(&a, p[i], false, NULL);
		bird_routeset_add(&b, p[5 - i], false, NULL);
	}
	bird_routeset_add(&b, "10.0.0.0/8", false, NULL);   /* a duplicate changes nothing */
	char *ra = render(&a), *rb = render(&b);
	assert_string_equal(ra, rb);
	free(ra);
	free(rb);
	bird_routeset_clear(&a);
	bird_routeset_clear(&b);
}

static void
test_conf_refuses_prefix_with_host_bits(void **state)
{
	struct bird_routeset s = { 0 };
	struct err e = { 0 };
	(void)state;
	assert_int_equal(bird_routeset_add(&s, "203.0.113.1/24", false, &e), -1);
	assert_string_equal(e.code, "cidr-not-canonical");
	assert_int_equal(bird_routeset_add(&s, "2001:db8::1/48", false, &e), -1);
	assert_string_equal(e.code, "cidr-not-canonical");
	assert_int_equal(s.n, 0);
}

static void
test_conf_refuses_malformed_prefixes(void **state)
{
	const char *bad[] = { "", "203.0.113.0", "203.0.113.0/", "203.0.113.0/33", "/24",
	    "203.0.113.0/024", "203.0.113.0/24 ", "2001:db8::/129", "x/8", "1.2.3.4/-1",
	    "203.0.113.0/24;include \"/etc/passwd\"" };
	struct bird_routeset s = { 0 };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { 0 };
		assert_int_equal(bird_routeset_add(&s, bad[i], false, &e), -1);
		assert_string_equal(e.code, "cidr-invalid");
	}
	assert_int_equal(s.n, 0);
}

static void
test_conf_diff_lists_added_removed_and_drained(void **state)
{
	struct bird_routeset want = { 0 }, have = { 0 };
	struct bird_routediff d = { 0 };
	(void)state;
	bird_routeset_add(&want, "203.0.113.0/24", false, NULL);
	bird_routeset_add(&want, "198.51.100.0/24", true, NULL);
	bird_routeset_add(&have, "198.51.100.0/24", false, NULL);
	bird_routeset_add(&have, "192.0.2.0/24", false, NULL);
	bird_routeset_normalize(&want);
	bird_routeset_normalize(&have);
	assert_int_equal(bird_routediff_compute(&want, &have, &d), 0);
	char *s = bird_routediff_format(&d);
	assert_string_equal(s, "+203.0.113.0/24 -192.0.2.0/24 ~198.51.100.0/24(drain)");
	free(s);
	assert_false(bird_routeset_equal(&want, &have));
	bird_routediff_clear(&d);
	bird_routeset_clear(&want);
	bird_routeset_clear(&have);
}

static void
test_conf_equal_sets_have_empty_diff(void **state)
{
	struct bird_routeset a = { 0 };
	struct bird_routediff d = { 0 };
	(void)state;
	bird_routeset_add(&a, "2001:db8::/48", true, NULL);
	bird_routeset_normalize(&a);
	bird_routediff_compute(&a, &a, &d);
	assert_true(bird_routediff_empty(&d));
	assert_true(bird_routeset_equal(&a, &a));
	bird_routeset_clear(&a);
}

static void
test_conf_write_replaces_file_atomically(void **state)
{
	char dir[] = "/tmp/bird-conf-test-XXXXXX", path[128];
	struct err e = { 0 };
	struct stat st;
	char *back = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bird.include", dir);
	assert_int_equal(bird_conf_write(path, "old\n", 4, &e), 0);
	assert_int_equal(bird_conf_write(path, empty_file, strlen(empty_file), &e), 0);
	assert_int_equal(bird_conf_read(path, &back, &len, &e), 0);
	assert_string_equal(back, empty_file);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	DIR *d = opendir(dir);           /* no temp file left behind */
	int entries = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		entries += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 1);
	free(back);
	unlink(path);
	rmdir(dir);
}

static void
test_conf_write_reports_missing_directory(void **state)
{
	struct err e = { 0 };
	(void)state;
	assert_int_equal(bird_conf_write("/nonexistent-dir/bird.include", "x", 1, &e), -1);
	assert_string_equal(e.code, "io-error");
}

static void
test_conf_read_reports_missing_file_as_not_found(void **state)
{
	struct err e = { 0 };
	char *out;
	size_t len;
	(void)state;
	assert_int_equal(bird_conf_read("/nonexistent-dir/bird.include", &out, &len, &e), -1);
	assert_string_equal(e.code, "not-found");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_renders_empty_set_as_lab_file),
		cmocka_unit_test(test_conf_renders_routes_sorted_into_their_protocol),
		cmocka_unit_test(test_conf_renders_associated_origin_as_path_prepend),
		cmocka_unit_test(test_conf_same_set_in_any_order_gives_same_bytes),
		cmocka_unit_test(test_conf_refuses_prefix_with_host_bits),
		cmocka_unit_test(test_conf_refuses_malformed_prefixes),
		cmocka_unit_test(test_conf_diff_lists_added_removed_and_drained),
		cmocka_unit_test(test_conf_equal_sets_have_empty_diff),
		cmocka_unit_test(test_conf_write_replaces_file_atomically),
		cmocka_unit_test(test_conf_write_reports_missing_directory),
		cmocka_unit_test(test_conf_read_reports_missing_file_as_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
