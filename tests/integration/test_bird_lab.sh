#!/usr/bin/env bash
# The BIRD modules in the network lab (real edge BIRD AS 64500, onprem BIRD AS 64496, upstream
# GoBGP AS 64501, StayRTR): what upstream's Adj-RIB-In receives from edge is what counts.
#   - the other-origin check names onprem's 64496 (with the AS path) for 203.0.113.0/24 and
#     finds nothing for a prefix nobody else announces;
#   - a transaction on edge makes upstream receive exactly the desired IPv4 and IPv6 prefixes
#     with origin 64500; a drained route carries GRACEFUL_SHUTDOWN (65535:0) to upstream; an
#     empty desired set withdraws them;
#   - a crash at the failpoint between `configure timeout` and `configure confirm`: BIRD
#     reverts at the timeout, upstream loses the unconfirmed prefix, and a restarted driver
#     reconciles so that upstream ends with exactly the desired routes.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/tools/bird_lib.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
need_failpoints
[ -x "$BT_DRIVER" ] || fail "missing $BT_DRIVER"
BT=$(mktemp -d /tmp/bird-lab.XXXXXX)
on_exit 'rm -rf "$BT"'
on_exit bt_drv_kill
lab_start

# A driver on edge's BIRD (bt_drv_start is for the private BIRD of bird_lib.sh).
edge_driver() {
	rm -f "$BT/drv.in"; mkfifo "$BT/drv.in"; : > "$BT/drv.out"
	"$BT_DRIVER" -s "$EDGE_BIRD_SOCK" -i "$EDGE_BIRD_INCLUDE" -r -1 "$@" \
		< "$BT/drv.in" >> "$BT/drv.out" 2>> "$BT/drv.err" &
	BT_DRV_PID=$!
	exec 7> "$BT/drv.in"
	bt_drv_wait 1 'select(.event == "bird" and .up)'
}
edge_driver -t 30

bt_drv origins "$LAB_PREFIX4" "$EDGE_AS"
bt_drv_wait 1 'select(.event == "origins")'
res=$(bt_drv_last 'select(.event == "origins")')
[ "$(jq -r '[.routes[].origin_as] | unique | join(",")' <<<"$res")" = "$ONPREM_AS" ] ||
	fail "other origins of $LAB_PREFIX4: $res"
jq -e --arg p "$UPSTREAM_AS $ONPREM_AS" '.routes[0].as_path == $p' <<<"$res" >/dev/null ||
	fail "AS path not reported: $res"
bt_drv origins "$LAB_PREFIX6" "$EDGE_AS"
bt_drv_wait 2 'select(.event == "origins")'
res=$(bt_drv_last 'select(.event == "origins")')
[ "$(jq -r '[.routes[].origin_as] | unique | join(",")' <<<"$res")" = "$ONPREM_AS" ] ||
	fail "other origins of $LAB_PREFIX6: $res"
ok "other-origin check names $ONPREM_AS for $LAB_PREFIX4 and $LAB_PREFIX6"

bt_drv origins "$LAB_VALID4" "$EDGE_AS"
bt_drv_wait 3 'select(.event == "origins")'
[ "$(bt_drv_last 'select(.event == "origins")' | jq '.routes | length')" = 0 ] ||
	fail "other origins for $LAB_VALID4"
bt_drv origins "$LAB_PREFIX4" "$ONPREM_AS"
bt_drv_wait 4 'select(.event == "origins")'
[ "$(bt_drv_last 'select(.event == "origins")' | jq '.routes | length')" = 0 ] ||
	fail "the expected origin counted as another one"
ok "no other origin when nobody else announces, or when the origin is the expected one"

bt_drv add "$LAB_VALID4"
bt_drv add "$LAB_VALID6"
bt_drv apply
bt_drv_wait 1 'select(.event == "apply")'
[ "$(bt_drv_last 'select(.event == "apply")' | jq -r .code)" = ok ] || fail "apply failed"
lab_wait_route_at_upstream "$LAB_VALID4" "$EDGE_AS" edge
lab_wait_route_at_upstream "$LAB_VALID6" "$EDGE_AS" edge
want=$(printf '%s\n' "$LAB_VALID4" "$LAB_VALID6" | sort | jq -R . | jq -sc .)
[ "$(lab_peer_routes edge | jq -c 'keys | sort')" = "$want" ] ||
	fail "upstream got from edge: $(lab_peer_routes edge | jq -c keys)"
ok "upstream receives exactly $LAB_VALID4 and $LAB_VALID6 with origin $EDGE_AS"

bt_drv drain "$LAB_VALID4"
bt_drv apply
bt_drv_wait 2 'select(.event == "apply")'
[ "$(bt_drv_last 'select(.event == "apply")' | jq -r .code)" = ok ] || fail "drain apply failed"
gshut() {
	lab_peer_routes edge | jq -e --arg p "$LAB_VALID4" \
	    '[.[$p][]?.attrs[]? | select(.type == 8) | .communities[]] | index(4294901760) != null'
}
wait_until 20 "GRACEFUL_SHUTDOWN at upstream" gshut
ok "a drained route reaches upstream with 65535:0"

bt_drv clear
bt_drv apply
bt_drv_wait 3 'select(.event == "apply")'
[ "$(bt_drv_last 'select(.event == "apply")' | jq -r .code)" = ok ] || fail "withdraw apply failed"
lab_wait_no_route_at_upstream "$LAB_VALID4" edge
lab_wait_no_route_at_upstream "$LAB_VALID6" edge
[ "$(lab_peer_routes edge | jq -c 'keys')" = "[]" ] || fail "edge still announces something"
ok "an empty desired set withdraws everything from upstream"

# Crash between configure timeout and confirm; BIRD reverts; a restart reconciles.
bt_drv_kill
edge_driver -t 5 -a "$LAB_VALID4"             # reconciles at connect: the confirmed start
lab_wait_route_at_upstream "$LAB_VALID4" "$EDGE_AS" edge
bt_drv_kill
PREFIXD_FAILPOINT=bird_apply_before_confirm edge_driver -t 5 -a "$LAB_VALID4"
bt_drv reconcile                              # no drift: nothing reaches the failpoint
bt_drv_wait 1 'select(.event == "reconcile" and .code == "ok" and (.drift | not))'
bt_drv add "$LAB_VALID6"
bt_drv apply
wait_until 10 "the failpoint" grep -q 'failpoint bird_apply_before_confirm hit' "$BT/drv.err"
lab_wait_route_at_upstream "$LAB_VALID6" "$EDGE_AS" edge
bt_drv_kill
lab_wait_no_route_at_upstream "$LAB_VALID6" edge 15
ok "killed before confirm: BIRD reverted at the timeout and upstream lost the unconfirmed prefix"
edge_driver -t 5 -a "$LAB_VALID4" -a "$LAB_VALID6"
lab_wait_route_at_upstream "$LAB_VALID4" "$EDGE_AS" edge
lab_wait_route_at_upstream "$LAB_VALID6" "$EDGE_AS" edge
[ "$(lab_peer_routes edge | jq -c 'keys | sort')" = "$want" ] ||
	fail "upstream got from edge: $(lab_peer_routes edge | jq -c keys)"
wait_until 10 "a confirmed config on edge" bash -c "! birdc -s '$EDGE_BIRD_SOCK' configure status | grep -q unconfirmed"
ok "restarted driver reconciled: upstream holds exactly the desired routes"
