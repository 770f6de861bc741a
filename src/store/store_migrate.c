/*
 * store_migrate — `prefixd --migrate-store FROM TO` (store_migrate.h): opens both stores,
 * counts and verifies the source, refuses a target that holds anything, copies through the
 * store interface in one target transaction, checks the copy (counts, chain head, audit
 * verify) and commits. The census (struct mig_census) is the one place that knows what a
 * store holds: it decides "empty", checks the copy and is what is printed.
 */
#include "store_migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "store.h"
#include "store_pg.h"
#include "store_sites.h"

/* What a store holds, by kind (the order of mig_kind_name). */
enum mig_kind {
	MIG_SCOPE, MIG_POOL, MIG_PROVISION, MIG_ALLOC, MIG_RESOURCE, MIG_DOC, MIG_COUNTER,
	MIG_SITE_ROW, MIG_LEASE, MIG_EVENT, MIG_NKINDS
};

static const char *const mig_kind_name[MIG_NKINDS] = {
	"scopes", "pools", "provisions", "allocations", "resources", "documents", "counters",
	"site rows", "site leases", "events",
};

#define MIG_MAX_LEASES 1024     /* sites one store knows; more is refused, never cut */
#define MIG_EVENT_PAGE 1024

struct mig_census {
	uint64_t n[MIG_NKINDS];
	char head[AUDIT_HASH_HEXLEN + 1];   /* the chain head (n[MIG_EVENT] is its id) */
	int64_t breaker;                    /* open since, 0: closed */
};

/* One end of the migration. */
struct mig_end {
	const char *role;               /* "source" / "target", in messages */
	const char *spec;
	struct store *st;
	char *path;                     /* SQLite: the file; NULL for PostgreSQL */
	bool created;                   /* SQLite target that did not exist before */
};

/* Puts what before e's message, keeping its code. */
static void
mig_prefix(struct err *e, const char *what)
{
	char msg[ERR_MSG_MAX];
	size_t n = strlen(what);

	if (n >= sizeof(msg))
		return;
	memcpy(msg, what, n);
	memcpy(msg + n, e->msg, sizeof(msg) - n - 1);
	msg[sizeof(msg) - 1] = '\0';
	memcpy(e->msg, msg, sizeof(msg));
}

/* ---- counting ---- */

static int
mig_count_scope(void *arg, const struct store_scope *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_SCOPE]++;
	return 0;
}

static int
mig_count_pool(void *arg, const struct store_pool *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_POOL]++;
	return 0;
}

static int
mig_count_prov(void *arg, const struct store_provision *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_PROVISION]++;
	return 0;
}

static int
mig_count_alloc(void *arg, const struct store_alloc *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_ALLOC]++;
	return 0;
}

static int
mig_count_resource(void *arg, const struct store_resource *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_RESOURCE]++;
	return 0;
}

static int
mig_count_doc(void *arg, const char *kind, const char *key, const char *doc, struct err *e)
{
	(void)kind, (void)key, (void)doc, (void)e;
	((struct mig_census *)arg)->n[MIG_DOC]++;
	return 0;
}

static int
mig_count_counter(void *arg, const char *name, int64_t value, struct err *e)
{
	(void)name, (void)value, (void)e;
	((struct mig_census *)arg)->n[MIG_COUNTER]++;
	return 0;
}

static int
mig_count_site(void *arg, const struct store_site_row *r, struct err *e)
{
	(void)r, (void)e;
	((struct mig_census *)arg)->n[MIG_SITE_ROW]++;
	return 0;
}

/* Counts everything st holds (inside the caller's transaction). leases: room for the lease
 * rows (MIG_MAX_LEASES). */
static int
mig_census(struct store *st, struct mig_census *c, struct store_lease *leases, struct err *e)
{
	static const struct store_load_cb count = {
		mig_count_scope, mig_count_pool, mig_count_prov, mig_count_alloc, mig_count_resource,
		NULL,
	};
	const struct store_site_ops *so = st->ops->sites;
	size_t nl = 0;

	memset(c, 0, sizeof(*c));
	if (store_load(st, &count, c, e) != 0 || store_doc_each(st, mig_count_doc, c, e) != 0 ||
	    store_counter_each(st, mig_count_counter, c, e) != 0 ||
	    store_site_load(st, NULL, NULL, mig_count_site, c, e) != 0 ||
	    store_lease_list(st, leases, MIG_MAX_LEASES, &nl, e) != 0 ||
	    so->breaker_read(st, &c->breaker, e) != 0 ||
	    store_event_head(st, &c->n[MIG_EVENT], c->head, e) != 0)
		return -1;
	if (nl == MIG_MAX_LEASES)
		return err_set(e, "store-failed", "more than %d site leases: not migrated",
		    MIG_MAX_LEASES - 1);
	c->n[MIG_LEASE] = nl;
	return 0;
}

/* "2 scopes, 1 pool, ..." of the kinds c holds (all kinds when all is true). */
static void
mig_census_text(const struct mig_census *c, bool all, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < MIG_NKINDS && n < len; k++)
		if (all || c->n[k] > 0)
			n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64 " %s", n ? ", " : "",
			    c->n[k], mig_kind_name[k]);
	if (n == 0 && c->breaker != 0)
		snprintf(buf, len, "an open circuit breaker");
}

static bool
mig_census_empty(const struct mig_census *c)
{
	for (int k = 0; k < MIG_NKINDS; k++)
		if (c->n[k] > 0)
			return false;
	return c->breaker == 0;
}

/* ---- copying ---- */

struct mig_copy {
	struct store *to;
	struct err *e;                  /* for the event callback, which has none */
	uint64_t last;                  /* the last event copied */
	unsigned rows;
};

static int
mig_put_scope(void *arg, const struct store_scope *r, struct err *e)
{
	return store_scope_put(((struct mig_copy *)arg)->to, r, e);
}

static int
mig_put_pool(void *arg, const struct store_pool *r, struct err *e)
{
	return store_pool_put(((struct mig_copy *)arg)->to, r, e);
}

static int
mig_put_prov(void *arg, const struct store_provision *r, struct err *e)
{
	return store_provision_put(((struct mig_copy *)arg)->to, r, e);
}

static int
mig_put_alloc(void *arg, const struct store_alloc *r, struct err *e)
{
	return store_alloc_put(((struct mig_copy *)arg)->to, r, e);
}

static int
mig_put_resource(void *arg, const struct store_resource *r, struct err *e)
{
	return store_resource_put(((struct mig_copy *)arg)->to, r, e);
}

static int
mig_put_doc(void *arg, const char *kind, const char *key, const char *doc, struct err *e)
{
	return store_doc_put(((struct mig_copy *)arg)->to, kind, key, doc, e);
}

static int
mig_put_counter(void *arg, const char *name, int64_t value, struct err *e)
{
	return store_counter_put(((struct mig_copy *)arg)->to, name, value, e);
}

/* A site row as it is: its desire (want, desired_at), then its state, unfenced (the
 * target's leases are copied as they were, every instance is stopped). */
static int
mig_put_site(void *arg, const struct store_site_row *r, struct err *e)
{
	struct store *to = ((struct mig_copy *)arg)->to;

	if (to->ops->sites->desire(to, &r->cidr, r->site, r->want, r->desired_at, e) != 0)
		return -1;
	return store_site_put_rows(to, r, 1, e);
}

static int
mig_put_event(void *arg, const struct store_event *ev)
{
	struct mig_copy *c = arg;

	c->rows++;
	c->last = ev->id;
	return store_event_import(c->to, ev, c->e);
}

static int
mig_copy_events(struct store *from, struct mig_copy *c, struct err *e)
{
	c->e = e;
	c->last = 0;
	do {
		c->rows = 0;
		if (store_events_after(from, c->last, MIG_EVENT_PAGE, mig_put_event, c, e) != 0)
			return -1;
	} while (c->rows == MIG_EVENT_PAGE);
	return 0;
}

static int
mig_copy_sites(struct store *from, struct store *to, const struct store_lease *leases,
    const struct mig_census *c, struct mig_copy *mc, struct err *e)
{
	const struct store_site_ops *so = to->ops->sites;
	struct store_lease l;

	if (store_site_load(from, NULL, NULL, mig_put_site, mc, e) != 0)
		return -1;
	for (uint64_t i = 0; i < c->n[MIG_LEASE]; i++)
		if (so->lease_lock(to, leases[i].site, &l, e) != 0 ||
		    so->lease_put(to, &leases[i], e) != 0)
			return -1;
	return c->breaker != 0 ? so->breaker_write(to, c->breaker, e) : 0;
}

/* Everything of from into to (both inside their transactions). */
static int
mig_copy(struct store *from, struct store *to, const struct store_lease *leases,
    const struct mig_census *c, struct err *e)
{
	static const struct store_load_cb put = {
		mig_put_scope, mig_put_pool, mig_put_prov, mig_put_alloc, mig_put_resource, NULL,
	};
	struct mig_copy mc = { to, e, 0, 0 };

	if (store_load(from, &put, &mc, e) != 0 ||
	    store_counter_each(from, mig_put_counter, &mc, e) != 0 ||
	    store_doc_each(from, mig_put_doc, &mc, e) != 0 ||
	    mig_copy_sites(from, to, leases, c, &mc, e) != 0 ||
	    mig_copy_events(from, &mc, e) != 0)
		return -1;
	if (store_imported(to, e) != 0 || store_events_index(to, e) != 0)
		return -1;
	return 0;
}

/* The target, counted again, must hold exactly what the source held, and verify. */
static int
mig_check(struct mig_end *to, const struct mig_census *want, struct store_lease *leases,
    struct err *e)
{
	struct mig_census got;
	struct audit_verifier v;

	if (mig_census(to->st, &got, leases, e) != 0)
		return -1;
	for (int k = 0; k < MIG_NKINDS; k++)
		if (got.n[k] != want->n[k])
			return err_set(e, "store-failed", "the copy does not match: the source has "
			    "%" PRIu64 " %s, the target %" PRIu64, want->n[k], mig_kind_name[k],
			    got.n[k]);
	if (strcmp(got.head, want->head) != 0 || got.breaker != want->breaker)
		return err_set(e, "store-failed", "the copy does not match: %s",
		    got.breaker != want->breaker ? "the circuit breaker" : "the audit chain head");
	if (store_audit_verify(to->st, &v, e) != 0) {
		mig_prefix(e, "audit verify of the copy: ");
		return -1;
	}
	return 0;
}

/* ---- the two ends ---- */

/* Opens SPEC ("sqlite:PATH" or "postgresql:DSN"). A source SQLite file must exist. */
static int
mig_open(struct mig_end *m, bool source, struct err *e)
{
	struct stat sb;
	int fd;

	if (strncmp(m->spec, "postgresql:", 11) == 0 && m->spec[11] != '\0')
		return store_pg_open(m->spec + 11, &m->st, e);
	if (strncmp(m->spec, "sqlite:", 7) != 0 || m->spec[7] == '\0')
		return err_set(e, "invalid-argument", "'%s' is not sqlite:PATH or postgresql:DSN",
		    m->spec);
	if ((m->path = strdup(m->spec + 7)) == NULL)
		return err_set(e, "internal", "out of memory");
	if (source) {
		if ((fd = open(m->path, O_RDONLY)) < 0)
			return err_set(e, "store-failed", "%s: %s", m->path, strerror(errno));
		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			close(fd);
			return err_set(e, "store-failed", "%s: not a regular file", m->path);
		}
		close(fd);
	} else {
		m->created = access(m->path, F_OK) != 0;
	}
	return store_sqlite_open(m->path, &m->st, e);
}

/* Closes m; a SQLite target this migration created is removed when it failed. */
static void
mig_close(struct mig_end *m, bool failed)
{
	char side[PATH_MAX + 8];

	store_close(m->st);
	m->st = NULL;
	if (failed && m->created && m->path != NULL) {
		unlink(m->path);
		snprintf(side, sizeof(side), "%s-wal", m->path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", m->path);
		unlink(side);
	}
	free(m->path);
	m->path = NULL;
}

/* The store's name for messages: the SQLite path, or PostgreSQL's "DB on HOST" (a DSN may
 * hold a password: it is never printed). */
static const char *
mig_name(const struct mig_end *m)
{
	return m->path != NULL ? m->path : store_pg_name(m->st);
}

/* Opens a transaction and takes the writers' lock (store_feed_sync inside it). */
static int
mig_lock(struct mig_end *m, struct err *e)
{
	uint64_t seq;

	if (store_begin(m->st, e) != 0)
		return -1;
	if (store_feed_sync(m->st, &seq, e) != 0) {
		store_rollback(m->st, NULL);
		return -1;
	}
	return 0;
}

/* Steps 2-5 of store_migrate.h on open stores; leases: room for MIG_MAX_LEASES. */
static int
mig_run(struct mig_end *from, struct mig_end *to, struct mig_census *c,
    struct store_lease *leases, struct err *e)
{
	struct mig_census tc;
	struct audit_verifier v;
	char what[512];
	int rc = -1;

	if (mig_lock(from, e) != 0)
		return -1;
	if (store_audit_verify(from->st, &v, e) != 0) {
		mig_prefix(e, "the source's audit chain does not verify, so it is not copied: ");
		goto out;
	}
	if (mig_census(from->st, c, leases, e) != 0 || mig_lock(to, e) != 0)
		goto out;
	if (mig_census(to->st, &tc, leases + MIG_MAX_LEASES, e) != 0)
		goto undo;
	if (!mig_census_empty(&tc)) {
		mig_census_text(&tc, false, what, sizeof(what));
		err_set(e, "not-empty", "the target %s is not empty (%s): migrate into an empty "
		    "store (a new database, or a new SQLite file); nothing was changed",
		    mig_name(to), what);
		goto undo;
	}
	if (mig_copy(from->st, to->st, leases, c, e) != 0 ||
	    mig_check(to, c, leases + MIG_MAX_LEASES, e) != 0)
		goto undo;
	rc = store_commit(to->st, e);
	goto out;
undo:
	store_rollback(to->st, NULL);
out:
	store_rollback(from->st, NULL);
	return rc;
}

int
store_migrate(const char *from, const char *to, const struct audit_key *k, FILE *out,
    struct err *e)
{
	struct mig_end src = { "source", from, NULL, NULL, false };
	struct mig_end dst = { "target", to, NULL, NULL, false };
	struct store_lease *leases;
	struct mig_census c;
	char what[512];
	int rc = -1;

	if (strcmp(from, to) == 0)
		return err_set(e, "invalid-argument", "the source and the target are the same "
		    "store");
	if ((leases = calloc(2 * MIG_MAX_LEASES, sizeof(*leases))) == NULL)
		return err_set(e, "internal", "out of memory");
	if (mig_open(&src, true, e) != 0)
		mig_prefix(e, "source: ");
	else if (mig_open(&dst, false, e) != 0)
		mig_prefix(e, "target: ");
	else {
		src.st->audit_key = dst.st->audit_key = k;     /* verify only: nothing published */
		rc = mig_run(&src, &dst, &c, leases, e);
	}
	if (rc == 0) {
		mig_census_text(&c, true, what, sizeof(what));
		fprintf(out, "migrated %s to %s: %s; audit chain verified on the target (head %"
		    PRIu64 " %.16s...)\n", mig_name(&src), mig_name(&dst), what, c.n[MIG_EVENT],
		    c.head);
	}
	mig_close(&src, false);
	mig_close(&dst, rc != 0);
	free(leases);
	return rc;
}
