#!/usr/bin/env bash
# bench_pg.sh — durable allocations/s on PostgreSQL (issue 16 must-be-true 4), in one run:
#   1. SQLite, 1 instance (the embedded default; the baseline of the ratios)
#   2. PostgreSQL, 1 instance
#   3. PostgreSQL, 3 instances on one database, the 16 clients spread over them
# 16 concurrent closed-loop clients (bench_api_alloc), all allocating by size (/32) in ONE
# pool (the contended case: every allocation of every instance depends on the previous one),
# each answer after COMMIT (SQLite synchronous=FULL; PostgreSQL fsync=on, synchronous_commit
# on). p50/p99 over all requests. Targets: >= 5,000/s with 3 instances, p99 < 50 ms. Peer
# figure: go-ipam publishes about 100 allocations/s on PostgreSQL (optimistic locking, 10
# retries) — quoted, not measured here.
#
#   tests/bench/bench_pg.sh BUILD_DIR [REQUESTS_PER_CLIENT]
#
# The cluster and the SQLite file are on $TMPDIR's file system (/tmp): fsync costs are that
# disk's. The machine is shared: run it twice before quoting a figure.
set -euo pipefail
BUILD=${1:?usage: bench_pg.sh BUILD_DIR [REQUESTS_PER_CLIENT]}
PER=${2:-500}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ALLOC=$BUILD/tests/bench_api_alloc
[ -x "$ALLOC" ] && [ -x "$BUILD/prefixd" ] || { echo "build prefixd and bench_api_alloc first" >&2; exit 1; }
export PREFIXD_BUILD_DIR=$BUILD PREFIXD_SOURCE_DIR=$SRC PREFIXD_TEST_STORE=postgresql PG_FSYNC=${PG_FSYNC:-on}
. "$SRC/tests/integration/lib/prefixd.sh"
. "$SRC/tests/integration/lib/pg_multi.sh"
PD_LOG_LEVEL=warn
pd_setup >/dev/null
pgm_init

# SQLite: one instance with the embedded store, in its own state dir
sq=$PD_DIR/sqlite
mkdir -p "$sq/state"
printf '[daemon]\nstate_dir = %s\nsocket = %s\nlog_level = warn\n' "$sq/state" "$sq/prefixd.sock" > "$sq/prefixd.conf"
"$PD_BIN" -c "$sq/prefixd.conf" >>"$sq/log" 2>&1 &
PGM_PID[sqlite]=$!
sq_answers() { curl -sf --max-time 2 --unix-socket "$sq/prefixd.sock" http://prefixd/v1/status >/dev/null; }
pd_wait_for sq_answers || pd_fail "the SQLite instance did not answer"
pool() {        # pool SOCK NAME CIDR
	curl -sf --unix-socket "$1" -H 'Content-Type: application/json' -X POST \
		-d "{\"name\":\"$2\",\"scope\":\"private-default\"}" http://prefixd/v1/pools >/dev/null
	curl -sf --unix-socket "$1" -H 'Content-Type: application/json' -X POST \
		-d "{\"cidr\":\"$3\"}" "http://prefixd/v1/pools/$2/provision" >/dev/null
}
pool "$sq/prefixd.sock" bench 10.0.0.0/8
sqlite=$("$ALLOC" "$sq/prefixd.sock" bench 16 "$PER")
kill -TERM "${PGM_PID[sqlite]}"; wait "${PGM_PID[sqlite]}" || true; PGM_PID[sqlite]=

pgm_start 1; pgm_start 2; pgm_start 3
pool "$(pgm_sock 1)" one 10.0.0.0/8
pool "$(pgm_sock 1)" three 11.0.0.0/8
sleep 0.2       # not a wait for correctness: the pools reach instances 2 and 3 by the feed
pg1=$("$ALLOC" "$(pgm_sock 1)" one 16 "$PER")
pg3=$("$ALLOC" "$(pgm_sock 1),$(pgm_sock 2),$(pgm_sock 3)" three 16 "$PER")
ov=$(pg_psql "SELECT count(*) FROM allocations a JOIN allocations b ON a.pool_id = b.pool_id AND a.id < b.id AND a.cidr && b.cidr")
stored=$(pg_psql "SELECT count(*) FROM allocations")

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(field alloc_per_s "$2")" "$(field p50_ms "$2")" \
	"$(field p99_ms "$2")" "$(ratio "$(field alloc_per_s "$2")" "$(field alloc_per_s "$sqlite")")" "$(field ok "$2")/$(field requests "$2")"; }
echo "## bench_pg ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $(pg_psql 'SHOW server_version' | cut -d' ' -f1))"
echo
echo "Command: \`tests/bench/bench_pg.sh BUILD_DIR $PER\` — 16 clients, one pool, /32 by size, durable"
echo
echo "| store | alloc/s | p50 ms | p99 ms | x SQLite | ok |"
echo "|---|---|---|---|---|---|"
row "SQLite, 1 instance (baseline)" "$sqlite"
row "PostgreSQL, 1 instance" "$pg1"
row "PostgreSQL, 3 instances" "$pg3"
echo "| go-ipam on PostgreSQL (published, not measured) | ~100 | | | | |"
echo
echo "Targets (3 instances): >= 5,000/s: $(awk -v v="$(field alloc_per_s "$pg3")" 'BEGIN { print (v >= 5000) ? "yes" : "NO" }'),"\
 "p99 < 50 ms: $(awk -v v="$(field p99_ms "$pg3")" 'BEGIN { print (v < 50) ? "yes" : "NO" }');"\
 "x go-ipam (3 instances): $(ratio "$(field alloc_per_s "$pg3")" 100)."
echo "Afterwards: $stored allocations stored, $ov overlapping pairs."
[ "$ov" = 0 ] || exit 1
