#!/usr/bin/env bash
# prefixd owns its include file whole (issue 18, build item 1), at the module level against a
# real BIRD (bird_driver: birdc + bird_apply + reconcile, reconcile_interval 2 s):
#   1. BIRD started with an EMPTY include (no prefixd4/prefixd6): the start-up run writes the
#      rendered file (byte for byte, mode 0644) and applies it; BIRD holds the desired routes;
#      the drift is logged and counted.
#   2. a foreign include (BIRD reloaded with it; same routes plus a foreign protocol): rewritten
#      and applied within the interval; the foreign protocol is gone from BIRD.
#   3. the include removed: written again within the interval, BIRD's routes untouched.
#   4. a broken main config (`configure check` fails) with an empty include: the repair is
#      refused (bird-config-invalid, counted), the file is left exactly as it was (empty) and
#      BIRD keeps its routes; once the main config is fixed, the next run repairs the file.
#   5. BIRD stopped and the include removed: prefixd writes it while BIRD is down (BIRD cannot
#      start without it), so BIRD starts again with the desired routes.
# ctest-labels: asan
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/tools/bird_lib.sh"
bt_init
interval=2
want=$'198.51.100.0/24\n2001:db8:113::/48'
printf '%s\n' \
	'# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.' \
	'protocol static prefixd4 {' '	ipv4;' '	route 198.51.100.0/24 blackhole;' '}' \
	'protocol static prefixd6 {' '	ipv6;' '	route 2001:db8:113::/48 blackhole;' '}' \
	> "$BT/rendered"

file_is_rendered() { cmp -s "$BT/rendered" "$BT/bird.include"; }
stats() {
	local n
	n=$(bt_drv_count 'select(.event == "stats")')
	bt_drv stats
	bt_drv_wait $((n + 1)) 'select(.event == "stats")'
	bt_drv_last 'select(.event == "stats")'
}

# 1. empty include when BIRD starts
: > "$BT/bird.include"
bt_bird_start
bt_birdc show protocols prefixd4 | grep -q 'prefixd4' && fail "BIRD has prefixd4 with an empty include"
bt_drv_start -t 30 -r "$interval" -a 198.51.100.0/24 -a 2001:db8:113::/48
bt_drv_wait 1 'select(.event == "bird" and .up)'
wait_until 10 "the start-up run to write and apply the include" eval '[ "$(bt_routes)" = "$want" ]'
file_is_rendered || fail "include is not what prefixd renders: $(cat "$BT/bird.include")"
[ "$(stat -c %a "$BT/bird.include")" = 644 ] || fail "include mode $(stat -c %a "$BT/bird.include")"
[ "$(bt_birdc configure status | grep -c unconfirmed)" = 0 ] || fail "config left unconfirmed"
st=$(stats)
[ "$(jq -r .drift <<<"$st")" -ge 1 ] || fail "start-up drift not counted: $st"
jq -e '.last_drift | test("no protocol prefixd4.*include file .* is empty")' <<<"$st" >/dev/null ||
	fail "start-up drift reason: $st"
grep -q 'reconcile: drift: BIRD has no protocol prefixd4' "$BT/drv.err" || fail "start-up drift not logged"
ok "empty include at BIRD's start: written (mode 0644) and applied at start, drift counted"

# check_repaired WHAT: waits for the file to be prefixd's again and BIRD to hold exactly $want.
check_repaired() {
	local t0=$1 what=$2 ms
	wait_until $((interval * 2 + 3)) "the include to be rewritten ($what)" file_is_rendered
	wait_until 5 "BIRD to hold the desired routes ($what)" eval '[ "$(bt_routes)" = "$want" ]'
	ms=$(( $(now_ms) - t0 ))
	[ "$(bt_birdc configure status | grep -c unconfirmed)" = 0 ] || fail "config left unconfirmed"
	ok "$what: repaired in $ms ms (reconcile_interval ${interval}s)"
}

# 2. foreign include, BIRD reloaded with it
drift0=$(jq -r .drift <<<"$(stats)")
printf '%s\n' '# managed by config management' \
	'protocol static prefixd4 {' '	ipv4;' '	route 198.51.100.0/24 blackhole;' '}' \
	'protocol static prefixd6 {' '	ipv6;' '	route 2001:db8:113::/48 blackhole;' '}' \
	'protocol static foreign4 {' '	ipv4;' '	route 192.0.2.0/24 blackhole;' '}' \
	> "$BT/bird.include"
bt_birdc configure | grep -q Reconfigured || fail "manual configure failed"
bt_birdc show protocols foreign4 | grep -q foreign4 || fail "foreign protocol not in place"
check_repaired "$(now_ms)" "foreign include"
wait_until 5 "the foreign protocol to leave BIRD" eval '! bt_birdc show protocols foreign4 | grep -q foreign4'
st=$(stats)
[ "$(jq -r .drift <<<"$st")" -gt "$drift0" ] || fail "foreign include not counted as drift: $st"
grep -q "reconcile: drift: BIRD's routes match; include file $BT/bird.include differs from what prefixd renders" \
	"$BT/drv.err" || fail "foreign include drift not logged"
ok "foreign include: logged and counted as drift; the foreign protocol is gone"

# 3. include removed
rm -f "$BT/bird.include"
check_repaired "$(now_ms)" "missing include"
grep -q "include file $BT/bird.include is missing" "$BT/drv.err" || fail "missing include not logged"

# 4. broken main config: refused, file untouched
echo 'this is not bird syntax;' > "$BT/extra.conf"
: > "$BT/bird.include"
n=$(bt_drv_count 'select(.event == "reconcile")')
bt_drv reconcile
bt_drv_wait $((n + 1)) 'select(.event == "reconcile")'
res=$(bt_drv_last 'select(.event == "reconcile")')
[ "$(jq -r '.code + " " + (.drift|tostring)' <<<"$res")" = "bird-config-invalid true" ] ||
	fail "broken main config: $res"
[ -f "$BT/bird.include" ] && [ ! -s "$BT/bird.include" ] || fail "include was changed: $(cat "$BT/bird.include")"
[ "$(bt_routes)" = "$want" ] || fail "BIRD lost its routes: $(bt_routes)"
[ "$(bt_birdc configure status | grep -c unconfirmed)" = 0 ] || fail "config left unconfirmed"
st=$(stats)
[ "$(jq -r .config_invalid <<<"$st")" -ge 1 ] && [ "$(jq -r .last_code <<<"$st")" = bird-config-invalid ] ||
	fail "refusal not counted: $st"
ok "broken main config: repair refused (bird-config-invalid, counted), include left empty, BIRD untouched"
: > "$BT/extra.conf"
check_repaired "$(now_ms)" "main config fixed"

# 5. BIRD down, include removed: written without BIRD, so BIRD can start
bt_bird_stop
bt_drv_wait 1 'select(.event == "bird" and (.up | not))'
rm -f "$BT/bird.include"
wait_until $((interval * 2 + 3)) "the missing include to be written while BIRD is down" file_is_rendered
bt_bird_start
wait_until 10 "BIRD to start with the desired routes" eval '[ "$(bt_routes)" = "$want" ]'
grep -q 'reconcile: drift: include file is missing while BIRD is not connected' "$BT/drv.err" ||
	fail "offline write not logged"
ok "BIRD down and include removed: written from the desired state; BIRD starts with the routes"
