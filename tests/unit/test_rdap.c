/*
 * Unit tests for rdap: URL template expansion, the directory layout, the coverage check and
 * PEM extraction from remarks in every shape the lab and real registries use. Fetching over
 * real HTTP is tested by tests/integration/test_rdap_http.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdap.h"

/* A fake certificate body; extraction does not parse X.509 (authctx does). */
#define BODY1 "MIIBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define BODY2 "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
#define CLEAN "-----BEGIN CERTIFICATE-----\n" BODY1 "\n" BODY2 "\n-----END CERTIFICATE-----\n"

static const char *
certs(const char *doc, const char *prefix, struct rdap_pems *p, struct err *e)
{
	if (rdap_record_certs(doc, strlen(doc), prefix, p, e) == -1)
		return e->code;
	return "ok";
}

static void
test_expand_url_puts_addr_and_len_in_path(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(rdap_expand_url("http://127.0.0.1:1/ip/{cidr}", "192.0.2.0/24", out,
	    sizeof(out), NULL), 0);
	assert_string_equal(out, "http://127.0.0.1:1/ip/192.0.2.0/24");
	assert_int_equal(rdap_expand_url("https://r/x?a={addr}&c={cidr}", "2001:db8::/32", out,
	    sizeof(out), NULL), 0);
	assert_string_equal(out, "https://r/x?a=2001:db8::&c=2001:db8::/32");
}

/* An ASN subject expands {asn} to the bare number (RDAP's /autnum/64500); {cidr} stays. */
static void
test_expand_url_puts_bare_asn_in_path(void **state)
{
	char out[256];
	struct err e = { 0 };

	(void)state;
	assert_int_equal(rdap_expand_url("http://127.0.0.1:1/autnum/{asn}", "AS64500", out,
	    sizeof(out), NULL), 0);
	assert_string_equal(out, "http://127.0.0.1:1/autnum/64500");
	assert_int_equal(rdap_expand_url("http://r/autnum/{asn}", "AS0", out, sizeof(out), &e),
	    -1);
	assert_string_equal(e.code, "asn-invalid");
}

/* An autnum record covers the ASNs of its startAutnum..endAutnum, no others. */
static void
test_autnum_record_covers_its_range_only(void **state)
{
	const char *doc = "{\"objectClassName\":\"autnum\",\"startAutnum\":64496,"
	    "\"endAutnum\":64511,\"remarks\":[]}";
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(rdap_record_certs(doc, strlen(doc), "AS64500", &p, &e), 0);
	assert_int_equal(rdap_record_certs(doc, strlen(doc), "AS64512", &p, &e), -1);
	assert_string_equal(e.code, "rdap-unavailable");
	assert_int_equal(rdap_record_certs(doc, strlen(doc), "192.0.2.0/24", &p, &e), -1);
}

static void
test_expand_url_refuses_other_schemes(void **state)
{
	char out[256];
	struct err e = { 0 };

	(void)state;
	assert_int_equal(rdap_expand_url("file:///etc/{cidr}", "192.0.2.0/24", out,
	    sizeof(out), &e), -1);
	assert_string_equal(e.code, "rdap-unavailable");
	assert_int_equal(rdap_expand_url("ftp://x/{cidr}", "192.0.2.0/24", out, sizeof(out),
	    NULL), -1);
}

static void
test_expand_url_refuses_overflow(void **state)
{
	char out[20];

	(void)state;
	assert_int_equal(rdap_expand_url("http://example/{cidr}", "192.0.2.0/24", out,
	    sizeof(out), NULL), -1);
}

static void
test_pem_on_many_lines_is_extracted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"-----BEGIN CERTIFICATE-----\",\"" BODY1 "\",\""
	    BODY2 "\",\"-----END CERTIFICATE-----\"]}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.pem[0], CLEAN);
	rdap_pems_clear(&p);
}

static void
test_pem_in_one_string_with_newlines_is_extracted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"-----BEGIN CERTIFICATE-----\\n" BODY1 "\\n"
	    BODY2 "\\n-----END CERTIFICATE-----\\n\"]}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.pem[0], CLEAN);
	rdap_pems_clear(&p);
}

static void
test_pem_on_one_line_with_spaces_is_extracted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":\"proof: -----BEGIN CERTIFICATE----- " BODY1 " "
	    BODY2 " -----END CERTIFICATE----- end\"}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.pem[0], CLEAN);
	rdap_pems_clear(&p);
}

static void
test_every_candidate_is_extracted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"-----BEGIN CERTIFICATE----- " BODY2
	    " -----END CERTIFICATE-----\"]},{\"title\":\"x\"},{\"description\":[\"x\"]},"
	    "{\"description\":[\"-----BEGIN CERTIFICATE----- " BODY1
	    " -----END CERTIFICATE-----\"]}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.markers, 2);
	rdap_pems_clear(&p);
}

static void
test_pem_garbage_is_counted_but_not_returned(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"-----BEGIN CERTIFICATE----- not*base64! "
	    "-----END CERTIFICATE-----\", \"-----BEGIN CERTIFICATE----- unterminated\"]}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 0);
	assert_int_equal(p.markers, 2);
	rdap_pems_clear(&p);
}

static void
test_unterminated_block_does_not_hide_the_next_certificate(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"-----BEGIN CERTIFICATE----- oops\","
	    "\"-----BEGIN CERTIFICATE-----\",\"" BODY1 "\",\"" BODY2 "\","
	    "\"-----END CERTIFICATE-----\"]}]}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 1);
	assert_int_equal(p.markers, 2);
	assert_string_equal(p.pem[0], CLEAN);
	rdap_pems_clear(&p);
}

static void
test_record_without_remarks_has_no_candidates(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_string_equal(certs("{\"startAddress\":\"192.0.2.0\",\"endAddress\":"
	    "\"192.0.2.255\"}", "192.0.2.0/24", &p, &e), "ok");
	assert_int_equal(p.n, 0);
	assert_int_equal(p.markers, 0);
}

static void
test_range_covering_prefix_is_accepted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"startAddress\":\"192.0.0.0\",\"endAddress\":\"192.0.3.255\"}";

	(void)state;
	assert_string_equal(certs(doc, "192.0.2.0/24", &p, &e), "ok");
	assert_string_equal(certs(doc, "192.0.0.0/22", &p, &e), "ok");
	assert_string_equal(certs(doc, "192.0.0.0/21", &p, &e), "rdap-unavailable");
}

static void
test_record_for_other_range_is_refused(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_string_equal(certs("{\"startAddress\":\"198.51.100.0\",\"endAddress\":"
	    "\"198.51.100.255\"}", "192.0.2.0/24", &p, &e), "rdap-unavailable");
	assert_non_null(strstr(e.msg, "does not cover"));
}

static void
test_record_of_other_family_is_refused(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_string_equal(certs("{\"startAddress\":\"::\",\"endAddress\":"
	    "\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"}", "192.0.2.0/24", &p, &e),
	    "rdap-unavailable");
}

static void
test_cidr0_v6_covering_prefix_is_accepted(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };
	const char *doc = "{\"cidr0_cidrs\":[{\"v4prefix\":\"10.0.0.0\",\"length\":8},"
	    "{\"v6prefix\":\"2001:db8::\",\"length\":32}]}";

	(void)state;
	assert_string_equal(certs(doc, "2001:db8:1::/48", &p, &e), "ok");
	assert_string_equal(certs(doc, "2001:db9::/48", &p, &e), "rdap-unavailable");
	assert_string_equal(certs(doc, "10.1.0.0/16", &p, &e), "ok");
}

static void
test_cidr0_with_bad_length_is_ignored(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_string_equal(certs("{\"cidr0_cidrs\":[{\"v4prefix\":\"0.0.0.0\",\"length\":-1},"
	    "{\"v4prefix\":\"0.0.0.0\",\"length\":\"0\"},{\"v4prefix\":\"0.0.0.0\",\"length\":"
	    "99}]}", "192.0.2.0/24", &p, &e), "rdap-unavailable");
}

static void
test_malformed_json_is_refused(void **state)
{
	struct rdap_pems p;
	struct err e = { 0 };

	(void)state;
	assert_string_equal(certs("{\"startAddress\":", "192.0.2.0/24", &p, &e),
	    "rdap-unavailable");
	assert_non_null(strstr(e.msg, "not JSON"));
	assert_string_equal(certs("[1,2]", "192.0.2.0/24", &p, &e), "rdap-unavailable");
	assert_string_equal(certs("", "192.0.2.0/24", &p, &e), "rdap-unavailable");
	assert_string_equal(certs("{\"a\":1,\"a\":2}", "192.0.2.0/24", &p, &e),
	    "rdap-unavailable");
}

static void
test_read_dir_finds_file_named_for_prefix(void **state)
{
	char dir[] = "/tmp/rdap-test-XXXXXX", path[512], *doc = NULL;
	size_t len = 0;
	FILE *f;
	struct err e = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/2001:db8::_32.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{}", f);
	fclose(f);
	assert_int_equal(rdap_read_dir(dir, "2001:db8::/32", path, sizeof(path), &doc, &len,
	    &e), 0);
	assert_string_equal(doc, "{}");
	assert_int_equal(len, 2);
	free(doc);
	assert_int_equal(rdap_read_dir(dir, "192.0.2.0/24", path, sizeof(path), &doc, &len,
	    &e), -1);
	assert_string_equal(e.code, "rdap-unavailable");
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_url_puts_addr_and_len_in_path),
		cmocka_unit_test(test_expand_url_refuses_other_schemes),
		cmocka_unit_test(test_expand_url_refuses_overflow),
		cmocka_unit_test(test_pem_on_many_lines_is_extracted),
		cmocka_unit_test(test_pem_in_one_string_with_newlines_is_extracted),
		cmocka_unit_test(test_pem_on_one_line_with_spaces_is_extracted),
		cmocka_unit_test(test_every_candidate_is_extracted),
		cmocka_unit_test(test_pem_garbage_is_counted_but_not_returned),
		cmocka_unit_test(test_unterminated_block_does_not_hide_the_next_certificate),
		cmocka_unit_test(test_record_without_remarks_has_no_candidates),
		cmocka_unit_test(test_range_covering_prefix_is_accepted),
		cmocka_unit_test(test_record_for_other_range_is_refused),
		cmocka_unit_test(test_record_of_other_family_is_refused),
		cmocka_unit_test(test_cidr0_v6_covering_prefix_is_accepted),
		cmocka_unit_test(test_cidr0_with_bad_length_is_ignored),
		cmocka_unit_test(test_malformed_json_is_refused),
		cmocka_unit_test(test_read_dir_finds_file_named_for_prefix),
		cmocka_unit_test(test_expand_url_puts_bare_asn_in_path),
		cmocka_unit_test(test_autnum_record_covers_its_range_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
