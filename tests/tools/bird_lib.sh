# tests/tools/bird_lib.sh — shell helpers for tests/integration/test_bird_*.sh (source it).
#
# A private BIRD 2 in a temp dir (no network protocols: device + prefixd's include) and the
# bird_driver tool (tests/tools/bird_driver.c) talking to it through a FIFO, answering in JSON
# lines. Everything started here is stopped by on_exit hooks; every wait polls with a deadline.
#
#   bt_init                      temp dir $BT, bird.conf including $BT/bird.include (empty file)
#   bt_bird_start / bt_bird_stop start BIRD (waits for its socket) / stop it (waits for exit)
#   bt_birdc CMD...              BIRD's own birdc on our socket
#   bt_routes                    "prefix[ drain]" lines of prefixd4+prefixd6, sorted
#   bt_drv_start [ARGS...]       start bird_driver (-s/-i given) with extra ARGS; env passes
#   bt_drv CMD                   send one command line
#   bt_drv_wait N FILTER [T]     wait until N output lines match the jq FILTER (a select(...))
#   bt_drv_last FILTER           the last output line matching FILTER
#   bt_drv_kill                  SIGKILL the driver
# shellcheck shell=bash

. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"

BT_DRIVER=$PREFIXD_BUILD_DIR/tests/bird_driver

bt_init() {
	[ "$(id -u)" = 0 ] || fail "must run as root (BIRD)"
	command -v bird >/dev/null || fail "bird not installed"
	[ -x "$BT_DRIVER" ] || fail "missing $BT_DRIVER (build the bird_driver target)"
	BT=$(mktemp -d /tmp/bird-test.XXXXXX)
	on_exit 'rm -rf "$BT"'
	cat > "$BT/bird.conf" <<EOF
router id 192.0.2.1;
log "$BT/bird.log" all;
protocol device {}
include "$BT/extra.conf";
include "$BT/bird.include";
EOF
	: > "$BT/extra.conf"
	printf '%s\n' \
	    '# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.' \
	    'protocol static prefixd4 {' '	ipv4;' '}' 'protocol static prefixd6 {' '	ipv6;' '}' \
	    > "$BT/bird.include"
	on_exit bt_drv_kill
	on_exit bt_bird_stop
}

bt_bird_start() {
	bird -c "$BT/bird.conf" -s "$BT/bird.ctl" -P "$BT/bird.pid" || fail "bird did not start"
	wait_until 10 "BIRD's control socket" bt_birdc show status
}

bt_bird_pid() { [ -s "$BT/bird.pid" ] && cat "$BT/bird.pid"; }

bt_bird_stop() {
	local pid
	pid=$(bt_bird_pid) || return 0
	kill "$pid" 2>/dev/null || return 0
	poll_until 10 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
	rm -f "$BT/bird.pid"
}

bt_birdc() { birdc -s "$BT/bird.ctl" "$@"; }

# The routes of prefixd4 and prefixd6 as "PREFIX" or "PREFIX drain", sorted.
bt_routes() {
	{ bt_birdc show route protocol prefixd4 table master4 all
	  bt_birdc show route protocol prefixd6 table master6 all; } |
	awk '$1 ~ /^[0-9a-f:.]+\/[0-9]+$/ { if (net != "") print net; net = $1 }
	     /BGP.community: .*\(65535,0\)/ { net = net " drain" }
	     END { if (net != "") print net }' | sort
}

bt_drv_start() {
	rm -f "$BT/drv.in"
	mkfifo "$BT/drv.in"
	: > "$BT/drv.out"
	"$BT_DRIVER" -s "$BT/bird.ctl" -i "$BT/bird.include" "$@" \
	    < "$BT/drv.in" >> "$BT/drv.out" 2>> "$BT/drv.err" &
	BT_DRV_PID=$!
	exec 7> "$BT/drv.in"
	bt_drv_wait 1 'select(.event == "ready")'
}

bt_drv() { echo "$*" >&7; }

bt_drv_count() { jq -c "$1" "$BT/drv.out" 2>/dev/null | wc -l; }

bt_drv_wait() {
	local n=$1 filter=$2 t=${3:-20}
	wait_until "$t" "driver output $n x $filter" \
	    bash -c "[ \$(jq -c '$filter' '$BT/drv.out' 2>/dev/null | wc -l) -ge $n ]"
}

bt_drv_last() { jq -c "$1" "$BT/drv.out" | tail -1; }

bt_drv_kill() {
	[ -n "${BT_DRV_PID:-}" ] || return 0
	exec 7>&-
	kill -9 "$BT_DRV_PID" 2>/dev/null || true
	wait "$BT_DRV_PID" 2>/dev/null || true
	BT_DRV_PID=
	return 0
}
