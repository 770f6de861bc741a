#!/usr/bin/env bash
# ctest-labels: asan reliability
# Storage faults (issue 10, item 4). The state directory is a 2 MiB tmpfs that this test mounts
# (and always unmounts). Then:
#   - a filler file takes all free space: allocations are refused with HTTP 503 storage-full,
#     prefixd stays up and keeps answering reads;
#   - nothing acknowledged before or during the full disk is lost;
#   - once the filler is removed prefixd allocates again by itself (no restart);
#   - after a restart every acknowledged allocation is there and integrity_check says ok.
#   - a failed fsync is never acknowledged: with an LD_PRELOAD shim (lib/fsync_fault.sh,
#     built here) that makes fsync/fdatasync fail with EIO while a trigger file exists, an
#     allocation gets 503, and it succeeds again once the trigger is gone.
# Needs root (mount); fails, never skips, without it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: test_rel_storage needs root to mount a tmpfs" >&2; exit 1; }
pd_setup
mkdir -p "$PD_STATE"
mount -t tmpfs -o size=2m,mode=0750 prefixd-rel-storage "$PD_STATE"
rel_status() { return "$1"; }
rel_cleanup() {
	local rc=$?
	pd_alive && { kill -KILL "$PD_PID"; wait "$PD_PID" 2>/dev/null || true; }
	mountpoint -q "$PD_STATE" && umount "$PD_STATE"
	rel_status "$rc"
	pd_cleanup
}
trap rel_cleanup EXIT

# alloc_many N LOG: N allocations over one keep-alive connection; one line per answer
# ("STATUS CODE-or-ID CIDR") appended to LOG; stops early after 20 refusals in a row.
alloc_many() {
	python3 - "$PD_SOCK" "$1" >> "$2" <<'PY'
import http.client, json, socket, sys
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(sys.argv[1])
c = Unix("prefixd")
refused = 0
for i in range(int(sys.argv[2])):
    c.request("POST", "/v1/pools/p/allocations", body='{"netmask":29,"description":"%s"}' % ("x" * 200),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    b = json.loads(r.read())
    if r.status == 201:
        print(201, b["id"], b["cidr"])
        refused = 0
    else:
        print(r.status, b["error"]["code"], "-")
        refused += 1
        if refused >= 20:
            break
PY
}

# check_acked LOG: every 201 in LOG is stored with its CIDR (prefixd may be running or not).
check_acked() {
	python3 - "$(pd_db)" "$1" <<'PY' || pd_fail "acknowledged allocations missing"
import ipaddress, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check failed"
stored = {}
for id_, start, length in db.execute("SELECT id, start, len FROM allocations"):
    stored[str(id_)] = "%s/%d" % (ipaddress.ip_address(bytes(start[:4])), length)
acked = [l.split() for l in open(sys.argv[2]) if l.startswith("201 ")]
lost = [a for a in acked if stored.get(a[1]) != a[2]]
assert not lost, "lost: %r" % lost[:5]
print(len(acked))
PY
}

pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
acks=$PD_DIR/acks
alloc_many 50 "$acks"
[ "$(grep -c '^201 ' "$acks")" = 50 ] || pd_fail "allocations failed before the disk was full: $(grep -v '^201' "$acks" | head -3)"

# Fill the tmpfs. SQLite may still fit a few transactions into WAL frames it already owns,
# so allocate until the refusals come.
dd if=/dev/zero of="$PD_STATE/filler" bs=4k 2>/dev/null || true
alloc_many 3000 "$acks"
refusal=$(grep -v '^201 ' "$acks" | head -1)
[ -n "$refusal" ] || pd_fail "3000 allocations on a full disk were all acknowledged"
[ "$refusal" = "503 storage-full -" ] || pd_fail "want 503 storage-full on a full disk, got: $refusal"
[ "$(grep -v '^201 ' "$acks" | sort -u)" = "503 storage-full -" ] || pd_fail "other refusals: $(grep -v '^201 ' "$acks" | sort -u | head -3)"
pd_alive || pd_fail "prefixd died on a full disk"
pd_expect 200 - GET /v1/status >/dev/null
pd_curl GET /v1/allocations/1 >/dev/null
[ "$PD_STATUS" = 200 ] || pd_fail "reads fail on a full disk: $PD_STATUS"
pd_ok "full disk: $(grep -c '^201 ' "$acks") acknowledged, then 503 storage-full; reads still answer"
n=$(check_acked "$acks")
pd_ok "full disk: all $n acknowledged allocations stored"

rm -f "$PD_STATE/filler"
ok_again() { alloc_many 1 "$acks"; [ "$(tail -1 "$acks" | cut -d' ' -f1)" = 201 ]; }
pd_wait_for ok_again || pd_fail "prefixd did not allocate again after space was freed"
pd_ok "space freed: allocations succeed again without a restart"

pd_stop
n=$(check_acked "$acks")
pd_start
listed=$(pd_curl GET '/v1/allocations?pool=p' | jq '.allocations | length')
[ "$listed" -ge "$n" ] || pd_fail "after restart only $listed allocations listed, $n acknowledged"
pd_ok "restart after the full disk: $n acknowledged allocations stored, integrity_check ok"
pd_stop

# A failed fsync is never acknowledged.
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/fsync_fault.sh"
fsync_fault_build "$PD_DIR" "$PD_BIN" || pd_fail "cannot build the fsync shim"
trigger=$REL_FSYNC_FAIL
preload=$FSYNC_PRELOAD
# A public prefix provisioned inside a failed batch (issue 15 finding 2): the proof is good
# (certificate in auth.rdap_dir), so only the COMMIT decides.
pd_config <<EOF
[auth]
owner_id = rel-owner
rdap_dir = $PD_DIR/rdap
allow_unproven_asn = true
EOF
pbody=$(pd_auth_proof rel-owner 192.0.2.0/24 192.0.2.0 192.0.2.255)
LD_PRELOAD=$preload pd_start
pd_expect 201 - POST /v1/pools '{"name":"pub","scope":"public-default","family":"ipv4","origin_asn":64500}' >/dev/null
: > "$PD_DIR/acks2"
touch "$trigger"
pd_curl POST /v1/pools/pub/provision "$pbody" >/dev/null
[ "$PD_STATUS" = 503 ] || pd_fail "a public provision while fsync fails answered $PD_STATUS"
pd_curl GET /v1/prefixes/192.0.2.0_24 >/dev/null
[ "$PD_STATUS" = 404 ] || pd_fail "the provision answered 503 exists in memory: $(pd_curl GET /v1/prefixes/192.0.2.0_24)"
alloc_many 5 "$PD_DIR/acks2"
grep -q '^201 ' "$PD_DIR/acks2" && pd_fail "an allocation was acknowledged although fsync failed: $(grep '^201 ' "$PD_DIR/acks2" | head -1)"
grep -q '^503 ' "$PD_DIR/acks2" || pd_fail "want 503 while fsync fails, got: $(head -1 "$PD_DIR/acks2")"
pd_ok "fsync fails with EIO: $(head -1 "$PD_DIR/acks2" | cut -d' ' -f1-2), nothing acknowledged"
rm -f "$trigger"
: > "$PD_DIR/acks3"
ok_again2() { alloc_many 1 "$PD_DIR/acks3"; [ "$(tail -1 "$PD_DIR/acks3" | cut -d' ' -f1)" = 201 ]; }
pd_wait_for ok_again2 || pd_fail "prefixd did not recover after fsync worked again: $(tail -3 "$PD_DIR/acks3")"
pd_ok "fsync works again: allocations succeed without a restart"
pd_curl GET /v1/prefixes/192.0.2.0_24 >/dev/null
[ "$PD_STATUS" = 404 ] || pd_fail "the uncommitted provision came back: $(pd_curl GET /v1/prefixes/192.0.2.0_24)"
[ "$(sqlite3 -readonly "$(pd_db)" "SELECT count(*) FROM docs WHERE key = '192.0.2.0/24'")" = 0 ] ||
	pd_fail "the uncommitted provision is in the store"
pd_expect 202 - POST /v1/pools/pub/provision "$pbody" >/dev/null
pd_ok "a public provision answered 503 exists neither in memory nor in the store; provisioning it again works"
pd_stop
check_acked "$PD_DIR/acks3" >/dev/null
total=$(sqlite3 -readonly "$(pd_db)" 'SELECT count(*) FROM allocations')
acked=$(cat "$acks" "$PD_DIR/acks3" | grep -c '^201 ')
pd_ok "after the fsync faults: acknowledged allocations stored, integrity_check ok ($total stored, $acked acknowledged)"
