/*
 * fuzz_b64 — libFuzzer target for authctx's strict base64 decoder. Besides not crashing, it
 * checks the property strictness implies: whatever decodes re-encodes (OpenSSL's encoder,
 * translated to SPEC's alphabet when the input used it) to exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "authctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[AUTHCTX_SIG_MAX];
	unsigned char *enc;
	size_t n = 0;
	int url = 0;

	if (authctx_b64_decode((const char *)data, size, out, sizeof(out), &n, NULL) == -1)
		return 0;
	if ((enc = malloc(4 * (n / 3 + 1) + 1)) == NULL)
		abort();
	EVP_EncodeBlock(enc, out, (int)n);
	for (size_t i = 0; i < size; i++)
		url |= data[i] == '-' || data[i] == '_' || data[i] == '~';
	if (url)
		for (unsigned char *p = enc; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '~' : *p == '=' ? '_' : *p;
	if (strlen((char *)enc) != size || memcmp(enc, data, size) != 0)
		abort();
	free(enc);
	return 0;
}
