#!/usr/bin/env bash
# Issue 7, must-be-true 6: prefixd SIGKILLed in each pending state comes back to the right
# stable state, without a duplicate BIRD change (counted by the restarted prefixd's own
# `bird status` transaction counters):
#   - pending-provision (RPKI not fresh: StayRTR stopped) -> provisioned once the cache is back;
#     no BIRD change at all;
#   - pending-advertise (held at the failpoint before `configure confirm`, restarted before
#     BIRD's own timeout) -> advertised with one BIRD change;
#   - pending-withdraw (killed during a --drain) -> provisioned when the stored drain deadline
#     passes, with one BIRD change (the drained route is already in BIRD).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
need_failpoints
LC_EXTRA_CONF=$(printf '[rpki]\nrefresh = 2\nretry = 1\nstale_after = 4\n[bird]\nconfirm_timeout = 60\n[policy]\nmin_change_interval = 0')
lc_test_start
lc_after_handover

crash() {
	kill -KILL "$PD_PID"
	wait "$PD_PID" 2>/dev/null || true
	PD_PID=
}
# bird_changes: confirmed transactions that changed BIRD (ok counts no-change ones too).
bird_changes() { lc_json bird status | jq -r '.transactions.ok - .transactions.noop'; }
# settled N: the restarted prefixd made N BIRD changes and makes no more for 3 s.
settled() {
	[ "$(bird_changes)" = "$1" ] || fail "BIRD changes after the restart: $(bird_changes), want $1 ($(lc_json bird status | jq -c .transactions))"
	if poll_until 3 eval '[ "$(bird_changes)" != '"$1"' ]'; then
		fail "another BIRD change after settling: $(lc_json bird status | jq -c .transactions)"
	fi
}

# pending-provision: no fresh RPKI data while the proof is checked.
lc_ensure_pool "$LAB_PREFIX6"
lc_stayrtr_stop
not_fresh() { ! lc_rpki_fresh; }
wait_until 15 "prefixd's RTR data to go stale" not_fresh
lc_auth "$LAB_PREFIX6" || fail "auth context"
lc_json pool provision "$(lc_pool_for "$LAB_PREFIX6")" "$LAB_PREFIX6" --auth-message "$LC_AUTH_MSG" \
	--auth-signature "$LC_AUTH_SIG" >/dev/null || fail "provision refused"
lc_wait_state "$LAB_PREFIX6" pending-provision 10 || fail "not pending-provision"
if poll_until 3 eval '[ "$(lc_state "$LAB_PREFIX6")" != pending-provision ]'; then
	fail "left pending-provision without fresh RPKI data: $(lc_state "$LAB_PREFIX6")"
fi
crash
lc_stayrtr_start
lc_pd_start
lc_wait_state "$LAB_PREFIX6" provisioned 60 || fail "the restart did not finish provisioning"
settled 0
lc_edge_exactly || fail "provisioning announced something"
ok "pending-provision + SIGKILL -> provisioned after the restart, no BIRD change"

# pending-advertise: held before configure confirm, restarted within BIRD's timeout.
lc_provision_ok "$LAB_PREFIX4"
pd_stop
PREFIXD_FAILPOINT=bird_apply_before_confirm lc_pd_start
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
lc_json advertise "$LAB_PREFIX4" >/dev/null 2>&1 &
adv_pid=$!
wait_until 20 "the failpoint" grep -q 'failpoint bird_apply_before_confirm hit' "$PD_LOG"
# prefixd is frozen at the failpoint (it answers nothing): its store says where it stopped.
[ "$(lc_stored_state "$LAB_PREFIX4")" = pending-advertise ] || fail "stored state at the failpoint: $(lc_stored_state "$LAB_PREFIX4")"
crash
wait "$adv_pid" 2>/dev/null || true
birdc -s "$EDGE_BIRD_SOCK" configure status | grep -q unconfirmed || fail "BIRD has no unconfirmed config"
lc_pd_start
lc_wait_state "$LAB_PREFIX4" advertised 30 || fail "the restart did not finish the advertisement"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
wait_until 10 "a confirmed configuration" eval '! birdc -s "$EDGE_BIRD_SOCK" configure status | grep -q unconfirmed'
settled 1
ok "pending-advertise + SIGKILL -> advertised after the restart, one BIRD change"

# pending-withdraw: killed during the drain; the drain deadline is kept.
DRAIN=8
t0=$(now_ms)
lc_json withdraw "$LAB_PREFIX4" --drain "$DRAIN" >/dev/null 2>&1 &
wd_pid=$!
lc_wait_state "$LAB_PREFIX4" pending-withdraw 10 || fail "not pending-withdraw during the drain"
gshut() {
	lab_peer_routes edge | jq -e --arg p "$LAB_PREFIX4" \
		'[.[$p][]?.attrs[]? | select(.type == 8) | .communities[]] | index(4294901760) != null'
}
wait_until 10 "the drained route (65535:0) at upstream" gshut
crash
wait "$wd_pid" 2>/dev/null || true
lc_pd_start
lc_wait_state "$LAB_PREFIX4" provisioned $(( DRAIN + 30 )) || fail "the restart did not finish the withdrawal"
ms=$(( $(now_ms) - t0 ))
[ "$ms" -ge $(( DRAIN * 1000 )) ] || fail "withdrawn after $ms ms, before the ${DRAIN}s drain ended"
lab_wait_no_route_at_upstream "$LAB_PREFIX4" edge
settled 1
ok "pending-withdraw + SIGKILL -> provisioned after $ms ms (drain ${DRAIN}s kept), one BIRD change"
