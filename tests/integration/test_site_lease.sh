#!/usr/bin/env bash
# One writer per router (issue 17): two prefixd instances with the same [site] name on one
# PostgreSQL 15 (lib/pg.sh). The first holds the lease (/v1/status site.role "writer",
# prefixd_site_lease_held 1), the second is a standby. SIGSTOP the holder: the standby takes
# the lease within one expiry (3 x lease_renew) with a new epoch; SIGCONT the old holder: it
# finds the lease lost (role standby, prefixd_site_lease_lost_total 1) and does not take it
# back. A clean stop of the writer releases the lease and the standby takes over at its next
# renewal. Every wait polls with a deadline.
# ctest-labels: postgresql
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<'EOF2'
[site]
name = edge1
lease_renew = 1
EOF2
pd_start
A_PID=$PD_PID A_SOCK=$PD_SOCK

# the second instance: its own socket and state dir, the same database and site
B_SOCK=$PD_DIR/b.sock B_CONF=$PD_DIR/b.conf B_LOG=$PD_DIR/b.log
sed -e "s|^socket = .*|socket = $B_SOCK|" -e "s|^state_dir = .*|state_dir = $PD_DIR/b-state|" \
    "$PD_CONF" > "$B_CONF"
"$PD_BIN" -c "$B_CONF" >>"$B_LOG" 2>&1 &
B_PID=$!
b_cleanup() {
	local rc=$?
	set +e          # under set -e, (exit "$rc") below would end the hook before pd_cleanup
	kill -CONT "$A_PID" 2>/dev/null || true
	kill -TERM "$B_PID" 2>/dev/null && wait "$B_PID" 2>/dev/null || true
	(exit "$rc")
	pd_cleanup
}
trap b_cleanup EXIT

status() { curl -sf --max-time 2 --unix-socket "$1" http://prefixd/v1/status; }
role_is() { [ "$(status "$1" | jq -r .site.role)" = "$2" ]; }
epoch_of() { status "$1" | jq -r .site.epoch; }
pd_wait_for role_is "$B_SOCK" standby || pd_fail "B is not a standby: $(status "$B_SOCK" | jq -c .site)"
role_is "$A_SOCK" writer || pd_fail "A is not the writer: $(status "$A_SOCK" | jq -c .site)"
curl -sf --unix-socket "$A_SOCK" http://prefixd/metrics | grep -qx 'prefixd_site_lease_held{site="edge1"} 1' ||
	pd_fail "A's metrics do not show the lease held"
curl -sf --unix-socket "$B_SOCK" http://prefixd/metrics | grep -qx 'prefixd_site_lease_held{site="edge1"} 0' ||
	pd_fail "B's metrics show the lease held"
e1=$(epoch_of "$A_SOCK")
pd_ok "A writes site edge1 (epoch $e1), B is its standby"

kill -STOP "$A_PID"
t0=$(date +%s.%N)
PD_TIMEOUT=6 pd_wait_for role_is "$B_SOCK" writer || pd_fail "B did not take over within 6 s"
took=$(echo "$(date +%s.%N) - $t0" | bc)
e2=$(epoch_of "$B_SOCK")
[ "$e2" -gt "$e1" ] || pd_fail "takeover epoch $e2 is not above $e1"
pd_ok "A stopped: B took the lease after ${took}s (expiry 3 s), epoch $e1 -> $e2"

kill -CONT "$A_PID"
pd_wait_for role_is "$A_SOCK" standby || pd_fail "A still thinks it writes: $(status "$A_SOCK" | jq -c .site)"
curl -sf --unix-socket "$A_SOCK" http://prefixd/metrics | grep -qx 'prefixd_site_lease_lost_total{site="edge1"} 1' ||
	pd_fail "A's metrics do not count the lost lease"
role_is "$B_SOCK" writer || pd_fail "B lost the lease to the old holder"
grep -q "lease lost to" "$PD_LOG" || pd_fail "A did not log the lost lease"
pd_ok "A resumed: it found the lease lost and stays a standby; B keeps writing"

kill -TERM "$B_PID"
wait "$B_PID" || pd_fail "B did not exit 0"
PD_TIMEOUT=3 pd_wait_for role_is "$A_SOCK" writer || pd_fail "A did not take over after B's clean stop"
e3=$(epoch_of "$A_SOCK")
[ "$e3" -gt "$e2" ] || pd_fail "epoch $e3 after the handover is not above $e2"
pd_ok "B stopped cleanly and released the lease: A writes again (epoch $e3)"
