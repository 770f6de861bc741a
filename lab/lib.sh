# lab/lib.sh — shared by the lab's scripts (lab/up, lab/down, lab/bird, ...); not a command.
#
# Owns the lab's naming scheme: a lab is named (LAB_NAME, default "pfxlab"), and everything it
# makes carries that name: the network namespaces NAME-edge, NAME-onprem, NAME-upstream and
# NAME-svc, and the run directory lab/run/NAME/ (LAB_RUN_ROOT overrides lab/run) with pid files,
# logs, configs, keys and lab.env. Interfaces live only inside the namespaces, so their short
# names (up0, edge0, ...) never collide between labs and nothing is created in the root
# namespace. Several labs can run at once: their addresses are equal but their namespaces apart.
#
# Sourcing scripts call lab_init NAME first. The generic polling helpers (wait_until,
# poll_until, now_ms, fail) come from tests/integration/lib/common.sh.

# shellcheck disable=SC2034 # the address plan below is used by the scripts sourcing this file
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/integration/lib/common.sh
. "$LAB_SRC/../tests/integration/lib/common.sh"

LAB_NODES="edge onprem upstream svc"
# lab/up --sites adds edge2 (issue 17): a second edge site, its own BIRD, the same origin AS.
LAB_NODES_ALL="$LAB_NODES edge2"

# The fixed plan: identical in every lab (lab/README.md draws it); used by the scripts that
# source this file.
EDGE_AS=64500
ONPREM_AS=64496
UPSTREAM_AS=64501
OTHER_AS=64511
EDGE_UP_ADDR4=10.0.1.1
EDGE_UP_ADDR6=fd00:0:1::1
UPSTREAM_EDGE_ADDR4=10.0.1.2
UPSTREAM_EDGE_ADDR6=fd00:0:1::2
ONPREM_UP_ADDR4=10.0.2.1
ONPREM_UP_ADDR6=fd00:0:2::1
UPSTREAM_ONPREM_ADDR4=10.0.2.2
UPSTREAM_ONPREM_ADDR6=fd00:0:2::2
EDGE_SVC_ADDR4=10.0.3.1
SVC_ADDR4=10.0.3.2
# --sites: edge2's links (upstream 10.0.4.0/24 + fd00:0:4::/64, services 10.0.5.0/24; edge2
# reaches the services at SVC_ADDR4 through 10.0.5.2) and PostgreSQL on the services node.
EDGE2_UP_ADDR4=10.0.4.1
EDGE2_UP_ADDR6=fd00:0:4::1
UPSTREAM_EDGE2_ADDR4=10.0.4.2
UPSTREAM_EDGE2_ADDR6=fd00:0:4::2
EDGE2_SVC_ADDR4=10.0.5.1
SVC_EDGE2_ADDR4=10.0.5.2
PG_PORT=5432
RTR_PORT=3323
RTR_METRICS_PORT=9847
RDAP_PORT=8080
GOBGP_API=127.0.0.1:50051
LAB_PREFIX4=203.0.113.0/24
LAB_PREFIX6=2001:db8:113::/48
LAB_VALID4=198.51.100.0/24
LAB_VALID6=2001:db8:100::/48
LAB_INVALID4=192.0.2.0/24
LAB_INVALID6=2001:db8:bad::/48

lab_die() { echo "lab: $*" >&2; exit 1; }

# lab_init [NAME]: sets LAB_NAME, LAB_RUN and the namespace names; refuses a bad name.
lab_init() {
	LAB_NAME=${1:-${LAB_NAME:-pfxlab}}
	[[ $LAB_NAME =~ ^[a-z0-9][a-z0-9_]{0,23}$ ]] ||
		lab_die "bad lab name '$LAB_NAME' (1-24 of a-z 0-9 _, not starting with _)"
	LAB_RUN=${LAB_RUN_ROOT:-$LAB_SRC/run}/$LAB_NAME
	NS_EDGE=$LAB_NAME-edge
	NS_ONPREM=$LAB_NAME-onprem
	NS_UPSTREAM=$LAB_NAME-upstream
	NS_SVC=$LAB_NAME-svc
	NS_EDGE2=$LAB_NAME-edge2
	export LAB_NAME
}

# lab_ns NODE: the namespace of a node, or an error for an unknown node.
lab_ns() {
	case $1 in
	edge|onprem|upstream|svc|edge2) echo "$LAB_NAME-$1" ;;
	*) echo "lab: unknown node '$1' (one of: $LAB_NODES_ALL)" >&2; return 1 ;;
	esac
}

# lab_namespaces: the lab's namespaces that exist now, one per line.
lab_namespaces() {
	local n
	for n in $LAB_NODES_ALL; do
		[ -e "/run/netns/$LAB_NAME-$n" ] && echo "$LAB_NAME-$n"
	done
	return 0
}

# lab_in NODE CMD...: runs CMD inside NODE's namespace.
lab_in() {
	local ns
	ns=$(lab_ns "$1") || return 2
	shift
	ip netns exec "$ns" "$@"
}

# lab_bird_sock NODE: the control socket of a BIRD node.
lab_bird_sock() { echo "$LAB_RUN/$1/bird.ctl"; }

# lab_gobgp ARGS...: the GoBGP CLI against the upstream's API, inside its namespace.
lab_gobgp() { lab_in upstream gobgp -u "${GOBGP_API%:*}" -p "${GOBGP_API##*:}" "$@"; }

# lab_pid_alive PID: true while PID exists and is not a zombie (a killed daemon whose parent
# has not reaped it yet is gone for every purpose here).
lab_pid_alive() {
	local state
	[ -r "/proc/$1/stat" ] || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# lab_pidfile_pid NAME: the pid recorded in run/NAME.pid, when that process still runs in one
# of this lab's namespaces (so a reused pid never gets a signal from us).
lab_pidfile_pid() {
	local f=$LAB_RUN/$1.pid pid ns
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[[ $pid =~ ^[0-9]+$ ]] && lab_pid_alive "$pid" || return 1
	ns=$(ip netns identify "$pid" 2>/dev/null) || return 1
	[[ $ns == "$LAB_NAME"-* ]] || return 1
	echo "$pid"
}

# lab_spawn NAME NODE CMD...: starts CMD in NODE's namespace as a daemon in its own session,
# stdin from /dev/null, stdout+stderr to run/NAME.log, pid in run/NAME.pid (written by the
# process itself before it execs CMD, so it is CMD's pid).
lab_spawn() {
	local name=$1 node=$2 ns
	shift 2
	ns=$(lab_ns "$node") || return 2
	setsid bash -c 'echo $$ > "$0"; exec "$@"' "$LAB_RUN/$name.pid" \
		ip netns exec "$ns" "$@" </dev/null >>"$LAB_RUN/$name.log" 2>&1 &
}

# lab_require_up: dies unless the lab's run directory and all its namespaces exist.
lab_require_up() {
	local n
	for n in $LAB_NODES; do
		[ -e "/run/netns/$LAB_NAME-$n" ] || lab_die "lab '$LAB_NAME' is not up (no namespace $LAB_NAME-$n)"
	done
	[ -f "$LAB_RUN/lab.env" ] || lab_die "lab '$LAB_NAME' is not up (no $LAB_RUN/lab.env)"
}

# lab_env_load: reads run/lab.env (written by lab/up); fails when the lab is not up.
lab_env_load() {
	[ -f "$LAB_RUN/lab.env" ] || lab_die "lab '$LAB_NAME' is not up (no $LAB_RUN/lab.env)"
	# shellcheck disable=SC1091
	. "$LAB_RUN/lab.env"
}

# ---- state checks (each a question: 0 yes, 1 no; used by lab/wait and the test helper) -------

# lab_upstream_established: all BGP sessions of the upstream are Established (four; six with
# --sites, LAB_SITES=1 in lab.env).
lab_upstream_established() {
	local n=4
	[ "${LAB_SITES:-0}" = 1 ] && n=6
	lab_gobgp neighbor -j 2>/dev/null |
		jq -e --argjson n "$n" 'length == $n and all(.[]; .state.session_state == 6)' >/dev/null
}

# lab_rtr_established: edge's BIRD rpki protocol has an Established RTR session.
lab_rtr_established() {
	birdc -s "$(lab_bird_sock edge)" show protocols rtr_cache 2>/dev/null |
		grep -Eq '^rtr_cache +RPKI +--- +up .*Established'
}

# lab_roas: edge's ROA tables as sorted "PREFIX MAXLEN ASN" lines.
lab_roas() {
	local t
	for t in rpki4 rpki6; do
		birdc -s "$(lab_bird_sock edge)" show route table "$t" || return 1
	done | sed -En 's/^([0-9a-fA-F.:]+\/[0-9]+)-([0-9]+) +AS([0-9]+) .*/\1 \2 \3/p' | sort -u
}

# lab_vrps [FILE]: the VRPs of a StayRTR JSON file (default: the lab's) in lab_roas' format.
lab_vrps() {
	jq -r '.roas[] | "\(.prefix) \(.maxLength // (.prefix | split("/")[1] | tonumber))" +
		" \(.asn | tostring | ltrimstr("AS"))"' "${1:-$LAB_RUN/vrps.json}" | sort -u
}

# lab_roas_match [FILE]: edge's ROA tables hold exactly the VRPs of FILE (default: the lab's).
lab_roas_match() {
	local want got
	want=$(lab_vrps "${1:-}") && got=$(lab_roas) && [ "$want" = "$got" ]
}

# lab_edge_route PREFIX ASN: edge's BIRD has PREFIX from the upstream with origin AS ASN.
lab_edge_route() {
	local t=master4
	[[ $1 == *:* ]] && t=master6
	birdc -s "$(lab_bird_sock edge)" show route "$1" table "$t" 2>/dev/null |
		grep -q "\[AS$2[ie?]\]"
}

# lab_rdap_answers CIDR: the RDAP server answers CIDR's record (asked from edge's namespace).
lab_rdap_answers() {
	lab_in edge curl -sf --max-time 2 "http://$SVC_ADDR4:$RDAP_PORT/ip/$1" |
		jq -e '.objectClassName == "ip network"' >/dev/null
}
