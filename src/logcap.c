/* logcap — library lines on stderr are read on the loop and logged at debug; see logcap.h. */
#include "logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* One capture per process: it replaces the process-wide `stderr`. */
static struct {
	struct ev_loop *loop;
	ev_io io;
	FILE *orig, *cap;               /* the real stderr stream; the pipe's write end */
	int rfd;
	char line[LOGCAP_LINE_MAX + 1];
	size_t len;
	unsigned long lines, dropped;
} lc = { .rfd = -1 };

static void
logcap_emit(void)
{
	for (size_t i = 0; i < lc.len; i++)
		if ((unsigned char)lc.line[i] < 0x20 || lc.line[i] == 0x7f)
			lc.line[i] = '?';
	lc.line[lc.len] = '\0';
	if (lc.len > 0) {
		log_debug("library: %s", lc.line);
		lc.lines++;
	}
	lc.len = 0;
}

/* Reads what the pipe holds; a line longer than LOGCAP_LINE_MAX is cut into pieces. */
static void
logcap_drain(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(lc.rfd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || lc.len == LOGCAP_LINE_MAX) {
				logcap_emit();
				if (buf[i] == '\n')
					continue;
			}
			lc.line[lc.len++] = buf[i];
		}
	if (lc.cap != NULL && ferror(lc.cap)) {   /* a write found the pipe full */
		lc.dropped++;
		clearerr(lc.cap);
	}
}

static void
logcap_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	logcap_drain();
}

int
logcap_start(struct ev_loop *loop, struct err *e)
{
	int fds[2];
	FILE *cap;

	if (lc.rfd >= 0)
		return err_set(e, "internal", "logcap already started");
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(e, "internal", "pipe: %s", strerror(errno));
	if ((cap = fdopen(fds[1], "w")) == NULL) {
		err_set(e, "internal", "fdopen: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	setvbuf(cap, NULL, _IOLBF, 0);
	fflush(stderr);
	lc.loop = loop;
	lc.rfd = fds[0];
	lc.orig = stderr;
	lc.cap = cap;
	log_set_stream(lc.orig);
	stderr = cap;
	ev_io_init(&lc.io, logcap_cb, lc.rfd, EV_READ);
	ev_io_start(loop, &lc.io);
	return 0;
}

void
logcap_stop(void)
{
	if (lc.rfd < 0)
		return;
	fflush(lc.cap);
	logcap_drain();
	if (lc.len > 0)
		logcap_emit();
	ev_io_stop(lc.loop, &lc.io);
	stderr = lc.orig;
	log_set_stream(NULL);
	fclose(lc.cap);
	close(lc.rfd);
	lc.cap = NULL;
	lc.rfd = -1;
}

unsigned long
logcap_lines(void)
{
	return lc.lines;
}

unsigned long
logcap_dropped(void)
{
	return lc.dropped;
}
