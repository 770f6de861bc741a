#!/usr/bin/env bash
# The database holds the address plan's invariants without prefixd's help (issue 16, "must be
# true" 3), on a throw-away PostgreSQL 15 cluster (lib/pg.sh):
#   - psql inserting an allocation that overlaps a stored one in the same pool is refused by
#     allocations_no_overlap (SQLSTATE 23P01); the same CIDR in another pool is accepted;
#   - psql inserting a second allocation with a stored token in the same pool is refused by
#     allocations_token (23505);
#   - psql provisioning a top-level CIDR that overlaps another top-level CIDR of the scope is
#     refused by provisions_top_level_no_overlap;
#   - when prefixd's memory does not know a row that psql added, the database still refuses
#     prefixd's own overlapping insert, and the client gets 409 overlap / token-conflict
#     (never a 500), and nothing is stored.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools '{"name":"q","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/q/provision '{"cidr":"10.1.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/allocations '{"cidr":"10.0.1.0/24","token":"t1"}' >/dev/null
p=$(pg_psql "SELECT id FROM pools WHERE name = 'p'")
q=$(pg_psql "SELECT id FROM pools WHERE name = 'q'")
scope=$(pg_psql "SELECT scope_id FROM pools WHERE name = 'p'")

# refused: psql's exit status and the constraint named in its message
refused() {
	local constraint=$1 sql=$2 out
	if out=$(pg_psql "$sql" 2>&1); then
		pd_fail "the database accepted: $sql"
	fi
	grep -q "$constraint" <<<"$out" || pd_fail "refused, but not by $constraint: $out"
}
ins_alloc() { echo "INSERT INTO allocations(id, pool_id, cidr, kind, token, created) VALUES($1, $2, '$3', 0, $4, 0)"; }

refused allocations_no_overlap "$(ins_alloc 900 "$p" 10.0.1.128/25 NULL)"
refused allocations_no_overlap "$(ins_alloc 901 "$p" 10.0.0.0/16 NULL)"
pg_psql "$(ins_alloc 902 "$q" 10.0.1.0/24 NULL)" >/dev/null ||
	pd_fail "the same CIDR in another pool was refused"
pg_psql "DELETE FROM allocations WHERE id = 902" >/dev/null
pd_ok "psql: an overlapping allocation in one pool is refused (allocations_no_overlap); in another pool it is not"

refused allocations_token "$(ins_alloc 903 "$p" 10.0.9.0/24 "'t1'")"
pd_ok "psql: a second allocation with token t1 in the pool is refused (allocations_token)"

refused provisions_top_level_no_overlap \
	"INSERT INTO provisions(id, pool_id, scope_id, cidr, created) VALUES(904, $q, $scope, '10.0.128.0/17', 0)"
pd_ok "psql: a top-level CIDR overlapping another in the scope is refused (provisions_top_level_no_overlap)"

# Rows prefixd's memory does not know: psql adds them behind its back.
pg_psql "$(ins_alloc 905 "$p" 10.0.2.0/24 NULL)" >/dev/null
pg_psql "$(ins_alloc 906 "$p" 10.0.3.0/24 "'t-psql'")" >/dev/null
before=$(pd_dump)
pd_expect 409 overlap POST /v1/pools/p/allocations '{"cidr":"10.0.2.0/25"}' >/dev/null
pd_expect 409 token-conflict POST /v1/pools/p/allocations '{"netmask":24,"token":"t-psql"}' >/dev/null
[ "$before" = "$(pd_dump)" ] || pd_fail "a refused insert changed the store"
pd_alive || pd_fail "prefixd died"
pd_ok "prefixd's own overlapping insert is refused by the database: 409 overlap / token-conflict, store unchanged"
