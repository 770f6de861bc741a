/*
 * conf — prefixd's configuration (SPEC §7): the INI file, its defaults and its validation.
 *
 * Who calls it: prefixd.c at start-up (conf_load or conf_default), on SIGHUP (conf_load into a
 * fresh struct, swapped in only on success) and for `prefixd -n` (conf_print). The engines that
 * need settings (rpki/rtr_conf.c, rpki/authctx_conf.c, the lifecycle) read their fields from
 * the struct conf src/prefixd.c hands them; this header is plain data and names no module.
 *
 * Every section and key of SPEC §7 is parsed now, even those no module uses yet. Unknown
 * sections and keys, bad values and repeated keys are errors with file:line. A key given with an
 * empty value means "unset" (the default), so `prefixd -n` output reads back to the same config.
 *
 * Keys added beyond SPEC §7 (documented in the README and prefixd.conf(5)):
 *   [site]   name              this instance's site ([a-z0-9-]{1,32}, default "local")
 *            change_timeout    seconds a request to several sites waits for them (30)
 *            lease_renew       seconds between renewals of the site's writer lease (2;
 *                              it expires after 3x)
 *   [policy] max_withdraw_rate prefix-site withdrawals per minute across all instances
 *                              before withdrawals are refused circuit-open (0: off)
 *   [daemon] admin_group       group whose members are admin on the unix socket (besides root)
 *            readonly_socket_group  group of readonly_socket (unset: socket_group); a
 *                              monitoring agent in this group reads /metrics and status as a
 *                              reader without being an operator on the main socket
 *            readonly_socket_mode   mode of readonly_socket, octal, 0600..0666 with rw for
 *                              the owner (default 0660; 0666 lets every local user read)
 *            request_timeout   seconds an idle or slow client may hold a connection (default 30)
 *            max_body          largest request body in bytes (default 1048576)
 *            max_connections   connections per listener (default 256)
 *            max_connections_per_address  TCP: connections one client address may hold (32;
 *                              no effect at or above max_connections)
 *            max_long_polls    long polls (events?wait=) waiting at once per listener (16;
 *                              0 = none; also at most half of max_connections)
 *            admin_connections main unix socket: slots beyond max_connections kept for
 *                              admins (8, 1..1024)
 *            commit_delay_us   group commit: how long a batch waits for requests from other
 *                              open connections before it commits (microseconds, default
 *                              2000, 0 = never wait; it ends once every open connection has
 *                              queued); an exception to "durations are seconds"
 *            user              drop to this user once the listeners and the store are open
 *                              (unset: keep running as started); see priv.h
 *            group             the primary group after the drop (unset: the user's own)
 *            groups            supplementary groups, comma-separated (unset: "bird" when that
 *                              group exists, for BIRD's control socket; else none)
 *            tls_cert, tls_key PEM certificate (chain) and private key (mode 0600 or
 *                              stricter): the TCP listener speaks TLS 1.2/1.3 only (issue 18);
 *                              both or neither, and only with listen
 *
 * [bmp] (beyond SPEC §7, issue 19): listen = HOST:PORT (off when unset), allow = ADDR[,ADDR...]
 * (required with listen; addresses or prefixes), require_visibility = N (default 0: advertise
 * does not wait for vantage points), visibility_timeout (seconds, default 60), transits =
 * ASN[,ASN...] (unset: no transit check). require_visibility needs listen.
 *
 * SIGHUP: log_level, log_format, tokens_file, admin_group, max_body, commit_delay_us and the
 * files of tls_cert and tls_key (re-read even when their names stay) take effect at once;
 * turning TLS on or off needs a restart; the listener keys (state_dir, socket, socket_group,
 * readonly_socket, readonly_socket_group, readonly_socket_mode, listen, request_timeout,
 * max_connections, max_connections_per_address, max_long_polls, admin_connections),
 * user, group, groups, [store] backend, dsn and [site] name, lease_renew need a restart;
 * conf_restart_keys() names the ones that changed. [rpki] and [auth] are passed on
 * (rtr_reconfigure, authctx_reconfigure), [policy] and [bgp] reach the lifecycle
 * (lifecycle_ctl_set_conf); [bird] needs a restart, and so do [bmp] listen and allow (the
 * other [bmp] keys reach the monitor at once).
 */
#ifndef PREFIXD_CONF_H
#define PREFIXD_CONF_H

#include <stdint.h>
#include <stdio.h>
#include "cidr.h"
#include "err.h"
#include "log.h"

#define CONF_MAX_RPKI_CACHES 8
#define CONF_MAX_GROUPS 16             /* [daemon] groups: supplementary groups */
#define CONF_MAX_BMP_ALLOW 16          /* [bmp] allow: routers that may connect */
#define CONF_MAX_TRANSITS 16           /* [bmp] transits */
#define CONF_SITE_NAME_MAX 32           /* [site] name: [a-z0-9-]{1,32} */

enum conf_on_invalid { CONF_ON_INVALID_ALERT, CONF_ON_INVALID_WITHDRAW };
enum conf_store_backend { CONF_STORE_SQLITE, CONF_STORE_POSTGRESQL };

struct conf {
	char *path;                     /* the file read, NULL for the embedded default */
	/* [daemon] */
	char *state_dir, *socket, *socket_group, *readonly_socket, *listen, *tokens_file;
	char *tls_cert, *tls_key;       /* PEM files: the TCP listener speaks TLS; NULL: plain */
	char *admin_group;
	char *audit_key_file;           /* the audit chain's key (audit_key.h); NULL: unkeyed */
	char *readonly_socket_group;    /* NULL: socket_group */
	unsigned readonly_socket_mode;  /* 0660 */
	char *user, *group, *groups;    /* privilege drop (priv.h); NULL: unset */
	enum log_level log_level;
	enum log_format log_format;
	unsigned request_timeout, max_body, max_connections;
	unsigned max_connections_per_address, max_long_polls, admin_connections;  /* issue 15 */
	unsigned commit_delay_us;
	/* [rpki] */
	char *rpki_cache[CONF_MAX_RPKI_CACHES];  /* "host:port" each */
	unsigned n_rpki_cache;
	unsigned rpki_refresh, rpki_retry, rpki_expire, rpki_stale_after;
	/* [bird] */
	char *bird_socket, *bird_config, *bird_include;
	unsigned bird_confirm_timeout, bird_reconcile_interval;
	/* [bgp] */
	uint32_t bgp_origin_asn;        /* 0: unset */
	/* [auth] */
	char *auth_issuer, *auth_owner_id, *auth_rdap_url, *auth_rdap_dir, *auth_rdap_asn_url;
	unsigned auth_max_validity_days;
	unsigned auth_allow_unproven_asn;       /* 1: origin ASNs need no proof (labs only) */
	/* [policy] */
	unsigned policy_min_change_interval, policy_max_withdraw, policy_max_withdraw_percent;
	enum conf_on_invalid policy_on_invalid;
	unsigned policy_provision_timeout;
	/* [bmp] (the BMP station, bgp/bmp.h; the monitor, lifecycle_bmp.h) */
	char *bmp_listen;               /* HOST:PORT; NULL: no station */
	char *bmp_allow, *bmp_transits; /* normalised text ("ADDR, ADDR", "ASN, ASN") for -n */
	struct cidr bmp_allow_v[CONF_MAX_BMP_ALLOW];
	unsigned n_bmp_allow;
	uint32_t bmp_transits_v[CONF_MAX_TRANSITS];
	unsigned n_bmp_transits;
	unsigned bmp_require_visibility, bmp_visibility_timeout;
	/* [store] (restart to change) */
	enum conf_store_backend store_backend;  /* default sqlite: state_dir/prefixd.db */
	char *store_dsn;                /* backend = postgresql: a libpq connection string */
	/* [policy] max_withdraw_rate: prefix-site withdrawals per minute across all instances
	 * before the circuit breaker opens (0: no breaker, as before sites) */
	unsigned policy_max_withdraw_rate;
	/* [site] (issue 17): this instance's site and the BIRD beside it */
	char site_name[CONF_SITE_NAME_MAX + 1];  /* default "local" */
	unsigned site_change_timeout;   /* seconds a multi-site request waits for every site */
	unsigned site_lease_renew;      /* seconds between lease renewals; expiry is 3x */
};

/* The embedded default (no file). Never fails except on out-of-memory (fatal). */
struct conf *conf_default(void);

/*
 * Reads and validates `path`. Returns a new struct conf, or NULL with e set: code "conf-invalid"
 * and a message "FILE:LINE: reason" (or "FILE: reason" when the file cannot be read).
 */
struct conf *conf_load(const char *path, struct err *e);

/* Same as conf_load on a string; `name` stands for the file name in messages (tests, fuzzing). */
struct conf *conf_load_string(const char *text, const char *name, struct err *e);

void conf_free(struct conf *c);

/* Prints the normalised config: every section and key, defaults filled, in a fixed order. */
void conf_print(const struct conf *c, FILE *out);

/*
 * Writes into buf (comma-separated) the keys that differ between old and new but only take
 * effect on restart. Returns the number of such keys (0: the reload applies fully).
 */
int conf_restart_keys(const struct conf *old, const struct conf *new_conf, char *buf, size_t len);

/* 0 when the LEN bytes at V are a site name ([a-z0-9-]{1,32}), else -1. */
int conf_site_name_ok(const char *v, size_t len);

/* Splits "host:port" or "[v6]:port" into host and port. Returns 0, or -1 with e set. */
int conf_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port, struct err *e);

#endif
