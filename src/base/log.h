/*
 * log — the daemon's one logging API (after OpenBGPD's log.c).
 *
 *   log_debug / log_info / log_warnx / log_error   a message at that level
 *   log_warn                                        like log_warnx, appends ": strerror(errno)"
 *   fatal / fatalx                                  log and exit(1); only at start-up or on OOM,
 *                                                   never because of input from outside
 *
 * Output goes to stderr, as text ("2026-11-21T04:21:42.818Z info message") or as JSON lines
 * ({"ts":..,"level":..,"msg":..,"request_id":..}) for log shippers. A request id set with
 * log_set_request_id() is attached to every line until it is cleared with NULL; the API sets
 * it while it handles a request.
 */
#ifndef PREFIXD_LOG_H
#define PREFIXD_LOG_H

#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_init(enum log_level level, enum log_format format);
/* Parses "debug|info|warn|error" / "text|json"; returns 0 or -1 for an unknown word. */
int  log_level_parse(const char *s, enum log_level *out);
int  log_format_parse(const char *s, enum log_format *out);
const char *log_level_name(enum log_level level);
const char *log_format_name(enum log_format format);
void log_set_request_id(const char *id);
/* Writes the log to out from now on (NULL: stderr, the default); see logcap.h. */
void log_set_stream(FILE *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
