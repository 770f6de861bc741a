/* log — see log.h. Single-threaded by design: only the loop thread logs. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <jansson.h>

static enum log_level cur_level = LOG_LEVEL_INFO;
static enum log_format cur_format = LOG_FORMAT_TEXT;
static char cur_request_id[80];    /* http request ids are at most 64 characters */
static FILE *cur_out;              /* NULL: stderr (logcap.c moves stdio's stderr elsewhere) */

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const char *const format_names[] = { "text", "json" };

void
log_init(enum log_level level, enum log_format format)
{
	cur_level = level;
	cur_format = format;
}

void
log_set_stream(FILE *out)
{
	cur_out = out;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum log_format)i;
			return 0;
		}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

const char *
log_format_name(enum log_format format)
{
	return format_names[format];
}

void
log_set_request_id(const char *id)
{
	if (id == NULL)
		cur_request_id[0] = '\0';
	else
		snprintf(cur_request_id, sizeof(cur_request_id), "%s", id);
}

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048], ts[64];
	struct timeval tv;
	struct tm tm;
	FILE *out = cur_out ? cur_out : stderr;

	if (level < cur_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));

	if (cur_format == LOG_FORMAT_JSON) {
		json_t *o;
		char *line;

		o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "msg", msg);
		if (o == NULL) {        /* msg quotes bytes that are not UTF-8: keep the line */
			for (char *p = msg; *p != '\0'; p++)
				if ((unsigned char)*p >= 0x80)
					*p = '?';
			o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level],
			    "msg", msg);
		}
		if (o != NULL && cur_request_id[0] != '\0')
			json_object_set_new(o, "request_id", json_string(cur_request_id));
		line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (line != NULL)
			fprintf(out, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		fprintf(out, "%s %s%s%s%s %s\n", ts, level_names[level],
		    cur_request_id[0] ? " [" : "", cur_request_id, cur_request_id[0] ? "]" : "", msg);
	}
	fflush(out);
}

#define LOG_FN(name, level)                          \
	void name(const char *fmt, ...)              \
	{                                            \
		va_list ap;                          \
		va_start(ap, fmt);                   \
		vlog(level, fmt, ap);          \
		va_end(ap);                          \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warnx, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void
log_warn(const char *fmt, ...)
{
	char buf[1024];
	const char *es = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", buf, es);
}

void
fatal(const char *fmt, ...)
{
	char buf[1024];
	const char *es = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_error("fatal: %s: %s", buf, es);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_error("fatal: %s", buf);
	exit(1);
}
