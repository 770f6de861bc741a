#!/usr/bin/env bash
# bird_apply against a real BIRD 2: a transaction adds, drains and removes routes and BIRD's
# read-back matches; a dry run reports the diff and changes nothing; a `configure check` failure
# gives bird-config-invalid and restores the include file; 100 quick requests are coalesced
# into a few transactions; an unchanged desired set touches nothing.
# ctest-labels: asan
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/tools/bird_lib.sh"
bt_init
bt_bird_start
bt_drv_start -t 30 -r -1
bt_drv_wait 1 'select(.event == "bird" and .up)'

# 1. add v4 + v6 + a drained route
bt_drv add 203.0.113.0/24
bt_drv add 2001:db8:113::/48
bt_drv drain 198.51.100.0/24
bt_drv apply
bt_drv_wait 1 'select(.event == "apply")'
res=$(bt_drv_last 'select(.event == "apply")')
[ "$(jq -r .code <<<"$res")" = ok ] || fail "apply: $res"
want=$'198.51.100.0/24 drain\n2001:db8:113::/48\n203.0.113.0/24'
[ "$(bt_routes)" = "$want" ] || fail "routes after apply: $(bt_routes)"
[ "$(bt_birdc configure status | grep -c unconfirmed)" = 0 ] || fail "config left unconfirmed"
grep -q 'route 198.51.100.0/24 blackhole { bgp_community.add((65535,0)); };' "$BT/bird.include" ||
	fail "include lacks the drain route"
ok "apply adds routes (drain community included) and confirms"

# 2. dry run: the diff, and nothing changes
bt_drv del 203.0.113.0/24
bt_drv add 192.0.2.0/24
before=$(md5sum < "$BT/bird.include")
bt_drv dry
bt_drv_wait 1 'select(.event == "dry")'
res=$(bt_drv_last 'select(.event == "dry")')
[ "$(jq -r .diff <<<"$res")" = "+192.0.2.0/24 -203.0.113.0/24" ] || fail "dry diff: $res"
[ "$(bt_routes)" = "$want" ] || fail "dry run changed BIRD"
[ "$(md5sum < "$BT/bird.include")" = "$before" ] || fail "dry run changed the include file"
ok "dry run reports the route diff and changes nothing"

# 3. apply the removal
bt_drv apply
bt_drv_wait 2 'select(.event == "apply")'
res=$(bt_drv_last 'select(.event == "apply")')
[ "$(jq -r .code <<<"$res")" = ok ] || fail "second apply: $res"
[ "$(jq -r .diff <<<"$res")" = "+192.0.2.0/24 -203.0.113.0/24" ] || fail "diff: $res"
want=$'192.0.2.0/24\n198.51.100.0/24 drain\n2001:db8:113::/48'
[ "$(bt_routes)" = "$want" ] || fail "routes after removal: $(bt_routes)"
ok "apply removes a route"

# 4. same desired set again: a no-op that sends no configure
bt_drv apply
bt_drv_wait 3 'select(.event == "apply")'
res=$(bt_drv_last 'select(.event == "apply")')
[ "$(jq -r '.code + " " + (.noop|tostring)' <<<"$res")" = "ok true" ] || fail "no-op: $res"
ok "an unchanged desired set changes nothing in BIRD"

# 5. configure check fails (operator's broken file): bird-config-invalid, include restored
before=$(md5sum < "$BT/bird.include")
echo 'this is not bird syntax;' > "$BT/extra.conf"
bt_drv add 10.10.0.0/16
bt_drv apply
bt_drv_wait 4 'select(.event == "apply")'
res=$(bt_drv_last 'select(.event == "apply")')
[ "$(jq -r .code <<<"$res")" = bird-config-invalid ] || fail "broken config: $res"
jq -r .message <<<"$res" | grep -q 'extra.conf:1' || fail "message lacks BIRD's location: $res"
[ "$(md5sum < "$BT/bird.include")" = "$before" ] || fail "include file not restored"
[ "$(bt_routes)" = "$want" ] || fail "BIRD changed after a failed check"
: > "$BT/extra.conf"
ok "configure check failure gives bird-config-invalid and restores the include file"

# 6. 100 requests in one go are coalesced
bt_drv burst 100 10.20.0.0
bt_drv_wait 1 'select(.event == "burst")'
res=$(bt_drv_last 'select(.event == "burst")')
[ "$(jq -r .code <<<"$res")" = ok ] || fail "burst: $res"
[ "$(jq -r .transactions <<<"$res")" -le 3 ] || fail "not coalesced: $res"
[ "$(bt_routes | grep -c '^10\.20\.0\.')" = 100 ] || fail "burst routes missing"
ok "100 requests coalesced into $(jq -r .transactions <<<"$res") transaction(s)"
