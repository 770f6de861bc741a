/*
 * fuzz_rdap — libFuzzer target for the RDAP side of the proof check: arbitrary bytes as the
 * RDAP document for 192.0.2.0/24, through rdap_record_certs (JSON, coverage, PEM extraction)
 * and on through authctx_verify_doc (certificate parsing, key checks, RSA-PSS) with a fixed
 * well-formed message and a 256-byte signature that no key verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authctx.h"
#include "rdap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG "1|prefixd|example-net|192.0.2.0/24|20270101|SHA256|RSAPSS"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authctx_conf c;
	static char sig[345];
	struct rdap_pems p;
	struct authctx_result *r;
	struct err e = { 0 };

	if (c.max_validity_days == 0) {
		authctx_conf_init(&c);
		strcpy(c.owner_id, "example-net");
		memset(sig, 'A', 342);
		sig[342] = sig[343] = '=';
	}
	if (rdap_record_certs((const char *)data, size, "192.0.2.0/24", &p, &e) == 0) {
		if (p.n > RDAP_MAX_CERTS || p.n > p.markers)
			abort();
		rdap_pems_clear(&p);
	}
	r = authctx_result_new();
	/* 2026-11-21 00:00 UTC */
	if (authctx_verify_doc(&c, "192.0.2.0/24", MSG, sig, (const char *)data, size, "fuzz",
	    1795219200, r) == 0)
		abort();
	authctx_result_free(r);
	return 0;
}
