/*
 * ctl_cmd — prefixctl's command registry, help, completion and dispatcher.
 *
 * The commands are the union of the per-area tables listed in `areas` below; lookup, the
 * general and per-command help and the bash completion (hidden `prefixctl __complete WORDS`,
 * used by contrib/bash-completion/prefixctl) are all generated from those tables, so a new
 * command is one table entry. ctl_main() is the whole program; prefixctl.c calls it.
 */
#include "ctl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Every area's table, in help order. Add a new area here. */
static const struct ctl_cmd *const areas[] = {
	ctl_ipam_cmds,
	ctl_rpki_cmds,
	ctl_auth_cmds,
	ctl_bird_cmds,
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

/*
 * How many leading words of `words` equal argv[0..argc): returns that count, and sets *all
 * when every word of `words` matched.
 */
static int
match_words(const char *words, int argc, char *const argv[], bool *all)
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
			int n = match_words(c->words, argc, argv, &all);

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

	if (s->topic != NULL && match_words(c->words, 1, topic, &all) != 1)
		return;
	fprintf(f, "  %s%s%s\n", c->words, c->usage[0] != '\0' ? " " : "", c->usage);
}

void
ctl_help_all(FILE *f, const char *topic)
{
	struct synopsis s = { .f = f, .topic = topic };

	fprintf(f,
	    "usage: prefixctl [-s SOCKET] [--json] COMMAND ...\n"
	    "\n"
	    "  -s SOCKET  the daemon's socket (default: $PREFIXD_SOCKET, else %s)\n"
	    "  --json     print the API's JSON instead of tables\n"
	    "  (environment: PREFIXD_SOCKET; PREFIXCTL_TIMEOUT, seconds per request, default %ld)\n"
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

	fprintf(f, "usage: prefixctl [-s SOCKET] [--json] %s%s%s\n\n%s\n", c->words,
	    c->usage[0] != '\0' ? " " : "", c->usage, c->summary);
	if (c->args != NULL && c->args[0].name != NULL) {
		fprintf(f, "\narguments:\n");
		for (o = c->args; o->name != NULL; o++)
			print_opt_help(f, o, true);
	}
	if (c->opts != NULL && c->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		for (o = c->opts; o->name != NULL; o++)
			print_opt_help(f, o, false);
	}
}

/* Completion state: the words typed and the candidates found so far (deduplicated). */
struct complete {
	FILE *f;
	int argc;
	char *const *argv;
	const char *seen[256];     /* candidates printed so far: word start and length */
	size_t seen_len[256];
	size_t nseen;
	const struct ctl_ctx *ctx;  /* for names from the daemon; NULL: none */
};

static void
emit_once(struct complete *cp, const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < cp->nseen; i++)
		if (cp->seen_len[i] == len && strncmp(cp->seen[i], w, len) == 0)
			return;
	if (cp->nseen < sizeof(cp->seen) / sizeof(cp->seen[0])) {
		cp->seen[cp->nseen] = w;
		cp->seen_len[cp->nseen++] = len;
	}
	fprintf(cp->f, "%.*s\n", (int)len, w);
}

/* Emits the next command word of c when the typed words are a strict prefix of its words. */
static void
complete_word(const struct ctl_cmd *c, void *arg)
{
	struct complete *cp = arg;
	const char *w = c->words;
	int i;
	bool all;

	if (match_words(c->words, cp->argc, cp->argv, &all) != cp->argc || all)
		return;
	for (i = 0; i < cp->argc; i++) {
		w += strcspn(w, " ");
		w += strspn(w, " ");
	}
	emit_once(cp, w, strcspn(w, " "));
}

/* Prints the `member` of every item GET /v1/<collection> lists ("pools name"). */
static void
complete_names(struct complete *cp, const char *names)
{
	const char *sp = strchr(names, ' ');
	char coll[32];
	struct ctl_path p;
	struct ctl_reply r;
	struct err e;
	json_t *j, *arr = NULL, *el, *v;
	const char *k;
	size_t i;

	if (cp->ctx == NULL || sp == NULL || (size_t)(sp - names) >= sizeof(coll))
		return;
	snprintf(coll, sizeof(coll), "%.*s", (int)(sp - names), names);
	ctl_path_init(&p, "/v1");
	if (ctl_path_add(&p, coll) < 0 || ctl_http(cp->ctx, "GET", p.s, NULL, &r, &e) < 0)
		return;
	j = r.status == 200 && r.len > 0 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	json_object_foreach(j, k, v)
		if (arr == NULL && json_is_array(v))
			arr = v;
	json_array_foreach(arr, i, el) {
		v = json_object_get(el, sp + 1);
		if (json_is_string(v) && strpbrk(json_string_value(v), " \t\n") == NULL)
			fprintf(cp->f, "%s\n", json_string_value(v));
	}
	json_decref(j);
	ctl_reply_free(&r);
}

/* The option named by "--name" (no "=value"), or NULL. */
static const struct ctl_opt *
option_named(const struct ctl_cmd *c, const char *word)
{
	const struct ctl_opt *o;

	if (strncmp(word, "--", 2) != 0)
		return NULL;
	for (o = c->opts; o != NULL && o->name != NULL; o++)
		if (strcmp(word + 2, o->name) == 0)
			return o;
	return NULL;
}

/*
 * Where completion finds existing names: an option (lower case) or positional (upper case)
 * of that name, in commands of that group (NULL: any), lists the member of the daemon's
 * collection ("pools name": .name of GET /v1/pools's items). Positionals of "... create"
 * commands are new names and never looked up.
 */
static const struct {
	const char *group, *arg, *names;
} lookups[] = {
	{ NULL, "scope", "scopes name" },
	{ NULL, "parent", "pools name" },
	{ NULL, "pool", "pools name" },
	{ NULL, "POOL", "pools name" },
	{ NULL, "ID", "allocations id" },
	{ "pool", "NAME", "pools name" },
	{ "scope", "NAME", "scopes name" },
};

static const char *
lookup_names(const struct ctl_cmd *c, const struct ctl_opt *o)
{
	size_t i, glen = strcspn(c->words, " ");
	const char *last = strrchr(c->words, ' ');

	if (isupper((unsigned char)o->name[0]) && last != NULL && strcmp(last, " create") == 0)
		return NULL;
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++)
		if (strcmp(lookups[i].arg, o->name) == 0 && (lookups[i].group == NULL ||
		    (strlen(lookups[i].group) == glen &&
		    strncmp(lookups[i].group, c->words, glen) == 0)))
			return lookups[i].names;
	return NULL;
}

/* Emits the choices of a CTL_CHOICE option, or the daemon's names for it. */
static void
complete_value(struct complete *cp, const struct ctl_cmd *c, const struct ctl_opt *o)
{
	const char *ch, *names = lookup_names(c, o);

	if (names != NULL)
		complete_names(cp, names);
	for (ch = o->kind == CTL_CHOICE ? o->choices : NULL; ch != NULL; ) {
		emit_once(cp, ch, strcspn(ch, "|"));
		ch = strchr(ch, '|');
		ch = ch != NULL ? ch + 1 : NULL;
	}
}

/*
 * Candidates after a complete command: the value of a pending option; else the next
 * positional's names (when the daemon can list them) and the command's options.
 */
static void
complete_options(struct complete *cp, const struct ctl_cmd *c)
{
	const struct ctl_opt *o, *pending = NULL;
	size_t npos = 0, nargs = 0;
	int i;

	for (i = 0; i < cp->argc; i++) {
		if ((o = option_named(c, cp->argv[i])) != NULL && o->kind != CTL_FLAG) {
			pending = i + 1 == cp->argc ? o : NULL;
			i++;
		} else if (cp->argv[i][0] != '-') {
			npos++;
		}
	}
	if (pending != NULL) {
		complete_value(cp, c, pending);
		return;         /* a value is expected: nothing else fits */
	}
	while (c->args != NULL && c->args[nargs].name != NULL)
		nargs++;
	if (npos < nargs)
		complete_value(cp, c, &c->args[npos]);
	for (o = c->opts; o != NULL && o->name != NULL; o++)
		fprintf(cp->f, "--%s\n", o->name);
	fprintf(cp->f, "--help\n--json\n");
}

void
ctl_complete(FILE *f, int argc, char *const argv[], const struct ctl_ctx *ctx)
{
	struct complete cp = { .f = f };
	struct ctl_ctx own = { 0 };
	char *words[64];
	int i, n = 0, used = 0;
	const struct ctl_cmd *c;

	if (ctx != NULL) {
		own = *ctx;
		cp.ctx = &own;
	}
	/* Global options are not command words. */
	for (i = 0; i < argc && n < 64; i++) {
		if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--socket") == 0) {
			if (++i < argc)
				own.socket = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "help") != 0)
			words[n++] = argv[i];
	}
	if (i == argc + 1)      /* "-s" was the last word: a socket path comes next */
		return;
	c = ctl_cmd_find(n, words, &used);
	if (c != NULL) {
		cp.argc = n - used;
		cp.argv = words + used;
		complete_options(&cp, c);
		return;
	}
	cp.argc = n;
	cp.argv = words;
	if (n == 0)
		emit_once(&cp, "help", 4);
	ctl_cmd_foreach(complete_word, &cp);
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

	if (ctl_parse(argc - 1, argv + 1, &inv, &e) < 0) {
		fprintf(stderr, "prefixctl: %s\n", e.msg);
		usage_hint(stderr, inv.cmd);
		return CTL_EXIT_USAGE;
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
	if (inv.complete) {
		ctx.timeout_ms = CTL_COMPLETE_TIMEOUT_MS;
		ctl_complete(stdout, argc - 1 - inv.complete_from, argv + 1 + inv.complete_from,
		    &ctx);
		return CTL_EXIT_OK;
	}
	return inv.cmd->run(&ctx, &inv);
}
