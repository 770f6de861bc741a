# tests/integration/lib/lab.sh — run a network lab (lab/) from a shell integration test.
#
# Source it, then start a lab:
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
#   lab_start                 # unique lab "t<pid>", ready, torn down when the test exits
#
# lab_start runs lab/up under a unique name, which polls until the lab is ready: the upstream's
# four BGP sessions Established, edge's rpki protocol Established with its ROA tables equal to
# the VRP file, edge seeing onprem's routes, the RDAP server answering. It registers lab/down
# with on_exit (common.sh), so the lab is removed however the test ends; a failing test first
# prints the lab's state and log tails. It keeps an EXIT trap set earlier (prefixd.sh's
# pd_setup): call pd_setup BEFORE lab_start, because a plain `trap ... EXIT` set afterwards
# would replace ours (lab_* helpers notice that and fail). A lab whose test was killed outright
# (SIGKILL, a ctest timeout) is removed by the watcher lab/up starts for it (LAB_OWNER_PID),
# and failing that by the next lab_start (lab/down --stale).
#
# After lab_start, the variables of lab/run/NAME/lab.env are set (LAB_NAME, EDGE_BIRD_SOCK,
# EDGE_BIRD_CONF, EDGE_BIRD_INCLUDE, RTR_HOST, RTR_PORT, RDAP_URL, RDAP_DIR, VRPS_FILE,
# LAB_PREFIX4/6, LAB_VALID4/6, LAB_INVALID4/6, AUTH_KEY4/6, AUTH_CERT4/6, NS_EDGE, ...; see
# lab/README.md), LAB_DIR is the lab/ directory and LAB_UP_MS how long lab/up took.
#
# Helpers (TIMEOUT arguments in seconds; the defaults fit this 2-core machine with margin):
#   lab_birdc NODE CMD...                   BIRD's CLI on edge or onprem
#   lab_exec NODE CMD...                    a command in a node's namespace (prefixd: edge)
#   lab_peer_routes [NODE]                  upstream's Adj-RIB-In as JSON (lab/peer-routes)
#   lab_origins_at_upstream PREFIX [NODE]   origin ASNs of the paths upstream has for PREFIX
#   lab_route_at_upstream PREFIX [ORIGIN] [NODE]   test: upstream has it (with that origin)
#   lab_wait_route_at_upstream PREFIX ORIGIN [NODE] [TIMEOUT=20]
#   lab_wait_no_route_at_upstream PREFIX [NODE] [TIMEOUT=20]
#   lab_stays_absent_at_upstream PREFIX SECONDS [NODE]   fails if it appears within SECONDS
#   lab_set_vrps SCENARIO|--file FILE [TIMEOUT=10]   set-vrps, then wait for edge's ROA tables
#   lab_edge_routes [PREFIX[,gshut]]...     write edge's include by hand in prefixd's format
#                                           (",gshut" adds community 65535:0) and configure
#                                           (lab/announce edge)
#   lab_onprem_routes [PREFIX[,gshut]]...   extra prefixes onprem announces (lab/announce)
#   lab_stop                                lab/down now (the exit hook then does nothing)
# Each helper fails the test (common.sh fail) when its wait times out.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../lab" && pwd)
# shellcheck source=../../../lab/lib.sh
. "$LAB_DIR/lib.sh"

_lab_started=

# Our exit hook must still be installed; a later plain `trap ... EXIT` removes it. Checked in
# the test's own shell only: a subshell ($(...)) does not show the parent's traps.
_lab_check_hook() {
	[ "$BASHPID" = "$$" ] || return 0
	case $(trap -p EXIT) in
	*_common_run_exit*) ;;
	*) fail "the EXIT trap that removes lab $LAB_NAME was replaced: call pd_setup before lab_start" ;;
	esac
}

# lab_start [NAME]: builds a ready lab (default name t<pid>) and arranges its removal.
# LAB_UP_ARGS=--sites adds edge2 and PostgreSQL (lab/up --sites).
lab_start() {
	[ "$(id -u)" = 0 ] || fail "the lab needs root (network namespaces); tests run as root here"
	local name=${1:-t$$} t0
	"$LAB_DIR/down" --stale || true
	lab_init "$name"
	on_exit _lab_exit_hook
	_lab_started=$name
	t0=$(now_ms)
	# shellcheck disable=SC2086 # LAB_UP_ARGS: words (e.g. --sites)
	LAB_OWNER_PID=$$ "$LAB_DIR/up" ${LAB_UP_ARGS:-} "$name" || fail "lab/up $name failed"
	LAB_UP_MS=$(( $(now_ms) - t0 ))
	# shellcheck disable=SC1091
	. "$LAB_RUN/lab.env"
	export LAB_NAME
}

# The exit hook: on failure show the lab, then remove it (LAB_KEEP=1 keeps the run dir).
_lab_exit_hook() {
	local rc=$? f
	[ -n "$_lab_started" ] || return "$rc"
	if [ "$rc" != 0 ]; then
		echo "--- lab $LAB_NAME at failure:" >&2
		"$LAB_DIR/status" "$LAB_NAME" >&2 2>&1
		for f in "$LAB_RUN"/*.log "$LAB_RUN"/*/*.log; do
			[ -f "$f" ] && { echo "--- ${f#"$LAB_RUN"/} (last lines)" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	KEEP=${LAB_KEEP:-0} "$LAB_DIR/down" "$_lab_started" >&2
	_lab_started=
	return "$rc"
}

# lab_stop: removes the lab now; fails if something of it remains.
lab_stop() {
	[ -n "$_lab_started" ] || fail "lab_stop: no lab started"
	"$LAB_DIR/down" "$_lab_started" || fail "lab/down $_lab_started left something behind"
	_lab_started=
}

lab_birdc() { _lab_check_hook; "$LAB_DIR/birdc" "$@"; }
lab_exec() { _lab_check_hook; "$LAB_DIR/exec" "$@"; }
lab_peer_routes() { _lab_check_hook; "$LAB_DIR/peer-routes" "$@"; }

# lab_origins_at_upstream PREFIX [NODE]: the origin AS (last AS of the AS path) of every path
# the upstream received for PREFIX, from NODE or from every neighbour; one per line.
lab_origins_at_upstream() {
	local sel='.edge, .onprem'
	[ -n "${2:-}" ] && sel=.
	"$LAB_DIR/peer-routes" ${2:+"$2"} | jq -r --arg p "$1" "$sel"' | .[$p] // [] | .[]
		| [.attrs[] | select(.type == 2) | .as_paths[-1].asns[-1]] | .[0] // "none"'
}

# lab_route_at_upstream PREFIX [ORIGIN] [NODE]: true when the upstream has PREFIX (with origin
# ORIGIN when given; "" for any) from NODE (default: any neighbour).
lab_route_at_upstream() {
	local origins
	origins=$(lab_origins_at_upstream "$1" "${3:-}") || return 1
	if [ -n "${2:-}" ]; then
		grep -qx "$2" <<<"$origins"
	else
		[ -n "$origins" ]
	fi
}

lab_wait_route_at_upstream() {
	_lab_check_hook
	wait_until "${4:-20}" "upstream to receive $1 with origin AS$2${3:+ from $3}" \
		lab_route_at_upstream "$1" "$2" "${3:-}"
}

lab_wait_no_route_at_upstream() {
	_lab_check_hook
	wait_until "${3:-20}" "upstream to have no route for $1${2:+ from $2}" \
		eval '! lab_route_at_upstream "$1" "" "${2:-}"'
}

# lab_stays_absent_at_upstream PREFIX SECONDS [NODE]: polls for SECONDS; fails the moment the
# upstream has a route for PREFIX (a negative needs a window: this is it).
lab_stays_absent_at_upstream() {
	_lab_check_hook
	if poll_until "$2" lab_route_at_upstream "$1" "" "${3:-}"; then
		fail "upstream received $1${3:+ from $3}: $(lab_peer_routes ${3:+"$3"} | jq -c --arg p "$1" '.. | .[$p]? // empty')"
	fi
}

# lab_set_vrps SCENARIO|--file FILE [TIMEOUT]: rewrites the VRP file and waits until edge's ROA
# tables hold exactly its VRPs. Sets LAB_VRPS_MS to how long that took.
lab_set_vrps() {
	_lab_check_hook
	local t0 timeout=10
	if [ "$1" = --file ]; then
		"$LAB_DIR/rpki/set-vrps" --file "$2" >/dev/null || fail "set-vrps --file $2 failed"
		timeout=${3:-10}
	else
		"$LAB_DIR/rpki/set-vrps" "$1" >/dev/null || fail "set-vrps $1 failed"
		timeout=${2:-10}
	fi
	t0=$(now_ms)
	wait_until "$timeout" "edge's ROA tables to hold the new VRPs" lab_roas_match
	LAB_VRPS_MS=$(( $(now_ms) - t0 ))
}

# lab_edge_routes [PREFIX[,gshut]]...: writes edge's include by hand, in prefixd's format, and
# reloads edge (lab/announce edge). lab_onprem_routes: onprem's extra prefixes (lab/announce).
lab_edge_routes() { _lab_check_hook; "$LAB_DIR/announce" edge "$@" >/dev/null || fail "lab/announce edge $* failed"; }
lab_onprem_routes() { _lab_check_hook; "$LAB_DIR/announce" onprem "$@" >/dev/null || fail "lab/announce onprem $* failed"; }
