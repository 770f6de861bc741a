#!/usr/bin/env bash
# The site tables (issue 17: desire and state per (prefix, site), leases with fencing, the
# withdrawal circuit breaker) on a real PostgreSQL 15 (lib/pg.sh): the unit test
# test_store_sites, which runs on SQLite in the unit label, runs again with PREFIXD_TEST_DSN,
# two store connections standing for two instances. Then the lease row shows in psql.
# ctest-labels: postgresql
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg.sh"
PG_FSYNC=off pg_setup
PREFIXD_TEST_DSN=$PG_DSN "$PREFIXD_BUILD_DIR/tests/test_store_sites" ||
	fail "test_store_sites failed on PostgreSQL"
ok "test_store_sites passes on PostgreSQL"
v=$(pg_psql "SELECT max(version) FROM schema_version")
[ "$v" -ge 2 ] || fail "schema_version $v, want the sites migration"
n=$(pg_psql "SELECT count(*) FROM information_schema.tables WHERE table_name IN
    ('prefix_sites', 'site_leases', 'site_withdrawals', 'site_breaker')")
[ "$n" = 4 ] || fail "$n of the 4 site tables exist"
ok "schema version $v with the 4 site tables"
