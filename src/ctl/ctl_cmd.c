/*
 * ctl_cmd — prefixctl's command registry, help and dispatcher.
 *
 * The commands are the union of the per-area tables listed in `areas` below; lookup, the
 * general and per-command help and the bash completion (ctl_complete.c) are all generated
 * from those tables, so a new command is one table entry. ctl_main() is the whole program;
 * prefixctl.c calls it.
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

/* Every area's table, in help order. Add a new area here. */
static const struct ctl_cmd *const areas[] = {
	ctl_ipam_cmds,
	ctl_grants_cmds,
	ctl_prefix_cmds,
	ctl_asn_cmds,
	ctl_rpki_cmds,
	ctl_auth_cmds,
	ctl_bird_cmds,
	ctl_bmp_cmds,
	ctl_events_cmds,
	NULL,
};

#define CTL_TIMEOUT_MS 30000L
#define CTL_COMPLETE_TIMEOUT_MS 1000L     /* a <TAB> must not hang on a busy daemon */
#define CTL_MAX_REPLY (64u << 20)

void
ctl_cmd_foreach(void (*fn)(const struct ctl_cmd *c, void *arg), void *arg)
{
	const struct ctl_cmd *const *a;
	const struct ctl_cmd *c;

	for (a = areas; *a != NULL; a++)
		for (c = *a; c->words != NULL; c++)
			fn(c, arg);
}

int
ctl_cmd_match(const char *words, int argc, char *const argv[], bool *all)
{
	const char *w = words;
	int n = 0;

	*all = false;
	while (*w != '\0') {
		size_t len = strcspn(w, " ");

		if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], w, len) != 0)
			return n;
		n++;
		w += len;
		w += strspn(w, " ");
	}
	*all = true;
	return n;
}

const struct ctl_cmd *
ctl_cmd_find(int argc, char *const argv[], int *used)
{
	const struct ctl_cmd *const *a;
	const struct ctl_cmd *c, *best = NULL;
	int best_n = 0, prefix = 0;

	for (a = areas; *a != NULL; a++)
		for (c = *a; c->words != NULL; c++) {
			bool all;
			int n = ctl_cmd_match(c->words, argc, argv, &all);

			if (all && n > best_n) {
				best = c;
				best_n = n;
			} else if (!all && n > prefix) {
				prefix = n;
			}
		}
	*used = best != NULL ? best_n : prefix;
	return best;
}

struct synopsis {
	FILE *f;
	const char *topic;
};

static void
print_synopsis(const struct ctl_cmd *c, void *arg)
{
	struct synopsis *s = arg;
	FILE *f = s->f;
	bool all;
	char *topic[1] = { (char *)s->topic };

	if (s->topic != NULL && ctl_cmd_match(c->words, 1, topic, &all) != 1)
		return;
	fprintf(f, "  %s%s%s\n", c->words, c->usage[0] != '\0' ? " " : "", c->usage);
}

void
ctl_help_all(FILE *f, const char *topic)
{
	struct synopsis s = { .f = f, .topic = topic };

	fprintf(f,
	    "usage: prefixctl [-s SOCKET | --url URL [--cacert FILE] [--token-file FILE]] [--json]\n"
	    "                 COMMAND ...\n"
	    "\n"
	    "  -s SOCKET  the daemon's socket (default: $PREFIXD_SOCKET, else %s)\n"
	    "  --url URL  the daemon's TCP listener instead, https://HOST:PORT (or http://)\n"
	    "  --cacert FILE      the CA certificate the daemon's TLS certificate is checked with\n"
	    "                     (default: the system's CAs)\n"
	    "  --token-file FILE  the bearer token for --url (default: $PREFIXD_TOKEN); never\n"
	    "                     on the command line, where ps shows it\n"
	    "  --json     print the API's JSON instead of tables\n"
	    "  --version  print prefixctl's version\n"
	    "  (environment: PREFIXD_SOCKET; PREFIXD_TOKEN; PREFIXCTL_TIMEOUT, seconds per\n"
	    "  request, default %ld)\n"
	    "\n"
	    "commands:\n", CTL_DEFAULT_SOCKET, CTL_TIMEOUT_MS / 1000);
	ctl_cmd_foreach(print_synopsis, &s);
	fprintf(f,
	    "\n"
	    "'prefixctl help COMMAND' or 'prefixctl COMMAND --help' describes one command.\n"
	    "exit status: 0 done, 1 refused, 2 usage error, 3 daemon unreachable\n");
}

static void
print_opt_help(FILE *f, const struct ctl_opt *o, bool positional)
{
	char left[64];

	if (positional)
		snprintf(left, sizeof(left), "%s", o->name);
	else if (o->kind == CTL_FLAG)
		snprintf(left, sizeof(left), "--%s", o->name);
	else
		snprintf(left, sizeof(left), "--%s %s", o->name,
		    o->metavar != NULL ? o->metavar : "VALUE");
	fprintf(f, "  %-24s %s", left, o->help != NULL ? o->help : "");
	if (o->kind == CTL_NUM)
		fprintf(f, " (%lld..%lld)", o->min, o->max);
	if (o->kind == CTL_CHOICE)
		fprintf(f, " (%s)", o->choices);
	if (o->flags & CTL_OPT_REPEAT)
		fprintf(f, " (repeatable)");
	fputc('\n', f);
}

void
ctl_help_cmd(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_opt *o;
	size_t run;

	fprintf(f, "usage: prefixctl [-s SOCKET] [--json] %s%s%s\n\n%s\n", c->words,
	    c->usage[0] != '\0' ? " " : "", c->usage, c->summary);
	if (c->args != NULL && c->args[0].name != NULL) {
		fprintf(f, "\narguments:\n");
		for (o = c->args; o->name != NULL; o += run) {
			/* a run of equal positionals (CIDR CIDR ...) is one line */
			for (run = 1; o[run].name != NULL && strcmp(o[run].name, o->name) == 0; run++)
				;
			print_opt_help(f, o, true);
			if (o->flags & CTL_ARG_REPEAT)
				fprintf(f, "  %-24s (one or more, up to %d)\n", "", CTL_MAX_POS);
			else if (run > 1)
				fprintf(f, "  %-24s (up to %zu of them)\n", "", run);
		}
	}
	if (c->opts != NULL && c->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		for (o = c->opts; o->name != NULL; o++)
			print_opt_help(f, o, false);
	}
}

/* The one-line hint after a usage error. */
static void
usage_hint(FILE *f, const struct ctl_cmd *c)
{
	if (c != NULL)
		fprintf(f, "usage: prefixctl %s%s%s (see prefixctl help %s)\n", c->words,
		    c->usage[0] != '\0' ? " " : "", c->usage, c->words);
	else
		fprintf(f, "usage: prefixctl [-s SOCKET] [--json] COMMAND ... "
		    "(see prefixctl help)\n");
}

/* $PREFIXCTL_TIMEOUT: seconds a request may take (1..3600), default CTL_TIMEOUT_MS. */
static int
timeout_from_env(long *ms)
{
	const char *s = getenv("PREFIXCTL_TIMEOUT");
	static const struct ctl_opt secs = {
		"PREFIXCTL_TIMEOUT", CTL_NUM, 0, "SECONDS", 1, 3600, NULL, NULL,
	};
	struct err e;
	long long v;

	if (s == NULL)
		return 0;
	if (ctl_check_value(&secs, s, &v, &e) < 0) {
		fprintf(stderr, "prefixctl: %s\n", e.msg);
		return -1;
	}
	*ms = (long)v * 1000;
	return 0;
}

int
ctl_main(int argc, char *argv[])
{
	struct ctl_inv inv;
	struct ctl_ctx ctx;
	struct err e;
	const char *env;
	long timeout_ms = CTL_TIMEOUT_MS;
	static struct ctl_remote remote;

	if (ctl_parse(argc - 1, argv + 1, &inv, &e) < 0) {
		fprintf(stderr, "prefixctl: %s\n", e.msg);
		usage_hint(stderr, inv.cmd);
		return CTL_EXIT_USAGE;
	}
	if (inv.version) {
		printf("prefixctl %s\n", PREFIXD_VERSION);
		return CTL_EXIT_OK;
	}
	if (inv.help) {
		if (inv.cmd != NULL)
			ctl_help_cmd(stdout, inv.cmd);
		else
			ctl_help_all(stdout, inv.topic);
		return CTL_EXIT_OK;
	}
	if (timeout_from_env(&timeout_ms) < 0) {
		usage_hint(stderr, NULL);
		return CTL_EXIT_USAGE;
	}
	env = getenv("PREFIXD_SOCKET");
	ctx = (struct ctl_ctx){
		.socket = inv.socket != NULL ? inv.socket :
		    (env != NULL && env[0] != '\0') ? env : CTL_DEFAULT_SOCKET,
		.json = inv.json,
		.out = stdout,
		.errf = stderr,
		.timeout_ms = timeout_ms,
		.max_reply = CTL_MAX_REPLY,
	};
	if (ctl_remote_init(&ctx, &inv, &remote, &e) < 0) {
		fprintf(stderr, "prefixctl: %s\n", e.msg);
		usage_hint(stderr, NULL);
		return CTL_EXIT_USAGE;
	}
	if (inv.complete) {
		ctx.timeout_ms = CTL_COMPLETE_TIMEOUT_MS;
		ctl_complete(stdout, argc - 1 - inv.complete_from, argv + 1 + inv.complete_from,
		    &ctx);
		return CTL_EXIT_OK;
	}
	return inv.cmd->run(&ctx, &inv);
}
