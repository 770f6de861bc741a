/*
 * test_audit_events — the event feed and the audit routes without sockets (api_events.c):
 * GET /v1/events answers the latest events with last_id and their hashes, GET
 * /v1/audit/verify answers ok over an intact log and 409 audit-broken naming an edited
 * event, obs_alert records a system event (on its own, or undone with the caller's
 * rolled-back transaction), and a crossing of alarm_at becomes one alarm-raised event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "api.h"
#include "obs.h"
#include "audit.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "unit_daemon.h"

static struct daemon td;
static char dir[64], path[96];

static int
setup(void **state)
{
	struct err e;

	(void)state;
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	snprintf(dir, sizeof(dir), "/tmp/test_audit_events.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	return unit_daemon_open(&td, path, &e);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	unit_daemon_close(&td);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs one request to its answer; returns the parsed body (caller decrefs) and *status. */
static json_t *
run(const char *method, const char *p, const char *body, int *status)
{
	struct http_req *r = http_req_detached(method, p, body, strlen(body), HTTP_ROLE_ADMIN);
	json_t *j;

	api_dispatch(r, &td);
	api_flush(&td);
	*status = r->status;
	j = json_loadb(r->resp, r->resp_len, 0, NULL);
	http_req_free(r);
	assert_non_null(j);
	return j;
}

/* Lets the loop run for `seconds` (the feed's watcher ticks every 100 ms). */
static void
spin(double seconds)
{
	double end = ev_time() + seconds;

	while (ev_time() < end) {
		ev_run(td.loop, EVRUN_NOWAIT);
		usleep(5000);
	}
}

static void
ok(const char *method, const char *p, const char *body, int want)
{
	int status;

	json_decref(run(method, p, body, &status));
	assert_int_equal(status, want);
}

/* The scopes' events exist from the start; a pool adds one more. */
static void
test_events_answers_latest_events_with_last_id_and_hashes(void **state)
{
	json_t *j, *evs;
	int status;

	(void)state;
	ok("POST", "/v1/pools", "{\"name\":\"p\",\"scope\":\"private-default\"}", 201);
	j = run("GET", "/v1/events", "", &status);
	assert_int_equal(status, 200);
	evs = json_object_get(j, "events");
	assert_true(json_array_size(evs) >= 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs,
	    json_array_size(evs) - 1), "action")), "pool-create");
	assert_int_equal(json_integer_value(json_object_get(j, "last_id")),
	    json_integer_value(json_object_get(json_array_get(evs, json_array_size(evs) - 1),
	    "id")));
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(evs, 0),
	    "hash"))), AUDIT_HASH_HEXLEN);
	json_decref(j);
}

static void
test_audit_verify_route_ok_then_409_naming_the_edited_event(void **state)
{
	sqlite3 *db;
	json_t *j;
	int status;

	(void)state;
	ok("POST", "/v1/pools", "{\"name\":\"p\",\"scope\":\"private-default\"}", 201);
	j = run("GET", "/v1/audit/verify", "", &status);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "events")), 3);
	json_decref(j);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE events SET role = 'reader' WHERE id = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	j = run("GET", "/v1/audit/verify", "", &status);
	assert_int_equal(status, 409);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"),
	    "code")), "audit-broken");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "error"),
	    "message")), "event 2 does not match"));
	json_decref(j);
}

static int
last_action(void *arg, const struct store_event *ev)
{
	snprintf(arg, 64, "%s %s %s", ev->action, ev->actor, ev->role);
	return 0;
}

static void
test_alert_is_a_system_event(void **state)
{
	struct cidr c;
	struct err e;
	char got[64] = "";

	(void)state;
	assert_int_equal(cidr_parse("192.0.2.0/24", &c, NULL), 0);
	assert_int_equal(obs_alert(td.obs, "drift", "prefix", &c, "{\"missing\":1}", &e), 0);
	assert_int_equal(store_events_after(td.store, 0, 100, last_action, got, &e), 0);
	assert_string_equal(got, "drift prefixd system");
}

static void
test_alert_in_a_rolled_back_transaction_is_undone(void **state)
{
	struct audit_verifier v;
	struct err e;
	uint64_t before, after;
	char hash[AUDIT_HASH_HEXLEN + 1];

	(void)state;
	assert_int_equal(store_event_head(td.store, &before, hash, &e), 0);
	assert_int_equal(store_begin(td.store, &e), 0);
	assert_int_equal(obs_alert(td.obs, "rpki-stale", "rpki", NULL, NULL, &e), 0);
	assert_int_equal(store_rollback(td.store, &e), 0);
	assert_int_equal(store_event_head(td.store, &after, hash, &e), 0);
	assert_int_equal(after, before);
	assert_int_equal(store_audit_verify(td.store, &v, &e), 0);
}

static int
count_alarms(void *arg, const struct store_event *ev)
{
	if (strcmp(ev->action, "alarm-raised") == 0)
		(*(int *)arg)++;
	return 0;
}

static void
test_crossing_alarm_at_writes_one_alarm_raised_event(void **state)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f;
	struct err e;
	int n = 0;

	(void)state;
	ok("POST", "/v1/pools", "{\"name\":\"p\",\"scope\":\"private-default\",\"alarm_at\":50}", 201);
	ok("POST", "/v1/pools/p/provision", "{\"cidr\":\"10.0.0.0/24\"}", 201);
	ok("POST", "/v1/pools/p/allocations", "{\"netmask\":26}", 201);      /* 25 % */
	/* a scrape starts the watcher; its ticks scan the pools */
	f = open_memstream(&page, &len);
	metrics_render(td.metrics, f);
	fclose(f);
	free(page);
	spin(0.3);
	assert_int_equal(store_events_after(td.store, 0, 1000, count_alarms, &n, &e), 0);
	assert_int_equal(n, 0);
	ok("POST", "/v1/pools/p/allocations", "{\"netmask\":25}", 201);      /* 75 %: crosses */
	spin(0.3);
	ok("POST", "/v1/pools/p/allocations", "{\"netmask\":27}", 201);      /* 87.5 %: above */
	spin(0.3);
	assert_int_equal(store_events_after(td.store, 0, 1000, count_alarms, &n, &e), 0);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events_answers_latest_events_with_last_id_and_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_route_ok_then_409_naming_the_edited_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_is_a_system_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_in_a_rolled_back_transaction_is_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crossing_alarm_at_writes_one_alarm_raised_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
