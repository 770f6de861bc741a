#!/usr/bin/env bash
# The migration runbooks end to end (issue 8): lab/runbooks/migrate-prefix moves 203.0.113.0/24
# from onprem (AS 64496) to edge (AS 64500) through a real prefixd, then lab/runbooks/rollback
# moves it back, while lab/runbooks/upstream-watch records the upstream's Adj-RIB-In for the
# prefix as it changes (gobgp monitor adj-in: every update and withdrawal, stamped on arrival)
# and every change of the VRPs the RTR cache serves. From the recording:
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

"$RB/upstream-watch" record --out "$REC" "$PREFIX" &
watch_pid=$!
on_exit "kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null"
wait_until 10 "the recorder to hold upstream's current routes" grep -q '"kind": "ready"' "$REC"
# last_origins: the origins of the recording's last view of the prefix.
last_origins() {
	grep '"kind": "rib"' "$REC" | tail -n 1 |
		jq -r --arg p "$PREFIX" '[.routes[$p][].origin] | unique | map(tostring) | join(",")'
}
recorded_origins_are() { [ "$(last_origins)" = "$1" ]; }
wait_until 10 "the recording to show onprem's route" recorded_origins_are "$ONPREM_AS"
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

wait_until 10 "the recording to show the final state" recorded_origins_are "$ONPREM_AS"
kill "$watch_pid"
wait "$watch_pid" || true

# The recording, briefly: ms since the first line, then what upstream held or the VRPs.
jq -r --arg p "$PREFIX" 'if .kind == "rib" then "\(.t_ms) rib  origins [\([.routes[$p][].origin] | map(tostring) | join(","))]"
	elif .kind == "vrps" then "\(.t_ms) vrps [\([.vrps[] | select(.prefix == $p) | .asn] | map(tostring) | join(","))]"
	else "\(.t_ms) \(.kind)" end' "$REC" | awk 'NR == 1 { t0 = $1 } { $1 = sprintf("recording +%6d ms", $1 - t0); print }'
rc=0
verdict=$("$RB/upstream-watch" analyze "$REC" --prefix "$PREFIX" --window "$W_MIGRATE" \
	--window "$W_ROLLBACK") || rc=$?
echo "verdict: $verdict"
[ "$(jq .errors <<<"$verdict")" = 0 ] || fail "the recorder lost gobgp's monitor stream"
vrp_changes=$(grep -c '"kind": "vrps"' "$REC")
[ "$vrp_changes" -ge 5 ] || fail "expected the start and 4 VRP changes in the recording, got $vrp_changes"
ok "upstream recorded: $(jq .lines <<<"$verdict") changes of its routes for $PREFIX, $vrp_changes VRP sets"
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
echo "measured dark time: migrate $dm ms, rollback $dr ms (from upstream's withdrawal to the next announcement, as gobgp reported them)"
ok "dark time printed for each move"
