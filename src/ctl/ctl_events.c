/*
 * ctl_events — prefixctl's event feed and audit commands (SPEC §6, issue 9):
 *
 *   events [--after ID] [--limit N] [--follow]
 *       GET /v1/events: the latest N events (or those after ID), one line each. --follow
 *       then keeps asking with a long poll (after=last_id&wait=S) and prints each new event
 *       as it is committed (alerts such as alarm-raised included), flushing every line,
 *       until interrupted or the daemon goes away (exit 3). With --json every event is one
 *       JSON line (the feed's objects), so a follower can be piped to jq. A long poll
 *       refused 429 too-many-long-polls (the daemon's cap, http.h) is asked again a second
 *       later, as its Retry-After says; the follower says so once on stderr and keeps going.
 *   audit verify
 *       GET /v1/audit/verify: exit 0 and the number of events checked, keyed or unkeyed,
 *       or exit 1 with "audit-broken: event N ..." naming the first event that does not check.
 *
 * `history CIDR` is in ctl_ipam.c. Contributes ctl_events_cmds[] to the registry (ctl.h).
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_FOLLOW_WAIT_MAX 25       /* seconds per long poll; below the request timeout */
#define EVENTS_BUSY (-1)                /* events_fetch: 429, every long poll slot is taken */

/* One event as a line: id, time, action, actor (role), object kind, CIDR, what changed. */
static void
print_event_line(struct ctl_ctx *ctx, json_t *ev)
{
	char cidr[64], what[512], t[64], ac[128], who[256], ro[64], kind[64];
	json_t *after = json_object_get(ev, "after"), *before = json_object_get(ev, "before");
	char *s = NULL;

	ctl_out_cell(json_object_get(ev, "cidr"), cidr, sizeof(cidr));
	if (!json_is_null(after) && after != NULL)
		s = json_dumps(after, JSON_COMPACT | JSON_ENCODE_ANY);
	else if (!json_is_null(before) && before != NULL)
		s = json_dumps(before, JSON_COMPACT | JSON_ENCODE_ANY);
	ctl_out_text(s, what, sizeof(what));
	free(s);
	fprintf(ctx->out, "%-6lld %s %-16s %s(%s) %s %s %s\n",
	    (long long)json_integer_value(json_object_get(ev, "id")),
	    ctl_out_text(json_string_value(json_object_get(ev, "time")), t, sizeof(t)),
	    ctl_out_text(json_string_value(json_object_get(ev, "action")), ac, sizeof(ac)),
	    ctl_out_text(json_string_value(json_object_get(ev, "actor")), who, sizeof(who)),
	    ctl_out_text(json_string_value(json_object_get(ev, "role")), ro, sizeof(ro)),
	    ctl_out_text(json_string_value(json_object_get(ev, "object_kind")), kind,
	    sizeof(kind)), cidr, what);
}

static void
print_events(struct ctl_ctx *ctx, json_t *reply)
{
	size_t i;
	json_t *ev;

	json_array_foreach(json_object_get(reply, "events"), i, ev) {
		if (ctx->json) {
			char *s = json_dumps(ev, JSON_COMPACT);
			if (s != NULL)
				fprintf(ctx->out, "%s\n", s);
			free(s);
		} else {
			print_event_line(ctx, ev);
		}
	}
	fflush(ctx->out);
}

/* GET path; on 200 prints the events and sets *last; EVENTS_BUSY on 429 (the long poll cap);
 * otherwise an exit status (> 0). */
static int
events_fetch(struct ctl_ctx *ctx, const char *path, long long *last)
{
	struct ctl_reply r = { 0 };
	struct err e;
	json_t *j;

	err_clear(&e);
	if (ctl_http(ctx, "GET", path, NULL, &r, &e) < 0) {
		fprintf(ctx->errf, "prefixctl: %s: %s\n", e.code ? e.code : "unreachable", e.msg);
		return CTL_EXIT_UNREACHABLE;
	}
	if (r.status == 429) {
		ctl_reply_free(&r);
		return EVENTS_BUSY;
	}
	if (r.status != 200) {
		ctl_out_refusal(ctx->errf, r.status, r.body);
		ctl_reply_free(&r);
		return CTL_EXIT_REFUSED;
	}
	j = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
	ctl_reply_free(&r);
	if (!json_is_integer(json_object_get(j, "last_id"))) {
		json_decref(j);
		fprintf(ctx->errf, "prefixctl: the daemon's event feed reply is unreadable\n");
		return CTL_EXIT_UNREACHABLE;
	}
	print_events(ctx, j);
	*last = json_integer_value(json_object_get(j, "last_id"));
	json_decref(j);
	return CTL_EXIT_OK;
}

static int
run_events(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;
	char num[24];
	long long last = 0, wait = ctx->timeout_ms / 1000 - 2;
	const struct timespec retry = { 1, 0 };
	bool said = false;
	int rc;

	ctl_path_init(&p, "/v1/events");
	if (ctl_path_query(&p, "after", ctl_inv_str(inv, "after")) < 0 ||
	    ctl_path_query(&p, "limit", ctl_inv_str(inv, "limit")) < 0) {
		fprintf(ctx->errf, "prefixctl: request too long\n");
		return CTL_EXIT_USAGE;
	}
	if (!ctl_inv_flag(inv, "follow"))
		return ctl_request(ctx, "GET", p.s, NULL, print_events);
	if ((rc = events_fetch(ctx, p.s, &last)) != CTL_EXIT_OK)
		return rc == EVENTS_BUSY ? CTL_EXIT_REFUSED : rc;     /* not a long poll: never */
	if (wait > EVENTS_FOLLOW_WAIT_MAX)
		wait = EVENTS_FOLLOW_WAIT_MAX;
	if (wait < 1)
		wait = 1;
	for (;;) {
		ctl_path_init(&p, "/v1/events");
		snprintf(num, sizeof(num), "%lld", last);
		ctl_path_query(&p, "after", num);
		ctl_path_query(&p, "limit", ctl_inv_str(inv, "limit"));
		snprintf(num, sizeof(num), "%lld", wait);
		ctl_path_query(&p, "wait", num);
		if ((rc = events_fetch(ctx, p.s, &last)) == EVENTS_BUSY) {
			if (!said)
				fprintf(ctx->errf, "prefixctl: too-many-long-polls: every long poll slot "
				    "of the daemon is taken; asking again every second\n");
			said = true;
			nanosleep(&retry, NULL);
		} else if (rc != CTL_EXIT_OK) {
			return rc;
		}
	}
}

static void
print_verify(struct ctl_ctx *ctx, json_t *reply)
{
	fprintf(ctx->out, "audit chain intact: %lld events, head event %lld %s\n",
	    (long long)json_integer_value(json_object_get(reply, "events")),
	    (long long)json_integer_value(json_object_get(reply, "head_id")),
	    json_string_value(json_object_get(reply, "head")) ?: "-");
	if (json_is_true(json_object_get(reply, "keyed")))
		fprintf(ctx->out, "keyed: HMAC with key %s from event %lld; published head: event "
		    "%lld\n", json_string_value(json_object_get(reply, "key_id")) ?: "-",
		    (long long)json_integer_value(json_object_get(reply, "keyed_from")),
		    (long long)json_integer_value(json_object_get(reply, "published_head_id")));
	else
		fprintf(ctx->out, "unkeyed: shows accidental damage, not an edit by someone who can "
		    "write the store (set [daemon] audit_key_file)\n");
}

static int
run_audit_verify(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return ctl_request(ctx, "GET", "/v1/audit/verify", NULL, print_verify);
}

static const struct ctl_opt opt_events[] = {
	{ "after", CTL_NUM, 0, "ID", 0, 9007199254740991LL, NULL,
	  "only events after this id (default: the latest)" },
	{ "limit", CTL_NUM, 0, "N", 1, 1000, NULL, "at most N events per answer (default 100)" },
	{ "follow", CTL_FLAG, 0, NULL, 0, 0, NULL,
	  "keep printing new events (alerts included) as they are committed" },
	{ 0 },
};

const struct ctl_cmd ctl_events_cmds[] = {
	{ "events", "[--after ID] [--limit N] [--follow]",
	  "the event log: every change and alert, oldest first", NULL, opt_events, NULL,
	  run_events },
	{ "audit verify", "", "check the event log's hash chain; names the first broken event",
	  NULL, NULL, NULL, run_audit_verify },
	{ 0 },
};
