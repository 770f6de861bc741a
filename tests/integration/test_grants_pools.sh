#!/usr/bin/env bash
# Shared pools (issue 21, AWS RAM's delegated pools) on a real prefixd with a TCP listener:
#   - token team-a (global role reader) is refused allocation (403) until the admin shares pool
#     team-a with it (`prefixctl pool share team-a --to token:team-a`); then it allocates and
#     releases there and in team-a's child pool (a grant covers the children), and the event
#     names the grant used (role "grant:team-a:operator");
#   - the same token is refused 403 forbidden, naming the pool, on team-b, on pool create, on
#     advertise, on listing every pool, and on releasing team-b's allocation; nothing changes;
#   - a reader grant lets it read team-b, not allocate there;
#   - a global operator token is unaffected by grants elsewhere;
#   - `pool show` lists the grants; grants survive a restart; after `pool unshare` the token is
#     refused on team-a too;
#   - a principal that is not token:NAME, group:NAME or uid:N is refused (exit 2 / 400).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_tcp_listen team-a:reader:s3cret-team-a ops:operator:s3cret-ops
pd_start
url=$PD_URL

# as TOKEN METHOD PATH [BODY]: prints "STATUS BODY".
as() {
	local tok=$1 method=$2 path=$3 body=${4:-} status
	if [ -n "$body" ]; then
		status=$(curl -s -o "$PD_DIR/tcp.out" -w '%{http_code}' --max-time 5 -X "$method" \
			-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			--data-binary "$body" "$url$path")
	else
		status=$(curl -s -o "$PD_DIR/tcp.out" -w '%{http_code}' --max-time 5 -X "$method" \
			-H "Authorization: Bearer $tok" "$url$path")
	fi
	printf '%s %s' "$status" "$(cat "$PD_DIR/tcp.out")"
}
# want STATUS [CODE [WORD]] -- TOKEN METHOD PATH [BODY]: the answer's status, error code and a
# word of its message; prints the body.
want() {
	local st=$1 code=${2:--} word=${3:-} out
	shift 3; [ "$1" = -- ] && shift
	out=$(as "$@")
	[ "${out%% *}" = "$st" ] || pd_fail "$2 $3 as $1: want $st, got $out"
	[ "$code" = - ] || [ "$(jq -r .error.code <<<"${out#* }")" = "$code" ] || pd_fail "$2 $3: want $code: $out"
	[ -z "$word" ] || grep -q -- "$word" <<<"$out" || pd_fail "$2 $3: message lacks '$word': $out"
	printf '%s' "${out#* }"
}
A=s3cret-team-a

pd_ctl pool create team-a --scope private-default >/dev/null
pd_ctl pool provision team-a 10.1.0.0/16 >/dev/null
pd_ctl pool create team-a-dev --scope private-default --parent team-a >/dev/null
pd_ctl pool provision team-a-dev --netmask 20 >/dev/null
pd_ctl pool create team-b --scope private-default >/dev/null
pd_ctl pool provision team-b 10.2.0.0/16 >/dev/null
b_id=$(pd_ctl --json allocate team-b --netmask 24 | jq -r .id)

want 403 forbidden "needs role operator" -- "$A" POST /v1/pools/team-a/allocations '{"netmask":24}' >/dev/null
pd_ok "before any grant, reader token team-a cannot allocate"

# ---- share ----
rc=0; pd_ctl pool share team-a --to alice 2>/dev/null || rc=$?
[ "$rc" = 2 ] || pd_fail "pool share --to alice: exit $rc, want 2"
pd_expect 400 invalid-argument POST /v1/pools/team-a/grants '{"principal":"alice"}' >/dev/null
pd_expect 400 invalid-argument POST /v1/pools/team-a/grants '{"principal":"uid:x1"}' >/dev/null
pd_expect 404 not-found POST /v1/pools/nope/grants '{"principal":"token:team-a"}' >/dev/null
pd_ctl pool share team-a --to token:team-a | grep -q "token:team-a *operator" || pd_fail "pool share output"
pd_ctl --json pool show team-a | jq -e '.grants == [{"principal":"token:team-a","role":"operator","by":"uid:0","created":.grants[0].created}]' >/dev/null ||
	pd_fail "pool show team-a: $(pd_ctl --json pool show team-a | jq -c .grants)"
pd_ok "pool share; pool show lists the grant; bad principals refused (exit 2 / 400)"

# ---- allocate and release in the granted pool and its child ----
body=$(want 201 - "" -- "$A" POST /v1/pools/team-a/allocations '{"netmask":24}')
a_id=$(jq -r .id <<<"$body")
body=$(want 201 - "" -- "$A" POST /v1/pools/team-a-dev/allocations '{"netmask":26}')
dev_id=$(jq -r .id <<<"$body")
want 200 - "" -- "$A" GET /v1/pools/team-a >/dev/null
want 200 - "" -- "$A" GET "/v1/allocations/$a_id" >/dev/null
want 200 - "" -- "$A" GET "/v1/allocations?pool=team-a-dev" >/dev/null
want 200 - "" -- "$A" DELETE "/v1/allocations/$dev_id" >/dev/null
ev=$(pd_curl GET '/v1/events?limit=1000' | jq -c '[.events[] | select(.actor == "token:team-a") | {action, role}]')
jq -e 'map(select(.action == "allocate" and .role == "grant:team-a:operator")) | length == 2' <<<"$ev" >/dev/null ||
	pd_fail "events do not name the grant: $ev"
jq -e 'map(select(.action == "release" and .role == "grant:team-a:operator")) | length == 1' <<<"$ev" >/dev/null ||
	pd_fail "the release event does not name the grant: $ev"
pd_ok "token team-a allocates and releases in team-a and its child team-a-dev; events name grant:team-a:operator"

# ---- everything else is refused, naming the pool, and changes nothing ----
pd_dump > "$PD_DIR/before.sql"
want 403 forbidden "pool team-b" -- "$A" POST /v1/pools/team-b/allocations '{"netmask":24}' >/dev/null
want 403 forbidden "pool team-b" -- "$A" DELETE "/v1/allocations/$b_id" >/dev/null
want 403 forbidden "pool team-b" -- "$A" GET /v1/pools/team-b >/dev/null
want 403 forbidden "team-a" -- "$A" POST /v1/pools '{"name":"mine","scope":"private-default"}' >/dev/null
want 403 forbidden "team-a" -- "$A" POST /v1/advertise '{"cidr":"203.0.113.0/24"}' >/dev/null
want 403 forbidden "team-a" -- "$A" GET /v1/pools >/dev/null
want 403 forbidden "(none given)" -- "$A" GET /v1/allocations >/dev/null
pd_dump > "$PD_DIR/after.sql"
diff -u "$PD_DIR/before.sql" "$PD_DIR/after.sql" >&2 || pd_fail "a refused request changed the store"
pd_ok "token team-a refused 403 on team-b, pool create, advertise, pool list; store unchanged"

# ---- a reader grant; a global operator is unaffected ----
pd_ctl pool share team-b --to token:team-a --role reader >/dev/null
want 200 - "" -- "$A" GET /v1/pools/team-b >/dev/null
want 403 forbidden "no operator grant on pool team-b" -- "$A" POST /v1/pools/team-b/allocations '{"netmask":24}' >/dev/null
pd_ctl pool share team-a --to token:ops --role reader >/dev/null
want 201 - "" -- s3cret-ops POST /v1/pools/team-b/allocations '{"netmask":24}' >/dev/null
want 403 forbidden "needs role admin" -- s3cret-ops POST /v1/pools '{"name":"ops-pool","scope":"private-default"}' >/dev/null
pd_ok "a reader grant reads, does not allocate; a global operator keeps its global role"

# ---- restart, unshare ----
pd_stop
pd_start
want 201 - "" -- "$A" POST /v1/pools/team-a/allocations '{"netmask":24}' >/dev/null
pd_ok "grants survive a restart"
pd_ctl pool unshare team-a --to token:team-a >/dev/null
pd_ctl --json pool show team-a | jq -e '[.grants[].principal] == ["token:ops"]' >/dev/null ||
	pd_fail "grants after unshare: $(pd_ctl --json pool show team-a | jq -c .grants)"
want 403 forbidden "pool team-a" -- "$A" POST /v1/pools/team-a/allocations '{"netmask":24}' >/dev/null
pd_ctl pool unshare team-b --to token:team-a >/dev/null
want 403 forbidden "needs role operator" -- "$A" POST /v1/pools/team-a/allocations '{"netmask":24}' >/dev/null
want 200 - "" -- "$A" GET /v1/pools >/dev/null
rc=0; pd_ctl pool unshare team-b --to token:team-a 2>/dev/null || rc=$?
[ "$rc" = 1 ] || pd_fail "unshare of a grant that is gone: exit $rc"
pd_ok "after unshare token team-a is refused on team-a; with no grant left its global reader role is back"

# ---- a deleted pool's grants do not pass to a new pool of the same name ----
pd_ctl pool create tmp --scope private-default >/dev/null
pd_ctl pool share tmp --to token:team-a >/dev/null
pd_ctl pool delete tmp >/dev/null
pd_ctl pool create tmp --scope private-default >/dev/null
pd_ctl --json pool show tmp | jq -e '.grants == []' >/dev/null ||
	pd_fail "a re-created pool inherited grants: $(pd_ctl --json pool show tmp | jq -c .grants)"
pd_curl GET '/v1/events?limit=1000' | jq -e '[.events[] | select(.action == "unshare")] | length >= 3' >/dev/null ||
	pd_fail "deleting the pool recorded no unshare event"
pd_ok "deleting a pool drops its grants (with unshare events); a new pool of that name starts bare"

# ---- the read-only socket gains nothing from a grant ----
pd_stop
pd_config <<INI
[daemon]
readonly_socket = $PD_RO_SOCK
INI
pd_start
pd_ctl pool share team-a --to uid:0 >/dev/null
PD_CURL_SOCK=$PD_RO_SOCK pd_expect 403 forbidden POST /v1/pools/team-a/allocations '{"netmask":24}' >/dev/null
PD_CURL_SOCK=$PD_RO_SOCK pd_expect 200 - GET /v1/pools >/dev/null
pd_ok "an operator grant to uid:0 allocates nothing through the read-only socket (403), which still lists everything"
