#!/usr/bin/env bash
# Hardening finding 1 (issue 15): POST /v1/auth/verify is no SSRF with full read.
#   - an RDAP URL named in the request that is not the configured auth.rdap_url is refused 400
#     rdap-source-not-configured, and nothing is fetched from it;
#   - a fetched or read document that is not an RDAP record covering the prefix is never
#     returned (evidence.rdap_document is null), whatever it holds;
#   - a redirect to another host is not followed; one within the configured host still is;
#   - credentials in the configured URL do not appear in the evidence (finding 15).
# Real HTTP over loopback (rdap_fake_server.py) and the real transport (auth_api_server).
set -euo pipefail
src=${PREFIXD_SOURCE_DIR:?} build=${PREFIXD_BUILD_DIR:?}
. "$src/tests/integration/lib/common.sh"

server_bin=$build/tests/auth_api_server tool_bin=$build/tests/auth_verify
[ -x "$server_bin" ] && [ -x "$tool_bin" ] || fail "auth_api_server / auth_verify not built"
work=$(mktemp -d)
on_exit "rm -rf '$work'"
mkdir -p "$work/recs" "$work/dir"
prefix=192.0.2.0/24 other=198.51.100.0/24 owner=example-net
expires=$(date -u -d '+30 days' +%Y%m%d)
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=test \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
jq -n --rawfile pem "$work/cert.pem" '{objectClassName: "ip network",
	startAddress: "192.0.2.0", endAddress: "192.0.2.255",
	remarks: [{description: [$pem]}]}' > "$work/recs/192.0.2.0_24.json"
# What rdap_dir holds for the other prefix is not an RDAP record: it must never be echoed.
echo '{"internal":"TOPSECRET-file"}' > "$work/dir/198.51.100.0_24.json"
sign() { printf %s "$1" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
	-sigopt rsa_pss_saltlen:-1 -sign "$work/key.pem" | openssl base64 -A | tr -- '+=/' '-_~'; }
msg="1|prefixd|$owner|$prefix|$expires|SHA256|RSAPSS" msg2="1|prefixd|$owner|$other|$expires|SHA256|RSAPSS"
sig=$(sign "$msg") sig2=$(sign "$msg2")

"$src/tests/integration/lib/rdap_fake_server.py" --dir "$work/recs" --port-file "$work/port" \
	2> "$work/rdap.log" &
rdap=$!
on_exit "kill $rdap 2>/dev/null"
wait_until 10 "the fake RDAP server" test -s "$work/port"
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
conf_url="http://user:hunter2@127.0.0.1:$port/redirect-host/ip/{cidr}"

sock=$work/prefixd.sock
cat > "$work/prefixd.conf" <<CONF
[daemon]
state_dir = $work/state
socket = $sock
[auth]
owner_id = $owner
rdap_url = $conf_url
rdap_dir = $work/dir
CONF
"$server_bin" -c "$work/prefixd.conf" 2> "$work/server.log" &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
wait_until 10 "the API socket" test -S "$sock"

verify() { curl -s --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
	-w '\n%{http_code}' --data "$1" http://prefixd/v1/auth/verify; }
body() { jq -n --arg c "$1" --arg m "$2" --arg s "$3" '{cidr: $c, message: $m, signature: $s}' |
	jq -c ". + ${4:-{\}}"; }

# 1. A URL chosen by the request is refused and never fetched.
out=$(verify "$(body "$prefix" "$msg" "$sig" "{\"rdap_url\": \"$base/secret/ip/{cidr}\"}")")
! grep -q TOPSECRET <<< "$out" || fail "the response carries the fetched page: $out"
[ "$(tail -n1 <<< "$out")" = 400 ] && sed '$d' <<< "$out" |
	jq -e '.error.code == "rdap-source-not-configured"' >/dev/null || fail "request URL: $out"
! grep -q 'request /secret' "$work/rdap.log" || fail "the daemon fetched the request's URL"
ok "a request-chosen rdap_url is refused 400 rdap-source-not-configured, nothing fetched"

# 2. A document that is not a record covering the prefix is not returned.
out=$(verify "$(body "$other" "$msg2" "$sig2")")
! grep -q TOPSECRET <<< "$out" || fail "a non-RDAP document was returned: $out"
sed '$d' <<< "$out" | jq -e '.error.code == "rdap-unavailable" and
	.evidence.rdap_document == null' >/dev/null || fail "non-record: $out"
ok "a document that is no RDAP record of the prefix is refused and not echoed"

# 3. A redirect to another host is not followed (the configured URL itself redirects).
out=$(verify "$(body "$prefix" "$msg" "$sig" '{"rdap_source": "url"}')")
sed '$d' <<< "$out" | jq -e '.error.code == "rdap-unavailable" and
	(.error.message | contains("another host")) and .evidence.rdap_document == null' >/dev/null \
	|| fail "redirect to another host: $out"
! grep -q 'request /ok/' "$work/rdap.log" || fail "the redirect to another host was followed"
ok "a redirect to another host is refused"

# 4. The evidence names the source without its credentials.
! grep -q hunter2 <<< "$out" || fail "credentials in the answer: $out"
sed '$d' <<< "$out" | jq -e '.evidence.rdap_source | startswith("http://***@127.0.0.1:")' \
	>/dev/null || fail "rdap_source: $out"
ok "rdap_source hides the URL's credentials"

# 5. A redirect within the configured host is still followed (the library, as the worker runs it).
res=$("$tool_bin" --prefix "$prefix" --message "$msg" --signature "$sig" --owner "$owner" \
	--rdap-url "$base/redirect-same/ip/{cidr}" --timeout-ms 3000 2>/dev/null || true)
jq -e '.ok' <<< "$res" >/dev/null || fail "same-host redirect: $res"
ok "a redirect within the same host is followed"
