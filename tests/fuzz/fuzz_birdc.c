/*
 * fuzz_birdc — libFuzzer target for everything prefixd parses from BIRD's control socket:
 * birdc's reply parser (framing) and, for every complete reply it yields, rib's `show route`
 * parser and the own-route / origin interpretation. The input is split in two at a byte chosen
 * by the first input byte, so replies cut across reads are covered too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "birdc.h"
#include "rib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_reply(void *arg, struct birdc_reply *r)
{
	struct rib_table t = { 0 };
	struct err e;
	(void)arg;

	if (rib_parse_show_route(r, &t, &e) == 0) {
		for (size_t i = 0; i < t.n; i++) {
			char buf[BIRD_PREFIX_STRLEN];
			uint32_t asn;
			bird_route_format(&t.v[i].net, buf, sizeof(buf));
			(void)rib_path_origin(t.v[i].as_path, &asn);
		}
	}
	rib_table_clear(&t);
	birdc_reply_free(r);
}

static void
on_async(void *arg, const char *text)
{
	(void)arg;
	(void)strlen(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct birdc_parser p;
	struct err e;
	size_t cut = size ? data[0] % (size + 1) : 0;

	birdc_parser_init(&p, on_reply, on_async, NULL);
	if (birdc_parser_feed(&p, (const char *)data, cut, &e) == 0)
		(void)birdc_parser_feed(&p, (const char *)data + cut, size - cut, &e);
	birdc_parser_reset(&p);
	return 0;
}
