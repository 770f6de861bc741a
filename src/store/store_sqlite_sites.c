/*
 * store_sqlite_sites — the SQLite primitives of store_sites.h (migration 8: prefix_sites,
 * site_leases, site_withdrawals, site_breaker). One instance writes an SQLite store, so
 * "locks" are the transaction itself (BEGIN IMMEDIATE). Statements are prepared per call:
 * they run once per change or lease renewal, not in the allocation hot path.
 */
#include "store_sqlite_private.h"
#include "store_sites.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char store_sqlite_sites_migration[] =
	"CREATE TABLE IF NOT EXISTS prefix_sites(cidr TEXT NOT NULL, site TEXT NOT NULL,"
	"  want INTEGER NOT NULL, desired_at INTEGER NOT NULL, state TEXT NOT NULL,"
	"  last_change INTEGER NOT NULL DEFAULT 0, failure_reason TEXT, evidence TEXT,"
	"  epoch INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(cidr, site));"
	"CREATE TABLE IF NOT EXISTS site_leases(site TEXT PRIMARY KEY, holder TEXT NOT NULL,"
	"  epoch INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS site_withdrawals(time INTEGER NOT NULL, site TEXT NOT NULL,"
	"  cidr TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS site_withdrawals_time ON site_withdrawals(time);"
	"CREATE TABLE IF NOT EXISTS site_breaker(one INTEGER PRIMARY KEY CHECK (one = 1),"
	"  open_since INTEGER NOT NULL);";

/* Prepares SQL and binds the texts/integers of FMT ('t' text, 'i' int64, 'c' cidr). */
static sqlite3_stmt *
sq_prep(struct store_sqlite *s, const char *sql, struct err *e, const char *fmt, ...)
{
	sqlite3_stmt *q;
	char buf[4][CIDR_STRLEN];
	int nc = 0;
	va_list ap;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
		store_fail(s, e, "site statement");
		return NULL;
	}
	va_start(ap, fmt);
	for (int i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == 't') {
			const char *v = va_arg(ap, const char *);
			if (v == NULL)
				sqlite3_bind_null(q, i + 1);
			else
				sqlite3_bind_text(q, i + 1, v, -1, SQLITE_TRANSIENT);
		} else if (fmt[i] == 'i') {
			sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t));
		} else {
			const struct cidr *c = va_arg(ap, const struct cidr *);
			if (c == NULL)
				sqlite3_bind_null(q, i + 1);
			else
				sqlite3_bind_text(q, i + 1, cidr_format(c, buf[nc % 4], CIDR_STRLEN), -1,
				    SQLITE_TRANSIENT);
			nc++;
		}
	}
	va_end(ap);
	return q;
}

/* Steps a write to its end and finalizes it. */
static int
sq_done(struct store_sqlite *s, sqlite3_stmt *q, struct err *e)
{
	int rc;

	if (q == NULL)
		return -1;
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_fail(s, e, "site write");
	return 0;
}

static int
sq_desire(struct store *st, const struct cidr *c, const char *site, bool want, int64_t now,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	return sq_done(s, sq_prep(s,
	    "INSERT INTO prefix_sites(cidr, site, want, desired_at, state) VALUES(?1,?2,?3,?4,"
	    "'pending') ON CONFLICT(cidr, site) DO UPDATE SET desired_at = excluded.desired_at,"
	    " state = CASE WHEN want = excluded.want AND state <> 'failed' THEN state"
	    "  ELSE 'pending' END,"
	    " failure_reason = CASE WHEN want = excluded.want AND state <> 'failed'"
	    "  THEN failure_reason ELSE NULL END,"
	    " want = excluded.want", e, "ctii", c, site, (int64_t)want, now), e);
}

/* One writer, a local file: one statement per pair inside the caller's transaction. */
static int
sq_desire_many(struct store *st, const struct cidr *c, const char *const *site, size_t n,
    bool want, int64_t now, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (sq_desire(st, &c[i], site[i], want, now, e) < 0)
			return -1;
	return 0;
}

static int
sq_record(struct store *st, const struct store_site_row *r, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	return sq_done(s, sq_prep(s,
	    "INSERT INTO prefix_sites(cidr, site, want, desired_at, state, last_change,"
	    " failure_reason, evidence, epoch) VALUES(?1,?2,0,?4,?3,?4,?5,?6,?7)"
	    " ON CONFLICT(cidr, site) DO UPDATE SET state = excluded.state,"
	    " last_change = excluded.last_change, failure_reason = excluded.failure_reason,"
	    " evidence = excluded.evidence, epoch = excluded.epoch", e, "cttitti", &r->cidr,
	    r->site, r->state, r->last_change, r->failure_reason, r->evidence,
	    (int64_t)r->epoch), e);
}

static int
sq_load(struct store *st, const struct cidr *c, const char *site, store_site_cb cb, void *arg,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = sq_prep(s,
	    "SELECT cidr, site, want, desired_at, state, last_change, failure_reason, evidence,"
	    " epoch FROM prefix_sites WHERE (?1 IS NULL OR cidr = ?1) AND (?2 IS NULL OR"
	    " site = ?2) ORDER BY cidr, site", e, "ct", c, site);
	int rc = 0, step;

	if (q == NULL)
		return -1;
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_site_row r = { 0 };

		if (cidr_parse(store_col_text(q, 0), &r.cidr, e) < 0) {
			rc = -1;
			break;
		}
		r.site = store_col_text(q, 1);
		r.want = sqlite3_column_int(q, 2) != 0;
		r.desired_at = sqlite3_column_int64(q, 3);
		r.state = store_col_text(q, 4);
		r.last_change = sqlite3_column_int64(q, 5);
		r.failure_reason = store_col_text(q, 6);
		r.evidence = store_col_text(q, 7);
		r.epoch = (uint64_t)sqlite3_column_int64(q, 8);
		rc = cb(arg, &r, e);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, e, "site rows");
	sqlite3_finalize(q);
	return rc;
}

static int
sq_forget(struct store *st, const struct cidr *c, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	return sq_done(s, sq_prep(s, "DELETE FROM prefix_sites WHERE cidr = ?1", e, "c", c), e);
}

/* Reads SITE's lease row into out; 1 when there is none. */
static int
sq_lease_read(struct store_sqlite *s, const char *site, struct store_lease *out,
    struct err *e)
{
	sqlite3_stmt *q = sq_prep(s, "SELECT holder, epoch, expires FROM site_leases WHERE"
	    " site = ?1", e, "t", site);
	int step;

	if (q == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->site, sizeof(out->site), "%s", site);
	if ((step = sqlite3_step(q)) == SQLITE_ROW) {
		snprintf(out->holder, sizeof(out->holder), "%s", store_col_text(q, 0));
		out->epoch = (uint64_t)sqlite3_column_int64(q, 1);
		out->expires = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail(s, e, "site lease");
	return step == SQLITE_ROW ? 0 : 1;
}

static int
sq_lease_lock(struct store *st, const char *site, struct store_lease *out, struct err *e)
{
	int rc = sq_lease_read(store_sq(st), site, out, e);

	return rc < 0 ? -1 : 0;         /* no row: holder "", epoch 0, expires 0 */
}

static int
sq_lease_put(struct store *st, const struct store_lease *l, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	return sq_done(s, sq_prep(s, "INSERT INTO site_leases(site, holder, epoch, expires)"
	    " VALUES(?1,?2,?3,?4) ON CONFLICT(site) DO UPDATE SET holder = excluded.holder,"
	    " epoch = excluded.epoch, expires = excluded.expires", e, "ttii", l->site, l->holder,
	    (int64_t)l->epoch, l->expires), e);
}

static int
sq_lease_get(struct store *st, const char *site, struct store_lease *out, struct err *e)
{
	return sq_lease_read(store_sq(st), site, out, e);
}

static int
sq_lease_list(struct store *st, struct store_lease *out, size_t max, size_t *n,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = sq_prep(s, "SELECT site, holder, epoch, expires FROM site_leases"
	    " ORDER BY site", e, "");
	int step;

	if (q == NULL)
		return -1;
	while ((step = sqlite3_step(q)) == SQLITE_ROW && *n < max) {
		struct store_lease *l = &out[(*n)++];

		memset(l, 0, sizeof(*l));
		snprintf(l->site, sizeof(l->site), "%s", store_col_text(q, 0));
		snprintf(l->holder, sizeof(l->holder), "%s", store_col_text(q, 1));
		l->epoch = (uint64_t)sqlite3_column_int64(q, 2);
		l->expires = sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail(s, e, "site leases");
	return 0;
}

static int
sq_withdraw_lock(struct store *st, struct err *e)
{
	(void)st;
	(void)e;
	return 0;                       /* BEGIN IMMEDIATE already serialises writers */
}

static int
sq_withdraw_count(struct store *st, int64_t since, int64_t *n, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = sq_prep(s, "SELECT count(*) FROM site_withdrawals WHERE time > ?1", e,
	    "i", since);
	int step;

	if (q == NULL)
		return -1;
	step = sqlite3_step(q);
	*n = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return step == SQLITE_ROW ? 0 : store_fail(s, e, "withdrawal count");
}

static int
sq_withdraw_add(struct store *st, const struct cidr *c, const char *site, int64_t now,
    struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	if (sq_done(s, sq_prep(s, "DELETE FROM site_withdrawals WHERE time < ?1", e, "i",
	    now - 3600), e) < 0)
		return -1;
	return sq_done(s, sq_prep(s, "INSERT INTO site_withdrawals(time, site, cidr)"
	    " VALUES(?1,?2,?3)", e, "itc", now, site, c), e);
}

static int
sq_breaker_read(struct store *st, int64_t *open_since, struct err *e)
{
	struct store_sqlite *s = store_sq(st);
	sqlite3_stmt *q = sq_prep(s, "SELECT open_since FROM site_breaker", e, "");
	int step;

	if (q == NULL)
		return -1;
	step = sqlite3_step(q);
	*open_since = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_fail(s, e, "breaker");
}

static int
sq_breaker_write(struct store *st, int64_t open_since, struct err *e)
{
	struct store_sqlite *s = store_sq(st);

	if (open_since != 0)
		return sq_done(s, sq_prep(s, "INSERT OR REPLACE INTO site_breaker(one, open_since)"
		    " VALUES(1, ?1)", e, "i", open_since), e);
	/* closed by an admin: a new minute starts */
	if (sq_done(s, sq_prep(s, "DELETE FROM site_withdrawals", e, ""), e) < 0)
		return -1;
	return sq_done(s, sq_prep(s, "DELETE FROM site_breaker", e, ""), e);
}

const struct store_site_ops store_sqlite_site_ops = {
	.desire = sq_desire,
	.desire_many = sq_desire_many,
	.record = sq_record,
	.load = sq_load,
	.forget = sq_forget,
	.lease_lock = sq_lease_lock,
	.lease_put = sq_lease_put,
	.lease_get = sq_lease_get,
	.lease_list = sq_lease_list,
	.withdraw_lock = sq_withdraw_lock,
	.withdraw_count = sq_withdraw_count,
	.withdraw_add = sq_withdraw_add,
	.breaker_read = sq_breaker_read,
	.breaker_write = sq_breaker_write,
};
