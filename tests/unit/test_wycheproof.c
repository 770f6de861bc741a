/*
 * Wycheproof RSA-PSS vectors (SHA-256, MGF1-SHA-256, salt 32; 2048/3072/4096-bit keys) through
 * authctx_verify_pss and authctx_check_key. Read from $PREFIXD_SOURCE_DIR/../shared/vectors/
 * wycheproof/ (never copied into the repository); when that folder is absent the tests say so
 * and are skipped.
 *
 * Verdicts: "valid" must verify, "invalid" must not. Documented choice for "acceptable": such a
 * vector may verify or not (Wycheproof leaves it to the implementation); it is run so that a
 * crash or sanitizer report still fails, and the count is printed. The current files hold none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "authctx.h"

/* Decodes hex into a malloc'd buffer; *n its length. */
static unsigned char *
unhex(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *b = malloc(len / 2 + 1);

	assert_non_null(b);
	assert_int_equal(len % 2, 0);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (unsigned char)v;
	}
	*n = len / 2;
	return b;
}

static const char *
vector_dir(void)
{
	static char path[1024];
	const char *src = getenv("PREFIXD_SOURCE_DIR");
	struct stat st;

	snprintf(path, sizeof(path), "%s/../shared/vectors/wycheproof", src ? src : ".");
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

/* Runs one group: its key must pass authctx_check_key, each test must give its verdict. */
static void
run_group(json_t *g, size_t *counts)
{
	size_t derlen, i;
	unsigned char *der = unhex(json_string_value(json_object_get(g, "publicKeyDer")),
	    &derlen);
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)derlen);
	json_t *t;

	assert_non_null(pk);
	assert_int_equal(authctx_check_key(pk, NULL), 0);
	json_array_foreach(json_object_get(g, "tests"), i, t) {
		const char *res = json_string_value(json_object_get(t, "result"));
		size_t ml, sl;
		unsigned char *m = unhex(json_string_value(json_object_get(t, "msg")), &ml);
		unsigned char *s = unhex(json_string_value(json_object_get(t, "sig")), &sl);
		int rc = authctx_verify_pss(pk, m, ml, s, sl, NULL);

		if (strcmp(res, "valid") == 0) {
			if (rc != 0)
				fprintf(stderr, "tcId %lld valid but refused\n",
				    (long long)json_integer_value(json_object_get(t, "tcId")));
			assert_int_equal(rc, 0);
			counts[0]++;
		} else if (strcmp(res, "invalid") == 0) {
			if (rc != -1)
				fprintf(stderr, "tcId %lld invalid but accepted\n",
				    (long long)json_integer_value(json_object_get(t, "tcId")));
			assert_int_equal(rc, -1);
			counts[1]++;
		} else
			counts[2]++;
		free(m);
		free(s);
	}
	EVP_PKEY_free(pk);
	free(der);
}

static void
run_file(const char *name)
{
	const char *d = vector_dir();
	char path[1200];
	json_error_t je;
	json_t *root, *g;
	size_t i, counts[3] = { 0 };

	if (d == NULL) {
		print_message("wycheproof: vector folder ../shared/vectors/wycheproof absent; "
		    "skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/%s", d, name);
	root = json_load_file(path, 0, &je);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "testGroups"), i, g) {
		assert_int_equal(json_integer_value(json_object_get(g, "sLen")), 32);
		assert_string_equal(json_string_value(json_object_get(g, "sha")), "SHA-256");
		assert_string_equal(json_string_value(json_object_get(g, "mgfSha")), "SHA-256");
		run_group(g, counts);
	}
	assert_int_equal(counts[0] + counts[1] + counts[2],
	    (size_t)json_integer_value(json_object_get(root, "numberOfTests")));
	print_message("%s: %zu valid passed, %zu invalid refused, %zu acceptable\n", name,
	    counts[0], counts[1], counts[2]);
	json_decref(root);
}

static void
test_wycheproof_pss_2048_verdicts(void **state)
{
	(void)state;
	run_file("rsa_pss_2048_sha256_mgf1_32_test.json");
}

static void
test_wycheproof_pss_3072_verdicts(void **state)
{
	(void)state;
	run_file("rsa_pss_3072_sha256_mgf1_32_test.json");
}

static void
test_wycheproof_pss_4096_verdicts(void **state)
{
	(void)state;
	run_file("rsa_pss_4096_sha256_mgf1_32_test.json");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wycheproof_pss_2048_verdicts),
		cmocka_unit_test(test_wycheproof_pss_3072_verdicts),
		cmocka_unit_test(test_wycheproof_pss_4096_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
