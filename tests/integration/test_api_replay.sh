#!/usr/bin/env bash
# ctest-labels: asan
# Idempotency and group commit over HTTP (curl --unix-socket):
#   - a token replay returns the first allocation (same id and CIDR, 200, replayed=true) and
#     stores nothing new; the same token with other parameters is token-conflict (409);
#   - 20 concurrent requests with one token all get that one allocation;
#   - 400 concurrent allocations get 400 distinct, non-overlapping CIDRs, and the metrics show
#     that they were committed in fewer transactions than requests (group commit);
#   - a refused request inside a batch does not disturb the others.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/8"}' >/dev/null

first=$(pd_expect 201 - POST /v1/pools/p/allocations '{"netmask":24,"token":"tok-1","description":"web","tags":{"App":"web"}}')
pd_dump > "$PD_DIR/before.sql"
again=$(pd_expect 200 - POST /v1/pools/p/allocations '{"netmask":24,"token":"tok-1","description":"web","tags":{"App":"web"}}')
[ "$(jq -c '{id,cidr}' <<<"$first")" = "$(jq -c '{id,cidr}' <<<"$again")" ] || pd_fail "replay differs: $first vs $again"
[ "$(jq -r .replayed <<<"$again")" = true ] || pd_fail "replay not marked: $again"
pd_dump | diff -u "$PD_DIR/before.sql" - || pd_fail "a replay changed the store"
pd_ok "token replay returns allocation $(jq -r .id <<<"$first") ($(jq -r .cidr <<<"$first")) and stores nothing"
pd_expect 409 token-conflict POST /v1/pools/p/allocations '{"netmask":25,"token":"tok-1","description":"web","tags":{"App":"web"}}' >/dev/null
pd_dump | diff -u "$PD_DIR/before.sql" - || pd_fail "a token conflict changed the store"
pd_ok "same token, other netmask -> 409 token-conflict"

# Concurrent replays of a fresh token: all answers name one allocation.
seq 20 | xargs -P 20 -I{} curl -s --max-time 10 --unix-socket "$PD_SOCK" -X POST \
	--data-binary '{"netmask":26,"token":"tok-par"}' http://prefixd/v1/pools/p/allocations \
	-o "$PD_DIR/par.{}.json"
ids=$(cat "$PD_DIR"/par.*.json | jq -r .id | sort -u)
[ "$(wc -l <<<"$ids")" = 1 ] && [ "$ids" != null ] || pd_fail "concurrent token requests got ids: $ids"
pd_ok "20 concurrent requests with one token got allocation $ids"

# Group commit: many concurrent allocations, distinct CIDRs, fewer commits than changes.
commits() { pd_curl GET /metrics | awk '$1 == "prefixd_store_commit_duration_seconds_count" { print $2 }'; }
c0=$(commits)
seq 400 | xargs -P 32 -I{} curl -s --max-time 10 --unix-socket "$PD_SOCK" -X POST \
	--data-binary '{"netmask":28}' http://prefixd/v1/pools/p/allocations -o "$PD_DIR/g.{}.json"
c1=$(commits)
cat "$PD_DIR"/g.*.json | jq -r .cidr > "$PD_DIR/cidrs"
[ "$(sort -u "$PD_DIR/cidrs" | grep -c /28)" = 400 ] || pd_fail "400 allocations did not give 400 distinct /28s"
python3 - "$PD_DIR/cidrs" <<'PY' || pd_fail "allocated CIDRs overlap"
import ipaddress, sys
nets = sorted(ipaddress.ip_network(l.strip()) for l in open(sys.argv[1]))
for a, b in zip(nets, nets[1:]):
    assert not a.overlaps(b), (a, b)
PY
listed=$(pd_curl GET '/v1/allocations?pool=p' | jq '.allocations | length')
[ "$listed" = 402 ] || pd_fail "want 402 allocations listed, got $listed"
[ $((c1 - c0)) -gt 0 ] && [ $((c1 - c0)) -lt 400 ] || pd_fail "400 changes took $((c1 - c0)) commits: no group commit"
pd_ok "400 concurrent allocations: distinct, non-overlapping, in $((c1 - c0)) commits"

# A refused request in a batch leaves the others alone.
pd_expect 201 - POST /v1/pools '{"name":"strict","scope":"private-default","min_netmask":24,"max_netmask":26}' >/dev/null
pd_expect 201 - POST /v1/pools/strict/provision '{"cidr":"192.168.0.0/16"}' >/dev/null
pids=()
for i in $(seq 10); do
	curl -s --max-time 10 --unix-socket "$PD_SOCK" -X POST --data-binary '{"netmask":24}' \
		-o "$PD_DIR/ok.$i.json" http://prefixd/v1/pools/strict/allocations &
	pids+=($!)
	curl -s --max-time 10 --unix-socket "$PD_SOCK" -X POST --data-binary '{"netmask":27}' \
		-o "$PD_DIR/bad.$i.json" http://prefixd/v1/pools/strict/allocations &
	pids+=($!)
done
wait "${pids[@]}"
[ "$(cat "$PD_DIR"/ok.*.json | jq -r .cidr | sort -u | wc -l)" = 10 ] || pd_fail "good requests in mixed batches failed"
[ "$(cat "$PD_DIR"/bad.*.json | jq -r .error.code | sort -u)" = netmask-too-small ] || pd_fail "bad requests not refused"
pd_ok "mixed batches: 10 allocations stored, 10 refusals with netmask-too-small"
pd_stop
