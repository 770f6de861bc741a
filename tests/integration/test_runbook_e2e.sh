#!/usr/bin/env bash
# The migration runbooks end to end (issue 8): lab/runbooks/migrate-prefix moves 203.0.113.0/24
# from onprem (AS 64496) to edge (AS 64500) through a real prefixd, then lab/runbooks/rollback
# moves it back, while lab/runbooks/upstream-watch records the upstream's RIB for the prefix
# every 200 ms and every change of the VRPs the RTR cache serves. From the recording:
#   - upstream never held routes for the prefix from two origins at once;
#   - every route upstream held was RPKI-valid for the VRPs in force at that moment;
#   - the longest time upstream had no route for the prefix, per move, is printed
#     ("measured dark time", quoted in lab/runbooks/migrate-prefix.md).
# The starting point is the world before the migration: only onprem's ROA (scenario "theirs").
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
pd_setup
lab_start
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
RB=$LAB_DIR/runbooks
PREFIX=$LAB_PREFIX4
REC=$PD_DIR/upstream.jsonl

lc_pd_start
lab_set_vrps theirs 20
wait_until 30 "prefixd's RTR data to be fresh" lc_rpki_fresh
wait_until 30 "prefixd to be connected to edge's BIRD" lc_bird_up

"$RB/upstream-watch" record --interval-ms 200 --out "$REC" "$PREFIX" &
watch_pid=$!
on_exit "kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null"
rib_lines() { [ "$(grep -c '"kind": "rib"' "$REC" 2>/dev/null)" -ge "$1" ]; }
wait_until 10 "the recorder's first polls" rib_lines 2
lc_upstream_only_origin "$PREFIX" "$ONPREM_AS" || fail "start: upstream holds $(lc_upstream_paths "$PREFIX")"

# run_move NAME SCRIPT: runs a runbook with its output in the test log; sets T_FROM/T_TO (ms).
run_move() {
	local name=$1 script=$2 rc=0
	echo "---- $name: $script"
	T_FROM=$(now_ms)
	PREFIXD_SOCKET=$PD_SOCK "$script" 2>&1 | sed "s/^/[$name] /" || rc=${PIPESTATUS[0]}
	T_TO=$(now_ms)
	[ "$rc" = 0 ] || fail "$script exited $rc"
	ok "$name: $script ran to the end in $(( T_TO - T_FROM )) ms"
}

run_move migrate "$RB/migrate-prefix"
lc_upstream_only_origin "$PREFIX" "$EDGE_AS" || fail "after migrate: $(lc_upstream_paths "$PREFIX")"
[ "$(lc_state "$PREFIX")" = advertised ] || fail "after migrate: state $(lc_state "$PREFIX")"
W_MIGRATE=migrate:$T_FROM:$T_TO

run_move rollback "$RB/rollback"
lc_upstream_only_origin "$PREFIX" "$ONPREM_AS" || fail "after rollback: $(lc_upstream_paths "$PREFIX")"
[ "$(lc_state "$PREFIX")" = provisioned ] || fail "after rollback: state $(lc_state "$PREFIX")"
W_ROLLBACK=rollback:$T_FROM:$T_TO

n=$(grep -c '"kind": "rib"' "$REC")
wait_until 5 "one more poll after the rollback" rib_lines $(( n + 1 ))
kill "$watch_pid"
wait "$watch_pid" || true

rc=0
verdict=$("$RB/upstream-watch" analyze "$REC" --prefix "$PREFIX" --window "$W_MIGRATE" \
	--window "$W_ROLLBACK") || rc=$?
echo "verdict: $verdict"
[ "$(jq .poll_errors <<<"$verdict")" = 0 ] || fail "the recorder could not ask gobgp every time"
vrp_changes=$(grep -c '"kind": "vrps"' "$REC")
[ "$vrp_changes" -ge 5 ] || fail "expected the start and 4 VRP changes in the recording, got $vrp_changes"
gap=$(jq .max_poll_gap_ms <<<"$verdict")
[ "$gap" -le 1000 ] || fail "the recorder's longest gap between polls was $gap ms"
ok "upstream recorded in $(jq .polls <<<"$verdict") polls (every 200 ms; longest gap $gap ms), with $vrp_changes VRP sets"
[ "$(jq .two_origins_count <<<"$verdict")" = 0 ] ||
	fail "upstream held $PREFIX from two origins at once: $(jq -c .two_origins <<<"$verdict")"
ok "upstream never held $PREFIX from two origins at once"
[ "$(jq .invalid_count <<<"$verdict")" = 0 ] ||
	fail "upstream held routes that were not RPKI-valid: $(jq -c .invalid <<<"$verdict")"
[ "$rc" = 0 ] || fail "upstream-watch analyze exited $rc"
ok "every route upstream held was RPKI-valid for the VRPs in force at that moment"
dm=$(jq --arg p "$PREFIX" '.dark_ms.migrate[$p]' <<<"$verdict")
dr=$(jq --arg p "$PREFIX" '.dark_ms.rollback[$p]' <<<"$verdict")
if [ "$dm" -le 0 ] || [ "$dr" -le 0 ]; then
	fail "no dark time measured (migrate $dm ms, rollback $dr ms): the recording missed the hand-over"
fi
echo "measured dark time: migrate $dm ms, rollback $dr ms (upper bound; resolution one poll, <= ${gap} ms)"
ok "dark time printed for each move"
