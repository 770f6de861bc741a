/*
 * authctx_private — what the files of the rpki/authctx module share and nobody else needs:
 *   authctx.c        report helpers, key and certificate checks, RSA-PSS, evidence, the
 *                    blocking pipeline and the asynchronous runner
 *   authctx_parse.c  the message parser and the strict base64 decoder
 * It holds the report helpers both files use to record one line per check.
 */
#ifndef PREFIXD_AUTHCTX_PRIVATE_H
#define PREFIXD_AUTHCTX_PRIVATE_H

#include "authctx.h"
#include "err.h"

/* Appends one check line to r (if any room and r is not NULL). */
void authctx_report(struct authctx_result *r, const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records a failure both as a check line and in e; returns -1. */
int authctx_fail(struct authctx_result *r, struct err *e, const char *check, const char *code,
    const char *msg);

#endif
