/*
 * fuzz_api — the control API's request handling (route match, role check, JSON body parsing,
 * field checks, handlers, group commit) on hostile input, with a real in-memory SQLite store.
 *
 * Input: first line "METHOD PATH", the rest is the body. The request runs as admin (the role
 * that reaches the most code) through api_dispatch and api_flush. Every answer must be a
 * status 200..599 with a JSON body; errors must be {"error":{"code","message"}}.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "conf.h"
#include "ipam.h"
#include "log.h"
#include "store.h"
#include "../unit/unit_daemon.h"

static struct daemon fz;

static void
fz_init(void)
{
	struct err e;

	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	if (unit_daemon_open(&fz, ":memory:", &e) < 0)
		abort();
}

static void
fz_check(const struct http_req *r)
{
	json_t *j, *err;

	if (r->status < 200 || r->status > 599 || r->resp == NULL)
		abort();
	if (strncmp(r->resp_type, "application/json", 16) != 0)
		return;                 /* /metrics */
	j = json_loadb(r->resp, r->resp_len, 0, NULL);
	if (j == NULL)
		abort();
	if (r->status >= 400) {
		err = json_object_get(j, "error");
		if (!json_is_string(json_object_get(err, "code")) ||
		    !json_is_string(json_object_get(err, "message")))
			abort();
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *nl = memchr(data, '\n', size);
	char line[256], *sp;
	struct http_req *r;
	size_t ll;

	if (!ready) {
		fz_init();
		ready = 1;
	}
	if (nl == NULL || (ll = (size_t)(nl - data)) >= sizeof(line))
		return 0;
	memcpy(line, data, ll);
	line[ll] = '\0';
	if (strlen(line) != ll || (sp = strchr(line, ' ')) == NULL)
		return 0;
	*sp = '\0';
	r = http_req_detached(line, sp + 1, (const char *)nl + 1, size - ll - 1, HTTP_ROLE_ADMIN);
	api_dispatch(r, &fz);
	api_flush(&fz);
	fz_check(r);
	http_req_free(r);
	return 0;
}
