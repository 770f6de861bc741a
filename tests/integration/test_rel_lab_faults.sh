#!/usr/bin/env bash
# ctest-labels: reliability lab
# Router and cache faults in the lab (issue 10, item 5), with the real prefixd, edge's BIRD,
# StayRTR, GoBGP upstream and the RDAP server of lab/:
#   a. edge's BIRD SIGKILLed a few ms into an advertise, then restarted;
#   b. edge's BIRD restarted with prefixd's include file missing (BIRD cannot start without
#      it: prefixd writes it while BIRD is down, and BIRD starts with the routes);
#   c. StayRTR stopped and started every 2 s for REL_FLAP_SECONDS (default 60);
#   d. the RDAP server hanging (SIGSTOP): verification answers rdap-unavailable within its
#      timeout instead of hanging prefixd.
# After each one: prefixd is up and answers status, its state converges (no prefix left in a
# pending state; advertised means upstream has it), and upstream ends with exactly the desired
# routes from edge. Throughout, a watcher records every route upstream receives from edge; at
# the end each one must be RPKI-valid for its origin (prefixd's own `rpki validate` against the
# lab's VRPs, which do not change in this test).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
flap=${REL_FLAP_SECONDS:-60}
LC_EXTRA_CONF=$(printf '[bird]\nconfirm_timeout = 5\nreconcile_interval = 2\n[policy]\nmin_change_interval = 0')
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_provision_ok "$LAB_PREFIX6"
lc_advertise_ok "$LAB_PREFIX4"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
ok "start: $LAB_PREFIX4 advertised, $LAB_PREFIX6 provisioned"

# The watcher: every route upstream holds from edge, with its origin, as "PREFIX ORIGIN".
seen=$PD_DIR/seen-upstream
watch_stop=$PD_DIR/watch-stop
(
	while [ ! -e "$watch_stop" ]; do
		lab_peer_routes edge 2>/dev/null | jq -r 'to_entries[] | .key as $p | .value[] |
			([.attrs[] | select(.type == 2) | .as_paths[].asns[]] | last) as $o |
			"\($p) \($o // "none")"' 2>/dev/null || true
		sleep 0.2
	done
) > "$seen" &
watcher=$!
on_exit 'touch "$watch_stop"; wait '"$watcher"' 2>/dev/null || true'

edge_bird_pid() { lab_pidfile_pid edge/bird; }
edge_bird_start() {
	lab_spawn edge/bird edge bird -f -c "$EDGE_BIRD_CONF" -s "$EDGE_BIRD_SOCK"
}
edge_bird_kill() {
	local pid
	pid=$(edge_bird_pid) || fail "edge's BIRD is not running"
	kill -KILL "$pid"
	wait_until 10 "edge's BIRD to die" eval '! lab_pid_alive '"$pid"
}
# converged: no prefix pending, prefixd answers, upstream holds exactly the advertised set.
advertised_set() { lc_json prefix list | jq -r '.prefixes[] | select(.state == "advertised") | .cidr' | sort; }
no_pending() { ! lc_json prefix list | jq -e '.prefixes[] | select(.state | startswith("pending"))' >/dev/null; }
converged() {
	lc_daemon_answers && no_pending && lc_edge_exactly $(advertised_set)
}
expect_converged() {
	pd_alive || fail "prefixd died ($1)"
	wait_until "${2:-60}" "convergence after $1 (advertised: $(advertised_set | tr '\n' ' '))" converged
	ok "$1: prefixd up, nothing pending, upstream holds exactly [$(advertised_set | tr '\n' ' ')]"
}

# a. BIRD killed and restarted during an advertise.
lc_json advertise "$LAB_PREFIX6" > "$PD_DIR/adv6.out" 2>&1 &
adv=$!
# An advertise takes BIRD a few ms (check, timeout, read back, confirm): kill BIRD as soon as it
# holds the unconfirmed configuration, or when the advertise ended first (reported).
pid=$(edge_bird_pid) || fail "edge's BIRD is not running"
unconfirmed() { birdc -s "$EDGE_BIRD_SOCK" configure status 2>/dev/null | grep -q unconfirmed; }
for (( i = 0; i < 2000; i++ )); do unconfirmed && break; kill -0 "$adv" 2>/dev/null || break; done
when=$(unconfirmed && echo "between configure timeout and confirm" || echo "after the advertise ended")
kill -KILL "$pid"
wait_until 10 "edge's BIRD to die" eval '! lab_pid_alive '"$pid"
edge_bird_start
wait "$adv" || true
ok "a. BIRD killed $when of $LAB_PREFIX6; prefixctl said: $(jq -c '.error.code // .prefixes' "$PD_DIR/adv6.out" 2>/dev/null | head -c 200)"
wait_until 30 "prefixd to reconnect to edge's BIRD" lc_bird_up
expect_converged "a. BIRD killed during an advertise"
[ "$(lc_state "$LAB_PREFIX6")" = advertised ] || lc_advertise_ok "$LAB_PREFIX6"
lc_wait_edge_exactly 30 "$LAB_PREFIX4" "$LAB_PREFIX6"
ok "a. both prefixes advertised after the retry"

# b. BIRD restarted with prefixd's include file missing. BIRD cannot start without a file its
# config includes; prefixd owns the file (issue 18): while BIRD is down it writes a missing
# include from the desired state (every failed connect attempt, every reconcile_interval), so
# BIRD started again comes up with the advertised routes, with no operator step; prefixd stays
# up and answers throughout.
edge_bird_kill
rm -f "$EDGE_BIRD_INCLUDE"
wait_until 30 "prefixd to see BIRD down" eval '! lc_bird_up'
lc_daemon_answers || fail "b. prefixd does not answer while BIRD is down"
wait_until 15 "prefixd to write the missing include while BIRD is down" \
	grep -q "route $LAB_PREFIX4 blackhole" "$EDGE_BIRD_INCLUDE"
ok "b. prefixd answers with BIRD down and wrote the missing include"
edge_bird_start
wait_until 30 "prefixd to reconnect to edge's BIRD" lc_bird_up
expect_converged "b. BIRD restarted without the include file"
lc_wait_edge_exactly 30 "$LAB_PREFIX4" "$LAB_PREFIX6"
ok "b. BIRD started from prefixd's include with both routes"

# c. StayRTR flapping every 2 s.
t_end=$(( $(now_ms) + flap * 1000 ))
flaps=0
while [ "$(now_ms)" -lt "$t_end" ]; do
	lc_stayrtr_stop
	sleep 1   # the flap period itself, not a wait for a state
	lc_stayrtr_start
	sleep 1
	flaps=$(( flaps + 1 ))
	pd_alive || fail "prefixd died while StayRTR flapped"
	lc_edge_exactly "$LAB_PREFIX4" "$LAB_PREFIX6" || fail "c. upstream lost a route while RTR flapped: $(lab_peer_routes edge | jq -c keys)"
done
wait_until 30 "prefixd's RTR data to be fresh again" lc_rpki_fresh
expect_converged "c. StayRTR flapped $flaps times"

# d. The RDAP server hanging.
rdap_pid=$(lab_pidfile_pid rdap) || fail "the RDAP server is not running"
kill -STOP "$rdap_pid"
on_exit 'kill -CONT '"$rdap_pid"' 2>/dev/null || true'
lc_auth "$LAB_PREFIX4" || fail "auth context"
t0=$(now_ms)
out=$(PREFIXCTL_TIMEOUT=60 lc_json auth verify "$LAB_PREFIX4" --message "$LC_AUTH_MSG" --signature "$LC_AUTH_SIG" \
	--rdap-url "$(printf %s "$RDAP_URL")" 2>&1) || true
took=$(( $(now_ms) - t0 ))
grep -q rdap-unavailable <<<"$out" || fail "d. want rdap-unavailable from a hanging RDAP server, got: $out"
lc_daemon_answers || fail "d. prefixd does not answer after the RDAP hang"
ok "d. hanging RDAP server: rdap-unavailable after $took ms, prefixd answers"
kill -CONT "$rdap_pid"
expect_converged "d. RDAP server hanging"

# No RPKI-invalid route was ever received upstream.
touch "$watch_stop"
wait "$watcher" 2>/dev/null || true
pairs=$(awk 'NF == 2' "$seen" | sort -u)
[ -n "$pairs" ] || fail "the watcher recorded no routes"
while read -r p asn; do
	asn=${asn#AS}
	lc_rpki_state_is "$p" "$asn" valid || fail "upstream received $p from AS$asn, which is not RPKI-valid"
done <<<"$pairs"
ok "every route upstream received from edge was RPKI-valid: $(tr '\n' ' ' <<<"$pairs")"
pd_stop
