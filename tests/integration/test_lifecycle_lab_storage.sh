#!/usr/bin/env bash
# ctest-labels: reliability
# A public-prefix change is reported done only when it is durable (issue 7's commit-confirm
# plus issue 9's "acknowledged only when durable"), in the lab with the real BIRD and GoBGP:
#   1. the store is full (prefixd's state directory is an 8 MiB tmpfs this test mounts and a
#      filler file takes all of it): `advertise` is refused with storage-full, the prefix
#      stays provisioned in memory and in the store, BIRD is not touched (no transaction) and
#      upstream never gets the route; once the filler is gone the same advertise works;
#   1b. fsync fails (the LD_PRELOAD shim of lib/fsync_fault.sh, the fault of test_rel_storage):
#      `advertise` inside that failed batch is refused store-failed; the prefix stays
#      provisioned in memory and in the store, BIRD is not touched and upstream never gets the
#      route (issue 15 must-be-true 4; the public provision inside a failed batch is in
#      test_rel_storage);
#   2. the COMMIT after BIRD applied a change fails (failpoint lifecycle_applied_commit, which
#      rolls the batch back instead of committing it): the answer is an error, not "done";
#      the prefix stays pending-advertise in memory and in the store (the last durable
#      state); a prefixd restarted without the failpoint resumes it to advertised.
# Needs root (mount, namespaces); fails, never skips, without it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/fsync_fault.sh"
need_failpoints
[ "$(id -u)" = 0 ] || fail "test_lifecycle_lab_storage needs root (tmpfs, namespaces)"
LC_EXTRA_CONF=$(printf '[policy]\nmin_change_interval = 0')

pd_setup
mkdir -p "$PD_STATE"
mount -t tmpfs -o size=8m,mode=0750 prefixd-lc-storage "$PD_STATE"
st_cleanup() {
	pd_alive && { kill -KILL "$PD_PID"; wait "$PD_PID" 2>/dev/null || true; }
	mountpoint -q "$PD_STATE" && umount "$PD_STATE"
}
on_exit st_cleanup
lab_start
fsync_fault_build "$PD_DIR" "$PD_BIN" || fail "cannot build the fsync shim"
LD_PRELOAD=$FSYNC_PRELOAD lc_pd_start
wait_until 30 "prefixd's RTR data to be fresh" lc_rpki_fresh
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_provision_ok "$LAB_PREFIX6"

bird_tx() { lc_metric prefixd_bird_transactions_total || echo 0; }

# 1. a full store: refused before BIRD is touched
tx0=$(bird_tx)
dd if=/dev/zero of="$PD_STATE/filler" bs=64k 2>/dev/null || true
[ "$(df --output=avail "$PD_STATE" | tail -n1 | tr -d ' ')" = 0 ] || fail "the filler left space"
rc=0
out=$(lc_json advertise "$LAB_PREFIX4" 2>/dev/null) || rc=$?
[ "$rc" != 0 ] || fail "advertise with a full store answered success: $out"
[ "$(jq -r '.error.code' <<<"$out")" = storage-full ] || fail "want storage-full, got: $out"
[ "$(jq -r '.prefixes[0].state' <<<"$out")" = provisioned ] || fail "answer's state: $out"
[ "$(lc_state "$LAB_PREFIX4")" = provisioned ] || fail "in memory: $(lc_state "$LAB_PREFIX4")"
[ "$(lc_stored_state "$LAB_PREFIX4")" = provisioned ] || fail "stored: $(lc_stored_state "$LAB_PREFIX4")"
[ "$(bird_tx)" = "$tx0" ] || fail "BIRD was touched: transactions $tx0 -> $(bird_tx)"
lc_edge_exactly || fail "upstream holds $(lab_peer_routes edge | jq -c keys)"
ok "full store: advertise refused with storage-full, still provisioned, no BIRD transaction, upstream empty"

rm -f "$PD_STATE/filler"
lc_advertise_ok "$LAB_PREFIX4"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
[ "$(lc_stored_state "$LAB_PREFIX4")" = advertised ] || fail "stored: $(lc_stored_state "$LAB_PREFIX4")"
ok "space back: the same advertise works without a restart (upstream holds $LAB_PREFIX4)"

# 1b. fsync fails: the advertise's batch cannot COMMIT, so nothing of it happens (after the
# full store: a WAL grown by the failed fsync would leave the full store room for a batch)
tx0=$(bird_tx)
touch "$REL_FSYNC_FAIL"
rc=0
out=$(lc_json advertise "$LAB_PREFIX6" 2>/dev/null) || rc=$?
rm -f "$REL_FSYNC_FAIL"
[ "$rc" != 0 ] || fail "advertise while fsync fails answered success: $out"
[ "$(jq -r '.error.code' <<<"$out")" = store-failed ] || fail "want store-failed, got: $out"
[ "$(lc_state "$LAB_PREFIX6")" = provisioned ] || fail "in memory: $(lc_state "$LAB_PREFIX6")"
[ "$(lc_stored_state "$LAB_PREFIX6")" = provisioned ] || fail "stored: $(lc_stored_state "$LAB_PREFIX6")"
[ "$(bird_tx)" = "$tx0" ] || fail "BIRD was touched: transactions $tx0 -> $(bird_tx)"
lc_edge_exactly "$LAB_PREFIX4" || fail "upstream holds $(lab_peer_routes edge | jq -c keys)"
ok "fsync fails: advertise refused with store-failed, still provisioned in memory and store, no BIRD transaction, upstream holds only $LAB_PREFIX4"

# 2. the COMMIT after BIRD applied fails: an error, the last durable state, resumed on restart
pd_stop
PREFIXD_FAILPOINT=lifecycle_applied_commit lc_pd_start
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
rc=0
out=$(lc_json advertise "$LAB_PREFIX6" 2>/dev/null) || rc=$?
[ "$rc" != 0 ] || fail "advertise whose state did not become durable answered success: $out"
[ "$(jq -r '.error.code' <<<"$out")" = store-failed ] || fail "want store-failed, got: $out"
grep -q 'failpoint lifecycle_applied_commit hit' "$PD_LOG" || fail "the failpoint was not hit"
[ "$(lc_state "$LAB_PREFIX6")" = pending-advertise ] || fail "in memory: $(lc_state "$LAB_PREFIX6")"
[ "$(lc_stored_state "$LAB_PREFIX6")" = pending-advertise ] ||
	fail "stored: $(lc_stored_state "$LAB_PREFIX6")"
ok "failed COMMIT after BIRD applied: answered store-failed, $LAB_PREFIX6 stays pending-advertise (memory = store)"

pd_stop
lc_pd_start
lc_wait_state "$LAB_PREFIX6" advertised 30 || fail "the restarted prefixd did not resume $LAB_PREFIX6"
lc_wait_edge_exactly 20 "$LAB_PREFIX4" "$LAB_PREFIX6"
[ "$(lc_stored_state "$LAB_PREFIX6")" = advertised ] || fail "stored: $(lc_stored_state "$LAB_PREFIX6")"
ok "restarted without the failpoint: $LAB_PREFIX6 resumed to advertised; upstream holds both"
