/*
 * http — libmicrohttpd in external-epoll mode on the libev loop: requests and replies.
 * See http.h for the contract, http_private.h for the structs the http files share. This file:
 *   requests      the MHD access handler: auth, body accumulation, callback, suspend/resume,
 *                 the reply helpers
 *   life cycle    http_new, http_free, limits, quiesce
 * Elsewhere: listeners, connections and the slow-client watchdog in http_listen.c; peer
 * credentials, the bearer-token table and role names in http_auth.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_private.h"
#include "log.h"

/* ---- requests ------------------------------------------------------------------------- */

static int
http_id_sane(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n >= 64 || !(isalnum((unsigned char)s[n]) || strchr("._-:", s[n]) != NULL))
			return 0;
	return n > 0;
}

static struct http_req *
http_req_new(struct http_listener *l, struct MHD_Connection *c, const char *url, const char *method)
{
	struct http *h = l->h;
	struct http_req *r = calloc(1, sizeof(*r));
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	const union MHD_ConnectionInfo *ci;

	if (r == NULL || (r->body = malloc(1)) == NULL)
		fatal("calloc");
	r->body[0] = '\0';
	r->lis = l;
	r->conn = c;
	r->method = method;
	r->path = url;
	r->body_cap = h->lim.max_body;
	r->started = ev_now(h->loop);
	if (id != NULL && http_id_sane(id))
		snprintf(r->request_id, sizeof(r->request_id), "%s", id);
	else
		snprintf(r->request_id, sizeof(r->request_id), "%lx-%lu", h->boot, ++h->req_seq);
	if (l->kind == HTTP_TCP) {
		r->role = http_token_role(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_AUTHORIZATION), r->actor, sizeof(r->actor));
	} else {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		r->role = ci ? http_unix_role(l, ci->connect_fd, r->actor, sizeof(r->actor)) : HTTP_ROLE_NONE;
	}
	return r;
}

static enum MHD_Result
http_queue(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	for (const char *const *h = r->resp_headers; h != NULL && h[0] != NULL; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"prefixd\"");
	if (r->too_large || r->must_close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * MHD unescapes the target in place, so "%00" would end the path (or a query value) early and
 * the handler would act on a shorter name than the client sent: note it on the raw target.
 */
void *
http_uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_conn *hc = http_conn_of(c);

	(void)cls;
	if (hc != NULL)
		hc->nul_in_uri = uri != NULL && strcasestr(uri, "%00") != NULL;
	return NULL;
}

/*
 * First call for a request: framing, authentication and size checks that need no body.
 * Refused before anything else, with the connection closed: a target holding %00, and a
 * request carrying both Content-Length and Transfer-Encoding (RFC 9112 6.3: the two framings
 * disagree; a proxy in front may have used the other one, a request smuggling primitive).
 */
static int
http_precheck(struct http_req *r, const struct http_conn *hc)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);

	if ((hc != NULL && hc->nul_in_uri) || (cl != NULL && te != NULL)) {
		r->must_close = 1;
		http_reply_error(r, 400, "bad-request", "%s", cl != NULL && te != NULL ?
		    "Content-Length together with Transfer-Encoding" : "the request target holds %00");
		return -1;
	}
	if (r->role == HTTP_ROLE_NONE && r->lis->kind == HTTP_TCP && r->lis->h->anon_ok != NULL &&
	    r->lis->h->anon_ok(r->lis->h->anon_arg, r->path)) {
		r->body_cap = 0;        /* anonymous: a public file, no body */
	} else if (r->role == HTTP_ROLE_NONE) {
		r->must_close = 1;      /* nothing more from a client that is nobody */
		if (r->lis->kind == HTTP_TCP)
			http_reply_error(r, 401, "unauthorized", "missing or unknown bearer token");
		else
			http_reply_error(r, 403, "forbidden", "peer credentials unavailable");
		return -1;
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > r->body_cap) {
		r->too_large = 1;
		http_reply_error(r, 413, "body-too-large", "body of %s bytes exceeds max_body %zu", cl, r->body_cap);
		return -1;
	}
	return 0;
}

/*
 * Appends a chunk of body. Past max_body the rest is read and dropped, and 413 is answered
 * once the request is complete: answering while the client still sends makes most clients
 * fail on a reset connection before they read the answer (and MHD 0.9.75 refuses to queue
 * an answer before the body is complete). The watchdog cuts off a body that never ends.
 */
static void
http_body_chunk(struct http_req *r, const char *data, size_t n)
{
	char *nb;

	if (r->status != 0 || r->too_large)
		return;
	if (r->body_len + n > r->body_cap) {
		r->too_large = 1;
		return;
	}
	nb = realloc(r->body, r->body_len + n + 1);
	if (nb == NULL)
		fatal("realloc");
	r->body = nb;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_listener *l = cls;
	struct http_req *r = *con_cls;
	struct http_conn *hc;

	(void)version;
	if (r == NULL) {
		hc = http_conn_of(c);
		if (hc != NULL && hc->refused)
			return MHD_NO;          /* over the budget: already answered 503 */
		r = http_req_new(l, c, url, method);
		*con_cls = r;
		if (http_precheck(r, hc) < 0)
			return http_queue(r);
		if (hc != NULL) {
			hc->since = r->started;
			hc->req = r;
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		http_body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if ((hc = http_conn_of(c)) != NULL)
		hc->req = NULL;                 /* the body is complete */
	if (r->too_large && r->status == 0)
		http_reply_error(r, 413, "body-too-large", "body exceeds max_body %zu", r->body_cap);
	if (r->status != 0)
		return r->suspended ? MHD_YES : http_queue(r);
	log_set_request_id(r->request_id);
	l->h->cb(r, l->h->arg);
	log_set_request_id(NULL);
	if (r->suspended) {
		if ((hc = http_conn_of(c)) != NULL)
			hc->suspended = 1;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (r->status == 0)
		http_reply_error(r, 500, "internal", "handler gave no answer");
	return http_queue(r);
}

void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_listener *l = cls;
	struct http_req *r = *con_cls;
	struct http_conn *hc = http_conn_of(c);

	(void)toe;
	if (hc != NULL) {
		hc->since = ev_now(l->h->loop);
		hc->req = NULL;
	}
	if (r == NULL)
		return;
	if (r->long_poll)
		l->n_long--;
	free(r->body);
	free(r->resp);
	free(r);
	*con_cls = NULL;
}

const char *
http_query(struct http_req *req, const char *name)
{
	if (req->conn == NULL)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct http_req *
http_req_detached(const char *method, const char *path, const char *body, size_t len,
    enum http_role role)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->body = malloc(len + 1)) == NULL)
		fatal("calloc");
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->method = method;
	r->path = path;
	r->role = role;
	snprintf(r->actor, sizeof(r->actor), "detached");
	snprintf(r->request_id, sizeof(r->request_id), "detached");
	r->started = ev_time();
	return r;
}

void
http_req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	free(req->body);
	free(req->resp);
	free(req);
}

void
http_reply(struct http_req *req, int status, const char *type, const char *body, size_t len)
{
	free(req->resp);
	req->resp = malloc(len + 1);
	if (req->resp == NULL)
		fatal("malloc");
	memcpy(req->resp, body, len);
	req->resp[len] = '\0';
	req->resp_len = len;
	req->resp_type = type;
	req->status = status;
}

void
http_reply_headers(struct http_req *req, const char *const *hdrs)
{
	req->resp_headers = hdrs;
}

void
http_reply_json(struct http_req *req, int status, json_t *j)
{
	static const char internal[] =
	    "{\"error\":{\"code\":\"internal\",\"message\":\"answer could not be encoded\"}}";
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	if (s == NULL) {                /* a handler built invalid JSON: a bug, never a crash */
		log_error("%s: answer %d could not be encoded", req->request_id, status);
		http_reply(req, 500, "application/json", internal, sizeof(internal) - 1);
		return;
	}
	free(req->resp);
	req->resp = s;
	req->resp_len = strlen(s);
	req->resp_type = "application/json";
	req->status = status;
}

/*
 * Error messages quote what the client sent (paths, names), which may be any bytes and may
 * have been cut inside a UTF-8 sequence: keep printable ASCII, replace the rest with '?'.
 */
void
http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	http_reply_json(req, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void
http_suspend(struct http_req *req)
{
	req->suspended = 1;
}

int
http_suspend_long(struct http_req *req)
{
	static const char *const retry[] = { "Retry-After", "1", NULL };

	if (req->lis != NULL && req->lis->n_long >= http_long_poll_cap(req->lis)) {
		req->must_close = 1;
		http_reply_headers(req, retry);
		http_reply_error(req, 429, "too-many-long-polls", "this listener already holds %u "
		    "long polls (max_long_polls, at most half of max_connections)",
		    req->lis->n_long);
		return -1;
	}
	if (req->lis != NULL) {
		req->lis->n_long++;
		req->long_poll = 1;
	}
	http_suspend(req);
	return 0;
}

void
http_resume(struct http_req *req)
{
	struct http_conn *hc;

	req->suspended = 0;
	if (req->long_poll) {
		req->lis->n_long--;
		req->long_poll = 0;
	}
	if (req->conn == NULL)
		return;                 /* detached: the caller reads the reply */
	hc = http_conn_of(req->conn);
	if (hc != NULL) {
		hc->suspended = 0;
		hc->since = ev_now(req->lis->h->loop);
	}
	MHD_resume_connection(req->conn);
}

/* ---- life cycle ----------------------------------------------------------------------- */

struct http *
http_new(struct ev_loop *loop, const struct http_limits *lim, http_cb cb, void *arg)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		fatal("calloc");
	h->loop = loop;
	h->lim = *lim;
	h->cb = cb;
	h->arg = arg;
	h->boot = (unsigned long)time(NULL);
	ev_timer_init(&h->watchdog, http_watchdog_cb, 1., 1.);
	h->watchdog.data = h;
	ev_timer_start(loop, &h->watchdog);
	return h;
}

void
http_set_limits(struct http *h, const struct http_limits *lim)
{
	h->lim.max_body = lim->max_body;
}

void
http_set_anonymous(struct http *h, int (*ok)(void *arg, const char *path), void *arg)
{
	h->anon_ok = ok;
	h->anon_arg = arg;
}

void
http_quiesce(struct http *h)
{
	for (struct http_listener *l = h->listeners; l != NULL; l = l->next) {
		if (l->d != NULL && !l->quiesced && MHD_quiesce_daemon(l->d) >= 0)
			l->quiesced = 1;
		if (l->path != NULL)
			unlink(l->path);
	}
}

void
http_free(struct http *h)
{
	struct http_listener *l, *next;

	if (h == NULL)
		return;
	for (l = h->listeners; l != NULL; l = next) {
		next = l->next;
		ev_io_stop(h->loop, &l->io);
		ev_timer_stop(h->loop, &l->tm);
		if (l->d != NULL)
			MHD_stop_daemon(l->d);
		if (l->quiesced)
			close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
		free(l->path);
		free(l);
	}
	ev_timer_stop(h->loop, &h->watchdog);
	free(h->tokens);
	free(h);
}
