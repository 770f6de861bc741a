/*
 * ctl_http — prefixctl's HTTP/1.1 client for the daemon's control API.
 *
 * Called by the command handlers (ctl_ipam.c, ...) through ctl_request(). One libcurl easy
 * handle per request, connected to the unix socket with CURLOPT_UNIX_SOCKET_PATH; the URL is
 * http://prefixd/v1/... (the host name is only a label). With --url (ctl_remote_init, called
 * by ctl_main) it goes to the daemon's TCP listener instead, with the bearer token; https
 * checks the certificate and host name (libcurl's defaults, never turned off), only http and
 * https are allowed and redirects are not followed, so the token goes nowhere else. A whole-request timeout and a cap
 * on the reply size bound what a stuck or hostile daemon can do to the client. Transport
 * failures (no socket, refused, timeout, oversized or unparseable reply) are exit 3; an
 * answer with an error status is the daemon refusing, exit 1. The daemon answers lists a page
 * at a time (limit and cursor, issue 15); ctl_request follows next_cursor to the end.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	return buf_append(arg, data, n) == 0 ? n : 0;
}

static int
transport_error(const struct ctl_ctx *ctx, CURL *h, CURLcode rc, const struct buf *s,
    struct err *e)
{
	const char *to = ctx->url != NULL ? ctx->url : ctx->socket;
	long oserr = 0;

	if (s->overflow)
		return err_set(e, "reply-too-large", "the daemon's reply exceeds %zu bytes",
		    ctx->max_reply);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		return err_set(e, "unreachable", "cannot connect to %s: %s", to,
		    oserr != 0 ? strerror((int)oserr) : "connection failed");
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(e, "unreachable", "no reply from %s within %ld ms", to,
		    ctx->timeout_ms);
	default:
		return err_set(e, "unreachable", "talking to %s: %s", to,
		    curl_easy_strerror(rc));
	}
}

/* The TCP listener: URL, TLS trust, the bearer header (returned: the caller frees it). */
static struct curl_slist *
remote_setup(const struct ctl_ctx *ctx, CURL *h, char *url, size_t len, const char *path)
{
	char auth[CTL_TOKEN_MAX + 32];

	snprintf(url, len, "%s%s", ctx->url, path);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ctx->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, ctx->cacert);
	if (ctx->token == NULL)
		return NULL;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctx->token);
	return curl_slist_append(NULL, auth);
}

int
ctl_http(const struct ctl_ctx *ctx, const char *method, const char *path,
    const char *body, struct ctl_reply *r, struct err *e)
{
	struct sockaddr_un sun;
	struct buf s = { .max = ctx->max_reply };
	struct curl_slist *hdr = NULL;
	char url[CTL_PATH_MAX + 320];
	CURL *h;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (ctx->url == NULL && strlen(ctx->socket) >= sizeof(sun.sun_path))
		return err_set(e, "unreachable", "socket path too long: %s", ctx->socket);
	if ((h = curl_easy_init()) == NULL)
		return err_set(e, "unreachable", "cannot initialise libcurl");
	if (ctx->url != NULL) {
		hdr = remote_setup(ctx, h, url, sizeof(url), path);
	} else {
		snprintf(url, sizeof(url), "http://prefixd%s", path);
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, ctx->socket);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ctx->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "prefixctl/" PREFIXD_VERSION);
	if (body != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		/* no "Expect: 100-continue" round trip for bodies over 1 KiB (an import) */
		hdr = curl_slist_append(hdr, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		transport_error(ctx, h, rc, &s, e);
		free(s.data);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = s.data;
	r->len = s.len;
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return 0;
}

/* Reads the first line of a token file; a regular file must be private to its owner. */
static int
token_read(const char *file, char *buf, struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, "usage", "--token-file %s: %s", file, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		close(fd);
		return err_set(e, "usage", "--token-file %s: mode %04o lets group or others read "
		    "it (chmod 600)", file, (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, buf, CTL_TOKEN_MAX + 1);
	close(fd);
	if (n < 0)
		return err_set(e, "usage", "--token-file %s: %s", file, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* http://HOST:PORT or https://HOST:PORT, nothing after the authority but an optional '/'. */
static int
url_check(const char *url, struct err *e)
{
	const char *a = strncmp(url, "https://", 8) == 0 ? url + 8 :
	    strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
	size_t n = a != NULL ? strcspn(a, "/?#@ ") : 0;

	if (a == NULL || n == 0 || strlen(url) >= CTL_URL_MAX || (a[n] != '\0' && strcmp(a + n, "/") != 0))
		return err_set(e, "usage", "--url: '%.80s' is not http(s)://HOST:PORT", url);
	return 0;
}

int
ctl_remote_init(struct ctl_ctx *ctx, const struct ctl_inv *inv, struct ctl_remote *rb,
    struct err *e)
{
	const char *env = getenv("PREFIXD_TOKEN"), *t = NULL;
	size_t n;

	if (inv->url == NULL) {
		if (inv->cacert != NULL || inv->token_file != NULL)
			return err_set(e, "usage", "%s needs --url",
			    inv->cacert != NULL ? "--cacert" : "--token-file");
		return 0;
	}
	if (url_check(inv->url, e) < 0)
		return -1;
	if (inv->cacert != NULL && strncmp(inv->url, "https://", 8) != 0)
		return err_set(e, "usage", "--cacert needs an https:// URL");
	if (inv->token_file != NULL) {
		if (token_read(inv->token_file, rb->token, e) < 0)
			return -1;
		t = rb->token;
	} else if (env != NULL && env[0] != '\0') {
		t = env;
	}
	if (t != NULL && ((n = strlen(t)) == 0 || n > CTL_TOKEN_MAX))
		return err_set(e, "usage", "the bearer token is empty or longer than %d bytes",
		    CTL_TOKEN_MAX);
	for (const char *p = t; p != NULL && *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return err_set(e, "usage", "the bearer token holds a blank or a byte outside "
			    "printable ASCII");
	n = strlen(inv->url);
	snprintf(rb->url, sizeof(rb->url), "%.*s", (int)(n - (inv->url[n - 1] == '/')), inv->url);
	ctx->url = rb->url;
	ctx->cacert = inv->cacert;
	ctx->token = t;
	return 0;
}

void
ctl_reply_free(struct ctl_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void
ctl_path_init(struct ctl_path *p, const char *prefix)
{
	p->len = (size_t)snprintf(p->s, sizeof(p->s), "%s", prefix);
	p->has_query = false;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters stay as they are). */
static int
path_encode(struct ctl_path *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (p->len + 4 > sizeof(p->s))
			return -1;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			p->s[p->len++] = (char)c;
		} else {
			p->s[p->len++] = '%';
			p->s[p->len++] = hex[c >> 4];
			p->s[p->len++] = hex[c & 15];
		}
	}
	p->s[p->len] = '\0';
	return 0;
}

int
ctl_path_add(struct ctl_path *p, const char *segment)
{
	if (p->has_query || p->len + 2 > sizeof(p->s))
		return -1;
	p->s[p->len++] = '/';
	p->s[p->len] = '\0';
	return path_encode(p, segment);
}

int
ctl_path_query(struct ctl_path *p, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	if (p->len + 2 > sizeof(p->s))
		return -1;
	p->s[p->len++] = p->has_query ? '&' : '?';
	p->s[p->len] = '\0';
	p->has_query = true;
	if (path_encode(p, key) < 0 || p->len + 2 > sizeof(p->s))
		return -1;
	p->s[p->len++] = '=';
	p->s[p->len] = '\0';
	return path_encode(p, value);
}

/*
 * A list answers one page and the cursor of the next (issue 15): the operator wants the whole
 * list, so the next pages are fetched (path + cursor=) and their arrays appended to the first
 * page's, until next_cursor is null. A page refused (1: r holds the refusal), unreadable, or
 * a cursor repeated or past CTL_PAGES_MAX pages (a daemon that never ends) is an error.
 */
#define CTL_PAGES_MAX 100000        /* 100 million rows at the daemon's largest page */

static int
follow(struct ctl_ctx *ctx, const char *path, json_t *j, struct ctl_reply *r, struct err *e)
{
	const char *cur, *key;
	char prev[CTL_PATH_MAX] = "";
	struct ctl_path p;
	json_t *page, *v;

	for (unsigned n = 0; (cur = json_string_value(json_object_get(j, "next_cursor"))) != NULL;
	    n++) {
		if (strcmp(cur, prev) == 0 || n == CTL_PAGES_MAX)
			return err_set(e, "unreachable", "the daemon's pages do not end (cursor %.32s)",
			    cur);
		snprintf(prev, sizeof(prev), "%s", cur);
		ctl_path_init(&p, path);
		p.has_query = strchr(path, '?') != NULL;
		if (ctl_path_query(&p, "cursor", prev) < 0)
			return err_set(e, "unreachable", "the daemon's cursor is too long");
		ctl_reply_free(r);
		if (ctl_http(ctx, "GET", p.s, NULL, r, e) < 0)
			return -1;
		if (r->status < 200 || r->status >= 300)
			return 1;
		if ((page = json_loadb(r->body, r->len, 0, NULL)) == NULL)
			return err_set(e, "unreachable", "unreadable page from the daemon");
		json_object_foreach(page, key, v)
			if (json_is_array(v) && json_is_array(json_object_get(j, key)))
				json_array_extend(json_object_get(j, key), v);
		json_object_set(j, "next_cursor", json_object_get(page, "next_cursor"));
		json_decref(page);
	}
	return 0;
}

/* Prints a successful reply (all pages of a list); returns the exit status. */
static int
answer(struct ctl_ctx *ctx, const char *method, const char *path, struct ctl_reply *r,
    void (*human)(struct ctl_ctx *ctx, json_t *reply))
{
	json_error_t je;
	struct err e;
	json_t *j;
	int rc = 0, paged;

	if (r->len == 0) {
		if (ctx->json)
			fprintf(ctx->out, "{}\n");
		return CTL_EXIT_OK;
	}
	if ((j = json_loadb(r->body, r->len, JSON_DECODE_ANY, &je)) == NULL) {
		fprintf(ctx->errf, "prefixctl: unreadable reply from the daemon: %s\n", je.text);
		return CTL_EXIT_UNREACHABLE;
	}
	paged = strcmp(method, "GET") == 0 && json_is_string(json_object_get(j, "next_cursor"));
	if (paged)
		rc = follow(ctx, path, j, r, &e);
	if (rc != 0) {
		json_decref(j);
		if (rc > 0) {
			ctl_out_refusal(ctx->errf, r->status, r->body);
			return CTL_EXIT_REFUSED;
		}
		fprintf(ctx->errf, "prefixctl: %s\n", e.msg);
		return CTL_EXIT_UNREACHABLE;
	}
	if (ctx->json && !paged) {
		fwrite(r->body, 1, r->len, ctx->out);
		if (r->body[r->len - 1] != '\n')
			fputc('\n', ctx->out);
	} else if (ctx->json) {
		json_dumpf(j, ctx->out, JSON_COMPACT);
		fputc('\n', ctx->out);
	} else if (human != NULL) {
		human(ctx, j);
	}
	json_decref(j);
	return CTL_EXIT_OK;
}

int
ctl_request(struct ctl_ctx *ctx, const char *method, const char *path, json_t *body,
    void (*human)(struct ctl_ctx *ctx, json_t *reply))
{
	struct ctl_reply r;
	struct err e;
	char *text = NULL;
	int rc;

	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(ctx->errf, "prefixctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	if (ctl_http(ctx, method, path, text, &r, &e) < 0) {
		fprintf(ctx->errf, "prefixctl: %s\n", e.msg);
		free(text);
		return CTL_EXIT_UNREACHABLE;
	}
	free(text);
	if (r.status >= 200 && r.status < 300) {
		rc = answer(ctx, method, path, &r, human);
	} else {
		json_t *j = !ctx->json && human != NULL && r.body != NULL ?
		    json_loads(r.body, 0, NULL) : NULL;

		/* a refusal that lists per-site results (sites, issue 17) shows them all: one
		 * site's failure never hides what the others did */
		if (json_is_array(json_object_get(j, "results")))
			human(ctx, j);
		json_decref(j);
		ctl_out_refusal(ctx->errf, r.status, r.body);
		if (ctx->json && r.len > 0) {
			fwrite(r.body, 1, r.len, ctx->out);
			if (r.body[r.len - 1] != '\n')
				fputc('\n', ctx->out);
		}
		rc = CTL_EXIT_REFUSED;
	}
	ctl_reply_free(&r);
	return rc;
}
