#!/usr/bin/env bash
# bench_bird.sh — prefixd's BIRD transaction (bird_apply: check -> timeout -> read back ->
# confirm) against a bare `configure` on the same BIRD in the same run, and, in the lab, until
# upstream's Adj-RIB-In (GoBGP) holds the routes. Prints a Markdown table (README figures).
#
#   tests/bench/bench_bird.sh BUILD_DIR [--lab]       run as root
#
# 1. A private BIRD 2 (device + prefixd's include, no peers): 100 single-prefix transactions
#    (p50/p99) vs the same change done bare; one batch of 10,000 /24s.
# 2. With --lab: a lab (lab/up, network namespaces) and bench_bird on edge's BIRD; each single
#    transaction is also timed until upstream holds the prefix (gobgp adj-in polled every
#    10 ms), and the 10,000 batch until upstream holds all 10,000.
# Targets (issue 7): single p50 <= 1 s; the 10,000 batch within 5 s.
set -euo pipefail
BUILD=${1:?usage: bench_bird.sh BUILD_DIR [--lab]}
LAB=${2:-}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$BUILD/tests/bench_bird
[ -x "$BENCH" ] || { echo "build bench_bird first ($BENCH)" >&2; exit 1; }
. "$SRC/tests/integration/lib/common.sh"

T=$(mktemp -d /tmp/bench_bird.XXXXXX)
on_exit 'rm -rf "$T"'
printf 'router id 192.0.2.1;\nprotocol device {}\ninclude "%s/bird.include";\n' "$T" > "$T/bird.conf"
printf 'protocol static prefixd4 {\n\tipv4;\n}\nprotocol static prefixd6 {\n\tipv6;\n}\n' > "$T/bird.include"
bird -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
on_exit 'kill $(cat "$T/bird.pid") 2>/dev/null'
wait_until 10 "BIRD" birdc -s "$T/bird.ctl" show status
"$BENCH" -s "$T/bird.ctl" -i "$T/bird.include" > "$T/local.out"
. "$T/local.out"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "## bench_bird ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(bird --version 2>&1))"
echo
echo "Command: \`tests/bench/bench_bird.sh BUILD_DIR${LAB:+ $LAB}\`"
echo
echo "| measure (private BIRD, no peers) | prefixd transaction | bare configure (baseline) | ratio |"
echo "|---|---|---|---|"
echo "| one prefix, p50 (n=$single_n) | ${single_p50_ms} ms | ${base_p50_ms} ms | $(ratio "$single_p50_ms" "$base_p50_ms") |"
echo "| one prefix, p99 | ${single_p99_ms} ms | ${base_p99_ms} ms | $(ratio "$single_p99_ms" "$base_p99_ms") |"
echo "| batch of $batch_n /24s | ${batch_ms} ms | ${batch_base_ms} ms | $(ratio "$batch_ms" "$batch_base_ms") |"

[ "$LAB" = --lab ] || exit 0
. "$SRC/tests/integration/lib/lab.sh"
lab_start >&2
{
	echo '#!/usr/bin/env bash'
	echo '# upwait PREFIX: returns once upstream adj-in from edge holds PREFIX (10 s at most)'
	echo 'for i in $(seq 1000); do'
	echo "	ip netns exec '$NS_UPSTREAM' gobgp -u 127.0.0.1 -p 50051 neighbor $EDGE_UP_ADDR4 adj-in \"\$1\" 2>/dev/null | grep -qF \"\$1\" && exit 0"
	echo '	sleep 0.01'
	echo 'done'
	echo 'exit 1'
} > "$T/upwait"
chmod +x "$T/upwait"
received() {
	ip netns exec "$NS_UPSTREAM" gobgp -u 127.0.0.1 -p 50051 neighbor "$EDGE_UP_ADDR4" adj-in -a ipv4 2>/dev/null |
	    grep -c '^ *\*\?>\? *[0-9]' || true
}
"$BENCH" -s "$EDGE_BIRD_SOCK" -i "$EDGE_BIRD_INCLUDE" -w "$T/upwait" -N 0 > "$T/lab.out"
. "$T/lab.out"
lab_n=$single_n lab_p50=$single_p50_ms lab_p99=$single_p99_ms
# The batch: start it, then poll upstream's received count.
"$BENCH" -s "$EDGE_BIRD_SOCK" -i "$EDGE_BIRD_INCLUDE" -n 2 -N 10000 > "$T/batch.out" &
bpid=$!
export -f received
export NS_UPSTREAM EDGE_UP_ADDR4
wait_until 60 "upstream holding 10000 routes" bash -c '[ "$(received)" -ge 10000 ]'
t_all=$(now_ms)
wait "$bpid"
. "$T/batch.out"
up_batch_ms=$(( t_all - ${batch_start_epoch_ms%.*} ))
echo
echo "| measure (lab: edge BIRD -> eBGP -> upstream GoBGP adj-in) | value | target |"
echo "|---|---|---|"
echo "| one prefix: request -> confirmed, p50 / p99 (n=$lab_n) | ${lab_p50} / ${lab_p99} ms | |"
echo "| one prefix: request -> in upstream's adj-in, p50 / p99 | ${up_p50_ms} / ${up_p99_ms} ms | p50 <= 1000 ms |"
echo "| 10,000 batch: request -> confirmed | ${batch_ms} ms | |"
echo "| 10,000 batch: request -> all in upstream's adj-in (polled) | ${up_batch_ms} ms | <= 5000 ms |"
