#!/usr/bin/env bash
# Issue 15 finding 15 (the parts not done with finding 1): readers do not learn internal paths
# or SQL.
#   1. GET /v1/status names the store's file only to an admin; a reader (the read-only socket)
#      and an operator see the backend, "sqlite"
#   2. POST /v1/auth/verify from auth.rdap_dir: the evidence names the record as
#      "rdap_dir:192.0.2.0_24.json", and a missing record's message names no directory
#   3. a 503 from the store (the state dir is a small tmpfs that fills up) quotes no SQL and no
#      path: the client gets a generic message with the request id, the log has the detail
# Needs root (mount).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
[ "$(id -u)" = 0 ] || pd_fail "needs root to mount a tmpfs"
pd_setup
mkdir -p "$PD_STATE"
mount -t tmpfs -o size=400k tmpfs "$PD_STATE"
on_exit() {
	local rc=$?
	if [ -n "${PD_PID:-}" ] && kill -KILL "$PD_PID" 2>/dev/null; then
		wait "$PD_PID" 2>/dev/null || true
	fi
	PD_PID=
	umount "$PD_STATE" 2>/dev/null || umount -l "$PD_STATE" 2>/dev/null || true
	(exit "$rc")
	pd_cleanup
}
trap on_exit EXIT
pd_config <<INI
[daemon]
readonly_socket = $PD_RO_SOCK

[auth]
owner_id = leak-owner
rdap_dir = $PD_DIR/rdap
INI
pbody=$(pd_auth_proof leak-owner 192.0.2.0/24 192.0.2.0 192.0.2.255)
pd_start

# call METHOD PATH [BODY]: pd_curl in this shell; the body in $out, the status in $PD_STATUS.
call() { pd_curl "$@" > "$PD_DIR/out"; out=$(cat "$PD_DIR/out"); }

# no_leak WHAT TEXT: TEXT names neither the test's directory nor a SQL statement.
no_leak() {
	if grep -qF "$PD_DIR" <<<"$2"; then pd_fail "$1 shows an internal path: $2"; fi
	if grep -qiE '\b(insert|update|select|delete|commit|begin)\b|sqlite_|prefixd\.db' <<<"$2"; then
		pd_fail "$1 shows SQL or the store's file: $2"
	fi
}

# 1. /v1/status
PD_CURL_SOCK=$PD_RO_SOCK call GET /v1/status
[ "$PD_STATUS" = 200 ] || pd_fail "status on the read-only socket: $PD_STATUS"
jq -e '.role == "reader" and .store == "sqlite"' <<<"$out" >/dev/null || pd_fail "reader's status: $out"
no_leak "a reader's /v1/status" "$out"
call GET /v1/status
jq -e --arg p "$PD_STATE/prefixd.db" '.role == "admin" and .store == $p' <<<"$out" >/dev/null ||
	pd_fail "admin's status: $out"
pd_ok "/v1/status names the store's file to an admin only; a reader sees \"sqlite\""

# 2. rdap_dir evidence
vbody=$(jq -c '{cidr, message: .auth_message, signature: .auth_signature}' <<<"$pbody")
call POST /v1/auth/verify "$vbody"
[ "$PD_STATUS" = 200 ] || pd_fail "verify: $PD_STATUS $out"
jq -e '.evidence.rdap_source == "rdap_dir:192.0.2.0_24.json"' <<<"$out" >/dev/null ||
	pd_fail "rdap_source: $(jq -c .evidence.rdap_source <<<"$out")"
no_leak "the verify evidence" "$(jq -c 'del(.evidence.rdap_document)' <<<"$out")"
call POST /v1/auth/verify "$(jq -c '.cidr = "198.51.100.0/24" |
	.message = (.message | sub("192.0.2.0/24"; "198.51.100.0/24"))' <<<"$vbody")"
[ "$PD_STATUS" = 422 ] || pd_fail "verify without a record: $PD_STATUS $out"
no_leak "a verify without a record" "$out"
pd_ok "auth.rdap_dir evidence and refusals name the record file, not the directory"

# 3. a 503 from the store
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
desc=$(head -c 900 /dev/zero | tr '\0' x)
full=0
for i in $(seq 3000); do
	call POST /v1/pools/p/allocations "{\"netmask\":30,\"description\":\"$desc\"}"
	body=$out
	case "$PD_STATUS" in
	201) ;;
	503) no_leak "a 503 answer" "$body"
	     jq -e '.error.message | test("request [^ )]+")' <<<"$body" >/dev/null ||
		pd_fail "the 503 does not name the request: $body"
	     full=$((full + 1)); [ "$full" -ge 3 ] && break ;;
	*) pd_fail "allocation $i: HTTP $PD_STATUS: $body" ;;
	esac
done
[ "$full" -ge 3 ] || pd_fail "the store never filled up"
grep -qE 'request [^ ]+: (storage-full|store-failed): ' "$PD_LOG" || pd_fail "the log lacks the detail: $(tail -5 "$PD_LOG")"
pd_ok "a 503 from the store answers a generic message with the request id; the log has the SQL detail"
