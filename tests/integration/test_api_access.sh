#!/usr/bin/env bash
# ctest-labels: asan
# Access control (SPEC §6 roles), each refusal leaving the store unchanged:
#   - uid nobody in the socket's group (setpriv) is operator: it may read and allocate but a
#     pool create gets 403 forbidden; nobody outside the group cannot even connect (0660);
#     nobody in admin_group is admin and may create a pool;
#   - the read-only socket refuses every changing route with 403 and serves reads;
#   - TCP: no token and a wrong token get 401 unauthorized, a reader token gets 403 on a
#     change, an admin token may change (tokens are stored as SHA-256 hashes).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat > "$PD_DIR/tokens" <<TOK
# name role sha256(token)
ci-admin admin $(sha s3cret-admin)
dashboard reader $(sha s3cret-reader)
TOK
pd_config <<INI
[daemon]
socket_group = users
admin_group = staff
readonly_socket = $PD_RO_SOCK
listen = 127.0.0.1:$port
tokens_file = $PD_DIR/tokens
INI
pd_start

[ "$(stat -c '%a %G' "$PD_SOCK")" = "660 users" ] || pd_fail "socket is $(stat -c '%a %G' "$PD_SOCK"), want 660 users"
[ "$(stat -c '%a' "$PD_RO_SOCK")" = 660 ] || pd_fail "read-only socket is not 0660"
pd_ok "sockets are mode 0660, group users"

pd_expect 201 - POST /v1/pools '{"name":"top","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/top/provision '{"cidr":"10.0.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/top/allocations '{"netmask":24}' >/dev/null
pd_dump > "$PD_DIR/before.sql"
unchanged() {
	pd_dump > "$PD_DIR/after.sql"
	diff -u "$PD_DIR/before.sql" "$PD_DIR/after.sql" >&2 || pd_fail "store changed: $*"
}

# as_nobody GROUPS METHOD PATH [BODY]: curl over the main socket as uid nobody; prints
# "STATUS BODY". GROUPS is a setpriv --groups list ("" for none).
as_nobody() {
	local groups=$1 method=$2 path=$3 data=${4:-} g=(--clear-groups)
	[ -n "$groups" ] && g=(--groups "$groups")
	setpriv --reuid nobody --regid nogroup "${g[@]}" \
		curl -s -w '\n%{http_code}' --max-time 5 --unix-socket "$PD_SOCK" -X "$method" \
		${data:+-H 'Content-Type: application/json' --data-binary "$data"} "http://prefixd$path"
}

out=$(as_nobody users GET /v1/status)
[ "$(tail -n1 <<<"$out")" = 200 ] || pd_fail "nobody+users GET /v1/status: $out"
[ "$(head -n1 <<<"$out" | jq -r .role)" = operator ] || pd_fail "nobody+users is not operator: $out"
[ "$(head -n1 <<<"$out" | jq -r .actor)" = uid:65534 ] || pd_fail "actor is not uid:65534: $out"
out=$(as_nobody users POST /v1/pools '{"name":"evil","scope":"private-default"}')
[ "$(tail -n1 <<<"$out")" = 403 ] || pd_fail "nobody+users created a pool: $out"
[ "$(head -n1 <<<"$out" | jq -r .error.code)" = forbidden ] || pd_fail "no forbidden code: $out"
for route in "DELETE /v1/pools/top" "POST /v1/pools/top/provision" "POST /v1/scopes" "POST /v1/resources"; do
	out=$(as_nobody users $route '{}')
	[ "$(tail -n1 <<<"$out")" = 403 ] || pd_fail "nobody+users $route: want 403: $out"
done
unchanged "operator refused"
pd_ok "uid nobody in the socket group is operator: pool create and admin routes get 403, store unchanged"

rc=0
setpriv --reuid nobody --regid nogroup --clear-groups \
	curl -s --max-time 5 --unix-socket "$PD_SOCK" http://prefixd/v1/status >/dev/null 2>&1 || rc=$?
[ "$rc" = 7 ] || pd_fail "nobody outside the socket group connected (curl exit $rc)"
unchanged "outsider"
pd_ok "uid nobody outside the group cannot connect to the 0660 socket"

out=$(as_nobody users,staff POST /v1/pools '{"name":"by-admin-group","scope":"private-default"}')
[ "$(tail -n1 <<<"$out")" = 201 ] || pd_fail "nobody in admin_group could not create a pool: $out"
pd_expect 200 - DELETE /v1/pools/by-admin-group >/dev/null
pd_ok "uid nobody in admin_group is admin"
pd_dump > "$PD_DIR/before.sql"

# Read-only socket: every changing route the server has gets 403; reads work.
n=0
while read -r method pattern role; do
	[ "$method" = GET ] || [ "$role" = reader ] && continue
	path=$(sed -e 's/{name}/top/; s/{id}/1/; s/{[a-z_]*}/x/g' <<<"$pattern")
	PD_CURL_SOCK=$PD_RO_SOCK pd_expect 403 forbidden "$method" "$path" '{}' >/dev/null
	n=$((n + 1))
done < <("$PD_BIN" --list-routes)
[ "$n" -ge 8 ] || pd_fail "only $n changing routes found"
body=$(PD_CURL_SOCK=$PD_RO_SOCK pd_expect 200 - GET /v1/pools/top)
[ "$(jq -r .name <<<"$body")" = top ] || pd_fail "read-only socket does not serve reads: $body"
[ "$(PD_CURL_SOCK=$PD_RO_SOCK pd_curl GET /v1/status | jq -r .role)" = reader ] || pd_fail "root on the read-only socket is not reader"
unchanged "read-only socket"
pd_ok "read-only socket: $n changing routes refused with 403 (even for root), reads served"

# TCP with bearer tokens.
tcp() {
	local status
	status=$(curl -s -o "$PD_DIR/tcp.out" -w '%{http_code}' --max-time 5 "$@")
	printf '%s %s' "$status" "$(cat "$PD_DIR/tcp.out")"
}
url=http://127.0.0.1:$port
out=$(tcp "$url/v1/status")
[ "${out%% *}" = 401 ] && grep -q '"unauthorized"' <<<"$out" || pd_fail "no token: want 401 unauthorized: $out"
out=$(tcp -X POST -H 'Authorization: Bearer wrong-token' --data-binary '{"name":"x","scope":"private-default"}' "$url/v1/pools")
[ "${out%% *}" = 401 ] && grep -q '"unauthorized"' <<<"$out" || pd_fail "wrong token: want 401: $out"
out=$(tcp -X POST -H 'Authorization: Bearer s3cret-admi' --data-binary '{"name":"x","scope":"private-default"}' "$url/v1/pools")
[ "${out%% *}" = 401 ] || pd_fail "token prefix accepted: $out"
out=$(tcp -X POST -H 'Authorization: Basic czNjcmV0LWFkbWlu' --data-binary '{}' "$url/v1/pools")
[ "${out%% *}" = 401 ] || pd_fail "basic auth accepted: $out"
out=$(tcp -X POST -H 'Authorization: Bearer s3cret-reader' --data-binary '{"name":"x","scope":"private-default"}' "$url/v1/pools")
[ "${out%% *}" = 403 ] || pd_fail "reader token: want 403: $out"
out=$(tcp -H 'Authorization: Bearer s3cret-reader' "$url/v1/status")
[ "${out%% *}" = 200 ] && [ "$(jq -r .actor <<<"${out#* }")" = token:dashboard ] || pd_fail "reader token cannot read: $out"
unchanged "TCP refusals"
pd_ok "TCP: missing, wrong, truncated and non-bearer tokens get 401; reader token 403 on change"
out=$(tcp -X POST -H 'Authorization: Bearer s3cret-admin' --data-binary '{"name":"via-tcp","scope":"private-default"}' "$url/v1/pools")
[ "${out%% *}" = 201 ] || pd_fail "admin token cannot create a pool: $out"
pd_ok "TCP admin token creates a pool"
pd_stop
