/*
 * Unit tests for authctx: the whole proof check, with keys and certificates generated at run
 * time by the openssl CLI and signatures made with exactly SPEC §4's command. Each failure case
 * of issue 6 has its own test asserting its own code (mapping in authctx.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "authctx.h"

#define OWNER "example-net"
#define V4 "192.0.2.0/24"

static char dir[64];
static time_t now;

/* Runs a shell command; fails the test run if it fails. */
static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		abort();
	}
}

/* Reads a whole small file into a static-lifetime malloc'd string. */
static char *
slurp(const char *name)
{
	char path[256], *buf = calloc(1, 65536);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

/* Signs msg with key: printf_fmt formats the message, tail holds the dgst options;
 * standard base64 output. */
static char *
sign_with(const char *key, const char *printf_fmt, const char *tail, const char *msg)
{
	setenv("AUTH_MSG", msg, 1);
	sh("printf '%s' \"$AUTH_MSG\" | openssl dgst -sha256 %s -sign %s/%s | "
	    "openssl base64 -A > %s/sig.txt", printf_fmt, tail, dir, key, dir);
	return slurp("sig.txt");
}

/* SPEC §4's exact command. */
static char *
sign_spec(const char *key, const char *msg)
{
	setenv("AUTH_MSG", msg, 1);
	sh("cd %s && printf %%s \"$AUTH_MSG\" | openssl dgst -sha256 -sigopt "
	    "rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign %s | openssl base64 -A | "
	    "tr -- '+=/' '-_~' > sig.txt", dir, key);
	return slurp("sig.txt");
}

static void
make_key_cert(const char *name, const char *genopts, int days)
{
	sh("cd %s && openssl genpkey -quiet -algorithm RSA %s -out %s.key 2>/dev/null && "
	    "openssl req -x509 -new -key %s.key -subj /CN=%s -days %d -out %s.crt "
	    "2>/dev/null", dir, genopts, name, name, name, days, name);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/authctx-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	make_key_cert("good", "-pkeyopt rsa_keygen_bits:2048", 365);
	make_key_cert("other", "-pkeyopt rsa_keygen_bits:2048", 365);
	make_key_cert("weak", "-pkeyopt rsa_keygen_bits:1024", 365);
	make_key_cert("e3", "-pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3", 365);
	make_key_cert("short", "-pkeyopt rsa_keygen_bits:2048", 1);
	sh("cd %s && openssl req -x509 -new -key short.key -subj /CN=renewed -days 365 "
	    "-out renewed.crt 2>/dev/null", dir);
	sh("cd %s && openssl req -new -key good.key -subj /CN=leaf -out leaf.csr 2>/dev/null && "
	    "openssl x509 -req -in leaf.csr -CA other.crt -CAkey other.key -CAcreateserial "
	    "-days 30 -out casigned.crt 2>/dev/null", dir);
	sh("cd %s && openssl req -x509 -new -key good.key -subj /CN=ku -days 30 -addext "
	    "keyUsage=critical,digitalSignature -out ku.crt 2>/dev/null", dir);
	now = time(NULL);   /* after the certificates: their notBefore is when they were made */
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", dir);
	return 0;
}

static void
conf(struct authctx_conf *c)
{
	authctx_conf_init(c);
	snprintf(c->owner_id, sizeof(c->owner_id), OWNER);
}

/* YYYYMMDD of now + days, UTC. */
static const char *
date(long days)
{
	static char buf[4][16];
	static int k;
	time_t t = now + days * 86400;
	struct tm tm;

	k = (k + 1) % 4;
	gmtime_r(&t, &tm);
	strftime(buf[k], sizeof(buf[k]), "%Y%m%d", &tm);
	return buf[k];
}

static const char *
msg_for(const char *issuer, const char *owner, const char *cidr, const char *d)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "1|%s|%s|%s|%s|SHA256|RSAPSS", issuer, owner, cidr, d);
	return buf;
}

/* An RDAP record for range cidr with the certificate on one line (spaces for newlines). */
static char *
record_with(const char *cidr_addr, int len, const char *certname)
{
	char *doc = malloc(70000), *pem = certname ? slurp(certname) : strdup("");

	for (char *p = pem; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(doc, 70000, "{\"objectClassName\":\"ip network\",\"cidr0_cidrs\":[{\"%s\":"
	    "\"%s\",\"length\":%d}],\"remarks\":[{\"title\":\"proof\",\"description\":[\"%s\"]}]}",
	    strchr(cidr_addr, ':') ? "v6prefix" : "v4prefix", cidr_addr, len, pem);
	free(pem);
	return doc;
}

/* Verifies msg/sig for prefix against a record carrying `cert`, at time t. */
static struct authctx_result *
run(const char *prefix, const char *msg, const char *sig, const char *doc, time_t t)
{
	struct authctx_conf c;
	struct authctx_result *r = authctx_result_new();

	conf(&c);
	authctx_verify_doc(&c, prefix, msg, sig, doc, strlen(doc), "test", t, r);
	return r;
}

static void
expect(const char *prefix, const char *msg, const char *sig, const char *cert,
    const char *code)
{
	char *doc = record_with("192.0.2.0", 24, cert);
	struct authctx_result *r = run(prefix, msg, sig, doc, now);

	if (code == NULL) {
		if (!r->ok)
			fprintf(stderr, "unexpected %s: %s\n", r->err.code, r->err.msg);
		assert_true(r->ok);
		assert_null(r->err.code);
	} else {
		assert_false(r->ok);
		assert_non_null(r->err.code);
		if (strcmp(r->err.code, code) != 0)
			fprintf(stderr, "got %s: %s\n", r->err.code, r->err.msg);
		assert_string_equal(r->err.code, code);
	}
	authctx_result_free(r);
	free(doc);
}

static void
test_good_proof_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);
	char *doc = record_with("192.0.2.0", 24, "good.crt");
	struct authctx_result *r = run(V4, m, sig, doc, now);

	(void)state;
	assert_true(r->ok);
	assert_int_equal(strlen(r->msg_sha256), 64);
	assert_int_equal(strlen(r->cert_sha256), 64);
	assert_non_null(r->rdap_doc);
	assert_string_equal(r->rdap_doc, doc);
	assert_true(r->nchecks >= 8);
	authctx_result_free(r);
	free(doc);
	free(sig);
}

static void
test_good_proof_in_standard_base64_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s", "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:-1", m);

	(void)state;
	expect(V4, m, sig, "good.crt", NULL);
	free(sig);
}

static void
test_good_proof_with_pem_file_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(1));
	char *sig = sign_spec("good.key", m), *pem = slurp("good.crt");
	const char *pems[] = { pem };
	struct authctx_conf c;
	struct authctx_result *r = authctx_result_new();

	(void)state;
	conf(&c);
	assert_int_equal(authctx_verify_pems(&c, V4, m, sig, pems, 1, now, r), 0);
	assert_true(r->ok);
	authctx_result_free(r);
	free(pem);
	free(sig);
}

static void
test_ipv6_proof_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, "2001:db8:100::/48", date(30));
	char *sig = sign_spec("good.key", m);
	char *doc = record_with("2001:db8::", 32, "good.crt");
	struct authctx_result *r = run("2001:db8:100::/48", m, sig, doc, now);

	(void)state;
	assert_true(r->ok);
	authctx_result_free(r);
	free(doc);
	free(sig);
}

static void
test_pkcs1v15_signature_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s", "", m);

	(void)state;
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(sig);
}

static void
test_pss_salt_length_20_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s", "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:20", m);

	(void)state;
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(sig);
}

static void
test_pss_with_mgf1_sha1_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s", "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha1", m);

	(void)state;
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(sig);
}

static void
test_signature_over_message_with_newline_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s\\n", "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:-1", m);

	(void)state;
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(sig);
}

/* Signs m with the SPEC command and expects code. */
static void
signed_expect(const char *prefix, const char *m, const char *code)
{
	char *sig = sign_spec("good.key", m);

	expect(prefix, m, sig, "good.crt", code);
	free(sig);
}

static void
test_wrong_issuer_is_issuer_mismatch(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("amazon", OWNER, V4, date(30)), "auth-issuer-mismatch");
}

static void
test_wrong_owner_is_owner_mismatch(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", "someone-else", V4, date(30)),
	    "auth-owner-mismatch");
}

static void
test_superset_cidr_is_cidr_mismatch(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, "192.0.2.0/23", date(30)),
	    "auth-cidr-mismatch");
}

static void
test_subset_cidr_is_cidr_mismatch(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, "192.0.2.0/25", date(30)),
	    "auth-cidr-mismatch");
}

static void
test_noncanonical_cidr_is_malformed(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, "192.0.2.1/24", date(30)),
	    "auth-malformed");
}

static void
test_yesterdays_date_is_expired(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, V4, date(-1)), "auth-expired");
}

static void
test_todays_date_is_still_valid(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, V4, date(0)), NULL);
}

static void
test_30_february_is_malformed(void **state)
{
	char d[16];
	struct tm tm;

	(void)state;
	gmtime_r(&now, &tm);
	snprintf(d, sizeof(d), "%04d0230", tm.tm_year + 1900 + 1);
	signed_expect(V4, msg_for("prefixd", OWNER, V4, d), "auth-malformed");
}

static void
test_date_too_far_ahead_is_expired(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, V4, date(367)), "auth-expired");
}

static void
test_date_at_max_validity_passes(void **state)
{
	(void)state;
	signed_expect(V4, msg_for("prefixd", OWNER, V4, date(366)), NULL);
}

static void
test_six_fields_is_malformed(void **state)
{
	char m[600];

	(void)state;
	snprintf(m, sizeof(m), "1|prefixd|%s|%s|%s|SHA256", OWNER, V4, date(30));
	signed_expect(V4, m, "auth-malformed");
}

static void
test_eight_fields_is_malformed(void **state)
{
	char m[600];

	(void)state;
	snprintf(m, sizeof(m), "%s|extra", msg_for("prefixd", OWNER, V4, date(30)));
	signed_expect(V4, m, "auth-malformed");
}

static void
test_sha1_field_is_malformed(void **state)
{
	char m[600];

	(void)state;
	snprintf(m, sizeof(m), "1|prefixd|%s|%s|%s|SHA1|RSAPSS", OWNER, V4, date(30));
	signed_expect(V4, m, "auth-malformed");
}

static void
test_version_2_is_malformed(void **state)
{
	char m[600];

	(void)state;
	snprintf(m, sizeof(m), "2|prefixd|%s|%s|%s|SHA256|RSAPSS", OWNER, V4, date(30));
	signed_expect(V4, m, "auth-malformed");
}

static void
test_1024_bit_key_is_cert_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("weak.key", m);

	(void)state;
	expect(V4, m, sig, "weak.crt", "cert-invalid");
	free(sig);
}

static void
test_exponent_3_key_is_cert_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("e3.key", m);

	(void)state;
	expect(V4, m, sig, "e3.crt", "cert-invalid");
	free(sig);
}

/* The "short" certificate lives one day; ten days later it has expired. */
static void
test_expired_certificate_is_cert_invalid(void **state)
{
	time_t later = now + 10 * 86400;
	char m[600];
	char *sig, *doc = record_with("192.0.2.0", 24, "short.crt");
	struct authctx_result *r;

	(void)state;
	snprintf(m, sizeof(m), "%s", msg_for("prefixd", OWNER, V4, date(30)));
	sig = sign_spec("short.key", m);
	r = run(V4, m, sig, doc, later);
	assert_false(r->ok);
	assert_string_equal(r->err.code, "cert-invalid");
	authctx_result_free(r);
	free(sig);
	free(doc);
}

/* An expired certificate listed before its renewal (same key): the renewal is found. */
static void
test_expired_certificate_next_to_its_renewal_passes(void **state)
{
	time_t later = now + 10 * 86400;
	char m[600], *doc = malloc(20000), *old = slurp("short.crt"), *renewed = slurp("renewed.crt");
	char *sig;
	struct authctx_result *r;

	(void)state;
	snprintf(m, sizeof(m), "%s", msg_for("prefixd", OWNER, V4, date(30)));
	sig = sign_spec("short.key", m);
	for (char *p = old; *p; p++)
		*p = *p == '\n' ? ' ' : *p;
	for (char *p = renewed; *p; p++)
		*p = *p == '\n' ? ' ' : *p;
	snprintf(doc, 20000, "{\"startAddress\":\"192.0.2.0\",\"endAddress\":\"192.0.2.255\","
	    "\"remarks\":[{\"description\":[\"%s\"]},{\"description\":[\"%s\"]}]}", old,
	    renewed);
	r = run(V4, m, sig, doc, later);
	if (!r->ok)
		fprintf(stderr, "%s: %s\n", r->err.code, r->err.msg);
	assert_true(r->ok);
	authctx_result_free(r);
	free(sig);
	free(doc);
	free(old);
	free(renewed);
}

static void
test_certificate_signed_by_another_key_is_cert_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);

	(void)state;
	expect(V4, m, sig, "casigned.crt", "cert-invalid");
	free(sig);
}

static void
test_self_signed_certificate_with_signature_key_usage_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);

	(void)state;
	expect(V4, m, sig, "ku.crt", NULL);
	free(sig);
}

static void
test_rdap_record_without_certificate_is_cert_not_found(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);

	(void)state;
	expect(V4, m, sig, NULL, "cert-not-found");
	free(sig);
}

static void
test_rdap_record_for_other_range_is_rdap_unavailable(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);
	char *doc = record_with("198.51.100.0", 24, "good.crt");
	struct authctx_result *r = run(V4, m, sig, doc, now);

	(void)state;
	assert_false(r->ok);
	assert_string_equal(r->err.code, "rdap-unavailable");
	authctx_result_free(r);
	free(doc);
	free(sig);
}

static void
test_certificate_of_another_key_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);

	(void)state;
	expect(V4, m, sig, "other.crt", "signature-invalid");
	free(sig);
}

static void
test_flipped_signature_byte_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_with("good.key", "%s", "-sigopt rsa_padding_mode:pss "
	    "-sigopt rsa_pss_saltlen:-1", m);
	unsigned char raw[512];
	char enc[1024];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)strlen(sig));

	(void)state;
	assert_true(n >= 256);
	raw[100] ^= 0x01;
	EVP_EncodeBlock((unsigned char *)enc, raw, 256);
	expect(V4, m, enc, "good.crt", "signature-invalid");
	free(sig);
}

static void
test_mixed_base64_alphabets_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *sig = sign_spec("good.key", m);

	(void)state;
	sig[0] = '+';   /* standard alphabet character in a URL-safe signature */
	sig[1] = '-';
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(sig);
}

static void
test_trailing_whitespace_in_signature_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, V4, date(30));
	char *s = sign_spec("good.key", m), sig[1024];

	(void)state;
	snprintf(sig, sizeof(sig), "%s ", s);
	expect(V4, m, sig, "good.crt", "signature-invalid");
	free(s);
}

static void
test_trailing_whitespace_in_message_is_malformed(void **state)
{
	char m[600];

	(void)state;
	snprintf(m, sizeof(m), "%s ", msg_for("prefixd", OWNER, V4, date(30)));
	signed_expect(V4, m, "auth-malformed");
}

static void
test_failed_check_names_the_field(void **state)
{
	const char *m = msg_for("prefixd", "someone-else", V4, date(30));
	char *sig = sign_spec("good.key", m), *doc = record_with("192.0.2.0", 24, "good.crt");
	struct authctx_result *r = run(V4, m, sig, doc, now);

	(void)state;
	assert_non_null(strstr(r->err.msg, "owner"));
	assert_int_equal(r->checks[r->nchecks - 1].ok, 0);
	assert_string_equal(r->checks[r->nchecks - 1].name, "owner");
	authctx_result_free(r);
	free(doc);
	free(sig);
}

/* ---- ASN proofs (issue 21): each prefix failure above has an ASN twin ---- */

#define ASN "AS64500"

/* An RDAP autnum record for startAutnum..endAutnum with the certificate in its remarks. */
static char *
autnum_with(long first, long last, const char *certname)
{
	char *doc = malloc(70000), *pem = certname ? slurp(certname) : strdup("");

	for (char *p = pem; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(doc, 70000, "{\"objectClassName\":\"autnum\",\"handle\":\"AS%ld\","
	    "\"startAutnum\":%ld,\"endAutnum\":%ld,\"remarks\":[{\"description\":[\"%s\"]}]}",
	    first, first, last, pem);
	free(pem);
	return doc;
}

/* Verifies (subject, m, sig) against doc: passes when code is NULL, else fails with code.
 * Frees sig and doc. */
static void
doc_expect(const char *subject, const char *m, char *sig, char *doc, const char *code)
{
	struct authctx_result *r = run(subject, m, sig, doc, now);

	if (code == NULL) {
		if (!r->ok)
			fprintf(stderr, "unexpected %s: %s\n", r->err.code, r->err.msg);
		assert_true(r->ok);
		assert_int_equal(strlen(r->cert_sha256), 64);
		assert_string_equal(r->rdap_doc, doc);
	} else {
		assert_false(r->ok);
		if (r->err.code == NULL || strcmp(r->err.code, code) != 0)
			fprintf(stderr, "got %s: %s\n", r->err.code, r->err.msg);
		assert_string_equal(r->err.code, code);
	}
	authctx_result_free(r);
	free(doc);
	free(sig);
}

/* An ASN proof signed by key, checked against an autnum record of AS64500 carrying cert. */
static void
asn_expect(const char *subject, const char *m, const char *key, const char *cert,
    const char *code)
{
	doc_expect(subject, m, sign_spec(key, m), autnum_with(64500, 64500, cert), code);
}

static void
test_asn_good_proof_passes(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, ASN, date(30)), "good.key", "good.crt", NULL);
}

static void
test_asn_wrong_owner_is_owner_mismatch(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", "someone-else", ASN, date(30)), "good.key",
	    "good.crt", "auth-owner-mismatch");
}

static void
test_asn_yesterdays_date_is_expired(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, ASN, date(-1)), "good.key", "good.crt",
	    "auth-expired");
}

static void
test_asn_pkcs1v15_signature_is_signature_invalid(void **state)
{
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));

	(void)state;
	doc_expect(ASN, m, sign_with("good.key", "%s", "", m), autnum_with(64500, 64500,
	    "good.crt"), "signature-invalid");
}

static void
test_asn_other_asn_in_message_is_asn_mismatch(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, "AS64501", date(30)), "good.key", "good.crt",
	    "auth-asn-mismatch");
}

static void
test_asn_record_of_another_asn_is_rdap_unavailable(void **state)
{
	const char *m = msg_for("prefixd", OWNER, "AS64501", date(30));

	(void)state;
	doc_expect("AS64501", m, sign_spec("good.key", m), autnum_with(64500, 64500, "good.crt"),
	    "rdap-unavailable");
}

static void
test_asn_missing_record_is_rdap_unavailable(void **state)
{
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));
	char *sig = sign_spec("good.key", m);
	struct authctx_conf c;
	struct authctx_result *r = authctx_result_new();

	(void)state;
	conf(&c);
	snprintf(c.rdap_dir, sizeof(c.rdap_dir), "%s", dir);
	assert_int_equal(authctx_verify_blocking(&c, ASN, m, sig, now, r), -1);
	assert_string_equal(r->err.code, "rdap-unavailable");
	assert_non_null(strstr(r->err.msg, "AS64500.json"));
	authctx_result_free(r);
	free(sig);
}

/* The record as rdap_dir's AS64500.json: the blocking pipeline finds and verifies it. */
static void
test_asn_record_in_rdap_dir_passes(void **state)
{
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));
	char *sig = sign_spec("good.key", m), *doc = autnum_with(64500, 64500, "good.crt");
	struct authctx_conf c;
	struct authctx_result *r = authctx_result_new();
	char path[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/AS64500.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(doc, f);
	fclose(f);
	conf(&c);
	snprintf(c.rdap_dir, sizeof(c.rdap_dir), "%s", dir);
	assert_int_equal(authctx_verify_blocking(&c, ASN, m, sig, now, r), 0);
	assert_non_null(strstr(r->rdap_source, "AS64500.json"));
	unlink(path);
	authctx_result_free(r);
	free(doc);
	free(sig);
}

static void
test_asn_1024_bit_key_is_cert_invalid(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, ASN, date(30)), "weak.key", "weak.crt",
	    "cert-invalid");
}

static void
test_asn_record_without_certificate_is_cert_not_found(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, ASN, date(30)), "good.key", NULL,
	    "cert-not-found");
}

/* Hostile ASN fields: refused as malformed before any signature or record work. */
static void
test_asn_hostile_fields_are_malformed(void **state)
{
	static const char *const bad[] = { "AS0", "AS4294967296", "AS", "ASx", "AS-1", "-1",
		"AS064500", "as64500", "AS 64500", "AS23456", "AS4294967295", "AS99999999999",
		"64500" };
	struct authctx_conf c;

	(void)state;
	conf(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { 0 };
		const char *m = msg_for("prefixd", OWNER, bad[i], date(30));
		int rc = authctx_check_message(&c, ASN, m, strlen(m), now, NULL, &e);

		if (rc != -1 || e.code == NULL || strcmp(e.code, "auth-malformed") != 0)
			fprintf(stderr, "field %s: rc %d code %s\n", bad[i], rc, e.code);
		assert_int_equal(rc, -1);
		assert_string_equal(e.code, "auth-malformed");
	}
}

/* A subject that is not an AS number is refused with asn-invalid, never fetched. */
static void
test_asn_hostile_subjects_are_asn_invalid(void **state)
{
	static const char *const bad[] = { "AS0", "AS4294967296", "AS", "ASx", "AS-1",
		"as-5" };
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct authctx_conf c;
		struct authctx_result *r = authctx_result_new();

		conf(&c);
		snprintf(c.rdap_asn_url, sizeof(c.rdap_asn_url), "http://127.0.0.1:1/autnum/{asn}");
		assert_int_equal(authctx_verify_blocking(&c, bad[i], m, "AAAA", now, r), -1);
		if (r->err.code == NULL || strcmp(r->err.code, "asn-invalid") != 0)
			fprintf(stderr, "subject %s: %s %s\n", bad[i], r->err.code, r->err.msg);
		assert_string_equal(r->err.code, "asn-invalid");
		assert_null(r->rdap_doc);
		authctx_result_free(r);
	}
}

/* An ASN message offered as the proof of a prefix: malformed, and says why. */
static void
test_asn_in_cidr_slot_of_prefix_proof_is_malformed(void **state)
{
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));

	(void)state;
	doc_expect(V4, m, sign_spec("good.key", m), record_with("192.0.2.0", 24, "good.crt"),
	    "auth-malformed");
}

static void
test_cidr_in_asn_slot_of_asn_proof_is_malformed(void **state)
{
	(void)state;
	asn_expect(ASN, msg_for("prefixd", OWNER, V4, date(30)), "good.key", "good.crt",
	    "auth-malformed");
}

/* An ip network record is not the autnum record of the ASN. */
static void
test_asn_ip_network_record_is_rdap_unavailable(void **state)
{
	const char *m = msg_for("prefixd", OWNER, ASN, date(30));

	(void)state;
	doc_expect(ASN, m, sign_spec("good.key", m), record_with("192.0.2.0", 24, "good.crt"),
	    "rdap-unavailable");
}

static void
test_asn_block_record_covers_the_asn(void **state)
{
	const char *m = msg_for("prefixd", OWNER, "AS64510", date(30));

	(void)state;
	doc_expect("AS64510", m, sign_spec("good.key", m), autnum_with(64496, 64511, "good.crt"),
	    NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_proof_passes),
		cmocka_unit_test(test_good_proof_in_standard_base64_passes),
		cmocka_unit_test(test_good_proof_with_pem_file_passes),
		cmocka_unit_test(test_ipv6_proof_passes),
		cmocka_unit_test(test_pkcs1v15_signature_is_signature_invalid),
		cmocka_unit_test(test_pss_salt_length_20_is_signature_invalid),
		cmocka_unit_test(test_pss_with_mgf1_sha1_is_signature_invalid),
		cmocka_unit_test(test_signature_over_message_with_newline_is_signature_invalid),
		cmocka_unit_test(test_wrong_issuer_is_issuer_mismatch),
		cmocka_unit_test(test_wrong_owner_is_owner_mismatch),
		cmocka_unit_test(test_superset_cidr_is_cidr_mismatch),
		cmocka_unit_test(test_subset_cidr_is_cidr_mismatch),
		cmocka_unit_test(test_noncanonical_cidr_is_malformed),
		cmocka_unit_test(test_yesterdays_date_is_expired),
		cmocka_unit_test(test_todays_date_is_still_valid),
		cmocka_unit_test(test_30_february_is_malformed),
		cmocka_unit_test(test_date_too_far_ahead_is_expired),
		cmocka_unit_test(test_date_at_max_validity_passes),
		cmocka_unit_test(test_six_fields_is_malformed),
		cmocka_unit_test(test_eight_fields_is_malformed),
		cmocka_unit_test(test_sha1_field_is_malformed),
		cmocka_unit_test(test_version_2_is_malformed),
		cmocka_unit_test(test_1024_bit_key_is_cert_invalid),
		cmocka_unit_test(test_exponent_3_key_is_cert_invalid),
		cmocka_unit_test(test_expired_certificate_is_cert_invalid),
		cmocka_unit_test(test_expired_certificate_next_to_its_renewal_passes),
		cmocka_unit_test(test_certificate_signed_by_another_key_is_cert_invalid),
		cmocka_unit_test(test_self_signed_certificate_with_signature_key_usage_passes),
		cmocka_unit_test(test_rdap_record_without_certificate_is_cert_not_found),
		cmocka_unit_test(test_rdap_record_for_other_range_is_rdap_unavailable),
		cmocka_unit_test(test_certificate_of_another_key_is_signature_invalid),
		cmocka_unit_test(test_flipped_signature_byte_is_signature_invalid),
		cmocka_unit_test(test_mixed_base64_alphabets_is_signature_invalid),
		cmocka_unit_test(test_trailing_whitespace_in_signature_is_signature_invalid),
		cmocka_unit_test(test_trailing_whitespace_in_message_is_malformed),
		cmocka_unit_test(test_failed_check_names_the_field),
		cmocka_unit_test(test_asn_good_proof_passes),
		cmocka_unit_test(test_asn_wrong_owner_is_owner_mismatch),
		cmocka_unit_test(test_asn_yesterdays_date_is_expired),
		cmocka_unit_test(test_asn_pkcs1v15_signature_is_signature_invalid),
		cmocka_unit_test(test_asn_other_asn_in_message_is_asn_mismatch),
		cmocka_unit_test(test_asn_record_of_another_asn_is_rdap_unavailable),
		cmocka_unit_test(test_asn_missing_record_is_rdap_unavailable),
		cmocka_unit_test(test_asn_record_in_rdap_dir_passes),
		cmocka_unit_test(test_asn_1024_bit_key_is_cert_invalid),
		cmocka_unit_test(test_asn_record_without_certificate_is_cert_not_found),
		cmocka_unit_test(test_asn_hostile_fields_are_malformed),
		cmocka_unit_test(test_asn_hostile_subjects_are_asn_invalid),
		cmocka_unit_test(test_asn_in_cidr_slot_of_prefix_proof_is_malformed),
		cmocka_unit_test(test_cidr_in_asn_slot_of_asn_proof_is_malformed),
		cmocka_unit_test(test_asn_ip_network_record_is_rdap_unavailable),
		cmocka_unit_test(test_asn_block_record_covers_the_asn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
