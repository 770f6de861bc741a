/*
 * fuzz_cidr — libFuzzer target for cidr_parse / cidr_parse_addr, the parsers of every CIDR
 * an operator or a peer sends. Properties checked on every input:
 *   - no crash, no sanitizer report;
 *   - a refusal carries cidr-invalid or cidr-not-canonical;
 *   - an accepted prefix formats (RFC 5952) to text that parses back to the same prefix;
 *   - a cidr-not-canonical refusal names a canonical form that itself parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refusal(const struct err *e)
{
	const char *p;
	char canon[CIDR_STRLEN + 1];
	struct cidr c;
	size_t n;

	if (strcmp(e->code, "cidr-invalid") != 0 && strcmp(e->code, "cidr-not-canonical") != 0)
		abort();
	if (strcmp(e->code, "cidr-not-canonical") != 0)
		return;
	if ((p = strstr(e->msg, "canonical form is ")) == NULL)
		abort();
	p += strlen("canonical form is ");
	n = strlen(p);
	if (n == 0 || n > CIDR_STRLEN)
		abort();
	memcpy(canon, p, n + 1);
	if (cidr_parse(canon, &c, NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char out[CIDR_STRLEN];
	struct cidr c, d;
	struct err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err_clear(&e);
	if (cidr_parse(s, &c, &e) == 0) {
		cidr_format(&c, out, sizeof(out));
		if (cidr_parse(out, &d, NULL) != 0 || !cidr_equal(&c, &d))
			abort();
	} else {
		check_refusal(&e);
	}
	if (cidr_parse_addr(s, &c, NULL) == 0) {
		cidr_format_addr(&c, out, sizeof(out));
		if (cidr_parse_addr(out, &d, NULL) != 0 || !cidr_equal(&c, &d))
			abort();
	}
	free(s);
	return 0;
}
