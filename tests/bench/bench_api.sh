#!/usr/bin/env bash
# bench_api.sh — the control API's throughput (issue 3 targets), each figure next to a
# baseline measured in the same run. Prints a Markdown table for the README.
#
#   tests/bench/bench_api.sh BUILD_DIR [SECONDS]
#
# 1. GET throughput: wrk over TCP loopback (bearer token) on GET /v1/pools/bench (a real read:
#    one pool with its CIDRs and utilization). Baseline: the same wrk run on GET /v1/status,
#    the cheapest route (transport, token check and dispatch with almost no model work).
#    Target >= 20,000 GET/s.
# 2. Durable allocations: bench_api_alloc with 16 concurrent clients over the unix socket,
#    each allocation COMMITted (SQLite WAL, synchronous=FULL) before its answer, p50/p99.
#    Baseline: one client alone (no group commit possible). Targets >= 5,000 alloc/s, p99 <
#    20 ms.
# The state directory is on the same file system as $TMPDIR (/tmp by default): fsync costs
# are that disk's.
set -euo pipefail
BUILD=${1:?usage: bench_api.sh BUILD_DIR [SECONDS]}
SECS=${2:-5}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ALLOC=$BUILD/tests/bench_api_alloc
[ -x "$ALLOC" ] && [ -x "$BUILD/prefixd" ] || { echo "build prefixd and bench_api_alloc first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
export PREFIXD_BUILD_DIR=$BUILD PREFIXD_SOURCE_DIR=$SRC
. "$SRC/tests/integration/lib/prefixd.sh"
pd_setup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'bench admin %s\n' "$(printf %s bench-token | sha256sum | cut -d' ' -f1)" > "$PD_DIR/tokens"
PD_LOG_LEVEL=warn
pd_config <<INI
[daemon]
listen = 127.0.0.1:$port
tokens_file = $PD_DIR/tokens
max_connections = 1024
INI
pd_start
pd_expect 201 - POST /v1/pools '{"name":"bench","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/bench/provision '{"cidr":"10.0.0.0/8"}' >/dev/null

# wrk_rps ARGS...: requests/s of a wrk run (2 threads, 64 connections).
wrk_rps() {
	wrk -t2 -c64 -d"${SECS}s" "$@" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }'
}
get_rps=$(wrk_rps -H 'Authorization: Bearer bench-token' "http://127.0.0.1:$port/v1/pools/bench")
floor_rps=$(wrk_rps -H 'Authorization: Bearer bench-token' "http://127.0.0.1:$port/v1/status")
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer bench-token' "http://127.0.0.1:$port/v1/pools/bench")
[ "$status" = 200 ] || pd_fail "GET with the token answers $status"

one=$("$ALLOC" "$PD_SOCK" bench 1 $((200 * SECS)))
many=$("$ALLOC" "$PD_SOCK" bench 16 $((400 * SECS)))
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
pass() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == ">=" ? v >= t : v < t; print ok ? "yes" : "NO" }'; }
stats=$(pd_curl GET /metrics | awk '$1 == "prefixd_store_commit_duration_seconds_count" { c = $2 }
	$1 == "prefixd_store_commit_changes_total" { n = $2 } END { printf "%.1f", n / c }')
pd_stop

echo "## bench_api ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, prefixd $("$BUILD/prefixd" -V | cut -d' ' -f2))"
echo
echo "Command: \`tests/bench/bench_api.sh BUILD_DIR $SECS\`"
echo
echo "| measure | prefixd | baseline (same run) | ratio | target | met |"
echo "|---|---|---|---|---|---|"
echo "| GET /v1/pools/NAME over TCP loopback, wrk 2 threads x 64 connections | $get_rps req/s | $floor_rps req/s (GET /v1/status) | $(ratio "$get_rps" "$floor_rps") | >= 20,000/s | $(pass "$get_rps" 20000 '>=') |"
echo "| durable allocations, 16 clients, unix socket | $(field alloc_per_s "$many") alloc/s | $(field alloc_per_s "$one") alloc/s (1 client) | $(ratio "$(field alloc_per_s "$many")" "$(field alloc_per_s "$one")") | >= 5,000/s | $(pass "$(field alloc_per_s "$many")" 5000 '>=') |"
echo "| allocate latency p50, 16 clients | $(field p50_ms "$many") ms | $(field p50_ms "$one") ms (1 client) | $(ratio "$(field p50_ms "$many")" "$(field p50_ms "$one")") | | |"
echo "| allocate latency p99, 16 clients | $(field p99_ms "$many") ms | $(field p99_ms "$one") ms (1 client) | $(ratio "$(field p99_ms "$many")" "$(field p99_ms "$one")") | < 20 ms | $(pass "$(field p99_ms "$many")" 20 '<') |"
echo
echo "Group commit: $stats changes per COMMIT on average over the run."
