# tests/integration/lib/stayrtr.sh — a real StayRTR on 127.0.0.1 for tests of prefixd's RPKI.
#
# Source it after common.sh:
#   stayrtr_start JSON LOG     serve the VRP file JSON (re-read every second, RTR refresh and
#                              retry 1 s), log to LOG; sets SP (its RTR port, SP+1 serves its
#                              metrics) and STAYRTR_PID; polls until it listens; stops it on exit
# Only StayRTR's own pid is waited for: a bare `wait` would also wait for prefixd, which is
# still running when a check fails before pd_stop, and turn that failure into a hang until
# ctest's timeout. A test that stops StayRTR itself clears STAYRTR_PID.
# prefixd then runs rtrlib, whose own allocations LeakSanitizer is told to ignore (ASan stage).

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=suppressions=$PREFIXD_SOURCE_DIR/tests/sanitizer/lsan.supp:print_suppressions=0
STAYRTR_PID=

stayrtr_stop() {
	[ -n "$STAYRTR_PID" ] || return 0
	kill "$STAYRTR_PID" 2>/dev/null
	wait "$STAYRTR_PID" 2>/dev/null || true
}

stayrtr_listening() { [ -n "$(ss -Htln "src 127.0.0.1 and sport = :$1")" ]; }
stayrtr_port_free() { [ -z "$(ss -Htln "sport = :$1")" ]; }

stayrtr_start() {
	local json=$1 log=$2
	command -v stayrtr >/dev/null || fail "stayrtr is not installed"
	for _ in $(seq 50); do
		SP=$(( 20000 + RANDOM % 20000 ))
		stayrtr_port_free "$SP" && stayrtr_port_free $((SP + 1)) && break
	done
	stayrtr -bind "127.0.0.1:$SP" -metrics.addr "127.0.0.1:$((SP + 1))" -cache "$json" \
	    -refresh 1 -checktime=false -rtr.refresh 1 -rtr.retry 1 -log.verbose=false \
	    >"$log" 2>&1 &
	STAYRTR_PID=$!
	on_exit stayrtr_stop
	wait_until 10 "StayRTR listening" stayrtr_listening "$SP"
}
