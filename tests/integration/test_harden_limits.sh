#!/usr/bin/env bash
# Hardening findings 6 and 11 (issue 15): caps on what one request may store, enforced at the API.
#   - tags: at most 64 per object (IPAM_MAX_TAGS); 60,000 tags are refused 400 at once (the
#     daemon keeps answering), nothing stored; 64 are accepted;
#   - resource names are [A-Za-z0-9._-]{1,64} as the header says: a long non-ASCII name, a
#     name with a blank, a 65-character name and an empty one are refused 400, nothing stored.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
printf '[daemon]\nmax_body = 8388608\n' | pd_config
pd_start
pd_expect 201 - POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
pd_expect 201 - POST /v1/pools/p/provision '{"cidr":"10.0.0.0/8"}' >/dev/null
tags() { python3 -c 'import json,sys; print(json.dumps({"netmask": 29, "tags": {"k%d" % i: "v" for i in range(int(sys.argv[1]))}}))' "$1"; }

tags 60000 > "$PD_DIR/many.json"
t0=$(now_ms)
pd_curl POST /v1/pools/p/allocations "@$PD_DIR/many.json" >/dev/null
t1=$(now_ms)
[ "$PD_STATUS" = 400 ] || pd_fail "60,000 tags answered $PD_STATUS"
pd_expect 200 - GET /v1/status >/dev/null
[ "$(pd_curl GET '/v1/allocations?pool=p' | jq '.allocations | length')" = 0 ] || pd_fail "something was stored"
pd_ok "60,000 tags refused 400 in $(( t1 - t0 )) ms, nothing stored"

pd_expect 400 invalid-argument POST /v1/pools/p/allocations "$(tags 65)" >/dev/null
pd_expect 201 - POST /v1/pools/p/allocations "$(tags 64)" >/dev/null
pd_ok "65 tags refused, 64 accepted"

for name in "$(printf 'é%.0s' $(seq 400))" "two words" "$(printf 'a%.0s' $(seq 65))" ""; do
	body=$(jq -nc --arg n "$name" '{scope: "private-default", cidr: "192.0.2.0/24", name: $n}')
	pd_expect 400 invalid-argument POST /v1/resources "$body" >/dev/null
done
[ "$(pd_curl GET '/v1/resources?scope=private-default' | jq '.resources | length')" = 0 ] ||
	pd_fail "a refused resource was stored"
pd_expect 201 - POST /v1/resources '{"scope":"private-default","cidr":"192.0.2.0/24","name":"office-1.a_b"}' >/dev/null
pd_ok "resource names outside [A-Za-z0-9._-]{1,64} refused; a good one imported"
