#!/usr/bin/env bash
# ctest-labels: asan reliability
# Crash injection (issue 10, item 3): sixteen clients allocate and release through the API
# (tests/tools/rel_crash_clients, unix socket, a fresh client token per allocation, retries of
# the same request after a lost answer) while prefixd is SIGKILLed at a random moment and
# restarted, REL_CRASH_KILLS times (default 200; the long run before a release is
# REL_CRASH_KILLS=1000). Every REL_CRASH_CHECK_EVERY kills (default 20), while prefixd is dead,
# and at the end, the store is checked against what the clients were told:
#   - every acknowledged allocation is present with its id and CIDR, unless its release was
#     acknowledged later; every acknowledged release stays released;
#   - no two allocations overlap;
#   - no client token maps to two allocations (in the store, or in two acknowledgements);
#   - PRAGMA integrity_check says ok.
# At the end prefixd is restarted once more and its API lists exactly the stored allocations.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
kills=${REL_CRASH_KILLS:-200}
every=${REL_CRASH_CHECK_EVERY:-20}
clients_bin=$PREFIXD_BUILD_DIR/tests/rel_crash_clients
[ -x "$clients_bin" ] || pd_fail "missing $clients_bin"
pd_setup
PD_TIMEOUT=30   # a sanitized prefixd replaying a large WAL may take a while to answer
pd_start
pd_expect 201 - POST /v1/pools '{"name":"crash","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/crash/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
logs=$PD_DIR/logs
mkdir -p "$logs"
stop=$PD_DIR/stop
cpid=
stop_clients() { [ -n "$cpid" ] && { touch "$stop"; wait "$cpid" || true; cpid=; }; return 0; }
rel_status() { return "$1"; }
rel_cleanup() { local rc=$?; stop_clients; rel_status "$rc"; pd_cleanup; }
trap rel_cleanup EXIT

# check_store: compares the store (prefixd must not be running) with the clients' logs.
check_store() {
	local db
	db=$(pd_db) || pd_fail "no store file"
	python3 - "$db" > "$PD_DIR/stored.tsv" <<'PY' || pd_fail "store check failed (see above)"
import ipaddress, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ic = db.execute("PRAGMA integrity_check").fetchall()
assert ic == [("ok",)], "integrity_check: %r" % (ic,)
rows = db.execute("SELECT a.id, a.family, a.start, a.len, a.token FROM allocations a "
                  "JOIN pools p ON p.id = a.pool_id WHERE p.name = 'crash'").fetchall()
def net(fam, start, length):   # start: 16 bytes, an IPv4 address in the first 4
    addr = ipaddress.ip_address(bytes(start[:4]) if fam == 4 else bytes(start))
    return ipaddress.ip_network("%s/%d" % (addr, length))
nets = sorted(net(*r[1:4]) for r in rows)
for a, b in zip(nets, nets[1:]):
    assert not a.overlaps(b), "allocations overlap: %s %s" % (a, b)
for id_, fam, start, length, token in rows:     # "id cidr token|-" for acks_check.py
    print(id_, net(fam, start, length), token if token is not None else "-")
PY
	python3 "$PREFIXD_SOURCE_DIR/tests/integration/lib/acks_check.py" "$PD_DIR/stored.tsv" \
		"$logs" || pd_fail "store check failed (see above)"
}

"$clients_bin" "$PD_SOCK" crash 16 "$logs" "$stop" > "$PD_DIR/clients.out" &
cpid=$!
t0=$(date +%s)
for (( k = 1; k <= kills; k++ )); do
	# A random moment: 0-400 ms after prefixd answered, while 16 clients keep it busy.
	sleep "0.$(printf '%03d' $(( RANDOM % 400 )))"
	kill -KILL "$PD_PID"
	wait "$PD_PID" 2>/dev/null || true
	PD_PID=
	if (( k % every == 0 )); then
		check_store > "$PD_DIR/check.out"
		echo "kill $k: $(cat "$PD_DIR/check.out")"
	fi
	pd_start
done
elapsed=$(( $(date +%s) - t0 ))
stop_clients
summary=$(cat "$PD_DIR/clients.out")
[ -n "$summary" ] || pd_fail "clients printed no summary"
pd_stop
check_store > "$PD_DIR/check.out"
pd_ok "$kills SIGKILLs in ${elapsed}s; clients: $summary; store: $(cat "$PD_DIR/check.out")"
grep -q 'errors=0' <<<"$summary" || pd_fail "clients saw answers the contract does not allow: $(cat "$logs"/*.log | grep '^E' | head -5)"
[ "$(grep -o 'allocs=[0-9]*' <<<"$summary" | cut -d= -f2)" -gt "$kills" ] || pd_fail "too few allocations to mean anything: $summary"

# The API (prefixd's own view after one more start) lists exactly what the store holds.
pd_start
listed=$(pd_ctl allocation list --pool crash --json | jq -r '.allocations[] | "\(.id) \(.cidr)"' | sort)
stored=$(sqlite3 -readonly "$(pd_db)" "SELECT a.id FROM allocations a JOIN pools p ON p.id = a.pool_id WHERE p.name = 'crash'" | sort)
[ "$(cut -d' ' -f1 <<<"$listed")" = "$stored" ] || pd_fail "API list differs from the store"
pd_ok "after restart the API lists the $(wc -l <<<"$stored") stored allocations"
pd_stop
