#!/usr/bin/env bash
# obs_bench_audit.sh — what the audit log costs (issue 9, must-be-true 5): the daemon issue's
# durable-allocation benchmark (tests/bench/bench_api_alloc, 16 clients over the unix socket,
# every allocation COMMITted with synchronous=FULL before its answer) run side by side against
# prefixd in three modes (environment PREFIXD_AUDIT, for benchmarks only):
#   on       every change writes its hash-chained event in the same transaction (production);
#   nochain  events are written (history) but not hashed or chained;
#   off      no events at all.
# The modes alternate ROUNDS times on fresh stores so that disk noise hits them alike. Each
# run is 5,000 x SECONDS allocations (what 5,000 operations/s for SECONDS seconds asks for);
# the figure is each mode's median throughput. Prints two Markdown rows for the README: the
# chain's cost (on vs nochain) and the whole event log's (on vs off). Exits 1 when either
# cost is above 20 % (issue 9, must-be-true 5).
#
#   tests/tools/obs_bench_audit.sh BUILD_DIR [SECONDS] [ROUNDS]
set -euo pipefail
BUILD=${1:?usage: obs_bench_audit.sh BUILD_DIR [SECONDS] [ROUNDS]}
SECS=${2:-10}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ALLOC=$BUILD/tests/bench_api_alloc
[ -x "$ALLOC" ] && [ -x "$BUILD/prefixd" ] || { echo "build prefixd and bench_api_alloc first" >&2; exit 1; }
export PREFIXD_BUILD_DIR=$BUILD PREFIXD_SOURCE_DIR=$SRC
. "$SRC/tests/integration/lib/prefixd.sh"
pd_setup
PD_LOG_LEVEL=warn
CLIENTS=16
PER=$(( 5000 * SECS / CLIENTS ))

# run MODE N: one benchmark run on a fresh store; prints alloc/s.
run() {
	local out
	PD_STATE=$PD_DIR/state-$1-$2
	PREFIXD_AUDIT=$1 pd_start
	pd_expect 201 - POST /v1/pools '{"name":"bench","scope":"private-default"}' >/dev/null
	pd_expect 201 - POST /v1/pools/bench/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
	out=$("$ALLOC" "$PD_SOCK" bench $CLIENTS $PER)
	n=$(sqlite3 "$PD_STATE/prefixd.db" "SELECT count(*) FROM events")
	if [ "$1" != off ] && [ "$n" -lt $((CLIENTS * PER)) ]; then pd_fail "audit $1 wrote only $n events"; fi
	if [ "$1" = off ] && [ "$n" != 0 ]; then pd_fail "audit off wrote $n events"; fi
	pd_stop
	rm -rf "$PD_STATE"
	sed -n 's/.*alloc_per_s=\([0-9.]*\).*/\1/p' <<<"$out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

on=() nochain=() off=()
for i in $(seq "$ROUNDS"); do
	on+=("$(run on "$i")")
	nochain+=("$(run nochain "$i")")
	off+=("$(run off "$i")")
	echo "round $i: audit on ${on[-1]}, nochain ${nochain[-1]}, off ${off[-1]} alloc/s" >&2
done
m_on=$(printf '%s\n' "${on[@]}" | median)
m_nochain=$(printf '%s\n' "${nochain[@]}" | median)
m_off=$(printf '%s\n' "${off[@]}" | median)
cost() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * (1 - a / b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
chain=$(cost "$m_on" "$m_nochain")
whole=$(cost "$m_on" "$m_off")
within() { awk -v c="$1" 'BEGIN { print c <= 20 ? "yes" : "NO" }'; }
ok=$(within "$chain")
ok_whole=$(within "$whole")
what="durable allocations, $CLIENTS clients, $((CLIENTS * PER)) per run, median of $ROUNDS"
cmd="\`tests/tools/obs_bench_audit.sh BUILD_DIR $SECS $ROUNDS\`"
echo "| measure | audit on | baseline (same run) | ratio | cost | <= 20 % | command |"
echo "|---|---|---|---|---|---|---|"
echo "| $what: the hash chain | $(printf '%.0f' "$m_on") alloc/s | events without chain: $(printf '%.0f' "$m_nochain") alloc/s | $(ratio "$m_on" "$m_nochain") | $chain % | $ok | $cmd |"
echo "| $what: the whole event log | $(printf '%.0f' "$m_on") alloc/s | no events: $(printf '%.0f' "$m_off") alloc/s | $(ratio "$m_on" "$m_off") | $whole % | $ok_whole | $cmd |"
echo "runs on: ${on[*]}; nochain: ${nochain[*]}; off: ${off[*]}" >&2
[ "$ok" = yes ] && [ "$ok_whole" = yes ]
