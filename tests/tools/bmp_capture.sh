#!/usr/bin/env bash
# bmp_capture.sh — records real BMP from GoBGP (gobgpd 3.10) for tests/unit/test_bmp.c and the
# fuzz corpus. Needs root (it makes a network namespace), gobgpd/gobgp and a build of
# tests/tools (bmp_sink, bmp_dump).
#
#   tests/tools/bmp_capture.sh [OUT]      default OUT: tests/unit/data/bmp_gobgp.bin
#
# In a namespace of its own (bmpcap-PID), on addresses of its loopback, three gobgpd speak eBGP:
#   observer  AS 64501  192.0.2.2, 2001:db8:ffff::2   exports BMP (route-monitoring-policy
#                                                    "all": pre-policy, post-policy, Loc-RIB;
#                                                    statistics every 15 s) to bmp_sink
#   edge      AS 64500  192.0.2.1, 2001:db8:ffff::1   one session per family to observer
#   onprem    AS 64496  192.0.2.3                     one IPv4 session to observer
# Routes injected with `gobgp global rib add`:
#   edge    203.0.113.0/24      community 64500:100, large community 64500:1:2
#   edge    2001:db8:1000::/48  community 64500:200, large community 64500:3:4
#   edge    198.51.100.0/24     AS path "4200000001 {64511,64512}" (a 4-byte ASN, an AS_SET)
#   onprem  203.0.113.0/25      (the more-specific from another origin: a hijack)
# then onprem withdraws its /25, one statistics report is awaited, observer disables its
# onprem session (Peer Down) and observer stops (the BMP session closes). Every step polls
# bmp_dump's reading of the capture with a deadline.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${PREFIXD_BUILD_DIR:-$src/build}
out=${1:-$src/tests/unit/data/bmp_gobgp.bin}
ns=bmpcap-$$
run=$(mktemp -d)
pids=()

die() { echo "bmp_capture: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace)"
for t in gobgpd gobgp; do command -v $t >/dev/null || die "$t missing (scripts/install-deps)"; done
for t in bmp_sink bmp_dump; do [ -x "$build/tests/$t" ] || die "build $build/tests/$t first"; done

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT

# poll SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds.
poll() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || die "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}
nsx() { ip netns exec "$ns" "$@"; }
dump() { "$build/tests/bmp_dump" "$run/capture.bin"; }
seen() { dump | grep -qE "$1"; }
# gobgp of a node: api port 50051 observer, 50052 edge, 50053 onprem.
gob() { local port=$1; shift; nsx gobgp -p "$port" "$@"; }

ip netns add "$ns"
nsx ip link set lo up
nsx sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
for a in 192.0.2.1/32 192.0.2.2/32 192.0.2.3/32 2001:db8:ffff::1/128 2001:db8:ffff::2/128; do
	nsx ip addr add "$a" dev lo
done

neighbor() { # ADDRESS PEER_AS LOCAL FAMILY
	cat <<EOT
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$1"
    peer-as = $2
  [neighbors.transport.config]
    local-address = "$3"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "$4"
EOT
}
{
	printf '[global.config]\n  as = 64501\n  router-id = "192.0.2.2"\n'
	printf '  local-address-list = ["192.0.2.2", "2001:db8:ffff::2"]\n'
	neighbor 192.0.2.1 64500 192.0.2.2 ipv4-unicast
	neighbor 2001:db8:ffff::1 64500 2001:db8:ffff::2 ipv6-unicast
	neighbor 192.0.2.3 64496 192.0.2.2 ipv4-unicast
	printf '[[bmp-servers]]\n  [bmp-servers.config]\n    address = "127.0.0.1"\n'
	printf '    port = 11019\n    route-monitoring-policy = "all"\n    statistics-timeout = 15\n'
} > "$run/observer.toml"
{
	printf '[global.config]\n  as = 64500\n  router-id = "192.0.2.1"\n'
	printf '  local-address-list = ["192.0.2.1", "2001:db8:ffff::1"]\n'
	neighbor 192.0.2.2 64501 192.0.2.1 ipv4-unicast
	neighbor 2001:db8:ffff::2 64501 2001:db8:ffff::1 ipv6-unicast
} > "$run/edge.toml"
{
	printf '[global.config]\n  as = 64496\n  router-id = "192.0.2.3"\n'
	printf '  local-address-list = ["192.0.2.3"]\n'
	neighbor 192.0.2.2 64501 192.0.2.3 ipv4-unicast
} > "$run/onprem.toml"

ip netns exec "$ns" "$build/tests/bmp_sink" 127.0.0.1 11019 "$run/capture.bin" > "$run/sink.out" 2>&1 &
sink=$!
pids+=("$sink")
poll 10 "bmp_sink to listen" grep -q ready "$run/sink.out"
port=50051
for node in observer edge onprem; do
	ip netns exec "$ns" gobgpd -f "$run/$node.toml" --api-hosts "127.0.0.1:$port" --pprof-disable -p \
		> "$run/$node.log" 2>&1 &
	pids+=("$!")
	port=$((port + 1))
done
poll 30 "three established sessions" bash -c \
	"[ \$(ip netns exec $ns gobgp -p 50051 neighbor | grep -c Establ) = 3 ]"

gob 50052 global rib add -a ipv4 203.0.113.0/24 community 64500:100 large-community 64500:1:2
gob 50052 global rib add -a ipv6 2001:db8:1000::/48 community 64500:200 large-community 64500:3:4
gob 50052 global rib add -a ipv4 198.51.100.0/24 aspath "4200000001 {64511,64512}"
gob 50053 global rib add -a ipv4 203.0.113.0/25
for v in pre-policy post-policy loc-rib; do
	for p in 203.0.113.0/24 2001:db8:1000::/48 198.51.100.0/24 203.0.113.0/25; do
		poll 20 "$p in $v" seen "^route-monitoring $v .*\+ $p "
	done
done
gob 50053 global rib del -a ipv4 203.0.113.0/25
poll 20 "withdrawal of 203.0.113.0/25" seen "^route-monitoring loc-rib .*- 203.0.113.0/25"
poll 40 "a statistics report" seen "^statistics "
gob 50051 neighbor 192.0.2.3 disable
poll 20 "peer down of 192.0.2.3" seen "^peer-down .*peer=192.0.2.3 "
kill "${pids[1]}"
poll 20 "the BMP session to close" bash -c "! kill -0 $sink"
mkdir -p "$(dirname "$out")"
cp "$run/capture.bin" "$out"
dump
echo "bmp_capture: $(wc -c < "$out") bytes in $out"
