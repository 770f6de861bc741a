/*
 * ctl_ipam — prefixctl's address-management commands (SPEC §1–§2, §6): status, scope, pool,
 * allocate, release, allocation, resource, import, report, history.
 *
 * Contributes ctl_ipam_cmds[] to the registry in ctl_cmd.c. Each handler turns a parsed,
 * already validated invocation into one request of the control API (doc/openapi.json) and
 * names a printer for the human output; --json prints the reply unchanged. Nothing here keeps
 * state between commands.
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#define IMPORT_FILE_MAX (16u << 20)

/* --- shared pieces --- */

#define OPT_SCOPE_FILTER { "scope", CTL_STRING, 0, "S", 0, 0, NULL, "only this scope" }
#define OPT_TAG(help) { "tag", CTL_KV, CTL_OPT_REPEAT, "K=V", 0, 0, NULL, help }
#define OPT_NETMASK(help) { "netmask", CTL_NUM, 0, "N", 0, 128, NULL, help }

static int
too_long(struct ctl_ctx *ctx)
{
	fprintf(ctx->errf, "prefixctl: an argument is too long for a request path\n");
	return CTL_EXIT_USAGE;
}

/* {K: V, ...} from every occurrence of a K=V option; NULL if there was none. */
static json_t *
kv_object(const struct ctl_inv *inv, const char *name)
{
	size_t it = 0;
	const char *kv;
	json_t *o = NULL;

	while ((kv = ctl_inv_next(inv, name, &it)) != NULL) {
		const char *eq = strchr(kv, '=');
		char *key = strndup(kv, (size_t)(eq - kv));

		if (o == NULL)
			o = json_object();
		if (key != NULL)
			json_object_set_new(o, key, json_string(eq + 1));
		free(key);
	}
	return o;
}

static void
set_str(json_t *body, const struct ctl_inv *inv, const char *opt, const char *field)
{
	const char *v = ctl_inv_str(inv, opt);

	if (v != NULL)
		json_object_set_new(body, field, json_string(v));
}

static void
set_num(json_t *body, const struct ctl_inv *inv, const char *opt, const char *field)
{
	long long v;

	if (ctl_inv_num(inv, opt, &v))
		json_object_set_new(body, field, json_integer(v));
}

static void
set_kv(json_t *body, const struct ctl_inv *inv, const char *opt, const char *field)
{
	json_t *o = kv_object(inv, opt);

	if (o != NULL)
		json_object_set_new(body, field, o);
}

/* GET /v1/<a>[/<b>] with an optional ?<qkey>=<qval>, printed by human. */
static int
get(struct ctl_ctx *ctx, const char *a, const char *b, const char *qkey, const char *qval,
    void (*human)(struct ctl_ctx *, json_t *))
{
	struct ctl_path p;

	ctl_path_init(&p, "/v1");
	if (ctl_path_add(&p, a) < 0 || (b != NULL && ctl_path_add(&p, b) < 0) ||
	    (qkey != NULL && ctl_path_query(&p, qkey, qval) < 0))
		return too_long(ctx);
	return ctl_request(ctx, "GET", p.s, NULL, human);
}

int
ctl_send3(struct ctl_ctx *ctx, const char *method, const char *a, const char *b, const char *c,
    json_t *body, void (*human)(struct ctl_ctx *, json_t *))
{
	struct ctl_path p;
	int rc;

	ctl_path_init(&p, "/v1");
	if (ctl_path_add(&p, a) < 0 || (b != NULL && ctl_path_add(&p, b) < 0) ||
	    (c != NULL && ctl_path_add(&p, c) < 0)) {
		json_decref(body);
		return too_long(ctx);
	}
	rc = ctl_request(ctx, method, p.s, body, human);
	json_decref(body);
	return rc;
}

static void
print_object(struct ctl_ctx *ctx, json_t *reply)
{
	ctl_out_object(ctx->out, reply);
}

/* --- status, scope --- */

static int
run_status(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return get(ctx, "status", NULL, NULL, NULL, print_object);
}

static void
print_scopes(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name" }, { "KIND", "kind" }, { "POOLS", "pools" },
		{ "RESOURCES", "resources" }, { NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static int
run_scope_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	(void)inv;
	return get(ctx, "scopes", NULL, NULL, NULL, print_scopes);
}

static int
run_scope_show(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "scopes", inv->pos[0], NULL, NULL, print_object);
}

static int
run_scope_create(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return ctl_send3(ctx, "POST", "scopes", NULL, NULL, json_pack("{s:s}", "name", inv->pos[0]),
	    print_object);
}

static int
run_scope_delete(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return ctl_send3(ctx, "DELETE", "scopes", inv->pos[0], NULL, NULL, print_object);
}

/* --- pool --- */

static int
run_pool_create(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = json_pack("{s:s}", "name", inv->pos[0]);

	set_str(body, inv, "scope", "scope");
	set_str(body, inv, "parent", "parent");
	set_str(body, inv, "family", "family");
	set_str(body, inv, "locale", "locale");
	set_num(body, inv, "default-netmask", "default_netmask");
	set_num(body, inv, "min-netmask", "min_netmask");
	set_num(body, inv, "max-netmask", "max_netmask");
	set_kv(body, inv, "require-tag", "required_tags");
	set_kv(body, inv, "tag", "tags");
	set_num(body, inv, "alarm-at", "alarm_at");
	set_num(body, inv, "origin-asn", "origin_asn");
	set_str(body, inv, "description", "description");
	return ctl_send3(ctx, "POST", "pools", NULL, NULL, body, print_object);
}

static void
print_pools(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name" }, { "SCOPE", "scope" }, { "PARENT", "parent" },
		{ "FAMILY", "family" }, { "LOCALE", "locale" }, { "CIDRS", "cidrs" },
		{ "USED%", "utilization.utilization_percent" },
		{ "LARGEST-FREE", "utilization.largest_free" },
		{ "ALARM", "utilization.alarm" }, { NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static int
run_pool_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "pools", NULL, "scope", ctl_inv_str(inv, "scope"), print_pools);
}

static int
run_pool_show(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "pools", inv->pos[0], NULL, NULL, print_object);
}

static int
run_pool_delete(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return ctl_send3(ctx, "DELETE", "pools", inv->pos[0], NULL, NULL, print_object);
}

static int
check_pool_provision(const struct ctl_inv *inv, struct err *e)
{
	bool netmask = ctl_inv_flag(inv, "netmask");
	bool msg = ctl_inv_flag(inv, "auth-message"), sig = ctl_inv_flag(inv, "auth-signature");

	if ((inv->npos > 1) == netmask)
		return err_set(e, "usage", "'pool provision' needs either CIDR or --netmask N");
	if (msg != sig)
		return err_set(e, "usage",
		    "--auth-message and --auth-signature go together");
	return 0;
}

static int
run_pool_provision(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = json_object();

	if (inv->npos > 1)
		json_object_set_new(body, "cidr", json_string(inv->pos[1]));
	set_num(body, inv, "netmask", "netmask");
	set_str(body, inv, "auth-message", "auth_message");
	set_str(body, inv, "auth-signature", "auth_signature");
	return ctl_send3(ctx, "POST", "pools", inv->pos[0], "provision", body, print_object);
}

static int
run_pool_deprovision(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = json_pack("{s:s}", "cidr", inv->pos[1]);

	return ctl_send3(ctx, "POST", "pools", inv->pos[0], "deprovision", body, print_object);
}

/* --- allocations --- */

static int
check_allocate(const struct ctl_inv *inv, struct err *e)
{
	if (ctl_inv_flag(inv, "netmask") && ctl_inv_flag(inv, "cidr"))
		return err_set(e, "usage", "'allocate' takes --netmask or --cidr, not both");
	return 0;
}

static int
run_allocate(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	json_t *body = json_object();

	set_num(body, inv, "netmask", "netmask");
	set_str(body, inv, "cidr", "cidr");
	set_kv(body, inv, "tag", "tags");
	set_str(body, inv, "locale", "locale");
	set_str(body, inv, "description", "description");
	set_str(body, inv, "token", "token");
	if (ctl_inv_flag(inv, "preview"))
		json_object_set_new(body, "preview", json_true());
	return ctl_send3(ctx, "POST", "pools", inv->pos[0], "allocations", body, print_object);
}

static int
run_release(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return ctl_send3(ctx, "DELETE", "allocations", inv->pos[0], NULL, NULL, print_object);
}

static void
print_allocations(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "ID", "id" }, { "POOL", "pool" }, { "CIDR", "cidr" }, { "KIND", "kind" },
		{ "LOCALE", "locale" }, { "TAGS", "tags" }, { "DESCRIPTION", "description" },
		{ NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static int
run_allocation_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "allocations", NULL, "pool", ctl_inv_str(inv, "pool"),
	    print_allocations);
}

static int
run_allocation_show(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "allocations", inv->pos[0], NULL, NULL, print_object);
}

/* --- resources, import --- */

static void
print_resources(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "ID", "id" }, { "SCOPE", "scope" }, { "CIDR", "cidr" }, { "NAME", "name" },
		{ "TAGS", "tags" }, { NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static int
run_resource_list(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "resources", NULL, "scope", ctl_inv_str(inv, "scope"),
	    print_resources);
}

static int
check_import(const struct ctl_inv *inv, struct err *e)
{
	bool file = ctl_inv_flag(inv, "file"), cidr = ctl_inv_flag(inv, "cidr");
	bool name = ctl_inv_flag(inv, "name"), tag = ctl_inv_flag(inv, "tag");

	if (file && (cidr || name || tag))
		return err_set(e, "usage", "'import' takes --file F or --cidr C --name N, not both");
	if (!file && (!cidr || !name))
		return err_set(e, "usage", "'import' needs --cidr C --name N, or --file F");
	return 0;
}

static int
run_import(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	const char *file = ctl_inv_str(inv, "file");
	json_t *body = json_pack("{s:s}", "scope", ctl_inv_str(inv, "scope"));
	struct err e;

	if (file != NULL) {
		size_t len;
		char *text = ctl_read_file(file, IMPORT_FILE_MAX, &len, &e);
		json_t *list = text != NULL ? ctl_import_parse(text, len, &e) : NULL;

		free(text);
		if (list == NULL) {
			fprintf(ctx->errf, "prefixctl: %s: %s\n", file, e.msg);
			json_decref(body);
			return CTL_EXIT_USAGE;
		}
		json_object_set_new(body, "resources", list);
	} else {
		set_str(body, inv, "cidr", "cidr");
		set_str(body, inv, "name", "name");
		set_kv(body, inv, "tag", "tags");
	}
	return ctl_send3(ctx, "POST", "resources", NULL, NULL, body, print_resources);
}

/* --- reports, history --- */

static void
print_overlaps(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "SCOPE", "scope" }, { "CIDR", "cidr" }, { "TYPE", "type" }, { "NAME", "name" },
		{ "ID", "id" }, { "MANAGEMENT", "management_state" },
		{ "OVERLAP", "overlap_status" }, { "OVERLAPS-WITH", "overlaps_with" },
		{ NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static void
print_compliance(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "SCOPE", "scope" }, { "CIDR", "cidr" }, { "TYPE", "type" }, { "NAME", "name" },
		{ "POOL", "pool" }, { "MANAGEMENT", "management_state" },
		{ "COMPLIANCE", "compliance_status" }, { "REASON", "compliance_reason" },
		{ NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

static int
run_report_overlaps(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "reports", "overlaps", "scope", ctl_inv_str(inv, "scope"),
	    print_overlaps);
}

static int
run_report_compliance(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	return get(ctx, "reports", "compliance", "scope", ctl_inv_str(inv, "scope"),
	    print_compliance);
}

static void
print_history(struct ctl_ctx *ctx, json_t *reply)
{
	static const struct ctl_col cols[] = {
		{ "TIME", "time" }, { "CIDR", "cidr" }, { "ACTION", "action" },
		{ "ACTOR", "actor" }, { "ROLE", "role" }, { "REQUEST", "request_id" },
		{ "DETAIL", "detail" },
		{ NULL, NULL },
	};

	ctl_out_table(ctx->out, reply, cols);
}

/* --since / --until go to the daemon as unix seconds, whichever form was typed. */
static int
run_history(struct ctl_ctx *ctx, const struct ctl_inv *inv)
{
	struct ctl_path p;
	char since[24], until[24];
	long long t;

	snprintf(since, sizeof(since), "%lld", ctl_inv_num(inv, "since", &t) ? t : 0);
	snprintf(until, sizeof(until), "%lld", ctl_inv_num(inv, "until", &t) ? t : 0);
	ctl_path_init(&p, "/v1/history");
	if (ctl_path_query(&p, "cidr", inv->pos[0]) < 0 ||
	    ctl_path_query(&p, "since", ctl_inv_flag(inv, "since") ? since : NULL) < 0 ||
	    ctl_path_query(&p, "until", ctl_inv_flag(inv, "until") ? until : NULL) < 0)
		return too_long(ctx);
	return ctl_request(ctx, "GET", p.s, NULL, print_history);
}

/* --- the table --- */

static const struct ctl_opt arg_new_name[] = {
	{ "NAME", CTL_STRING, 0, NULL, 0, 0, NULL, "the new name" }, { 0 },
};
static const struct ctl_opt arg_scope[] = {
	{ "NAME", CTL_STRING, 0, NULL, 0, 0, NULL, "the scope's name" }, { 0 },
};
static const struct ctl_opt arg_pool_name[] = {
	{ "NAME", CTL_STRING, 0, NULL, 0, 0, NULL, "the pool's name" }, { 0 },
};
static const struct ctl_opt arg_pool[] = {
	{ "POOL", CTL_STRING, 0, NULL, 0, 0, NULL, "the pool's name" }, { 0 },
};
static const struct ctl_opt arg_id[] = {
	{ "ID", CTL_STRING, 0, NULL, 0, 0, NULL, "the allocation's id" }, { 0 },
};
static const struct ctl_opt arg_cidr[] = {
	{ "CIDR", CTL_CIDR, 0, NULL, 0, 0, NULL, "the CIDR" }, { 0 },
};
static const struct ctl_opt arg_pool_cidr[] = {
	{ "NAME", CTL_STRING, 0, NULL, 0, 0, NULL, "the pool's name" },
	{ "CIDR", CTL_CIDR, 0, NULL, 0, 0, NULL, "the provisioned CIDR" }, { 0 },
};
static const struct ctl_opt arg_provision[] = {
	{ "NAME", CTL_STRING, 0, NULL, 0, 0, NULL, "the pool's name" },
	{ "CIDR", CTL_CIDR, CTL_ARG_OPTIONAL, NULL, 0, 0, NULL,
	  "the CIDR to add (or --netmask for a child pool)" }, { 0 },
};

static const struct ctl_opt opt_scope_filter[] = { OPT_SCOPE_FILTER, { 0 } };
static const struct ctl_opt opt_pool_filter[] = {
	{ "pool", CTL_STRING, 0, "P", 0, 0, NULL, "only this pool" }, { 0 },
};

static const struct ctl_opt opt_pool_create[] = {
	{ "scope", CTL_STRING, CTL_OPT_REQUIRED, "S", 0, 0, NULL, "the scope" },
	{ "parent", CTL_STRING, 0, "P", 0, 0, NULL, "the parent pool (a child draws from it)" },
	{ "family", CTL_CHOICE, 0, "F", 0, 0, "ipv4|ipv6", "address family (default ipv4)" },
	{ "locale", CTL_STRING, 0, "L", 0, 0, NULL, "serve only allocations of this locale" },
	{ "default-netmask", CTL_NUM, 0, "N", 0, 128, NULL, "size when a request names none" },
	{ "min-netmask", CTL_NUM, 0, "N", 0, 128, NULL, "shortest prefix allowed" },
	{ "max-netmask", CTL_NUM, 0, "N", 0, 128, NULL, "longest prefix allowed" },
	{ "require-tag", CTL_KV, CTL_OPT_REPEAT, "K=V", 0, 0, NULL,
	  "allocations must carry this tag" },
	OPT_TAG("a tag on the pool"),
	{ "alarm-at", CTL_NUM, 0, "PCT", 1, 100, NULL, "utilization alarm threshold (80)" },
	{ "origin-asn", CTL_NUM, 0, "ASN", 0, 4294967295LL, NULL, "origin AS (public pools)" },
	{ "description", CTL_STRING, 0, "D", 0, 0, NULL, "a free-text description" },
	{ 0 },
};
static const struct ctl_opt opt_provision[] = {
	OPT_NETMASK("let the parent pick a block of this length"),
	{ "auth-message", CTL_STRING, 0, "M", 0, 0, NULL, "authorization message (public)" },
	{ "auth-signature", CTL_STRING, 0, "S", 0, 0, NULL, "its signature (public)" },
	{ 0 },
};
static const struct ctl_opt opt_allocate[] = {
	OPT_NETMASK("prefix length (default: the pool's default_netmask)"),
	{ "cidr", CTL_CIDR, 0, "C", 0, 0, NULL, "this exact CIDR" },
	OPT_TAG("a tag on the allocation"),
	{ "locale", CTL_STRING, 0, "L", 0, 0, NULL, "the allocation's locale" },
	{ "description", CTL_STRING, 0, "D", 0, 0, NULL, "a free-text description" },
	{ "token", CTL_STRING, 0, "T", 0, 0, NULL, "idempotency token: a retry returns the first" },
	{ "preview", CTL_FLAG, 0, NULL, 0, 0, NULL, "show what would be allocated; change nothing" },
	{ 0 },
};
static const struct ctl_opt opt_import[] = {
	{ "scope", CTL_STRING, CTL_OPT_REQUIRED, "S", 0, 0, NULL, "the scope" },
	{ "cidr", CTL_CIDR, 0, "C", 0, 0, NULL, "one resource's CIDR" },
	{ "name", CTL_STRING, 0, "N", 0, 0, NULL, "its name" },
	OPT_TAG("its tags"),
	{ "file", CTL_STRING, 0, "F", 0, 0, NULL, "many resources, CSV or JSON" },
	{ 0 },
};
static const struct ctl_opt opt_history[] = {
	{ "since", CTL_TIME, 0, "T", 0, 0, NULL, "events at or after T" },
	{ "until", CTL_TIME, 0, "T", 0, 0, NULL, "events at or before T" },
	{ 0 },
};

const struct ctl_cmd ctl_ipam_cmds[] = {
	{ "status", "", "Show the daemon's status.", NULL, NULL, NULL, run_status },
	{ "scope list", "", "List scopes.", NULL, NULL, NULL, run_scope_list },
	{ "scope show", "NAME", "Show a scope.", arg_scope, NULL, NULL, run_scope_show },
	{ "scope create", "NAME", "Create a private scope.",
	  arg_new_name, NULL, NULL, run_scope_create },
	{ "scope delete", "NAME", "Delete an empty private scope.",
	  arg_scope, NULL, NULL, run_scope_delete },
	{ "pool create", "NAME --scope S [--parent P] [--family ipv4|ipv6] [--locale L] "
	  "[--default-netmask N] [--min-netmask N] [--max-netmask N] [--require-tag K=V]... "
	  "[--tag K=V]... [--alarm-at PCT] [--origin-asn ASN] [--description D]",
	  "Create a pool (top-level, or a child of --parent).",
	  arg_new_name, opt_pool_create, NULL, run_pool_create },
	{ "pool list", "[--scope S]", "List pools with their utilization.",
	  NULL, opt_scope_filter, NULL, run_pool_list },
	{ "pool show", "NAME", "Show a pool, its CIDRs and utilization.",
	  arg_pool_name, NULL, NULL, run_pool_show },
	{ "pool delete", "NAME", "Delete a pool that has no CIDRs and no child pools.",
	  arg_pool_name, NULL, NULL, run_pool_delete },
	{ "pool provision", "NAME (CIDR | --netmask N) [--auth-message M --auth-signature S]",
	  "Add a CIDR to a pool (a child pool may ask its parent for a size).",
	  arg_provision, opt_provision, check_pool_provision, run_pool_provision },
	{ "pool deprovision", "NAME CIDR", "Remove a CIDR that holds no allocations.",
	  arg_pool_cidr, NULL, NULL, run_pool_deprovision },
	{ "allocate", "POOL [--netmask N | --cidr C] [--tag K=V]... [--locale L] "
	  "[--description D] [--token T] [--preview]",
	  "Allocate a CIDR from a pool (best fit, lowest address).",
	  arg_pool, opt_allocate, check_allocate, run_allocate },
	{ "release", "ID", "Release an allocation.", arg_id, NULL, NULL, run_release },
	{ "allocation list", "[--pool P]", "List allocations.",
	  NULL, opt_pool_filter, NULL, run_allocation_list },
	{ "allocation show", "ID", "Show an allocation.", arg_id, NULL, NULL, run_allocation_show },
	{ "resource list", "[--scope S]", "List imported resources.",
	  NULL, opt_scope_filter, NULL, run_resource_list },
	{ "import", "--scope S (--cidr C --name N [--tag K=V]... | --file F)",
	  "Import existing CIDRs as resources (CSV: cidr,name,tags with tags K=V;K=V; "
	  "JSON: [{\"cidr\",\"name\",\"tags\":{}}]).",
	  NULL, opt_import, check_import, run_import },
	{ "report overlaps", "[--scope S]", "Overlap status of every allocation and resource.",
	  NULL, opt_scope_filter, NULL, run_report_overlaps },
	{ "report compliance", "[--scope S]", "Compliance of every allocation and resource.",
	  NULL, opt_scope_filter, NULL, run_report_compliance },
	{ "history", "CIDR [--since T] [--until T]",
	  "Events for a CIDR and every CIDR overlapping it (T: YYYY-MM-DD, "
	  "YYYY-MM-DDTHH:MM:SSZ or unix seconds).",
	  arg_cidr, opt_history, NULL, run_history },
	{ 0 },
};
