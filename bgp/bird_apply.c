/*
 * bird_apply — the commit-confirm transaction. See bird_apply.h for the steps and decisions.
 *
 * Ownership: struct bird_apply owns the pending desired set and its waiters, and at most one
 * running struct txn (its desired set, waiters, the previous include file's bytes). Every step
 * is one birdc command whose completion calls the next step; txn_finish() is the only exit.
 * Teardown order for the daemon: birdc_free() first (in-flight commands then fail and the
 * transaction finishes with "bird-unavailable"), then bird_apply_free().
 */
#include "bird_apply.h"

#include <errno.h>
#include <ev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "failpoint.h"
#include "log.h"
#include "rib.h"

struct waiter {
	struct waiter *next;
	bird_apply_fn fn;
	void *arg;
};

struct txn {
	struct bird_apply *ap;
	uint64_t id;
	struct bird_routeset desired;
	struct waiter *waiters;
	char *prev;                 /* include file before this transaction (NULL: none) */
	size_t prev_len;
	bool written;               /* our file is on disk: restore prev on failure */
	bool timeout_sent;          /* BIRD may hold an unconfirmed config of ours */
	ev_tstamp t0, poll_deadline;
	const char *fail_code;      /* set while undoing before a failure is reported */
	char fail_msg[ERR_MSG_MAX];
	struct bird_routediff diff;
};

struct bird_apply {
	struct ev_loop *loop;
	struct birdc *c;
	char *include_path, *check_config;
	unsigned confirm_timeout;
	double poll_interval;
	struct txn *cur;
	bool has_pending;
	struct bird_routeset pending;
	struct waiter *pwaiters, **pwtail;
	ev_timer kick, poll;
	uint64_t next_id;
	struct bird_apply_stats stats;
};

static void txn_finish(struct txn *t, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The transaction result for a failed read-back: BIRD without our protocols is a config
 * problem; everything else (disconnect, timeout, unparseable reply) is bird-unavailable. */
static const char *
readback_code(const struct err *e)
{
	return strcmp(e->code, "bird-config-invalid") == 0 ? e->code : "bird-unavailable";
}

/* ---------------------------------------------------------------- finishing */

static void
restore_file(struct txn *t)
{
	struct err e;

	if (!t->written)
		return;
	if (t->prev == NULL) {
		if (unlink(t->ap->include_path) < 0)
			log_warn("bird_apply: remove %s", t->ap->include_path);
	} else if (bird_conf_write(t->ap->include_path, t->prev, t->prev_len, &e) < 0) {
		log_warnx("bird_apply: restoring %s: %s", t->ap->include_path, e.msg);
	}
	t->written = false;
}

static void
count_result(struct bird_apply_stats *s, const char *code)
{
	if (strcmp(code, "ok") == 0)
		s->ok++;
	else if (strcmp(code, "bird-config-invalid") == 0)
		s->config_invalid++;
	else if (strcmp(code, "bird-verify-failed") == 0)
		s->verify_failed++;
	else
		s->unavailable++;
}

/* Reports CODE to every waiter of T, frees T, and kicks the next transaction if one waits. */
static void
txn_finish(struct txn *t, const char *code, const char *fmt, ...)
{
	struct bird_apply *ap = t->ap;
	struct bird_apply_result res = { .code = code, .txn = t->id };
	va_list va;

	va_start(va, fmt);
	vsnprintf(res.message, sizeof(res.message), fmt, va);
	va_end(va);
	if (strcmp(code, "ok") != 0)
		restore_file(t);
	res.diff = t->diff;
	res.elapsed = ev_now(ap->loop) - t->t0;
	res.noop = strcmp(code, "ok") == 0 && !t->timeout_sent;
	count_result(&ap->stats, code);
	if (res.noop)
		ap->stats.noop++;
	ap->stats.last_elapsed = res.elapsed;
	if (strcmp(code, "ok") == 0)
		log_info("bird_apply: transaction %llu ok in %.3f s%s",
		    (unsigned long long)t->id, res.elapsed, res.noop ? " (no change)" : "");
	else
		log_warnx("bird_apply: transaction %llu %s: %s", (unsigned long long)t->id, code,
		    res.message);
	ap->cur = NULL;
	for (struct waiter *w = t->waiters, *next; w != NULL; w = next) {
		next = w->next;
		if (w->fn)
			w->fn(w->arg, &res);
		free(w);
	}
	bird_routediff_clear(&t->diff);
	bird_routeset_clear(&t->desired);
	free(t->prev);
	free(t);
	if (ap->has_pending)
		ev_timer_start(ap->loop, &ap->kick);
}

static void
undo_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct txn *t = arg;

	t->ap->stats.undos++;
	if (e != NULL)
		log_warnx("bird_apply: configure undo failed (%s); BIRD reverts at its timeout",
		    e->msg);
	else if (r->final_code != 3 && r->final_code != 4 && r->final_code != 5)
		log_warnx("bird_apply: configure undo answered %04d %s", r->final_code,
		    r->lines[r->n - 1].text);
	txn_finish(t, t->fail_code, "%s", t->fail_msg);
}

/* Fails T; first takes back an unconfirmed config of ours with `configure undo` if we can. */
static void
txn_fail_undo(struct txn *t, const char *code, const char *msg)
{
	struct err e;

	t->fail_code = code;
	snprintf(t->fail_msg, sizeof(t->fail_msg), "%s", msg);
	if (t->timeout_sent && birdc_command(t->ap->c, "configure undo", undo_reply, t, &e) == 0)
		return;
	txn_finish(t, code, "%s", msg);
}

/* ---------------------------------------------------------------- steps */

static const char *
last_text(const struct birdc_reply *r)
{
	return r->n ? r->lines[r->n - 1].text : "";
}

static void
confirm_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct txn *t = arg;

	if (e != NULL)
		txn_finish(t, "bird-unavailable", "configure confirm: %s", e->msg);
	else if (r->final_code == 18)
		txn_finish(t, "ok", "confirmed");
	else
		txn_finish(t, "bird-unavailable", "configure confirm answered %04d %s (the change "
		    "was reverted)", r->final_code, last_text(r));
}

static void
after_readback(void *arg, const struct bird_routeset *actual, const struct err *e)
{
	struct txn *t = arg;
	struct bird_routediff d = { 0 };
	struct err ce;

	if (e != NULL) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "read-back: %.400s", e->msg);
		txn_fail_undo(t, readback_code(e), msg);
		return;
	}
	if (!bird_routeset_equal(&t->desired, actual)) {
		bird_routediff_compute(&t->desired, actual, &d);
		char *s = bird_routediff_format(&d);
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "BIRD's routes differ from the desired set: %.400s",
		    s ? s : "?");
		free(s);
		bird_routediff_clear(&t->diff);
		t->diff = d;
		txn_fail_undo(t, "bird-verify-failed", msg);
		return;
	}
	failpoint_hit("bird_apply_before_confirm");
	if (birdc_command(t->ap->c, "configure confirm", confirm_reply, t, &ce) < 0)
		txn_finish(t, "bird-unavailable", "configure confirm: %s", ce.msg);
}

static void
readback(struct txn *t)
{
	struct err e;

	if (rib_read_own(t->ap->c, after_readback, t, &e) < 0)
		txn_fail_undo(t, "bird-unavailable", e.msg);
}

static void status_reply(void *arg, const struct birdc_reply *r, const struct err *e);

static void
on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bird_apply *ap = w->data;
	struct err e;
	(void)loop;
	(void)revents;

	if (ap->cur == NULL)
		return;
	if (birdc_command(ap->c, "configure status", status_reply, ap->cur, &e) < 0)
		txn_fail_undo(ap->cur, "bird-unavailable", e.msg);
}

/* 0003 applied -> read back; 0004/0005 -> poll again; anything else fails. */
static void
progress(struct txn *t, int code, const char *text)
{
	struct bird_apply *ap = t->ap;
	char msg[ERR_MSG_MAX];

	if (code == 3) {
		readback(t);
	} else if ((code == 4 || code == 5) && ev_now(ap->loop) < t->poll_deadline) {
		ev_timer_set(&ap->poll, ap->poll_interval, 0.0);
		ev_timer_start(ap->loop, &ap->poll);
	} else {
		snprintf(msg, sizeof(msg), "reconfiguration did not complete: %04d %.200s", code,
		    text);
		txn_fail_undo(t, "bird-unavailable", msg);
	}
}

static void
status_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct txn *t = arg;

	if (e != NULL) {
		txn_fail_undo(t, "bird-unavailable", e->msg);
		return;
	}
	if (r->final_code != 0 || r->n < 2) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "configure status answered %04d %.200s", r->final_code,
		    last_text(r));
		txn_fail_undo(t, "bird-unavailable", msg);
		return;
	}
	progress(t, r->lines[0].code, r->lines[0].text);
}

static void
timeout_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct txn *t = arg;

	if (e != NULL) {
		txn_fail_undo(t, "bird-unavailable", e->msg);
		return;
	}
	if (r->final_code == 8002) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%.400s", last_text(r));
		txn_fail_undo(t, "bird-config-invalid", msg);
		return;
	}
	t->poll_deadline = ev_now(t->ap->loop) + t->ap->confirm_timeout * 0.5;
	progress(t, r->final_code, last_text(r));
}

static void
check_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct txn *t = arg;
	struct err ce;
	char cmd[64];

	if (e != NULL) {
		txn_finish(t, "bird-unavailable", "configure check: %s", e->msg);
		return;
	}
	if (r->final_code == 8002) {
		txn_finish(t, "bird-config-invalid", "%s", last_text(r));
		return;
	}
	if (r->final_code != 20) {
		txn_finish(t, "bird-unavailable", "configure check answered %04d %s", r->final_code,
		    last_text(r));
		return;
	}
	snprintf(cmd, sizeof(cmd), "configure timeout %u", t->ap->confirm_timeout);
	t->timeout_sent = true;
	if (birdc_command(t->ap->c, cmd, timeout_reply, t, &ce) < 0) {
		t->timeout_sent = false;
		txn_finish(t, "bird-unavailable", "%s", ce.msg);
	}
}

/* Writes TEXT over the include file (the previous bytes are in t->prev), then sends
 * `configure check`: a main config that does not parse with our file is refused there, and
 * txn_finish puts the previous file back. */
static void
write_and_check(struct txn *t, const char *text, size_t len)
{
	struct bird_apply *ap = t->ap;
	struct err ce;
	char cmd[4200];

	if (bird_conf_write(ap->include_path, text, len, &ce) < 0) {
		txn_finish(t, "bird-unavailable", "%s", ce.msg);
		return;
	}
	t->written = true;
	if (ap->check_config)
		snprintf(cmd, sizeof(cmd), "configure check \"%s\"", ap->check_config);
	else
		snprintf(cmd, sizeof(cmd), "configure check");
	if (birdc_command(ap->c, cmd, check_reply, t, &ce) < 0)
		txn_finish(t, "bird-unavailable", "%s", ce.msg);
}

/* True when the read-back failed only because BIRD has no prefixd4/prefixd6: its include file
 * is missing, empty or foreign. The transaction then starts from "BIRD holds nothing of
 * ours" and writes the file, which is how prefixd owns it (bird_apply.h). */
static bool
protocols_missing(const struct err *e)
{
	return e != NULL && strcmp(e->code, "bird-config-invalid") == 0;
}

/* Renders the desired set and compares it with the include file: skips everything when BIRD
 * and the file both match; else writes the file and checks it (write_and_check). */
static void
after_before(void *arg, const struct bird_routeset *actual, const struct err *e)
{
	static const struct bird_routeset none;
	struct txn *t = arg;
	struct bird_apply *ap = t->ap;
	struct err ce;
	char *text = NULL;
	size_t len = 0;

	if (e != NULL && !protocols_missing(e)) {
		txn_finish(t, readback_code(e), "%s", e->msg);
		return;
	}
	if (e != NULL)
		log_warnx("bird_apply: %s; writing %s", e->msg, ap->include_path);
	bird_routediff_compute(&t->desired, e != NULL ? &none : actual, &t->diff);
	if (bird_conf_read(ap->include_path, &t->prev, &t->prev_len, &ce) < 0 &&
	    strcmp(ce.code, "not-found") != 0) {
		txn_finish(t, "bird-unavailable", "%s", ce.msg);
		return;
	}
	if (bird_conf_render(&t->desired, &text, &len) < 0)
		fatalx("bird_apply: out of memory rendering the include file");
	if (e == NULL && bird_routediff_empty(&t->diff) && t->prev != NULL &&
	    t->prev_len == len && memcmp(t->prev, text, len) == 0)
		txn_finish(t, "ok", "BIRD already matches");
	else
		write_and_check(t, text, len);
	free(text);
}

static void
txn_start(struct bird_apply *ap)
{
	struct txn *t = calloc(1, sizeof(*t));
	struct err e;

	if (t == NULL)
		fatalx("bird_apply: out of memory");
	t->ap = ap;
	t->id = ++ap->next_id;
	t->t0 = ev_now(ap->loop);
	t->desired = ap->pending;
	memset(&ap->pending, 0, sizeof(ap->pending));
	t->waiters = ap->pwaiters;
	ap->pwaiters = NULL;
	ap->pwtail = &ap->pwaiters;
	ap->has_pending = false;
	bird_routeset_normalize(&t->desired);
	ap->cur = t;
	ap->stats.transactions++;
	if (rib_read_own(ap->c, after_before, t, &e) < 0)
		txn_finish(t, "bird-unavailable", "%s", e.msg);
}

static void
on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bird_apply *ap = w->data;
	(void)loop;
	(void)revents;

	/* A connection attempt is under way (start-up, reconnect): wait for its outcome
	 * (on_bird_event kicks again) rather than fail with bird-unavailable at once. */
	if (ap->cur == NULL && ap->has_pending && !birdc_is_connecting(ap->c))
		txn_start(ap);
}

static void
on_bird_event(void *arg, bool up, const struct err *reason)
{
	struct bird_apply *ap = arg;
	(void)up;
	(void)reason;

	if (ap->cur == NULL && ap->has_pending)
		ev_timer_start(ap->loop, &ap->kick);
}

/* ---------------------------------------------------------------- public */

struct bird_apply *
bird_apply_new(struct ev_loop *loop, struct birdc *c, const struct bird_apply_config *cfg)
{
	struct bird_apply *ap = calloc(1, sizeof(*ap));

	if (ap == NULL || (ap->include_path = strdup(cfg->include_path)) == NULL)
		fatalx("bird_apply_new: out of memory");
	/* The path goes into `configure check "PATH"`: a quote or control byte would break
	 * the command line. Config validation should refuse it first; this is start-up. */
	if (cfg->check_config && strpbrk(cfg->check_config, "\"\\\n\r") != NULL)
		fatalx("bird config path has a quote, backslash or newline: %s", cfg->check_config);
	if (cfg->check_config && (ap->check_config = strdup(cfg->check_config)) == NULL)
		fatalx("bird_apply_new: out of memory");
	ap->loop = loop;
	ap->c = c;
	ap->confirm_timeout = cfg->confirm_timeout ? cfg->confirm_timeout : 30;
	ap->poll_interval = cfg->poll_interval > 0 ? cfg->poll_interval : 0.02;
	ap->pwtail = &ap->pwaiters;
	ev_timer_init(&ap->kick, on_kick, 0.0, 0.0);
	ev_init(&ap->poll, on_poll);
	ap->kick.data = ap->poll.data = ap;
	if (birdc_add_listener(c, on_bird_event, ap) < 0)
		fatalx("bird_apply_new: too many birdc listeners");
	return ap;
}

void
bird_apply_free(struct bird_apply *ap)
{
	struct bird_apply_result res = { .code = "bird-unavailable" };

	if (ap == NULL)
		return;
	ev_timer_stop(ap->loop, &ap->kick);
	ev_timer_stop(ap->loop, &ap->poll);
	snprintf(res.message, sizeof(res.message), "BIRD driver shut down");
	if (ap->cur != NULL) {
		/* Only reachable when birdc still runs: its callbacks will find ap gone. */
		log_warnx("bird_apply_free: a transaction is still running");
	}
	for (struct waiter *w = ap->pwaiters, *next; w != NULL; w = next) {
		next = w->next;
		if (w->fn)
			w->fn(w->arg, &res);
		free(w);
	}
	bird_routeset_clear(&ap->pending);
	free(ap->include_path);
	free(ap->check_config);
	free(ap);
}

int
bird_apply_request(struct bird_apply *ap, const struct bird_routeset *desired,
    bird_apply_fn done, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL || bird_routeset_copy(&ap->pending, desired) < 0)
		fatalx("bird_apply_request: out of memory");
	w->fn = done;
	w->arg = arg;
	*ap->pwtail = w;
	ap->pwtail = &w->next;
	ap->has_pending = true;
	ap->stats.requests++;
	if (ap->cur == NULL)
		ev_timer_start(ap->loop, &ap->kick);
	return 0;
}

struct dry_ctx {
	struct bird_apply *ap;
	struct bird_routeset desired;
	bird_apply_fn done;
	void *arg;
	ev_tstamp t0;
};

static void
dry_reply(void *arg, const struct bird_routeset *actual, const struct err *e)
{
	struct dry_ctx *x = arg;
	static const struct bird_routeset none;
	struct bird_apply_result res = { .code = "ok", .noop = true };

	if (e != NULL && !protocols_missing(e)) {
		res.code = "bird-unavailable";
		snprintf(res.message, sizeof(res.message), "%s", e->msg);
	} else {
		/* BIRD without our protocols: a transaction would write the file and add all */
		bird_routediff_compute(&x->desired, e != NULL ? &none : actual, &res.diff);
		snprintf(res.message, sizeof(res.message), "dry run: nothing changed");
	}
	res.elapsed = ev_now(x->ap->loop) - x->t0;
	x->done(x->arg, &res);
	bird_routediff_clear(&res.diff);
	bird_routeset_clear(&x->desired);
	free(x);
}

int
bird_apply_dry_run(struct bird_apply *ap, const struct bird_routeset *desired,
    bird_apply_fn done, void *arg, struct err *e)
{
	struct dry_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL || bird_routeset_copy(&x->desired, desired) < 0)
		fatalx("bird_apply_dry_run: out of memory");
	bird_routeset_normalize(&x->desired);
	x->ap = ap;
	x->done = done;
	x->arg = arg;
	x->t0 = ev_now(ap->loop);
	if (rib_read_own(ap->c, dry_reply, x, e) < 0) {
		bird_routeset_clear(&x->desired);
		free(x);
		return -1;
	}
	return 0;
}

struct recover_ctx {
	struct bird_apply *ap;
	bird_apply_recover_fn done;
	void *arg;
};

static void
recover_undo_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct recover_ctx *x = arg;

	if (e == NULL) {
		x->ap->stats.recovered++;
		log_warnx("bird_apply: undid an unconfirmed BIRD config left by an earlier run "
		    "(%04d %s)", r->final_code, last_text(r));
	}
	x->done(x->arg, e == NULL, e);
	free(x);
}

static void
recover_status_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct recover_ctx *x = arg;
	struct err ce;
	bool unconfirmed = false;

	if (e == NULL)
		for (size_t i = 0; i < r->n; i++)
			unconfirmed = unconfirmed || r->lines[i].code == 22;
	if (e != NULL || !unconfirmed || x->ap->cur != NULL) {
		/* A running transaction of ours owns the unconfirmed config: leave it alone. */
		x->done(x->arg, false, e);
		free(x);
		return;
	}
	if (birdc_command(x->ap->c, "configure undo", recover_undo_reply, x, &ce) < 0) {
		x->done(x->arg, false, &ce);
		free(x);
	}
}

int
bird_apply_recover(struct bird_apply *ap, bird_apply_recover_fn done, void *arg, struct err *e)
{
	struct recover_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		fatalx("bird_apply_recover: out of memory");
	x->ap = ap;
	x->done = done;
	x->arg = arg;
	if (birdc_command(ap->c, "configure status", recover_status_reply, x, e) < 0) {
		free(x);
		return -1;
	}
	return 0;
}

int
bird_apply_write_missing(struct bird_apply *ap, const struct bird_routeset *desired,
    struct err *e)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (ap->cur != NULL || stat(ap->include_path, &st) == 0 || errno != ENOENT)
		return 0;
	if (bird_conf_render(desired, &text, &len) < 0)
		fatalx("bird_apply: out of memory rendering the include file");
	rc = bird_conf_write(ap->include_path, text, len, e);
	free(text);
	return rc < 0 ? -1 : 1;
}

bool
bird_apply_include_current(const struct bird_apply *ap, const struct bird_routeset *desired,
    char *why, size_t whylen)
{
	char *have = NULL, *want = NULL;
	size_t have_len = 0, want_len = 0;
	struct err e;
	bool current = false;

	if (bird_conf_read(ap->include_path, &have, &have_len, &e) < 0) {
		snprintf(why, whylen, "include file %s is missing (%s)", ap->include_path,
		    e.msg);
		return false;
	}
	if (bird_conf_render(desired, &want, &want_len) < 0)
		fatalx("bird_apply: out of memory rendering the include file");
	if (have_len == 0)
		snprintf(why, whylen, "include file %s is empty", ap->include_path);
	else if (have_len != want_len || memcmp(have, want, want_len) != 0)
		snprintf(why, whylen, "include file %s differs from what prefixd renders "
		    "(foreign content)", ap->include_path);
	else
		current = true;
	free(have);
	free(want);
	return current;
}

bool
bird_apply_busy(const struct bird_apply *ap)
{
	return ap->cur != NULL || ap->has_pending;
}

void
bird_apply_get_stats(const struct bird_apply *ap, struct bird_apply_stats *out)
{
	*out = ap->stats;
}
