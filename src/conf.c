/*
 * conf — reads the INI config with inih into a fresh struct conf (see conf.h).
 *
 * One table (conf_keys) names every section/key, its type, its place in struct conf, its range
 * and its default. Loading: fill the defaults, let inih call conf_handler per key, validate each
 * value against the table, then check cross-key rules. Nothing is shared with a live config: the
 * caller swaps the result in only on success. Line numbers come from our own line reader
 * (inih's handler is built without them in Debian), which also catches unknown empty sections.
 */
#include "conf.h"
#include "xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum conf_type {
	CT_STR,         /* free string, empty = unset */
	CT_PATH,        /* string, must not be empty when required */
	CT_UINT,        /* unsigned within [min,max] */
	CT_HOSTPORT,    /* host:port */
	CT_CACHES,      /* repeatable host:port list */
	CT_LEVEL, CT_FORMAT, CT_ON_INVALID,
	CT_ASN,
	CT_BOOL,        /* true | false */
	CT_ADDRS,       /* [bmp] allow: ADDR[/LEN][,...] into bmp_allow_v, text normalised */
	CT_ASNS,        /* [bmp] transits: ASN[,...] into bmp_transits_v, text normalised */
	CT_BACKEND,     /* sqlite|postgresql */
	CT_MODE,        /* file mode in octal ("0660"), within [min,max], owner rw always */
	CT_SITE,        /* a site name: [a-z0-9-]{1,32} (conf_site_name_ok) */
};

struct conf_key {
	const char *section, *key;
	enum conf_type type;
	size_t off;
	unsigned long min, max;
	const char *def;                /* default as text; NULL: unset */
};

#define O(f) offsetof(struct conf, f)
/* The longest line inih hands us (its buffer is INI_MAX_LINE bytes with newline and NUL). */
#define CONF_LINE_MAX (INI_MAX_LINE - 2)
static const struct conf_key conf_keys[] = {
	{ "daemon", "state_dir", CT_PATH, O(state_dir), 0, 0, "./prefixd-state" },
	{ "daemon", "socket", CT_PATH, O(socket), 0, 0, "./prefixd.sock" },
	{ "daemon", "socket_group", CT_STR, O(socket_group), 0, 0, NULL },
	{ "daemon", "readonly_socket", CT_STR, O(readonly_socket), 0, 0, NULL },
	{ "daemon", "readonly_socket_group", CT_STR, O(readonly_socket_group), 0, 0, NULL },
	{ "daemon", "readonly_socket_mode", CT_MODE, O(readonly_socket_mode), 0600, 0666, "0660" },
	{ "daemon", "listen", CT_HOSTPORT, O(listen), 0, 0, NULL },
	{ "daemon", "tokens_file", CT_STR, O(tokens_file), 0, 0, NULL },
	{ "daemon", "tls_cert", CT_STR, O(tls_cert), 0, 0, NULL },
	{ "daemon", "tls_key", CT_STR, O(tls_key), 0, 0, NULL },
	{ "daemon", "audit_key_file", CT_STR, O(audit_key_file), 0, 0, NULL },
	{ "daemon", "admin_group", CT_STR, O(admin_group), 0, 0, NULL },
	{ "daemon", "log_level", CT_LEVEL, O(log_level), 0, 0, "info" },
	{ "daemon", "log_format", CT_FORMAT, O(log_format), 0, 0, "text" },
	{ "daemon", "request_timeout", CT_UINT, O(request_timeout), 1, 3600, "30" },
	{ "daemon", "max_body", CT_UINT, O(max_body), 1024, 64u << 20, "1048576" },
	{ "daemon", "max_connections", CT_UINT, O(max_connections), 1, 65536, "256" },
	{ "daemon", "max_connections_per_address", CT_UINT, O(max_connections_per_address), 1,
	  65536, "32" },
	{ "daemon", "max_long_polls", CT_UINT, O(max_long_polls), 0, 65536, "16" },
	{ "daemon", "admin_connections", CT_UINT, O(admin_connections), 1, 1024, "8" },
	{ "daemon", "commit_delay_us", CT_UINT, O(commit_delay_us), 0, 100000, "2000" },
	{ "daemon", "user", CT_STR, O(user), 0, 0, NULL },
	{ "daemon", "group", CT_STR, O(group), 0, 0, NULL },
	{ "daemon", "groups", CT_STR, O(groups), 0, 0, NULL },
	{ "rpki", "cache", CT_CACHES, O(rpki_cache), 0, 0, NULL },
	{ "rpki", "refresh", CT_UINT, O(rpki_refresh), 1, 86400, "3600" },
	{ "rpki", "retry", CT_UINT, O(rpki_retry), 1, 7200, "600" },
	{ "rpki", "expire", CT_UINT, O(rpki_expire), 600, 172800, "7200" },
	{ "rpki", "stale_after", CT_UINT, O(rpki_stale_after), 1, 172800, "7200" },
	{ "bird", "socket", CT_STR, O(bird_socket), 0, 0, NULL },
	{ "bird", "config", CT_STR, O(bird_config), 0, 0, NULL },
	{ "bird", "include", CT_STR, O(bird_include), 0, 0, NULL },
	{ "bird", "confirm_timeout", CT_UINT, O(bird_confirm_timeout), 1, 3600, "30" },
	{ "bird", "reconcile_interval", CT_UINT, O(bird_reconcile_interval), 1, 86400, "60" },
	{ "bgp", "origin_asn", CT_ASN, O(bgp_origin_asn), 0, 0, NULL },
	{ "auth", "issuer", CT_PATH, O(auth_issuer), 0, 0, "prefixd" },
	{ "auth", "owner_id", CT_STR, O(auth_owner_id), 0, 0, NULL },
	{ "auth", "rdap_url", CT_STR, O(auth_rdap_url), 0, 0, NULL },
	{ "auth", "rdap_dir", CT_STR, O(auth_rdap_dir), 0, 0, NULL },
	{ "auth", "rdap_asn_url", CT_STR, O(auth_rdap_asn_url), 0, 0, NULL },
	{ "auth", "allow_unproven_asn", CT_BOOL, O(auth_allow_unproven_asn), 0, 0, "false" },
	{ "auth", "max_validity_days", CT_UINT, O(auth_max_validity_days), 1, 3660, "366" },
	{ "policy", "min_change_interval", CT_UINT, O(policy_min_change_interval), 0, 86400, "10" },
	{ "policy", "max_withdraw", CT_UINT, O(policy_max_withdraw), 0, 1000000, "1" },
	{ "policy", "max_withdraw_percent", CT_UINT, O(policy_max_withdraw_percent), 0, 100, "10" },
	{ "policy", "on_invalid", CT_ON_INVALID, O(policy_on_invalid), 0, 0, "alert" },
	{ "policy", "provision_timeout", CT_UINT, O(policy_provision_timeout), 1, 604800, "3600" },
	{ "policy", "max_withdraw_rate", CT_UINT, O(policy_max_withdraw_rate), 0, 1000000, "0" },
	{ "store", "backend", CT_BACKEND, O(store_backend), 0, 0, "sqlite" },
	{ "store", "dsn", CT_STR, O(store_dsn), 0, 0, NULL },
	{ "bmp", "listen", CT_HOSTPORT, O(bmp_listen), 0, 0, NULL },
	{ "bmp", "allow", CT_ADDRS, O(bmp_allow), 0, 0, NULL },
	{ "bmp", "require_visibility", CT_UINT, O(bmp_require_visibility), 0, 1024, "0" },
	{ "bmp", "visibility_timeout", CT_UINT, O(bmp_visibility_timeout), 1, 3600, "60" },
	{ "bmp", "transits", CT_ASNS, O(bmp_transits), 0, 0, NULL },
	{ "site", "name", CT_SITE, O(site_name), 0, 0, "local" },
	{ "site", "change_timeout", CT_UINT, O(site_change_timeout), 1, 3600, "30" },
	{ "site", "lease_renew", CT_UINT, O(site_lease_renew), 1, 600, "2" },
};
#undef O
#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))
static const char *const conf_sections[] = { "daemon", "rpki", "bird", "bgp", "auth", "policy",
    "store", "bmp", "site" };

struct conf_parse {
	struct conf *c;
	const char *name;
	int lineno;
	struct err *e;
	int failed;
	unsigned char seen[CONF_NKEYS];
	/* line reader state */
	const char *text;               /* conf_load_string */
	FILE *fp;                       /* conf_load */
};

static void *
conf_field(struct conf *c, const struct conf_key *k)
{
	return (char *)c + k->off;
}

static int
conf_parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
conf_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port, struct err *e)
{
	const char *colon, *h = s;
	size_t hl;
	unsigned long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return err_set(e, "invalid-argument", "'%s' is not [ADDR]:PORT", s);
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return err_set(e, "invalid-argument", "'%s' is not HOST:PORT", s);
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return err_set(e, "invalid-argument", "'%s': bad host", s);
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)h[i]) && strchr(".-:_", h[i]) == NULL)
			return err_set(e, "invalid-argument", "'%s': bad character in host", s);
	if (conf_parse_uint(colon + 1, 1, 65535, &p) < 0)
		return err_set(e, "invalid-argument", "'%s': port must be 1-65535", s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return 0;
}

/*
 * Free-text values must print back to the same value (prefixd -n): no control characters,
 * and no ';' or '#', which inih would read as the start of a comment.
 */
int
conf_site_name_ok(const char *v, size_t len)
{
	if (len == 0 || len > CONF_SITE_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			return -1;
	return 0;
}

static int
conf_text_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f || *v == ';' || *v == '#')
			return -1;
	return 0;
}

/* An AS number, "64500" or "AS64500". 0 or -1. */
static int
conf_parse_asn(const char *v, uint32_t *out)
{
	unsigned long n;

	if (strncasecmp(v, "AS", 2) == 0)
		v += 2;
	if (conf_parse_uint(v, 1, 4294967295UL, &n) < 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/*
 * A comma-separated list ([bmp] allow: addresses or prefixes; [bmp] transits: AS numbers)
 * into c's array and a normalised text ("10.0.1.2, 2001:db8::/64"; "64510, 64511"), which is
 * what `prefixd -n` prints. Empty: unset. -1 with e on a bad item or too many.
 */
static int
conf_set_list(struct conf *c, const struct conf_key *k, const char *v, struct err *e)
{
	bool addrs = k->type == CT_ADDRS;
	unsigned max = addrs ? CONF_MAX_BMP_ALLOW : CONF_MAX_TRANSITS, n = 0;
	char item[128], text[CONF_MAX_BMP_ALLOW * (CIDR_STRLEN + 2)], one[CIDR_STRLEN];
	size_t used = 0;
	struct err ie;

	text[0] = '\0';
	for (const char *p = v; *v != '\0'; p = strchr(p, ',') + 1) {
		const char *a = p, *b = strchr(p, ',');

		if (b == NULL)
			b = p + strlen(p);
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b == a || (size_t)(b - a) >= sizeof(item))
			return err_set(e, "conf-invalid", "%s: empty or overlong item in '%s'", k->key, v);
		if (n == max)
			return err_set(e, "conf-invalid", "%s: at most %u items", k->key, max);
		memcpy(item, a, (size_t)(b - a));
		item[b - a] = '\0';
		if (addrs) {
			struct cidr *ca = &c->bmp_allow_v[n];

			if ((strchr(item, '/') ? cidr_parse(item, ca, &ie) :
			    cidr_parse_addr(item, ca, &ie)) < 0)
				return err_set(e, "conf-invalid", "%s: '%s': %s", k->key, item, ie.msg);
			if (ca->len == cidr_maxlen(ca->family))
				cidr_format_addr(ca, one, sizeof(one));
			else
				cidr_format(ca, one, sizeof(one));
		} else {
			if (conf_parse_asn(item, &c->bmp_transits_v[n]) < 0)
				return err_set(e, "conf-invalid", "%s: '%s' is not an AS number "
				    "1..4294967295", k->key, item);
			snprintf(one, sizeof(one), "%u", (unsigned)c->bmp_transits_v[n]);
		}
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", n ? ", " : "", one);
		n++;
		if (strchr(p, ',') == NULL)
			break;
	}
	*(addrs ? &c->n_bmp_allow : &c->n_bmp_transits) = n;
	free(*(char **)conf_field(c, k));
	*(char **)conf_field(c, k) = n ? xstrdup(text) : NULL;
	return 0;
}

/* Stores value v for key k into c; -1 with e set on a bad value. */
static int
conf_set(struct conf *c, const struct conf_key *k, const char *v, struct err *e)
{
	void *f = conf_field(c, k);
	unsigned long n;
	char host[256];
	unsigned port;
	struct err he;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
		if (conf_text_ok(v) < 0)
			return err_set(e, "conf-invalid", "%s: control characters, ';' and '#' are not "
			    "allowed in a value", k->key);
		if (*v == '\0' && k->type == CT_PATH)
			return err_set(e, "conf-invalid", "%s must not be empty", k->key);
		free(*(char **)f);
		*(char **)f = *v ? xstrdup(v) : NULL;
		return 0;
	case CT_HOSTPORT:
		if (*v && conf_split_hostport(v, host, sizeof(host), &port, &he) < 0)
			return err_set(e, "conf-invalid", "%s: %s", k->key, he.msg);
		free(*(char **)f);
		*(char **)f = *v ? xstrdup(v) : NULL;
		return 0;
	case CT_CACHES:
		if (*v == '\0')
			return 0;
		if (conf_split_hostport(v, host, sizeof(host), &port, &he) < 0)
			return err_set(e, "conf-invalid", "%s: %s", k->key, he.msg);
		if (c->n_rpki_cache == CONF_MAX_RPKI_CACHES)
			return err_set(e, "conf-invalid", "at most %d caches", CONF_MAX_RPKI_CACHES);
		c->rpki_cache[c->n_rpki_cache++] = xstrdup(v);
		return 0;
	case CT_UINT:
		if (conf_parse_uint(v, k->min, k->max, &n) < 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not an integer in %lu..%lu",
			    k->key, v, k->min, k->max);
		*(unsigned *)f = (unsigned)n;
		return 0;
	case CT_MODE: {
		char *end;

		errno = 0;
		n = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || n > k->max || (n & k->min) != k->min ||
		    (n & ~k->max) != 0 || strspn(v, "01234567") != strlen(v))
			return err_set(e, "conf-invalid", "%s: '%s' is not an octal mode with rw for the "
			    "owner and no bits beyond %04lo", k->key, v, k->max);
		*(unsigned *)f = (unsigned)n;
		return 0;
	}
	case CT_ASN:
		if (*v == '\0') {
			*(uint32_t *)f = 0;
			return 0;
		}
		if (conf_parse_asn(v, (uint32_t *)f) < 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not an AS number 1..4294967295", k->key, v);
		return 0;
	case CT_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not true or false", k->key, v);
		*(unsigned *)f = strcmp(v, "true") == 0;
		return 0;
	case CT_ADDRS:
	case CT_ASNS:
		return conf_set_list(c, k, v, e);
	case CT_LEVEL:
		if (log_level_parse(v, (enum log_level *)f) < 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not debug|info|warn|error", k->key, v);
		return 0;
	case CT_FORMAT:
		if (log_format_parse(v, (enum log_format *)f) < 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not text|json", k->key, v);
		return 0;
	case CT_ON_INVALID:
		if (strcmp(v, "alert") == 0)
			*(enum conf_on_invalid *)f = CONF_ON_INVALID_ALERT;
		else if (strcmp(v, "withdraw") == 0)
			*(enum conf_on_invalid *)f = CONF_ON_INVALID_WITHDRAW;
		else
			return err_set(e, "conf-invalid", "%s: '%s' is not alert|withdraw", k->key, v);
		return 0;
	case CT_BACKEND:
		if (strcmp(v, "sqlite") == 0)
			*(enum conf_store_backend *)f = CONF_STORE_SQLITE;
		else if (strcmp(v, "postgresql") == 0)
			*(enum conf_store_backend *)f = CONF_STORE_POSTGRESQL;
		else
			return err_set(e, "conf-invalid", "%s: '%s' is not sqlite|postgresql", k->key, v);
		return 0;
	case CT_SITE:
		if (*v == '\0')
			v = k->def;         /* empty: unset, the default */
		if (conf_site_name_ok(v, strlen(v)) < 0)
			return err_set(e, "conf-invalid", "%s: '%s' is not a site name (1-%d of a-z, "
			    "0-9, '-')", k->key, v, CONF_SITE_NAME_MAX);
		snprintf((char *)f, CONF_SITE_NAME_MAX + 1, "%s", v);
		return 0;
	}
	return err_set(e, "conf-invalid", "%s: unhandled type", k->key);
}

static int
conf_section_known(const char *s)
{
	for (size_t i = 0; i < sizeof(conf_sections) / sizeof(conf_sections[0]); i++)
		if (strcmp(conf_sections[i], s) == 0)
			return 1;
	return 0;
}

/* inih handler: one key. Returns 1 to go on, 0 on error (inih then reports a line). */
static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	struct err e;

	if (p->failed)
		return 0;
	err_clear(&e);
	if (!conf_section_known(section)) {
		err_set(&e, "conf-invalid", "unknown section [%s]", section);
		goto fail;
	}
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->key, name) != 0)
			continue;
		if (p->seen[i] && k->type != CT_CACHES) {
			err_set(&e, "conf-invalid", "[%s] %s given twice", section, name);
			goto fail;
		}
		p->seen[i] = 1;
		/* `prefixd -n` prints "key = value": refuse what could not be read back. */
		if (strlen(name) + 3 + strlen(value) > CONF_LINE_MAX) {
			err_set(&e, "conf-invalid", "[%s] %s: value too long (the line "
			    "\"%s = VALUE\" may have at most %d characters)", section, name, name,
			    CONF_LINE_MAX);
			goto fail;
		}
		if (conf_set(p->c, k, value, &e) < 0)
			goto fail;
		return 1;
	}
	err_set(&e, "conf-invalid", "unknown key '%s' in [%s]", name, section);
fail:
	p->failed = 1;
	err_set(p->e, "conf-invalid", "%s:%d: %s", p->name, p->lineno, e.msg);
	return 0;
}

/* Line reader for inih: counts lines and checks section headers (even empty sections). */
static char *
conf_reader(char *buf, int size, void *user)
{
	struct conf_parse *p = user;
	char *r, *s;

	if (p->fp != NULL) {
		r = fgets(buf, size, p->fp);
	} else {
		size_t n = 0;
		if (*p->text == '\0')
			return NULL;
		while (p->text[n] != '\0' && p->text[n] != '\n' && (int)n < size - 2)
			n++;
		if (p->text[n] == '\n')
			n++;
		memcpy(buf, p->text, n);
		buf[n] = '\0';
		p->text += n;
		r = buf;
	}
	if (r == NULL)
		return NULL;
	p->lineno++;
	if (strchr(buf, '\n') == NULL && !(p->fp ? feof(p->fp) : *p->text == '\0')) {
		if (!p->failed)
			err_set(p->e, "conf-invalid", "%s:%d: line too long (max %d)", p->name, p->lineno, size - 2);
		p->failed = 1;
		return NULL;
	}
	for (s = buf; isspace((unsigned char)*s); s++)
		;
	if (*s == '[' && !p->failed) {
		char sec[64];
		size_t n = strcspn(s + 1, "]");
		if (n < sizeof(sec)) {
			memcpy(sec, s + 1, n);
			sec[n] = '\0';
			if (s[1 + n] == ']' && !conf_section_known(sec)) {
				err_set(p->e, "conf-invalid", "%s:%d: unknown section [%s]", p->name, p->lineno, sec);
				p->failed = 1;
			}
		}
	}
	return r;
}

static void
conf_fill_defaults(struct conf *c)
{
	struct err e;

	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].def != NULL && conf_set(c, &conf_keys[i], conf_keys[i].def, &e) < 0)
			fatalx("conf: bad built-in default for %s: %s", conf_keys[i].key, e.msg);
}

static struct conf *
conf_alloc(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		fatal("calloc");
	conf_fill_defaults(c);
	return c;
}

struct conf *
conf_default(void)
{
	return conf_alloc();
}

/*
 * [daemon] user/group/groups name accounts: letters, digits, '_', '.', '-' (no leading '-'),
 * at most 32 characters; groups is a comma-separated list of at most CONF_MAX_GROUPS names.
 * Whether the accounts exist is checked when prefixd drops to them (priv.c), not here:
 * `prefixd -n` judges the file, not the host.
 */
static int
conf_check_account(const char *key, const char *v, int list, const char *name, struct err *e)
{
	size_t len = 0, count = 1;

	for (const char *p = v; ; p++) {
		if (*p == ',' || *p == '\0') {
			if (len == 0)
				return err_set(e, "conf-invalid", "%s: [daemon] %s: empty name in '%s'",
				    name, key, v);
			if (*p == '\0')
				break;
			if (!list)
				return err_set(e, "conf-invalid", "%s: [daemon] %s: one name, not a "
				    "list", name, key);
			len = 0;
			count++;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || (*p == '-' && len > 0)) ||
		    ++len > 32)
			return err_set(e, "conf-invalid", "%s: [daemon] %s: '%s' is not a user or group "
			    "name", name, key, v);
	}
	if (count > CONF_MAX_GROUPS)
		return err_set(e, "conf-invalid", "%s: [daemon] %s: at most %d groups", name, key,
		    CONF_MAX_GROUPS);
	return 0;
}

/* [bmp]: the station listens on a numeric address and only for the routers in allow. */
static int
conf_check_bmp(const struct conf *c, const char *name, struct err *e)
{
	char host[256];
	unsigned port;
	struct cidr a;
	struct err he;

	if (c->bmp_listen == NULL) {
		if (c->bmp_require_visibility > 0)
			return err_set(e, "conf-invalid", "%s: [bmp] require_visibility needs listen "
			    "(no vantage point can confirm anything without the station)", name);
		return 0;
	}
	if (c->n_bmp_allow == 0)
		return err_set(e, "conf-invalid", "%s: [bmp] listen needs allow (the routers that "
		    "may connect)", name);
	if (conf_split_hostport(c->bmp_listen, host, sizeof(host), &port, &he) < 0 ||
	    cidr_parse_addr(host, &a, &he) < 0)
		return err_set(e, "conf-invalid", "%s: [bmp] listen: '%s' is not ADDRESS:PORT with "
		    "a numeric address", name, c->bmp_listen);
	return 0;
}

/* Rules across keys, checked once the whole file is read. */
static int
conf_check(const struct conf *c, const char *name, struct err *e)
{
	if (c->rpki_stale_after > c->rpki_expire)
		return err_set(e, "conf-invalid", "%s: [rpki] stale_after (%u) exceeds expire (%u)",
		    name, c->rpki_stale_after, c->rpki_expire);
	if (c->rpki_retry > c->rpki_expire)
		return err_set(e, "conf-invalid", "%s: [rpki] retry (%u) exceeds expire (%u)",
		    name, c->rpki_retry, c->rpki_expire);
	if (c->listen != NULL && c->tokens_file == NULL)
		return err_set(e, "conf-invalid", "%s: [daemon] listen needs tokens_file", name);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return err_set(e, "conf-invalid", "%s: [daemon] tls_cert and tls_key go together",
		    name);
	if (c->tls_cert != NULL && c->listen == NULL)
		return err_set(e, "conf-invalid", "%s: [daemon] tls_cert needs listen", name);
	if (c->readonly_socket != NULL && strcmp(c->readonly_socket, c->socket) == 0)
		return err_set(e, "conf-invalid", "%s: [daemon] readonly_socket equals socket", name);
	if (c->auth_rdap_url != NULL && strstr(c->auth_rdap_url, "{cidr}") == NULL &&
	    strstr(c->auth_rdap_url, "{addr}") == NULL)
		return err_set(e, "conf-invalid", "%s: [auth] rdap_url has no {cidr} or {addr}", name);
	if ((c->user != NULL && conf_check_account("user", c->user, 0, name, e) < 0) ||
	    (c->group != NULL && conf_check_account("group", c->group, 0, name, e) < 0) ||
	    (c->groups != NULL && conf_check_account("groups", c->groups, 1, name, e) < 0))
		return -1;
	if ((c->group != NULL || c->groups != NULL) && c->user == NULL)
		return err_set(e, "conf-invalid", "%s: [daemon] group and groups need user", name);
	if (c->store_backend == CONF_STORE_POSTGRESQL && c->store_dsn == NULL)
		return err_set(e, "conf-invalid", "%s: [store] backend = postgresql needs dsn", name);
	if (c->store_backend == CONF_STORE_SQLITE && c->store_dsn != NULL)
		return err_set(e, "conf-invalid", "%s: [store] dsn is set but backend is sqlite (the "
		    "SQLite store is state_dir/prefixd.db)", name);
	if (c->auth_rdap_asn_url != NULL && strstr(c->auth_rdap_asn_url, "{asn}") == NULL)
		return err_set(e, "conf-invalid", "%s: [auth] rdap_asn_url has no {asn}", name);
	return conf_check_bmp(c, name, e);
}

static struct conf *
conf_run(struct conf_parse *p)
{
	int rc;

	rc = ini_parse_stream(conf_reader, p, conf_handler, p);
	if (rc != 0 || p->failed || conf_check(p->c, p->name, p->e) < 0) {
		if (!p->failed && rc > 0 && p->e->code == NULL)
			err_set(p->e, "conf-invalid", "%s:%d: syntax error", p->name, rc);
		else if (!p->failed && rc < 0)
			err_set(p->e, "conf-invalid", "%s: cannot parse", p->name);
		conf_free(p->c);
		return NULL;
	}
	return p->c;
}

struct conf *
conf_load(const char *path, struct err *e)
{
	struct conf_parse p = { .name = path, .e = e };
	struct conf *c;

	err_clear(e);
	p.fp = fopen(path, "r");
	if (p.fp == NULL) {
		err_set(e, "conf-invalid", "%s: %s", path, strerror(errno));
		return NULL;
	}
	p.c = conf_alloc();
	p.c->path = xstrdup(path);
	c = conf_run(&p);
	fclose(p.fp);
	return c;
}

struct conf *
conf_load_string(const char *text, const char *name, struct err *e)
{
	struct conf_parse p = { .name = name, .e = e, .text = text };

	err_clear(e);
	p.c = conf_alloc();
	p.c->path = xstrdup(name);
	return conf_run(&p);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].type == CT_STR || conf_keys[i].type == CT_PATH ||
		    conf_keys[i].type == CT_HOSTPORT || conf_keys[i].type == CT_ADDRS ||
		    conf_keys[i].type == CT_ASNS)
			free(*(char **)conf_field(c, &conf_keys[i]));
	for (unsigned i = 0; i < c->n_rpki_cache; i++)
		free(c->rpki_cache[i]);
	free(c->path);
	free(c);
}

/* Formats key k's value of c into buf ("" when unset). */
static void
conf_format(const struct conf *c, const struct conf_key *k, char *buf, size_t len)
{
	const void *f = (const char *)c + k->off;
	const char *s = NULL;

	switch (k->type) {
	case CT_STR: case CT_PATH: case CT_HOSTPORT: case CT_ADDRS: case CT_ASNS:
		s = *(char *const *)f;
		snprintf(buf, len, "%s", s ? s : "");
		return;
	case CT_UINT:
		snprintf(buf, len, "%u", *(const unsigned *)f);
		return;
	case CT_MODE:
		snprintf(buf, len, "%04o", *(const unsigned *)f);
		return;
	case CT_ASN:
		if (*(const uint32_t *)f)
			snprintf(buf, len, "%u", (unsigned)*(const uint32_t *)f);
		else
			buf[0] = '\0';
		return;
	case CT_BOOL:
		snprintf(buf, len, "%s", *(const unsigned *)f ? "true" : "false");
		return;
	case CT_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)f));
		return;
	case CT_FORMAT:
		snprintf(buf, len, "%s", log_format_name(*(const enum log_format *)f));
		return;
	case CT_ON_INVALID:
		snprintf(buf, len, "%s", *(const enum conf_on_invalid *)f == CONF_ON_INVALID_WITHDRAW ?
		    "withdraw" : "alert");
		return;
	case CT_CACHES:
		buf[0] = '\0';
		return;
	case CT_BACKEND:
		snprintf(buf, len, "%s", *(const enum conf_store_backend *)f == CONF_STORE_POSTGRESQL ?
		    "postgresql" : "sqlite");
		return;
	case CT_SITE:
		snprintf(buf, len, "%s", (const char *)f);
		return;
	}
}

void
conf_print(const struct conf *c, FILE *out)
{
	const char *section = NULL;
	char val[1024];

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (section == NULL || strcmp(section, k->section) != 0) {
			fprintf(out, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		if (k->type == CT_CACHES) {
			if (c->n_rpki_cache == 0)
				fprintf(out, "%s =\n", k->key);
			for (unsigned j = 0; j < c->n_rpki_cache; j++)
				fprintf(out, "%s = %s\n", k->key, c->rpki_cache[j]);
			continue;
		}
		conf_format(c, k, val, sizeof(val));
		fprintf(out, "%s =%s%s\n", k->key, val[0] ? " " : "", val);
	}
}

int
conf_restart_keys(const struct conf *old, const struct conf *new_conf, char *buf, size_t len)
{
	static const char *const restart[] = { "state_dir", "socket", "socket_group",
	    "readonly_socket", "readonly_socket_group", "readonly_socket_mode", "listen",
	    "request_timeout", "max_connections", "max_connections_per_address",
	    "max_long_polls", "admin_connections", "user", "group", "groups", "audit_key_file",
	    "backend", "dsn", "name", "lease_renew" };
	char a[1024], b[1024];
	int n = 0;
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	if ((old->tls_cert == NULL) != (new_conf->tls_cert == NULL)) {    /* TLS on or off */
		used = (size_t)snprintf(buf, len, "tls_cert");
		n++;
	}
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		int is_restart = 0;
		if (strcmp(k->section, "bmp") == 0 && (strcmp(k->key, "listen") == 0 ||
		    strcmp(k->key, "allow") == 0)) {
			conf_format(old, k, a, sizeof(a));
			conf_format(new_conf, k, b, sizeof(b));
			if (strcmp(a, b) != 0 && used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s[bmp] %s",
				    n ? "," : "", k->key);
			n += strcmp(a, b) != 0;
			continue;
		}
		if (strcmp(k->section, "daemon") != 0 && strcmp(k->section, "store") != 0 &&
		    strcmp(k->section, "site") != 0)
			continue;
		for (size_t j = 0; j < sizeof(restart) / sizeof(restart[0]); j++)
			is_restart |= strcmp(restart[j], k->key) == 0;
		if (!is_restart)
			continue;
		conf_format(old, k, a, sizeof(a));
		conf_format(new_conf, k, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", n ? "," : "", k->key);
		n++;
	}
	return n;
}
