/*
 * http_tls — the TCP listener's TLS credentials ([daemon] tls_cert, tls_key; issue 18).
 *
 * Called by prefixd.c (http_tls_check for `prefixd -n`, http_tls_load at start and on SIGHUP)
 * and by http_listen.c (the MHD options of a TLS listener, each connection's generation, the
 * collection of retired credentials from the watchdog). It owns the loaded credentials.
 *
 * libmicrohttpd runs the handshake with GnuTLS and asks for the certificate through
 * MHD_OPTION_HTTPS_CERT_CALLBACK at every handshake, so a SIGHUP that loads new files changes
 * what new connections see without touching the listener or the open connections. That
 * callback has no closure argument (gnutls_certificate_retrieve_function2), hence the
 * process-wide state below: there is one TCP listener per daemon.
 *
 * Versions: TLS 1.2 and 1.3 only (HTTP_TLS_PRIORITIES); a TLS 1.0/1.1 client fails the
 * handshake.
 *
 * What a load refuses (the error names the file): a missing or unreadable file, a key file
 * group or others may read or write, no PEM certificate or key, more than HTTP_TLS_MAX_CHAIN
 * certificates, a key that is not the certificate's, a leaf certificate that has expired or
 * is not valid yet. A refused load changes nothing.
 *
 * Life cycle of a credential set: current until the next successful load, then retired; GnuTLS
 * keeps pointers to it in the sessions that used it (and uses the key in the middle of a
 * handshake), so a retired set is freed only once every connection accepted while it was
 * current has closed (generations: each connection records the generation at its start).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "http_private.h"
#include "log.h"

#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define HTTP_TLS_MAX_CHAIN 8            /* leaf and intermediates in tls_cert */
#define HTTP_TLS_MAX_FILE (256 * 1024)  /* a PEM file larger than this is not a cert or key */

struct http_tls_cred {
	gnutls_pcert_st pcert[HTTP_TLS_MAX_CHAIN];
	unsigned npcert;
	gnutls_privkey_t key;
	unsigned gen;                   /* the generation while it was current */
	char fp[65];                    /* SHA-256 of the leaf, hex */
	char not_after[32];
	struct http_tls_cred *next;     /* retired list */
};

static struct http_tls_cred *tls_cur;
static struct http_tls_cred *tls_retired;
static unsigned tls_gen;

static void
tls_cred_free(struct http_tls_cred *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* Reads a PEM file into d (gnutls_free'd by the caller); a key must be private to its owner. */
static int
tls_read(const char *what, const char *path, int is_key, gnutls_datum_t *d, struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, "tls-invalid", "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HTTP_TLS_MAX_FILE) {
		close(fd);
		return err_set(e, "tls-invalid", "%s %s: not a regular file of at most %d bytes",
		    what, path, HTTP_TLS_MAX_FILE);
	}
	if (is_key && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		close(fd);
		return err_set(e, "tls-invalid", "%s %s: mode %04o lets group or others read it "
		    "(chmod 600)", what, path, (unsigned)(st.st_mode & 07777));
	}
	d->data = gnutls_malloc((size_t)st.st_size + 1);
	if (d->data == NULL)
		fatal("gnutls_malloc");
	n = read(fd, d->data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		gnutls_free(d->data);
		d->data = NULL;
		return err_set(e, "tls-invalid", "%s %s: short read", what, path);
	}
	d->data[n] = '\0';
	d->size = (unsigned)n;
	return 0;
}

/* The leaf's validity, fingerprint and expiry into c. */
static int
tls_check_leaf(struct http_tls_cred *c, const char *cert, struct err *e)
{
	gnutls_x509_crt_t crt;
	unsigned char fp[32];
	size_t fplen = sizeof(fp);
	time_t now = time(NULL), nb, na;
	struct tm tm;

	if (gnutls_x509_crt_init(&crt) < 0)
		fatal("gnutls_x509_crt_init");
	if (gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen) < 0) {
		gnutls_x509_crt_deinit(crt);
		return err_set(e, "tls-invalid", "tls_cert %s: unreadable certificate", cert);
	}
	nb = gnutls_x509_crt_get_activation_time(crt);
	na = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	gmtime_r(&na, &tm);
	strftime(c->not_after, sizeof(c->not_after), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (na < now)
		return err_set(e, "tls-invalid", "tls_cert %s: expired at %s", cert, c->not_after);
	if (nb > now)
		return err_set(e, "tls-invalid", "tls_cert %s: not valid before %ld (unix seconds)",
		    cert, (long)nb);
	for (size_t i = 0; i < fplen; i++)
		snprintf(c->fp + 2 * i, 3, "%02x", fp[i]);
	return 0;
}

/* True when key is the private half of the leaf's public key. */
static int
tls_key_matches(struct http_tls_cred *c)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	gnutls_pubkey_t pub;
	int ok;

	if (gnutls_pubkey_init(&pub) < 0)
		fatal("gnutls_pubkey_init");
	ok = gnutls_pubkey_import_privkey(pub, c->key, 0, 0) == 0 &&
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen) == 0 &&
	    gnutls_pubkey_get_key_id(c->pcert[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &blen) == 0 &&
	    alen == blen && memcmp(a, b, alen) == 0;
	gnutls_pubkey_deinit(pub);
	return ok;
}

/* Parses the files into a new credential set, or NULL with e naming the file. */
static struct http_tls_cred *
tls_cred_load(const char *cert, const char *key, struct err *e)
{
	gnutls_datum_t cd = { NULL, 0 }, kd = { NULL, 0 };
	struct http_tls_cred *c = calloc(1, sizeof(*c));
	int rc = -1;

	if (c == NULL)
		fatal("calloc");
	c->npcert = HTTP_TLS_MAX_CHAIN;
	if (tls_read("tls_cert", cert, 0, &cd, e) < 0 || tls_read("tls_key", key, 1, &kd, e) < 0)
		goto out;
	if (gnutls_pcert_list_import_x509_raw(c->pcert, &c->npcert, &cd, GNUTLS_X509_FMT_PEM,
	    0) < 0 || c->npcert == 0) {
		c->npcert = 0;
		err_set(e, "tls-invalid", "tls_cert %s: no PEM certificate (or more than %d)", cert,
		    HTTP_TLS_MAX_CHAIN);
		goto out;
	}
	if (gnutls_privkey_init(&c->key) < 0)
		fatal("gnutls_privkey_init");
	if (gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		err_set(e, "tls-invalid", "tls_key %s: no unencrypted PEM private key", key);
		goto out;
	}
	if (!tls_key_matches(c)) {
		err_set(e, "tls-invalid", "tls_key %s is not the key of tls_cert %s", key, cert);
		goto out;
	}
	rc = tls_check_leaf(c, cert, e);
out:
	gnutls_free(cd.data);
	if (kd.data != NULL) {
		gnutls_memset(kd.data, 0, kd.size);
		gnutls_free(kd.data);
	}
	if (rc < 0) {
		tls_cred_free(c);
		return NULL;
	}
	return c;
}

int
http_tls_check(const char *cert, const char *key, struct err *e)
{
	struct http_tls_cred *c = tls_cred_load(cert, key, e);

	tls_cred_free(c);
	return c != NULL ? 0 : -1;
}

int
http_tls_load(const char *cert, const char *key, struct err *e)
{
	struct http_tls_cred *c = tls_cred_load(cert, key, e);

	if (c == NULL)
		return -1;
	if (tls_cur != NULL) {
		tls_cur->next = tls_retired;
		tls_retired = tls_cur;
		tls_gen++;
	}
	c->gen = tls_gen;
	tls_cur = c;
	log_info("tls: serving %s (sha256 %s, expires %s)", cert, c->fp, c->not_after);
	return 0;
}

bool
http_tls_loaded(void)
{
	return tls_cur != NULL;
}

void
http_tls_free(void)
{
	struct http_tls_cred *c;

	while ((c = tls_retired) != NULL) {
		tls_retired = c->next;
		tls_cred_free(c);
	}
	tls_cred_free(tls_cur);
	tls_cur = NULL;
}

/* GnuTLS asks for the server's certificate (every handshake): the current set. */
static int
tls_cert_cb(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
    unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	(void)s;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (tls_cur == NULL)
		return -1;
	*pcert = tls_cur->pcert;
	*pcert_length = tls_cur->npcert;
	*privkey = tls_cur->key;
	return 0;
}

const struct MHD_OptionItem *
http_tls_options(void)
{
	static struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, NULL },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};

	opts[0].ptr_value = (void *)tls_cert_cb;
	return opts;
}

unsigned
http_tls_generation(void)
{
	return tls_gen;
}

void
http_tls_collect(const struct http *h)
{
	unsigned oldest = UINT_MAX;
	struct http_tls_cred **pp = &tls_retired, *c;

	for (const struct http_conn *hc = h->conns; hc != NULL; hc = hc->next)
		if (hc->lis->tls && hc->tls_gen < oldest)
			oldest = hc->tls_gen;
	while ((c = *pp) != NULL) {
		if (c->gen < oldest) {
			*pp = c->next;
			tls_cred_free(c);
		} else {
			pp = &c->next;
		}
	}
}
