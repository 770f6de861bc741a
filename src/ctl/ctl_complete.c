/*
 * ctl_complete — prefixctl's bash completion, generated from the command tables.
 *
 * contrib/bash-completion/prefixctl runs the hidden `prefixctl __complete WORDS...` with
 * the words typed so far; ctl_main() calls ctl_complete(), which prints the candidates for
 * the next word: command words, the typed command's options, an option's choices, and --
 * asked from the daemon with a short timeout -- existing pool and scope names and allocation
 * ids where one is expected. It owns nothing beyond one request's reply.
 */
#include "ctl.h"

#include <ctype.h>
#include <string.h>

/* Completion state: the words typed and the candidates found so far (deduplicated). */
struct complete {
	FILE *f;
	int argc;
	char *const *argv;
	const char *seen[256];     /* candidates printed so far: word start and length */
	size_t seen_len[256];
	size_t nseen;
	const struct ctl_ctx *ctx;  /* for names from the daemon; NULL: none */
	const char *first_pos;      /* the command's first positional, for "{1}" lookups */
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

	if (ctl_cmd_match(c->words, cp->argc, cp->argv, &all) != cp->argc || all)
		return;
	for (i = 0; i < cp->argc; i++) {
		w += strcspn(w, " ");
		w += strspn(w, " ");
	}
	emit_once(cp, w, strcspn(w, " "));
}

/* Prints a string candidate (an object's cidr); names with blanks would split in bash. */
static void
print_name(FILE *f, json_t *v)
{
	if (json_is_object(v))
		v = json_object_get(v, "cidr");
	if (json_is_string(v) && strpbrk(json_string_value(v), " \t\n") == NULL)
		fprintf(f, "%s\n", json_string_value(v));
}

/*
 * GET /v1/<path> for a lookup "PATH MEMBER" ("pools name", "pools/{1} cidrs"; {1} is the
 * first positional typed). Prints the reply's MEMBER when it is an array ("cidrs" of one
 * pool), else the MEMBER of every item of the reply's first array (.pools[].name).
 */
static void
complete_names(struct complete *cp, const char *names)
{
	const char *sp = strchr(names, ' '), *seg = names;
	struct ctl_path p;
	struct ctl_reply r;
	struct err e;
	json_t *j, *arr = NULL, *el, *v;
	const char *k;
	char buf[CTL_PATH_MAX];
	size_t i;

	if (cp->ctx == NULL || sp == NULL)
		return;
	ctl_path_init(&p, "/v1");
	while (seg < sp) {
		size_t n = strcspn(seg, "/ ");

		snprintf(buf, sizeof(buf), "%.*s", (int)n, seg);
		if (strcmp(buf, "{1}") == 0 && cp->first_pos == NULL)
			return;
		if (ctl_path_add(&p, strcmp(buf, "{1}") == 0 ? cp->first_pos : buf) < 0)
			return;
		seg += n + (seg[n] == '/');
	}
	if (ctl_http(cp->ctx, "GET", p.s, NULL, &r, &e) < 0)
		return;
	j = r.status == 200 && r.len > 0 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	if (json_is_array(json_object_get(j, sp + 1)))
		json_array_foreach(json_object_get(j, sp + 1), i, el)
			print_name(cp->f, el);
	json_object_foreach(j, k, v)
		if (arr == NULL && json_is_array(v))
			arr = v;
	if (!json_is_array(json_object_get(j, sp + 1)))
		json_array_foreach(arr, i, el)
			print_name(cp->f, json_object_get(el, sp + 1));
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
 * of that name, in commands whose words are `group` or start with it (NULL: any), is looked
 * up as complete_names() says. Positionals of "... create" commands are new names and never
 * looked up.
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
	{ "pool deprovision", "CIDR", "pools/{1} cidrs" },
	{ "prefix show", "CIDR", "prefixes cidr" },
	{ "advertise", "CIDR", "prefixes cidr" },
	{ "withdraw", "CIDR", "prefixes cidr" },
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
		    strcmp(lookups[i].group, c->words) == 0 || (strlen(lookups[i].group) == glen &&
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
			if (npos++ == 0)
				cp->first_pos = cp->argv[i];
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
	else if (nargs > 0 && (c->args[nargs - 1].flags & CTL_ARG_REPEAT))
		complete_value(cp, c, &c->args[nargs - 1]);
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
		if (strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--cacert") == 0 ||
		    strcmp(argv[i], "--token-file") == 0) {
			i++;    /* ctl_main has read them into ctx already */
			continue;
		}
		if (strncmp(argv[i], "--url=", 6) == 0 || strncmp(argv[i], "--cacert=", 9) == 0 ||
		    strncmp(argv[i], "--token-file=", 13) == 0)
			continue;
		if (strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "help") != 0)
			words[n++] = argv[i];
	}
	if (i == argc + 1)      /* "-s" (or --url, ...) was the last word: its value comes next */
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

