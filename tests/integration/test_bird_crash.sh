#!/usr/bin/env bash
# Commit-confirm survives a crash (issue 7, must-be-true 3, at the module level).
# The driver stops at the failpoint bird_apply_before_confirm (after `configure timeout` and the
# read-back, before `configure confirm`) and is SIGKILLed there. BIRD holds the unconfirmed
# change, then reverts by itself at the timeout. A restarted driver reconciles to the desired
# routes. A second crash, restarted before the timeout, is undone at once by the recovery step.
# ctest-labels: asan
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/tools/bird_lib.sh"
need_failpoints
bt_init
bt_bird_start
timeout=4

# A confirmed starting point: one route.
bt_drv_start -t "$timeout" -r -1 -a 198.51.100.0/24
bt_drv_wait 1 'select(.event == "bird" and .up)'
bt_drv apply
bt_drv_wait 1 'select(.event == "apply" and .code == "ok")'
bt_drv_kill
[ "$(bt_routes)" = "198.51.100.0/24" ] || fail "start: $(bt_routes)"

# Crash between configure timeout and configure confirm.
PREFIXD_FAILPOINT=bird_apply_before_confirm bt_drv_start -t "$timeout" -r -1 -a 198.51.100.0/24
bt_drv_wait 1 'select(.event == "bird" and .up)'
bt_drv add 203.0.113.0/24
bt_drv apply
wait_until 10 "the failpoint" grep -q 'failpoint bird_apply_before_confirm hit' "$BT/drv.err"
[ "$(bt_routes)" = $'198.51.100.0/24\n203.0.113.0/24' ] || fail "unconfirmed: $(bt_routes)"
bt_birdc configure status | grep -q 'unconfirmed' || fail "BIRD does not hold an unconfirmed config"
bt_drv_kill
ok "killed at the failpoint with BIRD holding the unconfirmed change"

t0=$(now_ms)
wait_until $((timeout + 5)) "BIRD reverting on its own" \
	bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd4 table master4 | grep -c '/')\" = 1 ]"
[ "$(bt_routes)" = "198.51.100.0/24" ] || fail "after revert: $(bt_routes)"
ok "BIRD reverted by itself after $(( $(now_ms) - t0 )) ms (timeout ${timeout}s)"

# The restarted driver (desired = both routes) reconciles on connect.
bt_drv_start -t "$timeout" -r -1 -a 198.51.100.0/24 -a 203.0.113.0/24
bt_drv_wait 1 'select(.event == "bird" and .up)'
wait_until 10 "reconciled routes" \
	bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd4 table master4 | grep -c '/')\" = 2 ]"
[ "$(bt_routes)" = $'198.51.100.0/24\n203.0.113.0/24' ] || fail "after reconcile: $(bt_routes)"
wait_until 10 "confirmed config" bash -c "! birdc -s '$BT/bird.ctl' configure status | grep -q unconfirmed"
bt_drv stats
bt_drv_wait 1 'select(.event == "stats")'
[ "$(bt_drv_last 'select(.event == "stats")' | jq -r .drift)" -ge 1 ] || fail "drift not counted"
bt_drv_kill
ok "restarted driver reconciled to the desired routes and confirmed"

# Crash again, restart before BIRD's timeout: the leftover unconfirmed config is undone first.
PREFIXD_FAILPOINT=bird_apply_before_confirm bt_drv_start -t 30 -r -1 \
	-a 198.51.100.0/24 -a 203.0.113.0/24
bt_drv_wait 1 'select(.event == "bird" and .up)'
bt_drv add 192.0.2.0/24
bt_drv apply
wait_until 10 "the failpoint" bash -c "[ \$(grep -c 'failpoint bird_apply_before_confirm hit' '$BT/drv.err') -ge 2 ]"
bt_drv_kill
bt_drv_start -t 30 -r -1 -a 198.51.100.0/24 -a 203.0.113.0/24
bt_drv_wait 1 'select(.event == "bird" and .up)'
wait_until 10 "recovery and reconcile" \
	bash -c "! birdc -s '$BT/bird.ctl' configure status | grep -q unconfirmed && [ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd4 table master4 | grep -c '/')\" = 2 ]"
bt_drv stats
bt_drv_wait 1 'select(.event == "stats")'
[ "$(bt_drv_last 'select(.event == "stats")' | jq -r .recovered)" = 1 ] || fail "no recovery undo"
[ "$(bt_routes)" = $'198.51.100.0/24\n203.0.113.0/24' ] || fail "after recovery: $(bt_routes)"
ok "a restart before the timeout undoes the leftover unconfirmed config at once"
