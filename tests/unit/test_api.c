/*
 * test_api — the API layer without sockets: route matching and captures, 404/405, roles,
 * body checks (unknown fields, types, depth), the error-status mapping, group commit of
 * several requests in one batch, and a refusal inside a batch. Requests are detached
 * (http_req_detached) and run against an in-memory SQLite store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "conf.h"
#include "ipam.h"
#include "log.h"
#include "store.h"
#include "unit_daemon.h"

static struct daemon td;

static int
setup(void **state)
{
	struct err e;

	(void)state;
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return unit_daemon_open(&td, ":memory:", &e);
}

static int
teardown(void **state)
{
	(void)state;
	unit_daemon_close(&td);
	return 0;
}

/* Starts a request (not yet flushed). */
static struct http_req *
start(const char *method, const char *path, const char *body, enum http_role role)
{
	struct http_req *r = http_req_detached(method, path, body, strlen(body), role);

	api_dispatch(r, &td);
	return r;
}

/* Runs one request to its answer; returns it (caller frees). */
static struct http_req *
run(const char *method, const char *path, const char *body, enum http_role role)
{
	struct http_req *r = start(method, path, body, role);

	api_flush(&td);
	assert_int_not_equal(r->status, 0);
	return r;
}

static const char *
code_of(const struct http_req *r, char *buf, size_t len)
{
	json_t *j = json_loads(r->resp, 0, NULL);
	const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

	snprintf(buf, len, "%s", c ? c : "");
	json_decref(j);
	return buf;
}

/* Asserts status and error code of one request. */
static void
expect(const char *method, const char *path, const char *body, enum http_role role,
    int status, const char *code)
{
	struct http_req *r = run(method, path, body, role);
	char buf[64];

	if (r->status != status)
		fail_msg("%s %s: want %d, got %d: %s", method, path, status, r->status, r->resp);
	if (code != NULL)
		assert_string_equal(code_of(r, buf, sizeof(buf)), code);
	http_req_free(r);
}

static void
test_unknown_path_is_no_such_route(void **state)
{
	(void)state;
	expect("GET", "/v1/nothing", "", HTTP_ROLE_ADMIN, 404, "no-such-route");
	expect("GET", "/v1/pools/a/b/c", "", HTTP_ROLE_ADMIN, 404, "no-such-route");
	expect("GET", "/v1/pools/", "", HTTP_ROLE_ADMIN, 404, "no-such-route");
}

static void
test_known_path_wrong_method_is_405(void **state)
{
	(void)state;
	expect("PATCH", "/v1/pools", "{}", HTTP_ROLE_ADMIN, 405, "method-not-allowed");
}

static void
test_reader_cannot_change_anything(void **state)
{
	(void)state;
	expect("POST", "/v1/pools", "{\"name\":\"x\",\"scope\":\"private-default\"}", HTTP_ROLE_READER,
	    403, "forbidden");
	expect("GET", "/v1/pools", "", HTTP_ROLE_READER, 200, NULL);
}

static void
test_operator_may_allocate_but_not_create_pools(void **state)
{
	(void)state;
	expect("POST", "/v1/pools", "{\"name\":\"op\",\"scope\":\"private-default\"}", HTTP_ROLE_OPERATOR,
	    403, "forbidden");
	expect("POST", "/v1/pools", "{\"name\":\"op\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN,
	    201, NULL);
	expect("POST", "/v1/pools/op/provision", "{\"cidr\":\"172.16.0.0/12\"}", HTTP_ROLE_ADMIN, 201, NULL);
	expect("POST", "/v1/pools/op/allocations", "{\"netmask\":24}", HTTP_ROLE_OPERATOR, 201, NULL);
}

static void
test_unknown_field_is_named(void **state)
{
	struct http_req *r;

	(void)state;
	r = run("POST", "/v1/pools", "{\"name\":\"x\",\"scope\":\"private-default\",\"colour\":1}",
	    HTTP_ROLE_ADMIN);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(r->resp, "unknown-field"));
	assert_non_null(strstr(r->resp, "colour"));
	http_req_free(r);
}

static void
test_wrong_type_is_invalid_argument(void **state)
{
	(void)state;
	expect("POST", "/v1/pools", "{\"name\":[],\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN,
	    400, "invalid-argument");
}

static void
test_nesting_beyond_limit_is_refused_before_parsing(void **state)
{
	char body[400];
	int n = 0;

	(void)state;
	n += snprintf(body + n, sizeof(body) - (size_t)n, "{\"tags\":");
	for (int i = 0; i < API_MAX_DEPTH + 1; i++)
		body[n++] = '[';
	for (int i = 0; i < API_MAX_DEPTH + 1; i++)
		body[n++] = ']';
	snprintf(body + n, sizeof(body) - (size_t)n, "}");
	expect("POST", "/v1/pools", body, HTTP_ROLE_ADMIN, 400, "invalid-json");
}

static void
test_brackets_inside_strings_do_not_count_as_nesting(void **state)
{
	char body[512];

	(void)state;
	snprintf(body, sizeof(body), "{\"name\":\"deep\",\"scope\":\"private-default\",\"description\":"
	    "\"%s\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	expect("POST", "/v1/pools", body, HTTP_ROLE_ADMIN, 201, NULL);
}

static void
test_empty_body_is_an_empty_object(void **state)
{
	(void)state;
	expect("POST", "/v1/scopes", "", HTTP_ROLE_ADMIN, 400, "invalid-argument");
}

static void
test_path_parameter_is_captured(void **state)
{
	struct http_req *r;

	(void)state;
	expect("POST", "/v1/pools", "{\"name\":\"cap-1\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN,
	    201, NULL);
	r = run("GET", "/v1/pools/cap-1", "", HTTP_ROLE_READER);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->resp, "\"name\":\"cap-1\""));
	http_req_free(r);
}

static void
test_status_mapping_follows_the_readme(void **state)
{
	(void)state;
	assert_int_equal(api_status_of("cidr-not-canonical"), 400);
	assert_int_equal(api_status_of("not-found"), 404);
	assert_int_equal(api_status_of("overlap"), 409);
	assert_int_equal(api_status_of("pool-exhausted"), 409);
	assert_int_equal(api_status_of("token-conflict"), 409);
	assert_int_equal(api_status_of("missing-tag"), 422);
	assert_int_equal(api_status_of("locale-mismatch"), 422);
	assert_int_equal(api_status_of("storage-full"), 503);
	assert_int_equal(api_status_of("some-future-code"), 400);
}

/* Several changes queued in one iteration share one batch; each gets its own answer. */
static void
test_batch_answers_each_request_after_commit(void **state)
{
	struct http_req *r[6];
	char buf[64];

	(void)state;
	expect("POST", "/v1/pools", "{\"name\":\"batch\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN,
	    201, NULL);
	expect("POST", "/v1/pools/batch/provision", "{\"cidr\":\"192.168.0.0/24\"}", HTTP_ROLE_ADMIN,
	    201, NULL);
	for (int i = 0; i < 5; i++)
		r[i] = start("POST", "/v1/pools/batch/allocations", "{\"netmask\":26}", HTTP_ROLE_OPERATOR);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i]->status, 0);     /* nothing answered before the commit */
	api_flush(&td);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i]->status, 201);
	assert_int_equal(r[4]->status, 409);            /* a /24 holds four /26s */
	assert_string_equal(code_of(r[4], buf, sizeof(buf)), "pool-exhausted");
	for (int i = 0; i < 5; i++)
		http_req_free(r[i]);
	r[5] = run("GET", "/v1/pools/batch", "", HTTP_ROLE_READER);
	assert_int_equal(r[5]->status, 200);
	assert_non_null(strstr(r[5]->resp, "\"utilization_percent\":100"));
	http_req_free(r[5]);
}

/* A request refused inside a batch leaves the other changes of that batch in place. */
static void
test_refusal_in_batch_keeps_the_others(void **state)
{
	struct http_req *a, *b, *c;

	(void)state;
	a = start("POST", "/v1/pools", "{\"name\":\"mix-a\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN);
	b = start("POST", "/v1/pools", "{\"name\":\"mix-a\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN);
	c = start("POST", "/v1/pools", "{\"name\":\"mix-c\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN);
	api_flush(&td);
	assert_int_equal(a->status, 201);
	assert_int_equal(b->status, 409);
	assert_int_equal(c->status, 201);
	assert_non_null(ipam_pool_find(td.ipam, "mix-a"));
	assert_non_null(ipam_pool_find(td.ipam, "mix-c"));
	http_req_free(a);
	http_req_free(b);
	http_req_free(c);
}

static void
test_preview_answers_without_batch(void **state)
{
	struct http_req *r;

	(void)state;
	expect("POST", "/v1/pools", "{\"name\":\"pv\",\"scope\":\"private-default\"}", HTTP_ROLE_ADMIN, 201, NULL);
	expect("POST", "/v1/pools/pv/provision", "{\"cidr\":\"10.200.0.0/16\"}", HTTP_ROLE_ADMIN, 201, NULL);
	r = start("POST", "/v1/pools/pv/allocations", "{\"netmask\":24,\"preview\":true}", HTTP_ROLE_OPERATOR);
	assert_int_equal(r->status, 200);               /* answered before any flush */
	assert_non_null(strstr(r->resp, "\"cidr\":\"10.200.0.0/24\""));
	http_req_free(r);
	assert_int_equal(ipam_pool_find(td.ipam, "pv")->nallocs, 0);
}

static void
test_non_ascii_in_path_gives_a_clean_error(void **state)
{
	struct http_req *r;

	(void)state;
	r = run("GET", "/v1/pools/\xff\xfe\xc3", "", HTTP_ROLE_READER);
	assert_int_equal(r->status, 404);
	assert_non_null(strstr(r->resp, "not-found"));
	http_req_free(r);
}

/* The lifecycle reports codes only; the API's one table gives their statuses. */
static void
test_one_table_maps_the_lifecycle_codes(void **state)
{
	(void)state;
	assert_int_equal(api_status_of("rate-limited"), 429);
	assert_int_equal(api_status_of("bird-verify-failed"), 503);
	assert_int_equal(api_status_of("bird-unavailable"), 503);
	assert_int_equal(api_status_of("rpki-stale"), 503);
	assert_int_equal(api_status_of("rpki-invalid"), 422);
	assert_int_equal(api_status_of("rpki-not-found"), 422);
	assert_int_equal(api_status_of("other-origin-present"), 409);
	assert_int_equal(api_status_of("not-provisioned"), 409);
	assert_int_equal(api_status_of("too-many"), 409);
}

static void
dummy_handler(struct api_ctx *ctx)
{
	(void)ctx;
}

static const struct api_route dup_routes[] = {
	{ "POST", "/v1/pools/{name}/provision", HTTP_ROLE_ADMIN, dummy_handler },
};
static API_TABLE(dup_table, dup_routes);

static const struct api_route twice_routes[] = {
	{ "GET", "/v1/x", HTTP_ROLE_READER, dummy_handler },
	{ "GET", "/v1/x", HTTP_ROLE_READER, dummy_handler },
};
static API_TABLE(twice_table, twice_routes);

/* A second handler for a METHOD and pattern already served is refused, naming both tables,
 * and adds nothing; the same pattern with another method is fine. */
static void
test_duplicate_route_is_refused_at_start(void **state)
{
	struct api *a = api_new();
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(api_add_routes(a, &api_prefix_routes, &e), 0);
	assert_int_equal(api_add_routes(a, &dup_table, &e), -1);
	assert_string_equal(e.code, "duplicate-route");
	assert_non_null(strstr(e.msg, "POST /v1/pools/{name}/provision"));
	assert_non_null(strstr(e.msg, "api_prefix_routes"));
	assert_non_null(strstr(e.msg, "dup_table"));
	err_clear(&e);
	assert_int_equal(api_add_routes(a, &twice_table, &e), -1);
	assert_string_equal(e.code, "duplicate-route");
	api_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_path_is_no_such_route),
		cmocka_unit_test(test_known_path_wrong_method_is_405),
		cmocka_unit_test(test_reader_cannot_change_anything),
		cmocka_unit_test(test_operator_may_allocate_but_not_create_pools),
		cmocka_unit_test(test_unknown_field_is_named),
		cmocka_unit_test(test_wrong_type_is_invalid_argument),
		cmocka_unit_test(test_nesting_beyond_limit_is_refused_before_parsing),
		cmocka_unit_test(test_brackets_inside_strings_do_not_count_as_nesting),
		cmocka_unit_test(test_empty_body_is_an_empty_object),
		cmocka_unit_test(test_path_parameter_is_captured),
		cmocka_unit_test(test_status_mapping_follows_the_readme),
		cmocka_unit_test(test_batch_answers_each_request_after_commit),
		cmocka_unit_test(test_refusal_in_batch_keeps_the_others),
		cmocka_unit_test(test_preview_answers_without_batch),
		cmocka_unit_test(test_non_ascii_in_path_gives_a_clean_error),
		cmocka_unit_test(test_duplicate_route_is_refused_at_start),
		cmocka_unit_test(test_one_table_maps_the_lifecycle_codes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
