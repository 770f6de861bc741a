#!/usr/bin/env bash
# The anycast runbook end to end (issue 17, must-be-true 5): in a `lab/up --sites` lab with
# edge1's and edge2's prefixd on the lab's PostgreSQL, lab/runbooks/migrate-anycast moves
# 203.0.113.0/24 from onprem (AS 64496) to edge1, checks it at upstream, then adds edge2
# (anycast, AS 64500), and `migrate-anycast back` returns it to onprem, while
# lab/runbooks/upstream-watch records the upstream's Adj-RIB-In for the prefix and the VRPs in
# force. The recorder's verdict:
#   - never an origin other than 64496 and 64500 (--origins), never both at once;
#   - every route upstream held was RPKI-valid for the VRPs in force at that moment;
#   - the stages are in the recording: edge1's path alone before edge2's joined (forth), and
#     edge1's alone after edge2's left (back);
#   - the longest dark time per move is printed.
# Both instances run before the prefix is provisioned at edge1 (edge2's follows it through the
# store's change feed, no restart), then the world is set back to before the migration: only
# onprem's ROA (scenario "theirs"), onprem announcing.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/sites.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'
RB=$LAB_DIR/runbooks

sites_start "s2any$$"
PREFIX=$LAB_PREFIX4
REC=$PD_DIR/upstream.jsonl
sites_b_start
wait_until 30 "edge2's prefixd: writer of edge2, BIRD connected" sites_b_ready
lab_set_vrps both 20
lc_provision_ok "$PREFIX"
lc_json pool show "$(lc_pool_for "$PREFIX")" >/dev/null || fail "no pool"
b_knows() { sites_b_ctl prefix show "$PREFIX" | jq -e '.state == "provisioned"'; }
wait_until 5 "edge2's prefixd: $PREFIX provisioned (followed from edge1)" b_knows
lab_set_vrps theirs 20
lc_upstream_only_origin "$PREFIX" "$ONPREM_AS" || fail "start: upstream holds $(lc_upstream_paths "$PREFIX")"

"$RB/upstream-watch" record --out "$REC" "$PREFIX" &
watch_pid=$!
on_exit "kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null"
wait_until 10 "the recorder to hold upstream's current routes" grep -q '"kind": "ready"' "$REC"
# last_neighbors: the neighbours of the recording's last view of the prefix
last_neighbors() {
	grep '"kind": "rib"' "$REC" | tail -n 1 |
		jq -r --arg p "$PREFIX" '[.routes[$p][].neighbor] | sort | join(",")'
}
recorded_neighbors_are() { [ "$(last_neighbors)" = "$1" ]; }
wait_until 10 "the recording to show onprem's route" recorded_neighbors_are "$ONPREM_UP_ADDR4"

# run_move NAME ARGS...: runs the runbook with its output in the test log; sets T_FROM/T_TO (ms).
run_move() {
	local name=$1 rc=0
	shift
	echo "---- $name: migrate-anycast $*"
	T_FROM=$(now_ms)
	PREFIXD_SOCKET=$PD_SOCK POOL=$(lc_pool_for "$PREFIX") "$RB/migrate-anycast" "$@" 2>&1 |
		sed "s/^/[$name] /" || rc=${PIPESTATUS[0]}
	T_TO=$(now_ms)
	[ "$rc" = 0 ] || fail "migrate-anycast $* exited $rc"
	ok "$name: migrate-anycast $* ran to the end in $(( T_TO - T_FROM )) ms"
}
paths() { lc_upstream_paths "$PREFIX" | awk '{ print $1, $2 }' | sort | xargs; }

run_move forth
[ "$(paths)" = "$EDGE_UP_ADDR4 $EDGE_AS $EDGE2_UP_ADDR4 $EDGE_AS" ] || fail "after forth: upstream holds [$(paths)]"
[ "$(lc_json prefix show "$PREFIX" | jq -c '[.sites[] | [.site, .state]]')" = '[["edge1","advertised"],["edge2","advertised"]]' ] ||
	fail "after forth: $(lc_json prefix show "$PREFIX" | jq -c .sites)"
W_FORTH=forth:$T_FROM:$T_TO
run_move back back
[ "$(paths)" = "$ONPREM_UP_ADDR4 $ONPREM_AS" ] || fail "after back: upstream holds [$(paths)]"
[ "$(lc_state "$PREFIX")" = provisioned ] || fail "after back: state $(lc_state "$PREFIX")"
W_BACK=back:$T_FROM:$T_TO

wait_until 10 "the recording to show the final state" recorded_neighbors_are "$ONPREM_UP_ADDR4"
kill "$watch_pid"
wait "$watch_pid" || true

# The recording, briefly: ms since the first line, then the neighbours (and origins) upstream
# held, or the VRPs in force.
brief=$(jq -r --arg p "$PREFIX" 'if .kind == "rib" then "\(.t_ms) rib  [\([.routes[$p][] | "\(.neighbor) AS\(.origin)"] | join(", "))]"
	elif .kind == "vrps" then "\(.t_ms) vrps [\([.vrps[] | select(.prefix == $p) | .asn] | map(tostring) | join(","))]"
	else "\(.t_ms) \(.kind)" end' "$REC" | awk 'NR == 1 { t0 = $1 } { $1 = sprintf("recording +%6d ms", $1 - t0); print }')
echo "$brief"
rc=0
verdict=$("$RB/upstream-watch" analyze "$REC" --prefix "$PREFIX" --origins "$ONPREM_AS,$EDGE_AS" \
	--window "$W_FORTH" --window "$W_BACK") || rc=$?
echo "verdict: $verdict"
[ "$(jq .errors <<<"$verdict")" = 0 ] || fail "the recorder lost gobgp's monitor stream"
[ "$(jq .other_origin_count <<<"$verdict")" = 0 ] ||
	fail "upstream held $PREFIX from an origin other than $ONPREM_AS/$EDGE_AS: $(jq -c .other_origin <<<"$verdict")"
[ "$(jq .two_origins_count <<<"$verdict")" = 0 ] ||
	fail "upstream held $PREFIX from two origins at once: $(jq -c .two_origins <<<"$verdict")"
ok "upstream only ever held $PREFIX from AS$ONPREM_AS or AS$EDGE_AS, never both at once"
[ "$(jq .invalid_count <<<"$verdict")" = 0 ] ||
	fail "upstream held routes that were not RPKI-valid: $(jq -c .invalid <<<"$verdict")"
[ "$rc" = 0 ] || fail "upstream-watch analyze exited $rc"
ok "every route upstream held was RPKI-valid for the VRPs in force at that moment"

# The stages, from the recording: the sequence of distinct neighbour sets upstream held.
seq=$(jq -r --arg p "$PREFIX" 'select(.kind == "rib") | [.routes[$p][].neighbor] | sort | join("+") | if . == "" then "none" else . end' "$REC" |
	uniq | paste -sd' ')
O=$ONPREM_UP_ADDR4 A=$EDGE_UP_ADDR4 B=$EDGE2_UP_ADDR4
want="$O none $A $A+$B $A none $O"
echo "upstream's neighbour sets for $PREFIX, in order: $seq"
[ "$seq" = "$want" ] || fail "stages at upstream: [$seq], want [$want]"
ok "staged at upstream: onprem, dark, edge1 alone, edge1+edge2, edge1 alone, dark, onprem"

df=$(jq --arg p "$PREFIX" '.dark_ms.forth[$p]' <<<"$verdict")
db=$(jq --arg p "$PREFIX" '.dark_ms.back[$p]' <<<"$verdict")
if [ "$df" -le 0 ] || [ "$db" -le 0 ]; then
	fail "no dark time measured (forth $df ms, back $db ms): the recording missed the hand-over"
fi
echo "measured dark time: forth $df ms, back $db ms (from upstream's withdrawal to the next announcement, as gobgp reported them)"
ok "dark time printed for each move"
