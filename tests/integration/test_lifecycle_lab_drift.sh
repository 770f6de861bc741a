#!/usr/bin/env bash
# Issue 7, must-be-true 4: drift is repaired. With 203.0.113.0/24 advertised, edge's include file
# is rewritten behind prefixd's back and BIRD reloaded through its own CLI (lab/announce edge):
# once with the route gone, once with a foreign route added. Each time prefixd restores the
# desired routes within reconcile_interval (plus one BIRD transaction), logs the drift and
# counts it (bird status: reconcile.drift), and upstream ends with exactly the desired route.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
INTERVAL=3
LC_EXTRA_CONF=$(printf '[bird]\nreconcile_interval = %s' "$INTERVAL")
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_advertise_ok "$LAB_PREFIX4"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"

drift_count() { lc_json bird status | jq -r '.reconcile.drift'; }
bird_routes() {
	birdc -s "$EDGE_BIRD_SOCK" show route protocol prefixd4 table master4 |
		sed -En 's|^([0-9.]+/[0-9]+) .*|\1|p' | sort | tr '\n' ' '
}
routes_are() { [ "$(bird_routes)" = "$1" ]; }

# check_repair WHAT ROUTES...: edge's include now holds ROUTES (by hand, reloaded); prefixd must
# put back exactly the desired route.
check_repair() {
	local what=$1 before t0 ms
	shift
	before=$(drift_count)
	lab_edge_routes "$@"
	t0=$(now_ms)
	wait_until $(( INTERVAL + 10 )) "prefixd to repair the drift ($what)" routes_are "$LAB_PREFIX4 "
	ms=$(( $(now_ms) - t0 ))
	[ "$ms" -le $(( (INTERVAL + 5) * 1000 )) ] || fail "repair took $ms ms (reconcile_interval ${INTERVAL}s)"
	wait_until 5 "the drift to be counted" eval '[ "$(drift_count)" -gt '"$before"' ]'
	lc_wait_edge_exactly 20 "$LAB_PREFIX4"
	ok "$what: repaired in $ms ms (reconcile_interval ${INTERVAL}s), drift counted ($before -> $(drift_count))"
}
check_repair "route removed behind prefixd's back"
check_repair "foreign route added behind prefixd's back" "$LAB_PREFIX4" "$LAB_VALID4"
grep -qi 'drift' "$PD_LOG" || fail "no drift in prefixd's log"
ok "the drift is in prefixd's log: $(grep -i -m1 drift "$PD_LOG")"
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "state: $(lc_state "$LAB_PREFIX4")"
