#!/usr/bin/env bash
# Drift is repaired (issue 7, must-be-true 4, at the module level): the include file is
# rewritten behind the driver's back and BIRD reconfigured with its own CLI; the reconciler
# (interval 2 s) restores the desired routes, and logs and counts the drift. Also: BIRD
# stopped gives bird-unavailable; when BIRD comes back, the reconnect triggers a reconcile.
# ctest-labels: asan
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/tools/bird_lib.sh"
bt_init
bt_bird_start
interval=2
want=$'198.51.100.0/24\n2001:db8:113::/48'

bt_drv_start -t 30 -r "$interval" -a 198.51.100.0/24 -a 2001:db8:113::/48
bt_drv_wait 1 'select(.event == "bird" and .up)'
wait_until 10 "first reconcile" bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd6 table master6 | grep -c '/')\" = 1 ]"
[ "$(bt_routes)" = "$want" ] || fail "start: $(bt_routes)"
ok "start-up reconcile installed the desired routes"

# Drift: someone rewrites the file and runs configure.
printf '%s\n' 'protocol static prefixd4 {' '	ipv4;' '	route 192.0.2.0/24 blackhole;' '}' \
	'protocol static prefixd6 {' '	ipv6;' '}' > "$BT/bird.include"
bt_birdc configure | grep -q Reconfigured || fail "manual configure failed"
[ "$(bt_routes)" = "192.0.2.0/24" ] || fail "drift not in place: $(bt_routes)"
t0=$(now_ms)
wait_until $((interval * 2 + 3)) "drift repaired" bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd4 table master4 | grep -c '198.51.100.0/24')\" = 1 ]"
wait_until 5 "all desired routes" bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd6 table master6 | grep -c '/')\" = 1 ]"
[ "$(bt_routes)" = "$want" ] || fail "after repair: $(bt_routes)"
grep -q 'reconcile: drift: BIRD differs from the desired state: +198.51.100.0/24 +2001:db8:113::/48 -192.0.2.0/24' "$BT/drv.err" ||
	fail "drift not logged"
bt_drv stats
bt_drv_wait 1 'select(.event == "stats")'
st=$(bt_drv_last 'select(.event == "stats")')
[ "$(jq -r .drift <<<"$st")" -ge 1 ] && [ "$(jq -r .repaired <<<"$st")" -ge 1 ] || fail "stats: $st"
ok "drift repaired in $(( $(now_ms) - t0 )) ms, logged and counted"

# On-demand reconcile with no drift.
bt_drv reconcile
bt_drv_wait 1 'select(.event == "reconcile")'
res=$(bt_drv_last 'select(.event == "reconcile")')
[ "$(jq -r '.code + " " + (.drift|tostring)' <<<"$res")" = "ok false" ] || fail "reconcile: $res"
ok "on-demand reconcile reports no drift"

# BIRD stopped: bird-unavailable.
bt_bird_stop
bt_drv_wait 1 'select(.event == "bird" and (.up | not))'
bt_drv add 203.0.113.0/24
bt_drv apply
bt_drv_wait 1 'select(.event == "apply")'
res=$(bt_drv_last 'select(.event == "apply")')
[ "$(jq -r .code <<<"$res")" = bird-unavailable ] || fail "apply without BIRD: $res"
bt_drv reconcile
bt_drv_wait 2 'select(.event == "reconcile")'
[ "$(bt_drv_last 'select(.event == "reconcile")' | jq -r .code)" = bird-unavailable ] ||
	fail "reconcile without BIRD"
ok "BIRD stopped gives bird-unavailable"

# BIRD back with an empty include: the reconnect reconciles.
printf '%s\n' 'protocol static prefixd4 {' '	ipv4;' '}' 'protocol static prefixd6 {' '	ipv6;' '}' \
	> "$BT/bird.include"
bt_bird_start
bt_drv_wait 2 'select(.event == "bird" and .up)'
wait_until 10 "reconcile after reconnect" bash -c "[ \"\$(birdc -s '$BT/bird.ctl' show route protocol prefixd4 table master4 | grep -c '/')\" = 2 ]"
[ "$(bt_routes)" = $'198.51.100.0/24\n2001:db8:113::/48\n203.0.113.0/24' ] || fail "after reconnect: $(bt_routes)"
ok "reconnect to a restarted BIRD reconciles the desired routes"
