#!/usr/bin/env bash
# The database holds the address plan's invariants without prefixd's help (issue 16, "must be
# true" 3), on a throw-away PostgreSQL 15 cluster (lib/pg.sh):
#   - psql inserting an allocation that overlaps a stored one in the same pool is refused by
#     allocations_no_overlap_v4 / _v6 (SQLSTATE 23P01), for IPv4 (an SP-GiST key) and IPv6
#     (gist); the same CIDR in another pool is accepted, and so is an IPv6 CIDR that maps the
#     addresses of an IPv4 one;
#   - psql inserting a second allocation with a stored token in the same pool is refused by
#     allocations_token (23505);
#   - psql provisioning a top-level CIDR that overlaps another top-level CIDR of the scope is
#     refused by provisions_top_level_no_overlap;
#   - when prefixd's memory does not know a row that psql added, the database still refuses
#     prefixd's own overlapping insert, and the client gets 409 overlap / token-conflict
#     (never a 500), and nothing is stored;
#   - in a batch of concurrent requests (sent to the database whole, with the COMMIT) of which
#     the database refuses one, only that one is refused and the others are allocated.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools '{"name":"q","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/q/provision '{"cidr":"10.1.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/allocations '{"cidr":"10.0.1.0/24","token":"t1"}' >/dev/null
p=$(pg_psql "SELECT id FROM pools WHERE name = 'p'")
q=$(pg_psql "SELECT id FROM pools WHERE name = 'q'")
scope=$(pg_psql "SELECT scope_id FROM pools WHERE name = 'p'")

# refused: psql's exit status and the constraint named in its message
refused() {
	local constraint=$1 sql=$2 out
	if out=$(pg_psql "$sql" 2>&1); then
		pd_fail "the database accepted: $sql"
	fi
	grep -q "$constraint" <<<"$out" || pd_fail "refused, but not by $constraint: $out"
}
ins_alloc() { echo "INSERT INTO allocations(id, pool_id, cidr, kind, token, created) VALUES($1, $2, '$3', 0, $4, 0)"; }

refused allocations_no_overlap "$(ins_alloc 900 "$p" 10.0.1.128/25 NULL)"
refused allocations_no_overlap "$(ins_alloc 901 "$p" 10.0.0.0/16 NULL)"
pg_psql "$(ins_alloc 902 "$q" 10.0.1.0/24 NULL)" >/dev/null ||
	pd_fail "the same CIDR in another pool was refused"
pg_psql "DELETE FROM allocations WHERE id = 902" >/dev/null
pd_ok "psql: an overlapping allocation in one pool is refused (allocations_no_overlap); in another pool it is not"
# one constraint per family (store_pg.c, migration 5): IPv6 keeps the gist form; an IPv4 and
# an IPv6 allocation never overlap, not even ::ffff:10.0.1.0/120 (IPv4-mapped) and 10.0.1.0/24
pg_psql "$(ins_alloc 910 "$p" 2001:db8::/48 NULL)" >/dev/null || pd_fail "an IPv6 allocation was refused"
refused allocations_no_overlap_v6 "$(ins_alloc 911 "$p" 2001:db8:0:1::/64 NULL)"
refused allocations_no_overlap_v6 "$(ins_alloc 912 "$p" 2001:d00::/24 NULL)"
refused allocations_no_overlap_v4 "$(ins_alloc 913 "$p" 10.0.1.7/32 NULL)"
refused allocations_no_overlap_v4 "$(ins_alloc 914 "$p" 0.0.0.0/0 NULL)"
pg_psql "$(ins_alloc 915 "$p" ::ffff:10.0.1.0/120 NULL)" >/dev/null ||
	pd_fail "an IPv6 allocation was refused for an IPv4 one"
pg_psql "DELETE FROM allocations WHERE id IN (910, 915)" >/dev/null
pd_ok "psql: per family: IPv6 overlaps refused (allocations_no_overlap_v6), IPv4 ones too (allocations_no_overlap_v4, /32 and /0), an IPv4-mapped IPv6 CIDR is not an IPv4 one"

refused allocations_token "$(ins_alloc 903 "$p" 10.0.9.0/24 "'t1'")"
pd_ok "psql: a second allocation with token t1 in the pool is refused (allocations_token)"

refused provisions_top_level_no_overlap \
	"INSERT INTO provisions(id, pool_id, scope_id, cidr, created) VALUES(904, $q, $scope, '10.0.128.0/17', 0)"
pd_ok "psql: a top-level CIDR overlapping another in the scope is refused (provisions_top_level_no_overlap)"

# Rows prefixd's memory does not know: psql adds them behind its back, each just before the
# request it spoils (a refusal reloads memory: the row after it would be known). Each request
# is its own batch, sent whole with its COMMIT (api.c); the database refuses it, the batch is
# run again after a reload, and memory then answers 409.
refusals() { grep -c "was refused as a whole" "$PD_LOG" || true; }
pg_psql "$(ins_alloc 906 "$p" 10.0.3.0/24 "'t-psql'")" >/dev/null
before=$(pd_dump)
pd_expect 409 token-conflict POST /v1/pools/p/allocations '{"netmask":25,"token":"t-psql"}' >/dev/null
[ "$before" = "$(pd_dump)" ] || pd_fail "a refused insert changed the store"
[ "$(refusals)" = 1 ] || pd_fail "the token's request did not reach the database's constraint"
pg_psql "$(ins_alloc 905 "$p" 10.0.2.0/24 NULL)" >/dev/null
before=$(pd_dump)
pd_expect 409 overlap POST /v1/pools/p/allocations '{"cidr":"10.0.2.0/25"}' >/dev/null
[ "$before" = "$(pd_dump)" ] || pd_fail "a refused insert changed the store"
[ "$(refusals)" = 2 ] || pd_fail "the overlapping request did not reach the database's constraint"
# the token's owner asking again gets its allocation (the token names the row psql added)
pd_expect 200 - POST /v1/pools/p/allocations '{"netmask":24,"token":"t-psql"}' | grep -q '"replayed":true' ||
	pd_fail "the token's own request was not answered with its allocation"
pd_alive || pd_fail "prefixd died"

# A batch of many requests of which the database refuses one: only that one is refused; the
# others are allocated as asked (the batch runs again request by request after the reload).
# To put them in one batch, psql holds the writers' lock (the audit head row): request 0's
# batch waits for it, the other 11 arrive meanwhile, and once psql commits they form the next
# batch together (request 5 overlaps the row psql added behind memory's back).
pg_psql "$(ins_alloc 907 "$p" 10.0.4.0/24 NULL)" >/dev/null
n0=$(refusals)
python3 - "$PD_SOCK" "$PG_SOCKDIR" "$PD_DIR" <<'PY' || pd_fail "the concurrent requests failed"
import json, socket, subprocess, sys, time
sock, pgdir, out = sys.argv[1:4]
psql = ["psql", "-X", "-q", "-A", "-t", "-h", pgdir, "-U", "postgres", "-d", "prefixd"]
holder = subprocess.Popen(psql, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
holder.stdin.write("BEGIN;\nSELECT 'locked' FROM audit_head FOR UPDATE;\n")
holder.stdin.flush()
assert holder.stdout.readline().strip() == "locked"
def send(i):
    body = '{"cidr":"10.0.4.0/26"}' if i == 5 else '{"cidr":"10.0.%d.0/24"}' % (16 + i)
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    c.sendall(("POST /v1/pools/p/allocations HTTP/1.1\r\nHost: prefixd\r\nConnection: close\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    return c
conns = [send(0)]
deadline = time.time() + 10
while True:        # request 0's batch waits for psql's lock
    q = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    if subprocess.run(psql + ["-c", q], capture_output=True, text=True).stdout.strip() != "0":
        break
    if time.time() > deadline:
        sys.exit("prefixd never waited for the lock")
    time.sleep(0.02)
conns += [send(i) for i in range(1, 12)]
holder.stdin.write("COMMIT;\n")
holder.stdin.close()
holder.wait()
for i, c in enumerate(conns):
    data = b""
    c.settimeout(10)
    while chunk := c.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    with open("%s/par.%d" % (out, i), "wb") as f:
        f.write(body)
    with open("%s/par.%d.status" % (out, i), "w") as f:
        f.write(head.split()[1].decode())
PY
for i in $(seq 0 11); do
	st=$(cat "$PD_DIR/par.$i.status")
	if [ "$i" = 5 ]; then
		[ "$st" = 409 ] && [ "$(jq -r .error.code "$PD_DIR/par.$i")" = overlap ] ||
			pd_fail "the request over psql's row: want 409 overlap, got $st $(cat "$PD_DIR/par.$i")"
	else
		[ "$st" = 201 ] || pd_fail "request $i shared a batch with a refused one: want 201, got $st $(cat "$PD_DIR/par.$i")"
		[ "$(pg_psql "SELECT count(*) FROM allocations WHERE cidr = '10.0.$((16 + i)).0/24'")" = 1 ] ||
			pd_fail "request $i was answered 201 but is not stored"
	fi
done
[ "$(refusals)" -gt "$n0" ] || pd_fail "the database never refused the overlapping request's batch"
line=$(grep 'was refused as a whole' "$PD_LOG" | tail -n 1)
echo "$line"
n=$(sed -n 's/.*a batch of \([0-9]*\) requests was refused.*/\1/p' <<<"$line")
[ "${n:-0}" -ge 2 ] || pd_fail "the refused request was alone in its batch: nothing shared it"
[ "$(pg_psql "SELECT count(*) FROM allocations a JOIN allocations b ON a.pool_id = b.pool_id AND a.id < b.id AND a.cidr && b.cidr")" = 0 ] ||
	pd_fail "overlapping allocations stored"
pd_ok "a batch with one refused request: that one 409 overlap, the other 11 allocated and stored"
pd_ok "prefixd's own overlapping insert is refused by the database: 409 overlap / token-conflict, store unchanged"

# An upgrade from schema 4 (one gist constraint for both families) to 5: the store is put back
# to schema 4 by hand, with its allocations; at the next start migration 5 replaces the
# constraint, every allocation is still there, and the new constraints refuse overlaps.
pd_stop
pg_psql "ALTER TABLE allocations DROP CONSTRAINT allocations_no_overlap_v4,
	DROP CONSTRAINT allocations_no_overlap_v6,
	ADD CONSTRAINT allocations_no_overlap EXCLUDE USING gist (pool_id WITH =, cidr inet_ops WITH &&);
	DROP FUNCTION prefixd_alloc_key4(bigint, cidr);
	DELETE FROM schema_version WHERE version = 5" >/dev/null
before=$(pg_psql "SELECT id, cidr FROM allocations ORDER BY id")
pd_start
[ "$(pg_psql "SELECT max(version) FROM schema_version")" = 5 ] || pd_fail "migration 5 did not run"
[ "$(pg_psql "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint
	WHERE conrelid = 'allocations'::regclass AND contype = 'x'")" = \
	allocations_no_overlap_v4,allocations_no_overlap_v6 ] || pd_fail "the constraints after migration 5"
[ "$before" = "$(pg_psql "SELECT id, cidr FROM allocations ORDER BY id")" ] ||
	pd_fail "migration 5 changed the allocations"
refused allocations_no_overlap_v4 "$(ins_alloc 920 "$p" 10.0.1.0/25 NULL)"
pd_expect 409 overlap POST /v1/pools/p/allocations '{"cidr":"10.0.1.0/26"}' >/dev/null
pd_ok "schema 4 -> 5: the allocations kept ($(wc -l <<<"$before")), the per-family constraints in place and refusing"
