#!/usr/bin/env bash
# ctest-labels: asan
#
# rpki/rtr + rpki/rov against a real StayRTR on 127.0.0.1 serving a JSON file we write, next to
# a garbage-sending fake cache (tests/tools/rtr_garbage) in the same configuration. The module
# runs inside tests/tools/rtr_driver (a libev loop, commands on stdin, JSON lines on stdout).
# Checks, in order (issue 5, "Must be true when done"):
#   1. RFC 6811 answers: valid, origin-invalid, length-invalid, not-found, IPv4 and IPv6
#   2. the garbage cache is marked down, the StayRTR cache stays up, nothing crashes
#   3. an edit of the JSON is reflected within 5 s and a change event names the prefix
#   4. StayRTR stopped -> `stale` within stale_after + 2 s; answers still come, marked stale
#   5. StayRTR restarted (new session id) -> `synced` within 10 s
#   6. a ROA removed from the JSON: not-found within 5 s, a change event names the prefix
#   7. StayRTR stopped past `expire`: `expired`, the VRPs are dropped (RFC 8210), answers are
#      not-found and stale; a restart brings `synced` back
# Under the ASan build (PREFIXD_BUILD_DIR points at it) rtrlib itself is not instrumented;
# LeakSanitizer runs with tests/sanitizer/lsan.supp for rtrlib's own allocations.
set -euo pipefail

: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"

DRIVER=$PREFIXD_BUILD_DIR/tests/rtr_driver
GARBAGE=$PREFIXD_BUILD_DIR/tests/rtr_garbage
[ -x "$DRIVER" ] && [ -x "$GARBAGE" ] || fail "build rtr_driver and rtr_garbage first"
command -v stayrtr >/dev/null || fail "stayrtr is not installed"
command -v jq >/dev/null || fail "jq is not installed"

# On failure, show what the module and the cache said (the test's temp dir is removed).
fail() {
	echo "FAIL: $*" >&2
	if [ -n "${T:-}" ] && [ -f "$T/err" ]; then
		echo "--- driver log (rpki lines, last 30) ---" >&2
		grep -a "rpki:\|Sanitizer\|runtime error" "$T/err" | tail -30 >&2
		echo "--- driver stdout (last 10) ---" >&2
		tail -10 "$T/out" >&2
		echo "--- stayrtr (last 10) ---" >&2
		tail -10 "$T/stayrtr.log" >&2
	fi
	exit 1
}

STALE_AFTER=3
EXPIRE=10
T=$(mktemp -d /tmp/test_rtr.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=suppressions=$PREFIXD_SOURCE_DIR/tests/sanitizer/lsan.supp:print_suppressions=0
PIDS=()
cleanup() {
	local p
	exec 3>&- 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = "" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
on_exit cleanup

port_free() { [ -z "$(ss -Htln "sport = :$1")" ]; }
listening() { [ -n "$(ss -Htln "src 127.0.0.1 and sport = :$1")" ]; }
pick_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + RANDOM % 20000 ))
		port_free "$p" && port_free $((p + 1)) && { echo "$p"; return 0; }
	done
	fail "no free port"
}

write_vrps() {   # write_vrps EXTRA_ROA_JSON...: the base set plus extras, atomically
	local extra=""
	for r in "$@"; do extra="$extra,$r"; done
	cat >"$T/vrps.json.tmp" <<-EOF
	{"metadata":{"buildtime":"$(date -u +%Y-%m-%dT%H:%M:%SZ)"},"roas":[
	 {"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS65001"},
	 {"prefix":"198.51.100.0/22","maxLength":24,"asn":"AS65002"},
	 {"prefix":"2001:db8::/32","maxLength":48,"asn":"AS65001"},
	 {"prefix":"2001:db9:ff00::/40","maxLength":40,"asn":"AS0"}$extra]}
	EOF
	mv "$T/vrps.json.tmp" "$T/vrps.json"
}

STAYRTR_PID=
start_stayrtr() {
	stayrtr -bind "127.0.0.1:$SP" -metrics.addr "127.0.0.1:$((SP + 1))" -cache "$T/vrps.json" \
	    -refresh 1 -checktime=false -rtr.refresh 1 -rtr.retry 1 -rtr.expire 600 \
	    -log.verbose=false >>"$T/stayrtr.log" 2>&1 &
	STAYRTR_PID=$!
	PIDS+=("$STAYRTR_PID")
	wait_until 10 "StayRTR listening on $SP" listening "$SP"
}

# --- the driver, fed through a FIFO --------------------------------------------------------
send() {   # send CMD...: prints the answer line (JSON) for a fresh id
	local N
	# the counter lives in a file: send often runs in a subshell ($(...), pipelines)
	N=$(( $(cat "$T/id" 2>/dev/null || echo 0) + 1 ))
	echo "$N" >"$T/id"
	echo "$N $*" >&3
	wait_until 10 "an answer to '$*'" grep -q "\"id\":\"$N\"" "$T/out"
	grep "\"id\":\"$N\"" "$T/out" | tail -1
}
driver_alive() { kill -0 "$DRIVER_PID" 2>/dev/null; }
status() { send status | jq -c .status; }
state_is() { [ "$(status | jq -r .state)" = "$1" ]; }
validate() {   # validate PREFIX ASN -> prints "state reason stale"
	send validate "$1" "$2" | jq -r '.result | "\(.state) \(.reason) \(.stale)"'
}
expect_validate() {   # expect_validate PREFIX ASN "STATE REASON STALE"
	local got
	got=$(validate "$1" "$2")
	[ "$got" = "$3" ] || fail "validate $1 AS$2: got '$got', want '$3'"
	ok "validate $1 AS$2 = $3"
}

SP=$(pick_port)
GP=$(pick_port)
write_vrps
start_stayrtr
"$GARBAGE" "$GP" >"$T/garbage.out" 2>&1 &
PIDS+=($!)
wait_until 5 "garbage cache listening" listening "$GP"

mkfifo "$T/cmd"
"$DRIVER" -c "127.0.0.1:$SP" -c "127.0.0.1:$GP" -r 1 -R 1 -s "$STALE_AFTER" -e "$EXPIRE" -t 2 \
    <"$T/cmd" >"$T/out" 2>"$T/err" &
DRIVER_PID=$!
PIDS+=("$DRIVER_PID")
exec 3>"$T/cmd"

wait_until 20 "synced" state_is synced
wait_until 5 "VRP counts" sh -c "grep -q '\"event\":\"change\"' '$T/out'"
st=$(status)
[ "$(jq .vrps.ipv4 <<<"$st")" = 2 ] && [ "$(jq .vrps.ipv6 <<<"$st")" = 2 ] ||
    fail "VRP counts: $(jq -c .vrps <<<"$st")"
ok "synced with 2 IPv4 + 2 IPv6 VRPs"

# 1. RFC 6811
expect_validate 192.0.2.0/24 65001 "valid null false"
expect_validate 192.0.2.0/24 65002 "invalid origin false"
expect_validate 192.0.2.0/25 65001 "invalid length false"
expect_validate 203.0.113.0/24 65001 "not-found null false"
expect_validate 198.51.100.0/23 65002 "valid null false"
expect_validate 2001:db8:1::/48 65001 "valid null false"
expect_validate 2001:db8:1::/48 65003 "invalid origin false"
expect_validate 2001:db8::/56 65001 "invalid length false"
expect_validate 2001:db9::/32 65001 "not-found null false"
expect_validate 2001:db9:ff00::/40 65001 "invalid origin false"
r=$(send validate 198.51.100.0/22 65002)
[ "$(jq .result.maxlength_warning <<<"$r")" = true ] || fail "no RFC 9319 warning: $r"
[ "$(jq -r '.result.vrps[0].prefix' <<<"$r")" = 198.51.100.0/22 ] || fail "deciding VRP: $r"
ok "maxLength longer than the prefix warns (RFC 9319) and names the VRP"
r=$(send validate 192.0.2.0/24 abc)
[ "$(jq -r .error <<<"$r")" != null ] || fail "a bad ASN was accepted: $r"
r=$(send validate 192.0.2.1/24 65001)
[ "$(jq -r .error <<<"$r")" = cidr-not-canonical ] || fail "host bits accepted: $r"

# 2. the garbage cache
garbage_down() {
	local c
	c=$(status | jq -c ".caches[] | select(.cache == \"127.0.0.1:$GP\")")
	[ "$(jq .up <<<"$c")" = false ] && [ "$(jq .syncs <<<"$c")" = 0 ] &&
	    [ "$(jq -r .socket_state <<<"$c")" != closed ]
}
wait_until 10 "garbage cache marked down" garbage_down
[ "$(status | jq ".caches[] | select(.cache == \"127.0.0.1:$SP\") | .up")" = true ] ||
    fail "the StayRTR cache is not up next to the garbage one"
state_is synced || fail "not synced next to a garbage cache"
driver_alive || fail "the driver died"
ok "garbage cache marked down, StayRTR cache up, still synced"

# 3. JSON edit -> reflected within 5 s, change event names the prefix
start_ms=$(now_ms)
write_vrps '{"prefix":"203.0.113.0/24","maxLength":24,"asn":"AS65003"}'
is_valid() { [ "$(validate 203.0.113.0/24 65003)" = "valid null false" ]; }
wait_until 5 "the edit to be reflected" is_valid
ok "edit reflected after $(( $(now_ms) - start_ms )) ms"
named() { grep '"event":"change"' "$T/out" | jq -e 'select(.prefixes | index("203.0.113.0/24"))'; }
wait_until 3 "a change event naming 203.0.113.0/24" named
ok "change event named 203.0.113.0/24"

# 4. StayRTR stopped -> stale within stale_after + 2 s, answers from kept data marked stale
old_session=$(status | jq ".caches[] | select(.cache == \"127.0.0.1:$SP\") | .session_id")
start_ms=$(now_ms)
kill "$STAYRTR_PID"
wait "$STAYRTR_PID" 2>/dev/null || true
wait_until $((STALE_AFTER + 2)) "stale" state_is stale
ok "stale $(( $(now_ms) - start_ms )) ms after StayRTR stopped (stale_after ${STALE_AFTER}s)"
expect_validate 192.0.2.0/24 65001 "valid null true"
expect_validate 2001:db8::/56 65001 "invalid length true"

# 5. StayRTR restarted (new session id) -> synced within 10 s
start_ms=$(now_ms)
start_stayrtr
wait_until 10 "synced after the restart" state_is synced
new_session=$(status | jq ".caches[] | select(.cache == \"127.0.0.1:$SP\") | .session_id")
[ "$new_session" != "$old_session" ] || fail "session id did not change ($old_session)"
ok "synced $(( $(now_ms) - start_ms )) ms after the restart, session $old_session -> $new_session"
expect_validate 203.0.113.0/24 65003 "valid null false"

# 6. a ROA removed
nchanges=$(grep -c '"event":"change"' "$T/out")
write_vrps
is_gone() { [ "$(validate 203.0.113.0/24 65003)" = "not-found null false" ]; }
wait_until 5 "the removal to be reflected" is_gone
removed() {
	grep '"event":"change"' "$T/out" | tail -n +$((nchanges + 1)) |
	    jq -e 'select(.prefixes | index("203.0.113.0/24"))'
}
wait_until 3 "a change event naming the removed 203.0.113.0/24" removed
ok "removal reflected, change event named 203.0.113.0/24"

# 7. past expire the data is dropped
start_ms=$(now_ms)
kill "$STAYRTR_PID"
wait "$STAYRTR_PID" 2>/dev/null || true
wait_until $((EXPIRE + 3)) "expired" state_is expired
ok "expired $(( $(now_ms) - start_ms )) ms after StayRTR stopped (expire ${EXPIRE}s)"
expect_validate 192.0.2.0/24 65001 "not-found null true"
dropped() { [ "$(status | jq '.vrps.ipv4 + .vrps.ipv6')" = 0 ]; }
wait_until 5 "the VRP counts to drop to 0" dropped
ok "VRPs dropped at expiry"
start_stayrtr
wait_until 10 "synced after expiry" state_is synced
expect_validate 192.0.2.0/24 65001 "valid null false"

send quit >/dev/null
wait "$DRIVER_PID" || fail "driver exited with $? (stderr: $T/err)"
! grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$T/err" ||
    fail "sanitizer report: $(grep -m3 "Sanitizer\|runtime error" "$T/err")"
ok "driver exited cleanly"
