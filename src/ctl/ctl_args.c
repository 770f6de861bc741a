/*
 * ctl_args — prefixctl's argument parser and local validation.
 *
 * Called by ctl_main() (and the unit tests and the fuzzer) with argv minus the program name.
 * It owns nothing: the parsed struct ctl_inv points into argv. Every value is checked against
 * its option's kind before anything is sent, so a bad flag, value or missing argument is a
 * usage error (exit 2) and the daemon never sees the request. The daemon stays the authority
 * on everything that needs the model (canonical CIDRs, rule bounds, names that exist).
 */
#include "ctl.h"
#include "cidr.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CTL_VALUE_MAX 4096      /* longest accepted string value */

/* "--name" for an option, "NAME" for a positional (their names are upper case). */
static const char *
display_name(const struct ctl_opt *o, char *buf, size_t len)
{
	if (isupper((unsigned char)o->name[0]))
		return o->name;
	snprintf(buf, len, "--%s", o->name);
	return buf;
}

static bool
utf8_valid(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static int
check_num(const char *who, const struct ctl_opt *o, const char *s, long long *num,
    struct err *e)
{
	char *end;
	long long v;
	const char *p = s;

	if (*p == '-' && o->min < 0)
		p++;
	if (!isdigit((unsigned char)*p))
		return err_set(e, "usage", "%s: '%s' is not a number", who, s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return err_set(e, "usage", "%s: '%s' is not a number", who, s);
	if (v < o->min || v > o->max)
		return err_set(e, "usage", "%s: %s is out of range %lld..%lld", who, s,
		    o->min, o->max);
	if (num != NULL)
		*num = v;
	return 0;
}

static int
check_choice(const char *who, const struct ctl_opt *o, const char *s, struct err *e)
{
	const char *c = o->choices;
	size_t n = strlen(s);

	while (c != NULL && *c != '\0') {
		const char *bar = strchr(c, '|');
		size_t w = bar != NULL ? (size_t)(bar - c) : strlen(c);

		if (w == n && strncmp(c, s, n) == 0)
			return 0;
		c = bar != NULL ? bar + 1 : NULL;
	}
	return err_set(e, "usage", "%s: '%s' is not one of %s", who, s, o->choices);
}

/* Accepts unix seconds, YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ; *num gets unix seconds. */
static int
check_time(const char *who, const char *s, long long *num, struct err *e)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789") == strlen(s)) {
		struct ctl_opt secs = { .kind = CTL_NUM, .min = 0, .max = 253402300799LL };

		return check_num(who, &secs, s, num, e);
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || strlen(s) > 20)
		return err_set(e, "usage",
		    "%s: '%s' is not a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds)",
		    who, s);
	t = timegm(&tm);
	if (num != NULL)
		*num = (long long)t;
	return 0;
}

int
ctl_check_value(const struct ctl_opt *o, const char *s, long long *num, struct err *e)
{
	char buf[80];
	const char *who = display_name(o, buf, sizeof(buf));
	struct err ce;
	struct cidr c;

	if (s[0] == '\0')
		return err_set(e, "usage", "%s: empty value", who);
	if (strlen(s) > CTL_VALUE_MAX)
		return err_set(e, "usage", "%s: value longer than %d bytes", who, CTL_VALUE_MAX);
	if (!utf8_valid(s))     /* everything is sent as JSON text */
		return err_set(e, "usage", "%s: value is not valid UTF-8", who);
	switch (o->kind) {
	case CTL_FLAG:
	case CTL_STRING:
		return 0;
	case CTL_NUM:
		return check_num(who, o, s, num, e);
	case CTL_KV:
		if (s[0] == '=' || strchr(s, '=') == NULL)
			return err_set(e, "usage", "%s: '%s' is not KEY=VALUE", who, s);
		return 0;
	case CTL_CIDR:
		/* Host bits set is the daemon's refusal (cidr-not-canonical), not a typo. */
		if (cidr_parse(s, &c, &ce) < 0 && strcmp(ce.code, "cidr-not-canonical") != 0)
			return err_set(e, "usage", "%s: %s", who, ce.msg);
		return 0;
	case CTL_CHOICE:
		return check_choice(who, o, s, e);
	case CTL_TIME:
		return check_time(who, s, num, e);
	}
	return err_set(e, "usage", "%s: unknown kind", who);
}

static const struct ctl_opt *
find_opt(const struct ctl_cmd *c, const char *name, size_t n)
{
	const struct ctl_opt *o;

	for (o = c->opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

static size_t
count_opt(const struct ctl_inv *inv, const struct ctl_opt *o)
{
	size_t i, n = 0;

	for (i = 0; i < inv->nvals; i++)
		if (inv->vals[i].opt == o)
			n++;
	return n;
}

/* --url URL, --cacert FILE, --token-file FILE (also as --name=VALUE): 1, 0 or -1 as below. */
static int
parse_remote(int argc, char *argv[], int *i, struct ctl_inv *inv, struct err *e)
{
	static const struct { const char *name, *metavar; size_t off; } g[] = {
		{ "--url", "URL", offsetof(struct ctl_inv, url) },
		{ "--cacert", "FILE", offsetof(struct ctl_inv, cacert) },
		{ "--token-file", "FILE", offsetof(struct ctl_inv, token_file) },
	};
	const char *a = argv[*i], *v;

	for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		size_t n = strlen(g[k].name);

		if (strncmp(a, g[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
			continue;
		v = a[n] == '=' ? a + n + 1 : *i + 1 < argc ? argv[++*i] : "";
		if (v[0] == '\0')
			return err_set(e, "usage", "%s needs a value %s", g[k].name, g[k].metavar);
		*(const char **)((char *)inv + g[k].off) = v;
		return 1;
	}
	return 0;
}

/*
 * Handles a global option at argv[*i]. Returns 1 if it was one (and consumed it and its
 * value), 0 if not, -1 on error.
 */
static int
parse_global(int argc, char *argv[], int *i, struct ctl_inv *inv, struct err *e)
{
	const char *a = argv[*i];

	if (strcmp(a, "--json") == 0) {
		inv->json = true;
		return 1;
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		inv->help = true;
		return 1;
	}
	if (strcmp(a, "--version") == 0) {
		inv->version = true;
		return 1;
	}
	if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
		if (*i + 1 >= argc || argv[*i + 1][0] == '\0')
			return err_set(e, "usage", "%s needs a value SOCKET", a);
		inv->socket = argv[++*i];
		return 1;
	}
	if (strncmp(a, "--socket=", 9) == 0) {
		if (a[9] == '\0')
			return err_set(e, "usage", "--socket needs a value SOCKET");
		inv->socket = a + 9;
		return 1;
	}
	return parse_remote(argc, argv, i, inv, e);
}

/* Parses "--name[=value]" at argv[*i] for command c. */
static int
parse_option(int argc, char *argv[], int *i, struct ctl_inv *inv, struct err *e)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '=');
	size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);
	const struct ctl_opt *o = find_opt(inv->cmd, a, n);
	const char *val = NULL;
	long long num = 0;

	if (o == NULL)
		return err_set(e, "usage", "unknown option --%.*s for '%s'", (int)n, a,
		    inv->cmd->words);
	if (o->kind == CTL_FLAG && eq != NULL)
		return err_set(e, "usage", "--%s takes no value", o->name);
	if (o->kind != CTL_FLAG) {
		if (eq != NULL)
			val = eq + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return err_set(e, "usage", "--%s needs a value %s", o->name,
			    o->metavar != NULL ? o->metavar : "");
		if (ctl_check_value(o, val, &num, e) < 0)
			return -1;
	}
	if (!(o->flags & CTL_OPT_REPEAT) && count_opt(inv, o) > 0)
		return err_set(e, "usage", "--%s given more than once", o->name);
	if (inv->nvals >= CTL_MAX_VALS)
		return err_set(e, "usage", "too many options (at most %d)", CTL_MAX_VALS);
	inv->vals[inv->nvals++] = (struct ctl_val){ .opt = o, .str = val, .num = num };
	return 0;
}

static size_t
count_args(const struct ctl_cmd *c)
{
	size_t n = 0;

	while (c->args != NULL && c->args[n].name != NULL)
		n++;
	return n;
}

static int
parse_positional(const char *a, struct ctl_inv *inv, struct err *e)
{
	const struct ctl_opt *o;
	size_t n = count_args(inv->cmd);

	if (inv->npos < n)
		o = &inv->cmd->args[inv->npos];
	else if (n > 0 && (inv->cmd->args[n - 1].flags & CTL_ARG_REPEAT))
		o = &inv->cmd->args[n - 1];
	else
		return err_set(e, "usage", "unexpected argument '%s' for '%s'", a,
		    inv->cmd->words);
	if (inv->npos >= CTL_MAX_POS)
		return err_set(e, "usage", "more than %d arguments for '%s'", CTL_MAX_POS,
		    inv->cmd->words);
	if (ctl_check_value(o, a, NULL, e) < 0)
		return -1;
	inv->pos[inv->npos++] = a;
	return 0;
}

/* After parsing: every required positional and option is present. */
static int
check_required(const struct ctl_inv *inv, struct err *e)
{
	const struct ctl_cmd *c = inv->cmd;
	const struct ctl_opt *o;
	size_t n = count_args(c);

	if (inv->npos < n && !(c->args[inv->npos].flags & CTL_ARG_OPTIONAL))
		return err_set(e, "usage", "'%s' needs %s", c->words, c->args[inv->npos].name);
	for (o = c->opts; o != NULL && o->name != NULL; o++)
		if ((o->flags & CTL_OPT_REQUIRED) && count_opt(inv, o) == 0)
			return err_set(e, "usage", "'%s' needs --%s %s", c->words, o->name,
			    o->metavar != NULL ? o->metavar : "");
	return c->check != NULL ? c->check(inv, e) : 0;
}

/* Parses what follows the command words. */
static int
parse_command_args(int argc, char *argv[], int i, struct ctl_inv *inv, struct err *e)
{
	bool dashdash = false;
	int r;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash) {
			if ((r = parse_global(argc, argv, &i, inv, e)) != 0) {
				if (r < 0)
					return -1;
				continue;
			}
			if (strcmp(a, "--") == 0) {
				dashdash = true;
				continue;
			}
			if (strncmp(a, "--", 2) == 0) {
				if (parse_option(argc, argv, &i, inv, e) < 0)
					return -1;
				continue;
			}
			if (a[0] == '-' && a[1] != '\0')
				return err_set(e, "usage", "unknown option %s for '%s'", a,
				    inv->cmd->words);
		}
		if (parse_positional(a, inv, e) < 0)
			return -1;
	}
	return inv->help ? 0 : check_required(inv, e);
}

/* Finds the command at argv[i..]; "help WORDS" sets help. */
static int
parse_command(int argc, char *argv[], int i, struct ctl_inv *inv, struct err *e)
{
	int used = 0;

	if (strcmp(argv[i], "help") == 0) {
		inv->help = true;
		if (++i == argc)
			return 0;
	}
	inv->cmd = ctl_cmd_find(argc - i, argv + i, &used);
	if (inv->cmd == NULL) {
		if (inv->help && used == 1 && i + used == argc) {
			inv->topic = argv[i];
			return 0;
		}
		if (used > 0 && i + used == argc)
			return err_set(e, "usage", "'%s' needs a subcommand (see prefixctl help %s)",
			    argv[i], argv[i]);
		return err_set(e, "usage", "unknown command '%s'", argv[i + used]);
	}
	return parse_command_args(argc, argv, i + used, inv, e);
}

int
ctl_parse(int argc, char *argv[], struct ctl_inv *inv, struct err *e)
{
	int i, r;

	memset(inv, 0, sizeof(*inv));
	err_clear(e);
	for (i = 0; i < argc; i++) {
		if ((r = parse_global(argc, argv, &i, inv, e)) < 0)
			return -1;
		if (r == 0)
			break;
	}
	if (i < argc && strcmp(argv[i], "__complete") == 0) {
		inv->complete = true;
		inv->complete_from = i + 1;
		return 0;
	}
	if (i == argc) {
		if (inv->help || inv->version)
			return 0;
		return err_set(e, "usage", "missing command");
	}
	if (argv[i][0] == '-')
		return err_set(e, "usage", "unknown option %s", argv[i]);
	return parse_command(argc, argv, i, inv, e);
}

static const struct ctl_val *
find_val(const struct ctl_inv *inv, const char *name, size_t from, size_t *at)
{
	size_t i;

	for (i = from; i < inv->nvals; i++)
		if (strcmp(inv->vals[i].opt->name, name) == 0) {
			if (at != NULL)
				*at = i;
			return &inv->vals[i];
		}
	return NULL;
}

const char *
ctl_inv_str(const struct ctl_inv *inv, const char *name)
{
	const struct ctl_val *v = find_val(inv, name, 0, NULL);

	return v != NULL ? v->str : NULL;
}

bool
ctl_inv_num(const struct ctl_inv *inv, const char *name, long long *out)
{
	const struct ctl_val *v = find_val(inv, name, 0, NULL);

	if (v == NULL)
		return false;
	*out = v->num;
	return true;
}

bool
ctl_inv_flag(const struct ctl_inv *inv, const char *name)
{
	return find_val(inv, name, 0, NULL) != NULL;
}

const char *
ctl_inv_next(const struct ctl_inv *inv, const char *name, size_t *it)
{
	size_t at;
	const struct ctl_val *v = find_val(inv, name, *it, &at);

	if (v == NULL) {
		*it = inv->nvals;
		return NULL;
	}
	*it = at + 1;
	return v->str;
}
