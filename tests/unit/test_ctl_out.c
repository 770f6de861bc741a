/*
 * Unit tests for prefixctl's output (ctl_out.c), request paths (ctl_http.c) and import files
 * (ctl_import.c): aligned tables, cell rendering of every JSON type, hostile reply text,
 * refusal lines, percent-encoding, and CSV/JSON resource lists good and bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl.h"

/* What ctl_out_table prints, as a string. */
static char *
capture_table(json_t *rows, const struct ctl_col *cols)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_out_table(f, rows, cols);
	fclose(f);
	return buf;
}

static json_t *
load(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(j);
	return j;
}

static void
test_table_aligns_columns_to_the_widest_cell(void **state)
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name" }, { "CIDR", "cidr" }, { "X", "x" }, { NULL, NULL },
	};
	json_t *j = load("{\"pools\":[{\"name\":\"top\",\"cidr\":\"10.0.0.0/16\",\"x\":1},"
	    "{\"name\":\"a-long-name\",\"cidr\":\"10.1.0.0/24\",\"x\":2}]}");
	char *s = capture_table(j, cols);

	(void)state;
	assert_string_equal(s,
	    "NAME         CIDR         X\n"
	    "top          10.0.0.0/16  1\n"
	    "a-long-name  10.1.0.0/24  2\n");
	free(s);
	json_decref(j);
}

static void
test_table_shows_a_dash_for_missing_and_null_members(void **state)
{
	static const struct ctl_col cols[] = {
		{ "A", "a" }, { "B", "b" }, { "C", "u.c" }, { NULL, NULL },
	};
	json_t *j = load("[{\"a\":null,\"u\":{\"c\":\"/20\"}}]");
	char *s = capture_table(j, cols);

	(void)state;
	assert_string_equal(s, "A  B  C\n-  -  /20\n");
	free(s);
	json_decref(j);
}

static void
test_cell_renders_tags_lists_numbers_and_booleans(void **state)
{
	char buf[128];
	json_t *j;

	(void)state;
	j = load("{\"Environment\":\"lab\",\"Team\":\"net\"}");
	ctl_out_cell(j, buf, sizeof(buf));
	assert_string_equal(buf, "Environment=lab,Team=net");
	json_decref(j);
	j = load("[{\"cidr\":\"10.0.0.0/24\",\"pool\":\"x\"},{\"cidr\":\"10.0.1.0/24\"}]");
	ctl_out_cell(j, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/24,10.0.1.0/24");
	json_decref(j);
	j = load("12.5");
	ctl_out_cell(j, buf, sizeof(buf));
	assert_string_equal(buf, "12.50");
	json_decref(j);
	ctl_out_cell(json_true(), buf, sizeof(buf));
	assert_string_equal(buf, "yes");
	ctl_out_cell(json_null(), buf, sizeof(buf));
	assert_string_equal(buf, "-");
	j = load("[]");
	ctl_out_cell(j, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	json_decref(j);
}

static void
test_cell_shows_control_characters_and_truncates_between_escapes(void **state)
{
	char buf[12];
	json_t *j = json_string("a\x1b[2Jb\nc");

	(void)state;
	ctl_out_cell(j, buf, sizeof(buf));
	assert_string_equal(buf, "a\\u001b[2Jb");    /* "\\u000a" does not fit: cut before it */
	json_decref(j);
}

/* Issue 15 finding 8: C1 controls (UTF-8 CSI/OSC/ST), bidi overrides and isolates, zero-width
 * and line-separator characters and broken UTF-8 are shown as code points, never passed on;
 * other non-ASCII text is kept. */
static void
test_text_shows_c1_bidi_and_broken_utf8(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(ctl_out_text("x\xc2\x9b" "2Jy", buf, sizeof(buf)), "x\\u009b2Jy");
	assert_string_equal(ctl_out_text("\xc2\x9d" "0;t\xc2\x9c", buf, sizeof(buf)),
	    "\\u009d0;t\\u009c");
	assert_string_equal(ctl_out_text("abc\xe2\x80\xae" "fdp.exe", buf, sizeof(buf)),
	    "abc\\u202efdp.exe");
	assert_string_equal(ctl_out_text("\xe2\x81\xa6" "a\xe2\x81\xa9\xe2\x80\x8b", buf,
	    sizeof(buf)), "\\u2066a\\u2069\\u200b");
	assert_string_equal(ctl_out_text("l\xe2\x80\xa8m\x9b\xff", buf, sizeof(buf)),
	    "l\\u2028m\\x9b\\xff");
	assert_string_equal(ctl_out_text("Zürich \xe2\x82\xac \xf0\x9f\x98\x80", buf,
	    sizeof(buf)), "Zürich \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(ctl_out_text("\xe0\x80\xaf\xed\xa0\x80", buf, sizeof(buf)),
	    "\\xe0\\x80\\xaf\\xed\\xa0\\x80");       /* overlong, surrogate */
	assert_string_equal(ctl_out_text(NULL, buf, sizeof(buf)), "-");
}

static void
test_cell_survives_deep_nesting(void **state)
{
	char buf[256];
	json_t *j = json_array(), *cur = j;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	ctl_out_cell(j, buf, sizeof(buf));
	assert_non_null(strstr(buf, "..."));
	json_decref(j);
}

static void
test_object_prints_keys_aligned_and_nested_objects_indented(void **state)
{
	json_t *j = load("{\"id\":\"7\",\"cidr\":\"10.0.0.0/24\","
	    "\"utilization\":{\"alarm\":false}}");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	ctl_out_object(f, j);
	fclose(f);
	assert_string_equal(buf,
	    "id:           7\n"
	    "cidr:         10.0.0.0/24\n"
	    "utilization:\n"
	    "  alarm:  no\n");
	free(buf);
	json_decref(j);
}

static void
test_object_truncates_very_long_keys_and_values(void **state)
{
	char key[3000];
	json_t *j = json_object();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	json_object_set_new(j, key, json_string(key));
	ctl_out_object(f, j);
	fclose(f);
	assert_true(len > 1000 && len < 2200);
	assert_non_null(strstr(buf, ":  kkk"));
	free(buf);
	json_decref(j);
}

static char *
capture_refusal(long status, const char *body)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_out_refusal(f, status, body);
	fclose(f);
	return buf;
}

static void
test_refusal_prints_code_and_message_or_bare_status(void **state)
{
	char *s;

	(void)state;
	s = capture_refusal(409, "{\"error\":{\"code\":\"overlap\",\"message\":"
	    "\"10.0.0.0/24 overlaps 10.0.0.0/16 in pool top\"}}");
	assert_string_equal(s, "prefixctl: overlap: 10.0.0.0/24 overlaps 10.0.0.0/16 in pool top\n");
	free(s);
	s = capture_refusal(502, "<html>bad gateway</html>");
	assert_string_equal(s, "prefixctl: HTTP 502: <html>bad gateway</html>\n");
	free(s);
	s = capture_refusal(500, NULL);
	assert_string_equal(s, "prefixctl: HTTP 500\n");
	free(s);
}

static void
test_path_encodes_segments_and_queries(void **state)
{
	struct ctl_path p;

	(void)state;
	ctl_path_init(&p, "/v1");
	assert_int_equal(ctl_path_add(&p, "pools"), 0);
	assert_int_equal(ctl_path_add(&p, "a b/c?"), 0);
	assert_int_equal(ctl_path_query(&p, "cidr", "10.0.0.0/8"), 0);
	assert_int_equal(ctl_path_query(&p, "since", NULL), 0);
	assert_int_equal(ctl_path_query(&p, "x", "&="), 0);
	assert_string_equal(p.s, "/v1/pools/a%20b%2Fc%3F?cidr=10.0.0.0%2F8&x=%26%3D");
	assert_int_equal(ctl_path_add(&p, "late"), -1);
}

static void
test_path_refuses_to_overflow(void **state)
{
	struct ctl_path p;
	char big[CTL_PATH_MAX];

	(void)state;
	memset(big, '/', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ctl_path_init(&p, "/v1");
	assert_int_equal(ctl_path_add(&p, big), -1);
	assert_true(p.len < sizeof(p.s));
}

static json_t *
import_text(const char *text, struct err *e)
{
	return ctl_import_parse(text, strlen(text), e);
}

static void
test_import_reads_csv_with_quotes_and_tags(void **state)
{
	struct err e;
	json_t *j = import_text("# site LANs\nName,CIDR,Tags\r\n"
	    "\"lan, a\",10.1.0.0/24,Environment=lab;Team=net\r\n"
	    "\n"
	    "\"say \"\"b\"\"\",2001:db8::/48,\n", &e);
	char *s;

	(void)state;
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "[{\"cidr\":\"10.1.0.0/24\",\"name\":\"lan, a\",\"tags\":"
	    "{\"Environment\":\"lab\",\"Team\":\"net\"}},"
	    "{\"cidr\":\"2001:db8::/48\",\"name\":\"say \\\"b\\\"\",\"tags\":{}}]");
	free(s);
	json_decref(j);
}

static void
test_import_refuses_bad_csv_naming_the_line(void **state)
{
	struct err e;

	(void)state;
	assert_null(import_text("cidr,name\n10.0.0.0/8,a\n10.0.0.0/33,b\n", &e));
	assert_non_null(strstr(e.msg, "CSV line 3"));
	assert_null(import_text("cidr,name\n10.0.0.0/8\n", &e));
	assert_non_null(strstr(e.msg, "CSV line 2"));
	assert_null(import_text("cidr,name,colour\n", &e));
	assert_non_null(strstr(e.msg, "unknown or repeated column 'colour'"));
	assert_null(import_text("cidr,name\n\"10.0.0.0/8,a\n", &e));
	assert_non_null(strstr(e.msg, "unterminated quote"));
	assert_null(import_text("cidr,name,tags\n10.0.0.0/8,a,novalue\n", &e));
	assert_non_null(strstr(e.msg, "not KEY=VALUE"));
	assert_null(import_text("cidr,name\n", &e));
	assert_non_null(strstr(e.msg, "no resources"));
	assert_null(import_text("", &e));
	assert_null(ctl_import_parse("cidr,name\n\0", 11, &e));
	assert_non_null(strstr(e.msg, "NUL"));
}

static void
test_import_reads_json_array_and_object(void **state)
{
	struct err e;
	json_t *j;

	(void)state;
	j = import_text("[{\"cidr\":\"10.0.0.0/8\",\"name\":\"a\",\"tags\":{\"k\":\"v\"}}]", &e);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(j, 0), "tags"), "k")), "v");
	json_decref(j);
	j = import_text(" {\"resources\":[{\"cidr\":\"10.0.0.0/8\",\"name\":\"a\"},"
	    "{\"cidr\":\"10.1.0.0/16\",\"name\":\"b\"}]}", &e);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 2);
	json_decref(j);
}

static void
test_import_refuses_bad_json_naming_the_record(void **state)
{
	struct err e;

	(void)state;
	assert_null(import_text("[{\"cidr\":\"10.0.0.0/8\",\"name\":\"a\",\"colour\":1}]", &e));
	assert_non_null(strstr(e.msg, "record 0: unknown field 'colour'"));
	assert_null(import_text("[{\"cidr\":\"10.0.0.0/8\",\"name\":\"a\"},{\"name\":\"b\"}]", &e));
	assert_non_null(strstr(e.msg, "record 1: missing cidr"));
	assert_null(import_text("[{\"cidr\":8,\"name\":\"a\"}]", &e));
	assert_non_null(strstr(e.msg, "must be strings"));
	assert_null(import_text("[{\"cidr\":\"10.0.0.0/8\",\"name\":\"a\",\"tags\":{\"k\":1}}]",
	    &e));
	assert_non_null(strstr(e.msg, "tag 'k'"));
	assert_null(import_text("{\"resources\":[],\"x\":1}", &e));
	assert_null(import_text("[{\"cidr\":\"10.0.0.0/8\",", &e));
	assert_non_null(strstr(e.msg, "JSON line"));
}

static void
test_read_file_refuses_missing_and_oversized_files(void **state)
{
	char path[] = "/tmp/test_ctl_out.XXXXXX";
	int fd = mkstemp(path);
	struct err e;
	size_t len = 0;
	char *text;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "cidr,name\n", 10), 10);
	close(fd);
	text = ctl_read_file(path, 10, &len, &e);
	assert_non_null(text);
	assert_int_equal(len, 10);
	assert_string_equal(text, "cidr,name\n");
	free(text);
	assert_null(ctl_read_file(path, 9, &len, &e));
	assert_non_null(strstr(e.msg, "larger than 9 bytes"));
	unlink(path);
	assert_null(ctl_read_file(path, 10, &len, &e));
	assert_non_null(strstr(e.msg, "cannot open"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_aligns_columns_to_the_widest_cell),
		cmocka_unit_test(test_table_shows_a_dash_for_missing_and_null_members),
		cmocka_unit_test(test_cell_renders_tags_lists_numbers_and_booleans),
		cmocka_unit_test(test_cell_shows_control_characters_and_truncates_between_escapes),
		cmocka_unit_test(test_text_shows_c1_bidi_and_broken_utf8),
		cmocka_unit_test(test_cell_survives_deep_nesting),
		cmocka_unit_test(test_object_prints_keys_aligned_and_nested_objects_indented),
		cmocka_unit_test(test_object_truncates_very_long_keys_and_values),
		cmocka_unit_test(test_refusal_prints_code_and_message_or_bare_status),
		cmocka_unit_test(test_path_encodes_segments_and_queries),
		cmocka_unit_test(test_path_refuses_to_overflow),
		cmocka_unit_test(test_import_reads_csv_with_quotes_and_tags),
		cmocka_unit_test(test_import_refuses_bad_csv_naming_the_line),
		cmocka_unit_test(test_import_reads_json_array_and_object),
		cmocka_unit_test(test_import_refuses_bad_json_naming_the_record),
		cmocka_unit_test(test_read_file_refuses_missing_and_oversized_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
