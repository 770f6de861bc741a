#!/usr/bin/env bash
# Two parallel clients ask for 1,000 allocations each from one pool, one prefixctl process
# per request: all 2,000 succeed, the CIDRs are distinct and no two overlap, and the daemon's
# own listing holds exactly those 2,000.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

N=${CLI_PARALLEL_N:-1000}

# client NAME: N allocations; each reply (one JSON document) is appended to $PD_DIR/NAME.json,
# failures to NAME.err. Replies are parsed once at the end: a jq per request would cost more
# than the request.
client() {
	local name=$1 i
	for (( i = 0; i < N; i++ )); do
		pd_ctl --json allocate par --netmask 24 --description "$name-$i" \
			>>"$PD_DIR/$name.json" 2>>"$PD_DIR/$name.err" ||
			echo "request $i failed" >> "$PD_DIR/$name.err"
	done
}

pd_setup
pd_start
pd_ctl --json pool create par --scope private-default >/dev/null || pd_fail "pool create"
pd_ctl --json pool provision par 10.0.0.0/12 >/dev/null || pd_fail "pool provision"

start=$(date +%s%N)
client a & pa=$!
client b & pb=$!
wait "$pa" || pd_fail "client a died"
wait "$pb" || pd_fail "client b died"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
for c in a b; do
	[ ! -s "$PD_DIR/$c.err" ] || pd_fail "client $c had failures: $(head -n5 "$PD_DIR/$c.err")"
	jq -r '"\(.id) \(.cidr)"' "$PD_DIR/$c.json" > "$PD_DIR/$c.out"
	[ "$(wc -l < "$PD_DIR/$c.out")" = "$N" ] || pd_fail "client $c got $(wc -l < "$PD_DIR/$c.out") of $N"
done
pd_ok "2 clients x $N allocations in ${ms} ms"

cat "$PD_DIR/a.out" "$PD_DIR/b.out" | python3 -c '
import ipaddress, sys
rows = [l.split() for l in sys.stdin if l.strip()]
ids = [r[0] for r in rows]
nets = sorted(ipaddress.ip_network(r[1]) for r in rows)
assert len(set(ids)) == len(ids), "duplicate ids"
assert len(set(nets)) == len(nets), "duplicate CIDRs"
for a, b in zip(nets, nets[1:]):
    assert not a.overlaps(b), f"{a} overlaps {b}"
print(len(nets))
' > "$PD_DIR/count" || pd_fail "the CIDRs are not distinct and non-overlapping"
[ "$(cat "$PD_DIR/count")" = $(( 2 * N )) ] || pd_fail "want $(( 2 * N )) CIDRs, got $(cat "$PD_DIR/count")"
pd_ok "$(( 2 * N )) distinct, non-overlapping CIDRs"

pd_ctl --json allocation list --pool par | jq -r '.allocations[] | "\(.id) \(.cidr)"' | sort > "$PD_DIR/daemon.txt"
sort "$PD_DIR/a.out" "$PD_DIR/b.out" | cmp -s - "$PD_DIR/daemon.txt" ||
	pd_fail "the daemon's listing differs from what the clients were given"
pd_ok "the daemon lists exactly the allocations the clients got"
