#!/usr/bin/env bash
# ctest-labels: reliability
# The crash and race test of the PostgreSQL store (issue 16, "must be true" 2): three prefixd
# instances on one database, sixteen clients spread over them (tests/tools/rel_crash_clients
# in "mixed" mode: by size with a token, explicit /28s with a token, by size without one, and
# releases; a client whose instance dies or answers 503 moves to the next instance and repeats
# the same request there). Meanwhile every instance is SIGKILLed at a random moment 0-400 ms
# after it answered (or, every other time, after it was started) and restarted, again and
# again (PG_RACE_KILLS in total, default 200), and
# the database connections of the instances are cut with pg_terminate_backend every 0.2-0.6 s
# (at least PG_RACE_TERMS that hit one, default 50). Afterwards:
#   - no two allocations of a pool overlap (a self-join on && in psql finds nothing);
#   - every acknowledged allocation is stored with its id and CIDR unless its release was
#     acknowledged or is in flight; every acknowledged release stays released;
#   - no token is on two allocations (in the store, or in two acknowledgements);
#   - every instance, including those that ran through the others' changes without a restart,
#     lists exactly the stored allocations;
#   - `audit verify` passes: one unbroken chain whoever wrote each event.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
kills_min=${PG_RACE_KILLS:-200}
terms_min=${PG_RACE_TERMS:-50}
deadline_s=${PG_RACE_DEADLINE:-300}
clients_bin=$PREFIXD_BUILD_DIR/tests/rel_crash_clients
[ -x "$clients_bin" ] || pd_fail "missing $clients_bin"
pd_setup
pgm_init
PD_TIMEOUT=30
logs=$PD_DIR/logs
mkdir -p "$logs"
stop_faults=$PD_DIR/stop-faults
stop_clients=$PD_DIR/stop-clients
bg=()

# Instances are started by their killer subshells (their parent, so it can wait for them);
# each writes its instance's pid to $PD_DIR/iN/pid. The exit hook ends them all.
race_cleanup() {
	local rc=$? f
	set +e          # (exit "$rc") must not end the hook before pgm_cleanup stops the cluster
	touch "$stop_faults" "$stop_clients"
	for f in "$PD_DIR"/i*/pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
	for f in "${bg[@]}"; do wait "$f" 2>/dev/null || true; done
	(exit "$rc")
	pgm_cleanup
}
trap race_cleanup EXIT

# run_inst N: starts instance N until it answers. A start whose database connection is cut
# while it loads exits 1 ("loading the model ...: server closed the connection"), by design:
# it is started again, as systemd's Restart=on-failure would; counted in iN/startfail.
settled() { pgm_answers "$1" || ! pgm_alive "$1"; }
run_inst() {
	local n=$1 dir=$PD_DIR/i$1
	while :; do
		rm -f "$dir/prefixd.sock"
		"$PD_BIN" -c "$dir/prefixd.conf" >>"$dir/log" 2>&1 &
		PGM_PID[$n]=$!
		echo "$!" > "$dir/pid"
		pd_wait_for settled "$n" || pd_fail "instance $n neither answered nor exited"
		pgm_answers "$n" && return 0
		wait "${PGM_PID[$n]}" 2>/dev/null || true
		echo x >> "$dir/startfail"
	done
}

# killer N: runs instance N and SIGKILLs it, until $stop_faults; leaves it running (answering).
# Every other kill comes 0-400 ms after the instance answered, the others 0-400 ms after it
# was started (while it connects, loads, or has just begun to serve): restart time is what
# bounds the kill rate. Counts its kills in $PD_DIR/iN/kills.
killer() {
	local n=$1 k=0 dir=$PD_DIR/i$1
	run_inst "$n"
	while [ ! -e "$stop_faults" ]; do
		sleep "0.$(printf '%03d' $(( RANDOM % 400 )))"
		pgm_kill "$n"
		k=$((k + 1))
		echo "$k" > "$dir/kills"
		if (( k % 2 )); then
			rm -f "$dir/prefixd.sock"
			"$PD_BIN" -c "$dir/prefixd.conf" >>"$dir/log" 2>&1 &
			PGM_PID[$n]=$!
			echo "$!" > "$dir/pid"
		else
			run_inst "$n"
		fi
	done
	pgm_alive "$n" && pd_wait_for settled "$n" && pgm_answers "$n" || run_inst "$n"
}

# terminator: cuts one random database connection of the instances every 0.2-0.6 s; counts
# the cuts that hit one in $PD_DIR/terms.
terminator() {
	local t=0 hit
	while [ ! -e "$stop_faults" ]; do
		sleep "0.$(( 2 + RANDOM % 5 ))"
		hit=$(pg_psql "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS t
			FROM pg_stat_activity WHERE datname = 'prefixd' AND backend_type = 'client backend'
			AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1) x WHERE t" 2>/dev/null) || hit=0
		t=$((t + ${hit:-0}))
		echo "$t" > "$PD_DIR/terms"
	done
}

total_kills() { cat "$PD_DIR"/i*/kills 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
terms() { local t; t=$(cat "$PD_DIR/terms" 2>/dev/null) || true; echo "${t:-0}"; }

# ---- three instances, one pool ----
for n in 1 2 3; do pgm_start "$n"; done
pgm_curl 1 POST /v1/pools '{"name":"crash","scope":"private-default"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "pool create: $PD_STATUS"
pgm_curl 1 POST /v1/pools/crash/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "provision: $PD_STATUS"
for n in 1 2 3; do pgm_kill "$n"; done
t0=$(date +%s)
for n in 1 2 3; do killer "$n" & bg+=($!); done
for n in 1 2 3; do pd_wait_for test -s "$PD_DIR/i$n/pid" || pd_fail "instance $n did not start"; done
terminator & bg+=($!)
"$clients_bin" "$(pgm_sock 1),$(pgm_sock 2),$(pgm_sock 3)" crash 16 "$logs" "$stop_clients" mixed \
	> "$PD_DIR/clients.out" &
cpid=$!
while (( $(total_kills) < kills_min || $(terms) < terms_min )); do
	(( $(date +%s) - t0 < deadline_s )) ||
		pd_fail "after ${deadline_s}s only $(total_kills) kills and $(terms) cut connections"
	sleep 0.5
done
touch "$stop_faults"
for p in "${bg[@]}"; do wait "$p" || pd_fail "a fault injector failed"; done
bg=()
elapsed=$(( $(date +%s) - t0 ))
kills=$(total_kills)
cut=$(terms)
touch "$stop_clients"
wait "$cpid" || true
summary=$(cat "$PD_DIR/clients.out")
restarts=$(cat "$PD_DIR"/i*/startfail 2>/dev/null | wc -l)
pd_ok "$kills SIGKILLs and $cut cut connections in ${elapsed}s ($restarts starts cut and run again); clients: $summary"
grep -q 'errors=0' <<<"$summary" ||
	pd_fail "clients saw answers the contract does not allow: $(grep -h '^E' "$logs"/*.log | head -5)"
[ "$(grep -o 'allocs=[0-9]*' <<<"$summary" | cut -d= -f2)" -gt "$kills" ] ||
	pd_fail "too few allocations to mean anything: $summary"

# ---- the database itself ----
overlaps=$(pg_psql "SELECT a.id || ' ' || a.cidr || ' ' || b.id || ' ' || b.cidr FROM allocations a
	JOIN allocations b ON a.pool_id = b.pool_id AND a.id < b.id AND a.cidr && b.cidr")
[ -z "$overlaps" ] || pd_fail "overlapping allocations: $overlaps"
twice=$(pg_psql "SELECT pool_id || ' ' || token FROM allocations WHERE token IS NOT NULL
	GROUP BY pool_id, token HAVING count(*) > 1")
[ -z "$twice" ] || pd_fail "tokens on two allocations: $twice"
pd_ok "no overlap (self-join on &&), no token twice"

pgm_crash_verdict crash "$logs" 3
