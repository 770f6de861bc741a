/*
 * fuzz_authmsg — libFuzzer target for authctx's message parser (authctx_check_message):
 * arbitrary bytes as the authorization message for 192.0.2.0/24 / 2001:db8::/32 with a fixed
 * configuration and clock. The first byte picks the subject (bit 0: the family; bit 1: the
 * ASN AS64500 instead, issue 21). Must never crash, and a message
 * accepted must be exactly 7 '|'-separated printable fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authctx_conf c;
	struct authctx_result *r;
	struct err e = { 0 };
	const char *prefix;
	size_t bars = 0;

	if (size == 0)
		return 0;
	if (c.max_validity_days == 0) {
		authctx_conf_init(&c);
		strcpy(c.owner_id, "example-net");
	}
	prefix = data[0] & 2 ? "AS64500" : data[0] & 1 ? "2001:db8::/32" : "192.0.2.0/24";
	r = authctx_result_new();
	/* 2026-11-21 00:00 UTC: a fixed clock keeps runs reproducible. */
	if (authctx_check_message(&c, prefix, (const char *)data + 1, size - 1, 1795219200, r,
	    &e) == 0) {
		for (size_t i = 1; i < size; i++)
			bars += data[i] == '|';
		if (bars != 6 || e.code != NULL)
			abort();
	} else if (e.code == NULL || r->nchecks == 0 || r->checks[r->nchecks - 1].ok)
		abort();
	authctx_result_free(r);
	return 0;
}
