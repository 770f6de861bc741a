#!/usr/bin/env bash
# Fencing (issue 17, must-be-true 3): two prefixd instances for site edge1, both beside edge's
# BIRD, on the lab's PostgreSQL (lab/up --sites), reconcile_interval 1 s so that a stale writer
# would act at once. SIGSTOP the holder (A); the standby (B) takes the lease and advertises the
# prefix (A's memory still says withdrawn). SIGCONT A: it finds the lease lost and stays a
# standby; for the next 5 s BIRD's log shows no configuration from anyone (A wrote nothing
# after it lost the lease, and B had nothing to change), and the route set equals the desired
# state: upstream keeps the route from edge, `prefix show` says advertised at edge1. Then B
# stops cleanly: A takes over, reads the site's state again (the document and its memory are
# stale) and keeps the route announced.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/sites.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0\n[bird]\nreconcile_interval = 1'

sites_start "s2fence$$"         # A: edge1's prefixd, fresh RTR data, BIRD connected
A_PID=$PD_PID A_SOCK=$PD_SOCK
lc_after_handover
P=$LAB_PREFIX4
lc_provision_ok "$P"

B_SOCK=$PD_DIR/b.sock B_CONF=$PD_DIR/b.conf B_LOG=$PD_DIR/b.log
sed -e "s|^socket = $PD_SOCK\$|socket = $B_SOCK|" -e "s|^state_dir = .*|state_dir = $PD_DIR/b-state|" \
	"$PD_CONF" > "$B_CONF"
grep -qx "socket = $B_SOCK" "$B_CONF" || fail "B's config: $(cat "$B_CONF")"
ip netns exec "$NS_EDGE" "$PD_BIN" -c "$B_CONF" >>"$B_LOG" 2>&1 &
B_PID=$!
b_cleanup() {
	local rc=$?
	kill -CONT "$A_PID" 2>/dev/null || true
	[ -z "$B_PID" ] || { kill -TERM "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null; } || true
	[ "$rc" = 0 ] || { echo "--- B (last lines)" >&2; tail -n 30 "$B_LOG" >&2 || true; }
	return "$rc"
}
on_exit b_cleanup
status() { curl -sf --max-time 2 --unix-socket "$1" http://prefixd/v1/status; }
role_is() { [ "$(status "$1" | jq -r .site.role)" = "$2" ]; }
wait_until 30 "B: a standby of edge1" role_is "$B_SOCK" standby
role_is "$A_SOCK" writer || fail "A is not the writer: $(status "$A_SOCK" | jq -c .site)"

paths() { lc_upstream_paths "$P" | awk '{ print $1, $2 }' | sort | xargs; }
paths_are() { [ "$(paths)" = "$1" ]; }
E1="$EDGE_UP_ADDR4 $EDGE_AS"

kill -STOP "$A_PID"
wait_until 10 "B to take the lease" role_is "$B_SOCK" writer
b_bird_up() { curl -sf --max-time 2 --unix-socket "$B_SOCK" http://prefixd/v1/bird/status | jq -e .up >/dev/null; }
wait_until 10 "B: BIRD connected" b_bird_up
out=$(LC_SOCK=$B_SOCK lc_json advertise "$P") || fail "advertise through B: $out"
poll_until 15 paths_are "$E1" || fail "upstream after B's advertise: [$(paths)]"
ok "A stopped: B took edge1's lease and advertised $P (upstream: $(paths))"

mark=$(wc -l < "$LAB_RUN/edge/bird.log")
kill -CONT "$A_PID"
wait_until 10 "A to find the lease lost" role_is "$A_SOCK" standby
! poll_until 5 eval '! paths_are "$E1"' || fail "the route set changed after A resumed: [$(paths)]"
after=$(tail -n +"$((mark + 1))" "$LAB_RUN/edge/bird.log")
! grep -qi 'reconfigur' <<<"$after" || fail "BIRD was configured after A resumed: $after"
[ "$(LC_SOCK=$B_SOCK lc_json prefix show "$P" | jq -c '[.sites[] | [.site, .state]]')" = '[["edge1","advertised"]]' ] ||
	fail "prefix show: $(LC_SOCK=$B_SOCK lc_json prefix show "$P" | jq -c .sites)"
ok "A resumed as a standby: BIRD's log shows no configuration for 5 s, upstream keeps $P from edge (the desired state)"

kill -TERM "$B_PID"
wait "$B_PID" || fail "B exited $?"
B_PID=
wait_until 10 "A to take over after B's clean stop" role_is "$A_SOCK" writer
a_reconciled() {
	curl -sf --max-time 2 --unix-socket "$A_SOCK" http://prefixd/v1/bird/status |
		jq -e '.reconcile.last_code == "ok"' >/dev/null
}
wait_until 10 "A's reconcile run as the writer" a_reconciled
! poll_until 3 eval '! paths_are "$E1"' || fail "A withdrew $P after taking over: [$(paths)]"
[ "$(lc_state "$P")" = advertised ] || fail "A's state of $P: $(lc_state "$P")"
ok "B stopped: A took over, read edge1's state again and keeps $P announced"
