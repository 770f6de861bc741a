/*
 * ipam — life cycle of the model, loading from the store, scopes, transaction and event
 * helpers. The model and its rules are described in ipam.h; the split between the ipam
 * files in ipam_private.h.
 */
#include "ipam_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

void *
ipam_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		fatal("ipam: out of memory");
	return p;
}

/* ---- store helpers ---- */

/*
 * A mutation opens one level (a transaction, or a savepoint inside the daemon's); store_commit
 * always closes the level, even when it fails, so abort only rolls back a level that is still
 * open above the depth the mutation started at.
 */
int
ipam_tx_begin(struct ipam *m, struct err *e)
{
	if (m->st == NULL)
		return 0;
	m->txdepth = m->st->depth;
	return store_begin(m->st, e);
}

int
ipam_tx_commit(struct ipam *m, struct err *e)
{
	return m->st != NULL ? store_commit(m->st, e) : 0;
}

void
ipam_tx_abort(struct ipam *m)
{
	if (m->st != NULL && m->st->depth > m->txdepth)
		store_rollback(m->st, NULL);
}

char *
ipam_json_str(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	if (s == NULL) {
		snprintf(buf, size, "null");
		return buf;
	}
	if (size < 8) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; *s != '\0' && o + 8 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

int64_t
ipam_now(const struct ipam *m)
{
	return m->now != NULL ? m->now() : (int64_t)time(NULL);
}

int
ipam_event(struct ipam *m, const struct ipam_actor *who, const char *action,
    const char *kind, const struct cidr *c, const char *before, const char *after,
    struct err *e)
{
	struct store_event ev;

	if (m->st == NULL)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.time = ipam_now(m);
	ev.actor = who ? who->actor : NULL;
	ev.role = who ? who->role : NULL;
	ev.request_id = who ? who->request_id : NULL;
	ev.action = action;
	ev.object_kind = kind;
	if (c != NULL) {
		ev.has_cidr = true;
		ev.cidr = *c;
	}
	ev.before = before;
	ev.after = after;
	return store_event_append(m->st, &ev, e);
}

/*
 * Allocation ids are never issued twice, even when the highest one was released before a
 * restart: the store holds a reservation ("allocation" counter) above every id issued, written
 * in the same transaction as the allocation that first needs it, one write per
 * IPAM_ID_RESERVE allocations. After a restart ids continue from the reservation.
 */
int
ipam_id_reserve(struct ipam *m, struct err *e)
{
	if (m->st == NULL || m->id_blocks > 0 || m->next_id[IPAM_ID_ALLOC] < m->alloc_reserved)
		return 0;
	return store_counter_put(m->st, "allocation",
	    (int64_t)(m->next_id[IPAM_ID_ALLOC] + IPAM_ID_RESERVE), e);
}

void
ipam_id_reserved(struct ipam *m)
{
	if (m->st != NULL && m->next_id[IPAM_ID_ALLOC] >= m->alloc_reserved)
		m->alloc_reserved = m->next_id[IPAM_ID_ALLOC] + IPAM_ID_RESERVE;
}

/*
 * With several instances on one store, an id from memory (max + 1) would be issued by every
 * instance: ids then come from blocks the database hands out (store_id_block), one block per
 * kind at a time; an unused rest of a block is simply never issued.
 */
int
ipam_id_next(struct ipam *m, int k, uint64_t *id, struct err *e)
{
	static const enum store_table table[IPAM_NIDS] = { STORE_SCOPE, STORE_POOL,
		STORE_PROVISION, STORE_ALLOC, STORE_RESOURCE };
	uint64_t first, n;
	int rc;

	if (m->st != NULL && m->id_blocks >= 0 && m->blk_next[k] >= m->blk_end[k]) {
		if ((rc = store_id_block(m->st, table[k], &first, &n, e)) < 0)
			return -1;
		m->id_blocks = rc == 0 ? 1 : -1;
		if (rc == 0) {
			m->blk_next[k] = first;
			m->blk_end[k] = first + n;
		}
	}
	*id = m->st != NULL && m->id_blocks > 0 ? m->blk_next[k] : m->next_id[k];
	return 0;
}

void
ipam_id_seen(struct ipam *m, int k, uint64_t id)
{
	if (id >= m->next_id[k])
		m->next_id[k] = id + 1;
	if (m->id_blocks > 0 && id == m->blk_next[k])
		m->blk_next[k]++;
}

/* ---- scopes ---- */

static bool
ipam_scope_name_eq(const struct ipam_scope *s, const char *name)
{
	return strcmp(s->name, name) == 0;
}

struct ipam_scope *
ipam_scope_find(const struct ipam *m, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < m->scopes.n; i++)
		if (ipam_scope_name_eq(m->scopes.v[i], name))
			return m->scopes.v[i];
	return NULL;
}

struct ipam_scope *
ipam_scope_find_id(const struct ipam *m, uint64_t id)
{
	size_t i;

	for (i = 0; i < m->scopes.n; i++)
		if (((struct ipam_scope *)m->scopes.v[i])->id == id)
			return m->scopes.v[i];
	return NULL;
}

static struct ipam_scope *
ipam_scope_attach(struct ipam *m, uint64_t id, const char *name, int kind)
{
	struct ipam_scope *s = ipam_xcalloc(1, sizeof(*s));

	s->id = id;
	s->name = xstrdup(name);
	s->kind = kind == IPAM_SCOPE_PUBLIC ? IPAM_SCOPE_PUBLIC : IPAM_SCOPE_PRIVATE;
	s->top = ptree_new(CIDR_V4, 0);
	s->top6 = ptree_new(CIDR_V6, 0);
	ipam_vec_push(&m->scopes, s);
	ipam_id_seen(m, IPAM_ID_SCOPE, id);
	return s;
}

static void
ipam_scope_destroy(struct ipam_scope *s)
{
	if (s == NULL)
		return;
	ptree_free(s->top);
	ptree_free(s->top6);
	free(s->name);
	free(s);
}

/* Creates a scope in the store and in memory (name already checked). */
static int
ipam_scope_add(struct ipam *m, const struct ipam_actor *who, const char *name, int kind,
    struct ipam_scope **out, struct err *e)
{
	struct store_scope row = { 0, name, kind };
	char after[256], js[160];
	struct ipam_scope *s;

	if (ipam_id_next(m, IPAM_ID_SCOPE, &row.id, e) != 0)
		return -1;

	snprintf(after, sizeof(after), "{\"name\":%s,\"kind\":\"%s\"}",
	    ipam_json_str(name, js, sizeof(js)), kind == IPAM_SCOPE_PUBLIC ? "public" : "private");
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((m->st != NULL && store_scope_put(m->st, &row, e) != 0) ||
	    ipam_event(m, who, "scope-create", "scope", NULL, NULL, after, e) != 0 ||
	    ipam_tx_commit(m, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	s = ipam_scope_attach(m, row.id, name, kind);
	if (out != NULL)
		*out = s;
	return 0;
}

int
ipam_scope_create(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct ipam_scope **out, struct err *e)
{
	if (ipam_check_name("scope name", name, e) != 0)
		return -1;
	if (ipam_scope_find(m, name) != NULL)
		return err_set(e, "exists", "scope '%s' exists", name);
	return ipam_scope_add(m, who, name, IPAM_SCOPE_PRIVATE, out, e);
}

int
ipam_scope_delete(struct ipam *m, const struct ipam_actor *who, const char *name,
    struct err *e)
{
	struct ipam_scope *s = ipam_scope_find(m, name);
	char before[256], js[160];

	if (s == NULL)
		return err_set(e, "not-found", "scope '%s' not found", name ? name : "");
	if (s->kind == IPAM_SCOPE_PUBLIC)
		return err_set(e, "invalid-argument", "scope '%s' is the public scope", name);
	if (s->npools > 0 || s->nresources > 0)
		return err_set(e, "in-use", "scope '%s' holds %zu pools and %zu resources", name,
		    s->npools, s->nresources);
	snprintf(before, sizeof(before), "{\"name\":%s,\"kind\":\"private\"}",
	    ipam_json_str(name, js, sizeof(js)));
	if (ipam_tx_begin(m, e) != 0)
		return -1;
	if ((m->st != NULL && store_remove(m->st, STORE_SCOPE, s->id, e) != 0) ||
	    ipam_event(m, who, "scope-delete", "scope", NULL, before, NULL, e) != 0 ||
	    ipam_tx_commit(m, e) != 0) {
		ipam_tx_abort(m);
		return -1;
	}
	ipam_vec_remove(&m->scopes, s);
	ipam_scope_destroy(s);
	return 0;
}

int
ipam_scope_foreach(const struct ipam *m, ipam_scope_cb cb, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < m->scopes.n; i++)
		if ((rc = cb(arg, m->scopes.v[i])) != 0)
			return rc;
	return 0;
}

/* ---- life cycle ---- */

static uint64_t
ipam_pool_hash(const void *obj)
{
	return ipam_hash_str(((const struct ipam_pool *)obj)->name, 0);
}

static uint64_t
ipam_alloc_hash(const void *obj)
{
	return ipam_hash_u64(((const struct ipam_alloc *)obj)->id);
}

static uint64_t
ipam_alloc_token_hash(const void *obj)
{
	const struct ipam_alloc *a = obj;

	return ipam_token_hash(a->pool->id, a->x->token);
}

struct ipam *
ipam_new(struct store *st)
{
	struct ipam *m = ipam_xcalloc(1, sizeof(*m));
	int i;

	m->st = st;
	for (i = 0; i < IPAM_NIDS; i++)
		m->next_id[i] = 1;
	ipam_hash_init(&m->pool_by_name, ipam_pool_hash);
	ipam_hash_init(&m->alloc_by_id, ipam_alloc_hash);
	ipam_hash_init(&m->alloc_by_token, ipam_alloc_token_hash);
	return m;
}

/* Drops the whole in-memory model (not the store). */
static void
ipam_reset(struct ipam *m)
{
	size_t i;

	for (i = 0; i < m->resources.n; i++)
		ipam_resource_destroy(m->resources.v[i]);
	for (i = m->pools.n; i > 0; i--)
		ipam_pool_destroy(m->pools.v[i - 1]);
	for (i = 0; i < m->scopes.n; i++)
		ipam_scope_destroy(m->scopes.v[i]);
	m->resources.n = m->pools.n = m->scopes.n = 0;
	ipam_hash_clear(&m->pool_by_name);
	ipam_hash_clear(&m->alloc_by_id);
	ipam_hash_clear(&m->alloc_by_token);
	m->nallocs = 0;
	for (i = 0; i < IPAM_NIDS; i++)
		m->next_id[i] = 1;
}

void
ipam_free(struct ipam *m)
{
	if (m == NULL)
		return;
	ipam_reset(m);
	free(m->resources.v);
	free(m->pools.v);
	free(m->scopes.v);
	free(m);
}

struct store *
ipam_store(const struct ipam *m)
{
	return m->st;
}

void
ipam_set_clock(struct ipam *m, int64_t (*now)(void))
{
	m->now = now;
}

size_t
ipam_alloc_count(const struct ipam *m)
{
	return m->nallocs;
}

/* ---- load ---- */

static int
ipam_load_scope(void *arg, const struct store_scope *r, struct err *e)
{
	struct ipam *m = arg;

	if (ipam_scope_find(m, r->name) != NULL)
		return err_set(e, "invalid-argument", "store: scope '%s' twice", r->name);
	ipam_scope_attach(m, r->id, r->name, r->kind);
	return 0;
}

static int
ipam_load_pool(void *arg, const struct store_pool *r, struct err *e)
{
	struct ipam *m = arg;
	struct ipam_scope *s = ipam_scope_find_id(m, r->scope_id);
	struct ipam_pool *parent = NULL;

	if (s == NULL)
		return err_set(e, "invalid-argument", "store: pool '%s' has no scope", r->name);
	if (r->parent_id != 0 && (parent = ipam_pool_find_id(m, r->parent_id)) == NULL)
		return err_set(e, "invalid-argument", "store: pool '%s' has no parent", r->name);
	return ipam_pool_attach(m, r, s, parent, e) != NULL ? 0 : -1;
}

static int
ipam_load_prov(void *arg, const struct store_provision *r, struct err *e)
{
	struct ipam *m = arg;
	struct ipam_pool *p = ipam_pool_find_id(m, r->pool_id);
	char b[CIDR_STRLEN];

	if (p == NULL || r->cidr.family != p->family ||
	    ipam_prov_attach(m, p, r->id, &r->cidr, r->created) == NULL)
		return err_set(e, "invalid-argument", "store: provisioned CIDR %s is inconsistent",
		    cidr_format(&r->cidr, b, sizeof(b)));
	return 0;
}

static int
ipam_load_alloc(void *arg, const struct store_alloc *r, struct err *e)
{
	struct ipam *m = arg;
	struct ipam_pool *p = ipam_pool_find_id(m, r->pool_id), *child = NULL;
	struct ipam_tags tags;
	struct ipam_alloc *a;
	struct ipam_prov *prov;
	char b[CIDR_STRLEN];

	if (p == NULL || r->cidr.family != p->family || ipam_space_take(p, &r->cidr) != 0)
		return err_set(e, "invalid-argument", "store: allocation %s is inconsistent "
		    "(overlapping, or outside its pool)", cidr_format(&r->cidr, b, sizeof(b)));
	if (r->kind == IPAM_ALLOC_POOL &&
	    ((child = ipam_pool_find_id(m, r->child_pool_id)) == NULL ||
	    !ptree_find(child->prov, &r->cidr, (void **)&prov)))
		return err_set(e, "invalid-argument", "store: pool allocation %s has no child",
		    cidr_format(&r->cidr, b, sizeof(b)));
	if (ipam_tags_decode(r->tags, &tags) != 0)
		return err_set(e, "invalid-argument", "store: allocation %s has bad tags",
		    cidr_format(&r->cidr, b, sizeof(b)));
	a = ipam_alloc_attach(m, p, r->id, &r->cidr, r->kind, r->description, r->locale,
	    r->token, &tags, r->created);
	ipam_tags_clear(&tags);
	if (child != NULL) {
		a->x->child = child;
		prov->from = a;
	}
	return 0;
}

static int
ipam_load_resource(void *arg, const struct store_resource *r, struct err *e)
{
	struct ipam *m = arg;
	struct ipam_scope *s = ipam_scope_find_id(m, r->scope_id);

	if (s == NULL)
		return err_set(e, "invalid-argument", "store: resource %s has no scope",
		    r->name ? r->name : "");
	return ipam_resource_attach(m, r, s, e) != NULL ? 0 : -1;
}

static int
ipam_load_feed(void *arg, uint64_t seq, struct err *e)
{
	struct ipam *m = arg;

	(void)e;
	m->feed_seq = seq;
	m->feed_epoch = store_feed_epoch(m->st);
	return 0;
}

/* Loads the store into the empty model m. */
static int
ipam_load_into(struct ipam *m, struct err *e)
{
	static const struct store_load_cb cb = {
		ipam_load_scope, ipam_load_pool, ipam_load_prov, ipam_load_alloc,
		ipam_load_resource, ipam_load_feed,
	};
	int64_t reserved = 0;

	m->alloc_reserved = 0;
	if (m->st != NULL && (store_load(m->st, &cb, m, e) != 0 ||
	    store_counter_get(m->st, "allocation", &reserved, e) != 0))
		return -1;
	if (reserved > 0 && (uint64_t)reserved > m->next_id[IPAM_ID_ALLOC])
		m->next_id[IPAM_ID_ALLOC] = (uint64_t)reserved;
	m->alloc_reserved = m->next_id[IPAM_ID_ALLOC];
	if (ipam_scope_find(m, IPAM_SCOPE_PRIVATE_DEFAULT) == NULL &&
	    ipam_scope_add(m, NULL, IPAM_SCOPE_PRIVATE_DEFAULT, IPAM_SCOPE_PRIVATE, NULL, e) != 0)
		return -1;
	if (ipam_scope_find(m, IPAM_SCOPE_PUBLIC_DEFAULT) == NULL &&
	    ipam_scope_add(m, NULL, IPAM_SCOPE_PUBLIC_DEFAULT, IPAM_SCOPE_PUBLIC, NULL, e) != 0)
		return -1;
	return 0;
}

/*
 * The store is loaded into a fresh model, which replaces m's only when the whole load
 * succeeded: a reload that fails (the database is down) keeps serving the model it had and
 * marks it for a reload (need_reload) at the next chance (ipam_follow). Two instances
 * starting together on an empty store may both create a default scope; the one that loses
 * ("exists") loads again.
 */
int
ipam_load(struct ipam *m, struct err *e)
{
	struct ipam *n, tmp;
	int rc = -1;

	if (m->st == NULL) {
		ipam_reset(m);
		return ipam_load_into(m, e);
	}
	for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
		n = ipam_new(m->st);
		n->now = m->now;
		n->id_blocks = m->id_blocks < 0 ? -1 : 0;     /* fresh blocks: see ipam_id_next */
		if ((rc = ipam_load_into(n, e)) == 0) {
			tmp = *m;
			*m = *n;
			*n = tmp;
		}
		ipam_free(n);
		if (rc != 0 && (e->code == NULL || strcmp(e->code, "exists") != 0))
			break;
	}
	m->need_reload = rc != 0;
	return rc;
}

/* ---- several instances: the change feed (store.h "Several instances") ---- */

struct ipam_follow {
	struct ipam *m;
	bool stuck;                 /* a change memory cannot apply: reload */
};

/* Applies another instance's change to memory. Allocations are applied one by one (the
 * frequent case); any other table, or an allocation memory cannot place, stops the feed
 * and asks for a reload. Documents belong to other modules. */
static int
ipam_follow_change(void *arg, const struct store_change *c, struct err *e)
{
	struct ipam_follow *f = arg;
	struct ipam *m = f->m;
	struct ipam_alloc *a;

	if (c->table == STORE_DOC)
		return 0;
	if (c->table != STORE_ALLOC)
		goto stuck;
	a = ipam_alloc_find(m, c->id);
	if (!c->put) {
		if (a == NULL)
			return 0;
		if (a->x->child != NULL)
			goto stuck;
		ipam_alloc_detach(m, a);
		ipam_space_give(a->pool, &a->cidr);
		ipam_alloc_destroy(a);
		return 0;
	}
	if (c->alloc == NULL || a != NULL)
		return 0;               /* removed since (a later entry says so), or known */
	if (c->alloc->kind == IPAM_ALLOC_POOL || ipam_load_alloc(m, c->alloc, e) != 0)
		goto stuck;
	return 0;
stuck:
	f->stuck = true;
	return -1;
}

int
ipam_follow(struct ipam *m, bool may_reload, struct err *e)
{
	struct ipam_follow f = { m, false };
	uint64_t seq, last;
	int rc;

	if (m->st == NULL)
		return 0;
	/* first the writer lock (inside a transaction): a reload then reads a store that
	 * nobody else changes until this transaction ends */
	if (store_feed_sync_from(m->st, m->need_reload ? UINT64_MAX : m->feed_seq, &seq, e) != 0)
		return -1;
	if (m->feed_epoch != store_feed_epoch(m->st))
		m->need_reload = true;  /* reconnected: the position may be void (store.h) */
	if (m->need_reload)
		return may_reload ? ipam_load(m, e) : 0;
	if (!store_has_feed(m->st) || seq == m->feed_seq)
		return 0;
	rc = store_changes_after(m->st, m->feed_seq, ipam_follow_change, &f, &last, e);
	if (rc == 0) {
		m->feed_seq = last;
		return 0;
	}
	if (!f.stuck && (e->code == NULL || strcmp(e->code, "feed-gap") != 0))
		return -1;
	m->need_reload = true;      /* memory may be half-way: never serve it as exact */
	return may_reload ? ipam_load(m, e) : 0;
}

uint64_t
ipam_feed_seq(const struct ipam *m)
{
	return m->feed_seq;
}

bool
ipam_stale(const struct ipam *m)
{
	return m->need_reload;
}
