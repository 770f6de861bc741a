/*
 * store_pg_sites — the PostgreSQL primitives of store_sites.h (migration 2: prefix_sites,
 * site_leases, site_withdrawals, site_breaker). Several instances share these tables:
 *   - lease_lock makes the site's row exist (INSERT ... ON CONFLICT DO NOTHING) and reads it
 *     FOR UPDATE: a takeover (store_lease_acquire) and a fenced record (store_site_record)
 *     of one site are serialised on that row, so a result is recorded only under the epoch
 *     that still holds when it commits;
 *   - withdraw_lock takes a transaction-level advisory lock, so the breaker's "count the last
 *     minute, then add one" is atomic across instances (two cannot both take the last slot).
 *   - desire notifies 'prefixd' (payload "site", delivered at COMMIT): the site's instance
 *     looks at its rows at once (prefixd.c's feed watcher) instead of at its next 1 s tick;
 *     desire_many writes all pairs of a request in one statement (unnest of two text
 *     arrays), notifying once; record_many writes an operation's results (1,000 prefixes)
 *     in one statement the same way (a cidr given twice: its last row).
 * Site writes do not take the audit head lock (they write no event); the lock order is
 * always head (if any) -> lease row -> breaker, so instances cannot deadlock on them.
 * Statements are unprepared (PQexecParams): they run per change and per lease renewal.
 */
#include "store_pg_private.h"
#include "store_sites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_PG_BREAKER_LOCK "7378707567081317"

const char store_pg_sites_migration[] =
	"CREATE TABLE prefix_sites(cidr cidr NOT NULL, site text NOT NULL,"
	"  want boolean NOT NULL, desired_at bigint NOT NULL, state text NOT NULL,"
	"  last_change bigint NOT NULL DEFAULT 0, failure_reason text, evidence text,"
	"  epoch bigint NOT NULL DEFAULT 0, PRIMARY KEY(cidr, site));"
	"CREATE TABLE site_leases(site text PRIMARY KEY, holder text NOT NULL,"
	"  epoch bigint NOT NULL, expires bigint NOT NULL);"
	"CREATE TABLE site_withdrawals(time bigint NOT NULL, site text NOT NULL,"
	"  cidr cidr NOT NULL);"
	"CREATE INDEX site_withdrawals_time ON site_withdrawals(time);"
	"CREATE TABLE site_breaker(one boolean PRIMARY KEY DEFAULT true CHECK (one),"
	"  open_since bigint NOT NULL);";

/* Runs SQL with a's parameters; the result (the caller clears it) or NULL with e. */
static PGresult *
pgs_run(struct store_pg *s, const char *sql, const struct store_pg_args *a, struct err *e)
{
	PGresult *r;
	ExecStatusType rs;

	if (s->base.depth == 0 && store_pg_ready(s, e) != 0)
		return NULL;
	if (store_pg_flush(s, e) != 0)
		return NULL;
	r = PQexecParams(s->conn, sql, a->n, NULL, a->v, NULL, NULL, 0);
	rs = PQresultStatus(r);
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		store_pg_fail(s, r, e, "site statement");
		return NULL;
	}
	return r;
}

static int
pgs_do(struct store_pg *s, const char *sql, const struct store_pg_args *a, struct err *e)
{
	PGresult *r = pgs_run(s, sql, a, e);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* A NULL CIDR as a NULL parameter. */
static void
pgs_arg_cidr(struct store_pg_args *a, const struct cidr *c)
{
	if (c != NULL)
		store_pg_arg_cidr(a, c);
	else
		store_pg_arg_text(a, NULL);
}

static int
pgs_desire(struct store *st, const struct cidr *c, const char *site, bool want, int64_t now,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_cidr(&a, c);
	store_pg_arg_text(&a, site);
	store_pg_arg_text(&a, want ? "true" : "false");
	store_pg_arg_int(&a, now);
	return pgs_do(store_pg(st),
	    "INSERT INTO prefix_sites AS p(cidr, site, want, desired_at, state)"
	    " VALUES($1,$2,$3,$4,'pending') ON CONFLICT(cidr, site) DO UPDATE SET"
	    " desired_at = excluded.desired_at,"
	    " state = CASE WHEN p.want = excluded.want AND p.state <> 'failed' THEN p.state"
	    "  ELSE 'pending' END,"
	    " failure_reason = CASE WHEN p.want = excluded.want AND p.state <> 'failed'"
	    "  THEN p.failure_reason ELSE NULL END,"
	    " want = excluded.want RETURNING pg_notify('prefixd', 'site')", &a, e);
}

static int
pgs_desire_many(struct store *st, const struct cidr *c, const char *const *site, size_t n,
    bool want, int64_t now, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	struct store_pg_array cidrs = { 0 }, sites = { 0 };
	char buf[CIDR_STRLEN];
	int rc;

	for (size_t i = 0; i < n; i++) {
		store_pg_array_add(&cidrs, cidr_format(&c[i], buf, sizeof(buf)));
		store_pg_array_add(&sites, site[i]);
	}
	store_pg_array_put(&cidrs, '}');
	store_pg_array_put(&sites, '}');
	store_pg_arg_text(&a, cidrs.buf);
	store_pg_arg_text(&a, sites.buf);
	store_pg_arg_text(&a, want ? "true" : "false");
	store_pg_arg_int(&a, now);
	rc = pgs_do(store_pg(st),
	    "WITH d AS (INSERT INTO prefix_sites AS p(cidr, site, want, desired_at, state)"
	    " SELECT DISTINCT u.c::cidr, u.s, $3::boolean, $4::bigint, 'pending'"
	    "  FROM unnest($1::text[], $2::text[]) AS u(c, s)"
	    " ON CONFLICT(cidr, site) DO UPDATE SET"
	    " desired_at = excluded.desired_at,"
	    " state = CASE WHEN p.want = excluded.want AND p.state <> 'failed' THEN p.state"
	    "  ELSE 'pending' END,"
	    " failure_reason = CASE WHEN p.want = excluded.want AND p.state <> 'failed'"
	    "  THEN p.failure_reason ELSE NULL END,"
	    " want = excluded.want RETURNING 1)"
	    " SELECT pg_notify('prefixd', 'site') WHERE EXISTS (SELECT 1 FROM d)", &a, e);
	free(cidrs.buf);
	free(sites.buf);
	return rc;
}

/* The rows as arrays (one per column, unnest in step): one statement for n records. */
static int
pgs_record_many(struct store *st, const struct store_site_row *r, size_t n, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	struct store_pg_array col[5] = { { 0 } };
	char buf[CIDR_STRLEN], t[24];
	int rc;

	for (size_t i = 0; i < n; i++) {
		store_pg_array_add(&col[0], cidr_format(&r[i].cidr, buf, sizeof(buf)));
		store_pg_array_add(&col[1], r[i].state);
		store_pg_array_add(&col[2], r[i].failure_reason);
		store_pg_array_add(&col[3], r[i].evidence);
		snprintf(t, sizeof(t), "%lld", (long long)r[i].last_change);
		store_pg_array_add(&col[4], t);
	}
	for (size_t i = 0; i < 5; i++) {
		store_pg_array_put(&col[i], '}');
		store_pg_arg_text(&a, col[i].buf);
	}
	store_pg_arg_text(&a, r[0].site);
	store_pg_arg_int(&a, (int64_t)r[0].epoch);
	rc = pgs_do(store_pg(st),
	    "INSERT INTO prefix_sites AS p(cidr, site, want, desired_at, state, last_change,"
	    " failure_reason, evidence, epoch)"
	    " SELECT DISTINCT ON (u.c::cidr) u.c::cidr, $6, false, u.t::bigint, u.st, u.t::bigint,"
	    "  u.fr, u.ev, $7::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
	    "  $5::text[]) WITH ORDINALITY AS u(c, st, fr, ev, t, k) ORDER BY u.c::cidr, u.k DESC"
	    " ON CONFLICT(cidr, site) DO UPDATE SET state = excluded.state,"
	    " last_change = excluded.last_change, failure_reason = excluded.failure_reason,"
	    " evidence = excluded.evidence, epoch = excluded.epoch", &a, e);
	for (size_t i = 0; i < 5; i++)
		free(col[i].buf);
	return rc;
}

static int
pgs_load(struct store *st, const struct cidr *c, const char *site, store_site_cb cb, void *arg,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;
	int rc = 0;

	pgs_arg_cidr(&a, c);
	store_pg_arg_text(&a, site);
	r = pgs_run(store_pg(st),
	    "SELECT cidr, site, want, desired_at, state, last_change, failure_reason, evidence,"
	    " epoch FROM prefix_sites WHERE ($1::cidr IS NULL OR cidr = $1::cidr) AND"
	    " ($2::text IS NULL OR site = $2::text) ORDER BY cidr, site", &a, e);
	if (r == NULL)
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct store_site_row row = { 0 };

		if ((rc = store_pg_cidr(r, i, 0, &row.cidr, e)) < 0)
			break;
		row.site = store_pg_text(r, i, 1);
		row.want = strcmp(PQgetvalue(r, i, 2), "t") == 0;
		row.desired_at = store_pg_int(r, i, 3);
		row.state = store_pg_text(r, i, 4);
		row.last_change = store_pg_int(r, i, 5);
		row.failure_reason = store_pg_text(r, i, 6);
		row.evidence = store_pg_text(r, i, 7);
		row.epoch = (uint64_t)store_pg_int(r, i, 8);
		rc = cb(arg, &row, e);
	}
	PQclear(r);
	return rc;
}

static int
pgs_forget(struct store *st, const struct cidr *c, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_cidr(&a, c);
	return pgs_do(store_pg(st), "DELETE FROM prefix_sites WHERE cidr = $1", &a, e);
}

/* Fills out from a (holder, epoch, expires) result row. */
static void
pgs_lease_row(const PGresult *r, const char *site, struct store_lease *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->site, sizeof(out->site), "%s", site);
	if (PQntuples(r) == 0)
		return;
	snprintf(out->holder, sizeof(out->holder), "%s", PQgetvalue(r, 0, 0));
	out->epoch = (uint64_t)store_pg_int(r, 0, 1);
	out->expires = store_pg_int(r, 0, 2);
}

static int
pgs_lease_lock(struct store *st, const char *site, struct store_lease *out, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	store_pg_arg_text(&a, site);
	if (pgs_do(store_pg(st), "INSERT INTO site_leases(site, holder, epoch, expires)"
	    " VALUES($1, '', 0, 0) ON CONFLICT(site) DO NOTHING", &a, e) < 0)
		return -1;
	if ((r = pgs_run(store_pg(st), "SELECT holder, epoch, expires FROM site_leases"
	    " WHERE site = $1 FOR UPDATE", &a, e)) == NULL)
		return -1;
	pgs_lease_row(r, site, out);
	PQclear(r);
	return 0;
}

static int
pgs_lease_put(struct store *st, const struct store_lease *l, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_text(&a, l->site);
	store_pg_arg_text(&a, l->holder);
	store_pg_arg_int(&a, (int64_t)l->epoch);
	store_pg_arg_int(&a, l->expires);
	return pgs_do(store_pg(st), "UPDATE site_leases SET holder = $2, epoch = $3,"
	    " expires = $4 WHERE site = $1", &a, e);
}

static int
pgs_lease_get(struct store *st, const char *site, struct store_lease *out, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;
	int rc;

	store_pg_arg_text(&a, site);
	if ((r = pgs_run(store_pg(st), "SELECT holder, epoch, expires FROM site_leases"
	    " WHERE site = $1", &a, e)) == NULL)
		return -1;
	pgs_lease_row(r, site, out);
	rc = PQntuples(r) > 0 ? 0 : 1;
	PQclear(r);
	return rc;
}

static int
pgs_lease_list(struct store *st, struct store_lease *out, size_t max, size_t *n,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	if ((r = pgs_run(store_pg(st), "SELECT site, holder, epoch, expires FROM site_leases"
	    " ORDER BY site", &a, e)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r) && *n < max; i++) {
		struct store_lease *l = &out[(*n)++];

		memset(l, 0, sizeof(*l));
		snprintf(l->site, sizeof(l->site), "%s", PQgetvalue(r, i, 0));
		snprintf(l->holder, sizeof(l->holder), "%s", PQgetvalue(r, i, 1));
		l->epoch = (uint64_t)store_pg_int(r, i, 2);
		l->expires = store_pg_int(r, i, 3);
	}
	PQclear(r);
	return 0;
}

static int
pgs_withdraw_lock(struct store *st, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	return pgs_do(store_pg(st), "SELECT pg_advisory_xact_lock(" STORE_PG_BREAKER_LOCK ")",
	    &a, e);
}

static int
pgs_withdraw_count(struct store *st, int64_t since, int64_t *n, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	store_pg_arg_int(&a, since);
	if ((r = pgs_run(store_pg(st), "SELECT count(*) FROM site_withdrawals WHERE time > $1",
	    &a, e)) == NULL)
		return -1;
	*n = store_pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

static int
pgs_withdraw_add(struct store *st, const struct cidr *c, const char *site, int64_t now,
    struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	store_pg_arg_int(&a, now);
	store_pg_arg_text(&a, site);
	store_pg_arg_cidr(&a, c);
	if (pgs_do(store_pg(st), "DELETE FROM site_withdrawals WHERE time < $1::bigint - 3600",
	    &(struct store_pg_args){ .n = 1, .v = { a.v[0] } }, e) < 0)
		return -1;
	return pgs_do(store_pg(st), "INSERT INTO site_withdrawals(time, site, cidr)"
	    " VALUES($1, $2, $3)", &a, e);
}

static int
pgs_breaker_read(struct store *st, int64_t *open_since, struct err *e)
{
	struct store_pg_args a = { .n = 0 };
	PGresult *r;

	if ((r = pgs_run(store_pg(st), "SELECT open_since FROM site_breaker", &a, e)) == NULL)
		return -1;
	*open_since = PQntuples(r) > 0 ? store_pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

static int
pgs_breaker_write(struct store *st, int64_t open_since, struct err *e)
{
	struct store_pg_args a = { .n = 0 };

	if (open_since != 0) {
		store_pg_arg_int(&a, open_since);
		return pgs_do(store_pg(st), "INSERT INTO site_breaker(open_since) VALUES($1)"
		    " ON CONFLICT(one) DO UPDATE SET open_since = excluded.open_since", &a, e);
	}
	/* closed by an admin: a new minute starts */
	if (pgs_do(store_pg(st), "DELETE FROM site_withdrawals", &a, e) < 0)
		return -1;
	return pgs_do(store_pg(st), "DELETE FROM site_breaker", &a, e);
}

const struct store_site_ops store_pg_site_ops = {
	.desire = pgs_desire,
	.desire_many = pgs_desire_many,
	.record_many = pgs_record_many,
	.load = pgs_load,
	.forget = pgs_forget,
	.lease_lock = pgs_lease_lock,
	.lease_put = pgs_lease_put,
	.lease_get = pgs_lease_get,
	.lease_list = pgs_lease_list,
	.withdraw_lock = pgs_withdraw_lock,
	.withdraw_count = pgs_withdraw_count,
	.withdraw_add = pgs_withdraw_add,
	.breaker_read = pgs_breaker_read,
	.breaker_write = pgs_breaker_write,
};
