#!/usr/bin/env bash
# Several prefixd instances on one PostgreSQL database (issue 16 "Several instances"):
#   - ids come from the database: two instances allocating at once never issue one id twice;
#   - a write acknowledged by one instance is read from another within 1 s (change feed +
#     LISTEN/NOTIFY), a release too, and a pool created on one is usable on the other;
#   - a commit right after another (its notification held back: store.h STORE_NOTIFY_GAP) is
#     still read on the other instance well within its once-a-second look (300 ms, 5 times);
#   - a token used on one instance replays on the other (not a second allocation);
#   - allocation by size on both at once: every request succeeds, no two CIDRs overlap;
#   - the database stopped: /v1/status says reads come from memory, reads are still answered,
#     writes fail 503 store-failed; the database back: writes succeed again.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
pd_setup
pgm_init
pgm_start 1
pgm_start 2

# expect N CODE METHOD PATH [BODY]: the answer's status must be CODE; prints the body.
expect() {
	local n=$1 code=$2
	shift 2
	pgm_req "$n" "$@"
	[ "$PD_STATUS" = "$code" ] || pd_fail "instance $n: $* answered $PD_STATUS, not $code: $BODY"
	printf '%s' "$BODY"
}
# within_1s CMD...: CMD succeeds within one second (polled every 20 ms).
within_1s() {
	local deadline=$(( $(date +%s%N) / 1000000 + 1000 ))
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
lists() { pgm_curl "$1" GET "/v1/allocations?pool=p" | jq -e --arg c "$2" '[.. | .cidr? // empty] | index($c) != null' >/dev/null; }
not_lists() { ! lists "$@"; }

expect 1 201 POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
expect 1 201 POST /v1/pools/p/provision '{"cidr":"10.0.0.0/16"}' >/dev/null
pool_seen() { pgm_req 2 GET /v1/pools/p; [ "$PD_STATUS" = 200 ]; }
within_1s pool_seen ||
	pd_fail "a pool created on instance 1 is not on instance 2 within 1 s"
a=$(expect 2 201 POST /v1/pools/p/allocations '{"cidr":"10.0.9.0/24"}')
within_1s lists 1 10.0.9.0/24 || pd_fail "instance 2's allocation not read on instance 1 within 1 s"
id=$(jq -r .id <<<"$a")
expect 1 200 DELETE "/v1/allocations/$id" >/dev/null
within_1s not_lists 2 10.0.9.0/24 || pd_fail "instance 1's release not read on instance 2 within 1 s"
pd_ok "writes acknowledged by one instance are read on the other within 1 s (pool, allocation, release)"

# Two allocations on one keep-alive connection (curl --next): the second commits within the
# notification gap of the first, so its notification is held and sent when due. Without that
# send, instance 2 would see it only at its once-a-second look (300 ms missed 5 times in a row:
# about 1 in 400).
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
for r in 1 2 3 4 5; do
	post=(-s -o /dev/null --unix-socket "$(pgm_sock 1)" -H 'Content-Type: application/json')
	curl "${post[@]}" -d "{\"cidr\":\"10.0.$((100 + 2 * r)).0/24\"}" http://prefixd/v1/pools/p/allocations \
		--next "${post[@]}" -d "{\"cidr\":\"10.0.$((101 + 2 * r)).0/24\"}" http://prefixd/v1/pools/p/allocations
	t0=$(now_ms)
	until lists 2 "10.0.$((101 + 2 * r)).0/24"; do
		[ $(( $(now_ms) - t0 )) -lt 300 ] ||
			pd_fail "round $r: the second of two quick commits was not read on instance 2 within 300 ms"
		sleep 0.01
	done
done
pd_ok "the second of two quick commits is read on the other instance within 300 ms (5 rounds)"

t1=$(expect 1 201 POST /v1/pools/p/allocations '{"netmask":24,"token":"tok-1"}')
pgm_req 2 POST /v1/pools/p/allocations '{"netmask":24,"token":"tok-1"}'; t2=$BODY
[ "$PD_STATUS" = 200 ] || [ "$PD_STATUS" = 201 ] || pd_fail "token replay on instance 2 answered $PD_STATUS: $t2"
[ "$(jq -r .cidr <<<"$t1")" = "$(jq -r .cidr <<<"$t2")" ] || pd_fail "token tok-1 gave two CIDRs: $t1 / $t2"
pd_ok "a token used on instance 1 replays on instance 2 (one allocation)"

# both instances allocate by size at once, 4 clients each
out=$PD_DIR/ids
pids=()
for n in 1 2; do
	for c in 1 2 3 4; do
		(
			for i in $(seq 1 15); do
				pgm_req "$n" POST /v1/pools/p/allocations '{"netmask":28}'
				[ "$PD_STATUS" = 201 ] || { echo "FAIL $n $PD_STATUS $BODY"; exit 1; }
				jq -r '"\(.id) \(.cidr)"' <<<"$BODY"
			done
		) > "$out.$n.$c" &
		pids+=($!)
	done
done
wait "${pids[@]}" || true     # (a bare `wait` would also wait for lib/pg.sh's watchdog)
cat "$out".* > "$out"
grep -q FAIL "$out" && pd_fail "a concurrent allocation failed: $(grep FAIL "$out" | head -3)"
[ "$(wc -l < "$out")" = 120 ] || pd_fail "expected 120 allocations, got $(wc -l < "$out")"
[ "$(cut -d' ' -f1 "$out" | sort -u | wc -l)" = 120 ] || pd_fail "an id was issued twice"
[ "$(cut -d' ' -f2 "$out" | sort -u | wc -l)" = 120 ] || pd_fail "a CIDR was issued twice"
ov=$(pg_psql "SELECT count(*) FROM allocations a JOIN allocations b ON a.pool_id = b.pool_id AND a.id < b.id AND a.cidr && b.cidr")
[ "$ov" = 0 ] || pd_fail "$ov overlapping pairs in the database"
for n in 1 2; do
	within_1s eval '[ "$(pgm_curl '$n' GET /v1/status | jq .counts.allocations)" = "$(pg_psql "SELECT count(*) FROM allocations")" ]' ||
		pd_fail "instance $n does not list exactly the stored allocations"
done
pd_ok "two instances, 8 clients allocating by size at once: 120 distinct ids and CIDRs, no overlap, both list them all"

pg_stop
down() { [ "$(pgm_curl 1 GET /v1/status | jq -r .store_state.reads)" = memory ]; }
PD_TIMEOUT=3 pd_wait_for down || pd_fail "/v1/status does not say reads come from memory: $(pgm_curl 1 GET /v1/status)"
lists 1 "$(jq -r .cidr <<<"$t1")" || pd_fail "reads are not answered from memory while the database is down"
expect 1 503 POST /v1/pools/p/allocations '{"netmask":24}' | grep -q store-failed || pd_fail "no store-failed"
pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -t 30 -o "-c listen_addresses='' -k $PG_SOCKDIR" start >/dev/null
up() { [ "$(pgm_curl 1 GET /v1/status | jq -r .store_state.reads)" = store ] &&
	pgm_req 1 POST /v1/pools/p/allocations '{"netmask":24}' && [ "$PD_STATUS" = 201 ]; }
PD_TIMEOUT=10 pd_wait_for up || pd_fail "writes do not succeed after the database is back"
pd_ok "the database down: status says reads from memory, reads answered, writes 503; back: writes succeed"
