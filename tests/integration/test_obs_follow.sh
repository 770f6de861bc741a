#!/usr/bin/env bash
# ctest-labels: asan
# Streaming (issue 9, must-be-true 4): `prefixctl events --follow` shows the alarm-raised
# alert within 1 s of the allocation that makes a pool cross alarm_at (measured from the
# allocation's answer to the line's arrival, printed), once per crossing: a further
# allocation above the threshold raises nothing, a release below it shows alarm-cleared, the
# next crossing alarm-raised again. Ordinary changes stream too, and a follower sees them in
# id order without gaps. Hostile feed parameters get 400. A follower of a stopped daemon exits 3.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_start
pd_ctl pool create top --scope private-default --alarm-at 75 >/dev/null
pd_ctl pool provision top 10.50.0.0/24 >/dev/null

FOLLOW=$PD_DIR/follow.jsonl
pd_ctl --json events --follow > "$FOLLOW" 2> "$PD_DIR/follow.err" &
FPID=$!
trap 'kill $FPID 2>/dev/null || true; pd_cleanup' EXIT
has() { jq -e -s "$1" "$FOLLOW" >/dev/null 2>&1; }
pd_wait_for has 'any(.[]; .action == "provision")' || pd_fail "follower printed no history: $(cat "$PD_DIR/follow.err")"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
alarm_count() { jq -s "[.[] | select(.action == \"$1\" and .after.pool == \"top\")] | length" "$FOLLOW"; }
alloc_count() { jq -s '[.[] | select(.action == "allocate" or .action == "release")] | length' "$FOLLOW"; }
# crossing ACTION CMD...: runs CMD, then times how long until the follower printed one more
# ACTION (from the moment CMD's answer came back), prints it and fails above 1000 ms.
crossing() {
	local action=$1 before t0 t1
	shift
	before=$(alarm_count "$action")
	"$@" >/dev/null
	t0=$(now_ms)
	until [ "$(alarm_count "$action")" -gt "$before" ]; do
		[ $(( $(now_ms) - t0 )) -lt 5000 ] || pd_fail "no $action within 5 s"
		sleep 0.01
	done
	t1=$(now_ms)
	echo "measured: $action shown by events --follow $((t1 - t0)) ms after the change was answered"
	[ $((t1 - t0)) -le 1000 ] || pd_fail "$action took $((t1 - t0)) ms (> 1000)"
}
# quiet CMD...: runs CMD (a change), waits until the follower printed it; no alarm may change.
quiet() {
	local n r c
	n=$(alloc_count); r=$(alarm_count alarm-raised); c=$(alarm_count alarm-cleared)
	"$@" >/dev/null
	pd_wait_for test_more "$n" || pd_fail "change not streamed: $*"
	[ "$(alarm_count alarm-raised)" = "$r" ] && [ "$(alarm_count alarm-cleared)" = "$c" ] ||
		pd_fail "alarm changed on: $*"
}
test_more() { [ "$(alloc_count)" -gt "$1" ]; }

quiet pd_ctl allocate top --netmask 26                       # 25 %
quiet pd_ctl allocate top --netmask 26                       # 50 %
third=$(pd_ctl --json allocate top --netmask 26 --preview | jq -r .cidr)
[ "$third" = 10.50.0.128/26 ] || pd_fail "preview: $third"
crossing alarm-raised pd_ctl allocate top --cidr 10.50.0.128/26     # 75 %: reaches alarm_at 75
jq -e -s '[.[] | select(.action == "alarm-raised")][0] | .actor == "prefixd" and .role == "system"
	and .after.alarm_at == 75 and .after.utilization_percent == 75' "$FOLLOW" >/dev/null ||
	pd_fail "alarm event lacks its figures: $(grep alarm-raised "$FOLLOW")"
pd_ok "alarm-raised streamed within 1 s of the crossing, with actor prefixd/system and the figures"

small=$(pd_ctl --json allocate top --netmask 27 | jq -r .id)     # 87.5 %: still above
pd_wait_for test_more 3 || pd_fail "4th allocation not streamed"
[ "$(alarm_count alarm-raised)" = 1 ] || pd_fail "alarm raised twice in one crossing"
quiet pd_ctl release "$small"                                 # 75 %: still at alarm_at
id3=$(pd_ctl --json allocation list --pool top | jq -r '.allocations[] | select(.cidr == "10.50.0.128/26") | .id')
crossing alarm-cleared pd_ctl release "$id3"                  # 50 %: below
crossing alarm-raised pd_ctl allocate top --netmask 26        # 75 % again: a new crossing
[ "$(alarm_count alarm-raised)" = 2 ] && [ "$(alarm_count alarm-cleared)" = 1 ] || pd_fail "want 2 raised, 1 cleared"
pd_ok "once per crossing: no alert while above, alarm-cleared below, alarm-raised again on the next crossing"

jq -e -s '[.[].id] as $i | $i == [range($i[0]; $i[0] + ($i | length))]' "$FOLLOW" >/dev/null ||
	pd_fail "follower saw ids out of order or with gaps: $(jq -s -c '[.[].id]' "$FOLLOW")"
pd_ok "the follower saw every event once, in id order ($(wc -l < "$FOLLOW") events)"

# Hostile feed parameters are refused with 400 invalid-argument; nothing is held open.
for q in after=-1 after=abc after=1x after=99999999999999999999999 limit=0 limit=1001 wait=61 wait=-1 "wait=1%00"; do
	pd_expect 400 invalid-argument GET "/v1/events?$q" >/dev/null
done
for args in "--limit 0" "--after x" "--follow extra"; do
	rc=0; pd_ctl events $args >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || pd_fail "events $args: exit $rc, want 2"
done
t0=$(now_ms)
[ "$(pd_curl GET "/v1/events?after=1000000&wait=1" | jq '.events | length')" = 0 ] || pd_fail "empty long poll not empty"
[ $(( $(now_ms) - t0 )) -ge 900 ] || pd_fail "a long poll with nothing new did not wait"
pd_ok "bad after/limit/wait get 400 invalid-argument, bad CLI values exit 2, an idle long poll answers empty after wait"

pd_stop
rc=0
wait "$FPID" || rc=$?
[ "$rc" = 3 ] || pd_fail "follower exit $rc after the daemon stopped, want 3"
pd_ok "the follower exits 3 when the daemon goes away"
