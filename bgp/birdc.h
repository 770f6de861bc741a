/*
 * birdc — asynchronous client for BIRD 2's control socket, on the daemon's libev loop.
 *
 * Two layers:
 *   - a pure reply parser (birdc_parser_*) that turns bytes into replies, with no I/O, so unit
 *     tests and the fuzzer feed it directly;
 *   - a client (birdc_new/..._command) that connects to the unix socket without blocking, waits
 *     for BIRD's "0001" hello, sends one command at a time from a FIFO queue, and completes
 *     each with its parsed reply or an error. It reconnects with exponential backoff.
 *
 * Used by bird_apply, rib and reconcile (bgp/), and by the daemon for `bird status`.
 *
 * Framing (BIRD 2.0.12, nest/cli.c and client/client.c): "DDDD-text" is a line of a reply with
 * more to follow, "DDDD text" is the final line, " text" continues with the previous line's
 * code, "+text" is asynchronous output that may arrive between replies. Codes are four digits
 * in the classes 0xxx, 1xxx, 2xxx, 8xxx, 9xxx. Anything else — another first byte, a code of
 * another class, a NUL or control byte, a line longer than BIRDC_LINE_MAX, a reply larger than
 * BIRDC_REPLY_MAX — is a protocol error: the parser stops, the client drops the connection
 * and fails the command in flight. It never guesses.
 */
#ifndef PREFIXD_BIRDC_H
#define PREFIXD_BIRDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ev_loop;

#define BIRDC_LINE_MAX   1024                  /* BIRD writes at most 512-byte lines */
#define BIRDC_REPLY_MAX  (256u * 1024 * 1024)  /* bytes of one reply (huge show route) */
#define BIRDC_CMD_MAX    4000                  /* BIRD refuses commands over 4096 bytes */

struct birdc_line {
	int code;               /* 0..9999 */
	char *text;             /* without the "DDDD-" / "DDDD " / " " prefix, NUL-terminated */
};

/* One complete reply: every line (the final one included) and the final line's code. */
struct birdc_reply {
	struct birdc_line *lines;
	size_t n, cap;
	int final_code;
	size_t bytes;           /* bytes received for this reply, for the size cap */
};

void birdc_reply_free(struct birdc_reply *r);   /* frees the contents; r itself is the caller's */

/* The pure parser. Callbacks receive each complete reply (ownership passes to the callee,
 * which must birdc_reply_free() it) and each asynchronous "+" line (text borrowed). */
struct birdc_parser {
	void (*on_reply)(void *arg, struct birdc_reply *r);
	void (*on_async)(void *arg, const char *text);
	void *arg;
	/* private */
	char line[BIRDC_LINE_MAX + 1];
	size_t len;
	struct birdc_reply cur;
	int last_code;          /* code of the previous line of cur, -1 at a reply's start */
	bool failed;
};

void birdc_parser_init(struct birdc_parser *p, void (*on_reply)(void *, struct birdc_reply *),
    void (*on_async)(void *, const char *), void *arg);
void birdc_parser_reset(struct birdc_parser *p);   /* frees a partial reply; ready again */

/*
 * Feeds bytes. Returns 0, or -1 with e set ("bird-protocol-error") on the first violation;
 * after that every feed fails until birdc_parser_reset(). True when a reply is half-read.
 */
int  birdc_parser_feed(struct birdc_parser *p, const char *data, size_t len, struct err *e);
bool birdc_parser_pending(const struct birdc_parser *p);

/* ---- client ---- */

struct birdc_config {
	const char *socket_path;
	double cmd_timeout;      /* seconds a command may take; default 30 */
	double backoff_min;      /* first reconnect delay; default 0.1 s */
	double backoff_max;      /* cap; default 5 s */
};

struct birdc;

/*
 * A command's completion: exactly one call, with r set (the reply, whatever its final code;
 * borrowed for the duration of the call) or e set (code "bird-unavailable" for no connection,
 * a disconnect or a timeout; "bird-protocol-error" for a reply that broke the framing).
 */
typedef void (*birdc_done_fn)(void *arg, const struct birdc_reply *r, const struct err *e);

/* Connection events: up after BIRD's hello; down with the reason when an up link drops or
 * a connect attempt fails. Listeners are called in the order they were added. */
typedef void (*birdc_event_fn)(void *arg, bool up, const struct err *reason);

/* Creates the client (socket_path copied). Nothing happens until birdc_start(). */
struct birdc *birdc_new(struct ev_loop *loop, const struct birdc_config *cfg);
/* Closes the socket; queued commands complete with "bird-unavailable". NULL is a no-op.
 * Must not be called from inside one of this client's callbacks. */
void birdc_free(struct birdc *c);

int  birdc_add_listener(struct birdc *c, birdc_event_fn fn, void *arg);   /* 0 / -1 when full */
void birdc_start(struct birdc *c);            /* starts connecting (and reconnecting) */
bool birdc_is_up(const struct birdc *c);
/* True while a connection attempt is under way (socket connecting or hello awaited): callers
 * that would fail with bird-unavailable may wait for the next listener event instead. */
bool birdc_is_connecting(const struct birdc *c);

/*
 * Queues CMD (one line, no newline; at most BIRDC_CMD_MAX bytes). Returns 0 and later calls
 * DONE exactly once; or returns -1 with e set ("bird-unavailable" when not connected,
 * "invalid-argument" for a bad command) and never calls DONE.
 */
int birdc_command(struct birdc *c, const char *cmd, birdc_done_fn done, void *arg,
    struct err *e);

struct birdc_stats {
	uint64_t connects, disconnects, commands, protocol_errors, timeouts;
	char version[64];       /* from the hello, e.g. "BIRD 2.0.12 ready." */
};
void birdc_get_stats(const struct birdc *c, struct birdc_stats *out);

#endif
