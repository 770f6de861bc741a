/*
 * ctl — prefixctl, the command-line client (SPEC §6), as a library the program and the
 * tests share.
 *
 * prefixctl.c only calls ctl_main(). Everything else lives here so that unit tests and the
 * fuzzer reach the same code:
 *
 *   ctl_cmd.c     the command registry (one table per area), lookup, help, ctl_main()
 *   ctl_complete.c bash completion (`prefixctl __complete WORDS...`) from the same tables
 *   ctl_args.c    the argument parser: global options, command words, options, positionals,
 *                 local validation (numbers in range, K=V shape, CIDR syntax)
 *   ctl_http.c    the HTTP/1.1 client (libcurl): the daemon's unix socket, or its TCP
 *                 listener (--url, https with --cacert, bearer token), path escaping
 *   ctl_out.c     output: aligned tables, key/value blocks, refusal messages, --json passthrough
 *   ctl_import.c  reading resources for `import --file` (CSV or JSON)
 *   ctl_ipam.c    the address-management commands (status, scope, pool, allocate, ...)
 *   ctl_rpki.c    rpki status / validate (written by the RPKI module's owner)
 *   ctl_auth.c    auth message / verify (written by the authorization module's owner)
 *   ctl_bird.c    bird status / reconcile (written by the BIRD module's owner)
 *   ctl_bmp.c     visibility (BMP: which vantage points hold a prefix)
 *   ctl_prefix.c  prefix list / show, advertise, withdraw (written by the lifecycle's owner)
 *   ctl_events.c  events [--follow], audit verify (written by the observability owner)
 *
 * Adding an area (audit, events, ...): write ctl_<area>.c with a table
 * `const struct ctl_cmd ctl_<area>_cmds[]` ending in an all-zero entry, declare it below and
 * list it in ctl_cmd.c's area list (a static library links only what is referenced, so the
 * list cannot be implicit). The dispatcher, `help` and the completion pick it up; where a
 * value names something the daemon can list, add a row to `lookups` in ctl_complete.c.
 *
 * Exit status (SPEC §6): 0 done, 1 refused by the daemon (code and message on stderr),
 * 2 usage error (one-line hint on stderr; nothing was sent), 3 daemon unreachable or its reply
 * unreadable.
 */
#ifndef PREFIXD_CTL_H
#define PREFIXD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "err.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
};

#define CTL_DEFAULT_SOCKET "./prefixd.sock"
#define CTL_MAX_POS 4096        /* positional arguments per command (advertise CIDR...);
                                 * larger batches go through POST /v1/advertise directly */
#define CTL_MAX_VALS 64         /* option occurrences per command */

/* What an option or positional argument accepts; checked before anything is sent. */
enum ctl_kind {
	CTL_FLAG,       /* no value */
	CTL_STRING,     /* any non-empty string */
	CTL_NUM,        /* decimal integer within [min, max] */
	CTL_KV,         /* KEY=VALUE, key non-empty and without '=' */
	CTL_CIDR,       /* ADDRESS/LEN per cidr_parse; host bits set is left to the daemon */
	CTL_CHOICE,     /* one of the '|'-separated words in `choices` */
	CTL_TIME,       /* RFC 3339 UTC (2026-11-21T04:00:00Z), a date (2026-11-21) or unix seconds */
};

#define CTL_OPT_REPEAT   0x1    /* may be given more than once */
#define CTL_OPT_REQUIRED 0x2    /* must be given */
#define CTL_ARG_OPTIONAL 0x4    /* positional that may be missing (only at the end) */
#define CTL_ARG_REPEAT 0x8      /* the last positional may be given again, up to CTL_MAX_POS */

/*
 * One option (`name` without the leading "--") or one positional argument (then `name` is
 * the metavariable shown in help, e.g. "POOL").
 */
struct ctl_opt {
	const char *name;
	enum ctl_kind kind;
	unsigned flags;
	const char *metavar;    /* value's name in help ("N", "K=V"); NULL for flags */
	long long min, max;     /* CTL_NUM bounds, inclusive */
	const char *choices;    /* CTL_CHOICE: "ipv4|ipv6" */
	const char *help;
};

struct ctl_ctx;
struct ctl_inv;

/*
 * One command. `words` are the command words ("pool create"); `usage` is what follows them in
 * the synopsis; `args` the positionals in order, `opts` the options (both end with a zeroed
 * entry, either may be NULL). `check` (may be NULL) refuses combinations the table cannot
 * say (one of two options, both or neither); ctl_parse calls it, so a refusal is a usage
 * error. `run` returns an enum ctl_exit value.
 */
struct ctl_cmd {
	const char *words;
	const char *usage;
	const char *summary;
	const struct ctl_opt *args;
	const struct ctl_opt *opts;
	int (*check)(const struct ctl_inv *inv, struct err *e);
	int (*run)(struct ctl_ctx *ctx, const struct ctl_inv *inv);
};

/* One given option and its value (NULL for a flag); `num` holds a CTL_NUM's value. */
struct ctl_val {
	const struct ctl_opt *opt;
	const char *str;
	long long num;
};

/* The parsed command line. Strings point into argv; nothing is allocated. */
struct ctl_inv {
	const char *socket;         /* -s SOCKET, NULL if not given */
	const char *url;            /* --url URL (TCP listener), NULL if not given */
	const char *cacert;         /* --cacert FILE, NULL if not given */
	const char *token_file;     /* --token-file FILE, NULL if not given */
	bool json;                  /* --json */
	bool help;                  /* help was asked for (`help`, -h, --help) */
	bool version;               /* --version */
	bool complete;              /* hidden `__complete`: list the next words */
	const struct ctl_cmd *cmd;  /* NULL with help for the general help */
	const char *topic;          /* "help pool": the first word of a command group */
	const char *pos[CTL_MAX_POS];
	size_t npos;
	struct ctl_val vals[CTL_MAX_VALS];
	size_t nvals;
	int complete_from;          /* __complete: index in argv of the first word to complete */
};

/* What a command handler works with. */
struct ctl_ctx {
	const char *socket;         /* resolved: -s, $PREFIXD_SOCKET, CTL_DEFAULT_SOCKET */
	const char *url;            /* --url: talk to the TCP listener instead (NULL: socket) */
	const char *cacert;         /* --cacert: the CA that signed the daemon's certificate */
	const char *token;          /* the bearer token (--token-file or $PREFIXD_TOKEN) */
	bool json;
	FILE *out, *errf;
	long timeout_ms;            /* whole-request timeout */
	size_t max_reply;           /* bytes; a longer reply is an error */
};

/* --- ctl_cmd.c: the registry --- */

extern const struct ctl_cmd ctl_ipam_cmds[];    /* ctl_ipam.c */
extern const struct ctl_cmd ctl_rpki_cmds[];    /* ctl_rpki.c */
extern const struct ctl_cmd ctl_bmp_cmds[];     /* ctl_bmp.c */
extern const struct ctl_cmd ctl_auth_cmds[];    /* ctl_auth.c */
extern const struct ctl_cmd ctl_bird_cmds[];    /* ctl_bird.c */
extern const struct ctl_cmd ctl_prefix_cmds[];  /* ctl_prefix.c */
extern const struct ctl_cmd ctl_events_cmds[];  /* ctl_events.c */
extern const struct ctl_cmd ctl_asn_cmds[];     /* ctl_asn.c: public-scope ASNs (issue 21) */
extern const struct ctl_cmd ctl_grants_cmds[];  /* ctl_grants.c: shared pools (issue 21) */

/* Calls fn for every registered command in help order. */
void ctl_cmd_foreach(void (*fn)(const struct ctl_cmd *c, void *arg), void *arg);

/*
 * How many leading words of `words` ("pool create") equal argv[0..argc): returns that
 * count, and sets *all when every word matched.
 */
int ctl_cmd_match(const char *words, int argc, char *const argv[], bool *all);

/*
 * Finds the command whose words are the longest match at the start of argv[0..argc).
 * Returns it and sets *used to the number of words consumed, or NULL when none matches
 * (*used then counts the words that prefix at least one command, e.g. 1 for "pool bogus").
 */
const struct ctl_cmd *ctl_cmd_find(int argc, char *const argv[], int *used);

/*
 * Prints the general help (every command's synopsis; with topic, only the commands whose
 * first word it is) or one command's help to f.
 */
void ctl_help_all(FILE *f, const char *topic);
void ctl_help_cmd(FILE *f, const struct ctl_cmd *c);

/*
 * ctl_complete.c. Completion: given the words already typed after "prefixctl" (the word being completed is
 * not included), prints the candidates for the next word, one per line. With ctx (may be
 * NULL: no lookups), existing pool and scope names and allocation ids are fetched from the
 * daemon where one is expected (see `lookups` in ctl_cmd.c); a -s among the words overrides
 * ctx->socket. A daemon that does not answer within ctx->timeout_ms just adds nothing.
 */
void ctl_complete(FILE *f, int argc, char *const argv[], const struct ctl_ctx *ctx);

/* Program entry: parses, validates, dispatches. Returns the exit status. */
int ctl_main(int argc, char *argv[]);

/* --- ctl_args.c: the parser --- */

/*
 * Parses argv (without the program name) into inv. Global options (-s SOCKET, --json, -h,
 * --help, --version) are accepted before and after the command words; "--opt VALUE" and "--opt=VALUE"
 * both work; "--" ends the options. Returns 0, or -1 with e->code "usage" and a one-line
 * message naming the offending word. With inv->help set, the command may be incomplete.
 */
int ctl_parse(int argc, char *argv[], struct ctl_inv *inv, struct err *e);

/* Checks one value against an option's kind; the message names the option. */
int ctl_check_value(const struct ctl_opt *o, const char *s, long long *num, struct err *e);

/* Accessors. `name` is the option's name without "--". */
const char *ctl_inv_str(const struct ctl_inv *inv, const char *name);
bool ctl_inv_num(const struct ctl_inv *inv, const char *name, long long *out);
bool ctl_inv_flag(const struct ctl_inv *inv, const char *name);
/* Iterates a repeatable option: start with *it = 0; returns NULL at the end. */
const char *ctl_inv_next(const struct ctl_inv *inv, const char *name, size_t *it);

/* --- ctl_http.c: the client --- */

struct ctl_reply {
	long status;                /* HTTP status, 0 when no reply arrived */
	char *body;                 /* NUL-terminated, owned; NULL when empty */
	size_t len;
};

/*
 * Sends one request over ctx->socket to http://prefixd<path>, or with ctx->url to URL<path>
 * with "Authorization: Bearer" ctx->token (https: the server's certificate is checked
 * against ctx->cacert, else the system's CAs, and its name against the URL's host); body may
 * be NULL. Returns 0 when a reply (any status) arrived, or -1 with e->code "unreachable" (no
 * socket, refused, timeout, TLS handshake or certificate refused) or "reply-too-large". Free
 * r with ctl_reply_free().
 */
int ctl_http(const struct ctl_ctx *ctx, const char *method, const char *path,
    const char *body, struct ctl_reply *r, struct err *e);
void ctl_reply_free(struct ctl_reply *r);

/*
 * Fills ctx->url, cacert and token from inv and the environment: the URL must be http:// or
 * https://HOST:PORT (no path), --cacert needs an https URL, --token-file and --cacert need
 * --url; the token is the first line of --token-file (a regular file must not be readable by
 * group or others), else $PREFIXD_TOKEN, printable ASCII without blanks, at most
 * CTL_TOKEN_MAX bytes. There is no option that takes the token itself (argv is public in
 * ps). rb holds what ctx then points to. 0, or -1 with a usage error in e.
 */
#define CTL_TOKEN_MAX 1024
#define CTL_URL_MAX 256
struct ctl_remote {
	char token[CTL_TOKEN_MAX + 2];
	char url[CTL_URL_MAX];
};
int ctl_remote_init(struct ctl_ctx *ctx, const struct ctl_inv *inv, struct ctl_remote *rb,
    struct err *e);

/*
 * A growing URL path. ctl_path_add() appends "/" and the percent-encoded segment;
 * ctl_path_query() appends "?k=v" or "&k=v" (encoded) and does nothing when v is NULL.
 * Both return 0 or -1 when the path would exceed CTL_PATH_MAX.
 */
#define CTL_PATH_MAX 2048
struct ctl_path {
	char s[CTL_PATH_MAX];
	size_t len;
	bool has_query;
};
void ctl_path_init(struct ctl_path *p, const char *prefix);
int ctl_path_add(struct ctl_path *p, const char *segment);
int ctl_path_query(struct ctl_path *p, const char *key, const char *value);

/*
 * One request, answered for the operator: on success prints the reply raw with --json or
 * through human(ctx, reply) otherwise; on refusal prints "prefixctl: CODE: MESSAGE" on
 * stderr (and the error JSON on stdout with --json). body (may be NULL) is not consumed.
 * A GET answered with a page of a list (a string next_cursor) fetches the following pages
 * and prints them as one answer (their arrays appended, next_cursor null), so a list shows
 * everything whatever the daemon's page size. Returns an enum ctl_exit value.
 */
int ctl_request(struct ctl_ctx *ctx, const char *method, const char *path, json_t *body,
    void (*human)(struct ctl_ctx *ctx, json_t *reply));

/*
 * <method> /v1/<a>[/<b>[/<c>]] (segments percent-encoded; b and c may be NULL) with body
 * (consumed; may be NULL), answered as ctl_request does. A path too long is a usage error.
 * (ctl_ipam.c)
 */
int ctl_send3(struct ctl_ctx *ctx, const char *method, const char *a, const char *b,
    const char *c, json_t *body, void (*human)(struct ctl_ctx *, json_t *));

/* --- ctl_out.c: output --- */

/* One column of a table: its heading and the member of each row object it shows. */
struct ctl_col {
	const char *head;
	const char *key;
};

/*
 * Prints rows (a JSON array of objects, or an object holding one such array) as a table with
 * aligned columns; a missing member prints "-". cols ends with a zeroed entry.
 */
void ctl_out_table(FILE *f, json_t *rows, const struct ctl_col *cols);

/* Prints every member of an object as "key: value", keys aligned, in the reply's order. */
void ctl_out_object(FILE *f, json_t *obj);

/*
 * Renders a JSON value as one table cell into buf: strings escaped as ctl_out_text does,
 * numbers, booleans, null as "-", arrays joined with ",", objects as "k=v,k=v".
 */
void ctl_out_cell(json_t *v, char *buf, size_t len);

/*
 * Escapes text from the daemon (or from anything outside) for the terminal into buf and
 * returns buf: C0/C1 controls, DEL, bidi overrides and isolates, zero-width characters and
 * line separators as "\u202e", bytes that are not UTF-8 as "\xff"; NULL prints "-". Every
 * string from a reply that reaches the terminal goes through it or ctl_out_cell().
 */
const char *ctl_out_text(const char *s, char *buf, size_t len);

/* Prints "prefixctl: CODE: MESSAGE" for the error in a reply body (or the bare status). */
void ctl_out_refusal(FILE *f, long status, const char *body);

/* --- ctl_import.c: resource files --- */

/*
 * Parses a resource list for `import --file`: JSON (an array of {cidr, name, tags}, or an
 * object with a "resources" array) or CSV with a header naming cidr, name and optionally tags
 * (tags as K=V separated by ';'). Every CIDR and name is checked; the first bad record is
 * refused with its line or index. Returns a new JSON array or NULL with e set.
 */
json_t *ctl_import_parse(const char *text, size_t len, struct err *e);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. NULL with e set. */
char *ctl_read_file(const char *path, size_t max, size_t *len, struct err *e);

#endif
