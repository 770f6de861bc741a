/*
 * fuzz_tokens — libFuzzer target for the TCP listener's tokens file ([daemon] tokens_file),
 * read by http_tokens_load at start-up and on SIGHUP. The input is the file's content, written
 * to a memfd and loaded through /proc/self/fd/N as prefixd would load a path. Besides not
 * crashing: a refused file leaves the table loaded before it in place (a second load of the
 * same bytes must give the same verdict), and the error names the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http *fz_http;

static void
fz_req(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim = { .max_body = 1 << 20, .request_timeout = 30, .max_connections = 64 };
	char path[64];
	struct err e1, e2;
	int fd, r1, r2;

	if (fz_http == NULL) {
		log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
		fz_http = http_new(ev_default_loop(0), &lim, fz_req, NULL);
	}
	/* a memfd is 0777; a file others may write is refused before its content is read */
	if ((fd = memfd_create("tokens", MFD_CLOEXEC)) < 0 || fchmod(fd, 0600) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err_clear(&e1);
	err_clear(&e2);
	r1 = http_tokens_load(fz_http, path, &e1);
	r2 = http_tokens_load(fz_http, path, &e2);
	if (r1 != r2 || (r1 < 0 && (strstr(e1.msg, path) == NULL || strcmp(e1.msg, e2.msg) != 0)))
		abort();
	close(fd);
	return 0;
}
