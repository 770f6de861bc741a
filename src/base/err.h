/*
 * err — the error a refusal carries back to an operator.
 *
 * Every module that refuses input fills a struct err: a stable machine-readable code
 * (SPEC's codes: "overlap", "cidr-not-canonical", "pool-exhausted", ...) and a human message
 * that names the offending value. The API turns the code into an HTTP status and the body
 * {"error":{"code","message"}}; prefixctl prints both on stderr.
 *
 * Convention: a function that can refuse takes `struct err *e` (may be NULL) and returns 0 on
 * success or -1 after err_set(). `code` always points at a string literal, never at a buffer.
 */
#ifndef PREFIXD_ERR_H
#define PREFIXD_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

struct err {
	const char *code;           /* string literal, NULL while no error */
	char msg[ERR_MSG_MAX];
};

/* Sets code and a printf-style message. Returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears e (code NULL, empty message). */
void err_clear(struct err *e);

#endif
