/*
 * rdap — fetching or reading an RDAP IP network record, the coverage check and the PEM
 * extraction (contract in rdap.h). Called by authctx, on its worker thread for fetches.
 * Owns nothing between calls: every document and candidate is handed to the caller.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "asnum.h"
#include "buf.h"
#include "cidr.h"
#include "rdap.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END   "-----END CERTIFICATE-----"

/* ---- where the record comes from ---- */

int
rdap_expand_url(const char *tmpl, const char *prefix, char *out, size_t outlen,
    struct err *e)
{
	struct cidr p = { 0 };
	char addr[CIDR_STRLEN], full[CIDR_STRLEN], num[ASNUM_STRLEN] = "";
	uint32_t asn;
	size_t o = 0;

	if (asnum_looks_like(prefix)) {
		if (asnum_parse(prefix, 1, &asn, e) == -1)
			return -1;
		snprintf(num, sizeof(num), "%u", (unsigned)asn);
	} else if (cidr_parse(prefix, &p, NULL) == -1)
		return err_set(e, "rdap-unavailable", "rdap: prefix \"%.64s\" is not a CIDR",
		    prefix);
	if (strncasecmp(tmpl, "http://", 7) != 0 && strncasecmp(tmpl, "https://", 8) != 0)
		return err_set(e, "rdap-unavailable", "rdap: auth.rdap_url must be http:// or "
		    "https://");
	if (num[0] == '\0') {
		cidr_format_addr(&p, addr, sizeof(addr));
		cidr_format(&p, full, sizeof(full));
	}
	for (const char *s = tmpl; *s != '\0';) {
		const char *ins = NULL;
		size_t skip = 1, n;

		if (num[0] != '\0' && strncmp(s, "{asn}", 5) == 0)
			ins = num, skip = 5;
		else if (num[0] == '\0' && strncmp(s, "{cidr}", 6) == 0)
			ins = full, skip = 6;
		else if (num[0] == '\0' && strncmp(s, "{addr}", 6) == 0)
			ins = addr, skip = 6;
		n = ins ? strlen(ins) : 1;
		if (o + n >= outlen)
			return err_set(e, "rdap-unavailable", "rdap: URL too long");
		memcpy(out + o, ins ? ins : s, n);
		o += n;
		s += skip;
	}
	out[o] = '\0';
	return 0;
}

struct sink {
	struct buf b;                   /* .max = RDAP_MAX_DOC */
	const atomic_int *cancel;
};

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	return buf_append(&s->b, data, n) == 0 ? n : 0;
}

static int
sink_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sink *s = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return s->cancel != NULL && atomic_load(s->cancel) != 0;
}

/* Turns a curl failure into a sentence for the operator. */
static int
fetch_error(CURLcode rc, const struct sink *s, long timeout_ms, const char *url,
    struct err *e)
{
	if (s->b.overflow || rc == CURLE_FILESIZE_EXCEEDED)
		return err_set(e, "rdap-unavailable", "rdap: document from %.200s is larger "
		    "than %d bytes", url, RDAP_MAX_DOC);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, "rdap-unavailable", "rdap: %.200s timed out after %ld ms",
		    url, timeout_ms);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return err_set(e, "rdap-unavailable", "rdap: fetch of %.200s cancelled", url);
	return err_set(e, "rdap-unavailable", "rdap: %.200s: %s", url,
	    curl_easy_strerror(rc));
}

/* The origin (scheme, host, port) of url in out; -1 when url does not parse. */
static int
url_origin(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    (size_t)snprintf(out, outlen, "%s://%s:%s", scheme, host, port) < outlen)
		rc = 0;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* One request without following redirects: status in *status, a redirect target (malloc'd)
 * in *location when the answer is 3xx with a Location. */
static CURLcode
fetch_once(const char *url, long timeout, long ctimeout, struct sink *s, long *status,
    char **location)
{
	struct curl_slist *hdr = NULL;
	char *loc = NULL;
	CURL *c;
	CURLcode rc;

	*status = 0;
	*location = NULL;
	if ((c = curl_easy_init()) == NULL)
		return CURLE_FAILED_INIT;
	hdr = curl_slist_append(hdr, "Accept: application/rdap+json, application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RDAP_MAX_DOC);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "prefixd/" PREFIXD_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sink_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (rc == CURLE_OK && *status >= 300 && *status < 400 &&
	    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL &&
	    (*location = strdup(loc)) == NULL)
		rc = CURLE_OUT_OF_MEMORY;
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return rc;
}

/*
 * Redirects are followed by hand, at most RDAP_MAX_REDIRS, and only within the origin (scheme,
 * host, port) of the configured URL: a record server may move a path, never send the daemon
 * to another host (a redirect is how an RDAP answer would point it at loopback admin pages or
 * cloud metadata).
 */
int
rdap_fetch_url(const char *url, const struct rdap_fetch_opts *opts, char **doc,
    size_t *len, struct err *e)
{
	long timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	long ctimeout = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 5000;
	struct sink s = { .b.max = RDAP_MAX_DOC, .cancel = opts ? opts->cancel : NULL };
	char origin[512], there[512], *cur = strdup(url), *next = NULL;
	CURLcode rc = CURLE_OK;
	long status = 0;
	char safe[RDAP_URL_SHOWN];

	rdap_redact_url(url, safe, sizeof(safe));
	if (cur == NULL || url_origin(url, origin, sizeof(origin)) == -1) {
		free(cur);
		return err_set(e, "rdap-unavailable", "rdap: %.200s is not a URL", safe);
	}
	for (int hop = 0;; hop++) {
		free(s.b.data);
		s.b = (struct buf){ .max = RDAP_MAX_DOC };
		rc = fetch_once(cur, timeout, ctimeout, &s, &status, &next);
		if (rc != CURLE_OK || next == NULL)
			break;
		free(cur);
		cur = next;
		if (hop == RDAP_MAX_REDIRS || url_origin(cur, there, sizeof(there)) == -1 ||
		    strcmp(origin, there) != 0) {
			free(cur);
			free(s.b.data);
			return err_set(e, "rdap-unavailable", "rdap: %.200s redirects %s; only "
			    "%d redirects within its own host are followed", safe,
			    hop == RDAP_MAX_REDIRS ? "too often" : "to another host",
			    RDAP_MAX_REDIRS);
		}
	}
	free(cur);
	if (rc == CURLE_OK && status != 200) {
		free(s.b.data);
		return err_set(e, "rdap-unavailable", "rdap: %.200s answered HTTP %ld", safe,
		    status);
	}
	if (rc != CURLE_OK) {
		free(s.b.data);
		return fetch_error(rc, &s, timeout, safe, e);
	}
	if (s.b.data == NULL && (s.b.data = calloc(1, 1)) == NULL)
		return err_set(e, "rdap-unavailable", "rdap: out of memory");
	*doc = s.b.data;
	*len = s.b.len;
	return 0;
}

void
rdap_redact_url(const char *url, char *out, size_t outlen)
{
	const char *host = strstr(url, "://"), *at, *path, *q;
	size_t o = 0;

	if (outlen == 0)
		return;
	host = host ? host + 3 : url;
	path = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(path - host));
	q = strchr(path, '?');
	o = (size_t)snprintf(out, outlen, "%.*s%s", (int)(host - url), url, at ? "***@" : "");
	if (o < outlen)
		snprintf(out + o, outlen - o, "%.*s%s", (int)((q ? q : path + strlen(path)) -
		    (at ? at + 1 : host)), at ? at + 1 : host, q ? "?***" : "");
}

int
rdap_read_dir(const char *dir, const char *prefix, char *path, size_t pathlen,
    char **doc, size_t *len, struct err *e)
{
	struct cidr p;
	char name[CIDR_STRLEN], *slash, *buf;
	struct stat st;
	ssize_t n;
	int fd;

	uint32_t asn;

	if (asnum_looks_like(prefix)) {
		if (asnum_parse(prefix, 1, &asn, e) == -1)
			return -1;
		asnum_format(asn, name);
	} else if (cidr_parse(prefix, &p, NULL) == -1)
		return err_set(e, "rdap-unavailable", "rdap: prefix \"%.64s\" is not a CIDR",
		    prefix);
	else
		cidr_format(&p, name, sizeof(name));
	if ((slash = strchr(name, '/')) != NULL)
		*slash = '_';
	if ((size_t)snprintf(path, pathlen, "%s/%s.json", dir, name) >= pathlen)
		return err_set(e, "rdap-unavailable", "rdap: auth.rdap_dir path too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return err_set(e, "rdap-unavailable", "rdap: no record %s.json in auth.rdap_dir",
		    name);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > RDAP_MAX_DOC) {
		close(fd);
		return err_set(e, "rdap-unavailable", "rdap: %s.json in auth.rdap_dir is not a "
		    "regular file of at most %d bytes", name, RDAP_MAX_DOC);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(e, "rdap-unavailable", "rdap: out of memory");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return err_set(e, "rdap-unavailable", "rdap: cannot read %s.json in auth.rdap_dir",
		    name);
	}
	buf[n] = '\0';
	*doc = buf;
	*len = (size_t)n;
	return 0;
}

/* ---- coverage ---- */

/* startAddress..endAddress contains p. */
static int
covers_range(json_t *rec, const struct cidr *p, char *seen, size_t seenlen)
{
	const char *s = json_string_value(json_object_get(rec, "startAddress"));
	const char *t = json_string_value(json_object_get(rec, "endAddress"));
	struct cidr a, b, last = cidr_last(p);

	if (s == NULL || t == NULL || cidr_parse_addr(s, &a, NULL) == -1 ||
	    cidr_parse_addr(t, &b, NULL) == -1)
		return 0;
	snprintf(seen, seenlen, "%.60s - %.60s", s, t);
	return a.family == p->family && b.family == p->family &&
	    cidr_addr_u128(&a) <= cidr_addr_u128(p) &&
	    cidr_addr_u128(&last) <= cidr_addr_u128(&b);
}

/* One of cidr0_cidrs contains p. */
static int
covers_cidr0(json_t *rec, const struct cidr *p, char *seen, size_t seenlen)
{
	json_t *arr = json_object_get(rec, "cidr0_cidrs"), *it;
	size_t i;

	json_array_foreach(arr, i, it) {
		const char *pfx = json_string_value(json_object_get(it, "v4prefix"));
		json_t *jl = json_object_get(it, "length");
		struct cidr a, c;
		json_int_t l;

		if (pfx == NULL)
			pfx = json_string_value(json_object_get(it, "v6prefix"));
		if (pfx == NULL || !json_is_integer(jl) ||
		    cidr_parse_addr(pfx, &a, NULL) == -1)
			continue;
		l = json_integer_value(jl);
		if (l < 0 || l > (json_int_t)cidr_maxlen(a.family))
			continue;
		c = cidr_make(a.family, a.hi, a.lo, (unsigned)l);
		snprintf(seen, seenlen, "%.60s/%d", pfx, (int)l);
		if (cidr_contains(&c, p))
			return 1;
	}
	return 0;
}

/* An autnum record (RFC 9083 §5.5): startAutnum..endAutnum contains asn. */
static int
covers_autnum(json_t *rec, uint32_t asn, char *seen, size_t seenlen)
{
	json_t *a = json_object_get(rec, "startAutnum"), *b = json_object_get(rec, "endAutnum");
	const char *cls = json_string_value(json_object_get(rec, "objectClassName"));

	if (!json_is_integer(a))
		return 0;
	if (b == NULL)
		b = a;
	if (!json_is_integer(b))
		return 0;
	snprintf(seen, seenlen, "%.16s AS%lld - AS%lld", cls ? cls : "?",
	    (long long)json_integer_value(a), (long long)json_integer_value(b));
	return (cls == NULL || strcmp(cls, "autnum") == 0) &&
	    json_integer_value(a) <= (json_int_t)asn && (json_int_t)asn <= json_integer_value(b);
}

/* ---- PEM extraction ---- */

/* Rebuilds one certificate body (base64 with any whitespace) as clean PEM, or NULL. */
static char *
pem_rebuild(const char *body, size_t n)
{
	char *b64 = malloc(n + 1), *out;
	size_t m = 0, o = 0;

	if (b64 == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char ch = body[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '=')) {
			free(b64);
			return NULL;
		}
		b64[m++] = ch;
	}
	if (m == 0 || m > RDAP_MAX_PEM || (out = malloc(m + m / 64 + 80)) == NULL) {
		free(b64);
		return NULL;
	}
	o += (size_t)sprintf(out, "%s\n", PEM_BEGIN);
	for (size_t i = 0; i < m; i += 64) {
		size_t k = m - i < 64 ? m - i : 64;

		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	sprintf(out + o, "%s\n", PEM_END);
	free(b64);
	return out;
}

/*
 * Finds every BEGIN..END block in text and adds the clean ones to out. A BEGIN that is
 * followed by another BEGIN before any END is abandoned (an unterminated block must not hide
 * the certificate after it).
 */
static void
pem_scan(const char *text, struct rdap_pems *out)
{
	const char *s = text, *b, *end, *next;

	while ((b = strstr(s, PEM_BEGIN)) != NULL) {
		char *pem;

		out->markers++;
		b += strlen(PEM_BEGIN);
		if ((end = strstr(b, PEM_END)) == NULL)
			return;
		if ((next = strstr(b, PEM_BEGIN)) != NULL && next < end) {
			s = next;
			continue;
		}
		if (out->n < RDAP_MAX_CERTS && (pem = pem_rebuild(b, (size_t)(end - b))) != NULL)
			out->pem[out->n++] = pem;
		s = end + strlen(PEM_END);
	}
}

/* Joins one remark's description (string or array of strings) with newlines. */
static char *
remark_text(json_t *remark)
{
	json_t *d = json_object_get(remark, "description"), *it;
	size_t i, total = 1, o = 0;
	char *t;

	if (json_is_string(d))
		return strdup(json_string_value(d));
	if (!json_is_array(d))
		return NULL;
	json_array_foreach(d, i, it)
		total += json_string_length(it) + 1;
	if ((t = malloc(total)) == NULL)
		return NULL;
	json_array_foreach(d, i, it) {
		size_t n = json_string_length(it);

		if (!json_is_string(it))
			continue;
		memcpy(t + o, json_string_value(it), n);
		o += n;
		t[o++] = '\n';
	}
	t[o] = '\0';
	return t;
}

void
rdap_pems_clear(struct rdap_pems *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->pem[i]);
	memset(p, 0, sizeof(*p));
}

int
rdap_record_certs(const char *doc, size_t len, const char *prefix, struct rdap_pems *out,
    struct err *e)
{
	json_error_t jerr;
	json_t *rec, *remarks, *it;
	struct cidr p;
	char seen[160] = "no startAddress/endAddress or cidr0_cidrs";
	size_t i;

	uint32_t asn = 0;
	int is_asn = asnum_looks_like(prefix);

	memset(out, 0, sizeof(*out));
	if (is_asn) {
		if (asnum_parse(prefix, 1, &asn, e) == -1)
			return -1;
		snprintf(seen, sizeof(seen), "no startAutnum/endAutnum");
	} else if (cidr_parse(prefix, &p, NULL) == -1)
		return err_set(e, "rdap-unavailable", "rdap: prefix \"%.64s\" is not a CIDR",
		    prefix);
	if ((rec = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return err_set(e, "rdap-unavailable", "rdap: record is not JSON (line %d)",
		    jerr.line);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return err_set(e, "rdap-unavailable", "rdap: record is not a JSON object");
	}
	if (is_asn ? !covers_autnum(rec, asn, seen, sizeof(seen)) :
	    (!covers_range(rec, &p, seen, sizeof(seen)) &&
	    !covers_cidr0(rec, &p, seen, sizeof(seen)))) {
		json_decref(rec);
		return err_set(e, "rdap-unavailable", "rdap: record (%s) does not cover %s",
		    seen, prefix);
	}
	remarks = json_object_get(rec, "remarks");
	json_array_foreach(remarks, i, it) {
		char *t = remark_text(it);

		if (t != NULL)
			pem_scan(t, out);
		free(t);
	}
	json_decref(rec);
	return 0;
}
