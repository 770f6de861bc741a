# tests/integration/lib/common.sh — generic helpers for shell integration tests and lab scripts.
#
# Source it (bash only):
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
#
# What it gives:
#   fail MESSAGE...              print "FAIL: MESSAGE" on stderr and exit 1
#   ok MESSAGE...                print "ok: MESSAGE" (a passed check, for the test log)
#   now_ms                       print the wall clock in milliseconds (no fork)
#   poll_until TIMEOUT CMD...    run CMD every $POLL_INTERVAL s (default 0.15) until it succeeds;
#                                return 0 when it did, 1 when TIMEOUT seconds passed first
#   wait_until TIMEOUT DESCRIPTION CMD...
#                                poll_until, and on timeout fail with "timed out after TIMEOUTs
#                                waiting for DESCRIPTION"
#   on_exit CMD...               run CMD when the shell exits, however it exits (last registered
#                                runs first); keeps an EXIT trap that was set before and runs it
#                                after ours, with the shell's exit status intact; also makes
#                                TERM, INT and HUP exit through it (SIGKILL cannot: lab_start
#                                cleans up after such tests with lab/down --stale)
#
#   need_failpoints              fail unless $PREFIXD_BUILD_DIR was configured with
#                                -DPREFIXD_FAILPOINTS=ON (scripts/test does; plain builds and
#                                the Debian package compile no failpoints)
#
# CMD's output is discarded while polling: a poll is a question, not a log. TIMEOUT may be a
# fraction ("2.5"). Nothing here sleeps and hopes: every wait has a state to poll and a deadline.

# Sourcing twice is harmless (lab/lib.sh sources this file too): commands registered with
# on_exit before the second source are kept.
[ -n "${_COMMON_SH_LOADED:-}" ] && return 0
_COMMON_SH_LOADED=1

POLL_INTERVAL=${POLL_INTERVAL:-0.15}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok()   { echo "ok: $*"; }
need_failpoints() {
	grep -q '^PREFIXD_FAILPOINTS:BOOL=ON$' "${PREFIXD_BUILD_DIR:?}/CMakeCache.txt" ||
		fail "this test arms PREFIXD_FAILPOINT: configure $PREFIXD_BUILD_DIR with -DPREFIXD_FAILPOINTS=ON (scripts/test does)"
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $(( t / 1000 ))
}

# poll_until TIMEOUT CMD...: 0 once CMD succeeded, 1 if TIMEOUT seconds passed first. CMD is
# always tried at least once, and once more at the deadline, so a slow last poll still counts.
poll_until() {
	local timeout=$1 deadline
	shift
	deadline=$(( $(now_ms) + $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000 }') ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -lt "$deadline" ] || break
		sleep "$POLL_INTERVAL"
	done
	return 1
}

# wait_until TIMEOUT DESCRIPTION CMD...: like poll_until, but a timeout fails the test.
wait_until() {
	local timeout=$1 what=$2
	shift 2
	poll_until "$timeout" "$@" || fail "timed out after ${timeout}s waiting for $what"
}

_common_exit_cmds=()

_common_status() { return "$1"; }

# Runs the registered commands, newest first, each seeing the shell's exit status in $? (so a
# hook can tell a failing test), then returns that status, so that an EXIT trap chained after
# ours (e.g. prefixd.sh's pd_cleanup) still sees it in $?.
_common_run_exit() {
	local rc=$? i
	set +e
	for (( i = ${#_common_exit_cmds[@]} - 1; i >= 0; i-- )); do
		_common_status "$rc"
		eval "${_common_exit_cmds[i]}"
	done
	return "$rc"
}

# on_exit CMD...: registers CMD (words joined, evaluated at exit). The first call installs the
# EXIT trap and keeps any trap already installed, running it after ours. A trap set later with
# a plain `trap ... EXIT` replaces ours: register through on_exit, or set such traps first.
on_exit() {
	local cmd="$*" prev
	if [ "${#_common_exit_cmds[@]}" = 0 ]; then
		prev=$(trap -p EXIT)
		if [ -n "$prev" ]; then
			eval "set -- $prev"
			# shellcheck disable=SC2064 # the previous trap is expanded now, on purpose
			trap "_common_run_exit; $3" EXIT
		else
			trap _common_run_exit EXIT
		fi
		# A shell killed by a signal it does not trap skips its EXIT trap: turn the usual
		# termination signals (ctest's timeout sends TERM) into an exit, unless already trapped.
		[ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
		[ -n "$(trap -p INT)" ] || trap 'exit 130' INT
		[ -n "$(trap -p HUP)" ] || trap 'exit 129' HUP
	fi
	_common_exit_cmds+=("$cmd")
}
