/*
 * logcap — keeps library chatter out of prefixd's log (issue 18, "log hygiene").
 *
 * Debian's librtr0 is built without NDEBUG, so its lrtr_dbg() writes "(date): RTR Socket: ..."
 * lines with fprintf(stderr) from its threads at every sync, and rtrlib 0.8.0 has no switch or
 * log hook to turn that off (no getenv, no callback: checked in /usr/include/rtrlib and the
 * library's symbols). logcap points stdio's `stderr` (a plain variable in glibc, which the
 * glibc manual allows to be assigned) at the write end of a pipe, and gives log.c the original
 * stream. The loop reads the pipe and logs each captured line at debug as
 * "library: <line>", in prefixd's own format: at log_level = info or above they are dropped,
 * at debug they are kept and readable.
 *
 * Only stdio's stream moves; file descriptor 2 stays the real stderr, so what is written to it
 * directly (a sanitizer report, glibc's abort message) still reaches the operator even when
 * the process dies before the loop could read the pipe. The write end is non-blocking: a loop
 * that is busy never blocks a library thread, whose surplus lines are dropped (and counted).
 *
 * Who calls it: prefixd.c, logcap_start() before any library thread starts (rtr_start), and
 * logcap_stop() after the last one has been joined. Captured lines are cut at
 * LOGCAP_LINE_MAX bytes, control characters become '?'.
 */
#ifndef PREFIXD_LOGCAP_H
#define PREFIXD_LOGCAP_H

#include <ev.h>

#include "err.h"

#define LOGCAP_LINE_MAX 1024

/* Starts capturing on loop. Returns 0, or -1 with e set (nothing changed then). */
int logcap_start(struct ev_loop *loop, struct err *e);

/* Logs what is still in the pipe, puts the original stderr back, closes the pipe. */
void logcap_stop(void);

/* Lines captured so far, and lines lost because the pipe was full. */
unsigned long logcap_lines(void);
unsigned long logcap_dropped(void);

#endif
