/*
 * libFuzzer target for what prefixctl reads from outside: the command line (ctl_parse, then
 * the accessors, completion and help of whatever it found), resource files for
 * `import --file` (ctl_import_parse) and the daemon's replies as the human output renders
 * them (tables, key/value blocks, refusal lines). The input is split at NUL bytes into argv
 * words; the whole input is also an import file and a reply body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define FUZZ_MAX_WORDS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise_argv(char *buf, size_t size, FILE *devnull)
{
	char *argv[FUZZ_MAX_WORDS + 1];
	int argc = 0;
	size_t i, start = 0, it = 0;
	struct ctl_inv inv;
	struct err e;
	long long n;

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

/* Renders the input as a reply: a table, an object and a refusal, all to /dev/null. */
static void
exercise_reply(const char *buf, size_t size, FILE *devnull)
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name" }, { "CIDR", "cidr" }, { "USED", "utilization.alarm" },
		{ NULL, NULL },
	};
	json_t *j = json_loadb(buf, size, JSON_DECODE_ANY, NULL);

	ctl_out_refusal(devnull, 409, buf);
	if (j == NULL)
		return;
	ctl_out_table(devnull, j, cols);
	ctl_out_object(devnull, j);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char *buf = malloc(size + 1);
	struct err e;
	json_t *j;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	j = ctl_import_parse(buf, size, &e);
	json_decref(j);
	exercise_reply(buf, size, devnull);
	exercise_argv(buf, size, devnull);
	free(buf);
	return 0;
}
