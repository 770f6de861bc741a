#!/usr/bin/env bash
# bench_pg_trips.sh — where a PostgreSQL batch's time goes, independent of the machine's load:
# round trips to the database per allocation and per batch (group commit), counted from the
# client side (strace counts prefixd's send() calls on its libpq socket: libpq sends each
# pipeline or statement with MSG_NOSIGNAL, the HTTP side does not), over N allocations by
# 16 closed-loop clients against 1 instance.
#
#   tests/bench/bench_pg_trips.sh BUILD_DIR [REQUESTS_PER_CLIENT]
set -euo pipefail
BUILD=${1:?usage: bench_pg_trips.sh BUILD_DIR [REQUESTS_PER_CLIENT]}
PER=${2:-100}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ALLOC=$BUILD/tests/bench_api_alloc
command -v strace >/dev/null || { echo "needs strace" >&2; exit 1; }
export PREFIXD_BUILD_DIR=$BUILD PREFIXD_SOURCE_DIR=$SRC PREFIXD_TEST_STORE=postgresql PG_FSYNC=${PG_FSYNC:-on}
. "$SRC/tests/integration/lib/prefixd.sh"
. "$SRC/tests/integration/lib/pg_multi.sh"
PD_LOG_LEVEL=warn
pd_setup >/dev/null
pgm_init
pgm_start 1
s=$(pgm_sock 1)
curl -sf --unix-socket "$s" -H 'Content-Type: application/json' -X POST \
	-d '{"name":"one","scope":"private-default"}' http://prefixd/v1/pools >/dev/null
curl -sf --unix-socket "$s" -H 'Content-Type: application/json' -X POST \
	-d '{"cidr":"10.0.0.0/8"}' http://prefixd/v1/pools/one/provision >/dev/null
batches() { curl -sf --unix-socket "$s" http://prefixd/metrics |
	sed -n 's/^prefixd_store_commit_duration_seconds_count[^ ]* \([0-9]*\).*/\1/p'; }
b0=$(batches)
strace -f -e trace=sendto -o "$PD_DIR/trace" -p "${PGM_PID[1]}" 2>/dev/null &
tr=$!
pd_wait_for test -s "$PD_DIR/trace" || true
out=$("$ALLOC" "$s" one 16 "$PER")
b1=$(batches)
kill -INT "$tr"; wait "$tr" 2>/dev/null || true
trips=$(grep -c 'MSG_NOSIGNAL' "$PD_DIR/trace" || true)
ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$out")
n=$((b1 - b0))
awk -v t="$trips" -v ok="$ok" -v n="$n" 'BEGIN { printf "%d allocations in %d batches (%.1f per batch): %d round trips, %.2f per allocation, %.1f per batch\n", ok, n, ok / n, t, t / ok, t / n }'
echo "(under strace, so no throughput figure): $out"
