# tests/integration/lib/lifecycle.sh — the public-prefix lifecycle (SPEC §3, §4) driven through
# the real prefixctl against a lab (lab/): shared by the lifecycle lab tests, the benchmark
# script and the runbooks in lab/runbooks/ (which are not tests: nothing here calls fail()
# unless the caller is a test; helpers return non-zero and say why on stderr).
#
# Source it after the lab's variables are known (lab.env loaded, or lab_start done):
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
#
# Needs: PCTL_BIN (prefixctl; default: prefixctl from PATH, then build*/prefixctl of the
# source tree) and LC_SOCK (prefixd's socket; default $PD_SOCK when prefixd.sh is loaded).
#
# Talking to prefixd (prefixctl runs in the root namespace: the socket is a file):
#   lc_ctl ARGS...                 prefixctl -s $LC_SOCK ARGS (human output)
#   lc_json ARGS...                prefixctl -s $LC_SOCK --json ARGS; stdout is the JSON; rc kept
#   lc_refusal ARGS...             runs lc_json ARGS; prints the error code of a refusal (exit 1)
#                                  and returns 0, or returns 1 when the command did not refuse
#   lc_state CIDR                  the prefix's lifecycle state ("" when unknown)
#   lc_field CIDR JQ               a field of `prefix show CIDR` (e.g. .failure_reason)
#   lc_wait_state CIDR STATE [TIMEOUT=30]   poll `prefix show` until STATE (return 1 on timeout,
#                                  printing the last answer)
# The ownership proof (SPEC §4):
#   lc_expires                     an expiry date 30 days ahead (YYYYMMDD, UTC)
#   lc_auth_key CIDR               the private key lab/rdap/make-cert made for CIDR in this lab
#   lc_sign MSG KEY                the signature, by exactly SPEC §4's openssl command
#   lc_auth CIDR                   sets LC_AUTH_MSG (from `prefixctl auth message`) and
#                                  LC_AUTH_SIG (signed with lc_auth_key CIDR); CIDR may be an
#                                  ASN "AS64500" (issue 21: lab/up made edge's AS a key too)
#   lc_asn_state ASN               the ASN's state ("" when unknown)
#   lc_prove_asn ASN               (runbooks and tests) proves ASN (AS64500) as an operator would
#                                  unless it is provisioned already; returns 1 and says why when
#                                  the proof is refused
# The upstream's view (GoBGP's RIB holds every path it accepted, from both neighbours):
#   lc_upstream_paths PREFIX       one line per path upstream holds: "NEIGHBOUR ORIGIN AS-PATH"
#   lc_upstream_origins PREFIX     the distinct origin ASNs upstream holds for PREFIX, sorted
# Starting prefixd for the lab:
#   lc_config_text                 prints an INI config for prefixd in the lab (edge's BIRD, the
#                                  lab's StayRTR, RDAP and owner id); LC_EXTRA_CONF appends text
#   lc_pd_start [ARGS]             (tests; needs prefixd.sh and pd_setup) writes the lab config
#                                  plus pd_config's text and starts prefixd inside edge's
#                                  namespace; PD_PID is prefixd's pid
#
# Everything polls with a deadline; nothing sleeps and hopes.
# shellcheck shell=bash

[ -n "${_LIFECYCLE_SH_LOADED:-}" ] && return 0
_LIFECYCLE_SH_LOADED=1

LC_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if ! declare -F lab_init >/dev/null; then
	# shellcheck source=../../../lab/lib.sh
	. "$LC_SRC/lab/lib.sh"
fi

LC_OWNER_ID=${LC_OWNER_ID:-lab-owner}

# PCTL_BIN: the prefixctl to use. A build tree's binary is preferred to one on PATH only when
# PCTL_BIN was not given.
if [ -z "${PCTL_BIN:-}" ]; then
	if [ -n "${PREFIXD_BUILD_DIR:-}" ] && [ -x "$PREFIXD_BUILD_DIR/prefixctl" ]; then
		PCTL_BIN=$PREFIXD_BUILD_DIR/prefixctl
	elif [ -x "$LC_SRC/build/prefixctl" ]; then
		PCTL_BIN=$LC_SRC/build/prefixctl
	else
		PCTL_BIN=$(command -v prefixctl || echo prefixctl)
	fi
fi

lc_sock() { echo "${LC_SOCK:-${PD_SOCK:-${PREFIXD_SOCKET:-./prefixd.sock}}}"; }

lc_ctl() { "$PCTL_BIN" -s "$(lc_sock)" "$@"; }
lc_json() { "$PCTL_BIN" -s "$(lc_sock)" --json "$@"; }

# lc_refusal ARGS...: a refused command (exit 1) prints its error code; anything else is 1.
lc_refusal() {
	local out rc=0
	out=$(lc_json "$@" 2>/dev/null) || rc=$?
	if [ "$rc" != 1 ]; then
		echo "lc_refusal: '$*' exited $rc, not 1 (refused): $out" >&2
		return 1
	fi
	jq -r '.error.code // empty' <<<"$out"
}

lc_show() { lc_json prefix show "$1" 2>/dev/null; }
# Both print "" (and succeed) for a prefix prefixd does not know.
lc_state() { lc_show "$1" | jq -r '.state // empty' 2>/dev/null || true; }
lc_field() { lc_show "$1" | jq -r "$2 // empty" 2>/dev/null || true; }

_lc_state_is() { [ "$(lc_state "$1")" = "$2" ]; }

lc_wait_state() {
	local cidr=$1 want=$2 timeout=${3:-30}
	poll_until "$timeout" _lc_state_is "$cidr" "$want" && return 0
	echo "lc_wait_state: $cidr not $want after ${timeout}s; prefix show: $(lc_show "$cidr" | jq -c . 2>/dev/null)" >&2
	return 1
}

lc_expires() { date -u -d '+30 days' +%Y%m%d; }

# lc_auth_key CIDR: lab/up made one key per migrated prefix (lab.env AUTH_KEY4/6); any other
# prefix has one only if a test ran lab/rdap/make-cert into the same layout.
lc_auth_key() {
	case $1 in
	"${LAB_PREFIX4:-}") echo "$AUTH_KEY4" ;;
	"${LAB_PREFIX6:-}") echo "$AUTH_KEY6" ;;
	"AS${EDGE_AS:-}") echo "${AUTH_KEY_ASN:-$LAB_RUN/auth/$1/key.pem}" ;;
	*) echo "$LAB_RUN/auth/${1/\//_}/key.pem" ;;
	esac
}

# lc_sign MSG KEY: SPEC §4 verbatim (RSA-PSS, SHA-256, URL-safe alphabet, no newline).
lc_sign() {
	printf %s "$1" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-1 -sign "$2" | openssl base64 -A | tr -- '+=/' '-_~'
}

lc_auth() {
	local cidr=$1 key
	key=$(lc_auth_key "$cidr")
	[ -r "$key" ] || { echo "lc_auth: no key for $cidr ($key)" >&2; return 1; }
	LC_AUTH_MSG=$(lc_json auth message "$cidr" --expires "$(lc_expires)" | jq -r '.message // empty')
	[ -n "$LC_AUTH_MSG" ] || { echo "lc_auth: prefixctl auth message $cidr gave no message" >&2; return 1; }
	# shellcheck disable=SC2034 # read by the caller
	LC_AUTH_SIG=$(lc_sign "$LC_AUTH_MSG" "$key") || return 1
}

lc_asn_state() { lc_json asn show "$1" 2>/dev/null | jq -r '.state // empty' 2>/dev/null || true; }
_lc_asn_is() { [ "$(lc_asn_state "$1")" = "$2" ]; }

lc_prove_asn() {
	local asn=$1 out
	[ "$(lc_asn_state "$asn")" = provisioned ] && return 0
	lc_auth "$asn" || return 1
	out=$(lc_json asn provision "$asn" --auth-message "$LC_AUTH_MSG" \
		--auth-signature "$LC_AUTH_SIG" 2>/dev/null) ||
		{ echo "lc_prove_asn: $asn refused: $(jq -r '.error.code + ": " + .error.message' <<<"$out" 2>/dev/null)" >&2; return 1; }
	poll_until 60 _lc_asn_is "$asn" provisioned && return 0
	echo "lc_prove_asn: $asn not provisioned: $(lc_json asn show "$asn" 2>/dev/null | jq -c '{state, failure_reason, message}')" >&2
	return 1
}

# lc_upstream_paths PREFIX: "NEIGHBOUR ORIGIN ASPATH" per path in upstream's RIB.
lc_upstream_paths() {
	local fam=ipv4
	[[ $1 == *:* ]] && fam=ipv6
	lab_gobgp global rib -a "$fam" "$1" -j 2>/dev/null | jq -r --arg p "$1" '
		.[$p] // [] | .[] | ([.attrs[] | select(.type == 2) | .as_paths[].asns[]]) as $path
		| "\(.["neighbor-ip"]) \($path[-1] // "none") \($path | map(tostring) | join("_"))"'
}

lc_upstream_origins() { lc_upstream_paths "$1" | awk '{ print $2 }' | sort -u; }

lc_config_text() {
	local asn_url=${RDAP_ASN_URL:-}
	[ -n "$asn_url" ] || asn_url="http://$SVC_ADDR4:$RDAP_PORT/autnum/{asn}"
	cat <<EOF
[rpki]
cache = $RTR_HOST:$RTR_PORT
[bird]
socket = $EDGE_BIRD_SOCK
config = $EDGE_BIRD_CONF
include = $EDGE_BIRD_INCLUDE
[bgp]
origin_asn = $EDGE_AS
[auth]
owner_id = $LC_OWNER_ID
rdap_url = $RDAP_URL
rdap_asn_url = $asn_url
EOF
	[ -z "${LC_EXTRA_CONF:-}" ] || printf '%s\n' "$LC_EXTRA_CONF"
}

# lc_pd_start [ARGS]: prefixd.sh's pd_start, with prefixd inside edge's namespace (a wrapper
# that execs `ip netns exec`, so PD_PID stays prefixd's own pid and pd_stop/pd_cleanup work).
lc_pd_start() {
	declare -F pd_start >/dev/null || { echo "lc_pd_start: source prefixd.sh and pd_setup first" >&2; return 1; }
	if [ ! -f "$PD_DIR/.lc_conf_written" ]; then
		lc_config_text | pd_config
		: > "$PD_DIR/.lc_conf_written"
	fi
	if [ ! -x "$PD_DIR/prefixd-edge" ]; then
		printf '#!/bin/sh\nexec ip netns exec %q %q "$@"\n' "$NS_EDGE" "$PD_BIN" > "$PD_DIR/prefixd-edge"
		chmod 0755 "$PD_DIR/prefixd-edge"
	fi
	PD_BIN=$PD_DIR/prefixd-edge pd_start "$@"
	LC_SOCK=$PD_SOCK
}

# ---- runbook output: what a runbook step prints (lab/runbooks/*, lab/quickstart) -------------
#   lc_step N TOTAL TITLE          a step's heading
#   lc_say TEXT...                 an explanation line, indented
#   lc_run ARGS...                 prints "$ prefixctl ARGS" and runs lc_ctl ARGS, output indented
#   lc_run_brief JQ ARGS...        the same with --json, showing only JQ's summary of the answer
#   lc_cmd CMD...                  prints "$ CMD" and runs CMD (lab tools), output indented
#   lc_check DESCRIPTION CMD...    runs CMD (a question); prints "check: DESCRIPTION ... ok" or
#                                  fails the runbook (lc_abort) with the step's rollback
#   lc_wait_check TIMEOUT DESCRIPTION CMD...   the same, polling CMD until TIMEOUT
#   lc_rollback TEXT               sets the current step's rollback advice and prints it
#   lc_abort MESSAGE               prints the failure and the rollback advice, exits 1
#   lc_show_upstream PREFIX        "upstream sees: ..." (every path, or "nothing")
# Output goes to stdout; the runbook's own state is LC_ROLLBACK (text).

LC_ROLLBACK=

lc_step() {
	LC_ROLLBACK=
	printf '\n== Step %s/%s: %s ==\n' "$1" "$2" "$3"
}

lc_say() { printf '   %s\n' "$*"; }

_lc_indent() { sed 's/^/     /'; }

lc_run() {
	printf '   $ prefixctl %s\n' "$(_lc_quote "$@")"
	local rc=0
	lc_ctl "$@" 2>&1 | _lc_indent || rc=${PIPESTATUS[0]}
	return "$rc"
}

# lc_run_brief JQ ARGS...: prints "$ prefixctl ARGS", runs it with --json and shows only what
# the JQ filter makes of the answer (a tutorial line instead of a full table); a refusal shows
# its error. Keeps prefixctl's exit status.
lc_run_brief() {
	local filter=$1 out rc=0
	shift
	printf '   $ prefixctl %s\n' "$(_lc_quote "$@")"
	out=$(lc_json "$@" 2>/dev/null) || rc=$?
	if [ "$rc" = 0 ]; then
		jq -r "$filter" <<<"$out" 2>/dev/null | _lc_indent
	else
		jq -r '"refused: \(.error.code): \(.error.message)"' <<<"$out" 2>/dev/null | _lc_indent
	fi
	return "$rc"
}

lc_cmd() {
	local shown
	shown=$(_lc_quote "$@")
	printf '   $ %s\n' "${shown//"$LC_SRC"\//}"
	local rc=0
	"$@" 2>&1 | _lc_indent || rc=${PIPESTATUS[0]}
	return "$rc"
}

# _lc_quote ARGS...: the words as a shell would need them typed (quoted only when necessary).
_lc_quote() {
	local w out=()
	for w in "$@"; do
		if [[ $w =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$w"); else out+=("'${w//\'/\'\\\'\'}'"); fi
	done
	printf '%s' "${out[*]}"
}

lc_abort() {
	printf '   FAILED: %s\n' "$*" >&2
	[ -z "$LC_ROLLBACK" ] || printf '   rollback from here: %s\n' "$LC_ROLLBACK" >&2
	exit 1
}

lc_check() {
	local what=$1
	shift
	"$@" >/dev/null 2>&1 || lc_abort "check failed: $what"
	printf '   check: %s ... ok\n' "$what"
}

lc_wait_check() {
	local timeout=$1 what=$2 t0
	shift 2
	t0=$(now_ms)
	poll_until "$timeout" "$@" || lc_abort "check failed after ${timeout}s: $what"
	printf '   check: %s ... ok (%d ms)\n' "$what" $(( $(now_ms) - t0 ))
}

lc_rollback() {
	LC_ROLLBACK=$*
	printf '   rollback: %s\n' "$*"
}

# lc_show_upstream PREFIX: upstream's RIB for PREFIX in words.
lc_show_upstream() {
	local paths n a o p
	paths=$(lc_upstream_paths "$1")
	if [ -z "$paths" ]; then
		printf '   upstream sees: no route for %s\n' "$1"
		return 0
	fi
	while read -r n o p; do
		case $n in
		"$EDGE_UP_ADDR4"|"$EDGE_UP_ADDR6") a=edge ;;
		"${EDGE2_UP_ADDR4:-}"|"${EDGE2_UP_ADDR6:-}") a=edge2 ;;
		"$ONPREM_UP_ADDR4"|"$ONPREM_UP_ADDR6") a=onprem ;;
		*) a=$n ;;
		esac
		printf '   upstream sees: %s from %s (%s), origin AS%s, AS path %s\n' "$1" "$a" "$n" "$o" "${p//_/ }"
	done <<<"$paths"
}

# Questions the runbooks ask (0 yes, 1 no).
lc_upstream_only_origin() { [ "$(lc_upstream_origins "$1")" = "$2" ]; }
lc_upstream_has_no_route() { [ -z "$(lc_upstream_paths "$1")" ]; }
lc_rpki_state_is() { [ "$(lc_json rpki validate "$1" "$2" 2>/dev/null | jq -r .state)" = "$3" ]; }
lc_rpki_fresh() { lc_json rpki status 2>/dev/null | jq -e '.fresh == true' >/dev/null; }
lc_bird_up() { lc_json bird status 2>/dev/null | jq -e '.up == true' >/dev/null; }
lc_daemon_answers() { lc_json status >/dev/null 2>&1; }
# lc_edge_sees_origin PREFIX ASN: edge's BIRD holds a route for PREFIX with origin ASN.
lc_edge_sees_origin() { lab_edge_route "$1" "$2"; }

# ---- for the lifecycle lab tests (need lab.sh, prefixd.sh; fail the test on error) ----------
#   lc_test_start [ARGS]           pd_setup, lab_start, prefixd in edge's namespace with the lab
#                                  config plus $LC_EXTRA_CONF, waits for fresh RPKI and BIRD up
#   lc_ensure_pool CIDR            the public pool for CIDR's family (lc-v4 / lc-v6), origin 64500
#                                  (proven first with lc_prove_asn, issue 21)
#   lc_make_auth CIDR              a key, certificate and RDAP record for a prefix lab/up made none for
#   lc_provision_ok CIDR           auth + provision into lc_ensure_pool's pool + wait provisioned
#   lc_expect_refused CODE ARGS... prefixctl ARGS must exit 1 with error code CODE; sets LC_MSG
#   lc_advertise_ok CIDR... [--allow-origin ASN]   advertise must succeed, then state advertised
#   lc_withdraw_ok CIDR... [ARGS]  withdraw must succeed, then state provisioned
#   lc_onprem_off / lc_onprem_on   onprem stops / resumes announcing the migrated prefixes
#   lc_after_handover              the world after a migration: ROAs for AS 64500 only (scenario
#                                  "ours"), onprem silent, upstream without the migrated prefixes
#   lc_edge_exactly PREFIX...      upstream's Adj-RIB-In from edge holds exactly PREFIX... (none: {})
#   lc_wait_edge_exactly TIMEOUT PREFIX...
#   lc_stored_state CIDR           the state in prefixd's store (read-only SQLite; works while
#                                  prefixd is frozen at a failpoint and answers nothing)
#   lc_metric NAME                 the value of a Prometheus sample (sum over labels) from /metrics
#   lc_stayrtr_stop / lc_stayrtr_start   stop the lab's RTR cache / start it again, same arguments
LC_POOL4=lc-v4
LC_POOL6=lc-v6

lc_test_start() {
	pd_setup
	lab_start
	lc_pd_start "$@"
	wait_until 30 "prefixd's RTR data to be fresh" lc_rpki_fresh
	wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
}

lc_pool_for() { if [[ $1 == *:* ]]; then echo "$LC_POOL6"; else echo "$LC_POOL4"; fi; }

lc_ensure_pool() {
	local pool fam=ipv4
	pool=$(lc_pool_for "$1")
	[[ $1 == *:* ]] && fam=ipv6
	lc_json pool show "$pool" >/dev/null 2>&1 && return 0
	lc_prove_asn "AS$EDGE_AS" || fail "AS$EDGE_AS could not be proven"
	lc_json pool create "$pool" --scope public-default --family "$fam" --origin-asn "$EDGE_AS" >/dev/null ||
		fail "pool create $pool: $(lc_json pool create "$pool" --scope public-default --family "$fam" --origin-asn "$EDGE_AS" 2>&1)"
}

lc_make_auth() {
	local dir=$LAB_RUN/auth/${1/\//_}
	[ -f "$dir/key.pem" ] && return 0
	"$LAB_DIR/rdap/make-cert" "$1" "$dir" >/dev/null || fail "make-cert $1"
	"$LAB_DIR/rdap/make-record" "$1" "$dir/cert.pem" "$RDAP_DIR" >/dev/null || fail "make-record $1"
}

lc_provision_ok() {
	local cidr=$1 out
	lc_ensure_pool "$cidr"
	lc_auth "$cidr" || fail "auth context for $cidr"
	out=$(lc_json pool provision "$(lc_pool_for "$cidr")" "$cidr" --auth-message "$LC_AUTH_MSG" \
		--auth-signature "$LC_AUTH_SIG" 2>&1) || fail "provision $cidr refused: $out"
	lc_wait_state "$cidr" provisioned 60 || fail "$cidr did not reach provisioned"
}

lc_expect_refused() {
	local want=$1 out rc=0 got
	shift
	out=$(lc_json "$@" 2>/dev/null) || rc=$?
	[ "$rc" = 1 ] || fail "prefixctl $*: want exit 1 ($want), got $rc: $out"
	got=$(jq -r '.error.code // empty' <<<"$out" 2>/dev/null)
	[ "$got" = "$want" ] || fail "prefixctl $*: want $want, got '$got': $out"
	# shellcheck disable=SC2034 # read by the caller
	LC_MSG=$(jq -r '.error.message // empty' <<<"$out")
}

# lc_cidrs_of ARGS...: the CIDR words of a command line (the rest are flags and their values).
_lc_cidrs_of() {
	local a skip=0
	for a in "$@"; do
		if [ "$skip" = 1 ]; then skip=0; continue; fi
		case $a in --allow-origin|--drain) skip=1 ;; --*) ;; *) echo "$a" ;; esac
	done
}

# _lc_change_ok VERB STATE ARGS...: prefixctl VERB ARGS must succeed and every CIDR among ARGS
# reach STATE.
_lc_change_ok() {
	local verb=$1 want=$2 out c
	shift 2
	out=$(lc_json "$verb" "$@" 2>&1) || fail "$verb $* refused: $out"
	for c in $(_lc_cidrs_of "$@"); do
		lc_wait_state "$c" "$want" 60 || fail "$c not $want after $verb"
	done
}
lc_advertise_ok() { _lc_change_ok advertise advertised "$@"; }
lc_withdraw_ok() { _lc_change_ok withdraw provisioned "$@"; }

lc_onprem_off() {
	lab_birdc onprem disable onprem4 >/dev/null || fail "disable onprem4"
	lab_birdc onprem disable onprem6 >/dev/null || fail "disable onprem6"
}
lc_onprem_on() {
	lab_birdc onprem enable onprem4 >/dev/null || fail "enable onprem4"
	lab_birdc onprem enable onprem6 >/dev/null || fail "enable onprem6"
}

lc_after_handover() {
	lab_set_vrps ours 20
	lc_onprem_off
	lab_wait_no_route_at_upstream "$LAB_PREFIX4"
	lab_wait_no_route_at_upstream "$LAB_PREFIX6"
}

lc_edge_exactly() {
	local want
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | jq -R . | jq -sc .)
	[ "$(lab_peer_routes edge | jq -c 'keys | sort')" = "$want" ]
}

lc_wait_edge_exactly() {
	local t=$1
	shift
	poll_until "$t" lc_edge_exactly "$@" ||
		fail "upstream from edge: want [$*], got $(lab_peer_routes edge | jq -c keys)"
}

lc_stored_state() {
	local db
	db=$(pd_db) || fail "no store in $PD_STATE"
	sqlite3 -readonly "$db" "select json_extract(doc, '\$.state') from docs where kind = 'prefix' and key = '$1'"
}

lc_metric() {
	curl -s --max-time 5 --unix-socket "$(lc_sock)" http://prefixd/metrics |
		awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2; f = 1 } END { if (f) print s; else exit 1 }'
}

# The RTR cache (StayRTR in svc): its command line is kept from the running process, so that a
# restart serves the same file on the same address.
lc_stayrtr_stop() {
	local pid
	pid=$(lab_pidfile_pid stayrtr) || fail "StayRTR is not running"
	tr '\0' '\n' < "/proc/$pid/cmdline" > "$LAB_RUN/stayrtr.cmdline"
	kill -TERM "$pid"
	wait_until 10 "StayRTR to exit" eval '! lab_pid_alive '"$pid"
}

lc_stayrtr_start() {
	local args=()
	mapfile -t args < "$LAB_RUN/stayrtr.cmdline"
	# The recorded command line is StayRTR's own (ip netns exec execs it): start it in svc.
	lab_spawn stayrtr svc "${args[@]}"
	wait_until 10 "StayRTR to run" lab_pidfile_pid stayrtr
}
