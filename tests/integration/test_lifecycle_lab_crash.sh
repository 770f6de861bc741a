#!/usr/bin/env bash
# Issue 7, must-be-true 3: commit-confirm survives a crash of the real prefixd.
#   - prefixd is held by the failpoint bird_apply_before_confirm (PREFIXD_FAILPOINT; compiled in
#     for tests) between `configure timeout` and `configure confirm` while advertising the IPv6
#     prefix, and SIGKILLed there;
#   - edge's BIRD reverts on its own at the timeout: upstream loses the unconfirmed prefix and
#     keeps the confirmed one;
#   - the restarted prefixd resumes the pending advertisement and reconciles: upstream ends with
#     exactly the desired routes, and BIRD holds a confirmed configuration.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
need_failpoints
TIMEOUT=5
LC_EXTRA_CONF=$(printf '[bird]\nconfirm_timeout = %s\n[policy]\nmin_change_interval = 0' "$TIMEOUT")
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_provision_ok "$LAB_PREFIX6"
lc_advertise_ok "$LAB_PREFIX4"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
ok "confirmed start: $LAB_PREFIX4 advertised"

pd_stop
PREFIXD_FAILPOINT=bird_apply_before_confirm lc_pd_start
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
lc_json advertise "$LAB_PREFIX6" >"$PD_DIR/advertise.out" 2>&1 &
adv_pid=$!
wait_until 20 "the failpoint" grep -q 'failpoint bird_apply_before_confirm hit' "$PD_LOG"
birdc -s "$EDGE_BIRD_SOCK" configure status | grep -q unconfirmed ||
	fail "BIRD holds no unconfirmed configuration at the failpoint"
# prefixd is frozen at the failpoint (it answers nothing): its store says where it stopped.
[ "$(lc_stored_state "$LAB_PREFIX6")" = pending-advertise ] || fail "stored state at the failpoint: $(lc_stored_state "$LAB_PREFIX6")"
kill -KILL "$PD_PID"
wait "$PD_PID" 2>/dev/null || true
PD_PID=
wait "$adv_pid" 2>/dev/null || true
ok "prefixd SIGKILLed between configure timeout and configure confirm (pending-advertise)"

t0=$(now_ms)
wait_until $(( TIMEOUT + 10 )) "BIRD to revert by itself" \
	eval '! birdc -s "$EDGE_BIRD_SOCK" configure status | grep -q unconfirmed'
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
ok "BIRD reverted on its own after $(( $(now_ms) - t0 )) ms (timeout ${TIMEOUT}s); upstream holds only $LAB_PREFIX4"

lc_pd_start
lc_wait_state "$LAB_PREFIX6" advertised 30 || fail "the restarted prefixd did not finish the advertisement"
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "$LAB_PREFIX4 is $(lc_state "$LAB_PREFIX4")"
lc_wait_edge_exactly 20 "$LAB_PREFIX4" "$LAB_PREFIX6"
wait_until 10 "a confirmed configuration on edge" \
	eval '! birdc -s "$EDGE_BIRD_SOCK" configure status | grep -q unconfirmed'
ok "restarted prefixd reconciled: upstream holds exactly $LAB_PREFIX4 and $LAB_PREFIX6, confirmed"
