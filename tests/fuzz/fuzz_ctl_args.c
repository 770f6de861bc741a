/*
 * libFuzzer target for prefixctl's local input parsers: the command line (ctl_parse, then
 * the accessors, completion and help of whatever it found) and resource files for
 * `import --file` (ctl_import_parse). The input is split at NUL bytes into argv words; the
 * whole input is also handed to the import parser as a file's contents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define FUZZ_MAX_WORDS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise_argv(char *buf, size_t size)
{
	static FILE *devnull;
	char *argv[FUZZ_MAX_WORDS + 1];
	int argc = 0;
	size_t i, start = 0, it = 0;
	struct ctl_inv inv;
	struct err e;
	long long n;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	for (i = 0; i <= size && argc < FUZZ_MAX_WORDS; i++)
		if (i == size || buf[i] == '\0') {
			buf[i] = '\0';
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	if (ctl_parse(argc, argv, &inv, &e) < 0) {
		if (e.code == NULL || strlen(e.msg) >= sizeof(e.msg))
			abort();
		return;
	}
	ctl_complete(devnull, argc, argv, NULL);
	if (inv.cmd == NULL)
		return;
	ctl_help_cmd(devnull, inv.cmd);
	(void)ctl_inv_str(&inv, "scope");
	(void)ctl_inv_num(&inv, "netmask", &n);
	while (ctl_inv_next(&inv, "tag", &it) != NULL)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct err e;
	json_t *j;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	j = ctl_import_parse(buf, size, &e);
	json_decref(j);
	exercise_argv(buf, size);
	free(buf);
	return 0;
}
