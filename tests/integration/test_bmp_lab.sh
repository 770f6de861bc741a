#!/usr/bin/env bash
# The BMP station in the lab (issue 19, must-be-true 1-3): the upstream's gobgpd sends BMP
# (pre-policy, post-policy, Loc-RIB) to prefixd in edge's namespace ([bmp] listen =
# 10.0.1.1:11019, allow = 10.0.1.2, require_visibility = 1).
#   1. advertise 203.0.113.0/24 answers advertised only once the upstream vantage holds it
#      (visibility shows it at once after the answer: origin 64500, AS path "64500"); the
#      history has the time to visibility; after withdraw the vantage no longer holds it and
#      the time is recorded too;
#   2. hijack: onprem (AS 64496) announces 203.0.113.0/25, then 203.0.113.0/24: an alert naming
#      the prefix, origin 64496 and the vantage arrives within 5 s; it clears when onprem stops;
#      `prefixctl events --follow` shows both;
#   3. with the BMP session gone, advertise answers not-visible after visibility_timeout and
#      the route stays announced (the upstream holds it).
# Needs root (namespaces); fails, never skips, without it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
[ "$(id -u)" = 0 ] || fail "test_bmp_lab needs root (namespaces)"
VIS_TIMEOUT=6
LC_EXTRA_CONF=$(printf '[policy]\nmin_change_interval = 0\nmax_withdraw_percent = 100\n[bmp]\nlisten = 10.0.1.1:11019\nallow = 10.0.1.2\nrequire_visibility = 1\nvisibility_timeout = %s' "$VIS_TIMEOUT")
pd_setup
lab_start "bmpw$$"
P=$LAB_PREFIX4
lc_pd_start
wait_until 30 "prefixd's RTR data to be fresh" lc_rpki_fresh
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up

routers_up() { [ "$(lc_json status | jq -r '.bmp.routers_up')" = "$1" ]; }
# gobgpd backs off up to 30 s while nothing listens: re-adding the server connects at once.
if ! poll_until 3 routers_up 1; then
	lab_gobgp bmp del 10.0.1.1:11019 >/dev/null 2>&1 || true
	lab_gobgp bmp add 10.0.1.1:11019 all >/dev/null || fail "gobgp bmp add"
fi
wait_until 40 "the upstream's BMP session" routers_up 1
ok "the upstream's gobgpd feeds prefixd's BMP station"

lc_after_handover
"$LAB_DIR/hijack" --cutover >/dev/null || fail "lab/hijack --cutover"
lc_provision_ok "$P"
FOLLOW=$PD_DIR/follow.jsonl
lc_json events --follow > "$FOLLOW" 2>/dev/null &
FOLLOW_PID=$!
on_exit 'kill $FOLLOW_PID 2>/dev/null || true'

# ---- 1. advertise: answered once visible; times in the history ----------------------------
vis() { lc_json visibility "$P"; }
# held ROUTER ORIGIN PATH: a route for exactly $P from the vantage router with that origin/path
held() {
	vis | jq -e --arg p "$P" --arg r "$1" --argjson o "$2" --arg a "$3" '[.routes[]
		| select(.prefix == $p and .vantage.router == $r and .origin_asn == $o
		    and .as_path == $a and .verdict == "ok")] | length > 0' >/dev/null
}
out=$(lc_json advertise "$P" 2>&1) || fail "advertise refused: $out"
[ "$(jq -r '.prefixes[0].state' <<<"$out")" = advertised ] || fail "advertise answered: $out"
held 10.0.1.2 "$EDGE_AS" "$EDGE_AS" ||
	fail "advertise answered before the vantage held the route: $(vis)"
[ "$(vis | jq -r .vantages_holding)" -ge 1 ] || fail "vantages_holding: $(vis)"
lc_ctl visibility "$P" | grep -E "10\.0\.1\.2 .* $EDGE_AS +$EDGE_AS .* ok" >/dev/null ||
	fail "the table does not show the vantage: $(lc_ctl visibility "$P")"
lc_metric 'prefixd_visibility_vantages' >/dev/null || fail "no prefixd_visibility_vantages"
ok "advertise answered advertised once the upstream vantage held $P from AS$EDGE_AS, path \"$EDGE_AS\""

adv_time() { lc_show "$P" | jq -e '.evidence.visibility_advertise.first_s | numbers' ; }
wait_until 20 "the time to visibility in the evidence" adv_time
hist_has() { lc_json history "$P" | jq -e --arg a "$1" '[.. | objects | select(.action? == "visibility")
	| .evidence | select(.after == $a and (.first_s | numbers))] | length > 0' >/dev/null; }
wait_until 10 "a visibility event in the history" hist_has advertise
ok "the history holds the time to the first vantage: $(adv_time)s"

# ---- 2. hijack: more-specific, then exact, from AS 64496 ----------------------------------
# alert_event ACTION PREFIX: an event ACTION (alert-raised / alert-cleared) of kind hijack for
# PREFIX from origin 64496 at the upstream vantage.
alert_event() {
	lc_json events --limit 1000 --after "$SINCE" | jq -e --arg a "$1" --arg p "$2" \
	    --argjson o "$ONPREM_AS" '[.events[] | select(.action == $a and .after.alert == "hijack"
	    and .after.prefix == $p and .after.asn == $o and .after.vantage.router == "10.0.1.2")]
	    | length > 0' >/dev/null
}
last_id() { lc_json events --limit 1 | jq -r '.events[-1].id // 0'; }
hijack_case() {
	local prefix=$1 t0 ms
	# lab/hijack's configure may re-announce onprem's own prefix for a moment: start quiet
	wait_until 10 "no standing alert" eval '[ "$(vis | jq ".alerts | length")" = 0 ]'
	SINCE=$(last_id)
	t0=$(now_ms)
	"$LAB_DIR/hijack" "$prefix" >/dev/null || fail "lab/hijack $prefix"
	wait_until 5 "the hijack alert for $prefix" alert_event alert-raised "$prefix"
	ms=$(( $(now_ms) - t0 ))
	vis | jq -e --arg p "$prefix" '[.alerts[] | select(.alert == "hijack" and .prefix == $p)]
	    | length == 1' >/dev/null || fail "visibility does not list the alert: $(vis)"
	ok "onprem announces $prefix: hijack alert (origin $ONPREM_AS, vantage 10.0.1.2) after ${ms} ms"
	"$LAB_DIR/hijack" --stop >/dev/null || fail "lab/hijack --stop"
	wait_until 10 "the hijack alert for $prefix to clear" alert_event alert-cleared "$prefix"
	ok "onprem stops: the alert for $prefix cleared"
}
hijack_case 203.0.113.0/25
hijack_case "$P"
follow_has() { jq -se --arg a "$1" '[.[] | select(.action == $a and .after.alert? == "hijack")]
	| length > 0' "$FOLLOW" >/dev/null; }
wait_until 10 "events --follow to show the raised alert" follow_has alert-raised
wait_until 10 "events --follow to show the cleared alert" follow_has alert-cleared
ok "prefixctl events --follow showed alert-raised and alert-cleared"

# ---- 1 (end). withdraw: the vantage lets go; the time is recorded -------------------------
lc_withdraw_ok "$P"
not_held() { ! held 10.0.1.2 "$EDGE_AS" "$EDGE_AS"; }
wait_until 15 "the vantage to let go of $P" not_held
wd_time() { lc_show "$P" | jq -e '.evidence.visibility_withdraw.all_s | numbers'; }
wait_until 20 "the time to withdrawal in the evidence" wd_time
wait_until 10 "a visibility event (withdraw) in the history" hist_has withdraw
ok "after withdraw the vantage no longer holds $P; the history has the time: $(wd_time)s"

# ---- 3. BMP gone: not-visible after the timeout, the route stays announced ----------------
lab_gobgp bmp del 10.0.1.1:11019 >/dev/null || fail "gobgp bmp del"
wait_until 15 "the BMP session to close" routers_up 0
t0=$(now_ms)
rc=0
out=$(lc_json advertise "$P" 2>/dev/null) || rc=$?
ms=$(( $(now_ms) - t0 ))
[ "$rc" = 1 ] || fail "advertise without BMP: want exit 1 (not-visible), got $rc: $out"
[ "$(jq -r .error.code <<<"$out")" = not-visible ] || fail "want not-visible: $out"
[ "$(jq -r '.prefixes[0].state' <<<"$out")" = advertised ] || fail "state in the answer: $out"
[ "$ms" -ge $(( VIS_TIMEOUT * 1000 - 500 )) ] || fail "not-visible after only $ms ms"
[ "$(lc_state "$P")" = advertised ] || fail "state: $(lc_state "$P")"
lab_wait_route_at_upstream "$P" "$EDGE_AS" edge
ok "without BMP: advertise answered not-visible after $ms ms; $P stays advertised and announced"
