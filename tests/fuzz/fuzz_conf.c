/*
 * fuzz_conf — the INI config reader (conf_load_string) on hostile text. Whatever the input,
 * it either returns a config whose normalised print reads back to the same print, or NULL
 * with a conf-invalid error naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
fz_print(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		abort();
	conf_print(c, f);
	fclose(f);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p1, *p2;
	struct conf *c, *c2;
	struct err e;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string(text, "fuzz.conf", &e);
	free(text);
	if (c == NULL) {
		if (e.code == NULL || strcmp(e.code, "conf-invalid") != 0 ||
		    strncmp(e.msg, "fuzz.conf", 9) != 0)
			abort();
		return 0;
	}
	p1 = fz_print(c);
	c2 = conf_load_string(p1, "print.conf", &e);
	if (c2 == NULL)
		abort();
	p2 = fz_print(c2);
	if (strcmp(p1, p2) != 0)
		abort();
	free(p1);
	free(p2);
	conf_free(c);
	conf_free(c2);
	return 0;
}
