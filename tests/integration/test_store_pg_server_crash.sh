#!/usr/bin/env bash
# ctest-labels: reliability
# The PostgreSQL server itself crashes under load, again and again, and no acknowledged write is
# lost (issue 16: "it never acknowledges a write that was not committed"; store.h
# store_release_early). Three prefixd instances on one database, sixteen clients spread over
# them (tests/tools/rel_crash_clients: by size with a token, and releases; a client answered
# 503 or cut off moves to the next instance and repeats the same request). Each API batch of
# allocations commits asynchronously, so the writers' lock passes to the next instance before
# the commit is flushed, and is answered only after a second transaction's synchronous commit
# has flushed the log past it. PG_CRASHES times (default 6), once the clients have been
# answered PG_CRASH_ACKS more times (default 300) since the last crash, the server is stopped
# with `pg_ctl -m immediate` (every process quits at once; WAL not yet written out of shared
# memory is gone, as in a crash) and started again. Afterwards:
#   - every acknowledged allocation is stored with its id and CIDR, every acknowledged release
#     stays released, every acknowledged token names its allocation (lib/acks_check.py);
#   - no two allocations of the pool overlap; every instance lists exactly the stored ones;
#   - `audit verify` passes.
# Answering at the asynchronous COMMIT instead (without the flushing transaction) loses
# acknowledged allocations here: the check names them.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
crashes=${PG_CRASHES:-6}
per_crash=${PG_CRASH_ACKS:-300}
clients_bin=$PREFIXD_BUILD_DIR/tests/rel_crash_clients
[ -x "$clients_bin" ] || pd_fail "missing $clients_bin"
pd_setup
pgm_init
PD_TIMEOUT=60
logs=$PD_DIR/logs
mkdir -p "$logs"
stop_clients=$PD_DIR/stop-clients
cpid=
crash_cleanup() {
	local rc=$?
	set +e          # (exit "$rc") must not end the hook before pgm_cleanup kills the instances
	touch "$stop_clients"
	[ -n "$cpid" ] && { wait "$cpid" 2>/dev/null || true; }
	(exit "$rc")
	pgm_cleanup
}
trap crash_cleanup EXIT

for n in 1 2 3; do pgm_start "$n"; done
pgm_curl 1 POST /v1/pools '{"name":"crash","scope":"private-default"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "pool create: $PD_STATUS"
pgm_curl 1 POST /v1/pools/crash/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "provision: $PD_STATUS"
"$clients_bin" "$(pgm_sock 1),$(pgm_sock 2),$(pgm_sock 3)" crash 16 "$logs" "$stop_clients" \
	> "$PD_DIR/clients.out" &
cpid=$!

acks() { cat "$logs"/client-*.log 2>/dev/null | grep -c '^A ' || true; }
acked_since() { (( $(acks) >= $1 )); }
for ((c = 1; c <= crashes; c++)); do
	want=$(( $(acks) + per_crash ))
	pd_wait_for acked_since "$want" ||
		pd_fail "crash $c: the clients were answered only $(acks) times (waited for $want)"
	pg_crash
done
want=$(( $(acks) + per_crash ))
pd_wait_for acked_since "$want" || pd_fail "after the last crash the instances did not serve again"
touch "$stop_clients"
wait "$cpid" || true
cpid=
summary=$(cat "$PD_DIR/clients.out")
pd_ok "$crashes server crashes under load; clients: $summary"
grep -q 'errors=0' <<<"$summary" ||
	pd_fail "clients saw answers the contract does not allow: $(grep -h '^E' "$logs"/*.log | head -5)"

overlaps=$(pg_psql "SELECT count(*) FROM allocations a JOIN allocations b
	ON a.pool_id = b.pool_id AND a.id < b.id AND a.cidr && b.cidr")
[ "$overlaps" = 0 ] || pd_fail "$overlaps overlapping pairs of allocations"
pd_ok "no overlap (self-join on &&)"
pgm_crash_verdict crash "$logs" 3
