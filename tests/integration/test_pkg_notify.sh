#!/usr/bin/env bash
# ctest-labels: asan
#
# sd_notify (issue 18, item 3; src/notify.c) as systemd sees it: a unix datagram socket in the
# test's directory plays systemd's $NOTIFY_SOCKET and records every message, one per line.
#   1. READY=1 comes only once the socket answers (store open, listeners up)
#   2. with WATCHDOG_USEC=200000, WATCHDOG=1 keep-alives arrive from the loop, about every 0.1 s
#   3. SIGHUP: RELOADING=1, then READY=1 again
#   4. SIGTERM: STOPPING=1
#   5. without NOTIFY_SOCKET nothing breaks (every other test runs that way)
set -euo pipefail

: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

pd_setup
NOTIFY=$PD_DIR/notify.sock
MSGS=$PD_DIR/notify.log
python3 - "$NOTIFY" "$MSGS" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", " ") + "\n")
EOF
RECV_PID=$!
stop_recv() { kill "$RECV_PID" 2>/dev/null; wait "$RECV_PID" 2>/dev/null || true; }
on_exit stop_recv
wait_until 5 "the notify socket" test -S "$NOTIFY"
: > "$MSGS"

count() { grep -c -- "$1" "$MSGS" || true; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }

export NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000
pd_start
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_until 5 "READY=1" at_least 'READY=1' 1
ready_line=$(grep -n -m1 'READY=1' "$MSGS" | cut -d: -f1)
grep -q 'started (config' "$PD_LOG" || pd_fail "READY=1 before prefixd logged that it started"
ok "READY=1 (message $ready_line), after the store and the listeners"

t0=$(now_ms)
n0=$(count 'WATCHDOG=1')
wait_until 3 "5 more WATCHDOG=1" at_least 'WATCHDOG=1' $((n0 + 5))
ok "5 keep-alives in $(( $(now_ms) - t0 )) ms (WATCHDOG_USEC=200000: one per 100 ms)"

kill -HUP "$PD_PID"
wait_until 5 "RELOADING=1" at_least 'RELOADING=1' 1
wait_until 5 "READY=1 after the reload" at_least 'READY=1' 2
awk '/RELOADING=1/ { r = NR } /READY=1/ { if (r) ok = 1 } END { exit !ok }' "$MSGS" ||
	pd_fail "READY=1 does not follow RELOADING=1: $(grep -v WATCHDOG "$MSGS")"
ok "SIGHUP: RELOADING=1, then READY=1"

pd_stop
at_least 'STOPPING=1' 1 || pd_fail "no STOPPING=1: $(grep -v WATCHDOG "$MSGS")"
ok "SIGTERM: STOPPING=1"

: > "$MSGS"
pd_start
pd_stop
[ ! -s "$MSGS" ] || pd_fail "messages without NOTIFY_SOCKET: $(cat "$MSGS")"
ok "without NOTIFY_SOCKET: no message, normal start and stop"
