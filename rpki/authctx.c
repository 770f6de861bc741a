/*
 * authctx — authorization-context verification (SPEC §4). The contract, the failure codes and
 * the choices made are in authctx.h. This file has three parts: the report helpers (shared
 * with authctx_parse.c through authctx_private.h), the signature side (key checks, RSA-PSS,
 * certificates, evidence, and the pipelines that chain the message checks, the RDAP record and
 * the certificates), and the asynchronous runner that puts the blocking pipeline on a worker
 * thread for the loop. The message parser and the strict base64 decoder are in
 * authctx_parse.c.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ev.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "authctx.h"
#include "authctx_private.h"
#include "asnum.h"
#include "hex.h"
#include "log.h"
#include "rdap.h"

/* ---- report ---- */

void
authctx_conf_init(struct authctx_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->issuer, sizeof(c->issuer), "prefixd");
	c->max_validity_days = 366;
	c->rdap_timeout_ms = 10000;
	c->rdap_connect_timeout_ms = 5000;
}

struct authctx_result *
authctx_result_new(void)
{
	return calloc(1, sizeof(struct authctx_result));
}

void
authctx_result_free(struct authctx_result *r)
{
	if (r == NULL)
		return;
	free(r->rdap_doc);
	free(r);
}

/* Appends one check line to r (if any room and r is not NULL). */
void
authctx_report(struct authctx_result *r, const char *name, int ok, const char *fmt, ...)
{
	va_list ap;
	struct authctx_check *ck;

	if (r == NULL || r->nchecks >= AUTHCTX_MAX_CHECKS)
		return;
	ck = &r->checks[r->nchecks++];
	ck->name = name;
	ck->ok = ok;
	va_start(ap, fmt);
	vsnprintf(ck->detail, sizeof(ck->detail), fmt, ap);
	va_end(ap);
}

/* Records a failure both as a check line and in e; returns -1. */
int
authctx_fail(struct authctx_result *r, struct err *e, const char *check, const char *code,
    const char *msg)
{
	authctx_report(r, check, 0, "%s", msg);
	return err_set(e, code, "%s", msg);
}

/* ---- signature ---- */

int
authctx_check_key(EVP_PKEY *pkey, struct err *e)
{
	BIGNUM *bn = NULL;
	int bits, ok;

	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return err_set(e, "cert-invalid", "certificate: key is not RSA");
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < AUTHCTX_MIN_BITS || bits > AUTHCTX_MAX_BITS)
		return err_set(e, "cert-invalid", "certificate: RSA key of %d bits, %d..%d "
		    "required", bits, AUTHCTX_MIN_BITS, AUTHCTX_MAX_BITS);
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &bn) != 1)
		return err_set(e, "cert-invalid", "certificate: RSA exponent unreadable");
	ok = BN_is_word(bn, 65537);
	BN_free(bn);
	if (!ok)
		return err_set(e, "cert-invalid", "certificate: RSA exponent is not 65537");
	return 0;
}

int
authctx_verify_pss(EVP_PKEY *pkey, const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen, struct err *e)
{
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -1;

	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return err_set(e, "signature-invalid", "signature: key is not RSA");
	if ((int)siglen != EVP_PKEY_get_size(pkey))
		return err_set(e, "signature-invalid", "signature: %zu bytes, the key needs %d",
		    siglen, EVP_PKEY_get_size(pkey));
	if ((md = EVP_MD_CTX_new()) == NULL)
		fatalx("out of memory");
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, AUTHCTX_SALT_LEN) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (rc == -1)
		return err_set(e, "signature-invalid", "signature: does not verify as "
		    "RSA-PSS/SHA-256/MGF1-SHA-256/salt 32 over the message");
	return 0;
}

/* What happened to one candidate certificate. */
enum cand { CAND_UNUSABLE, CAND_NO_MATCH, CAND_EXPIRED, CAND_OK };

/* Tries one PEM candidate: parse, self-signed, key, signature, validity dates. */
static enum cand
try_candidate(const char *pem, size_t idx, const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen, time_t now, struct authctx_result *r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
	unsigned char fp[EVP_MAX_MD_SIZE];
	unsigned int fplen = 0;
	enum cand res = CAND_UNUSABLE;
	struct err ce = { 0 };

	BIO_free(bio);
	if (x == NULL || pk == NULL)
		authctx_report(r, "certificate", 0, "candidate %zu: not a parsable X.509 PEM",
		    idx);
	else if (authctx_check_key(pk, &ce) == -1)
		authctx_report(r, "certificate", 0, "candidate %zu: %s", idx, ce.msg);
	else if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0 ||
	    X509_verify(x, pk) != 1)     /* self-signed; key usage is not the point here */
		authctx_report(r, "certificate", 0, "candidate %zu: not self-signed", idx);
	else if (authctx_verify_pss(pk, msg, msglen, sig, siglen, &ce) == -1) {
		authctx_report(r, "signature", 0, "candidate %zu: %s", idx, ce.msg);
		res = CAND_NO_MATCH;
	} else {
		X509_digest(x, EVP_sha256(), fp, &fplen);
		hex_encode(fp, fplen, r->cert_sha256);
		authctx_report(r, "signature", 1, "candidate %zu: verifies (cert sha256 %s)", idx,
		    r->cert_sha256);
		if (X509_cmp_time(X509_get0_notBefore(x), &now) >= 0 ||
		    X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
			authctx_report(r, "validity", 0,
			    "candidate %zu: outside its validity dates", idx);
			res = CAND_EXPIRED;
		} else {
			authctx_report(r, "validity", 1,
			    "candidate %zu: within its validity dates", idx);
			res = CAND_OK;
		}
	}
	X509_free(x);
	ERR_clear_error();
	return res;
}

/* Hashes the message into r's evidence. */
static void
hash_message(const char *msg, size_t len, struct authctx_result *r)
{
	unsigned char d[32];
	unsigned int dl = 0;

	EVP_Digest(msg, len, d, &dl, EVP_sha256(), NULL);
	hex_encode(d, dl, r->msg_sha256);
}

/* Message and signature-encoding checks: everything that needs no certificate. */
static int
check_local(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, time_t now, unsigned char *raw, size_t *rawlen, struct authctx_result *r)
{
	struct err ce = { 0 };

	r->ok = 0;
	hash_message(msg, strlen(msg), r);
	if (authctx_check_message(c, prefix, msg, strlen(msg), now, r, &r->err) == -1)
		return -1;
	if (authctx_b64_decode(sig, strlen(sig), raw, AUTHCTX_SIG_MAX, rawlen, &ce) == -1)
		return authctx_fail(r, &r->err, "signature-encoding", ce.code, ce.msg);
	authctx_report(r, "signature-encoding", 1, "%zu bytes", *rawlen);
	return 0;
}

/* Tries every candidate; sets r's verdict. */
static int
try_all(const char *msg, const unsigned char *raw, size_t rawlen,
    const char *const *pems, size_t npem, time_t now, struct authctx_result *r)
{
	int nomatch = 0, expired = 0;

	if (npem == 0)
		return authctx_fail(r, &r->err, "certificate", "cert-not-found",
		    "certificate: no PEM certificate in the RDAP record's remarks");
	/* Every candidate is tried: a record may list an expired certificate next to its
	 * renewal for the same key. */
	for (size_t i = 0; i < npem; i++) {
		r->cert_sha256[0] = '\0';
		switch (try_candidate(pems[i], i, (const unsigned char *)msg, strlen(msg), raw,
		    rawlen, now, r)) {
		case CAND_OK:
			r->ok = 1;
			err_clear(&r->err);
			return 0;
		case CAND_EXPIRED:
			expired = 1;
			break;
		case CAND_NO_MATCH:
			nomatch = 1;
			break;
		case CAND_UNUSABLE:
			break;
		}
	}
	if (expired)
		return err_set(&r->err, "cert-invalid", "certificate: the certificate that "
		    "verifies is outside its validity dates");
	r->cert_sha256[0] = '\0';
	if (nomatch)
		return err_set(&r->err, "signature-invalid", "signature: does not verify under "
		    "any certificate of the record");
	return err_set(&r->err, "cert-invalid", "certificate: no usable certificate (%zu "
	    "candidate(s); last: %.200s)", npem, r->nchecks ? r->checks[r->nchecks - 1].detail :
	    "?");
}

int
authctx_verify_pems(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, const char *const *pems, size_t npem, time_t now,
    struct authctx_result *r)
{
	unsigned char raw[AUTHCTX_SIG_MAX];
	size_t rawlen = 0;

	if (check_local(c, prefix, msg, sig, now, raw, &rawlen, r) == -1)
		return -1;
	return try_all(msg, raw, rawlen, pems, npem, now, r);
}

/*
 * Where the record came from (evidence is shown to readers): a URL with its credentials
 * hidden, a file of auth.rdap_dir as "rdap_dir:NAME" without the directory's path.
 */
static void
keep_source(struct authctx_result *r, const char *source)
{
	const char *slash;

	if (source != NULL && strstr(source, "://") == NULL && (slash = strrchr(source, '/')) != NULL)
		snprintf(r->rdap_source, sizeof(r->rdap_source), "rdap_dir:%s", slash + 1);
	else
		rdap_redact_url(source ? source : "", r->rdap_source, sizeof(r->rdap_source));
}

/* Keeps a copy of the RDAP document: only once it is known to be the RDAP record covering
 * the prefix, so that the verifier never hands back an arbitrary fetched body. */
static void
keep_doc(struct authctx_result *r, const char *doc, size_t len)
{
	free(r->rdap_doc);
	if ((r->rdap_doc = malloc(len + 1)) == NULL)
		fatalx("out of memory");
	memcpy(r->rdap_doc, doc, len);
	r->rdap_doc[len] = '\0';
	r->rdap_len = len;
}

/* The RDAP half after the local checks passed. */
static int
verify_record(const char *prefix, const char *msg, const unsigned char *raw, size_t rawlen,
    const char *doc, size_t doclen, const char *source, time_t now, struct authctx_result *r)
{
	struct rdap_pems p = { 0 };
	struct err ce = { 0 };
	int rc;

	keep_source(r, source);
	if (rdap_record_certs(doc, doclen, prefix, &p, &ce) == -1)
		return authctx_fail(r, &r->err, "rdap", ce.code, ce.msg);
	keep_doc(r, doc, doclen);
	authctx_report(r, "rdap", 1, "record covers %s; %zu certificate(s)", prefix, p.n);
	if (p.n == 0 && p.markers > 0) {
		rdap_pems_clear(&p);
		return authctx_fail(r, &r->err, "certificate", "cert-invalid", "certificate: PEM "
		    "markers in the record's remarks but no decodable certificate");
	}
	rc = try_all(msg, raw, rawlen, (const char *const *)p.pem, p.n, now, r);
	rdap_pems_clear(&p);
	return rc;
}

int
authctx_verify_doc(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, const char *doc, size_t doclen, const char *source, time_t now,
    struct authctx_result *r)
{
	unsigned char raw[AUTHCTX_SIG_MAX];
	size_t rawlen = 0;

	if (check_local(c, prefix, msg, sig, now, raw, &rawlen, r) == -1)
		return -1;
	return verify_record(prefix, msg, raw, rawlen, doc, doclen, source, now, r);
}

/* Fetches or reads the record, per configuration. */
static int
get_record(const struct authctx_conf *c, const char *prefix, const atomic_int *cancel,
    char **doc, size_t *len, char *source, size_t srclen, struct err *e)
{
	struct rdap_fetch_opts o = { c->rdap_timeout_ms, c->rdap_connect_timeout_ms, cancel };
	int is_asn = asnum_looks_like(prefix);
	const char *url = is_asn ? c->rdap_asn_url : c->rdap_url;

	if (c->rdap_dir[0] != '\0' &&
	    (rdap_read_dir(c->rdap_dir, prefix, source, srclen, doc, len, e) == 0 ||
	    url[0] == '\0'))
		return *doc ? 0 : -1;
	if (url[0] == '\0')
		return err_set(e, "rdap-unavailable", "rdap: neither auth.%s nor "
		    "auth.rdap_dir is configured", is_asn ? "rdap_asn_url" : "rdap_url");
	if (rdap_expand_url(url, prefix, source, srclen, e) == -1)
		return -1;
	return rdap_fetch_url(source, &o, doc, len, e);
}

static int
verify_blocking(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, time_t now, const atomic_int *cancel, struct authctx_result *r)
{
	unsigned char raw[AUTHCTX_SIG_MAX];
	char source[AUTHCTX_PATH_MAX] = "";
	size_t rawlen = 0, len = 0;
	char *doc = NULL;
	struct err ce = { 0 };
	int rc;

	if (check_local(c, prefix, msg, sig, now, raw, &rawlen, r) == -1)
		return -1;
	if (get_record(c, prefix, cancel, &doc, &len, source, sizeof(source), &ce) == -1) {
		keep_source(r, source);
		free(doc);
		return authctx_fail(r, &r->err, "rdap", ce.code, ce.msg);
	}
	rc = verify_record(prefix, msg, raw, rawlen, doc, len, source, now, r);
	free(doc);
	return rc;
}

int
authctx_verify_blocking(const struct authctx_conf *c, const char *prefix, const char *msg,
    const char *sig, time_t now, struct authctx_result *r)
{
	return verify_blocking(c, prefix, msg, sig, now, NULL, r);
}

/* ---- asynchronous runner ---- */

/*
 * One verification in flight. The loop thread creates it and links it into a->jobs; the worker
 * thread only reads its inputs, fills res and sets done under a->mu; the loop thread joins the
 * worker, unlinks the job and hands res to the callback.
 */
struct authctx_job {
	struct authctx *owner;
	struct authctx_conf conf;
	char *prefix, *msg, *sig;
	time_t now;
	authctx_done_cb cb;
	void *arg;
	struct authctx_result *res;
	pthread_t thread;
	int done;                   /* set by the worker under mu */
	int joined;                 /* loop thread only */
	struct authctx_job *next;
};

struct authctx {
	struct ev_loop *loop;
	ev_async wake;
	struct authctx_conf conf;
	pthread_mutex_t mu;
	struct authctx_job *jobs;
	size_t njobs;
	atomic_int cancel;
};

static void
job_free(struct authctx_job *j)
{
	if (j == NULL)
		return;
	free(j->prefix);
	free(j->msg);
	free(j->sig);
	authctx_result_free(j->res);
	free(j);
}

static void *
job_run(void *arg)
{
	struct authctx_job *j = arg;
	struct authctx *a = j->owner;

	verify_blocking(&j->conf, j->prefix, j->msg, j->sig, j->now, &a->cancel, j->res);
	pthread_mutex_lock(&a->mu);
	j->done = 1;
	pthread_mutex_unlock(&a->mu);
	ev_async_send(a->loop, &a->wake);
	return NULL;
}

/* Loop side: collects finished jobs under the lock, then reports them without it. */
static void
job_reap(struct ev_loop *loop, ev_async *w, int revents)
{
	struct authctx *a = w->data;
	struct authctx_job *done = NULL, **pp, *j;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&a->mu);
	for (pp = &a->jobs; (j = *pp) != NULL;) {
		if (j->done) {
			*pp = j->next;
			j->next = done;
			done = j;
			a->njobs--;
		} else
			pp = &j->next;
	}
	if (done != NULL && a->njobs == 0)
		ev_unref(a->loop);
	pthread_mutex_unlock(&a->mu);
	while ((j = done) != NULL) {
		struct authctx_result *res = j->res;

		done = j->next;
		if (!j->joined)
			pthread_join(j->thread, NULL);
		j->res = NULL;
		j->cb(res, j->arg);
		job_free(j);
	}
}

struct authctx *
authctx_new(struct ev_loop *loop, const struct authctx_conf *conf, struct err *e)
{
	static int curl_ready;
	struct authctx *a;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(e, "internal", "libcurl initialisation failed");
			return NULL;
		}
		curl_ready = 1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatalx("out of memory");
	a->loop = loop;
	a->conf = *conf;
	pthread_mutex_init(&a->mu, NULL);
	ev_async_init(&a->wake, job_reap);
	a->wake.data = a;
	ev_async_start(loop, &a->wake);
	ev_unref(loop);     /* an idle verifier does not keep the loop alive */
	return a;
}

void
authctx_reconfigure(struct authctx *a, const struct authctx_conf *conf)
{
	a->conf = *conf;
}

size_t
authctx_pending(const struct authctx *a)
{
	return a->njobs;
}

int
authctx_verify_start(struct authctx *a, const char *prefix, const char *msg,
    const char *sig, time_t now, authctx_done_cb cb, void *arg, struct err *e)
{
	return authctx_verify_start_with(a, &a->conf, prefix, msg, sig, now, cb, arg, e);
}

int
authctx_verify_start_with(struct authctx *a, const struct authctx_conf *conf,
    const char *prefix, const char *msg, const char *sig, time_t now, authctx_done_cb cb,
    void *arg, struct err *e)
{
	struct authctx_job *j;
	sigset_t all, old;
	int rc;

	if (a->njobs >= AUTHCTX_MAX_JOBS)
		return err_set(e, "busy", "%d verifications already running",
		    AUTHCTX_MAX_JOBS);
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->res = authctx_result_new()) == NULL ||
	    (j->prefix = strdup(prefix)) == NULL || (j->msg = strdup(msg)) == NULL ||
	    (j->sig = strdup(sig)) == NULL)
		fatalx("out of memory");
	j->owner = a;
	j->conf = *conf;
	j->now = now;
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&a->mu);
	/* Workers start with every signal blocked: signals are the loop thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, job_run, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_unlock(&a->mu);
		job_free(j);
		return err_set(e, "busy", "cannot start a verification thread: %s",
		    strerror(rc));
	}
	if (a->njobs == 0)
		ev_ref(a->loop);    /* a running verification keeps the loop alive */
	j->next = a->jobs;
	a->jobs = j;
	a->njobs++;
	pthread_mutex_unlock(&a->mu);
	return 0;
}

void
authctx_drain(struct authctx *a)
{
	struct authctx_job *j;

	atomic_store(&a->cancel, 1);
	for (j = a->jobs; j != NULL; j = j->next) {   /* only the loop thread links jobs */
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	atomic_store(&a->cancel, 0);
	job_reap(a->loop, &a->wake, 0);
}

void
authctx_free(struct authctx *a)
{
	struct authctx_job *j;

	if (a == NULL)
		return;
	atomic_store(&a->cancel, 1);
	if (a->njobs == 0)
		ev_ref(a->loop);
	while ((j = a->jobs) != NULL) {
		if (!j->joined)
			pthread_join(j->thread, NULL);
		a->jobs = j->next;
		job_free(j);
	}
	ev_async_stop(a->loop, &a->wake);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
