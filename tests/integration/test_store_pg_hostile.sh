#!/usr/bin/env bash
# Hostile start-up on the PostgreSQL backend (issue 16, "must be true" 6): each case makes
# prefixd exit 1 at start with an error naming the cause, and changes nothing in the database.
#   - a DSN that is not a libpq connection string;
#   - a server that is not there, and a database that does not exist;
#   - a database that refuses the migration: a role without CREATE rights, and a database
#     where a table of the schema already exists (the migration fails half-way: nothing of it
#     stays, all of it is one transaction);
#   - a schema written by a newer prefixd (schema_version above what this binary knows).
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup

# start_refused DSN WANT: prefixd with [store] dsn = DSN exits 1 within the deadline, and its
# stderr contains WANT.
start_refused() {
	local dsn=$1 want=$2 rc=0
	: > "$PD_EXTRA"
	printf '[store]\nbackend = postgresql\ndsn = %s\n' "$dsn" | pd_config
	pd_write_config
	timeout 20 "$PD_BIN" -c "$PD_CONF" > "$PD_DIR/start.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || pd_fail "dsn '$dsn': want exit 1, got $rc: $(cat "$PD_DIR/start.out")"
	grep -qF -- "$want" "$PD_DIR/start.out" ||
		pd_fail "dsn '$dsn': error does not name '$want': $(cat "$PD_DIR/start.out")"
	[ ! -S "$PD_SOCK" ] || pd_fail "dsn '$dsn': a socket was left behind"
	pd_ok "refused at start: $(tail -n 1 "$PD_DIR/start.out")"
}
tables() { pg_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"; }

start_refused "host=$PG_SOCKDIR dbname" 'dsn is not a libpq connection string: missing "=" after "dbname"'
start_refused "host=$PG_SOCKDIR user=postgres dbname=prefixd sslmode=sometimes" 'invalid sslmode value: "sometimes"'
start_refused "host=$PD_DIR/nowhere user=postgres dbname=prefixd" "cannot connect to PostgreSQL ([store] dsn): connection to server on socket \"$PD_DIR/nowhere/.s.PGSQL.5432\" failed: No such file or directory"
start_refused "host=$PG_SOCKDIR user=postgres dbname=nope" 'database "nope" does not exist'
[ "$(tables)" = 0 ] || pd_fail "a refused start created tables"

pg_psql "CREATE ROLE weak LOGIN" >/dev/null
start_refused "host=$PG_SOCKDIR user=weak dbname=prefixd" 'migration: creating schema_version: permission denied for schema public'
[ "$(tables)" = 0 ] || pd_fail "a refused migration created tables"

pg_psql "CREATE TABLE allocations(x integer); INSERT INTO allocations VALUES(42)" >/dev/null
start_refused "$PG_DSN" 'migration 1: relation "allocations" already exists'
[ "$(tables)" = 1 ] || pd_fail "a migration that failed half-way left tables: $(pg_psql "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")"
[ "$(pg_psql "SELECT x FROM allocations")" = 42 ] || pd_fail "the existing table was changed"
[ "$(pg_psql "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")" = 0 ] ||
	pd_fail "a failed migration left the btree_gist extension"
pg_psql "DROP TABLE allocations" >/dev/null
pd_ok "a migration the database refuses, even half-way, leaves nothing behind"

# A store written by a newer prefixd.
: > "$PD_EXTRA"
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_stop
pg_psql "INSERT INTO schema_version(version) VALUES(99)" >/dev/null
before=$(pd_dump; pg_psql "SELECT version FROM schema_version ORDER BY 1")
start_refused "$PG_DSN" 'has schema version 99, newer than this prefixd'
[ "$before" = "$(pd_dump; pg_psql "SELECT version FROM schema_version ORDER BY 1")" ] ||
	pd_fail "a refused start changed the newer store"
