#!/usr/bin/env bash
# ctest-labels: asan
#
# RPKI through the real daemon and CLI: prefixd with an [rpki] cache pointing at a real
# StayRTR on 127.0.0.1 (serving a JSON file written here), driven with prefixctl and curl.
#   - `prefixctl rpki status` reaches synced and shows the cache, its session and the counts
#   - `prefixctl rpki validate` answers valid / invalid (origin, length) / not-found, in
#     --json and in human form, and refuses bad input with the documented exit statuses
#   - GET /metrics carries prefixd_rpki_state, _vrps{family}, _last_update_age_seconds and
#     _cache_up{cache}
#   - stopping StayRTR makes `rpki status` say stale within stale_after + 2 s
set -euo pipefail

: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/stayrtr.sh"

pd_setup
cat >"$PD_DIR/vrps.json" <<EOF
{"metadata":{"buildtime":"$(date -u +%Y-%m-%dT%H:%M:%SZ)"},"roas":[
 {"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS65001"},
 {"prefix":"2001:db8::/32","maxLength":48,"asn":"AS65001"}]}
EOF
stayrtr_start "$PD_DIR/vrps.json" "$PD_DIR/stayrtr.log"

pd_config <<EOF
[rpki]
cache = 127.0.0.1:$SP
refresh = 1
retry = 1
expire = 600
stale_after = 3
EOF
pd_start

pctl() { "$PCTL_BIN" -s "$PD_SOCK" "$@"; }
state_is() { [ "$(pctl --json rpki status | jq -r .state)" = "$1" ]; }
wait_until 10 "rpki status synced" state_is synced
st=$(pctl --json rpki status)
[ "$(jq -r '.caches[0].cache' <<<"$st")" = "127.0.0.1:$SP" ] || fail "cache: $st"
[ "$(jq '.caches[0].up' <<<"$st")" = true ] || fail "cache not up: $st"
[ "$(jq '.caches[0].session_id' <<<"$st")" != null ] || fail "no session id: $st"
counted() { [ "$(pctl --json rpki status | jq -c .vrps)" = '{"ipv4":1,"ipv6":1}' ]; }
wait_until 5 "VRP counts 1 + 1" counted
pctl rpki status | grep -q '^state: synced' || fail "human status: $(pctl rpki status)"
ok "rpki status: synced, cache up with a session, 1 IPv4 + 1 IPv6 VRP"

answer() { pctl --json rpki validate "$1" "$2" | jq -r '"\(.state) \(.reason)"'; }
expect() {
	local got
	got=$(answer "$1" "$2")
	[ "$got" = "$3" ] || fail "rpki validate $1 $2: got '$got', want '$3'"
	ok "rpki validate $1 $2 = $3"
}
expect 192.0.2.0/24 65001 "valid null"
expect 192.0.2.0/24 AS65002 "invalid origin"
expect 192.0.2.0/25 65001 "invalid length"
expect 198.51.100.0/24 65001 "not-found null"
expect 2001:db8:1::/48 65001 "valid null"
expect 2001:db8::/56 65001 "invalid length"
pctl rpki validate 192.0.2.0/25 65001 | grep -q 'invalid (length)' ||
    fail "human validate: $(pctl rpki validate 192.0.2.0/25 65001)"

rc=0; pctl rpki validate 192.0.2.0/24 notanasn 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "a bad ASN: exit $rc, want 2 (usage)"
rc=0; pctl rpki validate 192.0.2.0/24 4294967296 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "ASN 2^32: exit $rc, want 2"
rc=0; err=$(pctl rpki validate 192.0.2.1/24 65001 2>&1 >/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q cidr-not-canonical <<<"$err" || fail "host bits: exit $rc, $err"
pd_expect 400 invalid-argument GET "/v1/rpki/validate?prefix=192.0.2.0/24&asn=-1" >/dev/null
pd_expect 400 invalid-argument GET "/v1/rpki/validate?asn=1" >/dev/null
ok "bad ASNs and prefixes refused (exit 2 locally, 1 / HTTP 400 from the daemon)"

m=$(pd_curl GET /metrics)
for want in 'prefixd_rpki_state{state="synced"} 1' 'prefixd_rpki_vrps{family="ipv4"} 1' \
    'prefixd_rpki_vrps{family="ipv6"} 1' "prefixd_rpki_cache_up{cache=\"127.0.0.1:$SP\"} 1" \
    'prefixd_rpki_last_update_age_seconds '; do
	grep -qF "$want" <<<"$m" || fail "metrics lack '$want'"
done
ok "metrics: state, vrps per family, cache_up, last_update_age"

start_ms=$(now_ms)
kill "$STAYRTR_PID"
wait "$STAYRTR_PID" 2>/dev/null || true
STAYRTR_PID=
wait_until 5 "rpki status stale" state_is stale
ok "stale $(( $(now_ms) - start_ms )) ms after StayRTR stopped (stale_after 3 s)"
r=$(pctl --json rpki validate 192.0.2.0/24 65001)
[ "$(jq -r '"\(.state) \(.stale)"' <<<"$r")" = "valid true" ] || fail "stale answer: $r"
pctl rpki validate 192.0.2.0/24 65001 | grep -q 'not fresh' || fail "human stale warning missing"
ok "answers from kept data, marked stale"
pd_stop
