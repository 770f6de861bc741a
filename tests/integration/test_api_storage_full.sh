#!/usr/bin/env bash
# A full disk (SPEC §6 "a change is acknowledged only after it is durable"): the state
# directory is a small tmpfs this test mounts. Allocations are answered 201 while they fit;
# once the store cannot write, changes get 503 (storage-full or store-failed), never a 2xx,
# and the daemon stays up. After space is added, every allocation the daemon had answered 201
# is in the store and in its listing, and nothing else is (the model was rebuilt from the
# store after the failed commits); new allocations work again. Needs root (mount).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
[ "$(id -u)" = 0 ] || pd_fail "needs root to mount a tmpfs"
pd_setup
mkdir -p "$PD_STATE"
mount -t tmpfs -o size=400k tmpfs "$PD_STATE"
umount_state() { umount "$PD_STATE" 2>/dev/null || umount -l "$PD_STATE" 2>/dev/null || true; }
on_exit() {
	local rc=$?
	if [ -n "${PD_PID:-}" ] && kill -KILL "$PD_PID" 2>/dev/null; then
		wait "$PD_PID" 2>/dev/null || true
	fi
	PD_PID=
	umount_state
	(exit "$rc")
	pd_cleanup
}
trap on_exit EXIT
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/8"}' >/dev/null

desc=$(head -c 900 /dev/zero | tr '\0' x)
: > "$PD_DIR/ok.ids"
full=0
for i in $(seq 3000); do
	pd_curl POST /v1/pools/p/allocations "{\"netmask\":30,\"description\":\"$desc\"}" > "$PD_DIR/a.json"
	body=$(cat "$PD_DIR/a.json")
	case "$PD_STATUS" in
	201) jq -r .id <<<"$body" >> "$PD_DIR/ok.ids" ;;
	503) code=$(jq -r .error.code <<<"$body")
	     case "$code" in storage-full|store-failed) ;; *) pd_fail "503 with code $code" ;; esac
	     full=$((full + 1)); [ "$full" -ge 5 ] && break ;;
	*) pd_fail "allocation $i: HTTP $PD_STATUS: $body" ;;
	esac
done
[ "$full" -ge 5 ] || pd_fail "the store never filled up"
pd_answers || pd_fail "daemon stopped answering on a full disk"
pd_ok "$(wc -l < "$PD_DIR/ok.ids") allocations answered 201, then 503 ($code) on a full disk"

mount -o remount,size=64m "$PD_STATE"
listed=$(pd_ctl allocation list --pool p --json | jq -r '.allocations[].id' | sort -n)
diff <(sort -n "$PD_DIR/ok.ids") <(echo "$listed") || pd_fail "listing differs from the 201 answers"
stored=$(pd_curl GET /v1/status | jq .counts.allocations)
[ "$stored" = "$(wc -l < "$PD_DIR/ok.ids")" ] || pd_fail "status counts $stored allocations"
pd_expect 201 - POST /v1/pools/p/allocations '{"netmask":30}' >/dev/null
pd_stop
pd_start
listed2=$(pd_ctl allocation list --pool p --json | jq -r '.allocations[].id' | sort -n)
[ "$(wc -l <<<"$listed2")" = $(( $(wc -l < "$PD_DIR/ok.ids") + 1 )) ] || pd_fail "after restart the store holds $(wc -l <<<"$listed2") allocations"
pd_ok "after space returns: memory equals the 201 answers, new allocations work, a restart agrees"
pd_stop
