/*
 * birdc — BIRD control-socket client: the reply parser and the libev client. See birdc.h.
 *
 * The client owns one unix-socket connection, its read parser, a small output buffer and the
 * FIFO of commands. Only the head of the queue is on the wire; the next one is written when the
 * head's final line arrives. A timeout, a protocol error or EOF drops the connection: every
 * queued command then completes with an error (the stream cannot be trusted to resync), and a
 * reconnect is scheduled with exponential backoff (reset once a hello arrives).
 */
#include "birdc.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* ---------------------------------------------------------------- parser */

void
birdc_reply_free(struct birdc_reply *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i].text);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

void
birdc_parser_init(struct birdc_parser *p, void (*on_reply)(void *, struct birdc_reply *),
    void (*on_async)(void *, const char *), void *arg)
{
	memset(p, 0, sizeof(*p));
	p->on_reply = on_reply;
	p->on_async = on_async;
	p->arg = arg;
	p->last_code = -1;
}

void
birdc_parser_reset(struct birdc_parser *p)
{
	birdc_reply_free(&p->cur);
	p->len = 0;
	p->last_code = -1;
	p->failed = false;
}

bool
birdc_parser_pending(const struct birdc_parser *p)
{
	return p->len > 0 || p->cur.n > 0;
}

static int
parser_fail(struct birdc_parser *p, struct err *e, const char *fmt, const char *detail)
{
	p->failed = true;
	return err_set(e, "bird-protocol-error", fmt, detail);
}

static int
reply_append(struct birdc_reply *r, int code, const char *text, size_t len)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		struct birdc_line *nl = realloc(r->lines, ncap * sizeof(*nl));
		if (nl == NULL)
			return -1;
		r->lines = nl;
		r->cap = ncap;
	}
	char *t = malloc(len + 1);
	if (t == NULL)
		return -1;
	memcpy(t, text, len);
	t[len] = '\0';
	r->lines[r->n].code = code;
	r->lines[r->n].text = t;
	r->n++;
	return 0;
}

/* A code of one of BIRD's classes (doc/reply_codes): 0xxx 1xxx 2xxx 8xxx 9xxx. */
static int
parse_code(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (s[0] != '0' && s[0] != '1' && s[0] != '2' && s[0] != '8' && s[0] != '9')
		return -1;
	return (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
}

/* Handles one complete line (without its newline, NUL-terminated at p->line[len]). */
static int
parser_line(struct birdc_parser *p, struct err *e)
{
	const char *l = p->line;
	size_t len = p->len;
	int code;
	bool final;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)l[i] < 0x20 && l[i] != '\t')
			return parser_fail(p, e, "control byte in a BIRD reply line%s", "");
	if (len >= 1 && l[0] == '+') {
		if (p->on_async)
			p->on_async(p->arg, l + 1);
		return 0;
	}
	if (len >= 1 && l[0] == ' ') {
		if (p->last_code < 0)
			return parser_fail(p, e, "continuation line without a preceding line: '%.60s'",
			    l);
		code = p->last_code;
		final = false;
		l += 1;
		len -= 1;
	} else {
		if (len < 5 || (code = parse_code(l)) < 0 || (l[4] != '-' && l[4] != ' '))
			return parser_fail(p, e, "malformed BIRD reply line: '%.60s'", l);
		final = l[4] == ' ';
		l += 5;
		len -= 5;
	}
	if (reply_append(&p->cur, code, l, len) < 0)
		return parser_fail(p, e, "out of memory%s", "");
	p->last_code = code;
	if (final) {
		struct birdc_reply done = p->cur;
		done.final_code = code;
		memset(&p->cur, 0, sizeof(p->cur));
		p->last_code = -1;
		if (p->on_reply)
			p->on_reply(p->arg, &done);
		else
			birdc_reply_free(&done);
	}
	return 0;
}

int
birdc_parser_feed(struct birdc_parser *p, const char *data, size_t len, struct err *e)
{
	if (p->failed)
		return err_set(e, "bird-protocol-error", "parser stopped after an earlier error");
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		p->cur.bytes++;
		if (p->cur.bytes > BIRDC_REPLY_MAX)
			return parser_fail(p, e, "BIRD reply larger than the limit%s", "");
		if (ch == '\n') {
			p->line[p->len] = '\0';
			if (parser_line(p, e) < 0)
				return -1;
			if (p->failed)  /* a callback stopped us (connection dropped) */
				return err_set(e, "bird-protocol-error", "parser stopped by its owner");
			p->len = 0;
			continue;
		}
		if (ch == '\0')
			return parser_fail(p, e, "NUL byte in a BIRD reply%s", "");
		if (p->len >= BIRDC_LINE_MAX)
			return parser_fail(p, e, "BIRD reply line longer than the limit%s", "");
		p->line[p->len++] = ch;
	}
	return 0;
}

/* ---------------------------------------------------------------- client */

struct birdc_cmd {
	struct birdc_cmd *next;
	birdc_done_fn done;
	void *arg;
	char text[];            /* command plus "\n" */
};

#define BIRDC_MAX_LISTENERS 8

enum birdc_state { BIRDC_IDLE, BIRDC_CONNECTING, BIRDC_HELLO, BIRDC_UP };

struct birdc {
	struct ev_loop *loop;
	char *path;
	double cmd_timeout, backoff_min, backoff_max, backoff;
	enum birdc_state state;
	int fd;
	ev_io rio, wio;
	ev_timer retry, cmd_timer;
	struct birdc_parser parser;
	struct birdc_cmd *head, *tail;
	bool head_sent;
	size_t out_off;         /* bytes of head->text already written */
	struct { birdc_event_fn fn; void *arg; } listeners[BIRDC_MAX_LISTENERS];
	size_t nlisteners;
	struct birdc_stats stats;
	unsigned gen;           /* bumped by every drop, so on_read sees a drop in a callback */
};

static void client_drop(struct birdc *c, const struct err *why);
static void client_send_next(struct birdc *c);

static void
notify(struct birdc *c, bool up, const struct err *why)
{
	for (size_t i = 0; i < c->nlisteners; i++)
		c->listeners[i].fn(c->listeners[i].arg, up, why);
}

static void
fail_all(struct birdc *c, const struct err *why)
{
	struct birdc_cmd *q = c->head;

	c->head = c->tail = NULL;
	c->head_sent = false;
	while (q != NULL) {
		struct birdc_cmd *next = q->next;
		q->done(q->arg, NULL, why);
		free(q);
		q = next;
	}
}

static void
on_reply(void *arg, struct birdc_reply *r)
{
	struct birdc *c = arg;

	if (c->state == BIRDC_HELLO) {
		if (r->final_code != 1 || r->n != 1) {
			struct err e;
			err_set(&e, "bird-protocol-error", "expected BIRD's 0001 hello, got code %04d",
			    r->final_code);
			birdc_reply_free(r);
			client_drop(c, &e);
			return;
		}
		snprintf(c->stats.version, sizeof(c->stats.version), "%s", r->lines[0].text);
		birdc_reply_free(r);
		ev_timer_stop(c->loop, &c->cmd_timer);
		c->state = BIRDC_UP;
		c->backoff = c->backoff_min;
		c->stats.connects++;
		log_info("birdc: connected to %s (%s)", c->path, c->stats.version);
		notify(c, true, NULL);
		client_send_next(c);
		return;
	}
	struct birdc_cmd *q = c->head;
	if (q == NULL || !c->head_sent) {
		struct err e;
		err_set(&e, "bird-protocol-error", "BIRD sent a reply (code %04d) to no command",
		    r->final_code);
		birdc_reply_free(r);
		client_drop(c, &e);
		return;
	}
	c->head = q->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->head_sent = false;
	ev_timer_stop(c->loop, &c->cmd_timer);
	q->done(q->arg, r, NULL);
	birdc_reply_free(r);
	free(q);
	client_send_next(c);
}

static void
on_async(void *arg, const char *text)
{
	struct birdc *c = arg;
	log_info("birdc: BIRD says: %s", text);
	(void)c;
}

static void
client_schedule_retry(struct birdc *c)
{
	ev_timer_set(&c->retry, c->backoff, 0.0);
	ev_timer_start(c->loop, &c->retry);
	c->backoff *= 2;
	if (c->backoff > c->backoff_max)
		c->backoff = c->backoff_max;
}

/* Closes the connection, fails every queued command, tells listeners, schedules a retry. */
static void
client_drop(struct birdc *c, const struct err *why)
{
	bool was_up = c->state == BIRDC_UP;

	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->rio);
		ev_io_stop(c->loop, &c->wio);
		close(c->fd);
		c->fd = -1;
	}
	ev_timer_stop(c->loop, &c->cmd_timer);
	birdc_parser_reset(&c->parser);
	c->parser.failed = true;        /* stops a feed in progress; reset at the next connect */
	c->gen++;
	c->state = BIRDC_IDLE;
	if (was_up) {
		c->stats.disconnects++;
		log_warnx("birdc: lost %s: %s", c->path, why->msg);
	} else {
		log_debug("birdc: cannot connect to %s: %s", c->path, why->msg);
	}
	fail_all(c, why);
	notify(c, false, why);
	client_schedule_retry(c);
}

static void
client_flush(struct birdc *c)
{
	struct birdc_cmd *q = c->head;
	size_t len = strlen(q->text);

	while (c->out_off < len) {
		ssize_t n = send(c->fd, q->text + c->out_off, len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(c->loop, &c->wio);
			return;
		}
		if (n < 0) {
			struct err e;
			err_set(&e, "bird-unavailable", "write to BIRD: %s", strerror(errno));
			client_drop(c, &e);
			return;
		}
		c->out_off += (size_t)n;
	}
	ev_io_stop(c->loop, &c->wio);
}

static void
client_send_next(struct birdc *c)
{
	if (c->state != BIRDC_UP || c->head == NULL || c->head_sent)
		return;
	c->head_sent = true;
	c->out_off = 0;
	c->stats.commands++;
	ev_timer_set(&c->cmd_timer, c->cmd_timeout, 0.0);
	ev_timer_start(c->loop, &c->cmd_timer);
	client_flush(c);
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct birdc *c = w->data;
	char buf[65536];
	struct err e;
	(void)loop;
	(void)revents;

	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		err_set(&e, "bird-unavailable", "BIRD closed the control socket%s%s",
		    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		client_drop(c, &e);
		return;
	}
	unsigned gen = c->gen;
	if (birdc_parser_feed(&c->parser, buf, (size_t)n, &e) < 0 && gen == c->gen) {
		c->stats.protocol_errors++;
		log_warnx("birdc: %s", e.msg);
		client_drop(c, &e);
	}
}

static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct birdc *c = w->data;
	(void)loop;
	(void)revents;

	if (c->state == BIRDC_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		ev_io_stop(c->loop, &c->wio);
		if (soerr != 0) {
			struct err e;
			err_set(&e, "bird-unavailable", "connect %s: %s", c->path, strerror(soerr));
			client_drop(c, &e);
			return;
		}
		c->state = BIRDC_HELLO;
		return;
	}
	if (c->head != NULL && c->head_sent)
		client_flush(c);
	else
		ev_io_stop(c->loop, &c->wio);
}

static void
client_connect(struct birdc *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct err e;

	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		err_set(&e, "bird-unavailable", "socket path too long: %s", c->path);
		client_drop(c, &e);
		return;
	}
	strcpy(sun.sun_path, c->path);
	birdc_parser_reset(&c->parser);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err_set(&e, "bird-unavailable", "socket: %s", strerror(errno));
		client_drop(c, &e);
		return;
	}
	ev_io_set(&c->rio, c->fd, EV_READ);
	ev_io_set(&c->wio, c->fd, EV_WRITE);
	ev_io_start(c->loop, &c->rio);
	ev_timer_set(&c->cmd_timer, c->cmd_timeout, 0.0);  /* bounds connect + hello too */
	ev_timer_start(c->loop, &c->cmd_timer);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		c->state = BIRDC_HELLO;
		return;
	}
	if (errno == EINPROGRESS || errno == EAGAIN) {
		c->state = BIRDC_CONNECTING;
		ev_io_start(c->loop, &c->wio);
		return;
	}
	err_set(&e, "bird-unavailable", "connect %s: %s", c->path, strerror(errno));
	client_drop(c, &e);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	client_connect(w->data);
}

static void
on_cmd_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct birdc *c = w->data;
	struct err e;
	(void)loop;
	(void)revents;

	c->stats.timeouts++;
	if (c->state != BIRDC_UP)
		err_set(&e, "bird-unavailable", "no hello from BIRD within %.1f s", c->cmd_timeout);
	else
		err_set(&e, "bird-unavailable", "BIRD did not answer '%.*s' within %.1f s",
		    c->head ? (int)strcspn(c->head->text, "\n") : 0, c->head ? c->head->text : "",
		    c->cmd_timeout);
	client_drop(c, &e);
}

struct birdc *
birdc_new(struct ev_loop *loop, const struct birdc_config *cfg)
{
	struct birdc *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->path = strdup(cfg->socket_path)) == NULL)
		fatal("birdc_new");
	c->loop = loop;
	c->cmd_timeout = cfg->cmd_timeout > 0 ? cfg->cmd_timeout : 30.0;
	c->backoff_min = cfg->backoff_min > 0 ? cfg->backoff_min : 0.1;
	c->backoff_max = cfg->backoff_max > 0 ? cfg->backoff_max : 5.0;
	c->backoff = c->backoff_min;
	c->fd = -1;
	birdc_parser_init(&c->parser, on_reply, on_async, c);
	ev_io_init(&c->rio, on_read, -1, EV_READ);
	ev_io_init(&c->wio, on_write, -1, EV_WRITE);
	ev_init(&c->retry, on_retry);
	ev_init(&c->cmd_timer, on_cmd_timeout);
	c->rio.data = c->wio.data = c->retry.data = c->cmd_timer.data = c;
	return c;
}

void
birdc_free(struct birdc *c)
{
	struct err e;

	if (c == NULL)
		return;
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->rio);
		ev_io_stop(c->loop, &c->wio);
		close(c->fd);
	}
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_stop(c->loop, &c->cmd_timer);
	err_set(&e, "bird-unavailable", "BIRD client shut down");
	c->nlisteners = 0;
	c->state = BIRDC_IDLE;
	fail_all(c, &e);
	birdc_parser_reset(&c->parser);
	free(c->path);
	free(c);
}

int
birdc_add_listener(struct birdc *c, birdc_event_fn fn, void *arg)
{
	if (c->nlisteners == BIRDC_MAX_LISTENERS)
		return -1;
	c->listeners[c->nlisteners].fn = fn;
	c->listeners[c->nlisteners].arg = arg;
	c->nlisteners++;
	return 0;
}

void
birdc_start(struct birdc *c)
{
	if (c->state == BIRDC_IDLE && !ev_is_active(&c->retry))
		client_connect(c);
}

bool
birdc_is_up(const struct birdc *c)
{
	return c->state == BIRDC_UP;
}

bool
birdc_is_connecting(const struct birdc *c)
{
	return c->state == BIRDC_CONNECTING || c->state == BIRDC_HELLO;
}

int
birdc_command(struct birdc *c, const char *cmd, birdc_done_fn done, void *arg, struct err *e)
{
	size_t len = strlen(cmd);

	if (len == 0 || len > BIRDC_CMD_MAX || strpbrk(cmd, "\r\n") != NULL)
		return err_set(e, "invalid-argument", "bad BIRD command (empty, too long or multi-line)");
	if (c->state != BIRDC_UP)
		return err_set(e, "bird-unavailable", "not connected to BIRD at %s", c->path);
	struct birdc_cmd *q = malloc(sizeof(*q) + len + 2);
	if (q == NULL)
		fatal("birdc_command");
	memcpy(q->text, cmd, len);
	q->text[len] = '\n';
	q->text[len + 1] = '\0';
	q->next = NULL;
	q->done = done;
	q->arg = arg;
	if (c->tail)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	client_send_next(c);
	return 0;
}

void
birdc_get_stats(const struct birdc *c, struct birdc_stats *out)
{
	*out = c->stats;
}
