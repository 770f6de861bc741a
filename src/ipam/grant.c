/*
 * grant — the table of pool grants (contract in grant.h). A flat array: grants are few (an
 * admin writes each one) and GRANT_MAX bounds them; every look-up is a linear scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "grant.h"
#include "log.h"
#include "store.h"

struct grants {
	struct store *store;
	struct grant *v;
	size_t n, cap;
};

static const char *const grant_role_names[] = { "reader", "operator" };

const char *
grant_role_name(enum grant_role r)
{
	return r == GRANT_OPERATOR ? "operator" : "reader";
}

int
grant_role_parse(const char *s, enum grant_role *out)
{
	for (int i = 0; s != NULL && i < 2; i++)
		if (strcmp(s, grant_role_names[i]) == 0) {
			*out = (enum grant_role)i;
			return 0;
		}
	return -1;
}

int
grant_principal_check(const char *p, struct err *e)
{
	const char *name = NULL;

	if (p != NULL && strncmp(p, "token:", 6) == 0)
		name = p + 6;
	else if (p != NULL && strncmp(p, "group:", 6) == 0)
		name = p + 6;
	else if (p != NULL && strncmp(p, "uid:", 4) == 0) {
		name = p + 4;
		if (strspn(name, "0123456789") != strlen(name) || strlen(name) > 10)
			name = "";
	}
	if (name == NULL || name[0] == '\0' || strlen(p) >= GRANT_PRINCIPAL_MAX)
		return err_set(e, "invalid-argument", "principal '%.64s' is not token:NAME, "
		    "group:NAME or uid:N", p ? p : "");
	for (const char *s = name; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '|')
			return err_set(e, "invalid-argument", "principal '%.64s': name with "
			    "spaces, '|' or non-ASCII bytes", p);
	return 0;
}

struct grants *
grants_new(struct store *st)
{
	struct grants *g = calloc(1, sizeof(*g));

	if (g == NULL)
		fatal("calloc");
	g->store = st;
	return g;
}

void
grants_free(struct grants *g)
{
	if (g == NULL)
		return;
	free(g->v);
	free(g);
}

size_t
grants_count(const struct grants *g)
{
	return g ? g->n : 0;
}

const struct grant *
grants_at(const struct grants *g, size_t i)
{
	return g && i < g->n ? &g->v[i] : NULL;
}

static struct grant *
grants_find(struct grants *g, const char *pool, const char *principal)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].pool, pool) == 0 && strcmp(g->v[i].principal, principal) == 0)
			return &g->v[i];
	return NULL;
}

static struct grant *
grants_add(struct grants *g)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		if ((g->v = reallocarray(g->v, g->cap, sizeof(*g->v))) == NULL)
			fatal("reallocarray");
	}
	memset(&g->v[g->n], 0, sizeof(g->v[0]));
	return &g->v[g->n++];
}

static json_t *
grant_json(const struct grant *gr)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s}", "pool", gr->pool, "principal",
	    gr->principal, "role", grant_role_name(gr->role), "created", (json_int_t)gr->created,
	    "by", gr->by);
}

/* Writes (or removes, gone) gr's document and one event in one store level. */
static int
grants_write(struct grants *g, const struct ipam_actor *who, const struct grant *gr,
    const char *action, bool gone, struct err *e)
{
	struct store_event ev = { 0 };
	char key[IPAM_NAME_MAX + GRANT_PRINCIPAL_MAX + 2], *doc;
	json_t *j = grant_json(gr);
	int rc;

	if (g->store == NULL) {
		json_decref(j);
		return 0;
	}
	snprintf(key, sizeof(key), "%s|%s", gr->pool, gr->principal);
	if ((doc = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("out of memory");
	json_decref(j);
	ev.time = (int64_t)time(NULL);
	ev.actor = who->actor;
	ev.role = who->role;
	ev.request_id = who->request_id;
	ev.action = action;
	ev.object_kind = "pool";
	ev.before = gone ? doc : NULL;
	ev.after = gone ? NULL : doc;
	if ((rc = store_begin(g->store, e)) == 0) {
		rc = gone ? store_doc_remove(g->store, "grant", key, e) :
		    store_doc_put(g->store, "grant", key, doc, e);
		if (rc == 0)
			rc = store_event_append(g->store, &ev, e);
		if (rc == 0)
			rc = store_commit(g->store, e);
		else if (store_in_txn(g->store))
			store_rollback(g->store, NULL);
	}
	free(doc);
	return rc;
}

int
grants_put(struct grants *g, const struct ipam_actor *who, const char *pool,
    const char *principal, enum grant_role role, struct err *e)
{
	struct grant *gr = grants_find(g, pool, principal), saved;
	bool added = gr == NULL;

	if (grant_principal_check(principal, e) < 0)
		return -1;
	if (added && g->n >= GRANT_MAX)
		return err_set(e, "too-many", "at most %d grants", GRANT_MAX);
	if (added) {
		gr = grants_add(g);
		snprintf(gr->pool, sizeof(gr->pool), "%s", pool);
		snprintf(gr->principal, sizeof(gr->principal), "%s", principal);
	}
	saved = *gr;
	gr->role = role;
	gr->created = (int64_t)time(NULL);
	snprintf(gr->by, sizeof(gr->by), "%s", who->actor ? who->actor : "?");
	if (grants_write(g, who, gr, "share", false, e) < 0) {
		if (added)
			g->n--;
		else
			*gr = saved;
		return -1;
	}
	log_info("pool %s shared with %s (%s) by %s", pool, principal, grant_role_name(role),
	    gr->by);
	return 0;
}

int
grants_remove(struct grants *g, const struct ipam_actor *who, const char *pool,
    const char *principal, struct err *e)
{
	struct grant *gr = grants_find(g, pool, principal);

	if (gr == NULL)
		return err_set(e, "not-found", "pool %.64s is not shared with %.64s", pool,
		    principal);
	if (grants_write(g, who, gr, "unshare", true, e) < 0)
		return -1;
	log_info("pool %s no longer shared with %s", pool, principal);
	*gr = g->v[--g->n];
	return 0;
}

static int
grants_row_load(void *arg, const char *key, const char *doc, struct err *e)
{
	struct grants *g = arg;
	json_t *j = json_loads(doc, 0, NULL);
	const char *pool = json_string_value(json_object_get(j, "pool"));
	const char *pr = json_string_value(json_object_get(j, "principal"));
	const char *by = json_string_value(json_object_get(j, "by"));
	struct grant *gr;
	enum grant_role role;

	if (pool == NULL || pr == NULL || strlen(pool) > IPAM_NAME_MAX ||
	    grant_principal_check(pr, NULL) < 0 ||
	    grant_role_parse(json_string_value(json_object_get(j, "role")), &role) < 0 ||
	    g->n >= GRANT_MAX) {
		json_decref(j);
		return err_set(e, "store-failed", "grant row %.100s is unreadable", key);
	}
	gr = grants_add(g);
	snprintf(gr->pool, sizeof(gr->pool), "%s", pool);
	snprintf(gr->principal, sizeof(gr->principal), "%s", pr);
	snprintf(gr->by, sizeof(gr->by), "%s", by ? by : "?");
	gr->role = role;
	gr->created = json_integer_value(json_object_get(j, "created"));
	json_decref(j);
	return 0;
}

int
grants_load(struct grants *g, struct err *e)
{
	g->n = 0;
	if (g->store != NULL && store_doc_load(g->store, "grant", grants_row_load, g, e) < 0)
		return -1;
	return 0;
}

bool
grants_any(const struct grants *g, grant_match_fn match, void *arg)
{
	for (size_t i = 0; g != NULL && i < g->n; i++)
		if (match(arg, g->v[i].principal))
			return true;
	return false;
}

const struct grant *
grants_cover(const struct grants *g, const struct ipam_pool *pool, grant_match_fn match,
    void *arg)
{
	const struct grant *best = NULL;

	for (const struct ipam_pool *p = pool; g != NULL && p != NULL; p = p->parent)
		for (size_t i = 0; i < g->n; i++)
			if (strcmp(g->v[i].pool, p->name) == 0 && match(arg, g->v[i].principal) &&
			    (best == NULL || g->v[i].role > best->role))
				best = &g->v[i];
	return best;
}
